//! The tenant: `/organization`, `/domains`, `/subscribedSkus` and
//! `/directory/onPremisesSynchronization`.

use reqwest::Method;

use super::seg;
use crate::client::GraphClient;
use crate::ids::{DomainId, TenantId};
use crate::models::{
    Domain, DomainDnsRecord, InternalDomainFederation, OnPremisesDirectorySynchronization, Organization, SubscribedSku,
};
use crate::request::{Call, GetRequest, ListRequest};

/// `GET /organization`.
pub type ListOrganizations = ListRequest<Organization>;
/// `GET /organization/{id}`.
pub type GetOrganization = GetRequest<Organization>;
/// `PATCH /organization/{id}`.
pub type UpdateOrganization = Call<()>;
/// `GET /domains`.
pub type ListDomains = ListRequest<Domain>;
/// `GET /domains/{id}`.
pub type GetDomain = GetRequest<Domain>;
/// `POST /domains`.
pub type CreateDomain = Call<Domain>;
/// `POST /domains/{id}/verify`.
pub type VerifyDomain = Call<Domain>;
/// `GET /domains/{id}/verificationDnsRecords`.
pub type ListVerificationDnsRecords = ListRequest<DomainDnsRecord>;
/// `DELETE /domains/{id}`.
pub type DeleteDomain = Call<()>;
/// `GET /domains/{id}/federationConfiguration`.
pub type ListDomainFederations = ListRequest<InternalDomainFederation>;
/// `POST /domains/{id}/federationConfiguration`.
pub type CreateDomainFederation = Call<InternalDomainFederation>;
/// `PATCH /domains/{id}/federationConfiguration/{fid}`.
pub type UpdateDomainFederation = Call<InternalDomainFederation>;
/// `DELETE /domains/{id}/federationConfiguration/{fid}`.
pub type DeleteDomainFederation = Call<()>;
/// `GET /subscribedSkus`.
pub type ListSubscribedSkus = ListRequest<SubscribedSku>;
/// `GET /directory/onPremisesSynchronization`.
pub type ListOnPremisesSync = ListRequest<OnPremisesDirectorySynchronization>;
/// `GET /directory/onPremisesSynchronization/{id}`.
pub type GetOnPremisesSync = GetRequest<OnPremisesDirectorySynchronization>;
/// `PATCH /directory/onPremisesSynchronization/{id}`.
pub type UpdateOnPremisesSync = Call<()>;

/// The organisation (tenant) object; from [`GraphClient::organization`].
#[derive(Debug, Clone)]
pub struct OrganizationHandler {
    client: GraphClient,
}

/// Domains; from [`GraphClient::domains`].
#[derive(Debug, Clone)]
pub struct DomainsHandler {
    client: GraphClient,
}

/// Licence SKUs; from [`GraphClient::subscribed_skus`].
#[derive(Debug, Clone)]
pub struct SubscribedSkusHandler {
    client: GraphClient,
}

/// DirSync settings; from [`GraphClient::on_premises_synchronization`].
#[derive(Debug, Clone)]
pub struct OnPremisesSyncHandler {
    client: GraphClient,
}

impl GraphClient {
    /// The organisation (tenant) object.
    pub fn organization(&self) -> OrganizationHandler {
        OrganizationHandler { client: self.clone() }
    }

    /// Domains.
    pub fn domains(&self) -> DomainsHandler {
        DomainsHandler { client: self.clone() }
    }

    /// Licence SKUs the tenant subscribes to.
    pub fn subscribed_skus(&self) -> SubscribedSkusHandler {
        SubscribedSkusHandler { client: self.clone() }
    }

    /// Directory synchronisation settings.
    pub fn on_premises_synchronization(&self) -> OnPremisesSyncHandler {
        OnPremisesSyncHandler { client: self.clone() }
    }
}

impl OrganizationHandler {
    /// Lists the organisation (a collection of exactly one).
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let org = graph.organization().list().send().await?.value.into_iter().next();
    /// let dirsync = org.and_then(|o| o.on_premises_sync_enabled);
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> ListOrganizations {
        ListRequest::new(&self.client, "/organization")
    }

    /// Gets the organisation by tenant id.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let org = graph.organization().get("5a1f0c3e-8d27-4b6a-9e41-0c7d2b9f6a18").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn get(&self, tenant: impl Into<TenantId>) -> GetOrganization {
        GetRequest::new(&self.client, format!("/organization/{}", seg(tenant.into())))
    }

    /// Updates writable properties, e.g. switching DirSync off with `on_premises_sync_enabled: Some(false)`.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// use graphbox_sdk::models::Organization;
    /// let patch = Organization { on_premises_sync_enabled: Some(false), ..Default::default() };
    /// graph.organization().update("5a1f0c3e-8d27-4b6a-9e41-0c7d2b9f6a18", patch).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn update(&self, tenant: impl Into<TenantId>, patch: Organization) -> UpdateOrganization {
        Call::new(&self.client, Method::PATCH, format!("/organization/{}", seg(tenant.into()))).body(&patch)
    }
}

impl DomainsHandler {
    /// Lists domains.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let domains = graph.domains().list().send().await?;
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> ListDomains {
        ListRequest::new(&self.client, "/domains")
    }

    /// Gets a domain by name.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let domain = graph.domains().get("contoso-lab.example").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn get(&self, name: impl Into<DomainId>) -> GetDomain {
        GetRequest::new(&self.client, format!("/domains/{}", seg(name.into())))
    }

    /// Adds an (unverified) domain.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let domain = graph.domains().create("contoso-lab.example").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn create(&self, name: impl Into<DomainId>) -> CreateDomain {
        Call::new(&self.client, Method::POST, "/domains").json(serde_json::json!({ "id": name.into() }))
    }

    /// The DNS records (`TXT`/`MX`) that prove ownership of a domain before [`verify`](Self::verify).
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let records = graph.domains().verification_dns_records("contoso-lab.example").send().await?;
    /// for record in &records.value {
    ///     println!("{:?} {:?}", record.record_type, record.text);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn verification_dns_records(&self, name: impl Into<DomainId>) -> ListVerificationDnsRecords {
        ListRequest::new(&self.client, format!("/domains/{}/verificationDnsRecords", seg(name.into())))
    }

    /// Verifies ownership (fails until the DNS record is in place).
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let domain = graph.domains().verify("contoso-lab.example").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn verify(&self, name: impl Into<DomainId>) -> VerifyDomain {
        Call::new(&self.client, Method::POST, format!("/domains/{}/verify", seg(name.into())))
    }

    /// Removes a domain.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// graph.domains().delete("contoso-lab.example").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn delete(&self, name: impl Into<DomainId>) -> DeleteDomain {
        Call::new(&self.client, Method::DELETE, format!("/domains/{}", seg(name.into())))
    }

    /// The domain's federation configuration (none, or one while it is federated).
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let federation = graph.domains().federation_configurations("contoso-lab.example").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn federation_configurations(&self, name: impl Into<DomainId>) -> ListDomainFederations {
        ListRequest::new(&self.client, format!("/domains/{}/federationConfiguration", seg(name.into())))
    }

    /// Federates a verified custom domain with an IdP: its users then sign in
    /// there, and new users in it need an `onPremisesImmutableId`.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// use graphbox_sdk::models::{AuthenticationProtocol, InternalDomainFederation};
    /// let federation = InternalDomainFederation {
    ///     issuer_uri: Some("https://idp.example/issuer".into()),
    ///     passive_sign_in_uri: Some("https://idp.example/wsfed".into()),
    ///     signing_certificate: Some("MIIC...".into()),
    ///     preferred_authentication_protocol: Some(AuthenticationProtocol::WsFed),
    ///     ..Default::default()
    /// };
    /// graph.domains().create_federation_configuration("contoso-lab.example", &federation).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn create_federation_configuration(
        &self,
        name: impl Into<DomainId>,
        federation: &InternalDomainFederation,
    ) -> CreateDomainFederation {
        Call::new(&self.client, Method::POST, format!("/domains/{}/federationConfiguration", seg(name.into())))
            .json(serde_json::to_value(federation).expect("a model is plain JSON"))
    }

    /// Changes some of a federation's settings (only the fields set are sent).
    pub fn update_federation_configuration(
        &self,
        name: impl Into<DomainId>,
        id: &str,
        changes: &InternalDomainFederation,
    ) -> UpdateDomainFederation {
        Call::new(
            &self.client,
            Method::PATCH,
            format!("/domains/{}/federationConfiguration/{}", seg(name.into()), seg(id)),
        )
        .json(serde_json::to_value(changes).expect("a model is plain JSON"))
    }

    /// Removes a domain's federation: the domain is managed again.
    pub fn delete_federation_configuration(&self, name: impl Into<DomainId>, id: &str) -> DeleteDomainFederation {
        Call::new(
            &self.client,
            Method::DELETE,
            format!("/domains/{}/federationConfiguration/{}", seg(name.into()), seg(id)),
        )
    }
}

impl SubscribedSkusHandler {
    /// Lists subscribed SKUs.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let skus = graph.subscribed_skus().list().send().await?;
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> ListSubscribedSkus {
        ListRequest::new(&self.client, "/subscribedSkus")
    }
}

impl OnPremisesSyncHandler {
    /// Lists the settings (a collection of one, keyed by tenant id).
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let settings = graph.on_premises_synchronization().list().send().await?;
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> ListOnPremisesSync {
        ListRequest::new(&self.client, "/directory/onPremisesSynchronization")
    }

    /// Gets the settings.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let settings = graph.on_premises_synchronization().get("5a1f0c3e-8d27-4b6a-9e41-0c7d2b9f6a18").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn get(&self, tenant: impl Into<TenantId>) -> GetOnPremisesSync {
        GetRequest::new(&self.client, format!("/directory/onPremisesSynchronization/{}", seg(tenant.into())))
    }

    /// Updates the settings set in `patch`.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// use graphbox_sdk::models::OnPremisesDirectorySynchronization;
    /// let mut features = serde_json::Map::new();
    /// features.insert("passwordSyncEnabled".into(), true.into());
    /// let patch = OnPremisesDirectorySynchronization { features: Some(features), ..Default::default() };
    /// graph.on_premises_synchronization().update("5a1f0c3e-8d27-4b6a-9e41-0c7d2b9f6a18", patch).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn update(
        &self,
        tenant: impl Into<TenantId>,
        patch: OnPremisesDirectorySynchronization,
    ) -> UpdateOnPremisesSync {
        let path = format!("/directory/onPremisesSynchronization/{}", seg(tenant.into()));
        Call::new(&self.client, Method::PATCH, path).body(&patch)
    }
}
