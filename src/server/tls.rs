//! HTTPS for `serve --tls`: the real Atlas API is HTTPS only, and create
//! bodies carry private keys. The server certificate is either the user's
//! (`--tls-cert FILE`, certificate then key) or one issued at start for the
//! listen host, `localhost` and `127.0.0.1` by atlas-ca's own API CA
//! (`<home>/api-ca/`, what `atlas-ca serve-ca` prints for clients to
//! trust), recorded in the ledger like every certificate atlas-ca issues.

use std::net::SocketAddr;
use std::path::Path;

use openssl::pkey::{PKey, Private};
use openssl::ssl::{SslAcceptor, SslMethod};
use openssl::x509::X509;
use time::OffsetDateTime;

use crate::api::Error;
use crate::issuing::{self, Fresh, IssueRequest};
use crate::pki::{Host, KeyType, Profile, Subject, Validity};
use crate::store::{Home, ca};

/// The pseudo-project under which the ledger records API server
/// certificates.
const LEDGER_PROJECT: &str = "local-api";
/// Lifetime of an issued API server certificate, in months.
const MONTHS: u32 = 12;

/// The TLS acceptor for `listen`: with the certificate and key in
/// `tls_cert`, or with a fresh certificate from the API CA.
pub(super) fn acceptor(
    home: &Home,
    listen: SocketAddr,
    tls_cert: Option<&Path>,
) -> Result<SslAcceptor, Error> {
    let (cert, key) = match tls_cert {
        Some(path) => read_pair(home, path)?,
        None => issue(home, listen)?,
    };
    let mut builder = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())?;
    builder.set_certificate(&cert)?;
    builder.set_private_key(&key)?;
    builder.check_private_key()?;
    Ok(builder.build())
}

/// The first certificate and the private key of a PEM file.
fn read_pair(home: &Home, path: &Path) -> Result<(X509, PKey<Private>), Error> {
    let pem = crate::store::files::read_input(path).map_err(Error::io(path))?;
    let cert = X509::from_pem(&pem)?;
    let key = ca::read_key(path, home.passphrase(), ca::KeyFile::Tls)?;
    Ok((cert, key))
}

/// A server certificate for the listen host, `localhost` and `127.0.0.1`,
/// issued (and recorded) by the API CA.
fn issue(home: &Home, listen: SocketAddr) -> Result<(X509, PKey<Private>), Error> {
    let (authority, created) = home.api_ca()?;
    if created {
        eprintln!(
            "atlas-ca: created the local API CA in {}; clients trust it with: atlas-ca serve-ca",
            home.root().join("api-ca").display()
        );
    }
    let mut hosts = vec![
        Host::Dns("localhost".into()),
        Host::Ip([127, 0, 0, 1].into()),
    ];
    let ip = Host::Ip(listen.ip());
    if !listen.ip().is_unspecified() && !hosts.contains(&ip) {
        hosts.push(ip);
    }
    let validity =
        Validity::atlas(OffsetDateTime::now_utc(), MONTHS).map_err(crate::api::Invalid::Clock)?;
    let request = IssueRequest {
        project_id: LEDGER_PROJECT,
        subject: Subject::Server(&hosts),
        validity,
        limit: None,
        profile: Profile::Strict,
        key_type: KeyType::EcP256,
        extras: Default::default(),
        member: false,
    };
    let signed = issuing::sign(&authority, &request, &Fresh)?;
    let (issued, ()) = home.with_ledger(|ledger| {
        issuing::commit_one(&authority, ledger, signed, |_| Ok::<(), Error>(()))
    })?;
    let cert = X509::from_pem(issued.pem.as_bytes())?;
    let key = PKey::private_key_from_pem(issued.pem.as_bytes())?;
    Ok((cert, key))
}

/// The API CA's certificate (created on first use), for clients to trust;
/// an existing CA's key is not read, so no passphrase is needed.
pub fn api_ca_pem(home: &Home) -> Result<Vec<u8>, Error> {
    if let Some(cert) = ca::api_ca_cert(home.root())? {
        return Ok(cert.to_pem()?);
    }
    let (authority, _) = home.api_ca()?;
    Ok(authority.cert_pem()?)
}
