//! `atlas-ca local-kit`: everything a local MongoDB needs for TLS and
//! Atlas-style X.509 users, in one directory: the CA, a server certificate,
//! one client certificate per MANAGED user, a CRL, a `mongod.conf`
//! fragment, a `create-users.js` and a README with the exact commands.

use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use super::kit_files::{create_users_js, mongod_conf, readme};
use super::names::FileNames;
use crate::api::{self, CreateCert, Created, Error, Invalid, MAX_MONTHS, ServerCert, project};
use crate::issuing::Fresh;
use crate::pki::{Host, KeyType, Profile};
use crate::store::files::{write_private, write_public};
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
    if !opts.force
        && let Some(existing) = all.iter().find(|f| opts.out.join(f).exists())
    {
        return Err(Invalid::Exists {
            path: opts.out.join(existing),
            dir: opts.out.clone(),
        }
        .into());
    }
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(opts.out.join("users"))
        .map_err(Error::io(&opts.out))?;
    let out = std::path::absolute(&opts.out).map_err(Error::io(&opts.out))?;
    let issued = issue(home, registry, project, opts, &users)?;
    write_all(&out, &opts.hosts, project, &issued, &users)?;
    Ok(all)
}

/// What the kit issues: the server certificate, one per user, the CRL and
/// the CA certificate.
struct Issued {
    server: Created,
    clients: Vec<Created>,
    crl: String,
    ca_pem: Vec<u8>,
}

fn issue(
    home: &Home,
    registry: &Registry,
    project: &Project,
    opts: &KitOptions,
    users: &[(String, String)],
) -> Result<Issued, Error> {
    let mut hosts = vec![
        Host::Dns("localhost".into()),
        Host::Ip([127, 0, 0, 1].into()),
    ];
    for h in &opts.hosts {
        if !hosts.contains(h) {
            hosts.push(h.clone());
        }
    }
    let server = api::server_cert(
        home,
        registry,
        &ServerCert {
            group_id: project.id.clone(),
            hosts,
            months: opts.months,
            issued_at: None,
            key_type: opts.key_type,
        },
        &Fresh,
    )?;
    // Lossless: MAX_MONTHS is 24.
    let client_months = i64::from(opts.months).min(MAX_MONTHS);
    let mut clients = Vec::with_capacity(users.len());
    for (username, _) in users {
        let mut req = CreateCert::new(&project.id, username);
        req.months_until_expiration = client_months;
        req.profile = opts.profile;
        req.key_type = opts.key_type;
        clients.push(api::create_cert(home, registry, &req)?);
    }
    let (crl, _) = api::crl_pem(home, registry, &project.id)?;
    let (ca, _) = home.project_ca(&project.id)?;
    let mut ca_pem = ca.cert_pem()?;
    if project.self_managed_x509
        && let Some(customer) = ca::read_customer_cas(home.root(), &project.id)?
    {
        ca_pem.extend(customer.as_bytes());
    }
    Ok(Issued {
        server,
        clients,
        crl,
        ca_pem,
    })
}

fn write_all(
    out: &Path,
    hosts: &[Host],
    project: &Project,
    issued: &Issued,
    users: &[(String, String)],
) -> Result<(), Error> {
    let write = |name: &str, bytes: &[u8], private: bool| {
        let path = out.join(name);
        let written = if private {
            write_private(&path, bytes)
        } else {
            write_public(&path, bytes)
        };
        written.map_err(Error::io(&path))
    };
    write("ca.pem", &issued.ca_pem, false)?;
    write("server.pem", issued.server.pem.as_bytes(), true)?;
    for (created, (_, file)) in issued.clients.iter().zip(users) {
        write(file, created.pem.as_bytes(), true)?;
    }
    write("crl.pem", issued.crl.as_bytes(), false)?;
    write("mongod.conf", mongod_conf(out, hosts).as_bytes(), false)?;
    write(
        "create-users.js",
        create_users_js(project).as_bytes(),
        false,
    )?;
    let first = users
        .first()
        .map_or("users/<user>.pem", |(_, f)| f.as_str());
    write("README.txt", readme(out, project, first).as_bytes(), false)
}
