//! The harness: the real axum app on a free loopback port with a real temporary sled, a real
//! SMTP server on loopback, and a [`TestApp`] with one typed method per server function that
//! returns what the server function returns (decoded into the app's own types).

use app::{
    api::{
        auth::{Login, Logout, RequestPasswordReset, ResetPassword, SetupAdmin},
        mail::{LoadMailSettings, MailSettingsView, SaveMailSettings, TestMailServer},
        server::ServerContext,
    },
    auth,
    domain::{EmailAddress, MailServerForm},
    error::AppError,
    outbox::Message,
    report::TestReport,
    secrets::SecretBox,
    store::{SharedStore, SledStore},
};
use std::time::Duration;
use leptos::server_fn::ServerFn;
use serde::{de::DeserializeOwned, Serialize};
use server::{router, Config};
use std::{net::SocketAddr, sync::Arc};

pub const ADMIN: &str = "admin@example.com";

/// Every server function's path.
pub const SERVER_FUNCTIONS: [&str; 28] = [
    "/api/queue_test_mail",
    "/api/message_note",
    "/api/reset_link_valid",
    "/api/setup_link_valid",
    "/api/disconnect_mailbox",
    "/api/api_tokens",
    "/api/create_api_token",
    "/api/revoke_api_token",
    "/api/mail_activity",
    "/api/mail_activity_html",
    "/api/retry_message",
    "/api/cancel_message",
    "/api/retry_failed_messages",
    "/api/resume_outbox",
    "/api/login",
    "/api/logout",
    "/api/setup_admin",
    "/api/request_password_reset",
    "/api/reset_password",
    "/api/load_mail_settings",
    "/api/save_mail_settings",
    "/api/save_mail_settings_form",
    "/api/test_mail_server",
    "/api/mail_templates",
    "/api/preview_template",
    "/api/save_template",
    "/api/send_template_preview",
    "/api/set_language",
];
pub const ADMIN_PASSWORD: &str = "admin-password-1";

pub struct TestApp {
    pub url: String,
    pub store: SharedStore,
    /// Keeps cookies (the session) and sends a same-origin Origin header.
    pub client: reqwest::Client,
    pub ctx: ServerContext,
    pub dir: tempfile::TempDir,
    _turn: Turn,
}

/// Memory is measured for the whole test process, so a test that measures it runs its app
/// alone: it waits until the other tests' apps have ended, and new ones wait for it.
static TURNS: std::sync::LazyLock<Arc<tokio::sync::RwLock<()>>> = std::sync::LazyLock::new(Default::default);

/// Held by a [`TestApp`] while it lives; never read.
#[allow(dead_code)]
enum Turn {
    Shared(tokio::sync::OwnedRwLockReadGuard<()>),
    Alone(tokio::sync::OwnedRwLockWriteGuard<()>),
}

impl Turn {
    async fn take(alone: bool) -> Self {
        if alone {
            Turn::Alone(TURNS.clone().write_owned().await)
        } else {
            Turn::Shared(TURNS.clone().read_owned().await)
        }
    }
}

/// An answer as it came over the wire, for tests about statuses and headers.
pub struct Reply {
    pub status: u16,
    pub retry_after: Option<u64>,
    pub body: String,
}

/// The app with an admin, and a client logged in as that admin.
pub async fn spawn_app() -> TestApp {
    let app = spawn_app_logged_out().await;
    app.login(ADMIN, ADMIN_PASSWORD)
        .await
        .expect("the test admin logs in");
    app
}

/// The app with an admin; the client has no session.
pub async fn spawn_app_logged_out() -> TestApp {
    spawn_bare(true).await
}

/// [`spawn_app`] (`logged_in`) or [`spawn_app_logged_out`], while no other test's app runs: for
/// tests that measure this process's memory.
pub async fn spawn_alone(logged_in: bool) -> TestApp {
    let app = spawn_configured(true, Default::default(), Default::default(), true).await;
    if logged_in {
        app.login(ADMIN, ADMIN_PASSWORD).await.expect("the test admin logs in");
    }
    app
}

/// The app, with or without the admin [`ADMIN`]; the client has no session.
pub async fn spawn_bare(with_admin: bool) -> TestApp {
    spawn_with(with_admin, server::serve::HttpLimits::default()).await
}

/// The app served with `limits` (short timeouts for the tests of slow clients).
pub async fn spawn_with(with_admin: bool, limits: server::serve::HttpLimits) -> TestApp {
    spawn_configured(with_admin, limits, Tuning::default(), false).await
}

/// What a test may set beside the defaults: the HTTP API's settings, the banner's alarm, the
/// public URL (another instance's, as behind one balancer; by default the instance's own).
pub struct Tuning {
    pub api: server::api::ApiSettings,
    pub failing_alarm_secs: u64,
    pub public_url: Option<String>,
    /// `MAILROOM_MAIL_LANGUAGE`.
    pub mail_language: app::templates::Lang,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            api: Default::default(),
            failing_alarm_secs: app::api::server::FAILING_ALARM_SECS,
            public_url: None,
            mail_language: app::templates::Lang::En,
        }
    }
}

/// The app with an admin and a logged-in client, tuned.
pub async fn spawn_app_with(tuning: Tuning) -> TestApp {
    let app = spawn_configured(true, server::serve::HttpLimits::default(), tuning, false).await;
    app.login(ADMIN, ADMIN_PASSWORD).await.expect("the test admin logs in");
    app
}

/// The store the suite runs on, from `MAILROOM_TEST_STORE`: `sled` (the default, in `dir`) or
/// `postgres` (a new database in this test binary's own PostgreSQL cluster). The whole suite
/// speaks to it through the store's traits.
async fn open_store(dir: &std::path::Path, secrets: SecretBox) -> SharedStore {
    match std::env::var("MAILROOM_TEST_STORE").as_deref() {
        Err(_) | Ok("") | Ok("sled") => Arc::new(SledStore::open(dir, secrets).unwrap()),
        Ok("postgres") => {
            let url = testpg::Cluster::shared().database();
            let options = app::store::PostgresOptions { pool_size: 6, ..Default::default() };
            Arc::new(app::store::PostgresStore::connect(&url, secrets, options).await.unwrap())
        }
        Ok(other) => panic!("MAILROOM_TEST_STORE={other}: the backends are `sled` and `postgres`"),
    }
}

async fn spawn_configured(
    with_admin: bool,
    limits: server::serve::HttpLimits,
    tuning: Tuning,
    alone: bool,
) -> TestApp {
    let turn = Turn::take(alone).await;
    let dir = tempfile::tempdir().unwrap();
    let secrets = SecretBox::load_or_create(dir.path(), None).unwrap();
    let store = open_store(dir.path(), secrets.clone()).await;
    if with_admin {
        create_admin(&store).await;
    }
    serve_app(store, secrets, dir, limits, tuning, turn).await
}

async fn create_admin(store: &SharedStore) {
    auth::set_admin_password(
        store.as_ref(),
        &EmailAddress::parse(ADMIN).unwrap(),
        auth::hash_password(ADMIN_PASSWORD),
    )
    .await
    .unwrap();
}

/// The app over `store`, served on a free loopback port with its own outbox.
async fn serve_app(
    store: SharedStore,
    secrets: SecretBox,
    dir: tempfile::TempDir,
    limits: server::serve::HttpLimits,
    tuning: Tuning,
    turn: Turn,
) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let mut config = Config::from_vars(|k| match k {
        "LEPTOS_SITE_ADDR" => Some(addr.to_string()),
        "MAILROOM_DATA_DIR" => Some(dir.path().display().to_string()),
        _ => None,
    })
    .unwrap();
    config.api = tuning.api;
    let outbox = app::delivery::Outbox::start(store.clone(), fast_outbox());
    let public_url = tuning.public_url.unwrap_or_else(|| format!("http://{addr}"));
    let ctx = ServerContext::new(store.clone(), secrets, public_url, outbox).with_failing_alarm(tuning.failing_alarm_secs)
        .with_mail_language(tuning.mail_language);
    let app = router(&config, ctx.clone());
    tokio::spawn(server::serve::serve(
        listener,
        app,
        limits,
        std::future::pending(),
    ));
    let url = format!("http://{addr}");
    TestApp {
        client: client(&url),
        url,
        store,
        ctx,
        dir,
        _turn: turn,
    }
}

/// `n` instances of the app sharing one new PostgreSQL database (whatever
/// `MAILROOM_TEST_STORE` says) and one secret key, as behind a load balancer: each with its
/// own pool, wake-up listener, outbox worker and data directory. One admin exists; nobody is
/// logged in.
pub async fn spawn_instances(n: usize) -> Vec<TestApp> {
    spawn_instances_on(&testpg::Cluster::shared().database(), n).await
}

/// [`spawn_instances`] on the database at `url`.
pub async fn spawn_instances_on(url: &str, n: usize) -> Vec<TestApp> {
    let mut apps = Vec::with_capacity(n);
    for i in 0..n {
        let options = app::store::PostgresOptions { pool_size: 6, ..Default::default() };
        apps.push(spawn_instance(url, options, i == 0, Tuning::default()).await);
    }
    apps
}

/// One instance on the database at `url` with its pool as `options` say, tuned; the first of a
/// database creates the admin.
pub async fn spawn_instance(url: &str, options: app::store::PostgresOptions, first: bool, tuning: Tuning) -> TestApp {
    let secrets = SecretBox::from_key([41; 32]);
    let store: SharedStore = Arc::new(app::store::PostgresStore::connect(url, secrets.clone(), options).await.unwrap());
    if first {
        create_admin(&store).await;
    }
    let turn = Turn::take(false).await;
    let dir = tempfile::tempdir().unwrap();
    serve_app(store, secrets, dir, Default::default(), tuning, turn).await
}

/// The outbox worker with the retry schedule in seconds instead of minutes, so a deferral is
/// retried within a test.
pub fn fast_outbox() -> app::delivery::WorkerConfig {
    app::delivery::WorkerConfig {
        schedule: app::delivery::policy::RetrySchedule {
            first_secs: 1,
            max_secs: 2,
            give_up_secs: 60,
        },
        idle_poll: std::time::Duration::from_millis(50),
        ..app::delivery::WorkerConfig::default()
    }
}

/// A client like a browser on the app's page: cookies kept, Origin sent, redirects not followed.
pub fn client(url: &str) -> reqwest::Client {
    client_with(url, Default::default())
}

/// [`client`] with the cookies of `jar` (a browser whose requests a load balancer sends to
/// one instance or another: the jar is the browser's).
pub fn client_with(url: &str, jar: Arc<reqwest::cookie::Jar>) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("origin", url.parse().unwrap());
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_provider(jar)
        .timeout(Duration::from_secs(20))
        .default_headers(headers)
        .build()
        .unwrap()
}

impl TestApp {
    /// Calls server function `F` the way the page does (URL-encoded arguments, JSON answer).
    pub async fn call<F>(&self, args: F) -> Result<F::Output, AppError>
    where
        F: ServerFn<Error = AppError> + Serialize,
        F::Output: DeserializeOwned,
    {
        self.call_as(&self.client, args).await
    }

    /// [`Self::call`] with another client (another browser, or one without a session).
    pub async fn call_as<F>(&self, client: &reqwest::Client, args: F) -> Result<F::Output, AppError>
    where
        F: ServerFn<Error = AppError> + Serialize,
        F::Output: DeserializeOwned,
    {
        let reply = self.post(client, F::PATH, encode(&args)).await;
        if (200..400).contains(&reply.status) {
            let body = if reply.body.is_empty() {
                "null"
            } else {
                reply.body.as_str()
            };
            Ok(serde_json::from_str(body)
                .unwrap_or_else(|e| panic!("{}: not the expected answer ({e}): {body}", F::PATH)))
        } else {
            Err(serde_json::from_str(&reply.body).unwrap_or_else(|e| {
                panic!(
                    "{}: {} is not an AppError ({e}): {}",
                    F::PATH,
                    reply.status,
                    reply.body
                )
            }))
        }
    }

    /// Posts `body` (URL-encoded) to `path` and returns the raw answer.
    pub async fn post(&self, client: &reqwest::Client, path: &str, body: String) -> Reply {
        let res = post_args(client, &format!("{}{path}", self.url), body).await;
        Reply {
            status: res.status().as_u16(),
            retry_after: res
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()?.parse().ok()),
            body: res.text().await.unwrap(),
        }
    }

    /// The HTML of the page at `path`, asserting it is answered with 200.
    pub async fn page(&self, path: &str) -> String {
        let res = self
            .client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        res.text().await.unwrap()
    }

    pub async fn load(&self) -> Result<MailSettingsView, AppError> {
        self.call(LoadMailSettings {}).await
    }

    pub async fn save(&self, version: u64, form: &MailServerForm) -> Result<MailSettingsView, AppError> {
        self.call(SaveMailSettings {
            version,
            form: form.clone(),
        })
        .await
    }

    /// "Test Email Server" with `form`, to `send_to` (blank: the account).
    pub async fn test_mail(&self, form: &MailServerForm, send_to: &str) -> Result<TestReport, AppError> {
        Ok(self.test_answer(form, send_to).await?.report)
    }

    /// "Test Email Server" as the page gets it: the report with its card and history rendered.
    pub async fn test_answer(&self, form: &MailServerForm, send_to: &str) -> Result<app::api::mail::TestAnswer, AppError> {
        self.call(TestMailServer {
            form: form.clone(),
            send_to: send_to.into(),
        })
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Result<(), AppError> {
        self.call(Login {
            email: email.into(),
            password: password.into(),
            next: None,
        })
        .await
    }

    pub async fn logout(&self) -> Result<(), AppError> {
        self.call(Logout {}).await
    }

    pub async fn setup_admin(&self, token: &str, email: &str, password: &str) -> Result<(), AppError> {
        let (token, email) = (token.into(), email.into());
        self.call(SetupAdmin {
            token,
            email,
            password: password.into(),
            confirm: password.into(),
        })
        .await
    }

    pub async fn request_password_reset(&self, email: &str) -> Result<String, AppError> {
        self.call(RequestPasswordReset { email: email.into() }).await
    }

    pub async fn reset_password(&self, token: &str, password: &str) -> Result<(), AppError> {
        self.call(ResetPassword {
            token: token.into(),
            password: password.into(),
            confirm: password.into(),
        })
        .await
    }
}

/// This process's resident memory, in KiB (from /proc/self/status).
pub fn rss_kib() -> u64 {
    status_kib("self", "VmRSS:")
}

/// A memory figure (`field`, e.g. "VmHWM:") of process `pid` ("self" for this one), in KiB.
pub fn status_kib(pid: &str, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The server functions that take JSON arguments (the settings island calls them); the others
/// take the URL-encoded forms that browsers post.
pub const JSON_ARGS: [&str; 4] = [
    app::pages::activity::MailActivityHtml::PATH,
    LoadMailSettings::PATH,
    SaveMailSettings::PATH,
    TestMailServer::PATH,
];

/// The arguments of server function `F`, encoded the way the browser sends them.
pub fn encode<F: ServerFn + Serialize>(args: &F) -> String {
    if JSON_ARGS.contains(&F::PATH) {
        serde_json::to_string(args).unwrap()
    } else {
        serde_qs::to_string(args).unwrap()
    }
}

/// Posts `body` (arguments encoded as that server function takes them, see [`encode`]) to
/// `url` the way the page's server-function client does, answering in JSON.
pub async fn post_args(client: &reqwest::Client, url: &str, body: String) -> reqwest::Response {
    let json = JSON_ARGS.iter().any(|path| url.ends_with(path));
    client
        .post(url)
        .header("Accept", "application/json")
        .header(
            "Content-Type",
            if json {
                "application/json"
            } else {
                "application/x-www-form-urlencoded"
            },
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

/// A connection holding a login request whose body never comes (a stalled client).
pub async fn stalled_request(addr: &str, origin: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/login HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail=a"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// A bare HTTP/1.1 POST from `from` (any 127.x.y.z works on Linux's loopback, so each looks
/// like another machine), without a client library's per-client state: the answer's status
/// and whether it has a Retry-After.
pub async fn post_from(url: &str, from: std::net::IpAddr, path: &str, body: &str) -> (u16, bool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr: SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(from, 0)).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nOrigin: {url}\r\nAccept: application/json\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let head = String::from_utf8_lossy(&answer);
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_ascii_lowercase().contains("\r\nretry-after:"))
}

/// A complete, valid form.
pub fn valid_form() -> MailServerForm {
    MailServerForm {
        host: "smtp.example.com".into(),
        port: "587".into(),
        account: "alerts@example.com".into(),
        password: "s3cret-Passw0rd".into(),
        from_address: "alerts@example.com".into(),
        from_name: "Mailroom Alerts".into(),
        starttls: true,
        ..MailServerForm::default()
    }
}

// The real SMTP server on loopback, shared with the tests that run the binary.
#[path = "../peer/mod.rs"]
mod peer;
pub use peer::peer;

/// A form for the peer: account alerts@example.com with the right password, plain, on `listener`.
pub fn peer_form(listener: &str) -> MailServerForm {
    MailServerForm {
        host: "localhost".into(),
        port: peer().port(listener),
        account: "alerts@example.com".into(),
        password: "correct-password".into(),
        from_address: "alerts@example.com".into(),
        from_name: "Mailroom Alerts".into(),
        timeout: "5".into(),
        ..MailServerForm::default()
    }
}

/// Waits until `check` finds what it looks for, checking again after each round of `outbox`'s
/// worker (bounded: 15 s).
pub async fn until<T, F: std::future::Future<Output = Option<T>>>(
    outbox: &app::delivery::Outbox,
    what: &str,
    mut check: impl FnMut() -> F,
) -> T {
    let mut rounds = outbox.rounds();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        rounds.borrow_and_update();
        if let Some(found) = check().await {
            return found;
        }
        tokio::time::timeout_at(deadline, rounds.changed())
            .await
            .unwrap_or_else(|_| panic!("still waiting for {what}"))
            .unwrap();
    }
}

/// Waits until the newest message satisfies `done`, and returns it.
pub async fn newest_message(app: &TestApp, done: impl Fn(&Message) -> bool) -> Message {
    let done = &done;
    until(&app.ctx.outbox, "the newest message", || async move {
        app.store.recent_messages(1).await.unwrap().pop().filter(|m| done(m))
    })
    .await
}

/// Waits until the message `id` is sent, and returns it as the SMTP peer received it, parsed
/// as a mail client would: its subject decoded, and each body part's text decoded.
pub async fn received(app: &TestApp, id: u64) -> (String, Vec<String>) {
    let sent = until(&app.ctx.outbox, "the message sent", || async move {
        app.store.message(id).await.unwrap().filter(|m| m.state == app::outbox::State::Sent)
    })
    .await;
    let answer = &sent.attempts.last().unwrap().text;
    let raw = peer().message(answer.rsplit(' ').next().unwrap());
    let parsed = mailparse::parse_mail(raw.as_bytes()).unwrap();
    let subject = parsed.headers.iter().find(|h| h.get_key() == "Subject").unwrap().get_value();
    let parts = if parsed.subparts.is_empty() { vec![parsed.get_body().unwrap()] } else { parsed.subparts.iter().map(|p| p.get_body().unwrap()).collect() };
    (subject, parts)
}

/// Saves `form` over whatever version is stored.
pub async fn save_settings(app: &TestApp, form: &MailServerForm) {
    let version = app.store.load_mail().await.unwrap().map_or(0, |v| v.version);
    app.save(version, form).await.unwrap();
}


impl TestApp {
    /// A new API token named `name`, as `mailroom token create` makes one.
    pub async fn api_token(&self, name: &str) -> String {
        let token = app::auth::random_token();
        let hash = app::auth::token_hash(&token);
        self.store.create_token(&hash, name, "test", 1).await.unwrap().unwrap();
        token
    }

    /// Calls the HTTP API: `method` `path` with `token` and a JSON body; the status, the
    /// Retry-After header and the JSON answer.
    pub async fn api(&self, method: &str, path: &str, token: Option<&str>, body: Option<serde_json::Value>) -> ApiReply {
        let client = reqwest::Client::new();
        let mut req = client.request(method.parse().unwrap(), format!("{}{path}", self.url));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        ApiReply::of(req.send().await.unwrap()).await
    }
}

/// An answer of the HTTP API.
#[derive(Debug)]
pub struct ApiReply {
    pub status: u16,
    pub retry_after: Option<u64>,
    pub json: serde_json::Value,
}

impl ApiReply {
    pub async fn of(res: reqwest::Response) -> Self {
        let status = res.status().as_u16();
        let retry_after = res
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()?.parse().ok());
        let text = res.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status}, not JSON ({e}): {text}"));
        Self { status, retry_after, json }
    }
}
