//! One cache per credential: a slot per scope, each behind an async mutex so that concurrent
//! callers wait for a single token request instead of each sending one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{AccessToken, CredentialKind, TokenEndpoint};
use crate::error::AuthError;

/// Tokens are refreshed this long before they expire, as MSAL does.
const REFRESH_SKEW: Duration = Duration::from_secs(5 * 60);

type Slot = Arc<tokio::sync::Mutex<Option<AccessToken>>>;

#[derive(Debug)]
pub(crate) struct TokenCache {
    credential: CredentialKind,
    endpoint: TokenEndpoint,
    slots: Mutex<HashMap<String, Slot>>,
}

impl TokenCache {
    pub(crate) fn new(credential: CredentialKind, endpoint: TokenEndpoint) -> Self {
        Self { credential, endpoint, slots: Mutex::new(HashMap::new()) }
    }

    fn slot(&self, scope: &str) -> Slot {
        // A poisoned map only means another thread panicked while inserting; the map is still
        // consistent (insertion is a single call), so keep using it.
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.entry(scope.to_owned()).or_default().clone()
    }

    /// A token for `scope`, from the cache unless it expires within the skew.
    pub(crate) async fn token(&self, scope: &str) -> Result<AccessToken, AuthError> {
        let slot = self.slot(scope);
        // Held across the token request on purpose: this is what makes acquisition single-flight.
        let mut cached = slot.lock().await;
        let now = self.endpoint.clock.now();
        if let Some(token) = cached.as_ref() {
            if token.expires_on > now + REFRESH_SKEW {
                return Ok(token.clone());
            }
        }
        let token = self.endpoint.acquire(&self.credential, scope).await?;
        *cached = Some(token.clone());
        Ok(token)
    }

    /// Drops `token` from the cache if it is still the cached one (a newer token is kept).
    pub(crate) async fn invalidate(&self, scope: &str, token: &str) {
        let slot = self.slot(scope);
        let mut cached = slot.lock().await;
        if cached.as_ref().is_some_and(|t| t.token == token) {
            *cached = None;
        }
    }
}
