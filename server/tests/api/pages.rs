//! Settings › API Tokens and Settings › Mail Activity through their server functions, as the
//! pages call them: a token shown once, revoking, the outbox's list and its actions.

use crate::helpers::{newest_message, peer, peer_form, save_settings, spawn_app, spawn_app_with, until, Tuning, ADMIN};
use app::api::activity::{
    ActivityQuery, CancelMessage, MailActivity, MessageNote, QueueTestMail, RetryFailedMessages, RetryMessage,
};
use app::api::tokens::{ApiTokens, CreateApiToken, RevokeApiToken};
use app::error::AppError;
use app::outbox::{Origin, State};

#[tokio::test]
async fn a_new_token_is_shown_once_to_its_session_and_revoking_it_is_audited() {
    let app = spawn_app().await;
    app.call(CreateApiToken { name: "grafana".into(), scope: None }).await.unwrap();
    let first = app.call(ApiTokens { revoked: None }).await.unwrap();
    let created = first.created.expect("shown right after");
    assert_eq!(created.name, "grafana");
    assert_eq!(first.tokens.len(), 1);
    assert_eq!(first.tokens[0].used_for, "HTTP API and SMTP", "both unless chosen");
    let again = app.call(ApiTokens { revoked: None }).await.unwrap();
    assert!(again.created.is_none(), "shown once");

    // The token works on the API.
    let reply = app.api("GET", "/api/v1/messages/1", Some(&created.token), None).await;
    assert_eq!(reply.status, 404);

    let refused = app.call(CreateApiToken { name: "  ".into(), scope: None }).await.unwrap_err();
    assert!(matches!(refused, AppError::Refused(ref m) if m.contains("Name the token")), "{refused:?}");
    let taken = app.call(CreateApiToken { name: "grafana".into(), scope: None }).await.unwrap_err();
    assert_eq!(taken.status(), 400);

    let id = first.tokens[0].id;
    app.call(RevokeApiToken { id }).await.unwrap();
    assert!(matches!(app.call(RevokeApiToken { id }).await, Err(AppError::NotFound(_))));
    // The page says so only for a revocation the history confirms.
    let after = |name: &str| ApiTokens { revoked: Some(name.into()) };
    assert_eq!(app.call(after("grafana")).await.unwrap().revoked.as_deref(), Some("grafana"));
    assert_eq!(app.call(after("backup")).await.unwrap().revoked, None);
    assert_eq!(app.api("GET", "/api/v1/messages/1", Some(&created.token), None).await.status, 401);
    let history: Vec<String> = app
        .store
        .recent_audit(5).await
        .unwrap()
        .into_iter()
        .flat_map(|e| e.changes.into_iter().map(|c| c.describe(&engine::i18n::english)))
        .collect();
    assert_eq!(history, ["revoked the API token “grafana”", "created the API token “grafana”"]);
}

#[tokio::test]
async fn the_reset_mail_is_listed_without_its_link_and_the_actions_follow_the_rules() {
    let app = spawn_app().await;
    save_settings(&app, &peer_form("plain")).await;
    app.request_password_reset(ADMIN).await.unwrap();
    let sent = newest_message(&app, |m| m.state == State::Sent).await;
    assert_eq!(sent.origin, Origin::PasswordReset);
    let mail = peer().wait_for_mail("Reset your Mailroom password", ADMIN).await;
    let link = mail
        .lines()
        .find(|l| l.contains("/reset?token="))
        .expect("the link is in the mail")
        .trim()
        .to_string();
    let token = link.rsplit('=').next().unwrap().to_string();

    let all = app.call(MailActivity { query: ActivityQuery::default() }).await.unwrap();
    assert_eq!(all.total, 1);
    assert_eq!(all.page.messages[0].subject, "Reset your Mailroom password");
    let page = app.page(&format!("/settings/activity?open={}", sent.id)).await;
    assert!(page.contains("Forgot password"), "its origin is shown");
    assert!(page.contains("queued as"), "the server's answer is shown");
    let queue_id = sent.attempts[0].text.rsplit(' ').next().unwrap();
    assert!(page.contains(&format!("<dd class=\"queue-id\">{queue_id}</dd>")), "{page}");
    assert!(!page.contains(&token), "the reset link is not shown");

    // A sent message cannot be retried or cancelled; the answer says why.
    let refused = app.call(RetryMessage { id: sent.id }).await.unwrap_err();
    assert!(matches!(refused, AppError::Refused(ref m) if m.contains("is “Sent”")), "{refused:?}");
    assert_eq!(app.call(CancelMessage { id: sent.id }).await.unwrap_err().status(), 400);
    assert_eq!(app.call(RetryMessage { id: 424242 }).await.unwrap_err().status(), 404);

    // Searching and filtering.
    let found = |q: &str, state: Option<State>| {
        let query = ActivityQuery { state, q: q.into(), before: None };
        async { app.call(MailActivity { query }).await.unwrap().page.messages.len() }
    };
    assert_eq!(found("RESET your", None).await, 1);
    assert_eq!(found("nothing like it", None).await, 0);
    assert_eq!(found("", Some(State::Failed)).await, 0);
    assert_eq!(found("", Some(State::Sent)).await, 1);
}

#[tokio::test]
async fn failed_messages_are_retried_all_at_once_and_a_queued_one_can_be_cancelled() {
    let app = spawn_app().await;
    save_settings(&app, &peer_form("plain")).await;
    let token = app.api_token("jobs").await;
    let reply = app
        .api(
            "POST",
            "/api/v1/messages",
            Some(&token),
            Some(serde_json::json!({ "to": ["reject-rcpt@example.com", "reject-data@example.com"], "subject": "s", "text": "t" })),
        )
        .await;
    assert_eq!(reply.status, 202);
    let app = &app;
    until(&app.ctx.outbox, "both failed", || async move {
        (app.store.count_by_state().await.unwrap() == vec![(State::Failed, 2)]).then_some(())
    })
    .await;
    let failed = app
        .call(MailActivity { query: ActivityQuery { state: Some(State::Failed), ..Default::default() } })
        .await
        .unwrap();
    assert_eq!(failed.counts.iter().find(|(s, _)| *s == State::Failed).unwrap().1, 2);
    // A failed attempt shows its conversation, without the login's secrets.
    let page = app.page("/settings/activity?state=failed").await;
    assert!(page.contains("Transcript of the last attempt"), "{page}");
    assert!(page.contains("RCPT TO:&lt;reject-rcpt@example.com&gt;"), "{page}");
    assert!(page.contains("550 5.1.1"));
    assert!(!page.contains("correct-password") && !page.contains("Y29ycmVjdC1wYXNzd29yZA"), "no password, plain or base64");
    assert_eq!(app.call(RetryFailedMessages {}).await.unwrap(), 2);
    let app = &app;
    until(&app.ctx.outbox, "both tried twice", || async move {
        let page = app.store.recent_messages(2).await.unwrap();
        page.iter().all(|m| m.state == State::Failed && m.attempts.len() == 2).then_some(())
    })
    .await;

    // A queued message can be cancelled until the worker takes it; after that the refusal says
    // why (the worker races this call, so either answer is right, but no other).
    let queued = app.call(QueueTestMail {}).await.unwrap();
    let cancelled = app.call(CancelMessage { id: queued }).await;
    match cancelled {
        Ok(()) => assert_eq!(app.store.message(queued).await.unwrap().unwrap().state, State::Cancelled),
        Err(e) => assert!(matches!(e, AppError::Refused(ref m) if m.contains("not waiting")), "{e:?}"),
    }
}

#[tokio::test]
async fn deliveries_failing_past_the_alarm_put_a_banner_on_every_admin_page_until_one_goes_out() {
    let app = spawn_app_with(Tuning { failing_alarm_secs: 0, ..Default::default() })
    .await;
    // Nobody listens there: each try is deferred.
    save_settings(&app, &peer_form("closed")).await;
    let id = app.call(QueueTestMail {}).await.unwrap();
    let app = &app;
    until(&app.ctx.outbox, "a failed try", || async move {
        app.store.message(id).await.unwrap().filter(|m| !m.attempts.is_empty())
    })
    .await;
    for path in ["/settings/mail", "/settings/activity", "/settings/tokens"] {
        let page = app.page(path).await;
        assert!(page.contains("Mail is failing to go out"), "{path}");
        assert!(page.contains("refused the connection"), "{path}: the last failure is named");
    }
    // Fixed settings: the deferred message goes out and the banner leaves.
    save_settings(&app, &peer_form("plain")).await;
    // The worker may already be trying it again with the new settings.
    match app.call(RetryMessage { id }).await {
        Ok(_) => {}
        Err(e) => assert!(
            matches!(e, AppError::Refused(ref m) if m.contains("is sending") || m.contains("is sent")),
            "{e:?}"
        ),
    }
    newest_message(&app, |m| m.id == id && m.state == State::Sent).await;
    assert!(!app.page("/settings/mail").await.contains("Mail is failing"));
}

#[tokio::test]
async fn a_cancelled_message_keeps_its_text_and_can_be_queued_again_and_the_page_says_so() {
    let app = spawn_app().await;
    // Nobody listens there: the message waits, deferred.
    save_settings(&app, &peer_form("closed")).await;
    let id = app.call(QueueTestMail {}).await.unwrap();
    let app = &app;
    until(&app.ctx.outbox, "a deferred try", || async move {
        app.store.message(id).await.unwrap().filter(|m| m.state == State::Deferred)
    })
    .await;
    let confirm = app.page(&format!("/settings/activity?cancel={id}")).await;
    assert!(confirm.contains("Cancel the message to admin@example.com"), "{confirm}");
    assert!(confirm.contains("Keep it queued"));

    app.call(CancelMessage { id }).await.unwrap();
    assert_eq!(app.store.message(id).await.unwrap().unwrap().state, State::Cancelled);
    let note = app.call(MessageNote { id }).await.unwrap().expect("the message");
    assert!(note.undoable, "{note:?}");
    let page = app.page(&format!("/settings/activity?cancelled={id}")).await;
    assert!(page.contains("cancelled: it will not be sent."), "{page}");
    assert!(page.contains("Undo: queue it again"));
    // Asking to cancel it again says there is nothing to cancel.
    let again = app.page(&format!("/settings/activity?cancel={id}")).await;
    assert!(again.contains("is cancelled now: there is nothing to cancel."), "{again}");

    // Undo: back in the queue with its text.
    app.call(RetryMessage { id }).await.unwrap();
    let back = app.store.message(id).await.unwrap().unwrap();
    assert!(back.state.pending(), "{back:?}");
    assert!(app.store.has_body(id).await.unwrap());
    let page = app.page(&format!("/settings/activity?retried={id}")).await;
    assert!(page.contains("queued again; it is now under"), "{page}");
    assert_eq!(app.call(MessageNote { id: 424242 }).await.unwrap(), None);
}
