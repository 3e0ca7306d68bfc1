//! `pki apply` of the two upstream-sized examples: drivers-evergreen-tools'
//! x509gen and OCSP sets, and mongod's jstests PKI, file for file, checked
//! with the openssl CLI and Python's `ssl`.

use std::path::Path;
use std::process::Command;

use super::pki_apply::{ALL_THE_OIDS, apply, crl_verify, example, extension_hex};
use crate::common::*;

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
    super::pki_upstream::drivers_properties(&out);
}

#[test]
fn the_mongod_set_has_every_kind_certs_yml_has() {
    let home = TestHome::without_ca(&registry(""));
    let out = home.path().join("jstests");
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/pki/mongod-jstests.toml");
    let run = apply(&home, &file, &out, &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    super::pki_upstream::mongod_properties(&out);
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
