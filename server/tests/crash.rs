//! Crash safety of the outbox, with the real binary: killed with SIGKILL while password-reset
//! requests (each enqueues a message) are under way, every request that was answered has its
//! message in the database afterwards (several rounds, each killed at another moment); stopped
//! with SIGTERM while a send hangs, it ends within the outbox's grace and the message is kept;
//! on PostgreSQL, one of two instances killed mid-drain leaves its messages to the other.

// Shared with full_disk.rs, which uses more of it.
#[allow(dead_code)]
mod prepared;

use app::store::OutboxStore;
use prepared::{closed_port, open, prepare, ADMIN};
use std::net::{IpAddr, Ipv4Addr};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// Starts the server on a free port and returns it with its URL once it listens.
fn start(dir: &std::path::Path) -> (Child, String) {
    let (server, url) = prepared::start(dir, &[]).unwrap_or_else(|(status, log)| panic!("{status}: {log}"));
    (server.child, url)
}

/// One reset request from its own loopback address (the per-address rate limit).
async fn request_reset(url: String, from: IpAddr) -> bool {
    let client = reqwest::Client::builder()
        .local_address(from)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let answer = client
        .post(format!("{url}/api/request_password_reset"))
        .header("Origin", &url)
        .header("Accept", "application/json")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("email={}", ADMIN.replace('@', "%40")))
        .send()
        .await;
    matches!(answer, Ok(r) if r.status().is_success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_acknowledged_message_is_lost_to_a_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    drop(prepare(dir.path(), closed_port()).await);
    let mut acknowledged = 0usize;
    for round in 0u8..4 {
        let (mut child, url) = start(dir.path());
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for i in 0u8..40 {
            let (url, tx) = (url.clone(), tx.clone());
            tokio::spawn(async move {
                let from = IpAddr::V4(Ipv4Addr::new(127, 10 + round, i, 1));
                let _ = tx.send(request_reset(url, from).await);
            });
        }
        drop(tx);
        // Kill it after a different number of answers each round, with requests still under way.
        let kill_after = 5 + 8 * usize::from(round);
        let mut answered = 0;
        let deadline = Instant::now() + Duration::from_secs(30);
        while answered < kill_after && Instant::now() < deadline {
            match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await {
                Ok(Some(true)) => {
                    answered += 1;
                    acknowledged += 1;
                }
                Ok(Some(false)) => {}
                _ => break,
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        // Answers that arrived before the kill count too.
        while let Ok(ok) = rx.try_recv() {
            acknowledged += usize::from(ok);
        }
        assert!(answered >= kill_after, "round {round}: only {answered} answers");
        let store = open(dir.path());
        let stored = store.recent_messages(usize::MAX).await.unwrap().len();
        assert!(
            stored >= acknowledged,
            "round {round}: {acknowledged} enqueues acknowledged, {stored} messages stored"
        );
        println!("round {round}: {acknowledged} acknowledged, {stored} stored");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_a_hanging_send_within_the_grace_and_keeps_the_message() {
    // A mail server that accepts connections and never says a word.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    drop(prepare(dir.path(), silent.local_addr().unwrap().port()).await);
    let (mut child, url) = start(dir.path());
    assert!(request_reset(url, IpAddr::V4(Ipv4Addr::new(127, 20, 0, 1))).await);
    // The send is under way once the worker connects.
    let (_held, _) = tokio::time::timeout(Duration::from_secs(15), silent.accept())
        .await
        .expect("the outbox connects")
        .unwrap();
    let asked = Instant::now();
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    let took = asked.elapsed();
    assert!(status.success(), "{status:?}");
    // One second of grace for the send (the settings' timeout is 30 s), plus the shutdown.
    assert!(took < Duration::from_secs(6), "took {took:?}");
    let store = open(dir.path());
    let messages = store.recent_messages(10).await.unwrap();
    assert_eq!(messages.len(), 1);
    assert!(
        messages[0].state.pending(),
        "kept for the next start: {:?}",
        messages[0]
    );
    // It was in flight when the process stopped; the reopen (sled's lock: its holder is gone)
    // gave it back to the queue.
    assert_eq!(messages[0].state, app::outbox::State::Queued, "{:?}", messages[0]);
}

/// An SMTP server on loopback that takes every message until `hold_after` have been taken, then
/// holds each conversation at DATA without an answer (a send under way, for as long as its
/// client lives) until [`Sink::release`]. It keeps each taken message's recipient.
struct Sink {
    port: u16,
    taken: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// How many were taken so far, to wait on.
    arrivals: tokio::sync::watch::Receiver<usize>,
    held: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    hold_after: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Sink {
    async fn start(hold_after: usize) -> Sink {
        use std::sync::atomic::Ordering::SeqCst;
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (arrived, arrivals) = tokio::sync::watch::channel(0usize);
        let arrived = std::sync::Arc::new(arrived);
        let sink = Sink {
            port: listener.local_addr().unwrap().port(),
            taken: Default::default(),
            arrivals,
            held: Default::default(),
            hold_after: std::sync::Arc::new(hold_after.into()),
        };
        let (taken, held, holding) = (sink.taken.clone(), sink.held.clone(), sink.hold_after.clone());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (taken, held, holding, arrived) = (taken.clone(), held.clone(), holding.clone(), arrived.clone());
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                    let mut rcpt = String::new();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                        let answer = match verb.as_str() {
                            "EHLO" | "HELO" => "250 sink\r\n",
                            "RCPT" => {
                                rcpt = line[8..].trim_matches(|c| c == '<' || c == '>' || c == ' ').to_string();
                                "250 ok\r\n"
                            }
                            "DATA" if taken.lock().unwrap().len() >= holding.load(SeqCst) => {
                                held.fetch_add(1, SeqCst);
                                // No answer: wait for the client to go away.
                                while let Ok(Some(_)) = lines.next_line().await {}
                                held.fetch_sub(1, SeqCst);
                                return;
                            }
                            "DATA" => {
                                let _ = write.write_all(b"354 go on\r\n").await;
                                while let Ok(Some(l)) = lines.next_line().await {
                                    if l == "." {
                                        break;
                                    }
                                }
                                let n = {
                                    let mut all = taken.lock().unwrap();
                                    all.push(std::mem::take(&mut rcpt));
                                    all.len()
                                };
                                arrived.send_replace(n);
                                "250 ok: queued\r\n"
                            }
                            "QUIT" => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                return;
                            }
                            _ => "250 ok\r\n",
                        };
                        if write.write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        sink
    }

    /// Takes every message from now on (the conversations held so far stay held).
    fn release(&self) {
        self.hold_after.store(usize::MAX, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Two instances on one PostgreSQL database: the first, killed with SIGKILL mid-drain with
/// sends under way, leaves its claimed messages under leases that end; the second takes them
/// over once they do and sends everything. Nothing is lost, and nothing the first had not in
/// flight is sent twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_an_instance_killed_mid_drain_leaves_its_messages_to_the_other() {
    use app::outbox::{Priority, State};
    use app::store::{MailSettingsStore, NewMessage, PostgresStore};
    use base64::Engine;
    const MESSAGES: usize = 40;
    const LEASE_SECS: u64 = 3;
    let sink = Sink::start(10).await;
    let url = testpg::Cluster::shared().database();
    let key = [5u8; 32];
    let store = PostgresStore::connect(&url, app::secrets::SecretBox::from_key(key), Default::default()).await.unwrap();
    let form = app::domain::MailServerForm {
        host: "localhost".into(),
        port: sink.port.to_string(),
        authentication: "none".into(),
        from_address: "alerts@example.com".into(),
        timeout: "30".into(),
        ..Default::default()
    };
    let parsed = app::domain::MailServerSettings::parse(&form, None).unwrap();
    store.save_mail(0, app::domain::MailServer::from_form(parsed, None).unwrap(), ADMIN).await.unwrap();
    let messages = (0..MESSAGES)
        .map(|i| NewMessage {
            origin: Default::default(),
            to: format!("m{i}@example.com"),
            subject: format!("message {i}"),
            body: app::store::MailBody { text: format!("body {i}"), html: None, thread: None, raw: None },
            priority: Priority::Normal,
            expires_at: None,
        })
        .collect();
    store.enqueue(messages, None, app::clock::now_unix()).await.unwrap();

    let key_text = base64::engine::general_purpose::STANDARD.encode(key);
    let lease = LEASE_SECS.to_string();
    let env = [
        ("MAILROOM_DATABASE_URL", url.as_str()),
        ("MAILROOM_SECRET_KEY", key_text.as_str()),
        ("MAILROOM_OUTBOX_LEASE_SECS", lease.as_str()),
    ];
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (first, _) = prepared::start(dir_a.path(), &env).unwrap_or_else(|(s, log)| panic!("{s}: {log}"));

    // Ten taken, then every send the first instance starts is held at DATA.
    let deadline = Instant::now() + Duration::from_secs(30);
    while sink.held.load(std::sync::atomic::Ordering::SeqCst) < 4 {
        assert!(Instant::now() < deadline, "the first instance never had 4 sends under way: {}", first.log());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let in_flight: Vec<_> = store
        .recent_messages(MESSAGES)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.state == State::Sending)
        .map(|m| m.id)
        .collect();
    assert!(in_flight.len() >= 4, "{in_flight:?}");
    let mut child = first.child;
    child.kill().unwrap();
    let killed_at = Instant::now();
    child.wait().unwrap();
    sink.release();
    let taken_by_first = sink.taken.lock().unwrap().len();

    let second_env = [env.as_slice(), &[("MAILROOM_METRICS_LISTEN", "127.0.0.1:0")]].concat();
    let (second, _) = prepared::start(dir_b.path(), &second_env).unwrap_or_else(|(s, log)| panic!("{s}: {log}"));
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut rescued_after = None;
    loop {
        let all = store.recent_messages(MESSAGES).await.unwrap();
        if rescued_after.is_none() && in_flight.iter().all(|id| all.iter().any(|m| m.id == *id && m.state == State::Sent)) {
            rescued_after = Some(killed_at.elapsed());
        }
        if all.iter().all(|m| m.state == State::Sent) {
            break;
        }
        assert!(Instant::now() < deadline, "not all sent: {all:?}\n{}", second.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The second instance's metrics say what it did: it rescued what the first held, and sent.
    let rescued = second.metric("mailroom_outbox_rescued_leases_total").await.unwrap_or(0.0);
    assert!(rescued >= in_flight.len() as f64, "rescued {rescued}, the first held {}", in_flight.len());
    let sent = second.metric("mailroom_delivery_attempts_total{result=\"sent\",step=\"sent\"}").await.unwrap_or(0.0);
    assert!(sent >= in_flight.len() as f64, "the second sent {sent}");
    second.stop();
    let taken = sink.taken.lock().unwrap().clone();
    let distinct: std::collections::HashSet<&String> = taken.iter().collect();
    assert_eq!(distinct.len(), MESSAGES, "every message arrived");
    assert!(
        taken.len() - MESSAGES <= in_flight.len(),
        "{} arrivals for {MESSAGES} messages; the killed instance had {} in flight",
        taken.len(),
        in_flight.len()
    );
    // Its leases held them until they ended (renewed every second up to the kill, so ending a
    // second after it at the earliest): not taken over at once.
    let done_after = rescued_after.expect("its messages were sent");
    println!(
        "first instance: {taken_by_first} sent (not yet recorded), {} claimed when killed; all sent by the second \
         {done_after:?} after the kill (lease {LEASE_SECS} s); {} arrivals for {MESSAGES} messages",
        in_flight.len(),
        taken.len()
    );
    assert!(done_after >= Duration::from_secs(1), "its messages were sent {done_after:?} after the kill");
}

/// A message the SMTP listener answered 250 for is on the disk: killed with SIGKILL right after
/// the answers, the server started again (now with a mail server that takes mail) sends every
/// one of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_mail_answered_250_survives_a_kill_9_and_is_delivered_after_the_restart() {
    const MESSAGES: usize = 10;
    let dir = tempfile::tempdir().unwrap();
    let store = prepare(dir.path(), closed_port()).await;
    let (token, _) = app::auth::create_api_token(&store, "cron", app::domain::TokenUse::Smtp, "test").await.unwrap().unwrap();
    drop(store);
    let smtp_port = closed_port().to_string();
    let listen = format!("127.0.0.1:{smtp_port}");
    let env = [("MAILROOM_SMTP_LISTEN", listen.as_str()), ("MAILROOM_OUTBOX_RETRY_FIRST_SECS", "1")];
    let (server, _) = prepared::start(dir.path(), &env).unwrap_or_else(|(s, log)| panic!("{s}: {log}"));
    for i in 0..MESSAGES {
        let to = format!("kill{i}@example.com");
        let out = tokio::task::spawn_blocking({
            let (listen, token) = (listen.clone(), token.clone());
            move || {
                Command::new("swaks")
                    .args(["--server", &listen, "--auth", "PLAIN", "--auth-user", "cron", "--auth-password", &token])
                    .args(["--to", &to, "--from", "job@host.example", "--body", "nightly"])
                    .output()
                    .unwrap()
            }
        })
        .await
        .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && said.contains("250 2.0.0 Queued as"), "{said}");
    }
    let mut child = server.child;
    child.kill().unwrap();
    child.wait().unwrap();

    // Started again with a mail server that takes everything (from the configuration).
    let sink = Sink::start(usize::MAX).await;
    let sink_port = sink.port.to_string();
    let env = [
        ("MAILROOM_OUTBOX_RETRY_FIRST_SECS", "1"),
        ("MAILROOM_SMTP_HOST", "localhost"),
        ("MAILROOM_SMTP_PORT", sink_port.as_str()),
        ("MAILROOM_SMTP_AUTHENTICATION", "none"),
        ("MAILROOM_SMTP_FROM_ADDRESS", "alerts@example.com"),
    ];
    let (server, _) = prepared::start(dir.path(), &env).unwrap_or_else(|(s, log)| panic!("{s}: {log}"));
    let all_taken = || {
        let taken = sink.taken.lock().unwrap();
        (0..MESSAGES).all(|i| taken.iter().any(|t| t.contains(&format!("kill{i}@example.com"))))
    };
    let mut arrivals = sink.arrivals.clone();
    let waited = tokio::time::timeout(Duration::from_secs(30), arrivals.wait_for(|_| all_taken())).await;
    assert!(waited.is_ok(), "delivered after the restart: {:?}\n{}", sink.taken.lock().unwrap(), server.log());
    server.stop();
}
