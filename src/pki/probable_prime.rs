//! Random probable primes for RSA moduli, tested as FIPS 186-5 (Appendix
//! B.3, Table B.1) asks, but searched incrementally rather than by A.1.3's
//! fresh random candidate per try: one random start of the size asked with
//! its top two bits set, from OpenSSL's private DRBG; the odd numbers after
//! it sieved by every odd prime below 2^16 (a window of `WINDOW`, a new
//! start when it is used up); each survivor tested with as many
//! Miller-Rabin rounds to random bases as Table B.1 requires (5 for the
//! 1024-bit primes of RSA-2048, 4 for RSA-3072 and RSA-4096). Incremental
//! search is an accepted method (it is OpenSSL's own, and HAC 4.51's); it
//! favours primes after long gaps slightly, which costs no security at
//! these sizes.
//!
//! OpenSSL 3's own generator (`BN_generate_prime_ex`) runs 64 rounds on
//! every prime whatever its size, and has no way to ask for fewer: at 1024
//! bits those 59 extra rounds cost more than the whole search for the
//! prime. The Miller-Rabin arithmetic stays OpenSSL's (`BN_mod_exp`); the
//! sieve's remainders and a base-2 Fermat filter in front of the rounds
//! (`fermat_x8.rs`, eight candidates at once where the CPU has AVX-512
//! IFMA) are computed here, and tests check them against OpenSSL and
//! every prime found with OpenSSL's own 64-round test.

use std::sync::atomic::{AtomicBool, Ordering};

use openssl::bn::{BigNum, BigNumContext, BigNumRef};
use openssl::error::ErrorStack;

use super::fermat_x8;

/// The sieve removes multiples of every odd prime below this: a tenth of
/// the odd numbers survive to a Miller-Rabin test (at 2^13, an eighth),
/// and the remainders cost a twentieth of the search.
const SIEVE_BOUND: u32 = 1 << 16;

/// How many odd primes are below `SIEVE_BOUND`.
const PRIME_COUNT: usize = odd_prime_count(SIEVE_BOUND);

/// The odd primes below `SIEVE_BOUND`, computed at compile time.
static SIEVE_PRIMES: [u32; PRIME_COUNT] = odd_primes();

/// The sieve primes in runs whose product fits a 32-bit word: one
/// remainder per run gives the start's remainder by each of them.
/// Each run is (product, first index, end index) into `SIEVE_PRIMES`.
static GROUPS: [(u32, usize, usize); GROUP_COUNT] = groups(&odd_primes::<PRIME_COUNT>());

/// floor((2^64 - 1) / product) for each run of [`GROUPS`], for
/// [`remainders`].
static INVERSES: [u64; GROUP_COUNT] = inverses(&GROUPS);

const fn inverses<const N: usize>(groups: &[(u32, usize, usize); N]) -> [u64; N] {
    let mut out = [0; N];
    let mut g = 0;
    while g < N {
        out[g] = u64::MAX / groups[g].0 as u64;
        g += 1;
    }
    out
}

/// How many runs [`GROUPS`] has.
const GROUP_COUNT: usize = group_count(&odd_primes::<PRIME_COUNT>());

const fn group_count(primes: &[u32]) -> usize {
    let (mut count, mut i) = (0, 0);
    while i < primes.len() {
        let mut product = primes[i] as u64;
        i += 1;
        while i < primes.len() && product * (primes[i] as u64) <= u32::MAX as u64 {
            product *= primes[i] as u64;
            i += 1;
        }
        count += 1;
    }
    count
}

const fn groups<const N: usize>(primes: &[u32]) -> [(u32, usize, usize); N] {
    let mut out = [(0, 0, 0); N];
    let (mut g, mut i) = (0, 0);
    while g < N {
        let first = i;
        let mut product = primes[i] as u64;
        i += 1;
        while i < primes.len() && product * (primes[i] as u64) <= u32::MAX as u64 {
            product *= primes[i] as u64;
            i += 1;
        }
        // Lossless: the loop keeps the product within 32 bits.
        out[g] = (product as u32, first, i);
        g += 1;
    }
    out
}

/// How many odd numbers after one random start are sieved and tested:
/// about eleven times the mean gap between two 1024-bit primes, so that a
/// second start is needed about once in 10^5 searches at that size.
const WINDOW: usize = 4096;

/// Whether an odd `k` above 1 is prime, by trial division (compile time).
const fn odd_is_prime(k: u32) -> bool {
    let mut d = 3;
    while d * d <= k {
        if k.is_multiple_of(d) {
            return false;
        }
        d += 2;
    }
    true
}

const fn odd_prime_count(bound: u32) -> usize {
    let (mut count, mut k) = (0, 3);
    while k < bound {
        if odd_is_prime(k) {
            count += 1;
        }
        k += 2;
    }
    count
}

const fn odd_primes<const N: usize>() -> [u32; N] {
    let mut primes = [0; N];
    let (mut i, mut k) = (0, 3);
    while i < N {
        if odd_is_prime(k) {
            primes[i] = k;
            i += 1;
        }
        k += 2;
    }
    primes
}

/// Miller-Rabin rounds for a random candidate of `bits` bits: FIPS 186-5
/// Table B.1 for RSA's primes (5 at 1024 bits, 4 at 1536 and 2048 bits),
/// and for the sizes it does not list, OpenSSL 1.1's table (FIPS 186-4
/// Appendix F.1), never fewer than 4.
fn rounds(bits: i32) -> u32 {
    match bits {
        1345.. => 4,
        476.. => 5,
        400.. => 6,
        347.. => 7,
        308.. => 8,
        55.. => 27,
        _ => 34,
    }
}

/// A random `bits`-bit probable prime (`bits` at least 16), or `None` once
/// `stop` is set, which is looked at before every candidate is tested.
pub(super) fn search(bits: i32, stop: &AtomicBool) -> Result<Option<BigNum>, ErrorStack> {
    search_from(bits, stop, &mut |buf| openssl::rand::rand_priv_bytes(buf))
}

/// [`search`] with the starts' bytes from `random` (a seeded stream makes
/// the prime reproducible; the Miller-Rabin bases stay OpenSSL's, which
/// changes no answer but with negligible probability).
pub(super) fn search_from(
    bits: i32,
    stop: &AtomicBool,
    random: &mut dyn FnMut(&mut [u8]) -> Result<(), ErrorStack>,
) -> Result<Option<BigNum>, ErrorStack> {
    search_in(bits, stop, random, fermat_x8::supports(bits))
}

/// [`search_from`], with or without the Fermat filter.
fn search_in(
    bits: i32,
    stop: &AtomicBool,
    random: &mut dyn FnMut(&mut [u8]) -> Result<(), ErrorStack>,
    filter: bool,
) -> Result<Option<BigNum>, ErrorStack> {
    let mut ctx = BigNumContext::new()?;
    let rounds = rounds(bits);
    // Eight candidates at a time through the Fermat filter where the CPU
    // has it, else one at a time straight to Miller-Rabin; either way the
    // first candidate in the window's order that passes Miller-Rabin wins.
    let batch_size = if filter { fermat_x8::LANES } else { 1 };
    loop {
        let start = random_start(bits, random)?;
        let composite = sieve(&start)?;
        let mut offsets = composite
            .iter()
            .enumerate()
            .filter(|(_, c)| !**c)
            .map(|(offset, _)| offset);
        loop {
            if stop.load(Ordering::Relaxed) {
                return Ok(None);
            }
            let batch = next_batch(&start, &mut offsets, bits, batch_size)?;
            if batch.is_empty() {
                break;
            }
            let passed = if filter {
                fermat_x8::fermat_base_2(&batch, bits)?
            } else {
                [true; fermat_x8::LANES]
            };
            for (candidate, passed) in batch.into_iter().zip(passed) {
                if passed && miller_rabin(&candidate, rounds, &mut ctx)? {
                    return Ok(Some(candidate));
                }
            }
        }
    }
}

/// The next `size` candidates `start + 2 * offset` of the window, fewer
/// (or none) where the window ends or a candidate outgrows `bits`.
fn next_batch(
    start: &BigNumRef,
    offsets: &mut impl Iterator<Item = usize>,
    bits: i32,
    size: usize,
) -> Result<Vec<BigNum>, ErrorStack> {
    let mut batch = Vec::with_capacity(size);
    for offset in offsets.by_ref() {
        let mut candidate = start.to_owned()?;
        // Lossless: offset < WINDOW = 4096.
        candidate.add_word(2 * offset as u32)?;
        if candidate.num_bits() != bits {
            // The rest of the window is larger still: it is done.
            for _ in offsets.by_ref() {}
            break;
        }
        batch.push(candidate);
        if batch.len() == size {
            break;
        }
    }
    Ok(batch)
}

/// A random odd `bits`-bit number with its top two bits set (so that the
/// product of two has exactly twice the bits), from `random`.
fn random_start(
    bits: i32,
    random: &mut dyn FnMut(&mut [u8]) -> Result<(), ErrorStack>,
) -> Result<BigNum, ErrorStack> {
    // Lossless: bits is positive and at most the 8192 of an RSA-16384 prime.
    let bits_u = bits.unsigned_abs() as usize;
    let mut bytes = vec![0u8; bits_u.div_ceil(8)];
    random(&mut bytes)?;
    // Only the low `bits` bits: the excess of the first (top) byte cleared.
    bytes[0] &= 0xff >> (8 * bytes.len() - bits_u);
    let mut start = BigNum::from_slice(&bytes)?;
    start.set_bit(bits - 1)?;
    start.set_bit(bits - 2)?;
    start.set_bit(0)?;
    Ok(start)
}

/// For each odd number `start + 2k` (k below `WINDOW`), whether a sieve
/// prime divides it.
fn sieve(start: &BigNumRef) -> Result<Vec<bool>, ErrorStack> {
    let words = words(start);
    let mut composite = vec![false; WINDOW];
    // Four runs at a time: their remainders' steps interleave.
    for (runs, inverses) in GROUPS.chunks(4).zip(INVERSES.chunks(4)) {
        let mut d = [1u64; 4];
        let mut inv = [u64::MAX; 4];
        for (i, (&(product, _, _), &inverse)) in runs.iter().zip(inverses).enumerate() {
            (d[i], inv[i]) = (u64::from(product), inverse);
        }
        let by_product = remainders(&words, d, inv);
        for (&(_, first, end), by_product) in runs.iter().zip(by_product) {
            // Lossless: the remainder is below the run's 32-bit product.
            let by_product = by_product as u32;
            for &p in &SIEVE_PRIMES[first..end] {
                // Lossless: the remainder is below p < 2^16.
                let r = (by_product % p) as usize;
                mark(&mut composite, r, p as usize);
            }
        }
    }
    Ok(composite)
}

/// `n` in 32-bit words, most significant first.
fn words(n: &BigNumRef) -> Vec<u32> {
    let bytes = n.to_vec();
    let mut padded = vec![0u8; (4 - bytes.len() % 4) % 4];
    padded.extend_from_slice(&bytes);
    padded
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// `words` (32-bit, most significant first) modulo each `d` (below
/// 2^32), `inverse` being floor((2^64 - 1) / d): Horner's rule with
/// Barrett's reduction, a multiplication where a division would cost ten
/// times it, four divisors side by side.
fn remainders(words: &[u32], d: [u64; 4], inverse: [u64; 4]) -> [u64; 4] {
    let mut r = [0u64; 4];
    for &word in words {
        for i in 0..4 {
            // x < d * 2^32 <= 2^64, so x * inverse / 2^64 > x / d - 1 - 2^-32.
            let x = (r[i] << 32) | u64::from(word);
            // Lossless: the high half of a 128-bit product fits 64 bits.
            let q = ((u128::from(x) * u128::from(inverse[i])) >> 64) as u64;
            r[i] = x - q * d[i];
            // The estimate is at most two below: r is below 3d.
            while r[i] >= d[i] {
                r[i] -= d[i];
            }
        }
    }
    r
}

/// Marks the k below `WINDOW` for which `start + 2k` is a multiple of the
/// odd prime `p`, `r` being start's remainder by `p`.
fn mark(composite: &mut [bool], r: usize, p: usize) {
    // start + 2k = 0 (mod p) exactly when k = -r / 2 (mod p), and the
    // inverse of 2 mod an odd p is (p + 1) / 2.
    let mut k = (p - r) % p * p.div_ceil(2) % p;
    while k < WINDOW {
        composite[k] = true;
        k += p;
    }
}

/// FIPS 186-5 B.3.1: whether the odd `w` (above 3) passes `rounds`
/// Miller-Rabin rounds with random bases in [2, w-2].
fn miller_rabin(w: &BigNumRef, rounds: u32, ctx: &mut BigNumContext) -> Result<bool, ErrorStack> {
    let one = BigNum::from_u32(1)?;
    let mut w1 = w.to_owned()?;
    w1.sub_word(1)?;
    // w - 1 = 2^a * m with m odd; w - 1 is even and not zero.
    let mut a = 1;
    while !w1.is_bit_set(a) {
        a += 1;
    }
    let mut m = BigNum::new()?;
    m.rshift(&w1, a)?;
    let mut span = w.to_owned()?;
    span.sub_word(3)?;
    let (mut b, mut z, mut square) = (BigNum::new()?, BigNum::new()?, BigNum::new()?);
    'round: for _ in 0..rounds {
        span.rand_range(&mut b)?;
        b.add_word(2)?;
        z.mod_exp(&b, &m, w, ctx)?;
        if z == one || z == w1 {
            continue;
        }
        for _ in 1..a {
            square.mod_sqr(&z, w, ctx)?;
            std::mem::swap(&mut z, &mut square);
            if z == w1 {
                continue 'round;
            }
            if z == one {
                return Ok(false);
            }
        }
        return Ok(false);
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sieve_primes_are_the_odd_primes_below_its_bound() {
        // 6542 primes below 65536, 2 among them.
        assert_eq!(SIEVE_PRIMES.len(), 6541);
        assert_eq!(SIEVE_PRIMES[..5], [3, 5, 7, 11, 13]);
        assert_eq!(SIEVE_PRIMES[SIEVE_PRIMES.len() - 1], 65521);
        // The runs cover every prime once, each product exact.
        let mut next = 0;
        for (product, first, end) in GROUPS {
            assert_eq!(first, next);
            let exact: u64 = SIEVE_PRIMES[first..end]
                .iter()
                .map(|&p| u64::from(p))
                .product();
            assert_eq!(exact, u64::from(product));
            next = end;
        }
        assert_eq!(next, SIEVE_PRIMES.len());
        let mut ctx = BigNumContext::new().unwrap();
        for p in SIEVE_PRIMES {
            assert!(BigNum::from_u32(p).unwrap().is_prime(64, &mut ctx).unwrap());
        }
    }

    #[test]
    fn rounds_are_fips_186_5s_for_rsa_primes() {
        assert_eq!(rounds(1024), 5);
        assert_eq!(rounds(1536), 4);
        assert_eq!(rounds(2048), 4);
        assert_eq!(rounds(8192), 4);
        assert!(rounds(512) >= 5);
    }

    #[test]
    fn the_sieve_marks_exactly_the_multiples_of_small_primes() {
        let start = random_start(256, &mut |b| openssl::rand::rand_priv_bytes(b)).unwrap();
        let composite = sieve(&start).unwrap();
        for (k, marked) in composite.iter().enumerate().take(600) {
            let mut n = start.to_owned().unwrap();
            n.add_word(2 * k as u32).unwrap();
            let divisible = SIEVE_PRIMES.iter().any(|&p| n.mod_word(p).unwrap() == 0);
            assert_eq!(*marked, divisible, "offset {k}");
        }
    }

    #[test]
    fn remainders_agree_with_openssl() {
        for bits in [64, 1024, 1536] {
            let start = random_start(bits, &mut |b| openssl::rand::rand_priv_bytes(b)).unwrap();
            let words = words(&start);
            for (&(product, _, _), &inverse) in GROUPS.iter().zip(INVERSES.iter()) {
                let want = start.mod_word(product).unwrap();
                let got = remainders(&words, [u64::from(product); 4], [inverse; 4]);
                assert_eq!(got, [want; 4]);
            }
            // The largest divisors, where the estimate is furthest off.
            let d = [u32::MAX - 4, u32::MAX, 3, 65521].map(u64::from);
            let got = remainders(&words, d, d.map(|d| u64::MAX / d));
            // Lossless: the divisors are 32-bit.
            let want = d.map(|d| start.mod_word(d as u32).unwrap());
            assert_eq!(got, want);
        }
    }

    #[test]
    fn miller_rabin_agrees_with_openssl_on_odd_numbers() {
        // Primes and composites alike, among them Carmichael numbers and
        // strong pseudoprimes to base 2, which a single fixed base passes.
        let mut ctx = BigNumContext::new().unwrap();
        for n in [
            5u32,
            7,
            561,
            1105,
            1729,
            2047,
            3277,
            4033,
            8321,
            41041,
            825_265,
            3_215_031_751,
        ] {
            let w = BigNum::from_u32(n).unwrap();
            let want = w.is_prime(64, &mut ctx).unwrap();
            // 20 rounds: a composite passes with probability below 4^-20.
            assert_eq!(miller_rabin(&w, 20, &mut ctx).unwrap(), want, "{n}");
        }
        let mut composites = 0;
        for _ in 0..400 {
            let w = random_start(128, &mut |b| openssl::rand::rand_priv_bytes(b)).unwrap();
            let want = w.is_prime(64, &mut ctx).unwrap();
            assert_eq!(miller_rabin(&w, rounds(128), &mut ctx).unwrap(), want);
            composites += usize::from(!want);
        }
        assert!(composites > 300, "{composites}");
        let mut p = BigNum::new().unwrap();
        p.generate_prime(512, false, None, None).unwrap();
        assert!(miller_rabin(&p, rounds(512), &mut ctx).unwrap());
        let mut product = BigNum::new().unwrap();
        product.checked_mul(&p, &p, &mut ctx).unwrap();
        assert!(!miller_rabin(&product, rounds(1024), &mut ctx).unwrap());
    }

    #[test]
    fn searched_primes_have_the_size_and_pass_openssls_test() {
        let mut ctx = BigNumContext::new().unwrap();
        let go = AtomicBool::new(false);
        for bits in [256, 512, 1024] {
            let p = search(bits, &go).unwrap().unwrap();
            assert_eq!(p.num_bits(), bits);
            assert!(p.is_bit_set(bits - 2), "top two bits set");
            assert!(p.is_prime(64, &mut ctx).unwrap(), "{bits}");
        }
    }

    #[test]
    fn the_filter_changes_no_prime_found_from_a_seed() {
        use sha2::{Digest, Sha256};
        if !fermat_x8::cpu_has_ifma() {
            eprintln!("no AVX-512 IFMA here: nothing to compare");
            return;
        }
        let go = AtomicBool::new(false);
        for (seed, bits) in [(0u64, 1024), (1, 1024), (2, 1024), (3, 1536)] {
            let mut found = Vec::new();
            for filter in [false, true] {
                // A stream from the seed: SHA-256 of (seed, counter) blocks.
                let mut counter = 0u64;
                let mut random = |b: &mut [u8]| {
                    for chunk in b.chunks_mut(32) {
                        counter += 1;
                        let block = Sha256::new()
                            .chain_update(seed.to_be_bytes())
                            .chain_update(counter.to_be_bytes())
                            .finalize();
                        chunk.copy_from_slice(&block[..chunk.len()]);
                    }
                    Ok(())
                };
                found.push(search_in(bits, &go, &mut random, filter).unwrap().unwrap());
            }
            assert_eq!(found[0], found[1], "seed {seed}");
        }
    }

    #[test]
    fn a_stopped_search_returns_nothing_and_leaves_no_error() {
        let stop = AtomicBool::new(true);
        assert!(search(2048, &stop).unwrap().is_none());
        assert!(ErrorStack::get().errors().is_empty());
    }
}
