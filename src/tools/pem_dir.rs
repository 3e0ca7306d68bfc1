//! Directories of PEM files (what `pki apply` and `local-kit` write): the
//! files that may hold PEM, and the blocks in one.

use std::path::{Path, PathBuf};

use crate::api::Error;

/// Most files read from one directory tree.
const MAX_FILES: usize = 4096;

/// The regular files of `dir` (and, when `recursive`, of its
/// subdirectories) named as PEM files are (`.pem`, `.crt`, `.key`, `.crl`),
/// sorted; links are not followed, and at most 4096 are taken.
pub(crate) fn pem_files(dir: &Path, recursive: bool) -> Result<Vec<PathBuf>, Error> {
    files_ending(dir, recursive, &["pem", "crt", "key", "crl"])
}

/// The regular files of `dir` (and, when `recursive`, of its
/// subdirectories) whose extension is one of `extensions`, sorted; links
/// are not followed, and at most 4096 are taken.
pub(crate) fn files_ending(
    dir: &Path,
    recursive: bool,
    extensions: &[&str],
) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(at) = dirs.pop() {
        let entries = std::fs::read_dir(&at).map_err(Error::io(&at))?;
        for entry in entries.filter_map(Result::ok) {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() && recursive {
                dirs.push(path);
            } else if kind.is_file()
                && path
                    .extension()
                    .is_some_and(|e| extensions.contains(&e.to_string_lossy().as_ref()))
            {
                files.push(path);
            }
        }
    }
    files.sort();
    files.truncate(MAX_FILES);
    Ok(files)
}

pub(crate) struct Block<'a> {
    pub(crate) label: &'a str,
    pub(crate) text: &'a [u8],
}

/// The PEM blocks of `bytes`, each with its BEGIN and END lines.
pub(crate) fn pem_blocks(bytes: &[u8]) -> Vec<Block<'_>> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Vec::new();
    };
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let Some(label_end) = after.find("-----") else {
            break;
        };
        let label = &after[..label_end];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = rest[start..].find(&end_marker) else {
            break;
        };
        let stop = start + end + end_marker.len();
        blocks.push(Block {
            label,
            text: &rest.as_bytes()[start..stop],
        });
        rest = &rest[stop..];
    }
    blocks
}
