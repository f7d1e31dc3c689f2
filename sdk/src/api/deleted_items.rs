//! `/directory/deletedItems`: soft-deleted users, groups, applications and service principals.

use reqwest::Method;
use serde::de::DeserializeOwned;

use super::seg;
use crate::client::GraphClient;
use crate::ids::DirectoryObjectId;
use crate::models::{Application, DirectoryObject, Group, ServicePrincipal, User};
use crate::request::{Call, GetRequest, ListRequest};

/// `GET /directory/deletedItems/microsoft.graph.<type>`.
pub type ListDeletedItems<T> = ListRequest<T>;
/// `GET /directory/deletedItems/{id}`.
pub type GetDeletedItem = GetRequest<DirectoryObject>;
/// `POST /directory/deletedItems/{id}/restore`.
pub type RestoreDeletedItem = Call<DirectoryObject>;
/// `DELETE /directory/deletedItems/{id}`.
pub type PermanentlyDeleteItem = Call<()>;

/// Soft-deleted objects; from [`GraphClient::deleted_items`].
#[derive(Debug, Clone)]
pub struct DeletedItemsHandler {
    client: GraphClient,
}

impl GraphClient {
    /// Soft-deleted objects: list by type, restore, delete permanently.
    pub fn deleted_items(&self) -> DeletedItemsHandler {
        DeletedItemsHandler { client: self.clone() }
    }
}

impl DeletedItemsHandler {
    fn of<T: DeserializeOwned + Send + 'static>(&self, cast: &str) -> ListDeletedItems<T> {
        ListRequest::new(&self.client, format!("/directory/deletedItems/{cast}"))
    }

    /// Lists deleted users.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let deleted = graph.deleted_items().users().send().await?;
    /// # Ok(()) }
    /// ```
    pub fn users(&self) -> ListDeletedItems<User> {
        self.of("microsoft.graph.user")
    }

    /// Lists deleted groups.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let deleted = graph.deleted_items().groups().send().await?;
    /// # Ok(()) }
    /// ```
    pub fn groups(&self) -> ListDeletedItems<Group> {
        self.of("microsoft.graph.group")
    }

    /// Lists deleted applications.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let deleted = graph.deleted_items().applications().send().await?;
    /// # Ok(()) }
    /// ```
    pub fn applications(&self) -> ListDeletedItems<Application> {
        self.of("microsoft.graph.application")
    }

    /// Lists deleted service principals.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let deleted = graph.deleted_items().service_principals().send().await?;
    /// # Ok(()) }
    /// ```
    pub fn service_principals(&self) -> ListDeletedItems<ServicePrincipal> {
        self.of("microsoft.graph.servicePrincipal")
    }

    /// Gets a deleted object.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let item = graph.deleted_items().get("2d7e9c14-a3b8-4f51-8c06-9e2b4d7a1f30").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn get(&self, id: impl Into<DirectoryObjectId>) -> GetDeletedItem {
        GetRequest::new(&self.client, format!("/directory/deletedItems/{}", seg(id.into())))
    }

    /// Restores a deleted object.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let restored = graph.deleted_items().restore("2d7e9c14-a3b8-4f51-8c06-9e2b4d7a1f30").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn restore(&self, id: impl Into<DirectoryObjectId>) -> RestoreDeletedItem {
        Call::new(&self.client, Method::POST, format!("/directory/deletedItems/{}/restore", seg(id.into())))
    }

    /// Deletes an object permanently.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// graph.deleted_items().permanently_delete("2d7e9c14-a3b8-4f51-8c06-9e2b4d7a1f30").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn permanently_delete(&self, id: impl Into<DirectoryObjectId>) -> PermanentlyDeleteItem {
        Call::new(&self.client, Method::DELETE, format!("/directory/deletedItems/{}", seg(id.into())))
    }
}
