//! `POST /api/v1/webhooks/uptime-kuma`: Uptime Kuma's webhook notification, `{heartbeat,
//! monitor, msg}` as JSON, or its form-data variant (one part, `data`, holding that JSON; read
//! by `multer`). Either part may be `null`: Kuma's "Test" button sends only `msg`. A monitor
//! that is down (or pending) fires; up (or in maintenance) resolves.

use super::{deliver, given, object, whole, Webhook, WebhookAnswer};
use crate::api::{
    error::{ApiError, WebhookRefusals},
    extract::{bytes_body, declared_as, parse_object},
};
use crate::AppState;
use app::outbox::Source;
use axum::{
    body::Body,
    extract::State,
    http::{header, HeaderMap, StatusCode},
    Json,
};
use engine::notify::group::{parse_time, Group, GroupAlert};
use serde::Deserialize;
use utoipa::ToSchema;

/// Kuma's notification.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[schema(as = UptimeKumaNotification)]
pub struct Notification {
    #[serde(default, deserialize_with = "object")]
    pub heartbeat: Option<Heartbeat>,
    #[serde(default, deserialize_with = "object")]
    pub monitor: Option<Monitor>,
    /// Kuma's own one-line summary ("[web] [🔴 Down] timeout").
    #[serde(default)]
    pub msg: Option<String>,
}

/// The check that changed the monitor's state.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[schema(as = UptimeKumaHeartbeat)]
pub struct Heartbeat {
    #[serde(default, rename = "monitorID", deserialize_with = "whole")]
    pub monitor_id: Option<i64>,
    /// 0 down, 1 up, 2 pending, 3 maintenance.
    #[serde(default, deserialize_with = "whole")]
    pub status: Option<i64>,
    /// UTC, `YYYY-MM-DD HH:MM:SS.mmm`.
    #[serde(default)]
    pub time: Option<String>,
    #[serde(default)]
    pub msg: Option<String>,
}

/// The monitor.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[schema(as = UptimeKumaMonitor)]
pub struct Monitor {
    #[serde(default, deserialize_with = "whole")]
    pub id: Option<i64>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

/// Kuma's heartbeat time (UTC, a space for the `T`) as Unix seconds.
fn kuma_time(s: &str) -> Option<i64> {
    let s = s.trim();
    let head = s.get(..19)?;
    parse_time(&format!("{}Z", head.replacen(' ', "T", 1))).or_else(|| parse_time(s))
}

impl Notification {
    pub fn group(self) -> Group {
        let heartbeat = self.heartbeat.unwrap_or_default();
        let monitor = self.monitor.unwrap_or_default();
        let name = given(monitor.name.clone());
        let id = monitor.id.or(heartbeat.monitor_id);
        let key = match (id, &name) {
            (Some(id), _) => format!("monitor {id}"),
            (None, Some(name)) => format!("monitor {name}"),
            (None, None) => "notification".to_string(),
        };
        // No heartbeat: a test, or a message of Kuma's own; said as firing.
        let firing = !matches!(heartbeat.status, Some(1 | 3));
        let address = given(monitor.url.clone())
            .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
            .or_else(|| given(monitor.hostname.clone()));
        let mut labels = Vec::new();
        if let Some(n) = &name {
            labels.push(("monitor".to_string(), n.clone()));
        }
        if let Some(a) = &address {
            labels.push(("address".to_string(), a.clone()));
        }
        if let Some(kind) = given(monitor.kind) {
            labels.push(("type".to_string(), kind));
        }
        let state = match heartbeat.status {
            Some(0) => Some("down"),
            Some(1) => Some("up"),
            Some(2) => Some("pending"),
            Some(3) => Some("in maintenance"),
            _ => None,
        };
        let summary = match (&name, state) {
            (Some(n), Some(s)) => Some(format!("{n} is {s}")),
            _ => given(self.msg.clone()),
        };
        let at = heartbeat.time.as_deref().and_then(kuma_time);
        let alert = GroupAlert {
            firing,
            labels: labels.clone(),
            summary,
            description: given(heartbeat.msg),
            starts_at: if firing { at } else { None },
            ends_at: if firing { None } else { at },
            values: Vec::new(),
            links: given(monitor.url).map(|u| vec![("Monitored address", u)]).unwrap_or_default(),
            fingerprint: key.clone(),
        };
        Group {
            key,
            firing,
            group_labels: name.iter().map(|n| ("monitor".to_string(), n.clone())).collect(),
            common_labels: Vec::new(),
            title: given(self.msg.clone()).or(Some("Uptime Kuma".into())),
            message: given(self.msg),
            alerts: vec![alert],
            left_out: 0,
            external: None,
        }
    }
}

/// The body as JSON, or as Kuma's form data (its `data` part).
async fn read(headers: &HeaderMap, body: Body) -> Result<Notification, ApiError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if declared_as(headers, "application/json") {
        return parse_object(&bytes_body(headers, body).await?);
    }
    let Ok(boundary) = multer::parse_boundary(content_type) else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Send Uptime Kuma's notification as JSON (`application/json`) or as its form data (`multipart/form-data`).",
        ));
    };
    let bytes = bytes_body(headers, body).await?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(bytes) });
    let mut form = multer::Multipart::new(stream, boundary);
    let bad = |why: String| ApiError::new(StatusCode::BAD_REQUEST, why);
    while let Some(field) = form.next_field().await.map_err(|e| bad(format!("The form data could not be read: {e}.")))? {
        if field.name() == Some("data") {
            let data = field.bytes().await.map_err(|e| bad(format!("The form data could not be read: {e}.")))?;
            return parse_object(&data);
        }
    }
    Err(bad("The form data has no `data` part: send Uptime Kuma's notification.".into()))
}

/// Mail an Uptime Kuma notification
///
/// Add a notification of type Webhook in Uptime Kuma with this URL (recipients in `to`), body
/// "application/json" (or "multipart/form-data"), and the additional header
/// `{"Authorization": "Bearer TOKEN"}`. A monitor going down is mailed as firing, coming back
/// up as resolved; one thread per monitor.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/uptime-kuma",
    operation_id = "uptimeKumaWebhook",
    params(super::Recipients),
    request_body(content = Notification),
    responses(super::Delivered, WebhookRefusals),
    tag = "webhooks"
)]
pub async fn post(
    State(state): State<AppState>,
    hook: Webhook,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<WebhookAnswer>), ApiError> {
    let notification = read(&headers, body).await?;
    deliver(&state, hook, Source::UptimeKuma, notification.group()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Uptime Kuma's webhook body for a monitor going down, as it sends it.
    pub(crate) const DOWN: &str = r#"{
      "heartbeat": {"monitorID": 3, "status": 0, "time": "2026-12-04 18:00:00.512", "msg": "timeout of 48000ms exceeded",
                    "important": true, "duration": 60, "ping": null, "timezone": "Europe/Berlin",
                    "timezoneOffset": "+01:00", "localDateTime": "2026-12-04 19:00:00"},
      "monitor": {"id": 3, "name": "Shop", "url": "https://shop.example.com", "hostname": null, "port": null,
                  "type": "http", "interval": 60, "active": true, "tags": []},
      "msg": "[Shop] [🔴 Down] timeout of 48000ms exceeded"
    }"#;

    #[test]
    fn a_monitor_down_fires_and_up_resolves_in_one_thread() {
        let down = serde_json::from_str::<Notification>(DOWN).unwrap().group();
        assert!(down.firing);
        assert_eq!(down.subject(), "[FIRING:1] Shop");
        assert_eq!(down.alerts[0].starts_at, Some(1_796_407_200));
        assert_eq!(down.alerts[0].summary.as_deref(), Some("Shop is down"));
        let up = serde_json::from_str::<Notification>(&DOWN.replace("\"status\": 0", "\"status\": 1")).unwrap().group();
        assert!(!up.firing);
        assert_eq!(up.key, down.key);
        assert_eq!(up.alerts[0].ends_at, Some(1_796_407_200));
    }

    #[test]
    fn kumas_test_has_neither_heartbeat_nor_monitor() {
        let test = serde_json::from_str::<Notification>(r#"{"heartbeat":null,"monitor":null,"msg":"Uptime Kuma Testing"}"#)
            .unwrap()
            .group();
        assert_eq!(test.subject(), "[FIRING:1] Uptime Kuma Testing");
        assert_eq!(test.key, "notification");
        assert!(serde_json::from_str::<Notification>(r#"{"monitor":[null,null]}"#).is_err(), "an array is no monitor");
        let counted = serde_json::from_str::<Notification>(r#"{"heartbeat":{"status":1.0}}"#).unwrap();
        assert_eq!(counted.heartbeat.unwrap().status, Some(1));
    }
}
