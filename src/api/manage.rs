//! Managing database users as Atlas does (`POST`, `PATCH` and `DELETE
//! .../databaseUsers`): every check with Atlas's error, then one edit of
//! the registry under its lock. Certificates issued to a deleted user stay
//! in the ledger, so revocation and CRLs keep covering them.

use time::OffsetDateTime;

use super::atlas_error::{ApiError, ErrorCode};
use super::error::Error;
use super::users::project_at;
use crate::model::rules::{self, UserProblem};
use crate::model::{
    AuthFields, AwsIamType, DatabaseUser, Label, LdapAuthType, MAX_USERS_PER_PROJECT, OidcAuthType,
    Project, Role, Scope, UserDetails, X509Type, is_valid_username,
};
use crate::store::Home;
use crate::store::registry_edit::Edit;

/// What a create sets, or an update changes (`None`: as it is; on create,
/// the defaults: `NONE`, `admin` or `$external`, no roles).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserSpec {
    /// The user name (required on create; an update names the user apart).
    pub username: Option<String>,
    /// The project, when the body names it: it must be the one addressed.
    pub group_id: Option<String>,
    /// `admin` or `$external`, as the client wrote it (checked against
    /// the user's kind).
    pub database_name: Option<String>,
    /// `x509Type` (`Some(None)`: `NONE`).
    pub x509_type: Option<Option<X509Type>>,
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
    /// `awsIAMType` (`Some(None)`: `NONE`).
    pub aws_iam: Option<Option<AwsIamType>>,
    /// `ldapAuthType` (`Some(None)`: `NONE`).
    pub ldap: Option<Option<LdapAuthType>>,
    /// `oidcAuthType` (`Some(None)`: `NONE`).
    pub oidc: Option<Option<OidcAuthType>>,
    /// A password, when one was given (checked, never kept).
    pub password: Option<Password>,
}

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

    /// The authentication fields this spec sets over `old`'s.
    fn fields(&self, old: AuthFields) -> AuthFields {
        AuthFields {
            x509: self.x509_type.unwrap_or(old.x509),
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
    let fields = spec.fields(AuthFields::default());
    let kind = rules::kind(&username, fields, spec.database_name.as_deref()).map_err(atlas)?;
    let user = DatabaseUser {
        username,
        kind,
        roles: spec.roles.clone().unwrap_or_default(),
        details: spec.details(&UserDetails::default()),
    };
    check_user(&user, spec.password)?;
    let now = OffsetDateTime::now_utc();
    if project.user(&user.username, now).is_some() {
        return Err(
            ApiError::new(ErrorCode::UserAlreadyExists, &[&user.username, &project.id]).into(),
        );
    }
    if project.users(now).count() >= MAX_USERS_PER_PROJECT {
        return Err(ApiError::new(
            ErrorCode::DatabaseUserLimitExceeded,
            &[&MAX_USERS_PER_PROJECT.to_string()],
        )
        .into());
    }
    let id = project.id.clone();
    // A temporary user past its date is gone: its name is free again, and
    // its table goes as Atlas would have deleted it.
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
    // Atlas keeps a user's kind and database for good: a PATCH that would
    // change either is refused (the Atlas CLI sends `x509Type: NONE` on
    // every update, so an X.509 user is never turned into another kind).
    let fields = spec.fields(old.kind.fields());
    let moved = spec
        .database_name
        .as_deref()
        .is_some_and(|db| db != old.database().name());
    if fields != old.kind.fields() || moved {
        let note = format!(
            "{} is {} in {}: a user's kind and database never change; delete it and create it anew",
            old.username,
            kind_words(&old),
            old.database().name()
        );
        return Err(
            ApiError::new(ErrorCode::DatabaseUsernameCannotBeChanged, &[])
                .with_note(note)
                .into(),
        );
    }
    let kind = old.kind;
    let new = DatabaseUser {
        username: old.username.clone(),
        kind,
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
    // Atlas answers a DELETE of a user that does not exist with its own
    // code (the Kubernetes operator reads it as "already deleted").
    let (at, old) = find_user(&project, Some(database_name), username)
        .map_err(|_| ApiError::new(ErrorCode::UserNotFound, &[username]))?;
    edit.remove_user(index, at)?;
    edit.commit()?;
    Ok((project.id, old))
}

/// A user's kind as its Atlas fields say it (`x509Type MANAGED`, or a
/// password user).
fn kind_words(user: &DatabaseUser) -> String {
    let f = user.kind.fields();
    let set: Vec<String> = [
        ("x509Type", f.x509.map(|t| t.name())),
        ("awsIAMType", f.aws_iam.map(|t| t.name())),
        ("ldapAuthType", f.ldap.map(|t| t.name())),
        ("oidcAuthType", f.oidc.map(|t| t.name())),
    ]
    .into_iter()
    .filter_map(|(field, v)| v.map(|v| format!("{field} {v}")))
    .collect();
    if set.is_empty() {
        "a password user".into()
    } else {
        set.join(", ")
    }
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
                && database_name.is_none_or(|db| u.database().name() == db)
                && !u.is_gone(now)
        })
        .map(|i| (i, project.database_users[i].clone()))
        .ok_or_else(|| ApiError::new(ErrorCode::UsernameNotFound, &[username]))
}

/// `user` as Atlas accepts it, its kind already checked: a password only
/// for a password user in `admin`, long enough; then the model's rules
/// (name, description, roles).
fn check_user(user: &DatabaseUser, password: Option<Password>) -> Result<(), ApiError> {
    if let Some(p) = password {
        rules::check_password(user.kind, p.chars).map_err(atlas)?;
    }
    rules::check(user).map_err(atlas)
}

/// A rule's problem as Atlas's error: the attribute it is about, and what
/// the rule asks for as a note.
fn atlas(problem: UserProblem) -> ApiError {
    let e = ApiError::new(ErrorCode::InvalidAttribute, &[problem.attribute()]);
    match problem {
        UserProblem::TooManyRoles | UserProblem::Role(_) => e,
        _ => e.with_note(problem.rule()),
    }
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

    fn user(fields: AuthFields, name: &str, db: &str, roles: Vec<Role>) -> Result<(), String> {
        let kind =
            rules::kind(name, fields, Some(db)).map_err(|e| atlas(e).parameters[0].clone())?;
        let u = DatabaseUser {
            username: name.into(),
            kind,
            roles,
            details: UserDetails::default(),
        };
        check_user(&u, None).map_err(|e| e.parameters[0].clone())
    }

    #[test]
    fn kinds_names_databases_and_passwords_are_checked() {
        let with = |fields: AuthFields, name: &str, db: &str, password: Option<&str>| {
            let kind =
                rules::kind(name, fields, Some(db)).map_err(|e| atlas(e).parameters[0].clone())?;
            let u = DatabaseUser {
                username: name.into(),
                kind,
                roles: vec![],
                details: UserDetails::default(),
            };
            check_user(&u, password.map(Password::given)).map_err(|e| e.parameters[0].clone())
        };
        let scram = AuthFields::default();
        let oidc = AuthFields {
            oidc: Some(OidcAuthType::IdpGroup),
            ..scram
        };
        let aws = AuthFields {
            aws_iam: Some(AwsIamType::Role),
            ..scram
        };
        let ldap_group = AuthFields {
            ldap: Some(LdapAuthType::Group),
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
        let both = AuthFields {
            ldap: Some(LdapAuthType::User),
            ..aws
        };
        assert_eq!(
            with(both, "arn:x", "$external", None),
            Err("ldapAuthType".into())
        );
        let managed_aws = AuthFields {
            x509: Some(X509Type::Managed),
            ..aws
        };
        assert_eq!(
            with(managed_aws, "arn:x", "$external", None),
            Err("awsIAMType".into())
        );
    }

    #[test]
    fn databases_and_roles_are_checked() {
        let managed = AuthFields {
            x509: Some(X509Type::Managed),
            ..AuthFields::default()
        };
        let customer = AuthFields {
            x509: Some(X509Type::Customer),
            ..AuthFields::default()
        };
        let scram = AuthFields::default();
        assert_eq!(user(managed, "u", "$external", vec![]), Ok(()));
        assert_eq!(
            user(managed, "u", "admin", vec![]),
            Err("databaseName".into())
        );
        assert_eq!(user(scram, "u", "admin", vec![]), Ok(()));
        assert_eq!(user(scram, "u", "app", vec![]), Err("databaseName".into()));
        let good = vec![
            role("atlasAdmin", "admin", None),
            role("readWrite", "app", Some("orders")),
        ];
        assert_eq!(user(customer, "u", "$external", good), Ok(()));
        let too_many = vec![role("read", "app", None); rules::MAX_ROLES_PER_USER + 1];
        assert_eq!(user(scram, "u", "admin", too_many), Err("roles".into()));
        let bad = role("atlasAdmin", "app", None);
        assert_eq!(user(scram, "u", "admin", vec![bad]), Err("roles".into()));
    }
}
