//! SDK integration tests: wiremock for exact wire scripts, the in-process mock end to end.

mod support;

mod api;
mod auth;
mod batch;
mod ergonomics;
mod errors;
mod mock_apps;
mod mock_directory;
mod mock_signin;
mod mock_tenant;
mod mock_users;
mod paging;
mod retry;
