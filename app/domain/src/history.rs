//! What the page shows of the past: the last tests and the change history. Stored as data
//! (no sentences): the page words it.

use crate::{Field, Said};
use crate::report::{Diagnosis, TestReport};
use serde::{Deserialize, Serialize};

/// The outcome of one "Test Email Server", kept to show "Last successful test: …".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestOutcome {
    /// `None`: the test mail was accepted.
    pub diagnosis: Option<Diagnosis>,
    /// host:port.
    pub server: String,
    /// RFC 3339, UTC.
    pub finished_at: String,
}

impl TestOutcome {
    pub fn success(&self) -> bool {
        self.diagnosis.is_none()
    }
}

impl From<&TestReport> for TestOutcome {
    fn from(r: &TestReport) -> Self {
        Self {
            diagnosis: r.diagnosis,
            server: r.server.clone(),
            finished_at: r.finished_at.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestHistory {
    pub last: Option<TestOutcome>,
    pub last_success: Option<TestOutcome>,
}

impl TestHistory {
    /// The history after `outcome`.
    pub fn record(&mut self, outcome: TestOutcome) {
        if outcome.success() {
            self.last_success = Some(outcome.clone());
        }
        self.last = Some(outcome);
    }
}

/// One change a save made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    /// The first save.
    Created,
    /// A setting's value, before and after.
    Set { field: Field, from: String, to: String },
    /// A secret or a long value: only that it changed.
    Replaced { field: Field },
    /// Saved with nothing changed.
    Unchanged,
    /// An API token was created (the token itself is never stored).
    TokenCreated { name: String },
    TokenRevoked { name: String },
    /// A mailbox was connected with "Sign in with …" for OAuth2 (its account as the provider
    /// named it), or disconnected (by an admin, or because the app changed).
    MailboxConnected { account: String },
    MailboxDisconnected { account: String },
    /// A mail template saved (its mail and language, and its lines that changed, each
    /// "- old" or "+ new"), or put back to the default.
    TemplateSaved { mail: String, lang: String, diff: Vec<String> },
    TemplateReset { mail: String, lang: String },
    /// An entry written before changes were stored as data (schema 2), as it was written then.
    Legacy(String),
}

impl Change {
    /// Whether it is a change of the mail server settings (a save, a mailbox connected or
    /// disconnected: each of those is one version of them), not of a token or a template.
    pub fn is_mail_settings(&self) -> bool {
        !matches!(
            self,
            Change::TokenCreated { .. } | Change::TokenRevoked { .. } | Change::TemplateSaved { .. } | Change::TemplateReset { .. }
        )
    }

    /// The change in words, with the page's field labels; `say` puts a message into the
    /// reader's language.
    pub fn describe(&self, say: &dyn Fn(&Said) -> String) -> String {
        let label = |field: &Field| say(&Said::new(field.label_id()));
        let said = match self {
            Change::Created => Said::new("change-created"),
            Change::Set { field, from, to } => Said::new("change-set").with("field", label(field)).with("from", from).with("to", to),
            Change::Replaced { field } => Said::new("change-replaced").with("field", label(field)),
            Change::Unchanged => Said::new("change-unchanged"),
            Change::TokenCreated { name } => Said::new("change-token-created").with("name", name),
            Change::TokenRevoked { name } => Said::new("change-token-revoked").with("name", name),
            Change::MailboxConnected { account } => Said::new("change-mailbox-connected").with("account", account),
            Change::MailboxDisconnected { account } => Said::new("change-mailbox-disconnected").with("account", account),
            Change::TemplateSaved { mail, lang, diff } if diff.is_empty() => {
                Said::new("change-template-unchanged").with("mail", mail).with("lang", lang)
            }
            Change::TemplateSaved { mail, lang, diff } => Said::new("change-template-saved")
                .with("mail", mail)
                .with("lang", lang)
                .with("diff", diff.join(" \u{2022} ")),
            Change::TemplateReset { mail, lang } => Said::new("change-template-reset").with("mail", mail).with("lang", lang),
            Change::Legacy(text) => return text.clone(),
        };
        say(&said)
    }
}

/// One save in the change history: who, when, and what changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub who: String,
    /// RFC 3339, UTC.
    pub at: String,
    pub changes: Vec<Change>,
}

/// A change-history entry as the page shows it: worded on the server, so the browser only
/// displays it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLine {
    pub who: String,
    /// RFC 3339, UTC.
    pub at: String,
    pub changes: Vec<String>,
}

impl AuditLine {
    /// The entry in the reader's words (`say`, as [`Change::describe`]).
    pub fn worded(e: AuditEntry, say: &dyn Fn(&Said) -> String) -> Self {
        Self {
            changes: e.changes.iter().map(|c| c.describe(say)).collect(),
            who: e.who,
            at: e.at,
        }
    }
}
