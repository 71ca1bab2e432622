//! Settings › Mail Server save and load through the real server functions and a real sled.

mod common;

use app::store::SettingsStore;
use base64::Engine as _;
use common::{form_with, spawn_app, valid_form};

const PASSWORD: &str = "s3cret-Passw0rd";

#[tokio::test]
async fn a_valid_save_stores_every_field_and_returns_no_password() {
    let app = spawn_app().await;
    let form = form_with(&[
        ("host", "SMTP.Example.COM"),
        ("helo_name", "mail.example.org"),
        ("reply_to", "ops@example.com"),
        ("timeout", "30"),
    ]);
    let reply = app.save(0, &form).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(!reply.body.contains(PASSWORD), "password in the save answer: {}", reply.body);
    let body = reply.json();
    assert_eq!(body["password_saved"], true);
    assert_eq!(body["form"]["password"], "");
    assert_eq!(body["form"]["host"], "smtp.example.com", "host normalised");

    let rec = app.store.load_mail().unwrap().unwrap();
    assert_eq!(rec.schema, app::store::SCHEMA_VERSION);
    let v = rec.value;
    assert_eq!((v.host.as_str(), v.port, v.account.as_str()), ("smtp.example.com", 587, "alerts@example.com"));
    assert_eq!(v.password, PASSWORD);
    assert_eq!(v.encryption, app::domain::Encryption::StartTls);
    assert_eq!(v.helo_name.as_deref(), Some("mail.example.org"));
    assert_eq!(v.reply_to.as_deref(), Some("ops@example.com"));
    assert_eq!(v.timeout_secs, 30);
    assert_eq!(v.from_name, "Mailroom Alerts");

    let load = app.load().await;
    assert!(!load.body.contains(PASSWORD), "password in the load answer");
}

#[tokio::test]
async fn each_invalid_field_is_reported_on_that_field_and_nothing_is_saved() {
    let app = spawn_app().await;
    let cases: &[(&str, &str, &str)] = &[
        ("host", "smtp://smtp.example.com", "host"),
        ("host", "smtp.example.com:587", "host"),
        ("port", "70000", "port"),
        ("port", "", "port"),
        ("account", "", "account"),
        ("password", "", "password"),
        ("server_type", "POP3", "server_type"),
        ("from_address", "not-an-address", "from_address"),
        ("from_name", "Ops\r\nBcc: victim@example.com", "from_name"),
        ("ssl", "true", "encryption"),
        ("helo_name", "bad name", "helo_name"),
        ("timeout", "0", "timeout"),
        ("reply_to", "nope", "reply_to"),
    ];
    for (name, value, field) in cases {
        let reply = app.save(0, &form_with(&[(name, value)])).await;
        assert_eq!(reply.status, 500, "{name}={value:?} was accepted");
        let body = reply.json();
        let errors = body["Invalid"]["errors"].as_array().expect("field errors");
        assert_eq!(errors.len(), 1, "{name}={value:?}: {errors:?}");
        assert_eq!(errors[0][0], serde_json::json!(to_variant(field)), "{name}={value:?}");
        assert!(errors[0][1].as_str().unwrap().len() > 10, "message says what to fix");
        assert!(!reply.body.contains(PASSWORD), "password echoed back");
    }
    assert_eq!(app.store.load_mail().unwrap(), None, "an invalid form saved something");
}

fn to_variant(id: &str) -> String {
    app::domain::Field::ALL.iter().find(|f| f.id() == id).map(|f| format!("{f:?}")).unwrap()
}

#[tokio::test]
async fn a_save_over_a_newer_version_is_a_conflict() {
    let app = spawn_app().await;
    assert_eq!(app.save(0, &valid_form()).await.status, 200);
    assert_eq!(app.save(1, &form_with(&[("from_name", "Second")])).await.status, 200);
    let stale = app.save(1, &form_with(&[("from_name", "Stale")])).await;
    assert_eq!(stale.status, 500);
    let conflict = &stale.json()["Conflict"];
    assert_eq!(conflict["current"], 2);
    assert!(conflict["saved_at"].as_str().unwrap().starts_with("20"), "{conflict}");
    assert_eq!(app.store.load_mail().unwrap().unwrap().value.from_name, "Second");
}

#[tokio::test]
async fn blank_password_keeps_the_saved_one_while_the_login_is_unchanged() {
    let app = spawn_app().await;
    app.save(0, &valid_form()).await;
    let reply = app.save(1, &form_with(&[("password", ""), ("from_name", "Renamed")])).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let v = app.store.load_mail().unwrap().unwrap().value;
    assert_eq!((v.password.as_str(), v.from_name.as_str()), (PASSWORD, "Renamed"));
}

#[tokio::test]
async fn blank_password_is_refused_when_host_port_or_account_changed() {
    let app = spawn_app().await;
    app.save(0, &valid_form()).await;
    for change in [("host", "smtp.other.example"), ("port", "2525"), ("account", "other@example.com")] {
        let reply = app.save(1, &form_with(&[("password", ""), change])).await;
        assert_eq!(reply.status, 500, "{change:?}");
        let errors = &reply.json()["Invalid"]["errors"];
        assert_eq!(errors[0][0], "Password", "{change:?}: {errors}");
    }
    let v = app.store.load_mail().unwrap().unwrap();
    assert_eq!((v.version, v.value.host.as_str()), (1, "smtp.example.com"));
}

#[tokio::test]
async fn without_javascript_a_failed_save_redirects_back_with_errors_and_the_form_minus_password() {
    let app = spawn_app().await;
    let mut pairs = vec![("version".to_string(), "0".to_string())];
    pairs.extend(form_with(&[("port", "abc")]).into_iter().map(|(k, v)| (format!("form[{k}]"), v)));
    let res = app
        .client
        .post(format!("{}/api/save_mail_settings", app.url))
        .header("Accept", "text/html")
        .header("Referer", format!("{}/settings/mail", app.url))
        .form(&pairs)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    let location = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(location.path(), "/settings/mail");
    let err = location.query_pairs().find(|(k, _)| k == "__err").expect("__err").1.to_string();
    let err = String::from_utf8(base64::engine::general_purpose::URL_SAFE.decode(err).unwrap()).unwrap();
    assert!(!err.contains(PASSWORD), "password in the redirect URL");
    let err: serde_json::Value = serde_json::from_str(&err).unwrap();
    assert_eq!(err["Invalid"]["errors"][0][0], "Port");
    assert_eq!(err["Invalid"]["submitted"]["host"], "smtp.example.com");

    // The page at that address shows the submitted values and the message, server-rendered.
    let html = app.client.get(location.as_str()).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(r#"value="abc""#), "submitted port not shown again");
    assert!(html.contains("The port is a whole number"), "port message missing");
    assert!(!html.contains(PASSWORD));
}
