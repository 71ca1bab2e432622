//! Sealing above the backend: a [`Store`] over any backend that seals every secret and every
//! mail body on the way in and opens them on the way out, once, for every backend. A backend
//! stores what it is handed as opaque text: the SMTP password, the OAuth2 client secret and a
//! mailbox's refresh token, a secret used or shown once, a sign-in's PKCE verifier, and a
//! message's body (its text and HTML together, as one sealed string in the body's `text`, with
//! no HTML). The types are the same on both sides; only what is in them differs.
//!
//! A sealed value is different each time (a fresh nonce), so the two places where a backend
//! compares secrets are given the stored sealed text back: a save that keeps the password
//! hands the backend the sealed password it already has (the change history compares them),
//! and a refresh token's rotation hands it the sealed token it holds, once this layer has
//! checked that it opens to the one the caller means (the backend's compare-and-swap is then
//! on exact text).

use super::{
    AdminRecord, AdminStore, AlertBatch, AlertFate, AlertMemory, AlertStore, AuditStore, BackoffStore,
    ClaimRequest, Claimed, ControlEvent, ControlStore, Enqueued, Lease, MailBody, MailSettingsStore,
    NewMessage, Once, OnceStore, OutboxControl, OutboxStore, Outcome, ResetRecord, SessionLifetime,
    SessionRecord, SessionStore, SignInRecord, SignInStore, Store, StoreError, TokenRecord, TokenRefusal,
    TemplateStore, SavedTemplate, SavedTemplates, TokenStore, Versioned,
};
use crate::domain::{MailServer, Mailbox, Password};
use crate::history::{AuditEntry, TestHistory, TestOutcome};
use crate::outbox::{Cursor, Message, MessageFilter, MessageId, MessagePage, Retry, State};
use crate::secrets::SecretBox;

/// `backend` with its secrets and bodies sealed by `secrets`. Cheap to clone when the backend is.
#[derive(Clone)]
pub struct Sealing<B> {
    backend: B,
    secrets: SecretBox,
    /// [`Store::local_changes`].
    changes: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<B> Sealing<B> {
    pub fn new(backend: B, secrets: SecretBox) -> Self {
        Self { backend, secrets, changes: Default::default() }
    }

    /// Counts a write that [`Store::local_changes`] covers, once it is made (or failed: a
    /// cache read again for nothing costs a read).
    fn changed<T>(&self, result: T) -> T {
        self.changes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        result
    }

    /// The backend underneath, which sees only sealed text.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    fn seal_secret(&self, secret: &Password) -> Password {
        Password::new(self.secrets.seal(secret.expose()))
    }

    fn open_secret(&self, sealed: &Password) -> Result<Password, StoreError> {
        Ok(Password::new(self.secrets.open(sealed.expose())?))
    }

    /// `value` as the backend keeps it: each secret sealed, or, where `stored` (the record the
    /// backend has, sealed) holds the same secret, its sealed text as it is.
    fn seal_server(&self, value: MailServer, stored: Option<&MailServer>) -> Result<MailServer, StoreError> {
        let keep = |new: &Password, old: Option<&Password>| -> Result<Password, StoreError> {
            if let Some(old) = old {
                if self.open_secret(old)? == *new {
                    return Ok(old.clone());
                }
            }
            Ok(self.seal_secret(new))
        };
        let password = keep(&value.password, stored.map(|s| &s.password))?;
        let client_secret = if value.client_secret.is_empty() {
            Password::default()
        } else {
            keep(
                &value.client_secret,
                stored.map(|s| &s.client_secret).filter(|s| !s.is_empty()),
            )?
        };
        let mailbox = value.mailbox.map(|m| self.seal_mailbox(m));
        Ok(MailServer {
            settings: value.settings,
            password,
            client_secret,
            mailbox,
        })
    }

    fn seal_mailbox(&self, mailbox: Mailbox) -> Mailbox {
        Mailbox {
            refresh_token: self.seal_secret(&mailbox.refresh_token),
            ..mailbox
        }
    }

    fn open_server(&self, stored: Versioned<MailServer>) -> Result<Versioned<MailServer>, StoreError> {
        let value = stored.value;
        let client_secret = if value.client_secret.is_empty() {
            Password::default()
        } else {
            self.open_secret(&value.client_secret)?
        };
        let mailbox = match value.mailbox {
            Some(m) => Some(Mailbox {
                refresh_token: self.open_secret(&m.refresh_token)?,
                ..m
            }),
            None => None,
        };
        Ok(Versioned {
            value: MailServer {
                settings: value.settings,
                password: self.open_secret(&value.password)?,
                client_secret,
                mailbox,
            },
            ..stored
        })
    }

    fn seal_body(&self, body: &MailBody) -> Result<MailBody, StoreError> {
        Ok(MailBody {
            text: self.secrets.seal(&serde_json::to_string(body)?),
            html: None,
            thread: None,
            raw: None,
        })
    }

    fn open_body(&self, sealed: &MailBody) -> Result<MailBody, StoreError> {
        // No body kept (its text purged): nothing was sealed.
        if sealed.text.is_empty() && sealed.html.is_none() {
            return Ok(MailBody {
                text: String::new(),
                html: None,
                thread: None,
                raw: None,
            });
        }
        if sealed.html.is_some() {
            return Err(StoreError::Corrupt(
                "a message body was stored without being sealed".into(),
            ));
        }
        Ok(serde_json::from_str(&self.secrets.open(&sealed.text)?)?)
    }

    fn seal_message(&self, message: NewMessage) -> Result<NewMessage, StoreError> {
        Ok(NewMessage {
            body: self.seal_body(&message.body)?,
            ..message
        })
    }
}

#[async_trait::async_trait]
impl<B: Store> MailSettingsStore for Sealing<B> {
    async fn load_mail(&self) -> Result<Option<Versioned<MailServer>>, StoreError> {
        self.backend
            .load_mail()
            .await?
            .map(|s| self.open_server(s))
            .transpose()
    }

    async fn save_mail(
        &self,
        expected: u64,
        value: MailServer,
        who: &str,
    ) -> Result<Versioned<MailServer>, StoreError> {
        // Reading first is safe: a save in between changes the version, and the backend then
        // refuses this one as a conflict.
        let stored = self.backend.load_mail().await?;
        let sealed = self.seal_server(value, stored.as_ref().map(|s| &s.value))?;
        let saved = self.changed(self.backend.save_mail(expected, sealed, who).await)?;
        self.open_server(saved)
    }

    async fn connect_mailbox(
        &self,
        mailbox: Mailbox,
        who: &str,
    ) -> Result<Versioned<MailServer>, StoreError> {
        let saved = self.changed(self.backend.connect_mailbox(self.seal_mailbox(mailbox), who).await)?;
        self.open_server(saved)
    }

    async fn disconnect_mailbox(&self, who: &str) -> Result<Option<Versioned<MailServer>>, StoreError> {
        self.changed(self.backend.disconnect_mailbox(who).await)?
            .map(|s| self.open_server(s))
            .transpose()
    }

    async fn rotate_refresh_token(&self, old: &Password, new: Password) -> Result<bool, StoreError> {
        let Some(stored) = self.backend.load_mail().await? else {
            return Ok(false);
        };
        let Some(mailbox) = stored.value.mailbox else {
            return Ok(false);
        };
        if self.open_secret(&mailbox.refresh_token)? != *old {
            return Ok(false);
        }
        self.backend
            .rotate_refresh_token(&mailbox.refresh_token, self.seal_secret(&new))
            .await
    }

    async fn load_tests(&self) -> Result<TestHistory, StoreError> {
        self.backend.load_tests().await
    }

    async fn record_test(&self, outcome: TestOutcome) -> Result<TestHistory, StoreError> {
        self.backend.record_test(outcome).await
    }
}

#[async_trait::async_trait]
impl<B: Store> OnceStore for Sealing<B> {
    async fn put_once(
        &self,
        kind: Once,
        key: &str,
        secret: &str,
        expires_at: Option<u64>,
    ) -> Result<(), StoreError> {
        self.backend
            .put_once(kind, key, &self.secrets.seal(secret), expires_at)
            .await
    }

    async fn peek_once(&self, kind: Once, key: &str, now: u64) -> Result<Option<String>, StoreError> {
        let sealed = self.backend.peek_once(kind, key, now).await?;
        Ok(sealed.map(|s| self.secrets.open(&s)).transpose()?)
    }

    async fn take_once(&self, kind: Once, key: &str, now: u64) -> Result<Option<String>, StoreError> {
        let sealed = self.backend.take_once(kind, key, now).await?;
        Ok(sealed.map(|s| self.secrets.open(&s)).transpose()?)
    }

    async fn clear_once(&self, kind: Once) -> Result<usize, StoreError> {
        self.backend.clear_once(kind).await
    }
}

#[async_trait::async_trait]
impl<B: Store> SignInStore for Sealing<B> {
    async fn start_sign_in(
        &self,
        state_hash: &str,
        record: &SignInRecord,
    ) -> Result<Result<(), u64>, StoreError> {
        let sealed = SignInRecord {
            verifier: self.secrets.seal(&record.verifier),
            ..record.clone()
        };
        self.backend.start_sign_in(state_hash, &sealed).await
    }

    async fn take_sign_in(&self, state_hash: &str, now: u64) -> Result<Option<SignInRecord>, StoreError> {
        match self.backend.take_sign_in(state_hash, now).await? {
            Some(r) => Ok(Some(SignInRecord {
                verifier: self.secrets.open(&r.verifier)?,
                ..r
            })),
            None => Ok(None),
        }
    }
}

#[async_trait::async_trait]
impl<B: Store> OutboxStore for Sealing<B> {
    async fn enqueue(
        &self,
        messages: Vec<NewMessage>,
        idempotency_key: Option<&str>,
        now: u64,
    ) -> Result<Enqueued, StoreError> {
        let sealed = messages
            .into_iter()
            .map(|m| self.seal_message(m))
            .collect::<Result<_, _>>()?;
        self.backend.enqueue(sealed, idempotency_key, now).await
    }

    async fn enqueue_reset(
        &self,
        token_hash: &str,
        reset: &ResetRecord,
        mail: Option<NewMessage>,
        now: u64,
    ) -> Result<Option<MessageId>, StoreError> {
        let sealed = mail.map(|m| self.seal_message(m)).transpose()?;
        self.backend.enqueue_reset(token_hash, reset, sealed, now).await
    }

    async fn claim(&self, request: ClaimRequest) -> Result<Option<Vec<Claimed>>, StoreError> {
        let Some(claimed) = self.backend.claim(request).await? else {
            return Ok(None);
        };
        claimed
            .into_iter()
            .map(|c| {
                Ok(Claimed {
                    body: self.open_body(&c.body)?,
                    message: c.message,
                })
            })
            .collect::<Result<_, _>>()
            .map(Some)
    }

    async fn finish_all(
        &self,
        owner: u64,
        outcomes: Vec<(MessageId, Outcome)>,
        control: &[ControlEvent],
    ) -> Result<usize, StoreError> {
        let finished = self.backend.finish_all(owner, outcomes, control).await;
        if control.is_empty() {
            return finished;
        }
        self.changed(finished)
    }

    async fn renew_leases(&self, lease: Lease) -> Result<usize, StoreError> {
        self.backend.renew_leases(lease).await
    }

    async fn rescue_expired(&self, now: u64) -> Result<usize, StoreError> {
        self.backend.rescue_expired(now).await
    }

    async fn message(&self, id: MessageId) -> Result<Option<Message>, StoreError> {
        self.backend.message(id).await
    }

    async fn has_body(&self, id: MessageId) -> Result<bool, StoreError> {
        self.backend.has_body(id).await
    }

    async fn recent_messages(&self, limit: usize) -> Result<Vec<Message>, StoreError> {
        self.backend.recent_messages(limit).await
    }

    async fn list_messages(
        &self,
        filter: &MessageFilter,
        from: Option<&Cursor>,
        limit: usize,
    ) -> Result<MessagePage, StoreError> {
        self.backend.list_messages(filter, from, limit).await
    }

    async fn retry_now(&self, id: MessageId, now: u64) -> Result<Retry, StoreError> {
        self.backend.retry_now(id, now).await
    }

    async fn retry_failed(&self, now: u64) -> Result<usize, StoreError> {
        self.backend.retry_failed(now).await
    }

    async fn count_by_state(&self) -> Result<Vec<(State, usize)>, StoreError> {
        self.backend.count_by_state().await
    }

    async fn oldest_due(&self, now: u64) -> Result<Option<u64>, StoreError> {
        self.backend.oldest_due(now).await
    }

    async fn cancel(&self, id: MessageId) -> Result<bool, StoreError> {
        self.backend.cancel(id).await
    }

    async fn purge_outbox(&self, bodies_before: u64, records_before: u64) -> Result<usize, StoreError> {
        self.backend.purge_outbox(bodies_before, records_before).await
    }
}

#[async_trait::async_trait]
impl<B: Store> AlertStore for Sealing<B> {
    async fn alert_memory(&self, key: &str, recipient: &str) -> Result<Option<AlertMemory>, StoreError> {
        self.backend.alert_memory(key, recipient).await
    }

    async fn enqueue_alert(&self, batch: AlertBatch, now: u64) -> Result<Vec<AlertFate>, StoreError> {
        let messages = batch
            .messages
            .into_iter()
            .map(|m| self.seal_message(m))
            .collect::<Result<_, _>>()?;
        self.backend
            .enqueue_alert(AlertBatch { messages, ..batch }, now)
            .await
    }

    async fn purge_alerts(&self, before: u64) -> Result<usize, StoreError> {
        self.backend.purge_alerts(before).await
    }
}

// The families with nothing secret in them pass through as they are.

#[async_trait::async_trait]
impl<B: Store> AuditStore for Sealing<B> {
    async fn recent_audit(&self, n: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.backend.recent_audit(n).await
    }
}

#[async_trait::async_trait]
impl<B: Store> AdminStore for Sealing<B> {
    async fn admin_count(&self) -> Result<usize, StoreError> {
        self.backend.admin_count().await
    }

    async fn get_admin(&self, email: &str) -> Result<Option<AdminRecord>, StoreError> {
        self.backend.get_admin(email).await
    }

    async fn put_admin(&self, admin: AdminRecord) -> Result<(), StoreError> {
        self.backend.put_admin(admin).await
    }

    async fn set_admin_language(&self, email: &str, language: Option<crate::templates::Lang>) -> Result<bool, StoreError> {
        self.backend.set_admin_language(email, language).await
    }
}

#[async_trait::async_trait]
impl<B: Store> SessionStore for Sealing<B> {
    async fn put_session(&self, id_hash: &str, session: &SessionRecord) -> Result<(), StoreError> {
        self.backend.put_session(id_hash, session).await
    }

    async fn get_session(&self, id_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        self.backend.get_session(id_hash).await
    }

    async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        self.backend.delete_session(id_hash).await
    }

    async fn delete_sessions_of(&self, email: &str) -> Result<usize, StoreError> {
        self.backend.delete_sessions_of(email).await
    }

    async fn put_reset(&self, token_hash: &str, reset: &ResetRecord) -> Result<(), StoreError> {
        self.backend.put_reset(token_hash, reset).await
    }

    async fn take_reset(&self, token_hash: &str) -> Result<Option<ResetRecord>, StoreError> {
        self.backend.take_reset(token_hash).await
    }

    async fn get_reset(&self, token_hash: &str) -> Result<Option<ResetRecord>, StoreError> {
        self.backend.get_reset(token_hash).await
    }

    async fn purge_expired(&self, now: u64, lifetime: SessionLifetime) -> Result<usize, StoreError> {
        self.backend.purge_expired(now, lifetime).await
    }
}

#[async_trait::async_trait]
impl<B: Store> TokenStore for Sealing<B> {
    async fn create_token_for(
        &self,
        hash: &str,
        name: &str,
        scope: crate::domain::TokenUse,
        who: &str,
        now: u64,
    ) -> Result<Result<TokenRecord, TokenRefusal>, StoreError> {
        self.changed(self.backend.create_token_for(hash, name, scope, who, now).await)
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.backend.tokens().await
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.backend.token_by_hash(hash).await
    }

    async fn revoke_token(&self, id: u64, who: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.changed(self.backend.revoke_token(id, who).await)
    }

    async fn touch_token(&self, hash: &str, now: u64) -> Result<(), StoreError> {
        self.backend.touch_token(hash, now).await
    }
}

#[async_trait::async_trait]
impl<B: Store> BackoffStore for Sealing<B> {
    async fn backoff_attempt(&self, keys: &[String], now_ms: u64) -> Result<Result<(), u64>, StoreError> {
        self.backend.backoff_attempt(keys, now_ms).await
    }

    async fn backoff_undo(&self, keys: &[String]) -> Result<(), StoreError> {
        self.backend.backoff_undo(keys).await
    }

    async fn backoff_succeeded(&self, keys: &[String]) -> Result<(), StoreError> {
        self.backend.backoff_succeeded(keys).await
    }
}

#[async_trait::async_trait]
impl<B: Store> ControlStore for Sealing<B> {
    async fn outbox_control(&self) -> Result<OutboxControl, StoreError> {
        self.backend.outbox_control().await
    }

    async fn change_control(&self, events: &[ControlEvent]) -> Result<OutboxControl, StoreError> {
        self.changed(self.backend.change_control(events).await)
    }
}

#[async_trait::async_trait]
impl<B: Store> TemplateStore for Sealing<B> {
    async fn load_templates(&self) -> Result<SavedTemplates, StoreError> {
        self.backend.load_templates().await
    }

    async fn save_template(
        &self,
        kind: crate::templates::Kind,
        lang: crate::templates::Lang,
        expected: u64,
        texts: Option<crate::templates::Texts>,
        who: &str,
    ) -> Result<SavedTemplate, StoreError> {
        self.backend.save_template(kind, lang, expected, texts, who).await
    }
}

#[async_trait::async_trait]
impl<B: Store> Store for Sealing<B> {
    async fn flush(&self) -> Result<(), StoreError> {
        self.backend.flush().await
    }

    fn refusing_writes(&self) -> Option<StoreError> {
        self.backend.refusing_writes()
    }

    async fn ready(&self) -> Result<(), StoreError> {
        self.backend.ready().await
    }

    fn wake_ups(&self) -> tokio::sync::watch::Receiver<u64> {
        self.backend.wake_ups()
    }

    fn local_changes(&self) -> u64 {
        self.changes.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_store::{message, open, server};
    use super::*;
    use crate::outbox::Priority;

    /// What the backend is handed and gives back, read through its own traits: nothing in
    /// clear, and each value opens to what the caller stored.
    #[tokio::test]
    async fn the_backend_holds_only_sealed_text_and_the_store_gives_it_back_open() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let backend = store.backend();
        let key = super::super::test_store::secrets();

        store.save_mail(0, server("smtp.example.com"), "a").await.unwrap();
        let held = backend.load_mail().await.unwrap().unwrap().value.password;
        assert_ne!(held.expose(), "secret-Pa55");
        assert_eq!(key.open(held.expose()).unwrap(), "secret-Pa55");
        assert_eq!(
            store.load_mail().await.unwrap().unwrap().value.password.expose(),
            "secret-Pa55"
        );
        // The same password saved again is handed over as the sealed text already held.
        store
            .save_mail(1, server("smtp2.example.com"), "a")
            .await
            .unwrap();
        assert_eq!(backend.load_mail().await.unwrap().unwrap().value.password, held);

        store
            .put_once(Once::SetupLink, "k", "setup-s3cret", None)
            .await
            .unwrap();
        let held = backend.peek_once(Once::SetupLink, "k", 0).await.unwrap().unwrap();
        assert!(!held.contains("setup-s3cret"));
        assert_eq!(
            store.take_once(Once::SetupLink, "k", 0).await.unwrap().as_deref(),
            Some("setup-s3cret")
        );

        let record = SignInRecord {
            admin: "a".into(),
            app: "app".into(),
            verifier: "pkce-v3rifier".into(),
            started_at: 1,
        };
        store.start_sign_in("s1", &record).await.unwrap().unwrap();
        let held = backend.take_sign_in("s1", 2).await.unwrap().unwrap();
        assert_ne!(held.verifier, record.verifier);
        store.start_sign_in("s2", &record).await.unwrap().unwrap();
        assert_eq!(store.take_sign_in("s2", 2).await.unwrap(), Some(record));

        let mut m = message("b@example.com", Priority::Normal);
        m.body.html = Some("<p>html-b0dy</p>".into());
        store.enqueue(vec![m.clone()], None, 1).await.unwrap();
        let lease = Lease {
            owner: 7,
            until: u64::MAX,
        };
        let version = store.load_mail().await.unwrap().unwrap().version;
        let request = ClaimRequest {
            settings_version: version,
            ..ClaimRequest::any(lease, u64::MAX / 2, 10)
        };
        let held = backend
            .claim(request)
            .await
            .unwrap()
            .expect("the settings are that version");
        let body = &held[0].body;
        assert!(
            body.html.is_none() && !body.text.contains("hello") && !body.text.contains("html-b0dy"),
            "{body:?}"
        );
        assert_eq!(store.open_body(body).unwrap(), m.body);
    }
}
