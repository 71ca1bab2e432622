//! API tokens: the other services' keys to `/api/v1`, each stored under the SHA-256 of its
//! secret (the token itself is shown once, when it is created). Creating and revoking one are
//! written to the change history in the same transaction.

use super::space::Need;
use super::{tx_error, Sled, SledBackend, StoreError};
use crate::history::{AuditEntry, Change};
use serde::{Deserialize, Serialize};
use sled::transaction::ConflictableTransactionError::Abort;
use sled::Transactional;

/// At most this many tokens exist at once.
pub const MAX_TOKENS: usize = 100;

/// A token as stored (without its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub id: u64,
    pub name: String,
    /// Who created it: an admin's email, or "command line".
    pub created_by: String,
    /// Unix seconds.
    pub created_at: u64,
    pub last_used: Option<u64>,
    /// What it may be used for (records made before the choice: both).
    #[serde(default)]
    pub scope: crate::domain::TokenUse,
}

/// Why a token was not created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRefusal {
    NameTaken,
    TooMany,
}

#[async_trait::async_trait]
pub trait TokenStore {
    /// Stores a new token under `hash` for `scope`, with its change-history entry; durable
    /// before it returns. Refused if the name is taken or [`MAX_TOKENS`] exist.
    async fn create_token_for(
        &self,
        hash: &str,
        name: &str,
        scope: crate::domain::TokenUse,
        who: &str,
        now: u64,
    ) -> Result<Result<TokenRecord, TokenRefusal>, StoreError>;

    /// [`Self::create_token_for`] the HTTP API and SMTP both.
    async fn create_token(
        &self,
        hash: &str,
        name: &str,
        who: &str,
        now: u64,
    ) -> Result<Result<TokenRecord, TokenRefusal>, StoreError> {
        self.create_token_for(hash, name, Default::default(), who, now).await
    }

    /// Every token, oldest first.
    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;

    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError>;

    /// Removes a token, with its change-history entry; durable. `None`: no such token.
    async fn revoke_token(&self, id: u64, who: &str) -> Result<Option<TokenRecord>, StoreError>;

    /// Notes that a token was used (not flushed: a crash may forget a recent use).
    async fn touch_token(&self, hash: &str, now: u64) -> Result<(), StoreError>;
}

#[async_trait::async_trait]
impl TokenStore for SledBackend {
    async fn create_token_for(&self, hash: &str, name: &str, scope: crate::domain::TokenUse, who: &str, now: u64) -> Result<Result<TokenRecord, TokenRefusal>, StoreError> {
        let hash = hash.to_owned();
        let name = name.to_owned();
        let who = who.to_owned();
        self.blocking(move |db| db.create_token(&hash, &name, scope, &who, now)).await
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.blocking(move |db| db.tokens()).await
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let hash = hash.to_owned();
        self.blocking(move |db| db.token_by_hash(&hash)).await
    }

    async fn revoke_token(&self, id: u64, who: &str) -> Result<Option<TokenRecord>, StoreError> {
        let who = who.to_owned();
        self.blocking(move |db| db.revoke_token(id, &who)).await
    }

    async fn touch_token(&self, hash: &str, now: u64) -> Result<(), StoreError> {
        let hash = hash.to_owned();
        self.blocking(move |db| db.touch_token(&hash, now)).await
    }
}

fn audit_entry(who: &str, change: Change) -> Result<Vec<u8>, StoreError> {
    Ok(serde_json::to_vec(&AuditEntry {
        who: who.to_string(),
        at: crate::clock::now_rfc3339(),
        changes: vec![change],
    })?)
}

impl Sled {
    pub(crate) fn create_token(
        &self,
        hash: &str,
        name: &str,
        scope: crate::domain::TokenUse,
        who: &str,
        now: u64,
    ) -> Result<Result<TokenRecord, TokenRefusal>, StoreError> {
        self.space.admit(Need::Grow)?;
        let record = TokenRecord {
            id: self.db.generate_id()?,
            name: name.to_string(),
            created_by: who.to_string(),
            created_at: now,
            last_used: None,
            scope,
        };
        let bytes = serde_json::to_vec(&record)?;
        let entry = audit_entry(who, Change::TokenCreated { name: name.to_string() })?;
        let audit_id = self.db.generate_id()?;
        // Names are checked outside the transaction: tokens are few, and creations come from
        // one admin at a time or the command line with the server stopped.
        let existing = self.tokens()?;
        if existing.iter().any(|t| t.name == name) {
            return Ok(Err(TokenRefusal::NameTaken));
        }
        if existing.len() >= MAX_TOKENS {
            return Ok(Err(TokenRefusal::TooMany));
        }
        (&self.api_tokens, &self.audit)
            .transaction(|(tokens, audit)| {
                tokens.insert(hash.as_bytes(), bytes.as_slice())?;
                audit.insert(&audit_id.to_be_bytes(), entry.as_slice())?;
                Ok(())
            })
            .map_err(tx_error)?;
        self.prune_audit()?;
        self.sync()?;
        Ok(Ok(record))
    }

    pub(crate) fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let mut all = self
            .api_tokens
            .iter()
            .map(|kv| Ok(serde_json::from_slice::<TokenRecord>(&kv?.1)?))
            .collect::<Result<Vec<_>, StoreError>>()?;
        all.sort_by_key(|t| t.id);
        Ok(all)
    }

    pub(crate) fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        Ok(self
            .api_tokens
            .get(hash.as_bytes())?
            .map(|b| serde_json::from_slice(&b))
            .transpose()?)
    }

    pub(crate) fn revoke_token(&self, id: u64, who: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.space.admit(Need::Upkeep)?;
        let mut found = None;
        for kv in self.api_tokens.iter() {
            let (key, bytes) = kv?;
            let t: TokenRecord = serde_json::from_slice(&bytes)?;
            if t.id == id {
                found = Some((key, t));
                break;
            }
        }
        let Some((key, token)) = found else {
            return Ok(None);
        };
        let entry = audit_entry(who, Change::TokenRevoked { name: token.name.clone() })?;
        let audit_id = self.db.generate_id()?;
        let removed = (&self.api_tokens, &self.audit)
            .transaction(|(tokens, audit)| {
                if tokens.remove(&key)?.is_none() {
                    return Err(Abort(()));
                }
                audit.insert(&audit_id.to_be_bytes(), entry.as_slice())?;
                Ok(())
            });
        match removed {
            Ok(()) => {}
            Err(sled::transaction::TransactionError::Abort(())) => return Ok(None),
            Err(sled::transaction::TransactionError::Storage(e)) => return Err(e.into()),
        }
        self.prune_audit()?;
        self.sync()?;
        Ok(Some(token))
    }

    pub(crate) fn touch_token(&self, hash: &str, now: u64) -> Result<(), StoreError> {
        self.space.admit(Need::Upkeep)?;
        self.api_tokens.fetch_and_update(hash.as_bytes(), |old| {
            let mut t: TokenRecord = serde_json::from_slice(old?).ok()?;
            t.last_used = Some(now);
            serde_json::to_vec(&t).ok()
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_store::backend;
    use super::*;

    #[tokio::test]
    async fn tokens_are_found_by_hash_listed_revoked_and_audited() {
        let b = backend();
        let store = b.open().await;
        let a = store.create_token("hash-a", "alerts", "admin@example.com", 10).await.unwrap().unwrap();
        assert_eq!(
            store.create_token("hash-b", "alerts", "admin@example.com", 11).await.unwrap(),
            Err(TokenRefusal::NameTaken)
        );
        store.create_token("hash-b", "billing", "command line", 12).await.unwrap().unwrap();
        assert_eq!(store.token_by_hash("hash-a").await.unwrap().unwrap().name, "alerts");
        assert!(store.token_by_hash("nothing").await.unwrap().is_none());

        store.touch_token("hash-a", 99).await.unwrap();
        assert_eq!(store.token_by_hash("hash-a").await.unwrap().unwrap().last_used, Some(99));

        assert_eq!(store.revoke_token(a.id, "admin@example.com").await.unwrap().unwrap().name, "alerts");
        assert!(store.revoke_token(a.id, "admin@example.com").await.unwrap().is_none());
        assert!(store.token_by_hash("hash-a").await.unwrap().is_none());
        let names: Vec<String> = store.tokens().await.unwrap().into_iter().map(|t| t.name).collect();
        assert_eq!(names, ["billing"]);

        let history: Vec<Change> = store
            .recent_audit(10).await
            .unwrap()
            .into_iter()
            .flat_map(|e| e.changes)
            .collect();
        assert_eq!(
            history,
            [
                Change::TokenRevoked { name: "alerts".into() },
                Change::TokenCreated { name: "billing".into() },
                Change::TokenCreated { name: "alerts".into() },
            ]
        );
    }

    #[tokio::test]
    async fn the_token_count_is_bounded() {
        let b = backend();
        let store = b.open().await;
        for i in 0..MAX_TOKENS {
            store.create_token(&format!("h{i}"), &format!("t{i}"), "x", 1).await.unwrap().unwrap();
        }
        assert_eq!(store.create_token("h", "one more", "x", 1).await.unwrap(), Err(TokenRefusal::TooMany));
    }
}
