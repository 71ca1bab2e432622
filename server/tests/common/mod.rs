//! The harness: the real axum app on a free loopback port with a real temporary sled.
#![allow(dead_code)]

use app::store::SledStore;
use serde_json::Value;
use server::{router, Config};
use std::{net::SocketAddr, sync::Arc};

pub struct TestApp {
    pub url: String,
    pub store: Arc<SledStore>,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
}

pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

pub async fn spawn_app() -> TestApp {
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
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    TestApp { url: format!("http://{addr}"), store, client, _dir: dir }
}

/// A complete, valid form as `(name, value)` pairs, the way the browser posts it.
pub fn valid_form() -> Vec<(String, String)> {
    [
        ("host", "smtp.example.com"),
        ("port", "587"),
        ("account", "alerts@example.com"),
        ("password", "s3cret-Passw0rd"),
        ("server_type", "SMTP"),
        ("from_address", "alerts@example.com"),
        ("from_name", "Mailroom Alerts"),
        ("starttls", "true"),
        ("timeout", "15"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// `valid_form()` with `changes` applied (an empty value removes the field, as an unchecked box).
pub fn form_with(changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut form = valid_form();
    for (k, v) in changes {
        form.retain(|(name, _)| name != k);
        if !v.is_empty() {
            form.push((k.to_string(), v.to_string()));
        }
    }
    form
}

impl TestApp {
    pub async fn call(&self, endpoint: &str, pairs: &[(String, String)]) -> Reply {
        let res = self
            .client
            .post(format!("{}/api/{endpoint}", self.url))
            .header("Accept", "application/json")
            .form(pairs)
            .send()
            .await
            .unwrap();
        Reply { status: res.status().as_u16(), body: res.text().await.unwrap() }
    }

    pub async fn load(&self) -> Reply {
        self.call("load_mail_settings", &[]).await
    }

    /// Posts `form` (field names without the `form[...]` wrapper) as loaded from `version`.
    pub async fn save(&self, version: u64, form: &[(String, String)]) -> Reply {
        let mut pairs = vec![("version".to_string(), version.to_string())];
        pairs.extend(form.iter().map(|(k, v)| (format!("form[{k}]"), v.clone())));
        self.call("save_mail_settings", &pairs).await
    }
}
