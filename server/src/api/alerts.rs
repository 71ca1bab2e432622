//! `POST /api/v1/alerts`: an alert, firing or resolved, mailed to its recipients as storm
//! control allows (once when it fires, again after the repeat interval while it stays firing,
//! once when it resolves). The mail is the engine's ([`engine::notify`]).

use super::{
    error::{ApiError, CallerRefusals, FieldError, WriteRefusals},
    extract::{json_body, Caller},
    refuse_if_not_sending,
    rules::{self, Check},
    bounded,
};
use crate::AppState;
use app::delivery::storm::Decision;
use app::outbox::MessageId;
use app::store::AlertFate;
use axum::{
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode},
    Json,
};
use app::templates::Kind;
use engine::notify::{self, Alert};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An alert from a monitoring system.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertRequest {
    #[schema(schema_with = rules::schema_alert_key)]
    pub alert_key: String,
    #[schema(schema_with = rules::schema_title)]
    pub title: String,
    pub severity: Severity,
    pub state: AlertState,
    #[serde(default)]
    #[schema(schema_with = rules::schema_measure)]
    pub value: Option<Measure>,
    #[serde(default)]
    #[schema(schema_with = rules::schema_measure)]
    pub threshold: Option<Measure>,
    #[serde(default)]
    #[schema(schema_with = rules::schema_link)]
    pub link: Option<String>,
    #[serde(default)]
    #[schema(schema_with = rules::schema_description)]
    pub description: Option<String>,
    #[schema(schema_with = rules::schema_recipients)]
    pub recipients: Vec<String>,
    /// The mail's language; the server's default (`MAILROOM_MAIL_LANGUAGE`) when not given.
    #[serde(default)]
    pub language: Option<rules::Language>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    Firing,
    Resolved,
}

/// A measured value or threshold: a number, or a text such as "95 %".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Measure {
    Number(f64),
    Text(String),
}

impl std::fmt::Display for Measure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Measure::Number(n) => write!(f, "{n}"),
            Measure::Text(t) => f.write_str(t.trim()),
        }
    }
}

/// An alert request that passed every rule.
#[derive(Clone, Debug)]
pub struct ValidAlert {
    pub alert: Alert,
    pub recipients: Vec<String>,
    pub language: Option<rules::Language>,
}

impl AlertRequest {
    pub fn validate(self) -> Result<ValidAlert, Vec<FieldError>> {
        let mut check = Check::default();
        check.line("alert_key", &self.alert_key, rules::MAX_KEY_CHARS);
        check.line("title", &self.title, rules::MAX_SUBJECT_CHARS);
        for (field, m) in [("value", &self.value), ("threshold", &self.threshold)] {
            match m {
                Some(Measure::Text(t)) => check.line(field, t, rules::MAX_DETAIL_CHARS),
                Some(Measure::Number(n)) if !n.is_finite() => check.fail(field, "A finite number or a text."),
                _ => {}
            }
        }
        if let Some(link) = &self.link {
            check.link("link", link);
        }
        if let Some(d) = &self.description {
            check.most("description", d, rules::MAX_DETAIL_CHARS);
        }
        let recipients = check.recipients("recipients", &self.recipients);
        let alert = Alert {
            key: self.alert_key,
            title: self.title,
            severity: match self.severity {
                Severity::Critical => notify::Severity::Critical,
                Severity::Warning => notify::Severity::Warning,
                Severity::Info => notify::Severity::Info,
            },
            firing: self.state == AlertState::Firing,
            value: self.value.map(|m| m.to_string()),
            threshold: self.threshold.map(|m| m.to_string()),
            link: self.link,
            description: self.description,
        };
        check.done(ValidAlert {
            alert,
            recipients: recipients.into_iter().map(|a| a.as_str().to_string()).collect(),
            language: self.language,
        })
    }
}

/// What happened to an alert for one recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum AlertAction {
    /// Mailed: the outbox message's id.
    Queued {
        to: String,
        #[schema(value_type = u64)]
        id: MessageId,
    },
    /// Not mailed: storm control, until when it would be mailed again (RFC 3339), or why not.
    Suppressed {
        to: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(format = DateTime)]
        until: Option<String>,
        reason: String,
    },
}

/// The alert's fate for each recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AlertAnswer {
    pub alert_key: String,
    pub state: AlertState,
    pub results: Vec<AlertAction>,
}

/// Each recipient's fate as an answer says it (`waiting`, `not_firing`: why storm control held
/// a mail), and the answer's status: 202 when a mail was queued for someone, 200 when none.
pub fn actions(recipients: Vec<String>, fates: Vec<AlertFate>, waiting: &str, not_firing: &str) -> (StatusCode, Vec<AlertAction>) {
    let results: Vec<AlertAction> = recipients
        .into_iter()
        .zip(fates)
        .map(|(to, fate)| match fate {
            AlertFate::Queued(id) => AlertAction::Queued { to, id },
            AlertFate::Held(Decision::Wait { until }) => AlertAction::Suppressed {
                to,
                until: Some(app::clock::rfc3339(until)),
                reason: waiting.into(),
            },
            AlertFate::Held(_) => AlertAction::Suppressed { to, until: None, reason: not_firing.into() },
        })
        .collect();
    let queued = results.iter().any(|r| matches!(r, AlertAction::Queued { .. }));
    (if queued { StatusCode::ACCEPTED } else { StatusCode::OK }, results)
}

/// Notify recipients of an alert, with storm control
///
/// Mailroom writes the mail (HTML and plain text; subject `[FIRING] title` or `[RESOLVED]
/// title`; the value against the threshold; the link; what to do). While an alert stays
/// firing, the same `alert_key` mails each recipient at most once per repeat interval
/// (`MAILROOM_ALERT_REPEAT_MINUTES`, 4 hours by default), and once more when it resolves.
/// `results` says, per recipient, whether a mail was queued or suppressed and until when.
#[utoipa::path(
    post,
    path = "/api/v1/alerts",
    operation_id = "sendAlert",
    request_body(content = AlertRequest, example = json!({
        "alert_key": "disk:db-1:/var",
        "title": "Disk almost full on db-1",
        "severity": "critical",
        "state": "firing",
        "value": 93.5,
        "threshold": 90,
        "link": "https://grafana.example.com/d/disk",
        "recipients": ["ops@example.com"]
    })),
    responses(
        (status = 202, description = "Mailed to at least one recipient (`results` says which).", body = AlertAnswer),
        (status = 200, description = "Mailed to nobody: storm control held it for every recipient (`results` says until when).", body = AlertAnswer),
        CallerRefusals,
        WriteRefusals,
    ),
    tag = "alerts"
)]
pub async fn post_alert(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<AlertAnswer>), ApiError> {
    let request: AlertRequest = json_body(&headers, body).await?;
    let answer_state = request.state;
    let valid = request.validate().map_err(ApiError::invalid)?;
    refuse_if_not_sending(&state).await?;
    let repeat = state.api.settings.alert_repeat_secs;
    let lang = valid.language.map_or(state.server.mail_language, Into::into);
    let now = app::clock::now_unix();
    let fates = bounded(&state, async {
        let texts = app::store::templates::template(state.server.store.as_ref(), Kind::Alert, lang).await?;
        let batch = valid.alert.batch(&texts, lang, &valid.recipients, &caller.origin(), repeat);
        state.server.outbox.queue_alert(batch, now).await
    })
    .await?;
    let (status, results) = actions(
        valid.recipients,
        fates,
        "still firing; mailed again once the repeat interval has passed",
        "not firing: nothing to resolve for this recipient",
    );
    Ok((
        status,
        Json(AlertAnswer {
            alert_key: valid.alert.key,
            state: answer_state,
            results,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(link: &str, value: serde_json::Value) -> Result<ValidAlert, Vec<FieldError>> {
        serde_json::from_value::<AlertRequest>(serde_json::json!({
            "alert_key": "disk:db-1", "title": "Disk almost full", "severity": "critical",
            "state": "firing", "value": value, "link": link, "recipients": ["ops@example.com"]
        }))
        .unwrap()
        .validate()
    }

    #[test]
    fn alerts_need_a_web_link_and_one_line_values() {
        let ok = alert("https://grafana.example.com/d/1", serde_json::json!(93.5)).unwrap();
        assert_eq!(ok.alert.value.as_deref(), Some("93.5"));
        assert_eq!(
            alert("https://grafana.example.com/d/1", serde_json::json!("93 %"))
                .unwrap()
                .alert
                .value
                .as_deref(),
            Some("93 %")
        );
        let fields = |r: Result<ValidAlert, Vec<FieldError>>| {
            r.unwrap_err().into_iter().map(|e| e.field).collect::<Vec<_>>()
        };
        assert_eq!(
            fields(alert("javascript:alert(1)", serde_json::json!(1))),
            ["link"]
        );
        assert_eq!(
            fields(alert("https://x", serde_json::json!("9\r\nBcc: y"))),
            ["value"]
        );
    }
}
