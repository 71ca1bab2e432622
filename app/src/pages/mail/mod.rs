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

use crate::api::{
    activity::QueueTestMail, mail::load_mail_settings, MailSettingsView, SaveMailSettings, SaveMailSettingsForm, TestMailServer,
};
use crate::domain::{self, Encryption, Field, FieldErrors, MailServerForm};
use crate::error::AppError;
use crate::i18n::tr;
use crate::history::{AuditLine, TestOutcome};
use crate::report::TestReport;
use fields::{CaField, ChoiceField, EncryptionSwitches, PresetPicker, SkipVerifySwitch, TextField};
use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use result::{error_view, TestResult, TestedStatus};
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
                    view! { {managed} <MailForm current initial server_errors /> }.into_any()
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
                        <tr><td>{field.label()}</td><td><code>{source}</code></td></tr>
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

/// The settings form: an island.
#[island]
fn MailForm(current: MailSettingsView, initial: MailServerForm, server_errors: FieldErrors) -> impl IntoView {
    let state = FormState::new(&current, initial.clone(), server_errors);
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

    let save = ServerAction::<SaveMailSettings>::new();
    let test = ServerAction::<TestMailServer>::new();
    let managed = !current.managed.is_empty();
    let version = RwSignal::new(current.version);
    let saved_at = RwSignal::new(current.saved_at.clone());
    let audit = RwSignal::new(current.audit.clone());
    let history = RwSignal::new(current.tests.clone());
    let admin = StoredValue::new(current.admin.clone());
    // Values dispatched to a test, and whether a save carries tested values.
    let testing = StoredValue::new(None::<MailServerForm>);
    let saving_tested = StoredValue::new(false);
    // "Save" with untested values asks first.
    let confirm = RwSignal::new(false);
    let note = RwSignal::new(None::<String>);
    // The last report stays in view when the next test is refused by the rate limit, and the
    // button counts down until tests are allowed again.
    let last_report = RwSignal::new(None::<(TestReport, MailServerForm)>);
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
            audit.set(view.audit.clone());
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
        Some(Ok(report)) => {
            state.fault.set(report.field());
            history.update(|h| h.record(TestOutcome::from(&report)));
            let form = testing.get_value().unwrap_or_else(|| state.form.get_untracked());
            if report.success() {
                state.tested.set(Some(Tested {
                    form: form.clone(),
                    at: report.finished_at.clone(),
                }));
            }
            last_report.set(Some((report, form)));
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
            .then(|| view! { <p class="muted">"Saving…"</p> })
    };
    let answer = move || (!save.pending().get()).then(|| save.value().get()).flatten();
    let noted = move || note.get().map(|n| view! { <p class="note">{n}</p> });
    let saved = move || {
        answer().and_then(Result::ok).filter(|_| !state.dirty()).map(|view| {
            let version = format!(" (version {}).", view.version);
            view! { <p class="ok">"Saved at " <Time at=view.saved_at.unwrap_or_default() /> {version}</p> }
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
            .map(|newer| view! { <ConflictNotice state newer save version saved_at audit admin note /> })
    };
    let failed = move || {
        answer()
            .and_then(Result::err)
            .filter(|e| !matches!(e, AppError::Conflict { .. }))
            .map(error_view)
    };

    let password_hint = move || {
        if state.password_saved.get() && !state.login_changed() {
            "A password is saved. Leave blank to keep it."
        } else {
            "Some providers (163, 126, QQ, Sina) want an authorization code here, Gmail an app password."
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
            <legend class="visually-hidden">"Settings"</legend>
            <fieldset class="section">
                <legend>"Server"</legend>
                <PresetPicker state />
                <TextField state field=Field::Host placeholder="e.g. smtp.example.com" autocomplete="off" required=true />
                <TextField state field=Field::Port placeholder="e.g. 587" autocomplete="off" inputmode="numeric" required=true
                    on_change=Callback::new(move |()| port_changed(state)) note=state.port_note />
                <div class="field">
                    <label for="server_type">{Field::ServerType.label()}</label>
                    <select id="server_type" name="form[server_type]">
                        <option value="SMTP" selected>"SMTP"</option>
                    </select>
                </div>
            </fieldset>
            <fieldset class="section">
                <legend>"Authentication"</legend>
                <ChoiceField state field=Field::Authentication
                    options=domain::Authentication::ALL.iter().map(|a| (a.as_str(), a.label())).collect() />
                // Which of these apply follows Authentication, in the stylesheet (`:has()`), so
                // it works without JavaScript too.
                <div class="account-field">
                    <TextField state field=Field::Account placeholder="e.g. alerts@example.com" autocomplete="off"
                        required=Signal::derive(move || state.signs_in()) />
                </div>
                <div class="password-field">
                    <TextField state field=Field::Password kind="password"
                        required=Signal::derive(move || state.uses_password() && (!state.password_saved.get() || state.login_changed()))
                        autocomplete="new-password" hint=Signal::derive(password_hint) />
                </div>
                <div class="oauth-fields">
                    <ChoiceField state field=Field::OAuthGrant
                        options=domain::Grant::ALL.iter().map(|g| (g.as_str(), g.label())).collect()
                        on_change=Callback::new(move |grant: String| grant_changed(state, &grant)) />
                    // Which of these apply follows Sign in as, in the stylesheet (works without script).
                    <p class="hint app-only">
                        "The app gets its tokens itself, with its client ID and secret (client credentials): nobody signs in in the browser."
                    </p>
                    <p class="hint mailbox-only">
                        "A mailbox signs in once in the browser. Register this redirect URI with the app, save, then use Sign in under Connected mailbox: "
                        <code id="redirect-uri">{current.redirect_uri.clone()}</code>
                    </p>
                    // Only where an endpoint in use has {tenant} in it (Microsoft's).
                    <div class="tenant-field" hidden=move || !state.needs_tenant()>
                        <TextField state field=Field::OAuthTenant placeholder="e.g. contoso.onmicrosoft.com" autocomplete="off"
                            required=Signal::derive(move || state.uses_oauth() && state.needs_tenant())
                            hint=Signal::stored("The directory (tenant) ID or domain; it goes where the endpoint says {tenant}.") />
                    </div>
                    <TextField state field=Field::OAuthClientId placeholder="e.g. 0b1c2d3e-…" autocomplete="off"
                        required=Signal::derive(move || state.uses_oauth()) />
                    <TextField state field=Field::OAuthClientSecret kind="password" autocomplete="new-password"
                        required=Signal::derive(move || state.uses_oauth() && !state.client_secret_saved.get())
                        hint=Signal::derive(move || if state.client_secret_saved.get() {
                            "A client secret is saved. Leave blank to keep it."
                        } else {
                            "The secret's value (shown once when it was created), not its ID."
                        }) />
                    <TextField state field=Field::OAuthTokenUrl autocomplete="off"
                        placeholder="e.g. https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
                        required=Signal::derive(move || state.uses_oauth()) />
                    <div class="mailbox-only">
                        <TextField state field=Field::OAuthAuthUrl autocomplete="off"
                            placeholder="e.g. https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize"
                            required=Signal::derive(move || state.uses_oauth() && state.form.read().oauth_grant == domain::Grant::Mailbox.as_str()) />
                        <ConnectedMailbox state />
                    </div>
                    <TextField state field=Field::OAuthScopes autocomplete="off"
                        placeholder="e.g. https://outlook.office365.com/.default"
                        required=Signal::derive(move || state.uses_oauth() && state.scopes_needed().is_some())
                        hint=Signal::derive(move || if state.scopes_needed().is_some() {
                            "This provider needs the scopes its preset fills in."
                        } else {
                            "Optional: blank asks for the provider's default."
                        }) />
                </div>
            </fieldset>
            <fieldset class="section">
                <legend>"Sender"</legend>
                <TextField state field=Field::FromAddress placeholder="e.g. alerts@example.com" autocomplete="off" required=true
                    hint=Signal::stored("Usually the same as Email Account.") />
                <TextField state field=Field::FromName placeholder="e.g. Mailroom Alerts" autocomplete="off" />
            </fieldset>
            <EncryptionSwitches state initial=(initial.starttls, initial.ssl) />
            <details class="advanced section" node_ref=advanced open=advanced_has_error()>
                <summary>"Advanced"</summary>
                <TextField state field=Field::HeloName placeholder="e.g. mail.example.com" autocomplete="off"
                    hint=Signal::stored("Blank: this machine's host name.") />
                <TextField state field=Field::Timeout placeholder="e.g. 15" autocomplete="off" inputmode="numeric" />
                <TextField state field=Field::ReplyTo placeholder="e.g. support@example.com" autocomplete="off" />
                <CaField state initial=initial.ca_pem.clone() />
                <SkipVerifySwitch state initial=initial.skip_verify />
            </details>
            </fieldset>
            <div class="field send-to">
                <label for="send_to">{Field::SendTo.label()}</label>
                <input id="send_to" type="email" autocomplete="off" placeholder="Blank: the Email Account"
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
                        (true, _) => "Testing…".to_string(),
                        (false, 0) => "Test Email Server".to_string(),
                        (false, n) => format!("Test again in {n} s"),
                    }}
                </button>
                {(!managed).then(|| view! {
                    <button type="submit" id="save" aria-disabled=move || busy(save.pending().get())>"Save"</button>
                })}
                <Show when=move || state.dirty()>
                    <span class="badge" data-testid="unsaved">"Unsaved changes"</span>
                </Show>
            </div>
            <Show when=move || confirm.get()>
                <div class="confirm" role="group" aria-labelledby="confirm-text">
                    <p id="confirm-text">
                        "These values have not passed a test: alert and password-reset mail may fail with them."
                    </p>
                    <button type="button" class="secondary" id="confirm-test" on:click=move |_| run_test()>"Test Email Server first"</button>
                    <button type="button" id="confirm-save" on:click=move |_| save_now()>"Save without testing"</button>
                </div>
            </Show>
            // Live regions that exist before anything is said in them, so screen readers announce
            // the save status and the test result when they arrive.
            <div class="live" role="status" id="save-status" tabindex="-1">
                {saving} {noted} {saved} {conflict} {failed}
            </div>
            <div class="live" aria-live="polite"><TestResult test state last_report /></div>
            <p class="visually-hidden" aria-live="polite">{move || state.announcement.get()}</p>
            <TestedStatus state history shown_report=Signal::derive(move || last_report.read().is_some()) />
            <p class="muted">
                {move || saved_at.get().filter(|_| !just_saved()).map(|t| view! {
                    "Last saved " <Time at=t /> {format!(" (version {}).", version.get())}
                })}
            </p>
        </form>
        <p class="muted small">"Signed in as " {current.admin.clone()}</p>
        <AuditLog audit />
    }
}

/// A save refused because the settings were saved elsewhere since the page loaded: who saved,
/// what changed, and the choice to keep these edits on top of that version or to take it.
#[component]
fn ConflictNotice(
    state: FormState,
    newer: MailSettingsView,
    save: ServerAction<SaveMailSettings>,
    version: RwSignal<u64>,
    saved_at: RwSignal<Option<String>>,
    audit: RwSignal<Vec<AuditLine>>,
    admin: StoredValue<String>,
    note: RwSignal<Option<String>>,
) -> impl IntoView {
    let take = move |view: MailSettingsView, keep_edits: bool| {
        state.adopt(&view, keep_edits);
        version.set(view.version);
        saved_at.set(view.saved_at.clone());
        audit.set(view.audit.clone());
        save.value().set(None);
        note.set(Some(if keep_edits {
            format!(
                "Your edits now apply on top of version {}. Check them, then save.",
                view.version
            )
        } else {
            format!("The form now shows version {}.", view.version)
        }));
        browser::focus(if keep_edits { "#save" } else { "#host" });
    };
    let view = newer;

    // The saves this page has not seen yet, newest first.
    let unseen: Vec<AuditLine> = view
        .audit
        .iter()
        .filter(|l| !audit.read_untracked().contains(l))
        .cloned()
        .collect();
    let who = unseen.first().map_or_else(
        || "Someone".to_string(),
        |l| {
            if admin.get_value() == l.who {
                "You (in another tab or window)".to_string()
            } else {
                l.who.clone()
            }
        },
    );
    let changes = unseen
        .iter()
        .flat_map(|l| l.changes.iter().cloned())
        .collect::<Vec<_>>()
        .join("; ");
    let at = view.saved_at.clone().unwrap_or_default();
    let (keep, take_theirs) = (view.clone(), view);
    view! {
        <div class="conflict" data-testid="conflict">
            <p class="error">
                <strong>"Not saved. "</strong>
                {who} " saved these settings at " <Time at /> " after you opened this page."
            </p>
            <p>"What changed: " {if changes.is_empty() { "no field".to_string() } else { changes }} "."</p>
            <p class="actions">
                <button type="button" on:click=move |_| take(keep.clone(), true)>
                    "Keep my edits on top of that version"
                </button>
                <button type="button" class="secondary" on:click=move |_| take(take_theirs.clone(), false)>
                    "Discard my edits"
                </button>
            </p>
        </div>
    }
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
        state.port_note.set(Some(format!(
            "Port {} usually means {}, so it is now on under Encryption. Change it there if your server differs.",
            port.get(),
            usual.describe()
        )));
    }
}

/// OAuth2 as a mailbox: which mailbox is connected, "Sign in with …" (a link: the provider's
/// pages, then back) and Disconnect (posts the form to its own server function, `formaction`).
/// The sign-in uses the saved settings.
#[component]
fn ConnectedMailbox(state: FormState) -> impl IntoView {
    use crate::api::oauth::DisconnectMailbox;
    // One optional part each (no type-erased branches: they cost the wasm most).
    let mailbox = move || state.mailbox.get();
    let unsaved = move || {
        mailbox()
            .is_none()
            .then_some("Save the settings with Sign in as a mailbox, then sign in here.")
    };
    let connected = move || {
        mailbox().and_then(|m| m.connected).map(|(account, at, by)| {
            let account = if account.is_empty() { "a mailbox (the provider did not name it)".to_string() } else { account };
            view! {
                <p class="ok" data-testid="connected-mailbox">
                    "Connected: " <strong>{account}</strong> ", by " {by} " " <Time at />
                </p>
                <button type="submit" class="secondary" formaction=DisconnectMailbox::url() formmethod="post" formnovalidate>
                    "Disconnect"
                </button>
            }
        })
    };
    // XOAUTH2 signs in as Email Account: another account than the one connected fails.
    let mismatch = move || {
        let (connected, ..) = mailbox()?.connected?;
        let differs = !connected.is_empty() && !state.form.read().account.trim().eq_ignore_ascii_case(&connected);
        differs.then(|| format!(
            "Warning: Email Account differs from the connected mailbox {connected}: the server refuses a token for another account. Use {connected}, or sign in as the Email Account."
        ))
    };
    let none = move || {
        mailbox()
            .is_some_and(|m| m.connected.is_none())
            .then_some("No mailbox connected: Mailroom cannot send until one signs in.")
    };
    let sign_in = move || {
        mailbox().map(|m| {
            let brand = if m.provider.is_empty() { "the provider".to_string() } else { m.provider };
            view! {
                <a class="button" id="mailbox-sign-in" href=crate::routes::OAUTH_START>{format!("Sign in with {brand}")}</a>
            }
        })
    };
    let dirty = move || (mailbox().is_some() && state.dirty()).then_some("The sign-in uses the saved settings: save your changes first.");
    view! {
        <div class="connected-mailbox" role="group" aria-labelledby="mailbox-heading">
            <h3 id="mailbox-heading">"Connected mailbox"</h3>
            <p class="muted">{unsaved}</p>
            {connected}
            <p class="warning" data-testid="mailbox-mismatch">{mismatch}</p>
            <p class="warning" data-testid="no-mailbox">{none}</p>
            {sign_in}
            <p class="muted">{dirty}</p>
        </div>
    }
}

/// OAuth2's "Sign in as" changed: the provider's scopes for it, unless scopes were typed.
fn grant_changed(state: FormState, grant: &str) {
    let Ok(grant) = domain::Grant::parse(grant) else { return };
    let scopes = domain::ProviderOAuth::switched_scopes(&state.form.read_untracked(), grant);
    if let Some(scopes) = scopes {
        state.edit(Field::OAuthScopes, |f| f.oauth_scopes = scopes.to_string());
    }
}

/// The latest saves: who, when, which fields.
#[component]
fn AuditLog(audit: RwSignal<Vec<AuditLine>>) -> impl IntoView {
    view! {
        <section class="audit" aria-labelledby="audit-heading">
            <h2 id="audit-heading">"Change history"</h2>
            <Show when=move || !audit.read().is_empty() fallback=|| view! { <p class="muted">"No saves yet."</p> }>
                <ol class="audit-list">
                    {move || {
                        audit
                            .get()
                            .into_iter()
                            .map(|e| {
                                view! {
                                    <li>
                                        <strong><Time at=e.at.clone() /></strong>
                                        " \u{2014} "
                                        {e.who.clone()}
                                        ": "
                                        {e.changes.join("; ")}
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ol>
            </Show>
        </section>
    }
}
