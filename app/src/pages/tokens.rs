//! Settings › API Tokens: the keys other services use for the HTTP API (`/api/v1`). Rendered on
//! the server with plain forms (the page's script only adds the Copy button). A new token is
//! shown once, right after it is made. Revoking asks first (`?revoke=ID`, naming what stops
//! working) and says afterwards what happened (`?revoked=NAME`, confirmed by the history).

use super::{error_line, Time};
use crate::api::tokens::{api_tokens, CreateApiToken, RevokeApiToken, TokensView};
use crate::error::AppError;
use crate::i18n::{tr, tr_args};
use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use leptos_router::{hooks::use_query_map, params::ParamsMap};

#[component]
pub fn ApiTokensPage() -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let create_error = create.value().get_untracked().and_then(Result::err);
    let revoke_error = revoke.value().get_untracked().and_then(Result::err);
    let params = use_query_map().get_untracked();
    let confirm: Option<u64> = params.get("revoke").and_then(|id| id.parse().ok());
    let revoked = params.get("revoked");
    view! {
        <Title text=format!("{} · {} · Mailroom", tr("tokens-title"), tr("menu-settings")) />
        <h1>{tr("tokens-title")}</h1>
        <p class="lead">
            {tr("tokens-lead-before")}
            <a href="/api/v1/openapi.json">{tr("tokens-lead-link")}</a>
            {tr("tokens-lead-after")}
        </p>
        {Suspend::new(async move {
            match api_tokens(revoked).await {
                Ok(view) => tokens_view(view, confirm, create_error, revoke_error).into_any(),
                Err(e) => view! {
                    <p class="error" role="alert">{tr("tokens-not-loaded")} {e.said()}</p>
                }
                .into_any(),
            }
        })}
    }
}

/// The page's URL after a token was revoked.
pub fn revoked_url(name: &str) -> String {
    let mut params = ParamsMap::new();
    params.insert("revoked", name.to_string());
    format!("{}{}", crate::routes::API_TOKENS, params.to_query_string())
}

fn tokens_view(
    view: TokensView,
    confirm: Option<u64>,
    create_error: Option<AppError>,
    revoke_error: Option<AppError>,
) -> impl IntoView {
    let failed = create_error.is_some();
    let revoke_url = <RevokeApiToken as ServerFn>::url();
    // "Revoke …" asks first, naming what stops working; the safe choice has the focus (so the
    // URL has no fragment: a document with a fragment target skips autofocus).
    let confirmation = confirm.and_then(|id| view.tokens.iter().find(|t| t.id == id)).map(|t| {
        let name = t.name.clone();
        view! {
            <section class="confirm" aria-labelledby="confirm-heading" id="confirm-revoke">
                <h2 id="confirm-heading">{tr_args("tokens-revoke-question", &[("name", name.clone().into())])}</h2>
                <p>{tr_args("tokens-revoke-consequence", &[("name", name.clone().into())])}</p>
                <a class="button" href=crate::routes::API_TOKENS autofocus>{tr("tokens-keep")}</a>
                <form method="post" action=revoke_url>
                    <input type="hidden" name="id" value=t.id.to_string() />
                    <button type="submit" class="danger">{tr_args("tokens-revoke-named", &[("name", name.into())])}</button>
                </form>
            </section>
        }
    });
    // After a revocation: what happened, where focus lands.
    let revoked = view.revoked.map(|name| view! {
        <p class="done" role="status" id="action-status" tabindex="-1" autofocus>
            {tr_args("tokens-revoked", &[("name", name.into())])}
        </p>
    });
    let created = view.created.map(|c| {
        let alertmanager = format!(
            "receivers:\n  - name: mailroom\n    webhook_configs:\n      - url: '{}'\n        send_resolved: true\n        http_config:\n          authorization:\n            credentials: '{}'",
            webhook_url(crate::outbox::Source::Alertmanager),
            c.token
        );
        let example = format!(
            "curl -X POST {}/api/v1/messages -H 'Authorization: Bearer {}' -H 'Content-Type: application/json' -d '{{\"to\":[\"ops@example.com\"],\"subject\":\"Hello\",\"text\":\"It works.\"}}'",
            public_url(),
            c.token
        );
        view! {
            <section class="created-token" aria-labelledby="created-heading">
                <h2 id="created-heading" tabindex="-1" autofocus>
                    {tr_args("tokens-created", &[("name", c.name.into())])}
                </h2>
                <p>{tr("tokens-created-once")}</p>
                <p class="token-line">
                    <code id="new-token" class="token">{c.token}</code>
                    // Shown by the page's script, which copies and says so in the status beside it.
                    <button type="button" class="secondary copy" data-copy="new-token" hidden
                        data-copied=tr("tokens-copied") data-copy-failed=tr("tokens-copy-failed")>{tr("tokens-copy")}</button>
                    <span class="small" role="status" id="new-token-copied"></span>
                </p>
                <p class="small">{tr("tokens-example")}</p>
                <pre class="small">{example}</pre>
                <p class="small">{tr("tokens-alertmanager-before")} <code>"to"</code> {tr("tokens-alertmanager-after")}</p>
                <pre class="small">{alertmanager}</pre>
            </section>
        }
    });
    let empty = view.tokens.is_empty();
    let rows = view
        .tokens
        .into_iter()
        .map(|t| {
            let label = tr_args("tokens-revoke-label", &[("name", t.name.clone().into())]);
            view! {
                <tr>
                    <th scope="row">{t.name}</th>
                    <td>{t.used_for}</td>
                    <td><Time at=t.created_at /> {tr("tokens-created-by")} {t.created_by}</td>
                    <td>{match t.last_used {
                        Some(at) => view! { <Time at /> }.into_any(),
                        None => view! { <span class="muted">{tr("tokens-never")}</span> }.into_any(),
                    }}</td>
                    <td>
                        <a class="button secondary" href=format!("{}?revoke={}", crate::routes::API_TOKENS, t.id) aria-label=label>{tr("tokens-revoke")}</a>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        {revoked}
        {confirmation}
        {created}
        <form method="post" action={<CreateApiToken as ServerFn>::url()} class="settings-form inline-form">
            <div class="field">
                <label for="token-name">{tr("tokens-name")}</label>
                <input id="token-name" name="name" type="text" required maxlength=crate::domain::MAX_TOKEN_NAME_CHARS.to_string()
                    placeholder=tr("tokens-name-placeholder") autofocus=failed
                    aria-describedby=if failed { "token-name-hint form-error" } else { "token-name-hint" } />
                <p class="hint" id="token-name-hint">{tr("tokens-name-hint")}</p>
            </div>
            <div class="field">
                <label for="token-scope">{tr("tokens-for")}</label>
                <select id="token-scope" name="scope">
                    {crate::domain::TokenUse::ALL.into_iter().map(|u| view! { <option value=u.as_str()>{crate::api::tokens::token_use_label(u)}</option> }).collect_view()}
                </select>
            </div>
            {error_line(create_error)}
            <button type="submit">{tr("tokens-create")}</button>
        </form>
        <h2>{tr("tokens-list")}</h2>
        {revoke_error.map(|e| view! { <p class="error" role="alert">{e.said()}</p> })}
        {if empty {
            view! { <p class="muted">{tr("tokens-none")}</p> }.into_any()
        } else {
            view! {
                <div class="table-wrap">
                    <table class="list">
                        <thead><tr><th scope="col">{tr("tokens-name")}</th><th scope="col">{tr("tokens-for")}</th><th scope="col">{tr("tokens-created-column")}</th><th scope="col">{tr("tokens-last-used")}</th><th scope="col"><span class="visually-hidden">{tr("tokens-actions")}</span></th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
                <p class="small muted">{tr("tokens-revoking-note")}</p>
            }
            .into_any()
        }}
        {(!view.smtp.is_empty()).then(|| view! {
            <h2 id="smtp">{tr("tokens-smtp-title")}</h2>
            <p>{tr("tokens-smtp-lead")}</p>
            <dl class="facts smtp-listeners">
                {view.smtp.clone().into_iter().map(|(addr, security)| view! { <dt><code>{addr}</code></dt><dd>{security}</dd> }).collect_view()}
            </dl>
        })}
        <h2 id="webhooks">{tr("tokens-webhooks-title")}</h2>
        <p>
            {tr("tokens-webhooks-before")} <code>"to"</code>
            {tr("tokens-webhooks-middle")}
            <code>"Authorization: Bearer"</code> {tr("tokens-webhooks-after")}
            <code>"&language=zh-CN"</code> {tr("tokens-webhooks-language")}
        </p>
        <dl class="facts webhook-urls">
            {crate::outbox::Source::ALL
                .into_iter()
                .map(|source| view! { <dt>{source.name()}</dt><dd><code>{webhook_url(source)}</code></dd> })
                .collect_view()}
        </dl>
    }
}

/// The webhook URL a tool posts to, with the recipient to fill in.
fn webhook_url(source: crate::outbox::Source) -> String {
    format!("{}/api/v1/webhooks/{}?to=you@example.com", public_url(), source.path())
}

/// How admins reach this server, for the example.
fn public_url() -> String {
    #[cfg(feature = "ssr")]
    {
        crate::api::server::current().map(|c| c.public_url).unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    String::new()
}
