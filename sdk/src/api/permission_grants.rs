//! `/oauth2PermissionGrants`: delegated permission consent.

use reqwest::Method;

use super::seg;
use crate::client::GraphClient;
use crate::ids::PermissionGrantId;
use crate::models::OAuth2PermissionGrant;
use crate::request::{Call, GetRequest, ListRequest};

/// `GET /oauth2PermissionGrants`.
pub type ListPermissionGrants = ListRequest<OAuth2PermissionGrant>;
/// `GET /oauth2PermissionGrants/{id}`.
pub type GetPermissionGrant = GetRequest<OAuth2PermissionGrant>;
/// `POST /oauth2PermissionGrants`.
pub type CreatePermissionGrant = Call<OAuth2PermissionGrant>;
/// `PATCH /oauth2PermissionGrants/{id}`.
pub type UpdatePermissionGrant = Call<()>;
/// `DELETE /oauth2PermissionGrants/{id}`.
pub type DeletePermissionGrant = Call<()>;

/// Operations on delegated permission grants; from [`GraphClient::oauth2_permission_grants`].
#[derive(Debug, Clone)]
pub struct PermissionGrantsHandler {
    client: GraphClient,
}

impl GraphClient {
    /// Delegated permission grants (admin or user consent).
    pub fn oauth2_permission_grants(&self) -> PermissionGrantsHandler {
        PermissionGrantsHandler { client: self.clone() }
    }
}

impl PermissionGrantsHandler {
    /// Lists grants.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// use graphbox_sdk::odata::Filter;
    /// let grants = graph.oauth2_permission_grants().list()
    ///     .filter(Filter::eq("clientId", "8b2f6d40-91ce-4a37-b5d8-2e0f7c6a1b95"))
    ///     .send().await?;
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> ListPermissionGrants {
        ListRequest::new(&self.client, "/oauth2PermissionGrants")
    }

    /// Gets a grant.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let grant = graph.oauth2_permission_grants().get("-WmtM5na7Uus0D8kI1yylpU9Mdo0Pb9OoBJvd3T5eKc").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn get(&self, id: impl Into<PermissionGrantId>) -> GetPermissionGrant {
        GetRequest::new(&self.client, format!("/oauth2PermissionGrants/{}", seg(id.into())))
    }

    /// Grants delegated permissions (tenant-wide with `ConsentType::AllPrincipals`).
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// use graphbox_sdk::models::{ConsentType, OAuth2PermissionGrant};
    /// let grant = OAuth2PermissionGrant {
    ///     client_id: Some("8b2f6d40-91ce-4a37-b5d8-2e0f7c6a1b95".into()),
    ///     resource_id: Some("e4c1a9b2-6f03-4d85-9a7e-51b8c3d2f067".into()),
    ///     consent_type: Some(ConsentType::AllPrincipals),
    ///     scope: Some("User.Read Directory.AccessAsUser.All".into()),
    ///     ..Default::default()
    /// };
    /// graph.oauth2_permission_grants().create(grant).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn create(&self, grant: OAuth2PermissionGrant) -> CreatePermissionGrant {
        Call::new(&self.client, Method::POST, "/oauth2PermissionGrants").body(&grant)
    }

    /// Replaces a grant's scopes (space-separated).
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// graph.oauth2_permission_grants()
    ///     .update_scope("-WmtM5na7Uus0D8kI1yylpU9Mdo0Pb9OoBJvd3T5eKc", "User.Read")
    ///     .send().await?;
    /// # Ok(()) }
    /// ```
    pub fn update_scope(&self, id: impl Into<PermissionGrantId>, scope: &str) -> UpdatePermissionGrant {
        let path = format!("/oauth2PermissionGrants/{}", seg(id.into()));
        Call::new(&self.client, Method::PATCH, path).json(serde_json::json!({ "scope": scope }))
    }

    /// Revokes a grant.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// graph.oauth2_permission_grants().delete("-WmtM5na7Uus0D8kI1yylpU9Mdo0Pb9OoBJvd3T5eKc").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn delete(&self, id: impl Into<PermissionGrantId>) -> DeletePermissionGrant {
        Call::new(&self.client, Method::DELETE, format!("/oauth2PermissionGrants/{}", seg(id.into())))
    }
}
