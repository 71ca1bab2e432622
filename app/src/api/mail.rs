//! Settings › Mail Server: load, save, and "Test Email Server".

use crate::domain::{MailServerForm, SavedLogin};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::history::{AuditLine, TestHistory};
use crate::report::Diagnosis;
#[cfg(feature = "ssr")]
use crate::report::TestReport;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the page needs to show the saved settings. Never holds the password.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailSettingsView {
    /// 0 when nothing has been saved yet.
    pub version: u64,
    /// RFC 3339, UTC.
    pub saved_at: Option<String>,
    pub form: MailServerForm,
    /// Whether a password is stored (its value stays on the server).
    pub password_saved: bool,
    /// Whether an OAuth2 client secret is stored (likewise).
    #[serde(default)]
    pub client_secret_saved: bool,
    /// The login the saved password belongs to: a blank password keeps it only for this login.
    pub saved_login: Option<SavedLogin>,
    /// The stored test history. Server-side only: the browser shows `tests_shown`.
    #[cfg(feature = "ssr")]
    pub tests: TestHistory,
    /// The stored test history as the page shows it, worded and rendered on the server.
    #[serde(default)]
    pub tests_shown: String,
    /// The latest saves, newest first. Server-side only: the browser shows `audit_shown`.
    #[cfg(feature = "ssr")]
    pub audit: Vec<AuditLine>,
    /// The change history as the page shows it (rendered on the server, like `tests_shown`).
    #[serde(default)]
    pub audit_shown: String,
    /// Only in a refused save's newer version: who saved it since the page's version, when,
    /// and what changed (rendered on the server).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub conflict_shown: String,
    /// The admin viewing the page.
    pub admin: String,
    /// While the saved settings sign in as a mailbox (OAuth2): its sign-in.
    #[serde(default)]
    pub mailbox: Option<MailboxView>,
    /// The redirect URI to register with an OAuth2 app for a mailbox's sign-in (shown before
    /// anything is saved).
    #[serde(default)]
    pub redirect_uri: String,
    /// While the configuration provides the settings: what sets each field it gives (the page
    /// shows them read-only). Empty: the page edits them.
    #[serde(default)]
    pub managed: Vec<(crate::domain::Field, String)>,
}

/// What "Test Email Server" answers.
///
/// The browser only shows a report, so the server renders it, in the page's language, and the
/// island (which never needs the report's own fields) reads only what it acts on. That keeps
/// the report's types, their deserializers and their views out of the wasm (issue 25); the
/// HTTP clients and the tests read `report`, which exists in the server's build only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestAnswer {
    /// `None`: the server accepted the test mail.
    pub diagnosis: Option<Diagnosis>,
    /// RFC 3339, UTC.
    pub finished_at: String,
    /// The report card's HTML in three parts, around the island's own lines: the heading;
    /// the summary, the server's reply and the field at fault; the advice, the details and
    /// the transcript.
    pub card: [String; 3],
    /// The stored test history after this test, as `MailSettingsView::tests_shown` (without
    /// the failure whose card is in view).
    pub tests_shown: String,
    #[cfg(feature = "ssr")]
    pub report: TestReport,
}

/// A mailbox's OAuth2 sign-in, as the page shows it (never its tokens).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxView {
    /// "Microsoft", "Google", or "" for another provider.
    pub provider: String,
    /// The connected mailbox: account (as the provider named it), when and by whom.
    pub connected: Option<(String, String, String)>,
    /// What the page shows of it, rendered on the server: the connected mailbox with
    /// Disconnect, or that none is, and "Sign in with …".
    #[serde(default)]
    pub shown: String,
}

#[server(endpoint = "load_mail_settings", input = super::codec::Json, output = super::codec::Json)]
pub async fn load_mail_settings() -> Result<MailSettingsView, AppError> {
    let session = ssr::session().await?;
    let (saved, tests, audit) = ssr::page_records().await?;
    Ok(ssr::view(session.admin, saved, tests, audit))
}

/// Validates the form with the shared rules, then stores it as one record, flushed to disk
/// before the answer. `version` is the version the form was loaded from. JSON in and out: the
/// settings island calls it.
#[server(endpoint = "save_mail_settings", input = super::codec::Json, output = super::codec::Json)]
pub async fn save_mail_settings(version: u64, form: MailServerForm) -> Result<MailSettingsView, AppError> {
    ssr::save(version, form).await
}

/// The same save for the page without JavaScript: the form's own URL-encoded post. The answer
/// is a redirect back to the page (with the error in its URL when refused, so a conflict
/// leaves the newer version out).
#[server(endpoint = "save_mail_settings_form", output = super::codec::Json)]
pub async fn save_mail_settings_form(
    version: u64,
    form: MailServerForm,
) -> Result<MailSettingsView, AppError> {
    ssr::save(version, form).await.map_err(|e| match e {
        AppError::Conflict {
            current, saved_at, ..
        } => AppError::Conflict {
            current,
            saved_at,
            newer: None,
        },
        other => other,
    })
}

/// "Test Email Server": sends a real test mail with the values now in the form (not saved).
/// A blank password uses the saved one while host, port and account are unchanged.
#[server(endpoint = "test_mail_server", input = super::codec::Json, output = super::codec::Json)]
pub async fn test_mail_server(form: MailServerForm, send_to: String) -> Result<TestAnswer, AppError> {
    use crate::domain::{test_recipient, Field, FieldErrors, MailServer};
    use crate::{history::TestOutcome, mailer};

    let session = ssr::session().await?;
    let limits = ssr::current()?.limits;
    limits
        .tests
        .check(&session.admin, std::time::Instant::now())
        .map_err(|retry_after_secs| AppError::RateLimited {
            limit: limits.tests.limit(),
            retry_after_secs,
        })?;

    let store = ssr::store()?;
    let current = store.load_mail().await?;
    let parsed = ssr::parse(&form, current.as_ref())?;
    let invalid = |field, message| AppError::invalid_form(FieldErrors::one(field, message), &form);
    let recipient = test_recipient(&form, &send_to)
        .and_then(|a| {
            a.as_str()
                .parse::<lettre::Address>()
                .map_err(|_| crate::domain::Said::new("address-invalid").with("input", a.as_str()))
        })
        .map_err(|m| invalid(Field::SendTo, m))?;
    if let Some(ca) = &parsed.settings.ca_pem {
        mailer::check_ca_pem(ca.as_str()).map_err(|m| invalid(Field::CaPem, m))?;
    }
    let saved = current.map(|c| c.value);
    let server = MailServer::from_form(parsed, saved.as_ref()).ok_or_else(|| {
        AppError::internal("testing the mail server failed", "password kept but none stored")
    })?;
    let ctx = ssr::current()?;
    let lang = ssr::admin_mail_language(&session.admin).await?;
    let texts =
        crate::store::templates::template(store.as_ref(), crate::templates::Kind::TestMail, lang).await?;
    let report = mailer::test_send(
        &server,
        &recipient,
        (&texts, lang),
        crate::api::server::speak().await,
        &ctx.outbox.tokens(),
    )
    .await;
    tracing::info!(
        server = %report.server,
        diagnosis = ?report.diagnosis,
        elapsed_ms = report.elapsed_ms,
        "mail server test finished"
    );
    let outcome = TestOutcome::from(&report);
    store.record_test(outcome).await?;
    let tests = store.load_tests().await?;
    Ok(TestAnswer {
        diagnosis: report.diagnosis,
        finished_at: report.finished_at.clone(),
        card: crate::pages::mail::report_card(&report),
        tests_shown: crate::pages::mail::tests_shown(&tests, true),
        report,
    })
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::MailSettingsView;
    pub use crate::api::server::{admin_mail_language, current, session, store};
    use crate::domain::{MailServer, MailServerForm, MailServerSettings, ParsedForm};
    use crate::error::AppError;
    use crate::history::{AuditEntry, AuditLine, TestHistory};
    use crate::store::Versioned;

    /// How many saves the page shows.
    pub const AUDIT_SHOWN: usize = 20;

    /// Both saves: a stale version is a conflict before the values are checked (against the
    /// version the admin saw, not a newer one; the store checks again, atomically, on write).
    /// A refused save carries the version stored now, so the page can show who changed what.
    pub async fn save(version: u64, form: MailServerForm) -> Result<MailSettingsView, AppError> {
        let session = session().await?;
        // The change history comes back worded in the admin's language.
        crate::api::server::speak().await;
        let admin = session.admin.clone();
        match try_save(session, version, form).await {
            Err(AppError::Conflict {
                current, saved_at, ..
            }) => {
                let (saved, tests, audit) = page_records().await?;
                // The saves since the page's version, newest first: each is one version.
                let unseen: Vec<AuditLine> = audit
                    .iter()
                    .filter(|e| e.changes.iter().all(crate::history::Change::is_mail_settings))
                    .take(usize::try_from(current.saturating_sub(version)).unwrap_or(usize::MAX))
                    .map(|e| AuditLine::worded(e.clone(), &crate::i18n::say))
                    .collect();
                let mut newer = view(admin.clone(), saved, tests, audit);
                newer.conflict_shown = crate::pages::mail::conflict_shown(&unseen, &admin, &saved_at);
                Err(AppError::Conflict {
                    current,
                    saved_at,
                    newer: Some(Box::new(newer)),
                })
            }
            other => other,
        }
    }

    async fn try_save(
        session: crate::api::server::Session,
        version: u64,
        form: MailServerForm,
    ) -> Result<MailSettingsView, AppError> {
        let managed = current()?.managed;
        if let Some((_, source)) = managed.first() {
            return Err(AppError::Forbidden(crate::i18n::tr_args(
                "mail-managed-refused",
                &[("source", source.as_str().into())],
            )));
        }
        let store = store()?;
        let current = store.load_mail().await?;
        let (stored, saved_at) = current
            .as_ref()
            .map_or((0, None), |c| (c.version, Some(&c.saved_at)));
        if stored != version {
            return Err(AppError::Conflict {
                current: stored,
                saved_at: saved_at.cloned().unwrap_or_default(),
                newer: None,
            });
        }
        let parsed = parse(&form, current.as_ref())?;
        let server = MailServer::from_form(parsed, current.as_ref().map(|c| &c.value)).ok_or_else(|| {
            AppError::internal("saving the mail settings failed", "password kept but none stored")
        })?;
        let saved = store.save_mail(version, server, &session.admin).await?;
        let (tests, audit) = (store.load_tests().await?, store.recent_audit(AUDIT_SHOWN).await?);
        tracing::info!(version = saved.version, host = %saved.value.settings.host, admin = ?session.admin, "mail settings saved");
        Ok(view(session.admin, Some(saved), tests, audit))
    }

    /// What the page shows from the store: the settings (if any), the test history and the
    /// latest saves.
    pub async fn page_records(
    ) -> Result<(Option<Versioned<MailServer>>, TestHistory, Vec<AuditEntry>), AppError> {
        let store = store()?;
        Ok((
            store.load_mail().await?,
            store.load_tests().await?,
            store.recent_audit(AUDIT_SHOWN).await?,
        ))
    }

    /// The page's view of the stored settings (if any), test history and latest saves.
    pub fn view(
        admin: String,
        saved: Option<Versioned<MailServer>>,
        tests: TestHistory,
        audit: Vec<AuditEntry>,
    ) -> MailSettingsView {
        let audit: Vec<AuditLine> = audit
            .into_iter()
            .map(|e| AuditLine::worded(e, &crate::i18n::say))
            .collect();
        let mut view = MailSettingsView {
            tests_shown: crate::pages::mail::tests_shown(&tests, false),
            tests,
            audit_shown: crate::pages::mail::audit_shown(&audit),
            audit,
            admin,
            redirect_uri: current()
                .map(|ctx| crate::api::oauth::ssr::redirect_uri(&ctx))
                .unwrap_or_default(),
            managed: current().map(|ctx| ctx.managed.to_vec()).unwrap_or_default(),
            ..MailSettingsView::default()
        };
        if let Some(saved) = saved {
            view.version = saved.version;
            view.saved_at = Some(saved.saved_at);
            view.form = saved.value.settings.to_form();
            view.password_saved = !saved.value.password.is_empty();
            view.client_secret_saved = !saved.value.client_secret.is_empty();
            view.saved_login = Some(saved.value.settings.login());
            view.mailbox = saved.value.mailbox_app().map(|_| {
                let mut mailbox = super::MailboxView {
                provider: saved
                    .value
                    .settings
                    .oauth
                    .as_ref()
                    .and_then(|o| o.authorization_endpoint())
                    .and_then(|u| crate::domain::ProviderOAuth::by_auth_url(&u))
                    .map(|p| p.brand.to_string())
                    .unwrap_or_default(),
                connected: saved
                    .value
                    .mailbox
                    .as_ref()
                    .map(|m| (m.account.clone(), m.connected_at.clone(), m.connected_by.clone())),
                shown: String::new(),
                };
                mailbox.shown = crate::pages::mail::mailbox_shown(&mailbox);
                mailbox
            });
        }
        view
    }

    /// The form checked by the shared rules against the saved login.
    pub fn parse(
        form: &MailServerForm,
        current: Option<&Versioned<MailServer>>,
    ) -> Result<ParsedForm, AppError> {
        let saved_login = current.map(|c| c.value.settings.login());
        MailServerSettings::parse(form, saved_login.as_ref())
            .map_err(|errors| AppError::invalid_form(errors, form))
    }
}
