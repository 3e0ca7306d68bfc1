//! Writing files that must never be seen half-written or by other users.
//!
//! Every file is written in full under a temporary name in its directory
//! ([`Staged`]) and renamed into place only when it is to be handed out
//! ([`Staged::publish`]): issuing stages a certificate's file before its
//! ledger row commits and publishes it after, so that a file is never seen
//! whose certificate is not on record, and a refused run leaves nothing.
//!
//! Temporary files are named `.tmp-atlas-ca-<owner>-<random>`, where the
//! owner is a lock file `.tmp-atlas-ca-<owner>.lock` in the same directory
//! that the writing process holds locked (`flock`) while any of its
//! temporaries may exist. A run that is killed leaves its temporaries
//! behind (they may hold private keys) and its lock free; the next run that
//! writes in that directory removes every temporary whose owner's lock it
//! can take, and sends a [`Note`]. A lock, unlike a process id, means the
//! same in every pid namespace sharing the directory.

use std::fs::{File, Permissions};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use super::notes::{Note, Notes};

/// The start of every temporary file's name.
const TMP_PREFIX: &str = ".tmp-atlas-ca-";
/// The end of an owner's lock file's name.
const LOCK_SUFFIX: &str = ".lock";

/// The most any input file the user names is read for (a PEM file, a
/// passphrase, a CA bundle): far above any real one.
pub const MAX_INPUT: u64 = 1 << 20;

/// The bytes of the input file at `path`: a regular file (links followed:
/// the user named it) of at most [`MAX_INPUT`] bytes. A device, pipe or
/// directory is refused without blocking on it, so `/dev/zero` or a FIFO
/// cannot make a command read forever or wait forever.
pub fn read_input(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::{Error, ErrorKind, Read};
    use std::os::unix::fs::OpenOptionsExt;
    // Non-blocking: opening a FIFO for reading would otherwise wait for a
    // writer; a regular file reads the same either way.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "is not a regular file (a device, directory, socket or pipe)",
        ));
    }
    if meta.len() > MAX_INPUT {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(MAX_INPUT + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_INPUT {
        return Err(too_large());
    }
    Ok(bytes)
}

/// A file that grew past [`MAX_INPUT`].
fn too_large() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("is larger than {MAX_INPUT} bytes, more than any input atlas-ca reads"),
    )
}

/// Longest wait for a lock another process holds.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Opens the lock file at `path` (created 0600) and takes its exclusive
/// lock, held until the file is dropped; the holder's pid is written in
/// it. The lock file is never followed through a link and must be a
/// regular file (a FIFO or device planted there is refused, not waited
/// on). A lock still held by another process after `wait` is an error
/// that names the holder's pid when the file records it.
pub fn lock_file(path: &Path, wait: std::time::Duration) -> std::io::Result<File> {
    use std::io::{Error, ErrorKind, Read, Seek};
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => Error::new(
                ErrorKind::InvalidInput,
                "the lock file is a symbolic link; refusing to follow it",
            ),
            Some(libc::ENXIO) => not_regular_lock(),
            _ => e,
        })?;
    if !file.metadata()?.is_file() {
        return Err(not_regular_lock());
    }
    let deadline = std::time::Instant::now() + wait;
    let mut pause = std::time::Duration::from_millis(5);
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(std::time::Duration::from_millis(200));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let holder = file
                    .read_to_string(&mut text)
                    .ok()
                    .and_then(|_| text.trim().parse::<u32>().ok())
                    .map_or_else(
                        || "another process".to_string(),
                        |pid| format!("process {pid}"),
                    );
                return Err(Error::new(
                    ErrorKind::TimedOut,
                    format!(
                        "the lock is still held by {holder} after {} s; if no atlas-ca is \
                         running, that process is stopped or hung",
                        wait.as_secs()
                    ),
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
    }
    file.set_len(0)?;
    file.rewind()?;
    file.write_all(format!("{}\n", std::process::id()).as_bytes())?;
    Ok(file)
}

fn not_regular_lock() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        "the lock file is not a regular file (a device, socket or pipe); refusing it",
    )
}

/// Why a file may not be written where it was asked to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// It is a symbolic link: neither followed nor replaced.
    Symlink,
    /// It is a device, directory, socket or pipe.
    NotRegular,
    /// It is a regular file, and replacing was not asked for.
    Exists,
    /// Its path holds a control character (a newline, DEL, a C1 control):
    /// it would break every config and script that names it.
    ControlCharacter,
    /// Its path is not UTF-8: a config naming it could not say it.
    NotUtf8,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refusal::Symlink => "is a symbolic link; refusing to write through or over it",
            Refusal::NotRegular => {
                "exists and is not a regular file (a device, directory, socket or pipe); \
                 refusing to replace it"
            }
            Refusal::Exists => "already exists",
            Refusal::NotUtf8 => {
                "is not valid UTF-8; the kit's configs and scripts could not name it"
            }
            Refusal::ControlCharacter => {
                "has a control character in its path; refusing to write a file \
                 that configs and scripts could not name safely"
            }
        })
    }
}

/// Whether `path` may be written: `Ok(None)` when nothing is there, or a
/// regular file is and `force` says to replace it. Nothing is changed.
pub fn check_target(path: &Path, force: bool) -> std::io::Result<Option<Refusal>> {
    if has_control_character(path) {
        return Ok(Some(Refusal::ControlCharacter));
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Ok(Some(Refusal::Symlink)),
        Ok(meta) if !meta.is_file() => Ok(Some(Refusal::NotRegular)),
        Ok(_) if !force => Ok(Some(Refusal::Exists)),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Takes `dir` for this run alone (a lock on the directory itself, held
/// until the file is dropped): a second run writing the same directory at
/// the same time is refused (`WouldBlock`) instead of mixing its files
/// with this one's. Nothing is created.
pub fn claim_output_dir(dir: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
        .open(dir)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(std::io::Error::new(
            std::io::ErrorKind::WouldBlock,
            "another atlas-ca run is writing this directory now",
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

/// Whether `path` holds a control character: a C0 byte or DEL anywhere, or
/// a C1 control in a UTF-8 path.
pub fn has_control_character(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    bytes.iter().any(|b| *b < 0x20 || *b == 0x7f)
        || std::str::from_utf8(bytes).is_ok_and(|s| s.chars().any(char::is_control))
}

/// A directory to write files in. The first file staged in it sweeps the
/// temporaries that killed runs left there and claims the directory's
/// temporaries for this process, once for all the files written through
/// it; nothing is touched before that.
pub struct Dir {
    path: PathBuf,
    notes: Notes,
    claim: OnceLock<Arc<Claim>>,
}

/// A process's claim on its temporaries in one directory: their owner's
/// lock file, held locked until the last of them is published or dropped,
/// then removed.
struct Claim {
    lock: File,
    path: PathBuf,
    owner: String,
}

impl Drop for Claim {
    fn drop(&mut self) {
        // Removed while still locked, so no sweeper takes a live claim.
        let _ = std::fs::remove_file(&self.path);
        let _ = self.lock.unlock();
    }
}

impl Claim {
    /// Takes a fresh claim in `dir`. A sweeper that locked the new file in
    /// the moment before this process did removes it; then the inode no
    /// longer matches its name, and another is made.
    fn take(dir: &Path) -> std::io::Result<Claim> {
        use std::os::unix::fs::MetadataExt;
        loop {
            let tmp = tempfile::Builder::new()
                .prefix(TMP_PREFIX)
                .suffix(LOCK_SUFFIX)
                .tempfile_in(dir)?;
            if tmp.as_file().try_lock().is_err() {
                continue;
            }
            let ours = tmp.as_file().metadata()?.ino();
            let named = std::fs::symlink_metadata(tmp.path()).map(|m| m.ino());
            if named.ok() != Some(ours) {
                continue;
            }
            let (lock, path) = tmp.keep().map_err(|e| e.error)?;
            let owner = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix(TMP_PREFIX))
                .and_then(|n| n.strip_suffix(LOCK_SUFFIX))
                .unwrap_or_default()
                .to_string();
            return Ok(Claim { lock, path, owner });
        }
    }
}

impl Dir {
    /// The directory `path` is in (`.` for a bare name); notes go to `notes`.
    pub fn of(path: &Path, notes: &Notes) -> Dir {
        Dir::new(parent(path), notes)
    }

    /// The directory `dir`; notes go to `notes`.
    pub fn new(dir: &Path, notes: &Notes) -> Dir {
        Dir {
            path: dir.to_path_buf(),
            notes: notes.clone(),
            claim: OnceLock::new(),
        }
    }

    /// This process's claim here, taken (after a sweep) on first use.
    fn claim(&self) -> std::io::Result<Arc<Claim>> {
        if let Some(c) = self.claim.get() {
            return Ok(Arc::clone(c));
        }
        let removed = sweep(&self.path);
        if removed > 0 {
            self.notes.send(Note::TemporariesRemoved {
                dir: self.path.clone(),
                count: removed,
            });
        }
        let claim = Arc::new(Claim::take(&self.path)?);
        Ok(Arc::clone(self.claim.get_or_init(|| claim)))
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `bytes` under a temporary name here (mode `mode`, synced when
    /// `sync`), to become `name` on [`Staged::publish`]. Dropped
    /// unpublished, the temporary is removed.
    pub fn stage(
        &self,
        name: &Path,
        bytes: &[u8],
        mode: u32,
        sync: bool,
    ) -> std::io::Result<Staged> {
        let claim = self.claim()?;
        // tempfile creates its files with mode 0600; widen only once complete.
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!("{TMP_PREFIX}{}-", claim.owner))
            .tempfile_in(&self.path)?;
        tmp.write_all(bytes)?;
        if sync {
            tmp.as_file().sync_all()?;
        }
        if mode != 0o600 {
            tmp.as_file()
                .set_permissions(Permissions::from_mode(mode))?;
        }
        Ok(Staged {
            tmp: tmp.into_temp_path(),
            target: self.path.join(name),
            _claim: claim,
        })
    }

    /// Makes the renames into this directory durable.
    pub fn sync(&self) -> std::io::Result<()> {
        File::open(&self.path)?.sync_all()
    }

    /// Makes every file written on this directory's file system durable at
    /// once: one sync for a whole batch instead of one per file.
    pub fn sync_filesystem(&self) -> std::io::Result<()> {
        let dir = File::open(&self.path)?;
        use std::os::fd::AsRawFd;
        // SAFETY: syncfs only reads the descriptor, which `dir` keeps open.
        if unsafe { libc::syncfs(dir.as_raw_fd()) } == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }
}

/// A file written in full under a temporary name, not yet in place.
pub struct Staged {
    tmp: tempfile::TempPath,
    target: PathBuf,
    /// Keeps the temporary claimed until it is published or dropped.
    _claim: Arc<Claim>,
}

impl Staged {
    /// Renames the file into place, replacing what is there (only ever a
    /// regular file: targets are checked before anything is staged).
    pub fn publish(self) -> std::io::Result<()> {
        self.tmp.persist(&self.target).map_err(|e| e.error)
    }

    /// Renames the file into place unless something is there already, even
    /// something created a moment ago (`AlreadyExists`).
    pub fn publish_new(self) -> std::io::Result<()> {
        self.tmp
            .persist_noclobber(&self.target)
            .map_err(|e| e.error)
    }

    /// [`Staged::publish`] when `replace` (the user passed `--force`),
    /// else [`Staged::publish_new`].
    pub fn publish_or_keep(self, replace: bool) -> std::io::Result<()> {
        if replace {
            self.publish()
        } else {
            self.publish_new()
        }
    }

    /// Gives the staged file to `uid`:`gid` (root editing another user's
    /// file keeps it theirs).
    pub fn chown(&self, uid: u32, gid: u32) -> std::io::Result<()> {
        std::os::unix::fs::chown(&*self.tmp, Some(uid), Some(gid))
    }

    /// Where the file goes.
    pub fn target(&self) -> &Path {
        &self.target
    }
}

/// Removes the temporaries that killed runs of this program left in
/// `dir`: those whose owner's lock is free (or gone), then the free locks;
/// returns how many temporaries were removed.
fn sweep(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut locks = Vec::new();
    let mut temporaries = Vec::new();
    for entry in entries.flatten() {
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(TMP_PREFIX)) else {
            continue;
        };
        if !is_file {
            continue;
        }
        match rest.strip_suffix(LOCK_SUFFIX) {
            Some(owner) if !owner.contains('-') => locks.push(owner.to_string()),
            _ => {
                if let Some((owner, _)) = rest.split_once('-') {
                    temporaries.push((owner.to_string(), entry.path()));
                }
            }
        }
    }
    // Each owner's lock, taken when free: held while its temporaries go.
    let mut free: Vec<(String, Option<File>)> = Vec::new();
    let mut is_free = |owner: &str| -> bool {
        if free.iter().any(|(o, _)| o == owner) {
            return true;
        }
        match take_free_lock(&dir.join(format!("{TMP_PREFIX}{owner}{LOCK_SUFFIX}"))) {
            // No lock file and a process id for an owner: a temporary an
            // earlier atlas-ca named after its pid; judged as it judged them.
            Some(None) if owner.parse::<i32>().is_ok_and(alive) => false,
            Some(held) => {
                free.push((owner.to_string(), held));
                true
            }
            None => false,
        }
    };
    let mut removed = 0;
    for (owner, path) in temporaries {
        if is_free(&owner) && std::fs::remove_file(path).is_ok() {
            removed += 1;
        }
    }
    for owner in locks {
        if is_free(&owner) {
            let _ = std::fs::remove_file(dir.join(format!("{TMP_PREFIX}{owner}{LOCK_SUFFIX}")));
        }
    }
    removed
}

/// The lock at `path` taken, when no process holds it: `Some(Some(file))`
/// held, `Some(None)` when there is no lock file (its owner is gone),
/// `None` when a live process holds it (or it cannot be opened).
fn take_free_lock(path: &Path) -> Option<Option<File>> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path);
    match file {
        Ok(f) if f.metadata().is_ok_and(|m| m.is_file()) => f.try_lock().ok().map(|()| Some(f)),
        Ok(_) => None,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(None),
        Err(_) => None,
    }
}

/// Whether process `pid` exists (for temporaries named by an earlier
/// atlas-ca after its process id, which had no claim).
fn alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 sends nothing; it only checks the pid.
    let found = unsafe { libc::kill(pid, 0) } == 0;
    found || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Writes `bytes` to `path` atomically with mode 0600: a private temporary
/// file in the same directory, synced, renamed over `path`, and the rename
/// synced. A reader sees either the old file or the whole new one, and
/// nobody else can read it at any moment.
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
    let dir = Dir::of(path, &Notes::default());
    dir.stage(file_name(path)?, bytes, 0o600, true)?
        .publish_new()?;
    dir.sync()
}

/// The directory `path` is in (`.` for a bare name).
fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// The last component of `path`, which names a file.
pub fn file_name(path: &Path) -> std::io::Result<&Path> {
    path.file_name().map(Path::new).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "names a directory, not a file",
        )
    })
}

fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let dir = Dir::of(path, &Notes::default());
    dir.stage(file_name(path)?, bytes, mode, true)?.publish()?;
    dir.sync()
}

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
