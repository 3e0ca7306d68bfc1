//! Certificate revocation lists: Atlas has no revocation, MongoDB reads one
//! from `net.tls.CRLFile`. A v2 CRL signed by the project CA lists the
//! project's revoked, unexpired certificates, with an authority key
//! identifier and a CRL number as RFC 5280 requires; `pki apply` makes
//! them by any of its CAs, with any dates.
//!
//! OpenSSL's Rust bindings cannot build CRLs, so the structure is encoded
//! with RustCrypto's `x509-cert` and signed with the CA's key via OpenSSL.

use std::time::Duration;

use openssl::hash::MessageDigest;
use openssl::pkey::{Id, PKeyRef, Private};
use openssl::sign::Signer;
use openssl::x509::X509Ref;
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

use super::authority::Authority;
use super::backend::Backend;

/// How long a CRL is current unless asked otherwise (its nextUpdate after
/// thisUpdate).
pub const CRL_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

fn time(t: OffsetDateTime) -> Result<Time, der::Error> {
    let secs = u64::try_from(t.unix_timestamp()).map_err(|_| der::ErrorKind::DateTime)?;
    Ok(DateTime::from_unix_duration(Duration::from_secs(secs))?.into())
}

/// A PEM CRL signed by `ca`, issued at `now` and current until
/// `next_update`, listing the `revoked` serials with their revocation times.
pub fn build(
    ca: &Authority,
    revoked: &[(u64, OffsetDateTime)],
    now: OffsetDateTime,
    next_update: OffsetDateTime,
) -> Result<String, Backend> {
    build_by(ca.cert(), ca.key(), revoked, now, next_update)
}

/// A PEM CRL by the CA whose certificate is `issuer` and key `key` (RSA,
/// EC or Ed25519), current from `this_update` to `next_update` (either may
/// lie in the past: an expired CRL), listing the `revoked` serials.
pub fn build_by(
    issuer: &X509Ref,
    key: &PKeyRef<Private>,
    revoked: &[(u64, OffsetDateTime)],
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
) -> Result<String, Backend> {
    // Seconds since the epoch: increases with every CRL made later.
    let number = u64::try_from(this_update.unix_timestamp()).unwrap_or_default();
    build_numbered(issuer, key, revoked, this_update, next_update, Some(number))
}

/// [`build_by`] with the CRL number given (several CRLs of one issuer
/// made at one time each get their own, increasing), or none (as mongod's
/// current `mkcert.py` writes its CRLs; RFC 5280 wants one).
pub fn build_numbered(
    issuer: &X509Ref,
    key: &PKeyRef<Private>,
    revoked: &[(u64, OffsetDateTime)],
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
    number: Option<u64>,
) -> Result<String, Backend> {
    let issuer_name = Name::from_der(&issuer.subject_name().to_der()?)?;
    let algorithm = match key.id() {
        Id::EC => AlgorithmIdentifierOwned {
            oid: ECDSA_WITH_SHA256,
            parameters: None,
        },
        Id::ED25519 => AlgorithmIdentifierOwned {
            oid: ED25519,
            parameters: None,
        },
        _ => AlgorithmIdentifierOwned {
            oid: SHA256_WITH_RSA,
            parameters: Some(Any::null()),
        },
    };
    let entries = revoked
        .iter()
        .map(|&(serial, at)| {
            Ok(RevokedCert {
                serial_number: SerialNumber::from(serial),
                revocation_date: time(at)?,
                crl_entry_extensions: None,
            })
        })
        .collect::<Result<Vec<_>, der::Error>>()?;
    let mut extensions = Vec::with_capacity(2);
    // The issuer's key id, when its certificate has one.
    if let Some(id) = issuer.subject_key_id() {
        let aki = AuthorityKeyIdentifier {
            key_identifier: Some(OctetString::new(id.as_slice())?),
            ..Default::default()
        };
        extensions.push((&aki).to_extension(&issuer_name, &[])?);
    }
    if let Some(number) = number {
        let number = CrlNumber::try_from(number)?;
        extensions.push((&number).to_extension(&issuer_name, &[])?);
    }
    let tbs = TbsCertList {
        version: x509_cert::Version::V2,
        signature: algorithm.clone(),
        issuer: issuer_name,
        this_update: time(this_update)?,
        next_update: Some(time(next_update)?),
        revoked_certificates: (!entries.is_empty()).then_some(entries),
        crl_extensions: (!extensions.is_empty()).then_some(extensions),
    };
    let mut signer = if key.id() == Id::ED25519 {
        Signer::new_without_digest(key)?
    } else {
        Signer::new(MessageDigest::sha256(), key)?
    };
    let signature = signer.sign_oneshot_to_vec(&tbs.to_der()?)?;
    let crl = CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: algorithm,
        signature: BitString::from_bytes(&signature)?,
    };
    Ok(crl.to_pem(LineEnding::LF)?)
}
