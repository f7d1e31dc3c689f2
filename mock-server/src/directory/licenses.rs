//! Licences: the tenant's subscribed SKUs (seeded with every tenant), `assignLicense`
//! and `licenseDetails`, with consumed units counted from assignments.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::users::USER;
use super::Directory;
use crate::clock::format_datetime;
use crate::error::ApiError;

/// A subscription the tenant holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Sku {
    pub sku_id: Uuid,
    pub part_number: String,
    pub enabled_units: u32,
    pub service_plans: Vec<(Uuid, String, String)>,
}

/// The subscriptions a new tenant starts with: real Microsoft SKU and service
/// plan ids, so code that matches on them behaves as against a real tenant.
pub(crate) fn default_skus() -> &'static [Sku] {
    static SKUS: std::sync::OnceLock<Vec<Sku>> = std::sync::OnceLock::new();
    SKUS.get_or_init(build_default_skus)
}

fn build_default_skus() -> Vec<Sku> {
    let plan = |id: &str, name: &str, service: &str| {
        (Uuid::parse_str(id).expect("a literal GUID"), name.to_owned(), service.to_owned())
    };
    vec![
        Sku {
            sku_id: uuid::uuid!("6fd2c87f-b296-42f0-b197-1e91e994b900"),
            part_number: "ENTERPRISEPACK".into(),
            enabled_units: 25,
            service_plans: vec![
                plan("efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE", "exchange"),
                plan("5dbe027f-2339-4123-9542-606e4d348a72", "SHAREPOINTENTERPRISE", "SharePoint"),
                plan("57ff2da0-773e-42df-b2af-ffb7a2317929", "TEAMS1", "TeamspaceAPI"),
                plan("43de0ff5-c92c-492b-9116-175376d08c38", "OFFICESUBSCRIPTION", "MicrosoftOffice"),
            ],
        },
        Sku {
            sku_id: uuid::uuid!("06ebc4ee-1bb5-47dd-8120-11324bc54e06"),
            part_number: "SPE_E5".into(),
            enabled_units: 10,
            service_plans: vec![
                plan("efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE", "exchange"),
                plan("eec0eb4f-6444-4f95-aba0-50c24d67f998", "AAD_PREMIUM_P2", "AADPremiumService"),
            ],
        },
        Sku {
            sku_id: uuid::uuid!("4b9405b0-7788-4568-add1-99614e613b69"),
            part_number: "EXCHANGESTANDARD".into(),
            enabled_units: 5,
            service_plans: vec![plan("9aaf7827-d63c-4b61-89c3-182f06f82e5c", "EXCHANGE_S_STANDARD", "exchange")],
        },
    ]
}

fn assigned_skus(record: &super::record::Record) -> Vec<Uuid> {
    record
        .get(&USER, "assignedLicenses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|l| l.get("skuId").and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok()))
        .collect()
}

impl Directory {
    fn consumed_units(&self, sku: Uuid) -> usize {
        self.users.values().filter(|u| assigned_skus(u).contains(&sku)).count()
    }

    /// `GET /subscribedSkus` items.
    pub(crate) fn subscribed_skus_json(&self) -> Vec<Value> {
        self.skus
            .iter()
            .map(|s| {
                json!({
                    "accountId": self.tenant_id, "accountName": self.display_name, "appliesTo": "User",
                    "capabilityStatus": "Enabled", "consumedUnits": self.consumed_units(s.sku_id),
                    "id": format!("{}_{}", self.tenant_id, s.sku_id),
                    "prepaidUnits": {"enabled": s.enabled_units, "lockedOut": 0, "suspended": 0, "warning": 0},
                    "servicePlans": s.service_plans.iter().map(|(id, name, _)| json!({
                        "appliesTo": "User", "provisioningStatus": "Success", "servicePlanId": id, "servicePlanName": name,
                    })).collect::<Vec<_>>(),
                    "skuId": s.sku_id, "skuPartNumber": s.part_number, "subscriptionIds": [s.sku_id],
                })
            })
            .collect()
    }

    /// `POST /users/{id}/assignLicense`.
    pub(crate) fn assign_license(
        &mut self,
        user: Uuid,
        body: &Map<String, Value>,
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        for key in body.keys() {
            if key != "addLicenses" && key != "removeLicenses" && key != "@odata.type" {
                return Err(ApiError::request_bad_request(format!("Invalid property '{key}'.")));
            }
        }
        let add = body
            .get("addLicenses")
            .and_then(Value::as_array)
            .ok_or_else(|| ApiError::value_required("addLicenses", "assignLicense"))?;
        let remove = body
            .get("removeLicenses")
            .and_then(Value::as_array)
            .ok_or_else(|| ApiError::value_required("removeLicenses", "assignLicense"))?;
        let mut adding = Vec::new();
        for l in add {
            let sku = l
                .get("skuId")
                .and_then(Value::as_str)
                .and_then(|s| Uuid::parse_str(s).ok())
                .ok_or_else(ApiError::invalid_values)?;
            let disabled: Vec<Uuid> = l
                .get("disabledPlans")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|p| p.as_str().and_then(|s| Uuid::parse_str(s).ok()).ok_or_else(ApiError::invalid_values))
                .collect::<Result<_, _>>()?;
            adding.push((sku, disabled));
        }
        let removing: Vec<Uuid> = remove
            .iter()
            .map(|s| s.as_str().and_then(|s| Uuid::parse_str(s).ok()).ok_or_else(ApiError::invalid_values))
            .collect::<Result<_, _>>()?;
        let record = self.users.get(&user).ok_or_else(|| ApiError::not_found(&user.to_string()))?;
        let current = assigned_skus(record);
        if !adding.is_empty() && record.get(&USER, "usageLocation").is_none() {
            return Err(ApiError::request_bad_request(
                "License assignment cannot be done for user with invalid usage location.",
            ));
        }
        for (sku, disabled) in &adding {
            let s = self.skus.iter().find(|s| s.sku_id == *sku).ok_or_else(|| {
                ApiError::request_bad_request(format!("License {sku} does not correspond to a valid company License."))
            })?;
            if disabled.iter().any(|p| !s.service_plans.iter().any(|(id, _, _)| id == p)) {
                return Err(ApiError::invalid_values());
            }
            if !current.contains(sku) && self.consumed_units(*sku) >= s.enabled_units as usize {
                return Err(ApiError::request_bad_request(format!(
                    "Subscription {} does not have any available licenses.",
                    s.part_number
                )));
            }
        }
        for sku in &removing {
            if !current.contains(sku) {
                return Err(ApiError::request_bad_request(format!(
                    "User does not have a corresponding license {sku} to remove."
                )));
            }
        }
        let mut licenses: Vec<(Uuid, Vec<Uuid>)> = record
            .get(&USER, "assignedLicenses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|l| {
                let sku = Uuid::parse_str(l.get("skuId")?.as_str()?).ok()?;
                let disabled = l
                    .get("disabledPlans")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p.as_str().and_then(|s| Uuid::parse_str(s).ok()))
                    .collect();
                Some((sku, disabled))
            })
            .filter(|(sku, _)| !removing.contains(sku))
            .collect();
        for (sku, disabled) in adding {
            licenses.retain(|(s, _)| *s != sku);
            licenses.push((sku, disabled));
        }
        let assigned: Vec<Value> =
            licenses.iter().map(|(sku, disabled)| json!({"disabledPlans": disabled, "skuId": sku})).collect();
        let plans: Vec<Value> = licenses
            .iter()
            .flat_map(|(sku, disabled)| {
                let sku = self.skus.iter().find(|s| s.sku_id == *sku);
                sku.into_iter().flat_map(|s| s.service_plans.clone()).filter(|(id, _, _)| !disabled.contains(id)).map(
                    |(id, _, service)| {
                        json!({"assignedDateTime": format_datetime(now), "capabilityStatus": "Enabled", "service": service,
                               "servicePlanId": id})
                    },
                )
            })
            .collect();
        let record = self.users.get_mut(&user).expect("present (looked up above)");
        record.set(&USER, "assignedLicenses", if assigned.is_empty() { Value::Null } else { Value::Array(assigned) });
        record.set(&USER, "assignedPlans", if plans.is_empty() { Value::Null } else { Value::Array(plans) });
        Ok(())
    }

    /// `GET /users/{id}/licenseDetails` items.
    pub(crate) fn license_details_json(&self, user: Uuid) -> Vec<Value> {
        let Some(record) = self.users.get(&user) else { return Vec::new() };
        assigned_skus(record)
            .into_iter()
            .filter_map(|sku| self.skus.iter().find(|s| s.sku_id == sku))
            .map(|s| {
                // licenseDetails ids are opaque per user and SKU.
                use base64::Engine;
                let id = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode([user.as_bytes().as_slice(), s.sku_id.as_bytes().as_slice()].concat());
                json!({
                    "id": id,
                    "servicePlans": s.service_plans.iter().map(|(pid, name, _)| json!({
                        "appliesTo": "User", "provisioningStatus": "Success", "servicePlanId": pid, "servicePlanName": name,
                    })).collect::<Vec<_>>(),
                    "skuId": s.sku_id, "skuPartNumber": s.part_number,
                })
            })
            .collect()
    }
}
