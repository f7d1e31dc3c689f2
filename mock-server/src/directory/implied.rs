//! User properties a record leaves implied instead of storing.
//!
//! Every user Graph creates carries values that follow from the rest of it: the
//! wire `id` (the record's key as text), `userType` `"Member"`, one `identities`
//! entry naming the UPN, and a `lastPasswordChangeDateTime` equal to
//! `createdDateTime`. Stored as JSON they cost ~700 bytes a user (the identity is
//! an array holding an ordered map of three strings), most of a seeded user.
//!
//! The rule that keeps this invisible on the wire: a value is implied only while
//! it *equals* what it would be derived as (`compact`, run whenever a user is
//! stored), and any write to a record materializes every implied value first
//! (`Record::set_at`), so a write that changes a source (a UPN changed by a sync
//! cycle) leaves the old derived value stored, exactly as when it was stored from
//! the start. Readers that show or match a record (projection, `$filter`,
//! `$orderby`, state files) see implied values through `Record::value_at`;
//! `Record::get` sees stored values only, and no code asks it for these four.

use serde_json::{Map, Value};

use super::record::Record;
use super::schema::PropertyDef;
use super::users::USER_PROPS;

/// Which of the four values a record implies (a bit set; empty for every
/// record that is not a user).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Implied(u8);

const ID: u8 = 1;
const USER_TYPE: u8 = 2;
const IDENTITIES: u8 = 4;
const PASSWORD_CHANGED_AT_CREATION: u8 = 8;

const fn position(props: &[PropertyDef], name: &str) -> usize {
    let mut i = 0;
    while i < props.len() {
        let (a, b) = (props[i].name.as_bytes(), name.as_bytes());
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("a property the user schema has")
}

// Resolved at compile time, so a renamed property fails the build.
const ID_POS: usize = position(USER_PROPS, "id");
const USER_TYPE_POS: usize = position(USER_PROPS, "userType");
const IDENTITIES_POS: usize = position(USER_PROPS, "identities");
const LAST_PASSWORD_POS: usize = position(USER_PROPS, "lastPasswordChangeDateTime");
const UPN_POS: usize = position(USER_PROPS, "userPrincipalName");
const CREATED_POS: usize = position(USER_PROPS, "createdDateTime");

/// `(bit, position)` for each implied property, in position order.
const RULES: [(u8, usize); 4] = sorted_rules();

const fn sorted_rules() -> [(u8, usize); 4] {
    let mut rules = [
        (ID, ID_POS),
        (USER_TYPE, USER_TYPE_POS),
        (IDENTITIES, IDENTITIES_POS),
        (PASSWORD_CHANGED_AT_CREATION, LAST_PASSWORD_POS),
    ];
    let mut i = 1;
    while i < rules.len() {
        let mut j = i;
        while j > 0 && rules[j - 1].1 > rules[j].1 {
            let t = rules[j - 1];
            rules[j - 1] = rules[j];
            rules[j] = t;
            j -= 1;
        }
        i += 1;
    }
    rules
}

impl Implied {
    pub(crate) const NONE: Implied = Implied(0);

    /// What `POST /users` implies for a user it creates with a password and
    /// without a `userType`: all four.
    pub(crate) const NEW_MEMBER: Implied = Implied(ID | USER_TYPE | IDENTITIES | PASSWORD_CHANGED_AT_CREATION);

    /// What `POST /users` implies when the body names a `userType`.
    pub(crate) const NEW_USER_WITH_TYPE: Implied = Implied(ID | IDENTITIES | PASSWORD_CHANGED_AT_CREATION);

    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }

    fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }

    /// The positions this set implies, ascending.
    pub(crate) fn positions(self) -> impl Iterator<Item = usize> {
        RULES.into_iter().filter(move |(bit, _)| self.has(*bit)).map(|(_, pos)| pos)
    }
}

/// The value `record` implies at `pos`, if it implies one there.
pub(crate) fn value(record: &Record, pos: usize) -> Option<Value> {
    let implied = record.implied();
    let bit = RULES.iter().find(|(_, p)| *p == pos)?.0;
    if !implied.has(bit) {
        return None;
    }
    match bit {
        ID => Some(Value::String(record.id.to_string())),
        USER_TYPE => Some(Value::String("Member".to_owned())),
        IDENTITIES => {
            let upn = record.get_at(UPN_POS)?.as_str()?;
            Some(identities_for(upn))
        }
        _ => record.get_at(CREATED_POS).cloned(),
    }
}

/// Whether the value at `pos` is `record`'s implied id: a writer can take it from
/// `record.id` without building the text [`value`] builds.
pub(crate) fn is_implied_id(record: &Record, pos: usize) -> bool {
    pos == ID_POS && record.implied().has(ID) && record.get_at(pos).is_none()
}

/// The identity `POST /users` gives a user: its UPN, issued by the UPN's domain.
pub(crate) fn identities_for(upn: &str) -> Value {
    let issuer = upn.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    let mut identity = Map::with_capacity(3);
    identity.insert("signInType".to_owned(), Value::String("userPrincipalName".to_owned()));
    identity.insert("issuer".to_owned(), Value::String(issuer.to_owned()));
    identity.insert("issuerAssignedId".to_owned(), Value::String(upn.to_owned()));
    Value::Array(vec![Value::Object(identity)])
}

/// Whether `stored` is exactly [`identities_for`]`(upn)`, member order included
/// (the wire shows stored maps in their order, so an identity whose members were
/// written in another order must stay stored).
fn is_upn_identity(stored: &Value, upn: &str) -> bool {
    let Some([Value::Object(identity)]) = stored.as_array().map(Vec::as_slice) else { return false };
    let issuer = upn.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    let expected = [("signInType", "userPrincipalName"), ("issuer", issuer), ("issuerAssignedId", upn)];
    identity.len() == expected.len()
        && identity.iter().zip(expected).all(|((k, v), (ek, ev))| k == ek && v.as_str() == Some(ev))
}

/// Stop storing the values of a user record that equal what they would be
/// derived as. Wire-invisible by construction: each value dropped is the value
/// [`value`] gives back.
pub(crate) fn compact(record: &mut Record) {
    let (bits, drop) = derivable(record);
    if bits != record.implied().0 {
        let positions: Vec<usize> = RULES.iter().zip(drop).filter(|(_, d)| *d).map(|((_, pos), _)| *pos).collect();
        record.imply(Implied(bits), &positions);
    }
}

/// Whether [`compact`] would leave `record` as it is.
pub(crate) fn is_compact(record: &Record) -> bool {
    derivable(record).0 == record.implied().0
}

/// The implied set `record` would have once compacted, and which of
/// [`RULES`] drop a stored value to get there.
fn derivable(record: &Record) -> (u8, [bool; RULES.len()]) {
    let mut bits = record.implied().0;
    let mut drop = [false; RULES.len()];
    for (i, (bit, pos)) in RULES.iter().enumerate() {
        let Some(stored) = record.get_at(*pos) else { continue };
        let derivable = match *bit {
            ID => {
                let mut buf = uuid::Uuid::encode_buffer();
                stored.as_str() == Some(record.id.hyphenated().encode_lower(&mut buf))
            }
            USER_TYPE => stored.as_str() == Some("Member"),
            IDENTITIES => {
                record.get_at(UPN_POS).and_then(Value::as_str).is_some_and(|upn| is_upn_identity(stored, upn))
            }
            _ => record.get_at(CREATED_POS).is_some_and(|created| created == stored),
        };
        if derivable {
            drop[i] = true;
            bits |= bit;
        }
    }
    (bits, drop)
}

/// [`stored_user`] over JSON text.
#[cfg(test)]
pub(crate) fn parse_stored_user(text: &str) -> Result<Record, serde_json::Error> {
    let mut d = serde_json::Deserializer::from_str(text);
    let record = stored_user(&mut d)?;
    d.end()?;
    Ok(record)
}

/// A user record as state files and the journal hold it (every value, see
/// `Record`'s `Serialize`), parsed with [`compact`] already done: a value is
/// left out by comparing its JSON text with the text it would be derived as,
/// so the values a user's record mostly consists of in that form (the
/// identity especially: an array holding a map of three strings) are never
/// built only to be dropped. What the text cannot decide (escapes, another
/// spelling of an equal value) is parsed and left to `compact`, so the result
/// is always what parsing the record and compacting it gives.
///
/// From any deserializer that lends its text: replay reads a user this way
/// in the pass that reads its record.
pub(crate) fn stored_user<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Record, D::Error> {
    use serde::de::Error;
    #[derive(serde::Deserialize)]
    struct Stored<'a> {
        id: uuid::Uuid,
        #[serde(borrow)]
        props: Vec<StoredProp<'a>>,
    }
    let stored: Stored<'de> = serde::Deserialize::deserialize(d)?;
    let text_at = |pos: usize| {
        stored.props.iter().find_map(|p| match *p {
            StoredProp::Text(p, text) if usize::from(p) == pos => Some(text.get()),
            _ => None,
        })
    };
    let (upn, created) = (text_at(UPN_POS), text_at(CREATED_POS));
    let mut id_text = [0u8; 38];
    id_text[0] = b'"';
    stored.id.hyphenated().encode_lower(&mut id_text[1..37]);
    id_text[37] = b'"';
    let mut bits = 0;
    let mut props = Vec::with_capacity(stored.props.len());
    for prop in stored.props {
        let (pos, text) = match prop {
            StoredProp::Parsed(pos, value) => {
                props.push((pos, value));
                continue;
            }
            StoredProp::Text(pos, text) => (pos, text.get()),
        };
        let implied = match usize::from(pos) {
            ID_POS if text.as_bytes() == id_text => ID,
            USER_TYPE_POS if text == "\"Member\"" => USER_TYPE,
            IDENTITIES_POS if upn.is_some_and(|upn| is_upn_identity_text(text, upn)) => IDENTITIES,
            LAST_PASSWORD_POS if created == Some(text) => PASSWORD_CHANGED_AT_CREATION,
            _ => 0,
        };
        if implied == 0 {
            props.push((pos, serde_json::from_str(text).map_err(D::Error::custom)?));
        }
        bits |= implied;
    }
    let mut record = Record::stored(stored.id, props, Implied(bits));
    compact(&mut record);
    Ok(record)
}

/// One `[position, value]` of a stored record, read in one pass: the values
/// [`parse_stored_user`] compares as text (those that may be implied, and the
/// two they are derived from) kept as text, every other one parsed.
enum StoredProp<'a> {
    Text(u16, &'a serde_json::value::RawValue),
    Parsed(u16, Value),
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for StoredProp<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = StoredProp<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a [position, value] pair")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                use serde::de::Error;
                let pos: u16 = seq.next_element()?.ok_or_else(|| A::Error::invalid_length(0, &self))?;
                let as_text = RULES.iter().any(|(_, p)| usize::from(pos) == *p)
                    || usize::from(pos) == UPN_POS
                    || usize::from(pos) == CREATED_POS;
                let prop = if as_text {
                    StoredProp::Text(pos, seq.next_element()?.ok_or_else(|| A::Error::invalid_length(1, &self))?)
                } else {
                    StoredProp::Parsed(pos, seq.next_element()?.ok_or_else(|| A::Error::invalid_length(1, &self))?)
                };
                if seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    return Err(A::Error::invalid_length(3, &self));
                }
                Ok(prop)
            }
        }
        d.deserialize_tuple(2, Visit(std::marker::PhantomData))
    }
}

/// Whether `text` is the JSON the journal writes for [`identities_for`]`(upn)`,
/// `upn` given as its JSON text. Only for a UPN written without escapes, whose
/// characters then stand for themselves in the issuer too.
fn is_upn_identity_text(text: &str, upn: &str) -> bool {
    let Some(inner) = upn.strip_prefix('"').and_then(|u| u.strip_suffix('"')) else { return false };
    if inner.contains('\\') {
        return false;
    }
    let issuer = inner.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    text.strip_prefix(r#"[{"signInType":"userPrincipalName","issuer":""#)
        .and_then(|rest| rest.strip_prefix(issuer))
        .and_then(|rest| rest.strip_prefix(r#"","issuerAssignedId":"#))
        .and_then(|rest| rest.strip_prefix(upn))
        == Some("}]")
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use uuid::Uuid;

    use super::*;
    use crate::directory::users::USER;

    /// A user as builds that stored every value kept it (and as state files hold it).
    fn stored_in_full(upn: &str) -> Record {
        let mut r = Record::new(Uuid::from_u128(7));
        r.set(&USER, "userPrincipalName", json!(upn));
        r.set(&USER, "createdDateTime", json!("2026-01-01T00:00:00Z"));
        r.set(&USER, "lastPasswordChangeDateTime", json!("2026-01-01T00:00:00Z"));
        r.set(&USER, "userType", json!("Member"));
        r.set(&USER, "identities", identities_for(upn));
        r
    }

    #[test]
    fn a_user_stored_in_full_compacts_and_shows_and_saves_the_same() {
        let full = stored_in_full("a@t.example");
        let mut compacted = full.clone();
        compact(&mut compacted);
        assert_eq!(compacted.implied(), Implied::NEW_MEMBER);
        for (_, pos) in RULES {
            assert_eq!(compacted.get_at(pos), None, "{} is not stored", USER.props[pos].name);
        }
        for pos in 0..USER.props.len() {
            assert_eq!(compacted.value_at(pos), full.value_at(pos), "{}", USER.props[pos].name);
        }
        assert_eq!(serde_json::to_value(&compacted).ok(), serde_json::to_value(&full).ok());
    }

    #[test]
    fn values_that_differ_from_their_derivation_stay_stored() {
        let mut r = stored_in_full("a@t.example");
        r.set(&USER, "userType", json!("Guest"));
        r.set(&USER, "lastPasswordChangeDateTime", json!("2026-02-01T00:00:00Z"));
        // The UPN's identity with its members in another order.
        let reordered =
            json!([{"issuer": "t.example", "signInType": "userPrincipalName", "issuerAssignedId": "a@t.example"}]);
        r.set(&USER, "identities", reordered.clone());
        compact(&mut r);
        assert_eq!(r.implied(), Implied(ID));
        assert_eq!(r.get_at(IDENTITIES_POS), Some(&reordered));
    }

    /// The parser replay uses leaves out exactly what parsing a record and
    /// compacting it would, whether the text decides it or not.
    #[test]
    fn a_stored_user_parses_to_what_deserializing_and_compacting_gives() {
        let mut cases =
            vec![stored_in_full("a@t.example"), stored_in_full("é@t.example"), stored_in_full("no-at-sign")];
        // Escaped in JSON: the text comparison steps aside.
        cases.push(stored_in_full("a\"b@t.example"));
        let mut guest = stored_in_full("g@t.example");
        guest.set(&USER, "userType", json!("Guest"));
        guest.set(&USER, "lastPasswordChangeDateTime", json!("2026-02-01T00:00:00Z"));
        cases.push(guest);
        let mut reordered = stored_in_full("r@t.example");
        reordered.set(
            &USER,
            "identities",
            json!([{"issuer": "t.example", "signInType": "userPrincipalName", "issuerAssignedId": "r@t.example"}]),
        );
        cases.push(reordered);
        let mut other_upn = stored_in_full("o@t.example");
        other_upn.set(&USER, "identities", identities_for("p@t.example"));
        other_upn.set(&USER, "id", json!("not-the-key"));
        cases.push(other_upn);
        let mut no_upn = stored_in_full("u@t.example");
        no_upn.set(&USER, "userPrincipalName", Value::Null);
        cases.push(no_upn);
        for record in cases {
            for text in
                [serde_json::to_string(&record).expect("json"), serde_json::to_string_pretty(&record).expect("json")]
            {
                let mut expected: Record = serde_json::from_str(&text).expect("a record");
                compact(&mut expected);
                let parsed = parse_stored_user(&text).expect("a record");
                assert_eq!(parsed, expected, "{text}");
                assert_eq!(parsed.implied(), expected.implied(), "{text}");
            }
        }
    }

    #[test]
    fn a_write_keeps_what_implied_values_showed_before_it() {
        let mut r = stored_in_full("a@t.example");
        compact(&mut r);
        r.set(&USER, "userPrincipalName", json!("b@t.example"));
        assert!(r.implied().is_empty(), "materialized by the write");
        assert_eq!(r.get_at(IDENTITIES_POS), Some(&identities_for("a@t.example")));
        compact(&mut r);
        assert_eq!(
            r.implied(),
            Implied(ID | USER_TYPE | PASSWORD_CHANGED_AT_CREATION),
            "the old identity stays stored"
        );
    }
}
