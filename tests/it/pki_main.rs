//! The mongod set of mongodb/mongo's current main (examples/pki/
//! mongod-main.toml): what x509/mkcert.py makes of main_certs_def.bzl,
//! each property read back with `openssl` and Python's `cryptography`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;
use crate::pki_apply::apply;

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/pki/mongod-main.toml")
}

fn made() -> (TestHome, PathBuf) {
    let home = TestHome::without_ca(&registry(""));
    let out = home.path().join("x509");
    let run = apply(&home, &example(), &out, &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    (home, out)
}

/// One run of the main set, every property read back.
#[test]
fn main_s_set_is_mkcert_s() {
    let (home, out) = made();
    flat_directory(&home, &out);
    keys_extensions_and_key_ids(&out);
}

fn flat_directory(home: &TestHome, out: &Path) {
    // What it wrote is what the file says (shared keys, SEC1 keys, CRLs
    // without numbers, key ids by hash included).
    let checked = home.run(&["pki", "check", s(&example()), "--against", s(out)]);
    assert!(
        checked.status.success(),
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        stderr(&checked)
    );
    // One flat directory: 86 entries, 5 CRLs, their digests, 8 split
    // pairs and 2 .pfx files, as Bazel declares them.
    let files: Vec<_> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    assert!(files.iter().all(|e| e.file_type().unwrap().is_file()));
    assert_eq!(files.len(), 291);
    let text = |f: &str| {
        let p = out.join(f);
        openssl_ok(&[
            "x509",
            "-in",
            s(&p),
            "-noout",
            "-text",
            "-nameopt",
            "RFC2253",
        ])
    };
    // client_revoked's serial is its definition's.
    assert_eq!(serial_of(&out.join("client_revoked.pem")), 4);
    // The ECDSA keys as the static ec_*_key.pem files hold them: the
    // curve, then SEC1 (openssl reads and checks it).
    let ecdsa = std::fs::read_to_string(out.join("ecdsa-ca.pem")).unwrap();
    let labels: Vec<&str> = ecdsa
        .lines()
        .filter_map(|l| l.strip_prefix("-----BEGIN "))
        .collect();
    assert_eq!(
        labels,
        [
            "CERTIFICATE-----",
            "EC PARAMETERS-----",
            "EC PRIVATE KEY-----"
        ]
    );
    let p = out.join("ecdsa-ca.pem");
    assert!(openssl_ok(&["ecparam", "-in", s(&p), "-noout", "-text"]).contains("prime256v1"));
    openssl_ok(&["ec", "-in", s(&p), "-check", "-noout"]);
    // Subjects: C, ST, L, O, OU, CN first, the rest by OID.
    assert!(
        text("server.pem")
            .contains("Subject: CN=server,OU=Kernel,O=MongoDB,L=New York City,ST=New York,C=US"),
        "{}",
        text("server.pem")
    );
    assert!(text("client_title.pem").contains(
        "Subject: title=A Test Certificate,emailAddress=example@mongodb.com,CN=client,OU=KernelUser"
    ));
    // The CRLs: no extensions at all; upstream's "intermediate B" CRL is
    // ca.pem's and revokes ca.pem itself.
    for crl in [
        "crl.pem",
        "crl_client_revoked.pem",
        "crl_from_trusted_ca.pem",
    ] {
        let p = out.join(crl);
        let t = openssl_ok(&["crl", "-in", s(&p), "-noout", "-text"]);
        assert!(!t.contains("CRL extensions"), "{crl}: {t}");
    }
    let p = out.join("crl_intermediate_ca_B_revoked.pem");
    let t = openssl_ok(&["crl", "-in", s(&p), "-noout", "-text"]);
    let ca = out.join("ca.pem");
    let ca = openssl_ok(&["x509", "-in", s(&ca), "-noout", "-serial"]);
    let ca = format!("Serial Number: {}", ca.trim().trim_start_matches("serial="));
    assert!(t.contains(&ca), "{t}");
    // The .pfx holds the leaf and its issuer, under its file name.
    let p = out.join("trusted-server.pfx");
    let info = openssl_ok(&[
        "pkcs12",
        "-in",
        s(&p),
        "-info",
        "-nokeys",
        "-passin",
        "pass:qwerty",
    ]);
    assert_eq!(info.matches("BEGIN CERTIFICATE").count(), 2, "{info}");
    assert!(info.contains("friendlyName: trusted-server.pfx"), "{info}");
    // The static encrypted keys' PBES2: hmacWithSHA256, an 8-byte salt.
    let text = std::fs::read_to_string(out.join("client_password_protected.pem")).unwrap();
    let start = text.find("-----BEGIN ENCRYPTED PRIVATE KEY-----").unwrap();
    let key = out.join("key.tmp");
    std::fs::write(&key, &text[start..]).unwrap();
    let parsed = openssl_ok(&["asn1parse", "-in", s(&key)]);
    std::fs::remove_file(&key).unwrap();
    assert!(parsed.contains(":hmacWithSHA256"), "{parsed}");
    let salt = parsed.lines().find(|l| l.contains("OCTET STRING")).unwrap();
    assert!(salt.contains("l=   8"), "{salt}");
    // cryptography's BestAvailableEncryption: 20000 PBKDF2 rounds, the MAC
    // OpenSSL's 2048.
    assert!(info.contains("Iteration 20000"), "{info}");
    assert!(info.contains("MAC: sha256, Iteration 2048"), "{info}");
    for f in ["ca.pem", "crl.pem", "ecdsa-ocsp-responder.pem"] {
        for d in ["sha1", "sha256"] {
            assert!(out.join(format!("{f}.digest.{d}")).is_file(), "{f} {d}");
        }
    }
    let chain = out.join("intermediate-ca-chain.pem");
    let leaf = out.join("server-intermediate-ca.pem");
    openssl_ok(&["verify", "-CAfile", s(&chain), s(&leaf)]);
}

fn keys_extensions_and_key_ids(out: &Path) {
    let py = python_with(&["cryptography"]);
    let script = r#"
import sys, os
from cryptography import x509
from cryptography.hazmat.primitives import serialization as s
d = sys.argv[1]
def cert(f):
    return x509.load_pem_x509_certificates(open(os.path.join(d, f), "rb").read())[0]
def key(f, password=None):
    text = open(os.path.join(d, f), "rb").read()
    k = s.load_pem_private_key(text[text.index(b"-----BEGIN", text.index(b"END CERTIFICATE")):], password)
    return k.public_key().public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo)
# Keys shared as mkcert.py's static key files share them.
assert key("server.pem") == key("client.pem") == key("badSAN.pem")
assert key("client_password_protected.pem", b"qwerty") == key("server.pem")
assert key("ca.pem") != key("server.pem")
assert key("ecdsa-server-ocsp.pem") == key("ecdsa-ocsp-responder.pem")
# authorityKeyIdentifier: a key id alone, the SHA-1 of the issuer's key,
# though ca.pem has no subjectKeyIdentifier.
ca = cert("ca.pem")
assert not [e for e in ca.extensions if e.oid == x509.oid.ExtensionOID.SUBJECT_KEY_IDENTIFIER]
aki = cert("server.pem").extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
assert aki.key_identifier == x509.SubjectKeyIdentifier.from_public_key(ca.public_key()).digest
assert aki.authority_cert_issuer is None and aki.authority_cert_serial_number is None
own = cert("client-self-signed.pem")
aki = own.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
assert aki.key_identifier == x509.SubjectKeyIdentifier.from_public_key(own.public_key()).digest
# Each definition's extension order.
names = lambda f: [e.oid._name for e in cert(f).extensions]
assert names("badSAN.pem") == ["basicConstraints", "keyUsage", "extendedKeyUsage", "subjectAltName", "subjectKeyIdentifier"], names("badSAN.pem")
assert names("client-self-signed.pem")[:3] == ["basicConstraints", "authorityKeyIdentifier", "subjectKeyIdentifier"]
# String types: C PrintableString, emailAddress IA5String, dnQualifier
# PrintableString, the rest UTF8String.
types = {a.oid.dotted_string: a._type.name for a in cert("client-all-the-oids.pem").subject}
assert types["2.5.4.6"] == "PrintableString" and types["2.5.4.46"] == "PrintableString"
assert types["2.5.4.5"] == "PrintableString" and types["2.5.4.3"] == "UTF8String"
assert {a.oid.dotted_string: a._type.name for a in cert("client_email.pem").subject}["1.2.840.113549.1.9.1"] == "IA5String"
# Multi-valued RDNs in the definition's order, each set as DER sorts it.
rdns = [[a.oid._name for a in r] for r in cert("client-multivalue-rdn.pem").subject.rdns]
assert rdns == [["commonName", "organizationName", "organizationalUnitName"], ["countryName", "stateOrProvinceName", "localityName"]], rdns
print("ok")
"#;
    let got = Command::new(py)
        .args(["-c", script, s(out)])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&got.stdout).trim(),
        "ok",
        "{}",
        stderr(&got)
    );
}

#[test]
fn shared_keys_refuse_what_cannot_be_shared() {
    let home = TestHome::without_ca(&registry(""));
    let cases = [
        (
            "[[cert]]\nname = \"a\"\nissuer = \"self\"\nkey = \"a\"\n",
            "4:7: key names this table itself",
        ),
        (
            "[[cert]]\nname = \"a\"\nissuer = \"self\"\nkey = \"ec-p256\"\n\
             [[cert]]\nname = \"b\"\nissuer = \"a\"\nkey = \"a\"\n\
             [[cert]]\nname = \"c\"\nissuer = \"a\"\nkey = \"b\"\n",
            "12:7: key = \"b\" takes the key of a table that takes another's",
        ),
        (
            "[[cert]]\nname = \"a\"\nissuer = \"self\"\nkey = \"nope\"\n",
            "or the name of a [[cert]] table whose key this one shares",
        ),
        (
            "[[cert]]\nname = \"ec-p256\"\nissuer = \"self\"\n",
            "cannot be named \"ec-p256\": that is a key type",
        ),
        (
            "[defaults]\nkey = \"nope\"\n[[cert]]\nname = \"a\"\nissuer = \"self\"\n",
            "2:7: unknown key type \"nope\"",
        ),
        (
            "[[cert]]\nname = \"a\"\nissuer = \"self\"\nkey_format = \"sec1\"\n",
            "4:14: sec1 is for EC keys",
        ),
        (
            "[[cert]]\nname = \"a\"\nissuer = \"self\"\nkey_salt_bytes = 8\n",
            "4:18: key_salt_bytes (8 to 64) is for a key encrypted as PKCS#8",
        ),
        (
            "[[cert]]\nname = \"a\"\nissuer = \"self\"\npkcs12 = { password = \"p\", iterations = 0 }\n",
            "pkcs12 iterations: 1 to 1000000",
        ),
        (
            "[[cert]]\nname = \"a\"\nissuer = \"self\"\nauthority_key_hash = true\n\
             authority_key_issuer = true\n",
            "choose one",
        ),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let file = home.path().join(format!("bad{i}.toml"));
        std::fs::write(&file, text).unwrap();
        let out = home.path().join(format!("out{i}"));
        let run = apply(&home, &file, &out, &[]);
        assert!(!run.status.success());
        assert!(stderr(&run).contains(want), "{}", stderr(&run));
        // Only a table's own key may name a table: the defaults' error
        // does not offer it.
        if want.starts_with("2:7") {
            assert!(!stderr(&run).contains("[[cert]] table"), "{}", stderr(&run));
        }
        assert!(!out.exists(), "a refused file writes nothing");
    }
}

#[test]
fn a_renewal_keeps_a_sec1_key_and_its_curve_block() {
    let home = TestHome::without_ca(&registry(""));
    let file = home.path().join("ec.toml");
    std::fs::write(
        &file,
        "[[cert]]\nname = \"ca\"\nissuer = \"self\"\nca = true\nkey = \"ec-p256\"\n\
         key_format = \"sec1\"\n[[cert]]\nname = \"leaf\"\nissuer = \"ca\"\nkey = \"ca\"\n",
    )
    .unwrap();
    let out = home.path().join("out");
    let pubkey = |f: &str| {
        let p = out.join(f);
        openssl_ok(&["pkey", "-in", s(&p), "-pubout"])
    };
    assert!(apply(&home, &file, &out, &[]).status.success());
    let (before, serial) = (pubkey("ca.pem"), serial_of(&out.join("ca.pem")));
    // The leaf shares the CA's key, written in its own (default) form.
    assert_eq!(pubkey("leaf.pem"), before);
    assert!(
        std::fs::read_to_string(out.join("leaf.pem"))
            .unwrap()
            .contains("BEGIN PRIVATE KEY")
    );
    let renewed = apply(&home, &file, &out, &["--renew"]);
    assert!(renewed.status.success(), "{}", stderr(&renewed));
    let text = std::fs::read_to_string(out.join("ca.pem")).unwrap();
    assert!(text.contains("BEGIN EC PARAMETERS") && text.contains("BEGIN EC PRIVATE KEY"));
    assert_eq!(pubkey("ca.pem"), before);
    assert_eq!(pubkey("leaf.pem"), before);
    assert_ne!(serial_of(&out.join("ca.pem")), serial);
}

#[test]
fn shared_keys_and_crl_numbers_over_renewals_and_checks() {
    let home = TestHome::without_ca(&registry(""));
    let out = home.path().join("out");
    let file = home.path().join("p.toml");
    let write = |leaf_key: &str, ca_files: &str, numbered: bool| {
        let text = format!(
            "[[cert]]\nname = \"ca\"\nissuer = \"self\"\nca = true\nkey = \"ec-p256\"\nfiles = \"{ca_files}\"\n\
             [[cert]]\nname = \"leaf\"\nissuer = \"ca\"\nkey = \"{leaf_key}\"\n\
             [[crl]]\nname = \"crl\"\nissuer = \"ca\"\ncrl_number = {numbered}\n"
        );
        std::fs::write(&file, text).unwrap();
    };
    let check = || home.run(&["pki", "check", s(&file), "--against", s(&out)]);
    let pubkey = |f: &str| {
        let p = out.join(f);
        openssl_ok(&["x509", "-in", s(&p), "-noout", "-pubkey"])
    };
    // The key's own table writes no key file: a renewal keeps the key the
    // sharing table's file holds.
    write("ca", "cert-only", false);
    assert!(apply(&home, &file, &out, &[]).status.success());
    let key = pubkey("leaf.pem");
    assert_eq!(pubkey("ca.pem"), key);
    let crl = out.join("crl.pem");
    assert!(!openssl_ok(&["crl", "-in", s(&crl), "-noout", "-text"]).contains("CRL Number"));
    assert!(check().status.success(), "{}", stderr(&check()));
    let renewed = apply(&home, &file, &out, &["--renew"]);
    assert!(renewed.status.success(), "{}", stderr(&renewed));
    assert_eq!((pubkey("ca.pem"), pubkey("leaf.pem")), (key.clone(), key));
    // What the file now says and the directory does not hold is named.
    write("ca", "cert-only", true);
    let said = check();
    assert_eq!(said.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&said.stdout).contains("no CRL number"));
    // Two keys where the file shares one: check names it, renew refuses.
    write("ec-p256", "pem", false);
    assert!(apply(&home, &file, &out, &["--force"]).status.success());
    write("ca", "pem", false);
    let said = check();
    assert_eq!(said.status.code(), Some(1));
    let text = String::from_utf8_lossy(&said.stdout).to_string();
    assert!(text.contains("its key is not table \"ca\"'s"), "{text}");
    let before = snapshot(&out);
    let refused = apply(&home, &file, &out, &["--renew"]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("(table \"ca\"'s, whose key it shares)"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(snapshot(&out), before, "a refused renewal writes nothing");
}

#[test]
fn check_against_sees_what_renew_would_keep_or_change() {
    let home = TestHome::without_ca(&registry(""));
    let file = home.path().join("p.toml");
    let write = |text: &str| std::fs::write(&file, text).unwrap();
    let check = |dir: &Path| {
        let run = home.run(&["pki", "check", s(&file), "--against", s(dir)]);
        let said = String::from_utf8_lossy(&run.stdout).to_string();
        (run.status.code(), said)
    };
    let base = "[[cert]]\nname = \"ca\"\nissuer = \"self\"\nca = true\nkey = \"ec-p256\"\nfiles = \"none\"\n";
    // Two tables sharing the key of one that writes none: both must hold
    // it, and a split key file must be its certificate's.
    let out = home.path().join("out1");
    write(&format!(
        "{base}[[cert]]\nname = \"s1\"\nissuer = \"ca\"\nkey = \"ca\"\n\
         [[cert]]\nname = \"s2\"\nissuer = \"ca\"\nkey = \"ca\"\nfiles = \"split\"\n"
    ));
    assert!(apply(&home, &file, &out, &[]).status.success());
    assert_eq!(check(&out).0, Some(0), "{}", check(&out).1);
    let other = home.path().join("other.key");
    openssl_ok(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        s(&other),
    ]);
    std::fs::copy(&other, out.join("s2.key")).unwrap();
    let (code, said) = check(&out);
    assert_eq!(code, Some(1));
    assert!(
        said.contains("s2.key") && said.contains("the key is not its certificate's"),
        "{said}"
    );
    // A sharer's file removed: a renewal takes the key from the others.
    std::fs::remove_file(out.join("s2.key")).unwrap();
    let renewed = apply(&home, &file, &out, &["--renew"]);
    assert!(renewed.status.success(), "{}", stderr(&renewed));
    assert_eq!(check(&out).0, Some(0), "{}", check(&out).1);
    // An encrypted key written with other PBES2 parameters than the file
    // now asks: check names it, a renewal writes it anew.
    let out = home.path().join("out2");
    let encrypted = |salt: u32| {
        format!(
            "{base}[[cert]]\nname = \"leaf\"\nissuer = \"ca\"\nkey_password = \"pw\"\nkey_salt_bytes = {salt}\n"
        )
    };
    write(&encrypted(8));
    assert!(apply(&home, &file, &out, &[]).status.success());
    write(&encrypted(32));
    let (code, said) = check(&out);
    assert_eq!(code, Some(1));
    assert!(said.contains("a 32-byte salt"), "{said}");
    assert!(apply(&home, &file, &out, &["--renew"]).status.success());
    assert_eq!(check(&out).0, Some(0), "{}", check(&out).1);
    // A .pfx opens with the file's password and holds the chain it asks.
    let out = home.path().join("out4");
    let pfx = |chain: &str, password: &str| {
        format!(
            "{base}[[cert]]\nname = \"leaf\"\nissuer = \"ca\"\n\
             pkcs12 = {{ password = \"{password}\", chain = [{chain}] }}\n"
        )
    };
    write(&pfx("\"ca\"", "pw"));
    assert!(apply(&home, &file, &out, &[]).status.success());
    assert_eq!(check(&out).0, Some(0), "{}", check(&out).1);
    write(&pfx("", "pw"));
    assert!(
        check(&out).1.contains("leaf.pfx: its chain"),
        "{}",
        check(&out).1
    );
    write(&pfx("\"ca\"", "other"));
    let said = check(&out).1;
    assert!(
        said.contains("does not open with the file's pkcs12 password"),
        "{said}"
    );
    // SEC1 needs its curve's block right before the key.
    let out = home.path().join("out3");
    write("[[cert]]\nname = \"ec\"\nissuer = \"self\"\nkey = \"ec-p256\"\nkey_format = \"sec1\"\n");
    assert!(apply(&home, &file, &out, &[]).status.success());
    let ec = out.join("ec.pem");
    let pem = std::fs::read_to_string(&ec).unwrap();
    let start = pem.find("-----BEGIN EC PARAMETERS-----").unwrap();
    let end = pem.find("-----BEGIN EC PRIVATE KEY-----").unwrap();
    std::fs::write(&ec, format!("{}{}", &pem[..start], &pem[end..])).unwrap();
    let (code, said) = check(&out);
    assert_eq!(code, Some(1));
    assert!(
        said.contains("no EC PARAMETERS block right before the key"),
        "{said}"
    );
}
