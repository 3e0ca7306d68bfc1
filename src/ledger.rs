//! The ledger: an SQLite database recording every certificate issued, so
//! that listing, limits and revocation have one source of truth and no
//! certificate leaves the process without being on record.
//!
//! Concurrent processes share it safely: WAL mode, a generous busy timeout,
//! and each insertion (with its limit check) in one `IMMEDIATE` transaction.
//! `(project, serial)` is the primary key, so a serial can never repeat.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, TransactionBehavior, params};
use time::OffsetDateTime;

/// File name of the ledger inside the CA home.
pub const FILE: &str = "ledger.sqlite3";

/// How long a writer waits for another process's transaction.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS certificates (
    project_id  TEXT    NOT NULL,
    serial      INTEGER NOT NULL,
    username    TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    not_after   INTEGER NOT NULL,
    fingerprint TEXT    NOT NULL,
    revoked_at  INTEGER,
    PRIMARY KEY (project_id, serial)
);
CREATE INDEX IF NOT EXISTS certificates_by_user
    ON certificates (project_id, username, created_at);
";

/// A ledger operation failed.
#[derive(Debug, thiserror::Error)]
#[error("ledger {}: {source}{}", path.display(), hint(source))]
pub struct LedgerError {
    /// The ledger file.
    pub path: PathBuf,
    /// SQLite's error.
    pub source: rusqlite::Error,
}

/// What a user can do about errors SQLite words tersely.
fn hint(e: &rusqlite::Error) -> &'static str {
    match e.sqlite_error_code() {
        Some(ErrorCode::DiskFull | ErrorCode::SystemIoFailure) => {
            " (is the disk full, or a file size limit reached? nothing was recorded)"
        }
        Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen) => {
            " (is the CA home read-only or not writable by you? nothing was recorded)"
        }
        _ => "",
    }
}

/// What kind of certificate a row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A database user's client certificate.
    Client,
    /// A server certificate (its "username" is the host list).
    Server,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Client => "client",
            Kind::Server => "server",
        }
    }

    fn parse(s: &str) -> Kind {
        if s == "server" {
            Kind::Server
        } else {
            Kind::Client
        }
    }
}

/// One certificate as the ledger records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertRecord {
    /// The project whose CA signed it.
    pub project_id: String,
    /// Its serial number (positive, below 2^63).
    pub serial: u64,
    /// The database user (or host list) it was issued for.
    pub username: String,
    /// Its subject in RFC 2253 form.
    pub subject: String,
    /// What kind of certificate it is.
    pub kind: Kind,
    /// notBefore, which Atlas reports as `createdAt`.
    pub created_at: OffsetDateTime,
    /// notAfter.
    pub not_after: OffsetDateTime,
    /// SHA-256 of the DER certificate, lowercase hex.
    pub fingerprint: String,
    /// When it was revoked, if it was.
    pub revoked_at: Option<OffsetDateTime>,
}

/// The outcome of [`Ledger::record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The row is committed (in a batch: would be, were all others).
    Committed,
    /// The project already has a certificate with this serial: pick another.
    DuplicateSerial,
    /// The user already holds `limit` active certificates: nothing written.
    LimitReached,
}

/// Which certificates [`Ledger::list`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// Unexpired and unrevoked at the given time (what Atlas lists).
    ActiveAt(OffsetDateTime),
    /// Every certificate ever issued.
    All,
}

/// An open ledger.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
}

/// Puts the ledger in WAL mode. When several processes open a new ledger
/// at once, SQLite can answer "database is locked" while another one is
/// switching the file to WAL without calling the busy handler; that is
/// retried here for as long as a busy transaction would be waited for.
fn wal_mode(conn: &Connection) -> rusqlite::Result<()> {
    let deadline = Instant::now() + BUSY_TIMEOUT;
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == ErrorCode::DatabaseBusy && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

impl Ledger {
    /// Opens (creating if needed) the ledger at `path`.
    pub fn open(path: &Path) -> Result<Ledger, LedgerError> {
        let err = |source| LedgerError {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
        wal_mode(&conn).map_err(err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        Ok(Ledger {
            conn,
            path: path.to_path_buf(),
        })
    }

    fn err(&self, source: rusqlite::Error) -> LedgerError {
        LedgerError {
            path: self.path.clone(),
            source,
        }
    }

    /// Records `cert`; with `limit = Some((n, now))`, only if its user holds
    /// fewer than `n` certificates active at `now`. The check and the
    /// insertion are one transaction, so concurrent issuers cannot overshoot.
    pub fn record(
        &mut self,
        cert: &CertRecord,
        limit: Option<(u32, OffsetDateTime)>,
    ) -> Result<Recorded, LedgerError> {
        let outcomes = self.record_batch(&[(cert, limit)])?;
        Ok(outcomes.first().copied().unwrap_or(Recorded::Committed))
    }

    /// Records several certificates in one transaction, each as
    /// [`Ledger::record`] would. All are committed, or (if any would be a
    /// duplicate serial or over its limit) none; the outcomes say which.
    pub fn record_batch(
        &mut self,
        certs: &[(&CertRecord, Option<(u32, OffsetDateTime)>)],
    ) -> Result<Vec<Recorded>, LedgerError> {
        let path = &self.path;
        let err = |source| LedgerError {
            path: path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let mut outcomes = Vec::with_capacity(certs.len());
        for (cert, limit) in certs {
            if let Some((limit, now)) = limit {
                let active =
                    count_active(&tx, &cert.project_id, &cert.username, *now).map_err(err)?;
                if active >= u64::from(*limit) {
                    outcomes.push(Recorded::LimitReached);
                    continue;
                }
            }
            let inserted = tx.execute(
                "INSERT INTO certificates (project_id, serial, username, subject, kind, created_at, \
                 not_after, fingerprint, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL)",
                params![
                    cert.project_id,
                    to_sql_serial(cert.serial),
                    cert.username,
                    cert.subject,
                    cert.kind.as_str(),
                    cert.created_at.unix_timestamp(),
                    cert.not_after.unix_timestamp(),
                    cert.fingerprint,
                ],
            );
            outcomes.push(match inserted {
                Ok(_) => Recorded::Committed,
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == ErrorCode::ConstraintViolation =>
                {
                    Recorded::DuplicateSerial
                }
                Err(e) => return Err(err(e)),
            });
        }
        if outcomes.iter().all(|o| *o == Recorded::Committed) {
            tx.commit().map_err(err)?;
        }
        Ok(outcomes)
    }

    /// How many certificates `username` holds that are active at `now`.
    pub fn active_count(
        &self,
        project_id: &str,
        username: &str,
        now: OffsetDateTime,
    ) -> Result<u64, LedgerError> {
        count_active(&self.conn, project_id, username, now).map_err(|e| self.err(e))
    }

    /// The user's client certificates, oldest first.
    pub fn list(
        &self,
        project_id: &str,
        username: &str,
        filter: Filter,
    ) -> Result<Vec<CertRecord>, LedgerError> {
        let (now, all) = match filter {
            Filter::ActiveAt(now) => (now.unix_timestamp(), false),
            Filter::All => (0, true),
        };
        self.query(
            "WHERE project_id = ?1 AND username = ?2 AND kind = 'client' \
             AND (?3 OR (not_after > ?4 AND revoked_at IS NULL)) ORDER BY created_at, rowid",
            params![project_id, username, all, now],
        )
    }

    /// The certificate with this serial in the project, if any.
    pub fn get(&self, project_id: &str, serial: u64) -> Result<Option<CertRecord>, LedgerError> {
        let rows = self.query(
            "WHERE project_id = ?1 AND serial = ?2",
            params![project_id, to_sql_serial(serial)],
        )?;
        Ok(rows.into_iter().next())
    }

    /// Marks a certificate revoked at `at`, unless it already is (the first
    /// revocation time stands). Returns the record as it now is, or `None`
    /// if the project has no such serial.
    pub fn revoke(
        &self,
        project_id: &str,
        serial: u64,
        at: OffsetDateTime,
    ) -> Result<Option<CertRecord>, LedgerError> {
        self.conn
            .execute(
                "UPDATE certificates SET revoked_at = ?3 \
                 WHERE project_id = ?1 AND serial = ?2 AND revoked_at IS NULL",
                params![project_id, to_sql_serial(serial), at.unix_timestamp()],
            )
            .map_err(|e| self.err(e))?;
        self.get(project_id, serial)
    }

    /// The project's revoked certificates that have not expired at `now`:
    /// what a CRL must list.
    pub fn revoked(
        &self,
        project_id: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<CertRecord>, LedgerError> {
        self.query(
            "WHERE project_id = ?1 AND revoked_at IS NOT NULL AND not_after > ?2 \
             ORDER BY serial",
            params![project_id, now.unix_timestamp()],
        )
    }

    fn query(
        &self,
        filter: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<CertRecord>, LedgerError> {
        let sql = format!(
            "SELECT project_id, serial, username, subject, kind, created_at, not_after, \
             fingerprint, revoked_at FROM certificates {filter}"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(args, |row| {
                Ok(CertRecord {
                    project_id: row.get(0)?,
                    serial: from_sql_serial(row.get(1)?),
                    username: row.get(2)?,
                    subject: row.get(3)?,
                    kind: Kind::parse(&row.get::<_, String>(4)?),
                    created_at: from_unix(row.get(5)?),
                    not_after: from_unix(row.get(6)?),
                    fingerprint: row.get(7)?,
                    revoked_at: row.get::<_, Option<i64>>(8)?.map(from_unix),
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }
}

fn count_active(
    conn: &Connection,
    project_id: &str,
    username: &str,
    now: OffsetDateTime,
) -> rusqlite::Result<u64> {
    conn.query_row(
        "SELECT COUNT(*) FROM certificates WHERE project_id = ?1 AND username = ?2 \
         AND kind = 'client' AND not_after > ?3 AND revoked_at IS NULL",
        params![project_id, username, now.unix_timestamp()],
        |row| row.get::<_, i64>(0),
    )
    .map(|n| u64::try_from(n).unwrap_or_default())
}

/// Serials are below 2^63 by construction, so they fit SQLite's INTEGER.
fn to_sql_serial(serial: u64) -> i64 {
    i64::try_from(serial).unwrap_or(i64::MAX)
}

fn from_sql_serial(value: i64) -> u64 {
    u64::try_from(value).unwrap_or_default()
}

fn from_unix(secs: i64) -> OffsetDateTime {
    // Stored values come from valid certificate times (years 1950..=9999).
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}
