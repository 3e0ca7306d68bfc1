//! Service accounts: OAuth 2.0 client credentials, as Atlas's spec shows
//! them. `POST /api/oauth/token` exchanges HTTP Basic `clientId:secret` and
//! `grant_type=client_credentials` for a random bearer token that lives in
//! memory only and expires; `POST /api/oauth/revoke` ends one early, and so
//! does a change of the account's secret or its deletion. The token table
//! is bounded, in all and per account.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Serialize;

use super::call::{declared_length, read_body};
use super::respond::{Fmt, Version, respond};
use super::state::AppState;
use super::tokens::NoToken;
use crate::model::Credential;
use crate::store::Registry;

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
    // A secret past its `secretExpiresAt` grants nothing, as on Atlas.
    (expected.len() == secret.len()
        && openssl::memcmp::eq(expected, secret.as_bytes())
        && account.secret_live(time::OffsetDateTime::now_utc()))
    .then_some(account)
}

/// The form fields of a request body.
fn form(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

const FMT: Fmt = Fmt {
    version: Version::V2_FIRST,
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
    match state.tokens.issue(&account, std::time::Instant::now()) {
        Ok(access_token) => {
            let body = serde_json::to_string(&Granted {
                access_token,
                expires_in: state.tokens.ttl.as_secs(),
                token_type: "Bearer",
            })
            // Strings and an integer: serializing cannot fail.
            .expect("a token body serializes");
            // The docs' example: Atlas's versioned JSON type.
            respond(200, Version::V2_FIRST.content_type(), body)
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
