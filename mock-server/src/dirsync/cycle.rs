//! One synchronisation cycle, as the on-premises sync client runs it
//! (`POST /_graphbox/tenants/{tid}/dirsync/cycle`, `{"users": [...]}`), only while
//! DirSync is `Enabled`.
//!
//! Each user, in Graph property names, is matched to a directory user by
//! `onPremisesImmutableId` (hard match); failing that by a proxy address, then by
//! UPN (soft match, governed by the `blockSoftMatchEnabled` and
//! `softMatchOnUpnEnabled` features). A match on a cloud-mastered user is a
//! takeover, refused when `blockCloudObjectTakeoverThroughHardMatchEnabled` is
//! on. Every user is its own unit, as a sync client's per-object export errors
//! are: one refusal does not stop the others, and a refused user is unchanged.

use std::collections::HashMap;

use serde_json::{json, Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::clock::format_datetime;
use crate::directory::record::Record;
use crate::directory::users::USER;
use crate::directory::Directory;
use crate::dirsync::State;

/// The attributes a sync client exports, as Graph names them.
const SYNCED: &[&str] = &[
    "accountEnabled",
    "businessPhones",
    "city",
    "companyName",
    "country",
    "department",
    "displayName",
    "employeeId",
    "faxNumber",
    "givenName",
    "jobTitle",
    "mail",
    "mailNickname",
    "mobilePhone",
    "officeLocation",
    "onPremisesDistinguishedName",
    "onPremisesDomainName",
    "onPremisesImmutableId",
    "onPremisesSamAccountName",
    "onPremisesSecurityIdentifier",
    "onPremisesUserPrincipalName",
    "otherMails",
    "postalCode",
    "preferredLanguage",
    "proxyAddresses",
    "state",
    "streetAddress",
    "surname",
    "userPrincipalName",
];

/// Taken on create only: afterwards the cloud owns it.
const CREATE_ONLY: &[&str] = &["usageLocation"];

/// Why the control API refuses a whole cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CycleRefused {
    pub status: u16,
    pub message: String,
}

/// Run one cycle; the summary lists each user's result in input order.
pub(crate) fn run(dir: &mut Directory, body: &Value, now: OffsetDateTime) -> Result<Value, CycleRefused> {
    let state = dir.organization.dirsync.state;
    if state != State::Enabled {
        let status = match state {
            State::NeverSynced => "never enabled",
            other => other.msol_status(),
        };
        return Err(CycleRefused {
            status: 409,
            message: format!(
                "DirSync is {status} for this tenant; a sync cycle runs only while it is Enabled \
                 (enable it with PATCH /organization/{{id}} {{\"onPremisesSyncEnabled\": true}} or MSOnline's \
                 SetCompanyDirSyncEnabled, then let PendingEnabled pass)"
            ),
        });
    }
    let Some(users) = body.get("users").and_then(Value::as_array) else {
        return Err(CycleRefused { status: 400, message: "send {\"users\": [ {…}, … ]}".into() });
    };
    let mut anchors: HashMap<String, Uuid> = dir
        .users
        .iter()
        .filter_map(|(id, r)| Some((r.get_str(&USER, "onPremisesImmutableId")?.to_owned(), *id)))
        .collect();
    let mut results = Vec::with_capacity(users.len());
    let mut counts: HashMap<&'static str, u64> = HashMap::new();
    for user in users {
        let result = match sync_one(dir, &mut anchors, user, now) {
            Ok(r) => r,
            Err(reason) => {
                json!({"onPremisesImmutableId": user.get("onPremisesImmutableId"), "result": "refused", "reason": reason})
            }
        };
        let kind = match result["result"].as_str() {
            Some("created") => "created",
            Some("updated") => "updated",
            Some("unchanged") => "unchanged",
            _ => "refused",
        };
        *counts.entry(kind).or_default() += 1;
        results.push(result);
    }
    dir.organization.dirsync.last_sync = Some(now);
    let n = |k| counts.get(k).copied().unwrap_or(0);
    Ok(json!({
        "created": n("created"), "updated": n("updated"), "unchanged": n("unchanged"), "refused": n("refused"),
        "lastSyncDateTime": format_datetime(now),
        "users": results,
    }))
}

/// Validate one exported user: `(position, value)` pairs in USER's schema.
fn attributes(user: &Value) -> Result<(String, Vec<(usize, Value)>), String> {
    let Some(obj) = user.as_object() else { return Err("each user must be a JSON object".into()) };
    let anchor = match obj.get("onPremisesImmutableId") {
        Some(Value::String(s)) if !s.is_empty() && !s.contains(['$', '_']) => s.clone(),
        Some(Value::String(_)) => return Err("onPremisesImmutableId must be non-empty, without '$' or '_'".into()),
        _ => return Err("onPremisesImmutableId (a string) is required: it is the sync anchor".into()),
    };
    let mut values = Vec::with_capacity(obj.len());
    for (name, value) in obj {
        if !SYNCED.contains(&name.as_str()) && !CREATE_ONLY.contains(&name.as_str()) {
            return Err(format!("'{name}' is not an attribute the sync client exports"));
        }
        let pos = USER.position(name).ok_or_else(|| format!("'{name}' is not a user property"))?;
        if !value.is_null() && !USER.props[pos].ty.accepts(value) {
            return Err(format!("'{name}' must be of type {}", USER.props[pos].ty.edm_name()));
        }
        values.push((pos, value.clone()));
    }
    Ok((anchor, values))
}

fn value_of<'a>(values: &'a [(usize, Value)], name: &str) -> Option<&'a Value> {
    values.iter().find(|(pos, _)| USER.props[*pos].name == name).map(|(_, v)| v)
}

/// The proxy addresses a user will have: the exported list, else `SMTP:<mail>`.
fn proxies_of(values: &[(usize, Value)]) -> Option<Vec<String>> {
    if let Some(list) = value_of(values, "proxyAddresses") {
        return Some(list.as_array()?.iter().filter_map(Value::as_str).map(str::to_owned).collect());
    }
    value_of(values, "mail").and_then(Value::as_str).map(|m| vec![format!("SMTP:{m}")])
}

/// Find the user an export matches, and how.
fn find_match(
    dir: &Directory,
    anchors: &HashMap<String, Uuid>,
    anchor: &str,
    values: &[(usize, Value)],
) -> Result<Option<(Uuid, &'static str)>, String> {
    if let Some(id) = anchors.get(anchor) {
        let cloud_mastered = dir.users[id].get(&USER, "onPremisesSyncEnabled") != Some(&Value::Bool(true));
        if cloud_mastered && dir.sync_feature("blockCloudObjectTakeoverThroughHardMatchEnabled") {
            return Err("the user with this immutable id is cloud-mastered and blockCloudObjectTakeoverThroughHardMatchEnabled is on".into());
        }
        return Ok(Some((*id, "onPremisesImmutableId")));
    }
    if dir.sync_feature("blockSoftMatchEnabled") {
        return Ok(None);
    }
    let by_proxy = proxies_of(values).unwrap_or_default().iter().find_map(|p| dir.proxy_owner(p));
    let by_upn = || {
        let upn = value_of(values, "userPrincipalName")?.as_str()?;
        dir.sync_feature("softMatchOnUpnEnabled").then(|| dir.user_by_upn(upn)).flatten()
    };
    let (id, how) = match (by_proxy, by_upn()) {
        (Some(id), _) => (id, "proxyAddresses"),
        (None, Some(id)) => (id, "userPrincipalName"),
        (None, None) => return Ok(None),
    };
    // Only a cloud object without an anchor of its own can be soft-matched.
    if dir.users[&id].get(&USER, "onPremisesImmutableId").is_some() {
        return Err(format!("{how} belongs to a user with another immutable id"));
    }
    Ok(Some((id, how)))
}

fn check_uniqueness(dir: &Directory, id: Option<Uuid>, values: &[(usize, Value)]) -> Result<(), String> {
    if let Some(upn) = value_of(values, "userPrincipalName").and_then(Value::as_str) {
        let domain = upn.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
        if !dir.is_verified_domain(domain) {
            return Err(format!("the domain of userPrincipalName '{upn}' is not a verified domain of the tenant"));
        }
        if dir.user_by_upn(upn).is_some_and(|other| Some(other) != id) {
            return Err(format!("userPrincipalName '{upn}' belongs to another user"));
        }
    }
    for p in proxies_of(values).unwrap_or_default() {
        if dir.proxy_owner(&p).is_some_and(|other| Some(other) != id) {
            return Err(format!("proxy address '{p}' belongs to another object"));
        }
    }
    Ok(())
}

fn sync_one(
    dir: &mut Directory,
    anchors: &mut HashMap<String, Uuid>,
    user: &Value,
    now: OffsetDateTime,
) -> Result<Value, String> {
    let (anchor, mut values) = attributes(user)?;
    let found = find_match(dir, anchors, &anchor, &values)?;
    check_uniqueness(dir, found.map(|(id, _)| id), &values)?;
    let proxies = proxies_of(&values);
    let Some((id, how)) = found else {
        return create(dir, anchors, anchor, values, proxies, now);
    };
    values.retain(|(pos, _)| !CREATE_ONLY.contains(&USER.props[*pos].name));
    let current = &dir.users[&id];
    let already_synced = current.get(&USER, "onPremisesSyncEnabled") == Some(&Value::Bool(true));
    let differs = |pos: usize, v: &Value| current.get_at(pos).unwrap_or(&Value::Null) != v;
    let proxies_differ = proxies
        .as_ref()
        .is_some_and(|p| current.get(&USER, "proxyAddresses").cloned().unwrap_or(Value::Null) != json!(p));
    if already_synced && !proxies_differ && !values.iter().any(|(pos, v)| differs(*pos, v)) {
        return Ok(json!({"onPremisesImmutableId": anchor, "result": "unchanged", "id": id, "matchedBy": how}));
    }
    let mut record = dir.remove_user_indexes(id).expect("matched users exist");
    for (pos, value) in values {
        record.set_at(pos, value);
    }
    if let Some(p) = proxies {
        record.set(&USER, "proxyAddresses", if p.is_empty() { Value::Null } else { json!(p) });
    }
    mark_synced(&mut record, now);
    dir.insert_user(record);
    anchors.insert(anchor.clone(), id);
    Ok(json!({"onPremisesImmutableId": anchor, "result": "updated", "id": id, "matchedBy": how}))
}

fn mark_synced(record: &mut Record, now: OffsetDateTime) {
    record.set(&USER, "onPremisesSyncEnabled", Value::Bool(true));
    record.set(&USER, "onPremisesLastSyncDateTime", Value::String(format_datetime(now)));
}

fn create(
    dir: &mut Directory,
    anchors: &mut HashMap<String, Uuid>,
    anchor: String,
    values: Vec<(usize, Value)>,
    proxies: Option<Vec<String>>,
    now: OffsetDateTime,
) -> Result<Value, String> {
    let text = |name: &str| value_of(&values, name).and_then(Value::as_str).map(str::to_owned);
    let upn = text("userPrincipalName").ok_or("a new user needs userPrincipalName")?;
    if text("displayName").is_none_or(|d| d.trim().is_empty()) {
        return Err("a new user needs displayName".into());
    }
    let nickname = text("mailNickname")
        .or_else(|| text("onPremisesSamAccountName"))
        .unwrap_or_else(|| upn.split('@').next().unwrap_or_default().to_owned());
    let id = dir.new_id();
    let mut record = Record::new(id);
    for (pos, value) in values {
        record.set_at(pos, value);
    }
    let issuer = upn.rsplit_once('@').map(|(_, d)| d.to_owned()).unwrap_or_default();
    let defaults: Map<String, Value> = [
        ("accountEnabled", json!(true)),
        ("mailNickname", json!(nickname)),
        ("onPremisesUserPrincipalName", json!(upn)),
        ("userType", json!("Member")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (name, value) in defaults {
        if record.get(&USER, &name).is_none() {
            record.set(&USER, &name, value);
        }
    }
    record.set(&USER, "createdDateTime", Value::String(format_datetime(now)));
    record.set(
        &USER,
        "identities",
        json!([{"signInType": "userPrincipalName", "issuer": issuer, "issuerAssignedId": upn}]),
    );
    match proxies {
        Some(p) if !p.is_empty() => record.set(&USER, "proxyAddresses", json!(p)),
        _ => record.set(&USER, "proxyAddresses", Value::Null),
    }
    mark_synced(&mut record, now);
    dir.insert_user(record);
    anchors.insert(anchor.clone(), id);
    Ok(json!({"onPremisesImmutableId": anchor, "result": "created", "id": id}))
}
