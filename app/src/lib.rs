//! Mailroom's Leptos application: components, routes, shared domain rules and server functions.
//!
//! Built twice: with `ssr` into the server, with `hydrate` into the browser's wasm.

pub mod api;
pub mod domain;
pub mod error;
pub mod pages;
pub mod mailtest;
pub mod store_types;
#[cfg(feature = "ssr")]
pub mod mailer;
#[cfg(feature = "ssr")]
pub mod store;

/// The current time as RFC 3339, UTC (server only).
#[cfg(feature = "ssr")]
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes, A},
    path, SsrMode,
};

/// The HTML document around the app; rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
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
        if let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Title text="Mailroom" />
        <Router>
            <div class="layout">
                <nav class="sidebar" aria-label="Main menu">
                    <div class="brand">"Mailroom"</div>
                    <ul class="menu">
                        <li>
                            <span class="menu-group">"Settings"</span>
                            <ul>
                                <li>
                                    <A href="/settings/mail">"Mail Server"</A>
                                </li>
                            </ul>
                        </li>
                    </ul>
                </nav>
                <main class="content">
                    <Routes fallback=pages::NotFound>
                        // Async: the server waits for the settings before answering, so the form is in
                        // the HTML itself and works without JavaScript.
                        <Route
                            path=path!("/settings/mail")
                            view=pages::mail::MailServerPage
                            ssr=SsrMode::Async
                        />
                    </Routes>
                </main>
            </div>
        </Router>
    }
}
