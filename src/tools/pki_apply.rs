//! `pki apply FILE --out DIR`: a whole test PKI from one file. The file is
//! checked in full and every output file named and checked first; then
//! every key is generated in parallel on every core, the certificates are
//! signed issuers first, every file is staged, and only then published.
//! A refused or failed run writes nothing (the directory included, when
//! it made it). Nothing here is an Atlas certificate, so nothing goes to
//! the ledger.

use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use openssl::pkcs12::Pkcs12;
use openssl::pkey::{PKey, Private};
use openssl::stack::Stack;
use openssl::symm::Cipher;
use openssl::x509::X509;
use rayon::prelude::*;
use time::OffsetDateTime;

use super::outputs::check_outputs;
use super::pki_spec::{Files, KeyEncryption, Plan, Planned, plan};
use crate::api::Error;
use crate::pki::crl::build_by;
use crate::pki::custom::{Issuer, build};
use crate::store::files::{Dir, Staged, read_input};

/// What `pki apply` wrote.
#[derive(Debug)]
pub struct Applied {
    /// The certificates made, by name, in issuer order.
    pub certificates: Vec<String>,
    /// The CRLs made, by name.
    pub crls: Vec<String>,
    /// Every file written, relative to the output directory.
    pub files: Vec<String>,
}

/// One file to write: its name and content, and whether it holds a key.
struct Output {
    name: String,
    bytes: Vec<u8>,
    private: bool,
}

/// Applies the PKI file at `file` to `out` (replacing files there only
/// with `force`).
pub fn apply(file: &Path, out: &Path, force: bool) -> Result<Applied, Error> {
    let bytes = read_input(file).map_err(Error::io(file))?;
    let text = String::from_utf8_lossy(&bytes);
    let Plan {
        certs: planned,
        crls,
        bundles,
    } = plan(file, &text, OffsetDateTime::now_utc())?;
    let mut names: Vec<String> = planned.iter().flat_map(file_names).collect();
    names.extend(crls.iter().map(|c| format!("{}.pem", c.name)));
    names.extend(bundles.iter().map(|(name, _)| format!("{name}.pem")));
    check_outputs(out, &names, force)?;
    let keys = planned
        .par_iter()
        .map(|p| p.key_type.generate())
        .collect::<Result<Vec<_>, _>>()?;
    let mut certs: Vec<X509> = Vec::with_capacity(planned.len());
    for (p, key) in planned.iter().zip(&keys) {
        let issuer = p.issuer.map(|i| Issuer {
            name: certs[i].subject_name(),
            key: &keys[i],
            cert: Some(&certs[i]),
        });
        certs.push(build(&p.spec, key, issuer)?);
    }
    let outputs = planned
        .iter()
        .zip(&keys)
        .zip(&certs)
        .map(|((p, key), cert)| render(p, key, cert, &certs))
        .collect::<Result<Vec<_>, _>>()?;
    let mut outputs: Vec<Output> = outputs.into_iter().flatten().collect();
    for c in &crls {
        let revoked: Vec<(u64, OffsetDateTime)> = c
            .revoked
            .iter()
            .map(|&i| (planned[i].spec.serial, c.this_update))
            .collect();
        let pem = build_by(
            &certs[c.issuer],
            &keys[c.issuer],
            &revoked,
            c.this_update,
            c.next_update,
        )?;
        outputs.push(Output {
            name: format!("{}.pem", c.name),
            bytes: pem.into_bytes(),
            private: false,
        });
    }
    for (name, members) in &bundles {
        let mut pem = Vec::new();
        for &i in members {
            pem.extend(certs[i].to_pem()?);
        }
        outputs.push(Output {
            name: format!("{name}.pem"),
            bytes: pem,
            private: false,
        });
    }
    let made = make_dir(out)?;
    let written = stage_and_publish(out, &outputs, force);
    if written.is_err()
        && let Some(top) = made
    {
        let _ = std::fs::remove_dir_all(top);
    }
    written?;
    Ok(Applied {
        certificates: planned.into_iter().map(|p| p.name).collect(),
        crls: crls.into_iter().map(|c| c.name).collect(),
        files: outputs.into_iter().map(|o| o.name).collect(),
    })
}

/// The files a planned certificate writes.
fn file_names(p: &Planned) -> Vec<String> {
    let mut names = match p.files {
        Files::Pem | Files::CertOnly => vec![format!("{}.pem", p.name)],
        Files::Split => vec![format!("{}.crt", p.name), format!("{}.key", p.name)],
    };
    if p.public_key {
        names.push(format!("{}-public.pem", p.name));
    }
    if p.pkcs12.is_some() {
        names.push(format!("{}.pfx", p.name));
    }
    names
}

/// The files of one certificate, in the order of [`file_names`].
fn render(
    p: &Planned,
    key: &PKey<Private>,
    cert: &X509,
    all: &[X509],
) -> Result<Vec<Output>, Error> {
    let mut cert_pem = cert.to_pem()?;
    for &i in &p.append {
        cert_pem.extend(all[i].to_pem()?);
    }
    let key_pem = || -> Result<Vec<u8>, Error> {
        Ok(match &p.key_encryption {
            None => key.private_key_to_pem_pkcs8()?,
            Some((password, KeyEncryption::Pkcs1)) => key
                .rsa()?
                .private_key_to_pem_passphrase(Cipher::aes_256_cbc(), password.as_bytes())?,
            Some((password, e)) => {
                let cipher = match e {
                    KeyEncryption::Pkcs8Aes128 => Cipher::aes_128_cbc(),
                    KeyEncryption::Pkcs8Des3 => Cipher::des_ede3_cbc(),
                    _ => Cipher::aes_256_cbc(),
                };
                key.private_key_to_pem_pkcs8_passphrase(cipher, password.as_bytes())?
            }
        })
    };
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
            let mut pem = cert_pem;
            pem.extend(key_pem()?);
            push(format!("{}.pem", p.name), pem, true);
        }
        Files::CertOnly => push(format!("{}.pem", p.name), cert_pem, false),
        Files::Split => {
            push(format!("{}.crt", p.name), cert_pem, false);
            push(format!("{}.key", p.name), key_pem()?, true);
        }
    }
    if p.public_key {
        push(
            format!("{}-public.pem", p.name),
            key.public_key_to_pem()?,
            false,
        );
    }
    if let Some((password, friendly)) = &p.pkcs12 {
        let mut chain = Stack::new()?;
        for &i in &p.append {
            chain.push(all[i].clone())?;
        }
        let mut builder = Pkcs12::builder();
        builder.pkey(key).cert(cert).ca(chain);
        if let Some(name) = friendly {
            builder.name(name);
        }
        push(
            format!("{}.pfx", p.name),
            builder.build2(password)?.to_der()?,
            true,
        );
    }
    Ok(outputs)
}

/// Creates `out` (0700) when missing; returns the topmost directory made.
fn make_dir(out: &Path) -> Result<Option<PathBuf>, Error> {
    let top = out
        .ancestors()
        .take_while(|d| !d.exists())
        .last()
        .map(Path::to_path_buf);
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(out)
        .map_err(Error::io(out))?;
    Ok(top)
}

/// Stages every output, then publishes them all and syncs once.
fn stage_and_publish(out: &Path, outputs: &[Output], force: bool) -> Result<(), Error> {
    let dir = Dir::new(out);
    let staged = outputs
        .iter()
        .map(|o| {
            let mode = if o.private { 0o600 } else { 0o644 };
            dir.stage(Path::new(&o.name), &o.bytes, mode, false)
                .map_err(Error::io(out.join(&o.name)))
        })
        .collect::<Result<Vec<Staged>, _>>()?;
    for file in staged {
        let target = file.target().to_path_buf();
        file.publish_or_keep(force).map_err(Error::io(target))?;
    }
    dir.sync_filesystem().map_err(Error::io(out))
}
