//! Mailroom's engine, the server side with no Leptos: the store (`store`), the outbox worker
//! (`delivery`), sending with lettre and OAuth2 (`mailer`), the alert mail (`notify`), admins,
//! sessions and API tokens (`auth`), secrets sealed at rest (`secrets`), every rate limit
//! (`ratelimit`) and the one clock (`clock`). The domain rules and the shared records come from the `domain` crate,
//! re-exported here under the paths the engine uses (`crate::domain`, `crate::outbox`, …).

pub use domain::{self, history, outbox, report};

pub mod auth;
pub mod clock;
pub mod delivery;
pub mod mailer;
pub mod metrics;
pub mod notify;
pub mod ratelimit;
pub mod secrets;
pub mod store;
pub mod templates;
pub mod i18n;
