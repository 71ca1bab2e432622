//! "Test Email Server" against a real SMTP server on loopback (aiosmtpd: plain, STARTTLS and
//! implicit-TLS listeners, a throwaway CA, AUTH, and hooks answering 535, 553, 550 and 554).
//! Each stage the test can reach here is produced and must be reported as that stage, in time.
//! Each test function uses its own app: the limit is 5 tests per minute per admin session.

mod common;

use common::{peer, peer_form, spawn_app, TestApp};
use serde_json::Value;

async fn run(app: &TestApp, listener: &str, changes: &[(&str, &str)], send_to: &str) -> Value {
    let reply = app.test_mail(&peer_form(listener, changes), send_to).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(!reply.body.contains("correct-password"), "password in the answer");
    assert!(!reply.body.contains("wrong-password"), "password in the answer");
    reply.json()
}

fn assert_stage(report: &Value, stage: &str, max_ms: u64) {
    assert_eq!(report["stage"], stage, "{report:#}");
    assert_eq!(report["success"], stage == "Accepted", "{report:#}");
    let ms = report["elapsed_ms"].as_u64().unwrap();
    assert!(ms < max_ms, "{stage} took {ms} ms (limit {max_ms}): {report:#}");
}

fn transcript(report: &Value) -> String {
    report["transcript"].as_array().unwrap().iter().map(|l| l["text"].as_str().unwrap().to_string()).collect::<Vec<_>>().join("\n")
}

#[tokio::test]
async fn a_successful_test_delivers_a_message_with_the_right_headers() {
    let app = spawn_app().await;
    let ca = peer().ca_pem.clone();
    for (listener, tls) in [("plain", vec![]), ("starttls", vec![("starttls", "true")]), ("ssl", vec![("ssl", "true")])] {
        let mut changes = tls.clone();
        changes.extend([("ca_pem", ca.as_str()), ("reply_to", "ops@example.com")]);
        let report = run(&app, listener, &changes, "").await;
        assert_stage(&report, "Accepted", 5_000);
        assert_eq!(report["code"], 250);
        assert_eq!(report["enhanced_status"], "2.0.0");
        assert!(report["summary"].as_str().unwrap().contains("check the inbox and spam folder"));
        let reply = report["server_reply"].as_str().unwrap();
        let queue_id = reply.rsplit(' ').next().unwrap();
        let message = peer().message(queue_id);
        for header in [
            "From: \"Mailroom Alerts\" <alerts@example.com>",
            "To: alerts@example.com",
            "Reply-To: ops@example.com",
            "Subject: Mailroom test email",
            "Date: ",
            "Message-ID: <",
        ] {
            assert!(message.contains(header), "{listener}: {header:?} missing in\n{message}");
        }
        assert!(message.contains(&format!("port {}", peer().port(listener))), "body names the port");
        let t = transcript(&report);
        assert!(t.contains("AUTH PLAIN <credentials hidden>") || t.contains("AUTH LOGIN <credentials hidden>"), "{t}");
        assert!(t.contains("queued as"), "{t}");
        if listener == "starttls" {
            assert!(t.contains("STARTTLS"), "{t}");
        }
    }
    // The last test is stored and loaded with the settings.
    let load = app.load().await.json();
    assert_eq!(load["tests"]["last_success"]["success"], true, "{load}");
}

#[tokio::test]
async fn a_wrong_password_is_an_auth_rejection_with_advice_and_no_secret_in_the_transcript() {
    let app = spawn_app().await;
    let report = run(&app, "plain", &[("password", "wrong-password")], "").await;
    assert_stage(&report, "AuthRejected", 5_000);
    assert_eq!(report["code"], 535);
    assert_eq!(report["enhanced_status"], "5.7.8");
    assert_eq!(report["field"], "Password");
    let advice = report["advice"].to_string();
    assert!(advice.contains("SMTP address, port, account, and password"), "{advice}");
    assert!(advice.contains("authorization code"), "{advice}");
    let t = transcript(&report);
    assert!(!t.contains("d3JvbmctcGFzc3dvcmQ"), "base64 password leaked: {t}"); // "wrong-password"
    let load = app.load().await.json();
    assert_eq!(load["tests"]["last"]["stage"], "AuthRejected");
}

#[tokio::test]
async fn a_wrong_tls_mode_is_reported_in_under_two_seconds() {
    let app = spawn_app().await;
    let ca = peer().ca_pem.clone();
    let ssl_on_starttls = run(&app, "starttls", &[("ssl", "true"), ("ca_pem", &ca)], "").await;
    assert_stage(&ssl_on_starttls, "SslOnPlainPort", 2_000);
    assert_eq!(ssl_on_starttls["field"], "Encryption");
    let starttls_on_ssl = run(&app, "ssl", &[("starttls", "true"), ("ca_pem", &ca)], "").await;
    assert_stage(&starttls_on_ssl, "PlainOnSslPort", 2_000);
    let plain_on_ssl = run(&app, "ssl", &[], "").await;
    assert_stage(&plain_on_ssl, "PlainOnSslPort", 2_000);
    assert!(plain_on_ssl["advice"].to_string().contains("Turn on"), "{plain_on_ssl}");
}

#[tokio::test]
async fn certificate_problems_are_told_apart() {
    let app = spawn_app().await;
    let ca = peer().ca_pem.clone();
    assert_stage(&run(&app, "ssl", &[("ssl", "true")], "").await, "CertificateUntrusted", 3_000);
    assert_stage(&run(&app, "ssl_expired", &[("ssl", "true"), ("ca_pem", &ca)], "").await, "CertificateExpired", 3_000);
    let wrong = run(&app, "ssl_wrongname", &[("ssl", "true"), ("ca_pem", &ca)], "").await;
    assert_stage(&wrong, "CertificateWrongName", 3_000);
    assert_eq!(wrong["field"], "Host");
    // Skipping verification gets past an untrusted certificate (and says why it is dangerous in the UI).
    assert_stage(&run(&app, "ssl", &[("ssl", "true"), ("skip_verify", "true")], "").await, "Accepted", 5_000);
}

#[tokio::test]
async fn connection_stages_dns_refused_greeting_and_silence() {
    let app = spawn_app().await;
    let dns = run(&app, "plain", &[("host", "no-such-host.invalid")], "").await;
    assert_stage(&dns, "DnsLookup", 5_000);
    assert_eq!(dns["field"], "Host");
    assert_stage(&run(&app, "closed", &[], "").await, "ConnectionRefused", 2_000);
    let refused = run(&app, "refuse", &[], "").await;
    assert_stage(&refused, "Greeting", 2_000);
    assert_eq!(refused["code"], 554);
    // A server that never greets is not mistaken for an SSL port; the deadline (2 s) ends it.
    let silent = run(&app, "silent", &[("timeout", "2")], "").await;
    assert_stage(&silent, "Greeting", 2_500);
    assert!(silent["elapsed_ms"].as_u64().unwrap() >= 2_000, "{silent}");
    assert!(silent["summary"].as_str().unwrap().contains("No answer within 2 seconds"), "{silent}");
}

#[tokio::test]
async fn starttls_and_auth_offers() {
    let app = spawn_app().await;
    let no_starttls = run(&app, "plain", &[("starttls", "true")], "").await;
    assert_stage(&no_starttls, "StartTlsNotOffered", 3_000);
    let auth_before_tls = run(&app, "starttls", &[], "").await;
    assert_stage(&auth_before_tls, "AuthNotOffered", 3_000);
    assert!(auth_before_tls["advice"].to_string().contains("turn on STARTTLS"), "{auth_before_tls}");
    let cram = run(&app, "cram_only", &[], "").await;
    assert_stage(&cram, "NoSupportedAuth", 3_000);
    assert!(cram["summary"].as_str().unwrap().contains("CRAM-MD5"), "{cram}");
}

#[tokio::test]
async fn sender_recipient_and_message_rejections() {
    let app = spawn_app().await;
    let sender = run(&app, "plain", &[("from_address", "other@example.com")], "").await;
    assert_stage(&sender, "SenderRejected", 3_000);
    assert_eq!(sender["code"], 553);
    assert_eq!(sender["field"], "FromAddress");
    assert!(sender["advice"].to_string().contains("alerts@example.com"), "{sender}");
    let rcpt = run(&app, "plain", &[], "reject-rcpt@example.com").await;
    assert_stage(&rcpt, "RecipientRejected", 3_000);
    assert_eq!(rcpt["code"], 550);
    let data = run(&app, "plain", &[], "reject-data@example.com").await;
    assert_stage(&data, "MessageRejected", 3_000);
    assert_eq!(data["code"], 554);
}

#[tokio::test]
async fn a_non_address_account_needs_a_recipient_and_a_sixth_test_in_a_minute_is_refused() {
    let app = spawn_app().await;
    let reply = app.test_mail(&peer_form("plain", &[("account", "apikey")]), "").await;
    assert_eq!(reply.status, 500);
    assert_eq!(reply.json()["Invalid"]["errors"][0][0], "SendTo", "{}", reply.body);
    let ok = run(&app, "plain", &[("account", "apikey"), ("from_address", "alerts@example.com")], "ops@example.com").await;
    assert_stage(&ok, "Accepted", 5_000);
    for _ in 0..3 {
        app.test_mail(&peer_form("plain", &[]), "").await;
    }
    let limited = app.test_mail(&peer_form("plain", &[]), "").await;
    assert_eq!(limited.status, 500);
    assert_eq!(limited.json()["RateLimited"]["limit"], 5, "{}", limited.body);
    // The limit belongs to the session: the same admin logged in anew may test again.
    let other = reqwest::Client::builder().cookie_store(true).default_headers({
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("origin", app.url.parse().unwrap());
        h
    }).build().unwrap();
    other
        .post(format!("{}/api/login", app.url))
        .form(&[("email", common::ADMIN), ("password", common::ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    let mut pairs = vec![("send_to".to_string(), String::new())];
    pairs.extend(peer_form("plain", &[]).into_iter().map(|(k, v)| (format!("form[{k}]"), v)));
    let res = other.post(format!("{}/api/test_mail_server", app.url)).header("Accept", "application/json").form(&pairs).send().await.unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}
