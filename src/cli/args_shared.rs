//! Argument shapes that both the CA's own verbs (`args`) and the registry
//! verbs (`args_manage`) use: kept apart so neither imports the other.

use clap::{Args, ValueEnum};

use crate::pki::custom::ocsp_url;

// `--projectId`.
#[derive(Debug, Args)]
pub(super) struct ProjectArg {
    /// The project id [default: the registry's only project].
    #[arg(long = "projectId", env = "MONGODB_ATLAS_PROJECT_ID")]
    pub(super) project_id: Option<String>,
}

// `-o`/`--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Output {
    /// A table for people.
    Table,
    /// The exact Atlas JSON body.
    Json,
}

// `--ocsp-url`.
#[derive(Debug, Args)]
pub(super) struct OcspArg {
    /// An OCSP responder address for authorityInfoAccess (repeat for a
    /// second); `atlas-ca serve` answers at http://HOST:PORT/ocsp.
    #[arg(long = "ocsp-url", value_name = "URL", value_parser = ocsp_url)]
    pub(super) urls: Vec<String>,
}

/// An RFC 3339 time (`--issued-at`, `--deleteAfter`, ...).
pub(super) fn parse_time(s: &str) -> Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("expected an RFC 3339 time such as 2024-01-31T12:00:00Z ({e})"))
}
