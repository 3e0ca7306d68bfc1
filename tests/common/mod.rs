//! Helpers shared by the integration tests: a throw-away CA home, running the
//! real binary, and asking the `openssl` CLI about what it produced.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const GID: &str = "5efda6aea3f2ed2e7dd6ce05";
pub const OTHER_GID: &str = "0123456789abcdef01234567";

/// A registry with one project and users of every kind.
pub fn registry(extra_project_lines: &str) -> String {
    format!(
        r#"
[[projects]]
id = "{GID}"
name = "test"
{extra_project_lines}

[[projects.databaseUsers]]
username = "alice"
databaseName = "$external"
x509Type = "MANAGED"
roles = [{{ roleName = "readWrite", databaseName = "app" }}]

[[projects.databaseUsers]]
username = "bob"
x509Type = "MANAGED"

[[projects.databaseUsers]]
username = "carol"
x509Type = "CUSTOMER"

[[projects.databaseUsers]]
username = "dave"
databaseName = "admin"
"#
    )
}

/// A temporary CA home holding `registry_text` as its `users.toml`.
pub struct TestHome {
    pub dir: tempfile::TempDir,
}

impl TestHome {
    pub fn new(registry_text: &str) -> TestHome {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("users.toml"), registry_text).unwrap();
        TestHome { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The binary with `--home` set and the project variable cleared.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_atlas-ca"));
        c.arg("--home").arg(self.path());
        c.env_remove("MONGODB_ATLAS_PROJECT_ID")
            .env_remove("ATLAS_CA_HOME");
        c.stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    /// Runs and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "atlas-ca {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Issues a certificate for `user`; returns the PEM written to a file.
    pub fn issue(&self, user: &str, extra: &[&str]) -> PathBuf {
        let pem = self.ok(&[&["dbusers", "certs", "create", "--username", user], extra].concat());
        let path = self.path().join(format!("issued-{}.pem", rand_suffix()));
        std::fs::write(&path, pem).unwrap();
        path
    }

    pub fn ca_cert(&self) -> PathBuf {
        self.path().join("projects").join(GID).join("ca.cert.pem")
    }

    /// Every file under the home, relative, sorted (to prove nothing was written).
    pub fn files(&self) -> Vec<String> {
        let mut out = Vec::new();
        walk(self.path(), self.path(), &mut out);
        out.sort();
        out
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(root, &p, out);
        } else {
            out.push(p.strip_prefix(root).unwrap().display().to_string());
        }
    }
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs the `openssl` CLI; returns (success, stdout + stderr).
pub fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl CLI");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// Runs `openssl` and asserts success; returns stdout + stderr.
pub fn openssl_ok(args: &[&str]) -> String {
    let (ok, text) = openssl(args);
    assert!(ok, "openssl {args:?} failed: {text}");
    text
}

/// One `openssl x509` field of the (first) certificate in `pem`.
pub fn x509_field(pem: &Path, field: &str) -> String {
    openssl_ok(&["x509", "-in", pem.to_str().unwrap(), "-noout", field])
        .trim()
        .to_string()
}

/// The DER skeleton of the first certificate in a PEM file, per
/// `openssl asn1parse`: depth, tag and the values that are fixed by the
/// profile (OIDs, booleans, extension contents); variable values (integers,
/// strings, times, bit strings) are left out, their ASN.1 types kept.
pub fn der_skeleton(pem: &Path) -> Vec<String> {
    let text = openssl_ok(&["asn1parse", "-in", pem.to_str().unwrap()]);
    skeleton_of(&text)
}

/// The skeleton of `openssl asn1parse` output (see [`der_skeleton`]).
pub fn skeleton_of(asn1parse: &str) -> Vec<String> {
    asn1parse
        .lines()
        .filter(|l| l.contains("d="))
        .map(|l| {
            let depth = l
                .split("d=")
                .nth(1)
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap();
            let after = l.split_once(" l=").unwrap().1;
            let after = after.trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ');
            let (kind, rest) = after.split_once(':').unwrap();
            let (tag, value) = rest.split_once(':').unwrap_or((rest, ""));
            let tag = tag.split_whitespace().collect::<Vec<_>>().join(" ");
            let value = value.trim();
            let keep = ["OBJECT", "BOOLEAN", "OCTET STRING"]
                .iter()
                .any(|t| tag.starts_with(t));
            format!(
                "d={depth} {} {tag}{}",
                kind.trim(),
                if keep {
                    format!(" {value}")
                } else {
                    String::new()
                }
            )
        })
        .collect()
}

/// The reference data shipped beside the repository, when present.
pub fn shared_reference(name: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/reference")
        .join(name);
    p.exists().then_some(p)
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
