//! Starting from nothing and managing the registry as Atlas is managed:
//! `init`, `home`, the Atlas CLI's own certificate test, database users,
//! projects and API keys from the command line, with the registry's
//! comments kept and nothing changed by a refused request.

use std::process::{Command, Stdio};

use crate::common::*;
use serde_json::Value;

/// A home directory with nothing in it.
fn empty_home() -> TestHome {
    TestHome {
        dir: tempfile::tempdir().unwrap(),
    }
}

fn registry_text(home: &TestHome) -> String {
    std::fs::read_to_string(home.path().join("users.toml")).unwrap()
}

#[test]
fn the_atlas_cli_certificate_test_runs_unchanged_after_init() {
    let home = empty_home();
    let out = home.ok(&["init", "--projectId", GID]);
    assert!(out.contains(GID) && out.contains("dbusers create"), "{out}");
    let mode = |p: &std::path::Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    };
    assert_eq!(mode(&home.path().join("users.toml")), 0o600);

    // The Atlas CLI's e2e commands, program name aside.
    let created = home.ok(&[
        "dbusers",
        "create",
        "atlasAdmin",
        "--username",
        "user389",
        "--x509Type",
        "MANAGED",
        "-o=json",
        "-P",
        "e2e",
    ]);
    assert!(
        created.starts_with("{\n  \"awsIAMType\": \"NONE\",\n"),
        "{created}"
    );
    let user: Value = serde_json::from_str(&created).unwrap();
    assert_eq!(user["databaseName"], "$external");
    assert_eq!(user["x509Type"], "MANAGED");
    assert_eq!(user["roles"][0]["roleName"], "atlasAdmin");
    assert_eq!(user["roles"][0]["databaseName"], "admin");
    assert_eq!(
        user["links"][0]["href"],
        format!("http://localhost:8080/api/atlas/v2/groups/{GID}/databaseUsers/$external/user389")
    );
    let keys: Vec<&String> = user.as_object().unwrap().keys().collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "alphabetical keys");

    let cert = home.ok(&[
        "dbusers",
        "certs",
        "create",
        "--username",
        "user389",
        "-o=json",
        "-P",
        "e2e",
    ]);
    let pem: String = serde_json::from_str(&cert).unwrap();
    let path = home.path().join("user389.pem");
    std::fs::write(&path, &pem).unwrap();
    assert_eq!(rfc2253_subject_of(&path), "CN=user389");
    openssl_ok(&["pkey", "-in", path.to_str().unwrap(), "-noout", "-check"]);

    let list: Value = serde_json::from_str(&home.ok(&[
        "dbusers", "certs", "list", "user389", "-o=json", "-P", "e2e",
    ]))
    .unwrap();
    assert_eq!(list["totalCount"], 1);
    assert_eq!(list["results"][0]["_id"], serial_of(&path));

    let deleted = home.ok(&[
        "dbusers",
        "delete",
        "user389",
        "--force",
        "--authDB",
        "$external",
        "-P",
        "e2e",
    ]);
    assert_eq!(deleted, "DB user 'user389' deleted\n");
    // The deleted user's certificate stays on record: the ledger keeps it,
    // and revocation still finds it once the user is back.
    home.ok(&[
        "dbusers",
        "create",
        "readAnyDatabase",
        "--username",
        "user389",
        "--x509Type",
        "MANAGED",
    ]);
    home.revoke("user389", serial_of(&path));
}

#[test]
fn init_refuses_an_existing_registry_and_commands_say_how_to_begin() {
    let home = empty_home();
    let out = home.run(&["dbusers", "list"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    let with_home = format!("atlas-ca --home '{}' init", home.path().display());
    for needle in [with_home.as_str(), "ATLAS_CA_HOME"] {
        assert!(err.contains(needle), "{err}");
    }
    home.ok(&["init"]);
    let before = registry_text(&home);
    let id = before
        .lines()
        .find_map(|l| l.strip_prefix("id = \""))
        .unwrap()
        .trim_end_matches('"')
        .to_string();
    assert!(
        id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    let again = home.run(&["init", "--projectId", GID]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    assert_eq!(registry_text(&home), before, "init leaves a registry alone");
    let bad = empty_home();
    let out = bad.run(&["init", "--projectId", "xyz"]);
    assert!(
        stderr(&out).contains("INVALID_GROUP_ID"),
        "{}",
        stderr(&out)
    );
    assert!(bad.files().is_empty(), "nothing written: {:?}", bad.files());
}

#[test]
fn the_home_is_resolved_as_documented() {
    let bin = env!("CARGO_BIN_EXE_atlas-ca");
    let cwd = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let home_of = |envs: &[(&str, &str)], args: &[&str]| {
        let mut c = Command::new(bin);
        c.current_dir(cwd.path())
            .env_remove("ATLAS_CA_HOME")
            .env_remove("XDG_DATA_HOME")
            .env("HOME", data.path())
            .args(args)
            .arg("home");
        for (k, v) in envs {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let xdg = data.path().join("xdg");
    assert_eq!(
        home_of(&[], &[]),
        data.path()
            .join(".local/share/atlas-ca")
            .display()
            .to_string()
    );
    assert_eq!(
        home_of(&[("XDG_DATA_HOME", xdg.to_str().unwrap())], &[]),
        xdg.join("atlas-ca").display().to_string()
    );
    std::fs::create_dir(cwd.path().join("ca")).unwrap();
    std::fs::write(cwd.path().join("ca/users.toml"), registry("")).unwrap();
    assert_eq!(home_of(&[], &[]), "ca", "./ca with a registry wins");
    assert_eq!(home_of(&[("ATLAS_CA_HOME", "/env/home")], &[]), "/env/home");
    assert_eq!(
        home_of(&[("ATLAS_CA_HOME", "/env/home")], &["--home", "/flag"]),
        "/flag"
    );
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
fn tables_follow_the_atlas_cli_templates_and_page() {
    let home = TestHome::new(&registry(""));
    let a = serial_of(&home.issue("alice", &["--key-type", "ec-p256"]));
    let b = serial_of(&home.issue("alice", &["--key-type", "ec-p256"]));
    let table = home.ok(&["dbusers", "certs", "ls", "alice"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("ID ") && lines[0].contains("   SUBJECT   "),
        "{table}"
    );
    assert!(lines[0].ends_with("CREATED AT"), "{table}");
    assert_eq!(lines.len(), 3, "{table}");
    let cells: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(cells[..2], [a.to_string().as_str(), "CN=alice"], "{table}");
    let second = home.ok(&[
        "dbusers", "cert", "list", "alice", "--limit", "1", "--page", "2",
    ]);
    let rows: Vec<&str> = second.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{second}");
    assert!(rows[0].starts_with(&b.to_string()), "{second}");
    let users = home.ok(&["dbuser", "ls", "--limit", "2", "--page", "2"]);
    let users: Vec<&str> = users.lines().collect();
    assert!(users[0].starts_with("USERNAME   DATABASE   "), "{users:?}");
    assert_eq!(users.len(), 3, "{users:?}");
    assert!(
        users[1].starts_with("carol ") && users[2].starts_with("dave "),
        "{users:?}"
    );
    let json: Value = serde_json::from_str(&home.ok(&["dbusers", "list", "-o", "json"])).unwrap();
    assert_eq!(json["totalCount"], 4);
    assert_eq!(json["results"][0]["links"][0]["rel"], "self");
}

/// The Atlas CLI's own `TestDBUserWithFlags` sequence, as its recorded
/// exchanges run it: a password user with --deleteAfter and --scope, list,
/// update roles and scopes with a password, only the password, describe,
/// delete in admin.
#[test]
fn the_atlas_cli_user_flags_sequence() {
    let home = TestHome::new(&registry(""));
    let json = |args: &[&str]| -> serde_json::Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        serde_json::from_str(&home.ok(&all)).unwrap()
    };
    let created = json(&[
        "dbusers",
        "create",
        "atlasAdmin",
        "--username",
        "flags-user",
        "--password",
        "passW0rd!",
        "--deleteAfter",
        "2099-06-30T00:00:00Z",
        "--scope",
        "Cluster0",
    ]);
    assert_eq!(created["deleteAfterDate"], "2099-06-30T00:00:00Z");
    assert_eq!(
        created["scopes"],
        serde_json::json!([{"name": "Cluster0", "type": "CLUSTER"}])
    );
    assert_eq!(created["databaseName"], "admin");
    let keys: Vec<&String> = created.as_object().unwrap().keys().collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "alphabetical, as Atlas serializes");
    let listed = json(&["dbusers", "ls"]);
    assert!(
        listed["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["username"] == "flags-user")
    );
    let updated = json(&[
        "dbusers",
        "update",
        "flags-user",
        "--role",
        "readWrite",
        "--scope",
        "Cluster1:CLUSTER",
        "--password",
        "newPassW0rd!",
    ]);
    assert_eq!(
        updated["roles"],
        serde_json::json!([{"databaseName": "admin", "roleName": "readWrite"}])
    );
    assert_eq!(
        updated["scopes"],
        serde_json::json!([{"name": "Cluster1", "type": "CLUSTER"}])
    );
    let password_only = json(&[
        "dbusers",
        "update",
        "flags-user",
        "--password",
        "onlyPassW0rd!",
    ]);
    assert_eq!(password_only["roles"], updated["roles"]);
    assert_eq!(password_only["scopes"], updated["scopes"]);
    assert_eq!(password_only["deleteAfterDate"], "2099-06-30T00:00:00Z");
    let described = json(&["dbusers", "describe", "flags-user"]);
    assert_eq!(described, password_only);
    let text = std::fs::read_to_string(home.path().join("users.toml")).unwrap();
    assert!(
        text.contains(r#"deleteAfterDate = "2099-06-30T00:00:00Z""#),
        "{text}"
    );
    assert!(
        !text.contains("PassW0rd"),
        "a password is never stored: {text}"
    );
    let deleted = home.ok(&[
        "dbusers",
        "delete",
        "flags-user",
        "--force",
        "--authDB",
        "admin",
    ]);
    assert_eq!(deleted, "DB user 'flags-user' deleted\n");
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

#[test]
fn certs_and_customer_certs_print_as_the_atlas_cli_templates() {
    let home = TestHome::new(&registry(""));
    // `{{.}}` and a newline on stdout; --out gets the body exactly.
    let out = home.ok(&[
        "dbusers",
        "certs",
        "create",
        "--username",
        "alice",
        "--key-type",
        "ec-p256",
    ]);
    assert!(out.starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert!(out.ends_with("-----END PRIVATE KEY-----\n\n"), "{out}");
    // CreatedAt as Go prints a time.Time.
    let table = home.ok(&["dbusers", "certs", "list", "alice"]);
    let row = table.lines().nth(1).unwrap();
    let created = row.split("CN=alice").nth(1).unwrap().trim();
    assert_eq!(
        created.len(),
        "2026-06-02 13:56:22 +0000 UTC".len(),
        "{row}"
    );
    assert!(created.ends_with(" +0000 UTC"), "{row}");
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    openssl_ok(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        dir.path().join("ca.key").to_str().unwrap(),
        "-out",
        ca.to_str().unwrap(),
        "-subj",
        "/CN=customer",
        "-days",
        "30",
    ]);
    let created = home.ok(&[
        "security",
        "customerCerts",
        "create",
        "--casFile",
        ca.to_str().unwrap(),
    ]);
    assert_eq!(created, "Certificate successfully created.\n");
    let disabled = home.ok(&["security", "customerCerts", "disable"]);
    assert_eq!(
        disabled,
        format!("X.509 configuration for project {GID} was deleted.\n")
    );
}

#[test]
fn lists_take_the_atlas_cli_compact_and_omit_count_flags() {
    let home = TestHome::new(&registry(""));
    let compact: Value =
        serde_json::from_str(&home.ok(&["dbusers", "ls", "-o", "json", "-c"])).unwrap();
    assert_eq!(compact.as_array().map(Vec::len), Some(4), "{compact}");
    let counted: Value = serde_json::from_str(&home.ok(&["dbusers", "ls", "-o", "json"])).unwrap();
    assert_eq!(counted["totalCount"], 4);
    let omitted: Value =
        serde_json::from_str(&home.ok(&["dbusers", "ls", "-o", "json", "--omitCount"])).unwrap();
    assert!(omitted.get("totalCount").is_none(), "{omitted}");
    assert_eq!(omitted["results"].as_array().map(Vec::len), Some(4));
    // certs list ignores --omitCount, as the Atlas CLI's does.
    home.issue("alice", &[]);
    let certs: Value = serde_json::from_str(&home.ok(&[
        "dbusers",
        "certs",
        "ls",
        "alice",
        "-o",
        "json",
        "--omitCount",
    ]))
    .unwrap();
    assert_eq!(certs["totalCount"], 1);
}
