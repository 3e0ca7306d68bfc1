//! The CAs a home has loaded, so that an encrypted key is decrypted once
//! while its files are unchanged.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::error::{CaError, KeyFile, crypto};
use super::keys::{Passphrase, read_key};
use super::layout::{CERT_FILE, KEY_FILE, read_cert};
use crate::pki::Authority;

/// What identifies one version of a CA's two files: inode, change time and
/// size of each (every write renames a new file into place; a chmod changes
/// the change time, so a key made readable is checked again).
type Stamp = [(u64, i64, i64, u64); 2];

fn stamp(dir: &Path) -> Option<Stamp> {
    let of = |name: &str| {
        let m = fs::symlink_metadata(dir.join(name)).ok()?;
        Some((m.ino(), m.ctime(), m.ctime_nsec(), m.len()))
    };
    Some([of(CERT_FILE)?, of(KEY_FILE)?])
}

/// CAs already loaded, by directory, with the version of their files and
/// the passphrase they were loaded with: an encrypted key costs 600,000
/// PBKDF2 rounds to open, which a server or a batch pays once. Owned by
/// its [`crate::Home`]; dropping it drops the decrypted keys.
#[derive(Default)]
pub struct Cache(Mutex<HashMap<PathBuf, Loaded>>);

/// One loaded CA: the version of its files, the passphrase it was opened
/// with, and the CA.
type Loaded = (Stamp, Option<Passphrase>, Authority);

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cache(<CA keys hidden>)")
    }
}

/// Loads the CA in `dir` (through `cache`); `Ok(None)` when there is none
/// yet. An encrypted key needs `passphrase`.
pub(super) fn load(
    dir: &Path,
    passphrase: Option<&Passphrase>,
    cache: &Cache,
) -> Result<Option<Authority>, CaError> {
    let before = stamp(dir);
    if let Some(before) = before {
        // A poisoned lock only interrupted an insert into a plain map.
        let loaded = cache.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, pass, ca)) = loaded.get(dir)
            && *at == before
            && pass.as_ref() == passphrase
        {
            return Ok(Some(ca.clone()));
        }
    }
    let cert_path = dir.join(CERT_FILE);
    let Some(cert) = read_cert(&cert_path)? else {
        return Ok(None);
    };
    let key_path = dir.join(KEY_FILE);
    let key = read_key(&key_path, passphrase, KeyFile::Ca)?;
    let ca = Authority::from_parts(key, cert)
        .map_err(crypto("reading the CA certificate's key"))?
        .ok_or_else(|| CaError::BadKey {
            of: KeyFile::Ca,
            path: key_path,
            reason: format!("does not match the certificate {}", cert_path.display()),
        })?;
    // Remember it only if the files did not change while being read.
    if let Some(before) = before
        && stamp(dir) == Some(before)
    {
        let mut loaded = cache.0.lock().unwrap_or_else(|p| p.into_inner());
        loaded.insert(dir.to_path_buf(), (before, passphrase.cloned(), ca.clone()));
    }
    Ok(Some(ca))
}
