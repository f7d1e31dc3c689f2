//! Records written straight to JSON in the shape `Record::project` gives them,
//! without first building a `Map` of cloned keys and values: on GET by id and on
//! list pages that copy was the largest part of the mock's own time per
//! request. The bytes are the same as serializing the projected `Map` (a test
//! below holds the two side by side).

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::Value;

use crate::directory::implied;
use crate::directory::record::{Projection, Record};
use crate::directory::schema::EntitySchema;

/// One record's projection, annotations (`@odata.context`, …) first.
pub(super) struct Projected<'a> {
    pub(super) record: &'a Record,
    pub(super) schema: &'a EntitySchema,
    pub(super) fields: &'a Projection,
    pub(super) annotations: &'a [(&'a str, &'a str)],
}

impl Serialize for Projected<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.annotations.len() + self.fields.positions.len()))?;
        for (name, value) in self.annotations {
            map.serialize_entry(name, value)?;
        }
        for &pos in self.fields.positions.iter() {
            let def = &self.schema.props[pos];
            if implied::is_implied_id(self.record, pos) {
                // Most users' id is implied by their key: every read wrote it
                // through a fresh string. `Uuid` serializes as the same text.
                map.serialize_entry(def.name, &self.record.id)?;
                continue;
            }
            match self.record.value_at(pos) {
                Some(value) => map.serialize_entry(def.name, &*value)?,
                None if def.unset.is_some() => map.serialize_entry(def.name, &def.unset_value())?,
                None if def.ty.is_collection() => map.serialize_entry(def.name, &[] as &[Value])?,
                None => map.serialize_entry(def.name, &())?,
            }
        }
        map.end()
    }
}

/// A collection page: `@odata.context`, `@odata.count`, `@odata.nextLink`, then
/// `value`, in Graph's order.
pub(super) struct Page<'a> {
    pub(super) context: &'a str,
    pub(super) count: Option<usize>,
    pub(super) next_link: Option<&'a str>,
    pub(super) items: &'a [&'a Record],
    pub(super) schema: &'a EntitySchema,
    pub(super) fields: &'a Projection,
}

impl Serialize for Page<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("@odata.context", self.context)?;
        if let Some(n) = self.count {
            map.serialize_entry("@odata.count", &n)?;
        }
        if let Some(link) = self.next_link {
            map.serialize_entry("@odata.nextLink", link)?;
        }
        map.serialize_entry("value", &Items(self))?;
        map.end()
    }
}

struct Items<'p, 'a>(&'p Page<'a>);

impl Serialize for Items<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let page = self.0;
        s.collect_seq(page.items.iter().map(|record| Projected {
            record,
            schema: page.schema,
            fields: page.fields,
            annotations: &[],
        }))
    }
}

/// Serialize into a buffer sized for a typical body of `items` records.
pub(super) fn to_bytes(value: &impl Serialize, items: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + 384 * items);
    serde_json::to_writer(&mut out, value).expect("records serialize: their values are JSON already");
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use uuid::Uuid;

    use super::*;
    use crate::directory::users::USER;

    /// A user whose `id`, `userType` and `identities` are implied rather than
    /// stored, as most users' are: the direct path must show those too.
    fn user() -> Record {
        let mut r = Record::new(Uuid::from_u128(7));
        r.set(&USER, "displayName", json!("Ada \"Quoted\" Ünicode"));
        r.set(&USER, "userPrincipalName", json!("ada@contoso.example"));
        r.set(&USER, "businessPhones", json!(["+1 555 0100"]));
        r.set(&USER, "accountEnabled", json!(true));
        r.set(&USER, "userType", json!("Member"));
        r.set(&USER, "identities", crate::directory::implied::identities_for("ada@contoso.example"));
        crate::directory::implied::compact(&mut r);
        assert!(!r.implied().is_empty(), "the test user has implied values");
        r
    }

    #[test]
    fn a_projection_writes_the_same_bytes_as_the_projected_map() {
        let r = user();
        for fields in [Projection::default_set(&USER), Projection::all(&USER)] {
            let annotations = [("@odata.context", "https://graph.example/v1.0/$metadata#users/$entity")];
            let owned: Vec<(&str, String)> = annotations.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
            let expected = serde_json::to_vec(&r.project_annotated(&USER, &fields, &owned)).unwrap();
            let direct =
                to_bytes(&Projected { record: &r, schema: &USER, fields: &fields, annotations: &annotations }, 1);
            assert_eq!(String::from_utf8(direct).unwrap(), String::from_utf8(expected).unwrap());
        }
    }

    #[test]
    fn a_page_writes_annotations_in_graphs_order_then_the_items() {
        let (a, b) = (user(), Record::new(Uuid::from_u128(8)));
        let fields = Projection::default_set(&USER);
        let page = Page {
            context: "ctx",
            count: Some(2),
            next_link: Some("next"),
            items: &[&a, &b],
            schema: &USER,
            fields: &fields,
        };
        let expected = json!({
            "@odata.context": "ctx", "@odata.count": 2, "@odata.nextLink": "next",
            "value": [Value::Object(a.project(&USER, &fields)), Value::Object(b.project(&USER, &fields))],
        });
        assert_eq!(to_bytes(&page, 2), serde_json::to_vec(&expected).unwrap());
        let bare = Page { count: None, next_link: None, items: &[], ..page };
        assert_eq!(to_bytes(&bare, 0), br#"{"@odata.context":"ctx","value":[]}"#);
    }
}
