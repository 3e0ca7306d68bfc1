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
