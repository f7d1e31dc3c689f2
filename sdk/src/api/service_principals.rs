//! `/servicePrincipals`: an application's identity in the tenant, and app role assignments.

use reqwest::Method;

use super::applications::{ChangeOwner, ListOwners};
use super::{directory_object_ref, odata_key, seg};
use crate::client::GraphClient;
use crate::ids::{AppId, AppRoleAssignmentId, DirectoryObjectId, ServicePrincipalId};
use crate::models::{AppRoleAssignment, DirectoryObject, ServicePrincipal};
use crate::request::{Call, GetRequest, ListRequest};

/// `GET /servicePrincipals`.
pub type ListServicePrincipals = ListRequest<ServicePrincipal>;
/// `GET /servicePrincipals/{id}` or `/servicePrincipals(appId='…')`.
pub type GetServicePrincipal = GetRequest<ServicePrincipal>;
/// `POST /servicePrincipals`.
pub type CreateServicePrincipal = Call<ServicePrincipal>;
/// `DELETE /servicePrincipals/{id}`.
pub type DeleteServicePrincipal = Call<()>;
/// `GET /servicePrincipals/{id}/appRoleAssignedTo` or `/appRoleAssignments`.
pub type ListAppRoleAssignments = ListRequest<AppRoleAssignment>;
/// `POST /servicePrincipals/{resource}/appRoleAssignedTo`.
pub type CreateAppRoleAssignment = Call<AppRoleAssignment>;
/// `DELETE /servicePrincipals/{resource}/appRoleAssignedTo/{id}`.
pub type DeleteAppRoleAssignment = Call<()>;
/// `GET /servicePrincipals/{id}/ownedObjects`.
pub type ListOwnedObjects = ListRequest<DirectoryObject>;

/// Operations on service principals; from [`GraphClient::service_principals`].
#[derive(Debug, Clone)]
pub struct ServicePrincipalsHandler {
    client: GraphClient,
}

impl GraphClient {
    /// Service principals and application permission grants.
    pub fn service_principals(&self) -> ServicePrincipalsHandler {
        ServicePrincipalsHandler { client: self.clone() }
    }
}

impl ServicePrincipalsHandler {
    fn path(id: &ServicePrincipalId) -> String {
        format!("/servicePrincipals/{}", seg(id))
    }

    /// Lists service principals.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// use graphbox_sdk::odata::Filter;
    /// let sps = graph.service_principals().list()
    ///     .filter(Filter::eq("appId", "00000003-0000-0000-c000-000000000000"))
    ///     .send().await?;
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> ListServicePrincipals {
        ListRequest::new(&self.client, "/servicePrincipals")
    }

    /// Gets a service principal by object id.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let sp = graph.service_principals().get("8b2f6d40-91ce-4a37-b5d8-2e0f7c6a1b95").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn get(&self, id: impl Into<ServicePrincipalId>) -> GetServicePrincipal {
        GetRequest::new(&self.client, Self::path(&id.into()))
    }

    /// Gets the service principal of an application: `GET /servicePrincipals(appId='…')`.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// use graphbox_sdk::permissions::MICROSOFT_GRAPH_APP_ID;
    /// let graph_sp = graph.service_principals().get_by_app_id(MICROSOFT_GRAPH_APP_ID)
    ///     .select(["id", "appId", "appRoles"])
    ///     .send().await?;
    /// # Ok(()) }
    /// ```
    pub fn get_by_app_id(&self, app_id: impl Into<AppId>) -> GetServicePrincipal {
        GetRequest::new(&self.client, format!("/servicePrincipals{}", odata_key("appId", &app_id.into())))
    }

    /// Creates the service principal for an application.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// use graphbox_sdk::models::ServicePrincipal;
    /// let sp = graph.service_principals()
    ///     .create(ServicePrincipal::for_app("3c9e8a71-2b4d-4f60-a8e5-7d1c0b9e2f34"))
    ///     .send().await?;
    /// # Ok(()) }
    /// ```
    pub fn create(&self, service_principal: ServicePrincipal) -> CreateServicePrincipal {
        Call::new(&self.client, Method::POST, "/servicePrincipals").body(&service_principal)
    }

    /// Deletes a service principal.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// graph.service_principals().delete("8b2f6d40-91ce-4a37-b5d8-2e0f7c6a1b95").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn delete(&self, id: impl Into<ServicePrincipalId>) -> DeleteServicePrincipal {
        Call::new(&self.client, Method::DELETE, Self::path(&id.into()))
    }

    /// Lists the app roles of this (resource) service principal granted to others.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let grants = graph.service_principals().app_role_assigned_to("e4c1a9b2-6f03-4d85-9a7e-51b8c3d2f067").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn app_role_assigned_to(&self, resource: impl Into<ServicePrincipalId>) -> ListAppRoleAssignments {
        ListRequest::new(&self.client, format!("{}/appRoleAssignedTo", Self::path(&resource.into())))
    }

    /// Grants an application permission: an app role of `resource` to a client service principal.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// use graphbox_sdk::{ids::ServicePrincipalId, models::AppRoleAssignment, permissions::GraphPermission};
    /// let graph_sp = ServicePrincipalId::new("e4c1a9b2-6f03-4d85-9a7e-51b8c3d2f067");
    /// let client_sp = ServicePrincipalId::new("8b2f6d40-91ce-4a37-b5d8-2e0f7c6a1b95");
    /// let role = GraphPermission::UserReadWriteAll.app_role_id().expect("application permission");
    /// let assignment = AppRoleAssignment::new(&client_sp, &graph_sp, role);
    /// graph.service_principals().grant_app_role(&graph_sp, assignment).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn grant_app_role(
        &self,
        resource: impl Into<ServicePrincipalId>,
        assignment: AppRoleAssignment,
    ) -> CreateAppRoleAssignment {
        Call::new(&self.client, Method::POST, format!("{}/appRoleAssignedTo", Self::path(&resource.into())))
            .body(&assignment)
    }

    /// Revokes an app role assignment.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// graph.service_principals()
    ///     .revoke_app_role("e4c1a9b2-6f03-4d85-9a7e-51b8c3d2f067", "QG0vi86RN0q12C4PfGobleKZDW1rQLNKufM1z2DcNbE")
    ///     .send().await?;
    /// # Ok(()) }
    /// ```
    pub fn revoke_app_role(
        &self,
        resource: impl Into<ServicePrincipalId>,
        assignment: impl Into<AppRoleAssignmentId>,
    ) -> DeleteAppRoleAssignment {
        let path = format!("{}/appRoleAssignedTo/{}", Self::path(&resource.into()), seg(assignment.into()));
        Call::new(&self.client, Method::DELETE, path)
    }

    /// Lists the app roles granted to this (client) service principal.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let mine = graph.service_principals().app_role_assignments("8b2f6d40-91ce-4a37-b5d8-2e0f7c6a1b95").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn app_role_assignments(&self, principal: impl Into<ServicePrincipalId>) -> ListAppRoleAssignments {
        ListRequest::new(&self.client, format!("{}/appRoleAssignments", Self::path(&principal.into())))
    }

    /// Lists the service principal's owners (users and service principals).
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let owners = graph.service_principals().owners("9d3f6a2b-1c4e-4f7a-8b5d-3e6c9a1f2b48").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn owners(&self, id: impl Into<ServicePrincipalId>) -> ListOwners {
        ListRequest::new(&self.client, format!("{}/owners", Self::path(&id.into())))
    }

    /// Adds an owner (a user or service principal). An app holding only
    /// `Application.ReadWrite.OwnedBy` may not: Graph answers 403.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// graph.service_principals()
    ///     .add_owner("9d3f6a2b-1c4e-4f7a-8b5d-3e6c9a1f2b48", "2d7e9c14-a3b8-4f51-8c06-9e2b4d7a1f30")
    ///     .send().await?;
    /// # Ok(()) }
    /// ```
    pub fn add_owner(&self, id: impl Into<ServicePrincipalId>, owner: impl Into<DirectoryObjectId>) -> ChangeOwner {
        let body = directory_object_ref(&self.client, &owner.into());
        Call::new(&self.client, Method::POST, format!("{}/owners/$ref", Self::path(&id.into()))).json(body)
    }

    /// Removes an owner.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// graph.service_principals()
    ///     .remove_owner("9d3f6a2b-1c4e-4f7a-8b5d-3e6c9a1f2b48", "2d7e9c14-a3b8-4f51-8c06-9e2b4d7a1f30")
    ///     .send().await?;
    /// # Ok(()) }
    /// ```
    pub fn remove_owner(&self, id: impl Into<ServicePrincipalId>, owner: impl Into<DirectoryObjectId>) -> ChangeOwner {
        let path = format!("{}/owners/{}/$ref", Self::path(&id.into()), seg(owner.into()));
        Call::new(&self.client, Method::DELETE, path)
    }

    /// The applications, service principals and groups the service principal owns: how an app
    /// holding only `Application.ReadWrite.OwnedBy` finds what it may manage.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let owned = graph.service_principals().owned_objects("9d3f6a2b-1c4e-4f7a-8b5d-3e6c9a1f2b48").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn owned_objects(&self, id: impl Into<ServicePrincipalId>) -> ListOwnedObjects {
        ListRequest::new(&self.client, format!("{}/ownedObjects", Self::path(&id.into())))
    }
}
