//! Provisioning scripts: JavaScript run once per user before it is written, as in a
//! provisioning product's "Provisioning Script" box. Needs the feature `scripts`.
//!
//! # What a script sees
//!
//! | name | what |
//! |---|---|
//! | `source.<Name>` | a built-in attribute of the source user by its script name (`DisplayName`, `UserPrincipalName`, `ImmutableId`, `Mail`, `Department`, … — [`Attribute::script_name`]); `null` when unset; an unknown name throws, naming the closest known one |
//! | `source.CanonicalizeName` | the source's mail, else its UPN, lower-cased |
//! | `source.Get("name")` | any attribute by name, case-insensitively: a built-in by its script or Graph name (`"displayName"`, `"onPremisesImmutableId"`), else an additional column (`"costCentre"`); `null` when this user has no such value |
//! | `destination.<Name>` | what will be written, prefilled with what the ownership policy would write; assign to change it, `null` to clear; unknown names throw |
//! | `isPerson()`, `isGroup()` | `true` / `false` (sources hold users) |
//! | `trace(message)` | adds a note to the user's plan entry |
//! | `reject()` | refuses this user: its plan entry says the script rejected it |
//!
//! `source` is read-only. Lists (`ProxyAddresses`, `BusinessPhones`, `OtherMails`, `Licenses`)
//! are arrays of strings.
//!
//! ```
//! use graphbox_sdk::provisioning::{Attribute, AttrValue, Script, SourceUser};
//!
//! let script = Script::new(r#"
//!     if (source.Get("department") === "Contractors") reject();
//!     destination.UsageLocation = "AU";
//!     destination.Mail = source.CanonicalizeName;
//!     trace("cost centre " + source.Get("costCentre"));
//! "#)?;
//! let mut engine = script.engine()?;
//!
//! let mut mira = SourceUser::new("Mira@Contoso.example").with(Attribute::Department, "Ops");
//! mira.extra.insert("costCentre".into(), "CC-7".into());
//! let out = engine.run(&mira, &Default::default())?;
//! assert!(!out.rejected);
//! assert_eq!(out.destination[&Attribute::Mail], Some(AttrValue::Text("mira@contoso.example".into())));
//! assert_eq!(out.trace, ["cost centre CC-7"]);
//!
//! let contractor = SourceUser::new("c@contoso.example").with(Attribute::Department, "Contractors");
//! assert!(engine.run(&contractor, &Default::default())?.rejected);
//! # Ok::<(), graphbox_sdk::provisioning::ScriptError>(())
//! ```
//!
//! # Sandbox and limits
//!
//! The engine is QuickJS (through `rquickjs`), a real ES2023 engine compiled from C: the
//! feature needs a C compiler and adds about half a minute of CPU to a clean build. Scripts have
//! no file, network or process access: the context has only the language's own built-ins. Each
//! evaluation has a time limit (250 ms by default, an interrupt handler) and the runtime a
//! memory limit (32 MiB); after either trips, the engine is rebuilt before the next user
//! ([`ScriptLimits`]).
//!
//! # Errors
//!
//! A [`ScriptError`] carries the script's line and column and, where one helps, a hint:
//! typographic quotes (“ ” ‘ ’), an unclosed `{`, a property name that does not exist (with the
//! closest known one):
//!
//! ```
//! use graphbox_sdk::provisioning::Script;
//! let e = Script::new("destination.UsageLocaton = 'AU';")?.engine()?
//!     .run(&graphbox_sdk::provisioning::SourceUser::new("a@contoso.example"), &Default::default())
//!     .unwrap_err();
//! assert!(e.to_string().contains("did you mean 'UsageLocation'"));
//! # Ok::<(), graphbox_sdk::provisioning::ScriptError>(())
//! ```

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;
use std::time::{Duration, Instant};

use rquickjs::{Context, Function, Persistent, Runtime};

mod diagnose;
#[cfg(test)]
mod tests;

use diagnose::describe;

use super::policy::Attribute;
use super::source::{AttrValue, SourceUser};

/// The prelude is evaluated with its first line here, so a stack frame with a smaller line is
/// in the user's script and one with a larger line is in the prelude.
const PRELUDE_LINE: u32 = 100_000;

const PRELUDE: &str = r#"
function __gb_make(SRC, DST, ALIASES, userScript) {
  var srcKnown = new Set(SRC), dstKnown = new Set(DST), aliases = JSON.parse(ALIASES);
  var plain = new Set(["toString", "valueOf", "toJSON", "constructor", "hasOwnProperty", "Get"]);
  function __gb_suggest(name, known) {
    var lower = String(name).toLowerCase(), best = null;
    known.forEach(function (k) { if (k.toLowerCase() === lower || (best === null && lower.length > 3 && k.toLowerCase().indexOf(lower.slice(0, 4)) === 0)) best = k; });
    return best === null ? "" : " (did you mean '" + best + "'?)";
  }
  return function __gb_runner(srcJson, dstJson) {
    var src = JSON.parse(srcJson), dst = JSON.parse(dstJson), extra = src.__extra, state = { rejected: false, trace: [] };
    delete src.__extra;
    var extraLower = {};
    Object.keys(extra).forEach(function (k) { var l = k.toLowerCase(); if (!(l in extraLower)) extraLower[l] = k; });
    src.Get = function __gb_get(name) {
      if (typeof name !== "string") throw new TypeError("source.Get takes an attribute name, e.g. source.Get(\"costCentre\"), not " + typeof name);
      if (Object.prototype.hasOwnProperty.call(extra, name)) return extra[name];
      var lower = name.toLowerCase();
      if (Object.prototype.hasOwnProperty.call(aliases, lower)) {
        var builtIn = aliases[lower];
        return Object.prototype.hasOwnProperty.call(src, builtIn) ? src[builtIn] : null;
      }
      if (Object.prototype.hasOwnProperty.call(extraLower, lower)) return extra[extraLower[lower]];
      return null;
    };
    var source = new Proxy(src, {
      get: function __gb_source_get(t, k) {
        if (typeof k !== "string" || Object.prototype.hasOwnProperty.call(t, k) || plain.has(k)) return t[k];
        if (srcKnown.has(k)) return null;
        throw new TypeError("source has no property '" + k + "'" + __gb_suggest(k, srcKnown) + "; additional attributes are read with source.Get(\"" + k + "\")");
      },
      set: function __gb_source_set(t, k) { throw new TypeError("source is read-only (tried to set '" + String(k) + "')"); }
    });
    var destination = new Proxy(dst, {
      get: function __gb_dest_get(t, k) {
        if (typeof k !== "string" || Object.prototype.hasOwnProperty.call(t, k) || plain.has(k)) return t[k];
        if (dstKnown.has(k)) return null;
        throw new TypeError("destination has no property '" + k + "'" + __gb_suggest(k, dstKnown));
      },
      set: function __gb_dest_set(t, k, v) {
        if (typeof k !== "string" || !dstKnown.has(k)) throw new TypeError("destination has no property '" + String(k) + "'" + __gb_suggest(k, dstKnown));
        t[k] = v; return true;
      }
    });
    userScript(source, destination,
      function isPerson() { return true; }, function isGroup() { return false; },
      function trace(m) { state.trace.push(String(m)); }, function reject() { state.rejected = true; });
    return JSON.stringify({ d: dst, r: state.rejected, t: state.trace });
  };
}
"#;

/// Limits for one evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptLimits {
    /// Wall-clock time per user (default 250 ms).
    pub time: Duration,
    /// Memory for the whole runtime, in bytes (default 32 MiB).
    pub memory: usize,
}

impl Default for ScriptLimits {
    fn default() -> Self {
        Self { time: Duration::from_millis(250), memory: 32 << 20 }
    }
}

/// What kind of failure a [`ScriptError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScriptErrorKind {
    /// The script does not parse.
    Syntax,
    /// It threw (including unknown properties and type errors).
    Runtime,
    /// It ran past the time limit.
    Timeout,
    /// It allocated past the memory limit.
    OutOfMemory,
    /// The engine itself failed.
    Engine,
}

/// A script failure, with where in the script and a hint when one helps.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ScriptError {
    /// What kind.
    pub kind: ScriptErrorKind,
    /// The engine's message, e.g. `SyntaxError: unexpected token in expression: '}'`.
    pub message: String,
    /// 1-based line in the script.
    pub line: Option<u32>,
    /// 1-based column in the script.
    pub column: Option<u32>,
    /// What to do about it.
    pub hint: Option<String>,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "script line {l}, column {c}: {}", self.message)?,
            (Some(l), None) => write!(f, "script line {l}: {}", self.message)?,
            _ => write!(f, "script: {}", self.message)?,
        }
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

impl ScriptError {
    fn engine(e: impl fmt::Display) -> Self {
        Self { kind: ScriptErrorKind::Engine, message: e.to_string(), line: None, column: None, hint: None }
    }
}

/// What a script made of one user.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScriptOutput {
    /// The destination after the script: `None` where the script assigned `null` (clear).
    pub destination: BTreeMap<Attribute, Option<AttrValue>>,
    /// The script called `reject()`: the user is not provisioned.
    pub rejected: bool,
    /// Messages from `trace(...)`.
    pub trace: Vec<String>,
}

/// A checked script. Cheap to clone and `Send`; each thread makes its own [`ScriptEngine`].
///
/// ```
/// use graphbox_sdk::provisioning::Script;
/// let script = Script::new(r#"if (isPerson()) { destination.UsageLocation = "AU"; destination.Mail = source.CanonicalizeName; }"#)?;
/// # Ok::<(), graphbox_sdk::provisioning::ScriptError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    text: String,
    limits: ScriptLimits,
}

impl Script {
    /// Compiles `text` once to report syntax errors now rather than per user.
    ///
    /// # Errors
    ///
    /// [`ScriptError`] of kind `Syntax` with line, column and a hint.
    pub fn new(text: impl Into<String>) -> Result<Self, ScriptError> {
        let script = Self { text: text.into(), limits: ScriptLimits::default() };
        script.engine()?;
        Ok(script)
    }

    /// The same script under other limits.
    ///
    /// ```
    /// # let script = graphbox_sdk::provisioning::Script::new("")?;
    /// use graphbox_sdk::provisioning::ScriptLimits;
    /// let strict = script.with_limits(ScriptLimits { time: std::time::Duration::from_millis(20), memory: 8 << 20 });
    /// # Ok::<(), graphbox_sdk::provisioning::ScriptError>(())
    /// ```
    pub fn with_limits(mut self, limits: ScriptLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The script text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// An engine with this script compiled, for one thread.
    ///
    /// ```
    /// use graphbox_sdk::provisioning::{Script, SourceUser};
    /// let mut engine = Script::new("destination.UsageLocation = 'AU';")?.engine()?;
    /// let out = engine.run(&SourceUser::new("mira@contoso.example"), &Default::default())?;
    /// # Ok::<(), graphbox_sdk::provisioning::ScriptError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ScriptError`] when the script does not compile.
    pub fn engine(&self) -> Result<ScriptEngine, ScriptError> {
        let inner = Inner::new(&self.text, self.limits)?;
        Ok(ScriptEngine { script: self.clone(), inner: Some(inner), evaluations: 0 })
    }
}

struct Inner {
    // Field order matters: the runner and context must drop before the runtime.
    runner: Persistent<Function<'static>>,
    context: Context,
    _runtime: Runtime,
    deadline: Rc<Cell<Option<Instant>>>,
}

// The sandbox's time limit is about real elapsed time, not the tenant's clock, so this is the
// one place provisioning reads the OS clock.
#[allow(clippy::disallowed_methods)]
fn monotonic_now() -> Instant {
    Instant::now()
}

fn names() -> (Vec<&'static str>, Vec<&'static str>) {
    let dst: Vec<&str> = Attribute::ALL.iter().map(|a| a.script_name()).collect();
    let mut src = dst.clone();
    src.push("CanonicalizeName");
    (src, dst)
}

/// `source.Get`'s names for the built-in attributes, lower-cased: the script name
/// (`displayname` → `DisplayName`) and the Graph name (`onpremisesimmutableid` → `ImmutableId`).
fn aliases() -> String {
    let mut map = serde_json::Map::new();
    for a in Attribute::ALL {
        for name in [a.script_name(), a.graph_name()] {
            map.insert(name.to_ascii_lowercase(), a.script_name().into());
        }
    }
    map.insert("canonicalizename".into(), "CanonicalizeName".into());
    serde_json::Value::Object(map).to_string()
}

impl Inner {
    fn new(text: &str, limits: ScriptLimits) -> Result<Self, ScriptError> {
        let runtime = Runtime::new().map_err(ScriptError::engine)?;
        runtime.set_memory_limit(limits.memory);
        runtime.set_max_stack_size(512 << 10);
        let deadline: Rc<Cell<Option<Instant>>> = Rc::new(Cell::new(None));
        let check = deadline.clone();
        runtime.set_interrupt_handler(Some(Box::new(move || check.get().is_some_and(|d| monotonic_now() >= d))));
        let context = Context::full(&runtime).map_err(ScriptError::engine)?;
        let runner = context.with(|ctx| -> Result<_, ScriptError> {
            let padded = format!("{}{PRELUDE}", "\n".repeat(PRELUDE_LINE as usize - 1));
            ctx.eval::<(), _>(padded).map_err(|e| describe(&ctx, e, text, false))?;
            let wrapped = format!("(function (source, destination, isPerson, isGroup, trace, reject) {{\n{text}\n}})");
            let user: Function = ctx.eval(wrapped).map_err(|e| describe(&ctx, e, text, false))?;
            let make: Function = ctx.globals().get("__gb_make").map_err(ScriptError::engine)?;
            let (src, dst) = names();
            let runner: Function =
                make.call((src, dst, aliases(), user)).map_err(|e| describe(&ctx, e, text, false))?;
            Ok(Persistent::save(&ctx, runner))
        })?;
        Ok(Self { runner, context, _runtime: runtime, deadline })
    }
}

/// A compiled script on one thread (QuickJS runtimes are not `Send`).
pub struct ScriptEngine {
    script: Script,
    inner: Option<Inner>,
    evaluations: u64,
}

impl fmt::Debug for ScriptEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScriptEngine").field("evaluations", &self.evaluations).finish_non_exhaustive()
    }
}

impl ScriptEngine {
    /// How many users this engine has run the script for.
    pub fn evaluations(&self) -> u64 {
        self.evaluations
    }

    /// Runs the script for `source`, with `destination` prefilled (by script name).
    ///
    /// ```
    /// use graphbox_sdk::provisioning::{Attribute, AttrValue, Script, SourceUser};
    /// let mut engine = Script::new("destination.UsageLocation = 'AU';")?.engine()?;
    /// let out = engine.run(&SourceUser::new("mira@contoso.example"), &Default::default())?;
    /// assert_eq!(out.destination[&Attribute::UsageLocation], Some(AttrValue::Text("AU".into())));
    /// # Ok::<(), graphbox_sdk::provisioning::ScriptError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ScriptError`]: a throw, the time or memory limit, or a destination value that is not a
    /// string, a list of strings or `null`.
    pub fn run(
        &mut self,
        source: &SourceUser,
        destination: &BTreeMap<Attribute, AttrValue>,
    ) -> Result<ScriptOutput, ScriptError> {
        let inner = match self.inner.take() {
            Some(inner) => inner,
            None => Inner::new(&self.script.text, self.script.limits)?,
        };
        self.evaluations += 1;
        let (src_json, dst_json) = (source_json(source), destination_json(destination));
        inner.deadline.set(Some(monotonic_now() + self.script.limits.time));
        let text = &self.script.text;
        let result = inner.context.with(|ctx| {
            let runner = inner.runner.clone().restore(&ctx).map_err(ScriptError::engine)?;
            runner.call::<_, String>((src_json, dst_json)).map_err(|e| describe(&ctx, e, text, true))
        });
        let timed_out = inner.deadline.get().is_some_and(|d| monotonic_now() >= d);
        inner.deadline.set(None);
        match result {
            Ok(out) => {
                self.inner = Some(inner);
                parse_output(&out)
            }
            Err(mut e) => {
                if timed_out && e.kind != ScriptErrorKind::OutOfMemory {
                    e.kind = ScriptErrorKind::Timeout;
                    e.hint = Some(format!(
                        "the script ran longer than {} ms; look for a loop that never ends",
                        self.script.limits.time.as_millis()
                    ));
                }
                // A runtime stopped by a limit may hold half-built state: start the next user afresh.
                if !matches!(e.kind, ScriptErrorKind::Timeout | ScriptErrorKind::OutOfMemory) {
                    self.inner = Some(inner);
                }
                Err(e)
            }
        }
    }
}

fn source_json(source: &SourceUser) -> String {
    let mut o = serde_json::Map::new();
    for (a, v) in &source.values {
        o.insert(a.script_name().to_owned(), v.to_json(Attribute::DisplayName));
    }
    o.insert("CanonicalizeName".into(), source.canonical_name().into());
    let extra: serde_json::Map<String, serde_json::Value> =
        source.extra.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
    o.insert("__extra".into(), extra.into());
    serde_json::Value::Object(o).to_string()
}

fn destination_json(destination: &BTreeMap<Attribute, AttrValue>) -> String {
    let o: serde_json::Map<String, serde_json::Value> =
        destination.iter().map(|(a, v)| (a.script_name().to_owned(), v.to_json(Attribute::DisplayName))).collect();
    serde_json::Value::Object(o).to_string()
}

fn parse_output(out: &str) -> Result<ScriptOutput, ScriptError> {
    let value: serde_json::Value = serde_json::from_str(out).map_err(ScriptError::engine)?;
    let mut output = ScriptOutput {
        rejected: value["r"].as_bool().unwrap_or(false),
        trace: value["t"]
            .as_array()
            .map(|t| t.iter().filter_map(|m| m.as_str().map(str::to_owned)).collect())
            .unwrap_or_default(),
        ..Default::default()
    };
    if let Some(d) = value["d"].as_object() {
        for (name, v) in d {
            let Some(attribute) = Attribute::from_name(name) else { continue };
            let converted = match v {
                serde_json::Value::Null => None,
                serde_json::Value::String(s) if attribute.is_list() => Some(AttrValue::List(vec![s.clone()])),
                serde_json::Value::Array(items) if attribute.is_list() => Some(AttrValue::List(
                    items.iter().map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned)).collect(),
                )),
                serde_json::Value::String(s) => Some(AttrValue::Text(s.clone())),
                serde_json::Value::Number(n) => Some(AttrValue::Text(n.to_string())),
                serde_json::Value::Bool(b) => Some(AttrValue::Text(b.to_string())),
                other => {
                    return Err(ScriptError {
                        kind: ScriptErrorKind::Runtime,
                        message: format!("destination.{name} was set to {other}, which is not a string"),
                        line: None,
                        column: None,
                        hint: Some("assign a string (or null to clear it)".into()),
                    })
                }
            };
            output.destination.insert(attribute, converted);
        }
    }
    Ok(output)
}
