//! Owners of applications and service principals (their `owners` navigation),
//! which decide what an app holding only `Application.ReadWrite.OwnedBy` may
//! touch. Graph lets users and service principals own either kind.

use std::collections::BTreeSet;

use uuid::Uuid;

use super::Directory;
use crate::error::ApiError;

impl Directory {
    /// Whether `id` is an application or a service principal of this tenant:
    /// the objects that have owners here.
    fn has_owners(&self, id: Uuid) -> bool {
        self.applications.contains_key(&id) || self.service_principals.contains_key(&id)
    }

    /// `POST /applications/{id}/owners/$ref` (or a service principal's).
    pub(crate) fn add_owner(&mut self, object: Uuid, owner: Uuid) -> Result<(), ApiError> {
        if !self.has_owners(object) {
            return Err(ApiError::not_found(&object.to_string()));
        }
        if !(self.users.contains_key(&owner) || self.service_principals.contains_key(&owner)) {
            return Err(ApiError::not_found(&owner.to_string()));
        }
        if !self.owners.get_or_default(object).insert(owner) {
            return Err(ApiError::request_bad_request(
                "One or more added object references already exist for the following modified properties: 'owners'.",
            ));
        }
        Ok(())
    }

    /// `DELETE /applications/{id}/owners/{owner}/$ref` (or a service principal's).
    pub(crate) fn remove_owner(&mut self, object: Uuid, owner: Uuid) -> Result<(), ApiError> {
        if !self.has_owners(object) {
            return Err(ApiError::not_found(&object.to_string()));
        }
        if !self.owners.get(&object).is_some_and(|set| set.contains(&owner)) {
            return Err(ApiError::not_found(&owner.to_string()));
        }
        let set = self.owners.get_or_default(object);
        set.remove(&owner);
        if set.is_empty() {
            self.owners.remove(&object);
        }
        Ok(())
    }

    /// The owners of `object` that are still in the directory (a deleted user
    /// is kept for a restore but not listed, as for a group's owners).
    pub(crate) fn owners_of(&self, object: Uuid) -> Vec<Uuid> {
        let Some(set) = self.owners.get(&object) else { return Vec::new() };
        set.iter().copied().filter(|id| self.is_directory_object(*id)).collect()
    }

    /// Whether `owner` owns the application or service principal `object`.
    pub(crate) fn owns(&self, owner: Uuid, object: Uuid) -> bool {
        self.owners.get(&object).is_some_and(|set| set.contains(&owner))
    }

    /// Make `owner` the first owner of `object`, just created by it.
    pub(crate) fn set_creator_as_owner(&mut self, object: Uuid, owner: Uuid) {
        self.owners.insert(object, BTreeSet::from([owner]));
    }

    /// `GET /servicePrincipals/{id}/ownedObjects` (and a user's): the
    /// applications, service principals and groups `owner` owns.
    pub(crate) fn owned_objects(&self, owner: Uuid) -> Vec<Uuid> {
        let apps_and_sps = self.owners.iter().filter(|(o, set)| set.contains(&owner) && self.has_owners(**o));
        let groups = self.group_links.iter().filter(|(g, l)| l.owners.contains(&owner) && self.groups.contains_key(*g));
        apps_and_sps.map(|(id, _)| *id).chain(groups.map(|(id, _)| *id)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dir() -> Directory {
        Directory::new(Uuid::nil(), "Contoso".into(), "contoso.onmicrosoft.com".into(), crate::ids::IdGen::seeded(7))
    }

    #[test]
    fn owners_are_users_or_service_principals_once_each_and_the_last_removal_forgets_the_set() {
        let mut dir = dir();
        let now = time::OffsetDateTime::UNIX_EPOCH;
        let app = dir.create_application(json!({"displayName": "A"}).as_object().unwrap(), now).unwrap();
        let app_id = dir.applications[&app].get_str(&super::super::applications::APPLICATION, "appId").unwrap();
        let sp = dir.create_service_principal(json!({"appId": app_id}).as_object().unwrap()).unwrap();
        let group = dir
            .create_group(
                json!({"displayName": "G", "mailEnabled": false, "mailNickname": "g", "securityEnabled": true})
                    .as_object()
                    .unwrap(),
                now,
            )
            .unwrap();

        dir.add_owner(app, sp).unwrap();
        assert_eq!(dir.add_owner(app, sp).unwrap_err().status, 400, "an owner is added once");
        assert_eq!(dir.add_owner(app, group).unwrap_err().status, 404, "a group cannot own an application");
        assert_eq!(dir.add_owner(group, sp).unwrap_err().status, 404, "groups have their own owners");
        assert!(dir.owns(sp, app));
        assert_eq!(dir.owners_of(app), vec![sp]);
        assert_eq!(dir.owned_objects(sp), vec![app]);

        assert_eq!(dir.remove_owner(app, app).unwrap_err().status, 404, "not an owner");
        dir.remove_owner(app, sp).unwrap();
        assert!(!dir.owns(sp, app));
        assert!(!dir.owners.contains_key(&app), "no empty set is kept");
    }
}
