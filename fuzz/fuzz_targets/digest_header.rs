//! The Digest `Authorization` header: any header is refused or accepted,
//! never a panic, and nothing but a correct response is accepted.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use atlas_ca::Registry;
use atlas_ca::__private::DigestAuth;
use libfuzzer_sys::fuzz_target;

fn fixture() -> &'static (DigestAuth, Registry) {
    static F: OnceLock<(DigestAuth, Registry)> = OnceLock::new();
    F.get_or_init(|| {
        let registry = Registry::parse(
            "[[apiKeys]]\npublicKey = \"pub\"\nprivateKey = \"secret\"\n",
            std::path::Path::new("fuzz.toml"),
        )
        .expect("fixture registry");
        (DigestAuth::new(Duration::from_secs(300)).expect("nonce secret"), registry)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else { return };
    let (auth, registry) = fixture();
    // Without a nonce this server issued, nothing can be accepted.
    assert!(auth.verify(Some(header), "GET", "/x", registry).is_err());
});
