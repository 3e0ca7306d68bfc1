//! The crate's error type: an Atlas API error, or a failure of the
//! registry, CA, ledger, issuing or file system underneath.

use std::path::PathBuf;

use crate::api::ApiError;
use crate::ca::CaError;
use crate::crl::CrlError;
use crate::issuing::IssueError;
use crate::ledger::LedgerError;
use crate::registry::RegistryError;

/// Anything that can go wrong in atlas-ca.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An error Atlas itself would answer (bad request, unknown user...).
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The registry is unreadable or invalid.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The project CA could not be created or loaded.
    #[error(transparent)]
    Ca(#[from] CaError),
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// Issuing failed.
    #[error(transparent)]
    Issue(#[from] IssueError),
    /// A file could not be written or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// OpenSSL failed outside issuing (encoding, time conversion, random).
    #[error("OpenSSL failed: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
    /// A CRL could not be built.
    #[error(transparent)]
    Crl(#[from] CrlError),
    /// A background worker died (a bug: it should be reported).
    #[error("internal error: {0}")]
    Internal(String),
    /// What the command names does not exist (a serial, a file).
    #[error("{0}")]
    NotFound(String),
    /// The command line asks for something impossible.
    #[error("{0}")]
    Usage(String),
}
