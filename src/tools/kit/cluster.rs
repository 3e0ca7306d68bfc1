//! The text files of a replica-set or sharded kit: one config per process,
//! the start and stop scripts, the `rs.initiate` and `sh.addShard` scripts
//! and the README with every step in order. Paths are the kit's, absolute;
//! strings are quoted for YAML (as JSON strings), JavaScript and the shell.

use std::path::Path;

use super::quote::{js, ocsp_parameters, sh};
use super::topology::{Node, ReplicaSet, Role, Topology};
use crate::model::Project;
use crate::pki::Host;

/// A kit's text file: its name, its content and whether it runs.
pub(super) struct Text {
    pub(super) name: String,
    pub(super) content: String,
    pub(super) executable: bool,
}

pub(super) fn text(name: impl Into<String>, content: String, executable: bool) -> Text {
    Text {
        name: name.into(),
        content,
        executable,
    }
}

/// What the configs turn on beyond TLS and x509 members.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Settings<'a> {
    /// Membership by MongoDB's extension with this value, not by subject.
    pub(super) membership: Option<&'a str>,
    /// The certificates carry OCSP addresses: check and staple.
    pub(super) ocsp: bool,
}

/// Where a node's member certificate goes.
pub(super) fn member_file(node: &Node) -> String {
    format!("members/{}.pem", node.name)
}

/// Every text file of a clustered `topology` (not `Standalone`), besides
/// `create-users.js`.
pub(super) fn cluster_texts(
    out: &Path,
    home: &Path,
    project: &Project,
    topology: &Topology,
    first_user: &str,
    settings: Settings<'_>,
) -> Vec<Text> {
    let mut texts = Vec::new();
    for set in topology.sets() {
        for node in &set.members {
            texts.push(text(
                format!("{}.conf", node.name),
                node_conf(out, node, set, settings),
                false,
            ));
        }
        texts.push(text(init_file(topology, set), init_js(set), false));
    }
    texts.push(text("start.sh", start_sh(out, topology), true));
    texts.push(text("stop.sh", stop_sh(out, topology), true));
    if let Topology::Sharded {
        config,
        shards,
        mongos,
    } = topology
    {
        texts.push(text(
            "mongos.conf",
            mongos_conf(out, mongos, config, settings),
            false,
        ));
        texts.push(text("add-shards.js", add_shards_js(shards), false));
    }
    texts.push(text(
        "README.txt",
        cluster_readme(out, home, project, topology, first_user),
        false,
    ));
    texts
}

/// `init-replset.js` for a lone replica set, `init-<name>.js` in a
/// sharded cluster.
fn init_file(topology: &Topology, set: &ReplicaSet) -> String {
    match topology {
        Topology::ReplicaSet(_) => "init-replset.js".into(),
        _ => format!("init-{}.js", set.name),
    }
}

/// `net.bindIp`: localhost, 127.0.0.1 and the node's own host.
fn bind_ip(node: &Node) -> String {
    let mut bind = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let own = match &node.host {
        Host::Dns(d) => d.clone(),
        Host::Ip(ip) => ip.to_string(),
    };
    if !bind.contains(&own) {
        bind.push(own);
    }
    bind.join(",")
}

/// The `net` and `systemLog`/`processManagement` sections every process
/// shares: TLS required, its member certificate for clients and members.
fn common(out: &Path, node: &Node, settings: Settings<'_>) -> String {
    let p = |f: &str| js(&out.join(f).display().to_string());
    let cert = p(&member_file(node));
    let membership = settings.membership.map_or(String::new(), |value| {
        format!(
            "    clusterAuthX509:\n      extensionValue: {}\n",
            js(value)
        )
    });
    format!(
        "net:\n  port: {port}\n  bindIp: {bind}\n{ipv6}  tls:\n    mode: requireTLS\n    \
         certificateKeyFile: {cert}\n    clusterFile: {cert}\n    CAFile: {ca}\n    \
         CRLFile: {crl}\n{membership}{ocsp}\
         systemLog:\n  destination: file\n  path: {log}\n  logAppend: true\n\
         processManagement:\n  fork: true\n  pidFilePath: {pid}\n",
        port = node.port,
        bind = js(&bind_ip(node)),
        // mongod binds IPv6 addresses only when told to.
        ipv6 = if matches!(node.host, Host::Ip(ip) if ip.is_ipv6()) {
            "  ipv6: true\n"
        } else {
            ""
        },
        ca = p("ca.pem"),
        crl = p("crl.pem"),
        log = p(&format!("logs/{}.log", node.name)),
        pid = p(&format!("logs/{}.pid", node.name)),
        ocsp = ocsp_parameters(settings.ocsp),
    )
}

/// A mongod's config: TLS, x509 member authentication, authorization,
/// its replica set and, in a sharded cluster, its role.
fn node_conf(out: &Path, node: &Node, set: &ReplicaSet, settings: Settings<'_>) -> String {
    let mut conf = format!(
        "# {} configuration made by atlas-ca local-kit: TLS required, x509 members and users.\n{}",
        node.name,
        common(out, node, settings)
    );
    conf.push_str(&format!(
        "storage:\n  dbPath: {}\n",
        js(&out.join("data").join(&node.name).display().to_string())
    ));
    conf.push_str(&format!("replication:\n  replSetName: {}\n", js(&set.name)));
    match set.role {
        Role::Plain => {}
        Role::ConfigServer => conf.push_str("sharding:\n  clusterRole: configsvr\n"),
        Role::Shard => conf.push_str("sharding:\n  clusterRole: shardsvr\n"),
    }
    conf.push_str("security:\n  authorization: enabled\n  clusterAuthMode: x509\n");
    conf
}

/// The mongos config: TLS, x509 members, the config servers.
fn mongos_conf(out: &Path, mongos: &Node, config: &ReplicaSet, settings: Settings<'_>) -> String {
    format!(
        "# mongos configuration made by atlas-ca local-kit.\n{}\
         sharding:\n  configDB: {}\nsecurity:\n  clusterAuthMode: x509\n",
        common(out, mongos, settings),
        js(&seed_list(config))
    )
}

/// `name/host:port,...`, as `configDB` and `sh.addShard` take a replica set.
fn seed_list(set: &ReplicaSet) -> String {
    let hosts: Vec<String> = set.members.iter().map(Node::address).collect();
    format!("{}/{}", set.name, hosts.join(","))
}

fn init_js(set: &ReplicaSet) -> String {
    let members: Vec<String> = set
        .members
        .iter()
        .enumerate()
        .map(|(i, m)| format!("    {{ _id: {i}, host: {} }}", js(&m.address())))
        .collect();
    let configsvr = if set.role == Role::ConfigServer {
        "  configsvr: true,\n"
    } else {
        ""
    };
    format!(
        "// Initiates replica set {name} made by atlas-ca local-kit. Run it once, on\n\
         // {first}, through the localhost exception (no user exists yet).\n\
         const result = rs.initiate({{\n  _id: {name},\n{configsvr}  members: [\n{members}\n  ]\n}});\n\
         printjson(result);\n",
        name = js(&set.name),
        first = set.members[0].name,
        members = members.join(",\n"),
    )
}

fn add_shards_js(shards: &[ReplicaSet]) -> String {
    let mut script =
        "// Adds the kit's shards to the cluster; run it through mongos.\n".to_string();
    for shard in shards {
        script.push_str(&format!(
            "printjson(sh.addShard({}));\n",
            js(&seed_list(shard))
        ));
    }
    script
}

/// The hosts a replica set kit's members run on, in member order, when
/// there are several (members given with `--member` on other machines);
/// empty when every member runs here.
fn member_hosts(topology: &Topology) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::new();
    for node in topology.sets().into_iter().flat_map(|s| &s.members) {
        let host = node.machine();
        if !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    if hosts.len() > 1 { hosts } else { Vec::new() }
}

fn start_sh(out: &Path, topology: &Topology) -> String {
    let q = |p: &Path| sh(&p.display().to_string());
    let hosts = member_hosts(topology);
    let mut script = if hosts.is_empty() {
        format!(
            "#!/bin/sh\n# Starts every mongod of this kit in the background. Logs: {}.\n",
            out.join("logs").display()
        )
    } else {
        format!(
            "#!/bin/sh\n# Starts the mongods of this kit that run on HOST, in the background:\n\
             # its members run on {} hosts. Copy the kit to each, then run\n\
             # `start.sh HOST` there. Logs: {}.\n",
            hosts.len(),
            out.join("logs").display()
        )
    };
    if matches!(topology, Topology::Sharded { .. }) {
        script
            .push_str("# Once the replica sets are initiated, `start.sh mongos` starts mongos.\n");
    }
    script.push_str("set -e\n");
    if matches!(topology, Topology::Sharded { .. }) {
        script.push_str(&format!(
            "if [ \"${{1:-}}\" = mongos ]; then\n  exec mongos --config {}\nfi\n",
            q(&out.join("mongos.conf"))
        ));
    }
    let start = |node: &Node| {
        format!(
            "mkdir -p {}\nmongod --config {}\n",
            q(&out.join("data").join(&node.name)),
            q(&out.join(format!("{}.conf", node.name)))
        )
    };
    if !hosts.is_empty() {
        let usage: Vec<String> = hosts.iter().map(|h| sh(h)).collect();
        script.push_str(&format!(
            "if [ $# -ne 1 ]; then\n  echo \"usage: start.sh HOST, one of:\" {} >&2\n  exit 2\nfi\n",
            usage.join(" ")
        ));
    }
    script.push_str(&format!("mkdir -p {}\n", q(&out.join("logs"))));
    if hosts.is_empty() {
        for node in topology.sets().into_iter().flat_map(|s| &s.members) {
            script.push_str(&start(node));
        }
        return script;
    }
    script.push_str("case \"$1\" in\n");
    for host in &hosts {
        script.push_str(&format!("{})\n", sh(host)));
        for node in topology.sets().into_iter().flat_map(|s| &s.members) {
            if node.machine() == *host {
                script.push_str(&start(node));
            }
        }
        script.push_str(";;\n");
    }
    script.push_str(&format!(
        "*)\n  echo \"no member of this kit runs on $1; hosts:\" {} >&2\n  exit 2\n;;\nesac\n",
        hosts.iter().map(|h| sh(h)).collect::<Vec<_>>().join(" ")
    ));
    script
}

/// README.txt's word on a kit whose members run on several hosts: which
/// files each host needs.
fn hosts_note(topology: &Topology) -> Option<String> {
    let hosts = member_hosts(topology);
    if hosts.is_empty() {
        return None;
    }
    let mut note = String::from(
        "The members run on several hosts. Copy to each, at this same path (the configs\n\
         name absolute paths), ca.pem, crl.pem, start.sh and its members' files:\n",
    );
    for host in &hosts {
        let files: Vec<String> = topology
            .sets()
            .into_iter()
            .flat_map(|s| &s.members)
            .filter(|n| n.machine() == *host)
            .flat_map(|n| [member_file(n), format!("{}.conf", n.name)])
            .collect();
        note.push_str(&format!("   {host}: {}\n", files.join(" ")));
    }
    note.push_str("then run `start.sh HOST` on each.\n");
    Some(note)
}

fn stop_sh(out: &Path, topology: &Topology) -> String {
    let mut script =
        "#!/bin/sh\n# Stops every process of this kit that is running (by its pid file).\n"
            .to_string();
    for node in topology.nodes().into_iter().rev() {
        let pid = sh(&out
            .join(format!("logs/{}.pid", node.name))
            .display()
            .to_string());
        script.push_str(&format!(
            "if [ -f {pid} ]; then kill \"$(cat {pid})\" 2>/dev/null || true; rm -f {pid}; fi\n"
        ));
    }
    script
}

/// The mongosh connection options for TLS with the kit's CA and a
/// certificate of the kit, quoted.
fn tls_args(out: &Path, cert: &str) -> String {
    let q = |f: &str| sh(&out.join(f).display().to_string());
    format!(
        "--tlsCAFile {} --tlsCertificateKeyFile {}",
        q("ca.pem"),
        q(cert)
    )
}

fn uri(hosts: &[&Node], query: &str) -> String {
    let hosts: Vec<String> = hosts.iter().map(|n| n.address()).collect();
    sh(&format!("mongodb://{}/?tls=true{query}", hosts.join(",")))
}

const AS_X509: &str = "&authMechanism=MONGODB-X509&authSource=%24external";

fn cluster_readme(
    out: &Path,
    home: &Path,
    project: &Project,
    topology: &Topology,
    first_user: &str,
) -> String {
    let q = |f: &str| sh(&out.join(f).display().to_string());
    let atlas = format!("atlas-ca --home {}", sh(&home.display().to_string()));
    let mut steps = Vec::new();
    let (kind, entry) = match topology {
        Topology::ReplicaSet(set) => (format!("replica set {}", set.name), None),
        Topology::Sharded { shards, mongos, .. } => (
            format!(
                "sharded cluster ({} shards and a config server replica set)",
                shards.len()
            ),
            Some(mongos),
        ),
        Topology::Standalone => (String::new(), None),
    };
    match hosts_note(topology) {
        None => steps.push(format!("Start every mongod:\n   {}", q("start.sh"))),
        Some(note) => steps.push(format!(
            "Start the members, on each host:\n   {} HOST\n{note}",
            q("start.sh")
        )),
    }
    for set in topology.sets() {
        let first = &set.members[0];
        steps.push(format!(
            "Initiate {} on {}, on its host, through the localhost exception (TLS, no\n   \
             user yet):\n   \
             mongosh {} {} --file {}",
            set.name,
            first.name,
            sh(&format!(
                "mongodb://localhost:{}/?tls=true&directConnection=true",
                first.port
            )),
            tls_args(out, &member_file(first)),
            q(&init_file(topology, set)),
        ));
    }
    // Users are created through the primary (or mongos), authenticated as a
    // cluster member: a member certificate is the __system user.
    let (admin_hosts, admin_cert, replica) = match (topology, entry) {
        (Topology::Sharded { .. }, Some(mongos)) => {
            steps.push(format!("Start mongos:\n   {} mongos", q("start.sh")));
            steps.push(format!(
                "Add the shards, through mongos as a cluster member (its certificate):\n   \
                 mongosh {} {} --file {}",
                uri(&[mongos], AS_X509),
                tls_args(out, &member_file(mongos)),
                q("add-shards.js"),
            ));
            (vec![mongos], member_file(mongos), String::new())
        }
        _ => {
            let set = topology.sets()[0];
            let members: Vec<&Node> = set.members.iter().collect();
            (
                members,
                member_file(&set.members[0]),
                format!("&replicaSet={}", set.name),
            )
        }
    };
    steps.push(format!(
        "Create the users{}, as a cluster member (its certificate):\n   mongosh {} {} --file {}",
        if entry.is_some() {
            " through mongos"
        } else {
            " on the primary"
        },
        uri(&admin_hosts, &format!("{replica}{AS_X509}")),
        tls_args(out, &admin_cert),
        q("create-users.js"),
    ));
    steps.push(format!(
        "Connect as a user (MONGODB-X509; the user name comes from the certificate):\n   mongosh {} {}",
        uri(&admin_hosts, &format!("{replica}{AS_X509}")),
        tls_args(out, first_user),
    ));
    steps.push(format!("Stop everything:\n   {}", q("stop.sh")));
    let numbered: Vec<String> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{}. {s}", i + 1))
        .collect();
    format!(
        "Local MongoDB {kind}, made by atlas-ca local-kit:\n\
         TLS, x509 member authentication and Atlas-style X.509 users (project {id}).\n\n\
         Files: ca.pem (net.tls.CAFile), crl.pem (net.tls.CRLFile), members/<name>.pem\n\
         (each process's certificateKeyFile and clusterFile: serverAuth and clientAuth,\n\
         the same O and OU for every member), <name>.conf, users/<user>.pem (one per\n\
         MANAGED user), create-users.js, start.sh, stop.sh. Keys are mode 0600;\n\
         data/ and logs/ are made by start.sh.\n\n{}\n\n\
         Revoking: {atlas} dbusers certs revoke --projectId {id} --username U --serial S,\n\
         then {atlas} ca crl --projectId {id} --out {crl} --force and restart.\n\
",
        numbered.join("\n\n"),
        id = project.id,
        crl = q("crl.pem"),
    )
}
