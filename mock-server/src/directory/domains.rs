//! The server-wide claim on verified domain names. Entra keeps one registry of
//! domain names across every tenant: a name may be added (unverified) to
//! several tenants, but only one tenant may hold it verified. Verification in
//! a second tenant is refused; the Microsoft 365 admin center words it as "we
//! can't add it to your account because the domain is already added to a
//! different Microsoft 365 organization", and the name must be removed there
//! first.
//!
//! The registry is shared by every tenant of one server and knows nothing but
//! names and tenant ids; a claim is one atomic map entry, so of two tenants
//! verifying the same name at once exactly one wins.

use dashmap::mapref::entry::Entry;
use dashmap::DashMap;
use uuid::Uuid;

use super::schema::{prop, EntitySchema, PropType as T};
use crate::error::ApiError;

/// What `POST /domains` may carry: the name and its authentication type.
pub(crate) static DOMAIN_CREATE: EntitySchema = EntitySchema::new(
    "microsoft.graph.domain",
    "Domain",
    &[prop("id", T::String), prop("authenticationType", T::String)],
    &[],
);

/// Which tenant holds each verified domain name (lower case).
#[derive(Debug, Default)]
pub(crate) struct DomainClaims {
    owners: DashMap<String, Uuid>,
}

impl DomainClaims {
    /// Claim `name` for `tenant`; `Err(owner)` when another tenant holds it.
    /// Claiming a name the tenant already holds succeeds.
    pub(crate) fn claim(&self, name: &str, tenant: Uuid) -> Result<(), Uuid> {
        match self.owners.entry(name.to_ascii_lowercase()) {
            Entry::Occupied(e) if *e.get() != tenant => Err(*e.get()),
            Entry::Occupied(_) => Ok(()),
            Entry::Vacant(e) => {
                e.insert(tenant);
                Ok(())
            }
        }
    }

    /// Give `name` up, if `tenant` holds it.
    pub(crate) fn release(&self, name: &str, tenant: Uuid) {
        self.owners.remove_if(&name.to_ascii_lowercase(), |_, owner| *owner == tenant);
    }

    /// Give up every name `tenant` holds (the tenant is being replaced).
    pub(crate) fn release_all(&self, tenant: Uuid) {
        self.owners.retain(|_, owner| *owner != tenant);
    }

    /// The tenant holding `name` verified.
    pub(crate) fn owner(&self, name: &str) -> Option<Uuid> {
        self.owners.get(&name.to_ascii_lowercase()).map(|o| *o.value())
    }
}

/// What `POST /domains/{id}/verify` answers when another tenant has the name
/// verified. Status and code follow Graph's other directory refusals; the
/// wording is a guess (Graph's exact text for this case is not published),
/// modelled on the admin center's message.
pub(crate) fn verified_elsewhere(name: &str) -> ApiError {
    ApiError::request_bad_request(format!(
        "Domain verification failed: the domain '{name}' is already verified in a different organization. \
         Remove it from that organization, then verify it here."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Uuid = Uuid::from_u128(1);
    const B: Uuid = Uuid::from_u128(2);

    #[test]
    fn a_name_is_held_by_one_tenant_whatever_its_case() {
        let claims = DomainClaims::default();
        assert_eq!(claims.claim("Contoso.Example", A), Ok(()));
        assert_eq!(claims.claim("contoso.example", B), Err(A));
        assert_eq!(claims.claim("CONTOSO.EXAMPLE", A), Ok(()));
        assert_eq!(claims.owner("contoso.EXAMPLE"), Some(A));
    }

    #[test]
    fn only_the_holder_can_release_a_name() {
        let claims = DomainClaims::default();
        claims.claim("contoso.example", A).expect("free");
        claims.release("contoso.example", B);
        assert_eq!(claims.owner("contoso.example"), Some(A));
        claims.release("contoso.example", A);
        assert_eq!(claims.claim("contoso.example", B), Ok(()));
    }

    #[test]
    fn of_many_concurrent_claims_exactly_one_wins() {
        let claims = std::sync::Arc::new(DomainClaims::default());
        let wins: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8u128)
                .map(|i| {
                    let claims = claims.clone();
                    s.spawn(move || claims.claim("race.example", Uuid::from_u128(100 + i)).is_ok())
                })
                .collect();
            handles.into_iter().map(|h| usize::from(h.join().expect("no panic"))).sum()
        });
        assert_eq!(wins, 1);
    }

    #[test]
    fn replacing_a_tenant_frees_all_its_names() {
        let claims = DomainClaims::default();
        claims.claim("a.example", A).expect("free");
        claims.claim("b.example", A).expect("free");
        claims.claim("c.example", B).expect("free");
        claims.release_all(A);
        assert_eq!(claims.owner("a.example"), None);
        assert_eq!(claims.owner("b.example"), None);
        assert_eq!(claims.owner("c.example"), Some(B));
    }
}
