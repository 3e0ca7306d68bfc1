//! Service accounts over HTTP as the spec's version 2024-08-05 has them:
//! created at the organization (the Atlas CLI's own test body) and in a
//! project, listed, read, given a new secret, deleted; the secret shown
//! once, its end honoured by the token endpoint.

use serde_json::Value;

use crate::common::*;
use crate::manage_http::{ORG, OWNER, READER, home_and_server, json};

const ACCEPT_2024: &str = "Accept: application/vnd.atlas.2024-08-05+json";

/// `method` on `url` as `user`, asking for version 2024-08-05.
fn call(user: &str, method: &str, url: &str, body: Option<&str>) -> Reply {
    let mut args = vec!["--digest", "--user", user, "-X", method, "-H", ACCEPT_2024];
    if let Some(body) = body {
        args.extend(["-H", "Content-Type: application/json", "--data", body]);
    }
    args.push(url);
    curl(&args)
}

/// A token for `id:secret` (client credentials), or the refusal.
fn token(server: &Server, id: &str, secret: &str) -> Reply {
    crate::service_accounts::token(server, id, secret, "client_credentials")
}

#[test]
fn organization_and_project_accounts_over_http() {
    let (home, server) = home_and_server();
    let v2 = server.api("v2");
    let org = json(&digest_call(
        ORG,
        "GET",
        &format!("{v2}/groups/{GID}"),
        None,
    ))["orgId"]
        .as_str()
        .unwrap()
        .to_string();
    let accounts = format!("{v2}/orgs/{org}/serviceAccounts");
    // The Atlas CLI's test helper's body.
    let created = call(
        ORG,
        "POST",
        &accounts,
        Some(
            r#"{"description":"Test service account","name":"e2e-sa","roles":["ORG_OWNER"],"secretExpiresAfterHours":8}"#,
        ),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        created.header("content-type"),
        Some("application/vnd.atlas.2024-08-05+json;charset=utf-8")
    );
    let account = json(&created);
    let keys: Vec<&String> = account.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "clientId",
            "createdAt",
            "description",
            "name",
            "roles",
            "secrets"
        ]
    );
    let id = account["clientId"].as_str().unwrap().to_string();
    assert!(id.starts_with("mdb_sa_id_") && id.len() == 34, "{id}");
    assert_eq!(account["roles"], serde_json::json!(["ORG_OWNER"]));
    let secret = &account["secrets"][0];
    let plain = secret["secret"].as_str().unwrap().to_string();
    // The secret ends 8 hours after it was made.
    let at = |field: &str| {
        time::OffsetDateTime::parse(
            secret[field].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    assert_eq!(at("expiresAt") - at("createdAt"), time::Duration::hours(8));
    // The account works at once: a token, then the API.
    let granted = token(&server, &id, &plain);
    assert_eq!(granted.status, 200, "{}", granted.body);

    // Read back: the secret masked, never whole again.
    let got = call(ORG, "GET", &format!("{accounts}/{id}"), None);
    assert_eq!(got.status, 200, "{}", got.body);
    assert!(!got.body.contains(&plain));
    assert_eq!(json(&got)["description"], "Test service account");
    let listed = json(&call(ORG, "GET", &accounts, None));
    assert!(
        listed["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["clientId"] == id.as_str())
    );
    // The organization's endpoints: Organization Owner only, this
    // organization only; a project's owner is refused.
    assert_eq!(call(OWNER, "GET", &accounts, None).status, 401);
    let elsewhere = accounts.replace(&org, "0123456789abcdef01234567");
    assert_eq!(call(ORG, "GET", &elsewhere, None).status, 404);
    // Without the version it is served in, 406.
    assert_eq!(digest_call(ORG, "GET", &accounts, None).status, 406);

    // A new secret replaces the old: the old one grants nothing.
    let fresh = call(
        ORG,
        "POST",
        &format!("{accounts}/{id}/secrets"),
        Some(r#"{"secretExpiresAfterHours":24}"#),
    );
    assert_eq!(fresh.status, 201, "{}", fresh.body);
    let new_plain = json(&fresh)["secret"].as_str().unwrap().to_string();
    assert_eq!(token(&server, &id, &plain).status, 401);
    assert_eq!(token(&server, &id, &new_plain).status, 200);
    let secret_id = json(&fresh)["id"].as_str().unwrap().to_string();
    let last = call(
        ORG,
        "DELETE",
        &format!("{accounts}/{id}/secrets/{secret_id}"),
        None,
    );
    assert_eq!(json(&last)["errorCode"], "SERVICE_ACCOUNT_LAST_SECRET");

    // In a project: Project Owner creates, any project role reads.
    let in_project = format!("{v2}/groups/{GID}/serviceAccounts");
    let made = call(
        OWNER,
        "POST",
        &in_project,
        Some(
            r#"{"description":"ci","name":"ci","roles":["GROUP_READ_ONLY"],"secretExpiresAfterHours":8}"#,
        ),
    );
    assert_eq!(made.status, 201, "{}", made.body);
    let project_id = json(&made)["clientId"].as_str().unwrap().to_string();
    assert_eq!(json(&made)["roles"], serde_json::json!(["GROUP_READ_ONLY"]));
    let seen: Vec<Value> = json(&call(READER, "GET", &in_project, None))["results"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(
        seen.len(),
        1,
        "the organization's account is not the project's"
    );
    assert_eq!(seen[0]["clientId"], project_id.as_str());
    let refused = call(
        OWNER,
        "POST",
        &in_project,
        Some(r#"{"description":"x","name":"x","roles":["ORG_OWNER"],"secretExpiresAfterHours":8}"#),
    );
    assert_eq!(json(&refused)["errorCode"], "INVALID_ATTRIBUTE");
    let short = call(
        OWNER,
        "POST",
        &in_project,
        Some(
            r#"{"description":"x","name":"x","roles":["GROUP_OWNER"],"secretExpiresAfterHours":1}"#,
        ),
    );
    assert_eq!(json(&short)["parameters"][0], "secretExpiresAfterHours");

    // A Project Owner cannot take an account that holds roles elsewhere:
    // the organization's account, once given a role in the project, gets
    // no new secret there.
    let both = home.ok(&[
        "projects",
        "serviceAccounts",
        "create",
        "--name",
        "both",
        "--role",
        "ORG_OWNER",
        "--role",
        "GROUP_READ_ONLY",
        "--projectId",
        GID,
        "-o",
        "json",
    ]);
    let both_id = serde_json::from_str::<Value>(&both).unwrap()["clientId"]
        .as_str()
        .unwrap()
        .to_string();
    let taken = call(
        OWNER,
        "POST",
        &format!("{in_project}/{both_id}/secrets"),
        Some(r#"{"secretExpiresAfterHours":8}"#),
    );
    assert_eq!(
        json(&taken)["errorCode"],
        "USER_UNAUTHORIZED",
        "{}",
        taken.body
    );

    // PATCH: the name, the description and the roles where it stands.
    let patched = call(
        OWNER,
        "PATCH",
        &format!("{in_project}/{project_id}"),
        Some(r#"{"name":"ci-2","description":"nightly","roles":["GROUP_OWNER"]}"#),
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    let body = json(&patched);
    assert_eq!(
        (body["name"].as_str(), body["description"].as_str()),
        (Some("ci-2"), Some("nightly"))
    );
    assert_eq!(body["roles"], serde_json::json!(["GROUP_OWNER"]));
    assert!(
        body["secrets"][0]["secret"].is_null(),
        "never the secret again"
    );
    // Not from a project for an account holding roles elsewhere.
    let renamed = call(
        OWNER,
        "PATCH",
        &format!("{in_project}/{both_id}"),
        Some(r#"{"name":"mine"}"#),
    );
    assert_eq!(json(&renamed)["errorCode"], "USER_UNAUTHORIZED");
    // An account left without a role is refused.
    let none = call(
        ORG,
        "PATCH",
        &format!("{accounts}/{id}"),
        Some(r#"{"roles":[]}"#),
    );
    assert_eq!(
        json(&none)["errorCode"],
        "INVALID_ATTRIBUTE",
        "{}",
        none.body
    );

    // Deleted: from the project, then from the organization.
    let gone = call(OWNER, "DELETE", &format!("{in_project}/{project_id}"), None);
    assert_eq!((gone.status, gone.body.as_str()), (204, ""));
    assert_eq!(
        call(READER, "GET", &format!("{in_project}/{project_id}"), None).status,
        404
    );
    assert_eq!(
        call(ORG, "DELETE", &format!("{accounts}/{id}"), None).status,
        204
    );
    assert_eq!(token(&server, &id, &new_plain).status, 401);
    let registry = std::fs::read_to_string(home.path().join("users.toml")).unwrap();
    assert!(
        !registry.contains(&id) && !registry.contains(&project_id),
        "{registry}"
    );
}

#[test]
fn a_secret_past_its_end_grants_nothing() {
    let home = TestHome::new(&format!(
        "{}{API_KEYS}\n[[serviceAccounts]]\nname = \"old\"\nclientId = \"mdb_sa_id_000000000000000000000001\"\n\
         clientSecret = \"mdb_sa_sk_old\"\nsecretCreatedAt = \"2020-01-01T00:00:00Z\"\n\
         secretExpiresAt = \"2020-01-02T00:00:00Z\"\nroles = [{{ roleName = \"GROUP_OWNER\", groupId = \"{GID}\" }}]\n",
        registry("")
    ));
    let server = Server::start(&home, &["--key-pool", "0"]);
    let refused = token(
        &server,
        "mdb_sa_id_000000000000000000000001",
        "mdb_sa_sk_old",
    );
    assert_eq!(refused.status, 401, "{}", refused.body);
    // A half-recorded secret is an error at its line.
    let bad = TestHome::new(&format!(
        "{}[[serviceAccounts]]\nname = \"x\"\nclientId = \"mdb_sa_id_1\"\nclientSecret = \"s\"\n\
         secretExpiresAt = \"2020-01-02T00:00:00Z\"\nroles = [{{ roleName = \"ORG_OWNER\" }}]\n",
        registry("")
    ));
    let run = bad.run(&["dbusers", "list", "--projectId", GID]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("go together"), "{}", stderr(&run));
}
