//! The CAs of a `pki apply` output directory, for `serve --pki DIR`: every
//! certificate in it that issued another one, with the serials it issued,
//! those its CRLs revoke, and who signs its OCSP answers (the CA's own key
//! when the directory holds it, or a delegated responder: a certificate
//! with id-kp-OCSPSigning that it issued, whose key the directory holds).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use openssl::pkey::{PKey, Private};
use openssl::x509::{X509, X509Crl, X509Ref};
use x509_cert::der::Decode;
use x509_cert::ext::pkix::ExtendedKeyUsage;

use super::pem_dir::{pem_blocks, pem_files};
use crate::api::{Error, FixedCa};
use crate::pki::{integer_u64, serial_of, time_of};
use crate::store::files::read_input;

/// id-kp-OCSPSigning.
const OCSP_SIGNING: x509_cert::der::oid::ObjectIdentifier =
    x509_cert::der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.9");

/// What a directory's PEM files hold: certificates, unencrypted keys, CRLs.
#[derive(Default)]
struct Contents {
    certs: Vec<X509>,
    keys: Vec<PKey<Private>>,
    crls: Vec<X509Crl>,
}

/// The CAs of `dir`; `delegate` prefers a delegated responder to the CA's
/// own key. A CA neither can sign for is left out, and named in the
/// returned notes.
pub fn load(dir: &Path, delegate: bool) -> Result<(Vec<FixedCa>, Vec<String>), Error> {
    let contents = read_dir(dir)?;
    let mut cas = Vec::new();
    let mut notes = Vec::new();
    for ca in &contents.certs {
        let children: Vec<&X509> = contents
            .certs
            .iter()
            .filter(|c| !std::ptr::eq(*c, ca) && issued_by(c, ca))
            .collect();
        if children.is_empty() {
            continue;
        }
        let own = key_of(&contents.keys, ca).map(|k| (ca.clone(), k));
        let responder = children
            .iter()
            .find(|c| signs_ocsp(c))
            .and_then(|c| key_of(&contents.keys, c).map(|k| ((*c).clone(), k)));
        let signer = if delegate {
            responder.or(own)
        } else {
            own.or(responder)
        };
        let Some(signer) = signer else {
            notes.push(format!(
                "{}: neither its key nor a delegated responder's is in {}; not answered",
                subject(ca),
                dir.display()
            ));
            continue;
        };
        let issued: HashSet<u64> = children.iter().filter_map(|c| serial_of(c)).collect();
        let mut revoked = HashMap::new();
        for crl in contents.crls.iter().filter(|crl| crl_of(crl, ca)) {
            for entry in crl.get_revoked().into_iter().flatten() {
                if let (Some(serial), Some(at)) = (
                    integer_u64(entry.serial_number()),
                    time_of(entry.revocation_date()),
                ) {
                    revoked.insert(serial, at);
                }
            }
        }
        cas.push(FixedCa {
            cert: ca.clone(),
            signer,
            issued,
            revoked,
        });
    }
    Ok((cas, notes))
}

fn read_dir(dir: &Path) -> Result<Contents, Error> {
    let mut contents = Contents::default();
    for path in pem_files(dir, false)? {
        let bytes = read_input(&path).map_err(Error::io(&path))?;
        for block in pem_blocks(&bytes) {
            let label = block.label;
            let data = block.text;
            if label == "CERTIFICATE" {
                if let Ok(cert) = X509::from_pem(data) {
                    let der = cert.to_der().unwrap_or_default();
                    if !contents
                        .certs
                        .iter()
                        .any(|c| c.to_der().is_ok_and(|d| d == der))
                    {
                        contents.certs.push(cert);
                    }
                }
            } else if label == "X509 CRL" {
                if let Ok(crl) = X509Crl::from_pem(data) {
                    contents.crls.push(crl);
                }
            } else if label.ends_with("PRIVATE KEY") && label != "ENCRYPTED PRIVATE KEY" {
                // An empty passphrase: an encrypted key fails, never prompts.
                if let Ok(key) = PKey::private_key_from_pem_passphrase(data, b"") {
                    contents.keys.push(key);
                }
            }
        }
    }
    Ok(contents)
}

/// Whether `ca` signed a certificate or CRL that names `issuer` as its
/// issuer, as `verify` with the CA's key says.
fn signed_by(
    issuer: &openssl::x509::X509NameRef,
    ca: &X509Ref,
    verify: impl Fn(&PKey<openssl::pkey::Public>) -> bool,
) -> bool {
    let same_name = match (issuer.to_der(), ca.subject_name().to_der()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    same_name && ca.public_key().is_ok_and(|k| verify(&k))
}

fn issued_by(child: &X509Ref, ca: &X509Ref) -> bool {
    signed_by(child.issuer_name(), ca, |k| {
        child.verify(k).unwrap_or(false)
    })
}

fn crl_of(crl: &X509Crl, ca: &X509Ref) -> bool {
    signed_by(crl.issuer_name(), ca, |k| crl.verify(k).unwrap_or(false))
}

fn key_of(keys: &[PKey<Private>], cert: &X509Ref) -> Option<PKey<Private>> {
    let public = cert.public_key().ok()?;
    keys.iter().find(|k| k.public_eq(&public)).cloned()
}

fn signs_ocsp(cert: &X509Ref) -> bool {
    let Ok(der) = cert.to_der() else {
        return false;
    };
    let Ok(parsed) = x509_cert::Certificate::from_der(&der) else {
        return false;
    };
    matches!(
        parsed.tbs_certificate().get_extension::<ExtendedKeyUsage>(),
        Ok(Some((_, eku))) if eku.0.contains(&OCSP_SIGNING)
    )
}

fn subject(cert: &X509Ref) -> String {
    cert.subject_name()
        .entries()
        .filter_map(|e| e.data().to_string().ok())
        .collect::<Vec<_>>()
        .join(", ")
}
