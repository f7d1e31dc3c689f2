//! Directory roles (legacy `/directoryRoles`, `/directoryRoleTemplates`) and unified RBAC
//! (`/roleManagement/directory`).

use reqwest::Method;

use super::{directory_object_ref, seg};
use crate::client::GraphClient;
use crate::ids::{DirectoryObjectId, DirectoryRoleId, RoleAssignmentId, RoleDefinitionId, RoleTemplateId};
use crate::models::{
    DirectoryObject, DirectoryRole, DirectoryRoleTemplate, UnifiedRoleAssignment, UnifiedRoleDefinition,
};
use crate::request::{Call, GetRequest, ListRequest};

/// `GET /directoryRoles`.
pub type ListDirectoryRoles = ListRequest<DirectoryRole>;
/// `POST /directoryRoles` (activate a template).
pub type ActivateDirectoryRole = Call<DirectoryRole>;
/// `GET /directoryRoles/{id}/members`.
pub type ListRoleMembers = ListRequest<DirectoryObject>;
/// `POST /directoryRoles/{id}/members/$ref` / `DELETE …/members/{id}/$ref`.
pub type ChangeRoleMember = Call<()>;
/// `GET /directoryRoleTemplates`.
pub type ListDirectoryRoleTemplates = ListRequest<DirectoryRoleTemplate>;
/// `GET /roleManagement/directory/roleDefinitions`.
pub type ListRoleDefinitions = ListRequest<UnifiedRoleDefinition>;
/// `GET /roleManagement/directory/roleDefinitions/{id}`.
pub type GetRoleDefinition = GetRequest<UnifiedRoleDefinition>;
/// `GET /roleManagement/directory/roleAssignments`.
pub type ListRoleAssignments = ListRequest<UnifiedRoleAssignment>;
/// `GET /roleManagement/directory/roleAssignments/{id}`.
pub type GetRoleAssignment = GetRequest<UnifiedRoleAssignment>;
/// `POST /roleManagement/directory/roleAssignments`.
pub type CreateRoleAssignment = Call<UnifiedRoleAssignment>;
/// `DELETE /roleManagement/directory/roleAssignments/{id}`.
pub type DeleteRoleAssignment = Call<()>;

/// Activated directory roles; from [`GraphClient::directory_roles`].
#[derive(Debug, Clone)]
pub struct DirectoryRolesHandler {
    client: GraphClient,
}

/// Role templates; from [`GraphClient::directory_role_templates`].
#[derive(Debug, Clone)]
pub struct DirectoryRoleTemplatesHandler {
    client: GraphClient,
}

/// Unified RBAC for the directory; from [`GraphClient::role_management`].
#[derive(Debug, Clone)]
pub struct RoleManagementHandler {
    client: GraphClient,
}

impl GraphClient {
    /// Activated directory roles and their members.
    pub fn directory_roles(&self) -> DirectoryRolesHandler {
        DirectoryRolesHandler { client: self.clone() }
    }

    /// Directory role templates.
    pub fn directory_role_templates(&self) -> DirectoryRoleTemplatesHandler {
        DirectoryRoleTemplatesHandler { client: self.clone() }
    }

    /// Role definitions and assignments (`/roleManagement/directory`).
    pub fn role_management(&self) -> RoleManagementHandler {
        RoleManagementHandler { client: self.clone() }
    }
}

impl DirectoryRolesHandler {
    /// Lists activated roles (not paged).
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let roles = graph.directory_roles().list().send().await?;
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> ListDirectoryRoles {
        ListRequest::new(&self.client, "/directoryRoles")
    }

    /// Activates the role of a template.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// use graphbox_sdk::permissions::DirectoryRole;
    /// let role = graph.directory_roles().activate(DirectoryRole::UserAdministrator.template_id()).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn activate(&self, template: impl Into<RoleTemplateId>) -> ActivateDirectoryRole {
        let body = serde_json::json!({ "roleTemplateId": template.into() });
        Call::new(&self.client, Method::POST, "/directoryRoles").json(body)
    }

    /// Lists a role's members.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let members = graph.directory_roles().members("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn members(&self, role: impl Into<DirectoryRoleId>) -> ListRoleMembers {
        ListRequest::new(&self.client, format!("/directoryRoles/{}/members", seg(role.into())))
    }

    /// Adds a member (user, group or service principal) to a role.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// graph.directory_roles()
    ///     .add_member("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "8b2f6d40-91ce-4a37-b5d8-2e0f7c6a1b95")
    ///     .send().await?;
    /// # Ok(()) }
    /// ```
    pub fn add_member(
        &self,
        role: impl Into<DirectoryRoleId>,
        member: impl Into<DirectoryObjectId>,
    ) -> ChangeRoleMember {
        let body = directory_object_ref(&self.client, &member.into());
        Call::new(&self.client, Method::POST, format!("/directoryRoles/{}/members/$ref", seg(role.into()))).json(body)
    }

    /// Removes a member from a role.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// graph.directory_roles()
    ///     .remove_member("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "8b2f6d40-91ce-4a37-b5d8-2e0f7c6a1b95")
    ///     .send().await?;
    /// # Ok(()) }
    /// ```
    pub fn remove_member(
        &self,
        role: impl Into<DirectoryRoleId>,
        member: impl Into<DirectoryObjectId>,
    ) -> ChangeRoleMember {
        let path = format!("/directoryRoles/{}/members/{}/$ref", seg(role.into()), seg(member.into()));
        Call::new(&self.client, Method::DELETE, path)
    }
}

impl DirectoryRoleTemplatesHandler {
    /// Lists every role template.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let templates = graph.directory_role_templates().list().send().await?;
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> ListDirectoryRoleTemplates {
        ListRequest::new(&self.client, "/directoryRoleTemplates")
    }
}

impl RoleManagementHandler {
    /// Lists role definitions.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let defs = graph.role_management().role_definitions().send().await?;
    /// # Ok(()) }
    /// ```
    pub fn role_definitions(&self) -> ListRoleDefinitions {
        ListRequest::new(&self.client, "/roleManagement/directory/roleDefinitions")
    }

    /// Gets a role definition.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let def = graph.role_management().role_definition("62e90394-69f5-4237-9190-012177145e10").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn role_definition(&self, id: impl Into<RoleDefinitionId>) -> GetRoleDefinition {
        GetRequest::new(&self.client, format!("/roleManagement/directory/roleDefinitions/{}", seg(id.into())))
    }

    /// Lists role assignments.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// use graphbox_sdk::odata::Filter;
    /// let mine = graph.role_management().role_assignments()
    ///     .filter(Filter::eq("principalId", "8b2f6d40-91ce-4a37-b5d8-2e0f7c6a1b95"))
    ///     .send().await?;
    /// # Ok(()) }
    /// ```
    pub fn role_assignments(&self) -> ListRoleAssignments {
        ListRequest::new(&self.client, "/roleManagement/directory/roleAssignments")
    }

    /// Gets a role assignment by its (opaque) id.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let assignment = graph.role_management()
    ///     .role_assignment("lAPpYvVpN0KRkAEhdxReEJC2sEqbR_9Hr48lds9SGHI-1")
    ///     .send().await?;
    /// # Ok(()) }
    /// ```
    pub fn role_assignment(&self, id: impl Into<RoleAssignmentId>) -> GetRoleAssignment {
        GetRequest::new(&self.client, format!("/roleManagement/directory/roleAssignments/{}", seg(id.into())))
    }

    /// Assigns a role.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// use graphbox_sdk::{models::UnifiedRoleAssignment, permissions::DirectoryRole};
    /// let assignment = UnifiedRoleAssignment::tenant_wide(
    ///     "8b2f6d40-91ce-4a37-b5d8-2e0f7c6a1b95",
    ///     DirectoryRole::GlobalAdministrator.template_id(),
    /// );
    /// graph.role_management().assign(assignment).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn assign(&self, assignment: UnifiedRoleAssignment) -> CreateRoleAssignment {
        Call::new(&self.client, Method::POST, "/roleManagement/directory/roleAssignments").body(&assignment)
    }

    /// Removes a role assignment.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// graph.role_management().unassign("lAPpYvVpN0KRkAEhdxReEJC2sEqbR_9Hr48lds9SGHI-1").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn unassign(&self, id: impl Into<RoleAssignmentId>) -> DeleteRoleAssignment {
        Call::new(&self.client, Method::DELETE, format!("/roleManagement/directory/roleAssignments/{}", seg(id.into())))
    }
}
