//! What every endpoint does before its own work: read the version's
//! options and the path, authenticate and check the key's role, count the
//! key's allowance, read a bounded body; plus the URLs of `self` links and
//! the blocking pool the library runs on. Handlers in `routes`, `manage`
//! and `oauth` build on these.

use std::cell::Cell;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::rejection::PathRejection;
use axum::extract::{OriginalUri, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use super::access::{Allowance, Caller, Need, RATE_LIMIT, begin, refuse};
use super::respond::{Fmt, Refused, Version, acceptable, api_error, fmt_of, query_pairs};
use crate::api::{self, ApiError, Error, ErrorCode};
use crate::store::Registry;

/// Largest request body accepted.
const MAX_BODY: usize = 64 * 1024;

tokio::task_local! {
    /// The allowance and what remains of it, once the request's key has
    /// authenticated (set by [`open`]); requests answered before that carry
    /// no rate-limit headers, as on Atlas.
    static RATE: Cell<Option<(u32, u32)>>;
}

/// Logs each request with its status and time, and adds the rate-limit
/// headers once its key has authenticated.
pub(super) async fn log_and_rate(request: Request, next: Next) -> Response {
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
pub(super) fn self_url(scheme: &str, headers: &HeaderMap, uri: &Uri) -> String {
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
    /// Who authenticated.
    pub(super) caller: Caller,
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
    let (registry, caller) = begin(
        state,
        &parts.method,
        &uri,
        &parts.headers,
        gid(&params),
        need,
    )
    .map_err(|refusal| Refused::from(refuse(state, fmt, refusal)))?;
    // The route's allowance (the router sets it), else the default.
    let limit = parts
        .extensions
        .get::<Allowance>()
        .map_or(RATE_LIMIT, |a| a.0);
    let remaining = state.rate.hit(&caller.id, limit);
    let _ = RATE.try_with(|r| r.set(Some((limit, remaining))));
    Ok(Call {
        fmt,
        uri,
        pairs,
        params,
        registry,
        caller,
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

pub(super) fn resource_not_found(uri: &Uri) -> Response {
    let fmt = fmt_of(Version::V1, &query_pairs(uri));
    api_error(
        fmt,
        &ApiError::new(ErrorCode::ResourceNotFound, &[uri.path()]),
    )
}
