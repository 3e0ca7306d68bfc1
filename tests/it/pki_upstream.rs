//! The upstream properties the two examples follow (issue-by-issue
//! differences from drivers-evergreen-tools' and mongod's own files),
//! each read back with an independent parser: `openssl asn1parse`,
//! `openssl x509`/`crl`, `sha1sum`/`sha256sum`.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::*;

/// `openssl asn1parse` of the first PEM block labelled `label` in `file`.
fn asn1(file: &Path, label: &str) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text
        .find(&begin)
        .unwrap_or_else(|| panic!("{label} in {file:?}"));
    let stop = text[start..].find(&end).unwrap() + start + end.len();
    let mut child = Command::new("openssl")
        .args(["asn1parse", "-i"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&text.as_bytes()[start..stop])
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// drivers-evergreen-tools' x509gen and OCSP properties.
pub(crate) fn drivers_properties(out: &Path) {
    // 1. The encrypted PKCS#8 keys: PBKDF2 with the PRF left out (its
    // default, hmacWithSHA1), an 8-byte salt, 2048 rounds, and upstream's
    // ciphers.
    for (file, cipher) in [
        ("client-pkcs8-encrypted.pem", "des-ede3-cbc"),
        ("password_protected.pem", "aes-128-cbc"),
    ] {
        let parsed = asn1(&out.join(file), "ENCRYPTED PRIVATE KEY");
        assert!(parsed.contains(":PBKDF2"), "{file}: {parsed}");
        assert!(
            !parsed.contains("hmacWith"),
            "{file}: a PRF is written: {parsed}"
        );
        assert!(parsed.contains(&format!(":{cipher}")), "{file}: {parsed}");
        let salt = parsed
            .lines()
            .find(|l| l.contains("OCTET STRING") && l.contains("hl=2"))
            .unwrap_or_else(|| panic!("{file}: {parsed}"));
        assert!(salt.contains("l=   8"), "{file}: salt {salt}");
        assert!(parsed.contains(":0800"), "2048 rounds: {parsed}");
    }
    // 3. x509gen's names are PrintableStrings, in subject and issuer, and
    // the CRL's issuer; the OCSP sets keep UTF8String but for C.
    for file in ["client.pem", "server.pem", "ca.pem"] {
        let parsed = asn1(&out.join(file), "CERTIFICATE");
        assert!(!parsed.contains("UTF8STRING"), "{file}: {parsed}");
        assert!(parsed.contains("PRINTABLESTRING"), "{file}");
    }
    let crl = asn1(&out.join("crl.pem"), "X509 CRL");
    assert!(
        !crl.contains("UTF8STRING") && crl.contains("PRINTABLESTRING"),
        "{crl}"
    );
    drivers_lifetimes(out);
    drivers_extensions(out);
    // 7. The OCSP leaves' extensions in upstream's order, still signed by
    // their CA.
    let order = |file: &str| extension_names(&out.join(file));
    assert_eq!(
        order("ocsp/rsa/server-mustStaple.pem"),
        [
            "Basic Constraints",
            "Key Usage",
            "Extended Key Usage",
            "Subject Key Identifier",
            "Authority Information Access",
            "TLS Feature",
            "Subject Alternative Name"
        ]
    );
    assert_eq!(
        order("ocsp/ecdsa/server-mustStaple.pem"),
        [
            "Basic Constraints",
            "Subject Alternative Name",
            "Subject Key Identifier",
            "Key Usage",
            "Extended Key Usage",
            "Authority Information Access",
            "TLS Feature"
        ]
    );
    for (leaf, ca) in [
        ("ocsp/rsa/server.pem", "ocsp/rsa/ca.pem"),
        ("ocsp/ecdsa/server.pem", "ocsp/ecdsa/ca.pem"),
    ] {
        let (leaf, ca) = (out.join(leaf), out.join(ca));
        openssl_ok(&[
            "verify",
            "-CAfile",
            ca.to_str().unwrap(),
            leaf.to_str().unwrap(),
        ]);
    }
    let ocsp = asn1(&out.join("ocsp/rsa/server.pem"), "CERTIFICATE");
    assert!(
        ocsp.contains("UTF8STRING") && ocsp.contains("PRINTABLESTRING"),
        "{ocsp}"
    );
    // 4. The OCSP servers' keyUsage is not critical.
    for set in ["rsa", "ecdsa"] {
        for name in [
            "server",
            "server-mustStaple",
            "server-singleEndpoint",
            "server-mustStaple-singleEndpoint",
        ] {
            let file = out.join(format!("ocsp/{set}/{name}.pem"));
            let text = openssl_ok(&["x509", "-in", file.to_str().unwrap(), "-noout", "-text"]);
            assert!(text.contains("X509v3 Key Usage: \n"), "{file:?}: {text}");
        }
    }
}

/// The names of the first certificate's extensions in `path`, in order,
/// as `openssl x509 -text` shows them.
fn extension_names(path: &Path) -> Vec<String> {
    openssl_ok(&["x509", "-in", path.to_str().unwrap(), "-noout", "-text"])
        .lines()
        .map(str::trim)
        .filter(|l| {
            l.starts_with("X509v3 ") && l.contains(':') && !l.starts_with("X509v3 extensions")
                || l.starts_with("Authority Information Access")
                || l.starts_with("TLS Feature")
                || l.starts_with("1.3.6.1.4.1.34601.2.1.")
                || l.starts_with("Netscape Comment")
        })
        .map(|l| {
            l.split(':')
                .next()
                .unwrap()
                .trim_start_matches("X509v3 ")
                .to_string()
        })
        .collect()
}

/// Item 7: x509gen's extensions are upstream's, in its order, and crl.pem
/// revokes server.pem.
fn drivers_extensions(out: &Path) {
    let server = out.join("server.pem");
    let server = openssl_ok(&["x509", "-in", server.to_str().unwrap(), "-noout", "-serial"]);
    let server = server.trim().trim_start_matches("serial=").to_string();
    let crl = out.join("crl.pem");
    let crl = openssl_ok(&["crl", "-in", crl.to_str().unwrap(), "-noout", "-text"]);
    assert!(crl.contains(&format!("Serial Number: {server}")), "{crl}");
    let (bc, san) = ("Basic Constraints", "Subject Alternative Name");
    let client = ["Key Usage", "Extended Key Usage"];
    for (file, want) in [
        ("ca.pem", vec![bc]),
        ("server.pem", vec![san]),
        ("expired.pem", vec![san]),
        ("client.pem", client.to_vec()),
        ("password_protected.pem", client.to_vec()),
        ("commonName.pem", vec![]),
        ("ocsp/rsa/ca.pem", vec![bc]),
        (
            "ocsp/rsa/ocsp-responder.crt",
            vec![bc, client[0], client[1]],
        ),
    ] {
        assert_eq!(extension_names(&out.join(file)), want, "{file}");
    }
}

/// The days between a certificate's notBefore and notAfter, by openssl.
fn lifetime_days(file: &Path) -> i64 {
    let text = openssl_ok(&[
        "x509",
        "-in",
        file.to_str().unwrap(),
        "-noout",
        "-startdate",
        "-enddate",
    ]);
    let at = |key: &str| {
        let line = text.lines().find_map(|l| l.strip_prefix(key)).unwrap();
        let out = Command::new("date")
            .args(["-u", "-d", line, "+%s"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .trim()
            .parse::<i64>()
            .unwrap()
    };
    (at("notAfter=") - at("notBefore=")) / 86_400
}

/// 7. The drivers' lifetimes are upstream's.
pub(crate) fn drivers_lifetimes(out: &Path) {
    assert_eq!(lifetime_days(&out.join("client.pem")), 7305);
    assert_eq!(lifetime_days(&out.join("ocsp/rsa/server.pem")), 7307);
    assert_eq!(lifetime_days(&out.join("ocsp/ecdsa/ca.pem")), 7300);
}

/// mongod's jstests properties.
pub(crate) fn mongod_properties(out: &Path) {
    // 2. mkdigest.py's files: uppercase hex of the DER of the first
    // certificate (or the CRL), no newline, beside certificates, bundles
    // and CRLs.
    for (file, kind) in [
        ("libs/ca.pem", "x509"),
        ("libs/server.pem", "x509"),
        ("libs/crl.pem", "crl"),
        ("libs/crl_client_revoked.pem", "crl"),
    ] {
        let path = out.join(file);
        let der = out.join("der.tmp");
        openssl_ok(&[
            kind,
            "-in",
            path.to_str().unwrap(),
            "-outform",
            "der",
            "-out",
            der.to_str().unwrap(),
        ]);
        for (tool, ext) in [("sha1sum", "sha1"), ("sha256sum", "sha256")] {
            let sum = Command::new(tool).arg(&der).output().unwrap();
            let hex = String::from_utf8(sum.stdout).unwrap();
            let want = hex.split_whitespace().next().unwrap().to_ascii_uppercase();
            let got = std::fs::read_to_string(out.join(format!("{file}.digest.{ext}"))).unwrap();
            assert_eq!(got, want, "{file}.digest.{ext}");
        }
        std::fs::remove_file(&der).unwrap();
    }
    // 5. The cluster members' authorityKeyIdentifier names the issuer and
    // serial, as their certs.yml entries (server.pem's extensions) do.
    for name in ["foo", "bar", "foo-alt-rdn"] {
        let file = out.join(format!("ssl/libs/cluster-member-{name}.pem"));
        let text = openssl_ok(&["x509", "-in", file.to_str().unwrap(), "-noout", "-text"]);
        let aki = text.split("Authority Key Identifier").nth(1).unwrap();
        let aki: String = aki.lines().take(4).collect::<Vec<_>>().join("\n");
        assert!(
            aki.contains("DirName:") && aki.contains("serial:"),
            "{name}: {aki}"
        );
    }
    // 7. mkcert.py's extension order (set_extensions()), and the
    // openssl-made ECDSA certificates' extfile order.
    let (bc, ku, eku, ski, aki, san) = (
        "Basic Constraints",
        "Key Usage",
        "Extended Key Usage",
        "Subject Key Identifier",
        "Authority Key Identifier",
        "Subject Alternative Name",
    );
    for (file, want) in [
        ("libs/server.pem", vec![bc, ku, eku, ski, aki, san]),
        (
            "ssl/libs/cluster-member-foo.pem",
            vec![bc, ku, eku, ski, aki, san, "1.3.6.1.4.1.34601.2.1.2"],
        ),
        (
            "libs/ocsp/server_ocsp_mustStaple.pem",
            vec![
                bc,
                ku,
                eku,
                ski,
                "Authority Information Access",
                "TLS Feature",
                san,
            ],
        ),
        ("libs/ecdsa-server.pem", vec![bc, san, ski, ku, eku, aki]),
        ("libs/client-multivalue-rdn.pem", vec![ski, aki]),
    ] {
        assert_eq!(extension_names(&out.join(file)), want, "{file}");
    }
    // 6. The root's CRLs count up, each its own number.
    let numbers: Vec<String> = [
        "libs/crl.pem",
        "libs/crl_client_revoked.pem",
        "libs/crl_expired.pem",
        "libs/crl_intermediate_ca_B_revoked.pem",
    ]
    .iter()
    .map(|f| {
        let path = out.join(f);
        openssl_ok(&["crl", "-in", path.to_str().unwrap(), "-noout", "-crlnumber"])
            .trim()
            .to_string()
    })
    .collect();
    let mut unique = numbers.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), numbers.len(), "{numbers:?}");
    // 8. What mongodb/mongo's main declares beyond 39f7c90 is there too,
    // as main's jstests read it.
    let text = |f: &str| {
        let path = out.join(f);
        openssl_ok(&["x509", "-in", path.to_str().unwrap(), "-noout", "-text"])
    };
    let eku = text("libs/client_with_serverAuth_eku.pem");
    assert!(
        eku.contains("TLS Web Server Authentication") && !eku.contains("Client Authentication"),
        "{eku}"
    );
    assert!(!text("libs/server_without_eku.pem").contains("Extended Key Usage"));
    assert!(text("libs/ocsp/server_ocsp_invalid.pem").contains("DNS:badHost"));
    assert!(!text("libs/ocsp/server_no_ocsp.pem").contains("OCSP - URI"));
    let expired = out.join("libs/trusted-server-expired.pem");
    let (valid, _) = openssl(&[
        "x509",
        "-in",
        expired.to_str().unwrap(),
        "-noout",
        "-checkend",
        "0",
    ]);
    assert!(!valid, "trusted-server-expired has expired");
    for f in [
        "libs/ldapz_x509_1.pem",
        "libs/ldapz_x509_2.pem",
        "libs/trusted-cluster-server.key",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
}
