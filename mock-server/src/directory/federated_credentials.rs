//! An application's federated identity credentials
//! (`/applications/{id}/federatedIdentityCredentials`): trust in tokens another
//! issuer gives a workload, matched by issuer, subject and audience when the
//! workload presents one as its client assertion.
//!
//! Graph's documented rules, held here: `name` required, at most 120
//! characters, URL-friendly, unique in the application and immutable once set;
//! `issuer` and `subject` required, at most 600 characters, and unique as a
//! pair in the application; `audiences` exactly one value of at most 600
//! characters; `description` at most 600; at most 20 credentials per
//! application (the workload identity federation limits).

use serde_json::{Map, Value};
use uuid::Uuid;

use super::record::Record;
use super::schema::{prop, validate_write, EntitySchema, FilterProfile as F, PropType as T};
use super::Directory;
use crate::error::ApiError;

pub(crate) static FEDERATED_CREDENTIAL: EntitySchema = EntitySchema::new(
    "microsoft.graph.federatedIdentityCredential",
    "FederatedIdentityCredential",
    &[
        // `id` first (records keep it at position 0); then Graph's order in
        // its create response: name, issuer, subject, description, audiences.
        prop("id", T::Guid).read_only().default_set().filter(F::Key),
        prop("name", T::String).default_set().filter(F::Key).max_len(120),
        prop("issuer", T::String).default_set().filter(F::Key).max_len(600),
        prop("subject", T::String).default_set().filter(F::Key).max_len(600),
        prop("description", T::String).default_set().max_len(600),
        prop("audiences", T::StringList).default_set(),
    ],
    &[],
);

/// Credentials one application may have (workload identity federation limits).
pub(crate) const MAX_PER_APPLICATION: usize = 20;

const RESOURCE: &str = "FederatedIdentityCredential";

fn text<'a>(values: &'a [(usize, Value)], name: &str) -> Option<&'a Value> {
    let pos = FEDERATED_CREDENTIAL.position(name)?;
    values.iter().find(|(p, _)| *p == pos).map(|(_, v)| v)
}

/// URL-friendly, as Graph requires of `name`: letters, digits, `-` and `_`.
/// (a guess: the exact character set is not documented; these are what the
/// portal accepts)
fn url_friendly(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Check the values a credential would have after a write.
fn check(record: &Record) -> Result<(), ApiError> {
    let get = |name: &str| record.get(&FEDERATED_CREDENTIAL, name);
    for required in ["name", "issuer", "subject", "audiences"] {
        if get(required).is_none_or(Value::is_null) {
            return Err(ApiError::value_required(required, RESOURCE));
        }
    }
    let name = get("name").and_then(Value::as_str).unwrap_or_default();
    if !url_friendly(name) {
        return Err(ApiError::request_bad_request(format!(
            "Invalid value specified for property 'name' of resource '{RESOURCE}'. The name must be URL friendly: letters, digits, '-' and '_'."
        )));
    }
    let issuer = get("issuer").and_then(Value::as_str).unwrap_or_default();
    let is_url = issuer.strip_prefix("https://").is_some_and(|rest| !rest.is_empty());
    if !is_url {
        return Err(ApiError::request_bad_request(format!(
            "Invalid value specified for property 'issuer' of resource '{RESOURCE}'. The issuer must be an https URL."
        )));
    }
    if get("subject").and_then(Value::as_str).is_none_or(str::is_empty) {
        return Err(ApiError::value_required("subject", RESOURCE));
    }
    let audiences = get("audiences").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let ok = matches!(audiences, [Value::String(a)] if !a.is_empty() && a.chars().count() <= 600);
    if !ok {
        return Err(ApiError::request_bad_request(format!(
            "Invalid value specified for property 'audiences' of resource '{RESOURCE}'. Exactly one audience of at most 600 characters is allowed."
        )));
    }
    Ok(())
}

impl Directory {
    pub(crate) fn federated_credentials_of(&self, app: Uuid) -> &[Record] {
        self.federated_credentials.get(&app).map(Vec::as_slice).unwrap_or_default()
    }

    /// Find a credential by id or by its `name` (the alternate key).
    pub(crate) fn find_federated_credential(&self, app: Uuid, key: &str) -> Option<usize> {
        self.federated_credentials_of(app).iter().position(|r| {
            r.id.to_string().eq_ignore_ascii_case(key) || r.get_str(&FEDERATED_CREDENTIAL, "name") == Some(key)
        })
    }

    fn check_unique(&self, app: Uuid, candidate: &Record, skip: Option<usize>) -> Result<(), ApiError> {
        let s = |r: &Record, n: &str| r.get_str(&FEDERATED_CREDENTIAL, n).map(str::to_owned);
        for (i, other) in self.federated_credentials_of(app).iter().enumerate() {
            if Some(i) == skip {
                continue;
            }
            if s(other, "name") == s(candidate, "name") {
                return Err(ApiError::new(
                    409,
                    "Request_MultipleObjectsWithSameKeyValue",
                    "FederatedIdentityCredential with name already exists.",
                ));
            }
            if s(other, "issuer") == s(candidate, "issuer") && s(other, "subject") == s(candidate, "subject") {
                return Err(ApiError::new(
                    409,
                    "Request_MultipleObjectsWithSameKeyValue",
                    "FederatedIdentityCredential with the same issuer and subject already exists.",
                ));
            }
        }
        Ok(())
    }

    /// `POST /applications/{id}/federatedIdentityCredentials`.
    pub(crate) fn create_federated_credential(
        &mut self,
        app: Uuid,
        body: &Map<String, Value>,
    ) -> Result<Map<String, Value>, ApiError> {
        let values = validate_write(&FEDERATED_CREDENTIAL, body)?;
        if self.federated_credentials_of(app).len() >= MAX_PER_APPLICATION {
            return Err(ApiError::request_bad_request(format!(
                "An application can have at most {MAX_PER_APPLICATION} federated identity credentials."
            )));
        }
        let record = Record::from_values(self.new_id(), values);
        check(&record)?;
        self.check_unique(app, &record, None)?;
        let out = record.project(&FEDERATED_CREDENTIAL, &super::record::Projection::default_set(&FEDERATED_CREDENTIAL));
        self.federated_credentials.get_or_default(app).push(record);
        Ok(out)
    }

    /// `PATCH …/federatedIdentityCredentials/{id}`: `name` cannot change.
    pub(crate) fn update_federated_credential(
        &mut self,
        app: Uuid,
        index: usize,
        body: &Map<String, Value>,
    ) -> Result<(), ApiError> {
        let values = validate_write(&FEDERATED_CREDENTIAL, body)?;
        let mut record = self.federated_credentials_of(app)[index].clone();
        let old_name = record.get_str(&FEDERATED_CREDENTIAL, "name").map(str::to_owned);
        if let Some(new_name) = text(&values, "name") {
            if new_name.as_str() != old_name.as_deref() {
                return Err(ApiError::request_bad_request(format!(
                    "Property 'name' of resource '{RESOURCE}' cannot be changed after it is created."
                )));
            }
        }
        for (pos, value) in values {
            record.set_at(pos, value);
        }
        check(&record)?;
        self.check_unique(app, &record, Some(index))?;
        self.federated_credentials.get_or_default(app)[index] = record;
        Ok(())
    }

    pub(crate) fn delete_federated_credential(&mut self, app: Uuid, index: usize) {
        if let Some(list) = self.federated_credentials.get_mut(&app) {
            list.remove(index);
            if list.is_empty() {
                self.federated_credentials.remove(&app);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dir_with_app() -> (Directory, Uuid) {
        let mut dir = Directory::new(Uuid::nil(), "t".into(), "t.onmicrosoft.com".into(), crate::ids::IdGen::seeded(1));
        let body = json!({"displayName": "wif"}).as_object().cloned().unwrap();
        let app = dir.create_application(&body, time::OffsetDateTime::UNIX_EPOCH).unwrap();
        (dir, app)
    }

    fn fic(name: &str, subject: &str) -> Map<String, Value> {
        json!({"name": name, "issuer": "https://token.actions.githubusercontent.com",
               "subject": subject, "audiences": ["api://AzureADTokenExchange"]})
        .as_object()
        .cloned()
        .unwrap()
    }

    #[test]
    fn a_credential_needs_every_required_property() {
        let (mut dir, app) = dir_with_app();
        let mut body = fic("ci", "repo:o/r:ref:refs/heads/main");
        body.remove("subject");
        let e = dir.create_federated_credential(app, &body).unwrap_err();
        assert!(e.message.contains("'subject'"), "{}", e.message);
    }

    #[test]
    fn names_and_issuer_subject_pairs_are_unique_in_an_application() {
        let (mut dir, app) = dir_with_app();
        dir.create_federated_credential(app, &fic("ci", "s1")).unwrap();
        assert_eq!(dir.create_federated_credential(app, &fic("ci", "s2")).unwrap_err().status, 409);
        assert_eq!(dir.create_federated_credential(app, &fic("other", "s1")).unwrap_err().status, 409);
    }

    #[test]
    fn only_one_audience_is_accepted() {
        let (mut dir, app) = dir_with_app();
        let mut body = fic("ci", "s");
        body.insert("audiences".into(), json!(["a", "b"]));
        assert_eq!(dir.create_federated_credential(app, &body).unwrap_err().status, 400);
    }

    #[test]
    fn the_name_cannot_change_after_creation() {
        let (mut dir, app) = dir_with_app();
        dir.create_federated_credential(app, &fic("ci", "s")).unwrap();
        let body = json!({"name": "renamed"}).as_object().cloned().unwrap();
        assert_eq!(dir.update_federated_credential(app, 0, &body).unwrap_err().status, 400);
        let body = json!({"subject": "s2"}).as_object().cloned().unwrap();
        dir.update_federated_credential(app, 0, &body).unwrap();
        assert!(dir.federated_credentials_of(app)[0].get_str(&FEDERATED_CREDENTIAL, "subject") == Some("s2"));
    }

    #[test]
    fn an_application_holds_at_most_twenty() {
        let (mut dir, app) = dir_with_app();
        for i in 0..MAX_PER_APPLICATION {
            dir.create_federated_credential(app, &fic(&format!("c{i}"), &format!("s{i}"))).unwrap();
        }
        assert_eq!(dir.create_federated_credential(app, &fic("one-more", "sx")).unwrap_err().status, 400);
    }
}
