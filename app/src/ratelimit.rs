//! Rate limits (server only), all in one place: a sliding one-minute window per key (tests per
//! admin session, reset mails per client address) and exponential back-off after repeated
//! failures (logins, per account and per client address). Time is passed in, so tests can move it.

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
    time::{Duration, Instant},
};

/// At most `limit` requests per key in any sliding minute.
pub struct Window {
    limit: u32,
    seen: Mutex<HashMap<String, VecDeque<Instant>>>,
}

const WINDOW: Duration = Duration::from_secs(60);

impl Window {
    pub fn per_minute(limit: u32) -> Self {
        Self {
            limit,
            seen: Default::default(),
        }
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Counts one request; `Err(seconds)` when `key` must wait that long.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), u64> {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < WINDOW));
        let q = seen.entry(key.to_string()).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
            q.pop_front();
        }
        if let Some(oldest) = q.front().filter(|_| q.len() as u32 >= self.limit) {
            return Err((WINDOW - now.duration_since(*oldest)).as_secs() + 1);
        }
        q.push_back(now);
        Ok(())
    }
}

/// Failures allowed before back-off starts.
pub const FREE_FAILURES: u32 = 5;
const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);

/// Failures per key with exponential back-off after [`FREE_FAILURES`]: 1 s, 2 s, 4 s … up to
/// 15 minutes. A success clears the key.
#[derive(Default)]
pub struct Backoff {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Backoff {
    /// `Err(seconds)` when any of `keys` must still wait.
    pub fn check(&self, keys: &[String], now: Instant) -> Result<(), u64> {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let wait = keys
            .iter()
            .filter_map(|k| map.get(k))
            .filter_map(|(count, last)| {
                let until = *last + Self::delay(*count)?;
                (until > now).then(|| (until - now).as_secs().max(1))
            })
            .max();
        wait.map_or(Ok(()), Err)
    }

    pub fn failed(&self, keys: &[String], now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for k in keys {
            let entry = map.entry(k.clone()).or_insert((0, now));
            entry.0 += 1;
            entry.1 = now;
        }
    }

    pub fn succeeded(&self, keys: &[String]) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for k in keys {
            map.remove(k);
        }
    }

    fn delay(failures: u32) -> Option<Duration> {
        let over = failures.checked_sub(FREE_FAILURES)?;
        Some(Duration::from_secs(1u64 << over.min(10)).min(MAX_BACKOFF))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_allows_the_limit_then_says_how_long_to_wait() {
        let w = Window::per_minute(3);
        let t0 = Instant::now();
        for i in 0..3 {
            assert_eq!(w.check("a", t0 + Duration::from_secs(i)), Ok(()));
        }
        assert_eq!(
            w.check("a", t0 + Duration::from_secs(10)),
            Err(51),
            "the oldest leaves the window at 60 s"
        );
        assert_eq!(
            w.check("b", t0 + Duration::from_secs(10)),
            Ok(()),
            "keys are counted apart"
        );
        assert_eq!(
            w.check("a", t0 + Duration::from_secs(60)),
            Ok(()),
            "the first request has left the window"
        );
    }

    #[test]
    fn backoff_is_exponential_after_five_failures_and_cleared_by_success() {
        let t = Backoff::default();
        let keys = vec!["account:a@example.com".to_string()];
        let start = Instant::now();
        for _ in 0..FREE_FAILURES {
            assert!(t.check(&keys, start).is_ok());
            t.failed(&keys, start);
        }
        assert_eq!(t.check(&keys, start), Err(1));
        assert!(t.check(&keys, start + Duration::from_secs(2)).is_ok());
        t.failed(&keys, start);
        assert_eq!(t.check(&keys, start), Err(2));
        t.succeeded(&keys);
        assert!(t.check(&keys, start).is_ok());
    }

    #[test]
    fn backoff_never_exceeds_fifteen_minutes() {
        assert_eq!(Backoff::delay(FREE_FAILURES + 40), Some(MAX_BACKOFF));
        assert_eq!(Backoff::delay(FREE_FAILURES - 1), None);
    }
}
