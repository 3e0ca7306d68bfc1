//! `local-kit`'s deployment options: one mongod (the default), a replica
//! set, or a sharded cluster.

use clap::Args;

use crate::api::{Error, Invalid};
use crate::pki::Host;
use crate::tools::kit::topology::{MAX_MEMBERS, MAX_SHARDS, Topology};

#[derive(Debug, Args)]
pub(super) struct TopologyArgs {
    /// Set up a replica set of this name, with x509 member authentication.
    #[arg(long, value_name = "NAME", conflicts_with = "sharded")]
    replset: Option<String>,
    /// Set up a sharded cluster: a config server replica set, shards and a mongos.
    #[arg(long)]
    sharded: bool,
    /// Members of each replica set (all on localhost) [default: 3].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=MAX_MEMBERS as i64))]
    members: Option<u16>,
    /// A replica set member's HOST:PORT, once per member (instead of --members).
    #[arg(long = "member", value_name = "HOST:PORT", value_parser = host_port, requires = "replset", conflicts_with = "members")]
    member: Vec<(Host, u16)>,
    /// Shards of the sharded cluster [default: 2].
    #[arg(long, requires = "sharded", value_parser = clap::value_parser!(u16).range(1..=MAX_SHARDS as i64))]
    shards: Option<u16>,
    /// The first port: the mongos of a sharded cluster, else the first
    /// member; the others follow [default: 27017].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    port: Option<u16>,
}

impl TopologyArgs {
    /// The deployment these options ask for.
    pub(super) fn topology(&self) -> Result<Topology, Error> {
        let members = usize::from(self.members.unwrap_or(3));
        let port = self.port.unwrap_or(27017);
        let localhost = Host::Dns("localhost".into());
        if self.sharded {
            let shards = usize::from(self.shards.unwrap_or(2));
            return Topology::sharded(shards, members, &localhost, port);
        }
        match &self.replset {
            None if self.members.is_some() || self.port.is_some() => Err(Invalid::Topology(
                "--members and --port need --replset NAME or --sharded".into(),
            )
            .into()),
            None => Ok(Topology::Standalone),
            Some(name) if self.member.is_empty() => {
                Topology::local_replica_set(name, members, &localhost, port)
            }
            Some(_) if self.port.is_some() => Err(Invalid::Topology(
                "--port sets the first port of members on this machine; with --member each \
                 HOST:PORT gives its own"
                    .into(),
            )
            .into()),
            Some(name) => Topology::replica_set(name, &self.member),
        }
    }
}

/// `HOST:PORT`, an IPv6 address in brackets (`[::1]:27017`).
fn host_port(s: &str) -> Result<(Host, u16), String> {
    let (host, port) = s
        .rsplit_once(':')
        .ok_or_else(|| format!("{s:?} is not HOST:PORT"))?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| format!("{s:?}: the port must be 1 to 65535"))?;
    if host.starts_with("*.") {
        return Err(format!("{s:?}: a member is one host, not a wildcard"));
    }
    Ok((Host::parse(host)?, port))
}
