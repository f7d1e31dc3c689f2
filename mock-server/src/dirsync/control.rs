//! The control API's view of a tenant's DirSync machine:
//! `GET /_graphbox/tenants/{tid}/dirsync` (state, deadline, settings) and
//! `PUT /_graphbox/tenants/{tid}/dirsync/settings` (a partial settings object).
//! The same settings travel in `GET|PUT …/state` with the directory.

use serde_json::{json, Value};

use super::Settings;
use crate::clock::format_datetime;
use crate::directory::Directory;

/// The machine as tests see it.
pub(crate) fn view(dir: &Directory) -> Value {
    let d = &dir.organization.dirsync;
    json!({
        "status": d.state.msol_status(),
        "neverSynced": d.state == super::State::NeverSynced,
        "onPremisesSyncEnabled": d.state.flag(),
        "pendingUntil": d.state.deadline().map(format_datetime),
        "lastSyncDateTime": d.last_sync.map(format_datetime),
        "settings": d.settings,
    })
}

/// Merge `body` into the settings; unknown names and wrong types are refused
/// and change nothing.
pub(crate) fn put_settings(dir: &mut Directory, body: &Value) -> Result<Value, String> {
    let Some(changes) = body.as_object() else {
        return Err("send a JSON object with any of the settings' names".into());
    };
    let mut merged = serde_json::to_value(dir.organization.dirsync.settings).map_err(|e| e.to_string())?;
    let Some(target) = merged.as_object_mut() else { return Err("settings are an object".into()) };
    for (name, value) in changes {
        if !target.contains_key(name) {
            let known: Vec<&String> = target.keys().collect();
            return Err(format!("unknown DirSync setting '{name}' (known: {known:?})"));
        }
        target.insert(name.clone(), value.clone());
    }
    let settings: Settings = serde_json::from_value(merged).map_err(|e| format!("bad DirSync settings: {e}"))?;
    settings.check()?;
    dir.organization.dirsync.settings = settings;
    Ok(view(dir))
}
