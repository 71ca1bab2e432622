//! The HTTP API (`/api/v1`): tokens, every answer, idempotency and storm control, with mail
//! delivered to the real SMTP peer.

use crate::helpers::{newest_message, peer, peer_form, save_settings, spawn_app, until, ApiReply, TestApp};
use app::domain::MailServerForm;
use app::outbox::State;
use serde_json::{json, Value};
use server::api::{Accepted, AlertAction, AlertAnswer, ErrorBody, MessageView};

fn mail(to: &[&str]) -> Value {
    json!({ "to": to, "subject": "Nightly backup finished", "text": "All 42 databases were backed up." })
}

async fn send(app: &TestApp, token: &str, body: Value) -> ApiReply {
    app.api("POST", "/api/v1/messages", Some(token), Some(body)).await
}

/// The answer as the API's own type: a field renamed or retyped fails here.
fn decode<T: serde::de::DeserializeOwned>(reply: &ApiReply) -> T {
    serde_json::from_value(reply.json.clone()).unwrap_or_else(|e| panic!("{e}: {reply:?}"))
}

fn ids(reply: &ApiReply) -> Vec<u64> {
    decode::<Accepted>(reply).messages.iter().map(|m| m.id).collect()
}

async fn stored(app: &TestApp) -> usize {
    app.store.count_by_state().await.unwrap().iter().map(|(_, n)| n).sum()
}

#[tokio::test]
async fn a_message_is_queued_durably_delivered_and_its_state_readable() {
    let app = spawn_app().await;
    save_settings(&app, &peer_form("plain")).await;
    let token = app.api_token("backup job").await;
    let reply = send(&app, &token, mail(&["ops@example.com", "dba@example.com"])).await;
    assert_eq!(reply.status, 202, "{reply:?}");
    let accepted: Accepted = decode(&reply);
    assert!(!accepted.replayed);
    let to: Vec<&str> = accepted.messages.iter().map(|m| m.to.as_str()).collect();
    assert_eq!(to, ["ops@example.com", "dba@example.com"]);
    let ids = ids(&reply);

    peer().wait_for_mail("All 42 databases were backed up.", "dba@example.com").await;
    let ids = &ids;
    let app = &app;
    until(&app.ctx.outbox, "both sent", || async move {
        for id in ids {
            if app.store.message(*id).await.unwrap().unwrap().state != State::Sent {
                return None;
            }
        }
        Some(())
    })
    .await;
    let reply = app.api("GET", &format!("/api/v1/messages/{}", ids[0]), Some(&token), None).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let message: MessageView = decode(&reply);
    assert_eq!((message.state.as_str(), message.to.as_str()), ("sent", "ops@example.com"));
    assert_eq!(message.attempts[0].code, Some(250));
    assert!(message.attempts[0].text.contains("queued as"), "{message:?}");

    // The token's use is noted for the API Tokens page.
    let noted = app.store.tokens().await.unwrap().into_iter().find(|t| t.name == "backup job").unwrap();
    assert!(noted.last_used.is_some());
}

#[tokio::test]
async fn bad_requests_name_what_to_fix_and_queue_nothing() {
    let app = spawn_app().await;
    save_settings(&app, &peer_form("plain")).await;
    let token = app.api_token("t").await;
    let reply = send(
        &app,
        &token,
        json!({ "to": ["ok@example.com", "not an address"], "subject": "Hi\r\nBcc: victim@example.com", "text": "x" }),
    )
    .await;
    assert_eq!(reply.status, 400, "{reply:?}");
    let refused: ErrorBody = decode(&reply);
    let fields: Vec<&str> = refused.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["to[1]", "subject"]);

    let many: Vec<String> = (0..10_000).map(|i| format!("user{i}@example.com")).collect();
    let reply = send(&app, &token, json!({ "to": many, "subject": "s", "text": "t" })).await;
    assert_eq!(reply.status, 400, "{reply:?}");
    assert!(reply.json["fields"][0]["message"].as_str().unwrap().contains("At most 100 recipients"));

    let reply = send(&app, &token, json!({ "to": ["a@example.com"], "subject": "s", "text": "t", "bcc": ["x@example.com"] })).await;
    assert_eq!(reply.status, 400);
    assert!(reply.json["error"].as_str().unwrap().contains("unknown field `bcc`"), "{reply:?}");

    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/messages", app.url);
    let malformed = client.post(&url).bearer_auth(&token).header("content-type", "application/json").body("{\"to\": [").send().await.unwrap();
    assert_eq!(malformed.status(), 400);
    let not_json = client.post(&url).bearer_auth(&token).body("to=a@example.com").send().await.unwrap();
    assert_eq!(not_json.status(), 415);
    let huge = client
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(format!("{{\"to\":[\"a@example.com\"],\"subject\":\"s\",\"text\":\"{}\"}}", "x".repeat(700 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);
    let reply = app.api("GET", "/api/v1/messages/abc", Some(&token), None).await;
    assert_eq!(reply.status, 400);
    let reply = app.api("GET", "/api/v1/nothing", Some(&token), None).await;
    assert_eq!(reply.status, 404);
    assert_eq!(stored(&app).await, 0, "nothing half-saved");
}

#[tokio::test]
async fn tokens_are_required_revocable_and_see_only_their_own_messages() {
    let app = spawn_app().await;
    save_settings(&app, &peer_form("plain")).await;
    let reply = app.api("POST", "/api/v1/messages", None, Some(mail(&["a@example.com"]))).await;
    assert_eq!(reply.status, 401);
    let reply = send(&app, "not-a-token", mail(&["a@example.com"])).await;
    assert_eq!(reply.status, 401);

    let (mine, other) = (app.api_token("mine").await, app.api_token("other").await);
    let id = ids(&send(&app, &mine, mail(&["a@example.com"])).await)[0];
    let reply = app.api("GET", &format!("/api/v1/messages/{id}"), Some(&other), None).await;
    assert_eq!(reply.status, 404, "another token's message is not shown");

    let record = app.store.tokens().await.unwrap().into_iter().find(|t| t.name == "mine").unwrap();
    app.store.revoke_token(record.id, "test").await.unwrap().unwrap();
    let reply = send(&app, &mine, mail(&["a@example.com"])).await;
    assert_eq!(reply.status, 401);
    assert!(reply.json["error"].as_str().unwrap().contains("revoked"));
}

#[tokio::test]
async fn an_idempotency_key_answers_its_first_messages_for_its_own_token() {
    let app = spawn_app().await;
    save_settings(&app, &peer_form("plain")).await;
    let (a, b) = (app.api_token("a").await, app.api_token("b").await);
    let body = json!({ "to": ["x@example.com"], "subject": "s", "text": "t", "idempotency_key": "job-7" });
    let first = send(&app, &a, body.clone()).await;
    let again = send(&app, &a, body.clone()).await;
    assert_eq!((first.status, again.status), (202, 202));
    assert_eq!(ids(&first), ids(&again));
    assert!(decode::<Accepted>(&again).replayed);
    let other = send(&app, &b, body).await;
    assert_ne!(ids(&other), ids(&first), "keys are per token");
    assert_eq!(stored(&app).await, 2);
}

#[tokio::test]
async fn a_token_over_its_rate_waits_with_retry_after() {
    let app = spawn_app().await;
    let token = app.api_token("busy").await;
    let limit = server::api::ApiSettings::default().requests_per_minute;
    for _ in 0..limit {
        let reply = app.api("GET", "/api/v1/messages/1", Some(&token), None).await;
        assert_eq!(reply.status, 404);
    }
    let reply = app.api("GET", "/api/v1/messages/1", Some(&token), None).await;
    assert_eq!(reply.status, 429, "{reply:?}");
    assert!(reply.retry_after.is_some_and(|s| (1..=60).contains(&s)), "{reply:?}");
    let fresh = app.api_token("other").await;
    assert_eq!(app.api("GET", "/api/v1/messages/1", Some(&fresh), None).await.status, 404);
}

#[tokio::test]
async fn without_settings_or_while_paused_the_api_says_why_with_503() {
    let app = spawn_app().await;
    let token = app.api_token("t").await;
    let reply = send(&app, &token, mail(&["a@example.com"])).await;
    assert_eq!(reply.status, 503);
    assert!(reply.json["error"].as_str().unwrap().contains("No mail server"), "{reply:?}");

    let wrong = MailServerForm {
        password: "wrong-password".into(),
        ..peer_form("plain")
    };
    save_settings(&app, &wrong).await;
    assert_eq!(send(&app, &token, mail(&["a@example.com"])).await.status, 202);
    until(&app.ctx.outbox, "the pause", || app.ctx.outbox.paused()).await;
    let reply = send(&app, &token, mail(&["a@example.com"])).await;
    assert_eq!(reply.status, 503, "{reply:?}");
    assert!(reply.retry_after.is_some());
    assert!(reply.json["error"].as_str().unwrap().contains("paused"), "{reply:?}");
}

fn alert(state: &str) -> Value {
    json!({
        "alert_key": "disk:db-1", "title": "Disk almost full on db-1", "severity": "critical",
        "state": state, "value": 93.5, "threshold": 90, "link": "https://grafana.example.com/d/disk",
        "recipients": ["oncall@example.com"]
    })
}

#[tokio::test]
async fn alerts_are_rendered_and_storm_controlled() {
    let app = spawn_app().await;
    save_settings(&app, &peer_form("plain")).await;
    let token = app.api_token("grafana").await;
    let post = |state: &'static str| {
        let (app, token) = (&app, token.clone());
        async move { app.api("POST", "/api/v1/alerts", Some(&token), Some(alert(state))).await }
    };

    let first = post("firing").await;
    assert_eq!(first.status, 202, "{first:?}");
    assert!(matches!(&decode::<AlertAnswer>(&first).results[..], [AlertAction::Queued { to, .. }] if to == "oncall@example.com"));
    let text = peer().wait_for_mail("Value: 93.5 (threshold: 90)", "oncall@example.com").await;
    assert!(text.contains("Subject: [FIRING] Disk almost full on db-1"), "{text}");
    assert!(text.contains("multipart/alternative") && text.contains("text/html"), "{text}");

    let again = post("firing").await;
    assert_eq!(again.status, 200, "{again:?}");
    assert!(matches!(&decode::<AlertAnswer>(&again).results[..], [AlertAction::Suppressed { until: Some(_), .. }]), "{again:?}");

    let resolved = post("resolved").await;
    assert_eq!(resolved.status, 202);
    let [AlertAction::Queued { id: resolved_id, .. }] = decode::<AlertAnswer>(&resolved).results[..] else {
        panic!("the resolution is mailed: {resolved:?}");
    };
    let m = newest_message(&app, |m| m.id == resolved_id && m.state == State::Sent).await;
    assert_eq!(m.subject, "[RESOLVED] Disk almost full on db-1");

    let twice = post("resolved").await;
    assert_eq!(twice.json["results"][0]["action"], "suppressed");
    let bad = app
        .api("POST", "/api/v1/alerts", Some(&token), Some(json!({ "alert_key": "k", "title": "t", "severity": "fatal", "state": "firing", "recipients": [] })))
        .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn the_openapi_document_describes_these_routes_and_its_examples_are_accepted() {
    let app = spawn_app().await;
    let res = reqwest::get(format!("{}/api/v1/openapi.json", app.url)).await.unwrap();
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    let mut paths: Vec<&str> = doc["paths"].as_object().unwrap().keys().map(String::as_str).collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "/api/v1/alerts",
            "/api/v1/messages",
            "/api/v1/messages/{id}",
            "/api/v1/openapi.json",
            "/api/v1/webhooks/alertmanager",
            "/api/v1/webhooks/grafana",
            "/api/v1/webhooks/uptime-kuma",
            "/api/v1/webhooks/zabbix"
        ]
    );
    save_settings(&app, &peer_form("plain")).await;
    let token = app.api_token("docs").await;
    for (path, op) in [("/api/v1/messages", "post"), ("/api/v1/alerts", "post")] {
        let example = doc["paths"][path][op]["requestBody"]["content"]["application/json"]["example"].clone();
        let reply = app.api("POST", path, Some(&token), Some(example)).await;
        assert_eq!(reply.status, 202, "{path}: {reply:?}");
        for status in ["400", "401", "413", "429", "503"] {
            assert!(doc["paths"][path][op]["responses"][status].is_object(), "{path} {status}");
        }
    }
}
