//! Writing files that must never be seen half-written or by other users.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically: a 0600 temporary file in the same
/// directory, synced, then renamed over `path`. A reader sees either the
/// old file or the whole new one, and nobody else can read it meanwhile.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // tempfile creates its files with mode 0600.
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
