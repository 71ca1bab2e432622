//! Mail the rest of the system asks for (server only): plain messages and alerts, as the HTTP
//! API (`/api/v1`) receives them. The requests' rules are the settings page's (addresses, no
//! line breaks in headers, lengths); an alert becomes a rendered mail ([`render`]) and passes
//! storm control ([`crate::delivery::storm`]) per recipient. Everything lands in the outbox.

pub mod render;

use crate::domain::EmailAddress;
use crate::outbox::{MessageId, Origin, Priority};
use crate::delivery::{storm::Decision, Outbox};
use crate::store::{AlertBatch, AlertFate, MailBody, NewMessage, Store, StoreError};
use serde::{Deserialize, Serialize};

/// The most recipients one request may name.
pub const MAX_RECIPIENTS: usize = 100;
/// The longest subject or alert title, in characters.
pub const MAX_SUBJECT_CHARS: usize = 200;
/// The longest plain-text or HTML body, in bytes.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// The longest alert key and idempotency key, in characters.
pub const MAX_KEY_CHARS: usize = 200;
/// The longest alert value, threshold or description, in characters.
pub const MAX_DETAIL_CHARS: usize = 2_000;

/// One field that breaks a rule: its path in the request (`to[2]`, `subject`) and what to fix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// `POST /api/v1/messages`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    #[serde(default)]
    pub html: Option<String>,
    #[serde(default)]
    pub priority: Option<RequestPriority>,
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// The priorities other services may ask for (security mail is the system's own).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestPriority {
    Normal,
    Alert,
}

/// `POST /api/v1/alerts`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRequest {
    pub alert_key: String,
    pub title: String,
    pub severity: Severity,
    pub state: AlertState,
    #[serde(default)]
    pub value: Option<Measure>,
    #[serde(default)]
    pub threshold: Option<Measure>,
    #[serde(default)]
    pub link: Option<String>,
    /// What happened and what to do, in the sender's words.
    #[serde(default)]
    pub description: Option<String>,
    pub recipients: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    Firing,
    Resolved,
}

/// A measured value or threshold: a number, or a text such as "95 %".
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Measure {
    Number(f64),
    Text(String),
}

impl std::fmt::Display for Measure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Measure::Number(n) => write!(f, "{n}"),
            Measure::Text(t) => f.write_str(t),
        }
    }
}

/// Collects the field errors of one request.
#[derive(Default)]
struct Check(Vec<FieldError>);

impl Check {
    fn fail(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// A one-line text (a header): required, at most `max` characters, no line breaks or
    /// control characters.
    fn line(&mut self, field: &str, value: &str, max: usize) {
        if value.trim().is_empty() {
            self.fail(field, "Required.");
        } else if value.chars().count() > max {
            self.fail(field, format!("At most {max} characters."));
        } else if value.chars().any(char::is_control) {
            self.fail(field, "Must be one line, without line breaks or control characters.");
        }
    }

    fn recipients(&mut self, field: &str, list: &[String]) -> Vec<String> {
        if list.is_empty() {
            self.fail(field, "Name at least one recipient.");
        } else if list.len() > MAX_RECIPIENTS {
            self.fail(
                field,
                format!(
                    "At most {MAX_RECIPIENTS} recipients per request ({} given); split them over several requests.",
                    list.len()
                ),
            );
            return Vec::new();
        }
        let mut out: Vec<String> = Vec::new();
        for (i, raw) in list.iter().enumerate() {
            // The address parser trims, so a trailing line break is refused here, first.
            if raw.chars().any(char::is_control) {
                self.fail(format!("{field}[{i}]"), "An address has no line breaks or control characters.");
                continue;
            }
            match EmailAddress::parse(raw) {
                Ok(a) => {
                    // The same recipient named twice gets one mail.
                    if !out.iter().any(|o| o.eq_ignore_ascii_case(a.as_str())) {
                        out.push(a.as_str().to_string());
                    }
                }
                Err(e) => self.fail(format!("{field}[{i}]"), e),
            }
        }
        out
    }

    fn body(&mut self, field: &str, value: &str) {
        if value.len() > MAX_BODY_BYTES {
            self.fail(field, format!("At most {} KiB.", MAX_BODY_BYTES / 1024));
        }
    }

    fn optional(&mut self, field: &str, value: Option<&str>, max: usize) {
        if let Some(v) = value {
            if v.chars().count() > max {
                self.fail(field, format!("At most {max} characters."));
            }
        }
    }

    fn done<T>(self, value: T) -> Result<T, Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self.0)
        }
    }
}

/// A message request that passed every rule: one outbox message per recipient.
#[derive(Clone, Debug)]
pub struct ValidMessage {
    pub messages: Vec<NewMessage>,
    pub idempotency_key: Option<String>,
}

impl MessageRequest {
    /// Checks every rule; the messages carry `origin` (the token that asked).
    pub fn validate(self, origin: &Origin) -> Result<ValidMessage, Vec<FieldError>> {
        let mut check = Check::default();
        let to = check.recipients("to", &self.to);
        check.line("subject", &self.subject, MAX_SUBJECT_CHARS);
        if self.text.trim().is_empty() {
            check.fail("text", "Required: the plain-text body (the HTML, if any, goes beside it).");
        }
        check.body("text", &self.text);
        if let Some(html) = &self.html {
            check.body("html", html);
        }
        if let Some(key) = &self.idempotency_key {
            check.line("idempotency_key", key, MAX_KEY_CHARS);
        }
        let priority = match self.priority.unwrap_or(RequestPriority::Normal) {
            RequestPriority::Normal => Priority::Normal,
            RequestPriority::Alert => Priority::Alert,
        };
        let body = MailBody {
            text: self.text,
            html: self.html,
        };
        let messages = to
            .into_iter()
            .map(|to| NewMessage {
                to,
                subject: self.subject.trim().to_string(),
                body: body.clone(),
                priority,
                expires_at: None,
                origin: origin.clone(),
            })
            .collect();
        check.done(ValidMessage {
            messages,
            idempotency_key: self.idempotency_key,
        })
    }
}

/// An alert request that passed every rule.
#[derive(Clone, Debug)]
pub struct ValidAlert {
    pub alert: AlertRequest,
    pub recipients: Vec<String>,
}

impl AlertRequest {
    pub fn validate(self) -> Result<ValidAlert, Vec<FieldError>> {
        let mut check = Check::default();
        check.line("alert_key", &self.alert_key, MAX_KEY_CHARS);
        check.line("title", &self.title, MAX_SUBJECT_CHARS);
        for (field, m) in [("value", &self.value), ("threshold", &self.threshold)] {
            if let Some(Measure::Text(t)) = m {
                check.line(field, t, MAX_DETAIL_CHARS);
            }
            if let Some(Measure::Number(n)) = m {
                if !n.is_finite() {
                    check.fail(field, "A finite number or a text.");
                }
            }
        }
        if let Some(link) = &self.link {
            match url::Url::parse(link) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && link.len() <= MAX_DETAIL_CHARS => {}
                _ => check.fail("link", "An http:// or https:// address of at most 2,000 characters."),
            }
        }
        check.optional("description", self.description.as_deref(), MAX_DETAIL_CHARS);
        let recipients = check.recipients("recipients", &self.recipients);
        check.done(ValidAlert {
            alert: self,
            recipients,
        })
    }
}

/// What happened to an alert for one recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum AlertAction {
    /// Mailed: the outbox message's id.
    Queued { to: String, id: MessageId },
    /// Not mailed: storm control, until when it would be mailed again (RFC 3339), or why not.
    Suppressed {
        to: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        until: Option<String>,
        reason: String,
    },
}

/// Passes an alert through storm control for each recipient and queues the mails it allows
/// (durable before it returns; the decision and the mails are one step of the store's, so two
/// requests for the same alert cannot both mail). `repeat_secs`: how often a firing alert is
/// mailed again.
pub fn queue_alert(
    outbox: &Outbox,
    store: &dyn Store,
    alert: &ValidAlert,
    origin: &Origin,
    repeat_secs: u64,
    now: u64,
) -> Result<Vec<AlertAction>, StoreError> {
    let a = &alert.alert;
    let mail = render::alert_mail(a, repeat_secs);
    let messages = alert
        .recipients
        .iter()
        .map(|to| NewMessage {
            to: to.clone(),
            subject: mail.subject.clone(),
            body: MailBody {
                text: mail.text.clone(),
                html: mail.html.clone(),
            },
            priority: Priority::Alert,
            expires_at: None,
            origin: origin.clone(),
        })
        .collect();
    let batch = AlertBatch {
        key: a.alert_key.clone(),
        firing: a.state == AlertState::Firing,
        repeat_secs,
        messages,
    };
    let fates = outbox.queue_alert_in(store, batch, now)?;
    Ok(alert
        .recipients
        .iter()
        .zip(fates)
        .map(|(to, fate)| match fate {
            AlertFate::Queued(id) => AlertAction::Queued { to: to.clone(), id },
            AlertFate::Held(Decision::Wait { until }) => AlertAction::Suppressed {
                to: to.clone(),
                until: Some(crate::clock::rfc3339(until)),
                reason: "still firing; mailed again once the repeat interval has passed".into(),
            },
            AlertFate::Held(_) => AlertAction::Suppressed {
                to: to.clone(),
                until: None,
                reason: "not firing: nothing to resolve for this recipient".into(),
            },
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(json: serde_json::Value) -> Result<ValidMessage, Vec<FieldError>> {
        serde_json::from_value::<MessageRequest>(json).unwrap().validate(&Origin::Unknown)
    }

    fn fields(errors: Vec<FieldError>) -> Vec<String> {
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_message_becomes_one_outbox_message_per_distinct_recipient() {
        let ok = message(serde_json::json!({
            "to": ["a@example.com", "B@example.com", "A@example.com"],
            "subject": "Backup done", "text": "All good.", "priority": "alert"
        }))
        .unwrap();
        let to: Vec<&str> = ok.messages.iter().map(|m| m.to.as_str()).collect();
        assert_eq!(to, ["a@example.com", "B@example.com"]);
        assert!(ok.messages.iter().all(|m| m.priority == Priority::Alert));
    }

    #[test]
    fn every_broken_rule_is_named_by_its_field() {
        let errors = message(serde_json::json!({
            "to": ["ok@example.com", "not an address", "x@example.com\r\nBcc: y@example.com"],
            "subject": "Hello\r\nBcc: victim@example.com", "text": " ",
            "idempotency_key": "k".repeat(201)
        }))
        .unwrap_err();
        assert_eq!(fields(errors), ["to[1]", "to[2]", "subject", "text", "idempotency_key"]);
        let errors = message(serde_json::json!({
            "to": vec!["a@example.com"; 10_000], "subject": "s", "text": "t"
        }))
        .unwrap_err();
        assert_eq!(fields(errors.clone()), ["to"]);
        assert!(errors[0].message.contains("At most 100 recipients"), "{errors:?}");
    }

    #[test]
    fn unknown_fields_and_priorities_are_refused_by_the_parser() {
        for body in [
            serde_json::json!({"to": ["a@example.com"], "subject": "s", "text": "t", "cc": []}),
            serde_json::json!({"to": ["a@example.com"], "subject": "s", "text": "t", "priority": "security"}),
        ] {
            assert!(serde_json::from_value::<MessageRequest>(body).is_err());
        }
    }

    #[test]
    fn alerts_need_a_web_link_and_finite_values() {
        let alert = |link: &str, value: serde_json::Value| {
            serde_json::from_value::<AlertRequest>(serde_json::json!({
                "alert_key": "disk:db-1", "title": "Disk almost full", "severity": "critical",
                "state": "firing", "value": value, "link": link, "recipients": ["ops@example.com"]
            }))
            .unwrap()
            .validate()
        };
        assert!(alert("https://grafana.example.com/d/1", serde_json::json!(93.5)).is_ok());
        assert!(alert("https://grafana.example.com/d/1", serde_json::json!("93 %")).is_ok());
        assert_eq!(fields(alert("javascript:alert(1)", serde_json::json!(1)).unwrap_err()), ["link"]);
    }
}
