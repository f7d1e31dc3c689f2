//! End to end against the in-process graphbox-mock: users.

use futures::TryStreamExt;
use graphbox_mock::Graphbox;
use graphbox_sdk::auth::ClientSecretCredential;
use graphbox_sdk::models::User;
use graphbox_sdk::odata::Filter;
use graphbox_sdk::GraphClient;

pub(crate) async fn plain_mock() -> Graphbox {
    Graphbox::builder().plain_http().start().await.expect("mock starts")
}

pub(crate) fn client_for(mock: &Graphbox) -> GraphClient {
    GraphClient::builder()
        .authority_host(mock.authority())
        .graph_url(mock.graph_url())
        .tenant(mock.tenant_id())
        .credential(ClientSecretCredential::new(mock.client_id(), mock.client_secret()))
        .build()
        .expect("client")
}

fn new_user(mock: &Graphbox, nick: &str, name: &str) -> User {
    User::new(name, nick, &format!("{nick}@{}", mock.tenant_domain()), "Vk3#pL9!wQz2")
}

#[tokio::test]
async fn users_can_be_created_read_updated_and_deleted() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);

    let created = graph.users().create(new_user(&mock, "mira", "Mira Okafor")).send().await.expect("create");
    let id = created.id.clone().expect("id");
    assert_eq!(created.display_name.as_deref(), Some("Mira Okafor"));

    let patch = User {
        usage_location: Some("AU".into()),
        mail: Some(format!("mira@{}", mock.tenant_domain())),
        ..Default::default()
    };
    graph.users().update(&id, patch).send().await.expect("update");

    let read = graph.users().get(&id).select(["id", "mail", "usageLocation"]).send().await.expect("get");
    assert_eq!(read.usage_location.as_deref(), Some("AU"));

    graph.users().delete(&id).send().await.expect("delete");
    let err = graph.users().get(&id).send().await.expect_err("deleted");
    let graph_error = err.as_graph_error().expect("api error");
    assert!(graph_error.is_not_found());
    assert_eq!(graph_error.code, "Request_ResourceNotFound");
}

#[tokio::test]
async fn filter_select_and_top_page_through_250_users() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    for i in 0..250 {
        graph
            .users()
            .create(new_user(&mock, &format!("pager{i:03}"), &format!("Pager {i:03}")))
            .send()
            .await
            .expect("create");
    }
    graph.users().create(new_user(&mock, "other", "Someone Else")).send().await.expect("create");

    let first =
        graph.users().list().filter(Filter::starts_with("displayName", "Pager")).top(100).send().await.expect("page");
    assert_eq!(first.value.len(), 100);
    assert!(first.next_link.is_some());

    let all: Vec<User> = graph
        .users()
        .list()
        .filter(Filter::starts_with("displayName", "Pager"))
        .select(["id", "displayName"])
        .top(100)
        .into_stream()
        .try_collect()
        .await
        .expect("stream");
    assert_eq!(all.len(), 250);
    assert!(all.iter().all(|u| u.display_name.as_deref().is_some_and(|n| n.starts_with("Pager"))));
    assert!(all.iter().all(|u| u.user_principal_name.is_none()), "$select limits the properties");
}

#[tokio::test]
async fn count_with_eventual_consistency_reports_the_total() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    for i in 0..5 {
        graph
            .users()
            .create(new_user(&mock, &format!("counted{i}"), &format!("Counted {i}")))
            .send()
            .await
            .expect("create");
    }
    let page = graph
        .users()
        .list()
        .filter(Filter::starts_with("displayName", "Counted"))
        .count(true)
        .top(2)
        .send()
        .await
        .expect("count");
    assert_eq!(page.count, Some(5));
    let counted =
        graph.users().count().filter(Filter::starts_with("displayName", "Counted")).send().await.expect("$count");
    assert_eq!(counted, 5);
    let ne = graph
        .users()
        .list()
        .filter(Filter::ne("displayName", "Counted 0").and(Filter::starts_with("displayName", "Counted")))
        .send()
        .await
        .expect("ne query");
    assert_eq!(ne.value.len(), 4);
}

#[tokio::test]
async fn the_mock_is_reached_over_tls_with_its_ca_trusted() {
    let mock = Graphbox::builder().start().await.expect("https mock");
    assert!(mock.graph_url().starts_with("https://"));
    let graph = GraphClient::builder()
        .authority_host(mock.authority())
        .graph_url(mock.graph_url())
        .tenant(mock.tenant_id())
        .credential(ClientSecretCredential::new(mock.client_id(), mock.client_secret()))
        .add_root_certificate_pem(mock.ca_pem())
        .build()
        .expect("client");
    let page = graph.users().list().top(1).send().await.expect("list over TLS");
    assert!(page.value.len() <= 1);
}

#[tokio::test]
async fn a_wrong_secret_is_an_auth_error_with_the_aadsts_code() {
    let mock = plain_mock().await;
    let graph = GraphClient::builder()
        .authority_host(mock.authority())
        .graph_url(mock.graph_url())
        .tenant(mock.tenant_id())
        .credential(ClientSecretCredential::new(mock.client_id(), "not-the-secret"))
        .build()
        .expect("client");
    let err = graph.users().list().send().await.expect_err("bad secret");
    let auth = err.as_auth_error().expect("auth error");
    assert_eq!(auth.error(), Some("invalid_client"));
    assert_eq!(auth.aadsts(), Some(7000215));
    assert_eq!(auth.status(), Some(401));
}

#[tokio::test]
async fn a_deleted_user_is_listed_in_deleted_items_and_can_be_restored() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    let created = graph.users().create(new_user(&mock, "lazarus", "Lazarus")).send().await.expect("create");
    let id = created.id.expect("id");
    graph.users().delete(&id).send().await.expect("delete");

    let deleted = graph.deleted_items().users().send().await.expect("deleted list");
    assert!(deleted.value.iter().any(|u| u.id.as_ref() == Some(&id)));
    let item = graph.deleted_items().get(id.as_str()).send().await.expect("deleted item");
    assert!(item.deleted_date_time.is_some());

    let restored = graph.deleted_items().restore(id.as_str()).send().await.expect("restore");
    assert_eq!(restored.id.as_ref().map(|i| i.as_str()), Some(id.as_str()));
    let back = graph.users().get(&id).send().await.expect("back in /users");
    assert_eq!(back.display_name.as_deref(), Some("Lazarus"));
}

#[tokio::test]
async fn a_permanently_deleted_user_is_gone_from_deleted_items() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    let id = graph.users().create(new_user(&mock, "gone", "Gone")).send().await.expect("create").id.expect("id");
    graph.users().delete(&id).send().await.expect("delete");

    graph.deleted_items().permanently_delete(id.as_str()).send().await.expect("purge");

    let err = graph.deleted_items().get(id.as_str()).send().await.expect_err("purged");
    assert!(err.is_not_found());
}

#[tokio::test]
async fn a_token_expired_on_the_mock_clock_is_refreshed_after_the_401() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    graph.users().list().top(1).send().await.expect("first token works");

    // The mock's tenant clock moves two hours on; the SDK's own clock does not, so its cached
    // token still looks fresh and only the mock's 401 can tell it otherwise.
    let advance = format!("{}/tenants/{}/clock/advance", mock.control_url(), mock.tenant_id());
    let answer =
        reqwest::Client::new().post(advance).json(&serde_json::json!({"seconds": 7200})).send().await.expect("control");
    assert!(answer.status().is_success());

    graph.users().list().top(1).send().await.expect("refreshed after 401");
}

#[tokio::test]
async fn search_and_order_by_page_on_with_get_page_and_page_streams() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    for i in (0..12).rev() {
        graph
            .users()
            .create(new_user(&mock, &format!("walker{i:02}"), &format!("Walker {i:02}")))
            .send()
            .await
            .expect("create");
    }

    let ordered = graph.users().list().order_by("displayName desc").top(999).send().await.expect("$orderby");
    let names: Vec<&str> = ordered.value.iter().filter_map(|u| u.display_name.as_deref()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable_by_key(|name| std::cmp::Reverse(name.to_lowercase()));
    assert_eq!(names, sorted, "descending by displayName");

    // $search needs `ConsistencyLevel: eventual` on every page; nextLinks do not carry headers.
    let first = graph.users().list().search("displayName:Walker").count(true).top(5).send().await.expect("$search");
    assert_eq!(first.count, Some(12));
    assert_eq!(first.value.len(), 5);
    let link = first.next_link.clone().expect("more pages");
    let second = graph.get_page::<User>(&link).await.expect("get_page resends the header a $search link needs");
    assert_eq!(second.value.len(), 5);
    assert_eq!(second.count, None, "@odata.count only on the first page");

    let rest: Vec<User> = first.into_stream(&graph).try_collect().await.expect("Page::into_stream");
    assert_eq!(rest.len(), 12);
    let mut ids: Vec<_> = rest.iter().filter_map(|u| u.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 12, "no user twice across pages");
}

#[tokio::test]
async fn the_sdk_rides_out_throttling_injected_by_the_mock() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    // Two 429s with Retry-After: 0 on the next user reads, scripted through the
    // mock's faults control API rather than wiremock.
    let faults = format!("{}/tenants/{}/faults", mock.control_url(), mock.tenant_id());
    let set = reqwest::Client::new()
        .put(&faults)
        .json(&serde_json::json!({"rules": [{"method": "GET", "path": "/v1.0/users", "status": 429, "retryAfterSeconds": 0, "times": 2}]}))
        .send()
        .await
        .expect("control API");
    assert_eq!(set.status(), 200);
    let page = graph.users().list().top(5).send().await.expect("retried past the throttling");
    assert_eq!(page.value.len(), 1, "the admin");
    let left: serde_json::Value = reqwest::get(&faults).await.expect("control API").json().await.expect("json");
    assert!(left["rules"].as_array().expect("rules").is_empty(), "both 429s were served");
}
