//! Tokens of OData's URL expression syntax, shared by `$filter` and by the
//! parenthesised key arguments of a path segment (`applications(appId='…')`).
//!
//! Positions are 0-based character offsets into the text, which is what Graph's
//! messages count (it counts UTF-16 units; the two agree outside the BMP-free
//! ASCII that filters are made of in practice).

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::odata::Literal;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token {
    LParen,
    RParen,
    Comma,
    Colon,
    Slash,
    Equals,
    Ident(String),
    Literal(Literal),
}

/// A token and the character offset it starts at.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Spanned {
    pub(crate) token: Token,
    pub(crate) pos: usize,
}

/// Why the text does not tokenise; the caller words the message, because `$filter`
/// and path keys report the same fault differently.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LexError {
    /// A character that starts no token (`"`, `;`, `!`, …).
    BadChar { ch: char, pos: usize },
    /// A `'` with no closing `'`.
    Unterminated { pos: usize },
    /// Something number- or date-shaped that is neither (`12abc`, `2026-13-40T…`).
    BadLiteral { pos: usize },
}

/// Splits `text` into tokens.
///
/// # Errors
/// A [`LexError`] at the first character that starts no valid token.
pub(crate) fn tokenize(text: &str) -> Result<Vec<Spanned>, LexError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let single = match c {
            '(' => Some(Token::LParen),
            ')' => Some(Token::RParen),
            ',' => Some(Token::Comma),
            ':' => Some(Token::Colon),
            '/' => Some(Token::Slash),
            '=' => Some(Token::Equals),
            _ => None,
        };
        if let Some(token) = single {
            tokens.push(Spanned { token, pos: start });
            i += 1;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let (token, end) = if c == '\'' {
            lex_string(&chars, i)?
        } else if let Some(found) = lex_guid(&chars, i) {
            found
        } else if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            lex_number_or_date(&chars, i)?
        } else if c.is_ascii_alphabetic() || c == '_' {
            let end = scan(&chars, i, |c| c.is_ascii_alphanumeric() || c == '_');
            let word: String = chars[i..end].iter().collect();
            let token = match word.as_str() {
                "null" => Token::Literal(Literal::Null),
                "true" => Token::Literal(Literal::Bool(true)),
                "false" => Token::Literal(Literal::Bool(false)),
                _ => Token::Ident(word),
            };
            (token, end)
        } else {
            return Err(LexError::BadChar { ch: c, pos: start });
        };
        tokens.push(Spanned { token, pos: start });
        i = end;
    }
    Ok(tokens)
}

fn scan(chars: &[char], from: usize, keep: impl Fn(char) -> bool) -> usize {
    let mut end = from;
    while end < chars.len() && keep(chars[end]) {
        end += 1;
    }
    end
}

/// `'it''s'` → `it's`: OData escapes a quote by doubling it.
fn lex_string(chars: &[char], start: usize) -> Result<(Token, usize), LexError> {
    let mut value = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => return Err(LexError::Unterminated { pos: start }),
            Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                value.push('\'');
                i += 2;
            }
            Some('\'') => return Ok((Token::Literal(Literal::String(value)), i + 1)),
            Some(&c) => {
                value.push(c);
                i += 1;
            }
        }
    }
}

/// An unquoted 8-4-4-4-12 GUID. Tried before identifiers and numbers because a GUID
/// may start with a letter (`aabbccdd-…`) or a digit (`3c9e8a71-…`).
fn lex_guid(chars: &[char], start: usize) -> Option<(Token, usize)> {
    const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];
    let mut i = start;
    for (n, len) in GROUPS.iter().enumerate() {
        if n > 0 {
            if chars.get(i) != Some(&'-') {
                return None;
            }
            i += 1;
        }
        for _ in 0..*len {
            if !chars.get(i)?.is_ascii_hexdigit() {
                return None;
            }
            i += 1;
        }
    }
    // `…-0123456789abX` is not a GUID followed by an identifier: it is nothing.
    if chars.get(i).is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-') {
        return None;
    }
    let text: String = chars[start..i].iter().collect();
    let guid = Uuid::parse_str(&text).ok()?;
    Some((Token::Literal(Literal::Guid(guid)), i))
}

/// Integers, decimals (`1.5`, `1e3`) and unquoted ISO 8601 instants
/// (`2026-03-02T10:00:00Z`, `2026-03-02T10:00:00.123+01:00`).
fn lex_number_or_date(chars: &[char], start: usize) -> Result<(Token, usize), LexError> {
    let digits_end = scan(chars, start, |c| c.is_ascii_digit());
    let looks_like_date = digits_end - start == 4 && chars.get(digits_end) == Some(&'-');
    if looks_like_date {
        let end = scan(chars, start, |c| c.is_ascii_alphanumeric() || matches!(c, '-' | ':' | '.' | '+'));
        let text: String = chars[start..end].iter().collect();
        let instant = parse_instant(&text).ok_or(LexError::BadLiteral { pos: start })?;
        return Ok((Token::Literal(Literal::DateTime(instant)), end));
    }
    let mut end = scan(chars, start + 1, |c| c.is_ascii_digit());
    let mut is_float = false;
    if chars.get(end) == Some(&'.') && chars.get(end + 1).is_some_and(char::is_ascii_digit) {
        is_float = true;
        end = scan(chars, end + 1, |c| c.is_ascii_digit());
    }
    if matches!(chars.get(end), Some('e' | 'E')) {
        let mut exp = end + 1;
        if matches!(chars.get(exp), Some('+' | '-')) {
            exp += 1;
        }
        if chars.get(exp).is_some_and(char::is_ascii_digit) {
            is_float = true;
            end = scan(chars, exp, |c| c.is_ascii_digit());
        }
    }
    // OData's type suffixes (`5L`, `1.5d`, `1.5m`) are accepted and ignored.
    if matches!(chars.get(end), Some('L' | 'l' | 'd' | 'D' | 'm' | 'M' | 'f' | 'F')) {
        end += 1;
    }
    if chars.get(end).is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_') {
        return Err(LexError::BadLiteral { pos: start });
    }
    let text: String =
        chars[start..end].iter().filter(|c| !matches!(c, 'L' | 'l' | 'd' | 'D' | 'm' | 'M' | 'f' | 'F')).collect();
    let literal = if is_float {
        Literal::Float(text.parse().map_err(|_| LexError::BadLiteral { pos: start })?)
    } else {
        match text.parse::<i64>() {
            Ok(n) => Literal::Int(n),
            // Too big for Int64: OData promotes such literals to Decimal/Double.
            Err(_) => Literal::Float(text.parse().map_err(|_| LexError::BadLiteral { pos: start })?),
        }
    };
    Ok((Token::Literal(literal), end))
}

/// RFC 3339 with either `T` or `t`; Graph also accepts a missing seconds field,
/// which `time` does not, so `10:00Z` is padded to `10:00:00Z`.
pub(crate) fn parse_instant(text: &str) -> Option<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(t);
    }
    let (date, rest) = text.split_once(['T', 't'])?;
    let zone_at = rest.find(['Z', 'z', '+', '-'])?;
    let (clock, zone) = rest.split_at(zone_at);
    if clock.len() == 5 {
        return OffsetDateTime::parse(&format!("{date}T{clock}:00{zone}"), &Rfc3339).ok();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use uuid::uuid;

    fn kinds(text: &str) -> Vec<Token> {
        tokenize(text).expect("valid").into_iter().map(|s| s.token).collect()
    }

    fn lit(l: Literal) -> Token {
        Token::Literal(l)
    }

    #[test]
    fn literals_are_recognised_by_shape() {
        let cases: Vec<(&str, Token)> = vec![
            ("'it''s'", lit(Literal::String("it's".into()))),
            ("''", lit(Literal::String(String::new()))),
            ("42", lit(Literal::Int(42))),
            ("-7", lit(Literal::Int(-7))),
            ("1.5", lit(Literal::Float(1.5))),
            ("2e3", lit(Literal::Float(2000.0))),
            ("5L", lit(Literal::Int(5))),
            ("99999999999999999999", lit(Literal::Float(1e20))),
            ("null", lit(Literal::Null)),
            ("true", lit(Literal::Bool(true))),
            ("false", lit(Literal::Bool(false))),
            ("True", Token::Ident("True".into())),
            ("3c9e8a71-2b4d-4f60-a8e5-7d1c0b9e2f34", lit(Literal::Guid(uuid!("3c9e8a71-2b4d-4f60-a8e5-7d1c0b9e2f34")))),
            ("ABCDEF01-2b4d-4f60-a8e5-7d1c0b9e2f34", lit(Literal::Guid(uuid!("abcdef01-2b4d-4f60-a8e5-7d1c0b9e2f34")))),
            ("2026-03-02T10:00:00Z", lit(Literal::DateTime(datetime!(2026-03-02 10:00:00 UTC)))),
            ("2026-03-02T10:00Z", lit(Literal::DateTime(datetime!(2026-03-02 10:00:00 UTC)))),
            ("2026-03-02T10:00:00.5+01:00", lit(Literal::DateTime(datetime!(2026-03-02 10:00:00.5 +01:00)))),
            ("assignedLicenses", Token::Ident("assignedLicenses".into())),
        ];
        for (text, want) in cases {
            assert_eq!(kinds(text), vec![want], "{text}");
        }
    }

    #[test]
    fn punctuation_and_positions_are_kept() {
        let tokens = tokenize("a/any(p: p eq 'x')").expect("valid");
        let pos: Vec<usize> = tokens.iter().map(|s| s.pos).collect();
        assert_eq!(pos, vec![0, 1, 2, 5, 6, 7, 9, 11, 14, 17]);
        assert_eq!(tokens[1].token, Token::Slash);
        assert_eq!(tokens[5].token, Token::Colon);
    }

    #[test]
    fn faults_are_reported_where_they_start() {
        let cases = [
            ("a eq \"x\"", LexError::BadChar { ch: '"', pos: 5 }),
            ("a eq 'abc", LexError::Unterminated { pos: 5 }),
            ("12abc", LexError::BadLiteral { pos: 0 }),
            ("2026-13-40T10:00:00Z", LexError::BadLiteral { pos: 0 }),
            ("é", LexError::BadChar { ch: 'é', pos: 0 }),
            ("x ; y", LexError::BadChar { ch: ';', pos: 2 }),
        ];
        for (text, want) in cases {
            assert_eq!(tokenize(text), Err(want), "{text}");
        }
    }
}
