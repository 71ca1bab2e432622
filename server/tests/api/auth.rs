//! Admin login, sessions, the same-origin rule, setup and the forgotten password.

use crate::helpers::{
    encode, peer, peer_form, spawn_app, spawn_app_logged_out, spawn_bare, valid_form, Reply, TestApp, ADMIN,
    ADMIN_PASSWORD,
};
use app::{
    api::{LoadMailSettings, SaveMailSettings, TestMailServer},
    auth, clock,
    error::AppError,
    ratelimit::FREE_FAILURES,
    routes,
    store::{Once, ResetRecord},
};

/// Posts a server function's arguments with a client that has no cookies, and `origin`.
async fn post_anonymous(app: &TestApp, path: &str, body: String, origin: Option<&str>) -> Reply {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(o) = origin {
        headers.insert("origin", o.parse().unwrap());
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap();
    app.post(&client, path, body).await
}

/// Every server function that needs a session, with valid arguments.
fn session_calls() -> Vec<(&'static str, String)> {
    use app::api::templates::{MailTemplates, PreviewTemplate, SaveTemplate, SendTemplatePreview};
    use leptos::server_fn::ServerFn;
    vec![
        (LoadMailSettings::PATH, encode(&LoadMailSettings {})),
        (
            SaveMailSettings::PATH,
            encode(&SaveMailSettings {
                version: 0,
                form: valid_form(),
            }),
        ),
        (
            TestMailServer::PATH,
            encode(&TestMailServer {
                form: valid_form(),
                send_to: String::new(),
            }),
        ),
        (MailTemplates::PATH, encode(&MailTemplates { mail: None, lang: None })),
        (PreviewTemplate::PATH, encode(&PreviewTemplate { mail: "test_mail".into(), lang: None, form: template() })),
        (
            SaveTemplate::PATH,
            encode(&SaveTemplate { mail: "test_mail".into(), lang: "en".into(), version: 0, form: template(), reset: None }),
        ),
        (
            SendTemplatePreview::PATH,
            encode(&SendTemplatePreview { mail: "test_mail".into(), lang: "en".into(), form: template() }),
        ),
        (app::api::SetLanguage::PATH, encode(&app::api::SetLanguage { lang: "zh-CN".into(), next: None })),
    ]
}

/// A valid template.
fn template() -> app::api::templates::TemplateForm {
    app::api::templates::TemplateForm { subject: "Hello".into(), text: "Hello {{ host }}".into(), html: String::new() }
}

#[tokio::test]
async fn every_server_function_refuses_without_a_session_and_returns_no_data() {
    let app = spawn_app().await;
    app.save(0, &valid_form()).await.unwrap();
    for (path, body) in session_calls() {
        let reply = post_anonymous(&app, path, body, Some(&app.url)).await;
        let error: AppError =
            serde_json::from_str(&reply.body).unwrap_or_else(|_| panic!("{path}: {}", reply.body));
        assert_eq!(error, AppError::NotAuthenticated, "{path} leaked data");
    }
    assert_eq!(
        app.store.load_mail().await.unwrap().unwrap().version,
        1,
        "nothing saved without a session"
    );
    assert!(app.store.load_templates().await.unwrap().is_empty(), "no template saved without a session");
}

#[tokio::test]
async fn server_functions_refuse_foreign_or_missing_origins() {
    let app = spawn_app().await;
    let mut calls = session_calls();
    for path in [
        "login",
        "logout",
        "request_password_reset",
        "reset_password",
        "setup_admin",
    ] {
        calls.push((
            Box::leak(format!("{}{path}", routes::API_PREFIX).into_boxed_str()),
            String::new(),
        ));
    }
    for (path, body) in calls {
        for origin in [Some("http://evil.example"), Some("null"), None] {
            let reply = post_anonymous(&app, path, body.clone(), origin).await;
            assert_eq!(reply.status, 403, "{path} with Origin {origin:?}: {}", reply.body);
        }
    }
    // The logged-in client with a foreign Origin is refused too: the session alone is not enough.
    let res = app
        .client
        .post(format!("{}/api/load_mail_settings", app.url))
        .header("Origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn pages_need_a_session_and_send_security_headers() {
    let app = spawn_app_logged_out().await;
    let res = app
        .client
        .get(format!("{}{}", app.url, routes::MAIL_SETTINGS))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login?next=%2Fsettings%2Fmail");
    let res = app
        .client
        .get(format!("{}/no/such/page", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "unknown pages also need a session");

    let login = app
        .client
        .get(format!("{}{}", app.url, routes::LOGIN))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let h = login.headers().clone();
    let csp = h["content-security-policy"].to_str().unwrap().to_string();
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval' 'nonce-"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "same-origin");
    let html = login.text().await.unwrap();
    let nonce = csp.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap();
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script carries the CSP nonce"
    );
    assert!(html.contains("Forgot password?"));
}

#[tokio::test]
async fn login_logout_and_generic_failures() {
    let app = spawn_app_logged_out().await;
    assert_eq!(
        app.login(ADMIN, "not-the-password").await,
        Err(AppError::LoginFailed { email: ADMIN.into() })
    );
    assert_eq!(
        app.login("nobody@example.com", "not-the-password").await,
        Err(AppError::LoginFailed { email: "nobody@example.com".into() }),
        "the answer must not reveal whether the account exists"
    );
    app.login(ADMIN, ADMIN_PASSWORD).await.unwrap();
    assert!(app.load().await.is_ok());
    app.logout().await.unwrap();
    assert_eq!(app.load().await, Err(AppError::NotAuthenticated));
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_strict() {
    let app = spawn_app_logged_out().await;
    let res = app
        .client
        .post(format!("{}/api/login", app.url))
        .header("Accept", "application/json")
        .form(&[("email", ADMIN), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("mailroom_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let id = cookie
        .trim_start_matches("mailroom_session=")
        .split(';')
        .next()
        .unwrap();
    assert!(
        app.store.get_session(id).await.unwrap().is_none(),
        "the session id itself must not be stored"
    );
    assert!(app.store.get_session(&auth::token_hash(id)).await.unwrap().is_some());
}

#[tokio::test]
async fn repeated_failures_back_off_even_for_the_right_password() {
    let app = spawn_app_logged_out().await;
    for _ in 0..FREE_FAILURES {
        assert_eq!(app.login(ADMIN, "wrong-wrong").await, Err(AppError::LoginFailed { email: ADMIN.into() }));
    }
    let right = app.login(ADMIN, ADMIN_PASSWORD).await;
    assert!(
        matches!(right, Err(AppError::TooManyAttempts { .. })),
        "{right:?}"
    );
    // Another account from the same address is throttled too (per client address).
    let other = app.login("x@example.com", "whatever-1").await;
    assert!(
        matches!(other, Err(AppError::TooManyAttempts { .. })),
        "{other:?}"
    );
}

#[tokio::test]
async fn the_setup_link_works_once_and_only_with_its_token() {
    let app = spawn_bare(false).await;
    let token = auth::random_token();
    // As the server's start puts it (and another instance's start may put another one).
    app.store.put_once(Once::SetupLink, &auth::token_hash(&token), "", None).await.unwrap();
    let other = auth::random_token();
    app.store.put_once(Once::SetupLink, &auth::token_hash(&other), "", None).await.unwrap();
    let wrong = app
        .setup_admin("not-the-token", "first@example.com", "a long password")
        .await;
    assert!(matches!(wrong, Err(AppError::Forbidden(_))), "{wrong:?}");
    assert_eq!(app.store.admin_count().await.unwrap(), 0);

    app.setup_admin(&token, "First@Example.com", "a long password")
        .await
        .unwrap();
    assert!(app.store.get_admin("first@example.com").await.unwrap().is_some());
    assert!(app.load().await.is_ok(), "setup logs the new admin in");

    let again = app
        .setup_admin(&token, "second@example.com", "a long password")
        .await;
    assert!(
        matches!(again, Err(AppError::Forbidden(_))),
        "the link works once: {again:?}"
    );
    assert!(app.store.get_admin("second@example.com").await.unwrap().is_none());
    // Every link went with the first admin.
    let other_instance = app.setup_admin(&other, "third@example.com", "a long password").await;
    assert!(matches!(other_instance, Err(AppError::Forbidden(_))), "{other_instance:?}");
}

#[tokio::test]
async fn forgotten_password_mail_reset_link_single_use_and_other_sessions_end() {
    let app = spawn_app().await;
    // No mail settings yet: the page says so instead of pretending.
    assert!(app
        .request_password_reset(ADMIN)
        .await
        .unwrap()
        .contains("not available yet"));

    // Mail settings that deliver to the local SMTP server.
    app.save(0, &peer_form("plain")).await.unwrap();
    let unknown = app.request_password_reset("nobody@example.com").await.unwrap();
    let known = app.request_password_reset(ADMIN).await.unwrap();
    assert_eq!(
        unknown.replace("nobody@example.com", "X"),
        known.replace(ADMIN, "X"),
        "same answer either way"
    );

    let mail = peer().wait_for_mail("Reset your Mailroom password", ADMIN).await;
    let link = mail
        .split_whitespace()
        .find(|w| w.contains("/reset?token="))
        .expect("link in mail")
        .to_string();
    let token = link.split("token=").nth(1).unwrap().trim().to_string();
    assert!(app.store.get_session(&token).await.unwrap().is_none());

    // The page checks its link when it opens: a working one shows the form.
    let page = app.page(&format!("{}?token={token}", routes::RESET)).await;
    assert!(page.contains("<form") && !page.contains("link-dead"), "{page}");
    let too_short = app.reset_password(&token, "short").await;
    assert!(
        matches!(&too_short, Err(AppError::Invalid { errors, .. }) if engine::i18n::english(&errors.0[0].1).contains("at least")),
        "{too_short:?}"
    );
    app.reset_password(&token, "brand new password").await.unwrap();
    let again = app.reset_password(&token, "another new password").await;
    assert!(
        matches!(&again, Err(AppError::Forbidden(m)) if m.contains("already used")),
        "a token works once: {again:?}"
    );

    // Used up: the page says so, with a link to ask for a new one, and no form.
    for dead in [token.as_str(), "never-issued"] {
        let page = app.page(&format!("{}?token={dead}", routes::RESET)).await;
        assert!(page.contains("already been used or has expired"), "{page}");
        assert!(page.contains(&format!("href=\"{}\"", routes::FORGOT)), "{page}");
        assert!(!page.contains("<form"), "no form for a dead link: {page}");
    }

    // The reset ended the session the test client had.
    assert_eq!(app.load().await, Err(AppError::NotAuthenticated));
    assert_eq!(app.login(ADMIN, ADMIN_PASSWORD).await, Err(AppError::LoginFailed { email: ADMIN.into() }));
    app.login(ADMIN, "brand new password").await.unwrap();
}

#[tokio::test]
async fn an_expired_reset_token_is_refused() {
    let app = spawn_app_logged_out().await;
    let token = auth::random_token();
    let expired = ResetRecord {
        email: ADMIN.into(),
        expires_at: clock::now_unix() - 1,
    };
    app.store.put_reset(&auth::token_hash(&token), &expired).await.unwrap();
    let r = app.reset_password(&token, "brand new password").await;
    assert!(
        matches!(&r, Err(AppError::Forbidden(m)) if m.contains("expired")),
        "{r:?}"
    );
    assert!(auth::verify_password(
        ADMIN_PASSWORD,
        &app.store.get_admin(ADMIN).await.unwrap().unwrap().password_hash
    ));
}

#[tokio::test]
async fn the_setup_page_shows_its_form_only_for_the_valid_token() {
    let app = spawn_bare(false).await;
    let token = auth::random_token();
    app.store.put_once(Once::SetupLink, &auth::token_hash(&token), "", None).await.unwrap();
    for path in ["/setup".to_string(), "/setup?token=not-the-token".to_string()] {
        let html = app.page(&path).await;
        assert!(html.contains("This setup link is not valid"), "{path}: {html}");
        assert!(!html.contains("<form"), "{path}: no form without the valid token");
    }
    let html = app.page(&format!("/setup?token={token}")).await;
    assert!(html.contains("<form"), "{html}");
    assert!(!html.contains("This setup link is not valid"));
}

/// Without script a failed login comes back to the login page with the email still typed.
#[tokio::test]
async fn a_failed_login_keeps_the_email() {
    let app = spawn_app_logged_out().await;
    let res = app
        .client
        .post(format!("{}{}", app.url, <app::api::Login as leptos::server_fn::ServerFn>::PATH))
        .header("Accept", "text/html")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Referer", format!("{}{}", app.url, routes::LOGIN))
        .body("email=Admin%40Example.com&password=wrong-password-1")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    let location = res.headers()["location"].to_str().unwrap();
    let html = app.page(location.trim_start_matches(app.url.as_str())).await;
    assert!(html.contains("Wrong email or password."), "{location}: {html}");
    assert!(html.contains(r#"value="admin@example.com""#), "the email stays in its field: {html}");
    // The server's set-up steps are for whoever runs it, not for anonymous visitors.
    assert!(!html.contains("admin create"), "{html}");
}

/// Without script the forgot page's form posts, and the answer comes back in the URL.
#[tokio::test]
async fn without_javascript_the_forgot_page_shows_its_answer_after_the_redirect() {
    let app = spawn_app_logged_out().await;
    let res = app
        .client
        .post(format!("{}/api/request_password_reset", app.url))
        .header("Accept", "text/html")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Referer", format!("{}{}", app.url, routes::FORGOT))
        .body("email=admin%40example.com")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(location, format!("{}?answer=no-mail-server", routes::FORGOT));
    let html = app.page(&location).await;
    assert!(html.contains("no mail server is configured"), "{html}");
}

/// The pages without a session are plain HTML: no hydration script, no wasm.
#[tokio::test]
async fn the_pages_without_a_session_carry_no_island_script() {
    let app = spawn_app_logged_out().await;
    for path in [routes::LOGIN, routes::FORGOT, routes::SETUP, routes::RESET] {
        let html = app.page(path).await;
        assert!(html.contains("<main"), "{path}: a main landmark");
        assert!(!html.contains(".wasm"), "{path}: loads no wasm");
        assert!(
            !html.contains("type=\"module\""),
            "{path}: loads no module script"
        );
    }
}
