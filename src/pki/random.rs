//! Random identifiers and secrets (API keys, client ids, names), from
//! OpenSSL's DRBG.

use openssl::error::ErrorStack;

use crate::model::hex;

/// `bytes` random bytes as lowercase hex (ids, secrets).
pub fn random_hex(bytes: usize) -> Result<String, ErrorStack> {
    let mut buf = vec![0u8; bytes];
    openssl::rand::rand_bytes(&mut buf)?;
    Ok(hex(&buf))
}

/// `n` random lowercase ASCII letters, uniformly drawn.
pub fn random_letters(n: usize) -> Result<String, ErrorStack> {
    let mut out = String::with_capacity(n);
    while out.len() < n {
        let mut b = [0u8; 1];
        openssl::rand::rand_bytes(&mut b)?;
        // 234 = 9 * 26: rejecting the rest keeps every letter equally likely.
        if b[0] < 234 {
            out.push(char::from(b'a' + b[0] % 26));
        }
    }
    Ok(out)
}
