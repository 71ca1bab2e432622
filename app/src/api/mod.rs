//! Server functions, one module per feature: the only way the browser reads or writes anything.
//! [`mail`]: Settings › Mail Server (load, save, test). [`auth`]: login, logout, first-admin
//! setup, forgotten password. [`server`] (server only) holds what they share.

pub mod auth;
pub mod codec;
pub mod mail;
#[cfg(feature = "ssr")]
pub mod server;

pub use auth::{Login, Logout, RequestPasswordReset, ResetAnswer, ResetPassword, SetupAdmin};
pub use mail::{LoadMailSettings, MailSettingsView, SaveMailSettings, SaveMailSettingsForm, TestMailServer};
