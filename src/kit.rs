//! `atlas-ca local-kit`: everything a local MongoDB needs for TLS and
//! Atlas-style X.509 users, in one directory: the CA, a server certificate,
//! one client certificate per MANAGED user, a CRL, a `mongod.conf`
//! fragment, a `create-users.js` and a README with the exact commands.

use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::Error;
use crate::api::{self, CreateCert, ServerCert, project};
use crate::files::{write_private, write_public};
use crate::home::Home;
use crate::issuing::{Fresh, Host, KeyType, Profile, rfc2253_subject};
use crate::registry::{Project, Registry, X509Type};

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

/// A file-system-safe name for a user's certificate file.
pub fn file_name(username: &str) -> String {
    let safe: String = username
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.starts_with('.') {
        format!("_{safe}")
    } else {
        safe
    }
}

/// Writes the kit; returns the files written (relative to `out`).
pub fn local_kit(
    home: &Home,
    registry: &Registry,
    opts: &KitOptions,
) -> Result<Vec<String>, Error> {
    let project = project(registry, &opts.group_id)?;
    let users: Vec<_> = project
        .database_users
        .iter()
        .filter(|u| u.x509_type == X509Type::Managed)
        .collect();
    let mut names: Vec<(String, String)> = Vec::new();
    for u in &users {
        let mut name = format!("users/{}.pem", file_name(&u.username));
        if names.iter().any(|(_, n)| *n == name) {
            name = format!("users/{}-{}.pem", file_name(&u.username), names.len());
        }
        names.push((u.username.clone(), name));
    }
    let fixed = [
        "ca.pem",
        "server.pem",
        "crl.pem",
        "mongod.conf",
        "create-users.js",
        "README.txt",
    ];
    let all: Vec<String> = fixed
        .iter()
        .map(|f| f.to_string())
        .chain(names.iter().map(|(_, n)| n.clone()))
        .collect();
    if !opts.force
        && let Some(existing) = all.iter().find(|f| opts.out.join(f).exists())
    {
        return Err(Error::Usage(format!(
            "{} already exists; pass --force to replace the kit in {}",
            opts.out.join(existing).display(),
            opts.out.display()
        )));
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(opts.out.join("users"))
        .map_err(io(&opts.out))?;
    let out = std::path::absolute(&opts.out).map_err(io(&opts.out))?;

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
    let mut clients = Vec::new();
    for (username, file) in &names {
        let mut req = CreateCert::new(&project.id, username);
        req.months_until_expiration = i64::from(opts.months.min(24));
        req.profile = opts.profile;
        req.key_type = opts.key_type;
        clients.push((api::create_cert(home, registry, &req, &Fresh)?, file));
    }
    let (crl, _) = api::crl_pem(home, registry, &project.id)?;
    let (ca, _) = home.project_ca(&project.id)?;
    let ca_pem = ca.cert_pem()?;

    let write = |name: &str, bytes: &[u8], private: bool| {
        let path = out.join(name);
        let written = if private {
            write_private(&path, bytes)
        } else {
            write_public(&path, bytes)
        };
        written.map_err(io(&path))
    };
    write("ca.pem", &ca_pem, false)?;
    write("server.pem", server.pem.as_bytes(), true)?;
    for (created, file) in &clients {
        write(file, created.pem.as_bytes(), true)?;
    }
    write("crl.pem", crl.as_bytes(), false)?;
    write("mongod.conf", mongod_conf(&out).as_bytes(), false)?;
    write(
        "create-users.js",
        create_users_js(project).as_bytes(),
        false,
    )?;
    let first = names
        .first()
        .map_or("users/<user>.pem", |(_, f)| f.as_str());
    write("README.txt", readme(&out, project, first).as_bytes(), false)?;
    Ok(all)
}

fn mongod_conf(out: &Path) -> String {
    let p = |f: &str| out.join(f).display().to_string();
    format!(
        "# mongod configuration made by atlas-ca local-kit: TLS required, X.509 users.\n\
         net:\n  port: 27017\n  bindIp: localhost,127.0.0.1\n  tls:\n    mode: requireTLS\n    \
         certificateKeyFile: {}\n    CAFile: {}\n    CRLFile: {}\n\
         security:\n  authorization: enabled\n",
        p("server.pem"),
        p("ca.pem"),
        p("crl.pem")
    )
}

fn js(s: &str) -> String {
    // JSON strings are valid JavaScript string literals.
    serde_json::to_string(s).unwrap_or_default()
}

fn create_users_js(project: &Project) -> String {
    let mut js_text = format!(
        "// Creates the Atlas-managed X.509 users of project {} in $external,\n\
         // each named by its certificate subject (RFC 2253). Safe to run again.\n\
         const ext = db.getSiblingDB(\"$external\");\n",
        project.id
    );
    for u in project
        .database_users
        .iter()
        .filter(|u| u.x509_type == X509Type::Managed)
    {
        let mut roles = Vec::new();
        for r in &u.roles {
            match &r.collection_name {
                None => roles.push(format!("{{ role: {}, db: {} }}", js(&r.role_name), js(&r.database_name))),
                Some(c) => js_text.push_str(&format!(
                    "// {} on {}.{} is collection-scoped: MongoDB needs a custom role for it (not created).\n",
                    r.role_name, r.database_name, c
                )),
            }
        }
        let name = js(&rfc2253_subject(&u.username));
        js_text.push_str(&format!(
            "if (!ext.getUser({name})) {{\n  ext.createUser({{ user: {name}, roles: [{}] }});\n}}\n",
            roles.join(", ")
        ));
    }
    js_text
}

fn readme(out: &Path, project: &Project, first_user: &str) -> String {
    let d = out.display();
    format!(
        "Local MongoDB with TLS and Atlas-style X.509 users (project {id}),\n\
         made by atlas-ca local-kit.\n\n\
         Files: ca.pem (net.tls.CAFile), server.pem (net.tls.certificateKeyFile; for\n\
         localhost and 127.0.0.1), crl.pem (net.tls.CRLFile), users/<user>.pem (one per\n\
         MANAGED user: certificate + key, what drivers take as tlsCertificateKeyFile),\n\
         mongod.conf, create-users.js. Keys are mode 0600.\n\n\
         1. Create the users once, on a mongod without authorization:\n\
         \x20  mkdir -p {d}/data\n\
         \x20  mongod --dbpath {d}/data --port 27017 --tlsMode requireTLS \\\n\
         \x20    --tlsCertificateKeyFile {d}/server.pem --tlsCAFile {d}/ca.pem\n\
         \x20  mongosh \"mongodb://localhost:27017/?tls=true\" --tlsCAFile {d}/ca.pem \\\n\
         \x20    --tlsCertificateKeyFile {d}/{first_user} --file {d}/create-users.js\n\
         \x20  then stop that mongod (Ctrl-C).\n\n\
         2. Run mongod with TLS and authorization:\n\
         \x20  mongod --config {d}/mongod.conf --dbpath {d}/data\n\n\
         3. Connect as a user (MONGODB-X509; the user name comes from the certificate):\n\
         \x20  mongosh \"mongodb://localhost:27017/?tls=true&authMechanism=MONGODB-X509&authSource=%24external\" \\\n\
         \x20    --tlsCAFile {d}/ca.pem --tlsCertificateKeyFile {d}/{first_user}\n\n\
         Revoking: atlas-ca dbusers certs revoke --projectId {id} --username U --serial S,\n\
         then atlas-ca ca crl --projectId {id} --out {d}/crl.pem and restart mongod.\n\
         The CRL is current for 30 days; make a new one before then.\n",
        id = project.id,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe() {
        assert_eq!(file_name("alice"), "alice");
        assert_eq!(file_name("../x y"), "_.._x_y");
        assert_eq!(file_name("zoë/1"), "zo__1");
    }
}
