//! The HTTP API's settings and its limits in this process: the per-token rate window and the
//! bound on store work at once. Per instance by design: each instance protects its own CPU and
//! memory (with N instances a token gets N × its rate; the README's state table says so).

use app::ratelimit::{Bound, Window};
use std::sync::atomic::AtomicBool;

/// The HTTP API's settings (`MAILROOM_API_REQUESTS_PER_MINUTE`, `MAILROOM_ALERT_REPEAT_MINUTES`,
/// `MAILROOM_GRAFANA_WEBHOOK_SECRET`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiSettings {
    /// Requests per minute per token.
    pub requests_per_minute: u32,
    /// How often a firing alert is mailed again to the same recipient.
    pub alert_repeat_secs: u64,
    /// The secret Grafana's webhooks must be signed with, if any.
    pub grafana_secret: Option<super::webhooks::grafana::Secret>,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            requests_per_minute: 600,
            alert_repeat_secs: 4 * 60 * 60,
            grafana_secret: None,
        }
    }
}

/// The HTTP API's limits, from its settings.
pub struct Api {
    pub settings: ApiSettings,
    /// Requests per token.
    pub calls: Window,
    /// Store work of API requests (durable enqueues): a bounded number at once and waiting,
    /// the rest refused with 503.
    pub work: Bound,
    /// Set once mail settings are known to be saved (they are never removed), so requests
    /// need not read them again. A cache: until it is set, each request reads the store.
    pub configured: AtomicBool,
}

/// Enqueues that write at the same time (they share flushes), and how many more may wait.
const API_WRITERS: usize = 32;
const API_WAITING: usize = 1024;

impl Api {
    pub fn new(settings: ApiSettings) -> Self {
        Self {
            calls: Window::per_minute(settings.requests_per_minute),
            work: Bound::new(API_WRITERS, API_WAITING, std::time::Duration::from_secs(5)),
            configured: Default::default(),
            settings,
        }
    }
}
