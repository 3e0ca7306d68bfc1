//! Database users, projects and customer X.509 over HTTP, as Atlas answers
//! them, driven by curl with Digest; the CLI and the server see each
//! other's changes.

use crate::common::*;
use serde_json::Value;

pub(crate) const OWNER: &str = "owner:owner-secret";
pub(crate) const READER: &str = "reader:reader-secret";
pub(crate) const ORG: &str = "orgowner:orgowner-secret";

pub(crate) fn home_and_server() -> (TestHome, Server) {
    let home = TestHome::new(&format!("{}{API_KEYS}", registry("")));
    let server = Server::start(&home, &["--key-pool", "0"]);
    (home, server)
}

pub(crate) fn json(reply: &Reply) -> Value {
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
fn a_create_without_group_id_takes_the_path_s_project() {
    // As community.mongodb's mongodb_atlas_user module sends it: no
    // groupId (the spec requires it; Atlas takes the path's).
    let (_home, server) = home_and_server();
    let users = format!("{}/groups/{GID}/databaseUsers", server.api("v1.0"));
    let created = digest_call(
        OWNER,
        "POST",
        &users,
        Some(
            r#"{"username":"ansible","password":"Ansible-Pa55","databaseName":"admin","roles":[{"databaseName":"app","roleName":"read"}]}"#,
        ),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(json(&created)["groupId"], GID);
    // Another project in the body is still refused.
    let other = digest_call(
        OWNER,
        "POST",
        &users,
        Some(
            r#"{"username":"other","databaseName":"admin","groupId":"111111111111111111111111","roles":[{"databaseName":"app","roleName":"read"}]}"#,
        ),
    );
    assert_eq!(other.status, 400, "{}", other.body);
    assert_eq!(json(&other)["errorCode"], "INVALID_ATTRIBUTE");
}
