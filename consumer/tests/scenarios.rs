//! What a new user does with graphbox, written from the READMEs and rustdoc alone: an
//! in-process tenant over HTTPS, the SDK against it, and the control plane from the handle.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use graphbox_mock::{Fault, Graphbox};
use graphbox_sdk::auth::ClientSecretCredential;
use graphbox_sdk::batch::BatchItem;
use graphbox_sdk::models::{
    AppRoleAssignment, Application, PasswordCredential, ServicePrincipal, UnifiedRoleAssignment, User,
};
use graphbox_sdk::odata::{Filter, Literal};
use graphbox_sdk::onboarding::Onboarding;
use graphbox_sdk::permissions::{DirectoryRole, GraphPermission, MICROSOFT_GRAPH_APP_ID};
use graphbox_sdk::provisioning::{parse_csv, Provisioner, Script};
use graphbox_sdk::{Error, ErrorCode};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

#[tokio::test]
async fn client_credentials_give_a_signed_token_and_a_working_client() -> Result {
    let mock = Graphbox::start().await?;
    let token = mock.credential().token().await?;
    assert_eq!(token.split('.').count(), 3);
    let graph = mock.graph_client()?;
    assert_eq!(graph.access_token().await?.token.split('.').count(), 3);
    assert!(!graph.users().list().top(1).await?.value.is_empty());
    Ok(())
}

#[tokio::test]
async fn two_hundred_fifty_users_page_and_filter() -> Result {
    let mock = Graphbox::start().await?;
    let graph = mock.graph_client()?;
    let domain = mock.tenant_domain();
    futures::stream::iter(0..250)
        .map(|i| {
            let user = User::new(
                &format!("Load {i:03}"),
                &format!("load{i:03}"),
                &format!("load{i:03}@{domain}"),
                "Vk3#pL9!wQz2",
            );
            graph.users().create(user).send()
        })
        .buffer_unordered(8)
        .try_collect::<Vec<_>>()
        .await?;

    let first = graph.users().list().filter(Filter::starts_with("displayName", "Load ")).top(100).await?;
    assert_eq!(first.value.len(), 100);
    assert!(first.next_link.is_some());
    let all: Vec<User> = graph
        .users()
        .list()
        .filter(Filter::starts_with("displayName", "Load "))
        .top(100)
        .into_stream()
        .try_collect()
        .await?;
    assert_eq!(all.len(), 250);
    let one = graph.users().list().filter(Filter::eq("userPrincipalName", format!("load042@{domain}"))).await?;
    assert_eq!(one.value[0].display_name.as_deref(), Some("Load 042"));
    Ok(())
}

#[tokio::test]
async fn errors_are_typed_404_and_400() -> Result {
    let mock = Graphbox::start().await?;
    let graph = mock.graph_client()?;
    let missing = graph.users().get(uuid::Uuid::nil()).await.expect_err("no such user");
    assert_eq!(missing.code(), Some(&ErrorCode::RequestResourceNotFound));
    assert!(missing.to_string().contains("404 Request_ResourceNotFound"), "{missing}");

    let upn = format!("dup@{}", mock.tenant_domain());
    graph.users().create(User::new("Dup", "dup", &upn, "Vk3#pL9!wQz2")).await?;
    match graph.users().create(User::new("Dup 2", "dup2", &upn, "Vk3#pL9!wQz2")).await {
        Err(Error::Api(e)) if e.code == ErrorCode::RequestBadRequest => assert_eq!(e.details[0].code, "ObjectConflict"),
        other => panic!("expected a duplicate-UPN 400, got {other:?}"),
    }

    let graph_app = uuid::Uuid::parse_str(MICROSOFT_GRAPH_APP_ID)?;
    let unquoted = graph.service_principals().list().filter(Filter::eq("appId", Literal::Guid(graph_app))).await;
    assert_eq!(unquoted.expect_err("appId is a string").code(), Some(&ErrorCode::BadRequest));
    assert_eq!(graph.service_principals().list().filter(Filter::eq("appId", graph_app)).await?.value.len(), 1);
    Ok(())
}

#[tokio::test]
async fn an_app_with_a_secret_consent_and_the_global_administrator_role() -> Result {
    let mock = Graphbox::start().await?;
    let graph = mock.graph_client()?;
    let app = graph.applications().create(Application::new("consumer app")).await?;
    let (object_id, app_id) = (app.id.expect("created apps have an id"), app.app_id.expect("and an appId"));
    let secret = graph.applications().add_password(&object_id, PasswordCredential::default()).await?;
    let sp = graph.service_principals().create(ServicePrincipal::for_app(&app_id)).await?.id.expect("id");
    let graph_sp = graph.service_principals().get_by_app_id(MICROSOFT_GRAPH_APP_ID).await?.id.expect("id");
    let role = GraphPermission::UserReadAll.app_role_id().expect("an application permission");
    graph.service_principals().grant_app_role(&graph_sp, AppRoleAssignment::new(&sp, &graph_sp, role)).await?;
    graph
        .role_management()
        .assign(UnifiedRoleAssignment::tenant_wide(&sp, DirectoryRole::GlobalAdministrator.template_id()))
        .await?;

    let as_app =
        mock.connector()(ClientSecretCredential::new(&app_id, secret.secret_text.expect("shown once")).into())?;
    assert!(!as_app.users().list().top(1).await?.value.is_empty(), "the consented permission lets it read users");
    Ok(())
}

#[tokio::test]
async fn delta_then_batch() -> Result {
    let mock = Graphbox::start().await?;
    let graph = mock.graph_client()?;
    let round = graph.users().delta().page_size(50).await?;
    let link = round.delta_link.expect("a delta link to keep");
    let upn = format!("new@{}", mock.tenant_domain());
    graph.users().create(User::new("New", "new", &upn, "Vk3#pL9!wQz2")).await?;
    assert_eq!(graph.users().delta_from(link).await?.changes.len(), 1);

    let answers = graph
        .batch()
        .request(BatchItem::get("me", format!("/users/{upn}")))
        .request(BatchItem::get("gone", format!("/users/{}", uuid::Uuid::nil())))
        .await?;
    assert_eq!((answers.get("me").map(|a| a.status), answers.get("gone").map(|a| a.status)), (Some(200), Some(404)));
    Ok(())
}

#[tokio::test]
async fn throttling_is_retried_after_retry_after_on_the_virtual_clock() -> Result {
    let mock = Graphbox::start().await?;
    mock.faults().set([Fault::new(429, "/v1.0/users").method("GET").retry_after(Duration::from_secs(30)).times(2)])?;
    let graph = mock.graph_client_builder().sleeper(mock.sleeper()).build()?;
    let before = mock.clock().now();
    graph.users().list().top(1).await?;
    assert!(mock.clock().now() - before >= Duration::from_secs(60), "both waits on the tenant clock");
    assert_eq!(mock.requests().iter().filter(|r| r.status == 429).count(), 2);
    Ok(())
}

#[tokio::test]
async fn onboarding_then_provisioning_with_a_script() -> Result {
    let mock = Graphbox::start().await?;
    let done = Onboarding::new(mock.graph_client()?, mock.connector())
        .display_name("consumer")
        .waiter(mock.sleeper())
        .run()
        .await?;
    assert_eq!(done.tenant_id, mock.tenant_id().into());

    let app = mock.connector()(ClientSecretCredential::new(&done.client_id, &done.client_secret).into())?;
    let d = mock.tenant_domain();
    let source =
        parse_csv(&format!("userPrincipalName,displayName,department\nada@{d},Ada,Ops\nbo@{d},Bo,Contractors\n"))?;
    let script =
        Script::new("if (source.Get('department') === 'Contractors') reject(); destination.UsageLocation = 'AU';")?;
    let provisioner = Provisioner::new(app).script(script);
    let plan = provisioner.plan(&source).await?;
    assert_eq!((plan.counts().create, plan.counts().refused), (1, 1), "{plan}");
    let report = provisioner.apply(&plan).await;
    assert_eq!(report.created, 1, "{report}");
    Ok(())
}
