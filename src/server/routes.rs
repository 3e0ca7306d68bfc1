//! The HTTP endpoints, under `/api/atlas/v1.0` and `/api/atlas/v2`, and
//! what every request goes through: Digest authentication before the body
//! is read, the project role check, `pretty`/`envelope`, Atlas's headers,
//! and a log line.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{OriginalUri, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use serde::Serialize;

use super::AppState;
use super::digest::{self, Failure};
use crate::Error;
use crate::api::{self, ApiError, CreateCert, Envelope, ErrorCode, Page};
use crate::issuing::{Fresh, KeySource, KeyType, Profile};
use crate::registry::{ApiKey, KeyRoleName, Registry, is_project_id};

/// Largest request body accepted.
const MAX_BODY: usize = 64 * 1024;
/// Atlas's per-minute request allowance, reported in `Ratelimit-Limit`.
const RATE_LIMIT: u32 = 1200;

/// Which API version a request came in on; it decides the Content-Type.
#[derive(Debug, Clone, Copy)]
enum Version {
    V1,
    V2,
}

impl Version {
    fn content_type(self) -> &'static str {
        match self {
            Version::V1 => "application/json",
            Version::V2 => "application/vnd.atlas.2023-01-01+json;charset=utf-8",
        }
    }
}

/// What a call needs of the API key's roles in the project.
#[derive(Debug, Clone, Copy)]
enum Need {
    Read,
    Write,
}

/// The rendering options every endpoint takes.
#[derive(Debug, Clone, Copy)]
struct Fmt {
    version: Version,
    pretty: bool,
    envelope: bool,
}

pub(super) fn router(state: Arc<AppState>) -> Router {
    let api = |v: Version| {
        Router::new()
            .route("/groups/{gid}/databaseUsers", get(list_users))
            .route(
                "/groups/{gid}/databaseUsers/{first}/{second}",
                get(get_user),
            )
            .route(
                "/groups/{gid}/databaseUsers/{first}/certs",
                get(list_certs).post(create_cert),
            )
            .layer(Extension(v))
    };
    Router::new()
        .nest("/api/atlas/v1.0", api(Version::V1))
        .nest("/api/atlas/v2", api(Version::V2))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            log_and_rate,
        ))
        .with_state(state)
}

/// Requests per API key in the current minute, for the rate-limit headers.
#[derive(Default)]
pub(super) struct RateWindow {
    counts: Mutex<HashMap<String, (u64, u32)>>,
}

impl RateWindow {
    /// Counts a request by `who`; returns what remains of the allowance.
    fn hit(&self, who: &str) -> u32 {
        let minute = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() / 60);
        // A poisoned lock only interrupted a counter update; counts stay usable.
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.retain(|_, (m, _)| *m == minute);
        let entry = counts.entry(who.to_string()).or_insert((minute, 0));
        entry.1 = entry.1.saturating_add(1);
        RATE_LIMIT.saturating_sub(entry.1)
    }
}

async fn log_and_rate(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let who = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(digest::claimed_username)
        .unwrap_or_default();
    let remaining = state.rate.hit(&who);
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert("Ratelimit-Limit", HeaderValue::from(RATE_LIMIT));
    headers.insert("Ratelimit-Remaining", HeaderValue::from(remaining));
    eprintln!(
        "{method} {path} {} {:.1}ms",
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    response
}

/// The query's `(name, value)` pairs, decoded.
fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

fn fmt_of(version: Version, pairs: &[(String, String)]) -> Fmt {
    let flag = |name: &str| {
        pairs
            .iter()
            .any(|(k, v)| k == name && v.eq_ignore_ascii_case("true"))
    };
    Fmt {
        version,
        pretty: flag("pretty"),
        envelope: flag("envelope"),
    }
}

fn respond(status: u16, content_type: &str, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    response
}

/// An entity, wrapped in `{"content", "status"}` with `envelope=true`.
fn entity<T: Serialize>(fmt: Fmt, status: u16, content: T, content_type: &str) -> Response {
    let body = if fmt.envelope {
        api::render(&Envelope { content, status }, fmt.pretty)
    } else {
        api::render(&content, fmt.pretty)
    };
    respond(status, content_type, body)
}

/// A list page, which gains `status` with `envelope=true`.
fn page<T: Serialize>(fmt: Fmt, mut page: Page<T>) -> Response {
    if fmt.envelope {
        page.status = Some(200);
    }
    respond(
        200,
        fmt.version.content_type(),
        api::render(&page, fmt.pretty),
    )
}

fn api_error(fmt: Fmt, e: &ApiError) -> Response {
    entity(fmt, e.status(), e.body(), "application/json")
}

fn failure(fmt: Fmt, e: Error) -> Response {
    match e {
        Error::Api(e) => api_error(fmt, &e),
        other => {
            eprintln!("atlas-ca: internal error: {other}");
            api_error(fmt, &ApiError::new(ErrorCode::UnexpectedError, &[]))
        }
    }
}

fn challenge(state: &AppState, stale: bool) -> Response {
    let mut response = respond(
        401,
        "application/json",
        api::render(&api::CHALLENGE_BODY, true),
    );
    if let Ok(v) = HeaderValue::from_str(&state.digest.challenge(stale)) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}

/// Everything before the body: authentication, the group id and the key's
/// role in it. Returns the registry in force.
fn begin(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    gid: &str,
    need: Need,
) -> Result<Arc<Registry>, Refusal> {
    let registry = state.registry.current();
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let request_uri = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    let key = state
        .digest
        .verify(authorization, method.as_str(), request_uri, &registry)
        .map_err(|f| Refusal::Challenge(f == Failure::Stale))?;
    if !is_project_id(gid) {
        return Err(Refusal::Api(ApiError::new(
            ErrorCode::InvalidGroupId,
            &[gid],
        )));
    }
    authorize(key, gid, need).map_err(Refusal::Api)?;
    Ok(registry)
}

/// Why [`begin`] turned a request away.
enum Refusal {
    /// No valid credentials: a Digest challenge (`stale` or not).
    Challenge(bool),
    /// An Atlas error.
    Api(ApiError),
}

fn refuse(state: &AppState, fmt: Fmt, refusal: Refusal) -> Response {
    match refusal {
        Refusal::Challenge(stale) => challenge(state, stale),
        Refusal::Api(e) => api_error(fmt, &e),
    }
}

/// Atlas's role rules: creating needs Project Owner or Project Database
/// Access Admin, listing any project role; Organization Owner may do all.
fn authorize(key: &ApiKey, gid: &str, need: Need) -> Result<(), ApiError> {
    if key
        .roles
        .iter()
        .any(|r| r.role_name == KeyRoleName::OrgOwner)
    {
        return Ok(());
    }
    let mut in_group = key
        .roles
        .iter()
        .filter(|r| {
            r.group_id
                .as_deref()
                .is_some_and(|g| g.eq_ignore_ascii_case(gid))
        })
        .peekable();
    if in_group.peek().is_none() {
        return Err(ApiError::new(ErrorCode::NotInGroup, &[]));
    }
    let allowed = in_group.any(|r| match need {
        Need::Read => true,
        Need::Write => matches!(
            r.role_name,
            KeyRoleName::GroupOwner | KeyRoleName::GroupDatabaseAccessAdmin
        ),
    });
    if allowed {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::UserUnauthorized, &[]))
    }
}

/// The URL of this request without its query, for `self` links.
fn self_url(headers: &HeaderMap, uri: &Uri) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}{}", uri.path())
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(Error::Usage(format!("worker failed: {e}"))))
}

async fn create_cert(
    State(state): State<Arc<AppState>>,
    Extension(version): Extension<Version>,
    path: Result<Path<(String, String)>, PathRejection>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    // Nesting strips the version prefix from `parts.uri`; Digest signs the original.
    let uri = parts
        .extensions
        .get::<OriginalUri>()
        .map_or_else(|| parts.uri.clone(), |o| o.0.clone());
    let fmt = fmt_of(version, &query_pairs(&uri));
    let Ok(Path((gid, username))) = path else {
        return not_found(OriginalUri(uri)).await;
    };
    let registry = match begin(
        &state,
        &parts.method,
        &uri,
        &parts.headers,
        &gid,
        Need::Write,
    ) {
        Ok(r) => r,
        Err(refusal) => return refuse(&state, fmt, refusal),
    };
    let too_large = || {
        api_error(
            fmt,
            &ApiError::new(ErrorCode::PayloadTooLarge, &[&MAX_BODY.to_string()]),
        )
    };
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY) {
        return too_large();
    }
    let bytes = match tokio::time::timeout(
        state.client_timeout,
        axum::body::to_bytes(body, MAX_BODY),
    )
    .await
    {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => return too_large(),
        Err(_) => {
            let secs = state.client_timeout.as_secs().to_string();
            return api_error(fmt, &ApiError::new(ErrorCode::RequestTimeout, &[&secs]));
        }
    };
    let months = match api::parse_create_body(&bytes) {
        Ok(m) => m,
        Err(e) => return api_error(fmt, &e),
    };
    let request = CreateCert {
        group_id: gid,
        username,
        months_until_expiration: months,
        issued_at: None,
        profile: Profile::Atlas,
        key_type: KeyType::Rsa4096,
    };
    let work_state = Arc::clone(&state);
    let created = blocking(move || {
        let keys: &dyn KeySource = match &work_state.keys {
            Some(pool) => pool,
            None => &Fresh,
        };
        api::create_cert(&work_state.home, &registry, &request, keys)
    });
    match created.await {
        Ok(created) => {
            if created.ca_created {
                eprintln!(
                    "atlas-ca: created a new CA for project {}",
                    created.record.project_id
                );
            }
            let mut response = if fmt.envelope {
                entity(fmt, 201, created.pem, version.content_type())
            } else {
                respond(201, version.content_type(), created.pem)
            };
            if let Some(pool) = &state.keys {
                response
                    .headers_mut()
                    .insert("X-Key-Pool-Remaining", HeaderValue::from(pool.ready()));
            }
            response
        }
        Err(e) => failure(fmt, e),
    }
}

async fn list_certs(
    State(state): State<Arc<AppState>>,
    Extension(version): Extension<Version>,
    path: Result<Path<(String, String)>, PathRejection>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let pairs = query_pairs(&uri);
    let fmt = fmt_of(version, &pairs);
    let Ok(Path((gid, username))) = path else {
        return not_found(OriginalUri(uri)).await;
    };
    let registry = match begin(&state, &method, &uri, &headers, &gid, Need::Read) {
        Ok(r) => r,
        Err(refusal) => return refuse(&state, fmt, refusal),
    };
    let paging = match api::parse_paging(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        Ok(p) => p,
        Err(e) => return api_error(fmt, &e),
    };
    let home = state.home.clone();
    let (g, u) = (gid.clone(), username.clone());
    match blocking(move || api::list_certs(&home, &registry, &g, &u, false)).await {
        Ok(records) => page(
            fmt,
            api::cert_page(&records, paging, &self_url(&headers, &uri)),
        ),
        Err(e) => failure(fmt, e),
    }
}

async fn list_users(
    State(state): State<Arc<AppState>>,
    Extension(version): Extension<Version>,
    path: Result<Path<String>, PathRejection>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let pairs = query_pairs(&uri);
    let fmt = fmt_of(version, &pairs);
    let Ok(Path(gid)) = path else {
        return not_found(OriginalUri(uri)).await;
    };
    let registry = match begin(&state, &method, &uri, &headers, &gid, Need::Read) {
        Ok(r) => r,
        Err(refusal) => return refuse(&state, fmt, refusal),
    };
    let users = api::parse_paging(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .and_then(|paging| Ok((paging, api::list_users(&registry, &gid)?)));
    match users {
        Ok((paging, users)) => page(fmt, Page::of(users, paging, &self_url(&headers, &uri))),
        Err(e) => api_error(fmt, &e),
    }
}

async fn get_user(
    State(state): State<Arc<AppState>>,
    Extension(version): Extension<Version>,
    path: Result<Path<(String, String, String)>, PathRejection>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let fmt = fmt_of(version, &query_pairs(&uri));
    let Ok(Path((gid, database_name, username))) = path else {
        return not_found(OriginalUri(uri)).await;
    };
    let registry = match begin(&state, &method, &uri, &headers, &gid, Need::Read) {
        Ok(r) => r,
        Err(refusal) => return refuse(&state, fmt, refusal),
    };
    match api::get_user(&registry, &gid, &database_name, &username) {
        Ok(user) => entity(fmt, 200, user, version.content_type()),
        Err(e) => api_error(fmt, &e),
    }
}

async fn not_found(OriginalUri(uri): OriginalUri) -> Response {
    let fmt = fmt_of(Version::V1, &query_pairs(&uri));
    api_error(
        fmt,
        &ApiError::new(ErrorCode::ResourceNotFound, &[uri.path()]),
    )
}

async fn method_not_allowed(method: Method, OriginalUri(uri): OriginalUri) -> Response {
    let fmt = fmt_of(Version::V1, &query_pairs(&uri));
    api_error(
        fmt,
        &ApiError::new(ErrorCode::MethodNotAllowed, &[method.as_str(), uri.path()]),
    )
}
