//! The change history: who saved, when, and which settings changed (secrets only as changed).

use super::{Sled, SledBackend, StoreError};
use crate::domain::{Field, MailServer};
use crate::history::{AuditEntry, Change};

#[async_trait::async_trait]
pub trait AuditStore {
    /// The newest `n` entries, newest first.
    async fn recent_audit(&self, n: usize) -> Result<Vec<AuditEntry>, StoreError>;
}

#[async_trait::async_trait]
impl AuditStore for SledBackend {
    async fn recent_audit(&self, n: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.blocking(move |db| db.recent_audit(n)).await
    }
}

/// The change history keeps this many saves; older ones are dropped.
pub const MAX_AUDIT_ENTRIES: usize = 1_000;

impl Sled {
    /// Drops the oldest entries beyond [`MAX_AUDIT_ENTRIES`] (keys are increasing ids).
    pub(super) fn prune_audit(&self) -> Result<(), StoreError> {
        let mut over = self.audit.len().saturating_sub(MAX_AUDIT_ENTRIES);
        while over > 0 && self.audit.pop_min()?.is_some() {
            over -= 1;
        }
        Ok(())
    }
}

impl Sled {
    pub(crate) fn recent_audit(&self, n: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.audit
            .iter()
            .rev()
            .take(n)
            .map(|kv| Ok(serde_json::from_slice(&kv?.1)?))
            .collect()
    }
}

/// What changed between two saves, field by field, in form order.
pub fn changes(old: Option<&MailServer>, new: &MailServer) -> Vec<Change> {
    let Some(old) = old else {
        return vec![Change::Created];
    };
    let (before, after) = (old.settings.to_form(), new.settings.to_form());
    let mut out: Vec<Change> = Field::SETTINGS
        .into_iter()
        .filter_map(|field| {
            if field == Field::Password {
                return (old.password != new.password).then_some(Change::Replaced { field });
            }
            let (from, to) = (before.value(field), after.value(field));
            if from == to {
                None
            } else if field == Field::CaPem {
                Some(Change::Replaced { field })
            } else {
                Some(Change::Set { field, from, to })
            }
        })
        .collect();
    // A connection is its account and when it was made (its refresh token may rotate); signing
    // in again as the same account is one "connected".
    let connection = |m: Option<&crate::domain::Mailbox>| m.map(|m| (m.account.clone(), m.connected_at.clone()));
    match (connection(old.mailbox.as_ref()), connection(new.mailbox.as_ref())) {
        (before, after) if before == after => {}
        (Some((before, _)), Some((account, _))) if before == account => out.push(Change::MailboxConnected { account }),
        (before, after) => {
            out.extend(before.map(|(account, _)| Change::MailboxDisconnected { account }));
            out.extend(after.map(|(account, _)| Change::MailboxConnected { account }));
        }
    }
    if out.is_empty() {
        out.push(Change::Unchanged);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_store::{backend, server};
    use super::*;
    use crate::domain::Password;

    #[tokio::test]
    async fn audit_records_who_and_what_with_secrets_only_as_changed() {
        let b = backend();
        let store = b.open().await;
        store
            .save_mail(0, server("a.example"), "first@example.com").await
            .unwrap();
        let mut next = server("b.example");
        next.password = Password::new("new-secret-9".into());
        store.save_mail(1, next, "second@example.com").await.unwrap();
        let audit = store.recent_audit(20).await.unwrap();
        assert_eq!(audit[0].who, "second@example.com", "newest first");
        assert_eq!(
            audit[0].changes,
            vec![
                Change::Set {
                    field: Field::Host,
                    from: "a.example".into(),
                    to: "b.example".into()
                },
                Change::Replaced {
                    field: Field::Password
                },
            ]
        );
        assert!(!format!("{audit:?}").contains("new-secret-9"));
        assert_eq!(audit[1].changes, vec![Change::Created]);
    }

    #[tokio::test]
    async fn a_save_without_changes_says_so() {
        assert_eq!(
            changes(Some(&server("a.example")), &server("a.example")),
            vec![Change::Unchanged]
        );
    }

    #[tokio::test]
    async fn the_history_is_bounded() {
        let b = backend();
        let store = b.open().await;
        for version in 0..(MAX_AUDIT_ENTRIES as u64 + 5) {
            store
                .save_mail(version, server(&format!("h{version}.example")), "a").await
                .unwrap();
        }
        let all = store.recent_audit(usize::MAX).await.unwrap();
        assert_eq!(all.len(), MAX_AUDIT_ENTRIES);
        let newest = Change::Set {
            field: Field::Host,
            from: "h1003.example".into(),
            to: "h1004.example".into(),
        };
        assert_eq!(all[0].changes, vec![newest], "the newest are kept");
    }
}
