//! Login, first-admin setup, forgotten password and reset: the pages open without a session.
//! All are plain forms posting to server functions, so they work without JavaScript too.

use crate::api::{Login, RequestPasswordReset, ResetPassword, SetupAdmin};
use crate::{domain, routes};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// A centred card without the admin menu.
#[component]
fn AuthCard(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <Title text=format!("{title} · Mailroom") />
        <main class="auth-page">
            <div class="auth-card">
                <div class="brand-dark">"Mailroom"</div>
                <h1>{title}</h1>
                {children()}
            </div>
        </main>
    }
}

/// The error of the last submit, if any, in words.
fn error_line(error: Signal<Option<crate::error::AppError>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            let text = match e {
                crate::error::AppError::Invalid { errors, .. } => errors
                    .0
                    .into_iter()
                    .map(|(_, m)| m)
                    .collect::<Vec<_>>()
                    .join("; "),
                other => other.to_string(),
            };
            view! { <p class="error" role="alert">{text}</p> }
        })
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = move || {
        query
            .with(|q| q.get("next"))
            .unwrap_or_else(|| routes::MAIL_SETTINGS.into())
    };
    let reset_done = move || query.with(|q| q.get("reset")).is_some_and(|r| r == "done");
    view! {
        <AuthCard title="Log in">
            <Show when=reset_done>
                <p class="ok" role="status">"Your password was changed. Log in with the new one."</p>
            </Show>
            <ActionForm action=login attr:class="auth-form">
                <input type="hidden" name="next" value=next />
                <div class="field">
                    <label for="email">"Email"</label>
                    <input id="email" name="email" type="email" autocomplete="username" required />
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="current-password" required />
                </div>
                {error_line(Signal::derive(move || login.value().get().and_then(Result::err)))}
                <button type="submit" disabled=move || login.pending().get()>"Log in"</button>
            </ActionForm>
            <p class="links">
                <a href=routes::FORGOT>"Forgot password?"</a>
            </p>
            <p class="muted small">
                "First time here? Open the setup link the server printed at start, or run "
                <code>"mailroom admin create --email ADDRESS"</code> " on the server."
            </p>
        </AuthCard>
    }
}

/// Password and confirmation with the shared rule checked as you type.
#[component]
fn NewPasswordFields(email: Signal<String>) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let touched = RwSignal::new(false);
    let message = move || {
        touched
            .get()
            .then(|| domain::admin_password(&password.get(), &confirm.get(), &email.get()).err())
            .flatten()
    };
    view! {
        <div class="field">
            <label for="password">"New password"</label>
            <input id="password" name="password" type="password" autocomplete="new-password" required
                on:input=move |ev| password.set(event_target_value(&ev))
                aria-describedby="password-message" />
            <p class="hint">{format!("At least {} characters.", domain::MIN_ADMIN_PASSWORD_CHARS)}</p>
        </div>
        <div class="field">
            <label for="confirm">"Repeat the new password"</label>
            <input id="confirm" name="confirm" type="password" autocomplete="new-password" required
                on:input=move |ev| {
                    confirm.set(event_target_value(&ev));
                    touched.set(true);
                } />
            <p class="message" id="password-message" role="alert">{message}</p>
        </div>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let setup = ServerAction::<SetupAdmin>::new();
    let query = use_query_map();
    let token = move || query.with(|q| q.get("token")).unwrap_or_default();
    let email = RwSignal::new(String::new());
    view! {
        <AuthCard title="Create the first admin">
            <Show
                when=move || !token().trim().is_empty()
                fallback=|| view! {
                    <p>
                        "This page needs the one-time setup link the server printed in its log when it started \
                         without an admin. If an admin exists, "
                        <a href=routes::LOGIN>"log in"</a>
                        " instead."
                    </p>
                }
            >
            <p class="muted">"This link works once. The account you create here can log in afterwards."</p>
            <ActionForm action=setup attr:class="auth-form">
                <input type="hidden" name="token" value=token />
                <div class="field">
                    <label for="email">"Email"</label>
                    <input id="email" name="email" type="email" autocomplete="username" required
                        on:input=move |ev| email.set(event_target_value(&ev)) />
                </div>
                <NewPasswordFields email=email.into() />
                {error_line(Signal::derive(move || setup.value().get().and_then(Result::err)))}
                <button type="submit" disabled=move || setup.pending().get()>"Create admin"</button>
            </ActionForm>
            </Show>
        </AuthCard>
    }
}

#[component]
pub fn ForgotPage() -> impl IntoView {
    let request = ServerAction::<RequestPasswordReset>::new();
    view! {
        <AuthCard title="Forgot password">
            <p class="muted">"Enter your admin email address; Mailroom mails you a link to choose a new password."</p>
            <ActionForm action=request attr:class="auth-form">
                <div class="field">
                    <label for="email">"Email"</label>
                    <input id="email" name="email" type="email" autocomplete="username" required />
                </div>
                {error_line(Signal::derive(move || request.value().get().and_then(Result::err)))}
                <button type="submit" disabled=move || request.pending().get()>"Send reset link"</button>
            </ActionForm>
            {move || request.value().get().and_then(Result::ok).map(|answer| {
                view! { <p class="ok" role="status">{answer}</p> }
            })}
            <p class="links"><a href=routes::LOGIN>"Back to log in"</a></p>
        </AuthCard>
    }
}

#[component]
pub fn ResetPage() -> impl IntoView {
    let reset = ServerAction::<ResetPassword>::new();
    let query = use_query_map();
    let token = move || query.with(|q| q.get("token")).unwrap_or_default();
    view! {
        <AuthCard title="Choose a new password">
            <ActionForm action=reset attr:class="auth-form">
                <input type="hidden" name="token" value=token />
                <NewPasswordFields email=Signal::stored(String::new()) />
                {error_line(Signal::derive(move || reset.value().get().and_then(Result::err)))}
                <button type="submit" disabled=move || reset.pending().get()>"Set new password"</button>
            </ActionForm>
            <p class="links"><a href=routes::FORGOT>"Ask for a new link"</a></p>
        </AuthCard>
    }
}
