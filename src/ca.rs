//! The project CA: one self-signed RSA-4096 certificate authority per project,
//! named exactly as Atlas names the issuer of its client certificates
//! (`CN=<project id>, OU=Atlas, O=MongoDB Inc`, PrintableString).
//!
//! Files live in `<home>/projects/<id>/`: `ca.key.pem` (0600, in a 0700
//! directory, never readable by others, not even while being written) and
//! `ca.cert.pem`. The certificate is written last, so its presence marks a
//! complete CA; an exclusive lock makes concurrent first use create one CA.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use openssl::asn1::{Asn1Integer, Asn1Time, Asn1Type};
use openssl::bn::BigNum;
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, PKeyRef, Private};
use openssl::symm::Cipher;
use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectKeyIdentifier};
use openssl::x509::{X509, X509Name, X509NameBuilder, X509NameRef};
use time::OffsetDateTime;

use crate::files::{write_private, write_public};
use crate::validity::Validity;

/// RSA modulus size of Atlas's CA and client keys.
pub const RSA_BITS: u32 = 4096;
/// Lifetime of a project CA, in months.
const CA_MONTHS: u32 = 120;
/// Smallest RSA key accepted by `ca init --import-key`.
const MIN_IMPORT_BITS: u32 = 2048;

/// File name of the CA key inside the project directory.
pub const KEY_FILE: &str = "ca.key.pem";
/// File name of the CA certificate inside the project directory.
pub const CERT_FILE: &str = "ca.cert.pem";
/// The PEM label of an encrypted PKCS#8 key.
const ENCRYPTED_LABEL: &[u8] = b"ENCRYPTED PRIVATE KEY";

/// Why a project CA could not be created or loaded.
#[derive(Debug, thiserror::Error)]
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
        /// OpenSSL's error stack.
        source: ErrorStack,
    },
    /// `ca init` on a project that already has a CA.
    #[error("project {0} already has a CA in {1}")]
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
    Validity(#[from] crate::validity::OutOfRange),
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

/// Subdirectory of a project's CA directory holding rotated-out CAs.
pub const RETIRED_DIR: &str = "retired";

/// A loaded project CA: its key and self-signed certificate.
pub struct ProjectCa {
    key: PKey<Private>,
    cert: X509,
}

fn crypto(what: impl Into<String>) -> impl FnOnce(ErrorStack) -> CaError {
    let what = what.into();
    move |source| CaError::Crypto { what, source }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> CaError {
    let path = path.to_path_buf();
    move |source| CaError::Io {
        action,
        path,
        source,
    }
}

/// A random serial number as Atlas makes them: positive, 63 bits, always
/// eight content bytes in DER (so at least 2^55).
pub fn random_serial() -> Result<u64, ErrorStack> {
    loop {
        let mut bytes = [0u8; 8];
        openssl::rand::rand_bytes(&mut bytes)?;
        let serial = u64::from_be_bytes(bytes) & (u64::MAX >> 1);
        if serial >= 1 << 55 {
            return Ok(serial);
        }
    }
}

/// `serial` as an ASN.1 INTEGER.
pub fn serial_integer(serial: u64) -> Result<Asn1Integer, ErrorStack> {
    BigNum::from_slice(&serial.to_be_bytes())?.to_asn1_integer()
}

/// `t` as an ASN.1 time (UTCTime up to 2049, GeneralizedTime after).
pub fn asn1_time(t: OffsetDateTime) -> Result<Asn1Time, ErrorStack> {
    // Years are limited to 1950..=9999 by `Validity`, so this fits time_t.
    Asn1Time::from_unix(t.unix_timestamp())
}

/// Atlas's issuer name for a project: CN, OU, O as PrintableString.
fn atlas_name(project_id: &str) -> Result<X509Name, ErrorStack> {
    let mut b = X509NameBuilder::new()?;
    for (nid, value) in [
        (Nid::COMMONNAME, project_id),
        (Nid::ORGANIZATIONALUNITNAME, "Atlas"),
        (Nid::ORGANIZATIONNAME, "MongoDB Inc"),
    ] {
        b.append_entry_by_nid_with_type(nid, value, Asn1Type::PRINTABLESTRING)?;
    }
    Ok(b.build())
}

impl ProjectCa {
    /// The directory holding a project's CA under `home`.
    pub fn dir(home: &Path, project_id: &str) -> PathBuf {
        home.join("projects").join(project_id)
    }

    /// Loads the project's CA, or creates it if it does not exist yet (its
    /// key encrypted when a passphrase is given). Returns the CA and whether
    /// it was created by this call.
    pub fn open_or_create(
        home: &Path,
        project_id: &str,
        passphrase: Option<&Passphrase>,
    ) -> Result<(ProjectCa, bool), CaError> {
        let dir = Self::dir(home, project_id);
        if let Some(ca) = Self::load(&dir, passphrase)? {
            return Ok((ca, false));
        }
        let _lock = lock_dir(&dir)?;
        // Another process may have created it while we waited for the lock.
        if let Some(ca) = Self::load(&dir, passphrase)? {
            return Ok((ca, false));
        }
        let key = generate_rsa(RSA_BITS)?;
        Ok((Self::create(&dir, project_id, key, passphrase)?, true))
    }

    /// Creates a CA for the project; with `import_key` the CA uses that RSA
    /// key (PEM, PKCS#1 or PKCS#8) instead of a new one; with `passphrase`
    /// its key is stored as encrypted PKCS#8 (AES-256). If the project has a
    /// CA, this fails unless `rotate`, which moves the old one to
    /// `retired/<time>/` (kept for verifying what it issued).
    pub fn init(
        home: &Path,
        project_id: &str,
        import_key: Option<&Path>,
        passphrase: Option<&Passphrase>,
        rotate: bool,
    ) -> Result<ProjectCa, CaError> {
        let key = match import_key {
            Some(path) => read_import_key(path)?,
            None => generate_rsa(RSA_BITS)?,
        };
        let dir = Self::dir(home, project_id);
        let _lock = lock_dir(&dir)?;
        if dir.join(CERT_FILE).exists() {
            if !rotate {
                return Err(CaError::Exists(project_id.to_string(), dir));
            }
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
        }
        Self::create(&dir, project_id, key, passphrase)
    }

    /// The certificates of the project's CAs, current first, then the
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
            let path = d.join(CERT_FILE);
            match fs::read(&path) {
                Ok(pem) => certs.push(X509::from_pem(&pem).map_err(crypto(format!(
                    "{} is not a PEM certificate",
                    path.display()
                )))?),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io("cannot read", &path)(e)),
            }
        }
        Ok(certs)
    }

    /// Loads the CA in `dir`; `Ok(None)` when there is none yet. An
    /// encrypted key needs `passphrase`.
    pub fn load(dir: &Path, passphrase: Option<&Passphrase>) -> Result<Option<ProjectCa>, CaError> {
        let cert_path = dir.join(CERT_FILE);
        let cert_pem = match fs::read(&cert_path) {
            Ok(pem) => pem,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("cannot read", &cert_path)(e)),
        };
        let cert = X509::from_pem(&cert_pem).map_err(crypto(format!(
            "CA certificate {} is not a PEM certificate",
            cert_path.display()
        )))?;
        let key_path = dir.join(KEY_FILE);
        let mode = fs::metadata(&key_path)
            .map_err(io("cannot read", &key_path))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(CaError::KeyExposed {
                path: key_path,
                mode: mode & 0o777,
            });
        }
        let key_pem = fs::read(&key_path).map_err(io("cannot read", &key_path))?;
        let bad = |reason: &str| CaError::BadKey {
            path: key_path.clone(),
            reason: reason.to_string(),
        };
        let encrypted = key_pem
            .windows(ENCRYPTED_LABEL.len())
            .any(|w| w == ENCRYPTED_LABEL);
        let key = match (encrypted, passphrase) {
            (false, _) => PKey::private_key_from_pem(&key_pem)
                .map_err(|_| bad("not a PEM private key (truncated or foreign file?)"))?,
            (true, None) => {
                return Err(bad(
                    "is encrypted: set ATLAS_CA_PASSPHRASE or pass --passphrase-file",
                ));
            }
            (true, Some(p)) => PKey::private_key_from_pem_passphrase(&key_pem, &p.0)
                .map_err(|_| bad("cannot be decrypted: wrong passphrase (or a damaged file)"))?,
        };
        let public = cert
            .public_key()
            .map_err(crypto("reading the CA certificate's key"))?;
        if !public.public_eq(&key) {
            return Err(CaError::BadKey {
                path: key_path,
                reason: format!("does not match the certificate {}", cert_path.display()),
            });
        }
        Ok(Some(ProjectCa { key, cert }))
    }

    fn create(
        dir: &Path,
        project_id: &str,
        key: PKey<Private>,
        passphrase: Option<&Passphrase>,
    ) -> Result<ProjectCa, CaError> {
        let validity = Validity::atlas(OffsetDateTime::now_utc(), CA_MONTHS)?;
        let cert = self_signed(project_id, &key, &validity)
            .map_err(crypto("signing the CA certificate"))?;
        let key_pem = match passphrase {
            Some(p) => key.private_key_to_pem_pkcs8_passphrase(Cipher::aes_256_cbc(), &p.0),
            None => key.private_key_to_pem_pkcs8(),
        }
        .map_err(crypto("encoding the CA key"))?;
        let cert_pem = cert
            .to_pem()
            .map_err(crypto("encoding the CA certificate"))?;
        let key_path = dir.join(KEY_FILE);
        write_private(&key_path, &key_pem).map_err(io("cannot write", &key_path))?;
        let cert_path = dir.join(CERT_FILE);
        write_public(&cert_path, &cert_pem).map_err(io("cannot write", &cert_path))?;
        Ok(ProjectCa { key, cert })
    }

    /// The CA certificate.
    pub fn cert(&self) -> &X509 {
        &self.cert
    }

    /// The CA certificate as PEM, what `net.tls.CAFile` takes.
    pub fn cert_pem(&self) -> Result<Vec<u8>, ErrorStack> {
        self.cert.to_pem()
    }

    /// The CA's subject, which is the issuer of everything it signs.
    pub fn name(&self) -> &X509NameRef {
        self.cert.subject_name()
    }

    /// The CA's private key, for signing.
    pub fn key(&self) -> &PKeyRef<Private> {
        &self.key
    }
}

fn generate_rsa(bits: u32) -> Result<PKey<Private>, CaError> {
    let rsa = crate::keygen::rsa(bits).map_err(crypto("generating an RSA key"))?;
    PKey::from_rsa(rsa).map_err(crypto("generating an RSA key"))
}

fn read_import_key(path: &Path) -> Result<PKey<Private>, CaError> {
    let pem = fs::read(path).map_err(io("cannot read", path))?;
    let bad = |reason: &str| CaError::BadKey {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let key =
        PKey::private_key_from_pem(&pem).map_err(|_| bad("not an unencrypted PEM private key"))?;
    match key.rsa() {
        Ok(rsa) if rsa.size() * 8 >= MIN_IMPORT_BITS => Ok(key),
        Ok(_) => Err(bad("an RSA key of at least 2048 bits is needed")),
        Err(_) => Err(bad(
            "only RSA keys can sign with sha256WithRSAEncryption as Atlas does",
        )),
    }
}

fn self_signed(
    project_id: &str,
    key: &PKey<Private>,
    validity: &Validity,
) -> Result<X509, ErrorStack> {
    let name = atlas_name(project_id)?;
    let mut b = X509::builder()?;
    b.set_version(2)?;
    let serial = serial_integer(random_serial()?)?;
    b.set_serial_number(&serial)?;
    b.set_subject_name(&name)?;
    b.set_issuer_name(&name)?;
    let (not_before, not_after) = (
        asn1_time(validity.not_before)?,
        asn1_time(validity.not_after)?,
    );
    b.set_not_before(&not_before)?;
    b.set_not_after(&not_after)?;
    b.set_pubkey(key)?;
    b.append_extension(BasicConstraints::new().critical().ca().build()?)?;
    b.append_extension(
        KeyUsage::new()
            .critical()
            .key_cert_sign()
            .crl_sign()
            .build()?,
    )?;
    let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(None, None))?;
    b.append_extension(ski)?;
    b.sign(key, MessageDigest::sha256())?;
    Ok(b.build())
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
        .open(&path)
        .map_err(io("cannot open", &path))?;
    file.lock().map_err(io("cannot lock", &path))?;
    Ok(file)
}
