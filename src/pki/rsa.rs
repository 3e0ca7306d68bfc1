//! RSA key generation on two cores of the current rayon pool at once.
//!
//! OpenSSL 3's `RSA_generate_key` follows SP 800-56B with FIPS 186-4
//! auxiliary primes on one thread, which costs two to three times what
//! searching the two primes costs. Here the two primes are random probable
//! primes as FIPS 186-5 asks for them (`probable_prime.rs`: private DRBG,
//! top two bits set, a small-prime sieve, Table B.1's Miller-Rabin rounds),
//! searched by two workers of the current rayon pool that both keep
//! searching until two are found (`prime.rs`);
//! the key is then assembled as SP 800-56B 6.3.1 prescribes
//! (d = e^-1 mod lcm(p-1, q-1)) with its checks on |p-q| and d, and proven
//! by a consistency check of its components and a pairwise sign/verify
//! test before it is handed out.

use openssl::bn::{BigNum, BigNumContext, BigNumRef};
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::sign::{Signer, Verifier};

use super::prime::two_primes;

/// The public exponent, as Atlas's and every other current RSA key.
const PUBLIC_EXPONENT: u32 = 65_537;

/// A key from OpenSSL's own generator (for CA keys), the first of two runs
/// on the current rayon pool; `bits` at most 16384.
pub(crate) fn openssl_rsa(bits: u32) -> Result<Rsa<Private>, ErrorStack> {
    // Lossless: clamped to 16384.
    super::prime::openssl_rsa(bits.min(16_384) as i32, PUBLIC_EXPONENT)
}

/// A fresh RSA key with a `bits`-bit modulus and e = 65537. Outside a rayon
/// pool this runs on the global one.
pub(crate) fn generate(bits: u32) -> Result<Rsa<Private>, ErrorStack> {
    // The assembly needs two primes of exactly half the size; anything else
    // (no key type asks for it) goes to OpenSSL's own generator.
    if !bits.is_multiple_of(2) || !(1024..=16384).contains(&bits) {
        return Rsa::generate(bits);
    }
    // Lossless: bits is at most 16384.
    let half = (bits / 2) as i32;
    // A modulus factor p needs gcd(e, p-1) = 1; e is prime, so that is
    // p mod e != 1.
    let usable = |p: &BigNum| Ok(p.mod_word(PUBLIC_EXPONENT)? != 1);
    loop {
        let (p, q) = two_primes(half, &usable)?;
        if let Some(key) = assemble_checked(p, q, half)? {
            return Ok(key);
        }
    }
}

/// The key from `half`-bit primes p and q, or `None` when they fail
/// SP 800-56B's conditions (|p-q| > 2^(half-100), d > 2^half) and new ones
/// are needed; that happens with probability below 2^-90.
pub(super) fn assemble_checked(
    p: BigNum,
    q: BigNum,
    half: i32,
) -> Result<Option<Rsa<Private>>, ErrorStack> {
    let mut ctx = BigNumContext::new()?;
    let mut gap = BigNum::new()?;
    gap.checked_sub(&p, &q)?;
    let mut n = BigNum::new()?;
    n.checked_mul(&p, &q, &mut ctx)?;
    if gap.num_bits() <= half - 99 || n.num_bits() != 2 * half {
        return Ok(None);
    }
    let (p1, q1, lcm) = carmichael(&p, &q, &mut ctx)?;
    let e = BigNum::from_u32(PUBLIC_EXPONENT)?;
    let mut d = BigNum::new()?;
    d.mod_inverse(&e, &lcm, &mut ctx)?;
    if d.num_bits() <= half + 1 {
        return Ok(None);
    }
    let mut dmp1 = BigNum::new()?;
    dmp1.nnmod(&d, &p1, &mut ctx)?;
    let mut dmq1 = BigNum::new()?;
    dmq1.nnmod(&d, &q1, &mut ctx)?;
    let mut iqmp = BigNum::new()?;
    iqmp.mod_inverse(&q, &p, &mut ctx)?;
    let key = Rsa::from_private_components(n, e, d, p, q, dmp1, dmq1, iqmp)?;
    accept_or_regenerate(key, 2 * half.unsigned_abs()).map(Some)
}

/// `key` when it passes the self-test; otherwise (a fault in the
/// arithmetic above, never expected) a key from OpenSSL's own generator.
fn accept_or_regenerate(key: Rsa<Private>, bits: u32) -> Result<Rsa<Private>, ErrorStack> {
    if self_test(&key)? {
        Ok(key)
    } else {
        Rsa::generate(bits)
    }
}

/// p-1, q-1 and lcm(p-1, q-1), from which d and the CRT exponents come.
fn carmichael(
    p: &BigNumRef,
    q: &BigNumRef,
    ctx: &mut BigNumContext,
) -> Result<(BigNum, BigNum, BigNum), ErrorStack> {
    let one = BigNum::from_u32(1)?;
    let p1 = minus(p, &one)?;
    let q1 = minus(q, &one)?;
    let mut phi = BigNum::new()?;
    phi.checked_mul(&p1, &q1, ctx)?;
    let mut gcd = BigNum::new()?;
    gcd.gcd(&p1, &q1, ctx)?;
    let mut lcm = BigNum::new()?;
    lcm.checked_div(&phi, &gcd, ctx)?;
    Ok((p1, q1, lcm))
}

fn minus(a: &BigNumRef, b: &BigNumRef) -> Result<BigNum, ErrorStack> {
    let mut r = BigNum::new()?;
    r.checked_sub(a, b)?;
    Ok(r)
}

/// The check of a new key: its components agree (n = pq, d*e = 1 mod
/// lcm(p-1, q-1), and the CRT values dP, dQ, qInv), then a pairwise
/// sign/verify test with the public half, as FIPS 140 asks of a new key.
/// False (never an error) when the key is inconsistent. The primes are not
/// tested again: the search ran FIPS 186-5's Miller-Rabin rounds on them,
/// and OpenSSL's `RSA_check_key` repeating its 64 rounds costs more than
/// the generation itself (64 ms at 2048 bits, 360 ms at 4096 bits here).
fn self_test(key: &Rsa<Private>) -> Result<bool, ErrorStack> {
    if !consistent(key)? {
        return Ok(false);
    }
    let pkey = PKey::from_rsa(key.clone())?;
    let mut message = [0u8; 32];
    openssl::rand::rand_bytes(&mut message)?;
    let mut signer = Signer::new(MessageDigest::sha256(), &pkey)?;
    let signature = signer.sign_oneshot_to_vec(&message)?;
    let mut verifier = Verifier::new(MessageDigest::sha256(), &pkey)?;
    let verified = verifier
        .verify_oneshot(&signature, &message)
        .unwrap_or(false);
    let _ = ErrorStack::get();
    Ok(verified)
}

/// Whether the key's private components agree with each other: what
/// `assemble` computed, recomputed (a few multiplications and reductions).
fn consistent(key: &Rsa<Private>) -> Result<bool, ErrorStack> {
    let (Some(p), Some(q), Some(dp), Some(dq), Some(qinv)) =
        (key.p(), key.q(), key.dmp1(), key.dmq1(), key.iqmp())
    else {
        return Ok(false);
    };
    let mut ctx = BigNumContext::new()?;
    let one = BigNum::from_u32(1)?;
    let mut n = BigNum::new()?;
    n.checked_mul(p, q, &mut ctx)?;
    let (p1, q1, lcm) = carmichael(p, q, &mut ctx)?;
    let mut ed = BigNum::new()?;
    ed.mod_mul(key.e(), key.d(), &lcm, &mut ctx)?;
    let mut want_dp = BigNum::new()?;
    want_dp.nnmod(key.d(), &p1, &mut ctx)?;
    let mut want_dq = BigNum::new()?;
    want_dq.nnmod(key.d(), &q1, &mut ctx)?;
    let mut qq = BigNum::new()?;
    qq.mod_mul(qinv, q, p, &mut ctx)?;
    Ok(&*n == key.n() && ed == one && want_dp == *dp && want_dq == *dq && qq == one)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_pass_openssls_full_check() {
        // RSA_check_key re-tests p and q for primality and checks n = pq,
        // d*e = 1 mod lcm and the CRT values: everything assemble computes.
        for bits in [1024, 2048, 2048, 3072] {
            let key = generate(bits).unwrap();
            assert_eq!(key.size() * 8, bits);
            assert_eq!(key.e().to_dec_str().unwrap().to_string(), "65537");
            assert!(key.check_key().unwrap(), "{bits}");
        }
    }

    #[test]
    fn odd_sizes_still_get_a_key_of_that_size() {
        let key = generate(1025).unwrap();
        assert_eq!(key.n().num_bits(), 1025);
        assert!(key.check_key().unwrap());
    }

    #[test]
    fn keys_differ_and_primes_are_half_size() {
        let a = generate(2048).unwrap();
        let b = generate(2048).unwrap();
        assert_ne!(a.n(), b.n());
        for key in [a, b] {
            assert_eq!(key.p().unwrap().num_bits(), 1024);
            assert_eq!(key.q().unwrap().num_bits(), 1024);
            assert_ne!(key.p().unwrap(), key.q().unwrap());
        }
    }

    #[test]
    fn a_mismatched_key_fails_the_self_test_and_is_regenerated() {
        let a = generate(1024).unwrap();
        let b = generate(1024).unwrap();
        let mixed = Rsa::from_private_components(
            a.n().to_owned().unwrap(),
            a.e().to_owned().unwrap(),
            b.d().to_owned().unwrap(),
            b.p().unwrap().to_owned().unwrap(),
            b.q().unwrap().to_owned().unwrap(),
            b.dmp1().unwrap().to_owned().unwrap(),
            b.dmq1().unwrap().to_owned().unwrap(),
            b.iqmp().unwrap().to_owned().unwrap(),
        )
        .unwrap();
        let mixed_n = mixed.n().to_owned().unwrap();
        assert!(!self_test(&mixed).unwrap());
        let replaced = accept_or_regenerate(mixed, 1024).unwrap();
        assert_ne!(replaced.n(), &*mixed_n, "the fallback made a new key");
        assert!(replaced.check_key().unwrap());
        assert_eq!(replaced.size() * 8, 1024);
    }

    #[test]
    fn bad_crt_values_fail_the_self_test() {
        // Encrypt/decrypt alone does not see these: OpenSSL falls back to
        // the non-CRT path when the CRT result is wrong.
        let a = generate(1024).unwrap();
        let mut wrong_dmp1 = a.dmp1().unwrap().to_owned().unwrap();
        wrong_dmp1.add_word(2).unwrap();
        let bad = Rsa::from_private_components(
            a.n().to_owned().unwrap(),
            a.e().to_owned().unwrap(),
            a.d().to_owned().unwrap(),
            a.p().unwrap().to_owned().unwrap(),
            a.q().unwrap().to_owned().unwrap(),
            wrong_dmp1,
            a.dmq1().unwrap().to_owned().unwrap(),
            a.iqmp().unwrap().to_owned().unwrap(),
        )
        .unwrap();
        assert!(!self_test(&bad).unwrap());
        assert!(self_test(&a).unwrap());
    }
}
