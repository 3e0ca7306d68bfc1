//! README's shell blocks, every one, run as written and in order in one
//! shell session, as a newcomer pastes them from the repository's root:
//! `atlas-ca` (and `cargo run --release --`) standing for the binary under
//! test, a copy of the repository's `ca/users.toml` and `examples/`,
//! and stubs for what this machine does not run (`mongod`, `mongosh`,
//! `terraform`, the Atlas CLI, `cargo test`/`install`) that log their
//! arguments. It fails on the first block that fails.

use std::path::Path;
use std::process::Command;

const README: &str = include_str!("../../README.md");

/// Every `sh` block of README, in order.
fn sh_blocks() -> Vec<String> {
    README
        .split("```sh\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap().to_string())
        .collect()
}

/// A stub on PATH that logs its arguments (`cargo run --release --`
/// runs atlas-ca).
fn stub(dir: &Path, name: &str, log: &Path) {
    let body = if name == "cargo" {
        format!(
            "#!/bin/sh\necho \"cargo $*\" >> '{log}'\nif [ \"$1\" = run ]; then\n  \
             while [ \"$1\" != -- ]; do shift; done; shift\n  exec atlas-ca \"$@\"\nfi\n",
            log = log.display()
        )
    } else {
        format!("#!/bin/sh\necho \"{name} $*\" >> '{}'\n", log.display())
    };
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn every_shell_block_runs_in_order() {
    let blocks = sh_blocks();
    assert!(blocks.len() >= 15, "{} blocks", blocks.len());
    let dir = tempfile::tempdir().unwrap();
    let repo_src = Path::new(env!("CARGO_MANIFEST_DIR"));
    let repo = dir.path().join("repo");
    copy_dir(&repo_src.join("examples"), &repo.join("examples"));
    std::fs::create_dir_all(repo.join("ca")).unwrap();
    std::fs::copy(repo_src.join("ca/users.toml"), repo.join("ca/users.toml")).unwrap();
    let stubs = dir.path().join("stubs");
    std::fs::create_dir_all(&stubs).unwrap();
    let log = dir.path().join("stubs.log");
    for name in ["cargo", "mongod", "mongosh", "terraform", "atlas"] {
        stub(&stubs, name, &log);
    }
    let bin = Path::new(env!("CARGO_BIN_EXE_atlas-ca")).parent().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut script = String::from("set -euo pipefail\n");
    for (i, block) in blocks.iter().enumerate() {
        script.push_str(&format!("echo '### block {i}' >&2\n{block}\n"));
    }
    // Its own session, its output in files: whatever a block leaves
    // running (a server it did not stop) cannot hold the test, and is
    // stopped after.
    let out_file = std::fs::File::create(dir.path().join("out.log")).unwrap();
    let err_file = std::fs::File::create(dir.path().join("err.log")).unwrap();
    // Bounded: a block that waits forever fails the test instead.
    let mut child = Command::new("setsid")
        .args(["timeout", "300", "bash", "-c", &script])
        .current_dir(&repo)
        .env(
            "PATH",
            format!(
                "{}:{}:{}",
                stubs.display(),
                bin.display(),
                std::env::var("PATH").unwrap()
            ),
        )
        .env("HOME", &home)
        .env("TMPDIR", dir.path())
        .env_remove("XDG_DATA_HOME")
        .env_remove("ATLAS_CA_HOME")
        .env_remove("MONGODB_ATLAS_PROJECT_ID")
        .stdin(std::process::Stdio::null())
        .stdout(out_file)
        .stderr(err_file)
        .spawn()
        .unwrap();
    let pid = child.id();
    let status = child.wait().unwrap();
    let _ = Command::new("kill")
        .args(["-TERM", "--", &format!("-{pid}")])
        .output();
    struct Ran {
        status: std::process::ExitStatus,
        stderr: Vec<u8>,
    }
    let out = Ran {
        status,
        stderr: std::fs::read(dir.path().join("err.log")).unwrap(),
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let failed = stderr
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("### block "))
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0);
        panic!(
            "README block {failed} failed:\n{}\nstderr:\n{stderr}",
            blocks[failed]
        );
    }
    // The first block made a key no one else can read, and the stubs ran.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(repo.join("alice.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("terraform apply"), "{logged}");
    assert!(logged.contains("atlas dbusers certs create"), "{logged}");
}
