//! The registry file as people keep it: the lock every writer takes waits
//! a bounded time and is never followed or waited on when something else
//! is planted there; an edit keeps the file's line endings and
//! byte-order mark, makes it 0600, and keeps a symbolic link a link.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

fn registry_path(home: &TestHome) -> std::path::PathBuf {
    home.path().join("users.toml")
}

#[test]
fn a_held_lock_fails_in_bounded_time_and_planted_locks_are_refused() {
    let home = TestHome::new(&registry(""));
    let lock = home.path().join(".users.toml.lock");
    // Another process holds the lock and does not let go (as a stopped
    // atlas-ca would).
    // -o: the lock stays with flock itself, so killing it frees the lock.
    let mut holder = Command::new("flock")
        .arg("-o")
        .arg(&lock)
        .args(["sleep", "30"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let held = Instant::now();
    while Command::new("flock")
        .args(["-n"])
        .arg(&lock)
        .arg("true")
        .status()
        .unwrap()
        .success()
    {
        assert!(
            held.elapsed() < Duration::from_secs(5),
            "flock never took the lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let started = Instant::now();
    let out = home.run(&["--lock-wait", "1", "projects", "create", "second"]);
    let waited = started.elapsed();
    holder.kill().unwrap();
    holder.wait().unwrap();
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains(".users.toml.lock") && err.contains("still held"),
        "{err}"
    );
    assert!(waited < Duration::from_secs(4), "{waited:?}");
    // Free again: the same edit goes through.
    home.ok(&["projects", "create", "second"]);

    // A FIFO at the lock path is refused at once, not waited on.
    std::fs::remove_file(&lock).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(&lock)
            .status()
            .unwrap()
            .success()
    );
    let out = home.run(&["projects", "create", "third"]);
    assert!(
        stderr(&out).contains("not a regular file"),
        "{}",
        stderr(&out)
    );

    // A symbolic link at the lock path is not followed.
    std::fs::remove_file(&lock).unwrap();
    let target = home.path().join("planted");
    std::os::unix::fs::symlink(&target, &lock).unwrap();
    let out = home.run(&["projects", "create", "third"]);
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
    assert!(!target.exists(), "the link's target was created");
}

#[test]
fn edits_keep_line_endings_the_mark_the_mode_and_links() {
    // CRLF and a byte-order mark.
    let text = format!("\u{feff}{}", registry("").replace('\n', "\r\n"));
    let home = TestHome::new(&text);
    std::fs::set_permissions(registry_path(&home), PermissionsExt::from_mode(0o644)).unwrap();
    home.ok(&["projects", "create", "second"]);
    let after = std::fs::read(registry_path(&home)).unwrap();
    assert!(
        after.starts_with("\u{feff}".as_bytes()),
        "the mark was dropped"
    );
    let after = String::from_utf8(after).unwrap();
    assert!(after.starts_with(&text), "untouched lines changed");
    assert!(after.contains("name = \"second\"\r\n"), "{after:?}");
    assert!(
        !after.replace("\r\n", "").contains('\n'),
        "a bare LF: {after:?}"
    );
    let mode = std::fs::metadata(registry_path(&home))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "it holds secrets");

    // A registry that is a link to a file elsewhere: the file is edited,
    // the link stays.
    let home = TestHome::new(&registry(""));
    let elsewhere = home.path().join("config");
    std::fs::create_dir(&elsewhere).unwrap();
    let real = elsewhere.join("users.toml");
    std::fs::rename(registry_path(&home), &real).unwrap();
    std::os::unix::fs::symlink(&real, registry_path(&home)).unwrap();
    home.ok(&["projects", "create", "second"]);
    let link = std::fs::symlink_metadata(registry_path(&home)).unwrap();
    assert!(link.file_type().is_symlink(), "the link was replaced");
    assert!(
        std::fs::read_to_string(&real)
            .unwrap()
            .contains("name = \"second\"")
    );
}

#[test]
fn a_trailing_comment_stays_at_the_end() {
    let text = format!("{}\n# the end of the registry\n", registry(""));
    let home = TestHome::new(&text);
    // A user (in the last project), a project and a key: each appended
    // table goes before the comment that ended the file.
    home.ok(&[
        "dbusers",
        "create",
        "readAnyDatabase",
        "--username",
        "zed",
        "--x509Type",
        "MANAGED",
    ]);
    home.ok(&["projects", "create", "second"]);
    home.ok(&[
        "projects",
        "apiKeys",
        "create",
        "--desc",
        "ci",
        "--role",
        "ORG_OWNER",
    ]);
    let after = std::fs::read_to_string(registry_path(&home)).unwrap();
    let comment = after.find("# the end of the registry").unwrap();
    for added in ["username = \"zed\"", "name = \"second\"", "desc = \"ci\""] {
        assert!(after.find(added).unwrap() < comment, "{added}: {after}");
    }
    assert!(
        after.trim_end().ends_with("# the end of the registry"),
        "{after}"
    );
}

#[test]
fn root_editing_another_users_home_leaves_it_theirs() {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid only reads the process's credentials.
    if unsafe { libc::geteuid() } != 0 {
        // Only root can edit a file another user owns; nothing to check.
        return;
    }
    let home = TestHome::new(&registry(""));
    let (uid, gid) = (65534, 65534);
    std::os::unix::fs::chown(registry_path(&home), Some(uid), Some(gid)).unwrap();
    home.ok(&["projects", "create", "second"]);
    for file in ["users.toml", ".users.toml.lock"] {
        let meta = std::fs::metadata(home.path().join(file)).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (uid, gid), "{file}");
    }
}

#[test]
fn unbounded_arguments_and_endless_inputs_are_refused() {
    let home = TestHome::new(&registry(""));
    for args in [
        vec!["serve", "--client-timeout", "18446744073709551615"],
        vec!["serve", "--nonce-ttl", "18446744073709551615"],
        vec!["serve", "--key-pool", "100000"],
        vec!["--lock-wait", "100000", "projects", "list"],
    ] {
        let out = home.run(&args);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            stderr(&out).contains("is not in"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    // A device or a FIFO as an input file: refused at once, never read
    // until memory runs out or waited on.
    let fifo = home.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for input in ["/dev/zero", fifo.to_str().unwrap()] {
        let started = Instant::now();
        for args in [
            vec!["serve", "--listen", "127.0.0.1:0", "--tls-cert", input],
            vec!["verify", input],
            vec!["security", "customerCerts", "create", "--casFile", input],
        ] {
            let out = home.run(&args);
            assert!(!out.status.success(), "{args:?}");
            assert!(
                stderr(&out).contains("not a regular file"),
                "{args:?}: {}",
                stderr(&out)
            );
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{input}");
    }
    // A regular file too large for any input.
    let big = home.path().join("big.pem");
    std::fs::write(&big, vec![b'A'; 2 << 20]).unwrap();
    let out = home.run(&["verify", big.to_str().unwrap()]);
    assert!(stderr(&out).contains("larger than"), "{}", stderr(&out));
}
