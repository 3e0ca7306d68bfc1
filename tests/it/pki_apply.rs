//! `pki apply`: the drivers' test PKI from the shipped example, checked
//! with the openssl CLI and Python's `ssl` (neither written here); a bad
//! file or an existing output refuses the run and writes nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/pki/drivers-x509gen.toml")
}

fn apply(home: &TestHome, file: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
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
fn extension_hex(pem: &Path, oid: &str) -> String {
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
fn crl_verify(ca: &str, crl: &str, cert: &str) -> (bool, String) {
    openssl(&["verify", "-crl_check", "-CAfile", ca, "-CRLfile", crl, cert])
}

#[test]
fn the_drivers_set_is_what_drivers_load() {
    let home = TestHome::without_ca(&registry(""));
    let out = home.path().join("x509gen");
    let run = apply(&home, &example(), &out, &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    let f = |name: &str| out.join(name);
    let s = |name: &str| f(name).to_str().unwrap().to_string();
    let ca = s("ca.pem");

    // Chains verify; the expired one fails for that reason alone.
    for leaf in [
        "server.pem",
        "client.pem",
        "wild.pem",
        "altname.pem",
        "extra/client_roles.pem",
    ] {
        let (ok, text) = openssl(&["verify", "-CAfile", &ca, &s(leaf)]);
        assert!(ok, "{leaf}: {text}");
    }
    let (ok, text) = openssl(&["verify", "-CAfile", &ca, &s("expired.pem")]);
    assert!(!ok && text.contains("expired"), "{text}");
    let (ok, text) = openssl(&[
        "verify",
        "-CAfile",
        &s("ocsp/ecdsa/ca.pem"),
        &s("ocsp/ecdsa/server-mustStaple.pem"),
    ]);
    assert!(ok, "{text}");

    // A TLS handshake between openssl's s_server and s_client, each
    // verifying the other's certificate; a client from another root fails.
    let (ok, log) = openssl_handshake(&f("server.pem"), &f("ca.pem"), &f("client.pem"), None);
    assert!(ok, "{log}");
    let (ok, log) = openssl_handshake(
        &f("server.pem"),
        &f("ca.pem"),
        &f("ocsp/rsa/server.pem"),
        None,
    );
    assert!(!ok, "a client of another CA got through: {log}");

    // The CRL revokes the server, and only it.
    let crl = s("crl.pem");
    let (ok, text) = crl_verify(&ca, &crl, &s("server.pem"));
    assert!(!ok && text.contains("certificate revoked"), "{text}");
    let (ok, text) = crl_verify(&ca, &crl, &s("client.pem"));
    assert!(ok, "{text}");

    // Extensions as openssl reads them.
    let server = openssl_ok(&["x509", "-in", &s("server.pem"), "-noout", "-text"]);
    assert!(
        server.contains("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"),
        "{server}"
    );
    // drivers-evergreen-tools' servers carry a subjectAltName and nothing
    // else; their names put CN first in the certificate.
    assert_eq!(
        server.matches("X509v3 ").count(),
        2,
        "extensions and SAN only: {server}"
    );
    assert!(server.contains("Subject: CN = localhost, OU = Drivers, O = MongoDB, L = New York City, ST = New York, C = US"), "{server}");
    let plain = openssl_ok(&["x509", "-in", &s("wrong-host.pem"), "-noout", "-text"]);
    assert!(!plain.contains("X509v3 extensions"), "{plain}");
    let staple = openssl_ok(&[
        "x509",
        "-in",
        &s("ocsp/rsa/server-mustStaple.pem"),
        "-noout",
        "-text",
    ]);
    assert!(
        staple.contains("TLS Feature:") && staple.contains("status_request"),
        "{staple}"
    );
    assert!(
        staple.contains(
            "OCSP - URI:http://localhost:9001/power/level\n                OCSP - URI:http://localhost:8100/status"
        ),
        "both addresses, the mock's second: {staple}"
    );
    let responder = openssl_ok(&[
        "x509",
        "-in",
        &s("ocsp/rsa/ocsp-responder.crt"),
        "-noout",
        "-text",
    ]);
    assert!(responder.contains("OCSP Signing"), "{responder}");

    // MongoDB's own extensions, byte for byte as mongod's files carry them.
    let roles = extension_hex(&f("extra/client_roles.pem"), "1.3.6.1.4.1.34601.2.1.1");
    assert_eq!(
        roles,
        "312B300F0C066261636B75700C0561646D696E30180C0F72656164416E7944617461626173650C0561646D696E"
    );
    let member = extension_hex(
        &f("extra/cluster-member-foo.pem"),
        "1.3.6.1.4.1.34601.2.1.2",
    );
    assert_eq!(member, "0C03666F6F");

    // Key encodings and passwords.
    for (file, password, cipher) in [
        ("client-pkcs8-encrypted.pem", "password", "des-ede3-cbc"),
        ("password_protected.pem", "qwerty", "aes-128-cbc"),
    ] {
        let (ok, _) = openssl(&[
            "pkey",
            "-in",
            &s(file),
            "-passin",
            &format!("pass:{password}"),
            "-noout",
        ]);
        assert!(ok, "{file} opens with its password");
        let (ok, _) = openssl(&["pkey", "-in", &s(file), "-passin", "pass:wrong", "-noout"]);
        assert!(!ok, "{file} needs its password");
        // The key block alone: asn1parse reads the first PEM block only.
        let text = std::fs::read_to_string(f(file)).unwrap();
        let key = &text[text.find("-----BEGIN ENCRYPTED PRIVATE KEY-----").unwrap()..];
        let key_file = home.path().join(format!("{file}.key"));
        std::fs::write(&key_file, key).unwrap();
        let parsed = openssl_ok(&["asn1parse", "-in", key_file.to_str().unwrap()]);
        assert!(
            parsed.contains("PBES2") && parsed.contains(cipher),
            "{file}: {parsed}"
        );
    }
    let (ok, info) = openssl(&[
        "pkcs12",
        "-in",
        &s("extra/trusted-client.pfx"),
        "-passin",
        "pass:qwerty",
        "-info",
        "-nokeys",
    ]);
    assert!(
        ok && info.contains("friendlyName: trusted-client"),
        "{info}"
    );
    assert!(
        !std::fs::read_to_string(f("ca.pem"))
            .unwrap()
            .contains("PRIVATE KEY"),
        "the CA's key is not written"
    );
    drop_in_checks(&out);

    // Python's ssl, as a driver loads them.
    let script = r#"
import ssl, sys
d = sys.argv[1]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(d + "/ca.pem")
ctx.load_cert_chain(d + "/client-pkcs8-encrypted.pem", password="password")
ctx.load_cert_chain(d + "/password_protected.pem", password="qwerty")
ctx.load_cert_chain(d + "/client.pem")
# A handshake: the server certificate for localhost, the client's
# certificate required and verified by the same CA.
import socket, threading
server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
server.load_cert_chain(d + "/server.pem")
server.load_verify_locations(d + "/ca.pem")
server.verify_mode = ssl.CERT_REQUIRED
a, b = socket.socketpair()
seen = {}
def serve():
    with server.wrap_socket(a, server_side=True) as s:
        seen["client"] = dict(x[0] for x in s.getpeercert()["subject"])["commonName"]
        s.sendall(b"ok")
t = threading.Thread(target=serve)
t.start()
with ctx.wrap_socket(b, server_hostname="localhost") as c:
    assert c.recv(2) == b"ok"
t.join()
print("loaded", seen["client"])
"#;
    let loaded = script_ok(Command::new("python3").args(["-c", script, out.to_str().unwrap()]));
    assert_eq!(loaded.trim(), "loaded client");
}

/// The kinds of the PEM blocks of `file`, in order (`CERTIFICATE`, ...).
fn pem_blocks(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("-----BEGIN ")?.strip_suffix("-----"))
        .map(String::from)
        .collect()
}

/// What a driver's suite relies on in drivers-evergreen-tools' files,
/// stated here as that repository has them: the X.509 user name drivers
/// hard-code, the CA's subject hash (its `82e9b7a6.0` link), each file's
/// PEM blocks in order, one key shared by the client's five files, and
/// the OCSP sets under ocsp/rsa and ocsp/ecdsa.
fn drop_in_checks(out: &Path) {
    let s = |name: &str| out.join(name).to_str().unwrap().to_string();
    assert_eq!(
        mongod_name_of(&out.join("client.pem")),
        "C=US,ST=New York,L=New York City,O=MDB,OU=Drivers,CN=client"
    );
    let hash = openssl_ok(&["x509", "-in", &s("ca.pem"), "-noout", "-hash"]);
    assert_eq!(hash.trim(), "82e9b7a6");
    let (rsa, cert, pkcs8, encrypted) = (
        "RSA PRIVATE KEY",
        "CERTIFICATE",
        "PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
    );
    for (name, expected) in [
        ("ca.pem", vec![cert]),
        ("server.pem", vec![rsa, cert]),
        ("client.pem", vec![rsa, cert]),
        ("client-pkcs8-unencrypted.pem", vec![pkcs8, cert]),
        ("client-pkcs8-encrypted.pem", vec![encrypted, cert]),
        ("client-private.pem", vec![rsa]),
        ("client-public.pem", vec![cert]),
        ("password_protected.pem", vec![encrypted, cert]),
        ("altname.pem", vec![rsa, cert]),
        ("wild.pem", vec![rsa, cert]),
        ("commonName.pem", vec![rsa, cert]),
        ("wrong-host.pem", vec![rsa, cert]),
        ("expired.pem", vec![rsa, cert]),
        ("crl.pem", vec!["X509 CRL"]),
        ("ocsp/rsa/ca.pem", vec![cert, pkcs8]),
        ("ocsp/rsa/ca.crt", vec![cert]),
        ("ocsp/rsa/ca.key", vec![pkcs8]),
        ("ocsp/rsa/ocsp-responder.crt", vec![cert]),
        ("ocsp/rsa/ocsp-responder.key", vec![pkcs8]),
        ("ocsp/rsa/server.pem", vec![cert, pkcs8]),
        ("ocsp/rsa/server-mustStaple.pem", vec![cert, pkcs8]),
        ("ocsp/rsa/server-singleEndpoint.pem", vec![cert, pkcs8]),
        (
            "ocsp/rsa/server-mustStaple-singleEndpoint.pem",
            vec![cert, pkcs8],
        ),
        ("ocsp/ecdsa/ca.pem", vec![cert, pkcs8]),
        ("ocsp/ecdsa/ocsp-responder.crt", vec![cert]),
        ("ocsp/ecdsa/server.pem", vec![cert, pkcs8]),
        (
            "ocsp/ecdsa/server-mustStaple-singleEndpoint.pem",
            vec![cert, pkcs8],
        ),
    ] {
        assert_eq!(pem_blocks(&out.join(name)), expected, "{name}");
    }
    // One key and one certificate in the client's files.
    let modulus = |name: &str, args: &[&str]| {
        let path = s(name);
        let mut all = vec!["rsa", "-in", path.as_str(), "-noout", "-modulus"];
        all.extend(args);
        openssl_ok(&all)
    };
    let key = modulus("client-private.pem", &[]);
    assert_eq!(modulus("client.pem", &[]), key);
    assert_eq!(modulus("client-pkcs8-unencrypted.pem", &[]), key);
    assert_eq!(
        modulus("client-pkcs8-encrypted.pem", &["-passin", "pass:password"]),
        key
    );
    let cert_modulus = openssl_ok(&["x509", "-in", &s("client-public.pem"), "-noout", "-modulus"]);
    assert_eq!(cert_modulus, key);
    // The OCSP sets: the subjects and the key types the mock expects.
    for (name, subject, key) in [
        (
            "ocsp/rsa/ca.pem",
            "CN=Kernel Test CA,OU=Kernel,O=MongoDB,L=New York City,ST=New York,C=US",
            "rsaEncryption",
        ),
        (
            "ocsp/rsa/server.pem",
            "L=OCSP-1,ST=NY,C=US,CN=localhost,OU=Kernel,O=MongoDB",
            "rsaEncryption",
        ),
        (
            "ocsp/rsa/ocsp-responder.crt",
            "L=OCSP-3,ST=NY,C=US,CN=localhost,OU=Kernel,O=MongoDB",
            "rsaEncryption",
        ),
        (
            "ocsp/ecdsa/ca.pem",
            "CN=Kernel Test ESCDA CA,OU=Kernel,O=MongoDB,L=New York City,ST=New York,C=US",
            "id-ecPublicKey",
        ),
        (
            "ocsp/ecdsa/server.pem",
            "CN=server,OU=Kernel,O=MongoDB,L=New York City,ST=New York,C=US",
            "id-ecPublicKey",
        ),
    ] {
        assert_eq!(mongod_name_of(&out.join(name)), subject, "{name}");
        let text = openssl_ok(&["x509", "-in", &s(name), "-noout", "-text"]);
        assert!(text.contains(key), "{name}: {key}");
    }
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
fn the_mongod_set_has_every_kind_certs_yml_has() {
    let home = TestHome::without_ca(&registry(""));
    let out = home.path().join("jstests");
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/pki/mongod-jstests.toml");
    let run = apply(&home, &file, &out, &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    let s = |name: &str| out.join(name).to_str().unwrap().to_string();
    let subject = |name: &str| mongod_name_of(&out.join(name));
    // mongod's own test logs in as exactly this name.
    assert!(
        subject("libs/client_utf8.pem")
            .starts_with("CN=\\D0\\9A\\D0\\B0\\D0\\BB\\D0\\BE\\D1\\8F\\D0\\BD,OU=Kernel Users"),
        "{}",
        subject("libs/client_utf8.pem")
    );
    assert_eq!(
        subject("libs/client_escape.pem"),
        "CN=Test,OU=Escape,O=\\;\\ ,L=\\ \\>,ST=\\\"\\\\\\<,C=\\,\\+"
    );
    assert_eq!(
        subject("libs/client-multivalue-rdn.pem"),
        "L=New York City+ST=New York+C=US,OU=KernelUser+O=MongoDB+CN=client"
    );
    // The defaults merged as mkcert.py merges them: the certificate's OU
    // replaces the default one; certs.yml's OCSP names keep its order.
    assert_eq!(
        subject("libs/client.pem"),
        "CN=client,OU=KernelUser,O=MongoDB,L=New York City,ST=New York,C=US"
    );
    assert_eq!(
        subject("libs/ocsp/server_ocsp.pem"),
        "L=OCSP-1,ST=NY,C=US,CN=localhost,OU=Kernel,O=MongoDB"
    );
    // Every directory certs.yml writes to.
    for file in [
        "libs/ocsp/ocsp_responder.crt",
        "ssl/libs/cluster-member-foo.pem",
        "ssl/libs/localhost-cn-with-san.pem",
        "ssl/x509/trusted-client-testdb-roles.pem",
        "ssl/x509/root-and-trusted-ca.pem",
        "libs/crl_from_intermediate_ca_B.pem",
        "libs/splithorizon-server.pem",
        "libs/tenant_migration_donor.pem",
    ] {
        assert!(out.join(file).is_file(), "{file}");
    }
    // The name mongod's x509_all_the_oids.js expects for this certificate.
    assert_eq!(subject("libs/client-all-the-oids.pem"), ALL_THE_OIDS);
    assert!(subject("libs/client-custom-oids.pem").starts_with("1.2.3.45=#"));
    assert_eq!(subject("libs/server_no_subject.pem"), "");
    let no_subject = openssl_ok(&[
        "x509",
        "-in",
        &s("libs/server_no_subject.pem"),
        "-noout",
        "-text",
    ]);
    assert!(
        no_subject.contains("X509v3 Subject Alternative Name: critical"),
        "{no_subject}"
    );

    let ca = s("libs/ca.pem");
    let (ok, text) = openssl(&["verify", "-CAfile", &ca, &s("libs/not_yet_valid.pem")]);
    assert!(!ok && text.contains("not yet valid"), "{text}");
    let (ok, text) = openssl(&["verify", "-CAfile", &ca, &s("libs/expired.pem")]);
    assert!(!ok && text.contains("expired"), "{text}");
    let (ok, text) = openssl(&[
        "verify",
        "-CAfile",
        &ca,
        "-untrusted",
        &s("libs/server-intermediate-ca.pem"),
        &s("libs/server-intermediate-ca.pem"),
    ]);
    assert!(ok, "{text}");
    let (ok, text) = openssl(&[
        "verify",
        "-CAfile",
        &s("libs/ecdsa-ca.pem"),
        &s("libs/ecdsa-server.pem"),
    ]);
    assert!(ok, "{text}");
    // The revoked client (serial 4) and the expired CRL.
    let (ok, text) = crl_verify(
        &ca,
        &s("libs/crl_client_revoked.pem"),
        &s("libs/client_revoked.pem"),
    );
    assert!(!ok && text.contains("certificate revoked"), "{text}");
    assert_eq!(serial_of(&out.join("libs/client_revoked.pem")), 4);
    let (ok, text) = crl_verify(&ca, &s("libs/crl_expired.pem"), &s("libs/client.pem"));
    assert!(!ok && text.contains("CRL has expired"), "{text}");
    let (ok, text) = crl_verify(&ca, &s("libs/crl.pem"), &s("libs/client.pem"));
    assert!(ok, "{text}");

    // Keys and containers.
    // mkcert.py's block order (cert, key, appended cert) and certs.yml's
    // issuer-and-serial authority key identifier.
    assert_eq!(
        pem_blocks(&out.join("libs/ca.pem")),
        ["CERTIFICATE", "PRIVATE KEY", "CERTIFICATE"]
    );
    let server = openssl_ok(&["x509", "-in", &s("libs/server.pem"), "-noout", "-text"]);
    assert!(
        server.contains(
            "DirName:/C=US/ST=New York/L=New York City/O=MongoDB/OU=Kernel/CN=Kernel Test CA"
        ),
        "{server}"
    );
    // As upstream's stored file: PKCS#8, PBES2 with AES-256, "qwerty".
    let protected = std::fs::read_to_string(out.join("libs/password_protected.pem")).unwrap();
    assert!(
        protected.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
        "{protected}"
    );
    let (ok, _) = openssl(&[
        "rsa",
        "-in",
        &s("libs/password_protected.pem"),
        "-passin",
        "pass:qwerty",
        "-noout",
        "-check",
    ]);
    assert!(ok);
    let (ok, info) = openssl(&[
        "pkcs12",
        "-in",
        &s("libs/trusted-server.pfx"),
        "-passin",
        "pass:qwerty",
        "-info",
        "-nokeys",
    ]);
    // With its issuer inside, as mkcert's -certfile puts it.
    assert!(
        ok && info.matches("BEGIN CERTIFICATE").count() == 2,
        "{info}"
    );
    let merged = std::fs::read_to_string(out.join("libs/rollover_ca_merged.pem")).unwrap();
    assert_eq!(merged.matches("BEGIN CERTIFICATE").count(), 2);
    let whole = std::fs::read_to_string(out.join("libs/ocsp/ca_ocsp.pem")).unwrap();
    let crt = std::fs::read_to_string(out.join("libs/ocsp/ca_ocsp.crt")).unwrap();
    let key = std::fs::read_to_string(out.join("libs/ocsp/ca_ocsp.key")).unwrap();
    assert_eq!(
        whole,
        format!("{crt}{key}"),
        "the whole file is the two halves"
    );
    let comment = openssl_ok(&[
        "x509",
        "-in",
        &s("libs/client-self-signed.pem"),
        "-noout",
        "-text",
    ]);
    assert!(
        comment.contains("OpenSSL Generated Certificate"),
        "{comment}"
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
const ALL_THE_OIDS: &str = "role=Datum-72,pseudonym=Datum-65,dmdName=Datum-54,deltaRevocationList=Datum-53,supportedAlgorithms=Datum-52,houseIdentifier=Datum-51,uniqueMember=Datum-50,distinguishedName=Datum-49,protocolInformation=Datum-48,enhancedSearchGuide=Datum-47,dnQualifier=Datum-46,x500UniqueIdentifier=Datum-45,generationQualifier=Datum-44,initials=Datum-43,GN=Datum-42,name=Datum-41,crossCertificatePair=Datum-40,certificateRevocationList=Datum-39,authorityRevocationList=Datum-38,cACertificate=Datum-37,userCertificate=Datum-36,userPassword=Datum-35,seeAlso=Datum-34,roleOccupant=Datum-33,owner=Datum-32,member=Datum-31,supportedApplicationContext=Datum-30,presentationAddress=Datum-29,preferredDeliveryMethod=Datum-28,destinationIndicator=Datum-27,registeredAddress=Datum-26,internationaliSDNNumber=Datum-25,x121Address=Datum-24,facsimileTelephoneNumber=Datum-23,teletexTerminalIdentifier=Datum-22,telexNumber=Datum-21,telephoneNumber=Datum-20,physicalDeliveryOfficeName=Datum-19,postOfficeBox=Datum-18,postalCode=Datum-17,postalAddress=Datum-16,businessCategory=Datum-15,searchGuide=Datum-14,description=Datum-13,title=Datum-12,OU=Datum-11,O=Datum-10,street=Datum-9,ST=NY,L=Datum-7,C=US,serialNumber=Datum-5,SN=Datum-4,CN=Datum-3";

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
