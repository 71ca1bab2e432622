//! Mailroom's Leptos application: components, routes, shared domain rules and server functions.
//!
//! Built twice: with `ssr` into the server, with `hydrate` into the browser's wasm.

// Shared by the browser and the server.
pub mod api;
pub mod domain;
pub mod error;
pub mod history;
pub mod pages;
pub mod report;
pub mod routes;

// Server only.
#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
pub mod clock;
#[cfg(feature = "ssr")]
pub mod mailer;
#[cfg(feature = "ssr")]
pub mod ratelimit;
#[cfg(feature = "ssr")]
pub mod secrets;
#[cfg(feature = "ssr")]
pub mod store;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes, A},
    SsrMode,
};
use routes::{segment, two_segments};

/// The HTML document around the app; rendered on the server only. Sets the page's
/// Content-Security-Policy with this render's nonce (the hydration script carries it).
pub fn shell(options: LeptosOptions) -> impl IntoView {
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
    let css = format!("/{}/main.css", options.site_pkg_dir);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="data:," />
                <link rel="stylesheet" href=css />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser, after hydration: this attribute is the marker tests wait for.
    #[cfg(feature = "hydrate")]
    Effect::new(|_| {
        if let Some(body) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
        {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Title text="Mailroom" />
        <Router>
            <Routes fallback=|| view! { <AdminLayout><pages::NotFound /></AdminLayout> }>
                <Route path=const { segment(routes::LOGIN) } view=pages::auth::LoginPage />
                <Route path=const { segment(routes::SETUP) } view=pages::auth::SetupPage />
                <Route path=const { segment(routes::FORGOT) } view=pages::auth::ForgotPage />
                <Route path=const { segment(routes::RESET) } view=pages::auth::ResetPage />
                // Async: the server waits for the settings before answering, so the form is in
                // the HTML itself and works without JavaScript.
                <Route
                    path=const { two_segments(routes::MAIL_SETTINGS) }
                    view=|| view! { <AdminLayout><pages::mail::MailServerPage /></AdminLayout> }
                    ssr=SsrMode::Async
                />
            </Routes>
        </Router>
    }
}

/// The admin panel: the left-hand menu (Settings › Mail Server) and "Log out".
#[component]
fn AdminLayout(children: Children) -> impl IntoView {
    let logout = ServerAction::<api::Logout>::new();
    view! {
        <div class="layout">
            <nav class="sidebar" aria-label="Main menu">
                <div class="brand">"Mailroom"</div>
                <ul class="menu">
                    <li>
                        <span class="menu-group">"Settings"</span>
                        <ul>
                            <li>
                                <A href=routes::MAIL_SETTINGS>"Mail Server"</A>
                            </li>
                        </ul>
                    </li>
                </ul>
                <ActionForm action=logout attr:class="logout">
                    <button type="submit" class="link-light">"Log out"</button>
                </ActionForm>
            </nav>
            <main class="content">{children()}</main>
        </div>
    }
}
