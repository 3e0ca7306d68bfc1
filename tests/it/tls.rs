//! What atlas-ca issues, used by software nobody here wrote: the `openssl`
//! s_server/s_client pair, rustls's client verifier, Python's `ssl`, the
//! real MongoDB driver (pymongo) against a stand-in mongod, and pkilint.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

/// A home with a CA, a server certificate for localhost and 127.0.0.1, and
/// one certificate per named profile for alice.
pub(crate) struct Fixture {
    pub(crate) home: TestHome,
    pub(crate) ca: PathBuf,
    pub(crate) server: PathBuf,
}

impl Fixture {
    pub(crate) fn new() -> Fixture {
        let home = TestHome::new(&registry(""));
        let server = home.path().join("server.pem");
        home.ok(&[
            "server-cert",
            "--host",
            "localhost",
            "--host",
            "127.0.0.1",
            "--out",
            server.to_str().unwrap(),
        ]);
        let ca = home.path().join("ca.pem");
        std::fs::write(&ca, home.ok(&["ca", "cert"])).unwrap();
        Fixture { home, ca, server }
    }

    pub(crate) fn client(&self, user: &str, extra: &[&str]) -> PathBuf {
        self.home.issue(user, extra)
    }

    pub(crate) fn crl(&self) -> PathBuf {
        let crl = self.home.path().join(format!("crl-{}.pem", unique()));
        self.home.ok(&["ca", "crl", "--out", crl.to_str().unwrap()]);
        crl
    }
}

pub(crate) fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn server_certificate_profile() {
    let f = Fixture::new();
    let text = openssl_ok(&["x509", "-in", s(&f.server), "-noout", "-text"]);
    assert!(
        text.contains("DNS:localhost, IP Address:127.0.0.1"),
        "{text}"
    );
    assert!(
        text.contains("TLS Web Server Authentication, TLS Web Client Authentication"),
        "{text}"
    );
    assert!(
        text.contains("Digital Signature, Key Encipherment"),
        "{text}"
    );
    assert!(
        text.contains("X509v3 Subject Key Identifier")
            && text.contains("X509v3 Authority Key Identifier")
    );
    // O and OU that no client certificate has: MongoDB never takes a user for a member.
    assert_eq!(
        x509_field(&f.server, "-subject"),
        "subject=CN = localhost, OU = Atlas Local Servers, O = atlas-ca"
    );
    openssl_ok(&[
        "verify",
        "-purpose",
        "sslserver",
        "-CAfile",
        s(&f.ca),
        s(&f.server),
    ]);
    // Recorded in the ledger; bad hosts are refused.
    let out = f.home.run(&["server-cert", "--host", "bad host"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("neither an IP address nor a valid DNS name"),
        "{}",
        stderr(&out)
    );
    let out = f.home.run(&["verify", s(&f.server)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("server certificate for localhost,127.0.0.1")
    );
}

#[test]
fn openssl_handshakes_accept_good_and_refuse_bad_clients() {
    let f = Fixture::new();
    let alice = f.client("alice", &[]);
    let (ok, log) = openssl_handshake(&f.server, &f.ca, &alice, None);
    assert!(ok, "{log}");
    assert!(log.contains("depth=0 CN = alice"), "{log}");

    // Another project's CA.
    let other = TestHome::with_other_ca(&registry(""));
    let stranger = other.issue("alice", &[]);
    let (ok, log) = openssl_handshake(&f.server, &f.ca, &stranger, None);
    assert!(!ok, "a certificate from another CA was accepted: {log}");

    // Expired (issued two years ago for one month).
    let expired = f.client(
        "alice",
        &[
            "--issued-at",
            "2024-01-01T00:00:00Z",
            "--monthsUntilExpiration",
            "1",
        ],
    );
    let (ok, log) = openssl_handshake(&f.server, &f.ca, &expired, None);
    assert!(!ok && log.contains("certificate has expired"), "{log}");

    // Revoked, with the CRL; the unrevoked one still passes with the same CRL.
    let bob = f.client("bob", &[]);
    let serial = serial_of(&bob);
    f.home.revoke("bob", serial);
    let crl = f.crl();
    let (ok, log) = openssl_handshake(&f.server, &f.ca, &bob, Some(&crl));
    assert!(!ok && log.contains("certificate revoked"), "{log}");
    let (ok, log) = openssl_handshake(&f.server, &f.ca, &alice, Some(&crl));
    assert!(ok, "{log}");
}

#[test]
fn every_key_type_verifies_and_handshakes() {
    let f = Fixture::new();
    for (key_type, text) in [
        ("rsa-2048", "Public-Key: (2048 bit)"),
        ("rsa-3072", "Public-Key: (3072 bit)"),
        ("ec-p256", "NIST CURVE: P-256"),
        ("ec-p384", "NIST CURVE: P-384"),
        ("ed25519", "Public Key Algorithm: ED25519"),
    ] {
        let pem = f.client("alice", &["--key-type", key_type]);
        let dump = openssl_ok(&["x509", "-in", s(&pem), "-noout", "-text"]);
        assert!(dump.contains(text), "{key_type}: {dump}");
        assert!(
            dump.contains("Signature Algorithm: sha256WithRSAEncryption"),
            "the CA signs as Atlas"
        );
        openssl_ok(&[
            "verify",
            "-purpose",
            "sslclient",
            "-CAfile",
            s(&f.ca),
            s(&pem),
        ]);
        let (ok, log) = openssl_handshake(&f.server, &f.ca, &pem, None);
        assert!(ok, "{key_type}: {log}");
        // The key in the bundle is the certificate's.
        let cert_pub = openssl_ok(&["x509", "-in", s(&pem), "-noout", "-pubkey"]);
        assert_eq!(
            cert_pub,
            openssl_ok(&["pkey", "-in", s(&pem), "-pubout"]),
            "{key_type}"
        );
    }
    // A server certificate with an EC key serves a handshake too.
    let ec_server = f.home.path().join("ec-server.pem");
    f.home.ok(&[
        "server-cert",
        "--host",
        "localhost",
        "--key-type",
        "ec-p256",
        "--out",
        s(&ec_server),
    ]);
    let g = Fixture {
        home: TestHome::new(""),
        ca: f.ca.clone(),
        server: ec_server,
    };
    let (ok, log) = openssl_handshake(&g.server, &g.ca, &f.client("bob", &[]), None);
    assert!(ok, "{log}");
}

#[test]
fn revocation_and_crl() {
    let f = Fixture::new();
    let alice = f.client("alice", &[]);
    let keep = f.client("alice", &[]);
    let serial = serial_of(&alice);
    let revoke = |user: &str, serial: &str| f.home.try_revoke(user, serial);
    assert!(revoke("alice", &serial.to_string()).status.success());
    assert!(
        revoke("alice", &serial.to_string()).status.success(),
        "idempotent"
    );
    let out = revoke("alice", "12345");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no certificate with serial 12345 for alice"),
        "{}",
        stderr(&out)
    );
    let out = revoke("bob", &serial.to_string());
    assert!(!out.status.success(), "another user's serial");

    // The list leaves it out; --all shows it as revoked.
    let list = f.home.ok(&["dbusers", "certs", "list", "alice"]);
    assert!(
        !list.contains(&serial.to_string()) && list.lines().count() == 2,
        "{list}"
    );
    let all = f.home.ok(&["dbusers", "certs", "list", "alice", "--all"]);
    assert!(
        all.lines()
            .any(|l| l.starts_with(&serial.to_string()) && l.contains(" revoked ")),
        "{all}"
    );

    // The CRL: v2, signed by the CA, lists exactly the revoked serial.
    let crl = f.crl();
    let text = openssl_ok(&[
        "crl",
        "-in",
        s(&crl),
        "-noout",
        "-text",
        "-CAfile",
        s(&f.ca),
    ]);
    assert!(text.contains("verify OK"), "{text}");
    assert!(text.contains("Version 2 (0x1)"), "{text}");
    assert!(
        text.contains(&format!("Serial Number: {serial:016X}")),
        "{text}"
    );
    assert_eq!(text.matches("Serial Number:").count(), 1, "{text}");
    assert!(text.contains("X509v3 CRL Number") && text.contains("X509v3 Authority Key Identifier"));
    // openssl verify -crl_check refuses the revoked one and accepts the other.
    let (ok, out) = openssl(&[
        "verify",
        "-crl_check",
        "-CAfile",
        s(&f.ca),
        "-CRLfile",
        s(&crl),
        s(&alice),
    ]);
    assert!(!ok && out.contains("certificate revoked"), "{out}");
    openssl_ok(&[
        "verify",
        "-crl_check",
        "-CAfile",
        s(&f.ca),
        "-CRLfile",
        s(&crl),
        s(&keep),
    ]);
}

#[test]
fn verify_command_checks_each_property() {
    let f = Fixture::new();
    let alice = f.client("alice", &[]);
    let out = f.home.run(&["verify", s(&alice)]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    assert_eq!(text.lines().count(), 5, "{text}");
    assert!(text.lines().all(|l| l.starts_with("ok  ")), "{text}");

    // Exactly the `checks` fail, and every other one still passes.
    let fails = |file: &Path, checks: &[&str]| {
        let out = f.home.run(&["verify", s(file)]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(!out.status.success(), "{checks:?}: {text}");
        assert_eq!(text.lines().count(), 5, "{checks:?}: {text}");
        let failed: Vec<&str> = text.lines().filter(|l| !l.starts_with("ok  ")).collect();
        assert_eq!(failed.len(), checks.len(), "{checks:?}: {text}");
        for check in checks {
            assert!(
                failed
                    .iter()
                    .any(|l| l.starts_with("FAIL") && l.contains(check)),
                "{check}: {text}"
            );
        }
    };
    let other = TestHome::with_other_ca(&registry(""));
    // Another home's certificate: not this CA's, and not in this ledger.
    fails(
        &other.issue("alice", &[]),
        &["signed by the project CA", "not revoked"],
    );
    fails(
        &f.client(
            "alice",
            &[
                "--issued-at",
                "2020-01-01T00:00:00Z",
                "--monthsUntilExpiration",
                "1",
            ],
        ),
        &["in force"],
    );
    fails(
        &f.client(
            "alice",
            &[
                "--issued-at",
                "2030-01-01T00:00:00Z",
                "--monthsUntilExpiration",
                "1",
            ],
        ),
        &["in force"],
    );
    // A key from another bundle.
    let bob = f.client("bob", &[]);
    let mixed = f.home.path().join("mixed.pem");
    let cert = openssl_ok(&["x509", "-in", s(&alice)]);
    let key = openssl_ok(&["pkey", "-in", s(&bob)]);
    std::fs::write(&mixed, format!("{cert}{key}")).unwrap();
    fails(&mixed, &["key matches certificate"]);
    let serial = serial_of(&bob);
    f.home.revoke("bob", serial);
    fails(&bob, &["not revoked"]);
    // A user that is no longer MANAGED.
    let registry_path = f.home.path().join("users.toml");
    let text = std::fs::read_to_string(&registry_path).unwrap();
    std::fs::write(
        &registry_path,
        text.replacen("x509Type = \"MANAGED\"", "x509Type = \"NONE\"", 1),
    )
    .unwrap();
    fails(&alice, &["names a MANAGED user"]);
}

#[test]
fn rustls_client_verifier_accepts_both_profiles() {
    use rustls::server::WebPkiClientVerifier;
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, UnixTime};

    let f = Fixture::new();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(&f.ca).unwrap())
        .unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let verifier =
        WebPkiClientVerifier::builder_with_provider(std::sync::Arc::new(roots), provider)
            .build()
            .unwrap();
    let now = UnixTime::now();
    for profile in ["atlas", "strict"] {
        let pem = f.client("alice", &["--cert-profile", profile]);
        let cert = CertificateDer::from_pem_file(&pem).unwrap();
        verifier
            .verify_client_cert(&cert, &[], now)
            .unwrap_or_else(|e| panic!("{profile}: {e}"));
    }
    // An expired one and one from another CA are refused.
    let expired = f.client(
        "alice",
        &[
            "--issued-at",
            "2020-01-01T00:00:00Z",
            "--monthsUntilExpiration",
            "1",
        ],
    );
    let cert = CertificateDer::from_pem_file(&expired).unwrap();
    assert!(verifier.verify_client_cert(&cert, &[], now).is_err());
    let other = TestHome::with_other_ca(&registry(""));
    let cert = CertificateDer::from_pem_file(other.issue("alice", &[])).unwrap();
    assert!(verifier.verify_client_cert(&cert, &[], now).is_err());
}

#[test]
fn python_ssl_accepts_the_single_pem_file() {
    let f = Fixture::new();
    let python = python_with(&["pymongo", "mockupdb", "pkilint"]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/ssl_server_check.py");
    let alice = f.client("alice", &[]);
    let stdout =
        script_ok(Command::new(&python).args([s(&script), s(&f.ca), s(&f.server), s(&alice)]));
    assert_eq!(stdout.trim(), "commonName=alice");
    // The server refuses a certificate from another CA.
    let other = TestHome::with_other_ca(&registry(""));
    let out = Command::new(&python)
        .args([
            s(&script),
            s(&f.ca),
            s(&f.server),
            s(&other.issue("alice", &[])),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("refused:"));
}

#[test]
fn pymongo_logs_in_with_mongodb_x509() {
    let f = Fixture::new();
    let python = python_with(&["pymongo", "mockupdb", "pkilint"]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/mongod_standin.py");
    let special = "o'brien, jr.";
    let text = std::fs::read_to_string(f.home.path().join("users.toml")).unwrap();
    std::fs::write(
        f.home.path().join("users.toml"),
        format!(
            "{text}\n[[projects.databaseUsers]]\nusername = \"{special}\"\nx509Type = \"MANAGED\"\n"
        ),
    )
    .unwrap();
    for user in ["alice", special] {
        let pem = f.client(user, &[]);
        let list = f.home.ok(&["dbusers", "certs", "list", user, "-o", "json"]);
        let v: serde_json::Value = serde_json::from_str(&list).unwrap();
        let subject = v["results"][0]["subject"].as_str().unwrap().to_string();
        let stdout = script_ok(Command::new(&python).args([
            s(&script),
            s(&f.ca),
            s(&f.server),
            s(&pem),
            &subject,
        ]));
        assert_eq!(
            stdout.trim(),
            format!("authenticated as {subject}"),
            "{user}"
        );
    }
    // A user the stand-in does not know is refused.
    let pem = f.client("bob", &[]);
    let out = Command::new(&python)
        .args([
            s(&script),
            s(&f.ca),
            s(&f.server),
            s(&pem),
            "CN=bob",
            "CN=alice",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
