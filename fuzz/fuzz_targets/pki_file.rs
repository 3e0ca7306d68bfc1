//! The `pki apply` file checker: any bytes give a plan or an error that
//! names its line and column, never a panic.
#![no_main]

use atlas_ca::{Error, Invalid};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match atlas_ca::pki_check(std::path::Path::new("fuzz.toml"), text) {
        Ok(_) => {}
        Err(Error::Invalid(Invalid::Spec { line, column, .. })) => assert!(line >= 1 && column >= 1),
        // Drawing a random serial can fail only without an entropy source.
        Err(Error::Crypto(_)) => {}
        Err(e) => unreachable!("a PKI file gives only positioned errors: {e}"),
    }
});
