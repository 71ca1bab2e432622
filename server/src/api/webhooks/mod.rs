//! `POST /api/v1/webhooks/{alertmanager,grafana,uptime-kuma,zabbix}`: the alerting tools'
//! own webhooks, mailed through the outbox with storm control. Each tool's body is read by its
//! module into an [`engine::notify::group::Group`]; the mail, its thread and storm control are
//! the engine's. The recipients come from the URL (`?to=a@example.com&to=b@example.com`), the
//! token as `Bearer` or as HTTP Basic's password, both checked before the body is read.
//!
//! The answers follow the tools' retry rules: Alertmanager (and Grafana, Uptime Kuma, Zabbix)
//! retry a 5xx and drop a notification on any 4xx, so 2xx only once the mails are durable,
//! 503 with `Retry-After` whenever a retry can succeed (no settings yet, delivery paused, the
//! store away or busy, the token past its rate), and 4xx only for what a retry cannot fix.

pub mod alertmanager;
pub mod grafana;
pub mod uptime_kuma;
pub mod zabbix;

use super::{
    alerts::{actions, AlertAction, AlertState},
    bounded,
    error::{ApiError, FieldError},
    extract::Caller,
    refuse_if_not_sending,
    rules::Check,
};
use crate::AppState;
use app::outbox::Source;
use axum::{
    extract::FromRequestParts,
    http::{request::Parts, StatusCode},
    Json,
};
use app::templates::Kind;
use engine::notify::group::Group;
use serde::{Deserialize, Serialize};
use utoipa::openapi::{
    path::{Parameter, ParameterBuilder, ParameterIn, ParameterStyle},
    Required,
};
use utoipa::ToSchema;

/// The recipients in a webhook's URL, for the OpenAPI document ([`recipients`] reads them).
pub struct Recipients;

impl utoipa::IntoParams for Recipients {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![ParameterBuilder::new()
            .name("to")
            .parameter_in(ParameterIn::Query)
            .required(Required::True)
            .description(Some("The recipients: repeat `to` for each (a value may also list several, comma-separated)."))
            .style(Some(ParameterStyle::Form))
            .explode(Some(true))
            .schema(Some(super::rules::schema_recipients()))
            .build(),
        ParameterBuilder::new()
            .name("language")
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some("The mail's language: `en` or `zh-CN` (Simplified Chinese). Without it, the server's default (`MAILROOM_MAIL_LANGUAGE`)."))
            .schema(Some(utoipa::openapi::schema::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .enum_values(Some(["en", "zh-CN"]))))
            .build()]
    }
}

/// A webhook's caller, recipients and the mail's language, all checked before its body is
/// read.
pub struct Webhook {
    pub caller: Caller,
    pub to: Vec<String>,
    pub language: Option<app::templates::Lang>,
}

impl FromRequestParts<AppState> for Webhook {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await.map_err(ApiError::retryable)?;
        let query = parts.uri.query().unwrap_or("");
        let to = recipients(query).map_err(ApiError::invalid)?;
        let language = super::rules::query_language(query).map_err(ApiError::invalid)?;
        Ok(Self { caller, to, language })
    }
}

/// The `to` parameters of a query (each may also list several addresses, comma-separated),
/// checked like the API's recipients.
pub fn recipients(query: &str) -> Result<Vec<String>, Vec<FieldError>> {
    let given: Vec<String> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| name == "to")
        .flat_map(|(_, value)| {
            value
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .take(super::rules::MAX_RECIPIENTS + 1)
        .collect();
    let mut check = Check::default();
    let valid = check.recipients("to", &given);
    check.done(valid.into_iter().map(|a| a.as_str().to_string()).collect())
}

/// What became of a notification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookAnswer {
    /// The tool, as it names itself ("Alertmanager").
    pub source: String,
    /// The group, as Mail Activity shows it.
    pub group: String,
    pub state: AlertState,
    /// The alerts written into the mail.
    pub alerts: usize,
    /// Alerts left out of it (the tool's truncated ones, and those past 1,000).
    pub left_out: usize,
    /// Per recipient: queued (with the message's id) or suppressed by storm control.
    pub results: Vec<AlertAction>,
}

/// A webhook's answers, for the OpenAPI document.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // Only describes answers.
pub enum Delivered {
    #[response(status = 202, description = "Mailed to at least one recipient (`results` says which).")]
    Queued(WebhookAnswer),
    #[response(status = 200, description = "Mailed to nobody: storm control held it for every recipient.")]
    Held(WebhookAnswer),
}

/// Queues `group`'s mail for the webhook's recipients through storm control: 202 when a mail
/// was queued, 200 when storm control held it for everyone.
pub async fn deliver(
    state: &AppState,
    hook: Webhook,
    source: Source,
    group: Group,
) -> Result<(StatusCode, Json<WebhookAnswer>), ApiError> {
    refuse_if_not_sending(state).await?;
    let group = group.cap();
    let now = app::clock::now_unix();
    let repeat = state.api.settings.alert_repeat_secs;
    let token = (hook.caller.0.id, hook.caller.0.name.as_str());
    let lang = hook.language.unwrap_or(state.server.mail_language);
    let fates = bounded(state, async {
        let texts = app::store::templates::template(state.server.store.as_ref(), Kind::AlertGroup, lang).await?;
        let batch = group.batch(&texts, lang, source, &hook.to, token, now as i64, repeat);
        state.server.outbox.queue_alert(batch, now).await
    })
    .await?;
    let caller = hook.caller.0.name;
    let (status, results) = actions(
        hook.to,
        fates,
        "the same alerts in the same states were mailed recently; mailed again once the repeat interval has passed, or at once when the group changes",
        "resolved, but this recipient was not told it was firing",
    );
    tracing::info!(
        source = source.name(),
        token = %caller,
        firing = group.firing,
        alerts = group.alerts.len(),
        queued = status == StatusCode::ACCEPTED,
        "webhook: notification taken"
    );
    Ok((
        status,
        Json(WebhookAnswer {
            source: source.name().to_string(),
            group: group.describe(),
            state: if group.firing { AlertState::Firing } else { AlertState::Resolved },
            alerts: group.alerts.len(),
            left_out: group.left_out,
            results,
        }),
    ))
}

/// Deserializes `null` as the type's default (the tools send `null` for empty maps and lists).
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// An object, or `null` for the type's default; never an array (serde's derive would take a
/// struct's fields from one, and the document says object).
pub(crate) fn object<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + serde::de::DeserializeOwned,
{
    use serde::de::Error;
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(T::default()),
        value @ serde_json::Value::Object(_) => T::deserialize(value).map_err(D::Error::custom),
        other => Err(D::Error::custom(format!("expected an object, found {other}"))),
    }
}

/// A list of objects, or `null` for none.
pub(crate) fn objects<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::de::Error;
    Option::<Vec<serde_json::Value>>::deserialize(d)?
        .unwrap_or_default()
        .into_iter()
        .map(|v| match v {
            serde_json::Value::Object(_) => T::deserialize(v).map_err(D::Error::custom),
            other => Err(D::Error::custom(format!("expected an object, found {other}"))),
        })
        .collect()
}

/// A whole number, also when written as `7.0` (JSON Schema's integers include those).
pub(crate) fn whole<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    use serde::de::Error;
    match Option::<serde_json::Number>::deserialize(d)? {
        None => Ok(None),
        Some(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("expected a whole number, found {n}"))),
    }
}

/// A whole number that is not negative (a count).
pub(crate) fn count<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    use serde::de::Error;
    match whole(d)? {
        Some(n) if n < 0 => Err(D::Error::custom(format!("expected a count, found {n}"))),
        n => Ok(n),
    }
}

/// A text field that may be absent, `null` or empty: `None` for all three.
pub(crate) fn given(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_come_from_repeated_or_comma_separated_to_parameters() {
        assert_eq!(
            recipients("to=a%40example.com&x=1&to=b@example.com,%20c@example.com").unwrap(),
            ["a@example.com", "b@example.com", "c@example.com"]
        );
        let fields = |q: &str| recipients(q).unwrap_err().into_iter().map(|e| e.field).collect::<Vec<_>>();
        assert_eq!(fields(""), ["to"]);
        assert_eq!(recipients("to=0%400.com").unwrap(), ["0@0.com"]);
        assert_eq!(fields("to=a@example.com&to=not-an-address"), ["to[1]"]);
        assert_eq!(fields("to=a@example.com%0D%0ABcc:%20x@example.com"), ["to[0]"]);
        let many = (0..150).map(|i| format!("to=u{i}@example.com")).collect::<Vec<_>>().join("&");
        assert_eq!(fields(&many), ["to"]);
    }
}
