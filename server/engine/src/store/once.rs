//! Secrets meant to be used once or shown once, kept in the store so that every instance sees
//! the same: the first admin's setup links, and a newly created API token waiting for the page
//! of the session that created it. Each sealed, under a key of its kind, with an optional
//! expiry; expired ones are never answered and go at the next write of their kind.

use super::space::Need;
use super::{Sled, SledBackend, StoreError};
use serde::{Deserialize, Serialize};

/// What a one-time secret is for: its kind is the first byte of its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Once {
    /// The first admin's setup link, under the SHA-256 of its token (the value is empty). One
    /// per start without an admin; all go when the first admin is created.
    SetupLink,
    /// A created API token, under the SHA-256 of the session that created it, until its page
    /// shows it.
    CreatedToken,
}

impl Once {
    fn prefix(self) -> u8 {
        match self {
            Once::SetupLink => b's',
            Once::CreatedToken => b't',
        }
    }

    fn key(self, key: &str) -> Vec<u8> {
        [&[self.prefix()], key.as_bytes()].concat()
    }

    /// The kind and key of a key in sled's tree.
    pub(super) fn of_key(stored: &[u8]) -> Option<(Once, &[u8])> {
        let (&prefix, key) = stored.split_first()?;
        [Once::SetupLink, Once::CreatedToken]
            .into_iter()
            .find(|kind| kind.prefix() == prefix)
            .map(|kind| (kind, key))
    }

    /// The kind as PostgreSQL's `once_secrets.kind` names it.
    pub(super) fn name(self) -> &'static str {
        match self {
            Once::SetupLink => "setup_link",
            Once::CreatedToken => "created_token",
        }
    }
}

#[async_trait::async_trait]
pub trait OnceStore {
    /// Keeps `secret` under `key` (replacing what was there), until `expires_at` (Unix
    /// seconds) if given; durable on return.
    async fn put_once(
        &self,
        kind: Once,
        key: &str,
        secret: &str,
        expires_at: Option<u64>,
    ) -> Result<(), StoreError>;

    /// The secret under `key`, if it has not expired at `now`, leaving it there.
    async fn peek_once(&self, kind: Once, key: &str, now: u64) -> Result<Option<String>, StoreError>;

    /// The secret under `key`, once (it is removed), if it has not expired at `now`.
    async fn take_once(&self, kind: Once, key: &str, now: u64) -> Result<Option<String>, StoreError>;

    /// Removes every secret of `kind`; how many went.
    async fn clear_once(&self, kind: Once) -> Result<usize, StoreError>;
}

#[async_trait::async_trait]
impl OnceStore for SledBackend {
    async fn put_once(&self, kind: Once, key: &str, secret: &str, expires_at: Option<u64>) -> Result<(), StoreError> {
        let key = key.to_owned();
        let secret = secret.to_owned();
        self.blocking(move |db| db.put_once(kind, &key, &secret, expires_at)).await
    }

    async fn peek_once(&self, kind: Once, key: &str, now: u64) -> Result<Option<String>, StoreError> {
        let key = key.to_owned();
        self.blocking(move |db| db.peek_once(kind, &key, now)).await
    }

    async fn take_once(&self, kind: Once, key: &str, now: u64) -> Result<Option<String>, StoreError> {
        let key = key.to_owned();
        self.blocking(move |db| db.take_once(kind, &key, now)).await
    }

    async fn clear_once(&self, kind: Once) -> Result<usize, StoreError> {
        self.blocking(move |db| db.clear_once(kind)).await
    }
}

#[derive(Serialize, Deserialize)]
pub(super) struct Stored {
    /// As the layer above sealed it.
    pub(super) sealed: String,
    pub(super) expires_at: Option<u64>,
}

impl Stored {
    fn live(&self, now: u64) -> bool {
        self.expires_at.is_none_or(|at| at > now)
    }
}

impl Sled {
    fn open_once(&self, bytes: &[u8], now: u64) -> Result<Option<String>, StoreError> {
        let s: Stored = serde_json::from_slice(bytes)?;
        if !s.live(now) {
            return Ok(None);
        }
        Ok(Some(s.sealed))
    }
}

impl Sled {
    pub(crate) fn put_once(
        &self,
        kind: Once,
        key: &str,
        secret: &str,
        expires_at: Option<u64>,
    ) -> Result<(), StoreError> {
        self.space.admit(Need::Grow)?;
        let now = crate::clock::now_unix();
        for kv in self.once.scan_prefix([kind.prefix()]) {
            let (k, bytes) = kv?;
            if !serde_json::from_slice::<Stored>(&bytes)?.live(now) {
                self.once.remove(k)?;
            }
        }
        let stored = Stored {
            sealed: secret.to_owned(),
            expires_at,
        };
        self.once.insert(kind.key(key), serde_json::to_vec(&stored)?)?;
        self.sync()
    }

    pub(crate) fn peek_once(&self, kind: Once, key: &str, now: u64) -> Result<Option<String>, StoreError> {
        match self.once.get(kind.key(key))? {
            Some(bytes) => self.open_once(&bytes, now),
            None => Ok(None),
        }
    }

    pub(crate) fn take_once(&self, kind: Once, key: &str, now: u64) -> Result<Option<String>, StoreError> {
        self.space.admit(Need::Upkeep)?;
        // The removal is the single use: whoever removes it has it.
        let Some(bytes) = self.once.remove(kind.key(key))? else {
            return Ok(None);
        };
        self.sync()?;
        self.open_once(&bytes, now)
    }

    pub(crate) fn clear_once(&self, kind: Once) -> Result<usize, StoreError> {
        self.space.admit(Need::Upkeep)?;
        let mut n = 0;
        for kv in self.once.scan_prefix([kind.prefix()]) {
            self.once.remove(kv?.0)?;
            n += 1;
        }
        self.sync()?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_store::{backend, open};
    use super::*;

    #[tokio::test]
    async fn a_secret_is_sealed_kept_per_kind_taken_once_and_expires() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let now = crate::clock::now_unix();
        store
            .put_once(Once::CreatedToken, "session-a", "the-token", Some(now + 60)).await
            .unwrap();
        let raw = store
            .sled()
            .once
            .get(Once::CreatedToken.key("session-a"))
            .unwrap()
            .unwrap();
        assert!(!String::from_utf8_lossy(&raw).contains("the-token"), "sealed");
        assert_eq!(
            store.peek_once(Once::SetupLink, "session-a", now).await.unwrap(),
            None,
            "another kind"
        );
        assert_eq!(
            store
                .peek_once(Once::CreatedToken, "session-a", now).await
                .unwrap()
                .as_deref(),
            Some("the-token")
        );
        assert_eq!(
            store
                .peek_once(Once::CreatedToken, "session-a", now + 60).await
                .unwrap(),
            None,
            "expired"
        );
        assert_eq!(
            store
                .take_once(Once::CreatedToken, "session-a", now).await
                .unwrap()
                .as_deref(),
            Some("the-token")
        );
        assert_eq!(
            store.take_once(Once::CreatedToken, "session-a", now).await.unwrap(),
            None,
            "once"
        );
    }

    #[tokio::test]
    async fn setup_links_outlive_a_restart_until_they_are_cleared() {
        let b = backend();
        {
            let store = b.open().await;
            store.put_once(Once::SetupLink, "first start", "", None).await.unwrap();
            store.put_once(Once::SetupLink, "second start", "", None).await.unwrap();
            store.put_once(Once::CreatedToken, "s", "t", None).await.unwrap();
        }
        let store = b.open().await;
        assert_eq!(
            store
                .peek_once(Once::SetupLink, "first start", u64::MAX - 1).await
                .unwrap()
                .as_deref(),
            Some("")
        );
        assert_eq!(store.clear_once(Once::SetupLink).await.unwrap(), 2);
        assert_eq!(store.peek_once(Once::SetupLink, "second start", 0).await.unwrap(), None);
        assert_eq!(
            store.peek_once(Once::CreatedToken, "s", 0).await.unwrap().as_deref(),
            Some("t"),
            "other kinds stay"
        );
    }
}
