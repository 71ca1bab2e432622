//! `POST /api/v1/webhooks/zabbix`: a Zabbix problem or its recovery, as the media type shipped
//! in `integrations/zabbix/` posts it (Zabbix has no webhook body of its own: its media types
//! are scripts, and this one sends the event's macros as [`Event`]). A macro Zabbix could not
//! resolve arrives as its own name (`{EVENT.RECOVERY.ID}`) and is taken as absent.

use super::{deliver, Webhook, WebhookAnswer};
use crate::api::{
    error::{ApiError, WebhookRefusals},
    extract::json_object,
};
use crate::AppState;
use app::outbox::Source;
use axum::{
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode},
    Json,
};
use engine::notify::group::{Group, GroupAlert};
use serde::Deserialize;
use utoipa::ToSchema;

/// A Zabbix event, from the media type's script.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[schema(as = ZabbixEvent)]
pub struct Event {
    /// `{EVENT.ID}`: the problem's id, the same in its recovery (the thread and storm key).
    #[schema(schema_with = crate::api::rules::schema_alert_key)]
    pub event_id: String,
    /// `{EVENT.VALUE}`: "1" for a problem, "0" for its recovery.
    pub event_value: EventValue,
    /// `{EVENT.SEVERITY}`.
    #[serde(default)]
    pub severity: Option<String>,
    /// `{HOST.NAME}`.
    #[serde(default)]
    pub host: Option<String>,
    /// `{TRIGGER.NAME}`.
    #[serde(default)]
    pub trigger: Option<String>,
    /// `{ALERT.SUBJECT}` and `{ALERT.MESSAGE}`: the action's texts.
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    /// `{EVENT.DATE} {EVENT.TIME}`, in the Zabbix server's time zone.
    #[serde(default)]
    pub event_time: Option<String>,
    /// A link to the event in Zabbix's front end.
    #[serde(default)]
    pub event_url: Option<String>,
    /// `{EVENT.TAGS}`.
    #[serde(default)]
    pub tags: Option<String>,
}

/// `{EVENT.VALUE}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[schema(as = ZabbixEventValue)]
pub enum EventValue {
    /// A recovery.
    #[serde(rename = "0")]
    Recovery,
    /// A problem.
    #[serde(rename = "1")]
    Problem,
}

/// A macro's value: absent when empty or left unresolved (`{MACRO.NAME}`).
fn value(v: Option<String>) -> Option<String> {
    super::given(v).filter(|v| !(v.starts_with('{') && v.ends_with('}') && !v.contains(' ')))
}

impl Event {
    pub fn group(self) -> Result<Group, ApiError> {
        let firing = self.event_value == EventValue::Problem;
        let mut check = crate::api::rules::Check::default();
        check.line("event_id", &self.event_id, crate::api::rules::MAX_KEY_CHARS);
        check.done(()).map_err(ApiError::invalid)?;
        let event_id = self.event_id.trim().to_string();
        let trigger = value(self.trigger);
        let host = value(self.host);
        let mut labels = Vec::new();
        for (name, v) in [("alertname", &trigger), ("host", &host), ("severity", &value(self.severity))] {
            if let Some(v) = v {
                labels.push((name.to_string(), v.clone()));
            }
        }
        if let Some(tags) = value(self.tags) {
            labels.push(("tags".to_string(), tags));
        }
        let summary = value(self.event_time).map(|t| format!("Event time: {t} (Zabbix server time)"));
        let alert = GroupAlert {
            firing,
            labels: labels.clone(),
            summary,
            description: value(self.message.clone()),
            links: value(self.event_url).map(|u| vec![("Event in Zabbix", u)]).unwrap_or_default(),
            fingerprint: event_id.clone(),
            ..GroupAlert::default()
        };
        Ok(Group {
            key: format!("event {event_id}"),
            firing,
            group_labels: trigger.iter().map(|t| ("alertname".to_string(), t.clone())).collect(),
            common_labels: host.iter().map(|h| ("host".to_string(), h.clone())).collect(),
            title: value(self.subject),
            message: None,
            alerts: vec![alert],
            left_out: 0,
            external: None,
        })
    }
}

/// Mail a Zabbix problem or recovery
///
/// Posted by the Mailroom media type (`integrations/zabbix/mailroom.yaml`): import it in Zabbix
/// (Alerts › Media types › Import), set its `mailroom_url` and `mailroom_token` parameters, and
/// give users a Mailroom media with their address as "Send to". A problem and its recovery are
/// one thread.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/zabbix",
    operation_id = "zabbixWebhook",
    params(super::Recipients),
    request_body(content = Event),
    responses(super::Delivered, WebhookRefusals),
    tag = "webhooks"
)]
pub async fn post(
    State(state): State<AppState>,
    hook: Webhook,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<WebhookAnswer>), ApiError> {
    let event: Event = json_object(&headers, body).await?;
    deliver(&state, hook, Source::Zabbix, event.group()?).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(value: &str) -> Result<Event, serde_json::Error> {
        serde_json::from_value(serde_json::json!({
            "event_id": "1042", "event_value": value, "severity": "High", "host": "db-1",
            "trigger": "Free disk space is less than 10% on /var", "subject": "Problem: Free disk space is less than 10% on /var",
            "message": "Problem started at 18:00:00 on 2026.12.04", "event_time": "2026.12.04 18:00:00",
            "event_url": "https://zabbix.example.com/tr_events.php?triggerid=7&eventid=1042", "tags": "{EVENT.TAGS}"
        }))
    }

    #[test]
    fn a_problem_fires_its_recovery_resolves_and_unresolved_macros_are_absent() {
        let problem = event("1").unwrap().group().unwrap();
        assert!(problem.firing);
        assert_eq!(problem.subject(), "[FIRING:1] Free disk space is less than 10% on /var (db-1)");
        assert!(!problem.alerts[0].labels.iter().any(|(k, _)| k == "tags"));
        let recovery = event("0").unwrap().group().unwrap();
        assert!(!recovery.firing);
        assert_eq!(recovery.key, problem.key);
        assert!(event("{EVENT.VALUE}").is_err(), "an unresolved value is refused");
        assert!(event(" 1").is_err());
        let blank = Event { event_id: " ".into(), ..event("1").unwrap() };
        assert!(blank.group().is_err());
    }
}
