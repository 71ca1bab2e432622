//! What the settings island does to the page itself: focus, the values typed before it started,
//! local times, timers and the leave warning. Each is a no-op when rendered on the server.

use super::state::FormState;
use crate::domain::{Field, MailServerForm};
use leptos::prelude::*;

/// Marks `<body data-hydrated>` once the island runs: the tests' "ready" signal.
pub fn mark_hydrated() {
    Effect::new(|_| {
        #[cfg(feature = "hydrate")]
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}

/// Focuses the element `selector` finds, once the current update is on the page. A control
/// inside a closed `<details>` ("Advanced") opens it first.
pub fn focus(selector: &str) {
    #[cfg(feature = "hydrate")]
    let selector = selector.to_owned();
    #[cfg(feature = "hydrate")]
    request_animation_frame(move || {
        use leptos::wasm_bindgen::JsCast;
        let el = document()
            .query_selector(&selector)
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(el) = el {
            if let Ok(Some(details)) = el.closest("details") {
                let _ = details.set_attribute("open", "");
            }
            let _ = el.focus();
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = selector;
}

/// The selector a click asks to focus: the `data-focus` of the button clicked (in HTML the
/// server rendered, such as a test report's field at fault).
pub fn data_focus(ev: &leptos::ev::MouseEvent) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        let target = ev.target()?.dyn_into::<web_sys::Element>().ok()?;
        target.closest("[data-focus]").ok()??.get_attribute("data-focus")
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        None
    }
}

/// Whether a submit went to a button's own `formaction` (Sign in, Disconnect): the browser
/// posts it as a page, not the island's save.
pub fn submitted_elsewhere(ev: &leptos::ev::SubmitEvent) -> bool {
    #[cfg(feature = "hydrate")]
    {
        ev.submitter().is_some_and(|b| b.has_attribute("formaction"))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        false
    }
}

/// The CSS selector of a field's control.
pub fn field_selector(field: Field) -> &'static str {
    match field {
        Field::Host => "#host",
        Field::Port => "#port",
        Field::Authentication => "#authentication",
        Field::Account => "#account",
        Field::Password => "#password",
        Field::OAuthGrant => "#oauth_grant",
        Field::OAuthTokenUrl => "#oauth_token_url",
        Field::OAuthAuthUrl => "#oauth_auth_url",
        Field::OAuthTenant => "#oauth_tenant",
        Field::OAuthClientId => "#oauth_client_id",
        Field::OAuthClientSecret => "#oauth_client_secret",
        Field::OAuthScopes => "#oauth_scopes",
        Field::ServerType => "#server_type",
        Field::FromAddress => "#from_address",
        Field::FromName => "#from_name",
        Field::Encryption => "#starttls",
        Field::HeloName => "#helo_name",
        Field::Timeout => "#timeout",
        Field::ReplyTo => "#reply_to",
        Field::CaPem => "#ca_pem",
        Field::SkipVerify => "#skip_verify",
        Field::SendTo => "#send_to",
    }
}

/// The values in the server-rendered inputs when the island starts: what was typed before the
/// wasm arrived (or restored by the browser) is taken over instead of reset. Returns the form,
/// the "Send test to" value and the fields that differ from `rendered`.
pub fn typed_over(rendered: MailServerForm) -> (MailServerForm, String, Vec<Field>) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
        let doc = document();
        let input = |id: &str| {
            doc.get_element_by_id(id)
                .and_then(|e| e.dyn_into::<HtmlInputElement>().ok())
        };
        let mut form = rendered.clone();
        for field in Field::SETTINGS {
            match field {
                Field::ServerType => {}
                Field::Authentication => {
                    if let Some(el) = doc
                        .get_element_by_id("authentication")
                        .and_then(|e| e.dyn_into::<HtmlSelectElement>().ok())
                    {
                        form.authentication = el.value();
                    }
                }
                Field::Encryption => {
                    if let (Some(tls), Some(ssl)) = (input("starttls"), input("ssl")) {
                        (form.starttls, form.ssl) = (tls.checked(), ssl.checked());
                    }
                }
                Field::SkipVerify => {
                    if let Some(el) = input("skip_verify") {
                        form.skip_verify = el.checked();
                    }
                }
                Field::CaPem => {
                    if let Some(el) = doc
                        .get_element_by_id("ca_pem")
                        .and_then(|e| e.dyn_into::<HtmlTextAreaElement>().ok())
                    {
                        form.ca_pem = el.value();
                    }
                }
                text => {
                    if let Some(el) = input(text.id()) {
                        form.set_text(text, el.value());
                    }
                }
            }
        }
        let send_to = input("send_to").map(|e| e.value()).unwrap_or_default();
        let typed = Field::SETTINGS
            .into_iter()
            .filter(|f| form.value(*f) != rendered.value(*f))
            .collect();
        (form, send_to, typed)
    }
    #[cfg(not(feature = "hydrate"))]
    (rendered, String::new(), Vec::new())
}

/// Counts `secs` down to zero, a second at a time.
pub fn count_down(secs: RwSignal<u64>) {
    #[cfg(feature = "hydrate")]
    if secs.get_untracked() > 0 {
        set_timeout(
            move || {
                secs.update(|s| *s = s.saturating_sub(1));
                count_down(secs);
            },
            std::time::Duration::from_secs(1),
        );
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = secs;
}

/// Asks the browser to confirm leaving while there are unsaved changes.
pub fn warn_before_leaving(state: FormState) {
    #[cfg(feature = "hydrate")]
    {
        let handle = window_event_listener(leptos::ev::beforeunload, move |ev| {
            if state.form.read_untracked().ne(&*state.baseline.read_untracked()) {
                ev.prevent_default();
                ev.set_return_value("You have unsaved changes to the mail server settings.");
            }
        });
        on_cleanup(move || handle.remove());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = state;
}

/// True for Enter in a one-line text input: the key that would submit the form.
pub fn is_enter_in_text_input(ev: &leptos::ev::KeyboardEvent) -> bool {
    if ev.key() != "Enter" || ev.is_composing() {
        return false;
    }
    let target: leptos::web_sys::Element = event_target(ev);
    target.tag_name().eq_ignore_ascii_case("input")
        && !matches!(
            target.get_attribute("type").as_deref(),
            Some("checkbox" | "radio" | "button" | "submit" | "reset")
        )
}
