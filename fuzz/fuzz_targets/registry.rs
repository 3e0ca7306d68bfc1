//! The registry parser: any bytes give a registry or a positioned error.
#![no_main]

use atlas_ca::{Registry, RegistryError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match Registry::parse(text, std::path::Path::new("fuzz.toml")) {
        Ok(_) => {}
        Err(RegistryError::Invalid { line, column, .. }) => assert!(line >= 1 && column >= 1),
        Err(RegistryError::Read { .. }) => unreachable!("parse reads no file"),
        Err(e) => unreachable!("parse gives only positioned errors: {e}"),
    }
});
