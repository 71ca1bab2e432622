//! `POST /api/v1/messages` (queue a message, one per recipient) and `GET /api/v1/messages/{id}`
//! (what became of it): the request, its rules and the answers.

use super::{
    error::{ApiError, CallerRefusals, ErrorBody, FieldError, WriteRefusals},
    extract::{json_body, Caller},
    refuse_if_not_sending,
    rules::{self, Check},
    bounded,
};
use crate::AppState;
use app::outbox::{Message, MessageId, Origin, Priority, State as MessageState};
use app::store::{Enqueued, MailBody, NewMessage};
use axum::{
    body::Body,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A message for the outbox, sent with the saved mail settings.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    #[schema(schema_with = rules::schema_recipients)]
    pub to: Vec<String>,
    #[schema(schema_with = rules::schema_subject)]
    pub subject: String,
    #[schema(schema_with = rules::schema_text)]
    pub text: String,
    #[serde(default)]
    #[schema(schema_with = rules::schema_html)]
    pub html: Option<String>,
    /// Alerts go before normal mail; password resets go first. Normal when absent.
    #[serde(default)]
    pub priority: Option<RequestPriority>,
    #[serde(default)]
    #[schema(schema_with = rules::schema_idempotency_key)]
    pub idempotency_key: Option<String>,
}

/// The priorities other services may ask for (security mail is the system's own).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RequestPriority {
    Normal,
    Alert,
}

/// A message request that passed every rule: one outbox message per recipient.
#[derive(Clone, Debug)]
pub struct ValidMessage {
    pub messages: Vec<NewMessage>,
    pub idempotency_key: Option<String>,
}

impl MessageRequest {
    /// Checks every rule; the messages carry `origin` (the token that asked).
    pub fn validate(self, origin: &Origin) -> Result<ValidMessage, Vec<FieldError>> {
        let mut check = Check::default();
        let to = check.recipients("to", &self.to);
        check.line("subject", &self.subject, rules::MAX_SUBJECT_CHARS);
        check.body("text", &self.text, true);
        if let Some(html) = &self.html {
            check.body("html", html, false);
        }
        if let Some(key) = &self.idempotency_key {
            check.line("idempotency_key", key, rules::MAX_KEY_CHARS);
        }
        let priority = match self.priority.unwrap_or(RequestPriority::Normal) {
            RequestPriority::Normal => Priority::Normal,
            RequestPriority::Alert => Priority::Alert,
        };
        let body = MailBody {
            text: self.text,
            html: self.html,
            thread: None,
            raw: None,
        };
        let messages = to
            .into_iter()
            .map(|to| NewMessage {
                to: to.as_str().to_string(),
                subject: self.subject.trim().to_string(),
                body: body.clone(),
                priority,
                expires_at: None,
                origin: origin.clone(),
            })
            .collect();
        check.done(ValidMessage {
            messages,
            idempotency_key: self.idempotency_key,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QueuedMessage {
    #[schema(value_type = u64)]
    pub id: MessageId,
    pub to: String,
}

/// The messages queued, one per distinct recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Accepted {
    pub messages: Vec<QueuedMessage>,
    /// True when the idempotency key was seen before: these are the messages it created then.
    pub replayed: bool,
}

/// One try at delivering a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = Attempt)]
pub struct AttemptView {
    #[schema(format = DateTime)]
    pub at: String,
    /// How far it got: dns, connect, tls, greeting, ehlo, starttls, login, mail from, rcpt to,
    /// data, message, or sent.
    pub step: String,
    pub code: Option<u16>,
    pub enhanced_status: Option<String>,
    /// The server's reply, or what went wrong.
    pub text: String,
}

const STATES: [MessageState; 8] = [
    MessageState::Queued,
    MessageState::Sending,
    MessageState::Sent,
    MessageState::Deferred,
    MessageState::Failed,
    MessageState::Uncertain,
    MessageState::Expired,
    MessageState::Cancelled,
];

fn schema_state() -> utoipa::openapi::schema::ObjectBuilder {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(STATES.map(MessageState::name)))
}

/// A message as the outbox holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = Message)]
pub struct MessageView {
    #[schema(value_type = u64)]
    pub id: MessageId,
    pub to: String,
    pub subject: String,
    #[schema(schema_with = schema_state)]
    pub state: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When a deferred message is tried again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub next_attempt_at: Option<String>,
    pub attempts: Vec<AttemptView>,
}

impl From<Message> for MessageView {
    fn from(m: Message) -> Self {
        Self {
            id: m.id,
            state: m.state.name().to_string(),
            created_at: app::clock::rfc3339(m.created_at),
            next_attempt_at: (m.state == MessageState::Deferred).then(|| app::clock::rfc3339(m.not_before)),
            attempts: m
                .attempts
                .into_iter()
                .map(|a| AttemptView {
                    at: a.at,
                    step: a.step,
                    code: a.code,
                    enhanced_status: a.enhanced_status,
                    text: a.text,
                })
                .collect(),
            to: m.to,
            subject: m.subject,
        }
    }
}

/// Queue a mail to up to 100 recipients
///
/// Durable before it answers. One outbox message per distinct recipient, sent with the saved
/// settings (Settings › Mail Activity shows each). With an `idempotency_key` seen from this
/// token within 24 hours, nothing new is queued and the answer names the messages the key
/// created (`replayed: true`).
#[utoipa::path(
    post,
    path = "/api/v1/messages",
    operation_id = "sendMessage",
    request_body(content = MessageRequest, example = json!({
        "to": ["ops@example.com"],
        "subject": "Nightly backup finished",
        "text": "All 42 databases were backed up.",
        "priority": "normal",
        "idempotency_key": "backup-2026-11-27"
    })),
    responses(
        (status = 202, description = "Queued (or, with a known idempotency key, queued before: `replayed`).", body = Accepted),
        CallerRefusals,
        WriteRefusals,
    ),
    tag = "mail"
)]
pub async fn post_message(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let request: MessageRequest = json_body(&headers, body).await?;
    let valid = request.validate(&caller.origin()).map_err(ApiError::invalid)?;
    refuse_if_not_sending(&state).await?;
    // Keys are the token's own: another service's key never answers this one.
    let key = valid
        .idempotency_key
        .as_ref()
        .map(|k| format!("{}:{k}", caller.0.id));
    let recipients: Vec<String> = valid.messages.iter().map(|m| m.to.clone()).collect();
    let now = app::clock::now_unix();
    let enqueued = bounded(&state, state.server.outbox.submit(valid.messages, key, now)).await?;
    let replayed = matches!(enqueued, Enqueued::Existing(_));
    let messages = match enqueued {
        Enqueued::New(ids) => ids
            .into_iter()
            .zip(recipients)
            .map(|(id, to)| QueuedMessage { id, to })
            .collect(),
        // The first request's recipients, from the records.
        Enqueued::Existing(ids) => {
            let mut messages = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(m) = bounded(&state, state.server.store.message(id)).await? {
                    messages.push(QueuedMessage { id, to: m.to });
                }
            }
            messages
        }
    };
    Ok((StatusCode::ACCEPTED, Json(Accepted { messages, replayed })))
}

/// A message's state and attempts
///
/// Only messages queued with the same token are visible.
#[utoipa::path(
    get,
    path = "/api/v1/messages/{id}",
    operation_id = "getMessage",
    params(("id" = u64, Path, minimum = 0, maximum = 9007199254740991.0, description = "The id `POST /api/v1/messages` answered.")),
    responses(
        (status = 200, description = "The message.", body = MessageView),
        (status = 400, description = "The id is not a whole number.", body = ErrorBody),
        CallerRefusals,
        (status = 404, description = "No message with this id was queued with this token.", body = ErrorBody),
        (status = 503, description = "The server is busy; see `Retry-After`.", body = ErrorBody),
    ),
    tag = "mail"
)]
pub async fn get_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<MessageView>, ApiError> {
    let id: MessageId = id.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "A message id is a whole number, as POST /api/v1/messages answered it.",
        )
    })?;
    let message = bounded(&state, state.server.store.message(id)).await?;
    // A token sees the messages it asked for, no others (not even that they exist).
    match message {
        Some(m) if m.origin.token() == Some(caller.0.id) => Ok(Json(m.into())),
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("No message {id} was sent with this token."),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(json: serde_json::Value) -> Result<ValidMessage, Vec<FieldError>> {
        serde_json::from_value::<MessageRequest>(json)
            .unwrap()
            .validate(&Origin::Unknown)
    }

    fn fields(errors: Vec<FieldError>) -> Vec<String> {
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_message_becomes_one_outbox_message_per_distinct_recipient() {
        let ok = message(serde_json::json!({
            "to": ["a@example.com", "B@example.com", "A@example.com"],
            "subject": "Backup done", "text": "All good.", "priority": "alert"
        }))
        .unwrap();
        let to: Vec<&str> = ok.messages.iter().map(|m| m.to.as_str()).collect();
        assert_eq!(to, ["a@example.com", "B@example.com"]);
        assert!(ok.messages.iter().all(|m| m.priority == Priority::Alert));
    }

    #[test]
    fn every_broken_rule_is_named_by_its_field() {
        let errors = message(serde_json::json!({
            "to": ["ok@example.com", "not an address", "x@example.com\r\nBcc: y@example.com"],
            "subject": "Hello\r\nBcc: victim@example.com", "text": " ",
            "idempotency_key": "k".repeat(201)
        }))
        .unwrap_err();
        assert_eq!(
            fields(errors),
            ["to[1]", "to[2]", "subject", "text", "idempotency_key"]
        );
        let errors = message(serde_json::json!({
            "to": vec!["a@example.com"; 10_000], "subject": "s", "text": "t"
        }))
        .unwrap_err();
        assert_eq!(fields(errors.clone()), ["to"]);
        assert!(errors[0].message.contains("At most 100 recipients"), "{errors:?}");
    }

    #[test]
    fn unknown_fields_and_priorities_are_refused_by_the_parser() {
        for body in [
            serde_json::json!({"to": ["a@example.com"], "subject": "s", "text": "t", "cc": []}),
            serde_json::json!({"to": ["a@example.com"], "subject": "s", "text": "t", "priority": "security"}),
        ] {
            assert!(serde_json::from_value::<MessageRequest>(body).is_err());
        }
    }
}
