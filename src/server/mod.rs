//! `atlas-ca serve`: the Atlas Administration API endpoints for database
//! users and their certificates, on a local address, with Atlas's Digest
//! authentication, so that scripts, SDKs and the Atlas CLI run unchanged.
//!
//! The server shares the home (registry, CAs, ledger) with the CLI. The
//! registry is re-read when its file changes; one that no longer parses
//! leaves the last good one in force. Key generation runs on blocking
//! threads, never on the async workers.

mod access;
mod accounts;
mod call;
mod digest;
mod keys;
mod listen;
mod manage;
mod oauth;
mod ocsp;
mod project;
mod rate;
mod registry_cache;
mod respond;
mod routes;
mod state;
mod tls;
mod tokens;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::api::{Error, Responder};
use crate::issuing::KeyPool;
use crate::pki::KeyType;
use crate::store::Home;
use crate::tools::ocsp_dir;

use crate::model::escape_hidden;
pub use digest::DigestAuth;
use registry_cache::RegistryCache;
use state::AppState;
pub use tls::api_ca_pem;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// How long a Digest nonce stays valid.
    pub nonce_ttl: Duration,
    /// How many RSA-4096 keys to keep ready (0: none).
    pub key_pool: usize,
    /// How long a client may take to send its request headers, and its body.
    pub client_timeout: Duration,
    /// How long a service account's bearer token lives.
    pub token_ttl: Duration,
    /// HTTPS, and with which certificate.
    pub tls: Option<Tls>,
    /// The subject key type of the certificates it creates: Atlas's
    /// RSA-4096 unless asked otherwise (not in Atlas: for fast local tests).
    pub key_type: KeyType,
    /// `pki apply` output directories whose CAs the OCSP responder answers
    /// for too, from their CRLs.
    pub pki_dirs: Vec<std::path::PathBuf>,
    /// Sign those answers with a delegated responder where there is one.
    pub ocsp_delegate: bool,
    /// From an OCSP answer's thisUpdate to its nextUpdate.
    pub ocsp_validity: Duration,
}

/// Where `serve --tls` gets its certificate.
#[derive(Debug, Clone)]
pub enum Tls {
    /// Issued at start by atlas-ca's local API CA.
    Issued,
    /// The certificate and key in this PEM file.
    File(std::path::PathBuf),
}

/// Runs the server until SIGINT or SIGTERM, then finishes the requests in
/// flight. Prints the base URL as the first line on stdout.
pub fn serve(home: Home, options: ServeOptions) -> Result<(), Error> {
    let registry = RegistryCache::new(home.registry_path())?;
    warn_if_locked_out(&home, &registry.current());
    let first_registry = registry.current();
    let mut fixed = Vec::new();
    for dir in &options.pki_dirs {
        let (cas, notes) = ocsp_dir::load(dir, options.ocsp_delegate)?;
        for note in notes {
            eprintln!("atlas-ca: {}", escape_hidden(&note));
        }
        eprintln!(
            "atlas-ca: OCSP for {} CA(s) of {}",
            cas.len(),
            escape_hidden(&dir.display().to_string())
        );
        fixed.extend(cas);
    }
    let validity = time::Duration::try_from(options.ocsp_validity)
        .map_err(|e| Error::Internal(format!("OCSP validity: {e}")))?;
    let digest = digest::DigestAuth::new(options.nonce_ttl)?;
    let notes = home.notes().clone();
    let state = Arc::new(AppState {
        home,
        registry,
        digest,
        rate: rate::RateWindow::default(),
        keys: (options.key_pool > 0)
            .then(|| {
                // Half the cores fill the pool; the rest stay free for requests.
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
                KeyPool::start(options.key_pool, cores / 2, &notes)
            })
            .transpose()
            .map_err(|e| Error::System {
                what: "starting the key pool's threads".into(),
                source: std::io::Error::other(e.to_string()),
            })?,
        client_timeout: options.client_timeout,
        tokens: tokens::Tokens::new(options.token_ttl),
        scheme: if options.tls.is_some() {
            "https"
        } else {
            "http"
        },
        key_type: options.key_type,
        ocsp: Responder { fixed, validity },
    });
    // The port first: a busy one refuses the run before the TLS
    // certificate below is issued and recorded.
    let busy = |e: &std::io::Error| e.kind() == std::io::ErrorKind::AddrInUse;
    let bound = std::net::TcpListener::bind(options.listen)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|e| {
            let what = if busy(&e) {
                format!(
                    "listening on {} (the port is in use; --listen 127.0.0.1:0 picks a free one)",
                    options.listen
                )
            } else {
                format!("listening on {}", options.listen)
            };
            Error::System { what, source: e }
        })?;
    let acceptor = match &options.tls {
        None => None,
        Some(Tls::Issued) => Some(tls::acceptor(&state.home, options.listen, None)?),
        Some(Tls::File(path)) => Some(tls::acceptor(&state.home, options.listen, Some(path))?),
    };
    let scheme = state.scheme;
    let max_connections = listen::connection_cap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::system("starting the async runtime"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(bound)
            .map_err(Error::system(format!("listening on {}", options.listen)))?;
        let addr = listener
            .local_addr()
            .map_err(Error::system("reading the listening socket's address"))?;
        // The handlers before the address is announced: a SIGTERM sent as
        // soon as a client reads it still stops the server gracefully.
        let stop = shutdown_signal().map_err(Error::system("installing signal handlers"))?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{scheme}://{addr}")
            .and_then(|()| out.flush())
            .map_err(Error::system("writing to stdout"))?;
        drop(out);
        eprintln!("atlas-ca: serving the Atlas API on {scheme}://{addr}/api/atlas/{{v1.0,v2}}");
        eprintln!("atlas-ca: answering OCSP on {scheme}://{addr}/ocsp");
        if let Some(line) = try_line(&first_registry, scheme, addr) {
            eprintln!("atlas-ca: try: {line}");
        }
        let app = routes::router(Arc::clone(&state));
        listen::serve(
            listener,
            app,
            state.client_timeout,
            max_connections,
            acceptor,
            stop,
        )
        .await;
        eprintln!("atlas-ca: stopped");
        Ok(())
    })
}

/// A ready-to-paste curl line with the registry's first API key that has
/// a project role, listing that project's users; only on a terminal, so
/// that a private key never lands in a log file.
fn try_line(
    registry: &crate::store::Registry,
    scheme: &str,
    addr: std::net::SocketAddr,
) -> Option<String> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    // Keys a shell's single quotes can hold as they are.
    let plain = |s: &str| !s.contains('\'') && !s.chars().any(crate::model::is_hidden);
    // A role that may list the project's users: Owner, an admin, Read Only.
    let reads = |r: &crate::model::KeyRole| {
        use crate::model::KeyRoleName::*;
        matches!(
            r.role_name,
            GroupOwner | GroupDatabaseAccessAdmin | GroupReadOnly | GroupStreamProcessingOwner
        )
    };
    let (key, gid) = registry.api_keys.iter().find_map(|k| {
        let gid = k
            .roles
            .iter()
            .filter(|r| reads(r))
            .find_map(|r| r.group_id.clone())?;
        (plain(&k.id) && plain(&k.secret)).then_some((k, gid))
    })?;
    let tls = if scheme == "https" {
        "--cacert <(atlas-ca serve-ca) "
    } else {
        ""
    };
    Some(format!(
        "curl {tls}--digest -u '{}:{}' -H 'Accept: application/vnd.atlas.2023-01-01+json' {scheme}://{addr}/api/atlas/v2/groups/{gid}/databaseUsers",
        key.id, key.secret
    ))
}

/// Says at start when no API key or service account has a role, so that
/// every request would be answered 401, and how to make one.
fn warn_if_locked_out(home: &Home, registry: &crate::store::Registry) {
    let keys = registry.api_keys.iter().any(|k| !k.roles.is_empty());
    let accounts = registry
        .service_accounts
        .iter()
        .any(|a| !a.roles.is_empty());
    if !keys && !accounts {
        eprintln!(
            "atlas-ca: warning: no API key or service account in {} has a role, so every \
             request will be refused (401). Make one, then use its keys with curl --digest:\n  \
             atlas-ca --home '{}' projects apiKeys create --desc local --role GROUP_OWNER",
            escape_hidden(&home.registry_path().display().to_string()),
            escape_hidden(&home.root().display().to_string())
        );
    }
}

/// Installs the SIGINT and SIGTERM handlers now; the future completes
/// when either signal arrives.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
    })
}
