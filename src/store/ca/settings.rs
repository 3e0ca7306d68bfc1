//! A project's stored settings (`settings.json` beside its CA): what
//! clients PATCH and read back (LDAP, project settings, managed slow
//! operation threshold). The bytes only; the API layer gives them their
//! shape.

use std::path::{Path, PathBuf};

use super::error::{CaError, io};
use super::layout::{dir, remove_beside, write_beside};
use crate::store::files::read_input;

/// File name of the stored settings in the project directory.
const SETTINGS_FILE: &str = "settings.json";

/// Where the project's settings are stored.
pub fn settings_path(home: &Path, project_id: &str) -> PathBuf {
    dir(home, project_id).join(SETTINGS_FILE)
}

/// The project's stored settings, `None` when none are stored. Read only
/// from a regular file of bounded size.
pub fn read_settings(home: &Path, project_id: &str) -> Result<Option<Vec<u8>>, CaError> {
    let path = settings_path(home, project_id);
    match read_input(&path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("cannot read", &path)(e)),
    }
}

/// Stores the project's settings (0644, atomically). The caller holds the
/// registry's lock, so that concurrent changes apply one after the other.
pub fn write_settings(home: &Path, project_id: &str, bytes: &[u8]) -> Result<(), CaError> {
    write_beside(home, project_id, SETTINGS_FILE, bytes)
}

/// Removes the project's stored settings (a new project's need none).
pub fn remove_settings(home: &Path, project_id: &str) -> Result<(), CaError> {
    remove_beside(home, project_id, SETTINGS_FILE)
}
