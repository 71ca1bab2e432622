//! Settings › Mail Templates through its server functions, the mails read back from the SMTP
//! peer: a template saved with a problem is refused at its line, a saved one is what the mail
//! says, the preview is the mail, a stale save is a conflict, every change is in the history
//! with its diff, and a reset brings the default back.

use crate::helpers::{newest_message, peer, peer_form, received, save_settings, spawn_app, ADMIN};
use app::api::templates::{MailTemplates, PreviewTemplate, SaveTemplate, SendTemplatePreview, TemplateForm};
use app::error::AppError;
use app::outbox::State;

fn form(subject: &str, text: &str, html: &str) -> TemplateForm {
    TemplateForm { subject: subject.into(), text: text.into(), html: html.into() }
}

/// The mail the peer took for the newest message (sent).
async fn delivered(app: &crate::helpers::TestApp) -> String {
    let sent = newest_message(app, |m| m.state == State::Sent).await;
    let answer = &sent.attempts.last().unwrap().text;
    peer().message(answer.rsplit(' ').next().unwrap())
}

#[tokio::test]
async fn a_template_with_a_problem_is_refused_at_its_line_and_nothing_is_saved() {
    let app = spawn_app().await;
    let mail = || ("password_reset".to_string(), "en".to_string());
    let (m, l) = mail();
    let bad = form("Reset", "Hello {{ email }}\nOpen {{ link }\nBye", "");
    let err = app.call(SaveTemplate { mail: m, lang: l, version: 0, form: bad.clone(), reset: None }).await.unwrap_err();
    assert!(matches!(&err, AppError::Refused(m) if m.contains("Plain-text body, line 2: Syntax error")), "{err:?}");
    let (m, _) = mail();
    let preview = app.call(PreviewTemplate { mail: m, lang: None, form: bad }).await.unwrap();
    assert!(preview.problems.iter().any(|p| p.contains("line 2")), "{preview:?}");

    let (m, l) = mail();
    let unknown = form("Reset", "Hello\n{{ password }}", "");
    let err = app.call(SaveTemplate { mail: m, lang: l, version: 0, form: unknown, reset: None }).await.unwrap_err();
    assert!(matches!(&err, AppError::Refused(m) if m.contains("line 2: Unknown variable")), "{err:?}");

    let (m, l) = mail();
    let header = form("Reset\nBcc: victim@example.com", "Hello", "");
    let err = app.call(SaveTemplate { mail: m, lang: l, version: 0, form: header, reset: None }).await.unwrap_err();
    assert!(matches!(&err, AppError::Refused(m) if m.contains("A subject is one line")), "{err:?}");

    let view = app.call(MailTemplates { mail: Some("password_reset".into()), lang: Some("en".into()) }).await.unwrap();
    assert_eq!((view.version, view.is_default), (0, true), "nothing saved");
    assert!(app.store.recent_audit(5).await.unwrap().is_empty());
    let err = app.call(MailTemplates { mail: Some("nonsense".into()), lang: None }).await.unwrap_err();
    assert!(matches!(err, AppError::BadRequest(_)), "{err:?}");
}

#[tokio::test]
async fn a_saved_template_is_what_the_mail_says_and_a_reset_brings_the_default_back() {
    let app = spawn_app().await;
    save_settings(&app, &peer_form("plain")).await;
    let view = app.call(MailTemplates { mail: Some("password_reset".into()), lang: Some("en".into()) }).await.unwrap();
    assert!(view.variables.iter().any(|v| v.name == "link"), "{:?}", view.variables);
    let mine = form(
        "Mailroom: new password for {{ email }}",
        "Choose a new password within {{ valid_minutes }} minutes:\n{{ link }}\n",
        "<p>Choose a new password: <a href=\"{{ link }}\">{{ link }}</a></p>",
    );
    let version = app
        .call(SaveTemplate { mail: "password_reset".into(), lang: "en".into(), version: view.version, form: mine.clone(), reset: None })
        .await
        .unwrap();
    assert_eq!(version, 1);

    app.request_password_reset(ADMIN).await.unwrap();
    let message = delivered(&app).await;
    assert!(message.contains(&format!("Subject: Mailroom: new password for {ADMIN}")), "{message}");
    assert!(message.contains("Choose a new password within"), "{message}");
    assert!(message.contains("text/html"), "the HTML body goes too: {message}");

    // A save from the version before is a conflict; the history has the change with its diff.
    let stale = app
        .call(SaveTemplate { mail: "password_reset".into(), lang: "en".into(), version: 0, form: mine, reset: None })
        .await
        .unwrap_err();
    assert!(matches!(stale, AppError::Conflict { current: 1, .. }), "{stale:?}");
    let history = app.store.recent_audit(1).await.unwrap();
    let said = history[0].changes[0].describe(&engine::i18n::english);
    assert!(said.contains("changed the mail template \u{201c}password_reset\u{201d} (en)") && said.contains("subject + Mailroom: new password for {{ email }}"), "{said}");

    app.call(SaveTemplate { mail: "password_reset".into(), lang: "en".into(), version: 1, form: TemplateForm::default(), reset: Some("reset".into()) })
        .await
        .unwrap();
    let view = app.call(MailTemplates { mail: Some("password_reset".into()), lang: Some("en".into()) }).await.unwrap();
    assert_eq!((view.version, view.is_default), (2, true));
    assert_eq!(view.form.subject, "Reset your Mailroom password");
    app.request_password_reset(ADMIN).await.unwrap();
    let message = newest_message(&app, |m| m.state == State::Sent && m.subject == "Reset your Mailroom password").await;
    assert_eq!(message.to, ADMIN);
}

#[tokio::test]
async fn the_preview_sent_to_me_is_the_preview_shown_in_chinese_too() {
    let app = spawn_app().await;
    save_settings(&app, &peer_form("plain")).await;
    let view = app.call(MailTemplates { mail: Some("test_mail".into()), lang: Some("zh-CN".into()) }).await.unwrap();
    assert_eq!(view.lang, "zh-CN");
    let mut edited = view.form.clone();
    edited.html = "<p>{{ host }} · {{ port }}</p>".into();
    let preview = app.call(PreviewTemplate { mail: "test_mail".into(), lang: Some("zh-CN".into()), form: edited.clone() }).await.unwrap();
    assert!(preview.problems.is_empty(), "{preview:?}");
    assert!(preview.text.contains("发信服务器 smtp.example.com"), "{preview:?}");

    app.call(SendTemplatePreview { mail: "test_mail".into(), lang: "zh-CN".into(), form: edited }).await.unwrap();
    let message = delivered(&app).await;
    let parsed = mailparse::parse_mail(message.as_bytes()).unwrap();
    assert_eq!(parsed.headers.iter().find(|h| h.get_key() == "Subject").unwrap().get_value(), preview.subject);
    let bodies: Vec<String> = parsed.subparts.iter().map(|p| p.get_body().unwrap()).collect();
    assert!(bodies.iter().any(|b| b.replace("\r\n", "\n") == preview.text.replace("\r\n", "\n")), "{bodies:?} vs {preview:?}");
    assert!(bodies.iter().any(|b| b.trim() == preview.html.as_deref().unwrap().trim()), "{bodies:?}");
}

/// An API alert for `to` in `language` (none: the server's default).
fn alert(to: &str, language: Option<&str>) -> serde_json::Value {
    let mut body = serde_json::json!({
        "alert_key": format!("disk:{to}"), "title": "Disk almost full on db-1", "severity": "critical",
        "state": "firing", "value": 93.5, "threshold": 90, "link": "https://grafana.example.com/d/disk?a=1&b=2",
        "recipients": [to]
    });
    if let Some(language) = language {
        body["language"] = language.into();
    }
    body
}

fn queued(reply: &crate::helpers::ApiReply) -> u64 {
    assert_eq!(reply.status, 202, "{reply:?}");
    reply.json["results"][0]["id"].as_u64().unwrap_or_else(|| panic!("{reply:?}"))
}

#[tokio::test]
async fn an_alert_is_mailed_in_chinese_to_a_recipient_who_asked_for_it_and_in_the_default_otherwise() {
    let app = spawn_app().await;
    save_settings(&app, &peer_form("plain")).await;
    let token = app.api_token("grafana").await;

    let zh = app.api("POST", "/api/v1/alerts", Some(&token), Some(alert("zh-oncall@example.com", Some("zh-CN")))).await;
    let (subject, bodies) = received(&app, queued(&zh)).await;
    assert_eq!(subject, "[告警] Disk almost full on db-1");
    let text = bodies.iter().find(|b| !b.contains("<div")).unwrap();
    assert!(text.contains("告警（严重）：Disk almost full on db-1"), "{text}");
    assert!(text.contains("当前值：93.5（阈值：90）"), "{text}");
    assert!(text.contains("每隔 4 小时会再次发送本邮件"), "{text}");
    let html = bodies.iter().find(|b| b.contains("<div")).unwrap();
    assert!(html.contains("查看详情") && html.contains("href=\"https://grafana.example.com/d/disk?a=1&amp;b=2\""), "{html}");

    // No language: the server's default, English here.
    let en = app.api("POST", "/api/v1/alerts", Some(&token), Some(alert("en-oncall@example.com", None))).await;
    let (subject, bodies) = received(&app, queued(&en)).await;
    assert_eq!(subject, "[FIRING] Disk almost full on db-1");
    assert!(bodies[0].contains("Value: 93.5 (threshold: 90)"), "{bodies:?}");

    // A language Mailroom does not write: refused, naming the field, nothing queued.
    let fr = app.api("POST", "/api/v1/alerts", Some(&token), Some(alert("fr-oncall@example.com", Some("fr")))).await;
    assert_eq!(fr.status, 400, "{fr:?}");
    assert!(fr.json.to_string().contains("language") || fr.json.to_string().contains("zh-CN"), "{fr:?}");
}

#[tokio::test]
async fn the_admins_own_chinese_alert_template_is_the_one_mailed() {
    let app = spawn_app().await;
    save_settings(&app, &peer_form("plain")).await;
    let view = app.call(MailTemplates { mail: Some("alert".into()), lang: Some("zh-CN".into()) }).await.unwrap();
    let mine = form("【{{ severity }}】{{ title }}", "{{ title }}：{{ value }} / {{ threshold }}\n<b>{{ description }}</b>", "<p>{{ description }}</p>");
    app.call(SaveTemplate { mail: "alert".into(), lang: "zh-CN".into(), version: view.version, form: mine.clone(), reset: None })
        .await
        .unwrap();
    let token = app.api_token("grafana").await;
    let mut body = alert("mine@example.com", Some("zh-CN"));
    body["description"] = "<script>alert(1)</script>".into();
    let (subject, bodies) = received(&app, queued(&app.api("POST", "/api/v1/alerts", Some(&token), Some(body)).await)).await;
    assert_eq!(subject, "【critical】Disk almost full on db-1");
    assert!(bodies.iter().any(|b| b.contains("Disk almost full on db-1：93.5 / 90") && b.contains("<b><script>alert(1)</script></b>")), "the plain text keeps the value as it is: {bodies:?}");
    let html = bodies.iter().find(|b| b.starts_with("<p>")).unwrap();
    assert_eq!(html.trim(), "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>");
}
