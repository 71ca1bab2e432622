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
    view! {
        <!DOCTYPE html>
        <html lang="en">
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
                "Mail delivery is paused",
                view! { {format!("The mail server refused Mailroom: {}. Nothing is sent until the settings are fixed and saved, or delivery is resumed in Mail Activity.", reason.trim_end_matches('.'))} }.into_any(),
            ),
            api::activity::Health::DiskLow { reason } => (
                "The disk is nearly full: new mail and changes are refused",
                view! { {format!("{reason} Mail already queued is still sent, and logins and pages still work.")} }.into_any(),
            ),
            api::activity::Health::Failing { since, last } => (
                "Mail is failing to go out",
                view! { "Every delivery since " <pages::Time at=since /> {format!(" has failed; the last: {last}.")} }.into_any(),
            ),
        };
        view! {
            <section class="health-banner" aria-labelledby="health-title">
                <h2 id="health-title">{title}</h2>
                <p>{detail}</p>
                <p>
                    <a href=routes::MAIL_SETTINGS>"Check Settings › Mail Server"</a>
                    " · "
                    <a href=routes::MAIL_ACTIVITY>"See Mail Activity"</a>
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
            <nav class="sidebar" aria-label="Main menu">
                <div class="brand">"Mailroom"</div>
                <ul class="menu">
                    <li>
                        <span class="menu-group">"Settings"</span>
                        <ul>
                            <li>
                                <A href=routes::MAIL_SETTINGS><span class="menu-long">"Mail "</span>"Server"</A>
                            </li>
                            <li>
                                <A href=routes::MAIL_ACTIVITY><span class="menu-long">"Mail "</span>"Activity"</A>
                            </li>
                            <li>
                                <A href=routes::MAIL_TEMPLATES><span class="menu-long">"Mail "</span>"Templates"</A>
                            </li>
                            <li>
                                <A href=routes::API_TOKENS>"API Tokens"</A>
                            </li>
                        </ul>
                    </li>
                </ul>
                <form method="post" action=logout class="logout">
                    <button type="submit" class="link-light">"Log out"</button>
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
