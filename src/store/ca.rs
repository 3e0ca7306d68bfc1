//! Project CA files: one CA per project in `<home>/projects/<id>/`:
//! `ca.key.pem` (0600, in a 0700 directory, never readable by others, not
//! even while being written) and `ca.cert.pem`. The certificate is written
//! last, so its presence marks a complete CA; an exclusive lock makes
//! concurrent first use create one CA. Rotated-out CAs move to
//! `retired/<time>/`.

use std::collections::HashMap;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use time::OffsetDateTime;

use super::files::{write_private, write_public};
use crate::pki::{Authority, Backend, KeyType, Validity};

/// Smallest RSA key accepted by `ca init --import-key`.
const MIN_IMPORT_BITS: u32 = 2048;
/// File name of the CA key inside the project directory.
const KEY_FILE: &str = "ca.key.pem";
/// File name of the CA certificate inside the project directory.
const CERT_FILE: &str = "ca.cert.pem";
/// The PEM label of an encrypted PKCS#8 key.
const ENCRYPTED_LABEL: &[u8] = b"ENCRYPTED PRIVATE KEY";
/// The header of an old-style encrypted PEM key.
const LEGACY_ENCRYPTED: &[u8] = b"Proc-Type: 4,ENCRYPTED";
/// File name of the customer CAs (customer-managed X.509) in the project
/// directory.
const CUSTOMER_CAS_FILE: &str = "customer-cas.pem";
/// Subdirectory of a project's CA directory holding rotated-out CAs.
const RETIRED_DIR: &str = "retired";

/// Why a project CA could not be created or loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaError {
    /// A file or directory operation failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// OpenSSL failed while generating, signing or parsing.
    #[error("{what}: {source}")]
    Crypto {
        /// What was being done.
        what: String,
        /// The library's error.
        source: Backend,
    },
    /// `ca init` on a project that already has a CA.
    #[error("project {0} already has a CA in {dir}", dir = .1.display())]
    Exists(String, PathBuf),
    /// The CA key file may be read by other users.
    #[error("CA key {} is readable by group or others (mode {mode:o}); fix it with: chmod 600 {}", path.display(), path.display())]
    KeyExposed {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The CA's validity would not fit in a certificate.
    #[error("cannot create a CA now: {0}")]
    Validity(#[from] crate::pki::OutOfRange),
    /// The CA key is encrypted and no passphrase was given.
    #[error("CA key {} is encrypted and no passphrase was given", path.display())]
    NeedsPassphrase {
        /// The key file.
        path: PathBuf,
    },
    /// An imported or stored key is unusable.
    #[error("CA key {}: {reason}", path.display())]
    BadKey {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

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

fn crypto(what: impl Into<String>) -> impl FnOnce(openssl::error::ErrorStack) -> CaError {
    let what = what.into();
    move |e| CaError::Crypto {
        what,
        source: e.into(),
    }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> CaError {
    let path = path.to_path_buf();
    move |source| CaError::Io {
        action,
        path,
        source,
    }
}

/// The directory holding a project's CA under `home`.
pub fn dir(home: &Path, project_id: &str) -> PathBuf {
    home.join("projects").join(project_id)
}

/// Loads the project's CA, or creates it if it does not exist yet (its key
/// encrypted when a passphrase is given). Returns the CA and whether it was
/// created by this call.
pub fn open_or_create(
    home: &Path,
    project_id: &str,
    passphrase: Option<&Passphrase>,
    cache: &Cache,
) -> Result<(Authority, bool), CaError> {
    open_or_create_in(
        &dir(home, project_id),
        Subject::Project(project_id),
        passphrase,
        cache,
    )
}

/// The CA that signs `serve --tls`'s server certificates, in
/// `<home>/api-ca/`, created on first use; not an Atlas project's.
pub fn open_or_create_api_ca(
    home: &Path,
    passphrase: Option<&Passphrase>,
    cache: &Cache,
) -> Result<(Authority, bool), CaError> {
    open_or_create_in(&home.join("api-ca"), Subject::LocalApi, passphrase, cache)
}

/// Whose CA it is, which decides its name.
#[derive(Clone, Copy)]
enum Subject<'a> {
    /// An Atlas project's: `CN=<id>, OU=Atlas, O=MongoDB Inc`.
    Project(&'a str),
    /// atlas-ca's own, for its HTTPS server: `CN=atlas-ca local API CA`.
    LocalApi,
}

fn open_or_create_in(
    dir: &Path,
    subject: Subject<'_>,
    passphrase: Option<&Passphrase>,
    cache: &Cache,
) -> Result<(Authority, bool), CaError> {
    let dir = dir.to_path_buf();
    if let Some(ca) = load(&dir, passphrase, cache)? {
        return Ok((ca, false));
    }
    let _lock = lock_dir(&dir)?;
    // Another process may have created it while we waited for the lock.
    if let Some(ca) = load(&dir, passphrase, cache)? {
        return Ok((ca, false));
    }
    let key = generate_ca_key()?;
    Ok((create(&dir, subject, key, passphrase)?, true))
}

/// Creates a CA for the project; with `import_key` the CA uses that RSA key
/// (PEM, PKCS#1 or PKCS#8) instead of a new one; with `passphrase` its key
/// is stored as encrypted PKCS#8 (AES-256). If the project has a CA, this
/// fails unless `rotate`, which moves the old one to `retired/<time>/`
/// (kept for verifying what it issued).
pub fn init(
    home: &Path,
    project_id: &str,
    import_key: Option<&Path>,
    passphrase: Option<&Passphrase>,
    rotate: bool,
) -> Result<Authority, CaError> {
    let key = match import_key {
        Some(path) => read_import_key(path, passphrase)?,
        None => generate_ca_key()?,
    };
    let dir = dir(home, project_id);
    let _lock = lock_dir(&dir)?;
    if dir.join(CERT_FILE).exists() {
        if !rotate {
            return Err(CaError::Exists(project_id.to_string(), dir));
        }
        // A key that was encrypted is never replaced by a plain one.
        let old = dir.join(KEY_FILE);
        if passphrase.is_none() && fs::read(&old).is_ok_and(|pem| is_encrypted(&pem)) {
            return Err(CaError::NeedsPassphrase { path: old });
        }
        retire(&dir)?;
    }
    create(&dir, Subject::Project(project_id), key, passphrase)
}

/// Moves the CA in `dir` to `retired/<now in ns>/`.
fn retire(dir: &Path) -> Result<(), CaError> {
    let stamp = OffsetDateTime::now_utc().unix_timestamp_nanos();
    let retired = dir.join(RETIRED_DIR).join(stamp.to_string());
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&retired)
        .map_err(io("cannot create directory", &retired))?;
    // The certificate first: without it the directory holds no CA.
    for name in [CERT_FILE, KEY_FILE] {
        fs::rename(dir.join(name), retired.join(name))
            .map_err(io("cannot retire", &dir.join(name)))?;
    }
    Ok(())
}

/// The certificates of the project's CAs in `dir`, current first, then the
/// retired ones newest first; no keys are read.
pub fn certificates(dir: &Path) -> Result<Vec<X509>, CaError> {
    let root = dir.join(RETIRED_DIR);
    let mut dirs: Vec<PathBuf> = match fs::read_dir(&root) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io("cannot read", &root)(e)),
    };
    dirs.sort_by(|a, b| b.cmp(a));
    dirs.insert(0, dir.to_path_buf());
    let mut certs = Vec::new();
    for d in dirs {
        if let Some(cert) = read_cert(&d.join(CERT_FILE))? {
            certs.push(cert);
        }
    }
    Ok(certs)
}

/// The project's customer CAs (PEM), if any are stored.
pub fn read_customer_cas(home: &Path, project_id: &str) -> Result<Option<String>, CaError> {
    let path = dir(home, project_id).join(CUSTOMER_CAS_FILE);
    match fs::read_to_string(&path) {
        Ok(pem) => Ok(Some(pem)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("cannot read", &path)(e)),
    }
}

/// The project's customer CAs as certificates (none when there are none).
pub fn customer_cas(home: &Path, project_id: &str) -> Result<Vec<X509>, CaError> {
    let Some(pem) = read_customer_cas(home, project_id)? else {
        return Ok(Vec::new());
    };
    X509::stack_from_pem(pem.as_bytes()).map_err(crypto(format!(
        "the customer CAs of project {project_id} are not PEM certificates"
    )))
}

/// Stores the project's customer CAs (0644, atomically).
pub fn write_customer_cas(home: &Path, project_id: &str, pem: &[u8]) -> Result<(), CaError> {
    let dir = dir(home, project_id);
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(io("cannot create directory", &dir))?;
    let path = dir.join(CUSTOMER_CAS_FILE);
    write_public(&path, pem).map_err(io("cannot write", &path))
}

/// Removes the project's customer CAs, if stored.
pub fn remove_customer_cas(home: &Path, project_id: &str) -> Result<(), CaError> {
    let path = dir(home, project_id).join(CUSTOMER_CAS_FILE);
    match fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("cannot remove", &path)(e)),
        _ => Ok(()),
    }
}

/// The project's current CA certificate, if it has a CA; the key is not
/// read (no passphrase needed).
pub fn current_cert(home: &Path, project_id: &str) -> Result<Option<X509>, CaError> {
    read_cert(&dir(home, project_id).join(CERT_FILE))
}

/// The certificate at `path`; `Ok(None)` when there is no such file.
fn read_cert(path: &Path) -> Result<Option<X509>, CaError> {
    match fs::read(path) {
        Ok(pem) => X509::from_pem(&pem).map(Some).map_err(crypto(format!(
            "CA certificate {} is not a PEM certificate",
            path.display()
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("cannot read", path)(e)),
    }
}

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
fn load(
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
    let key = read_key(&key_path, passphrase)?;
    let ca = Authority::from_parts(key, cert)
        .map_err(crypto("reading the CA certificate's key"))?
        .ok_or_else(|| CaError::BadKey {
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

/// Reads the CA key at `path`, refusing one that others may read.
pub(crate) fn read_key(
    path: &Path,
    passphrase: Option<&Passphrase>,
) -> Result<PKey<Private>, CaError> {
    let mode = fs::metadata(path)
        .map_err(io("cannot read", path))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(CaError::KeyExposed {
            path: path.to_path_buf(),
            mode: mode & 0o777,
        });
    }
    let pem = fs::read(path).map_err(io("cannot read", path))?;
    decode_key(
        path,
        &pem,
        passphrase,
        "not a PEM private key (truncated or foreign file?)",
    )
}

/// Whether a PEM key is encrypted: PKCS#8 (`ENCRYPTED PRIVATE KEY`) or the
/// old OpenSSL form (`Proc-Type: 4,ENCRYPTED`).
fn is_encrypted(pem: &[u8]) -> bool {
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
) -> Result<PKey<Private>, CaError> {
    let bad = |reason: &str| CaError::BadKey {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let encrypted = is_encrypted(pem);
    if encrypted && passphrase.is_none() {
        return Err(CaError::NeedsPassphrase {
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

fn create(
    dir: &Path,
    subject: Subject<'_>,
    key: PKey<Private>,
    passphrase: Option<&Passphrase>,
) -> Result<Authority, CaError> {
    let validity = Validity::atlas(OffsetDateTime::now_utc(), crate::pki::CA_MONTHS)?;
    let ca = match subject {
        Subject::Project(id) => Authority::self_signed(id, key, &validity),
        Subject::LocalApi => Authority::self_signed_local("atlas-ca local API CA", key, &validity),
    }
    .map_err(crypto("signing the CA certificate"))?;
    let key_pem = ca
        .key_pem(passphrase.map(|p| p.0.as_slice()))
        .map_err(|source| CaError::Crypto {
            what: "encoding the CA key".into(),
            source,
        })?;
    let cert_pem = ca
        .cert_pem()
        .map_err(crypto("encoding the CA certificate"))?;
    let key_path = dir.join(KEY_FILE);
    write_private(&key_path, &key_pem).map_err(io("cannot write", &key_path))?;
    let cert_path = dir.join(CERT_FILE);
    write_public(&cert_path, &cert_pem).map_err(io("cannot write", &cert_path))?;
    Ok(ca)
}

fn generate_ca_key() -> Result<PKey<Private>, CaError> {
    KeyType::Rsa4096
        .generate()
        .map_err(crypto("generating an RSA key"))
}

fn read_import_key(path: &Path, passphrase: Option<&Passphrase>) -> Result<PKey<Private>, CaError> {
    let pem = fs::read(path).map_err(io("cannot read", path))?;
    let bad = |reason: &str| CaError::BadKey {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let key = decode_key(path, &pem, passphrase, "not a PEM private key")?;
    match key.rsa() {
        Ok(rsa) if rsa.size() * 8 >= MIN_IMPORT_BITS => Ok(key),
        Ok(_) => Err(bad("an RSA key of at least 2048 bits is needed")),
        Err(_) => Err(bad(
            "only RSA keys can sign with sha256WithRSAEncryption as Atlas does",
        )),
    }
}

/// Creates `dir` (mode 0700) and takes an exclusive lock in it, held until
/// the returned file is dropped.
fn lock_dir(dir: &Path) -> Result<File, CaError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io("cannot create directory", dir))?;
    let path = dir.join(".lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&path)
        .map_err(io("cannot open", &path))?;
    file.lock().map_err(io("cannot lock", &path))?;
    Ok(file)
}
