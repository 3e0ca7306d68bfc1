//! The endpoints that change the registry: database users, projects and
//! customer X.509. Each authenticates and checks the key's role before it
//! reads a body, then runs the API model (one locked registry edit) on a
//! blocking thread.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};

use super::access::sees;
use super::call::{Anyone, ByName, Call, OrgOwner, ProjectOwner, Reader, Writer, blocking};
use super::respond::{Answer, failure, outcome, page, respond};
use super::state::AppState;
use crate::api::customer_x509;
use crate::api::json::UserEntry;
use crate::api::keys::SystemStatus;
use crate::api::manage::{self, Changed};
use crate::api::projects::{self, ProjectEntry};
use crate::api::{self, ApiError, Error, ErrorCode, Page};

type UserPath = (String, String, String);

/// A changed user's entity, its link under the request's API root.
fn user_entry<N>(call: &Call<impl Sized, N>, (gid, user): Changed) -> UserEntry {
    UserEntry::new(&gid, &user, &call.root)
}

/// `POST /groups/{id}/databaseUsers`.
pub(super) async fn create_user(
    State(state): State<Arc<AppState>>,
    call: Call<String, Writer>,
    body: Body,
) -> Answer {
    let spec = call.body(&state, body, api::parse_new_user_body).await?;
    let home = state.home.clone();
    let gid = call.params.clone();
    let changed = blocking(move || manage::create_user(&home, &gid, &spec)).await;
    let user = changed.map(|c| user_entry(&call, c));
    Ok(outcome(call.fmt, 201, user))
}

/// `PATCH /groups/{id}/databaseUsers/{databaseName}/{username}`.
pub(super) async fn update_user(
    State(state): State<Arc<AppState>>,
    call: Call<UserPath, Writer>,
    body: Body,
) -> Answer {
    let spec = call.body(&state, body, api::parse_user_body).await?;
    let home = state.home.clone();
    let (gid, db, username) = call.params.clone();
    let changed =
        blocking(move || manage::update_user(&home, &gid, Some(&db), &username, &spec)).await;
    let user = changed.map(|c| user_entry(&call, c));
    Ok(outcome(call.fmt, 200, user))
}

/// `DELETE /groups/{id}/databaseUsers/{databaseName}/{username}`: 204.
pub(super) async fn delete_user(
    State(state): State<Arc<AppState>>,
    call: Call<UserPath, Writer>,
) -> Answer {
    let home = state.home.clone();
    let (gid, db, username) = call.params;
    Ok(
        match blocking(move || manage::delete_user(&home, &gid, &db, &username)).await {
            Ok(_) => respond(204, call.fmt.version.content_type(), Body::empty()),
            Err(e) => failure(call.fmt, e),
        },
    )
}

/// `GET /groups`: the projects the key has a role in (all for an
/// Organization Owner).
pub(super) async fn list_groups(call: Call<(), Anyone>) -> Answer {
    let paging = call.paging()?;
    let groups: Vec<ProjectEntry> = call
        .registry
        .projects
        .iter()
        .filter(|p| sees(&call.caller, &p.id))
        .map(|p| ProjectEntry::in_list(&call.registry, p, &call.root))
        .collect();
    let url = format!("{}/groups", call.root);
    Ok(page(call.fmt, Page::of(groups, paging, &url, &call.pairs)))
}

/// `POST /groups`: Organization Owner only.
pub(super) async fn create_group(
    State(state): State<Arc<AppState>>,
    call: Call<(), OrgOwner>,
    body: Body,
) -> Answer {
    let (name, tags) = call.body(&state, body, api::parse_project_body).await?;
    let home = state.home.clone();
    let project = blocking(move || projects::create_project(&home, &name, None, &tags)).await;
    // Atlas answers 201 with a `Location` naming its v1.0 root, not the
    // project (seen in every recording).
    let location = project.as_ref().ok().map(|_| {
        let base = call.root.rsplit_once("/api/atlas/").map_or("", |(b, _)| b);
        format!("{base}/api/atlas/v1.0")
    });
    let mut response = outcome(
        call.fmt,
        201,
        project.map(|p| ProjectEntry::new(&call.registry, &p, &call.root)),
    );
    if let Some(v) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// `PATCH /groups/{id}`: name and tags; 200 with the project. Project Owner.
pub(super) async fn patch_group(
    State(state): State<Arc<AppState>>,
    call: Call<String, ProjectOwner>,
    body: Body,
) -> Answer {
    let (name, tags) = call.body(&state, body, api::parse_project_patch).await?;
    let (home, gid) = (state.home.clone(), call.params.clone());
    let project =
        blocking(move || projects::update_project(&home, &gid, name.as_deref(), tags.as_deref()))
            .await;
    Ok(outcome(
        call.fmt,
        200,
        project.map(|p| ProjectEntry::new(&call.registry, &p, &call.root)),
    ))
}

/// `DELETE /groups/{id}`: 202 with `{}`, as recorded. Project Owner.
pub(super) async fn delete_group(
    State(state): State<Arc<AppState>>,
    call: Call<String, ProjectOwner>,
) -> Answer {
    let (home, gid) = (state.home.clone(), call.params.clone());
    let deleted = blocking(move || projects::delete_project(&home, &gid)).await;
    Ok(outcome(
        call.fmt,
        202,
        deleted.map(|_| serde_json::json!({})),
    ))
}

/// `GET /groups/{id}`.
pub(super) async fn get_group(call: Call<String, Reader>) -> Answer {
    let project = api::project(&call.registry, &call.params).map_err(Error::from);
    Ok(outcome(
        call.fmt,
        200,
        project.map(|p| ProjectEntry::new(&call.registry, p, &call.root)),
    ))
}

/// `GET /groups/{id}/userSecurity`: Project Owner (the spec's
/// `x-rolesRequirements`).
pub(super) async fn get_security(
    State(state): State<Arc<AppState>>,
    call: Call<String, ProjectOwner>,
) -> Answer {
    let home = state.home.clone();
    let gid = call.params;
    let settings = blocking(move || customer_x509::user_security(&home, &gid)).await;
    Ok(outcome(call.fmt, 200, settings))
}

/// `PATCH /groups/{id}/userSecurity`: 202; Project Owner.
pub(super) async fn patch_security(
    State(state): State<Arc<AppState>>,
    call: Call<String, ProjectOwner>,
    body: Body,
) -> Answer {
    let patch = call
        .body(&state, body, api::parse_user_security_body)
        .await?;
    let home = state.home.clone();
    let gid = call.params;
    let settings = blocking(move || customer_x509::patch(&home, &gid, patch)).await;
    Ok(outcome(call.fmt, 202, settings))
}

/// `DELETE /groups/{id}/userSecurity/ldap/userToDNMapping`: 202; Project
/// Owner.
pub(super) async fn clear_dn_mapping(
    State(state): State<Arc<AppState>>,
    call: Call<String, ProjectOwner>,
) -> Answer {
    let home = state.home.clone();
    let gid = call.params;
    let settings = blocking(move || customer_x509::clear_dn_mapping(&home, &gid)).await;
    Ok(outcome(call.fmt, 202, settings))
}

/// `DELETE /groups/{id}/userSecurity/customerX509`: 202; Project Owner.
pub(super) async fn disable_customer_x509(
    State(state): State<Arc<AppState>>,
    call: Call<String, ProjectOwner>,
) -> Answer {
    let home = state.home.clone();
    let gid = call.params;
    let settings = blocking(move || customer_x509::disable(&home, &gid)).await;
    Ok(outcome(call.fmt, 202, settings))
}

/// `GET /groups/byName/{name}` (Terraform's `mongodbatlas_project` data
/// source): the project of that name, for a key that may read it; one it
/// may not read is as missing (ours).
pub(super) async fn get_group_by_name(call: Call<ByName, Anyone>) -> Answer {
    let ByName(name) = &call.params;
    let found = call
        .registry
        .projects
        .iter()
        .find(|p| p.name.as_deref() == Some(name.as_str()) && sees(&call.caller, &p.id))
        .map(|p| ProjectEntry::new(&call.registry, p, &call.root))
        .ok_or_else(|| Error::from(ApiError::new(ErrorCode::GroupNameNotFound, &[name])));
    Ok(outcome(call.fmt, 200, found))
}

/// `GET /api/atlas/v2` (getSystemStatus): any valid key or service
/// account, the way clients check their credentials.
pub(super) async fn system_status(call: Call<(), Anyone>) -> Answer {
    let status = SystemStatus::new(&call.registry, &call.caller.id, &call.root);
    Ok(outcome(call.fmt, 200, Ok::<_, Error>(status)))
}
