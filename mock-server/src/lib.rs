//! graphbox-mock: a fake Microsoft Entra ID tenant and Microsoft Graph v1.0 server.

pub mod odata;
