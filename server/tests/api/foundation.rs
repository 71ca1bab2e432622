//! The foundation: pages render on the server, the router answers, sled is wired in.

use crate::helpers::{spawn_app, valid_form};
use app::routes;

#[tokio::test]
async fn save_writes_sled_and_load_reads_it_back() {
    let app = spawn_app().await;
    assert_eq!(app.load().await.unwrap().version, 0);

    let saved = app.save(0, &valid_form()).await.unwrap();
    assert_eq!(saved.version, 1);

    // Straight from the database, not through the server's answer.
    let stored = app.store.load_mail().await.unwrap().expect("record in sled");
    assert_eq!(stored.value.settings.host.as_str(), "smtp.example.com");
    assert_eq!(stored.version, 1);

    assert_eq!(app.load().await.unwrap(), saved);
}

#[tokio::test]
async fn pages_render_on_the_server_with_redirect_and_404() {
    let app = spawn_app().await;
    let root = app.client.get(format!("{}/", app.url)).send().await.unwrap();
    assert!(root.status().is_redirection());
    assert_eq!(root.headers()["location"], routes::MAIL_SETTINGS);

    let html = app.page(routes::MAIL_SETTINGS).await;
    assert!(html.contains("<form"), "form missing from SSR HTML");
    assert!(html.contains("Host Name (SMTP)"));
    // The form is the page's one island, with its props and the script that starts it.
    assert_eq!(html.matches("<leptos-island").count(), 1, "{html}");
    assert!(html.contains("data-props="));
    assert!(html.contains("rel=\"modulepreload\""));

    let missing = app.client.get(format!("{}/nope", app.url)).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn every_public_page_renders_without_a_session() {
    let app = crate::helpers::spawn_app_logged_out().await;
    for page in routes::PUBLIC_PAGES {
        let res = app.client.get(format!("{}{page}", app.url)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{page}");
    }
}

/// The probes answer without a session, say only their status, and are never cached.
#[tokio::test]
async fn livez_and_readyz_answer_without_a_session() {
    let app = crate::helpers::spawn_app_logged_out().await;
    for (path, status) in [("/livez", "live"), ("/readyz", "ready")] {
        let res = reqwest::get(format!("{}{path}", app.url)).await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["cache-control"], "no-store");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body, serde_json::json!({ "status": status }), "{path}");
    }
}
