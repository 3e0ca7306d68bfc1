//! The opaque error of the libraries underneath.

use openssl::error::ErrorStack;

/// A failure of a library underneath (OpenSSL, SQLite, DER encoding), kept
/// opaque so that the crate's errors expose no other crate's types. Its
/// message is the library's own.
#[derive(Debug)]
pub struct Backend(Box<dyn std::error::Error + Send + Sync>);

impl Backend {
    /// Wraps a library's error.
    pub(crate) fn new(e: impl std::error::Error + Send + Sync + 'static) -> Backend {
        Backend(Box::new(e))
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Backend {}

impl From<ErrorStack> for Backend {
    fn from(e: ErrorStack) -> Backend {
        Backend::new(e)
    }
}

impl From<x509_cert::der::Error> for Backend {
    fn from(e: x509_cert::der::Error) -> Backend {
        Backend::new(e)
    }
}
