//! Server functions: the only way the browser reads or writes settings.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the page needs to show the saved settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MailSettingsView {
    /// 0 when nothing has been saved yet.
    pub version: u64,
    pub saved_at: Option<String>,
    pub host: String,
}

#[cfg(feature = "ssr")]
pub mod ctx {
    //! Context accessors for server functions: they fail loudly when the server forgot to
    //! provide something instead of panicking.
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

#[server(endpoint = "load_mail_settings")]
pub async fn load_mail_settings() -> Result<MailSettingsView, AppError> {
    let store = ctx::server()?.store;
    let loaded = tokio::task::spawn_blocking(move || store.load_mail())
        .await
        .map_err(|e| AppError::internal("loading the mail settings failed", e))?
        .map_err(|e| AppError::internal("loading the mail settings failed", e))?;
    Ok(match loaded {
        Some(rec) => MailSettingsView {
            version: rec.version,
            saved_at: Some(rec.saved_at),
            host: rec.value.host,
        },
        None => MailSettingsView::default(),
    })
}

#[server(endpoint = "save_mail_settings")]
pub async fn save_mail_settings(version: u64, host: String) -> Result<MailSettingsView, AppError> {
    use crate::store::{MailSettingsRecord, StoreError};
    let host = host.trim().to_string();
    if host.is_empty() {
        return Err(AppError::Invalid {
            fields: vec![("host".into(), "Enter the SMTP server's host name, e.g. smtp.163.com".into())],
        });
    }
    let store = ctx::server()?.store;
    let saved = tokio::task::spawn_blocking(move || store.save_mail(version, MailSettingsRecord { host }))
        .await
        .map_err(|e| AppError::internal("saving the mail settings failed", e))?;
    match saved {
        Ok(rec) => {
            tracing::info!(version = rec.version, "mail settings saved");
            Ok(MailSettingsView { version: rec.version, saved_at: Some(rec.saved_at), host: rec.value.host })
        }
        Err(StoreError::Conflict { current }) => Err(AppError::Conflict { current }),
        Err(e) => Err(AppError::internal("saving the mail settings failed", e)),
    }
}
