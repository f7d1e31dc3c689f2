//! MSOnline's user calls a federation set-up makes, over the same users Graph
//! serves: `GetUser` (by `ObjectId`), `GetUserByUpn` and `SetUser` for the
//! `ImmutableId` (what `Get-MsolUser` and `Set-MsolUser -ImmutableId` send).
//!
//! `SetUser` goes through the directory's own user write, the one behind
//! Graph's `PATCH /users/{id}`, so both APIs apply one set of rules and always
//! show the same `ImmutableId` / `onPremisesImmutableId`:
//! - a DirSync-synced user's `ImmutableId` is the sync engine's:
//!   `PropertyNotSettableException`, worded as MSOnline words it for other
//!   on-premises-mastered parameters ("Unable to update parameter. Parameter
//!   name: IMMUTABLEID.");
//! - a federated-domain user's cannot be cleared (Graph's SourceAnchor rule);
//! - a malformed value (`$`, `_`) is `InvalidParameterException`;
//! - an unknown user is `UserNotFoundException` ("User Not Found.  User: …",
//!   the cmdlet's text for an unknown UPN).
//!
//! In `SetUser`'s `User`, a nil member means "leave as is" (the cmdlet sends
//! every member, nil when its parameter was not given) and an empty
//! `ImmutableId` clears it (`Set-MsolUser -ImmutableId "$null"`, the known
//! recipe) [inferred from the cmdlet's use].

use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::envelope::{Request, ADMINISTRATION};
use super::xml::{escape, Element};
use super::Fault;
use crate::directory::users::USER;
use crate::directory::Directory;
use crate::error::ApiError;

/// The `User` data contract's members the mock fills, in ordinal order (a
/// .NET reader drops members out of order), with the Graph property each
/// comes from [member names from the contract as AADInternals sends it].
const MEMBERS: &[(&str, &str)] = &[
    ("BlockCredential", "accountEnabled"),
    ("City", "city"),
    ("Country", "country"),
    ("Department", "department"),
    ("DisplayName", "displayName"),
    ("FirstName", "givenName"),
    ("ImmutableId", "onPremisesImmutableId"),
    ("IsLicensed", "assignedLicenses"),
    ("LastDirSyncTime", "onPremisesLastSyncDateTime"),
    ("LastName", "surname"),
    ("MobilePhone", "mobilePhone"),
    ("ObjectId", "id"),
    ("Office", "officeLocation"),
    ("PhoneNumber", "businessPhones"),
    ("PostalCode", "postalCode"),
    ("State", "state"),
    ("StreetAddress", "streetAddress"),
    ("Title", "jobTitle"),
    ("UsageLocation", "usageLocation"),
    ("UserPrincipalName", "userPrincipalName"),
    ("UserType", "userType"),
    ("WhenCreated", "createdDateTime"),
];

fn wire(record: &crate::directory::record::Record, graph: &str) -> Option<Value> {
    if graph == "id" {
        return Some(Value::String(record.id.to_string()));
    }
    record.value_at(USER.position(graph)?).map(std::borrow::Cow::into_owned).filter(|v| !v.is_null())
}

/// The `User` members of one user.
fn user_members(dir: &Directory, id: Uuid) -> String {
    let record = &dir.users[&id];
    let mut out = String::new();
    for (member, graph) in MEMBERS {
        let v = wire(record, graph);
        let text = match *graph {
            "accountEnabled" => Some((v != Some(Value::Bool(true))).to_string()),
            "assignedLicenses" => {
                Some(v.and_then(|l| l.as_array().map(|a| !a.is_empty())).unwrap_or(false).to_string())
            }
            "businessPhones" => v.and_then(|p| p.get(0).and_then(Value::as_str).map(str::to_owned)),
            _ => v.and_then(|v| v.as_str().map(str::to_owned)),
        };
        match text {
            Some(t) => out.push_str(&format!("<co:{member}>{}</co:{member}>", escape(&t))),
            None => out.push_str(&format!("<co:{member} n:nil=\"true\"/>")),
        }
    }
    out
}

fn reply(dir: &Directory, id: Uuid) -> String {
    format!("<w:ReturnValue xmlns:co=\"{ADMINISTRATION}\">{}</w:ReturnValue>", user_members(dir, id))
}

fn not_found(who: &str) -> Fault {
    Fault::new("UserNotFoundException", format!("User Not Found.  User: {who}."))
}

fn required(name: &str) -> Fault {
    Fault::new("InvalidParameterException", format!("A value is required for {name}. Name the user to act on."))
}

fn by_object_id(dir: &Directory, text: &str) -> Result<Uuid, Fault> {
    let id = Uuid::parse_str(text)
        .map_err(|_| Fault::new("InvalidParameterException", format!("'{text}' is not a valid ObjectId (a GUID).")))?;
    dir.users.contains_key(&id).then_some(id).ok_or_else(|| not_found(text))
}

/// `GetUser`: one user by `ObjectId`.
pub(super) fn get(dir: &Directory, request: &Request) -> Result<String, Fault> {
    let text = request.member("ObjectId").and_then(Element::value).ok_or_else(|| required("ObjectId"))?;
    Ok(reply(dir, by_object_id(dir, text)?))
}

/// `GetUserByUpn`: one user by user principal name.
pub(super) fn get_by_upn(dir: &Directory, request: &Request) -> Result<String, Fault> {
    let upn =
        request.member("UserPrincipalName").and_then(Element::value).ok_or_else(|| required("UserPrincipalName"))?;
    let id = dir.user_by_upn(upn).ok_or_else(|| not_found(upn))?;
    Ok(reply(dir, id))
}

/// What the shared user write's refusal is in MSOnline's terms.
fn fault_of(e: ApiError) -> Fault {
    if e.message.starts_with("Unable to update the specified properties for on-premises mastered") {
        return Fault::new("PropertyNotSettableException", "Unable to update parameter. Parameter name: IMMUTABLEID.");
    }
    if e.message == ApiError::invalid_values().message {
        return Fault::new("InvalidParameterException", "Invalid value for parameter. Parameter Name: ImmutableId.");
    }
    Fault::new("InvalidParameterException", e.message)
}

/// `SetUser`: the `User`'s `ImmutableId` written through the user write Graph
/// uses; the other members the mock does not take from MSOnline are ignored
/// (Graph is the way to change them).
pub(super) fn set(
    dir: &mut Directory,
    request: &Request,
    is_admin: bool,
    now: time::OffsetDateTime,
) -> Result<String, Fault> {
    let user = request.member("User").ok_or_else(|| required("User"))?;
    let member = |name: &str| user.child(ADMINISTRATION, name);
    let id = match member("ObjectId").and_then(Element::value) {
        Some(object_id) => by_object_id(dir, object_id)?,
        None => {
            let upn = member("UserPrincipalName").and_then(Element::value).ok_or_else(|| required("ObjectId"))?;
            dir.user_by_upn(upn).ok_or_else(|| not_found(upn))?
        }
    };
    let Some(immutable) = member("ImmutableId").filter(|e| !e.nil) else {
        return Ok(String::new());
    };
    let value = match immutable.text.trim() {
        "" => Value::Null,
        v => json!(v),
    };
    let mut body = Map::new();
    body.insert("onPremisesImmutableId".into(), value);
    let authorize = |_: &[&str], _: &[Uuid]| {
        if is_admin {
            Ok(())
        } else {
            Err(ApiError::new(403, "Authorization_RequestDenied", super::ACCESS_DENIED))
        }
    };
    dir.update_user(id, &body, now, authorize).map_err(|e| {
        if e.status == 403 {
            Fault::new("AccessDeniedException", super::ACCESS_DENIED)
        } else {
            fault_of(e)
        }
    })?;
    Ok(String::new())
}
