//! Project API keys over HTTP (`/groups/{id}/apiKeys`), as the Atlas CLI's
//! `projects apiKeys` records them: create (200, the private key once),
//! the project's paged list (private keys masked), removal (204). Project
//! Owner, as atlas-ca has no Project User Admin role.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;

use super::call::{Call, OrgKey, OrgOwner, ProjectOwner, Reader, blocking};
use super::respond::{Answer, failure, outcome, page, respond};
use super::state::AppState;
use crate::api::keys::{self, ApiKeyEntry};
use crate::api::projects::masked;
use crate::api::{self, Error, Page};

/// `GET /groups/{id}/apiKeys`.
pub(super) async fn list_keys(call: Call<String, Reader>) -> Answer {
    let paging = call.paging()?;
    let gid = &call.params;
    let entries: Vec<ApiKeyEntry> = keys::project_keys(&call.registry, gid)
        .map(|k| ApiKeyEntry::in_list(&call.registry, k, &call.root))
        .collect();
    let url = format!("{}/groups/{gid}/apiKeys", call.root);
    Ok(page(call.fmt, Page::of(entries, paging, &url, &call.pairs)))
}

/// `POST /groups/{id}/apiKeys`: 200 (recorded) with the whole private key.
pub(super) async fn create_key(
    State(state): State<Arc<AppState>>,
    call: Call<String, ProjectOwner>,
    body: Body,
) -> Answer {
    let (desc, roles) = call.body(&state, body, api::parse_key_body).await?;
    let (home, gid) = (state.home.clone(), call.params.clone());
    let created = blocking(move || {
        let key = keys::create_project_key(&home, &gid, &desc, &roles)?;
        Ok::<_, Error>((home.registry()?, key))
    })
    .await;
    Ok(outcome(
        call.fmt,
        200,
        created.map(|(registry, key)| {
            ApiKeyEntry::new(&registry, &key, key.secret.clone(), &call.root)
        }),
    ))
}

/// `DELETE /groups/{id}/apiKeys/{apiUserId}`: 204.
pub(super) async fn delete_key(
    State(state): State<Arc<AppState>>,
    call: Call<(String, String), ProjectOwner>,
) -> Answer {
    let home = state.home.clone();
    let (gid, id) = call.params;
    Ok(
        match blocking(move || keys::remove_from_project(&home, &gid, &id)).await {
            Ok(_) => respond(204, call.fmt.version.content_type(), Body::empty()),
            Err(e) => failure(call.fmt, e),
        },
    )
}

/// `PATCH /groups/{id}/apiKeys/{apiUserId}` (`atlas projects apiKeys
/// assign`): the key's roles in the project; 200 with the key (recorded).
pub(super) async fn assign_key(
    State(state): State<Arc<AppState>>,
    call: Call<(String, String), ProjectOwner>,
    body: Body,
) -> Answer {
    let (desc, roles) = call.body(&state, body, api::parse_key_roles_body).await?;
    let home = state.home.clone();
    let (gid, id) = call.params.clone();
    let assigned = blocking(move || {
        let key = keys::assign_project_roles(&home, &gid, &id, desc.as_deref(), roles.as_deref())?;
        Ok::<_, Error>((home.registry()?, key))
    })
    .await;
    Ok(outcome(
        call.fmt,
        200,
        // As its own answer shows a key (seen): ORG_MEMBER first; the
        // private key masked, as only its creation shows it whole.
        assigned.map(|(registry, key)| {
            ApiKeyEntry::new(&registry, &key, masked(&key.secret), &call.root)
        }),
    ))
}

/// `POST /groups/{id}/apiKeys/{apiUserId}` (addProjectApiKey): an
/// organization key joins the project with the roles given; 204. A
/// `userId` in the body names the path's key or is refused.
pub(super) async fn add_key(
    State(state): State<Arc<AppState>>,
    call: Call<(String, String), ProjectOwner>,
    body: Body,
) -> Answer {
    let (roles, ids) = call.body(&state, body, api::parse_add_key_body).await?;
    let home = state.home.clone();
    let (gid, id) = call.params.clone();
    if ids.iter().any(|named| !named.eq_ignore_ascii_case(&id)) {
        let e = api::ApiError::new(api::ErrorCode::InvalidAttribute, &["userId"]);
        return Ok(failure(call.fmt, e.into()));
    }
    Ok(
        match blocking(move || keys::assign_project_roles(&home, &gid, &id, None, Some(&roles)))
            .await
        {
            Ok(_) => respond(204, call.fmt.version.content_type(), Body::empty()),
            Err(e) => failure(call.fmt, e),
        },
    )
}

/// `GET /orgs/{orgId}/apiKeys/{apiUserId}`: where every key's `self` link
/// points; Organization Owner.
pub(super) async fn get_org_key(call: Call<OrgKey, OrgOwner>) -> Answer {
    let OrgKey(org, id) = &call.params;
    let key = keys::org_key(&call.registry, org, id);
    Ok(outcome(
        call.fmt,
        200,
        key.map(|k| ApiKeyEntry::in_list(&call.registry, k, &call.root)),
    ))
}

/// `DELETE /orgs/{orgId}/apiKeys/{apiUserId}`: 204; the Atlas CLI's tests
/// clean up their keys here. Organization Owner.
pub(super) async fn delete_org_key(
    State(state): State<Arc<AppState>>,
    call: Call<OrgKey, OrgOwner>,
) -> Answer {
    let home = state.home.clone();
    let OrgKey(org, id) = call.params;
    Ok(
        match blocking(move || keys::delete_org_key(&home, &org, &id)).await {
            Ok(_) => respond(204, call.fmt.version.content_type(), Body::empty()),
            Err(e) => failure(call.fmt, e),
        },
    )
}
