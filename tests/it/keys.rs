//! The CA key: private, matching, optionally encrypted, and never outlived.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use crate::common::*;

fn key_path(home: &TestHome) -> PathBuf {
    home.path().join("projects").join(GID).join("ca.key.pem")
}

/// Runs a create that must fail with `needle` in its message, leaving no
/// new ledger row and no panic.
fn create_fails(home: &TestHome, extra: &[&str], needle: &str) {
    let before = home.ok(&["dbusers", "certs", "list", "alice", "--all"]);
    let out = home.create("alice", extra);
    let err = stderr(&out);
    assert!(!out.status.success(), "succeeded: {err}");
    assert_eq!(
        out.status.code(),
        Some(1),
        "a clean error exit, not a crash: {err}"
    );
    assert!(out.stdout.is_empty());
    assert!(
        err.starts_with("Error: ") && err.contains(needle),
        "{needle}: {err}"
    );
    assert_eq!(
        home.ok(&["dbusers", "certs", "list", "alice", "--all"]),
        before,
        "a row was written"
    );
}

#[test]
fn exposed_truncated_and_foreign_keys_are_refused() {
    let home = TestHome::new(&registry(""));
    home.ok(&["ca", "cert"]);
    let key = key_path(&home);
    let dir = key.parent().unwrap();
    assert_eq!(
        std::fs::metadata(dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    create_fails(
        &home,
        &[],
        &format!(
            "readable by group or others (mode 640); fix it with: chmod 600 {}",
            key.display()
        ),
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();

    let original = std::fs::read(&key).unwrap();
    std::fs::write(&key, &original[..original.len() / 2]).unwrap();
    create_fails(
        &home,
        &[],
        "not a PEM private key (truncated or foreign file?)",
    );
    std::fs::write(&key, b"not a key at all\n").unwrap();
    create_fails(&home, &[], "not a PEM private key");
    let foreign = openssl_ok(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
    ]);
    std::fs::write(&key, foreign).unwrap();
    create_fails(&home, &[], "does not match the certificate");
    std::fs::write(&key, &original).unwrap();

    let cert = home.ca_cert();
    let cert_pem = std::fs::read(&cert).unwrap();
    std::fs::write(&cert, &cert_pem[..100]).unwrap();
    create_fails(&home, &[], "is not a PEM certificate");
    std::fs::write(&cert, &cert_pem).unwrap();
    home.issue("alice", &[]);
}

#[test]
fn encrypted_ca_key() {
    let home = TestHome::without_ca(&registry(""));
    let out = home.run(&["ca", "init", "--encrypt"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--encrypt needs a passphrase"),
        "{}",
        stderr(&out)
    );
    assert!(!key_path(&home).exists());

    let out = home
        .cmd()
        .env("ATLAS_CA_PASSPHRASE", "correct horse")
        .args(["ca", "init", "--encrypt"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let key = key_path(&home);
    let pem = std::fs::read_to_string(&key).unwrap();
    assert!(
        pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
        "{pem}"
    );
    let parsed = openssl_ok(&["asn1parse", "-in", key.to_str().unwrap()]);
    assert!(parsed.contains("aes-256-cbc"), "{parsed}");
    let (ok, _) = openssl(&[
        "pkey",
        "-in",
        key.to_str().unwrap(),
        "-passin",
        "pass:wrong",
        "-noout",
    ]);
    assert!(!ok);
    openssl_ok(&[
        "pkey",
        "-in",
        key.to_str().unwrap(),
        "-passin",
        "pass:correct horse",
        "-noout",
    ]);

    create_fails(
        &home,
        &[],
        "is encrypted: set ATLAS_CA_PASSPHRASE or pass --passphrase-file",
    );
    let wrong = home.path().join("wrong.txt");
    std::fs::write(&wrong, "incorrect\n").unwrap();
    create_fails(
        &home,
        &["--passphrase-file", wrong.to_str().unwrap()],
        "wrong passphrase",
    );
    let right = home.path().join("right.txt");
    std::fs::write(&right, "correct horse\n").unwrap();
    home.issue("alice", &["--passphrase-file", right.to_str().unwrap()]);
    let out = home
        .cmd()
        .env("ATLAS_CA_PASSPHRASE", "correct horse")
        .args(["dbusers", "certs", "create", "--username", "bob"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // The passphrase is not an argument anyone can pass on the command line.
    let out = home.run(&["--passphrase", "x", "ca", "cert"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn certificates_never_outlive_their_ca_and_rotation_keeps_the_old_one() {
    let home = TestHome::new(&registry(""));
    let old = home.issue("alice", &[]);
    let ca_end = x509_field(&home.ca_cert(), "-enddate");
    let year: i32 = ca_end.split_whitespace().nth(3).unwrap().parse().unwrap();
    let late = format!("{}-06-01T00:00:00Z", year);
    let out = home.create(
        "alice",
        &["--issued-at", &late, "--monthsUntilExpiration", "24"],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("would end after its CA, which expires") && err.contains(&year.to_string()),
        "{err}"
    );

    let before = std::fs::read(home.ca_cert()).unwrap();
    home.ok(&["ca", "init", "--rotate"]);
    assert_ne!(std::fs::read(home.ca_cert()).unwrap(), before);
    let new = home.issue("alice", &[]);
    openssl_ok(&[
        "verify",
        "-CAfile",
        home.ca_cert().to_str().unwrap(),
        new.to_str().unwrap(),
    ]);
    let (ok, _) = openssl(&[
        "verify",
        "-CAfile",
        home.ca_cert().to_str().unwrap(),
        old.to_str().unwrap(),
    ]);
    assert!(!ok, "the new CA did not sign the old certificate");
    // The old CA is kept: verify still accepts what it issued; the list has both.
    let out = home.run(&["verify", old.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    assert!(text.contains("a retired CA of the project"), "{text}");
    let v: serde_json::Value =
        serde_json::from_str(&home.ok(&["dbusers", "certs", "list", "alice", "-o", "json"]))
            .unwrap();
    assert_eq!(v["totalCount"], 2);
}

#[test]
fn rsa_keys_pass_openssls_full_check() {
    // atlas-ca assembles RSA keys from two primes itself (src/pki/rsa.rs);
    // `openssl pkey -check` re-tests both primes and every derived value.
    let home = TestHome::new(&registry(""));
    let mut keys = vec![(home.issue("alice", &["--key-type", "rsa-4096"]), 4096)];
    for (key_type, bits) in [("rsa-2048", 2048), ("rsa-3072", 3072)] {
        keys.push((home.issue("alice", &["--key-type", key_type]), bits));
    }
    keys.push((key_path(&home), 4096));
    for (pem, bits) in keys {
        let pem = pem.to_str().unwrap();
        let check = openssl_ok(&["pkey", "-in", pem, "-check", "-noout"]);
        assert!(check.contains("Key is valid"), "{pem}: {check}");
        let text = openssl_ok(&["rsa", "-in", pem, "-noout", "-text"]);
        assert!(
            text.contains(&format!("Private-Key: ({bits} bit, 2 primes)")),
            "{pem}: {text}"
        );
        assert!(text.contains("publicExponent: 65537 (0x10001)"), "{text}");
    }
}
