//! The Atlas model: plain values for what Atlas calls a project, a
//! database user (its kind, database, roles), a credential (API key or
//! service account) and a certificate's lifetime; the one rule set for a
//! valid user; the names Atlas gives enumerated values (`names`), and
//! the username policy and escaping of user-supplied text (`text`).
//!
//! The lowest layer: it knows no file, no OpenSSL and no other module of
//! the crate, so every layer above speaks of users in the same types.

pub mod credential;
pub mod expiry;
pub mod kind;
pub mod names;
pub mod rules;
pub mod text;
pub mod user;

pub use credential::{
    Credential, CredentialKind, KeyRole, KeyRoleName, KeyRoleProblem, MAX_CREDENTIALS, SecretTimes,
    is_credential_id, repeated_role,
};
pub use kind::{AuthFields, AwsIamType, Database, LdapAuthType, OidcAuthType, UserKind, X509Type};
pub use names::{AtlasName, UnknownName};
pub use text::{escape_hidden, hex, is_hidden, is_valid_username};
pub use user::{
    DatabaseUser, Label, MAX_USERS_PER_PROJECT, Months, Project, Role, Scope, ScopeKind,
    UserDetails, is_project_id,
};
