//! Settings › Mail Activity: every message of the outbox, by state, newest first, searchable
//! by recipient and subject; each opens (a native `<details>`, no script) to its attempts and
//! the redacted transcript of its last one. Actions are plain forms: retry now, cancel, retry
//! all failed, resume a paused outbox. Cancelling asks first (`?cancel=ID`); after a cancel or
//! a retry the page says what happened (`?cancelled=ID`, with an undo; `?retried=ID`, with
//! where the message went). A small island refreshes the list every few seconds.

use super::Time;
use crate::i18n::{tr, tr_args};
use crate::api::activity::{
    mail_activity, message_note, ActivityQuery, ActivityView, CancelMessage, Health, NotedMessage, ResumeOutbox,
    RetryFailedMessages, RetryMessage,
};
use crate::outbox::{Attempt, Cursor, Message, State};
use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use leptos_router::{hooks::use_query_map, params::ParamsMap};

/// How often the island refreshes the list.
const REFRESH_SECS: u64 = 5;

#[component]
pub fn MailActivityPage() -> impl IntoView {
    let params = use_query_map().get_untracked();
    let query = ActivityQuery {
        state: params.get("state").as_deref().and_then(State::from_name),
        q: params.get("q").unwrap_or_default(),
        before: params.get("before").as_deref().and_then(Cursor::from_text),
    };
    let open: Option<u64> = params.get("open").and_then(|o| o.parse().ok());
    let id_param = |name: &str| params.get(name).and_then(|id| id.parse::<u64>().ok());
    let note = [
        ("cancel", Note::ConfirmCancel),
        ("cancelled", Note::Cancelled),
        ("retried", Note::Retried),
    ]
    .into_iter()
    .find_map(|(name, kind)| id_param(name).map(|id| (kind, id)));
    // Errors of the forms posted without script come back through the redirect's URL.
    let errors = [
        ServerAction::<RetryMessage>::new().value().get_untracked().and_then(Result::err),
        ServerAction::<CancelMessage>::new().value().get_untracked().and_then(Result::err),
        ServerAction::<RetryFailedMessages>::new().value().get_untracked().and_then(Result::err),
    ];
    let error = errors.into_iter().flatten().next();
    // The list refreshes itself (frontend/page.js, no wasm): every few seconds while the tab is
    // visible, the server renders it again (`mail_activity_html`) and it replaces the old one,
    // unless the admin is in it (focus inside); open messages stay open.
    let refresh_url = <MailActivityHtml as ServerFn>::url();
    let live_query = leptos::serde_json::to_string(&query).unwrap_or_default();
    view! {
        <Title text=format!("{} · {} · Mailroom", tr("activity-title"), tr("menu-settings")) />
        <h1>{tr("activity-title")}</h1>
        <p class="lead">{tr("activity-lead")}</p>
        {error.map(|e| view! { <p class="error" role="alert" id="form-error">{e.said()}</p> })}
        {note.map(|(kind, id)| Suspend::new(async move {
            message_note(id).await.ok().flatten().map(|m| note_view(kind, m))
        }))}
        <p class="small muted" id="activity-live" data-refresh=refresh_url data-query=live_query data-seconds=REFRESH_SECS>
            {tr_args("activity-live", &[("seconds", REFRESH_SECS.into())])}
        </p>
        {Suspend::new(async move {
            match mail_activity(query.clone()).await {
                Ok(view) => view! {
                    <div id="activity"><ActivityList view query open /></div>
                }
                .into_any(),
                Err(e) => view! {
                    <p class="error" role="alert">{tr("activity-not-loaded")} {e.said()}</p>
                }
                .into_any(),
            }
        })}
    }
}

/// What the top of the page says about one message.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Note {
    /// "Cancel sending…" was clicked: ask first.
    ConfirmCancel,
    Cancelled,
    Retried,
}

/// The page's URL after an action on message `id` (`kind`: "cancelled" or "retried").
pub fn note_url(kind: &str, id: u64) -> String {
    // No fragment: a document with a fragment target skips autofocus, and the note takes it.
    format!("{}?{kind}={id}&open={id}", crate::routes::MAIL_ACTIVITY)
}

/// "to … “subject”", as the notes name a message.
fn named(m: &NotedMessage) -> String {
    tr_args("activity-named", &[("to", m.to.clone().into()), ("subject", m.subject.clone().into())])
}

/// Who asked for a message, in the page's language.
fn asked_by(origin: &crate::outbox::Origin) -> String {
    use crate::outbox::Origin;
    match origin {
        Origin::Unknown => tr("origin-system"),
        Origin::PasswordReset => tr("origin-password-reset"),
        Origin::Token { name, .. } => tr_args("origin-token", &[("name", name.clone().into())]),
        Origin::QueueTest { admin } => tr_args("origin-queue-test", &[("admin", admin.clone().into())]),
        Origin::TemplatePreview { admin, mail } => {
            tr_args("origin-template-preview", &[("mail", mail.clone().into()), ("admin", admin.clone().into())])
        }
        Origin::Webhook { source, name, .. } => {
            tr_args("origin-webhook", &[("source", source.name().into()), ("name", name.clone().into())])
        }
        Origin::Smtp { name, client, message_id, .. } if message_id.is_empty() => {
            tr_args("origin-smtp", &[("client", client.clone().into()), ("name", name.clone().into())])
        }
        Origin::Smtp { name, client, message_id, .. } => tr_args(
            "origin-smtp-message-id",
            &[("client", client.clone().into()), ("name", name.clone().into()), ("id", message_id.clone().into())],
        ),
    }
}

/// A state's name in the page's language.
pub fn state_label(state: State) -> String {
    match state {
        State::Queued => tr("state-queued"),
        State::Sending => tr("state-sending"),
        State::Sent => tr("state-sent"),
        State::Deferred => tr("state-deferred"),
        State::Failed => tr("state-failed"),
        State::Uncertain => tr("state-uncertain"),
        State::Expired => tr("state-expired"),
        State::Cancelled => tr("state-cancelled"),
    }
}

/// The confirmation before a cancel (focus on the safe choice), or what an action did, in a
/// status region that takes the focus.
fn note_view(kind: Note, m: NotedMessage) -> AnyView {
    let id = m.id.to_string();
    match kind {
        // Sent (or failed) since the page was drawn: nothing to ask.
        Note::ConfirmCancel if !matches!(m.state, State::Queued | State::Deferred) => view! {
            <p class="done" role="status" id="action-status" tabindex="-1" autofocus>
                {tr_args("activity-nothing-to-cancel", &[("message", named(&m).into()), ("state", state_label(m.state).to_lowercase().into())])}
            </p>
        }
        .into_any(),
        Note::ConfirmCancel => view! {
            <section class="confirm" aria-labelledby="confirm-heading" id="action-status">
                <h2 id="confirm-heading">{tr_args("activity-cancel-question", &[("message", named(&m).into())])}</h2>
                <p>{tr("activity-cancel-consequence")}</p>
                <a class="button" href=format!("{}?open={id}#message-{id}", crate::routes::MAIL_ACTIVITY) autofocus>{tr("activity-keep-queued")}</a>
                <form method="post" action={<CancelMessage as ServerFn>::url()}>
                    <input type="hidden" name="id" value=id.clone() />
                    <button type="submit" class="danger">{tr("activity-cancel-this")}</button>
                </form>
            </section>
        }
        .into_any(),
        Note::Cancelled => view! {
            <div class="done" role="status" id="action-status" tabindex="-1" autofocus>
                <p>{tr_args("activity-cancelled", &[("message", named(&m).into())])}</p>
                {m.undoable.then(|| view! {
                    <form method="post" action={<RetryMessage as ServerFn>::url()}>
                        <input type="hidden" name="id" value=id.clone() />
                        <button type="submit" class="secondary">{tr("activity-undo")}</button>
                    </form>
                })}
            </div>
        }
        .into_any(),
        Note::Retried => {
            // Where it went: it may already have been sent, or failed again.
            let shown = State::SHOWN.into_iter().find(|s| m.state.listed_under(*s)).unwrap_or(State::Queued);
            view! {
                <div class="done" role="status" id="action-status" tabindex="-1" autofocus>
                    <p>
                        {tr_args("activity-retried-before", &[("message", named(&m).into())])}
                        <a href=activity_url(Some(shown), "", None)>{state_label(shown)}</a>
                        {tr("activity-retried-after")}
                    </p>
                </div>
            }
            .into_any()
        }
    }
}

/// The page's URL for a state, a search and a page.
fn activity_url(state: Option<State>, q: &str, before: Option<&Cursor>) -> String {
    let mut params = ParamsMap::new();
    if let Some(s) = state {
        params.insert("state", s.name().to_string());
    }
    if !q.is_empty() {
        params.insert("q", q.to_string());
    }
    if let Some(b) = before {
        params.insert("before", b.as_str().to_string());
    }
    format!("{}{}", crate::routes::MAIL_ACTIVITY, params.to_query_string())
}

/// Unix seconds as RFC 3339 (on the server, where the page is rendered).
fn rfc3339(unix: u64) -> String {
    #[cfg(feature = "ssr")]
    {
        crate::clock::rfc3339(unix)
    }
    #[cfg(not(feature = "ssr"))]
    unix.to_string()
}

/// The list and its controls; rendered by the page and, for the refresh, by [`activity_html`].
#[component]
pub fn ActivityList(view: ActivityView, query: ActivityQuery, open: Option<u64>) -> impl IntoView {
    let ActivityView {
        counts,
        total,
        page,
        health,
    } = view;
    let failed = counts
        .iter()
        .find(|(s, _)| *s == State::Failed)
        .map_or(0, |(_, n)| *n);
    let tab = |state: Option<State>, label: String| {
        let current = (query.state == state).then_some("page");
        view! { <li><a href=activity_url(state, &query.q, None) aria-current=current>{label}</a></li> }
    };
    let tabs = std::iter::once(tab(None, tr_args("activity-all", &[("count", total.into())])))
        .chain(
            counts
                .iter()
                .map(|(s, n)| tab(Some(*s), tr_args("activity-state-count", &[("state", state_label(*s).into()), ("count", (*n).into())]))),
        )
        .collect_view();
    let paused = matches!(health, Some(Health::Paused { .. }));
    let messages = page.messages;
    let empty = messages.is_empty();
    let rows = messages
        .into_iter()
        .map(|m| {
            let is_open = open == Some(m.id);
            view! { <MessageItem m open=is_open /> }
        })
        .collect_view();
    let newest = query
        .before
        .map(|_| view! { <a href=activity_url(query.state, &query.q, None)>{tr("activity-newest")}</a> });
    let older = page
        .older
        .map(|b| view! { <a href=activity_url(query.state, &query.q, Some(&b))>{tr("activity-older")}</a> });
    view! {
        <nav aria-label=tr("activity-by-state")><ul class="tabs">{tabs}</ul></nav>
        <div class="activity-tools">
            <form method="get" action=crate::routes::MAIL_ACTIVITY role="search" class="search">
                {query.state.map(|s| view! { <input type="hidden" name="state" value=s.name() /> })}
                <label for="activity-q">{tr("activity-find")}</label>
                <input id="activity-q" name="q" type="search" value=query.q.clone() maxlength="200" />
                <button type="submit" class="secondary">{tr("activity-search")}</button>
            </form>
            {(failed > 0).then(|| view! {
                <form method="post" action={<RetryFailedMessages as ServerFn>::url()}>
                    <button type="submit" class="secondary">{tr_args("activity-retry-failed", &[("count", failed.into())])}</button>
                </form>
            })}
            {paused.then(|| view! {
                <form method="post" action={<ResumeOutbox as ServerFn>::url()}>
                    <button type="submit">{tr("activity-resume")}</button>
                </form>
            })}
        </div>
        {if empty {
            let none = if query.q.is_empty() { tr("activity-none") } else { tr("activity-no-match") };
            view! { <p class="muted" id="activity-empty">{none}</p> }.into_any()
        } else {
            view! { <ol class="messages" aria-label=tr("activity-list")>{rows}</ol> }.into_any()
        }}
        <p class="pager">{newest} " " {older}</p>
    }
}

/// One message: a summary line that opens to its details.
#[component]
fn MessageItem(m: Message, open: bool) -> impl IntoView {
    let last = m.attempts.last().cloned();
    let explanation = last.as_ref().and_then(Attempt::explanation);
    let summary_reply = last.as_ref().map(|a| {
        let code = a.code.map(|c| format!("{c} ")).unwrap_or_default();
        format!("{code}{}", a.text)
    });
    let created = rfc3339(m.created_at);
    let next_try = (m.state == State::Deferred).then(|| rfc3339(m.not_before));
    let queue_id = m
        .attempts
        .iter()
        .rev()
        .find(|a| a.step == "sent")
        .and_then(|a| a.queue_id().map(str::to_string));
    let retryable = matches!(m.state, State::Failed | State::Deferred | State::Uncertain);
    let cancellable = matches!(m.state, State::Queued | State::Deferred);
    let id = m.id;
    let attempts = m
        .attempts
        .iter()
        .map(|a| {
            let code = match (a.code, &a.enhanced_status) {
                (Some(c), Some(e)) => format!("{c} {e}"),
                (Some(c), None) => c.to_string(),
                _ => "—".into(),
            };
            view! {
                <tr>
                    <td><Time at=a.at.clone() /></td>
                    <td>{a.step.clone()}</td>
                    <td>{code}</td>
                    <td class="reply">{a.text.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    let transcript = last
        .map(|a| a.transcript)
        .filter(|t| !t.is_empty())
        .map(|lines| {
            let text = lines
                .iter()
                .map(|l| format!("{} {}", if l.client { "C:" } else { "S:" }, l.text))
                .collect::<Vec<_>>()
                .join("\n");
            view! {
                <h3>{tr("activity-transcript")}</h3>
                <p class="small muted">{tr("activity-transcript-note")}</p>
                <pre class="transcript">{text}</pre>
            }
        });
    let state_class = format!("state state-{}", m.state.name());
    view! {
        <li class="message" id=format!("message-{id}")>
            <details open=open>
                <summary>
                    <span class=state_class>{state_label(m.state)}</span>
                    " "
                    <span class="to">{m.to.clone()}</span>
                    " "
                    <span class="source-tag">{m.origin.source()}</span>
                    " "
                    <span class="subject">{m.subject.clone()}</span>
                    " "
                    <span class="when"><Time at=created.clone() /></span>
                    {summary_reply.map(|r| view! { <span class="reply-line">{r}</span> })}
                </summary>
                <dl class="facts">
                    <dt>{tr("activity-asked-by")}</dt><dd>{asked_by(&m.origin)}</dd>
                    <dt>{tr("activity-source")}</dt><dd class="source">{m.origin.source()}</dd>
                    {m.origin.group().map(|g| view! { <dt>{tr("activity-group")}</dt><dd class="group">{g.to_string()}</dd> })}
                    <dt>{tr("activity-queued")}</dt><dd><Time at=created /></dd>
                    {next_try.map(|at| view! { <dt>{tr("activity-next-try")}</dt><dd><Time at /></dd> })}
                    <dt>{tr("activity-message-id")}</dt><dd>{id.to_string()}</dd>
                    {queue_id.map(|q| view! { <dt>{tr("activity-queue-id")}</dt><dd class="queue-id">{q}</dd> })}
                </dl>
                {if m.attempts.is_empty() {
                    view! { <p class="muted">{tr("activity-not-tried")}</p> }.into_any()
                } else {
                    view! {
                        <h3>{tr("activity-attempts")}</h3>
                        <div class="table-wrap">
                            <table class="list">
                                <thead><tr><th scope="col">{tr("activity-when")}</th><th scope="col">{tr("activity-step")}</th><th scope="col">{tr("activity-code")}</th><th scope="col">{tr("activity-server-said")}</th></tr></thead>
                                <tbody>{attempts}</tbody>
                            </table>
                        </div>
                        {explanation.map(|id| view! { <p class="explanation"><strong>{tr("activity-means")}</strong>{tr(id)}</p> })}
                    }
                    .into_any()
                }}
                {transcript}
                <div class="actions">
                    {retryable.then(|| view! {
                        <form method="post" action={<RetryMessage as ServerFn>::url()}>
                            <input type="hidden" name="id" value=id.to_string() />
                            <button type="submit">{tr("activity-retry-now")}</button>
                        </form>
                    })}
                    {cancellable.then(|| view! {
                        <a class="button secondary" href=format!("{}?cancel={id}", crate::routes::MAIL_ACTIVITY)>{tr("activity-cancel-sending")}</a>
                    })}
                </div>
            </details>
        </li>
    }
}

/// The list as HTML, for the page's refresh (`frontend/page.js`).
#[server(endpoint = "mail_activity_html", input = crate::api::codec::Json, output = crate::api::codec::Json)]
pub async fn mail_activity_html(query: ActivityQuery) -> Result<String, AppError> {
    let view = mail_activity(query.clone()).await?;
    // In the page's language: the admin's choice, else the browser's (its fetch says it).
    #[cfg(feature = "ssr")]
    crate::api::server::speak().await;
    Ok(view! { <ActivityList view query open=None /> }.to_html())
}

use crate::error::AppError;
