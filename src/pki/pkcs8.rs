//! Encrypted PKCS#8 with a current key derivation: PBES2 with
//! PBKDF2-HMAC-SHA256 at 600,000 iterations (OWASP's current guidance) and
//! AES-256-CBC. OpenSSL's own PKCS#8 writer fixes the count at 2,048 and
//! the Rust bindings cannot change it, so the structures come from
//! RustCrypto's `pkcs5` (PBES2 parameters, RFC 8018) and `pkcs8`
//! (`EncryptedPrivateKeyInfo`, RFC 5958) as types, while OpenSSL derives
//! the key and encrypts. OpenSSL reads the result back like any PKCS#8
//! key, and reads keys written the old way as before.

use openssl::hash::MessageDigest;
use openssl::pkey::{PKeyRef, Private};
use openssl::symm::{Cipher, encrypt};
use pkcs5::pbes2;
use pkcs8::EncryptedPrivateKeyInfoOwned;
use pkcs8::der::EncodePem;
use pkcs8::der::asn1::OctetString;
use pkcs8::der::pem::LineEnding;

use super::backend::Backend;

/// PBKDF2 iterations for a CA key.
pub const ITERATIONS: u32 = 600_000;

/// `key` as an `ENCRYPTED PRIVATE KEY` PEM under `passphrase`, iterating
/// PBKDF2 `iterations` times.
pub fn encrypt_pem(
    key: &PKeyRef<Private>,
    passphrase: &[u8],
    iterations: u32,
) -> Result<Vec<u8>, Backend> {
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    openssl::rand::rand_bytes(&mut salt)?;
    openssl::rand::rand_bytes(&mut iv)?;
    encrypt_pem_with(key, passphrase, iterations, &salt, iv, Aes::Aes256)
}

/// The AES key sizes PBES2 encrypts with here (CA keys and PKCS#12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aes {
    /// AES-256-CBC.
    Aes256,
}

/// [`encrypt_pem`] with the salt and IV given (a seeded PKI's), and AES of
/// either size.
pub fn encrypt_pem_with(
    key: &PKeyRef<Private>,
    passphrase: &[u8],
    iterations: u32,
    salt: &[u8; 16],
    iv: [u8; 16],
    aes: Aes,
) -> Result<Vec<u8>, Backend> {
    let info = seal(
        &key.private_key_to_pkcs8()?,
        passphrase,
        iterations,
        salt,
        iv,
        aes,
    )?;
    Ok(info.to_pem(LineEnding::LF)?.into_bytes())
}

/// The pseudorandom function PBKDF2 derives a key with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prf {
    /// hmacWithSHA1, PBKDF2's default, which DER leaves unwritten: what
    /// OpenSSL 1.0 wrote, and what older drivers' key readers know only.
    HmacSha1,
    /// hmacWithSHA256, what OpenSSL 1.1 and later write.
    HmacSha256,
}

/// The OIDs (DER bodies) PBES2 as written here names.
const PBES2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d];
const PBKDF2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0c];
const HMAC_SHA1: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x07];
const HMAC_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x09];
const DES_EDE3_CBC: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x03, 0x07];
const AES128_CBC: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x02];
const AES256_CBC: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a];

/// A PBES2 cipher with its IV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pbes2Cipher {
    /// AES-128-CBC.
    Aes128([u8; 16]),
    /// AES-256-CBC.
    Aes256([u8; 16]),
    /// DES-EDE3-CBC.
    Des3([u8; 8]),
}

/// `key` as an `ENCRYPTED PRIVATE KEY` PEM under PBES2, with the PRF,
/// salt, iteration count, cipher and IV given (a test PKI's: its readers
/// expect OpenSSL's forms). RustCrypto's `pkcs5` types DES-EDE3 and
/// hmacWithSHA1 only behind features that bring their own ciphers, so the
/// few fields are written here.
pub fn encrypt_pem_pbes2(
    key: &PKeyRef<Private>,
    passphrase: &[u8],
    iterations: u32,
    salt: &[u8],
    cipher: Pbes2Cipher,
    prf: Prf,
) -> Result<Vec<u8>, Backend> {
    use super::der_build::{integer, octets, oid, seq};
    let (symm, algorithm, iv): (Cipher, &[u8], &[u8]) = match &cipher {
        Pbes2Cipher::Aes128(iv) => (Cipher::aes_128_cbc(), AES128_CBC, iv),
        Pbes2Cipher::Aes256(iv) => (Cipher::aes_256_cbc(), AES256_CBC, iv),
        Pbes2Cipher::Des3(iv) => (Cipher::des_ede3_cbc(), DES_EDE3_CBC, iv),
    };
    let digest = match prf {
        Prf::HmacSha1 => MessageDigest::sha1(),
        Prf::HmacSha256 => MessageDigest::sha256(),
    };
    let mut derived = vec![0u8; symm.key_len()];
    openssl::pkcs5::pbkdf2_hmac(
        passphrase,
        salt,
        usize::try_from(iterations).map_err(Backend::new)?,
        digest,
        &mut derived,
    )?;
    let sealed = encrypt(symm, &derived, Some(iv), &key.private_key_to_pkcs8()?)?;
    let count = integer(u64::from(iterations));
    let salt = octets(salt);
    let sha256 = seq(&[&oid(HMAC_SHA256), &[0x05, 0x00]]);
    let params = match prf {
        Prf::HmacSha1 => seq(&[&salt, &count]),
        Prf::HmacSha256 => seq(&[&salt, &count, &sha256]),
    };
    let kdf = seq(&[&oid(PBKDF2), &params]);
    let scheme = seq(&[&oid(algorithm), &octets(iv)]);
    let algorithm = seq(&[&oid(PBES2), &seq(&[&kdf, &scheme])]);
    let der = seq(&[&algorithm, &octets(&sealed)]);
    Ok(pem("ENCRYPTED PRIVATE KEY", &der).into_bytes())
}

/// What an encrypted key's PBES2 parameters say (from its
/// EncryptedPrivateKeyInfo DER): the cipher (its IV zeroed), the PRF and
/// the salt's length; `None` for anything but PBES2 with PBKDF2 and one of
/// [`Pbes2Cipher`]'s ciphers.
pub fn pbes2_form(der: &[u8]) -> Option<(Pbes2Cipher, Prf, usize)> {
    use super::der_build::{elements, header};
    // The content of the element `element` starts with.
    fn value(element: &[u8]) -> Option<&[u8]> {
        let (h, l) = header(element)?;
        element.get(h..h + l)
    }
    // The elements inside the SEQUENCE `data` starts with.
    fn items(data: &[u8]) -> Option<Vec<&[u8]>> {
        elements(value(data)?)
    }
    let info = items(der)?;
    let algorithm = items(info.first()?)?;
    if value(algorithm.first()?)? != PBES2 {
        return None;
    }
    let params = items(algorithm.get(1)?)?;
    let kdf = items(params.first()?)?;
    if value(kdf.first()?)? != PBKDF2 {
        return None;
    }
    let pbkdf2 = items(kdf.get(1)?)?;
    let salt = value(pbkdf2.first()?)?.len();
    // The PRF, when written, follows the count (and an optional key length).
    let prf = match pbkdf2.iter().skip(2).find(|e| e.first() == Some(&0x30)) {
        None => Prf::HmacSha1,
        Some(seq) => match value(items(seq)?.first()?)? {
            oid if oid == HMAC_SHA1 => Prf::HmacSha1,
            oid if oid == HMAC_SHA256 => Prf::HmacSha256,
            _ => return None,
        },
    };
    let scheme = items(params.get(1)?)?;
    let cipher = match value(scheme.first()?)? {
        oid if oid == AES128_CBC => Pbes2Cipher::Aes128([0; 16]),
        oid if oid == AES256_CBC => Pbes2Cipher::Aes256([0; 16]),
        oid if oid == DES_EDE3_CBC => Pbes2Cipher::Des3([0; 8]),
        _ => return None,
    };
    Some((cipher, prf, salt))
}

/// `der` as a PEM block with `label`, 64 characters a line.
pub fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// `plain` encrypted with PBES2 (PBKDF2-HMAC-SHA256 over `passphrase`,
/// AES-CBC) under the salt and IV given, with its algorithm: the shape of
/// an encrypted PKCS#8 key, and of a PKCS#12 file's encrypted contents.
pub fn seal(
    plain: &[u8],
    passphrase: &[u8],
    iterations: u32,
    salt: &[u8; 16],
    iv: [u8; 16],
    aes: Aes,
) -> Result<EncryptedPrivateKeyInfoOwned, Backend> {
    let (params, cipher, key_len) = match aes {
        Aes::Aes256 => (
            pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(iterations, salt, iv),
            Cipher::aes_256_cbc(),
            32,
        ),
    };
    let params = params.map_err(Backend::new)?;
    let mut derived = vec![0u8; key_len];
    openssl::pkcs5::pbkdf2_hmac(
        passphrase,
        salt,
        usize::try_from(iterations).map_err(Backend::new)?,
        MessageDigest::sha256(),
        &mut derived,
    )?;
    let sealed = encrypt(cipher, &derived, Some(&iv), plain)?;
    Ok(EncryptedPrivateKeyInfoOwned {
        encryption_algorithm: params.into(),
        encrypted_data: OctetString::new(sealed)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::pkey::PKey;

    #[test]
    fn every_cipher_and_prf_opens_with_openssl() {
        let key = PKey::generate_ed25519().unwrap();
        for cipher in [
            Pbes2Cipher::Des3([9; 8]),
            Pbes2Cipher::Aes128([9; 16]),
            Pbes2Cipher::Aes256([9; 16]),
        ] {
            for prf in [Prf::HmacSha1, Prf::HmacSha256] {
                let pem = encrypt_pem_pbes2(&key, b"pw", 2048, &[7; 8], cipher, prf).unwrap();
                let back = PKey::private_key_from_pem_passphrase(&pem, b"pw").unwrap();
                assert!(back.public_eq(&key), "{cipher:?} {prf:?}");
                assert!(PKey::private_key_from_pem_passphrase(&pem, b"no").is_err());
            }
        }
    }

    #[test]
    fn openssl_reads_it_back_with_the_passphrase_only() {
        let key = PKey::generate_ed25519().unwrap();
        let pem = encrypt_pem(&key, b"s3cret", 1000).unwrap();
        let text = String::from_utf8(pem.clone()).unwrap();
        assert!(
            text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"),
            "{text}"
        );
        let back = PKey::private_key_from_pem_passphrase(&pem, b"s3cret").unwrap();
        assert!(back.public_eq(&key));
        assert!(PKey::private_key_from_pem_passphrase(&pem, b"wrong").is_err());
    }
}
