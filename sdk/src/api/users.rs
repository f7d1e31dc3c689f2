//! `/users`: CRUD, manager, memberships, licences, delta.

use reqwest::Method;

use super::{directory_object_ref, seg};
use crate::client::GraphClient;
use crate::delta::DeltaRequest;
use crate::ids::{DirectoryObjectId, UserId};
use crate::models::{AssignLicense, DirectoryObject, LicenseDetails, User};
use crate::request::{Call, CountRequest, GetRequest, ListRequest};

/// `GET /users`.
pub type ListUsers = ListRequest<User>;
/// `GET /users/$count`.
pub type CountUsers = CountRequest;
/// `GET /users/{id}`.
pub type GetUser = GetRequest<User>;
/// `POST /users`.
pub type CreateUser = Call<User>;
/// `PATCH /users/{id}`.
pub type UpdateUser = Call<()>;
/// `DELETE /users/{id}`.
pub type DeleteUser = Call<()>;
/// `GET /users/{id}/manager`.
pub type GetManager = GetRequest<DirectoryObject>;
/// `PUT /users/{id}/manager/$ref`.
pub type SetManager = Call<()>;
/// `DELETE /users/{id}/manager/$ref`.
pub type RemoveManager = Call<()>;
/// `GET /users/{id}/memberOf`.
pub type ListMemberOf = ListRequest<DirectoryObject>;
/// `GET /users/{id}/licenseDetails`.
pub type ListLicenseDetails = ListRequest<LicenseDetails>;
/// `POST /users/{id}/assignLicense`.
pub type AssignLicenseCall = Call<User>;
/// `GET /users/delta`.
pub type UsersDelta = DeltaRequest<User>;

/// Operations on users; from [`GraphClient::users`].
#[derive(Debug, Clone)]
pub struct UsersHandler {
    client: GraphClient,
}

impl GraphClient {
    /// Users: `graph.users().list()`, `.get(id)`, `.create(user)`, …
    pub fn users(&self) -> UsersHandler {
        UsersHandler { client: self.clone() }
    }
}

impl UsersHandler {
    /// Lists users.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// use graphbox_sdk::odata::Filter;
    /// let page = graph.users().list()
    ///     .filter(Filter::starts_with("displayName", "Mi"))
    ///     .select(["id", "displayName"])
    ///     .top(50)
    ///     .send().await?;
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> ListUsers {
        ListRequest::new(&self.client, "/users")
    }

    /// Counts users (`GET /users/$count`).
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// use graphbox_sdk::odata::Filter;
    /// let guests = graph.users().count().filter(Filter::eq("userType", "Guest")).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn count(&self) -> CountUsers {
        CountRequest::new(&self.client, "/users")
    }

    /// Gets a user by id or UPN.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let user = graph.users().get("mira@contoso.onmicrosoft.com")
    ///     .select(["id", "usageLocation"])
    ///     .send().await?;
    /// # Ok(()) }
    /// ```
    pub fn get(&self, id: impl Into<UserId>) -> GetUser {
        GetRequest::new(&self.client, format!("/users/{}", seg(id.into())))
    }

    /// Creates a user; Graph answers with the default property set.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// use graphbox_sdk::models::User;
    /// let new = User::new("Mira Okafor", "mira", "mira@contoso.onmicrosoft.com", "Vk3#pL9!wQz2");
    /// let created = graph.users().create(new).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn create(&self, user: User) -> CreateUser {
        Call::new(&self.client, Method::POST, "/users").body(&user)
    }

    /// Updates the properties set in `patch` (Graph answers 204).
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// use graphbox_sdk::models::User;
    /// let patch = User { usage_location: Some("SE".into()), ..Default::default() };
    /// graph.users().update("mira@contoso.onmicrosoft.com", patch).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn update(&self, id: impl Into<UserId>, patch: User) -> UpdateUser {
        Call::new(&self.client, Method::PATCH, format!("/users/{}", seg(id.into()))).body(&patch)
    }

    /// Soft-deletes a user (restorable from deleted items for 30 days).
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// graph.users().delete("mira@contoso.onmicrosoft.com").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn delete(&self, id: impl Into<UserId>) -> DeleteUser {
        Call::new(&self.client, Method::DELETE, format!("/users/{}", seg(id.into())))
    }

    /// Gets a user's manager (404 when there is none).
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let manager = graph.users().manager("mira@contoso.onmicrosoft.com").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn manager(&self, id: impl Into<UserId>) -> GetManager {
        GetRequest::new(&self.client, format!("/users/{}/manager", seg(id.into())))
    }

    /// Sets a user's manager.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// use graphbox_sdk::ids::DirectoryObjectId;
    /// let boss = DirectoryObjectId::new("6c0b8e25-1f94-4d7a-b3e2-8a5f9c1d4e67");
    /// graph.users().set_manager("mira@contoso.onmicrosoft.com", &boss).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn set_manager(&self, id: impl Into<UserId>, manager: impl Into<DirectoryObjectId>) -> SetManager {
        let body = directory_object_ref(&self.client, &manager.into());
        Call::new(&self.client, Method::PUT, format!("/users/{}/manager/$ref", seg(id.into()))).json(body)
    }

    /// Removes a user's manager.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// graph.users().remove_manager("mira@contoso.onmicrosoft.com").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn remove_manager(&self, id: impl Into<UserId>) -> RemoveManager {
        Call::new(&self.client, Method::DELETE, format!("/users/{}/manager/$ref", seg(id.into())))
    }

    /// Lists the groups and directory roles a user is a direct member of.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let groups = graph.users().member_of("mira@contoso.onmicrosoft.com").send().await?;
    /// for object in &groups.value {
    ///     println!("{:?} {:?}", object.odata_type, object.display_name);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn member_of(&self, id: impl Into<UserId>) -> ListMemberOf {
        ListRequest::new(&self.client, format!("/users/{}/memberOf", seg(id.into())))
    }

    /// Lists a user's licence details.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let licences = graph.users().license_details("mira@contoso.onmicrosoft.com").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn license_details(&self, id: impl Into<UserId>) -> ListLicenseDetails {
        ListRequest::new(&self.client, format!("/users/{}/licenseDetails", seg(id.into())))
    }

    /// Adds and removes licences (the user needs a `usageLocation`).
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// use graphbox_sdk::models::{AssignLicense, AssignedLicense};
    /// let change = AssignLicense {
    ///     add_licenses: vec![AssignedLicense { sku_id: Some("c42b9cae-ea4f-4ab7-9717-81576235ccac".into()), ..Default::default() }],
    ///     remove_licenses: vec![],
    /// };
    /// graph.users().assign_license("mira@contoso.onmicrosoft.com", change).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn assign_license(&self, id: impl Into<UserId>, change: AssignLicense) -> AssignLicenseCall {
        Call::new(&self.client, Method::POST, format!("/users/{}/assignLicense", seg(id.into()))).body(&change)
    }

    /// Starts a delta query over users; persist the returned delta link for the next round.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let changes = graph.users().delta().select(["displayName", "mail"]).send().await?;
    /// let link = changes.delta_link.clone();
    /// # Ok(()) }
    /// ```
    pub fn delta(&self) -> UsersDelta {
        DeltaRequest::new(&self.client, "/users/delta")
    }

    /// Continues a delta query from a stored delta link.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient, link: String) -> Result<(), graphbox_sdk::Error> {
    /// let changes = graph.users().delta_from(link).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn delta_from(&self, delta_link: impl Into<String>) -> UsersDelta {
        DeltaRequest::from_link(&self.client, delta_link.into())
    }
}
