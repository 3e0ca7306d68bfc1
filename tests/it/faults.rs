//! Load and faults: many issuers at once, SIGKILL at random moments, and a
//! disk that fills up or a home that turns read-only. Afterwards the ledger
//! must be intact, every PEM on disk complete and on record, no serial twice.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::*;

/// Opens the ledger independently and checks it: integrity, and no serial
/// twice in a project. Returns the recorded serials.
fn ledger_serials(home: &TestHome) -> BTreeSet<u64> {
    let conn = rusqlite::Connection::open(home.path().join("ledger.sqlite3")).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    // A process killed while opening a new ledger leaves it without its
    // schema (the next open creates it): a ledger that records nothing.
    let tables: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'certificates'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    if tables == 0 {
        return BTreeSet::new();
    }
    let mut stmt = conn.prepare("SELECT serial FROM certificates").unwrap();
    let serials: Vec<i64> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let set: BTreeSet<u64> = serials.iter().map(|s| *s as u64).collect();
    assert_eq!(set.len(), serials.len(), "a serial repeats");
    set
}

/// Every `.pem` in `dir` is complete (certificate and matching key) and
/// recorded; returns how many there were.
fn pems_complete_and_recorded(dir: &Path, recorded: &BTreeSet<u64>) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut n = 0;
    for e in entries {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if !name.ends_with(".pem") || name == "ca.pem" {
            continue;
        }
        let serial =
            try_serial_of(&path).unwrap_or_else(|| panic!("{name} is not a complete certificate"));
        let cert_pub = openssl_ok(&["x509", "-in", path.to_str().unwrap(), "-noout", "-pubkey"]);
        let key_pub = openssl_ok(&["pkey", "-in", path.to_str().unwrap(), "-pubout"]);
        assert_eq!(cert_pub, key_pub, "{name}: key incomplete or wrong");
        assert!(
            recorded.contains(&serial),
            "{name} (serial {serial}) is not in the ledger"
        );
        n += 1;
    }
    n
}

/// A cheap deterministic sequence of pauses (no clock-seeded randomness,
/// so a failure can be replayed).
fn pauses(n: usize, max_ms: u64) -> Vec<Duration> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            Duration::from_millis(20 + x % max_ms)
        })
        .collect()
}

#[test]
fn sixteen_processes_issue_concurrently() {
    let home = TestHome::new(&registry(""));
    let serials = home.create_concurrently(16, &["--key-type", "ec-p256"]);
    assert_eq!(serials.len(), 16);
    assert_eq!(ledger_serials(&home), serials, "zero lost rows");
}

#[test]
fn many_processes_open_a_new_ledger_at_once() {
    // With the CA already there, all of them reach the ledger's creation
    // together; SQLite's switch to WAL used to answer some of them
    // "database is locked" at once.
    // One CA for every round (copied, so no round waits for an RSA-4096
    // key); each round's ledger is new.
    let first = TestHome::new(&registry(""));
    first.ok(&["ca", "cert"]);
    for _ in 0..6 {
        let home = TestHome::new(&registry(""));
        let copied = Command::new("cp")
            .arg("-a")
            .arg(first.path().join("projects"))
            .arg(home.path())
            .status()
            .unwrap();
        assert!(copied.success());
        let serials = home.create_concurrently(24, &["--key-type", "ec-p256"]);
        assert_eq!(ledger_serials(&home), serials);
    }
}

#[test]
fn sigkill_during_fixtures_loses_nothing() {
    let home = TestHome::new(&registry(""));
    home.ok(&["ca", "cert"]);
    let mut files = 0;
    for (round, pause) in pauses(8, 900).into_iter().enumerate() {
        let out = home.path().join(format!("round{round}"));
        let mut child = home
            .cmd()
            .args([
                "fixtures",
                "--out",
                out.to_str().unwrap(),
                "--count-per-user",
                "40",
                "--key-type",
                "rsa-2048",
                "--quiet",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(pause);
        child.kill().unwrap();
        child.wait().unwrap();
        let recorded = ledger_serials(&home);
        files += pems_complete_and_recorded(&out, &recorded);
    }
    // Some round got as far as files, or the checks above proved nothing.
    assert!(files > 0, "no round was killed after its first file");
    // The home still works.
    home.issue("alice", &["--key-type", "ec-p256"]);
    ledger_serials(&home);
}

#[test]
fn sigkill_of_a_server_under_load_loses_nothing() {
    let home = TestHome::new(&format!("{}{API_KEYS}", registry("")));
    home.ok(&["ca", "cert"]);
    let mut answered = BTreeSet::new();
    for (round, pause) in pauses(3, 2500).into_iter().enumerate() {
        let mut server = Server::start(&home, &["--key-pool", "0"]);
        let url = format!(
            "{}/groups/{GID}/databaseUsers/alice/certs",
            server.api("v2")
        );
        let mut clients: Vec<_> = (0..8)
            .map(|_| spawn_curl_create(&url, "owner:owner-secret"))
            .collect();
        std::thread::sleep(pause + Duration::from_millis(500));
        if round == 2 && answered.is_empty() {
            // However loaded the machine, the last round kills only once a
            // client has its answer, so that the check below has something
            // to check.
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            while !clients.iter_mut().any(|c| c.try_wait().unwrap().is_some())
                && std::time::Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        for (i, c) in clients.into_iter().enumerate() {
            let (pem, code) = body_and_status(c);
            if code == "201" {
                let file = home.path().join(format!("r{round}-{i}.pem"));
                std::fs::write(&file, pem).unwrap();
                answered.insert(try_serial_of(&file).expect("a 201 carries a whole certificate"));
            }
        }
        let recorded = ledger_serials(&home);
        assert!(
            answered.is_subset(&recorded),
            "a certificate was served but not recorded"
        );
    }
    // Some certificate was answered, or the subset check proved nothing.
    assert!(!answered.is_empty(), "no 201 before any of the kills");
}

#[test]
fn two_hundred_concurrent_mixed_requests() {
    let home = TestHome::new(&format!("{}{API_KEYS}", registry("")));
    let server = Server::start(&home, &[]);
    let certs = format!(
        "{}/groups/{GID}/databaseUsers/alice/certs",
        server.api("v2")
    );
    let users = format!("{}/groups/{GID}/databaseUsers", server.api("v1.0"));
    let children: Vec<_> = (0..200)
        .map(|i| {
            let mut c = Command::new("curl");
            c.args([
                "-s",
                "--digest",
                "--user",
                "owner:owner-secret",
                "-H",
                ACCEPT_V2,
                "--write-out",
                "\n%{http_code}",
            ]);
            match i % 10 {
                0 => c.args(["-X", "POST", &certs]),
                1..=5 => c.arg(&certs),
                _ => c.arg(&users),
            };
            (i % 10 == 0, c.stdout(Stdio::piped()).spawn().unwrap())
        })
        .collect();
    let mut served = BTreeSet::new();
    for (i, (create, c)) in children.into_iter().enumerate() {
        let text = String::from_utf8(c.wait_with_output().unwrap().stdout).unwrap();
        let (body, code) = text.rsplit_once('\n').unwrap();
        assert_eq!(
            code,
            if create { "201" } else { "200" },
            "request {i}: {body}"
        );
        if create {
            let file = home.path().join(format!("m{i}.pem"));
            std::fs::write(&file, body).unwrap();
            assert!(served.insert(serial_of(&file)), "repeated serial");
        }
    }
    assert_eq!(served.len(), 20);
    assert_eq!(ledger_serials(&home), served, "zero lost rows");
}

/// Runs atlas-ca under `bash -c '<setup>; exec atlas-ca --home H args'`.
fn run_limited(home: &TestHome, setup: &str, args: &[&str]) -> std::process::Output {
    let bin = env!("CARGO_BIN_EXE_atlas-ca");
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    let script = format!(
        "{setup}; exec {bin} --home '{}' {}",
        home.path().display(),
        quoted.join(" ")
    );
    Command::new("bash")
        .args(["-c", &script])
        .env_remove("MONGODB_ATLAS_PROJECT_ID")
        .output()
        .unwrap()
}

#[test]
fn full_disk_and_read_only_home_leave_the_ledger_as_it_was() {
    let home = TestHome::new(&registry(""));
    home.issue("alice", &["--key-type", "ec-p256"]);
    let before = ledger_serials(&home);
    let files = home.files();
    let cases = [
        // Files may not grow: every write fails as on a full disk (EFBIG).
        ("ulimit -f 0; trap '' XFSZ", "is the disk full"),
        // The home is mounted read-only.
        ("", "is the CA home read-only"),
    ];
    for (setup, needle) in cases {
        let out = if setup.is_empty() {
            let h = home.path().display().to_string();
            let bin = env!("CARGO_BIN_EXE_atlas-ca");
            Command::new("unshare")
                .args(["-m", "sh", "-c", &format!(
                    "mount --bind '{h}' '{h}' && mount -o remount,bind,ro '{h}' && exec {bin} --home '{h}' dbusers certs create --username alice --key-type ec-p256"
                )])
                .output()
                .unwrap()
        } else {
            run_limited(&home, setup, CREATE_ALICE)
        };
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{setup}: {err}");
        assert!(out.stdout.is_empty(), "{setup}: no certificate may leave");
        assert!(
            err.starts_with("Error: ledger ") && err.contains(needle),
            "{setup}: {err}"
        );
        assert_eq!(ledger_serials(&home), before, "{setup}: the ledger changed");
        assert_eq!(
            home.files()
                .into_iter()
                .filter(|f| !f.ends_with("-shm") && !f.ends_with("-wal"))
                .collect::<Vec<_>>(),
            files
                .iter()
                .filter(|f| !f.ends_with("-shm") && !f.ends_with("-wal"))
                .cloned()
                .collect::<Vec<_>>(),
            "{setup}"
        );
    }
    home.issue("alice", &["--key-type", "ec-p256"]);
}
