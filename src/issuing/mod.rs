//! Issuing: a fresh key, a fresh serial, a certificate in the right profile,
//! and the ledger row committed before the PEM is handed back. One path for
//! every certificate: [`sign`] (anywhere, in parallel), then [`commit`] (one
//! transaction for one certificate or a batch, [`commit_one`] for one),
//! which stages each certificate's delivery before its row commits.

mod pool;

pub use pool::{Fresh, KeyPool, KeySource};

use openssl::error::ErrorStack;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use time::OffsetDateTime;

use crate::pki::custom::Extras;
use crate::pki::{
    Authority, Backend, Host, KeyType, Profile, Subject, Validity, asn1_time, certificate,
    fingerprint, pem_bundle, random_serial, subject_text,
};
use crate::store::ledger::{Ledger, Recorded};
use crate::store::{CertRecord, Holder, LedgerError};

/// How many serial collisions in a row are tolerated before giving up;
/// with 2^63 possible serials even one is astronomically unlikely.
const SERIAL_ATTEMPTS: usize = 8;

/// Why issuing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// OpenSSL failed.
    #[error("OpenSSL failed while issuing: {0}")]
    Crypto(Backend),
    /// The ledger could not record the certificate.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The user already holds as many certificates as the project allows.
    #[error("the limit on generated certificates per user has been reached")]
    LimitReached,
    /// The certificate would outlive the CA that signs it.
    #[error(
        "the certificate would end after its CA, which expires {ca_not_after}; issue a shorter one"
    )]
    OutlivesCa {
        /// The CA's notAfter, as OpenSSL prints it.
        ca_not_after: String,
    },
    /// Random serials kept colliding (a broken random source).
    #[error("could not find an unused serial number after {SERIAL_ATTEMPTS} attempts")]
    NoFreeSerial,
}

impl From<ErrorStack> for IssueError {
    fn from(e: ErrorStack) -> IssueError {
        IssueError::Crypto(e.into())
    }
}

/// What to issue.
#[derive(Debug, Clone)]
pub struct IssueRequest<'a> {
    /// The project whose CA signs.
    pub project_id: &'a str,
    /// Who the certificate is for.
    pub subject: Subject<'a>,
    /// The validity window.
    pub validity: Validity,
    /// Per-user limit on active certificates, checked at the given time.
    pub limit: Option<(u32, OffsetDateTime)>,
    /// Which extensions a client certificate carries.
    pub profile: Profile,
    /// The subject key's type.
    pub key_type: KeyType,
    /// Extensions beyond the profile's (none for Atlas's own).
    pub extras: Extras,
    /// A server certificate for a replica set or cluster member (recorded
    /// as a member's, not a lone server's).
    pub member: bool,
}

/// An issued certificate: its ledger record and the PEM bundle.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The row the ledger committed.
    pub record: CertRecord,
    /// Certificate PEM followed by the PKCS#8 private key PEM.
    pub pem: String,
}

/// A certificate signed but not yet on record: it leaves the process only
/// through [`commit`], once the ledger holds its row.
pub struct Signed<'r> {
    request: IssueRequest<'r>,
    record: CertRecord,
    cert: X509,
    key: PKey<Private>,
}

impl Signed<'_> {
    /// Signs again under a fresh serial (after a serial collision).
    fn reserial(&mut self, ca: &Authority) -> Result<(), ErrorStack> {
        let serial = random_serial()?;
        self.cert = certificate_for(ca, &self.key, &self.request, serial)?;
        self.record.serial = serial;
        self.record.fingerprint = fingerprint(&self.cert)?;
        Ok(())
    }
}

/// The certificate `req` asks for, for `key`, under `serial`.
fn certificate_for(
    ca: &Authority,
    key: &PKey<Private>,
    req: &IssueRequest<'_>,
    serial: u64,
) -> Result<X509, ErrorStack> {
    certificate(
        ca,
        key,
        req.subject,
        &req.validity,
        serial,
        req.profile,
        &req.extras,
    )
}

/// Checks that what `req` asks for ends no later than `ca`, which signs
/// it: for a plan to refuse before anything is written.
pub fn check_within_ca(ca: &Authority, req: &IssueRequest<'_>) -> Result<(), IssueError> {
    let ca_not_after = ca.cert().not_after();
    if asn1_time(req.validity.not_after)?.as_ref() > ca_not_after {
        return Err(IssueError::OutlivesCa {
            ca_not_after: ca_not_after.to_string(),
        });
    }
    Ok(())
}

/// Signs a certificate for `req` with a key from `keys` and a random
/// serial, after checking that it ends before its CA. Nothing is recorded.
pub fn sign<'r>(
    ca: &Authority,
    req: &IssueRequest<'r>,
    keys: &dyn KeySource,
) -> Result<Signed<'r>, IssueError> {
    check_within_ca(ca, req)?;
    let key = keys.key(req.key_type)?;
    let holder = match req.subject {
        Subject::Client(username) => Holder::User(username.to_string()),
        Subject::Server(hosts) => {
            let hosts = hosts
                .iter()
                .map(Host::to_string)
                .collect::<Vec<_>>()
                .join(",");
            if req.member {
                Holder::Member(hosts)
            } else {
                Holder::Hosts(hosts)
            }
        }
    };
    let serial = random_serial()?;
    let cert = certificate_for(ca, &key, req, serial)?;
    let record = CertRecord {
        project_id: req.project_id.to_string(),
        serial,
        holder,
        subject: subject_text(req.subject),
        created_at: req.validity.not_before,
        not_after: req.validity.not_after,
        fingerprint: fingerprint(&cert)?,
        revoked_at: None,
        issuer: Some(fingerprint(ca.cert())?),
    };
    Ok(Signed {
        request: req.clone(),
        record,
        cert,
        key,
    })
}

/// Commits `batch` to the ledger in one transaction, each row under its
/// request's limit, re-signing under a new serial any certificate whose
/// serial collides. Once every row is in (and before the transaction
/// commits), `stage` is called with each certificate's position and
/// bundle, to write what will hand it out; the rows commit only when every
/// `stage` succeeded. All are issued, or (on an error) none is recorded.
pub fn commit<T, E: From<IssueError>>(
    ca: &Authority,
    ledger: &mut Ledger,
    mut batch: Vec<Signed<'_>>,
    mut stage: impl FnMut(usize, &Issued) -> Result<T, E>,
) -> Result<Vec<(Issued, T)>, E> {
    for _ in 0..SERIAL_ATTEMPTS {
        let rows: Vec<_> = batch.iter().map(|s| (&s.record, s.request.limit)).collect();
        let insertion = ledger.insert(&rows).map_err(IssueError::from)?;
        if insertion.outcomes.contains(&Recorded::LimitReached) {
            return Err(IssueError::LimitReached.into());
        }
        if insertion.complete() {
            let issued = batch
                .iter()
                .map(|s| {
                    Ok(Issued {
                        pem: pem_bundle(&s.cert, &s.key)?,
                        record: s.record.clone(),
                    })
                })
                .collect::<Result<Vec<_>, IssueError>>()?;
            // An error here drops the insertion: nothing is recorded.
            let staged = issued
                .iter()
                .enumerate()
                .map(|(i, issued)| stage(i, issued))
                .collect::<Result<Vec<T>, E>>()?;
            insertion.commit().map_err(IssueError::from)?;
            return Ok(issued.into_iter().zip(staged).collect());
        }
        let outcomes = insertion.outcomes.clone();
        drop(insertion);
        // Nothing was committed: re-sign the colliding ones and try again.
        for (signed, outcome) in batch.iter_mut().zip(outcomes) {
            if outcome == Recorded::DuplicateSerial {
                signed.reserial(ca).map_err(IssueError::from)?;
            }
        }
    }
    Err(IssueError::NoFreeSerial.into())
}

/// [`commit`] for one certificate.
pub fn commit_one<T, E: From<IssueError>>(
    ca: &Authority,
    ledger: &mut Ledger,
    signed: Signed<'_>,
    mut stage: impl FnMut(&Issued) -> Result<T, E>,
) -> Result<(Issued, T), E> {
    let mut all = commit(ca, ledger, vec![signed], |_, issued| stage(issued))?;
    // `commit` returns one result per signed certificate: exactly one here.
    Ok(all.swap_remove(0))
}
