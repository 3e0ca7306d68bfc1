//! Revocation (Atlas has none: its certificates expire): a user's
//! certificate by its serial, or any certificate a project CA issued. A
//! serial may be written as the list's `_id` (decimal) or as OpenSSL
//! prints it (hex, with or without `0x`, colons, any case).

use time::OffsetDateTime;

use super::error::{Error, Invalid};
use super::users::project;
use crate::store::{CertRecord, Holder, Home, Registry};

/// What a serial as written may stand for, the decimal reading first: hex
/// only with `0x`, colons or a letter a-f; digits alone are both.
pub fn serial_candidates(text: &str) -> Result<Vec<u64>, Invalid> {
    let t = text.trim();
    let bad = || Invalid::Serial(text.to_string());
    let (hex, forced) = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(rest) => (rest.replace(':', ""), true),
        None => (t.replace(':', ""), t.contains(':')),
    };
    if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let mut candidates = Vec::new();
    if !forced && t.bytes().all(|b| b.is_ascii_digit()) {
        candidates.extend(t.parse::<u64>().ok());
    }
    if let Ok(n) = u64::from_str_radix(&hex, 16)
        && !candidates.contains(&n)
    {
        candidates.push(n);
    }
    if candidates.is_empty() {
        Err(bad())
    } else {
        Ok(candidates)
    }
}

/// Revokes a user's certificate (idempotent: revoking again keeps the
/// first revocation time). The serial must be one of the user's.
pub fn revoke_cert(
    home: &Home,
    registry: &Registry,
    group_id: &str,
    username: &str,
    serial: u64,
) -> Result<CertRecord, Error> {
    let project = project(registry, group_id)?;
    let is_users = |r: &CertRecord| matches!(&r.holder, Holder::User(u) if u == username);
    revoke_first(home, &[&project.id], &[serial], is_users).and_then(|found| {
        found.ok_or_else(|| {
            Error::NotFound(format!(
                "project {} has no certificate with serial {serial} for {username}",
                project.id
            ))
        })
    })
}

/// Revokes the certificate with this serial (as written: decimal or hex)
/// in the project, or in whichever project has it; a user's, a server's
/// or a member's alike.
pub fn revoke_serial(
    home: &Home,
    registry: &Registry,
    group_id: Option<&str>,
    serial: &str,
) -> Result<CertRecord, Error> {
    let candidates = serial_candidates(serial)?;
    let projects: Vec<&str> = match group_id {
        Some(id) => vec![project(registry, id)?.id.as_str()],
        None => registry.projects.iter().map(|p| p.id.as_str()).collect(),
    };
    let holders: Vec<String> = home.with_existing_ledger(|ledger| {
        let mut found = Vec::new();
        if let Some(ledger) = ledger {
            for id in &projects {
                for c in &candidates {
                    if ledger.get(id, *c)?.is_some() {
                        found.push(id.to_string());
                    }
                }
            }
        }
        Ok::<_, Error>(found)
    })?;
    if holders.len() > 1 {
        return Err(Invalid::AmbiguousSerial {
            serial: serial.to_string(),
            projects: holders,
        }
        .into());
    }
    revoke_first(home, &projects, &candidates, |_| true)?.ok_or_else(|| {
        Error::NotFound(format!(
            "no certificate with serial {serial:?} in {}",
            match group_id {
                Some(id) => format!("project {id}"),
                None => "any project".into(),
            }
        ))
    })
}

/// Revokes the first certificate among `serials` in `projects` that
/// `accept` takes; `None` if there is none.
fn revoke_first(
    home: &Home,
    projects: &[&str],
    serials: &[u64],
    accept: impl Fn(&CertRecord) -> bool,
) -> Result<Option<CertRecord>, Error> {
    home.with_existing_ledger(|ledger| {
        let Some(ledger) = ledger else {
            return Ok(None);
        };
        for project in projects {
            for serial in serials {
                if ledger.get(project, *serial)?.as_ref().is_some_and(&accept) {
                    return Ok(ledger.revoke(project, *serial, OffsetDateTime::now_utc())?);
                }
            }
        }
        Ok(None)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_read_as_people_write_them() {
        assert_eq!(serial_candidates("1234").unwrap(), [1234, 0x1234]);
        assert_eq!(serial_candidates("0x1f").unwrap(), [0x1f]);
        assert_eq!(serial_candidates("13:3F:ab").unwrap(), [0x133fab]);
        assert_eq!(
            serial_candidates("133FAB8AE4AAA37E").unwrap(),
            [0x133f_ab8a_e4aa_a37e]
        );
        assert_eq!(serial_candidates(" 7 ").unwrap(), [7]);
        for bad in ["", "0x", "12g", "-1", "0x1:zz", "123456789012345678901"] {
            assert!(serial_candidates(bad).is_err(), "{bad}");
        }
    }
}
