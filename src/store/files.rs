//! Writing files that must never be seen half-written or by other users.
//!
//! Temporary files are named `.tmp-atlas-ca-<pid>-<random>`: a run that is
//! killed leaves its own behind (they may hold private keys), and the next
//! run that writes in that directory removes those of processes that are
//! gone, saying so on stderr.

use std::collections::HashSet;
use std::fs::Permissions;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};

/// The start of every temporary file's name.
const TMP_PREFIX: &str = ".tmp-atlas-ca-";

/// Directories this process has already swept.
static SWEPT: LazyLock<Mutex<HashSet<PathBuf>>> = LazyLock::new(Mutex::default);

/// A temporary file in `dir` with this program's naming.
fn temporary(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    sweep(dir);
    tempfile::Builder::new()
        .prefix(&format!("{TMP_PREFIX}{}-", std::process::id()))
        .tempfile_in(dir)
}

/// Removes, once per directory and process, the temporaries that killed
/// runs of this program left in `dir`.
fn sweep(dir: &Path) {
    {
        // A poisoned lock only interrupted an insert into a plain set.
        let mut swept = SWEPT.lock().unwrap_or_else(|p| p.into_inner());
        if !swept.insert(dir.to_path_buf()) {
            return;
        }
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(TMP_PREFIX))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<i32>().ok())
        else {
            continue;
        };
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && !alive(pid) && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    if removed > 0 {
        eprintln!(
            "atlas-ca: removed {removed} temporary file{} that an interrupted run left in {}",
            if removed == 1 { "" } else { "s" },
            crate::pki::escape_hidden(&dir.display().to_string())
        );
    }
}

/// Whether process `pid` exists.
fn alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 sends nothing; it only checks the pid.
    let found = unsafe { libc::kill(pid, 0) } == 0;
    found || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Writes `bytes` to `path` atomically with mode 0600: a private temporary
/// file in the same directory, synced, then renamed over `path`. A reader
/// sees either the old file or the whole new one, and nobody else can read
/// it at any moment.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic(path, bytes, 0o600)
}

/// Like [`write_private`], for files anyone may read (certificates, CRLs,
/// configuration): mode 0644.
pub fn write_public(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic(path, bytes, 0o644)
}

/// Like [`write_private`], but fails (`AlreadyExists`) rather than replace
/// a file that is there, even one created at the same moment.
pub fn write_new_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = temporary(parent(path))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist_noclobber(path).map_err(|e| e.error)?;
    Ok(())
}

/// The directory `path` is in (`.` for a bare name).
fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    // tempfile creates its files with mode 0600; widen only once complete.
    let mut tmp = temporary(parent(path))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    if mode != 0o600 {
        tmp.as_file()
            .set_permissions(Permissions::from_mode(mode))?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
