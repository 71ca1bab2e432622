//! One SMTP conversation with lettre, step by step, so a failure says which step failed.
//!
//! DNS and the TCP connection are made here (tokio) so those failures are told apart; everything
//! from TLS on is lettre's. The TLS mode comes from the settings, never from the port.

use crate::domain::Said;
use super::{
    classify::{classify_connect_error, SendFailure},
    probe::tls_probe,
    stream::Guarded,
    transcript::TranscriptCollector,
    Delivered, Mail, Step,
};
use crate::domain::{Authentication, Encryption, MailServer, MailServerSettings};
use crate::report::Diagnosis;
use lettre::{
    message::{header::ContentType, Mailbox, MultiPart},
    transport::smtp::{
        authentication::{Credentials, Mechanism},
        client::{AsyncSmtpConnection, Certificate, TlsParameters},
        commands::{Data, Mail as MailFrom, Rcpt},
        extension::ClientId,
    },
    Address, Message,
};
use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};
use tokio::net::TcpStream;
use tracing::instrument::WithSubscriber;

/// The whole conversation, step by step; `progress` always names the step under way.
pub(super) async fn converse(
    server: &MailServer,
    recipient: &Address,
    mail: &Mail,
    progress: Arc<Mutex<Step>>,
    collector: TranscriptCollector,
    tokens: &super::oauth::Tokens,
) -> Result<Delivered, SendFailure> {
    let mut conn = open(server, &progress, &collector, tokens).await?;
    let delivered = transact(&mut conn, server, recipient, mail, &progress, &collector).await?;
    let _ = conn.quit().await;
    Ok(delivered)
}

/// Opens a session: DNS, the connection, TLS, EHLO and the login. Several messages may then go
/// through it ([`transact`]).
pub(super) async fn open(
    server: &MailServer,
    progress: &Arc<Mutex<Step>>,
    collector: &TranscriptCollector,
    tokens: &super::oauth::Tokens,
) -> Result<AsyncSmtpConnection, SendFailure> {
    let s = &server.settings;
    let at = |step: Step| *progress.lock().unwrap_or_else(|p| p.into_inner()) = step;
    let host = s.host.as_str();
    let port = s.port.get();

    // OAuth2: the token first, so no connection idles while the token endpoint answers.
    let token = if s.authentication == Authentication::OAuth2 {
        at(Step::Token);
        let token = super::oauth::access_token(server, false, tokens).await?;
        collector.note(&token.note);
        Some(token.secret)
    } else {
        None
    };

    at(Step::Dns);
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| {
            SendFailure::new(
                Diagnosis::DnsLookup,
                Said::new("summary-dns-failed").with("host", host).with("reason", e),
            )
        })?
        .collect();
    if addrs.is_empty() {
        return Err(SendFailure::new(
            Diagnosis::DnsLookup,
            Said::new("summary-dns-no-address").with("host", host),
        ));
    }

    at(Step::Connect);
    let (tcp, addr) = connect_any(&addrs).await?;

    let tls = tls_parameters(s)?;
    let client_id = match &s.helo_name {
        Some(h) => ClientId::Domain(h.as_str().to_string()),
        None => ClientId::default(),
    };

    let mut conn = match s.encryption {
        Encryption::Ssl => {
            at(Step::Tls);
            let stream = Guarded::new(tcp, collector.limit())
                .into_tls(tls.clone())
                .await
                .map_err(|e| classify_connect_error(&e, port, collector.wrote()))?;
            AsyncSmtpConnection::connect_with_transport(Box::new(stream), &client_id)
                .await
                .map_err(|e| classify_connect_error(&e, port, collector.wrote()))?
        }
        Encryption::StartTls | Encryption::None => {
            at(Step::Greeting);
            let stream = Guarded::new(tcp, collector.limit());
            let connect = AsyncSmtpConnection::connect_with_transport(Box::new(stream), &client_id);
            tokio::select! {
                res = connect => res.map_err(|e| classify_connect_error(&e, port, collector.wrote()))?,
                () = tls_probe(addr, host, collector.limit()) => {
                    return Err(SendFailure::new(Diagnosis::PlainOnSslPort, Said::new("summary-plain-on-ssl-port").with("port", port)));
                }
            }
        }
    };

    if s.encryption == Encryption::StartTls {
        if !conn.can_starttls() {
            let _ = conn.quit().await;
            return Err(SendFailure::new(
                Diagnosis::StartTlsNotOffered,
                Said::new("summary-starttls-not-offered"),
            ));
        }
        at(Step::StartTls);
        conn.starttls(tls, &client_id)
            .await
            .map_err(|e| classify_connect_error(&e, port, collector.wrote()))?;
    }

    if !s.authentication.signs_in() {
        return Ok(conn);
    }
    at(Step::Auth);
    let info = conn.server_info();
    let offered = collector.offered_mechanisms();
    let supported: &[Mechanism] = if token.is_some() {
        &[Mechanism::Xoauth2]
    } else {
        &[Mechanism::Plain, Mechanism::Login]
    };
    if info.get_auth_mechanism(supported).is_none() {
        let _ = conn.quit().await;
        return Err(if offered.is_empty() {
            SendFailure::new(
                Diagnosis::AuthNotOffered,
                Said::new(if conn.is_encrypted() || s.encryption != Encryption::None {
                    "summary-auth-not-offered"
                } else {
                    "summary-auth-not-offered-plain"
                }),
            )
        } else {
            SendFailure {
                offered: offered.clone(),
                ..SendFailure::new(
                    Diagnosis::NoSupportedAuth,
                    Said::new(if token.is_some() { "summary-no-xoauth2" } else { "summary-no-plain-login" })
                        .with("offered", offered.join(", ")),
                )
            }
        });
    }
    let rejected = |e: &lettre::transport::smtp::Error| SendFailure::smtp(Diagnosis::AuthRejected, Said::new("summary-login-rejected"), e);
    let Some(token) = token else {
        let credentials = Credentials::new(s.account_str().to_string(), server.password.expose().to_string());
        conn.auth(supported, &credentials).await.map_err(|e| rejected(&e))?;
        return Ok(conn);
    };
    let credentials = Credentials::new(s.account_str().to_string(), token);
    match conn.auth(supported, &credentials).await {
        Ok(_) => Ok(conn),
        // A token the server no longer takes (revoked, or expired early): one fresh token, once.
        Err(e) if e.status().is_some_and(|c| u16::from(c) == 535) => {
            at(Step::Token);
            let fresh = super::oauth::access_token(server, true, tokens).await?;
            collector.note(&fresh.note);
            at(Step::Auth);
            let credentials = Credentials::new(s.account_str().to_string(), fresh.secret);
            conn.auth(supported, &credentials).await.map_err(|e| rejected(&e))?;
            Ok(conn)
        }
        Err(e) => Err(rejected(&e)),
    }
}

/// One message through an open session: MAIL FROM, RCPT TO, DATA and the message.
pub(super) async fn transact(
    conn: &mut AsyncSmtpConnection,
    server: &MailServer,
    recipient: &Address,
    mail: &Mail,
    progress: &Arc<Mutex<Step>>,
    collector: &TranscriptCollector,
) -> Result<Delivered, SendFailure> {
    let s = &server.settings;
    let at = |step: Step| *progress.lock().unwrap_or_else(|p| p.into_inner()) = step;
    at(Step::MailFrom);
    let from: Address = s.from_address.as_str().parse().map_err(|e| {
        SendFailure::new(
            Diagnosis::SenderRejected,
            Said::new("summary-from-unusable").with("reason", e),
        )
    })?;
    conn.command(MailFrom::new(Some(from), vec![]))
        .await
        .map_err(|e| {
            // Without sign-in, "authentication required" (530) is the missing sign-in, not the
            // sender.
            let asks_for_sign_in = !s.authentication.signs_in()
                && (e.status().is_some_and(|c| u16::from(c) == 530)
                    || e.to_string().to_ascii_lowercase().contains("authentication required"));
            if asks_for_sign_in {
                SendFailure::smtp(Diagnosis::AuthRequired, Said::new("summary-sign-in-required"), &e)
            } else {
                SendFailure::smtp(Diagnosis::SenderRejected, Said::new("summary-sender-rejected"), &e)
            }
        })?;
    at(Step::RcptTo);
    conn.command(Rcpt::new(recipient.clone(), vec![]))
        .await
        .map_err(|e| {
            SendFailure::smtp(
                Diagnosis::RecipientRejected,
                Said::new("summary-recipient-rejected").with("recipient", recipient),
                &e,
            )
        })?;
    at(Step::Data);
    let body = match &mail.raw {
        Some(raw) => raw.clone(),
        None => build_message(s, recipient, mail)
            .map_err(|e| SendFailure::new(Diagnosis::MessageRejected, Said::new("summary-message-unbuilt").with("reason", e)))?
            .formatted(),
    };
    conn.command(Data)
        .await
        .map_err(|e| SendFailure::smtp(Diagnosis::MessageRejected, Said::new("summary-message-rejected"), &e))?;
    at(Step::Body);
    // lettre's events are off while the body goes out: it would escape and log the whole
    // message, only for the transcript to drop it. Its size and the answer are noted instead.
    collector.note_body(body.len());
    let answer = conn
        .message(&body)
        .with_subscriber(tracing::Dispatch::none())
        .await
        .map_err(|e| SendFailure::smtp(Diagnosis::MessageRejected, Said::new("summary-message-rejected"), &e));
    match answer {
        Ok(reply) => {
            let delivered = Delivered {
                code: u16::from(reply.code()),
                reply: reply.message().collect::<Vec<_>>().join(" "),
            };
            collector.note_reply(&format!("{} {}", delivered.code, delivered.reply));
            Ok(delivered)
        }
        Err(failure) => {
            if let (Some(code), Some(reply)) = (failure.code, &failure.reply) {
                collector.note_reply(&format!("{code} {reply}"));
            }
            Err(failure)
        }
    }
}

async fn connect_any(addrs: &[SocketAddr]) -> Result<(TcpStream, SocketAddr), SendFailure> {
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
        std::io::ErrorKind::ConnectionRefused => SendFailure::new(
            Diagnosis::ConnectionRefused,
            Said::new("summary-connection-refused").with("address", addr),
        ),
        std::io::ErrorKind::TimedOut => SendFailure::new(
            Diagnosis::ConnectionTimedOut,
            Said::new("summary-connect-timed-out").with("address", addr),
        ),
        _ => SendFailure::new(
            Diagnosis::ConnectionRefused,
            Said::new("summary-connect-failed").with("address", addr).with("reason", e),
        ),
    })
}

fn tls_parameters(s: &MailServerSettings) -> Result<TlsParameters, SendFailure> {
    let mut builder = TlsParameters::builder(s.host.as_str().to_string());
    if let Some(pem) = &s.ca_pem {
        let cert = Certificate::from_pem(pem.as_str().as_bytes()).map_err(|e| {
            SendFailure::new(
                Diagnosis::CertificateUntrusted,
                Said::new("summary-ca-unreadable").with("reason", e),
            )
        })?;
        builder = builder.add_root_certificate(cert);
    }
    if s.skip_verify {
        builder = builder
            .dangerous_accept_invalid_certs(true)
            .dangerous_accept_invalid_hostnames(true);
    }
    builder
        .build_rustls()
        .map_err(|e| SendFailure::new(Diagnosis::TlsHandshake, Said::new("summary-tls-setup").with("reason", e)))
}

fn build_message(s: &MailServerSettings, to: &Address, mail: &Mail) -> Result<Message, String> {
    let from_addr: Address = s.from_address.as_str().parse().map_err(|e| format!("{e}"))?;
    let name = s.from_name.as_str();
    let domain = from_addr.domain().to_string();
    let from = Mailbox::new((!name.is_empty()).then(|| name.to_string()), from_addr);
    let mut builder = Message::builder()
        .from(from)
        .to(Mailbox::new(None, to.clone()))
        .subject(mail.subject.clone())
        .date_now();
    builder = match &mail.thread {
        None => builder.message_id(None),
        Some(thread) => {
            let parent = format!("<{}@{domain}>", thread.parent);
            builder
                .message_id(Some(format!("<{}@{domain}>", thread.id)))
                .in_reply_to(parent.clone())
                .references(parent)
        }
    };
    if let Some(reply_to) = &s.reply_to {
        builder = builder.reply_to(Mailbox::new(
            None,
            reply_to.as_str().parse().map_err(|e| format!("{e}"))?,
        ));
    }
    match &mail.html {
        None => builder
            .header(ContentType::TEXT_PLAIN)
            .body(mail.text.clone()),
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            html.clone(),
        )),
    }
    .map_err(|e| e.to_string())
}
