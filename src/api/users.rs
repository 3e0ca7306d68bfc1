//! Projects and database users as the Admin API shows them.

use super::atlas_error::{ApiError, ErrorCode};
use super::json::UserEntry;
use crate::model::Project;
use crate::model::is_project_id;
use crate::store::Registry;
use time::OffsetDateTime;

/// Finds the project, with Atlas's errors for a malformed or unknown id.
pub fn project<'r>(registry: &'r Registry, group_id: &str) -> Result<&'r Project, ApiError> {
    project_at(registry, group_id).map(|(_, p)| p)
}

/// [`project`] with its index in file order (where an edit finds it).
pub(crate) fn project_at<'r>(
    registry: &'r Registry,
    group_id: &str,
) -> Result<(usize, &'r Project), ApiError> {
    if !is_project_id(group_id) {
        return Err(ApiError::new(ErrorCode::InvalidGroupId, &[group_id]));
    }
    registry
        .projects
        .iter()
        .enumerate()
        .find(|(_, p)| p.id.eq_ignore_ascii_case(group_id))
        .ok_or_else(|| ApiError::new(ErrorCode::GroupNotFound, &[group_id]))
}

/// `GET .../databaseUsers`: the project's users in the Admin API's shape,
/// their links under `api_root`.
pub fn list_users(
    registry: &Registry,
    group_id: &str,
    api_root: &str,
) -> Result<Vec<UserEntry>, ApiError> {
    let project = project(registry, group_id)?;
    Ok(project
        .users(OffsetDateTime::now_utc())
        .map(|u| UserEntry::new(&project.id, u, api_root))
        .collect())
}

/// `GET .../databaseUsers/{databaseName}/{username}`: one user.
pub fn get_user(
    registry: &Registry,
    group_id: &str,
    database_name: &str,
    username: &str,
    api_root: &str,
) -> Result<UserEntry, ApiError> {
    let project = project(registry, group_id)?;
    project
        .user(username, OffsetDateTime::now_utc())
        .filter(|u| u.database().name() == database_name)
        .map(|u| UserEntry::new(&project.id, u, api_root))
        .ok_or_else(|| ApiError::new(ErrorCode::UsernameNotFound, &[username]))
}
