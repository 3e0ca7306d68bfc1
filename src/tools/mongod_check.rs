//! `verify --mongod`: what makes mongod (or a macOS client) refuse a set
//! of certificates that looks fine, over one file or a directory (a kit,
//! a `pki apply` output). Members are the certificates a config names as
//! `clusterFile` (or, without configs, those carrying MongoDB's
//! membership extension); servers those with serverAuth or a config's
//! `certificateKeyFile`; clients the other leaves with clientAuth. Each
//! finding says what mongod would do and how to fix it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use openssl::nid::Nid;
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::{X509, X509Crl, X509StoreContext};
use time::OffsetDateTime;

use super::pem_dir::{files_ending, pem_blocks};
use super::verify::Check;
use crate::api::Error;
use crate::pki::{mongod_name, time_of};
use crate::store::files::read_input;

/// MongoDB's cluster-membership extension.
const MEMBERSHIP_OID: &str = "1.3.6.1.4.1.34601.2.1.2";
/// The longest server certificate lifetime macOS clients accept.
const MAX_SERVER_DAYS: i64 = 825;

/// One certificate file: its leaf (the first certificate) and the rest.
struct CertFile {
    path: PathBuf,
    leaf: X509,
}

/// What one mongod or mongos config names.
#[derive(Default)]
struct Config {
    path: PathBuf,
    options: BTreeMap<String, String>,
}

impl Config {
    /// An option naming a file, resolved against the config's directory
    /// (mongod resolves a relative one against its working directory;
    /// kits write absolute paths).
    fn file(&self, key: &str) -> Option<PathBuf> {
        let value = self.options.get(key)?;
        let dir = self.path.parent().unwrap_or(Path::new("."));
        Some(dir.join(value))
    }
}

/// Every check over `path` (a file or a directory) at `now`.
pub fn mongod_checks(path: &Path, now: OffsetDateTime) -> Result<Vec<Check>, Error> {
    // Absolute, as configs name their files.
    let path = &std::path::absolute(path).map_err(Error::io(path))?;
    let (pems, confs) = if path.is_dir() {
        (
            files_ending(path, true, &["pem", "crt", "crl"])?,
            files_ending(path, true, &["conf"])?,
        )
    } else {
        (vec![path.to_path_buf()], Vec::new())
    };
    let mut certs = Vec::new();
    let mut crls = Vec::new();
    for file in &pems {
        let bytes = read_input(file).map_err(Error::io(file))?;
        for block in pem_blocks(&bytes) {
            match block.label {
                "CERTIFICATE" if !certs.iter().any(|c: &CertFile| &c.path == file) => {
                    if let Ok(leaf) = X509::from_pem(block.text) {
                        certs.push(CertFile {
                            path: file.clone(),
                            leaf,
                        });
                    }
                }
                "X509 CRL" => {
                    if let Ok(crl) = X509Crl::from_pem(block.text) {
                        crls.push((file.clone(), crl));
                    }
                }
                _ => {}
            }
        }
    }
    let configs = confs
        .iter()
        .map(|c| read_config(c))
        .collect::<Result<Vec<_>, _>>()?;
    let leaves: Vec<&CertFile> = certs.iter().filter(|c| !is_ca(&c.leaf)).collect();
    // Without configs, members are known by the extension itself.
    let by_extension = configs.is_empty()
        || configs.iter().any(|c| {
            c.options
                .contains_key("net.tls.clusterAuthX509.extensionValue")
        });
    let member_files: Vec<PathBuf> = configs
        .iter()
        .filter_map(|c| c.file("net.tls.clusterFile"))
        .map(|p| canonical(&p))
        .collect();
    let is_member = |c: &CertFile| {
        if configs.is_empty() {
            extension_der(&c.leaf, MEMBERSHIP_OID).is_some()
        } else {
            member_files.contains(&canonical(&c.path))
        }
    };
    let members: Vec<&CertFile> = leaves.iter().copied().filter(|c| is_member(c)).collect();
    let clients: Vec<&CertFile> = leaves
        .iter()
        .copied()
        .filter(|c| {
            !is_member(c) && has_eku(&c.leaf, "clientAuth") && !has_eku(&c.leaf, "serverAuth")
        })
        .collect();
    let mut checks = Vec::new();
    // Files as the user sees them: relative to the directory named, or
    // the one file's own name.
    let shown = |p: &Path| {
        let rel = if path.is_dir() {
            p.strip_prefix(path).unwrap_or(p)
        } else {
            p.file_name().map_or(p, Path::new)
        };
        rel.display().to_string()
    };
    // Members: O, OU and DC agree, serverAuth and clientAuth.
    let first_attrs = members.first().map(|m| member_attributes(&m.leaf));
    if !members.is_empty() && !by_extension {
        let differ: Vec<String> = members
            .iter()
            .filter(|m| Some(member_attributes(&m.leaf)) != first_attrs)
            .map(|m| shown(&m.path))
            .collect();
        let empty = first_attrs
            .as_ref()
            .is_some_and(|a| a.iter().all(String::is_empty));
        checks.push(check(
            "members share O, OU, DC",
            differ.is_empty() && !empty,
            if empty {
                "the members have no O, OU or DC: mongod cannot tell members by name; give them one, or use net.tls.clusterAuthX509.extensionValue".to_string()
            } else if differ.is_empty() {
                format!("{} member certificate(s) agree", members.len())
            } else {
                format!(
                    "{} differ from {}: mongod refuses them as cluster members; give every member the same O, OU and DC",
                    differ.join(", "),
                    shown(&members[0].path)
                )
            },
        ));
    }
    for m in &members {
        let both = has_eku(&m.leaf, "serverAuth") && has_eku(&m.leaf, "clientAuth")
            || !has_any_eku(&m.leaf);
        checks.push(check(
            "member EKU",
            both,
            if both {
                format!("{}: serverAuth and clientAuth", shown(&m.path))
            } else {
                format!(
                    "{}: a member is a server to clients and a client to other members; mongod's handshakes fail without both: add extendedKeyUsage serverAuth, clientAuth",
                    shown(&m.path)
                )
            },
        ));
    }
    // Clients: not taken for members, and the user name they log in as.
    for c in &clients {
        let name = mongod_name(&c.leaf.subject_name().to_der()?)?;
        let attrs = member_attributes(&c.leaf);
        let looks_member = !by_extension
            && first_attrs
                .as_ref()
                .is_some_and(|m| *m == attrs && m.iter().any(|a| !a.is_empty()));
        checks.push(check(
            "client user name",
            !looks_member,
            if looks_member {
                format!(
                    "{}: its O, OU and DC are the members': mongod treats it as a cluster member, not as the user {name}; change its O, OU or DC",
                    shown(&c.path)
                )
            } else {
                format!("{}: $external user {name}", shown(&c.path))
            },
        ));
    }
    // Servers: macOS's 825 days.
    let servers = configs
        .iter()
        .filter_map(|c| c.file("net.tls.certificateKeyFile"))
        .map(|p| canonical(&p))
        .collect::<Vec<_>>();
    for s in leaves
        .iter()
        .filter(|c| has_eku(&c.leaf, "serverAuth") || servers.contains(&canonical(&c.path)))
    {
        let (Some(from), Some(to)) = (time_of(s.leaf.not_before()), time_of(s.leaf.not_after()))
        else {
            continue;
        };
        let days = (to - from).whole_days();
        if days > MAX_SERVER_DAYS {
            checks.push(check(
                "server lifetime",
                false,
                format!(
                    "{}: valid {days} days; macOS clients refuse a server certificate valid more than {MAX_SERVER_DAYS} days (mongod's mkcert.py makes 824): issue it for at most {MAX_SERVER_DAYS}",
                    shown(&s.path)
                ),
            ));
        }
    }
    // CRLs: mongod refuses every client once a CRLFile's nextUpdate passed.
    for (file, crl) in &crls {
        let next = crl.next_update().and_then(time_of);
        let current = next.is_none_or(|n| n > now);
        checks.push(check(
            "CRL current",
            current,
            if current {
                format!("{}: current", shown(file))
            } else {
                format!(
                    "{}: past its nextUpdate: mongod refuses every client certificate while it is its CRLFile; make a new CRL",
                    shown(file)
                )
            },
        ));
    }
    for config in &configs {
        config_checks(config, &shown, &mut checks)?;
    }
    if checks.is_empty() {
        let found = !certs.is_empty() || !crls.is_empty() || !configs.is_empty();
        checks.push(check(
            "certificates",
            found,
            if found {
                format!(
                    "{} CA certificate(s) alone: nothing mongod would refuse",
                    certs.len()
                )
            } else {
                format!("no certificate, CRL or config found in {}", path.display())
            },
        ));
    }
    Ok(checks)
}

/// A config's own checks: its certificate's SAN covers the hosts it binds,
/// and its certificates chain to its CAFile.
fn config_checks(
    config: &Config,
    shown: &dyn Fn(&Path) -> String,
    checks: &mut Vec<Check>,
) -> Result<(), Error> {
    let Some(cert_path) = config.file("net.tls.certificateKeyFile") else {
        return Ok(());
    };
    let Some(cert) = first_cert(&cert_path).ok().flatten() else {
        checks.push(check(
            "config files",
            false,
            format!(
                "{}: certificateKeyFile {} is missing or holds no certificate: mongod does not start",
                shown(&config.path),
                cert_path.display()
            ),
        ));
        return Ok(());
    };
    let hosts: Vec<&str> = config
        .options
        .get("net.bindIp")
        .map(|b| b.split(',').map(str::trim).collect())
        .unwrap_or_default();
    for host in hosts
        .into_iter()
        .filter(|h| !matches!(*h, "0.0.0.0" | "::" | ""))
    {
        let matched = san_matches(&cert, host);
        checks.push(check(
            "SAN covers the host",
            matched,
            if matched {
                format!("{}: {host}", shown(&config.path))
            } else {
                format!(
                    "{}: binds {host}, which {}'s SAN does not name: clients connecting by that name fail hostname verification; add it to the SAN",
                    shown(&config.path),
                    shown(&cert_path)
                )
            },
        ));
    }
    if let Some(ca_path) = config.file("net.tls.CAFile") {
        let Ok(cas) = read_input(&ca_path)
            .map_err(Error::io(&ca_path))
            .and_then(|pem| X509::stack_from_pem(&pem).map_err(Error::from))
        else {
            checks.push(check(
                "chain reaches CAFile",
                false,
                format!(
                    "{}: CAFile {} is missing or not PEM certificates: mongod does not start",
                    shown(&config.path),
                    ca_path.display()
                ),
            ));
            return Ok(());
        };
        let mut files: Vec<PathBuf> = ["net.tls.certificateKeyFile", "net.tls.clusterFile"]
            .iter()
            .filter_map(|key| config.file(key))
            .collect();
        files.dedup();
        for file in files {
            let Some(leaf) = first_cert(&file)? else {
                continue;
            };
            let ok = chains(&leaf, &cas)?;
            checks.push(check(
                "chain reaches CAFile",
                ok,
                if ok {
                    format!("{}: {}", shown(&config.path), shown(&file))
                } else {
                    format!(
                        "{}: {} does not chain to its CAFile {}: peers and clients refuse it; sign it with that CA or name its CA",
                        shown(&config.path),
                        shown(&file),
                        shown(&ca_path)
                    )
                },
            ));
        }
    }
    Ok(())
}

fn check(name: &'static str, passed: bool, detail: impl Into<String>) -> Check {
    Check {
        name,
        passed,
        detail: detail.into(),
    }
}

/// The options of a YAML config as kits write them: nested `key: value`
/// lines, two spaces a level, values plain or JSON-quoted.
fn read_config(path: &Path) -> Result<Config, Error> {
    let bytes = read_input(path).map_err(Error::io(path))?;
    let text = String::from_utf8_lossy(&bytes);
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut options = BTreeMap::new();
    for line in text.lines() {
        let content = line.trim_start();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let indent = line.len() - content.len();
        let Some((key, value)) = content.split_once(':') else {
            continue;
        };
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        let dotted = stack
            .iter()
            .map(|(_, k)| k.as_str())
            .chain([key.trim()])
            .collect::<Vec<_>>()
            .join(".");
        let value = value.trim();
        if value.is_empty() {
            stack.push((indent, key.trim().to_string()));
        } else {
            let value = serde_json::from_str::<String>(value).unwrap_or_else(|_| value.to_string());
            options.insert(dotted, value);
        }
    }
    Ok(Config {
        path: path.to_path_buf(),
        options,
    })
}

/// `path` made absolute where it can be, for comparing files.
fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn first_cert(path: &Path) -> Result<Option<X509>, Error> {
    let bytes = read_input(path).map_err(Error::io(path))?;
    Ok(pem_blocks(&bytes)
        .into_iter()
        .find(|b| b.label == "CERTIFICATE")
        .and_then(|b| X509::from_pem(b.text).ok()))
}

/// O, OU and DC, each its values joined: what mongod compares to tell a
/// member from a client.
fn member_attributes(cert: &X509) -> Vec<String> {
    [
        Nid::ORGANIZATIONNAME,
        Nid::ORGANIZATIONALUNITNAME,
        Nid::DOMAINCOMPONENT,
    ]
    .iter()
    .map(|nid| {
        let mut values: Vec<String> = cert
            .subject_name()
            .entries_by_nid(*nid)
            .filter_map(|e| e.data().to_string().ok())
            .collect();
        // mongod compares them as sets: OU=a,OU=b is OU=b,OU=a.
        values.sort();
        values.join("+")
    })
    .collect()
}

fn is_ca(cert: &X509) -> bool {
    crate::api::customer_x509::is_ca(cert)
}

/// The DER value of the extension `oid`, if `cert` has it.
fn extension_der(cert: &X509, oid: &str) -> Option<Vec<u8>> {
    use x509_cert::der::Decode;
    let parsed = x509_cert::Certificate::from_der(&cert.to_der().ok()?).ok()?;
    let oid = x509_cert::der::asn1::ObjectIdentifier::new(oid).ok()?;
    parsed
        .tbs_certificate()
        .extensions()?
        .iter()
        .find(|e| e.extn_id == oid)
        .map(|e| e.extn_value.as_bytes().to_vec())
}

/// The extended key usages `cert` names, by OpenSSL's text.
fn ekus(cert: &X509) -> Option<Vec<String>> {
    use x509_cert::der::Decode;
    use x509_cert::ext::pkix::ExtendedKeyUsage;
    let parsed = x509_cert::Certificate::from_der(&cert.to_der().ok()?).ok()?;
    let (_, eku) = parsed
        .tbs_certificate()
        .get_extension::<ExtendedKeyUsage>()
        .ok()??;
    Some(
        eku.0
            .iter()
            .map(|oid| match oid.to_string().as_str() {
                "1.3.6.1.5.5.7.3.1" => "serverAuth".to_string(),
                "1.3.6.1.5.5.7.3.2" => "clientAuth".to_string(),
                other => other.to_string(),
            })
            .collect(),
    )
}

fn has_any_eku(cert: &X509) -> bool {
    ekus(cert).is_some()
}

/// Whether `cert` may serve `usage`: it names it, or names no EKU at all.
fn has_eku(cert: &X509, usage: &str) -> bool {
    ekus(cert).is_none_or(|all| all.iter().any(|u| u == usage))
}

/// Whether a SAN entry of `cert` matches `host` (DNS names with a leading
/// `*.` wildcard, IP addresses by value; `localhost` by name).
fn san_matches(cert: &X509, host: &str) -> bool {
    let Some(names) = cert.subject_alt_names() else {
        return false;
    };
    let ip: Option<std::net::IpAddr> = host.parse().ok();
    names.iter().any(|n| {
        if let (Some(ip), Some(bytes)) = (ip, n.ipaddress()) {
            return match ip {
                std::net::IpAddr::V4(v4) => bytes == v4.octets(),
                std::net::IpAddr::V6(v6) => bytes == v6.octets(),
            };
        }
        let Some(dns) = n.dnsname() else {
            return false;
        };
        if ip.is_some() {
            return false;
        }
        match dns.strip_prefix("*.") {
            Some(suffix) => host
                .split_once('.')
                .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(suffix)),
            None => dns.eq_ignore_ascii_case(host),
        }
    })
}

/// Whether `cert` chains to one of `cas` (at the certificate's own time:
/// expiry is another check's).
fn chains(cert: &X509, cas: &[X509]) -> Result<bool, openssl::error::ErrorStack> {
    let mut store = X509StoreBuilder::new()?;
    for ca in cas {
        store.add_cert(ca.clone())?;
    }
    store.set_flags(openssl::x509::verify::X509VerifyFlags::NO_CHECK_TIME)?;
    let store = store.build();
    let mut ctx = X509StoreContext::new()?;
    let chain: Stack<X509> = Stack::new()?;
    ctx.init(&store, cert, &chain, |c| c.verify_cert())
}
