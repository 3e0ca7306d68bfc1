//! A running `atlas-ca serve` and the API keys the server tests use.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::home::TestHome;
use super::unique;

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
    /// Starts the server with `extra` arguments. Unless `extra` says
    /// otherwise, the warm key pool is off and created certificates get
    /// ec-p256 keys: only tests about the pool or RSA-4096 pay for them.
    pub fn start(home: &TestHome, extra: &[&str]) -> Server {
        use std::io::BufRead;
        let stderr_path = home.path().join(format!("server-{}.log", unique()));
        let mut pool: Vec<&str> = Vec::new();
        if !extra.contains(&"--key-pool") {
            pool.extend(["--key-pool", "0"]);
        }
        if !extra.contains(&"--key-type") && !extra.contains(&"--key-pool") {
            pool.extend(["--key-type", "ec-p256"]);
        }
        let mut child = home
            .cmd()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(&pool)
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
            base.starts_with("http://127.0.0.1:") || base.starts_with("https://127.0.0.1:"),
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
