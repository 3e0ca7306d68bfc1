//! Errors worded for the command line: where the library says what is
//! wrong, this adds which flag or variable fixes it.

use super::outcome::Failure;
use crate::api::{Error, Invalid};
use crate::store::{CaError, RegistryError};

/// The message printed after `Error: `.
pub(super) fn describe(failure: &Failure) -> String {
    match failure {
        Failure::Usage(message) => message.clone(),
        Failure::Core(Error::Invalid(invalid)) => invalid_request(invalid),
        Failure::Core(Error::Ca(CaError::NeedsPassphrase { of, path })) => format!(
            "{of} {} is encrypted: set ATLAS_CA_PASSPHRASE or pass --passphrase-file",
            path.display()
        ),
        Failure::Core(Error::Ca(e @ CaError::Exists(..))) => format!(
            "{e}; `ca init --rotate` replaces it (the old certificate is kept to verify what it signed)"
        ),
        Failure::Core(Error::Registry(RegistryError::Read { path, source }))
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            let home = path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .map_or_else(|| ".".to_string(), |d| d.display().to_string());
            format!(
                "cannot read registry {}: {source}; create a home there with \
                 `atlas-ca --home '{home}' init`, or name an existing one with --home or ATLAS_CA_HOME",
                path.display()
            )
        }
        Failure::Core(e) => e.to_string(),
    }
}

/// Whether what went wrong depends on which home is in use (its registry,
/// projects, users, CAs or ledger), so that the message names it.
pub(super) fn depends_on_home(failure: &Failure) -> bool {
    match failure {
        Failure::Usage(message) => message.starts_with("verification failed"),
        // Atlas's own errors are printed as the Atlas CLI prints them.
        Failure::Core(Error::Registry(_) | Error::Ca(_) | Error::Ledger(_)) => true,
        Failure::Core(Error::Invalid(Invalid::NothingToIssue)) => true,
        Failure::Core(_) => false,
    }
}

fn invalid_request(invalid: &Invalid) -> String {
    match invalid {
        Invalid::IssuedAt(e) => format!("--issued-at: {e}"),
        Invalid::Clock(_) => invalid.to_string(),
        Invalid::NoHosts => "a server certificate needs at least one --host".into(),
        Invalid::Months { max } => {
            format!("--monthsUntilExpiration must be 1 to {max} for a server certificate")
        }
        Invalid::NothingToIssue => {
            "nothing to issue: no MANAGED users, or --count-per-user 0".into()
        }
        Invalid::Exists { path, dir } => format!(
            "{} already exists; pass --force to replace the files in {}",
            path.display(),
            dir.display()
        ),
        Invalid::Target { .. }
        | Invalid::Spec { .. }
        | Invalid::Topology(_)
        | Invalid::Serial(_)
        | Invalid::NotInRun(_)
        | Invalid::TooManyCertificates { .. } => invalid.to_string(),
        Invalid::AmbiguousSerial { .. } => format!("{invalid}; name one with --projectId"),
        Invalid::NoCa(_) => format!("{invalid}; `atlas-ca ca init` makes one"),
        Invalid::Repeated { what, name } => format!(
            "{} {name:?} is given twice",
            if *what == "user" {
                "--users names"
            } else {
                "--issued-at-for sets the time of"
            }
        ),
        Invalid::KeptKey { .. } => format!(
            "--renew keeps the directory's keys, but {invalid} (apply without --renew to make new keys)"
        ),
        Invalid::Jobs { jobs, reason } => format!("--jobs {jobs}: {reason}"),
        Invalid::TooMany { asked, max } => format!(
            "{asked} certificates asked for (users x --count-per-user); one run issues at most {max}"
        ),
    }
}
