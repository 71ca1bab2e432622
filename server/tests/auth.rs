//! Admin login, sessions, the same-origin rule, setup, password reset, secrets at rest, logs.

mod common;

use app::{auth, store::{ResetRecord, SettingsStore}};
use common::{peer, peer_form, spawn_app, spawn_app_logged_out, valid_form, Reply, TestApp, ADMIN, ADMIN_PASSWORD};
use std::sync::{Arc, Mutex, OnceLock};

const ENDPOINTS: [&str; 3] = ["load_mail_settings", "save_mail_settings", "test_mail_server"];

fn form_pairs(form: &[(String, String)]) -> Vec<(String, String)> {
    let mut pairs = vec![("version".to_string(), "0".to_string()), ("send_to".to_string(), String::new())];
    pairs.extend(form.iter().map(|(k, v)| (format!("form[{k}]"), v.clone())));
    pairs
}

async fn post(app: &TestApp, endpoint: &str, pairs: &[(String, String)], origin: Option<&str>) -> Reply {
    // A client without the default Origin header and without cookies.
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut req = client.post(format!("{}/api/{endpoint}", app.url)).header("Accept", "application/json").form(pairs);
    if let Some(o) = origin {
        req = req.header("Origin", o);
    }
    let res = req.send().await.unwrap();
    Reply { status: res.status().as_u16(), body: res.text().await.unwrap() }
}

#[tokio::test]
async fn every_server_function_refuses_without_a_session_and_returns_no_data() {
    let app = spawn_app().await;
    assert_eq!(app.save(0, &valid_form()).await.status, 200);
    let pairs = form_pairs(&valid_form());
    for endpoint in ENDPOINTS {
        let reply = post(&app, endpoint, &pairs, Some(&app.url)).await;
        assert_eq!(reply.status, 500, "{endpoint}: {}", reply.body);
        assert_eq!(reply.body, "\"NotAuthenticated\"", "{endpoint} leaked data");
    }
    assert_eq!(app.store.load_mail().unwrap().unwrap().version, 1, "nothing saved without a session");
}

#[tokio::test]
async fn server_functions_refuse_foreign_or_missing_origins() {
    let app = spawn_app().await;
    let pairs = form_pairs(&valid_form());
    for endpoint in ENDPOINTS.iter().chain(&["login", "logout", "request_password_reset", "reset_password"]) {
        for origin in [Some("http://evil.example"), Some("null"), None] {
            let reply = post(&app, endpoint, &pairs, origin).await;
            assert_eq!(reply.status, 403, "{endpoint} with Origin {origin:?}: {}", reply.body);
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
    let res = app.client.get(format!("{}/settings/mail", app.url)).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login?next=%2Fsettings%2Fmail");
    let res = app.client.get(format!("{}/no/such/page", app.url)).send().await.unwrap();
    assert_eq!(res.status(), 303, "unknown pages also need a session");

    let login = app.client.get(format!("{}/login", app.url)).send().await.unwrap();
    assert_eq!(login.status(), 200);
    let h = login.headers().clone();
    let csp = h["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval' 'nonce-"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "same-origin");
    let html = login.text().await.unwrap();
    let nonce = csp.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap();
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "the hydration script carries the CSP nonce");
    assert!(html.contains("Forgot password?"));
}

#[tokio::test]
async fn login_logout_and_generic_failures() {
    let app = spawn_app_logged_out().await;
    let login = |email: &'static str, password: &'static str| {
        let app = &app;
        async move { app.call("login", &[("email".into(), email.into()), ("password".into(), password.into())]).await }
    };
    let wrong = login(ADMIN, "not-the-password").await;
    let unknown = login("nobody@example.com", "not-the-password").await;
    assert_eq!(wrong.body, "\"LoginFailed\"");
    assert_eq!(unknown.body, wrong.body, "the answer must not reveal whether the account exists");

    let ok = login(ADMIN, ADMIN_PASSWORD).await;
    assert!(matches!(ok.status, 200 | 302), "{}", ok.body);
    assert_eq!(app.load().await.status, 200);
    let cookie = app.client.get(format!("{}/login", app.url)).send().await.unwrap();
    drop(cookie);

    let out = app.call("logout", &[]).await;
    assert!(matches!(out.status, 200 | 302), "{}", out.body);
    assert_eq!(app.load().await.body, "\"NotAuthenticated\"");
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
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let id = cookie.trim_start_matches("mailroom_session=").split(';').next().unwrap();
    assert!(app.store.get_session(id).unwrap().is_none(), "the session id itself must not be stored");
    assert!(app.store.get_session(&auth::token_hash(id)).unwrap().is_some());
}

#[tokio::test]
async fn repeated_failures_back_off_even_for_the_right_password() {
    let app = spawn_app_logged_out().await;
    for _ in 0..auth::FREE_FAILURES {
        let r = app.call("login", &[("email".into(), ADMIN.into()), ("password".into(), "wrong-wrong".into())]).await;
        assert_eq!(r.body, "\"LoginFailed\"");
    }
    let r = app.call("login", &[("email".into(), ADMIN.into()), ("password".into(), ADMIN_PASSWORD.into())]).await;
    assert!(r.body.contains("TooManyAttempts"), "{}", r.body);
    // Another account from the same address is throttled too (per client address).
    let r = app.call("login", &[("email".into(), "x@example.com".into()), ("password".into(), "whatever-1".into())]).await;
    assert!(r.body.contains("TooManyAttempts"), "{}", r.body);
}

#[tokio::test]
async fn the_setup_link_works_once_and_only_with_its_token() {
    let app = common::spawn_bare(false).await;
    let token = auth::random_token();
    *app.ctx.setup_token.lock().unwrap() = Some(auth::token_hash(&token));
    let form = |t: &str, email: &str| {
        vec![
            ("token".to_string(), t.to_string()),
            ("email".to_string(), email.to_string()),
            ("password".to_string(), "a long password".to_string()),
            ("confirm".to_string(), "a long password".to_string()),
        ]
    };
    let wrong = app.call("setup_admin", &form("not-the-token", "first@example.com")).await;
    assert!(wrong.body.contains("Forbidden"), "{}", wrong.body);
    assert_eq!(app.store.admin_count().unwrap(), 0);

    let ok = app.call("setup_admin", &form(&token, "First@Example.com")).await;
    assert!(matches!(ok.status, 200 | 302), "{}", ok.body);
    assert!(app.store.get_admin("first@example.com").unwrap().is_some());
    assert_eq!(app.load().await.status, 200, "setup logs the new admin in");

    let again = app.call("setup_admin", &form(&token, "second@example.com")).await;
    assert!(again.body.contains("Forbidden"), "the link works once: {}", again.body);
    assert!(app.store.get_admin("second@example.com").unwrap().is_none());
}

#[tokio::test]
async fn forgotten_password_mail_reset_link_single_use_and_other_sessions_end() {
    let app = spawn_app().await;
    // No mail settings yet: the page says so instead of pretending.
    let r = app.call("request_password_reset", &[("email".into(), ADMIN.into())]).await;
    assert!(r.body.contains("not available yet"), "{}", r.body);

    // Mail settings that deliver to the local SMTP server.
    let mut form = peer_form("plain", &[]);
    form.push(("server_type".into(), "SMTP".into()));
    assert_eq!(app.save(0, &form).await.status, 200);

    let unknown = app.call("request_password_reset", &[("email".into(), "nobody@example.com".into())]).await;
    let known = app.call("request_password_reset", &[("email".into(), ADMIN.into())]).await;
    assert_eq!(known.status, 200, "{}", known.body);
    assert_eq!(unknown.body.replace("nobody@example.com", "X"), known.body.replace(ADMIN, "X"), "same answer either way");

    let mail = wait_for_mail("Reset your Mailroom password", ADMIN).await;
    let link = mail.split_whitespace().find(|w| w.contains("/reset?token=")).expect("link in mail").to_string();
    let token = link.split("token=").nth(1).unwrap().trim().to_string();
    assert!(app.store.get_session(&token).unwrap().is_none());

    let reset = |t: String, pw: &'static str| {
        let app = &app;
        async move {
            app.call("reset_password", &[("token".into(), t), ("password".into(), pw.into()), ("confirm".into(), pw.into())]).await
        }
    };
    let too_short = reset(token.clone(), "short").await;
    assert!(too_short.body.contains("at least"), "{}", too_short.body);
    let done = reset(token.clone(), "brand new password").await;
    assert!(matches!(done.status, 200 | 302), "{}", done.body);
    let again = reset(token.clone(), "another new password").await;
    assert!(again.body.contains("already used"), "a token works once: {}", again.body);

    // The reset ended the session the test client had.
    assert_eq!(app.load().await.body, "\"NotAuthenticated\"");
    let old = app.call("login", &[("email".into(), ADMIN.into()), ("password".into(), ADMIN_PASSWORD.into())]).await;
    assert_eq!(old.body, "\"LoginFailed\"");
    let new = app.call("login", &[("email".into(), ADMIN.into()), ("password".into(), "brand new password".into())]).await;
    assert!(matches!(new.status, 200 | 302), "{}", new.body);
}

#[tokio::test]
async fn an_expired_reset_token_is_refused() {
    let app = spawn_app_logged_out().await;
    let token = auth::random_token();
    app.store.put_reset(&auth::token_hash(&token), &ResetRecord { email: ADMIN.into(), expires_at: auth::now_unix() - 1 }).unwrap();
    let r = app
        .call("reset_password", &[("token".into(), token), ("password".into(), "brand new password".into()), ("confirm".into(), "brand new password".into())])
        .await;
    assert!(r.body.contains("expired"), "{}", r.body);
    assert!(auth::verify_password(ADMIN_PASSWORD, &app.store.get_admin(ADMIN).unwrap().unwrap().password_hash));
}

/// Waits (bounded) for a message to `to` whose text contains `needle` in the peer's spool.
async fn wait_for_mail(needle: &str, to: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        for entry in std::fs::read_dir(&peer().spool).unwrap().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "eml") {
                let raw = std::fs::read(&path).unwrap_or_default();
                // The body is quoted-printable, as a mail client would decode it.
                let decoded = quoted_printable::decode(&raw, quoted_printable::ParseMode::Robust).unwrap_or(raw);
                let text = String::from_utf8_lossy(&decoded).to_string();
                if text.contains(needle) && text.contains(&format!("To: {to}")) && text.contains("token=") {
                    return text;
                }
            }
        }
        assert!(std::time::Instant::now() < deadline, "no mail {needle:?} to {to}");
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_smtp_password_is_in_no_database_file() {
    let app = spawn_app().await;
    let secret = "Unique-SMTP-Secret-4242";
    let form = common::form_with(&[("password", secret)]);
    assert_eq!(app.save(0, &form).await.status, 200);
    app.store.flush().unwrap();
    let mut scanned = 0;
    let mut stack = vec![app.dir.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n != app::secrets::KEY_FILE) {
                let bytes = std::fs::read(&path).unwrap();
                scanned += bytes.len();
                assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "plaintext password in {}", path.display());
            }
        }
    }
    assert!(scanned > 0, "nothing scanned");
    // …and the server still knows it.
    assert_eq!(app.store.load_mail().unwrap().unwrap().value.password, secret);
}

/// Everything logged by this test binary, through a global subscriber at TRACE.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = buf.clone();
        let make = move || LogWriter(writer.clone());
        tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_ansi(false).with_writer(make).init();
        buf
    })
    .clone()
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);
impl std::io::Write for LogWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_of_save_and_test_hold_no_password() {
    let logs = captured_logs();
    let app = spawn_app().await;
    let secret = "correct-password";
    let form = peer_form("plain", &[]);
    assert_eq!(app.save(0, &form).await.status, 200);
    let report = app.test_mail(&form, "").await;
    assert_eq!(report.json()["success"], true, "{}", report.body);
    let wrong = app.test_mail(&peer_form("plain", &[("password", "Wrong-Secret-77")]), "").await;
    assert_eq!(wrong.json()["stage"], "AuthRejected");
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).to_string();
    assert!(text.contains("mail settings saved") && text.contains("mail server test finished"), "logs were captured: {text}");
    for s in [secret, "Wrong-Secret-77", ADMIN_PASSWORD] {
        assert!(!text.contains(s), "{s} in the logs");
    }
}
