//! A data directory made ready for the real binary (crash.rs, full_disk.rs): an admin and mail
//! settings, written through the store before the server starts.

use app::{
    auth,
    domain::{EmailAddress, MailServer, MailServerForm, MailServerSettings},
    secrets::SecretBox,
    store::{MailSettingsStore, SledStore},
};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const ADMIN: &str = "admin@example.com";

/// The database in `dir` (made if missing), with the directory's key.
pub fn open(dir: &Path) -> SledStore {
    std::fs::create_dir_all(dir).unwrap();
    SledStore::open(dir, SecretBox::load_or_create(dir, None).unwrap()).unwrap()
}

/// A loopback port nobody listens on (mail sent there stays queued).
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An admin, and mail settings pointing at `port` on loopback; the store, still open.
pub async fn prepare(dir: &Path, port: u16) -> SledStore {
    let store = open(dir);
    let admin = EmailAddress::parse(ADMIN).unwrap();
    auth::set_admin_password(&store, &admin, auth::hash_password("a long admin password")).await.unwrap();
    let form = MailServerForm {
        host: "localhost".into(),
        port: port.to_string(),
        account: "alerts@example.com".into(),
        password: "secret-password".into(),
        from_address: "alerts@example.com".into(),
        timeout: "30".into(),
        ..MailServerForm::default()
    };
    let parsed = MailServerSettings::parse(&form, None).unwrap();
    store
        .save_mail(0, MailServer::from_form(parsed, None).unwrap(), ADMIN).await
        .unwrap();
    store
}

/// The server's process and its log so far.
pub struct Server {
    pub child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

/// Starts the real binary on a free port with the data in `dir` and `env` besides; `Ok` with its
/// URL once it listens, `Err` with its exit status and log if it exits first. Its log is read
/// all along, so it never blocks on a full pipe.
pub fn start(dir: &Path, env: &[(&str, &str)]) -> Result<(Server, String), (ExitStatus, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .env("MAILROOM_DATA_DIR", dir)
        .env("MAILROOM_OUTBOX_STOP_GRACE_SECS", "1")
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        match lines.next() {
            Some(Ok(line)) => {
                log.lock().unwrap().push(line.clone());
                if let Some(rest) = line.split("listening on ").nth(1) {
                    break rest.split_whitespace().next().unwrap().to_string();
                }
            }
            _ => {
                let status = child.wait().unwrap();
                return Err((status, log.lock().unwrap().join("\n")));
            }
        }
    };
    let kept = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            kept.lock().unwrap().push(line);
        }
    });
    Ok((Server { child, log }, url))
}

impl Server {
    pub fn stop(mut self) -> ExitStatus {
        let term = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(term.success());
        self.child.wait().unwrap()
    }

    /// Waits for the process to end by itself, within `limit`: its exit status and its log, or
    /// `None` with the log (the process is then killed).
    pub fn exits_within(self, limit: Duration) -> (Option<ExitStatus>, String) {
        let Server { mut child, log } = self;
        let pid = child.id().to_string();
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let _ = tx.send(child.wait().unwrap());
        });
        let status = rx.recv_timeout(limit).ok();
        if status.is_none() {
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
        }
        let _ = waiter.join();
        let log = log.lock().unwrap().join("\n");
        (status, log)
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// The metrics listener's address (`MAILROOM_METRICS_LISTEN`), from its start-up line.
    pub fn metrics_addr(&self) -> String {
        let log = self.log();
        let line = log.lines().find(|l| l.contains("metrics on http://")).unwrap_or_else(|| panic!("no metrics line: {log}"));
        line.split("metrics on http://").nth(1).unwrap().split('/').next().unwrap().to_string()
    }

    /// The value of one series in a scrape of its `/metrics` (`name` with its labels as the
    /// text format writes them), `None` when absent.
    pub async fn metric(&self, series: &str) -> Option<f64> {
        let text = reqwest::get(format!("http://{}/metrics", self.metrics_addr())).await.ok()?.text().await.ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
            .and_then(|v| v.trim().parse().ok())
    }
}
