//! Python and Node environments for the tests that drive real clients.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Every package a test asks for (`tests/py/requirements.txt`, which
/// `.ci/run` installs while the code compiles): the venv gets them all in
/// its first install, so that no install runs while another test's script
/// imports from the same venv.
const REQUIREMENTS: &str = include_str!("../../py/requirements.txt");

/// The requirements as (pip name, module name).
fn requirements() -> Vec<(&'static str, &'static str)> {
    REQUIREMENTS
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (name, comment) = l.split_once('#').unwrap_or((l, ""));
            let name = name.trim();
            let module = comment
                .trim()
                .strip_prefix("import:")
                .map_or(name, str::trim);
            (name, module)
        })
        .collect()
}

/// A Python interpreter in a venv with `packages` installed (made once,
/// under the target directory, and shared by the test binaries). A package
/// imported under another name is written `pip-name:module` (`pyyaml:yaml`).
pub fn python_with(packages: &[&str]) -> PathBuf {
    let all = requirements();
    for p in packages {
        let name = p.split_once(':').map_or(*p, |(pip, _)| pip);
        assert!(
            all.iter().any(|(n, _)| *n == name),
            "add {name} to tests/py/requirements.txt"
        );
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("test-venv");
    std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
    let lock = std::fs::File::create(dir.with_extension("lock")).unwrap();
    lock.lock().unwrap();
    let python = dir.join("bin/python");
    let imports = all.iter().map(|(_, m)| *m).collect::<Vec<_>>().join(", ");
    let ready = |p: &Path| {
        Command::new(p)
            .args(["-c", &format!("import {imports}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !ready(&python) {
        let made = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&dir)
            .status()
            .unwrap();
        assert!(made.success(), "python3 -m venv failed");
        let requirements = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/requirements.txt");
        let pip = Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&requirements)
            .status()
            .unwrap();
        assert!(
            pip.success(),
            "pip install -r {} failed",
            requirements.display()
        );
        assert!(ready(&python), "{imports} not importable after install");
    }
    python
}
/// A directory with the npm `package` installed (made once, under the
/// target directory, shared by the test binaries); run scripts with
/// `NODE_PATH=<dir>/node_modules`.
pub fn node_with(package: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("test-node");
    std::fs::create_dir_all(&dir).unwrap();
    let lock = std::fs::File::create(dir.with_extension("lock")).unwrap();
    lock.lock().unwrap();
    let name = package.rsplit_once('@').map_or(package, |(n, _)| n);
    if !dir.join("node_modules").join(name).exists() {
        let ok = Command::new("npm")
            .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .arg(package)
            .status()
            .unwrap();
        assert!(ok.success(), "npm install {package} failed");
    }
    dir.join("node_modules")
}
/// Runs a script interpreter command; asserts success and returns stdout.
pub fn script_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
