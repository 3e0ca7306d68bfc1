//! Why a CA (or a key file) could not be created or loaded.

use std::path::{Path, PathBuf};

use crate::pki::Backend;

/// Why a project CA could not be created or loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaError {
    /// A file or directory operation failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// OpenSSL failed while generating, signing or parsing.
    #[error("{what}: {source}")]
    Crypto {
        /// What was being done.
        what: String,
        /// The library's error.
        source: Backend,
    },
    /// `ca init` on a project that already has a CA.
    #[error("project {0} already has a CA in {dir}", dir = .1.display())]
    Exists(String, PathBuf),
    /// A key file may be read by other users.
    #[error("{of} {} is readable by group or others (mode {mode:o}); fix it with: chmod 600 {}", path.display(), path.display())]
    KeyExposed {
        /// Whose key it is.
        of: KeyFile,
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The CA's validity would not fit in a certificate.
    #[error("cannot create a CA now: {0}")]
    Validity(#[from] crate::pki::OutOfRange),
    /// A key is encrypted and no passphrase was given.
    #[error("{of} {} is encrypted and no passphrase was given", path.display())]
    NeedsPassphrase {
        /// Whose key it is.
        of: KeyFile,
        /// The key file.
        path: PathBuf,
    },
    /// An imported or stored key is unusable.
    #[error("{of} {}: {reason}", path.display())]
    BadKey {
        /// Whose key it is.
        of: KeyFile,
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// What a key file holds, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyFile {
    /// A CA's key (a project's, the local API CA's, or one to import).
    Ca,
    /// The key of `serve --tls-cert`'s server certificate.
    Tls,
}

impl std::fmt::Display for KeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeyFile::Ca => "CA key",
            KeyFile::Tls => "TLS key",
        })
    }
}

pub(super) fn crypto(
    what: impl Into<String>,
) -> impl FnOnce(openssl::error::ErrorStack) -> CaError {
    let what = what.into();
    move |e| CaError::Crypto {
        what,
        source: e.into(),
    }
}

pub(super) fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> CaError {
    let path = path.to_path_buf();
    move |source| CaError::Io {
        action,
        path,
        source,
    }
}
