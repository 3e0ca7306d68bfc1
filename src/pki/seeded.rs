//! Reproducible test PKIs: every random choice of a `pki apply` file made
//! from its seed instead of the system's generator, so that the same file,
//! seed and time give the same bytes on every run and machine.
//!
//! The derivation, version 1 (README's "Fixtures in git" has it with a
//! test vector):
//! - master = SHA-256("atlas-ca pki seed v1" || 0x00 || seed);
//! - a stream for a table and a purpose is the ChaCha20 keystream (RFC
//!   8439, counter and nonce zero) under the key
//!   HMAC-SHA256(master, table || 0x00 || purpose);
//! - purposes: `key` (the key pair), `serial` (`serial@<now, Unix seconds>`
//!   when the file fixes its time, so that a renewal by a new `now` gives
//!   new serials), `key-encryption`, `pkcs12`; a bundle's streams are named
//!   `bundle:<file>`;
//! - an RSA key: two primes, each the first probable prime of a window of
//!   odd numbers after a start of half the modulus's bits with its top two
//!   bits and its lowest set, read from the stream (a new start from the
//!   stream when a window has none, or the prime is unusable), p then q;
//! - an EC key: the first scalar read from the stream (as many bytes as
//!   the curve's order) that is below the order and not zero;
//! - an Ed25519 key: the first 32 bytes of the stream;
//! - a serial: the first 8 bytes, the top bit cleared, 0 skipped;
//! - ECDSA signatures: RFC 6979 nonces (HMAC-SHA256); RSA PKCS#1 v1.5 and
//!   Ed25519 signatures are deterministic already.

use std::sync::atomic::AtomicBool;

use openssl::bn::{BigNum, BigNumContext, BigNumRef};
use openssl::ec::{EcGroupRef, EcKey, EcPoint};
use openssl::ecdsa::EcdsaSig;
use openssl::error::ErrorStack;
use openssl::hash::{MessageDigest, hash};
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, PKeyRef, Private};
use openssl::sign::Signer;
use openssl::symm::{Cipher, Crypter, Mode};

use super::backend::Backend;
use super::der_build::{header, length};
use super::keys::KeyType;
use super::probable_prime::search_from;
use super::rsa::assemble_checked;

/// The version of the derivation: a change to any rule is a new version.
pub const DERIVATION: &str = "atlas-ca pki seed v1";

/// A seed, hashed once.
#[derive(Clone)]
pub struct Seed([u8; 32]);

impl std::fmt::Debug for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seed(..)")
    }
}

impl Seed {
    /// The seed `text`.
    pub fn new(text: &str) -> Result<Seed, ErrorStack> {
        let mut input = DERIVATION.as_bytes().to_vec();
        input.push(0);
        input.extend(text.as_bytes());
        let digest = hash(MessageDigest::sha256(), &input)?;
        let mut out = [0u8; 32];
        out.copy_from_slice(&digest);
        Ok(Seed(out))
    }

    /// The stream of `table` for `purpose`.
    pub fn stream(&self, table: &str, purpose: &str) -> Result<Stream, ErrorStack> {
        let mut message = table.as_bytes().to_vec();
        message.push(0);
        message.extend(purpose.as_bytes());
        let key = hmac_sha256(&self.0, &message)?;
        let crypter = Crypter::new(Cipher::chacha20(), Mode::Encrypt, &key, Some(&[0u8; 16]))?;
        Ok(Stream(crypter))
    }
}

/// HMAC-SHA256 of `message` under `key`.
fn hmac_sha256(key: &[u8], message: &[u8]) -> Result<Vec<u8>, ErrorStack> {
    let key = PKey::hmac(key)?;
    let mut signer = Signer::new(MessageDigest::sha256(), &key)?;
    signer.update(message)?;
    signer.sign_to_vec()
}

/// A deterministic byte stream (a ChaCha20 keystream).
pub struct Stream(Crypter);

impl Stream {
    /// Fills `buf` with the stream's next bytes.
    pub fn fill(&mut self, buf: &mut [u8]) -> Result<(), ErrorStack> {
        let zeros = vec![0u8; buf.len()];
        // ChaCha20 is a stream cipher: the output is as long as the input,
        // and the block size of one leaves nothing for `finalize`.
        let mut out = vec![0u8; buf.len() + 1];
        let n = self.0.update(&zeros, &mut out)?;
        buf.copy_from_slice(&out[..n.min(buf.len())]);
        Ok(())
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<Vec<u8>, ErrorStack> {
        let mut buf = vec![0u8; n];
        self.fill(&mut buf)?;
        Ok(buf)
    }

    /// A positive serial below 2^63, never 0.
    pub fn serial(&mut self) -> Result<u64, ErrorStack> {
        loop {
            let mut b = [0u8; 8];
            self.fill(&mut b)?;
            let serial = u64::from_be_bytes(b) & (u64::MAX >> 1);
            if serial != 0 {
                return Ok(serial);
            }
        }
    }
}

/// A key of `key_type` from `stream`.
pub fn key(key_type: KeyType, stream: &mut Stream) -> Result<PKey<Private>, ErrorStack> {
    match key_type.rsa_bits() {
        Some(bits) => PKey::from_rsa(rsa(bits, stream)?),
        None => match key_type {
            KeyType::EcP256 => ec(Nid::X9_62_PRIME256V1, stream),
            KeyType::EcP384 => ec(Nid::SECP384R1, stream),
            _ => PKey::private_key_from_raw_bytes(&stream.bytes(32)?, Id::ED25519),
        },
    }
}

fn rsa(bits: u32, stream: &mut Stream) -> Result<openssl::rsa::Rsa<Private>, ErrorStack> {
    // Lossless: key types are at most 4096 bits.
    let half = (bits / 2) as i32;
    let never = AtomicBool::new(false);
    let prime = |stream: &mut Stream, other: Option<&BigNum>| -> Result<BigNum, ErrorStack> {
        loop {
            let mut next = |buf: &mut [u8]| stream.fill(buf);
            if let Some(p) = search_from(half, &never, &mut next)?
                && p.mod_word(65_537)? != 1
                && other.is_none_or(|o| *o != p)
            {
                return Ok(p);
            }
        }
    };
    loop {
        let p = prime(stream, None)?;
        let q = prime(stream, Some(&p))?;
        if let Some(key) = assemble_checked(p, q, half)? {
            return Ok(key);
        }
    }
}

fn ec(nid: Nid, stream: &mut Stream) -> Result<PKey<Private>, ErrorStack> {
    let group = openssl::ec::EcGroup::from_curve_name(nid)?;
    let mut ctx = BigNumContext::new()?;
    let mut order = BigNum::new()?;
    group.order(&mut order, &mut ctx)?;
    // Lossless: an order has a positive number of bits.
    let len = (order.num_bits() as usize).div_ceil(8);
    loop {
        let d = BigNum::from_slice(&stream.bytes(len)?)?;
        if d.num_bits() > 0 && d < order {
            let mut point = EcPoint::new(&group)?;
            point.mul_generator2(&group, &d, &mut ctx)?;
            let key = EcKey::from_private_components(&group, &d, &point)?;
            return PKey::from_ec_key(key);
        }
    }
}

/// The ECDSA signature of `message` (hashed with SHA-256) by `key`, with
/// the nonce RFC 6979 derives from the key and the hash, as DER.
pub fn ecdsa_sign(key: &PKeyRef<Private>, message: &[u8]) -> Result<Vec<u8>, ErrorStack> {
    let ec = key.ec_key()?;
    let group = ec.group();
    let mut ctx = BigNumContext::new()?;
    let mut q = BigNum::new()?;
    group.order(&mut q, &mut ctx)?;
    let h1 = hash(MessageDigest::sha256(), message)?;
    let x = ec.private_key();
    let e = bits2int(&h1, q.num_bits())?;
    let mut nonces = Rfc6979::new(x, &q, &h1)?;
    loop {
        let k = nonces.next()?;
        let r = x_of_k_times_g(group, &k, &q, &mut ctx)?;
        if r.num_bits() == 0 {
            continue;
        }
        // s = k^-1 (e + x r) mod q
        let mut xr = BigNum::new()?;
        xr.mod_mul(x, &r, &q, &mut ctx)?;
        let mut sum = BigNum::new()?;
        sum.mod_add(&e, &xr, &q, &mut ctx)?;
        let mut kinv = BigNum::new()?;
        kinv.mod_inverse(&k, &q, &mut ctx)?;
        let mut s = BigNum::new()?;
        s.mod_mul(&kinv, &sum, &q, &mut ctx)?;
        if s.num_bits() == 0 {
            continue;
        }
        return EcdsaSig::from_private_components(r, s)?.to_der();
    }
}

/// (k G).x mod q.
fn x_of_k_times_g(
    group: &EcGroupRef,
    k: &BigNumRef,
    q: &BigNumRef,
    ctx: &mut BigNumContext,
) -> Result<BigNum, ErrorStack> {
    let mut point = EcPoint::new(group)?;
    point.mul_generator2(group, k, ctx)?;
    let (mut x, mut y) = (BigNum::new()?, BigNum::new()?);
    point.affine_coordinates(group, &mut x, &mut y, ctx)?;
    let mut r = BigNum::new()?;
    r.nnmod(&x, q, ctx)?;
    Ok(r)
}

/// RFC 6979 2.3.2: the leftmost `qlen` bits of `bytes` as an integer.
fn bits2int(bytes: &[u8], qlen: i32) -> Result<BigNum, ErrorStack> {
    let mut v = BigNum::from_slice(bytes)?;
    // Lossless: at most a few hundred bytes.
    let blen = (bytes.len() * 8) as i32;
    if blen > qlen {
        let mut shifted = BigNum::new()?;
        shifted.rshift(&v, blen - qlen)?;
        v = shifted;
    }
    Ok(v)
}

/// RFC 6979 3.2's generator of nonces, with HMAC-SHA256.
struct Rfc6979 {
    k: Vec<u8>,
    v: Vec<u8>,
    q: BigNum,
    started: bool,
}

impl Rfc6979 {
    fn new(x: &BigNumRef, q: &BigNumRef, h1: &[u8]) -> Result<Rfc6979, ErrorStack> {
        let qlen = q.num_bits();
        // Lossless: an order has a positive number of bits.
        let rlen = (qlen as usize).div_ceil(8);
        let x_octets = x.to_vec_padded(rlen as i32)?;
        let mut ctx = BigNumContext::new()?;
        let mut z2 = BigNum::new()?;
        let z1 = bits2int(h1, qlen)?;
        z2.nnmod(&z1, q, &mut ctx)?;
        let h_octets = z2.to_vec_padded(rlen as i32)?;
        let mut v = vec![0x01u8; 32];
        let mut k = vec![0x00u8; 32];
        for tag in [0x00u8, 0x01] {
            let mut m = v.clone();
            m.push(tag);
            m.extend(&x_octets);
            m.extend(&h_octets);
            k = hmac_sha256(&k, &m)?;
            v = hmac_sha256(&k, &v)?;
        }
        Ok(Rfc6979 {
            k,
            v,
            q: q.to_owned()?,
            started: false,
        })
    }

    /// The next candidate k in [1, q-1].
    fn next(&mut self) -> Result<BigNum, ErrorStack> {
        if self.started {
            let mut m = self.v.clone();
            m.push(0x00);
            self.k = hmac_sha256(&self.k, &m)?;
            self.v = hmac_sha256(&self.k, &self.v)?;
        }
        self.started = true;
        let qlen = self.q.num_bits();
        loop {
            let mut t = Vec::new();
            // Lossless: qlen is positive.
            while t.len() * 8 < qlen as usize {
                self.v = hmac_sha256(&self.k, &self.v)?;
                t.extend(&self.v);
            }
            let k = bits2int(&t, qlen)?;
            if k.num_bits() > 0 && k < self.q {
                return Ok(k);
            }
            let mut m = self.v.clone();
            m.push(0x00);
            self.k = hmac_sha256(&self.k, &m)?;
            self.v = hmac_sha256(&self.k, &self.v)?;
        }
    }
}

/// `der` (a certificate or a CRL: a SEQUENCE of the signed part, the
/// algorithm and the signature) signed again by the EC `key` with an RFC
/// 6979 nonce; returned as it is for an RSA or Ed25519 key, whose
/// signatures are deterministic already. A `der` of another shape is an
/// error, never a silently random signature.
pub fn resign(der: &[u8], key: &PKeyRef<Private>) -> Result<Vec<u8>, Backend> {
    if key.id() != Id::EC {
        return Ok(der.to_vec());
    }
    let malformed = || Backend::new(std::io::Error::other("not a signed DER structure"));
    let body = header(der).map(|(h, _)| &der[h..]).ok_or_else(malformed)?;
    let (th, tl) = header(body).ok_or_else(malformed)?;
    let signed = &body[..th + tl];
    let (ah, al) = header(&body[th + tl..]).ok_or_else(malformed)?;
    let algorithm = &body[th + tl..th + tl + ah + al];
    let mut bits = vec![0u8];
    bits.extend(ecdsa_sign(key, signed)?);
    let signature = [vec![0x03], length(bits.len()), bits].concat();
    let inner = [signed, algorithm, &signature].concat();
    Ok([vec![0x30], length(inner.len()), inner].concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_follow_seed_table_and_purpose() {
        let seed = Seed::new("example").unwrap();
        let a = seed.stream("ca", "key").unwrap().bytes(16).unwrap();
        assert_eq!(a, seed.stream("ca", "key").unwrap().bytes(16).unwrap());
        assert_ne!(a, seed.stream("ca", "serial").unwrap().bytes(16).unwrap());
        assert_ne!(a, seed.stream("cb", "key").unwrap().bytes(16).unwrap());
        let other = Seed::new("other").unwrap();
        assert_ne!(a, other.stream("ca", "key").unwrap().bytes(16).unwrap());
        // A stream read in pieces is the stream read at once.
        let mut s = seed.stream("ca", "key").unwrap();
        let mut pieces = s.bytes(5).unwrap();
        pieces.extend(s.bytes(11).unwrap());
        assert_eq!(pieces, a);
    }

    #[test]
    fn the_derivation_s_test_vector() {
        // README's vector, computed independently (Python's hashlib, hmac
        // and cryptography's ChaCha20).
        let seed = Seed::new("example").unwrap();
        let key = seed.stream("ca", "key").unwrap().bytes(16).unwrap();
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "780132285e2ca05b7ce7cbb16b314e9e");
        let serial = seed.stream("ca", "serial").unwrap().serial().unwrap();
        assert_eq!(serial, 0x79d5_1958_86d4_752f);
    }

    #[test]
    fn keys_of_every_type_are_whole_and_the_same_each_time() {
        let seed = Seed::new("keys").unwrap();
        for &t in KeyType::ALL {
            if t == KeyType::Rsa4096 || t == KeyType::Rsa3072 {
                continue;
            }
            let make = || key(t, &mut seed.stream("t", "key").unwrap()).unwrap();
            let (a, b) = (make(), make());
            assert_eq!(
                a.private_key_to_der().unwrap(),
                b.private_key_to_der().unwrap(),
                "{t}"
            );
            assert_eq!(KeyType::of(&a), Some(t));
            if let Ok(rsa) = a.rsa() {
                assert!(rsa.check_key().unwrap());
            }
            if let Ok(ec) = a.ec_key() {
                ec.check_key().unwrap();
            }
        }
    }

    #[test]
    fn ecdsa_signatures_are_rfc_6979_and_verify() {
        // RFC 6979 A.2.5: P-256, SHA-256, the message "sample".
        let group = openssl::ec::EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let x = BigNum::from_hex_str(
            "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721",
        )
        .unwrap();
        let mut ctx = BigNumContext::new().unwrap();
        let mut point = EcPoint::new(&group).unwrap();
        point.mul_generator2(&group, &x, &mut ctx).unwrap();
        let key =
            PKey::from_ec_key(EcKey::from_private_components(&group, &x, &point).unwrap()).unwrap();
        let der = ecdsa_sign(&key, b"sample").unwrap();
        let sig = EcdsaSig::from_der(&der).unwrap();
        assert_eq!(
            sig.r().to_hex_str().unwrap().to_string(),
            "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716"
        );
        assert_eq!(
            sig.s().to_hex_str().unwrap().to_string(),
            "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8"
        );
        let mut verifier = openssl::sign::Verifier::new(MessageDigest::sha256(), &key).unwrap();
        verifier.update(b"sample").unwrap();
        assert!(verifier.verify(&der).unwrap());
    }

    #[test]
    fn serials_are_positive_63_bit() {
        let seed = Seed::new("s").unwrap();
        let mut s = seed.stream("a", "serial").unwrap();
        for _ in 0..100 {
            let n = s.serial().unwrap();
            assert!(n > 0 && n < 1 << 63);
        }
    }
}
