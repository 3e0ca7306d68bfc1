//! Refuse before you record: every command that issues plans first (all
//! checks, limits, output targets), so a refused run leaves the ledger, the
//! registry and the output directory exactly as they were, and the refusal
//! costs the user nothing (no certificate counted against a limit).

use std::os::unix::fs::symlink;
use std::path::Path;

use crate::common::*;

const EC: [&str; 2] = ["--key-type", "ec-p256"];

/// A home whose users may hold one certificate each, where bob already
/// holds one (so the ledger exists before the refused run).
fn limited_home() -> TestHome {
    let home = TestHome::new(&registry("maxCertsPerUser = 1"));
    home.ok(&as_strs(&create("bob", &[])));
    home
}

/// `dbusers certs create` for `user` (ec-p256) with `extra` arguments.
fn create(user: &str, extra: &[&str]) -> Vec<String> {
    ["dbusers", "certs", "create", "--username", user]
        .iter()
        .chain(&EC)
        .chain(extra)
        .map(|s| s.to_string())
        .collect()
}

fn as_strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// Runs `args`, asserts that it fails with `message` and leaves the home
/// (and `out`, when it lies outside) as it was.
fn refused<S: AsRef<str>>(home: &TestHome, args: &[S], out: Option<&Path>, message: &str) {
    let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
    let before = (snapshot(home.path()), out.map(snapshot));
    let run = home.run(&args);
    assert!(!run.status.success(), "{args:?} succeeded");
    let err = stderr(&run);
    assert!(err.contains(message), "{args:?}: {err}");
    let after = (snapshot(home.path()), out.map(snapshot));
    assert_eq!(before, after, "{args:?} changed the disk");
}

#[test]
fn certs_create_onto_an_existing_file_records_nothing() {
    let home = limited_home();
    let existing = home.path().join("existing.pem");
    std::fs::write(&existing, "keep me\n").unwrap();
    let out = existing.to_str().unwrap();
    let args = create("alice", &["--out", out]);
    refused(
        &home,
        &args,
        None,
        "existing.pem: already exists; pass --force to replace it",
    );
    // The refusal used none of alice's one certificate.
    assert!(
        home.list_json("alice", &["--all"])["results"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let fresh = home.path().join("fresh.pem");
    let args = create("alice", &["--out", fresh.to_str().unwrap()]);
    home.ok(&as_strs(&args));
    let listed = home.list_json("alice", &[]);
    assert_eq!(listed["totalCount"], 1);
    assert_eq!(
        listed["results"][0]["_id"].as_u64().unwrap(),
        serial_of(&fresh)
    );
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me\n");
}

#[test]
fn certs_create_through_a_link_or_onto_a_directory_records_nothing() {
    let home = limited_home();
    let link = home.path().join("link.pem");
    symlink(home.path().join("elsewhere.pem"), &link).unwrap();
    let args = create("alice", &["--force", "--out", link.to_str().unwrap()]);
    refused(&home, &args, None, "is a symbolic link");
    assert!(!home.path().join("elsewhere.pem").exists());
    let dir = home.path().join("adir");
    std::fs::create_dir(&dir).unwrap();
    let args = create("alice", &["--force", "--out", dir.to_str().unwrap()]);
    refused(&home, &args, None, "is not a regular file");
}

#[test]
fn certs_create_over_the_limit_records_nothing() {
    let home = limited_home();
    let out = home.path().join("bob2.pem");
    let args = create("bob", &["--out", out.to_str().unwrap()]);
    refused(&home, &args, None, "ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED");
    assert!(!out.exists());
}

#[test]
fn server_cert_onto_an_existing_file_records_nothing() {
    let home = limited_home();
    let existing = home.path().join("server.pem");
    std::fs::write(&existing, "keep me\n").unwrap();
    let args = [
        &[
            "server-cert",
            "--host",
            "db.local",
            "--out",
            existing.to_str().unwrap(),
        ][..],
        &EC,
    ]
    .concat();
    refused(
        &home,
        &args,
        None,
        "server.pem: already exists; pass --force to replace it",
    );
    let args = [
        &[
            "server-cert",
            "--monthsUntilExpiration",
            "500",
            "--host",
            "db.local",
        ][..],
        &EC,
    ]
    .concat();
    let run = home.run(&args);
    assert!(!run.status.success());
    // With --force it is replaced, and recorded once.
    let rows = ledger_rows(home.path()).len();
    let args = [
        &[
            "server-cert",
            "--host",
            "db.local",
            "--force",
            "--out",
            existing.to_str().unwrap(),
        ][..],
        &EC,
    ]
    .concat();
    home.ok(&args);
    assert_eq!(ledger_rows(home.path()).len(), rows + 1);
    assert!(x509_field(&existing, "-subject").contains("db.local"));
}

#[test]
fn local_kit_with_a_user_at_its_limit_records_nothing() {
    let home = TestHome::new(&registry("maxCertsPerUser = 1"));
    home.ok(&as_strs(&create("bob", &[])));
    let kit = home.path().join("kit");
    let args = [&["local-kit", "--out", kit.to_str().unwrap()][..], &EC].concat();
    refused(
        &home,
        &args,
        Some(&kit),
        "ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED",
    );
    assert!(!kit.exists(), "a refused kit made its directory");
    // An existing directory keeps what it had, and gains nothing.
    std::fs::create_dir(&kit).unwrap();
    std::fs::write(kit.join("notes.txt"), "mine\n").unwrap();
    refused(
        &home,
        &args,
        Some(&kit),
        "ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED",
    );
    assert!(!kit.join("users").exists());
}

#[test]
fn local_kit_onto_existing_or_linked_files_records_nothing() {
    let home = limited_home();
    let kit = home.path().join("kit");
    std::fs::create_dir(&kit).unwrap();
    std::fs::write(kit.join("crl.pem"), "old\n").unwrap();
    let args = [&["local-kit", "--out", kit.to_str().unwrap()][..], &EC].concat();
    // bob is at his limit, so drop him from the kit's users first.
    let text = registry("maxCertsPerUser = 1").replace(
        "username = \"bob\"\nx509Type = \"MANAGED\"",
        "username = \"bob\"\nx509Type = \"NONE\"",
    );
    std::fs::write(home.path().join("users.toml"), text).unwrap();
    refused(
        &home,
        &args,
        Some(&kit),
        "crl.pem already exists; pass --force",
    );
    std::fs::remove_file(kit.join("crl.pem")).unwrap();
    symlink("/etc/passwd", kit.join("ca.pem")).unwrap();
    let forced = [&args[..], &["--force"]].concat();
    refused(&home, &forced, Some(&kit), "ca.pem: is a symbolic link");
    std::fs::remove_file(kit.join("ca.pem")).unwrap();
    // Nothing in the way: the kit is written, and its certificates recorded.
    let rows = ledger_rows(home.path()).len();
    home.ok(&args);
    assert_eq!(ledger_rows(home.path()).len(), rows + 2, "server and alice");
    for file in ["ca.pem", "server.pem", "crl.pem", "users/alice.pem"] {
        assert!(kit.join(file).is_file(), "{file}");
    }
    openssl_ok(&[
        "verify",
        "-CAfile",
        kit.join("ca.pem").to_str().unwrap(),
        kit.join("users/alice.pem").to_str().unwrap(),
    ]);
}

#[test]
fn cluster_kits_refused_late_record_nothing() {
    let home = TestHome::new(&registry("maxCertsPerUser = 1"));
    home.ok(&as_strs(&create("bob", &[])));
    let kit = home.path().join("rs");
    // Over bob's limit: no member certificate is recorded either.
    let args = [
        &[
            "local-kit",
            "--out",
            kit.to_str().unwrap(),
            "--replset",
            "rs0",
        ][..],
        &EC,
    ]
    .concat();
    refused(
        &home,
        &args,
        Some(&kit),
        "ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED",
    );
    assert!(!kit.exists());
    // One member's config in the way of a sharded kit, bob out of it.
    let text = registry("maxCertsPerUser = 1").replace(
        "username = \"bob\"\nx509Type = \"MANAGED\"",
        "username = \"bob\"\nx509Type = \"NONE\"",
    );
    std::fs::write(home.path().join("users.toml"), text).unwrap();
    std::fs::create_dir(&kit).unwrap();
    std::fs::write(kit.join("shard1-2.conf"), "mine\n").unwrap();
    let sharded = [
        &["local-kit", "--out", kit.to_str().unwrap(), "--sharded"][..],
        &EC,
    ]
    .concat();
    refused(
        &home,
        &sharded,
        Some(&kit),
        "shard1-2.conf already exists; pass --force",
    );
    assert!(!kit.join("members").exists());
}

#[test]
fn fixtures_over_a_limit_or_onto_existing_files_record_nothing() {
    let home = limited_home();
    let out = home.path().join("fx");
    let args = [
        &[
            "fixtures",
            "--out",
            out.to_str().unwrap(),
            "--users",
            "alice",
            "--count-per-user",
            "2",
        ][..],
        &EC,
    ]
    .concat();
    refused(
        &home,
        &args,
        Some(&out),
        "ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED",
    );
    assert!(!out.exists());
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("alice.pem"), "old\n").unwrap();
    let args = [
        &[
            "fixtures",
            "--out",
            out.to_str().unwrap(),
            "--users",
            "alice",
        ][..],
        &EC,
    ]
    .concat();
    refused(
        &home,
        &args,
        Some(&out),
        "alice.pem already exists; pass --force",
    );
    symlink("/etc/passwd", out.join("manifest.json")).unwrap();
    let forced = [&args[..], &["--force"]].concat();
    refused(
        &home,
        &forced,
        Some(&out),
        "manifest.json: is a symbolic link",
    );
}

#[test]
fn http_create_over_the_limit_records_nothing() {
    let home = TestHome::new(&(registry("maxCertsPerUser = 1") + API_KEYS));
    home.ok(&as_strs(&create("bob", &[])));
    let server = Server::start(&home, &[]);
    let url = format!("{}/groups/{GID}/databaseUsers/bob/certs", server.api("v2"));
    let before = snapshot(home.path());
    let (body, status) = body_and_status(spawn_curl_create(&url, "owner:owner-secret"));
    assert_eq!(status, "400", "{body}");
    assert!(
        body.contains("\"errorCode\":\"ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED\""),
        "{body}"
    );
    let after = snapshot(home.path());
    assert_eq!(before.rows, after.rows);
    let files = |s: &Snapshot| {
        s.files
            .iter()
            .filter(|f| !f.0.starts_with("server-"))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(files(&before), files(&after));
}

/// Counts the fsync-family calls of one run with `strace -f`.
fn syncs(home: &TestHome, args: &[&str]) -> usize {
    let log = home.path().join(format!("strace-{}.log", unique()));
    let status = std::process::Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-e",
            "trace=fsync,fdatasync,syncfs,sync_file_range,msync",
            "-o",
        ])
        .arg(&log)
        .arg(env!("CARGO_BIN_EXE_atlas-ca"))
        .arg("--home")
        .arg(home.path())
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("strace (Debian package strace)");
    assert!(status.success(), "{args:?}");
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::remove_file(&log).unwrap();
    text.lines().filter(|l| l.contains("sync")).count()
}

#[test]
fn a_create_on_a_warm_home_syncs_at_most_three_times() {
    let home = TestHome::new(&registry(""));
    home.ok(&as_strs(&create("alice", &[])));
    // The ledger's WAL commit alone when the PEM goes to stdout.
    assert_eq!(syncs(&home, &as_strs(&create("alice", &[]))), 1);
    // With --out: the file, the ledger, the directory entry.
    let out = home.path().join("a.pem");
    let args = create("alice", &["--out", out.to_str().unwrap()]);
    assert_eq!(syncs(&home, &as_strs(&args)), 3);
    assert_eq!(home.list_json("alice", &[])["totalCount"], 3);
}

#[test]
fn serve_tls_on_a_busy_port_records_nothing() {
    let home = limited_home();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let args = [
        "serve",
        "--tls",
        "--key-pool",
        "0",
        "--listen",
        listen.as_str(),
    ];
    refused(&home, &args, None, "listening on 127.0.0.1:");
    assert!(!home.path().join("api-ca").exists());
}

#[test]
fn pki_apply_over_a_limit_or_onto_existing_files_records_nothing() {
    let home = limited_home();
    let file = home.path().join("pki.toml");
    let out = home.path().join("pki");
    let atlas = |name: &str| {
        format!(
            "[[cert]]\nname = \"{name}\"\nissuer = \"atlas\"\nproject = \"{GID}\"\nusername = \"alice\"\nkey = \"ec-p256\"\n"
        )
    };
    let root = "[[cert]]\nname = \"root\"\nissuer = \"self\"\nca = true\nkey = \"ec-p256\"\n";
    let apply = [
        "pki",
        "apply",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    // Two Atlas certificates for alice, whose limit is one.
    std::fs::write(&file, format!("{root}{}{}", atlas("a1"), atlas("a2"))).unwrap();
    refused(&home, &apply, None, "ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED");
    // Within the limit, but onto an existing file of the output directory.
    std::fs::write(&file, format!("{root}{}", atlas("a1"))).unwrap();
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("root.pem"), "keep me\n").unwrap();
    refused(&home, &apply, None, "already exists");
}

#[test]
fn new_issuing_options_refused_late_record_nothing() {
    let home = TestHome::new(&registry(""));
    // fixtures --issued-at-for a user the run does not issue to.
    let fx = home.path().join("fx");
    let args = [
        &["fixtures", "--out", fx.to_str().unwrap(), "--users", "bob"][..],
        &["--issued-at-for", "alice=2020-01-01T00:00:00Z"],
        &EC,
    ]
    .concat();
    refused(
        &home,
        &args,
        None,
        "\"alice\" is not among the users this run issues to",
    );
    assert!(!fx.exists());
    // A kit with --pkcs12 whose .p12 is in the way.
    let kit = home.path().join("kit");
    std::fs::create_dir_all(kit.join("users")).unwrap();
    std::fs::write(kit.join("users/alice.p12"), "mine\n").unwrap();
    let args = [
        &["local-kit", "--out", kit.to_str().unwrap(), "--pkcs12"][..],
        &EC,
    ]
    .concat();
    refused(
        &home,
        &args,
        Some(&kit),
        "alice.p12 already exists; pass --force",
    );
    // certs create with an OCSP address onto an existing file.
    let out = home.path().join("taken.pem");
    std::fs::write(&out, "keep\n").unwrap();
    let args = create(
        "alice",
        &[
            "--ocsp-url",
            "http://127.0.0.1:1/ocsp",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    refused(&home, &args, None, "already exists; pass --force");
}

#[test]
fn a_kit_that_fails_after_its_plan_leaves_no_cluster_record() {
    // The CA cannot be made (its key's name is taken by a directory), so
    // the kit fails after it was recorded as the project's cluster: the
    // record goes again, with nothing else written.
    let home = TestHome::without_ca(&registry(""));
    std::fs::create_dir_all(home.path().join(format!("projects/{GID}/ca.key.pem"))).unwrap();
    let kit = home.path().join("kit");
    let args = [&["local-kit", "--out", kit.to_str().unwrap()][..], &EC].concat();
    // The lock files the run took stay, as every writer's do.
    let unlocked = |s: Snapshot| Snapshot {
        files: s
            .files
            .into_iter()
            .filter(|(f, _, _)| !f.ends_with(".lock"))
            .collect(),
        rows: s.rows,
    };
    let before = unlocked(snapshot(home.path()));
    let run = home.run(&args);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("ca.key.pem"), "{}", stderr(&run));
    assert!(
        unlocked(snapshot(home.path())) == before,
        "the run changed the home"
    );
    assert!(
        !home
            .path()
            .join(format!("projects/{GID}/settings.json"))
            .exists()
    );
    assert!(!kit.join("ca.pem").exists());
}
