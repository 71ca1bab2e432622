//! The outbox (records in [`crate::outbox`]): each message, its body (sealed with the data
//! directory's key, so a reset link never lies in the database files in clear), the queue of
//! what is due by priority and time, the idempotency keys, and the messages in flight.
//!
//! [`OutboxStore`] is what a backend provides. On PostgreSQL, `claim` is one
//! `UPDATE … WHERE id IN (SELECT id … WHERE state IN ('queued','deferred') AND not_before <= $now
//! ORDER BY priority, not_before FOR UPDATE SKIP LOCKED LIMIT $n) RETURNING …`, so several app
//! instances can share one outbox; on sled one process owns the database.

use super::space::Need;
use super::{tx_error, ResetRecord, Sled, SledBackend, StoreError};
use crate::outbox::{Attempt, Cursor, Message, MessageFilter, MessageId, MessagePage, Priority, Retry, State};
use serde::{Deserialize, Serialize};
use sled::transaction::ConflictableTransactionError::Abort;
use sled::Transactional;
use std::sync::atomic::Ordering;

/// How long an idempotency key answers with the messages it first created.
pub const IDEMPOTENCY_SECS: u64 = 24 * 60 * 60;

/// What a message says; stored apart from its record and purged earlier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailBody {
    pub text: String,
    pub html: Option<String>,
    /// The mail's thread headers, when it belongs to one (a group of alerts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<crate::mailer::Thread>,
    /// A message as a program submitted it (the SMTP listener): sent as these bytes, its
    /// headers and MIME body as they are, instead of one built from `text` and `html`.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "raw_bytes")]
    pub raw: Option<Vec<u8>>,
}

/// A raw message in a stored body: base64 text (the body is JSON), absent when there is none.
mod raw_bytes {
    use base64::{engine::general_purpose::STANDARD, Engine};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(raw: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match raw {
            Some(bytes) => s.serialize_str(&STANDARD.encode(bytes)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| STANDARD.decode(text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// A message to one recipient, as it is handed to the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMessage {
    pub to: String,
    pub subject: String,
    pub body: MailBody,
    pub priority: Priority,
    /// Unix seconds after which it is of no use.
    pub expires_at: Option<u64>,
    pub origin: crate::outbox::Origin,
}

/// What `enqueue` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Enqueued {
    /// Stored now, one id per message, in order.
    New(Vec<MessageId>),
    /// The idempotency key was used within [`IDEMPOTENCY_SECS`]: nothing stored; these are the
    /// messages it created then.
    Existing(Vec<MessageId>),
}

impl Enqueued {
    pub fn ids(&self) -> &[MessageId] {
        match self {
            Enqueued::New(ids) | Enqueued::Existing(ids) => ids,
        }
    }
}

/// A claim's hold on its messages: which worker holds them (a number it drew at start) and
/// until when (Unix seconds). A worker that lives renews it ([`OutboxStore::renew_leases`]); the
/// messages of one that died go back to the queue once it ends ([`OutboxStore::rescue_expired`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    pub owner: u64,
    pub until: u64,
}

impl Lease {
    fn encode(self) -> [u8; 16] {
        let mut b = [0; 16];
        b[..8].copy_from_slice(&self.owner.to_be_bytes());
        b[8..].copy_from_slice(&self.until.to_be_bytes());
        b
    }

    /// A lease as stored; an entry from before leases (empty) has ended.
    fn decode(b: &[u8]) -> Self {
        let half = |r: std::ops::Range<usize>| b.get(r).and_then(|x| x.try_into().ok()).map_or(0, u64::from_be_bytes);
        Lease {
            owner: half(0..8),
            until: half(8..16),
        }
    }
}

/// What a worker asks of [`OutboxStore::claim`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClaimRequest {
    pub lease: Lease,
    pub now: u64,
    /// At most this many messages.
    pub max: usize,
    /// Of this priority or higher.
    pub lowest: Priority,
    /// The version of the saved settings the worker will send with (0: none saved).
    pub settings_version: u64,
    /// Whether the messages taken count against the mail server's limits.
    pub counted: bool,
}

impl ClaimRequest {
    /// Up to `max` messages of any priority for `lease` at `now`, with no settings saved and
    /// nothing counted (the store's own tests).
    pub fn any(lease: Lease, now: u64, max: usize) -> Self {
        Self { lease, now, max, lowest: Priority::Normal, settings_version: 0, counted: false }
    }
}

/// A message [`OutboxStore::claim`] took, with its body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claimed {
    pub message: Message,
    pub body: MailBody,
}

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Sent(Attempt),
    /// Tried again at `until` (Unix seconds).
    Deferred {
        attempt: Attempt,
        until: u64,
    },
    Failed(Attempt),
    Uncertain(Attempt),
    /// Not tried: past its `expires_at`.
    Expired,
    /// Not tried (the outbox is stopping, or paused): back to the queue as it was.
    Returned,
    /// Tried, and the outbox paused because of it (a login refused): back to the queue with
    /// the attempt recorded, due at once when the outbox resumes.
    Held(Attempt),
}

#[async_trait::async_trait]
pub trait OutboxStore {
    /// Stores one message per recipient, durable before it returns. With an idempotency key
    /// seen within [`IDEMPOTENCY_SECS`] of `now`, stores nothing and answers the messages that
    /// key created.
    async fn enqueue(
        &self,
        messages: Vec<NewMessage>,
        idempotency_key: Option<&str>,
        now: u64,
    ) -> Result<Enqueued, StoreError>;

    /// A password reset: the token's record and, for an account that exists, its mail, in one
    /// transaction and one flush, so the work (and the answer's time) is the same either way.
    /// Returns the mail's id.
    async fn enqueue_reset(
        &self,
        token_hash: &str,
        reset: &ResetRecord,
        mail: Option<NewMessage>,
        now: u64,
    ) -> Result<Option<MessageId>, StoreError>;

    /// Takes up to `request.max` messages that are due at `request.now`, of priority
    /// `request.lowest` or higher, highest priority first and, within a priority, the longest
    /// due first, and marks them sending, held by `request.lease`; a due message past its
    /// `expires_at` is marked expired instead of taken. All in one transaction with the check
    /// that the saved settings are still `request.settings_version` (`None` and nothing taken
    /// when they are not: a message queued after a save must not go out with the settings from
    /// before it) and, when `request.counted`, with the messages taken counted against the mail
    /// server's limits in the control record ([`super::ControlEvent::Claimed`]).
    async fn claim(&self, request: ClaimRequest) -> Result<Option<Vec<Claimed>>, StoreError>;

    /// Records how claimed messages' attempts ended, with the changes they make to the
    /// outbox's control record, all or none; durable on return. Only messages `owner` still
    /// holds are recorded: one whose lease ended and was rescued belongs to whoever took it
    /// since. Returns how many were recorded.
    async fn finish_all(
        &self,
        owner: u64,
        outcomes: Vec<(MessageId, Outcome)>,
        control: &[super::ControlEvent],
    ) -> Result<usize, StoreError>;

    /// Every message `lease.owner` holds is held until `lease.until`. Returns how many.
    async fn renew_leases(&self, lease: Lease) -> Result<usize, StoreError>;

    /// Messages whose lease ended before `now` (their worker died or lost its way) go back to
    /// the queue, due at once, their attempts kept: delivery is at least once. Durable on
    /// return. Returns how many.
    async fn rescue_expired(&self, now: u64) -> Result<usize, StoreError>;

    async fn message(&self, id: MessageId) -> Result<Option<Message>, StoreError>;

    /// Whether the message's text is still kept (it goes with the retention period).
    async fn has_body(&self, id: MessageId) -> Result<bool, StoreError>;

    /// The newest `limit` messages, newest first.
    async fn recent_messages(&self, limit: usize) -> Result<Vec<Message>, StoreError>;

    /// Up to `limit` messages that match `filter`, newest first, older than `before` if given.
    /// Looks at no more than [`MAX_SCAN`] records per call: when it stops there the page says
    /// where to go on (`older`).
    async fn list_messages(
        &self,
        filter: &MessageFilter,
        from: Option<&Cursor>,
        limit: usize,
    ) -> Result<MessagePage, StoreError>;

    /// Puts a failed, deferred, uncertain or cancelled message back in the queue, due at `now`
    /// (its attempts kept); durable. A cancelled one only before its `expires_at` (the undo of
    /// [`Self::cancel`]).
    async fn retry_now(&self, id: MessageId, now: u64) -> Result<Retry, StoreError>;

    /// [`Self::retry_now`] for every failed message that still has its text. Returns how many.
    async fn retry_failed(&self, now: u64) -> Result<usize, StoreError>;

    /// How many messages are in each state.
    async fn count_by_state(&self) -> Result<Vec<(State, usize)>, StoreError>;

    /// The earliest time (Unix seconds) at which a message still waiting (queued or deferred)
    /// became due, among those due at `now`; `None` when none is due. How late the queue runs.
    async fn oldest_due(&self, now: u64) -> Result<Option<u64>, StoreError>;

    /// Cancels a queued or deferred message, keeping its text until the retention period ends
    /// so that it can be queued again ([`Self::retry_now`]). False if it was not waiting
    /// (sending, or final).
    async fn cancel(&self, id: MessageId) -> Result<bool, StoreError>;

    /// Drops the bodies of final messages created before `bodies_before`, the records (and
    /// idempotency keys) of those created before `records_before` (Unix seconds). Returns how
    /// many records went.
    async fn purge_outbox(&self, bodies_before: u64, records_before: u64) -> Result<usize, StoreError>;
}

#[async_trait::async_trait]
impl OutboxStore for SledBackend {
    async fn enqueue(&self, messages: Vec<NewMessage>, idempotency_key: Option<&str>, now: u64) -> Result<Enqueued, StoreError> {
        let idempotency_key = idempotency_key.map(str::to_owned);
        let (messages, idempotency_key) = match self.committer() {
            Some(committer) => match committer.offer(messages, idempotency_key, now) {
                Ok(answer) => return answer.await.unwrap_or_else(|_| Err(super::committer::gone())),
                // Its queue is full (or it stopped): this call writes and flushes on its own.
                Err(job) => (job.messages, job.idempotency_key),
            },
            None => (messages, idempotency_key),
        };
        self.blocking(move |db| db.enqueue(messages, idempotency_key.as_deref(), now)).await
    }

    async fn enqueue_reset(&self, token_hash: &str, reset: &ResetRecord, mail: Option<NewMessage>, now: u64) -> Result<Option<MessageId>, StoreError> {
        let token_hash = token_hash.to_owned();
        let reset = reset.clone();
        self.blocking(move |db| db.enqueue_reset(&token_hash, &reset, mail, now)).await
    }

    async fn claim(&self, request: ClaimRequest) -> Result<Option<Vec<Claimed>>, StoreError> {
        self.blocking(move |db| db.claim(request)).await
    }

    async fn finish_all(&self, owner: u64, outcomes: Vec<(MessageId, Outcome)>, control: &[super::ControlEvent]) -> Result<usize, StoreError> {
        let control = control.to_vec();
        self.blocking(move |db| db.finish_all(owner, outcomes, &control)).await
    }

    async fn renew_leases(&self, lease: Lease) -> Result<usize, StoreError> {
        self.blocking(move |db| db.renew_leases(lease)).await
    }

    async fn rescue_expired(&self, now: u64) -> Result<usize, StoreError> {
        self.blocking(move |db| db.rescue_expired(now)).await
    }

    async fn message(&self, id: MessageId) -> Result<Option<Message>, StoreError> {
        self.blocking(move |db| db.message(id)).await
    }

    async fn has_body(&self, id: MessageId) -> Result<bool, StoreError> {
        self.blocking(move |db| db.has_body(id)).await
    }

    async fn recent_messages(&self, limit: usize) -> Result<Vec<Message>, StoreError> {
        self.blocking(move |db| db.recent_messages(limit)).await
    }

    async fn list_messages(&self, filter: &MessageFilter, from: Option<&Cursor>, limit: usize) -> Result<MessagePage, StoreError> {
        let filter = filter.clone();
        let from = from.cloned();
        self.blocking(move |db| db.list_messages(&filter, from.as_ref(), limit)).await
    }

    async fn retry_now(&self, id: MessageId, now: u64) -> Result<Retry, StoreError> {
        self.blocking(move |db| db.retry_now(id, now)).await
    }

    async fn retry_failed(&self, now: u64) -> Result<usize, StoreError> {
        self.blocking(move |db| db.retry_failed(now)).await
    }

    async fn count_by_state(&self) -> Result<Vec<(State, usize)>, StoreError> {
        self.blocking(move |db| db.count_by_state()).await
    }

    async fn oldest_due(&self, now: u64) -> Result<Option<u64>, StoreError> {
        self.blocking(move |db| db.oldest_due(now)).await
    }

    async fn cancel(&self, id: MessageId) -> Result<bool, StoreError> {
        self.blocking(move |db| db.cancel(id)).await
    }

    async fn purge_outbox(&self, bodies_before: u64, records_before: u64) -> Result<usize, StoreError> {
        self.blocking(move |db| db.purge_outbox(bodies_before, records_before)).await
    }
}

/// The most records one listing looks at (bounds the time a search takes).
pub const MAX_SCAN: usize = 20_000;

fn body_len(body: Option<sled::IVec>) -> u64 {
    body.map_or(0, |b| b.len() as u64)
}

fn id_key(id: MessageId) -> [u8; 8] {
    id.to_be_bytes()
}

/// The queue's key: priority rank, then due time, then id, so a scan meets the most urgent
/// first.
fn queue_key(m: &Message) -> [u8; 17] {
    let mut key = [0u8; 17];
    key[0] = m.priority.rank();
    key[1..9].copy_from_slice(&m.not_before.to_be_bytes());
    key[9..].copy_from_slice(&id_key(m.id));
    key
}

#[derive(Serialize, Deserialize)]
pub(super) struct KeyRecord {
    pub(super) ids: Vec<MessageId>,
    pub(super) at: u64,
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    Ok(serde_json::to_vec(value)?)
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    Ok(serde_json::from_slice(bytes)?)
}

/// A new message's record: queued now, due at once.
pub(super) fn new_message(id: MessageId, m: &NewMessage, idempotency_key: Option<&str>, now: u64) -> Message {
    Message {
        id,
        to: m.to.clone(),
        subject: m.subject.clone(),
        priority: m.priority,
        state: State::Queued,
        created_at: now,
        not_before: now,
        expires_at: m.expires_at,
        idempotency_key: idempotency_key.map(str::to_string),
        attempts: Vec::new(),
        origin: m.origin.clone(),
    }
}

/// What an attempt's `outcome` makes of a claimed message (any backend): its state, when it
/// is due again, its attempts. Queued or deferred afterwards: back in the queue.
pub(super) fn record_outcome(m: &mut Message, outcome: Outcome) {
    // The transcript is kept for the last attempt only.
    if matches!(
        outcome,
        Outcome::Sent(_) | Outcome::Deferred { .. } | Outcome::Failed(_) | Outcome::Uncertain(_) | Outcome::Held(_)
    ) {
        for a in &mut m.attempts {
            a.transcript = Vec::new();
        }
    }
    match outcome {
        Outcome::Sent(a) => {
            m.state = State::Sent;
            m.attempts.push(a);
        }
        Outcome::Deferred { attempt, until } => {
            m.state = State::Deferred;
            m.not_before = until;
            m.attempts.push(attempt);
        }
        Outcome::Failed(a) => {
            m.state = State::Failed;
            m.attempts.push(a);
        }
        Outcome::Uncertain(a) => {
            m.state = State::Uncertain;
            m.attempts.push(a);
        }
        Outcome::Expired => m.state = State::Expired,
        Outcome::Returned | Outcome::Held(_) => {
            if let Outcome::Held(a) = outcome {
                m.attempts.push(a);
            }
            m.state = if m.attempts.is_empty() { State::Queued } else { State::Deferred };
        }
    }
}

type TxResult<T> = Result<T, sled::transaction::ConflictableTransactionError<StoreError>>;

fn abort<T>(r: Result<T, StoreError>) -> TxResult<T> {
    r.map_err(Abort)
}

impl Sled {
    /// A body as it lies in sled: a body with no HTML (how the layer above hands over a
    /// sealed one) as its text's bytes, one with HTML as JSON.
    fn encode_body(body: &MailBody) -> Result<Vec<u8>, StoreError> {
        match body.html {
            None if !body.text.starts_with('{') => Ok(body.text.clone().into_bytes()),
            _ => Ok(serde_json::to_vec(body)?),
        }
    }

    pub(super) fn decode_body(bytes: &[u8]) -> Result<MailBody, StoreError> {
        if bytes.first() == Some(&b'{') {
            return Ok(serde_json::from_slice(bytes)?);
        }
        let text = std::str::from_utf8(bytes).map_err(|_| StoreError::Corrupt("a body is not text".into()))?;
        Ok(MailBody { text: text.to_owned(), html: None, thread: None, raw: None })
    }

    /// A new message's record, encoded and with its sealed body.
    fn new_record(
        &self,
        m: NewMessage,
        idempotency_key: Option<&str>,
        now: u64,
    ) -> Result<(Vec<u8>, Vec<u8>, Message), StoreError> {
        let record = new_message(self.db.generate_id()?, &m, idempotency_key, now);
        Ok((encode(&record)?, Self::encode_body(&m.body)?, record))
    }

    /// Counts the bytes waiting to be sent from the records (at open).
    pub(super) fn count_queued_bytes(&self) -> Result<(), StoreError> {
        let mut total = 0;
        for entry in self.outbox.iter() {
            let (key, bytes) = entry?;
            if decode::<Message>(&bytes)?.state.pending() {
                total += body_len(self.outbox_bodies.get(key)?);
            }
        }
        self.queued_bytes.store(total, Ordering::Relaxed);
        Ok(())
    }

    /// Counts `bytes` more waiting to be sent, unless that passes the bound.
    fn take_queued_bytes(&self, bytes: u64) -> Result<(), StoreError> {
        let limit = self.max_queued_bytes;
        self.queued_bytes
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |queued| {
                queued.checked_add(bytes).filter(|total| *total <= limit)
            })
            .map(drop)
            .map_err(|queued| StoreError::OutboxFull { queued, limit })
    }

    fn give_queued_bytes(&self, bytes: u64) {
        let _ = self
            .queued_bytes
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |queued| Some(queued.saturating_sub(bytes)));
    }

    /// [`super::AlertStore::enqueue_alert`]: the memory, the decision and the mails in one
    /// transaction (sled retries it when another touched the same keys).
    pub(super) fn enqueue_alert_in(
        &self,
        batch: super::AlertBatch,
        now: u64,
    ) -> Result<Vec<super::AlertFate>, StoreError> {
        use crate::delivery::storm::{decide, Decision};
        self.space.admit(Need::Grow)?;
        let records = batch
            .messages
            .into_iter()
            .map(|m| self.new_record(m, None, now))
            .collect::<Result<Vec<_>, _>>()?;
        let bytes: u64 = records.iter().map(|(_, body, _)| body.len() as u64).sum();
        self.take_queued_bytes(bytes)?;
        let memory = encode(&super::AlertMemory {
            firing: batch.firing,
            mailed_at: now,
            digest: batch.digest,
        })?;
        let fates = (&self.alerts, &self.outbox, &self.outbox_bodies, &self.outbox_queue)
            .transaction(|(alerts, outbox, bodies, queue)| {
                let mut fates = Vec::with_capacity(records.len());
                for (record, body, m) in &records {
                    let key = super::alerts::memory_key(&batch.key, &m.to);
                    let known = alerts.get(&key)?.map(|b| decode(&b)).transpose();
                    match decide(abort(known)?, batch.firing, batch.digest, batch.repeat_secs, now) {
                        Decision::Mail => {
                            alerts.insert(key, memory.as_slice())?;
                            outbox.insert(&id_key(m.id), record.as_slice())?;
                            bodies.insert(&id_key(m.id), body.as_slice())?;
                            queue.insert(&queue_key(m), &[])?;
                            fates.push(super::AlertFate::Queued(m.id));
                        }
                        held => fates.push(super::AlertFate::Held(held)),
                    }
                }
                Ok(fates)
            })
            .map_err(tx_error)
            .inspect_err(|_| self.give_queued_bytes(bytes))?;
        // The bodies of the mails held back were never stored.
        let held: u64 = records
            .iter()
            .zip(&fates)
            .filter(|(_, f)| matches!(f, super::AlertFate::Held(_)))
            .map(|((_, body, _), _)| body.len() as u64)
            .sum();
        self.give_queued_bytes(held);
        if held < bytes {
            self.sync()?;
            self.signal_work();
        }
        Ok(fates)
    }

    fn load_message(&self, id: MessageId) -> Result<Option<Message>, StoreError> {
        self.outbox.get(id_key(id))?.map(|b| decode(&b)).transpose()
    }
}

impl Sled {
    pub(crate) fn enqueue(
        &self,
        messages: Vec<NewMessage>,
        idempotency_key: Option<&str>,
        now: u64,
    ) -> Result<Enqueued, StoreError> {
        let done = self.enqueue_unsynced(messages, idempotency_key, now)?;
        if let Enqueued::New(_) = done {
            self.sync()?;
            self.signal_work();
        }
        Ok(done)
    }

    /// [`Self::enqueue`] without its flush: the caller makes it durable ([`Self::sync`]) and
    /// wakes the workers before it answers (the committer, for many at once).
    pub(crate) fn enqueue_unsynced(
        &self,
        messages: Vec<NewMessage>,
        idempotency_key: Option<&str>,
        now: u64,
    ) -> Result<Enqueued, StoreError> {
        self.space.admit(Need::Grow)?;
        let records = messages
            .into_iter()
            .map(|m| self.new_record(m, idempotency_key, now))
            .collect::<Result<Vec<_>, _>>()?;
        let bytes: u64 = records.iter().map(|(_, body, _)| body.len() as u64).sum();
        self.take_queued_bytes(bytes)?;
        let ids: Vec<MessageId> = records.iter().map(|(_, _, r)| r.id).collect();
        let key_record = encode(&KeyRecord {
            ids: ids.clone(),
            at: now,
        })?;
        let done = (
            &self.outbox,
            &self.outbox_bodies,
            &self.outbox_queue,
            &self.outbox_keys,
        )
            .transaction(|(outbox, bodies, queue, keys)| {
                if let Some(key) = idempotency_key {
                    if let Some(seen) = keys.get(key)? {
                        let seen: KeyRecord = abort(decode(&seen))?;
                        if now < seen.at + IDEMPOTENCY_SECS {
                            return Ok(Enqueued::Existing(seen.ids));
                        }
                    }
                    keys.insert(key, key_record.as_slice())?;
                }
                for (record, body, m) in &records {
                    outbox.insert(&id_key(m.id), record.as_slice())?;
                    bodies.insert(&id_key(m.id), body.as_slice())?;
                    queue.insert(&queue_key(m), &[])?;
                }
                Ok(Enqueued::New(ids.clone()))
            })
            .map_err(tx_error)
            .inspect_err(|_| self.give_queued_bytes(bytes))?;
        if let Enqueued::Existing(_) = done {
            self.give_queued_bytes(bytes);
        }
        Ok(done)
    }

    pub(crate) fn enqueue_reset(
        &self,
        token_hash: &str,
        reset: &ResetRecord,
        mail: Option<NewMessage>,
        now: u64,
    ) -> Result<Option<MessageId>, StoreError> {
        self.space.admit(Need::Grow)?;
        let reset = encode(reset)?;
        let record = mail.map(|m| self.new_record(m, None, now)).transpose()?;
        let bytes = record.as_ref().map_or(0, |(_, body, _)| body.len() as u64);
        self.take_queued_bytes(bytes)?;
        (&self.resets, &self.outbox, &self.outbox_bodies, &self.outbox_queue)
            .transaction(|(resets, outbox, bodies, queue)| {
                resets.insert(token_hash.as_bytes(), reset.as_slice())?;
                if let Some((record, body, m)) = &record {
                    outbox.insert(&id_key(m.id), record.as_slice())?;
                    bodies.insert(&id_key(m.id), body.as_slice())?;
                    queue.insert(&queue_key(m), &[])?;
                }
                Ok(())
            })
            .map_err(tx_error)
            .inspect_err(|_| self.give_queued_bytes(bytes))?;
        self.sync()?;
        if record.is_some() {
            self.signal_work();
        }
        Ok(record.map(|(_, _, m)| m.id))
    }

    pub(crate) fn claim(&self, request: ClaimRequest) -> Result<Option<Vec<Claimed>>, StoreError> {
        let ClaimRequest { lease, now, max, lowest, settings_version, counted } = request;
        self.space.admit(Need::Upkeep)?;
        // The due entries, most urgent first; then one transaction takes them all.
        let mut due = Vec::new();
        'priorities: for priority in Priority::ALL.into_iter().filter(|p| *p <= lowest) {
            for entry in self.outbox_queue.scan_prefix([priority.rank()]) {
                if due.len() >= max {
                    break 'priorities;
                }
                let (key, _) = entry?;
                let at = u64::from_be_bytes(key[1..9].try_into().unwrap_or_default());
                if at > now {
                    break;
                }
                due.push(key);
            }
        }
        if due.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let taken = (
            &self.outbox,
            &self.outbox_queue,
            &self.outbox_inflight,
            &self.outbox_bodies,
            &self.settings,
            &self.control,
        )
            .transaction(|(outbox, queue, inflight, bodies, settings, control)| {
                /// The one field of the settings record a claim reads.
                #[derive(serde::Deserialize)]
                struct Version {
                    version: u64,
                }
                let saved = match settings.get(super::migrations::MAIL_KEY)? {
                    Some(bytes) => abort(decode::<Version>(&bytes))?.version,
                    None => 0,
                };
                if saved != settings_version {
                    return Ok(None);
                }
                let mut taken = Vec::with_capacity(due.len());
                let mut expired_bytes = 0;
                for key in &due {
                    // Gone meanwhile (cancelled): nothing to take.
                    if queue.remove(&**key)?.is_none() {
                        continue;
                    }
                    let id = u64::from_be_bytes(key[9..17].try_into().unwrap_or_default());
                    let Some(bytes) = outbox.get(id_key(id))? else {
                        continue;
                    };
                    let mut m: Message = abort(decode(&bytes))?;
                    if m.expires_at.is_some_and(|at| at <= now) {
                        m.state = State::Expired;
                        expired_bytes += body_len(bodies.remove(&id_key(id))?);
                        outbox.insert(&id_key(id), abort(encode(&m))?)?;
                        continue;
                    }
                    m.state = State::Sending;
                    outbox.insert(&id_key(id), abort(encode(&m))?)?;
                    inflight.insert(&id_key(id), &lease.encode())?;
                    let body = bodies.get(id_key(id))?;
                    taken.push((m, body));
                }
                if counted && !taken.is_empty() {
                    let claimed = super::ControlEvent::Claimed { at: now, messages: taken.len() };
                    Self::apply_control(control, &[claimed])?;
                }
                Ok(Some((taken, expired_bytes)))
            })
            .map_err(tx_error)?;
        let Some((taken, expired_bytes)) = taken else {
            return Ok(None);
        };
        self.give_queued_bytes(expired_bytes);
        taken
            .into_iter()
            .map(|(message, body)| {
                let body = match body {
                    Some(bytes) => Self::decode_body(&bytes)?,
                    None => MailBody {
                        text: String::new(),
                        html: None,
                        thread: None,
                        raw: None,
                    },
                };
                Ok(Claimed { message, body })
            })
            .collect::<Result<_, _>>()
            .map(Some)
    }

    pub(crate) fn finish_all(
        &self,
        owner: u64,
        outcomes: Vec<(MessageId, Outcome)>,
        control: &[super::ControlEvent],
    ) -> Result<usize, StoreError> {
        self.space.admit(Need::Upkeep)?;
        let trees = (
            &self.outbox,
            &self.outbox_queue,
            &self.outbox_inflight,
            &self.outbox_bodies,
            &self.control,
        );
        let (done_bytes, recorded) = trees
            .transaction(|(outbox, queue, inflight, bodies, control_tree)| {
                Self::apply_control(control_tree, control)?;
                let mut done_bytes = 0;
                let mut recorded = 0;
                for (id, outcome) in &outcomes {
                    let id = *id;
                    let Some(bytes) = outbox.get(id_key(id))? else {
                        continue;
                    };
                    // Held by this owner, or its outcome is no longer its to record.
                    match inflight.get(id_key(id))? {
                        Some(held) if Lease::decode(&held).owner == owner => {}
                        _ => continue,
                    }
                    let mut m: Message = abort(decode(&bytes))?;
                    inflight.remove(&id_key(id))?;
                    recorded += 1;
                    record_outcome(&mut m, outcome.clone());
                    if matches!(m.state, State::Queued | State::Deferred) {
                        queue.insert(&queue_key(&m), &[])?;
                    }
                    if !m.state.pending() {
                        done_bytes += body_len(bodies.get(id_key(id))?);
                    }
                    outbox.insert(&id_key(id), abort(encode(&m))?)?;
                }
                Ok((done_bytes, recorded))
            })
            .map_err(tx_error)?;
        self.give_queued_bytes(done_bytes);
        self.sync()?;
        Ok(recorded)
    }

    pub(crate) fn renew_leases(&self, lease: Lease) -> Result<usize, StoreError> {
        self.space.admit(Need::Upkeep)?;
        let mut n = 0;
        for entry in self.outbox_inflight.iter() {
            let (key, held) = entry?;
            let old = Lease::decode(&held);
            if old.owner != lease.owner {
                continue;
            }
            // Only if it is still this owner's (a rescue may have taken it meanwhile).
            if self
                .outbox_inflight
                .compare_and_swap(&key, Some(held), Some(&lease.encode()[..]))?
                .is_ok()
            {
                n += 1;
            }
        }
        Ok(n)
    }

    pub(crate) fn message(&self, id: MessageId) -> Result<Option<Message>, StoreError> {
        self.load_message(id)
    }

    pub(crate) fn has_body(&self, id: MessageId) -> Result<bool, StoreError> {
        Ok(self.outbox_bodies.contains_key(id_key(id))?)
    }

    pub(crate) fn count_by_state(&self) -> Result<Vec<(State, usize)>, StoreError> {
        let mut counts: Vec<(State, usize)> = Vec::new();
        for entry in self.outbox.iter() {
            let state = decode::<Message>(&entry?.1)?.state;
            match counts.iter_mut().find(|(s, _)| *s == state) {
                Some((_, n)) => *n += 1,
                None => counts.push((state, 1)),
            }
        }
        Ok(counts)
    }

    /// The queue is ordered by priority, then due time: each priority's first entry is its
    /// earliest.
    pub(crate) fn oldest_due(&self, now: u64) -> Result<Option<u64>, StoreError> {
        let mut oldest: Option<u64> = None;
        for priority in Priority::ALL {
            if let Some((key, _)) = self.outbox_queue.scan_prefix([priority.rank()]).next().transpose()? {
                let at = u64::from_be_bytes(key[1..9].try_into().unwrap_or_default());
                if at <= now {
                    oldest = Some(oldest.map_or(at, |o| o.min(at)));
                }
            }
        }
        Ok(oldest)
    }

    pub(crate) fn recent_messages(&self, limit: usize) -> Result<Vec<Message>, StoreError> {
        self.outbox
            .iter()
            .rev()
            .take(limit)
            .map(|kv| decode(&kv?.1))
            .collect()
    }

    pub(crate) fn list_messages(
        &self,
        filter: &MessageFilter,
        from: Option<&Cursor>,
        limit: usize,
    ) -> Result<MessagePage, StoreError> {
        // sled's cursor: the id the next page starts below. One it did not write (a URL
        // edited by hand) lists from the newest.
        let range = match from.and_then(|c| c.as_str().parse::<MessageId>().ok()) {
            Some(id) => self.outbox.range(..id_key(id)),
            None => self.outbox.range::<&[u8], _>(..),
        };
        let mut page = MessagePage::default();
        for (scanned, entry) in range.rev().enumerate() {
            let (key, bytes) = entry?;
            let id = u64::from_be_bytes(key.as_ref().try_into().unwrap_or_default());
            if page.messages.len() == limit || scanned == MAX_SCAN {
                page.older = Cursor::from_text(&(id + 1).to_string());
                break;
            }
            let m: Message = decode(&bytes)?;
            if filter.matches(&m) {
                page.messages.push(m);
            }
        }
        Ok(page)
    }

    pub(crate) fn retry_now(&self, id: MessageId, now: u64) -> Result<Retry, StoreError> {
        self.space.admit(Need::Upkeep)?;
        let answer = (&self.outbox, &self.outbox_queue, &self.outbox_bodies)
            .transaction(|(outbox, queue, bodies)| {
                let Some(bytes) = outbox.get(id_key(id))? else {
                    return Ok((Retry::NotFound, 0));
                };
                let mut m: Message = abort(decode(&bytes))?;
                match m.state {
                    State::Failed | State::Uncertain => {}
                    State::Cancelled if m.expires_at.is_some_and(|at| at <= now) => {
                        return Ok((Retry::Expired, 0));
                    }
                    State::Cancelled => {}
                    State::Deferred => {
                        queue.remove(&queue_key(&m))?;
                    }
                    other => return Ok((Retry::NotRetryable(other), 0)),
                }
                let Some(body) = bodies.get(id_key(id))? else {
                    return Ok((Retry::NoBody, 0));
                };
                let back_bytes = if m.state.pending() { 0 } else { body.len() as u64 };
                m.state = State::Queued;
                m.not_before = now;
                queue.insert(&queue_key(&m), &[])?;
                outbox.insert(&id_key(id), abort(encode(&m))?)?;
                Ok((Retry::Queued, back_bytes))
            })
            .map_err(tx_error)?;
        let (answer, back_bytes) = answer;
        if answer == Retry::Queued {
            // Mail going back to the queue counts again; over the bound it still goes (it was
            // accepted once), and new mail waits until the queue drains.
            self.queued_bytes.fetch_add(back_bytes, Ordering::Relaxed);
            self.sync()?;
            self.signal_work();
        }
        Ok(answer)
    }

    pub(crate) fn retry_failed(&self, now: u64) -> Result<usize, StoreError> {
        let mut failed = Vec::new();
        for entry in self.outbox.iter() {
            let (key, bytes) = entry?;
            if decode::<Message>(&bytes)?.state == State::Failed {
                failed.push(u64::from_be_bytes(key.as_ref().try_into().unwrap_or_default()));
            }
        }
        let mut n = 0;
        for id in failed {
            if self.retry_now(id, now)? == Retry::Queued {
                n += 1;
            }
        }
        Ok(n)
    }

    pub(crate) fn rescue_expired(&self, now: u64) -> Result<usize, StoreError> {
        self.space.admit(Need::Upkeep)?;
        // By owner, so that each owner's messages go back in one write.
        let mut ended: std::collections::BTreeMap<u64, Vec<(MessageId, Outcome)>> = Default::default();
        for entry in self.outbox_inflight.iter() {
            let (key, held) = entry?;
            let lease = Lease::decode(&held);
            if lease.until < now {
                let id = u64::from_be_bytes(key.as_ref().try_into().unwrap_or_default());
                ended.entry(lease.owner).or_default().push((id, Outcome::Returned));
            }
        }
        let mut rescued = 0;
        for (owner, returned) in ended {
            rescued += self.finish_all(owner, returned, &[])?;
        }
        if rescued > 0 {
            self.signal_work();
        }
        Ok(rescued)
    }

    pub(crate) fn cancel(&self, id: MessageId) -> Result<bool, StoreError> {
        self.space.admit(Need::Upkeep)?;
        let cancelled = (&self.outbox, &self.outbox_queue, &self.outbox_bodies)
            .transaction(|(outbox, queue, bodies)| {
                let Some(bytes) = outbox.get(id_key(id))? else {
                    return Ok(None);
                };
                let mut m: Message = abort(decode(&bytes))?;
                if !matches!(m.state, State::Queued | State::Deferred) {
                    return Ok(None);
                }
                queue.remove(&queue_key(&m))?;
                // No longer queued, so no longer counted; kept for an undo.
                let freed = body_len(bodies.get(id_key(id))?);
                m.state = State::Cancelled;
                outbox.insert(&id_key(id), abort(encode(&m))?)?;
                Ok(Some(freed))
            })
            .map_err(tx_error)?;
        if let Some(freed) = cancelled {
            self.give_queued_bytes(freed);
            self.sync()?;
        }
        Ok(cancelled.is_some())
    }

    pub(crate) fn purge_outbox(&self, bodies_before: u64, records_before: u64) -> Result<usize, StoreError> {
        let mut removed = 0;
        for entry in self.outbox.iter() {
            let (key, bytes) = entry?;
            let m: Message = decode(&bytes)?;
            if m.state.pending() {
                continue;
            }
            if m.created_at < records_before {
                self.outbox.remove(&key)?;
                self.outbox_bodies.remove(&key)?;
                removed += 1;
            } else if m.created_at < bodies_before {
                self.outbox_bodies.remove(&key)?;
            }
        }
        for entry in self.outbox_keys.iter() {
            let (key, bytes) = entry?;
            if decode::<KeyRecord>(&bytes)?.at < records_before {
                self.outbox_keys.remove(&key)?;
            }
        }
        self.sync()?;
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{test_store::{backend, message as new, open}, Store};
    use super::*;

    /// The owner these tests' claims are held by.
    const OWNER: u64 = 7;

    async fn claim(store: &dyn Store, now: u64, max: usize, lowest: Priority) -> Result<Vec<Claimed>, StoreError> {
        let request = ClaimRequest { lowest, ..ClaimRequest::any(Lease { owner: OWNER, until: now + 60 }, now, max) };
        Ok(store.claim(request).await?.expect("no settings saved: none changed"))
    }

    async fn finish(store: &dyn Store, id: MessageId, outcome: Outcome) -> Result<(), StoreError> {
        let recorded = store.finish_all(OWNER, vec![(id, outcome)], &[]).await?;
        assert_eq!(recorded, 1, "held by this owner");
        Ok(())
    }

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

    #[tokio::test]
    async fn queued_bytes_are_bounded_and_counted_again_after_a_reopen() {
        use super::super::{test_store::secrets, SledStore, StoreOptions};
        let dir = tempfile::tempdir().unwrap();
        let big = |to: &str| {
            let mut m = new(to, Priority::Normal);
            m.body.text = "x".repeat(100_000);
            m
        };
        let options = StoreOptions {
            max_queued_bytes: 350_000,
            ..StoreOptions::default()
        };
        let open_bounded = || SledStore::open_with(dir.path(), secrets(), options).unwrap();
        let ids = {
            let store = open_bounded();
            let mut ids = Vec::new();
            loop {
                match store.enqueue(vec![big(&format!("r{}@example.com", ids.len()))], None, NOW).await {
                    Ok(done) => ids.extend_from_slice(done.ids()),
                    Err(StoreError::OutboxFull { queued, limit }) => {
                        assert_eq!(limit, 350_000);
                        assert!(queued > 200_000 && queued <= limit, "{queued}");
                        break;
                    }
                    Err(other) => panic!("{other}"),
                }
                assert!(ids.len() < 10, "the bound never held");
            }
            assert!(ids.len() >= 2, "{ids:?}");
            // Cancelling one makes room for one more.
            assert!(store.cancel(ids[0]).await.unwrap());
            ids.extend_from_slice(store.enqueue(vec![big("again@example.com")], None, NOW).await.unwrap().ids());
            assert!(matches!(store.enqueue(vec![big("x@example.com")], None, NOW).await, Err(StoreError::OutboxFull { .. })));
            ids
        };
        // Counted from the records at open: still full; sending one makes room.
        let store = open_bounded();
        assert!(matches!(store.enqueue(vec![big("y@example.com")], None, NOW).await, Err(StoreError::OutboxFull { .. })));
        let claimed = claim(&store, NOW, 1, Priority::Normal).await.unwrap();
        assert_eq!(claimed.len(), 1);
        finish(&store, claimed[0].message.id, Outcome::Sent(attempt(250))).await.unwrap();
        assert!(store.enqueue(vec![big("z@example.com")], None, NOW).await.is_ok());
        assert!(matches!(store.enqueue(vec![big("w@example.com")], None, NOW).await, Err(StoreError::OutboxFull { .. })));
        // A failed message put back by "Retry now" counts again (over the bound: it was
        // accepted once), so new mail still waits.
        let claimed = claim(&store, NOW, 1, Priority::Normal).await.unwrap();
        finish(&store, claimed[0].message.id, Outcome::Failed(attempt(550))).await.unwrap();
        assert_eq!(store.retry_now(claimed[0].message.id, NOW).await.unwrap(), Retry::Queued);
        assert!(matches!(store.enqueue(vec![big("v@example.com")], None, NOW).await, Err(StoreError::OutboxFull { .. })));
        assert_eq!(ids.len(), 3, "two sealed bodies of 100 kB fit in 350 kB: {ids:?}");
    }

    fn claimed_to(claimed: &[Claimed]) -> Vec<&str> {
        claimed.iter().map(|c| c.message.to.as_str()).collect()
    }

    #[tokio::test]
    async fn one_message_per_recipient_survives_a_reopen_and_the_body_is_sealed() {
        let dir = tempfile::tempdir().unwrap();
        let link = "https://mailroom.example/reset?token=SECRET-TOKEN-123";
        let ids = {
            let store = open(dir.path());
            let mut reset = new("a@example.com", Priority::Security);
            reset.body.text = format!("Open {link}");
            let done = store
                .enqueue(vec![reset, new("b@example.com", Priority::Security)], None, NOW).await
                .unwrap();
            let Enqueued::New(ids) = done else {
                panic!("{done:?}")
            };
            assert_eq!(ids.len(), 2);
            assert_ne!(ids[0], ids[1]);
            ids
        };
        for file in walk(dir.path()) {
            let bytes = std::fs::read(&file).unwrap();
            assert!(
                !bytes
                    .windows(b"SECRET-TOKEN-123".len())
                    .any(|w| w == b"SECRET-TOKEN-123"),
                "the reset link lies in clear in {}",
                file.display()
            );
        }
        let store = open(dir.path());
        let claimed = claim(&store, NOW, 10, Priority::Normal).await.unwrap();
        assert_eq!(claimed.iter().map(|c| c.message.id).collect::<Vec<_>>(), ids);
        assert_eq!(claimed[0].body.text, format!("Open {link}"));
        assert!(claimed.iter().all(|c| c.message.state == State::Sending));
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
        out
    }

    #[tokio::test]
    async fn owners_are_told_apart_over_the_whole_range_of_u64() {
        // Workers draw random u64s: one above i64::MAX must stay itself in any backend.
        let store = backend().open().await;
        let id = store.enqueue(vec![new("a", Priority::Normal)], None, NOW).await.unwrap().ids()[0];
        let (high, near) = (u64::MAX - 1, i64::MAX as u64);
        let lease = Lease { owner: high, until: NOW + 60 };
        assert_eq!(store.claim(ClaimRequest::any(lease, NOW, 10)).await.unwrap().unwrap().len(), 1);
        assert_eq!(store.renew_leases(Lease { owner: near, until: NOW + 90 }).await.unwrap(), 0);
        let sent = || vec![(id, Outcome::Sent(attempt(250)))];
        assert_eq!(store.finish_all(near, sent(), &[]).await.unwrap(), 0, "not its message");
        assert_eq!(store.finish_all(high, sent(), &[]).await.unwrap(), 1);
        assert_eq!(store.message(id).await.unwrap().unwrap().state, State::Sent);
    }

    #[tokio::test]
    async fn writes_that_give_the_outbox_work_wake_its_workers_and_others_do_not() {
        use super::super::ControlEvent;
        let b = backend();
        let store = b.open().await;
        let mut work = store.wake_ups();
        let mut woke = || {
            let changed = work.has_changed().unwrap();
            work.borrow_and_update();
            changed
        };
        assert!(!woke());
        let id = store.enqueue(vec![new("a", Priority::Normal)], Some("k"), NOW).await.unwrap().ids()[0];
        assert!(woke(), "queued");
        store.enqueue(vec![new("a", Priority::Normal)], Some("k"), NOW).await.unwrap();
        assert!(!woke(), "the same key queues nothing");
        assert_eq!(claim(&*store, NOW, 10, Priority::Normal).await.unwrap().len(), 1);
        finish(&*store, id, Outcome::Failed(attempt(550))).await.unwrap();
        assert!(!woke(), "claims and outcomes are the worker's own");
        assert_eq!(store.retry_now(id, NOW).await.unwrap(), Retry::Queued);
        assert!(woke(), "queued again");
        store.change_control(&[ControlEvent::Resumed]).await.unwrap();
        assert!(woke(), "a hold lifted");
    }

    #[tokio::test]
    async fn an_idempotency_key_answers_its_first_messages_for_a_day() {
        let b = backend();
        let store = b.open().await;
        let first = store
            .enqueue(vec![new("a@example.com", Priority::Alert)], Some("k1"), NOW).await
            .unwrap();
        let again = store
            .enqueue(
                vec![new("a@example.com", Priority::Alert)],
                Some("k1"),
                NOW + IDEMPOTENCY_SECS - 1,
            ).await
            .unwrap();
        assert_eq!(again, Enqueued::Existing(first.ids().to_vec()));
        assert_eq!(
            claim(&*store, NOW + IDEMPOTENCY_SECS, 10, Priority::Normal).await
                .unwrap()
                .len(),
            1,
            "nothing stored twice"
        );
        let later = store
            .enqueue(
                vec![new("a@example.com", Priority::Alert)],
                Some("k1"),
                NOW + IDEMPOTENCY_SECS,
            ).await
            .unwrap();
        assert!(matches!(later, Enqueued::New(_)), "{later:?}");
        assert_ne!(later.ids(), first.ids());
    }

    #[tokio::test]
    async fn security_mail_goes_first_then_alerts_then_the_rest_oldest_first() {
        let b = backend();
        let store = b.open().await;
        store
            .enqueue(vec![new("normal-old", Priority::Normal)], None, NOW).await
            .unwrap();
        store
            .enqueue(vec![new("alert", Priority::Alert)], None, NOW + 1).await
            .unwrap();
        store
            .enqueue(vec![new("normal-new", Priority::Normal)], None, NOW + 2).await
            .unwrap();
        store
            .enqueue(vec![new("security", Priority::Security)], None, NOW + 3).await
            .unwrap();
        let reserved = claim(&*store, NOW + 3, 10, Priority::Security).await.unwrap();
        assert_eq!(
            claimed_to(&reserved),
            ["security"],
            "only security mail when asked"
        );
        let first = claim(&*store, NOW + 3, 2, Priority::Normal).await.unwrap();
        assert_eq!(claimed_to(&first), ["alert", "normal-old"]);
        let rest = claim(&*store, NOW + 3, 10, Priority::Normal).await.unwrap();
        assert_eq!(claimed_to(&rest), ["normal-new"]);
        assert!(
            claim(&*store, NOW + 3, 10, Priority::Normal).await.unwrap().is_empty(),
            "each message is taken once"
        );
        let newest: Vec<String> = store
            .recent_messages(2).await
            .unwrap()
            .into_iter()
            .map(|m| m.to)
            .collect();
        assert_eq!(newest, ["security", "normal-new"]);
    }

    #[tokio::test]
    async fn a_deferred_message_waits_for_its_time_and_keeps_every_attempt() {
        let b = backend();
        let store = b.open().await;
        let id = store
            .enqueue(vec![new("a", Priority::Normal)], None, NOW).await
            .unwrap()
            .ids()[0];
        claim(&*store, NOW, 1, Priority::Normal).await.unwrap();
        finish(&*store, 
                id,
                Outcome::Deferred {
                    attempt: attempt(451),
                    until: NOW + 60,
                },
            ).await
            .unwrap();
        assert_eq!(store.message(id).await.unwrap().unwrap().state, State::Deferred);
        assert!(
            claim(&*store, NOW + 59, 10, Priority::Normal).await.unwrap().is_empty(),
            "not before its time"
        );
        assert_eq!(claim(&*store, NOW + 60, 10, Priority::Normal).await.unwrap().len(), 1);
        finish(&*store, id, Outcome::Sent(attempt(250))).await.unwrap();
        let m = store.message(id).await.unwrap().unwrap();
        assert_eq!(m.state, State::Sent);
        assert_eq!(
            m.attempts.iter().map(|a| a.code).collect::<Vec<_>>(),
            [Some(451), Some(250)]
        );
        assert!(claim(&*store, NOW + 3600, 10, Priority::Normal).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn the_oldest_due_is_the_earliest_waiting_message_due_now_of_any_priority() {
        let b = backend();
        let store = b.open().await;
        assert_eq!(store.oldest_due(NOW).await.unwrap(), None, "an empty queue");
        let normal = store.enqueue(vec![new("n", Priority::Normal)], None, NOW).await.unwrap().ids()[0];
        store.enqueue(vec![new("s", Priority::Security)], None, NOW + 30).await.unwrap();
        assert_eq!(store.oldest_due(NOW - 1).await.unwrap(), None, "nothing due yet");
        assert_eq!(store.oldest_due(NOW + 40).await.unwrap(), Some(NOW), "the normal one, though it ranks last");
        // The security one is taken first: being sent, it is not waiting.
        claim(&*store, NOW + 40, 1, Priority::Normal).await.unwrap();
        assert_eq!(store.oldest_due(NOW + 40).await.unwrap(), Some(NOW));
        let claimed = claim(&*store, NOW + 40, 10, Priority::Normal).await.unwrap();
        assert_eq!(claimed.iter().map(|c| c.message.id).collect::<Vec<_>>(), [normal]);
        assert_eq!(store.oldest_due(NOW + 40).await.unwrap(), None, "both are being sent");
        // Deferred: it waits again, due at its new time.
        finish(&*store, normal, Outcome::Deferred { attempt: attempt(451), until: NOW + 100 }).await.unwrap();
        assert_eq!(store.oldest_due(NOW + 99).await.unwrap(), None);
        assert_eq!(store.oldest_due(NOW + 500).await.unwrap(), Some(NOW + 100));
    }

    #[tokio::test]
    async fn final_outcomes_leave_the_queue() {
        let b = backend();
        let store = b.open().await;
        let ids = store
            .enqueue(
                vec![new("f", Priority::Normal), new("u", Priority::Normal)],
                None,
                NOW,
            ).await
            .unwrap()
            .ids()
            .to_vec();
        claim(&*store, NOW, 10, Priority::Normal).await.unwrap();
        finish(&*store, ids[0], Outcome::Failed(attempt(550))).await.unwrap();
        finish(&*store, ids[1], Outcome::Uncertain(attempt(0))).await.unwrap();
        assert_eq!(store.message(ids[0]).await.unwrap().unwrap().state, State::Failed);
        assert_eq!(store.message(ids[1]).await.unwrap().unwrap().state, State::Uncertain);
        let mut counts = store.count_by_state().await.unwrap();
        counts.sort_by_key(|(s, _)| format!("{s:?}"));
        assert_eq!(counts, [(State::Failed, 1), (State::Uncertain, 1)]);
        assert!(
            claim(&*store, NOW + 86_400, 10, Priority::Normal).await
                .unwrap()
                .is_empty(),
            "never sent again by itself"
        );
    }

    #[tokio::test]
    async fn a_message_past_its_time_expires_instead_of_being_sent() {
        let b = backend();
        let store = b.open().await;
        let mut reset = new("a", Priority::Security);
        reset.expires_at = Some(NOW + 1800);
        let id = store.enqueue(vec![reset], None, NOW).await.unwrap().ids()[0];
        assert!(claim(&*store, NOW + 1800, 10, Priority::Normal).await.unwrap().is_empty());
        assert_eq!(store.message(id).await.unwrap().unwrap().state, State::Expired);
        assert!(
            !store.has_body(id).await.unwrap(),
            "its body (the link) is gone"
        );
    }

    #[tokio::test]
    async fn a_lease_that_ends_gives_its_messages_back_and_its_late_outcome_is_refused() {
        let b = backend();
        let store = b.open().await;
        let ids = store
            .enqueue(vec![new("a", Priority::Normal), new("b", Priority::Normal)], None, NOW).await
            .unwrap()
            .ids()
            .to_vec();
        let first = Lease { owner: 1, until: NOW + 60 };
        assert_eq!(store.claim(ClaimRequest::any(first, NOW, 10)).await.unwrap().unwrap().len(), 2);
        assert_eq!(store.rescue_expired(NOW + 60).await.unwrap(), 0, "held until then");
        // The first worker lives and renews; then it stalls past its lease.
        assert_eq!(store.renew_leases(Lease { owner: 1, until: NOW + 120 }).await.unwrap(), 2);
        assert_eq!(store.renew_leases(Lease { owner: 2, until: NOW + 999 }).await.unwrap(), 0, "holds nothing");
        assert_eq!(store.rescue_expired(NOW + 100).await.unwrap(), 0);
        assert_eq!(store.rescue_expired(NOW + 121).await.unwrap(), 2);
        for id in &ids {
            assert_eq!(store.message(*id).await.unwrap().unwrap().state, State::Queued);
        }

        // A second worker takes them; the first one's outcome comes late and is not recorded.
        let second = Lease { owner: 2, until: NOW + 200 };
        assert_eq!(claimed_to(&claim_with(&*store, second).await), ["a", "b"]);
        let late = store.finish_all(1, vec![(ids[0], Outcome::Sent(attempt(250)))], &[]).await.unwrap();
        assert_eq!(late, 0);
        assert_eq!(store.message(ids[0]).await.unwrap().unwrap().state, State::Sending);
        let recorded = store
            .finish_all(2, vec![(ids[0], Outcome::Sent(attempt(250))), (ids[1], Outcome::Sent(attempt(250)))], &[]).await
            .unwrap();
        assert_eq!(recorded, 2);
        for id in &ids {
            assert_eq!(store.message(*id).await.unwrap().unwrap().state, State::Sent);
        }
    }

    async fn claim_with(store: &dyn Store, lease: Lease) -> Vec<Claimed> {
        store.claim(ClaimRequest::any(lease, NOW + 150, 10)).await.unwrap().unwrap()
    }

    #[tokio::test]
    async fn messages_left_sending_by_a_crash_go_back_to_the_queue_when_sled_reopens() {
        // sled's own behaviour (a shared backend rescues by the lease's age alone).
        let b = super::super::test_store::TestBackend::Sled(tempfile::tempdir().unwrap());
        let id = {
            let store = b.open().await;
            let id = store
                .enqueue(vec![new("a", Priority::Normal)], None, NOW).await
                .unwrap()
                .ids()[0];
            // A long lease: only the reopen can end it early.
            let lease = Lease { owner: 1, until: u64::MAX - 1 };
            assert_eq!(store.claim(ClaimRequest::any(lease, NOW, 10)).await.unwrap().unwrap().len(), 1);
            assert!(claim(&*store, NOW, 10, Priority::Normal).await.unwrap().is_empty(), "in flight, not queued");
            store.flush().await.unwrap();
            id
        };
        // sled's lock says the process that held it is gone.
        let store = b.open().await;
        assert_eq!(store.message(id).await.unwrap().unwrap().state, State::Queued);
        assert_eq!(claimed_to(&claim(&*store, NOW, 10, Priority::Normal).await.unwrap()), ["a"]);
    }

    #[tokio::test]
    async fn only_waiting_messages_can_be_cancelled() {
        let b = backend();
        let store = b.open().await;
        let ids = store
            .enqueue(
                vec![new("a", Priority::Normal), new("b", Priority::Normal)],
                None,
                NOW,
            ).await
            .unwrap()
            .ids()
            .to_vec();
        assert!(store.cancel(ids[0]).await.unwrap());
        assert_eq!(store.message(ids[0]).await.unwrap().unwrap().state, State::Cancelled);
        assert_eq!(
            claimed_to(&claim(&*store, NOW, 10, Priority::Normal).await.unwrap()),
            ["b"]
        );
        assert!(!store.cancel(ids[1]).await.unwrap(), "sending: too late");
        assert!(!store.cancel(ids[0]).await.unwrap(), "already cancelled");
        // Undone: queued again with its text, and claimed.
        assert_eq!(store.retry_now(ids[0], NOW).await.unwrap(), Retry::Queued);
        let again = claim(&*store, NOW, 10, Priority::Normal).await.unwrap();
        assert_eq!(claimed_to(&again), ["a"]);
    }

    #[tokio::test]
    async fn a_cancelled_message_cannot_be_queued_again_once_it_expired() {
        let b = backend();
        let store = b.open().await;
        let mut reset = new("a", Priority::Security);
        reset.expires_at = Some(NOW + 60);
        let id = store.enqueue(vec![reset], None, NOW).await.unwrap().ids()[0];
        assert!(store.cancel(id).await.unwrap());
        assert_eq!(store.retry_now(id, NOW + 60).await.unwrap(), Retry::Expired);
        assert_eq!(store.message(id).await.unwrap().unwrap().state, State::Cancelled);
        assert_eq!(store.retry_now(id, NOW + 59).await.unwrap(), Retry::Queued);
    }

    #[tokio::test]
    async fn listing_is_newest_first_filtered_and_paged() {
        let b = backend();
        let store = b.open().await;
        let mut batch: Vec<NewMessage> = (0..5).map(|i| new(&format!("user{i}@example.com"), Priority::Normal)).collect();
        batch[3].subject = "Disk full on db-1".into();
        let ids = store.enqueue(batch, None, NOW).await.unwrap().ids().to_vec();
        let claimed = claim(&*store, NOW, 1, Priority::Normal).await.unwrap();
        finish(&*store, claimed[0].message.id, Outcome::Failed(attempt(550))).await.unwrap();

        let all = MessageFilter::default();
        let page = store.list_messages(&all, None, 2).await.unwrap();
        let to: Vec<&str> = page.messages.iter().map(|m| m.to.as_str()).collect();
        assert_eq!(to, ["user4@example.com", "user3@example.com"]);
        let next = store.list_messages(&all, page.older.as_ref(), 10).await.unwrap();
        assert_eq!(next.messages.len(), 3);
        assert_eq!(next.older, None);
        let foreign = Cursor::from_text("not-an-id").unwrap();
        assert_eq!(store.list_messages(&all, Some(&foreign), 2).await.unwrap(), page, "a cursor it did not write lists from the newest");

        let failed = MessageFilter { state: Some(State::Failed), search: String::new() };
        let page = store.list_messages(&failed, None, 10).await.unwrap();
        assert_eq!(page.messages.iter().map(|m| m.id).collect::<Vec<_>>(), [ids[0]]);
        let search = MessageFilter { state: None, search: "DISK".into() };
        assert_eq!(store.list_messages(&search, None, 10).await.unwrap().messages[0].id, ids[3]);
        let search = MessageFilter { state: None, search: "USER2@".into() };
        assert_eq!(store.list_messages(&search, None, 10).await.unwrap().messages[0].id, ids[2]);
    }

    #[tokio::test]
    async fn failed_messages_can_be_retried_now_and_waiting_or_sent_ones_cannot() {
        let b = backend();
        let store = b.open().await;
        let ids = store
            .enqueue(vec![new("a", Priority::Normal), new("b", Priority::Normal), new("c", Priority::Normal)], None, NOW).await
            .unwrap()
            .ids()
            .to_vec();
        claim(&*store, NOW, 2, Priority::Normal).await.unwrap();
        finish(&*store, ids[0], Outcome::Failed(attempt(550))).await.unwrap();
        finish(&*store, ids[1], Outcome::Sent(attempt(250))).await.unwrap();

        assert_eq!(store.retry_now(ids[1], NOW).await.unwrap(), Retry::NotRetryable(State::Sent));
        assert_eq!(store.retry_now(ids[2], NOW).await.unwrap(), Retry::NotRetryable(State::Queued));
        assert_eq!(store.retry_now(999, NOW).await.unwrap(), Retry::NotFound);
        assert_eq!(store.retry_failed(NOW + 5).await.unwrap(), 1);
        let m = store.message(ids[0]).await.unwrap().unwrap();
        assert_eq!((m.state, m.not_before, m.attempts.len()), (State::Queued, NOW + 5, 1));
        // The longest due first: "c" since NOW, "a" since the retry.
        assert_eq!(claimed_to(&claim(&*store, NOW + 5, 10, Priority::Normal).await.unwrap()), ["c", "a"]);

        finish(&*store, ids[0], Outcome::Failed(attempt(550))).await.unwrap();
        store.purge_outbox(NOW + 1, 0).await.unwrap();
        assert!(!store.has_body(ids[0]).await.unwrap());
        assert_eq!(store.retry_now(ids[0], NOW).await.unwrap(), Retry::NoBody);
    }

    #[tokio::test]
    async fn purging_drops_old_bodies_first_and_old_records_later() {
        let b = backend();
        let store = b.open().await;
        let sent = store
            .enqueue(vec![new("sent", Priority::Normal)], Some("key"), NOW).await
            .unwrap()
            .ids()[0];
        let waiting = store
            .enqueue(vec![new("waiting", Priority::Normal)], None, NOW).await
            .unwrap()
            .ids()[0];
        claim(&*store, NOW, 1, Priority::Normal).await.unwrap();
        finish(&*store, sent, Outcome::Sent(attempt(250))).await.unwrap();

        assert_eq!(store.purge_outbox(NOW + 1, NOW).await.unwrap(), 0);
        assert!(
            !store.has_body(sent).await.unwrap(),
            "a sent body goes"
        );
        assert!(store.message(sent).await.unwrap().is_some(), "its record stays");
        assert!(
            store.has_body(waiting).await.unwrap(),
            "a waiting one stays"
        );

        assert_eq!(store.purge_outbox(NOW + 1, NOW + 1).await.unwrap(), 1);
        assert!(store.message(sent).await.unwrap().is_none());
        assert!(
            store.message(waiting).await.unwrap().is_some(),
            "never purged while pending"
        );
        // Its idempotency key went with it: the key queues anew.
        let again = store.enqueue(vec![new("sent", Priority::Normal)], Some("key"), NOW + 2).await.unwrap();
        assert!(matches!(again, Enqueued::New(_)), "{again:?}");
    }
}
