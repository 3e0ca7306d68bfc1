//! A throw-away CA home and running the real binary in it.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::openssl::{openssl_ok, serial_of};
use super::{GID, stderr, unique};

/// A temporary CA home holding `registry_text` as its `users.toml`.
pub struct TestHome {
    pub dir: tempfile::TempDir,
}

/// The CA of project [`GID`], made once per test process by the real
/// binary (`ca init`) and copied into the homes that want one: each CA
/// costs an RSA-4096 key from OpenSSL's generator, seconds of CPU, which
/// only the tests about making CAs need to pay.
/// A home with a CA for project [`GID`], made once per test process:
/// `0` is the one [`TestHome::new`] copies, `1` another (a stranger's).
fn shared_ca(which: usize) -> &'static Path {
    static CAS: [std::sync::OnceLock<tempfile::TempDir>; 2] =
        [std::sync::OnceLock::new(), std::sync::OnceLock::new()];
    CAS[which]
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let registry = format!("[[projects]]\nid = \"{GID}\"\n");
            std::fs::write(dir.path().join("users.toml"), registry).unwrap();
            let out = Command::new(env!("CARGO_BIN_EXE_atlas-ca"))
                .arg("--home")
                .arg(dir.path())
                .args(["ca", "init", "--projectId", GID])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            dir
        })
        .path()
}

impl TestHome {
    /// A home whose project [`GID`] (when the registry has it) already has
    /// a CA, a copy of the one shared by the test process.
    pub fn new(registry_text: &str) -> TestHome {
        TestHome::with_shared_ca(registry_text, 0)
    }

    /// A home like [`TestHome::new`]'s whose CA is another one, made once
    /// too: another home's CA without the cost of making one.
    pub fn with_other_ca(registry_text: &str) -> TestHome {
        TestHome::with_shared_ca(registry_text, 1)
    }

    fn with_shared_ca(registry_text: &str, which: usize) -> TestHome {
        let home = TestHome::without_ca(registry_text);
        if registry_text.contains(GID) {
            let from = shared_ca(which).join("projects").join(GID);
            let to = home.path().join("projects").join(GID);
            std::fs::create_dir_all(&to).unwrap();
            std::fs::set_permissions(
                home.path().join("projects"),
                PermissionsExt::from_mode(0o700),
            )
            .unwrap();
            std::fs::set_permissions(&to, PermissionsExt::from_mode(0o700)).unwrap();
            for file in ["ca.key.pem", "ca.cert.pem"] {
                std::fs::copy(from.join(file), to.join(file)).unwrap();
            }
        }
        home
    }

    /// A home with no CA yet: for the tests about making one.
    pub fn without_ca(registry_text: &str) -> TestHome {
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

    /// Runs `dbusers certs create --username <user>` with `extra` arguments.
    pub fn create(&self, user: &str, extra: &[&str]) -> Output {
        self.cmd().args(create_args(user, extra)).output().unwrap()
    }

    /// Issues a certificate for `user`; returns the PEM written to a file.
    pub fn issue(&self, user: &str, extra: &[&str]) -> PathBuf {
        let path = self.path().join(format!("issued-{}.pem", unique()));
        let out = path.to_str().unwrap().to_string();
        let mut args = create_args(user, extra);
        args.extend(["--out", out.as_str()]);
        self.ok(&args);
        path
    }

    /// Runs `dbusers certs revoke` for `serial` (as typed) of `user`.
    pub fn try_revoke(&self, user: &str, serial: &str) -> Output {
        self.run(&[
            "dbusers",
            "certs",
            "revoke",
            "--username",
            user,
            "--serial",
            serial,
        ])
    }

    /// Revokes one of `user`'s certificates.
    pub fn revoke(&self, user: &str, serial: u64) {
        let out = self.try_revoke(user, &serial.to_string());
        assert!(out.status.success(), "revoke failed: {}", stderr(&out));
    }

    pub fn ca_cert(&self) -> PathBuf {
        self.path().join("projects").join(GID).join("ca.cert.pem")
    }

    /// Every file under the home, relative, sorted (to prove nothing was written).
    pub fn files(&self) -> Vec<String> {
        files_under(self.path())
    }
}

/// Every file under `dir`, relative, sorted.
pub fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}
fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if e.file_type().unwrap().is_dir() {
            walk(root, &p, out);
        } else {
            out.push(p.strip_prefix(root).unwrap().display().to_string());
        }
    }
}
impl TestHome {
    /// Starts `n` `certs create` processes at once (alternating alice and
    /// bob, with `extra` arguments), waits for all, asserts that each
    /// succeeded and returns their distinct serials.
    pub fn create_concurrently(&self, n: usize, extra: &[&str]) -> std::collections::BTreeSet<u64> {
        let children: Vec<_> = (0..n)
            .map(|i| {
                let user = if i % 2 == 0 { "alice" } else { "bob" };
                self.cmd()
                    .args(create_args(user, extra))
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut serials = std::collections::BTreeSet::new();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", stderr(&out));
            let pem = self.path().join(format!("concurrent-{}.pem", unique()));
            std::fs::write(&pem, &out.stdout).unwrap();
            openssl_ok(&[
                "verify",
                "-CAfile",
                self.ca_cert().to_str().unwrap(),
                pem.to_str().unwrap(),
            ]);
            assert!(serials.insert(serial_of(&pem)), "repeated serial");
        }
        serials
    }

    /// The Atlas list body of `user`'s certificates in project `GID`, with
    /// `extra` list arguments (such as `--all`).
    pub fn list_json(&self, user: &str, extra: &[&str]) -> serde_json::Value {
        let args = [
            "dbusers",
            "certs",
            "list",
            user,
            "-o",
            "json",
            "--projectId",
            GID,
        ];
        serde_json::from_str(&self.ok(&[&args[..], extra].concat())).unwrap()
    }
}
/// The arguments of `dbusers certs create --username <user> <extra...>`,
/// with an ec-p256 key unless `extra` names a key type: only tests about
/// RSA-4096 (Atlas's type) pay for it.
/// `local-kit --out KIT --key-type ec-p256` and `shape` (the deployment's
/// flags): its stdout.
pub fn ec_kit(home: &TestHome, kit: &Path, shape: &[&str]) -> String {
    let out = kit.to_str().unwrap();
    home.ok(&[&["local-kit", "--out", out, "--key-type", "ec-p256"], shape].concat())
}

/// `dbusers certs create` for alice with an EC key (cheap): the command
/// most tests issue with.
pub const CREATE_ALICE: &[&str] = &[
    "dbusers",
    "certs",
    "create",
    "--username",
    "alice",
    "--key-type",
    "ec-p256",
];

fn create_args<'a>(user: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let key: &[&str] = if extra.contains(&"--key-type") {
        &[]
    } else {
        &["--key-type", "ec-p256"]
    };
    [
        &["dbusers", "certs", "create", "--username", user],
        key,
        extra,
    ]
    .concat()
}

/// What a refused command must leave as it was: every file under a
/// directory (path, mode, content; the ledger's SQLite files aside) and the
/// ledger's rows, read with SQLite itself.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub files: Vec<(String, u32, Vec<u8>)>,
    pub rows: Vec<String>,
}

/// A [`Snapshot`] of `dir`, whose ledger (if any) is `dir/ledger.sqlite3`.
pub fn snapshot(dir: &Path) -> Snapshot {
    use std::os::unix::fs::PermissionsExt;
    let mut files = Vec::new();
    if dir.exists() {
        let mut names = Vec::new();
        walk(dir, dir, &mut names);
        names.sort();
        for name in names {
            if name.starts_with("ledger.sqlite3") {
                continue;
            }
            let path = dir.join(&name);
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let content = if meta.file_type().is_symlink() {
                std::fs::read_link(&path)
                    .unwrap()
                    .into_os_string()
                    .into_encoded_bytes()
            } else {
                std::fs::read(&path).unwrap()
            };
            files.push((name, meta.permissions().mode(), content));
        }
    }
    Snapshot {
        files,
        rows: ledger_rows(dir),
    }
}

/// Every row of the ledger in `dir`, as text, in serial order.
pub fn ledger_rows(dir: &Path) -> Vec<String> {
    let path = dir.join("ledger.sqlite3");
    if !path.exists() {
        return Vec::new();
    }
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT project_id, serial, username, subject, kind, created_at, not_after, \
             fingerprint, revoked_at FROM certificates ORDER BY project_id, serial",
        )
        .unwrap();
    stmt.query_map([], |r| {
        let serial: i64 = r.get(1)?;
        let revoked: Option<i64> = r.get(8)?;
        Ok(format!(
            "{} {serial} {} {} {} {} {} {} {revoked:?}",
            r.get::<_, String>(0)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, i64>(5)?,
            r.get::<_, i64>(6)?,
            r.get::<_, String>(7)?,
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}
