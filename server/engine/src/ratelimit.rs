//! Rate and load limits (server only), all in one place: a sliding one-minute window per key
//! (tests per admin, reset mails per client address), the rule of the exponential back-off
//! after repeated failed logins (its counters are in the store), a gate that bounds how much
//! slow work (password hashing) runs and waits at once, and a bound on async work (the HTTP
//! API's writes). Each keeps bounded memory: keys are capped in length and in number. Time is
//! passed in, so tests can move it.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// Keys kept per limit; past it, the stalest key is forgotten first.
pub const MAX_KEYS: usize = 10_000;
/// Longer keys are cut (an e-mail address has at most 254 characters).
const MAX_KEY_CHARS: usize = 256;

pub fn capped(key: &str) -> String {
    key.chars().take(MAX_KEY_CHARS).collect()
}

/// Whole seconds to wait, rounded up: a client that obeys it is not refused again.
pub fn secs_ceil(d: Duration) -> u64 {
    d.as_millis().div_ceil(1000).max(1) as u64
}

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
        let key = capped(key);
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= MAX_KEYS && !seen.contains_key(&key) {
            // Full: forget keys whose requests have all left the window (not on every request,
            // which would make each one walk every key), then the stalest if still full.
            seen.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < WINDOW));
        }
        if seen.len() >= MAX_KEYS && !seen.contains_key(&key) {
            let stalest = seen
                .iter()
                .min_by_key(|(_, q)| q.back().copied())
                .map(|(k, _)| k.clone());
            seen.remove(&stalest.unwrap_or_default());
        }
        let q = seen.entry(key).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
            q.pop_front();
        }
        if let Some(oldest) = q.front().filter(|_| q.len() as u32 >= self.limit) {
            return Err(secs_ceil(WINDOW - now.duration_since(*oldest)));
        }
        q.push_back(now);
        Ok(())
    }

    #[cfg(test)]
    fn keys(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

/// The throttling key of a client address: IPv4 as is, IPv6 by its /64 (one customer's
/// network, which can hold any number of addresses). The login page's and the SMTP
/// listener's back-off count by it.
pub fn address_key(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// Failures allowed before back-off starts.
pub const FREE_FAILURES: u32 = 5;
const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);
/// A key with no failure for this long starts afresh.
pub const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

/// The login back-off's rule (its counters are in the store, shared by every instance:
/// `store::BackoffStore`): after [`FREE_FAILURES`] failures, a wait of 1 s, 2 s, 4 s … up to
/// 15 minutes since the last one.
pub fn backoff_delay(failures: u32) -> Option<Duration> {
    let over = failures.checked_sub(FREE_FAILURES)?;
    Some(Duration::from_secs(1u64 << over.min(10)).min(MAX_BACKOFF))
}

/// Why the gate did not run the work.
#[derive(Debug, PartialEq, Eq)]
pub enum GateError {
    /// Too many waiting, or no turn within the wait allowed.
    Busy,
    /// The work panicked.
    Failed,
}

type Job = Box<dyn FnOnce() + Send>;

/// Bounded concurrency for slow, memory-hungry work (password hashing): `workers` dedicated
/// threads run it, at most `max_waiting` jobs wait, each at most `max_wait`; the rest are
/// refused at once. Memory stays bounded whatever the request rate: only the workers ever hold
/// a hash's memory (and the allocator keeps at most their few arenas), never one thread per
/// request.
pub struct Gate {
    jobs: std::sync::mpsc::SyncSender<Job>,
    max_wait: Duration,
}

impl Gate {
    pub fn new(workers: usize, max_waiting: usize, max_wait: Duration) -> Self {
        let (jobs, queue) = std::sync::mpsc::sync_channel::<Job>(max_waiting);
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..workers.max(1) {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("mailroom-gate-{i}"))
                .spawn(move || loop {
                    let job = queue.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    match job {
                        Ok(job) => job(),
                        // The gate is gone.
                        Err(_) => break,
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "starting a worker thread failed");
            }
        }
        Self { jobs, max_wait }
    }

    /// One worker per core.
    pub fn per_core(max_waiting: usize, max_wait: Duration) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self::new(cores, max_waiting, max_wait)
    }

    /// Runs `work` on a worker when its turn comes.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, GateError> {
        self.run_queued_at(Instant::now(), work).await
    }

    /// [`Gate::run`] for work counted as waiting since `queued`.
    async fn run_queued_at<T: Send + 'static>(
        &self,
        queued: Instant,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, GateError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let max_wait = self.max_wait;
        let job: Job = Box::new(move || {
            // Waited too long: dropping `done` answers Busy.
            if queued.elapsed() <= max_wait {
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
                let _ = done.send(outcome);
            }
        });
        self.jobs.try_send(job).map_err(|e| match e {
            std::sync::mpsc::TrySendError::Full(_) => GateError::Busy,
            std::sync::mpsc::TrySendError::Disconnected(_) => GateError::Failed,
        })?;
        match result.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(_panic)) => Err(GateError::Failed),
            Err(_dropped) => Err(GateError::Busy),
        }
    }
}

/// Bounded concurrency for async work (the HTTP API's durable writes): `permits` at once, at
/// most `max_waiting` waiting, each at most `max_wait`; the rest refused at once
/// ([`GateError::Busy`]). A waiter that goes away (its client hung up) stops counting.
pub struct Bound {
    permits: tokio::sync::Semaphore,
    waiting: std::sync::atomic::AtomicUsize,
    max_waiting: usize,
    max_wait: Duration,
}

impl Bound {
    pub fn new(permits: usize, max_waiting: usize, max_wait: Duration) -> Self {
        Self {
            permits: tokio::sync::Semaphore::new(permits.max(1)),
            waiting: Default::default(),
            max_waiting,
            max_wait,
        }
    }

    pub async fn run<T>(&self, work: impl std::future::Future<Output = T>) -> Result<T, GateError> {
        let _permit = match self.permits.try_acquire() {
            Ok(permit) => permit,
            Err(_) => {
                use std::sync::atomic::Ordering::SeqCst;
                /// Counts one waiter while it lives.
                struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);
                impl Drop for Waiting<'_> {
                    fn drop(&mut self) {
                        self.0.fetch_sub(1, SeqCst);
                    }
                }
                let waiting = Waiting(&self.waiting);
                if self.waiting.fetch_add(1, SeqCst) >= self.max_waiting {
                    return Err(GateError::Busy);
                }
                let permit = tokio::time::timeout(self.max_wait, self.permits.acquire()).await;
                drop(waiting);
                match permit {
                    Ok(Ok(permit)) => permit,
                    _ => return Err(GateError::Busy),
                }
            }
        };
        Ok(work.await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn window_allows_the_limit_then_says_how_long_to_wait() {
        let w = Window::per_minute(3);
        let t0 = Instant::now();
        for i in 0..3 {
            assert_eq!(w.check("a", t0 + Duration::from_secs(i)), Ok(()));
        }
        let wait = w.check("a", t0 + Duration::from_millis(10_500)).unwrap_err();
        assert_eq!(wait, 50, "49.5 s rounded up");
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
    fn window_keys_are_bounded() {
        let w = Window::per_minute(1);
        let t0 = Instant::now();
        for i in 0..MAX_KEYS + 50 {
            w.check(&format!("{i}{}", "x".repeat(1000)), t0).unwrap();
        }
        assert!(w.keys() <= MAX_KEYS);
    }

    #[test]
    fn backoff_starts_after_the_free_failures_and_never_exceeds_fifteen_minutes() {
        assert_eq!(backoff_delay(FREE_FAILURES - 1), None);
        assert_eq!(backoff_delay(FREE_FAILURES), Some(Duration::from_secs(1)));
        assert_eq!(backoff_delay(FREE_FAILURES + 1), Some(Duration::from_secs(2)));
        assert_eq!(backoff_delay(FREE_FAILURES + 40), Some(MAX_BACKOFF));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_gate_bounds_running_and_waiting_work() {
        let gate = Arc::new(Gate::new(2, 3, Duration::from_secs(5)));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let hold = Arc::new(Mutex::new(hold));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (gate, running, most, hold) = (gate.clone(), running.clone(), most.clone(), hold.clone());
            tasks.push(tokio::spawn(async move {
                gate.run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    let _ = hold.lock().unwrap().recv_timeout(Duration::from_secs(5));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            }));
        }
        // While the running ones hold, everything beyond two running and three queued is
        // refused at once (at least 15 of the 20 answer before anything is released).
        while tasks.iter().filter(|t| t.is_finished()).count() < 15 {
            tokio::task::yield_now().await;
        }
        for _ in 0..5 {
            release.send(()).unwrap();
        }
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.unwrap());
        }
        let ran = results.iter().filter(|r| r.is_ok()).count();
        assert!((3..=5).contains(&ran), "{results:?}");
        assert_eq!(
            results.iter().filter(|r| **r == Err(GateError::Busy)).count(),
            20 - ran
        );
        assert!(most.load(Ordering::SeqCst) <= 2, "at most two at once");
    }

    #[tokio::test]
    async fn work_that_waited_too_long_is_refused_and_a_panic_is_reported() {
        let gate = Gate::new(1, 4, Duration::from_millis(50));
        // Work that has waited a second by the time a worker takes it is not run.
        let a_second_ago = Instant::now().checked_sub(Duration::from_secs(1)).unwrap();
        assert_eq!(
            gate.run_queued_at(a_second_ago, || ()).await,
            Err(GateError::Busy)
        );
        assert_eq!(gate.run(|| ()).await, Ok(()), "fresh work runs");
        assert_eq!(gate.run(|| panic!("boom")).await, Err(GateError::Failed));
        assert_eq!(gate.run(|| 7).await, Ok(7), "the worker survives a panic");
    }

    #[tokio::test]
    async fn a_bound_runs_its_permits_lets_some_wait_and_refuses_the_rest() {
        let bound = Arc::new(Bound::new(1, 1, Duration::from_secs(5)));
        let (release, hold) = tokio::sync::oneshot::channel::<()>();
        let running = tokio::spawn({
            let bound = bound.clone();
            async move { bound.run(async { hold.await.ok() }).await }
        });
        while bound.permits.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let waiter = tokio::spawn({
            let bound = bound.clone();
            async move { bound.run(async { 2 }).await }
        });
        while bound.waiting.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        assert_eq!(bound.run(async { 3 }).await, Err(GateError::Busy), "no room to wait");
        release.send(()).unwrap();
        assert_eq!(running.await.unwrap(), Ok(Some(())));
        assert_eq!(waiter.await.unwrap(), Ok(2));
        assert_eq!(bound.waiting.load(Ordering::SeqCst), 0);
    }
}
