//! Refresh tokens the tenant has issued, as plain data: who, for which client
//! and resource, which scopes, until when. The identity layer decides what a
//! token grants; the directory only keeps the records and keeps them bounded.
//!
//! Bounded two ways, both on insert so no reader ever changes state:
//! - per user and client, at most [`GRANTS_PER_USER_CLIENT`]; the oldest is
//!   evicted (each sign-in issues one, and a test loop can sign in forever);
//! - expired grants are swept when the map has doubled since the last sweep,
//!   so the sweep's cost is amortised over the inserts that made it necessary.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// Entra's default refresh-token lifetime: usable for 90 days of inactivity
/// (each redemption issues a new token with a fresh window).
pub(crate) const REFRESH_LIFETIME: time::Duration = time::Duration::days(90);

/// How many live refresh tokens one user keeps for one client. Entra documents
/// no such cap; this is a guess large enough for any real client (which keeps
/// one token per account) and small enough that a loop of sign-ins stays cheap.
pub(crate) const GRANTS_PER_USER_CLIENT: usize = 32;

/// The map size below which no sweep for expired grants runs.
const MIN_SWEEP_AT: usize = 1024;

/// A refresh token as stored: only the hash of its text is kept (as the key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RefreshGrant {
    pub user: Uuid,
    pub client: Uuid,
    pub resource: String,
    pub scopes: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub expires: OffsetDateTime,
}

/// The tenant's refresh tokens by the hash of their text. Saved as that map
/// alone (the state format predates the bounds); the per-user index is rebuilt
/// on load.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(from = "HashMap<String, RefreshGrant>")]
pub(crate) struct RefreshTokens {
    grants: HashMap<String, RefreshGrant>,
    /// Keys per (user, client), oldest first.
    issued: HashMap<(Uuid, Uuid), VecDeque<String>>,
    /// Sweep for expired grants when the map reaches this size.
    sweep_at: usize,
    /// Which contents these are: a value no other contents ever had (0: empty
    /// since created), so the journal sees a change by comparing two numbers
    /// instead of writing the map out on every directory write. Copies (forks,
    /// snapshots) carry it along with the contents it names.
    generation: u64,
}

/// A number never handed out before in this process.
fn next_generation() -> u64 {
    static LAST: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    LAST.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1
}

impl Serialize for RefreshTokens {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.grants.serialize(s)
    }
}

impl From<HashMap<String, RefreshGrant>> for RefreshTokens {
    fn from(grants: HashMap<String, RefreshGrant>) -> Self {
        let mut by_pair: HashMap<(Uuid, Uuid), Vec<(OffsetDateTime, String)>> = HashMap::new();
        for (key, g) in &grants {
            by_pair.entry((g.user, g.client)).or_default().push((g.expires, key.clone()));
        }
        // Every grant lives the same time, so expiry order is issue order.
        let issued = by_pair
            .into_iter()
            .map(|(pair, mut keys)| {
                keys.sort();
                (pair, keys.into_iter().map(|(_, k)| k).collect())
            })
            .collect();
        let sweep_at = (grants.len() * 2).max(MIN_SWEEP_AT);
        RefreshTokens { grants, issued, sweep_at, generation: next_generation() }
    }
}

impl RefreshTokens {
    /// Equal only when the contents are (see `generation`).
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    pub(crate) fn get(&self, key: &str) -> Option<&RefreshGrant> {
        self.grants.get(key)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.grants.len()
    }

    /// Store a new grant, dropping what has expired by `now` among this user's
    /// grants for the client, the oldest beyond the cap, and — when the map
    /// has doubled since the last sweep — every expired grant.
    pub(crate) fn insert(&mut self, key: String, grant: RefreshGrant, now: OffsetDateTime) {
        self.generation = next_generation();
        let pair = (grant.user, grant.client);
        let keys = self.issued.entry(pair).or_default();
        while let Some(front) = keys.front() {
            let expired = self.grants.get(front).is_none_or(|g| g.expires <= now);
            if !expired && keys.len() < GRANTS_PER_USER_CLIENT {
                break;
            }
            if let Some(old) = keys.pop_front() {
                self.grants.remove(&old);
            }
        }
        keys.push_back(key.clone());
        self.grants.insert(key, grant);
        if self.grants.len() >= self.sweep_at.max(MIN_SWEEP_AT) {
            self.sweep(now);
        }
    }

    /// Drop every expired grant; the next sweep waits until the map doubles.
    fn sweep(&mut self, now: OffsetDateTime) {
        self.grants.retain(|_, g| g.expires > now);
        let grants = &self.grants;
        self.issued.retain(|_, keys| {
            keys.retain(|k| grants.contains_key(k));
            !keys.is_empty()
        });
        self.sweep_at = (self.grants.len() * 2).max(MIN_SWEEP_AT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-03-02 10:00:00 UTC);

    fn grant(user: u128, client: u128, issued: OffsetDateTime) -> RefreshGrant {
        RefreshGrant {
            user: Uuid::from_u128(user),
            client: Uuid::from_u128(client),
            resource: "https://graph.microsoft.com".into(),
            scopes: vec!["User.Read".into()],
            expires: issued + REFRESH_LIFETIME,
        }
    }

    #[test]
    fn an_expired_grant_of_the_same_user_and_client_is_dropped_on_the_next_insert() {
        let mut tokens = RefreshTokens::default();
        tokens.insert("old".into(), grant(1, 2, T0), T0);
        let later = T0 + REFRESH_LIFETIME + time::Duration::seconds(1);
        tokens.insert("new".into(), grant(1, 2, later), later);
        assert!(tokens.get("old").is_none());
        assert!(tokens.get("new").is_some());
        assert_eq!(tokens.len(), 1);
    }

    #[test]
    fn a_live_grant_survives_inserts_for_other_users() {
        let mut tokens = RefreshTokens::default();
        tokens.insert("mine".into(), grant(1, 2, T0), T0);
        tokens.insert("theirs".into(), grant(3, 2, T0), T0);
        assert!(tokens.get("mine").is_some());
    }

    #[test]
    fn many_sign_ins_of_one_user_keep_only_the_newest_grants() {
        let mut tokens = RefreshTokens::default();
        for i in 0..10_000u32 {
            let now = T0 + time::Duration::seconds(i64::from(i));
            tokens.insert(format!("k{i}"), grant(1, 2, now), now);
        }
        assert_eq!(tokens.len(), GRANTS_PER_USER_CLIENT);
        assert!(tokens.get("k9999").is_some());
        assert!(tokens.get(&format!("k{}", 9999 - GRANTS_PER_USER_CLIENT)).is_none());
    }

    #[test]
    fn expired_grants_of_users_who_never_sign_in_again_are_swept() {
        let mut tokens = RefreshTokens::default();
        for user in 0..MIN_SWEEP_AT as u128 {
            tokens.insert(format!("early{user}"), grant(user, 2, T0), T0);
        }
        let later = T0 + REFRESH_LIFETIME + time::Duration::days(1);
        for user in 0..MIN_SWEEP_AT as u128 {
            tokens.insert(format!("late{user}"), grant(10_000 + user, 2, later), later);
        }
        assert!(tokens.len() <= MIN_SWEEP_AT + 1, "{} grants kept", tokens.len());
        assert!(tokens.get("early0").is_none());
        assert!(tokens.get(&format!("late{}", MIN_SWEEP_AT - 1)).is_some());
    }

    #[test]
    fn the_saved_form_is_the_plain_map_and_loads_back_with_its_bounds() {
        let mut tokens = RefreshTokens::default();
        tokens.insert("a".into(), grant(1, 2, T0), T0);
        let json = serde_json::to_value(&tokens).expect("serializable");
        assert_eq!(json["a"]["expires"], "2026-05-31T10:00:00Z");
        let mut back: RefreshTokens = serde_json::from_value(json).expect("loads");
        assert!(back.get("a").is_some());
        for i in 0..GRANTS_PER_USER_CLIENT {
            back.insert(format!("n{i}"), grant(1, 2, T0), T0);
        }
        assert!(back.get("a").is_none(), "the loaded grant counts towards the cap");
    }
}
