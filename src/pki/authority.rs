//! A certificate authority in memory: its key and self-signed certificate,
//! named exactly as Atlas names the issuer of its client certificates
//! (`CN=<project id>, OU=Atlas, O=MongoDB Inc`, PrintableString).

use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, PKeyRef, Private};
use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectKeyIdentifier};
use openssl::x509::{X509, X509NameRef};

use super::backend::Backend;
use super::pkcs8;
use super::validity::Validity;
use super::x509::{asn1_time, name, random_serial, serial_integer};

/// Lifetime of a project CA, in months.
pub const CA_MONTHS: u32 = 120;

/// A CA's key and certificate, known to belong together. Cloning shares
/// them (OpenSSL reference counts).
#[derive(Clone)]
pub struct Authority {
    key: PKey<Private>,
    cert: X509,
}

impl Authority {
    /// A new self-signed CA for `project_id` with `key`, valid for
    /// `validity`: basicConstraints CA (critical), keyUsage keyCertSign and
    /// cRLSign (critical), a subject key identifier.
    pub fn self_signed(
        project_id: &str,
        key: PKey<Private>,
        validity: &Validity,
    ) -> Result<Authority, ErrorStack> {
        let name = name(&[
            (Nid::COMMONNAME, project_id),
            (Nid::ORGANIZATIONALUNITNAME, "Atlas"),
            (Nid::ORGANIZATIONNAME, "MongoDB Inc"),
        ])?;
        Authority::with_name(name, key, validity)
    }

    /// A new self-signed CA of atlas-ca's own (not an Atlas project's):
    /// `CN=<cn>, O=atlas-ca`, with the same extensions.
    pub fn self_signed_local(
        cn: &str,
        key: PKey<Private>,
        validity: &Validity,
    ) -> Result<Authority, ErrorStack> {
        let name = name(&[(Nid::COMMONNAME, cn), (Nid::ORGANIZATIONNAME, "atlas-ca")])?;
        Authority::with_name(name, key, validity)
    }

    fn with_name(
        name: openssl::x509::X509Name,
        key: PKey<Private>,
        validity: &Validity,
    ) -> Result<Authority, ErrorStack> {
        let mut b = X509::builder()?;
        b.set_version(2)?;
        let serial = serial_integer(random_serial()?)?;
        b.set_serial_number(&serial)?;
        b.set_subject_name(&name)?;
        b.set_issuer_name(&name)?;
        let (not_before, not_after) = (
            asn1_time(validity.not_before)?,
            asn1_time(validity.not_after)?,
        );
        b.set_not_before(&not_before)?;
        b.set_not_after(&not_after)?;
        b.set_pubkey(&key)?;
        b.append_extension(BasicConstraints::new().critical().ca().build()?)?;
        b.append_extension(
            KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build()?,
        )?;
        let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(None, None))?;
        b.append_extension(ski)?;
        b.sign(&key, MessageDigest::sha256())?;
        Ok(Authority {
            key,
            cert: b.build(),
        })
    }

    /// The CA of `key` and `cert`, or `None` when the key is not the
    /// certificate's.
    pub fn from_parts(key: PKey<Private>, cert: X509) -> Result<Option<Authority>, ErrorStack> {
        let matches = cert.public_key()?.public_eq(&key);
        Ok(matches.then_some(Authority { key, cert }))
    }

    /// The CA certificate.
    pub fn cert(&self) -> &X509 {
        &self.cert
    }

    /// The CA certificate as PEM, what `net.tls.CAFile` takes.
    pub fn cert_pem(&self) -> Result<Vec<u8>, ErrorStack> {
        self.cert.to_pem()
    }

    /// The CA key as PKCS#8 PEM, encrypted (PBES2: PBKDF2-HMAC-SHA256 at
    /// [`pkcs8::ITERATIONS`] iterations, AES-256-CBC) with `passphrase`
    /// when there is one.
    pub fn key_pem(&self, passphrase: Option<&[u8]>) -> Result<Vec<u8>, Backend> {
        match passphrase {
            Some(p) => pkcs8::encrypt_pem(&self.key, p, pkcs8::ITERATIONS),
            None => Ok(self.key.private_key_to_pem_pkcs8()?),
        }
    }

    /// The CA's subject, which is the issuer of everything it signs.
    pub fn name(&self) -> &X509NameRef {
        self.cert.subject_name()
    }

    /// The CA's private key, for signing.
    pub fn key(&self) -> &PKeyRef<Private> {
        &self.key
    }
}
