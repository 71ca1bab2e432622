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
