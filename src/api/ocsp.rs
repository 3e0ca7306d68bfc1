//! The OCSP responder's answers: for every project CA, from the ledger (a
//! revocation shows in the next answer), and for fixed CAs loaded at start
//! (a `pki apply` directory), from what they list.

use std::collections::{HashMap, HashSet};

use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use time::{Duration, OffsetDateTime};

use super::cas::CaHistory;
use super::error::Error;
use crate::pki::ocsp::{Query, Refused, Signer, Status, parse_request, respond};
use crate::store::{CertRecord, Home, Registry};

/// A CA answered for with statuses fixed at start.
pub struct FixedCa {
    /// The CA's certificate, which queries name by its hashes.
    pub cert: X509,
    /// Who signs: the CA itself or its delegated responder.
    pub signer: (X509, PKey<Private>),
    /// Serials the CA issued.
    pub issued: HashSet<u64>,
    /// Serials it revoked, and when.
    pub revoked: HashMap<u64, OffsetDateTime>,
}

impl FixedCa {
    fn status(&self, serial: Option<u64>) -> Status {
        match serial {
            Some(s) if self.revoked.contains_key(&s) => Status::Revoked(self.revoked[&s]),
            Some(s) if self.issued.contains(&s) => Status::Good,
            _ => Status::Unknown,
        }
    }
}

/// What an OCSP responder answers for, and for how long an answer holds.
pub struct Responder {
    /// CAs loaded at start, besides the projects'.
    pub fixed: Vec<FixedCa>,
    /// From thisUpdate to nextUpdate.
    pub validity: Duration,
}

impl Responder {
    /// The DER OCSP response to the DER request `der`: signed statuses, or
    /// an unsigned `malformedRequest` or `unauthorized`.
    pub fn answer(&self, home: &Home, registry: &Registry, der: &[u8]) -> Result<Vec<u8>, Error> {
        let request = match parse_request(der) {
            Ok(r) => r,
            Err(refused) => return Ok(refused.response()?),
        };
        let now = OffsetDateTime::now_utc();
        let next = now + self.validity;
        let first = &request.queries[0];
        // The first query's issuer signs; queries about other issuers are
        // answered `unknown`.
        if let Some(fixed) = self.fixed.iter().find(|c| first.is_issued_by(&c.cert)) {
            let answers: Vec<(&Query, Status)> = request
                .queries
                .iter()
                .map(|q| match q.is_issued_by(&fixed.cert) {
                    true => (q, fixed.status(q.serial)),
                    false => (q, Status::Unknown),
                })
                .collect();
            let signer = Signer {
                cert: &fixed.signer.0,
                key: &fixed.signer.1,
            };
            return Ok(respond(&request, &answers, &signer, now, next)?);
        }
        for project in &registry.projects {
            // Any of the project's CAs, the retired ones included: each
            // answers for the certificates it signed, with its own key.
            let history = CaHistory::of(home, &project.id)?;
            let Some(at) = history.certs.iter().position(|c| first.is_issued_by(c)) else {
                continue;
            };
            let cas = home.project_cas(&project.id)?;
            let Some(authority) = cas
                .iter()
                .find(|a| a.cert().to_der().ok() == history.certs[at].to_der().ok())
            else {
                continue;
            };
            let mut answers = Vec::with_capacity(request.queries.len());
            for q in &request.queries {
                let status = match q.serial {
                    Some(serial) if q.is_issued_by(&history.certs[at]) => {
                        ledger_status(home, &project.id, serial, |r| {
                            history.signer_of(r) == Some(at)
                        })?
                    }
                    _ => Status::Unknown,
                };
                answers.push((q, status));
            }
            let signer = Signer {
                cert: authority.cert(),
                key: authority.key(),
            };
            return Ok(respond(&request, &answers, &signer, now, next)?);
        }
        Ok(Refused::Unauthorized.response()?)
    }
}

/// `good` for a certificate the ledger holds that `ours` says the CA asked
/// about signed, `revoked` once revoked, `unknown` for any other serial.
fn ledger_status(
    home: &Home,
    project_id: &str,
    serial: u64,
    ours: impl Fn(&CertRecord) -> bool,
) -> Result<Status, Error> {
    home.with_existing_ledger(|ledger| {
        let Some(ledger) = ledger else {
            return Ok(Status::Unknown);
        };
        Ok(match ledger.get(project_id, serial)? {
            Some(record) if ours(&record) => {
                record.revoked_at.map_or(Status::Good, Status::Revoked)
            }
            _ => Status::Unknown,
        })
    })
}
