//! Moving from the embedded default to PostgreSQL (`mailroom migrate --to postgres://…`):
//! everything the sled database holds, read as its backend keeps it — secrets and bodies stay
//! sealed, so the same `MAILROOM_SECRET_KEY` opens them on the other side — and written into an
//! empty PostgreSQL database in one transaction ([`Postgres::restore`]): all of it, or nothing.
//!
//! sled's lock makes the copy the database's only user (a running server is refused), and its
//! open put back in the queue what the last run was sending, so no message carries a lease.

use super::{
    backoff::Failures,
    migrations::{MAIL_KEY, TESTS_KEY},
    outbox::KeyRecord, sign_ins, AdminRecord, AlertMemory, MailBody, Once, PostgresStore,
    ResetRecord, SessionRecord, Sled, SledStore, StoreError, TokenRecord,
};
use crate::outbox::{Message, MessageId};
use std::fmt;

/// Everything one store holds, as its backend keeps it.
#[derive(Default)]
pub struct Snapshot {
    /// The mail settings and the test history, as JSON records.
    pub(super) mail: Option<serde_json::Value>,
    pub(super) tests: Option<serde_json::Value>,
    /// The admins' own mail templates.
    pub(super) templates: Option<serde_json::Value>,
    /// The change history, oldest first.
    pub(super) audit: Vec<serde_json::Value>,
    pub(super) admins: Vec<AdminRecord>,
    /// Under the SHA-256 of the session's id.
    pub(super) sessions: Vec<(String, SessionRecord)>,
    pub(super) resets: Vec<(String, ResetRecord)>,
    /// Under the SHA-256 of the token.
    pub(super) tokens: Vec<(String, TokenRecord)>,
    /// Alert key, recipient, memory.
    pub(super) alerts: Vec<(String, String, AlertMemory)>,
    pub(super) sign_ins: Vec<(String, sign_ins::Stored)>,
    /// Kind, key, the sealed secret, until when.
    pub(super) once: Vec<(Once, String, String, Option<u64>)>,
    /// Back-off key, failures, last failure (Unix milliseconds).
    pub(super) backoff: Vec<(String, u32, u64)>,
    pub(super) control: Option<serde_json::Value>,
    /// Each message with its body while it is kept.
    pub(super) messages: Vec<(Message, Option<MailBody>)>,
    /// Idempotency key, the messages it queued, when.
    pub(super) keys: Vec<(String, Vec<MessageId>, u64)>,
}

/// What a copy wrote, family by family.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Copied {
    pub settings: usize,
    pub history: usize,
    pub admins: usize,
    pub sessions: usize,
    pub reset_tokens: usize,
    pub api_tokens: usize,
    pub alerts: usize,
    pub sign_ins: usize,
    pub once: usize,
    pub backoff: usize,
    pub messages: usize,
    pub bodies: usize,
    pub idempotency_keys: usize,
}

impl Snapshot {
    pub(super) fn counts(&self) -> Copied {
        Copied {
            settings: [&self.mail, &self.tests, &self.templates, &self.control].iter().filter(|v| v.is_some()).count(),
            history: self.audit.len(),
            admins: self.admins.len(),
            sessions: self.sessions.len(),
            reset_tokens: self.resets.len(),
            api_tokens: self.tokens.len(),
            alerts: self.alerts.len(),
            sign_ins: self.sign_ins.len(),
            once: self.once.len(),
            backoff: self.backoff.len(),
            messages: self.messages.len(),
            bodies: self.messages.iter().filter(|(_, body)| body.is_some()).count(),
            idempotency_keys: self.keys.len(),
        }
    }
}

impl fmt::Display for Copied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows = [
            ("settings records (mail, tests, templates, outbox control)", self.settings),
            ("change history entries", self.history),
            ("admins", self.admins),
            ("sessions", self.sessions),
            ("password reset tokens", self.reset_tokens),
            ("API tokens", self.api_tokens),
            ("alert memories", self.alerts),
            ("OAuth2 sign-ins under way", self.sign_ins),
            ("one-time secrets", self.once),
            ("login back-off counters", self.backoff),
            ("outbox messages (with their attempts)", self.messages),
            ("message bodies still kept", self.bodies),
            ("idempotency keys", self.idempotency_keys),
        ];
        for (what, n) in rows {
            writeln!(f, "{n:>8}  {what}")?;
        }
        Ok(())
    }
}

/// Why a copy did not happen.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("the PostgreSQL database is not empty ({what}); copy only into a new, empty database (nothing was written)")]
    NotEmpty { what: String },
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// Copies everything in `from` into `to`, which must hold nothing yet (its schema and key check
/// aside); what it copied.
pub async fn sled_to_postgres(from: &SledStore, to: &PostgresStore) -> Result<Copied, CopyError> {
    let sled = from.backend().clone();
    let snapshot = sled.blocking(|db| db.snapshot()).await?;
    to.backend().restore(&snapshot).await
}

fn text(bytes: &[u8]) -> Result<String, StoreError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| StoreError::Corrupt("a key is not text".into()))
}

impl Sled {
    /// Reads every tree.
    pub(super) fn snapshot(&self) -> Result<Snapshot, StoreError> {
        let json =
            |bytes: &[u8]| -> Result<serde_json::Value, StoreError> { Ok(serde_json::from_slice(bytes)?) };
        let mut s = Snapshot::default();
        s.mail = self.settings.get(MAIL_KEY)?.map(|b| json(&b)).transpose()?;
        s.tests = self.settings.get(TESTS_KEY)?.map(|b| json(&b)).transpose()?;
        s.templates = self.settings.get(super::templates::TEMPLATES_KEY)?.map(|b| json(&b)).transpose()?;
        for kv in self.audit.iter() {
            s.audit.push(json(&kv?.1)?);
        }
        for kv in self.admins.iter() {
            s.admins.push(serde_json::from_slice(&kv?.1)?);
        }
        for kv in self.sessions.iter() {
            let (key, value) = kv?;
            s.sessions.push((text(&key)?, serde_json::from_slice(&value)?));
        }
        for kv in self.resets.iter() {
            let (key, value) = kv?;
            s.resets.push((text(&key)?, serde_json::from_slice(&value)?));
        }
        for kv in self.api_tokens.iter() {
            let (key, value) = kv?;
            s.tokens.push((text(&key)?, serde_json::from_slice(&value)?));
        }
        for kv in self.alerts.iter() {
            let (key, value) = kv?;
            let at = key
                .iter()
                .position(|&b| b == 0)
                .ok_or_else(|| StoreError::Corrupt("an alert's key".into()))?;
            s.alerts.push((
                text(&key[..at])?,
                text(&key[at + 1..])?,
                serde_json::from_slice(&value)?,
            ));
        }
        for kv in self.sign_ins.iter() {
            let (key, value) = kv?;
            s.sign_ins.push((text(&key)?, serde_json::from_slice(&value)?));
        }
        for kv in self.once.iter() {
            let (key, value) = kv?;
            let (kind, key) =
                Once::of_key(&key).ok_or_else(|| StoreError::Corrupt("a one-time secret's key".into()))?;
            let stored: super::once::Stored = serde_json::from_slice(&value)?;
            s.once.push((kind, text(key)?, stored.sealed, stored.expires_at));
        }
        for kv in self.backoff.iter() {
            let (key, value) = kv?;
            let f: Failures = serde_json::from_slice(&value)?;
            s.backoff.push((text(&key)?, f.count, f.last_ms));
        }
        s.control = self
            .control
            .get(super::control::KEY)?
            .map(|b| json(&b))
            .transpose()?;
        for kv in self.outbox.iter() {
            let (key, value) = kv?;
            let body = self
                .outbox_bodies
                .get(&key)?
                .map(|b| Sled::decode_body(&b))
                .transpose()?;
            s.messages.push((serde_json::from_slice(&value)?, body));
        }
        for kv in self.outbox_keys.iter() {
            let (key, value) = kv?;
            let k: KeyRecord = serde_json::from_slice(&value)?;
            s.keys.push((text(&key)?, k.ids, k.at));
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_store::{message, open, secrets, server, test_postgres_options};
    use super::super::{
        AlertBatch, ClaimRequest, ControlEvent, Enqueued, Lease, OutboxStore, Outcome, Pause, PauseCause, SharedStore, SignInRecord,
        Store, TokenStore,
    };
    use super::*;
    use crate::history::TestOutcome;
    use crate::outbox::{Attempt, Priority};
    use std::sync::Arc;

    const NOW: u64 = 1_800_000_000;

    fn attempt(code: u16) -> Attempt {
        Attempt {
            transcript: Vec::new(),
            at: "2027-01-15T08:00:00Z".into(),
            step: "data".into(),
            code: Some(code),
            enhanced_status: None,
            text: format!("{code} reply"),
        }
    }

    /// Something of every family, through the traits.
    async fn populate(store: &dyn Store) -> Vec<MessageId> {
        let first = store.save_mail(0, server("smtp.one.example"), "a@example.com").await.unwrap();
        store.save_mail(first.version, server("smtp.two.example"), "b@example.com").await.unwrap();
        store
            .record_test(TestOutcome { diagnosis: None, server: "smtp.two.example:587".into(), finished_at: "t1".into() })
            .await
            .unwrap();
        let mut mine = crate::templates::default(crate::templates::Kind::PasswordReset, crate::templates::Lang::ZhCn);
        mine.subject = "重置密码".into();
        store.save_template(crate::templates::Kind::PasswordReset, crate::templates::Lang::ZhCn, 0, Some(mine), "a@example.com").await.unwrap();
        store
            .put_admin(AdminRecord {
                email: "Admin@Example.com".into(),
                password_hash: "$argon2id$v=19$stand-in".into(),
                created_at: "2026-12-01T00:00:00Z".into(),
                language: Some("zh-CN".into()),
            })
            .await
            .unwrap();
        let session = SessionRecord { email: "admin@example.com".into(), created_at: NOW, last_seen: NOW + 5 };
        store.put_session("session-hash", &session).await.unwrap();
        store.put_reset("reset-hash", &ResetRecord { email: "admin@example.com".into(), expires_at: NOW + 3600 }).await.unwrap();
        store.create_token("token-hash-1", "ci", "command line", NOW).await.unwrap().unwrap();
        store.create_token("token-hash-2", "deploy", "admin@example.com", NOW).await.unwrap().unwrap();
        store.touch_token("token-hash-1", NOW + 9).await.unwrap();
        let to = ["one@example.com", "two@example.com", "three@example.com"];
        let Enqueued::New(ids) = store
            .enqueue(to.iter().map(|t| message(t, Priority::Normal)).collect(), Some("key-1"), NOW)
            .await
            .unwrap()
        else {
            panic!("a new key queues")
        };
        let lease = Lease { owner: 7, until: NOW + 60 };
        let request = ClaimRequest { settings_version: 2, ..ClaimRequest::any(lease, NOW, 2) };
        let claimed = store.claim(request).await.unwrap().unwrap();
        assert_eq!(claimed.len(), 2);
        let outcomes = vec![
            (claimed[0].message.id, Outcome::Sent(attempt(250))),
            (claimed[1].message.id, Outcome::Deferred { attempt: attempt(451), until: NOW + 600 }),
        ];
        store.finish_all(7, outcomes, &[]).await.unwrap();
        let alert = AlertBatch {
            key: "disk full".into(),
            firing: true,
            repeat_secs: 3600,
            digest: 42,
            messages: vec![message("ops@example.com", Priority::Alert)],
        };
        store.enqueue_alert(alert, NOW).await.unwrap();
        let sign_in = SignInRecord {
            admin: "admin@example.com".into(),
            app: "microsoft".into(),
            verifier: "the-pkce-verifier".into(),
            started_at: NOW,
        };
        store.start_sign_in("state-hash", &sign_in).await.unwrap().unwrap();
        store.put_once(Once::CreatedToken, "session-hash", "the-new-token", Some(NOW + 60)).await.unwrap();
        store.put_once(Once::SetupLink, "setup-hash", "", None).await.unwrap();
        assert_eq!(store.backoff_attempt(&["ip:192.0.2.1".into()], NOW * 1000).await.unwrap(), Ok(()));
        store
            .change_control(&[ControlEvent::Paused(Pause { reason: "the password was refused".into(), settings_version: 2, cause: PauseCause::LoginRefused })])
            .await
            .unwrap();
        ids
    }

    /// Everything the traits read without changing anything.
    async fn read(store: &dyn Store, ids: &[MessageId]) -> String {
        let mut seen = format!(
            "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?} {:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n",
            store.load_mail().await.unwrap(),
            store.load_tests().await.unwrap(),
            store.load_templates().await.unwrap(),
            store.recent_audit(100).await.unwrap(),
            store.get_admin("admin@example.com").await.unwrap().map(|a| (a.email, a.password_hash, a.created_at, a.language)),
            store.get_session("session-hash").await.unwrap(),
            store.get_reset("reset-hash").await.unwrap(),
            store.tokens().await.unwrap(),
            store.alert_memory("disk full", "ops@example.com").await.unwrap(),
            store.outbox_control().await.unwrap(),
            store.recent_messages(100).await.unwrap(),
            store.count_by_state().await.unwrap(),
        );
        for id in ids {
            seen += &format!("body of {id}: {}\n", store.has_body(*id).await.unwrap());
        }
        seen += &format!(
            "{:?}\n{:?}\n",
            store.peek_once(Once::CreatedToken, "session-hash", NOW).await.unwrap(),
            store.peek_once(Once::SetupLink, "setup-hash", NOW).await.unwrap(),
        );
        seen
    }

    /// What the traits answer when used: the same on both sides after a copy.
    async fn used(store: &dyn Store) -> String {
        let claim = ClaimRequest { settings_version: 2, ..ClaimRequest::any(Lease { owner: 9, until: NOW + 60 }, NOW + 1, 10) };
        format!(
            "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n",
            store.take_sign_in("state-hash", NOW + 1).await.unwrap(),
            store.backoff_attempt(&["ip:192.0.2.1".into()], NOW * 1000 + 1).await.unwrap().is_err(),
            store.enqueue(vec![message("one@example.com", Priority::Normal)], Some("key-1"), NOW + 1).await.unwrap(),
            store.claim(claim).await.unwrap(),
            store.take_once(Once::CreatedToken, "session-hash", NOW + 1).await.unwrap(),
        )
    }

    #[tokio::test]
    async fn a_populated_sled_database_reads_back_the_same_through_postgresql() {
        let dir = tempfile::tempdir().unwrap();
        let sled = open(dir.path());
        let ids = populate(&sled).await;
        let all: Vec<MessageId> = (ids[0]..ids[0] + 10).collect();
        let before = read(&sled, &all).await;
        assert!(before.contains("the password was refused") && before.contains("smtp.two.example"), "{before}");

        let url = testpg::Cluster::shared().database();
        let pg = PostgresStore::connect(&url, secrets(), test_postgres_options()).await.unwrap();
        let copied = sled_to_postgres(&sled, &pg).await.unwrap();
        assert_eq!(
            copied,
            Copied {
                settings: 4,
                history: 2 + 1 + 2,
                admins: 1,
                sessions: 1,
                reset_tokens: 1,
                api_tokens: 2,
                alerts: 1,
                sign_ins: 1,
                once: 2,
                backoff: 1,
                messages: 4,
                bodies: 4,
                idempotency_keys: 1,
            }
        );
        assert!(copied.to_string().contains("       4  outbox messages"), "{copied}");
        assert_eq!(read(&pg, &all).await, before, "every record reads back the same");
        // Used, each side answers the same: the sign-in and the secret taken once, the
        // back-off counted, the idempotency key known, the same two messages due with their
        // bodies (unsealed with the same key).
        let on_sled = used(&sled).await;
        assert!(on_sled.contains("hello three@example.com") && on_sled.contains("hello ops@example.com"), "{on_sled}");
        assert_eq!(used(&pg).await, on_sled);

        // New records on PostgreSQL do not reuse copied ids.
        let Enqueued::New(new) = pg.enqueue(vec![message("four@example.com", Priority::Normal)], None, NOW).await.unwrap() else {
            panic!("queued")
        };
        let copied_max = sled.recent_messages(100).await.unwrap().iter().map(|m| m.id).max().unwrap();
        assert!(new[0] > copied_max, "{} after {copied_max}", new[0]);
        let token = pg.create_token("token-hash-3", "third", "command line", NOW).await.unwrap().unwrap();
        assert!(sled.tokens().await.unwrap().iter().all(|t| t.id < token.id));

        // A second copy finds the database in use and writes nothing.
        let shared: SharedStore = Arc::new(pg);
        let count = shared.recent_messages(100).await.unwrap().len();
        let again = sled_to_postgres(&sled, &PostgresStore::connect(&url, secrets(), test_postgres_options()).await.unwrap()).await;
        assert!(matches!(again, Err(CopyError::NotEmpty { .. })), "{again:?}");
        assert!(again.unwrap_err().to_string().contains("not empty"));
        assert_eq!(shared.recent_messages(100).await.unwrap().len(), count);
    }

    #[tokio::test]
    async fn a_database_sealed_with_another_key_is_refused_before_the_copy() {
        let dir = tempfile::tempdir().unwrap();
        let sled = open(dir.path());
        populate(&sled).await;
        let url = testpg::Cluster::shared().database();
        drop(PostgresStore::connect(&url, crate::secrets::SecretBox::from_key([9; 32]), test_postgres_options()).await.unwrap());
        match PostgresStore::connect(&url, secrets(), test_postgres_options()).await {
            Err(StoreError::WrongKey) => {}
            other => panic!("expected WrongKey, got {:?}", other.err()),
        }
    }
}
