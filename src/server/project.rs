//! The project endpoints Terraform's `mongodbatlas_project` and the
//! Kubernetes operator call beside users and certificates: settings,
//! limits, IP addresses, teams, organization users, the managed slow-ms
//! switch, and the clusters (the home's local kits).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;

use super::call::{Call, ProjectOwner, Reader, blocking};
use super::respond::{Answer, failure, outcome, page, respond};
use super::state::AppState;
use crate::api::clusters::{self, ClusterEntry};
use crate::api::project_info::{self, IpAddresses};
use crate::api::project_state::{self, ProjectState};
use crate::api::{self, ApiError, Error, ErrorCode, Page};
use crate::store::Home;

/// The project's stored state, on a blocking thread.
async fn state_of(home: &Home, gid: &str) -> Result<ProjectState, Error> {
    let (home, gid) = (home.clone(), gid.to_string());
    blocking(move || project_state::load(&home, &gid)).await
}

/// `GET /groups/{id}/settings`: Project Read Only.
pub(super) async fn get_settings(
    State(state): State<Arc<AppState>>,
    call: Call<String, Reader>,
) -> Answer {
    let settings = state_of(&state.home, &call.params).await;
    Ok(outcome(call.fmt, 200, settings.map(|s| s.settings())))
}

/// `PATCH /groups/{id}/settings`: 200 with every setting; Project Owner.
pub(super) async fn patch_settings(
    State(state): State<Arc<AppState>>,
    call: Call<String, ProjectOwner>,
    body: Body,
) -> Answer {
    let members = call.body(&state, body, api::parse_settings_body).await?;
    let (home, gid) = (state.home.clone(), call.params.clone());
    let updated =
        blocking(move || project_state::update(&home, &gid, |s| s.patch_settings(members))).await;
    Ok(outcome(call.fmt, 200, updated.map(|s| s.settings())))
}

/// `GET /groups/{id}/limits`: a bare array; Project Read Only.
pub(super) async fn list_limits(
    State(state): State<Arc<AppState>>,
    call: Call<String, Reader>,
) -> Answer {
    let (home, registry, gid) = (
        state.home.clone(),
        call.registry.clone(),
        call.params.clone(),
    );
    let limits = blocking(move || project_info::limits(&home, &registry, &gid)).await;
    Ok(outcome(call.fmt, 200, limits))
}

/// `GET`, `PATCH` (Project Owner) and `DELETE` (Project Owner, 204) of
/// `/groups/{id}/limits/{limitName}`.
pub(super) async fn get_limit(
    State(state): State<Arc<AppState>>,
    call: Call<(String, String), Reader>,
) -> Answer {
    let (home, registry) = (state.home.clone(), call.registry.clone());
    let (gid, name) = call.params.clone();
    let limit = blocking(move || project_info::limit(&home, &registry, &gid, &name)).await;
    Ok(outcome(call.fmt, 200, limit))
}

/// `PATCH /groups/{id}/limits/{limitName}`: `{name, value}`; 200 with the
/// limit.
pub(super) async fn patch_limit(
    State(state): State<Arc<AppState>>,
    call: Call<(String, String), ProjectOwner>,
    body: Body,
) -> Answer {
    let (named, value) = call
        .body(&state, body, project_info::parse_limit_body)
        .await?;
    let (home, (gid, name)) = (state.home.clone(), call.params.clone());
    if named.is_some_and(|n| n != name) {
        let e = ApiError::new(ErrorCode::InvalidAttribute, &["name"]);
        return Ok(failure(call.fmt, e.into()));
    }
    let limit = blocking(move || project_info::set_limit(&home, &gid, &name, Some(value))).await;
    Ok(outcome(call.fmt, 200, limit))
}

/// `DELETE /groups/{id}/limits/{limitName}`: back to the default; 204.
pub(super) async fn delete_limit(
    State(state): State<Arc<AppState>>,
    call: Call<(String, String), ProjectOwner>,
) -> Answer {
    let (home, (gid, name)) = (state.home.clone(), call.params.clone());
    let reset = blocking(move || project_info::set_limit(&home, &gid, &name, None)).await;
    Ok(no_content(call.fmt, reset))
}

/// 204 with the version's type and no body, or the error.
fn no_content<T>(fmt: super::respond::Fmt, result: Result<T, Error>) -> axum::response::Response {
    match result {
        Ok(_) => respond(204, fmt.version.content_type(), Body::empty()),
        Err(e) => failure(fmt, e),
    }
}

/// `GET /groups/{id}/ipAddresses`: Project Read Only.
pub(super) async fn ip_addresses(
    State(state): State<Arc<AppState>>,
    call: Call<String, Reader>,
) -> Answer {
    let gid = call.params.clone();
    let found = state_of(&state.home, &gid).await.map(|s| {
        let names = clusters::clusters(&s).into_iter().map(|(n, _)| n.clone());
        IpAddresses::new(&gid, names.collect::<Vec<_>>())
    });
    Ok(outcome(call.fmt, 200, found))
}

/// `GET /groups/{id}/teams` and the organization's users in the project
/// (`GET /groups/{id}/users`): none offline, an empty page.
pub(super) async fn empty_list(call: Call<String, Reader>) -> Answer {
    let paging = call.paging()?;
    let none: Vec<serde_json::Value> = Vec::new();
    Ok(page(
        call.fmt,
        Page::of(none, paging, &call.url, &call.pairs),
    ))
}

/// `POST /groups/{id}/teams`: Terraform sends `[]` on every update; no
/// team exists offline, so any team named is not found (ours).
pub(super) async fn add_teams(
    State(state): State<Arc<AppState>>,
    call: Call<String, ProjectOwner>,
    body: Body,
) -> Answer {
    let paging = call.paging()?;
    call.body(&state, body, api::parse_no_teams).await?;
    let none: Vec<serde_json::Value> = Vec::new();
    Ok(page(
        call.fmt,
        Page::of(none, paging, &call.url, &call.pairs),
    ))
}

/// `GET /groups/{id}/managedSlowMs`: `true` or `false`.
pub(super) async fn get_managed_slow_ms(
    State(state): State<Arc<AppState>>,
    call: Call<String, Reader>,
) -> Answer {
    let on = state_of(&state.home, &call.params).await;
    Ok(outcome(call.fmt, 200, on.map(|s| s.managed_slow_ms())))
}

/// `POST .../managedSlowMs/enable` and `DELETE .../managedSlowMs/disable`:
/// 204; Project Owner.
async fn switch_slow_ms(state: &AppState, call: Call<String, ProjectOwner>, on: bool) -> Answer {
    let (home, gid) = (state.home.clone(), call.params.clone());
    let switched = blocking(move || {
        project_state::update(&home, &gid, |s| {
            s.set_managed_slow_ms(on);
            Ok(())
        })
    })
    .await;
    Ok(no_content(call.fmt, switched))
}

/// `POST /groups/{id}/managedSlowMs/enable`.
pub(super) async fn enable_slow_ms(
    State(state): State<Arc<AppState>>,
    call: Call<String, ProjectOwner>,
) -> Answer {
    switch_slow_ms(&state, call, true).await
}

/// `DELETE /groups/{id}/managedSlowMs/disable`.
pub(super) async fn disable_slow_ms(
    State(state): State<Arc<AppState>>,
    call: Call<String, ProjectOwner>,
) -> Answer {
    switch_slow_ms(&state, call, false).await
}

/// `GET /groups/{id}/clusters`: the home's local kits for the project, a
/// page; Project Read Only.
pub(super) async fn list_clusters(
    State(state): State<Arc<AppState>>,
    call: Call<String, Reader>,
) -> Answer {
    let paging = call.paging()?;
    let gid = call.params.clone();
    Ok(match state_of(&state.home, &gid).await {
        Ok(s) => {
            let entries: Vec<ClusterEntry> = clusters::clusters(&s)
                .into_iter()
                .map(|(name, kit)| ClusterEntry::new(&gid, name, kit, &call.root))
                .collect();
            page(call.fmt, Page::of(entries, paging, &call.url, &call.pairs))
        }
        Err(e) => failure(call.fmt, e),
    })
}

/// `GET /groups/{id}/clusters/{clusterName}`.
pub(super) async fn get_cluster(
    State(state): State<Arc<AppState>>,
    call: Call<(String, String), Reader>,
) -> Answer {
    let (gid, name) = call.params.clone();
    let found = state_of(&state.home, &gid).await.and_then(|s| {
        clusters::clusters(&s)
            .into_iter()
            .find(|(n, _)| **n == name)
            .map(|(n, kit)| ClusterEntry::new(&gid, n, kit, &call.root))
            .ok_or_else(|| ApiError::new(ErrorCode::ClusterNotFound, &[&name, &gid]).into())
    });
    Ok(outcome(call.fmt, 200, found))
}
