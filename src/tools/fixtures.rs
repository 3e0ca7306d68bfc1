//! `atlas-ca fixtures`: many certificates at once, for test suites. Keys
//! are generated and certificates signed on every core; the ledger records
//! them in batched transactions (a group commit: each transaction takes
//! the certificates signed while the previous one was being committed, and
//! those signed in the next [`GATHER`]); each PEM file is staged (0600)
//! before its row commits and renamed into place after, and the file
//! system is synced once at the end. The result is what issuing them one
//! by one would give: same checks, same profile, same ledger rows.

use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::Serialize;
use time::OffsetDateTime;

use super::names::FileNames;
use super::outputs::check_outputs;
use crate::api::{self, CreateCert, Error, Invalid, timestamp};
use crate::issuing::{self, Fresh, IssueError, IssueRequest, Signed};
use crate::pki::Authority;
use crate::pki::serial_hex;
use crate::store::files::{Dir, claim_output_dir};
use crate::store::ledger::Ledger;
use crate::store::{Home, Registry};

/// Rows committed per ledger transaction, at most.
const BATCH: usize = 64;
/// How long a batch gathers signed certificates after its first: each
/// transaction costs a WAL sync and SQLite's work, so fewer, fuller ones
/// leave more of the cores to signing; no file waits longer than this.
const GATHER: Duration = Duration::from_millis(20);
/// Most certificates one run issues: what it holds in memory stays bounded.
pub const MAX_FIXTURES: u64 = 100_000;
/// Most worker threads (key generation is CPU-bound: more only cost).
pub const MAX_JOBS: usize = 256;

/// What to issue.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FixtureOptions {
    /// The directory to write.
    pub out: PathBuf,
    /// Users to issue for; empty means every MANAGED user of the project.
    pub users: Vec<String>,
    /// Certificates per user.
    pub count_per_user: u32,
    /// The request every certificate is issued with (its `username` is
    /// replaced by each user's).
    pub template: CreateCert,
    /// Issuance times for some users, instead of the template's: expired
    /// and valid certificates from one run.
    pub issued_at_for: Vec<(String, OffsetDateTime)>,
    /// Worker threads (0: one per core).
    pub jobs: usize,
    /// Replace existing files.
    pub force: bool,
}

impl FixtureOptions {
    /// One certificate per MANAGED user of the template's project, into
    /// `out`, on every core, replacing nothing.
    pub fn new(out: impl Into<PathBuf>, template: CreateCert) -> FixtureOptions {
        FixtureOptions {
            out: out.into(),
            users: Vec::new(),
            count_per_user: 1,
            template,
            issued_at_for: Vec::new(),
            jobs: 0,
            force: false,
        }
    }
}

/// One line of `manifest.json`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ManifestEntry {
    /// The database user.
    pub username: String,
    /// The certificate's serial.
    pub serial: u64,
    /// The serial as a decimal string: JavaScript rounds 63-bit numbers.
    pub serial_decimal: String,
    /// The serial in lowercase hex, whole bytes, as `openssl x509 -serial`
    /// prints it (upper case there): 16 digits, or 14 for a serial below
    /// 2^56, whose DER encoding pads it with a zero byte OpenSSL does not
    /// print.
    pub serial_hex: String,
    /// Its RFC 2253 subject.
    pub subject: String,
    /// notBefore.
    pub not_before: String,
    /// notAfter.
    pub not_after: String,
    /// The PEM file, relative to the output directory.
    pub file: String,
    /// SHA-256 of the DER certificate.
    pub fingerprint: String,
}

/// Where the files go, and whether they may replace an earlier run's.
struct Out<'d> {
    dir: &'d Dir,
    force: bool,
}

/// A certificate to make: which request, and where it goes.
struct Task<'r> {
    request: IssueRequest<'r>,
    file: String,
}

/// The files `issue_fixtures` would write, every check run (limits,
/// targets), nothing issued or written: `fixtures --dry-run`.
pub fn fixture_plan(
    home: &Home,
    registry: &Registry,
    opts: &FixtureOptions,
) -> Result<Vec<String>, Error> {
    checked_plan(home, registry, opts).map(|(_, outputs)| outputs)
}

/// The plan and its output files, the targets checked.
fn checked_plan<'r>(
    home: &Home,
    registry: &'r Registry,
    opts: &'r FixtureOptions,
) -> Result<(Vec<Task<'r>>, Vec<String>), Error> {
    let tasks = plan(home, registry, opts)?;
    let outputs: Vec<String> = ["ca.pem", "manifest.json"]
        .into_iter()
        .map(String::from)
        .chain(tasks.iter().map(|t| t.file.clone()))
        .collect();
    check_outputs(&opts.out, &outputs, opts.force)?;
    Ok((tasks, outputs))
}

/// Issues the fixtures; `progress` is called as certificates reach the disk
/// with (done, total). Returns the manifest. Every check runs for every
/// user before anything is written.
///
/// ```
/// use atlas_ca::{CreateCert, FixtureOptions, Home, issue_fixtures};
///
/// let dir = tempfile::tempdir()?;
/// std::fs::write(
///     dir.path().join("users.toml"),
///     "[[projects]]\nid = \"5efda6aea3f2ed2e7dd6ce05\"\n\
///      [[projects.databaseUsers]]\nusername = \"alice\"\nx509Type = \"MANAGED\"\n",
/// )?;
/// let home = Home::new(dir.path());
/// let mut template = CreateCert::new("5efda6aea3f2ed2e7dd6ce05", "");
/// template.key_type = atlas_ca::KeyType::EcP256;
/// let mut options = FixtureOptions::new(dir.path().join("out"), template);
/// options.count_per_user = 2;
/// let manifest = issue_fixtures(&home, &home.registry()?, &options, &|_, _| {})?;
/// assert_eq!(manifest.len(), 2);
/// assert_eq!(manifest[0].file, "alice-1.pem");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn issue_fixtures(
    home: &Home,
    registry: &Registry,
    opts: &FixtureOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<ManifestEntry>, Error> {
    let project = api::project(registry, &opts.template.group_id)?;
    let (tasks, _) = checked_plan(home, registry, opts)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs)
        .build()
        .map_err(|e| Invalid::Jobs {
            jobs: opts.jobs,
            reason: e.to_string(),
        })?;
    // The CA and the ledger first: a home they cannot be opened in (read
    // only, say) leaves no output directory behind.
    let (ca, _) = home.project_ca(&project.id)?;
    for task in &tasks {
        issuing::check_within_ca(&ca, &task.request)?;
    }
    let manifest = home.with_ledger(|ledger| {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&opts.out)
            .map_err(Error::io(&opts.out))?;
        let _claim = claim_output_dir(&opts.out).map_err(Error::io(&opts.out))?;
        let dir = Dir::new(&opts.out, home.notes());
        let earlier = earlier_files(&opts.out);
        let out = Out {
            dir: &dir,
            force: opts.force,
        };
        let manifest = run(&ca, ledger, &out, &tasks, &pool, progress)?;
        let publish = |name: &str, bytes: &[u8]| {
            let path = opts.out.join(name);
            dir.stage(Path::new(name), bytes, 0o644, false)
                .and_then(|staged| staged.publish_or_keep(opts.force))
                .map_err(Error::io(path))
        };
        publish("ca.pem", &ca.cert_pem()?)?;
        // Strings and integers only: serializing cannot fail.
        let json = serde_json::to_string_pretty(&manifest).expect("manifest entries serialize");
        publish("manifest.json", (json + "\n").as_bytes())?;
        remove_stale(&opts.out, earlier, &manifest)?;
        // One sync for the whole run: every row was durable before its file
        // was published; now the files are too.
        dir.sync_filesystem().map_err(Error::io(&opts.out))?;
        Ok::<_, Error>(manifest)
    })?;
    Ok(manifest)
}

/// With --force the new run replaces the earlier one as a whole: files the
/// earlier manifest listed and this one does not are removed.
fn remove_stale(out: &Path, earlier: Vec<String>, manifest: &[ManifestEntry]) -> Result<(), Error> {
    for file in earlier {
        if !manifest.iter().any(|m| m.file == file) {
            let stale = out.join(&file);
            std::fs::remove_file(&stale).map_err(Error::io(&stale))?;
        }
    }
    Ok(())
}

/// The PEM files an earlier run's manifest in `out` lists: plain names
/// only (never a path elsewhere), that exist as regular files.
fn earlier_files(out: &std::path::Path) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Listed {
        file: String,
    }
    let Ok(text) = std::fs::read_to_string(out.join("manifest.json")) else {
        return Vec::new();
    };
    let listed: Vec<Listed> = serde_json::from_str(&text).unwrap_or_default();
    listed
        .into_iter()
        .map(|l| l.file)
        .filter(|f| {
            f.ends_with(".pem")
                && !f.contains('/')
                && !f.starts_with('.')
                && std::fs::symlink_metadata(out.join(f)).is_ok_and(|m| m.is_file())
        })
        .collect()
}

/// The first name given a second time.
fn twice<'a>(names: impl Iterator<Item = &'a String>) -> Option<String> {
    let mut seen = std::collections::HashSet::new();
    names.into_iter().find(|n| !seen.insert(*n)).cloned()
}

/// Validates the request for every user (all checks, the limit for all
/// `count_per_user` at once) and names every file; nothing is written.
fn plan<'r>(
    home: &Home,
    registry: &'r Registry,
    opts: &FixtureOptions,
) -> Result<Vec<Task<'r>>, Error> {
    let project = api::project(registry, &opts.template.group_id)?;
    let users: Vec<String> = if opts.users.is_empty() {
        project
            .users(time::OffsetDateTime::now_utc())
            .filter(|u| u.is_managed_x509())
            .map(|u| u.username.clone())
            .collect()
    } else {
        opts.users.clone()
    };
    if users.is_empty() || opts.count_per_user == 0 {
        return Err(Invalid::NothingToIssue.into());
    }
    let total = users.len() as u64 * u64::from(opts.count_per_user);
    if total > MAX_FIXTURES {
        return Err(Invalid::TooMany {
            asked: total,
            max: MAX_FIXTURES,
        }
        .into());
    }
    if opts.jobs > MAX_JOBS {
        return Err(Invalid::Jobs {
            jobs: opts.jobs,
            reason: format!("at most {MAX_JOBS}"),
        }
        .into());
    }
    if let Some(name) = twice(opts.users.iter()) {
        return Err(Invalid::Repeated { what: "user", name }.into());
    }
    if let Some(name) = twice(opts.issued_at_for.iter().map(|(u, _)| u)) {
        return Err(Invalid::Repeated {
            what: "issue time of user",
            name,
        }
        .into());
    }
    if let Some((stray, _)) = opts.issued_at_for.iter().find(|(u, _)| !users.contains(u)) {
        return Err(Invalid::NotInRun(stray.clone()).into());
    }
    let mut tasks = Vec::new();
    let mut names = FileNames::default();
    for username in &users {
        let mut req = opts.template.clone();
        req.username = username.clone();
        if let Some((_, at)) = opts.issued_at_for.iter().find(|(u, _)| u == username) {
            req.issued_at = Some(*at);
        }
        let request = api::validate_create(home, registry, &req, opts.count_per_user)?;
        for i in 1..=opts.count_per_user {
            let number = (opts.count_per_user > 1).then_some(i);
            tasks.push(Task {
                request: request.clone(),
                file: names.name("", username, number),
            });
        }
    }
    Ok(tasks)
}

/// Signs on `pool` and commits and writes on this thread, in batches.
fn run(
    ca: &Authority,
    ledger: &mut Ledger,
    out: &Out<'_>,
    tasks: &[Task<'_>],
    pool: &rayon::ThreadPool,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<ManifestEntry>, Error> {
    let cancel = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<(usize, Result<Signed<'_>, IssueError>)>();
    let mut manifest: Vec<(usize, ManifestEntry)> = Vec::with_capacity(tasks.len());
    let mut failure: Option<Error> = None;
    std::thread::scope(|scope| {
        scope.spawn(|| {
            pool.install(|| {
                tasks
                    .par_iter()
                    .enumerate()
                    .for_each_with(tx, |tx, (i, task)| {
                        if !cancel.load(Ordering::Relaxed) {
                            let _ = tx.send((i, issuing::sign(ca, &task.request, &Fresh)));
                        }
                    });
            });
        });
        // Wait for one signed certificate, take whatever else is ready too,
        // commit them together: batches grow exactly as much as committing
        // lags behind signing, and the last one is small.
        while let Ok(first) = rx.recv() {
            let mut ready = vec![first];
            let until = Instant::now() + GATHER;
            while ready.len() < BATCH {
                match rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
                    Ok(next) => ready.push(next),
                    Err(_) => break,
                }
            }
            let mut order = Vec::with_capacity(ready.len());
            let mut batch = Vec::with_capacity(ready.len());
            for (i, signed) in ready {
                match signed {
                    Ok(signed) => {
                        order.push(i);
                        batch.push(signed);
                    }
                    Err(e) => failure = Some(e.into()),
                }
            }
            if failure.is_none()
                && let Err(e) = commit(ca, ledger, out, tasks, &order, batch, &mut manifest)
            {
                failure = Some(e);
            }
            if failure.is_some() {
                cancel.store(true, Ordering::Relaxed);
                break;
            }
            progress(manifest.len(), tasks.len());
        }
        // Dropping the receiver makes the workers' remaining sends fail fast.
        drop(rx);
    });
    if let Some(e) = failure {
        return Err(e);
    }
    // In task order: users as listed, then certificate number.
    manifest.sort_by_key(|(i, _)| *i);
    Ok(manifest.into_iter().map(|(_, m)| m).collect())
}

/// Commits a batch through the issuing path (tasks `order[k]` signed as
/// `batch[k]`), each file staged before the rows commit and published
/// after; the files are synced once, at the end of the run.
fn commit(
    ca: &Authority,
    ledger: &mut Ledger,
    out: &Out<'_>,
    tasks: &[Task<'_>],
    order: &[usize],
    batch: Vec<Signed<'_>>,
    manifest: &mut Vec<(usize, ManifestEntry)>,
) -> Result<(), Error> {
    let issued = issuing::commit(ca, ledger, batch, |k, issued| {
        let file = &tasks[order[k]].file;
        out.dir
            .stage(Path::new(file), issued.pem.as_bytes(), 0o600, false)
            .map_err(Error::io(out.dir.path().join(file)))
    })?;
    for (&i, (issued, staged)) in order.iter().zip(issued) {
        let task = &tasks[i];
        let target = staged.target().to_path_buf();
        staged
            .publish_or_keep(out.force)
            .map_err(Error::io(target))?;
        let r = issued.record;
        manifest.push((
            i,
            ManifestEntry {
                username: r.holder.name().to_string(),
                serial: r.serial,
                serial_decimal: r.serial.to_string(),
                serial_hex: serial_hex(r.serial),
                subject: r.subject,
                not_before: timestamp(r.created_at),
                not_after: timestamp(r.not_after),
                file: task.file.clone(),
                fingerprint: r.fingerprint,
            },
        ));
    }
    Ok(())
}
