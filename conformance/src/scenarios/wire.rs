//! Raw Graph calls with one token per scenario, for the families whose scenarios are about the
//! wire itself (statuses, envelopes, `@odata` annotations) rather than the SDK's models.

use reqwest::Method;
use serde_json::{json, Value};

use crate::context::{Cleanup, Ctx, RawResponse};
use crate::scenario::{ensure, Failure};

/// A scenario's raw Graph client: the main application's token, fetched once.
pub(crate) struct Api {
    pub cx: Ctx,
    token: String,
}

impl Api {
    pub(crate) async fn new(cx: &Ctx) -> Result<Self, Failure> {
        Ok(Self { cx: cx.clone(), token: cx.token().await? })
    }

    pub(crate) async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<RawResponse, Failure> {
        let mut request = self.cx.graph_request(method, path).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.cx.send(request).await
    }

    pub(crate) async fn get(&self, path: &str) -> Result<RawResponse, Failure> {
        self.call(Method::GET, path, None).await
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> Result<RawResponse, Failure> {
        self.call(Method::POST, path, Some(body)).await
    }

    pub(crate) async fn patch(&self, path: &str, body: Value) -> Result<RawResponse, Failure> {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub(crate) async fn delete(&self, path: &str) -> Result<RawResponse, Failure> {
        self.call(Method::DELETE, path, None).await
    }

    /// A security group named after `alias`, registered for cleanup; returns its id.
    pub(crate) async fn group(&self, alias: &str) -> Result<String, Failure> {
        self.group_with(alias, json!({})).await
    }

    /// As [`Api::group`] with extra properties merged into the POST body.
    pub(crate) async fn group_with(&self, alias: &str, extra: Value) -> Result<String, Failure> {
        let nick = self.cx.name(alias);
        let mut body = json!({"displayName": nick, "mailEnabled": false, "mailNickname": nick,
            "securityEnabled": true, "groupTypes": []});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let r = self.post("/groups", body).await?;
        status(&r, 201)?;
        let id = id_of(&r)?;
        self.cx.cleanup(Cleanup::Group(id.clone()));
        Ok(id)
    }

    /// `{"@odata.id": …/directoryObjects/{id}}` for `$ref` bodies.
    pub(crate) fn reference(&self, id: &str) -> Value {
        json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{id}")})
    }
}

/// Fails unless `r.status == expected`, showing the body.
pub(crate) fn status(r: &RawResponse, expected: u16) -> Result<(), Failure> {
    ensure(
        r.status == expected,
        format!("status: expected {expected}, got {} {}", r.status, r.text.chars().take(300).collect::<String>()),
    )
}

/// The `id` of a created object.
pub(crate) fn id_of(r: &RawResponse) -> Result<String, Failure> {
    r.json["id"].as_str().map(str::to_owned).ok_or_else(|| Failure::new(format!("expected an id, got {}", r.text)))
}

/// The `value` array of a collection answer.
pub(crate) fn values(r: &RawResponse) -> Result<&Vec<Value>, Failure> {
    r.json["value"].as_array().ok_or_else(|| Failure::new(format!("expected a collection, got {}", r.text)))
}

/// The ids in a collection answer.
pub(crate) fn ids(r: &RawResponse) -> Result<Vec<String>, Failure> {
    Ok(values(r)?.iter().filter_map(|v| v["id"].as_str().map(str::to_owned)).collect())
}

/// The fragment of `@odata.context` after `$metadata#`.
pub(crate) fn context(r: &RawResponse) -> String {
    let c = r.json["@odata.context"].as_str().unwrap_or_default();
    c.split_once("$metadata#").map(|(_, f)| f.to_owned()).unwrap_or_else(|| c.to_owned())
}
