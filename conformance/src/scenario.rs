//! What a scenario is, how it fails, and the assertion helpers scenarios use.
//!
//! A scenario is a name, the reference fact it checks (quoted with its section), what it needs
//! from the target, and an async function of a [`Ctx`]. It fails with a
//! [`Failure`] saying what differed; the runner adds the fact and the request.

use std::fmt::Debug;

use futures::future::BoxFuture;
use graphbox_sdk::{Error as SdkError, GraphError};

use crate::context::Ctx;

/// What a scenario needs from the target; it is skipped where the target lacks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The mock's control API (clock, fresh tenants, faults).
    Mock,
    /// Permission to change tenant-wide settings (DirSync, organization).
    TenantChanges,
    /// A user name and password for delegated sign-in.
    AdminUser,
}

/// The function that runs a scenario.
pub type RunFn = fn(Ctx) -> BoxFuture<'static, Result<(), Failure>>;

/// One behaviour, checked the same way on every target.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// `family::what_it_shows`, a sentence in snake case.
    pub name: &'static str,
    /// The reference fact, e.g. `graph-wire.md §2.2: duplicate UPN → 400 Request_BadRequest …`.
    pub fact: &'static str,
    /// What the target must offer.
    pub needs: &'static [Need],
    /// The steps and assertions.
    pub run: RunFn,
}

impl Scenario {
    /// The family: the part of the name before `::`.
    pub fn family(&self) -> &'static str {
        self.name.split("::").next().unwrap_or(self.name)
    }
}

/// Declares a [`Scenario`] from an `async fn(Ctx) -> Result<(), Failure>`.
#[macro_export]
macro_rules! scenario {
    ($name:literal, $fact:expr, [$($need:expr),* $(,)?], $run:path $(,)?) => {
        $crate::scenario::Scenario {
            name: $name,
            fact: $fact,
            needs: &[$($need),*],
            run: |cx| Box::pin($run(cx)),
        }
    };
}

/// Why a scenario did not hold: what differed, and (when known) the request that showed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// The difference, e.g. `status: expected 400, got 409`.
    pub message: String,
    /// `METHOD /path → status`; the runner fills in the last request when empty.
    pub request: Option<String>,
    /// Not a failure: the target's state makes the scenario meaningless here (e.g. a real
    /// tenant that never synced cannot show a DirSync disable).
    pub skip: bool,
}

impl Failure {
    /// A failure with only a message.
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), request: None, skip: false }
    }

    /// Skips the scenario at run time, saying why.
    pub fn skip(why: impl Into<String>) -> Self {
        Self { message: why.into(), request: None, skip: true }
    }
}

impl From<SdkError> for Failure {
    fn from(e: SdkError) -> Self {
        Failure::new(format!("unexpected SDK error: {}", chain(&e)))
    }
}

impl From<reqwest::Error> for Failure {
    fn from(e: reqwest::Error) -> Self {
        Failure::new(format!("HTTP error: {}", chain(&e)))
    }
}

/// An error and its sources on one line.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// `what: expected E, got A` unless equal.
pub fn eq<T: PartialEq + Debug>(what: &str, actual: T, expected: T) -> Result<(), Failure> {
    if actual == expected {
        Ok(())
    } else {
        Err(Failure::new(format!("{what}: expected {expected:?}, got {actual:?}")))
    }
}

/// Fails with `message` unless `condition`.
pub fn ensure(condition: bool, message: impl Into<String>) -> Result<(), Failure> {
    if condition {
        Ok(())
    } else {
        Err(Failure::new(message))
    }
}

/// The value, or a failure saying what was missing.
pub fn some<T>(value: Option<T>, what: &str) -> Result<T, Failure> {
    value.ok_or_else(|| Failure::new(format!("{what}: expected a value, got none")))
}

/// The Graph error of a call that must fail with `status` and `code`.
pub fn graph_error<T: Debug>(result: Result<T, SdkError>, status: u16, code: &str) -> Result<GraphError, Failure> {
    match result {
        Ok(value) => {
            let shown = format!("{value:?}");
            let shown: String = shown.chars().take(200).collect();
            Err(Failure::new(format!("expected {status} {code}, got success: {shown}")))
        }
        Err(e) => match e.as_graph_error() {
            Some(g) if g.status == status && g.code == code => Ok(g.clone()),
            Some(g) => {
                Err(Failure::new(format!("expected {status} {code}, got {} {} \"{}\"", g.status, g.code, g.message)))
            }
            None => Err(Failure::new(format!("expected {status} {code}, got {}", chain(&e)))),
        },
    }
}

/// The token-endpoint error of a call that must fail with `error` and AADSTS `code`.
pub fn auth_error<T: Debug>(result: Result<T, SdkError>, status: u16, error: &str, code: u32) -> Result<(), Failure> {
    match result {
        Ok(_) => Err(Failure::new(format!("expected {status} {error} AADSTS{code}, got success"))),
        Err(e) => match e.as_auth_error() {
            Some(a) if a.status() == Some(status) && a.error() == Some(error) && a.aadsts() == Some(code) => Ok(()),
            Some(a) => Err(Failure::new(format!(
                "expected {status} {error} AADSTS{code}, got {:?} {:?} AADSTS{:?}: {:?}",
                a.status(),
                a.error(),
                a.aadsts(),
                a.description().map(|d| d.lines().next().unwrap_or(d).to_owned())
            ))),
            None => Err(Failure::new(format!("expected {status} {error} AADSTS{code}, got {}", chain(&e)))),
        },
    }
}
