//! Seeded PKI files: the same bytes on every run, machine, core count,
//! working directory and time zone; each table's files its own; ECDSA
//! signatures as an independent RFC 6979 implementation (Python's `ecdsa`)
//! makes them; Atlas's certificates, which must stay private, refused.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

/// Every key type, every key encryption that is reproducible, a chain, a
/// CRL and bundles.
const SEEDED: &str = r#"
[defaults]
seed = "reproducible fixtures"
now = "2026-06-01T00:00:00Z"
subject = "O=MongoDB,OU=Test"

[[cert]]
name = "root"
issuer = "self"
subject = "CN=Root"
ca = true
key = "ec-p384"

[[cert]]
name = "intermediate"
issuer = "root"
subject = "CN=Intermediate"
ca = true
key = "ec-p256"

[[cert]]
name = "server"
issuer = "intermediate"
subject = "CN=localhost"
san = ["DNS:localhost", "IP:127.0.0.1"]
key = "rsa-2048"
key_password = "secret"
key_encryption = "pkcs8-aes256"
append = ["intermediate"]

[[cert]]
name = "client"
issuer = "intermediate"
subject = "CN=client"
key = "ec-p256"
key_password = "secret"
key_encryption = "pkcs8-aes128"

[[cert]]
name = "legacy"
issuer = "root"
subject = "CN=legacy"
key = "rsa-3072"
key_password = "secret"
key_encryption = "pkcs1"
files = "split"

[[cert]]
name = "plain-rsa"
issuer = "root"
subject = "CN=plain"
key = "rsa-4096"
key_format = "pkcs1"

[[cert]]
name = "edwards"
issuer = "root"
subject = "CN=edwards"
key = "ed25519"
pkcs12 = { password = "secret", friendly_name = "edwards" }

[[cert]]
name = "p384"
issuer = "root"
subject = "CN=p384"
key = "ec-p384"
key_password = "secret"
key_encryption = "pkcs8-3des"

[[cert]]
name = "expired"
issuer = "intermediate"
subject = "CN=expired"
key = "ec-p256"
not_before = "-400d"
not_after = "-30d"

[[crl]]
name = "crl"
issuer = "intermediate"
revoked = ["expired"]
next_update = "+365d"

[[bundle]]
name = "chain"
certs = ["intermediate", "root"]

[[bundle]]
name = "client-bundle"
certs = ["client"]
key = "client"
"#;

fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `pki apply FILE --out OUT`, run by `cmd` (so a test can pin cores,
/// change the time zone or the working directory).
fn apply_with(home: &TestHome, mut cmd: Command, file: &Path, out: &Path) {
    let run = cmd
        .arg(env!("CARGO_BIN_EXE_atlas-ca"))
        .arg("--home")
        .arg(home.path())
        .args(["pki", "apply", s(file), "--out", s(out)])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("made from a seed"),
        "{}",
        stderr(&run)
    );
}

#[test]
fn a_seeded_file_makes_the_same_bytes_everywhere() {
    let home = TestHome::without_ca("");
    let file = write_file(home.path(), "seeded.toml", SEEDED);
    let first = home.path().join("first");
    apply_with(&home, Command::new("env"), &file, &first);
    // Again on one core, in another time zone, locale and directory.
    let elsewhere = home.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let second = home.path().join("second");
    let mut pinned = Command::new("taskset");
    pinned
        .args(["-c", "0", "env", "TZ=Pacific/Chatham", "LC_ALL=C"])
        .current_dir(&elsewhere);
    apply_with(&home, pinned, &file, &second);
    let diff = Command::new("diff")
        .args(["-r", s(&first), s(&second)])
        .output()
        .unwrap();
    assert!(
        diff.status.success(),
        "{}",
        String::from_utf8_lossy(&diff.stdout)
    );
    assert!(files_under(&first).len() >= 12, "{:?}", files_under(&first));

    // What was made is whole: the chain verifies, the keys open with the
    // file's password, the expired one is expired on the file's dates.
    openssl_ok(&[
        "verify",
        "-CAfile",
        s(&first.join("root.pem")),
        "-untrusted",
        s(&first.join("intermediate.pem")),
        "-attime",
        "1781000000",
        s(&first.join("client.pem")),
    ]);
    openssl_ok(&[
        "rsa",
        "-in",
        s(&first.join("legacy.key")),
        "-passin",
        "pass:secret",
        "-check",
        "-noout",
    ]);
    openssl_ok(&[
        "pkey",
        "-in",
        s(&first.join("server.pem")),
        "-passin",
        "pass:secret",
        "-noout",
    ]);
    assert_eq!(
        x509_field(&first.join("expired.pem"), "-enddate"),
        "notAfter=May  2 00:00:00 2026 GMT"
    );

    // A new `now` renews by construction: the same keys, new serials
    // (an issuer never signs two certificates with one serial) and dates.
    let later = home.path().join("later");
    let renewed = home.run(&[
        "pki",
        "apply",
        s(&file),
        "--out",
        s(&later),
        "--now",
        "2027-06-01T00:00:00Z",
    ]);
    assert!(renewed.status.success(), "{}", stderr(&renewed));
    for f in ["edwards.pem", "intermediate.pem", "client-bundle.pem"] {
        let key =
            |dir: &Path| openssl_ok(&["pkey", "-in", s(&dir.join(f)), "-passin", "pass:secret"]);
        assert_eq!(key(&first), key(&later), "{f}: the same key");
        assert_ne!(
            serial_of(&first.join(f)),
            serial_of(&later.join(f)),
            "{f}: a new serial"
        );
    }

    // A table added: every file of the others is as it was.
    let added = write_file(
        home.path(),
        "added.toml",
        &format!(
            "{SEEDED}\n[[cert]]\nname = \"added\"\nissuer = \"root\"\nsubject = \"CN=added\"\nkey = \"ec-p256\"\n"
        ),
    );
    let third = home.path().join("third");
    apply_with(&home, Command::new("env"), &added, &third);
    for f in files_under(&first) {
        assert_eq!(
            std::fs::read(first.join(&f)).unwrap(),
            std::fs::read(third.join(&f)).unwrap(),
            "{f} changed when another table was added"
        );
    }
    assert!(third.join("added.pem").exists());

    // check --against: nothing on the output, the file after one byte.
    let check = |dir: &Path| home.run(&["pki", "check", s(&file), "--against", s(dir)]);
    assert!(check(&first).status.success());
    let edwards = first.join("edwards.pem");
    let mut bytes = std::fs::read(&edwards).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&edwards, bytes).unwrap();
    let changed = check(&first);
    assert_eq!(changed.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&changed.stdout).trim(),
        "edwards.pem: not the same bytes"
    );
}

#[test]
fn ecdsa_signatures_are_what_an_independent_rfc_6979_makes() {
    let home = TestHome::without_ca("");
    let file = write_file(home.path(), "seeded.toml", SEEDED);
    let out = home.path().join("out");
    apply_with(&home, Command::new("env"), &file, &out);
    let python = python_with(&["ecdsa", "cryptography"]);
    // The issuer's key signs the certificate's tbsCertificate (and the
    // CRL's tbsCertList) with SHA-256; python-ecdsa's deterministic signing
    // is RFC 6979's.
    let script = r#"
import sys, hashlib
from ecdsa import SigningKey
from ecdsa.util import sigencode_der
from cryptography import x509
issuer_key = SigningKey.from_pem(open(sys.argv[1]).read())
signed = open(sys.argv[2], "rb").read()
if b"X509 CRL" in signed:
    obj = x509.load_pem_x509_crl(signed)
    tbs = obj.tbs_certlist_bytes
else:
    obj = x509.load_pem_x509_certificate(signed)
    tbs = obj.tbs_certificate_bytes
ours = issuer_key.sign_deterministic(tbs, hashfunc=hashlib.sha256, sigencode=sigencode_der)
print("same" if ours == obj.signature else "different")
"#;
    for (issuer, signed) in [
        ("root.pem", "intermediate.pem"),
        ("root.pem", "root.pem"),
        ("intermediate.pem", "client.pem"),
        ("intermediate.pem", "crl.pem"),
        ("root.pem", "edwards.pem"),
    ] {
        let out = script_ok(Command::new(&python).args([
            "-c",
            script,
            s(&out.join(issuer)),
            s(&out.join(signed)),
        ]));
        assert_eq!(out.trim(), "same", "{signed} signed by {issuer}");
    }
}

#[test]
fn seeded_files_refuse_atlas_tables_and_the_seed_may_come_from_the_command_line() {
    let home = TestHome::new(&registry(""));
    let before = snapshot(home.path());
    let atlas = format!(
        "\n[[cert]]\nname = \"atlas-alice\"\nissuer = \"atlas\"\nproject = \"{GID}\"\nusername = \"alice\"\n"
    );
    let unseeded_atlas =
        format!("{SEEDED}{atlas}").replace("seed = \"reproducible fixtures\"\n", "");
    // Seeded by the file, or by --seed over a file without one.
    for (text, extra) in [
        (format!("{SEEDED}{atlas}"), &[][..]),
        (unseeded_atlas, &["--seed", "x"][..]),
    ] {
        let file = write_file(
            &std::env::temp_dir(),
            &format!("seeded-{}.toml", unique()),
            &text,
        );
        let out = home.path().join("out");
        let mut args = vec!["pki", "apply", s(&file), "--out", s(&out)];
        args.extend(extra);
        let run = home.run(&args);
        assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
        assert!(
            stderr(&run).contains(
                "Atlas's certificates (issuer = \"atlas\") are recorded and stay private"
            ),
            "{}",
            stderr(&run)
        );
        assert!(!out.exists(), "nothing written");
        assert_eq!(before, snapshot(home.path()), "home and ledger unchanged");
        std::fs::remove_file(file).unwrap();
    }
    // The same file without a seed is made, with fresh keys.
    let unseeded = SEEDED.replace("seed = \"reproducible fixtures\"\n", "");
    let file = write_file(home.path(), "unseeded.toml", &unseeded);
    let (a, b) = (home.path().join("a"), home.path().join("b"));
    home.ok(&["pki", "apply", s(&file), "--out", s(&a)]);
    home.ok(&["pki", "apply", s(&file), "--out", s(&b)]);
    assert_ne!(
        std::fs::read(a.join("edwards.pem")).unwrap(),
        std::fs::read(b.join("edwards.pem")).unwrap()
    );
    // --seed on the command line seeds it; without a now, keys and serials
    // are fixed and the dates follow the clock.
    let (c, d) = (home.path().join("c"), home.path().join("d"));
    let nowless = unseeded.replace("now = \"2026-06-01T00:00:00Z\"\n", "");
    let file = write_file(home.path(), "nowless.toml", &nowless);
    home.ok(&["pki", "apply", s(&file), "--out", s(&c), "--seed", "x"]);
    home.ok(&["pki", "apply", s(&file), "--out", s(&d), "--seed", "x"]);
    for f in ["edwards.pem", "client.pem"] {
        let key =
            |dir: &Path| openssl_ok(&["pkey", "-in", s(&dir.join(f)), "-passin", "pass:secret"]);
        assert_eq!(key(&c), key(&d), "{f}");
        assert_eq!(serial_of(&c.join(f)), serial_of(&d.join(f)), "{f}");
    }
}
