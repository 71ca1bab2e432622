//! Server functions: the only way the browser reads or writes settings.

use crate::domain::{MailServerForm, SavedLogin};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the page needs to show the saved settings. Never holds the password.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MailSettingsView {
    /// 0 when nothing has been saved yet.
    pub version: u64,
    /// RFC 3339, UTC.
    pub saved_at: Option<String>,
    pub form: MailServerForm,
    /// Whether a password is stored (its value stays on the server).
    pub password_saved: bool,
    /// The login the saved password belongs to: a blank password keeps it only for this login.
    pub saved_login: Option<SavedLogin>,
    pub tests: crate::store_types::TestHistory,
}

#[cfg(feature = "ssr")]
impl MailSettingsView {
    fn from_record(
        rec: Option<crate::store::Versioned<crate::store::MailSettingsRecord>>,
        tests: crate::store_types::TestHistory,
    ) -> Self {
        match rec {
            Some(rec) => Self {
                version: rec.version,
                saved_at: Some(rec.saved_at),
                form: rec.value.to_form(),
                password_saved: !rec.value.password.is_empty(),
                saved_login: Some(rec.value.login()),
                tests,
            },
            None => Self { tests, ..Self::default() },
        }
    }
}

#[cfg(feature = "ssr")]
pub mod ctx {
    //! Context accessors for server functions: they fail with an error when the server forgot
    //! to provide something instead of panicking.
    use crate::{error::AppError, store::SharedStore};
    use leptos::prelude::use_context;

    /// Everything the server hands to server functions through context.
    #[derive(Clone)]
    pub struct ServerContext {
        pub store: SharedStore,
        pub test_limiter: std::sync::Arc<super::RateLimiter>,
    }

    impl ServerContext {
        pub fn new(store: SharedStore) -> Self {
            Self { store, test_limiter: std::sync::Arc::new(super::RateLimiter::new(super::TESTS_PER_MINUTE)) }
        }
    }

    pub fn server() -> Result<ServerContext, AppError> {
        use_context::<ServerContext>()
            .ok_or_else(|| AppError::internal("server context missing", "ServerContext not provided"))
    }
}

/// Runs blocking storage work off the async runtime.
#[cfg(feature = "ssr")]
async fn blocking<T: Send + 'static>(
    what: &'static str,
    f: impl FnOnce(&dyn crate::store::SettingsStore) -> Result<T, crate::store::StoreError> + Send + 'static,
) -> Result<Result<T, crate::store::StoreError>, AppError> {
    let store = ctx::server()?.store;
    tokio::task::spawn_blocking(move || f(store.as_ref())).await.map_err(|e| AppError::internal(what, e))
}

#[server(endpoint = "load_mail_settings")]
pub async fn load_mail_settings() -> Result<MailSettingsView, AppError> {
    const WHAT: &str = "loading the mail settings failed";
    let (loaded, tests) = blocking(WHAT, |s| Ok((s.load_mail()?, s.load_tests()?)))
        .await?
        .map_err(|e| AppError::internal(WHAT, e))?;
    Ok(MailSettingsView::from_record(loaded, tests))
}

/// Validates the form with the shared rules, then stores it as one record, flushed to disk
/// before the answer. `version` is the version the form was loaded from.
#[server(endpoint = "save_mail_settings")]
pub async fn save_mail_settings(version: u64, form: MailServerForm) -> Result<MailSettingsView, AppError> {
    use crate::domain::MailServerSettings;
    use crate::store::{MailSettingsRecord, StoreError};
    const WHAT: &str = "saving the mail settings failed";

    let current = blocking(WHAT, |s| s.load_mail()).await?.map_err(|e| AppError::internal(WHAT, e))?;
    let saved_login = current.as_ref().map(|c| c.value.login());
    let invalid = |errors| AppError::Invalid {
        errors,
        submitted: Some(MailServerForm { password: String::new(), ..form.clone() }),
    };
    let settings = MailServerSettings::parse(&form, saved_login.as_ref()).map_err(invalid)?;
    let kept = current.as_ref().map(|c| c.value.password.as_str());
    let record = MailSettingsRecord::from_settings(&settings, kept)
        .ok_or_else(|| AppError::internal(WHAT, "password kept but none stored"))?;

    match blocking(WHAT, move |s| Ok((s.save_mail(version, record), s.load_tests()?))).await? {
        Ok((Ok(rec), tests)) => {
            tracing::info!(version = rec.version, host = %rec.value.host, "mail settings saved");
            Ok(MailSettingsView::from_record(Some(rec), tests))
        }
        Ok((Err(e), _)) => Err(match e {
            StoreError::Conflict { current, saved_at } => AppError::Conflict { current, saved_at },
            e => AppError::internal(WHAT, e),
        }),
        Err(e) => Err(AppError::internal(WHAT, e)),
    }
}

/// Tests per minute allowed for one client (per admin session once logins exist).
pub const TESTS_PER_MINUTE: u32 = 5;

/// A sliding one-minute window of test requests per client address.
#[cfg(feature = "ssr")]
pub struct RateLimiter {
    limit: u32,
    seen: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, std::collections::VecDeque<std::time::Instant>>>,
}

#[cfg(feature = "ssr")]
impl RateLimiter {
    pub fn new(limit: u32) -> Self {
        Self { limit, seen: Default::default() }
    }

    /// Counts one request; `Err(seconds)` when the client must wait that long.
    pub fn check(&self, client: std::net::IpAddr, now: std::time::Instant) -> Result<(), u64> {
        const WINDOW: std::time::Duration = std::time::Duration::from_secs(60);
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < WINDOW));
        let q = seen.entry(client).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
            q.pop_front();
        }
        if q.len() as u32 >= self.limit {
            let oldest = *q.front().expect("non-empty at the limit");
            return Err((WINDOW - now.duration_since(oldest)).as_secs() + 1);
        }
        q.push_back(now);
        Ok(())
    }
}

/// "Test Email Server": sends a real test mail with the values now in the form (not saved).
/// A blank password uses the saved one while host, port and account are unchanged.
#[server(endpoint = "test_mail_server")]
pub async fn test_mail_server(
    form: MailServerForm,
    send_to: String,
) -> Result<crate::mailtest::TestReport, AppError> {
    use crate::domain::{test_recipient, Field, FieldErrors, MailServerSettings, PasswordChoice};
    use crate::mailer::{test_send, SmtpTarget};
    use crate::store::TestOutcome;
    const WHAT: &str = "testing the mail server failed";

    let ctx = ctx::server()?;
    let axum::extract::ConnectInfo(peer) =
        leptos_axum::extract::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .await
            .map_err(|e| AppError::internal(WHAT, e))?;
    ctx.test_limiter
        .check(peer.ip(), std::time::Instant::now())
        .map_err(|retry_after_secs| AppError::RateLimited { limit: TESTS_PER_MINUTE, retry_after_secs })?;

    let current = blocking(WHAT, |s| s.load_mail()).await?.map_err(|e| AppError::internal(WHAT, e))?;
    let saved_login = current.as_ref().map(|c| c.value.login());
    let invalid = |errors| AppError::Invalid {
        errors,
        submitted: Some(MailServerForm { password: String::new(), ..form.clone() }),
    };
    let settings = MailServerSettings::parse(&form, saved_login.as_ref()).map_err(invalid)?;
    let recipient = test_recipient(&form, &send_to)
        .and_then(|a| a.as_str().parse::<lettre::Address>().map_err(|e| e.to_string()))
        .map_err(|m| invalid(FieldErrors(vec![(Field::SendTo, m)])))?;
    if let Some(ca) = &settings.ca_pem {
        lettre::transport::smtp::client::Certificate::from_pem(ca.as_str().as_bytes()).map_err(|e| {
            invalid(FieldErrors(vec![(Field::CaPem, format!("This certificate could not be read ({e}); paste the whole PEM block"))]))
        })?;
    }
    let password = match &settings.password {
        PasswordChoice::New(p) => p.clone(),
        PasswordChoice::KeepSaved => current.map(|c| c.value.password).unwrap_or_default(),
    };
    let target = SmtpTarget {
        ca_pem: settings.ca_pem.as_ref().map(|c| c.as_str().to_string()),
        skip_verify: settings.skip_verify,
        settings,
        password,
    };
    let report = test_send(&target, &recipient).await;
    tracing::info!(
        server = %report.server,
        stage = ?report.stage,
        success = report.success,
        elapsed_ms = report.elapsed_ms,
        "mail server test finished"
    );
    let outcome = TestOutcome {
        success: report.success,
        stage: report.stage,
        summary: report.summary.clone(),
        server: report.server.clone(),
        finished_at: report.finished_at.clone(),
    };
    blocking(WHAT, move |s| s.record_test(outcome)).await?.map_err(|e| AppError::internal(WHAT, e))?;
    Ok(report)
}
