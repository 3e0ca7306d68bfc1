//! Projects and customer X.509 over HTTP, as Atlas answers them, driven
//! by curl with Digest, and the same from the command line.

use std::path::{Path, PathBuf};

use super::manage_http::{ORG, OWNER, READER, home_and_server, json};
use crate::common::*;

#[test]
fn projects_over_http() {
    let (_home, server) = home_and_server();
    let groups = format!("{}/groups", server.api("v2"));
    let mine = json(&digest_call(OWNER, "GET", &groups, None));
    assert_eq!(mine["totalCount"], 1, "a key sees its own projects");
    assert_eq!(mine["results"][0]["id"], GID);
    let refused = digest_call(
        OWNER,
        "POST",
        &groups,
        Some(r#"{"name":"new","orgId":"x"}"#),
    );
    assert_eq!(
        (refused.status, json(&refused)["errorCode"].as_str()),
        (401, Some("USER_UNAUTHORIZED"))
    );
    let created = digest_call(ORG, "POST", &groups, Some(r#"{"name":"new","orgId":"x"}"#));
    assert_eq!(created.status, 201, "{}", created.body);
    let project = json(&created);
    let id = project["id"].as_str().unwrap();
    assert_eq!(id.len(), 24);
    assert_eq!(project["name"], "new");
    let got = json(&digest_call(ORG, "GET", &format!("{groups}/{id}"), None));
    assert_eq!(got["name"], "new");
    let duplicate = digest_call(ORG, "POST", &groups, Some(r#"{"name":"new"}"#));
    assert_eq!(json(&duplicate)["errorCode"], "GROUP_ALREADY_EXISTS");
    assert_eq!(
        json(&digest_call(ORG, "GET", &groups, None))["totalCount"],
        2
    );
}

/// A CA certificate and key made by the openssl CLI, and a client
/// certificate it signs for `cn`; returns (ca.pem, client bundle).
fn customer_ca(dir: &Path, cn: &str) -> (PathBuf, PathBuf) {
    let p = |f: &str| dir.join(f).to_str().unwrap().to_string();
    openssl_ok(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        &p("cust.key"),
        "-out",
        &p("cust.pem"),
        "-subj",
        "/CN=Customer CA",
        "-days",
        "30",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl_ok(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        &p("client.key"),
        "-out",
        &p("client.crt"),
        "-subj",
        &format!("/CN={cn}"),
        "-days",
        "10",
        "-CA",
        &p("cust.pem"),
        "-CAkey",
        &p("cust.key"),
        "-addext",
        "basicConstraints=CA:FALSE",
        "-addext",
        "extendedKeyUsage=clientAuth",
    ]);
    let bundle = dir.join("client-bundle.pem");
    let mut text = std::fs::read_to_string(dir.join("client.crt")).unwrap();
    text.push_str(&std::fs::read_to_string(dir.join("client.key")).unwrap());
    std::fs::write(&bundle, text).unwrap();
    (dir.join("cust.pem"), bundle)
}

#[test]
fn customer_x509_over_http_and_the_cli() {
    let (home, server) = home_and_server();
    let (ca, bundle) = customer_ca(home.path(), "carol");
    let security = format!("{}/groups/{GID}/userSecurity", server.api("v2"));
    let certs = format!(
        "{}/groups/{GID}/databaseUsers/alice/certs",
        server.api("v2")
    );
    // Reading the settings needs Project Owner (the spec's x-rolesRequirements).
    let read = digest_call(READER, "GET", &security, None);
    assert_eq!(
        (read.status, json(&read)["errorCode"].as_str()),
        (401, Some("USER_UNAUTHORIZED"))
    );
    let off = json(&digest_call(OWNER, "GET", &security, None));
    assert_eq!(off["customerX509"], serde_json::json!({}));

    // A PEM that is not a CA is refused and nothing changes.
    let leaf = std::fs::read_to_string(home.path().join("client.crt")).unwrap();
    let body = serde_json::json!({"customerX509": {"cas": leaf}}).to_string();
    let refused = digest_call(OWNER, "PATCH", &security, Some(&body));
    assert_eq!(
        (refused.status, json(&refused)["errorCode"].as_str()),
        (400, Some("INVALID_CUSTOMER_X509_CA"))
    );
    let garbage = serde_json::json!({"customerX509": {"cas": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}}).to_string();
    assert_eq!(
        digest_call(OWNER, "PATCH", &security, Some(&garbage)).status,
        400
    );
    assert_eq!(
        json(&digest_call(OWNER, "GET", &security, None))["customerX509"],
        serde_json::json!({})
    );
    assert_eq!(
        digest_call(OWNER, "POST", &certs, Some("{}")).status,
        201,
        "still managed"
    );

    // On: managed creation is refused, the CAs are shown.
    let pem = std::fs::read_to_string(&ca).unwrap();
    let body = serde_json::json!({"customerX509": {"cas": pem}}).to_string();
    let reader = digest_call(READER, "PATCH", &security, Some(&body));
    assert_eq!(json(&reader)["errorCode"], "USER_UNAUTHORIZED");
    let on = digest_call(OWNER, "PATCH", &security, Some(&body));
    assert_eq!(on.status, 202, "{}", on.body);
    assert_eq!(json(&on)["customerX509"]["cas"], pem.as_str());
    let refused = digest_call(OWNER, "POST", &certs, Some("{}"));
    assert_eq!(
        json(&refused)["errorCode"],
        "CANNOT_GENERATE_CERT_IF_ADVANCED_X509"
    );
    assert_eq!(home.ok(&["security", "customerCerts", "describe"]), pem);
    assert!(
        std::fs::read_to_string(home.path().join("users.toml"))
            .unwrap()
            .contains("selfManagedX509 = true")
    );

    // verify trusts the customer CA for CUSTOMER users (named by the whole
    // subject, as mongod derives it); the kit ships it.
    home.ok(&[
        "dbusers",
        "create",
        "readAnyDatabase",
        "--username",
        "CN=carol",
        "--x509Type",
        "CUSTOMER",
    ]);
    let checks = home.ok(&["verify", bundle.to_str().unwrap()]);
    assert!(
        checks.contains("a customer CA of the project") && checks.contains("names a CUSTOMER user"),
        "{checks}"
    );
    let kit = home.path().join("kit");
    home.ok(&[
        "local-kit",
        "--out",
        kit.to_str().unwrap(),
        "--key-type",
        "ec-p256",
    ]);
    let kit_ca = std::fs::read_to_string(kit.join("ca.pem")).unwrap();
    assert!(kit_ca.contains(pem.trim()), "ca.pem holds the customer CA");
    assert!(
        std::fs::read_to_string(kit.join("README.txt"))
            .unwrap()
            .contains("Customer-managed X.509 is on")
    );
    let (ok, out) = openssl(&[
        "verify",
        "-CAfile",
        kit.join("ca.pem").to_str().unwrap(),
        home.path().join("client.crt").to_str().unwrap(),
    ]);
    assert!(ok, "{out}");

    // Off over HTTP, then on and off again with the CLI.
    let off = digest_call(OWNER, "DELETE", &format!("{security}/customerX509"), None);
    assert_eq!(off.status, 202, "{}", off.body);
    assert_eq!(json(&off)["customerX509"], serde_json::json!({}));
    assert_eq!(digest_call(OWNER, "POST", &certs, Some("{}")).status, 201);
    home.ok(&[
        "security",
        "customerCerts",
        "create",
        "--casFile",
        ca.to_str().unwrap(),
    ]);
    let out = home.run(&["dbusers", "certs", "create", "--username", "alice"]);
    assert!(
        stderr(&out).contains("CANNOT_GENERATE_CERT_IF_ADVANCED_X509"),
        "{}",
        stderr(&out)
    );
    home.ok(&["security", "customerCerts", "disable"]);
    home.ok(CREATE_ALICE);
    let out = home.run(&[
        "security",
        "customerCerts",
        "create",
        "--casFile",
        "/nonexistent",
    ]);
    assert!(!out.status.success());
}

#[test]
fn projects_are_created_renamed_tagged_and_deleted_as_atlas_records() {
    let (home, server) = home_and_server();
    let groups = format!("{}/groups", server.api("v2"));
    let created = digest_call(
        ORG,
        "POST",
        &groups,
        Some(
            r#"{"name":"staging","orgId":"a0123456789abcdef012345a","tags":[{"key":"env","value":"dev"}]}"#,
        ),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let v = json(&created);
    let id = v["id"].as_str().unwrap().to_string();
    // Recorded: the Location names the v1.0 root, not the project.
    assert_eq!(
        created.header("location"),
        Some(format!("{}/api/atlas/v1.0", server.base).as_str())
    );
    // An ObjectId, as Atlas's: its first four bytes are its creation time.
    let created_at = time::OffsetDateTime::parse(
        v["created"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let id_seconds = i64::from(u32::from_str_radix(&id[..8], 16).unwrap());
    assert_eq!(id_seconds, created_at.unix_timestamp(), "{id}");
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "clusterCount",
            "created",
            "id",
            "links",
            "name",
            "orgId",
            "tags",
            "withDefaultAlertsSettings"
        ]
    );
    assert_eq!(
        v["tags"],
        serde_json::json!([{"key": "env", "value": "dev"}])
    );
    assert_eq!(v["withDefaultAlertsSettings"], true);
    let org = v["orgId"].as_str().unwrap();
    assert!(
        org.len() == 24 && org.bytes().all(|b| b.is_ascii_hexdigit()),
        "{org}"
    );
    // A second project joins the same organization; the spec's writable
    // regionUsageRestrictions is taken.
    let other = json(&digest_call(
        ORG,
        "POST",
        &groups,
        Some(r#"{"name":"prod","regionUsageRestrictions":"COMMERCIAL_FED_RAMP_REGIONS_ONLY"}"#),
    ));
    assert_eq!(other["orgId"], org);
    // The hand-written project has neither orgId nor created in the
    // registry; it is served with both, as Atlas always has them: the
    // registry's organization and the time its ObjectId id begins with.
    let written = json(&digest_call(ORG, "GET", &format!("{groups}/{GID}"), None));
    assert_eq!(written["orgId"], org);
    assert_eq!(written["created"], "2020-07-02T09:19:42Z");
    // PATCH: name and tags, 200.
    let one = format!("{groups}/{id}");
    let patched = digest_call(
        ORG,
        "PATCH",
        &one,
        Some(r#"{"name":"staging-2","tags":[]}"#),
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(json(&patched)["name"], "staging-2");
    assert_eq!(json(&patched)["tags"], serde_json::json!([]));
    // GET one, as recorded (TestAtlasProjects/Describe): the whole body,
    // with the self link and six related resources; list items carry the
    // self link only.
    let got = digest_call(ORG, "GET", &one, None);
    let created_at = v["created"].as_str().unwrap();
    let rels = [
        "containers",
        "clusters",
        "databaseUsers",
        "peers",
        "processes",
        "whitelist",
    ];
    let mut links = format!(r#"{{"href":"{one}","rel":"self"}}"#);
    for rel in rels {
        links.push_str(&format!(
            r#",{{"href":"{one}/{rel}","rel":"https://cloud.mongodb.com/{rel}"}}"#
        ));
    }
    assert_eq!(
        got.body,
        format!(
            r#"{{"clusterCount":0,"created":"{created_at}","id":"{id}","links":[{links}],"name":"staging-2","orgId":"{org}","tags":[],"withDefaultAlertsSettings":true}}"#
        )
    );
    assert_eq!(json(&patched)["links"], json(&got)["links"]);
    assert_eq!(v["links"].as_array().unwrap().len(), 7);
    let listed = json(&digest_call(ORG, "GET", &groups, None));
    for item in listed["results"].as_array().unwrap() {
        assert_eq!(item["links"].as_array().unwrap().len(), 1, "{item}");
    }
    let taken = digest_call(ORG, "PATCH", &one, Some(r#"{"name":"prod"}"#));
    assert_eq!(
        (taken.status, json(&taken)["errorCode"].as_str()),
        (409, Some("GROUP_ALREADY_EXISTS"))
    );
    // DELETE: 202 with {}, then the project is gone.
    let deleted = digest_call(ORG, "DELETE", &one, None);
    assert_eq!((deleted.status, deleted.body.as_str()), (202, "{}"));
    let gone = digest_call(ORG, "GET", &one, None);
    assert_eq!(
        (gone.status, json(&gone)["errorCode"].as_str()),
        (404, Some("GROUP_NOT_FOUND"))
    );
    let text = std::fs::read_to_string(home.path().join("users.toml")).unwrap();
    assert!(!text.contains("staging"), "{text}");
    // The CLI's --tag.
    let cli: serde_json::Value = serde_json::from_str(&home.ok(&[
        "projects",
        "create",
        "qa",
        "--tag",
        "team=core",
        "-o",
        "json",
    ]))
    .unwrap();
    assert_eq!(
        cli["tags"],
        serde_json::json!([{"key": "team", "value": "core"}])
    );
}

#[test]
fn a_project_is_found_by_its_name_by_keys_that_may_read_it() {
    let (_home, server) = home_and_server();
    let by_name = |key: &str, name: &str| {
        digest_call(
            key,
            "GET",
            &format!("{}/groups/byName/{name}", server.api("v2")),
            None,
        )
    };
    let found = by_name(READER, "test");
    assert_eq!(found.status, 200, "{}", found.body);
    let v = json(&found);
    assert_eq!(v["id"], GID);
    assert_eq!(v["name"], "test");
    assert_eq!(
        v["links"].as_array().unwrap().len(),
        7,
        "its own answer's links"
    );
    for (key, name) in [(READER, "nope"), ("outsider:outsider-secret", "test")] {
        let missing = by_name(key, name);
        assert_eq!(missing.status, 404, "{key} {name}");
        assert_eq!(json(&missing)["errorCode"], "GROUP_NAME_NOT_FOUND");
        assert_eq!(
            json(&missing)["detail"],
            format!("No group with name {name} exists.")
        );
    }
}
