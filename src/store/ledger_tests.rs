//! Unit tests of `ledger.rs`, apart to keep it short.

use super::*;

fn record(serial: u64) -> CertRecord {
    let t = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    CertRecord {
        project_id: "5efda6aea3f2ed2e7dd6ce05".into(),
        serial,
        holder: Holder::User("alice".into()),
        subject: "CN=alice".into(),
        created_at: t,
        not_after: t + time::Duration::days(90),
        fingerprint: "00".into(),
        revoked_at: None,
        issuer: Some("ca".into()),
    }
}

/// The table as versions 1 and 2 (and the unversioned first ledgers) made it.
const OLD_LAYOUT: &str = "CREATE TABLE certificates (project_id TEXT NOT NULL, serial INTEGER NOT NULL, \
    username TEXT NOT NULL, subject TEXT NOT NULL, kind TEXT NOT NULL, created_at INTEGER NOT NULL, \
    not_after INTEGER NOT NULL, fingerprint TEXT NOT NULL, revoked_at INTEGER, \
    PRIMARY KEY (project_id, serial));
    INSERT INTO certificates VALUES ('p', 7, 'alice', 'CN=alice', 'client', 0, 1, 'f', NULL);";

fn corrupt_with(sql: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE);
    let mut ledger = Ledger::open(&path).unwrap();
    assert!(
        ledger
            .insert(&[(&record(1 << 60), None)])
            .unwrap()
            .commit()
            .unwrap()
    );
    ledger.conn.execute(sql, []).unwrap();
    let every_row = ledger.query("", []);
    every_row.unwrap_err().to_string()
}

#[test]
fn a_corrupt_row_is_an_error() {
    let kind = corrupt_with("UPDATE certificates SET kind = 'ghost'");
    assert!(
        kind.contains("unknown certificate kind \"ghost\""),
        "{kind}"
    );
    let time = corrupt_with("UPDATE certificates SET not_after = 999999999999999");
    assert!(time.contains("outside the years"), "{time}");
    let serial = corrupt_with("UPDATE certificates SET serial = -5");
    assert!(serial.contains("serial -5 is not positive"), "{serial}");
    let text = corrupt_with("UPDATE certificates SET created_at = 'yesterday'");
    assert!(text.contains("ledger "), "{text}");
}

#[test]
fn schema_version_is_set_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE);
    let ledger = Ledger::open(&path).unwrap();
    assert_eq!(version(&ledger), SCHEMA_VERSION);
    ledger
        .conn
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(ledger);
    let e = Ledger::open(&path).err().unwrap();
    assert!(
        matches!(e, LedgerError::TooNew { found, .. } if found == SCHEMA_VERSION + 1),
        "{e}"
    );
    assert!(e.to_string().contains("use a newer atlas-ca"), "{e}");
}

#[test]
fn a_version_1_ledger_is_migrated_and_reads_members() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE);
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(OLD_LAYOUT).unwrap();
    conn.pragma_update(None, "user_version", 1).unwrap();
    drop(conn);
    let ledger = Ledger::open(&path).unwrap();
    assert_eq!(version(&ledger), SCHEMA_VERSION);
    ledger
        .conn
        .execute(
            "INSERT INTO certificates VALUES ('p', 8, 'localhost', 'CN=localhost', 'member', 0, 1, 'f', NULL, 'ca')",
            [],
        )
        .unwrap();
    let all = ledger.all(None).unwrap();
    assert_eq!((all[0].serial, all[0].issuer.as_deref()), (7, None));
    assert_eq!(all[1].holder, Holder::Member("localhost".into()));
    assert_eq!(all[1].issuer.as_deref(), Some("ca"));
}

#[test]
fn an_unversioned_ledger_is_stamped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE);
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(OLD_LAYOUT).unwrap();
    drop(conn);
    let ledger = Ledger::open(&path).unwrap();
    assert_eq!(version(&ledger), SCHEMA_VERSION);
    assert_eq!(ledger.all(None).unwrap().len(), 1);
}

fn version(ledger: &Ledger) -> i64 {
    ledger
        .conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap()
}
