//! A base-2 Fermat test on eight prime candidates at once, with AVX-512
//! IFMA (52-bit multiply-add on eight 64-bit lanes): a filter in front of
//! `probable_prime.rs`'s Miller-Rabin rounds, which stay OpenSSL's and
//! decide. Nearly every candidate the sieve leaves is composite and fails
//! here for a third of what one OpenSSL modular exponentiation costs
//! (OpenSSL 3.0 multiplies one number at a time; its IFMA code is reached
//! only from RSA's private operation). A prime always passes, and a
//! composite that passes meets the Miller-Rabin rounds, so the primes
//! found, seeded ones included, are the same as without the filter.
//!
//! Arithmetic: each lane holds one candidate w in limbs of 52 bits; values
//! are kept in Montgomery form below 4w with R = 2^(52 N) > 16 w, so that
//! no multiplication needs a final subtraction. 2^(w-1) mod w is computed
//! left to right: a squaring per bit, a doubling where the bit is set.

use openssl::bn::{BigNum, BigNumContext, BigNumRef};
use openssl::error::ErrorStack;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m512i, _mm512_add_epi64, _mm512_and_si512, _mm512_cmpeq_epi64_mask, _mm512_madd52hi_epu64,
    _mm512_madd52lo_epu64, _mm512_mask_blend_epi64, _mm512_set1_epi64, _mm512_setzero_si512,
    _mm512_slli_epi64, _mm512_srli_epi64,
};

/// Candidates tested at once (the lanes of a 512-bit register).
pub(super) const LANES: usize = 8;

/// Bits per limb.
const LIMB_BITS: u32 = 52;
const MASK: u64 = (1 << LIMB_BITS) - 1;

/// Whether the filter runs for candidates of `bits` bits: the sizes of
/// RSA-2048, -3072 and -4096's primes, on x86-64 with AVX-512F and IFMA,
/// in an optimised build (unoptimised, the intrinsics cost more than
/// OpenSSL's assembly saves; the tests' builds test it directly).
pub(super) fn supports(bits: i32) -> bool {
    !cfg!(debug_assertions) && limbs_for(bits).is_some() && cpu_has_ifma()
}

/// The limb count for `bits`: R = 2^(52 N) must exceed 16 w.
fn limbs_for(bits: i32) -> Option<usize> {
    match bits {
        1024 => Some(20),
        1536 => Some(30),
        2048 => Some(40),
        _ => None,
    }
}

#[cfg(target_arch = "x86_64")]
pub(super) fn cpu_has_ifma() -> bool {
    std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512ifma")
}

#[cfg(not(target_arch = "x86_64"))]
pub(super) fn cpu_has_ifma() -> bool {
    false
}

/// One candidate prepared for a lane: its limbs, -w^-1 mod 2^52 and
/// R mod w (1 in Montgomery form).
struct Lane {
    w: Vec<u64>,
    k: u64,
    one: Vec<u64>,
}

/// The 52-bit limbs of `n` (least significant first), `count` of them.
fn limbs(n: &BigNumRef, count: usize) -> Vec<u64> {
    let bytes = n.to_vec();
    let mut out = vec![0u64; count];
    for (i, byte) in bytes.iter().rev().enumerate() {
        let bit = i * 8;
        let (limb, shift) = (bit / 52, bit % 52);
        if limb < count {
            out[limb] |= (u64::from(*byte) << shift) & MASK;
        }
        if shift > 44 && limb + 1 < count {
            out[limb + 1] |= u64::from(*byte) >> (52 - shift);
        }
    }
    out
}

fn lane(w: &BigNumRef, count: usize, ctx: &mut BigNumContext) -> Result<Lane, ErrorStack> {
    let limbs_w = limbs(w, count);
    // w0^-1 mod 2^64 by Newton's iteration (each step doubles the bits
    // that are right; w0 odd is right to 3 bits).
    let w0 = limbs_w[0];
    let mut inv = w0;
    for _ in 0..5 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(w0.wrapping_mul(inv)));
    }
    let mut r = BigNum::new()?;
    // Lossless: count is at most 40.
    r.set_bit((count as u32 * LIMB_BITS) as i32)?;
    let mut one = BigNum::new()?;
    one.nnmod(&r, w, ctx)?;
    Ok(Lane {
        w: limbs_w,
        k: inv.wrapping_neg() & MASK,
        one: limbs(&one, count),
    })
}

/// For each of up to eight odd `candidates` of at most `bits` bits,
/// whether 2^(w-1) = 1 mod w; every lane passes (Miller-Rabin decides)
/// where the size or the CPU has no filter.
pub(super) fn fermat_base_2(candidates: &[BigNum], bits: i32) -> Result<[bool; LANES], ErrorStack> {
    let Some(count) = limbs_for(bits).filter(|_| cpu_has_ifma()) else {
        return Ok([true; LANES]);
    };
    let mut ctx = BigNumContext::new()?;
    let mut lanes = Vec::with_capacity(LANES);
    for c in candidates.iter().take(LANES) {
        lanes.push(lane(c, count, &mut ctx)?);
    }
    // Unused lanes repeat the first candidate; their answers are dropped.
    let Some(first) = candidates.first() else {
        return Ok([false; LANES]);
    };
    while lanes.len() < LANES {
        lanes.push(lane(first, count, &mut ctx)?);
    }
    let passed = run(&lanes, bits, count);
    let mut out = [false; LANES];
    for (i, slot) in out.iter_mut().enumerate().take(candidates.len()) {
        *slot = passed & (1 << i) != 0;
    }
    Ok(out)
}

/// The lanes' exponent bits, from the top: bit `i` of entry `b` is lane
/// `i`'s bit `bits - 1 - b` of w - 1.
fn exponent_masks(lanes: &[Lane], bits: i32) -> Vec<u8> {
    // Lossless: bits is one of limbs_for's sizes.
    let bits = bits as usize;
    (0..bits)
        .rev()
        .map(|bit| {
            let mut mask = 0u8;
            for (i, l) in lanes.iter().enumerate() {
                // w - 1 differs from the odd w only in bit 0.
                let set = bit != 0 && (l.w[bit / 52] >> (bit % 52)) & 1 == 1;
                mask |= u8::from(set) << i;
            }
            mask
        })
        .collect()
}

#[cfg(target_arch = "x86_64")]
fn run(lanes: &[Lane], bits: i32, count: usize) -> u8 {
    let masks = exponent_masks(lanes, bits);
    // SAFETY: `fermat_base_2`, the only caller, found AVX-512F and IFMA.
    unsafe {
        match count {
            20 => pow2::<20, 40>(lanes, &masks),
            30 => pow2::<30, 60>(lanes, &masks),
            40 => pow2::<40, 80>(lanes, &masks),
            // No other count comes from `limbs_for`: every lane passes.
            _ => u8::MAX,
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn run(_: &[Lane], _: i32, _: usize) -> u8 {
    // Never reached: `cpu_has_ifma` is false off x86-64; every lane
    // passes on to Miller-Rabin, which decides.
    u8::MAX
}

/// Lane `i` of each limb vector is limb `j` of candidate `i`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512ifma")]
fn gather<const N: usize>(lanes: &[Lane], pick: impl Fn(&Lane) -> &[u64]) -> [__m512i; N] {
    let mut out = [_mm512_setzero_si512(); N];
    for (j, v) in out.iter_mut().enumerate() {
        let mut words = [0i64; LANES];
        for (i, l) in lanes.iter().enumerate() {
            // Lossless: limbs are below 2^52.
            words[i] = pick(l)[j] as i64;
        }
        // SAFETY: an [i64; 8] is 64 bytes, read unaligned.
        *v = unsafe { std::mem::transmute::<[i64; LANES], __m512i>(words) };
    }
    out
}

/// Carries propagated so that every limb is below 2^52; `t` holds a
/// value below R.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn normalize<const N: usize>(t: &mut [__m512i; N]) {
    let mask = _mm512_set1_epi64(MASK as i64);
    let mut carry = _mm512_setzero_si512();
    for limb in t.iter_mut() {
        let v = _mm512_add_epi64(*limb, carry);
        *limb = _mm512_and_si512(v, mask);
        carry = _mm512_srli_epi64::<52>(v);
    }
}

/// `out` = a * b / R mod w per lane (below 2w for a, b below 4w),
/// operand scanning with the reduction interleaved; `M` is 2N, the
/// product's limbs (row i adds into limbs i.., so nothing moves).
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn mont_mul<const N: usize, const M: usize>(
    a: &[__m512i; N],
    b: &[__m512i; N],
    w: &[__m512i; N],
    k: __m512i,
    out: &mut [__m512i; N],
) {
    let zero = _mm512_setzero_si512();
    let mut t = [zero; M];
    for (i, &ai) in a.iter().enumerate() {
        for j in 0..N {
            t[i + j] = _mm512_madd52lo_epu64(t[i + j], ai, b[j]);
            t[i + j + 1] = _mm512_madd52hi_epu64(t[i + j + 1], ai, b[j]);
        }
        let u = _mm512_madd52lo_epu64(zero, t[i], k);
        for j in 0..N {
            t[i + j] = _mm512_madd52lo_epu64(t[i + j], u, w[j]);
            t[i + j + 1] = _mm512_madd52hi_epu64(t[i + j + 1], u, w[j]);
        }
        // t[i] is now a multiple of 2^52: only its carry goes on.
        t[i + 1] = _mm512_add_epi64(t[i + 1], _mm512_srli_epi64::<52>(t[i]));
    }
    out.copy_from_slice(&t[N..]);
    normalize(out);
}

/// For each lane, whether 2^(w-1) = 1 mod w; bit i for lane i.
/// `masks` holds w-1's bits from the top, a lane per bit.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512ifma")]
fn pow2<const N: usize, const M: usize>(lanes: &[Lane], masks: &[u8]) -> u8 {
    let w = gather::<N>(lanes, |l| &l.w);
    let mut x = gather::<N>(lanes, |l| &l.one);
    let mut ks = [0i64; LANES];
    for (i, l) in lanes.iter().enumerate() {
        // Lossless: k is below 2^52.
        ks[i] = l.k as i64;
    }
    // SAFETY: an [i64; 8] is 64 bytes.
    let k = unsafe { std::mem::transmute::<[i64; LANES], __m512i>(ks) };
    let mut square = x;
    let mask52 = _mm512_set1_epi64(MASK as i64);
    for &mask in masks {
        mont_mul::<N, M>(&x, &x, &w, k, &mut square);
        // x = square, doubled in the lanes whose bit is set: 2x is
        // below 4w, the bound the next squaring takes.
        let mut carry = _mm512_setzero_si512();
        for (limb, s) in x.iter_mut().zip(square.iter()) {
            let twice = _mm512_add_epi64(_mm512_slli_epi64::<1>(*s), carry);
            carry = _mm512_srli_epi64::<52>(twice);
            *limb = _mm512_mask_blend_epi64(mask, *s, _mm512_and_si512(twice, mask52));
        }
    }
    let mut one = [_mm512_setzero_si512(); N];
    one[0] = _mm512_set1_epi64(1);
    let mut y = x;
    mont_mul::<N, M>(&x, &one, &w, k, &mut y);
    let mut equal = _mm512_cmpeq_epi64_mask(y[0], one[0]);
    for limb in y.iter().skip(1) {
        equal &= _mm512_cmpeq_epi64_mask(*limb, _mm512_setzero_si512());
    }
    equal
}

#[cfg(test)]
mod tests {
    use super::*;

    /// OpenSSL's answer: whether 2^(w-1) = 1 mod w.
    fn openssl_says(w: &BigNumRef, ctx: &mut BigNumContext) -> bool {
        let mut e = w.to_owned().unwrap();
        e.sub_word(1).unwrap();
        let mut r = BigNum::new().unwrap();
        r.mod_exp(&BigNum::from_u32(2).unwrap(), &e, w, ctx)
            .unwrap();
        r == BigNum::from_u32(1).unwrap()
    }

    /// (4^p - 1) / 3 for a prime p > 3: composite, yet it passes a base-2
    /// Fermat test (Cipolla's pseudoprimes).
    fn cipolla(p: i32) -> BigNum {
        let mut n = BigNum::new().unwrap();
        n.set_bit(2 * p).unwrap();
        n.sub_word(1).unwrap();
        let mut q = BigNum::new().unwrap();
        let mut ctx = BigNumContext::new().unwrap();
        q.checked_div(&n, &BigNum::from_u32(3).unwrap(), &mut ctx)
            .unwrap();
        q
    }

    #[test]
    fn agrees_with_openssl_on_primes_composites_and_pseudoprimes() {
        if !cpu_has_ifma() {
            eprintln!("no AVX-512 IFMA here: the filter is not used");
            return;
        }
        let mut ctx = BigNumContext::new().unwrap();
        for (bits, pseudo) in [(1024, 509), (1536, 761), (2048, 1021)] {
            assert!(limbs_for(bits).is_some());
            let mut prime = BigNum::new().unwrap();
            prime.generate_prime(bits, false, None, None).unwrap();
            let pseudoprime = cipolla(pseudo);
            assert!(!pseudoprime.is_prime(20, &mut ctx).unwrap());
            for round in 0..6 {
                let mut batch = Vec::new();
                for _ in 0..LANES {
                    let mut w = BigNum::new().unwrap();
                    w.rand(bits, openssl::bn::MsbOption::TWO_ONES, true)
                        .unwrap();
                    batch.push(w);
                }
                batch[round % LANES] = prime.to_owned().unwrap();
                batch[(round + 3) % LANES] = pseudoprime.to_owned().unwrap();
                // A short batch too: the unused lanes answer nothing.
                batch.truncate(LANES - round);
                let got = fermat_base_2(&batch, bits).unwrap();
                for (i, w) in batch.iter().enumerate() {
                    assert_eq!(got[i], openssl_says(w, &mut ctx), "{bits} bits, lane {i}");
                }
                assert!(got[batch.len()..].iter().all(|passed| !passed));
            }
        }
    }

    #[test]
    fn limbs_hold_the_number() {
        let mut n = BigNum::new().unwrap();
        n.rand(1024, openssl::bn::MsbOption::MAYBE_ZERO, false)
            .unwrap();
        let limbs = limbs(&n, 20);
        let mut back = BigNum::new().unwrap();
        for limb in limbs.iter().rev() {
            let mut shifted = BigNum::new().unwrap();
            shifted.lshift(&back, 52).unwrap();
            back = &shifted + &BigNum::from_slice(&limb.to_be_bytes()).unwrap();
        }
        assert_eq!(back, n);
        assert!(limbs.iter().all(|l| *l <= MASK));
        assert!(limbs_for(512).is_none() && limbs_for(4096).is_none());
    }
}
