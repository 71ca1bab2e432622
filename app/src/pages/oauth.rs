//! The page a mailbox's OAuth2 sign-in ends on ([`crate::routes::OAUTH_CALLBACK`]): rendered
//! by the server outside the app (the provider's redirect brings no session cookie), with a
//! link back to the settings, which the browser follows with the session again. Server only.

use crate::api::oauth::ssr::Outcome;
use crate::i18n::tr;
use leptos::prelude::*;

/// The whole HTML document for `outcome` in `lang`, styled by the stylesheet at `css`; every
/// value is escaped by the view.
pub fn sign_in_page(outcome: &Outcome, css: &str, lang: crate::i18n::Lang) -> String {
    let _owner = Owner::new();
    _owner.set();
    provide_context(crate::i18n::PageLang(lang));
    let (title, body) = match outcome {
        Outcome::Connected { account } => {
            let named = if account.is_empty() { tr("oauth-the-mailbox") } else { account.clone() };
            (
                tr("oauth-connected-title"),
                view! {
                    <p class="ok" role="status">
                        <strong>{named}</strong> {tr("oauth-connected")}
                    </p>
                }
                .into_any(),
            )
        }
        Outcome::Failed { message, .. } => (
            tr("oauth-failed-title"),
            view! { <p class="error" role="alert">{message.clone()}</p> }.into_any(),
        ),
    };
    let css = css.to_string();
    let head_title = format!("{title} · Mailroom");
    let back = tr("oauth-back");
    view! {
        <!DOCTYPE html>
        <html lang=lang.tag()>
            <crate::DocumentHead css>
                <title>{head_title}</title>
            </crate::DocumentHead>
            <body>
                <super::auth::Card title>
                    {body}
                    <p><a href=crate::routes::MAIL_SETTINGS>{back}</a></p>
                </super::auth::Card>
            </body>
        </html>
    }
    .to_html()
}
