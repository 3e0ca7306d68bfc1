//! The crate's error type: an Atlas API error, a request that cannot be
//! met, or a failure of the registry, CA, ledger, issuing or file system
//! underneath. Other crates' errors appear only as opaque [`Backend`]s.

use std::path::PathBuf;

use super::atlas_error::{ApiError, ErrorCode};
use crate::issuing::IssueError;
use crate::pki::{Backend, OutOfRange};
use crate::store::files::Refusal;
use crate::store::{CaError, LedgerError, RegistryError};

/// Anything that can go wrong in atlas-ca.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
    Issue(IssueError),
    /// A file could not be written or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An operating-system resource that is not a file failed: a stream
    /// (stdout, stdin), a socket, the async runtime, threads.
    #[error("{what}: {source}")]
    System {
        /// What was being done, such as "writing to stdout".
        what: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// OpenSSL (or the DER encoder) failed outside issuing.
    #[error("OpenSSL failed: {0}")]
    Crypto(Backend),
    /// A background worker died (a bug: it should be reported).
    #[error("internal error: {0}")]
    Internal(String),
    /// What the request names does not exist (a serial, a file).
    #[error("{0}")]
    NotFound(String),
    /// The request asks for something impossible.
    #[error(transparent)]
    Invalid(#[from] Invalid),
}

/// A request that cannot be met, beyond Atlas's own errors. Front ends
/// word these in their own terms (flag names, fields).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Invalid {
    /// The issuance time puts the validity outside what a certificate holds.
    #[error("issuance time: {0}")]
    IssuedAt(OutOfRange),
    /// The clock puts a validity that starts now outside what a
    /// certificate holds.
    #[error("the system clock puts the validity outside what a certificate holds: {0}")]
    Clock(OutOfRange),
    /// A server certificate without hosts.
    #[error("a server certificate needs at least one host")]
    NoHosts,
    /// A lifetime outside `1..=max` months.
    #[error("the lifetime must be 1 to {max} months")]
    Months {
        /// The longest lifetime allowed.
        max: u32,
    },
    /// A batch with nothing in it.
    #[error("nothing to issue: no MANAGED users, or zero certificates per user")]
    NothingToIssue,
    /// A batch larger than one run issues.
    #[error("{asked} certificates asked for; one run issues at most {max}")]
    TooMany {
        /// How many the request adds up to.
        asked: u64,
        /// The most one run issues.
        max: u64,
    },
    /// An output would replace existing files.
    #[error("{} already exists; refusing to replace it in {}", path.display(), dir.display())]
    Exists {
        /// The first existing file.
        path: PathBuf,
        /// The output directory.
        dir: PathBuf,
    },
    /// An output file may not be written there (a link, a device).
    #[error("{}: {refusal}", path.display())]
    Target {
        /// The file.
        path: PathBuf,
        /// Why not.
        refusal: Refusal,
    },
    /// A `pki apply` file that cannot be applied, at its line and column.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Spec {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
        /// What is wrong, and how to say it instead.
        message: String,
    },
    /// A project without a CA, asked for what only a CA makes (a CRL).
    #[error("project {0} has no CA yet: it has signed nothing")]
    NoCa(String),
    /// A `serve --pki` directory with more certificates than one serves.
    #[error(
        "{} holds more than {max} distinct certificates; `serve --pki` answers for at most that many",
        dir.display()
    )]
    TooManyCertificates {
        /// The directory.
        dir: PathBuf,
        /// The bound.
        max: usize,
    },
    /// A name given twice where each is taken once (`what`: `user`, or
    /// `issue time of user`).
    #[error("{what} {name:?} is given twice")]
    Repeated {
        /// What is repeated.
        what: &'static str,
        /// The name.
        name: String,
    },
    /// A per-user setting for a user the run does not issue to.
    #[error("{0:?} is not among the users this run issues to")]
    NotInRun(String),
    /// A serial that is neither decimal nor hex.
    #[error("{0:?} is not a serial number (decimal, or hex with or without 0x and colons)")]
    Serial(String),
    /// A serial found in more than one project.
    #[error("serial {serial:?} is in projects {}", projects.join(", "))]
    AmbiguousSerial {
        /// The serial as written.
        serial: String,
        /// The projects holding it.
        projects: Vec<String>,
    },
    /// A kit's deployment that cannot be set up (ports, names, counts).
    #[error("{0}")]
    Topology(String),
    /// A key that a renewal would keep cannot be used.
    #[error("the key of {table:?} in {} {why}", file.display())]
    KeptKey {
        /// The file that should hold it.
        file: PathBuf,
        /// The table whose key it is.
        table: String,
        /// What is wrong with it.
        why: String,
    },
    /// The worker threads could not be started.
    #[error("cannot start {jobs} worker threads: {reason}")]
    Jobs {
        /// How many were asked for.
        jobs: usize,
        /// Why they could not start.
        reason: String,
    },
}

impl From<IssueError> for Error {
    /// The per-user limit is Atlas's `ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED`
    /// wherever it is met; everything else stays an issuing failure.
    fn from(e: IssueError) -> Error {
        match e {
            IssueError::LimitReached => {
                ApiError::new(ErrorCode::AtlasGeneratedCertsLimitExceeded, &[]).into()
            }
            other => Error::Issue(other),
        }
    }
}

impl From<openssl::error::ErrorStack> for Error {
    fn from(e: openssl::error::ErrorStack) -> Error {
        Error::Crypto(e.into())
    }
}

impl From<Backend> for Error {
    fn from(e: Backend) -> Error {
        Error::Crypto(e)
    }
}

impl Error {
    /// Wraps an I/O error of something that is not a file (`what` says it).
    pub(crate) fn system(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let what = what.into();
        move |source| Error::System { what, source }
    }

    /// Wraps an I/O error on `path`.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}
