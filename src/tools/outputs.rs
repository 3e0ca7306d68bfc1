//! The output files of a tool that writes a directory, checked when it
//! plans: before anything is issued or written.

use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::api::{Error, Invalid};
use crate::store::files::{Refusal, check_target};

/// Refuses the run if any of `files` (relative to `out`) may not be
/// written: an existing one without `force`; a link, device or directory
/// ever. Nothing is changed.
pub(crate) fn check_outputs(out: &Path, files: &[String], force: bool) -> Result<(), Error> {
    for file in files {
        check_parents(out, file)?;
        let path = out.join(file);
        match check_target(&path, force).map_err(Error::io(&path))? {
            None => {}
            Some(Refusal::Exists) => {
                return Err(Invalid::Exists {
                    path,
                    dir: out.to_path_buf(),
                }
                .into());
            }
            Some(refusal) => return Err(Invalid::Target { path, refusal }.into()),
        }
    }
    Ok(())
}

/// Refuses a `file` under a directory of `out` that is a link or not a
/// directory: nothing is written through a link. Missing ones are made.
fn check_parents(out: &Path, file: &str) -> Result<(), Error> {
    let Some(parent) = Path::new(file).parent() else {
        return Ok(());
    };
    let mut dir = out.to_path_buf();
    for part in parent.components() {
        dir.push(part);
        let refusal = match std::fs::symlink_metadata(&dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io(&dir)(e)),
            Ok(m) if m.file_type().is_symlink() => Refusal::Symlink,
            Ok(m) if !m.is_dir() => Refusal::NotRegular,
            Ok(_) => continue,
        };
        return Err(Invalid::Target { path: dir, refusal }.into());
    }
    Ok(())
}

/// Creates the directories under `out` that `files` (relative paths) are
/// in (0700); returns those made, for [`remove_made`].
pub(crate) fn create_parents(out: &Path, files: &[String]) -> Result<Vec<PathBuf>, Error> {
    let mut made = Vec::new();
    for file in files {
        if let Some(parent) = Path::new(file)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            made.extend(create_dirs(&out.join(parent))?);
        }
    }
    Ok(made)
}

/// Creates `dir` and its missing ancestors (0700); returns those made,
/// outermost first, for [`remove_made`] should the run fail.
pub(crate) fn create_dirs(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut missing: Vec<PathBuf> = dir
        .ancestors()
        .take_while(|d| !d.exists())
        .map(Path::to_path_buf)
        .collect();
    missing.reverse();
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(Error::io(dir))?;
    Ok(missing)
}

/// Removes the directories [`create_dirs`] made, innermost first, where
/// they are empty again (a failed run's staged files are gone by then).
pub(crate) fn remove_made(made: &[PathBuf]) {
    for dir in made.iter().rev() {
        let _ = std::fs::remove_dir(dir);
    }
}
