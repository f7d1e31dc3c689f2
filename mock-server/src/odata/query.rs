//! The raw query string → [`QueryOptions`].
//!
//! Clients disagree on encoding: JavaScript leaves `(`, `,` and `'` raw and sends
//! spaces as `%20`, Python's `urlencode` encodes everything and sends spaces as
//! `+`. Both decode to the same text here, so both parse identically.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

use super::{filter, search, ExpandItem, ODataError, OrderBy, PropertyPath, QueryOptions};

/// The system query options we know, lowercase, so `$Filter` matches.
const SYSTEM_OPTIONS: [&str; 11] = [
    "$select",
    "$filter",
    "$top",
    "$skip",
    "$skiptoken",
    "$deltatoken",
    "$count",
    "$orderby",
    "$search",
    "$expand",
    "$format",
];

/// Parses a query string (without the `?`).
///
/// Every parameter stays readable, decoded and in request order, through
/// [`QueryOptions::params`]; parameters without a `$` are custom options and are
/// otherwise ignored. System option names match case-insensitively.
///
/// # Errors
/// `BadRequest` for an unknown or repeated system option, a value that does not
/// parse (`$top=-1`, `$count=yes`, a bad `$filter`, …), an empty `$filter`,
/// `$select`, `$orderby`, `$expand` or `$search`, or text that is not UTF-8 once
/// decoded.
pub fn parse_query(raw: &str) -> Result<QueryOptions<'_>, ODataError> {
    let mut options = QueryOptions { raw, ..QueryOptions::default() };
    // Which of `SYSTEM_OPTIONS` came already, one bit each.
    let mut seen = 0u32;
    for (name, value) in split_params(raw) {
        let name = decode(name)?;
        let value = decode(value)?;
        if name.starts_with('$') {
            let Some(index) = SYSTEM_OPTIONS.iter().position(|o| o.eq_ignore_ascii_case(&name)) else {
                return Err(ODataError::bad_request(format!("Query option '{name}' is not supported.")));
            };
            let known = SYSTEM_OPTIONS[index];
            if seen & (1 << index) != 0 {
                return Err(ODataError::bad_request(format!(
                    "Query option '{known}' was specified more than once, but it must be specified at most once."
                )));
            }
            seen |= 1 << index;
            apply(&mut options, known, value)?;
        }
    }
    Ok(options)
}

/// Options are equal when they parse alike and carry the same parameters once
/// decoded: `%20` and `+` spell the same query.
impl PartialEq for QueryOptions<'_> {
    fn eq(&self, other: &Self) -> bool {
        let QueryOptions { select, filter, top, skip, skiptoken, deltatoken, count, orderby, search, expand, raw: _ } =
            self;
        *select == other.select
            && *filter == other.filter
            && *top == other.top
            && *skip == other.skip
            && *skiptoken == other.skiptoken
            && *deltatoken == other.deltatoken
            && *count == other.count
            && *orderby == other.orderby
            && *search == other.search
            && *expand == other.expand
            && self.params().eq(other.params())
    }
}

impl<'q> QueryOptions<'q> {
    /// Every query parameter, decoded, in request order (system options with
    /// their `$`). Each decoded without error when the query was parsed.
    pub fn params(&self) -> impl Iterator<Item = (Cow<'q, str>, Cow<'q, str>)> {
        split_params(self.raw).map(|(name, value)| (decode_valid(name), decode_valid(value)))
    }
}

/// `name=value` pairs as sent; a pair without `=` has an empty value.
fn split_params(raw: &str) -> impl Iterator<Item = (&str, &str)> {
    raw.split('&').filter(|p| !p.is_empty()).map(|pair| pair.split_once('=').unwrap_or((pair, "")))
}

/// `+` is a space in form encoding; a literal plus arrives as `%2B` and survives.
/// Text without `+` or escapes is borrowed as it is.
fn decode(text: &str) -> Result<Cow<'_, str>, ODataError> {
    if !text.contains(['%', '+']) {
        return Ok(Cow::Borrowed(text));
    }
    let invalid = |_| ODataError::bad_request(format!("The query parameter '{text}' is not valid UTF-8 once decoded."));
    if text.contains('+') {
        let spaced = text.replace('+', " ");
        return percent_decode_str(&spaced).decode_utf8().map(|s| Cow::Owned(s.into_owned())).map_err(invalid);
    }
    percent_decode_str(text).decode_utf8().map_err(invalid)
}

/// [`decode`] for text that decoded once already (so it cannot fail).
fn decode_valid(text: &str) -> Cow<'_, str> {
    decode(text).unwrap_or(Cow::Borrowed(text))
}

/// A `$select` list as the request spelled it, checked to have no empty item.
///
/// Items are read off the text on demand rather than collected, so parsing one
/// copies nothing when the query needed no decoding. Repeats are kept: what a
/// repeated property means is the caller's business.
#[derive(Debug, Clone)]
pub struct SelectList<'q>(Cow<'q, str>);

/// Lists are equal when their items are: `id, mail` is `id,mail`.
impl PartialEq for SelectList<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for SelectList<'_> {}

impl<'q> SelectList<'q> {
    /// # Errors
    /// `BadRequest` when an item is empty or only whitespace (`a,,b`, `a,`, ` `).
    pub fn parse(value: impl Into<Cow<'q, str>>) -> Result<Self, ODataError> {
        let value = value.into();
        if value.split(',').any(|item| item.trim().is_empty()) {
            return Err(ODataError::bad_request(format!(
                "Invalid value '{value}' for $select query option: empty item."
            )));
        }
        Ok(SelectList(value))
    }

    /// The items in request order, without surrounding whitespace.
    pub fn iter(&self) -> impl Iterator<Item = &str> + Clone {
        self.0.split(',').map(str::trim)
    }

    /// The list as the request spelled it, once decoded.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn apply<'q>(options: &mut QueryOptions<'q>, name: &'static str, value: Cow<'q, str>) -> Result<(), ODataError> {
    let requires_value = ["$select", "$filter", "$orderby", "$expand", "$search"];
    if requires_value.contains(&name) && value.trim().is_empty() {
        return Err(ODataError::bad_request(format!("The {name} query option must not be empty.")));
    }
    if name == "$select" {
        options.select = Some(SelectList::parse(value)?);
        return Ok(());
    }
    let value = value.as_ref();
    match name {
        "$filter" => options.filter = Some(filter::parse_filter(value)?),
        "$top" => options.top = Some(non_negative(name, value)?),
        "$skip" => options.skip = Some(non_negative(name, value)?),
        "$skiptoken" => options.skiptoken = Some(value.to_owned()),
        "$deltatoken" => options.deltatoken = Some(value.to_owned()),
        "$count" => {
            options.count = Some(match value.to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(ODataError::bad_request(format!("'{value}' is not a valid count option."))),
            })
        }
        "$orderby" => options.orderby = parse_orderby(value)?,
        "$search" => options.search = Some(search::parse_search(value)?),
        "$expand" => options.expand = parse_expand(value)?,
        "$format" => {
            let lower = value.trim().to_ascii_lowercase();
            if lower != "json" && !lower.starts_with("application/json") {
                return Err(ODataError::bad_request(format!(
                    "The query option $format with value '{value}' is not supported."
                )));
            }
        }
        _ => {}
    }
    Ok(())
}

fn non_negative(name: &str, value: &str) -> Result<u64, ODataError> {
    let parsed = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) { value.parse().ok() } else { None };
    parsed.ok_or_else(|| {
        ODataError::bad_request(format!(
            "Invalid value '{value}' for {name} query option found. The {name} query option requires a non-negative integer value."
        ))
    })
}

fn parse_orderby(value: &str) -> Result<Vec<OrderBy>, ODataError> {
    let bad = || ODataError::bad_request(format!("Invalid $orderby clause '{value}'."));
    // Every sort key costs a comparison per pair of items sorted, so a key
    // repeated 100 000 times (an inner $batch URL is not held to the URL
    // length) made one list take seconds; repeating a key never changes the
    // order. Property names are case-insensitive, so `a,A` is a repeat too.
    let mut seen = std::collections::HashSet::new();
    value
        .split(',')
        .map(|item| {
            let mut words = item.split_whitespace();
            let path = words.next().ok_or_else(bad)?;
            let descending = match words.next().map(str::to_ascii_lowercase).as_deref() {
                None | Some("asc") => false,
                Some("desc") => true,
                Some(_) => return Err(bad()),
            };
            if words.next().is_some() {
                return Err(bad());
            }
            let segments: Vec<String> = path.split('/').map(str::to_owned).collect();
            if !segments.iter().all(|s| is_identifier(s)) {
                return Err(bad());
            }
            if !seen.insert(path.to_ascii_lowercase()) {
                // [inferred] ASP.NET OData's wording for a repeated key.
                return Err(ODataError::bad_request(format!(
                    "Duplicate property named '{path}' is not supported in '$orderby'."
                )));
            }
            Ok(OrderBy { property: PropertyPath(segments), descending })
        })
        .collect()
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `manager`, `memberOf`, `manager($select=id,displayName)`; the commas inside
/// parentheses belong to the nested `$select`.
fn parse_expand(value: &str) -> Result<Vec<ExpandItem>, ODataError> {
    let bad = || ODataError::bad_request(format!("Invalid $expand clause '{value}'."));
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in value.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.checked_sub(1).ok_or_else(bad)?,
            ',' if depth == 0 => {
                items.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(bad());
    }
    items.push(&value[start..]);
    // Each expanded property is fetched for every item of the page, so a
    // repeated one multiplied the work by the page size; one expansion per
    // property is all a response can show.
    let mut seen = std::collections::HashSet::new();
    items
        .into_iter()
        .map(|item| {
            let item = item.trim();
            let (property, nested) = match item.split_once('(') {
                None => (item, None),
                Some((name, rest)) => (name.trim(), Some(rest.strip_suffix(')').ok_or_else(bad)?)),
            };
            if !(is_identifier(property) || property == "*") {
                return Err(bad());
            }
            if !seen.insert(property.to_ascii_lowercase()) {
                // [inferred] Graph's wording for this is not recorded.
                return Err(ODataError::bad_request(format!(
                    "Property '{property}' is expanded more than once in '$expand'; expand each property once."
                )));
            }
            let select = match nested {
                None => None,
                Some(nested) => Some(parse_nested(nested, value)?),
            };
            Ok(ExpandItem { property: property.to_owned(), select })
        })
        .collect()
}

/// Options inside `$expand=x(…)`, separated by `;`. Only `$select` is modelled.
fn parse_nested(nested: &str, whole: &str) -> Result<Vec<String>, ODataError> {
    let mut select = None;
    for option in nested.split(';') {
        let (name, value) = option.split_once('=').unwrap_or((option, ""));
        let name = name.trim();
        if !name.eq_ignore_ascii_case("$select") {
            return Err(ODataError::bad_request(format!("Query option '{name}' is not supported.")));
        }
        if select.is_some() {
            return Err(ODataError::bad_request(
                "Query option '$select' was specified more than once, but it must be specified at most once.",
            ));
        }
        if value.trim().is_empty() {
            return Err(ODataError::bad_request(format!("Invalid $expand clause '{whole}'.")));
        }
        select = Some(SelectList::parse(value)?.iter().map(str::to_owned).collect());
    }
    select.ok_or_else(|| ODataError::bad_request(format!("Invalid $expand clause '{whole}'.")))
}

#[cfg(test)]
mod tests;
