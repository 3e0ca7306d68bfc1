//! The endpoints that change the registry: database users, projects and
//! customer X.509. Each authenticates and checks the key's role before it
//! reads a body, then runs the API model (one locked registry edit) on a
//! blocking thread.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::request::Parts;
use axum::{Extension, body::Body};

use super::AppState;
use super::access::{Need, sees};
use super::call::{api_root, blocking, open, open_parsed, paging};
use super::respond::{Answer, Fmt, Version, failure, outcome, page, respond};
use crate::api::customer_x509;
use crate::api::json::UserEntry;
use crate::api::manage::{self, Changed};
use crate::api::projects::{self, ProjectEntry};
use crate::api::{self, Error, Page};

type UserPath = Result<Path<(String, String, String)>, PathRejection>;
type GroupPath = Result<Path<String>, PathRejection>;

/// A changed user's entity, its link under the request's API root.
fn user_entry(state: &AppState, fmt: Fmt, parts: &Parts, (gid, user): Changed) -> UserEntry {
    UserEntry::new(
        &gid,
        &user,
        &api_root(state.scheme, &parts.headers, fmt.version),
    )
}

/// `POST /groups/{id}/databaseUsers`.
pub(super) async fn create_user(
    State(state): State<Arc<AppState>>,
    Extension(version): Extension<Version>,
    path: GroupPath,
    request: Request,
) -> Answer {
    let (call, parts, spec) = open_parsed(
        &state,
        version,
        path,
        request,
        |p| Some(p),
        Need::Write,
        api::parse_user_body,
    )
    .await?;
    let home = state.home.clone();
    let gid = call.params;
    let changed = blocking(move || manage::create_user(&home, &gid, &spec)).await;
    let user = changed.map(|c| user_entry(&state, call.fmt, &parts, c));
    Ok(outcome(call.fmt, 201, user))
}

/// `PATCH /groups/{id}/databaseUsers/{databaseName}/{username}`.
pub(super) async fn update_user(
    State(state): State<Arc<AppState>>,
    Extension(version): Extension<Version>,
    path: UserPath,
    request: Request,
) -> Answer {
    let (call, parts, spec) = open_parsed(
        &state,
        version,
        path,
        request,
        |p| Some(p.0.as_str()),
        Need::Write,
        api::parse_user_body,
    )
    .await?;
    let home = state.home.clone();
    let (gid, db, username) = call.params;
    let changed =
        blocking(move || manage::update_user(&home, &gid, Some(&db), &username, &spec)).await;
    let user = changed.map(|c| user_entry(&state, call.fmt, &parts, c));
    Ok(outcome(call.fmt, 200, user))
}

/// `DELETE /groups/{id}/databaseUsers/{databaseName}/{username}`: 204.
pub(super) async fn delete_user(
    State(state): State<Arc<AppState>>,
    Extension(version): Extension<Version>,
    path: UserPath,
    parts: Parts,
) -> Answer {
    let call = open(
        &state,
        version,
        path,
        &parts,
        |p| Some(p.0.as_str()),
        Need::Write,
    )?;
    let home = state.home.clone();
    let (gid, db, username) = call.params;
    Ok(
        match blocking(move || manage::delete_user(&home, &gid, &db, &username)).await {
            Ok(_) => respond(204, version.content_type(), Body::empty()),
            Err(e) => failure(call.fmt, e),
        },
    )
}

/// `GET /groups`: the projects the key has a role in (all for an
/// Organization Owner).
pub(super) async fn list_groups(
    State(state): State<Arc<AppState>>,
    Extension(version): Extension<Version>,
    parts: Parts,
) -> Answer {
    let path: Result<Path<()>, PathRejection> = Ok(Path(()));
    let call = open(&state, version, path, &parts, |()| None, Need::Any)?;
    let paging = paging(&call)?;
    let root = api_root(state.scheme, &parts.headers, version);
    let groups: Vec<ProjectEntry> = call
        .registry
        .projects
        .iter()
        .filter(|p| sees(&call.caller, &p.id))
        .map(|p| ProjectEntry::new(p, &root))
        .collect();
    let url = format!("{root}/groups");
    Ok(page(call.fmt, Page::of(groups, paging, &url, &call.pairs)))
}

/// `POST /groups`: Organization Owner only.
pub(super) async fn create_group(
    State(state): State<Arc<AppState>>,
    Extension(version): Extension<Version>,
    request: Request,
) -> Answer {
    let path: Result<Path<()>, PathRejection> = Ok(Path(()));
    let (call, parts, name) = open_parsed(
        &state,
        version,
        path,
        request,
        |()| None,
        Need::Org,
        api::parse_project_body,
    )
    .await?;
    let home = state.home.clone();
    let root = api_root(state.scheme, &parts.headers, version);
    let project = blocking(move || projects::create_project(&home, &name, None)).await;
    Ok(outcome(
        call.fmt,
        201,
        project.map(|p| ProjectEntry::new(&p, &root)),
    ))
}

/// `GET /groups/{id}`.
pub(super) async fn get_group(
    State(state): State<Arc<AppState>>,
    Extension(version): Extension<Version>,
    path: GroupPath,
    parts: Parts,
) -> Answer {
    let call = open(&state, version, path, &parts, |p| Some(p), Need::Read)?;
    let root = api_root(state.scheme, &parts.headers, version);
    let project = api::project(&call.registry, &call.params).map_err(Error::from);
    Ok(outcome(
        call.fmt,
        200,
        project.map(|p| ProjectEntry::new(p, &root)),
    ))
}

/// `GET /groups/{id}/userSecurity`.
pub(super) async fn get_security(
    State(state): State<Arc<AppState>>,
    Extension(version): Extension<Version>,
    path: GroupPath,
    parts: Parts,
) -> Answer {
    let call = open(&state, version, path, &parts, |p| Some(p), Need::Read)?;
    let home = state.home.clone();
    let gid = call.params;
    let settings = blocking(move || customer_x509::user_security(&home, &gid)).await;
    Ok(outcome(call.fmt, 200, settings))
}

/// `PATCH /groups/{id}/userSecurity`: 202; Project Owner.
pub(super) async fn patch_security(
    State(state): State<Arc<AppState>>,
    Extension(version): Extension<Version>,
    path: GroupPath,
    request: Request,
) -> Answer {
    let (call, _, cas) = open_parsed(
        &state,
        version,
        path,
        request,
        |p| Some(p),
        Need::Owner,
        api::parse_user_security_body,
    )
    .await?;
    let home = state.home.clone();
    let gid = call.params;
    let settings = blocking(move || match cas {
        Some(pem) => customer_x509::enable(&home, &gid, &pem),
        None => customer_x509::user_security(&home, &gid),
    })
    .await;
    Ok(outcome(call.fmt, 202, settings))
}

/// `DELETE /groups/{id}/userSecurity/customerX509`: 202; Project Owner.
pub(super) async fn disable_customer_x509(
    State(state): State<Arc<AppState>>,
    Extension(version): Extension<Version>,
    path: GroupPath,
    parts: Parts,
) -> Answer {
    let call = open(&state, version, path, &parts, |p| Some(p), Need::Owner)?;
    let home = state.home.clone();
    let gid = call.params;
    let settings = blocking(move || customer_x509::disable(&home, &gid)).await;
    Ok(outcome(call.fmt, 202, settings))
}
