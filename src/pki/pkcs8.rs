//! Encrypted PKCS#8 with a current key derivation: PBES2 with
//! PBKDF2-HMAC-SHA256 at 600,000 iterations (OWASP's current guidance) and
//! AES-256-CBC. OpenSSL's own PKCS#8 writer fixes the count at 2,048 and
//! the Rust bindings cannot change it, so the structure (RFC 8018,
//! appendix A.4, and RFC 5958) is encoded here with the `der` crate around
//! OpenSSL's PBKDF2 and cipher. OpenSSL reads it back like any PKCS#8 key,
//! and reads keys written the old way as before.

use openssl::hash::MessageDigest;
use openssl::pkey::{PKeyRef, Private};
use openssl::symm::{Cipher, encrypt};
use x509_cert::der::asn1::{Any, Null, ObjectIdentifier, OctetString};
use x509_cert::der::pem::LineEnding;
use x509_cert::der::{Encode, Tag};

use super::backend::Backend;

/// PBKDF2 iterations for a CA key.
pub const ITERATIONS: u32 = 600_000;

const PBES2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.13");
const PBKDF2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.12");
const HMAC_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.2.9");
const AES_256_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.42");

/// The PEM label of an encrypted PKCS#8 key.
const LABEL: &str = "ENCRYPTED PRIVATE KEY";

/// A DER SEQUENCE of already-encoded `parts`.
fn sequence(parts: &[Vec<u8>]) -> Result<Vec<u8>, Backend> {
    Ok(Any::new(Tag::Sequence, parts.concat())?.to_der()?)
}

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
    let mut derived = [0u8; 32];
    openssl::pkcs5::pbkdf2_hmac(
        passphrase,
        &salt,
        usize::try_from(iterations).unwrap_or(usize::MAX),
        MessageDigest::sha256(),
        &mut derived,
    )?;
    let plain = key.private_key_to_pkcs8()?;
    let sealed = encrypt(Cipher::aes_256_cbc(), &derived, Some(&iv), &plain)?;
    let prf = sequence(&[HMAC_SHA256.to_der()?, Null.to_der()?])?;
    let kdf_params = sequence(&[
        OctetString::new(salt.to_vec())?.to_der()?,
        iterations.to_der()?,
        prf,
    ])?;
    let kdf = sequence(&[PBKDF2.to_der()?, kdf_params])?;
    let cipher = sequence(&[
        AES_256_CBC.to_der()?,
        OctetString::new(iv.to_vec())?.to_der()?,
    ])?;
    let algorithm = sequence(&[PBES2.to_der()?, sequence(&[kdf, cipher])?])?;
    let info = sequence(&[algorithm, OctetString::new(sealed)?.to_der()?])?;
    let pem = x509_cert::der::pem::encode_string(LABEL, LineEnding::LF, &info)
        .map_err(|e| Backend::new(std::io::Error::other(e.to_string())))?;
    Ok(pem.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::pkey::PKey;

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
