//! Crash safety of the outbox, with the real binary: killed with SIGKILL while password-reset
//! requests (each enqueues a message) are under way, every request that was answered has its
//! message in the database afterwards (several rounds, each killed at another moment); stopped
//! with SIGTERM while a send hangs, it ends within the outbox's grace and the message is kept.

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
