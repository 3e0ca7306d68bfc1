//! The CA home: the directory holding the registry, the project CAs and the
//! ledger, and where each of them lives inside it.

use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::ca::{self, CaError, Passphrase};
use super::files::{LOCK_WAIT, write_new_private};
use super::ledger::{self, Ledger, LedgerError};
use super::notes::Notes;
use super::registry::{Registry, RegistryError};
use super::registry_edit::Edit;
use crate::pki::Authority;

/// File name of the registry inside the home.
const REGISTRY_FILE: &str = "users.toml";

/// A CA home directory (by default `./ca`): where the registry, the
/// project CAs and the ledger live. It also owns what it has opened: the
/// CAs it loaded (decrypted keys included) and the ledger connection,
/// shared by its clones and dropped with the last of them, so that a
/// server or a batch opens each once and a library caller decides how long
/// they live.
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
    /// How long a registry edit waits for another writer's lock.
    lock_wait: Duration,
    /// Where notes for the user go (nowhere unless a front end says).
    notes: Notes,
    open: Arc<Opened>,
}

/// What a [`Home`] has opened.
#[derive(Default)]
struct Opened {
    cas: ca::Cache,
    ledger: Mutex<Option<Ledger>>,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("cas", &self.cas)
            .finish_non_exhaustive()
    }
}

/// The file naming the home's default project.
const DEFAULT_PROJECT_FILE: &str = "default-project";

/// The home when none is named, with why it was chosen (for messages):
/// `./ca` when it holds a registry (the repository's committed example),
/// else `atlas-ca` in the user's data directory (`$XDG_DATA_HOME`, by
/// default `~/.local/share`), as mkcert keeps its CA root.
pub fn default_root_why() -> (PathBuf, &'static str) {
    let local = Path::new("ca");
    if local.join(REGISTRY_FILE).is_file() {
        return (
            local.to_path_buf(),
            "./ca in the current directory holds a users.toml",
        );
    }
    let xdg = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    match (xdg, home) {
        (Some(data), _) => (
            data.join("atlas-ca"),
            "no ./ca/users.toml here, so $XDG_DATA_HOME/atlas-ca",
        ),
        (None, Some(home)) => (
            home.join(".local/share/atlas-ca"),
            "no ./ca/users.toml here, so ~/.local/share/atlas-ca",
        ),
        (None, None) => (
            local.to_path_buf(),
            "no ./ca/users.toml here and no $HOME, so ./ca",
        ),
    }
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
            lock_wait: LOCK_WAIT,
            notes: Notes::default(),
            open: Arc::default(),
        }
    }

    /// Uses `passphrase` for encrypted CA keys (and to encrypt new ones).
    pub fn with_passphrase(mut self, passphrase: Passphrase) -> Home {
        self.passphrase = Some(passphrase);
        self
    }

    /// Waits at most `wait` for the registry lock another writer holds
    /// (default 10 s), then fails naming the holder.
    pub fn with_lock_wait(mut self, wait: Duration) -> Home {
        self.lock_wait = wait;
        self
    }

    /// Sends the notes of work done in this home to `notes`.
    pub fn with_notes(mut self, notes: Notes) -> Home {
        self.notes = notes;
        self
    }

    /// Where notes go.
    pub fn notes(&self) -> &Notes {
        &self.notes
    }

    /// Locks the registry (waiting at most the home's lock wait) and
    /// reads it, for one edit.
    pub fn edit_registry(&self) -> Result<Edit, RegistryError> {
        Edit::open(&self.registry, self.lock_wait)
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

    /// Creates the home directory (0700) and a registry holding `text`
    /// (0600); an existing registry is never touched.
    pub(crate) fn create_registry(&self, text: &str) -> Result<(), RegistryError> {
        let err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| RegistryError::Write { path, source }
        };
        if let Some(dir) = self.registry.parent().filter(|d| !d.as_os_str().is_empty()) {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(err(dir))?;
        }
        write_new_private(&self.registry, text.as_bytes()).map_err(|source| {
            if source.kind() == std::io::ErrorKind::AlreadyExists {
                RegistryError::Exists {
                    path: self.registry.clone(),
                }
            } else {
                err(&self.registry)(source)
            }
        })
    }

    /// The project the home names as its default (`projects use`), if
    /// any: `default-project` in the home, one project id.
    pub fn default_project(&self) -> Result<Option<String>, RegistryError> {
        let path = self.root.join(DEFAULT_PROJECT_FILE);
        match crate::store::files::read_input(&path) {
            Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).trim().to_string())
                .filter(|id| !id.is_empty())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(RegistryError::Read { path, source }),
        }
    }

    /// Names `project_id` as the default project (`None`: no default).
    pub fn set_default_project(&self, project_id: Option<&str>) -> Result<(), RegistryError> {
        let path = self.root.join(DEFAULT_PROJECT_FILE);
        let done = match project_id {
            Some(id) => crate::store::files::write_public(&path, format!("{id}\n").as_bytes()),
            None => match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
        };
        done.map_err(|source| RegistryError::Write { path, source })
    }

    /// Reads and validates the registry.
    pub fn registry(&self) -> Result<Registry, RegistryError> {
        Registry::load(&self.registry)
    }

    /// The project's CA, created on first use; the flag says it was created.
    pub(crate) fn project_ca(&self, project_id: &str) -> Result<(Authority, bool), CaError> {
        ca::open_or_create(
            &self.root,
            project_id,
            self.passphrase.as_ref(),
            &self.open.cas,
            &self.notes,
        )
    }

    /// The project's CAs with their keys, current first, then the retired
    /// ones newest first (none when it has no CA yet).
    pub(crate) fn project_cas(&self, project_id: &str) -> Result<Vec<Authority>, CaError> {
        ca::open_all(
            &self.ca_dir(project_id),
            self.passphrase.as_ref(),
            &self.open.cas,
        )
    }

    /// The CA of `serve --tls`'s server certificates, created on first use.
    pub(crate) fn api_ca(&self) -> Result<(Authority, bool), CaError> {
        ca::open_or_create_api_ca(
            &self.root,
            self.passphrase.as_ref(),
            &self.open.cas,
            &self.notes,
        )
    }

    /// The directory holding the project's CA files.
    pub fn ca_dir(&self, project_id: &str) -> PathBuf {
        ca::dir(&self.root, project_id)
    }

    /// Runs `f` on the ledger, opening it (and creating it and the home if
    /// needed) the first time; one connection serves every later call.
    pub(crate) fn with_ledger<T, E: From<LedgerError>>(
        &self,
        f: impl FnOnce(&mut Ledger) -> Result<T, E>,
    ) -> Result<T, E> {
        // A poisoned lock means a panic mid-call; its transaction rolled back.
        let mut slot = self.open.ledger.lock().unwrap_or_else(|p| p.into_inner());
        let ledger = match &mut *slot {
            Some(ledger) => ledger,
            empty => empty.insert(Ledger::open(&self.ledger_path())?),
        };
        f(ledger)
    }

    /// Runs `f` on the ledger if it exists (`None` otherwise), so that
    /// read-only commands and rejected requests leave no file behind.
    pub(crate) fn with_existing_ledger<T, E: From<LedgerError>>(
        &self,
        f: impl FnOnce(Option<&mut Ledger>) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut slot = self.open.ledger.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() && self.ledger_path().exists() {
            *slot = Some(Ledger::open(&self.ledger_path())?);
        }
        f(slot.as_mut())
    }

    fn ledger_path(&self) -> PathBuf {
        self.root.join(ledger::FILE)
    }
}
