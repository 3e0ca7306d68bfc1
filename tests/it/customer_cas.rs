//! Customer-managed X.509 held to its dates and names: CAs out of their
//! validity are refused when stored and fail `verify` when they lapse
//! later; a certificate names a CUSTOMER user only by its whole subject, as
//! mongod derives the user name; a failed switch leaves no CA file behind.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

/// Writes, with Python's `cryptography` (an independent issuer), a CA
/// valid `ca_days` around now (negative: ended that many days ago) and
/// leaves under it for each `subjects` entry (RFC 4514, as the user is
/// named); returns the CA's PEM file and one bundle (certificate, key) per
/// subject.
fn customer_pki(dir: &Path, ca_days: i64, subjects: &[&str]) -> (PathBuf, Vec<PathBuf>) {
    let python = python_with(&["cryptography"]);
    let script = r#"
import sys, datetime
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
out, days, subjects = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
now = datetime.datetime.now(datetime.timezone.utc)
start, end = (now - datetime.timedelta(days=400), now - datetime.timedelta(days=-days)) if days < 0 \
    else (now - datetime.timedelta(days=1), now + datetime.timedelta(days=days))
ca_key = ec.generate_private_key(ec.SECP256R1())
ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Customer CA")])
ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
      .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
      .not_valid_before(start).not_valid_after(end)
      .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
      .sign(ca_key, hashes.SHA256()))
open(f"{out}/ca.pem", "wb").write(ca.public_bytes(serialization.Encoding.PEM))
for i, subject in enumerate(subjects):
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(x509.Name.from_rfc4514_string(subject))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=500))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(ca_key, hashes.SHA256()))
    pem = leaf.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    open(f"{out}/leaf-{i}.pem", "wb").write(pem)
"#;
    std::fs::create_dir_all(dir).unwrap();
    let mut cmd = Command::new(&python);
    cmd.args(["-c", script, dir.to_str().unwrap(), &ca_days.to_string()]);
    cmd.args(subjects);
    script_ok(&mut cmd);
    let leaves = (0..subjects.len())
        .map(|i| dir.join(format!("leaf-{i}.pem")))
        .collect();
    (dir.join("ca.pem"), leaves)
}

fn customer_home() -> TestHome {
    let home = TestHome::new(&registry(""));
    home.ok(&[
        "dbusers",
        "create",
        "readAnyDatabase",
        "--username",
        "CN=carol,O=Acme",
        "--x509Type",
        "CUSTOMER",
    ]);
    home
}

fn cas_file(home: &TestHome) -> PathBuf {
    home.path()
        .join("projects")
        .join(GID)
        .join("customer-cas.pem")
}

#[test]
fn customer_cas_out_of_their_dates_are_refused_and_fail_verify() {
    let home = customer_home();
    let (expired, leaves) = customer_pki(&home.path().join("old"), -30, &["CN=carol,O=Acme"]);
    let out = home.run(&[
        "security",
        "customerCerts",
        "create",
        "--casFile",
        expired.to_str().unwrap(),
    ]);
    let err = stderr(&out);
    assert!(
        err.contains("INVALID_CUSTOMER_X509_CA") && err.contains("expired"),
        "{err}"
    );
    assert!(!cas_file(&home).exists(), "nothing stored");

    // A CA stored while valid that has lapsed since (written in place by
    // hand here): verify fails the chain, as `openssl verify` does.
    let (valid, _) = customer_pki(&home.path().join("new"), 30, &[]);
    home.ok(&[
        "security",
        "customerCerts",
        "create",
        "--casFile",
        valid.to_str().unwrap(),
    ]);
    std::fs::copy(&expired, cas_file(&home)).unwrap();
    let out = home.run(&["verify", leaves[0].to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &stderr(&out);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("FAIL") && text.contains("customer CA that signed it expired"),
        "{text}"
    );
    let (ok, openssl_says) = openssl(&[
        "verify",
        "-CAfile",
        expired.to_str().unwrap(),
        leaves[0].to_str().unwrap(),
    ]);
    assert!(!ok && openssl_says.contains("expired"), "{openssl_says}");
}

#[test]
fn a_customer_certificate_names_a_user_by_its_whole_subject() {
    let home = customer_home();
    let (ca, leaves) = customer_pki(
        &home.path().join("pki"),
        30,
        &["CN=carol,O=Acme", "CN=carol,O=Evil", "CN=carol"],
    );
    home.ok(&[
        "security",
        "customerCerts",
        "create",
        "--casFile",
        ca.to_str().unwrap(),
    ]);
    let verify = |leaf: &PathBuf| {
        let out = home.run(&["verify", leaf.to_str().unwrap()]);
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let (ok, text) = verify(&leaves[0]);
    assert!(ok, "{text}");
    assert!(text.contains("CN=carol,O=Acme in $external"), "{text}");
    for evil in &leaves[1..] {
        let (ok, text) = verify(evil);
        assert!(!ok, "{text}");
        assert!(text.contains("no CUSTOMER user named CN=carol"), "{text}");
    }
}

#[test]
fn a_failed_switch_leaves_no_customer_ca_file() {
    // A registry whose projects are an inline array: atlas-ca reads it but
    // will not rewrite it, so turning customer X.509 on fails at the switch.
    let text =
        format!("projects = [{{ id = \"{GID}\", name = \"inline\", databaseUsers = [] }}]\n");
    let home = TestHome::new(&text);
    let pki = tempfile::tempdir().unwrap();
    let (ca, _) = customer_pki(pki.path(), 30, &[]);
    let before = snapshot(home.path()).files;
    let out = home.run(&[
        "security",
        "customerCerts",
        "create",
        "--casFile",
        ca.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("edit it by hand"), "{}", stderr(&out));
    assert!(!cas_file(&home).exists(), "the CA file was left behind");
    // The registry's lock file is made by any edit; nothing else changes.
    let files = |dir: &std::path::Path| {
        let mut files = snapshot(dir).files;
        files.retain(|(name, _, _)| name != ".users.toml.lock");
        files
    };
    assert_eq!(before, files(home.path()));
}
