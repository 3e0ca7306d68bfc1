//! Project CA files: one CA per project in `<home>/projects/<id>/`:
//! `ca.key.pem` (0600, in a 0700 directory, never readable by others, not
//! even while being written) and `ca.cert.pem`. The certificate is written
//! last, so its presence marks a complete CA; an exclusive lock makes
//! concurrent first use create one CA. Rotated-out CAs move to
//! `retired/<time>/`.

mod cache;
mod customer;
mod error;
mod keys;
mod layout;
mod settings;

use std::fs::{self, DirBuilder};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use time::OffsetDateTime;

pub use cache::Cache;
pub use customer::{customer_cas, read_customer_cas, remove_customer_cas, write_customer_cas};
pub use error::{CaError, KeyFile};
pub use keys::Passphrase;
pub(crate) use keys::read_key;
pub use layout::dir;
pub use settings::{read_settings, remove_settings, settings_path, write_settings};

use super::files::{write_private, write_public};
use super::notes::{Note, Notes};
use crate::pki::{Authority, Validity};
use cache::load;
use error::{crypto, io};
use keys::{is_encrypted, read_import_key};
use layout::{CERT_FILE, KEY_FILE, RETIRED_DIR, lock_dir, read_cert};

/// Loads the project's CA, or creates it if it does not exist yet (its key
/// encrypted when a passphrase is given). Returns the CA and whether it was
/// created by this call.
pub fn open_or_create(
    home: &Path,
    project_id: &str,
    passphrase: Option<&Passphrase>,
    cache: &Cache,
    notes: &Notes,
) -> Result<(Authority, bool), CaError> {
    open_or_create_in(
        &dir(home, project_id),
        Owner::Project(project_id),
        passphrase,
        cache,
        notes,
    )
}

/// The CA that signs `serve --tls`'s server certificates, in
/// `<home>/api-ca/`, created on first use; not an Atlas project's.
/// With a passphrase at hand its key is kept encrypted, as the project
/// CAs' are: a plain key from before is encrypted in place on first use.
pub fn open_or_create_api_ca(
    home: &Path,
    passphrase: Option<&Passphrase>,
    cache: &Cache,
    notes: &Notes,
) -> Result<(Authority, bool), CaError> {
    let dir = home.join(API_CA_DIR);
    let opened = open_or_create_in(&dir, Owner::LocalApi, passphrase, cache, notes)?;
    if let Some(passphrase) = passphrase {
        encrypt_if_plain(&dir, &opened.0, passphrase, notes)?;
    }
    Ok(opened)
}

/// The local API CA's certificate, if it exists; its key is not read.
pub fn api_ca_cert(home: &Path) -> Result<Option<X509>, CaError> {
    read_cert(&home.join(API_CA_DIR).join(CERT_FILE))
}

/// The directory of the local API CA in a home.
const API_CA_DIR: &str = "api-ca";

/// Rewrites the plain key of `ca` in `dir` encrypted with `passphrase`.
fn encrypt_if_plain(
    dir: &Path,
    ca: &Authority,
    passphrase: &Passphrase,
    notes: &Notes,
) -> Result<(), CaError> {
    let path = dir.join(KEY_FILE);
    let pem = fs::read(&path).map_err(io("cannot read", &path))?;
    if is_encrypted(&pem) {
        return Ok(());
    }
    let _lock = lock_dir(dir)?;
    let key_pem = ca
        .key_pem(Some(passphrase.bytes()))
        .map_err(|source| CaError::Crypto {
            what: "encoding the CA key".into(),
            source,
        })?;
    write_private(&path, &key_pem).map_err(io("cannot write", &path))?;
    notes.send(Note::KeyEncrypted { path });
    Ok(())
}

/// Whose CA it is, which decides its name.
#[derive(Clone, Copy)]
enum Owner<'a> {
    /// An Atlas project's: `CN=<id>, OU=Atlas, O=MongoDB Inc`.
    Project(&'a str),
    /// atlas-ca's own, for its HTTPS server: `CN=atlas-ca local API CA`.
    LocalApi,
}

fn open_or_create_in(
    dir: &Path,
    owner: Owner<'_>,
    passphrase: Option<&Passphrase>,
    cache: &Cache,
    notes: &Notes,
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
    notes.send(Note::GeneratingCaKey {
        of: match owner {
            Owner::Project(id) => format!("project {id}"),
            Owner::LocalApi => "the local API CA".into(),
        },
    });
    let key = generate_ca_key()?;
    Ok((create(&dir, owner, key, passphrase)?, true))
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
            return Err(CaError::NeedsPassphrase {
                of: KeyFile::Ca,
                path: old,
            });
        }
        retire(&dir)?;
    }
    create(&dir, Owner::Project(project_id), key, passphrase)
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

/// The directories of the project's CAs in `dir`: its own (the current
/// CA), then the retired ones newest first.
fn ca_dirs(dir: &Path) -> Result<Vec<PathBuf>, CaError> {
    let root = dir.join(RETIRED_DIR);
    let mut dirs: Vec<PathBuf> = match fs::read_dir(&root) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io("cannot read", &root)(e)),
    };
    dirs.sort_by(|a, b| b.cmp(a));
    dirs.insert(0, dir.to_path_buf());
    Ok(dirs)
}

/// The certificates of the project's CAs in `dir`, current first, then the
/// retired ones newest first; no keys are read.
pub fn certificates(dir: &Path) -> Result<Vec<X509>, CaError> {
    let mut certs = Vec::new();
    for d in ca_dirs(dir)? {
        if let Some(cert) = read_cert(&d.join(CERT_FILE))? {
            certs.push(cert);
        }
    }
    Ok(certs)
}

/// The project's CAs in `dir` with their keys (through `cache`), current
/// first, then the retired ones newest first: what signs OCSP answers and
/// CRLs for the certificates each of them issued.
pub fn open_all(
    dir: &Path,
    passphrase: Option<&Passphrase>,
    cache: &Cache,
) -> Result<Vec<Authority>, CaError> {
    let mut cas = Vec::new();
    for d in ca_dirs(dir)? {
        if let Some(ca) = load(&d, passphrase, cache)? {
            cas.push(ca);
        }
    }
    Ok(cas)
}

/// The project's current CA certificate, if it has a CA; the key is not
/// read (no passphrase needed).
pub fn current_cert(home: &Path, project_id: &str) -> Result<Option<X509>, CaError> {
    read_cert(&dir(home, project_id).join(CERT_FILE))
}

fn create(
    dir: &Path,
    owner: Owner<'_>,
    key: PKey<Private>,
    passphrase: Option<&Passphrase>,
) -> Result<Authority, CaError> {
    let validity = Validity::atlas(OffsetDateTime::now_utc(), crate::pki::CA_MONTHS)?;
    let ca = match owner {
        Owner::Project(id) => Authority::self_signed(id, key, &validity),
        Owner::LocalApi => Authority::self_signed_local("atlas-ca local API CA", key, &validity),
    }
    .map_err(crypto("signing the CA certificate"))?;
    let key_pem = ca
        .key_pem(passphrase.map(Passphrase::bytes))
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

/// The modulus size of every CA key atlas-ca makes, as Atlas's CAs.
const CA_KEY_BITS: u32 = 4096;

/// A CA's RSA-4096 key from OpenSSL's own generator (SP 800-56B with
/// FIPS 186-4 auxiliary primes, its own checks), raced on two cores: made
/// once per project and kept for years, it is worth its extra second;
/// subject keys, made for every certificate, take the fast path
/// (`pki::rsa`).
fn generate_ca_key() -> Result<PKey<Private>, CaError> {
    crate::pki::openssl_rsa(CA_KEY_BITS)
        .and_then(PKey::from_rsa)
        .map_err(crypto("generating the CA's RSA key"))
}
