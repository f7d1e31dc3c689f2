//! Turning a QuickJS exception into a [`ScriptError`] a person can act on: the location in the
//! user's script (not the prelude's or the wrapper's) and a hint for the usual mistakes.

use super::{names, ScriptError, ScriptErrorKind, PRELUDE_LINE};

/// Typographic characters that word processors put in place of ASCII quotes.
const TYPOGRAPHIC: &[(char, &str)] =
    &[('“', "\""), ('”', "\""), ('„', "\""), ('″', "\""), ('‘', "'"), ('’', "'"), ('′', "'"), ('«', "\""), ('»', "\"")];

/// 1-based (line, column) of the first typographic quote.
fn first_typographic(text: &str) -> Option<(u32, u32, char, &'static str)> {
    for (l, line) in text.lines().enumerate() {
        for (c, ch) in line.chars().enumerate() {
            if let Some((_, ascii)) = TYPOGRAPHIC.iter().find(|(t, _)| *t == ch) {
                return Some((l as u32 + 1, c as u32 + 1, ch, ascii));
            }
        }
    }
    None
}

/// 1-based (line, column) of the last `{` left open, ignoring braces in strings and comments
/// only roughly (good enough for a hint).
fn unclosed_brace(text: &str) -> Option<(u32, u32)> {
    let mut open = Vec::new();
    let mut quote: Option<char> = None;
    for (l, line) in text.lines().enumerate() {
        let mut prev = ' ';
        for (c, ch) in line.chars().enumerate() {
            match quote {
                Some(q) if ch == q && prev != '\\' => quote = None,
                Some(_) => {}
                None if ch == '"' || ch == '\'' || ch == '`' => quote = Some(ch),
                None if ch == '/' && prev == '/' => break,
                None if ch == '{' => open.push((l as u32 + 1, c as u32 + 1)),
                None if ch == '}' => {
                    open.pop();
                }
                None => {}
            }
            prev = ch;
        }
    }
    open.pop()
}

/// The user-script location of the innermost frame in the script (not in the prelude), from a
/// QuickJS stack (`    at f (eval_script:3:17)`). The script's line 1 is the wrapper's line 2.
fn script_location(stack: &str) -> Option<(u32, u32)> {
    stack.lines().find_map(|frame| {
        let at = frame.rfind("eval_script:")?;
        let rest = frame[at + "eval_script:".len()..].trim_end_matches(')');
        let mut parts = rest.split(':');
        let line: u32 = parts.next()?.parse().ok()?;
        let column: u32 = parts.next()?.parse().ok()?;
        (line < PRELUDE_LINE).then(|| (line.saturating_sub(1).max(1), column))
    })
}

pub(super) fn describe(ctx: &rquickjs::Ctx<'_>, error: rquickjs::Error, text: &str, running: bool) -> ScriptError {
    if !matches!(error, rquickjs::Error::Exception) {
        return ScriptError::engine(error);
    }
    let caught = ctx.catch();
    let (name, message, stack) = match caught.as_object() {
        Some(o) => (
            o.get::<_, Option<String>>("name").ok().flatten().unwrap_or_default(),
            o.get::<_, Option<String>>("message").ok().flatten().unwrap_or_default(),
            o.get::<_, Option<String>>("stack").ok().flatten().unwrap_or_default(),
        ),
        None => (String::new(), format!("{caught:?}"), String::new()),
    };
    let full = if name.is_empty() { message.clone() } else { format!("{name}: {message}") };
    let lines = text.lines().count().max(1) as u32;
    let mut location = script_location(&stack).map(|(l, c)| (l.min(lines), c));
    let mut hint = None;
    let kind = if message.contains("out of memory") {
        hint =
            Some("the script allocated past the memory limit; look for a collection that grows without bound".into());
        ScriptErrorKind::OutOfMemory
    } else if name == "SyntaxError" && !running {
        if let Some((l, c, ch, ascii)) = first_typographic(text) {
            location = Some((l, c));
            hint = Some(format!("replace {ch} with {ascii}: word processors turn ASCII quotes into typographic ones"));
        } else if let Some((l, c)) = unclosed_brace(text) {
            // The wrapper's own closing brace then closes the script's block, so QuickJS
            // complains about the wrapper's ')' instead; name the real cause.
            let hint = Some(format!("the '{{' on line {l}, column {c} is never closed; add a '}}'"));
            return ScriptError {
                kind: ScriptErrorKind::Syntax,
                message: "SyntaxError: missing '}'".into(),
                line: Some(l),
                column: Some(c),
                hint,
            };
        }
        ScriptErrorKind::Syntax
    } else {
        if message.contains("has no property") {
            hint = Some(format!("known names: {}", names().1.join(", ")));
        } else if message.contains("cannot read property") || message.contains("cannot set property") {
            hint = Some(
                "a value is null or undefined here; unset source attributes read as null, so check before using them"
                    .into(),
            );
        } else if name == "ReferenceError" {
            hint = Some("scripts see source, destination, isPerson(), isGroup(), trace() and reject()".into());
        }
        ScriptErrorKind::Runtime
    };
    let (line, column) = location.map_or((None, None), |(l, c)| (Some(l), Some(c)));
    ScriptError { kind, message: full, line, column, hint }
}
