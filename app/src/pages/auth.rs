//! Login, first-admin setup, forgotten password and reset: the pages open without a session.
//! Plain forms posting to server functions, rendered on the server with no script at all: an
//! error comes back in the URL after the redirect and is rendered once, above the button, with
//! focus on the field to correct.

use crate::api::{reset_link_valid, Login, RequestPasswordReset, ResetAnswer, ResetPassword, SetupAdmin};
use crate::error::AppError;
use crate::i18n::{tr, tr_args};
use crate::{domain, routes};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// A centred card without the admin menu, with the page's title.
#[component]
fn AuthCard(title: String, children: Children) -> impl IntoView {
    view! {
        <Title text=format!("{title} · Mailroom") />
        <Card title children />
    }
}

/// The card itself, also for pages rendered outside the app (a mailbox's sign-in).
#[component]
pub(crate) fn Card(#[prop(into)] title: String, children: Children) -> impl IntoView {
    view! {
        <main class="auth-page">
            <div class="auth-card">
                <p class="brand-dark">{tr("brand")}</p>
                <h1>{title}</h1>
                {children()}
            </div>
        </main>
    }
}

/// The error of the last submit, in words (one line, however many fields it names).
pub(super) fn error_text(e: AppError) -> String {
    match e {
        AppError::Invalid { errors, .. } => errors
            .0
            .into_iter()
            .map(|(_, m)| crate::i18n::say(&m))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.said(),
    }
}

/// The last submit's error, shown once; fields point at it with `aria-describedby="form-error"`.
pub(super) fn error_line(error: Option<AppError>) -> impl IntoView {
    error.map(|e| view! { <p class="error" id="form-error">{error_text(e)}</p> })
}

/// A link back to the login page.
fn back_to_login() -> impl IntoView {
    view! { <p class="links"><a href=routes::LOGIN>{tr("auth-back-to-login")}</a></p> }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = query
        .with_untracked(|q| q.get("next"))
        .unwrap_or_else(|| routes::MAIL_SETTINGS.into());
    let reset_done = query
        .with_untracked(|q| q.get("reset"))
        .is_some_and(|r| r == "done");
    let error = login.value().get_untracked().and_then(Result::err);
    let failed = error.is_some();
    let typed = match &error {
        Some(AppError::LoginFailed { email }) => email.clone(),
        _ => String::new(),
    };
    view! {
        <AuthCard title=tr("login-title")>
            {reset_done.then(|| view! {
                <p class="ok" role="status">{tr("login-password-changed")}</p>
            })}
            <ActionForm action=login attr:class="auth-form">
                <input type="hidden" name="next" value=next />
                <div class="field">
                    <label for="email">{tr("auth-email")}</label>
                    <input id="email" name="email" type="email" autocomplete="username" required
                        value=typed autofocus=failed aria-describedby=failed.then_some("form-error") />
                </div>
                <div class="field">
                    <label for="password">{tr("auth-password")}</label>
                    <input id="password" name="password" type="password" autocomplete="current-password" required />
                </div>
                {error_line(error)}
                <button type="submit">{tr("login-button")}</button>
            </ActionForm>
            <p class="links">
                <a href=routes::FORGOT>{tr("login-forgot")}</a>
            </p>
        </AuthCard>
    }
}

/// Password and confirmation; the browser checks the length, the server the whole rule.
#[component]
fn NewPasswordFields(failed: bool) -> impl IntoView {
    let min = domain::MIN_ADMIN_PASSWORD_CHARS.to_string();
    view! {
        <div class="field">
            <label for="password">{tr("new-password")}</label>
            <input id="password" name="password" type="password" autocomplete="new-password" required
                minlength=min.clone() autofocus=failed
                aria-describedby=if failed { "password-hint form-error" } else { "password-hint" } />
            <p class="hint" id="password-hint">
                {tr_args("new-password-hint", &[("min", domain::MIN_ADMIN_PASSWORD_CHARS.into())])}
            </p>
        </div>
        <div class="field">
            <label for="confirm">{tr("new-password-repeat")}</label>
            <input id="confirm" name="confirm" type="password" autocomplete="new-password" required minlength=min />
        </div>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let setup = ServerAction::<SetupAdmin>::new();
    let token = use_query_map()
        .with_untracked(|q| q.get("token"))
        .unwrap_or_default();
    let error = setup.value().get_untracked().and_then(Result::err);
    let failed = error.is_some();
    view! {
        <AuthCard title=tr("setup-title")>
            {Suspend::new(async move {
            // Checked in the store: a link printed by any instance works on every one.
            if crate::api::setup_link_valid(token.clone()).await.unwrap_or(false) {
                view! {
                    <p class="muted">{tr("setup-once")}</p>
                    <ActionForm action=setup attr:class="auth-form">
                        <input type="hidden" name="token" value=token />
                        <div class="field">
                            <label for="email">{tr("auth-email")}</label>
                            <input id="email" name="email" type="email" autocomplete="username" required />
                        </div>
                        <NewPasswordFields failed />
                        {error_line(error)}
                        <button type="submit">{tr("setup-button")}</button>
                    </ActionForm>
                }
                .into_any()
            } else {
                view! {
                    <p class="error" data-testid="setup-invalid">
                        {tr("setup-invalid")}
                    </p>
                    <p>
                        {tr("setup-how-before")} <code>"mailroom admin create --email ADDRESS"</code> {tr("setup-how-after")}
                    </p>
                }
                .into_any()
            }
            })}
            {back_to_login()}
        </AuthCard>
    }
}

#[component]
pub fn ForgotPage() -> impl IntoView {
    let request = ServerAction::<RequestPasswordReset>::new();
    // The answer arrives in the URL after the form's redirect (`?answer=sent`).
    let sent = use_query_map()
        .with_untracked(|q| q.get("answer"))
        .and_then(|a| ResetAnswer::from_name(&a))
        .map(|a| a.to_string());
    let error = request.value().get_untracked().and_then(Result::err);
    let failed = error.is_some();
    view! {
        <AuthCard title=tr("forgot-title")>
            <p class="muted">{tr("forgot-lead")}</p>
            <ActionForm action=request attr:class="auth-form">
                <div class="field">
                    <label for="email">{tr("auth-email")}</label>
                    <input id="email" name="email" type="email" autocomplete="username" required
                        autofocus=failed aria-describedby=failed.then_some("form-error") />
                </div>
                {error_line(error)}
                <button type="submit">{tr("forgot-button")}</button>
            </ActionForm>
            {sent.map(|sent| view! { <p class="ok" role="status">{sent}</p> })}
            {back_to_login()}
        </AuthCard>
    }
}

#[component]
pub fn ResetPage() -> impl IntoView {
    let reset = ServerAction::<ResetPassword>::new();
    let token = use_query_map()
        .with_untracked(|q| q.get("token"))
        .unwrap_or_default();
    let error = reset.value().get_untracked().and_then(Result::err);
    let failed = error.is_some();
    view! {
        <AuthCard title=tr("reset-title")>
            {Suspend::new(async move {
                // A dead link says so at once: no form to fill in for nothing.
                let valid = reset_link_valid(token.clone()).await;
                match valid {
                    Ok(false) => view! {
                        <p class="error" role="alert" id="link-dead">
                            {tr_args("reset-dead", &[("minutes", crate::api::RESET_LINK_MINUTES.into())])}
                        </p>
                        <p class="links"><a href=routes::FORGOT>{tr("reset-ask-again")}</a></p>
                    }
                    .into_any(),
                    _ => view! {
                        <ActionForm action=reset attr:class="auth-form">
                            <input type="hidden" name="token" value=token />
                            <NewPasswordFields failed />
                            {error_line(error)}
                            <button type="submit">{tr("reset-button")}</button>
                        </ActionForm>
                        <p class="links"><a href=routes::FORGOT>{tr("reset-ask-again")}</a></p>
                    }
                    .into_any(),
                }
            })}
            {back_to_login()}
        </AuthCard>
    }
}
