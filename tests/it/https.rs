//! `serve --tls`: HTTPS with a certificate from atlas-ca's local
//! API CA or from a file, checked by curl, Python `requests` and the Node
//! Atlas client against the CA `serve-ca` prints; plain HTTP fails fast.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::Value;

fn home() -> TestHome {
    TestHome::new(&format!("{}{API_KEYS}", registry("")))
}

#[test]
fn https_with_the_local_api_ca() {
    let home = home();
    let server = Server::start(&home, &["--tls", "--key-pool", "0"]);
    assert!(
        server.base.starts_with("https://127.0.0.1:"),
        "{}",
        server.base
    );
    let ca = home.path().join("api-ca.pem");
    std::fs::write(&ca, home.ok(&["serve-ca"])).unwrap();
    let subject = x509_field(&ca, "-subject");
    assert!(subject.contains("atlas-ca local API CA"), "{subject}");
    let cafile = ca.to_str().unwrap();

    // The Node Atlas client, unchanged, trusting the CA by Node's own means.
    let modules = node_with("mongodb-atlas-api-client@4");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js/atlas_api_client.js");
    let seen = script_ok(
        Command::new("node")
            .arg(&script)
            .args([&server.base, GID, "owner", "owner-secret"])
            .env("NODE_PATH", &modules)
            .env("NODE_EXTRA_CA_CERTS", &ca),
    );
    assert!(seen.trim().parse::<f64>().is_ok(), "{seen}");

    let certs = format!(
        "{}/groups/{GID}/databaseUsers/alice/certs",
        server.api("v2")
    );
    let created = curl(&[
        "--cacert",
        cafile,
        "--digest",
        "--user",
        "owner:owner-secret",
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "--data",
        "{}",
        &certs,
    ]);
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(created.body.starts_with("-----BEGIN CERTIFICATE-----"));

    let python = python_with(&["requests"]);
    let script = r#"
import sys, requests
from requests.auth import HTTPDigestAuth
r = requests.get(sys.argv[1], auth=HTTPDigestAuth("owner", "owner-secret"), verify=sys.argv[2],
                 headers={"Accept": "application/vnd.atlas.2023-01-01+json"})
print(r.status_code, r.json()["totalCount"])
"#;
    let out = script_ok(Command::new(&python).args(["-c", script, &certs, cafile]));
    assert_eq!(
        out.trim(),
        "200 2",
        "the Node client's certificate and curl's"
    );

    // Without the CA, verification fails; plain HTTP fails at once.
    let out = Command::new("curl").args(["-s", &certs]).output().unwrap();
    assert_eq!(out.status.code(), Some(60), "untrusted certificate");
    let plain = certs.replacen("https://", "http://", 1);
    let started = Instant::now();
    let out = Command::new("curl")
        .args(["-s", "--max-time", "30", &plain])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "a plain-HTTP client must not hang"
    );
}

#[test]
fn https_with_a_certificate_from_a_file() {
    let home = home();
    let pem = home.path().join("server.pem");
    home.ok(&[
        "server-cert",
        "--host",
        "localhost",
        "--host",
        "127.0.0.1",
        "--key-type",
        "ec-p256",
        "--out",
        pem.to_str().unwrap(),
    ]);
    let ca = home.path().join("project-ca.pem");
    std::fs::write(&ca, home.ok(&["ca", "cert"])).unwrap();
    let server = Server::start(
        &home,
        &["--tls-cert", pem.to_str().unwrap(), "--key-pool", "0"],
    );
    let users = format!("{}/groups/{GID}/databaseUsers", server.api("v2"));
    let reply = curl(&[
        "--cacert",
        ca.to_str().unwrap(),
        "--digest",
        "--user",
        "owner:owner-secret",
        &users,
    ]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let v: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(v["totalCount"], 4);
    assert!(
        v["results"][0]["links"][0]["href"]
            .as_str()
            .unwrap()
            .starts_with("https://127.0.0.1:"),
        "links name the scheme in use"
    );
    assert!(
        home.files().iter().all(|f| !f.starts_with("api-ca")),
        "no API CA needed"
    );
}

#[test]
fn the_api_ca_key_follows_the_passphrase_and_serve_ca_needs_none() {
    let home = home();
    let pass = home.path().join("pass");
    std::fs::write(&pass, "api-ca passphrase").unwrap();
    let key = home.path().join("api-ca/ca.key.pem");
    // Made without a passphrase: a plain key.
    let first = home.ok(&["serve-ca"]);
    assert!(
        std::fs::read_to_string(&key)
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----"),
        "plain at first"
    );
    // The first use with a passphrase at hand encrypts it in place.
    let mut server = Server::start(
        &home,
        &["--tls", "--passphrase-file", pass.to_str().unwrap()],
    );
    assert!(
        server.log().contains("encrypted the local API CA's key"),
        "{}",
        server.log()
    );
    assert!(server.stop());
    let pem = std::fs::read_to_string(&key).unwrap();
    assert!(
        pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
        "{pem}"
    );
    let (ok, _) = openssl(&[
        "pkey",
        "-in",
        key.to_str().unwrap(),
        "-passin",
        "pass:wrong",
        "-noout",
    ]);
    assert!(!ok, "the key needs its passphrase");
    // serve-ca prints the certificate without reading the key, so with no
    // passphrase at all, and the same certificate as before.
    assert_eq!(home.ok(&["serve-ca"]), first);
}

#[test]
fn large_bodies_over_tls_are_read_before_the_answer() {
    let home = home();
    let server = Server::start(&home, &["--tls"]);
    let ca = home.path().join("api-ca.pem");
    std::fs::write(&ca, home.ok(&["serve-ca"])).unwrap();
    let python = python_with(&["requests"]);
    // Bodies of 18-58 KB (a customer CA bundle's size), each challenged
    // first with its whole body sent, then retried with credentials.
    let script = r#"
import sys, requests
from requests.auth import HTTPDigestAuth
url, cafile, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
headers = {"Content-Type": "application/json",
           "Accept": "application/vnd.atlas.2023-01-01+json"}
failed = []
with requests.Session() as s:
    for i in range(n):
        size = 18000 + i * 40000 // max(n - 1, 1)
        body = '{"monthsUntilExpiration": 3' + ' ' * size + '}'
        try:
            r = s.post(url, data=body, headers=headers, verify=cafile,
                       auth=HTTPDigestAuth("owner", "owner-secret"))
            if r.status_code != 201:
                failed.append((size, r.status_code))
        except requests.RequestException as e:
            failed.append((size, type(e).__name__))
print(failed)
"#;
    let url = format!(
        "{}/groups/{GID}/databaseUsers/alice/certs",
        server.api("v2")
    );
    let out = script_ok(Command::new(&python).args(["-c", script, &url, s(&ca), "40"]));
    assert_eq!(out.trim(), "[]", "requests that failed");
}
