//! `/groups`: CRUD, members, owners, delta.

use reqwest::Method;

use super::{directory_object_ref, seg};
use crate::client::GraphClient;
use crate::delta::DeltaRequest;
use crate::ids::{DirectoryObjectId, GroupId};
use crate::models::{DirectoryObject, Group};
use crate::request::{Call, GetRequest, ListRequest};

/// `GET /groups`.
pub type ListGroups = ListRequest<Group>;
/// `GET /groups/{id}`.
pub type GetGroup = GetRequest<Group>;
/// `POST /groups`.
pub type CreateGroup = Call<Group>;
/// `PATCH /groups/{id}`.
pub type UpdateGroup = Call<()>;
/// `DELETE /groups/{id}`.
pub type DeleteGroup = Call<()>;
/// `GET /groups/{id}/members`.
pub type ListGroupMembers = ListRequest<DirectoryObject>;
/// `POST /groups/{id}/members/$ref` / `DELETE /groups/{id}/members/{member}/$ref`.
pub type ChangeGroupMember = Call<()>;
/// `GET /groups/delta`.
pub type GroupsDelta = DeltaRequest<Group>;
/// `GET /groups/{id}/owners`.
pub type ListGroupOwners = ListRequest<DirectoryObject>;
/// `POST /groups/{id}/owners/$ref` / `DELETE /groups/{id}/owners/{owner}/$ref`.
pub type ChangeGroupOwner = Call<()>;

/// Operations on groups; from [`GraphClient::groups`].
#[derive(Debug, Clone)]
pub struct GroupsHandler {
    client: GraphClient,
}

impl GraphClient {
    /// Groups and their members.
    pub fn groups(&self) -> GroupsHandler {
        GroupsHandler { client: self.clone() }
    }
}

impl GroupsHandler {
    fn path(id: &GroupId) -> String {
        format!("/groups/{}", seg(id))
    }

    /// Lists groups.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let groups = graph.groups().list().select(["id", "displayName"]).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> ListGroups {
        ListRequest::new(&self.client, "/groups")
    }

    /// Gets a group.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let group = graph.groups().get("4c2e1f7a-9b3d-4e6f-8a1c-2d5b7e9f0a13").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn get(&self, id: impl Into<GroupId>) -> GetGroup {
        GetRequest::new(&self.client, Self::path(&id.into()))
    }

    /// Creates a group.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// use graphbox_sdk::models::Group;
    /// let group = graph.groups().create(Group::security("Provisioned", "provisioned")).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn create(&self, group: Group) -> CreateGroup {
        Call::new(&self.client, Method::POST, "/groups").body(&group)
    }

    /// Updates the properties set in `patch`.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// use graphbox_sdk::models::Group;
    /// let patch = Group { description: Some("synced".into()), ..Default::default() };
    /// graph.groups().update("4c2e1f7a-9b3d-4e6f-8a1c-2d5b7e9f0a13", patch).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn update(&self, id: impl Into<GroupId>, patch: Group) -> UpdateGroup {
        Call::new(&self.client, Method::PATCH, Self::path(&id.into())).body(&patch)
    }

    /// Soft-deletes a group.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// graph.groups().delete("4c2e1f7a-9b3d-4e6f-8a1c-2d5b7e9f0a13").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn delete(&self, id: impl Into<GroupId>) -> DeleteGroup {
        Call::new(&self.client, Method::DELETE, Self::path(&id.into()))
    }

    /// Lists direct members.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let members = graph.groups().members("4c2e1f7a-9b3d-4e6f-8a1c-2d5b7e9f0a13").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn members(&self, id: impl Into<GroupId>) -> ListGroupMembers {
        ListRequest::new(&self.client, format!("{}/members", Self::path(&id.into())))
    }

    /// Adds a member.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// graph.groups()
    ///     .add_member("4c2e1f7a-9b3d-4e6f-8a1c-2d5b7e9f0a13", "2d7e9c14-a3b8-4f51-8c06-9e2b4d7a1f30")
    ///     .send().await?;
    /// # Ok(()) }
    /// ```
    pub fn add_member(&self, id: impl Into<GroupId>, member: impl Into<DirectoryObjectId>) -> ChangeGroupMember {
        let body = directory_object_ref(&self.client, &member.into());
        Call::new(&self.client, Method::POST, format!("{}/members/$ref", Self::path(&id.into()))).json(body)
    }

    /// Removes a member.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// graph.groups()
    ///     .remove_member("4c2e1f7a-9b3d-4e6f-8a1c-2d5b7e9f0a13", "2d7e9c14-a3b8-4f51-8c06-9e2b4d7a1f30")
    ///     .send().await?;
    /// # Ok(()) }
    /// ```
    pub fn remove_member(&self, id: impl Into<GroupId>, member: impl Into<DirectoryObjectId>) -> ChangeGroupMember {
        let path = format!("{}/members/{}/$ref", Self::path(&id.into()), seg(member.into()));
        Call::new(&self.client, Method::DELETE, path)
    }

    /// Lists owners.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let owners = graph.groups().owners("4c2e1f7a-9b3d-4e6f-8a1c-2d5b7e9f0a13").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn owners(&self, id: impl Into<GroupId>) -> ListGroupOwners {
        ListRequest::new(&self.client, format!("{}/owners", Self::path(&id.into())))
    }

    /// Adds an owner (a user or service principal).
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// graph.groups()
    ///     .add_owner("4c2e1f7a-9b3d-4e6f-8a1c-2d5b7e9f0a13", "2d7e9c14-a3b8-4f51-8c06-9e2b4d7a1f30")
    ///     .send().await?;
    /// # Ok(()) }
    /// ```
    pub fn add_owner(&self, id: impl Into<GroupId>, owner: impl Into<DirectoryObjectId>) -> ChangeGroupOwner {
        let body = directory_object_ref(&self.client, &owner.into());
        Call::new(&self.client, Method::POST, format!("{}/owners/$ref", Self::path(&id.into()))).json(body)
    }

    /// Removes an owner.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// graph.groups()
    ///     .remove_owner("4c2e1f7a-9b3d-4e6f-8a1c-2d5b7e9f0a13", "2d7e9c14-a3b8-4f51-8c06-9e2b4d7a1f30")
    ///     .send().await?;
    /// # Ok(()) }
    /// ```
    pub fn remove_owner(&self, id: impl Into<GroupId>, owner: impl Into<DirectoryObjectId>) -> ChangeGroupOwner {
        let path = format!("{}/owners/{}/$ref", Self::path(&id.into()), seg(owner.into()));
        Call::new(&self.client, Method::DELETE, path)
    }

    /// Starts a delta query over groups; persist the returned delta link for the next round.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let changes = graph.groups().delta().select(["displayName", "description"]).send().await?;
    /// let link = changes.delta_link.clone();
    /// # Ok(()) }
    /// ```
    pub fn delta(&self) -> GroupsDelta {
        DeltaRequest::new(&self.client, "/groups/delta")
    }

    /// Continues a groups delta query from a stored delta link.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient, link: String) -> Result<(), graphbox_sdk::Error> {
    /// let changes = graph.groups().delta_from(link).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn delta_from(&self, delta_link: impl Into<String>) -> GroupsDelta {
        DeltaRequest::from_link(&self.client, delta_link.into())
    }
}
