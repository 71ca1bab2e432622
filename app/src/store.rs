//! Durable storage of the mail settings (server only).
//!
//! Storage sits behind [`SettingsStore`] so another backend could replace sled later. The sled
//! backend keeps one tree per kind of record plus a `meta` tree holding the schema version.

use crate::domain::{Encryption, MailServerForm, MailServerSettings, PasswordChoice, SavedLogin};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use crate::secrets::{SecretBox, SecretError};
use sled::Transactional;
use std::{path::Path, sync::Arc};

/// The schema version this build writes. Older databases are migrated step by step on open.
/// 1: first release. 2: the SMTP password sealed with the secret key (field `password_sealed`).
pub const SCHEMA_VERSION: u32 = 2;

const META_TREE: &str = "meta";
const SETTINGS_TREE: &str = "settings";
const SCHEMA_KEY: &str = "schema_version";
const MAIL_KEY: &str = "mail";
const TESTS_KEY: &str = "mail_tests";
const ADMINS_TREE: &str = "admins";
const SESSIONS_TREE: &str = "sessions";
const RESETS_TREE: &str = "reset_tokens";
const AUDIT_TREE: &str = "audit";

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
    #[error("{0}")]
    Secret(#[from] SecretError),
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
    /// Plain text in memory; in the database only its sealed form is kept (`password_sealed`).
    #[serde(skip)]
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

/// An admin account. The password only as an argon2id PHC string.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminRecord {
    pub email: String,
    pub password_hash: String,
    pub created_at: String,
}

/// A login session, stored under the SHA-256 of its id (the id itself lives only in the cookie).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub email: String,
    /// Unix seconds.
    pub created_at: u64,
    pub last_seen: u64,
}

/// A password-reset token, stored under the SHA-256 of the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetRecord {
    pub email: String,
    /// Unix seconds.
    pub expires_at: u64,
}

pub use crate::store_types::AuditEntry;

/// The settings' fields that changed between two records, secrets only as "changed".
pub fn changed_fields(old: Option<&MailSettingsRecord>, new: &MailSettingsRecord) -> Vec<String> {
    let Some(old) = old else { return vec!["created the mail settings".into()] };
    let mut out = Vec::new();
    let mut check = |name: &str, a: String, b: String| {
        if a != b {
            out.push(format!("{name}: {a:?} \u{2192} {b:?}"));
        }
    };
    check("Host Name", old.host.clone(), new.host.clone());
    check("Port", old.port.to_string(), new.port.to_string());
    check("Email Account", old.account.clone(), new.account.clone());
    check("From Address", old.from_address.clone(), new.from_address.clone());
    check("From Name", old.from_name.clone(), new.from_name.clone());
    check("Encryption", old.encryption.describe().into(), new.encryption.describe().into());
    check("HELO name", old.helo_name.clone().unwrap_or_default(), new.helo_name.clone().unwrap_or_default());
    check("Timeout", old.timeout_secs.to_string(), new.timeout_secs.to_string());
    check("Reply-To", old.reply_to.clone().unwrap_or_default(), new.reply_to.clone().unwrap_or_default());
    check("Skip certificate verification", old.skip_verify.to_string(), new.skip_verify.to_string());
    if old.ca_pem != new.ca_pem {
        out.push("Trusted CA certificate changed".into());
    }
    if old.password != new.password {
        out.push("Password changed".into());
    }
    if out.is_empty() {
        out.push("saved without changes".into());
    }
    out
}

pub trait SettingsStore: Send + Sync {
    fn load_mail(&self) -> Result<Option<Versioned<MailSettingsRecord>>, StoreError>;

    /// Writes `value` if the stored version still equals `expected` (0 = nothing stored yet),
    /// records who changed what in the audit log in the same transaction, flushes, and returns
    /// what was written. Blocking: call from a blocking task.
    fn save_mail(
        &self,
        expected: u64,
        value: MailSettingsRecord,
        who: &str,
    ) -> Result<Versioned<MailSettingsRecord>, StoreError>;

    fn load_tests(&self) -> Result<TestHistory, StoreError>;

    /// Records a test's outcome (flushed before returning).
    fn record_test(&self, outcome: TestOutcome) -> Result<TestHistory, StoreError>;

    /// The newest `n` audit entries, newest first.
    fn recent_audit(&self, n: usize) -> Result<Vec<AuditEntry>, StoreError>;

    fn admin_count(&self) -> Result<usize, StoreError>;
    fn get_admin(&self, email: &str) -> Result<Option<AdminRecord>, StoreError>;
    /// Creates or replaces an admin (flushed).
    fn put_admin(&self, admin: AdminRecord) -> Result<(), StoreError>;

    fn put_session(&self, id_hash: &str, session: &SessionRecord) -> Result<(), StoreError>;
    fn get_session(&self, id_hash: &str) -> Result<Option<SessionRecord>, StoreError>;
    fn delete_session(&self, id_hash: &str) -> Result<(), StoreError>;
    /// Ends every session of `email` (after a password reset). Returns how many.
    fn delete_sessions_of(&self, email: &str) -> Result<usize, StoreError>;

    fn put_reset(&self, token_hash: &str, reset: &ResetRecord) -> Result<(), StoreError>;
    /// Removes and returns the token's record: a token works once.
    fn take_reset(&self, token_hash: &str) -> Result<Option<ResetRecord>, StoreError>;

    /// Flushes everything written so far (used at shutdown).
    fn flush(&self) -> Result<(), StoreError>;
}

pub type SharedStore = Arc<dyn SettingsStore>;

pub struct SledStore {
    db: sled::Db,
    settings: sled::Tree,
    admins: sled::Tree,
    sessions: sled::Tree,
    resets: sled::Tree,
    audit: sled::Tree,
    secrets: SecretBox,
}

/// The mail record as it sits in sled: the password only sealed.
#[derive(Serialize, Deserialize)]
struct StoredMail {
    #[serde(flatten)]
    record: MailSettingsRecord,
    password_sealed: String,
}

impl SledStore {
    /// Opens (creating if needed) the database in `dir` and migrates it to [`SCHEMA_VERSION`].
    pub fn open(dir: &Path, secrets: SecretBox) -> Result<Self, StoreError> {
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
        let settings = db.open_tree(SETTINGS_TREE)?;
        if (1..2).contains(&found) {
            migrate_1_to_2(&settings, &secrets)?;
        }
        if found < SCHEMA_VERSION {
            meta.insert(SCHEMA_KEY, serde_json::to_vec(&SCHEMA_VERSION)?)?;
            db.flush()?;
        }
        Ok(Self {
            admins: db.open_tree(ADMINS_TREE)?,
            sessions: db.open_tree(SESSIONS_TREE)?,
            resets: db.open_tree(RESETS_TREE)?,
            audit: db.open_tree(AUDIT_TREE)?,
            settings,
            db,
            secrets,
        })
    }

    fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<Versioned<T>>, StoreError> {
        match self.settings.get(key)? {
            Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
            None => Ok(None),
        }
    }

    fn decode_mail(&self, bytes: &[u8]) -> Result<Versioned<MailSettingsRecord>, StoreError> {
        let stored: Versioned<StoredMail> = serde_json::from_slice(bytes)?;
        let password = self.secrets.open(&stored.value.password_sealed)?;
        Ok(Versioned {
            schema: stored.schema,
            version: stored.version,
            saved_at: stored.saved_at,
            value: MailSettingsRecord { password, ..stored.value.record },
        })
    }

    fn encode_mail(&self, rec: &Versioned<MailSettingsRecord>) -> Result<Vec<u8>, StoreError> {
        let stored = Versioned {
            schema: rec.schema,
            version: rec.version,
            saved_at: rec.saved_at.clone(),
            value: StoredMail { password_sealed: self.secrets.seal(&rec.value.password), record: rec.value.clone() },
        };
        Ok(serde_json::to_vec(&stored)?)
    }
}

/// Schema 1 kept the SMTP password in plain text under `password`: seal it.
fn migrate_1_to_2(settings: &sled::Tree, secrets: &SecretBox) -> Result<(), StoreError> {
    if let Some(bytes) = settings.get(MAIL_KEY)? {
        let mut value: serde_json::Value = serde_json::from_slice(&bytes)?;
        if let Some(obj) = value.get_mut("value").and_then(|v| v.as_object_mut()) {
            if let Some(serde_json::Value::String(plain)) = obj.remove("password") {
                obj.insert("password_sealed".into(), serde_json::Value::String(secrets.seal(&plain)));
            }
        }
        value["schema"] = serde_json::json!(2);
        settings.insert(MAIL_KEY, serde_json::to_vec(&value)?)?;
    }
    Ok(())
}

fn sled_tx_error(e: sled::transaction::TransactionError<StoreError>) -> StoreError {
    match e {
        sled::transaction::TransactionError::Abort(e) => e,
        sled::transaction::TransactionError::Storage(e) => StoreError::Sled(e),
    }
}

impl SettingsStore for SledStore {
    fn load_mail(&self) -> Result<Option<Versioned<MailSettingsRecord>>, StoreError> {
        self.settings.get(MAIL_KEY)?.map(|b| self.decode_mail(&b)).transpose()
    }

    fn save_mail(
        &self,
        expected: u64,
        value: MailSettingsRecord,
        who: &str,
    ) -> Result<Versioned<MailSettingsRecord>, StoreError> {
        use sled::transaction::ConflictableTransactionError::Abort;
        let audit_id = self.db.generate_id()?;
        let record = (&self.settings, &self.audit)
            .transaction(|(settings, audit)| {
                let current = match settings.get(MAIL_KEY)? {
                    Some(bytes) => Some(self.decode_mail(&bytes).map_err(Abort)?),
                    None => None,
                };
                let (version, saved_at) = current.as_ref().map_or((0, String::new()), |c| (c.version, c.saved_at.clone()));
                if version != expected {
                    return Err(Abort(StoreError::Conflict { current: version, saved_at }));
                }
                let record = Versioned {
                    schema: SCHEMA_VERSION,
                    version: version + 1,
                    saved_at: crate::now_rfc3339(),
                    value: value.clone(),
                };
                settings.insert(MAIL_KEY, self.encode_mail(&record).map_err(Abort)?)?;
                let entry = AuditEntry {
                    who: who.to_string(),
                    at: record.saved_at.clone(),
                    changes: changed_fields(current.as_ref().map(|c| &c.value), &record.value),
                };
                let entry = serde_json::to_vec(&entry).map_err(|e| Abort(StoreError::Corrupt(e)))?;
                audit.insert(&audit_id.to_be_bytes(), entry)?;
                Ok(record)
            })
            .map_err(sled_tx_error)?;
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

    fn recent_audit(&self, n: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.audit.iter().rev().take(n).map(|kv| Ok(serde_json::from_slice(&kv?.1)?)).collect()
    }

    fn admin_count(&self) -> Result<usize, StoreError> {
        Ok(self.admins.len())
    }

    fn get_admin(&self, email: &str) -> Result<Option<AdminRecord>, StoreError> {
        Ok(self.admins.get(email.to_lowercase())?.map(|b| serde_json::from_slice(&b)).transpose()?)
    }

    fn put_admin(&self, admin: AdminRecord) -> Result<(), StoreError> {
        self.admins.insert(admin.email.to_lowercase(), serde_json::to_vec(&admin)?)?;
        self.db.flush()?;
        Ok(())
    }

    fn put_session(&self, id_hash: &str, session: &SessionRecord) -> Result<(), StoreError> {
        self.sessions.insert(id_hash, serde_json::to_vec(session)?)?;
        Ok(())
    }

    fn get_session(&self, id_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self.sessions.get(id_hash)?.map(|b| serde_json::from_slice(&b)).transpose()?)
    }

    fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        self.sessions.remove(id_hash)?;
        self.db.flush()?;
        Ok(())
    }

    fn delete_sessions_of(&self, email: &str) -> Result<usize, StoreError> {
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for kv in self.sessions.iter() {
            let (k, v) = kv?;
            let s: SessionRecord = serde_json::from_slice(&v)?;
            if s.email.eq_ignore_ascii_case(email) {
                batch.remove(k);
                n += 1;
            }
        }
        self.sessions.apply_batch(batch)?;
        self.db.flush()?;
        Ok(n)
    }

    fn put_reset(&self, token_hash: &str, reset: &ResetRecord) -> Result<(), StoreError> {
        self.resets.insert(token_hash, serde_json::to_vec(reset)?)?;
        self.db.flush()?;
        Ok(())
    }

    fn take_reset(&self, token_hash: &str) -> Result<Option<ResetRecord>, StoreError> {
        let taken = self.resets.remove(token_hash)?.map(|b| serde_json::from_slice(&b)).transpose()?;
        self.db.flush()?;
        Ok(taken)
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> SecretBox {
        SecretBox::from_key([3; 32])
    }

    fn open(dir: &Path) -> SledStore {
        SledStore::open(dir, secrets()).unwrap()
    }

    fn record(host: &str) -> MailSettingsRecord {
        MailSettingsRecord {
            host: host.into(),
            port: 587,
            account: "a@example.com".into(),
            password: "secret-Pa55".into(),
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
            let store = open(dir.path());
            assert_eq!(store.load_mail().unwrap(), None);
            let saved = store.save_mail(0, record("smtp.example.com"), "admin@example.com").unwrap();
            assert_eq!(saved.version, 1);
            assert_eq!(saved.schema, SCHEMA_VERSION);
        }
        let store = open(dir.path());
        let loaded = store.load_mail().unwrap().unwrap();
        assert_eq!(loaded.value, record("smtp.example.com"));
        assert_eq!(loaded.version, 1);
    }

    #[test]
    fn the_password_is_sealed_in_the_database_and_needs_the_key() {
        let dir = tempfile::tempdir().unwrap();
        {
            open(dir.path()).save_mail(0, record("smtp.example.com"), "a").unwrap();
        }
        let raw = SledStore::open(dir.path(), secrets()).unwrap().settings.get(MAIL_KEY).unwrap().unwrap();
        assert!(!String::from_utf8_lossy(&raw).contains("secret-Pa55"));
        let wrong = SledStore::open(dir.path(), SecretBox::from_key([4; 32])).unwrap();
        assert!(matches!(wrong.load_mail(), Err(StoreError::Secret(_))));
    }

    #[test]
    fn schema_1_plaintext_passwords_are_sealed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = sled::open(dir.path()).unwrap();
            db.open_tree(META_TREE).unwrap().insert(SCHEMA_KEY, b"1").unwrap();
            let mut v1 = serde_json::to_value(Versioned { schema: 1, version: 3, saved_at: "t".into(), value: record("old.example") }).unwrap();
            v1["value"]["password"] = serde_json::json!("plain-old-pw");
            db.open_tree(SETTINGS_TREE).unwrap().insert(MAIL_KEY, serde_json::to_vec(&v1).unwrap()).unwrap();
            db.flush().unwrap();
        }
        let store = open(dir.path());
        let loaded = store.load_mail().unwrap().unwrap();
        assert_eq!((loaded.value.password.as_str(), loaded.version), ("plain-old-pw", 3));
        let raw = store.settings.get(MAIL_KEY).unwrap().unwrap();
        assert!(!String::from_utf8_lossy(&raw).contains("plain-old-pw"));
    }

    #[test]
    fn stale_version_is_a_conflict_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        store.save_mail(0, record("a.example"), "x").unwrap();
        store.save_mail(1, record("b.example"), "x").unwrap();
        let err = store.save_mail(1, record("c.example"), "x").unwrap_err();
        assert!(matches!(err, StoreError::Conflict { current: 2, .. }), "{err:?}");
        assert_eq!(store.load_mail().unwrap().unwrap().value, record("b.example"));
        assert_eq!(store.recent_audit(10).unwrap().len(), 2, "a refused save is not audited");
    }

    #[test]
    fn audit_records_who_and_what_with_secrets_only_as_changed() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        store.save_mail(0, record("a.example"), "first@example.com").unwrap();
        let mut next = record("b.example");
        next.password = "new-secret-9".into();
        store.save_mail(1, next, "second@example.com").unwrap();
        let audit = store.recent_audit(20).unwrap();
        assert_eq!(audit[0].who, "second@example.com", "newest first");
        assert!(audit[0].changes.iter().any(|c| c.starts_with("Host Name")), "{:?}", audit[0]);
        assert!(audit[0].changes.contains(&"Password changed".to_string()));
        assert!(!format!("{audit:?}").contains("new-secret-9"));
        assert_eq!(audit[1].changes, vec!["created the mail settings"]);
    }

    #[test]
    fn sessions_and_reset_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let s = SessionRecord { email: "A@example.com".into(), created_at: 1, last_seen: 1 };
        store.put_session("h1", &s).unwrap();
        store.put_session("h2", &s).unwrap();
        store.put_session("h3", &SessionRecord { email: "b@example.com".into(), ..s.clone() }).unwrap();
        assert_eq!(store.delete_sessions_of("a@example.com").unwrap(), 2);
        assert!(store.get_session("h1").unwrap().is_none());
        assert!(store.get_session("h3").unwrap().is_some());
        store.put_reset("t", &ResetRecord { email: "a@example.com".into(), expires_at: 9 }).unwrap();
        assert!(store.take_reset("t").unwrap().is_some());
        assert!(store.take_reset("t").unwrap().is_none(), "a reset token works once");
    }

    #[test]
    fn second_open_of_same_dir_reports_lock() {
        let dir = tempfile::tempdir().unwrap();
        let _first = open(dir.path());
        match SledStore::open(dir.path(), secrets()) {
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
        assert!(matches!(SledStore::open(dir.path(), secrets()), Err(StoreError::TooNew { found: 99 })));
    }
}
