//! Login back-off, shared by every instance (an attacker spreading guesses over instances meets
//! the same count): failures per key (an account, a client address, a known device) and when
//! the last one was. The delay rule is [`crate::ratelimit::backoff_delay`]. At most
//! [`MAX_KEYS`] keys: a new one past it first forgets keys idle for [`FORGET_AFTER`], then the
//! stalest.

use super::space::Need;
use super::{tx_error, Sled, SledBackend, StoreError};
use crate::ratelimit::{backoff_delay, capped, secs_ceil, FORGET_AFTER, MAX_KEYS};
use serde::{Deserialize, Serialize};
use std::sync::atomic::Ordering;
use std::time::Duration;

#[async_trait::async_trait]
pub trait BackoffStore {
    /// One attempt for `keys` at `now_ms` (Unix milliseconds). Refused with the seconds to wait
    /// if any key must still wait; otherwise counted as a failure at once, in the same
    /// transaction as the check, so attempts made in parallel (on any instance) cannot all slip
    /// past it. [`Self::backoff_succeeded`] takes it back.
    async fn backoff_attempt(&self, keys: &[String], now_ms: u64) -> Result<Result<(), u64>, StoreError>;

    /// Takes back an attempt that was never judged (the server was too busy to check it).
    async fn backoff_undo(&self, keys: &[String]) -> Result<(), StoreError>;

    /// The attempt succeeded: forget the keys' failures.
    async fn backoff_succeeded(&self, keys: &[String]) -> Result<(), StoreError>;
}

#[async_trait::async_trait]
impl BackoffStore for SledBackend {
    async fn backoff_attempt(&self, keys: &[String], now_ms: u64) -> Result<Result<(), u64>, StoreError> {
        let keys = keys.to_vec();
        self.blocking(move |db| db.backoff_attempt(&keys, now_ms)).await
    }

    async fn backoff_undo(&self, keys: &[String]) -> Result<(), StoreError> {
        let keys = keys.to_vec();
        self.blocking(move |db| db.backoff_undo(&keys)).await
    }

    async fn backoff_succeeded(&self, keys: &[String]) -> Result<(), StoreError> {
        let keys = keys.to_vec();
        self.blocking(move |db| db.backoff_succeeded(&keys)).await
    }
}

#[derive(Serialize, Deserialize)]
pub(super) struct Failures {
    pub(super) count: u32,
    /// Unix milliseconds of the last failure.
    pub(super) last_ms: u64,
}

fn forgotten(f: &Failures, now_ms: u64) -> bool {
    now_ms.saturating_sub(f.last_ms) >= FORGET_AFTER.as_millis() as u64
}

impl Sled {
    /// Makes room for one more key: forgets idle keys, then the stalest.
    fn backoff_room(&self, now_ms: u64) -> Result<(), StoreError> {
        if self.backoff_keys.load(Ordering::Relaxed) < MAX_KEYS {
            return Ok(());
        }
        let mut stalest: Option<(sled::IVec, u64)> = None;
        for kv in self.backoff.iter() {
            let (key, bytes) = kv?;
            let f: Failures = serde_json::from_slice(&bytes)?;
            if forgotten(&f, now_ms) {
                if self.backoff.remove(&key)?.is_some() {
                    self.backoff_keys.fetch_sub(1, Ordering::Relaxed);
                }
            } else if stalest.as_ref().is_none_or(|(_, at)| f.last_ms < *at) {
                stalest = Some((key, f.last_ms));
            }
        }
        if self.backoff_keys.load(Ordering::Relaxed) >= MAX_KEYS {
            if let Some((key, _)) = stalest {
                if self.backoff.remove(&key)?.is_some() {
                    self.backoff_keys.fetch_sub(1, Ordering::Relaxed);
                }
            }
        }
        Ok(())
    }
}

impl Sled {
    pub(crate) fn backoff_attempt(&self, keys: &[String], now_ms: u64) -> Result<Result<(), u64>, StoreError> {
        // Logins go on while the disk is low: the counters are small and bounded.
        self.space.admit(Need::Upkeep)?;
        let keys: Vec<String> = keys.iter().map(|k| capped(k)).collect();
        if keys
            .iter()
            .any(|k| !matches!(self.backoff.contains_key(k.as_bytes()), Ok(true)))
        {
            self.backoff_room(now_ms)?;
        }
        let answer = self
            .backoff
            .transaction(|tree| {
                let mut wait = None::<u64>;
                let mut counts = Vec::with_capacity(keys.len());
                for k in &keys {
                    let found = match tree.get(k.as_bytes())? {
                        Some(bytes) => Some(serde_json::from_slice::<Failures>(&bytes).map_err(|e| {
                            sled::transaction::ConflictableTransactionError::Abort(StoreError::from(e))
                        })?),
                        None => None,
                    };
                    let new = found.is_none();
                    let current = found.filter(|f| !forgotten(f, now_ms));
                    if let Some(f) = &current {
                        if let Some(delay) = backoff_delay(f.count) {
                            let until = f.last_ms + delay.as_millis() as u64;
                            if until > now_ms {
                                let left = secs_ceil(Duration::from_millis(until - now_ms));
                                wait = Some(wait.map_or(left, |w| w.max(left)));
                            }
                        }
                    }
                    counts.push((k, current.map_or(0, |f| f.count), new));
                }
                if let Some(wait) = wait {
                    return Ok((Err(wait), 0));
                }
                let mut new_keys = 0;
                for (k, count, new) in counts {
                    let f = Failures {
                        count: count + 1,
                        last_ms: now_ms,
                    };
                    let bytes = serde_json::to_vec(&f).map_err(|e| {
                        sled::transaction::ConflictableTransactionError::Abort(StoreError::from(e))
                    })?;
                    tree.insert(k.as_bytes(), bytes)?;
                    new_keys += usize::from(new);
                }
                Ok((Ok(()), new_keys))
            })
            .map_err(tx_error)?;
        self.backoff_keys.fetch_add(answer.1, Ordering::Relaxed);
        Ok(answer.0)
    }

    pub(crate) fn backoff_undo(&self, keys: &[String]) -> Result<(), StoreError> {
        for k in keys {
            self.backoff.fetch_and_update(capped(k).as_bytes(), |old| {
                let mut f: Failures = serde_json::from_slice(old?).ok()?;
                f.count = f.count.saturating_sub(1);
                serde_json::to_vec(&f).ok()
            })?;
        }
        Ok(())
    }

    pub(crate) fn backoff_succeeded(&self, keys: &[String]) -> Result<(), StoreError> {
        for k in keys {
            if self.backoff.remove(capped(k).as_bytes())?.is_some() {
                self.backoff_keys.fetch_sub(1, Ordering::Relaxed);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_store::{backend, open};
    use super::*;
    use crate::ratelimit::FREE_FAILURES;

    const START: u64 = 1_800_000_000_000;

    #[tokio::test]
    async fn backoff_counts_the_attempt_before_it_is_checked() {
        let b = backend();
        let store = b.open().await;
        let keys = vec!["account:a@example.com".to_string()];
        // A burst: every attempt is counted when it is let through, so only the free ones pass.
        let mut passed = 0;
        for _ in 0..100 {
            passed += usize::from(store.backoff_attempt(&keys, START).await.unwrap().is_ok());
        }
        assert_eq!(passed, FREE_FAILURES as usize);
        assert_eq!(store.backoff_attempt(&keys, START).await.unwrap(), Err(1));
        assert_eq!(
            store.backoff_attempt(&keys, START + 400).await.unwrap(),
            Err(1),
            "0.6 s rounded up"
        );
        assert!(store.backoff_attempt(&keys, START + 1000).await.unwrap().is_ok());
        assert_eq!(store.backoff_attempt(&keys, START + 1000).await.unwrap(), Err(2));
        store.backoff_succeeded(&keys).await.unwrap();
        assert!(store.backoff_attempt(&keys, START).await.unwrap().is_ok());
    }

    #[tokio::test]
    async fn backoff_is_kept_across_a_restart_forgets_after_an_hour_and_can_be_undone() {
        let b = backend();
        let keys = vec!["ip:192.0.2.1".to_string(), "account:b@example.com".to_string()];
        {
            let store = b.open().await;
            while store.backoff_attempt(&keys, START).await.unwrap().is_ok() {}
        }
        let store = b.open().await;
        assert!(
            store.backoff_attempt(&keys, START).await.unwrap().is_err(),
            "another instance, or a restart, sees it"
        );
        let hour = FORGET_AFTER.as_millis() as u64;
        assert!(
            store.backoff_attempt(&keys, START + hour).await.unwrap().is_ok(),
            "an hour later it starts afresh"
        );
        let one = vec!["account:c@example.com".to_string()];
        for _ in 0..FREE_FAILURES {
            store.backoff_attempt(&one, START).await.unwrap().unwrap();
            store.backoff_undo(&one).await.unwrap();
        }
        assert!(
            store.backoff_attempt(&one, START).await.unwrap().is_ok(),
            "undone attempts do not count"
        );
    }

    #[tokio::test]
    async fn backoff_keys_are_bounded_in_number_and_length() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        for i in 0..MAX_KEYS + 50 {
            let key = format!("account:{i}{}", "@".repeat(1000));
            store.backoff_attempt(&[key], START + i as u64).await.unwrap().unwrap();
        }
        assert!(store.sled().backoff.len() <= MAX_KEYS, "{}", store.sled().backoff.len());
        let longest = store
            .sled()
            .backoff
            .iter()
            .keys()
            .map(|k| k.unwrap().len())
            .max()
            .unwrap();
        assert!(longest <= 256 * 4);
    }
}
