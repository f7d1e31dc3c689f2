//! What a caller writes: builders awaited directly, ids from strings, matchable error codes,
//! tokens handed out, delta page sizes.

use graphbox_sdk::auth::{ClientSecretCredential, TokenCredential, GRAPH_DEFAULT_SCOPE};
use graphbox_sdk::error::{Error, ErrorCode};
use graphbox_sdk::models::User;

use crate::mock_users::{client_for, plain_mock};

#[tokio::test]
async fn request_builders_are_awaited_directly_without_send() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    let upn = format!("ada@{}", mock.tenant_domain());
    let created = graph.users().create(User::new("Ada", "ada", &upn, "Vk3#pL9!wQz2")).await.expect("create");
    let id = created.id.expect("id");
    // An id from a `String`, a `&String` and the model's own id type.
    let by_string = graph.users().get(id.to_string()).await.expect("get by String");
    let text = id.to_string();
    let by_ref = graph.users().get(&text).await.expect("get by &String");
    let by_id = graph.users().get(&id).await.expect("get by &UserId");
    assert_eq!((by_string.id, by_ref.id), (by_id.id.clone(), by_id.id));
    let page = graph.users().list().top(5).await.expect("list");
    assert!(!page.value.is_empty());
    graph.users().delete(id).await.expect("delete");
}

#[tokio::test]
async fn a_missing_user_is_a_matchable_error_code_and_its_display_says_everything() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    let err = graph.users().get(uuid::Uuid::nil()).await.expect_err("404");
    match &err {
        Error::Api(e) if e.code == ErrorCode::RequestResourceNotFound => {}
        other => panic!("expected Request_ResourceNotFound, got {other:?}"),
    }
    let line = err.to_string();
    assert!(line.contains("404 Request_ResourceNotFound: "), "{line}");
    assert!(line.contains("(request-id "), "{line}");
    let graph_error = err.into_graph_error().expect("api error");
    assert_eq!(graph_error.status, 404);
}

#[tokio::test]
async fn a_client_secret_credential_hands_out_a_token_on_its_own_and_through_the_client() {
    let mock = plain_mock().await;
    let credential = ClientSecretCredential::new(mock.client_id(), mock.client_secret())
        .authority(mock.authority(), mock.tenant_id());
    let token = credential.token().await.expect("token");
    assert_eq!(token.split('.').count(), 3, "a compact JWS");
    let via_trait = TokenCredential::get_token(&credential, &[GRAPH_DEFAULT_SCOPE]).await.expect("token");
    assert!(!via_trait.token.is_empty());
    let no_endpoint = ClientSecretCredential::new(mock.client_id(), mock.client_secret());
    let refused = no_endpoint.token().await.expect_err("no authority");
    assert!(refused.to_string().contains(".authority("), "{refused}");

    let graph = client_for(&mock);
    let from_client = graph.access_token().await.expect("client token");
    assert_eq!(from_client.token.split('.').count(), 3);
    // The client's own token is the one it sends: Graph accepts it.
    graph.users().list().top(1).await.expect("listed with that token");
}

#[tokio::test]
async fn delta_page_size_is_sent_as_prefer_maxpagesize_on_every_page() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    for i in 0..5 {
        let upn = format!("d{i}@{}", mock.tenant_domain());
        graph
            .users()
            .create(User::new(&format!("D {i}"), &format!("d{i}"), &upn, "Vk3#pL9!wQz2"))
            .await
            .expect("create");
    }
    let round = graph.users().delta().page_size(2).await.expect("delta");
    assert!(round.changes.len() >= 5, "every user is in the first round");
    assert!(round.delta_link.is_some());
    let pages = mock.requests().iter().filter(|r| r.path.ends_with("/users/delta")).count();
    assert!(pages >= 3, "5+ users at 2 a page take 3+ pages, saw {pages}");
}

#[tokio::test]
async fn a_duplicate_upn_among_users_built_in_code_names_their_positions_not_row_0() {
    use graphbox_sdk::provisioning::{Action, Attribute, Provisioner, SourceUser};
    let mock = plain_mock().await;
    let upn = format!("twin@{}", mock.tenant_domain());
    let source = [
        SourceUser::new(&format!("first@{}", mock.tenant_domain())).with(Attribute::DisplayName, "First"),
        SourceUser::new(&upn).with(Attribute::DisplayName, "Twin"),
        SourceUser::new(&upn).with(Attribute::DisplayName, "Twin again"),
    ];
    let plan = Provisioner::new(client_for(&mock)).plan(&source).await.expect("plan");
    let refused = &plan.entries[2];
    assert_eq!(refused.row, 3);
    match &refused.action {
        Action::Refused { reason } => assert_eq!(reason, "duplicate UPN: row 2 has the same one"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}
