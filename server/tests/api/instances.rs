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
            body: app::store::MailBody { text: format!("{tag} message {i}"), html: None, thread: None, raw: None },
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
            body: app::store::MailBody { text: "paused".into(), html: None, thread: None, raw: None },
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

/// Every connection of an instance's pool busy (here: waiting on a lock another session holds):
/// further requests wait the pool's bound, then get 503 with Retry-After; none hangs, and once
/// the lock goes everything answers again.
#[tokio::test]
async fn an_exhausted_pool_is_503_after_a_bounded_wait_and_never_a_hang() {
    use futures_util::StreamExt;
    let cluster = testpg::Cluster::shared();
    let url = cluster.database();
    let wait = std::time::Duration::from_secs(1);
    let options = app::store::PostgresOptions { pool_size: 2, pool_wait: wait, ..Default::default() };
    let app = spawn_instance(&url, options, true, Tuning::default()).await;
    app.login(ADMIN, ADMIN_PASSWORD).await.unwrap();
    let token = app.api_token("pool").await;
    // Noted as used now, so no request below spawns that note: a note waiting on the lock
    // would hold one of the two connections, and the count below would be off by one.
    let hash = app::auth::token_hash(&token);
    app.store.touch_token(&hash, app::clock::now_unix()).await.unwrap();
    assert_eq!(app.api("GET", "/api/v1/messages/1", Some(&token), None).await.status, 404);

    // Each request checks its token: with the tokens' table locked, the first two wait on the
    // lock, each holding one of the two connections; the others find none free.
    let held = cluster.hold(&url, "LOCK TABLE api_tokens IN ACCESS EXCLUSIVE MODE;");
    let started = std::time::Instant::now();
    let mut requests: futures_util::stream::FuturesUnordered<_> = (0..6)
        .map(|_| async { (app.api("GET", "/api/v1/messages/1", Some(&token), None).await, started.elapsed()) })
        .collect();
    let mut refused = Vec::new();
    while refused.len() < 4 {
        let (reply, after) = tokio::time::timeout(std::time::Duration::from_secs(10), requests.next())
            .await
            .expect("an answer within the pool's wait, not a hang")
            .unwrap();
        assert_eq!((reply.status, reply.retry_after), (503, Some(5)), "{:?}", reply.json);
        assert!(reply.json["error"].as_str().unwrap().contains("unavailable for a moment"), "{:?}", reply.json);
        refused.push(after);
    }
    let slowest = refused.iter().max().unwrap();
    assert!(*slowest >= wait && *slowest < wait * 5, "refused after {refused:?}");
    drop(held);
    for _ in 0..2 {
        let (reply, _) = tokio::time::timeout(std::time::Duration::from_secs(10), requests.next())
            .await
            .expect("the waiting two answer once the lock is gone")
            .unwrap();
        assert_eq!(reply.status, 404, "no such message: {:?}", reply.json);
    }
    assert_eq!(app.api("GET", "/api/v1/messages/1", Some(&token), None).await.status, 404);
}

/// A mailbox's OAuth2 sign-in started on one instance and, as the balancer sends the
/// provider's redirect back wherever it likes, finished on the other: the sign-in under way
/// (its PKCE verifier, sealed) is in the store, and the connection is then every instance's.
#[tokio::test]
async fn a_mailbox_sign_in_started_on_one_instance_finishes_on_the_other() {
    use crate::oauth_mailbox::{cross_site_browser, get, mailbox_form};
    let url = testpg::Cluster::shared().database();
    let options = app::store::PostgresOptions { pool_size: 6, ..Default::default() };
    let a = spawn_instance(&url, options, true, Tuning::default()).await;
    // Both behind one public URL (here: the first's), as behind one balancer.
    let b = spawn_instance(&url, options, false, Tuning { public_url: Some(a.url.clone()), ..Default::default() }).await;
    a.login(ADMIN, ADMIN_PASSWORD).await.unwrap();
    save_settings(&a, &mailbox_form("app-mailbox")).await;

    let (status, provider, body) = get(&a.client, &format!("{}/oauth/start", a.url), &[("sec-fetch-site", "same-origin")]).await;
    assert_eq!(status, 303, "{body}");
    let (status, callback, body) = get(&cross_site_browser(), &provider, &[]).await;
    assert_eq!(status, 302, "{body}");
    let to_b = callback.replacen(&a.url, &b.url, 1);
    assert_ne!(to_b, callback);
    let (status, _, page) = get(&cross_site_browser(), &to_b, &[]).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("alerts@example.com</strong> is connected"), "{page}");

    let view = a.load().await.unwrap();
    let (account, _, by) = view.mailbox.unwrap().connected.expect("connected, seen by the first instance");
    assert_eq!((account.as_str(), by.as_str()), ("alerts@example.com", ADMIN));
    let (again, _, used) = get(&cross_site_browser(), &callback, &[]).await;
    assert_eq!(again, 400, "used once, on every instance: {used}");
    assert!(used.contains("already used"), "{used}");
}

/// Readiness asks whether the database takes writes: a database turned read-only (as a standby
/// is) makes `/readyz` 503 while the instance still answers.
#[tokio::test]
async fn readiness_fails_while_the_database_takes_no_writes() {
    let cluster = testpg::Cluster::start();
    let apps = spawn_instances_on(&cluster.database(), 1).await;
    let ready = || async { reqwest::get(format!("{}/readyz", apps[0].url)).await.unwrap() };
    assert_eq!(ready().await.status(), 200);
    cluster.sql("ALTER SYSTEM SET default_transaction_read_only = on");
    cluster.sql("SELECT pg_reload_conf()");
    // Each connection reads the reloaded configuration at its next statement.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let refused = loop {
        let res = ready().await;
        if res.status() == 503 {
            break res;
        }
        assert!(std::time::Instant::now() < deadline, "still ready on a read-only database");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["reason"], "the store is unavailable or takes no writes");
    assert_eq!(reqwest::get(format!("{}/livez", apps[0].url)).await.unwrap().status(), 200);
}
