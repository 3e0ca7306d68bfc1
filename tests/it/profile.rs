//! The issued certificate, checked with the `openssl` CLI against the
//! profile Atlas uses (and against a real Atlas certificate when present).

use crate::common::*;

/// `openssl asn1parse` skeleton of a real Atlas client certificate
/// (`atlas-issued-user389.cert.pem`): tags, OIDs, string types, extension
/// order, criticality and contents. Values that vary are left out.
/// Atlas's subject key type, which the helpers' default (ec-p256, for speed)
/// is not.
const ATLAS_KEY: &[&str] = &["--key-type", "rsa-4096"];

const ATLAS_SKELETON: &[&str] = &[
    "d=0 cons SEQUENCE",
    "d=1 cons SEQUENCE",
    "d=2 cons cont [ 0 ]",
    "d=3 prim INTEGER",
    "d=2 prim INTEGER",
    "d=2 cons SEQUENCE",
    "d=3 prim OBJECT sha256WithRSAEncryption",
    "d=3 prim NULL",
    "d=2 cons SEQUENCE",
    "d=3 cons SET",
    "d=4 cons SEQUENCE",
    "d=5 prim OBJECT commonName",
    "d=5 prim PRINTABLESTRING",
    "d=3 cons SET",
    "d=4 cons SEQUENCE",
    "d=5 prim OBJECT organizationalUnitName",
    "d=5 prim PRINTABLESTRING",
    "d=3 cons SET",
    "d=4 cons SEQUENCE",
    "d=5 prim OBJECT organizationName",
    "d=5 prim PRINTABLESTRING",
    "d=2 cons SEQUENCE",
    "d=3 prim UTCTIME",
    "d=3 prim UTCTIME",
    "d=2 cons SEQUENCE",
    "d=3 cons SET",
    "d=4 cons SEQUENCE",
    "d=5 prim OBJECT commonName",
    "d=5 prim PRINTABLESTRING",
    "d=2 cons SEQUENCE",
    "d=3 cons SEQUENCE",
    "d=4 prim OBJECT rsaEncryption",
    "d=4 prim NULL",
    "d=3 prim BIT STRING",
    "d=2 cons cont [ 3 ]",
    "d=3 cons SEQUENCE",
    "d=4 cons SEQUENCE",
    "d=5 prim OBJECT X509v3 Key Usage",
    "d=5 prim BOOLEAN 255",
    "d=5 prim OCTET STRING [HEX DUMP] 03020780",
    "d=4 cons SEQUENCE",
    "d=5 prim OBJECT X509v3 Extended Key Usage",
    "d=5 prim BOOLEAN 255",
    "d=5 prim OCTET STRING [HEX DUMP] 300A06082B06010505070302",
    "d=1 cons SEQUENCE",
    "d=2 prim OBJECT sha256WithRSAEncryption",
    "d=2 prim NULL",
    "d=1 prim BIT STRING",
];

fn lines(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn certificate_matches_the_atlas_profile() {
    let home = TestHome::new(&registry(""));
    let pem = home.issue(
        "alice",
        &[
            "--monthsUntilExpiration",
            "12",
            "--issued-at",
            "2026-08-10T03:06:35Z",
            "--key-type",
            "rsa-4096",
        ],
    );
    let p = pem.to_str().unwrap();
    let ca = home.ca_cert();
    let ca = ca.to_str().unwrap();

    // The chain verifies (the CA is newer than this back-dated certificate,
    // so times are not checked here; other tests verify current ones).
    openssl_ok(&[
        "verify",
        "-no_check_time",
        "-purpose",
        "sslclient",
        "-CAfile",
        ca,
        p,
    ]);

    // Every field of the observed profile.
    assert_eq!(der_skeleton(&pem), lines(ATLAS_SKELETON));
    let text = openssl_ok(&["x509", "-in", p, "-noout", "-text"]);
    assert!(text.contains("Version: 3 (0x2)"), "{text}");
    assert!(text.contains("Public-Key: (4096 bit)"), "{text}");
    assert!(text.contains("Exponent: 65537"), "{text}");
    assert_eq!(
        x509_field(&pem, "-issuer"),
        format!("issuer=CN = {GID}, OU = Atlas, O = MongoDB Inc")
    );
    assert_eq!(x509_field(&pem, "-subject"), "subject=CN = alice");
    assert_eq!(
        x509_field(&pem, "-startdate"),
        "notBefore=Aug 10 02:06:35 2026 GMT"
    );
    assert_eq!(
        x509_field(&pem, "-enddate"),
        "notAfter=Aug 10 03:06:35 2027 GMT"
    );
    let serial = x509_field(&pem, "-serial");
    let hex = serial.strip_prefix("serial=").unwrap();
    assert!(
        hex.len() <= 16 && hex.len().is_multiple_of(2),
        "at most 8 whole content bytes: {serial}"
    );
    assert!(
        u8::from_str_radix(&hex[..2], 16).unwrap() < 0x80,
        "positive: {serial}"
    );

    // The signature algorithm and the key size of the CA that signed it.
    assert!(text.contains("Signature Algorithm: sha256WithRSAEncryption"));
    let sig_len = openssl_ok(&["asn1parse", "-in", p])
        .lines()
        .last()
        .unwrap()
        .to_string();
    assert!(
        sig_len.contains("l= 513 prim: BIT STRING"),
        "512-byte signature: {sig_len}"
    );

    // The key in the bundle is the certificate's key, in unencrypted PKCS#8.
    let body = std::fs::read_to_string(&pem).unwrap();
    assert!(body.contains("\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\n"));
    let cert_pub = openssl_ok(&["x509", "-in", p, "-noout", "-pubkey"]);
    let key_pub = openssl_ok(&["pkey", "-in", p, "-pubout"]);
    assert_eq!(cert_pub, key_pub);
}

#[test]
fn pem_layout_is_the_atlas_response_body() {
    let home = TestHome::new(&registry(""));
    let body = std::fs::read_to_string(home.issue("bob", ATLAS_KEY)).unwrap();
    assert!(body.starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert!(body.ends_with("-----END PRIVATE KEY-----\n") && !body.ends_with("\n\n"));
    assert!(!body.contains('\r') && !body.contains("\n\n"));
    assert_eq!(
        body.matches("-----BEGIN ").count(),
        2,
        "no CA certificate in the body"
    );
    for line in body.lines().filter(|l| !l.starts_with("-----")) {
        assert!(line.len() <= 64, "64-column base64: {line}");
    }
    let full_lines = body.lines().filter(|l| l.len() == 64).count();
    assert!(full_lines > 20);
}

#[test]
fn matches_the_real_atlas_certificate_when_available() {
    let Some(reference) = shared_reference("atlas-issued-user389.cert.pem") else {
        eprintln!("../shared/reference is absent: compared with the built-in skeleton only");
        return;
    };
    // The built-in skeleton is what the real certificate has...
    assert_eq!(der_skeleton(&reference), lines(ATLAS_SKELETON));
    // ...and a certificate issued for the same user and time has it too,
    // with the same validity.
    let text = registry("").replace("username = \"bob\"", "username = \"user389\"");
    let home = TestHome::new(&text);
    let pem = home.issue(
        "user389",
        &[
            "--issued-at",
            "2026-08-10T03:06:35Z",
            "--key-type",
            "rsa-4096",
        ],
    );
    assert_eq!(der_skeleton(&pem), der_skeleton(&reference));
    for field in ["-subject", "-startdate", "-enddate"] {
        assert_eq!(x509_field(&pem, field), x509_field(&reference, field));
    }
}

#[test]
fn ca_certificate_profile() {
    let home = TestHome::without_ca(&registry(""));
    let out = home.run(&["ca", "cert"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("created a new CA"),
        "one-line note: {}",
        stderr(&out)
    );
    let pem = home.path().join("ca.pem");
    std::fs::write(&pem, &out.stdout).unwrap();
    assert_eq!(std::fs::read(home.ca_cert()).unwrap(), out.stdout);
    let p = pem.to_str().unwrap();
    let text = openssl_ok(&["x509", "-in", p, "-noout", "-text"]);
    assert!(text.contains("Public-Key: (4096 bit)"));
    assert!(text.contains("Signature Algorithm: sha256WithRSAEncryption"));
    assert!(
        text.contains("X509v3 Basic Constraints: critical\n                CA:TRUE"),
        "{text}"
    );
    assert!(
        text.contains("X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign"),
        "{text}"
    );
    assert!(text.contains("X509v3 Subject Key Identifier"), "{text}");
    assert_eq!(
        x509_field(&pem, "-subject"),
        format!("subject=CN = {GID}, OU = Atlas, O = MongoDB Inc")
    );
    assert_eq!(
        x509_field(&pem, "-issuer"),
        format!("issuer=CN = {GID}, OU = Atlas, O = MongoDB Inc")
    );
    // Self-signed and valid ten years.
    openssl_ok(&["verify", "-CAfile", p, p]);
    let (ok, _) = openssl(&[
        "x509",
        "-in",
        p,
        "-noout",
        "-checkend",
        &(9 * 366 * 86400).to_string(),
    ]);
    assert!(ok, "valid for more than 9 years");
    let (ok, _) = openssl(&[
        "x509",
        "-in",
        p,
        "-noout",
        "-checkend",
        &(3653 * 86400 + 86400).to_string(),
    ]);
    assert!(!ok, "not much beyond 10 years");

    // The issuer of a client certificate is the CA's subject, byte for byte.
    let client = home.issue("alice", &[]);
    let der = |args: &[&str]| openssl_ok(args);
    let ca_subject = der(&[
        "x509",
        "-in",
        p,
        "-noout",
        "-subject",
        "-nameopt",
        "RFC2253,dump_der,dump_all",
    ]);
    let issuer = der(&[
        "x509",
        "-in",
        client.to_str().unwrap(),
        "-noout",
        "-issuer",
        "-nameopt",
        "RFC2253,dump_der,dump_all",
    ]);
    assert_eq!(
        ca_subject.trim().trim_start_matches("subject="),
        issuer.trim().trim_start_matches("issuer=")
    );

    // Private files.
    use std::os::unix::fs::PermissionsExt;
    let key = home.path().join("projects").join(GID).join("ca.key.pem");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let dir = key.parent().unwrap();
    assert_eq!(
        std::fs::metadata(dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert!(
        std::fs::read_to_string(&key)
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
}

#[test]
fn ca_init_imports_a_key_and_refuses_to_replace_a_ca() {
    let home = TestHome::without_ca(&registry(""));
    let key = home.path().join("import.pem");
    openssl_ok(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        key.to_str().unwrap(),
    ]);
    home.ok(&[
        "ca",
        "init",
        "--projectId",
        GID,
        "--import-key",
        key.to_str().unwrap(),
    ]);
    let ca_pub = openssl_ok(&[
        "x509",
        "-in",
        home.ca_cert().to_str().unwrap(),
        "-noout",
        "-pubkey",
    ]);
    let key_pub = openssl_ok(&["pkey", "-in", key.to_str().unwrap(), "-pubout"]);
    assert_eq!(ca_pub, key_pub);
    let before = std::fs::read(home.ca_cert()).unwrap();
    let again = home.run(&["ca", "init", "--projectId", GID]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already has a CA"),
        "{}",
        stderr(&again)
    );
    assert_eq!(std::fs::read(home.ca_cert()).unwrap(), before);

    let ec = home.path().join("ec.pem");
    openssl_ok(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        ec.to_str().unwrap(),
    ]);
    let other = TestHome::without_ca(&registry(""));
    let out = other.run(&["ca", "init", "--import-key", ec.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("only RSA keys"), "{}", stderr(&out));
    assert!(
        !other
            .path()
            .join("projects")
            .join(GID)
            .join("ca.cert.pem")
            .exists()
    );
}

#[test]
fn special_usernames_are_escaped_like_openssl_and_mongodb() {
    let names = [
        r#"a,b+c="d"<e>;f\g"#,
        "#hash",
        " lead and trail ",
        "zoë 名前",
        "user@example.com",
    ];
    let mut text = registry("");
    for n in names {
        let quoted = serde_json::to_string(n).unwrap();
        text.push_str(&format!(
            "\n[[projects.databaseUsers]]\nusername = {quoted}\nx509Type = \"MANAGED\"\n"
        ));
    }
    let home = TestHome::new(&text);
    for n in names {
        let pem = home.issue(n, &[]);
        let p = pem.to_str().unwrap();
        // The RFC 2253 subject as OpenSSL (and so mongod) derives it...
        let subject = rfc2253_subject_of(&pem);
        // ...is what the list reports.
        let list = home.ok(&["dbusers", "certs", "list", n, "-o", "json"]);
        let v: serde_json::Value = serde_json::from_str(&list).unwrap();
        assert_eq!(v["results"][0]["subject"], subject.as_str(), "{n:?}");
        // The CN holds the name unchanged, in the right string type.
        let parsed = openssl_ok(&["asn1parse", "-in", p]);
        let printable = n
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " '()+,-./:=?".contains(c));
        let want = if printable {
            "PRINTABLESTRING"
        } else {
            "UTF8STRING"
        };
        let cn_line = parsed.lines().filter(|l| l.contains("d=5")).nth(7).unwrap();
        assert!(cn_line.contains(want), "{n:?}: {cn_line}");
        openssl_ok(&["verify", "-CAfile", home.ca_cert().to_str().unwrap(), p]);
    }
}
