//! The dashboard's markup, escaped by construction (as `identity/html.rs` does
//! for the sign-in pages): text goes in through [`Html::text`], which escapes
//! it; markup only as `&'static str` from this crate's source or as an [`Html`]
//! built here. Templates are files with `{{name}}` slots.

/// Markup that is safe to send as is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Html(String);

impl Html {
    pub(crate) fn new() -> Html {
        Html::default()
    }

    /// Fixed markup from this crate's source.
    pub(crate) fn raw(&mut self, markup: &'static str) -> &mut Html {
        self.0.push_str(markup);
        self
    }

    /// Text, escaped: safe in element content and quoted attribute values.
    pub(crate) fn text(&mut self, text: &str) -> &mut Html {
        for c in text.chars() {
            match c {
                '&' => self.0.push_str("&amp;"),
                '<' => self.0.push_str("&lt;"),
                '>' => self.0.push_str("&gt;"),
                '"' => self.0.push_str("&quot;"),
                '\'' => self.0.push_str("&#39;"),
                c => self.0.push(c),
            }
        }
        self
    }

    pub(crate) fn html(&mut self, other: &Html) -> &mut Html {
        self.0.push_str(&other.0);
        self
    }

    /// `<a href="…">text</a>`, both escaped.
    pub(crate) fn link(&mut self, href: &str, text: &str) -> &mut Html {
        self.raw("<a href=\"").text(href).raw("\">").text(text).raw("</a>")
    }

    /// A table row of escaped cells.
    pub(crate) fn row<'a>(&mut self, cells: impl IntoIterator<Item = &'a str>) -> &mut Html {
        self.raw("<tr>");
        for c in cells {
            self.raw("<td>").text(c).raw("</td>");
        }
        self.raw("</tr>")
    }

    pub(crate) fn into_string(self) -> String {
        self.0
    }

    #[cfg(test)]
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// What fills a template slot.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Slot<'a> {
    /// Escaped on insertion.
    Text(&'a str),
    /// Inserted as is.
    Markup(&'a Html),
}

/// Fill `template`'s `{{name}}` slots. A slot left unfilled renders empty
/// (and is a bug the page tests catch in debug builds).
pub(crate) fn render(template: &'static str, slots: &[(&str, Slot<'_>)]) -> Html {
    let mut out = Html(String::with_capacity(template.len() + 1024));
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.0.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.0.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let name = after[..end].trim();
        match slots.iter().find(|(n, _)| *n == name).map(|(_, s)| *s) {
            Some(Slot::Text(t)) => {
                out.text(t);
            }
            Some(Slot::Markup(h)) => {
                out.html(h);
            }
            None => debug_assert!(false, "template slot '{name}' was not filled"),
        }
        rest = &after[end + 2..];
    }
    out.0.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_wherever_it_goes() {
        let mut cell = Html::new();
        cell.row(["<img src=x onerror=alert(1)>"]).link("/a?b=\"c\"", "'d'");
        let page = render("<p>{{t}}</p>{{m}}", &[("t", Slot::Text("<b>&")), ("m", Slot::Markup(&cell))]);
        assert_eq!(
            page.as_str(),
            "<p>&lt;b&gt;&amp;</p><tr><td>&lt;img src=x onerror=alert(1)&gt;</td></tr>\
             <a href=\"/a?b=&quot;c&quot;\">&#39;d&#39;</a>"
        );
    }
}
