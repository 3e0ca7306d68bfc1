//! Starting from nothing as the Atlas CLI user does: `init`, `home`, the
//! Atlas CLI's own certificate test and user flags, and its tables and
//! list flags, printed as its templates print them.

use std::process::Command;

use super::manage::{empty_home, registry_text};
use crate::common::*;
use serde_json::Value;

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
    assert_eq!(
        home_of(&[], &[]),
        cwd.path().join("ca").display().to_string(),
        "./ca with a registry wins, said absolute"
    );
    assert_eq!(home_of(&[("ATLAS_CA_HOME", "/env/home")], &[]), "/env/home");
    assert_eq!(
        home_of(&[("ATLAS_CA_HOME", "/env/home")], &["--home", "/flag"]),
        "/flag"
    );
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
fn certs_and_customer_certs_print_as_the_atlas_cli_templates() {
    let home = TestHome::new(&registry(""));
    // `{{.}}` and a newline on stdout; --out gets the body exactly.
    let out = home.ok(CREATE_ALICE);
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
