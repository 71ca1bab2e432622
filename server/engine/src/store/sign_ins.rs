//! OAuth2 sign-ins under way (a mailbox's "Sign in with …"), kept in the store so that the
//! provider's callback may reach any instance: each under the SHA-256 of its `state`, single
//! use, for [`SIGN_IN_TTL_SECS`], its PKCE verifier sealed. At most [`MAX_PENDING`] at once,
//! one per admin (a newer one replaces theirs).

use super::space::Need;
use super::{Sled, SledBackend, StoreError};
use serde::{Deserialize, Serialize};

/// How long a sign-in may take in the provider's pages.
pub const SIGN_IN_TTL_SECS: u64 = 10 * 60;
/// Sign-ins under way at most (admins start one at a time; more is an attack or a loop).
pub const MAX_PENDING: usize = 32;

/// A sign-in under way: who started it, for which app, its PKCE verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInRecord {
    pub admin: String,
    /// The app it started for (the settings' client and endpoints, as `MailServer::mailbox_app`
    /// names them): the callback connects only while the saved settings still use it.
    pub app: String,
    pub verifier: String,
    /// Unix seconds.
    pub started_at: u64,
}

#[async_trait::async_trait]
pub trait SignInStore {
    /// Keeps `record` under `state_hash`, durable on return; a newer sign-in of the same admin
    /// replaces theirs, expired ones go. `Err(secs)`: refused, [`MAX_PENDING`] are under way,
    /// the first expires in `secs`.
    async fn start_sign_in(&self, state_hash: &str, record: &SignInRecord) -> Result<Result<(), u64>, StoreError>;

    /// The sign-in under `state_hash`, once (it is removed), if it has not expired at `now`.
    async fn take_sign_in(&self, state_hash: &str, now: u64) -> Result<Option<SignInRecord>, StoreError>;
}

#[async_trait::async_trait]
impl SignInStore for SledBackend {
    async fn start_sign_in(&self, state_hash: &str, record: &SignInRecord) -> Result<Result<(), u64>, StoreError> {
        let state_hash = state_hash.to_owned();
        let record = record.clone();
        self.blocking(move |db| db.start_sign_in(&state_hash, &record)).await
    }

    async fn take_sign_in(&self, state_hash: &str, now: u64) -> Result<Option<SignInRecord>, StoreError> {
        let state_hash = state_hash.to_owned();
        self.blocking(move |db| db.take_sign_in(&state_hash, now)).await
    }
}

/// As stored: the verifier sealed.
#[derive(Serialize, Deserialize)]
pub(super) struct Stored {
    pub(super) admin: String,
    pub(super) app: String,
    pub(super) verifier: String,
    pub(super) started_at: u64,
}

fn expired(started_at: u64, now: u64) -> bool {
    now >= started_at.saturating_add(SIGN_IN_TTL_SECS)
}

impl Sled {
    pub(crate) fn start_sign_in(&self, state_hash: &str, record: &SignInRecord) -> Result<Result<(), u64>, StoreError> {
        self.space.admit(Need::Grow)?;
        let now = record.started_at;
        let mut oldest = None::<u64>;
        let mut under_way = 0;
        for kv in self.sign_ins.iter() {
            let (key, bytes) = kv?;
            let s: Stored = serde_json::from_slice(&bytes)?;
            if expired(s.started_at, now) || s.admin == record.admin {
                self.sign_ins.remove(key)?;
            } else {
                under_way += 1;
                oldest = Some(oldest.map_or(s.started_at, |o| o.min(s.started_at)));
            }
        }
        if under_way >= MAX_PENDING {
            let ends = oldest.unwrap_or(now).saturating_add(SIGN_IN_TTL_SECS);
            return Ok(Err(ends.saturating_sub(now).max(1)));
        }
        let stored = Stored {
            admin: record.admin.clone(),
            app: record.app.clone(),
            verifier: record.verifier.clone(),
            started_at: record.started_at,
        };
        self.sign_ins
            .insert(state_hash.as_bytes(), serde_json::to_vec(&stored)?)?;
        self.sync()?;
        Ok(Ok(()))
    }

    pub(crate) fn take_sign_in(&self, state_hash: &str, now: u64) -> Result<Option<SignInRecord>, StoreError> {
        self.space.admit(Need::Upkeep)?;
        // The removal is the single use: whoever removes it has it.
        let Some(bytes) = self.sign_ins.remove(state_hash.as_bytes())? else {
            return Ok(None);
        };
        self.sync()?;
        let s: Stored = serde_json::from_slice(&bytes)?;
        if expired(s.started_at, now) {
            return Ok(None);
        }
        Ok(Some(SignInRecord {
            admin: s.admin,
            app: s.app,
            verifier: s.verifier,
            started_at: s.started_at,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_store::{backend, open};
    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn record(admin: &str, at: u64) -> SignInRecord {
        SignInRecord {
            admin: admin.into(),
            app: "app".into(),
            verifier: format!("verifier of {admin}"),
            started_at: at,
        }
    }

    #[tokio::test]
    async fn a_sign_in_is_taken_once_each_admin_has_one_and_they_expire() {
        let b = backend();
        let store = b.open().await;
        store.start_sign_in("s1", &record("a", NOW)).await.unwrap().unwrap();
        store.start_sign_in("s2", &record("b", NOW)).await.unwrap().unwrap();
        store.start_sign_in("s3", &record("a", NOW + 1)).await.unwrap().unwrap();
        assert_eq!(
            store.take_sign_in("s1", NOW + 2).await.unwrap(),
            None,
            "replaced by a's newer one"
        );
        assert_eq!(store.take_sign_in("s2", NOW + 2).await.unwrap(), Some(record("b", NOW)));
        assert_eq!(store.take_sign_in("s2", NOW + 2).await.unwrap(), None, "single use");
        assert_eq!(
            store.take_sign_in("s3", NOW + 1 + SIGN_IN_TTL_SECS).await.unwrap(),
            None,
            "expired"
        );
        assert_eq!(store.take_sign_in("", NOW).await.unwrap(), None);
    }

    #[tokio::test]
    async fn the_verifier_is_sealed_and_sign_ins_outlive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = open(dir.path());
            store.start_sign_in("s1", &record("a", NOW)).await.unwrap().unwrap();
            let raw = store.sled().sign_ins.get("s1").unwrap().unwrap();
            assert!(!String::from_utf8_lossy(&raw).contains("verifier of a"));
        }
        let store = open(dir.path());
        assert_eq!(store.take_sign_in("s1", NOW + 1).await.unwrap(), Some(record("a", NOW)));
    }

    #[tokio::test]
    async fn sign_ins_under_way_are_bounded() {
        let b = backend();
        let store = b.open().await;
        for i in 0..MAX_PENDING {
            store
                .start_sign_in(&format!("s{i}"), &record(&format!("admin{i}"), NOW + i as u64)).await
                .unwrap()
                .unwrap();
        }
        let refused = store.start_sign_in("late", &record("late", NOW + 100)).await.unwrap();
        assert_eq!(
            refused,
            Err(SIGN_IN_TTL_SECS - 100),
            "until the first one expires"
        );
        // Once that one has expired there is room again.
        assert_eq!(
            store
                .start_sign_in("late", &record("late", NOW + SIGN_IN_TTL_SECS)).await
                .unwrap(),
            Ok(())
        );
    }
}
