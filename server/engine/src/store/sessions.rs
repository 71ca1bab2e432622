//! Login sessions and password-reset tokens, each stored under the SHA-256 of its secret.

use super::space::Need;
use super::{Sled, SledBackend, StoreError};
use serde::{Deserialize, Serialize};

/// A login session, stored under the SHA-256 of its id (the id itself lives only in the cookie).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub email: String,
    /// Unix seconds.
    pub created_at: u64,
    pub last_seen: u64,
}

/// How long a session lasts, as data (a backend may turn it into a query): over once unused
/// for `idle_secs`, or `max_secs` after it started, used or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLifetime {
    pub idle_secs: u64,
    pub max_secs: u64,
}

impl SessionLifetime {
    /// Whether `session` is over at `now` (Unix seconds).
    pub fn over(&self, session: &SessionRecord, now: u64) -> bool {
        now.saturating_sub(session.last_seen) > self.idle_secs
            || now.saturating_sub(session.created_at) > self.max_secs
    }
}

/// A password-reset token, stored under the SHA-256 of the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetRecord {
    pub email: String,
    /// Unix seconds.
    pub expires_at: u64,
}

#[async_trait::async_trait]
pub trait SessionStore {
    async fn put_session(&self, id_hash: &str, session: &SessionRecord) -> Result<(), StoreError>;
    async fn get_session(&self, id_hash: &str) -> Result<Option<SessionRecord>, StoreError>;
    async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError>;
    /// Ends every session of `email` (after a password change). Returns how many.
    async fn delete_sessions_of(&self, email: &str) -> Result<usize, StoreError>;

    async fn put_reset(&self, token_hash: &str, reset: &ResetRecord) -> Result<(), StoreError>;
    /// Removes and returns the token's record: a token works once.
    async fn take_reset(&self, token_hash: &str) -> Result<Option<ResetRecord>, StoreError>;
    /// The token's record, left in place (the reset page checks its link when it opens).
    async fn get_reset(&self, token_hash: &str) -> Result<Option<ResetRecord>, StoreError>;

    /// Removes the sessions over their `lifetime` and the reset tokens past their time (Unix
    /// seconds `now`). Returns how many records went.
    async fn purge_expired(&self, now: u64, lifetime: SessionLifetime) -> Result<usize, StoreError>;
}

#[async_trait::async_trait]
impl SessionStore for SledBackend {
    async fn put_session(&self, id_hash: &str, session: &SessionRecord) -> Result<(), StoreError> {
        let id_hash = id_hash.to_owned();
        let session = session.clone();
        self.blocking(move |db| db.put_session(&id_hash, &session)).await
    }

    async fn get_session(&self, id_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let id_hash = id_hash.to_owned();
        self.blocking(move |db| db.get_session(&id_hash)).await
    }

    async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        let id_hash = id_hash.to_owned();
        self.blocking(move |db| db.delete_session(&id_hash)).await
    }

    async fn delete_sessions_of(&self, email: &str) -> Result<usize, StoreError> {
        let email = email.to_owned();
        self.blocking(move |db| db.delete_sessions_of(&email)).await
    }

    async fn put_reset(&self, token_hash: &str, reset: &ResetRecord) -> Result<(), StoreError> {
        let token_hash = token_hash.to_owned();
        let reset = reset.clone();
        self.blocking(move |db| db.put_reset(&token_hash, &reset)).await
    }

    async fn take_reset(&self, token_hash: &str) -> Result<Option<ResetRecord>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.blocking(move |db| db.take_reset(&token_hash)).await
    }

    async fn get_reset(&self, token_hash: &str) -> Result<Option<ResetRecord>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.blocking(move |db| db.get_reset(&token_hash)).await
    }

    async fn purge_expired(&self, now: u64, lifetime: SessionLifetime) -> Result<usize, StoreError> {
        self.blocking(move |db| db.purge_expired(now, lifetime)).await
    }
}

impl Sled {
    pub(crate) fn put_session(&self, id_hash: &str, session: &SessionRecord) -> Result<(), StoreError> {
        self.space.admit(Need::Upkeep)?;
        self.sessions.insert(id_hash, serde_json::to_vec(session)?)?;
        Ok(())
    }

    pub(crate) fn get_session(&self, id_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self
            .sessions
            .get(id_hash)?
            .map(|b| serde_json::from_slice(&b))
            .transpose()?)
    }

    pub(crate) fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        self.space.admit(Need::Upkeep)?;
        self.sessions.remove(id_hash)?;
        self.sync()?;
        Ok(())
    }

    pub(crate) fn delete_sessions_of(&self, email: &str) -> Result<usize, StoreError> {
        self.space.admit(Need::Upkeep)?;
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for kv in self.sessions.iter() {
            let (k, v) = kv?;
            let s: SessionRecord = serde_json::from_slice(&v)?;
            if s.email.eq_ignore_ascii_case(email) {
                batch.remove(k);
                n += 1;
            }
        }
        self.sessions.apply_batch(batch)?;
        self.sync()?;
        Ok(n)
    }

    pub(crate) fn put_reset(&self, token_hash: &str, reset: &ResetRecord) -> Result<(), StoreError> {
        self.space.admit(Need::Grow)?;
        self.resets.insert(token_hash, serde_json::to_vec(reset)?)?;
        self.sync()?;
        Ok(())
    }

    pub(crate) fn take_reset(&self, token_hash: &str) -> Result<Option<ResetRecord>, StoreError> {
        self.space.admit(Need::Upkeep)?;
        let taken = self
            .resets
            .remove(token_hash)?
            .map(|b| serde_json::from_slice(&b))
            .transpose()?;
        self.sync()?;
        Ok(taken)
    }

    pub(crate) fn get_reset(&self, token_hash: &str) -> Result<Option<ResetRecord>, StoreError> {
        self.resets
            .get(token_hash)?
            .map(|b| serde_json::from_slice(&b))
            .transpose()
            .map_err(StoreError::from)
    }

    pub(crate) fn purge_expired(&self, now: u64, lifetime: SessionLifetime) -> Result<usize, StoreError> {
        let mut purged = 0;
        for kv in self.sessions.iter() {
            let (key, value) = kv?;
            // An unreadable record is as good as expired.
            if serde_json::from_slice::<SessionRecord>(&value).map_or(true, |s| lifetime.over(&s, now)) {
                self.sessions.remove(key)?;
                purged += 1;
            }
        }
        for kv in self.resets.iter() {
            let (key, value) = kv?;
            if serde_json::from_slice::<ResetRecord>(&value).map_or(true, |r| r.expires_at <= now) {
                self.resets.remove(key)?;
                purged += 1;
            }
        }
        self.sync()?;
        Ok(purged)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_store::backend;
    use super::*;

    #[tokio::test]
    async fn sessions_and_reset_tokens() {
        let b = backend();
        let store = b.open().await;
        let s = SessionRecord {
            email: "A@example.com".into(),
            created_at: 1,
            last_seen: 1,
        };
        store.put_session("h1", &s).await.unwrap();
        store.put_session("h2", &s).await.unwrap();
        store
            .put_session(
                "h3",
                &SessionRecord {
                    email: "b@example.com".into(),
                    ..s.clone()
                },
            ).await
            .unwrap();
        assert_eq!(store.delete_sessions_of("a@example.com").await.unwrap(), 2);
        assert!(store.get_session("h1").await.unwrap().is_none());
        assert!(store.get_session("h3").await.unwrap().is_some());
        store
            .put_reset(
                "t",
                &ResetRecord {
                    email: "a@example.com".into(),
                    expires_at: 9,
                },
            ).await
            .unwrap();
        assert!(store.take_reset("t").await.unwrap().is_some());
        assert!(
            store.take_reset("t").await.unwrap().is_none(),
            "a reset token works once"
        );
    }

    #[tokio::test]
    async fn expired_sessions_and_reset_tokens_are_purged() {
        let b = backend();
        let store = b.open().await;
        let old = SessionRecord {
            email: "a@example.com".into(),
            created_at: 1,
            last_seen: 1,
        };
        let fresh = SessionRecord {
            last_seen: 100,
            ..old.clone()
        };
        store.put_session("old", &old).await.unwrap();
        store.put_session("fresh", &fresh).await.unwrap();
        store
            .put_reset(
                "gone",
                &ResetRecord {
                    email: "a@example.com".into(),
                    expires_at: 50,
                },
            ).await
            .unwrap();
        store
            .put_reset(
                "kept",
                &ResetRecord {
                    email: "a@example.com".into(),
                    expires_at: 150,
                },
            ).await
            .unwrap();
        let lifetime = SessionLifetime {
            idle_secs: 50,
            max_secs: 1_000,
        };
        assert_eq!(store.purge_expired(100, lifetime).await.unwrap(), 2);
        assert!(store.get_session("old").await.unwrap().is_none() && store.get_session("fresh").await.unwrap().is_some());
        assert!(store.take_reset("gone").await.unwrap().is_none() && store.take_reset("kept").await.unwrap().is_some());
    }
}
