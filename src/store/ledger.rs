//! The ledger: an SQLite database recording every certificate issued, so
//! that listing, limits and revocation have one source of truth and no
//! certificate leaves the process without being on record.
//!
//! Concurrent processes share it safely: WAL mode, a generous busy timeout,
//! and each insertion (with its limit check) in one `IMMEDIATE` transaction.
//! `(project, serial)` is the primary key, so a serial can never repeat.
//!
//! The schema's version is `PRAGMA user_version`: a new ledger gets
//! [`SCHEMA_VERSION`]; an older one is migrated on open; a newer one (from a
//! later atlas-ca) is refused rather than misread. A row that does not
//! decode (an unknown kind, an impossible time or serial) is an error, never
//! a silent default.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::config::DbConfig;
use rusqlite::types::FromSqlError;
use rusqlite::{Connection, ErrorCode, TransactionBehavior, params};
use time::OffsetDateTime;

use super::ledger_rows::{Serial, Time, corrupt};
use crate::pki::Backend;

/// File name of the ledger inside the CA home.
pub const FILE: &str = "ledger.sqlite3";

/// The schema version this program writes and understands.
/// 2: a certificate may be of kind `member` (a cluster member's, from a
/// kit), which version 1 programs would refuse to read. 3: the `issuer`
/// column, the SHA-256 fingerprint of the CA certificate that signed it
/// (none on rows from before: see [`CertRecord::issuer`]).
const SCHEMA_VERSION: i64 = 3;

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
    issuer      TEXT,
    PRIMARY KEY (project_id, serial)
);
CREATE INDEX IF NOT EXISTS certificates_by_user
    ON certificates (project_id, username, created_at);
";

/// A ledger operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// SQLite failed.
    #[error("ledger {}: {source}{hint}", path.display())]
    Sqlite {
        /// The ledger file.
        path: PathBuf,
        /// SQLite's error.
        source: Backend,
        /// What the user can do about it, if anything is known.
        hint: &'static str,
    },
    /// The ledger's directory could not be synced after its WAL was made.
    #[error("ledger {}: cannot sync its directory: {source}", path.display())]
    Sync {
        /// The ledger file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A row to insert has a serial of 2^63 or more, which atlas-ca never
    /// makes (a caller's bug).
    #[error("serial {serial} is too large for the ledger (at most 2^63 - 1)")]
    SerialTooLarge {
        /// The serial.
        serial: u64,
    },
    /// The ledger was written by a newer atlas-ca.
    #[error(
        "ledger {}: schema version {found} is newer than this atlas-ca understands ({SCHEMA_VERSION}); use a newer atlas-ca",
        path.display()
    )]
    TooNew {
        /// The ledger file.
        path: PathBuf,
        /// Its `user_version`.
        found: i64,
    },
}

impl LedgerError {
    fn sqlite(path: &Path, e: rusqlite::Error) -> LedgerError {
        LedgerError::Sqlite {
            path: path.to_path_buf(),
            hint: hint(&e),
            source: Backend::new(e),
        }
    }
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

/// Whom a certificate was issued to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Holder {
    /// A database user's client certificate, by username.
    User(String),
    /// A server certificate, by its hosts (comma-separated, in order).
    Hosts(String),
    /// A replica set or cluster member's certificate (from a kit), by its
    /// hosts (comma-separated, in order).
    Member(String),
}

impl Holder {
    /// The `kind` column.
    fn kind(&self) -> &'static str {
        match self {
            Holder::User(_) => "client",
            Holder::Hosts(_) => "server",
            Holder::Member(_) => "member",
        }
    }

    /// The user, or the host list (the ledger's `username` column).
    pub fn name(&self) -> &str {
        match self {
            Holder::User(name) | Holder::Hosts(name) | Holder::Member(name) => name,
        }
    }

    /// The holder a row's `kind` and `username` columns name.
    fn from_columns(kind: &str, name: String) -> Result<Holder, FromSqlError> {
        match kind {
            "client" => Ok(Holder::User(name)),
            "server" => Ok(Holder::Hosts(name)),
            "member" => Ok(Holder::Member(name)),
            other => Err(corrupt(format!("unknown certificate kind {other:?}"))),
        }
    }
}

/// One certificate as the ledger records it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CertRecord {
    /// The project whose CA signed it.
    pub project_id: String,
    /// Its serial number (positive, below 2^63).
    pub serial: u64,
    /// Whom it was issued to.
    pub holder: Holder,
    /// Its subject in RFC 2253 form.
    pub subject: String,
    /// notBefore, which Atlas reports as `createdAt`.
    pub created_at: OffsetDateTime,
    /// notAfter.
    pub not_after: OffsetDateTime,
    /// SHA-256 of the DER certificate, lowercase hex.
    pub fingerprint: String,
    /// When it was revoked, if it was.
    pub revoked_at: Option<OffsetDateTime>,
    /// SHA-256 of the DER certificate of the CA that signed it, lowercase
    /// hex; `None` on rows a ledger before version 3 recorded, whose CA is
    /// the one that was current when the certificate was made.
    pub issuer: Option<String>,
}

/// The outcome of one row of [`Ledger::insert`].
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

/// Rows inserted in an open transaction: committed by [`Insertion::commit`]
/// (only when every row went in), rolled back when dropped.
pub struct Insertion<'l> {
    tx: rusqlite::Transaction<'l>,
    path: &'l Path,
    /// One outcome per row, in order.
    pub outcomes: Vec<Recorded>,
}

impl Insertion<'_> {
    /// Whether every row went in.
    pub fn complete(&self) -> bool {
        self.outcomes.iter().all(|o| *o == Recorded::Committed)
    }

    /// Commits the rows (durably: the WAL is synced). Only a complete
    /// insertion may be committed; an incomplete one is rolled back and
    /// reported as nothing recorded.
    pub fn commit(self) -> Result<bool, LedgerError> {
        if !self.complete() {
            return Ok(false);
        }
        let path = self.path;
        self.tx.commit().map_err(|e| LedgerError::sqlite(path, e))?;
        Ok(true)
    }
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

/// The WAL file beside the ledger at `path`.
fn wal_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// Syncs the directory holding `path`.
fn sync_dir(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)?.sync_all()
}

/// Brings the schema to [`SCHEMA_VERSION`]: creates it in a new ledger,
/// stamps a ledger of an earlier version (the same tables: version 2 only
/// adds a kind), and refuses one from a newer program. The place for
/// future migrations.
fn migrate(conn: &Connection, path: &Path) -> Result<(), LedgerError> {
    let err = |e| LedgerError::sqlite(path, e);
    let found: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(err)?;
    if found > SCHEMA_VERSION {
        return Err(LedgerError::TooNew {
            path: path.to_path_buf(),
            found,
        });
    }
    if found < 3 && has_table_without_issuer(conn).map_err(err)? {
        // Version 3 adds a column to the table the earlier ones made, in a
        // write transaction, checked again inside it: another process may
        // be migrating the same ledger.
        conn.execute_batch("BEGIN IMMEDIATE").map_err(err)?;
        let added = has_table_without_issuer(conn).and_then(|missing| {
            if missing {
                conn.execute_batch("ALTER TABLE certificates ADD COLUMN issuer TEXT")?;
            }
            conn.execute_batch("COMMIT")
        });
        if let Err(e) = added {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(err(e));
        }
    }
    conn.execute_batch(SCHEMA).map_err(err)?;
    if found < SCHEMA_VERSION {
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(err)?;
    }
    Ok(())
}

/// Whether the ledger has its table, made before the `issuer` column.
fn has_table_without_issuer(conn: &Connection) -> rusqlite::Result<bool> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info('certificates')")?;
    let columns = stmt
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(!columns.is_empty() && !columns.iter().any(|c| c == "issuer"))
}

impl Ledger {
    /// Opens (creating if needed) the ledger at `path`.
    pub fn open(path: &Path) -> Result<Ledger, LedgerError> {
        let err = |e| LedgerError::sqlite(path, e);
        let wal = wal_path(path);
        let new_wal = !wal.exists();
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
        wal_mode(&conn).map_err(err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(err)?;
        // The WAL outlives this connection: no checkpoint (and its fsyncs)
        // each time a process closes the ledger, no new WAL (and directory
        // fsync) each time one opens it. SQLite still checkpoints as the
        // WAL grows; a commit is durable once the WAL is synced.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
            .map_err(err)?;
        migrate(&conn, path)?;
        // SQLite is built without its per-open directory sync (see
        // .cargo/config.toml); the WAL's name is made durable here, once,
        // when this open created it (reading the schema opened it).
        if new_wal && wal.exists() {
            sync_dir(path).map_err(|source| LedgerError::Sync {
                path: path.to_path_buf(),
                source,
            })?;
        }
        Ok(Ledger {
            conn,
            path: path.to_path_buf(),
        })
    }

    fn err(&self, source: rusqlite::Error) -> LedgerError {
        LedgerError::sqlite(&self.path, source)
    }

    /// Inserts several certificates in one transaction, each with
    /// `limit = Some((n, now))` only if its user holds fewer than `n`
    /// certificates active at `now` (checked inside the transaction, so
    /// concurrent issuers cannot overshoot). The transaction stays open in
    /// the returned [`Insertion`]: its outcomes say whether every row went
    /// in; it commits only through [`Insertion::commit`], and dropped it
    /// records nothing.
    pub fn insert(
        &mut self,
        certs: &[(&CertRecord, Option<(u32, OffsetDateTime)>)],
    ) -> Result<Insertion<'_>, LedgerError> {
        let path = &self.path;
        let err = |e| LedgerError::sqlite(path, e);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let mut outcomes = Vec::with_capacity(certs.len());
        for (cert, limit) in certs {
            let serial = to_sql_serial(cert.serial).ok_or(LedgerError::SerialTooLarge {
                serial: cert.serial,
            })?;
            if let Some((limit, now)) = limit {
                let active =
                    count_active(&tx, &cert.project_id, cert.holder.name(), *now).map_err(err)?;
                if active >= u64::from(*limit) {
                    outcomes.push(Recorded::LimitReached);
                    continue;
                }
            }
            let inserted = tx.execute(
                "INSERT INTO certificates (project_id, serial, username, subject, kind, created_at, \
                 not_after, fingerprint, revoked_at, issuer) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, ?9)",
                params![
                    cert.project_id,
                    serial,
                    cert.holder.name(),
                    cert.subject,
                    cert.holder.kind(),
                    cert.created_at.unix_timestamp(),
                    cert.not_after.unix_timestamp(),
                    cert.fingerprint,
                    cert.issuer,
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
        Ok(Insertion { tx, path, outcomes })
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

    /// Every certificate issued (in `project_id`, or in every project),
    /// the soonest to end first.
    pub fn all(&self, project_id: Option<&str>) -> Result<Vec<CertRecord>, LedgerError> {
        self.query(
            "WHERE ?1 IS NULL OR project_id = ?1 ORDER BY not_after, project_id, serial",
            params![project_id],
        )
    }

    /// The certificate with this serial in the project, if any.
    pub fn get(&self, project_id: &str, serial: u64) -> Result<Option<CertRecord>, LedgerError> {
        let Some(serial) = to_sql_serial(serial) else {
            return Ok(None);
        };
        let rows = self.query(
            "WHERE project_id = ?1 AND serial = ?2",
            params![project_id, serial],
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
        let Some(sql_serial) = to_sql_serial(serial) else {
            return Ok(None);
        };
        self.conn
            .execute(
                "UPDATE certificates SET revoked_at = ?3 \
                 WHERE project_id = ?1 AND serial = ?2 AND revoked_at IS NULL",
                params![project_id, sql_serial, at.unix_timestamp()],
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
             fingerprint, revoked_at, issuer FROM certificates {filter}"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(args, |row| {
                let kind: String = row.get(4)?;
                let holder = Holder::from_columns(&kind, row.get(2)?).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        4,
                        rusqlite::types::Type::Text,
                        e.into(),
                    )
                })?;
                Ok(CertRecord {
                    project_id: row.get(0)?,
                    serial: row.get::<_, Serial>(1)?.0,
                    holder,
                    subject: row.get(3)?,
                    created_at: row.get::<_, Time>(5)?.0,
                    not_after: row.get::<_, Time>(6)?.0,
                    fingerprint: row.get(7)?,
                    revoked_at: row.get::<_, Option<Time>>(8)?.map(|t| t.0),
                    issuer: row.get(9)?,
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
        |row| {
            let n: i64 = row.get(0)?;
            u64::try_from(n).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    0,
                    rusqlite::types::Type::Integer,
                    e.into(),
                )
            })
        },
    )
}

/// The serial as SQLite's INTEGER: every serial atlas-ca makes is below
/// 2^63; a larger one (asked for by a user) is on no row.
fn to_sql_serial(serial: u64) -> Option<i64> {
    i64::try_from(serial).ok()
}

#[cfg(test)]
#[path = "ledger_tests.rs"]
mod tests;
