//! `make attack`: the attacks of the hardening issue at full size against the release binary
//! in its own process (so its memory is measured alone), with figures printed. Each prints what
//! it measured and what bound it is held to; a broken bound fails the run.
//!
//! Needs `make build` (target/release/mailroom) and `scripts/bootstrap.sh --test` (the SMTP peer).
//! `smtp_abuse` is the SMTP listener's: 1,000 idle sessions, a slowloris DATA, a 1 GB DATA and
//! 10,000 wrong tokens.

#[path = "../tests/api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use app::{api::Login, domain::MailServerForm};
use helpers::{peer_form, post_from};
use leptos::server_fn::ServerFn;
use std::{
    io::{BufRead, Write},
    net::{IpAddr, Ipv4Addr},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

const ADMIN: &str = "admin@example.com";
const PASSWORD: &str = "attack-admin-password";

struct Server {
    child: Child,
    url: String,
    /// An API token made with `mailroom token create` before the start.
    token: String,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        Self::start_with(|_| {}, None)
    }

    /// [`Self::start`] with `prepare` run on the data directory before the server starts, and
    /// at most `open_files` files open (soft and hard limit) if given.
    fn start_with(prepare: impl FnOnce(&std::path::Path), open_files: Option<u64>) -> Server {
        Self::start_with_env(prepare, open_files, &[])
    }

    /// [`Self::start_with`] with `env` besides.
    fn start_with_env(prepare: impl FnOnce(&std::path::Path), open_files: Option<u64>, env: &[(&str, &str)]) -> Server {
        let bin = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release/mailroom");
        let dir = tempfile::tempdir().unwrap();
        let mut create = Command::new(bin)
            .args(["admin", "create", "--email", ADMIN])
            .env("MAILROOM_DATA_DIR", dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("target/release/mailroom: run `make build` first");
        writeln!(create.stdin.take().unwrap(), "{PASSWORD}").unwrap();
        assert!(create.wait().unwrap().success());
        let token = Command::new(bin)
            .args(["token", "create", "--name", "attack"])
            .env("MAILROOM_DATA_DIR", dir.path())
            .output()
            .unwrap();
        assert!(token.status.success());
        let token = String::from_utf8(token.stdout).unwrap().trim().to_string();
        prepare(dir.path());
        let mut command = match open_files {
            None => Command::new(bin),
            Some(n) => {
                let mut sh = Command::new("sh");
                sh.args(["-c", &format!("ulimit -n {n} && exec \"$0\""), bin]);
                sh
            }
        };
        let mut child = command
            .env("MAILROOM_DATA_DIR", dir.path())
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .env("RUST_LOG", "warn,mailroom=info")
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let url = loop {
            let line = lines.next().expect("the server's start-up line").unwrap();
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Server {
            child,
            url,
            token,
            _dir: dir,
        }
    }

    /// (VmRSS, VmHWM) of the server process, in MiB.
    fn memory(&self) -> (u64, u64) {
        let pid = self.child.id().to_string();
        (
            helpers::status_kib(&pid, "VmRSS:") / 1024,
            helpers::status_kib(&pid, "VmHWM:") / 1024,
        )
    }

    fn client(&self) -> reqwest::Client {
        helpers::client(&self.url)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn login_body(email: &str, password: &str) -> String {
    serde_qs::to_string(&Login {
        email: email.into(),
        password: password.into(),
        next: None,
    })
    .unwrap()
}

async fn login(client: &reqwest::Client, url: &str, password: &str) -> u16 {
    helpers::post_args(
        client,
        &format!("{url}{}", Login::PATH),
        login_body(ADMIN, password),
    )
    .await
    .status()
    .as_u16()
}

fn check(ok: bool, what: &str) {
    println!("  {} {what}", if ok { "PASS" } else { "FAIL" });
    if !ok {
        std::process::exit(1);
    }
}

async fn parallel_logins(server: &Server) {
    println!("200 parallel anonymous logins from 200 addresses, other requests meanwhile:");
    let before = server.memory();
    let mut burst = Vec::new();
    for i in 0..200u32 {
        let url = server.url.clone();
        let from = IpAddr::V4(Ipv4Addr::new(127, 0, 9 + (i / 250) as u8, (i % 250 + 1) as u8));
        let body = login_body(&format!("user{i}@example.com"), "guess-1234");
        burst.push(tokio::spawn(async move {
            post_from(&url, from, Login::PATH, &body).await.0
        }));
    }
    let client = server.client();
    let mut worst = Duration::ZERO;
    for _ in 0..10 {
        let started = Instant::now();
        assert_eq!(
            client
                .get(format!("{}/login", server.url))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        worst = worst.max(started.elapsed());
    }
    let mut statuses = std::collections::BTreeMap::new();
    for b in burst {
        *statuses.entry(b.await.unwrap()).or_insert(0) += 1;
    }
    let after = server.memory();
    println!(
        "  answers {statuses:?}; RSS {} -> {} MiB (peak {} MiB); slowest other request {:.1} ms",
        before.0,
        after.0,
        after.1,
        worst.as_secs_f64() * 1e3
    );
    check(after.1 < 150, "peak RSS under 150 MB");
    check(
        worst < Duration::from_millis(100),
        "other requests answered within 100 ms",
    );
}

async fn login_burst(server: &Server) {
    println!("the real admin, from a browser that logged in before, during and after a 100-attempt burst:");
    let admin = server.client();
    assert_eq!(login(&admin, &server.url, PASSWORD).await, 200);
    let mut burst = Vec::new();
    for _ in 0..100 {
        let url = server.url.clone();
        let from = IpAddr::V4(Ipv4Addr::new(127, 0, 20, 1));
        let body = login_body(ADMIN, "guess-1234");
        burst.push(tokio::spawn(async move {
            post_from(&url, from, Login::PATH, &body).await.0
        }));
    }
    let during = login(&admin, &server.url, PASSWORD).await;
    let mut checked = 0;
    for b in burst {
        if b.await.unwrap() == 401 {
            checked += 1;
        }
    }
    let after = login(&admin, &server.url, PASSWORD).await;
    println!("  passwords actually checked in the burst: {checked}; admin during: {during}, after: {after}");
    check(
        during == 200 && after == 200,
        "the admin logs in during and right after the burst",
    );
    check(checked <= 6, "at most the free attempts are checked");
}

async fn idle_sockets(server: &Server) {
    println!("300 idle sockets open, then 5 normal requests:");
    let addr = server.url.trim_start_matches("http://").to_string();
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    let client = server.client();
    let mut answered = 0;
    let mut worst = Duration::ZERO;
    for _ in 0..5 {
        let started = Instant::now();
        let res = tokio::time::timeout(
            Duration::from_secs(5),
            client.get(format!("{}/login", server.url)).send(),
        )
        .await;
        if matches!(res, Ok(Ok(r)) if r.status() == 200) {
            answered += 1;
        }
        worst = worst.max(started.elapsed());
    }
    println!(
        "  {answered} of 5 answered, slowest {:.1} ms",
        worst.as_secs_f64() * 1e3
    );
    check(answered == 5, "5 of 5 answered");
    drop(idle);
}

/// The file-descriptor attack: the server may open 256 files; 300 sockets from 30 addresses
/// (250 silent, 50 with half a request), then 5 normal requests, each within 1 s.
async fn open_files(server: &Server) {
    use tokio::io::AsyncWriteExt;
    println!("open files limited to 256; 300 sockets from 30 addresses (250 idle, 50 half requests), then 5 normal requests:");
    let addr: std::net::SocketAddr = server.url.trim_start_matches("http://").parse().unwrap();
    let mut held = Vec::new();
    for i in 0..300u32 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind((Ipv4Addr::new(127, 80, 0, (i % 30 + 1) as u8), 0).into()).unwrap();
        let mut stream = socket.connect(addr).await.unwrap();
        if i % 6 == 0 {
            stream.write_all(b"GET /login HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        }
        held.push(stream);
    }
    let client = server.client();
    let mut answered = 0;
    let mut worst = Duration::ZERO;
    for _ in 0..5 {
        let started = Instant::now();
        let res = tokio::time::timeout(Duration::from_secs(1), client.get(format!("{}/login", server.url)).send()).await;
        if matches!(res, Ok(Ok(r)) if r.status() == 200) {
            answered += 1;
        }
        worst = worst.max(started.elapsed());
    }
    println!("  {answered} of 5 answered within 1 s, slowest {:.1} ms", worst.as_secs_f64() * 1e3);
    check(answered == 5, "5 of 5 answered within 1 s");
    drop(held);
}

async fn hostile_smtp(server: &Server) {
    println!("a 100 kB SMTP reply of many short lines (test send, timeout 5 s):");
    let admin = server.client();
    assert_eq!(login(&admin, &server.url, PASSWORD).await, 200);
    let before = server.memory();
    let form = MailServerForm {
        timeout: "5".into(),
        ..peer_form("many_lines")
    };
    let body = helpers::encode(&app::api::TestMailServer {
        form,
        send_to: String::new(),
    });
    let started = Instant::now();
    let res = helpers::post_args(
        &admin,
        &format!("{}{}", server.url, app::api::TestMailServer::PATH),
        body,
    )
    .await;
    let elapsed = started.elapsed();
    let report = res.json::<app::api::mail::TestAnswer>().await.unwrap().report;
    let after = server.memory();
    println!(
        "  {:?} after {:.0} ms; RSS {} -> {} MiB (+{} MiB)",
        report.diagnosis,
        elapsed.as_secs_f64() * 1e3,
        before.0,
        after.0,
        after.0.saturating_sub(before.0)
    );
    check(
        report.diagnosis == Some(app::report::Diagnosis::ReplyTooLong),
        "reported as a reply too long",
    );
    check(after.0.saturating_sub(before.0) < 10, "costs under 10 MB");
    check(
        elapsed < Duration::from_millis(5_500),
        "ends within the timeout plus 0.5 s",
    );
}

async fn malformed(server: &Server) {
    println!("10,000 malformed requests:");
    let client = server.client();
    let paths = helpers::SERVER_FUNCTIONS;
    let junk = [
        "",
        "a",
        "version=x",
        "form[port]=%ff",
        "email=%00&password=",
        "next=%0a",
        "[[[",
        "form[a][b][c]=1",
        "token=&password=x&confirm=y",
        "\u{1F600}=1",
    ];
    // 64 in flight at a time.
    let statuses = in_rounds(10_000, |i| {
        let client = client.clone();
        let url = format!("{}{}", server.url, paths[i % paths.len()]);
        let body = junk[(i / paths.len()) % junk.len()].to_string();
        let ct = if i % 7 == 0 {
            "application/json"
        } else {
            "application/x-www-form-urlencoded"
        };
        async move {
            client
                .post(url)
                .header("Content-Type", ct)
                .header("Accept", "application/json")
                .body(body)
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        }
    })
    .await;
    println!("  statuses {statuses:?}");
    check(
        !statuses.contains_key(&500) && !statuses.contains_key(&0),
        "no 500, no dropped connection",
    );
}

/// The HTTP API under abuse: unknown tokens in parallel, bodies declared huge, a token past its
/// rate.
async fn api_abuse(server: &Server) {
    println!("HTTP API: 2,000 unknown tokens (64 at a time), 200 bodies declaring 100 MB, 700 requests of one token:");
    let (rss_before, _) = server.memory();
    let url = format!("{}/api/v1/messages", server.url);
    let client = reqwest::Client::new();
    let body = r#"{"to":["ops@example.com"],"subject":"s","text":"t"}"#;
    let mut statuses = in_rounds(2_000, |i| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let res = client
                .post(url)
                .bearer_auth(format!("guess-{i:040}"))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await;
            res.map(|r| r.status().as_u16()).unwrap_or(0)
        }
    })
    .await;
    let addr = server.url.trim_start_matches("http://").to_string();
    let started = Instant::now();
    for _ in 0..200 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST /api/v1/messages HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n{{\"to\":",
            server.token
        );
        tcp.write_all(head.as_bytes()).await.unwrap();
        let mut answer = [0u8; 12];
        let n = tokio::time::timeout(Duration::from_secs(5), tcp.read_exact(&mut answer)).await;
        let status = match n {
            Ok(Ok(_)) => std::str::from_utf8(&answer[9..12]).ok().and_then(|s| s.parse().ok()).unwrap_or(0),
            _ => 0,
        };
        *statuses.entry(status).or_insert(0) += 1;
    }
    let huge_ms = started.elapsed().as_secs_f64() * 1000.0 / 200.0;
    for _ in 0..700 {
        let res = client
            .post(&url)
            .bearer_auth(&server.token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        *statuses.entry(res.map(|r| r.status().as_u16()).unwrap_or(0)).or_insert(0) += 1;
    }
    let (rss_after, peak) = server.memory();
    println!("  statuses {statuses:?}; a declared 100 MB body answered in {huge_ms:.1} ms on average; RSS {rss_before} -> {rss_after} MiB (peak {peak} MiB)");
    check(statuses.get(&401) == Some(&2_000), "every unknown token refused (401)");
    check(statuses.get(&413) == Some(&200), "every huge body refused before it is read (413)");
    check(statuses.get(&429).is_some_and(|n| *n >= 100), "the token past its rate waits (429)");
    check(!statuses.contains_key(&500) && !statuses.contains_key(&0), "no 500, no dropped connection");
    check(peak < 150, "peak RSS under 150 MB");
}

/// The alerting tools' webhooks under abuse: unknown tokens (Bearer and Basic), bodies declared
/// huge, thousands of alerts in one body, deep JSON, broken form data, and a token past its
/// rate, which must be told 503 (the tools drop a 4xx), never 429.
async fn webhook_abuse(server: &Server) {
    println!("Webhooks: 1,000 unknown tokens, 100 bodies declaring 100 MB, 20 bodies of 5,000 alerts, 200 deep JSON, 200 broken form data, then 700 requests of one token:");
    let (rss_before, _) = server.memory();
    let am = format!("{}/api/v1/webhooks/alertmanager?to=ops@example.com", server.url);
    let kuma = format!("{}/api/v1/webhooks/uptime-kuma?to=ops@example.com", server.url);
    let client = reqwest::Client::new();
    let small = r#"{"version":"4","status":"firing","groupKey":"attack","alerts":[]}"#;
    let mut statuses = in_rounds(1_000, |i| {
        let (client, url) = (client.clone(), am.clone());
        async move {
            let req = client.post(url).header("content-type", "application/json").body(small);
            let req = if i % 2 == 0 { req.bearer_auth(format!("guess-{i:040}")) } else { req.basic_auth("prometheus", Some(format!("guess-{i:040}"))) };
            req.send().await.map(|r| r.status().as_u16()).unwrap_or(0)
        }
    })
    .await;
    let unknown = statuses.get(&401).copied().unwrap_or(0);
    let addr = server.url.trim_start_matches("http://").to_string();
    for _ in 0..100 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST /api/v1/webhooks/alertmanager?to=ops@example.com HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n{{\"alerts\":",
            server.token
        );
        tcp.write_all(head.as_bytes()).await.unwrap();
        let mut answer = [0u8; 12];
        let status = match tokio::time::timeout(Duration::from_secs(5), tcp.read_exact(&mut answer)).await {
            Ok(Ok(_)) => std::str::from_utf8(&answer[9..12]).ok().and_then(|s| s.parse().ok()).unwrap_or(0),
            _ => 0,
        };
        *statuses.entry(status).or_insert(0) += 1;
    }
    let huge = statuses.get(&413).copied().unwrap_or(0);
    let started = Instant::now();
    let mut big_ok = 0;
    for round in 0..20 {
        let alerts: Vec<String> = (0..5_000)
            .map(|i| format!(r#"{{"status":"firing","labels":{{"alertname":"Flood","n":"{i}"}},"fingerprint":"{round}-{i}"}}"#))
            .collect();
        let body = format!(r#"{{"version":"4","status":"firing","groupKey":"flood-{round}","alerts":[{}]}}"#, alerts.join(","));
        let res = client.post(&am).bearer_auth(&server.token).header("content-type", "application/json").body(body).send().await;
        let status = res.map(|r| r.status().as_u16()).unwrap_or(0);
        big_ok += usize::from(status == 202);
        *statuses.entry(status).or_insert(0) += 1;
    }
    let big_ms = started.elapsed().as_secs_f64() * 1000.0 / 20.0;
    let deep = format!(r#"{{"status":"firing","alerts":{}{}}}"#, "[".repeat(200_000), "]".repeat(200_000));
    let broken = "--x\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{\"heartbeat\":".to_string();
    let mut refused = 0;
    for i in 0..400 {
        let (url, content_type, body) = if i % 2 == 0 {
            (&am, "application/json", deep.clone())
        } else {
            (&kuma, "multipart/form-data; boundary=x", broken.clone())
        };
        let res = client.post(url).bearer_auth(&server.token).header("content-type", content_type).body(body).send().await;
        let status = res.map(|r| r.status().as_u16()).unwrap_or(0);
        refused += usize::from(status == 400 || status == 503);
        *statuses.entry(status).or_insert(0) += 1;
    }
    for _ in 0..700 {
        let res = client.post(&am).bearer_auth(&server.token).header("content-type", "application/json").body(small).send().await;
        *statuses.entry(res.map(|r| r.status().as_u16()).unwrap_or(0)).or_insert(0) += 1;
    }
    let (rss_after, peak) = server.memory();
    println!("  statuses {statuses:?}; a body of 5,000 alerts answered in {big_ms:.1} ms on average; RSS {rss_before} -> {rss_after} MiB (peak {peak} MiB)");
    check(unknown == 1_000, "every unknown token refused (401), Bearer or Basic");
    check(huge == 100, "every huge body refused before it is read (413)");
    check(big_ok == 20, "each body of 5,000 alerts queued as one mail (202)");
    check(refused == 400, "deep JSON and broken form data refused (400; 503 once past the rate)");
    check(statuses.get(&503).is_some_and(|n| *n >= 100) && !statuses.contains_key(&429), "the token past its rate is told 503, never 429");
    check(!statuses.contains_key(&500) && !statuses.contains_key(&0), "no 500, no dropped connection");
    check(peak < 200, "peak RSS under 200 MB");
}

/// `n` requests, 64 at a time; how many got each status (0: no answer).
async fn in_rounds<F, Fut>(n: usize, request: F) -> std::collections::BTreeMap<u16, usize>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = u16> + Send + 'static,
{
    let mut statuses = std::collections::BTreeMap::new();
    let mut round = tokio::task::JoinSet::new();
    for i in 0..n {
        round.spawn(request(i));
        if round.len() == 64 {
            while let Some(s) = round.join_next().await {
                *statuses.entry(s.unwrap_or(0)).or_insert(0) += 1;
            }
        }
    }
    while let Some(s) = round.join_next().await {
        *statuses.entry(s.unwrap_or(0)).or_insert(0) += 1;
    }
    statuses
}

/// The OAuth2 callback is open to anyone: guessed states, long and broken queries, and sign-ins
/// started past the bound.
async fn sign_in_callbacks(server: &Server) {
    println!("OAuth2 callback: 5,000 guessed states (64 at a time), 500 broken or 4 kB queries:");
    let (rss_before, _) = server.memory();
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut statuses = in_rounds(5_000, |i| {
        let url = format!("{}/oauth/callback?state=guess-{i:043}&code=c-{i}", server.url);
        let client = client.clone();
        async move { client.get(url).send().await.map(|r| r.status().as_u16()).unwrap_or(0) }
    })
    .await;
    let guessed_ms = started.elapsed().as_secs_f64() * 1000.0 / 5_000.0;
    let long = "a".repeat(4_000);
    let queries = ["", "state=", "state=%00%ff", "error=access_denied", "state=a&state=b", "code=x", "%ff=%fe"];
    for i in 0..500 {
        let query = if i % 8 == 7 { format!("state={long}&code={long}") } else { queries[i % queries.len()].to_string() };
        let res = client.get(format!("{}/oauth/callback?{query}", server.url)).send().await;
        *statuses.entry(res.map(|r| r.status().as_u16()).unwrap_or(0)).or_insert(0) += 1;
    }
    let (rss_after, peak) = server.memory();
    println!("  statuses {statuses:?}; a guessed state answered in {guessed_ms:.2} ms on average (64 at a time); RSS {rss_before} -> {rss_after} MiB (peak {peak} MiB)");
    check(statuses.get(&400) == Some(&5_500), "every guessed, broken or long query refused (400)");
    check(!statuses.contains_key(&500) && !statuses.contains_key(&0), "no 500, no dropped connection");
    check(peak < 150, "peak RSS under 150 MB");
}

async fn next_fuzz(server: &Server) {
    println!("`next` fuzzed with every control character and URL tricks:");
    let mut cases: Vec<String> = Vec::new();
    for c in (0u8..0x20).chain([0x7f]) {
        let c = c as char;
        for pattern in [
            "/{c}/evil.example",
            "{c}//evil.example",
            "/{c}",
            "/x{c}y",
            "//{c}evil.example",
            "/\\{c}evil.example",
        ] {
            cases.push(pattern.replace("{c}", &c.to_string()));
        }
    }
    for trick in [
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example",
        "javascript:alert(1)",
        "/.//evil.example",
        "/%2e%2e//evil.example",
        "/..//evil.example",
        "http:evil.example",
        "/%0d%0aSet-Cookie:x=1",
        "%2f%2fevil.example",
        "/%5cevil.example",
        "///evil.example",
        "/\u{3000}/evil.example",
        "/\u{ff0f}evil.example",
    ] {
        cases.push(trick.to_string());
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut off_site = 0;
    let mut errors = 0;
    for next in &cases {
        let body = serde_qs::to_string(&Login {
            email: ADMIN.into(),
            password: PASSWORD.into(),
            next: Some(next.clone()),
        })
        .unwrap();
        let res = client
            .post(format!("{}{}", server.url, Login::PATH))
            .header("Origin", &server.url)
            .header("Accept", "text/html")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await;
        match res {
            Ok(r) if r.status().as_u16() < 500 => {
                let location = r
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                // Where a browser goes: the Location resolved against the page's URL.
                let site = url::Url::parse(&server.url).unwrap();
                let target = site.join(location).ok();
                if target.is_none_or(|t| t.origin() != site.origin()) {
                    off_site += 1;
                    println!("  off the site: {next:?} -> {location:?}");
                }
            }
            _ => errors += 1,
        }
    }
    println!(
        "  {} values of next: {off_site} off the site, {errors} errors",
        cases.len()
    );
    check(off_site == 0 && errors == 0, "no redirect off the site, no error");
}

async fn shutdown(server: Server) {
    println!("SIGTERM with a stalled request open:");
    let addr = server.url.trim_start_matches("http://").to_string();
    let _stalled = helpers::stalled_request(&addr, &server.url).await;
    let started = Instant::now();
    Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    // Waits for the exit itself (bounded), the server moved along so its data dir lives on.
    let exited = tokio::task::spawn_blocking(move || {
        let mut server = server;
        let status = server.child.wait();
        (status, server)
    });
    let status = match tokio::time::timeout(Duration::from_secs(30), exited).await {
        Ok(Ok((status, _server))) => status.ok(),
        _ => None,
    };
    println!(
        "  exited {:?} after {:.1} s",
        status.map(|s| s.code()),
        started.elapsed().as_secs_f64()
    );
    check(
        status.is_some_and(|s| s.success()) && started.elapsed() < Duration::from_secs(12),
        "a clean exit within the 10 s grace",
    );
}

/// Mail settings saved in the database in `dir`, pointing at a port nobody listens on.
fn save_mail_settings(dir: &std::path::Path) {
    use app::domain::{MailServer, MailServerSettings};
    use app::store::MailSettingsStore;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let store = app::store::SledStore::open(dir, app::secrets::SecretBox::load_or_create(dir, None).unwrap()).unwrap();
    let form = MailServerForm {
        port: closed.to_string(),
        ..peer_form("plain")
    };
    let parsed = MailServerSettings::parse(&form, None).unwrap();
    // The server is not running yet: the one write on a thread and runtime of its own (this
    // is called from within the benchmark's runtime).
    let server = MailServer::from_form(parsed, None).unwrap();
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                runtime.block_on(store.save_mail(0, server, ADMIN)).unwrap()
            })
            .join()
            .unwrap()
    });
}

/// "Forgot password?" for the admin and for an unknown address, 100 of each, alternately, each
/// from its own address (the per-address limit), paced at 20 a second as a careful prober would
/// (so the outbox's delivery of one admin's mail does not overlap the next request): the
/// answers' times must not tell them apart.
async fn reset_timing(server: &Server) {
    println!("forgotten-password requests: 100 for the admin, 100 for an unknown address, alternately, 20 a second:");
    let path = app::api::RequestPasswordReset::PATH;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    let mut pace = tokio::time::interval(Duration::from_millis(50));
    for i in 0..200u32 {
        pace.tick().await;
        let from = IpAddr::V4(Ipv4Addr::new(127, 60, (i / 250) as u8, (i % 250 + 1) as u8));
        let email = if i % 2 == 0 { ADMIN } else { "nobody@example.com" };
        let body = format!("email={}", email.replace('@', "%40"));
        let started = Instant::now();
        let (status, _) = post_from(&server.url, from, path, &body).await;
        let took = started.elapsed().as_secs_f64() * 1e3;
        assert_eq!(status, 200, "request {i}");
        if i % 2 == 0 { known.push(took) } else { unknown.push(took) }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (known_median, unknown_median) = (median(&mut known), median(&mut unknown));
    let slower = known.iter().filter(|t| **t > unknown_median).count();
    let gap = (known_median - unknown_median).abs() / known_median.max(unknown_median);
    println!(
        "  median {known_median:.3} ms for the admin, {unknown_median:.3} ms for an unknown address ({:.1} % apart); \
         {slower} of 100 admin requests slower than the unknown median",
        gap * 100.0
    );
    check(gap <= 0.05, "medians within 5 %");
    check((25..=75).contains(&slower), "no separation (25 to 75 of 100 admin requests above the other median)");
}

/// `cargo bench --bench attack -- NAME…` runs only the attacks whose names contain one of the
/// words (cargo passes `--bench` itself); without words, every one.
/// An SMTP client's conversation on the listener, from `from` (a loopback address of its own).
struct Smtp {
    reader: tokio::io::BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

impl Smtp {
    async fn connect(port: u16, from: Ipv4Addr) -> std::io::Result<Smtp> {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind((from, 0).into())?;
        let stream = socket.connect((Ipv4Addr::LOCALHOST, port).into()).await?;
        let (read, writer) = stream.into_split();
        Ok(Smtp { reader: tokio::io::BufReader::new(read), writer })
    }

    /// The next reply (with its continuation lines), or "" when the server closed.
    async fn reply(&mut self) -> String {
        use tokio::io::AsyncBufReadExt;
        let mut all = String::new();
        loop {
            let mut line = String::new();
            match tokio::time::timeout(Duration::from_secs(30), self.reader.read_line(&mut line)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return all,
            }
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return all;
            }
        }
    }

    /// Signed in with `plain` (AUTH PLAIN's argument), one recipient given, DATA answered 354.
    async fn in_data(port: u16, from: Ipv4Addr, plain: &str) -> Smtp {
        let mut c = Smtp::connect(port, from).await.unwrap();
        c.reply().await;
        c.say("EHLO attacker").await;
        c.say(&format!("AUTH PLAIN {plain}")).await;
        c.say("MAIL FROM:<job@example.com>").await;
        c.say("RCPT TO:<ops@example.com>").await;
        assert!(c.say("DATA").await.starts_with("354"));
        c
    }

    async fn say(&mut self, line: &str) -> String {
        use tokio::io::AsyncWriteExt;
        if self.writer.write_all(format!("{line}\r\n").as_bytes()).await.is_err() {
            return String::new();
        }
        self.reply().await
    }
}

/// AUTH PLAIN's argument for `token`.
fn plain(token: &str) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("\0attack\0{token}"))
}

/// The SMTP listener under attack: 1,000 idle sessions, a slowloris DATA, a 1 GB DATA and
/// 10,000 wrong tokens; the listener's bounds are the defaults but for the timeouts (5 s here,
/// so that the run ends in time).
async fn smtp_abuse(server: &Server, port: u16) {
    use tokio::io::AsyncWriteExt;
    let good = plain(&server.token);
    let normal = |from: Ipv4Addr| {
        let good = good.clone();
        async move {
            let started = Instant::now();
            let Ok(mut c) = Smtp::connect(port, from).await else { return (String::from("connect failed"), started.elapsed()) };
            let greeting = c.reply().await;
            if !greeting.starts_with("220") {
                return (greeting, started.elapsed());
            }
            c.say("EHLO normal").await;
            c.say(&format!("AUTH PLAIN {good}")).await;
            c.say("MAIL FROM:<job@example.com>").await;
            c.say("RCPT TO:<ops@example.com>").await;
            c.say("DATA").await;
            let answer = c.say("Subject: normal\r\n\r\nfine\r\n.").await;
            c.say("QUIT").await;
            (answer, started.elapsed())
        }
    };

    println!("SMTP: 1,000 idle sessions from 50 addresses (20 each), then a normal session:");
    let (rss_before, _) = server.memory();
    let mut idle = Vec::new();
    let (mut held, mut refused, mut other) = (0, 0, 0);
    for i in 0..1000u32 {
        let from = Ipv4Addr::new(127, 30, (i / 20) as u8, 1);
        match Smtp::connect(port, from).await {
            Ok(mut c) => {
                let greeting = c.reply().await;
                if greeting.starts_with("220") {
                    held += 1;
                    idle.push(c);
                } else if greeting.starts_with("421") {
                    refused += 1;
                } else {
                    other += 1;
                }
            }
            Err(_) => other += 1,
        }
    }
    let (rss_idle, _) = server.memory();
    let (during, took) = normal(Ipv4Addr::new(127, 31, 0, 1)).await;
    println!("  {held} held, {refused} told 421 at once, {other} otherwise; RSS {rss_before} -> {rss_idle} MiB; a normal session meanwhile: {} ({:.0} ms)", during.lines().last().unwrap_or("").trim(), took.as_secs_f64() * 1e3);
    check(held <= 200 && held + refused + other == 1000, "at most 200 sessions at once (the rest 421)");
    // The held ones end with the command timeout; then a normal session goes through.
    let mut closed = 0;
    for c in idle.iter_mut() {
        let said = c.reply().await;
        if said.starts_with("421 4.4.2") || said.is_empty() {
            closed += 1;
        }
    }
    drop(idle);
    let (after, took) = normal(Ipv4Addr::new(127, 31, 0, 2)).await;
    println!("  after the timeout: {closed} of the {held} held sessions closed; a normal session: {} ({:.0} ms)", after.lines().last().unwrap_or("").trim(), took.as_secs_f64() * 1e3);
    check(after.starts_with("250"), "a normal session goes through once the idle ones timed out");

    println!("SMTP: a slowloris DATA (a byte every 2 s, under the 5 s block timeout) beside normal sessions:");
    let mut slow = Smtp::in_data(port, Ipv4Addr::new(127, 32, 0, 1), &good).await;
    let mut normals = 0;
    for i in 0..5u8 {
        slow.writer.write_all(b"x").await.unwrap();
        let (answer, _) = normal(Ipv4Addr::new(127, 32, 1, i)).await;
        if answer.starts_with("250") {
            normals += 1;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let (rss_slow, _) = server.memory();
    println!("  {normals} of 5 normal sessions answered 250 meanwhile; RSS {rss_slow} MiB");
    check(normals == 5, "others are served while one trickles");
    drop(slow);

    println!("SMTP: a 1 GB DATA (the bound is 10 MiB):");
    let mut big = Smtp::in_data(port, Ipv4Addr::new(127, 33, 0, 1), &good).await;
    let chunk = [b'a'; 1 << 20];
    let started = Instant::now();
    let mut peak = 0;
    for i in 0..1024 {
        big.writer.write_all(&chunk).await.unwrap();
        if i % 64 == 0 {
            peak = peak.max(server.memory().0);
        }
    }
    let answer = big.say("\r\n.").await;
    let (_, hwm) = server.memory();
    println!("  answered {:?} after {:.1} s; RSS at most {peak} MiB while it came (high-water mark {hwm} MiB)", answer.trim(), started.elapsed().as_secs_f64());
    check(answer.starts_with("552 5.3.4"), "552 5.3.4 at the end");
    check(peak < rss_before + 64, "memory held to the size bound, not the message");

    println!("SMTP: 10,000 wrong tokens from 100 addresses, 10 per session:");
    let started = Instant::now();
    let mut answers = std::collections::BTreeMap::<String, usize>::new();
    let mut tasks = tokio::task::JoinSet::new();
    for a in 0..100u32 {
        tasks.spawn(async move {
            let mut seen = Vec::new();
            for _session in 0..10 {
                let Ok(mut c) = Smtp::connect(port, Ipv4Addr::new(127, 34, a as u8, 1)).await else { continue };
                c.reply().await;
                c.say("EHLO guesser").await;
                for n in 0..10 {
                    let answer = c.say(&format!("AUTH PLAIN {}", plain(&format!("guess-{a}-{n}")))).await;
                    seen.push(answer.get(..3).unwrap_or("closed").to_string());
                }
            }
            seen
        });
    }
    while let Some(seen) = tasks.join_next().await {
        for code in seen.unwrap() {
            *answers.entry(code).or_default() += 1;
        }
    }
    let (rss_end, _) = server.memory();
    println!("  answers {answers:?} in {:.1} s; RSS {rss_end} MiB", started.elapsed().as_secs_f64());
    check(!answers.contains_key("235"), "no wrong token signs in");
    check(answers.get("454").copied().unwrap_or(0) > 5000, "the back-off answers most of them (454)");
    let (after, _) = normal(Ipv4Addr::new(127, 35, 0, 1)).await;
    check(after.starts_with("250"), "a signed-in client from another address is still served");
}

fn chosen(name: &str) -> bool {
    let words: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    words.is_empty() || words.iter().any(|w| name.contains(w.as_str()))
}

#[tokio::main]
async fn main() {
    helpers::peer();
    let server = Server::start();
    if chosen("parallel_logins") {
        parallel_logins(&server).await;
    }
    if chosen("login_burst") {
        login_burst(&Server::start()).await;
    }
    if chosen("idle_sockets") {
        idle_sockets(&server).await;
    }
    if chosen("open_files") {
        open_files(&Server::start_with(|_| {}, Some(256))).await;
    }
    if chosen("hostile_smtp") {
        hostile_smtp(&server).await;
    }
    if chosen("malformed") {
        malformed(&server).await;
    }
    if chosen("api_abuse") {
        api_abuse(&server).await;
    }
    if chosen("webhook_abuse") {
        webhook_abuse(&Server::start_with(save_mail_settings, None)).await;
    }
    if chosen("smtp_abuse") {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let listen = format!("127.0.0.1:{port}");
        let env = [
            ("MAILROOM_SMTP_LISTEN", listen.as_str()),
            ("MAILROOM_SMTP_COMMAND_TIMEOUT_SECS", "5"),
            ("MAILROOM_SMTP_DATA_TIMEOUT_SECS", "5"),
        ];
        smtp_abuse(&Server::start_with_env(save_mail_settings, None, &env), port).await;
    }
    if chosen("sign_in_callbacks") {
        sign_in_callbacks(&server).await;
    }
    if chosen("next_fuzz") {
        next_fuzz(&Server::start()).await;
    }
    if chosen("reset_timing") {
        reset_timing(&Server::start_with(save_mail_settings, None)).await;
    }
    if chosen("shutdown") {
        shutdown(server).await;
    }
}
