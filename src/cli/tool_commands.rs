//! The tools' commands (`local-kit`, `fixtures`, `verify`, `pki apply`):
//! build the options from the arguments, call the tool, print what was
//! made.

use std::time::Instant;

use time::OffsetDateTime;

use super::args::{FixturesArgs, KitArgs, Output, VerifyArgs};
use super::outcome::{Failure, Outcome, select_project};
use super::output::{print_checks, print_written, table, with_progress};
use crate::api::{self, Error};
use crate::model::escape_hidden;
use crate::pki::random_letters;
use crate::store::Home;
use crate::store::files::read_input;
use crate::tools::fixtures::{self, FixtureOptions};
use crate::tools::kit::{self, KitOptions};
use crate::tools::{mongod_check, verify};

pub(super) fn local_kit(home: &Home, a: KitArgs, quiet: bool) -> Outcome {
    let registry = home.registry()?;
    let gid = select_project(home, &registry, &a.project)?;
    let (pkcs12_password, generated) = match (&a.pkcs12_password_file, a.pkcs12) {
        (Some(file), _) => {
            let bytes = read_input(file).map_err(Error::io(file))?;
            // Read leniently, invalid UTF-8 would become another password.
            let text = String::from_utf8(bytes).map_err(|_| {
                Failure::Usage(format!(
                    "{}: the password file is not valid UTF-8",
                    file.display()
                ))
            })?;
            let line = text.lines().next().unwrap_or("").to_string();
            if line.contains('\0') {
                return Err(Failure::Usage(format!(
                    "{}: the password holds a NUL, which PKCS#12 cannot",
                    file.display()
                )));
            }
            if line.is_empty() {
                return Err(Failure::Usage(format!(
                    "{}: the PKCS#12 password is empty",
                    escape_hidden(&file.display().to_string())
                )));
            }
            (Some(line), false)
        }
        (None, true) => (Some(random_letters(20)?), true),
        (None, false) => (None, false),
    };
    let options = KitOptions {
        group_id: gid,
        out: a.out.clone(),
        hosts: a.hosts,
        months: a.months,
        profile: a.keys.profile,
        key_type: a.keys.key_type,
        topology: a.topology.topology()?,
        roles_in_cert: a.roles_in_cert,
        membership: a.membership,
        ocsp: a.ocsp.urls,
        pkcs12_password,
        force: a.force,
        dry_run: a.write.dry_run,
    };
    let written = with_progress(quiet, |tick| {
        kit::local_kit(home, &registry, &options, tick)
    })?;
    let json = a.write.output == Some(Output::Json);
    if a.write.dry_run || json {
        print_written(&a.out, &written.files, a.write.dry_run, json)?;
    }
    if a.write.dry_run {
        return Ok(());
    }
    // A registry edited by hand may hold a user without a role, which
    // `dbusers create` refuses: mongod would let it log in and do nothing.
    if let Ok(project) = api::project(&registry, &options.group_id) {
        for u in project
            .users(time::OffsetDateTime::now_utc())
            .filter(|u| u.is_managed_x509() && u.roles.is_empty())
        {
            eprintln!(
                "atlas-ca: warning: {} has no roles in the registry: its mongod user can log in and do nothing",
                escape_hidden(&u.username)
            );
        }
    }
    if let (true, Some(password)) = (generated, &options.pkcs12_password) {
        eprintln!("atlas-ca: the users' PKCS#12 password (shown once, stored nowhere): {password}");
    }
    if !quiet {
        let ends = day(written.first_expiry);
        let rows = written.processes.iter().map(|(role, address, cert)| {
            vec![role.clone(), address.clone(), cert.clone(), ends.clone()]
        });
        eprint!(
            "{}",
            table(&["PROCESS", "ADDRESS", "CERTIFICATE", "ENDS"], rows)
        );
    }
    if !quiet {
        eprintln!(
            "atlas-ca: wrote {} files to {}; see README.txt there",
            written.files.len(),
            escape_hidden(&a.out.display().to_string())
        );
        eprintln!(
            "atlas-ca: the kit's first certificate ends {}, its CRL {}; renew before then (README.txt says how)",
            day(written.first_expiry),
            day(written.crl_until)
        );
    }
    Ok(())
}

/// A time as people read a date: RFC 3339, to the second, in UTC.
fn day(t: time::OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

pub(super) fn fixtures(home: &Home, a: FixturesArgs, quiet: bool) -> Outcome {
    let registry = home.registry()?;
    let gid = select_project(home, &registry, &a.project)?;
    let mut options = FixtureOptions::new(&a.out, a.cert.request(&gid, ""));
    // `--users "alice, dave"`: the names without the spaces around them.
    options.users = a.users.iter().map(|u| u.trim().to_string()).collect();
    options.count_per_user = a.count_per_user;
    options.issued_at_for = a.issued_at_for;
    options.jobs = a.jobs;
    options.force = a.force;
    let json = a.write.output == Some(Output::Json);
    if a.write.dry_run {
        let files = fixtures::fixture_plan(home, &registry, &options)?;
        return print_written(&a.out, &files, true, json);
    }
    let started = Instant::now();
    let manifest = with_progress(quiet, |tick| {
        fixtures::issue_fixtures(home, &registry, &options, tick)
    })?;
    let secs = started.elapsed().as_secs_f64();
    if json {
        let mut files = vec!["ca.pem".to_string(), "manifest.json".to_string()];
        files.extend(manifest.iter().map(|m| m.file.clone()));
        print_written(&a.out, &files, false, true)?;
    }
    if !quiet {
        let n = manifest.len();
        eprintln!(
            "atlas-ca: issued {n} certificate{} to {} in {secs:.2} s ({:.1}/s)",
            if n == 1 { "" } else { "s" },
            escape_hidden(&a.out.display().to_string()),
            n as f64 / secs.max(1e-9)
        );
    }
    Ok(())
}

pub(super) fn verify(home: &Home, a: VerifyArgs) -> Outcome {
    if a.mongod {
        let checks = mongod_check::mongod_checks(&a.file, OffsetDateTime::now_utc())?;
        // Not the home's: worded apart from a bundle's verification.
        let json = a.output == Some(Output::Json);
        return print_checks(&checks, json).map_err(|f| match f {
            Failure::Usage(m) => {
                Failure::Usage(m.replacen("verification failed", "mongod would refuse the set", 1))
            }
            other => other,
        });
    }
    let registry = home.registry()?;
    let gid = select_project(home, &registry, &a.project)?;
    let pem = read_input(&a.file).map_err(Error::io(&a.file))?;
    let checks = verify::verify_bundle(home, &registry, &gid, &pem, OffsetDateTime::now_utc())?;
    print_checks(&checks, a.output == Some(Output::Json))
}
