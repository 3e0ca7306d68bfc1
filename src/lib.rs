//! atlas-ca: MongoDB Atlas's managed X.509 certificate issuance, offline.
//!
//! A CA *home* holds a registry of projects and database users
//! (`users.toml`), one CA per project and a ledger of every certificate.
//! [`api::create_cert`] does what `POST /groups/{id}/databaseUsers/{user}/certs`
//! does on Atlas and returns the same PEM body:
//!
//! ```
//! use atlas_ca::{Home, api};
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
//! let request = api::CreateCert::new("5efda6aea3f2ed2e7dd6ce05", "alice");
//! let created = api::create_cert(&home, &home.registry()?, &request, &atlas_ca::issuing::Fresh)?;
//! assert!(created.pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
//! assert_eq!(created.record.subject, "CN=alice");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod api;
pub mod ca;
pub mod cli;
pub mod crl;
mod error;
pub mod files;
pub mod fixtures;
pub mod home;
pub mod issuing;
pub mod keygen;
pub mod kit;
pub mod ledger;
pub mod registry;
pub mod server;
pub mod validity;
pub mod verify;

pub use error::Error;
pub use home::Home;
