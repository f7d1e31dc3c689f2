//! SOAP 1.2 envelopes in and out: the request's
//! headers and body, the reply and the fault shapes WCF writes.

use super::xml::{escape, Element};

pub(crate) const SOAP: &str = "http://www.w3.org/2003/05/soap-envelope";
pub(crate) const WSA: &str = "http://www.w3.org/2005/08/addressing";
pub(crate) const PROVISIONING: &str = "http://provisioning.microsoftonline.com/";
pub(crate) const WEBSERVICE: &str =
    "http://schemas.datacontract.org/2004/07/Microsoft.Online.Administration.WebService";
pub(crate) const ADMINISTRATION: &str = "http://schemas.datacontract.org/2004/07/Microsoft.Online.Administration";
pub(crate) const ARRAYS: &str = "http://schemas.microsoft.com/2003/10/Serialization/Arrays";
pub(crate) const ACTION_PREFIX: &str = "http://provisioning.microsoftonline.com/IProvisioningWebService/";

/// What the service reads from a request envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    /// The operation named by the WS-Addressing `Action` header.
    pub action: Option<String>,
    pub message_id: Option<String>,
    /// `UserIdentityHeader/BearerToken`, with or without the `Bearer ` prefix.
    pub bearer_token: Option<String>,
    /// The body's operation element (`<GetCompanyInformation>`).
    pub operation: Option<Element>,
}

impl Request {
    pub(crate) fn from_envelope(root: &Element) -> Result<Request, String> {
        if root.ns != SOAP || root.local != "Envelope" {
            return Err(format!("the root element must be a SOAP 1.2 Envelope ({SOAP})"));
        }
        let header = root.child(SOAP, "Header");
        let text =
            |ns: &str, local: &str| header.and_then(|h| h.child(ns, local)).and_then(|e| e.value()).map(str::to_owned);
        let bearer_token = header
            .and_then(|h| h.child(PROVISIONING, "UserIdentityHeader"))
            .and_then(|u| u.child(WEBSERVICE, "BearerToken"))
            .and_then(Element::value)
            .map(|t| match t.split_once(' ') {
                Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim().to_owned(),
                _ => t.to_owned(),
            });
        let operation = root.child(SOAP, "Body").and_then(Element::first_child).cloned();
        Ok(Request { action: text(WSA, "Action"), message_id: text(WSA, "MessageID"), bearer_token, operation })
    }

    /// A member of the operation's `request` element (WebService data namespace).
    pub(crate) fn member(&self, name: &str) -> Option<&Element> {
        self.operation.as_ref()?.child(PROVISIONING, "request")?.child(WEBSERVICE, name)
    }
}

fn envelope(action: &str, relates_to: Option<&str>, body: &str) -> String {
    envelope_with(action, relates_to, "", body)
}

/// An envelope whose header carries `extra` after the addressing headers.
fn envelope_with(action: &str, relates_to: Option<&str>, extra: &str, body: &str) -> String {
    let relates = relates_to.map(|id| format!("<a:RelatesTo>{}</a:RelatesTo>", escape(id))).unwrap_or_default();
    format!(
        "<s:Envelope xmlns:s=\"{SOAP}\" xmlns:a=\"{WSA}\"><s:Header><a:Action s:mustUnderstand=\"1\">{}</a:Action>{relates}{extra}</s:Header><s:Body>{body}</s:Body></s:Envelope>",
        escape(action)
    )
}

/// The bec namespace of `BecContext` and the other BEC headers.
pub(crate) const BEC: &str = "http://becwebservice.microsoftonline.com/";

/// `MsolConnect`'s reply: an empty result, and a `BecContext` header whose
/// opaque `DataBlob` clients may echo later (never required).
pub(crate) fn connect_reply(relates_to: Option<&str>, data_blob: &str) -> String {
    let header = format!(
        "<BecContext xmlns=\"{BEC}\"><DataBlob xmlns=\"{WEBSERVICE}\">{}</DataBlob></BecContext>",
        escape(data_blob)
    );
    let body = format!(
        "<MsolConnectResponse xmlns=\"{PROVISIONING}\"><MsolConnectResult xmlns:w=\"{WEBSERVICE}\" xmlns:n=\"{}\"/></MsolConnectResponse>",
        super::xml::XSI
    );
    envelope_with(&format!("{ACTION_PREFIX}MsolConnectResponse"), relates_to, &header, &body)
}

/// `<OpResponse><OpResult>…</OpResult></OpResponse>` with the reply action.
pub(crate) fn reply(operation: &str, relates_to: Option<&str>, result_content: &str) -> String {
    let result = if result_content.is_empty() {
        format!("<{operation}Result xmlns:w=\"{WEBSERVICE}\" xmlns:n=\"{}\"/>", super::xml::XSI)
    } else {
        format!(
            "<{operation}Result xmlns:w=\"{WEBSERVICE}\" xmlns:n=\"{}\">{result_content}</{operation}Result>",
            super::xml::XSI
        )
    };
    let body = format!("<{operation}Response xmlns=\"{PROVISIONING}\">{result}</{operation}Response>");
    envelope(&format!("{ACTION_PREFIX}{operation}Response"), relates_to, &body)
}

/// A declared fault: `MsolAdministrationException` as the detail root with
/// `xsi:type` naming the concrete exception, the text in both `Reason` and
/// `Detail/Message` (what is established about the real fault).
pub(crate) fn msol_fault(
    operation: &str,
    relates_to: Option<&str>,
    detail_type: &str,
    message: &str,
    operation_id: &str,
) -> String {
    let m = escape(message);
    let body = format!(
        "<s:Fault><s:Code><s:Value>s:Sender</s:Value></s:Code><s:Reason><s:Text xml:lang=\"en-US\">{m}</s:Text></s:Reason>\
<s:Detail><MsolAdministrationException xmlns=\"{WEBSERVICE}\" xmlns:ws=\"{WEBSERVICE}\" xmlns:n=\"{xsi}\" n:type=\"ws:{detail_type}\">\
<HelpLink n:nil=\"true\"/><Message>{m}</Message><OperationId>{operation_id}</OperationId><Source n:nil=\"true\"/>\
<StackTrace n:nil=\"true\"/></MsolAdministrationException></s:Detail></s:Fault>",
        xsi = super::xml::XSI
    );
    envelope(&format!("{ACTION_PREFIX}{operation}MsolAdministrationExceptionFault"), relates_to, &body)
}

/// A fault WCF raises before any operation runs (unreadable envelope, unknown
/// action): code and subcode, no detail, WCF's generic fault action.
pub(crate) fn dispatcher_fault(relates_to: Option<&str>, subcode: &str, reason: &str) -> String {
    let body = format!(
        "<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>a:{subcode}</s:Value></s:Subcode></s:Code>\
<s:Reason><s:Text xml:lang=\"en-US\">{}</s:Text></s:Reason></s:Fault>",
        escape(reason)
    );
    envelope("http://www.w3.org/2005/08/addressing/soap/fault", relates_to, &body)
}
