//! Alert mail for the alerting tools' webhooks (Alertmanager, Grafana, Uptime Kuma, Zabbix):
//! a [`Group`] notification, read from the tool's body by the API, becomes one mail per
//! recipient, subject `[FIRING:2] DiskAlmostFull (db-1)` or `[RESOLVED] …` after
//! Alertmanager's own default, each alert with its labels, summary, description, times and
//! links, every value escaped in the HTML and kept to one line in the subject. A group's mails
//! form one thread: each has its own `Message-ID` and points at the group's thread id, derived
//! from the group's key, in `In-Reply-To` and `References`.

use crate::mailer::{Mail, Thread};
use crate::outbox::{Origin, Source};
use crate::store::AlertBatch;
use crate::templates::{self, words, Kind, Lang, Texts, Values};
use sha2::{Digest, Sha256};

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

    /// The values the alert group template offers ([`Kind::AlertGroup`]), as of `now` (Unix
    /// seconds: times are said relative to it), in `lang`.
    pub fn values(&self, source: Source, lang: Lang, now: i64, repeat_secs: u64) -> Values {
        let firing = self.firing_count();
        let alerts: Vec<AlertValues> = self.alerts.iter().map(|a| a.values(lang, now)).collect();
        Values::new()
            .set_value("firing", self.firing)
            .set("title", self.title())
            .set("source", source.name())
            .set_value("firing_count", firing)
            .set_value("resolved_count", self.alerts.len() - firing)
            .set("message", self.message.as_deref().map(multiline).unwrap_or_default())
            .set_value("alerts", alerts)
            .set_value("left_out", self.left_out)
            .set("external", self.external.as_deref().and_then(web_link).unwrap_or_default())
            .set("repeat", words::interval(repeat_secs, lang))
    }

    /// The mail as `texts` (the template in force in `lang`) say it, as of `now`, in the
    /// group's thread.
    pub fn mail(&self, texts: &Texts, lang: Lang, source: Source, now: i64, repeat_secs: u64) -> Mail {
        let group = self.group_id(source);
        let thread = Thread {
            id: format!("alert.{group}.{:016x}.{now}", self.digest()),
            parent: format!("alert.{group}"),
        };
        let values = self.values(source, lang, now, repeat_secs);
        Mail { thread: Some(thread), ..templates::render_or_default(Kind::AlertGroup, lang, texts, &values) }
    }

    /// One alert message per recipient for storm control to decide on.
    #[allow(clippy::too_many_arguments)]
    pub fn batch(
        &self,
        texts: &Texts,
        lang: Lang,
        source: Source,
        recipients: &[String],
        token: (u64, &str),
        now: i64,
        repeat_secs: u64,
    ) -> AlertBatch {
        let mail = self.mail(texts, lang, source, now, repeat_secs);
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

    fn values(&self, lang: Lang, now: i64) -> AlertValues {
        let text = |v: &Option<String>| v.as_deref().map(multiline).unwrap_or_default();
        AlertValues {
            firing: self.firing,
            name: self.name(),
            summary: text(&self.summary),
            description: text(&self.description),
            started: self.starts_at.map(|at| words::when(at, now, lang)).unwrap_or_default(),
            ended: self.ends_at.filter(|_| !self.firing).map(|at| words::when(at, now, lang)).unwrap_or_default(),
            values: one_line(&self.values.iter().map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join(", ")),
            labels: sorted(&self.labels)
                .into_iter()
                .map(|(name, value)| LabelValue { name: one_line(name), value: one_line(value) })
                .collect(),
            links: self
                .links
                .iter()
                .filter_map(|(label, url)| Some(LinkValue { label: words::link_label(label, lang).to_string(), url: web_link(url)? }))
                .collect(),
        }
    }
}

/// One alert as its template sees it (`alerts`).
#[derive(serde::Serialize)]
struct AlertValues {
    firing: bool,
    name: String,
    summary: String,
    description: String,
    started: String,
    ended: String,
    values: String,
    labels: Vec<LabelValue>,
    links: Vec<LinkValue>,
}

#[derive(serde::Serialize)]
struct LabelValue {
    name: String,
    value: String,
}

#[derive(serde::Serialize)]
struct LinkValue {
    label: String,
    url: String,
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

/// A text of several lines: trimmed, each line end a `\n`, no other control character.
fn multiline(s: &str) -> String {
    let lines = s.trim().replace("\r\n", "\n").replace('\r', "\n");
    lines.chars().filter(|c| *c == '\n' || !c.is_control()).collect()
}

/// A text on one line: line breaks and other control characters become spaces.
fn one_line(s: &str) -> String {
    let spaced: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

/// Only http(s) addresses become links, as the URL parser writes them (no white space or line
/// break left in them).
fn web_link(url: &str) -> Option<String> {
    url::Url::parse(url.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .map(String::from)
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

    fn english() -> Texts {
        templates::default(Kind::AlertGroup, Lang::En)
    }

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
        let mail = group().mail(&english(), Lang::En, Source::Alertmanager, now, 4 * 3600);
        assert!(mail.text.contains("1. Firing: DiskAlmostFull"), "{}", mail.text);
        assert!(mail.text.contains("Started 2026-12-04 18:00 UTC (12 minutes before this mail)"), "{}", mail.text);
        assert!(mail.text.contains("Description: 93 % used.\r\n   Clean up /var."), "{}", mail.text);
        assert!(mail.text.contains("instance = db-2"));
        assert!(!mail.text.contains("javascript:"), "{}", mail.text);
        let mut broken = group();
        broken.alerts[0].links = vec![("Source", "http://x.example.com/a\r\nBcc: y@example.com".into())];
        let text = broken.mail(&english(), Lang::En, Source::Alertmanager, now, 60).text;
        assert!(!text.contains("\r\nBcc:"), "{text}");
        let html = mail.html.unwrap();
        assert!(html.contains("href=\"http://prometheus:9090/graph?g0.expr=x&amp;a=1\">Source</a>"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        let thread = mail.thread.clone().unwrap();
        assert!(thread.id.starts_with(&format!("{}.", thread.parent)), "{thread:?}");
        assert!(thread.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '.'), "{thread:?}");
    }

    #[test]
    fn labels_are_escaped_in_the_html() {
        let mut g = group();
        g.alerts[0].labels.push(("team".into(), "<script>x</script>".into()));
        g.message = Some("a < b".into());
        let html = g.mail(&english(), Lang::En, Source::Grafana, 0, 60).html.unwrap();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;") && html.contains("a &lt; b"), "{html}");
    }

    #[test]
    fn one_group_is_one_thread_and_a_change_is_a_new_digest() {
        let g = group();
        let first = g.mail(&english(), Lang::En, Source::Alertmanager, 100, 60).thread.unwrap();
        let later = g.mail(&english(), Lang::En, Source::Alertmanager, 200, 60).thread.unwrap();
        assert_eq!(first.parent, later.parent);
        assert_ne!(first.id, later.id);
        let other = Group { key: "other".into(), ..group() }.mail(&english(), Lang::En, Source::Alertmanager, 100, 60).thread.unwrap();
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
        assert!(g.mail(&english(), Lang::En, Source::Alertmanager, 0, 60).text.contains("7 more alerts were left out"));
    }

    #[test]
    fn the_batch_carries_the_source_the_group_and_the_thread() {
        let batch = group().batch(&english(), Lang::En, Source::Alertmanager, &["ops@example.com".into()], (7, "prometheus"), 100, 60);
        assert!(batch.key.starts_with("alertmanager:"));
        assert_eq!(batch.digest, group().digest());
        let m = &batch.messages[0];
        assert_eq!(
            m.origin,
            Origin::Webhook { source: Source::Alertmanager, id: 7, name: "prometheus".into(), group: "alertname=DiskAlmostFull".into() }
        );
        assert!(m.body.thread.is_some());
    }

    #[test]
    fn a_chinese_notification_names_the_same_alerts_in_chinese() {
        let now = parse_time("2026-12-04T18:12:30Z").unwrap();
        let mail = group().mail(&templates::default(Kind::AlertGroup, Lang::ZhCn), Lang::ZhCn, Source::Alertmanager, now, 4 * 3600);
        assert_eq!(mail.subject, "[告警:2] DiskAlmostFull (db-1 critical)");
        assert!(mail.text.contains("告警：DiskAlmostFull (db-1 critical)（2 条告警，来自 Alertmanager）"), "{}", mail.text);
        assert!(mail.text.contains("1. 告警：DiskAlmostFull"), "{}", mail.text);
        assert!(mail.text.contains("开始于 2026-12-04 18:00 UTC（本邮件发出前 12 分钟）"), "{}", mail.text);
        assert!(mail.text.contains("来源：http://prometheus:9090/graph?g0.expr=x&a=1"), "{}", mail.text);
        assert!(mail.text.contains("每隔 4 小时会再次发送"), "{}", mail.text);
        assert!(mail.thread.is_some());
    }

    #[test]
    fn a_thousand_alerts_with_their_labels_fit_the_templates_bounds() {
        let mut g = group();
        g.alerts = (0..MAX_ALERTS)
            .map(|i| GroupAlert {
                firing: true,
                labels: (0..10).map(|l| (format!("label{l}"), format!("value {i} {l} {}", "x".repeat(40)))).collect(),
                summary: Some(format!("Summary of alert {i}")),
                description: Some("A description\nof two lines".into()),
                starts_at: Some(0),
                links: vec![("Source", format!("https://prometheus.example.com/graph?g0.expr=alert{i}"))],
                fingerprint: i.to_string(),
                ..GroupAlert::default()
            })
            .collect();
        for lang in Lang::ALL {
            let mail = g.mail(&templates::default(Kind::AlertGroup, lang), lang, Source::Alertmanager, 3600, 60);
            assert!(mail.text.contains("1000. ") && mail.text.contains("value 999 9"), "{lang:?}: the default gave way: {}", &mail.text[..200]);
            assert!(mail.html.unwrap().contains("value 999 9"));
        }
    }
}
