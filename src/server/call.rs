//! What every endpoint does before its own work: read the version's
//! options and the path, authenticate and check the key's role, count the
//! key's allowance, read a bounded body; plus the URLs of `self` links and
//! the blocking pool the library runs on. Handlers in `routes`, `manage`
//! and `oauth` build on these.

use std::cell::Cell;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{FromRequestParts, MatchedPath, OriginalUri, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Body as HttpBody, Frame, SizeHint};
use serde::de::DeserializeOwned;

use super::access::{Allowance, Caller, Need, RATE_LIMIT, begin, refuse};
use super::rate::Bucket;
use super::respond::{
    Dates, FIRST, Fmt, Refused, Version, api_error, fmt_of, negotiate, query_pairs,
};
use super::state::AppState;
use crate::api::{self, ApiError, Error, ErrorCode};
use crate::store::Registry;

/// Largest request body accepted.
const MAX_BODY: usize = 64 * 1024;

tokio::task_local! {
    /// The allowance and what remains of it, once the request's key has
    /// authenticated (set by [`Call`]'s extraction); requests answered before that carry
    /// no rate-limit headers, as on Atlas.
    static RATE: Cell<Option<(u32, u32)>>;
}

/// Logs each request with its status and time, and adds the rate-limit
/// headers once its key has authenticated. A response given before the
/// request's body was read (a refusal before the body) first drains what
/// the client is sending anyway, within the client timeout and at most
/// [`MAX_BODY`] bytes, so that a client still writing its body (over TLS
/// above all) reads the answer instead of a closed socket; a body too
/// large, too slow, or held back by `Expect: 100-continue` is not read,
/// and the response says `Connection: close`: the server then closes the
/// connection, and a keep-alive client must know to open a new one.
pub(super) async fn log_and_rate(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let drainable = !request.headers().contains_key(header::EXPECT)
        && declared_length(request.headers()).is_none_or(|n| n <= MAX_BODY);
    let read = Arc::new(AtomicBool::new(request.body().is_end_stream()));
    let unread = Arc::new(Mutex::new(None));
    let request = request.map(|body| {
        axum::body::Body::new(Tracked {
            inner: Some(body),
            ended: Arc::clone(&read),
            unread: Arc::clone(&unread),
        })
    });
    let (mut response, rate) = RATE
        .scope(Cell::new(None), async move {
            let response = next.run(request).await;
            (response, RATE.with(Cell::get))
        })
        .await;
    let left = unread.lock().ok().and_then(|mut l| l.take());
    if let Some(body) = left.filter(|_| drainable && !read.load(Ordering::Acquire)) {
        let drain = axum::body::to_bytes(body, MAX_BODY);
        // Within the client timeout from the request's start: a body that
        // was already too slow for its handler gets no more time here.
        let deadline = tokio::time::Instant::from_std(started + state.client_timeout);
        if matches!(tokio::time::timeout_at(deadline, drain).await, Ok(Ok(_))) {
            read.store(true, Ordering::Release);
        }
    }
    let headers = response.headers_mut();
    if let Some((limit, remaining)) = rate {
        headers.insert("Ratelimit-Limit", HeaderValue::from(limit));
        headers.insert("Ratelimit-Remaining", HeaderValue::from(remaining));
    }
    if !read.load(Ordering::Acquire) {
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    eprintln!(
        "{method} {path} {} {:.1}ms",
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    response
}

/// A request body that notes when it has been read to its end, and hands
/// itself to [`log_and_rate`] when dropped before, to be drained.
struct Tracked {
    inner: Option<axum::body::Body>,
    ended: Arc<AtomicBool>,
    unread: Arc<Mutex<Option<axum::body::Body>>>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if !self.ended.load(Ordering::Acquire)
            && let (Some(body), Ok(mut slot)) = (self.inner.take(), self.unread.lock())
        {
            *slot = Some(body);
        }
    }
}

impl HttpBody for Tracked {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let Some(inner) = self.inner.as_mut() else {
            return std::task::Poll::Ready(None);
        };
        let polled = std::pin::Pin::new(&mut *inner).poll_frame(cx);
        if matches!(polled, std::task::Poll::Ready(None)) || inner.is_end_stream() {
            self.ended.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), HttpBody::size_hint)
    }
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

/// What a route asks of the caller's roles in the project, as a type, so
/// that the handler's signature states it and [`Call`] checks it before
/// any body is read.
pub(super) trait Needs: Send {
    /// The role rule.
    const NEED: Need;
}

macro_rules! needs {
    ($($(#[$doc:meta])* $name:ident => $need:ident;)*) => {$(
        $(#[$doc])*
        pub(super) struct $name;
        impl Needs for $name {
            const NEED: Need = Need::$need;
        }
    )*};
}

needs! {
    /// Any role in the project.
    Reader => Read;
    /// Project Owner or Database Access Admin.
    Writer => Write;
    /// Project Owner.
    ProjectOwner => Owner;
    /// Organization Owner (no project in the path).
    OrgOwner => Org;
    /// Any valid key (no project in the path).
    Anyone => Any;
}

/// A route's path parameters, and the project among them.
pub(super) trait Params: Sized + Send {
    /// The parameters, or `None` when the path does not fit them.
    fn read(parts: &mut Parts) -> impl Future<Output = Option<Self>> + Send;
    /// The project id the role is checked in, if the path names one.
    fn group(&self) -> Option<&str>;
}

/// The path's parameters through axum's `Path`.
async fn path_params<P: DeserializeOwned + Send + 'static>(parts: &mut Parts) -> Option<P> {
    Path::<P>::from_request_parts(parts, &())
        .await
        .ok()
        .map(|Path(p)| p)
}

/// `/groups/{gid}`.
impl Params for String {
    fn read(parts: &mut Parts) -> impl Future<Output = Option<Self>> + Send {
        path_params(parts)
    }
    fn group(&self) -> Option<&str> {
        Some(self)
    }
}

/// `/groups/{gid}/databaseUsers/{first}/certs`.
impl Params for (String, String) {
    fn read(parts: &mut Parts) -> impl Future<Output = Option<Self>> + Send {
        path_params(parts)
    }
    fn group(&self) -> Option<&str> {
        Some(&self.0)
    }
}

/// `/groups/{gid}/databaseUsers/{first}/{second}`.
impl Params for (String, String, String) {
    fn read(parts: &mut Parts) -> impl Future<Output = Option<Self>> + Send {
        path_params(parts)
    }
    fn group(&self) -> Option<&str> {
        Some(&self.0)
    }
}

/// `/orgs/{orgId}/apiKeys/{apiUserId}`: an organization and a key, no
/// project.
#[derive(serde::Deserialize)]
pub(super) struct OrgKey(pub(super) String, pub(super) String);

impl Params for OrgKey {
    fn read(parts: &mut Parts) -> impl Future<Output = Option<Self>> + Send {
        path_params(parts)
    }
    fn group(&self) -> Option<&str> {
        None
    }
}

/// `/orgs/{orgId}/...`: an organization, no project.
#[derive(serde::Deserialize)]
pub(super) struct Org(pub(super) String);

impl Params for Org {
    fn read(parts: &mut Parts) -> impl Future<Output = Option<Self>> + Send {
        path_params(parts)
    }
    fn group(&self) -> Option<&str> {
        None
    }
}

/// `/orgs/{orgId}/serviceAccounts/{clientId}/secrets/{secretId}`.
#[derive(serde::Deserialize)]
pub(super) struct OrgItem(pub(super) String, pub(super) String, pub(super) String);

impl Params for OrgItem {
    fn read(parts: &mut Parts) -> impl Future<Output = Option<Self>> + Send {
        path_params(parts)
    }
    fn group(&self) -> Option<&str> {
        None
    }
}

/// `/groups/byName/{name}`: a project's name, looked up by the handler.
#[derive(serde::Deserialize)]
pub(super) struct ByName(pub(super) String);

impl Params for ByName {
    fn read(parts: &mut Parts) -> impl Future<Output = Option<Self>> + Send {
        path_params(parts)
    }
    fn group(&self) -> Option<&str> {
        None
    }
}

/// A path without parameters (`/groups`).
impl Params for () {
    fn read(_: &mut Parts) -> impl Future<Output = Option<Self>> + Send {
        std::future::ready(Some(()))
    }
    fn group(&self) -> Option<&str> {
        None
    }
}

/// What every endpoint has once the request is authenticated and allowed:
/// the extractor that reads the options and the path, authenticates,
/// checks the role `N` asks for in the path's project and counts the
/// route's allowance; no body has been read.
pub(super) struct Call<P, N> {
    pub(super) fmt: Fmt,
    pub(super) pairs: Vec<(String, String)>,
    pub(super) params: P,
    pub(super) registry: Arc<Registry>,
    /// Who authenticated.
    pub(super) caller: Caller,
    /// The API root of the request's version on this server, for
    /// entities' `self` links.
    pub(super) root: String,
    /// This request's URL without its query, for a page's `self` link.
    pub(super) url: String,
    /// The body length the request declared, if any.
    declared: Option<usize>,
    need: PhantomData<N>,
}

impl<P: Params, N: Needs> FromRequestParts<Arc<AppState>> for Call<P, N> {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Refused> {
        // The request URI as received: nesting strips the version prefix
        // from `Parts::uri`; Digest signs and `self` links repeat it whole.
        let uri = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.clone(), |o| o.0.clone());
        // The router layers a version on every API route.
        let Some(&version) = parts.extensions.get::<Version>() else {
            return Err(resource_not_found(&uri).into());
        };
        let pairs = query_pairs(&uri);
        let fmt = fmt_of(version, &pairs);
        let Some(params) = P::read(parts).await else {
            return Err(resource_not_found(&uri).into());
        };
        let (registry, caller) = begin(
            state,
            &parts.method,
            &uri,
            &parts.headers,
            params.group(),
            N::NEED,
        )
        .map_err(|refusal| Refused::from(refuse(state, fmt, refusal)))?;
        // After authentication: a Digest client's first request, which
        // carries no credentials, gets its challenge whatever it accepts.
        let dates = parts.extensions.get::<Dates>().copied().unwrap_or(FIRST);
        let Some(version) = negotiate(version, &parts.headers, dates) else {
            let e = ApiError::new(ErrorCode::InvalidVersionDate, &[]);
            return Err(api_error(fmt, &e).into());
        };
        let fmt = Fmt { version, ..fmt };
        // A project that does not exist is refused before the resource, as
        // Atlas does: without rate-limit headers.
        if let Some(Err(e)) = params.group().map(|gid| api::project(&registry, gid)) {
            return Err(api_error(fmt, &e).into());
        }
        // The route's allowance (the router sets it), else the default.
        let allowance = parts.extensions.get::<Allowance>().copied();
        let limit = allowance.map_or(RATE_LIMIT, |a| a.0);
        let bucket = Bucket {
            who: caller.id.clone(),
            resource: match allowance.and_then(|a| a.1) {
                Some(shared) => shared.to_string(),
                None => resource(parts),
            },
            // Project ids are hex, found whatever their case: one count.
            group: params.group().map(str::to_ascii_lowercase),
        };
        let remaining = state.rate.hit(bucket, limit);
        let _ = RATE.try_with(|r| r.set(Some((limit, remaining))));
        Ok(Call {
            fmt,
            root: api_root(state.scheme, &parts.headers, version),
            url: self_url(state.scheme, &parts.headers, &uri),
            declared: declared_length(&parts.headers),
            pairs,
            params,
            registry,
            caller,
            need: PhantomData,
        })
    }
}

/// The route's pattern without the API version's prefix, the resource a
/// rate count is kept for.
fn resource(parts: &Parts) -> String {
    let pattern = parts
        .extensions
        .get::<MatchedPath>()
        .map_or("", |m| m.as_str());
    ["/api/atlas/v1.0", "/api/atlas/v2"]
        .iter()
        .find_map(|prefix| pattern.strip_prefix(prefix))
        .unwrap_or(pattern)
        .to_string()
}

impl<P, N> Call<P, N> {
    /// The request's paging parameters, or Atlas's error for a bad one.
    pub(super) fn paging(&self) -> Result<api::Paging, Refused> {
        api::parse_paging(self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .map_err(|e| Refused::from(api_error(self.fmt, &e)))
    }

    /// Reads the body (bounded, the caller already authenticated) and
    /// parses it with `parse`.
    pub(super) async fn body<T>(
        &self,
        state: &AppState,
        body: axum::body::Body,
        parse: fn(&[u8]) -> Result<T, ApiError>,
    ) -> Result<T, Refused> {
        let bytes = read_body(state, self.fmt, self.declared, body).await?;
        parse(&bytes).map_err(|e| Refused::from(api_error(self.fmt, &e)))
    }
}

/// The request body, at most [`MAX_BODY`] bytes within the client timeout;
/// `Err` is Atlas's answer when it is larger or slower (boxed: it is large).
pub(super) async fn read_body(
    state: &AppState,
    fmt: Fmt,
    declared: Option<usize>,
    body: axum::body::Body,
) -> Result<axum::body::Bytes, Refused> {
    let too_large = || {
        Refused::from(api_error(
            fmt,
            &ApiError::new(ErrorCode::PayloadTooLarge, &[&MAX_BODY.to_string()]),
        ))
    };
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

/// The body length `headers` declare, if any.
pub(super) fn declared_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
}

pub(super) fn resource_not_found(uri: &Uri) -> Response {
    let fmt = fmt_of(Version::V1, &query_pairs(uri));
    api_error(
        fmt,
        &ApiError::new(ErrorCode::ResourceNotFound, &[uri.path()]),
    )
}
