//! Names and descriptions that would not show as themselves (bidi
//! overrides, zero-width and line-separator characters): refused where
//! they are made, from the CLI and over HTTP, and escaped wherever a list
//! prints one that a hand-edited registry holds.

use serde_json::Value;

use crate::common::*;

const HIDDEN: [char; 5] = ['\u{202E}', '\u{200B}', '\u{2028}', '\u{2029}', '\u{E000}'];

#[test]
fn projects_keys_and_accounts_refuse_hidden_characters() {
    let home = TestHome::new(&format!("{}{API_KEYS}", registry("")));
    let before = std::fs::read(home.path().join("users.toml")).unwrap();
    for c in HIDDEN {
        let name = format!("evil{c}name");
        for args in [
            vec!["projects", "create", &name],
            vec![
                "projects",
                "apiKeys",
                "create",
                "--desc",
                &name,
                "--role",
                "ORG_OWNER",
            ],
            vec![
                "projects",
                "serviceAccounts",
                "create",
                "--name",
                &name,
                "--role",
                "ORG_OWNER",
            ],
        ] {
            let out = home.run(&args);
            let err = stderr(&out);
            assert!(!out.status.success(), "{args:?} U+{:04X}", u32::from(c));
            assert!(err.contains("INVALID_ATTRIBUTE"), "{args:?}: {err}");
            assert!(
                !err.contains(c),
                "U+{:04X} reached the terminal",
                u32::from(c)
            );
        }
    }
    // Atlas's project name pattern: no spaces or slashes either.
    for name in ["two words", "a/b", &"x".repeat(65)] {
        let out = home.run(&["projects", "create", name]);
        assert!(stderr(&out).contains("INVALID_ATTRIBUTE"), "{name}");
    }
    assert_eq!(
        std::fs::read(home.path().join("users.toml")).unwrap(),
        before,
        "no refused name reached the registry"
    );
    // What the pattern allows, any script included.
    home.ok(&["projects", "create", "Калоян_(prod):v2"]);

    // Over HTTP, as the Organization Owner.
    let server = Server::start(&home, &[]);
    let groups = format!("{}/groups", server.api("v2"));
    let body = serde_json::json!({"name": "evil\u{202E}name", "orgId": "x"}).to_string();
    let reply = curl(&[
        "--digest",
        "--user",
        "orgowner:orgowner-secret",
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "--data",
        &body,
        &groups,
    ]);
    assert_eq!(reply.status, 400, "{}", reply.body);
    let error: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(error["errorCode"], "INVALID_ATTRIBUTE", "{}", reply.body);
}

#[test]
fn lists_escape_what_a_hand_edited_registry_holds() {
    let text = format!(
        "{}\n[[projects.databaseUsers]]\nusername = \"mal\\u202Eory\"\nx509Type = \"MANAGED\"\n\
         \n[[apiKeys]]\npublicKey = \"hidden\"\nprivateKey = \"hidden-secret-value\"\n\
         desc = \"key\\u200Bdesc\"\nroles = [{{ roleName = \"GROUP_READ_ONLY\", groupId = \"{GID}\" }}]\n",
        registry("").replace("name = \"test\"", "name = \"te\\u202Est\"")
    );
    let home = TestHome::new(&text);
    for (args, shown) in [
        (vec!["projects", "list"], "te\\u{202e}st"),
        (vec!["projects", "apiKeys", "list"], "key\\u{200b}desc"),
        (vec!["dbusers", "list"], "mal\\u{202e}ory"),
    ] {
        let out = home.ok(&args);
        assert!(out.contains(shown), "{args:?}: {out}");
        assert!(
            !out.contains('\u{202E}') && !out.contains('\u{200B}'),
            "{args:?}: {out:?}"
        );
    }
    // JSON escapes them as JSON does: the same value, nothing raw.
    let out = home.ok(&["projects", "list", "-o", "json"]);
    assert!(out.contains("te\\u202est"), "{out}");
    assert!(!out.contains('\u{202E}'), "{out:?}");
    let parsed: Value = serde_json::from_str(&out).unwrap();
    assert!(
        parsed.to_string().contains('\u{202E}'),
        "the value is unchanged"
    );
    // A short secret shows at most a third of itself.
    let keys = home.ok(&["projects", "apiKeys", "list", "-o", "json"]);
    assert!(keys.contains("******-******-value"), "{keys}");
}

#[test]
fn users_are_bounded_where_atlas_and_mongodb_bound_them() {
    let home = TestHome::new(&format!("{}{API_KEYS}", registry("")));
    let server = Server::start(&home, &[]);
    let users = format!("{}/groups/{GID}/databaseUsers", server.api("v2"));
    let post = |body: Value| {
        curl(&[
            "--digest",
            "--user",
            "dbadmin:dbadmin-secret",
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "--data",
            &body.to_string(),
            &users,
        ])
    };
    let role = serde_json::json!({"roleName": "read", "databaseName": "app"});
    let user = |name: &str, roles: Vec<Value>| {
        serde_json::json!({
            "username": name, "databaseName": "$external", "x509Type": "MANAGED",
            "groupId": GID, "roles": roles,
        })
    };
    let before = std::fs::read(home.path().join("users.toml")).unwrap();
    for (body, what) in [
        (user("many", vec![role.clone(); 101]), "101 roles"),
        (user(&"u".repeat(1025), vec![]), "a 1025-character name"),
        (
            user(
                "long",
                vec![serde_json::json!({
                    "roleName": "read", "databaseName": "app", "collectionName": "c".repeat(252),
                })],
            ),
            "a 256-byte namespace",
        ),
    ] {
        let reply = post(body);
        assert_eq!(reply.status, 400, "{what}: {}", reply.body);
        let error: Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(error["errorCode"], "INVALID_ATTRIBUTE", "{what}");
    }
    assert_eq!(
        std::fs::read(home.path().join("users.toml")).unwrap(),
        before
    );
    // At the bounds, accepted.
    let reply = post(user("hundred", vec![role; 100]));
    assert_eq!(reply.status, 201, "{}", reply.body);
}
