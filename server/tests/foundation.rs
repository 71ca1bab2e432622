//! The foundation: pages render on the server, the router answers, sled is wired in.

mod common;

use app::store::SettingsStore;
use common::{spawn_app, valid_form};
use server::Config;

#[tokio::test]
async fn save_writes_sled_and_load_reads_it_back() {
    let app = spawn_app().await;
    let empty = app.load().await;
    assert_eq!(empty.status, 200);
    assert_eq!(empty.json()["version"], 0);

    let saved = app.save(0, &valid_form()).await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert_eq!(saved.json()["version"], 1);

    // Straight from the database, not through the server's answer.
    let stored = app.store.load_mail().unwrap().expect("record in sled");
    assert_eq!(stored.value.host, "smtp.example.com");
    assert_eq!(stored.version, 1);

    assert_eq!(app.load().await.json(), saved.json());
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
