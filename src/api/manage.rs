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
use crate::store::{
    AuthProblem, AuthTypes, AwsIamType, DatabaseUser, Home, Label, LdapAuthType, OidcAuthType,
    Project, Role, Scope, UserDetails, X509Type,
};

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
    /// The project, when the body names it: it must be the one addressed.
    pub group_id: Option<String>,
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
    /// `awsIAMType`.
    pub aws_iam: Option<AwsIamType>,
    /// `ldapAuthType`.
    pub ldap: Option<LdapAuthType>,
    /// `oidcAuthType`.
    pub oidc: Option<OidcAuthType>,
    /// A password, when one was given (checked, never kept).
    pub password: Option<Password>,
}

/// Shortest password Atlas accepts, in characters (the spec's).
pub const MIN_PASSWORD_CHARS: usize = 8;

/// That a password was given, and its length: all a check needs. The
/// password itself is never kept, here or on disk (atlas-ca has no
/// password database).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Password {
    chars: usize,
}

impl Password {
    /// Notes `password`, keeping only its length.
    pub fn given(password: &str) -> Password {
        Password {
            chars: password.chars().count(),
        }
    }
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

    /// The authentication types this spec sets over `old`'s.
    fn auth(&self, old: AuthTypes) -> AuthTypes {
        AuthTypes {
            aws_iam: self.aws_iam.unwrap_or(old.aws_iam),
            ldap: self.ldap.unwrap_or(old.ldap),
            oidc: self.oidc.unwrap_or(old.oidc),
        }
    }
}

/// The project's id and the user as stored after a change.
pub type Changed = (String, DatabaseUser);

/// `POST /groups/{id}/databaseUsers`.
pub fn create_user(home: &Home, group_id: &str, spec: &UserSpec) -> Result<Changed, Error> {
    let mut edit = home.edit_registry()?;
    let (index, project) = locate(&edit, group_id)?;
    check_group(spec, &project)?;
    let username = spec
        .username
        .clone()
        .ok_or_else(|| ApiError::new(ErrorCode::MissingAttribute, &["username"]))?;
    if !is_valid_username(&username) {
        return Err(ApiError::new(ErrorCode::InvalidAttribute, &["username"]).into());
    }
    let x509_type = spec.x509_type.unwrap_or_default();
    let auth = spec.auth(AuthTypes::default());
    let database_name = spec
        .database_name
        .clone()
        .unwrap_or_else(|| auth.databases(x509_type)[0].to_string());
    let user = DatabaseUser {
        username,
        database_name,
        x509_type,
        auth,
        roles: spec.roles.clone().unwrap_or_default(),
        details: spec.details(&UserDetails::default()),
    };
    check_user(&user, spec.password)?;
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
    check_group(spec, &project)?;
    let (at, old) = find_user(&project, database_name, username)?;
    if spec.username.as_ref().is_some_and(|u| u != username) {
        return Err(ApiError::new(ErrorCode::InvalidAttribute, &["username"]).into());
    }
    let x509_type = spec.x509_type.unwrap_or(old.x509_type);
    let auth = spec.auth(old.auth);
    let database_name = match &spec.database_name {
        Some(db) => db.clone(),
        // A change of kind moves the user where that kind lives.
        None if (x509_type, auth) != (old.x509_type, old.auth) => {
            auth.databases(x509_type)[0].to_string()
        }
        None => old.database_name.clone(),
    };
    let new = DatabaseUser {
        username: old.username.clone(),
        database_name,
        x509_type,
        auth,
        roles: spec.roles.clone().unwrap_or_else(|| old.roles.clone()),
        details: spec.details(&old.details),
    };
    check_user(&new, spec.password)?;
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

/// A body's `groupId`, when it has one, names the project addressed
/// (ours: Atlas's path decides, and a body naming another project is
/// more likely a mistake than a wish).
fn check_group(spec: &UserSpec, project: &Project) -> Result<(), ApiError> {
    match &spec.group_id {
        Some(g) if !g.eq_ignore_ascii_case(&project.id) => {
            let note = format!(
                "the body's groupId is not the path's project {}",
                project.id
            );
            Err(ApiError::new(ErrorCode::InvalidAttribute, &["groupId"]).with_note(note))
        }
        _ => Ok(()),
    }
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

/// `user` as Atlas accepts it: at most one authentication type; a name of
/// that type's form; the database that type lives in (X.509, AWS IAM and
/// LDAP users in `$external`, groups in `admin`, password users in either);
/// a password only for a password user outside `$external`, of at least
/// [`MIN_PASSWORD_CHARS`]; each role named, on a database, admin-only
/// roles on `admin`, collections only for `read` and `readWrite`.
fn check_user(user: &DatabaseUser, password: Option<Password>) -> Result<(), ApiError> {
    if let Err(problem) = user
        .auth
        .check(user.x509_type, &user.username, Some(&user.database_name))
    {
        let (attribute, note) = match problem {
            AuthProblem::TwoKinds(first, second) => (
                second,
                format!("{first} and {second} are both set: a user authenticates one way"),
            ),
            AuthProblem::NameForm => ("username", user.auth.name_form().to_string()),
            AuthProblem::Database(databases) => (
                "databaseName",
                format!(
                    "this user's databaseName must be {}",
                    databases.join(" or ")
                ),
            ),
        };
        return Err(ApiError::new(ErrorCode::InvalidAttribute, &[attribute]).with_note(note));
    }
    if let Some(p) = password {
        let scram = user.auth.is_scram(user.x509_type);
        let note = if !scram || user.database_name == "$external" {
            Some("only a password (SCRAM) user in admin has a password".to_string())
        } else if p.chars < MIN_PASSWORD_CHARS {
            Some(format!(
                "a password has at least {MIN_PASSWORD_CHARS} characters"
            ))
        } else {
            None
        };
        if let Some(note) = note {
            return Err(ApiError::new(ErrorCode::InvalidAttribute, &["password"]).with_note(note));
        }
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
            auth: AuthTypes::default(),
            roles,
            details: UserDetails::default(),
        }
    }

    #[test]
    fn kinds_names_databases_and_passwords_are_checked() {
        let with = |auth: AuthTypes, name: &str, db: &str, password: Option<&str>| {
            let mut u = user(X509Type::None, db, vec![]);
            u.auth = auth;
            u.username = name.into();
            check_user(&u, password.map(Password::given)).map_err(|e| e.parameters[0].clone())
        };
        let scram = AuthTypes::default();
        let oidc = AuthTypes {
            oidc: OidcAuthType::IdpGroup,
            ..scram
        };
        let aws = AuthTypes {
            aws_iam: AwsIamType::Role,
            ..scram
        };
        let ldap_group = AuthTypes {
            ldap: LdapAuthType::Group,
            ..scram
        };
        assert_eq!(with(scram, "u", "admin", Some("12345678")), Ok(()));
        assert_eq!(
            with(scram, "u", "admin", Some("1234567")),
            Err("password".into())
        );
        assert_eq!(
            with(scram, "u", "$external", Some("12345678")),
            Err("password".into())
        );
        assert_eq!(with(oidc, "idp/group", "admin", None), Ok(()));
        assert_eq!(
            with(oidc, "idp/group", "admin", Some("12345678")),
            Err("password".into())
        );
        assert_eq!(with(oidc, "group", "admin", None), Err("username".into()));
        assert_eq!(
            with(oidc, "idp/group", "$external", None),
            Err("databaseName".into())
        );
        assert_eq!(
            with(aws, "arn:aws:iam::1:role/r", "$external", None),
            Ok(())
        );
        assert_eq!(
            with(aws, "arn:aws:iam::1:role/r", "admin", None),
            Err("databaseName".into())
        );
        assert_eq!(with(ldap_group, "CN=g,DC=x", "admin", None), Ok(()));
        let both = AuthTypes {
            ldap: LdapAuthType::User,
            ..aws
        };
        assert_eq!(
            with(both, "arn:x", "$external", None),
            Err("ldapAuthType".into())
        );
        let mut managed_aws = user(X509Type::Managed, "$external", vec![]);
        managed_aws.auth = aws;
        assert_eq!(
            check_user(&managed_aws, None).unwrap_err().parameters,
            ["awsIAMType"]
        );
    }

    #[test]
    fn databases_and_roles_are_checked() {
        let ok = |u: &DatabaseUser| check_user(u, None).map_err(|e| e.parameters[0].clone());
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
