//! Admin accounts, keyed by lower-case email address.

use super::space::Need;
use super::{Sled, SledBackend, StoreError};
use serde::{Deserialize, Serialize};

/// An admin account. The password only as an argon2id PHC string.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminRecord {
    pub email: String,
    pub password_hash: String,
    pub created_at: String,
}

#[async_trait::async_trait]
pub trait AdminStore {
    async fn admin_count(&self) -> Result<usize, StoreError>;
    async fn get_admin(&self, email: &str) -> Result<Option<AdminRecord>, StoreError>;
    /// Creates or replaces an admin (flushed).
    async fn put_admin(&self, admin: AdminRecord) -> Result<(), StoreError>;
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

    pub(crate) fn put_admin(&self, admin: AdminRecord) -> Result<(), StoreError> {
        self.space.admit(Need::Grow)?;
        self.admins
            .insert(admin.email.to_lowercase(), serde_json::to_vec(&admin)?)?;
        self.sync()?;
        Ok(())
    }
}
