//! The kit's list of the files it wrote (`.atlas-ca-kit`), so that
//! `local-kit --force` can remove what an earlier kit in the directory
//! wrote and the new one does not (a standalone kit over a replica set's
//! leaves no `start.sh` or member certificates behind). A leaf.

use std::path::{Component, Path};

use crate::api::Error;
use crate::store::files::read_input;

/// The list's file name in the kit directory.
pub(super) const MANIFEST: &str = ".atlas-ca-kit";

/// The list's text for a kit writing `files` (the list itself among them).
pub(super) fn manifest(files: &[String]) -> String {
    let mut text = String::from(
        "# The files atlas-ca local-kit wrote here, one per line: `local-kit --force`\n\
         # removes those a new kit does not write. Nothing else is touched.\n",
    );
    for f in files {
        text.push_str(f);
        text.push('\n');
    }
    text
}

/// The files an earlier kit's list in `out` names that are still there:
/// relative paths inside `out` only (never `..`, an absolute path or a
/// hidden name), regular files only, never through a link.
pub(super) fn earlier(out: &Path) -> Vec<String> {
    let Ok(bytes) = read_input(&out.join(MANIFEST)) else {
        return Vec::new();
    };
    String::from_utf8_lossy(&bytes)
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter(|l| inside(Path::new(l)) && is_plain_file(out, l))
        .map(String::from)
        .collect()
}

/// Removes the `earlier` files `now` does not list; then the directories
/// they were in, if that left them empty.
pub(super) fn remove_stale(out: &Path, earlier: &[String], now: &[String]) -> Result<(), Error> {
    for file in earlier.iter().filter(|f| !now.contains(f)) {
        let path = out.join(file);
        std::fs::remove_file(&path).map_err(Error::io(&path))?;
        if let Some(dir) = Path::new(file)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            // Only an empty directory goes; one with anything left stays.
            let _ = std::fs::remove_dir(out.join(dir));
        }
    }
    Ok(())
}

fn inside(path: &Path) -> bool {
    path.components().all(|c| match c {
        Component::Normal(part) => !part.to_string_lossy().starts_with('.'),
        _ => false,
    })
}

/// Whether `file` under `out` is a regular file reached without a link.
fn is_plain_file(out: &Path, file: &str) -> bool {
    let mut at = out.to_path_buf();
    let parts: Vec<_> = Path::new(file).components().collect();
    for (i, part) in parts.iter().enumerate() {
        at.push(part);
        let Ok(meta) = std::fs::symlink_metadata(&at) else {
            return false;
        };
        let last = i + 1 == parts.len();
        if meta.file_type().is_symlink() || (last && !meta.is_file()) || (!last && !meta.is_dir()) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_inside_the_kit_count() {
        for (name, ok) in [
            ("start.sh", true),
            ("members/mongod-0.pem", true),
            ("../outside.pem", false),
            ("/etc/passwd", false),
            (".hidden", false),
            ("users/./x.pem", true),
        ] {
            assert_eq!(inside(Path::new(name)), ok, "{name}");
        }
    }
}
