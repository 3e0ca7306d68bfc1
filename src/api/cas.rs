//! A project's CAs over time: the current one and those `ca init --rotate`
//! retired, and which of them signed a certificate the ledger holds, so
//! that OCSP answers and CRLs speak for each CA's own certificates.

use openssl::x509::X509;
use time::OffsetDateTime;

use super::error::Error;
use crate::pki::{fingerprint, time_of};
use crate::store::{CertRecord, Home, ca};

/// The certificates of a project's CAs, current first, then the retired
/// ones newest first (the order `Home::project_cas` opens them in).
pub(crate) struct CaHistory {
    /// The certificates.
    pub(crate) certs: Vec<X509>,
    fingerprints: Vec<String>,
    starts: Vec<OffsetDateTime>,
}

impl CaHistory {
    /// The CAs of `project_id` in `home` (none when it has no CA yet).
    pub(crate) fn of(home: &Home, project_id: &str) -> Result<CaHistory, Error> {
        let certs = ca::certificates(&home.ca_dir(project_id))?;
        let fingerprints = certs
            .iter()
            .map(fingerprint)
            .collect::<Result<Vec<_>, _>>()?;
        let starts = certs
            .iter()
            .map(|c| time_of(c.not_before()).unwrap_or(OffsetDateTime::UNIX_EPOCH))
            .collect();
        Ok(CaHistory {
            certs,
            fingerprints,
            starts,
        })
    }

    /// The place of the CA that signed `record`: the one its issuer names;
    /// for a row recorded before the ledger kept issuers, the newest CA
    /// made before the certificate (both notBefores are backdated by the
    /// same hour, so they compare as the issue times do), else the oldest.
    pub(crate) fn signer_of(&self, record: &CertRecord) -> Option<usize> {
        match &record.issuer {
            Some(issuer) => self.fingerprints.iter().position(|f| f == issuer),
            None => {
                let made = record.created_at;
                (0..self.starts.len())
                    .filter(|&i| self.starts[i] <= made)
                    .max_by_key(|&i| self.starts[i])
                    .or_else(|| (0..self.starts.len()).min_by_key(|&i| self.starts[i]))
            }
        }
    }
}
