//! Sessions kept open between the worker's rounds: mail that arrives steadily (the SMTP
//! listener's, an alert storm's) goes out through the same connections instead of a
//! connection, TLS handshake and login per round.
//!
//! A kept session is for the settings' version it was opened with, is asked NOOP before it is
//! used again (the server may have closed it), and is closed when it has been idle for
//! [`KEEP_IDLE`], when the settings change, and when the worker stops. Per process: a session
//! is a connection of this process.

use crate::domain::MailServer;
use crate::mailer::Session;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a session may wait for the next round before it is closed.
pub const KEEP_IDLE: Duration = Duration::from_secs(10);

struct Idle {
    version: u64,
    server: Arc<MailServer>,
    since: Instant,
    session: Session,
}

/// The idle sessions, at most `limit` of them (the worker's concurrency).
#[derive(Default)]
pub struct Kept {
    idle: Mutex<Vec<Idle>>,
}

impl Kept {
    /// An idle session for `version` that still answers, if there is one.
    pub async fn take(&self, version: u64, server: &MailServer) -> Option<Session> {
        loop {
            let found = {
                let mut idle = self.lock();
                let at = idle.iter().rposition(|i| i.version == version)?;
                idle.swap_remove(at)
            };
            let mut session = found.session;
            if session.alive(server).await {
                return Some(session);
            }
        }
    }

    /// Keeps `session` for the next round, unless `limit` are kept already (then it is closed).
    pub fn put(&self, version: u64, server: Arc<MailServer>, session: Session, limit: usize) {
        let surplus = {
            let mut idle = self.lock();
            if idle.len() < limit {
                idle.push(Idle { version, server, since: Instant::now(), session });
                None
            } else {
                Some((server, session))
            }
        };
        if let Some((server, session)) = surplus {
            tokio::spawn(async move { session.close(&server).await });
        }
    }

    /// Closes the sessions idle for longer than [`KEEP_IDLE`] or opened with other settings
    /// than `current` (all of them for `None`), without waiting for their goodbyes.
    pub fn sweep(&self, current: Option<u64>) {
        let now = Instant::now();
        let stale: Vec<Idle> = {
            let mut idle = self.lock();
            let (stale, kept) = std::mem::take(&mut *idle)
                .into_iter()
                .partition(|i| Some(i.version) != current || now.duration_since(i.since) >= KEEP_IDLE);
            *idle = kept;
            stale
        };
        // Each goodbye waits at most the settings' timeout, and nothing waits for it.
        for i in stale {
            tokio::spawn(async move { i.session.close(&i.server).await });
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }
}
