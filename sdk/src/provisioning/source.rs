//! The source directory: users as the source system holds them, loaded from CSV or JSON.
//!
//! Columns and keys are Graph user property names or script names, case-insensitive
//! (`userPrincipalName`, `immutableId`/`onPremisesImmutableId`, `displayName`, `usageLocation`,
//! `mail`, …). Multi-valued attributes (`proxyAddresses`, `businessPhones`, `otherMails`) are
//! `;`-separated in CSV and arrays (or `;`-separated strings) in JSON. Anything else is kept as
//! an additional attribute, readable from scripts with `source.Get("name")`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use super::policy::Attribute;

/// An attribute value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue {
    /// A single string.
    Text(String),
    /// A list of strings.
    List(Vec<String>),
}

impl AttrValue {
    /// The value as Graph's JSON for `attribute` (`showInAddressList` is a boolean).
    pub fn to_json(&self, attribute: Attribute) -> serde_json::Value {
        match self {
            AttrValue::Text(s) if attribute == Attribute::ShowInAddressList => {
                serde_json::Value::Bool(!s.eq_ignore_ascii_case("false"))
            }
            AttrValue::Text(s) => serde_json::Value::String(s.clone()),
            AttrValue::List(l) => serde_json::Value::from(l.clone()),
        }
    }

    /// The value Graph returned for `attribute`, if it is set.
    pub fn from_json(value: &serde_json::Value) -> Option<AttrValue> {
        match value {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) => Some(AttrValue::Text(s.clone())),
            serde_json::Value::Bool(b) => Some(AttrValue::Text(b.to_string())),
            serde_json::Value::Number(n) => Some(AttrValue::Text(n.to_string())),
            serde_json::Value::Array(a) => {
                Some(AttrValue::List(a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()))
            }
            serde_json::Value::Object(_) => None,
        }
    }

    /// Equal as Graph compares them: UPNs and mail addresses case-insensitively.
    pub(crate) fn same_as(&self, other: &AttrValue, attribute: Attribute) -> bool {
        match (self, other) {
            (AttrValue::Text(a), AttrValue::Text(b))
                if matches!(attribute, Attribute::UserPrincipalName | Attribute::Mail) =>
            {
                a.eq_ignore_ascii_case(b)
            }
            _ => self == other,
        }
    }
}

impl fmt::Display for AttrValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrValue::Text(s) => write!(f, "{s:?}"),
            AttrValue::List(l) => write!(f, "{l:?}"),
        }
    }
}

/// One user of the source directory.
///
/// ```
/// use graphbox_sdk::provisioning::{Attribute, SourceUser};
/// let mira = SourceUser::new("mira@contoso.example")
///     .with(Attribute::DisplayName, "Mira Okafor")
///     .with(Attribute::ImmutableId, "bWlyYS0x");
/// assert_eq!(mira.immutable_id(), Some("bWlyYS0x"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceUser {
    /// Where it came from: the record number in the file (1-based, header excluded); 0 for a
    /// user built in code, which plans and reports number by its position in the source (1-based).
    pub row: usize,
    /// Known attributes.
    pub values: BTreeMap<Attribute, AttrValue>,
    /// Additional attributes (columns or keys that are not Graph user properties).
    pub extra: BTreeMap<String, String>,
}

impl SourceUser {
    /// A user with only a UPN.
    pub fn new(user_principal_name: &str) -> Self {
        let mut values = BTreeMap::new();
        values.insert(Attribute::UserPrincipalName, AttrValue::Text(user_principal_name.to_owned()));
        Self { row: 0, values, extra: BTreeMap::new() }
    }

    /// This user with `attribute` set to `value` (lists are `;`-separated).
    pub fn with(mut self, attribute: Attribute, value: &str) -> Self {
        self.set(attribute, value);
        self
    }

    /// Sets `attribute` from text (lists are `;`-separated); empty text unsets it.
    pub fn set(&mut self, attribute: Attribute, value: &str) {
        let value = value.trim();
        if value.is_empty() {
            self.values.remove(&attribute);
        } else if attribute.is_list() {
            let items = value.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
            self.values.insert(attribute, AttrValue::List(items));
        } else {
            self.values.insert(attribute, AttrValue::Text(value.to_owned()));
        }
    }

    /// The text of a single-valued attribute.
    pub fn text(&self, attribute: Attribute) -> Option<&str> {
        match self.values.get(&attribute) {
            Some(AttrValue::Text(s)) => Some(s),
            _ => None,
        }
    }

    /// The UPN (empty if the source had none; such users are refused when planning).
    pub fn user_principal_name(&self) -> &str {
        self.text(Attribute::UserPrincipalName).unwrap_or_default()
    }

    /// The immutable id (source anchor), if any.
    pub fn immutable_id(&self) -> Option<&str> {
        self.text(Attribute::ImmutableId)
    }

    /// The canonical name scripts see as `source.CanonicalizeName`: the primary email if the
    /// source has one, else the UPN, lower-cased. The vendor's scripts use the name without
    /// defining it (unconfirmed); this is graphbox's reading.
    pub fn canonical_name(&self) -> String {
        self.text(Attribute::Mail).unwrap_or(self.user_principal_name()).to_ascii_lowercase()
    }
}

/// Why a source file could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The file could not be read.
    #[error("could not read {path}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The CSV is malformed.
    #[error("CSV line {line}: {message}")]
    Csv {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The JSON is malformed or not an array of user objects.
    #[error("JSON: {0}")]
    Json(String),
}

/// Loads a CSV file (by extension `.csv`) or a JSON file (anything else).
///
/// ```no_run
/// let users = graphbox_sdk::provisioning::load_source("examples/data/source.csv")?;
/// # Ok::<(), graphbox_sdk::provisioning::SourceError>(())
/// ```
///
/// # Errors
///
/// [`SourceError`] when the file cannot be read or parsed.
pub fn load_source(path: impl AsRef<Path>) -> Result<Vec<SourceUser>, SourceError> {
    let path = path.as_ref();
    let text =
        std::fs::read_to_string(path).map_err(|source| SourceError::Io { path: path.display().to_string(), source })?;
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
        parse_csv(&text)
    } else {
        parse_json(&text)
    }
}

fn assign(user: &mut SourceUser, key: &str, value: &str) {
    match Attribute::from_name(key) {
        Some(attribute) => user.set(attribute, value),
        None if !value.trim().is_empty() => {
            user.extra.insert(key.to_owned(), value.trim().to_owned());
        }
        None => {}
    }
}

/// Parses CSV text (RFC 4180: a header row, `"`-quoted fields with `""` escapes and embedded
/// commas or line breaks, CRLF or LF).
///
/// ```
/// let users = graphbox_sdk::provisioning::parse_csv("userPrincipalName,displayName\nmira@contoso.example,\"Okafor, Mira\"\n")?;
/// assert_eq!(users[0].text(graphbox_sdk::provisioning::Attribute::DisplayName), Some("Okafor, Mira"));
/// # Ok::<(), graphbox_sdk::provisioning::SourceError>(())
/// ```
///
/// # Errors
///
/// [`SourceError::Csv`] for an unterminated quote, a row with more fields than the header, or a
/// missing header.
pub fn parse_csv(text: &str) -> Result<Vec<SourceUser>, SourceError> {
    let records = csv_records(text)?;
    let mut records = records.into_iter();
    let Some((_, header)) = records.next() else {
        return Err(SourceError::Csv { line: 1, message: "no header row".into() });
    };
    let header: Vec<String> = header.into_iter().map(|h| h.trim().trim_start_matches('\u{feff}').to_owned()).collect();
    let mut users = Vec::new();
    for (index, (line, fields)) in records.enumerate() {
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if fields.len() > header.len() {
            let message = format!("{} fields but the header has {}", fields.len(), header.len());
            return Err(SourceError::Csv { line, message });
        }
        let mut user = SourceUser { row: index + 1, values: BTreeMap::new(), extra: BTreeMap::new() };
        for (key, value) in header.iter().zip(&fields) {
            assign(&mut user, key, value);
        }
        users.push(user);
    }
    Ok(users)
}

/// Splits CSV text into records of fields, each with the line it starts on.
fn csv_records(text: &str) -> Result<Vec<(usize, Vec<String>)>, SourceError> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let (mut line, mut record_line) = (1usize, 1usize);
    let mut in_quotes = false;
    let mut quote_line = 0;
    while let Some(c) = chars.next() {
        match (in_quotes, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => in_quotes = false,
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
            (false, '"') if field.trim().is_empty() => {
                field.clear();
                in_quotes = true;
                quote_line = line;
            }
            (false, ',') => fields.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                fields.push(std::mem::take(&mut field));
                records.push((record_line, std::mem::take(&mut fields)));
                line += 1;
                record_line = line;
            }
            (false, c) => field.push(c),
        }
    }
    if in_quotes {
        return Err(SourceError::Csv { line: quote_line, message: "a quoted field is never closed".into() });
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        records.push((record_line, fields));
    }
    Ok(records)
}

/// Parses JSON: an array of user objects, or `{"users": [...]}`.
///
/// ```
/// let users = graphbox_sdk::provisioning::parse_json(r#"[{"userPrincipalName": "mira@contoso.example", "proxyAddresses": ["smtp:m@contoso.example"]}]"#)?;
/// assert_eq!(users.len(), 1);
/// # Ok::<(), graphbox_sdk::provisioning::SourceError>(())
/// ```
///
/// # Errors
///
/// [`SourceError::Json`] when the text is not JSON of that shape.
pub fn parse_json(text: &str) -> Result<Vec<SourceUser>, SourceError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| SourceError::Json(e.to_string()))?;
    let items = match &value {
        serde_json::Value::Array(items) => items,
        serde_json::Value::Object(o) => match o.get("users") {
            Some(serde_json::Value::Array(items)) => items,
            _ => return Err(SourceError::Json("expected an array of users or {\"users\": [...]}".into())),
        },
        _ => return Err(SourceError::Json("expected an array of users or {\"users\": [...]}".into())),
    };
    let mut users = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let Some(object) = item.as_object() else {
            return Err(SourceError::Json(format!("user {} is not an object", index + 1)));
        };
        let mut user = SourceUser { row: index + 1, values: BTreeMap::new(), extra: BTreeMap::new() };
        for (key, value) in object {
            let text = match value {
                serde_json::Value::Null => continue,
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(a) => a
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(";"),
                other => other.to_string(),
            };
            assign(&mut user, key, &text);
        }
        users.push(user);
    }
    Ok(users)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_handles_quotes_escapes_crlf_and_embedded_line_breaks() {
        let text = "userPrincipalName,displayName,department\r\n\"a@x.example\",\"Say \"\"hi\"\"\",\"Line1\nLine2\"\r\nb@x.example,B,\n";
        let users = parse_csv(text).expect("parses");
        assert_eq!(users.len(), 2);
        assert_eq!(users[0].text(Attribute::DisplayName), Some("Say \"hi\""));
        assert_eq!(users[0].text(Attribute::Department), Some("Line1\nLine2"));
        assert_eq!(users[1].text(Attribute::Department), None);
        assert_eq!(users[1].row, 2);
    }

    #[test]
    fn csv_reports_the_line_of_an_unclosed_quote() {
        let err = parse_csv("userPrincipalName\na@x.example\n\"b@x.example\n").expect_err("unclosed");
        assert!(matches!(err, SourceError::Csv { line: 3, .. }), "{err}");
    }

    #[test]
    fn unknown_columns_become_additional_attributes_and_lists_split_on_semicolons() {
        let users = parse_csv(
            "upn_note,userPrincipalName,proxyAddresses\nhello,a@x.example,smtp:a@x.example; smtp:b@x.example\n",
        )
        .expect("parses");
        assert_eq!(users[0].extra.get("upn_note").map(String::as_str), Some("hello"));
        assert_eq!(
            users[0].values.get(&Attribute::ProxyAddresses),
            Some(&AttrValue::List(vec!["smtp:a@x.example".into(), "smtp:b@x.example".into()]))
        );
    }
}
