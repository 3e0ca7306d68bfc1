//! What the command line prints: PEM and JSON bodies verbatim, tables for
//! people, and the checks of `verify`.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use time::OffsetDateTime;

use super::outcome::{Failure, Outcome};
use crate::api::{Error, timestamp};
use crate::model::names::name_or_none;
use crate::model::{DatabaseUser, escape_hidden, is_hidden};
use crate::store::files::{Dir, Refusal, Staged, check_target, file_name};
use crate::store::{CertRecord, Home};
use crate::store::{Note, Notes};
use crate::tools::verify::Check;

pub(super) fn note_created(home: &Home, gid: &str, created: bool) {
    if created {
        eprintln!(
            "atlas-ca: created a new CA for project {gid} in {}",
            home.ca_dir(gid).display()
        );
    }
}

pub(super) fn print_bytes(bytes: &[u8]) -> Outcome {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(Error::system("writing to stdout"))?;
    Ok(())
}

/// `value` as the Atlas CLI prints `-o json`: indented by two spaces.
pub(super) fn print_json<T: Serialize>(value: &T) -> Outcome {
    // Our bodies hold only strings, numbers, arrays and structs, which
    // serialize without error into memory.
    let text = serde_json::to_string_pretty(value).expect("API bodies serialize");
    print_line(&json_hidden_escaped(&text))
}

/// JSON `text` with every character that would not show as itself (a
/// registry edited by hand may hold one) written as a `\uXXXX` escape:
/// the same JSON value, which cannot steer a terminal. Outside strings JSON
/// has only ASCII, so every such character is inside a string.
fn json_hidden_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_hidden(c) && !c.is_ascii() {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

pub(super) fn print_line(text: &str) -> Outcome {
    print_bytes(format!("{text}\n").as_bytes())
}

/// Columns as Go's tabwriter aligns the Atlas CLI's templates: every cell
/// but the last of a line padded to its column's width plus three spaces.
/// Cells show characters that would not show as themselves escaped.
pub(super) fn table<R: IntoIterator<Item = Vec<String>>>(headers: &[&str], rows: R) -> String {
    let mut lines: Vec<Vec<String>> = vec![headers.iter().map(|h| h.to_string()).collect()];
    lines.extend(
        rows.into_iter()
            .map(|row| row.iter().map(|cell| escape_hidden(cell)).collect()),
    );
    let columns = lines.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            lines
                .iter()
                .filter_map(|l| l.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for line in &lines {
        for (c, cell) in line.iter().enumerate() {
            out.push_str(cell);
            if c + 1 < line.len() {
                let pad = widths[c] - cell.chars().count() + 3;
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}

/// A user's certificates as the Atlas CLI's template shows them (`ID`,
/// `SUBJECT`, `CREATED AT`); with `all`, each one's status and notAfter too.
pub(super) fn print_certs(records: &[CertRecord], all: bool) -> Outcome {
    let now = OffsetDateTime::now_utc();
    let text = if all {
        let status = |r: &CertRecord| {
            if r.revoked_at.is_some() {
                "revoked"
            } else if r.not_after <= now {
                "expired"
            } else {
                "active"
            }
        };
        table(
            &["ID", "STATUS", "SUBJECT", "CREATED AT", "NOT AFTER"],
            records.iter().map(|r| {
                vec![
                    r.serial.to_string(),
                    status(r).to_string(),
                    r.subject.clone(),
                    timestamp(r.created_at),
                    timestamp(r.not_after),
                ]
            }),
        )
    } else {
        table(
            &["ID", "SUBJECT", "CREATED AT"],
            records.iter().map(|r| {
                vec![
                    r.serial.to_string(),
                    r.subject.clone(),
                    go_time(r.created_at),
                ]
            }),
        )
    };
    print_bytes(text.as_bytes())
}

/// `t` as Go prints a `time.Time` in the Atlas CLI's templates:
/// `2026-06-02 13:56:22 +0000 UTC`.
fn go_time(t: OffsetDateTime) -> String {
    let utc = t.to_offset(time::UtcOffset::UTC);
    utc.format(time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second] +0000 UTC"
    ))
    .unwrap_or_else(|_| timestamp(t))
}

/// Database users as the Atlas CLI's template shows them (`USERNAME`,
/// `DATABASE`), then their X.509 type and roles.
pub(super) fn print_users(users: &[DatabaseUser]) -> Outcome {
    let rows = users.iter().map(|u| {
        let roles: Vec<String> = u
            .roles
            .iter()
            .map(|r| match &r.collection_name {
                Some(c) => format!("{}@{}.{c}", r.role_name, r.database_name),
                None => format!("{}@{}", r.role_name, r.database_name),
            })
            .collect();
        vec![
            u.username.clone(),
            u.database().name().to_string(),
            name_or_none(u.kind.x509()).to_string(),
            roles.join(","),
        ]
    });
    print_bytes(table(&["USERNAME", "DATABASE", "X509TYPE", "ROLES"], rows).as_bytes())
}

/// Where a command's output goes: stdout, or a file checked when the
/// command plans (before anything is issued) and written in two steps,
/// staged under a temporary name, then published by rename.
pub(super) enum Target {
    Stdout,
    File {
        path: PathBuf,
        name: PathBuf,
        mode: u32,
        force: bool,
        /// What the file holds, for the note that it was written.
        what: &'static str,
    },
}

/// Output staged by [`Target::stage`], handed out by [`Staging::deliver`].
pub(super) enum Staging {
    Stdout(Vec<u8>),
    File {
        file: Staged,
        dir: Dir,
        path: PathBuf,
        force: bool,
        mode: u32,
        what: &'static str,
        notes: Notes,
    },
}

impl Target {
    /// `out` (0600 if `private`, else 0644), or stdout. An existing `out`
    /// may be replaced only with `force`, and only when it is a regular
    /// file: never a symbolic link (neither followed nor replaced), a
    /// device, a directory or a pipe; its directory must exist. Nothing is
    /// written.
    pub(super) fn plan(
        out: Option<PathBuf>,
        force: bool,
        private: bool,
        what: &'static str,
    ) -> Result<Target, Failure> {
        let Some(path) = out else {
            return Ok(Target::Stdout);
        };
        let refuse = |why: String| Err(Failure::Usage(format!("{}: {why}", path.display())));
        match check_target(&path, force).map_err(Error::io(&path))? {
            Some(Refusal::Exists) => {
                return refuse("already exists; pass --force to replace it".into());
            }
            Some(other) => return refuse(other.to_string()),
            None => {}
        }
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !std::fs::metadata(parent).is_ok_and(|m| m.is_dir()) {
            return refuse(format!(
                "its directory {} does not exist; create it first",
                parent.display()
            ));
        }
        let name = file_name(&path).map_err(Error::io(&path))?.to_path_buf();
        Ok(Target::File {
            name,
            mode: if private { 0o600 } else { 0o644 },
            force,
            path,
            what,
        })
    }

    /// Writes `bytes` where nobody sees them yet (a synced temporary file).
    pub(super) fn stage(&self, bytes: &[u8], notes: &Notes) -> Result<Staging, Error> {
        match self {
            Target::Stdout => Ok(Staging::Stdout(bytes.to_vec())),
            Target::File {
                path,
                name,
                mode,
                force,
                what,
            } => {
                let dir = Dir::of(path, notes);
                let file = dir
                    .stage(name, bytes, *mode, true)
                    .map_err(Error::io(path))?;
                Ok(Staging::File {
                    file,
                    dir,
                    path: path.clone(),
                    force: *force,
                    mode: *mode,
                    what,
                    notes: notes.clone(),
                })
            }
        }
    }

    /// Stages and delivers `bytes` at once: for output that records nothing
    /// (a CRL).
    pub(super) fn write(&self, bytes: &[u8], notes: &Notes) -> Outcome {
        self.stage(bytes, notes)?.deliver()
    }
}

impl Staging {
    /// Hands the output out: prints it, or renames the file into place
    /// (over an existing one only with `force`) and syncs the rename.
    pub(super) fn deliver(self) -> Outcome {
        match self {
            Staging::Stdout(bytes) => print_bytes(&bytes),
            Staging::File {
                file,
                dir,
                path,
                force,
                mode,
                what,
                notes,
            } => {
                file.publish_or_keep(force)
                    .and_then(|()| dir.sync())
                    .map_err(Error::io(&path))?;
                // One line on stderr for what was written.
                notes.send(Note::Wrote { path, what, mode });
                Ok(())
            }
        }
    }
}

/// Runs `work` with a progress bar on stderr (count, rate, ETA) when
/// stderr is a terminal and not `quiet`; `work` reports (done, total).
pub(super) fn with_progress<T>(
    quiet: bool,
    work: impl FnOnce(&(dyn Fn(usize, usize) + Sync)) -> Result<T, Error>,
) -> Result<T, Error> {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return work(&|_, _| {});
    }
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:30} {pos}/{len} certificates  {rate}  ETA {eta}",
    ) {
        bar.set_style(style.with_key(
            "rate",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.1}/s", state.per_sec());
            },
        ));
    }
    let result = work(&|done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    result
}

/// One line per check; an error naming the failures if any failed.
pub(super) fn print_checks(checks: &[Check], json: bool) -> Outcome {
    if json {
        print_json(&checks)?;
    } else {
        let mut text = String::new();
        for c in checks {
            let mark = if c.passed { "ok  " } else { "FAIL" };
            text.push_str(&format!(
                "{mark}  {:<26}  {}\n",
                c.name,
                escape_hidden(&c.detail)
            ));
        }
        print_bytes(text.as_bytes())?;
    }
    // What failed, as its line says it ("revoked 2026-...", not the
    // check's name alone).
    let failed: Vec<String> = checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| format!("{} (check \"{}\")", c.detail, c.name))
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::Usage(format!(
            "verification failed: {}",
            failed.join("; ")
        )))
    }
}

/// The certificates as a tree under their issuers (roots first), one per
/// line, as `tree` draws directories.
pub(super) fn issuer_tree(names: &[String], issuers: &[Option<usize>]) -> String {
    fn walk(
        at: usize,
        prefix: &str,
        last: bool,
        names: &[String],
        children: &[Vec<usize>],
        out: &mut String,
    ) {
        let (branch, next) = if last {
            ("└── ", "    ")
        } else {
            ("├── ", "│   ")
        };
        out.push_str(&format!("{prefix}{branch}{}\n", escape_hidden(&names[at])));
        let below = format!("{prefix}{next}");
        let count = children[at].len();
        for (i, &c) in children[at].iter().enumerate() {
            walk(c, &below, i + 1 == count, names, children, out);
        }
    }
    let mut children = vec![Vec::new(); names.len()];
    let mut roots = Vec::new();
    for (i, issuer) in issuers.iter().enumerate() {
        match issuer {
            Some(p) if *p != i && *p < names.len() => children[*p].push(i),
            _ => roots.push(i),
        }
    }
    let mut out = String::new();
    for (i, &r) in roots.iter().enumerate() {
        out.push_str(&format!("{}\n", escape_hidden(&names[r])));
        let count = children[r].len();
        for (j, &c) in children[r].iter().enumerate() {
            walk(c, "", j + 1 == count, names, &children, &mut out);
        }
        if i + 1 < roots.len() {
            out.push('\n');
        }
    }
    out
}

/// What a tool wrote (or would write, `dry_run`) under `dir`: the files,
/// relative to it, as JSON on stdout with `json`, else as the plan's list
/// on stdout when `dry_run` (a written run's summary is on stderr).
pub(super) fn print_written(dir: &Path, files: &[String], dry_run: bool, json: bool) -> Outcome {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Written<'a> {
        dir: String,
        dry_run: bool,
        files: &'a [String],
    }
    if json {
        return print_json(&Written {
            dir: dir.display().to_string(),
            dry_run,
            files,
        });
    }
    if dry_run {
        let mut text = format!(
            "would write {} files in {} (nothing written):\n",
            files.len(),
            escape_hidden(&dir.display().to_string())
        );
        for f in files {
            text.push_str(&format!("  {}\n", escape_hidden(f)));
        }
        return print_bytes(text.as_bytes());
    }
    Ok(())
}

/// `n` and the noun, singular for one ("1 CRL", "2 CRLs").
pub(super) fn counted(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
