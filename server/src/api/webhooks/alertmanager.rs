//! `POST /api/v1/webhooks/alertmanager`: Prometheus Alertmanager's webhook (`version` "4").
//! Grafana's contact-point webhook has the same shape with a few fields more (`orgId`,
//! `title`, `state`, `message`, per alert `values`, `dashboardURL`, `panelURL`,
//! `silenceURL`): [`Notification`] reads both, and unknown fields are passed over, so a newer
//! sender's additions do not refuse its alerts.

use super::{count, deliver, given, nullable, objects, whole, Webhook, WebhookAnswer};
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
use engine::notify::group::{parse_time, Group, GroupAlert};
use serde::Deserialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A notification of a group of alerts.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[schema(as = AlertmanagerNotification)]
pub struct Notification {
    /// "4" from Alertmanager, "1" from Grafana.
    #[serde(default)]
    pub version: Option<String>,
    /// Identifies the group (storm control's key and the mail thread's).
    #[serde(default, rename = "groupKey")]
    pub group_key: Option<String>,
    /// Alerts the sender left out (its `max_alerts`).
    #[serde(default, rename = "truncatedAlerts", deserialize_with = "count")]
    #[schema(minimum = 0)]
    pub truncated_alerts: Option<i64>,
    pub status: Status,
    #[serde(default)]
    pub receiver: Option<String>,
    #[serde(default, rename = "groupLabels", deserialize_with = "nullable")]
    #[schema(nullable)]
    pub group_labels: BTreeMap<String, String>,
    #[serde(default, rename = "commonLabels", deserialize_with = "nullable")]
    #[schema(nullable)]
    pub common_labels: BTreeMap<String, String>,
    #[serde(default, rename = "commonAnnotations", deserialize_with = "nullable")]
    #[schema(nullable)]
    pub common_annotations: BTreeMap<String, String>,
    #[serde(default, rename = "externalURL")]
    pub external_url: Option<String>,
    #[serde(deserialize_with = "objects")]
    #[schema(nullable)]
    pub alerts: Vec<Alert>,
    /// Grafana: the organisation.
    #[serde(default, rename = "orgId", deserialize_with = "whole")]
    pub org_id: Option<i64>,
    /// Grafana: its own rendering of the title and message.
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// `firing` or `resolved`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = AlertmanagerStatus)]
pub enum Status {
    Firing,
    Resolved,
}

/// One alert of a notification.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[schema(as = AlertmanagerAlert)]
pub struct Alert {
    pub status: Status,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(nullable)]
    pub labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(nullable)]
    pub annotations: BTreeMap<String, String>,
    /// RFC 3339.
    #[serde(default, rename = "startsAt")]
    pub starts_at: Option<String>,
    /// RFC 3339; `0001-01-01T00:00:00Z` while firing.
    #[serde(default, rename = "endsAt")]
    pub ends_at: Option<String>,
    #[serde(default, rename = "generatorURL")]
    pub generator_url: Option<String>,
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// Grafana: the measured values by name.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Object>)]
    pub values: BTreeMap<String, serde_json::Value>,
    #[serde(default, rename = "dashboardURL")]
    pub dashboard_url: Option<String>,
    #[serde(default, rename = "panelURL")]
    pub panel_url: Option<String>,
    #[serde(default, rename = "silenceURL")]
    pub silence_url: Option<String>,
}

impl Notification {
    /// The group it notifies of, in the engine's terms.
    pub fn group(self) -> Group {
        let pairs = |m: BTreeMap<String, String>| m.into_iter().collect::<Vec<_>>();
        let key = given(self.group_key).unwrap_or_else(|| {
            let labels: Vec<String> = self.group_labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
            format!("{{{}}}", labels.join(","))
        });
        let key = match self.org_id {
            Some(org) => format!("org {org}: {key}"),
            None => key,
        };
        let common_annotations = self.common_annotations;
        let alerts: Vec<GroupAlert> = self
            .alerts
            .into_iter()
            .map(|a| {
                let annotation = |name: &str| {
                    given(a.annotations.get(name).cloned()).or_else(|| given(common_annotations.get(name).cloned()))
                };
                let mut links = Vec::new();
                for (label, url) in [
                    ("Source", a.generator_url),
                    ("Dashboard", a.dashboard_url),
                    ("Panel", a.panel_url),
                    ("Silence", a.silence_url),
                    ("Runbook", annotation("runbook_url")),
                ] {
                    if let Some(url) = given(url) {
                        links.push((label, url));
                    }
                }
                GroupAlert {
                    firing: a.status == Status::Firing,
                    summary: annotation("summary"),
                    description: annotation("description"),
                    starts_at: a.starts_at.as_deref().and_then(parse_time),
                    ends_at: a.ends_at.as_deref().and_then(parse_time),
                    values: a
                        .values
                        .into_iter()
                        .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_string)))
                        .collect(),
                    links,
                    fingerprint: a.fingerprint.unwrap_or_default(),
                    labels: pairs(a.labels),
                }
            })
            .collect();
        Group {
            key,
            firing: self.status == Status::Firing,
            group_labels: pairs(self.group_labels),
            common_labels: pairs(self.common_labels),
            title: given(self.title),
            message: given(self.message),
            alerts,
            left_out: self.truncated_alerts.unwrap_or(0) as usize,
            external: given(self.external_url),
        }
    }
}

/// Mail a Prometheus Alertmanager notification
///
/// Point an Alertmanager receiver's `webhook_configs` here, with the recipients in the URL and
/// an API token as `http_config.authorization` (or as `basic_auth`'s password). One mail per
/// notification and recipient: subject `[FIRING:2] DiskAlmostFull (db-1)` or `[RESOLVED] …`,
/// each alert with its labels, summary, description, times and links; a group's mails form one
/// thread. The same alerts in the same states again within the repeat interval are suppressed;
/// a change of the group, and its resolution, are mailed at once.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/alertmanager",
    operation_id = "alertmanagerWebhook",
    params(super::Recipients),
    request_body(content = Notification, example = json!({
        "version": "4", "groupKey": "{}:{alertname=\"DiskAlmostFull\"}", "truncatedAlerts": 0,
        "status": "firing", "receiver": "mailroom",
        "groupLabels": {"alertname": "DiskAlmostFull"},
        "commonLabels": {"alertname": "DiskAlmostFull", "instance": "db-1"},
        "commonAnnotations": {}, "externalURL": "http://alertmanager:9093",
        "alerts": [{"status": "firing", "labels": {"alertname": "DiskAlmostFull", "instance": "db-1"},
            "annotations": {"summary": "Disk almost full on db-1"},
            "startsAt": "2026-12-04T18:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph", "fingerprint": "5f1d6a2b3c4d5e6f"}]
    })),
    responses(super::Delivered, WebhookRefusals),
    tag = "webhooks"
)]
pub async fn post(
    State(state): State<AppState>,
    hook: Webhook,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<WebhookAnswer>), ApiError> {
    let notification: Notification = json_object(&headers, body).await?;
    deliver(&state, hook, Source::Alertmanager, notification.group()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Alertmanager's webhook body as its documentation gives it.
    pub(crate) const FIRING: &str = r#"{
      "version": "4",
      "groupKey": "{}:{alertname=\"DiskAlmostFull\"}",
      "truncatedAlerts": 0,
      "status": "firing",
      "receiver": "mailroom",
      "groupLabels": {"alertname": "DiskAlmostFull"},
      "commonLabels": {"alertname": "DiskAlmostFull", "severity": "critical"},
      "commonAnnotations": {"runbook_url": "https://runbooks.example.com/disk"},
      "externalURL": "http://alertmanager.example.com:9093",
      "alerts": [
        {"status": "firing", "labels": {"alertname": "DiskAlmostFull", "instance": "db-1", "severity": "critical"},
         "annotations": {"summary": "Disk almost full on db-1", "description": "93 % used"},
         "startsAt": "2026-12-04T18:00:00.123Z", "endsAt": "0001-01-01T00:00:00Z",
         "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=x", "fingerprint": "a1"},
        {"status": "firing", "labels": {"alertname": "DiskAlmostFull", "instance": "db-2", "severity": "critical"},
         "annotations": {"summary": "Disk almost full on db-2"},
         "startsAt": "2026-12-04T18:01:00Z", "endsAt": "0001-01-01T00:00:00Z",
         "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=x", "fingerprint": "a2"}
      ]
    }"#;

    #[test]
    fn alertmanagers_body_becomes_its_group() {
        let n: Notification = serde_json::from_str(FIRING).unwrap();
        let g = n.group();
        assert_eq!(g.subject(), "[FIRING:2] DiskAlmostFull (critical)");
        assert_eq!(g.key, "{}:{alertname=\"DiskAlmostFull\"}");
        assert_eq!(g.alerts[0].ends_at, None, "the zero time is no end");
        assert_eq!(g.alerts[0].starts_at, Some(1_796_407_200));
        let runbook = g.alerts[1].links.iter().find(|(l, _)| *l == "Runbook");
        assert_eq!(runbook.map(|(_, u)| u.as_str()), Some("https://runbooks.example.com/disk"));
    }

    #[test]
    fn nulls_and_unknown_fields_are_passed_over_and_a_wrong_status_is_refused() {
        let n: Notification = serde_json::from_str(
            r#"{"status":"resolved","alerts":null,"groupLabels":null,"commonLabels":{},"newField":{"x":1}}"#,
        )
        .unwrap();
        assert_eq!(n.group().subject(), "[RESOLVED] Alert");
        assert!(serde_json::from_str::<Notification>(r#"{"status":"burning","alerts":[]}"#).is_err());
        assert!(serde_json::from_str::<Notification>(r#"{"status":"firing","alerts":[{"status":"firing","labels":{"a":1}}]}"#).is_err());
    }
}
