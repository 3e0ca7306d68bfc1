//! `atlas-ca local-kit`: everything a local MongoDB needs for TLS and
//! Atlas-style X.509 users, in one directory: the CA, a server certificate,
//! one client certificate per MANAGED user, a CRL, a `mongod.conf`
//! fragment, a `create-users.js` and a README with the exact commands.
//!
//! Planned, then executed: every check (Atlas's for each user, the server
//! certificate's, every output file) runs before anything is written; the
//! certificates are then signed, every file is staged, and the ledger rows
//! of the server and all users commit in one transaction before any file
//! is renamed into place. A refused kit leaves the ledger, the registry and
//! the output directory as they were.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::kit_files::{create_users_js, mongod_conf, readme};
use super::names::FileNames;
use super::outputs::{check_outputs, create_dirs, remove_made};
use crate::api::{
    self, CreateCert, Error, MAX_MONTHS, ServerCert, plan_server_cert, project, validate_create,
};
use crate::issuing::{self, Fresh, IssueRequest};
use crate::pki::{Host, KeyType, Profile};
use crate::store::files::{Dir, Staged};
use crate::store::{Home, Project, Registry, X509Type, ca};

/// What to put in the kit.
#[derive(Debug, Clone)]
pub struct KitOptions {
    /// The project.
    pub group_id: String,
    /// The directory to write.
    pub out: PathBuf,
    /// Hosts for the server certificate besides `localhost` and `127.0.0.1`.
    pub hosts: Vec<Host>,
    /// Lifetime of the certificates, in months.
    pub months: u32,
    /// Profile of the client certificates.
    pub profile: Profile,
    /// Subject key type of every certificate.
    pub key_type: KeyType,
    /// Replace an existing kit.
    pub force: bool,
}

/// The files of every kit, besides the users' certificates.
const FIXED: [&str; 6] = [
    "ca.pem",
    "server.pem",
    "crl.pem",
    "mongod.conf",
    "create-users.js",
    "README.txt",
];

/// The subdirectory of the users' certificates.
const USERS: &str = "users";

/// Writes the kit; returns the files written (relative to `out`).
pub fn local_kit(
    home: &Home,
    registry: &Registry,
    opts: &KitOptions,
) -> Result<Vec<String>, Error> {
    let project = project(registry, &opts.group_id)?;
    let mut names = FileNames::default();
    let users: Vec<(String, String)> = project
        .database_users
        .iter()
        // With customer-managed X.509 on, Atlas makes no user certificates.
        .filter(|u| u.x509_type == X509Type::Managed && !project.self_managed_x509)
        .map(|u| (u.username.clone(), names.name("users/", &u.username, None)))
        .collect();
    let all: Vec<String> = FIXED
        .iter()
        .map(|f| f.to_string())
        .chain(users.iter().map(|(_, n)| n.clone()))
        .collect();
    // Plan: the server certificate, every user's, every output file.
    let server = ServerCert {
        group_id: project.id.clone(),
        hosts: server_hosts(&opts.hosts),
        months: opts.months,
        issued_at: None,
        key_type: opts.key_type,
    };
    let client_requests = client_requests(project, opts, &users);
    let mut requests = vec![plan_server_cert(registry, &server)?];
    for req in &client_requests {
        requests.push(validate_create(home, registry, req, 1)?);
    }
    check_outputs(&opts.out, &all, opts.force)?;
    let out = std::path::absolute(&opts.out).map_err(Error::io(&opts.out))?;
    // Execute.
    let created = create_dirs(&out.join(USERS))?;
    let written = execute(home, registry, project, opts, &out, &users, &requests);
    if written.is_err() {
        // Directories this run made, now empty again, go too.
        remove_made(&created);
    }
    written?;
    Ok(all)
}

/// `localhost`, `127.0.0.1`, then `extra` without repeats.
fn server_hosts(extra: &[Host]) -> Vec<Host> {
    let mut hosts = vec![
        Host::Dns("localhost".into()),
        Host::Ip([127, 0, 0, 1].into()),
    ];
    for h in extra {
        if !hosts.contains(h) {
            hosts.push(h.clone());
        }
    }
    hosts
}

fn client_requests(
    project: &Project,
    opts: &KitOptions,
    users: &[(String, String)],
) -> Vec<CreateCert> {
    // Lossless: MAX_MONTHS is 24.
    let months = i64::from(opts.months).min(MAX_MONTHS);
    users
        .iter()
        .map(|(username, _)| {
            let mut req = CreateCert::new(&project.id, username);
            req.months_until_expiration = months;
            req.profile = opts.profile;
            req.key_type = opts.key_type;
            req
        })
        .collect()
}

/// Signs, stages every file, commits every row at once, then publishes.
fn execute(
    home: &Home,
    registry: &Registry,
    project: &Project,
    opts: &KitOptions,
    out: &Path,
    users: &[(String, String)],
    requests: &[IssueRequest<'_>],
) -> Result<(), Error> {
    let (authority, _) = home.project_ca(&project.id)?;
    let signed = requests
        .par_iter()
        .map(|r| issuing::sign(&authority, r, &Fresh))
        .collect::<Result<Vec<_>, _>>()?;
    // The CRL lists earlier revocations only: nothing issued now is revoked.
    let (crl, _) = api::crl_pem(home, registry, &project.id)?;
    let mut ca_pem = authority.cert_pem()?;
    if project.self_managed_x509
        && let Some(customer) = ca::read_customer_cas(home.root(), &project.id)?
    {
        ca_pem.extend(customer.as_bytes());
    }
    let top = Dir::new(out);
    let user_dir = Dir::new(&out.join(USERS));
    let stage = |dir: &Dir, name: &str, bytes: &[u8], private: bool| {
        let path = out.join(name);
        let file = Path::new(name)
            .file_name()
            .map(Path::new)
            .unwrap_or(Path::new(name));
        let mode = if private { 0o600 } else { 0o644 };
        dir.stage(file, bytes, mode, true).map_err(Error::io(path))
    };
    let first = users
        .first()
        .map_or("users/<user>.pem", |(_, f)| f.as_str());
    let mut staged: Vec<Staged> = vec![
        stage(&top, "ca.pem", &ca_pem, false)?,
        stage(&top, "crl.pem", crl.as_bytes(), false)?,
        stage(
            &top,
            "mongod.conf",
            mongod_conf(out, &opts.hosts).as_bytes(),
            false,
        )?,
        stage(
            &top,
            "create-users.js",
            create_users_js(project).as_bytes(),
            false,
        )?,
        stage(
            &top,
            "README.txt",
            readme(out, project, first).as_bytes(),
            false,
        )?,
    ];
    let certs = home.with_ledger(|ledger| {
        issuing::commit(&authority, ledger, signed, |i, issued| match i {
            0 => stage(&top, "server.pem", issued.pem.as_bytes(), true),
            _ => stage(&user_dir, &users[i - 1].1, issued.pem.as_bytes(), true),
        })
    })?;
    staged.extend(certs.into_iter().map(|(_, file)| file));
    for file in staged {
        let target = file.target().to_path_buf();
        file.publish_or_keep(opts.force)
            .map_err(Error::io(target))?;
    }
    for dir in [&user_dir, &top] {
        dir.sync().map_err(Error::io(out))?;
    }
    Ok(())
}
