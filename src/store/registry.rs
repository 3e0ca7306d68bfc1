//! The registry: the projects and database users that Atlas would hold, read
//! from a TOML file whose field names follow the Atlas Admin API.
//!
//! Every problem is reported with the file, line and column it comes from, so
//! a typo in `users.toml` is an error that points at itself, never a silently
//! ignored key.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::auth::{AuthProblem, AuthTypes, AwsIamType, LdapAuthType, OidcAuthType};

/// Atlas allows at most this many database users in one project.
pub const MAX_USERS_PER_PROJECT: usize = 100;

/// How a database user authenticates with X.509, as the Admin API's `x509Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "UPPERCASE")]
#[non_exhaustive]
pub enum X509Type {
    /// No X.509 authentication (password users).
    #[default]
    None,
    /// Atlas-managed X.509: Atlas (here: atlas-ca) issues the certificates.
    Managed,
    /// Self-managed X.509: the customer's own CA issues the certificates.
    Customer,
}

impl X509Type {
    /// Every type, in the order help texts list them.
    pub const ALL: [X509Type; 3] = [X509Type::None, X509Type::Managed, X509Type::Customer];

    /// The type's name, as Atlas spells it (and serde reads and writes it).
    pub fn name(self) -> &'static str {
        match self {
            X509Type::None => "NONE",
            X509Type::Managed => "MANAGED",
            X509Type::Customer => "CUSTOMER",
        }
    }

    /// One line on what the type means.
    pub fn about(self) -> &'static str {
        match self {
            X509Type::None => "Password (SCRAM) users",
            X509Type::Managed => "Atlas-managed X.509: atlas-ca issues the certificates",
            X509Type::Customer => "Customer-managed X.509: the project's customer CAs issue them",
        }
    }
}

/// A role grant, as the Admin API spells it (fields in the alphabetical
/// order Atlas serializes them).
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

/// What a scope names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ScopeKind {
    /// A cluster.
    Cluster,
    /// A data lake (Atlas Data Federation).
    DataLake,
}

/// A key-value label on a user (Atlas's `labels`).
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
    pub delete_after_date: Option<time::OffsetDateTime>,
}

/// Longest user description, in characters (the spec's).
pub const MAX_DESCRIPTION: usize = 100;

/// One database user of a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseUser {
    /// The user name; for X.509 users the certificate's CN.
    pub username: String,
    /// `admin` or `$external` (X.509 users live in `$external`).
    pub database_name: String,
    /// How the user authenticates with X.509.
    pub x509_type: X509Type,
    /// How the user authenticates otherwise (AWS IAM, LDAP, OIDC).
    pub auth: AuthTypes,
    /// The user's role grants.
    pub roles: Vec<Role>,
    /// Scopes, labels, description, deletion time.
    pub details: UserDetails,
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
    /// The project's database users.
    pub database_users: Vec<DatabaseUser>,
    /// The organization the project belongs to (24 hex), when recorded.
    pub org_id: Option<String>,
    /// When the project was created, when recorded.
    pub created: Option<time::OffsetDateTime>,
    /// Key-value tags (Atlas's resource tags).
    pub tags: Vec<Label>,
}

impl Project {
    /// The database user with this exact name, if any (a temporary user
    /// past its deleteAfterDate is gone, as on Atlas).
    pub fn user(&self, username: &str) -> Option<&DatabaseUser> {
        self.users().find(|u| u.username == username)
    }

    /// The users that exist now: those without a deleteAfterDate, or
    /// before it.
    pub fn users(&self) -> impl Iterator<Item = &DatabaseUser> {
        let now = time::OffsetDateTime::now_utc();
        self.database_users.iter().filter(move |u| !u.is_gone(now))
    }
}

impl DatabaseUser {
    /// Whether a temporary user's deleteAfterDate has passed at `now`.
    pub fn is_gone(&self, now: time::OffsetDateTime) -> bool {
        self.details.delete_after_date.is_some_and(|at| at <= now)
    }
}

/// A programmatic API key role, as Atlas names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum KeyRoleName {
    /// Project Owner: everything in the project.
    GroupOwner,
    /// Project Database Access Admin: manages database users and certificates.
    GroupDatabaseAccessAdmin,
    /// Project Read Only: may list.
    GroupReadOnly,
    /// Organization Owner: everything in every project.
    OrgOwner,
}

impl KeyRoleName {
    /// Every role, in the order help texts list them.
    pub const ALL: [KeyRoleName; 4] = [
        KeyRoleName::GroupOwner,
        KeyRoleName::GroupDatabaseAccessAdmin,
        KeyRoleName::GroupReadOnly,
        KeyRoleName::OrgOwner,
    ];

    /// The role's name, as Atlas spells it (and serde reads it).
    pub fn name(self) -> &'static str {
        match self {
            KeyRoleName::GroupOwner => "GROUP_OWNER",
            KeyRoleName::GroupDatabaseAccessAdmin => "GROUP_DATABASE_ACCESS_ADMIN",
            KeyRoleName::GroupReadOnly => "GROUP_READ_ONLY",
            KeyRoleName::OrgOwner => "ORG_OWNER",
        }
    }

    /// One line on what the role may do.
    pub fn about(self) -> &'static str {
        match self {
            KeyRoleName::GroupOwner => "Project Owner",
            KeyRoleName::GroupDatabaseAccessAdmin => "Project Database Access Admin",
            KeyRoleName::GroupReadOnly => "Project Read Only",
            KeyRoleName::OrgOwner => "Organization Owner (every project)",
        }
    }
}

impl std::str::FromStr for KeyRoleName {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<KeyRoleName, UnknownName> {
        by_name(KeyRoleName::ALL, KeyRoleName::name, s).ok_or_else(|| UnknownName {
            what: "API key role",
            name: s.to_string(),
        })
    }
}

/// A name that none of a type's values has (a role, an X.509 type).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {name:?}")]
pub struct UnknownName {
    /// What kind of name it is.
    pub what: &'static str,
    /// The name.
    pub name: String,
}

/// The value of `all` whose `name` is `s`, exactly.
fn by_name<T: Copy, const N: usize>(
    all: [T; N],
    name: fn(T) -> &'static str,
    s: &str,
) -> Option<T> {
    all.into_iter().find(|t| name(*t) == s)
}

/// One role of an API key: a project role with its `groupId`, or `ORG_OWNER`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRole {
    /// The role.
    pub role_name: KeyRoleName,
    /// The project it applies to (`None` for `ORG_OWNER`).
    pub group_id: Option<String>,
}

impl KeyRole {
    /// Whether the role applies in project `gid` (ids compare without
    /// regard to case, as project lookups do).
    pub fn is_in(&self, gid: &str) -> bool {
        self.group_id
            .as_deref()
            .is_some_and(|g| g.eq_ignore_ascii_case(gid))
    }
}

/// A programmatic API key: the HTTP Digest user name and password.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiKey {
    /// What the key is for, as Atlas's `desc`.
    pub desc: Option<String>,
    /// The public key (Digest user name).
    pub public_key: String,
    /// The private key (Digest password).
    pub private_key: String,
    /// What the key may do.
    pub roles: Vec<KeyRole>,
}

/// A service account: OAuth 2.0 client credentials that
/// `POST /api/oauth/token` exchanges for a bearer token with its roles.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceAccount {
    /// Its name.
    pub name: Option<String>,
    /// The client id (`mdb_sa_id_...`).
    pub client_id: String,
    /// The client secret (`mdb_sa_sk_...`).
    pub client_secret: String,
    /// What its tokens may do.
    pub roles: Vec<KeyRole>,
}

/// A parsed and validated registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    /// The projects in file order.
    pub projects: Vec<Project>,
    /// The API keys the server accepts.
    pub api_keys: Vec<ApiKey>,
    /// The service accounts (OAuth 2.0 client credentials).
    pub service_accounts: Vec<ServiceAccount>,
}

/// Why a registry could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The file could not be read.
    #[error("cannot read registry {}: {source}", path.display())]
    Read {
        /// The registry file.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The registry could not be written (or its lock taken).
    #[error("cannot write registry {}: {source}", path.display())]
    Write {
        /// The registry or its lock file.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A registry is already there (`init` never replaces one).
    #[error("a registry already exists at {}; it is left as it is", path.display())]
    Exists {
        /// The registry file.
        path: PathBuf,
    },
    /// The registry is valid but written in a form atlas-ca does not edit.
    #[error("cannot edit registry {}: {what}; edit it by hand", path.display())]
    NotEditable {
        /// The registry file.
        path: PathBuf,
        /// What stands in the way.
        what: String,
    },
    /// The file was read but is not a valid registry.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Invalid {
        /// The registry file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column (in characters) of the problem.
        column: usize,
        /// What is wrong.
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawRegistry {
    #[serde(default)]
    projects: Vec<RawProject>,
    #[serde(default)]
    api_keys: Vec<RawApiKey>,
    #[serde(default)]
    service_accounts: Vec<RawServiceAccount>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawServiceAccount {
    name: Option<String>,
    client_id: Spanned<String>,
    client_secret: Spanned<String>,
    #[serde(default)]
    roles: Vec<Spanned<RawKeyRole>>,
}

/// What the two kinds of credentials call their id and secret.
struct Labels {
    id: &'static str,
    secret: &'static str,
}

const API_KEY_LABELS: Labels = Labels {
    id: "publicKey",
    secret: "privateKey",
};
const SERVICE_ACCOUNT_LABELS: Labels = Labels {
    id: "clientId",
    secret: "clientSecret",
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawApiKey {
    desc: Option<String>,
    public_key: Spanned<String>,
    private_key: Spanned<String>,
    #[serde(default)]
    roles: Vec<Spanned<RawKeyRole>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawKeyRole {
    role_name: KeyRoleName,
    group_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawProject {
    id: Spanned<String>,
    name: Option<String>,
    #[serde(default, rename = "selfManagedX509")]
    self_managed_x509: bool,
    max_certs_per_user: Option<Spanned<u32>>,
    org_id: Option<Spanned<String>>,
    created: Option<Spanned<String>>,
    #[serde(default)]
    tags: Vec<Label>,
    #[serde(default)]
    database_users: Vec<Spanned<RawUser>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawUser {
    username: Spanned<String>,
    database_name: Option<Spanned<String>>,
    #[serde(default, rename = "x509Type")]
    x509_type: X509Type,
    #[serde(default, rename = "awsIAMType")]
    aws_iam_type: AwsIamType,
    #[serde(default)]
    ldap_auth_type: LdapAuthType,
    #[serde(default)]
    oidc_auth_type: OidcAuthType,
    #[serde(default)]
    roles: Vec<Role>,
    #[serde(default)]
    scopes: Vec<Scope>,
    #[serde(default)]
    labels: Vec<Label>,
    description: Option<Spanned<String>>,
    delete_after_date: Option<Spanned<String>>,
}

/// True when `id` has the form of an Atlas project id: 24 hexadecimal digits.
pub fn is_project_id(id: &str) -> bool {
    id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Registry {
    /// Reads and validates the registry at `path`.
    pub fn load(path: &Path) -> Result<Registry, RegistryError> {
        Registry::parse(&read_text(path)?, path)
    }

    /// Parses and validates registry text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Registry, RegistryError> {
        let raw: RawRegistry = toml::from_str(text).map_err(|e| {
            let at = e.span().map_or(0, |s| s.start);
            invalid(path, text, at, e.message().trim_end())
        })?;
        let fail = |at: usize, message: String| invalid(path, text, at, &message);
        let mut projects: Vec<Project> = Vec::with_capacity(raw.projects.len());
        for p in raw.projects {
            let project = project(p, &projects, &fail)?;
            projects.push(project);
        }
        let api_keys = credentials(raw.api_keys, &fail, &API_KEY_LABELS)?;
        let accounts = raw
            .service_accounts
            .into_iter()
            .map(|a| RawApiKey {
                desc: a.name,
                public_key: a.client_id,
                private_key: a.client_secret,
                roles: a.roles,
            })
            .collect();
        let service_accounts = credentials(accounts, &fail, &SERVICE_ACCOUNT_LABELS)?
            .into_iter()
            .map(|k| ServiceAccount {
                name: k.desc,
                client_id: k.public_key,
                client_secret: k.private_key,
                roles: k.roles,
            })
            .collect();
        Ok(Registry {
            projects,
            api_keys,
            service_accounts,
        })
    }

    /// The service account with this client id, if any.
    pub fn service_account(&self, client_id: &str) -> Option<&ServiceAccount> {
        self.service_accounts
            .iter()
            .find(|a| a.client_id == client_id)
    }

    /// The API key with this public key, if any.
    pub fn api_key(&self, public_key: &str) -> Option<&ApiKey> {
        self.api_keys.iter().find(|k| k.public_key == public_key)
    }

    /// The project with this id (compared without regard to case).
    pub fn project(&self, id: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.id.eq_ignore_ascii_case(id))
    }
}

/// The registry file's text; invalid UTF-8 is an error at its position.
pub(crate) fn read_text(path: &Path) -> Result<String, RegistryError> {
    let bytes = std::fs::read(path).map_err(|source| RegistryError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let valid = &bytes[..e.utf8_error().valid_up_to()];
        // The prefix is valid UTF-8 by definition of `valid_up_to`.
        let text = std::str::from_utf8(valid).unwrap_or_default();
        invalid(path, text, text.len(), "the file is not valid UTF-8")
    })
}

/// Reports a problem at a byte offset of the registry text.
type Fail<'a> = &'a dyn Fn(usize, String) -> RegistryError;

/// Validates one project against those before it.
fn project(p: RawProject, before: &[Project], fail: Fail<'_>) -> Result<Project, RegistryError> {
    let id = p.id.get_ref();
    if !is_project_id(id) || id.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(fail(
            p.id.span().start,
            format!(
                "project id {} must be 24 lowercase hexadecimal characters",
                quoted(id)
            ),
        ));
    }
    if before.iter().any(|q| &q.id == id) {
        return Err(fail(
            p.id.span().start,
            format!("duplicate project id {id}"),
        ));
    }
    if let Some(max) = &p.max_certs_per_user
        && *max.get_ref() == 0
    {
        return Err(fail(
            max.span().start,
            "maxCertsPerUser must be at least 1 (leave it out for no limit)".into(),
        ));
    }
    let mut users: Vec<DatabaseUser> = Vec::with_capacity(p.database_users.len());
    for spanned in p.database_users {
        let at = spanned.span().start;
        if users.len() == MAX_USERS_PER_PROJECT {
            return Err(fail(
                at,
                format!("project {id} has more than {MAX_USERS_PER_PROJECT} database users"),
            ));
        }
        let user = user(spanned.into_inner(), id, &users, fail)?;
        users.push(user);
    }
    if let Some(org) = &p.org_id
        && !is_project_id(org.get_ref())
    {
        return Err(fail(
            org.span().start,
            format!(
                "orgId {} must be 24 hexadecimal characters",
                quoted(org.get_ref())
            ),
        ));
    }
    let created = instant("created", p.created, fail)?;
    Ok(Project {
        id: p.id.into_inner(),
        name: p.name,
        self_managed_x509: p.self_managed_x509,
        max_certs_per_user: p.max_certs_per_user.map(Spanned::into_inner),
        database_users: users,
        org_id: p.org_id.map(Spanned::into_inner),
        created,
        tags: p.tags,
    })
}

/// An optional RFC 3339 time of the registry, or the error at its place.
fn instant(
    field: &str,
    text: Option<Spanned<String>>,
    fail: Fail<'_>,
) -> Result<Option<time::OffsetDateTime>, RegistryError> {
    let Some(t) = text else {
        return Ok(None);
    };
    time::OffsetDateTime::parse(t.get_ref(), &time::format_description::well_known::Rfc3339)
        .map(Some)
        .map_err(|_| {
            fail(
                t.span().start,
                format!("{field} {} is not an RFC 3339 time", quoted(t.get_ref())),
            )
        })
}

/// Validates one database user of project `id` against those before it.
fn user(
    u: RawUser,
    id: &str,
    before: &[DatabaseUser],
    fail: Fail<'_>,
) -> Result<DatabaseUser, RegistryError> {
    let name = u.username.get_ref();
    if name.is_empty() {
        return Err(fail(u.username.span().start, "username is empty".into()));
    }
    if before.iter().any(|v| &v.username == name) {
        return Err(fail(
            u.username.span().start,
            format!("duplicate username {} in project {id}", quoted(name)),
        ));
    }
    let auth = AuthTypes {
        aws_iam: u.aws_iam_type,
        ldap: u.ldap_auth_type,
        oidc: u.oidc_auth_type,
    };
    let db = u.database_name.as_ref();
    match auth.check(u.x509_type, name, db.map(|d| d.get_ref().as_str())) {
        Ok(()) => {}
        Err(AuthProblem::TwoKinds(first, second)) => {
            return Err(fail(
                u.username.span().start,
                format!(
                    "user {} sets {first} and {second}: at most one of x509Type, awsIAMType, ldapAuthType and oidcAuthType",
                    quoted(name)
                ),
            ));
        }
        Err(AuthProblem::NameForm) => {
            return Err(fail(
                u.username.span().start,
                format!("username {}: {}", quoted(name), auth.name_form()),
            ));
        }
        Err(AuthProblem::Database(databases)) => {
            // `check` names a database only when one was given.
            let at = db.map_or(u.username.span().start, |d| d.span().start);
            let want: Vec<String> = databases.iter().map(|d| format!("{d:?}")).collect();
            return Err(fail(
                at,
                format!(
                    "databaseName {} of user {} must be {}",
                    quoted(db.map_or("", |d| d.get_ref().as_str())),
                    quoted(name),
                    want.join(" or ")
                ),
            ));
        }
    }
    let database_name = match u.database_name {
        Some(db) => db.into_inner(),
        None => auth.databases(u.x509_type)[0].to_string(),
    };
    let description = match u.description {
        Some(d) if d.get_ref().chars().count() > MAX_DESCRIPTION => {
            return Err(fail(
                d.span().start,
                format!(
                    "description of user {} is over {MAX_DESCRIPTION} characters",
                    quoted(name)
                ),
            ));
        }
        d => d.map(Spanned::into_inner),
    };
    let delete_after_date = instant("deleteAfterDate", u.delete_after_date, fail)?;
    Ok(DatabaseUser {
        username: u.username.into_inner(),
        database_name,
        x509_type: u.x509_type,
        auth,
        roles: u.roles,
        details: UserDetails {
            scopes: u.scopes,
            labels: u.labels,
            description,
            delete_after_date,
        },
    })
}

/// Validates API keys (or service accounts, with their `labels`).
fn credentials(
    raw: Vec<RawApiKey>,
    fail: Fail<'_>,
    labels: &Labels,
) -> Result<Vec<ApiKey>, RegistryError> {
    let mut keys: Vec<ApiKey> = Vec::with_capacity(raw.len());
    for k in raw {
        let public = k.public_key.get_ref();
        if public.is_empty() || public.contains(['"', '\\']) || public.chars().any(char::is_control)
        {
            return Err(fail(
                k.public_key.span().start,
                format!(
                    "{} must be non-empty, without quotes, backslashes or control characters",
                    labels.id
                ),
            ));
        }
        if keys.iter().any(|other| &other.public_key == public) {
            return Err(fail(
                k.public_key.span().start,
                format!("duplicate {} {}", labels.id, quoted(public)),
            ));
        }
        if k.private_key.get_ref().is_empty() {
            return Err(fail(
                k.private_key.span().start,
                format!("{} is empty", labels.secret),
            ));
        }
        let mut roles = Vec::with_capacity(k.roles.len());
        for r in k.roles {
            let at = r.span().start;
            let r = r.into_inner();
            match (r.role_name, &r.group_id) {
                (KeyRoleName::OrgOwner, Some(_)) => {
                    return Err(fail(
                        at,
                        "ORG_OWNER applies to every project: remove its groupId".into(),
                    ));
                }
                (KeyRoleName::OrgOwner, None) => {}
                (_, None) => return Err(fail(at, "a project role needs a groupId".into())),
                (_, Some(id)) if !is_project_id(id) => {
                    return Err(fail(
                        at,
                        format!(
                            "groupId {} is not a 24-hex-character project id",
                            quoted(id)
                        ),
                    ));
                }
                (_, Some(_)) => {}
            }
            roles.push(KeyRole {
                role_name: r.role_name,
                group_id: r.group_id.map(|g| g.to_ascii_lowercase()),
            });
        }
        keys.push(ApiKey {
            desc: k.desc,
            public_key: k.public_key.into_inner(),
            private_key: k.private_key.into_inner(),
            roles,
        });
    }
    Ok(keys)
}

/// `s` quoted for a message, cut to a readable length.
fn quoted(s: &str) -> String {
    const MAX: usize = 64;
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{:?}... ({} characters)", &s[..cut], s.chars().count()),
        None => format!("{s:?}"),
    }
}

fn invalid(path: &Path, text: &str, at: usize, message: &str) -> RegistryError {
    let (line, column) = line_column(text, at);
    RegistryError::Invalid {
        path: path.to_path_buf(),
        line,
        column,
        message: message.to_string(),
    }
}

/// 1-based line and character column of byte offset `at` in `text`.
pub(crate) fn line_column(text: &str, at: usize) -> (usize, usize) {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

impl fmt::Display for X509Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for X509Type {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<X509Type, UnknownName> {
        by_name(X509Type::ALL, X509Type::name, s).ok_or_else(|| UnknownName {
            what: "x509Type",
            name: s.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for r in KeyRoleName::ALL {
            assert_eq!(r.name().parse::<KeyRoleName>(), Ok(r));
            let toml = format!("role = \"{}\"", r.name());
            #[derive(Deserialize)]
            struct One {
                role: KeyRoleName,
            }
            assert_eq!(toml::from_str::<One>(&toml).unwrap().role, r);
        }
        for t in X509Type::ALL {
            assert_eq!(t.name().parse::<X509Type>(), Ok(t));
            assert_eq!(
                serde_json::to_string(&t).unwrap(),
                format!("\"{}\"", t.name())
            );
            assert_eq!(t.to_string(), t.name());
        }
        assert!("group_owner".parse::<KeyRoleName>().is_err());
        assert!("managed".parse::<X509Type>().is_err());
    }

    fn err(text: &str) -> (usize, usize, String) {
        match Registry::parse(text, Path::new("r.toml")) {
            Err(RegistryError::Invalid {
                line,
                column,
                message,
                ..
            }) => (line, column, message),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    const P: &str = "[[projects]]\nid = \"5efda6aea3f2ed2e7dd6ce05\"\n";

    #[test]
    fn parses_users_with_defaults() {
        let text = format!(
            "{P}[[projects.databaseUsers]]\nusername = \"alice\"\nx509Type = \"MANAGED\"\n\
             roles = [{{ roleName = \"readWrite\", databaseName = \"app\" }}]\n\
             [[projects.databaseUsers]]\nusername = \"bob\"\n\
             [[projects.databaseUsers]]\nusername = \"CN=ops,DC=example\"\nldapAuthType = \"GROUP\"\n\
             [[projects.databaseUsers]]\nusername = \"CN=ann,DC=example\"\nldapAuthType = \"USER\"\n"
        );
        let r = Registry::parse(&text, Path::new("r.toml")).unwrap();
        let p = r.project("5EFDA6AEA3F2ED2E7DD6CE05").unwrap();
        assert_eq!(p.user("alice").unwrap().database_name, "$external");
        assert_eq!(p.user("alice").unwrap().roles[0].role_name, "readWrite");
        assert_eq!(p.user("bob").unwrap().database_name, "admin");
        assert_eq!(p.user("bob").unwrap().x509_type, X509Type::None);
        let group = p.user("CN=ops,DC=example").unwrap();
        assert_eq!(
            (group.auth.ldap, group.database_name.as_str()),
            (LdapAuthType::Group, "admin")
        );
        assert_eq!(
            p.user("CN=ann,DC=example").unwrap().database_name,
            "$external"
        );
    }

    #[test]
    fn unknown_key_points_at_itself() {
        let text =
            format!("{P}[[projects.databaseUsers]]\nusername = \"a\"\nx509type = \"MANAGED\"\n");
        let (line, column, message) = err(&text);
        assert_eq!((line, column), (5, 1));
        assert!(message.contains("x509type"), "{message}");
    }

    #[test]
    fn semantic_errors_have_positions() {
        let cases = [
            (
                "[[projects]]\nid = \"xyz\"\n".to_string(),
                2,
                6,
                "24 lowercase",
            ),
            (format!("{P}{P}"), 4, 6, "duplicate project"),
            (
                format!(
                    "{P}[[projects.databaseUsers]]\nusername = \"a\"\n[[projects.databaseUsers]]\nusername = \"a\"\n"
                ),
                6,
                12,
                "duplicate username",
            ),
            (
                format!(
                    "{P}[[projects.databaseUsers]]\nusername = \"a\"\nx509Type = \"MANAGED\"\ndatabaseName = \"admin\"\n"
                ),
                6,
                16,
                "$external",
            ),
            (
                format!(
                    "{P}[[projects.databaseUsers]]\nusername = \"a\"\nx509Type = \"SOMETIMES\"\n"
                ),
                5,
                12,
                "unknown variant",
            ),
            (
                format!(
                    "{P}[[projects.databaseUsers]]\nusername = \"a\"\nx509Type = \"MANAGED\"\nldapAuthType = \"USER\"\n"
                ),
                4,
                12,
                "sets x509Type and ldapAuthType",
            ),
            (
                format!(
                    "{P}[[projects.databaseUsers]]\nusername = \"ci\"\nawsIAMType = \"ROLE\"\n"
                ),
                4,
                12,
                "ARN",
            ),
            (
                format!(
                    "{P}[[projects.databaseUsers]]\nusername = \"idp/g\"\noidcAuthType = \"IDP_GROUP\"\ndatabaseName = \"$external\"\n"
                ),
                6,
                16,
                "must be \"admin\"",
            ),
        ];
        for (text, line, column, needle) in cases {
            let (l, c, m) = err(&text);
            assert_eq!((l, c), (line, column), "{text}: {m}");
            assert!(m.contains(needle), "{m} lacks {needle}");
        }
    }

    #[test]
    fn more_than_100_users_is_an_error() {
        let mut text = P.to_string();
        for i in 0..=MAX_USERS_PER_PROJECT {
            text.push_str(&format!(
                "[[projects.databaseUsers]]\nusername = \"u{i}\"\n"
            ));
        }
        let (line, _, message) = err(&text);
        assert_eq!(
            line,
            3 + 2 * MAX_USERS_PER_PROJECT,
            "points at the table header"
        );
        assert!(message.contains("more than 100"), "{message}");
    }

    #[test]
    fn api_keys_and_their_errors() {
        let text = format!(
            "{P}[[apiKeys]]\npublicKey = \"pub\"\nprivateKey = \"priv\"\n\
             roles = [{{ roleName = \"GROUP_OWNER\", groupId = \"5EFDA6AEA3F2ED2E7DD6CE05\" }}, {{ roleName = \"ORG_OWNER\" }}]\n"
        );
        let r = Registry::parse(&text, Path::new("r.toml")).unwrap();
        let key = r.api_key("pub").unwrap();
        assert_eq!(
            key.roles[0].group_id.as_deref(),
            Some("5efda6aea3f2ed2e7dd6ce05")
        );
        assert_eq!(key.roles[1].role_name, KeyRoleName::OrgOwner);
        let bad = [
            (
                "roles = [{ roleName = \"GROUP_READ_ONLY\" }]",
                "needs a groupId",
            ),
            (
                "roles = [{ roleName = \"ORG_OWNER\", groupId = \"5efda6aea3f2ed2e7dd6ce05\" }]",
                "remove its groupId",
            ),
            (
                "roles = [{ roleName = \"GROUP_OWNER\", groupId = \"x\" }]",
                "not a 24-hex",
            ),
            (
                "roles = [{ roleName = \"GROUP_ADMIN\", groupId = \"x\" }]",
                "unknown variant",
            ),
        ];
        for (roles, needle) in bad {
            let text = format!("[[apiKeys]]\npublicKey = \"p\"\nprivateKey = \"q\"\n{roles}\n");
            let (line, _, message) = err(&text);
            assert_eq!(line, 4, "{message}");
            assert!(message.contains(needle), "{message}");
        }
        let dup = "[[apiKeys]]\npublicKey = \"p\"\nprivateKey = \"q\"\n[[apiKeys]]\npublicKey = \"p\"\nprivateKey = \"r\"\n";
        assert_eq!(err(dup).0, 5);
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\nçd", 5), (2, 2));
        assert_eq!(line_column("", 0), (1, 1));
    }
}
