//! Server functions, one module per feature: the only way the browser reads or writes anything.
//! [`mail`]: Settings › Mail Server (load, save, test). [`auth`]: login, logout, first-admin
//! setup, forgotten password. [`tokens`]: Settings › API Tokens. [`templates`]: Settings › Mail Templates. [`activity`]: Settings › Mail
//! Activity and the send through the queue. [`oauth`]: a mailbox's OAuth2 sign-in and
//! disconnect. [`server`] (server only) holds what they share.

pub mod activity;
pub mod auth;
pub mod codec;
pub mod mail;
pub mod oauth;
pub mod templates;
pub mod tokens;
#[cfg(feature = "ssr")]
pub mod server;

pub use auth::{reset_link_valid, setup_link_valid, Login, Logout, RequestPasswordReset, ResetAnswer, ResetLinkValid, ResetPassword, SetLanguage, SetupAdmin, RESET_LINK_MINUTES};
pub use mail::{LoadMailSettings, MailSettingsView, MailboxView, SaveMailSettings, SaveMailSettingsForm, TestMailServer};
