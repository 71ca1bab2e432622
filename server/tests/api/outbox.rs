//! The outbox: the system's own mail (today the password-reset mail) queued durably and
//! delivered by the worker through the saved settings, against the real SMTP peer.

use crate::helpers::{peer, peer_form, spawn_app, TestApp, ADMIN};
use app::{
    domain::MailServerForm,
    outbox::{Message, State},
    store::{MailSettingsStore, OutboxStore},
};
use std::time::{Duration, Instant};

/// Waits (bounded) until the newest message satisfies `done`, and returns it.
async fn newest_message(app: &TestApp, done: impl Fn(&Message) -> bool) -> Message {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let newest = app.store.recent_messages(1).unwrap().pop();
        match newest {
            Some(m) if done(&m) => return m,
            other => assert!(Instant::now() < deadline, "still {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn save_settings(app: &TestApp, form: &MailServerForm) {
    let version = app.store.load_mail().unwrap().map_or(0, |v| v.version);
    app.save(version, form).await.unwrap();
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
    let pause = app.ctx.outbox.paused().expect("paused");
    assert!(
        pause.reason.contains("553") || pause.reason.contains("sender"),
        "{pause:?}"
    );

    // The fixed settings resume the outbox and the message goes out.
    save_settings(&app, &peer_form("plain")).await;
    app.ctx.outbox.wake();
    let sent = newest_message(&app, |m| m.state == State::Sent).await;
    assert_eq!(sent.id, held.id);
    assert_eq!(sent.attempts.len(), 2);
    assert!(app.ctx.outbox.paused().is_none());
}
