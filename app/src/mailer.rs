//! Sending mail with lettre (server only), step by step, so a failed test says which step failed.
//!
//! DNS and the TCP connection are made here (tokio) so those failures are told apart; everything
//! from TLS on is lettre's. The TLS mode comes from the settings, never from the port. One hard
//! deadline covers the whole conversation; a plain connection to an implicit-TLS port is found by
//! a quick probe instead of waiting for that deadline.
//!
//! The transcript is lettre's own record of what it wrote and read (its `tracing` events),
//! collected by a subscriber that lives only for one test, with AUTH payloads and the message
//! body replaced.

use crate::domain::{Encryption, MailServerSettings};
use crate::mailtest::{auth_hints, brief, enhanced_status, Stage, TestReport, TranscriptLine};
use lettre::{
    message::{header::ContentType, Mailbox},
    transport::smtp::{
        authentication::{Credentials, Mechanism},
        client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters},
        commands::{Data, Mail, Rcpt},
        extension::ClientId,
        Error as SmtpError,
    },
    Address, Message,
};
use std::{
    error::Error as StdError,
    net::SocketAddr,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    task::{Context, Poll},
    time::{Duration, Instant},
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
};
use tracing::instrument::WithSubscriber;

/// After this long without a greeting on a plain connection, probe whether the port speaks TLS.
const TLS_PROBE_AFTER: Duration = Duration::from_millis(700);
const TLS_PROBE_TIMEOUT: Duration = Duration::from_millis(1000);

/// Everything one test (or one real send) needs.
#[derive(Clone)]
pub struct SmtpTarget {
    pub settings: MailServerSettings,
    pub password: String,
    /// PEM of an extra CA to trust (a private CA).
    pub ca_pem: Option<String>,
    pub skip_verify: bool,
}

/// Sends the test mail to `recipient` and reports what happened. Never panics, never exceeds
/// the settings' timeout (plus a few milliseconds).
pub async fn test_send(target: &SmtpTarget, recipient: &Address) -> TestReport {
    let s = &target.settings;
    let body = format!(
        "This is a test email from Mailroom.\r\n\r\n\
         It was sent through {host}, port {port}, with {enc}, logged in as {account}.\r\n\
         If you can read it, Mailroom can send alert notifications and forgotten-password emails.\r\n",
        host = s.host,
        port = s.port.get(),
        enc = s.encryption.describe(),
        account = s.account.as_str(),
    );
    send_mail(target, recipient, "Mailroom test email", body).await
}

/// Sends one plain-text mail through the settings (the system's own mail: alerts, password
/// resets) and reports each step the same way a test does.
pub async fn send_mail(target: &SmtpTarget, recipient: &Address, subject: &str, body: String) -> TestReport {
    let started = Instant::now();
    let s = &target.settings;
    let deadline = Duration::from_secs(u64::from(s.timeout.secs()));
    let progress = Arc::new(Mutex::new(Stage::DnsLookup));
    let collector = TranscriptCollector::default();

    let conversation =
        converse(target, recipient, subject, body, progress.clone(), collector.clone()).with_subscriber(collector.subscriber());
    let outcome = match tokio::time::timeout(deadline, conversation).await {
        Ok(outcome) => outcome,
        Err(_) => {
            let stage = *progress.lock().unwrap();
            Err(Failure::new(stage, format!("No answer within {} seconds while {}.", deadline.as_secs(), doing(stage))))
        }
    };

    let elapsed_ms = started.elapsed().as_millis() as u64;
    let transcript = collector.transcript();
    let server = format!("{}:{}", s.host, s.port.get());
    let base = TestReport {
        success: false,
        stage: Stage::Accepted,
        summary: String::new(),
        code: None,
        enhanced_status: None,
        server_reply: None,
        field: None,
        advice: Vec::new(),
        transcript,
        elapsed_ms,
        server: server.clone(),
        encryption: s.encryption,
        recipient: recipient.to_string(),
        finished_at: crate::now_rfc3339(),
    };
    match outcome {
        Ok(reply) => TestReport {
            success: true,
            summary: format!(
                "Accepted by the server in {:.1} s; check the inbox and spam folder of {recipient}.",
                elapsed_ms as f64 / 1000.0
            ),
            code: reply.code,
            enhanced_status: reply.text.as_deref().and_then(enhanced_status),
            server_reply: reply.text,
            ..base
        },
        Err(f) => {
            let advice = advice_for(f.stage, target, &f.offered);
            TestReport {
                stage: f.stage,
                summary: f.summary,
                code: f.code,
                enhanced_status: f.reply.as_deref().and_then(enhanced_status),
                server_reply: f.reply,
                field: f.stage.field(),
                advice,
                ..base
            }
        }
    }
}

fn doing(stage: Stage) -> &'static str {
    match stage {
        Stage::DnsLookup => "looking up the host name",
        Stage::ConnectionRefused | Stage::ConnectionTimedOut => "connecting (a firewall may be dropping the connection)",
        Stage::TlsHandshake | Stage::SslOnPlainPort | Stage::PlainOnSslPort => "setting up encryption",
        Stage::Greeting => "waiting for the server's greeting",
        Stage::Ehlo | Stage::StartTlsNotOffered => "introducing Mailroom (EHLO/STARTTLS)",
        Stage::AuthNotOffered | Stage::NoSupportedAuth | Stage::AuthRejected => "logging in",
        Stage::SenderRejected => "giving the sender",
        Stage::RecipientRejected => "giving the recipient",
        _ => "sending the message",
    }
}

fn advice_for(stage: Stage, target: &SmtpTarget, offered: &[String]) -> Vec<String> {
    let s = &target.settings;
    let mut out: Vec<String> = Vec::new();
    match stage {
        Stage::DnsLookup => out.push(format!("Check the spelling of {}. {}", s.host, brief::VERIFY_SERVER)),
        Stage::ConnectionRefused => {
            out.push(format!("Nothing accepts connections on port {}. {}", s.port.get(), brief::PORTS));
            out.push(brief::FIREWALL.into());
        }
        Stage::ConnectionTimedOut => {
            out.push(brief::FIREWALL.into());
            out.push(brief::PORTS.into());
        }
        Stage::SslOnPlainPort => {
            out.push(format!(
                "Turn off \u{201c}Use SSL\u{201d}: port {} answers unencrypted. Use STARTTLS (usually port 587), or SSL on port 465.",
                s.port.get()
            ));
            out.push(brief::TLS.into());
        }
        Stage::PlainOnSslPort => {
            out.push(format!("Turn on \u{201c}Use SSL\u{201d} (and off STARTTLS): port {} expects encryption from the first byte.", s.port.get()));
            out.push(brief::TLS.into());
        }
        Stage::CertificateUntrusted => {
            out.push("If the server uses a private CA, paste that CA\u{2019}s certificate under Advanced \u{203a} Trusted CA certificate (PEM).".into());
            out.push("\u{201c}Skip certificate verification\u{201d} makes the test pass but lets anyone on the network read the password: use it only to diagnose.".into());
        }
        Stage::CertificateExpired => out.push("The server\u{2019}s certificate has expired: ask the mail server\u{2019}s administrator to renew it.".into()),
        Stage::CertificateWrongName => out.push(format!(
            "The certificate does not name {}: use the host name written on the certificate (often the provider\u{2019}s documented SMTP host).",
            s.host
        )),
        Stage::TlsHandshake => out.push(brief::TLS.into()),
        Stage::Greeting => {
            out.push(brief::VERIFY_SERVER.into());
            out.push(brief::PORTS.into());
        }
        Stage::Ehlo => out.push("Set a HELO name under Advanced that the server accepts, such as this machine\u{2019}s public DNS name.".into()),
        Stage::StartTlsNotOffered => {
            out.push("Turn off STARTTLS and use SSL on port 465 if the provider offers it; use no encryption only if the provider documents that.".into());
            out.push(brief::TLS.into());
        }
        Stage::AuthNotOffered => {
            if s.encryption == Encryption::None {
                out.push("Many servers offer login only over an encrypted connection: turn on STARTTLS (port 587) or SSL (port 465).".into());
            }
            out.push(brief::VERIFY_SERVER.into());
        }
        Stage::NoSupportedAuth => out.push(format!(
            "The server offers {}; Mailroom logs in with PLAIN or LOGIN. Ask the provider for SMTP AUTH PLAIN/LOGIN access.",
            if offered.is_empty() { "no login method Mailroom knows".to_string() } else { offered.join(", ") }
        )),
        Stage::AuthRejected => {
            out.push(brief::VERIFY_SERVER.into());
            out.extend(auth_hints(s.host.as_str()));
            out.push(brief::THIRD_PARTY.into());
        }
        Stage::SenderRejected => {
            out.push(format!("Many providers accept only the account itself as From: set Email \u{201c}From\u{201d} Address to {}.", s.account.as_str()));
        }
        Stage::RecipientRejected => out.push("Check the recipient address (\u{201c}Send test to\u{201d}); the server may also refuse outside recipients for this account.".into()),
        Stage::MessageRejected => out.push(brief::THIRD_PARTY.into()),
        Stage::Accepted => {}
    }
    out
}

/// A failed step: where, what the server said, and one sentence.
#[derive(Debug)]
struct Failure {
    stage: Stage,
    summary: String,
    code: Option<u16>,
    reply: Option<String>,
    /// AUTH mechanisms the server offered (for NoSupportedAuth).
    offered: Vec<String>,
}

impl Failure {
    fn new(stage: Stage, summary: impl Into<String>) -> Self {
        Self { stage, summary: summary.into(), code: None, reply: None, offered: Vec::new() }
    }

    /// A failure whose cause is an SMTP reply (or its absence).
    fn smtp(stage: Stage, what: &str, e: &SmtpError) -> Self {
        let code = e.status().map(u16::from);
        let reply = e.source().map(|s| s.to_string()).filter(|s| !s.is_empty());
        let summary = match (code, &reply) {
            (Some(c), Some(r)) => format!("{what}: the server answered {c} {r}"),
            (Some(c), None) => format!("{what}: the server answered {c}"),
            _ => format!("{what}: {e}"),
        };
        Self { stage, summary, code, reply, offered: Vec::new() }
    }
}

/// The server's final answer to the message.
struct Accepted {
    code: Option<u16>,
    text: Option<String>,
}

async fn converse(
    target: &SmtpTarget,
    recipient: &Address,
    subject: &str,
    body: String,
    progress: Arc<Mutex<Stage>>,
    collector: TranscriptCollector,
) -> Result<Accepted, Failure> {
    let s = &target.settings;
    let at = |stage: Stage| *progress.lock().unwrap() = stage;
    let host = s.host.as_str();
    let port = s.port.get();

    at(Stage::DnsLookup);
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| Failure::new(Stage::DnsLookup, format!("The host name {host} could not be resolved ({e}).")))?
        .collect();
    if addrs.is_empty() {
        return Err(Failure::new(Stage::DnsLookup, format!("The host name {host} has no address.")));
    }

    at(Stage::ConnectionTimedOut);
    let (tcp, addr) = connect_any(&addrs).await?;

    let tls = tls_parameters(target)?;
    let client_id = match &s.helo_name {
        Some(h) => ClientId::Domain(h.as_str().to_string()),
        None => ClientId::default(),
    };

    let mut conn = match s.encryption {
        Encryption::Ssl => {
            // lettre makes the implicit-TLS connection itself; the TCP check above has already
            // told refused and unreachable ports apart.
            drop(tcp);
            at(Stage::TlsHandshake);
            AsyncSmtpConnection::connect_tokio1(addr, None, &client_id, Some(tls.clone()), None)
                .await
                .map_err(|e| classify_connect_error(&e, port, collector.wrote()))?
        }
        Encryption::StartTls | Encryption::None => {
            at(Stage::Greeting);
            let greeted = Arc::new(AtomicBool::new(false));
            let stream = Watched { inner: tcp, got_bytes: greeted.clone() };
            let connect = AsyncSmtpConnection::connect_with_transport(Box::new(stream), &client_id);
            tokio::select! {
                res = connect => res.map_err(|e| classify_connect_error(&e, port, collector.wrote()))?,
                () = tls_probe(addr, host, greeted) => {
                    return Err(Failure::new(Stage::PlainOnSslPort, format!(
                        "Port {port} expects SSL (implicit TLS): it waits for encryption and never greets a plain connection."
                    )));
                }
            }
        }
    };

    if s.encryption == Encryption::StartTls {
        if !conn.can_starttls() {
            let _ = conn.quit().await;
            return Err(Failure::new(
                Stage::StartTlsNotOffered,
                "STARTTLS is on, but the server does not offer STARTTLS on this port.",
            ));
        }
        at(Stage::TlsHandshake);
        conn.starttls(tls, &client_id).await.map_err(|e| classify_connect_error(&e, port, collector.wrote()))?;
    }

    at(Stage::AuthRejected);
    let info = conn.server_info();
    let offered = offered_mechanisms(&collector.raw.lock().unwrap());
    let supported = [Mechanism::Plain, Mechanism::Login];
    if info.get_auth_mechanism(&supported).is_none() {
        let _ = conn.quit().await;
        return Err(if offered.is_empty() {
            Failure::new(
                Stage::AuthNotOffered,
                if conn.is_encrypted() || s.encryption != Encryption::None {
                    "The server does not offer login (AUTH) on this connection.".to_string()
                } else {
                    "The server does not offer login (AUTH) before encryption.".to_string()
                },
            )
        } else {
            Failure {
                offered: offered.clone(),
                ..Failure::new(
                    Stage::NoSupportedAuth,
                    format!("The server offers only {} for login; Mailroom supports PLAIN and LOGIN.", offered.join(", ")),
                )
            }
        });
    }
    let credentials = Credentials::new(s.account.as_str().to_string(), target.password.clone());
    conn.auth(&supported, &credentials)
        .await
        .map_err(|e| Failure::smtp(Stage::AuthRejected, "The login was rejected", &e))?;

    at(Stage::SenderRejected);
    let from: Address = s
        .from_address
        .as_str()
        .parse()
        .map_err(|e| Failure::new(Stage::SenderRejected, format!("The From address cannot be used: {e}")))?;
    conn.command(Mail::new(Some(from), vec![]))
        .await
        .map_err(|e| Failure::smtp(Stage::SenderRejected, "The sender was rejected", &e))?;
    at(Stage::RecipientRejected);
    conn.command(Rcpt::new(recipient.clone(), vec![]))
        .await
        .map_err(|e| Failure::smtp(Stage::RecipientRejected, &format!("The recipient {recipient} was rejected"), &e))?;
    at(Stage::MessageRejected);
    let message = build_message(s, recipient, subject, body)
        .map_err(|e| Failure::new(Stage::MessageRejected, format!("The test message could not be built: {e}")))?;
    conn.command(Data).await.map_err(|e| Failure::smtp(Stage::MessageRejected, "The message was rejected", &e))?;
    let reply = conn
        .message(&message.formatted())
        .await
        .map_err(|e| Failure::smtp(Stage::MessageRejected, "The message was rejected", &e))?;
    let _ = conn.quit().await;
    Ok(Accepted { code: Some(u16::from(reply.code())), text: Some(reply.message().collect::<Vec<_>>().join(" ")) })
}

async fn connect_any(addrs: &[SocketAddr]) -> Result<(TcpStream, SocketAddr), Failure> {
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => {
                // SMTP is a dialog of small writes: without this, Nagle's algorithm and delayed
                // ACKs add about 40 ms to some steps.
                let _ = s.set_nodelay(true);
                return Ok((s, *addr));
            }
            Err(e) => last = Some((e, *addr)),
        }
    }
    let (e, addr) = last.expect("at least one address");
    Err(match e.kind() {
        std::io::ErrorKind::ConnectionRefused => {
            Failure::new(Stage::ConnectionRefused, format!("{addr} refused the connection: no mail server listens on that port."))
        }
        std::io::ErrorKind::TimedOut => Failure::new(Stage::ConnectionTimedOut, format!("Connecting to {addr} timed out.")),
        _ => Failure::new(Stage::ConnectionRefused, format!("Could not connect to {addr}: {e}.")),
    })
}

fn tls_parameters(target: &SmtpTarget) -> Result<TlsParameters, Failure> {
    let mut builder = TlsParameters::builder(target.settings.host.as_str().to_string());
    if let Some(pem) = &target.ca_pem {
        let cert = lettre::transport::smtp::client::Certificate::from_pem(pem.as_bytes()).map_err(|e| {
            Failure::new(Stage::CertificateUntrusted, format!("The trusted CA certificate could not be read: {e}"))
        })?;
        builder = builder.add_root_certificate(cert);
    }
    if target.skip_verify {
        builder = builder.dangerous_accept_invalid_certs(true).dangerous_accept_invalid_hostnames(true);
    }
    builder
        .build_rustls()
        .map_err(|e| Failure::new(Stage::TlsHandshake, format!("TLS could not be set up: {e}")))
}

/// Errors while connecting, encrypting, reading the greeting or saying EHLO.
fn classify_connect_error(e: &SmtpError, port: u16, wrote: bool) -> Failure {
    if let Some(tls) = find_rustls_error(e) {
        use rustls::{CertificateError as C, Error as R};
        return match tls {
            R::InvalidMessage(_) | R::InappropriateMessage { .. } | R::InappropriateHandshakeMessage { .. } => Failure::new(
                Stage::SslOnPlainPort,
                format!("SSL is on, but port {port} answered without encryption (it expects STARTTLS or plain SMTP)."),
            ),
            R::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
                Failure::new(Stage::CertificateExpired, "The server's certificate has expired.")
            }
            R::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => {
                Failure::new(Stage::CertificateWrongName, "The server's certificate is for a different host name.")
            }
            R::InvalidCertificate(C::UnknownIssuer | C::BadSignature | C::NotValidYet | C::NotValidYetContext { .. }) => {
                Failure::new(Stage::CertificateUntrusted, format!("The server's certificate is not trusted ({tls})."))
            }
            R::InvalidCertificate(other) => {
                Failure::new(Stage::CertificateUntrusted, format!("The server's certificate was refused ({other:?})."))
            }
            other => Failure::new(Stage::TlsHandshake, format!("The TLS handshake failed: {other}.")),
        };
    }
    if e.is_timeout() {
        return Failure::new(Stage::Greeting, "The server did not greet in time.");
    }
    if e.status().is_some() {
        // lettre reads the greeting, then sends EHLO: a refusal before Mailroom wrote anything
        // is the greeting's, after that EHLO's (or STARTTLS's).
        return if wrote {
            Failure::smtp(Stage::Ehlo, "EHLO was rejected", e)
        } else {
            Failure::smtp(Stage::Greeting, "The server refused the connection", e)
        };
    }
    Failure::new(Stage::Greeting, format!("The server closed the connection without a proper greeting ({e})."))
}

/// rustls errors hide inside io::Errors, whose `source()` skips the wrapped error itself.
fn find_rustls_error<'a>(e: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if let Some(inner) = io.get_ref() {
                if let Some(r) = find_rustls_error(inner) {
                    return Some(r);
                }
            }
        }
        current = err.source();
    }
    None
}

/// The AUTH mechanisms in the server's latest EHLO answer, as lettre read it (lettre itself keeps
/// only the mechanisms it supports).
fn offered_mechanisms(raw: &[String]) -> Vec<String> {
    let Some(ehlo) = raw.iter().rev().filter_map(|e| e.strip_prefix("<< ")).find(|r| r.starts_with("250")) else {
        return Vec::new();
    };
    ehlo.split("<CRLF>")
        .filter_map(|line| line.get(4..))
        .filter_map(|rest| rest.strip_prefix("AUTH ").or_else(|| rest.strip_prefix("AUTH=")))
        .flat_map(|mechs| mechs.split_whitespace().map(str::to_ascii_uppercase))
        .fold(Vec::new(), |mut out, m| {
            if !out.contains(&m) {
                out.push(m);
            }
            out
        })
}

/// Resolves only if `addr` turns out to speak TLS while the plain connection got no greeting.
async fn tls_probe(addr: SocketAddr, host: &str, greeted: Arc<AtomicBool>) {
    tokio::time::sleep(TLS_PROBE_AFTER).await;
    if greeted.load(Ordering::Relaxed) {
        return std::future::pending().await;
    }
    let params = TlsParameters::builder(host.to_string())
        .dangerous_accept_invalid_certs(true)
        .dangerous_accept_invalid_hostnames(true)
        .build_rustls();
    let speaks_tls = match params {
        Ok(params) => {
            let client_id = ClientId::default();
            let attempt = AsyncSmtpConnection::connect_tokio1(addr, None, &client_id, Some(params), None);
            match tokio::time::timeout(TLS_PROBE_TIMEOUT, attempt).await {
                Ok(Ok(mut conn)) => {
                    let _ = conn.quit().await;
                    true
                }
                // An SMTP answer of any kind means the TLS layer worked.
                Ok(Err(e)) => find_rustls_error(&e).is_none() && e.status().is_some(),
                Err(_) => false,
            }
        }
        Err(_) => false,
    };
    if !speaks_tls {
        std::future::pending::<()>().await;
    }
}

fn build_message(s: &MailServerSettings, to: &Address, subject: &str, body: String) -> Result<Message, String> {
    let from_addr: Address = s.from_address.as_str().parse().map_err(|e| format!("{e}"))?;
    let name = s.from_name.as_str();
    let from = Mailbox::new((!name.is_empty()).then(|| name.to_string()), from_addr);
    let mut builder = Message::builder()
        .from(from)
        .to(Mailbox::new(None, to.clone()))
        .subject(subject)
        .date_now()
        .message_id(None)
        .header(ContentType::TEXT_PLAIN);
    if let Some(reply_to) = &s.reply_to {
        builder = builder.reply_to(Mailbox::new(None, reply_to.as_str().parse().map_err(|e| format!("{e}"))?));
    }
    builder
        .body(body)
        .map_err(|e| e.to_string())
}

/// A TCP stream that notes when the first byte arrives (a greeting on a plain connection).
#[derive(Debug)]
struct Watched {
    inner: TcpStream,
    got_bytes: Arc<AtomicBool>,
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.got_bytes.store(true, Ordering::Relaxed);
        }
        res
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for Watched {
    fn peer_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.peer_addr()
    }
}

/// Collects lettre's debug events ("Wrote: …", "<< …") for one test.
#[derive(Clone, Default)]
struct TranscriptCollector {
    raw: Arc<Mutex<Vec<String>>>,
    /// Whether Mailroom has written anything yet (tells a refused greeting from a refused EHLO).
    wrote: Arc<AtomicBool>,
}

impl TranscriptCollector {
    fn subscriber(&self) -> tracing::Dispatch {
        use tracing_subscriber::{filter::Targets, layer::SubscriberExt, Layer};
        let layer = CaptureLayer { raw: self.raw.clone(), wrote: self.wrote.clone() }.with_filter(Targets::new().with_target("lettre", tracing::Level::DEBUG));
        tracing::Dispatch::new(tracing_subscriber::registry().with(layer))
    }

    fn wrote(&self) -> bool {
        self.wrote.load(Ordering::Relaxed)
    }

    fn transcript(&self) -> Vec<TranscriptLine> {
        redact(&self.raw.lock().unwrap())
    }
}

struct CaptureLayer {
    raw: Arc<Mutex<Vec<String>>>,
    wrote: Arc<AtomicBool>,
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CaptureLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: tracing_subscriber::layer::Context<'_, S>) {
        struct Message(Option<String>);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0 = Some(format!("{value:?}"));
                }
            }
        }
        let mut m = Message(None);
        event.record(&mut m);
        if let Some(text) = m.0 {
            if text.starts_with("Wrote: ") {
                self.wrote.store(true, Ordering::Relaxed);
            }
            self.raw.lock().unwrap().push(text);
        }
    }
}

/// Turns lettre's raw events into transcript lines: multi-line replies merged, AUTH payloads and
/// the message body replaced.
fn redact(raw: &[String]) -> Vec<TranscriptLine> {
    let mut out: Vec<TranscriptLine> = Vec::new();
    let mut in_auth = false;
    let mut after_data = false;
    let mut last_reply = String::new();
    for event in raw {
        if let Some(written) = event.strip_prefix("Wrote: ") {
            last_reply.clear();
            let text = written.trim_end_matches("<CRLF>");
            if after_data {
                after_data = false;
                out.push(TranscriptLine { client: true, text: format!("<message, {} bytes>", text.len()) });
                continue;
            }
            let upper = text.to_ascii_uppercase();
            let line = if upper.starts_with("AUTH ") {
                in_auth = true;
                let mech = text.split_whitespace().nth(1).unwrap_or("");
                format!("AUTH {mech} <credentials hidden>")
            } else if in_auth {
                "<credentials hidden>".to_string()
            } else {
                text.to_string()
            };
            if upper == "DATA" {
                after_data = true;
            }
            out.push(TranscriptLine { client: true, text: line });
        } else if let Some(reply) = event.strip_prefix("<< ") {
            // lettre logs the growing buffer of a multi-line reply: keep the newest.
            let continues = !last_reply.is_empty() && reply.starts_with(last_reply.as_str());
            if continues {
                out.pop();
            }
            last_reply = reply.to_string();
            let text = reply.trim_end_matches("<CRLF>").replace("<CRLF>", "\n");
            if in_auth && !text.starts_with("334") {
                in_auth = false;
            }
            // After DATA, only a 354 keeps the next write a message body.
            after_data = after_data && text.starts_with("354");
            out.push(TranscriptLine { client: false, text });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn redaction_hides_auth_payloads_and_the_body() {
        let t = redact(&raw(&[
            "<< 220 peer.test ESMTP<CRLF>",
            "Wrote: EHLO me<CRLF>",
            "<< 250-peer.test<CRLF>",
            "<< 250-peer.test<CRLF>250 AUTH PLAIN LOGIN<CRLF>",
            "Wrote: AUTH PLAIN AGFsZXJ0cwBzZWNyZXQ=<CRLF>",
            "<< 235 2.7.0 Authentication successful<CRLF>",
            "Wrote: AUTH LOGIN<CRLF>",
            "<< 334 VXNlcm5hbWU6<CRLF>",
            "Wrote: YWxlcnRz<CRLF>",
            "<< 334 UGFzc3dvcmQ6<CRLF>",
            "Wrote: c2VjcmV0<CRLF>",
            "<< 235 ok<CRLF>",
            "Wrote: MAIL FROM:<a@example.com><CRLF>",
            "Wrote: DATA<CRLF>",
            "<< 354 go ahead<CRLF>",
            "Wrote: Subject: x<CRLF><CRLF>secret body<CRLF>.<CRLF>",
            "<< 250 2.0.0 Ok: queued as ABC<CRLF>",
        ]));
        let texts: Vec<&str> = t.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts[2], "250-peer.test\n250 AUTH PLAIN LOGIN", "multi-line reply merged");
        assert_eq!(texts[3], "AUTH PLAIN <credentials hidden>");
        assert!(texts.contains(&"AUTH LOGIN <credentials hidden>"));
        assert_eq!(texts.iter().filter(|t| **t == "<credentials hidden>").count(), 2);
        assert!(texts.iter().any(|t| t.starts_with("<message, ")));
        let all = texts.join("\n");
        for secret in ["AGFsZXJ0cwBzZWNyZXQ=", "YWxlcnRz", "c2VjcmV0", "secret body"] {
            assert!(!all.contains(secret), "{secret} leaked: {all}");
        }
        assert_eq!(texts.last(), Some(&"250 2.0.0 Ok: queued as ABC"));
    }

    #[test]
    fn offered_mechanisms_come_from_the_latest_ehlo_reply() {
        let r = raw(&["<< 220 hi<CRLF>", "<< 250-peer.test<CRLF>250-AUTH CRAM-MD5 ntlm<CRLF>250 HELP<CRLF>"]);
        assert_eq!(offered_mechanisms(&r), vec!["CRAM-MD5", "NTLM"]);
        assert!(offered_mechanisms(&raw(&["<< 250-peer.test<CRLF>250 STARTTLS<CRLF>"])).is_empty());
    }
}
