//! A project's clusters: the local kits its home made (`local-kit`),
//! served as Atlas serves clusters (`GET /groups/{id}/clusters`), so that
//! a script that asks Atlas for a connection string, creates an X.509
//! user and a certificate, and connects, runs against a local deployment
//! unchanged. Clusters no kit made are not invented; a kit whose
//! directory no longer holds its file list is gone.

use serde::Serialize;

use super::error::Error;
use super::json::Link;
use super::project_state::{self, KitCluster, ProjectState};
use crate::store::Home;

/// Most kits one project lists (ours: a new kit past it replaces none and
/// is refused).
pub const MAX_CLUSTERS: usize = 100;

impl KitCluster {
    /// `connectionStrings.standard`: TLS on, as every kit requires.
    pub fn standard(&self) -> String {
        let mut s = format!("mongodb://{}/?tls=true", self.hosts.join(","));
        if let Some(set) = &self.replica_set {
            s.push_str("&replicaSet=");
            s.push_str(set);
        }
        s
    }
}

/// Atlas's cluster names: a letter or digit, then letters, digits and
/// hyphens, at most 64 (ours: a kit's directory name made to fit).
pub fn cluster_name(dir_name: &str) -> String {
    let mut name: String = dir_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(64)
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        name = format!("kit{name}").chars().take(64).collect();
    }
    name
}

/// The project's kits that are still on disk, by name.
pub fn clusters(state: &ProjectState) -> Vec<(&String, &KitCluster)> {
    state.clusters().filter(|(_, c)| c.exists()).collect()
}

/// Records the kit as a cluster of `group_id` named `name`, or `name-2`,
/// `name-3`... when another kit still on disk has that name (a kit of the
/// same directory keeps its name); kits no longer on disk are forgotten
/// first. Returns the name and the record replaced, for [`restore`] if
/// the kit is not written.
pub fn record(
    home: &Home,
    group_id: &str,
    name: &str,
    kit: KitCluster,
) -> Result<(String, Option<KitCluster>), Error> {
    let mut recorded = (name.to_string(), None);
    project_state::update(home, group_id, |state| {
        state.forget_gone_clusters();
        let name = state.free_cluster_name(name, &kit);
        let before = state.set_cluster(&name, Some(kit), MAX_CLUSTERS)?;
        recorded = (name, before);
        Ok(())
    })?;
    Ok(recorded)
}

/// Puts back what [`record`] replaced (nothing: removes the record).
pub fn restore(
    home: &Home,
    group_id: &str,
    name: &str,
    before: Option<KitCluster>,
) -> Result<(), Error> {
    project_state::update(home, group_id, |state| {
        state.set_cluster(name, before, usize::MAX).map(drop)
    })?;
    Ok(())
}

/// A cluster as `GET /groups/{id}/clusters` answers it: the recorded
/// fields a client reads (name, type, state, connection strings, version),
/// in Atlas's alphabetical key order; cloud-only ones (replication specs,
/// disk, backup) are left out (ours).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterEntry {
    cluster_type: String,
    connection_strings: ConnectionStrings,
    create_date: String,
    group_id: String,
    id: String,
    labels: [(); 0],
    links: Vec<Link>,
    #[serde(rename = "mongoDBMajorVersion")]
    mongodb_major_version: &'static str,
    #[serde(rename = "mongoDBVersion")]
    mongodb_version: &'static str,
    name: String,
    paused: bool,
    state_name: &'static str,
    tags: [(); 0],
    termination_protection_enabled: bool,
    version_release_system: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct ConnectionStrings {
    standard: String,
}

impl ClusterEntry {
    /// The entity of the kit `name` in `group_id`, linked under `root`.
    pub fn new(group_id: &str, name: &str, kit: &KitCluster, root: &str) -> ClusterEntry {
        ClusterEntry {
            cluster_type: kit.cluster_type.clone(),
            connection_strings: ConnectionStrings {
                standard: kit.standard(),
            },
            create_date: kit.created.clone(),
            group_id: group_id.to_string(),
            id: kit.id.clone(),
            labels: [],
            links: vec![Link {
                href: format!("{root}/groups/{group_id}/clusters/{name}"),
                rel: "self",
            }],
            // Ours: the kit runs whatever mongod the user has.
            mongodb_major_version: "8.0",
            mongodb_version: "8.0.0",
            name: name.to_string(),
            paused: false,
            state_name: "IDLE",
            tags: [],
            termination_protection_enabled: false,
            version_release_system: "LTS",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn names_and_connection_strings() {
        assert_eq!(cluster_name("my kit_1"), "my-kit-1");
        assert_eq!(cluster_name(".hidden"), "kit-hidden");
        assert_eq!(cluster_name(&"x".repeat(80)).len(), 64);
        let kit = KitCluster {
            cluster_type: "REPLICASET".into(),
            hosts: vec!["localhost:27017".into(), "localhost:27018".into()],
            replica_set: Some("rs0".into()),
            manifest: PathBuf::from("/nonexistent/.atlas-ca-kit"),
            created: "2026-12-07T00:00:00Z".into(),
            id: "6a0000000000000000000000".into(),
        };
        assert_eq!(
            kit.standard(),
            "mongodb://localhost:27017,localhost:27018/?tls=true&replicaSet=rs0"
        );
        assert!(!kit.exists());
    }
}
