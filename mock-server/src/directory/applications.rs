//! Applications: the schema, create with Graph's
//! defaults, PATCH, soft delete, and credentials — client secrets (stored
//! hashed, the text returned once by `addPassword`) and certificates
//! (`keyCredentials`, used to verify client assertions).

use std::sync::OnceLock;

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::csdl::{self, merge, merged_len};
use super::dates;
use super::record::Record;
use super::schema::{prop, validate_write, EntitySchema, FilterProfile as F, PropType as T, PropertyDef};
use super::{Directory, PasswordHash};
use crate::clock::format_datetime;
use crate::error::ApiError;
use crate::odata::Support;

/// The hand-written rows (behaviour); csdl.rs appends the CSDL's other properties.
const APPLICATION_PROPS: &[PropertyDef] = &[
    prop("id", T::Guid).read_only().default_set().filter(F::Key),
    prop("deletedDateTime", T::DateTime).read_only().default_set(),
    prop("addIns", T::ComplexList("microsoft.graph.addIn")).default_set(),
    prop("api", T::Complex("microsoft.graph.apiApplication")).default_set(),
    // `Edm.String` in Graph's schema though every value is a GUID: an unquoted GUID beside it
    // is a type mismatch (400), as Graph answers.
    prop("appId", T::String).read_only().default_set().filter(F::Key),
    prop("applicationTemplateId", T::String).read_only().default_set(),
    prop("appRoles", T::ComplexList("microsoft.graph.appRole")).default_set(),
    prop("createdDateTime", T::DateTime).read_only().default_set().filter(F::Created).orderby(Support::Advanced),
    prop("defaultRedirectUri", T::String).default_set(),
    prop("description", T::String).default_set().filter(F::Text).max_len(1024),
    prop("disabledByMicrosoftStatus", T::String).read_only().default_set(),
    prop("displayName", T::String).default_set().filter(F::Text).orderby(Support::Default).searchable(),
    prop("groupMembershipClaims", T::String).default_set(),
    prop("identifierUris", T::StringList).default_set().filter(F::AnyText),
    prop("info", T::Complex("microsoft.graph.informationalUrl")).default_set(),
    prop("isDeviceOnlyAuthSupported", T::Bool).default_set(),
    prop("isFallbackPublicClient", T::Bool).default_set(),
    prop("keyCredentials", T::ComplexList("microsoft.graph.keyCredential")).default_set(),
    prop("notes", T::String).default_set(),
    prop("optionalClaims", T::Complex("microsoft.graph.optionalClaims")).default_set(),
    prop("parentalControlSettings", T::Complex("microsoft.graph.parentalControlSettings")).default_set(),
    prop("passwordCredentials", T::ComplexList("microsoft.graph.passwordCredential")).read_only().default_set(),
    prop("publicClient", T::Complex("microsoft.graph.publicClientApplication")).default_set(),
    prop("publisherDomain", T::String).read_only().default_set().filter(F::Text),
    prop("requiredResourceAccess", T::ComplexList("microsoft.graph.requiredResourceAccess")).default_set(),
    prop("serviceManagementReference", T::String).default_set(),
    prop("signInAudience", T::String).default_set().filter(F::Key),
    prop("spa", T::Complex("microsoft.graph.spaApplication")).default_set(),
    prop("tags", T::StringList).default_set().filter(F::AnyText),
    prop("tokenEncryptionKeyId", T::Guid).default_set(),
    prop("web", T::Complex("microsoft.graph.webApplication")).default_set(),
    // Maintained by the service (Graph refuses a write).
    prop("certification", T::Complex("microsoft.graph.certification")).default_only(),
    prop("createdByAppId", T::String).default_only(),
    prop("isDisabled", T::Bool).default_only(),
    prop("verifiedPublisher", T::Complex("microsoft.graph.verifiedPublisher")).default_only(),
];

const APPLICATION_ALL: [PropertyDef; merged_len(APPLICATION_PROPS, csdl::APPLICATION)] =
    merge(APPLICATION_PROPS, csdl::APPLICATION);

pub(crate) static APPLICATION: EntitySchema =
    EntitySchema::new("microsoft.graph.application", "Application", &APPLICATION_ALL, &[]);

/// The audiences Graph accepts for `signInAudience`.
const AUDIENCES: &[&str] =
    &["AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"];

/// When a create omits `signInAudience`. Graph's documentation shows this value
/// (unconfirmed for today's service).
pub(crate) const DEFAULT_SIGN_IN_AUDIENCE: &str = "AzureADandPersonalMicrosoftAccount";

/// Graph's default lifetime for a client secret.
const SECRET_LIFETIME: time::Duration = time::Duration::days(730);

/// A client secret as stored: hashed, with its window of validity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredSecret {
    pub key_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub end: OffsetDateTime,
    pub hash: PasswordHash,
}

/// What `addPassword` returns: the credential with its text, this once.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NewSecret {
    pub credential: Map<String, Value>,
    pub text: String,
}

/// What a new application holds before the caller's values: the per-app
/// values, then the empty collections and complex values every app starts with
/// (built once per process; cloning them is cheaper than building them).
fn defaults(now: OffsetDateTime, publisher_domain: &str, app_id: Uuid) -> Vec<(usize, Value)> {
    static EMPTY_DEFAULTS: OnceLock<Vec<(usize, Value)>> = OnceLock::new();
    let fixed = EMPTY_DEFAULTS.get_or_init(|| {
        [
            ("addIns", json!([])),
            ("appRoles", json!([])),
            ("identifierUris", json!([])),
            ("keyCredentials", json!([])),
            ("passwordCredentials", json!([])),
            ("requiredResourceAccess", json!([])),
            ("tags", json!([])),
            (
                "api",
                json!({"acceptMappedClaims": null, "knownClientApplications": [], "requestedAccessTokenVersion": null,
                       "oauth2PermissionScopes": [], "preAuthorizedApplications": []}),
            ),
            (
                "info",
                json!({"logoUrl": null, "marketingUrl": null, "privacyStatementUrl": null, "supportUrl": null,
                       "termsOfServiceUrl": null}),
            ),
            ("parentalControlSettings", json!({"countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow"})),
            ("publicClient", json!({"redirectUris": []})),
            ("spa", json!({"redirectUris": []})),
            (
                "web",
                json!({"homePageUrl": null, "logoutUrl": null, "redirectUris": [], "redirectUriSettings": [],
                       "implicitGrantSettings": {"enableAccessTokenIssuance": false, "enableIdTokenIssuance": false}}),
            ),
        ]
        .into_iter()
        .map(|(name, v)| (APPLICATION.position(name).expect("in the schema"), v))
        .collect()
    });
    let mut values = Vec::with_capacity(fixed.len() + 24);
    for (name, v) in [
        ("appId", Value::String(app_id.to_string())),
        ("createdDateTime", Value::String(format_datetime(now))),
        ("publisherDomain", Value::String(publisher_domain.to_owned())),
        ("signInAudience", Value::String(DEFAULT_SIGN_IN_AUDIENCE.to_owned())),
    ] {
        values.push((APPLICATION.position(name).expect("in the schema"), v));
    }
    values.extend(fixed.iter().cloned());
    values
}

fn is_guid(v: &Value) -> bool {
    v.as_str().is_some_and(|s| Uuid::parse_str(s).is_ok())
}

/// Per-property checks beyond the JSON type.
fn check_values(values: &mut [(usize, Value)], now: OffsetDateTime) -> Result<(), ApiError> {
    for (pos, value) in values.iter_mut() {
        match APPLICATION.props[*pos].name {
            "displayName" if value.as_str().is_none_or(|s| s.trim().is_empty()) => {
                return Err(ApiError::value_required("displayName", APPLICATION.resource_name));
            }
            "signInAudience" if !value.as_str().is_some_and(|a| AUDIENCES.contains(&a)) => {
                return Err(ApiError::invalid_values());
            }
            "requiredResourceAccess" => {
                for rra in value.as_array().into_iter().flatten() {
                    let ok = rra.get("resourceAppId").is_some_and(is_guid)
                        && rra.get("resourceAccess").and_then(Value::as_array).is_some_and(|list| {
                            list.iter().all(|ra| {
                                ra.get("id").is_some_and(is_guid)
                                    && matches!(ra.get("type").and_then(Value::as_str), Some("Role" | "Scope"))
                            })
                        });
                    if !ok {
                        return Err(ApiError::invalid_values());
                    }
                }
            }
            "keyCredentials" => {
                let mut normalised = Vec::new();
                for kc in value.as_array().into_iter().flatten() {
                    normalised.push(check_key_credential(kc, now)?);
                }
                *value = Value::Array(normalised);
            }
            _ => {}
        }
    }
    Ok(())
}

/// Validate a certificate credential and fill what Graph computes: its key id,
/// thumbprint (`customKeyIdentifier`) and validity dates from the certificate.
fn check_key_credential(kc: &Value, now: OffsetDateTime) -> Result<Value, ApiError> {
    let obj = kc.as_object().ok_or_else(ApiError::invalid_values)?;
    let der = obj
        .get("key")
        .and_then(Value::as_str)
        .and_then(|k| base64::engine::general_purpose::STANDARD.decode(k).ok())
        .ok_or_else(|| ApiError::request_bad_request("Key credential 'key' must be a base64-encoded certificate."))?;
    if webpki::EndEntityCert::try_from(&rustls_pki_types::CertificateDer::from(der.as_slice())).is_err() {
        return Err(ApiError::request_bad_request("Key credential 'key' is not a valid X.509 certificate."));
    }
    let ty = obj.get("type").and_then(Value::as_str).unwrap_or("AsymmetricX509Cert");
    let usage = obj.get("usage").and_then(Value::as_str).unwrap_or("Verify");
    if ty != "AsymmetricX509Cert" || !matches!(usage, "Verify" | "Sign") {
        return Err(ApiError::invalid_values());
    }
    let thumbprint = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &der);
    let key_id = obj.get("keyId").and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok());
    let date = |name: &str| -> Result<Option<OffsetDateTime>, ApiError> {
        match obj.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => dates::parse_client(s).map(Some).ok_or_else(ApiError::invalid_values),
            Some(_) => Err(ApiError::invalid_values()),
        }
    };
    let start = date("startDateTime")?.unwrap_or(now);
    let end = match date("endDateTime")? {
        Some(end) => end,
        None => dates::checked_after(now, time::Duration::days(365)).ok_or_else(ApiError::invalid_values)?,
    };
    if end <= start {
        return Err(ApiError::invalid_values());
    }
    Ok(json!({
        "customKeyIdentifier": base64::engine::general_purpose::STANDARD.encode(thumbprint.as_ref()),
        "displayName": obj.get("displayName").cloned().unwrap_or(Value::Null),
        "endDateTime": format_datetime(end),
        "key": base64::engine::general_purpose::STANDARD.encode(&der),
        "keyId": key_id.unwrap_or_else(|| Uuid::from_bytes(crate::ids::secure_bytes::<16>())).to_string(),
        "startDateTime": format_datetime(start),
        "type": ty,
        "usage": usage,
    }))
}

impl Directory {
    /// `POST /applications`. Returns the object id.
    pub(crate) fn create_application(
        &mut self,
        body: &Map<String, Value>,
        now: OffsetDateTime,
    ) -> Result<Uuid, ApiError> {
        let mut values = validate_write(&APPLICATION, body)?;
        if !values.iter().any(|(pos, v)| APPLICATION.props[*pos].name == "displayName" && !v.is_null()) {
            return Err(ApiError::value_required("displayName", APPLICATION.resource_name));
        }
        check_values(&mut values, now)?;
        let id = self.new_id();
        let app_id = self.new_id();
        let mut all = defaults(now, self.initial_domain(), app_id);
        all.extend(values);
        let record = Record::from_values(id, all);
        self.app_ids.insert(app_id, id);
        self.applications.insert(id, record);
        Ok(id)
    }

    /// `PATCH /applications/{id}`.
    pub(crate) fn update_application(
        &mut self,
        id: Uuid,
        body: &Map<String, Value>,
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        let mut values = validate_write(&APPLICATION, body)?;
        check_values(&mut values, now)?;
        let record = self.applications.get_mut(&id).ok_or_else(|| ApiError::not_found(&id.to_string()))?;
        for (pos, value) in values {
            record.set_at(pos, value);
        }
        Ok(())
    }

    /// `DELETE /applications/{id}`: soft delete; the app's secrets stop working.
    pub(crate) fn delete_application(&mut self, id: Uuid, now: OffsetDateTime) -> Result<(), ApiError> {
        let record = self.applications.remove(&id).ok_or_else(|| ApiError::not_found(&id.to_string()))?;
        if let Some(app_id) = record.get_str(&APPLICATION, "appId").and_then(|s| Uuid::parse_str(s).ok()) {
            self.app_ids.remove(&app_id);
        }
        self.deleted.insert(id, super::DeletedObject { kind: super::ObjectKind::Application, deleted_at: now, record });
        Ok(())
    }

    /// `POST /directory/deletedItems/{id}/restore` for an application.
    pub(crate) fn restore_application(&mut self, id: Uuid) -> Result<(), ApiError> {
        let d = self.deleted.get(&id).ok_or_else(|| ApiError::not_found(&id.to_string()))?;
        let app_id = d.record.get_str(&APPLICATION, "appId").and_then(|s| Uuid::parse_str(s).ok());
        if app_id.is_some_and(|a| self.app_ids.contains_key(&a)) {
            return Err(ApiError::request_bad_request(
                "Another object with the same value for property appId already exists.",
            ));
        }
        let d = self.deleted.remove(&id).expect("present (looked up above)");
        if let Some(a) = app_id {
            self.app_ids.insert(a, id);
        }
        self.applications.insert(id, d.record);
        Ok(())
    }

    /// Find an application by object id, or by `appId` when `by_app_id`.
    pub(crate) fn find_application(&self, key: &str, by_app_id: bool) -> Option<Uuid> {
        let key = Uuid::parse_str(key).ok()?;
        if by_app_id {
            self.app_ids.get(&key).copied()
        } else {
            self.applications.contains_key(&key).then_some(key)
        }
    }

    pub(crate) fn application_by_app_id(&self, app_id: Uuid) -> Option<&Record> {
        self.applications.get(self.app_ids.get(&app_id)?)
    }

    fn credential_owner(&self, owner: Owner, id: Uuid) -> Option<(&Record, &'static EntitySchema)> {
        match owner {
            Owner::Application => self.applications.get(&id).map(|r| (r, &APPLICATION)),
            Owner::ServicePrincipal => {
                self.service_principals.get(&id).map(|r| (r, &super::service_principals::SERVICE_PRINCIPAL))
            }
        }
    }

    fn credential_owner_mut(&mut self, owner: Owner, id: Uuid) -> Option<(&mut Record, &'static EntitySchema)> {
        match owner {
            Owner::Application => self.applications.get_mut(&id).map(|r| (r, &APPLICATION)),
            Owner::ServicePrincipal => {
                self.service_principals.get_mut(&id).map(|r| (r, &super::service_principals::SERVICE_PRINCIPAL))
            }
        }
    }

    /// `POST /applications/{id}/addPassword`.
    pub(crate) fn add_password(
        &mut self,
        id: Uuid,
        body: &Map<String, Value>,
        now: OffsetDateTime,
    ) -> Result<NewSecret, ApiError> {
        self.add_password_for(Owner::Application, id, body, now)
    }

    /// `addPassword` on an application or a service principal.
    pub(crate) fn add_password_for(
        &mut self,
        owner: Owner,
        id: Uuid,
        body: &Map<String, Value>,
        now: OffsetDateTime,
    ) -> Result<NewSecret, ApiError> {
        let empty = Map::new();
        let requested = match body.get("passwordCredential") {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(m)) => m,
            Some(_) => return Err(ApiError::invalid_values()),
        };
        for key in body.keys() {
            if key != "passwordCredential" && key != "@odata.type" {
                return Err(ApiError::request_bad_request(format!("Invalid property '{key}'.")));
            }
        }
        for key in requested.keys() {
            if !matches!(key.as_str(), "displayName" | "startDateTime" | "endDateTime" | "@odata.type") {
                return Err(ApiError::request_bad_request(format!(
                    "Property '{key}' cannot be set on a password credential: Graph generates it."
                )));
            }
        }
        let date = |name: &str| -> Result<Option<OffsetDateTime>, ApiError> {
            match requested.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => dates::parse_client(s).map(Some).ok_or_else(ApiError::invalid_values),
                Some(_) => Err(ApiError::invalid_values()),
            }
        };
        let start = date("startDateTime")?.unwrap_or(now);
        // Graph's default lifetime for a secret is two years; a start so late
        // that two years do not fit is as invalid as an impossible date.
        let end = match date("endDateTime")? {
            Some(end) => end,
            None => dates::checked_after(start, SECRET_LIFETIME).ok_or_else(ApiError::invalid_values)?,
        };
        if end <= start {
            return Err(ApiError::invalid_values());
        }
        let display_name = match requested.get("displayName") {
            None | Some(Value::Null) => Value::Null,
            // No documented limit for a secret's name; held to the generous one.
            Some(Value::String(s)) if s.chars().count() <= super::schema::UNDOCUMENTED_MAX_LEN as usize => {
                Value::String(s.clone())
            }
            Some(_) => return Err(ApiError::invalid_values()),
        };
        if self.credential_owner(owner, id).is_none() {
            return Err(ApiError::not_found(&id.to_string()));
        }
        let key_id = self.new_id();
        let text = crate::ids::client_secret_text();
        let hint: String = text.chars().take(3).collect();
        let credential = json!({
            "customKeyIdentifier": null,
            "displayName": display_name,
            "endDateTime": format_datetime(end),
            "hint": hint,
            "keyId": key_id.to_string(),
            "secretText": null,
            "startDateTime": format_datetime(start),
        });
        let hash = self.hash_secret(&text);
        let (record, schema) = self.credential_owner_mut(owner, id).expect("present (checked above)");
        let mut list = record.get(schema, "passwordCredentials").and_then(Value::as_array).cloned().unwrap_or_default();
        list.push(credential.clone());
        record.set(schema, "passwordCredentials", Value::Array(list));
        self.secrets.get_or_default(id).push(StoredSecret { key_id, start, end, hash });
        let mut credential = credential.as_object().expect("a JSON object literal").clone();
        credential.insert("secretText".into(), Value::String(text.clone()));
        Ok(NewSecret { credential, text })
    }

    /// Add a secret whose text the caller already has (a reset tenant keeps its
    /// bootstrap secret).
    pub(crate) fn add_known_secret(&mut self, id: Uuid, display_name: &str, text: &str, now: OffsetDateTime) {
        let key_id = self.new_id();
        let hash = self.hash_secret(text);
        // A clock advanced to the end of the calendar gives the secret what is left.
        let end = dates::checked_after(now, SECRET_LIFETIME).unwrap_or(time::PrimitiveDateTime::MAX.assume_utc());
        let credential = json!({
            "customKeyIdentifier": null, "displayName": display_name, "endDateTime": format_datetime(end),
            "hint": text.chars().take(3).collect::<String>(), "keyId": key_id.to_string(), "secretText": null,
            "startDateTime": format_datetime(now),
        });
        if let Some(record) = self.applications.get_mut(&id) {
            let mut list =
                record.get(&APPLICATION, "passwordCredentials").and_then(Value::as_array).cloned().unwrap_or_default();
            list.push(credential);
            record.set(&APPLICATION, "passwordCredentials", Value::Array(list));
            self.secrets.get_or_default(id).push(StoredSecret { key_id, start: now, end, hash });
        }
    }

    /// `POST /applications/{id}/removePassword` (and the service principal's).
    pub(crate) fn remove_password(
        &mut self,
        owner: Owner,
        id: Uuid,
        body: &Map<String, Value>,
    ) -> Result<(), ApiError> {
        let key_id = match body.get("keyId") {
            Some(Value::String(s)) => Uuid::parse_str(s).map_err(|_| ApiError::invalid_values())?,
            _ => return Err(ApiError::value_required("keyId", "passwordCredential")),
        };
        let (record, schema) =
            self.credential_owner_mut(owner, id).ok_or_else(|| ApiError::not_found(&id.to_string()))?;
        let list = record.get(schema, "passwordCredentials").and_then(Value::as_array).cloned().unwrap_or_default();
        let key = key_id.to_string();
        if !list.iter().any(|c| c.get("keyId").and_then(Value::as_str) == Some(key.as_str())) {
            return Err(ApiError::request_bad_request(format!("No password credential found with keyId '{key_id}'.")));
        }
        let kept: Vec<Value> =
            list.into_iter().filter(|c| c.get("keyId").and_then(Value::as_str) != Some(key.as_str())).collect();
        record.set(schema, "passwordCredentials", Value::Array(kept));
        if let Some(secrets) = self.secrets.get_mut(&id) {
            secrets.retain(|s| s.key_id != key_id);
        }
        Ok(())
    }

    /// Check the proof of possession `addKey`/`removeKey` require: a JWT signed
    /// by one of the app's current certificates, `aud` the AAD Graph app id,
    /// `iss` the application's object id, living at most ten minutes.
    fn check_proof(
        &self,
        owner: Owner,
        id: Uuid,
        body: &Map<String, Value>,
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        let (record, schema) = self.credential_owner(owner, id).ok_or_else(|| ApiError::not_found(&id.to_string()))?;
        let proof = body
            .get("proof")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::value_required("proof", schema.resource_name))?;
        let keys = record.get(schema, "keyCredentials").and_then(Value::as_array).cloned().unwrap_or_default();
        if keys.is_empty() {
            return Err(ApiError::request_bad_request(
                "The application has no certificate to prove possession with; add the first certificate with PATCH keyCredentials.",
            ));
        }
        let fail =
            |why: &str| ApiError::request_bad_request(format!("Key credential proof of possession failed: {why}."));
        let (claims, _) = crate::certificates::verify(proof, &keys, now).map_err(|e| {
            use crate::certificates::CertJwsError::*;
            match e {
                Malformed => fail("the proof is not a signed JWT"),
                UnsupportedAlgorithm(alg) => fail(&format!("algorithm '{alg}' is not supported")),
                KeyNotFound(_) | NotACertificate => fail("it is not signed by a certificate of this application"),
                BadSignature => fail("the signature does not verify"),
                KeyOutsideValidity => fail("the signing certificate is expired or not yet valid"),
            }
        })?;
        if claims.get("aud").and_then(Value::as_str) != Some("00000002-0000-0000-c000-000000000000") {
            return Err(fail("'aud' must be 00000002-0000-0000-c000-000000000000"));
        }
        if claims.get("iss").and_then(Value::as_str) != Some(id.to_string().as_str()) {
            return Err(fail("'iss' must be the application's object id"));
        }
        let (nbf, exp) = (claims.get("nbf").and_then(Value::as_i64), claims.get("exp").and_then(Value::as_i64));
        let (Some(nbf), Some(exp)) = (nbf, exp) else { return Err(fail("'nbf' and 'exp' are required")) };
        let t = now.unix_timestamp();
        if exp - nbf > 600 || t < nbf - 300 || t >= exp {
            return Err(fail("the proof must be valid now and live at most ten minutes"));
        }
        Ok(())
    }

    /// `POST /applications/{id}/addKey` (and the service principal's).
    pub(crate) fn add_key(
        &mut self,
        owner: Owner,
        id: Uuid,
        body: &Map<String, Value>,
        now: OffsetDateTime,
    ) -> Result<Map<String, Value>, ApiError> {
        for key in body.keys() {
            if !matches!(key.as_str(), "keyCredential" | "passwordCredential" | "proof" | "@odata.type") {
                return Err(ApiError::request_bad_request(format!("Invalid property '{key}'.")));
            }
        }
        if body.get("passwordCredential").is_some_and(|p| !p.is_null()) {
            return Err(ApiError::request_bad_request(
                "graphbox's addKey adds certificates only; add secrets with addPassword.",
            ));
        }
        let requested =
            body.get("keyCredential").ok_or_else(|| ApiError::value_required("keyCredential", "Application"))?;
        self.check_proof(owner, id, body, now)?;
        let credential = check_key_credential(requested, now)?;
        let (record, schema) = self.credential_owner_mut(owner, id).expect("present (checked by the proof)");
        let mut keys = record.get(schema, "keyCredentials").and_then(Value::as_array).cloned().unwrap_or_default();
        keys.push(credential.clone());
        record.set(schema, "keyCredentials", Value::Array(keys));
        let mut shown = credential.as_object().cloned().unwrap_or_default();
        shown.insert("key".into(), Value::Null);
        Ok(shown)
    }

    /// `POST /applications/{id}/removeKey` (and the service principal's).
    pub(crate) fn remove_key(
        &mut self,
        owner: Owner,
        id: Uuid,
        body: &Map<String, Value>,
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        let key_id = body
            .get("keyId")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::value_required("keyId", "Application"))?
            .to_owned();
        self.check_proof(owner, id, body, now)?;
        let (record, schema) = self.credential_owner_mut(owner, id).expect("present (checked by the proof)");
        let keys = record.get(schema, "keyCredentials").and_then(Value::as_array).cloned().unwrap_or_default();
        if !keys.iter().any(|k| k.get("keyId").and_then(Value::as_str) == Some(key_id.as_str())) {
            return Err(ApiError::request_bad_request(format!("No key credential found with keyId '{key_id}'.")));
        }
        let kept: Vec<Value> =
            keys.into_iter().filter(|k| k.get("keyId").and_then(Value::as_str) != Some(key_id.as_str())).collect();
        record.set(schema, "keyCredentials", Value::Array(kept));
        Ok(())
    }

    /// The secrets that sign in as the application with `app_id` here: the
    /// application's own and its service principal's (added with the service
    /// principal's `addPassword`, which Entra accepts at the token endpoint
    /// just the same).
    /// The secrets on the application object alone (not its service
    /// principal's): what another tenant that instantiated it accepts.
    pub(crate) fn application_secrets(&self, app_id: Uuid) -> &[StoredSecret] {
        self.app_ids.get(&app_id).and_then(|id| self.secrets.get(id)).map(Vec::as_slice).unwrap_or_default()
    }

    pub(crate) fn secrets_of(&self, app_id: Uuid) -> Vec<&StoredSecret> {
        let app = self.app_ids.get(&app_id).and_then(|id| self.secrets.get(id));
        let sp = self.sp_by_app_id.get(&app_id).and_then(|id| self.secrets.get(id));
        app.into_iter().chain(sp).flatten().collect()
    }
}

/// Whose credentials a credential action changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    Application,
    ServicePrincipal,
}

/// Secrets by application (or service principal) object id (the text exists nowhere but in the
/// `addPassword` response).
pub(crate) type SecretStore = super::Keyed<Uuid, Vec<StoredSecret>>;

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-03-02 10:00:00 UTC);

    fn directory_with_app() -> (Directory, Uuid) {
        let mut dir =
            Directory::new(Uuid::from_u128(1), "t".into(), "t.onmicrosoft.com".into(), crate::ids::IdGen::seeded(1));
        let body = json!({"displayName": "app"});
        let app = dir.create_application(body.as_object().expect("an object"), NOW).expect("valid");
        (dir, app)
    }

    fn add_password(credential: Value) -> Result<NewSecret, ApiError> {
        let (mut dir, app) = directory_with_app();
        dir.add_password(app, json!({"passwordCredential": credential}).as_object().expect("an object"), NOW)
    }

    #[test]
    fn a_secret_starting_so_late_that_two_years_do_not_fit_is_invalid_not_a_panic() {
        let err = add_password(json!({"startDateTime": "9999-06-01T00:00:00Z"})).expect_err("no room for 730 days");
        assert_eq!((err.status, err.message.as_str()), (400, "One or more properties contains invalid values."));
    }

    #[test]
    fn a_secret_end_that_an_offset_pushes_past_year_9999_is_invalid() {
        let err = add_password(json!({"endDateTime": "9999-12-31T23:59:59-01:00"})).expect_err("past the calendar");
        assert_eq!(err.status, 400);
    }

    #[test]
    fn a_secret_ending_on_the_last_day_of_the_calendar_is_fine() {
        let secret = add_password(json!({"endDateTime": "9999-12-31T23:59:59Z"})).expect("in range");
        assert_eq!(secret.credential["endDateTime"], "9999-12-31T23:59:59Z");
    }

    #[test]
    fn a_secret_name_past_the_generous_limit_is_invalid() {
        let long = "n".repeat(crate::directory::schema::UNDOCUMENTED_MAX_LEN as usize + 1);
        let err = add_password(json!({"displayName": long})).expect_err("too long");
        assert_eq!(err.message, ApiError::invalid_values().message);
        assert!(add_password(json!({"displayName": "CI secret"})).is_ok());
    }

    #[test]
    fn a_secret_date_given_with_an_offset_is_shown_in_utc() {
        let secret = add_password(json!({"endDateTime": "2027-01-01T02:00:00+02:00"})).expect("in range");
        assert_eq!(secret.credential["endDateTime"], "2027-01-01T00:00:00Z");
    }

    #[test]
    fn a_certificate_date_past_the_calendar_or_of_the_wrong_type_is_invalid() {
        let cert = base64::engine::general_purpose::STANDARD
            .encode(rcgen::generate_simple_self_signed(vec!["a.example".into()]).expect("a certificate").cert.der());
        for (name, value) in [
            ("endDateTime", json!("9999-12-31T23:00:00-05:00")),
            ("startDateTime", json!("0000-01-01T00:00:00Z")),
            ("endDateTime", json!(20270101)),
        ] {
            let kc = json!({"key": cert, "type": "AsymmetricX509Cert", "usage": "Verify", name: value});
            let err = check_key_credential(&kc, NOW).expect_err("refused");
            assert_eq!(err.status, 400, "{name}: {value}");
        }
        let kc = json!({"key": cert, "type": "AsymmetricX509Cert", "usage": "Verify"});
        let shown = check_key_credential(&kc, NOW).expect("defaults in range");
        assert_eq!(shown["endDateTime"], "2027-03-02T10:00:00Z");
    }

    #[test]
    fn an_application_display_name_of_4_mib_is_refused_by_the_schema() {
        let (mut dir, app) = directory_with_app();
        let body = json!({"displayName": "x".repeat(4 << 20)});
        let err = dir.update_application(app, body.as_object().expect("an object"), NOW).expect_err("too long");
        assert_eq!(err.message, "Invalid value specified for property 'displayName' of resource 'Application'.");
    }
}
