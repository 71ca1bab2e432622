//! Admin accounts, keyed by lower-case email address.

use super::space::Need;
use super::{Sled, SledBackend, StoreError};
use crate::templates::Lang;
use serde::{Deserialize, Serialize};

/// An admin account. The password only as an argon2id PHC string.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminRecord {
    pub email: String,
    pub password_hash: String,
    pub created_at: String,
    /// The language the admin chose for the pages and their own mail (a BCP 47 tag, `en` or
    /// `zh-CN`); `None`: the browser's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

#[async_trait::async_trait]
pub trait AdminStore {
    async fn admin_count(&self) -> Result<usize, StoreError>;
    async fn get_admin(&self, email: &str) -> Result<Option<AdminRecord>, StoreError>;
    /// Creates or replaces an admin (flushed).
    async fn put_admin(&self, admin: AdminRecord) -> Result<(), StoreError>;
    /// Sets the admin's language (`None`: the browser's) and nothing else, in one step, so a
    /// password changed meanwhile stays changed (flushed). `false`: no such admin.
    async fn set_admin_language(&self, email: &str, language: Option<Lang>) -> Result<bool, StoreError>;
}

/// The admin's language, if they chose one.
pub fn admin_language(admin: &AdminRecord) -> Option<Lang> {
    admin.language.as_deref().and_then(Lang::from_tag)
}

#[async_trait::async_trait]
impl AdminStore for SledBackend {
    async fn admin_count(&self) -> Result<usize, StoreError> {
        self.blocking(move |db| db.admin_count()).await
    }

    async fn get_admin(&self, email: &str) -> Result<Option<AdminRecord>, StoreError> {
        let email = email.to_owned();
        self.blocking(move |db| db.get_admin(&email)).await
    }

    async fn put_admin(&self, admin: AdminRecord) -> Result<(), StoreError> {
        self.blocking(move |db| db.put_admin(admin)).await
    }

    async fn set_admin_language(&self, email: &str, language: Option<Lang>) -> Result<bool, StoreError> {
        let email = email.to_lowercase();
        self.blocking(move |db| db.set_admin_language(&email, language)).await
    }
}

impl Sled {
    pub(crate) fn admin_count(&self) -> Result<usize, StoreError> {
        Ok(self.admins.len())
    }

    pub(crate) fn get_admin(&self, email: &str) -> Result<Option<AdminRecord>, StoreError> {
        Ok(self
            .admins
            .get(email.to_lowercase())?
            .map(|b| serde_json::from_slice(&b))
            .transpose()?)
    }

    pub(crate) fn set_admin_language(&self, email: &str, language: Option<Lang>) -> Result<bool, StoreError> {
        self.space.admit(Need::Grow)?;
        let mut found = false;
        let mut failed = None;
        // Compare-and-swap until it holds: a password set meanwhile is kept.
        self.admins.update_and_fetch(email, |old| {
            let old = old?;
            match serde_json::from_slice::<AdminRecord>(old) {
                Ok(mut admin) => {
                    found = true;
                    admin.language = language.map(|l| l.tag().to_string());
                    serde_json::to_vec(&admin).ok().or_else(|| Some(old.to_vec()))
                }
                Err(e) => {
                    failed = Some(e);
                    Some(old.to_vec())
                }
            }
        })?;
        if let Some(e) = failed {
            return Err(e.into());
        }
        self.sync()?;
        Ok(found)
    }

    pub(crate) fn put_admin(&self, admin: AdminRecord) -> Result<(), StoreError> {
        self.space.admit(Need::Grow)?;
        self.admins
            .insert(admin.email.to_lowercase(), serde_json::to_vec(&admin)?)?;
        self.sync()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_store::backend;
    use super::*;

    /// Both backends: the language is kept with the admin, changed alone, and cleared.
    #[tokio::test]
    async fn an_admins_language_is_set_alone_and_kept() {
        let backend = backend();
        let store = backend.open().await;
        let admin = AdminRecord { email: "Admin@example.com".into(), password_hash: "hash-1".into(), created_at: "2026-12-07T00:00:00Z".into(), language: None };
        store.put_admin(admin.clone()).await.unwrap();
        assert!(store.set_admin_language("admin@EXAMPLE.com", Some(Lang::ZhCn)).await.unwrap());
        let read = store.get_admin("admin@example.com").await.unwrap().unwrap();
        assert_eq!((admin_language(&read), read.password_hash.as_str()), (Some(Lang::ZhCn), "hash-1"));
        assert!(store.set_admin_language("admin@example.com", None).await.unwrap());
        assert_eq!(admin_language(&store.get_admin("admin@example.com").await.unwrap().unwrap()), None);
        assert!(!store.set_admin_language("nobody@example.com", Some(Lang::En)).await.unwrap());
        assert!(store.get_admin("nobody@example.com").await.unwrap().is_none(), "no admin made");
    }
}
