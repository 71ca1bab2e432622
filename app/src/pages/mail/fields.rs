//! The settings form's controls: text fields, the encryption switches, the Advanced fields,
//! the provider presets and the warnings with their one-click fixes.

use super::browser;
use super::state::FormState;
use crate::domain::{self, Field, Preset, PRESETS, SES_REGIONS};
use leptos::prelude::*;

/// A choice of a few values (Authentication, OAuth2's Sign in as). The fields a choice makes
/// irrelevant are hidden by the stylesheet (`:has()` on the chosen option), so this works
/// without JavaScript too. `on_change` runs after the form took the new value.
#[component]
pub fn ChoiceField(
    state: FormState,
    field: Field,
    /// (value, label's catalogue id) pairs.
    options: Vec<(&'static str, &'static str)>,
    #[prop(optional)] hint: &'static str,
    #[prop(optional)] on_change: Option<Callback<String>>,
) -> impl IntoView {
    let id = field.id();
    let current = state.form.read_untracked().text(field).unwrap_or_default().to_string();
    let options = options
        .into_iter()
        .map(|(value, label)| view! { <option value=value selected=current == value>{state.w(label)}</option> })
        .collect_view();
    let warnings = move || {
        domain::warnings(&state.form.read(), state.password_present())
            .into_iter()
            .filter(|w| w.field == field)
            .map(|w| w.message)
            .collect::<Vec<_>>()
    };
    let message_id = format!("{id}-message");
    let hint_id = format!("{id}-hint");
    view! {
        <div class="field">
            <label for=id>{state.label(field)}</label>
            <select id=id name=format!("form[{id}]") aria-describedby=format!("{message_id} {hint_id}")
                prop:value=move || state.form.read().text(field).unwrap_or_default().to_string()
                on:change=move |ev| {
                    let value = event_target_value(&ev);
                    state.edit(field, |f| f.set_text(field, value.clone()));
                    if let Some(cb) = on_change {
                        cb.run(value);
                    }
                }>
                {options}
            </select>
            <p class="warning" id=message_id>
                {move || warnings().into_iter().next().map(|m| format!("{}{}", state.w("form-warning"), state.say(&m)))}
            </p>
            <p class="hint" id=hint_id>{hint}</p>
        </div>
    }
}

#[component]
pub fn TextField(
    state: FormState,
    field: Field,
    #[prop(optional)] kind: Option<&'static str>,
    /// An example value, shown as "e.g. …" in the page's language.
    #[prop(optional)] example: &'static str,
    /// A placeholder's catalogue id (instead of an example).
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] autocomplete: &'static str,
    #[prop(optional)] inputmode: Option<&'static str>,
    /// The hint's catalogue id.
    #[prop(optional, into)] hint: Option<Signal<&'static str>>,
    #[prop(optional)] on_change: Option<Callback<()>>,
    /// What the form changed by itself because of this field, said beside it.
    #[prop(optional)]
    note: Option<RwSignal<Option<String>>>,
    /// Marked as required (a signal: the password is required only while none is saved).
    #[prop(optional, into)]
    required: Option<Signal<bool>>,
) -> impl IntoView {
    let id = field.id();
    // Rendered into the HTML too, for the server render and pages without JavaScript.
    let initial = state
        .form
        .read_untracked()
        .text(field)
        .unwrap_or_default()
        .to_string();
    let message_id = format!("{id}-message");
    let hint_id = format!("{id}-hint");
    let message = Memo::new(move |_| state.message(field));
    let warnings = move || {
        domain::warnings(&state.form.read(), state.password_present())
            .into_iter()
            .filter(|w| w.field == field)
            .collect::<Vec<_>>()
    };
    let note_id = format!("{id}-note");
    let described_by = if note.is_some() {
        format!("{message_id} {note_id} {hint_id}")
    } else {
        format!("{message_id} {hint_id}")
    };
    let at_fault = move || state.fault.get() == Some(field);
    let placeholder = if !example.is_empty() {
        state.say(&crate::domain::Said::new("form-eg").with("example", example))
    } else if !placeholder.is_empty() {
        state.w(placeholder)
    } else {
        String::new()
    };
    view! {
        <div class="field" class:at-fault=at_fault>
            <div class="label-row">
                <label for=id>{state.label(field)}</label>
                <Show when=move || required.is_some_and(|r| r.get())>
                    <span class="required" aria-hidden="true">{state.w("form-required")}</span>
                </Show>
            </div>
            <input
                id=id
                aria-required=move || if required.is_some_and(|r| r.get()) { "true" } else { "false" }
                name=format!("form[{id}]")
                type=kind.unwrap_or("text")
                value=initial
                prop:value=move || state.form.read().text(field).unwrap_or_default().to_string()
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
                on:blur=move |_| state.left(field)
            />
            <p class="message" id=message_id>{move || message.get()}</p>
            <Show when=at_fault>
                <p class="fault-note">{state.w("form-fault-note")}</p>
            </Show>
            {note.map(|note| view! { <p class="note" id=note_id aria-live="polite">{move || note.get()}</p> })}
            <WarningList warnings=Signal::derive(warnings) state />
            <p class="hint" id=hint_id>{move || hint.map(|h| state.w(h.get()))}</p>
        </div>
    }
}

/// A one-click fix: the form changes, and focus goes to the field it changed.
pub fn apply_fix(state: FormState, fix: domain::Fix) {
    state.form.update(|f| *f = fix.apply(f));
    state.encryption_touched.set(true);
    state.auto_note.set(None);
    state.port_note.set(None);
    let field = match fix {
        domain::Fix::UseSsl => Field::Encryption,
        domain::Fix::UseStartTls => Field::Encryption,
        domain::Fix::FromEqualsAccount => Field::FromAddress,
    };
    if state.fault.get_untracked() == Some(field) {
        state.fault.set(None);
    }
    browser::focus(browser::field_selector(field));
}

#[component]
pub fn WarningList(warnings: Signal<Vec<domain::Warning>>, state: FormState) -> impl IntoView {
    view! {
        // A plain list, rebuilt when the warnings change (a keyed <For> adds a diffing
        // algorithm and a hash map to the wasm for lists of one or two).
        {move || warnings.get().into_iter().map(|w| view! {
            <p class="warning">
                <strong>{state.w("form-warning")}</strong>
                {state.say(&w.message)}
                {w.fix.map(|fix| {
                    view! {
                        " "
                        <button type="button" class="link" on:click=move |_| apply_fix(state, fix)>
                            {state.w(fix.label_id())}
                        </button>
                    }
                })}
            </p>
        }).collect_view()}
    }
}

#[component]
pub fn EncryptionSwitches(state: FormState, initial: (bool, bool)) -> impl IntoView {
    let message = Memo::new(move |_| state.message(Field::Encryption));
    let warnings = move || {
        domain::warnings(&state.form.read(), state.password_present())
            .into_iter()
            .filter(|w| w.field == Field::Encryption)
            .collect::<Vec<_>>()
    };
    // The two switches are exclusive: turning one on turns the other off, and the page says so.
    let toggle = move |which: &'static str, on: bool| {
        state.encryption_touched.set(true);
        let other_was_on = {
            let f = state.form.read_untracked();
            if which == "starttls" {
                f.ssl
            } else {
                f.starttls
            }
        };
        state.edit(Field::Encryption, |f| match which {
            "starttls" => (f.starttls, f.ssl) = (on, f.ssl && !on),
            _ => (f.starttls, f.ssl) = (f.starttls && !on, on),
        });
        state.port_note.set(None);
        state.auto_note.set((on && other_was_on).then(|| {
            let turned_off = if which == "starttls" { "SSL" } else { "STARTTLS" };
            state.say(&crate::domain::Said::new("form-switch-note").with("off", turned_off))
        }));
    };
    view! {
        <fieldset class="field switches" id="encryption" aria-describedby="encryption-message"
            class:at-fault=move || state.fault.get() == Some(Field::Encryption)>
            <legend>{state.w("form-encryption-legend")}</legend>
            <label class="switch">
                <input type="checkbox" role="switch" id="starttls" name="form[starttls]" value="true"
                    checked=initial.0 prop:checked=move || state.form.read().starttls
                    aria-invalid=move || if message.get().is_some() { "true" } else { "false" }
                    on:change=move |ev| toggle("starttls", event_target_checked(&ev)) />
                {state.w("form-use-starttls")}
            </label>
            <label class="switch">
                <input type="checkbox" role="switch" id="ssl" name="form[ssl]" value="true"
                    checked=initial.1 prop:checked=move || state.form.read().ssl
                    aria-invalid=move || if message.get().is_some() { "true" } else { "false" }
                    on:change=move |ev| toggle("ssl", event_target_checked(&ev)) />
                {state.w("form-use-ssl")}
            </label>
            <p class="message" id="encryption-message">{move || message.get()}</p>
            <p class="note" aria-live="polite">{move || state.auto_note.get()}</p>
            <Show when=move || state.fault.get() == Some(Field::Encryption)>
                <p class="fault-note">{state.w("form-fault-note")}</p>
            </Show>
            <WarningList warnings=Signal::derive(warnings) state />
        </fieldset>
    }
}

/// The provider select above the form: fills host, port and encryption, and shows the hint.
#[component]
pub fn PresetPicker(state: FormState) -> impl IntoView {
    let matched = move || Preset::matching(&state.form.read().host);
    let selected = move || matched().map_or("custom", |(p, _)| p.id);
    let region = RwSignal::new(
        Preset::matching(&state.form.read_untracked().host)
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
            state.port_note.set(None);
        }
    };
    view! {
        <div class="presets">
            <div class="field">
                <label for="preset">{state.w("form-provider")}</label>
                <select id="preset" prop:value=selected on:change=move |ev| apply(&event_target_value(&ev))>
                    <option value="custom" selected=initial == "custom">{state.w("form-custom")}</option>
                    {PRESETS
                        .iter()
                        .map(|p| view! { <option value=p.id selected=initial == p.id>{state.w(p.name)}</option> })
                        .collect_view()}
                </select>
            </div>
            <Show when=move || selected() == "ses">
                <div class="field">
                    <label for="ses_region">{state.w("form-region")}</label>
                    <select id="ses_region" prop:value=move || region.get() on:change=move |ev| {
                        let r = event_target_value(&ev);
                        region.set(SES_REGIONS.iter().find(|x| **x == r).copied().unwrap_or(SES_REGIONS[0]));
                        apply("ses");
                    }>
                        {SES_REGIONS.iter().map(|r| view! { <option value=*r>{*r}</option> }).collect_view()}
                    </select>
                </div>
            </Show>
            <p class="hint" id="preset-hint">{move || matched().map(|(p, _)| state.w(p.hint))}</p>
        </div>
    }
}

#[component]
pub fn CaField(state: FormState, initial: String) -> impl IntoView {
    let field = Field::CaPem;
    let message = Memo::new(move |_| state.message(field));
    view! {
        <div class="field">
            <label for="ca_pem">{state.label(field)}</label>
            <textarea
                id="ca_pem"
                name="form[ca_pem]"
                rows="4"
                spellcheck="false"
               placeholder="-----BEGIN CERTIFICATE-----"
                prop:value=move || state.form.read().ca_pem.clone()
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
            <p class="hint" id="ca_pem-hint">{state.w("form-ca-hint")}</p>
        </div>
    }
}

#[component]
pub fn SkipVerifySwitch(state: FormState, initial: bool) -> impl IntoView {
    let warnings = move || {
        domain::warnings(&state.form.read(), true)
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
                    prop:checked=move || state.form.read().skip_verify
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        state.edit(Field::SkipVerify, |f| f.skip_verify = on);
                    }
                />
                {state.label(Field::SkipVerify)}
            </label>
            <WarningList warnings=Signal::derive(warnings) state />
        </div>
    }
}
