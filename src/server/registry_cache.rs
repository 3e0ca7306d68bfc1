//! The registry as the server sees it: re-read when the file changes, the
//! last good version kept when an edit does not parse.

use crate::model::escape_hidden;
use crate::store::{Registry, RegistryError};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// What identifies a version of the file: inode (every atomic rewrite
/// makes a new one), modification time and size.
type Stamp = Option<(u64, SystemTime, u64)>;

/// The current registry, reloaded on change.
pub struct RegistryCache {
    path: PathBuf,
    state: Mutex<(Stamp, Arc<Registry>)>,
}

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.ino(), meta.modified().ok()?, meta.len()))
}

impl RegistryCache {
    /// Loads the registry at `path`; it must be valid at start.
    pub fn new(path: &Path) -> Result<RegistryCache, RegistryError> {
        let before = stamp(path);
        let registry = Registry::load(path)?;
        Ok(RegistryCache {
            path: path.to_path_buf(),
            state: Mutex::new((before, Arc::new(registry))),
        })
    }

    /// The registry now: re-read if the file changed since last time. A
    /// version that fails to load is reported on stderr once and the last
    /// good registry stays in force.
    pub fn current(&self) -> Arc<Registry> {
        // A poisoned lock means a panic elsewhere mid-swap of two plain
        // values; both are still consistent on their own.
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = stamp(&self.path);
        if now != state.0 {
            state.0 = now;
            match Registry::load(&self.path) {
                Ok(registry) => {
                    eprintln!("atlas-ca: reloaded {}", self.path.display());
                    state.1 = Arc::new(registry);
                }
                Err(e) => eprintln!(
                    "atlas-ca: keeping the last good registry: {}",
                    escape_hidden(&e.to_string())
                ),
            }
        }
        Arc::clone(&state.1)
    }
}
