//! Credentials: programmatic API keys (HTTP Digest) and service accounts
//! (OAuth 2.0 client credentials) are one shape, an id, a secret and the
//! roles they grant, told apart by their kind, which also names their
//! fields as the registry and Atlas write them.

use super::names::atlas_enum;
use super::user::is_project_id;

atlas_enum! {
    /// A programmatic access role, as Atlas names them.
    #[non_exhaustive]
    pub enum KeyRoleName("API key role", Exact) {
        /// Project Owner: everything in the project.
        GroupOwner = "GROUP_OWNER", "Project Owner";
        /// Project Database Access Admin: manages database users and certificates.
        GroupDatabaseAccessAdmin = "GROUP_DATABASE_ACCESS_ADMIN", "Project Database Access Admin";
        /// Project Read Only: may list.
        GroupReadOnly = "GROUP_READ_ONLY", "Project Read Only";
        /// Project Stream Processing Owner: manages database users too
        /// (the spec's `x-rolesRequirements` on the databaseUsers endpoints).
        GroupStreamProcessingOwner = "GROUP_STREAM_PROCESSING_OWNER", "Project Stream Processing Owner";
        /// Project Cluster Manager: reads here.
        GroupClusterManager = "GROUP_CLUSTER_MANAGER", "Project Cluster Manager";
        /// Project Data Access Admin: reads here.
        GroupDataAccessAdmin = "GROUP_DATA_ACCESS_ADMIN", "Project Data Access Admin";
        /// Project Data Access Read Only: reads here.
        GroupDataAccessReadOnly = "GROUP_DATA_ACCESS_READ_ONLY", "Project Data Access Read Only";
        /// Project Data Access Read/Write: reads here.
        GroupDataAccessReadWrite = "GROUP_DATA_ACCESS_READ_WRITE", "Project Data Access Read/Write";
        /// Project Search Index Editor: reads here.
        GroupSearchIndexEditor = "GROUP_SEARCH_INDEX_EDITOR", "Project Search Index Editor";
        /// Project Backup Manager: reads here.
        GroupBackupManager = "GROUP_BACKUP_MANAGER", "Project Backup Manager";
        /// Project Observability Viewer: reads here.
        GroupObservabilityViewer = "GROUP_OBSERVABILITY_VIEWER", "Project Observability Viewer";
        /// Organization Owner: everything in every project.
        OrgOwner = "ORG_OWNER", "Organization Owner (every project)";
    }
}

/// One role of a credential: a project role with its `groupId`, or
/// `ORG_OWNER`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRole {
    /// The role.
    pub role_name: KeyRoleName,
    /// The project it applies to, lower case (`None` for `ORG_OWNER`).
    pub group_id: Option<String>,
}

/// Most credentials of one kind a home holds: API keys, or service
/// accounts (ours: Atlas caps API keys per organization; a bound keeps a
/// project owner from growing the registry without end).
pub const MAX_CREDENTIALS: usize = 500;

/// The index of the first role that repeats an earlier one, if any: a
/// credential holds each role once.
pub fn repeated_role(roles: &[KeyRole]) -> Option<usize> {
    (1..roles.len()).find(|&i| roles[..i].contains(&roles[i]))
}

/// Why a credential's role cannot be granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRoleProblem {
    /// `ORG_OWNER` with a `groupId`.
    OrgRoleInProject,
    /// A project role without a `groupId`.
    ProjectRoleWithoutProject,
    /// A `groupId` that is not a project id.
    NotAProjectId(String),
}

impl KeyRole {
    /// The role `role_name` in project `group_id`, checked: `ORG_OWNER`
    /// in none, every other role in one (its id lower-cased).
    pub fn new(role_name: KeyRoleName, group_id: Option<&str>) -> Result<KeyRole, KeyRoleProblem> {
        match (role_name, group_id) {
            (KeyRoleName::OrgOwner, Some(_)) => Err(KeyRoleProblem::OrgRoleInProject),
            (KeyRoleName::OrgOwner, None) => Ok(KeyRole {
                role_name,
                group_id: None,
            }),
            (_, None) => Err(KeyRoleProblem::ProjectRoleWithoutProject),
            (_, Some(id)) if !is_project_id(id) => Err(KeyRoleProblem::NotAProjectId(id.into())),
            (_, Some(id)) => Ok(KeyRole {
                role_name,
                group_id: Some(id.to_ascii_lowercase()),
            }),
        }
    }

    /// Whether the role applies in project `gid` (ids compare without
    /// regard to case, as project lookups do).
    pub fn is_in(&self, gid: &str) -> bool {
        self.group_id
            .as_deref()
            .is_some_and(|g| g.eq_ignore_ascii_case(gid))
    }
}

/// The two kinds of credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// A programmatic API key: HTTP Digest user name and password.
    ApiKey,
    /// A service account: OAuth 2.0 client id and secret.
    ServiceAccount,
}

/// The names a kind of credential gives its parts, in the registry and
/// in Atlas's bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialFields {
    /// The registry's array of tables (`apiKeys`).
    pub section: &'static str,
    /// The free-text label (`desc`, `name`).
    pub label: &'static str,
    /// The public id (`publicKey`, `clientId`).
    pub id: &'static str,
    /// The secret (`privateKey`, `clientSecret`).
    pub secret: &'static str,
}

impl CredentialKind {
    /// Both kinds.
    pub const ALL: [CredentialKind; 2] = [CredentialKind::ApiKey, CredentialKind::ServiceAccount];

    /// What this kind calls its parts.
    pub const fn fields(self) -> CredentialFields {
        match self {
            CredentialKind::ApiKey => CredentialFields {
                section: "apiKeys",
                label: "desc",
                id: "publicKey",
                secret: "privateKey",
            },
            CredentialKind::ServiceAccount => CredentialFields {
                section: "serviceAccounts",
                label: "name",
                id: "clientId",
                secret: "clientSecret",
            },
        }
    }
}

/// An API key or a service account.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Credential {
    /// Which of the two it is.
    pub kind: CredentialKind,
    /// What it is for (an API key's `desc`, a service account's `name`).
    pub label: Option<String>,
    /// The public id: an API key's public key (the Digest user name), a
    /// service account's client id (`mdb_sa_id_...`).
    pub id: String,
    /// The secret: the Digest password, or the client secret.
    pub secret: String,
    /// What it may do.
    pub roles: Vec<KeyRole>,
    /// A service account's description (`description`), when it has one.
    pub description: Option<String>,
    /// When a service account's secret was made and when it ends, when
    /// recorded; a secret past its end no longer grants tokens.
    pub secret_times: Option<SecretTimes>,
}

/// When a secret was made and when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretTimes {
    /// When it was made.
    pub created: time::OffsetDateTime,
    /// When it ends.
    pub expires: time::OffsetDateTime,
}

impl Credential {
    /// A credential of `kind`.
    pub fn new(
        kind: CredentialKind,
        label: Option<String>,
        id: String,
        secret: String,
        roles: Vec<KeyRole>,
    ) -> Credential {
        Credential {
            kind,
            label,
            id,
            secret,
            roles,
            description: None,
            secret_times: None,
        }
    }

    /// Whether the secret still grants access at `now`.
    pub fn secret_live(&self, now: time::OffsetDateTime) -> bool {
        self.secret_times.is_none_or(|t| now < t.expires)
    }
}

/// Whether `id` may be a credential's id: not empty, and nothing that
/// would need escaping in a Digest header or a message (quotes,
/// backslashes, control characters).
pub fn is_credential_id(id: &str) -> bool {
    !id.is_empty() && !id.contains(['"', '\\']) && !id.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_checked_where_they_are_made() {
        let gid = "5EFDA6AEA3F2ED2E7DD6CE05";
        let r = KeyRole::new(KeyRoleName::GroupOwner, Some(gid)).unwrap();
        assert_eq!(r.group_id.as_deref(), Some("5efda6aea3f2ed2e7dd6ce05"));
        assert!(r.is_in(gid));
        assert_eq!(
            KeyRole::new(KeyRoleName::OrgOwner, Some(gid)),
            Err(KeyRoleProblem::OrgRoleInProject)
        );
        assert_eq!(
            KeyRole::new(KeyRoleName::GroupReadOnly, None),
            Err(KeyRoleProblem::ProjectRoleWithoutProject)
        );
        assert_eq!(
            KeyRole::new(KeyRoleName::GroupReadOnly, Some("x")),
            Err(KeyRoleProblem::NotAProjectId("x".into()))
        );
        assert!("group_owner".parse::<KeyRoleName>().is_err());
    }

    #[test]
    fn ids_are_plain_text() {
        assert!(is_credential_id("mdb_sa_id_0123"));
        for bad in ["", "a\"b", "a\\b", "a\nb"] {
            assert!(!is_credential_id(bad), "{bad:?}");
        }
        assert_eq!(CredentialKind::ServiceAccount.fields().id, "clientId");
    }
}
