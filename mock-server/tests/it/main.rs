//! The mock over real sockets, tested with raw HTTP and JSON (never the SDK's
//! models, so a mistake on both sides cannot pass silently).

mod adversarial;
mod applications;
mod azure_cli;
mod batch;
mod breadth;
mod browser;
mod certificates;
mod cli;
mod consent;
mod control;
mod dashboard;
mod delta;
mod directory_objects;
mod dirsync;
mod domains_shared;
mod durable;
mod errors;
mod federation;
mod forks;
mod identity;
mod implied;
mod inspect;
mod msal;
mod msol;
mod organization;
mod paging;
mod query;
mod realism;
mod sensitive;
mod signin;
mod support;
mod timeouts;
mod users;
