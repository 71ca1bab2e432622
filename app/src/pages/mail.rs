//! Settings › Mail Server.

use crate::api::{load_mail_settings, SaveMailSettings};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn MailServerPage() -> impl IntoView {
    let save = ServerAction::<SaveMailSettings>::new();
    // Reload the stored settings after every completed save.
    let settings = Resource::new(move || save.version().get(), |_| load_mail_settings());

    view! {
        <Title text="Mail Server · Settings · Mailroom" />
        <h1>"Mail Server"</h1>
        <p class="lead">
            "The SMTP server Mailroom uses to send alert notifications and forgotten-password emails."
        </p>
        <Transition fallback=|| view! { <p class="muted">"Loading settings…"</p> }>
            <ErrorBoundary fallback=|errors| {
                view! {
                    <p class="error" role="alert">
                        {move || {
                            errors.get().into_iter().map(|(_, e)| e.to_string()).collect::<Vec<_>>().join("; ")
                        }}
                    </p>
                }
            }>
                {move || Suspend::new(async move {
                    let current = settings.await?;
                    Ok::<_, AppError>(view! { <MailForm current save /> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn MailForm(
    current: crate::api::MailSettingsView,
    save: ServerAction<SaveMailSettings>,
) -> impl IntoView {
    let result = save.value();
    let status = move || match result.get() {
        Some(Ok(saved)) => view! {
            <p class="ok" role="status">
                "Saved " {saved.saved_at.unwrap_or_default()}
            </p>
        }
        .into_any(),
        Some(Err(e)) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
        None => ().into_any(),
    };
    view! {
        <ActionForm action=save attr:class="settings-form" attr:id="mail-form">
            <input type="hidden" name="version" value=current.version.to_string() />
            <div class="field">
                <label for="host">"Host Name (SMTP)"</label>
                <input id="host" name="host" type="text" value=current.host autocomplete="off" />
            </div>
            <div class="actions">
                <button type="submit" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else { "Save" }}
                </button>
            </div>
            {status}
        </ActionForm>
    }
}
