//! The HTTP endpoints, under `/api/atlas/v1.0` and `/api/atlas/v2`. Each
//! one authenticates before reading any body, then hands the request to
//! the API model; every response gets Atlas's rate-limit headers and a log
//! line.

use std::cell::Cell;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::rejection::PathRejection;
use axum::extract::{OriginalUri, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, Uri, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};

use super::AppState;
use super::access::{Need, RATE_LIMIT, USERS_RATE_LIMIT, begin, refuse};
use super::manage;
use super::oauth;
use super::respond::{
    Answer, Fmt, Refused, Version, acceptable, api_error, entity, failure, fmt_of, outcome, page,
    query_pairs, respond,
};
use crate::api::{self, ApiError, CreateCert, Error, ErrorCode, Page};
use crate::issuing::{Fresh, KeySource};
use crate::store::{ApiKey, Registry};

/// Largest request body accepted.
const MAX_BODY: usize = 64 * 1024;

pub(super) fn router(state: Arc<AppState>) -> Router {
    let api = |v: Version| {
        Router::new()
            .route(
                "/groups/{gid}/databaseUsers",
                get(list_users).post(manage::create_user),
            )
            .route(
                "/groups/{gid}/databaseUsers/{first}/{second}",
                get(get_user)
                    .patch(manage::update_user)
                    .delete(manage::delete_user),
            )
            .route(
                "/groups",
                get(manage::list_groups).post(manage::create_group),
            )
            .route("/groups/{gid}", get(manage::get_group))
            .route(
                "/groups/{gid}/userSecurity",
                get(manage::get_security).patch(manage::patch_security),
            )
            .route(
                "/groups/{gid}/userSecurity/customerX509",
                axum::routing::delete(manage::disable_customer_x509),
            )
            .route(
                "/groups/{gid}/databaseUsers/{first}/certs",
                get(list_certs).post(create_cert),
            )
            .layer(Extension(v))
    };
    Router::new()
        .route("/api/oauth/token", axum::routing::post(oauth::token))
        .route("/api/oauth/revoke", axum::routing::post(oauth::revoke))
        .nest("/api/atlas/v1.0", api(Version::V1))
        .nest("/api/atlas/v2", api(Version::V2))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(log_and_rate))
        .with_state(state)
}

tokio::task_local! {
    /// The allowance and what remains of it, once the request's key has
    /// authenticated (set by [`open`]); requests answered before that carry
    /// no rate-limit headers, as on Atlas.
    static RATE: Cell<Option<(u32, u32)>>;
}

async fn log_and_rate(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let (mut response, rate) = RATE
        .scope(Cell::new(None), async move {
            let response = next.run(request).await;
            (response, RATE.with(Cell::get))
        })
        .await;
    if let Some((limit, remaining)) = rate {
        let headers = response.headers_mut();
        headers.insert("Ratelimit-Limit", HeaderValue::from(limit));
        headers.insert("Ratelimit-Remaining", HeaderValue::from(remaining));
    }
    eprintln!(
        "{method} {path} {} {:.1}ms",
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    response
}

/// The `Host` the client addressed.
fn host(headers: &HeaderMap) -> &str {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
}

/// The URL of this request without its query, for `self` links.
fn self_url(scheme: &str, headers: &HeaderMap, uri: &Uri) -> String {
    format!("{scheme}://{}{}", host(headers), uri.path())
}

/// The API root of `version` on this server, for entities' `self` links.
pub(super) fn api_root(scheme: &str, headers: &HeaderMap, version: Version) -> String {
    format!(
        "{scheme}://{}/api/atlas/{}",
        host(headers),
        version.segment()
    )
}

pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(Error::Internal(format!("worker failed: {e}"))))
}

/// What every endpoint has once the request is authenticated and allowed.
pub(super) struct Call<P> {
    pub(super) fmt: Fmt,
    /// The request URI as received (nesting strips the version prefix from
    /// `Parts::uri`; Digest signs and `self` links repeat the original).
    pub(super) uri: Uri,
    pub(super) pairs: Vec<(String, String)>,
    pub(super) params: P,
    pub(super) registry: Arc<Registry>,
    /// The authenticated key.
    pub(super) key: ApiKey,
}

/// Reads the options and the path, authenticates, and checks the key's
/// role (`need`) in the group that `gid` picks from the path; no body has
/// been read.
pub(super) fn open<P>(
    state: &AppState,
    version: Version,
    path: Result<Path<P>, PathRejection>,
    parts: &Parts,
    gid: fn(&P) -> Option<&str>,
    need: Need,
) -> Result<Call<P>, Refused> {
    let uri = parts
        .extensions
        .get::<OriginalUri>()
        .map_or_else(|| parts.uri.clone(), |o| o.0.clone());
    let pairs = query_pairs(&uri);
    let fmt = fmt_of(version, &pairs);
    let Ok(Path(params)) = path else {
        return Err(resource_not_found(&uri).into());
    };
    if !acceptable(version, &parts.headers) {
        let e = ApiError::new(ErrorCode::InvalidVersionDate, &[]);
        return Err(api_error(fmt, &e).into());
    }
    let (registry, key) = begin(
        state,
        &parts.method,
        &uri,
        &parts.headers,
        gid(&params),
        need,
    )
    .map_err(|refusal| Refused::from(refuse(state, fmt, refusal)))?;
    // Atlas's allowance: 10000 a minute on the database user endpoints
    // (their certificates aside), 1200 elsewhere.
    let path = uri.path();
    let limit = if path.contains("/databaseUsers") && !path.ends_with("/certs") {
        USERS_RATE_LIMIT
    } else {
        RATE_LIMIT
    };
    let remaining = state.rate.hit(&key.public_key, limit);
    let _ = RATE.try_with(|r| r.set(Some((limit, remaining))));
    Ok(Call {
        fmt,
        uri,
        pairs,
        params,
        registry,
        key,
    })
}

async fn create_cert(
    State(state): State<Arc<AppState>>,
    Extension(version): Extension<Version>,
    path: Result<Path<(String, String)>, PathRejection>,
    request: Request,
) -> Answer {
    let (call, _, months) = open_parsed(
        &state,
        version,
        path,
        request,
        |p| Some(p.0.as_str()),
        Need::Write,
        api::parse_create_body,
    )
    .await?;
    let (fmt, registry, (gid, username)) = (call.fmt, call.registry, call.params);
    let mut request = CreateCert::new(&gid, &username);
    request.months_until_expiration = months;
    let work_state = Arc::clone(&state);
    let created = blocking(move || {
        let keys: &dyn KeySource = match &work_state.keys {
            Some(pool) => pool,
            None => &Fresh,
        };
        api::create_cert_with(&work_state.home, &registry, &request, keys)
    });
    Ok(match created.await {
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
    })
}

/// The request's paging parameters, or Atlas's error for a bad one.
pub(super) fn paging<P>(call: &Call<P>) -> Result<api::Paging, Refused> {
    api::parse_paging(call.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| Refused::from(api_error(call.fmt, &e)))
}

/// [`open`] for a request with a body: authenticates and checks the role
/// first, then reads the body (bounded) and parses it with `parse`.
pub(super) async fn open_parsed<P, T>(
    state: &AppState,
    version: Version,
    path: Result<Path<P>, PathRejection>,
    request: Request,
    gid: fn(&P) -> Option<&str>,
    need: Need,
    parse: fn(&[u8]) -> Result<T, ApiError>,
) -> Result<(Call<P>, Parts, T), Refused> {
    let (parts, body) = request.into_parts();
    let call = open(state, version, path, &parts, gid, need)?;
    let bytes = read_body(state, call.fmt, &parts.headers, body).await?;
    let parsed = parse(&bytes).map_err(|e| Refused::from(api_error(call.fmt, &e)))?;
    Ok((call, parts, parsed))
}

/// The request body, at most [`MAX_BODY`] bytes within the client timeout;
/// `Err` is Atlas's answer when it is larger or slower (boxed: it is large).
pub(super) async fn read_body(
    state: &AppState,
    fmt: Fmt,
    headers: &HeaderMap,
    body: axum::body::Body,
) -> Result<axum::body::Bytes, Refused> {
    let too_large = || {
        Refused::from(api_error(
            fmt,
            &ApiError::new(ErrorCode::PayloadTooLarge, &[&MAX_BODY.to_string()]),
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY) {
        return Err(too_large());
    }
    match tokio::time::timeout(state.client_timeout, axum::body::to_bytes(body, MAX_BODY)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(too_large()),
        Err(_) => {
            let secs = state.client_timeout.as_secs().to_string();
            Err(api_error(fmt, &ApiError::new(ErrorCode::RequestTimeout, &[&secs])).into())
        }
    }
}

async fn list_certs(
    State(state): State<Arc<AppState>>,
    Extension(version): Extension<Version>,
    path: Result<Path<(String, String)>, PathRejection>,
    parts: Parts,
) -> Answer {
    let call = open(
        &state,
        version,
        path,
        &parts,
        |p| Some(p.0.as_str()),
        Need::Read,
    )?;
    let paging = paging(&call)?;
    let home = state.home.clone();
    let ((gid, username), registry) = (call.params, call.registry);
    let url = self_url(state.scheme, &parts.headers, &call.uri);
    Ok(
        match blocking(move || api::list_certs(&home, &registry, &gid, &username, false)).await {
            Ok(records) => page(
                call.fmt,
                api::cert_page(&records, paging, &url, &call.pairs),
            ),
            Err(e) => failure(call.fmt, e),
        },
    )
}

async fn list_users(
    State(state): State<Arc<AppState>>,
    Extension(version): Extension<Version>,
    path: Result<Path<String>, PathRejection>,
    parts: Parts,
) -> Answer {
    let call = open(
        &state,
        version,
        path,
        &parts,
        |p: &String| Some(p.as_str()),
        Need::Read,
    )?;
    let paging = paging(&call)?;
    let root = api_root(state.scheme, &parts.headers, version);
    let url = self_url(state.scheme, &parts.headers, &call.uri);
    Ok(
        match api::users::list_users(&call.registry, &call.params, &root) {
            Ok(users) => page(call.fmt, Page::of(users, paging, &url, &call.pairs)),
            Err(e) => api_error(call.fmt, &e),
        },
    )
}

async fn get_user(
    State(state): State<Arc<AppState>>,
    Extension(version): Extension<Version>,
    path: Result<Path<(String, String, String)>, PathRejection>,
    parts: Parts,
) -> Answer {
    let call = open(
        &state,
        version,
        path,
        &parts,
        |p| Some(p.0.as_str()),
        Need::Read,
    )?;
    let (gid, database_name, username) = &call.params;
    let root = api_root(state.scheme, &parts.headers, version);
    let user = api::users::get_user(&call.registry, gid, database_name, username, &root);
    Ok(outcome(call.fmt, 200, user.map_err(Error::from)))
}

fn resource_not_found(uri: &Uri) -> Response {
    let fmt = fmt_of(Version::V1, &query_pairs(uri));
    api_error(
        fmt,
        &ApiError::new(ErrorCode::ResourceNotFound, &[uri.path()]),
    )
}

async fn not_found(OriginalUri(uri): OriginalUri) -> Response {
    resource_not_found(&uri)
}

async fn method_not_allowed(method: Method, OriginalUri(uri): OriginalUri) -> Response {
    let fmt = fmt_of(Version::V1, &query_pairs(&uri));
    api_error(
        fmt,
        &ApiError::new(ErrorCode::MethodNotAllowed, &[method.as_str(), uri.path()]),
    )
}
