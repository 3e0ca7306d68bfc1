//! `atlas-ca local-kit`: everything a local MongoDB needs for TLS and
//! Atlas-style X.509 users, in one directory: the CA, a server certificate
//! (or, for a replica set or sharded cluster, one member certificate per
//! process), one client certificate per MANAGED user, a CRL, the configs,
//! a `create-users.js` and a README with the exact commands.
//!
//! Planned, then executed: every check (Atlas's for each user, the server
//! certificate's, every output file) runs before anything is written; the
//! certificates are then signed, every file is staged, and the ledger rows
//! of the server and all users commit in one transaction before any file
//! is renamed into place. A refused kit leaves the ledger, the registry and
//! the output directory as they were.

use std::path::{Path, PathBuf};

use openssl::pkey::PKey;
use openssl::x509::X509;
use rayon::prelude::*;
use time::OffsetDateTime;

mod cluster;
mod files;
mod manifest;
mod quote;
pub(crate) mod topology;

use super::names::FileNames;
use super::outputs::{check_outputs, create_dirs, remove_made};
use crate::api::clusters;
use crate::api::project_state::KitCluster;
use crate::api::projects::fresh_project_id;
use crate::api::{
    self, CreateCert, Error, Invalid, ServerCert, plan_server_cert, project, validate_create,
};
use crate::issuing::{self, Fresh, IssueRequest};
use crate::model::{DatabaseUser, Project};
use crate::pki::custom::{Extras, Grant};
use crate::pki::{Host, KeyType, PKCS12_ITERATIONS, Profile, pkcs12_der};
use crate::store::files::{Dir, Refusal, Staged, claim_output_dir};
use crate::store::{Home, Registry, ca};
use cluster::{Settings, Text, cluster_texts, member_file, text};
use files::{create_users_js, mongod_conf, readme, renewal};
use quote::sh;
use topology::Topology;

/// What to put in the kit.
#[derive(Debug, Clone)]
pub struct KitOptions {
    /// The project.
    pub group_id: String,
    /// The directory to write.
    pub out: PathBuf,
    /// Hosts for every server and member certificate besides `localhost`
    /// and `127.0.0.1`.
    pub hosts: Vec<Host>,
    /// Lifetime of the certificates, in months.
    pub months: u32,
    /// Profile of the client certificates.
    pub profile: Profile,
    /// Subject key type of every certificate.
    pub key_type: KeyType,
    /// One mongod, a replica set or a sharded cluster.
    pub topology: Topology,
    /// Put each user's roles into MongoDB's roles extension, instead of
    /// creating the user in `create-users.js`.
    pub roles_in_cert: bool,
    /// Members carry MongoDB's cluster-membership extension with this
    /// value, and the configs match on it (a replica set or cluster only).
    pub membership: Option<String>,
    /// OCSP addresses for every certificate (authorityInfoAccess); the
    /// configs then turn on mongod's OCSP checks and stapling.
    pub ocsp: Vec<String>,
    /// Also write each user's PKCS#12 (`users/<user>.p12`, under this
    /// password) and the CA as DER (`ca.der`), for Java and .NET drivers.
    pub pkcs12_password: Option<String>,
    /// Replace an existing kit.
    pub force: bool,
    /// Plan only: every check runs, nothing is issued or written.
    pub dry_run: bool,
}

/// The subdirectory of the users' certificates.
const USERS: &str = "users";

/// What a kit holds, once written.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Written {
    /// The files written, relative to the kit's directory.
    pub files: Vec<String>,
    /// When the first of its certificates ends (the CRL lasts as long as
    /// the last): the date to renew the kit by.
    pub first_expiry: OffsetDateTime,
    /// The CRL's nextUpdate.
    pub crl_until: OffsetDateTime,
    /// Each process: what it is (`mongod`, its replica set, `mongos`), its
    /// `host:port` and its certificate file.
    pub processes: Vec<(String, String, String)>,
}

/// Writes the kit; returns what it wrote and when it needs renewing.
/// `progress` hears (certificates signed, certificates to sign).
pub fn local_kit(
    home: &Home,
    registry: &Registry,
    opts: &KitOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Written, Error> {
    let project = project(registry, &opts.group_id)?;
    let mut names = FileNames::default();
    let users: Vec<(String, String)> = project
        .users(time::OffsetDateTime::now_utc())
        // With customer-managed X.509 on, Atlas makes no user certificates.
        .filter(|u| u.is_managed_x509() && !project.self_managed_x509)
        .map(|u| (u.username.clone(), names.name("users/", &u.username, None)))
        .collect();
    let out = std::path::absolute(&opts.out).map_err(Error::io(&opts.out))?;
    let home_dir = std::path::absolute(home.root()).map_err(Error::io(home.root()))?;
    // Configs and scripts name both: they must be text.
    if let Some(path) = [&out, &home_dir].into_iter().find(|p| p.to_str().is_none()) {
        return Err(Invalid::Target {
            path: path.clone(),
            refusal: Refusal::NotUtf8,
        }
        .into());
    }
    let first = users
        .first()
        .map_or("users/<user>.pem", |(_, f)| f.as_str());
    // Plan: every server or member certificate, every user's, every file.
    let servers = servers(&project.id, opts);
    let ocsp = !opts.ocsp.is_empty();
    let mut texts = vec![text(
        "create-users.js",
        create_users_js(project, opts.roles_in_cert),
        false,
    )];
    if opts.membership.as_deref() == Some("") {
        return Err(Invalid::Topology("the membership extension's value is empty".into()).into());
    }
    if opts.topology == Topology::Standalone {
        if opts.membership.is_some() {
            return Err(Invalid::Topology(
                "membership by extension is for a replica set or a sharded cluster".into(),
            )
            .into());
        }
        texts.push(text(
            "mongod.conf",
            mongod_conf(&out, &opts.hosts, ocsp),
            false,
        ));
        texts.push(text(
            "README.txt",
            readme(&out, &home_dir, project, first),
            false,
        ));
    } else {
        let settings = Settings {
            membership: opts.membership.as_deref(),
            ocsp,
        };
        texts.extend(cluster_texts(
            &out,
            &home_dir,
            project,
            &opts.topology,
            first,
            settings,
        ));
    }
    if opts.pkcs12_password.is_some()
        && let Some(readme) = texts.iter_mut().find(|t| t.name == "README.txt")
    {
        readme.content.push_str(&java_note(&out));
    }
    let mut all: Vec<String> = ["ca.pem", "crl.pem"]
        .into_iter()
        .map(String::from)
        .chain(servers.iter().map(|(file, _)| file.clone()))
        .chain(texts.iter().map(|t| t.name.clone()))
        .chain(users.iter().map(|(_, n)| n.clone()))
        .chain(opts.pkcs12_password.iter().flat_map(|_| {
            users
                .iter()
                .map(|(_, n)| p12_name(n))
                .chain(["ca.der".into()])
        }))
        .collect();
    all.push(manifest::MANIFEST.into());
    texts.push(text(manifest::MANIFEST, manifest::manifest(&all), false));
    let earlier = if opts.force {
        manifest::earlier(&out)
    } else {
        Vec::new()
    };
    let client_requests = client_requests(project, opts, &users);
    let mut requests = Vec::new();
    for (_, server) in &servers {
        let mut request = plan_server_cert(registry, server)?;
        request.member = opts.topology != Topology::Standalone;
        requests.push(request);
    }
    for req in &client_requests {
        requests.push(validate_create(home, registry, req, 1)?);
    }
    // The CRL lasts as long as the longest-lived certificate: mongod
    // refuses every client once its CRLFile's nextUpdate has passed.
    let ends = requests.iter().map(|r| r.validity.not_after);
    let (Some(first_expiry), Some(crl_until)) = (ends.clone().min(), ends.max()) else {
        return Err(Invalid::NothingToIssue.into());
    };
    if let Some(readme) = texts.iter_mut().find(|t| t.name == "README.txt") {
        readme
            .content
            .push_str(&renewal(&out, &home_dir, &opts.group_id, first_expiry));
    }
    check_outputs(&out, &all, opts.force)?;
    if opts.dry_run {
        return Ok(Written {
            files: all,
            first_expiry,
            crl_until,
            processes: processes(&opts.topology),
        });
    }
    // Execute.
    let mut created = create_dirs(&out.join(USERS))?;
    let _claim = match claim_output_dir(&out) {
        Ok(claim) => claim,
        Err(e) => {
            remove_made(&created);
            return Err(Error::io(&out)(e));
        }
    };
    if opts.topology != Topology::Standalone {
        created.extend(create_dirs(&out.join(MEMBERS))?);
    }
    let kit = Kit {
        out: &out,
        users: &users,
        servers: &servers,
        texts: &texts,
        progress,
    };
    // The home lists the kit as a cluster of the project while its file
    // list is there; a kit that is not written is not listed.
    let name = clusters::cluster_name(
        &out.file_name()
            .map_or("kit".into(), |n| n.to_string_lossy()),
    );
    let id = fresh_project_id(registry, OffsetDateTime::now_utc())?;
    let recorded = clusters::record(
        home,
        &project.id,
        &name,
        as_cluster(&out, &opts.topology, id),
    );
    let written = recorded.and_then(|(name, before)| {
        execute(home, registry, project, opts, &kit, &requests, crl_until).inspect_err(|_| {
            // The kit's own error is the one to report; a record that
            // cannot be put back names a kit not on disk, which no list shows.
            let _ = clusters::restore(home, &project.id, &name, before.clone());
        })
    });
    if written.is_err() {
        // Directories this run made, now empty again, go too.
        remove_made(&created);
    }
    written?;
    manifest::remove_stale(&out, &earlier, &all)?;
    Ok(Written {
        files: all,
        first_expiry,
        crl_until,
        processes: processes(&opts.topology),
    })
}

/// The kit's processes as people read them: role, address, certificate.
fn processes(topology: &Topology) -> Vec<(String, String, String)> {
    if *topology == Topology::Standalone {
        // The standalone kit's mongod.conf listens on 27017.
        return vec![(
            "mongod".into(),
            "localhost:27017".into(),
            "server.pem".into(),
        )];
    }
    let mut rows: Vec<(String, String, String)> = topology
        .sets()
        .into_iter()
        .flat_map(|set| {
            set.members.iter().map(|m| {
                (
                    format!("mongod ({})", set.name),
                    m.address(),
                    member_file(m),
                )
            })
        })
        .collect();
    if let Topology::Sharded { mongos, .. } = topology {
        rows.push(("mongos".into(), mongos.address(), member_file(mongos)));
    }
    rows
}

/// The kit as its project's cluster: what a client connects to.
fn as_cluster(out: &Path, topology: &Topology, id: String) -> KitCluster {
    let (cluster_type, hosts, replica_set) = match topology {
        // The standalone kit's mongod.conf listens on 27017.
        Topology::Standalone => ("STANDALONE", vec!["localhost:27017".to_string()], None),
        Topology::ReplicaSet(set) => (
            "REPLICASET",
            set.members.iter().map(|m| m.address()).collect(),
            Some(set.name.clone()),
        ),
        Topology::Sharded { mongos, .. } => ("SHARDED", vec![mongos.address()], None),
    };
    KitCluster {
        cluster_type: cluster_type.into(),
        hosts,
        replica_set,
        manifest: out.join(manifest::MANIFEST),
        created: api::timestamp(OffsetDateTime::now_utc()),
        id,
    }
}

/// The subdirectory of the member certificates.
const MEMBERS: &str = "members";

/// What a planned kit writes, by file name.
struct Kit<'a> {
    out: &'a Path,
    users: &'a [(String, String)],
    servers: &'a [(String, ServerCert)],
    texts: &'a [Text],
    /// Hears (certificates signed, certificates to sign).
    progress: &'a (dyn Fn(usize, usize) + Sync),
}

/// The server certificate (`server.pem`) of a lone mongod, or one member
/// certificate per process: its own host first (the CN), then
/// `localhost`, `127.0.0.1` and the extra hosts.
fn servers(group_id: &str, opts: &KitOptions) -> Vec<(String, ServerCert)> {
    let cert = |hosts| ServerCert {
        group_id: group_id.to_string(),
        hosts,
        months: opts.months,
        issued_at: None,
        key_type: opts.key_type,
        extras: Extras {
            cluster_membership: opts.membership.clone(),
            ocsp: opts.ocsp.clone(),
            ..Extras::default()
        },
    };
    if opts.topology == Topology::Standalone {
        return vec![("server.pem".into(), cert(server_hosts(&[], &opts.hosts)))];
    }
    opts.topology
        .nodes()
        .into_iter()
        .map(|node| {
            (
                member_file(node),
                cert(server_hosts(std::slice::from_ref(&node.host), &opts.hosts)),
            )
        })
        .collect()
}

/// `first`, `localhost`, `127.0.0.1`, then `extra`, without repeats.
fn server_hosts(first: &[Host], extra: &[Host]) -> Vec<Host> {
    let mut hosts: Vec<Host> = Vec::new();
    let local = [
        Host::Dns("localhost".into()),
        Host::Ip([127, 0, 0, 1].into()),
    ];
    for h in first.iter().chain(&local).chain(extra) {
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
    // Not clamped: a lifetime over Atlas's 24 months is refused for the
    // users' certificates, as `certs create` refuses it.
    let months = i64::from(opts.months);
    users
        .iter()
        .map(|(username, _)| {
            let mut req = CreateCert::new(&project.id, username);
            req.months_until_expiration = months;
            req.profile = opts.profile;
            req.key_type = opts.key_type;
            req.extras.ocsp = opts.ocsp.clone();
            if opts.roles_in_cert {
                req.extras.mongo_roles = project
                    .user(username, time::OffsetDateTime::now_utc())
                    .map(grants)
                    .unwrap_or_default();
            }
            req
        })
        .collect()
}

/// How Java and .NET drivers load the kit's PKCS#12 files and CA.
fn java_note(out: &Path) -> String {
    let q = |f: &str| sh(&out.join(f).display().to_string());
    format!(
        "\nJava and .NET: users/<user>.p12 holds each user's certificate, key and the CA\n\
         (the password atlas-ca printed, or the one given); ca.der is the CA for a truststore:\n\
         \x20  keytool -importcert -noprompt -alias atlas-ca -file {} \\\n\
         \x20    -keystore truststore.p12 -storetype PKCS12 -storepass changeit\n\
         then -Djavax.net.ssl.keyStore=users/<user>.p12 -Djavax.net.ssl.keyStoreType=PKCS12\n\
         and -Djavax.net.ssl.trustStore=truststore.p12.\n",
        q("ca.der")
    )
}

/// `users/<user>.p12` beside `users/<user>.pem`.
fn p12_name(pem: &str) -> String {
    format!("{}.p12", pem.strip_suffix(".pem").unwrap_or(pem))
}

/// A user's roles as MongoDB role grants: those on a whole database (a
/// collection-scoped role has no built-in equivalent).
fn grants(user: &DatabaseUser) -> Vec<Grant> {
    user.roles
        .iter()
        .filter(|r| r.is_database_wide())
        .map(|r| Grant {
            role: r.role_name.clone(),
            db: r.database_name.clone(),
        })
        .collect()
}

/// Signs, stages every file, commits every row at once, then publishes.
fn execute(
    home: &Home,
    registry: &Registry,
    project: &Project,
    opts: &KitOptions,
    kit: &Kit<'_>,
    requests: &[IssueRequest<'_>],
    crl_until: OffsetDateTime,
) -> Result<(), Error> {
    let (authority, _) = home.project_ca(&project.id)?;
    let done = std::sync::atomic::AtomicUsize::new(0);
    let signed = requests
        .par_iter()
        .map(|r| {
            let signed = issuing::sign(&authority, r, &Fresh);
            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            (kit.progress)(n, requests.len());
            signed
        })
        .collect::<Result<Vec<_>, _>>()?;
    // The CRL lists earlier revocations only: nothing issued now is revoked.
    let crl = api::crl_pem(
        home,
        registry,
        &project.id,
        Some(crl_until),
        api::CrlScope::Current,
    )?;
    let mut ca_pem = authority.cert_pem()?;
    if project.self_managed_x509
        && let Some(customer) = ca::read_customer_cas(home.root(), &project.id)?
    {
        ca_pem.extend(customer.as_bytes());
    }
    let out = kit.out;
    let dirs = [
        Dir::new(out, home.notes()),
        Dir::new(&out.join(USERS), home.notes()),
        Dir::new(&out.join(MEMBERS), home.notes()),
    ];
    let stage = |name: &str, bytes: &[u8], mode: u32| {
        let path = out.join(name);
        let dir = match name.split_once('/') {
            Some((USERS, _)) => &dirs[1],
            Some((MEMBERS, _)) => &dirs[2],
            _ => &dirs[0],
        };
        let file = Path::new(name)
            .file_name()
            .map_or(Path::new(name), Path::new);
        dir.stage(file, bytes, mode, true).map_err(Error::io(path))
    };
    let mut staged: Vec<Staged> = vec![
        stage("ca.pem", &ca_pem, 0o644)?,
        stage("crl.pem", crl.as_bytes(), 0o644)?,
    ];
    for t in kit.texts {
        let mode = if t.executable { 0o755 } else { 0o644 };
        staged.push(stage(&t.name, t.content.as_bytes(), mode)?);
    }
    let servers = kit.servers.len();
    if opts.pkcs12_password.is_some() {
        staged.push(stage("ca.der", &authority.cert().to_der()?, 0o644)?);
    }
    let chain = [authority.cert().clone()];
    let certs = home.with_ledger(|ledger| {
        issuing::commit(&authority, ledger, signed, |i, issued| {
            let (name, user) = match i.checked_sub(servers) {
                None => (&kit.servers[i].0, None),
                Some(u) => (&kit.users[u].1, Some(&kit.users[u].0)),
            };
            let mut files = vec![stage(name, issued.pem.as_bytes(), 0o600)?];
            if let (Some(password), Some(user)) = (&opts.pkcs12_password, user) {
                let pem = issued.pem.as_bytes();
                let der = X509::from_pem(pem)
                    .and_then(|cert| {
                        // Unencrypted PKCS#8: the empty passphrase is never asked for.
                        let key = PKey::private_key_from_pem_passphrase(pem, b"")?;
                        // A friendly name is a BMPString: a user name beyond
                        // U+FFFF (an emoji) goes without one.
                        let friendly = Some(user.as_str())
                            .filter(|u| u.chars().all(|ch| u32::from(ch) <= 0xffff));
                        pkcs12_der(&key, &cert, &chain, friendly, password, PKCS12_ITERATIONS)
                    })
                    .map_err(Error::from)?;
                files.push(stage(&p12_name(name), &der, 0o600)?);
            }
            Ok::<_, Error>(files)
        })
    })?;
    staged.extend(certs.into_iter().flat_map(|(_, files)| files));
    for file in staged {
        let target = file.target().to_path_buf();
        file.publish_or_keep(opts.force)
            .map_err(Error::io(target))?;
    }
    for dir in dirs.iter().rev() {
        if dir.path().exists() {
            dir.sync().map_err(Error::io(out))?;
        }
    }
    Ok(())
}
