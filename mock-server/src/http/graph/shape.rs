//! `$select` over objects the directory builds as JSON rather than as records
//! (domains, subscribed SKUs): checked against Microsoft's schema for the type
//! (`directory/csdl.rs`), as Graph checks it, so a property Graph has is
//! selectable even where graphbox never sets it.

use serde_json::{Map, Value};

use crate::directory::csdl::{unset_json, CsdlProp};
use crate::error::ApiError;
use crate::odata::SelectList;

/// The properties a `$select` names, in the type's order; `None` without
/// `$select` (or with `*`). An unknown name is Graph's 400.
pub(super) fn selection(
    csdl: &'static [CsdlProp],
    type_name: &str,
    select: Option<&SelectList<'_>>,
) -> Result<Option<Vec<&'static CsdlProp>>, ApiError> {
    let Some(names) = select else { return Ok(None) };
    if names.iter().any(|n| n == "*") {
        return Ok(None);
    }
    for name in names.iter() {
        if !csdl.iter().any(|p| p.name.eq_ignore_ascii_case(name)) {
            return Err(ApiError::bad_request(format!(
                "Could not find a property named '{name}' on type '{type_name}'."
            )));
        }
    }
    Ok(Some(csdl.iter().filter(|p| names.iter().any(|n| p.name.eq_ignore_ascii_case(n))).collect()))
}

/// `item` cut down to the selection; a selected property the object does not
/// carry answers what Graph answers while it is unset.
pub(super) fn apply(mut item: Map<String, Value>, selected: Option<&[&'static CsdlProp]>) -> Map<String, Value> {
    let Some(selected) = selected else { return item };
    let mut out = Map::with_capacity(selected.len());
    for p in selected {
        let value = item.remove(p.name).unwrap_or_else(|| unset_json(p));
        out.insert(p.name.to_owned(), value);
    }
    out
}

/// The `@odata.context` of a set, naming the selection as Graph does.
pub(super) fn context(graph_url: &str, set: &str, selected: Option<&[&'static CsdlProp]>, entity: bool) -> String {
    let names = selected.map(|s| s.iter().map(|p| p.name).collect::<Vec<_>>().join(","));
    let suffix = if entity { "/$entity" } else { "" };
    match names {
        Some(names) => format!("{graph_url}/$metadata#{set}({names}){suffix}"),
        None => format!("{graph_url}/$metadata#{set}{suffix}"),
    }
}
