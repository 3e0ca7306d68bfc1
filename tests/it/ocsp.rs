//! `serve`'s OCSP responder, asked by `openssl ocsp` (POST), by curl (GET)
//! and by `openssl s_server -status_url` stapling for `s_client -status`;
//! `revoke --serial` in the forms OpenSSL prints.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::*;

/// `openssl ocsp` about `cert` (issued by `issuer`) at the server, the
/// response verified against `issuer`: its output.
pub(crate) fn ask(server: &Server, issuer: &Path, cert_args: &[&str]) -> String {
    let url = format!("{}/ocsp", server.base);
    let mut args = vec![
        "ocsp",
        "-issuer",
        s(issuer),
        "-url",
        &url,
        "-CAfile",
        s(issuer),
        "-resp_text",
    ];
    args.extend(cert_args);
    let (ok, out) = openssl(&args);
    assert!(ok, "{out}");
    assert!(out.contains("Response verify OK"), "{out}");
    out
}

pub(crate) fn status_of(out: &str, what: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{what}: ")))
        .unwrap_or_else(|| panic!("no status for {what} in {out}"))
        .to_string()
}

#[test]
fn project_certificates_are_good_then_revoked_without_a_restart() {
    let home = TestHome::new(&registry(""));
    let server = Server::start(&home, &[]);
    let url = format!("{}/ocsp", server.base);
    let pem = home.path().join("alice.pem");
    home.ok(&[
        "dbusers",
        "certs",
        "create",
        "--projectId",
        GID,
        "--username",
        "alice",
        "--key-type",
        "ec-p256",
        "--ocsp-url",
        &url,
        "--out",
        s(&pem),
    ]);
    let aia = openssl_ok(&["x509", "-in", s(&pem), "-noout", "-ocsp_uri"]);
    assert_eq!(aia.trim(), url);
    let ca = home.ca_cert();
    let cert = s(&pem).to_string();
    assert_eq!(
        status_of(&ask(&server, &ca, &["-cert", &cert]), &cert),
        "good"
    );
    // A serial the CA never issued.
    assert_eq!(
        status_of(&ask(&server, &ca, &["-serial", "12345"]), "12345"),
        "unknown"
    );

    // Revoked by the serial as `openssl x509 -serial` prints it.
    let hex = openssl_ok(&["x509", "-in", &cert, "-noout", "-serial"]);
    let hex = hex.trim().trim_start_matches("serial=");
    let out = home.run(&["revoke", "--serial", hex]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("of user alice"), "{}", stderr(&out));
    let answer = ask(&server, &ca, &["-cert", &cert]);
    assert_eq!(status_of(&answer, &cert), "revoked");
    assert!(answer.contains("Revocation Time:"), "{answer}");

    // GET, as RFC 6960 appendix A.1 writes it: the request in base64, URL-encoded.
    let req = home.path().join("req.der");
    openssl_ok(&[
        "ocsp",
        "-issuer",
        s(&ca),
        "-cert",
        &cert,
        "-no_nonce",
        "-reqout",
        s(&req),
    ]);
    let b64 = base64_of(&req);
    let encoded: String = b64
        .chars()
        .map(|c| match c {
            '+' => "%2B".to_string(),
            '/' => "%2F".to_string(),
            '=' => "%3D".to_string(),
            c => c.to_string(),
        })
        .collect();
    let resp = home.path().join("resp.der");
    let got = Command::new("curl")
        .args(["-sS", "-o", s(&resp), "-w", "%{http_code} %{content_type}"])
        .arg(format!("{url}/{encoded}"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&got.stdout),
        "200 application/ocsp-response"
    );
    let text = openssl_ok(&[
        "ocsp",
        "-respin",
        s(&resp),
        "-resp_text",
        "-CAfile",
        s(&ca),
        "-issuer",
        s(&ca),
        "-cert",
        &cert,
    ]);
    assert_eq!(status_of(&text, &cert), "revoked");

    // Not OCSP at all: an unsigned malformedRequest.
    let junk = Command::new("curl")
        .args([
            "-sS",
            "-o",
            s(&resp),
            "--data-binary",
            "not ocsp",
            "-H",
            "Content-Type: application/ocsp-request",
        ])
        .arg(&url)
        .output()
        .unwrap();
    assert!(junk.status.success());
    let (_, text) = openssl(&["ocsp", "-respin", s(&resp), "-resp_text", "-noverify"]);
    assert!(
        text.contains("Responder Error: malformedrequest (1)"),
        "{text}"
    );
}

fn base64_of(path: &Path) -> String {
    let out = Command::new("openssl")
        .args(["base64", "-A", "-in", s(path)])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A small test PKI with an OCSP responder and a CRL revoking one server.
const PKI: &str = r#"
[defaults]
key = "ec-p256"
not_before = "-1h"
not_after = "+30d"

[[cert]]
name = "ca"
issuer = "self"
subject = "CN=ocsp test CA"
ca = true
files = "pem+split"

[[cert]]
name = "responder"
issuer = "ca"
subject = "CN=responder"
extended_key_usage = ["OCSPSigning"]
key_usage = ["digitalSignature"]

[[cert]]
name = "good"
issuer = "ca"
subject = "CN=localhost"
san = ["DNS:localhost", "IP:127.0.0.1"]
extended_key_usage = ["serverAuth"]
ocsp = ["http://localhost:8100/status"]

[[cert]]
name = "bad"
issuer = "ca"
subject = "CN=localhost"
extended_key_usage = ["serverAuth"]
ocsp = ["http://localhost:8100/status"]

# No OCSP address: s_server then asks its -status_url.
[[cert]]
name = "stapled"
issuer = "ca"
subject = "CN=localhost"
san = ["DNS:localhost"]
extended_key_usage = ["serverAuth"]
must_staple = true

[[crl]]
name = "revoked"
issuer = "ca"
revoked = ["bad"]
"#;

fn pki_dir(home: &TestHome) -> PathBuf {
    let file = home.path().join("pki.toml");
    std::fs::write(&file, PKI).unwrap();
    let out = home.path().join("pki");
    home.ok(&["pki", "apply", s(&file), "--out", s(&out)]);
    out
}

#[test]
fn a_pki_directory_is_answered_from_its_crls_by_the_ca_or_its_responder() {
    let home = TestHome::new(&registry(""));
    let dir = pki_dir(&home);
    let ca = dir.join("ca.crt");
    let (good, bad) = (dir.join("good.pem"), dir.join("bad.pem"));
    let mut server = Server::start(&home, &["--pki", s(&dir)]);
    let answer = ask(&server, &ca, &["-cert", s(&good), "-cert", s(&bad)]);
    assert_eq!(status_of(&answer, s(&good)), "good");
    assert_eq!(status_of(&answer, s(&bad)), "revoked");
    assert!(
        answer.contains("Responder Id: CN = ocsp test CA"),
        "{answer}"
    );
    server.stop();

    // Delegated: signed by the responder, whose certificate comes along.
    let server = Server::start(&home, &["--pki", s(&dir), "--ocsp-delegate"]);
    let answer = ask(&server, &ca, &["-cert", s(&good)]);
    assert!(answer.contains("Responder Id: CN = responder"), "{answer}");
    assert_eq!(status_of(&answer, s(&good)), "good");

    // Stapled: s_server fetches the answer, s_client reads it.
    let url = format!("{}/ocsp", server.base);
    let good = dir.join("stapled.pem");
    let mut s_server = Command::new("openssl")
        .args([
            "s_server",
            "-accept",
            "0",
            "-naccept",
            "1",
            "-cert",
            s(&good),
            "-key",
            s(&good),
        ])
        .args(["-status", "-status_url", &url, "-CAfile", s(&ca)])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (port, _) = accept_port(&mut s_server);
    let client = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-status",
            "-CAfile",
            s(&ca),
        ])
        .args(["-verify_return_error", "-servername", "localhost"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let _ = s_server.kill();
    let _ = s_server.wait();
    let text = String::from_utf8_lossy(&client.stdout);
    assert!(text.contains("OCSP Response Status: successful"), "{text}");
    assert!(text.contains("Cert Status: good"), "{text}");
}

#[test]
fn revoke_by_serial_names_what_it_cannot_find() {
    let home = TestHome::new(&registry(""));
    for (serial, message) in [
        ("zz", "\"zz\" is not a serial number"),
        ("0x7", "no certificate with serial \"0x7\""),
    ] {
        let out = home.run(&["revoke", "--serial", serial]);
        assert!(!out.status.success());
        assert!(stderr(&out).contains(message), "{serial}: {}", stderr(&out));
    }
    // A user's certificate by its hex serial through `dbusers certs revoke` too.
    let pem = home.issue("bob", &["--key-type", "ec-p256"]);
    let hex = format!("0x{:x}", serial_of(&pem));
    let out = home.run(&[
        "dbusers",
        "certs",
        "revoke",
        "--projectId",
        GID,
        "--username",
        "bob",
        "--serial",
        &hex,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let crl = home.path().join("crl.pem");
    home.ok(&["ca", "crl", "--projectId", GID, "--out", s(&crl)]);
    let text = openssl_ok(&["crl", "-in", s(&crl), "-noout", "-text"]);
    // OpenSSL prints whole bytes: an even number of hex digits.
    let mut hex = format!("{:X}", serial_of(&pem));
    if hex.len() % 2 == 1 {
        hex.insert(0, '0');
    }
    assert!(text.contains(&format!("Serial Number: {hex}")), "{text}");
}
