//! The alert mail: a subject such as `[FIRING] Disk almost full`, and the same content as plain
//! text and as HTML (rendered by Leptos, which escapes every value).

use super::{AlertRequest, AlertState, Severity};
use crate::mailer::Mail;
use leptos::prelude::*;

/// "4 hours", "30 minutes", "1 hour 30 minutes".
fn interval(secs: u64) -> String {
    let (h, m) = (secs / 3600, secs % 3600 / 60);
    let unit = |n: u64, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    match (h, m) {
        (0, 0) => unit(secs, "second"),
        (0, m) => unit(m, "minute"),
        (h, 0) => unit(h, "hour"),
        (h, m) => format!("{} {}", unit(h, "hour"), unit(m, "minute")),
    }
}

pub fn alert_mail(a: &AlertRequest, repeat_secs: u64) -> Mail {
    let firing = a.state == AlertState::Firing;
    let state = if firing { "FIRING" } else { "RESOLVED" };
    let subject = format!("[{state}] {}", a.title.trim());
    let measured = match (&a.value, &a.threshold) {
        (Some(v), Some(t)) => Some(format!("Value: {v} (threshold: {t})")),
        (Some(v), None) => Some(format!("Value: {v}")),
        (None, Some(t)) => Some(format!("Threshold: {t}")),
        (None, None) => None,
    };
    let todo = match (&a.description, firing) {
        (Some(d), _) if !d.trim().is_empty() => d.trim().to_string(),
        (_, true) => match &a.link {
            Some(_) => "Open the link to see what is wrong, and act on it.".to_string(),
            None => "Look into the system named in the title, and act on it.".to_string(),
        },
        (_, false) => "Nothing: this alert is resolved.".to_string(),
    };
    let policy = if firing {
        format!(
            "While this alert stays firing you will get this mail again every {}, and once more when it resolves.",
            interval(repeat_secs)
        )
    } else {
        "This alert resolved; it will be mailed again if it fires again.".to_string()
    };
    let headline = format!("{state} ({}): {}", a.severity.name(), a.title.trim());

    let mut text = format!("{headline}\r\n\r\n");
    if let Some(m) = &measured {
        text.push_str(&format!("{m}\r\n"));
    }
    if let Some(link) = &a.link {
        text.push_str(&format!("Details: {link}\r\n"));
    }
    text.push_str(&format!(
        "\r\nWhat to do: {todo}\r\n\r\n{policy}\r\nAlert key: {}\r\n-- \r\nMailroom\r\n",
        a.alert_key
    ));

    let colour = match (firing, a.severity) {
        (false, _) => "#1a7f37",
        (true, Severity::Critical) => "#b42318",
        (true, Severity::Warning) => "#b54708",
        (true, Severity::Info) => "#175cd3",
    };
    let banner = format!("background:{colour};color:#ffffff;padding:12px 16px;font-size:18px;margin:0");
    let link = a.link.clone();
    let key = a.alert_key.clone();
    let html = view! {
        <div style="font-family:Arial,Helvetica,sans-serif;max-width:600px;border:1px solid #d0d5dd">
            <h1 style=banner>{headline}</h1>
            <div style="padding:16px;color:#101828;font-size:15px;line-height:1.5">
                {measured.map(|m| view! { <p style="font-size:17px;margin:0 0 12px"><strong>{m}</strong></p> })}
                {link.map(|href| view! { <p style="margin:0 0 12px"><a href=href.clone()>"Open the details"</a></p> })}
                <p style="margin:0 0 12px"><strong>"What to do: "</strong>{todo}</p>
                <p style="margin:0;color:#475467;font-size:13px">{policy}" Alert key: "{key}</p>
            </div>
        </div>
    }
    .to_html();
    Mail {
        subject,
        text,
        html: Some(html),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(json: serde_json::Value) -> AlertRequest {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_firing_alert_says_value_threshold_link_and_what_to_do() {
        let mail = alert_mail(
            &alert(serde_json::json!({
                "alert_key": "disk:db-1", "title": "Disk almost full on db-1", "severity": "critical",
                "state": "firing", "value": 93.5, "threshold": "90", "link": "https://grafana.example.com/d/1?a=1&b=2",
                "recipients": ["ops@example.com"]
            })),
            4 * 3600,
        );
        assert_eq!(mail.subject, "[FIRING] Disk almost full on db-1");
        assert!(mail.text.contains("Value: 93.5 (threshold: 90)"), "{}", mail.text);
        assert!(mail.text.contains("Details: https://grafana.example.com/d/1?a=1&b=2"));
        assert!(mail.text.contains("again every 4 hours"));
        let html = mail.html.unwrap();
        assert!(html.contains("href=\"https://grafana.example.com/d/1?a=1&amp;b=2\""), "{html}");
        assert!(html.contains("Value: 93.5 (threshold: 90)"));
    }

    #[test]
    fn values_are_escaped_in_the_html() {
        let mail = alert_mail(
            &alert(serde_json::json!({
                "alert_key": "k", "title": "<script>alert(1)</script>", "severity": "info",
                "state": "resolved", "description": "a < b & c", "recipients": ["ops@example.com"]
            })),
            3600,
        );
        assert_eq!(mail.subject, "[RESOLVED] <script>alert(1)</script>");
        let html = mail.html.unwrap();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;") && html.contains("a &lt; b &amp; c"), "{html}");
    }

    #[test]
    fn intervals_read_as_words() {
        assert_eq!(interval(4 * 3600), "4 hours");
        assert_eq!(interval(3600 + 1800), "1 hour 30 minutes");
        assert_eq!(interval(60), "1 minute");
        assert_eq!(interval(5), "5 seconds");
    }
}
