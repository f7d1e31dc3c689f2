//! graphbox-sdk: a typed Microsoft Graph client.
