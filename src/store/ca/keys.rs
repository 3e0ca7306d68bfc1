//! Private key files: the passphrase, reading a key that nobody else may
//! read, decoding it without OpenSSL ever prompting, and what `ca init
//! --import-key` accepts.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use openssl::pkey::{PKey, Private};

use super::error::{CaError, KeyFile, io};
use crate::store::files::read_input;

/// Smallest RSA key accepted by `ca init --import-key`.
const MIN_IMPORT_BITS: u32 = 2048;
/// The PEM label of an encrypted PKCS#8 key.
const ENCRYPTED_LABEL: &[u8] = b"ENCRYPTED PRIVATE KEY";
/// The header of an old-style encrypted PEM key.
const LEGACY_ENCRYPTED: &[u8] = b"Proc-Type: 4,ENCRYPTED";

/// A passphrase for the CA key. Its `Debug` output never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Passphrase(Vec<u8>);

impl Passphrase {
    /// Wraps the passphrase bytes (a trailing newline is not part of it).
    pub fn new(mut bytes: Vec<u8>) -> Passphrase {
        while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            bytes.pop();
        }
        Passphrase(bytes)
    }

    /// The passphrase's bytes, for OpenSSL.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// Whether it is empty (and so unusable).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase(<hidden>)")
    }
}

/// Reads the key (`of` says whose) at `path`, refusing one that others may
/// read.
pub(crate) fn read_key(
    path: &Path,
    passphrase: Option<&Passphrase>,
    of: KeyFile,
) -> Result<PKey<Private>, CaError> {
    let mode = fs::metadata(path)
        .map_err(io("cannot read", path))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(CaError::KeyExposed {
            of,
            path: path.to_path_buf(),
            mode: mode & 0o777,
        });
    }
    let pem = read_input(path).map_err(io("cannot read", path))?;
    decode_key(
        path,
        &pem,
        passphrase,
        "not a PEM private key (truncated or foreign file?)",
        of,
    )
}

/// Whether a PEM key is encrypted: PKCS#8 (`ENCRYPTED PRIVATE KEY`) or the
/// old OpenSSL form (`Proc-Type: 4,ENCRYPTED`).
pub(super) fn is_encrypted(pem: &[u8]) -> bool {
    let has = |needle: &[u8]| pem.windows(needle.len()).any(|w| w == needle);
    has(ENCRYPTED_LABEL) || has(LEGACY_ENCRYPTED)
}

/// Decodes a PEM private key, never letting OpenSSL prompt on a terminal:
/// the passphrase, when there is one, goes to OpenSSL's callback, and
/// without one the callback fails.
fn decode_key(
    path: &Path,
    pem: &[u8],
    passphrase: Option<&Passphrase>,
    not_a_key: &str,
    of: KeyFile,
) -> Result<PKey<Private>, CaError> {
    let bad = |reason: &str| CaError::BadKey {
        of,
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let encrypted = is_encrypted(pem);
    if encrypted && passphrase.is_none() {
        return Err(CaError::NeedsPassphrase {
            of,
            path: path.to_path_buf(),
        });
    }
    let decoded = PKey::private_key_from_pem_callback(pem, |buf| match passphrase {
        Some(p) if p.0.len() <= buf.len() => {
            buf[..p.0.len()].copy_from_slice(&p.0);
            Ok(p.0.len())
        }
        // No passphrase (or one longer than OpenSSL's buffer): fail.
        _ => Err(openssl::error::ErrorStack::get()),
    });
    decoded.map_err(|_| {
        if encrypted {
            bad("cannot be decrypted: wrong passphrase (or a damaged file)")
        } else {
            bad(not_a_key)
        }
    })
}

pub(super) fn read_import_key(
    path: &Path,
    passphrase: Option<&Passphrase>,
) -> Result<PKey<Private>, CaError> {
    let pem = read_input(path).map_err(io("cannot read", path))?;
    let bad = |reason: &str| CaError::BadKey {
        of: KeyFile::Ca,
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let key = decode_key(path, &pem, passphrase, "not a PEM private key", KeyFile::Ca)?;
    match key.rsa() {
        Ok(rsa) if rsa.size() * 8 >= MIN_IMPORT_BITS => Ok(key),
        Ok(_) => Err(bad("an RSA key of at least 2048 bits is needed")),
        Err(_) => Err(bad(
            "only RSA keys can sign with sha256WithRSAEncryption as Atlas does",
        )),
    }
}
