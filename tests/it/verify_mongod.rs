//! `verify --mongod`: a set made to fail each check mongod (or a macOS
//! client) would fail it on, and the kits `local-kit` makes passing.

use std::path::Path;

use super::pki_apply::apply;
use crate::common::*;

/// One line of the checklist per finding: (passed, check, detail).
fn checklist(home: &TestHome, dir: &Path) -> (bool, Vec<(bool, String, String)>) {
    let run = home.run(&["verify", "--mongod", s(dir)]);
    let text = String::from_utf8(run.stdout.clone()).unwrap();
    let lines = text
        .lines()
        .map(|l| {
            let (mark, rest) = l.split_at(4);
            let rest = rest.trim_start();
            let (name, detail) = rest.split_at(26.min(rest.len()));
            (
                mark == "ok  ",
                name.trim().to_string(),
                detail.trim().to_string(),
            )
        })
        .collect();
    (run.status.success(), lines)
}

/// The failed findings of `check` that mention `file`.
fn failed<'a>(lines: &'a [(bool, String, String)], check: &str, file: &str) -> Vec<&'a str> {
    lines
        .iter()
        .filter(|(ok, name, detail)| !ok && name == check && detail.contains(file))
        .map(|(_, _, d)| d.as_str())
        .collect()
}

const SET: &str = r#"
[defaults]
key = "ec-p256"
subject = "O=MongoDB,C=US"

[[cert]]
name = "ca"
issuer = "self"
subject = "CN=Test CA"
ca = true
files = "cert-only"

[[cert]]
name = "other-ca"
issuer = "self"
subject = "CN=Other CA"
ca = true
files = "cert-only"

[[cert]]
name = "m1"
issuer = "ca"
subject = "CN=m1,OU=Cluster"
extended_key_usage = ["serverAuth", "clientAuth"]
san = ["DNS:localhost", "IP:127.0.0.1"]
not_after = "+800d"

[[cert]]
name = "m2"
issuer = "ca"
subject = "CN=m2,OU=Elsewhere"
extended_key_usage = ["serverAuth"]
san = ["DNS:localhost"]
not_after = "+900d"

[[cert]]
name = "m3"
issuer = "other-ca"
subject = "CN=m3,OU=Cluster"
extended_key_usage = ["serverAuth", "clientAuth"]
san = ["DNS:localhost", "IP:127.0.0.1"]
not_after = "+800d"

[[cert]]
name = "alice"
issuer = "ca"
subject = "CN=alice,OU=Cluster"
extended_key_usage = ["clientAuth"]

[[cert]]
name = "bob"
issuer = "ca"
subject = "CN=Bob Zoë,OU=Users"
extended_key_usage = ["clientAuth"]

[[crl]]
name = "crl"
issuer = "ca"
this_update = "-30d"
next_update = "-1d"
"#;

/// A config as a kit writes one, naming `cert` for clients and members.
fn conf(dir: &Path, name: &str, cert: &str, ca: &str, bind: &str) {
    std::fs::write(
        dir.join(format!("{name}.conf")),
        format!(
            "net:\n  port: 27017\n  bindIp: \"{bind}\"\n  tls:\n    mode: requireTLS\n    \
             certificateKeyFile: \"{cert}\"\n    clusterFile: \"{cert}\"\n    CAFile: \"{ca}\"\n    \
             CRLFile: \"crl.pem\"\nsecurity:\n  clusterAuthMode: x509\n"
        ),
    )
    .unwrap();
}

#[test]
fn each_finding_mongod_would_refuse() {
    let home = TestHome::new(&registry(""));
    let file = home.path().join("set.toml");
    std::fs::write(&file, SET).unwrap();
    let out = home.path().join("set");
    let run = apply(&home, &file, &out, &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    conf(&out, "mongod-1", "m1.pem", "ca.pem", "localhost,127.0.0.1");
    conf(
        &out,
        "mongod-2",
        "m2.pem",
        "ca.pem",
        "localhost,db.example.net",
    );
    conf(&out, "mongod-3", "m3.pem", "ca.pem", "localhost");
    let (passed, lines) = checklist(&home, &out);
    assert!(!passed, "{lines:?}");
    // Members whose O, OU and DC differ.
    let differ = failed(&lines, "members share O, OU, DC", "m2.pem");
    assert!(
        differ[0].contains("give every member the same O, OU and DC"),
        "{lines:?}"
    );
    // A member without clientAuth.
    let eku = failed(&lines, "member EKU", "m2.pem");
    assert!(
        eku[0].contains("add extendedKeyUsage serverAuth, clientAuth"),
        "{eku:?}"
    );
    assert!(failed(&lines, "member EKU", "m1.pem").is_empty());
    // A client whose O, OU and DC are the members': taken for a member.
    let taken = failed(&lines, "client user name", "alice.pem");
    assert!(
        taken[0].contains("treats it as a cluster member"),
        "{taken:?}"
    );
    // The $external name of the other client, bytes from 0x80 escaped.
    let bob = lines
        .iter()
        .find(|(ok, name, d)| *ok && name == "client user name" && d.contains("bob.pem"))
        .unwrap();
    assert!(
        bob.2
            .ends_with("$external user CN=Bob Zo\\C3\\AB,OU=Users,O=MongoDB,C=US"),
        "{bob:?}"
    );
    // Over 825 days.
    let long = failed(&lines, "server lifetime", "m2.pem");
    assert!(long[0].contains("valid 900 days"), "{long:?}");
    assert!(failed(&lines, "server lifetime", "m1.pem").is_empty());
    // A CRL past its nextUpdate.
    assert!(failed(&lines, "CRL current", "crl.pem")[0].contains("make a new CRL"));
    // A host the config binds that the SAN does not name.
    let san = failed(&lines, "SAN covers the host", "mongod-2.conf");
    assert!(san[0].contains("db.example.net"), "{san:?}");
    // A member not signed by the CA its config names.
    let chain = failed(&lines, "chain reaches CAFile", "m3.pem");
    assert!(
        chain[0].contains("does not chain to its CAFile"),
        "{chain:?}"
    );
    assert!(failed(&lines, "chain reaches CAFile", "m1.pem").is_empty());
}

#[test]
fn the_kits_local_kit_makes_pass() {
    let home = crate::kit_clusters::cluster_home();
    for (dir, args) in [
        ("rs", vec!["--replset", "rs0", "--members", "3"]),
        ("sh", vec!["--sharded", "--shards", "1", "--members", "1"]),
        ("one", vec![]),
    ] {
        let kit = home.path().join(dir);
        let mut all = vec!["local-kit", "--out", s(&kit), "--key-type", "ec-p256"];
        all.extend(args);
        home.ok(&all);
        let (passed, lines) = checklist(&home, &kit);
        assert!(passed, "{dir}: {lines:?}");
        assert!(
            lines.iter().any(
                |(_, n, d)| n == "client user name" && d.contains("$external user CN=\\D0\\9A")
            ),
            "{dir}: {lines:?}"
        );
    }
}
