//! The outbox's records: the system's own mail (password resets, alerts), one message per
//! recipient, and what became of each. Shared with the browser, which shows them; stored behind
//! [`crate::store::OutboxStore`] and delivered by the outbox worker (server only).

use serde::{Deserialize, Serialize};

/// A message's id: unique in its database, increasing with time.
pub type MessageId = u64;

/// Which mail goes first: security mail (password resets), then alerts, then the rest. The
/// order of the variants is the order of delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Priority {
    Security,
    Alert,
    Normal,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Priority::Security, Priority::Alert, Priority::Normal];

    /// The priority's rank in the queue's keys (0 goes first).
    pub fn rank(self) -> u8 {
        self as u8
    }
}

/// Where a message is. `Queued`, `Deferred` and `Sending` are still to be delivered; the others
/// are final.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum State {
    Queued,
    /// Taken by the worker, its delivery under way.
    Sending,
    /// The server accepted it (its answer is the last attempt's).
    Sent,
    /// A temporary failure: tried again at `not_before`.
    Deferred,
    /// A permanent failure.
    Failed,
    /// The connection broke after the message's final dot, before the server's answer: the
    /// server may have taken it, so it is not sent again by itself.
    Uncertain,
    /// Too old to be of use (a reset link past its token's life) before it could be sent.
    Expired,
    Cancelled,
}

impl State {
    /// The states Mail Activity lists by, in its order.
    pub const SHOWN: [State; 6] = [
        State::Queued,
        State::Sent,
        State::Deferred,
        State::Failed,
        State::Uncertain,
        State::Expired,
    ];

    /// The state as the page and the API name it.
    pub fn name(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Sending => "sending",
            State::Sent => "sent",
            State::Deferred => "deferred",
            State::Failed => "failed",
            State::Uncertain => "uncertain",
            State::Expired => "expired",
            State::Cancelled => "cancelled",
        }
    }

    pub fn from_name(name: &str) -> Option<State> {
        [State::Sending, State::Cancelled]
            .into_iter()
            .chain(State::SHOWN)
            .find(|s| s.name() == name)
    }

    /// Whether a message in this state is listed under `shown` (messages being sent are
    /// listed with the queued ones).
    pub fn listed_under(self, shown: State) -> bool {
        self == shown || (shown == State::Queued && self == State::Sending)
    }

    /// True while the outbox still means to deliver the message.
    pub fn pending(self) -> bool {
        matches!(self, State::Queued | State::Deferred | State::Sending)
    }
}

/// One try at delivering a message: when, how far it got, and what the server said.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// RFC 3339, UTC.
    pub at: String,
    /// The step it reached, as the page names it ("connect", "login", "data", …).
    pub step: String,
    pub code: Option<u16>,
    pub enhanced_status: Option<String>,
    /// The server's reply, or what went wrong when there was none.
    pub text: String,
    /// The conversation, redacted (no credentials, no message text); kept for the last attempt
    /// only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transcript: Vec<crate::report::TranscriptLine>,
}

/// Who asked for a message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Origin {
    /// Written before origins were recorded.
    #[default]
    Unknown,
    PasswordReset,
    /// A service, through the HTTP API with this token.
    Token { id: u64, name: String },
    /// An admin's "send a test through the queue".
    QueueTest { admin: String },
}

impl Origin {
    pub fn describe(&self) -> String {
        match self {
            Origin::Unknown => "the system".into(),
            Origin::PasswordReset => "Forgot password".into(),
            Origin::Token { name, .. } => format!("API token \u{201c}{name}\u{201d}"),
            Origin::QueueTest { admin } => format!("Test through the queue, by {admin}"),
        }
    }
}

impl Attempt {
    /// The receiving server's id for the message, where its answer names one the known ways:
    /// Postfix and most servers ("queued as 4C1F2"), Gmail ("OK 1700000000 x12si… - gsmtp"),
    /// Amazon SES ("Ok 0100018bd…-000000"), Microsoft 365 ("Queued mail for delivery … <id>" or
    /// "OK <id> [Hostname=…]").
    pub fn queue_id(&self) -> Option<&str> {
        let text = self.text.as_str();
        if self.code.is_some_and(|c| c / 100 != 2) {
            return None;
        }
        let after = |marker: &str| {
            let at = text.to_ascii_lowercase().find(marker)? + marker.len();
            text[at..].split_whitespace().next()
        };
        if let Some(id) = after("queued as ") {
            return Some(id.trim_end_matches(['.', ',', ')']));
        }
        if let Some(rest) = text.strip_suffix(" - gsmtp") {
            return rest.split_whitespace().last();
        }
        if let (Some(open), Some(close)) = (text.find('<'), text.find('>')) {
            if open < close {
                return Some(&text[open + 1..close]);
            }
        }
        let words: Vec<&str> = text.split_whitespace().collect();
        match words.as_slice() {
            [.., ok, id] if ok.eq_ignore_ascii_case("ok") && id.len() >= 16 => Some(id),
            _ => None,
        }
    }
}

/// A message as the outbox keeps it; its body is stored apart, sealed, and purged earlier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub to: String,
    pub subject: String,
    pub priority: Priority,
    pub state: State,
    /// Unix seconds.
    pub created_at: u64,
    /// Not sent before this time (Unix seconds): its creation, or a deferral's next try.
    pub not_before: u64,
    /// Not sent after this time (Unix seconds), if its content goes stale (a reset link).
    pub expires_at: Option<u64>,
    pub idempotency_key: Option<String>,
    pub attempts: Vec<Attempt>,
    #[serde(default)]
    pub origin: Origin,
}

/// Which messages Mail Activity lists: one state (or all), and a text to find in the recipient
/// or the subject (case-insensitive; empty: every message).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageFilter {
    pub state: Option<State>,
    pub search: String,
}

impl MessageFilter {
    pub fn matches(&self, m: &Message) -> bool {
        self.state.is_none_or(|s| m.state.listed_under(s))
            && (self.search.is_empty() || {
                let needle = self.search.to_lowercase();
                m.to.to_lowercase().contains(&needle) || m.subject.to_lowercase().contains(&needle)
            })
    }
}

/// A page of messages, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePage {
    pub messages: Vec<Message>,
    /// Where the next (older) page starts, if there are older messages to look at.
    pub older: Option<MessageId>,
}

/// What "retry now" did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Retry {
    /// Back in the queue, due now.
    Queued,
    /// Not in a state that can be retried (waiting already, sent, or being sent).
    NotRetryable(State),
    /// Its text was removed (retention): there is nothing to send.
    NoBody,
    NotFound,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(text: &str) -> Attempt {
        Attempt {
            at: String::new(),
            step: "sent".into(),
            code: Some(250),
            enhanced_status: None,
            text: text.into(),
            transcript: Vec::new(),
        }
    }

    #[test]
    fn queue_ids_are_found_in_the_answers_of_known_servers() {
        let cases = [
            ("2.0.0 Ok: queued as 4C1F2A3B", Some("4C1F2A3B")),
            ("2.0.0 OK  1700000000 d9443c01a7336-1f6b2d1a2c3si123456.152 - gsmtp", Some("d9443c01a7336-1f6b2d1a2c3si123456.152")),
            ("Ok 0100018bd0a1b2c3-aaaa-bbbb-cccc-000000000000-000000", Some("0100018bd0a1b2c3-aaaa-bbbb-cccc-000000000000-000000")),
            ("2.0.0 OK <AM0PR01MB1234.eurprd01.prod.outlook.com> [Hostname=AM0PR01MB1234]", Some("AM0PR01MB1234.eurprd01.prod.outlook.com")),
            ("2.0.0 Ok", None),
        ];
        for (text, id) in cases {
            assert_eq!(sent(text).queue_id(), id, "{text}");
        }
        let failed = Attempt { code: Some(550), ..sent("5.1.1 <x@example.com> queued as nothing") };
        assert_eq!(failed.queue_id(), None);
    }
}
