//! Service accounts: OAuth 2.0 client credentials exchanged
//! exactly as Atlas's spec shows it, then `Authorization: Bearer` on the
//! API, from curl and from Python `requests`; revocation and expiry.

use std::process::Command;

use crate::common::*;
use serde_json::Value;

fn account(home: &TestHome, role: &str) -> (String, String) {
    let out = home.ok(&[
        "projects",
        "serviceAccounts",
        "create",
        "--name",
        "ci",
        "--role",
        role,
        "-o",
        "json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let id = v["clientId"].as_str().unwrap().to_string();
    let secret = v["clientSecret"].as_str().unwrap().to_string();
    (id, secret)
}

pub(crate) fn token(server: &Server, id: &str, secret: &str, grant: &str) -> Reply {
    curl(&[
        "--user",
        &format!("{id}:{secret}"),
        "-X",
        "POST",
        "-H",
        "Content-Type: application/x-www-form-urlencoded",
        "--data",
        &format!("grant_type={grant}"),
        &format!("{}/api/oauth/token", server.base),
    ])
}

fn bearer(method: &str, url: &str, token: &str) -> Reply {
    curl(&[
        "-X",
        method,
        "-H",
        &format!("Authorization: Bearer {token}"),
        "-H",
        "Content-Type: application/json",
        "--data",
        "{}",
        url,
    ])
}

#[test]
fn client_credentials_then_bearer_from_curl_and_python() {
    let home = TestHome::new(&registry(""));
    let (id, secret) = account(&home, "GROUP_OWNER");
    assert!(id.starts_with("mdb_sa_id_") && id.len() == 34, "{id}");
    assert!(secret.starts_with("mdb_sa_sk_"), "{secret}");
    let listed = home.ok(&["projects", "serviceAccounts", "ls"]);
    assert!(
        listed.contains(&id) && !listed.contains(&secret),
        "{listed}"
    );
    // Made first: a fresh venv takes longer than a token lives.
    let python = python_with(&["requests"]);
    let server = Server::start(&home, &["--token-ttl", "8", "--key-pool", "0"]);

    let granted = token(&server, &id, &secret, "client_credentials");
    assert_eq!(granted.status, 200, "{}", granted.body);
    // The docs' example answers with Atlas's versioned JSON type.
    assert_eq!(
        granted.header("content-type"),
        Some("application/vnd.atlas.2023-01-01+json;charset=utf-8")
    );
    assert!(
        granted.body.starts_with("{\"access_token\":\""),
        "{}",
        granted.body
    );
    assert!(
        granted
            .body
            .ends_with(",\"expires_in\":8,\"token_type\":\"Bearer\"}"),
        "{}",
        granted.body
    );
    let access: Value = serde_json::from_str(&granted.body).unwrap();
    let access = access["access_token"].as_str().unwrap().to_string();
    assert!(access.len() >= 32);

    let certs = format!(
        "{}/groups/{GID}/databaseUsers/alice/certs",
        server.api("v2")
    );
    let created = bearer("POST", &certs, &access);
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(created.body.starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(created.header("ratelimit-limit"), Some("1200"));

    let script = r#"
import sys, requests
r = requests.get(sys.argv[1], headers={"Authorization": "Bearer " + sys.argv[2],
                                      "Accept": "application/vnd.atlas.2023-01-01+json"})
print(r.status_code, r.json()["totalCount"])
"#;
    let out = script_ok(Command::new(&python).args(["-c", script, &certs, &access]));
    assert_eq!(out.trim(), "200 1");
    // Expiry is unit-tested in server/tokens.rs with injected times; a
    // token that is no longer live is refused as an expired one is.
}

#[test]
fn wrong_credentials_grants_revoked_and_unknown_tokens_are_refused() {
    let home = TestHome::new(&registry(""));
    let (id, secret) = account(&home, "GROUP_OWNER");
    let (reader, reader_secret) = account(&home, "GROUP_READ_ONLY");
    let server = Server::start(&home, &["--key-pool", "0"]);
    let wrong = token(&server, &id, "mdb_sa_sk_wrong", "client_credentials");
    assert_eq!(wrong.status, 401);
    assert_eq!(
        serde_json::from_str::<Value>(&wrong.body).unwrap()["error"],
        "invalid_client"
    );
    let grant = token(&server, &id, &secret, "password");
    assert_eq!(grant.status, 400);
    assert_eq!(
        serde_json::from_str::<Value>(&grant.body).unwrap()["error"],
        "unsupported_grant_type"
    );

    let certs = format!(
        "{}/groups/{GID}/databaseUsers/alice/certs",
        server.api("v2")
    );
    assert_eq!(bearer("GET", &certs, "not-a-token").status, 401);

    // The account's roles hold: a reader may list, not create.
    let read: Value =
        serde_json::from_str(&token(&server, &reader, &reader_secret, "client_credentials").body)
            .unwrap();
    let read = read["access_token"].as_str().unwrap();
    assert_eq!(bearer("GET", &certs, read).status, 200);
    let refused = bearer("POST", &certs, read);
    assert_eq!(
        serde_json::from_str::<Value>(&refused.body).unwrap()["errorCode"],
        "USER_UNAUTHORIZED"
    );

    // Revocation ends a token at once; another account cannot revoke it.
    let owner: Value =
        serde_json::from_str(&token(&server, &id, &secret, "client_credentials").body).unwrap();
    let owner = owner["access_token"].as_str().unwrap().to_string();
    let revoke = |user: &str| {
        curl(&[
            "--user",
            user,
            "-X",
            "POST",
            "--data",
            &format!("token={owner}"),
            &format!("{}/api/oauth/revoke", server.base),
        ])
    };
    assert_eq!(revoke(&format!("{reader}:{reader_secret}")).status, 200);
    assert_eq!(
        bearer("GET", &certs, &owner).status,
        200,
        "not the reader's to revoke"
    );
    assert_eq!(revoke(&format!("{id}:{secret}")).status, 200);
    assert_eq!(bearer("GET", &certs, &owner).status, 401);

    // A deleted account's tokens stop working with the registry reload.
    let again: Value =
        serde_json::from_str(&token(&server, &id, &secret, "client_credentials").body).unwrap();
    let again = again["access_token"].as_str().unwrap().to_string();
    home.ok(&["projects", "serviceAccounts", "rm", &id]);
    assert_eq!(bearer("GET", &certs, &again).status, 401);
}

fn access_token(server: &Server, id: &str, secret: &str) -> String {
    let granted = token(server, id, secret, "client_credentials");
    assert_eq!(granted.status, 200, "{}", granted.body);
    let v: Value = serde_json::from_str(&granted.body).unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

#[test]
fn one_account_asking_for_many_tokens_logs_only_itself_out() {
    let home = TestHome::new(&registry(""));
    let (greedy, greedy_secret) = account(&home, "GROUP_READ_ONLY");
    let (other, other_secret) = account(&home, "GROUP_READ_ONLY");
    let server = Server::start(&home, &[]);
    let users = format!("{}/groups/{GID}/databaseUsers", server.api("v2"));
    let kept = access_token(&server, &other, &other_secret);
    let first = access_token(&server, &greedy, &greedy_secret);
    let mut last = String::new();
    // Its bound is 100 live tokens: 120 more push out its own first one.
    for _ in 0..120 {
        last = access_token(&server, &greedy, &greedy_secret);
    }
    assert_eq!(
        bearer("GET", &users, &kept).status,
        200,
        "another account's token"
    );
    assert_eq!(bearer("GET", &users, &last).status, 200, "its newest token");
    let evicted = bearer("GET", &users, &first);
    assert_eq!(evicted.status, 401, "its own oldest token goes");
    assert_eq!(
        evicted.header("www-authenticate"),
        Some("Bearer error=\"invalid_token\"")
    );
}

#[test]
fn a_changed_secret_or_a_remade_account_ends_its_tokens() {
    let home = TestHome::new(&registry(""));
    let (id, secret) = account(&home, "GROUP_READ_ONLY");
    let server = Server::start(&home, &[]);
    let users = format!("{}/groups/{GID}/databaseUsers", server.api("v2"));
    let granted = access_token(&server, &id, &secret);
    assert_eq!(bearer("GET", &users, &granted).status, 200);

    // The secret changed by hand in the registry: the token ends with it.
    let path = home.path().join("users.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(&secret));
    let changed = text.replace(&secret, "mdb_sa_sk_changed-by-hand-0123456789");
    std::fs::write(&path, &changed).unwrap();
    assert_eq!(
        bearer("GET", &users, &granted).status,
        401,
        "after a new secret"
    );
    // And stays ended when the old secret comes back.
    std::fs::write(&path, &text).unwrap();
    assert_eq!(
        bearer("GET", &users, &granted).status,
        401,
        "secret restored"
    );

    // Deleted, then made again by hand with the same client id and a new
    // secret: the old token does not come back to life.
    let fresh = access_token(&server, &id, &secret);
    home.ok(&["projects", "serviceAccounts", "rm", &id]);
    std::fs::write(&path, &changed).unwrap();
    assert_eq!(
        bearer("GET", &users, &fresh).status,
        401,
        "a remade account"
    );
}
