//! The SMTP submission listener with clients nobody here wrote: `swaks` (AUTH with a token over
//! STARTTLS, a wrong token, no AUTH, too large, PIPELINING) and Python's `smtplib` (1,000
//! messages in one session); a client that stalls, one that drops mid-DATA, a stop while a
//! session waits. The mail goes out through the outbox to the SMTP peer as the settings say.

use crate::helpers::*;
use app::outbox::{Origin, State};
use app::store::{ControlEvent, Pause, PauseCause};
use server::smtp::{Listeners, SmtpConfig};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// A listener on a free loopback port with STARTTLS (the peer's certificate for localhost),
/// tuned by `vars` over the defaults.
async fn listener(app: &TestApp, vars: &[(&str, &str)]) -> (Listeners, SocketAddr) {
    let (cert, key) = peer().cert_pair();
    let (cert, key) = (cert.display().to_string(), key.display().to_string());
    let var = |name: &str| {
        vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string()).or_else(|| match name {
            "MAILROOM_SMTP_LISTEN" => Some("127.0.0.1:0".into()),
            "MAILROOM_SMTP_TLS_CERT" => Some(cert.clone()),
            "MAILROOM_SMTP_TLS_KEY" => Some(key.clone()),
            _ => None,
        })
    };
    let config = SmtpConfig::from_vars(&var).unwrap().unwrap();
    let listeners = Listeners::start(config, app.ctx.clone(), "mailroom.test".into()).await.unwrap();
    let addr = listeners.addrs[0];
    (listeners, addr)
}

/// The peer's form on a port nobody listens on: messages stay queued.
fn closed_port_form() -> app::domain::MailServerForm {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    app::domain::MailServerForm { port: port.to_string(), ..peer_form("plain") }
}

/// `swaks` against `addr` with `args`: its exit status and everything it printed.
async fn swaks(addr: SocketAddr, args: &[&str]) -> (bool, String) {
    let mut all = vec!["--server".to_string(), addr.to_string(), "--timeout".into(), "20".into()];
    all.extend(args.iter().map(|a| a.to_string()));
    let out = tokio::task::spawn_blocking(move || std::process::Command::new("swaks").args(&all).output().expect("swaks (scripts/bootstrap.sh --test)"))
        .await
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn signed_in<'a>(token: &'a str, tls: bool) -> Vec<&'a str> {
    let mut args = vec!["--auth", "PLAIN", "--auth-user", "any-name", "--auth-password", token];
    if tls {
        args.push("--tls");
    }
    args
}

#[tokio::test]
async fn swaks_signs_in_with_a_token_over_starttls_and_the_mail_goes_out_as_the_settings_say() {
    let app = spawn_app().await;
    save_settings(&app, &peer_form("plain")).await;
    let token = app.api_token("backup-job").await;
    let (_listeners, addr) = listener(&app, &[]).await;
    let tag = format!("smtp-{}", std::process::id());
    let subject = format!("Subject: Nightly backup {tag}");
    let mut args = signed_in(&token, true);
    args.extend([
        "--from", "backup@host.example", "--to", "ops@example.com", "--pipeline",
        "--header", subject.as_str(), "--add-header", "Bcc: hidden@example.com",
        "--add-header", "X-Job: nightly", "--body", "All 42 databases.",
    ]);
    let (ok, said) = swaks(addr, &args).await;
    assert!(ok, "{said}");
    assert!(said.contains("STARTTLS") && said.contains("235 2.7.0") && said.contains("250 2.0.0 Queued as"), "{said}");

    let mail = peer().wait_for_mail(&tag, "ops@example.com").await;
    assert!(mail.contains("From: \"Mailroom Alerts\" <alerts@example.com>") || mail.contains("From: Mailroom Alerts <alerts@example.com>"), "{mail}");
    assert!(mail.contains("Reply-To: backup@host.example"), "{mail}");
    assert!(mail.contains("Received: from ") && mail.contains("by mailroom.test (Mailroom) with ESMTPSA"), "{mail}");
    assert!(mail.contains("X-Job: nightly") && mail.contains("All 42 databases."), "{mail}");
    assert!(!mail.contains("hidden@example.com"), "no Bcc: {mail}");

    let m = newest_message(&app, |m| m.state == State::Sent).await;
    match &m.origin {
        Origin::Smtp { name, client, message_id, .. } => {
            assert_eq!((name.as_str(), client.as_str()), ("backup-job", "127.0.0.1"));
            assert!(message_id.contains('@'), "{message_id}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(m.origin.source(), "SMTP");
}

#[tokio::test]
async fn every_refusal_has_its_code_and_mailroom_is_never_an_open_relay() {
    let app = spawn_app().await;
    let token = app.api_token("cron").await;
    let (_listeners, addr) = listener(&app, &[("MAILROOM_SMTP_MAX_MESSAGE_BYTES", "4096"), ("MAILROOM_SMTP_MAX_RECIPIENTS", "2")]).await;
    let to = ["--to", "ops@example.com"];

    // No settings yet: the client keeps the mail and tries again.
    let (_, said) = swaks(addr, &[signed_in(&token, true), to.to_vec()].concat()).await;
    assert!(said.contains("451 4.3.0 Mailroom has no mail settings yet"), "{said}");
    save_settings(&app, &peer_form("plain")).await;

    let (ok, said) = swaks(addr, &to).await;
    assert!(!ok && said.contains("530 5.7.0 Authentication required"), "no sign-in: {said}");
    let (ok, said) = swaks(addr, &[vec!["--tls", "--auth", "LOGIN", "--auth-user", "cron", "--auth-password", "not-a-token"], to.to_vec()].concat()).await;
    assert!(!ok && said.contains("535 5.7.8 Authentication credentials invalid"), "{said}");
    let (_, other_name) = swaks(addr, &[vec!["--tls", "--auth", "LOGIN", "--auth-user", "nobody", "--auth-password", "not-a-token"], to.to_vec()].concat()).await;
    assert!(other_name.contains("535 5.7.8 Authentication credentials invalid"), "the same for any name: {other_name}");

    // Too large: declared (SIZE) and sent.
    let big = "x".repeat(8000);
    let (ok, said) = swaks(addr, &[signed_in(&token, true), to.to_vec(), vec!["--body", big.as_str()]].concat()).await;
    assert!(!ok && said.contains("552 5.3.4 Message too large"), "{said}");
    let (_, said) = swaks(addr, &[signed_in(&token, true), vec!["--to", "a@example.com,b@example.com,c@example.com"]].concat()).await;
    assert!(said.contains("452 4.5.3 Too many recipients"), "{said}");
    // The first two were taken (the client sends to those it was given).
    let mut taken: Vec<String> = app.store.recent_messages(10).await.unwrap().into_iter().map(|m| m.to).collect();
    taken.sort();
    assert_eq!(taken, ["a@example.com", "b@example.com"]);

    // Paused: said at MAIL FROM with the reason.
    let version = app.store.load_mail().await.unwrap().unwrap().version;
    let pause = Pause { reason: "The login was rejected (535)".into(), settings_version: version, cause: PauseCause::LoginRefused };
    app.store.change_control(&[ControlEvent::Paused(pause)]).await.unwrap();
    let (_, said) = swaks(addr, &[signed_in(&token, true), to.to_vec()].concat()).await;
    assert!(said.contains("451 4.3.0 Mailroom's outbox is paused: The login was rejected (535)"), "{said}");
    assert_eq!(app.store.recent_messages(10).await.unwrap().len(), 2, "nothing queued by the refused ones");
}

/// Python's smtplib, one session: STARTTLS, login with the token, 1,000 messages.
#[tokio::test]
async fn smtplib_sends_a_thousand_messages_in_one_session() {
    let app = spawn_app().await;
    // Nobody listens there: the messages wait in the queue, where they are counted.
    save_settings(&app, &closed_port_form()).await;
    let token = app.api_token("legacy-app").await;
    let (_listeners, addr) = listener(&app, &[]).await;
    let script = r#"
import smtplib, ssl, sys
from email.message import EmailMessage
host, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
with smtplib.SMTP(host, port, timeout=30) as s:
    s.starttls(context=context)
    s.login("legacy-app", token)
    for i in range(1000):
        m = EmailMessage()
        m["From"] = "app@legacy.example"
        m["To"] = "ops@example.com"
        m["Subject"] = f"report {i}"
        m.set_content(f"line {i}")
        s.send_message(m)
print("sent")
"#;
    let (host, port) = (addr.ip().to_string(), addr.port().to_string());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3").args(["-c", script, &host, &port, &token]).output().unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let messages = app.store.recent_messages(2000).await.unwrap();
    assert_eq!(messages.len(), 1000);
    assert!(messages.iter().all(|m| matches!(m.origin, Origin::Smtp { .. }) && m.to == "ops@example.com"));
}

async fn line(reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> String {
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(10), reader.read_line(&mut line)).await.expect("an answer in time").unwrap();
    line
}

/// Reads a reply, with its continuation lines.
async fn reply(reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> String {
    let mut all = String::new();
    loop {
        let l = line(reader).await;
        all.push_str(&l);
        if l.len() < 4 || l.as_bytes()[3] != b'-' {
            return all;
        }
    }
}

#[tokio::test]
async fn a_stalled_client_is_told_421_a_dropped_data_leaves_nothing_and_a_stop_says_421() {
    let app = spawn_app().await;
    save_settings(&app, &peer_form("plain")).await;
    let token = app.api_token("flaky").await;
    let (listeners, addr) = listener(&app, &[("MAILROOM_SMTP_COMMAND_TIMEOUT_SECS", "1")]).await;

    // Says nothing after the greeting: 421 once the command timeout passes, then closed.
    let (read, _write) = tokio::net::TcpStream::connect(addr).await.unwrap().into_split();
    let mut reader = BufReader::new(read);
    assert!(line(&mut reader).await.starts_with("220 "));
    assert!(line(&mut reader).await.starts_with("421 4.4.2"));
    assert_eq!(line(&mut reader).await, "", "closed");

    // Signs in (loopback: no TLS needed), starts a message and goes away mid-DATA.
    let plain = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("\0flaky\0{token}"));
    let (read, mut write) = tokio::net::TcpStream::connect(addr).await.unwrap().into_split();
    let mut reader = BufReader::new(read);
    reply(&mut reader).await;
    for (command, expect) in [
        ("EHLO dropper".to_string(), "250"),
        (format!("AUTH PLAIN {plain}"), "235"),
        ("MAIL FROM:<a@example.com>".into(), "250"),
        ("RCPT TO:<ops@example.com>".into(), "250"),
        ("DATA".into(), "354"),
    ] {
        write.write_all(format!("{command}\r\n").as_bytes()).await.unwrap();
        let answer = reply(&mut reader).await;
        assert!(answer.starts_with(expect), "{command}: {answer}");
    }
    write.write_all(b"Subject: half\r\n\r\nhalf a mess").await.unwrap();
    drop(write);
    drop(reader);

    // A session under way when the listener stops is told 421 at once.
    let (read, mut write) = tokio::net::TcpStream::connect(addr).await.unwrap().into_split();
    let mut reader = BufReader::new(read);
    reply(&mut reader).await;
    write.write_all(b"EHLO waiting\r\n").await.unwrap();
    assert!(reply(&mut reader).await.starts_with("250"));
    let stopping = tokio::spawn(listeners.stop());
    assert!(line(&mut reader).await.starts_with("421 4.3.2"), "told it is shutting down");
    stopping.await.unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "no new sessions");
    assert_eq!(app.store.recent_messages(10).await.unwrap().len(), 0, "the dropped message was not queued");
}

/// A token limited to one door opens only that one: SMTP-only is refused by the HTTP API (403),
/// API-only by the listener (535); the page's choice is kept and shown.
#[tokio::test]
async fn a_token_for_smtp_only_or_the_api_only_opens_just_that() {
    use app::api::tokens::{ApiTokens, CreateApiToken};
    let app = spawn_app().await;
    save_settings(&app, &peer_form("plain")).await;
    let (_listeners, addr) = listener(&app, &[]).await;
    app.call(CreateApiToken { name: "printer".into(), scope: Some("smtp".into()) }).await.unwrap();
    let smtp_only = app.call(ApiTokens { revoked: None }).await.unwrap();
    let token = smtp_only.created.unwrap().token;
    assert_eq!(smtp_only.tokens[0].used_for, "SMTP only");
    let api = app.api("POST", "/api/v1/messages", Some(&token), Some(serde_json::json!({"to": ["ops@example.com"], "subject": "x", "text": "y"}))).await;
    assert_eq!(api.status, 403, "{api:?}");
    let (ok, said) = swaks(addr, &[signed_in(&token, true), vec!["--to", "ops@example.com"]].concat()).await;
    assert!(ok && said.contains("250 2.0.0 Queued"), "{said}");

    app.call(CreateApiToken { name: "grafana".into(), scope: Some("api".into()) }).await.unwrap();
    let token = app.call(ApiTokens { revoked: None }).await.unwrap().created.unwrap().token;
    let (ok, said) = swaks(addr, &[signed_in(&token, true), vec!["--to", "ops@example.com"]].concat()).await;
    assert!(!ok && said.contains("535 5.7.8 This token is for the HTTP API only"), "{said}");
    let api = app.api("POST", "/api/v1/messages", Some(&token), Some(serde_json::json!({"to": ["ops@example.com"], "subject": "x", "text": "y"}))).await;
    assert_eq!(api.status, 202, "{api:?}");
    let refused = app.call(CreateApiToken { name: "x".into(), scope: Some("ftp".into()) }).await.unwrap_err();
    assert_eq!(refused.status(), 400);
}

/// Postfix's `smtp-source` (which cannot sign in) from a trusted address: its messages are
/// taken as the trusted token's; from an address not trusted, the same is refused (530).
#[tokio::test]
async fn smtp_source_from_a_trusted_address_is_taken_as_the_trusted_token() {
    let app = spawn_app().await;
    save_settings(&app, &closed_port_form()).await;
    app.store
        .create_token_for(&app::auth::token_hash("unused"), "printers", app::domain::TokenUse::Smtp, "test", 1)
        .await
        .unwrap()
        .unwrap();
    let (_listeners, addr) = listener(&app, &[("MAILROOM_SMTP_TRUSTED_CLIENTS", "127.0.0.1"), ("MAILROOM_SMTP_TRUSTED_TOKEN", "printers")]).await;
    let source = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || std::process::Command::new("smtp-source").args(args).output().expect("smtp-source (postfix; scripts/bootstrap.sh --test)"))
    };
    let args = |from_ip: &str| -> Vec<String> {
        ["-s", "2", "-m", "50", "-l", "512", "-f", "scanner@office.example", "-t", "ops@example.com"]
            .iter()
            .map(|a| a.to_string())
            .chain([format!("{from_ip}:{}", addr.port())])
            .collect()
    };
    let out = source(args("127.0.0.1")).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let messages = app.store.recent_messages(100).await.unwrap();
    assert_eq!(messages.len(), 50);
    assert!(messages.iter().all(|m| matches!(&m.origin, Origin::Smtp { name, .. } if name == "printers")));
    // Only the trusted address: the same from 127.0.0.2 is told to sign in.
    let (_untrusted, other) = listener(&app, &[("MAILROOM_SMTP_TRUSTED_CLIENTS", "127.0.0.2"), ("MAILROOM_SMTP_TRUSTED_TOKEN", "printers")]).await;
    let (_, said) = swaks(other, &["--to", "ops@example.com"]).await;
    assert!(said.contains("530 5.7.0"), "{said}");
}
