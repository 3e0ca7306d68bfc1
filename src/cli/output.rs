//! What the command line prints: PEM and JSON bodies verbatim, tables for
//! people, and the checks of `verify`.

use std::io::Write;
use std::path::PathBuf;

use time::OffsetDateTime;

use super::{Failure, Outcome};
use crate::api::{self, Error, timestamp};
use crate::store::files::{write_private, write_public};
use crate::store::{CertRecord, Home, Registry};
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
        .map_err(Error::io("<stdout>"))?;
    Ok(())
}

pub(super) fn print_line(text: &str) -> Outcome {
    print_bytes(format!("{text}\n").as_bytes())
}

/// Columns as Go's tabwriter aligns the Atlas CLI's templates: every cell
/// but the last of a line padded to its column's width plus three spaces.
pub(super) fn table<R: IntoIterator<Item = Vec<String>>>(headers: &[&str], rows: R) -> String {
    let mut lines: Vec<Vec<String>> = vec![headers.iter().map(|h| h.to_string()).collect()];
    lines.extend(rows);
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

pub(super) fn print_certs(records: &[CertRecord], all: bool) -> Outcome {
    let now = OffsetDateTime::now_utc();
    let mut text = format!("{:<20}  {:<20}  {:<20}  ", "ID", "CREATED AT", "NOT AFTER");
    if all {
        text.push_str(&format!("{:<8}  ", "STATUS"));
    }
    text.push_str("SUBJECT\n");
    for r in records {
        text.push_str(&format!(
            "{:<20}  {:<20}  {:<20}  ",
            r.serial,
            timestamp(r.created_at),
            timestamp(r.not_after)
        ));
        if all {
            let status = if r.revoked_at.is_some() {
                "revoked"
            } else if r.not_after <= now {
                "expired"
            } else {
                "active"
            };
            text.push_str(&format!("{status:<8}  "));
        }
        text.push_str(&r.subject);
        text.push('\n');
    }
    print_bytes(text.as_bytes())
}

pub(super) fn print_users(registry: &Registry, gid: &str) -> Outcome {
    let project = api::project(registry, gid)?;
    let mut text = format!(
        "{:<24}  {:<10}  {:<9}  {}\n",
        "USERNAME", "DATABASE", "X509", "ROLES"
    );
    for u in &project.database_users {
        let roles: Vec<String> = u
            .roles
            .iter()
            .map(|r| format!("{}@{}", r.role_name, r.database_name))
            .collect();
        text.push_str(&format!(
            "{:<24}  {:<10}  {:<9}  {}\n",
            u.username,
            u.database_name,
            u.x509_type.to_string(),
            roles.join(", ")
        ));
    }
    print_bytes(text.as_bytes())
}

/// Writes `bytes` to `out` (0600 if `private`, else 0644), or to stdout.
pub(super) fn emit(out: Option<PathBuf>, bytes: &[u8], private: bool) -> Outcome {
    match out {
        Some(path) => {
            let written = if private {
                write_private(&path, bytes)
            } else {
                write_public(&path, bytes)
            };
            Ok(written.map_err(Error::io(path))?)
        }
        None => print_bytes(bytes),
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
pub(super) fn print_checks(checks: &[Check]) -> Outcome {
    let mut text = String::new();
    for c in checks {
        let mark = if c.passed { "ok  " } else { "FAIL" };
        text.push_str(&format!("{mark}  {:<26}  {}\n", c.name, c.detail));
    }
    print_bytes(text.as_bytes())?;
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name)
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::Usage(format!(
            "verification failed: {}",
            failed.join(", ")
        )))
    }
}
