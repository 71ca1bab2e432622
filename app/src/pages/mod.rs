//! The pages. Each admin page renders on the server only (its interactive parts are islands)
//! and loads its data in one top-level `Suspend` that awaits the server function itself: no
//! `Resource` in a `<Suspense>`, whose task tracking (leptos 0.8.23) now and then misses the
//! wake-up when many renders run at once and leaves the page unfinished forever; a page that
//! is never hydrated has no use for a resource's serialized value anyway.

pub mod activity;
pub mod auth;
pub mod mail;
#[cfg(feature = "ssr")]
pub mod oauth;
pub mod templates;
pub mod time;
pub mod tokens;

use auth::error_line;
pub use time::Time;

use crate::i18n::tr;
use leptos::prelude::*;
use leptos_meta::Title;

/// Shown for every path the router does not know; answers HTTP 404 on the server.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text=format!("{} · Mailroom", tr("not-found-title")) />
        <h1>{tr("not-found-heading")}</h1>
        <p>{tr("not-found-before")} <a href=crate::routes::MAIL_SETTINGS>{tr("not-found-link")}</a> {tr("not-found-after")}</p>
    }
}
