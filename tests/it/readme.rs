//! README's "Start from zero" section, run as written (atlas-ca standing for
//! the binary under test) in a fresh home: a newcomer's first commands work
//! without editing one.

use std::process::Command;

const README: &str = include_str!("../../README.md");

/// The `sh` blocks of the section headed `heading`.
fn sh_blocks(heading: &str) -> Vec<String> {
    let section = README
        .split("\n## ")
        .find(|s| s.starts_with(heading))
        .unwrap_or_else(|| panic!("README has no section {heading:?}"));
    section
        .split("```sh\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap().to_string())
        .collect()
}

#[test]
fn start_from_zero_runs_as_written() {
    let blocks = sh_blocks("Start from zero");
    assert!(blocks.len() >= 3, "{blocks:?}");
    let dir = tempfile::tempdir().unwrap();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_atlas-ca"))
        .parent()
        .unwrap()
        .to_path_buf();
    for block in blocks {
        // Installing is what puts atlas-ca on PATH; here it already is.
        if block.contains("cargo install") {
            continue;
        }
        let out = Command::new("bash")
            .args(["-euo", "pipefail", "-c", &block])
            .current_dir(dir.path())
            .env(
                "PATH",
                format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
            )
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("TMPDIR", dir.path())
            .env_remove("ATLAS_CA_HOME")
            .env_remove("MONGODB_ATLAS_PROJECT_ID")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{block}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The first block made a key no one else can read.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.path().join("alice.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}
