//! What anyone can reach without logging in, tried as an attacker would, at a small scale with
//! the bound asserted (the full-size versions, with figures, are `make attack`). Durations are
//! generous upper bounds; waits are on conditions.

use crate::helpers::{
    client, encode, peer_form, post_from, rss_kib, spawn_alone, spawn_app, spawn_app_logged_out, spawn_with,
    stalled_request, valid_form, ADMIN, ADMIN_PASSWORD, SERVER_FUNCTIONS,
};
use app::{
    api::{Login, SaveMailSettings, TestMailServer},
    domain::MailServerForm,
    error::AppError,
    report::Diagnosis,
};
use leptos::server_fn::ServerFn;
use std::{
    net::{IpAddr, Ipv4Addr},
    time::{Duration, Instant},
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn login_body(email: &str, password: &str, next: Option<&str>) -> String {
    let args = Login {
        email: email.into(),
        password: password.into(),
        next: next.map(str::to_string),
    };
    encode(&args)
}

#[tokio::test]
async fn every_error_carries_its_status() {
    let app = spawn_app().await;
    let anonymous = client(&app.url);
    let post = |c: &reqwest::Client, path: &'static str, body: String| {
        let (c, app) = (c.clone(), &app);
        async move {
            let reply = app.post(&c, path, body).await;
            (reply.status, reply.retry_after)
        }
    };
    let save = |version: u64, form: MailServerForm| encode(&SaveMailSettings { version, form });
    assert_eq!(
        post(&anonymous, SaveMailSettings::PATH, save(0, valid_form()))
            .await
            .0,
        401,
        "not logged in"
    );
    assert_eq!(
        post(
            &app.client,
            SaveMailSettings::PATH,
            save(0, MailServerForm::default())
        )
        .await
        .0,
        400,
        "invalid"
    );
    assert_eq!(
        post(&app.client, SaveMailSettings::PATH, "version=abc".into())
            .await
            .0,
        400,
        "malformed"
    );
    assert_eq!(
        post(&app.client, SaveMailSettings::PATH, save(0, valid_form()))
            .await
            .0,
        200
    );
    assert_eq!(
        post(&app.client, SaveMailSettings::PATH, save(0, valid_form()))
            .await
            .0,
        409,
        "conflict"
    );
    let huge = format!(
        "version=1&form[from_name]={}",
        "x".repeat(server::MAX_BODY_BYTES + 1)
    );
    assert_eq!(
        post(&app.client, SaveMailSettings::PATH, huge).await.0,
        413,
        "too large"
    );
    let wrong = login_body(ADMIN, "wrong password", None);
    assert_eq!(
        post(&anonymous, Login::PATH, wrong).await.0,
        401,
        "wrong password"
    );
    let cross = app
        .client
        .post(format!("{}{}", app.url, SaveMailSettings::PATH))
        .header("Origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    let test = || {
        encode(&TestMailServer {
            form: peer_form("plain"),
            send_to: String::new(),
        })
    };
    for _ in 0..5 {
        assert_eq!(post(&app.client, TestMailServer::PATH, test()).await.0, 200);
    }
    let (status, retry) = post(&app.client, TestMailServer::PATH, test()).await;
    assert_eq!(status, 429);
    let retry = retry.expect("Retry-After");
    assert!((1..=60).contains(&retry), "{retry}");
}

/// A tiny deterministic generator: the same hostile bodies every run.
struct Noise(u64);
impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

/// The OAuth2 callback is open to anyone (the provider's redirect brings no session): any query
/// gets a page with a status that is not 500, and no sign-in is connected by guessing.
#[tokio::test]
async fn the_sign_in_callback_takes_any_query_without_a_500() {
    let app = spawn_app_logged_out().await;
    // "state" twice, or "%ff" as bytes, cannot even be read as a query.
    let parts = ["state", "code", "error", "error_description", "state[]", "%ff", "", "=", "&"];
    let long = "a".repeat(4000);
    let values = ["", "x", "%00", "%0d%0a", "%ff%fe", "\u{1F600}", "<script>", long.as_str()];
    let mut noise = Noise(0x2545f4914f6cdd1d);
    let outsider = reqwest::Client::new();
    for _ in 0..200 {
        let query: Vec<String> = (0..1 + noise.next() % 4)
            .map(|_| format!("{}={}", noise.pick(&parts), noise.pick(&values)))
            .collect();
        let url = format!("{}/oauth/callback?{}", app.url, query.join("&"));
        let res = outsider.get(&url).send().await.unwrap();
        let status = res.status().as_u16();
        assert!(status == 400 || status == 403, "{url}: {status}");
        let page = res.text().await.unwrap();
        assert!(!page.contains("<script>"), "escaped: {url}");
        assert!(page.contains("<h1>The mailbox was not connected</h1>"), "the sign-in's page: {url}");
    }
}

#[tokio::test]
async fn malformed_requests_never_get_a_500() {
    let app = spawn_app().await;
    let paths: Vec<&str> = SERVER_FUNCTIONS.iter().copied().chain(["/api/nope"]).collect();
    let names = [
        "version",
        "form[host]",
        "form[port]",
        "form",
        "form[starttls]",
        "email",
        "password",
        "next",
        "token",
        "send_to",
        "form[form]",
        "id",
        "name",
        "query[state]",
        "query[before]",
        "%ff",
        "a[b][c][d]",
        "",
    ];
    let values = [
        "",
        "abc",
        "-1",
        "18446744073709551616",
        "true",
        "%00",
        "%0d%0a",
        "%ff%fe",
        "[",
        "]",
        "\u{1F600}",
        "9999999999999999999999",
        "&&&",
        "===",
    ];
    let mut noise = Noise(0x9e3779b97f4a7c15);
    let mut statuses = std::collections::BTreeMap::new();
    for i in 0..300 {
        let path = noise.pick(&paths);
        let fields = 1 + noise.next() % 6;
        let body: Vec<String> = (0..fields)
            .map(|_| format!("{}={}", noise.pick(&names), noise.pick(&values)))
            .collect();
        let mut req = app.client.post(format!("{}{path}", app.url)).body(body.join("&"));
        req = match i % 3 {
            0 => req
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Accept", "application/json"),
            1 => req
                .header("Content-Type", "application/json")
                .header("Accept", "application/json"),
            _ => req
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Accept", "text/html"),
        };
        let status = req.send().await.unwrap().status().as_u16();
        *statuses.entry(status).or_insert(0) += 1;
        assert_ne!(status, 500, "{path} {body:?}");
    }
    assert!(
        statuses.keys().any(|s| *s == 400),
        "malformed input is a 400: {statuses:?}"
    );
}

#[tokio::test]
async fn the_http_api_never_answers_500_to_malformed_bodies() {
    let app = spawn_app().await;
    crate::helpers::save_settings(&app, &crate::helpers::peer_form("plain")).await;
    let token = app.api_token("fuzz").await;
    let pieces = [
        "{", "}", "[", "]", ",", ":", "\"to\"", "\"subject\"", "\"text\"", "\"html\"", "\"priority\"",
        "\"alert_key\"", "\"state\"", "\"severity\"", "\"recipients\"", "\"value\"", "\"firing\"",
        "\"a@example.com\"", "\"x\\r\\ny\"", "null", "true", "1e999", "-0", "18446744073709551616",
        "\"\\ud800\"", "\"\u{1F600}\"", "\"\"",
    ];
    let mut noise = Noise(0x2545f4914f6cdd1d);
    let mut statuses = std::collections::BTreeMap::new();
    let client = reqwest::Client::new();
    for i in 0..300 {
        let path = if i % 2 == 0 { "/api/v1/messages" } else { "/api/v1/alerts" };
        let n = 1 + noise.next() % 12;
        let body: String = (0..n).map(|_| noise.pick(&pieces)).collect();
        let status = client
            .post(format!("{}{path}", app.url))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        *statuses.entry(status).or_insert(0) += 1;
        assert!(status < 500, "{path} {body:?}: {status}");
    }
    assert!(statuses.contains_key(&400), "{statuses:?}");
}

#[tokio::test]
async fn next_never_leads_off_the_site_nor_breaks_the_answer() {
    let app = spawn_app_logged_out().await;
    for next in [
        "/\t/evil.example",
        "//evil.example",
        "/\\evil.example",
        "/%0a",
        "/\r\nSet-Cookie: x=1",
        "/\u{0}",
        "/\u{1}",
        "/\u{7f}",
        "https://evil.example",
    ] {
        for accept in ["application/json", "text/html"] {
            let res = app
                .client
                .post(format!("{}{}", app.url, Login::PATH))
                .header("Accept", accept)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(login_body(ADMIN, ADMIN_PASSWORD, Some(next)))
                .send()
                .await
                .unwrap();
            assert!(res.status().as_u16() < 500, "{next:?}: {}", res.status());
            let location = res
                .headers()
                .get("location")
                .expect("a Location")
                .to_str()
                .unwrap()
                .to_string();
            assert!(
                location.starts_with('/') && !location.starts_with("//") && !location.contains("evil"),
                "{next:?} -> {location:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_login_burst_does_not_lock_out_the_admins_own_browser() {
    // The admin's browser has logged in before, so it holds a device cookie.
    let app = spawn_app().await;
    let attackers: Vec<_> = (0..40).map(|_| client(&app.url)).collect();
    let mut burst = Vec::new();
    for c in &attackers {
        let c = c.clone();
        let url = app.url.clone();
        burst.push(tokio::spawn(async move {
            let res = c
                .post(format!("{url}{}", Login::PATH))
                .header("Accept", "application/json")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(login_body(ADMIN, "guess-1234", None))
                .send()
                .await
                .unwrap();
            res.status().as_u16()
        }));
    }
    // During the burst…
    app.login(ADMIN, ADMIN_PASSWORD)
        .await
        .expect("the known browser logs in during the burst");
    let mut checked = 0;
    for b in burst {
        match b.await.unwrap() {
            401 => checked += 1,
            429 | 503 => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert!(checked <= 6, "only the free attempts are checked: {checked}");
    // …and after it.
    app.login(ADMIN, ADMIN_PASSWORD)
        .await
        .expect("the known browser logs in after the burst");
    // A browser never seen before is held back for now, even with the right password.
    let stranger = client(&app.url);
    let login = Login {
        email: ADMIN.into(),
        password: ADMIN_PASSWORD.into(),
        next: None,
    };
    let refused = app.call_as(&stranger, login).await;
    assert!(
        matches!(refused, Err(AppError::TooManyAttempts { .. })),
        "{refused:?}"
    );
}

#[tokio::test]
async fn parallel_logins_from_many_addresses_are_bounded() {
    let app = spawn_alone(false).await;
    let before = rss_kib();
    let mut logins = Vec::new();
    for i in 0..60u8 {
        let url = app.url.clone();
        let body = login_body(&format!("user{i}@example.com"), "guess-1234", None);
        let from = IpAddr::V4(Ipv4Addr::new(127, 0, 7, i + 1));
        logins.push(tokio::spawn(async move {
            post_from(&url, from, Login::PATH, &body).await
        }));
    }
    // Others are still answered while the hashes run.
    let started = Instant::now();
    let page = app.client.get(format!("{}/login", app.url)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "a page took {:?} during the burst",
        started.elapsed()
    );
    let mut busy = 0;
    for l in logins {
        match l.await.unwrap() {
            (401, _) => {}
            (503, true) => busy += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    let grown_mib = rss_kib().saturating_sub(before) / 1024;
    assert!(grown_mib < 150, "memory grew by {grown_mib} MiB");
    eprintln!("60 parallel logins from 60 addresses: {busy} refused as busy, memory +{grown_mib} MiB");
}

#[tokio::test]
async fn idle_sockets_do_not_starve_requests_and_are_closed() {
    use server::serve::HttpLimits;
    let limits = HttpLimits {
        header_read_timeout: Duration::from_secs(1),
        ..HttpLimits::default()
    };
    let app = spawn_with(true, limits).await;
    let addr = app.url.trim_start_matches("http://").to_string();
    let mut idle = Vec::new();
    for _ in 0..100 {
        idle.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    for _ in 0..5 {
        let started = Instant::now();
        let res = app.client.get(format!("{}/login", app.url)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(started.elapsed() < Duration::from_secs(2));
    }
    // A socket that sends nothing, or half a request, is closed after the header timeout.
    let mut half = tokio::net::TcpStream::connect(&addr).await.unwrap();
    half.write_all(b"GET /login HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    for stream in [&mut idle[0], &mut half] {
        let started = Instant::now();
        let mut buf = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf)).await;
        assert!(read.is_ok(), "still open after 5 s");
        assert!(started.elapsed() < Duration::from_secs(3));
    }
}

#[tokio::test]
async fn shutdown_ends_in_bounded_time_with_a_stalled_request() {
    use server::serve::{serve, HttpLimits};
    let app = spawn_app().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = server::Config::from_vars(|k| (k == "LEPTOS_SITE_ADDR").then(|| addr.to_string())).unwrap();
    let router = server::router(&config, app.ctx.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let limits = HttpLimits {
        shutdown_grace: Duration::from_secs(1),
        ..HttpLimits::default()
    };
    let serving = tokio::spawn(serve(listener, router, limits, async {
        let _ = stopped.await;
    }));
    // A request whose body never comes.
    let _stalled = stalled_request(&addr.to_string(), &format!("http://{addr}")).await;
    // Once the server holds it (a normal request is answered meanwhile), stop.
    let res = reqwest::get(format!("http://{addr}/login")).await.unwrap();
    assert_eq!(res.status(), 200);
    let started = Instant::now();
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), serving)
        .await
        .expect("shutdown did not end")
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
}

/// A hostile mail server: the test ends with `ReplyTooLong` in time and memory stays bounded
/// (measured with no other test's app running).
async fn hostile(listener: &str, ssl: bool) {
    let app = spawn_alone(true).await;
    let before = rss_kib();
    let form = MailServerForm {
        ssl,
        skip_verify: ssl,
        timeout: "5".into(),
        ..peer_form(listener)
    };
    let report = app.test_mail(&form, "").await.unwrap();
    let grown_mib = rss_kib().saturating_sub(before) / 1024;
    eprintln!("hostile reply ({listener}): {:?} after {} ms, memory +{grown_mib} MiB", report.diagnosis, report.elapsed_ms);
    assert_eq!(report.diagnosis, Some(Diagnosis::ReplyTooLong), "{report:#?}");
    assert!(report.elapsed_ms < 5_500, "{} ms", report.elapsed_ms);
    assert!(grown_mib < 32, "memory grew by {grown_mib} MiB");
    assert!(report.transcript.iter().map(|l| l.text.len()).sum::<usize>() < 512 * 1024);
}

#[tokio::test]
async fn a_reply_of_many_short_lines_is_cut_off() {
    hostile("many_lines", false).await;
}

#[tokio::test]
async fn a_reply_that_never_ends_its_line_is_cut_off() {
    hostile("no_newline", false).await;
}

#[tokio::test]
async fn a_hostile_reply_inside_implicit_tls_is_cut_off() {
    hostile("ssl_many_lines", true).await;
}

#[tokio::test]
async fn a_server_silent_after_ehlo_is_an_ehlo_failure() {
    let app = spawn_app().await;
    let form = MailServerForm {
        timeout: "1".into(),
        ..peer_form("ehlo_silent")
    };
    let report = app.test_mail(&form, "").await.unwrap();
    assert_eq!(report.diagnosis, Some(Diagnosis::Ehlo), "{report:#?}");
    assert!(report.summary.contains("EHLO"), "{}", report.summary);
}

#[tokio::test]
async fn the_same_origin_check_does_not_trust_the_host_header() {
    let app = spawn_app().await;
    // DNS rebinding: a name of the attacker's pointing at this server, Host and Origin agreeing.
    let res = app
        .client
        .post(format!("{}{}", app.url, app::api::LoadMailSettings::PATH))
        .header("Host", "rebind.evil.example")
        .header("Origin", "http://rebind.evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}
