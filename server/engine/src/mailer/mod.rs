//! Sending mail with lettre (server only): the system's own mail and "Test Email Server".
//!
//! One hard deadline (the settings' timeout) covers the whole conversation
//! ([`conversation`]); a plain connection to an implicit-TLS port is found by a quick probe
//! ([`probe`]) instead of waiting for that deadline. A failure is a [`SendFailure`] with a
//! [`Diagnosis`] ([`classify`]); a test adds advice ([`advice`]) and the redacted transcript
//! ([`transcript`]) to make a [`TestReport`]. The mails themselves live in [`bodies`].

pub mod advice;
pub mod bodies;
mod classify;
mod conversation;
pub mod oauth;
mod probe;
mod stream;
mod transcript;

pub use classify::{enhanced_status, SendFailure};
pub use oauth::Tokens;

use crate::domain::MailServer;
use crate::report::{Diagnosis, TestReport};
use lettre::Address;
use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tracing::instrument::WithSubscriber;
use transcript::TranscriptCollector;

/// A mail to send: plain text, and HTML beside it (multipart/alternative) when there is one.
#[derive(Clone, Debug)]
pub struct Mail {
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    /// Where it belongs in a conversation; without one the mail gets a fresh `Message-ID`.
    pub thread: Option<Thread>,
    /// A message as a program submitted it: sent as it is (the rest is only for the record).
    pub raw: Option<Vec<u8>>,
}

/// A mail's place in a thread: its own `Message-ID` and the one it follows (`In-Reply-To`,
/// `References`), each the part before the `@`; the part after is the From address's domain,
/// added when the mail is sent. Both are made of letters, digits, `.` and `-` only.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Thread {
    pub id: String,
    pub parent: String,
}

/// The steps of a conversation, in order: where a send is while it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// OAuth2: getting an access token from the token endpoint.
    Token,
    Dns,
    Connect,
    /// Implicit TLS (SSL): the handshake, the greeting and EHLO.
    Tls,
    /// A plain connection: the greeting, then EHLO.
    Greeting,
    /// EHLO written, its answer awaited (told apart from `Greeting` by what was written).
    Ehlo,
    StartTls,
    Auth,
    MailFrom,
    RcptTo,
    /// DATA written, the server's go-ahead awaited.
    Data,
    /// The message and its final dot written, the server's answer awaited: a break here leaves
    /// it unknown whether the server took the message.
    Body,
}

impl Step {
    /// What it means when the deadline passes during this step.
    fn diagnosis_on_timeout(self) -> Diagnosis {
        match self {
            Step::Token => Diagnosis::TokenEndpoint,
            Step::Dns => Diagnosis::DnsLookup,
            Step::Connect => Diagnosis::ConnectionTimedOut,
            Step::Tls | Step::StartTls => Diagnosis::TlsHandshake,
            Step::Greeting => Diagnosis::Greeting,
            Step::Ehlo => Diagnosis::Ehlo,
            Step::Auth => Diagnosis::AuthRejected,
            Step::MailFrom => Diagnosis::SenderRejected,
            Step::RcptTo => Diagnosis::RecipientRejected,
            Step::Data | Step::Body => Diagnosis::MessageRejected,
        }
    }
}

/// The server accepted the message.
#[derive(Clone, Debug)]
pub struct Delivered {
    pub code: u16,
    pub reply: String,
}

/// Sends `mail` to `to` through `server`. Never panics, never exceeds the settings' timeout
/// (plus a few milliseconds).
pub async fn send(server: &MailServer, to: &Address, mail: &Mail, tokens: &Tokens) -> Result<Delivered, SendFailure> {
    run(server, to, mail, tokens).await.result
}

/// A session kept open for several messages (the outbox's): one connection, TLS and login for
/// many transactions. Each step keeps the settings' timeout; any failure ends the session. The
/// conversation is recorded, redacted, for each message ([`Session::transcript`]).
pub struct Session {
    conn: lettre::transport::smtp::client::AsyncSmtpConnection,
    progress: Arc<Mutex<Step>>,
    collector: TranscriptCollector,
    /// The collector's subscriber, made once per session.
    dispatch: tracing::Dispatch,
}

/// A session that could not be opened: what failed, at which step, and the conversation.
pub type OpenFailure = (SendFailure, Step, Vec<crate::report::TranscriptLine>);

impl Session {
    /// Connects and logs in.
    pub async fn open(server: &MailServer, tokens: &Tokens) -> Result<Self, Box<OpenFailure>> {
        let progress = Arc::new(Mutex::new(Step::Dns));
        let collector = TranscriptCollector::default();
        let dispatch = collector.subscriber();
        let opening = conversation::open(server, &progress, &collector, tokens).with_subscriber(dispatch.clone());
        let failed = |(f, step): (SendFailure, Step)| Box::new((f, step, collector.take()));
        match tokio::time::timeout(deadline(server), opening).await {
            Ok(Ok(conn)) => Ok(Self {
                conn,
                progress,
                collector: collector.clone(),
                dispatch,
            }),
            Ok(Err(f)) => Err(failed((f, step_of(&progress)))),
            Err(_) => Err(failed(timed_out(server, step_of(&progress)))),
        }
    }

    /// Sends one message. On an error the session is spent: drop it.
    pub async fn send(
        &mut self,
        server: &MailServer,
        to: &Address,
        mail: &Mail,
    ) -> Result<Delivered, (SendFailure, Step)> {
        let sending = conversation::transact(&mut self.conn, server, to, mail, &self.progress, &self.collector)
            .with_subscriber(self.dispatch.clone());
        match tokio::time::timeout(deadline(server), sending).await {
            Ok(Ok(delivered)) => Ok(delivered),
            Ok(Err(f)) => Err((f, step_of(&self.progress))),
            Err(_) => Err(timed_out(server, step_of(&self.progress))),
        }
    }

    /// The conversation since the last call (the opening goes with the first message), redacted.
    pub fn transcript(&self) -> Vec<crate::report::TranscriptLine> {
        self.collector.take()
    }

    /// Forgets the conversation since the last call (a message that went through).
    pub fn discard_transcript(&self) {
        self.collector.discard();
    }

    /// Whether the server still answers (NOOP, within the timeout): a session kept between
    /// rounds may have been closed by the server meanwhile. Its conversation is not kept.
    pub async fn alive(&mut self, server: &MailServer) -> bool {
        if self.conn.has_broken() {
            return false;
        }
        let noop = self.conn.test_connected().with_subscriber(self.dispatch.clone());
        let alive = tokio::time::timeout(deadline(server), noop).await.unwrap_or(false);
        self.collector.discard();
        alive
    }

    /// Says goodbye (QUIT), within the timeout.
    pub async fn close(mut self, server: &MailServer) {
        let _ = tokio::time::timeout(deadline(server), self.conn.quit()).await;
    }
}

fn deadline(server: &MailServer) -> Duration {
    Duration::from_secs(u64::from(server.settings.timeout.secs()))
}

fn step_of(progress: &Mutex<Step>) -> Step {
    *progress.lock().unwrap_or_else(|p| p.into_inner())
}

fn timed_out(server: &MailServer, step: Step) -> (SendFailure, Step) {
    let failure = SendFailure::new(
        step.diagnosis_on_timeout(),
        crate::domain::Said::new("summary-no-answer").with("seconds", deadline(server).as_secs()).with("doing", advice::doing(step)),
    );
    (failure, step)
}

/// Sends the test mail to `to` and reports what happened, with advice and the transcript.
/// `texts`: the test mail's template in force in `lang`; `shown`: the language of the page the
/// report goes to.
pub async fn test_send(
    server: &MailServer,
    to: &Address,
    (texts, lang): (&crate::templates::Texts, crate::templates::Lang),
    shown: crate::templates::Lang,
    tokens: &Tokens,
) -> TestReport {
    let s = &server.settings;
    let run = run(server, to, &bodies::test_mail(texts, lang, s), tokens).await;
    let base = TestReport {
        diagnosis: None,
        summary: String::new(),
        code: None,
        enhanced_status: None,
        server_reply: None,
        advice: Vec::new(),
        transcript: run.transcript,
        elapsed_ms: run.elapsed_ms,
        server: format!("{}:{}", s.host, s.port.get()),
        encryption: s.encryption,
        recipient: to.to_string(),
        finished_at: crate::clock::now_rfc3339(),
    };
    match run.result {
        Ok(delivered) => TestReport {
            summary: crate::i18n::said(
                shown,
                &crate::domain::Said::new("summary-accepted")
                    .with("seconds", format!("{:.1}", run.elapsed_ms as f64 / 1000.0))
                    .with("recipient", to),
            ),
            code: Some(delivered.code),
            enhanced_status: enhanced_status(&delivered.reply),
            server_reply: Some(delivered.reply),
            ..base
        },
        Err(f) => TestReport {
            diagnosis: Some(f.diagnosis),
            advice: advice::advice(f.diagnosis, s, &f.offered, f.reply.as_deref())
                .iter()
                .map(|a| crate::i18n::said(shown, a))
                .collect(),
            enhanced_status: f.reply.as_deref().and_then(enhanced_status),
            summary: f.summary_in(shown),
            code: f.code,
            server_reply: f.reply,
            ..base
        },
    }
}

/// Checks a pasted CA certificate the way a send will read it.
pub fn check_ca_pem(pem: &str) -> Result<(), crate::domain::Said> {
    lettre::transport::smtp::client::Certificate::from_pem(pem.as_bytes())
        .map(drop)
        .map_err(|e| crate::domain::Said::new("ca-unreadable").with("reason", e))
}

struct Run {
    result: Result<Delivered, SendFailure>,
    transcript: Vec<crate::report::TranscriptLine>,
    elapsed_ms: u64,
}

async fn run(server: &MailServer, to: &Address, mail: &Mail, tokens: &Tokens) -> Run {
    let started = Instant::now();
    let deadline = Duration::from_secs(u64::from(server.settings.timeout.secs()));
    let progress = Arc::new(Mutex::new(Step::Dns));
    let collector = TranscriptCollector::default();

    let conversation = conversation::converse(server, to, mail, progress.clone(), collector.clone(), tokens)
        .with_subscriber(collector.subscriber());
    let result = match tokio::time::timeout(deadline, conversation).await {
        Ok(result) => result,
        Err(_) => {
            let mut step = *progress.lock().unwrap_or_else(|p| p.into_inner());
            // The greeting step covers the greeting and EHLO: once EHLO is written, it is EHLO's.
            if step == Step::Greeting && collector.wrote() {
                step = Step::Ehlo;
            }
            Err(SendFailure::new(
                step.diagnosis_on_timeout(),
                crate::domain::Said::new("summary-no-answer").with("seconds", deadline.as_secs()).with("doing", advice::doing(step)),
            ))
        }
    };
    // Whatever step it broke, a reply over the limits is its own diagnosis (lettre's own limits
    // on a line and on a reply say so in their message).
    let result = result.map_err(|f| {
        let said = f.summary_in(crate::templates::Lang::En);
        let lettre_limit = said.contains("response line too long") || said.contains("response too large");
        if collector.limit().tripped() || lettre_limit {
            SendFailure::new(
                Diagnosis::ReplyTooLong,
                crate::domain::Said::new("summary-reply-too-long")
                    .with("kib", stream::MAX_REPLY_BYTES / 1024)
                    .with("lines", stream::MAX_REPLY_LINES)
                    .with("doing", advice::doing(*progress.lock().unwrap_or_else(|p| p.into_inner()))),
            )
        } else {
            f
        }
    });
    Run {
        result,
        transcript: collector.transcript(),
        elapsed_ms: started.elapsed().as_millis() as u64,
    }
}
