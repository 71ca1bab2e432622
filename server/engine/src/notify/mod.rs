//! Alert mail for the system's other services: an [`Alert`] that passed the sender's rules
//! becomes a mail, a subject such as `[FIRING] Disk almost full`, with the same content as
//! plain text and as HTML (every value escaped by `html-escape`), and one outbox message per
//! recipient in an [`AlertBatch`] that storm control decides on
//! ([`crate::delivery::Outbox::queue_alert`]).

pub mod group;

use crate::mailer::Mail;
use crate::outbox::{Origin, Priority};
use crate::store::{AlertBatch, MailBody, NewMessage};
use html_escape::{encode_double_quoted_attribute as attribute, encode_text as text};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// An alert as a sender reported it, every field already checked (one-line texts, an
/// http(s) link).
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    /// Identifies the alert across reports (storm control).
    pub key: String,
    pub title: String,
    pub severity: Severity,
    /// Firing, or resolved.
    pub firing: bool,
    /// The measured value and the threshold, as the sender wrote them ("93.5", "95 %").
    pub value: Option<String>,
    pub threshold: Option<String>,
    /// An http(s) address, checked by the sender's rules.
    pub link: Option<String>,
    /// What happened and what to do, in the sender's words.
    pub description: Option<String>,
}

impl Alert {
    /// One alert message per recipient, first in line after security mail, for storm control
    /// to decide on. `repeat_secs`: how often a firing alert is mailed again.
    pub fn batch(&self, recipients: &[String], origin: &Origin, repeat_secs: u64) -> AlertBatch {
        let mail = self.mail(repeat_secs);
        let messages = alert_messages(&mail, recipients, origin);
        AlertBatch {
            key: self.key.clone(),
            firing: self.firing,
            repeat_secs,
            digest: 0,
            messages,
        }
    }

    /// The mail: what fired, its value against its threshold, the link, what to do, and how
    /// often it is mailed again.
    pub fn mail(&self, repeat_secs: u64) -> Mail {
        let state = if self.firing { "FIRING" } else { "RESOLVED" };
        let title = self.title.trim();
        let subject = format!("[{state}] {title}");
        let measured = match (&self.value, &self.threshold) {
            (Some(v), Some(t)) => Some(format!("Value: {v} (threshold: {t})")),
            (Some(v), None) => Some(format!("Value: {v}")),
            (None, Some(t)) => Some(format!("Threshold: {t}")),
            (None, None) => None,
        };
        let todo = match (&self.description, self.firing) {
            (Some(d), _) if !d.trim().is_empty() => d.trim().to_string(),
            (_, true) if self.link.is_some() => "Open the link to see what is wrong, and act on it.".into(),
            (_, true) => "Look into the system named in the title, and act on it.".into(),
            (_, false) => "Nothing: this alert is resolved.".into(),
        };
        let policy = if self.firing {
            format!(
                "While this alert stays firing you will get this mail again every {}, and once more when it resolves.",
                interval(repeat_secs)
            )
        } else {
            "This alert resolved; it will be mailed again if it fires again.".to_string()
        };
        let headline = format!("{state} ({}): {title}", self.severity.name());
        let key = &self.key;

        let mut plain = format!("{headline}\r\n\r\n");
        if let Some(m) = &measured {
            plain.push_str(&format!("{m}\r\n"));
        }
        if let Some(link) = &self.link {
            plain.push_str(&format!("Details: {link}\r\n"));
        }
        plain.push_str(&format!(
            "\r\nWhat to do: {todo}\r\n\r\n{policy}\r\nAlert key: {key}\r\n-- \r\nMailroom\r\n"
        ));

        let colour = match (self.firing, self.severity) {
            (false, _) => "#1a7f37",
            (true, Severity::Critical) => "#b42318",
            (true, Severity::Warning) => "#b54708",
            (true, Severity::Info) => "#175cd3",
        };
        let mut html = format!(
            "<div style=\"font-family:Arial,Helvetica,sans-serif;max-width:600px;border:1px solid #d0d5dd\">\
             <h1 style=\"background:{colour};color:#ffffff;padding:12px 16px;font-size:18px;margin:0\">{}</h1>\
             <div style=\"padding:16px;color:#101828;font-size:15px;line-height:1.5\">",
            text(&headline)
        );
        if let Some(m) = &measured {
            html.push_str(&format!(
                "<p style=\"font-size:17px;margin:0 0 12px\"><strong>{}</strong></p>",
                text(m)
            ));
        }
        if let Some(link) = &self.link {
            html.push_str(&format!(
                "<p style=\"margin:0 0 12px\"><a href=\"{}\">Open the details</a></p>",
                attribute(link)
            ));
        }
        html.push_str(&format!(
            "<p style=\"margin:0 0 12px\"><strong>What to do: </strong>{}</p>\
             <p style=\"margin:0;color:#475467;font-size:13px\">{} Alert key: {}</p></div></div>",
            text(&todo),
            text(&policy),
            text(key)
        ));
        Mail {
            subject,
            text: plain,
            html: Some(html),
            thread: None,
            raw: None,
        }
    }
}

/// `mail` as one alert message per recipient, first in line after security mail.
pub(crate) fn alert_messages(mail: &Mail, recipients: &[String], origin: &Origin) -> Vec<NewMessage> {
    recipients
        .iter()
        .map(|to| NewMessage {
            to: to.clone(),
            subject: mail.subject.clone(),
            body: MailBody {
                text: mail.text.clone(),
                html: mail.html.clone(),
                thread: mail.thread.clone(),
                raw: None,
            },
            priority: Priority::Alert,
            expires_at: None,
            origin: origin.clone(),
        })
        .collect()
}

/// "4 hours", "30 minutes", "1 hour 30 minutes".
pub(crate) fn interval(secs: u64) -> String {
    let (h, m) = (secs / 3600, secs % 3600 / 60);
    let unit = |n: u64, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    match (h, m) {
        (0, 0) => unit(secs, "second"),
        (0, m) => unit(m, "minute"),
        (h, 0) => unit(h, "hour"),
        (h, m) => format!("{} {}", unit(h, "hour"), unit(m, "minute")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert() -> Alert {
        Alert {
            key: "disk:db-1".into(),
            title: "Disk almost full on db-1".into(),
            severity: Severity::Critical,
            firing: true,
            value: Some("93.5".into()),
            threshold: Some("90".into()),
            link: Some("https://grafana.example.com/d/1?a=1&b=2".into()),
            description: None,
        }
    }

    #[test]
    fn a_firing_alert_says_value_threshold_link_and_what_to_do() {
        let mail = alert().mail(4 * 3600);
        assert_eq!(mail.subject, "[FIRING] Disk almost full on db-1");
        assert!(mail.text.contains("Value: 93.5 (threshold: 90)"), "{}", mail.text);
        assert!(mail
            .text
            .contains("Details: https://grafana.example.com/d/1?a=1&b=2"));
        assert!(mail.text.contains("again every 4 hours"));
        let html = mail.html.unwrap();
        assert!(
            html.contains("href=\"https://grafana.example.com/d/1?a=1&amp;b=2\""),
            "{html}"
        );
        assert!(html.contains("Value: 93.5 (threshold: 90)"));
    }

    #[test]
    fn values_are_escaped_in_the_html() {
        let mail = Alert {
            title: "<script>alert(1)</script>".into(),
            firing: false,
            description: Some("a < b & c".into()),
            link: None,
            ..alert()
        }
        .mail(3600);
        assert_eq!(mail.subject, "[RESOLVED] <script>alert(1)</script>");
        let html = mail.html.unwrap();
        assert!(!html.contains("<script>"), "{html}");
        assert!(
            html.contains("&lt;script&gt;") && html.contains("a &lt; b &amp; c"),
            "{html}"
        );
    }

    #[test]
    fn one_alert_message_per_recipient_with_the_storm_key() {
        let batch = alert().batch(
            &["a@example.com".into(), "b@example.com".into()],
            &Origin::Unknown,
            600,
        );
        assert_eq!(
            (batch.key.as_str(), batch.firing, batch.repeat_secs),
            ("disk:db-1", true, 600)
        );
        let to: Vec<&str> = batch.messages.iter().map(|m| m.to.as_str()).collect();
        assert_eq!(to, ["a@example.com", "b@example.com"]);
        assert!(batch
            .messages
            .iter()
            .all(|m| m.priority == Priority::Alert && m.body.html.is_some()));
    }

    #[test]
    fn intervals_read_as_words() {
        assert_eq!(interval(4 * 3600), "4 hours");
        assert_eq!(interval(3600 + 1800), "1 hour 30 minutes");
        assert_eq!(interval(60), "1 minute");
        assert_eq!(interval(5), "5 seconds");
    }
}
