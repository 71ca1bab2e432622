//! Durable storage of the mail settings (server only).
//!
//! Storage sits behind [`SettingsStore`] so another backend could replace sled later. The sled
//! backend keeps one tree per kind of record plus a `meta` tree holding the schema version.

use crate::domain::{Encryption, MailServerForm, MailServerSettings, PasswordChoice, SavedLogin};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::{path::Path, sync::Arc};

/// The schema version this build writes. Older databases are migrated step by step on open.
pub const SCHEMA_VERSION: u32 = 1;

const META_TREE: &str = "meta";
const SETTINGS_TREE: &str = "settings";
const SCHEMA_KEY: &str = "schema_version";
const MAIL_KEY: &str = "mail";
const TESTS_KEY: &str = "mail_tests";

pub use crate::store_types::{TestHistory, TestOutcome};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the data directory {dir} is in use by another Mailroom instance (sled holds a lock on it); stop that instance or choose another MAILROOM_DATA_DIR")]
    Locked { dir: String },
    #[error("the database was written by a newer Mailroom (schema {found}, this build knows up to {SCHEMA_VERSION})")]
    TooNew { found: u32 },
    #[error("version conflict: stored version is {current}")]
    Conflict { current: u64, saved_at: String },
    #[error("stored record is unreadable: {0}")]
    Corrupt(#[from] serde_json::Error),
    #[error("database error: {0}")]
    Sled(#[from] sled::Error),
}

/// A stored record and the version it carries. Every save increments the version by one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Versioned<T> {
    pub schema: u32,
    pub version: u64,
    /// RFC 3339, UTC.
    pub saved_at: String,
    pub value: T,
}

/// The mail settings as stored: values that passed [`crate::domain::MailServerSettings::parse`].
/// Fields added later carry `#[serde(default)]` or a migration step.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailSettingsRecord {
    pub host: String,
    pub port: u16,
    pub account: String,
    pub password: String,
    pub server_type: String,
    pub from_address: String,
    pub from_name: String,
    pub encryption: Encryption,
    pub helo_name: Option<String>,
    pub timeout_secs: u32,
    pub reply_to: Option<String>,
    #[serde(default)]
    pub ca_pem: Option<String>,
    #[serde(default)]
    pub skip_verify: bool,
}

impl std::fmt::Debug for MailSettingsRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSettingsRecord")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("account", &self.account)
            .field("password", &"<redacted>")
            .field("encryption", &self.encryption)
            .finish_non_exhaustive()
    }
}

impl MailSettingsRecord {
    /// The record for validated settings; `kept_password` is used when the form kept the saved one.
    pub fn from_settings(s: &MailServerSettings, kept_password: Option<&str>) -> Option<Self> {
        let password = match &s.password {
            PasswordChoice::New(p) => p.clone(),
            PasswordChoice::KeepSaved => kept_password?.to_string(),
        };
        Some(Self {
            host: s.host.as_str().to_string(),
            port: s.port.get(),
            account: s.account.as_str().to_string(),
            password,
            server_type: s.server_type.as_str().to_string(),
            from_address: s.from_address.as_str().to_string(),
            from_name: s.from_name.as_str().to_string(),
            encryption: s.encryption,
            helo_name: s.helo_name.as_ref().map(|h| h.as_str().to_string()),
            timeout_secs: s.timeout.secs(),
            reply_to: s.reply_to.as_ref().map(|a| a.as_str().to_string()),
            ca_pem: s.ca_pem.as_ref().map(|c| c.as_str().to_string()),
            skip_verify: s.skip_verify,
        })
    }

    /// The record as a form, with the password left blank: it never goes back to the browser.
    pub fn to_form(&self) -> MailServerForm {
        let (starttls, ssl) = self.encryption.switches();
        MailServerForm {
            host: self.host.clone(),
            port: self.port.to_string(),
            account: self.account.clone(),
            password: String::new(),
            server_type: self.server_type.clone(),
            from_address: self.from_address.clone(),
            from_name: self.from_name.clone(),
            starttls,
            ssl,
            helo_name: self.helo_name.clone().unwrap_or_default(),
            timeout: self.timeout_secs.to_string(),
            reply_to: self.reply_to.clone().unwrap_or_default(),
            ca_pem: self.ca_pem.clone().unwrap_or_default(),
            skip_verify: self.skip_verify,
        }
    }

    pub fn login(&self) -> SavedLogin {
        SavedLogin { host: self.host.clone(), port: self.port, account: self.account.clone() }
    }
}

pub trait SettingsStore: Send + Sync {
    fn load_mail(&self) -> Result<Option<Versioned<MailSettingsRecord>>, StoreError>;

    /// Writes `value` if the stored version still equals `expected` (0 = nothing stored yet),
    /// flushes it to disk, and returns what was written. Blocking: call from a blocking task.
    fn save_mail(
        &self,
        expected: u64,
        value: MailSettingsRecord,
    ) -> Result<Versioned<MailSettingsRecord>, StoreError>;

    fn load_tests(&self) -> Result<TestHistory, StoreError>;

    /// Records a test's outcome (flushed before returning).
    fn record_test(&self, outcome: TestOutcome) -> Result<TestHistory, StoreError>;

    /// Flushes everything written so far (used at shutdown).
    fn flush(&self) -> Result<(), StoreError>;
}

pub type SharedStore = Arc<dyn SettingsStore>;

pub struct SledStore {
    db: sled::Db,
    settings: sled::Tree,
}

impl SledStore {
    /// Opens (creating if needed) the database in `dir` and migrates it to [`SCHEMA_VERSION`].
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let db = sled::Config::new().path(dir).open().map_err(|e| match e {
            // sled 0.34 reports a held lock only as an `Other` I/O error with this message.
            sled::Error::Io(ref io) if io.to_string().contains("could not acquire lock") => {
                StoreError::Locked { dir: dir.display().to_string() }
            }
            other => StoreError::Sled(other),
        })?;
        let meta = db.open_tree(META_TREE)?;
        let found = match meta.get(SCHEMA_KEY)? {
            Some(bytes) => serde_json::from_slice::<u32>(&bytes)?,
            None => 0,
        };
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew { found });
        }
        // Step-by-step migrations go here: `if found < 2 { migrate_1_to_2(&db)? }` and so on.
        if found < SCHEMA_VERSION {
            meta.insert(SCHEMA_KEY, serde_json::to_vec(&SCHEMA_VERSION)?)?;
            db.flush()?;
        }
        let settings = db.open_tree(SETTINGS_TREE)?;
        Ok(Self { db, settings })
    }

    fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<Versioned<T>>, StoreError> {
        match self.settings.get(key)? {
            Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
            None => Ok(None),
        }
    }
}

impl SettingsStore for SledStore {
    fn load_mail(&self) -> Result<Option<Versioned<MailSettingsRecord>>, StoreError> {
        self.get(MAIL_KEY)
    }

    fn save_mail(
        &self,
        expected: u64,
        value: MailSettingsRecord,
    ) -> Result<Versioned<MailSettingsRecord>, StoreError> {
        let current = self.settings.get(MAIL_KEY)?;
        let (current_version, current_saved_at) = match &current {
            Some(bytes) => {
                let rec = serde_json::from_slice::<Versioned<MailSettingsRecord>>(bytes)?;
                (rec.version, rec.saved_at)
            }
            None => (0, String::new()),
        };
        if current_version != expected {
            return Err(StoreError::Conflict { current: current_version, saved_at: current_saved_at });
        }
        let record = Versioned {
            schema: SCHEMA_VERSION,
            version: current_version + 1,
            saved_at: crate::now_rfc3339(),
            value,
        };
        let bytes = serde_json::to_vec(&record)?;
        // Compare-and-swap against the exact bytes read above: a save that raced us loses
        // with a conflict instead of overwriting silently.
        self.settings
            .compare_and_swap(MAIL_KEY, current, Some(bytes))?
            .map_err(|_| StoreError::Conflict { current: current_version + 1, saved_at: String::new() })?;
        self.db.flush()?;
        Ok(record)
    }

    fn load_tests(&self) -> Result<TestHistory, StoreError> {
        Ok(self.get::<TestHistory>(TESTS_KEY)?.map(|v| v.value).unwrap_or_default())
    }

    fn record_test(&self, outcome: TestOutcome) -> Result<TestHistory, StoreError> {
        let mut history = self.load_tests()?;
        if outcome.success {
            history.last_success = Some(outcome.clone());
        }
        history.last = Some(outcome);
        let record = Versioned { schema: SCHEMA_VERSION, version: 0, saved_at: crate::now_rfc3339(), value: history.clone() };
        self.settings.insert(TESTS_KEY, serde_json::to_vec(&record)?)?;
        self.db.flush()?;
        Ok(history)
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(host: &str) -> MailSettingsRecord {
        MailSettingsRecord {
            host: host.into(),
            port: 587,
            account: "a@example.com".into(),
            password: "secret".into(),
            server_type: "SMTP".into(),
            from_address: "a@example.com".into(),
            from_name: String::new(),
            encryption: Encryption::StartTls,
            helo_name: None,
            timeout_secs: 15,
            reply_to: None,
            ca_pem: None,
            skip_verify: false,
        }
    }

    #[test]
    fn save_then_load_round_trips_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SledStore::open(dir.path()).unwrap();
            assert_eq!(store.load_mail().unwrap(), None);
            let saved = store.save_mail(0, record("smtp.example.com")).unwrap();
            assert_eq!(saved.version, 1);
            assert_eq!(saved.schema, SCHEMA_VERSION);
        }
        let store = SledStore::open(dir.path()).unwrap();
        let loaded = store.load_mail().unwrap().unwrap();
        assert_eq!(loaded.value, record("smtp.example.com"));
        assert_eq!(loaded.version, 1);
    }

    #[test]
    fn stale_version_is_a_conflict_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        store.save_mail(0, record("a.example")).unwrap();
        store.save_mail(1, record("b.example")).unwrap();
        let err = store.save_mail(1, record("c.example")).unwrap_err();
        assert!(matches!(err, StoreError::Conflict { current: 2, .. }), "{err:?}");
        assert_eq!(store.load_mail().unwrap().unwrap().value, record("b.example"));
    }

    #[test]
    fn second_open_of_same_dir_reports_lock() {
        let dir = tempfile::tempdir().unwrap();
        let _first = SledStore::open(dir.path()).unwrap();
        match SledStore::open(dir.path()) {
            Err(StoreError::Locked { .. }) => {}
            Err(other) => panic!("expected Locked, got {other}"),
            Ok(_) => panic!("second open of a locked directory succeeded"),
        }
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = sled::open(dir.path()).unwrap();
            db.open_tree(META_TREE).unwrap().insert(SCHEMA_KEY, b"99").unwrap();
            db.flush().unwrap();
        }
        assert!(matches!(SledStore::open(dir.path()), Err(StoreError::TooNew { found: 99 })));
    }
}
