//! The transcript of one conversation: lettre's own record of what it wrote and read (its
//! `tracing` events), collected by a subscriber that lives only for that conversation, with AUTH
//! payloads and the message body replaced.

use crate::report::TranscriptLine;
use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc, Mutex,
};

/// Collects lettre's debug events ("Wrote: …", "<< …") for one test.
#[derive(Clone, Default)]
pub(super) struct TranscriptCollector {
    raw: Arc<Mutex<Vec<String>>>,
    /// Whether Mailroom has written anything yet (tells a refused greeting from a refused EHLO).
    wrote: Arc<AtomicBool>,
}

impl TranscriptCollector {
    pub(super) fn subscriber(&self) -> tracing::Dispatch {
        use tracing_subscriber::{filter::Targets, layer::SubscriberExt, Layer};
        let layer = CaptureLayer {
            raw: self.raw.clone(),
            wrote: self.wrote.clone(),
        }
        .with_filter(Targets::new().with_target("lettre", tracing::Level::DEBUG));
        tracing::Dispatch::new(tracing_subscriber::registry().with(layer))
    }

    pub(super) fn wrote(&self) -> bool {
        self.wrote.load(Ordering::Relaxed)
    }

    pub(super) fn transcript(&self) -> Vec<TranscriptLine> {
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
        offered_mechanisms(&self.raw.lock().unwrap_or_else(|p| p.into_inner()))
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
}
