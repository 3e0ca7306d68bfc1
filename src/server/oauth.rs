//! Service accounts: OAuth 2.0 client credentials, as Atlas's spec shows
//! them. `POST /api/oauth/token` exchanges HTTP Basic `clientId:secret` and
//! `grant_type=client_credentials` for a random bearer token that lives in
//! memory only and expires; `POST /api/oauth/revoke` ends one early, and so
//! does a change of the account's secret or its deletion. The token table
//! is bounded, in all and per account.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::AppState;
use super::call::{declared_length, read_body};
use super::respond::{Fmt, Version, respond};
use crate::model::Credential;
use crate::pki::random_hex;
use crate::store::Registry;

/// Most live tokens in all; when they are all live and held by accounts
/// below their own bound, a new token is refused (never another account's
/// token dropped).
const MAX_TOKENS: usize = 10_000;
/// Most live tokens one service account holds (ours): its next token
/// replaces its own that expires first, so no account can log another out.
const MAX_TOKENS_PER_ACCOUNT: usize = 100;

/// One live token: whose, for which secret, until when.
struct Grant {
    client_id: String,
    /// SHA-256 of the client secret it was granted for: a changed secret
    /// (or an account deleted and made again) ends the token.
    secret: [u8; 32],
    until: Instant,
}

fn secret_digest(account: &Credential) -> [u8; 32] {
    Sha256::digest(account.secret.as_bytes()).into()
}

/// Why no token was issued.
pub(super) enum NoToken {
    /// The table is full of live tokens of other accounts.
    Full,
    /// No random bytes.
    Random(openssl::error::ErrorStack),
}

/// Live bearer tokens, in memory only.
pub(super) struct Tokens {
    ttl: Duration,
    live: Mutex<HashMap<String, Grant>>,
}

impl Tokens {
    /// A table of tokens that live `ttl`.
    pub(super) fn new(ttl: Duration) -> Tokens {
        Tokens {
            ttl,
            live: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Grant>> {
        // A poisoned lock only interrupted an insert or removal of a pair.
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new token for `account`. Expired tokens go first; an account at
    /// its bound loses its own token that expires first.
    fn issue(&self, account: &Credential) -> Result<String, NoToken> {
        let token = random_hex(32).map_err(NoToken::Random)?;
        let now = Instant::now();
        let mut live = self.lock();
        live.retain(|_, g| g.until > now);
        let own: Vec<(&String, Instant)> = live
            .iter()
            .filter(|(_, g)| g.client_id == account.id)
            .map(|(t, g)| (t, g.until))
            .collect();
        if own.len() >= MAX_TOKENS_PER_ACCOUNT {
            if let Some(oldest) = own
                .iter()
                .min_by_key(|(_, until)| *until)
                .map(|(t, _)| (*t).clone())
            {
                live.remove(&oldest);
            }
        } else if live.len() >= MAX_TOKENS {
            return Err(NoToken::Full);
        }
        live.insert(
            token.clone(),
            Grant {
                client_id: account.id.clone(),
                secret: secret_digest(account),
                until: now + self.ttl,
            },
        );
        Ok(token)
    }

    /// The service account in `registry` that holds the live `token`: the
    /// account must still exist with the secret the token was granted for.
    /// A token whose account is gone or changed ends here for good.
    pub(super) fn holder<'r>(&self, token: &str, registry: &'r Registry) -> Option<&'r Credential> {
        let mut live = self.lock();
        let grant = live.get(token)?;
        let account = registry
            .service_account(&grant.client_id)
            .filter(|a| grant.until > Instant::now() && secret_digest(a) == grant.secret);
        if account.is_none() {
            live.remove(token);
        }
        account
    }

    /// Ends `token` if it is `client_id`'s.
    fn revoke(&self, token: &str, client_id: &str) {
        let mut live = self.lock();
        if live.get(token).is_some_and(|g| g.client_id == client_id) {
            live.remove(token);
        }
    }
}

/// The token response, keys as Atlas's spec orders them.
#[derive(Serialize)]
struct Granted {
    access_token: String,
    expires_in: u64,
    token_type: &'static str,
}

/// An OAuth 2.0 error body (RFC 6749, 5.2).
#[derive(Serialize)]
struct OAuthError {
    error: &'static str,
    error_description: &'static str,
}

fn oauth_error(status: u16, error: &'static str, description: &'static str) -> Response {
    // Two strings: serializing cannot fail.
    let body = serde_json::to_string(&OAuthError {
        error,
        error_description: description,
    })
    .expect("an OAuth error body serializes");
    let mut response = respond(status, "application/json", body);
    if status == 401 {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"MMS Public API\""),
        );
    }
    response
}

/// The service account that HTTP Basic `headers` authenticate, if any.
fn client<'r>(headers: &HeaderMap, registry: &'r Registry) -> Option<&'r Credential> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let account = registry.service_account(id)?;
    let expected = account.secret.as_bytes();
    (expected.len() == secret.len() && openssl::memcmp::eq(expected, secret.as_bytes()))
        .then_some(account)
}

/// The form fields of a request body.
fn form(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

const FMT: Fmt = Fmt {
    version: Version::V2,
    pretty: false,
    envelope: false,
};

/// The service account HTTP Basic authenticates, and the request's form;
/// `Err` is the response to send instead.
async fn authenticated(
    state: &AppState,
    request: Request,
) -> Result<(Credential, HashMap<String, String>), Response> {
    let (parts, body) = request.into_parts();
    let registry = state.registry.current();
    let Some(account) = client(&parts.headers, &registry).cloned() else {
        return Err(oauth_error(
            401,
            "invalid_client",
            "Invalid client credentials.",
        ));
    };
    let bytes = read_body(state, FMT, declared_length(&parts.headers), body)
        .await
        .map_err(IntoResponse::into_response)?;
    Ok((account, form(&bytes)))
}

/// `POST /api/oauth/token`.
pub(super) async fn token(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let (account, form) = match authenticated(&state, request).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return oauth_error(
            400,
            "unsupported_grant_type",
            "Only grant_type=client_credentials is supported.",
        );
    }
    match state.tokens.issue(&account) {
        Ok(access_token) => {
            let body = serde_json::to_string(&Granted {
                access_token,
                expires_in: state.tokens.ttl.as_secs(),
                token_type: "Bearer",
            })
            // Strings and an integer: serializing cannot fail.
            .expect("a token body serializes");
            respond(200, "application/json", body)
        }
        Err(NoToken::Full) => oauth_error(
            503,
            "temporarily_unavailable",
            "Too many live tokens; try again when some have expired.",
        ),
        Err(NoToken::Random(e)) => {
            eprintln!("atlas-ca: no random bytes for a token: {e}");
            oauth_error(500, "server_error", "No token could be made.")
        }
    }
}

/// `POST /api/oauth/revoke`: `token=...`, as the account it belongs to.
pub(super) async fn revoke(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let (account, form) = match authenticated(&state, request).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if let Some(token) = form.get("token") {
        state.tokens.revoke(token, &account.id);
    }
    respond(200, "application/json", Body::empty())
}
