//! Bounds on what the API and the registry hold (issue 30 item 3): roles
//! per key, keys per organization, scopes and labels per user, the
//! registry's size; each refusal leaves the registry as it was.

use crate::common::*;

/// The registry file of `home`, as bytes.
fn registry_bytes(home: &TestHome) -> Vec<u8> {
    std::fs::read(home.path().join("users.toml")).unwrap()
}

#[test]
fn api_keys_roles_scopes_and_labels_are_bounded_over_http() {
    let (home, server) = super::manage_http::home_and_server();
    let api = server.api("v2");
    let owner = "owner:owner-secret";
    let keys = format!("{api}/groups/{GID}/apiKeys");
    let users = format!("{api}/groups/{GID}/databaseUsers");
    let before = registry_bytes(&home);
    let doubled = r#"{"desc":"ci","roles":["GROUP_READ_ONLY","GROUP_READ_ONLY"]}"#;
    let many_scopes: Vec<String> = (0..101)
        .map(|i| format!(r#"{{"name":"c{i}","type":"CLUSTER"}}"#))
        .collect();
    let many_labels: Vec<String> = (0..101)
        .map(|i| format!(r#"{{"key":"k{i}","value":"v"}}"#))
        .collect();
    let user = |field: &str, items: &[String]| {
        format!(
            r#"{{"username":"eve","databaseName":"$external","x509Type":"MANAGED",
                "roles":[{{"roleName":"read","databaseName":"app"}}],"{field}":[{}]}}"#,
            items.join(",")
        )
    };
    for (url, body, attribute) in [
        (&keys, doubled.to_string(), "roles"),
        (&users, user("scopes", &many_scopes), "scopes"),
        (&users, user("labels", &many_labels), "labels"),
    ] {
        let reply = digest_call(owner, "POST", url, Some(&body));
        let answer: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(reply.status, 400, "{attribute}: {}", reply.body);
        assert_eq!(answer["errorCode"], "INVALID_ATTRIBUTE");
        assert_eq!(answer["parameters"][0], attribute);
    }
    assert_eq!(registry_bytes(&home), before, "a refused call wrote");
    // At the cap (100 each) a user is accepted.
    let hundred = user("labels", &many_labels[..100]);
    assert_eq!(
        digest_call(owner, "POST", &users, Some(&hundred)).status,
        201
    );
}

#[test]
fn api_keys_are_capped_per_organization() {
    let others: String = (0..495)
        .map(|i| {
            format!(
                "[[apiKeys]]\npublicKey = \"k{i}\"\nprivateKey = \"s\"\n\
                 roles = [{{ roleName = \"GROUP_READ_ONLY\", groupId = \"{GID}\" }}]\n"
            )
        })
        .collect();
    let home = TestHome::new(&format!("{}{API_KEYS}{others}", registry("")));
    let server = Server::start(&home, &[]);
    let before = registry_bytes(&home);
    let keys = format!("{}/groups/{GID}/apiKeys", server.api("v2"));
    let body = r#"{"desc":"one too many","roles":["GROUP_READ_ONLY"]}"#;
    let reply = digest_call("owner:owner-secret", "POST", &keys, Some(body));
    assert_eq!(reply.status, 400, "{}", reply.body);
    let answer: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(answer["errorCode"], "CREDENTIAL_LIMIT_EXCEEDED");
    assert_eq!(answer["parameters"], serde_json::json!(["500", "API keys"]));
    let cli = home.run(&[
        "projects",
        "apiKeys",
        "create",
        "--desc",
        "x",
        "--role",
        "GROUP_READ_ONLY",
        "--projectId",
        GID,
    ]);
    assert_eq!(cli.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&cli.stderr).contains("maximum of 500 API keys"));
    assert_eq!(registry_bytes(&home), before);
    // One more written by hand is refused where it stands.
    let text = format!(
        "{}[[apiKeys]]\npublicKey = \"extra\"\nprivateKey = \"s\"\nroles = [{{ roleName = \"ORG_OWNER\" }}]\n",
        String::from_utf8(before).unwrap()
    );
    std::fs::write(home.path().join("users.toml"), &text).unwrap();
    let refused = home.run(&["dbusers", "list"]);
    let err = String::from_utf8_lossy(&refused.stderr);
    let line = text.lines().count() - 2;
    assert!(
        err.contains(&format!(
            "users.toml:{line}:13: a registry holds at most 500 [[apiKeys]]"
        )),
        "{err}"
    );
}

#[test]
fn a_repeated_key_role_in_the_registry_is_refused_at_its_place() {
    let text = format!(
        "{}[[apiKeys]]\npublicKey = \"p\"\nprivateKey = \"q\"\n\
         roles = [{{ roleName = \"ORG_OWNER\" }}, {{ roleName = \"ORG_OWNER\" }}]\n",
        registry("")
    );
    let home = TestHome::new(&text);
    let run = home.run(&["dbusers", "list"]);
    assert_eq!(run.status.code(), Some(1));
    let line = text.lines().count();
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains(&format!(
            "users.toml:{line}:38: this role is already granted above"
        )),
        "{err}"
    );
}

#[test]
fn the_registry_is_bounded_in_size() {
    const LIMIT: usize = 4 << 20;
    let base = registry("");
    let pad = |n: usize| format!("{base}#{}\n", "x".repeat(n));
    // Just under the bound: reading works, a write that crosses it is
    // refused and leaves the file as it was.
    let home = TestHome::new(&pad(LIMIT - base.len() - 100));
    let before = registry_bytes(&home);
    assert!(before.len() <= LIMIT);
    let long_name = "a-user-with-a-long-name-to-cross-the-bound-0123456789";
    let run = home.run(&[
        "dbusers",
        "create",
        "readAnyDatabase",
        "--username",
        long_name,
    ]);
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    assert!(String::from_utf8_lossy(&run.stderr).contains("would be over 4 MiB"));
    assert_eq!(registry_bytes(&home), before);
    // Over it: refused on reading, with the file named.
    let home = TestHome::new(&pad(LIMIT));
    let run = home.run(&["dbusers", "list"]);
    assert_eq!(run.status.code(), Some(1));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("users.toml") && err.contains("over 4 MiB"),
        "{err}"
    );
}
