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
