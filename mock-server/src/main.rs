//! `graphbox-mock serve`: flags, start, the ready line, wait for a signal.

use std::path::PathBuf;
use std::process::ExitCode;

use graphbox_mock::Graphbox;

mod sdk_env;

// A request allocates a few dozen small objects (headers, JSON, the log entry);
// glibc's allocator spent a third of the profile consolidating them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The documented default port when `--port` is not given.
const DEFAULT_PORT: u16 = 5443;

const USAGE: &str = "\
usage: graphbox-mock serve [options]

  --host ADDR        address to listen on (default 127.0.0.1)
  --port N           port; 0 takes any free port (default 5443)
  --plain-http       serve HTTP instead of HTTPS
  --data-dir DIR     where the CA, server certificate and signing key live
                     (default $GRAPHBOX_DATA_DIR, else ~/.local/share/graphbox)
  --state FILE       load tenants from FILE on start if present; save on shutdown
  --seed FILE        JSON {\"users\": [<POST /users bodies>]} created in a new default tenant
                     ({domain} in a value stands for the tenant's initial domain)
  --id-seed N        seed for object ids (same seed, same ids)
  --admin-key KEY    let non-loopback callers use the control API with this key
                     (also $GRAPHBOX_ADMIN_KEY; an empty key is refused)
  --public-url URL   scheme://host[:port] clients reach the server at, when not the
                     listening address (reverse proxy, container): links use it
  --realism PROFILE  off (default), entra or adversarial: replication delay, throttling,
                     latency and random faults for the default tenant (README: Realism)
  --realism-seed N   the seed every realism choice comes from (default: random, logged)
  --env-file FILE    once listening, write the variables Microsoft's SDKs read (AZURE_TENANT_ID,
                     AZURE_CLIENT_SECRET, AZURE_AUTHORITY_HOST, REQUESTS_CA_BUNDLE, ...) to FILE
                     in dotenv form (KEY='value'); written whole, mode 0600, before the ready line
  --print-env        print those variables as shell `export` lines instead of the JSON ready line

Limits (a request past one gets the endpoint's own error answer):
  --max-body-bytes N          largest request body (default 4194304, Graph's 4 MiB)
  --header-timeout SECS       from a request's first byte to its headers' end (default 30)
  --body-timeout SECS         for the body after the headers; then 408 (default 60)
  --idle-timeout SECS         a connection with no request under way (default 120)
  --tls-handshake-timeout SECS  (default 10)
  --max-connections N         served at once; more wait to be accepted (default 1024)

On start, one line of JSON with the tenant's facts goes to stdout; logs go to stderr.";

struct Args {
    host: String,
    port: u16,
    plain_http: bool,
    data_dir: Option<PathBuf>,
    state: Option<PathBuf>,
    seed: Option<PathBuf>,
    id_seed: Option<u64>,
    admin_key: Option<String>,
    public_url: Option<String>,
    limits: graphbox_mock::Limits,
    realism: Option<graphbox_mock::RealismProfile>,
    realism_seed: Option<u64>,
    env_file: Option<PathBuf>,
    print_env: bool,
}

fn parse_args() -> Result<Args, String> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_env();
    let mut args = Args {
        host: "127.0.0.1".into(),
        port: DEFAULT_PORT,
        plain_http: false,
        data_dir: None,
        state: None,
        seed: None,
        id_seed: None,
        // An empty variable is passed on, to be refused at start like an
        // empty --admin-key, rather than quietly meaning "no key".
        admin_key: std::env::var("GRAPHBOX_ADMIN_KEY").ok(),
        public_url: None,
        limits: graphbox_mock::Limits::default(),
        realism: None,
        realism_seed: None,
        env_file: None,
        print_env: false,
    };
    let mut saw_serve = false;
    let err = |e: lexopt::Error| e.to_string();
    while let Some(arg) = parser.next().map_err(err)? {
        match arg {
            Value(v) if !saw_serve && v == "serve" => saw_serve = true,
            Long("host") => {
                args.host = parser.value().map_err(err)?.string().map_err(|_| "--host must be UTF-8".to_owned())?
            }
            Long("port") => args.port = parser.value().map_err(err)?.parse().map_err(err)?,
            Long("plain-http") => args.plain_http = true,
            Long("data-dir") => args.data_dir = Some(parser.value().map_err(err)?.into()),
            Long("state") => args.state = Some(parser.value().map_err(err)?.into()),
            Long("seed") => args.seed = Some(parser.value().map_err(err)?.into()),
            Long("realism") => {
                let name = parser.value().map_err(err)?.string().map_err(|_| "--realism must be UTF-8".to_owned())?;
                args.realism =
                    Some(graphbox_mock::RealismProfile::parse(&name).ok_or_else(|| {
                        format!("--realism: unknown profile '{name}'; use off, entra or adversarial")
                    })?);
            }
            Long("realism-seed") => args.realism_seed = Some(parser.value().map_err(err)?.parse().map_err(err)?),
            Long("env-file") => args.env_file = Some(parser.value().map_err(err)?.into()),
            Long("print-env") => args.print_env = true,
            Long("id-seed") => args.id_seed = Some(parser.value().map_err(err)?.parse().map_err(err)?),
            Long("admin-key") => {
                args.admin_key =
                    Some(parser.value().map_err(err)?.string().map_err(|_| "--admin-key must be UTF-8".to_owned())?)
            }
            Long("public-url") => {
                args.public_url =
                    Some(parser.value().map_err(err)?.string().map_err(|_| "--public-url must be UTF-8".to_owned())?)
            }
            Long("max-body-bytes") => args.limits.max_body_bytes = parser.value().map_err(err)?.parse().map_err(err)?,
            Long("max-connections") => {
                args.limits.max_connections = parser.value().map_err(err)?.parse().map_err(err)?
            }
            Long("header-timeout") => args.limits.header_timeout = seconds(&mut parser, "--header-timeout")?,
            Long("body-timeout") => args.limits.body_timeout = seconds(&mut parser, "--body-timeout")?,
            Long("idle-timeout") => args.limits.idle_timeout = seconds(&mut parser, "--idle-timeout")?,
            Long("tls-handshake-timeout") => {
                args.limits.tls_handshake_timeout = seconds(&mut parser, "--tls-handshake-timeout")?
            }
            Short('h') | Long("help") => return Err(USAGE.to_owned()),
            other => return Err(format!("{}\n\n{USAGE}", other.unexpected())),
        }
    }
    if !saw_serve {
        return Err(USAGE.to_owned());
    }
    Ok(args)
}

/// A flag's value as a positive number of seconds (fractions allowed).
fn seconds(parser: &mut lexopt::Parser, flag: &str) -> Result<std::time::Duration, String> {
    let text = parser.value().map_err(|e| e.to_string())?;
    let text = text.to_str().unwrap_or("");
    text.parse::<f64>()
        .ok()
        .and_then(|s| std::time::Duration::try_from_secs_f64(s).ok())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{flag} takes a positive number of seconds, not {text:?}"))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_target(false).init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("graphbox-mock: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(args))
}

async fn run(args: Args) -> ExitCode {
    let seed_users = match &args.seed {
        None => Vec::new(),
        Some(path) => match read_seed(path) {
            Ok(users) => users,
            Err(e) => {
                eprintln!("graphbox-mock: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let mut builder = Graphbox::builder()
        .host(args.host)
        .port(args.port)
        .data_dir(args.data_dir.unwrap_or_else(graphbox_mock::default_data_dir))
        .seed_users(seed_users);
    if args.plain_http {
        builder = builder.plain_http();
    }
    if let Some(state) = args.state {
        builder = builder.state_file(state);
    }
    if let Some(seed) = args.id_seed {
        builder = builder.seed(seed);
    }
    let (env_file, print_env, admin_key) = (args.env_file, args.print_env, args.admin_key);
    if let Some(key) = admin_key.clone() {
        builder = builder.admin_key(key);
    }
    if let Some(url) = args.public_url {
        builder = builder.public_url(url);
    }
    builder = builder.limits(args.limits);
    if args.realism.is_some() || args.realism_seed.is_some() {
        // Without a seed, one is drawn and logged with the profile, so a run
        // can be replayed with --realism-seed.
        let seed = args.realism_seed.unwrap_or_else(|| {
            use std::hash::{BuildHasher, Hasher};
            std::collections::hash_map::RandomState::new().build_hasher().finish()
        });
        let profile = args.realism.unwrap_or(graphbox_mock::RealismProfile::Off);
        builder = builder.realism(graphbox_mock::RealismConfig::new(profile, seed));
    }
    // Listen for signals before the ready line goes out: a supervisor may send
    // SIGTERM the moment it has read it.
    let signals = Signals::install();
    let mock = match builder.start().await {
        Ok(m) => m,
        Err(e) => {
            let mut message = format!("graphbox-mock: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                message.push_str(&format!(": {s}"));
                source = s.source();
            }
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let vars = sdk_env::variables(mock.ready_info(), admin_key.as_deref());
    // The file goes out before the ready line: a script that waits for the
    // line (or for the file, which appears whole) can read it at once.
    if let Some(path) = &env_file {
        if let Err(e) = sdk_env::write_dotenv(path, &vars) {
            eprintln!("graphbox-mock: {e}");
            return ExitCode::FAILURE;
        }
    }
    let ready = if print_env {
        Ok(sdk_env::shell_exports(&vars))
    } else {
        serde_json::to_string(mock.ready_info()).map(|line| line + "\n")
    };
    match ready {
        Ok(text) => {
            use std::io::Write;
            // One write, so a reader never sees half of the variables.
            let mut out = std::io::stdout().lock();
            if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                eprintln!("graphbox-mock: cannot print the ready line: {e}");
                return ExitCode::FAILURE;
            }
        }
        Err(e) => {
            eprintln!("graphbox-mock: cannot print the ready line: {e}");
            return ExitCode::FAILURE;
        }
    }
    tracing::info!(authority = mock.authority(), "graphbox-mock ready");
    signals.wait().await;
    tracing::info!("shutting down");
    match mock.shutdown().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "graphbox-mock: {e}: {}",
                std::error::Error::source(&e).map(|s| s.to_string()).unwrap_or_default()
            );
            ExitCode::FAILURE
        }
    }
}

fn read_seed(path: &std::path::Path) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, String> {
    let text = std::fs::read(path).map_err(|e| format!("cannot read seed file {}: {e}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| format!("seed file {} is not JSON: {e}", path.display()))?;
    // Taken apart, not cloned: a million users are ~1.6 GB as maps, and a copy
    // doubled the start's peak.
    let users = match value {
        serde_json::Value::Object(mut top) => top.remove("users"),
        _ => None,
    };
    let Some(serde_json::Value::Array(users)) = users else {
        return Err(format!("seed file {} needs a \"users\" array", path.display()));
    };
    users
        .into_iter()
        .map(|u| match u {
            serde_json::Value::Object(user) => Ok(user),
            _ => Err(format!("seed file {}: every user must be a JSON object", path.display())),
        })
        .collect()
}

/// SIGINT and SIGTERM (Ctrl-C elsewhere), registered up front.
struct Signals {
    #[cfg(unix)]
    streams: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Signals {
    fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let streams = match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
                (Ok(term), Ok(int)) => Some((term, int)),
                _ => None,
            };
            Signals { streams }
        }
        #[cfg(not(unix))]
        {
            Signals {}
        }
    }

    async fn wait(self) {
        #[cfg(unix)]
        if let Some((mut term, mut int)) = self.streams {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
