//! The settings form's state, shared by its parts. Every member is a signal, so it is `Copy`.

use crate::api::{MailSettingsView, MailboxView};
use crate::domain::{self, Encryption, Field, FieldErrors, MailServerForm, MailServerSettings, Said, Words};
use leptos::prelude::*;

/// A set of fields as bits (a hash set would add its own code to the wasm).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FieldSet(u32);

impl FieldSet {
    pub fn insert(&mut self, field: Field) {
        self.0 |= 1 << field as u32;
    }

    pub fn contains(self, field: Field) -> bool {
        self.0 & (1 << field as u32) != 0
    }

    pub fn clear(&mut self) {
        self.0 = 0;
    }
}

impl Extend<Field> for FieldSet {
    fn extend<I: IntoIterator<Item = Field>>(&mut self, fields: I) {
        fields.into_iter().for_each(|f| self.insert(f));
    }
}

/// Values that passed "Test Email Server", and when.
#[derive(Clone, Debug, PartialEq)]
pub struct Tested {
    pub form: MailServerForm,
    /// RFC 3339, UTC.
    pub at: String,
}

#[derive(Clone, Copy)]
pub struct FormState {
    pub form: RwSignal<MailServerForm>,
    /// The form as last loaded or saved, for the unsaved-changes indicator.
    pub baseline: RwSignal<MailServerForm>,
    pub saved_login: RwSignal<Option<domain::SavedLogin>>,
    pub password_saved: RwSignal<bool>,
    /// Whether an OAuth2 client secret is saved.
    pub client_secret_saved: RwSignal<bool>,
    /// While the saved settings sign in as a mailbox: its sign-in and connection.
    pub mailbox: RwSignal<Option<MailboxView>>,
    pub touched: RwSignal<FieldSet>,
    pub submitted: RwSignal<bool>,
    pub encryption_touched: RwSignal<bool>,
    /// What the form changed by itself (encryption after a port change), said aloud.
    pub auto_note: RwSignal<Option<String>>,
    /// The encryption a new port switched to, said beside Port.
    pub port_note: RwSignal<Option<String>>,
    pub server_errors: RwSignal<FieldErrors>,
    pub errors: Memo<FieldErrors>,
    /// "Send test to": not a setting, only the test's recipient.
    pub send_to: RwSignal<String>,
    pub test_tried: RwSignal<bool>,
    /// The field the last failed test blamed, highlighted until edited.
    pub fault: RwSignal<Option<Field>>,
    /// The values of the last successful test on this page.
    pub tested: RwSignal<Option<Tested>>,
    /// Said once by a polite live region: a field's error when the admin leaves the field.
    pub announcement: RwSignal<String>,
    /// The form's messages in the page's language, from the server.
    pub words: StoredValue<Words>,
}

impl FormState {
    pub fn new(current: &MailSettingsView, initial: MailServerForm, server_errors: FieldErrors, words: Words) -> Self {
        let form = RwSignal::new(initial);
        let saved_login = RwSignal::new(current.saved_login.clone());
        let submitted = !server_errors.is_empty();
        Self {
            form,
            baseline: RwSignal::new(current.form.clone()),
            saved_login,
            password_saved: RwSignal::new(current.password_saved),
            client_secret_saved: RwSignal::new(current.client_secret_saved),
            mailbox: RwSignal::new(current.mailbox.clone()),
            touched: RwSignal::new(FieldSet::default()),
            submitted: RwSignal::new(submitted),
            encryption_touched: RwSignal::new(false),
            auto_note: RwSignal::new(None),
            port_note: RwSignal::new(None),
            server_errors: RwSignal::new(server_errors),
            errors: Memo::new(move |_| {
                MailServerSettings::parse(&form.read(), saved_login.read().as_ref())
                    .err()
                    .unwrap_or_default()
            }),
            send_to: RwSignal::new(String::new()),
            test_tried: RwSignal::new(false),
            fault: RwSignal::new(None),
            tested: RwSignal::new(None),
            announcement: RwSignal::new(String::new()),
            words: StoredValue::new(words),
        }
    }

    /// A message without values, in the page's language.
    pub fn w(self, id: &str) -> String {
        self.words.with_value(|w| w.word(id))
    }

    /// A message with its values, in the page's language.
    pub fn say(self, said: &Said) -> String {
        self.words.with_value(|w| w.say(said))
    }

    /// A message whose `{$slot}` is shown by an element (a time): the words before and after it.
    pub fn around(self, said: &Said, slot: &str) -> (String, String) {
        let text = self.say(said);
        let marker = format!("{{${slot}}}");
        match text.split_once(&marker) {
            Some((before, after)) => (before.to_string(), after.to_string()),
            None => (text, String::new()),
        }
    }

    /// A field's label.
    pub fn label(self, field: Field) -> String {
        self.w(field.label_id())
    }

    /// Takes over what the server stored (after a save, or a newer version after a conflict):
    /// the saved values, the password rule's login, and a clean slate of messages. With
    /// `keep_edits`, the admin's edits are applied on top of the stored values.
    pub fn adopt(self, view: &MailSettingsView, keep_edits: bool) {
        if keep_edits {
            let rebased = self
                .form
                .read_untracked()
                .rebase(&self.baseline.read_untracked(), &view.form);
            self.form.set(rebased);
        } else {
            self.form.set(view.form.clone());
            self.touched.update(|t| t.clear());
            self.submitted.set(false);
            self.auto_note.set(None);
            self.port_note.set(None);
        }
        self.baseline.set(view.form.clone());
        self.saved_login.set(view.saved_login.clone());
        self.password_saved.set(view.password_saved);
        self.client_secret_saved.set(view.client_secret_saved);
        self.mailbox.set(view.mailbox.clone());
        self.server_errors.set(FieldErrors::default());
    }

    /// Records an edit of `field` by the admin.
    pub fn edit(self, field: Field, change: impl FnOnce(&mut MailServerForm)) {
        self.form.update(change);
        self.touched.update(|t| {
            t.insert(field);
        });
        self.server_errors.update(|e| e.0.retain(|(f, _)| *f != field));
        if self.fault.get_untracked() == Some(field) {
            self.fault.set(None);
        }
    }

    /// The admin left `field`: its error, if any, is shown and said once.
    pub fn left(self, field: Field) {
        self.touched.update(|t| {
            t.insert(field);
        });
        let said = self
            .message(field)
            .map(|m| self.say(&Said::new("form-field-said").with("field", self.label(field)).with("message", m)));
        self.announcement.set(said.unwrap_or_default());
    }

    /// True when the values in the form are the ones that last passed a test here.
    pub fn tested_now(self) -> bool {
        self.tested
            .read()
            .as_ref()
            .is_some_and(|t| *self.form.read() == t.form)
    }

    /// True when a password is saved but host or account no longer match it.
    pub fn login_changed(self) -> bool {
        let saved = self.saved_login.read();
        let Some(saved) = saved.as_ref() else {
            return false;
        };
        let f = self.form.read();
        let host = domain::SmtpHost::parse(&f.host).ok();
        let account = domain::Account::parse(&f.account).ok();
        !saved.same_login(host.as_ref(), account.as_ref())
    }

    /// Whether an OAuth2 endpoint in use holds `{tenant}`: the Tenant field applies.
    pub fn needs_tenant(self) -> bool {
        let f = self.form.read();
        let grant = domain::Grant::parse(&f.oauth_grant).unwrap_or_default();
        domain::needs_tenant(grant, &f.oauth_token_url, &f.oauth_auth_url)
    }

    /// The scopes the provider of the token endpoint needs for this sign-in, if it is known to.
    pub fn scopes_needed(self) -> Option<&'static str> {
        let f = self.form.read();
        let grant = domain::Grant::parse(&f.oauth_grant).unwrap_or_default();
        domain::ProviderOAuth::by_token_url(&f.oauth_token_url)?.scopes(grant)
    }

    /// Whether the form signs in (Password or OAuth2): the account then counts.
    pub fn signs_in(self) -> bool {
        self.form.read().authentication != domain::Authentication::None.as_str()
    }

    /// Whether the form signs in with a password (not OAuth2, not None).
    pub fn uses_password(self) -> bool {
        self.form.read().authentication == domain::Authentication::Password.as_str()
    }

    pub fn uses_oauth(self) -> bool {
        self.form.read().authentication == domain::Authentication::OAuth2.as_str()
    }

    pub fn password_present(self) -> bool {
        !self.form.read().password.is_empty() || (self.password_saved.get() && !self.login_changed())
    }

    /// The message under `field`: shown once the admin left the field or tried to save or test
    /// (not on every keystroke of the first typing), and kept up to date from then on.
    pub fn message(self, field: Field) -> Option<String> {
        if field == Field::SendTo {
            let shown = self.test_tried.get() || self.touched.get().contains(field);
            let error = domain::test_recipient(&self.form.read(), &self.send_to.read()).err().map(|m| self.say(&m));
            return shown
                .then_some(error)
                .flatten()
                .or_else(|| self.server_error(field));
        }
        let shown = self.submitted.get()
            || self.touched.get().contains(field)
            || (field == Field::Password && self.login_changed());
        if !shown {
            return None;
        }
        self.errors
            .read()
            .get(field)
            .map(|m| self.say(m))
            .or_else(|| self.server_error(field))
    }

    fn server_error(self, field: Field) -> Option<String> {
        self.server_errors.read().get(field).map(|m| self.say(m))
    }

    /// The first field that keeps a test from running, if any.
    pub fn first_test_blocker(self) -> Option<Field> {
        self.errors.read_untracked().first().or_else(|| {
            domain::test_recipient(&self.form.read_untracked(), &self.send_to.read_untracked())
                .err()
                .map(|_| Field::SendTo)
        })
    }

    pub fn dirty(self) -> bool {
        *self.form.read() != *self.baseline.read()
    }

    pub fn set_encryption(self, e: Encryption) {
        let (starttls, ssl) = e.switches();
        self.form.update(|f| (f.starttls, f.ssl) = (starttls, ssl));
    }
}
