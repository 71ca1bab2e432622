//! The pages in English and Simplified Chinese: the browser's `Accept-Language` until the admin
//! chooses with the header's switch, which is kept with the admin (every session, every
//! instance), and the document's `lang` saying which.

use crate::helpers::{spawn_app, ADMIN};
use app::api::SetLanguage;
use app::error::AppError;

/// The login page (no session) as a browser asking for `accept_language` gets it.
async fn login_page(url: &str, accept_language: &str) -> String {
    let res = reqwest::Client::new()
        .get(format!("{url}/login"))
        .header("accept-language", accept_language)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

#[tokio::test]
async fn the_pages_speak_the_browsers_language_until_the_admin_chooses_one() {
    let app = spawn_app().await;

    let zh = login_page(&app.url, "zh-CN,zh;q=0.9,en;q=0.8").await;
    assert!(zh.contains("<html lang=\"zh-CN\""), "{zh}");
    assert!(zh.contains("<h1>登录</h1>") && zh.contains("忘记密码？"), "{zh}");
    let en = login_page(&app.url, "en-GB,en;q=0.9").await;
    assert!(en.contains("<html lang=\"en\"") && en.contains("<h1>Log in</h1>"), "{en}");
    let other = login_page(&app.url, "fr-FR").await;
    assert!(other.contains("<html lang=\"en\""), "a language Mailroom does not speak: English");
    // The page a mailbox's sign-in ends on has no session: the browser's language.
    let res = reqwest::Client::new()
        .get(format!("{}{}?state=unknown&code=x", app.url, app::routes::OAUTH_CALLBACK))
        .header("accept-language", "zh-CN")
        .send()
        .await
        .unwrap();
    let callback = res.text().await.unwrap();
    assert!(callback.contains("<html lang=\"zh-CN\"") && callback.contains("邮箱未能连接") && callback.contains("返回 设置 › 发信服务器"), "{callback}");
    assert!(callback.contains("此次登录未知、已被使用，或超过了 10 分钟"), "why, in Chinese too: {callback}");

    // The admin (whose browser sends no Accept-Language) sees English, and the switch offers 简体中文.
    let page = app.page("/settings/templates").await;
    assert!(page.contains("<html lang=\"en\"") && page.contains("<h1>Mail Templates</h1>"), "{page}");
    assert!(page.contains("value=\"zh-CN\" lang=\"zh-CN\"") && page.contains(">简体中文</button>"), "{page}");

    app.call(SetLanguage { lang: "zh-CN".into(), next: Some("/settings/templates".into()) }).await.unwrap();
    let page = app.page("/settings/templates").await;
    assert!(page.contains("<html lang=\"zh-CN\""), "{page}");
    assert!(page.contains("<h1>邮件模板</h1>") && page.contains("退出登录") && page.contains("测试发信服务器"), "{page}");
    assert!(page.contains("发信服务器的主机名"), "the variables are explained in Chinese: {page}");
    assert!(page.contains(">English</button>"), "the switch offers English: {page}");
    let admin = app.store.get_admin(ADMIN).await.unwrap().unwrap();
    assert_eq!(app::store::admin_language(&admin), Some(app::templates::Lang::ZhCn));

    // Kept with the admin: a new session gets it too.
    app.logout().await.unwrap();
    app.login(ADMIN, crate::helpers::ADMIN_PASSWORD).await.unwrap();
    let page = app.page("/settings/templates").await;
    assert!(page.contains("<html lang=\"zh-CN\""), "{page}");

    let refused = app.call(SetLanguage { lang: "fr".into(), next: None }).await.unwrap_err();
    assert!(matches!(&refused, AppError::BadRequest(m) if m.contains("zh-CN")), "{refused:?}");
    // A next outside the site goes nowhere but the settings.
    app.call(SetLanguage { lang: "en".into(), next: Some("https://evil.example.com/".into()) }).await.unwrap();
    let page = app.page("/settings/templates").await;
    assert!(page.contains("<html lang=\"en\"") && page.contains("<h1>Mail Templates</h1>"), "{page}");
}

#[tokio::test]
async fn an_admins_own_mail_is_in_the_language_they_chose() {
    use crate::helpers::{peer_form, received, save_settings};
    let app = spawn_app().await;
    save_settings(&app, &peer_form("plain")).await;
    let queued = app.call(app::api::activity::QueueTestMail {}).await.unwrap();
    let (subject, _) = received(&app, queued).await;
    assert_eq!(subject, "Mailroom test email (through the queue)", "not chosen: the configured default");

    app.call(SetLanguage { lang: "zh-CN".into(), next: None }).await.unwrap();
    let queued = app.call(app::api::activity::QueueTestMail {}).await.unwrap();
    let (subject, bodies) = received(&app, queued).await;
    assert_eq!(subject, "Mailroom 测试邮件（经发送队列）");
    assert!(bodies[0].contains("发信服务器"), "{bodies:?}");

    // The reset mail too: the page says so in Chinese, the mail is in Chinese.
    app.request_password_reset(ADMIN).await.unwrap();
    let reset = crate::helpers::newest_message(&app, |m| m.subject.contains("Mailroom") && m.subject != "Mailroom 测试邮件（经发送队列）").await;
    let (subject, _) = received(&app, reset.id).await;
    assert_eq!(subject, "重置您的 Mailroom 密码");
}

#[tokio::test]
async fn mail_activity_and_its_refresh_are_in_the_admins_language() {
    use crate::helpers::{peer_form, received, save_settings};
    let app = spawn_app().await;
    save_settings(&app, &peer_form("plain")).await;
    let queued = app.call(app::api::activity::QueueTestMail {}).await.unwrap();
    received(&app, queued).await;
    app.call(SetLanguage { lang: "zh-CN".into(), next: None }).await.unwrap();
    let page = app.page("/settings/activity").await;
    assert!(page.contains("<h1>邮件记录</h1>") && page.contains("全部（1）") && page.contains("已发送（1）"), "{page}");
    assert!(page.contains("列表每 5 秒更新一次。"), "{page}");
    assert!(page.contains("<dt>请求方</dt><dd>通过发送队列测试，由 admin@example.com 发起</dd>"), "{page}");

    // A refusal's meaning (550 5.1.1 from the peer), in Chinese.
    let token = app.api_token("monitoring").await;
    let reply = app
        .api("POST", "/api/v1/messages", Some(&token), Some(serde_json::json!({"to": ["reject-rcpt@example.com"], "subject": "Disk", "text": "93 %"})))
        .await;
    let id = reply.json["messages"][0]["id"].as_u64().unwrap();
    crate::helpers::until(&app.ctx.outbox, "the refusal", || async {
        app.store.message(id).await.unwrap().filter(|m| m.state == app::outbox::State::Failed)
    })
    .await;
    let page = app.page("/settings/activity").await;
    assert!(page.contains("<strong>含义：</strong>该服务器上不存在收件人的邮箱"), "{page}");
    assert!(page.contains("API 令牌“monitoring”"), "{page}");
    // The island's refresh renders the list again: in the same language.
    let html = app
        .call(app::pages::activity::MailActivityHtml { query: Default::default() })
        .await
        .unwrap();
    assert!(html.contains("全部（2）") && html.contains("已发送") && !html.contains("All (2)"), "{html}");
}

#[tokio::test]
async fn a_templates_problems_are_told_in_the_admins_language_whatever_the_templates() {
    use app::api::templates::{PreviewTemplate, SaveTemplate, TemplateForm};
    let app = spawn_app().await;
    let bad = TemplateForm { subject: "Hi".into(), text: "Hello\n{{ host | }}".into(), html: String::new() };
    let english = app.call(PreviewTemplate { mail: "test_mail".into(), lang: Some("zh-CN".into()), form: bad.clone() }).await.unwrap();
    assert!(english.problems[0].starts_with("Plain-text body, line 2: Syntax error"), "{english:?}");

    app.call(SetLanguage { lang: "zh-CN".into(), next: None }).await.unwrap();
    // An English template edited on Chinese pages: the problems in Chinese.
    let chinese = app.call(PreviewTemplate { mail: "test_mail".into(), lang: Some("en".into()), form: bad.clone() }).await.unwrap();
    assert!(chinese.problems[0].starts_with("纯文本正文第 2 行：语法错误"), "{chinese:?}");
    let refused = app
        .call(SaveTemplate { mail: "test_mail".into(), lang: "en".into(), version: 0, form: bad, reset: None })
        .await
        .unwrap_err();
    assert!(matches!(&refused, AppError::Refused(m) if m.starts_with("未保存：纯文本正文第 2 行：语法错误")), "{refused:?}");
}

/// Settings › Mail Server in Chinese: the form's island is rendered with its words in Chinese
/// (and carries those alone), a refused save says what to fix in Chinese, and a failed test's
/// summary and advice come back in Chinese, from a real SMTP server refusing the login.
#[tokio::test]
async fn the_mail_server_settings_and_a_failed_test_speak_chinese() {
    use app::api::SaveMailSettings;
    use app::domain::{Field, MailServerForm};
    let app = spawn_app().await;
    app.call(SetLanguage { lang: "zh-CN".into(), next: None }).await.unwrap();

    let page = app.page("/settings/mail").await;
    assert!(page.contains("<html lang=\"zh-CN\""), "{page}");
    for words in ["SMTP 服务器地址", "邮箱账号", "发件人地址", "加密方式（可选）", "测试发信服务器", "服务商", "修改记录"] {
        assert!(page.contains(words), "{words} is not on the page: {page}");
    }
    // The island's words travel with it, for this language only.
    assert!(page.contains("请输入端口：587（STARTTLS）、465（SSL）或 25"), "the form's messages are in its props");
    assert!(!page.contains("Enter the port: 587"), "no English words travel with a Chinese page");

    // A refused save: each field's reason in Chinese, as the island and the page show it.
    let refused = app
        .call(SaveMailSettings { version: 0, form: MailServerForm { port: "58x".into(), host: "smtp.example.com:587".into(), ..crate::helpers::valid_form() } })
        .await
        .unwrap_err();
    let AppError::Invalid { errors, .. } = refused else { panic!("{refused:?}") };
    let zh = engine::i18n::said(app::templates::Lang::ZhCn, errors.get(Field::Port).unwrap());
    assert_eq!(zh, "端口是整数，例如 587，而不是“58x”");
    let zh = engine::i18n::said(app::templates::Lang::ZhCn, errors.get(Field::Host).unwrap());
    assert_eq!(zh, "请把端口（587）填到“端口”一栏，这里只填 smtp.example.com");

    // A test refused by a real server: the summary and the advice in the admin's language.
    let answer = app
        .test_answer(&MailServerForm { password: "wrong-password".into(), ..crate::helpers::peer_form("plain") }, "")
        .await
        .unwrap();
    // The card the page shows is rendered on the server in the page's language: its heading,
    // the field at fault as a button the island focuses from, the advice, the transcript.
    let [heading, body, more] = &answer.card;
    assert!(heading.contains("测试失败：登录被拒绝") && heading.contains("id=\"test-result-heading\""), "{heading}");
    assert!(body.contains("最可能出错的字段：") && body.contains("data-focus=\"#password\""), "{body}");
    assert!(body.contains("登录被拒绝，服务器回复：535"), "{body}");
    assert!(more.contains("授权码") && more.contains("SMTP 会话记录"), "{more}");
    assert!(!more.contains("wrong-password"), "the transcript's password is redacted: {more}");
    // The stored history under the form: without the failure whose card is in view.
    assert_eq!(answer.tests_shown.replace("<!>", "").trim(), "还没有成功的测试。", "{}", answer.tests_shown);
    assert_eq!(answer.diagnosis, Some(app::report::Diagnosis::AuthRejected));
    let report = answer.report;
    assert_eq!(report.diagnosis, Some(app::report::Diagnosis::AuthRejected), "{report:#?}");
    assert!(report.summary.starts_with("登录被拒绝，服务器回复：535"), "{}", report.summary);
    assert_eq!(report.advice.first().map(String::as_str), Some("请确认 SMTP 服务器地址、端口、账号和密码是否正确。"), "{report:#?}");
    assert!(report.advice.iter().any(|a| a.contains("授权码")), "{report:#?}");

    // The outbox and the logs keep English: the same failure's record in Mail Activity is not
    // this page's business, but the next admin reading English gets English.
    app.call(SetLanguage { lang: "en".into(), next: None }).await.unwrap();
    let report = app
        .test_mail(&MailServerForm { password: "wrong-password".into(), ..crate::helpers::peer_form("plain") }, "")
        .await
        .unwrap();
    assert!(report.summary.starts_with("The login was rejected: the server answered 535"), "{}", report.summary);
    assert_eq!(report.advice.first().map(String::as_str), Some("Verify that the SMTP address, port, account, and password are correct."));
}
