//! Every page the server writes (the sign-in pages under `identity/`, the
//! dashboard under `control/ui/`) is built here, escaped by construction:
//! text goes in only through [`Html::text`] or a [`Slot::Text`], which escape
//! it; markup only as `&'static str` from this crate's source or as an
//! [`Html`] built here. Templates are files with `{{name}}` slots. There is no
//! way to insert raw text from a request or the directory.

/// Markup that is safe to send as is: only this module makes one.
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

    /// Text, escaped: `&`, `<`, `>`, `"` and `'` as character references, safe
    /// in element content and in quoted attribute values alike.
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
    /// Inserted as is: already-safe markup.
    Markup(&'a Html),
}

/// Fill `template`'s `{{name}}` slots from `slots`. A slot the caller did not
/// fill renders empty (and is a bug the page tests catch in debug builds).
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

/// `<input type="hidden">` for each pair, names and values escaped.
pub(crate) fn hidden_fields<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Html {
    let mut out = Html::new();
    for (name, value) in pairs {
        out.raw("<input type=\"hidden\" name=\"").text(name).raw("\" value=\"").text(value).raw("\">\n");
    }
    out
}

/// A `<ul>` of escaped items.
pub(crate) fn list<'a>(items: impl IntoIterator<Item = &'a str>) -> Html {
    let mut out = Html::new();
    out.raw("<ul>");
    for item in items {
        out.raw("<li>").text(item).raw("</li>");
    }
    out.raw("</ul>");
    out
}

/// A paragraph of escaped text with a class, or nothing for no text.
pub(crate) fn paragraph(class: &str, text: Option<&str>) -> Html {
    let Some(text) = text else { return Html::default() };
    let mut out = Html::new();
    out.raw("<p class=\"").text(class).raw("\" role=\"alert\">").text(text).raw("</p>");
    out
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

    #[test]
    fn lists_and_paragraphs_escape_their_text() {
        assert_eq!(list(["<a>", "b&"]).as_str(), "<ul><li>&lt;a&gt;</li><li>b&amp;</li></ul>");
        assert_eq!(paragraph("e\"", Some("<x>")).as_str(), "<p class=\"e&quot;\" role=\"alert\">&lt;x&gt;</p>");
        assert_eq!(paragraph("error", None).as_str(), "");
    }

    #[test]
    fn an_unclosed_slot_is_left_as_text() {
        assert_eq!(render("a {{b", &[]).as_str(), "a {{b");
    }
}
