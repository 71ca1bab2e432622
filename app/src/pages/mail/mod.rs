//! Settings › Mail Server. The page is rendered on the server; the form is an island, the only
//! part of the app that runs in the browser: validation as you type, presets, warnings with
//! their fixes, "Test Email Server" and a save that keeps the page.
//!
//! Without JavaScript the same form posts to the save server function, which redirects back;
//! errors then arrive in the URL and the server renders them beside the fields.

mod browser;
use super::Time;
mod fields;
mod result;
mod state;

use crate::api::mail::TestAnswer;
use crate::api::{
    activity::QueueTestMail, mail::load_mail_settings, MailSettingsView, SaveMailSettings,
    SaveMailSettingsForm, TestMailServer,
};
use crate::domain::{self, Encryption, Field, FieldErrors, MailServerForm, Said, Words};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::history::AuditLine;
use crate::i18n::tr;
use fields::{CaField, ChoiceField, EncryptionSwitches, PresetPicker, SkipVerifySwitch, TextField};
use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use result::{error_view, TestResult, TestedStatus};
#[cfg(feature = "ssr")]
pub use result::{report_card, tests_shown};
use state::{FormState, Tested};

#[component]
pub fn MailServerPage() -> impl IntoView {
    // A save without JavaScript that failed: the server function redirected here with the
    // submitted form and its errors in the URL, which this action reads on the server.
    let save = ServerAction::<SaveMailSettingsForm>::new();
    let options = use_context::<LeptosOptions>();
    view! {
        <Title text=format!("{} · {} · Mailroom", tr("mail-title"), tr("menu-settings")) />
        <h1>{tr("mail-title")}</h1>
        <p class="lead">{tr("mail-lead")}</p>
        {Suspend::new(async move {
            match load_mail_settings().await {
                Ok(current) => {
                    let (initial, server_errors) = match save.value().get_untracked() {
                        Some(Err(AppError::Invalid { errors, submitted })) => {
                            (submitted.unwrap_or_else(|| current.form.clone()), errors)
                        }
                        _ => (current.form.clone(), FieldErrors::default()),
                    };
                    let managed = (!current.managed.is_empty()).then(|| view! { <ManagedNotice sources=current.managed.clone() /> });
                    let words = form_words();
                    // The island shows the histories as the server's HTML: their records stay here.
                    #[cfg(feature = "ssr")]
                    let current = MailSettingsView { tests: Default::default(), audit: Vec::new(), ..current };
                    view! { {managed} <MailForm current initial server_errors words /> }.into_any()
                }
                Err(e) => view! {
                    <p class="error" role="alert">{tr("mail-not-loaded")} {e.said()}</p>
                }
                .into_any(),
            }
        })}
        <QueueTest />
        {options.map(|options| view! { <HydrationScripts options islands=true /> })}
    }
}

/// The form's messages in the page's language, for the island.
fn form_words() -> Words {
    #[cfg(feature = "ssr")]
    {
        engine::i18n::form_words(crate::i18n::page_lang())
    }
    #[cfg(not(feature = "ssr"))]
    {
        Words::default()
    }
}

/// The settings come from the server's configuration: said once above the form, with the
/// variable (or settings-file key) that sets each field. Rendered on the server only.
#[component]
fn ManagedNotice(sources: Vec<(Field, String)>) -> impl IntoView {
    view! {
        <section class="managed" aria-labelledby="managed-heading" data-testid="managed">
            <h2 id="managed-heading">{tr("mail-managed-title")}</h2>
            <p>{tr("mail-managed-lead")}</p>
            <table class="managed-sources">
                <caption class="visually-hidden">{tr("mail-managed-caption")}</caption>
                <thead><tr><th scope="col">{tr("mail-managed-field")}</th><th scope="col">{tr("mail-managed-set-by")}</th></tr></thead>
                <tbody>
                    {sources.into_iter().map(|(field, source)| view! {
                        <tr><td>{tr(field.label_id())}</td><td><code>{source}</code></td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// "Send a test through the queue": the path real mail takes (the outbox, the saved settings),
/// beside "Test Email Server", which sends at once with the values in the form. A plain form:
/// the answer is Mail Activity, open at the message.
#[component]
fn QueueTest() -> impl IntoView {
    let queue = ServerAction::<QueueTestMail>::new();
    let error = queue.value().get_untracked().and_then(Result::err);
    view! {
        <section class="queue-test" aria-labelledby="queue-test-heading">
            <h2 id="queue-test-heading">{tr("mail-queue-test-title")}</h2>
            <p class="muted">{tr("mail-queue-test-lead")}</p>
            {error.map(|e| view! { <p class="error" role="alert" id="queue-test-error">{e.said()}</p> })}
            <form method="post" action=QueueTestMail::url()>
                <button type="submit" class="secondary">{tr("mail-queue-test-button")}</button>
            </form>
        </section>
    }
}

/// A server function the island calls: an action, without what `ServerAction` adds (an error
/// read from the page's URL, which only the page without JavaScript gets, and the server
/// renders): that costs the wasm a base64 decoder and a second error decoder.
pub type Call<S> = Action<S, Result<<S as ServerFn>::Output, AppError>>;

fn call<S>() -> Call<S>
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
{
    Action::new(|input: &S| S::run_on_client(input.clone()))
}

/// The settings form: an island.
#[island]
fn MailForm(
    current: MailSettingsView,
    initial: MailServerForm,
    server_errors: FieldErrors,
    words: Words,
) -> impl IntoView {
    let state = FormState::new(&current, initial.clone(), server_errors, words);
    // Read before hydration (which sets the inputs from the server's values), applied right
    // after it: hydration must start from the state the server rendered.
    let typed = StoredValue::new(Some(browser::typed_over(initial.clone())));
    Effect::new(move |_| {
        if let Some((form, send_to, edited)) = typed.try_update_value(Option::take).flatten() {
            if !edited.is_empty() {
                state.form.set(form);
                state.touched.update(|t| t.extend(edited));
            }
            state.send_to.set(send_to);
        }
    });
    browser::mark_hydrated();
    browser::warn_before_leaving(state);

    let save = call::<SaveMailSettings>();
    let test = call::<TestMailServer>();
    let managed = !current.managed.is_empty();
    let version = RwSignal::new(current.version);
    let saved_at = RwSignal::new(current.saved_at.clone());
    let audit_shown = RwSignal::new(current.audit_shown.clone());
    let tests_shown = RwSignal::new(current.tests_shown.clone());
    // Values dispatched to a test, and whether a save carries tested values.
    let testing = StoredValue::new(None::<MailServerForm>);
    let saving_tested = StoredValue::new(false);
    // "Save" with untested values asks first.
    let confirm = RwSignal::new(false);
    let note = RwSignal::new(None::<String>);
    // The last report stays in view when the next test is refused by the rate limit, and the
    // button counts down until tests are allowed again.
    let last_report = RwSignal::new(None::<(TestAnswer, MailServerForm)>);
    let wait_secs = RwSignal::new(0u64);

    // The first field at fault gets focus (opening "Advanced" if it is there).
    let reveal = move |first: Field| browser::focus(browser::field_selector(first));

    Effect::new(move |_| match save.value().get() {
        Some(Ok(view)) => {
            // The saved form (a kept password now blank) is still the one the last report was for.
            let before = state.form.get_untracked();
            last_report.update(|r| {
                if let Some((_, form)) = r.as_mut().filter(|(_, form)| *form == before) {
                    *form = view.form.clone();
                }
            });
            if saving_tested.get_value() {
                state.tested.update(|t| {
                    if let Some(t) = t {
                        t.form = view.form.clone();
                    }
                });
            }
            state.adopt(&view, false);
            version.set(view.version);
            saved_at.set(view.saved_at.clone());
            audit_shown.set(view.audit_shown.clone());
        }
        Some(Err(AppError::Invalid { errors, .. })) => {
            let first = errors.first();
            state.server_errors.set(errors);
            state.submitted.set(true);
            if let Some(first) = first {
                reveal(first);
            }
        }
        Some(Err(AppError::Conflict { .. })) => browser::focus("#save-status"),
        _ => {}
    });

    Effect::new(move |_| match test.value().get() {
        Some(Ok(answer)) => {
            state
                .fault
                .set(answer.diagnosis.and_then(crate::report::Diagnosis::field));
            tests_shown.set(answer.tests_shown.clone());
            let form = testing.get_value().unwrap_or_else(|| state.form.get_untracked());
            if answer.diagnosis.is_none() {
                state.tested.set(Some(Tested {
                    form: form.clone(),
                    at: answer.finished_at.clone(),
                }));
            }
            last_report.set(Some((answer, form)));
            browser::focus("#test-result-heading");
        }
        Some(Err(AppError::RateLimited { retry_after_secs, .. })) => {
            let counting = wait_secs.get_untracked() > 0;
            wait_secs.set(retry_after_secs);
            if !counting {
                browser::count_down(wait_secs);
            }
        }
        Some(Err(AppError::Invalid { errors, .. })) => {
            state.server_errors.set(errors);
            state.submitted.set(true);
        }
        _ => {}
    });

    let run_test = move || {
        if test.pending().get_untracked() || wait_secs.get_untracked() != 0 {
            return;
        }
        confirm.set(false);
        state.test_tried.set(true);
        state.submitted.set(true);
        if let Some(first) = state.first_test_blocker() {
            reveal(first);
            return;
        }
        state.fault.set(None);
        let form = state.form.get_untracked();
        testing.set_value(Some(form.clone()));
        test.dispatch(TestMailServer {
            form,
            send_to: state.send_to.get_untracked(),
        });
    };
    let save_now = move || {
        confirm.set(false);
        note.set(None);
        saving_tested.set_value(state.tested_now());
        save.dispatch(SaveMailSettings {
            version: version.get_untracked(),
            form: state.form.get_untracked(),
        });
    };
    // "Save": valid values only, and untested ones only after a confirmation.
    let try_save = move || {
        if save.pending().get_untracked() {
            return;
        }
        state.submitted.set(true);
        let first = state.errors.read_untracked().first();
        if let Some(first) = first {
            reveal(first);
            return;
        }
        if untrack(|| state.tested_now()) {
            save_now();
        } else {
            confirm.set(true);
            // The safe choice first.
            browser::focus("#confirm-test");
        }
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        // Sign in and Disconnect post the form to their own server functions, as pages.
        if browser::submitted_elsewhere(&ev) {
            return;
        }
        ev.prevent_default();
        try_save();
    };
    // Enter in a field tests values that have not passed a test, and saves only tested ones.
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if !browser::is_enter_in_text_input(&ev) {
            return;
        }
        ev.prevent_default();
        if untrack(|| state.tested_now()) {
            try_save();
        } else {
            run_test();
        }
    };

    // Advanced fields with errors must be visible: open the section (never close it for the admin).
    let advanced_has_error = move || Field::ADVANCED.into_iter().any(|f| state.message(f).is_some());
    let advanced = NodeRef::<leptos::html::Details>::new();
    Effect::new(move |_| {
        if let (true, Some(details)) = (advanced_has_error(), advanced.get()) {
            details.set_open(true);
        }
    });

    // The save's status, one optional part each (no type-erased branches).
    let saving = move || {
        save.pending()
            .get()
            .then(|| view! { <p class="muted">{state.w("form-saving")}</p> })
    };
    let answer = move || (!save.pending().get()).then(|| save.value().get()).flatten();
    let noted = move || note.get().map(|n| view! { <p class="note">{n}</p> });
    let saved = move || {
        answer()
            .and_then(Result::ok)
            .filter(|_| !state.dirty())
            .map(|view| {
                let (before, after) =
                    state.around(&Said::new("form-saved").with("version", view.version), "at");
                view! { <p class="ok">{before} <Time at=view.saved_at.unwrap_or_default() /> {after}</p> }
            })
    };
    // "Last saved" below says it only while the status above does not.
    let just_saved = move || !state.dirty() && matches!(answer(), Some(Ok(_)));
    let conflict = move || {
        answer()
            .and_then(|a| match a {
                Err(AppError::Conflict {
                    newer: Some(newer), ..
                }) => Some(*newer),
                _ => None,
            })
            .map(|newer| view! { <ConflictNotice state newer save version saved_at audit_shown note /> })
    };
    let failed = move || {
        answer()
            .and_then(Result::err)
            .filter(|e| !matches!(e, AppError::Conflict { .. }))
            .map(|e| error_view(state, e))
    };

    let password_hint = move || {
        if state.password_saved.get() && !state.login_changed() {
            "form-password-saved-hint"
        } else {
            "form-password-hint"
        }
    };
    let busy = |b: bool| if b { "true" } else { "false" };
    let test_unavailable = move || test.pending().get() || wait_secs.get() != 0;

    // Without JavaScript the form posts itself, URL-encoded; the island saves with JSON.
    let save_url = <SaveMailSettingsForm as ServerFn>::url();
    view! {
        <form
            method="post"
            action=save_url
            class="settings-form"
            id="mail-form"
            novalidate
            on:submit=on_submit
            on:keydown=on_keydown
        >
            <input type="hidden" name="version" value=current.version.to_string() prop:value=move || version.get().to_string() />
            // Managed by configuration: shown, not edited (Test Email Server still sends with them).
            <fieldset class="managed-wrap" disabled=managed>
            <legend class="visually-hidden">{state.w("form-legend-settings")}</legend>
            <fieldset class="section">
                <legend>{state.w("form-section-server")}</legend>
                <PresetPicker state />
                <TextField state field=Field::Host example="smtp.example.com" autocomplete="off" required=true />
                <TextField state field=Field::Port example="587" autocomplete="off" inputmode="numeric" required=true
                    on_change=Callback::new(move |()| port_changed(state)) note=state.port_note />
                <div class="field">
                    <label for="server_type">{state.label(Field::ServerType)}</label>
                    <select id="server_type" name="form[server_type]">
                        <option value="SMTP" selected>"SMTP"</option>
                    </select>
                </div>
            </fieldset>
            <fieldset class="section">
                <legend>{state.w("form-section-authentication")}</legend>
                <ChoiceField state field=Field::Authentication
                    options=domain::Authentication::ALL.iter().map(|a| (a.as_str(), a.label_id())).collect() />
                // Which of these apply follows Authentication, in the stylesheet (`:has()`), so
                // it works without JavaScript too.
                <div class="account-field">
                    <TextField state field=Field::Account example="alerts@example.com" autocomplete="off"
                        required=Signal::derive(move || state.signs_in()) />
                </div>
                <div class="password-field">
                    <TextField state field=Field::Password kind="password"
                        required=Signal::derive(move || state.uses_password() && (!state.password_saved.get() || state.login_changed()))
                        autocomplete="new-password" hint=Signal::derive(password_hint) />
                </div>
                <div class="oauth-fields">
                    <ChoiceField state field=Field::OAuthGrant
                        options=domain::Grant::ALL.iter().map(|g| (g.as_str(), g.label_id())).collect()
                        on_change=Callback::new(move |grant: String| grant_changed(state, &grant)) />
                    // Which of these apply follows Sign in as, in the stylesheet (works without script).
                    <p class="hint app-only">{state.w("form-grant-app-hint")}</p>
                    <p class="hint mailbox-only">
                        {state.w("form-grant-mailbox-hint")}
                        <code id="redirect-uri">{current.redirect_uri.clone()}</code>
                    </p>
                    // Only where an endpoint in use has {tenant} in it (Microsoft's).
                    <div class="tenant-field" hidden=move || !state.needs_tenant()>
                        <TextField state field=Field::OAuthTenant example="contoso.onmicrosoft.com" autocomplete="off"
                            required=Signal::derive(move || state.uses_oauth() && state.needs_tenant())
                            hint=Signal::stored("form-tenant-hint") />
                    </div>
                    <TextField state field=Field::OAuthClientId example="0b1c2d3e-…" autocomplete="off"
                        required=Signal::derive(move || state.uses_oauth()) />
                    <TextField state field=Field::OAuthClientSecret kind="password" autocomplete="new-password"
                        required=Signal::derive(move || state.uses_oauth() && !state.client_secret_saved.get())
                        hint=Signal::derive(move || if state.client_secret_saved.get() {
                            "form-client-secret-saved-hint"
                        } else {
                            "form-client-secret-hint"
                        }) />
                    <TextField state field=Field::OAuthTokenUrl autocomplete="off"
                        example="https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
                        required=Signal::derive(move || state.uses_oauth()) />
                    <div class="mailbox-only">
                        <TextField state field=Field::OAuthAuthUrl autocomplete="off"
                            example="https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize"
                            required=Signal::derive(move || state.uses_oauth() && state.form.read().oauth_grant == domain::Grant::Mailbox.as_str()) />
                        <ConnectedMailbox state />
                    </div>
                    <TextField state field=Field::OAuthScopes autocomplete="off"
                        example="https://outlook.office365.com/.default"
                        required=Signal::derive(move || state.uses_oauth() && state.scopes_needed().is_some())
                        hint=Signal::derive(move || if state.scopes_needed().is_some() {
                            "form-scopes-needed-hint"
                        } else {
                            "form-scopes-optional-hint"
                        }) />
                </div>
            </fieldset>
            <fieldset class="section">
                <legend>{state.w("form-section-sender")}</legend>
                <TextField state field=Field::FromAddress example="alerts@example.com" autocomplete="off" required=true
                    hint=Signal::stored("form-from-hint") />
                <TextField state field=Field::FromName example="Mailroom Alerts" autocomplete="off" />
            </fieldset>
            <EncryptionSwitches state initial=(initial.starttls, initial.ssl) />
            <details class="advanced section" node_ref=advanced open=advanced_has_error()>
                <summary>{state.w("form-advanced")}</summary>
                <TextField state field=Field::HeloName example="mail.example.com" autocomplete="off"
                    hint=Signal::stored("form-helo-hint") />
                <TextField state field=Field::Timeout example="15" autocomplete="off" inputmode="numeric" />
                <TextField state field=Field::ReplyTo example="support@example.com" autocomplete="off" />
                <CaField state initial=initial.ca_pem.clone() />
                <SkipVerifySwitch state initial=initial.skip_verify />
            </details>
            </fieldset>
            <div class="field send-to">
                <label for="send_to">{state.label(Field::SendTo)}</label>
                <input id="send_to" type="email" autocomplete="off" placeholder=state.w("form-send-to-placeholder")
                    prop:value=move || state.send_to.get()
                    aria-invalid=move || busy(state.message(Field::SendTo).is_some())
                    aria-describedby="send_to-message"
                    on:input=move |ev| {
                        state.send_to.set(event_target_value(&ev));
                        state.touched.update(|t| {
                            t.insert(Field::SendTo);
                        });
                        state.server_errors.update(|e| e.0.retain(|(f, _)| *f != Field::SendTo));
                    }
                    on:blur=move |_| state.left(Field::SendTo) />
                <p class="message" id="send_to-message">{move || state.message(Field::SendTo)}</p>
            </div>
            // Busy and waiting buttons stay focusable (aria-disabled), so focus never drops to
            // the page; their handlers ignore clicks meanwhile.
            <div class="actions">
                <button type="button" id="test" class="secondary" on:click=move |_| run_test()
                    aria-disabled=move || busy(test_unavailable())
                    aria-busy=move || busy(test.pending().get())>
                    {move || match (test.pending().get(), wait_secs.get()) {
                        (true, _) => state.w("form-testing"),
                        (false, 0) => state.w("form-test"),
                        (false, n) => state.say(&Said::new("form-test-again").with("seconds", n)),
                    }}
                </button>
                {(!managed).then(|| view! {
                    <button type="submit" id="save" aria-disabled=move || busy(save.pending().get())>{state.w("form-save")}</button>
                })}
                <Show when=move || state.dirty()>
                    <span class="badge" data-testid="unsaved">{state.w("form-unsaved")}</span>
                </Show>
            </div>
            <Show when=move || confirm.get()>
                <div class="confirm" role="group" aria-labelledby="confirm-text">
                    <p id="confirm-text">{state.w("form-confirm-text")}</p>
                    <button type="button" class="secondary" id="confirm-test" on:click=move |_| run_test()>{state.w("form-confirm-test")}</button>
                    <button type="button" id="confirm-save" on:click=move |_| save_now()>{state.w("form-confirm-save")}</button>
                </div>
            </Show>
            // Live regions that exist before anything is said in them, so screen readers announce
            // the save status and the test result when they arrive.
            <div class="live" role="status" id="save-status" tabindex="-1">
                {saving} {noted} {saved} {conflict} {failed}
            </div>
            <div class="live" aria-live="polite"><TestResult test state last_report /></div>
            <p class="visually-hidden" aria-live="polite">{move || state.announcement.get()}</p>
            <TestedStatus state tests_shown />
            <p class="muted">
                {move || saved_at.get().filter(|_| !just_saved()).map(|t| {
                    let (before, after) = state.around(&Said::new("form-last-saved").with("version", version.get()), "at");
                    view! { {before} <Time at=t /> {after} }
                })}
            </p>
        </form>
        <p class="muted small">{state.say(&Said::new("form-signed-in-as").with("admin", &current.admin))}</p>
        <section class="audit" aria-labelledby="audit-heading" inner_html=move || audit_shown.get()></section>
    }
}

/// A save refused because the settings were saved elsewhere since the page loaded: who saved,
/// what changed (the server's words: `MailSettingsView::conflict_shown`), and the choice to
/// keep these edits on top of that version or to take it.
#[component]
fn ConflictNotice(
    state: FormState,
    newer: MailSettingsView,
    save: Call<SaveMailSettings>,
    version: RwSignal<u64>,
    saved_at: RwSignal<Option<String>>,
    audit_shown: RwSignal<String>,
    note: RwSignal<Option<String>>,
) -> impl IntoView {
    let take = move |view: MailSettingsView, keep_edits: bool| {
        state.adopt(&view, keep_edits);
        version.set(view.version);
        saved_at.set(view.saved_at.clone());
        audit_shown.set(view.audit_shown.clone());
        save.value().set(None);
        let id = if keep_edits { "form-note-kept" } else { "form-note-taken" };
        note.set(Some(state.say(&Said::new(id).with("version", view.version))));
        browser::focus(if keep_edits { "#save" } else { "#host" });
    };
    let shown = newer.conflict_shown.clone();
    let (keep, take_theirs) = (newer.clone(), newer);
    view! {
        <div class="conflict" data-testid="conflict">
            <div inner_html=shown></div>
            <p class="actions">
                <button type="button" on:click=move |_| take(keep.clone(), true)>
                    {state.w("form-conflict-keep")}
                </button>
                <button type="button" class="secondary" on:click=move |_| take(take_theirs.clone(), false)>
                    {state.w("form-conflict-discard")}
                </button>
            </p>
        </div>
    }
}

/// What a refused save says (server-side, in the page's language): who saved since the page's
/// version (`unseen`, newest first; "you" when it was this admin elsewhere), when, and what
/// changed.
#[cfg(feature = "ssr")]
pub fn conflict_shown(unseen: &[AuditLine], admin: &str, at: &str) -> String {
    use crate::i18n::{tr_around, tr_args};
    let who = unseen.first().map_or_else(
        || tr("form-conflict-someone"),
        |l| if l.who == admin { tr("form-conflict-you") } else { l.who.clone() },
    );
    let changes = unseen.iter().flat_map(|l| l.changes.iter().cloned()).collect::<Vec<_>>().join("; ");
    let changes = if changes.is_empty() { tr("form-conflict-no-field") } else { changes };
    let (before, after) = tr_around("form-conflict-who", &[("who", who.into())]);
    view! {
        <p class="error">
            <strong>{tr("form-conflict-not-saved")}</strong>
            {before} <Time at=at.to_string() /> {after}
        </p>
        <p>{tr_args("form-conflict-changes", &[("changes", changes.into())])}</p>
    }
    .to_html()
}

/// The port changed: if the admin never touched the switches, set the encryption the port
/// usually means, and say so.
fn port_changed(state: FormState) {
    if state.encryption_touched.get_untracked() {
        return;
    }
    let port = domain::Port::parse(&state.form.read_untracked().port).ok();
    let Some(port) = port else { return };
    let Some(usual) = Encryption::usual_for_port(port.get()) else {
        return;
    };
    let current = {
        let f = state.form.read_untracked();
        Encryption::parse(f.starttls, f.ssl).ok()
    };
    if current != Some(usual) {
        state.set_encryption(usual);
        state.auto_note.set(None);
        let encryption = state.w(usual.describe_id());
        state.port_note.set(Some(
            state.say(
                &Said::new("form-port-note")
                    .with("port", port.get())
                    .with("encryption", encryption),
            ),
        ));
    }
}

/// OAuth2 as a mailbox: which mailbox is connected, "Sign in with …" (a link: the provider's
/// pages, then back) and Disconnect (posts the form to its own server function, `formaction`).
/// The sign-in uses the saved settings. What only changes with a save is the server's HTML
/// (`MailboxView::shown`); the island adds what follows the form as it is edited.
#[component]
fn ConnectedMailbox(state: FormState) -> impl IntoView {
    let mailbox = move || state.mailbox.get();
    let unsaved = move || mailbox().is_none().then(|| state.w("form-mailbox-unsaved"));
    let shown = move || mailbox().map(|m| m.shown).unwrap_or_default();
    // XOAUTH2 signs in as Email Account: another account than the one connected fails.
    let mismatch = move || {
        let (connected, ..) = mailbox()?.connected?;
        let differs = !connected.is_empty() && !state.form.read().account.trim().eq_ignore_ascii_case(&connected);
        differs.then(|| state.say(&Said::new("form-mailbox-mismatch").with("mailbox", connected)))
    };
    let dirty = move || (mailbox().is_some() && state.dirty()).then(|| state.w("form-mailbox-dirty"));
    view! {
        <div class="connected-mailbox" role="group" aria-labelledby="mailbox-heading">
            <h3 id="mailbox-heading">{state.w("form-mailbox-heading")}</h3>
            <p class="muted">{unsaved}</p>
            <div inner_html=shown></div>
            <p class="warning" data-testid="mailbox-mismatch">{mismatch}</p>
            <p class="muted">{dirty}</p>
        </div>
    }
}

/// The connected mailbox's part that changes only with a save (server-side, in the page's
/// language): the mailbox with Disconnect, or that none is connected; and "Sign in with …".
#[cfg(feature = "ssr")]
pub fn mailbox_shown(mailbox: &crate::api::MailboxView) -> String {
    use crate::api::oauth::DisconnectMailbox;
    use crate::i18n::tr_args;
    let connected = mailbox.connected.clone().map(|(account, at, by)| {
        let account = if account.is_empty() { tr("form-mailbox-unnamed") } else { account };
        let (before, after) = crate::i18n::tr_around("form-mailbox-connected-by", &[("by", by.into())]);
        view! {
            <p class="ok" data-testid="connected-mailbox">
                {tr("form-mailbox-connected")} <strong>{account}</strong> {before} <Time at /> {after}
            </p>
            <button type="submit" class="secondary" formaction=DisconnectMailbox::url() formmethod="post" formnovalidate>
                {tr("form-disconnect")}
            </button>
        }
    });
    let none = mailbox.connected.is_none().then(|| view! { <p class="warning" data-testid="no-mailbox">{tr("form-mailbox-none")}</p> });
    let brand = if mailbox.provider.is_empty() { tr("form-the-provider") } else { mailbox.provider.clone() };
    view! {
        {connected}
        {none}
        <a class="button" id="mailbox-sign-in" href=crate::routes::OAUTH_START>{tr_args("form-sign-in-with", &[("brand", brand.into())])}</a>
    }
    .to_html()
}

/// OAuth2's "Sign in as" changed: the provider's scopes for it, unless scopes were typed.
fn grant_changed(state: FormState, grant: &str) {
    let Ok(grant) = domain::Grant::parse(grant) else {
        return;
    };
    let scopes = domain::ProviderOAuth::switched_scopes(&state.form.read_untracked(), grant);
    if let Some(scopes) = scopes {
        state.edit(Field::OAuthScopes, |f| f.oauth_scopes = scopes.to_string());
    }
}

/// The latest saves: who, when, which fields (the change history's section, rendered on the
/// server: `MailSettingsView::audit_shown`).
#[cfg(feature = "ssr")]
pub fn audit_shown(audit: &[AuditLine]) -> String {
    view! {
        <h2 id="audit-heading">{tr("form-history-title")}</h2>
        {audit.is_empty().then(|| view! { <p class="muted">{tr("form-history-none")}</p> })}
        {(!audit.is_empty()).then(|| view! {
            <ol class="audit-list">
                {audit.iter().map(|e| view! {
                    <li>
                        <strong><Time at=e.at.clone() /></strong>
                        " \u{2014} "
                        {e.who.clone()}
                        ": "
                        {e.changes.join("; ")}
                    </li>
                }).collect_view()}
            </ol>
        })}
    }
    .to_html()
}
