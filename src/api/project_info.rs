//! The project reads Terraform's `mongodbatlas_project` makes after every
//! create and read (`/limits`, `/ipAddresses`, `/teams`, `/users`), with
//! what is true offline: the limits of the spec's table with their usage,
//! no teams, no organization users, and the addresses of the project's
//! local clusters (none are public).

use serde::Serialize;

use super::atlas_error::{ApiError, ErrorCode};
use super::clusters::clusters;
use super::error::Error;
use super::project_state::{self, ProjectState};
use super::users::project;
use crate::model::Project;
use crate::store::{Home, Registry};

/// A project limit: name, the value Atlas starts with, the most it may be
/// set to (the spec's table for `getGroupLimit`).
const LIMITS: [(&str, i64, i64); 8] = [
    ("atlas.project.deployment.clusters", 25, 100),
    ("atlas.project.deployment.nodesPerPrivateLinkRegion", 50, 90),
    (
        "atlas.project.security.databaseAccess.customRoles",
        100,
        1400,
    ),
    ("atlas.project.security.databaseAccess.users", 100, 100),
    (
        "atlas.project.security.networkAccess.crossRegionEntries",
        40,
        220,
    ),
    // The spec's table gives 20 as the override limit, below the default;
    // the default is the most here (ours).
    ("atlas.project.security.networkAccess.entries", 200, 200),
    (
        "atlas.project.deployment.privateServiceConnectionsPerRegionGroup",
        50,
        100,
    ),
    (
        "atlas.project.deployment.privateServiceConnectionsSubnetMask",
        27,
        27,
    ),
];

/// One limit as `GET /groups/{id}/limits` answers it (keys in Atlas's
/// alphabetical order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Limit {
    current_usage: i64,
    default_limit: i64,
    maximum_limit: i64,
    name: &'static str,
    value: i64,
}

/// What a limit counts in `project`, with `clusters` local clusters.
fn usage(name: &str, project: &Project, clusters: usize) -> i64 {
    let count = match name {
        "atlas.project.deployment.clusters" => clusters,
        "atlas.project.security.databaseAccess.users" => {
            project.users(time::OffsetDateTime::now_utc()).count()
        }
        _ => 0,
    };
    i64::try_from(count).unwrap_or(i64::MAX)
}

fn limit_of(
    (name, default, max): (&'static str, i64, i64),
    state: &ProjectState,
    project: &Project,
) -> Limit {
    Limit {
        current_usage: usage(name, project, clusters(state).len()),
        default_limit: default,
        maximum_limit: max,
        name,
        value: state.limit(name).unwrap_or(default),
    }
}

/// The table row of the limit `name`, or Atlas's 404 for an unknown one.
fn known(name: &str) -> Result<(&'static str, i64, i64), ApiError> {
    LIMITS
        .iter()
        .copied()
        .find(|(n, _, _)| *n == name)
        .ok_or_else(|| ApiError::new(ErrorCode::LimitNotFound, &[name]))
}

/// `GET /groups/{id}/limits`: every limit, a bare array.
pub fn limits(home: &Home, registry: &Registry, group_id: &str) -> Result<Vec<Limit>, Error> {
    let project = project(registry, group_id)?;
    let state = project_state::load(home, group_id)?;
    Ok(LIMITS
        .iter()
        .map(|row| limit_of(*row, &state, project))
        .collect())
}

/// `GET /groups/{id}/limits/{name}`.
pub fn limit(home: &Home, registry: &Registry, group_id: &str, name: &str) -> Result<Limit, Error> {
    let project = project(registry, group_id)?;
    let row = known(name)?;
    let state = project_state::load(home, group_id)?;
    Ok(limit_of(row, &state, project))
}

/// `PATCH /groups/{id}/limits/{name}` (`Some(value)`: 1 to the limit's
/// maximum) and `DELETE` (`None`: back to the default).
pub fn set_limit(
    home: &Home,
    group_id: &str,
    name: &str,
    value: Option<i64>,
) -> Result<Limit, Error> {
    let row = known(name)?;
    if let Some(v) = value
        && !(1..=row.2).contains(&v)
    {
        let most = row.2.to_string();
        return Err(ApiError::new(ErrorCode::LimitOutOfRange, &[name, &most]).into());
    }
    let state = project_state::update(home, group_id, |s| {
        s.set_limit(name, value);
        Ok(())
    })?;
    let registry = home.registry()?;
    Ok(limit_of(row, &state, project(&registry, group_id)?))
}

/// Parses a limit PATCH body: `value`, and the `name` it repeats (the
/// caller compares it with the path's).
pub fn parse_limit_body(body: &[u8]) -> Result<(Option<String>, i64), ApiError> {
    let (mut name, mut value) = (None, None);
    for (key, v) in super::request::parse_settings_body(body)? {
        let bad = || ApiError::new(ErrorCode::InvalidJsonAttribute, &[&key]);
        match key.as_str() {
            "value" => value = Some(v.as_i64().ok_or_else(bad)?),
            "name" => name = Some(v.as_str().map(String::from).ok_or_else(bad)?),
            "currentUsage" | "defaultLimit" | "maximumLimit" => {}
            k => return Err(ApiError::new(ErrorCode::InvalidAttribute, &[k])),
        }
    }
    let value = value.ok_or_else(|| ApiError::new(ErrorCode::MissingAttribute, &["value"]))?;
    Ok((name, value))
}

/// `GET /groups/{id}/ipAddresses`: the project's local clusters, none
/// with a public address (ours: Atlas lists its clusters' cloud addresses).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IpAddresses {
    group_id: String,
    services: Services,
}

#[derive(Debug, Clone, Serialize)]
struct Services {
    clusters: Vec<ClusterAddresses>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct ClusterAddresses {
    cluster_name: String,
    future_inbound: Vec<String>,
    future_outbound: Vec<String>,
    inbound: Vec<String>,
    outbound: Vec<String>,
}

impl IpAddresses {
    /// The addresses of the clusters named `clusters` in `group_id`.
    pub fn new(group_id: &str, clusters: impl IntoIterator<Item = String>) -> IpAddresses {
        IpAddresses {
            group_id: group_id.to_string(),
            services: Services {
                clusters: clusters
                    .into_iter()
                    .map(|cluster_name| ClusterAddresses {
                        cluster_name,
                        future_inbound: Vec::new(),
                        future_outbound: Vec::new(),
                        inbound: Vec::new(),
                        outbound: Vec::new(),
                    })
                    .collect(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_bodies() {
        let parse = |b: &str| parse_limit_body(b.as_bytes());
        assert_eq!(
            parse(r#"{"name":"n","value":30}"#),
            Ok((Some("n".into()), 30))
        );
        assert_eq!(
            parse(r#"{"value":"x"}"#).unwrap_err().code,
            ErrorCode::InvalidJsonAttribute
        );
        assert_eq!(
            parse(r#"{"colour":1}"#).unwrap_err().code,
            ErrorCode::InvalidAttribute
        );
        assert_eq!(parse("{}").unwrap_err().code, ErrorCode::MissingAttribute);
        assert_eq!(known("nope").unwrap_err().code, ErrorCode::LimitNotFound);
    }
}
