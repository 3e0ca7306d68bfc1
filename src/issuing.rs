//! The certificate profile: what Atlas puts in a database user's client
//! certificate, and issuing one (key, serial, signature, ledger row).
//!
//! The profile, as observed on real Atlas certificates: v3, random positive
//! 63-bit serial, sha256WithRSAEncryption, issuer copied from the CA, subject
//! a single `CN=<username>` (PrintableString where it can be), RSA-4096 key,
//! and exactly two extensions: keyUsage (critical, digitalSignature) then
//! extendedKeyUsage (critical, clientAuth).

use openssl::asn1::Asn1Type;
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{ExtendedKeyUsage, KeyUsage};
use openssl::x509::{X509, X509Name, X509NameBuilder};
use time::OffsetDateTime;

use crate::ca::{ProjectCa, RSA_BITS, asn1_time, random_serial, serial_integer};
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
    /// Random serials kept colliding (a broken random source).
    #[error("could not find an unused serial number after {SERIAL_ATTEMPTS} attempts")]
    NoFreeSerial,
}

/// What to issue a client certificate for.
#[derive(Debug, Clone)]
pub struct ClientRequest<'a> {
    /// The project whose CA signs.
    pub project_id: &'a str,
    /// The database user; becomes the subject CN.
    pub username: &'a str,
    /// The validity window.
    pub validity: Validity,
    /// Per-user limit on active certificates, checked at `now`.
    pub limit: Option<(u32, OffsetDateTime)>,
}

/// An issued certificate: its ledger record and the Atlas response body.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The row the ledger committed.
    pub record: CertRecord,
    /// Certificate PEM followed by the PKCS#8 private key PEM.
    pub pem: String,
}

/// True when `username` can be a managed X.509 subject: not empty, no
/// control characters (NUL included), at most [`MAX_USERNAME_CHARS`].
pub fn is_valid_username(username: &str) -> bool {
    !username.is_empty()
        && !username.chars().any(char::is_control)
        && username.chars().count() <= MAX_USERNAME_CHARS
}

/// True when every character fits ASN.1 PrintableString.
pub fn is_printable(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || " '()+,-./:=?".contains(c))
}

/// The subject `CN=<cn>` in RFC 2253 form, escaped as OpenSSL (and so
/// MongoDB, which derives the X.509 user name with OpenSSL) prints it.
pub fn rfc2253_subject(cn: &str) -> String {
    let mut out = String::with_capacity(cn.len() + 4);
    out.push_str("CN=");
    let last = cn.chars().count().saturating_sub(1);
    for (i, c) in cn.chars().enumerate() {
        let edge_space = c == ' ' && (i == 0 || i == last);
        if matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || edge_space
            || (i == 0 && c == '#')
        {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The single-RDN subject `CN=<cn>`.
fn subject_name(cn: &str) -> Result<X509Name, ErrorStack> {
    let kind = if is_printable(cn) {
        Asn1Type::PRINTABLESTRING
    } else {
        Asn1Type::UTF8STRING
    };
    let mut b = X509NameBuilder::new()?;
    b.append_entry_by_nid_with_type(Nid::COMMONNAME, cn, kind)?;
    Ok(b.build())
}

/// A fresh RSA-4096 key, as Atlas gives every certificate.
pub fn generate_key() -> Result<PKey<Private>, ErrorStack> {
    PKey::from_rsa(Rsa::generate(RSA_BITS)?)
}

/// Builds and signs a client certificate in the Atlas profile.
pub fn client_certificate(
    ca: &ProjectCa,
    key: &PKey<Private>,
    cn: &str,
    validity: &Validity,
    serial: u64,
) -> Result<X509, ErrorStack> {
    let mut b = X509::builder()?;
    b.set_version(2)?;
    let serial = serial_integer(serial)?;
    b.set_serial_number(&serial)?;
    b.set_issuer_name(ca.name())?;
    let (not_before, not_after) = (
        asn1_time(validity.not_before)?,
        asn1_time(validity.not_after)?,
    );
    b.set_not_before(&not_before)?;
    b.set_not_after(&not_after)?;
    let subject = subject_name(cn)?;
    b.set_subject_name(&subject)?;
    b.set_pubkey(key)?;
    b.append_extension(KeyUsage::new().critical().digital_signature().build()?)?;
    b.append_extension(ExtendedKeyUsage::new().critical().client_auth().build()?)?;
    b.sign(ca.key(), MessageDigest::sha256())?;
    Ok(b.build())
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

/// Issues a client certificate: generates its key, signs it under a fresh
/// serial, and commits the ledger row before returning the PEM.
pub fn issue_client(
    ca: &ProjectCa,
    ledger: &mut Ledger,
    req: &ClientRequest<'_>,
) -> Result<Issued, IssueError> {
    let key = generate_key()?;
    for _ in 0..SERIAL_ATTEMPTS {
        let serial = random_serial()?;
        let cert = client_certificate(ca, &key, req.username, &req.validity, serial)?;
        let record = CertRecord {
            project_id: req.project_id.to_string(),
            serial,
            username: req.username.to_string(),
            subject: rfc2253_subject(req.username),
            kind: Kind::Client,
            created_at: req.validity.not_before,
            not_after: req.validity.not_after,
            fingerprint: fingerprint(&cert)?,
            revoked_at: None,
        };
        match ledger.record(&record, req.limit)? {
            Recorded::Committed => {
                let pem = pem_bundle(&cert, &key)?;
                return Ok(Issued { record, pem });
            }
            Recorded::LimitReached => return Err(IssueError::LimitReached),
            Recorded::DuplicateSerial => {}
        }
    }
    Err(IssueError::NoFreeSerial)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_openssl_rfc2253() {
        assert_eq!(rfc2253_subject("alice"), "CN=alice");
        assert_eq!(rfc2253_subject("a,b+c=d"), "CN=a\\,b\\+c=d");
        assert_eq!(rfc2253_subject("#x# "), "CN=\\#x#\\ ");
        assert_eq!(rfc2253_subject(" a b"), "CN=\\ a b");
        assert_eq!(rfc2253_subject("q\"<>;\\"), "CN=q\\\"\\<\\>\\;\\\\");
        assert_eq!(rfc2253_subject("zoë"), "CN=zoë");
    }

    #[test]
    fn printable_string_charset() {
        assert!(is_printable("user389 (a'b)+,-./:=?"));
        assert!(!is_printable("a@b"));
        assert!(!is_printable("a_b"));
        assert!(!is_printable("zoë"));
    }

    #[test]
    fn username_rules() {
        assert!(is_valid_username("a,b"));
        assert!(!is_valid_username(""));
        assert!(!is_valid_username("a\0b"));
        assert!(!is_valid_username("a\nb"));
        assert!(is_valid_username(&"x".repeat(MAX_USERNAME_CHARS)));
        assert!(!is_valid_username(&"x".repeat(MAX_USERNAME_CHARS + 1)));
    }
}
