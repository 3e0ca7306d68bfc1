//! How the server answers: Atlas's content types, `pretty` and `envelope`,
//! error bodies, and the Digest challenge.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::state::AppState;
use crate::api::{self, ApiError, Envelope, Error, ErrorCode, Page};
use crate::model::escape_hidden;

/// Which API version a request came in on, and on v2 the resource version
/// it was answered with (an index into [`MEDIA`]); it decides the
/// Content-Type.
#[derive(Debug, Clone, Copy)]
pub(super) enum Version {
    /// `/api/atlas/v1.0`.
    V1,
    /// `/api/atlas/v2`, with the resource version.
    V2(u8),
}

/// The resource versions served, oldest first, with their Content-Type.
const MEDIA: [(&str, &str); 5] = [
    (
        "2023-01-01",
        "application/vnd.atlas.2023-01-01+json;charset=utf-8",
    ),
    (
        "2023-02-01",
        "application/vnd.atlas.2023-02-01+json;charset=utf-8",
    ),
    (
        "2024-08-05",
        "application/vnd.atlas.2024-08-05+json;charset=utf-8",
    ),
    (
        "2024-11-13",
        "application/vnd.atlas.2024-11-13+json;charset=utf-8",
    ),
    (
        "2025-02-19",
        "application/vnd.atlas.2025-02-19+json;charset=utf-8",
    ),
];

/// The versions of a resource (indexes into [`MEDIA`]), set by the router
/// on resources that are not 2023-01-01 only: clusters 2023-01-01,
/// 2023-02-01 and 2024-08-05, flex clusters 2024-11-13, the project's
/// users 2025-02-19, service accounts 2024-08-05 (the spec's).
#[derive(Debug, Clone, Copy)]
pub(super) struct Dates(pub(super) &'static [u8]);

/// 2023-01-01 only, the version of every other resource.
pub(super) const FIRST: Dates = Dates(&[0]);
/// The clusters' versions.
pub(super) const CLUSTERS: Dates = Dates(&[0, 1, 2]);
/// Flex clusters.
pub(super) const FLEX: Dates = Dates(&[3]);
/// Service accounts.
pub(super) const ACCOUNTS: Dates = Dates(&[2]);
/// The project's organization users.
pub(super) const GROUP_USERS: Dates = Dates(&[4]);

impl Version {
    /// v2 with the first resource version.
    pub(super) const V2_FIRST: Version = Version::V2(0);

    /// The path segment after `/api/atlas/`.
    pub(super) fn segment(self) -> &'static str {
        match self {
            Version::V1 => "v1.0",
            Version::V2(_) => "v2",
        }
    }

    pub(super) fn content_type(self) -> &'static str {
        match self {
            Version::V1 => "application/json",
            Version::V2(i) => MEDIA.get(usize::from(i)).map_or(MEDIA[0].1, |m| m.1),
        }
    }
}

/// The version a request is answered with, `None` for Atlas's 406. On
/// v2, every Atlas media type the `Accept` names must carry a well-formed
/// date, and the resource is served in its newest version not later than
/// the latest date asked for (Atlas's own curl samples ask for 2025-03-12
/// on 2023-01-01 endpoints). A v2 request that names no version (`*/*`,
/// `application/json`, no `Accept`) is refused, as Atlas refuses it; so is
/// one whose dates all precede the resource's first version.
pub(super) fn negotiate(version: Version, headers: &HeaderMap, dates: Dates) -> Option<Version> {
    let Version::V2(_) = version else {
        return Some(version);
    };
    let asked: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|range| {
            let media = range.split(';').next().unwrap_or("").trim();
            media
                .strip_prefix("application/vnd.atlas.")?
                .strip_suffix("+json")
        })
        .collect();
    let well_formed = |d: &str| {
        time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).is_ok()
    };
    if !asked.iter().all(|d| well_formed(d)) {
        return None;
    }
    // ISO dates compare as strings.
    let latest = asked.iter().max()?;
    dates
        .0
        .iter()
        .rev()
        .find(|&&i| MEDIA.get(usize::from(i)).is_some_and(|m| m.0 <= *latest))
        .map(|&i| Version::V2(i))
}

/// A response sent instead of the endpoint's own: a refusal before or
/// while the request is read (authentication, role, body). Boxed: a
/// response is large.
pub(super) struct Refused(Box<Response>);

impl From<Response> for Refused {
    fn from(response: Response) -> Refused {
        Refused(Box::new(response))
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// What an endpoint answers: its response, or the refusal that came first.
pub(super) type Answer = Result<Response, Refused>;

/// The rendering options every endpoint takes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fmt {
    pub(super) version: Version,
    pub(super) pretty: bool,
    pub(super) envelope: bool,
}

/// The query's `(name, value)` pairs, decoded.
pub(super) fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

pub(super) fn fmt_of(version: Version, pairs: &[(String, String)]) -> Fmt {
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

pub(super) fn respond(status: u16, content_type: &str, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    response
}

/// An entity, wrapped in `{"content", "status"}` with `envelope=true`.
pub(super) fn entity<T: Serialize>(
    fmt: Fmt,
    status: u16,
    content: T,
    content_type: &str,
) -> Response {
    let body = if fmt.envelope {
        api::render(&Envelope { content, status }, fmt.pretty)
    } else {
        api::render(&content, fmt.pretty)
    };
    sunset(fmt, respond(status, content_type, body))
}

/// The headers Atlas adds to an answer in a deprecated version (seen on
/// 2023-02-01 clusters: `Deprecation` and `Sunset`).
fn sunset(fmt: Fmt, mut response: Response) -> Response {
    if let Version::V2(i) = fmt.version
        && MEDIA
            .get(usize::from(i))
            .is_some_and(|m| m.0 == "2023-02-01")
    {
        let headers = response.headers_mut();
        headers.insert(
            "Deprecation",
            HeaderValue::from_static("Mon, 5 Aug 2024 00:00:00 GMT"),
        );
        headers.insert(
            "Sunset",
            HeaderValue::from_static("Thu, 1 Jul 2027 00:00:00 GMT"),
        );
    }
    response
}

/// An entity, or Atlas's error for what failed on the way to it.
pub(super) fn outcome<T: Serialize>(fmt: Fmt, status: u16, result: Result<T, Error>) -> Response {
    match result {
        Ok(content) => entity(fmt, status, content, fmt.version.content_type()),
        Err(e) => failure(fmt, e),
    }
}

/// A list page, which gains `status` with `envelope=true`.
pub(super) fn page<T: Serialize>(fmt: Fmt, mut page: Page<T>) -> Response {
    if fmt.envelope {
        page.status = Some(200);
    }
    sunset(
        fmt,
        respond(
            200,
            fmt.version.content_type(),
            api::render(&page, fmt.pretty),
        ),
    )
}

/// Atlas's error body, with the `X-Error-Code` header Atlas sends on
/// every error.
pub(super) fn api_error(fmt: Fmt, e: &ApiError) -> Response {
    let mut response = entity(fmt, e.status(), e.body(), "application/json");
    response
        .headers_mut()
        .insert("X-Error-Code", HeaderValue::from_static(e.code.name()));
    response
}

pub(super) fn failure(fmt: Fmt, e: Error) -> Response {
    match e {
        Error::Api(e) => api_error(fmt, &e),
        other => {
            eprintln!(
                "atlas-ca: internal error: {}",
                escape_hidden(&other.to_string())
            );
            api_error(fmt, &ApiError::new(ErrorCode::UnexpectedError, &[]))
        }
    }
}

pub(super) fn challenge(state: &AppState, stale: bool) -> Response {
    let mut response = respond(
        401,
        "application/json",
        api::render(&api::CHALLENGE_BODY, true),
    );
    if let Ok(v) = HeaderValue::from_str(&state.digest.challenge(stale)) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    // No X-Error-Code: none of Atlas's recorded Digest 401s carries one.
    response
}
