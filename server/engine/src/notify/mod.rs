//! Alert mail for the system's other services: an [`Alert`] that passed the sender's rules
//! becomes a mail, a subject such as `[FIRING] Disk almost full`, with the same content as
//! plain text and as HTML (every value escaped by `html-escape`), and one outbox message per
//! recipient in an [`AlertBatch`] that storm control decides on
//! ([`crate::delivery::Outbox::queue_alert`]).

pub mod group;

use crate::mailer::Mail;
use crate::outbox::{Origin, Priority};
use crate::store::{AlertBatch, MailBody, NewMessage};
use crate::templates::{self, words, Kind, Lang, Texts, Values};

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
    /// to decide on. `texts`: the alert template in force in `lang`; `repeat_secs`: how often
    /// a firing alert is mailed again.
    pub fn batch(&self, texts: &Texts, lang: Lang, recipients: &[String], origin: &Origin, repeat_secs: u64) -> AlertBatch {
        let mail = self.mail(texts, lang, repeat_secs);
        let messages = alert_messages(&mail, recipients, origin);
        AlertBatch {
            key: self.key.clone(),
            firing: self.firing,
            repeat_secs,
            digest: 0,
            messages,
        }
    }

    /// The values the alert template offers ([`Kind::Alert`]).
    pub fn values(&self, lang: Lang, repeat_secs: u64) -> Values {
        let text = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or_default().to_string();
        Values::new()
            .set_value("firing", self.firing)
            .set("title", self.title.trim())
            .set("severity", self.severity.name())
            .set("value", text(&self.value))
            .set("threshold", text(&self.threshold))
            .set("link", text(&self.link))
            .set("description", text(&self.description))
            .set("repeat", words::interval(repeat_secs, lang))
            .set("key", self.key.as_str())
    }

    /// The mail: what fired, its value against its threshold, the link, what to do, and how
    /// often it is mailed again, as `texts` (the template in force in `lang`) say it.
    pub fn mail(&self, texts: &Texts, lang: Lang, repeat_secs: u64) -> Mail {
        templates::render_or_default(Kind::Alert, lang, texts, &self.values(lang, repeat_secs))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn english() -> Texts {
        templates::default(Kind::Alert, Lang::En)
    }

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
        let mail = alert().mail(&english(), Lang::En, 4 * 3600);
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
        .mail(&english(), Lang::En, 3600);
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
            &english(),
            Lang::En,
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
    fn a_chinese_alert_is_written_in_chinese_with_the_same_facts() {
        let mail = alert().mail(&templates::default(Kind::Alert, Lang::ZhCn), Lang::ZhCn, 4 * 3600);
        assert_eq!(mail.subject, "[告警] Disk almost full on db-1");
        assert!(mail.text.contains("告警（严重）：Disk almost full on db-1"), "{}", mail.text);
        assert!(mail.text.contains("当前值：93.5（阈值：90）"), "{}", mail.text);
        assert!(mail.text.contains("每隔 4 小时会再次发送"), "{}", mail.text);
        assert!(mail.html.unwrap().contains("href=\"https://grafana.example.com/d/1?a=1&amp;b=2\""));
    }

    #[test]
    fn a_template_that_fails_with_real_values_gives_way_to_the_default() {
        let broken = Texts { subject: "{{ title }}".into(), text: "{% for i in range(100000000) %}{{ title }}{% endfor %}".into(), html: None };
        let mail = alert().mail(&broken, Lang::En, 60);
        assert_eq!(mail.subject, "[FIRING] Disk almost full on db-1");
        assert!(mail.text.contains("Value: 93.5 (threshold: 90)"), "{}", mail.text);
    }
}
