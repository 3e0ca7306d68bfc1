//! Issuing: a fresh key, a fresh serial, a certificate in the right profile,
//! and the ledger row committed before the PEM is handed back.

mod keys;
mod profile;

pub use keys::{Fresh, KeyPool, KeySource, KeyType};
pub use profile::{
    Host, Profile, SERVER_O, SERVER_OU, Subject, certificate, is_printable, rfc2253_subject,
    subject_text,
};

use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use time::OffsetDateTime;

use crate::ca::{ProjectCa, asn1_time, random_serial};
use crate::ledger::{CertRecord, Kind, Ledger, LedgerError, Recorded};
use crate::validity::Validity;

/// Longest username (in characters) accepted as a certificate subject.
pub const MAX_USERNAME_CHARS: usize = 1024;

/// How many serial collisions in a row are tolerated before giving up;
/// with 2^63 possible serials even one is astronomically unlikely.
const SERIAL_ATTEMPTS: usize = 8;

/// Why issuing failed.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// OpenSSL failed.
    #[error("OpenSSL failed while issuing: {0}")]
    Crypto(#[from] ErrorStack),
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
}

/// An issued certificate: its ledger record and the PEM bundle.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The row the ledger committed.
    pub record: CertRecord,
    /// Certificate PEM followed by the PKCS#8 private key PEM.
    pub pem: String,
}

/// True when `username` can be a managed X.509 subject: not empty, at most
/// [`MAX_USERNAME_CHARS`], no control characters (NUL included) and no
/// invisible formatting characters (bidirectional overrides, zero-width
/// characters, byte order marks) that would make a subject read as
/// something it is not.
pub fn is_valid_username(username: &str) -> bool {
    let invisible = |c: char| matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{feff}');
    !username.is_empty()
        && !username.chars().any(|c| c.is_control() || invisible(c))
        && username.chars().count() <= MAX_USERNAME_CHARS
}

/// The Atlas response body: certificate PEM then PKCS#8 key PEM, LF line
/// endings, one trailing newline, no blank line between.
pub fn pem_bundle(cert: &X509, key: &PKey<Private>) -> Result<String, ErrorStack> {
    let mut pem = cert.to_pem()?;
    pem.extend(key.private_key_to_pem_pkcs8()?);
    // OpenSSL's PEM writer emits ASCII only.
    Ok(String::from_utf8_lossy(&pem).into_owned())
}

/// Lowercase hex SHA-256 of the certificate's DER.
pub fn fingerprint(cert: &X509) -> Result<String, ErrorStack> {
    let digest = cert.digest(MessageDigest::sha256())?;
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// A certificate signed but not yet on record: it must not leave the
/// process until the ledger has committed [`Signed::record`].
pub struct Signed {
    /// The row to commit.
    pub record: CertRecord,
    cert: X509,
    key: PKey<Private>,
}

impl Signed {
    /// The PEM bundle, to hand out once the record is committed.
    pub fn pem(&self) -> Result<String, ErrorStack> {
        pem_bundle(&self.cert, &self.key)
    }

    /// Signs again under a fresh serial (after a serial collision).
    pub fn reserial(&mut self, ca: &ProjectCa, req: &IssueRequest<'_>) -> Result<(), ErrorStack> {
        let serial = random_serial()?;
        self.cert = certificate(
            ca,
            &self.key,
            req.subject,
            &req.validity,
            serial,
            req.profile,
        )?;
        self.record.serial = serial;
        self.record.fingerprint = fingerprint(&self.cert)?;
        Ok(())
    }
}

/// Signs a certificate for `req` with a key from `keys` and a random
/// serial, after checking that it ends before its CA. Nothing is recorded.
pub fn sign(
    ca: &ProjectCa,
    req: &IssueRequest<'_>,
    keys: &dyn KeySource,
) -> Result<Signed, IssueError> {
    let ca_not_after = ca.cert().not_after();
    if asn1_time(req.validity.not_after)?.as_ref() > ca_not_after {
        return Err(IssueError::OutlivesCa {
            ca_not_after: ca_not_after.to_string(),
        });
    }
    let key = keys.key(req.key_type)?;
    let (kind, username) = match req.subject {
        Subject::Client(username) => (Kind::Client, username.to_string()),
        Subject::Server(hosts) => (
            Kind::Server,
            hosts
                .iter()
                .map(Host::to_string)
                .collect::<Vec<_>>()
                .join(","),
        ),
    };
    let serial = random_serial()?;
    let cert = certificate(ca, &key, req.subject, &req.validity, serial, req.profile)?;
    let record = CertRecord {
        project_id: req.project_id.to_string(),
        serial,
        username,
        subject: subject_text(req.subject),
        kind,
        created_at: req.validity.not_before,
        not_after: req.validity.not_after,
        fingerprint: fingerprint(&cert)?,
        revoked_at: None,
    };
    Ok(Signed { record, cert, key })
}

/// Issues a certificate: signs it, commits its ledger row (re-signing under
/// a new serial on a collision), and only then returns the PEM.
pub fn issue(
    ca: &ProjectCa,
    ledger: &mut Ledger,
    req: &IssueRequest<'_>,
    keys: &dyn KeySource,
) -> Result<Issued, IssueError> {
    let mut signed = sign(ca, req, keys)?;
    for _ in 0..SERIAL_ATTEMPTS {
        match ledger.record(&signed.record, req.limit)? {
            Recorded::Committed => {
                let pem = signed.pem()?;
                return Ok(Issued {
                    record: signed.record,
                    pem,
                });
            }
            Recorded::LimitReached => return Err(IssueError::LimitReached),
            Recorded::DuplicateSerial => signed.reserial(ca, req)?,
        }
    }
    Err(IssueError::NoFreeSerial)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_rules() {
        assert!(is_valid_username("a,b"));
        assert!(!is_valid_username(""));
        assert!(!is_valid_username("a\0b"));
        assert!(!is_valid_username("a\nb"));
        assert!(!is_valid_username("a\u{202e}b"));
        assert!(!is_valid_username("a\u{200b}b"));
        assert!(is_valid_username("ａｌｉｃｅ"));
        assert!(is_valid_username(&"x".repeat(MAX_USERNAME_CHARS)));
        assert!(!is_valid_username(&"x".repeat(MAX_USERNAME_CHARS + 1)));
    }
}
