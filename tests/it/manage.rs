//! Managing the registry as Atlas is managed: database users, projects and
//! API keys from the command line, with the registry's comments kept,
//! concurrent writers losing nothing, and nothing changed by a refused
//! request.

use std::process::{Command, Stdio};

use crate::common::*;
use serde_json::Value;

/// A home directory with nothing in it.
pub(crate) fn empty_home() -> TestHome {
    TestHome {
        dir: tempfile::tempdir().unwrap(),
    }
}

pub(crate) fn registry_text(home: &TestHome) -> String {
    std::fs::read_to_string(home.path().join("users.toml")).unwrap()
}

const COMMENTED: &str = r#"# Our test registry.
# Keep this comment.

[[projects]]
id = "5efda6aea3f2ed2e7dd6ce05"   # the main project
name = "test"
maxCertsPerUser = 10              # generous

# alice is the first user
[[projects.databaseUsers]]
username = "alice"
x509Type = "MANAGED"              # managed by atlas-ca
roles = [{ roleName = "readWrite", databaseName = "app" }]

[[projects.databaseUsers]]
username = "bob"
x509Type = "MANAGED"

# the other project
[[projects]]
id = "0123456789abcdef01234567"
name = "other"

[[apiKeys]]
publicKey = "owner"   # CI's key
privateKey = "owner-secret"
roles = [{ roleName = "GROUP_OWNER", groupId = "5efda6aea3f2ed2e7dd6ce05" }]
"#;

/// Every line of `before` that the edit does not touch is still there, in
/// order (blank lines, which go with the table they precede, aside).
fn kept(before: &str, after: &str, touched: &[&str]) {
    let mut rest = after.lines();
    for line in before.lines() {
        if line.is_empty() || touched.contains(&line) {
            continue;
        }
        assert!(
            rest.any(|l| l == line),
            "line {line:?} was lost or moved:\n{after}"
        );
    }
}

#[test]
fn every_kind_of_edit_keeps_the_untouched_lines_byte_for_byte() {
    let home = TestHome::new(COMMENTED);
    let p = ["--projectId", GID];
    let edits: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            vec![
                "dbusers",
                "create",
                "readAnyDatabase",
                "--username",
                "carol",
                "--x509Type",
                "CUSTOMER",
            ],
            vec![],
        ),
        (
            vec!["dbusers", "update", "bob", "--role", "read@app"],
            vec![],
        ),
        (
            vec![
                "dbusers",
                "delete",
                "bob",
                "--force",
                "--authDB",
                "$external",
            ],
            // The lines of the removed user's table go with it.
            vec![
                "[[projects.databaseUsers]]",
                "username = \"bob\"",
                "x509Type = \"MANAGED\"",
                "roles = [{ roleName = \"read\", databaseName = \"app\" }]",
            ],
        ),
        (vec!["projects", "create", "third"], vec![]),
        (
            vec![
                "projects",
                "apiKeys",
                "create",
                "--desc",
                "ci",
                "--role",
                "GROUP_READ_ONLY",
            ],
            vec![],
        ),
    ];
    for (args, touched) in edits {
        let before = registry_text(&home);
        let mut all = args.clone();
        if args[0] == "dbusers" || args[1] == "apiKeys" {
            all.extend(p);
        }
        home.ok(&all);
        let after = registry_text(&home);
        assert_ne!(before, after, "{args:?} changed nothing");
        kept(&before, &after, &touched);
    }
    let text = registry_text(&home);
    for comment in [
        "# Our test registry.",
        "# Keep this comment.",
        "# the main project",
        "# alice is the first user",
        "# managed by atlas-ca",
        "# the other project",
        "# CI's key",
    ] {
        assert!(text.contains(comment), "{comment} lost:\n{text}");
    }
    // carol landed in the first project, before the second one.
    let carol = text.find("username = \"carol\"").unwrap();
    let other = text.find("id = \"0123456789abcdef01234567\"").unwrap();
    assert!(carol < other, "{text}");
    let list = home.ok(&["dbusers", "list", "--projectId", GID]);
    assert!(list.contains("carol") && !list.contains("bob"), "{list}");
}

#[test]
fn refused_edits_change_nothing() {
    let home = TestHome::new(COMMENTED);
    let before = registry_text(&home);
    let p = ["--projectId", GID];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "dbusers",
                "create",
                "readAnyDatabase",
                "--username",
                "alice",
            ],
            "USER_ALREADY_EXISTS",
        ),
        (
            vec![
                "dbusers",
                "create",
                "--username",
                "x",
                "--role",
                "atlasAdmin@app",
            ],
            "INVALID_ATTRIBUTE: Invalid attribute roles specified.",
        ),
        (
            vec![
                "dbusers",
                "create",
                "--username",
                "x",
                "--role",
                "dbAdmin@app.orders",
            ],
            "Invalid attribute roles",
        ),
        (
            vec![
                "dbusers",
                "create",
                "readAnyDatabase",
                "--username",
                "a\u{202e}b",
            ],
            "Invalid attribute username",
        ),
        (
            vec!["dbusers", "delete", "alice", "--force"],
            "USERNAME_NOT_FOUND",
        ),
        (
            vec!["dbusers", "delete", "alice", "--authDB", "$external"],
            "pass --force",
        ),
        (
            vec!["dbusers", "update", "nobody", "--role", "read@app"],
            "USERNAME_NOT_FOUND",
        ),
        (
            vec!["projects", "apiKeys", "delete", "nope"],
            "API_KEY_NOT_FOUND",
        ),
        (vec!["projects", "create", "test"], "GROUP_ALREADY_EXISTS"),
    ];
    for (args, needle) in cases {
        let mut all = args.clone();
        if args[0] == "dbusers" {
            all.extend(p);
        }
        let out = home.run(&all);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
        assert_eq!(
            registry_text(&home),
            before,
            "{args:?} changed the registry"
        );
    }
}

#[test]
fn more_than_100_users_is_refused_with_the_limit() {
    // The registry's four users and 95 more: room for one.
    let mut text = registry("");
    for i in 0..95 {
        text.push_str(&format!(
            "[[projects.databaseUsers]]\nusername = \"u{i}\"\n"
        ));
    }
    let home = TestHome::new(&text);
    home.ok(&["dbusers", "create", "readAnyDatabase", "--username", "last"]);
    let before = registry_text(&home);
    let out = home.run(&[
        "dbusers",
        "create",
        "readAnyDatabase",
        "--username",
        "one-too-many",
    ]);
    assert!(
        stderr(&out).contains("DATABASE_USER_LIMIT_EXCEEDED")
            && stderr(&out).contains("maximum of 100"),
        "{}",
        stderr(&out)
    );
    assert_eq!(registry_text(&home), before);
}

#[test]
fn api_keys_are_shown_once_and_masked_after() {
    let home = TestHome::new(&registry("orgId = \"a0123456789abcdef012345a\""));
    let out = home.ok(&[
        "projects",
        "apiKeys",
        "create",
        "--desc",
        "ci",
        "--role",
        "GROUP_OWNER",
        "-o",
        "json",
    ]);
    let key: Value = serde_json::from_str(&out).unwrap();
    let public = key["publicKey"].as_str().unwrap().to_string();
    let private = key["privateKey"].as_str().unwrap().to_string();
    assert!(
        public.len() == 8 && public.bytes().all(|b| b.is_ascii_lowercase()),
        "{public}"
    );
    assert_eq!(private.len(), 36);
    // An RFC 4122 version-4 UUID, as Atlas's are, by Python's own parser.
    let python = python_with(&[]);
    let script = "import sys, uuid; u = uuid.UUID(sys.argv[1]); print(u.version, u.variant == uuid.RFC_4122)";
    let parsed = script_ok(std::process::Command::new(&python).args(["-c", script, &private]));
    assert_eq!(parsed.trim(), "4 True", "{private}");
    // Atlas's shape: desc, id (24 hex), links under the organization,
    // privateKey, publicKey, roles (ORG_MEMBER with the org, then the
    // project role).
    let id = key["id"].as_str().unwrap().to_string();
    assert!(
        id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    let keys: Vec<&String> = key.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["desc", "id", "links", "privateKey", "publicKey", "roles"]
    );
    assert_eq!(
        key["links"][0]["href"],
        format!("http://localhost:8080/api/atlas/v2/orgs/a0123456789abcdef012345a/apiKeys/{id}")
    );
    assert_eq!(
        key["roles"],
        serde_json::json!([
            {"orgId": "a0123456789abcdef012345a", "roleName": "ORG_MEMBER"},
            {"groupId": GID, "roleName": "GROUP_OWNER"}
        ])
    );
    let text = home.ok(&[
        "projects",
        "apiKeys",
        "create",
        "--desc",
        "two",
        "--role",
        "GROUP_READ_ONLY",
    ]);
    assert!(
        text.lines().next().unwrap().starts_with("API Key '") && text.contains("Public API Key "),
        "{text}"
    );
    let listed = home.ok(&["projects", "apiKeys", "ls"]);
    assert!(
        listed.starts_with("ID "),
        "the Atlas CLI's columns: {listed}"
    );
    assert!(
        listed.contains(&public) && listed.contains(&id) && !listed.contains(&private),
        "{listed}"
    );
    // The list is paged, private keys masked as Atlas masks them.
    let page: Value =
        serde_json::from_str(&home.ok(&["projects", "apiKeys", "ls", "-o", "json"])).unwrap();
    assert_eq!(page["totalCount"], 2);
    let first = &page["results"][0];
    assert_eq!(
        first["privateKey"],
        format!("********-****-****-{}", &private[24..])
    );
    // The new key works against the server at once.
    let server = Server::start(&home, &[]);
    let url = format!("{}/groups/{GID}/databaseUsers", server.api("v2"));
    let reply = curl(&["--digest", "--user", &format!("{public}:{private}"), &url]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    home.ok(&["projects", "apiKeys", "rm", &public]);
    let reply = curl(&["--digest", "--user", &format!("{public}:{private}"), &url]);
    assert_eq!(reply.status, 401, "a deleted key no longer works");
}

#[test]
fn concurrent_writers_lose_nothing_and_kills_never_tear_the_registry() {
    let home = TestHome::new(&format!("{}{API_KEYS}", registry("")));
    let server = Server::start(&home, &[]);
    let url = format!("{}/groups/{GID}/databaseUsers", server.api("v2"));
    let cli: Vec<_> = (0..16)
        .map(|i| {
            home.cmd()
                .args([
                    "dbusers",
                    "create",
                    "readAnyDatabase",
                    "--username",
                    &format!("cli{i}"),
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let http: Vec<_> = (0..8)
        .map(|i| {
            Command::new("curl")
                .args([
                    "-s",
                    "-o",
                    "/dev/null",
                    "-w",
                    "%{http_code}",
                    "--digest",
                    "--user",
                    "owner:owner-secret",
                ])
                .args(["-H", ACCEPT_V2, "-H", "Content-Type: application/json", "--data"])
                .arg(format!(
                    r#"{{"username":"http{i}","x509Type":"MANAGED","databaseName":"$external","groupId":"{GID}","roles":[]}}"#
                ))
                .arg(&url)
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in cli {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for c in http {
        let out = c.wait_with_output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "201");
    }
    let list = home.ok(&["dbusers", "list"]);
    for i in 0..16 {
        assert!(list.contains(&format!("cli{i} ")), "cli{i} lost:\n{list}");
    }
    for i in 0..8 {
        assert!(list.contains(&format!("http{i} ")), "http{i} lost:\n{list}");
    }
    drop(server);

    // Kill writers at arbitrary moments: the registry is always whole.
    for round in 0..12 {
        let mut child = home
            .cmd()
            .args([
                "dbusers",
                "create",
                "readAnyDatabase",
                "--username",
                &format!("k{round}"),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_micros(500 * round));
        let _ = child.kill();
        let _ = child.wait();
        let out = home.run(&["dbusers", "list"]);
        assert!(out.status.success(), "round {round}: {}", stderr(&out));
    }
}

#[test]
fn a_temporary_user_past_its_date_is_gone_everywhere() {
    let text = format!(
        "{}\n[[projects.databaseUsers]]\nusername = \"temp\"\nx509Type = \"MANAGED\"\ndeleteAfterDate = \"2020-01-01T00:00:00Z\"\n",
        registry("")
    );
    let home = TestHome::new(&text);
    let listed = home.ok(&["dbusers", "list", "-o", "json"]);
    assert!(!listed.contains("\"temp\""), "{listed}");
    for args in [
        vec!["dbusers", "describe", "temp", "--authDB", "$external"],
        vec![
            "dbusers",
            "certs",
            "create",
            "--username",
            "temp",
            "--key-type",
            "ec-p256",
        ],
    ] {
        let out = home.run(&args);
        assert!(
            stderr(&out)
                .starts_with("Error: USERNAME_NOT_FOUND: No user with username temp exists."),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    // Its name is free again; the old table is gone from the file.
    home.ok(&[
        "dbusers",
        "create",
        "--username",
        "temp",
        "--x509Type",
        "MANAGED",
        "--role",
        "read@app",
    ]);
    let text = std::fs::read_to_string(home.path().join("users.toml")).unwrap();
    assert_eq!(text.matches("username = \"temp\"").count(), 1, "{text}");
    assert!(!text.contains("2020-01-01"), "{text}");
}
