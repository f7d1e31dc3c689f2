//! Directory role assignments (tenant-wide): what feeds `wids` and the
//! delegated authorization of signed-in users. Issue #4 grows this into the
//! `directoryRoles` and `roleManagement` APIs.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Directory;

/// A directory role given to a user or service principal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RoleAssignment {
    pub id: String,
    pub principal_id: Uuid,
    pub role_definition_id: Uuid,
    pub directory_scope_id: String,
}

impl Directory {
    pub(crate) fn assign_directory_role(&mut self, principal: Uuid, template: Uuid) {
        let id = self.new_opaque_id();
        self.role_assignments.push(RoleAssignment {
            id,
            principal_id: principal,
            role_definition_id: template,
            directory_scope_id: "/".to_owned(),
        });
    }

    /// Directory role template ids held tenant-wide by `principal`, for `wids`.
    pub(crate) fn role_template_ids_of(&self, principal: Uuid) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = self
            .role_assignments
            .iter()
            .filter(|r| r.principal_id == principal && r.directory_scope_id == "/")
            .map(|r| r.role_definition_id)
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}
