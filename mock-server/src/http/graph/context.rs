//! `@odata.context` URLs, spelled once per worker thread and then shared.
//!
//! A read by id spelled its context URL (`{graph_url}/$metadata#users/$entity`,
//! or `…#users(id,displayName,mail)/$entity` with `$select`) on every request, a
//! join and a format each time. The URL depends on nothing but its parts, so
//! each worker keeps the last few it spelled and hands out the same copy while
//! the parts match. The parts are compared against a kept URL piece by piece,
//! so a hit builds nothing. Being keyed by the whole text, the cache cannot show
//! one server's URL to another server in the same process.

use std::cell::RefCell;
use std::rc::Rc;

/// How many URLs a worker keeps: a client reading a few entity sets with a few
/// `$select` lists each finds its URLs here.
const KEPT: usize = 8;

/// The parts of one context URL: `{graph_url}/$metadata#{set}`, then the selected
/// names in parentheses, then `/$entity` for a single entity.
#[derive(Debug, Clone, Copy)]
pub(super) struct ContextUrl<'a> {
    pub(super) graph_url: &'a str,
    pub(super) set: &'a str,
    pub(super) selected: Option<&'a [&'a str]>,
    pub(super) entity: bool,
}

impl ContextUrl<'_> {
    fn suffix(&self) -> &'static str {
        if self.entity {
            "/$entity"
        } else {
            ""
        }
    }

    /// The URL, built afresh (for reads too rare to keep theirs: see
    /// [`ContextUrl::shared`]).
    pub(super) fn spell(&self) -> String {
        let (url, set, suffix) = (self.graph_url, self.set, self.suffix());
        match self.selected {
            Some(names) => format!("{url}/$metadata#{set}({}){suffix}", names.join(",")),
            None => format!("{url}/$metadata#{set}{suffix}"),
        }
    }

    /// Whether `spelled` is exactly what [`ContextUrl::spell`] gives.
    fn is(&self, spelled: &str) -> bool {
        let Some(mut rest) = spelled
            .strip_prefix(self.graph_url)
            .and_then(|r| r.strip_prefix("/$metadata#"))
            .and_then(|r| r.strip_prefix(self.set))
        else {
            return false;
        };
        if let Some(names) = self.selected {
            let mut separator = "(";
            for name in names {
                match rest.strip_prefix(separator).and_then(|r| r.strip_prefix(name)) {
                    Some(r) => rest = r,
                    None => return false,
                }
                separator = ",";
            }
            // An empty selection spells `()`.
            let close = if names.is_empty() { "()" } else { ")" };
            match rest.strip_prefix(close) {
                Some(r) => rest = r,
                None => return false,
            }
        }
        rest == self.suffix()
    }

    /// The URL, shared with the earlier requests on this worker that named the
    /// same parts.
    pub(super) fn shared(&self) -> Rc<str> {
        thread_local! {
            static SPELLED: RefCell<Spelled> = const { RefCell::new(Spelled { urls: [const { None }; KEPT], next: 0 }) };
        }
        SPELLED.with_borrow_mut(|spelled| {
            if let Some(url) = spelled.urls.iter().flatten().find(|url| self.is(url)) {
                return url.clone();
            }
            let url: Rc<str> = self.spell().into();
            let slot = spelled.next;
            spelled.urls[slot] = Some(url.clone());
            spelled.next = (slot + 1) % KEPT;
            url
        })
    }
}

/// The URLs one worker spelled last; the oldest makes way for a new one.
struct Spelled {
    urls: [Option<Rc<str>>; KEPT],
    next: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRAPH: &str = "http://127.0.0.1:1/v1.0";

    fn url<'a>(set: &'a str, selected: Option<&'a [&'a str]>, entity: bool) -> ContextUrl<'a> {
        ContextUrl { graph_url: GRAPH, set, selected, entity }
    }

    #[test]
    fn urls_are_spelled_as_graph_spells_them() {
        let cases = [
            (url("users", None, true), "http://127.0.0.1:1/v1.0/$metadata#users/$entity"),
            (url("users", None, false), "http://127.0.0.1:1/v1.0/$metadata#users"),
            (
                url("users", Some(&["id", "displayName", "mail"]), true),
                "http://127.0.0.1:1/v1.0/$metadata#users(id,displayName,mail)/$entity",
            ),
            (url("groups", Some(&["*"]), false), "http://127.0.0.1:1/v1.0/$metadata#groups(*)"),
        ];
        for (parts, want) in cases {
            assert_eq!(parts.spell(), want);
            assert_eq!(&*parts.shared(), want);
        }
    }

    #[test]
    fn a_url_matches_exactly_the_parts_that_spell_it() {
        let parts = [
            url("users", None, true),
            url("users", None, false),
            url("users", Some(&[]), true),
            url("users", Some(&["id"]), true),
            url("users", Some(&["id"]), false),
            url("users", Some(&["id", "mail"]), true),
            url("users", Some(&["idm", "ail"]), true),
            url("users", Some(&["mail", "id"]), true),
            url("user", Some(&["id"]), true),
            url("users(id)", None, true),
            url("groups", Some(&["id"]), true),
            ContextUrl { graph_url: "http://127.0.0.1:2/v1.0", ..url("users", None, true) },
        ];
        for a in &parts {
            for b in &parts {
                assert_eq!(a.is(&b.spell()), a.spell() == b.spell(), "{a:?} against {}", b.spell());
            }
        }
    }

    #[test]
    fn equal_parts_share_one_url_and_more_urls_than_kept_stay_correct() {
        let first = url("users", Some(&["id", "displayName"]), true).shared();
        let again = url("users", Some(&["id", "displayName"]), true).shared();
        assert!(Rc::ptr_eq(&first, &again), "the second request reuses the first one's URL");
        let sets: Vec<String> = (0..3 * KEPT).map(|i| format!("set{i}")).collect();
        for set in &sets {
            let shared = url(set, None, false).shared();
            assert_eq!(*shared, *url(set, None, false).spell());
        }
        let evicted = url("users", Some(&["id", "displayName"]), true).shared();
        assert_eq!(evicted, first, "a URL spelled again after eviction reads the same");
    }
}
