//! Microsoft's first-party applications every Entra tenant knows without
//! registering them: the public clients Microsoft's own tools sign in as, and
//! the resources their tokens are for. App ids are the same in every tenant
//! (Microsoft's documentation and many public scripts hard-code them).

use uuid::{uuid, Uuid};

/// A first-party public client.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FirstPartyClient {
    pub app_id: Uuid,
    pub display_name: &'static str,
    /// The Microsoft Graph delegated scopes Microsoft pre-authorizes for the
    /// client: what `scp` carries for a Graph token with `.default`, with no
    /// consent in the tenant.
    pub graph_scopes: &'static [&'static str],
}

/// Azure CLI's client id (`az login` always uses it).
pub(crate) const AZURE_CLI: Uuid = uuid!("04b07795-8ddb-461a-bbee-02f9e1bf7b46");

/// The Graph scopes of Azure CLI's tokens, as public token dumps show them
/// (unconfirmed in Microsoft's documentation: a guess from observed tokens).
const AZURE_CLI_GRAPH_SCOPES: &[&str] = &[
    "Application.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "AuditLog.Read.All",
    "DelegatedPermissionGrant.ReadWrite.All",
    "Directory.AccessAsUser.All",
    "Group.ReadWrite.All",
    "User.Read.All",
    "User.ReadWrite.All",
];

pub(crate) const PUBLIC_CLIENTS: &[FirstPartyClient] = &[
    FirstPartyClient { app_id: AZURE_CLI, display_name: "Microsoft Azure CLI", graph_scopes: AZURE_CLI_GRAPH_SCOPES },
    FirstPartyClient {
        app_id: uuid!("1950a258-227b-4e31-a9cf-717495945fc2"),
        display_name: "Microsoft Azure PowerShell",
        graph_scopes: AZURE_CLI_GRAPH_SCOPES,
    },
    // Microsoft Graph PowerShell asks for Graph scopes by name and needs
    // consent like any application: nothing pre-authorized.
    FirstPartyClient {
        app_id: uuid!("14d82eec-204b-4c2f-b7e8-296a70dab67e"),
        display_name: "Microsoft Graph Command Line Tools",
        graph_scopes: &[],
    },
    FirstPartyClient {
        app_id: uuid!("1b730954-1685-4b74-9bfd-dac224a7b894"),
        display_name: "Azure Active Directory PowerShell",
        graph_scopes: &[],
    },
];

/// The first-party public client with `app_id`, if it is one.
pub(crate) fn public_client(app_id: Uuid) -> Option<&'static FirstPartyClient> {
    PUBLIC_CLIENTS.iter().find(|c| c.app_id == app_id)
}

/// The object id a tenant's (implicit) service principal of a first-party
/// client has until one is created: derived from tenant and app, so every
/// token of the same client in the same tenant names the same one.
pub(crate) fn implicit_service_principal_id(tenant: Uuid, app_id: Uuid) -> Uuid {
    let digest = ring::digest::digest(&ring::digest::SHA256, format!("{tenant}:{app_id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest.as_ref()[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}
