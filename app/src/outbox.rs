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
}
