//! The transcript of one conversation: lettre's own record of what it wrote and read (its
//! `tracing` events), collected by a subscriber that lives only for that conversation, with AUTH
//! payloads and the message body replaced.

use super::stream::{ReplyLimit, MAX_REPLY_BYTES, MAX_REPLY_LINES};
use crate::report::TranscriptLine;
use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc, Mutex,
};

/// The most transcript a conversation keeps; the rest is noted as cut.
const MAX_TRANSCRIPT_BYTES: usize = 256 * 1024;

/// Collects lettre's debug events ("Wrote: …", "<< …") for one conversation.
#[derive(Clone, Default)]
pub(super) struct TranscriptCollector {
    capture: Arc<Mutex<Capture>>,
    /// Whether Mailroom has written anything yet (tells a refused greeting from a refused EHLO).
    wrote: Arc<AtomicBool>,
    /// Shared with the connection's stream: a reply with too many lines trips it.
    limit: ReplyLimit,
}

#[derive(Default)]
struct Capture {
    raw: Vec<String>,
    bytes: usize,
    cut: bool,
}

impl TranscriptCollector {
    pub(super) fn subscriber(&self) -> tracing::Dispatch {
        use tracing_subscriber::{filter::Targets, layer::SubscriberExt, Layer};
        let layer = CaptureLayer {
            collector: self.clone(),
        }
        .with_filter(Targets::new().with_target("lettre", tracing::Level::DEBUG));
        tracing::Dispatch::new(tracing_subscriber::registry().with(layer))
    }

    pub(super) fn wrote(&self) -> bool {
        self.wrote.load(Ordering::Relaxed)
    }

    /// The reply limit of this conversation's connection.
    pub(super) fn limit(&self) -> ReplyLimit {
        self.limit.clone()
    }

    pub(super) fn transcript(&self) -> Vec<TranscriptLine> {
        let capture = self.capture.lock().unwrap_or_else(|p| p.into_inner());
        let mut lines = redact(&capture.raw);
        if capture.cut {
            lines.push(TranscriptLine {
                client: false,
                text: "<transcript cut: too long>".into(),
            });
        }
        lines
    }

    /// The lines since the last call, redacted, and forgets them (a session's messages each
    /// get their own part of the conversation).
    pub(super) fn take(&self) -> Vec<TranscriptLine> {
        let mut capture = self.capture.lock().unwrap_or_else(|p| p.into_inner());
        let raw = std::mem::take(&mut capture.raw);
        capture.bytes = 0;
        let mut lines = redact(&raw);
        if std::mem::take(&mut capture.cut) {
            lines.push(TranscriptLine {
                client: false,
                text: "<transcript cut: too long>".into(),
            });
        }
        lines
    }

    /// Forgets the lines since the last call (a message that went through needs none).
    pub(super) fn discard(&self) {
        let mut capture = self.capture.lock().unwrap_or_else(|p| p.into_inner());
        capture.raw.clear();
        capture.bytes = 0;
        capture.cut = false;
    }

    /// Notes the message body written (its size only: the body itself is never kept, and
    /// lettre's event for it is not even formatted, see `conversation::transact`).
    pub(super) fn note_body(&self, bytes: usize) {
        self.record(format!("{BODY}{bytes}"));
    }

    /// Notes a step Mailroom took outside the SMTP dialog (getting an OAuth2 token), shown as
    /// Mailroom's own line starting with "#". Never a secret.
    pub(super) fn note(&self, text: &str) {
        self.record(format!("{NOTE}{text}"));
    }

    /// Notes the server's answer to the body (read while lettre's events were off).
    pub(super) fn note_reply(&self, reply: &str) {
        self.record(format!("<< {reply}<CRLF>"));
    }

    /// Keeps one event. lettre logs a multi-line reply's whole buffer after each line: only the
    /// newest is kept, so memory follows the reply's size, not the square of its lines.
    fn record(&self, text: String) {
        if text.starts_with("Wrote: ") {
            self.wrote.store(true, Ordering::Relaxed);
        } else if let Some(reply) = text.strip_prefix("<< ") {
            if reply.matches("<CRLF>").count() > MAX_REPLY_LINES || reply.len() > 2 * MAX_REPLY_BYTES {
                self.limit.trip();
                return;
            }
        }
        let mut capture = self.capture.lock().unwrap_or_else(|p| p.into_inner());
        let continues = text.starts_with("<< ")
            && capture
                .raw
                .last()
                .is_some_and(|last| last.starts_with("<< ") && text.starts_with(last.as_str()));
        if continues {
            let last = capture.raw.pop().unwrap_or_default();
            capture.bytes -= last.len();
        }
        if capture.bytes + text.len() > MAX_TRANSCRIPT_BYTES {
            capture.cut = true;
            return;
        }
        capture.bytes += text.len();
        capture.raw.push(text);
    }
}

struct CaptureLayer {
    collector: TranscriptCollector,
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
            self.collector.record(text);
        }
    }
}

/// The raw event [`TranscriptCollector::note_body`] records: the body's size in bytes.
const BODY: &str = "Body: ";
/// The raw event [`TranscriptCollector::note`] records.
const NOTE: &str = "Note: ";

/// Turns lettre's raw events into transcript lines: multi-line replies merged, AUTH payloads and
/// the message body replaced.
fn redact(raw: &[String]) -> Vec<TranscriptLine> {
    let mut out: Vec<TranscriptLine> = Vec::new();
    let mut in_auth = false;
    let mut after_data = false;
    let mut last_reply = String::new();
    for event in raw {
        if let Some(note) = event.strip_prefix(NOTE) {
            out.push(TranscriptLine {
                client: true,
                text: format!("# {note}"),
            });
        } else if let Some(bytes) = event.strip_prefix(BODY) {
            last_reply.clear();
            after_data = false;
            out.push(TranscriptLine {
                client: true,
                text: format!("<message, {bytes} bytes>"),
            });
        } else if let Some(written) = event.strip_prefix("Wrote: ") {
            last_reply.clear();
            let text = written.trim_end_matches("<CRLF>");
            if after_data {
                after_data = false;
                out.push(TranscriptLine {
                    client: true,
                    text: format!("<message, {} bytes>", text.len()),
                });
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
            out.push(TranscriptLine {
                client: true,
                text: line,
            });
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

impl TranscriptCollector {
    /// The AUTH mechanisms the server offered in its latest EHLO answer.
    pub(super) fn offered_mechanisms(&self) -> Vec<String> {
        offered_mechanisms(&self.capture.lock().unwrap_or_else(|p| p.into_inner()).raw)
    }
}

/// The AUTH mechanisms in the server's latest EHLO answer, as lettre read it (lettre itself keeps
/// only the mechanisms it supports).
fn offered_mechanisms(raw: &[String]) -> Vec<String> {
    let Some(ehlo) = raw
        .iter()
        .rev()
        .filter_map(|e| e.strip_prefix("<< "))
        .find(|r| r.starts_with("250"))
    else {
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
        assert_eq!(
            texts[2], "250-peer.test\n250 AUTH PLAIN LOGIN",
            "multi-line reply merged"
        );
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
        let r = raw(&[
            "<< 220 hi<CRLF>",
            "<< 250-peer.test<CRLF>250-AUTH CRAM-MD5 ntlm<CRLF>250 HELP<CRLF>",
        ]);
        assert_eq!(offered_mechanisms(&r), vec!["CRAM-MD5", "NTLM"]);
        assert!(offered_mechanisms(&raw(&["<< 250-peer.test<CRLF>250 STARTTLS<CRLF>"])).is_empty());
    }

    #[test]
    fn a_reply_of_many_lines_is_kept_once_and_trips_the_limit() {
        let collector = TranscriptCollector::default();
        let mut buffer = String::new();
        for i in 0..MAX_REPLY_LINES + 10 {
            buffer.push_str(&format!("250-line {i}<CRLF>"));
            collector.record(format!("<< {buffer}"));
        }
        assert!(collector.limit().tripped(), "the line limit tripped");
        let capture = collector.capture.lock().unwrap();
        assert_eq!(capture.raw.len(), 1, "only the newest buffer is kept");
        assert!(capture.bytes < 2 * MAX_REPLY_BYTES);
    }

    #[test]
    fn the_transcript_is_cut_at_its_limit() {
        let collector = TranscriptCollector::default();
        for i in 0..2_000 {
            collector.record(format!("Wrote: NOOP {i} {}<CRLF>", "x".repeat(200)));
        }
        assert!(collector.capture.lock().unwrap().bytes <= MAX_TRANSCRIPT_BYTES);
        assert_eq!(
            collector.transcript().last().unwrap().text,
            "<transcript cut: too long>"
        );
    }
}
