//! The one rule set for a valid database user: its kind from Atlas's
//! fields, a name of that kind's form, the database the kind lives in,
//! its roles, description and password. The registry loader and the API
//! both call it, each wording the problem its own way (a file position,
//! an Atlas error).

use super::kind::{AuthFields, Database, KindProblem, UserKind};
use super::text::is_hidden;
use super::user::{DatabaseUser, MAX_DESCRIPTION, Role};

/// Most role grants one user holds (ours: Atlas states none; a bound keeps
/// one write key from growing the registry without end).
pub const MAX_ROLES_PER_USER: usize = 100;

/// Most scopes (clusters and data lakes) one user is limited to (ours, as
/// roles: Atlas states none).
pub const MAX_SCOPES_PER_USER: usize = 100;

/// Most labels one user carries (ours).
pub const MAX_LABELS_PER_USER: usize = 100;

/// Shortest password Atlas accepts, in characters (the spec's).
pub const MIN_PASSWORD_CHARS: usize = 8;

/// MongoDB's longest namespace (`database.collection`), in bytes.
const MAX_NAMESPACE_BYTES: usize = 255;

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

/// Roles that may be limited to one collection.
const COLLECTION_ROLES: [&str; 2] = ["read", "readWrite"];

/// What is wrong with a user, for its caller to word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserProblem {
    /// The name is empty.
    EmptyName,
    /// Two authentication types are set (the first two, by Atlas name).
    TwoKinds(&'static str, &'static str),
    /// The name is not of the kind's form ([`UserKind::name_form`]).
    NameForm(UserKind),
    /// The database is not one the kind lives in: these are.
    Database(&'static [Database]),
    /// The description is over [`MAX_DESCRIPTION`] characters.
    Description,
    /// More than [`MAX_ROLES_PER_USER`] roles.
    TooManyRoles,
    /// More than [`MAX_SCOPES_PER_USER`] scopes.
    TooManyScopes,
    /// More than [`MAX_LABELS_PER_USER`] labels.
    TooManyLabels,
    /// The role at this index is not one MongoDB grants so.
    Role(usize),
    /// A password for a user that has none.
    PasswordNotAllowed,
    /// A password shorter than [`MIN_PASSWORD_CHARS`].
    PasswordTooShort,
}

impl UserProblem {
    /// The Atlas attribute the problem is about.
    pub fn attribute(self) -> &'static str {
        match self {
            UserProblem::EmptyName | UserProblem::NameForm(_) => "username",
            UserProblem::TwoKinds(_, second) => second,
            UserProblem::Database(_) => "databaseName",
            UserProblem::Description => "description",
            UserProblem::TooManyRoles | UserProblem::Role(_) => "roles",
            UserProblem::TooManyScopes => "scopes",
            UserProblem::TooManyLabels => "labels",
            UserProblem::PasswordNotAllowed | UserProblem::PasswordTooShort => "password",
        }
    }

    /// What the rule asks for, in words any caller can use.
    pub fn rule(self) -> String {
        match self {
            UserProblem::EmptyName => "a user has a name".into(),
            UserProblem::TwoKinds(first, second) => {
                format!("{first} and {second} are both set: a user authenticates one way")
            }
            UserProblem::NameForm(kind) => kind.name_form().into(),
            UserProblem::Database(allowed) => {
                let names: Vec<String> =
                    allowed.iter().map(|d| format!("{:?}", d.name())).collect();
                format!("this user's databaseName must be {}", names.join(" or "))
            }
            UserProblem::Description => {
                format!("a description has at most {MAX_DESCRIPTION} characters")
            }
            UserProblem::TooManyRoles => format!("a user has at most {MAX_ROLES_PER_USER} roles"),
            UserProblem::TooManyScopes => {
                format!("a user has at most {MAX_SCOPES_PER_USER} scopes")
            }
            UserProblem::TooManyLabels => {
                format!("a user has at most {MAX_LABELS_PER_USER} labels")
            }
            UserProblem::Role(_) => {
                "a role is a role name on a database (admin-only roles on admin), \
                 limited to a collection only for read and readWrite"
                    .into()
            }
            UserProblem::PasswordNotAllowed => {
                "only a password (SCRAM) user in admin has a password".into()
            }
            UserProblem::PasswordTooShort => {
                format!("a password has at least {MIN_PASSWORD_CHARS} characters")
            }
        }
    }
}

/// The kind Atlas's `fields` name for a user called `name` in `database`
/// (`None`: the kind's default), checked in this order: one type at most,
/// the name's form, the database.
pub fn kind(
    name: &str,
    fields: AuthFields,
    database: Option<&str>,
) -> Result<UserKind, UserProblem> {
    let wrap = |p: KindProblem| match p {
        KindProblem::TwoKinds(a, b) => UserProblem::TwoKinds(a, b),
        KindProblem::Database(allowed) => UserProblem::Database(allowed),
    };
    let default = fields.kind(None).map_err(wrap)?;
    if !default.accepts_name(name) {
        return Err(UserProblem::NameForm(default));
    }
    match database {
        None => Ok(default),
        Some(db) => {
            let db = db
                .parse::<Database>()
                .map_err(|_| UserProblem::Database(fields.databases()))?;
            fields.kind(Some(db)).map_err(wrap)
        }
    }
}

/// Checks what a user holds besides its kind: a name, the description's
/// length, how many roles, scopes and labels, and each role (named, on a
/// database, admin-only roles on `admin`, collections only for `read` and
/// `readWrite`, within MongoDB's namespace length).
pub fn check(user: &DatabaseUser) -> Result<(), UserProblem> {
    if user.username.is_empty() {
        return Err(UserProblem::EmptyName);
    }
    if !user.kind.accepts_name(&user.username) {
        return Err(UserProblem::NameForm(user.kind));
    }
    if user
        .details
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
    {
        return Err(UserProblem::Description);
    }
    if user.roles.len() > MAX_ROLES_PER_USER {
        return Err(UserProblem::TooManyRoles);
    }
    if user.details.scopes.len() > MAX_SCOPES_PER_USER {
        return Err(UserProblem::TooManyScopes);
    }
    if user.details.labels.len() > MAX_LABELS_PER_USER {
        return Err(UserProblem::TooManyLabels);
    }
    match user.roles.iter().position(|r| !is_valid_role(r)) {
        Some(i) => Err(UserProblem::Role(i)),
        None => Ok(()),
    }
}

/// Checks a password of `chars` characters given for a user of `kind`:
/// only password users in `admin` have one, of [`MIN_PASSWORD_CHARS`] or
/// more. The password itself is never kept.
pub fn check_password(kind: UserKind, chars: usize) -> Result<(), UserProblem> {
    if kind != UserKind::Password(Database::Admin) {
        Err(UserProblem::PasswordNotAllowed)
    } else if chars < MIN_PASSWORD_CHARS {
        Err(UserProblem::PasswordTooShort)
    } else {
        Ok(())
    }
}

/// Whether `role` is one MongoDB grants as written.
fn is_valid_role(role: &Role) -> bool {
    let name_ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    let admin_only = ADMIN_ONLY_ROLES.contains(&role.role_name.as_str());
    name_ok(&role.role_name)
        && name_ok(&role.database_name)
        && (!admin_only || role.database_name == "admin")
        && role.collection_name.as_deref().is_none_or(|c| {
            COLLECTION_ROLES.contains(&role.role_name.as_str())
                && !c.is_empty()
                && role.database_name.len() + 1 + c.len() <= MAX_NAMESPACE_BYTES
                && !c.contains('$')
                && !c.chars().any(is_hidden)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::kind::{AwsIamType, LdapAuthType, OidcAuthType, X509Type};
    use crate::model::user::UserDetails;

    fn role(name: &str, db: &str, collection: Option<&str>) -> Role {
        Role {
            collection_name: collection.map(Into::into),
            database_name: db.into(),
            role_name: name.into(),
        }
    }

    fn user(kind: UserKind, roles: Vec<Role>) -> DatabaseUser {
        DatabaseUser {
            username: "u".into(),
            kind,
            roles,
            details: UserDetails::default(),
        }
    }

    #[test]
    fn kinds_are_checked_in_the_order_both_callers_report() {
        let aws = AuthFields {
            aws_iam: Some(AwsIamType::User),
            ..AuthFields::default()
        };
        let both = AuthFields {
            x509: Some(X509Type::Managed),
            ..aws
        };
        assert_eq!(
            kind("ci", both, Some("admin")),
            Err(UserProblem::TwoKinds("x509Type", "awsIAMType"))
        );
        assert_eq!(
            kind("ci", aws, Some("admin")),
            Err(UserProblem::NameForm(UserKind::AwsIam(AwsIamType::User)))
        );
        assert_eq!(
            kind("arn:aws:iam::1:user/ci", aws, Some("admin")),
            Err(UserProblem::Database(&[Database::External]))
        );
        assert_eq!(
            kind("arn:aws:iam::1:user/ci", aws, None),
            Ok(UserKind::AwsIam(AwsIamType::User))
        );
        let scram = AuthFields::default();
        assert_eq!(
            kind("bob", scram, Some("app")),
            Err(UserProblem::Database(&[
                Database::Admin,
                Database::External
            ]))
        );
        let group = AuthFields {
            ldap: Some(LdapAuthType::Group),
            ..AuthFields::default()
        };
        assert_eq!(
            kind("CN=ops", group, Some("$external")),
            Err(UserProblem::Database(&[Database::Admin]))
        );
        let oidc = AuthFields {
            oidc: Some(OidcAuthType::IdpGroup),
            ..AuthFields::default()
        };
        assert_eq!(kind("idp/g", oidc, Some("admin")), Ok(UserKind::OidcGroup));
    }

    #[test]
    fn passwords_only_for_password_users_in_admin() {
        let admin = UserKind::Password(Database::Admin);
        assert_eq!(check_password(admin, 8), Ok(()));
        assert_eq!(check_password(admin, 7), Err(UserProblem::PasswordTooShort));
        for other in [
            UserKind::Password(Database::External),
            UserKind::OidcGroup,
            UserKind::X509(X509Type::Managed),
        ] {
            assert_eq!(
                check_password(other, 20),
                Err(UserProblem::PasswordNotAllowed)
            );
        }
    }

    #[test]
    fn roles_are_checked_as_mongodb_grants_them() {
        let scram = UserKind::Password(Database::Admin);
        let good = vec![
            role("readWrite", "app", Some("orders")),
            role("atlasAdmin", "admin", None),
        ];
        assert_eq!(check(&user(scram, good)), Ok(()));
        let longest = role("read", "d", Some(&"c".repeat(MAX_NAMESPACE_BYTES - 2)));
        assert_eq!(check(&user(scram, vec![longest])), Ok(()));
        let many = vec![role("read", "app", None); MAX_ROLES_PER_USER];
        assert_eq!(check(&user(scram, many.clone())), Ok(()));
        let mut too_many = many;
        too_many.push(role("read", "app", None));
        assert_eq!(
            check(&user(scram, too_many)),
            Err(UserProblem::TooManyRoles)
        );
        for bad in [
            role("", "app", None),
            role("read", "", None),
            role("atlasAdmin", "app", None),
            role("dbAdmin", "app", Some("c")),
            role("read", "app", Some("")),
            role("read", "app", Some("a$b")),
            role("read", "app", Some("a\u{202e}b")),
            role("read", "d", Some(&"c".repeat(MAX_NAMESPACE_BYTES - 1))),
            role("re ad", "app", None),
        ] {
            let with = user(scram, vec![role("read", "app", None), bad.clone()]);
            assert_eq!(check(&with), Err(UserProblem::Role(1)), "{bad:?}");
        }
    }

    #[test]
    fn names_and_descriptions() {
        let mut u = user(UserKind::OidcGroup, vec![]);
        assert_eq!(check(&u), Err(UserProblem::NameForm(UserKind::OidcGroup)));
        u.username = "idp/group".into();
        assert_eq!(check(&u), Ok(()));
        u.details.description = Some("d".repeat(MAX_DESCRIPTION + 1));
        assert_eq!(check(&u), Err(UserProblem::Description));
        u.username.clear();
        assert_eq!(check(&u), Err(UserProblem::EmptyName));
        assert_eq!(UserProblem::Role(3).attribute(), "roles");
    }
}
