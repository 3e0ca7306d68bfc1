//! The CA home: the directory holding the registry, the project CAs and the
//! ledger, and where each of them lives inside it.

use std::path::{Path, PathBuf};

use crate::ca::{CaError, Passphrase, ProjectCa};
use crate::ledger::{self, Ledger, LedgerError};
use crate::registry::{Registry, RegistryError};

/// File name of the registry inside the home.
pub const REGISTRY_FILE: &str = "users.toml";

/// A CA home directory (by default `./ca`).
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
    pub fn project_ca(&self, project_id: &str) -> Result<(ProjectCa, bool), CaError> {
        ProjectCa::open_or_create(&self.root, project_id, self.passphrase.as_ref())
    }

    /// Opens the ledger, creating it (and the home) if needed.
    pub fn ledger(&self) -> Result<Ledger, LedgerError> {
        Ledger::open(&self.root.join(ledger::FILE))
    }

    /// Opens the ledger only if it exists, so that read-only commands and
    /// rejected requests leave no file behind.
    pub fn existing_ledger(&self) -> Result<Option<Ledger>, LedgerError> {
        let path = self.root.join(ledger::FILE);
        if path.exists() {
            Ledger::open(&path).map(Some)
        } else {
            Ok(None)
        }
    }
}
