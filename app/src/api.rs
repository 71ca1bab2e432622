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
}

#[cfg(feature = "ssr")]
impl MailSettingsView {
    fn from_record(rec: Option<crate::store::Versioned<crate::store::MailSettingsRecord>>) -> Self {
        match rec {
            Some(rec) => Self {
                version: rec.version,
                saved_at: Some(rec.saved_at),
                form: rec.value.to_form(),
                password_saved: !rec.value.password.is_empty(),
                saved_login: Some(rec.value.login()),
            },
            None => Self::default(),
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
    let loaded = blocking(WHAT, |s| s.load_mail()).await?.map_err(|e| AppError::internal(WHAT, e))?;
    Ok(MailSettingsView::from_record(loaded))
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

    match blocking(WHAT, move |s| s.save_mail(version, record)).await? {
        Ok(rec) => {
            tracing::info!(version = rec.version, host = %rec.value.host, "mail settings saved");
            Ok(MailSettingsView::from_record(Some(rec)))
        }
        Err(StoreError::Conflict { current, saved_at }) => Err(AppError::Conflict { current, saved_at }),
        Err(e) => Err(AppError::internal(WHAT, e)),
    }
}
