//! Settings › Mail Activity: the outbox as the admin sees it (by state, searchable, newest
//! first), its actions (retry now, cancel, retry all failed, resume a paused outbox), the health
//! every admin page shows, and "send a test through the queue".

use crate::error::AppError;
use crate::outbox::{Cursor, MessagePage, State};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Messages per page.
pub const PAGE_SIZE: usize = 25;

/// What the page lists: from its URL (`?state=failed&q=disk&before=CURSOR`; the cursor is
/// the store's, from the page before).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityQuery {
    pub state: Option<State>,
    pub q: String,
    pub before: Option<Cursor>,
}

/// Why mail is not going out, if it is not: shown on every admin page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Health {
    /// The mail server refused the login or the sender; nothing is sent until the settings
    /// change or an admin resumes.
    Paused { reason: String },
    /// Deliveries have failed since `since` (RFC 3339), longer than the alarm threshold.
    Failing { since: String, last: String },
    /// The disk holding the data is nearly full: new mail, saves and tokens are refused;
    /// what is queued still goes out.
    DiskLow { reason: String },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityView {
    /// Messages per state, in [`State::SHOWN`] order, and all of them.
    pub counts: Vec<(State, usize)>,
    pub total: usize,
    pub page: MessagePage,
    pub health: Option<Health>,
}

#[server(endpoint = "mail_activity", output = super::codec::Json)]
pub async fn mail_activity(query: ActivityQuery) -> Result<ActivityView, AppError> {
    use crate::outbox::MessageFilter;
    let _ = ssr::session().await?;
    let filter = MessageFilter {
        state: query.state,
        search: query.q.trim().chars().take(200).collect(),
    };
    let before = query.before;
    let store = ssr::store()?;
    let (counts, page) = (
        store.count_by_state().await?,
        store.list_messages(&filter, before.as_ref(), PAGE_SIZE).await?,
    );
    let count = |shown: State| {
        counts
            .iter()
            .filter(|(s, _)| s.listed_under(shown))
            .map(|(_, n)| n)
            .sum()
    };
    Ok(ActivityView {
        counts: State::SHOWN.into_iter().map(|s| (s, count(s))).collect(),
        total: counts.iter().map(|(_, n)| n).sum(),
        page,
        health: ssr::health(&ssr::current()?).await,
    })
}

/// One message as the page's confirmations and notes name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotedMessage {
    pub id: u64,
    pub to: String,
    pub subject: String,
    pub state: State,
    /// Cancelled, with its text kept and not expired: "Undo" can queue it again.
    pub undoable: bool,
}

/// The message a confirmation or a note on the page is about; `None` if there is none.
#[server(endpoint = "message_note", output = super::codec::Json)]
pub async fn message_note(id: u64) -> Result<Option<NotedMessage>, AppError> {
    let _ = ssr::session().await?;
    let now = crate::clock::now_unix();
    let store = ssr::store()?;
    let found = (store.message(id).await?, store.has_body(id).await?);
    Ok(found.0.map(|m| NotedMessage {
        undoable: m.state == State::Cancelled && found.1 && m.expires_at.is_none_or(|at| at > now),
        id: m.id,
        to: m.to,
        subject: m.subject,
        state: m.state,
    }))
}

/// Queues a failed, deferred, uncertain or cancelled (the undo) message again, then shows where
/// it went.
#[server(endpoint = "retry_message", output = super::codec::Json)]
pub async fn retry_message(id: u64) -> Result<(), AppError> {
    use crate::i18n::{tr_args, Arg};
    use crate::outbox::Retry;
    let session = ssr::session().await?;
    crate::api::server::speak().await;
    let id_arg = || [("id", Arg::from(id))];
    let now = crate::clock::now_unix();
    match ssr::current()?.outbox.retry(id, now).await? {
        Retry::Queued => {
            tracing::info!(admin = ?session.admin, message = id, "message queued again by an admin");
            leptos_axum::redirect(&crate::pages::activity::note_url("retried", id));
            Ok(())
        }
        Retry::Expired => Err(AppError::Refused(tr_args("activity-refused-expired", &id_arg()))),
        Retry::NotRetryable(state) => {
            let state = crate::pages::activity::state_label(state);
            Err(AppError::Refused(tr_args("activity-refused-not-retryable", &[("id", Arg::from(id)), ("state", Arg::from(state))])))
        }
        Retry::NoBody => Err(AppError::Refused(tr_args("activity-refused-no-body", &id_arg()))),
        Retry::NotFound => Err(AppError::NotFound(tr_args("activity-no-such-message", &id_arg()))),
    }
}

#[server(endpoint = "cancel_message", output = super::codec::Json)]
pub async fn cancel_message(id: u64) -> Result<(), AppError> {
    let session = ssr::session().await?;
    crate::api::server::speak().await;
    if ssr::current()?.outbox.cancel(id).await? {
        tracing::info!(admin = ?session.admin, message = id, "message cancelled by an admin");
        leptos_axum::redirect(&crate::pages::activity::note_url("cancelled", id));
        Ok(())
    } else {
        Err(AppError::Refused(crate::i18n::tr_args("activity-refused-not-waiting", &[("id", id.into())])))
    }
}

#[server(endpoint = "retry_failed_messages", output = super::codec::Json)]
pub async fn retry_failed_messages() -> Result<usize, AppError> {
    let session = ssr::session().await?;
    let now = crate::clock::now_unix();
    let n = ssr::current()?.outbox.retry_failed(now).await?;
    tracing::info!(admin = ?session.admin, messages = n, "failed messages queued again by an admin");
    Ok(n)
}

/// Lifts a pause (the mail server was fixed rather than the settings).
#[server(endpoint = "resume_outbox", output = super::codec::Json)]
pub async fn resume_outbox() -> Result<(), AppError> {
    let session = ssr::session().await?;
    tracing::info!(admin = ?session.admin, "outbox resumed by an admin");
    ssr::current()?.outbox.resume().await?;
    Ok(())
}

/// "Send a test through the queue": a test mail to the admin, queued like an alert and sent by
/// the outbox with the saved settings; the answer goes to Mail Activity, to that message.
#[server(endpoint = "queue_test_mail", output = super::codec::Json)]
pub async fn queue_test_mail() -> Result<u64, AppError> {
    use crate::outbox::{Origin, Priority};
    use crate::store::{MailBody, NewMessage};
    let session = ssr::session().await?;
    let store = ssr::store()?;
    let Some(saved) = store.load_mail().await? else {
        crate::api::server::speak().await;
        return Err(AppError::Refused(crate::i18n::tr("mail-queue-test-save-first")));
    };
    let lang = ssr::admin_mail_language(&session.admin).await?;
    let texts = crate::store::templates::template(store.as_ref(), crate::templates::Kind::QueueTest, lang).await?;
    let mail = crate::mailer::bodies::queue_test_mail(&texts, lang, &saved.value.settings);
    let message = NewMessage {
        to: session.admin.clone(),
        subject: mail.subject,
        body: MailBody {
            text: mail.text,
            html: mail.html,
            thread: mail.thread,
            raw: None,
        },
        priority: Priority::Alert,
        expires_at: None,
        origin: Origin::QueueTest {
            admin: session.admin.clone(),
        },
    };
    let now = crate::clock::now_unix();
    let id = ssr::current()?
        .outbox
        .submit(vec![message], None, now)
        .await?
        .ids()
        .first()
        .copied()
        .unwrap_or_default();
    leptos_axum::redirect(&format!("{}?open={id}#message-{id}", crate::routes::MAIL_ACTIVITY));
    Ok(id)
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::Health;
    pub use crate::api::server::{admin_mail_language, current, session, store, ServerContext};

    /// The health of this request's moment, read by the server's guard before an admin page
    /// renders (the banner is drawn from it without a store call of its own).
    #[derive(Clone, Debug)]
    pub struct HealthNow(pub Option<Health>);

    /// Why mail is not going out, if it is not (none while it goes, or has failed for less than
    /// the alarm threshold).
    pub async fn health(ctx: &ServerContext) -> Option<Health> {
        if let Some(refusal) = ctx.store.refusing_writes() {
            return Some(Health::DiskLow {
                reason: crate::error::capitalized(&refusal.to_string()),
            });
        }
        let control = match ctx.outbox.control().await {
            Ok(control) => control,
            Err(e) => {
                tracing::error!(error = %e, "outbox: reading its control record failed");
                return None;
            }
        };
        if let Some(pause) = control.paused {
            return Some(Health::Paused { reason: pause.reason });
        }
        let failing = control.failing?;
        let now = crate::clock::now_unix();
        (now >= failing.since + ctx.failing_alarm_secs).then(|| Health::Failing {
            since: crate::clock::rfc3339(failing.since),
            last: failing.last,
        })
    }
}
