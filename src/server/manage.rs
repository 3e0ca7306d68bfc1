//! The endpoints that change the registry: database users, projects and
//! customer X.509. Each authenticates and checks the key's role before it
//! reads a body, then runs the API model (one locked registry edit) on a
//! blocking thread.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::request::Parts;
use axum::response::Response;
use axum::{Extension, body::Body};

use super::AppState;
use super::access::{Need, sees};
use super::respond::{Fmt, Version, api_error, entity, failure, page, respond};
use super::routes::{api_root, blocking, open, open_parsed};
use crate::api::customer_x509::{self, UserSecurity};
use crate::api::json::UserEntry;
use crate::api::manage::{self, Changed};
use crate::api::projects::{self, ProjectEntry};
use crate::api::{self, Error, Page};

type UserPath = Result<Path<(String, String, String)>, PathRejection>;
type GroupPath = Result<Path<String>, PathRejection>;

/// A changed user as Atlas answers it, with `status`.
fn user_response(
    state: &AppState,
    fmt: Fmt,
    parts: &Parts,
    status: u16,
    changed: Result<Changed, Error>,
) -> Response {
    match changed {
        Ok((gid, user)) => {
            let root = api_root(state.scheme, &parts.headers, fmt.version);
            let body = UserEntry::new(&gid, &user, &root);
            entity(fmt, status, body, fmt.version.content_type())
        }
        Err(e) => failure(fmt, e),
    }
}

/// `POST /groups/{id}/databaseUsers`.
pub(super) async fn create_user(
    State(state): State<Arc<AppState>>,
    Extension(version): Extension<Version>,
    path: GroupPath,
    request: Request,
) -> Response {
    let (call, parts, spec) = match open_parsed(
        &state,
        version,
        path,
        request,
        |p| Some(p),
        Need::Write,
        api::parse_user_body,
    )
    .await
    {
        Ok(opened) => opened,
        Err(response) => return *response,
    };
    let home = state.home.clone();
    let gid = call.params;
    let changed = blocking(move || manage::create_user(&home, &gid, &spec)).await;
    user_response(&state, call.fmt, &parts, 201, changed)
}

/// `PATCH /groups/{id}/databaseUsers/{databaseName}/{username}`.
pub(super) async fn update_user(
    State(state): State<Arc<AppState>>,
    Extension(version): Extension<Version>,
    path: UserPath,
    request: Request,
) -> Response {
    let (call, parts, spec) = match open_parsed(
        &state,
        version,
        path,
        request,
        |p| Some(p.0.as_str()),
        Need::Write,
        api::parse_user_body,
    )
    .await
    {
        Ok(opened) => opened,
        Err(response) => return *response,
    };
    let home = state.home.clone();
    let (gid, db, username) = call.params;
    let changed = blocking(move || manage::update_user(&home, &gid, &db, &username, &spec)).await;
    user_response(&state, call.fmt, &parts, 200, changed)
}

/// `DELETE /groups/{id}/databaseUsers/{databaseName}/{username}`: 204.
pub(super) async fn delete_user(
    State(state): State<Arc<AppState>>,
    Extension(version): Extension<Version>,
    path: UserPath,
    parts: Parts,
) -> Response {
    let call = match open(
        &state,
        version,
        path,
        &parts,
        |p| Some(p.0.as_str()),
        Need::Write,
    ) {
        Ok(call) => call,
        Err(response) => return *response,
    };
    let home = state.home.clone();
    let (gid, db, username) = call.params;
    match blocking(move || manage::delete_user(&home, &gid, &db, &username)).await {
        Ok(_) => respond(204, version.content_type(), Body::empty()),
        Err(e) => failure(call.fmt, e),
    }
}

/// `GET /groups`: the projects the key has a role in (all for an
/// Organization Owner).
pub(super) async fn list_groups(
    State(state): State<Arc<AppState>>,
    Extension(version): Extension<Version>,
    parts: Parts,
) -> Response {
    let path: Result<Path<()>, PathRejection> = Ok(Path(()));
    let call = match open(&state, version, path, &parts, |()| None, Need::Any) {
        Ok(call) => call,
        Err(response) => return *response,
    };
    let paging = match api::parse_paging(call.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        Ok(p) => p,
        Err(e) => return api_error(call.fmt, &e),
    };
    let root = api_root(state.scheme, &parts.headers, version);
    let groups: Vec<ProjectEntry> = call
        .registry
        .projects
        .iter()
        .filter(|p| sees(&call.key, &p.id))
        .map(|p| ProjectEntry::new(p, &root))
        .collect();
    let url = format!("{root}/groups");
    page(call.fmt, Page::of(groups, paging, &url, &call.pairs))
}

/// `POST /groups`: Organization Owner only.
pub(super) async fn create_group(
    State(state): State<Arc<AppState>>,
    Extension(version): Extension<Version>,
    request: Request,
) -> Response {
    let path: Result<Path<()>, PathRejection> = Ok(Path(()));
    let (call, parts, name) = match open_parsed(
        &state,
        version,
        path,
        request,
        |()| None,
        Need::Org,
        api::parse_project_body,
    )
    .await
    {
        Ok(opened) => opened,
        Err(response) => return *response,
    };
    let home = state.home.clone();
    match blocking(move || projects::create_project(&home, &name, None)).await {
        Ok(project) => {
            let body =
                ProjectEntry::new(&project, &api_root(state.scheme, &parts.headers, version));
            entity(call.fmt, 201, body, version.content_type())
        }
        Err(e) => failure(call.fmt, e),
    }
}

/// `GET /groups/{id}`.
pub(super) async fn get_group(
    State(state): State<Arc<AppState>>,
    Extension(version): Extension<Version>,
    path: GroupPath,
    parts: Parts,
) -> Response {
    let call = match open(&state, version, path, &parts, |p| Some(p), Need::Read) {
        Ok(call) => call,
        Err(response) => return *response,
    };
    match api::project(&call.registry, &call.params) {
        Ok(project) => {
            let body = ProjectEntry::new(project, &api_root(state.scheme, &parts.headers, version));
            entity(call.fmt, 200, body, version.content_type())
        }
        Err(e) => api_error(call.fmt, &e),
    }
}

fn security_response(fmt: Fmt, status: u16, settings: Result<UserSecurity, Error>) -> Response {
    match settings {
        Ok(settings) => entity(fmt, status, settings, fmt.version.content_type()),
        Err(e) => failure(fmt, e),
    }
}

/// `GET /groups/{id}/userSecurity`.
pub(super) async fn get_security(
    State(state): State<Arc<AppState>>,
    Extension(version): Extension<Version>,
    path: GroupPath,
    parts: Parts,
) -> Response {
    let call = match open(&state, version, path, &parts, |p| Some(p), Need::Read) {
        Ok(call) => call,
        Err(response) => return *response,
    };
    let home = state.home.clone();
    let gid = call.params;
    let settings = blocking(move || customer_x509::user_security(&home, &gid)).await;
    security_response(call.fmt, 200, settings)
}

/// `PATCH /groups/{id}/userSecurity`: 202; Project Owner.
pub(super) async fn patch_security(
    State(state): State<Arc<AppState>>,
    Extension(version): Extension<Version>,
    path: GroupPath,
    request: Request,
) -> Response {
    let (call, _, cas) = match open_parsed(
        &state,
        version,
        path,
        request,
        |p| Some(p),
        Need::Owner,
        api::parse_user_security_body,
    )
    .await
    {
        Ok(opened) => opened,
        Err(response) => return *response,
    };
    let home = state.home.clone();
    let gid = call.params;
    let settings = blocking(move || match cas {
        Some(pem) => customer_x509::enable(&home, &gid, &pem),
        None => customer_x509::user_security(&home, &gid),
    })
    .await;
    security_response(call.fmt, 202, settings)
}

/// `DELETE /groups/{id}/userSecurity/customerX509`: 202; Project Owner.
pub(super) async fn disable_customer_x509(
    State(state): State<Arc<AppState>>,
    Extension(version): Extension<Version>,
    path: GroupPath,
    parts: Parts,
) -> Response {
    let call = match open(&state, version, path, &parts, |p| Some(p), Need::Owner) {
        Ok(call) => call,
        Err(response) => return *response,
    };
    let home = state.home.clone();
    let gid = call.params;
    let settings = blocking(move || customer_x509::disable(&home, &gid)).await;
    security_response(call.fmt, 202, settings)
}
