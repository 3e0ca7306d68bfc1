//! Notes for the person running atlas-ca: what a library step did that
//! they should know, handed to a reporter the front end chose (the command
//! line writes them on stderr, the server in its log), never printed here.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// Something worth telling, as a value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Note {
    /// Temporary files that killed runs left in `dir` were removed.
    TemporariesRemoved {
        /// The directory.
        dir: PathBuf,
        /// How many.
        count: usize,
    },
    /// The local API CA's plain key was encrypted with the passphrase.
    KeyEncrypted {
        /// The key file.
        path: PathBuf,
    },
    /// The server's key pool stopped filling (requests generate inline).
    KeyPoolStopped {
        /// Why.
        error: String,
    },
    /// A CA key is being generated (seconds, for RSA-4096).
    GeneratingCaKey {
        /// Whose: a project id, or the local API CA.
        of: String,
    },
    /// A file the user named was written.
    Wrote {
        /// The file.
        path: PathBuf,
        /// What it holds.
        what: &'static str,
        /// Its permission bits.
        mode: u32,
    },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::TemporariesRemoved { dir, count } => write!(
                f,
                "removed {count} temporary file{} that an interrupted run left in {}",
                if *count == 1 { "" } else { "s" },
                dir.display()
            ),
            Note::KeyEncrypted { path } => write!(
                f,
                "encrypted the local API CA's key {} with the passphrase",
                path.display()
            ),
            Note::KeyPoolStopped { error } => write!(f, "key pool filler stopped: {error}"),
            Note::GeneratingCaKey { of } => {
                write!(
                    f,
                    "generating the CA key of {of} (RSA-4096: a few seconds)..."
                )
            }
            Note::Wrote { path, what, mode } => {
                write!(f, "wrote {}: {what} (mode {mode:04o})", path.display())
            }
        }
    }
}

/// Where notes go: nowhere by default (a library stays quiet), or to the
/// function the front end gives. Clones share it.
#[derive(Clone, Default)]
pub struct Notes(Option<Arc<dyn Fn(Note) + Send + Sync>>);

impl Notes {
    /// Notes go to `to`.
    pub fn to(to: impl Fn(Note) + Send + Sync + 'static) -> Notes {
        Notes(Some(Arc::new(to)))
    }

    /// Tells `note`.
    pub fn send(&self, note: Note) {
        if let Some(to) = &self.0 {
            to(note);
        }
    }
}

impl fmt::Debug for Notes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Notes(to)"
        } else {
            "Notes(none)"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn notes_reach_the_reporter_and_nowhere_else() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let notes = Notes::to(move |n| sink.lock().unwrap().push(n.to_string()));
        notes.clone().send(Note::TemporariesRemoved {
            dir: "/o".into(),
            count: 2,
        });
        Notes::default().send(Note::KeyPoolStopped { error: "x".into() });
        assert_eq!(
            *seen.lock().unwrap(),
            ["removed 2 temporary files that an interrupted run left in /o"]
        );
    }
}
