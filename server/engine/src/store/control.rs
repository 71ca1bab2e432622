//! The outbox's control record: what every instance's worker obeys and every page shows — the
//! pause and its reason, the mail server's lane waiting for its quota, the failing streak
//! behind the health banner, and the day's sends against the provider's limits. One record,
//! changed only by [`ControlEvent`]s applied in order ([`OutboxControl::apply`], pure), so a
//! backend only has to apply a list of events to its one record atomically.

use super::space::Need;
use super::{Sled, SledBackend, StoreError};
use crate::delivery::budget::Budget;
use serde::{Deserialize, Serialize};

/// Why the outbox is paused, and the settings version it was paused at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub reason: String,
    pub settings_version: u64,
    /// The reason's kind, from a fixed set (the metrics' label); records written before it was
    /// kept read as [`PauseCause::Other`].
    #[serde(default)]
    pub cause: PauseCause,
}

/// What kind of refusal paused the outbox: a fixed set, so it can name a metric's label.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PauseCause {
    /// The mail server refused the sign-in (or asks for one the settings do not make).
    LoginRefused,
    /// The mail server refused the From address.
    SenderRefused,
    /// The OAuth2 provider refused the app or the mailbox's sign-in.
    OAuthRefused,
    /// The server's certificate is not trusted by the settings.
    Certificate,
    #[default]
    Other,
}

impl PauseCause {
    pub const ALL: [PauseCause; 5] = [
        PauseCause::LoginRefused,
        PauseCause::SenderRefused,
        PauseCause::OAuthRefused,
        PauseCause::Certificate,
        PauseCause::Other,
    ];

    /// Its name as a label value.
    pub fn label(self) -> &'static str {
        match self {
            PauseCause::LoginRefused => "login_refused",
            PauseCause::SenderRefused => "sender_refused",
            PauseCause::OAuthRefused => "oauth_refused",
            PauseCause::Certificate => "certificate",
            PauseCause::Other => "other",
        }
    }
}

/// Deliveries failing without a success between them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failing {
    /// Unix seconds: the first failure since the last message sent.
    pub since: u64,
    /// The last failure: the step and what the server said.
    pub last: String,
}

/// The record itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxControl {
    pub paused: Option<Pause>,
    /// Unix seconds until which the mail server's lane waits (its quota or rate limit).
    pub throttled_until: u64,
    pub failing: Option<Failing>,
    /// Sends of the last day, counted while the mail server has known limits.
    pub budget: Budget,
}

/// One change to the record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ControlEvent {
    /// A verdict paused the outbox.
    Paused(Pause),
    /// An admin lifted the pause.
    Resumed,
    /// The settings were saved after the pause: it no longer applies. Lifts only a pause made
    /// with settings older than `version` (another instance may have paused on these).
    SettingsChanged { version: u64 },
    /// The mail server's lane waits until then (the latest such wins).
    Throttled { until: u64 },
    /// A message went out: the failing streak ends.
    Sent,
    /// A send failed at `at`.
    Failed { at: u64, last: String },
    /// `messages` were taken to be sent at `at`, against the limits.
    Claimed { at: u64, messages: usize },
}

impl OutboxControl {
    pub fn apply(&mut self, event: &ControlEvent) {
        match event {
            ControlEvent::Paused(pause) => self.paused = Some(pause.clone()),
            ControlEvent::Resumed => self.paused = None,
            ControlEvent::SettingsChanged { version } => {
                if self
                    .paused
                    .as_ref()
                    .is_some_and(|p| p.settings_version < *version)
                {
                    self.paused = None;
                }
            }
            ControlEvent::Throttled { until } => self.throttled_until = self.throttled_until.max(*until),
            ControlEvent::Sent => self.failing = None,
            ControlEvent::Failed { at, last } => match &mut self.failing {
                Some(f) => f.last = last.clone(),
                None => {
                    self.failing = Some(Failing {
                        since: *at,
                        last: last.clone(),
                    })
                }
            },
            ControlEvent::Claimed { at, messages } => self.budget.record(*at, *messages),
        }
    }

    /// Whether the paused outbox waits for these settings (a pause made with older ones does
    /// not hold them back).
    pub fn paused_for(&self, settings_version: u64) -> Option<&Pause> {
        self.paused
            .as_ref()
            .filter(|p| p.settings_version >= settings_version)
    }
}

/// Events as a batch collects them: a run of sends or of failures is one event, so a batch of
/// a thousand messages changes the record by a handful.
#[derive(Debug, Default)]
pub struct ControlEvents(Vec<ControlEvent>);

impl ControlEvents {
    pub fn push(&mut self, event: ControlEvent) {
        match (self.0.last_mut(), &event) {
            (Some(ControlEvent::Sent), ControlEvent::Sent) => {}
            (Some(ControlEvent::Failed { last, .. }), ControlEvent::Failed { last: newer, .. }) => {
                *last = newer.clone();
            }
            _ => self.0.push(event),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn take(&mut self) -> Vec<ControlEvent> {
        std::mem::take(&mut self.0)
    }
}

#[async_trait::async_trait]
pub trait ControlStore {
    /// The record as it is (the default one before any event).
    async fn outbox_control(&self) -> Result<OutboxControl, StoreError>;

    /// Applies `events` in order, atomically with respect to every other change of the record;
    /// durable on return. Returns the record after them.
    async fn change_control(&self, events: &[ControlEvent]) -> Result<OutboxControl, StoreError>;
}

#[async_trait::async_trait]
impl ControlStore for SledBackend {
    async fn outbox_control(&self) -> Result<OutboxControl, StoreError> {
        self.blocking(move |db| db.outbox_control()).await
    }

    async fn change_control(&self, events: &[ControlEvent]) -> Result<OutboxControl, StoreError> {
        let events = events.to_vec();
        self.blocking(move |db| db.change_control(&events)).await
    }
}

pub(super) const KEY: &[u8] = b"outbox";

pub(super) fn decode(bytes: Option<&[u8]>) -> Result<OutboxControl, StoreError> {
    Ok(bytes.map(serde_json::from_slice).transpose()?.unwrap_or_default())
}

impl Sled {
    /// The record after `events`, in a transaction that also writes other trees (the outcomes
    /// of a batch): the control tree's part of it.
    pub(super) fn apply_control(
        control: &sled::transaction::TransactionalTree,
        events: &[ControlEvent],
    ) -> sled::transaction::ConflictableTransactionResult<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let mut record = decode(control.get(KEY)?.as_deref())
            .map_err(sled::transaction::ConflictableTransactionError::Abort)?;
        for event in events {
            record.apply(event);
        }
        let bytes = serde_json::to_vec(&record)
            .map_err(|e| sled::transaction::ConflictableTransactionError::Abort(e.into()))?;
        control.insert(KEY, bytes)?;
        Ok(())
    }
}

impl Sled {
    pub(crate) fn outbox_control(&self) -> Result<OutboxControl, StoreError> {
        decode(self.control.get(KEY)?.as_deref())
    }

    pub(crate) fn change_control(&self, events: &[ControlEvent]) -> Result<OutboxControl, StoreError> {
        self.space.admit(Need::Upkeep)?;
        let record = self
            .control
            .transaction(|control| {
                Self::apply_control(control, events)?;
                Ok(decode(control.get(KEY)?.as_deref())
                    .map_err(sled::transaction::ConflictableTransactionError::Abort)?)
            })
            .map_err(super::tx_error)?;
        self.sync()?;
        // A hold lifted (or one that others must now obey): every worker looks again.
        self.signal_work();
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_store::backend;
    use super::*;

    fn pause(version: u64) -> Pause {
        Pause {
            reason: "login refused".into(),
            settings_version: version,
            cause: PauseCause::LoginRefused,
        }
    }

    #[tokio::test]
    async fn the_record_is_shared_through_the_store_and_survives_a_reopen() {
        let b = backend();
        {
            let store = b.open().await;
            assert_eq!(store.outbox_control().await.unwrap(), OutboxControl::default());
            let after = store
                .change_control(&[
                    ControlEvent::Failed {
                        at: 10,
                        last: "connect: refused".into(),
                    },
                    ControlEvent::Failed {
                        at: 20,
                        last: "login: 535".into(),
                    },
                    ControlEvent::Paused(pause(3)),
                    ControlEvent::Throttled { until: 500 },
                    ControlEvent::Throttled { until: 400 },
                ]).await
                .unwrap();
            assert_eq!(
                after.failing,
                Some(Failing {
                    since: 10,
                    last: "login: 535".into()
                })
            );
            assert_eq!(after.throttled_until, 500, "the latest wait wins");
        }
        let store = b.open().await;
        let control = store.outbox_control().await.unwrap();
        assert_eq!(control.paused, Some(pause(3)));
        assert_eq!(control.paused_for(3), Some(&pause(3)));
        assert_eq!(control.paused_for(4), None, "newer settings are not held back");

        // Another instance paused on version 4 meanwhile: a worker that read version 4 as new
        // does not lift it, one that read version 5 does.
        store.change_control(&[ControlEvent::Paused(pause(4))]).await.unwrap();
        let kept = store
            .change_control(&[ControlEvent::SettingsChanged { version: 4 }]).await
            .unwrap();
        assert_eq!(kept.paused, Some(pause(4)));
        let lifted = store
            .change_control(&[ControlEvent::SettingsChanged { version: 5 }]).await
            .unwrap();
        assert_eq!(lifted.paused, None);

        let sent = store.change_control(&[ControlEvent::Sent]).await.unwrap();
        assert_eq!(sent.failing, None, "a message sent ends the streak");
    }

    #[tokio::test]
    async fn a_batch_of_events_collapses_runs() {
        let mut events = ControlEvents::default();
        for _ in 0..1000 {
            events.push(ControlEvent::Sent);
        }
        for i in 0..100 {
            events.push(ControlEvent::Failed {
                at: 100 + i,
                last: format!("failure {i}"),
            });
        }
        events.push(ControlEvent::Sent);
        let events = events.take();
        assert_eq!(
            events,
            [
                ControlEvent::Sent,
                ControlEvent::Failed {
                    at: 100,
                    last: "failure 99".into()
                },
                ControlEvent::Sent
            ]
        );
        let mut record = OutboxControl::default();
        for e in &events[..2] {
            record.apply(e);
        }
        assert_eq!(
            record.failing,
            Some(Failing {
                since: 100,
                last: "failure 99".into()
            })
        );
    }
}
