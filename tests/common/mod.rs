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

    /// Runs `dbusers certs create --username <user>` with `extra` arguments.
    pub fn create(&self, user: &str, extra: &[&str]) -> Output {
        self.cmd().args(create_args(user, extra)).output().unwrap()
    }

    /// Issues a certificate for `user`; returns the PEM written to a file.
    pub fn issue(&self, user: &str, extra: &[&str]) -> PathBuf {
        let pem = self.ok(&create_args(user, extra));
        let path = self.path().join(format!("issued-{}.pem", unique()));
        std::fs::write(&path, pem).unwrap();
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

/// A name part unique within this test process.
pub fn unique() -> String {
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

/// The serial number of the (first) certificate in a PEM file, or `None`
/// if it holds no complete certificate.
pub fn try_serial_of(pem: &Path) -> Option<u64> {
    let (ok, text) = openssl(&["x509", "-in", pem.to_str().unwrap(), "-noout", "-serial"]);
    let hex = text.trim().strip_prefix("serial=")?;
    ok.then(|| u64::from_str_radix(hex, 16).ok()).flatten()
}

/// The serial number of the (first) certificate in a PEM file.
pub fn serial_of(pem: &Path) -> u64 {
    try_serial_of(pem).unwrap_or_else(|| panic!("{} holds no certificate", pem.display()))
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

/// The registry's API keys used by the server tests.
pub const API_KEYS: &str = r#"
[[apiKeys]]
publicKey = "owner"
privateKey = "owner-secret"
roles = [{ roleName = "GROUP_OWNER", groupId = "5efda6aea3f2ed2e7dd6ce05" }]

[[apiKeys]]
publicKey = "dbadmin"
privateKey = "dbadmin-secret"
roles = [{ roleName = "GROUP_DATABASE_ACCESS_ADMIN", groupId = "5efda6aea3f2ed2e7dd6ce05" }]

[[apiKeys]]
publicKey = "reader"
privateKey = "reader-secret"
roles = [{ roleName = "GROUP_READ_ONLY", groupId = "5efda6aea3f2ed2e7dd6ce05" }]

[[apiKeys]]
publicKey = "outsider"
privateKey = "outsider-secret"
roles = [{ roleName = "GROUP_OWNER", groupId = "0123456789abcdef01234567" }]

[[apiKeys]]
publicKey = "orgowner"
privateKey = "orgowner-secret"
roles = [{ roleName = "ORG_OWNER" }]
"#;

/// A running `atlas-ca serve`, stopped with SIGTERM when dropped.
pub struct Server {
    pub child: std::process::Child,
    pub base: String,
    stderr_path: PathBuf,
}

impl Server {
    pub fn start(home: &TestHome, extra: &[&str]) -> Server {
        use std::io::BufRead;
        let stderr_path = home.path().join(format!("server-{}.log", unique()));
        let mut child = home
            .cmd()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr_path).unwrap())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line.trim().to_string();
        assert!(
            base.starts_with("http://127.0.0.1:"),
            "first line: {line:?}"
        );
        Server {
            child,
            base,
            stderr_path,
        }
    }

    pub fn api(&self, version: &str) -> String {
        format!("{}/api/atlas/{version}", self.base)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Sends SIGTERM and waits; returns whether it exited successfully.
    pub fn stop(&mut self) -> bool {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        self.child.wait().unwrap().success()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

/// An HTTP response as `curl` saw it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// The nonce of this reply's Digest challenge.
    pub fn nonce(&self) -> String {
        let challenge = self.header("www-authenticate").expect("a Digest challenge");
        challenge
            .split("nonce=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Runs `curl` with `args` (plus `-s -i`); parses the last response.
pub fn curl(args: &[&str]) -> Reply {
    let out = Command::new("curl")
        .args(["-s", "-S", "-i"])
        .args(args)
        .output()
        .expect("curl");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    // With --digest, curl prints the 401 and then the final response.
    let last = text.rfind("HTTP/1.1 ").unwrap();
    let (head, body) = text[last..].split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_string(),
    }
}

/// A Python interpreter in a venv with `packages` installed (made once,
/// under the target directory, and shared by the test binaries).
pub fn python_with(packages: &[&str]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("test-venv");
    std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
    let lock = std::fs::File::create(dir.with_extension("lock")).unwrap();
    lock.lock().unwrap();
    let python = dir.join("bin/python");
    let imports = packages.join(", ");
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
        let pip = Command::new(&python)
            .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
            .args(packages)
            .status()
            .unwrap();
        assert!(pip.success(), "pip install {packages:?} failed");
        assert!(ready(&python), "{packages:?} not importable after install");
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

/// The value of an `Authorization: Digest` header with an MD5 response
/// computed by hand for `user:password` (cnonce "c0ffee", qop auth).
pub fn digest_authorization(
    user: &str,
    password: &str,
    method: &str,
    uri: &str,
    nonce: &str,
    nc: &str,
) -> String {
    use md5::{Digest, Md5};
    let h = |s: String| {
        Md5::digest(s.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let ha1 = h(format!("{user}:MMS Public API:{password}"));
    let ha2 = h(format!("{method}:{uri}"));
    let response = h(format!("{ha1}:{nonce}:{nc}:c0ffee:auth:{ha2}"));
    format!(
        "Digest username=\"{user}\", realm=\"MMS Public API\", nonce=\"{nonce}\", uri=\"{uri}\", \
         cnonce=\"c0ffee\", nc={nc}, qop=auth, response=\"{response}\""
    )
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

/// The arguments of `dbusers certs create --username <user> <extra...>`.
fn create_args<'a>(user: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    [&["dbusers", "certs", "create", "--username", user], extra].concat()
}

/// Starts `curl --digest -X POST` on `url` as `user:password`, printing the
/// body then the status code on a last line; read it with [`body_and_status`].
pub fn spawn_curl_create(url: &str, user: &str) -> std::process::Child {
    Command::new("curl")
        .args([
            "-s",
            "--digest",
            "--user",
            user,
            "-X",
            "POST",
            "--write-out",
            "\n%{http_code}",
            url,
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for a curl started by [`spawn_curl_create`]: (body, status code).
pub fn body_and_status(child: std::process::Child) -> (String, String) {
    let text = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", text.as_str()));
    (body.to_string(), code.to_string())
}

/// The certificate's subject in RFC 2253 form as OpenSSL (and so mongod)
/// derives it: `-nameopt RFC2253,-esc_msb`.
pub fn rfc2253_subject_of(pem: &Path) -> String {
    let out = openssl_ok(&[
        "x509",
        "-in",
        pem.to_str().unwrap(),
        "-noout",
        "-subject",
        "-nameopt",
        "RFC2253,-esc_msb",
    ]);
    out.trim_end_matches('\n')
        .strip_prefix("subject=")
        .unwrap()
        .to_string()
}
