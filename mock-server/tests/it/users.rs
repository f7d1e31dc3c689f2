//! Users: create, read, update, delete, restore.

use serde_json::json;

use crate::support::{env, new_user};

#[tokio::test]
async fn create_returns_201_with_the_default_property_set_as_graph_does() {
    let env = env().await;
    let mut body = new_user(&env.upn("mira"), "Mira Okafor");
    body["usageLocation"] = json!("SE");
    body["@odata.type"] = json!("#microsoft.graph.user");
    let r = env.post("/users", &body).await;
    assert_eq!(r.status, 201);
    assert!(r.header("location").is_some_and(|l| l.contains("/directoryObjects/")));
    assert!(r.header("content-type").unwrap().starts_with("application/json;odata.metadata=minimal"));
    insta::assert_json_snapshot!(env.normalize(r.json()), { ".id" => "[id]" });
}

#[tokio::test]
async fn get_by_id_and_by_upn_in_any_case_return_the_same_user() {
    let env = env().await;
    let id = env.create_user("tomas", "Tomas Lind").await;
    let by_id = env.get(&format!("/users/{id}")).await;
    let by_upn = env.get(&format!("/users/{}", env.upn("TOMAS"))).await;
    assert_eq!(by_id.status, 200);
    assert_eq!(by_id.json(), by_upn.json());
    insta::assert_json_snapshot!(env.normalize(by_id.json()), { ".id" => "[id]" });
}

#[tokio::test]
async fn get_with_select_returns_only_the_selected_properties() {
    let env = env().await;
    let id = env.create_user("ana", "Ana Silva").await;
    let patch = env.patch(&format!("/users/{id}"), &json!({"usageLocation": "AU", "mail": "ana@example.com"})).await;
    assert_eq!(patch.status, 204);
    let r = env.get(&format!("/users/{id}?$select=displayName,mail,usageLocation,proxyAddresses,accountEnabled")).await;
    assert_eq!(r.status, 200);
    insta::assert_json_snapshot!(env.normalize(r.json()));
}

#[tokio::test]
async fn patch_answers_204_without_a_body_and_the_change_is_visible() {
    let env = env().await;
    let id = env.create_user("lee", "Lee Chan").await;
    let r = env.patch(&format!("/users/{id}"), &json!({"displayName": "Lee Chan-Wu", "jobTitle": "Engineer"})).await;
    assert_eq!(r.status, 204);
    assert!(r.text.is_empty());
    assert!(r.header("content-type").is_none());
    let got = env.get(&format!("/users/{id}")).await.json();
    assert_eq!(got["displayName"], "Lee Chan-Wu");
    assert_eq!(got["jobTitle"], "Engineer");
}

#[tokio::test]
async fn patch_of_a_read_only_property_is_refused_and_nothing_is_applied() {
    let env = env().await;
    let id = env.create_user("ro", "Read Only").await;
    let r = env
        .patch(&format!("/users/{id}"), &json!({"displayName": "Changed", "proxyAddresses": ["SMTP:x@example.com"]}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "Request_BadRequest");
    assert_eq!(r.error_message(), "Property 'proxyAddresses' is read-only and cannot be set.");
    assert_eq!(env.get(&format!("/users/{id}")).await.json()["displayName"], "Read Only");
}

#[tokio::test]
async fn patch_with_an_unknown_property_is_refused() {
    let env = env().await;
    let id = env.create_user("unk", "Unknown Prop").await;
    let r = env.patch(&format!("/users/{id}"), &json!({"favouriteColour": "green"})).await;
    assert_eq!(r.status, 400);
    insta::assert_json_snapshot!(r.json(), { ".error.innerError" => "[inner]" });
}

#[tokio::test]
async fn patch_with_a_wrongly_typed_value_is_refused() {
    let env = env().await;
    let id = env.create_user("typ", "Typed").await;
    let r = env.patch(&format!("/users/{id}"), &json!({"accountEnabled": "yes"})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "BadRequest");
}

#[tokio::test]
async fn duplicate_upn_is_refused_with_graphs_message_and_object_conflict_detail() {
    let env = env().await;
    env.create_user("dup", "First").await;
    let r = env.post("/users", &new_user(&env.upn("DUP"), "Second")).await;
    assert_eq!(r.status, 400);
    insta::assert_json_snapshot!(r.json(), { ".error.innerError" => "[inner]" });
}

#[tokio::test]
async fn concurrent_creates_of_one_upn_give_one_201_and_49_refusals() {
    let env = std::sync::Arc::new(env().await);
    let mut tasks = Vec::new();
    for i in 0..50 {
        let env = env.clone();
        tasks.push(tokio::spawn(async move {
            env.post("/users", &new_user(&env.upn("race"), &format!("Racer {i}"))).await
        }));
    }
    let mut created = 0;
    let mut refused = 0;
    for t in tasks {
        let r = t.await.expect("task ran");
        match r.status {
            201 => created += 1,
            400 => {
                assert_eq!(
                    r.error_message(),
                    "Another object with the same value for property userPrincipalName already exists."
                );
                refused += 1;
            }
            other => panic!("unexpected {other}: {}", r.text),
        }
    }
    assert_eq!((created, refused), (1, 49));
}

#[tokio::test]
async fn upn_in_an_unverified_domain_is_refused() {
    let env = env().await;
    let r = env.post("/users", &new_user("x@not-ours.example", "Outsider")).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.error_message(),
        "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization."
    );
}

#[tokio::test]
async fn missing_required_property_names_it() {
    let env = env().await;
    let mut body = new_user(&env.upn("nodisp"), "x");
    body.as_object_mut().unwrap().remove("displayName");
    let r = env.post("/users", &body).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_message(), "A value is required for property 'displayName' of resource 'User'.");
}

#[tokio::test]
async fn weak_password_is_refused_with_the_complexity_message() {
    let env = env().await;
    let mut body = new_user(&env.upn("weak"), "Weak");
    body["passwordProfile"]["password"] = json!("password");
    let r = env.post("/users", &body).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.error_message(),
        "The specified password does not comply with password complexity requirements. Please provide a different password."
    );
}

#[tokio::test]
async fn mail_is_unique_across_the_tenants_proxy_addresses() {
    let env = env().await;
    let a = env.create_user("pa", "Proxy A").await;
    let b = env.create_user("pb", "Proxy B").await;
    assert_eq!(env.patch(&format!("/users/{a}"), &json!({"mail": "shared@example.com"})).await.status, 204);
    let r = env.patch(&format!("/users/{b}"), &json!({"mail": "SHARED@example.com"})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_message(), "Another object with the same value for property proxyAddresses already exists.");
}

#[tokio::test]
async fn password_is_never_returned() {
    let env = env().await;
    let id = env.create_user("pw", "Password").await;
    let r = env.get(&format!("/users/{id}?$select=passwordProfile")).await;
    assert!(!r.text.contains("Vk3#pL9!wQz2"));
}

#[tokio::test]
async fn delete_is_soft_and_restore_brings_the_user_back() {
    let env = env().await;
    let id = env.create_user("gone", "Gone Soon").await;
    assert_eq!(env.delete(&format!("/users/{id}")).await.status, 204);
    assert_eq!(env.get(&format!("/users/{id}")).await.status, 404);

    let deleted = env.get("/directory/deletedItems/microsoft.graph.user").await;
    assert_eq!(deleted.status, 200);
    insta::assert_json_snapshot!(env.normalize(deleted.json()), { ".value[].id" => "[id]" });

    let restored = env.post(&format!("/directory/deletedItems/{id}/restore"), &json!({})).await;
    assert_eq!(restored.status, 200);
    assert_eq!(restored.json()["@odata.type"], "#microsoft.graph.user");
    assert_eq!(env.get(&format!("/users/{id}")).await.status, 200);
}

#[tokio::test]
async fn permanent_delete_removes_the_user_from_deleted_items() {
    let env = env().await;
    let id = env.create_user("perm", "Permanent").await;
    assert_eq!(env.delete(&format!("/users/{id}")).await.status, 204);
    assert_eq!(env.get(&format!("/directory/deletedItems/{id}")).await.status, 200);
    assert_eq!(env.delete(&format!("/directory/deletedItems/{id}")).await.status, 204);
    assert_eq!(env.get(&format!("/directory/deletedItems/{id}")).await.status, 404);
    assert_eq!(env.post(&format!("/directory/deletedItems/{id}/restore"), &json!({})).await.status, 404);
}

#[tokio::test]
async fn restore_is_refused_when_the_upn_was_taken_meanwhile() {
    let env = env().await;
    let id = env.create_user("taken", "Original").await;
    env.delete(&format!("/users/{id}")).await;
    env.create_user("taken", "Newcomer").await;
    let r = env.post(&format!("/directory/deletedItems/{id}/restore"), &json!({})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_message(), "Another object with the same value for property userPrincipalName already exists.");
}

#[tokio::test]
async fn success_responses_carry_the_headers_graph_sets_and_echo_client_request_id() {
    let env = env().await;
    let id = env.create_user("hedda", "Hedda Berg").await;
    let r = env.get(&format!("/users/{id}")).await;
    assert_eq!(r.status, 200);
    // as Graph documents them, in Graph's order of importance to clients.
    assert_eq!(
        r.header("content-type"),
        Some("application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
    );
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    assert_eq!(r.header("strict-transport-security"), Some("max-age=31536000"));
    assert_eq!(r.header("odata-version"), Some("4.0"));
    assert_eq!(r.header("x-ms-resource-unit"), Some("1"));
    let diagnostic: serde_json::Value = serde_json::from_str(r.header("x-ms-ags-diagnostic").unwrap()).unwrap();
    assert!(diagnostic["ServerInfo"]["DataCenter"].is_string());
    let request_id = r.header("request-id").unwrap();
    assert!(uuid::Uuid::parse_str(request_id).is_ok_and(|u| u.hyphenated().to_string() == request_id));
    assert_eq!(r.header("client-request-id"), Some(request_id), "without one from the caller it is the request id");
    // The tenant's clock, not the host's.
    assert_eq!(r.header("date"), Some("Mon, 02 Mar 2026 10:00:00 GMT"));

    let sent = env
        .send(
            env.http
                .get(env.url(&format!("/users/{id}")))
                .bearer_auth(&env.token)
                .header("client-request-id", "c0ffee-42"),
        )
        .await;
    assert_eq!(sent.header("client-request-id"), Some("c0ffee-42"));
    assert_ne!(sent.header("request-id"), Some(request_id), "each request has its own id");

    let no_content = env.patch(&format!("/users/{id}"), &json!({"jobTitle": "Cartographer"})).await;
    assert_eq!(no_content.status, 204);
    assert_eq!(no_content.header("content-type"), None, "204 has no body and no content type");
    assert!(no_content.header("request-id").is_some());

    // The date follows the tenant clock when it moves, even within one host second.
    let advance = format!("{}/tenants/{}/clock/advance", env.mock.control_url(), env.mock.tenant_id());
    env.http.post(&advance).json(&json!({"seconds": 120})).send().await.unwrap();
    let later = env.get(&format!("/users/{id}")).await;
    assert_eq!(later.status, 200);
    assert_eq!(later.header("date"), Some("Mon, 02 Mar 2026 10:02:00 GMT"));
}
