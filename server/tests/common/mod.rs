//! The harness: the real axum app on a free loopback port with a real temporary sled.
#![allow(dead_code)]

use app::{api::ctx::ServerContext, auth, secrets::SecretBox, store::{AdminRecord, SettingsStore, SledStore}};
use serde_json::Value;
use server::{router, Config};
use std::{net::SocketAddr, sync::Arc};

pub const ADMIN: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "admin-password-1";

pub struct TestApp {
    pub url: String,
    pub store: Arc<SledStore>,
    /// Logged in as [`ADMIN`] (cookie jar), sending a same-origin Origin header.
    pub client: reqwest::Client,
    pub ctx: ServerContext,
    pub dir: tempfile::TempDir,
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

/// The app with an admin, and a client logged in as that admin.
pub async fn spawn_app() -> TestApp {
    let app = spawn_app_logged_out().await;
    let reply = app.call("login", &[("email".into(), ADMIN.into()), ("password".into(), ADMIN_PASSWORD.into())]).await;
    assert!(reply.status == 302 || reply.status == 200, "login failed: {} {}", reply.status, reply.body);
    app
}

/// The app with an admin; the client has no session.
pub async fn spawn_app_logged_out() -> TestApp {
    spawn_bare(true).await
}

/// The app, with or without the admin [`ADMIN`]; the client has no session.
pub async fn spawn_bare(with_admin: bool) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let secrets = SecretBox::load_or_create(dir.path(), None).unwrap();
    let store = Arc::new(SledStore::open(dir.path(), secrets).unwrap());
    if with_admin {
        store
            .put_admin(AdminRecord { email: ADMIN.into(), password_hash: auth::hash_password(ADMIN_PASSWORD), created_at: "t".into() })
            .unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let config = Config::from_vars(|k| match k {
        "LEPTOS_SITE_ADDR" => Some(addr.to_string()),
        "MAILROOM_DATA_DIR" => Some(dir.path().display().to_string()),
        _ => None,
    })
    .unwrap();
    let ctx = ServerContext::new(store.clone(), format!("http://{addr}"));
    let app = router(&config, ctx.clone());
    tokio::spawn(async move { axum::serve(listener, server::make_service(app)).await.unwrap() });
    let url = format!("http://{addr}");
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("origin", url.parse().unwrap());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .default_headers(headers)
        .build()
        .unwrap();
    TestApp { url, store, client, ctx, dir }
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

/// The real SMTP server on loopback (scripts/smtp_peer.py, aiosmtpd), one per test binary.
pub struct Peer {
    pub ports: std::collections::HashMap<String, u16>,
    pub ca_pem: String,
    pub spool: std::path::PathBuf,
    _child: std::sync::Mutex<std::process::Child>,
}

/// The Python that has aiosmtpd (installed by `scripts/bootstrap.sh --test`).
pub fn peer_python() -> std::path::PathBuf {
    std::env::var_os("MAILROOM_SMTP_PYTHON").map(Into::into).unwrap_or_else(|| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/smtp-venv/bin/python")
    })
}

pub fn peer() -> &'static Peer {
    static PEER: std::sync::OnceLock<Peer> = std::sync::OnceLock::new();
    PEER.get_or_init(|| {
        use std::io::BufRead;
        let python = peer_python();
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/smtp_peer.py");
        // stdin stays open while this process lives; the peer exits when it closes.
        let mut child = std::process::Command::new(&python)
            .arg(&script)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {} ({e}); run scripts/bootstrap.sh --test", python.display()));
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let info: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("peer said {line:?}: {e}"));
        Peer {
            ports: serde_json::from_value(info["ports"].clone()).unwrap(),
            ca_pem: std::fs::read_to_string(info["ca_pem"].as_str().unwrap()).unwrap(),
            spool: info["spool"].as_str().unwrap().into(),
            _child: std::sync::Mutex::new(child),
        }
    })
}

impl Peer {
    pub fn port(&self, name: &str) -> String {
        self.ports[name].to_string()
    }

    /// The message the peer queued under `queue_id`, once it is there.
    pub fn message(&self, queue_id: &str) -> String {
        std::fs::read_to_string(self.spool.join(format!("{queue_id}.eml"))).unwrap()
    }
}

/// A form for the peer: account alerts@example.com with the right password, plain, on `listener`.
pub fn peer_form(listener: &str, changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let p = peer();
    let port = p.port(listener);
    let mut base: Vec<(&str, &str)> = vec![
        ("host", "localhost"),
        ("port", &port),
        ("account", "alerts@example.com"),
        ("password", "correct-password"),
        ("from_address", "alerts@example.com"),
        ("from_name", "Mailroom Alerts"),
        ("timeout", "5"),
        ("starttls", ""),
    ];
    base.retain(|(k, _)| !changes.iter().any(|(c, _)| c == k));
    base.extend_from_slice(changes);
    base.into_iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

impl TestApp {
    /// Runs "Test Email Server" with `form`, sending to `send_to` (blank: the account).
    pub async fn test_mail(&self, form: &[(String, String)], send_to: &str) -> Reply {
        let mut pairs = vec![("send_to".to_string(), send_to.to_string())];
        pairs.extend(form.iter().map(|(k, v)| (format!("form[{k}]"), v.clone())));
        self.call("test_mail_server", &pairs).await
    }
}
