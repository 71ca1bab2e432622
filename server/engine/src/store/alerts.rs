//! Storm control's memory: for each alert key and recipient, whether the alert is firing and
//! when the recipient was last mailed about it. What to do with an alert is decided in
//! [`crate::alerts`]; this only keeps the state.

use super::space::Need;
use super::{SledStore, StoreError};
use serde::{Deserialize, Serialize};

/// What a recipient last heard about an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertMemory {
    pub firing: bool,
    /// Unix seconds: the last mail about this alert to this recipient.
    pub mailed_at: u64,
}

pub trait AlertStore {
    fn alert_memory(&self, key: &str, recipient: &str) -> Result<Option<AlertMemory>, StoreError>;

    /// Not flushed by itself: the enqueue that follows it flushes both.
    fn remember_alert(&self, key: &str, recipient: &str, memory: AlertMemory) -> Result<(), StoreError>;

    /// Forgets alerts last mailed before `before` that are not firing. Returns how many.
    fn purge_alerts(&self, before: u64) -> Result<usize, StoreError>;
}

fn memory_key(key: &str, recipient: &str) -> Vec<u8> {
    // A NUL cannot occur in either (both are checked for control characters).
    [key.as_bytes(), &[0], recipient.to_ascii_lowercase().as_bytes()].concat()
}

impl AlertStore for SledStore {
    fn alert_memory(&self, key: &str, recipient: &str) -> Result<Option<AlertMemory>, StoreError> {
        Ok(self
            .alerts
            .get(memory_key(key, recipient))?
            .map(|b| serde_json::from_slice(&b))
            .transpose()?)
    }

    fn remember_alert(&self, key: &str, recipient: &str, memory: AlertMemory) -> Result<(), StoreError> {
        self.space.admit(Need::Grow)?;
        self.alerts
            .insert(memory_key(key, recipient), serde_json::to_vec(&memory)?)?;
        Ok(())
    }

    fn purge_alerts(&self, before: u64) -> Result<usize, StoreError> {
        let mut removed = 0;
        for kv in self.alerts.iter() {
            let (key, bytes) = kv?;
            let m: AlertMemory = serde_json::from_slice(&bytes)?;
            if !m.firing && m.mailed_at < before {
                self.alerts.remove(key)?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_store::open;
    use super::*;

    #[test]
    fn memory_is_per_key_and_recipient_and_resolved_ones_are_purged() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let firing = AlertMemory { firing: true, mailed_at: 10 };
        store.remember_alert("disk", "Ops@Example.com", firing).unwrap();
        assert_eq!(store.alert_memory("disk", "ops@example.com").unwrap(), Some(firing));
        assert_eq!(store.alert_memory("disk", "dev@example.com").unwrap(), None);
        assert_eq!(store.alert_memory("cpu", "ops@example.com").unwrap(), None);
        store
            .remember_alert("cpu", "ops@example.com", AlertMemory { firing: false, mailed_at: 10 })
            .unwrap();
        assert_eq!(store.purge_alerts(20).unwrap(), 1);
        assert_eq!(store.alert_memory("disk", "ops@example.com").unwrap(), Some(firing));
    }
}
