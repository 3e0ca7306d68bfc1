//! What a PKI file's own tables make, in memory: keys (from the seed when
//! there is one, else fresh; kept ones on a renewal), certificates signed
//! issuers first, every file's bytes. `pki apply` writes them; `pki check
//! --against` compares them with a directory.

use openssl::pkey::{PKey, Private};
use openssl::x509::{X509, X509Crl};
use rayon::prelude::*;
use time::OffsetDateTime;

use super::pem_dir::pem_blocks;
use super::pki_keys::{KeyForm, joined, key_pem, key_pem_seeded};
use super::pki_renew::KeptKey;
use super::pki_spec::{Files, Planned, PlannedBundle, PlannedCrl};
use crate::api::Error;
use crate::pki::crl::build_numbered;
use crate::pki::custom::{Issuer, build};
use crate::pki::pkcs12::pkcs12_der_seeded;
use crate::pki::pkcs12_der;
use crate::pki::reorder_extensions;
use crate::pki::seeded::{self, Seed};

/// One file to write: its name and content, and whether it holds a key.
pub(crate) struct Output {
    pub(crate) name: String,
    pub(crate) bytes: Vec<u8>,
    pub(crate) private: bool,
}

/// Every file of the certificates `planned` (issuers first), the CRLs and
/// the bundles; with `seed`, every random choice is the seed's; a key in
/// `kept` is used, and written as it was (`kept_keys` makes the kept keys
/// of tables sharing one the same).
pub(crate) fn make(
    planned: &[Planned],
    crls: &[PlannedCrl],
    bundles: &[PlannedBundle],
    seed: Option<&Seed>,
    kept: &[Option<KeptKey>],
    digested: &[String],
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<Output>, Error> {
    // Keys are the cost: the progress counts them as they are made. A
    // table that shares another's key (`key_from`) gets none of its own.
    let made = std::sync::atomic::AtomicUsize::new(0);
    let own = planned.iter().filter(|p| p.key_from.is_none()).count();
    let generated = planned
        .par_iter()
        .zip(kept)
        .map(|(p, kept)| {
            if p.key_from.is_some() {
                return Ok(None);
            }
            let key = match (kept, seed) {
                (Some(k), _) => k.key.clone(),
                (None, Some(seed)) => seeded::key(p.key_type, &mut seed.stream(&p.name, "key")?)?,
                (None, None) => p.key_type.generate()?,
            };
            let done = made.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            progress(done, own);
            Ok(Some(key))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let keys = planned
        .iter()
        .enumerate()
        .map(|(i, p)| generated[p.key_from.unwrap_or(i)].clone())
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| Error::Internal("a shared key's table has no key of its own".into()))?;
    // A kept key is written back as each file held it; a seeded one with
    // the salts and IVs of the stream of the table (or bundle) writing it.
    let key_block = |i: usize, form: &KeyForm, writer: &str| -> Result<Vec<u8>, Error> {
        match (kept[i].as_ref().and_then(|k| k.block(form)), seed) {
            (Some(block), _) => Ok(block.to_vec()),
            (None, Some(seed)) => {
                key_pem_seeded(&keys[i], form, &mut seed.stream(writer, "key-encryption")?)
            }
            (None, None) => key_pem(&keys[i], form),
        }
    };
    let mut certs: Vec<X509> = Vec::with_capacity(planned.len());
    for (p, key) in planned.iter().zip(&keys) {
        let issuer = p.issuer.map(|i| Issuer {
            name: certs[i].subject_name(),
            key: &keys[i],
            cert: Some(&certs[i]),
        });
        let signer = p.issuer.map_or(key, |i| &keys[i]);
        let cert = build(&p.spec, key, issuer)?;
        certs.push(if !p.extension_order.is_empty() {
            // Reordered, then signed again (deterministically).
            X509::from_der(&reorder_extensions(
                &cert.to_der()?,
                &p.extension_order,
                signer,
            )?)?
        } else {
            match seed {
                Some(_) => X509::from_der(&seeded::resign(&cert.to_der()?, signer)?)?,
                None => cert,
            }
        });
    }
    let outputs = planned
        .iter()
        .zip(&keys)
        .zip(&certs)
        .enumerate()
        .map(|(i, ((p, key), cert))| {
            render(
                p,
                key,
                || key_block(i, &p.key_form, &p.name),
                cert,
                &certs,
                seed,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut outputs: Vec<Output> = outputs.into_iter().flatten().collect();
    for (k, c) in crls.iter().enumerate() {
        // RFC 5280: an issuer's CRL numbers increase. Those made at one
        // time count on in file order: the time's seconds, times a
        // million (more than a file's tables), plus how many of the
        // issuer's CRLs come before in the file.
        let earlier = crls[..k].iter().filter(|e| e.issuer == c.issuer).count();
        let seconds = u64::try_from(c.this_update.unix_timestamp()).unwrap_or_default();
        let number = seconds
            .saturating_mul(1_000_000)
            .saturating_add(u64::try_from(earlier).unwrap_or(u64::MAX));
        let revoked: Vec<(u64, OffsetDateTime)> = c
            .revoked
            .iter()
            .map(|&i| (planned[i].spec.serial, c.this_update))
            .collect();
        let mut pem = build_numbered(
            &certs[c.issuer],
            &keys[c.issuer],
            &revoked,
            c.this_update,
            c.next_update,
            c.numbered.then_some(number),
        )?
        .into_bytes();
        if seed.is_some() {
            let der = X509Crl::from_pem(&pem)?.to_der()?;
            pem = X509Crl::from_der(&seeded::resign(&der, &keys[c.issuer])?)?.to_pem()?;
        }
        outputs.push(Output {
            name: format!("{}.pem", c.file),
            bytes: pem,
            private: false,
        });
    }
    for b in bundles {
        let mut pem = Vec::new();
        for &i in &b.certs {
            pem.extend(certs[i].to_pem()?);
        }
        if let Some((i, form)) = &b.key {
            let writer = format!("bundle:{}", b.file);
            pem = joined(&pem, &key_block(*i, form, &writer)?, form);
        }
        outputs.push(Output {
            name: format!("{}.pem", b.file),
            bytes: pem,
            private: b.key.is_some(),
        });
    }
    let mut digests = Vec::new();
    for o in outputs.iter().filter(|o| digested.contains(&o.name)) {
        digests.extend(digest_files(o)?);
    }
    outputs.extend(digests);
    Ok(outputs)
}

/// `<file>.digest.sha1` and `<file>.digest.sha256` as mongod's
/// `mkdigest.py` writes them: the uppercase hex digest of the DER of the
/// file's first certificate (or of its CRL), without a newline.
fn digest_files(o: &Output) -> Result<Vec<Output>, Error> {
    let block = pem_blocks(&o.bytes)
        .into_iter()
        .find(|b| matches!(b.label, "CERTIFICATE" | "X509 CRL"));
    let der = match block {
        Some(b) if b.label == "CERTIFICATE" => X509::from_pem(b.text)?.to_der()?,
        Some(b) => X509Crl::from_pem(b.text)?.to_der()?,
        None => return Ok(Vec::new()),
    };
    let upper = |bytes: &[u8]| crate::model::hex(bytes).to_ascii_uppercase().into_bytes();
    Ok(vec![
        Output {
            name: format!("{}.digest.sha1", o.name),
            bytes: upper(&openssl::sha::sha1(&der)),
            private: false,
        },
        Output {
            name: format!("{}.digest.sha256", o.name),
            bytes: upper(&openssl::sha::sha256(&der)),
            private: false,
        },
    ])
}

/// The files of one certificate, in the order of [`file_names`].
/// `key_block` gives the key's PEM in the table's form.
fn render(
    p: &Planned,
    key: &PKey<Private>,
    key_block: impl Fn() -> Result<Vec<u8>, Error>,
    cert: &X509,
    all: &[X509],
    seed: Option<&Seed>,
) -> Result<Vec<Output>, Error> {
    let own = cert.to_pem()?;
    let mut appended = Vec::new();
    for &i in &p.append {
        appended.extend(all[i].to_pem()?);
    }
    let cert_pem = [own.as_slice(), appended.as_slice()].concat();
    // The PEM file: certificates and key in the table's order.
    let whole = |key: &[u8]| {
        if p.append_after_key {
            [joined(&own, key, &p.key_form), appended.clone()].concat()
        } else {
            joined(&cert_pem, key, &p.key_form)
        }
    };
    let base = &p.file;
    let mut outputs = Vec::new();
    let mut push = |name: String, bytes: Vec<u8>, private: bool| {
        outputs.push(Output {
            name,
            bytes,
            private,
        })
    };
    match p.files {
        Files::Pem => {
            let pem = whole(&key_block()?);
            push(format!("{base}.pem"), pem, true);
        }
        Files::CertOnly => push(format!("{base}.pem"), cert_pem, false),
        Files::Split => {
            push(format!("{base}.crt"), cert_pem, false);
            push(format!("{base}.key"), key_block()?, true);
        }
        Files::PemAndSplit => {
            let key = key_block()?;
            push(format!("{base}.pem"), whole(&key), true);
            push(format!("{base}.crt"), cert_pem, false);
            push(format!("{base}.key"), key, true);
        }
        Files::None => {}
    }
    if p.public_key {
        push(
            format!("{base}-public.pem"),
            key.public_key_to_pem()?,
            false,
        );
    }
    if let Some(p12) = &p.pkcs12 {
        let (password, friendly) = (&p12.password, &p12.friendly_name);
        let chain: Vec<X509> = p12.chain.iter().map(|&i| all[i].clone()).collect();
        let der = match seed {
            Some(seed) => pkcs12_der_seeded(
                key,
                cert,
                &chain,
                friendly.as_deref(),
                password,
                p12.iterations,
                &mut seed.stream(&p.name, "pkcs12")?,
            )?,
            None => pkcs12_der(
                key,
                cert,
                &chain,
                friendly.as_deref(),
                password,
                p12.iterations,
            )?,
        };
        push(format!("{base}.pfx"), der, true);
    }
    Ok(outputs)
}
