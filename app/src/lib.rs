//! Mailroom's Leptos application: components, routes, shared domain rules and server functions.
//!
//! Built twice: with `ssr` into the server, with `hydrate` into the browser's wasm. Pages are
//! rendered on the server only; the browser runs islands (`#[island]`): today the settings form.

// The settings page's view type, awaited whole in its page's `Suspend`, is deeper than the
// default limit lets the compiler lay out.
#![recursion_limit = "256"]

// The domain rules and shared records, from their own crate (no Leptos): `app/domain/`.
pub use domain::{self, history, outbox, report};

// Shared by the browser and the server.
pub mod api;
pub mod error;
pub mod i18n;
pub mod pages;
pub mod routes;

// Server only: the engine, from its own crate (no Leptos): `server/engine/`.
#[cfg(feature = "ssr")]
pub use engine::{auth, clock, delivery, mailer, metrics, ratelimit, secrets, store, templates};

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes, A},
    SsrMode,
};
use i18n::{tr, tr_args};
use routes::{segment, two_segments};

/// The HTML document around the app; rendered on the server only. Sets the page's
/// Content-Security-Policy with this render's nonce (the island script carries it). A page with
/// islands includes `<HydrationScripts islands=true/>` itself; the admin pages load the page
/// script ([`AdminLayout`]); the pages without a session load no script at all.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // Islands mode: nothing outside an island carries hydration markers.
    if let Some(context) = Owner::current_shared_context() {
        context.set_is_hydrating(false);
    }
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(resp)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) {
        let policy = format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'nonce-{nonce}'; style-src 'self'; \
             img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        );
        if let Ok(value) = http::HeaderValue::from_str(&policy) {
            resp.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
    let css = stylesheet_href(&options);
    // For the pages with islands, which add their own `<HydrationScripts>`.
    provide_context(options.clone());
    // The page's language: the admin's choice, else the browser's.
    #[cfg(feature = "ssr")]
    let lang = {
        let lang = use_context::<http::request::Parts>().map(|parts| i18n::request_lang(&parts)).unwrap_or_default();
        provide_context(i18n::PageLang(lang));
        lang.tag()
    };
    #[cfg(not(feature = "ssr"))]
    let lang = "en";
    view! {
        <!DOCTYPE html>
        <html lang=lang>
            <DocumentHead css>
                <MetaTags />
            </DocumentHead>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Where the stylesheet is served (its URL carries the build's version).
pub fn stylesheet_href(options: &LeptosOptions) -> String {
    format!("/{}/main.css", options.site_pkg_dir)
}

/// Every document's `<head>`: encoding, viewport, no favicon request, the stylesheet, then
/// `children` (the page's title).
#[component]
pub fn DocumentHead(css: String, children: Children) -> impl IntoView {
    view! {
        <head>
            <meta charset="utf-8" />
            <meta name="viewport" content="width=device-width, initial-scale=1" />
            <link rel="icon" href="data:," />
            <link rel="stylesheet" href=css />
            {children()}
        </head>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Title text="Mailroom" />
        <Router>
            <Routes fallback=|| view! { <AdminLayout><pages::NotFound /></AdminLayout> }>
                <Route path=const { segment(routes::LOGIN) } view=pages::auth::LoginPage />
                // Async: the page checks its link in the store before answering.
                <Route path=const { segment(routes::SETUP) } view=pages::auth::SetupPage ssr=SsrMode::Async />
                <Route path=const { segment(routes::FORGOT) } view=pages::auth::ForgotPage />
                // Async: the page checks its link before answering, and loads no script.
                <Route path=const { segment(routes::RESET) } view=pages::auth::ResetPage ssr=SsrMode::Async />
                // Async: the server waits for the settings before answering, so the form is in
                // the HTML itself and works without JavaScript.
                <Route
                    path=const { two_segments(routes::MAIL_SETTINGS) }
                    view=|| view! { <AdminLayout><pages::mail::MailServerPage /></AdminLayout> }
                    ssr=SsrMode::Async
                />
                <Route
                    path=const { two_segments(routes::MAIL_ACTIVITY) }
                    view=|| view! { <AdminLayout><pages::activity::MailActivityPage /></AdminLayout> }
                    ssr=SsrMode::Async
                />
                <Route
                    path=const { two_segments(routes::API_TOKENS) }
                    view=|| view! { <AdminLayout><pages::tokens::ApiTokensPage /></AdminLayout> }
                    ssr=SsrMode::Async
                />
                <Route
                    path=const { two_segments(routes::MAIL_TEMPLATES) }
                    view=|| view! { <AdminLayout><pages::templates::MailTemplatesPage /></AdminLayout> }
                    ssr=SsrMode::Async
                />
            </Routes>
        </Router>
    }
}

/// While mail is not going out (the outbox paused, or deliveries failing for longer than the
/// alarm threshold), every admin page says why and links to the settings. Rendered on the
/// server from the health the guard read for this request ([`api::activity::ssr::HealthNow`]).
fn health_banner() -> impl IntoView {
    #[cfg(feature = "ssr")]
    let health = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<api::activity::ssr::HealthNow>().cloned())
        .and_then(|now| now.0);
    #[cfg(not(feature = "ssr"))]
    let health: Option<api::activity::Health> = None;
    health.map(|h| {
        let (title, detail) = match h {
            api::activity::Health::Paused { reason } => (
                tr("health-paused-title"),
                view! { {tr_args("health-paused", &[("reason", reason.trim_end_matches('.').into())])} }.into_any(),
            ),
            api::activity::Health::DiskLow { reason } => (
                tr("health-disk-title"),
                view! { {tr_args("health-disk", &[("reason", reason.into())])} }.into_any(),
            ),
            api::activity::Health::Failing { since, last } => (
                tr("health-failing-title"),
                view! { {tr("health-failing-before")} <pages::Time at=since /> {tr_args("health-failing-after", &[("last", last.into())])} }.into_any(),
            ),
        };
        view! {
            <section class="health-banner" aria-labelledby="health-title">
                <h2 id="health-title">{title}</h2>
                <p>{detail}</p>
                <p>
                    <a href=routes::MAIL_SETTINGS>{tr("health-check-settings")}</a>
                    " · "
                    <a href=routes::MAIL_ACTIVITY>{tr("health-see-activity")}</a>
                </p>
            </section>
        }
    })
}

/// The admin panel: the left-hand menu (Settings › Mail Server, Mail Activity, API Tokens),
/// the health banner and "Log out". Plain links and a plain form; the page script
/// (`frontend/page.js`: local times, Copy buttons) beside them.
#[component]
fn AdminLayout(children: Children) -> impl IntoView {
    use leptos::server_fn::ServerFn;
    let logout = <api::Logout as ServerFn>::url();
    let page_script = use_context::<LeptosOptions>().map(|o| format!("/{}/page.js", o.site_pkg_dir));
    view! {
        <div class="layout">
            <nav class="sidebar" aria-label=tr("menu-label")>
                <div class="brand">{tr("brand")}</div>
                <ul class="menu">
                    <li>
                        <span class="menu-group">{tr("menu-settings")}</span>
                        <ul>
                            <li>
                                <A href=routes::MAIL_SETTINGS><span class="menu-long">{tr("menu-mail-prefix")}</span>{tr("menu-server")}</A>
                            </li>
                            <li>
                                <A href=routes::MAIL_ACTIVITY><span class="menu-long">{tr("menu-mail-prefix")}</span>{tr("menu-activity")}</A>
                            </li>
                            <li>
                                <A href=routes::MAIL_TEMPLATES><span class="menu-long">{tr("menu-mail-prefix")}</span>{tr("menu-templates")}</A>
                            </li>
                            <li>
                                <A href=routes::API_TOKENS>{tr("menu-api-tokens")}</A>
                            </li>
                        </ul>
                    </li>
                </ul>
                {language_switch()}
                <form method="post" action=logout class="logout">
                    <button type="submit" class="link-light">{tr("log-out")}</button>
                </form>
            </nav>
            <main class="content">
                {health_banner()}
                {children()}
            </main>
        </div>
        {page_script.map(|src| view! { <script type="module" src=src></script> })}
    }
}

/// The header's language switch: a plain form offering the other language, named in that
/// language, which keeps the choice with the admin and comes back to this page.
fn language_switch() -> impl IntoView {
    use leptos::server_fn::ServerFn;
    #[cfg(feature = "ssr")]
    let (other, here) = {
        let other = match i18n::page_lang() {
            i18n::Lang::En => i18n::Lang::ZhCn,
            i18n::Lang::ZhCn => i18n::Lang::En,
        };
        let here = use_context::<http::request::Parts>()
            .and_then(|p| p.uri.path_and_query().map(|pq| pq.to_string()))
            .unwrap_or_else(|| routes::MAIL_SETTINGS.to_string());
        (other.tag(), here)
    };
    #[cfg(not(feature = "ssr"))]
    let (other, here) = ("zh-CN", routes::MAIL_SETTINGS.to_string());
    let name = if other == "en" { tr("language-name-en") } else { tr("language-name-zh-CN") };
    let action = <api::SetLanguage as ServerFn>::url();
    view! {
        <form method="post" action=action class="language-switch">
            <input type="hidden" name="next" value=here />
            <button type="submit" class="link-light" name="lang" value=other lang=other
                aria-label=format!("{}: {name}", tr("language-switch-label"))>{name.clone()}</button>
        </form>
    }
}
