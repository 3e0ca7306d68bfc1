//! Writing files that must never be seen half-written or by other users.

use std::fs::Permissions;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

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
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(parent(path))?;
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
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(parent(path))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    if mode != 0o600 {
        tmp.as_file()
            .set_permissions(Permissions::from_mode(mode))?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
