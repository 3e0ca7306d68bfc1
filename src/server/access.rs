//! Who may do what: Digest authentication, the group id and Atlas's role
//! rules.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, Method, Uri, header};
use axum::response::Response;

use super::digest::{Failure, Why};
use super::respond::{Fmt, api_error, challenge};
use super::state::AppState;
use crate::api::{ApiError, ErrorCode};
use crate::model::is_project_id;
use crate::model::{KeyRole, KeyRoleName, escape_hidden};
use crate::store::Registry;

/// Atlas's per-minute request allowance on most endpoints, reported in
/// `Ratelimit-Limit`.
pub(super) const RATE_LIMIT: u32 = 1200;
/// Atlas's allowance on the database user endpoints.
pub(super) const USERS_RATE_LIMIT: u32 = 10_000;
/// Atlas's allowance on the organization's API key endpoints (seen).
pub(super) const ORG_KEYS_RATE_LIMIT: u32 = 500;

/// A route's per-minute allowance, set by the router on the routes whose
/// allowance is not [`RATE_LIMIT`], and the name of the count its routes
/// share, when they share one (every databaseUsers method and path draws
/// on one count, seen); otherwise each route counts apart.
#[derive(Debug, Clone, Copy)]
pub(super) struct Allowance(pub(super) u32, pub(super) Option<&'static str>);
/// Longest `Authorization` header read; longer ones are refused unread.
const MAX_AUTHORIZATION: usize = 4096;

/// What a call needs of the API key's roles in the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Need {
    /// Listing: any project role.
    Read,
    /// Managing database users: Project Owner, Database Access Admin or
    /// Stream Processing Owner.
    Write,
    /// Project settings (customer X.509): Project Owner.
    Owner,
    /// Creating projects: Organization Owner (no project in the path).
    Org,
    /// Any valid key (no project in the path; what it sees is filtered).
    Any,
}

/// Who a request authenticated as: an API key (Digest) or a service
/// account (bearer token), by its id, with its roles.
#[derive(Debug, Clone)]
pub(super) struct Caller {
    /// The API key's public key or the service account's client id.
    pub(super) id: String,
    /// What it may do.
    pub(super) roles: Vec<KeyRole>,
}

/// Everything before the body: authentication, the group id and the key's
/// role in it. Returns the registry in force.
pub(super) fn begin(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    gid: Option<&str>,
    need: Need,
) -> Result<(Arc<Registry>, Caller), Refusal> {
    let registry = state.registry.current();
    let authorization = headers
        .get(header::AUTHORIZATION)
        .filter(|v| v.len() <= MAX_AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let request_uri = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    let caller = match authorization.and_then(|a| a.strip_prefix("Bearer ")) {
        // A service account's token, from POST /api/oauth/token.
        Some(token) => state
            .tokens
            .holder(token.trim(), &registry, std::time::Instant::now())
            .map(|a| Caller {
                id: a.id.clone(),
                roles: a.roles.clone(),
            })
            .ok_or(Refusal::Token)?,
        None => state
            .digest
            .verify(authorization, method.as_str(), request_uri, &registry)
            .map(|k| Caller {
                id: k.id.clone(),
                roles: k.roles.clone(),
            })
            .map_err(|f| {
                // Why, for the log; the first leg of a Digest exchange
                // (no credentials yet) is not worth a line.
                match f {
                    Failure::Denied(Why::Missing) => {}
                    Failure::Denied(why) => eprintln!(
                        "atlas-ca: refused {method} {}: {}",
                        escape_hidden(uri.path()),
                        why.text()
                    ),
                    Failure::Stale => eprintln!(
                        "atlas-ca: refused {method} {}: stale nonce (the client retries)",
                        escape_hidden(uri.path())
                    ),
                }
                Refusal::Challenge(f == Failure::Stale)
            })?,
    };
    match gid {
        Some(gid) if !is_project_id(gid) => {
            return Err(Refusal::Api(ApiError::new(
                ErrorCode::InvalidGroupId,
                &[gid],
            )));
        }
        Some(gid) => authorize(&caller.roles, gid, need).map_err(|e| {
            eprintln!(
                "atlas-ca: refused {method} {} for {}: {} (its roles: {})",
                escape_hidden(uri.path()),
                escape_hidden(&caller.id),
                e.code.name(),
                roles_text(&caller.roles)
            );
            Refusal::Api(e)
        })?,
        None if need == Need::Org && !is_org_owner(&caller.roles) => {
            return Err(Refusal::Api(ApiError::new(
                ErrorCode::UserUnauthorized,
                &[],
            )));
        }
        None => {}
    }
    Ok((registry, caller))
}

/// `roles` for the log: `GROUP_OWNER@<id>, ORG_OWNER`.
fn roles_text(roles: &[KeyRole]) -> String {
    if roles.is_empty() {
        return "none".into();
    }
    let text: Vec<String> = roles
        .iter()
        .map(|r| match &r.group_id {
            Some(g) => format!("{}@{g}", r.role_name.name()),
            None => r.role_name.name().to_string(),
        })
        .collect();
    escape_hidden(&text.join(", "))
}

/// Whether `roles` make an Organization Owner.
fn is_org_owner(roles: &[KeyRole]) -> bool {
    roles.iter().any(|r| r.role_name == KeyRoleName::OrgOwner)
}

/// Whether `caller` may see project `gid` at all.
pub(super) fn sees(caller: &Caller, gid: &str) -> bool {
    authorize(&caller.roles, gid, Need::Read).is_ok()
}

/// Why [`begin`] turned a request away.
pub(super) enum Refusal {
    /// No valid credentials: a Digest challenge (`stale` or not).
    Challenge(bool),
    /// A bearer token that is unknown, revoked or expired.
    Token,
    /// An Atlas error.
    Api(ApiError),
}

pub(super) fn refuse(state: &AppState, fmt: Fmt, refusal: Refusal) -> Response {
    match refusal {
        Refusal::Challenge(stale) => challenge(state, stale),
        Refusal::Token => {
            let mut response = challenge(state, false);
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
            response
        }
        Refusal::Api(e) => api_error(fmt, &e),
    }
}

/// Atlas's role rules (the spec's `x-rolesRequirements`): managing
/// database users needs Project Owner, Project Database Access Admin or
/// Project Stream Processing Owner; reading, any project role (each
/// includes Project Read Only); settings, keys and certificates, Project
/// Owner; Organization Owner may do all.
fn authorize(roles: &[KeyRole], gid: &str, need: Need) -> Result<(), ApiError> {
    if is_org_owner(roles) {
        return Ok(());
    }
    let mut in_group = roles.iter().filter(|r| r.is_in(gid)).peekable();
    if in_group.peek().is_none() {
        return Err(ApiError::new(ErrorCode::NotInGroup, &[]));
    }
    let allowed = in_group.any(|r| match need {
        Need::Read | Need::Any => true,
        Need::Write => matches!(
            r.role_name,
            KeyRoleName::GroupOwner
                | KeyRoleName::GroupDatabaseAccessAdmin
                | KeyRoleName::GroupStreamProcessingOwner
        ),
        Need::Owner => r.role_name == KeyRoleName::GroupOwner,
        Need::Org => false,
    });
    if allowed {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::UserUnauthorized, &[]))
    }
}
