//! Every Atlas error the issuing command can give: its code and message on
//! stderr, nothing on stdout, a non-zero exit, and nothing written.

use crate::common::*;

/// Runs a create that must fail; checks stderr, stdout, status and that the
/// home is unchanged.
fn fails(home: &TestHome, args: &[&str], want_stderr: &str) {
    let before = home.files();
    let out = home.run(&[&["dbusers", "certs", "create"], args].concat());
    assert!(!out.status.success(), "{args:?} succeeded");
    assert!(out.stdout.is_empty(), "stdout must stay empty for {args:?}");
    assert_eq!(stderr(&out), format!("Error: {want_stderr}\n"), "{args:?}");
    assert_eq!(home.files(), before, "{args:?} wrote files");
}

#[test]
fn atlas_errors_exactly() {
    let home = TestHome::without_ca(&registry(""));
    let cases: &[(&[&str], String)] = &[
        (
            &["--username", "nobody"],
            "USERNAME_NOT_FOUND: No user with username nobody exists.".into(),
        ),
        (
            &["--username", "carol"],
            "USER_NOT_MANAGED_X509: The user does not have managed mode X509 enabled. (user carol has x509Type CUSTOMER)".into(),
        ),
        (
            &["--username", "dave"],
            "USER_NOT_MANAGED_X509: The user does not have managed mode X509 enabled. (user dave has x509Type NONE)".into(),
        ),
        (
            &["--username", "alice", "--monthsUntilExpiration", "25"],
            "CERT_EXPIRY_CANNOT_EXCEED_TWO_YEARS: Atlas-generated X.509 certificates have a maximum expiration of 24 months. (monthsUntilExpiration is 1 to 24, not 25)".into(),
        ),
        (
            &["--username", "alice", "--monthsUntilExpiration", "0"],
            "INVALID_ATTRIBUTE: Invalid attribute monthsUntilExpiration specified. (monthsUntilExpiration is 1 to 24, not 0)".into(),
        ),
        (
            &["--username", "alice", "--monthsUntilExpiration", "-3"],
            "INVALID_ATTRIBUTE: Invalid attribute monthsUntilExpiration specified. (monthsUntilExpiration is 1 to 24, not -3)".into(),
        ),
        (
            &["--username", "alice", "--projectId", "111111111111111111111111"],
            "GROUP_NOT_FOUND: No group with ID 111111111111111111111111 exists.".into(),
        ),
        (
            &["--username", "alice", "--projectId", "not-an-id"],
            "INVALID_GROUP_ID: An invalid group ID not-an-id was specified.".into(),
        ),
    ];
    for (args, want) in cases {
        fails(&home, args, want);
    }
    // The home holds only the registry: no CA, no ledger.
    assert_eq!(home.files(), vec!["users.toml".to_string()]);
}

#[test]
fn self_managed_project_refuses() {
    let home = TestHome::new(&registry("selfManagedX509 = true"));
    fails(
        &home,
        &["--username", "alice"],
        "CANNOT_GENERATE_CERT_IF_ADVANCED_X509: The user cannot create managed X.509 certs if advanced mode is on. \
         (project 5efda6aea3f2ed2e7dd6ce05 uses customer-managed X.509)",
    );
}

#[test]
fn invalid_managed_names_refuse() {
    let mut text = registry("");
    for name in ["tab\there", "nul\u{0}byte", &"x".repeat(1025)] {
        let quoted = serde_json::to_string(name).unwrap();
        text.push_str(&format!(
            "\n[[projects.databaseUsers]]\nusername = {quoted}\nx509Type = \"MANAGED\"\n"
        ));
    }
    let home = TestHome::new(&text);
    // The terminal sees control characters escaped.
    for (name, shown) in [
        ("tab\there", "tab\\u{9}here".to_string()),
        (&"x".repeat(1025), "x".repeat(1025)),
    ] {
        fails(
            &home,
            &["--username", name],
            &format!(
                "ATLAS_MANAGED_X509_NAME_INVALID: The username {shown} is invalid for Atlas-managed X.509 user auth. These usernames must take the form CN=<username> with no additional OIDs."
            ),
        );
    }
}

#[test]
fn per_user_limit() {
    let home = TestHome::new(&registry("maxCertsPerUser = 1"));
    home.issue("alice", &[]);
    fails(
        &home,
        &["--username", "alice"],
        "ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED: The limit on generated certificates per user has been reached. \
         (user alice holds 1 unexpired certificate, 1 more asked; the limit is maxCertsPerUser = 1 in the registry)",
    );
    // Expired certificates do not count; other users have their own limit.
    home.issue("bob", &[]);
    let old = TestHome::new(&registry("maxCertsPerUser = 1"));
    old.issue(
        "alice",
        &[
            "--issued-at",
            "2020-01-01T00:00:00Z",
            "--monthsUntilExpiration",
            "1",
        ],
    );
    old.issue("alice", &[]);
}

#[test]
fn project_selection() {
    let two = format!("{}\n[[projects]]\nid = \"{OTHER_GID}\"\n", registry(""));
    let home = TestHome::without_ca(&two);
    let out = home.create("alice", &[]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out),
        format!(
            "Error: the registry has 2 projects: {GID} (test), {OTHER_GID}; choose one with \
             --projectId ID or NAME (or MONGODB_ATLAS_PROJECT_ID), or name a default with \
             atlas-ca projects use ID\n"
        )
    );
    assert_eq!(home.files(), vec!["users.toml".to_string()]);

    // The Atlas CLI's variable selects the project; --projectId wins over it.
    let out = home
        .cmd()
        .env("MONGODB_ATLAS_PROJECT_ID", OTHER_GID)
        .args(["dbusers", "certs", "list", "alice", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(
        stderr(&out),
        "Error: USERNAME_NOT_FOUND: No user with username alice exists.\n"
    );
    let out = home
        .cmd()
        .env("MONGODB_ATLAS_PROJECT_ID", OTHER_GID)
        .args(["dbusers", "certs", "list", "alice", "--projectId", GID])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn bad_registry_reports_file_line_and_column() {
    let text = registry("").replace("x509Type = \"CUSTOMER\"", "x509type = \"CUSTOMER\"");
    let home = TestHome::without_ca(&text);
    let out = home.create("alice", &[]);
    assert!(!out.status.success());
    let path = home.path().join("users.toml");
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "Error: {}:19:1: unknown field `x509type`",
            path.display()
        )),
        "{err}"
    );
    assert_eq!(home.files(), vec!["users.toml".to_string()]);

    let out = home.run(&["--registry", "/nonexistent/users.toml", "dbusers", "list"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("cannot read registry /nonexistent/users.toml"));
}

#[test]
fn out_file_is_private_and_stdout_empty() {
    use std::os::unix::fs::PermissionsExt;
    let home = TestHome::new(&registry(""));
    let file = home.path().join("alice.pem");
    let out = home.create("alice", &["--out", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    openssl_ok(&[
        "verify",
        "-CAfile",
        home.ca_cert().to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    let leftovers: Vec<_> = home
        .files()
        .into_iter()
        .filter(|f| f.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
