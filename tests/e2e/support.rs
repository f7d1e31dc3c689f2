//! Helpers that read like prose: a mock, an admin client, a waiter on the virtual clock.

use std::sync::Arc;
use std::time::Duration;

use graphbox::mock::Graphbox;
use graphbox::sdk::auth::{ClientSecretCredential, Credential};
use graphbox::sdk::onboarding::{Onboarding, OnboardingEvent};
use graphbox::sdk::permissions::GraphPermission;
use graphbox::sdk::{GraphClient, SleepFuture, Sleeper};
use serde_json::json;

pub(crate) struct Tenant {
    pub(crate) mock: Arc<Graphbox>,
    pub(crate) http: reqwest::Client,
}

pub(crate) async fn tenant() -> Tenant {
    let mock = Graphbox::builder().plain_http().start().await.expect("mock starts");
    Tenant { mock: Arc::new(mock), http: reqwest::Client::new() }
}

pub(crate) fn client_for(mock: &Graphbox, credential: Credential) -> Result<GraphClient, graphbox::sdk::Error> {
    GraphClient::builder()
        .authority_host(mock.authority())
        .graph_url(mock.graph_url())
        .tenant(mock.tenant_id())
        .credential(credential)
        .build()
}

/// Waits by moving the tenant's virtual clock forward.
#[derive(Debug, Clone)]
pub(crate) struct AdvanceClock {
    http: reqwest::Client,
    url: String,
}

impl Sleeper for AdvanceClock {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        let (http, url) = (self.http.clone(), self.url.clone());
        Box::pin(async move {
            http.post(&url)
                .json(&json!({ "seconds": duration.as_secs() }))
                .send()
                .await
                .and_then(|r| r.error_for_status())
                .expect("clock advances");
        })
    }
}

impl Tenant {
    pub(crate) fn admin(&self) -> GraphClient {
        let m = &self.mock;
        client_for(m, ClientSecretCredential::new(m.client_id(), m.client_secret()).into()).expect("client builds")
    }

    pub(crate) fn client(&self, client_id: &str, secret: &str) -> GraphClient {
        client_for(&self.mock, ClientSecretCredential::new(client_id, secret).into()).expect("client builds")
    }

    pub(crate) fn domain(&self) -> String {
        self.mock.tenant_domain().to_owned()
    }

    pub(crate) fn control(&self, path: &str) -> String {
        format!("{}/tenants/{}{path}", self.mock.control_url(), self.mock.tenant_id())
    }

    pub(crate) fn waiter(&self) -> AdvanceClock {
        AdvanceClock { http: self.http.clone(), url: self.control("/clock/advance") }
    }

    /// Onboarding as the tests run it: the bootstrap admin, the virtual clock, events recorded.
    pub(crate) fn onboarding(&self, events: Events) -> Onboarding {
        let mock = self.mock.clone();
        Onboarding::new(self.admin(), move |c| client_for(&mock, c))
            .display_name("e2e provisioning")
            .application_permissions([GraphPermission::UserReadWriteAll, GraphPermission::DirectoryReadWriteAll])
            .delegated_permissions([GraphPermission::UserRead])
            .waiter(self.waiter())
            .on_event(move |e| events.lock().expect("events lock").push(e.clone()))
    }

    /// A client-credentials token straight from the token endpoint, as any client would get it.
    pub(crate) async fn raw_token(&self, client_id: &str, secret: &str) -> String {
        let body: serde_json::Value = self
            .http
            .post(self.mock.token_url())
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", secret),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .await
            .expect("token endpoint answers")
            .json()
            .await
            .expect("token JSON");
        body["access_token"].as_str().expect("an access token").to_owned()
    }

    /// `GET /v1.0/users` with a raw bearer token: the status Graph answers.
    pub(crate) async fn list_users_status(&self, token: &str) -> u16 {
        self.http
            .get(format!("{}/users", self.mock.graph_url()))
            .bearer_auth(token)
            .send()
            .await
            .expect("Graph answers")
            .status()
            .as_u16()
    }
}

pub(crate) type Events = Arc<std::sync::Mutex<Vec<OnboardingEvent>>>;

pub(crate) fn events() -> Events {
    Arc::default()
}

pub(crate) fn recorded(events: &Events) -> Vec<OnboardingEvent> {
    events.lock().expect("events lock").clone()
}
