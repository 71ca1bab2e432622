//! Admin accounts, keyed by lower-case email address.

use super::space::Need;
use super::{SledStore, StoreError};
use serde::{Deserialize, Serialize};

/// An admin account. The password only as an argon2id PHC string.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminRecord {
    pub email: String,
    pub password_hash: String,
    pub created_at: String,
}

pub trait AdminStore {
    fn admin_count(&self) -> Result<usize, StoreError>;
    fn get_admin(&self, email: &str) -> Result<Option<AdminRecord>, StoreError>;
    /// Creates or replaces an admin (flushed).
    fn put_admin(&self, admin: AdminRecord) -> Result<(), StoreError>;
}

impl AdminStore for SledStore {
    fn admin_count(&self) -> Result<usize, StoreError> {
        Ok(self.admins.len())
    }

    fn get_admin(&self, email: &str) -> Result<Option<AdminRecord>, StoreError> {
        Ok(self
            .admins
            .get(email.to_lowercase())?
            .map(|b| serde_json::from_slice(&b))
            .transpose()?)
    }

    fn put_admin(&self, admin: AdminRecord) -> Result<(), StoreError> {
        self.space.admit(Need::Grow)?;
        self.admins
            .insert(admin.email.to_lowercase(), serde_json::to_vec(&admin)?)?;
        self.sync()?;
        Ok(())
    }
}
