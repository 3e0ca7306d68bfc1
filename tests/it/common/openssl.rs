//! Asking the `openssl` CLI about what atlas-ca produced.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

/// A path as the `&str` a command line takes.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs the `openssl` CLI; returns (success, stdout + stderr).
pub fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl CLI");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}
/// Runs `openssl` and asserts success; returns stdout + stderr.
pub fn openssl_ok(args: &[&str]) -> String {
    let (ok, text) = openssl(args);
    assert!(ok, "openssl {args:?} failed: {text}");
    text
}
/// One `openssl x509` field of the (first) certificate in `pem`.
pub fn x509_field(pem: &Path, field: &str) -> String {
    openssl_ok(&["x509", "-in", pem.to_str().unwrap(), "-noout", field])
        .trim()
        .to_string()
}
/// The serial number of the (first) certificate in a PEM file, or `None`
/// if it holds no complete certificate.
pub fn try_serial_of(pem: &Path) -> Option<u64> {
    let (ok, text) = openssl(&["x509", "-in", pem.to_str().unwrap(), "-noout", "-serial"]);
    let hex = text.trim().strip_prefix("serial=")?;
    ok.then(|| u64::from_str_radix(hex, 16).ok()).flatten()
}
/// The serial number of the (first) certificate in a PEM file.
pub fn serial_of(pem: &Path) -> u64 {
    try_serial_of(pem).unwrap_or_else(|| panic!("{} holds no certificate", pem.display()))
}
/// The DER skeleton of the first certificate in a PEM file, per
/// `openssl asn1parse`: depth, tag and the values that are fixed by the
/// profile (OIDs, booleans, extension contents); variable values (integers,
/// strings, times, bit strings) are left out, their ASN.1 types kept.
pub fn der_skeleton(pem: &Path) -> Vec<String> {
    let text = openssl_ok(&["asn1parse", "-in", pem.to_str().unwrap()]);
    skeleton_of(&text)
}
/// The skeleton of `openssl asn1parse` output (see [`der_skeleton`]).
pub fn skeleton_of(asn1parse: &str) -> Vec<String> {
    asn1parse
        .lines()
        .filter(|l| l.contains("d="))
        .map(|l| {
            let depth = l
                .split("d=")
                .nth(1)
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap();
            let after = l.split_once(" l=").unwrap().1;
            let after = after.trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ');
            let (kind, rest) = after.split_once(':').unwrap();
            let (tag, value) = rest.split_once(':').unwrap_or((rest, ""));
            let tag = tag.split_whitespace().collect::<Vec<_>>().join(" ");
            let value = value.trim();
            let keep = ["OBJECT", "BOOLEAN", "OCTET STRING"]
                .iter()
                .any(|t| tag.starts_with(t));
            format!(
                "d={depth} {} {tag}{}",
                kind.trim(),
                if keep {
                    format!(" {value}")
                } else {
                    String::new()
                }
            )
        })
        .collect()
}
/// The port an `openssl s_server -accept 0` printed (`ACCEPT 0.0.0.0:PORT`),
/// and the rest of its output.
pub fn accept_port(
    server: &mut std::process::Child,
) -> (String, BufReader<std::process::ChildStdout>) {
    let mut out = BufReader::new(server.stdout.take().unwrap());
    let mut line = String::new();
    while out.read_line(&mut line).unwrap() > 0 {
        if let Some(rest) = line.strip_prefix("ACCEPT ") {
            return (rest.trim().rsplit(':').next().unwrap().to_string(), out);
        }
        line.clear();
    }
    panic!("s_server printed no ACCEPT line");
}

/// The certificate's subject as `-nameopt RFC2253` prints it (bytes from
/// 0x80 up as `\XX`): the user name mongod derives, for names of more
/// than two bytes.
pub fn mongod_name_of(pem: &Path) -> String {
    let out = openssl_ok(&[
        "x509",
        "-in",
        s(pem),
        "-noout",
        "-subject",
        "-nameopt",
        "RFC2253",
    ]);
    out.trim_end_matches('\n')
        .strip_prefix("subject=")
        .unwrap()
        .to_string()
}

/// The certificate's subject in RFC 2253 form as OpenSSL (and so mongod)
/// derives it: `-nameopt RFC2253,-esc_msb`.
pub fn rfc2253_subject_of(pem: &Path) -> String {
    let out = openssl_ok(&[
        "x509",
        "-in",
        pem.to_str().unwrap(),
        "-noout",
        "-subject",
        "-nameopt",
        "RFC2253,-esc_msb",
    ]);
    out.trim_end_matches('\n')
        .strip_prefix("subject=")
        .unwrap()
        .to_string()
}

/// An `openssl s_server` with `server_pem` (certificate and key) that
/// demands a client certificate from `ca`; returns whether `s_client`
/// presenting `client` completed the handshake, and the server's output.
pub fn openssl_handshake(
    server_pem: &Path,
    ca: &Path,
    client: &Path,
    crl: Option<&Path>,
) -> (bool, String) {
    let mut args = vec![
        "s_server",
        "-accept",
        "0",
        "-naccept",
        "1",
        "-cert",
        s(server_pem),
        "-key",
        s(server_pem),
        "-CAfile",
        s(ca),
        "-Verify",
        "1",
        "-verify_return_error",
    ];
    if let Some(crl) = crl {
        args.extend(["-CRL", s(crl), "-crl_check"]);
    }
    let mut server = Command::new("openssl")
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (port, mut out) = accept_port(&mut server);
    let mut client_run = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-cert",
            s(client),
            "-key",
            s(client),
            "-CAfile",
            s(ca),
            "-verify_return_error",
            "-brief",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // TLS 1.3 reports a refused client certificate only on the first read.
    let _ = client_run.stdin.take().unwrap().write_all(b"hello\n");
    let client_out = client_run.wait_with_output().unwrap();
    drop(server.stdin.take());
    let _ = server.kill();
    let server_out = server.wait_with_output().unwrap();
    let mut text = String::new();
    out.read_to_string_lossy(&mut text);
    text.push_str(&String::from_utf8_lossy(&server_out.stderr));
    let accepted = text.contains("hello") && client_out.status.success();
    (accepted, text)
}

pub trait ReadAll {
    fn read_to_string_lossy(&mut self, into: &mut String);
}

impl<R: std::io::Read> ReadAll for R {
    fn read_to_string_lossy(&mut self, into: &mut String) {
        let mut bytes = Vec::new();
        let _ = self.read_to_end(&mut bytes);
        into.push_str(&String::from_utf8_lossy(&bytes));
    }
}
