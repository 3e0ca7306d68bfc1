//! The two primes of an RSA modulus, searched by two workers at once
//! (`probable_prime.rs`). Each worker keeps searching until two primes are
//! in, and the second one stops the search still running: a worker that
//! finds its prime early helps with the other one instead of waiting for
//! the slower search to end.
//!
//! OpenSSL's whole RSA generator (`RSA_generate_key_ex`, for CA keys) is
//! raced the same way: one run per worker, the first key ends the others,
//! through the generator's progress callback. The Rust bindings do not
//! expose that callback, so it is declared here: the four functions of
//! `BN_GENCB` and the generator that takes one (the crate's other foreign
//! calls are the few OCSP functions `ocsp.rs` declares, and `libc`'s).

use std::ffi::{c_int, c_void};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use foreign_types::ForeignType;
use openssl::bn::BigNum;
use openssl::error::ErrorStack;
use openssl::pkey::Private;
use openssl::rsa::Rsa;
use openssl_sys::{BIGNUM, BN_GENCB, RSA};

use super::probable_prime::search;

// OpenSSL's BN_GENCB API (bn.h, since 1.1.0), from the libcrypto that
// openssl-sys links.
unsafe extern "C" {
    fn BN_GENCB_new() -> *mut BN_GENCB;
    fn BN_GENCB_free(cb: *mut BN_GENCB);
    fn BN_GENCB_set(
        cb: *mut BN_GENCB,
        callback: extern "C" fn(c_int, c_int, *mut BN_GENCB) -> c_int,
        arg: *mut c_void,
    );
    fn BN_GENCB_get_arg(cb: *mut BN_GENCB) -> *mut c_void;
    fn RSA_generate_key_ex(rsa: *mut RSA, bits: c_int, e: *mut BIGNUM, cb: *mut BN_GENCB) -> c_int;
}

/// Runs `generate` with a callback that stops it once `stop` is set;
/// returns what `generate` returned (1 on success).
fn with_callback(
    stop: &AtomicBool,
    generate: impl FnOnce(*mut BN_GENCB) -> c_int,
) -> Result<c_int, ErrorStack> {
    // SAFETY: the callback object is created and freed here and used only
    // by `generate` in between; its argument, `stop`, outlives it.
    unsafe {
        let cb = BN_GENCB_new();
        if cb.is_null() {
            return Err(ErrorStack::get());
        }
        BN_GENCB_set(cb, keep_going, std::ptr::from_ref(stop).cast_mut().cast());
        let done = generate(cb);
        BN_GENCB_free(cb);
        Ok(done)
    }
}

/// An RSA key from OpenSSL's own generator (SP 800-56B, FIPS 186-4
/// auxiliary primes), run once on each of two workers of the current
/// rayon pool: the first key stops the other run. Its time is the shorter
/// of two runs, whose lengths vary several-fold from key to key.
pub(super) fn openssl_rsa(bits: c_int, e: u32) -> Result<Rsa<Private>, ErrorStack> {
    let stop = AtomicBool::new(false);
    let first = Mutex::new(None);
    let worker = || -> Result<(), ErrorStack> {
        // SAFETY: RSA_new returns a fresh, empty object or null; it is
        // owned by the wrapper at once, so freed on every path, and handed
        // out only once OpenSSL has filled it with a private key.
        let rsa = unsafe {
            let raw = openssl_sys::RSA_new();
            if raw.is_null() {
                return Err(ErrorStack::get());
            }
            Rsa::<Private>::from_ptr(raw)
        };
        let exponent = BigNum::from_u32(e)?;
        let done = with_callback(&stop, |cb| {
            // SAFETY: `rsa` and `exponent` are live objects owned here;
            // OpenSSL writes the key into `rsa` and only reads `exponent`.
            unsafe { RSA_generate_key_ex(rsa.as_ptr(), bits, exponent.as_ptr(), cb) }
        })?;
        if done == 1 {
            stop.store(true, Ordering::Relaxed);
            // A poisoned lock only interrupted a store of a plain value.
            let mut first = first.lock().unwrap_or_else(|p| p.into_inner());
            first.get_or_insert(rsa);
            return Ok(());
        }
        let errors = ErrorStack::get();
        if stop.load(Ordering::Relaxed) {
            Ok(())
        } else {
            Err(errors)
        }
    };
    let (a, b) = rayon::join(worker, worker);
    let key = first.into_inner().unwrap_or_else(|p| p.into_inner());
    match key {
        Some(key) => Ok(key),
        None => a.and(b).and_then(|()| Err(ErrorStack::get())),
    }
}

/// Called by OpenSSL at every step of a search: 1 to go on, 0 to stop.
extern "C" fn keep_going(_: c_int, _: c_int, cb: *mut BN_GENCB) -> c_int {
    // SAFETY: `cb` is the callback `with_callback` set up, whose argument
    // points at the `AtomicBool` that outlives the search.
    let stop = unsafe { &*BN_GENCB_get_arg(cb).cast::<AtomicBool>() };
    c_int::from(!stop.load(Ordering::Relaxed))
}

/// Two random `bits`-bit primes for which `accept` holds, searched by two
/// workers on the current rayon pool: each keeps searching until two have
/// been found between them, and the second stops whatever search is still
/// running. The pair comes no later than one prime per worker would, and
/// sooner when one worker is lucky twice; on a pool whose other threads are
/// busy (a batch), one worker finds both and the other starts none.
pub(super) fn two_primes(
    bits: c_int,
    accept: &(dyn Fn(&BigNum) -> Result<bool, ErrorStack> + Sync),
) -> Result<(BigNum, BigNum), ErrorStack> {
    let stop = AtomicBool::new(false);
    let found = Mutex::new(Vec::with_capacity(2));
    let worker = || -> Result<(), ErrorStack> {
        while let Some(prime) = search(bits, &stop)? {
            if accept(&prime)? {
                // A poisoned lock only interrupted a push onto a plain list.
                let mut found = found.lock().unwrap_or_else(|p| p.into_inner());
                found.push(prime);
                if found.len() >= 2 {
                    stop.store(true, Ordering::Relaxed);
                }
            }
        }
        Ok(())
    };
    let (a, b) = rayon::join(worker, worker);
    a?;
    b?;
    let mut found = found.into_inner().unwrap_or_else(|p| p.into_inner());
    // The workers stop only once two primes are in (or with an error).
    let q = found.pop().expect("two primes were found");
    let p = found.pop().expect("two primes were found");
    Ok((p, q))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_distinct_primes_of_the_size_asked_that_pass_the_condition() {
        let mut ctx = openssl::bn::BigNumContext::new().unwrap();
        for _ in 0..4 {
            let (a, b) = two_primes(512, &|p| Ok(p.mod_word(3)? == 2)).unwrap();
            assert_ne!(a, b);
            for p in [&a, &b] {
                assert_eq!(p.num_bits(), 512);
                assert!(p.is_prime(64, &mut ctx).unwrap());
                assert_eq!(p.mod_word(3).unwrap(), 2);
            }
        }
        // On a pool of one thread, one worker finds both.
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let (a, b) = one.install(|| two_primes(256, &|_| Ok(true))).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn openssl_keys_from_the_race_are_whole() {
        let key = openssl_rsa(1024, 65_537).unwrap();
        assert_eq!(key.size(), 128);
        assert!(key.check_key().unwrap());
        assert_eq!(key.e().to_dec_str().unwrap().to_string(), "65537");
    }
}
