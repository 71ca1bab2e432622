//! The alerting tools' webhooks: Debian's real Prometheus Alertmanager notifying the app, and
//! recorded bodies of Grafana, Uptime Kuma and Zabbix (from their documentation and sources);
//! every refusal with its status.

use crate::helpers::{peer, peer_form, received, save_settings, spawn_app, spawn_app_with, until, ApiReply, TestApp, Tuning};
use app::domain::MailServerForm;
use app::outbox::{Origin, Source};
use serde_json::{json, Value};
use std::time::Duration;

/// A header's value in a raw mail.
fn header(mail: &str, name: &str) -> String {
    let prefix = format!("{name}: ");
    mail.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {name} in {mail}"))
        .trim()
        .to_string()
}

/// POSTs `body` (as `content_type`) to a webhook with `auth` as the Authorization header.
async fn hook(app: &TestApp, path_and_query: &str, auth: Option<String>, content_type: &str, body: Vec<u8>, extra: &[(&str, String)]) -> ApiReply {
    let mut req = reqwest::Client::new()
        .post(format!("{}{path_and_query}", app.url))
        .header("content-type", content_type)
        .body(body);
    if let Some(auth) = auth {
        req = req.header("authorization", auth);
    }
    for (name, value) in extra {
        req = req.header(*name, value);
    }
    ApiReply::of(req.send().await.unwrap()).await
}

fn bearer(token: &str) -> Option<String> {
    Some(format!("Bearer {token}"))
}

fn basic(user: &str, password: &str) -> Option<String> {
    use base64::Engine as _;
    Some(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))))
}

/// Debian's Alertmanager, on its own port and storage, stopped when dropped.
struct Alertmanager {
    url: String,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Alertmanager {
    /// Started with one receiver, Mailroom's webhook at `webhook` with `token`; groups by
    /// alert name, flushes each second, repeats after `repeat`.
    async fn start(webhook: &str, token: &str, repeat: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("alertmanager.yml");
        std::fs::write(
            &config,
            format!(
                "route:\n  receiver: mailroom\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: {repeat}\n\
                 receivers:\n  - name: mailroom\n    webhook_configs:\n      - url: '{webhook}'\n        send_resolved: true\n\
                 \x20       http_config:\n          authorization:\n            credentials: '{token}'\n"
            ),
        )
        .unwrap();
        let port = free_port();
        let child = std::process::Command::new("prometheus-alertmanager")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .arg("--log.level=warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start prometheus-alertmanager ({e}); run scripts/bootstrap.sh --test"));
        let am = Self { url: format!("http://127.0.0.1:{port}"), child, _dir: dir };
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(res) = reqwest::get(format!("{}/-/ready", am.url)).await {
                if res.status().is_success() {
                    return am;
                }
            }
            assert!(std::time::Instant::now() < deadline, "Alertmanager did not get ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends alerts to its API, as Prometheus does.
    async fn push(&self, alerts: Value) {
        let res = reqwest::Client::new()
            .post(format!("{}/api/v2/alerts", self.url))
            .json(&alerts)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    }

    /// Notifications its webhook integration sent (successfully or not).
    async fn notifications(&self) -> u64 {
        let text = reqwest::get(format!("{}/metrics", self.url)).await.unwrap().text().await.unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix("alertmanager_notifications_total{integration=\"webhook\"} "))
            .map_or(0, |n| n.trim().parse::<f64>().unwrap() as u64)
    }
}

fn disk_alert(instance: &str, ends_at: Option<&str>) -> Value {
    let mut alert = json!({
        "labels": {"alertname": "DiskAlmostFull", "instance": instance, "severity": "critical"},
        "annotations": {"summary": format!("Disk almost full on {instance}"), "description": "93 % used: <b>clean up</b> /var",
                        "runbook_url": "https://runbooks.example.com/disk"},
        "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=disk"
    });
    if let Some(at) = ends_at {
        alert["endsAt"] = json!(at);
    }
    alert
}

/// Messages of the test's recipient in the store, oldest first.
async fn messages_to(app: &TestApp, to: &str) -> Vec<app::outbox::Message> {
    let mut list: Vec<_> = app.store.recent_messages(500).await.unwrap().into_iter().filter(|m| m.to == to).collect();
    list.reverse();
    list
}

#[tokio::test]
async fn alertmanager_notifies_through_mailroom_in_one_thread_repeats_held_changes_and_resolution_mailed() {
    let app = spawn_app().await;
    save_settings(&app, &peer_form("plain")).await;
    let token = app.api_token("prometheus").await;
    let to = "am-oncall@example.com";
    let am = Alertmanager::start(&format!("{}/api/v1/webhooks/alertmanager?to={to}", app.url), &token, "2s").await;

    am.push(json!([disk_alert("db-1", None), disk_alert("db-2", None)])).await;
    let first = peer().wait_for_mail("Subject: [FIRING:2] DiskAlmostFull (critical)", to).await;
    assert!(first.contains("Disk almost full on db-1") && first.contains("Disk almost full on db-2"), "{first}");
    assert!(first.contains("&lt;b&gt;clean up&lt;/b&gt;"), "annotations are escaped in the HTML: {first}");
    assert!(first.contains("href=\"https://runbooks.example.com/disk\""), "{first}");

    // Alertmanager repeats the same group every 2 s; Mailroom holds the repeats (answering
    // 200, so Alertmanager counts them sent) until its own repeat interval.
    let sent_before = am.notifications().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while am.notifications().await < sent_before + 2 {
        assert!(std::time::Instant::now() < deadline, "Alertmanager did not repeat");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(messages_to(&app, to).await.len(), 1, "repeats are held");

    // The group changes: mailed at once.
    am.push(json!([disk_alert("db-3", None)])).await;
    let grown = peer().wait_for_mail("Subject: [FIRING:3] DiskAlmostFull (critical)", to).await;

    // All resolve: mailed once.
    let past = "2020-01-01T00:00:00Z";
    am.push(json!([disk_alert("db-1", Some(past)), disk_alert("db-2", Some(past)), disk_alert("db-3", Some(past))])).await;
    let resolved = peer().wait_for_mail("Subject: [RESOLVED] DiskAlmostFull (critical)", to).await;
    assert!(resolved.contains("3 alerts resolved"), "{resolved}");

    let ids: Vec<String> = [&first, &grown, &resolved].iter().map(|m| header(m, "Message-ID")).collect();
    let parent = header(&first, "In-Reply-To");
    assert!(parent.starts_with("<alert.") && parent.ends_with("@example.com>"), "{parent}");
    for mail in [&first, &grown, &resolved] {
        assert_eq!(header(mail, "In-Reply-To"), parent);
        assert_eq!(header(mail, "References"), parent);
    }
    assert!(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2], "{ids:?}");
    assert!(ids.iter().all(|id| id.starts_with(&parent[..parent.len() - "@example.com>".len()])), "{ids:?} under {parent}");

    let messages = messages_to(&app, to).await;
    assert_eq!(messages.len(), 3, "{messages:?}");
    let origin = &messages[0].origin;
    assert!(
        matches!(origin, Origin::Webhook { source: Source::Alertmanager, name, group, .. } if name == "prometheus" && group == "alertname=DiskAlmostFull"),
        "{origin:?}"
    );
    // Mail Activity says where it came from.
    let page = app.page("/settings/activity").await;
    assert!(page.contains("Alertmanager") && page.contains("alertname=DiskAlmostFull"), "{page}");
}

/// Grafana's webhook body (its documentation's example, with this test's values).
const GRAFANA: &str = r#"{
  "receiver": "Mailroom", "status": "firing", "orgId": 1,
  "alerts": [{
    "status": "firing",
    "labels": {"alertname": "HighCPU", "grafana_folder": "Servers", "instance": "web-1"},
    "annotations": {"summary": "CPU above 90 % on web-1"},
    "startsAt": "2026-12-04T18:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
    "generatorURL": "https://grafana.example.com/alerting/grafana/abc/view", "fingerprint": "57c6d9296de2ad39",
    "silenceURL": "https://grafana.example.com/alerting/silence/new?matcher=alertname%3DHighCPU",
    "dashboardURL": "https://grafana.example.com/d/cpu", "panelURL": "https://grafana.example.com/d/cpu?viewPanel=1",
    "values": {"B": 93.2, "C": 1}, "valueString": "[ var='B' labels={instance=web-1} value=93.2 ]"
  }],
  "groupLabels": {"alertname": "HighCPU", "grafana_folder": "Servers"},
  "commonLabels": {"alertname": "HighCPU", "grafana_folder": "Servers", "instance": "web-1"},
  "commonAnnotations": {"summary": "CPU above 90 % on web-1"},
  "externalURL": "https://grafana.example.com/", "version": "1",
  "groupKey": "{}/{}:{alertname=\"HighCPU\", grafana_folder=\"Servers\"}",
  "truncatedAlerts": 0, "title": "[FIRING:1] HighCPU Servers (web-1)", "state": "alerting",
  "message": "CPU is high on web-1: scale out."
}"#;

fn grafana_signature(secret: &str, timestamp: &str, body: &str) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}:{body}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn grafanas_contact_point_with_basic_auth_and_its_hmac_signature() {
    let mut tuning = Tuning::default();
    tuning.api.grafana_secret = Some(server::api::webhooks::grafana::Secret(b"shared-secret".to_vec()));
    let app = spawn_app_with(tuning).await;
    save_settings(&app, &peer_form("plain")).await;
    let token = app.api_token("grafana").await;
    let to = "grafana-oncall@example.com";
    let path = format!("/api/v1/webhooks/grafana?to={to}");
    let body = GRAFANA.as_bytes().to_vec();

    let unsigned = hook(&app, &path, basic("grafana", &token), "application/json", body.clone(), &[]).await;
    assert_eq!(unsigned.status, 401, "{unsigned:?}");
    let stamp = app::clock::now_unix().to_string();
    let wrong = grafana_signature("other-secret", &stamp, GRAFANA);
    let forged = hook(&app, &path, basic("grafana", &token), "application/json", body.clone(), &[
        ("x-grafana-alerting-signature", wrong),
        ("x-grafana-alerting-timestamp", stamp.clone()),
    ])
    .await;
    assert_eq!(forged.status, 401, "{forged:?}");

    // A signed body recorded an hour ago is not taken again.
    let old = (app::clock::now_unix() - 3600).to_string();
    let replayed = hook(&app, &path, basic("grafana", &token), "application/json", body.clone(), &[
        ("x-grafana-alerting-signature", grafana_signature("shared-secret", &old, GRAFANA)),
        ("x-grafana-alerting-timestamp", old),
    ])
    .await;
    assert_eq!(replayed.status, 401, "{replayed:?}");
    let signature = grafana_signature("shared-secret", &stamp, GRAFANA);
    let signed = hook(&app, &path, basic("grafana", &token), "application/json", body, &[
        ("x-grafana-alerting-signature", signature),
        ("x-grafana-alerting-timestamp", stamp),
    ])
    .await;
    assert_eq!(signed.status, 202, "{signed:?}");
    assert_eq!(signed.json["source"], "Grafana");
    assert_eq!(signed.json["results"][0]["action"], "queued");
    let mail = peer().wait_for_mail("Subject: [FIRING:1] HighCPU Servers (web-1)", to).await;
    for needle in ["CPU is high on web-1: scale out.", "B = 93.2", "href=\"https://grafana.example.com/d/cpu\">Dashboard</a>", ">Silence</a>", ">Panel</a>"] {
        assert!(mail.contains(needle), "{needle}: {mail}");
    }
}

/// Uptime Kuma's webhook body for a monitor going down (as `server/notification-providers/
/// webhook.js` sends it: heartbeat, monitor, msg).
const KUMA_DOWN: &str = r#"{
  "heartbeat": {"monitorID": 3, "status": 0, "time": "2026-12-04 18:00:00.512", "msg": "timeout of 48000ms exceeded",
                "important": true, "duration": 60, "ping": null, "timezone": "Europe/Berlin",
                "timezoneOffset": "+01:00", "localDateTime": "2026-12-04 19:00:00"},
  "monitor": {"id": 3, "name": "Shop", "url": "https://shop.example.com", "hostname": null, "port": null,
              "type": "http", "interval": 60, "active": true, "tags": []},
  "msg": "[Shop] [🔴 Down] timeout of 48000ms exceeded"
}"#;

#[tokio::test]
async fn uptime_kuma_down_as_json_and_up_as_form_data_are_one_thread() {
    let app = spawn_app().await;
    save_settings(&app, &peer_form("plain")).await;
    let token = app.api_token("uptime kuma").await;
    let to = "kuma-oncall@example.com";
    let path = format!("/api/v1/webhooks/uptime-kuma?to={to}");

    let down = hook(&app, &path, bearer(&token), "application/json", KUMA_DOWN.as_bytes().to_vec(), &[]).await;
    assert_eq!(down.status, 202, "{down:?}");
    let down_mail = peer().wait_for_mail("Subject: [FIRING:1] Shop", to).await;
    assert!(down_mail.contains("Shop is down") && down_mail.contains("timeout of 48000ms exceeded"), "{down_mail}");

    // The form-data variant: one part, `data`, holding the JSON.
    let up = KUMA_DOWN.replace("\"status\": 0", "\"status\": 1").replace("🔴 Down", "✅ Up");
    let boundary = "--------------------------kuma1234";
    let form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{up}\r\n--{boundary}--\r\n"
    );
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let up = hook(&app, &path, bearer(&token), &content_type, form.into_bytes(), &[]).await;
    assert_eq!(up.status, 202, "{up:?}");
    let up_mail = peer().wait_for_mail("Subject: [RESOLVED] Shop", to).await;
    assert_eq!(header(&up_mail, "In-Reply-To"), header(&down_mail, "In-Reply-To"));

    // Kuma's "Test" button: no heartbeat, no monitor.
    let test = hook(&app, &path, bearer(&token), "application/json", br#"{"heartbeat":null,"monitor":null,"msg":"Uptime Kuma Testing"}"#.to_vec(), &[]).await;
    assert_eq!(test.status, 202, "{test:?}");
    peer().wait_for_mail("Subject: [FIRING:1] Uptime Kuma Testing", to).await;
}

#[tokio::test]
async fn zabbix_problem_and_recovery_from_the_media_type() {
    let app = spawn_app().await;
    save_settings(&app, &peer_form("plain")).await;
    let token = app.api_token("zabbix").await;
    let to = "zabbix-oncall@example.com";
    let path = format!("/api/v1/webhooks/zabbix?to={to}");
    let event = |value: &str| {
        json!({
            "event_id": "1042", "event_value": value, "severity": "High", "host": "db-1",
            "trigger": "Free disk space is less than 10% on /var",
            "subject": "Problem: Free disk space is less than 10% on /var", "message": "Problem started at 18:00:00 on 2026.12.04",
            "event_time": "2026.12.04 18:00:00", "event_url": "https://zabbix.example.com/tr_events.php?triggerid=7&eventid=1042",
            "tags": "{EVENT.TAGS}"
        })
        .to_string()
        .into_bytes()
    };
    let problem = hook(&app, &path, bearer(&token), "application/json", event("1"), &[]).await;
    assert_eq!(problem.status, 202, "{problem:?}");
    let problem_mail = peer().wait_for_mail("Subject: [FIRING:1] Free disk space is less than 10% on /var (db-1)", to).await;
    let recovery = hook(&app, &path, bearer(&token), "application/json", event("0"), &[]).await;
    assert_eq!(recovery.status, 202, "{recovery:?}");
    let recovery_mail = peer().wait_for_mail("Subject: [RESOLVED] Free disk space is less than 10% on /var (db-1)", to).await;
    assert_eq!(header(&recovery_mail, "References"), header(&problem_mail, "References"));
    let again = hook(&app, &path, bearer(&token), "application/json", event("0"), &[]).await;
    assert_eq!((again.status, again.json["results"][0]["action"].as_str()), (200, Some("suppressed")), "{again:?}");
}

/// Runs the shipped Zabbix media type's script (integrations/zabbix/mailroom.yaml) as Zabbix
/// does, with `params` as its parameters; what it returned, or why it failed.
async fn zabbix_media_type(params: Value) -> (bool, String) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let (shim, media_type) = (root.join("tests/zabbix_shim.js"), root.join("../integrations/zabbix/mailroom.yaml"));
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node").arg(shim).arg(media_type).arg(params.to_string()).output()
    })
    .await
    .unwrap()
    .expect("node runs (scripts/bootstrap.sh installs it)");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).to_string())
}

#[tokio::test]
async fn the_shipped_zabbix_media_type_mails_a_problem_and_its_recovery_in_one_thread() {
    let app = spawn_app().await;
    let token = app.api_token("zabbix").await;
    let to = "zabbix-media@example.com";
    let params = |value: &str, subject: &str| {
        json!({
            "mailroom_url": format!("{}/", app.url), "mailroom_token": token, "to": format!("{to}, zabbix-second@example.com"),
            "event_id": "2077", "event_value": value, "severity": "Average", "host": "web-1",
            "trigger": "High CPU utilization on web-1", "subject": subject,
            "message": "Problem started at 18:00:00 on 2026.12.04\nHost: web-1", "event_time": "2026.12.04 18:00:00",
            "tags": "", "zabbix_url": "https://zabbix.example.com", "trigger_id": "17"
        })
    };
    // Before settings are saved Mailroom answers 503, and the script fails (Zabbix tries again).
    let (ok, said) = zabbix_media_type(params("1", "Problem: High CPU utilization on web-1")).await;
    assert!(!ok && said.contains("Mailroom answered 503"), "{said}");
    save_settings(&app, &peer_form("plain")).await;

    let (ok, said) = zabbix_media_type(params("1", "Problem: High CPU utilization on web-1")).await;
    assert!(ok && said == "OK", "{said}");
    let problem = peer().wait_for_mail("Subject: [FIRING:1] High CPU utilization on web-1 (web-1)", to).await;
    assert!(problem.contains("href=\"https://zabbix.example.com/tr_events.php?triggerid=17&amp;eventid=2077\""), "{problem}");
    peer().wait_for_mail("Subject: [FIRING:1] High CPU utilization on web-1 (web-1)", "zabbix-second@example.com").await;
    let (ok, said) = zabbix_media_type(params("0", "Resolved in 5m: High CPU utilization on web-1")).await;
    assert!(ok, "{said}");
    let recovery = peer().wait_for_mail("Subject: [RESOLVED] High CPU utilization on web-1 (web-1)", to).await;
    assert_eq!(header(&recovery, "In-Reply-To"), header(&problem, "In-Reply-To"));

    let (ok, said) = zabbix_media_type(json!({"mailroom_url": app.url, "mailroom_token": "wrong", "to": to, "event_id": "1", "event_value": "1"})).await;
    assert!(!ok && said.contains("Mailroom answered 401"), "{said}");
}

#[tokio::test]
async fn thousands_of_alerts_are_one_mail_that_says_how_many_were_left_out_and_labels_cannot_add_headers() {
    let app = spawn_app().await;
    save_settings(&app, &peer_form("plain")).await;
    let token = app.api_token("prometheus").await;
    let to = "many@example.com";
    let alerts: Vec<Value> = (0..1500)
        .map(|i| json!({"status": "firing", "labels": {"alertname": "Flood\r\nBcc: victim@example.com", "n": i.to_string()}, "fingerprint": format!("f{i}")}))
        .collect();
    let body = json!({
        "version": "4", "status": "firing", "groupKey": "flood", "truncatedAlerts": 25,
        "groupLabels": {"alertname": "Flood\r\nBcc: victim@example.com"}, "alerts": alerts
    });
    let reply = hook(&app, &format!("/api/v1/webhooks/alertmanager?to={to}"), bearer(&token), "application/json", body.to_string().into_bytes(), &[]).await;
    assert_eq!(reply.status, 202, "{reply:?}");
    assert_eq!((reply.json["alerts"].as_u64(), reply.json["left_out"].as_u64()), (Some(1000), Some(525)), "{reply:?}");
    let mail = peer().wait_for_mail("525 more alerts were left out", to).await;
    assert!(mail.contains("Subject: [FIRING:1000] Flood Bcc: victim@example.com"), "{mail}");
    assert!(!mail.lines().any(|l| l.starts_with("Bcc:")), "{mail}");
}

#[tokio::test]
async fn every_refusal_has_the_status_the_tools_retry_or_drop_by() {
    let app = spawn_app().await;
    let token = app.api_token("prometheus").await;
    let ok_body = || br#"{"version":"4","status":"firing","groupKey":"g","alerts":[]}"#.to_vec();
    let am = "/api/v1/webhooks/alertmanager?to=ops@example.com";

    // Nothing set up yet: 503, so the tool retries.
    let early = hook(&app, am, bearer(&token), "application/json", ok_body(), &[]).await;
    assert_eq!((early.status, early.retry_after.is_some()), (503, true), "{early:?}");
    save_settings(&app, &peer_form("plain")).await;

    // What, path and query, Authorization, Content-Type, body, the status it gets.
    type Case<'a> = (&'a str, &'a str, Option<String>, &'a str, Vec<u8>, u16);
    let cases: Vec<Case> = vec![
        ("no token", am, None, "application/json", ok_body(), 401),
        ("unknown token", am, bearer("not-a-token"), "application/json", ok_body(), 401),
        ("unknown basic password", am, basic("prometheus", "nope"), "application/json", ok_body(), 401),
        ("no recipient", "/api/v1/webhooks/alertmanager", bearer(&token), "application/json", ok_body(), 400),
        ("bad recipient", "/api/v1/webhooks/alertmanager?to=nobody", bearer(&token), "application/json", ok_body(), 400),
        ("not JSON", am, bearer(&token), "text/plain", ok_body(), 415),
        ("bad JSON", am, bearer(&token), "application/json", b"{\"status\":".to_vec(), 400),
        ("wrong shape", am, bearer(&token), "application/json", br#"{"status":"burning","alerts":[]}"#.to_vec(), 400),
        ("deep JSON", am, bearer(&token), "application/json", format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes(), 400),
        ("huge body", am, bearer(&token), "application/json", vec![b' '; 700 * 1024], 413),
        ("kuma without data", "/api/v1/webhooks/uptime-kuma?to=ops@example.com", bearer(&token), "multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\n1\r\n--x--\r\n".to_vec(), 400),
        ("zabbix unresolved value", "/api/v1/webhooks/zabbix?to=ops@example.com", bearer(&token), "application/json", br#"{"event_id":"1","event_value":"{EVENT.VALUE}"}"#.to_vec(), 400),
    ];
    for (what, path, auth, content_type, body, status) in cases {
        let reply = hook(&app, path, auth, content_type, body, &[]).await;
        assert_eq!(reply.status, status, "{what}: {reply:?}");
        assert!(reply.json["error"].is_string(), "{what}: {reply:?}");
    }
    // Settings › API Tokens lists the URLs to paste.
    let page = app.page("/settings/tokens").await;
    for source in Source::ALL {
        let url = format!("{}/api/v1/webhooks/{}?to=you@example.com", app.url, source.path());
        assert!(page.contains(&url), "{url} in {page}");
    }
    let good = hook(&app, am, basic("anyone", &token), "application/json", ok_body(), &[]).await;
    assert_eq!(good.status, 202, "Basic with the token as password: {good:?}");

    // Paused by a refused password: 503 until an admin fixes the settings.
    save_settings(&app, &MailServerForm { password: "wrong-password".into(), ..peer_form("plain") }).await;
    let other = br#"{"version":"4","status":"firing","groupKey":"other","alerts":[]}"#.to_vec();
    assert_eq!(hook(&app, am, bearer(&token), "application/json", other, &[]).await.status, 202);
    until(&app.ctx.outbox, "the pause", || app.ctx.outbox.paused()).await;
    let paused = hook(&app, am, bearer(&token), "application/json", ok_body(), &[]).await;
    assert_eq!((paused.status, paused.retry_after.is_some()), (503, true), "{paused:?}");
    assert!(paused.json["error"].as_str().unwrap().contains("paused"), "{paused:?}");
}

#[tokio::test]
async fn a_token_past_its_rate_is_told_503_not_429() {
    let mut tuning = Tuning::default();
    tuning.api.requests_per_minute = 1;
    let app = spawn_app_with(tuning).await;
    save_settings(&app, &peer_form("plain")).await;
    let token = app.api_token("prometheus").await;
    let body = || br#"{"version":"4","status":"firing","groupKey":"rate","alerts":[]}"#.to_vec();
    let path = "/api/v1/webhooks/alertmanager?to=rate@example.com";
    assert_eq!(hook(&app, path, bearer(&token), "application/json", body(), &[]).await.status, 202);
    let second = hook(&app, path, bearer(&token), "application/json", body(), &[]).await;
    assert_eq!((second.status, second.retry_after.is_some()), (503, true), "{second:?}");
    // The message API keeps its 429.
    let api = app.api("POST", "/api/v1/messages", Some(&token), Some(json!({"to": ["x@example.com"], "subject": "s", "text": "t"}))).await;
    assert_eq!(api.status, 429);
}

#[tokio::test]
async fn the_configured_language_writes_a_tools_mail_in_chinese_unless_its_url_asks_for_english() {
    let app = spawn_app_with(Tuning { mail_language: app::templates::Lang::ZhCn, ..Default::default() }).await;
    save_settings(&app, &peer_form("plain")).await;
    let token = app.api_token("uptime kuma").await;
    let body = || KUMA_DOWN.as_bytes().to_vec();

    let zh = hook(&app, "/api/v1/webhooks/uptime-kuma?to=kuma-zh@example.com", bearer(&token), "application/json", body(), &[]).await;
    let (subject, bodies) = received(&app, zh.json["results"][0]["id"].as_u64().unwrap_or_else(|| panic!("{zh:?}"))).await;
    assert_eq!(subject, "[告警:1] Shop");
    let text = bodies.iter().find(|b| !b.contains("<div")).unwrap();
    assert!(text.contains("告警：Shop（1 条告警，来自 Uptime Kuma）"), "{text}");
    assert!(text.contains("timeout of 48000ms exceeded"), "{text}");

    let en = hook(&app, "/api/v1/webhooks/uptime-kuma?to=kuma-en@example.com&language=en", bearer(&token), "application/json", body(), &[]).await;
    let (subject, _) = received(&app, en.json["results"][0]["id"].as_u64().unwrap_or_else(|| panic!("{en:?}"))).await;
    assert_eq!(subject, "[FIRING:1] Shop");

    // Refused before the body is read, with what to use.
    let fr = hook(&app, "/api/v1/webhooks/uptime-kuma?to=kuma-fr@example.com&language=fr", bearer(&token), "application/json", body(), &[]).await;
    assert_eq!(fr.status, 400, "{fr:?}");
    assert!(fr.json.to_string().contains("zh-CN"), "{fr:?}");
}
