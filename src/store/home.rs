//! The CA home: the directory holding the registry, the project CAs and the
//! ledger, and where each of them lives inside it.

use std::path::{Path, PathBuf};

use super::ca::{self, CaError, Passphrase};
use super::ledger::{self, Ledger, LedgerError};
use super::registry::{Registry, RegistryError};
use crate::pki::Authority;

/// File name of the registry inside the home.
const REGISTRY_FILE: &str = "users.toml";

/// A CA home directory (by default `./ca`): where the registry, the
/// project CAs and the ledger live.
///
/// ```
/// let home = atlas_ca::Home::new("/tmp/atlas-home");
/// assert_eq!(home.registry_path(), std::path::Path::new("/tmp/atlas-home/users.toml"));
/// ```
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
    registry: PathBuf,
    passphrase: Option<Passphrase>,
}

impl Home {
    /// The home at `root`, with its registry at `root/users.toml`.
    pub fn new(root: impl Into<PathBuf>) -> Home {
        let root = root.into();
        let registry = root.join(REGISTRY_FILE);
        Home {
            root,
            registry,
            passphrase: None,
        }
    }

    /// Uses `passphrase` for encrypted CA keys (and to encrypt new ones).
    pub fn with_passphrase(mut self, passphrase: Passphrase) -> Home {
        self.passphrase = Some(passphrase);
        self
    }

    /// The passphrase for CA keys, if one was given.
    pub fn passphrase(&self) -> Option<&Passphrase> {
        self.passphrase.as_ref()
    }

    /// Uses `path` as the registry instead of the home's `users.toml`.
    pub fn with_registry(mut self, path: impl Into<PathBuf>) -> Home {
        self.registry = path.into();
        self
    }

    /// The home directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The registry file in use.
    pub fn registry_path(&self) -> &Path {
        &self.registry
    }

    /// Reads and validates the registry.
    pub fn registry(&self) -> Result<Registry, RegistryError> {
        Registry::load(&self.registry)
    }

    /// The project's CA, created on first use; the flag says it was created.
    pub(crate) fn project_ca(&self, project_id: &str) -> Result<(Authority, bool), CaError> {
        ca::open_or_create(&self.root, project_id, self.passphrase.as_ref())
    }

    /// The directory holding the project's CA files.
    pub fn ca_dir(&self, project_id: &str) -> PathBuf {
        ca::dir(&self.root, project_id)
    }

    /// Opens the ledger, creating it (and the home) if needed.
    pub(crate) fn ledger(&self) -> Result<Ledger, LedgerError> {
        Ledger::open(&self.root.join(ledger::FILE))
    }

    /// Opens the ledger only if it exists, so that read-only commands and
    /// rejected requests leave no file behind.
    pub(crate) fn existing_ledger(&self) -> Result<Option<Ledger>, LedgerError> {
        let path = self.root.join(ledger::FILE);
        if path.exists() {
            Ledger::open(&path).map(Some)
        } else {
            Ok(None)
        }
    }
}
