//! MSOnline's provisioning web service at `<authority>/provisioningwebservice.svc`:
//! SOAP 1.2 over the same tenant state Graph serves,
//! so a tool written against MSOnline and one written against Graph see one
//! tenant. `GetCompanyInformation`, `SetCompanyDirSyncEnabled`, the
//! `MsolConnect` handshake and the domain and user operations of a federation
//! set-up (`domains.rs`, `users.rs`), as the pre-retirement service answered them.
//!
//! Authentication is the bearer token in the `UserIdentityHeader`, an AAD Graph
//! token (`aud` `https://graph.windows.net`) issued by the mock; Graph tokens,
//! expired ones and ones from an unknown tenant are refused. Which detail type
//! the real service used for a bad token is not recorded: the mock answers
//! `InvalidHeaderException` [inferred], and `AccessDeniedException` for a caller
//! without an administrator role or acting on another tenant.

pub(crate) mod company;
pub(crate) mod domains;
pub(crate) mod envelope;
pub(crate) mod users;
pub(crate) mod xml;

use bytes::Bytes;
use http::{header, Method, Response, StatusCode};
use http_body_util::Full;
use uuid::Uuid;

use crate::identity::Principal;
use crate::service::response::Body;
use crate::service::{Inbound, Server};
use crate::tenant::{LoggedRequest, Tenant};
use envelope::Request;

const SUPPORTED: &[&str] = &[
    "GetCompanyInformation",
    "SetCompanyDirSyncEnabled",
    "MsolConnect",
    "ListDomains",
    "GetDomain",
    "GetDomainFederationSettings",
    "SetDomainAuthentication",
    "GetUser",
    "GetUserByUpn",
    "SetUser",
];

/// Directory roles that may change company settings (Global Administrator,
/// Hybrid Identity Administrator).
const ADMIN_ROLES: &[Uuid] =
    &[uuid::uuid!("62e90394-69f5-4237-9190-012177145e10"), uuid::uuid!("8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2")];

/// MSOnline's own wording for a caller without the needed role [observed in cmdlet output].
const ACCESS_DENIED: &str = "Access Denied. You do not have permissions to call this cmdlet.";
/// For a missing, malformed, foreign-audience or expired token [inferred].
const BAD_TOKEN: &str = "Authentication Error: Bad or expired token.";

/// A refused call: the detail type and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fault {
    detail_type: &'static str,
    message: String,
}

impl Fault {
    fn new(detail_type: &'static str, message: impl Into<String>) -> Self {
        Fault { detail_type, message: message.into() }
    }
}

fn soap(status: u16, xml: String, request_id: Uuid) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, "application/soap+xml; charset=utf-8")
        .header("request-id", request_id.to_string())
        .body(Full::new(Bytes::from(xml)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// A request refused at intake (size, time, a broken body): the dispatcher's
/// fault, as the service answered any message it could not read.
pub(crate) fn intake_fault(status: u16, reason: &str, request_id: Uuid) -> Response<Body> {
    soap(status, envelope::dispatcher_fault(None, "InvalidMessage", reason), request_id)
}

pub(crate) fn handle(server: &Server, req: &Inbound) -> Response<Body> {
    if req.method != Method::POST {
        let mut r = soap(405, String::new(), req.request_id);
        r.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return r;
    }
    let request = match read_request(&req.body) {
        Ok(r) => r,
        Err(e) => {
            // A body over one of the reader's quotas (xml.rs) lands here too: WCF
            // faults such a message before any operation runs, and the reason
            // names the quota, as WCF's does.
            let reason = format!("The message could not be read as a SOAP 1.2 envelope: {e}");
            return soap(500, envelope::dispatcher_fault(None, "InvalidMessage", &reason), req.request_id);
        }
    };
    let relates = request.message_id.as_deref();
    let operation = request.action.as_deref().and_then(|a| a.strip_prefix(envelope::ACTION_PREFIX));
    let Some(operation) = operation.filter(|op| SUPPORTED.contains(op)) else {
        // WCF's ContractFilter mismatch text for an action no operation takes.
        let reason = format!(
            "The message with Action '{}' cannot be processed at the receiver, due to a ContractFilter mismatch at the EndpointDispatcher. This may be because of either a contract mismatch (mismatched Actions between sender and receiver) or a binding/security mismatch between the sender and the receiver.  Check that sender and receiver have the same contract and the same binding (including security requirements, e.g. Message, Transport, None).",
            request.action.as_deref().unwrap_or_default()
        );
        return soap(500, envelope::dispatcher_fault(relates, "ActionNotSupported", &reason), req.request_id);
    };
    let (result, tenant, app_id) = run(server, &request, operation);
    let (status, xml) = match result {
        Ok(content) if operation == "MsolConnect" => (200, envelope::connect_reply(relates, &content)),
        Ok(content) => (200, envelope::reply(operation, relates, &content)),
        Err(f) => {
            (500, envelope::msol_fault(operation, relates, f.detail_type, &f.message, &req.request_id.to_string()))
        }
    };
    if let Some(tenant) = tenant {
        let mut entry = LoggedRequest::new(req, crate::request_log::Api::Msol, tenant.clock.now(), status);
        entry.client_id = app_id;
        tenant.log_request(entry);
    }
    soap(status, xml, req.request_id)
}

/// The request a body carries, or why it cannot be read: not UTF-8, not
/// well-formed, over a reader quota, or not a SOAP 1.2 envelope.
pub(crate) fn read_request(body: &[u8]) -> Result<Request, String> {
    let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    Request::from_envelope(&xml::parse(text)?)
}

type Outcome = (Result<String, Fault>, Option<std::sync::Arc<Tenant>>, Option<Uuid>);

fn run(server: &Server, request: &Request, operation: &str) -> Outcome {
    let Some(token) = request.bearer_token.as_deref() else {
        return (Err(Fault::new("InvalidHeaderException", BAD_TOKEN)), None, None);
    };
    let (principal, tenant) = match server.validator.authenticate_aad_graph(token, &server.tenants) {
        Ok(pt) => pt,
        Err(_) => return (Err(Fault::new("InvalidHeaderException", BAD_TOKEN)), None, None),
    };
    let app_id = Some(principal.app_id);
    let result = authorize_tenant(request, &tenant).and_then(|()| {
        tenant.settle_dirsync();
        match operation {
            "SetCompanyDirSyncEnabled" => set_dir_sync_enabled(request, &principal, &tenant),
            // The handshake's result is the opaque context blob (see connect_reply).
            "MsolConnect" => {
                Ok(crate::ids::secure_bytes::<24>().iter().map(|b| format!("{b:02x}")).collect::<String>())
            }
            "ListDomains" => Ok(domains::list(&tenant.read())),
            "GetDomain" => domains::get(&tenant.read(), request),
            "GetDomainFederationSettings" => domains::federation_settings(&tenant.read(), request),
            "SetDomainAuthentication" => {
                if !principal.wids.iter().any(|w| ADMIN_ROLES.contains(w)) {
                    return Err(Fault::new("AccessDeniedException", ACCESS_DENIED));
                }
                let now = tenant.clock.now();
                domains::set_authentication(&mut tenant.write(), request, now)
            }
            "GetUser" => users::get(&tenant.read(), request),
            "GetUserByUpn" => users::get_by_upn(&tenant.read(), request),
            "SetUser" => {
                let is_admin = principal.wids.iter().any(|w| ADMIN_ROLES.contains(w));
                let now = tenant.clock.now();
                users::set(&mut tenant.write(), request, is_admin, now)
            }
            _ => Ok(company::return_value(&tenant.read())),
        }
    });
    (result, Some(tenant), app_id)
}

/// `TenantId` nil means the caller's own tenant; another tenant needs a partner
/// relation the mock does not model.
fn authorize_tenant(request: &Request, tenant: &Tenant) -> Result<(), Fault> {
    match request.member("TenantId").and_then(|e| e.value()) {
        None => Ok(()),
        Some(id) if Uuid::parse_str(id).ok() == Some(tenant.id) => Ok(()),
        Some(id) if Uuid::parse_str(id).is_err() => {
            Err(Fault::new("InvalidContextException", format!("The tenant id '{id}' is not a valid GUID.")))
        }
        Some(_) => Err(Fault::new("AccessDeniedException", ACCESS_DENIED)),
    }
}

fn set_dir_sync_enabled(request: &Request, principal: &Principal, tenant: &Tenant) -> Result<String, Fault> {
    if !principal.wids.iter().any(|w| ADMIN_ROLES.contains(w)) {
        return Err(Fault::new("AccessDeniedException", ACCESS_DENIED));
    }
    // A non-nullable data member that is absent deserialises as `false` (WCF's
    // default for members not marked required) [inferred].
    let enable = match request.member("EnableDirSync").and_then(|e| e.value()) {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(other) => {
            return Err(Fault::new(
                "InvalidContextException",
                format!("'{other}' is not a valid value for EnableDirSync."),
            ))
        }
    };
    let now = tenant.clock.now();
    tenant
        .write()
        .change_dirsync(enable, now)
        .map_err(|_| Fault::new("DirSyncStatusChangeNotAllowedException", crate::dirsync::CHANGE_REFUSED))?;
    Ok(String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope_around(body: &str) -> String {
        format!(
            r#"<s:Envelope xmlns:s="{}" xmlns:a="{}"><s:Header><a:Action>{}GetCompanyInformation</a:Action></s:Header><s:Body>{body}</s:Body></s:Envelope>"#,
            envelope::SOAP,
            envelope::WSA,
            envelope::ACTION_PREFIX
        )
    }

    #[test]
    fn a_request_reads_its_action_from_the_envelope() {
        let request = read_request(envelope_around("<GetCompanyInformation/>").as_bytes()).expect("readable");
        assert_eq!(
            request.action.as_deref(),
            Some("http://provisioning.microsoftonline.com/IProvisioningWebService/GetCompanyInformation")
        );
    }

    #[test]
    fn a_body_nested_past_the_reader_quota_is_unreadable_and_says_which_quota() {
        let deep = format!("{}{}", "<x>".repeat(6_800), "</x>".repeat(6_800));
        let reason = read_request(envelope_around(&deep).as_bytes()).expect_err("over MaxDepth");
        assert!(reason.contains("The maximum read depth (32) has been exceeded"), "{reason}");
        let not_utf8 = read_request(b"<a>\xff</a>").expect_err("not UTF-8");
        assert!(not_utf8.contains("utf-8"), "{not_utf8}");
    }
}
