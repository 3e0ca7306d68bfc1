//! `atlas-ca fixtures`: many certificates at once, for test suites. Keys
//! are generated and certificates signed on every core; the ledger records
//! them in batched transactions (a group commit: each transaction takes
//! every certificate signed while the previous one was being committed);
//! each PEM file is written (atomically, 0600) only after its row is
//! committed. The result is what issuing them one by
//! one would give: same checks, same profile, same ledger rows.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use rayon::prelude::*;
use serde::Serialize;

use crate::Error;
use crate::api::{self, CreateCert, json::timestamp};
use crate::ca::ProjectCa;
use crate::files::{write_private, write_public};
use crate::home::Home;
use crate::issuing::{self, Fresh, IssueError, IssueRequest, Signed};
use crate::kit::file_name;
use crate::ledger::{Ledger, Recorded};
use crate::registry::{Registry, X509Type};

/// Rows committed per ledger transaction, at most.
const BATCH: usize = 64;

/// What to issue.
#[derive(Debug, Clone)]
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
    /// Worker threads (0: one per core).
    pub jobs: usize,
    /// Replace existing files.
    pub force: bool,
}

/// One line of `manifest.json`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestEntry {
    /// The database user.
    pub username: String,
    /// The certificate's serial.
    pub serial: u64,
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

/// A certificate to make: which request, and where it goes.
struct Task<'r> {
    request: IssueRequest<'r>,
    file: String,
}

/// Issues the fixtures; `progress` is called as certificates reach the disk
/// with (done, total). Returns the manifest.
pub fn issue_fixtures(
    home: &Home,
    registry: &Registry,
    opts: &FixtureOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<ManifestEntry>, Error> {
    let project = api::project(registry, &opts.template.group_id)?;
    let users: Vec<String> = if opts.users.is_empty() {
        project
            .database_users
            .iter()
            .filter(|u| u.x509_type == X509Type::Managed)
            .map(|u| u.username.clone())
            .collect()
    } else {
        opts.users.clone()
    };
    if users.is_empty() || opts.count_per_user == 0 {
        return Err(Error::Usage(
            "nothing to issue: no MANAGED users, or --count-per-user 0".into(),
        ));
    }
    let mut tasks = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    for username in &users {
        let mut req = opts.template.clone();
        req.username = username.clone();
        let request = api::validate_create(home, registry, &req, opts.count_per_user)?;
        let base = file_name(username);
        for i in 1..=opts.count_per_user {
            let mut file = if opts.count_per_user == 1 {
                format!("{base}.pem")
            } else {
                format!("{base}-{i}.pem")
            };
            if !names.insert(file.clone()) {
                file = format!("{base}-{}-{i}.pem", names.len());
                names.insert(file.clone());
            }
            tasks.push(Task {
                request: request.clone(),
                file,
            });
        }
    }
    let existing = ["ca.pem", "manifest.json"]
        .into_iter()
        .map(String::from)
        .chain(tasks.iter().map(|t| t.file.clone()))
        .find(|f| opts.out.join(f).exists());
    if let (Some(file), false) = (existing, opts.force) {
        return Err(Error::Usage(format!(
            "{} already exists; pass --force to replace the fixtures in {}",
            opts.out.join(file).display(),
            opts.out.display()
        )));
    }
    std::fs::create_dir_all(&opts.out).map_err(|source| Error::Io {
        path: opts.out.clone(),
        source,
    })?;

    let (ca, _) = home.project_ca(&project.id)?;
    let mut ledger = home.ledger()?;
    let manifest = run(&ca, &mut ledger, &tasks, opts, progress)?;

    let ca_pem = ca.cert_pem()?;
    let io = |path: PathBuf| move |source| Error::Io { path, source };
    write_public(&opts.out.join("ca.pem"), &ca_pem).map_err(io(opts.out.join("ca.pem")))?;
    let json = serde_json::to_string_pretty(&manifest).unwrap_or_default() + "\n";
    let path = opts.out.join("manifest.json");
    write_public(&path, json.as_bytes()).map_err(io(path.clone()))?;
    Ok(manifest)
}

/// Signs on a pool of `opts.jobs` threads and commits and writes on this
/// one, in batches.
fn run(
    ca: &ProjectCa,
    ledger: &mut Ledger,
    tasks: &[Task<'_>],
    opts: &FixtureOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<ManifestEntry>, Error> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs)
        .build()
        .map_err(|e| Error::Usage(format!("cannot start {} jobs: {e}", opts.jobs)))?;
    let cancel = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<(usize, Result<Signed, IssueError>)>();
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
            ready.extend(rx.try_iter().take(BATCH - 1));
            let mut batch = Vec::with_capacity(ready.len());
            for (i, signed) in ready {
                match signed {
                    Ok(signed) => batch.push((i, signed)),
                    Err(e) => failure = Some(e.into()),
                }
            }
            if failure.is_none()
                && let Err(e) = commit(ca, ledger, tasks, batch, opts, &mut manifest)
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

/// Commits a batch in one transaction (re-signing any serial collision),
/// then writes its files.
fn commit(
    ca: &ProjectCa,
    ledger: &mut Ledger,
    tasks: &[Task<'_>],
    mut batch: Vec<(usize, Signed)>,
    opts: &FixtureOptions,
    manifest: &mut Vec<(usize, ManifestEntry)>,
) -> Result<(), Error> {
    loop {
        let rows: Vec<_> = batch
            .iter()
            .map(|(i, s)| (&s.record, tasks[*i].request.limit))
            .collect();
        let outcomes = ledger.record_batch(&rows)?;
        if outcomes.contains(&Recorded::LimitReached) {
            return Err(api::limit_reached());
        }
        let collided: Vec<usize> = outcomes
            .iter()
            .enumerate()
            .filter(|(_, o)| **o == Recorded::DuplicateSerial)
            .map(|(k, _)| k)
            .collect();
        if collided.is_empty() {
            break;
        }
        // Nothing was committed: re-sign the colliding ones and try again.
        for k in collided {
            let (i, signed) = &mut batch[k];
            signed
                .reserial(ca, &tasks[*i].request)
                .map_err(IssueError::from)?;
        }
    }
    for (i, signed) in batch {
        let task = &tasks[i];
        let path = opts.out.join(&task.file);
        let pem = signed.pem().map_err(IssueError::from)?;
        write_private(&path, pem.as_bytes()).map_err(|source| Error::Io { path, source })?;
        let r = signed.record;
        manifest.push((
            i,
            ManifestEntry {
                username: r.username,
                serial: r.serial,
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
