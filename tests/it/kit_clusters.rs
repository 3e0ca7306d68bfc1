//! `local-kit --replset` and `--sharded`: configs checked by a YAML parser
//! against mongod's option names, scripts by `node --check` and `sh -n`,
//! member certificates by `openssl` against mongod's member rules, and the
//! user names against OpenSSL's RFC 2253 form (which is mongod's).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

/// The configuration file options (MongoDB's configuration file
/// reference, as dotted paths) that mongod and mongos share, as a kit
/// writes them.
const SHARED_OPTIONS: &[&str] = &[
    "net.port",
    "net.bindIp",
    "net.tls.mode",
    "net.tls.certificateKeyFile",
    "net.tls.clusterFile",
    "net.tls.CAFile",
    "net.tls.CRLFile",
    "net.tls.clusterAuthX509.extensionValue",
    "setParameter.ocspEnabled",
    "setParameter.ocspStaplingRefreshPeriodSecs",
    "systemLog.destination",
    "systemLog.path",
    "systemLog.logAppend",
    "processManagement.fork",
    "processManagement.pidFilePath",
    "security.clusterAuthMode",
];

/// mongod's own: storage, replication, its cluster role, authorization.
const MONGOD_ONLY: &[&str] = &[
    "storage.dbPath",
    "replication.replSetName",
    "sharding.clusterRole",
    "security.authorization",
];

/// mongos's own: the config servers (it has no storage, replication or
/// `security.authorization`).
const MONGOS_ONLY: &[&str] = &["sharding.configDB"];

fn allowed(option: &str, mongos: bool) -> bool {
    SHARED_OPTIONS.contains(&option)
        || if mongos { MONGOS_ONLY } else { MONGOD_ONLY }.contains(&option)
}

pub(crate) fn cluster_home() -> TestHome {
    let home = TestHome::new(&registry(""));
    home.ok(&[
        "dbusers",
        "create",
        "--projectId",
        GID,
        "--username",
        "Калоян",
        "--x509Type",
        "MANAGED",
        "--role",
        "read@app",
    ]);
    home
}

/// Every `.conf` in `kit`, parsed by PyYAML: file name to (dotted option
/// path to value).
pub(crate) fn configs(kit: &Path) -> serde_json::Value {
    let python = python_with(&["pyyaml:yaml"]);
    let script = r#"
import glob, json, os, sys, yaml
def flat(prefix, node, out):
    for key, value in node.items():
        path = prefix + key
        if isinstance(value, dict):
            flat(path + ".", value, out)
        else:
            out[path] = value
result = {}
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.conf"))):
    out = {}
    flat("", yaml.safe_load(open(f, encoding="utf-8")), out)
    result[os.path.basename(f)] = out
print(json.dumps(result))
"#;
    let out = script_ok(Command::new(python).args(["-c", script]).arg(kit));
    serde_json::from_str(&out).unwrap()
}

fn syntax_checked(kit: &Path, scripts: &[&str]) {
    for f in scripts {
        let path = kit.join(f);
        if f.ends_with(".js") {
            script_ok(Command::new("node").arg("--check").arg(&path));
        } else {
            script_ok(Command::new("sh").arg("-n").arg(&path));
            if Command::new("shellcheck").arg("--version").output().is_ok() {
                script_ok(Command::new("shellcheck").arg(&path));
            }
        }
    }
}

fn text(kit: &Path, f: &str) -> String {
    std::fs::read_to_string(kit.join(f)).unwrap()
}

fn members(kit: &Path) -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = std::fs::read_dir(kit.join("members"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    all.sort();
    all
}

/// O, OU and DC of a subject, as `openssl` prints them.
fn member_attributes(pem: &Path) -> Vec<String> {
    mongod_name_of(pem)
        .split(',')
        .filter(|a| a.starts_with("O=") || a.starts_with("OU=") || a.starts_with("DC="))
        .map(String::from)
        .collect()
}

#[test]
fn replica_set_kit_follows_mongods_member_rules() {
    let home = cluster_home();
    let kit = home.path().join("rs kit");
    ec_kit(
        &home,
        &kit,
        &["--replset", "rs0", "--members", "3", "--port", "28017"],
    );
    let abs = std::path::absolute(&kit).unwrap();

    // Configs: YAML, mongod's option names, one port, dbPath and set each.
    let confs = configs(&kit);
    let confs = confs.as_object().unwrap();
    assert_eq!(
        confs.keys().collect::<Vec<_>>(),
        ["mongod-0.conf", "mongod-1.conf", "mongod-2.conf"]
    );
    for (i, (name, conf)) in confs.iter().enumerate() {
        for key in conf.as_object().unwrap().keys() {
            assert!(allowed(key, false), "{name}: {key}");
        }
        let member = abs.join(format!("members/mongod-{i}.pem"));
        assert_eq!(conf["net.port"], 28017 + i as u64, "{name}");
        assert_eq!(conf["replication.replSetName"], "rs0");
        assert_eq!(conf["security.clusterAuthMode"], "x509");
        assert_eq!(conf["security.authorization"], "enabled");
        assert_eq!(conf["net.tls.mode"], "requireTLS");
        assert_eq!(conf["net.tls.clusterFile"], s(&member));
        assert_eq!(conf["net.tls.certificateKeyFile"], s(&member));
        assert_eq!(conf["net.tls.CAFile"], s(&abs.join("ca.pem")));
        assert_eq!(conf["net.tls.CRLFile"], s(&abs.join("crl.pem")));
        assert_eq!(
            conf["storage.dbPath"],
            s(&abs.join(format!("data/mongod-{i}")))
        );
    }
    syntax_checked(
        &kit,
        &["init-replset.js", "create-users.js", "start.sh", "stop.sh"],
    );
    let init = text(&kit, "init-replset.js");
    for port in 28017..28020 {
        assert!(
            init.contains(&format!("host: \"localhost:{port}\"")),
            "{init}"
        );
    }

    // Member certificates: the same non-empty O and OU, serverAuth and
    // clientAuth, SANs for the host, valid for both purposes; two members
    // complete a mutual TLS handshake.
    let certs = members(&kit);
    assert_eq!(certs.len(), 3);
    let first = member_attributes(&certs[0]);
    assert!(!first.is_empty());
    let ca = kit.join("ca.pem");
    for pem in &certs {
        assert_eq!(member_attributes(pem), first, "{}", pem.display());
        let text = openssl_ok(&[
            "x509",
            "-in",
            s(pem),
            "-noout",
            "-ext",
            "extendedKeyUsage,subjectAltName",
        ]);
        assert!(
            text.contains("TLS Web Server Authentication, TLS Web Client Authentication"),
            "{text}"
        );
        assert!(
            text.contains("DNS:localhost") && text.contains("IP Address:127.0.0.1"),
            "{text}"
        );
        for purpose in ["sslserver", "sslclient"] {
            openssl_ok(&["verify", "-purpose", purpose, "-CAfile", s(&ca), s(pem)]);
        }
    }
    let (ok, log) = openssl_handshake(&certs[0], &ca, &certs[1], Some(&kit.join("crl.pem")));
    assert!(ok, "{log}");

    // The user names mongod derives, byte for byte.
    let js = text(&kit, "create-users.js");
    for user in std::fs::read_dir(kit.join("users")).unwrap() {
        let pem = user.unwrap().path();
        let literal = serde_json::to_string(&mongod_name_of(&pem)).unwrap();
        assert!(
            js.contains(&format!("user: {literal}")),
            "{literal} in {js}"
        );
    }
    assert!(
        js.contains(r#"user: "CN=\\D0\\9A\\D0\\B0\\D0\\BB\\D0\\BE\\D1\\8F\\D0\\BD""#),
        "{js}"
    );

    // The README's commands carry the home that made the kit.
    let readme = text(&kit, "README.txt");
    let home_abs = std::path::absolute(home.path()).unwrap();
    assert!(
        readme.contains(&format!(
            "atlas-ca --home '{}' dbusers certs revoke",
            home_abs.display()
        )),
        "{readme}"
    );
    assert!(
        readme.contains("replicaSet=rs0&authMechanism=MONGODB-X509"),
        "{readme}"
    );
    // Paths in the steps are absolute and quoted.
    let steps: Vec<usize> = [
        "/start.sh'",
        "/init-replset.js'",
        "/create-users.js'",
        "/users/",
    ]
    .iter()
    .map(|f| readme.find(f).unwrap_or_else(|| panic!("{f} in {readme}")))
    .collect();
    assert!(steps.is_sorted(), "steps out of order: {readme}");
}

#[test]
fn sharded_kit_has_config_servers_shards_and_mongos() {
    let home = cluster_home();
    let kit = home.path().join("sharded");
    ec_kit(
        &home,
        &kit,
        &["--sharded", "--shards", "2", "--members", "3"],
    );
    let confs = configs(&kit);
    let confs = confs.as_object().unwrap();
    assert_eq!(confs.len(), 3 + 2 * 3 + 1);
    let mut ports = std::collections::BTreeSet::new();
    for (name, conf) in confs {
        for key in conf.as_object().unwrap().keys() {
            assert!(allowed(key, name == "mongos.conf"), "{name}: {key}");
        }
        assert!(
            ports.insert(conf["net.port"].as_u64().unwrap()),
            "{name}: port reused"
        );
        let role = conf.get("sharding.clusterRole").and_then(|r| r.as_str());
        match name.as_str() {
            "mongos.conf" => assert_eq!(
                conf["sharding.configDB"],
                "configRS/localhost:27018,localhost:27019,localhost:27020"
            ),
            n if n.starts_with("configRS-") => assert_eq!(role, Some("configsvr"), "{n}"),
            n => assert_eq!(role, Some("shardsvr"), "{n}"),
        }
    }
    assert_eq!(confs["mongos.conf"]["net.port"], 27017);
    syntax_checked(
        &kit,
        &[
            "init-configRS.js",
            "init-shard0.js",
            "init-shard1.js",
            "add-shards.js",
            "create-users.js",
            "start.sh",
            "stop.sh",
        ],
    );
    assert!(text(&kit, "init-configRS.js").contains("configsvr: true"));
    let add = text(&kit, "add-shards.js");
    assert!(
        add.contains(r#"sh.addShard("shard1/localhost:27024,localhost:27025,localhost:27026")"#),
        "{add}"
    );
    let certs = members(&kit);
    assert_eq!(certs.len(), 10, "one member certificate per process");
    let first = member_attributes(&certs[0]);
    for pem in &certs {
        assert_eq!(member_attributes(pem), first, "{}", pem.display());
    }
    let readme = text(&kit, "README.txt");
    assert!(readme.contains("start.sh' mongos"), "{readme}");
    assert!(readme.find("/add-shards.js'").unwrap() < readme.find("/create-users.js'").unwrap());
}

#[test]
fn a_bad_topology_writes_nothing() {
    let home = cluster_home();
    let kit = home.path().join("bad");
    let before = snapshot(home.path());
    for (args, message) in [
        (
            vec![
                "--replset",
                "rs0",
                "--member",
                "localhost:27017",
                "--member",
                "localhost:27017",
            ],
            "two members would listen on localhost:27017",
        ),
        (vec!["--replset", "rs/0"], "replica set name \"rs/0\""),
        (vec!["--members", "3"], "need --replset NAME or --sharded"),
        (vec!["--sharded", "--port", "65530"], "run past 65535"),
    ] {
        let mut all = vec!["local-kit", "--out", s(&kit)];
        all.extend(args);
        let run = home.run(&all);
        assert!(!run.status.success(), "{all:?}");
        assert!(stderr(&run).contains(message), "{all:?}: {}", stderr(&run));
    }
    assert_eq!(snapshot(home.path()), before);
}

/// The extension's DER value, as `openssl asn1parse` finds it in `pem`.
fn extension_der(pem: &Path, oid: &str) -> Option<String> {
    let parsed = openssl_ok(&["asn1parse", "-in", s(pem)]);
    let lines: Vec<&str> = parsed.lines().collect();
    let at = lines.iter().position(|l| l.contains(&format!(":{oid}")))?;
    // The extension's OCTET STRING follows its OID.
    let octets = lines[at + 1..]
        .iter()
        .find(|l| l.contains("OCTET STRING"))?;
    Some(octets.rsplit_once("[HEX DUMP]:").unwrap().1.to_string())
}

#[test]
fn roles_membership_and_ocsp_go_into_the_certificates() {
    let home = cluster_home();
    let kit = home.path().join("ext");
    ec_kit(
        &home,
        &kit,
        &[
            "--replset",
            "rs0",
            "--members",
            "1",
            "--roles-in-cert",
            "--membership-extension",
            "foo",
            "--ocsp-url",
            "http://localhost:8100/status",
        ],
    );
    // alice's readWrite@app as MongoDB's SET OF SEQUENCE { UTF8String, UTF8String }.
    let roles = extension_der(&kit.join("users/alice.pem"), "1.3.6.1.4.1.34601.2.1.1").unwrap();
    let expected: String = [
        &[0x31, 0x12, 0x30, 0x10, 0x0c, 0x09][..],
        b"readWrite",
        &[0x0c, 0x03],
        b"app",
    ]
    .concat()
    .iter()
    .map(|b| format!("{b:02X}"))
    .collect();
    assert_eq!(roles, expected);
    // bob has no roles: no extension, and create-users.js still creates him.
    assert_eq!(
        extension_der(&kit.join("users/bob.pem"), "1.3.6.1.4.1.34601.2.1.1"),
        None
    );
    let js = text(&kit, "create-users.js");
    assert!(js.contains(r#"print("not created: " + "CN=alice""#), "{js}");
    assert!(js.contains(r#"ext.createUser({ user: "CN=bob""#), "{js}");
    // Membership: a UTF8String "foo", and the config matches on it.
    let member = kit.join("members/mongod-0.pem");
    assert_eq!(
        extension_der(&member, "1.3.6.1.4.1.34601.2.1.2").unwrap(),
        "0C03666F6F"
    );
    let conf = &configs(&kit)["mongod-0.conf"];
    assert_eq!(conf["net.tls.clusterAuthX509.extensionValue"], "foo");
    assert_eq!(conf["setParameter.ocspEnabled"], true);
    for pem in [member, kit.join("users/alice.pem")] {
        let aia = openssl_ok(&["x509", "-in", s(&pem), "-noout", "-ocsp_uri"]);
        assert_eq!(aia.trim(), "http://localhost:8100/status");
    }
    // Membership by extension is for clusters only, and nothing is written.
    let run = home.run(&[
        "local-kit",
        "--out",
        s(&home.path().join("no")),
        "--membership-extension",
        "foo",
    ]);
    assert!(
        stderr(&run).contains("for a replica set or a sharded cluster"),
        "{}",
        stderr(&run)
    );
    assert!(!home.path().join("no").exists());
}

#[test]
fn pkcs12_files_for_java_and_dotnet_drivers() {
    let home = TestHome::new(&registry(""));
    let kit = home.path().join("p12");
    let password = home.path().join("password.txt");
    std::fs::write(&password, "s3cret pass\n").unwrap();
    ec_kit(
        &home,
        &kit,
        &["--pkcs12", "--pkcs12-password-file", s(&password)],
    );
    let p12 = kit.join("users/alice.p12");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&p12).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // Python's cryptography reads it with the password: alice's key and
    // certificate, the CA as the chain, alice as the friendly name.
    let python = python_with(&["cryptography"]);
    let script = r#"
import sys
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509 import load_der_x509_certificate
data = open(sys.argv[1], "rb").read()
p = pkcs12.load_pkcs12(data, b"s3cret pass")
ca = load_der_x509_certificate(open(sys.argv[2], "rb").read())
assert p.key is not None
assert p.cert.friendly_name == b"alice", p.cert.friendly_name
assert [c.certificate for c in p.additional_certs] == [ca]
print(p.cert.certificate.subject.rfc4514_string())
"#;
    let out = script_ok(
        Command::new(python)
            .args(["-c", script])
            .arg(&p12)
            .arg(kit.join("ca.der")),
    );
    assert_eq!(out.trim(), "CN=alice");
    // A wrong password is refused by OpenSSL too.
    let (ok, _) = openssl(&[
        "pkcs12",
        "-in",
        s(&p12),
        "-info",
        "-noout",
        "-passin",
        "pass:wrong",
    ]);
    assert!(!ok);
    openssl_ok(&[
        "pkcs12",
        "-in",
        s(&p12),
        "-info",
        "-noout",
        "-passin",
        &format!("file:{}", s(&password)),
    ]);
    assert!(text(&kit, "README.txt").contains("keytool -importcert"));
    // Java's own keytool, where installed: a private key entry, and a
    // truststore made from ca.der as the README says.
    if Command::new("keytool").arg("-help").output().is_ok() {
        let listed = script_ok(
            Command::new("keytool")
                .args([
                    "-list",
                    "-storetype",
                    "PKCS12",
                    "-storepass",
                    "s3cret pass",
                    "-keystore",
                ])
                .arg(&p12),
        );
        assert!(
            listed.contains("alice, ") && listed.contains("PrivateKeyEntry"),
            "{listed}"
        );
        let store = home.path().join("truststore.p12");
        script_ok(
            Command::new("keytool")
                .args([
                    "-importcert",
                    "-noprompt",
                    "-alias",
                    "atlas-ca",
                    "-storetype",
                    "PKCS12",
                    "-storepass",
                    "changeit",
                    "-file",
                ])
                .arg(kit.join("ca.der"))
                .arg("-keystore")
                .arg(&store),
        );
        let trusted = script_ok(
            Command::new("keytool")
                .args([
                    "-list",
                    "-storetype",
                    "PKCS12",
                    "-storepass",
                    "changeit",
                    "-keystore",
                ])
                .arg(&store),
        );
        assert!(trusted.contains("trustedCertEntry"), "{trusted}");
    }
}
