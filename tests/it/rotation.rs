//! After `ca init --rotate`: the retired CA still speaks for what it
//! signed. OCSP answers `good` or `revoked` for its certificates, signed by
//! it (and `unknown` for the new CA's serials asked under its name); `ca
//! crl` lists each revocation under the CA that signed the certificate;
//! `verify` agrees. Asked with `openssl ocsp` and `openssl crl`.

use std::path::{Path, PathBuf};

use super::ocsp::{ask, status_of};
use crate::common::*;

/// The retired CA's certificate, after one rotation.
fn retired_ca(home: &TestHome) -> PathBuf {
    let retired = home.ca_cert().parent().unwrap().join("retired");
    let dirs: Vec<PathBuf> = std::fs::read_dir(&retired)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].join("ca.cert.pem")
}

/// The CRLs of a PEM file, each written to a file of its own.
fn crls_of(file: &Path) -> Vec<PathBuf> {
    let text = std::fs::read_to_string(file).unwrap();
    text.split_inclusive("-----END X509 CRL-----\n")
        .filter(|b| b.contains("BEGIN X509 CRL"))
        .enumerate()
        .map(|(i, block)| {
            let one = file.with_extension(format!("{i}.pem"));
            std::fs::write(&one, block).unwrap();
            one
        })
        .collect()
}

/// The serial of `pem` as `openssl crl -text` lists it (upper-case hex).
fn crl_serial(pem: &Path) -> String {
    x509_field(pem, "-serial")
        .trim_start_matches("serial=")
        .to_uppercase()
}

#[test]
fn a_retired_ca_answers_for_what_it_signed() {
    let home = TestHome::new(&registry(""));
    let kept = home.issue("alice", &[]);
    let revoked = home.issue("bob", &[]);
    home.revoke("bob", serial_of(&revoked));
    let old_ca = home.path().join("old-ca.pem");
    std::fs::copy(home.ca_cert(), &old_ca).unwrap();
    home.ok(&["ca", "init", "--projectId", GID, "--rotate"]);
    assert_eq!(
        std::fs::read(retired_ca(&home)).unwrap(),
        std::fs::read(&old_ca).unwrap()
    );
    let new = home.issue("alice", &[]);

    let server = Server::start(&home, &[]);
    // Each answer is verified against the CA it names: the old one signs
    // for its own certificates.
    let kept_s = s(&kept).to_string();
    let answer = ask(&server, &old_ca, &["-cert", &kept_s]);
    assert_eq!(status_of(&answer, &kept_s), "good");
    let revoked_s = s(&revoked).to_string();
    let answer = ask(&server, &old_ca, &["-cert", &revoked_s]);
    assert_eq!(status_of(&answer, &revoked_s), "revoked");
    let new_s = s(&new).to_string();
    assert_eq!(
        status_of(&ask(&server, &home.ca_cert(), &["-cert", &new_s]), &new_s),
        "good"
    );
    // The new CA's serial asked under the old CA's name: not the old CA's.
    let serial = serial_of(&new).to_string();
    assert_eq!(
        status_of(&ask(&server, &old_ca, &["-serial", &serial]), &serial),
        "unknown"
    );

    // `ca crl` speaks for the current CA only; with --all-cas, one CRL
    // each, every revocation under the CA that signed the certificate.
    let current = home.path().join("current.pem");
    home.ok(&["ca", "crl", "--out", s(&current)]);
    let text = openssl_ok(&["crl", "-in", s(&current), "-noout", "-text"]);
    assert!(text.contains("No Revoked Certificates"), "{text}");
    let all = home.path().join("all.pem");
    home.ok(&["ca", "crl", "--all-cas", "--out", s(&all)]);
    let crls = crls_of(&all);
    assert_eq!(crls.len(), 2);
    openssl_ok(&[
        "crl",
        "-in",
        s(&crls[0]),
        "-CAfile",
        s(&home.ca_cert()),
        "-noout",
    ]);
    openssl_ok(&["crl", "-in", s(&crls[1]), "-CAfile", s(&old_ca), "-noout"]);
    let old_text = openssl_ok(&["crl", "-in", s(&crls[1]), "-noout", "-text"]);
    assert!(old_text.contains(&crl_serial(&revoked)), "{old_text}");
    // openssl verify with the old CA and its CRL agrees: revoked.
    let (ok, out) = openssl(&[
        "verify",
        "-crl_check",
        "-CAfile",
        s(&old_ca),
        "-CRLfile",
        s(&crls[1]),
        s(&revoked),
    ]);
    assert!(!ok && out.contains("certificate revoked"), "{out}");
    let (ok, out) = openssl(&[
        "verify",
        "-crl_check",
        "-CAfile",
        s(&old_ca),
        "-CRLfile",
        s(&crls[1]),
        s(&kept),
    ]);
    assert!(ok, "{out}");
    // And so does `verify`.
    let run = home.run(&["verify", s(&revoked)]);
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stdout).contains("revoked"));
}
