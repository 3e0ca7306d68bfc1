//! Helpers shared by the integration tests, one concern a module: a
//! throw-away CA home running the real binary (`home`), the `openssl` CLI
//! (`openssl`), a running server (`server`), HTTP through curl and Digest
//! by hand (`http`), and Python and Node clients (`scripts`).
#![allow(dead_code)] // some helpers serve only tests run on demand

mod home;
mod http;
mod openssl;
mod scripts;
mod server;

pub use home::*;
pub use http::*;
pub use openssl::*;
pub use scripts::*;
pub use server::*;

use std::path::{Path, PathBuf};
use std::process::Output;

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

/// The reference data shipped beside the repository, when present. CI
/// always has it: there (`CI=true`) a missing file fails the test instead
/// of letting it pass on the built-in expectations alone.
pub fn shared_reference(name: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/reference")
        .join(name);
    if !p.exists() && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{} is missing; CI always has ../shared/reference",
            p.display()
        );
    }
    p.exists().then_some(p)
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
