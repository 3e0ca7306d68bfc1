//! What a newcomer meets first: messages that name the fix, flags that
//! take what people type.

use std::process::{Command, Stdio};

use crate::common::*;

#[test]
fn describe_and_delete_point_to_the_database_the_user_is_in() {
    let home = TestHome::new(&registry(""));
    // alice lives in $external; the Atlas CLI's default --authDB is admin.
    for verb in ["describe", "delete"] {
        let mut args = vec!["dbusers", verb, "alice"];
        if verb == "delete" {
            args.push("--force");
        }
        let out = home.run(&args);
        assert!(!out.status.success());
        assert!(
            stderr(&out).contains(&format!(
                "USERNAME_NOT_FOUND: No user with username alice exists. (alice is in $external: atlas-ca dbusers {verb} alice --authDB '$external')"
            )),
            "{}",
            stderr(&out)
        );
    }
    // `--authDB external`, or `$external` unquoted (empty after the shell).
    for db in ["external", ""] {
        let out = home.run(&["dbusers", "describe", "alice", "--authDB", db]);
        assert!(
            stderr(&out).contains("use admin or '$external' (in single quotes"),
            "{db:?}: {}",
            stderr(&out)
        );
    }
    let found = home.ok(&[
        "dbusers",
        "describe",
        "alice",
        "--authDB",
        "$external",
        "-o",
        "json",
    ]);
    assert!(found.contains("\"username\": \"alice\""), "{found}");
}

#[test]
fn a_bare_role_is_on_admin_as_in_the_atlas_cli() {
    let home = TestHome::new(&registry(""));
    home.ok(&[
        "dbusers",
        "create",
        "--username",
        "erin",
        "--x509Type",
        "MANAGED",
        "--role",
        "readWriteAnyDatabase",
    ]);
    let out = home.ok(&[
        "dbusers",
        "describe",
        "erin",
        "--authDB",
        "$external",
        "-o",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["roles"],
        serde_json::json!([{"databaseName": "admin", "roleName": "readWriteAnyDatabase"}])
    );
}

#[test]
fn listen_takes_host_names_and_bare_ports_and_names_a_busy_one() {
    let home = TestHome::new(&registry(""));
    for listen in ["localhost:0", "0"] {
        let mut child = home
            .cmd()
            .args(["serve", "--key-pool", "0", "--listen", listen])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        let _ = child.kill();
        let _ = child.wait();
        assert!(line.starts_with("http://127.0.0.1:"), "{listen}: {line}");
    }
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = home.run(&["serve", "--key-pool", "0", "--listen", &port]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("the port is in use; --listen 127.0.0.1:0 picks a free one"),
        "{}",
        stderr(&out)
    );
    let bad = Command::new(env!("CARGO_BIN_EXE_atlas-ca"))
        .args(["serve", "--listen", "no such host:x"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not HOST:PORT or PORT"));
}

#[test]
fn a_kit_refuses_user_lifetimes_atlas_refuses() {
    let home = TestHome::new(&registry(""));
    let kit = home.path().join("kit");
    let out = home.run(&[
        "local-kit",
        "--out",
        s(&kit),
        "--monthsUntilExpiration",
        "25",
        "--key-type",
        "ec-p256",
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("CERT_EXPIRY_CANNOT_EXCEED_TWO_YEARS")
            && stderr(&out).contains("1 to 24, not 25"),
        "{}",
        stderr(&out)
    );
    assert!(!kit.exists());
}

#[test]
fn serve_says_when_no_key_can_reach_a_project_and_why_it_refuses() {
    let bare = TestHome::new(&registry(""));
    let mut server = Server::start(&bare, &[]);
    let url = format!("{}/groups/{GID}/databaseUsers", server.api("v2"));
    assert_eq!(curl(&["--digest", "--user", "nobody:x", &url]).status, 401);
    server.stop();
    let log = server.log();
    assert!(
        log.contains("has a role, so every request will be refused (401)"),
        "{log}"
    );
    assert!(
        log.contains("projects apiKeys create --desc local --role GROUP_OWNER"),
        "{log}"
    );
    assert!(log.contains("refused GET /api/atlas/v2/groups/5efda6aea3f2ed2e7dd6ce05/databaseUsers: unknown API key"), "{log}");

    let home = TestHome::new(&format!("{}{API_KEYS}", registry("")));
    let mut server = Server::start(&home, &[]);
    assert_eq!(
        curl(&[
            "--digest",
            "--user",
            "owner:wrong",
            &url.replace(&bare_port(&url), &bare_port(&server.base))
        ])
        .status,
        401
    );
    let certs = format!(
        "{}/groups/{GID}/databaseUsers/alice/certs",
        server.api("v2")
    );
    let post = curl(&[
        "--digest",
        "--user",
        "reader:reader-secret",
        "-X",
        "POST",
        &certs,
    ]);
    assert_eq!(post.status, 401);
    server.stop();
    let log = server.log();
    assert!(!log.contains("has a role, so every request"), "{log}");
    assert!(log.contains(": bad digest (wrong secret?)"), "{log}");
    assert!(
        log.contains(
            "for reader: USER_UNAUTHORIZED (its roles: GROUP_READ_ONLY@5efda6aea3f2ed2e7dd6ce05)"
        ),
        "{log}"
    );
    assert!(
        !log.contains("reader-secret") && !log.contains("response="),
        "no secrets: {log}"
    );
}

/// The `host:port` part of a URL.
fn bare_port(url: &str) -> String {
    url.trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn conflicting_kinds_and_role_less_users_are_refused() {
    let home = TestHome::new(&registry(""));
    // Two ways to authenticate: clap refuses, as cobra's mutually
    // exclusive flags do.
    let out = home.run(&[
        "dbusers",
        "create",
        "readAnyDatabase",
        "--username",
        "zed",
        "--x509Type",
        "MANAGED",
        "--awsIAMType",
        "USER",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot be used with '--awsIAMType <AWS_IAM_TYPE>'"),
        "{}",
        stderr(&out)
    );
    // No role: refused as the Atlas CLI refuses it, and nothing written.
    let before = std::fs::read(home.path().join("users.toml")).unwrap();
    let out = home.run(&[
        "dbusers",
        "create",
        "--username",
        "zed",
        "--x509Type",
        "MANAGED",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("Error: missing role for the user"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read(home.path().join("users.toml")).unwrap(),
        before
    );
    home.ok(&[
        "dbusers",
        "create",
        "--username",
        "zed",
        "--x509Type",
        "MANAGED",
        "--role",
        "read@app",
    ]);
    // A role-less user written by hand: the kit says what mongod will do.
    let kit = home.path().join("kit");
    let out = home.run(&[
        "local-kit",
        "--out",
        kit.to_str().unwrap(),
        "--key-type",
        "ec-p256",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: bob has no roles in the registry"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("warning: zed"), "{}", stderr(&out));
    // Names in a --users list are trimmed.
    let fx = home.path().join("fx");
    home.ok(&[
        "fixtures",
        "--out",
        s(&fx),
        "--users",
        "alice, bob",
        "--key-type",
        "ec-p256",
        "--quiet",
    ]);
    assert!(fx.join("bob.pem").is_file());
    // A missing registry under --home names the command with that home.
    let out = Command::new(env!("CARGO_BIN_EXE_atlas-ca"))
        .args(["--home", "/nonexistent/h", "dbusers", "list"])
        .output()
        .unwrap();
    assert!(
        stderr(&out).contains("`atlas-ca --home '/nonexistent/h' init`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_second_project_is_named_and_chosen_by_name() {
    let home = TestHome::new(&registry(""));
    home.ok(&["projects", "create", "staging"]);
    let out = home.run(&["dbusers", "list"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(&format!("the registry has 2 projects: {GID} (test), "))
            && err.contains(" (staging); choose one with --projectId ID or NAME"),
        "{err}"
    );
    // By name, as by id.
    let by_name = home.ok(&["dbusers", "list", "--projectId", "test", "-o", "json"]);
    let by_id = home.ok(&["dbusers", "list", "--projectId", GID, "-o", "json"]);
    assert_eq!(by_name, by_id);
    let staging = home.ok(&["dbusers", "list", "--projectId", "staging", "-o", "json"]);
    assert!(staging.contains("\"totalCount\": 0"), "{staging}");
}
