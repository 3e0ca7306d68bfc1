//! `pki apply --renew`: the private keys a directory already holds, read
//! back with the file's own passwords, so that a renewal re-issues every
//! certificate and CRL with fresh dates and the same keys. A key that
//! cannot be read refuses the run before anything is written.

use std::path::Path;
use std::sync::Mutex;

use openssl::error::ErrorStack;
use openssl::pkey::{PKey, Private};

use super::pem_dir::pem_blocks;
use super::pki_keys::{ClearFormat, KeyEncryption, KeyForm, is_written_as, pem_body};
use super::pki_spec::{AtlasLeaf, Files, Planned, PlannedBundle};
use crate::api::{Error, Invalid};
use crate::issuing::KeySource;
use crate::pki::KeyType;
use crate::store::files::read_input;

/// A key a renewal keeps, with the PEM block each file held it in (an
/// encrypted key is written back as it was, not encrypted anew).
pub(crate) struct KeptKey {
    /// The key.
    pub(crate) key: PKey<Private>,
    /// Each form it was written in, and the block as written.
    blocks: Vec<(KeyForm, Vec<u8>)>,
    /// The first file it was read from (relative to the directory).
    file: String,
}

impl KeptKey {
    /// The block this key was written in, in `form`, if it was.
    pub(crate) fn block(&self, form: &KeyForm) -> Option<&[u8]> {
        self.blocks
            .iter()
            .find(|(f, _)| f == form)
            .map(|(_, b)| b.as_slice())
    }
}

/// The key each planned certificate keeps: read from every file that holds
/// it (its `.pem`, or its `.key` when split, and the bundles with its key);
/// `None` for a key written nowhere (a new one is made).
pub(crate) fn kept_keys(
    out: &Path,
    planned: &[Planned],
    bundles: &[PlannedBundle],
) -> Result<Vec<Option<KeptKey>>, Error> {
    let mut kept = planned
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let own = match p.files {
                Files::Pem => Some((format!("{}.pem", p.file), &p.key_form)),
                Files::Split | Files::PemAndSplit => Some((format!("{}.key", p.file), &p.key_form)),
                Files::CertOnly | Files::None => None,
            };
            let bundled = bundles.iter().filter_map(|b| match &b.key {
                Some((k, form)) if *k == i => Some((format!("{}.pem", b.file), form)),
                _ => None,
            });
            let mut kept: Option<KeptKey> = None;
            for (name, form) in own.into_iter().chain(bundled) {
                // A table sharing a key may lose its file: the key's own
                // table (or another sharer) still holds it.
                if p.key_from.is_some() && !out.join(&name).exists() {
                    continue;
                }
                let (key, block) = read_key(out, &name, form, p.key_type, &p.name)?;
                let blocks = block.map(|b| (form.clone(), b));
                match &mut kept {
                    None => {
                        kept = Some(KeptKey {
                            key,
                            blocks: blocks.into_iter().collect(),
                            file: name,
                        });
                    }
                    Some(k) if k.key.public_eq(&key) => k.blocks.extend(blocks),
                    Some(_) => {
                        return Err(refuse(
                            &out.join(&name),
                            &p.name,
                            "is another key than its own file's",
                        ));
                    }
                }
            }
            Ok(kept)
        })
        .collect::<Result<Vec<_>, Error>>()?;
    // A shared key is kept whichever of its tables' files holds it (the
    // table it comes from may write none); two keys for one is refused.
    for (j, p) in planned.iter().enumerate() {
        let Some(i) = p.key_from else { continue };
        let Some((theirs, file)) = kept[j].as_ref().map(|k| (k.key.clone(), k.file.clone())) else {
            continue;
        };
        match &kept[i] {
            None => {
                kept[i] = Some(KeptKey {
                    key: theirs,
                    blocks: Vec::new(),
                    file,
                });
            }
            Some(k) if k.key.public_eq(&theirs) => {}
            Some(k) => {
                return Err(refuse(
                    &out.join(&file),
                    &p.name,
                    &format!(
                        "holds another key than {:?} (table {:?}'s, whose key it shares): put that key back, \
                         or remove this file to write it",
                        k.file, planned[i].name
                    ),
                ));
            }
        }
    }
    Ok(kept)
}

/// The keys of Atlas's certificates in a file (`<name>.pem`, Atlas's
/// body: the certificate, then the key in the clear), as sources that hand
/// each out once.
pub(crate) fn kept_atlas_keys(out: &Path, atlas: &[AtlasLeaf]) -> Result<Vec<Kept>, Error> {
    atlas
        .iter()
        .map(|a| {
            let name = format!("{}.pem", a.name);
            let (key, _) = read_key(out, &name, &KeyForm::default(), a.key_type, &a.name)?;
            Ok(Kept(Mutex::new(Some(key))))
        })
        .collect()
}

/// A kept key, handed out once (a fresh one after that).
pub(crate) struct Kept(Mutex<Option<PKey<Private>>>);

impl KeySource for Kept {
    fn key(&self, key_type: KeyType) -> Result<PKey<Private>, ErrorStack> {
        // A poisoned lock only interrupted taking the key out.
        let kept = self.0.lock().unwrap_or_else(|p| p.into_inner()).take();
        match kept {
            Some(key) => Ok(key),
            None => key_type.generate(),
        }
    }
}

/// Why a kept key cannot be used.
fn refuse(file: &Path, table: &str, why: &str) -> Error {
    Invalid::KeptKey {
        file: file.to_path_buf(),
        table: table.to_string(),
        why: why.to_string(),
    }
    .into()
}

/// The key of table `table` in `out/name`, readable with `form`'s
/// password, of `key_type`, and its PEM block as written when that block
/// is in `form`'s encoding.
pub(crate) fn read_key(
    out: &Path,
    name: &str,
    form: &KeyForm,
    key_type: KeyType,
    table: &str,
) -> Result<(PKey<Private>, Option<Vec<u8>>), Error> {
    let path = out.join(name);
    if !path.is_file() {
        return Err(refuse(&path, table, "is missing"));
    }
    let bytes = read_input(&path).map_err(Error::io(&path))?;
    let password = form
        .encryption
        .as_ref()
        .map_or(&[][..], |(p, _)| p.as_bytes());
    let legacy = matches!(&form.encryption, Some((_, KeyEncryption::Pkcs1)));
    let (key, block) = pem_blocks(&bytes)
        .into_iter()
        .filter(|b| b.label.ends_with("PRIVATE KEY"))
        .find_map(|b| {
            // Never a prompt: the table's password, or an empty one.
            let key = if b.label == "ENCRYPTED PRIVATE KEY" {
                PKey::private_key_from_pkcs8_passphrase(&pem_body(b.text)?, password).ok()
            } else if legacy || b.label != "PRIVATE KEY" {
                PKey::private_key_from_pem_passphrase(b.text, password).ok()
            } else {
                PKey::private_key_from_pem_passphrase(b.text, b"").ok()
            }?;
            // The block is written back only when it is in the form the
            // table asks for now; a key whose form changed is written anew.
            // SEC1 with its curve is two blocks, written the same each
            // time: written anew rather than kept.
            let keep = form.clear != ClearFormat::Sec1 && is_written_as(form, b.label, b.text);
            let block = keep.then(|| [b.text, b"\n"].concat());
            Some((key, block))
        })
        .ok_or_else(|| refuse(&path, table, "cannot be read with the file's key_password"))?;
    match KeyType::of(&key) {
        Some(t) if t == key_type => Ok((key, block)),
        found => Err(refuse(
            &path,
            table,
            &format!(
                "is {}, not the file's {key_type}: remove it to make a new one",
                found.map_or("of another type".to_string(), |t| t.to_string())
            ),
        )),
    }
}
