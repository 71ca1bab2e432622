//! The probes with the real binary: at SIGTERM `/readyz` turns 503 at once while the server
//! still serves for `MAILROOM_SHUTDOWN_DELAY_SECS`, then it exits cleanly.

// Shared with crash.rs and full_disk.rs, which use more of it.
#[allow(dead_code)]
mod prepared;

use std::time::{Duration, Instant};

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
