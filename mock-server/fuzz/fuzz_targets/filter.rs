//! `$filter` text is attacker-controlled: parsing must never panic, and a filter
//! that parses must evaluate (and type-check) without panicking either.
#![no_main]

use graphbox_mock::odata::{eval, parse_filter};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

fuzz_target!(|text: &str| {
    let Ok(expr) = parse_filter(text) else {
        return;
    };
    let Value::Object(entity) = json!({
        "id": "2d7e9c14-a3b8-4f51-8c06-9e2b4d7a1f30",
        "displayName": "Mira Okafor",
        "accountEnabled": true,
        "age": 41,
        "createdDateTime": "2026-03-02T10:00:00Z",
        "jobTitle": null,
        "proxyAddresses": ["SMTP:mira@contoso.com"],
        "assignedLicenses": [{"skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900"}],
        "employeeOrgData": {"division": "Research"}
    }) else {
        return;
    };
    let _ = eval(&expr, &entity);
});
