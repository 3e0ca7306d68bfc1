//! The registry file: `users.toml`, the projects, database users and
//! credentials that Atlas would hold, mapped from TOML whose field names
//! follow the Atlas Admin API onto the model's types, and checked by the
//! model's rules.
//!
//! Every problem is reported with the file, line and column it comes from, so
//! a typo in `users.toml` is an error that points at itself, never a silently
//! ignored key.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::model::names::deserialize_or_none;
use crate::model::rules::{self, UserProblem};
use crate::model::{
    AuthFields, AwsIamType, Credential, CredentialKind, DatabaseUser, KeyRole, KeyRoleName,
    KeyRoleProblem, Label, LdapAuthType, MAX_CREDENTIALS, MAX_USERS_PER_PROJECT, OidcAuthType,
    Project, Role, Scope, SecretTimes, UserDetails, X509Type, is_credential_id, is_project_id,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A parsed and validated registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    /// The projects in file order.
    pub projects: Vec<Project>,
    /// The API keys the server accepts (`[[apiKeys]]`).
    pub api_keys: Vec<Credential>,
    /// The service accounts (`[[serviceAccounts]]`).
    pub service_accounts: Vec<Credential>,
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
    /// The registry is, or would become, larger than atlas-ca reads (4 MiB).
    #[error(
        "registry {} would be over {} MiB; remove projects, users or keys first",
        path.display(),
        MAX_REGISTRY_BYTES >> 20
    )]
    TooLarge {
        /// The registry file.
        path: PathBuf,
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

/// Largest registry atlas-ca reads or writes (ours: every project's
/// users, keys and accounts at their caps fit many times over; the bound
/// keeps one file from costing the server without end).
pub const MAX_REGISTRY_BYTES: usize = 4 << 20;

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
struct RawApiKey {
    desc: Option<String>,
    public_key: Spanned<String>,
    private_key: Spanned<String>,
    #[serde(default)]
    roles: Vec<Spanned<RawKeyRole>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawServiceAccount {
    name: Option<String>,
    description: Option<String>,
    client_id: Spanned<String>,
    client_secret: Spanned<String>,
    secret_created_at: Option<Spanned<String>>,
    secret_expires_at: Option<Spanned<String>>,
    #[serde(default)]
    roles: Vec<Spanned<RawKeyRole>>,
}

/// A credential of either kind, its fields by their meaning.
struct RawCredential {
    label: Option<String>,
    id: Spanned<String>,
    secret: Spanned<String>,
    roles: Vec<Spanned<RawKeyRole>>,
    description: Option<String>,
    /// A service account's `secretCreatedAt` and `secretExpiresAt`.
    times: [Option<Spanned<String>>; 2],
}

impl From<RawApiKey> for RawCredential {
    fn from(k: RawApiKey) -> RawCredential {
        RawCredential {
            label: k.desc,
            id: k.public_key,
            secret: k.private_key,
            roles: k.roles,
            description: None,
            times: [None, None],
        }
    }
}

impl From<RawServiceAccount> for RawCredential {
    fn from(a: RawServiceAccount) -> RawCredential {
        RawCredential {
            label: a.name,
            id: a.client_id,
            secret: a.client_secret,
            roles: a.roles,
            description: a.description,
            times: [a.secret_created_at, a.secret_expires_at],
        }
    }
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
    #[serde(default, rename = "x509Type", deserialize_with = "deserialize_or_none")]
    x509_type: Option<X509Type>,
    #[serde(
        default,
        rename = "awsIAMType",
        deserialize_with = "deserialize_or_none"
    )]
    aws_iam_type: Option<AwsIamType>,
    #[serde(default, deserialize_with = "deserialize_or_none")]
    ldap_auth_type: Option<LdapAuthType>,
    #[serde(default, deserialize_with = "deserialize_or_none")]
    oidc_auth_type: Option<OidcAuthType>,
    #[serde(default)]
    roles: Vec<Spanned<Role>>,
    #[serde(default)]
    scopes: Vec<Scope>,
    #[serde(default)]
    labels: Vec<Label>,
    description: Option<Spanned<String>>,
    delete_after_date: Option<Spanned<String>>,
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
        let keys = raw.api_keys.into_iter().map(RawCredential::from);
        let accounts = raw.service_accounts.into_iter().map(RawCredential::from);
        Ok(Registry {
            projects,
            api_keys: credentials(CredentialKind::ApiKey, keys, &fail)?,
            service_accounts: credentials(CredentialKind::ServiceAccount, accounts, &fail)?,
        })
    }

    /// The service account with this client id, if any.
    pub fn service_account(&self, client_id: &str) -> Option<&Credential> {
        self.service_accounts.iter().find(|a| a.id == client_id)
    }

    /// The API key with this public key, if any.
    pub fn api_key(&self, public_key: &str) -> Option<&Credential> {
        self.api_keys.iter().find(|k| k.id == public_key)
    }

    /// The project with this id (compared without regard to case).
    pub fn project(&self, id: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.id.eq_ignore_ascii_case(id))
    }

    /// The organization its projects belong to: the first one a project
    /// records; when none does, one derived from the first project's id
    /// (ours: stable, so answers do not change between runs); `None`
    /// without projects.
    pub fn organization(&self) -> Option<String> {
        if let Some(org) = self.projects.iter().find_map(|p| p.org_id.clone()) {
            return Some(org);
        }
        let first = self.projects.first()?;
        let digest = openssl::sha::sha256(format!("organization of {}", first.id).as_bytes());
        Some(crate::model::hex(&digest[..12]))
    }
}

/// The registry file's text; invalid UTF-8 is an error at its position.
pub(crate) fn read_text(path: &Path) -> Result<String, RegistryError> {
    let read = |source| RegistryError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| {
            f.take(MAX_REGISTRY_BYTES as u64 + 1)
                .read_to_end(&mut bytes)
        })
        .map_err(read)?;
    if bytes.len() > MAX_REGISTRY_BYTES {
        return Err(RegistryError::TooLarge {
            path: path.to_path_buf(),
        });
    }
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

/// Validates one database user of project `id` against those before it,
/// by the model's rules, each problem at the field it is about.
fn user(
    u: RawUser,
    id: &str,
    before: &[DatabaseUser],
    fail: Fail<'_>,
) -> Result<DatabaseUser, RegistryError> {
    let name = u.username.get_ref();
    let name_at = u.username.span().start;
    if before.iter().any(|v| &v.username == name) {
        return Err(fail(
            name_at,
            format!("duplicate username {} in project {id}", quoted(name)),
        ));
    }
    let fields = AuthFields {
        x509: u.x509_type,
        aws_iam: u.aws_iam_type,
        ldap: u.ldap_auth_type,
        oidc: u.oidc_auth_type,
    };
    let db = u.database_name.as_ref();
    let role_spans: Vec<usize> = u.roles.iter().map(|r| r.span().start).collect();
    let description_at = u.description.as_ref().map_or(name_at, |d| d.span().start);
    let word = |problem: UserProblem| {
        let at = match problem {
            UserProblem::Database(_) => db.map_or(name_at, |d| d.span().start),
            UserProblem::Description => description_at,
            UserProblem::Role(i) => role_spans.get(i).copied().unwrap_or(name_at),
            _ => name_at,
        };
        let message = match problem {
            UserProblem::EmptyName => "username is empty".to_string(),
            UserProblem::TwoKinds(first, second) => format!(
                "user {} sets {first} and {second}: at most one of x509Type, awsIAMType, ldapAuthType and oidcAuthType",
                quoted(name)
            ),
            UserProblem::Database(_) => format!(
                "databaseName {} of user {}: {}",
                quoted(db.map_or("", |d| d.get_ref().as_str())),
                quoted(name),
                problem.rule()
            ),
            UserProblem::NameForm(_) => format!("username {}: {}", quoted(name), problem.rule()),
            _ => format!(
                "{} of user {}: {}",
                problem.attribute(),
                quoted(name),
                problem.rule()
            ),
        };
        fail(at, message)
    };
    let kind = rules::kind(name, fields, db.map(|d| d.get_ref().as_str())).map_err(word)?;
    let delete_after_date = instant("deleteAfterDate", u.delete_after_date, fail)?;
    let user = DatabaseUser {
        username: u.username.get_ref().clone(),
        kind,
        roles: u.roles.iter().map(|r| r.get_ref().clone()).collect(),
        details: UserDetails {
            scopes: u.scopes,
            labels: u.labels,
            description: u.description.map(Spanned::into_inner),
            delete_after_date,
        },
    };
    rules::check(&user).map_err(word)?;
    Ok(user)
}

/// Validates the credentials of `kind`, in file order.
fn credentials(
    kind: CredentialKind,
    raw: impl Iterator<Item = RawCredential>,
    fail: Fail<'_>,
) -> Result<Vec<Credential>, RegistryError> {
    let fields = kind.fields();
    let mut out: Vec<Credential> = Vec::new();
    for k in raw {
        let id = k.id.get_ref();
        if !is_credential_id(id) {
            return Err(fail(
                k.id.span().start,
                format!(
                    "{} must be non-empty, without quotes, backslashes or control characters",
                    fields.id
                ),
            ));
        }
        if out.iter().any(|other| &other.id == id) {
            return Err(fail(
                k.id.span().start,
                format!("duplicate {} {}", fields.id, quoted(id)),
            ));
        }
        if k.secret.get_ref().is_empty() {
            return Err(fail(
                k.secret.span().start,
                format!("{} is empty", fields.secret),
            ));
        }
        let mut roles = Vec::with_capacity(k.roles.len());
        for r in k.roles {
            let at = r.span().start;
            let r = r.into_inner();
            let role = KeyRole::new(r.role_name, r.group_id.as_deref()).map_err(|p| {
                let message = match p {
                    KeyRoleProblem::OrgRoleInProject => {
                        "ORG_OWNER applies to every project: remove its groupId".to_string()
                    }
                    KeyRoleProblem::ProjectRoleWithoutProject => {
                        "a project role needs a groupId".to_string()
                    }
                    KeyRoleProblem::NotAProjectId(id) => format!(
                        "groupId {} is not a 24-hex-character project id",
                        quoted(&id)
                    ),
                };
                fail(at, message)
            })?;
            if roles.contains(&role) {
                return Err(fail(at, "this role is already granted above".into()));
            }
            roles.push(role);
        }
        if out.len() == MAX_CREDENTIALS {
            return Err(fail(
                k.id.span().start,
                format!(
                    "a registry holds at most {MAX_CREDENTIALS} [[{}]] tables",
                    fields.section
                ),
            ));
        }
        let at = k.id.span().start;
        let [created, expires] = k.times.map(|t| {
            t.map(|t| {
                let at = t.span().start;
                OffsetDateTime::parse(t.get_ref(), &Rfc3339)
                    .ok()
                    .map(|t| t.to_offset(time::UtcOffset::UTC))
                    .filter(|t| (1950..=9999).contains(&t.year()))
                    .ok_or_else(|| {
                        let text = quoted(t.get_ref());
                        fail(at, format!("{text} is not an RFC 3339 time in 1950..9999"))
                    })
            })
            .transpose()
        });
        let secret_times = match (created?, expires?) {
            (Some(created), Some(expires)) => Some(SecretTimes { created, expires }),
            (None, None) => None,
            _ => {
                return Err(fail(
                    at,
                    "secretCreatedAt and secretExpiresAt go together".into(),
                ));
            }
        };
        let mut credential = Credential::new(
            kind,
            k.label,
            k.id.into_inner(),
            k.secret.into_inner(),
            roles,
        );
        credential.description = k.description;
        credential.secret_times = secret_times;
        out.push(credential);
    }
    Ok(out)
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

#[cfg(test)]
#[path = "registry_tests.rs"]
mod tests;
