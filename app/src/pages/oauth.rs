//! The page a mailbox's OAuth2 sign-in ends on ([`crate::routes::OAUTH_CALLBACK`]): rendered
//! by the server outside the app (the provider's redirect brings no session cookie), with a
//! link back to the settings, which the browser follows with the session again. Server only.

use crate::api::oauth::ssr::Outcome;
use leptos::prelude::*;

/// The whole HTML document for `outcome`, styled by the stylesheet at `css`; every value is
/// escaped by the view.
pub fn sign_in_page(outcome: &Outcome, css: &str) -> String {
    let (title, body) = match outcome {
        Outcome::Connected { account } => {
            let named = if account.is_empty() {
                "The mailbox".to_string()
            } else {
                account.clone()
            };
            (
                "Mailbox connected",
                view! {
                    <p class="ok" role="status">
                        <strong>{named}</strong> " is connected. Mailroom now sends with its sign-in; test it with Test Email Server."
                    </p>
                }
                .into_any(),
            )
        }
        Outcome::Failed { message, .. } => (
            "The mailbox was not connected",
            view! { <p class="error" role="alert">{message.clone()}</p> }.into_any(),
        ),
    };
    let css = css.to_string();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <crate::DocumentHead css>
                <title>{format!("{title} · Mailroom")}</title>
            </crate::DocumentHead>
            <body>
                <super::auth::Card title>
                    {body}
                    <p><a href=crate::routes::MAIL_SETTINGS>"Back to Settings \u{203a} Mail Server"</a></p>
                </super::auth::Card>
            </body>
        </html>
    }
    .to_html()
}
