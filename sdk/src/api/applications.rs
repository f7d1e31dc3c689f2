//! `/applications`: registrations, secrets and certificates.

use reqwest::Method;

use super::{directory_object_ref, odata_key, seg};
use crate::client::GraphClient;
use crate::ids::{AppId, ApplicationId, DirectoryObjectId, KeyId};
use crate::models::{AddKey, Application, DirectoryObject, KeyCredential, PasswordCredential};
use crate::request::{Call, GetRequest, ListRequest};

/// `GET /applications`.
pub type ListApplications = ListRequest<Application>;
/// `GET /applications/{id}` or `/applications(appId='…')`.
pub type GetApplication = GetRequest<Application>;
/// `POST /applications`.
pub type CreateApplication = Call<Application>;
/// `PATCH /applications/{id}`.
pub type UpdateApplication = Call<()>;
/// `DELETE /applications/{id}`.
pub type DeleteApplication = Call<()>;
/// `POST /applications/{id}/addPassword`.
pub type AddPassword = Call<PasswordCredential>;
/// `POST /applications/{id}/removePassword`.
pub type RemovePassword = Call<()>;
/// `POST /applications/{id}/addKey`.
pub type AddKeyCall = Call<KeyCredential>;
/// `GET /applications/{id}/owners` and `GET /servicePrincipals/{id}/owners`.
pub type ListOwners = ListRequest<DirectoryObject>;
/// `POST …/owners/$ref` / `DELETE …/owners/{owner}/$ref` on an application or service principal.
pub type ChangeOwner = Call<()>;

/// Operations on application registrations; from [`GraphClient::applications`].
#[derive(Debug, Clone)]
pub struct ApplicationsHandler {
    client: GraphClient,
}

impl GraphClient {
    /// Application registrations.
    pub fn applications(&self) -> ApplicationsHandler {
        ApplicationsHandler { client: self.clone() }
    }
}

impl ApplicationsHandler {
    fn path(id: &ApplicationId) -> String {
        format!("/applications/{}", seg(id))
    }

    /// Lists applications.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// use graphbox_sdk::odata::Filter;
    /// let apps = graph.applications().list().filter(Filter::eq("displayName", "fake-automation")).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> ListApplications {
        ListRequest::new(&self.client, "/applications")
    }

    /// Gets an application by object id.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let app = graph.applications().get("0f4b2c87-6d1e-4f3a-9b58-2c7e1d0a9f64").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn get(&self, id: impl Into<ApplicationId>) -> GetApplication {
        GetRequest::new(&self.client, Self::path(&id.into()))
    }

    /// Gets an application by its client id: `GET /applications(appId='…')`.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let app = graph.applications().get_by_app_id("3c9e8a71-2b4d-4f60-a8e5-7d1c0b9e2f34").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn get_by_app_id(&self, app_id: impl Into<AppId>) -> GetApplication {
        GetRequest::new(&self.client, format!("/applications{}", odata_key("appId", &app_id.into())))
    }

    /// Registers an application.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// use graphbox_sdk::models::Application;
    /// let app = graph.applications().create(Application::new("fake-automation")).send().await?;
    /// println!("client id {:?}", app.app_id);
    /// # Ok(()) }
    /// ```
    pub fn create(&self, application: Application) -> CreateApplication {
        Call::new(&self.client, Method::POST, "/applications").body(&application)
    }

    /// Updates the properties set in `patch`.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// use graphbox_sdk::models::Application;
    /// let patch = Application { display_name: Some("renamed".into()), ..Default::default() };
    /// graph.applications().update("0f4b2c87-6d1e-4f3a-9b58-2c7e1d0a9f64", patch).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn update(&self, id: impl Into<ApplicationId>, patch: Application) -> UpdateApplication {
        Call::new(&self.client, Method::PATCH, Self::path(&id.into())).body(&patch)
    }

    /// Soft-deletes an application.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// graph.applications().delete("0f4b2c87-6d1e-4f3a-9b58-2c7e1d0a9f64").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn delete(&self, id: impl Into<ApplicationId>) -> DeleteApplication {
        Call::new(&self.client, Method::DELETE, Self::path(&id.into()))
    }

    /// Adds a client secret; the answer's `secret_text` is the only time the secret is shown.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// use graphbox_sdk::models::PasswordCredential;
    /// let request = PasswordCredential { display_name: Some("ci".into()), ..Default::default() };
    /// let secret = graph.applications().add_password("0f4b2c87-6d1e-4f3a-9b58-2c7e1d0a9f64", request).send().await?;
    /// let text = secret.secret_text.expect("returned once");
    /// # Ok(()) }
    /// ```
    pub fn add_password(&self, id: impl Into<ApplicationId>, credential: PasswordCredential) -> AddPassword {
        let body = serde_json::json!({ "passwordCredential": credential });
        Call::new(&self.client, Method::POST, format!("{}/addPassword", Self::path(&id.into()))).json(body)
    }

    /// Removes a client secret by its `keyId`.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// graph.applications()
    ///     .remove_password("0f4b2c87-6d1e-4f3a-9b58-2c7e1d0a9f64", "a6c3f0e1-7b24-4d98-8e15-3c2b9d0f7a64")
    ///     .send().await?;
    /// # Ok(()) }
    /// ```
    pub fn remove_password(&self, id: impl Into<ApplicationId>, key_id: impl Into<KeyId>) -> RemovePassword {
        let body = serde_json::json!({ "keyId": key_id.into() });
        Call::new(&self.client, Method::POST, format!("{}/removePassword", Self::path(&id.into()))).json(body)
    }

    /// Adds a certificate, proving possession of an existing one with `proof`.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient, proof: String, cert_b64: String) -> Result<(), graphbox_sdk::Error> {
    /// use graphbox_sdk::models::{AddKey, KeyCredential};
    /// let key = KeyCredential { kind: Some("AsymmetricX509Cert".into()), usage: Some("Verify".into()), key: Some(cert_b64), ..Default::default() };
    /// let added = graph.applications()
    ///     .add_key("0f4b2c87-6d1e-4f3a-9b58-2c7e1d0a9f64", AddKey { key_credential: key, password_credential: None, proof })
    ///     .send().await?;
    /// # Ok(()) }
    /// ```
    pub fn add_key(&self, id: impl Into<ApplicationId>, request: AddKey) -> AddKeyCall {
        Call::new(&self.client, Method::POST, format!("{}/addKey", Self::path(&id.into()))).body(&request)
    }

    /// Lists the application's owners (users and service principals).
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let owners = graph.applications().owners("0f0aec7b-ac5b-4f89-9fac-e9044ba5a309").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn owners(&self, id: impl Into<ApplicationId>) -> ListOwners {
        ListRequest::new(&self.client, format!("{}/owners", Self::path(&id.into())))
    }

    /// Adds an owner (a user or service principal). An app holding only
    /// `Application.ReadWrite.OwnedBy` may not: Graph answers 403.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// graph.applications()
    ///     .add_owner("0f0aec7b-ac5b-4f89-9fac-e9044ba5a309", "2d7e9c14-a3b8-4f51-8c06-9e2b4d7a1f30")
    ///     .send().await?;
    /// # Ok(()) }
    /// ```
    pub fn add_owner(&self, id: impl Into<ApplicationId>, owner: impl Into<DirectoryObjectId>) -> ChangeOwner {
        let body = directory_object_ref(&self.client, &owner.into());
        Call::new(&self.client, Method::POST, format!("{}/owners/$ref", Self::path(&id.into()))).json(body)
    }

    /// Removes an owner.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// graph.applications()
    ///     .remove_owner("0f0aec7b-ac5b-4f89-9fac-e9044ba5a309", "2d7e9c14-a3b8-4f51-8c06-9e2b4d7a1f30")
    ///     .send().await?;
    /// # Ok(()) }
    /// ```
    pub fn remove_owner(&self, id: impl Into<ApplicationId>, owner: impl Into<DirectoryObjectId>) -> ChangeOwner {
        let path = format!("{}/owners/{}/$ref", Self::path(&id.into()), seg(owner.into()));
        Call::new(&self.client, Method::DELETE, path)
    }
}
