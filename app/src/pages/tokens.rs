//! Settings › API Tokens: the keys other services use for the HTTP API (`/api/v1`). Rendered on
//! the server with plain forms: no script. A new token is shown once, right after it is made.

use super::{error_line, Time};
use crate::api::tokens::{api_tokens, CreateApiToken, RevokeApiToken, TokensView};
use crate::error::AppError;
use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;

#[component]
pub fn ApiTokensPage() -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let create_error = create.value().get_untracked().and_then(Result::err);
    let revoke_error = revoke.value().get_untracked().and_then(Result::err);
    view! {
        <Title text="API Tokens · Settings · Mailroom" />
        <h1>"API Tokens"</h1>
        <p class="lead">
            "Other services of the system send mail and alert notifications through Mailroom's HTTP API ("
            <a href="/api/v1/openapi.json">"its description"</a>
            "), each with its own token. Name a token after the service that uses it; revoke it when that service no longer needs it."
        </p>
        {Suspend::new(async move {
            match api_tokens().await {
                Ok(view) => tokens_view(view, create_error, revoke_error).into_any(),
                Err(e) => view! {
                    <p class="error" role="alert">"The tokens could not be loaded: " {e.to_string()}</p>
                }
                .into_any(),
            }
        })}
    }
}

fn tokens_view(view: TokensView, create_error: Option<AppError>, revoke_error: Option<AppError>) -> impl IntoView {
    let failed = create_error.is_some();
    let created = view.created.map(|c| {
        let example = format!(
            "curl -X POST {}/api/v1/messages -H 'Authorization: Bearer {}' -H 'Content-Type: application/json' -d '{{\"to\":[\"ops@example.com\"],\"subject\":\"Hello\",\"text\":\"It works.\"}}'",
            public_url(),
            c.token
        );
        view! {
            <section class="created-token" aria-labelledby="created-heading">
                <h2 id="created-heading" tabindex="-1" autofocus>
                    {format!("Token \u{201c}{}\u{201d} created: copy it now", c.name)}
                </h2>
                <p>"It is shown only this once; Mailroom keeps only a hash of it. If it is lost, revoke it and create another."</p>
                <p><code id="new-token" class="token">{c.token}</code></p>
                <p class="small">"For example:"</p>
                <pre class="small">{example}</pre>
            </section>
        }
    });
    let empty = view.tokens.is_empty();
    let revoke_url = <RevokeApiToken as ServerFn>::url();
    let rows = view
        .tokens
        .into_iter()
        .map(|t| {
            let label = format!("Revoke {}", t.name);
            view! {
                <tr>
                    <th scope="row">{t.name}</th>
                    <td><Time at=t.created_at /> " by " {t.created_by}</td>
                    <td>{match t.last_used {
                        Some(at) => view! { <Time at /> }.into_any(),
                        None => view! { <span class="muted">"never"</span> }.into_any(),
                    }}</td>
                    <td>
                        <form method="post" action=revoke_url>
                            <input type="hidden" name="id" value=t.id.to_string() />
                            <button type="submit" class="secondary" aria-label=label>"Revoke"</button>
                        </form>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        {created}
        <form method="post" action={<CreateApiToken as ServerFn>::url()} class="settings-form inline-form">
            <div class="field">
                <label for="token-name">"Name"</label>
                <input id="token-name" name="name" type="text" required maxlength=crate::domain::MAX_TOKEN_NAME_CHARS.to_string()
                    placeholder="e.g. grafana" autofocus=failed
                    aria-describedby=if failed { "token-name-hint form-error" } else { "token-name-hint" } />
                <p class="hint" id="token-name-hint">"The service that will use the token."</p>
            </div>
            {error_line(create_error)}
            <button type="submit">"Create token"</button>
        </form>
        <h2>"Tokens"</h2>
        {revoke_error.map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })}
        {if empty {
            view! { <p class="muted">"No tokens yet."</p> }.into_any()
        } else {
            view! {
                <div class="table-wrap">
                    <table class="list">
                        <thead><tr><th scope="col">"Name"</th><th scope="col">"Created"</th><th scope="col">"Last used"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
                <p class="small muted">"Revoking takes effect at once: the service's next request is refused (401)."</p>
            }
            .into_any()
        }}
    }
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
