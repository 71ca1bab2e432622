//! Running it as a service, with the real binary: at SIGTERM `/readyz` turns 503 at once while
//! the server still serves for `MAILROOM_SHUTDOWN_DELAY_SECS`, then it exits cleanly; the log
//! as JSON lines, each request's with its id (the proxy's, or a new one), never a query.
//! `/metrics` scraped by a real Prometheus (Debian's `prometheus`, started here with a scrape
//! configuration pointing at the binary's metrics listener) and checked by `promtool check
//! metrics`: the figures move as mail is sent, refused for good, deferred and paused, as the
//! API answers and a login fails. Settings as configuration: provided by the environment and
//! by a file, saved once, read-only on the page, a wrong value refused at start with its
//! variable; the first admin and API tokens given as hashes.

// Shared with crash.rs and full_disk.rs, which use more of it.
#[allow(dead_code)]
mod prepared;
// The real SMTP server on loopback, shared with the integration tests.
#[allow(dead_code)]
mod peer;

use app::domain::{MailServer, MailServerForm, MailServerSettings};
use app::store::{MailSettingsStore, TokenStore};
use peer::peer;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A form for the peer's plain listener, signing in as alerts@example.com with `password`.
fn peer_form(password: &str) -> MailServerForm {
    MailServerForm {
        host: "localhost".into(),
        port: peer().port("plain"),
        account: "alerts@example.com".into(),
        password: password.into(),
        from_address: "alerts@example.com".into(),
        timeout: "5".into(),
        ..MailServerForm::default()
    }
}

/// An admin, settings for the peer with `password`, and an API token (returned).
async fn prepare(dir: &std::path::Path, password: &str) -> String {
    let store = prepared::prepare(dir, prepared::closed_port()).await;
    let current = store.load_mail().await.unwrap().unwrap();
    let parsed = MailServerSettings::parse(&peer_form(password), None).unwrap();
    store.save_mail(current.version, MailServer::from_form(parsed, None).unwrap(), "test").await.unwrap();
    let (token, _) = app::auth::create_api_token(&store, "metrics-test", Default::default(), "test").await.unwrap().unwrap();
    assert!(store.token_by_hash(&app::auth::token_hash(&token)).await.unwrap().is_some());
    token
}

/// Debian's Prometheus scraping `target` every half second, on a free port of its own.
struct Prometheus {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    fn start(target: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 500ms\n  scrape_timeout: 400ms\nscrape_configs:\n  - job_name: mailroom\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .unwrap();
        let port = prepared::closed_port();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start prometheus ({e}); run scripts/bootstrap.sh --test"));
        Self { child, url: format!("http://127.0.0.1:{port}"), _dir: dir }
    }

    /// The value of an instant query's single series, once Prometheus has one that `ok`
    /// accepts (bounded: 30 s; Prometheus is another process with nothing to wait on but its
    /// answers).
    async fn until(&self, query: &str, ok: impl Fn(f64) -> bool) -> f64 {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut last = String::new();
        loop {
            let answer = client
                .get(format!("{}/api/v1/query", self.url))
                .query(&[("query", query)])
                .send()
                .await;
            if let Ok(answer) = answer {
                let body: serde_json::Value = answer.json().await.unwrap_or_default();
                last = body.to_string();
                let value = body["data"]["result"][0]["value"][1].as_str().and_then(|v| v.parse::<f64>().ok());
                if let Some(value) = value.filter(|v| ok(*v)) {
                    return value;
                }
            }
            assert!(Instant::now() < deadline, "Prometheus never had {query} as wanted; last answer: {last}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn send(client: &reqwest::Client, url: &str, token: &str, to: &str) -> u16 {
    client
        .post(format!("{url}/api/v1/messages"))
        .bearer_auth(token)
        .json(&serde_json::json!({"to": [to], "subject": "metrics", "text": "hello"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}


#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_turns_503_at_sigterm_while_the_server_still_serves_then_it_exits() {
    let dir = tempfile::tempdir().unwrap();
    drop(prepared::prepare(dir.path(), prepared::closed_port()).await);
    let (server, url) = prepared::start(dir.path(), &[("MAILROOM_SHUTDOWN_DELAY_SECS", "3")])
        .unwrap_or_else(|(status, log)| panic!("{status}: {log}"));
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let get = |path: &str| client.get(format!("{url}{path}")).send();
    assert_eq!(get("/readyz").await.unwrap().status(), 200);

    let term = std::process::Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let asked = Instant::now();
    let not_ready = loop {
        let res = get("/readyz").await.unwrap();
        if res.status() == 503 {
            break res;
        }
        assert!(asked.elapsed() < Duration::from_secs(2), "still ready {:?} after SIGTERM", asked.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(not_ready.headers().contains_key("retry-after"));
    let body: serde_json::Value = not_ready.json().await.unwrap();
    assert_eq!(body["reason"], "shutting down");
    // Still serving: the process answers, a page too.
    assert_eq!(get("/livez").await.unwrap().status(), 200);
    assert_eq!(get("/login").await.unwrap().status(), 200);

    let (status, log) = server.exits_within(Duration::from_secs(15));
    let took = asked.elapsed();
    assert!(status.is_some_and(|s| s.success()), "{status:?}: {log}");
    assert!(took >= Duration::from_secs(3), "closed after {took:?}, before the delay");
    assert!(log.contains("not ready; serving on before closing the listener"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_name_each_request_by_its_id_and_never_hold_a_query() {
    let dir = tempfile::tempdir().unwrap();
    drop(prepared::prepare(dir.path(), prepared::closed_port()).await);
    let (server, url) = prepared::start(dir.path(), &[("MAILROOM_LOG_FORMAT", "json")])
        .unwrap_or_else(|(status, log)| panic!("{status}: {log}"));
    let client = reqwest::Client::new();
    let from_proxy = client
        .get(format!("{url}/login?token=secret-setup-token"))
        .header("x-request-id", "lb-4bf92f35-77b3")
        .send()
        .await
        .unwrap();
    assert_eq!(from_proxy.headers()["x-request-id"], "lb-4bf92f35-77b3", "echoed back");
    let hostile = client.get(format!("{url}/livez")).header("x-request-id", "a\"b{}").send().await.unwrap();
    let given = hostile.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(given.len() == 22 && given != "a\"b{}", "a new id in place of the hostile one: {given}");
    let plain = client.get(format!("{url}/readyz")).send().await.unwrap();
    let new_id = plain.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_ne!(new_id, given, "each request its own id");

    // Each answered request is one JSON line naming its id (read until all three are there).
    let deadline = Instant::now() + Duration::from_secs(10);
    let lines = loop {
        let log = server.log();
        let lines: Vec<serde_json::Value> = log
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
            .collect();
        let answered = |id: &str| lines.iter().any(|l| l["span"]["request_id"] == id && l["status"].is_number());
        if answered("lb-4bf92f35-77b3") && answered(&given) && answered(&new_id) {
            break lines;
        }
        assert!(Instant::now() < deadline, "requests not logged with their ids: {log}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let login = lines.iter().find(|l| l["span"]["request_id"] == "lb-4bf92f35-77b3").unwrap();
    assert_eq!(login["span"]["path"], "/login");
    assert!(!server.log().contains("secret-setup-token"), "no query string in the log");
    assert!(server.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_figures_that_move_as_mail_is_sent_refused_and_paused() {
    let dir = tempfile::tempdir().unwrap();
    let token = prepare(dir.path(), "correct-password").await;
    let env = [
        ("MAILROOM_METRICS_LISTEN", "127.0.0.1:0"),
        ("MAILROOM_OUTBOX_RETRY_FIRST_SECS", "3600"),
    ];
    let (server, url) = prepared::start(dir.path(), &env).unwrap_or_else(|(status, log)| panic!("{status}: {log}"));
    let target = server.metrics_addr();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();

    // Not on the admin panel's port.
    let panel = client.get(format!("{url}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(!panel.contains("# TYPE"), "{panel}");
    let prometheus = Prometheus::start(&target);
    prometheus.until("up{job=\"mailroom\"}", |v| v == 1.0).await;

    assert_eq!(send(&client, &url, &token, "ops@example.com").await, 202);
    assert_eq!(send(&client, &url, &token, "reject-rcpt@example.com").await, 202);
    assert_eq!(send(&client, &url, &token, "defer-once-a@example.com").await, 202);
    let unauthorized = client.post(format!("{url}/api/v1/messages")).body("{}").send().await.unwrap();
    assert_eq!(unauthorized.status(), 401);
    let login = client
        .post(format!("{url}/api/login"))
        .header("Origin", &url)
        .header("Accept", "application/json")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("email=admin%40example.com&password=not-the-password")
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 401);

    let sent = "mailroom_delivery_attempts_total{result=\"sent\",step=\"sent\"}";
    assert_eq!(prometheus.until(sent, |v| v >= 1.0).await, 1.0);
    prometheus.until("mailroom_delivery_attempts_total{result=\"failed\",step=\"rcpt to\"}", |v| v >= 1.0).await;
    prometheus.until("mailroom_delivery_attempts_total{result=\"deferred\",step=\"rcpt to\"}", |v| v >= 1.0).await;
    prometheus.until("mailroom_outbox_messages{state=\"sent\"}", |v| v == 1.0).await;
    prometheus.until("mailroom_outbox_messages{state=\"failed\"}", |v| v == 1.0).await;
    prometheus.until("mailroom_outbox_messages{state=\"deferred\"}", |v| v == 1.0).await;
    prometheus
        .until("mailroom_http_requests_total{route=\"/api/v1/messages\",status=\"202\"}", |v| v == 3.0)
        .await;
    prometheus
        .until("mailroom_http_requests_total{route=\"/api/v1/messages\",status=\"401\"}", |v| v == 1.0)
        .await;
    prometheus.until("mailroom_login_failures_total{reason=\"wrong_password\"}", |v| v == 1.0).await;
    prometheus.until("mailroom_smtp_send_duration_seconds_count", |v| v >= 3.0).await;
    prometheus.until("mailroom_process_resident_memory_bytes", |v| v > 1e6).await;
    prometheus.until("sum(mailroom_outbox_paused)", |v| v == 0.0).await;
    prometheus.until("mailroom_outbox_oldest_due_age_seconds", |v| v == 0.0).await;

    // The format, as Prometheus' own linter reads it.
    let text = client.get(format!("http://{target}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(!text.contains("ops@example.com") && !text.contains(&token), "no address, no secret");
    let mut check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    check.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let checked = check.wait_with_output().unwrap();
    assert!(
        checked.status.success() && checked.stdout.is_empty() && checked.stderr.is_empty(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    for help in ["# HELP mailroom_delivery_attempts_total ", "# TYPE mailroom_smtp_send_duration_seconds histogram"] {
        assert!(text.contains(help), "{help} missing:\n{text}");
    }
    assert!(server.stop().success());
    drop(prometheus);

    // A refused password pauses the outbox: the pause and the waiting mail show.
    let store = prepared::open(dir.path());
    let current = store.load_mail().await.unwrap().unwrap();
    let parsed = MailServerSettings::parse(&peer_form("wrong-password"), None).unwrap();
    store.save_mail(current.version, MailServer::from_form(parsed, None).unwrap(), "test").await.unwrap();
    drop(store);
    let (server, url) = prepared::start(dir.path(), &env).unwrap_or_else(|(status, log)| panic!("{status}: {log}"));
    let prometheus = Prometheus::start(&server.metrics_addr());
    assert_eq!(send(&client, &url, &token, "ops@example.com").await, 202);
    prometheus.until("mailroom_outbox_paused{reason=\"login_refused\"}", |v| v == 1.0).await;
    prometheus.until("mailroom_delivery_attempts_total{result=\"held\",step=\"login\"}", |v| v == 1.0).await;
    // Held while paused (deferred, with its attempt), and due: its wait grows.
    prometheus.until("mailroom_outbox_messages{state=\"deferred\"}", |v| v == 2.0).await;
    prometheus.until("mailroom_outbox_oldest_due_age_seconds", |v| v >= 1.0).await;
    prometheus.until("mailroom_outbox_paused{reason=\"other\"}", |v| v == 0.0).await;
    assert!(server.stop().success());
}

/// The settings page as the admin sees it after logging in through the login form's post.
async fn settings_page(url: &str, email: &str, password: &str) -> (reqwest::Client, String) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let body = format!("email={}&password={}", email.replace('@', "%40"), password);
    let login = client
        .post(format!("{url}/api/login"))
        .header("Origin", url)
        .header("Accept", "application/json")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(login.status().is_success() || login.status().is_redirection(), "login: {}", login.status());
    let page = client.get(format!("{url}{}", app::routes::MAIL_SETTINGS)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    (client, page.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configuration_provides_settings_admin_and_token_so_a_deployment_needs_no_clicks() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let path = secrets.path().join(name);
        std::fs::write(&path, format!("{text}\n")).unwrap();
        path.display().to_string()
    };
    let smtp_password = file("smtp", "correct-password");
    let admin_password = file("admin", "provisioned admin password");
    let token = "tok-4f0c2b7e9d1a4c6b8e3f5a7d9c1b3e5f";
    let hash = app::auth::token_hash(token);
    let tokens = format!("# the alerting tools\nprometheus:{hash}\n");
    let port = peer().port("plain");
    let env = [
        ("MAILROOM_SMTP_HOST", "localhost"),
        ("MAILROOM_SMTP_PORT", port.as_str()),
        ("MAILROOM_SMTP_ACCOUNT", "alerts@example.com"),
        ("MAILROOM_SMTP_PASSWORD_FILE", smtp_password.as_str()),
        ("MAILROOM_SMTP_ENCRYPTION", "none"),
        ("MAILROOM_SMTP_FROM_ADDRESS", "alerts@example.com"),
        ("MAILROOM_SMTP_FROM_NAME", "Provisioned Alerts"),
        ("MAILROOM_ADMIN_EMAIL", "ops@example.com"),
        ("MAILROOM_ADMIN_PASSWORD_FILE", admin_password.as_str()),
        ("MAILROOM_API_TOKENS", tokens.as_str()),
    ];
    let (server, url) = prepared::start(dir.path(), &env).unwrap_or_else(|(status, log)| panic!("{status}: {log}"));
    assert!(!server.log().contains("no admin account yet"), "the admin exists: no setup link");

    // The token and the settings work: the mail arrives at the SMTP server.
    let client = reqwest::Client::new();
    assert_eq!(send(&client, &url, token, "provisioned@example.com").await, 202);
    let mail = peer().wait_for_mail("hello", "provisioned@example.com").await;
    assert!(mail.contains("Provisioned Alerts"), "{mail}");

    // The page shows them read-only, with what sets each; a save is refused.
    let (admin, page) = settings_page(&url, "ops@example.com", "provisioned admin password").await;
    assert!(page.contains("Managed by configuration"), "{page}");
    for source in ["MAILROOM_SMTP_HOST", "MAILROOM_SMTP_PASSWORD_FILE", "MAILROOM_SMTP_FROM_NAME"] {
        assert!(page.contains(source), "{source} not named on the page");
    }
    assert!(page.contains(r#"<fieldset disabled class="managed-wrap">"#), "fields disabled: {page}");
    assert!(!page.contains(r#"id="save""#), "no Save button");
    let save = admin
        .post(format!("{url}/api/save_mail_settings"))
        .header("Origin", &url)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .body(serde_json::json!({"version": 1, "form": peer_form("changed-password")}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(save.status(), 403);
    assert!(save.text().await.unwrap().contains("managed by configuration"));
    assert!(server.stop().success());

    // A restart with the same configuration changes nothing: one version, one history entry.
    let (server, _) = prepared::start(dir.path(), &env).unwrap_or_else(|(status, log)| panic!("{status}: {log}"));
    assert!(server.log().contains("already saved"), "{}", server.log());
    assert!(server.stop().success());
    let store = prepared::open(dir.path());
    let saved = store.load_mail().await.unwrap().unwrap();
    assert_eq!((saved.version, saved.value.password.expose()), (1, "correct-password"));
    let history = app::store::AuditStore::recent_audit(&store, 10).await.unwrap();
    assert_eq!(history.len(), 2, "the settings and the token, once each: {history:?}");
    assert!(history.iter().all(|e| e.who == "configuration"), "{history:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settings_file_is_read_and_a_wrong_value_stops_the_server_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    drop(prepared::prepare(dir.path(), prepared::closed_port()).await);
    let files = tempfile::tempdir().unwrap();
    let password = files.path().join("smtp-password");
    std::fs::write(&password, "correct-password\n").unwrap();
    let settings = files.path().join("mail.toml");
    let port = peer().port("plain");
    std::fs::write(
        &settings,
        format!(
            "host = \"localhost\"\nport = {port}\naccount = \"alerts@example.com\"\npassword_file = {:?}\nencryption = \"none\"\nfrom_address = \"alerts@example.com\"\ntimeout = 5\n",
            password.display().to_string()
        ),
    )
    .unwrap();
    let settings = settings.display().to_string();
    let (server, _) = prepared::start(dir.path(), &[("MAILROOM_SETTINGS_FILE", settings.as_str())])
        .unwrap_or_else(|(status, log)| panic!("{status}: {log}"));
    let log = server.log();
    assert!(log.contains("mail settings from the configuration saved"), "{log}");
    assert!(server.stop().success(), "{log}");
    let store = prepared::open(dir.path());
    let saved = store.load_mail().await.unwrap().unwrap();
    assert_eq!(saved.value.settings.to_form().port, port);
    assert_eq!(saved.value.password.expose(), "correct-password");
    drop(store);

    // Each refusal stops the server before it listens, naming the variable or key and why.
    let bad_file = files.path().join("bad.toml");
    std::fs::write(&bad_file, "host = \"localhost\"\nprot = 25\n").unwrap();
    let bad_file = bad_file.display().to_string();
    for (env, says) in [
        (vec![("MAILROOM_SMTP_HOST", "localhost"), ("MAILROOM_SMTP_PORT", "99999"), ("MAILROOM_SMTP_AUTHENTICATION", "none"), ("MAILROOM_SMTP_FROM_ADDRESS", "a@example.com")], "MAILROOM_SMTP_PORT: "),
        (vec![("MAILROOM_SMTP_HOST", "localhost"), ("MAILROOM_SMTP_PORT", "25"), ("MAILROOM_SMTP_ENCRYPTION", "tls1.3")], "MAILROOM_SMTP_ENCRYPTION: "),
        (vec![("MAILROOM_SMTP_HOST", "localhost"), ("MAILROOM_SMTP_PORT", "25"), ("MAILROOM_SMTP_ACCOUNT", "a@example.com"), ("MAILROOM_SMTP_FROM_ADDRESS", "a@example.com")], "MAILROOM_SMTP_PASSWORD (not set): "),
        (vec![("MAILROOM_SETTINGS_FILE", bad_file.as_str())], "unknown key \"prot\""),
        (vec![("MAILROOM_SETTINGS_FILE", settings.as_str()), ("MAILROOM_SMTP_HOST", "other")], "both set"),
        (vec![("MAILROOM_ADMIN_EMAIL", "ops@example.com"), ("MAILROOM_ADMIN_PASSWORD", "short")], "MAILROOM_ADMIN_PASSWORD: "),
        (vec![("MAILROOM_API_TOKENS", "grafana:abc")], "not 64 hex digits"),
    ] {
        match prepared::start(dir.path(), &env) {
            Ok((server, _)) => panic!("started with {env:?}: {}", server.log()),
            Err((status, log)) => {
                assert!(!status.success());
                assert!(log.contains(says), "{env:?} should say {says:?}: {log}");
            }
        }
    }
    // Nothing of those was saved.
    let store = prepared::open(dir.path());
    assert_eq!(store.load_mail().await.unwrap().unwrap().version, saved.version);
}

/// A private Postfix (its own configuration and queue in a temporary directory) relaying
/// through Mailroom's SMTP listener. Postfix's master starts as root only: this test needs
/// root, as CI has.
struct Postfix {
    dir: tempfile::TempDir,
}

impl Postfix {
    fn start(relay_port: u16, user: &str, token: &str) -> Postfix {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        // The queue is read by the postfix user.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let (conf, queue, data) = (dir.path().join("conf"), dir.path().join("queue"), dir.path().join("data"));
        for d in [&conf, &queue, &data] {
            std::fs::create_dir(d).unwrap();
        }
        assert!(Command::new("chown").args(["postfix"]).arg(&data).status().unwrap().success(), "this test needs root, as CI has");
        std::fs::write(
            conf.join("main.cf"),
            format!(
                "compatibility_level = 3.6\nqueue_directory = {queue}\ndata_directory = {data}\ncommand_directory = /usr/sbin\n\
                 daemon_directory = /usr/lib/postfix/sbin\nshlib_directory = /usr/lib/postfix\nmail_owner = postfix\nsetgid_group = postdrop\n\
                 myhostname = relay.test\ninet_interfaces = loopback-only\ninet_protocols = ipv4\nmydestination =\n\
                 relayhost = [127.0.0.1]:{relay_port}\nsmtp_sasl_auth_enable = yes\nsmtp_sasl_password_maps = static:{user}:{token}\n\
                 smtp_sasl_security_options = noanonymous\nmaillog_file_prefixes = {root}\nmaillog_file = {root}/maillog\n",
                queue = queue.display(),
                data = data.display(),
                root = dir.path().display(),
            ),
        )
        .unwrap();
        // Debian's master.cf without chroot (the queue is not set up for one) and without the
        // SMTP server (this Postfix only relays what sendmail gives it).
        let master: String = std::fs::read_to_string("/etc/postfix/master.cf")
            .expect("postfix is installed: scripts/bootstrap.sh --test")
            .lines()
            .filter(|l| !l.starts_with("smtp      inet"))
            .map(|l| {
                let mut fields: Vec<&str> = l.split_whitespace().collect();
                if !l.starts_with('#') && !l.starts_with(' ') && fields.len() >= 8 && fields[4] == "y" {
                    fields[4] = "n";
                    return fields.join(" ") + "\n";
                }
                format!("{l}\n")
            })
            .collect();
        std::fs::write(conf.join("master.cf"), master).unwrap();
        let started = Command::new("postfix").arg("-c").arg(&conf).arg("start").output().unwrap();
        let log = std::fs::read_to_string(dir.path().join("maillog")).unwrap_or_default();
        assert!(started.status.success(), "postfix start (this test needs root, as CI has): {log}{}", String::from_utf8_lossy(&started.stderr));
        Postfix { dir }
    }

    /// `sendmail -t`, as a cron job or a script would hand Postfix a message.
    fn sendmail(&self, message: &str) {
        use std::io::Write;
        let mut child = Command::new("sendmail")
            .arg("-C")
            .arg(self.dir.path().join("conf"))
            .args(["-f", "job@relay.test", "-t"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(message.as_bytes()).unwrap();
        assert!(child.wait().unwrap().success());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("maillog")).unwrap_or_default()
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = Command::new("postfix").arg("-c").arg(self.dir.path().join("conf")).arg("stop").output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postfix_relays_sendmail_mail_through_mailroom_signing_in_with_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let store = prepared::prepare(dir.path(), prepared::closed_port()).await;
    let current = store.load_mail().await.unwrap().unwrap();
    let parsed = MailServerSettings::parse(&peer_form("correct-password"), None).unwrap();
    store.save_mail(current.version, MailServer::from_form(parsed, None).unwrap(), "test").await.unwrap();
    let (token, _) = app::auth::create_api_token(&store, "postfix", app::domain::TokenUse::Smtp, "test").await.unwrap().unwrap();
    drop(store);
    let port = prepared::closed_port();
    let listen = format!("127.0.0.1:{port}");
    let (server, _) = prepared::start(dir.path(), &[("MAILROOM_SMTP_LISTEN", listen.as_str())])
        .unwrap_or_else(|(status, log)| panic!("{status}: {log}"));

    let postfix = Postfix::start(port, "postfix", &token);
    let tag = format!("relayed-{}", std::process::id());
    postfix.sendmail(&format!("To: cron-reports@example.com\nSubject: {tag}\n\nThe nightly job finished.\n"));
    let mail = peer().wait_for_mail(&tag, "cron-reports@example.com").await;
    // Postfix wrote From with the user's name (root <job@relay.test>): kept as Reply-To.
    assert!(mail.contains("From: alerts@example.com") && mail.contains("Reply-To: root <job@relay.test>"), "{mail}");
    assert!(mail.contains("Received: from relay.test") && mail.contains("Received: by relay.test (Postfix"), "{mail}");
    let log = postfix.log();
    assert!(log.contains("relay=127.0.0.1[127.0.0.1]") && log.contains("status=sent (250 2.0.0 Queued as"), "{log}");
    assert!(server.stop().success());
}
