//! The sign-in pages' renderer: a template file with `{{name}}` slots, filled
//! so that every inserted value is HTML-escaped unless it is an [`Html`]
//! fragment this module built itself. There is no way to insert raw text.

use std::fmt::Write as _;

/// Markup that is safe to insert as is: only this module makes one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Html(String);

impl Html {
    pub(crate) fn into_string(self) -> String {
        self.0
    }

    #[cfg(test)]
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// What fills a slot.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Slot<'a> {
    /// Escaped on insertion.
    Text(&'a str),
    /// Inserted as is: already-safe markup.
    Markup(&'a Html),
}

/// `&`, `<`, `>`, `"` and `'` as character references: safe in element
/// content and in quoted attribute values alike.
pub(crate) fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// Fill `template`'s `{{name}}` slots from `slots`. A slot the caller did not
/// fill renders empty (the page tests check every slot of every page).
pub(crate) fn render(template: &str, slots: &[(&str, Slot<'_>)]) -> Html {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let name = after[..end].trim();
        match slots.iter().find(|(n, _)| *n == name).map(|(_, s)| *s) {
            Some(Slot::Text(t)) => escape(t, &mut out),
            Some(Slot::Markup(h)) => out.push_str(&h.0),
            None => debug_assert!(false, "template slot '{name}' was not filled"),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Html(out)
}

/// `<input type="hidden">` for each pair, names and values escaped.
pub(crate) fn hidden_fields<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Html {
    let mut out = String::new();
    for (name, value) in pairs {
        out.push_str("<input type=\"hidden\" name=\"");
        escape(name, &mut out);
        out.push_str("\" value=\"");
        escape(value, &mut out);
        out.push_str("\">\n");
    }
    Html(out)
}

/// A `<ul>` of escaped items.
pub(crate) fn list<'a>(items: impl IntoIterator<Item = &'a str>) -> Html {
    let mut out = String::from("<ul>");
    for item in items {
        out.push_str("<li>");
        escape(item, &mut out);
        out.push_str("</li>");
    }
    out.push_str("</ul>");
    Html(out)
}

/// A paragraph of escaped text with a class, or nothing for no text.
pub(crate) fn paragraph(class: &str, text: Option<&str>) -> Html {
    let Some(text) = text else { return Html::default() };
    let mut out = String::new();
    let _ = write!(out, "<p class=\"");
    escape(class, &mut out);
    out.push_str("\" role=\"alert\">");
    escape(text, &mut out);
    out.push_str("</p>");
    Html(out)
}

/// A fixed piece of markup written in this crate's source.
pub(crate) fn trusted(markup: &'static str) -> Html {
    Html(markup.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_slots_are_escaped_and_markup_slots_are_not() {
        let frag = hidden_fields([("a\"b", "<script>alert('x')</script>&")]);
        let page = render("<p>{{t}}</p>{{m}}", &[("t", Slot::Text("<b>\"hi\"</b>")), ("m", Slot::Markup(&frag))]);
        assert_eq!(
            page.as_str(),
            "<p>&lt;b&gt;&quot;hi&quot;&lt;/b&gt;</p><input type=\"hidden\" name=\"a&quot;b\" \
             value=\"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;\">\n"
        );
    }

    #[test]
    fn an_unclosed_slot_is_left_as_text() {
        assert_eq!(render("a {{b", &[]).as_str(), "a {{b");
    }
}
