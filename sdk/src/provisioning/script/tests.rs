use super::*;

fn mira() -> SourceUser {
    SourceUser::new("Mira@Contoso.example").with(Attribute::DisplayName, "Mira Okafor")
}

fn run(script: &str) -> Result<ScriptOutput, ScriptError> {
    Script::new(script)?.engine()?.run(&mira(), &BTreeMap::new())
}

#[test]
fn the_guides_script_sets_usage_location_and_mail() {
    let out = run(crate::provisioning::GUIDE_SCRIPT).expect("runs");
    assert_eq!(out.destination[&Attribute::UsageLocation], Some(AttrValue::Text("AU".into())));
    assert_eq!(out.destination[&Attribute::Mail], Some(AttrValue::Text("mira@contoso.example".into())));
}

#[test]
fn typographic_quotes_are_reported_where_they_are_with_a_hint() {
    let e = Script::new("if (isPerson()) {\n  destination.UsageLocation = “AU”;\n}").expect_err("syntax");
    assert_eq!((e.kind, e.line, e.column), (ScriptErrorKind::Syntax, Some(2), Some(31)), "{e}");
    assert!(e.to_string().contains("replace “ with \""), "{e}");
}

#[test]
fn a_missing_brace_names_the_brace_that_is_never_closed() {
    let e = Script::new("if (isPerson()) {\n  destination.UsageLocation = \"AU\";\n").expect_err("syntax");
    assert_eq!(e.kind, ScriptErrorKind::Syntax, "{e}");
    assert!(e.line.is_some(), "{e}");
    assert!(e.to_string().contains("line 1, column 17 is never closed"), "{e}");
}

#[test]
fn an_unknown_destination_property_fails_at_its_line_and_column() {
    let e = run("var x = 1;\n  destination.UsageLocaton = 'AU';").expect_err("unknown");
    assert_eq!((e.kind, e.line), (ScriptErrorKind::Runtime, Some(2)), "{e}");
    assert!(e.column.is_some(), "{e}");
    assert!(e.message.contains("did you mean 'UsageLocation'"), "{e}");
}

#[test]
fn an_unknown_source_property_points_at_source_get() {
    let e = run("destination.DisplayName = source.Nickname;").expect_err("unknown");
    assert_eq!(e.line, Some(1), "{e}");
    assert!(e.message.contains("source.Get(\"Nickname\")"), "{e}");
}

#[test]
fn a_runtime_error_has_line_and_column() {
    let e = run("\n\nnull.foo;").expect_err("throws");
    assert_eq!((e.kind, e.line), (ScriptErrorKind::Runtime, Some(3)), "{e}");
    assert!(e.column.is_some(), "{e}");
    assert!(e.hint.as_deref().is_some_and(|h| h.contains("null or undefined")), "{e}");
}

#[test]
fn an_endless_loop_is_stopped_by_the_time_limit_and_the_engine_recovers() {
    let script = Script::new("while (true) {}")
        .expect("compiles")
        .with_limits(ScriptLimits { time: Duration::from_millis(50), memory: 32 << 20 });
    let mut engine = script.engine().expect("engine");
    let e = engine.run(&mira(), &BTreeMap::new()).expect_err("stopped");
    assert_eq!(e.kind, ScriptErrorKind::Timeout, "{e}");
    let again = engine.run(&mira(), &BTreeMap::new()).expect_err("stopped again");
    assert_eq!(again.kind, ScriptErrorKind::Timeout, "{again}");
}

#[test]
fn unbounded_allocation_is_stopped_by_the_memory_limit() {
    let e = run("var a = []; while (true) { a.push(new Array(100000).fill(1)); }").expect_err("oom");
    assert_eq!(e.kind, ScriptErrorKind::OutOfMemory, "{e}");
}

#[test]
fn scripts_have_no_host_access() {
    for probe in
        ["require('fs')", "std.open('/etc/passwd')", "os.exec(['ls'])", "fetch('http://x')", "new XMLHttpRequest()"]
    {
        assert!(run(probe).is_err(), "{probe} must fail");
    }
    // No module loader is installed, so a dynamic import can never resolve a host module.
    let out =
        run("if (typeof std !== 'undefined' || typeof os !== 'undefined' || typeof process !== 'undefined') reject();");
    assert!(!out.expect("runs").rejected);
}

#[test]
fn reject_trace_get_and_null_work() {
    let mut user = mira();
    user.extra.insert("costCentre".into(), "42".into());
    let out = Script::new(
        "trace(source.Get('costCentre')); destination.Mail = null; if (source.Get('nope') === null) reject();",
    )
    .and_then(|s| s.engine())
    .and_then(|mut e| e.run(&user, &BTreeMap::new()))
    .expect("runs");
    assert!(out.rejected);
    assert_eq!(out.trace, ["42"]);
    assert_eq!(out.destination[&Attribute::Mail], None);
}

#[test]
fn source_get_reads_built_in_attributes_by_script_or_graph_name_in_any_case() {
    let user = mira().with(Attribute::ImmutableId, "bWlyYQ").with(Attribute::Department, "Ops");
    let mut user = user;
    user.extra.insert("costCentre".into(), "CC-7".into());
    let script = "trace(source.Get('displayName')); trace(source.Get('DISPLAYNAME')); \
                  trace(source.Get('onPremisesImmutableId')); trace(source.Get('department')); \
                  trace(source.Get('jobTitle')); trace(source.Get('costcentre')); trace(source.Get('nope'));";
    let out =
        Script::new(script).expect("compiles").engine().expect("engine").run(&user, &BTreeMap::new()).expect("runs");
    assert_eq!(out.trace, ["Mira Okafor", "Mira Okafor", "bWlyYQ", "Ops", "null", "CC-7", "null"]);
}

#[test]
fn a_reject_rule_on_a_built_in_read_through_get_fires() {
    let script = "if (source.Get('displayName') === 'Mira Okafor') reject();";
    let out = run(script).expect("runs");
    assert!(out.rejected, "the rule sees the built-in attribute");
}

#[test]
fn source_get_with_a_non_string_says_what_it_takes() {
    let e = run("source.Get(42);").expect_err("throws");
    assert!(e.message.contains("source.Get takes an attribute name"), "{e}");
}
