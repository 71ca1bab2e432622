//! OAuth2 as a mailbox, end to end over HTTP: "Sign in with …" (`/oauth/start`), the test
//! peer's authorization endpoint (approves at once), the callback without the session cookie
//! (as the provider's cross-site redirect arrives), sends with the refresh token through AUTH
//! XOAUTH2, rotation, revocation, and every refusal of the sign-in.

use crate::helpers::{peer, peer_form, save_settings, spawn_app, until, TestApp};
use app::{
    api::{activity::QueueTestMail, oauth::DisconnectMailbox},
    domain::{Field, MailServerForm},
    report::Diagnosis,
};

/// Settings that sign in as the mailbox alerts@example.com through the peer's app `client`.
pub(crate) fn mailbox_form(client: &str) -> MailServerForm {
    let oauth = format!("http://127.0.0.1:{}/{{tenant}}/oauth2/v2.0", peer().port("oauth"));
    MailServerForm {
        authentication: "oauth2".into(),
        password: String::new(),
        oauth_grant: "mailbox".into(),
        oauth_token_url: format!("{oauth}/token"),
        oauth_auth_url: format!("{oauth}/authorize"),
        oauth_tenant: "contoso".into(),
        oauth_client_id: client.into(),
        oauth_client_secret: "app-secret".into(),
        oauth_scopes: "https://outlook.office.com/SMTP.Send offline_access".into(),
        ..peer_form("plain")
    }
}

/// A browser without this site's cookies: how the provider's redirect back arrives.
pub(crate) fn cross_site_browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// What one redirect answered: status and Location.
pub(crate) async fn get(client: &reqwest::Client, url: &str, headers: &[(&str, &str)]) -> (u16, String, String) {
    let mut request = client.get(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let res = request.send().await.unwrap();
    let location = res
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (res.status().as_u16(), location, res.text().await.unwrap())
}

/// "Sign in with …" as the browser runs it: the app's redirect to the provider, the provider's
/// redirect back, and the callback; returns the callback's status, page and URL.
async fn sign_in(app: &TestApp) -> (u16, String, String) {
    let (status, provider, body) = get(
        &app.client,
        &format!("{}/oauth/start", app.url),
        &[("sec-fetch-site", "same-origin")],
    )
    .await;
    assert_eq!(status, 303, "{body}");
    let (status, callback, body) = get(&cross_site_browser(), &provider, &[]).await;
    assert_eq!(status, 302, "the peer approves at once: {body}");
    assert!(
        callback.starts_with(&format!("{}/oauth/callback?", app.url)),
        "{callback}"
    );
    let (status, _, page) = get(&cross_site_browser(), &callback, &[]).await;
    (status, page, callback)
}


async fn stored_refresh_token(app: &TestApp) -> String {
    let saved = app.store.load_mail().await.unwrap().unwrap();
    saved
        .value
        .mailbox
        .expect("a mailbox is connected")
        .refresh_token
        .expose()
        .to_string()
}

#[tokio::test]
async fn a_mailbox_signs_in_in_the_browser_and_sends_with_its_refresh_token() {
    let app = spawn_app().await;
    save_settings(&app, &mailbox_form("app-mailbox")).await;
    let view = app.load().await.unwrap();
    let mailbox = view.mailbox.clone().expect("the page offers the sign-in");
    assert_eq!(mailbox.connected, None);
    assert_eq!(view.redirect_uri, format!("{}/oauth/callback", app.url));

    // Before any sign-in a send names the missing connection and the field.
    let report = app.test_mail(&view.form, "ops@example.com").await.unwrap();
    assert_eq!(report.diagnosis, Some(Diagnosis::MailboxSignIn), "{report:#?}");
    assert_eq!(report.field(), Some(Field::OAuthGrant));
    assert!(report.advice.join(" ").contains("Sign in"), "{:?}", report.advice);

    // The redirect to the provider carries PKCE, the state, the login hint and offline access.
    let (_, provider, _) = get(
        &app.client,
        &format!("{}/oauth/start", app.url),
        &[("sec-fetch-site", "same-origin")],
    )
    .await;
    let query: std::collections::HashMap<String, String> = url::Url::parse(&provider)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert!(
        provider.contains("/contoso/oauth2/v2.0/authorize?"),
        "tenant filled in: {provider}"
    );
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["login_hint"], "alerts@example.com");
    assert!(
        query["scope"].contains("offline_access") && query["scope"].contains("openid"),
        "{query:?}"
    );

    let (status, page, callback) = sign_in(&app).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("alerts@example.com</strong> is connected"),
        "{page}"
    );
    assert!(page.contains("href=\"/settings/mail\""), "a link back: {page}");
    let (again, _, used) = get(&cross_site_browser(), &callback, &[]).await;
    assert_eq!(again, 400, "a state is used once: {used}");
    assert!(used.contains("already used"), "{used}");

    let view = app.load().await.unwrap();
    let (account, _, by) = view.mailbox.clone().unwrap().connected.expect("connected");
    assert_eq!(
        (account.as_str(), by.as_str()),
        ("alerts@example.com", crate::helpers::ADMIN)
    );
    assert_eq!(view.version, 2, "connecting is a version of its own");
    let history = app.store.recent_audit(1).await.unwrap()[0].changes[0].describe(&engine::i18n::english);
    assert_eq!(
        history,
        "connected the mailbox \u{201c}alerts@example.com\u{201d} (OAuth2)"
    );
    let first = stored_refresh_token(&app).await;
    let page = app.page("/settings/mail").await;
    assert!(
        page.contains("Sign in with") && page.contains("alerts@example.com"),
        "the page shows the mailbox"
    );
    assert!(
        !page.contains(&first) && !page.contains("app-secret"),
        "no token or secret on the page"
    );

    // A send gets an access token with the refresh token and signs in as the mailbox.
    let report = app.test_mail(&view.form, "ops@example.com").await.unwrap();
    assert_eq!(report.diagnosis, None, "{report:#?}");
    assert!(report
        .transcript
        .iter()
        .any(|l| l.client && l.text == "AUTH XOAUTH2 <credentials hidden>"));
    let noted = &report.transcript[0].text;
    assert!(
        noted.starts_with(
            "# OAuth2: new access token for the mailbox alerts@example.com from http://127.0.0.1:"
        ) && noted.ends_with("(refresh token), valid 59 min"),
        "{noted}"
    );
    assert_eq!(peer().tokens_issued("refresh:app-mailbox").await, 1);
    assert_ne!(
        stored_refresh_token(&app).await,
        first,
        "the rotated refresh token is stored"
    );
    // The token is kept for the connection, not for its (rotated) refresh token.
    let again = app.test_mail(&view.form, "ops@example.com").await.unwrap();
    assert_eq!(again.diagnosis, None, "{again:#?}");
    assert!(
        again.transcript[0].text.contains("from the cache"),
        "{:?}",
        again.transcript[0]
    );
    assert_eq!(peer().tokens_issued("refresh:app-mailbox").await, 1);

    // Disconnect: forgotten, in the history, and sends name the missing sign-in again.
    app.call(DisconnectMailbox {}).await.unwrap();
    let view = app.load().await.unwrap();
    assert_eq!(view.mailbox.unwrap().connected, None);
    let history = app.store.recent_audit(1).await.unwrap()[0].changes[0].describe(&engine::i18n::english);
    assert_eq!(
        history,
        "disconnected the mailbox \u{201c}alerts@example.com\u{201d}"
    );
    let report = app.test_mail(&view.form, "ops@example.com").await.unwrap();
    assert_eq!(report.diagnosis, Some(Diagnosis::MailboxSignIn));
}

#[tokio::test]
async fn expired_tokens_are_refreshed_and_a_revoked_consent_pauses_the_outbox_until_signed_in_again() {
    let app = spawn_app().await;
    // short-*: access tokens of one second, so every send refreshes.
    save_settings(&app, &mailbox_form("short-mailbox")).await;
    assert_eq!(sign_in(&app).await.0, 200);
    let form = app.load().await.unwrap().form;
    for _ in 0..2 {
        assert_eq!(
            app.test_mail(&form, "ops@example.com").await.unwrap().diagnosis,
            None
        );
    }
    assert_eq!(
        peer().tokens_issued("refresh:short-mailbox").await,
        2,
        "an expired token is fetched again"
    );

    // The mailbox's owner withdraws consent: the provider refuses the refresh token.
    reqwest::Client::new()
        .post(format!("http://127.0.0.1:{}/revoke", peer().port("oauth")))
        .form(&[("client_id", "short-mailbox")])
        .send()
        .await
        .unwrap();
    let report = app.test_mail(&form, "ops@example.com").await.unwrap();
    assert_eq!(report.diagnosis, Some(Diagnosis::MailboxSignIn), "{report:#?}");
    assert!(report.summary.contains("AADSTS70000"), "{}", report.summary);

    // The outbox holds its mail while the sign-in is gone, and sends it once signed in again.
    app.call(QueueTestMail {}).await.unwrap();
    let paused = until(&app.ctx.outbox, "the outbox to pause", || app.ctx.outbox.paused()).await;
    assert!(paused.reason.contains("AADSTS70000"), "{}", paused.reason);
    assert_eq!(sign_in(&app).await.0, 200);
    crate::helpers::newest_message(&app, |m| m.state == app::outbox::State::Sent).await;
    assert!(app.ctx.outbox.paused().await.is_none());
}

#[tokio::test]
async fn every_refusal_of_a_sign_in_says_what_to_do() {
    let app = spawn_app().await;
    let start = format!("{}/oauth/start", app.url);
    let same = [("sec-fetch-site", "same-origin")];

    // Nothing that signs in as a mailbox is saved yet.
    let (status, _, page) = get(&app.client, &start, &same).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("Save the mail settings first"), "{page}");
    save_settings(&app, &peer_form("plain")).await;
    let (status, _, page) = get(&app.client, &start, &same).await;
    assert_eq!(status, 400);
    assert!(page.contains("do not sign in as a mailbox"), "{page}");

    // No session: to the login page. From another site: refused.
    let (status, location, _) = get(&cross_site_browser(), &start, &[]).await;
    assert_eq!(
        (status, location.starts_with("/login")),
        (303, true),
        "{location}"
    );
    save_settings(&app, &mailbox_form("deny-mailbox")).await;
    let (status, _, _) = get(&app.client, &start, &[("sec-fetch-site", "cross-site")]).await;
    assert_eq!(status, 403);

    // The mailbox refuses consent.
    let (status, page, _) = sign_in(&app).await;
    assert_eq!(status, 403, "{page}");
    assert!(
        page.contains("access_denied") && page.contains("consent"),
        "{page}"
    );

    // A callback that no sign-in started, or without its parts.
    for query in ["", "?state=made-up&code=x", "?state=%00%ff&code=", "?error=x"] {
        let (status, _, page) = get(
            &cross_site_browser(),
            &format!("{}/oauth/callback{query}", app.url),
            &[],
        )
        .await;
        assert_eq!(status, 400, "{query}: {page}");
        assert!(page.contains("Start it again"), "{page}");
    }

    // The settings change to another app while the admin signs in: nothing is connected.
    save_settings(&app, &mailbox_form("app-first")).await;
    let (_, provider, _) = get(&app.client, &start, &same).await;
    let (_, callback, _) = get(&cross_site_browser(), &provider, &[]).await;
    save_settings(&app, &mailbox_form("app-second")).await;
    let (status, _, page) = get(&cross_site_browser(), &callback, &[]).await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("changed while signing in"), "{page}");
    assert_eq!(app.load().await.unwrap().mailbox.unwrap().connected, None);
}
