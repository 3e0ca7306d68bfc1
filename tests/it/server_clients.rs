//! `atlas-ca serve` driven by other clients: Python `requests`, the Node
//! Atlas client, and fifty concurrent creates ended by a graceful stop.

use std::collections::BTreeSet;
use std::process::Command;

use super::server::{OWNER, certs_url, get, serial_of_pem, server_registry};
use crate::common::*;
use serde_json::Value;

#[test]
fn python_requests_with_digest_auth() {
    let home = TestHome::new(&server_registry());
    let server = Server::start(&home, &[]);
    let python = python_with(&["requests"]);
    let script = r#"
import sys, json, requests
from requests.auth import HTTPDigestAuth
base, gid = sys.argv[1], sys.argv[2]
auth = HTTPDigestAuth("owner", "owner-secret")
s = requests.Session()
s.headers["Accept"] = "application/vnd.atlas.2023-01-01+json"
url = f"{base}/api/atlas/v2/groups/{gid}/databaseUsers/alice/certs"
r = s.post(url, auth=auth, json={"monthsUntilExpiration": 6})
assert r.status_code == 201, (r.status_code, r.text)
assert r.text.startswith("-----BEGIN CERTIFICATE-----"), r.text[:40]
r = s.get(url, auth=auth)
assert r.status_code == 200, r.text
body = r.json()
assert body["totalCount"] == 1, body
print(body["results"][0]["_id"])
"#;
    let stdout = script_ok(Command::new(python).args(["-c", script, &server.base, GID]));
    let serial: u64 = stdout.trim().parse().unwrap();
    assert_eq!(home.list_json("alice", &[])["results"][0]["_id"], serial);
}

#[test]
fn node_atlas_api_client() {
    let home = TestHome::new(&server_registry());
    let server = Server::start(&home, &[]);
    let modules = node_with("mongodb-atlas-api-client@4");
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js/atlas_api_client.js");
    let stdout = script_ok(
        Command::new("node")
            .arg(&script)
            .args([&server.base, GID, "owner", "owner-secret"])
            .env("NODE_PATH", &modules),
    );
    // JavaScript numbers are doubles: a 63-bit `_id` arrives rounded, as it
    // does from Atlas itself.
    let seen: f64 = stdout.trim().parse().unwrap();
    let listed = home.list_json("alice", &[])["results"][0]["_id"]
        .as_u64()
        .unwrap();
    assert_eq!(listed as f64, seen);
}

#[test]
fn fifty_concurrent_creates_and_a_graceful_stop() {
    let home = TestHome::new(&server_registry());
    let mut server = Server::start(&home, &[]);
    let urls: Vec<String> = ["alice", "bob"]
        .iter()
        .map(|u| certs_url(&server, "v2", GID, u))
        .collect();
    let handles: Vec<_> = (0..50)
        .map(|i| spawn_curl_create(&urls[i % 2], OWNER))
        .collect();
    let mut serials = BTreeSet::new();
    for h in handles {
        let (pem, code) = body_and_status(h);
        assert_eq!(code, "201", "{pem}");
        assert!(
            serials.insert(serial_of_pem(&home, &pem)),
            "repeated serial"
        );
    }
    let mut listed = BTreeSet::new();
    for url in &urls {
        let v: Value = serde_json::from_str(&get(url, OWNER).body).unwrap();
        for r in v["results"].as_array().unwrap() {
            listed.insert(r["_id"].as_u64().unwrap());
        }
    }
    assert_eq!(listed, serials, "every certificate served is listed");

    // SIGTERM while a create is in flight: it completes, then the server exits 0.
    let inflight = spawn_curl_create(&urls[0], OWNER);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(server.stop(), "clean exit");
    let (body, code) = body_and_status(inflight);
    assert_eq!(code, "201", "{body}");
}
