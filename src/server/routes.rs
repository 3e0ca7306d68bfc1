//! The HTTP endpoints, under `/api/atlas/v1.0` and `/api/atlas/v2`. Each
//! one authenticates before reading any body, then hands the request to
//! the API model; every response gets Atlas's rate-limit headers and a log
//! line.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderValue, Method};
use axum::middleware;
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};

use super::access::{Allowance, ORG_KEYS_RATE_LIMIT, USERS_RATE_LIMIT};
use super::accounts;
use super::call::{Call, ProjectOwner, Reader, blocking, log_and_rate, resource_not_found};
use super::keys;
use super::manage;
use super::oauth;
use super::ocsp;
use super::project;
use super::respond::{
    ACCOUNTS, Answer, CLUSTERS, FLEX, GROUP_USERS, Version, api_error, entity, failure, fmt_of,
    outcome, page, query_pairs, respond,
};
use super::state::AppState;
use crate::api::{self, ApiError, CreateCert, Error, ErrorCode, Page};
use crate::issuing::{Fresh, KeySource};

pub(super) fn router(state: Arc<AppState>) -> Router {
    let api = |v: Version| {
        Router::new()
            .route("/", get(manage::system_status))
            .route("/groups/byName/{name}", get(manage::get_group_by_name))
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
            // Atlas's allowance on the database user endpoints (their
            // certificates aside): the routes above; the rest have the
            // default.
            .route_layer(Extension(Allowance(
                USERS_RATE_LIMIT,
                Some("databaseUsers"),
            )))
            .route(
                "/groups",
                get(manage::list_groups).post(manage::create_group),
            )
            .route(
                "/groups/{gid}",
                get(manage::get_group)
                    .patch(manage::patch_group)
                    .delete(manage::delete_group),
            )
            .route(
                "/groups/{gid}/apiKeys",
                get(keys::list_keys).post(keys::create_key),
            )
            .route(
                "/groups/{gid}/apiKeys/{id}",
                axum::routing::delete(keys::delete_key)
                    .patch(keys::assign_key)
                    .post(keys::add_key),
            )
            .route(
                "/groups/{gid}/userSecurity",
                get(manage::get_security).patch(manage::patch_security),
            )
            .route(
                "/groups/{gid}/userSecurity/customerX509",
                axum::routing::delete(manage::disable_customer_x509),
            )
            .route(
                "/groups/{gid}/userSecurity/ldap/userToDNMapping",
                axum::routing::delete(manage::clear_dn_mapping),
            )
            .route(
                "/groups/{gid}/settings",
                get(project::get_settings).patch(project::patch_settings),
            )
            .route("/groups/{gid}/limits", get(project::list_limits))
            .route(
                "/groups/{gid}/limits/{name}",
                get(project::get_limit)
                    .patch(project::patch_limit)
                    .delete(project::delete_limit),
            )
            .route("/groups/{gid}/ipAddresses", get(project::ip_addresses))
            .route(
                "/groups/{gid}/teams",
                get(project::empty_list).post(project::add_teams),
            )
            .route(
                "/groups/{gid}/managedSlowMs",
                get(project::get_managed_slow_ms),
            )
            .route(
                "/groups/{gid}/managedSlowMs/enable",
                axum::routing::post(project::enable_slow_ms),
            )
            .route(
                "/groups/{gid}/managedSlowMs/disable",
                axum::routing::delete(project::disable_slow_ms),
            )
            .route(
                "/groups/{gid}/databaseUsers/{first}/certs",
                get(list_certs).post(create_cert),
            )
            .merge(versioned())
            .layer(Extension(v))
    };
    Router::new()
        .route("/api/oauth/token", axum::routing::post(oauth::token))
        .route("/api/oauth/revoke", axum::routing::post(oauth::revoke))
        .route("/ocsp", axum::routing::post(ocsp::post))
        .route("/ocsp/{*request}", get(ocsp::get))
        .nest("/api/atlas/v1.0", api(Version::V1))
        .nest("/api/atlas/v2", api(Version::V2_FIRST))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), log_and_rate))
        .with_state(state)
}

/// The resources whose versions are not 2023-01-01 only, each with its
/// own (the spec's).
fn versioned() -> Router<Arc<AppState>> {
    let clusters = Router::new()
        .route("/groups/{gid}/clusters", get(project::list_clusters))
        .route("/groups/{gid}/clusters/{name}", get(project::get_cluster))
        .route_layer(Extension(CLUSTERS));
    let flex = Router::new()
        .route("/groups/{gid}/flexClusters", get(project::empty_list))
        .route_layer(Extension(FLEX));
    let users = Router::new()
        .route("/groups/{gid}/users", get(project::empty_list))
        .route_layer(Extension(GROUP_USERS));
    let accounts = Router::new()
        .route(
            "/orgs/{org}/serviceAccounts",
            get(accounts::list_org).post(accounts::create_org),
        )
        .route(
            "/orgs/{org}/serviceAccounts/{id}",
            get(accounts::get_org)
                .patch(accounts::patch_org)
                .delete(accounts::delete_org),
        )
        .route(
            "/orgs/{org}/serviceAccounts/{id}/secrets",
            axum::routing::post(accounts::secret_org),
        )
        .route(
            "/orgs/{org}/serviceAccounts/{id}/secrets/{secret}",
            axum::routing::delete(accounts::delete_secret_org),
        )
        .route(
            "/groups/{gid}/serviceAccounts",
            get(accounts::list_group).post(accounts::create_group),
        )
        .route(
            "/groups/{gid}/serviceAccounts/{id}",
            get(accounts::get_group)
                .patch(accounts::patch_group)
                .delete(accounts::delete_group),
        )
        .route(
            "/groups/{gid}/serviceAccounts/{id}/secrets",
            axum::routing::post(accounts::secret_group),
        )
        .route(
            "/groups/{gid}/serviceAccounts/{id}/secrets/{secret}",
            axum::routing::delete(accounts::delete_secret_group),
        )
        .route_layer(Extension(ACCOUNTS));
    let org_keys = Router::new()
        .route(
            "/orgs/{org}/apiKeys/{id}",
            get(keys::get_org_key).delete(keys::delete_org_key),
        )
        .route_layer(Extension(Allowance(ORG_KEYS_RATE_LIMIT, None)));
    clusters
        .merge(flex)
        .merge(users)
        .merge(accounts)
        .merge(org_keys)
}

async fn create_cert(
    State(state): State<Arc<AppState>>,
    call: Call<(String, String), ProjectOwner>,
    body: Body,
) -> Answer {
    let months = call.body(&state, body, api::parse_create_body).await?;
    let (fmt, registry, (gid, username)) = (call.fmt, call.registry, call.params);
    let mut request = CreateCert::new(&gid, &username);
    request.months_until_expiration = months;
    request.key_type = state.key_type;
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
            let content_type = fmt.version.content_type();
            let mut response = if fmt.envelope {
                entity(fmt, 201, created.pem, content_type)
            } else {
                respond(201, content_type, created.pem)
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

async fn list_certs(
    State(state): State<Arc<AppState>>,
    call: Call<(String, String), Reader>,
) -> Answer {
    let paging = call.paging()?;
    let home = state.home.clone();
    let ((gid, username), registry) = (call.params, call.registry);
    Ok(
        match blocking(move || api::list_certs(&home, &registry, &gid, &username, false)).await {
            Ok(records) => page(
                call.fmt,
                api::cert_page(&records, paging, &call.url, &call.pairs),
            ),
            Err(e) => failure(call.fmt, e),
        },
    )
}

async fn list_users(call: Call<String, Reader>) -> Answer {
    let paging = call.paging()?;
    Ok(
        match api::users::list_users(&call.registry, &call.params, &call.root) {
            Ok(users) => page(call.fmt, Page::of(users, paging, &call.url, &call.pairs)),
            Err(e) => api_error(call.fmt, &e),
        },
    )
}

async fn get_user(call: Call<(String, String, String), Reader>) -> Answer {
    let (gid, database_name, username) = &call.params;
    let user = api::users::get_user(&call.registry, gid, database_name, username, &call.root);
    Ok(outcome(call.fmt, 200, user.map_err(Error::from)))
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
