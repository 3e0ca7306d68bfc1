//! Database users, projects and customer X.509 over HTTP, as Atlas answers
//! them, driven by curl with Digest; the CLI and the server see each
//! other's changes.

use std::path::{Path, PathBuf};

use crate::common::*;
use serde_json::Value;

const OWNER: &str = "owner:owner-secret";
const READER: &str = "reader:reader-secret";
const ORG: &str = "orgowner:orgowner-secret";

fn home_and_server() -> (TestHome, Server) {
    let home = TestHome::new(&format!("{}{API_KEYS}", registry("")));
    let server = Server::start(&home, &["--key-pool", "0"]);
    (home, server)
}

fn json(reply: &Reply) -> Value {
    serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("{e}: {}", reply.body))
}

#[test]
fn the_certificate_flow_over_http() {
    let (_home, server) = home_and_server();
    let users = format!("{}/groups/{GID}/databaseUsers", server.api("v2"));
    let created = digest_call(
        OWNER,
        "POST",
        &users,
        Some(
            r#"{"username":"user389","databaseName":"$external","x509Type":"MANAGED","groupId":"5efda6aea3f2ed2e7dd6ce05","roles":[{"databaseName":"admin","roleName":"atlasAdmin"}]}"#,
        ),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        created.header("content-type"),
        Some("application/vnd.atlas.2023-01-01+json;charset=utf-8")
    );
    let host = server.base.trim_start_matches("http://");
    assert_eq!(
        created.body,
        format!(
            r#"{{"awsIAMType":"NONE","databaseName":"$external","groupId":"{GID}","labels":[],"ldapAuthType":"NONE","links":[{{"href":"http://{host}/api/atlas/v2/groups/{GID}/databaseUsers/$external/user389","rel":"self"}}],"oidcAuthType":"NONE","roles":[{{"databaseName":"admin","roleName":"atlasAdmin"}}],"scopes":[],"username":"user389","x509Type":"MANAGED"}}"#
        )
    );
    let got = digest_call(READER, "GET", &format!("{users}/$external/user389"), None);
    assert_eq!(
        (got.status, got.body.as_str()),
        (200, created.body.as_str())
    );

    let cert = digest_call(OWNER, "POST", &format!("{users}/user389/certs"), Some("{}"));
    assert_eq!(cert.status, 201, "{}", cert.body);
    assert!(cert.body.starts_with("-----BEGIN CERTIFICATE-----\n"));
    let list = json(&digest_call(
        READER,
        "GET",
        &format!("{users}/user389/certs"),
        None,
    ));
    assert_eq!(list["totalCount"], 1);

    let deleted = digest_call(OWNER, "DELETE", &format!("{users}/$external/user389"), None);
    assert_eq!(deleted.status, 204);
    assert_eq!(deleted.body, "");
    assert_eq!(
        deleted.header("content-type"),
        Some("application/vnd.atlas.2023-01-01+json;charset=utf-8")
    );
    let gone = digest_call(READER, "GET", &format!("{users}/$external/user389"), None);
    assert_eq!(json(&gone)["errorCode"], "USERNAME_NOT_FOUND");
}

#[test]
fn user_errors_over_http_change_nothing() {
    let (home, server) = home_and_server();
    let users = format!("{}/groups/{GID}/databaseUsers", server.api("v2"));
    let before = std::fs::read_to_string(home.path().join("users.toml")).unwrap();
    // A whole body with `fields` over the required ones.
    let full = |fields: &str| {
        let mut body: Value = serde_json::from_str(&format!(
            r#"{{"username":"x","databaseName":"admin","groupId":"{GID}","roles":[]}}"#
        ))
        .unwrap();
        let over: Value = serde_json::from_str(fields).unwrap();
        for (k, v) in over.as_object().unwrap() {
            body[k] = v.clone();
        }
        body.to_string()
    };
    let cases: Vec<(&str, &str, Option<String>, u16, &str)> = vec![
        (
            OWNER,
            "POST",
            Some(full(
                r#"{"username":"alice","databaseName":"$external","x509Type":"MANAGED"}"#,
            )),
            409,
            "USER_ALREADY_EXISTS",
        ),
        (
            OWNER,
            "POST",
            Some(r#"{"x509Type":"MANAGED"}"#.into()),
            400,
            "MISSING_ATTRIBUTE",
        ),
        (
            OWNER,
            "POST",
            Some(full(r#"{"x509Type":"MANAGED"}"#)),
            400,
            "INVALID_ATTRIBUTE",
        ),
        (
            OWNER,
            "POST",
            Some(full(
                r#"{"roles":[{"roleName":"atlasAdmin","databaseName":"app"}]}"#,
            )),
            400,
            "INVALID_ATTRIBUTE",
        ),
        (
            OWNER,
            "POST",
            Some(full(r#"{"x509Type":"SOMETIMES"}"#)),
            400,
            "INVALID_JSON_ATTRIBUTE",
        ),
        // LDAP users live in $external, LDAP groups in admin.
        (
            OWNER,
            "POST",
            Some(full(r#"{"ldapAuthType":"USER"}"#)),
            400,
            "INVALID_ATTRIBUTE",
        ),
        // Two kinds at once; a short password; a password for $external.
        (
            OWNER,
            "POST",
            Some(full(
                r#"{"databaseName":"$external","x509Type":"MANAGED","ldapAuthType":"USER"}"#,
            )),
            400,
            "INVALID_ATTRIBUTE",
        ),
        (
            OWNER,
            "POST",
            Some(full(r#"{"password":"short"}"#)),
            400,
            "INVALID_ATTRIBUTE",
        ),
        (
            OWNER,
            "POST",
            Some(full(
                r#"{"databaseName":"$external","password":"long enough"}"#,
            )),
            400,
            "INVALID_ATTRIBUTE",
        ),
        // An AWS IAM user is named by an ARN; an OIDC one IDP/NAME.
        (
            OWNER,
            "POST",
            Some(full(r#"{"databaseName":"$external","awsIAMType":"USER"}"#)),
            400,
            "INVALID_ATTRIBUTE",
        ),
        (
            OWNER,
            "POST",
            Some(full(r#"{"oidcAuthType":"IDP_GROUP"}"#)),
            400,
            "INVALID_ATTRIBUTE",
        ),
        // A longer name than the spec's 1024 characters.
        (
            OWNER,
            "POST",
            Some(full(&format!(r#"{{"username":"{}"}}"#, "u".repeat(1025)))),
            400,
            "INVALID_ATTRIBUTE",
        ),
        // The body's project is the path's.
        (
            OWNER,
            "POST",
            Some(full(r#"{"groupId":"111111111111111111111111"}"#)),
            400,
            "INVALID_ATTRIBUTE",
        ),
        (OWNER, "POST", Some("{".into()), 400, "MALFORMED_JSON"),
        (READER, "POST", Some(full("{}")), 401, "USER_UNAUTHORIZED"),
        (
            "outsider:outsider-secret",
            "POST",
            Some(full("{}")),
            401,
            "NOT_IN_GROUP",
        ),
    ];
    for (user, method, body, status, code) in cases {
        let reply = digest_call(user, method, &users, body.as_deref());
        assert_eq!(
            (reply.status, json(&reply)["errorCode"].as_str()),
            (status, Some(code)),
            "{body:?}: {}",
            reply.body
        );
    }
    let patch = digest_call(OWNER, "PATCH", &format!("{users}/admin/alice"), Some("{}"));
    assert_eq!(json(&patch)["errorCode"], "USERNAME_NOT_FOUND");
    let delete = digest_call(READER, "DELETE", &format!("{users}/$external/alice"), None);
    assert_eq!(json(&delete)["errorCode"], "USER_UNAUTHORIZED");
    assert_eq!(
        std::fs::read_to_string(home.path().join("users.toml")).unwrap(),
        before
    );
}

#[test]
fn the_cli_and_the_server_see_each_others_changes() {
    let (home, server) = home_and_server();
    let users = format!("{}/groups/{GID}/databaseUsers", server.api("v2"));
    home.ok(&[
        "dbusers",
        "create",
        "readAnyDatabase",
        "--username",
        "from-cli",
        "--x509Type",
        "MANAGED",
    ]);
    let got = digest_call(READER, "GET", &format!("{users}/$external/from-cli"), None);
    assert_eq!(got.status, 200, "{}", got.body);
    let patched = digest_call(
        OWNER,
        "PATCH",
        &format!("{users}/$external/from-cli"),
        Some(r#"{"roles":[{"roleName":"read","databaseName":"app","collectionName":"orders"}]}"#),
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(json(&patched)["roles"][0]["collectionName"], "orders");
    let described = home.ok(&[
        "dbusers",
        "describe",
        "from-cli",
        "--authDB",
        "$external",
        "-o",
        "json",
    ]);
    let described: Value = serde_json::from_str(&described).unwrap();
    assert_eq!(described["roles"][0]["collectionName"], "orders");
    let body = format!(
        r#"{{"username":"from-http","databaseName":"admin","groupId":"{GID}","roles":[]}}"#
    );
    let created = digest_call(OWNER, "POST", &users, Some(&body));
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(home.ok(&["dbusers", "ls"]).contains("from-http "));
}

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
    home.ok(&[
        "dbusers",
        "certs",
        "create",
        "--username",
        "alice",
        "--key-type",
        "ec-p256",
    ]);
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
fn null_means_absent_in_request_bodies() {
    let (_home, server) = home_and_server();
    let users = format!("{}/groups/{GID}/databaseUsers", server.api("v2"));
    // go.mongodb.org/atlas sends "scopes":null (and "labels":null) when unset.
    let created = digest_call(
        OWNER,
        "POST",
        &users,
        Some(
            r#"{"databaseName":"$external","groupId":"5efda6aea3f2ed2e7dd6ce05","username":"erin","x509Type":"MANAGED","roles":[{"databaseName":"app","roleName":"read"}],"scopes":null,"labels":null}"#,
        ),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    // The Atlas CLI's `dbusers update --password` sends "roles":null: 200,
    // the roles kept.
    let patched = digest_call(
        OWNER,
        "PATCH",
        &format!("{users}/$external/erin"),
        Some(r#"{"roles":null,"x509Type":"MANAGED"}"#),
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(
        json(&patched)["roles"],
        serde_json::json!([{"databaseName": "app", "roleName": "read"}])
    );
    let security = format!("{}/groups/{GID}/userSecurity", server.api("v2"));
    let same = digest_call(OWNER, "PATCH", &security, Some(r#"{"customerX509":null}"#));
    assert_eq!(same.status, 202, "{}", same.body);
    assert_eq!(json(&same)["customerX509"], serde_json::json!({}));
}

#[test]
fn scopes_labels_description_and_delete_after_date_are_stored_and_echoed() {
    let (_home, server) = home_and_server();
    let users = format!("{}/groups/{GID}/databaseUsers", server.api("v2"));
    let body = r#"{"databaseName":"$external","groupId":"5efda6aea3f2ed2e7dd6ce05","username":"erin","x509Type":"MANAGED","roles":[{"databaseName":"app","roleName":"read"}],"scopes":[{"name":"Cluster0","type":"CLUSTER"}],"labels":[{"key":"team","value":"core"}],"description":"CI user","deleteAfterDate":"2099-01-02T03:04:05Z"}"#;
    let created = digest_call(OWNER, "POST", &users, Some(body));
    assert_eq!(created.status, 201, "{}", created.body);
    let href = format!("{users}/$external/erin");
    assert_eq!(
        created.body,
        format!(
            r#"{{"awsIAMType":"NONE","databaseName":"$external","deleteAfterDate":"2099-01-02T03:04:05Z","description":"CI user","groupId":"{GID}","labels":[{{"key":"team","value":"core"}}],"ldapAuthType":"NONE","links":[{{"href":"{href}","rel":"self"}}],"oidcAuthType":"NONE","roles":[{{"databaseName":"app","roleName":"read"}}],"scopes":[{{"name":"Cluster0","type":"CLUSTER"}}],"username":"erin","x509Type":"MANAGED"}}"#
        )
    );
    // Given scopes replace the old ones; the rest stays.
    let patched = digest_call(
        OWNER,
        "PATCH",
        &href,
        Some(r#"{"scopes":[{"name":"Lake","type":"DATA_LAKE"}]}"#),
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    let v = json(&patched);
    assert_eq!(
        v["scopes"],
        serde_json::json!([{"name": "Lake", "type": "DATA_LAKE"}])
    );
    assert_eq!(
        v["labels"],
        serde_json::json!([{"key": "team", "value": "core"}])
    );
    assert_eq!(json(&digest_call(READER, "GET", &href, None)), v);
    // What the spec refuses.
    for (bad, code) in [
        (
            format!(r#"{{"description":"{}"}}"#, "d".repeat(101)),
            "INVALID_ATTRIBUTE",
        ),
        (
            r#"{"deleteAfterDate":"tomorrow"}"#.to_string(),
            "INVALID_ATTRIBUTE",
        ),
        (
            r#"{"scopes":[{"name":"x","type":"SHARD"}]}"#.to_string(),
            "INVALID_JSON_ATTRIBUTE",
        ),
    ] {
        let reply = digest_call(OWNER, "PATCH", &href, Some(&bad));
        assert_eq!(
            (reply.status, json(&reply)["errorCode"].as_str()),
            (400, Some(code)),
            "{bad}"
        );
    }
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
    assert_eq!(
        created.header("location"),
        Some(format!("{groups}/{id}").as_str())
    );
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
    // A second project joins the same organization.
    let other = json(&digest_call(
        ORG,
        "POST",
        &groups,
        Some(r#"{"name":"prod"}"#),
    ));
    assert_eq!(other["orgId"], org);
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
