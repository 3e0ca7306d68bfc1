//! Where a CA's files live: the project directory, the key and
//! certificate file names, the retired CAs, and the lock that makes
//! concurrent first use create one CA.

use std::fs::{self, DirBuilder, File};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use openssl::x509::X509;

use super::error::{CaError, crypto, io};
use crate::store::files::lock_file;

/// File name of the CA key inside the project directory.
pub(super) const KEY_FILE: &str = "ca.key.pem";
/// File name of the CA certificate inside the project directory.
pub(super) const CERT_FILE: &str = "ca.cert.pem";

/// Subdirectory of a project's CA directory holding rotated-out CAs.
pub(super) const RETIRED_DIR: &str = "retired";

/// The directory holding a project's CA under `home`.
pub fn dir(home: &Path, project_id: &str) -> PathBuf {
    home.join("projects").join(project_id)
}

/// The certificate at `path`; `Ok(None)` when there is no such file.
pub(super) fn read_cert(path: &Path) -> Result<Option<X509>, CaError> {
    match fs::read(path) {
        Ok(pem) => X509::from_pem(&pem).map(Some).map_err(crypto(format!(
            "CA certificate {} is not a PEM certificate",
            path.display()
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("cannot read", path)(e)),
    }
}

/// Writes `file` in the project's directory (made 0700 when missing),
/// 0644 and atomically: a file of the project's beside its CA.
pub(super) fn write_beside(
    home: &Path,
    project_id: &str,
    file: &str,
    bytes: &[u8],
) -> Result<(), CaError> {
    let dir = dir(home, project_id);
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(io("cannot create directory", &dir))?;
    let path = dir.join(file);
    crate::store::files::write_public(&path, bytes).map_err(io("cannot write", &path))
}

/// Removes `file` from the project's directory, if it is there.
pub(super) fn remove_beside(home: &Path, project_id: &str, file: &str) -> Result<(), CaError> {
    let path = dir(home, project_id).join(file);
    match fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("cannot remove", &path)(e)),
        _ => Ok(()),
    }
}

/// Longest wait for another process's CA lock: its holder is generating a
/// CA key (OpenSSL's RSA-4096 generator, seconds on a busy machine).
const CA_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Creates `dir` (mode 0700) and takes an exclusive lock in it, held until
/// the returned file is dropped.
pub(super) fn lock_dir(dir: &Path) -> Result<File, CaError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io("cannot create directory", dir))?;
    let path = dir.join(".lock");
    lock_file(&path, CA_LOCK_WAIT).map_err(io("cannot lock", &path))
}
