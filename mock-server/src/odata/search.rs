//! Graph's directory `$search`: double-quoted `"property:text"` clauses joined by
//! `AND`/`OR`, matched as a tokenised, case-insensitive prefix search.

use super::eval::Resolve;
use super::{ODataError, SearchExpr};

/// Deepest parenthesis nesting before we refuse, so the parser cannot overflow.
const MAX_DEPTH: usize = 100;
/// Most terms and operators one `$search` may have. `"a" AND "a" AND …` builds
/// a left-deep tree as deep as it is long, and matching, listing properties and
/// dropping it all recurse: a direct request is held to about 2 000 terms by the
/// URL length, but an inner `$batch` URL is not, and 20 000 terms overflowed a
/// worker's stack. The same figure as `$filter`'s node limit.
const MAX_NODES: usize = 1000;

/// Parses a `$search` value such as `"displayName:mir" OR "mail:mira"`.
///
/// `AND` binds tighter than `OR`; both must be uppercase, as in Graph. Inside a
/// clause `\"` and `\\` escape a quote and a backslash. A clause whose text before
/// the first `:` is not an identifier is a term with no property.
///
/// # Errors
/// `BadRequest` "Syntax error: character 'x' is not valid at position N in '…'."
/// for anything outside a quoted clause that is not `AND`, `OR` or a parenthesis,
/// and for an unterminated or empty clause.
pub fn parse_search(text: &str) -> Result<SearchExpr, ODataError> {
    let mut parser = Parser { text, chars: text.chars().collect(), at: 0, depth: 0, nodes: 0 };
    let expr = parser.parse_or()?;
    parser.skip_space();
    if parser.at < parser.chars.len() {
        return Err(parser.bad_char());
    }
    Ok(expr)
}

impl SearchExpr {
    /// Whether `entity` matches: a term matches when some token of the property's
    /// value (split on whitespace and punctuation) starts with each word of the
    /// term's text, ignoring case. A term without a property tries each of
    /// `searchable`; a property not in `searchable` (compared ignoring ASCII case)
    /// matches nothing. String arrays match if any element does.
    pub fn matches(&self, entity: &dyn Resolve, searchable: &[&str]) -> bool {
        match self {
            SearchExpr::And(a, b) => a.matches(entity, searchable) && b.matches(entity, searchable),
            SearchExpr::Or(a, b) => a.matches(entity, searchable) || b.matches(entity, searchable),
            SearchExpr::Term { property, text } => {
                let words = tokens(text);
                if words.is_empty() {
                    return false;
                }
                match property {
                    Some(p) => searchable
                        .iter()
                        .find(|s| s.eq_ignore_ascii_case(p))
                        .is_some_and(|canonical| property_matches(entity, canonical, &words)),
                    None => searchable.iter().any(|s| property_matches(entity, s, &words)),
                }
            }
        }
    }

    /// The property names the terms mention, in order, for the caller to validate.
    pub fn properties(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_properties(&mut out);
        out
    }

    fn collect_properties<'s>(&'s self, out: &mut Vec<&'s str>) {
        match self {
            SearchExpr::And(a, b) | SearchExpr::Or(a, b) => {
                a.collect_properties(out);
                b.collect_properties(out);
            }
            SearchExpr::Term { property: Some(p), .. } => out.push(p),
            SearchExpr::Term { property: None, .. } => {}
        }
    }
}

fn property_matches(entity: &dyn Resolve, property: &str, words: &[String]) -> bool {
    let text_matches = |value: &str| {
        let have = tokens(value);
        words.iter().all(|w| have.iter().any(|t| t.starts_with(w.as_str())))
    };
    match entity.property(property) {
        Some(serde_json::Value::String(s)) => text_matches(s),
        Some(serde_json::Value::Array(items)) => items.iter().any(|i| i.as_str().is_some_and(text_matches)),
        _ => false,
    }
}

/// Lowercased tokens split on everything that is not a letter or digit, which is
/// how the directory indexes `mira.okafor@contoso.com` as `mira`, `okafor`, …
fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty()).map(str::to_lowercase).collect()
}

struct Parser<'t> {
    text: &'t str,
    chars: Vec<char>,
    at: usize,
    depth: usize,
    nodes: usize,
}

impl Parser<'_> {
    fn skip_space(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }

    fn bad_char(&self) -> ODataError {
        match self.chars.get(self.at) {
            Some(c) => ODataError::bad_request(format!(
                "Syntax error: character '{c}' is not valid at position {} in '{}'.",
                self.at, self.text
            )),
            None => ODataError::bad_request(format!(
                "Syntax error: unexpected end of input at position {} in '{}'.",
                self.at, self.text
            )),
        }
    }

    fn keyword(&mut self, word: &str) -> bool {
        self.skip_space();
        let end = self.at + word.len();
        let matches = self.chars.len() >= end
            && self.chars[self.at..end].iter().copied().eq(word.chars())
            && self.chars.get(end).is_none_or(|c| c.is_whitespace() || *c == '"' || *c == '(');
        if matches {
            self.at = end;
        }
        matches
    }

    fn node(&mut self) -> Result<(), ODataError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(ODataError::bad_request(format!(
                "The query specified in the URI is not valid. The node count limit of '{MAX_NODES}' has been exceeded."
            )));
        }
        Ok(())
    }

    fn parse_or(&mut self) -> Result<SearchExpr, ODataError> {
        let mut left = self.parse_and()?;
        while self.keyword("OR") {
            self.node()?;
            let right = self.parse_and()?;
            left = SearchExpr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_and(&mut self) -> Result<SearchExpr, ODataError> {
        let mut left = self.parse_primary()?;
        while self.keyword("AND") {
            self.node()?;
            let right = self.parse_primary()?;
            left = SearchExpr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_primary(&mut self) -> Result<SearchExpr, ODataError> {
        self.skip_space();
        match self.chars.get(self.at) {
            Some('(') => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(ODataError::bad_request(format!(
                        "The query specified in the URI is not valid. The recursion depth limit of '{MAX_DEPTH}' has been exceeded."
                    )));
                }
                self.at += 1;
                let inner = self.parse_or()?;
                self.skip_space();
                if self.chars.get(self.at) != Some(&')') {
                    return Err(self.bad_char());
                }
                self.at += 1;
                self.depth -= 1;
                Ok(inner)
            }
            Some('"') => self.parse_clause(),
            _ => Err(self.bad_char()),
        }
    }

    fn parse_clause(&mut self) -> Result<SearchExpr, ODataError> {
        self.node()?;
        let start = self.at;
        self.at += 1;
        let mut body = String::new();
        loop {
            match self.chars.get(self.at) {
                None => {
                    return Err(ODataError::bad_request(format!(
                        "Syntax error: unterminated quoted string at position {start} in '{}'.",
                        self.text
                    )))
                }
                Some('\\') if matches!(self.chars.get(self.at + 1), Some('"' | '\\')) => {
                    body.push(self.chars[self.at + 1]);
                    self.at += 2;
                }
                Some('"') => {
                    self.at += 1;
                    break;
                }
                Some(&c) => {
                    body.push(c);
                    self.at += 1;
                }
            }
        }
        let term = match body.split_once(':') {
            Some((p, t)) if is_property_name(p) => {
                SearchExpr::Term { property: Some(p.to_owned()), text: t.trim().to_owned() }
            }
            _ => SearchExpr::Term { property: None, text: body.trim().to_owned() },
        };
        if matches!(&term, SearchExpr::Term { text, .. } if text.is_empty()) {
            return Err(ODataError::bad_request(format!(
                "Syntax error: empty search term at position {start} in '{}'.",
                self.text
            )));
        }
        Ok(term)
    }
}

fn is_property_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests;
