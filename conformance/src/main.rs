//! `graphbox-conformance`: flag parsing, then one library call per step (pick the target, run,
//! report). See `conformance/README.md`.

use std::io::Read as _;
use std::process::ExitCode;
use std::time::Duration;

use graphbox_conformance::coverage;
use graphbox_conformance::ledger::{fidelity_markdown, Ledger};
use graphbox_conformance::report::{self, Totals};
use graphbox_conformance::runner::{self, RunOptions};
use graphbox_conformance::target::Target;
use graphbox_conformance::{scenarios, Scenario};

const USAGE: &str = "\
usage: graphbox-conformance [options]
  --list                     list scenarios (name, family, fact) and exit
  --filter PATTERN           run scenarios whose name contains PATTERN (repeatable)
  --target in-process|mock-url|tenant
                             where to run (default in-process)
  --ready FILE|-             mock-url: the mock's ready-line JSON (file, or - for stdin)
  --allow-tenant-changes     tenant: allow scenarios that change tenant-wide settings (DirSync)
  --jobs N                   scenarios at once (default 8 on a mock, 1 on a tenant)
  --junit FILE               also write JUnit XML
  --verbose                  also print what each known difference is
  --fidelity-markdown        print the README's Fidelity section and exit
  --coverage-markdown        run in-process, print the README's coverage sections and exit
  --schema-coverage-markdown print docs/schema-coverage.md (per-property coverage) and exit
";

#[derive(Debug, Default)]
struct Args {
    list: bool,
    filters: Vec<String>,
    target: Option<String>,
    ready: Option<String>,
    allow_tenant_changes: bool,
    jobs: Option<usize>,
    junit: Option<String>,
    verbose: bool,
    fidelity: bool,
    coverage: bool,
    schema_coverage: bool,
}

fn parse() -> Result<Args, lexopt::Error> {
    use lexopt::prelude::*;
    let mut args = Args::default();
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("list") => args.list = true,
            Long("filter") => args.filters.push(parser.value()?.string()?),
            Long("target") => args.target = Some(parser.value()?.string()?),
            Long("ready") => args.ready = Some(parser.value()?.string()?),
            Long("allow-tenant-changes") => args.allow_tenant_changes = true,
            Long("jobs") => args.jobs = Some(parser.value()?.parse()?),
            Long("junit") => args.junit = Some(parser.value()?.string()?),
            Long("verbose") | Short('v') => args.verbose = true,
            Long("fidelity-markdown") => args.fidelity = true,
            Long("coverage-markdown") => args.coverage = true,
            Long("schema-coverage-markdown") => args.schema_coverage = true,
            Long("help") | Short('h') => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            _ => return Err(arg.unexpected()),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("graphbox-conformance: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let args = parse().map_err(|e| format!("{e}\n{USAGE}"))?;
    let all = scenarios::all();
    let ledger = Ledger::bundled(&all)?;
    if args.schema_coverage {
        print!("{}", coverage::schema_coverage_markdown());
        return Ok(ExitCode::SUCCESS);
    }
    if args.fidelity {
        print!("{}", fidelity_markdown(&all, &ledger));
        return Ok(ExitCode::SUCCESS);
    }
    let selected: Vec<Scenario> = all
        .iter()
        .copied()
        .filter(|s| args.filters.is_empty() || args.filters.iter().any(|f| s.name.contains(f.as_str())))
        .collect();
    if args.list {
        for s in &selected {
            let known = ledger.get(s.name).map(|e| format!("  [known: {}]", e.reason)).unwrap_or_default();
            println!("{}\n    {}{known}", s.name, s.fact);
        }
        println!("{} scenarios", selected.len());
        return Ok(ExitCode::SUCCESS);
    }
    if args.coverage {
        let target = Target::in_process().await?;
        let options = RunOptions { jobs: 8, timeout: Duration::from_secs(30), prefix: run_prefix() };
        let outcomes = runner::run(&target, &all, &ledger, &options).await;
        print!("{}\n{}", coverage::operations_markdown(&outcomes), coverage::properties_markdown());
        return Ok(ExitCode::SUCCESS);
    }
    let target = match args.target.as_deref().unwrap_or("in-process") {
        "in-process" => Target::in_process().await?,
        "mock-url" => {
            let source = args.ready.as_deref().ok_or("--target mock-url needs --ready FILE|-")?;
            let json = if source == "-" {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                s.lines().next().unwrap_or_default().to_owned()
            } else {
                std::fs::read_to_string(source).map_err(|e| format!("cannot read {source}: {e}"))?
            };
            Target::mock_url(&json)?
        }
        "tenant" => Target::tenant_from_env(args.allow_tenant_changes)?,
        other => return Err(format!("unknown target {other:?}\n{USAGE}").into()),
    };
    let caps = target.capabilities();
    let options = RunOptions {
        jobs: args.jobs.unwrap_or(if caps.is_mock { 8 } else { 1 }),
        timeout: Duration::from_secs(if caps.is_mock { 30 } else { 600 }),
        prefix: run_prefix(),
    };
    println!(
        "graphbox-conformance: {} scenarios against {} (prefix {})",
        selected.len(),
        target.describe(),
        options.prefix
    );
    let started = tokio::time::Instant::now();
    let outcomes = runner::run(&target, &selected, &ledger, &options).await;
    let elapsed = started.elapsed();
    print!("{}", report::table(&outcomes));
    if args.verbose {
        print!("{}", report::known_details(&outcomes));
    }
    if let Some(path) = &args.junit {
        if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, report::junit(&outcomes, elapsed))?;
    }
    let totals = Totals::of(&outcomes);
    let requests: usize = outcomes.iter().map(|o| o.requests).sum();
    let validated: usize = outcomes.iter().map(|o| o.validated).sum();
    println!("\n{requests} requests, {validated} response bodies checked against the CSDL and the reference envelopes");
    println!("took {:.2} s", elapsed.as_secs_f64());
    println!("{}", totals.known_line());
    println!("{}", totals.summary_line());
    Ok(if totals.is_failure() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// `gbx-<6 hex>-`: names everything this run creates, so a real tenant's objects from this run
/// are recognisable (and nothing else is touched).
fn run_prefix() -> String {
    let mut bytes = [0u8; 3];
    graphbox_sdk::RandomSource::fill(&graphbox_sdk::SystemRandom::new(), &mut bytes);
    format!("gbx-{:02x}{:02x}{:02x}-", bytes[0], bytes[1], bytes[2])
}
