//! The system's own mails as templates: for each mail ([`Kind`]) and language ([`Lang`]) a
//! subject, a plain-text body and an optional HTML body, written in minijinja's syntax. The
//! defaults ship with the binary (`server/engine/templates/LANG/KIND.PART.txt`, files a
//! translator can edit); an admin's own replace them.
//!
//! Sandboxed: no loader (nothing read from disk or the network, no `include`), no function
//! but the builtin filters and tests, execution bounded by minijinja's fuel, each part's source
//! and output bounded, every value HTML-escaped in the HTML body, and the subject kept to one
//! line, so neither a template nor a value can add a header. A template is checked before it
//! is saved by rendering it with the mail's sample values under strict rules: a syntax error
//! or a variable the mail does not offer is reported with its line, never at send time.

pub mod words;

use crate::mailer::Mail;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use std::collections::BTreeMap;

/// A template part's source at most.
pub const MAX_SOURCE_BYTES: usize = 16 * 1024;
/// A rendered body at most: room for an alerting tool's largest notification (its body is at
/// most 640 KiB, its alerts at most [`crate::notify::group::MAX_ALERTS`]).
pub const MAX_OUTPUT_BYTES: usize = 4 * 1024 * 1024;
/// A rendered subject at most (characters, after it is put on one line).
pub const MAX_SUBJECT_CHARS: usize = 250;
/// The work one rendering may do (minijinja's fuel: about one unit per instruction): a
/// notification of a thousand alerts with their labels takes about a tenth of it.
const FUEL: u64 = 5_000_000;

/// A mail the system sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// "Test Email Server".
    TestMail,
    /// "Send a test through the queue" (Mail Activity).
    QueueTest,
    /// "Forgot password?".
    PasswordReset,
    /// An alert from the HTTP API (`POST /api/v1/alerts`), firing or resolved.
    Alert,
    /// A notification from an alerting tool's webhook (Alertmanager, Grafana, Uptime Kuma,
    /// Zabbix): a group of alerts, firing or resolved.
    AlertGroup,
}

/// A variable's sample: text, or a JSON value (a flag, a number, a list).
const fn text(name: &'static str, about: &'static str, sample: &'static str) -> Variable {
    Variable { name, about, sample, sample_zh: None }
}

/// A variable whose sample is in the mail's language.
const fn worded(name: &'static str, about: &'static str, sample: &'static str, sample_zh: &'static str) -> Variable {
    Variable { name, about, sample, sample_zh: Some(sample_zh) }
}

impl Kind {
    pub const ALL: [Kind; 5] = [Kind::TestMail, Kind::QueueTest, Kind::PasswordReset, Kind::Alert, Kind::AlertGroup];

    /// Its name in files and addresses.
    pub fn id(self) -> &'static str {
        match self {
            Kind::TestMail => "test_mail",
            Kind::QueueTest => "queue_test",
            Kind::PasswordReset => "password_reset",
            Kind::Alert => "alert",
            Kind::AlertGroup => "alert_group",
        }
    }

    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.id() == id)
    }

    /// The values this mail offers its template, with a sample of each (the preview's and the
    /// check's).
    pub fn variables(self) -> &'static [Variable] {
        const SERVER: [Variable; 4] = [
            text("host", "var-host", "smtp.example.com"),
            text("port", "var-port", "587"),
            text("encryption", "var-encryption", "starttls"),
            text("account", "var-account", "alerts@example.com"),
        ];
        const RESET: [Variable; 3] = [
            text("email", "var-email", "admin@example.com"),
            text("link", "var-reset-link", "https://mailroom.example.com/reset?token=SAMPLE"),
            text("valid_minutes", "var-valid-minutes", "30"),
        ];
        const ALERT: [Variable; 9] = [
            text("firing", "var-firing", "true"),
            text("title", "var-title", "Disk almost full on db-1"),
            text("severity", "var-severity", "critical"),
            text("value", "var-value", "93.5"),
            text("threshold", "var-threshold", "90"),
            text("link", "var-link", "https://grafana.example.com/d/disk?var-host=db-1"),
            text("description", "var-description", "Clean up /var/log on db-1."),
            worded("repeat", "var-repeat", "4 hours", "4 小时"),
            text("key", "var-key", "disk:db-1"),
        ];
        const GROUP: [Variable; 10] = [
            text("firing", "var-group-firing", "true"),
            text("title", "var-group-title", "DiskAlmostFull (critical)"),
            text("source", "var-source", "Alertmanager"),
            text("firing_count", "var-firing-count", "2"),
            text("resolved_count", "var-resolved-count", "0"),
            text("message", "var-message", ""),
            worded(
                "alerts",
                "var-alerts",
                r#"[{"firing": true, "name": "DiskAlmostFull", "summary": "Disk almost full on db-1", "description": "93 % used.\nClean up /var.", "started": "2026-12-04 18:00 UTC (12 minutes before this mail)", "ended": "", "values": "", "labels": [{"name": "alertname", "value": "DiskAlmostFull"}, {"name": "instance", "value": "db-1"}], "links": [{"label": "Source", "url": "http://prometheus.example.com:9090/graph?g0.expr=disk"}]}, {"firing": true, "name": "DiskAlmostFull", "summary": "Disk almost full on db-2", "description": "", "started": "2026-12-04 18:05 UTC (7 minutes before this mail)", "ended": "", "values": "", "labels": [{"name": "alertname", "value": "DiskAlmostFull"}, {"name": "instance", "value": "db-2"}], "links": []}]"#,
                r#"[{"firing": true, "name": "DiskAlmostFull", "summary": "db-1 磁盘将满", "description": "已用 93 %。\n请清理 /var。", "started": "2026-12-04 18:00 UTC（本邮件发出前 12 分钟）", "ended": "", "values": "", "labels": [{"name": "alertname", "value": "DiskAlmostFull"}, {"name": "instance", "value": "db-1"}], "links": [{"label": "来源", "url": "http://prometheus.example.com:9090/graph?g0.expr=disk"}]}, {"firing": true, "name": "DiskAlmostFull", "summary": "db-2 磁盘将满", "description": "", "started": "2026-12-04 18:05 UTC（本邮件发出前 7 分钟）", "ended": "", "values": "", "labels": [{"name": "alertname", "value": "DiskAlmostFull"}, {"name": "instance", "value": "db-2"}], "links": []}]"#,
            ),
            text("left_out", "var-left-out", "0"),
            text("external", "var-external", "http://alertmanager.example.com:9093"),
            worded("repeat", "var-group-repeat", "4 hours", "4 小时"),
        ];
        match self {
            Kind::TestMail | Kind::QueueTest => &SERVER,
            Kind::PasswordReset => &RESET,
            Kind::Alert => &ALERT,
            Kind::AlertGroup => &GROUP,
        }
    }

    /// The sample values in `lang`, as the preview shows them.
    pub fn sample(self, lang: Lang) -> Values {
        self.variables().iter().fold(Values::new(), |values, v| values.set_sample(v.name, v.sample_in(lang)))
    }
}

/// A value a mail offers its template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Variable {
    pub name: &'static str,
    /// What it is: the id of its words in the catalogues ([`crate::i18n`]).
    pub about: &'static str,
    /// Text, or JSON for a flag, a number or a list.
    pub sample: &'static str,
    /// The sample in Chinese, where it is words.
    pub sample_zh: Option<&'static str>,
}

impl Variable {
    pub fn sample_in(&self, lang: Lang) -> &'static str {
        match (lang, self.sample_zh) {
            (Lang::ZhCn, Some(zh)) => zh,
            _ => self.sample,
        }
    }
}

/// The languages mails are written in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    #[default]
    En,
    ZhCn,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::ZhCn];

    /// Its BCP 47 tag (HTML's `lang`, the catalogue's directory).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Self> {
        let tag = tag.trim().to_ascii_lowercase();
        match tag.as_str() {
            "en" => Some(Lang::En),
            "zh-cn" | "zh-hans" | "zh-hans-cn" | "zh" => Some(Lang::ZhCn),
            _ if tag.starts_with("en-") => Some(Lang::En),
            _ => None,
        }
    }
}

/// A mail's template: the source of each part.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Texts {
    pub subject: String,
    pub text: String,
    #[serde(default)]
    pub html: Option<String>,
}

/// The part of a template a problem is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Subject,
    Text,
    Html,
}

impl Part {
    /// Its name in the catalogues ([`crate::i18n`]).
    fn words_id(self) -> &'static str {
        match self {
            Part::Subject => "templates-subject",
            Part::Text => "templates-text",
            Part::Html => "templates-html",
        }
    }

    /// The name the engine knows it by: the HTML body's ends in `.html` (escaped output).
    fn name(self) -> &'static str {
        match self {
            Part::Subject => "subject.txt",
            Part::Text => "text.txt",
            Part::Html => "body.html",
        }
    }
}

/// What is wrong with a template: where (part and line, when known) and what to fix; said in
/// an admin's language by [`Problem::said`] (its `Display` is English, for logs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub part: Part,
    pub line: Option<usize>,
    pub trouble: Trouble,
}

/// What kind of problem, with minijinja's own detail where it gave one (English).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trouble {
    SubjectLines,
    SubjectEmpty,
    TextEmpty,
    TooLong,
    Syntax(Option<String>),
    UnknownVariable(Option<String>),
    TooMuchWork,
    TooLarge,
    NoInclude,
    NotAvailable(Option<String>),
    NotText,
    Other(String, Option<String>),
}

impl Problem {
    /// The problem in `lang`: "Plain-text body, line 2: Syntax error (…)".
    pub fn said(&self, lang: Lang) -> String {
        use crate::i18n::message;
        let detail = |d: &Option<String>| match (d, lang) {
            (None, _) => String::new(),
            (Some(d), Lang::En) => format!(" ({d})"),
            (Some(d), Lang::ZhCn) => format!("（{d}）"),
        };
        let kb = |n: usize| (n / 1024).to_string();
        let what = match &self.trouble {
            Trouble::SubjectLines => message(lang, "problem-subject-lines", &[]),
            Trouble::SubjectEmpty => message(lang, "problem-subject-empty", &[]),
            Trouble::TextEmpty => message(lang, "problem-text-empty", &[]),
            Trouble::TooLong => message(lang, "problem-too-long", &[("kb", kb(MAX_SOURCE_BYTES).into())]),
            Trouble::Syntax(d) => message(lang, "problem-syntax", &[("detail", detail(d).into())]),
            Trouble::UnknownVariable(d) => message(lang, "problem-unknown", &[("detail", detail(d).into())]),
            Trouble::TooMuchWork => message(lang, "problem-work", &[]),
            Trouble::TooLarge => message(lang, "problem-large", &[("kb", kb(MAX_OUTPUT_BYTES).into())]),
            Trouble::NoInclude => message(lang, "problem-include", &[]),
            Trouble::NotAvailable(d) => message(lang, "problem-unavailable", &[("detail", detail(d).into())]),
            Trouble::NotText => message(lang, "problem-not-text", &[]),
            Trouble::Other(kind, d) => format!("{kind}{}", detail(d)),
        };
        let part = crate::i18n::text(lang, self.part.words_id());
        match self.line {
            Some(line) => message(lang, "problem-at-line", &[("part", part.into()), ("line", line.into()), ("problem", what.into())]),
            None => message(lang, "problem-in", &[("part", part.into()), ("problem", what.into())]),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.said(Lang::En))
    }
}

/// The values one mail is rendered with: texts, flags, numbers, lists.
#[derive(Clone, Debug, Default)]
pub struct Values(BTreeMap<&'static str, minijinja::Value>);

impl Values {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.0.insert(name, minijinja::Value::from(value.into()));
        self
    }

    /// Any value serde writes (a flag, a number, a list of records).
    pub fn set_value(mut self, name: &'static str, value: impl serde::Serialize) -> Self {
        self.0.insert(name, minijinja::Value::from(minijinja::value::Serde(value)));
        self
    }

    /// A sample: JSON when it reads as a flag, a number or a list, else the text itself.
    fn set_sample(self, name: &'static str, sample: &str) -> Self {
        match serde_json::from_str::<serde_json::Value>(sample) {
            Ok(json) if !json.is_string() => self.set_value(name, json),
            _ => self.set(name, sample),
        }
    }
}

/// The template that ships with the binary.
pub fn default(kind: Kind, lang: Lang) -> Texts {
    macro_rules! files {
        ($($lang:literal => $l:path, $kind:literal => $k:path $(, $html:ident)?;)*) => {
            match (kind, lang) {
                $(($k, $l) => Texts {
                    subject: include_str!(concat!("../../templates/", $lang, "/", $kind, ".subject.txt")).trim().to_string(),
                    text: include_str!(concat!("../../templates/", $lang, "/", $kind, ".text.txt")).to_string(),
                    html: files!(@html $lang, $kind $(, $html)?),
                },)*
            }
        };
        (@html $lang:literal, $kind:literal) => { None };
        (@html $lang:literal, $kind:literal, html) => {
            Some(include_str!(concat!("../../templates/", $lang, "/", $kind, ".html")).to_string())
        };
    }
    files! {
        "en" => Lang::En, "test_mail" => Kind::TestMail;
        "en" => Lang::En, "queue_test" => Kind::QueueTest;
        "en" => Lang::En, "password_reset" => Kind::PasswordReset;
        "en" => Lang::En, "alert" => Kind::Alert, html;
        "en" => Lang::En, "alert_group" => Kind::AlertGroup, html;
        "zh-CN" => Lang::ZhCn, "test_mail" => Kind::TestMail;
        "zh-CN" => Lang::ZhCn, "queue_test" => Kind::QueueTest;
        "zh-CN" => Lang::ZhCn, "password_reset" => Kind::PasswordReset;
        "zh-CN" => Lang::ZhCn, "alert" => Kind::Alert, html;
        "zh-CN" => Lang::ZhCn, "alert_group" => Kind::AlertGroup, html;
    }
}

/// Every problem of `texts` as a template of `kind`: a part too long, a subject on more than
/// one line, a syntax error, a variable the mail does not offer, a rendering that does too
/// much or says too much. Empty: it can be saved.
pub fn check(kind: Kind, lang: Lang, texts: &Texts) -> Vec<Problem> {
    let mut problems = Vec::new();
    if texts.subject.contains(['\r', '\n']) {
        problems.push(Problem { part: Part::Subject, line: None, trouble: Trouble::SubjectLines });
    }
    if texts.subject.trim().is_empty() {
        problems.push(Problem { part: Part::Subject, line: None, trouble: Trouble::SubjectEmpty });
    }
    if texts.text.trim().is_empty() {
        problems.push(Problem { part: Part::Text, line: None, trouble: Trouble::TextEmpty });
    }
    let sample = kind.sample(lang);
    for (part, source) in parts(texts) {
        if let Err(problem) = render_part(part, source, &sample, true) {
            problems.push(problem);
        }
    }
    problems
}

/// The mail `texts` make with `values`. Rendered with the same rules as [`check`], except
/// that a value the template does not use, or one it uses and the mail lacks, is empty rather
/// than an error (a template saved today keeps working when a mail offers more values).
pub fn render(texts: &Texts, values: &Values) -> Result<Mail, Problem> {
    let subject = render_part(Part::Subject, &texts.subject, values, false)?;
    let text = render_part(Part::Text, &texts.text, values, false)?;
    let html = texts.html.as_deref().map(|h| render_part(Part::Html, h, values, false)).transpose()?;
    Ok(Mail {
        subject: one_line(&subject),
        text: crlf(&text),
        html: html.map(|h| crlf(&h)),
        thread: None,
        raw: None,
    })
}

/// The mail of `kind` in `lang` from `texts` (the template in force) with `values`; should it
/// fail (a template passed its check with the samples, but real values can be larger), the
/// default template's mail, and should that fail too, a mail that says what failed: the mail
/// always goes out.
pub fn render_or_default(kind: Kind, lang: Lang, texts: &Texts, values: &Values) -> Mail {
    render(texts, values)
        .or_else(|problem| {
            tracing::error!(%problem, kind = kind.id(), lang = lang.tag(), "a mail template failed; the default is used");
            render(&default(kind, lang), values)
        })
        .unwrap_or_else(|problem| {
            tracing::error!(%problem, kind = kind.id(), lang = lang.tag(), "the default mail template failed");
            Mail { subject: "Mailroom".into(), text: format!("{problem}\r\n"), html: None, thread: None, raw: None }
        })
}

fn parts(texts: &Texts) -> impl Iterator<Item = (Part, &str)> {
    [(Part::Subject, Some(texts.subject.as_str())), (Part::Text, Some(texts.text.as_str())), (Part::Html, texts.html.as_deref())]
        .into_iter()
        .filter_map(|(part, source)| source.map(|s| (part, s)))
}

/// One part rendered in a fresh, bounded environment. `strict`: an unknown variable is an error.
fn render_part(part: Part, source: &str, values: &Values, strict: bool) -> Result<String, Problem> {
    let problem = |line: Option<usize>, trouble: Trouble| Problem { part, line, trouble };
    if source.len() > MAX_SOURCE_BYTES {
        return Err(problem(None, Trouble::TooLong));
    }
    let mut env = Environment::new();
    env.set_fuel(Some(FUEL));
    env.set_recursion_limit(32);
    env.set_undefined_behavior(if strict { UndefinedBehavior::Strict } else { UndefinedBehavior::Chainable });
    env.set_auto_escape_callback(|name| if name.ends_with(".html") { AutoEscape::Html } else { AutoEscape::None });
    // HTML escaping by html-escape, which leaves `/` as it is (minijinja's own writes
    // `&#x2f;`, so every link in a mail's source would read `https:&#x2f;&#x2f;…`).
    env.set_formatter(|out, state, value| match (state.auto_escape(), value.as_str()) {
        (AutoEscape::Html, Some(s)) if !value.is_safe() => out
            .write_str(&html_escape::encode_quoted_attribute(s))
            .map_err(|_| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "too large")),
        _ => minijinja::escape_formatter(out, state, value),
    });
    let template = env
        .template_from_named_str(part.name(), source)
        .map_err(|e| problem(e.line(), explain(&e)))?;
    let mut out = Bounded(Vec::new());
    template
        .render_captured_to(minijinja::Value::from_object(values.0.clone()), &mut out)
        .map_err(|e| problem(e.line(), explain(&e)))?;
    String::from_utf8(out.0).map_err(|_| problem(None, Trouble::NotText))
}

/// minijinja's error as the trouble an admin acts on.
fn explain(e: &minijinja::Error) -> Trouble {
    use minijinja::ErrorKind as K;
    let detail = e.detail().map(str::to_string);
    match e.kind() {
        K::SyntaxError => Trouble::Syntax(detail),
        K::UndefinedError => Trouble::UnknownVariable(detail),
        K::OutOfFuel => Trouble::TooMuchWork,
        K::InvalidOperation if e.to_string().contains("too large") => Trouble::TooLarge,
        K::WriteFailure => Trouble::TooLarge,
        K::BadInclude | K::TemplateNotFound => Trouble::NoInclude,
        K::UnknownFunction | K::UnknownFilter | K::UnknownTest | K::UnknownMethod => Trouble::NotAvailable(detail),
        kind => Trouble::Other(kind.to_string(), detail),
    }
}

/// A writer that refuses past [`MAX_OUTPUT_BYTES`], so no rendering holds more.
struct Bounded(Vec<u8>);

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_OUTPUT_BYTES {
            return Err(std::io::Error::other("too large"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A subject on one line: every run of whitespace (line breaks included) one space, cut at
/// [`MAX_SUBJECT_CHARS`].
fn one_line(s: &str) -> String {
    let joined = s.split_whitespace().collect::<Vec<_>>().join(" ");
    joined.chars().take(MAX_SUBJECT_CHARS).collect()
}

/// Line ends as mail has them (a lone CR, too, becomes a line end).
fn crlf(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n").replace('\n', "\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_passes_its_own_check_in_every_language() {
        for kind in Kind::ALL {
            for lang in Lang::ALL {
                let problems = check(kind, lang, &default(kind, lang));
                assert!(problems.is_empty(), "{kind:?} {lang:?}: {problems:?}");
            }
        }
    }

    #[test]
    fn the_defaults_render_the_values_and_use_every_one() {
        for kind in Kind::ALL {
            for lang in Lang::ALL {
                let sample = kind.sample(lang);
                let mail = render(&default(kind, lang), &sample).unwrap();
                for v in kind.variables() {
                    // Flags and lists choose words; the others appear as given.
                    let shown = v.sample_in(lang);
                    let chooses = matches!(
                        serde_json::from_str(shown),
                        Ok(serde_json::Value::Bool(_) | serde_json::Value::Array(_))
                    );
                    if !chooses && v.name != "encryption" && !matches!((kind, v.name), (Kind::AlertGroup, "resolved_count" | "left_out") | (Kind::Alert, "severity")) {
                        assert!(mail.text.contains(shown), "{kind:?} {lang:?} lacks {}: {}", v.name, mail.text);
                    }
                }
                assert!(!mail.subject.is_empty() && !mail.subject.contains('\n'));
                assert!(mail.text.contains("\r\n") && !mail.text.replace("\r\n", "").contains('\n'));
            }
        }
    }

    #[test]
    fn a_syntax_error_or_an_unknown_variable_is_reported_at_its_line() {
        let texts = Texts { subject: "Hello".into(), text: "one\ntwo {{ host | }}\nthree".into(), html: None };
        let problems = check(Kind::TestMail, Lang::En, &texts);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!((problems[0].part, problems[0].line), (Part::Text, Some(2)), "{problems:?}");
        assert!(problems[0].to_string().starts_with("Plain-text body, line 2: Syntax error"), "{problems:?}");
        assert!(problems[0].said(Lang::ZhCn).starts_with("纯文本正文第 2 行：语法错误"), "{}", problems[0].said(Lang::ZhCn));

        let texts = Texts { subject: "Hello".into(), text: "one\ntwo\n{{ passwd }}".into(), html: None };
        let problems = check(Kind::TestMail, Lang::En, &texts);
        assert_eq!((problems[0].part, problems[0].line), (Part::Text, Some(3)), "{problems:?}");
        assert!(matches!(problems[0].trouble, Trouble::UnknownVariable(_)), "{problems:?}");
        assert!(problems[0].to_string().contains("Unknown variable"), "{problems:?}");
    }

    #[test]
    fn a_subject_cannot_add_a_header_and_values_cannot_either() {
        let texts = Texts { subject: "Hi\r\nBcc: victim@example.com".into(), text: "x".into(), html: None };
        assert!(check(Kind::TestMail, Lang::En, &texts).iter().any(|p| p.part == Part::Subject && p.trouble == Trouble::SubjectLines));
        // A value with a line break lands in the subject as one line.
        let texts = Texts { subject: "About {{ host }}".into(), text: "x".into(), html: None };
        let values = Values::new().set("host", "a\r\nBcc: victim@example.com");
        let mail = render(&texts, &values).unwrap();
        assert_eq!(mail.subject, "About a Bcc: victim@example.com");
    }

    #[test]
    fn the_html_body_escapes_every_value_and_the_text_keeps_it() {
        let texts = Texts {
            subject: "s".into(),
            text: "{{ host }}".into(),
            html: Some("<p>{{ host }}</p><a href=\"{{ host }}\">x</a>".into()),
        };
        let values = Values::new().set("host", "<script>alert(1)</script>\"");
        let mail = render(&texts, &values).unwrap();
        let html = mail.html.unwrap();
        assert!(!html.contains("<script>") && html.contains("&lt;script&gt;") && !html.contains("\"\""), "{html}");
        assert_eq!(mail.text, "<script>alert(1)</script>\"");
    }

    #[test]
    fn work_output_and_source_are_bounded_and_nothing_is_read_from_disk() {
        let loop_forever = Texts { subject: "s".into(), text: "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}".into(), html: None };
        let problems = check(Kind::TestMail, Lang::En, &loop_forever);
        assert!(problems.iter().any(|p| matches!(p.trouble, Trouble::TooMuchWork | Trouble::TooLarge)), "{problems:?}");

        let huge = Texts { subject: "s".into(), text: "{% for i in range(15000) %}{{ host }}{{ host }}{{ host }}{% endfor %}".into(), html: None };
        let values = Values::new().set("host", "y".repeat(100));
        let err = render(&huge, &values).unwrap_err();
        assert_eq!(err.trouble, Trouble::TooLarge, "{err:?}");
        assert!(err.to_string().contains("larger than 4096 KB"), "{err}");

        let long = Texts { subject: "s".into(), text: "x".repeat(MAX_SOURCE_BYTES + 1), html: None };
        assert!(check(Kind::TestMail, Lang::En, &long).iter().any(|p| p.trouble == Trouble::TooLong));

        let include = Texts { subject: "s".into(), text: "{% include \"/etc/passwd\" %}".into(), html: None };
        let problems = check(Kind::TestMail, Lang::En, &include);
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[test]
    fn every_variable_is_explained_in_both_languages() {
        for kind in Kind::ALL {
            for v in kind.variables() {
                for lang in Lang::ALL {
                    let words = crate::i18n::text(lang, v.about);
                    assert_ne!(words, v.about, "{kind:?} {}: no words for {} in {lang:?}", v.name, v.about);
                }
            }
        }
    }

    #[test]
    fn languages_are_chosen_by_tag() {
        assert_eq!(Lang::from_tag("zh-CN"), Some(Lang::ZhCn));
        assert_eq!(Lang::from_tag("zh-Hans"), Some(Lang::ZhCn));
        assert_eq!(Lang::from_tag("en-GB"), Some(Lang::En));
        assert_eq!(Lang::from_tag("fr"), None);
    }
}
