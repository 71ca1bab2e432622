//! The schema version and the steps that bring an older database up to it, run on open.
//!
//! 1: first release. 2: the SMTP password sealed with the secret key (`password_sealed`).
//! 3: test history and change history stored as data, not sentences.

use super::{Sled, StoreError};
use crate::secrets::SecretBox;
use serde_json::{json, Value};

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = 3;

const META_TREE: &str = "meta";
const SCHEMA_KEY: &str = "schema_version";
pub(super) const MAIL_KEY: &str = "mail";
pub(super) const TESTS_KEY: &str = "mail_tests";

/// `secrets` seal a schema-1 password (the one time a backend sees the key: the layer above
/// seals everything else).
pub(super) fn migrate(store: &Sled, secrets: &SecretBox) -> Result<(), StoreError> {
    let meta = store.db.open_tree(META_TREE)?;
    let found = match meta.get(SCHEMA_KEY)? {
        Some(bytes) => serde_json::from_slice::<u32>(&bytes)?,
        None => 0,
    };
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew { found, known: SCHEMA_VERSION });
    }
    // A new database (0) has nothing to convert.
    if found == 1 {
        seal_passwords(store, secrets)?;
    }
    if (1..3).contains(&found) {
        history_as_data(store)?;
    }
    if found < SCHEMA_VERSION {
        meta.insert(SCHEMA_KEY, serde_json::to_vec(&SCHEMA_VERSION)?)?;
        store.sync()?;
    }
    Ok(())
}

/// 1 → 2: the plain-text `password` becomes `password_sealed`.
fn seal_passwords(store: &Sled, secrets: &SecretBox) -> Result<(), StoreError> {
    if let Some(bytes) = store.settings.get(MAIL_KEY)? {
        let mut value: Value = serde_json::from_slice(&bytes)?;
        if let Some(obj) = value.get_mut("value").and_then(Value::as_object_mut) {
            if let Some(Value::String(plain)) = obj.remove("password") {
                obj.insert(
                    "password_sealed".into(),
                    Value::String(secrets.seal(&plain)),
                );
            }
        }
        value["schema"] = json!(2);
        store.settings.insert(MAIL_KEY, serde_json::to_vec(&value)?)?;
    }
    Ok(())
}

/// 2 → 3: a test outcome keeps its diagnosis (no summary); an audit entry's sentences are
/// kept as `Legacy` changes.
fn history_as_data(store: &Sled) -> Result<(), StoreError> {
    if let Some(bytes) = store.settings.get(TESTS_KEY)? {
        let mut value: Value = serde_json::from_slice(&bytes)?;
        for slot in ["last", "last_success"] {
            if let Some(outcome) = value["value"].get_mut(slot).filter(|o| o.is_object()) {
                let success = outcome["success"].as_bool().unwrap_or(false);
                let diagnosis = if success {
                    Value::Null
                } else {
                    outcome["stage"].clone()
                };
                *outcome = json!({
                    "diagnosis": diagnosis,
                    "server": outcome["server"],
                    "finished_at": outcome["finished_at"],
                });
            }
        }
        value["schema"] = json!(3);
        store.settings.insert(TESTS_KEY, serde_json::to_vec(&value)?)?;
    }
    for entry in store.audit.iter() {
        let (key, bytes) = entry?;
        let mut value: Value = serde_json::from_slice(&bytes)?;
        if let Some(changes) = value.get_mut("changes").and_then(Value::as_array_mut) {
            for change in changes.iter_mut().filter(|c| c.is_string()) {
                *change = json!({ "Legacy": change.clone() });
            }
        }
        store.audit.insert(key, serde_json::to_vec(&value)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{test_store::*, AuditStore, MailSettingsStore};
    use super::*;
    use crate::history::Change;
    use crate::report::Diagnosis;

    /// A database as schema `version` left it, with the given settings record and trees.
    fn old_database(dir: &std::path::Path, version: u32, mail: Value, tests: Option<Value>, audit: &[Value]) {
        let db = sled::open(dir).unwrap();
        db.open_tree(META_TREE)
            .unwrap()
            .insert(SCHEMA_KEY, version.to_string().as_bytes())
            .unwrap();
        let settings = db.open_tree(super::super::SETTINGS_TREE).unwrap();
        settings
            .insert(MAIL_KEY, serde_json::to_vec(&mail).unwrap())
            .unwrap();
        if let Some(tests) = tests {
            settings
                .insert(TESTS_KEY, serde_json::to_vec(&tests).unwrap())
                .unwrap();
        }
        let tree = db.open_tree(super::super::AUDIT_TREE).unwrap();
        for (i, entry) in audit.iter().enumerate() {
            tree.insert((i as u64).to_be_bytes(), serde_json::to_vec(entry).unwrap())
                .unwrap();
        }
        db.flush().unwrap();
    }

    fn mail_v1() -> Value {
        json!({ "schema": 1, "version": 3, "saved_at": "2026-01-01T00:00:00Z", "value": {
            "host": "old.example", "port": 587, "account": "a@example.com", "password": "plain-old-pw",
            "server_type": "SMTP", "from_address": "a@example.com", "from_name": "", "encryption": "StartTls",
            "helo_name": null, "timeout_secs": 15, "reply_to": null } })
    }

    #[tokio::test]
    async fn schema_1_plaintext_passwords_are_sealed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        old_database(dir.path(), 1, mail_v1(), None, &[]);
        let store = open(dir.path());
        let loaded = store.load_mail().await.unwrap().unwrap();
        assert_eq!(
            (loaded.value.password.expose(), loaded.version),
            ("plain-old-pw", 3)
        );
        let raw = store.sled().settings.get(MAIL_KEY).unwrap().unwrap();
        assert!(!String::from_utf8_lossy(&raw).contains("plain-old-pw"));
    }

    #[tokio::test]
    async fn schema_2_history_becomes_data() {
        let dir = tempfile::tempdir().unwrap();
        let outcome = |success: bool, stage: &str| json!({ "success": success, "stage": stage, "summary": "English", "server": "h:25", "finished_at": "t" });
        let tests = json!({ "schema": 2, "version": 0, "saved_at": "t", "value": {
            "last": outcome(false, "AuthRejected"), "last_success": outcome(true, "Accepted") } });
        let audit = [json!({ "who": "a@example.com", "at": "t", "changes": ["created the mail settings"] })];
        old_database(dir.path(), 2, mail_v1(), Some(tests), &audit);
        let store = open(dir.path());
        let history = store.load_tests().await.unwrap();
        assert_eq!(history.last.unwrap().diagnosis, Some(Diagnosis::AuthRejected));
        assert!(history.last_success.unwrap().success());
        let entries = store.recent_audit(5).await.unwrap();
        assert_eq!(
            entries[0].changes,
            vec![Change::Legacy("created the mail settings".into())]
        );
    }

    #[tokio::test]
    async fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = sled::open(dir.path()).unwrap();
            db.open_tree(META_TREE)
                .unwrap()
                .insert(SCHEMA_KEY, b"99")
                .unwrap();
            db.flush().unwrap();
        }
        assert!(matches!(
            open_with(dir.path(), secrets()),
            Err(StoreError::TooNew { found: 99, .. })
        ));
    }
}
