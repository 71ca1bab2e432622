//! Several instances of the app on one PostgreSQL database, as behind a load balancer: what one
//! instance does, the others see; their outboxes drain one queue between them, each message
//! once.

use crate::helpers::*;
use app::{outbox::State, store::NewMessage};
use std::{collections::HashMap, sync::Arc};

/// Waits until `check` finds what it looks for, looking again after each round of any
/// instance's outbox worker (bounded: 20 s).
async fn until_any<T, F: std::future::Future<Output = Option<T>>>(
    apps: &[TestApp],
    what: &str,
    mut check: impl FnMut() -> F,
) -> T {
    let mut rounds: Vec<_> = apps.iter().map(|a| a.ctx.outbox.rounds()).collect();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        for r in &mut rounds {
            r.borrow_and_update();
        }
        if let Some(found) = check().await {
            return found;
        }
        let any = futures_util::future::select_all(rounds.iter_mut().map(|r| Box::pin(r.changed())));
        tokio::time::timeout_at(deadline, any)
            .await
            .unwrap_or_else(|_| panic!("still waiting for {what}"))
            .0
            .unwrap();
    }
}

#[tokio::test]
async fn a_login_on_one_instance_is_valid_on_the_other_and_a_logout_ends_it_on_both() {
    let apps = spawn_instances(2).await;
    // One browser: the balancer sends its requests to either instance.
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let (to_a, to_b) = (client_with(&apps[0].url, jar.clone()), client_with(&apps[1].url, jar));
    assert!(apps[1].call_as(&to_b, app::api::mail::LoadMailSettings {}).await.is_err(), "not logged in yet");
    apps[0]
        .call_as(&to_a, app::api::auth::Login { email: ADMIN.into(), password: ADMIN_PASSWORD.into(), next: None })
        .await
        .unwrap();
    apps[1]
        .call_as(&to_b, app::api::mail::LoadMailSettings {})
        .await
        .expect("the session made on one instance is valid on the other");
    apps[1].call_as(&to_b, app::api::auth::Logout {}).await.unwrap();
    assert!(apps[0].call_as(&to_a, app::api::mail::LoadMailSettings {}).await.is_err(), "ended everywhere");
}

#[tokio::test]
async fn two_instances_drain_one_queue_and_send_each_message_once() {
    let apps = spawn_instances(2).await;
    apps[0].login(ADMIN, ADMIN_PASSWORD).await.unwrap();
    save_settings(&apps[0], &peer_form("plain")).await;
    let tag = format!("drain{}", std::process::id());
    let messages: Vec<NewMessage> = (0..60)
        .map(|i| NewMessage {
            to: format!("{tag}-{i}@example.com"),
            subject: format!("{tag} {i}"),
            body: app::store::MailBody { text: format!("{tag} message {i}"), html: None },
            priority: app::outbox::Priority::Normal,
            expires_at: None,
            origin: Default::default(),
        })
        .collect();
    // Queued in batches on both instances, as their API callers would.
    let mut ids = Vec::new();
    for (i, batch) in messages.chunks(10).enumerate() {
        let on = &apps[i % 2];
        ids.extend_from_slice(on.store.enqueue(batch.to_vec(), None, app::clock::now_unix()).await.unwrap().ids());
    }
    let sent = until_any(&apps, "every message sent", || async {
        let mut all = Vec::new();
        for id in &ids {
            let m = apps[1].store.message(*id).await.unwrap().unwrap();
            if m.state != State::Sent {
                return None;
            }
            all.push(m);
        }
        Some(all)
    })
    .await;
    for m in &sent {
        assert_eq!(m.attempts.len(), 1, "one attempt each: {m:?}");
    }
    // The server received each once.
    let mut received: HashMap<String, usize> = HashMap::new();
    for entry in std::fs::read_dir(&peer().spool).unwrap().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        if let Some(to) = text.lines().find_map(|l| l.strip_prefix("To: ")).filter(|to| to.starts_with(&tag)) {
            *received.entry(to.trim().to_string()).or_default() += 1;
        }
    }
    assert_eq!(received.len(), 60, "{received:?}");
    assert!(received.values().all(|n| *n == 1), "{received:?}");
}

#[tokio::test]
async fn a_refused_password_on_one_instance_pauses_every_instance() {
    let apps = spawn_instances(2).await;
    apps[0].login(ADMIN, ADMIN_PASSWORD).await.unwrap();
    let wrong = app::domain::MailServerForm { password: "wrong-password".into(), ..peer_form("plain") };
    save_settings(&apps[0], &wrong).await;
    apps[0]
        .store
        .enqueue(vec![NewMessage {
            to: "ops@example.com".into(),
            subject: "paused".into(),
            body: app::store::MailBody { text: "paused".into(), html: None },
            priority: app::outbox::Priority::Normal,
            expires_at: None,
            origin: Default::default(),
        }], None, app::clock::now_unix())
        .await
        .unwrap();
    let pause = until_any(&apps, "the other instance paused", || async { apps[1].ctx.outbox.paused().await }).await;
    assert!(pause.reason.contains("535"), "{pause:?}");
    // Fixed on the other instance: both resume, and the message goes out.
    apps[1].login(ADMIN, ADMIN_PASSWORD).await.unwrap();
    save_settings(&apps[1], &peer_form("plain")).await;
    until_any(&apps, "sent", || async {
        let m = apps[0].store.recent_messages(1).await.unwrap().pop()?;
        (m.state == State::Sent).then_some(m)
    })
    .await;
    assert!(apps[0].ctx.outbox.paused().await.is_none());
}

#[tokio::test]
async fn postgresql_restarted_under_load_is_503_while_away_and_then_everything_resumes() {
    let cluster = testpg::Cluster::start();
    let apps = spawn_instances_on(&cluster.database(), 1).await;
    let app = &apps[0];
    app.login(ADMIN, ADMIN_PASSWORD).await.unwrap();
    save_settings(app, &peer_form("plain")).await;
    let token = app.api_token("during restart").await;
    let mail = |subject: &str| {
        serde_json::json!({ "to": ["ops@example.com"], "subject": subject, "text": "restart" })
    };
    let before = app.api("POST", "/api/v1/messages", Some(&token), Some(mail("before"))).await;
    assert_eq!(before.status, 202, "{before:?}");

    cluster.stop();
    let away = app.api("POST", "/api/v1/messages", Some(&token), Some(mail("away"))).await;
    assert_eq!((away.status, away.retry_after), (503, Some(5)), "{away:?}");
    let page = app.load().await;
    assert!(matches!(page, Err(app::error::AppError::Unavailable { .. })), "the pages too: {page:?}");

    cluster.start_server();
    // The pool replaces the connections the restart ended: within a few requests, without a
    // restart of Mailroom.
    let after = until_any(&apps, "accepted after the restart", || async {
        let reply = app.api("POST", "/api/v1/messages", Some(&token), Some(mail("after"))).await;
        (reply.status == 202).then_some(reply)
    })
    .await;
    let id = after.json["messages"][0]["id"].as_u64().unwrap();
    until_any(&apps, "the worker sends again by itself", || async {
        let m = app.store.message(id).await.ok()??;
        (m.state == State::Sent).then_some(m)
    })
    .await;
    let before_id = before.json["messages"][0]["id"].as_u64().unwrap();
    assert_eq!(app.store.message(before_id).await.unwrap().unwrap().state, State::Sent, "nothing acknowledged lost");
}
