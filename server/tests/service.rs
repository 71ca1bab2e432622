//! Running it as a service, with the real binary: at SIGTERM `/readyz` turns 503 at once while
//! the server still serves for `MAILROOM_SHUTDOWN_DELAY_SECS`, then it exits cleanly; the log
//! as JSON lines, each request's with its id (the proxy's, or a new one), never a query.

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
