//! The least-privilege report of a graphbox-mock tenant (`GET <control_url>/tenants/{tid}/permissions-report`):
//! per application, the permissions its tokens carried, the operations it performed and the
//! least-privileged set that allows them. Run the product's flow against the mock (with the
//! tenant's `authz` set to `report-only` to find missing permissions in one pass), then check in
//! CI that the permissions onboarding asks customers for are exactly [`CallerPermissions::least_privileged`].
//! graphbox-mock only: a real tenant has no such report.

use serde::Deserialize;

/// The whole report.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PermissionsReport {
    /// `enforce` or `report-only`.
    pub authz: String,
    /// Every caller that made a Graph call to the tenant.
    pub callers: Vec<CallerPermissions>,
}

/// One application, or one delegated client acting for one user.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CallerPermissions {
    /// The application (client) id.
    pub client_id: String,
    /// The application's display name in the tenant.
    pub client_name: Option<String>,
    /// The signed-in user of a delegated caller.
    pub user: Option<ReportUser>,
    /// `application` or `delegated`.
    pub kind: String,
    /// Application permissions (or delegated scopes) its tokens carried.
    pub held: Vec<String>,
    /// What it did, by operation.
    pub operations: Vec<OperationUse>,
    /// The least-privileged set of permissions that allows every operation performed.
    pub least_privileged: Vec<String>,
    /// Held but not needed.
    pub beyond_needs: Vec<String>,
    /// Needed but not held (refused calls, or would-be refusals under `report-only`).
    pub missing: Vec<String>,
    /// Operations no permission of this kind allows.
    pub unsatisfiable: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
/// The user a delegated caller acted for.
#[non_exhaustive]
pub struct ReportUser {
    /// The user's object id.
    pub id: String,
    /// The user's UPN as it is now.
    pub user_principal_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
/// One operation a caller performed.
#[non_exhaustive]
pub struct OperationUse {
    /// Its name in Graph's permission tables (`users.create`).
    pub operation: String,
    /// How many calls.
    pub calls: u64,
    /// How many were refused with 403.
    pub refused: u64,
    /// How many would have been refused, let through under `report-only`.
    pub would_be_refused: u64,
}

/// Why the report could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The request failed.
    #[error("the control API could not be reached: {0}")]
    Transport(#[from] reqwest::Error),
    /// Not 200 (an unknown tenant is a 404; a remote caller without the admin key a 403).
    #[error("the control API answered {status}: {body}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The control API's answer.
        body: String,
    },
    /// The body is not the report.
    #[error("the report is not in the expected shape: {0}")]
    Decode(#[from] serde_json::Error),
}

impl PermissionsReport {
    /// Read the report of tenant `tenant_id` from a graphbox-mock's `control_url`.
    pub async fn fetch(
        http: &reqwest::Client,
        control_url: &str,
        tenant_id: &str,
    ) -> Result<PermissionsReport, ReportError> {
        let url = format!("{}/tenants/{tenant_id}/permissions-report", control_url.trim_end_matches('/'));
        let response = http.get(url).send().await?;
        let status = response.status().as_u16();
        let body = response.text().await?;
        if status != 200 {
            return Err(ReportError::Status { status, body });
        }
        Ok(serde_json::from_str(&body)?)
    }

    /// The application-only caller with `client_id`.
    pub fn application(&self, client_id: &str) -> Option<&CallerPermissions> {
        self.callers.iter().find(|c| c.user.is_none() && c.client_id.eq_ignore_ascii_case(client_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mocks_report_shape_decodes() {
        let body = r#"{"authz": "report-only", "callers": [{"clientId": "A", "clientName": "app", "user": null,
            "kind": "application", "held": ["User.Read.All"], "operations": [{"operation": "users.create",
            "calls": 2, "refused": 0, "wouldBeRefused": 2}], "leastPrivileged": ["User.ReadWrite.All"],
            "beyondNeeds": ["User.Read.All"], "missing": ["User.ReadWrite.All"], "unsatisfiable": []}]}"#;
        let report: PermissionsReport = serde_json::from_str(body).expect("decodes");
        let app = report.application("a").expect("found, case-insensitively");
        assert_eq!(app.least_privileged, ["User.ReadWrite.All"]);
        assert_eq!(app.operations[0].would_be_refused, 2);
    }
}
