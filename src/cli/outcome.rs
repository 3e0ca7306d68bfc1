//! How a command ends: its [`Failure`], and the project it acts on, which
//! every handler picks the same way.

use super::args_shared::ProjectArg;
use crate::api::{self, Error};
use crate::store::{Home, Registry};

/// Why a command failed: the library's error, or a command line that asks
/// for something impossible.
#[derive(Debug)]
pub(super) enum Failure {
    Core(Error),
    Usage(String),
}

impl<E: Into<Error>> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure::Core(e.into())
    }
}

pub(super) type Outcome = Result<(), Failure>;

/// The project to act on: `--projectId` / `MONGODB_ATLAS_PROJECT_ID`, else
/// the registry's only project, else the home's default (`projects use`).
pub(super) fn select_project(
    home: &Home,
    registry: &Registry,
    arg: &ProjectArg,
) -> Result<String, Failure> {
    if let Some(id) = &arg.project_id {
        // A project's name where its id is asked, as Atlas CLI users try;
        // an id is always taken as an id.
        if !crate::model::is_project_id(id)
            && let Some(p) = registry
                .projects
                .iter()
                .find(|p| p.name.as_deref() == Some(id.as_str()))
        {
            return Ok(p.id.clone());
        }
        return Ok(api::project(registry, id)?.id.clone());
    }
    match registry.projects.as_slice() {
        [only] => Ok(only.id.clone()),
        [] => Err(Failure::Usage(
            "the registry has no projects; add a [[projects]] table".into(),
        )),
        many => {
            if let Some(id) = home.default_project()? {
                return match api::project(registry, &id) {
                    Ok(p) => Ok(p.id.clone()),
                    Err(_) => Err(Failure::Usage(format!(
                        "the default project {id} (atlas-ca projects use) is not in the registry; \
                         choose another with atlas-ca projects use ID"
                    ))),
                };
            }
            let listed: Vec<String> = many
                .iter()
                .map(|p| match &p.name {
                    Some(name) => format!("{} ({name})", p.id),
                    None => p.id.clone(),
                })
                .collect();
            Err(Failure::Usage(format!(
                "the registry has {} projects: {}; choose one with --projectId ID or NAME \
                 (or MONGODB_ATLAS_PROJECT_ID), or name a default with atlas-ca projects use ID",
                many.len(),
                listed.join(", ")
            )))
        }
    }
}
