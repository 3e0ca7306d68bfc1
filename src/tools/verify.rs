//! `atlas-ca verify`: checks a PEM bundle the way a careful user would
//! before handing it to a driver: key and certificate belong together, the
//! project CA signed it, it is in force, not revoked, and names a user.

use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509, X509StoreContext};
use std::str::FromStr;
use time::OffsetDateTime;
use x509_cert::der::Decode;
use x509_cert::name::Name;

use crate::api::{Error, project, timestamp};
use crate::model::names::name_or_none;
use crate::model::{Project, X509Type};
use crate::pki::{asn1_time, serial_of};
use crate::store::ca;
use crate::store::{CertRecord, Holder, Home, Registry};

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Check {
    /// What was checked.
    pub name: &'static str,
    /// Whether it passed.
    pub passed: bool,
    /// What was found.
    pub detail: String,
}

const CHAIN: &str = "signed by the project CA";

fn check(name: &'static str, passed: bool, detail: impl Into<String>) -> Check {
    Check {
        name,
        passed,
        detail: detail.into(),
    }
}

/// Checks the bundle `pem` (certificate, then private key) against the
/// project `group_id` at `now`. Every check runs; look at `passed`.
pub fn verify_bundle(
    home: &Home,
    registry: &Registry,
    group_id: &str,
    pem: &[u8],
    now: OffsetDateTime,
) -> Result<Vec<Check>, Error> {
    let project = project(registry, group_id)?;
    let Ok(cert) = X509::from_pem(pem) else {
        return Ok(vec![check(
            "certificate",
            false,
            "no PEM certificate in the file",
        )]);
    };
    let record = home.with_existing_ledger(|ledger| match (ledger, serial_of(&cert)) {
        (Some(ledger), Some(serial)) => ledger.get(&project.id, serial),
        _ => Ok(None),
    })?;
    // Customer-managed X.509: the project's own CAs vouch for CUSTOMER users.
    let customer = if project.self_managed_x509 {
        ca::customer_cas(home.root(), &project.id)?
            .into_iter()
            .find(|ca| chains(&cert, ca).unwrap_or(false))
    } else {
        None
    };
    if let Some(customer) = customer {
        let chain = match lapsed(&customer, now)? {
            Some(why) => check(
                CHAIN,
                false,
                format!("the customer CA that signed it {why}"),
            ),
            None => check(
                CHAIN,
                true,
                "a customer CA of the project (customer-managed X.509)",
            ),
        };
        return Ok(vec![
            key_matches(&cert, pem),
            chain,
            in_force(&cert, now)?,
            check(
                "not revoked",
                true,
                "issued by a customer CA, whose revocations atlas-ca does not track",
            ),
            names_customer_user(project, &cert),
        ]);
    }
    Ok(vec![
        key_matches(&cert, pem),
        signed_by_project(home, project, &cert, now)?,
        in_force(&cert, now)?,
        not_revoked(record.as_ref()),
        names_subject(project, &cert, record.as_ref()),
    ])
}

fn key_matches(cert: &X509, pem: &[u8]) -> Check {
    const NAME: &str = "key matches certificate";
    // An empty passphrase: OpenSSL never prompts (an encrypted key fails).
    if pem.windows(9).any(|w| w == b"ENCRYPTED") {
        return check(
            NAME,
            false,
            "the private key is encrypted: not read (atlas-ca never prompts for a passphrase)",
        );
    }
    match PKey::private_key_from_pem_passphrase(pem, b"") {
        Ok(key) => {
            let matches = cert.public_key().is_ok_and(|p| p.public_eq(&key));
            check(
                NAME,
                matches,
                if matches {
                    "the private key is the certificate's"
                } else {
                    "the private key belongs to another certificate"
                },
            )
        }
        Err(_) => check(NAME, false, "no unencrypted private key in the file"),
    }
}

fn signed_by_project(
    home: &Home,
    project: &Project,
    cert: &X509,
    now: OffsetDateTime,
) -> Result<Check, Error> {
    let cas = ca::certificates(&home.ca_dir(&project.id))?;
    let signer = cas.iter().position(|ca| chains(cert, ca).unwrap_or(false));
    if let Some(why) = signer.map(|i| lapsed(&cas[i], now)).transpose()?.flatten() {
        return Ok(check(
            CHAIN,
            false,
            format!("the project CA that signed it {why}"),
        ));
    }
    Ok(match (cas.is_empty(), signer) {
        (true, _) => check(
            CHAIN,
            false,
            format!("project {} has no CA yet", project.id),
        ),
        (false, Some(0)) => check(
            CHAIN,
            true,
            format!("CN={}, OU=Atlas, O=MongoDB Inc", project.id),
        ),
        (false, Some(_)) => check(
            CHAIN,
            true,
            "a retired CA of the project (rotated out, kept for what it issued)",
        ),
        (false, None) => check(
            CHAIN,
            false,
            format!(
                "it was not signed by the CA of project {} in {}",
                project.id,
                home.root().display()
            ),
        ),
    })
}

/// Why the CA `ca` is not in force at `now` (`None` when it is): a chain
/// through a lapsed CA does not verify, as `openssl verify` says.
fn lapsed(ca: &X509, now: OffsetDateTime) -> Result<Option<String>, Error> {
    let now = asn1_time(now)?;
    let (nb, na) = (ca.not_before(), ca.not_after());
    Ok(if nb > now.as_ref() {
        Some(format!("is not valid before {nb}"))
    } else if na <= now.as_ref() {
        Some(format!("expired {na}"))
    } else {
        None
    })
}

fn in_force(cert: &X509, now: OffsetDateTime) -> Result<Check, Error> {
    let now = asn1_time(now)?;
    let (nb, na) = (cert.not_before(), cert.not_after());
    Ok(if nb > now.as_ref() {
        check("in force", false, format!("not valid before {nb}"))
    } else if na <= now.as_ref() {
        check("in force", false, format!("expired {na}"))
    } else {
        check("in force", true, format!("valid until {na}"))
    })
}

fn not_revoked(record: Option<&CertRecord>) -> Check {
    match record {
        None => check(
            "not revoked",
            false,
            "the ledger has no record of this certificate",
        ),
        Some(r) => match r.revoked_at {
            Some(at) => check("not revoked", false, format!("revoked {}", timestamp(at))),
            None => check(
                "not revoked",
                true,
                format!("serial {} is on record", r.serial),
            ),
        },
    }
}

/// The certificate's first CN, or empty.
fn common_name(cert: &X509) -> String {
    cert.subject_name()
        .entries_by_nid(Nid::COMMONNAME)
        .next()
        .and_then(|e| e.data().to_string().ok())
        .unwrap_or_default()
}

/// A customer CA's certificate names a CUSTOMER user: its whole subject,
/// as mongod derives the user name, is that user's distinguished name
/// (compared as names, so spacing and the case of attribute types do not
/// matter; every attribute and its value do).
fn names_customer_user(project: &Project, cert: &X509) -> Check {
    const NAME: &str = "names a CUSTOMER user";
    let subject = cert
        .to_der()
        .ok()
        .and_then(|der| x509_cert::Certificate::from_der(&der).ok())
        .map(|c| c.tbs_certificate().subject().to_string());
    let Some(subject) = subject else {
        return check(NAME, false, "the certificate's subject cannot be read");
    };
    let same = |username: &str| Name::from_str(username).is_ok_and(|n| n.to_string() == subject);
    let user = project
        .users(time::OffsetDateTime::now_utc())
        .find(|u| u.kind.x509() == Some(X509Type::Customer) && same(&u.username));
    match user {
        Some(u) => check(NAME, true, format!("{} in $external", u.username)),
        None => check(NAME, false, format!("no CUSTOMER user named {subject}")),
    }
}

fn names_subject(project: &Project, cert: &X509, record: Option<&CertRecord>) -> Check {
    if let Some(CertRecord {
        holder: Holder::Hosts(hosts) | Holder::Member(hosts),
        ..
    }) = record
    {
        return check(
            "names its subject",
            true,
            format!("server certificate for {hosts}"),
        );
    }
    const NAME: &str = "names a MANAGED user";
    let cn = common_name(cert);
    match project.user(&cn, time::OffsetDateTime::now_utc()) {
        Some(u) if u.is_managed_x509() => check(
            NAME,
            true,
            format!("CN={cn} is {} in $external", u.username),
        ),
        Some(u) => check(
            NAME,
            false,
            format!("user {cn} has x509Type {}", name_or_none(u.kind.x509())),
        ),
        None => check(NAME, false, format!("no database user named {cn:?}")),
    }
}

/// Whether `cert` verifies under `ca` alone, times aside (checked apart).
fn chains(cert: &X509, ca: &X509) -> Result<bool, openssl::error::ErrorStack> {
    let mut store = X509StoreBuilder::new()?;
    store.add_cert(ca.clone())?;
    store.set_flags(X509VerifyFlags::NO_CHECK_TIME)?;
    let store = store.build();
    let mut ctx = X509StoreContext::new()?;
    let chain: Stack<X509> = Stack::new()?;
    ctx.init(&store, cert, &chain, |c| c.verify_cert())
}
