//! Settings › Mail Server: the settings form with instant validation and a durable save.
//!
//! The same page works without JavaScript: the form posts to the save server function, which
//! redirects back; errors then arrive in the URL and are shown beside the fields.

use crate::api::{mail::load_mail_settings, MailSettingsView, SaveMailSettings, TestMailServer};
use crate::domain::{
    self, Encryption, Field, FieldErrors, MailServerForm, MailServerSettings, Preset, PRESETS, SES_REGIONS,
};
use crate::error::AppError;
use crate::history::{AuditLine, TestHistory, TestOutcome};
use crate::report::TestReport;
use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use std::collections::HashSet;

#[component]
pub fn MailServerPage() -> impl IntoView {
    let save = ServerAction::<SaveMailSettings>::new();
    let settings = Resource::new(|| (), |_| load_mail_settings());

    view! {
        <Title text="Mail Server · Settings · Mailroom" />
        <h1>"Mail Server"</h1>
        <p class="lead">
            "The SMTP server Mailroom uses to send alert notifications and forgotten-password emails."
        </p>
        <Suspense fallback=|| view! { <p class="muted">"Loading settings…"</p> }>
            <ErrorBoundary fallback=|errors| {
                view! {
                    <p class="error" role="alert">
                        "The settings could not be loaded: "
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
        </Suspense>
    }
}

/// "2026-11-26T18:55:03.123Z" → "2026-11-26 18:55:03 UTC".
fn show_time(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..19)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => rfc3339.to_string(),
    }
}

/// All state of the form, shared by its parts. Every field is a signal, so it is `Copy`.
#[derive(Clone, Copy)]
struct FormState {
    form: RwSignal<MailServerForm>,
    /// The form as last loaded or saved, for the unsaved-changes indicator.
    baseline: RwSignal<MailServerForm>,
    saved_login: RwSignal<Option<domain::SavedLogin>>,
    password_saved: RwSignal<bool>,
    touched: RwSignal<HashSet<Field>>,
    submitted: RwSignal<bool>,
    encryption_touched: RwSignal<bool>,
    /// What the form changed by itself (encryption after a port change), said aloud.
    auto_note: RwSignal<Option<String>>,
    server_errors: RwSignal<FieldErrors>,
    errors: Memo<FieldErrors>,
    /// "Send test to": not a setting, only the test's recipient.
    send_to: RwSignal<String>,
    test_tried: RwSignal<bool>,
    /// The field the last failed test blamed, highlighted until edited.
    fault: RwSignal<Option<Field>>,
}

impl FormState {
    fn new(current: &MailSettingsView, initial: MailServerForm, server_errors: FieldErrors) -> Self {
        let form = RwSignal::new(initial);
        let saved_login = RwSignal::new(current.saved_login.clone());
        let submitted = !server_errors.is_empty();
        Self {
            form,
            baseline: RwSignal::new(current.form.clone()),
            saved_login,
            password_saved: RwSignal::new(current.password_saved),
            touched: RwSignal::new(HashSet::new()),
            submitted: RwSignal::new(submitted),
            encryption_touched: RwSignal::new(false),
            auto_note: RwSignal::new(None),
            server_errors: RwSignal::new(server_errors),
            errors: Memo::new(move |_| {
                form.with(|f| {
                    saved_login.with(|l| MailServerSettings::parse(f, l.as_ref()).err().unwrap_or_default())
                })
            }),
            send_to: RwSignal::new(String::new()),
            test_tried: RwSignal::new(false),
            fault: RwSignal::new(None),
        }
    }

    /// Records an edit of `field` by the admin.
    fn edit(self, field: Field, change: impl FnOnce(&mut MailServerForm)) {
        self.form.update(change);
        self.touched.update(|t| {
            t.insert(field);
        });
        self.server_errors.update(|e| e.0.retain(|(f, _)| *f != field));
        if self.fault.get_untracked() == Some(field) {
            self.fault.set(None);
        }
    }

    /// True when a password is saved but host, port or account no longer match it.
    fn login_changed(self) -> bool {
        self.saved_login.with(|saved| {
            saved.as_ref().is_some_and(|saved| {
                self.form.with(|f| {
                    domain::SmtpHost::parse(&f.host)
                        .map(|h| h.as_str().to_string())
                        .ok()
                        .as_deref()
                        != Some(saved.host.as_str())
                        || domain::Port::parse(&f.port).map(|p| p.get()).ok() != Some(saved.port)
                        || f.account.trim() != saved.account
                })
            })
        })
    }

    fn password_present(self) -> bool {
        self.form.with(|f| !f.password.is_empty()) || (self.password_saved.get() && !self.login_changed())
    }

    /// The message under `field`: shown once the field was edited or a save was tried.
    fn message(self, field: Field) -> Option<String> {
        if field == Field::SendTo {
            let shown = self.test_tried.get() || self.touched.with(|t| t.contains(&field));
            let error = self
                .form
                .with(|f| self.send_to.with(|to| domain::test_recipient(f, to).err()));
            return shown
                .then_some(error)
                .flatten()
                .or_else(|| self.server_errors.with(|e| e.get(field).map(str::to_string)));
        }
        let shown = self.submitted.get()
            || self.touched.with(|t| t.contains(&field))
            || (field == Field::Password && self.login_changed());
        if !shown {
            return None;
        }
        self.errors
            .with(|e| e.get(field).map(str::to_string))
            .or_else(|| self.server_errors.with(|e| e.get(field).map(str::to_string)))
    }

    fn dirty(self) -> bool {
        self.form.with(|f| self.baseline.with(|b| f != b))
    }

    fn set_encryption(self, e: Encryption) {
        let (starttls, ssl) = e.switches();
        self.form.update(|f| (f.starttls, f.ssl) = (starttls, ssl));
    }
}

#[component]
fn MailForm(current: MailSettingsView, save: ServerAction<SaveMailSettings>) -> impl IntoView {
    // After a failed save without JavaScript the server redirected here with the submitted form
    // in the URL: show it again, with its errors, so nothing typed is lost.
    let (initial, server_errors) = match save.value().get_untracked() {
        Some(Err(AppError::Invalid { errors, submitted })) => {
            (submitted.unwrap_or_else(|| current.form.clone()), errors)
        }
        _ => (current.form.clone(), FieldErrors::default()),
    };
    let state = FormState::new(&current, initial.clone(), server_errors);
    let version = RwSignal::new(current.version);
    let saved_at = RwSignal::new(current.saved_at.clone());
    let audit = RwSignal::new(current.audit.clone());

    // A finished save: adopt what the server stored (values normalised, password blank).
    Effect::new(move |_| match save.value().get() {
        Some(Ok(view)) => {
            state.form.set(view.form.clone());
            state.baseline.set(view.form.clone());
            state.saved_login.set(view.saved_login.clone());
            state.password_saved.set(view.password_saved);
            state.touched.update(|t| t.clear());
            state.submitted.set(false);
            state.server_errors.set(FieldErrors::default());
            state.auto_note.set(None);
            version.set(view.version);
            saved_at.set(view.saved_at.clone());
            audit.set(view.audit.clone());
        }
        Some(Err(AppError::Invalid { errors, .. })) => {
            state.server_errors.set(errors);
            state.submitted.set(true);
        }
        _ => {}
    });

    warn_before_leaving(state);
    let advanced_open = RwSignal::new(false);

    let test = ServerAction::<TestMailServer>::new();
    let history = RwSignal::new(current.tests.clone());
    // The last report stays in view when the next test is refused by the rate limit, and the
    // button counts down until tests are allowed again.
    let last_report = RwSignal::new(None::<TestReport>);
    let wait_secs = RwSignal::new(0u64);
    Effect::new(move |_| match test.value().get() {
        Some(Ok(report)) => {
            state.fault.set(report.field());
            history.update(|h| h.record(TestOutcome::from(&report)));
            last_report.set(Some(report));
            focus_result();
        }
        Some(Err(AppError::RateLimited { retry_after_secs, .. })) => {
            let counting = wait_secs.get_untracked() > 0;
            wait_secs.set(retry_after_secs);
            if !counting {
                count_down(wait_secs);
            }
        }
        Some(Err(AppError::Invalid { errors, .. })) => {
            state.server_errors.set(errors);
            state.submitted.set(true);
        }
        _ => {}
    });
    // Shows the first field at fault: opens "Advanced" if it is there, and focuses it.
    let reveal = move |first: Field| {
        if Field::ADVANCED.contains(&first) {
            advanced_open.set(true);
        }
        focus_field(first);
    };
    let on_test = move |_| {
        state.test_tried.set(true);
        state.submitted.set(true);
        let first = state.errors.with_untracked(FieldErrors::first).or_else(|| {
            state
                .form
                .with_untracked(|f| {
                    state
                        .send_to
                        .with_untracked(|to| domain::test_recipient(f, to).err())
                })
                .map(|_| Field::SendTo)
        });
        if let Some(first) = first {
            reveal(first);
            return;
        }
        state.fault.set(None);
        test.dispatch(TestMailServer {
            form: state.form.get_untracked(),
            send_to: state.send_to.get_untracked(),
        });
    };

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        state.submitted.set(true);
        if let Some(first) = state.errors.with_untracked(FieldErrors::first) {
            reveal(first);
            return;
        }
        save.dispatch(SaveMailSettings {
            version: version.get_untracked(),
            form: state.form.get_untracked(),
        });
    };
    // Advanced fields with errors must be visible: open the section (never close it for the admin).
    let advanced_has_error = move || Field::ADVANCED.into_iter().any(|f| state.message(f).is_some());
    let advanced = NodeRef::<leptos::html::Details>::new();
    Effect::new(move |_| {
        let needed = advanced_open.get() || advanced_has_error();
        if let (true, Some(details)) = (needed, advanced.get()) {
            details.set_open(true);
        }
    });

    let status = move || {
        if save.pending().get() {
            return view! { <p class="muted">"Saving…"</p> }.into_any();
        }
        match save.value().get() {
            Some(Ok(view)) if !state.dirty() => view! {
                <p class="ok">
                    "Saved at " {show_time(view.saved_at.as_deref().unwrap_or_default())}
                </p>
            }
            .into_any(),
            Some(Err(AppError::Conflict { saved_at, .. })) => view! {
                <p class="error" role="alert">
                    {format!(
                        "Someone else saved these settings at {} after you opened this page, so yours were not saved. ",
                        show_time(&saved_at),
                    )}
                    <a href=crate::routes::MAIL_SETTINGS>"Reload to see their version"</a>
                    " (your unsaved edits will be replaced)."
                </p>
            }
            .into_any(),
            Some(Err(e)) => error_view(e).into_any(),
            _ => ().into_any(),
        }
    };

    let password_hint = move || {
        if state.password_saved.get() && !state.login_changed() {
            "A password is saved. Leave blank to keep it."
        } else {
            "Some providers (163, 126, QQ, Sina) want an authorization code here, Gmail an app password."
        }
    };

    let save_url = <SaveMailSettings as ServerFn>::url();
    view! {
        <PresetPicker state />
        <form
            method="post"
            action=save_url
            class="settings-form"
            id="mail-form"
            novalidate
            on:submit=on_submit
        >
            <input type="hidden" name="version" value=current.version.to_string() prop:value=move || version.get().to_string() />
            <TextField state field=Field::Host placeholder="e.g. smtp.example.com" autocomplete="off" required=true />
            <TextField state field=Field::Port placeholder="e.g. 587" autocomplete="off" inputmode="numeric" required=true
                on_change=Callback::new(move |()| port_changed(state)) />
            <TextField state field=Field::Account placeholder="e.g. alerts@example.com" autocomplete="off" required=true />
            <TextField state field=Field::Password kind="password"
                required=Signal::derive(move || !state.password_saved.get() || state.login_changed()) autocomplete="new-password" hint=Signal::derive(password_hint) />
            <div class="field">
                <label for="server_type">{Field::ServerType.label()}</label>
                <select id="server_type" name="form[server_type]">
                    <option value="SMTP" selected>"SMTP"</option>
                </select>
            </div>
            <TextField state field=Field::FromAddress placeholder="e.g. alerts@example.com" autocomplete="off" required=true
                hint=Signal::stored("Usually the same as Email Account.") />
            <TextField state field=Field::FromName placeholder="e.g. Mailroom Alerts" autocomplete="off" />
            <EncryptionSwitches state initial=(initial.starttls, initial.ssl) />
            <details class="advanced" node_ref=advanced open=advanced_has_error()>
                <summary>"Advanced"</summary>
                <TextField state field=Field::HeloName placeholder="e.g. mail.example.com" autocomplete="off"
                    hint=Signal::stored("Blank: this machine's host name.") />
                <TextField state field=Field::Timeout placeholder="e.g. 15" autocomplete="off" inputmode="numeric" />
                <TextField state field=Field::ReplyTo placeholder="e.g. support@example.com" autocomplete="off" />
                <CaField state initial=initial.ca_pem.clone() />
                <SkipVerifySwitch state initial=initial.skip_verify />
            </details>
            <div class="field send-to">
                <label for="send_to">{Field::SendTo.label()}</label>
                <input id="send_to" type="email" autocomplete="off" placeholder="Blank: the Email Account"
                    prop:value=move || state.send_to.get()
                    aria-invalid=move || if state.message(Field::SendTo).is_some() { "true" } else { "false" }
                    aria-describedby="send_to-message"
                    on:input=move |ev| {
                        state.send_to.set(event_target_value(&ev));
                        state.touched.update(|t| {
                            t.insert(Field::SendTo);
                        });
                        state.server_errors.update(|e| e.0.retain(|(f, _)| *f != Field::SendTo));
                    } />
                <p class="message" id="send_to-message">{move || state.message(Field::SendTo)}</p>
            </div>
            <div class="actions">
                <button type="button" class="secondary" on:click=on_test
                    disabled=move || test.pending().get() || wait_secs.get() != 0
                    aria-busy=move || if test.pending().get() { "true" } else { "false" }>
                    {move || match (test.pending().get(), wait_secs.get()) {
                        (true, _) => "Testing…".to_string(),
                        (false, 0) => "Test Email Server".to_string(),
                        (false, n) => format!("Test again in {n} s"),
                    }}
                </button>
                <button type="submit" disabled=move || save.pending().get()>"Save"</button>
                <Show when=move || state.dirty()>
                    <span class="badge" data-testid="unsaved">"Unsaved changes"</span>
                </Show>
            </div>
            // Live regions that exist before anything is said in them, so screen readers announce
            // the save status and the test result when they arrive (errors are alerts).
            <div class="live" role="status">{status}</div>
            <div class="live" aria-live="polite"><TestResult test state last_report /></div>
            <p class="muted" data-testid="last-test">{move || last_test_line(&history.get())}</p>
            <p class="muted">
                {move || saved_at.get().map(|t| format!("Last saved {} (version {}).", show_time(&t), version.get()))}
            </p>
        </form>
        <p class="muted small">"Signed in as " {current.admin.clone()}</p>
        <AuditLog audit />
    }
}

/// The port changed: if the admin never touched the switches, set the encryption the port
/// usually means, and say so.
fn port_changed(state: FormState) {
    if state.encryption_touched.get_untracked() {
        return;
    }
    let port = state.form.with_untracked(|f| domain::Port::parse(&f.port).ok());
    let Some(port) = port else { return };
    let Some(usual) = Encryption::usual_for_port(port.get()) else {
        return;
    };
    let current = state
        .form
        .with_untracked(|f| Encryption::parse(f.starttls, f.ssl).ok());
    if current != Some(usual) {
        state.set_encryption(usual);
        state.auto_note.set(Some(format!(
            "Port {} usually means {}, so it is now on. Change it below if your server differs.",
            port.get(),
            usual.describe()
        )));
    }
}

#[component]
fn TextField(
    state: FormState,
    field: Field,
    #[prop(optional)] kind: Option<&'static str>,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] autocomplete: &'static str,
    #[prop(optional)] inputmode: Option<&'static str>,
    #[prop(optional, into)] hint: Option<Signal<&'static str>>,
    #[prop(optional)] on_change: Option<Callback<()>>,
    /// Marked as required (a signal: the password is required only while none is saved).
    #[prop(optional, into)]
    required: Option<Signal<bool>>,
) -> impl IntoView {
    let id = field.id();
    // Rendered into the HTML too, for the server render and pages without JavaScript.
    let initial = state
        .form
        .with_untracked(|f| f.text(field).unwrap_or_default().to_string());
    let message_id = format!("{id}-message");
    let hint_id = format!("{id}-hint");
    let message = Memo::new(move |_| state.message(field));
    let warnings = move || {
        state
            .form
            .with(|f| domain::warnings(f, state.password_present()))
            .into_iter()
            .filter(|w| w.field == field)
            .collect::<Vec<_>>()
    };
    let described_by = format!("{message_id} {hint_id}");
    let at_fault = move || state.fault.get() == Some(field);
    view! {
        <div class="field" class:at-fault=at_fault>
            <div class="label-row">
                <label for=id>{field.label()}</label>
                <Show when=move || required.is_some_and(|r| r.get())>
                    <span class="required" aria-hidden="true">"required"</span>
                </Show>
            </div>
            <input
                id=id
                aria-required=move || if required.is_some_and(|r| r.get()) { "true" } else { "false" }
                name=format!("form[{id}]")
                type=kind.unwrap_or("text")
                value=initial
                prop:value=move || state.form.with(|f| f.text(field).unwrap_or_default().to_string())
               placeholder=placeholder
                autocomplete=autocomplete
                inputmode=inputmode
                aria-invalid=move || if message.get().is_some() { "true" } else { "false" }
                aria-describedby=described_by
                on:input=move |ev| {
                    let value = event_target_value(&ev);
                    state.edit(field, |f| f.set_text(field, value));
                    if let Some(cb) = on_change {
                        cb.run(());
                    }
                }
                on:blur=move |_| state.touched.update(|t| {
                    t.insert(field);
                })
            />
            <p class="message" id=message_id>{move || message.get()}</p>
            <Show when=at_fault>
                <p class="fault-note">"The last test points here."</p>
            </Show>
            <WarningList warnings=Signal::derive(warnings) state />
            <p class="hint" id=hint_id>{move || hint.map(|h| h.get())}</p>
        </div>
    }
}

#[component]
fn WarningList(warnings: Signal<Vec<domain::Warning>>, state: FormState) -> impl IntoView {
    view! {
        <For each=move || warnings.get() key=|w| w.message.clone() let:w>
            <p class="warning">
                {w.message.clone()}
                {w.fix.map(|fix| {
                    view! {
                        " "
                        <button type="button" class="link" on:click=move |_| {
                            state.form.update(|f| *f = fix.apply(f));
                            state.encryption_touched.set(true);
                            state.auto_note.set(None);
                        }>{fix.label()}</button>
                    }
                })}
            </p>
        </For>
    }
}

#[component]
fn EncryptionSwitches(state: FormState, initial: (bool, bool)) -> impl IntoView {
    let message = Memo::new(move |_| state.message(Field::Encryption));
    let warnings = move || {
        state
            .form
            .with(|f| domain::warnings(f, state.password_present()))
            .into_iter()
            .filter(|w| w.field == Field::Encryption)
            .collect::<Vec<_>>()
    };
    // The two switches are exclusive: turning one on turns the other off, and the page says so.
    let toggle = move |which: &'static str, on: bool| {
        state.encryption_touched.set(true);
        let other_was_on = state
            .form
            .with_untracked(|f| if which == "starttls" { f.ssl } else { f.starttls });
        state.edit(Field::Encryption, |f| match which {
            "starttls" => (f.starttls, f.ssl) = (on, f.ssl && !on),
            _ => (f.starttls, f.ssl) = (f.starttls && !on, on),
        });
        state.auto_note.set((on && other_was_on).then(|| {
            let turned_off = if which == "starttls" { "SSL" } else { "STARTTLS" };
            format!("STARTTLS and SSL cannot both be on, so {turned_off} is now off.")
        }));
    };
    view! {
        <fieldset class="field switches" id="encryption" aria-describedby="encryption-message"
            class:at-fault=move || state.fault.get() == Some(Field::Encryption)>
            <legend>"Encryption (optional)"</legend>
            <label class="switch">
                <input type="checkbox" role="switch" id="starttls" name="form[starttls]" value="true"
                    checked=initial.0 prop:checked=move || state.form.with(|f| f.starttls)
                    aria-invalid=move || if message.get().is_some() { "true" } else { "false" }
                    on:change=move |ev| toggle("starttls", event_target_checked(&ev)) />
                "Use STARTTLS"
            </label>
            <label class="switch">
                <input type="checkbox" role="switch" id="ssl" name="form[ssl]" value="true"
                    checked=initial.1 prop:checked=move || state.form.with(|f| f.ssl)
                    aria-invalid=move || if message.get().is_some() { "true" } else { "false" }
                    on:change=move |ev| toggle("ssl", event_target_checked(&ev)) />
                "Use SSL"
            </label>
            <p class="message" id="encryption-message">{move || message.get()}</p>
            <p class="note" aria-live="polite">{move || state.auto_note.get()}</p>
            <Show when=move || state.fault.get() == Some(Field::Encryption)>
                <p class="fault-note">"The last test points here."</p>
            </Show>
            <WarningList warnings=Signal::derive(warnings) state />
        </fieldset>
    }
}

/// The provider select above the form: fills host, port and encryption, and shows the hint.
#[component]
fn PresetPicker(state: FormState) -> impl IntoView {
    let matched = move || state.form.with(|f| Preset::matching(&f.host));
    let selected = move || matched().map_or("custom", |(p, _)| p.id);
    let region = RwSignal::new(
        state
            .form
            .with_untracked(|f| Preset::matching(&f.host))
            .and_then(|(_, r)| r)
            .unwrap_or(SES_REGIONS[0]),
    );
    let initial = selected();
    let apply = move |id: &str| {
        if let Some(preset) = Preset::by_id(id) {
            state
                .form
                .update(|f| *f = preset.apply(f, region.get_untracked()));
            state.auto_note.set(None);
        }
    };
    view! {
        <div class="presets">
            <div class="field">
                <label for="preset">"Provider"</label>
                <select id="preset" prop:value=selected on:change=move |ev| apply(&event_target_value(&ev))>
                    <option value="custom" selected=initial == "custom">"Custom"</option>
                    {PRESETS
                        .iter()
                        .map(|p| view! { <option value=p.id selected=initial == p.id>{p.name}</option> })
                        .collect_view()}
                </select>
            </div>
            <Show when=move || selected() == "ses">
                <div class="field">
                    <label for="ses_region">"Region"</label>
                    <select id="ses_region" prop:value=move || region.get() on:change=move |ev| {
                        let r = event_target_value(&ev);
                        region.set(SES_REGIONS.iter().find(|x| **x == r).copied().unwrap_or(SES_REGIONS[0]));
                        apply("ses");
                    }>
                        {SES_REGIONS.iter().map(|r| view! { <option value=*r>{*r}</option> }).collect_view()}
                    </select>
                </div>
            </Show>
            <p class="hint" id="preset-hint">{move || matched().map(|(p, _)| p.hint)}</p>
        </div>
    }
}

/// Moves focus to the test result's heading once it is on the page (and so into view).
fn focus_result() {
    #[cfg(feature = "hydrate")]
    request_animation_frame(|| {
        use leptos::wasm_bindgen::JsCast;
        let heading = document()
            .query_selector("[data-testid=test-result] h2")
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(heading) = heading {
            let _ = heading.focus();
        }
    });
}

/// An error of a save or a test; an ended session offers the way back in.
fn error_view(e: AppError) -> impl IntoView {
    let login = (e == AppError::NotAuthenticated).then(|| {
        let href = format!("{}?next=%2Fsettings%2Fmail", crate::routes::LOGIN);
        view! { " " <a href=href>"Log in again"</a> }
    });
    view! { <p class="error" role="alert">{e.to_string()} {login}</p> }
}

/// Moves focus to a field's control (the first invalid one after a failed save).
fn focus_field(field: Field) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        let id = if field == Field::Encryption {
            "starttls"
        } else {
            field.id()
        };
        if let Some(el) = document()
            .get_element_by_id(id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            // A field under a closed "Advanced" cannot take focus: open it first.
            if let Ok(Some(details)) = el.closest("details") {
                let _ = details.set_attribute("open", "");
            }
            let _ = el.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = field;
}

/// Asks the browser to confirm leaving while there are unsaved changes.
fn warn_before_leaving(state: FormState) {
    #[cfg(feature = "hydrate")]
    {
        let handle = window_event_listener(leptos::ev::beforeunload, move |ev| {
            if state
                .form
                .with_untracked(|f| state.baseline.with_untracked(|b| f != b))
            {
                ev.prevent_default();
                ev.set_return_value("You have unsaved changes to the mail server settings.");
            }
        });
        on_cleanup(move || handle.remove());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = state;
}

fn last_test_line(h: &TestHistory) -> String {
    let success = h.last_success.as_ref().map(|t| {
        format!(
            "Last successful test: {} ({}).",
            show_time(&t.finished_at),
            t.server
        )
    });
    let failed = h
        .last
        .as_ref()
        .and_then(|t| Some((t.diagnosis?, &t.finished_at)))
        .map(|(d, at)| format!(" Last test failed: {} ({}).", d.title(), show_time(at)));
    match (success, failed) {
        (None, None) => "Not tested yet.".to_string(),
        (s, f) => format!(
            "{}{}",
            s.unwrap_or_else(|| "No successful test yet.".into()),
            f.unwrap_or_default()
        ),
    }
}

/// The outcome of "Test Email Server", or its progress.
#[component]
fn TestResult(
    test: ServerAction<TestMailServer>,
    state: FormState,
    last_report: RwSignal<Option<TestReport>>,
) -> impl IntoView {
    // Refused by the rate limit: the last diagnosis stays in view (the button counts down).
    let kept = move || {
        let limited = matches!(test.value().get(), Some(Err(AppError::RateLimited { .. })));
        limited
            .then(|| last_report.get())
            .flatten()
            .map(|report| view! { <ReportView report /> })
    };
    let current = move || {
        if test.pending().get() {
            let (server, secs) = state.form.with_untracked(|f| {
                let secs = domain::Timeout::parse(&f.timeout)
                    .map(|t| t.secs())
                    .unwrap_or(domain::DEFAULT_TIMEOUT_SECS);
                (format!("{}:{}", f.host.trim(), f.port.trim()), secs)
            });
            return view! {
                <p class="muted">
                    {format!("Sending a test mail through {server}\u{2026} (at most {secs} s)")}
                </p>
            }
            .into_any();
        }
        match test.value().get() {
            Some(Ok(report)) => view! { <ReportView report /> }.into_any(),
            Some(Err(AppError::Invalid { .. })) => {
                view! { <p class="error" role="alert">"Nothing was tested: correct the fields marked above."</p> }
                    .into_any()
            }
            Some(Err(e)) => error_view(e).into_any(),
            None => ().into_any(),
        }
    };
    view! {
        {current}
        {kept}
    }
}

/// Counts `secs` down to zero, a second at a time (in the browser).
fn count_down(secs: RwSignal<u64>) {
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

#[component]
fn ReportView(report: TestReport) -> impl IntoView {
    let reply = match (report.code, &report.server_reply) {
        (Some(c), Some(r)) => Some(format!("{c} {r}")),
        (Some(c), None) => Some(c.to_string()),
        _ => None,
    };
    let class = if report.success() {
        "test-result ok"
    } else {
        "test-result failed"
    };
    let heading = match report.diagnosis {
        None => "Test email accepted".to_string(),
        Some(d) => format!("Test failed: {}", d.title()),
    };
    let at_fault = report.field();
    let success = report.success();
    let transcript = report
        .transcript
        .iter()
        .map(|l| {
            format!(
                "{} {}",
                if l.client { "C:" } else { "S:" },
                l.text.replace('\n', "\n   ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let details = format!(
        "{} with {}, to {}, in {} ms.",
        report.server,
        report.encryption.describe(),
        report.recipient,
        report.elapsed_ms
    );
    let advice = report.advice.clone();
    view! {
        <section class=class aria-label="Test result" data-testid="test-result">
            <h2 tabindex="-1">{heading}</h2>
            <p>{report.summary.clone()}</p>
            {reply.map(|r| view! { <p class="reply">"Server reply: " <code>{r}</code></p> })}
            {at_fault.map(|f| view! {
                <p>
                    "Most likely at fault: "
                    <button type="button" class="link" on:click=move |_| focus_field(f)>{f.label()}</button>
                </p>
            })}
            {success.then(|| view! {
                <p><button type="submit">"Save these settings"</button></p>
            })}
            {(!advice.is_empty())
                .then(|| {
                    view! {
                        <ul class="advice">
                            {advice.into_iter().map(|a| view! { <li>{a}</li> }).collect_view()}
                        </ul>
                    }
                })}
            <p class="muted">{details}</p>
            <details class="transcript">
                <summary>"SMTP transcript"</summary>
                <pre>{transcript}</pre>
            </details>
        </section>
    }
}

#[component]
fn CaField(state: FormState, initial: String) -> impl IntoView {
    let field = Field::CaPem;
    let message = Memo::new(move |_| state.message(field));
    view! {
        <div class="field">
            <label for="ca_pem">{field.label()}</label>
            <textarea
                id="ca_pem"
                name="form[ca_pem]"
                rows="4"
                spellcheck="false"
               placeholder="-----BEGIN CERTIFICATE-----"
                prop:value=move || state.form.with(|f| f.ca_pem.clone())
                aria-invalid=move || if message.get().is_some() { "true" } else { "false" }
                aria-describedby="ca_pem-message ca_pem-hint"
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    state.edit(field, |f| f.ca_pem = v);
                }
            >
                {initial}
            </textarea>
            <p class="message" id="ca_pem-message">{move || message.get()}</p>
            <p class="hint" id="ca_pem-hint">
                "For a server whose certificate comes from a private CA. Used for tests and real mail."
            </p>
        </div>
    }
}

#[component]
fn SkipVerifySwitch(state: FormState, initial: bool) -> impl IntoView {
    let warnings = move || {
        state
            .form
            .with(|f| domain::warnings(f, true))
            .into_iter()
            .filter(|w| w.field == Field::SkipVerify)
            .collect::<Vec<_>>()
    };
    view! {
        <div class="field">
            <label class="switch">
                <input
                    type="checkbox"
                    role="switch"
                    id="skip_verify"
                    name="form[skip_verify]"
                    value="true"
                    checked=initial
                    prop:checked=move || state.form.with(|f| f.skip_verify)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        state.edit(Field::SkipVerify, |f| f.skip_verify = on);
                    }
                />
                {Field::SkipVerify.label()}
            </label>
            <WarningList warnings=Signal::derive(warnings) state />
        </div>
    }
}

/// The latest saves: who, when, which fields.
#[component]
fn AuditLog(audit: RwSignal<Vec<AuditLine>>) -> impl IntoView {
    view! {
        <section class="audit" aria-label="Change history">
            <h2>"Change history"</h2>
            <Show when=move || audit.with(|a| !a.is_empty()) fallback=|| view! { <p class="muted">"No saves yet."</p> }>
                <ol class="audit-list">
                    {move || {
                        audit
                            .get()
                            .into_iter()
                            .map(|e| {
                                view! {
                                    <li>
                                        <strong>{show_time(&e.at)}</strong>
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
