//! Storm control's memory: for each alert key and recipient, whether the alert is firing and
//! when the recipient was last mailed about it; and queueing an alert, whose decision
//! ([`crate::delivery::storm::decide`]) and mails are one transaction with that memory, so two
//! requests for the same alert on two instances cannot both mail.

use super::{NewMessage, Sled, SledBackend, StoreError};
use crate::delivery::storm::Decision;
use crate::outbox::MessageId;
use serde::{Deserialize, Serialize};

/// What a recipient last heard about an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertMemory {
    pub firing: bool,
    /// Unix seconds: the last mail about this alert to this recipient.
    pub mailed_at: u64,
    /// What was firing then, summed up ([`AlertBatch::digest`]; 0 before digests were kept).
    #[serde(default)]
    pub digest: u64,
}

/// An alert for its recipients, to pass through storm control.
#[derive(Clone, Debug)]
pub struct AlertBatch {
    pub key: String,
    pub firing: bool,
    /// How often a firing alert is mailed again (seconds).
    pub repeat_secs: u64,
    /// What fires, summed up: while firing, a different digest is mailed at once (a group
    /// that gained an alert); the same one waits for the repeat interval. 0 when an alert
    /// has no parts.
    pub digest: u64,
    /// One per recipient (its `to`), in the request's order.
    pub messages: Vec<NewMessage>,
}

/// What storm control did with one recipient's message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertFate {
    Queued(MessageId),
    /// Not queued: the decision says why (never [`Decision::Mail`]).
    Held(Decision),
}

#[async_trait::async_trait]
pub trait AlertStore {
    async fn alert_memory(&self, key: &str, recipient: &str) -> Result<Option<AlertMemory>, StoreError>;

    /// Decides, for each recipient, from its memory of the alert, and queues the mails the
    /// decision allows with the memory they leave, in one transaction; durable on return. One
    /// fate per message, in order.
    async fn enqueue_alert(&self, batch: AlertBatch, now: u64) -> Result<Vec<AlertFate>, StoreError>;

    /// Forgets alerts last mailed before `before` that are not firing. Returns how many.
    async fn purge_alerts(&self, before: u64) -> Result<usize, StoreError>;
}

#[async_trait::async_trait]
impl AlertStore for SledBackend {
    async fn alert_memory(&self, key: &str, recipient: &str) -> Result<Option<AlertMemory>, StoreError> {
        let key = key.to_owned();
        let recipient = recipient.to_owned();
        self.blocking(move |db| db.alert_memory(&key, &recipient)).await
    }

    async fn enqueue_alert(&self, batch: AlertBatch, now: u64) -> Result<Vec<AlertFate>, StoreError> {
        self.blocking(move |db| db.enqueue_alert(batch, now)).await
    }

    async fn purge_alerts(&self, before: u64) -> Result<usize, StoreError> {
        self.blocking(move |db| db.purge_alerts(before)).await
    }
}

pub(super) fn memory_key(key: &str, recipient: &str) -> Vec<u8> {
    // A NUL cannot occur in either (both are checked for control characters).
    [key.as_bytes(), &[0], recipient.to_ascii_lowercase().as_bytes()].concat()
}

impl Sled {
    pub(crate) fn alert_memory(&self, key: &str, recipient: &str) -> Result<Option<AlertMemory>, StoreError> {
        Ok(self
            .alerts
            .get(memory_key(key, recipient))?
            .map(|b| serde_json::from_slice(&b))
            .transpose()?)
    }

    pub(crate) fn enqueue_alert(&self, batch: AlertBatch, now: u64) -> Result<Vec<AlertFate>, StoreError> {
        self.enqueue_alert_in(batch, now)
    }

    pub(crate) fn purge_alerts(&self, before: u64) -> Result<usize, StoreError> {
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
    use super::super::test_store::{backend, message};
    use super::*;
    use crate::outbox::{Priority, State};

    const HOUR: u64 = 3600;

    fn alert(firing: bool, to: &[&str]) -> AlertBatch {
        AlertBatch {
            key: "disk".into(),
            firing,
            repeat_secs: 4 * HOUR,
            digest: 1,
            messages: to.iter().map(|t| message(t, Priority::Alert)).collect(),
        }
    }

    #[tokio::test]
    async fn storm_control_and_its_mails_are_one_step_per_recipient() {
        let b = backend();
        let store = b.open().await;
        let fates = store
            .enqueue_alert(alert(true, &["ops@example.com"]), 10).await
            .unwrap();
        let [AlertFate::Queued(id)] = fates[..] else {
            panic!("{fates:?}")
        };
        assert_eq!(store.message(id).await.unwrap().unwrap().state, State::Queued);
        assert_eq!(
            store.alert_memory("disk", "Ops@Example.com").await.unwrap(),
            Some(AlertMemory {
                firing: true,
                mailed_at: 10,
                digest: 1,
            })
        );

        // Still firing: held for the ops, mailed to someone new; then resolved for both.
        let fates = store
            .enqueue_alert(alert(true, &["ops@example.com", "dev@example.com"]), 20).await
            .unwrap();
        assert_eq!(fates[0], AlertFate::Held(Decision::Wait { until: 10 + 4 * HOUR }));
        assert!(matches!(fates[1], AlertFate::Queued(_)));

        // What fires changed (a group gained an alert): mailed at once, and remembered.
        let grown = AlertBatch { digest: 2, ..alert(true, &["ops@example.com"]) };
        let fates = store.enqueue_alert(grown, 25).await.unwrap();
        assert!(matches!(fates[..], [AlertFate::Queued(_)]), "{fates:?}");
        assert_eq!(
            store.alert_memory("disk", "ops@example.com").await.unwrap(),
            Some(AlertMemory { firing: true, mailed_at: 25, digest: 2 })
        );
        let fates = store
            .enqueue_alert(
                alert(false, &["ops@example.com", "dev@example.com", "new@example.com"]),
                30,
            ).await
            .unwrap();
        assert!(
            matches!(fates[..2], [AlertFate::Queued(_), AlertFate::Queued(_)]),
            "{fates:?}"
        );
        assert_eq!(fates[2], AlertFate::Held(Decision::NotFiring));
        assert_eq!(store.recent_messages(10).await.unwrap().len(), 5);

        assert_eq!(store.purge_alerts(31).await.unwrap(), 2, "resolved ones are forgotten");
        assert_eq!(store.alert_memory("disk", "ops@example.com").await.unwrap(), None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn the_same_alert_from_many_requests_at_once_is_mailed_once() {
        let b = backend();
        let store = b.open().await;
        let runs: Vec<_> = (0..8)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    let fates = store.enqueue_alert(alert(true, &["ops@example.com"]), 10).await.unwrap();
                    fates.iter().filter(|f| matches!(f, AlertFate::Queued(_))).count()
                })
            })
            .collect();
        let mut queued = 0;
        for run in runs {
            queued += run.await.unwrap();
        }
        assert_eq!(queued, 1);
        assert_eq!(store.recent_messages(10).await.unwrap().len(), 1);
    }
}
