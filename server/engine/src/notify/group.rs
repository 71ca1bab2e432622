//! Alert mail for the alerting tools' webhooks (Alertmanager, Grafana, Uptime Kuma, Zabbix):
//! a [`Group`] notification, read from the tool's body by the API, becomes one mail per
//! recipient, subject `[FIRING:2] DiskAlmostFull (db-1)` or `[RESOLVED] …` after
//! Alertmanager's own default, each alert with its labels, summary, description, times and
//! links, every value escaped in the HTML and kept to one line in the subject. A group's mails
//! form one thread: each has its own `Message-ID` and points at the group's thread id, derived
//! from the group's key, in `In-Reply-To` and `References`.

use super::interval;
use crate::mailer::{Mail, Thread};
use crate::outbox::{Origin, Source};
use crate::store::AlertBatch;
use html_escape::{encode_double_quoted_attribute as attribute, encode_text as text};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// At most this many alerts are written into one mail; the mail says how many were left out.
pub const MAX_ALERTS: usize = 1000;
/// A subject's title is cut at this many characters.
const MAX_TITLE_CHARS: usize = 200;
/// The group as Mail Activity shows it is cut at this many characters.
const MAX_GROUP_CHARS: usize = 120;

/// One notification of a group of alerts, as a tool sent it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Group {
    /// Identifies the group across notifications (Alertmanager's `groupKey`, a monitor's id):
    /// storm control's key and the thread's.
    pub key: String,
    /// The notification's state: firing while any of its alerts fires.
    pub firing: bool,
    /// The labels the tool grouped by, and those all its alerts share (subject and heading).
    pub group_labels: Vec<(String, String)>,
    pub common_labels: Vec<(String, String)>,
    /// A title the tool wrote itself, used when there are no group labels (Uptime Kuma's
    /// monitor name, Zabbix's subject).
    pub title: Option<String>,
    /// A message for the whole notification (Grafana's `message`, Uptime Kuma's `msg`).
    pub message: Option<String>,
    /// The alerts, at most [`MAX_ALERTS`] of them.
    pub alerts: Vec<GroupAlert>,
    /// Alerts the tool or Mailroom left out (Alertmanager's `truncatedAlerts`, and those past
    /// [`MAX_ALERTS`]).
    pub left_out: usize,
    /// The tool's own address (Alertmanager's `externalURL`).
    pub external: Option<String>,
}

/// One alert of a notification.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupAlert {
    pub firing: bool,
    pub labels: Vec<(String, String)>,
    pub summary: Option<String>,
    pub description: Option<String>,
    /// Unix seconds; `None` for Alertmanager's zero time (`0001-01-01T00:00:00Z`).
    pub starts_at: Option<i64>,
    pub ends_at: Option<i64>,
    /// Measured values by name (Grafana's `values`).
    pub values: Vec<(String, String)>,
    /// Links with what they open ("Source", "Dashboard", "Silence", "Runbook").
    pub links: Vec<(&'static str, String)>,
    /// The tool's id of the alert, when it has one.
    pub fingerprint: String,
}

impl Group {
    /// Keeps at most [`MAX_ALERTS`], counting the rest as left out.
    pub fn cap(mut self) -> Self {
        if self.alerts.len() > MAX_ALERTS {
            self.left_out += self.alerts.len() - MAX_ALERTS;
            self.alerts.truncate(MAX_ALERTS);
        }
        self
    }

    fn firing_count(&self) -> usize {
        self.alerts.iter().filter(|a| a.firing).count()
    }

    /// `DiskAlmostFull (db-1)`: the group labels' values (alertname first), then the values of
    /// the labels all alerts share beyond those, as Alertmanager's default subject has it.
    pub fn title(&self) -> String {
        let mut title = sorted_values(&self.group_labels);
        let extra: Vec<(String, String)> = self
            .common_labels
            .iter()
            .filter(|(k, _)| !self.group_labels.iter().any(|(g, _)| g == k))
            .cloned()
            .collect();
        if title.is_empty() {
            title = self.title.clone().unwrap_or_default();
        }
        if !extra.is_empty() {
            title = format!("{title} ({})", sorted_values(&extra));
        }
        let title = one_line(&title);
        let title = if title.is_empty() { "Alert".to_string() } else { title };
        cut(&title, MAX_TITLE_CHARS)
    }

    /// `[FIRING:2] …` or `[RESOLVED] …`.
    pub fn subject(&self) -> String {
        if self.firing {
            format!("[FIRING:{}] {}", self.firing_count().max(1), self.title())
        } else {
            format!("[RESOLVED] {}", self.title())
        }
    }

    /// The group as Mail Activity shows it: its labels, or its title.
    pub fn describe(&self) -> String {
        let labels = self
            .group_labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ");
        let shown = if labels.is_empty() { self.title() } else { one_line(&labels) };
        cut(&shown, MAX_GROUP_CHARS)
    }

    /// What fires and what resolved, summed up: the same alerts in the same states give the
    /// same digest (a repeat), any change another (news for storm control).
    pub fn digest(&self) -> u64 {
        let mut parts: Vec<String> = self
            .alerts
            .iter()
            .map(|a| {
                let id = if a.fingerprint.is_empty() { sorted_pairs(&a.labels) } else { a.fingerprint.clone() };
                format!("{}:{id}", if a.firing { 'F' } else { 'R' })
            })
            .collect();
        parts.sort();
        parts.push(format!("firing={} left_out={}", self.firing, self.left_out));
        let hash = Sha256::digest(parts.join("\n").as_bytes());
        u64::from_be_bytes(hash[..8].try_into().unwrap_or_default())
    }

    /// The group's thread id and storm key, from the source and the group's key.
    fn group_id(&self, source: Source) -> String {
        let hash = Sha256::digest(format!("{}\n{}", source.path(), self.key).as_bytes());
        hex::encode(&hash[..12])
    }

    /// The mail, as of `now` (Unix seconds: times are said relative to it).
    pub fn mail(&self, source: Source, now: i64, repeat_secs: u64) -> Mail {
        let state = if self.firing { "FIRING" } else { "RESOLVED" };
        let subject = self.subject();
        let group = self.group_id(source);
        let thread = Thread {
            id: format!("alert.{group}.{:016x}.{now}", self.digest()),
            parent: format!("alert.{group}"),
        };
        let firing = self.firing_count();
        let resolved = self.alerts.len() - firing;
        let counts = match (firing, resolved) {
            (f, 0) => plural(f, "alert firing", "alerts firing"),
            (0, r) => plural(r, "alert resolved", "alerts resolved"),
            (f, r) => format!("{f} firing, {r} resolved"),
        };
        let headline = format!("{state}: {} ({counts}, from {})", self.title(), source.name());
        let policy = if self.firing {
            format!(
                "While this group stays the same you will get this mail again every {}; a change (an alert joining or resolving) is mailed at once, and so is its resolution.",
                interval(repeat_secs)
            )
        } else {
            "This group resolved; it will be mailed again if it fires again.".to_string()
        };

        let mut plain = format!("{headline}\r\n\r\n");
        let colour = if self.firing { "#b42318" } else { "#1a7f37" };
        let mut html = format!(
            "<div style=\"font-family:Arial,Helvetica,sans-serif;max-width:720px;border:1px solid #d0d5dd\">\
             <h1 style=\"background:{colour};color:#ffffff;padding:12px 16px;font-size:18px;margin:0\">{}</h1>\
             <div style=\"padding:16px;color:#101828;font-size:15px;line-height:1.5\">",
            text(&headline)
        );
        if let Some(m) = self.message.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
            let _ = write!(plain, "{}\r\n\r\n", lines(m));
            let _ = write!(html, "<p style=\"margin:0 0 12px;white-space:pre-wrap\">{}</p>", text(m));
        }
        for (i, alert) in self.alerts.iter().enumerate() {
            alert.write(i + 1, now, &mut plain, &mut html);
        }
        if self.left_out > 0 {
            let said = format!(
                "{} left out of this mail (too many in one notification); the tool lists them all.",
                plural(self.left_out, "more alert was", "more alerts were")
            );
            let _ = write!(plain, "{said}\r\n\r\n");
            let _ = write!(html, "<p style=\"margin:0 0 12px\"><strong>{}</strong></p>", text(&said));
        }
        if let Some(url) = self.external.as_deref().and_then(web_link) {
            let _ = write!(plain, "{}: {url}\r\n", source.name());
            let _ = write!(
                html,
                "<p style=\"margin:0 0 12px\"><a href=\"{}\">Open {}</a></p>",
                attribute(&url),
                source.name()
            );
        }
        let _ = write!(plain, "\r\n{policy}\r\n-- \r\nMailroom\r\n");
        let _ = write!(
            html,
            "<p style=\"margin:0;color:#475467;font-size:13px\">{}</p></div></div>",
            text(&policy)
        );
        Mail {
            subject,
            text: plain,
            html: Some(html),
            thread: Some(thread),
            raw: None,
        }
    }

    /// One alert message per recipient for storm control to decide on.
    pub fn batch(
        &self,
        source: Source,
        recipients: &[String],
        token: (u64, &str),
        now: i64,
        repeat_secs: u64,
    ) -> AlertBatch {
        let mail = self.mail(source, now, repeat_secs);
        let origin = Origin::Webhook {
            source,
            id: token.0,
            name: token.1.to_string(),
            group: self.describe(),
        };
        let messages = super::alert_messages(&mail, recipients, &origin);
        AlertBatch {
            key: format!("{}:{}", source.path(), self.group_id(source)),
            firing: self.firing,
            repeat_secs,
            digest: self.digest(),
            messages,
        }
    }
}

impl GroupAlert {
    fn name(&self) -> String {
        let name = self
            .labels
            .iter()
            .find(|(k, _)| k == "alertname")
            .map(|(_, v)| v.as_str())
            .or(self.summary.as_deref())
            .unwrap_or("Alert");
        one_line(name)
    }

    fn write(&self, n: usize, now: i64, plain: &mut String, html: &mut String) {
        let state = if self.firing { "Firing" } else { "Resolved" };
        let name = self.name();
        let _ = write!(plain, "{n}. {state}: {name}\r\n");
        let colour = if self.firing { "#b42318" } else { "#1a7f37" };
        let _ = write!(
            html,
            "<h2 style=\"font-size:16px;margin:16px 0 4px\"><span style=\"color:{colour}\">{state}</span>: {}</h2>",
            text(&name)
        );
        for (label, value) in [("Summary", &self.summary), ("Description", &self.description)] {
            if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                let _ = write!(plain, "   {label}: {}\r\n", lines(v));
                let _ = write!(
                    html,
                    "<p style=\"margin:0 0 6px;white-space:pre-wrap\"><strong>{label}: </strong>{}</p>",
                    text(v)
                );
            }
        }
        let mut times = Vec::new();
        if let Some(at) = self.starts_at {
            times.push(format!("Started {}", when(at, now)));
        }
        if let Some(at) = self.ends_at.filter(|_| !self.firing) {
            times.push(format!("ended {}", when(at, now)));
        }
        if !times.is_empty() {
            let times = times.join(", ");
            let _ = write!(plain, "   {times}\r\n");
            let _ = write!(html, "<p style=\"margin:0 0 6px;color:#475467\">{}</p>", text(&times));
        }
        if !self.values.is_empty() {
            let values = self
                .values
                .iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect::<Vec<_>>()
                .join(", ");
            let values = one_line(&values);
            let _ = write!(plain, "   Values: {values}\r\n");
            let _ = write!(html, "<p style=\"margin:0 0 6px\"><strong>Values: </strong>{}</p>", text(&values));
        }
        if !self.labels.is_empty() {
            let _ = write!(plain, "   Labels:\r\n");
            let _ = write!(html, "<table style=\"border-collapse:collapse;font-size:13px;margin:0 0 6px\">");
            for (k, v) in sorted(&self.labels) {
                let _ = write!(plain, "     {} = {}\r\n", one_line(k), one_line(v));
                let _ = write!(
                    html,
                    "<tr><td style=\"padding:2px 8px 2px 0;color:#475467\">{}</td><td style=\"padding:2px 0\">{}</td></tr>",
                    text(&one_line(k)),
                    text(&one_line(v))
                );
            }
            let _ = write!(html, "</table>");
        }
        let links: Vec<_> = self.links.iter().filter_map(|(label, url)| Some((label, web_link(url)?))).collect();
        if !links.is_empty() {
            let _ = write!(html, "<p style=\"margin:0 0 6px\">");
            for (i, (label, url)) in links.iter().enumerate() {
                let _ = write!(plain, "   {label}: {url}\r\n");
                let sep = if i == 0 { "" } else { " · " };
                let _ = write!(html, "{sep}<a href=\"{}\">{label}</a>", attribute(url.as_str()));
            }
            let _ = write!(html, "</p>");
        }
        plain.push_str("\r\n");
    }
}

/// Labels sorted by name, `alertname` first (as Alertmanager's `SortedPairs`).
fn sorted(labels: &[(String, String)]) -> Vec<&(String, String)> {
    let mut sorted: Vec<_> = labels.iter().collect();
    sorted.sort_by(|(a, _), (b, _)| (a != "alertname", a).cmp(&(b != "alertname", b)));
    sorted
}

fn sorted_values(labels: &[(String, String)]) -> String {
    sorted(labels).into_iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>().join(" ")
}

fn sorted_pairs(labels: &[(String, String)]) -> String {
    sorted(labels).into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}

/// A text on one line: line breaks and other control characters become spaces.
fn one_line(s: &str) -> String {
    let spaced: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A text's lines indented for the plain-text body (CRLF line ends, no bare CR).
fn lines(s: &str) -> String {
    s.lines().map(|l| l.trim_end_matches('\r')).collect::<Vec<_>>().join("\r\n   ")
}

fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Only http(s) addresses become links, as the URL parser writes them (no white space or line
/// break left in them).
fn web_link(url: &str) -> Option<String> {
    url::Url::parse(url.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .map(String::from)
}

/// `2026-12-04 18:30 UTC (12 minutes before this mail)`.
fn when(at: i64, now: i64) -> String {
    let stamp = time::OffsetDateTime::from_unix_timestamp(at).map_or_else(
        |_| at.to_string(),
        |t| {
            format!(
                "{}-{:02}-{:02} {:02}:{:02} UTC",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        },
    );
    let ago = now - at;
    if ago < 60 {
        return stamp;
    }
    let ago = ago as u64;
    let span = if ago >= 2 * 86_400 {
        plural((ago / 86_400) as usize, "day", "days")
    } else {
        interval(ago - ago % 60)
    };
    format!("{stamp} ({span} before this mail)")
}

/// An RFC 3339 time as Unix seconds; `None` for a missing one and for Go's zero time
/// (`0001-01-01T00:00:00Z`), which Alertmanager sends for "not ended".
pub fn parse_time(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339).ok()?;
    (t.year() > 1).then(|| t.unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn group() -> Group {
        let alert = |instance: &str, firing: bool| GroupAlert {
            firing,
            labels: labels(&[("instance", instance), ("alertname", "DiskAlmostFull"), ("severity", "critical")]),
            summary: Some(format!("Disk almost full on {instance}")),
            description: Some("93 % used.\nClean up /var.".into()),
            starts_at: parse_time("2026-12-04T18:00:00.123456789Z"),
            ends_at: parse_time("0001-01-01T00:00:00Z"),
            links: vec![("Source", "http://prometheus:9090/graph?g0.expr=x&a=1".into()), ("Runbook", "javascript:alert(1)".into())],
            fingerprint: format!("fp-{instance}"),
            ..GroupAlert::default()
        };
        Group {
            key: "{}:{alertname=\"DiskAlmostFull\"}".into(),
            firing: true,
            group_labels: labels(&[("alertname", "DiskAlmostFull")]),
            common_labels: labels(&[("alertname", "DiskAlmostFull"), ("instance", "db-1"), ("severity", "critical")]),
            alerts: vec![alert("db-1", true), alert("db-2", true)],
            external: Some("http://alertmanager:9093".into()),
            ..Group::default()
        }
    }

    #[test]
    fn the_subject_follows_alertmanagers_default() {
        let g = group();
        assert_eq!(g.subject(), "[FIRING:2] DiskAlmostFull (db-1 critical)");
        let resolved = Group { firing: false, common_labels: labels(&[("alertname", "DiskAlmostFull")]), ..group() };
        assert_eq!(resolved.subject(), "[RESOLVED] DiskAlmostFull");
        let injected = Group {
            group_labels: labels(&[("alertname", "Disk\r\nBcc: evil@example.com")]),
            common_labels: vec![],
            ..group()
        };
        assert_eq!(injected.subject(), "[FIRING:2] Disk Bcc: evil@example.com");
        let titled = Group { group_labels: vec![], common_labels: vec![], title: Some("web-1 is down".into()), ..group() };
        assert_eq!(titled.subject(), "[FIRING:2] web-1 is down");
    }

    #[test]
    fn each_alert_is_written_with_its_labels_times_and_web_links_only() {
        let now = parse_time("2026-12-04T18:12:30Z").unwrap();
        let mail = group().mail(Source::Alertmanager, now, 4 * 3600);
        assert!(mail.text.contains("1. Firing: DiskAlmostFull"), "{}", mail.text);
        assert!(mail.text.contains("Started 2026-12-04 18:00 UTC (12 minutes before this mail)"), "{}", mail.text);
        assert!(mail.text.contains("Description: 93 % used.\r\n   Clean up /var."), "{}", mail.text);
        assert!(mail.text.contains("instance = db-2"));
        assert!(!mail.text.contains("javascript:"), "{}", mail.text);
        let mut broken = group();
        broken.alerts[0].links = vec![("Source", "http://x.example.com/a\r\nBcc: y@example.com".into())];
        let text = broken.mail(Source::Alertmanager, now, 60).text;
        assert!(!text.contains("\r\nBcc:"), "{text}");
        let html = mail.html.unwrap();
        assert!(html.contains("href=\"http://prometheus:9090/graph?g0.expr=x&amp;a=1\">Source</a>"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        let thread = mail.thread.unwrap();
        assert!(thread.id.starts_with(&format!("{}.", thread.parent)), "{thread:?}");
        assert!(thread.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '.'), "{thread:?}");
    }

    #[test]
    fn labels_are_escaped_in_the_html() {
        let mut g = group();
        g.alerts[0].labels.push(("team".into(), "<script>x</script>".into()));
        g.message = Some("a < b".into());
        let html = g.mail(Source::Grafana, 0, 60).html.unwrap();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;") && html.contains("a &lt; b"), "{html}");
    }

    #[test]
    fn one_group_is_one_thread_and_a_change_is_a_new_digest() {
        let g = group();
        let first = g.mail(Source::Alertmanager, 100, 60).thread.unwrap();
        let later = g.mail(Source::Alertmanager, 200, 60).thread.unwrap();
        assert_eq!(first.parent, later.parent);
        assert_ne!(first.id, later.id);
        let other = Group { key: "other".into(), ..group() }.mail(Source::Alertmanager, 100, 60).thread.unwrap();
        assert_ne!(first.parent, other.parent);
        let mut grown = group();
        grown.alerts.push(GroupAlert { firing: true, fingerprint: "fp-db-3".into(), ..GroupAlert::default() });
        assert_ne!(g.digest(), grown.digest());
        let mut reordered = group();
        reordered.alerts.reverse();
        assert_eq!(g.digest(), reordered.digest(), "the order of the alerts is no change");
        let mut one_resolved = group();
        one_resolved.alerts[1].firing = false;
        assert_ne!(g.digest(), one_resolved.digest());
    }

    #[test]
    fn past_the_cap_the_mail_says_how_many_were_left_out() {
        let mut g = group();
        g.alerts = (0..MAX_ALERTS + 5)
            .map(|i| GroupAlert { firing: true, fingerprint: i.to_string(), ..GroupAlert::default() })
            .collect();
        g.left_out = 2;
        let g = g.cap();
        assert_eq!((g.alerts.len(), g.left_out), (MAX_ALERTS, 7));
        assert!(g.mail(Source::Alertmanager, 0, 60).text.contains("7 more alerts were left out"));
    }

    #[test]
    fn the_batch_carries_the_source_the_group_and_the_thread() {
        let batch = group().batch(Source::Alertmanager, &["ops@example.com".into()], (7, "prometheus"), 100, 60);
        assert!(batch.key.starts_with("alertmanager:"));
        assert_eq!(batch.digest, group().digest());
        let m = &batch.messages[0];
        assert_eq!(
            m.origin,
            Origin::Webhook { source: Source::Alertmanager, id: 7, name: "prometheus".into(), group: "alertname=DiskAlmostFull".into() }
        );
        assert!(m.body.thread.is_some());
    }
}
