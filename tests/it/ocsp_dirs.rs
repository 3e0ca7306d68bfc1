//! `serve --pki DIR` on directories that stress how issuers are found:
//! two CAs of one name, and more certificates than one directory serves.

use std::process::Command;

use super::ocsp::{ask, status_of};
use crate::common::*;

/// Two CAs with one subject (a rotation), each with a leaf; the second
/// revokes its own. Only the signature tells them apart.
const SAME_NAME: &str = r#"
[defaults]
key = "ec-p256"
not_before = "-1h"
not_after = "+30d"

[[cert]]
name = "old"
issuer = "self"
subject = "CN=one name"
ca = true
files = "pem+split"

[[cert]]
name = "new"
issuer = "self"
subject = "CN=one name"
ca = true
files = "pem+split"

[[cert]]
name = "a"
issuer = "old"
subject = "CN=a"

[[cert]]
name = "b"
issuer = "new"
subject = "CN=b"

[[crl]]
name = "new-crl"
issuer = "new"
revoked = ["b"]
"#;

#[test]
fn cas_of_one_name_answer_for_their_own_certificates() {
    let home = TestHome::new(&registry(""));
    let file = home.path().join("pki.toml");
    std::fs::write(&file, SAME_NAME).unwrap();
    let dir = home.path().join("pki");
    home.ok(&["pki", "apply", s(&file), "--out", s(&dir)]);
    let server = Server::start(&home, &["--pki", s(&dir)]);
    let (a, b) = (dir.join("a.pem"), dir.join("b.pem"));
    let answer = ask(&server, &dir.join("old.crt"), &["-cert", s(&a)]);
    assert_eq!(status_of(&answer, s(&a)), "good");
    let answer = ask(&server, &dir.join("new.crt"), &["-cert", s(&b)]);
    assert_eq!(status_of(&answer, s(&b)), "revoked");
    // Asked of the wrong CA of that name, b is not one of its own.
    let answer = ask(&server, &dir.join("old.crt"), &["-cert", s(&b)]);
    assert_eq!(status_of(&answer, s(&b)), "unknown");
}

#[test]
fn a_directory_over_the_certificate_bound_is_refused_at_start() {
    let home = TestHome::new(&registry(""));
    let dir = home.path().join("many");
    std::fs::create_dir(&dir).unwrap();
    // 10,001 distinct certificates of one name and key, written by the
    // Python `cryptography` package: one over the bound.
    let python = python_with(&["cryptography"]);
    let script = r#"
import sys, datetime
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
key = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "many")])
now = datetime.datetime(2026, 1, 1)
# Files of 1,000 each: every input file is at most 1 MiB.
for serial in range(1, 10002):
    if serial % 1000 == 1:
        out = open(f"{sys.argv[1]}/part-{serial // 1000:02}.pem", "wb")
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(serial)
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    out.write(cert.public_bytes(serialization.Encoding.PEM))
"#;
    script_ok(Command::new(&python).args(["-c", script, s(&dir)]));
    let run = home.run(&["serve", "--listen", "127.0.0.1:0", "--pki", s(&dir)]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("holds more than 10000 distinct certificates"),
        "{}",
        stderr(&run)
    );
}
