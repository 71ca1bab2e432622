//! The mail settings (one versioned record, its password sealed) and the test history.

use super::space::Need;
use super::{
    audit::changes,
    migrations::{MAIL_KEY, SCHEMA_VERSION, TESTS_KEY},
    tx_error, Sled, SledBackend, StoreError, Versioned,
};
use crate::domain::{Mailbox, MailServer, MailServerSettings, Password};
use crate::history::{AuditEntry, TestHistory, TestOutcome};
use serde::{Deserialize, Serialize};
use sled::Transactional;

#[async_trait::async_trait]
pub trait MailSettingsStore {
    async fn load_mail(&self) -> Result<Option<Versioned<MailServer>>, StoreError>;

    /// Writes `value` if the stored version still equals `expected` (0 = nothing stored yet),
    /// records who changed what in the change history in the same transaction, flushes, and
    /// returns what was written.
    async fn save_mail(
        &self,
        expected: u64,
        value: MailServer,
        who: &str,
    ) -> Result<Versioned<MailServer>, StoreError>;

    /// Connects `mailbox` to the saved settings as a new version (with its change-history
    /// entry), if they still sign in as a mailbox of the app it signed in through; a
    /// [`StoreError::Conflict`] if they no longer do. Flushed.
    async fn connect_mailbox(&self, mailbox: Mailbox, who: &str) -> Result<Versioned<MailServer>, StoreError>;

    /// Disconnects the connected mailbox as a new version (with its change-history entry);
    /// `None` when none was connected. Flushed.
    async fn disconnect_mailbox(&self, who: &str) -> Result<Option<Versioned<MailServer>>, StoreError>;

    /// Replaces the connected mailbox's refresh token `old` with `new` (a provider that rotates
    /// them), keeping the version: not a change of the settings. False when `old` is no longer
    /// the stored one. Flushed.
    async fn rotate_refresh_token(&self, old: &Password, new: Password) -> Result<bool, StoreError>;

    async fn load_tests(&self) -> Result<TestHistory, StoreError>;

    /// Records a test's outcome (flushed before returning).
    async fn record_test(&self, outcome: TestOutcome) -> Result<TestHistory, StoreError>;
}

#[async_trait::async_trait]
impl MailSettingsStore for SledBackend {
    async fn load_mail(&self) -> Result<Option<Versioned<MailServer>>, StoreError> {
        self.blocking(move |db| db.load_mail()).await
    }

    async fn save_mail(&self, expected: u64, value: MailServer, who: &str) -> Result<Versioned<MailServer>, StoreError> {
        let who = who.to_owned();
        self.blocking(move |db| db.save_mail(expected, value, &who)).await
    }

    async fn connect_mailbox(&self, mailbox: Mailbox, who: &str) -> Result<Versioned<MailServer>, StoreError> {
        let who = who.to_owned();
        self.blocking(move |db| db.connect_mailbox(mailbox, &who)).await
    }

    async fn disconnect_mailbox(&self, who: &str) -> Result<Option<Versioned<MailServer>>, StoreError> {
        let who = who.to_owned();
        self.blocking(move |db| db.disconnect_mailbox(&who)).await
    }

    async fn rotate_refresh_token(&self, old: &Password, new: Password) -> Result<bool, StoreError> {
        let old = old.clone();
        self.blocking(move |db| db.rotate_refresh_token(&old, new)).await
    }

    async fn load_tests(&self) -> Result<TestHistory, StoreError> {
        self.blocking(move |db| db.load_tests()).await
    }

    async fn record_test(&self, outcome: TestOutcome) -> Result<TestHistory, StoreError> {
        self.blocking(move |db| db.record_test(outcome)).await
    }
}

/// The mail record as it sits in sled: its secrets as the layer above sealed them.
#[derive(Serialize, Deserialize)]
struct StoredMail {
    #[serde(flatten)]
    settings: MailServerSettings,
    password_sealed: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_secret_sealed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mailbox: Option<StoredMailbox>,
}

/// A connected mailbox as it sits in sled: its refresh token as the layer above sealed it.
#[derive(Serialize, Deserialize)]
struct StoredMailbox {
    account: String,
    app: String,
    connected_at: String,
    connected_by: String,
    refresh_token_sealed: String,
}

impl Sled {
    /// Writes what `next` makes of the current record (nothing when it answers `None`) as the
    /// next version, with its change-history entry, in one transaction; then flushes.
    fn update_mail(
        &self,
        who: &str,
        next: impl Fn(Option<&Versioned<MailServer>>) -> Result<Option<MailServer>, StoreError>,
    ) -> Result<Option<Versioned<MailServer>>, StoreError> {
        self.space.admit(Need::Grow)?;
        use sled::transaction::ConflictableTransactionError::Abort;
        let audit_id = self.db.generate_id()?;
        let record = (&self.settings, &self.audit)
            .transaction(|(settings, audit)| {
                let current = match settings.get(MAIL_KEY)? {
                    Some(bytes) => Some(Self::decode_mail(&bytes).map_err(Abort)?),
                    None => None,
                };
                let Some(value) = next(current.as_ref()).map_err(Abort)? else {
                    return Ok(None);
                };
                let (record, entry) = next_version(current.as_ref(), value, who);
                settings.insert(MAIL_KEY, Self::encode_mail(&record).map_err(Abort)?)?;
                let entry = serde_json::to_vec(&entry).map_err(|e| Abort(StoreError::from(e)))?;
                audit.insert(&audit_id.to_be_bytes(), entry)?;
                Ok(Some(record))
            })
            .map_err(tx_error)?;
        if record.is_some() {
            self.prune_audit()?;
            self.sync()?;
            // New settings may lift a pause; queued mail waits for them.
            self.signal_work();
        }
        Ok(record)
    }

    pub(super) fn decode_mail(bytes: &[u8]) -> Result<Versioned<MailServer>, StoreError> {
        let stored: Versioned<StoredMail> = serde_json::from_slice(bytes)?;
        let password = Password::new(stored.value.password_sealed);
        let client_secret = match &stored.value.client_secret_sealed {
            Some(sealed) => Password::new(sealed.clone()),
            None => Password::default(),
        };
        let mailbox = match stored.value.mailbox {
            Some(m) => Some(Mailbox {
                refresh_token: Password::new(m.refresh_token_sealed),
                account: m.account,
                app: m.app,
                connected_at: m.connected_at,
                connected_by: m.connected_by,
            }),
            None => None,
        };
        Ok(Versioned {
            schema: stored.schema,
            version: stored.version,
            saved_at: stored.saved_at,
            value: MailServer {
                settings: stored.value.settings,
                password,
                client_secret,
                mailbox,
            },
        })
    }

    pub(super) fn encode_mail(rec: &Versioned<MailServer>) -> Result<Vec<u8>, StoreError> {
        let stored = Versioned {
            schema: rec.schema,
            version: rec.version,
            saved_at: rec.saved_at.clone(),
            value: StoredMail {
                settings: rec.value.settings.clone(),
                password_sealed: rec.value.password.expose().to_owned(),
                client_secret_sealed: (!rec.value.client_secret.is_empty())
                    .then(|| rec.value.client_secret.expose().to_owned()),
                mailbox: rec.value.mailbox.as_ref().map(|m| StoredMailbox {
                    account: m.account.clone(),
                    app: m.app.clone(),
                    connected_at: m.connected_at.clone(),
                    connected_by: m.connected_by.clone(),
                    refresh_token_sealed: m.refresh_token.expose().to_owned(),
                }),
            },
        };
        Ok(serde_json::to_vec(&stored)?)
    }
}

impl Sled {
    pub(crate) fn load_mail(&self) -> Result<Option<Versioned<MailServer>>, StoreError> {
        self.settings
            .get(MAIL_KEY)?
            .map(|b| Self::decode_mail(&b))
            .transpose()
    }

    pub(crate) fn save_mail(
        &self,
        expected: u64,
        value: MailServer,
        who: &str,
    ) -> Result<Versioned<MailServer>, StoreError> {
        let written = self.update_mail(who, |current| saving(expected, &value, current))?;
        // `saving` always writes; `None` cannot come back.
        written.ok_or(StoreError::Conflict { current: expected, saved_at: String::new() })
    }

    pub(crate) fn connect_mailbox(&self, mailbox: Mailbox, who: &str) -> Result<Versioned<MailServer>, StoreError> {
        let written = self.update_mail(who, |current| connecting(&mailbox, current))?;
        written.ok_or(StoreError::Conflict { current: 0, saved_at: String::new() })
    }

    pub(crate) fn disconnect_mailbox(&self, who: &str) -> Result<Option<Versioned<MailServer>>, StoreError> {
        self.update_mail(who, disconnecting)
    }

    pub(crate) fn rotate_refresh_token(&self, old: &Password, new: Password) -> Result<bool, StoreError> {
        self.space.admit(Need::Upkeep)?;
        use sled::transaction::ConflictableTransactionError::Abort;
        let rotated = self
            .settings
            .transaction(|settings| {
                let Some(bytes) = settings.get(MAIL_KEY)? else { return Ok(false) };
                let mut record = Self::decode_mail(&bytes).map_err(Abort)?;
                match record.value.mailbox.as_mut() {
                    Some(m) if &m.refresh_token == old => m.refresh_token = new.clone(),
                    _ => return Ok(false),
                }
                settings.insert(MAIL_KEY, Self::encode_mail(&record).map_err(Abort)?)?;
                Ok(true)
            })
            .map_err(tx_error)?;
        if rotated {
            self.sync()?;
        }
        Ok(rotated)
    }

    pub(crate) fn load_tests(&self) -> Result<TestHistory, StoreError> {
        match self.settings.get(TESTS_KEY)? {
            Some(bytes) => Ok(serde_json::from_slice::<Versioned<TestHistory>>(&bytes)?.value),
            None => Ok(TestHistory::default()),
        }
    }

    pub(crate) fn record_test(&self, outcome: TestOutcome) -> Result<TestHistory, StoreError> {
        self.space.admit(Need::Grow)?;
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

/// A save's next record (any backend): `value` if the stored version is still `expected`.
pub(super) fn saving(
    expected: u64,
    value: &MailServer,
    current: Option<&Versioned<MailServer>>,
) -> Result<Option<MailServer>, StoreError> {
    let (version, saved_at) = current.map_or((0, String::new()), |c| (c.version, c.saved_at.clone()));
    if version != expected {
        return Err(StoreError::Conflict { current: version, saved_at });
    }
    // The same connection keeps the stored refresh token: a rotation may have replaced it
    // after this value was built from an older load.
    let mut value = value.clone();
    if let (Some(new), Some(stored)) = (value.mailbox.as_mut(), current.and_then(|c| c.value.mailbox.as_ref())) {
        if (&new.app, &new.account, &new.connected_at) == (&stored.app, &stored.account, &stored.connected_at) {
            new.refresh_token = stored.refresh_token.clone();
        }
    }
    Ok(Some(value))
}

/// `value` as the version after `current`, saved now, and its change-history entry.
pub(super) fn next_version(
    current: Option<&Versioned<MailServer>>,
    value: MailServer,
    who: &str,
) -> (Versioned<MailServer>, AuditEntry) {
    let record = Versioned {
        schema: SCHEMA_VERSION,
        version: current.map_or(0, |c| c.version) + 1,
        saved_at: crate::clock::now_rfc3339(),
        value,
    };
    let entry = AuditEntry {
        who: who.to_string(),
        at: record.saved_at.clone(),
        changes: changes(current.map(|c| &c.value), &record.value),
    };
    (record, entry)
}

/// A connection's next record: the mailbox connected, if the settings still sign in through
/// its app.
pub(super) fn connecting(mailbox: &Mailbox, current: Option<&Versioned<MailServer>>) -> Result<Option<MailServer>, StoreError> {
    let conflict = || StoreError::Conflict {
        current: current.map_or(0, |c| c.version),
        saved_at: current.map(|c| c.saved_at.clone()).unwrap_or_default(),
    };
    let current = current.ok_or_else(conflict)?;
    if current.value.mailbox_app().as_ref() != Some(&mailbox.app) {
        return Err(conflict());
    }
    Ok(Some(MailServer { mailbox: Some(mailbox.clone()), ..current.value.clone() }))
}

/// A disconnection's next record: none when no mailbox is connected.
pub(super) fn disconnecting(current: Option<&Versioned<MailServer>>) -> Result<Option<MailServer>, StoreError> {
    Ok(current
        .filter(|c| c.value.mailbox.is_some())
        .map(|c| MailServer { mailbox: None, ..c.value.clone() }))
}

#[cfg(test)]
mod tests {
    use super::super::{audit::changes, test_store::*, AuditStore};
    use super::*;
    use crate::domain::{test_forms::valid_form, MailServerForm};
    use crate::secrets::SecretBox;


    #[tokio::test]
    async fn save_then_load_round_trips_and_survives_reopen() {
        let b = backend();
        {
            let store = b.open().await;
            assert_eq!(store.load_mail().await.unwrap(), None);
            let saved = store
                .save_mail(0, server("smtp.example.com"), "admin@example.com").await
                .unwrap();
            assert_eq!(saved.version, 1);
            assert_eq!(saved.schema, SCHEMA_VERSION);
        }
        let store = b.open().await;
        let loaded = store.load_mail().await.unwrap().unwrap();
        assert_eq!(loaded.value, server("smtp.example.com"));
        assert_eq!(loaded.version, 1);
    }

    #[tokio::test]
    async fn the_password_is_sealed_in_the_database_and_needs_the_key() {
        let dir = tempfile::tempdir().unwrap();
        {
            open(dir.path())
                .save_mail(0, server("smtp.example.com"), "a")
                .await
                .unwrap();
        }
        let raw = open(dir.path()).sled().settings.get(MAIL_KEY).unwrap().unwrap();
        assert!(!String::from_utf8_lossy(&raw).contains("secret-Pa55"));
        let wrong = open_with(dir.path(), SecretBox::from_key([4; 32])).unwrap();
        assert!(matches!(wrong.load_mail().await, Err(StoreError::Secret(_))));
    }

    /// Saved settings that sign in as a mailbox of app "app-1".
    fn mailbox_server() -> MailServer {
        let form = MailServerForm {
            authentication: "oauth2".into(),
            oauth_grant: "mailbox".into(),
            oauth_token_url: "https://oauth2.googleapis.com/token".into(),
            oauth_auth_url: "https://accounts.google.com/o/oauth2/v2/auth".into(),
            oauth_client_id: "app-1".into(),
            oauth_client_secret: "client-s3cret".into(),
            oauth_scopes: "https://mail.google.com/".into(),
            ..valid_form()
        };
        MailServer::from_form(MailServerSettings::parse(&form, None).unwrap(), None).unwrap()
    }

    fn mailbox(app: String, refresh: &str) -> Mailbox {
        Mailbox {
            account: "alerts@example.com".into(),
            app,
            connected_at: "2026-11-27T10:00:00Z".into(),
            connected_by: "admin@example.com".into(),
            refresh_token: Password::new(refresh.into()),
        }
    }

    #[tokio::test]
    async fn a_connected_mailbox_is_a_version_sealed_audited_rotated_and_disconnected() {
        use crate::history::Change;
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let app = mailbox_server().mailbox_app().unwrap();
        assert!(matches!(store.connect_mailbox(mailbox(app.clone(), "rt-1"), "a").await, Err(StoreError::Conflict { .. })), "nothing saved");
        store.save_mail(0, mailbox_server(), "admin@example.com").await.unwrap();
        assert!(
            matches!(store.connect_mailbox(mailbox("other app".into(), "rt-1"), "a").await, Err(StoreError::Conflict { .. })),
            "another app"
        );
        let connected = store.connect_mailbox(mailbox(app.clone(), "rt-1"), "admin@example.com").await.unwrap();
        assert_eq!(connected.version, 2);
        assert_eq!(store.recent_audit(1).await.unwrap()[0].changes, vec![Change::MailboxConnected { account: "alerts@example.com".into() }]);
        let raw = String::from_utf8_lossy(&store.sled().settings.get(MAIL_KEY).unwrap().unwrap()).to_string();
        assert!(!raw.contains("rt-1") && !raw.contains("client-s3cret"), "secrets sealed: {raw}");

        // A rotated refresh token replaces the stored one without a new version or entry.
        assert!(!store.rotate_refresh_token(&Password::new("rt-0".into()), Password::new("rt-2".into())).await.unwrap());
        assert!(store.rotate_refresh_token(&Password::new("rt-1".into()), Password::new("rt-2".into())).await.unwrap());
        let loaded = store.load_mail().await.unwrap().unwrap();
        assert_eq!((loaded.version, loaded.value.mailbox.as_ref().unwrap().refresh_token.expose()), (2, "rt-2"));
        assert_eq!(store.recent_audit(10).await.unwrap().len(), 2);

        // A save built before that rotation keeps the stored (newer) token.
        let mut stale = loaded.value.clone();
        stale.mailbox.as_mut().unwrap().refresh_token = Password::new("rt-1".into());
        let saved = store.save_mail(2, stale, "admin@example.com").await.unwrap();
        assert_eq!((saved.version, saved.value.mailbox.unwrap().refresh_token.expose()), (3, "rt-2"));
        assert_eq!(store.load_mail().await.unwrap().unwrap().value.mailbox.unwrap().refresh_token.expose(), "rt-2");
        let loaded = store.load_mail().await.unwrap().unwrap();

        // A save of the same app keeps the mailbox; another app drops it, in the history.
        let same = MailServer::from_form(
            MailServerSettings::parse(&mailbox_server().settings.to_form(), Some(&loaded.value.settings.login())).unwrap(),
            Some(&store.load_mail().await.unwrap().unwrap().value),
        )
        .unwrap();
        assert!(same.mailbox.is_some());
        let mut other = mailbox_server().settings.to_form();
        other.oauth_client_id = "app-2".into();
        other.oauth_client_secret = "x".into();
        let other = MailServer::from_form(MailServerSettings::parse(&other, None).unwrap(), Some(&same)).unwrap();
        assert_eq!(other.mailbox, None);
        assert!(changes(Some(&same), &other).contains(&Change::MailboxDisconnected { account: "alerts@example.com".into() }));

        // Signing in again as the same account is one "connected", whatever the token.
        let mut again = same.clone();
        again.mailbox = Some(Mailbox { connected_at: "2026-11-28T09:00:00Z".into(), ..mailbox(app.clone(), "rt-9") });
        assert_eq!(changes(Some(&same), &again), vec![Change::MailboxConnected { account: "alerts@example.com".into() }]);
        let mut rotated = same.clone();
        rotated.mailbox.as_mut().unwrap().refresh_token = Password::new("rt-10".into());
        assert_eq!(changes(Some(&same), &rotated), vec![Change::Unchanged], "a rotation is no change");

        let gone = store.disconnect_mailbox("admin@example.com").await.unwrap().unwrap();
        assert_eq!((gone.version, gone.value.mailbox), (4, None));
        assert_eq!(store.recent_audit(1).await.unwrap()[0].changes, vec![Change::MailboxDisconnected { account: "alerts@example.com".into() }]);
        assert!(store.disconnect_mailbox("a").await.unwrap().is_none(), "nothing to disconnect: no version");
    }

    #[tokio::test]
    async fn stale_version_is_a_conflict_and_changes_nothing() {
        let b = backend();
        let store = b.open().await;
        store.save_mail(0, server("a.example"), "x").await.unwrap();
        store.save_mail(1, server("b.example"), "x").await.unwrap();
        let err = store.save_mail(1, server("c.example"), "x").await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict { current: 2, .. }), "{err:?}");
        assert_eq!(store.load_mail().await.unwrap().unwrap().value, server("b.example"));
        assert_eq!(
            store.recent_audit(10).await.unwrap().len(),
            2,
            "a refused save is not audited"
        );
    }

    #[tokio::test]
    async fn test_history_keeps_the_last_and_the_last_success() {
        let b = backend();
        let store = b.open().await;
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
        store.record_test(ok.clone()).await.unwrap();
        let history = store.record_test(failed.clone()).await.unwrap();
        assert_eq!((history.last, history.last_success), (Some(failed), Some(ok)));
        drop(store);
        assert_eq!(
            b.open().await
                .load_tests().await
                .unwrap()
                .last_success
                .unwrap()
                .finished_at,
            "t1",
            "kept on disk"
        );
    }
}
