//! What a local kit deploys: one mongod, a replica set, or a sharded
//! cluster (a config server replica set, shard replica sets and a mongos),
//! each process with its name, host and port.

use crate::api::{Error, Invalid};
use crate::pki::Host;

/// Most members of one replica set (mongod's own limit).
pub const MAX_MEMBERS: usize = 50;
/// Most shards in one kit (ours: a local cluster, not a fleet).
pub const MAX_SHARDS: usize = 16;

/// One mongod or mongos of a kit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Its name in the kit's file names (`mongod-0`, `shard1-2`, `mongos`).
    pub name: String,
    /// The host other members and clients reach it at.
    pub host: Host,
    /// Its port.
    pub port: u16,
}

impl Node {
    /// The machine it runs on as kits tell machines apart: every loopback
    /// name (`localhost`, `127.0.0.0/8`, `::1`) is `localhost`.
    pub fn machine(&self) -> String {
        let loopback = match &self.host {
            Host::Ip(ip) => ip.is_loopback(),
            Host::Dns(d) => d.eq_ignore_ascii_case("localhost"),
        };
        if loopback {
            "localhost".into()
        } else {
            self.host.to_string().to_ascii_lowercase()
        }
    }

    /// `host:port` as `rs.initiate` and connection strings write it.
    pub fn address(&self) -> String {
        match &self.host {
            Host::Ip(ip) if ip.is_ipv6() => format!("[{ip}]:{}", self.port),
            Host::Ip(ip) => format!("{ip}:{}", self.port),
            Host::Dns(d) => format!("{d}:{}", self.port),
        }
    }
}

/// What a replica set is for, as `sharding.clusterRole` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A replica set on its own.
    Plain,
    /// The config server replica set of a sharded cluster.
    ConfigServer,
    /// A shard.
    Shard,
}

/// One replica set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaSet {
    /// `replication.replSetName`.
    pub name: String,
    /// What it is for.
    pub role: Role,
    /// Its members, the first one initiating.
    pub members: Vec<Node>,
}

/// The deployment a kit sets up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topology {
    /// One mongod (`server.pem`, `mongod.conf`).
    Standalone,
    /// One replica set.
    ReplicaSet(ReplicaSet),
    /// A sharded cluster.
    Sharded {
        /// The config server replica set.
        config: ReplicaSet,
        /// The shards.
        shards: Vec<ReplicaSet>,
        /// The router.
        mongos: Node,
    },
}

impl Topology {
    /// A replica set `name` with these members (`host`, `port`), named
    /// `mongod-<i>`.
    pub fn replica_set(name: &str, members: &[(Host, u16)]) -> Result<Topology, Error> {
        check_set_name(name)?;
        let set = ReplicaSet {
            name: name.to_string(),
            role: Role::Plain,
            members: nodes("mongod", members)?,
        };
        let topology = Topology::ReplicaSet(set);
        topology.check_addresses()?;
        Ok(topology)
    }

    /// A replica set of `count` members on `host`, ports from `port` up.
    pub fn local_replica_set(
        name: &str,
        count: usize,
        host: &Host,
        port: u16,
    ) -> Result<Topology, Error> {
        Topology::replica_set(name, &ports(host, port, count, 0)?)
    }

    /// A sharded cluster on `host`: a mongos on `port`, then a config
    /// server replica set (`configRS`) and `shards` shard replica sets
    /// (`shard0`...) of `members` each, on the ports after it.
    pub fn sharded(
        shards: usize,
        members: usize,
        host: &Host,
        port: u16,
    ) -> Result<Topology, Error> {
        if !(1..=MAX_SHARDS).contains(&shards) {
            return Err(topology(format!(
                "a sharded cluster has 1 to {MAX_SHARDS} shards, not {shards}"
            )));
        }
        let set = |name: &str, role, offset| -> Result<ReplicaSet, Error> {
            Ok(ReplicaSet {
                name: name.to_string(),
                role,
                members: nodes(name, &ports(host, port, members, offset)?)?,
            })
        };
        let config = set("configRS", Role::ConfigServer, 1)?;
        let shards = (0..shards)
            .map(|i| set(&format!("shard{i}"), Role::Shard, 1 + (i + 1) * members))
            .collect::<Result<Vec<_>, _>>()?;
        let topology = Topology::Sharded {
            config,
            shards,
            mongos: Node {
                name: "mongos".into(),
                host: host.clone(),
                port,
            },
        };
        topology.check_addresses()?;
        Ok(topology)
    }

    /// Every replica set, the config servers first.
    pub fn sets(&self) -> Vec<&ReplicaSet> {
        match self {
            Topology::Standalone => Vec::new(),
            Topology::ReplicaSet(set) => vec![set],
            Topology::Sharded { config, shards, .. } => {
                std::iter::once(config).chain(shards).collect()
            }
        }
    }

    /// Every process: the replica sets' members, then the mongos.
    pub fn nodes(&self) -> Vec<&Node> {
        let mut all: Vec<&Node> = self.sets().into_iter().flat_map(|s| &s.members).collect();
        if let Topology::Sharded { mongos, .. } = self {
            all.push(mongos);
        }
        all
    }

    /// Refuses two processes on one host and port; every loopback name
    /// (`localhost`, `127.0.0.0/8`, `::1`) is this machine, so one port.
    fn check_addresses(&self) -> Result<(), Error> {
        let mut seen = std::collections::HashSet::new();
        for node in self.nodes() {
            if !seen.insert((node.machine(), node.port)) {
                return Err(topology(format!(
                    "two members would listen on {}; give each its own port",
                    node.address()
                )));
            }
        }
        Ok(())
    }
}

/// Replica set names: what mongod accepts, and safe in file names.
fn check_set_name(name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(topology(format!(
            "replica set name {name:?}: use 1 to 64 letters, digits, '-' or '_'"
        )))
    }
}

/// `count` addresses on `host`, ports from `base + offset` up.
fn ports(host: &Host, base: u16, count: usize, offset: usize) -> Result<Vec<(Host, u16)>, Error> {
    (0..count)
        .map(|i| {
            u16::try_from(usize::from(base) + offset + i)
                .map(|p| (host.clone(), p))
                .map_err(|_| topology(format!("ports from {base} up run past 65535")))
        })
        .collect()
}

/// Members named `<prefix>-<i>`.
fn nodes(prefix: &str, members: &[(Host, u16)]) -> Result<Vec<Node>, Error> {
    if !(1..=MAX_MEMBERS).contains(&members.len()) {
        return Err(topology(format!(
            "a replica set has 1 to {MAX_MEMBERS} members, not {}",
            members.len()
        )));
    }
    Ok(members
        .iter()
        .enumerate()
        .map(|(i, (host, port))| Node {
            name: format!("{prefix}-{i}"),
            host: host.clone(),
            port: *port,
        })
        .collect())
}

fn topology(message: String) -> Error {
    Invalid::Topology(message).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sharded_ports_follow_the_mongos() {
        let local = Host::Dns("localhost".into());
        let t = Topology::sharded(2, 3, &local, 27017).unwrap();
        let ports: Vec<u16> = t.nodes().iter().map(|n| n.port).collect();
        assert_eq!(ports, (27018..=27026).chain([27017]).collect::<Vec<_>>());
        assert_eq!(t.sets()[2].members[0].name, "shard1-0");
        assert!(Topology::sharded(1, 3, &local, 65534).is_err());
        assert!(Topology::replica_set("rs/0", &[(local.clone(), 1)]).is_err());
        assert!(Topology::replica_set("rs0", &[(local.clone(), 1), (local.clone(), 1)]).is_err());
        let v4 = Host::parse("127.0.0.1").unwrap();
        assert!(Topology::replica_set("rs0", &[(local.clone(), 7), (v4, 7)]).is_err());
        let other = Host::parse("db1.example.test").unwrap();
        assert!(Topology::replica_set("rs0", &[(local, 7), (other, 7)]).is_ok());
    }
}
