//! The whole flow, offline: a fake tenant with DirSync on and synced users, onboarding (DirSync
//! off and through `PendingDisabled` on the virtual clock, application, consent, role, secret,
//! token), then outbound provisioning of `examples/data/source.csv` with the vendor guide's
//! script. Exits non-zero on any failure. It ends by federating a custom domain to the vendor's
//! IdP (graphbox's in-process test IdP) and signing one of its users in through that IdP.
//!
//! Onboarding stops once before the directory role, to show why the guide's Global
//! Administrator step exists: with its application permissions alone the app's reset of an
//! administrator's password is refused (403), and provisioning names the role that would have
//! allowed it; after the role is assigned, a fresh token's reset is accepted.
//!
//! ```sh
//! cargo run --example full_flow                                  # an embedded mock
//! GRAPHBOX_TARGET=ready.json cargo run --example full_flow       # a running `graphbox-mock serve`
//! cargo run --example full_flow -- --realism entra [--realism-seed 7]   # a tenant that lags and throttles
//! ```
//!
//! `GRAPHBOX_TARGET` names a file holding the mock's ready line (`graphbox-mock serve > ready.json`).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use graphbox::mock::{Graphbox, ReadyInfo};
use graphbox::sdk::auth::{ClientSecretCredential, Credential};
use graphbox::sdk::models::{Organization, PasswordCredential, UnifiedRoleAssignment, User};
use graphbox::sdk::odata::Filter;
use graphbox::sdk::onboarding::{Onboarding, OnboardingError, OnboardingEvent, Step};
use graphbox::sdk::permissions::{DirectoryRole, GraphPermission};
use graphbox::sdk::provisioning::{parse_csv, Provisioner, Script};
use graphbox::sdk::{GraphClient, SleepFuture, Sleeper};
use serde_json::json;

/// Waits by moving the tenant's virtual clock forward instead of sleeping.
#[derive(Debug, Clone)]
struct AdvanceClock {
    http: reqwest::Client,
    url: String,
}

impl Sleeper for AdvanceClock {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        let (http, url) = (self.http.clone(), self.url.clone());
        Box::pin(async move {
            let sent = http.post(&url).json(&json!({ "seconds": duration.as_secs() })).send().await;
            if let Err(e) = sent.and_then(|r| r.error_for_status()) {
                eprintln!("      (could not advance the clock: {e})");
            }
        })
    }
}

struct Target {
    info: ReadyInfo,
    ca_pem: Option<String>,
    http: reqwest::Client,
    _embedded: Option<Graphbox>,
}

impl Target {
    async fn open() -> anyhow::Result<Self> {
        let (info, embedded) = match std::env::var("GRAPHBOX_TARGET") {
            Ok(path) => {
                let text = std::fs::read_to_string(&path).with_context(|| format!("reading GRAPHBOX_TARGET={path}"))?;
                let line = text.lines().next().unwrap_or_default();
                (serde_json::from_str::<ReadyInfo>(line).context("GRAPHBOX_TARGET is not a ready line")?, None)
            }
            Err(_) => {
                let mock = Graphbox::builder().plain_http().start().await.context("starting the embedded mock")?;
                (mock.ready_info().clone(), Some(mock))
            }
        };
        let ca_pem = match &info.ca_file {
            Some(path) => Some(std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?),
            None => None,
        };
        let mut http = reqwest::Client::builder();
        if let Some(pem) = &ca_pem {
            http = http.add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes())?);
        }
        Ok(Self { info, ca_pem, http: http.build()?, _embedded: embedded })
    }

    fn client(&self, credential: Credential) -> Result<GraphClient, graphbox::sdk::Error> {
        let mut b = GraphClient::builder()
            .authority_host(&self.info.authority)
            .graph_url(&self.info.graph_url)
            .tenant(self.info.tenant_id)
            .credential(credential);
        if let Some(pem) = &self.ca_pem {
            b = b.add_root_certificate_pem(pem.as_bytes().to_vec());
        }
        b.build()
    }

    fn control(&self, path: &str) -> String {
        format!("{}/tenants/{}{path}", self.info.control_url, self.info.tenant_id)
    }

    fn waiter(&self) -> AdvanceClock {
        AdvanceClock { http: self.http.clone(), url: self.control("/clock/advance") }
    }
}

/// `--realism PROFILE [--realism-seed N]`: the body for the tenant's `…/realism` (README:
/// Realism), or `None` without the flag. The seed defaults to 1 so a run can be repeated.
fn realism_args() -> anyhow::Result<Option<serde_json::Value>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned();
    let Some(profile) = value("--realism") else { return Ok(None) };
    let seed: u64 = value("--realism-seed").map(|s| s.parse()).transpose().context("--realism-seed")?.unwrap_or(1);
    Ok(Some(json!({"profile": profile, "seed": seed})))
}

/// Put realism in force on the target tenant, say what it is, and return its magnitudes.
async fn apply_realism(target: &Target, body: &serde_json::Value) -> anyhow::Result<serde_json::Value> {
    let r = target.http.put(target.control("/realism")).json(body).send().await?;
    let status = r.status();
    let view: serde_json::Value = r.json().await?;
    if !status.is_success() {
        bail!("realism refused: {}", view["error"]["message"]);
    }
    let e = &view["effective"];
    println!(
        "   realism {} (seed {}): replication {}–{} s, tokens lag {}–{} s, throttling {}, latency p50 {} ms / p99 {} ms",
        view["profile"], view["seed"], e["replicationMinSeconds"], e["replicationMaxSeconds"],
        e["tokenPropagationMinSeconds"], e["tokenPropagationMaxSeconds"], e["throttling"], e["latencyP50Ms"], e["latencyP99Ms"]
    );
    Ok(e.clone())
}

/// Under realism, wait (on the tenant's virtual clock) for the longest window named `key` in the
/// profile's magnitudes, saying why: what a careful client does after a write whose effect it
/// needs at once. Without realism, nothing to wait for.
async fn settle(target: &Target, realism: &Option<serde_json::Value>, key: &str, why: &str) {
    if let Some(view) = realism {
        let longest = view.get(key).and_then(|v| v.as_f64()).unwrap_or(10.0).ceil();
        println!("   waiting {longest} s (virtual) {why}");
        target.waiter().sleep(Duration::from_secs_f64(longest)).await;
    }
}

/// What the clients waited for and why, and what the tenant saw of them.
async fn report_realism(target: &Target, clients: &[(&str, &GraphClient)]) -> anyhow::Result<()> {
    step(10, "realism: what was waited for, and why");
    println!("   onboarding's replication waits are the \"waiting\" lines of step 3");
    for (name, client) in clients {
        println!("   {name}: {}", client.waits());
    }
    let report: serde_json::Value = target.http.get(target.control("/realism/report")).send().await?.json().await?;
    for c in report["clients"].as_array().into_iter().flatten() {
        println!(
            "   the tenant saw client {}: {} requests, {} answered 429, {} early retries, largest burst {}/s",
            c["clientId"].as_str().unwrap_or_default(),
            c["requests"],
            c["throttled"],
            c["earlyRetries"],
            c["largestBurst"]
        );
    }
    Ok(())
}

fn step(n: u32, title: &str) {
    println!("\n== {n}. {title}");
}

/// DirSync on and a sync cycle with two on-premises users, through the documented Graph call and
/// the mock's control API; a target that does not model DirSync yet answers 501 and is skipped.
async fn seed_dirsync(target: &Target, admin: &GraphClient) -> anyhow::Result<()> {
    let enable = Organization { on_premises_sync_enabled: Some(true), ..Default::default() };
    match admin.organization().update(target.info.tenant_id, enable).send().await {
        Ok(()) => println!("   DirSync switched on (PATCH /organization)"),
        Err(e) if e.as_graph_error().is_some_and(|g| g.status == 501) => {
            println!("   skipped: this mock does not model /organization yet (501); no synced users seeded");
            return Ok(());
        }
        Err(e) => return Err(e).context("switching DirSync on"),
    }
    // PendingEnabled lasts seconds; move past it.
    target.waiter().sleep(Duration::from_secs(60)).await;
    let domain = &target.info.tenant_domain;
    let users = json!({ "users": [
        { "onPremisesImmutableId": "bWlyYS1va2Fmb3I=", "userPrincipalName": format!("mira.okafor@{domain}"),
          "displayName": "Mira Okafor (on-prem)", "mailNickname": "mira.okafor", "jobTitle": "Engineer" },
        { "onPremisesImmutableId": "cGF0LW9ucHJlbQ==", "userPrincipalName": format!("pat.onprem@{domain}"),
          "displayName": "Pat Onprem", "mailNickname": "pat.onprem" },
    ]});
    let response = target.http.post(target.control("/dirsync/cycle")).json(&users).send().await?;
    match response.status().as_u16() {
        501 => println!("   skipped: this mock does not model sync cycles yet (501)"),
        s if (200..300).contains(&s) => {
            let summary: serde_json::Value = response.json().await?;
            println!("   sync cycle: {} created, {} refused", summary["created"], summary["refused"]);
        }
        s => bail!("sync cycle answered {s}: {}", response.text().await.unwrap_or_default()),
    }
    Ok(())
}

/// The onboarding workflow the example runs (twice: stopped before the role, then resumed).
fn onboarding(
    target: &Arc<Target>,
    admin: &GraphClient,
    name: &str,
    waited: &Arc<std::sync::Mutex<Duration>>,
) -> Onboarding {
    let for_connect = target.clone();
    let waited = waited.clone();
    Onboarding::new(admin.clone(), move |credential| for_connect.client(credential))
        .display_name(name)
        .application_permissions([
            GraphPermission::UserReadWriteAll,
            GraphPermission::DirectoryReadWriteAll,
            GraphPermission::OrganizationReadWriteAll,
        ])
        .delegated_permissions([GraphPermission::UserRead, GraphPermission::DirectoryAccessAsUserAll])
        .secret_lifetime(Duration::from_secs(90 * 86_400))
        .waiter(target.waiter())
        .on_event(move |event| match event {
            OnboardingEvent::Started(_) => {}
            // DirSync's pending window is polled dozens of times: show the first wait and then
            // one line per virtual day.
            // Replication waits (only under --realism) are few: each is shown.
            OnboardingEvent::Waiting { step, .. } if *step != graphbox::sdk::onboarding::Step::DirSync => {
                println!("   {event}")
            }
            OnboardingEvent::Waiting { delay, .. } => {
                let mut total = waited.lock().unwrap_or_else(|p| p.into_inner());
                let before = total.as_secs() / 86_400;
                *total += *delay;
                if before != total.as_secs() / 86_400 || *total == *delay {
                    println!("   {event} (waited {} h of virtual time so far)", total.as_secs() / 3600);
                }
            }
            _ => println!("   {event}"),
        })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let started = graphbox::sdk::Clock::now(&graphbox::sdk::SystemClock);
    step(1, "a fake tenant");
    let target = Arc::new(Target::open().await?);
    println!("   tenant {} ({}) at {}", target.info.tenant_id, target.info.tenant_domain, target.info.authority);
    let realism = match realism_args()? {
        Some(body) => Some(apply_realism(&target, &body).await?),
        None => None,
    };
    let admin = target.client(ClientSecretCredential::new(target.info.client_id, &target.info.client_secret).into())?;

    step(2, "seed: a cloud user, DirSync on, synced users");
    // A user created in the cloud earlier: provisioning matches it by UPN, overwrites what the
    // source owns (display name) and leaves what Microsoft 365 owns (job title) alone.
    let mut lena = User::new(
        "Lena Novak (old name)",
        "lena.novak",
        &format!("lena.novak@{}", target.info.tenant_domain),
        "Vk3#pL9!wQz2",
    );
    lena.job_title = Some("Set in the Microsoft 365 admin centre".into());
    admin.users().create(lena).send().await.context("seeding a cloud user")?;
    println!("   created cloud user lena.novak");
    seed_dirsync(&target, &admin).await?;

    step(3, "onboarding up to the role: DirSync off, application, consent");
    const APP_NAME: &str = "graphbox full_flow provisioning";
    let waited = Arc::new(std::sync::Mutex::new(Duration::ZERO));
    match onboarding(&target, &admin, APP_NAME, &waited).stop_after(Step::GrantDelegatedPermissions).run().await {
        Err(OnboardingError::Stopped { after }) => println!("   stopped on purpose after: {after}"),
        Ok(_) => bail!("onboarding should have stopped before the role"),
        Err(e) => return Err(e).context("onboarding up to the role"),
    }

    step(4, "before the role: the app resets an administrator's password");
    let admin_upn = format!("ops.admin@{}", target.info.tenant_domain);
    let ops_admin =
        admin.users().create(User::new("Ops Admin", "ops.admin", &admin_upn, "Vk3#pL9!wQz2")).send().await?;
    let ops_admin_id = ops_admin.id.context("created user has an id")?;
    settle(&target, &realism, "replicationMaxSeconds", "for the new user to replicate before a role refers to it")
        .await;
    let ga = DirectoryRole::GlobalAdministrator.template_id();
    admin.role_management().assign(UnifiedRoleAssignment::tenant_wide(&ops_admin_id, ga)).send().await?;
    println!("   created {admin_upn}, a Global Administrator");
    let apps = admin.applications().list().filter(Filter::eq("displayName", APP_NAME)).send().await?;
    let app = apps.value.into_iter().next().context("the onboarded application")?;
    let (app_object_id, client_id) = (app.id.context("app id")?, app.app_id.context("appId")?);
    let request = PasswordCredential { display_name: Some("full_flow".into()), ..Default::default() };
    let secret = admin.applications().add_password(app_object_id, request).send().await?;
    let secret = secret.secret_text.context("the secret's text, shown once")?;
    settle(&target, &realism, "replicationMaxSeconds", "for the new secret to replicate to the token endpoint").await;
    let no_role = target.client(ClientSecretCredential::new(&client_id, &secret).into())?;
    match Provisioner::new(no_role).reset_password(&ops_admin_id, "Rt6!mWq9#zLp", true).await {
        Ok(()) => bail!("an app without a directory role reset a Global Administrator's password"),
        Err(refused) => {
            let role = refused.missing_role.as_ref().and_then(|m| m.least_role()).context("a role explains it")?;
            println!("   refused, as by Entra: {refused}");
            println!("   → the app needs at least {} for this reset", role.display_name());
        }
    }

    step(5, "onboarding resumed: role, secret, token");
    let onboarded =
        onboarding(&target, &admin, APP_NAME, &waited).existing_secret(&secret).run().await.context("onboarding")?;
    println!(
        "   tenant id {}, client id {}, secret {}…",
        onboarded.tenant_id,
        onboarded.client_id,
        &onboarded.client_secret[..3]
    );
    // A new client, so a new token: the role reaches only tokens issued after it (and, on a
    // real tenant, only once it has propagated into tokens).
    settle(&target, &realism, "tokenPropagationMaxSeconds", "for the role to reach new tokens").await;
    let graph = target.client(ClientSecretCredential::new(&onboarded.client_id, &onboarded.client_secret).into())?;
    Provisioner::new(graph.clone())
        .reset_password(&ops_admin_id, "Rt6!mWq9#zLp", true)
        .await
        .map_err(|e| anyhow::anyhow!("the reset should succeed with the role: {e}"))?;
    println!(
        "   with {} in a fresh token: the same reset is accepted",
        DirectoryRole::GlobalAdministrator.display_name()
    );

    step(6, "provisioning: plan (dry run) with the guide's script");
    let csv = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/source.csv"))?;
    let source = parse_csv(&csv.replace("{domain}", &target.info.tenant_domain))?;
    let script_text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/provisioning.js"))?;
    let script = Script::new(script_text).map_err(|e| anyhow::anyhow!("{e}"))?;
    let provisioner = Provisioner::new(graph.clone()).script(script).concurrency(8);
    let plan = provisioner.plan(&source).await?;
    println!("{plan}");

    step(7, "provisioning: apply");
    let report = provisioner.apply(&plan).await;
    println!("{report}");
    if report.refused > 0 {
        bail!("{} user(s) refused", report.refused);
    }

    step(8, "provisioning again: nothing left to do");
    if let Some(view) = &realism {
        // Lists lag behind writes until they replicate: a check made at once would plan the
        // new users again. Wait out the longest window first, as a careful client would.
        let longest = view.get("replicationMaxSeconds").and_then(|v| v.as_f64()).unwrap_or(10.0);
        println!("   waiting {longest} s (virtual) for the new users to replicate before listing them");
        target.waiter().sleep(Duration::from_secs_f64(longest.ceil())).await;
    }
    let again = provisioner.plan(&source).await?;
    let counts = again.counts();
    println!("   {} unchanged, {} to create, {} to update", counts.unchanged, counts.create, counts.update);
    if counts.create + counts.update + counts.refused > 0 {
        bail!("a second run should change nothing:\n{again}");
    }

    step(9, "federation: the customer's domain signs in at the vendor's IdP");
    federate_customer_domain(&target, &admin).await?;

    if realism.is_some() {
        report_realism(&target, &[("admin client", &admin), ("provisioning client", &graph)]).await?;
    }
    println!(
        "\nsummary: onboarded client {} in tenant {}; provisioned {} created, {} updated, {} unchanged; {} script evaluations",
        onboarded.client_id, onboarded.tenant_id, report.created, report.updated, report.unchanged, plan.script_evaluations
    );
    // `--html PATH`: the run as a page (plan, changes per user, refusals, timings).
    let args: Vec<String> = std::env::args().collect();
    if let Some(path) = args.iter().position(|a| a == "--html").and_then(|i| args.get(i + 1)) {
        let took = graphbox::sdk::Clock::now(&graphbox::sdk::SystemClock).duration_since(started).unwrap_or_default();
        let page =
            graphbox::sdk::provisioning::html_report("graphbox full_flow", &plan, &report, &[("whole run", took)]);
        std::fs::write(path, page).with_context(|| format!("writing the HTML report to {path}"))?;
        println!("   HTML report: {path}");
    }
    Ok(())
}

/// The guide's last step: the customer's custom domain is added, verified and federated to the
/// vendor's IdP, so its users sign in there and each needs the Immutable ID the product owns.
async fn federate_customer_domain(target: &Target, admin: &GraphClient) -> anyhow::Result<()> {
    use graphbox::mock::test_idp::TestIdp;
    use graphbox::sdk::models::{AuthenticationProtocol, InternalDomainFederation};

    const DOMAIN: &str = "customer-fed.example";
    admin.domains().create(DOMAIN).send().await.context("adding the customer's domain")?;
    admin.domains().verify(DOMAIN).send().await.context("verifying the customer's domain")?;
    // The vendor's IdP: graphbox's in-process stand-in, with its own key and self-signed
    // token-signing certificate (the public part goes to Entra).
    let idp = TestIdp::generate("https://idp.vendor.example/adfs/services/trust")?;
    let federation = InternalDomainFederation {
        display_name: Some("Vendor IdP".into()),
        issuer_uri: Some(idp.issuer().to_owned()),
        passive_sign_in_uri: Some("https://idp.vendor.example/adfs/ls/".into()),
        active_sign_in_uri: Some("https://idp.vendor.example/adfs/services/trust/2005/usernamemixed".into()),
        signing_certificate: Some(idp.signing_certificate()),
        preferred_authentication_protocol: Some(AuthenticationProtocol::WsFed),
        ..Default::default()
    };
    let created = admin.domains().create_federation_configuration(DOMAIN, &federation).send().await?;
    let domain = admin.domains().get(DOMAIN).send().await?;
    println!(
        "   {DOMAIN} federated to {} (configuration {}): authenticationType {}",
        created.issuer_uri.unwrap_or_default(),
        created.id.unwrap_or_default(),
        domain.authentication_type.as_ref().map_or("(none)", |t| t.as_str())
    );

    let upn = format!("ana.federated@{DOMAIN}");
    let mut user = User::new("Ana Federated", "ana.federated", &upn, "Vk3#pL9!wQz2");
    match admin.users().create(user.clone()).send().await {
        Ok(_) => bail!("a federated-domain user was created without an Immutable ID"),
        Err(e) => println!(
            "   without an Immutable ID, refused as by Entra: {}",
            e.as_graph_error().map_or(String::new(), |g| g.message.clone())
        ),
    }
    user.on_premises_immutable_id = Some("YW5hLWZlZGVyYXRlZA==".into());
    admin.users().create(user).send().await.context("creating the federated user")?;
    let realm: serde_json::Value = target
        .http
        .get(format!("{}/common/userrealm/{upn}?api-version=1.0", target.info.authority))
        .send()
        .await?
        .json()
        .await?;
    println!(
        "   created {upn} with its Immutable ID; realm discovery: {} via {}",
        realm["account_type"], realm["federation_active_auth_url"]
    );
    federated_sign_in(target, admin, &idp, &upn, "YW5hLWZlZGVyYXRlZA==").await
}

/// `upn` signs in to an app through the IdP, as a browser would: the authorize page sends the
/// user to the IdP with a WS-Federation request, the IdP posts its signed answer back to
/// `/login.srf` with the `wctx` it was given, consent, then the app redeems its code.
async fn federated_sign_in(
    target: &Target,
    admin: &GraphClient,
    idp: &graphbox::mock::test_idp::TestIdp,
    upn: &str,
    immutable_id: &str,
) -> anyhow::Result<()> {
    use base64::Engine as _;
    use graphbox::mock::test_idp::{instant, Claims};
    use graphbox::sdk::models::{Application, ServicePrincipal};

    const REDIRECT: &str = "http://localhost/federated-callback";
    let mut app = Application { display_name: Some("federated sign-in demo".into()), ..Default::default() };
    app.extra.insert("publicClient".into(), json!({"redirectUris": [REDIRECT]}));
    app.extra.insert("isFallbackPublicClient".into(), json!(true));
    let app = admin.applications().create(app).send().await.context("registering the sign-in demo app")?;
    let app_id = app.app_id.context("the new app has no appId")?;
    // A fresh appId may not have replicated yet (under --realism): wait and try again, as
    // Microsoft advises for a just-created object.
    let mut attempt = 0;
    loop {
        let sp = ServicePrincipal { app_id: Some(app_id.clone()), ..Default::default() };
        match admin.service_principals().create(sp).send().await {
            Ok(_) => break,
            Err(e) if attempt < 6 && e.as_graph_error().is_some_and(|g| matches!(g.status, 400 | 404)) => {
                attempt += 1;
                target.waiter().sleep(Duration::from_secs(10)).await;
            }
            Err(e) => return Err(e).context("its service principal"),
        }
    }

    let mut browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
    if let Some(pem) = &target.ca_pem {
        browser = browser.add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes())?);
    }
    let browser = browser.build()?;
    let authority = &target.info.authority;
    let authorize = format!("{authority}/{}/oauth2/v2.0/authorize", target.info.tenant_id);
    let scope = "openid profile User.Read";
    let r = browser
        .post(&authorize)
        .form(&[
            ("client_id", app_id.as_str()),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
            ("state", "full-flow"),
            ("graphbox_step", "signin"),
            ("login", upn),
        ])
        .send()
        .await?;
    let to_idp = location(&r).context("the authorize page did not send the federated user to the IdP")?;
    let wctx = to_idp.query_pairs().find(|(k, _)| k == "wctx").map(|(_, v)| v.into_owned());
    let wctx = wctx.context("no wctx in the redirect to the IdP")?;
    println!("   authorize sent {upn} to {}", to_idp.as_str().split('?').next().unwrap_or_default());

    // The IdP signs an assertion for the user's Immutable ID, stamped on the tenant's clock.
    let clock: serde_json::Value = target.http.get(target.control("/clock")).send().await?.json().await?;
    let now = clock["now"].as_str().and_then(instant).context("the tenant clock")?;
    let wresult = idp.ws_federation_response(&Claims::new(immutable_id, upn, now));
    let r = browser
        .post(format!("{authority}/login.srf"))
        .form(&[("wa", "wsignin1.0"), ("wresult", wresult.as_str()), ("wctx", wctx.as_str())])
        .send()
        .await?;
    let r = if r.status() == reqwest::StatusCode::OK {
        // First sign-in to this app: the consent page, accepted.
        let cookie = r.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default();
        let cookie = cookie.split(';').next().unwrap_or_default().to_owned();
        let page = r.text().await?;
        if let Some(error) = page.split("role=\"alert\">").nth(1).and_then(|t| t.split('<').next()) {
            bail!("the IdP's answer was refused: {error}");
        }
        let mut fields = hidden_fields(&page);
        fields.push(("consent".into(), "accept".into()));
        browser.post(&authorize).header("cookie", cookie).form(&fields).send().await?
    } else {
        r
    };
    let back = location(&r).context("no redirect back to the app after the IdP's answer")?;
    let code = back.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned());
    let code = code.with_context(|| format!("no code in {back}"))?;

    let token: serde_json::Value = browser
        .post(format!("{authority}/{}/oauth2/v2.0/token", target.info.tenant_id))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", app_id.as_str()),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
        ])
        .send()
        .await?
        .json()
        .await?;
    let access = token["access_token"].as_str().with_context(|| format!("no access token: {token}"))?;
    let payload = access.split('.').nth(1).unwrap_or_default();
    let claims: serde_json::Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload)?)?;
    if claims["upn"].as_str() != Some(upn) {
        bail!("the token is for {}, not {upn}", claims["upn"]);
    }
    println!("   the IdP's signed answer was accepted: a token for {} (oid {})", claims["upn"], claims["oid"]);
    Ok(())
}

fn location(r: &reqwest::Response) -> Option<reqwest::Url> {
    let to = r.headers().get("location")?.to_str().ok()?;
    reqwest::Url::parse(to).ok()
}

/// The hidden fields of a graphbox sign-in page (what a browser posts back).
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let unescape = |v: &str| {
        v.replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&#39;", "'").replace("&amp;", "&")
    };
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|tag| {
            let attr = |name: &str| tag.split(&format!("{name}=\"")).nth(1)?.split('"').next().map(unescape);
            Some((attr("name")?, attr("value")?))
        })
        .collect()
}
