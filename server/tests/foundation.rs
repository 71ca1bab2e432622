//! Integration tests: the real axum app on a free loopback port with a real temporary sled.

use app::store::{SettingsStore, SledStore};
use serde_json::Value;
use server::{router, Config};
use std::{net::SocketAddr, sync::Arc};

struct TestApp {
    url: String,
    store: Arc<SledStore>,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SledStore::open(dir.path()).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let config = Config::from_vars(|k| match k {
        "LEPTOS_SITE_ADDR" => Some(addr.to_string()),
        "MAILROOM_DATA_DIR" => Some(dir.path().display().to_string()),
        _ => None,
    })
    .unwrap();
    let app = router(&config, store.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp { url: format!("http://{addr}"), store, client, _dir: dir }
}

impl TestApp {
    async fn call(&self, endpoint: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let res = self
            .client
            .post(format!("{}/api/{endpoint}", self.url))
            .header("Accept", "application/json")
            .form(form)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap())
    }
}

#[tokio::test]
async fn save_writes_sled_and_load_reads_it_back() {
    let app = spawn_app().await;
    let (status, empty) = app.call("load_mail_settings", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(empty["version"], 0);

    let (status, saved) = app.call("save_mail_settings", &[("version", "0"), ("host", " smtp.example.com ")]).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["version"], 1);
    assert_eq!(saved["host"], "smtp.example.com");

    // Straight from the database, not through the server's answer.
    let stored = app.store.load_mail().unwrap().expect("record in sled");
    assert_eq!(stored.value.host, "smtp.example.com");
    assert_eq!(stored.version, 1);

    let (_, loaded) = app.call("load_mail_settings", &[]).await;
    assert_eq!(loaded, saved);
}

#[tokio::test]
async fn stale_version_answers_conflict_and_keeps_the_newer_value() {
    let app = spawn_app().await;
    app.call("save_mail_settings", &[("version", "0"), ("host", "first.example")]).await;
    let (status, err) = app.call("save_mail_settings", &[("version", "0"), ("host", "second.example")]).await;
    assert_eq!(status, 500);
    assert_eq!(err, serde_json::json!({ "Conflict": { "current": 1 } }));
    assert_eq!(app.store.load_mail().unwrap().unwrap().value.host, "first.example");
}

#[tokio::test]
async fn empty_host_is_a_field_error_and_nothing_is_saved() {
    let app = spawn_app().await;
    let (status, err) = app.call("save_mail_settings", &[("version", "0"), ("host", "  ")]).await;
    assert_eq!(status, 500);
    assert_eq!(err["Invalid"]["fields"][0][0], "host");
    assert_eq!(app.store.load_mail().unwrap(), None);
}

#[tokio::test]
async fn pages_render_on_the_server_with_redirect_and_404() {
    let app = spawn_app().await;
    let root = app.client.get(format!("{}/", app.url)).send().await.unwrap();
    assert!(root.status().is_redirection());
    assert_eq!(root.headers()["location"], "/settings/mail");

    let page = app.client.get(format!("{}/settings/mail", app.url)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<form"), "form missing from SSR HTML");
    assert!(html.contains("Host Name (SMTP)"));

    let missing = app.client.get(format!("{}/nope", app.url)).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains("Page not found"));
}

#[test]
fn config_defaults_and_bad_address() {
    let config = Config::from_vars(|_| None).unwrap();
    assert_eq!(config.addr.to_string(), "127.0.0.1:3000");
    assert_eq!(config.data_dir, std::path::PathBuf::from("./data"));
    let err = Config::from_vars(|k| (k == "LEPTOS_SITE_ADDR").then(|| "localhost".to_string())).unwrap_err();
    assert!(err.to_string().contains("127.0.0.1:3000"), "{err}");
}
