//! How `pki apply` writes a private key: PKCS#8 or PKCS#1, in the clear or
//! encrypted with a password, before or after its certificate. One form,
//! checked once, for a certificate's own files and for a bundle's.

use openssl::pkey::{PKey, Private};
use openssl::symm::Cipher;
use toml::Spanned;

use crate::api::Error;
use crate::model::names::atlas_enum;
use crate::pki::KeyType;
use crate::pki::pkcs8::{Pbes2Cipher, Prf, encrypt_pem_pbes2, pbes2_form};
use crate::pki::seeded::Stream;

atlas_enum! {
    /// How a written private key is encrypted (a pki file's `key_encryption`).
    pub(crate) enum KeyEncryption("key_encryption", Exact) {
        /// PKCS#8 PBES2 with AES-256-CBC.
        Pkcs8Aes256 = "pkcs8-aes256", "PKCS#8 PBES2 with AES-256-CBC";
        /// PKCS#8 PBES2 with AES-128-CBC.
        Pkcs8Aes128 = "pkcs8-aes128", "PKCS#8 PBES2 with AES-128-CBC";
        /// PKCS#8 PBES2 with DES-EDE3-CBC.
        Pkcs8Des3 = "pkcs8-3des", "PKCS#8 PBES2 with DES-EDE3-CBC";
        /// The legacy PKCS#1 PEM encryption (`Proc-Type: 4,ENCRYPTED`), AES-256.
        Pkcs1 = "pkcs1", "the legacy PKCS#1 PEM encryption, AES-256 (RSA keys only)";
    }
}

/// How a key in the clear is written (a pki file's `key_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum ClearFormat {
    /// PKCS#8 (`PRIVATE KEY`).
    #[default]
    Pkcs8,
    /// PKCS#1 (`RSA PRIVATE KEY`), RSA keys only.
    Pkcs1,
    /// As `openssl ecparam -genkey` writes an EC key: its curve (`EC
    /// PARAMETERS`), then SEC1 (`EC PRIVATE KEY`).
    Sec1,
}

/// How one file holds a key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct KeyForm {
    /// The password and encryption, if encrypted.
    pub(crate) encryption: Option<(String, KeyEncryption)>,
    /// The encoding of a key in the clear (`key_format`).
    pub(crate) clear: ClearFormat,
    /// The key before the certificates (as drivers-evergreen-tools'
    /// x509gen files have it) rather than after.
    pub(crate) first: bool,
    /// PBKDF2's PRF for an encrypted PKCS#8 key (`key_prf`).
    pub(crate) prf: Option<Prf>,
    /// PBKDF2's salt length in bytes for an encrypted PKCS#8 key
    /// (`key_salt_bytes`; else 16, or 8 with hmacWithSHA1).
    pub(crate) salt_bytes: Option<usize>,
}

impl KeyForm {
    /// PBKDF2's salt length for an encrypted PKCS#8 key: the table's, else
    /// 16 bytes as OpenSSL 3 writes it, 8 with hmacWithSHA1 as OpenSSL 1.0
    /// wrote it.
    fn salt_len(&self) -> usize {
        let sha1 = self.prf == Some(Prf::HmacSha1);
        self.salt_bytes.unwrap_or(if sha1 { 8 } else { 16 })
    }
}

/// A table's key fields, as written.
pub(crate) struct RawKeyForm<'a> {
    pub(crate) password: Option<&'a String>,
    pub(crate) encryption: Option<&'a Spanned<String>>,
    pub(crate) format: Option<&'a Spanned<String>>,
    pub(crate) first: bool,
    pub(crate) prf: Option<&'a Spanned<String>>,
    pub(crate) salt_bytes: Option<&'a Spanned<u32>>,
}

impl RawKeyForm<'_> {
    /// Whether the table says anything about its key.
    pub(crate) fn is_empty(&self) -> bool {
        self.password.is_none()
            && self.encryption.is_none()
            && self.format.is_none()
            && self.prf.is_none()
            && self.salt_bytes.is_none()
            && !self.first
    }
}

/// Checks a table's key fields for a key of `key_type`; `written` says
/// whether the table writes a key at all (a form for a key that is not
/// written is an error at `at`).
pub(crate) fn key_form(
    raw: &RawKeyForm<'_>,
    key_type: KeyType,
    written: bool,
    at: usize,
    fail: &dyn Fn(usize, String) -> Error,
) -> Result<KeyForm, Error> {
    if !written && !raw.is_empty() {
        return Err(fail(
            at,
            "key_password, key_encryption, key_prf, key_salt_bytes, key_format or key_first on a table whose key is not written"
                .into(),
        ));
    }
    let clear = match raw.format.map(|f| (f.get_ref().as_str(), f.span().start)) {
        None | Some(("pkcs8", _)) => ClearFormat::Pkcs8,
        Some((format @ ("pkcs1" | "sec1"), at)) => {
            let (clear, fits, kind, encrypted) = if format == "pkcs1" {
                let rsa = key_type.rsa_bits().is_some();
                let encrypted = "PKCS#1 key is key_encryption = \"pkcs1\"";
                (ClearFormat::Pkcs1, rsa, "RSA", encrypted)
            } else {
                let ec = matches!(key_type, KeyType::EcP256 | KeyType::EcP384);
                let encrypted = "EC key is PKCS#8 (key_encryption = \"pkcs8-...\")";
                (ClearFormat::Sec1, ec, "EC", encrypted)
            };
            if !fits {
                return Err(fail(at, format!("{format} is for {kind} keys")));
            }
            if raw.password.is_some() {
                return Err(fail(
                    at,
                    format!("key_format is for a key in the clear; an encrypted {encrypted}"),
                ));
            }
            clear
        }
        Some((other, at)) => {
            return Err(fail(
                at,
                format!("key_format {other:?}: pkcs8, pkcs1 or sec1"),
            ));
        }
    };
    let encryption = match (raw.password, raw.encryption) {
        (None, None) => None,
        (None, Some(e)) => {
            return Err(fail(
                e.span().start,
                "key_encryption needs a key_password".into(),
            ));
        }
        (Some(p), e) => Some((p.clone(), encryption(e, key_type, fail)?)),
    };
    let prf = match raw.prf {
        None => None,
        Some(p) => {
            let pkcs8 = encryption
                .as_ref()
                .is_some_and(|(_, e)| *e != KeyEncryption::Pkcs1);
            if !pkcs8 {
                return Err(fail(
                    p.span().start,
                    "key_prf is for a key encrypted as PKCS#8 (a key_password, key_encryption pkcs8-*)"
                        .into(),
                ));
            }
            Some(match p.get_ref().as_str() {
                "hmacWithSHA1" => Prf::HmacSha1,
                "hmacWithSHA256" => Prf::HmacSha256,
                other => {
                    return Err(fail(
                        p.span().start,
                        format!("key_prf {other:?}: hmacWithSHA1 or hmacWithSHA256"),
                    ));
                }
            })
        }
    };
    let salt_bytes = match raw.salt_bytes {
        None => None,
        Some(n) => {
            let pkcs8 = encryption
                .as_ref()
                .is_some_and(|(_, e)| *e != KeyEncryption::Pkcs1);
            if !pkcs8 || !(8..=64).contains(n.get_ref()) {
                return Err(fail(
                    n.span().start,
                    "key_salt_bytes (8 to 64) is for a key encrypted as PKCS#8".into(),
                ));
            }
            // Lossless: at most 64.
            Some(*n.get_ref() as usize)
        }
    };
    Ok(KeyForm {
        encryption,
        clear,
        salt_bytes,
        first: raw.first,
        prf,
    })
}

fn encryption(
    e: Option<&Spanned<String>>,
    key_type: KeyType,
    fail: &dyn Fn(usize, String) -> Error,
) -> Result<KeyEncryption, Error> {
    let Some(e) = e else {
        return Ok(KeyEncryption::Pkcs8Aes256);
    };
    match e.get_ref().parse::<KeyEncryption>() {
        Ok(KeyEncryption::Pkcs1) if key_type.rsa_bits().is_none() => Err(fail(
            e.span().start,
            "pkcs1 encryption is for RSA keys".into(),
        )),
        Ok(encryption) => Ok(encryption),
        Err(_) => Err(fail(
            e.span().start,
            format!(
                "key_encryption {:?}: one of {}",
                e.get_ref(),
                KeyEncryption::NAMES.join(", ")
            ),
        )),
    }
}

/// `key` as PEM in `form`, its salts and IVs fresh.
pub(crate) fn key_pem(key: &PKey<Private>, form: &KeyForm) -> Result<Vec<u8>, Error> {
    Ok(match &form.encryption {
        None => match form.clear {
            ClearFormat::Pkcs8 => key.private_key_to_pem_pkcs8()?,
            ClearFormat::Pkcs1 => key.rsa()?.private_key_to_pem()?,
            ClearFormat::Sec1 => sec1_pem(key)?,
        },
        Some((password, KeyEncryption::Pkcs1)) => key
            .rsa()?
            .private_key_to_pem_passphrase(Cipher::aes_256_cbc(), password.as_bytes())?,
        Some((password, e)) => pkcs8_pem(key, password, *e, form, &mut |b| {
            openssl::rand::rand_bytes(b).map_err(Error::from)
        })?,
    })
}

/// An EC `key` as `openssl ecparam -genkey` writes it: the named curve
/// (`EC PARAMETERS`, the curve's OID), then the SEC1 key with its curve
/// and public point.
fn sec1_pem(key: &PKey<Private>) -> Result<Vec<u8>, Error> {
    use base64::Engine;
    let ec = key.ec_key()?;
    let curve = ec
        .group()
        .curve_name()
        .ok_or_else(|| Error::Internal("an EC key without a named curve".into()))?;
    let oid = openssl::asn1::Asn1Object::from_str(curve.short_name()?)?;
    let oid = x509_cert::der::asn1::ObjectIdentifier::from_bytes(oid.as_slice())
        .map_err(|e| Error::Internal(format!("the curve's OID: {e}")))?;
    let der = x509_cert::der::Encode::to_der(&oid)
        .map_err(|e| Error::Internal(format!("the curve's OID: {e}")))?;
    let text = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = format!("-----BEGIN EC PARAMETERS-----\n{text}\n-----END EC PARAMETERS-----\n")
        .into_bytes();
    pem.extend(ec.private_key_to_pem()?);
    Ok(pem)
}

/// `key` as encrypted PKCS#8 with `encryption` and `form`'s PRF
/// (hmacWithSHA256 when not given), the salt and IV from `fill`. The salt
/// is `form`'s length, else 16 bytes as OpenSSL 3 writes it, 8 with
/// hmacWithSHA1 as OpenSSL 1.0 wrote it.
fn pkcs8_pem(
    key: &PKey<Private>,
    password: &str,
    encryption: KeyEncryption,
    form: &KeyForm,
    fill: &mut dyn FnMut(&mut [u8]) -> Result<(), Error>,
) -> Result<Vec<u8>, Error> {
    let prf = form.prf.unwrap_or(Prf::HmacSha256);
    let mut salt = vec![0u8; form.salt_len()];
    fill(&mut salt)?;
    let cipher = match encryption {
        KeyEncryption::Pkcs8Des3 => {
            let mut iv = [0u8; 8];
            fill(&mut iv)?;
            Pbes2Cipher::Des3(iv)
        }
        KeyEncryption::Pkcs8Aes128 => {
            let mut iv = [0u8; 16];
            fill(&mut iv)?;
            Pbes2Cipher::Aes128(iv)
        }
        _ => {
            let mut iv = [0u8; 16];
            fill(&mut iv)?;
            Pbes2Cipher::Aes256(iv)
        }
    };
    Ok(encrypt_pem_pbes2(
        key,
        password.as_bytes(),
        TEST_ITERATIONS,
        &salt,
        cipher,
        prf,
    )?)
}

/// PBKDF2 iterations of a test PKI's encrypted PKCS#8 keys: OpenSSL's own
/// (what the unseeded writer uses), which suites' readers expect.
const TEST_ITERATIONS: u32 = 2048;

/// `key` as PEM in `form`, its salts and IVs from `stream` (a seeded PKI:
/// the same bytes every run).
pub(crate) fn key_pem_seeded(
    key: &PKey<Private>,
    form: &KeyForm,
    stream: &mut Stream,
) -> Result<Vec<u8>, Error> {
    let Some((password, encryption)) = &form.encryption else {
        return key_pem(key, form);
    };
    match encryption {
        KeyEncryption::Pkcs1 => {
            let mut iv = [0u8; 16];
            stream.fill(&mut iv)?;
            legacy_pem(key, password.as_bytes(), iv)
        }
        e => pkcs8_pem(key, password, *e, form, &mut |b| {
            stream.fill(b).map_err(Error::from)
        }),
    }
}

/// The legacy PKCS#1 PEM encryption as OpenSSL writes it (AES-256-CBC, the
/// key from EVP_BytesToKey with MD5 over the password and the IV's first
/// eight bytes), with the IV given.
fn legacy_pem(key: &PKey<Private>, password: &[u8], iv: [u8; 16]) -> Result<Vec<u8>, Error> {
    use base64::Engine;
    let cipher = Cipher::aes_256_cbc();
    let derived = openssl::pkcs5::bytes_to_key(
        cipher,
        openssl::hash::MessageDigest::md5(),
        password,
        Some(&iv[..8]),
        1,
    )?;
    let sealed = openssl::symm::encrypt(
        cipher,
        &derived.key,
        Some(&iv),
        &key.rsa()?.private_key_to_der()?,
    )?;
    let body = base64::engine::general_purpose::STANDARD.encode(sealed);
    let mut pem = String::from(
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,",
    );
    for b in iv {
        pem.push_str(&format!("{b:02X}"));
    }
    pem.push_str("\n\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END RSA PRIVATE KEY-----\n");
    Ok(pem.into_bytes())
}

/// The PEM label a key in `form` is written under, and whether its block
/// carries the legacy `Proc-Type: 4,ENCRYPTED` header.
pub(crate) fn written_as(form: &KeyForm) -> (&'static str, bool) {
    match &form.encryption {
        None => match form.clear {
            ClearFormat::Pkcs8 => ("PRIVATE KEY", false),
            ClearFormat::Pkcs1 => ("RSA PRIVATE KEY", false),
            ClearFormat::Sec1 => ("EC PRIVATE KEY", false),
        },
        Some((_, KeyEncryption::Pkcs1)) => ("RSA PRIVATE KEY", true),
        Some(_) => ("ENCRYPTED PRIVATE KEY", false),
    }
}

/// Whether a PEM block with `label` and body `text` is a key in `form`'s
/// encoding.
pub(crate) fn is_written_as(form: &KeyForm, label: &str, text: &[u8]) -> bool {
    written_differently(form, label, text).is_none()
}

/// How a PEM block with `label` and body `text` differs from a key in
/// `form`'s encoding: its label (and legacy header), or an encrypted
/// PKCS#8 key's cipher, PRF or salt length.
pub(crate) fn written_differently(form: &KeyForm, label: &str, text: &[u8]) -> Option<String> {
    let legacy = text.windows(9).any(|w| w == b"Proc-Type");
    let (want, want_legacy) = written_as(form);
    if (label, legacy) != (want, want_legacy) {
        return Some(format!("key encoding {label}, not {want}"));
    }
    let Some((_, encryption)) = &form.encryption else {
        return None;
    };
    let cipher = match encryption {
        KeyEncryption::Pkcs1 => return None,
        KeyEncryption::Pkcs8Aes256 => Pbes2Cipher::Aes256([0; 16]),
        KeyEncryption::Pkcs8Aes128 => Pbes2Cipher::Aes128([0; 16]),
        KeyEncryption::Pkcs8Des3 => Pbes2Cipher::Des3([0; 8]),
    };
    let prf = form.prf.unwrap_or(Prf::HmacSha256);
    let salt = form.salt_len();
    match pem_body(text).as_deref().and_then(pbes2_form) {
        Some(found) if found == (cipher, prf, salt) => None,
        _ => Some(format!(
            "key encryption not {} with PBKDF2-{} and a {salt}-byte salt",
            encryption.name(),
            if prf == Prf::HmacSha1 {
                "SHA1"
            } else {
                "SHA256"
            }
        )),
    }
}

/// The DER inside one PEM block.
pub(crate) fn pem_body(block: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    let text = std::str::from_utf8(block).ok()?;
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

/// Certificates and key in one file, in `form`'s order.
pub(crate) fn joined(certs: &[u8], key: &[u8], form: &KeyForm) -> Vec<u8> {
    let (a, b) = if form.first {
        (key, certs)
    } else {
        (certs, key)
    };
    [a, b].concat()
}
