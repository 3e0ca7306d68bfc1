//! What atlas-ca issues, linted (pkilint on the CA, server, strict client
//! and CRL) and written whole by `local-kit`.

use std::path::Path;
use std::process::Command;

use super::tls::{Fixture, s};
use crate::common::*;

#[test]
fn pkilint_finds_nothing_in_ca_server_strict_client_and_crl() {
    let f = Fixture::new();
    let python = python_with(&["pymongo", "mockupdb", "pkilint"]);
    let bin = python.parent().unwrap();
    let cert_only = |pem: &Path| {
        let out = f.home.path().join(format!("cert-{}.crt", unique()));
        openssl_ok(&["x509", "-in", s(pem), "-out", s(&out)]);
        out
    };
    let server = f.home.path().join("dotted.pem");
    f.home.ok(&[
        "server-cert",
        "--host",
        "db.example.test",
        "--host",
        "127.0.0.1",
        "--out",
        s(&server),
    ]);
    let strict_pem = f.client("alice", &["--cert-profile", "strict"]);
    let strict = cert_only(&strict_pem);
    // The strict profile also passes OpenSSL's RFC 5280 strict mode; the
    // Atlas profile does not (no authority key identifier, as on Atlas).
    openssl_ok(&[
        "verify",
        "-x509_strict",
        "-CAfile",
        s(&f.ca),
        s(&strict_pem),
    ]);
    let (ok, why) = openssl(&[
        "verify",
        "-x509_strict",
        "-CAfile",
        s(&f.ca),
        s(&f.client("alice", &[])),
    ]);
    assert!(!ok && why.contains("Authority Key Identifier"), "{why}");
    let lint = |tool: &str, args: &[&str]| {
        let out = Command::new(bin.join(tool)).args(args).output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success() && text.trim().is_empty(), text)
    };
    for cert in [cert_only(&f.ca), cert_only(&server), strict.clone()] {
        let (clean, text) = lint("lint_pkix_cert", &["lint", "-s", "WARNING", s(&cert)]);
        assert!(clean, "{}: {text}", cert.display());
    }
    let (clean, text) = lint(
        "lint_pkix_signer_signee_cert_chain",
        &["lint", s(&cert_only(&f.ca)), s(&strict)],
    );
    assert!(clean, "{text}");
    let crl = f.crl();
    let (clean, text) = lint(
        "lint_crl",
        &["lint", "-t", "CRL", "-p", "PKIX", "-s", "WARNING", s(&crl)],
    );
    assert!(clean, "{text}");
    // The atlas profile has exactly the findings the README explains.
    let atlas = cert_only(&f.client("alice", &[]));
    let (clean, text) = lint("lint_pkix_cert", &["lint", "-s", "WARNING", s(&atlas)]);
    assert!(!clean);
    assert!(
        text.contains("pkix.certificate_skid_end_entity_missing")
            && text.contains("pkix.authority_key_identifier_extension_absent"),
        "{text}"
    );
}

#[test]
fn local_kit_writes_everything_once() {
    use std::os::unix::fs::PermissionsExt;
    let home = TestHome::new(&registry(""));
    let kit = home.path().join("kit");
    let out = home.run(&["local-kit", "--out", s(&kit), "--host", "db.example.test"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mode = |p: &str| std::fs::metadata(kit.join(p)).unwrap().permissions().mode() & 0o777;
    for key in ["server.pem", "users/alice.pem", "users/bob.pem"] {
        assert_eq!(mode(key), 0o600, "{key}");
    }
    for public in [
        "ca.pem",
        "crl.pem",
        "mongod.conf",
        "create-users.js",
        "README.txt",
    ] {
        assert!(kit.join(public).exists(), "{public}");
    }
    assert!(!kit.join("users/carol.pem").exists(), "only MANAGED users");
    let ca = kit.join("ca.pem");
    for pem in ["server.pem", "users/alice.pem", "users/bob.pem"] {
        openssl_ok(&[
            "verify",
            "-crl_check",
            "-CAfile",
            s(&ca),
            "-CRLfile",
            s(&kit.join("crl.pem")),
            s(&kit.join(pem)),
        ]);
    }
    let san = openssl_ok(&[
        "x509",
        "-in",
        s(&kit.join("server.pem")),
        "-noout",
        "-ext",
        "subjectAltName",
    ]);
    assert!(
        san.contains("DNS:localhost, IP Address:127.0.0.1, DNS:db.example.test"),
        "{san}"
    );
    let conf = std::fs::read_to_string(kit.join("mongod.conf")).unwrap();
    let abs = std::path::absolute(&kit).unwrap();
    for line in [
        "mode: requireTLS".to_string(),
        // Paths are YAML double-quoted scalars.
        format!("certificateKeyFile: \"{}/server.pem\"", abs.display()),
        format!("CAFile: \"{}/ca.pem\"", abs.display()),
        format!("CRLFile: \"{}/crl.pem\"", abs.display()),
        "authorization: enabled".to_string(),
    ] {
        assert!(conf.contains(&line), "{line} in {conf}");
    }
    let js = std::fs::read_to_string(kit.join("create-users.js")).unwrap();
    assert!(
        js.contains(
            r#"ext.createUser({ user: "CN=alice", roles: [{ role: "readWrite", db: "app" }] });"#
        ),
        "{js}"
    );
    assert!(js.contains(r#"user: "CN=bob", roles: [] "#), "{js}");
    let readme = std::fs::read_to_string(kit.join("README.txt")).unwrap();
    assert!(
        readme.contains(&format!("mongod --config '{}/mongod.conf'", abs.display())),
        "{readme}"
    );

    // Again: refused without --force, nothing changed; replaced with it.
    let before = std::fs::read(kit.join("users/alice.pem")).unwrap();
    let again = home.run(&["local-kit", "--out", s(&kit)]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("pass --force"),
        "{}",
        stderr(&again)
    );
    assert_eq!(std::fs::read(kit.join("users/alice.pem")).unwrap(), before);
    assert!(
        home.run(&["local-kit", "--out", s(&kit), "--force"])
            .status
            .success()
    );
    assert_ne!(std::fs::read(kit.join("users/alice.pem")).unwrap(), before);
}
