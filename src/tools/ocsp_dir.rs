//! The CAs of a `pki apply` output directory, for `serve --pki DIR`: every
//! certificate in it that issued another one, with the serials it issued,
//! those its CRLs revoke, and who signs its OCSP answers (the CA's own key
//! when the directory holds it, or a delegated responder: a certificate
//! with id-kp-OCSPSigning that it issued, whose key the directory holds).

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};
use std::path::Path;

use openssl::pkey::{PKey, Private};
use openssl::x509::{X509, X509Crl, X509Ref};
use x509_cert::der::Decode;
use x509_cert::ext::pkix::ExtendedKeyUsage;

use super::pem_dir::{pem_blocks, pem_files};
use crate::api::{Error, FixedCa, Invalid};
use crate::pki::{integer_u64, serial_of, time_of};
use crate::store::files::read_input;

/// id-kp-OCSPSigning.
const OCSP_SIGNING: x509_cert::der::oid::ObjectIdentifier =
    x509_cert::der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.9");

/// What a directory's PEM files hold: certificates, unencrypted keys, CRLs.
#[derive(Default)]
struct Contents {
    certs: Vec<X509>,
    /// The name (without extension) of the file each certificate came from.
    stems: Vec<String>,
    keys: Keys,
    crls: Vec<X509Crl>,
}

/// The unencrypted private keys of a directory, decoded only when asked
/// for (OpenSSL 3's decoders cost about a millisecond a key, and a CA
/// needs one key of thousands): a certificate's key is looked for in its
/// own file's name first (`ca.crt` and `ca.key`), then everywhere.
#[derive(Default)]
struct Keys {
    blocks: Vec<(String, Vec<u8>)>,
    decoded: Vec<OnceCell<Option<Decoded>>>,
}

/// A decoded key with its public key's DER, to compare with certificates'.
type Decoded = (Vec<u8>, PKey<Private>);

impl Keys {
    fn push(&mut self, stem: &str, pem: &[u8]) {
        self.blocks.push((stem.to_string(), pem.to_vec()));
        self.decoded.push(OnceCell::new());
    }

    /// The key block `i` as (public key DER, key), decoded once.
    fn get(&self, i: usize) -> Option<&Decoded> {
        self.decoded[i]
            .get_or_init(|| {
                // An empty passphrase: an encrypted key fails, never prompts.
                let key = PKey::private_key_from_pem_passphrase(&self.blocks[i].1, b"").ok()?;
                Some((key.public_key_to_der().ok()?, key))
            })
            .as_ref()
    }

    /// The key of `cert`, which came from a file named `stem`.
    fn of(&self, cert: &X509Ref, stem: &str) -> Option<PKey<Private>> {
        let public = cert.public_key().ok()?.public_key_to_der().ok()?;
        let (near, far): (Vec<usize>, Vec<usize>) =
            (0..self.blocks.len()).partition(|&i| self.blocks[i].0 == stem);
        near.into_iter()
            .chain(far)
            .find_map(|i| self.get(i).filter(|(der, _)| *der == public))
            .map(|(_, key)| key.clone())
    }
}

/// Most distinct certificates a directory may hold: `pki apply` makes at
/// most 2,000 tables, so this is room for every one and its bundles.
pub const MAX_CERTIFICATES: usize = 10_000;

/// The CAs of `dir`; `delegate` prefers a delegated responder to the CA's
/// own key. A CA neither can sign for is left out, and named in the
/// returned notes.
///
/// An issuer is a subject name with a key: certificates that share both
/// are one CA to OCSP (a query names the issuer by the two hashes), so a
/// certificate's signature is checked once against each key its issuer's
/// name has, found in an index and narrowed by key identifiers, and
/// loading grows with the certificates rather than with their square.
pub fn load(dir: &Path, delegate: bool) -> Result<(Vec<FixedCa>, Vec<String>), Error> {
    let contents = read_dir(dir)?;
    let certs = &contents.certs;
    // Issuers in the order their first certificate comes, with the
    // certificates that are theirs and the names that lead to them.
    let mut issuers: Vec<Issuer> = Vec::new();
    let mut by_name: HashMap<Vec<u8>, Vec<usize>> = HashMap::new();
    let mut of_cert: Vec<Option<usize>> = Vec::with_capacity(certs.len());
    for (i, cert) in certs.iter().enumerate() {
        let (Ok(name), Ok(key)) = (
            cert.subject_name().to_der(),
            cert.public_key().and_then(|k| k.public_key_to_der()),
        ) else {
            of_cert.push(None);
            continue;
        };
        let named = by_name.entry(name).or_default();
        let found = named.iter().copied().find(|&g| issuers[g].key_der == key);
        let g = found.unwrap_or_else(|| {
            issuers.push(Issuer {
                first: i,
                key_der: key,
                children: Vec::new(),
                crls: Vec::new(),
            });
            named.push(issuers.len() - 1);
            issuers.len() - 1
        });
        of_cert.push(Some(g));
    }
    let candidates = |issuer: &openssl::x509::X509NameRef| -> Vec<usize> {
        issuer
            .to_der()
            .ok()
            .and_then(|name| by_name.get(&name).cloned())
            .unwrap_or_default()
    };
    for (i, child) in certs.iter().enumerate() {
        for g in candidates(child.issuer_name()) {
            let issuer = &certs[issuers[g].first];
            if of_cert[i] != Some(g)
                && key_ids_agree(child, issuer)
                && verifies(issuer, |k| child.verify(k))
            {
                issuers[g].children.push(i);
            }
        }
    }
    for (c, crl) in contents.crls.iter().enumerate() {
        for g in candidates(crl.issuer_name()) {
            if verifies(&certs[issuers[g].first], |k| crl.verify(k)) {
                issuers[g].crls.push(c);
            }
        }
    }
    let key_of = |i: usize| contents.keys.of(&certs[i], &contents.stems[i]);
    let mut cas = Vec::new();
    let mut notes = Vec::new();
    for issuer in issuers.iter().filter(|g| !g.children.is_empty()) {
        let ca = &certs[issuer.first];
        let own = key_of(issuer.first).map(|k| (ca.clone(), k));
        let responder = issuer
            .children
            .iter()
            .copied()
            .find(|&i| signs_ocsp(&certs[i]))
            .and_then(|i| key_of(i).map(|k| (certs[i].clone(), k)));
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
        let issued: HashSet<u64> = issuer
            .children
            .iter()
            .filter_map(|&i| serial_of(&certs[i]))
            .collect();
        let mut revoked = HashMap::new();
        for &c in &issuer.crls {
            for entry in contents.crls[c].get_revoked().into_iter().flatten() {
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

/// One issuer: a subject name with a key, named by the first certificate
/// that has both (`first`); the certificates it signed and its CRLs, by
/// index.
struct Issuer {
    first: usize,
    key_der: Vec<u8>,
    children: Vec<usize>,
    crls: Vec<usize>,
}

fn read_dir(dir: &Path) -> Result<Contents, Error> {
    let mut contents = Contents::default();
    let mut seen: HashSet<Vec<u8>> = HashSet::new();
    for path in pem_files(dir, false)? {
        let bytes = read_input(&path).map_err(Error::io(&path))?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        for block in pem_blocks(&bytes) {
            let label = block.label;
            let data = block.text;
            if label == "CERTIFICATE" {
                if let Ok(cert) = X509::from_pem(data)
                    && seen.insert(cert.to_der().unwrap_or_default())
                {
                    if contents.certs.len() == MAX_CERTIFICATES {
                        return Err(Invalid::TooManyCertificates {
                            dir: dir.to_path_buf(),
                            max: MAX_CERTIFICATES,
                        }
                        .into());
                    }
                    contents.certs.push(cert);
                    contents.stems.push(stem.clone());
                }
            } else if label == "X509 CRL" {
                if let Ok(crl) = X509Crl::from_pem(data) {
                    contents.crls.push(crl);
                }
            } else if label.ends_with("PRIVATE KEY") && label != "ENCRYPTED PRIVATE KEY" {
                contents.keys.push(&stem, data);
            }
        }
    }
    Ok(contents)
}

/// Whether a certificate naming `ca` as its issuer may be `ca`'s by key
/// identifiers: unless both are present and differ (then no signature
/// needs checking).
fn key_ids_agree(child: &X509Ref, ca: &X509Ref) -> bool {
    match (child.authority_key_id(), ca.subject_key_id()) {
        (Some(aki), Some(ski)) => aki.as_slice() == ski.as_slice(),
        _ => true,
    }
}

/// Whether `verify` accepts `ca`'s public key (a signature it made).
fn verifies(
    ca: &X509Ref,
    verify: impl Fn(&PKey<openssl::pkey::Public>) -> Result<bool, openssl::error::ErrorStack>,
) -> bool {
    ca.public_key().is_ok_and(|k| verify(&k).unwrap_or(false))
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
