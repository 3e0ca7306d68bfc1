//! `pki check FILE --against DIR`: whether a directory holds what a PKI
//! file makes, for a CI guard on committed fixtures. A file seeded with a
//! fixed time makes the same bytes every run, so they are compared byte
//! for byte. Without a seed the
//! keys, serials and dates cannot be the same, so what the file fixes is
//! compared: the files, each certificate's subject, issuer, key type,
//! lifetime and extensions (but the key identifiers, which follow the keys),
//! each key's encoding, order and password, each CRL's issuer, lifetime
//! and count of revoked certificates, each bundle's certificates.

use std::collections::BTreeSet;
use std::path::Path;

use openssl::pkey::{PKey, Private};
use openssl::x509::{X509, X509Crl};
use time::OffsetDateTime;
use x509_cert::der::{Decode, Encode};

use super::pem_dir::pem_blocks;
use super::pki_keys::{ClearFormat, KeyForm, written_differently};
use super::pki_make::make;
use super::pki_renew::read_key;
use super::pki_spec::{Files, Plan, Planned, PlannedPkcs12, Reproduce, file_names, plan_with};
use crate::api::Error;
use crate::pki::custom::{Issuer, build, empty_or};
use crate::pki::reorder_extensions;
use crate::pki::{KeyType, time_of};
use crate::store::files::read_input;

/// One way the directory differs from what the file makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The file, relative to the directory.
    pub file: String,
    /// `missing`, `extra`, or what differs.
    pub what: String,
}

/// Subject and authority key identifiers: their values follow the keys.
const KEY_IDS: [&str; 2] = ["2.5.29.14", "2.5.29.35"];

/// Every difference between `dir` and what the PKI file at `path` (its
/// text `text`) makes, sorted by file; none when the directory is what the
/// file makes. A file seeded with a fixed time (its own or `given`) is
/// compared byte for byte.
pub fn against(
    path: &Path,
    text: &str,
    dir: &Path,
    now: OffsetDateTime,
    given: &Reproduce,
) -> Result<Vec<Difference>, Error> {
    let plan = plan_with(path, text, now, given)?;
    let mut expected: BTreeSet<String> = plan.certs.iter().flat_map(file_names).collect();
    expected.extend(plan.atlas.iter().map(|a| format!("{}.pem", a.name)));
    expected.extend(plan.crls.iter().map(|c| format!("{}.pem", c.file)));
    expected.extend(plan.bundles.iter().map(|b| format!("{}.pem", b.file)));
    expected.extend(plan.digest_names());
    let actual: BTreeSet<String> = files(dir)?;
    let mut out: Vec<Difference> = Vec::new();
    let mut differ = |file: &str, what: String| {
        out.push(Difference {
            file: file.to_string(),
            what,
        })
    };
    for f in expected.difference(&actual) {
        differ(f, "missing".into());
    }
    for f in actual.difference(&expected) {
        differ(f, "extra".into());
    }
    if plan.seed.is_some() && plan.now_fixed {
        let kept: Vec<_> = plan.certs.iter().map(|_| None).collect();
        let made = make(
            &plan.certs,
            &plan.crls,
            &plan.bundles,
            plan.seed.as_ref(),
            &kept,
            &plan.digested(),
            &|_, _| {},
        )?;
        for o in made.iter().filter(|o| actual.contains(&o.name)) {
            let path = dir.join(&o.name);
            if read_input(&path).map_err(Error::io(&path))? != o.bytes {
                differ(&o.name, "not the same bytes".into());
            }
        }
        out.sort_by(|a, b| a.file.cmp(&b.file).then_with(|| a.what.cmp(&b.what)));
        return Ok(out);
    }
    let signer = KeyType::EcP256.generate()?;
    // Each certificate's public key, as its file holds it: tables sharing
    // a key must hold one.
    let mut public: Vec<Option<(String, Vec<u8>)>> = vec![None; plan.certs.len()];
    for (k, p) in plan.certs.iter().enumerate() {
        let file = match p.files {
            Files::Split => format!("{}.crt", p.file),
            Files::None => continue,
            _ => format!("{}.pem", p.file),
        };
        if !actual.contains(&file) {
            continue;
        }
        let bytes = read_input(&dir.join(&file)).map_err(Error::io(dir.join(&file)))?;
        match first_cert(&bytes) {
            None => differ(&file, "holds no certificate".into()),
            Some(cert) => {
                for what in cert_differences(&plan, p, &cert, &signer)? {
                    differ(&file, what);
                }
                public[k] = Some((file.clone(), cert.public_key()?.public_key_to_der()?));
            }
        }
        let key_file = match p.files {
            Files::Pem => Some(format!("{}.pem", p.file)),
            Files::Split | Files::PemAndSplit => Some(format!("{}.key", p.file)),
            _ => None,
        };
        if let Some(key_file) = key_file.filter(|f| actual.contains(f)) {
            let certificate_key = public[k].as_ref().map(|(_, der)| der.as_slice());
            for what in key_differences(dir, &key_file, &p.key_form, p, certificate_key)? {
                differ(&key_file, what);
            }
        }
        let pfx = format!("{}.pfx", p.file);
        if let Some(p12) = p.pkcs12.as_ref().filter(|_| actual.contains(&pfx)) {
            let bytes = read_input(&dir.join(&pfx)).map_err(Error::io(dir.join(&pfx)))?;
            for what in pfx_differences(&plan, p12, &bytes)? {
                differ(&pfx, what);
            }
        }
    }
    // Tables sharing a key hold one: each against the first of its group
    // (the key's own table, or the first sharer when that writes none).
    for (j, p) in plan.certs.iter().enumerate() {
        let root = p.key_from.unwrap_or(j);
        let first = (0..plan.certs.len())
            .find(|&k| public[k].is_some() && plan.certs[k].key_from.unwrap_or(k) == root);
        if let (Some(first), Some((file, key))) = (first, &public[j])
            && first != j
            && public[first]
                .as_ref()
                .is_some_and(|(_, theirs)| theirs != key)
        {
            differ(
                file,
                format!(
                    "its key is not table {:?}'s, with which it shares a key",
                    plan.certs[first].name
                ),
            );
        }
    }
    for c in &plan.crls {
        let file = format!("{}.pem", c.file);
        if !actual.contains(&file) {
            continue;
        }
        let bytes = read_input(&dir.join(&file)).map_err(Error::io(dir.join(&file)))?;
        let crl = pem_blocks(&bytes)
            .into_iter()
            .find(|b| b.label == "X509 CRL")
            .and_then(|b| X509Crl::from_pem(b.text).ok());
        let Some(crl) = crl else {
            differ(&file, "holds no CRL".into());
            continue;
        };
        let issuer = empty_or(&plan.certs[c.issuer].spec.subject_der);
        if crl.issuer_name().to_der()? != issuer {
            differ(&file, "issuer".into());
        }
        let lifetime = crl
            .next_update()
            .and_then(time_of)
            .zip(time_of(crl.last_update()))
            .map(|(next, this)| next - this);
        if lifetime != Some(c.next_update - c.this_update) {
            differ(&file, "lifetime (nextUpdate - thisUpdate)".into());
        }
        let numbered =
            x509_cert::crl::CertificateList::<x509_cert::certificate::Rfc5280>::from_der(
                &crl.to_der()?,
            )
            .ok()
            .and_then(|l| l.tbs_cert_list.crl_extensions)
            .is_some_and(|e| {
                e.iter()
                    .any(|x| x.extn_id == const_oid::db::rfc5280::ID_CE_CRL_NUMBER)
            });
        if numbered != c.numbered {
            let what = if c.numbered {
                "no CRL number"
            } else {
                "a CRL number (the file says crl_number = false)"
            };
            differ(&file, what.into());
        }
        let revoked = crl.get_revoked().map_or(0, |r| r.len());
        if revoked != c.revoked.len() {
            differ(
                &file,
                format!("{revoked} revoked certificates, not {}", c.revoked.len()),
            );
        }
    }
    for b in &plan.bundles {
        let file = format!("{}.pem", b.file);
        if !actual.contains(&file) {
            continue;
        }
        let bytes = read_input(&dir.join(&file)).map_err(Error::io(dir.join(&file)))?;
        let subjects: Vec<Vec<u8>> = pem_blocks(&bytes)
            .into_iter()
            .filter(|b| b.label == "CERTIFICATE")
            .filter_map(|b| X509::from_pem(b.text).ok())
            .filter_map(|c| c.subject_name().to_der().ok())
            .collect();
        let want: Vec<Vec<u8>> = b
            .certs
            .iter()
            .map(|&i| empty_or(&plan.certs[i].spec.subject_der))
            .collect();
        if subjects != want {
            differ(&file, "its certificates (by subject, in order)".into());
        }
        if let Some((i, form)) = &b.key {
            let certificate_key = public[*i].as_ref().map(|(_, der)| der.as_slice());
            for what in key_differences(dir, &file, form, &plan.certs[*i], certificate_key)? {
                differ(&file, what);
            }
        }
    }
    out.sort_by(|a, b| a.file.cmp(&b.file).then_with(|| a.what.cmp(&b.what)));
    out.dedup();
    Ok(out)
}

/// Every regular file under `dir`, relative.
fn files(dir: &Path) -> Result<BTreeSet<String>, Error> {
    let mut out = BTreeSet::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(at) = dirs.pop() {
        for entry in std::fs::read_dir(&at).map_err(Error::io(&at))?.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() {
                dirs.push(path);
            } else if let Ok(rel) = path.strip_prefix(dir) {
                out.insert(rel.to_string_lossy().into_owned());
            }
        }
    }
    Ok(out)
}

fn first_cert(bytes: &[u8]) -> Option<X509> {
    pem_blocks(bytes)
        .into_iter()
        .find(|b| b.label == "CERTIFICATE")
        .and_then(|b| X509::from_pem(b.text).ok())
}

/// How `cert` differs from the planned `p`: subject, issuer, key type,
/// lifetime, extensions.
fn cert_differences(
    plan: &Plan,
    p: &Planned,
    cert: &X509,
    signer: &PKey<Private>,
) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    let subject = empty_or(&p.spec.subject_der);
    if cert.subject_name().to_der()? != subject {
        out.push("subject".into());
    }
    let issuer = p.issuer.map_or(subject.clone(), |i| {
        empty_or(&plan.certs[i].spec.subject_der)
    });
    if cert.issuer_name().to_der()? != issuer {
        out.push("issuer".into());
    }
    let key_type = KeyType::of(&*cert.public_key()?);
    if key_type != Some(p.key_type) {
        out.push(format!(
            "key type {}, not {}",
            key_type.map_or("unknown".to_string(), |t| t.to_string()),
            p.key_type
        ));
    }
    let lifetime = time_of(cert.not_after())
        .zip(time_of(cert.not_before()))
        .map(|(a, b)| a - b);
    let planned = p.spec.not_after.zip(p.spec.not_before).map(|(a, b)| a - b);
    if lifetime != planned {
        out.push("lifetime (notAfter - notBefore)".into());
    }
    // The extensions the spec makes, on a stand-in signed by a stand-in
    // issuer: the same but for the key identifiers' values.
    let issuer_name = openssl::x509::X509Name::from_der(&issuer)?;
    let standin = build(
        &p.spec,
        signer,
        p.issuer.map(|_| Issuer {
            name: &issuer_name,
            key: signer,
            cert: None,
        }),
    )?;
    let standin = if p.extension_order.is_empty() {
        standin
    } else {
        let der = reorder_extensions(&standin.to_der()?, &p.extension_order, signer)?;
        X509::from_der(&der)?
    };
    if extensions(cert)? != extensions(&standin)? {
        out.push("extensions".into());
    }
    Ok(out)
}

/// A certificate's extensions, in order: OID, criticality and value; the
/// key identifiers left out (they follow the keys and the issuer's
/// certificate, which a comparison without a seed cannot fix).
fn extensions(cert: &X509) -> Result<Vec<(String, bool, Vec<u8>)>, Error> {
    let der = cert.to_der()?;
    let parsed =
        x509_cert::Certificate::from_der(&der).map_err(|e| Error::Internal(e.to_string()))?;
    let mut out = Vec::new();
    for e in parsed.tbs_certificate().extensions().into_iter().flatten() {
        let oid = e.extn_id.to_string();
        if KEY_IDS.contains(&oid.as_str()) {
            continue;
        }
        let value = e
            .extn_value
            .to_der()
            .map_err(|e| Error::Internal(e.to_string()))?;
        out.push((oid, e.critical, value));
    }
    Ok(out)
}

/// How a `.pfx` differs from what `p12` asks: it opens with its password,
/// its key is its certificate's, and the certificates after the leaf are
/// the chain's (by subject, in order).
fn pfx_differences(plan: &Plan, p12: &PlannedPkcs12, der: &[u8]) -> Result<Vec<String>, Error> {
    let parsed = openssl::pkcs12::Pkcs12::from_der(der)
        .ok()
        .and_then(|p| p.parse2(&p12.password).ok());
    let Some(parsed) = parsed else {
        return Ok(vec!["does not open with the file's pkcs12 password".into()]);
    };
    let mut out = Vec::new();
    let matched = parsed
        .pkey
        .as_ref()
        .zip(parsed.cert.as_ref())
        .is_some_and(|(key, cert)| cert.public_key().is_ok_and(|k| k.public_eq(key)));
    if !matched {
        out.push("its key is not its certificate's".into());
    }
    let mut chain = Vec::new();
    for c in parsed.ca.iter().flatten() {
        chain.push(c.subject_name().to_der()?);
    }
    let want: Vec<Vec<u8>> = p12
        .chain
        .iter()
        .map(|&i| empty_or(&plan.certs[i].spec.subject_der))
        .collect();
    // The order OpenSSL hands them back in differs between its versions.
    let (mut got, mut sorted) = (chain, want);
    got.sort();
    sorted.sort();
    if got != sorted {
        out.push("its chain (by subject)".into());
    }
    Ok(out)
}

/// How the key in `file` differs from what `form` writes for `p`: its
/// block's encoding, its place, its password, whether it is the
/// certificate's (the file's, else `certificate_key`, the public key DER
/// of the table's certificate).
fn key_differences(
    dir: &Path,
    file: &str,
    form: &KeyForm,
    p: &Planned,
    certificate_key: Option<&[u8]>,
) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    let bytes = read_input(&dir.join(file)).map_err(Error::io(dir.join(file)))?;
    let blocks = pem_blocks(&bytes);
    let Some(at) = blocks.iter().position(|b| b.label.ends_with("PRIVATE KEY")) else {
        return Ok(vec!["holds no private key".into()]);
    };
    let block = &blocks[at];
    out.extend(written_differently(form, block.label, block.text));
    let curve_first = at > 0 && blocks[at - 1].label == "EC PARAMETERS";
    if form.clear == ClearFormat::Sec1 && !curve_first {
        out.push("no EC PARAMETERS block right before the key".into());
    }
    let certs_before = blocks[..at].iter().any(|b| b.label == "CERTIFICATE");
    let certs_after = blocks[at..].iter().any(|b| b.label == "CERTIFICATE");
    if (form.first && certs_before) || (!form.first && certs_after && !certs_before) {
        out.push(
            if form.first {
                "key not first"
            } else {
                "key before the certificates"
            }
            .into(),
        );
    }
    match read_key(dir, file, form, p.key_type, &p.name) {
        Ok((key, _)) => {
            // Its certificate is one of the file's (a bundle may hold it
            // after others).
            let certs: Vec<X509> = blocks
                .iter()
                .filter(|b| b.label == "CERTIFICATE")
                .filter_map(|b| X509::from_pem(b.text).ok())
                .collect();
            let matched = certs
                .iter()
                .any(|c| c.public_key().is_ok_and(|k| k.public_eq(&key)));
            // A key file alone (split) is checked against the table's
            // certificate as its own file holds it.
            let own = certificate_key.is_some_and(|der| {
                key.public_key_to_der()
                    .is_ok_and(|mine| mine.as_slice() == der)
            });
            if (!certs.is_empty() && !matched)
                || (certs.is_empty() && certificate_key.is_some() && !own)
            {
                out.push("the key is not its certificate's".into());
            }
        }
        Err(e) => out.push(e.to_string()),
    }
    Ok(out)
}
