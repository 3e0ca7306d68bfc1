//! What a project keeps beside its users and certificates, stored in its
//! `settings.json` (`store::ca::write_settings`): the LDAP settings of
//! `userSecurity`, the project settings (`/groups/{id}/settings`) and the
//! managed slow-operation threshold (`/groups/{id}/managedSlowMs`). Each
//! change is read, applied and written under the registry's lock.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::atlas_error::{ApiError, ErrorCode};
use super::error::Error;
use super::ldap::LdapSettings;
use super::manage::locate;
use super::users::project;
use crate::store::Home;
use crate::store::ca::{read_settings, remove_settings, settings_path, write_settings};

/// The project settings Atlas answers and their values for a new project,
/// in Atlas's (alphabetical) key order (recorded `TestProjectSettings`).
pub const GROUP_SETTINGS: [(&str, bool); 12] = [
    ("isAtlasHomePageAiAssistantEnabled", true),
    ("isClusterAiAssistantEnabled", true),
    ("isCollectDatabaseSpecificsStatisticsEnabled", true),
    ("isDataExplorerEnabled", true),
    ("isDataExplorerGenAIFeaturesEnabled", true),
    ("isDataExplorerGenAISampleDocumentPassingEnabled", false),
    ("isDataValidationEnabled", true),
    ("isExtendedStorageSizesEnabled", false),
    ("isNativeRerankingEnabled", false),
    ("isPerformanceAdvisorEnabled", true),
    ("isRealtimePerformancePanelEnabled", true),
    ("isSchemaAdvisorEnabled", true),
];

/// A kit, as the home records it when `local-kit` writes one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KitCluster {
    /// `REPLICASET`, `SHARDED`, or `STANDALONE` (ours: Atlas has none).
    pub cluster_type: String,
    /// `host:port` of what a client connects to: every member of a
    /// replica set, the mongos of a sharded cluster, the one mongod.
    pub hosts: Vec<String>,
    /// The replica set a client names in its connection string.
    pub replica_set: Option<String>,
    /// The kit's file list: the kit is there while it is.
    pub manifest: PathBuf,
    /// When the kit was written (RFC 3339).
    pub created: String,
    /// Its id: an ObjectId with the time it was written in front.
    pub id: String,
}

impl KitCluster {
    /// Whether the kit is still on disk (its file list is there).
    pub fn exists(&self) -> bool {
        self.manifest.is_file()
    }
}

/// Everything stored for one project.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProjectState {
    /// `userSecurity.ldap`.
    #[serde(default)]
    pub ldap: LdapSettings,
    /// The project settings that differ from [`GROUP_SETTINGS`]' defaults
    /// or were set.
    #[serde(default)]
    settings: BTreeMap<String, bool>,
    /// Whether Atlas manages the slow-operation threshold (on for a new
    /// project).
    #[serde(default = "on")]
    managed_slow_ms: bool,
    /// Project limits set by `PATCH /groups/{id}/limits/{name}`.
    #[serde(default)]
    limits: BTreeMap<String, i64>,
    /// The local kits the home made for the project, by cluster name.
    #[serde(default)]
    clusters: BTreeMap<String, KitCluster>,
}

fn on() -> bool {
    true
}

impl ProjectState {
    fn fresh() -> Self {
        ProjectState {
            managed_slow_ms: true,
            ..ProjectState::default()
        }
    }

    /// Every project setting with its value, in Atlas's order.
    pub fn settings(&self) -> serde_json::Map<String, serde_json::Value> {
        GROUP_SETTINGS
            .iter()
            .map(|(name, default)| {
                let value = self.settings.get(*name).copied().unwrap_or(*default);
                ((*name).to_string(), serde_json::Value::Bool(value))
            })
            .collect()
    }

    /// Applies a settings PATCH body: known settings, booleans; anything
    /// else is Atlas's error and nothing changes.
    pub fn patch_settings(
        &mut self,
        body: serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), ApiError> {
        let mut next = self.settings.clone();
        for (key, v) in body {
            if !GROUP_SETTINGS.iter().any(|(name, _)| *name == key) {
                return Err(ApiError::new(ErrorCode::InvalidAttribute, &[&key]));
            }
            let value = v
                .as_bool()
                .ok_or_else(|| ApiError::new(ErrorCode::InvalidJsonAttribute, &[&key]))?;
            next.insert(key, value);
        }
        self.settings = next;
        Ok(())
    }

    /// Whether Atlas manages the slow-operation threshold.
    pub fn managed_slow_ms(&self) -> bool {
        self.managed_slow_ms
    }

    /// `managedSlowMs/enable` and `/disable`.
    pub fn set_managed_slow_ms(&mut self, on: bool) {
        self.managed_slow_ms = on;
    }

    /// The value set for the limit `name`, if one was.
    pub fn limit(&self, name: &str) -> Option<i64> {
        self.limits.get(name).copied()
    }

    /// Forgets the kits no longer on disk.
    pub fn forget_gone_clusters(&mut self) {
        self.clusters.retain(|_, kit| kit.exists());
    }

    /// `name`, or the first of `name-2`, `name-3`... that no other kit on
    /// disk holds (a kit of the same directory keeps its name); at most 64
    /// characters.
    pub fn free_cluster_name(&self, name: &str, kit: &KitCluster) -> String {
        let free = |n: &str| {
            self.clusters
                .get(n)
                .is_none_or(|held| held.manifest == kit.manifest || !held.exists())
        };
        if free(name) {
            return name.to_string();
        }
        (2..)
            .map(|i| {
                let suffix = format!("-{i}");
                let base: String = name.chars().take(64 - suffix.len()).collect();
                format!("{base}{suffix}")
            })
            .find(|n| free(n))
            .unwrap_or_else(|| name.to_string())
    }

    /// Every kit recorded, by name.
    pub fn clusters(&self) -> impl Iterator<Item = (&String, &KitCluster)> {
        self.clusters.iter()
    }

    /// Records (`Some`) or forgets (`None`) the kit `name`; returns the
    /// one it replaces. A new name past `max` kits is refused.
    pub fn set_cluster(
        &mut self,
        name: &str,
        kit: Option<KitCluster>,
        max: usize,
    ) -> Result<Option<KitCluster>, ApiError> {
        match kit {
            Some(kit) => {
                if !self.clusters.contains_key(name) && self.clusters.len() >= max {
                    let most = max.to_string();
                    return Err(ApiError::new(ErrorCode::ClusterLimitExceeded, &[&most]));
                }
                Ok(self.clusters.insert(name.to_string(), kit))
            }
            None => Ok(self.clusters.remove(name)),
        }
    }

    /// Sets (`Some`) or resets (`None`) the limit `name`.
    pub fn set_limit(&mut self, name: &str, value: Option<i64>) {
        match value {
            Some(v) => self.limits.insert(name.to_string(), v),
            None => self.limits.remove(name),
        };
    }
}

/// The project's stored state (a new project's when nothing is stored).
pub fn load(home: &Home, group_id: &str) -> Result<ProjectState, Error> {
    let registry = home.registry()?;
    let project = project(&registry, group_id)?;
    read(home, &project.id)
}

fn read(home: &Home, project_id: &str) -> Result<ProjectState, Error> {
    let Some(bytes) = read_settings(home.root(), project_id)? else {
        return Ok(ProjectState::fresh());
    };
    serde_json::from_slice(&bytes).map_err(|e| Error::Io {
        path: settings_path(home.root(), project_id),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
    })
}

/// Applies `change` to the project's state and stores it, under the
/// registry's lock; a refused change writes nothing, and a state back to a
/// new project's removes the file.
pub fn update(
    home: &Home,
    group_id: &str,
    change: impl FnOnce(&mut ProjectState) -> Result<(), ApiError>,
) -> Result<ProjectState, Error> {
    let edit = home.edit_registry()?;
    let (_, project) = locate(&edit, group_id)?;
    let mut state = read(home, &project.id)?;
    change(&mut state)?;
    // A new project's state is no file at all: a change undone (a kit's
    // record put back) leaves the home as it was.
    if state == ProjectState::fresh() {
        remove_settings(home.root(), &project.id)?;
    } else {
        let bytes =
            serde_json::to_vec_pretty(&state).map_err(|e| Error::Internal(e.to_string()))?;
        write_settings(home.root(), &project.id, &bytes)?;
    }
    drop(edit);
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_patch_is_whole_or_nothing() {
        let mut state = ProjectState::fresh();
        let body = |v: serde_json::Value| v.as_object().unwrap().clone();
        state
            .patch_settings(body(serde_json::json!({"isDataValidationEnabled": false})))
            .unwrap();
        assert_eq!(state.settings()["isDataValidationEnabled"], false);
        let before = state.clone();
        let err = state
            .patch_settings(body(
                serde_json::json!({"isSchemaAdvisorEnabled": false, "x": true}),
            ))
            .unwrap_err();
        assert_eq!(err.parameters, ["x"]);
        assert_eq!(state, before);
        let names: Vec<_> = state.settings().keys().cloned().collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted, "Atlas's order is alphabetical");
        assert!(state.managed_slow_ms());
    }
}
