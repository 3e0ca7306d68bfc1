//! Certificate revocation lists: Atlas has no revocation, MongoDB reads one
//! from `net.tls.CRLFile`. A v2 CRL signed by the project CA lists the
//! project's revoked, unexpired certificates, with an authority key
//! identifier and a CRL number as RFC 5280 requires.
//!
//! OpenSSL's Rust bindings cannot build CRLs, so the structure is encoded
//! with RustCrypto's `x509-cert` and signed with the CA's key via OpenSSL.

use std::time::Duration;

use openssl::hash::MessageDigest;
use openssl::sign::Signer;
use time::OffsetDateTime;
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::der::asn1::{Any, BitString, OctetString};
use x509_cert::der::{self, DateTime, Decode, Encode, EncodePem, pem::LineEnding};
use x509_cert::ext::ToExtension;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlNumber};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, ObjectIdentifier};
use x509_cert::time::Time;

use crate::ca::ProjectCa;
use crate::ledger::CertRecord;

/// How long a CRL is current (its nextUpdate after thisUpdate).
pub const CRL_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");

/// Why a CRL could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CrlError {
    /// Encoding failed.
    #[error("encoding the CRL: {0}")]
    Der(#[from] der::Error),
    /// Signing failed.
    #[error("signing the CRL: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
}

fn time(t: OffsetDateTime) -> Result<Time, der::Error> {
    let secs = u64::try_from(t.unix_timestamp()).map_err(|_| der::ErrorKind::DateTime)?;
    Ok(DateTime::from_unix_duration(Duration::from_secs(secs))?.into())
}

/// A PEM CRL signed by `ca` listing `revoked`, issued at `now`.
pub fn build(
    ca: &ProjectCa,
    revoked: &[CertRecord],
    now: OffsetDateTime,
) -> Result<String, CrlError> {
    let issuer = Name::from_der(&ca.name().to_der()?)?;
    let algorithm = AlgorithmIdentifierOwned {
        oid: SHA256_WITH_RSA,
        parameters: Some(Any::null()),
    };
    let entries = revoked
        .iter()
        .map(|r| {
            Ok(RevokedCert {
                serial_number: SerialNumber::from(r.serial),
                revocation_date: time(r.revoked_at.unwrap_or(now))?,
                crl_entry_extensions: None,
            })
        })
        .collect::<Result<Vec<_>, der::Error>>()?;
    let aki = AuthorityKeyIdentifier {
        key_identifier: ca
            .cert()
            .subject_key_id()
            .map(|id| OctetString::new(id.as_slice()))
            .transpose()?,
        ..Default::default()
    };
    // Seconds since the epoch: increases with every CRL made later.
    let number = CrlNumber::try_from(u64::try_from(now.unix_timestamp()).unwrap_or_default())?;
    let extensions = vec![
        (&aki).to_extension(&issuer, &[])?,
        (&number).to_extension(&issuer, &[])?,
    ];
    let tbs = TbsCertList {
        version: x509_cert::Version::V2,
        signature: algorithm.clone(),
        issuer,
        this_update: time(now)?,
        next_update: Some(time(now + CRL_LIFETIME)?),
        revoked_certificates: (!entries.is_empty()).then_some(entries),
        crl_extensions: Some(extensions),
    };
    let mut signer = Signer::new(MessageDigest::sha256(), ca.key())?;
    let signature = signer.sign_oneshot_to_vec(&tbs.to_der()?)?;
    let crl = CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: algorithm,
        signature: BitString::from_bytes(&signature)?,
    };
    Ok(crl.to_pem(LineEnding::LF)?)
}
