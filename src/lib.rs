//! atlas-ca: MongoDB Atlas's managed X.509 certificate issuance, offline.
//!
//! A CA [`Home`] holds a [`Registry`] of projects and database users
//! (`users.toml`), one CA per project and a ledger of every certificate.
//!
//! The library's face, in full:
//! - [`Home`] and [`Registry`]: where everything lives, and who exists;
//! - [`create_cert`] (one certificate, exactly as
//!   `POST /groups/{id}/databaseUsers/{user}/certs` answers) and
//!   [`issue_fixtures`] (many, on every core, with a manifest);
//! - [`list_certs`] and [`revoke_cert`];
//! - [`Error`], whose [`Error::Api`] holds Atlas's own [`ApiError`].
//!
//! ```
//! use atlas_ca::{CreateCert, Home, create_cert, list_certs};
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::write(
//!     dir.path().join("users.toml"),
//!     r#"
//!         [[projects]]
//!         id = "5efda6aea3f2ed2e7dd6ce05"
//!         [[projects.databaseUsers]]
//!         username = "alice"
//!         x509Type = "MANAGED"
//!     "#,
//! )?;
//! let home = Home::new(dir.path());
//! let registry = home.registry()?;
//! let request = CreateCert::new("5efda6aea3f2ed2e7dd6ce05", "alice");
//! let created = create_cert(&home, &registry, &request)?;
//! assert!(created.pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
//! let listed = list_certs(&home, &registry, "5efda6aea3f2ed2e7dd6ce05", "alice", false)?;
//! assert_eq!(listed[0].serial, created.record.serial);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Inside, the modules are layers, each using only those below it:
//! `model` (projects, users, credentials and their rules, as plain
//! values), `pki` (certificate mechanics), `store` (home, registry, CA files,
//! ledger), `issuing`, `api` (Atlas's requests and answers), `tools` (kit, fixtures,
//! verify), then `cli` and `server`. `ARCHITECTURE.md` describes them.

#![warn(missing_docs)]

mod api;
pub mod cli;
mod issuing;
mod model;
mod pki;
mod server;
mod store;
mod tools;

pub use api::{
    ApiError, CreateCert, Created, Error, ErrorCode, Invalid, create_cert, list_certs, revoke_cert,
};
pub use issuing::IssueError;
pub use model::{
    Credential, CredentialKind, Database, DatabaseUser, KeyRole, KeyRoleName, Months, Project,
    Role, UnknownName, UserKind, X509Type,
};
pub use pki::{Backend, KeyType, OutOfRange, Profile};
pub use store::{
    CaError, CertRecord, Holder, Home, KeyFile, LedgerError, Passphrase, Refusal, Registry,
    RegistryError,
};
pub use tools::fixtures::{FixtureOptions, ManifestEntry, issue_fixtures};
pub use tools::pki_apply::{
    Applied, Declared, Mode as PkiMode, apply as pki_apply, check as pki_check,
};
pub use tools::pki_spec::Reproduce;

/// Hooks for this crate's own benchmarks and fuzz targets; not part of the
/// API and not covered by semantic versioning.
#[doc(hidden)]
pub mod __private {
    pub use crate::api::{
        parse_create_body, parse_key_body, parse_new_user_body, parse_paging, parse_user_body,
    };
    pub use crate::server::DigestAuth;

    /// Generates one key of `key_type` exactly as issuing does, and drops it.
    pub fn generate_key(key_type: crate::KeyType) -> Result<(), crate::Backend> {
        key_type.generate().map(drop).map_err(Into::into)
    }
}

/// README's code blocks, compiled and run as doc-tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
