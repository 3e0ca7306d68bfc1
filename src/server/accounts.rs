//! Service accounts over HTTP, version 2024-08-05: at the organization
//! (`/orgs/{orgId}/serviceAccounts`, Organization Owner) and in a project
//! (`/groups/{groupId}/serviceAccounts`: reads any project role, changes
//! Project Owner). Create answers 201 with the secret once; lists are
//! paged; delete and a secret's removal answer 204.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;

use super::call::{Call, Org, OrgItem, OrgKey, OrgOwner, ProjectOwner, Reader, blocking};
use super::respond::{Answer, Fmt, Refused, failure, outcome, page, respond};
use super::state::AppState;
use crate::api::keys::check_org;
use crate::api::service_accounts::{
    self as accounts, AccountEntry, Scope, SecretEntry, parse_account_body, parse_secret_body,
    secret_id,
};
use crate::api::{ApiError, Error, ErrorCode, Page};
use crate::model::Credential;
use crate::store::{Home, Registry};

type Owned = (Option<String>, String);

/// The scope a path names: `None` for the organization.
fn scope(group: &Option<String>) -> Scope<'_> {
    group.as_deref().map_or(Scope::Org, Scope::Project)
}

/// The organization's check: the registry's only, else Atlas's error as
/// the answer.
fn org_ok<P, N>(call: &Call<P, N>, org: &str) -> Result<(), Refused> {
    check_org(&call.registry, org).map_err(|e| Refused::from(failure(call.fmt, e.into())))
}

fn no_content(fmt: Fmt, result: Result<Credential, Error>) -> Response {
    match result {
        Ok(_) => respond(204, fmt.version.content_type(), Body::empty()),
        Err(e) => failure(fmt, e),
    }
}

/// Runs `op` on the account in `group` (the organization for `None`) on
/// a blocking thread; answers `status` with the account as that scope shows
/// it (its secret whole when `reveal`).
async fn account_answer(
    state: &AppState,
    fmt: Fmt,
    status: u16,
    group: Option<String>,
    reveal: bool,
    op: impl for<'a> FnOnce(&Home, Scope<'a>) -> Result<Credential, Error> + Send + 'static,
) -> Response {
    let home = state.home.clone();
    let done = blocking(move || op(&home, scope(&group)).map(|a| (group, a))).await;
    outcome(
        fmt,
        status,
        done.map(|(group, a)| AccountEntry::new(&a, scope(&group), reveal)),
    )
}

/// Creates the account `new` in `group`: 201 with the secret once.
async fn create(
    state: &AppState,
    fmt: Fmt,
    group: Option<String>,
    new: accounts::NewAccount,
) -> Response {
    account_answer(state, fmt, 201, group, true, move |home, scope| {
        accounts::create_in(home, scope, &new)
    })
    .await
}

/// `POST /orgs/{orgId}/serviceAccounts`.
pub(super) async fn create_org(
    State(state): State<Arc<AppState>>,
    call: Call<Org, OrgOwner>,
    body: Body,
) -> Answer {
    org_ok(&call, &call.params.0)?;
    let new = call.body(&state, body, parse_account_body).await?;
    Ok(create(&state, call.fmt, None, new).await)
}

/// `POST /groups/{groupId}/serviceAccounts`.
pub(super) async fn create_group(
    State(state): State<Arc<AppState>>,
    call: Call<String, ProjectOwner>,
    body: Body,
) -> Answer {
    let new = call.body(&state, body, parse_account_body).await?;
    Ok(create(&state, call.fmt, Some(call.params.clone()), new).await)
}

/// A paged list of what `scope` sees, secrets masked.
fn list<P, N>(call: &Call<P, N>, group: &Option<String>) -> Answer {
    let paging = call.paging()?;
    let entries: Vec<AccountEntry> = accounts::accounts(&call.registry, scope(group))
        .into_iter()
        .map(|a| AccountEntry::new(a, scope(group), false))
        .collect();
    Ok(page(
        call.fmt,
        Page::of(entries, paging, &call.url, &call.pairs),
    ))
}

/// `GET /orgs/{orgId}/serviceAccounts`.
pub(super) async fn list_org(call: Call<Org, OrgOwner>) -> Answer {
    org_ok(&call, &call.params.0)?;
    list(&call, &None)
}

/// `GET /groups/{groupId}/serviceAccounts`.
pub(super) async fn list_group(call: Call<String, Reader>) -> Answer {
    let group = Some(call.params.clone());
    list(&call, &group)
}

/// One account as `owned` sees it.
fn get(registry: &Registry, (group, id): &Owned) -> Result<AccountEntry, Error> {
    let account = accounts::find(registry, scope(group), id)?;
    Ok(AccountEntry::new(account, scope(group), false))
}

/// `GET /orgs/{orgId}/serviceAccounts/{clientId}`.
pub(super) async fn get_org(call: Call<OrgKey, OrgOwner>) -> Answer {
    let OrgKey(org, id) = &call.params;
    org_ok(&call, org)?;
    let found = get(&call.registry, &(None, id.clone()));
    Ok(outcome(call.fmt, 200, found))
}

/// `GET /groups/{groupId}/serviceAccounts/{clientId}`.
pub(super) async fn get_group(call: Call<(String, String), Reader>) -> Answer {
    let (gid, id) = call.params.clone();
    Ok(outcome(
        call.fmt,
        200,
        get(&call.registry, &(Some(gid), id)),
    ))
}

/// Updates the account `owned` names: 200 with it.
async fn update(
    state: &AppState,
    fmt: Fmt,
    owned: Owned,
    patch: accounts::AccountPatch,
) -> Response {
    let (group, id) = owned;
    account_answer(state, fmt, 200, group, false, move |home, scope| {
        accounts::update(home, scope, &id, &patch)
    })
    .await
}

/// `PATCH /orgs/{orgId}/serviceAccounts/{clientId}`.
pub(super) async fn patch_org(
    State(state): State<Arc<AppState>>,
    call: Call<OrgKey, OrgOwner>,
    body: Body,
) -> Answer {
    org_ok(&call, &call.params.0)?;
    let patch = call.body(&state, body, accounts::parse_patch_body).await?;
    let owned = (None, call.params.1.clone());
    Ok(update(&state, call.fmt, owned, patch).await)
}

/// `PATCH /groups/{groupId}/serviceAccounts/{clientId}`.
pub(super) async fn patch_group(
    State(state): State<Arc<AppState>>,
    call: Call<(String, String), ProjectOwner>,
    body: Body,
) -> Answer {
    let patch = call.body(&state, body, accounts::parse_patch_body).await?;
    let owned = (Some(call.params.0.clone()), call.params.1.clone());
    Ok(update(&state, call.fmt, owned, patch).await)
}

/// Deletes in the scope `owned` names.
async fn delete(state: &AppState, fmt: Fmt, owned: Owned) -> Response {
    let home = state.home.clone();
    let (group, id) = owned;
    no_content(
        fmt,
        blocking(move || accounts::delete(&home, scope(&group), &id)).await,
    )
}

/// `DELETE /orgs/{orgId}/serviceAccounts/{clientId}`: 204.
pub(super) async fn delete_org(
    State(state): State<Arc<AppState>>,
    call: Call<OrgKey, OrgOwner>,
) -> Answer {
    org_ok(&call, &call.params.0)?;
    let id = call.params.1.clone();
    Ok(delete(&state, call.fmt, (None, id)).await)
}

/// `DELETE /groups/{groupId}/serviceAccounts/{clientId}`: 204.
pub(super) async fn delete_group(
    State(state): State<Arc<AppState>>,
    call: Call<(String, String), ProjectOwner>,
) -> Answer {
    let (gid, id) = call.params;
    Ok(delete(&state, call.fmt, (Some(gid), id)).await)
}

/// A new secret for the account `owned` names: 201 with it whole.
async fn new_secret(state: &AppState, fmt: Fmt, owned: Owned, hours: i64) -> Response {
    let home = state.home.clone();
    let (group, id) = owned;
    let made = blocking(move || accounts::new_secret(&home, scope(&group), &id, hours)).await;
    outcome(fmt, 201, made.map(|a| SecretEntry::new(&a, true)))
}

/// `POST /orgs/{orgId}/serviceAccounts/{clientId}/secrets`.
pub(super) async fn secret_org(
    State(state): State<Arc<AppState>>,
    call: Call<OrgKey, OrgOwner>,
    body: Body,
) -> Answer {
    org_ok(&call, &call.params.0)?;
    let hours = call.body(&state, body, parse_secret_body).await?;
    let owned = (None, call.params.1.clone());
    Ok(new_secret(&state, call.fmt, owned, hours).await)
}

/// `POST /groups/{groupId}/serviceAccounts/{clientId}/secrets`.
pub(super) async fn secret_group(
    State(state): State<Arc<AppState>>,
    call: Call<(String, String), ProjectOwner>,
    body: Body,
) -> Answer {
    let hours = call.body(&state, body, parse_secret_body).await?;
    let owned = (Some(call.params.0.clone()), call.params.1.clone());
    Ok(new_secret(&state, call.fmt, owned, hours).await)
}

/// A secret's removal: an account keeps its one secret here (ours: make
/// a new one, which replaces it), so the current one is refused and any
/// other is not found.
fn remove_secret(registry: &Registry, owned: &Owned, secret: &str) -> Result<Credential, Error> {
    let (group, id) = owned;
    let account = accounts::find(registry, scope(group), id)?;
    let code = if secret_id(&account.secret) == secret {
        ErrorCode::LastSecret
    } else {
        ErrorCode::SecretNotFound
    };
    Err(ApiError::new(code, &[secret]).into())
}

/// `DELETE /orgs/{orgId}/serviceAccounts/{clientId}/secrets/{secretId}`.
pub(super) async fn delete_secret_org(call: Call<OrgItem, OrgOwner>) -> Answer {
    let OrgItem(org, id, secret) = &call.params;
    org_ok(&call, org)?;
    let result = remove_secret(&call.registry, &(None, id.clone()), secret);
    Ok(no_content(call.fmt, result))
}

/// `DELETE /groups/{groupId}/serviceAccounts/{clientId}/secrets/{secretId}`.
pub(super) async fn delete_secret_group(
    call: Call<(String, String, String), ProjectOwner>,
) -> Answer {
    let (gid, id, secret) = &call.params;
    let owned = (Some(gid.clone()), id.clone());
    Ok(no_content(
        call.fmt,
        remove_secret(&call.registry, &owned, secret),
    ))
}
