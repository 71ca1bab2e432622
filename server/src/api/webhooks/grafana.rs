//! `POST /api/v1/webhooks/grafana`: Grafana Alerting's webhook contact point, Alertmanager's
//! shape with Grafana's fields ([`super::alertmanager::Notification`]). With a shared secret
//! set (`MAILROOM_GRAFANA_WEBHOOK_SECRET` or `…_FILE`), the body must carry Grafana's HMAC
//! signature: `X-Grafana-Alerting-Signature`, HMAC-SHA256 in hex of the body, or of
//! `TIMESTAMP:BODY` when Grafana also sends `X-Grafana-Alerting-Timestamp`; compared in
//! constant time by `hmac`. A timestamp (Unix seconds) more than [`MAX_SKEW_SECS`] from
//! Mailroom's clock is refused, so a signed body recorded once cannot be played again later.

use super::{alertmanager::Notification, deliver, Webhook, WebhookAnswer};
use crate::api::{
    error::{ApiError, WebhookRefusals},
    extract::{bytes_body, declared_as, not_json, parse_object},
};
use crate::AppState;
use app::outbox::Source;
use axum::{
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode},
    Json,
};
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "x-grafana-alerting-signature";
pub const TIMESTAMP_HEADER: &str = "x-grafana-alerting-timestamp";
/// How far a signed timestamp may be from this server's clock (either way).
pub const MAX_SKEW_SECS: u64 = 15 * 60;

/// The secret Grafana signs its webhooks with; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Whether `signature` (hex) signs `body` (after `timestamp` and a colon, when there is one).
pub fn signed(secret: &Secret, timestamp: Option<&[u8]>, body: &[u8], signature: &str) -> bool {
    let Ok(expected) = hex::decode(signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&secret.0) else {
        return false;
    };
    if let Some(ts) = timestamp {
        mac.update(ts);
        mac.update(b":");
    }
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// Mail a Grafana Alerting notification
///
/// Make a contact point of type Webhook with this URL (recipients in `to`), the API token as
/// Authorization header credentials (or as the basic auth password) and, optionally, an HMAC
/// secret equal to `MAILROOM_GRAFANA_WEBHOOK_SECRET`. Mailed like Alertmanager's
/// notifications, with Grafana's message, values, and dashboard, panel and silence links.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/grafana",
    operation_id = "grafanaWebhook",
    params(
        super::Recipients,
        ("X-Grafana-Alerting-Signature" = Option<String>, Header, description = "HMAC-SHA256 of the body in hex; required when Mailroom has a Grafana secret."),
        ("X-Grafana-Alerting-Timestamp" = Option<String>, Header, description = "When present, the signature is of `TIMESTAMP:BODY`."),
    ),
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
    if !declared_as(&headers, "application/json") {
        return Err(not_json());
    }
    let bytes = bytes_body(&headers, body).await?;
    if let Some(secret) = &state.api.settings.grafana_secret {
        let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
        let timestamp = headers.get(TIMESTAMP_HEADER).map(|v| v.as_bytes());
        if let Some(ts) = timestamp {
            let now = app::clock::now_unix();
            let fresh = std::str::from_utf8(ts)
                .ok()
                .and_then(|t| t.trim().parse::<u64>().ok())
                .is_some_and(|t| t.abs_diff(now) <= MAX_SKEW_SECS);
            if !fresh {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    format!(
                        "X-Grafana-Alerting-Timestamp is not within {} minutes of this server's clock: check both clocks (NTP).",
                        MAX_SKEW_SECS / 60
                    ),
                ));
            }
        }
        if !signature.is_some_and(|s| signed(secret, timestamp, &bytes, s)) {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "The body's X-Grafana-Alerting-Signature is missing or wrong: set the contact point's HMAC secret to Mailroom's (MAILROOM_GRAFANA_WEBHOOK_SECRET).",
            ));
        }
    }
    let notification: Notification = parse_object(&bytes)?;
    deliver(&state, hook, Source::Grafana, notification.group()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_the_body_or_of_timestamp_colon_body() {
        let secret = Secret(b"gkey".to_vec());
        let body = br#"{"a":1}"#;
        let sign = |data: &[u8]| {
            let mut mac = Hmac::<Sha256>::new_from_slice(b"gkey").unwrap();
            mac.update(data);
            hex::encode(mac.finalize().into_bytes())
        };
        let plain = sign(body);
        assert!(signed(&secret, None, body, &plain));
        assert!(!signed(&secret, None, br#"{"a":2}"#, &plain));
        let stamped = sign(br#"1700000000:{"a":1}"#);
        assert!(signed(&secret, Some(b"1700000000"), body, &stamped));
        assert!(!signed(&secret, Some(b"1700000001"), body, &stamped));
        assert!(!signed(&secret, None, body, "not hex"));
        assert!(!signed(&Secret(b"other".to_vec()), None, body, &plain));
    }

    /// Grafana's webhook body as its documentation gives it.
    pub(crate) const GRAFANA: &str = r#"{
      "receiver": "Mailroom", "status": "firing", "orgId": 1,
      "alerts": [{
        "status": "firing",
        "labels": {"alertname": "HighCPU", "grafana_folder": "Servers", "instance": "web-1"},
        "annotations": {"summary": "CPU above 90 % on web-1"},
        "startsAt": "2026-12-04T18:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "https://grafana.example.com/alerting/grafana/abc/view",
        "fingerprint": "57c6d9296de2ad39",
        "silenceURL": "https://grafana.example.com/alerting/silence/new?matcher=alertname%3DHighCPU",
        "dashboardURL": "https://grafana.example.com/d/cpu", "panelURL": "https://grafana.example.com/d/cpu?viewPanel=1",
        "values": {"B": 93.2, "C": 1},
        "valueString": "[ var='B' labels={instance=web-1} value=93.2 ]"
      }],
      "groupLabels": {"alertname": "HighCPU", "grafana_folder": "Servers"},
      "commonLabels": {"alertname": "HighCPU", "grafana_folder": "Servers", "instance": "web-1"},
      "commonAnnotations": {"summary": "CPU above 90 % on web-1"},
      "externalURL": "https://grafana.example.com/",
      "version": "1", "groupKey": "{}/{}:{alertname=\"HighCPU\", grafana_folder=\"Servers\"}",
      "truncatedAlerts": 0, "title": "[FIRING:1] HighCPU Servers (web-1)", "state": "alerting",
      "message": "**Firing**\n\nValue: B=93.2"
    }"#;

    #[test]
    fn grafanas_body_keeps_its_values_links_and_message() {
        let g = serde_json::from_str::<Notification>(GRAFANA).unwrap().group();
        assert_eq!(g.subject(), "[FIRING:1] HighCPU Servers (web-1)");
        assert!(g.key.starts_with("org 1: "));
        assert_eq!(g.alerts[0].values, [("B".to_string(), "93.2".to_string()), ("C".into(), "1".into())]);
        let labels: Vec<&str> = g.alerts[0].links.iter().map(|(l, _)| *l).collect();
        assert_eq!(labels, ["Source", "Dashboard", "Panel", "Silence"]);
        assert_eq!(g.message.as_deref(), Some("**Firing**\n\nValue: B=93.2"));
    }
}
