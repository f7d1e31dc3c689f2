//! `CompanyInformation`: the members the mock knows, in the
//! data contract's ordinal order, read from the same tenant state Graph shows.

use serde_json::Value;

use super::envelope::{ADMINISTRATION, ARRAYS};
use super::xml::escape;
use crate::clock::format_datetime;
use crate::directory::organization::ORGANIZATION;
use crate::directory::Directory;

/// One member's value on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Member {
    Nil,
    Text(String),
    Strings(Vec<String>),
}

fn opt_text(v: Option<String>) -> Member {
    v.map_or(Member::Nil, Member::Text)
}

fn strings(dir: &Directory, prop: &str) -> Member {
    let list = dir.organization.record.get(&ORGANIZATION, prop).and_then(Value::as_array);
    Member::Strings(list.into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect())
}

fn org_text(dir: &Directory, prop: &str) -> Member {
    opt_text(dir.organization.record.get_str(&ORGANIZATION, prop).map(str::to_owned))
}

/// The members, in the order they are emitted. A .NET reader drops members
/// out of ordinal order silently, so a unit test holds this list sorted.
fn members(dir: &Directory) -> Vec<(&'static str, Member)> {
    let d = &dir.organization.dirsync;
    let bool_text = |b: bool| Member::Text(b.to_string());
    let ever_synced = d.state != crate::dirsync::State::NeverSynced;
    vec![
        ("AllowAdHocSubscriptions", bool_text(true)),
        ("AllowEmailVerifiedUsers", bool_text(true)),
        ("City", org_text(dir, "city")),
        ("CompanyType", Member::Text("CompanyTenant".into())),
        ("Country", org_text(dir, "country")),
        ("CountryLetterCode", org_text(dir, "countryLetterCode")),
        (
            "DirSyncAnchorAttribute",
            if ever_synced { Member::Text("mS-DS-ConsistencyGuid".into()) } else { Member::Nil },
        ),
        ("DirSyncClientMachineName", Member::Nil),
        ("DirSyncClientVersion", Member::Nil),
        ("DirSyncServiceAccount", Member::Nil),
        ("DirectorySynchronizationEnabled", bool_text(d.state.flag().unwrap_or(false))),
        ("DirectorySynchronizationStatus", Member::Text(d.state.msol_status().into())),
        ("DisplayName", org_text(dir, "displayName")),
        ("InitialDomain", Member::Text(dir.initial_domain().to_owned())),
        ("LastDirSyncTime", opt_text(d.last_sync.map(format_datetime))),
        ("LastPasswordSyncTime", Member::Nil),
        ("MarketingNotificationEmails", strings(dir, "marketingNotificationEmails")),
        ("ObjectId", Member::Text(dir.tenant_id.to_string())),
        ("PasswordSynchronizationEnabled", bool_text(dir.sync_feature("passwordSyncEnabled"))),
        ("PostalCode", org_text(dir, "postalCode")),
        ("PreferredLanguage", org_text(dir, "preferredLanguage")),
        ("SecurityComplianceNotificationEmails", strings(dir, "securityComplianceNotificationMails")),
        ("SecurityComplianceNotificationPhones", strings(dir, "securityComplianceNotificationPhones")),
        ("SelfServePasswordResetEnabled", bool_text(false)),
        ("State", org_text(dir, "state")),
        ("Street", org_text(dir, "street")),
        ("TechnicalNotificationEmails", strings(dir, "technicalNotificationMails")),
        ("TelephoneNumber", Member::Nil),
        ("UsersPermissionToCreateGroupsEnabled", bool_text(true)),
        ("UsersPermissionToCreateLOBAppsEnabled", bool_text(true)),
        ("UsersPermissionToReadOtherUsersEnabled", bool_text(true)),
        ("UsersPermissionToUserConsentToAppEnabled", bool_text(true)),
        ("WhenCreated", org_text(dir, "createdDateTime")),
    ]
}

/// `<w:ReturnValue>` with the company's members (prefixes `w`, `n` are
/// declared by the enclosing Result element).
pub(crate) fn return_value(dir: &Directory) -> String {
    let mut out = format!("<w:ReturnValue xmlns:co=\"{ADMINISTRATION}\">");
    for (name, member) in members(dir) {
        match member {
            Member::Nil => out.push_str(&format!("<co:{name} n:nil=\"true\"/>")),
            Member::Text(t) => out.push_str(&format!("<co:{name}>{}</co:{name}>", escape(&t))),
            Member::Strings(items) if items.is_empty() => {
                out.push_str(&format!("<co:{name} xmlns:ar=\"{ARRAYS}\"/>"));
            }
            Member::Strings(items) => {
                out.push_str(&format!("<co:{name} xmlns:ar=\"{ARRAYS}\">"));
                for item in items {
                    out.push_str(&format!("<ar:string>{}</ar:string>", escape(&item)));
                }
                out.push_str(&format!("</co:{name}>"));
            }
        }
    }
    out.push_str("</w:ReturnValue>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_in_ordinal_order_as_the_data_contract_requires() {
        let dir =
            Directory::new(uuid::Uuid::nil(), "T".into(), "t.onmicrosoft.com".into(), crate::ids::IdGen::seeded(1));
        let names: Vec<&str> = members(&dir).into_iter().map(|(n, _)| n).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable(); // `str` orders by bytes: ordinal, uppercase first
        assert_eq!(names, sorted);
        let at = |n| names.iter().position(|x| *x == n).unwrap();
        assert!(at("DirSyncServiceAccount") < at("DirectorySynchronizationEnabled"), "the reference's example");
    }
}
