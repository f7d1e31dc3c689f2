//! Transitive membership: the groups an object belongs to through nested
//! groups, and a group's members through its nested groups. What
//! `transitiveMemberOf`, `transitiveMembers` and the four member checks
//! (`checkMemberGroups`, `getMemberGroups`, `checkMemberObjects`,
//! `getMemberObjects`) answer.

use std::collections::{BTreeSet, VecDeque};

use uuid::Uuid;

use super::groups::Link;
use super::Directory;

impl Directory {
    /// Every group `member` belongs to, directly or through groups that are
    /// members of groups; each once, in breadth-first order. A cycle of
    /// nested groups ends the walk rather than looping.
    pub(crate) fn transitive_groups_of(&self, member: Uuid) -> Vec<Uuid> {
        let mut seen = BTreeSet::new();
        let mut order = Vec::new();
        let mut queue = VecDeque::from([member]);
        while let Some(next) = queue.pop_front() {
            for group in self.groups_of(next) {
                if group != member && seen.insert(group) {
                    order.push(group);
                    queue.push_back(group);
                }
            }
        }
        order
    }

    /// The groups (transitively) and the directory roles of `member`: what
    /// `transitiveMemberOf` and `getMemberObjects` list. A role held through a
    /// role-assignable group is counted for the group's members too.
    pub(crate) fn transitive_member_of(&self, member: Uuid) -> Vec<Uuid> {
        let groups = self.transitive_groups_of(member);
        let mut roles: Vec<Uuid> = self.directory_roles_of(member);
        for g in &groups {
            for role in self.directory_roles_of(*g) {
                if !roles.contains(&role) {
                    roles.push(role);
                }
            }
        }
        groups.into_iter().chain(roles).collect()
    }

    /// Every member of `group`, through nested groups (the nested groups
    /// themselves included, as Graph lists them); each once.
    pub(crate) fn transitive_members(&self, group: Uuid) -> Vec<Uuid> {
        let mut seen = BTreeSet::from([group]);
        let mut order = Vec::new();
        let mut queue = VecDeque::from([group]);
        while let Some(next) = queue.pop_front() {
            for m in self.group_link(next, Link::Members) {
                if seen.insert(m) {
                    order.push(m);
                    if self.groups.contains_key(&m) {
                        queue.push_back(m);
                    }
                }
            }
        }
        order
    }

    /// Whether `id` is a security group (`securityEnabled`), for
    /// `securityEnabledOnly`.
    pub(crate) fn is_security_group(&self, id: Uuid) -> bool {
        self.groups
            .get(&id)
            .and_then(|g| g.get(&super::groups::GROUP, "securityEnabled"))
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    }
}
