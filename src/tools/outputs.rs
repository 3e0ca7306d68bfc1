//! The output files of a tool that writes a directory, checked when it
//! plans: before anything is issued or written.

use std::path::Path;

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
