//! The text files of the local kit: `mongod.conf`, `create-users.js` and
//! `README.txt`, with the kit's absolute paths written in.

use std::path::Path;

use time::OffsetDateTime;

use super::quote::{js, ocsp_parameters, sh};
use crate::model::{Project, Role};
use crate::pki::{Host, mongod_subject};

/// `mongod.conf`: paths as YAML double-quoted scalars (JSON strings are
/// exactly that), so spaces, `#` or `: ` in the kit's path cannot break it;
/// mongod listens on localhost and the server certificate's IP addresses.
pub(super) fn mongod_conf(out: &Path, hosts: &[Host], ocsp: bool) -> String {
    let p = |f: &str| js(&out.join(f).display().to_string());
    let mut bind = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    for host in hosts {
        if let Host::Ip(ip) = host
            && !bind.contains(&ip.to_string())
        {
            bind.push(ip.to_string());
        }
    }
    format!(
        "# mongod configuration made by atlas-ca local-kit: TLS required, X.509 users.\n\
         net:\n  port: 27017\n  bindIp: {}\n  tls:\n    mode: requireTLS\n    \
         certificateKeyFile: {}\n    CAFile: {}\n    CRLFile: {}\n\
         security:\n  authorization: enabled\n{}",
        js(&bind.join(",")),
        p("server.pem"),
        p("ca.pem"),
        p("crl.pem"),
        ocsp_parameters(ocsp),
    )
}

/// `create-users.js`; with `roles_in_cert`, a user whose certificate
/// carries its roles is authorized by it and not created.
pub(super) fn create_users_js(project: &Project, roles_in_cert: bool) -> String {
    let mut js_text = format!(
        "// Creates the Atlas-managed X.509 users of project {} in $external,\n\
         // each named as mongod derives it from the certificate subject (RFC 2253,\n\
         // bytes from 0x80 up as \\XX). Safe to run again.\n\
         const ext = db.getSiblingDB(\"$external\");\n",
        project.id
    );
    for u in project
        .users(time::OffsetDateTime::now_utc())
        .filter(|u| u.is_managed_x509())
    {
        let mut roles = Vec::new();
        for r in &u.roles {
            match &r.collection_name {
                None => roles.push(format!("{{ role: {}, db: {} }}", js(&r.role_name), js(&r.database_name))),
                // Names only as string literals, never raw in a comment.
                Some(c) => js_text.push_str(&format!(
                    "print(\"not created: a custom role for \" + {} + \" on \" + {} + \".\" + {} + \" (collection-scoped; MongoDB has no built-in one)\");\n",
                    js(&r.role_name),
                    js(&r.database_name),
                    js(c)
                )),
            }
        }
        let name = js(&mongod_subject(&u.username));
        if roles_in_cert && u.roles.iter().any(Role::is_database_wide) {
            js_text.push_str(&format!(
                "print(\"not created: \" + {name} + \" (authorized by its certificate's mongoRoles)\");\n"
            ));
            continue;
        }
        js_text.push_str(&format!(
            "if (!ext.getUser({name})) {{\n  ext.createUser({{ user: {name}, roles: [{}] }});\n}}\n",
            roles.join(", ")
        ));
    }
    js_text
}

pub(super) fn readme(out: &Path, home: &Path, project: &Project, first_user: &str) -> String {
    let q = |f: &str| sh(&out.join(f).display().to_string());
    let atlas = format!("atlas-ca --home {}", sh(&home.display().to_string()));
    let (data, server, ca, crl, conf, js_file, user) = (
        q("data"),
        q("server.pem"),
        q("ca.pem"),
        q("crl.pem"),
        q("mongod.conf"),
        q("create-users.js"),
        q(first_user),
    );
    format!(
        "Local MongoDB with TLS and Atlas-style X.509 users (project {id}),\n\
         made by atlas-ca local-kit.\n\n\
         Files: ca.pem (net.tls.CAFile), server.pem (net.tls.certificateKeyFile; for\n\
         localhost and 127.0.0.1), crl.pem (net.tls.CRLFile), users/<user>.pem (one per\n\
         MANAGED user: certificate + key, what drivers take as tlsCertificateKeyFile),\n\
         mongod.conf, create-users.js. Keys are mode 0600.\n\n\
         1. Create the users once, on a mongod without authorization:\n\
         \x20  mkdir -p {data}\n\
         \x20  mongod --dbpath {data} --port 27017 --tlsMode requireTLS \\\n\
         \x20    --tlsCertificateKeyFile {server} --tlsCAFile {ca}\n\
         \x20  mongosh \"mongodb://localhost:27017/?tls=true\" --tlsCAFile {ca} \\\n\
         \x20    --tlsCertificateKeyFile {user} --file {js_file}\n\
         \x20  then stop that mongod (Ctrl-C).\n\n\
         2. Run mongod with TLS and authorization:\n\
         \x20  mongod --config {conf} --dbpath {data}\n\n\
         3. Connect as a user (MONGODB-X509; the user name comes from the certificate):\n\
         \x20  mongosh \"mongodb://localhost:27017/?tls=true&authMechanism=MONGODB-X509&authSource=%24external\" \\\n\
         \x20    --tlsCAFile {ca} --tlsCertificateKeyFile {user}\n\n\
         Revoking: {atlas} dbusers certs revoke --projectId {id} --username U --serial S,\n\
         then {atlas} ca crl --projectId {id} --out {crl} --force and restart mongod.\n\
         {customer}",
        id = project.id,
        customer = if project.self_managed_x509 {
            "\nCustomer-managed X.509 is on for this project: ca.pem also holds the\n\
             project's customer CAs, so mongod accepts the certificates they issue to\n\
             CUSTOMER users; no Atlas-managed user certificates are made.\n"
        } else {
            ""
        },
    )
}

/// The README's last section: when the kit ends, and how to renew it.
pub(super) fn renewal(out: &Path, home: &Path, group_id: &str, first: OffsetDateTime) -> String {
    let date = first
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| first.to_string());
    let atlas = format!("atlas-ca --home {}", sh(&home.display().to_string()));
    format!(
        "\nRenewing: the first certificate of this kit ends {date}; crl.pem is current\n\
         until the last one ends. Before then, run the local-kit command that made this\n\
         kit again with --force: every certificate and the CRL are made anew under the\n\
         same CA, so clients that trust ca.pem keep working; restart the processes.\n\
         A new CRL alone (after a revocation, or to last longer):\n\
         \x20  {atlas} ca crl --projectId {id} --next-update DAYS --out {crl} --force\n",
        id = group_id,
        crl = sh(&out.join("crl.pem").display().to_string()),
    )
}
