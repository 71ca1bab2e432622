//! The outbox: the system's own mail (today the password-reset mail) queued durably and
//! delivered by the worker through the saved settings, against the real SMTP peer.

use crate::helpers::{newest_message, peer, peer_form, save_settings, spawn_app, until, TestApp, ADMIN};
use app::delivery::Outbox;
use app::{
    domain::MailServerForm,
    outbox::{Message, Priority, State},
    store::{MailBody, NewMessage},
};

/// The peer's settings with a password it refuses (535).
fn wrong_password() -> MailServerForm {
    MailServerForm {
        password: "wrong-password".into(),
        ..peer_form("plain")
    }
}

#[tokio::test]
async fn the_reset_mail_goes_through_the_outbox_and_keeps_the_servers_answer() {
    let app = spawn_app().await;
    save_settings(&app, &peer_form("plain")).await;
    app.request_password_reset(ADMIN).await.unwrap();
    let sent = newest_message(&app, |m| m.state == State::Sent).await;
    assert_eq!(sent.to, ADMIN);
    assert!(sent.expires_at.is_some(), "expires with its token");
    let attempt = &sent.attempts[0];
    assert_eq!(attempt.code, Some(250));
    assert!(attempt.text.contains("queued as"), "{attempt:?}");
    peer().wait_for_mail("Reset your Mailroom password", ADMIN).await;
}

#[tokio::test]
async fn a_refused_sender_pauses_the_outbox_until_the_settings_change() {
    let app = spawn_app().await;
    // The peer refuses (553) a From address other than the account.
    let refused = MailServerForm {
        from_address: "someone-else@example.com".into(),
        ..peer_form("plain")
    };
    save_settings(&app, &refused).await;
    app.request_password_reset(ADMIN).await.unwrap();
    let held = newest_message(&app, |m| !m.attempts.is_empty()).await;
    assert_eq!(held.state, State::Deferred, "kept, not failed: {held:?}");
    assert_eq!(held.attempts[0].code, Some(553));
    assert_eq!(held.attempts[0].step, "mail from");
    let pause = app.ctx.outbox.paused().await.expect("paused");
    assert!(
        pause.reason.contains("553") || pause.reason.contains("sender"),
        "{pause:?}"
    );
    // The server's reply is said once.
    let reply = held.attempts[0].text.trim();
    assert_eq!(pause.reason.matches(reply).count(), 1, "{pause:?}");

    // The fixed settings resume the outbox and the message goes out.
    save_settings(&app, &peer_form("plain")).await;
    let sent = newest_message(&app, |m| m.state == State::Sent).await;
    assert_eq!(sent.id, held.id);
    assert_eq!(sent.attempts.len(), 2);
    assert!(app.ctx.outbox.paused().await.is_none());
}

/// Queues one message to `to` as the system would (the store wakes the worker); returns its id.
async fn enqueue(app: &TestApp, to: &str, expires_at: Option<u64>) -> u64 {
    let message = NewMessage {
        origin: Default::default(),
        to: to.into(),
        subject: format!("Outbox test to {to}"),
        body: MailBody {
            text: "Hello from the outbox.".into(),
            html: None,
            thread: None,
            raw: None,
        },
        priority: Priority::Alert,
        expires_at,
    };
    let id = app
        .store
        .enqueue(vec![message], None, app::clock::now_unix()).await
        .unwrap()
        .ids()[0];
    id
}

/// Waits until message `id` satisfies `done` (as the app's own worker delivers it).
async fn message_when(app: &TestApp, id: u64, done: impl Fn(&Message) -> bool) -> Message {
    message_on(&app.ctx.outbox, app, id, done).await
}

/// [`message_when`], as `outbox`'s worker delivers it.
async fn message_on(outbox: &Outbox, app: &TestApp, id: u64, done: impl Fn(&Message) -> bool) -> Message {
    let done = &done;
    until(outbox, &format!("message {id}"), || async move {
        Some(app.store.message(id).await.unwrap().expect("stored")).filter(|m| done(m))
    })
    .await
}

/// Each final state the peer can cause, with the step and the reply recorded.
#[tokio::test]
async fn each_answer_of_the_server_ends_in_its_state() {
    let app = spawn_app().await;
    save_settings(&app, &peer_form("plain")).await;
    let cases = [
        ("reject-rcpt@example.com", State::Failed, Some(550), "rcpt to"),
        ("reject-data@example.com", State::Failed, Some(554), "message"),
        ("drop-after-dot@example.com", State::Uncertain, None, "message"),
    ];
    for (to, state, code, step) in cases {
        let id = enqueue(&app, to, None).await;
        let m = message_when(&app, id, |m| !m.state.pending()).await;
        assert_eq!(m.state, state, "{to}: {m:?}");
        let attempt = &m.attempts[0];
        assert_eq!(
            (attempt.code, attempt.step.as_str()),
            (code, step),
            "{to}: {attempt:?}"
        );
    }
    // A message past its time is not sent.
    let id = enqueue(&app, "late@example.com", Some(app::clock::now_unix())).await;
    let m = message_when(&app, id, |m| !m.state.pending()).await;
    assert_eq!((m.state, m.attempts.len()), (State::Expired, 0));
}

#[tokio::test]
async fn a_temporary_refusal_is_retried_and_then_sent() {
    let app = spawn_app().await;
    save_settings(&app, &peer_form("plain")).await;
    let id = enqueue(&app, "defer-once-retry@example.com", None).await;
    let deferred = message_when(&app, id, |m| !m.attempts.is_empty()).await;
    assert_eq!(deferred.attempts[0].code, Some(451));
    let sent = message_when(&app, id, |m| m.state == State::Sent).await;
    assert_eq!(sent.attempts.len(), 2);
    assert!(sent.attempts[1].text.contains("queued as"), "{:?}", sent.attempts);
}

#[tokio::test]
async fn a_server_that_cannot_be_reached_defers_the_message() {
    let app = spawn_app().await;
    save_settings(&app, &peer_form("closed")).await;
    let id = enqueue(&app, "ops@example.com", None).await;
    let m = message_when(&app, id, |m| !m.attempts.is_empty()).await;
    assert_eq!(m.state, State::Deferred, "{m:?}");
    assert_eq!(m.attempts[0].step, "connect");
    assert!(m.not_before > m.created_at);
}

#[tokio::test]
async fn a_wrong_password_pauses_the_outbox_and_a_quota_pauses_the_lane() {
    let app = spawn_app().await;
    save_settings(&app, &wrong_password()).await;
    let first = enqueue(&app, "ops@example.com", None).await;
    let held = message_when(&app, first, |m| !m.attempts.is_empty()).await;
    assert_eq!(
        (held.attempts[0].code, held.attempts[0].step.as_str()),
        (Some(535), "login")
    );
    assert_eq!(held.state, State::Deferred);
    assert!(app.ctx.outbox.paused().await.is_some());

    // Fixed: the outbox resumes; Gmail's daily limit then holds the lane for a day.
    save_settings(&app, &peer_form("plain")).await;
    message_when(&app, first, |m| m.state == State::Sent).await;
    let quota = enqueue(&app, "quota@example.com", None).await;
    let m = message_when(&app, quota, |m| !m.attempts.is_empty()).await;
    assert_eq!(m.state, State::Deferred);
    assert_eq!(m.attempts[0].enhanced_status.as_deref(), Some("5.4.5"));
    let day = 24 * 60 * 60;
    assert!(m.not_before >= m.created_at + day - 5, "{m:?}");
    assert!(app.ctx.outbox.control().await.unwrap().throttled_until >= m.not_before);
}

#[tokio::test]
async fn the_mail_servers_rate_limit_holds_the_rest_back() {
    use app::delivery::budget::SendLimits;
    let app = spawn_app().await;
    save_settings(&app, &peer_form("plain")).await;
    // A worker of its own with a limit of two a minute, on the same database.
    app.ctx.outbox.stop().await;
    let limited = Outbox::start(
        app.store.clone(),
        app::delivery::WorkerConfig {
            limits: Some(SendLimits {
                per_minute: Some(2),
                per_day: None,
            }),
            ..crate::helpers::fast_outbox()
        },
    );
    let mut ids: Vec<u64> = Vec::new();
    for i in 0..5 {
        ids.push(enqueue(&app, &format!("limited-{i}@example.com"), None).await);
    }
    for id in &ids[..2] {
        message_on(&limited, &app, *id, |m| m.state == State::Sent).await;
    }
    for id in &ids[2..] {
        let m = app.store.message(*id).await.unwrap().unwrap();
        assert_eq!((m.state, m.attempts.len()), (State::Queued, 0), "{m:?}");
    }
    limited.stop().await;
}

#[tokio::test]
async fn a_server_that_is_down_and_comes_back_gets_the_message() {
    let app = spawn_app().await;
    save_settings(&app, &peer_form("flaky")).await;
    let id = enqueue(&app, "ops@example.com", None).await;
    let sent = message_when(&app, id, |m| m.state == State::Sent).await;
    assert!(sent.attempts.len() >= 2, "{:?}", sent.attempts);
    let first = &sent.attempts[0];
    assert_eq!(
        first.code, None,
        "no answer from a server that is down: {first:?}"
    );
    assert!(sent.attempts.last().unwrap().text.contains("queued as"));
}

/// A wrong password is tried at most once per connection, not once per queued message (a
/// provider would lock the account).
#[tokio::test]
async fn a_wrong_password_is_not_tried_for_every_queued_message() {
    let app = spawn_app().await;
    save_settings(&app, &wrong_password()).await;
    let mut ids: Vec<u64> = Vec::new();
    for i in 0..20 {
        ids.push(enqueue(&app, &format!("queued-{i}@example.com"), None).await);
    }
    let outbox = &app.ctx.outbox;
    until(outbox, "the pause", || outbox.paused()).await;
    // The batch's outcomes written: no message left sending.
    let (app, ids) = (&app, &ids);
    let messages = until(outbox, "the batch's outcomes", || async move {
        let mut messages: Vec<Message> = Vec::new();
        for id in ids {
            messages.push(app.store.message(*id).await.unwrap().unwrap());
        }
        messages
            .iter()
            .all(|m| m.state != State::Sending)
            .then_some(messages)
    })
    .await;
    assert!(
        messages.iter().all(|m| m.state.pending()),
        "none failed: {messages:?}"
    );
    let tried = messages.iter().filter(|m| !m.attempts.is_empty()).count();
    let connections = crate::helpers::fast_outbox().concurrency;
    assert!(
        (1..=connections).contains(&tried),
        "{tried} logins tried for 20 messages"
    );
}

#[tokio::test]
async fn a_relay_without_sign_in_delivers_the_outbox_and_one_that_wants_it_pauses_it() {
    let app = spawn_app().await;
    let relay = |listener: &str| MailServerForm {
        authentication: "none".into(),
        account: String::new(),
        password: String::new(),
        ..peer_form(listener)
    };
    save_settings(&app, &relay("plain")).await;
    app.request_password_reset(ADMIN).await.unwrap();
    let sent = newest_message(&app, |m| m.state == State::Sent).await;
    assert_eq!(sent.to, ADMIN);

    save_settings(&app, &relay("auth_required")).await;
    app.request_password_reset(ADMIN).await.unwrap();
    let held = newest_message(&app, |m| m.id != sent.id && !m.attempts.is_empty()).await;
    assert_eq!(held.attempts[0].code, Some(530));
    let pause = app.ctx.outbox.paused().await.expect("a server that wants sign-in pauses the outbox");
    assert!(pause.reason.contains("sign-in"), "{pause:?}");
}

#[tokio::test]
async fn the_outbox_signs_in_with_oauth2_and_pauses_when_the_app_is_refused() {
    let app = spawn_app().await;
    let token_url = format!("http://127.0.0.1:{}/{{tenant}}/oauth2/v2.0/token", peer().port("oauth"));
    let oauth = |client: &str, secret: &str| MailServerForm {
        authentication: "oauth2".into(),
        password: String::new(),
        oauth_token_url: token_url.clone(),
        oauth_tenant: "contoso".into(),
        oauth_client_id: client.into(),
        oauth_client_secret: secret.into(),
        oauth_scopes: "https://outlook.office365.com/.default".into(),
        ..peer_form("plain")
    };
    save_settings(&app, &oauth("app-outbox", "app-secret")).await;
    app.request_password_reset(ADMIN).await.unwrap();
    let sent = newest_message(&app, |m| m.state == State::Sent).await;
    assert_eq!(sent.to, ADMIN);

    save_settings(&app, &oauth("app-outbox-revoked", "old-secret")).await;
    app.request_password_reset(ADMIN).await.unwrap();
    let held = newest_message(&app, |m| m.id != sent.id && !m.attempts.is_empty()).await;
    assert_eq!(held.attempts[0].step, "token");
    assert_eq!(held.state, State::Deferred, "kept for when the app is fixed");
    let pause = app.ctx.outbox.paused().await.expect("a refused app pauses the outbox");
    assert!(pause.reason.contains("invalid_client"), "{pause:?}");
}

/// Queues one message and waits for its first outcome.
async fn send_one(app: &TestApp, to: &str) -> Message {
    let id = enqueue(app, to, None).await;
    message_when(app, id, |m| !matches!(m.state, State::Queued | State::Sending)).await
}

/// Mail that comes in one message after another (the SMTP listener's, an alert storm's) goes
/// out through the session the last round left open: one connection for all of it.
#[tokio::test]
async fn rounds_one_after_another_use_the_session_the_last_one_left_open() {
    let app = spawn_app().await;
    save_settings(&app, &peer_form("counted")).await;
    for i in 0..3 {
        let sent = send_one(&app, &format!("kept-{i}@example.com")).await;
        assert_eq!((sent.state, sent.attempts.len()), (State::Sent, 1), "{sent:?}");
    }
    assert_eq!(peer().tokens_issued("connections:counted").await, 1, "one connection for three rounds");
}

/// A session the server closed while it waited for the next round is not used: the next
/// message goes out on a new one, with no failed attempt.
#[tokio::test]
async fn a_kept_session_the_server_closed_is_replaced_without_a_failed_attempt() {
    let app = spawn_app().await;
    save_settings(&app, &peer_form("one_per_session")).await;
    for i in 0..3 {
        let sent = send_one(&app, &format!("closed-{i}@example.com")).await;
        assert_eq!((sent.state, sent.attempts.len()), (State::Sent, 1), "{sent:?}");
    }
    assert_eq!(peer().tokens_issued("connections:one_per_session").await, 3);
}
