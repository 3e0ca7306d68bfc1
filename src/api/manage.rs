//! Managing database users as Atlas does (`POST`, `PATCH` and `DELETE
//! .../databaseUsers`): every check with Atlas's error, then one edit of
//! the registry under its lock. Certificates issued to a deleted user stay
//! in the ledger, so revocation and CRLs keep covering them.

use time::OffsetDateTime;

use super::atlas_error::{ApiError, ErrorCode};
use super::error::Error;
use super::users::project_at;
use crate::pki::{is_hidden, is_valid_username};
use crate::store::registry::MAX_USERS_PER_PROJECT;
use crate::store::registry_edit::Edit;
use crate::store::{DatabaseUser, Home, Label, Project, Role, Scope, UserDetails, X509Type};

/// Roles that exist only on the `admin` database.
const ADMIN_ONLY_ROLES: [&str; 13] = [
    "atlasAdmin",
    "backup",
    "clusterAdmin",
    "clusterManager",
    "clusterMonitor",
    "dbAdminAnyDatabase",
    "enableSharding",
    "hostManager",
    "readAnyDatabase",
    "readWriteAnyDatabase",
    "restore",
    "root",
    "userAdminAnyDatabase",
];

/// Most role grants one user holds (ours: Atlas states none; a bound keeps
/// one write key from growing the registry without end).
pub const MAX_ROLES_PER_USER: usize = 100;

/// MongoDB's longest namespace (`database.collection`), in bytes.
const MAX_NAMESPACE_BYTES: usize = 255;

/// Roles that may be limited to one collection.
const COLLECTION_ROLES: [&str; 2] = ["read", "readWrite"];

/// What a create sets, or an update changes (`None`: as it is; on create,
/// the defaults: `NONE`, `admin` or `$external`, no roles).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserSpec {
    /// The user name (required on create; an update names the user apart).
    pub username: Option<String>,
    /// `admin` or `$external`.
    pub database_name: Option<String>,
    /// How the user authenticates with X.509.
    pub x509_type: Option<X509Type>,
    /// The role grants, replacing the old ones.
    pub roles: Option<Vec<Role>>,
    /// Scopes, replacing the old ones.
    pub scopes: Option<Vec<Scope>>,
    /// Labels, replacing the old ones.
    pub labels: Option<Vec<Label>>,
    /// The description.
    pub description: Option<String>,
    /// When a temporary user is deleted.
    pub delete_after_date: Option<OffsetDateTime>,
}

impl UserSpec {
    /// The details this spec sets over `old`'s.
    fn details(&self, old: &UserDetails) -> UserDetails {
        UserDetails {
            scopes: self.scopes.clone().unwrap_or_else(|| old.scopes.clone()),
            labels: self.labels.clone().unwrap_or_else(|| old.labels.clone()),
            description: self.description.clone().or_else(|| old.description.clone()),
            delete_after_date: self.delete_after_date.or(old.delete_after_date),
        }
    }
}

/// The project's id and the user as stored after a change.
pub type Changed = (String, DatabaseUser);

/// `POST /groups/{id}/databaseUsers`.
pub fn create_user(home: &Home, group_id: &str, spec: &UserSpec) -> Result<Changed, Error> {
    let mut edit = home.edit_registry()?;
    let (index, project) = locate(&edit, group_id)?;
    let username = spec
        .username
        .clone()
        .ok_or_else(|| ApiError::new(ErrorCode::MissingAttribute, &["username"]))?;
    if !is_valid_username(&username) {
        return Err(ApiError::new(ErrorCode::InvalidAttribute, &["username"]).into());
    }
    let x509_type = spec.x509_type.unwrap_or_default();
    let database_name = spec
        .database_name
        .clone()
        .unwrap_or_else(|| x509_type.default_database().to_string());
    let user = DatabaseUser {
        username,
        database_name,
        x509_type,
        roles: spec.roles.clone().unwrap_or_default(),
        details: spec.details(&UserDetails::default()),
    };
    check_user(&user)?;
    if project.user(&user.username).is_some() {
        return Err(
            ApiError::new(ErrorCode::UserAlreadyExists, &[&user.username, &project.id]).into(),
        );
    }
    if project.users().count() >= MAX_USERS_PER_PROJECT {
        return Err(ApiError::new(
            ErrorCode::DatabaseUserLimitExceeded,
            &[&MAX_USERS_PER_PROJECT.to_string()],
        )
        .into());
    }
    let id = project.id.clone();
    // A temporary user past its date is gone: its name is free again, and
    // its table goes as Atlas would have deleted it.
    let now = OffsetDateTime::now_utc();
    if let Some(at) = project
        .database_users
        .iter()
        .position(|u| u.username == user.username && u.is_gone(now))
    {
        edit.remove_user(index, at)?;
    }
    edit.add_user(index, &user)?;
    edit.commit()?;
    Ok((id, user))
}

/// `PATCH /groups/{id}/databaseUsers/{databaseName}/{username}`; without
/// a database (the CLI's `dbusers update`), the user's own.
pub fn update_user(
    home: &Home,
    group_id: &str,
    database_name: Option<&str>,
    username: &str,
    spec: &UserSpec,
) -> Result<Changed, Error> {
    let mut edit = home.edit_registry()?;
    let (index, project) = locate(&edit, group_id)?;
    let (at, old) = find_user(&project, database_name, username)?;
    if spec.username.as_ref().is_some_and(|u| u != username) {
        return Err(ApiError::new(ErrorCode::InvalidAttribute, &["username"]).into());
    }
    let x509_type = spec.x509_type.unwrap_or(old.x509_type);
    let database_name = match &spec.database_name {
        Some(db) => db.clone(),
        // A change of x509Type moves the user where that type lives.
        None if x509_type != old.x509_type => x509_type.default_database().to_string(),
        None => old.database_name.clone(),
    };
    let new = DatabaseUser {
        username: old.username.clone(),
        database_name,
        x509_type,
        roles: spec.roles.clone().unwrap_or_else(|| old.roles.clone()),
        details: spec.details(&old.details),
    };
    check_user(&new)?;
    edit.update_user(index, at, &old, &new)?;
    edit.commit()?;
    Ok((project.id, new))
}

/// `DELETE /groups/{id}/databaseUsers/{databaseName}/{username}`.
pub fn delete_user(
    home: &Home,
    group_id: &str,
    database_name: &str,
    username: &str,
) -> Result<Changed, Error> {
    let mut edit = home.edit_registry()?;
    let (index, project) = locate(&edit, group_id)?;
    let (at, old) = find_user(&project, Some(database_name), username)?;
    edit.remove_user(index, at)?;
    edit.commit()?;
    Ok((project.id, old))
}

/// The project's index in file order and a copy of it.
pub(crate) fn locate(edit: &Edit, group_id: &str) -> Result<(usize, Project), ApiError> {
    let (index, found) = project_at(&edit.registry, group_id)?;
    Ok((index, found.clone()))
}

/// The user named `username` in `database_name` (any, when `None`: names
/// are unique in a project), with its index.
fn find_user(
    project: &Project,
    database_name: Option<&str>,
    username: &str,
) -> Result<(usize, DatabaseUser), ApiError> {
    let now = OffsetDateTime::now_utc();
    project
        .database_users
        .iter()
        .position(|u| {
            u.username == username
                && database_name.is_none_or(|db| u.database_name == db)
                && !u.is_gone(now)
        })
        .map(|i| (i, project.database_users[i].clone()))
        .ok_or_else(|| ApiError::new(ErrorCode::UsernameNotFound, &[username]))
}

/// The database and roles of `user` as Atlas accepts them: X.509 users in
/// `$external`, others in `admin` or `$external`; each role named, on a
/// database, admin-only roles on `admin`, collections only for `read` and
/// `readWrite`.
fn check_user(user: &DatabaseUser) -> Result<(), ApiError> {
    if !user.x509_type.allows_database(&user.database_name) {
        return Err(ApiError::new(
            ErrorCode::InvalidAttribute,
            &["databaseName"],
        ));
    }
    let name_ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    if user.roles.len() > MAX_ROLES_PER_USER {
        return Err(ApiError::new(ErrorCode::InvalidAttribute, &["roles"]));
    }
    for role in &user.roles {
        let admin_only = ADMIN_ONLY_ROLES.contains(&role.role_name.as_str());
        let ok = name_ok(&role.role_name)
            && name_ok(&role.database_name)
            && (!admin_only || role.database_name == "admin")
            && role.collection_name.as_deref().is_none_or(|c| {
                COLLECTION_ROLES.contains(&role.role_name.as_str())
                    && !c.is_empty()
                    && role.database_name.len() + 1 + c.len() <= MAX_NAMESPACE_BYTES
                    && !c.contains('$')
                    && !c.chars().any(is_hidden)
            });
        if !ok {
            return Err(ApiError::new(ErrorCode::InvalidAttribute, &["roles"]));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(name: &str, db: &str, collection: Option<&str>) -> Role {
        Role {
            collection_name: collection.map(String::from),
            database_name: db.into(),
            role_name: name.into(),
        }
    }

    fn user(x509_type: X509Type, db: &str, roles: Vec<Role>) -> DatabaseUser {
        DatabaseUser {
            username: "u".into(),
            database_name: db.into(),
            x509_type,
            roles,
            details: UserDetails::default(),
        }
    }

    #[test]
    fn databases_and_roles_are_checked() {
        let ok = |u: &DatabaseUser| check_user(u).map_err(|e| e.parameters[0].clone());
        assert_eq!(ok(&user(X509Type::Managed, "$external", vec![])), Ok(()));
        assert_eq!(
            ok(&user(X509Type::Managed, "admin", vec![])),
            Err("databaseName".into())
        );
        assert_eq!(ok(&user(X509Type::None, "admin", vec![])), Ok(()));
        assert_eq!(
            ok(&user(X509Type::None, "app", vec![])),
            Err("databaseName".into())
        );
        let good = vec![
            role("atlasAdmin", "admin", None),
            role("readWrite", "app", Some("orders")),
        ];
        assert_eq!(ok(&user(X509Type::Customer, "$external", good)), Ok(()));
        let longest = role("read", "app", Some(&"c".repeat(MAX_NAMESPACE_BYTES - 4)));
        assert_eq!(ok(&user(X509Type::None, "admin", vec![longest])), Ok(()));
        let many = vec![role("read", "app", None); MAX_ROLES_PER_USER];
        assert_eq!(ok(&user(X509Type::None, "admin", many.clone())), Ok(()));
        let mut too_many = many;
        too_many.push(role("read", "app", None));
        assert_eq!(
            ok(&user(X509Type::None, "admin", too_many)),
            Err("roles".into())
        );
        for bad in [
            role("atlasAdmin", "app", None),
            role("dbAdmin", "app", Some("orders")),
            role("", "app", None),
            role("read", "a b", None),
            role("read", "app", Some("")),
            role("read", "app", Some(&"c".repeat(MAX_NAMESPACE_BYTES - 3))),
        ] {
            assert_eq!(
                ok(&user(X509Type::None, "admin", vec![bad.clone()])),
                Err("roles".into()),
                "{bad:?}"
            );
        }
    }
}
