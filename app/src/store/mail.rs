//! The mail settings (one versioned record, its password sealed) and the test history.

use super::{
    audit::changes,
    migrations::{MAIL_KEY, SCHEMA_VERSION, TESTS_KEY},
    tx_error, SledStore, StoreError, Versioned,
};
use crate::domain::{MailServer, MailServerSettings, Password};
use crate::history::{AuditEntry, TestHistory, TestOutcome};
use serde::{Deserialize, Serialize};
use sled::Transactional;

pub trait MailSettingsStore {
    fn load_mail(&self) -> Result<Option<Versioned<MailServer>>, StoreError>;

    /// Writes `value` if the stored version still equals `expected` (0 = nothing stored yet),
    /// records who changed what in the change history in the same transaction, flushes, and
    /// returns what was written. Blocking: call from a blocking task.
    fn save_mail(
        &self,
        expected: u64,
        value: MailServer,
        who: &str,
    ) -> Result<Versioned<MailServer>, StoreError>;

    fn load_tests(&self) -> Result<TestHistory, StoreError>;

    /// Records a test's outcome (flushed before returning).
    fn record_test(&self, outcome: TestOutcome) -> Result<TestHistory, StoreError>;
}

/// The mail record as it sits in sled: the password only sealed.
#[derive(Serialize, Deserialize)]
struct StoredMail {
    #[serde(flatten)]
    settings: MailServerSettings,
    password_sealed: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_secret_sealed: Option<String>,
}

impl SledStore {
    fn decode_mail(&self, bytes: &[u8]) -> Result<Versioned<MailServer>, StoreError> {
        let stored: Versioned<StoredMail> = serde_json::from_slice(bytes)?;
        let password = Password::new(self.secrets.open(&stored.value.password_sealed)?);
        let client_secret = match &stored.value.client_secret_sealed {
            Some(sealed) => Password::new(self.secrets.open(sealed)?),
            None => Password::default(),
        };
        Ok(Versioned {
            schema: stored.schema,
            version: stored.version,
            saved_at: stored.saved_at,
            value: MailServer {
                settings: stored.value.settings,
                password,
                client_secret,
            },
        })
    }

    fn encode_mail(&self, rec: &Versioned<MailServer>) -> Result<Vec<u8>, StoreError> {
        let stored = Versioned {
            schema: rec.schema,
            version: rec.version,
            saved_at: rec.saved_at.clone(),
            value: StoredMail {
                settings: rec.value.settings.clone(),
                password_sealed: self.secrets.seal(rec.value.password.expose()),
                client_secret_sealed: (!rec.value.client_secret.is_empty())
                    .then(|| self.secrets.seal(rec.value.client_secret.expose())),
            },
        };
        Ok(serde_json::to_vec(&stored)?)
    }
}

impl MailSettingsStore for SledStore {
    fn load_mail(&self) -> Result<Option<Versioned<MailServer>>, StoreError> {
        self.settings
            .get(MAIL_KEY)?
            .map(|b| self.decode_mail(&b))
            .transpose()
    }

    fn save_mail(
        &self,
        expected: u64,
        value: MailServer,
        who: &str,
    ) -> Result<Versioned<MailServer>, StoreError> {
        use sled::transaction::ConflictableTransactionError::Abort;
        let audit_id = self.db.generate_id()?;
        let record = (&self.settings, &self.audit)
            .transaction(|(settings, audit)| {
                let current = match settings.get(MAIL_KEY)? {
                    Some(bytes) => Some(self.decode_mail(&bytes).map_err(Abort)?),
                    None => None,
                };
                let (version, saved_at) = current
                    .as_ref()
                    .map_or((0, String::new()), |c| (c.version, c.saved_at.clone()));
                if version != expected {
                    return Err(Abort(StoreError::Conflict {
                        current: version,
                        saved_at,
                    }));
                }
                let record = Versioned {
                    schema: SCHEMA_VERSION,
                    version: version + 1,
                    saved_at: crate::clock::now_rfc3339(),
                    value: value.clone(),
                };
                settings.insert(MAIL_KEY, self.encode_mail(&record).map_err(Abort)?)?;
                let entry = AuditEntry {
                    who: who.to_string(),
                    at: record.saved_at.clone(),
                    changes: changes(current.as_ref().map(|c| &c.value), &record.value),
                };
                let entry = serde_json::to_vec(&entry).map_err(|e| Abort(StoreError::Corrupt(e)))?;
                audit.insert(&audit_id.to_be_bytes(), entry)?;
                Ok(record)
            })
            .map_err(tx_error)?;
        self.prune_audit()?;
        self.sync()?;
        Ok(record)
    }

    fn load_tests(&self) -> Result<TestHistory, StoreError> {
        match self.settings.get(TESTS_KEY)? {
            Some(bytes) => Ok(serde_json::from_slice::<Versioned<TestHistory>>(&bytes)?.value),
            None => Ok(TestHistory::default()),
        }
    }

    fn record_test(&self, outcome: TestOutcome) -> Result<TestHistory, StoreError> {
        let mut history = self.load_tests()?;
        history.record(outcome);
        let record = Versioned {
            schema: SCHEMA_VERSION,
            version: 0,
            saved_at: crate::clock::now_rfc3339(),
            value: history.clone(),
        };
        self.settings.insert(TESTS_KEY, serde_json::to_vec(&record)?)?;
        self.sync()?;
        Ok(history)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::{test_store::*, AuditStore};
    use super::*;
    use crate::domain::{test_forms::valid_form, MailServerForm};
    use crate::secrets::SecretBox;

    /// A valid server record for `host`, password "secret-Pa55".
    pub fn server(host: &str) -> MailServer {
        let form = MailServerForm {
            host: host.into(),
            password: "secret-Pa55".into(),
            ..valid_form()
        };
        let parsed = MailServerSettings::parse(&form, None).unwrap();
        MailServer::from_form(parsed, None).unwrap()
    }

    #[test]
    fn save_then_load_round_trips_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = open(dir.path());
            assert_eq!(store.load_mail().unwrap(), None);
            let saved = store
                .save_mail(0, server("smtp.example.com"), "admin@example.com")
                .unwrap();
            assert_eq!(saved.version, 1);
            assert_eq!(saved.schema, SCHEMA_VERSION);
        }
        let store = open(dir.path());
        let loaded = store.load_mail().unwrap().unwrap();
        assert_eq!(loaded.value, server("smtp.example.com"));
        assert_eq!(loaded.version, 1);
    }

    #[test]
    fn the_password_is_sealed_in_the_database_and_needs_the_key() {
        let dir = tempfile::tempdir().unwrap();
        {
            open(dir.path())
                .save_mail(0, server("smtp.example.com"), "a")
                .unwrap();
        }
        let raw = open(dir.path()).settings.get(MAIL_KEY).unwrap().unwrap();
        assert!(!String::from_utf8_lossy(&raw).contains("secret-Pa55"));
        let wrong = open_with(dir.path(), SecretBox::from_key([4; 32])).unwrap();
        assert!(matches!(wrong.load_mail(), Err(StoreError::Secret(_))));
    }

    #[test]
    fn stale_version_is_a_conflict_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        store.save_mail(0, server("a.example"), "x").unwrap();
        store.save_mail(1, server("b.example"), "x").unwrap();
        let err = store.save_mail(1, server("c.example"), "x").unwrap_err();
        assert!(matches!(err, StoreError::Conflict { current: 2, .. }), "{err:?}");
        assert_eq!(store.load_mail().unwrap().unwrap().value, server("b.example"));
        assert_eq!(
            store.recent_audit(10).unwrap().len(),
            2,
            "a refused save is not audited"
        );
    }

    #[test]
    fn test_history_keeps_the_last_and_the_last_success() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let ok = TestOutcome {
            diagnosis: None,
            server: "h:25".into(),
            finished_at: "t1".into(),
        };
        let failed = TestOutcome {
            diagnosis: Some(crate::report::Diagnosis::AuthRejected),
            finished_at: "t2".into(),
            ..ok.clone()
        };
        store.record_test(ok.clone()).unwrap();
        let history = store.record_test(failed.clone()).unwrap();
        assert_eq!((history.last, history.last_success), (Some(failed), Some(ok)));
        drop(store);
        assert_eq!(
            open(dir.path())
                .load_tests()
                .unwrap()
                .last_success
                .unwrap()
                .finished_at,
            "t1",
            "kept on disk"
        );
    }
}
