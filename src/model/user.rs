//! What Atlas calls a project and a database user: plain values, valid by
//! construction where a type can say it, checked by [`super::rules`] where
//! it cannot.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::kind::{Database, UserKind};
use super::names::atlas_enum;

/// Atlas allows at most this many database users in one project.
pub const MAX_USERS_PER_PROJECT: usize = 100;

/// Longest user description, in characters (the spec's).
pub const MAX_DESCRIPTION: usize = 100;

/// A database role grant, as the Admin API spells it (fields in the
/// alphabetical order Atlas serializes them).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Role {
    /// Optional collection the role is limited to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection_name: Option<String>,
    /// The database the role applies to.
    pub database_name: String,
    /// The role, for example `readWrite`.
    pub role_name: String,
}

impl Role {
    /// Whether the role holds on a whole database (not one collection):
    /// what MongoDB's built-in roles, and so role grants, can say.
    pub fn is_database_wide(&self) -> bool {
        self.collection_name.is_none()
    }
}

atlas_enum! {
    /// What a scope names (Atlas's scope `type`).
    pub enum ScopeKind("scope type", Exact) {
        /// A cluster.
        Cluster = "CLUSTER", "a cluster";
        /// A data lake (Atlas Data Federation).
        DataLake = "DATA_LAKE", "a data lake (Atlas Data Federation)";
    }
}

/// A cluster or data lake a user is limited to (Atlas's `scopes`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// The cluster's or data lake's name.
    pub name: String,
    /// `CLUSTER` or `DATA_LAKE`.
    #[serde(rename = "type")]
    pub kind: ScopeKind,
}

/// A key-value label on a user, or a tag on a project.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Label {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

/// What Atlas stores about a user beyond authentication and roles, and
/// echoes: scopes, labels, a description and the time a temporary user
/// is deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserDetails {
    /// Clusters and data lakes the user is limited to (none: all).
    pub scopes: Vec<Scope>,
    /// Key-value labels.
    pub labels: Vec<Label>,
    /// A description, at most [`MAX_DESCRIPTION`] characters.
    pub description: Option<String>,
    /// When Atlas deletes a temporary user.
    pub delete_after_date: Option<OffsetDateTime>,
}

/// One database user of a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseUser {
    /// The user name; for X.509 users the certificate's CN.
    pub username: String,
    /// How the user authenticates, and so where it lives.
    pub kind: UserKind,
    /// The user's role grants.
    pub roles: Vec<Role>,
    /// Scopes, labels, description, deletion time.
    pub details: UserDetails,
}

impl DatabaseUser {
    /// Where the user lives.
    pub fn database(&self) -> Database {
        self.kind.database()
    }

    /// Whether a temporary user's deleteAfterDate has passed at `now`.
    pub fn is_gone(&self, now: OffsetDateTime) -> bool {
        self.details.delete_after_date.is_some_and(|at| at <= now)
    }

    /// Whether atlas-ca issues this user's certificates (`MANAGED`).
    pub fn is_managed_x509(&self) -> bool {
        self.kind.x509() == Some(super::kind::X509Type::Managed)
    }
}

/// One Atlas project (group): the unit that owns a CA and database users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The 24-hex-character project id.
    pub id: String,
    /// Optional human-readable name.
    pub name: Option<String>,
    /// The project uses self-managed ("advanced") X.509: Atlas will not issue.
    pub self_managed_x509: bool,
    /// Per-user limit on unexpired certificates; `None` means no limit.
    pub max_certs_per_user: Option<u32>,
    /// The project's database users, deleted temporary ones included.
    pub database_users: Vec<DatabaseUser>,
    /// The organization the project belongs to (24 hex), when recorded.
    pub org_id: Option<String>,
    /// When the project was created, when recorded.
    pub created: Option<OffsetDateTime>,
    /// Key-value tags (Atlas's resource tags).
    pub tags: Vec<Label>,
}

impl Project {
    /// The database user with this exact name that exists at `now`, if any
    /// (a temporary user past its deleteAfterDate is gone, as on Atlas).
    pub fn user(&self, username: &str, now: OffsetDateTime) -> Option<&DatabaseUser> {
        self.users(now).find(|u| u.username == username)
    }

    /// The users that exist at `now`: those without a deleteAfterDate, or
    /// before it.
    pub fn users(&self, now: OffsetDateTime) -> impl Iterator<Item = &DatabaseUser> {
        self.database_users.iter().filter(move |u| !u.is_gone(now))
    }
}

/// True when `id` has the form of an Atlas project id: 24 hexadecimal digits.
pub fn is_project_id(id: &str) -> bool {
    id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A user certificate's lifetime in months: Atlas's
/// `monthsUntilExpiration`, 1 to 24.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Months(u8);

impl Months {
    /// The longest lifetime Atlas issues.
    pub const MAX: Months = Months(24);
    /// Atlas's default lifetime.
    pub const DEFAULT: Months = Months(3);

    /// `n` months, when `n` is 1 to 24.
    pub fn new(n: i64) -> Option<Months> {
        u8::try_from(n)
            .ok()
            .filter(|n| (1..=Months::MAX.0).contains(n))
            .map(Months)
    }

    /// The number of months.
    pub const fn get(self) -> u32 {
        self.0 as u32
    }
}

impl Default for Months {
    fn default() -> Months {
        Months::DEFAULT
    }
}

impl std::fmt::Display for Months {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_hold_one_to_twenty_four() {
        assert_eq!(Months::new(0), None);
        assert_eq!(Months::new(-3), None);
        assert_eq!(Months::new(25), None);
        assert_eq!(Months::new(i64::MAX), None);
        assert_eq!(Months::new(1).map(Months::get), Some(1));
        assert_eq!(Months::new(24), Some(Months::MAX));
        assert_eq!(Months::default().get(), 3);
    }

    #[test]
    fn gone_users_are_not_users() {
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(10);
        let user = |name: &str, gone: Option<i64>| DatabaseUser {
            username: name.into(),
            kind: UserKind::Password(Database::Admin),
            roles: vec![],
            details: UserDetails {
                delete_after_date: gone
                    .map(|d| OffsetDateTime::UNIX_EPOCH + time::Duration::days(d)),
                ..UserDetails::default()
            },
        };
        let p = Project {
            id: "5efda6aea3f2ed2e7dd6ce05".into(),
            name: None,
            self_managed_x509: false,
            max_certs_per_user: None,
            database_users: vec![user("a", None), user("b", Some(10)), user("c", Some(11))],
            org_id: None,
            created: None,
            tags: vec![],
        };
        let names: Vec<&str> = p.users(now).map(|u| u.username.as_str()).collect();
        assert_eq!(names, ["a", "c"]);
        assert!(p.user("b", now).is_none());
        assert!(p.user("b", now - time::Duration::days(1)).is_some());
    }
}
