//! The outbox's records: the system's own mail (password resets, alerts), one message per
//! recipient, and what became of each. Shared with the browser, which shows them; stored behind
//! the app's `store::OutboxStore` and delivered by the outbox worker (server only).

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
    pub const SHOWN: [State; 7] = [
        State::Queued,
        State::Sent,
        State::Deferred,
        State::Failed,
        State::Uncertain,
        State::Expired,
        State::Cancelled,
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

    /// The state as a heading shows it, capitalised: also how serde spells it (and so the
    /// PostgreSQL outbox's `state` column).
    pub fn label(self) -> &'static str {
        match self {
            State::Queued => "Queued",
            State::Sending => "Sending",
            State::Sent => "Sent",
            State::Deferred => "Deferred",
            State::Failed => "Failed",
            State::Uncertain => "Uncertain",
            State::Expired => "Expired",
            State::Cancelled => "Cancelled",
        }
    }

    pub fn from_name(name: &str) -> Option<State> {
        std::iter::once(State::Sending)
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
    /// An alerting tool's webhook, with this token; `group`: the notification's group as the
    /// tool names it (Alertmanager's group labels, Uptime Kuma's monitor), shortened.
    Webhook { source: Source, id: u64, name: String, group: String },
    /// A program that speaks SMTP, signed in to Mailroom's submission listener with this
    /// token, from `client` (its address); `message_id`: the Message-ID it gave the mail.
    Smtp { id: u64, name: String, client: String, message_id: String },
    /// An admin's "send this preview to me" on Settings › Mail Templates: `mail` the template's
    /// mail and language ("password_reset/zh-CN").
    TemplatePreview { admin: String, mail: String },
}

/// The alerting tools whose webhooks Mailroom takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Source {
    Alertmanager,
    Grafana,
    UptimeKuma,
    Zabbix,
}

impl Source {
    pub const ALL: [Source; 4] = [Source::Alertmanager, Source::Grafana, Source::UptimeKuma, Source::Zabbix];

    /// As the tool spells its name.
    pub fn name(self) -> &'static str {
        match self {
            Source::Alertmanager => "Alertmanager",
            Source::Grafana => "Grafana",
            Source::UptimeKuma => "Uptime Kuma",
            Source::Zabbix => "Zabbix",
        }
    }

    /// The last part of its webhook's path, `/api/v1/webhooks/…`.
    pub fn path(self) -> &'static str {
        match self {
            Source::Alertmanager => "alertmanager",
            Source::Grafana => "grafana",
            Source::UptimeKuma => "uptime-kuma",
            Source::Zabbix => "zabbix",
        }
    }
}

impl Origin {
    pub fn describe(&self) -> String {
        match self {
            Origin::Unknown => "the system".into(),
            Origin::PasswordReset => "Forgot password".into(),
            Origin::Token { name, .. } => format!("API token \u{201c}{name}\u{201d}"),
            Origin::QueueTest { admin } => format!("Test through the queue, by {admin}"),
            Origin::TemplatePreview { admin, mail } => format!("Preview of the template {mail}, by {admin}"),
            Origin::Webhook { source, name, .. } => {
                format!("{} webhook, API token \u{201c}{name}\u{201d}", source.name())
            }
            Origin::Smtp { name, client, message_id, .. } => {
                let id = if message_id.is_empty() { String::new() } else { format!(", Message-ID {message_id}") };
                format!("SMTP from {client}, API token \u{201c}{name}\u{201d}{id}")
            }
        }
    }

    /// Where the mail came from, in a word: the tool, "API", or the product's own.
    pub fn source(&self) -> &'static str {
        match self {
            Origin::Webhook { source, .. } => source.name(),
            Origin::Token { .. } => "API",
            Origin::Smtp { .. } => "SMTP",
            Origin::PasswordReset | Origin::QueueTest { .. } | Origin::TemplatePreview { .. } | Origin::Unknown => "Mailroom",
        }
    }

    /// The alert group a webhook's mail belongs to.
    pub fn group(&self) -> Option<&str> {
        match self {
            Origin::Webhook { group, .. } => Some(group),
            _ => None,
        }
    }

    /// The API token that asked for the mail, by its id.
    pub fn token(&self) -> Option<u64> {
        match self {
            Origin::Token { id, .. } | Origin::Webhook { id, .. } | Origin::Smtp { id, .. } => Some(*id),
            _ => None,
        }
    }
}

impl Attempt {
    /// What a refusal means, from its enhanced status code (RFC 3463) or, without one, its reply
    /// code: the id of its words in the catalogues (`server/engine/locales/*/activity.ftl`), so
    /// Mail Activity says it in the page's language; `None` for an acceptance or a code with
    /// nothing to add.
    pub fn explanation(&self) -> Option<&'static str> {
        let enhanced = self.enhanced_status.as_deref().unwrap_or("");
        let detail = enhanced.split_once('.').map_or("", |(_, rest)| rest);
        let permanent = enhanced.starts_with('5') || self.code.is_some_and(|c| c / 100 == 5);
        Some(match (detail, self.code) {
            ("1.1", _) => "meaning-no-mailbox",
            ("1.2", _) => "meaning-no-domain",
            ("1.3", _) | (_, Some(501 | 553)) if self.step == "rcpt to" => "meaning-bad-recipient",
            ("1.0" | "1.3" | "1.7" | "1.8", _) | (_, Some(553)) if self.step == "mail from" => "meaning-bad-sender",
            ("2.1", _) => "meaning-mailbox-disabled",
            ("2.2", _) => "meaning-mailbox-full",
            ("2.3" | "3.4", _) | (_, Some(552)) => "meaning-too-large",
            ("7.139", _) => "meaning-smtp-auth-off",
            ("7.8" | "7.9", _) | (_, Some(535)) => "meaning-login-refused",
            ("7.0", _) | (_, Some(530)) if self.step == "mail from" => "meaning-login-needed",
            ("7.1", _) if self.step == "rcpt to" => "meaning-relaying-denied",
            ("7.1", _) => "meaning-policy",
            ("7.26" | "7.27" | "7.25" | "7.23" | "7.7", _) => "meaning-unauthenticated-domain",
            ("4.1" | "4.2" | "4.6", _) | (_, Some(421)) if !permanent => "meaning-unreachable",
            _ if self.code.is_some_and(|c| c / 100 == 4) || enhanced.starts_with('4') => "meaning-temporary",
            _ => return None,
        })
    }

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
    pub older: Option<Cursor>,
}

/// Where a listing goes on: written by the store that answered the page before and opaque to
/// everyone else (sled writes an id; another backend may write a time and an id). It travels
/// in the page's URL, so only short URL-safe texts are cursors.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cursor(String);

impl Cursor {
    pub const MAX_CHARS: usize = 100;

    /// A cursor from its text: 1 to [`Self::MAX_CHARS`] letters, digits, `-`, `_`, `.` or `~`.
    pub fn from_text(text: &str) -> Option<Self> {
        let url_safe = |c: char| c.is_ascii_alphanumeric() || "-_.~".contains(c);
        (!text.is_empty() && text.len() <= Self::MAX_CHARS && text.chars().all(url_safe))
            .then(|| Self(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Cursor {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        Self::from_text(&text).ok_or_else(|| format!("not a listing's cursor: {text:?}"))
    }
}

impl From<Cursor> for String {
    fn from(c: Cursor) -> Self {
        c.0
    }
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
    /// Cancelled, and now past its `expires_at`: too late to undo.
    Expired,
    NotFound,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_label_is_its_serde_name_and_its_name_in_lower_case() {
        for state in std::iter::once(State::Sending).chain(State::SHOWN) {
            assert_eq!(serde_json::to_string(&state).unwrap(), format!("\"{}\"", state.label()));
            assert_eq!(state.label().to_lowercase(), state.name());
        }
    }

    #[test]
    fn cursors_are_short_url_safe_texts() {
        assert_eq!(Cursor::from_text("2000001").map(|c| c.as_str().to_string()), Some("2000001".into()));
        for bad in ["", "a b", "1&state=x", "é", &"9".repeat(Cursor::MAX_CHARS + 1)] {
            assert_eq!(Cursor::from_text(bad), None, "{bad:?}");
        }
        assert!(serde_json::from_str::<Cursor>("\"x y\"").is_err());
        assert_eq!(serde_json::from_str::<Cursor>("\"17\"").unwrap(), Cursor::from_text("17").unwrap());
    }

    fn refusal(step: &str, code: u16, enhanced: Option<&str>) -> Attempt {
        Attempt {
            at: String::new(),
            step: step.into(),
            code: Some(code),
            enhanced_status: enhanced.map(str::to_string),
            text: String::new(),
            transcript: Vec::new(),
        }
    }

    #[test]
    fn refusals_are_explained_by_their_enhanced_code_then_their_reply_code() {
        assert_eq!(refusal("rcpt to", 550, Some("5.1.1")).explanation(), Some("meaning-no-mailbox"));
        assert_eq!(refusal("rcpt to", 550, Some("5.7.1")).explanation(), Some("meaning-relaying-denied"));
        assert_eq!(refusal("mail from", 550, Some("5.7.1")).explanation(), Some("meaning-policy"));
        assert_eq!(refusal("login", 535, None).explanation(), Some("meaning-login-refused"));
        assert_eq!(refusal("mail from", 553, None).explanation(), Some("meaning-bad-sender"));
        assert_eq!(refusal("rcpt to", 553, None).explanation(), Some("meaning-bad-recipient"));
        assert_eq!(refusal("rcpt to", 451, Some("4.3.0")).explanation(), Some("meaning-temporary"));
        assert_eq!(refusal("rcpt to", 421, None).explanation(), Some("meaning-unreachable"));
        assert_eq!(refusal("sent", 250, Some("2.0.0")).explanation(), None);
        assert_eq!(refusal("data", 554, None).explanation(), None);
    }

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
