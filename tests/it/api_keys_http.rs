//! Project API keys over HTTP as the Atlas CLI's `TestAtlasProjectAPIKeys`
//! records them: create, assign (`PATCH`), and the cleanup through the
//! organization's `DELETE /orgs/{orgId}/apiKeys/{id}`, where every key's
//! `self` link points.

use super::manage_http::{ORG, OWNER, home_and_server, json};
use crate::common::*;

#[test]
fn a_key_is_created_assigned_and_deleted_where_its_link_points() {
    let (home, server) = home_and_server();
    let keys = format!("{}/groups/{GID}/apiKeys", server.api("v2"));
    let created = digest_call(
        OWNER,
        "POST",
        &keys,
        Some(r#"{"desc":"e2e","roles":["GROUP_OWNER"]}"#),
    );
    assert_eq!(created.status, 200, "{}", created.body);
    let key = json(&created);
    let id = key["id"].as_str().unwrap().to_string();
    let link = key["links"][0]["href"].as_str().unwrap().to_string();
    let org = link
        .split("/orgs/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_string();
    assert_eq!(
        link,
        format!("{}/orgs/{org}/apiKeys/{id}", server.api("v2"))
    );

    // Assign: the key's roles in the project become the ones sent.
    let one = format!("{keys}/{id}");
    let assigned = digest_call(
        OWNER,
        "PATCH",
        &one,
        Some(r#"{"roles":["GROUP_READ_ONLY"]}"#),
    );
    assert_eq!(assigned.status, 200, "{}", assigned.body);
    let roles = &json(&assigned)["roles"];
    // As its own answer shows a key (recorded): ORG_MEMBER, then the
    // project's roles; the private key masked.
    assert_eq!(
        roles,
        &serde_json::json!([
            {"orgId": org, "roleName": "ORG_MEMBER"},
            {"groupId": GID, "roleName": "GROUP_READ_ONLY"}
        ])
    );
    let private = json(&assigned)["privateKey"].as_str().unwrap().to_string();
    assert!(private.starts_with("********-"), "{private}");
    let twice = digest_call(
        OWNER,
        "PATCH",
        &one,
        Some(r#"{"roles":["GROUP_OWNER","GROUP_OWNER"]}"#),
    );
    assert_eq!(json(&twice)["errorCode"], "INVALID_ATTRIBUTE");
    // The spec's body has an optional `desc` too: renamed, roles kept.
    let renamed = json(&digest_call(
        OWNER,
        "PATCH",
        &one,
        Some(r#"{"desc":"renamed"}"#),
    ));
    assert_eq!(renamed["desc"], "renamed");
    assert_eq!(&renamed["roles"], roles);

    // The organization's endpoints: Organization Owner only, this
    // organization only.
    assert_eq!(
        json(&digest_call(OWNER, "GET", &link, None))["errorCode"],
        "USER_UNAUTHORIZED"
    );
    let got = digest_call(ORG, "GET", &link, None);
    assert_eq!(got.status, 200, "{}", got.body);
    // The organization's key endpoints have their own allowance (seen).
    assert_eq!(got.header("ratelimit-limit"), Some("500"));
    assert_eq!(json(&got)["id"], id.as_str());
    let elsewhere = link.replace(&org, "0123456789abcdef01234567");
    assert_eq!(digest_call(ORG, "GET", &elsewhere, None).status, 404);
    let before = registry_of(&home);
    assert_eq!(digest_call(ORG, "DELETE", &link, None).status, 204);
    assert_ne!(registry_of(&home), before);
    let gone = digest_call(ORG, "GET", &link, None);
    assert_eq!(
        (gone.status, json(&gone)["errorCode"].as_str()),
        (404, Some("API_KEY_NOT_FOUND"))
    );
    let listed = json(&digest_call(OWNER, "GET", &keys, None));
    assert!(
        listed["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["id"] != id.as_str()),
        "{listed}"
    );
}

fn registry_of(home: &TestHome) -> String {
    std::fs::read_to_string(home.path().join("users.toml")).unwrap()
}

#[test]
fn every_project_role_has_the_specs_permissions() {
    let (_home, server) = home_and_server();
    let group = format!("{}/groups/{GID}", server.api("v2"));
    let keys = format!("{group}/apiKeys");
    // The Atlas CLI's own tests give keys GROUP_DATA_ACCESS_READ_ONLY.
    let created = json(&digest_call(
        OWNER,
        "POST",
        &keys,
        Some(r#"{"desc":"reads","roles":["GROUP_DATA_ACCESS_READ_ONLY"]}"#),
    ));
    let id = created["id"].as_str().unwrap().to_string();
    let user = format!(
        "{}:{}",
        created["publicKey"].as_str().unwrap(),
        created["privateKey"].as_str().unwrap()
    );
    let users = format!("{group}/databaseUsers");
    let new_user = |name: &str| {
        format!(
            r#"{{"databaseName":"$external","username":"{name}","x509Type":"MANAGED","roles":[{{"databaseName":"app","roleName":"read"}}]}}"#
        )
    };
    // listDatabaseUsers: Project Read Only, which every project role holds.
    assert_eq!(digest_call(&user, "GET", &users, None).status, 200);
    assert_eq!(
        digest_call(&user, "GET", &format!("{group}/settings"), None).status,
        200
    );
    // createDatabaseUser: Database Access Admin or Stream Processing Owner.
    let refused = digest_call(&user, "POST", &users, Some(&new_user("ann")));
    assert_eq!(
        (refused.status, json(&refused)["errorCode"].as_str()),
        (401, Some("USER_UNAUTHORIZED"))
    );
    // addProjectApiKey: the key's roles in the project; 204, no body.
    let added = digest_call(
        OWNER,
        "POST",
        &format!("{keys}/{id}"),
        Some(&format!(
            r#"[{{"roles":["GROUP_STREAM_PROCESSING_OWNER"],"userId":"{id}"}}]"#
        )),
    );
    assert_eq!((added.status, added.body.as_str()), (204, ""));
    let other = digest_call(
        OWNER,
        "POST",
        &format!("{keys}/{id}"),
        Some(r#"[{"roles":["GROUP_READ_ONLY"],"userId":"0123456789abcdef01234567"}]"#),
    );
    assert_eq!(json(&other)["errorCode"], "INVALID_ATTRIBUTE");
    let made = digest_call(&user, "POST", &users, Some(&new_user("ann")));
    assert_eq!(made.status, 201, "{}", made.body);
    // createDatabaseUserCertificate and the project's settings: Project Owner.
    let cert = digest_call(&user, "POST", &format!("{users}/ann/certs"), Some("{}"));
    assert_eq!(cert.status, 401, "{}", cert.body);
    let settings = digest_call(&user, "PATCH", &format!("{group}/settings"), Some("{}"));
    assert_eq!(settings.status, 401, "{}", settings.body);
}
