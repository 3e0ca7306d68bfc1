//! `pki apply`: the drivers' test PKI from the shipped example, checked
//! with the openssl CLI and Python's `ssl` (neither written here); a bad
//! file or an existing output refuses the run and writes nothing.

use std::path::{Path, PathBuf};

use crate::common::*;

pub(crate) fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/pki/drivers-x509gen.toml")
}

pub(crate) fn apply(
    home: &TestHome,
    file: &Path,
    out: &Path,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec![
        "pki",
        "apply",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    home.run(&args)
}

/// The hex dump of the value of extension `oid` in `pem`, from
/// `openssl asn1parse`.
pub(crate) fn extension_hex(pem: &Path, oid: &str) -> String {
    let parsed = openssl_ok(&["asn1parse", "-in", pem.to_str().unwrap()]);
    let mut lines = parsed.lines().skip_while(|l| !l.contains(oid));
    lines
        .next()
        .unwrap_or_else(|| panic!("{oid} not in {parsed}"));
    let value = lines.next().unwrap();
    value
        .rsplit_once("[HEX DUMP]:")
        .map(|(_, h)| h.to_string())
        .unwrap_or_default()
}

/// `openssl verify -crl_check` of `cert` under `ca` with `crl`.
pub(crate) fn crl_verify(ca: &str, crl: &str, cert: &str) -> (bool, String) {
    openssl(&["verify", "-crl_check", "-CAfile", ca, "-CRLfile", crl, cert])
}

#[test]
fn a_bad_file_or_an_existing_output_writes_nothing() {
    // No registry at all: a test PKI alone needs no home.
    let home = TestHome::without_ca(&registry(""));
    std::fs::remove_file(home.path().join("users.toml")).unwrap();
    let out = home.path().join("never");
    let bad = home.path().join("bad.toml");
    for (text, needle) in [
        (
            "[[cert]]\nname = \"a\"\nissuer = \"nobody\"\n",
            "bad.toml:3:",
        ),
        (
            "[[cert]]\nname = \"a\"\nissuer = \"self\"\nsubject = \"XYZ=1\"\n",
            "bad.toml:4:",
        ),
        (
            "[[cert]]\nname = \"a\"\nissuer = \"self\"\nextended_key_usage = [\"cRLSign\"]\n",
            "not an extended key usage",
        ),
        (
            "[[cert]]\nname = \"a\"\nissuer = \"self\"\nfiles = \"cert-only\"\nkey_password = \"p\"\n",
            "whose key is not written",
        ),
        (
            "[[cert]]\nname = \"../a\"\nissuer = \"self\"\n",
            "it names files",
        ),
        (
            "[[cert]]\nname = \"a\"\nfile = \"x/../../a\"\nissuer = \"self\"\n",
            "bad.toml:3:",
        ),
        (
            "[[cert]]\nname = \"a\"\nissuer = \"self\"\nkey_format = \"pkcs1\"\nkey_password = \"p\"\n",
            "an encrypted PKCS#1 key is key_encryption",
        ),
        (
            "[[cert]]\nname = \"a\"\nissuer = \"self\"\nkey = \"ec-p256\"\nkey_format = \"pkcs1\"\n",
            "pkcs1 is for RSA keys",
        ),
        (
            "[[cert]]\nname = \"a\"\nissuer = \"self\"\n[[bundle]]\nname = \"b\"\ncerts = [\"a\"]\nkey_password = \"p\"\n",
            "whose key is not written",
        ),
        (
            "[[cert]]\nname = \"a\"\nissuer = \"self\"\n[[bundle]]\nname = \"b\"\nfile = \"a\"\ncerts = [\"a\"]\n",
            "a.pem is written by \"a\" already",
        ),
        (
            "[[cert]]\nname = \"a\"\nissuer = \"self\"\n[[bundle]]\nname = \"b\"\n",
            "a bundle holds certificates, a key, or both",
        ),
    ] {
        std::fs::write(&bad, text).unwrap();
        let run = apply(&home, &bad, &out, &[]);
        assert!(!run.status.success(), "{text}");
        assert!(stderr(&run).contains(needle), "{text}: {}", stderr(&run));
        assert!(!out.exists(), "{text}: wrote something");
        // `pki check` says the same, and makes nothing either.
        let checked = home.run(&["pki", "check", bad.to_str().unwrap()]);
        assert!(
            !checked.status.success() && stderr(&checked).contains(needle),
            "{}",
            stderr(&checked)
        );
    }
    // A directory of the output that is a link is never written through.
    let elsewhere = home.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let linked = home.path().join("linked");
    std::fs::create_dir(&linked).unwrap();
    std::os::unix::fs::symlink(&elsewhere, linked.join("sub")).unwrap();
    std::fs::write(
        &bad,
        "[[cert]]\nname = \"a\"\nfile = \"sub/a\"\nissuer = \"self\"\nkey = \"ec-p256\"\n",
    )
    .unwrap();
    let run = apply(&home, &bad, &linked, &[]);
    assert!(stderr(&run).contains("symbolic link"), "{}", stderr(&run));
    assert_eq!(
        std::fs::read_dir(&elsewhere).unwrap().count(),
        0,
        "nothing through the link"
    );
    // An existing file in a subdirectory: refused before any directory or
    // file is made.
    let drivers = home.path().join("drivers");
    std::fs::create_dir_all(drivers.join("ocsp/rsa")).unwrap();
    std::fs::write(drivers.join("ocsp/rsa/server.pem"), "mine").unwrap();
    let run = apply(&home, &example(), &drivers, &[]);
    assert!(stderr(&run).contains("already exists"), "{}", stderr(&run));
    assert_eq!(
        files_under(&drivers),
        ["ocsp/rsa/server.pem"],
        "nothing added"
    );
    let dirs = |d: &Path| std::fs::read_dir(d).unwrap().count();
    assert_eq!(
        (dirs(&drivers), dirs(&drivers.join("ocsp"))),
        (1, 1),
        "no directory made"
    );
    // An existing file: refused whole without --force, replaced with it.
    let good = home.path().join("good.toml");
    std::fs::write(&good, "[[cert]]\nname = \"a\"\nissuer = \"self\"\nca = true\nkey = \"ec-p256\"\n[[cert]]\nname = \"b\"\nissuer = \"a\"\nkey = \"ec-p256\"\n").unwrap();
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("b.pem"), "mine").unwrap();
    let run = apply(&home, &good, &out, &[]);
    assert!(stderr(&run).contains("already exists"), "{}", stderr(&run));
    assert!(!out.join("a.pem").exists(), "nothing written");
    assert_eq!(std::fs::read_to_string(out.join("b.pem")).unwrap(), "mine");
    let checked = home.ok(&["pki", "check", good.to_str().unwrap()]);
    assert!(
        checked.ends_with(": 2 certificates, 0 of Atlas's, 0 CRLs, 0 bundles\n"),
        "{checked}"
    );
    let run = apply(&home, &good, &out, &["--force"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let (ok, text) = openssl(&[
        "verify",
        "-CAfile",
        out.join("a.pem").to_str().unwrap(),
        out.join("b.pem").to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
}

#[test]
fn crls_by_intermediates_and_expired_crls() {
    let home = TestHome::without_ca(&registry(""));
    let out = home.path().join("pki");
    let file = home.path().join("chain.toml");
    std::fs::write(
        &file,
        r#"
[defaults]
key = "ec-p256"

[[cert]]
name = "root"
issuer = "self"
subject = "CN=root"
ca = true
files = "cert-only"

[[cert]]
name = "intermediate"
issuer = "root"
subject = "CN=intermediate"
ca = true
pathlen = 0
files = "cert-only"

[[cert]]
name = "leaf"
issuer = "intermediate"
subject = "CN=leaf,O=Acme"
extended_key_usage = ["clientAuth"]
append = ["intermediate"]

[[crl]]
name = "intermediate-crl"
issuer = "intermediate"
revoked = ["leaf"]

[[crl]]
name = "root-crl-expired"
issuer = "root"
this_update = "-60d"
next_update = "-30d"

[[crl]]
name = "root-crl"
issuer = "root"

[[cert]]
name = "ed-root"
issuer = "self"
key = "ed25519"
subject = "CN=ed25519 root"
ca = true
files = "cert-only"

[[cert]]
name = "ed-leaf"
issuer = "ed-root"
key = "ed25519"
subject = "CN=ed25519 leaf"

[[crl]]
name = "ed-crl"
issuer = "ed-root"
revoked = ["ed-leaf"]
"#,
    )
    .unwrap();
    let run = apply(&home, &file, &out, &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    let p = |n: &str| out.join(n).to_str().unwrap().to_string();
    let verify = |crls: &[&str]| {
        let mut args = vec![
            "verify".to_string(),
            "-crl_check_all".into(),
            "-CAfile".into(),
            p("root.pem"),
        ];
        args.extend(["-untrusted".into(), p("intermediate.pem")]);
        for c in crls {
            args.extend(["-CRLfile".into(), p(c)]);
        }
        args.push(p("leaf.pem"));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        openssl(&args)
    };
    let (ok, text) = verify(&["root-crl.pem", "intermediate-crl.pem"]);
    assert!(!ok && text.contains("certificate revoked"), "{text}");
    // The intermediate checked against the expired root CRL alone.
    let (ok, text) = crl_verify(
        &p("root.pem"),
        &p("root-crl-expired.pem"),
        &p("intermediate.pem"),
    );
    assert!(!ok && text.contains("CRL has expired"), "{text}");
    let (ok, text) = crl_verify(&p("root.pem"), &p("root-crl.pem"), &p("intermediate.pem"));
    assert!(ok, "{text}");
    let (ok, text) = openssl(&[
        "verify",
        "-CAfile",
        &p("root.pem"),
        "-untrusted",
        &p("intermediate.pem"),
        &p("leaf.pem"),
    ]);
    assert!(ok, "without CRLs the chain holds: {text}");
    // Ed25519 signs certificates and CRLs alike.
    let (ok, text) = openssl(&["verify", "-CAfile", &p("ed-root.pem"), &p("ed-leaf.pem")]);
    assert!(ok, "{text}");
    let (ok, text) = crl_verify(&p("ed-root.pem"), &p("ed-crl.pem"), &p("ed-leaf.pem"));
    assert!(!ok && text.contains("certificate revoked"), "{text}");
    let (ok, text) = openssl(&[
        "crl",
        "-in",
        &p("ed-crl.pem"),
        "-CAfile",
        &p("ed-root.pem"),
        "-noout",
    ]);
    assert!(ok, "the Ed25519 CRL's signature verifies: {text}");
    let listed = openssl_ok(&["crl", "-in", &p("intermediate-crl.pem"), "-noout", "-text"]);
    assert!(
        listed.contains("Issuer: CN = intermediate") && listed.contains("Serial Number"),
        "{listed}"
    );
}

#[test]
fn atlas_certificates_in_a_pki_file_are_certs_creates_and_recorded() {
    let home = TestHome::new(&registry("maxCertsPerUser = 1"));
    let out = home.path().join("mixed");
    let file = home.path().join("mixed.toml");
    let text = |extra: &str| {
        format!(
            "[[cert]]\nname = \"root\"\nissuer = \"self\"\nca = true\nkey = \"ec-p256\"\n\n\
             [[cert]]\nname = \"alice-atlas\"\nissuer = \"atlas\"\nproject = \"{GID}\"\n\
             username = \"alice\"\nmonths = 6\nkey = \"ec-p256\"\n{extra}"
        )
    };
    // Refused before anything is recorded: a second one over the limit,
    // fields an Atlas certificate does not take, two projects.
    let before = ledger_rows(home.path());
    for (extra, needle) in [
        (
            format!(
                "\n[[cert]]\nname = \"again\"\nissuer = \"atlas\"\nproject = \"{GID}\"\nusername = \"alice\"\nkey = \"ec-p256\"\n"
            ),
            "ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED",
        ),
        (
            "san = [\"DNS:x\"]\n".to_string(),
            "takes project, username, months and key only",
        ),
        (
            format!(
                "\n[[cert]]\nname = \"other\"\nissuer = \"atlas\"\nproject = \"{OTHER_GID}\"\nusername = \"alice\"\n"
            ),
            "of one project",
        ),
    ] {
        std::fs::write(&file, text(&extra)).unwrap();
        let run = apply(&home, &file, &out, &[]);
        assert!(!run.status.success(), "{extra}");
        assert!(stderr(&run).contains(needle), "{extra}: {}", stderr(&run));
        assert!(!out.exists(), "{extra}: wrote something");
        assert_eq!(
            ledger_rows(home.path()),
            before,
            "{extra}: recorded something"
        );
    }

    std::fs::write(&file, text("")).unwrap();
    let run = apply(&home, &file, &out, &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    let pem = out.join("alice-atlas.pem");
    let (ok, text) = openssl(&[
        "verify",
        "-CAfile",
        home.ca_cert().to_str().unwrap(),
        pem.to_str().unwrap(),
    ]);
    assert!(ok, "signed by the project's CA: {text}");
    let shown = openssl_ok(&["x509", "-in", pem.to_str().unwrap(), "-noout", "-text"]);
    assert!(shown.contains("Subject: CN = alice"), "{shown}");
    assert!(
        shown.contains("X509v3 Key Usage: critical")
            && shown.contains("TLS Web Client Authentication"),
        "{shown}"
    );
    // On record, as certs create's would be: listed, and counting against
    // the limit.
    let listed = home.list_json("alice", &[]);
    assert_eq!(listed["totalCount"], 1, "{listed}");
    let id = listed["results"][0]["_id"].to_string();
    assert_eq!(
        id.trim_matches('"'),
        serial_of(&pem).to_string(),
        "{listed}"
    );
    let refused = home.create("alice", &["--key-type", "ec-p256"]);
    assert!(
        stderr(&refused).contains("ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED"),
        "{}",
        stderr(&refused)
    );
    // The test PKI's own certificates are not Atlas's: nothing else recorded.
    assert_eq!(ledger_rows(home.path()).len(), before.len() + 1);
}

/// mongod's own rendering of certs.yml's client-all-the-oids subject
/// (mongodb/mongo jstests/ssl/x509_all_the_oids.js).
pub(crate) const ALL_THE_OIDS: &str = "role=Datum-72,pseudonym=Datum-65,dmdName=Datum-54,deltaRevocationList=Datum-53,supportedAlgorithms=Datum-52,houseIdentifier=Datum-51,uniqueMember=Datum-50,distinguishedName=Datum-49,protocolInformation=Datum-48,enhancedSearchGuide=Datum-47,dnQualifier=Datum-46,x500UniqueIdentifier=Datum-45,generationQualifier=Datum-44,initials=Datum-43,GN=Datum-42,name=Datum-41,crossCertificatePair=Datum-40,certificateRevocationList=Datum-39,authorityRevocationList=Datum-38,cACertificate=Datum-37,userCertificate=Datum-36,userPassword=Datum-35,seeAlso=Datum-34,roleOccupant=Datum-33,owner=Datum-32,member=Datum-31,supportedApplicationContext=Datum-30,presentationAddress=Datum-29,preferredDeliveryMethod=Datum-28,destinationIndicator=Datum-27,registeredAddress=Datum-26,internationaliSDNNumber=Datum-25,x121Address=Datum-24,facsimileTelephoneNumber=Datum-23,teletexTerminalIdentifier=Datum-22,telexNumber=Datum-21,telephoneNumber=Datum-20,physicalDeliveryOfficeName=Datum-19,postOfficeBox=Datum-18,postalCode=Datum-17,postalAddress=Datum-16,businessCategory=Datum-15,searchGuide=Datum-14,description=Datum-13,title=Datum-12,OU=Datum-11,O=Datum-10,street=Datum-9,ST=NY,L=Datum-7,C=US,serialNumber=Datum-5,SN=Datum-4,CN=Datum-3";

#[test]
fn keys_take_every_encoding_a_suite_loads() {
    let home = TestHome::without_ca(&registry(""));
    let file = home.path().join("keys.toml");
    std::fs::write(
        &file,
        "[[cert]]\nname = \"ca\"\nissuer = \"self\"\nca = true\nfiles = \"none\"\n\
         [[cert]]\nname = \"legacy\"\nissuer = \"ca\"\nkey_password = \"qwerty\"\nkey_encryption = \"pkcs1\"\n\
         [[cert]]\nname = \"clear\"\nissuer = \"ca\"\nkey_format = \"pkcs1\"\nfiles = \"split\"\n\
         [[bundle]]\nname = \"ca-only\"\ncerts = [\"ca\"]\n",
    )
    .unwrap();
    let out = home.path().join("k");
    let run = apply(&home, &file, &out, &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap();
    let legacy = read("legacy.pem");
    assert!(
        legacy.contains("Proc-Type: 4,ENCRYPTED") && legacy.contains("DEK-Info: AES-256-CBC"),
        "{legacy}"
    );
    let path = out.join("legacy.pem");
    let (ok, _) = openssl(&[
        "rsa",
        "-in",
        path.to_str().unwrap(),
        "-passin",
        "pass:qwerty",
        "-noout",
        "-check",
    ]);
    assert!(ok, "opens with its password");
    assert!(read("clear.key").starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    // files = "none": the CA's only file is the bundle.
    assert!(!out.join("ca.pem").exists());
    assert!(!read("ca-only.pem").contains("PRIVATE KEY"));
}
