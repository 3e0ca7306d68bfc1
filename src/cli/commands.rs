//! One function per command: build the request from the arguments, call
//! the library, print.

use std::time::Duration;

use time::OffsetDateTime;

use super::args::DEFAULT_BASE;
use super::args::{
    CaCommand, CertsCommand, CertsCreateArgs, CertsListArgs, Output, PageArgs, ProjectArg,
    ServeArgs, ServerCertArgs,
};
use super::outcome::{Failure, Outcome, select_project};
use super::output::{
    Target, counted, note_created, print_bytes, print_certs, print_json, print_line, print_users,
    table,
};
use crate::api::json::CLI_QUERY;
use crate::api::{self, Error, Paging, ServerCert};
use crate::issuing::Fresh;
use crate::model::escape_hidden;
use crate::pki::custom::Extras;
use crate::server::{self, ServeOptions, Tls};
use crate::store::files::read_input;
use crate::store::{CertRecord, Holder, Home, ca};

pub(super) fn list_users(
    home: &Home,
    project: &ProjectArg,
    output: Output,
    page: &PageArgs,
) -> Outcome {
    let registry = home.registry()?;
    let gid = select_project(home, &registry, project)?;
    let paging = page.paging();
    match output {
        Output::Json => {
            let root = format!("{DEFAULT_BASE}/api/atlas/v2");
            let users = api::users::list_users(&registry, &gid, &root)?;
            let url = format!("{root}/groups/{gid}/databaseUsers");
            let listed = api::Page::of(users, paging, &url, CLI_QUERY);
            if page.compact {
                print_json(&listed.results)
            } else {
                print_json(&listed)
            }
        }
        Output::Table => {
            let project = api::project(&registry, &gid)?;
            print_users(&paging.select(project.users(time::OffsetDateTime::now_utc()).cloned()))
        }
    }
}

pub(super) fn server_cert(home: &Home, a: ServerCertArgs) -> Outcome {
    let registry = home.registry()?;
    let gid = select_project(home, &registry, &a.project)?;
    let request = ServerCert {
        group_id: gid.clone(),
        hosts: a.hosts,
        months: a.months,
        issued_at: a.issued_at,
        key_type: a.key_type,
        extras: Extras {
            ocsp: a.ocsp.urls,
            ..Extras::default()
        },
    };
    // Plan: every check and the output target; nothing is written yet.
    let plan = api::plan_server_cert(&registry, &request)?;
    let target = Target::plan(
        a.out.clone(),
        a.force,
        true,
        "a server certificate and its key",
    )?;
    let (created, staged) = api::issue(home, &plan, &Fresh, |issued| {
        target.stage(issued.pem.as_bytes(), home.notes())
    })?;
    note_created(home, &gid, created.ca_created);
    staged.deliver()?;
    match (a.output, &a.out) {
        (Some(Output::Json), Some(file)) => print_json(&serde_json::json!({
            "file": file.display().to_string(),
            "notAfter": api::timestamp(created.record.not_after),
            "serial": crate::pki::serial_hex(created.record.serial),
            "subject": created.record.subject,
        })),
        _ => Ok(()),
    }
}

pub(super) fn serve(home: Home, a: ServeArgs) -> Outcome {
    let options = ServeOptions {
        listen: a.listen,
        nonce_ttl: Duration::from_secs(a.nonce_ttl),
        key_pool: a.key_pool,
        client_timeout: Duration::from_secs(a.client_timeout),
        token_ttl: Duration::from_secs(a.token_ttl),
        key_type: a.key_type,
        pki_dirs: a.pki,
        ocsp_delegate: a.ocsp_delegate,
        ocsp_validity: Duration::from_secs(a.ocsp_next_update),
        tls: match (a.tls_cert, a.tls) {
            (Some(file), _) => Some(Tls::File(file)),
            (None, true) => Some(Tls::Issued),
            (None, false) => None,
        },
    };
    Ok(server::serve(home, options)?)
}

pub(super) fn ca(home: &Home, command: CaCommand) -> Outcome {
    let registry = home.registry()?;
    match command {
        CaCommand::Init {
            project,
            import_key,
            encrypt,
            rotate,
        } => {
            let gid = select_project(home, &registry, &project)?;
            // One rule: the key is encrypted whenever a passphrase is at
            // hand (and `ca::init` refuses to replace an encrypted key
            // without one).
            if encrypt && home.passphrase().is_none() {
                return Err(Failure::Usage(
                    "--encrypt needs a passphrase: set ATLAS_CA_PASSPHRASE or pass --passphrase-file"
                        .into(),
                ));
            }
            ca::init(
                home.root(),
                &gid,
                import_key.as_deref(),
                home.passphrase(),
                rotate,
            )?;
            eprintln!(
                "atlas-ca: created the CA of project {gid} in {}",
                home.ca_dir(&gid).display()
            );
            Ok(())
        }
        CaCommand::Cert { project } => {
            let gid = select_project(home, &registry, &project)?;
            // Reading the certificate needs no key, and so no passphrase.
            if let Some(cert) = ca::current_cert(home.root(), &gid)? {
                return print_bytes(&cert.to_pem().map_err(Error::from)?);
            }
            let (ca, created) = home.project_ca(&gid)?;
            note_created(home, &gid, created);
            print_bytes(&ca.cert_pem()?)
        }
        CaCommand::Crl {
            project,
            next_update,
            all_cas,
            out,
            force,
        } => {
            let gid = select_project(home, &registry, &project)?;
            let target = Target::plan(out, force, false, "the project CA's CRL")?;
            let until = time::OffsetDateTime::now_utc() + time::Duration::days(next_update.into());
            let pem = api::crl_pem(
                home,
                &registry,
                &gid,
                Some(until),
                if all_cas {
                    api::CrlScope::AllCas
                } else {
                    api::CrlScope::Current
                },
            )?;

            target.write(pem.as_bytes(), home.notes())
        }
    }
}

pub(super) fn certs(home: &Home, command: CertsCommand) -> Outcome {
    match command {
        CertsCommand::Create(a) => create_cert(home, a),
        CertsCommand::List(a) => list_certs(home, a),
        CertsCommand::Revoke {
            username,
            serial,
            project,
        } => {
            let registry = home.registry()?;
            let gid = select_project(home, &registry, &project)?;
            let mut outcome = None;
            for candidate in api::serial_candidates(&serial)? {
                match api::revoke_cert(home, &registry, &gid, &username, candidate) {
                    Err(Error::NotFound(_)) if outcome.is_none() => {}
                    done => {
                        outcome = Some(done);
                        break;
                    }
                }
            }
            let record = outcome.unwrap_or_else(|| {
                Err(Error::NotFound(format!(
                    "project {gid} has no certificate with serial {} for {}",
                    escape_hidden(&serial),
                    escape_hidden(&username)
                )))
            })?;
            note_revoked(&record);
            Ok(())
        }
    }
}

pub(super) fn revoke(home: &Home, serial: &str, project: Option<&str>) -> Outcome {
    let registry = home.registry()?;
    let record = api::revoke_serial(home, &registry, project, serial)?;
    note_revoked(&record);
    Ok(())
}

/// Says what was revoked, in both serial forms, and what to refresh.
fn note_revoked(record: &CertRecord) {
    let at = record.revoked_at.map(api::timestamp).unwrap_or_default();
    let holder = match &record.holder {
        Holder::User(u) => format!("user {}", escape_hidden(u)),
        Holder::Hosts(h) => format!("hosts {}", escape_hidden(h)),
        Holder::Member(h) => format!("member {}", escape_hidden(h)),
    };
    eprintln!(
        "atlas-ca: certificate {} (0x{:X}) of {holder} in project {} is revoked (since {at}); \
         OCSP answers say so now; refresh CRLs with: atlas-ca ca crl",
        record.serial, record.serial, record.project_id
    );
}

fn create_cert(home: &Home, a: CertsCreateArgs) -> Outcome {
    let registry = home.registry()?;
    let gid = select_project(home, &registry, &a.project)?;
    let request = a.cert.request(&gid, &a.username);
    // Plan: Atlas's checks and the output target; nothing is written yet.
    let plan = api::validate_create(home, &registry, &request, 1)?;
    let target = Target::plan(a.out, a.force, true, "a client certificate and its key")?;
    let json = a.output == Some(Output::Json);
    let (created, staged) = api::issue(home, &plan, &Fresh, |issued| {
        if json {
            // The Atlas CLI prints the PEM body as one JSON string.
            let body = serde_json::Value::String(issued.pem.clone()).to_string() + "\n";
            target.stage(body.as_bytes(), home.notes())
        } else if matches!(target, Target::Stdout) {
            // The Atlas CLI's template, `{{.}}` and a newline; a file gets
            // the body exactly.
            target.stage(format!("{}\n", issued.pem).as_bytes(), home.notes())
        } else {
            target.stage(issued.pem.as_bytes(), home.notes())
        }
    })?;
    note_created(home, &gid, created.ca_created);
    staged.deliver()
}

fn list_certs(home: &Home, a: CertsListArgs) -> Outcome {
    let registry = home.registry()?;
    let gid = select_project(home, &registry, &a.project)?;
    let records = api::list_certs(home, &registry, &gid, &a.username, a.all)?;
    // The Atlas CLI's certs list ignores --omitCount.
    let paging = Paging {
        include_count: true,
        ..a.paging.paging()
    };
    match a.output {
        Output::Json => {
            let base = format!("{}/api/atlas/v2", a.base_url.trim_end_matches('/'));
            let url = api::certs_url(&base, &gid, &a.username);
            let listed = api::cert_page(&records, paging, &url, CLI_QUERY);
            if a.paging.compact {
                print_json(&listed.results)
            } else {
                print_json(&listed)
            }
        }
        Output::Table => print_certs(&paging.select(records), a.all),
    }
}

/// `atlas-ca ledger`: every certificate issued, the soonest to end first.
pub(super) fn ledger(
    home: &Home,
    project_id: Option<&str>,
    expiring: u32,
    output: Output,
) -> Outcome {
    let project = match project_id {
        // A registered project by id or name; an id alone for a project
        // deleted since (its certificates stay in the ledger).
        Some(id) if crate::model::is_project_id(id) => Some(id.to_ascii_lowercase()),
        Some(id) => Some(select_project(
            home,
            &home.registry()?,
            &ProjectArg {
                project_id: Some(id.to_string()),
            },
        )?),
        None => None,
    };
    let report = api::issued(
        home,
        project.as_deref(),
        expiring,
        time::OffsetDateTime::now_utc(),
    )?;
    match output {
        Output::Json => print_json(&report),
        Output::Table => {
            let rows = report.results.iter().map(|e| {
                vec![
                    e.not_after.clone(),
                    e.days_left.to_string(),
                    e.state.to_string(),
                    e.kind.to_string(),
                    e.holder.clone(),
                    e.serial.clone(),
                    e.project_id.clone(),
                ]
            });
            let s = &report.summary;
            let text = format!(
                "{}{} certificate{}: {} live, {} expiring within {} days, {} expired, {} not yet valid, {} revoked\n",
                table(
                    &[
                        "NOT AFTER",
                        "DAYS",
                        "STATE",
                        "KIND",
                        "HOLDER",
                        "SERIAL",
                        "PROJECT"
                    ],
                    rows
                ),
                s.total,
                if s.total == 1 { "" } else { "s" },
                s.live,
                s.expiring,
                report.expiring_within_days,
                s.expired,
                s.not_yet_valid,
                s.revoked
            );
            print_bytes(text.as_bytes())
        }
    }
}

/// `pki status DIR`: what ends when under a directory; exit 1 when
/// anything needs a person.
pub(super) fn pki_status(
    dir: &std::path::Path,
    file: Option<&std::path::Path>,
    within: u32,
    output: Output,
) -> Outcome {
    let text = file
        .map(|f| read_input(f).map_err(Error::io(f)))
        .transpose()?
        .zip(file)
        .map(|(b, f)| crate::tools::pki_spec::text_of(f, b))
        .transpose()?;
    let spec = file.zip(text.as_deref());
    let status = crate::tools::pki_status::status(dir, spec, within, OffsetDateTime::now_utc())?;
    match output {
        Output::Json => print_json(&status)?,
        Output::Table => {
            let rows = status.results.iter().map(|e| {
                let files = match e.files.len() {
                    1 => e.files[0].clone(),
                    n => format!("{} (+{})", e.files[0], n - 1),
                };
                let state = if e.intended {
                    format!("{} (intended)", e.state)
                } else {
                    e.state.to_string()
                };
                vec![
                    e.not_after.clone(),
                    e.days_left.to_string(),
                    state,
                    e.kind.to_string(),
                    files,
                    e.subject.clone(),
                ]
            });
            let count = |kind: &str| status.results.iter().filter(|e| e.kind == kind).count();
            let text = format!(
                "{}{} and {}; {} need attention (ended, not yet valid or ending within {} days, not on purpose)\n",
                table(
                    &["NOT AFTER", "DAYS", "STATE", "KIND", "FILE", "SUBJECT"],
                    rows
                ),
                counted(count("certificate"), "certificate"),
                counted(count("crl"), "CRL"),
                status.needing_attention,
                status.within_days
            );
            print_bytes(text.as_bytes())?;
        }
    }
    match status.needing_attention {
        0 => Ok(()),
        n => Err(Failure::Usage(format!(
            "{n} certificate{} or CRL{} in {} need{} attention",
            if n == 1 { "" } else { "s" },
            if n == 1 { "" } else { "s" },
            dir.display(),
            if n == 1 { "s" } else { "" }
        ))),
    }
}

/// `pki check FILE [--against DIR]`.
pub(super) fn pki_check(
    file: &std::path::Path,
    against: Option<&std::path::Path>,
    given: &crate::Reproduce,
) -> Outcome {
    let bytes = read_input(file).map_err(Error::io(file))?;
    let text = crate::tools::pki_spec::text_of(file, bytes)?;
    let d = crate::tools::pki_apply::check(file, &text)?;
    let name = escape_hidden(&file.display().to_string());
    let Some(dir) = against else {
        return print_line(&format!(
            "{name}: {}, {} of Atlas's, {}, {}",
            counted(d.certificates, "certificate"),
            d.atlas,
            counted(d.crls, "CRL"),
            counted(d.bundles, "bundle")
        ));
    };
    let differences =
        crate::tools::pki_against::against(file, &text, dir, OffsetDateTime::now_utc(), given)?;
    let mut out = String::new();
    for d in &differences {
        out.push_str(&format!(
            "{}: {}\n",
            escape_hidden(&d.file),
            escape_hidden(&d.what)
        ));
    }
    print_bytes(out.as_bytes())?;
    let shown = escape_hidden(&dir.display().to_string());
    match differences.len() {
        0 => print_line(&format!("{shown} holds what {name} makes")),
        n => Err(Failure::Usage(format!(
            "{shown} differs from what {name} makes: {n} difference{}",
            if n == 1 { "" } else { "s" }
        ))),
    }
}
