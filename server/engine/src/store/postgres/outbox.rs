//! The outbox on PostgreSQL, with what changes with it: the alerts' storm memory and the
//! outbox's control record.
//!
//! A claim is one short transaction: the due messages, most urgent first, locked with
//! `FOR UPDATE SKIP LOCKED` (so workers on several instances each take others), marked
//! sending under the claimer's lease, counted against the mail server's limits, and kept only
//! if the saved settings are still the version the worker read. Outcomes are written in one
//! transaction per batch. Rows are always locked messages first, then the control row, so two
//! transactions never wait on each other in a circle.

use super::super::{
    outbox::{new_message, record_outcome, MAX_SCAN},
    AlertBatch, AlertFate, AlertMemory, AlertStore, ClaimRequest, Claimed, ControlEvent, ControlStore, Enqueued, Lease,
    MailBody, NewMessage, OutboxControl, OutboxStore, Outcome, ResetRecord, StoreError, IDEMPOTENCY_SECS,
};
use super::{big, owner_bits, owner_of, unsigned, Cached, Postgres};
use crate::outbox::{Cursor, Message, MessageFilter, MessageId, MessagePage, Retry, State};
use deadpool_postgres::Transaction;

fn state_named(name: &str) -> Result<State, StoreError> {
    State::SHOWN
        .into_iter()
        .chain([State::Sending])
        .find(|s| s.label() == name)
        .ok_or_else(|| StoreError::Corrupt(format!("an outbox row's state is {name:?}")))
}

fn record(value: serde_json::Value) -> Result<Message, StoreError> {
    Ok(serde_json::from_value(value)?)
}

pub(super) fn body_bytes(body: &MailBody) -> i64 {
    (body.text.len() + body.html.as_ref().map_or(0, String::len)) as i64
}

/// Rows of the counter of bytes waiting to be sent (`outbox_queued`, schema 1).
const QUEUED_SHARDS: i16 = 16;

/// Changes the bytes waiting to be sent by `delta`, on one of the counter's rows.
async fn count_queued(tx: &Transaction<'_>, delta: i64) -> Result<(), StoreError> {
    if delta != 0 {
        let shard = rand::random::<u8>() as i16 % QUEUED_SHARDS;
        tx.run("UPDATE outbox_queued SET bytes = bytes + $1 WHERE shard = $2", &[&delta, &shard])
            .await?;
    }
    Ok(())
}


/// New messages as the columns of their rows, for `unnest`.
struct NewRows<'a> {
    ids: Vec<i64>,
    states: Vec<&'static str>,
    priorities: Vec<i16>,
    records: Vec<serde_json::Value>,
    texts: Vec<&'a str>,
    htmls: Vec<Option<&'a str>>,
    sizes: Vec<i64>,
    /// What their bodies add to the bytes waiting to be sent.
    bytes: i64,
}

impl<'a> NewRows<'a> {
    fn of(
        ids: Vec<i64>,
        messages: &'a [NewMessage],
        idempotency_key: Option<&str>,
        now: u64,
    ) -> Result<Self, StoreError> {
        let sizes: Vec<i64> = messages.iter().map(|m| body_bytes(&m.body)).collect();
        let mut rows = NewRows {
            states: Vec::with_capacity(ids.len()),
            priorities: Vec::with_capacity(ids.len()),
            records: Vec::with_capacity(ids.len()),
            texts: messages.iter().map(|m| m.body.text.as_str()).collect(),
            htmls: messages.iter().map(|m| m.body.html.as_deref()).collect(),
            bytes: sizes.iter().sum(),
            sizes,
            ids,
        };
        for (id, m) in rows.ids.iter().zip(messages) {
            let message = new_message(unsigned(*id), m, idempotency_key, now);
            rows.states.push(message.state.label());
            rows.priorities.push(message.priority.rank() as i16);
            rows.records.push(serde_json::to_value(&message)?);
        }
        Ok(rows)
    }
}

/// Ids for `count` new messages.
async fn new_ids(client: &impl Cached, count: usize) -> Result<Vec<i64>, tokio_postgres::Error> {
    let rows = client
        .rows("SELECT nextval('outbox_ids') FROM generate_series(1, $1::bigint)", &[&(count as i64)])
        .await?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

impl Postgres {
    /// Stores new messages (records and bodies) in `tx`; their ids, in order. Refused when they
    /// would pass the bound on mail waiting to be sent (over every instance; writers at the same
    /// moment may pass it by what they bring). Statements that do not wait on each other go out
    /// together (tokio-postgres pipelines what is polled at once): two round trips in all.
    async fn insert_messages(
        &self,
        tx: &Transaction<'_>,
        messages: &[NewMessage],
        idempotency_key: Option<&str>,
        now: u64,
    ) -> Result<Vec<MessageId>, StoreError> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let (queued, ids) = futures_util::future::try_join(
            tx.row("SELECT coalesce(sum(bytes), 0)::bigint FROM outbox_queued", &[]),
            new_ids(tx, messages.len()),
        )
        .await?;
        let rows = NewRows::of(ids, messages, idempotency_key, now)?;
        let queued = unsigned(queued.get(0));
        let limit = self.0.max_queued_bytes;
        if queued.saturating_add(unsigned(rows.bytes)) > limit {
            return Err(StoreError::OutboxFull { queued, limit });
        }
        let shard = rand::random::<u8>() as i16 % QUEUED_SHARDS;
        futures_util::future::try_join3(
            tx.run(
                "INSERT INTO outbox (id, state, priority, not_before, created_at, record) \
                 SELECT id, state, priority, $4, $4, record FROM unnest($1::bigint[], $2::text[], $3::smallint[], $5::jsonb[]) \
                 AS m(id, state, priority, record)",
                &[&rows.ids, &rows.states, &rows.priorities, &big(now), &rows.records],
            ),
            tx.run(
                "INSERT INTO outbox_bodies (id, text, html, bytes) \
                 SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[])",
                &[&rows.ids, &rows.texts, &rows.htmls, &rows.sizes],
            ),
            tx.run("UPDATE outbox_queued SET bytes = bytes + $1 WHERE shard = $2", &[&rows.bytes, &shard]),
        )
        .await?;
        Ok(rows.ids.into_iter().map(unsigned).collect())
    }

    /// [`Self::insert_messages`] when nothing else goes in the same transaction: one statement
    /// that checks the room and writes the records, the bodies and the counter, committed on its
    /// own (two round trips in all, and no `BEGIN` and `COMMIT` of their own).
    async fn insert_alone(&self, messages: &[NewMessage], now: u64) -> Result<Vec<MessageId>, StoreError> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let client = self.client().await?;
        let rows = NewRows::of(new_ids(&client, messages.len()).await?, messages, None, now)?;
        let shard = rand::random::<u8>() as i16 % QUEUED_SHARDS;
        let limit = self.0.max_queued_bytes;
        let row = client
            .row(
                "WITH room AS (SELECT coalesce(sum(bytes), 0)::bigint AS queued FROM outbox_queued), \
                 fits AS (SELECT 1 FROM room WHERE queued + $6 <= $7), \
                 m AS (INSERT INTO outbox (id, state, priority, not_before, created_at, record) \
                       SELECT id, state, priority, $4, $4, record \
                       FROM unnest($1::bigint[], $2::text[], $3::smallint[], $5::jsonb[]) AS u(id, state, priority, record) \
                       WHERE EXISTS (SELECT 1 FROM fits)), \
                 b AS (INSERT INTO outbox_bodies (id, text, html, bytes) \
                       SELECT * FROM unnest($1::bigint[], $8::text[], $9::text[], $10::bigint[]) \
                       WHERE EXISTS (SELECT 1 FROM fits)), \
                 c AS (UPDATE outbox_queued SET bytes = bytes + $6 WHERE shard = $11 AND EXISTS (SELECT 1 FROM fits)) \
                 SELECT queued, EXISTS (SELECT 1 FROM fits) FROM room",
                &[
                    &rows.ids,
                    &rows.states,
                    &rows.priorities,
                    &big(now),
                    &rows.records,
                    &rows.bytes,
                    &big(limit),
                    &rows.texts,
                    &rows.htmls,
                    &rows.sizes,
                    &shard,
                ],
            )
            .await?;
        if !row.get::<_, bool>(1) {
            return Err(StoreError::OutboxFull { queued: unsigned(row.get(0)), limit });
        }
        Ok(rows.ids.into_iter().map(unsigned).collect())
    }

    /// Records outcomes of messages each held by its owner, in `tx`: messages whose lease is
    /// no longer that owner's are left alone. How many were recorded.
    async fn record_outcomes(
        &self,
        tx: &Transaction<'_>,
        outcomes: Vec<(MessageId, u64, Outcome)>,
    ) -> Result<(usize, bool), StoreError> {
        let ids: Vec<i64> = outcomes.iter().map(|(id, _, _)| big(*id)).collect();
        let rows = tx
            .rows(
                "SELECT id, record, lease_owner FROM outbox WHERE id = ANY($1) ORDER BY id FOR UPDATE",
                &[&ids],
            )
            .await?;
        let mut held = std::collections::HashMap::with_capacity(rows.len());
        for row in rows {
            let owner: Option<i64> = row.get(2);
            held.insert(unsigned(row.get(0)), (owner.map(owner_of), row.get::<_, serde_json::Value>(1)));
        }
        let (mut up_ids, mut states, mut not_before, mut records, mut finals) = (vec![], vec![], vec![], vec![], vec![]);
        let mut requeued = false;
        for (id, owner, outcome) in outcomes {
            let Some((Some(holder), value)) = held.remove(&id) else {
                continue;
            };
            if holder != owner {
                continue;
            }
            let mut m = record(value)?;
            record_outcome(&mut m, outcome);
            if !m.state.pending() {
                finals.push(big(id));
            }
            requeued |= m.state == State::Queued;
            up_ids.push(big(id));
            states.push(m.state.label());
            not_before.push(big(m.not_before));
            records.push(serde_json::to_value(&m)?);
        }
        if up_ids.is_empty() {
            return Ok((0, false));
        }
        // The records and, for messages done with, the bytes no longer waiting, together.
        let shard = rand::random::<u8>() as i16 % QUEUED_SHARDS;
        futures_util::future::try_join(
            tx.run(
                "UPDATE outbox AS o SET state = u.state, not_before = u.not_before, record = u.record, \
                 lease_owner = NULL, lease_until = NULL \
                 FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::jsonb[]) AS u(id, state, not_before, record) \
                 WHERE o.id = u.id",
                &[&up_ids, &states, &not_before, &records],
            ),
            tx.run(
                "UPDATE outbox_queued SET bytes = bytes - \
                 (SELECT coalesce(sum(bytes), 0)::bigint FROM outbox_bodies WHERE id = ANY($1)) \
                 WHERE shard = $2 AND cardinality($1::bigint[]) > 0",
                &[&finals, &shard],
            ),
        )
        .await?;
        Ok((up_ids.len(), requeued))
    }

    /// Applies `events` to the control record in `tx` (its row locked until the end).
    async fn apply_control(tx: &Transaction<'_>, events: &[ControlEvent]) -> Result<OutboxControl, StoreError> {
        let row = tx
            .row("SELECT record FROM outbox_control WHERE key = 'outbox' FOR UPDATE", &[])
            .await?;
        let mut control: OutboxControl = serde_json::from_value(row.get(0))?;
        if !events.is_empty() {
            for event in events {
                control.apply(event);
            }
            tx.run(
                "UPDATE outbox_control SET record = $1 WHERE key = 'outbox'",
                &[&serde_json::to_value(&control)?],
            )
            .await?;
        }
        Ok(control)
    }

    /// Puts one message back in the queue in `tx` (see [`OutboxStore::retry_now`]).
    async fn retry_in(&self, tx: &Transaction<'_>, id: MessageId, now: u64) -> Result<Retry, StoreError> {
        let Some(row) = tx.maybe_row("SELECT record FROM outbox WHERE id = $1 FOR UPDATE", &[&big(id)]).await? else {
            return Ok(Retry::NotFound);
        };
        let mut m = record(row.get(0))?;
        match m.state {
            State::Failed | State::Uncertain | State::Deferred => {}
            State::Cancelled if m.expires_at.is_some_and(|at| at <= now) => return Ok(Retry::Expired),
            State::Cancelled => {}
            other => return Ok(Retry::NotRetryable(other)),
        }
        let Some(body) = tx.maybe_row("SELECT bytes FROM outbox_bodies WHERE id = $1", &[&big(id)]).await? else {
            return Ok(Retry::NoBody);
        };
        // Mail going back to the queue counts again; over the bound it still goes (it was
        // accepted once), and new mail waits until the queue drains.
        if !m.state.pending() {
            count_queued(tx, body.get(0)).await?;
        }
        m.state = State::Queued;
        m.not_before = now;
        tx.run(
            "UPDATE outbox SET state = $2, not_before = $3, record = $4 WHERE id = $1",
            &[&big(id), &m.state.label(), &big(now), &serde_json::to_value(&m)?],
        )
        .await?;
        Ok(Retry::Queued)
    }
}

#[async_trait::async_trait]
impl OutboxStore for Postgres {
    async fn enqueue(&self, messages: Vec<NewMessage>, idempotency_key: Option<&str>, now: u64) -> Result<Enqueued, StoreError> {
        if idempotency_key.is_none() {
            let ids = self.insert_alone(&messages, now).await?;
            self.signal_work();
            return Ok(Enqueued::New(ids));
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        if let Some(key) = idempotency_key {
            // The key's row first: a second request with it waits here for the first to end.
            let fresh = tx
                .run(
                    "INSERT INTO outbox_keys (key, ids, at) VALUES ($1, '{}', $2) ON CONFLICT (key) DO NOTHING",
                    &[&key, &big(now)],
                )
                .await?;
            if fresh == 0 {
                let row = tx.row("SELECT ids, at FROM outbox_keys WHERE key = $1 FOR UPDATE", &[&key]).await?;
                let at = unsigned(row.get(1));
                if now < at.saturating_add(IDEMPOTENCY_SECS) {
                    let ids: Vec<i64> = row.get(0);
                    return Ok(Enqueued::Existing(ids.into_iter().map(unsigned).collect()));
                }
            }
        }
        let ids = self.insert_messages(&tx, &messages, idempotency_key, now).await?;
        if let Some(key) = idempotency_key {
            let stored: Vec<i64> = ids.iter().map(|id| big(*id)).collect();
            tx.run("UPDATE outbox_keys SET ids = $2, at = $3 WHERE key = $1", &[&key, &stored, &big(now)])
                .await?;
        }
        tx.commit().await?;
        self.signal_work();
        Ok(Enqueued::New(ids))
    }

    async fn enqueue_reset(&self, token_hash: &str, reset: &ResetRecord, mail: Option<NewMessage>, now: u64) -> Result<Option<MessageId>, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.run(
            "INSERT INTO reset_tokens (token_hash, email, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (token_hash) DO UPDATE SET email = EXCLUDED.email, expires_at = EXCLUDED.expires_at",
            &[&token_hash, &reset.email, &big(reset.expires_at)],
        )
        .await?;
        let mail: Vec<NewMessage> = mail.into_iter().collect();
        let ids = self.insert_messages(&tx, &mail, None, now).await?;
        tx.commit().await?;
        if !ids.is_empty() {
            self.signal_work();
        }
        Ok(ids.first().copied())
    }

    async fn claim(&self, request: ClaimRequest) -> Result<Option<Vec<Claimed>>, StoreError> {
        let ClaimRequest { lease, now, max, lowest, settings_version, counted } = request;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // The saved settings' version is read after the messages, in the same round trip (the
        // connection runs statements in order): any save committed before the messages were
        // read is seen, and if the settings changed, nothing is taken.
        let (rows, saved) = futures_util::future::try_join(
            tx.rows(
                "SELECT o.id, o.record, b.text, b.html, b.bytes FROM outbox AS o \
                 LEFT JOIN outbox_bodies AS b ON b.id = o.id \
                 WHERE o.state IN ('Queued', 'Deferred') AND o.not_before <= $1 AND o.priority <= $2 \
                 ORDER BY o.priority, o.not_before, o.id LIMIT $3 FOR UPDATE OF o SKIP LOCKED",
                &[&big(now), &(lowest.rank() as i16), &big(max as u64)],
            ),
            tx.maybe_row("SELECT (value->>'version')::bigint FROM settings WHERE key = 'mail'", &[]),
        )
        .await?;
        if rows.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let saved: i64 = saved.map_or(0, |row| row.get::<_, Option<i64>>(0).unwrap_or(0));
        if unsigned(saved) != settings_version {
            return Ok(None);
        }
        let (mut taken, mut taken_ids, mut taken_records) = (Vec::new(), Vec::new(), Vec::new());
        let (mut expired_ids, mut expired_records, mut expired_bytes) = (Vec::new(), Vec::new(), 0i64);
        for row in rows {
            let id: i64 = row.get(0);
            let mut m = record(row.get(1))?;
            if m.expires_at.is_some_and(|at| at <= now) {
                m.state = State::Expired;
                expired_bytes += row.get::<_, Option<i64>>(4).unwrap_or(0);
                expired_ids.push(id);
                expired_records.push(serde_json::to_value(&m)?);
                continue;
            }
            m.state = State::Sending;
            taken_ids.push(id);
            taken_records.push(serde_json::to_value(&m)?);
            let body = MailBody {
                text: row.get::<_, Option<String>>(2).unwrap_or_default(),
                html: row.get(3),
                thread: None,
                raw: None,
            };
            taken.push(Claimed { message: m, body });
        }
        if !taken_ids.is_empty() {
            tx.run(
                "UPDATE outbox AS o SET state = 'Sending', record = u.record, lease_owner = $2, lease_until = $3 \
                 FROM unnest($1::bigint[], $4::jsonb[]) AS u(id, record) WHERE o.id = u.id",
                &[&taken_ids, &owner_bits(lease.owner), &big(lease.until), &taken_records],
            )
            .await?;
        }
        if !expired_ids.is_empty() {
            tx.run(
                "UPDATE outbox AS o SET state = 'Expired', record = u.record \
                 FROM unnest($1::bigint[], $2::jsonb[]) AS u(id, record) WHERE o.id = u.id",
                &[&expired_ids, &expired_records],
            )
            .await?;
            tx.run("DELETE FROM outbox_bodies WHERE id = ANY($1)", &[&expired_ids]).await?;
            count_queued(&tx, -expired_bytes).await?;
        }
        if counted && !taken.is_empty() {
            Self::apply_control(&tx, &[ControlEvent::Claimed { at: now, messages: taken.len() }]).await?;
        }
        tx.commit().await?;
        Ok(Some(taken))
    }

    async fn finish_all(&self, owner: u64, outcomes: Vec<(MessageId, Outcome)>, control: &[ControlEvent]) -> Result<usize, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let outcomes = outcomes.into_iter().map(|(id, outcome)| (id, owner, outcome)).collect();
        let (recorded, _) = self.record_outcomes(&tx, outcomes).await?;
        Self::apply_control(&tx, control).await?;
        tx.commit().await?;
        Ok(recorded)
    }

    async fn renew_leases(&self, lease: Lease) -> Result<usize, StoreError> {
        let client = self.client().await?;
        let n = client
            .run(
                "UPDATE outbox SET lease_until = $2 WHERE lease_owner = $1",
                &[&owner_bits(lease.owner), &big(lease.until)],
            )
            .await?;
        Ok(n as usize)
    }

    async fn rescue_expired(&self, now: u64) -> Result<usize, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let rows = tx
            .rows(
                "SELECT id, lease_owner FROM outbox WHERE lease_owner IS NOT NULL AND lease_until < $1 \
                 ORDER BY id FOR UPDATE SKIP LOCKED",
                &[&big(now)],
            )
            .await?;
        let returned = rows
            .iter()
            .map(|row| (unsigned(row.get(0)), owner_of(row.get(1)), Outcome::Returned))
            .collect();
        let (rescued, _) = self.record_outcomes(&tx, returned).await?;
        if rescued > 0 {
        }
        tx.commit().await?;
        if rescued > 0 {
            self.signal_work();
        }
        Ok(rescued)
    }

    async fn message(&self, id: MessageId) -> Result<Option<Message>, StoreError> {
        let client = self.client().await?;
        client
            .maybe_row("SELECT record FROM outbox WHERE id = $1", &[&big(id)])
            .await?
            .map(|row| record(row.get(0)))
            .transpose()
    }

    async fn has_body(&self, id: MessageId) -> Result<bool, StoreError> {
        let client = self.client().await?;
        Ok(client
            .row("SELECT EXISTS (SELECT 1 FROM outbox_bodies WHERE id = $1)", &[&big(id)])
            .await?
            .get(0))
    }

    async fn recent_messages(&self, limit: usize) -> Result<Vec<Message>, StoreError> {
        let client = self.client().await?;
        client
            .rows("SELECT record FROM outbox ORDER BY id DESC LIMIT $1", &[&big(limit as u64)])
            .await?
            .into_iter()
            .map(|row| record(row.get(0)))
            .collect()
    }

    async fn list_messages(&self, filter: &MessageFilter, from: Option<&Cursor>, limit: usize) -> Result<MessagePage, StoreError> {
        /// Rows read per round trip.
        const CHUNK: i64 = 500;
        let client = self.client().await?;
        // The cursor: the id the next page starts below. One this did not write (a URL edited
        // by hand) lists from the newest.
        let mut below = from
            .and_then(|c| c.as_str().parse::<MessageId>().ok())
            .map_or(i64::MAX, big);
        let state = filter.state.map(State::label);
        let mut page = MessagePage::default();
        let mut scanned = 0;
        loop {
            let rows = client
                .rows(
                    "SELECT id, record FROM outbox WHERE id < $1 AND ($2::text IS NULL OR state = $2) \
                     ORDER BY id DESC LIMIT $3",
                    &[&below, &state, &CHUNK],
                )
                .await?;
            let last_chunk = (rows.len() as i64) < CHUNK;
            for row in rows {
                let id: i64 = row.get(0);
                if page.messages.len() == limit || scanned == MAX_SCAN {
                    page.older = Cursor::from_text(&(id + 1).to_string());
                    return Ok(page);
                }
                scanned += 1;
                below = id;
                let m = record(row.get(1))?;
                if filter.matches(&m) {
                    page.messages.push(m);
                }
            }
            if last_chunk {
                return Ok(page);
            }
        }
    }

    async fn retry_now(&self, id: MessageId, now: u64) -> Result<Retry, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let answer = self.retry_in(&tx, id, now).await?;
        if answer == Retry::Queued {
            tx.commit().await?;
            self.signal_work();
        }
        Ok(answer)
    }

    async fn retry_failed(&self, now: u64) -> Result<usize, StoreError> {
        let ids: Vec<i64> = {
            let client = self.client().await?;
            client
                .rows("SELECT id FROM outbox WHERE state = 'Failed' ORDER BY id", &[])
                .await?
                .iter()
                .map(|row| row.get(0))
                .collect()
        };
        let mut n = 0;
        for id in ids {
            if self.retry_now(unsigned(id), now).await? == Retry::Queued {
                n += 1;
            }
        }
        Ok(n)
    }

    async fn count_by_state(&self) -> Result<Vec<(State, usize)>, StoreError> {
        let client = self.client().await?;
        client
            .rows("SELECT state, count(*) FROM outbox GROUP BY state", &[])
            .await?
            .iter()
            .map(|row| Ok((state_named(row.get(0))?, row.get::<_, i64>(1) as usize)))
            .collect()
    }

    async fn oldest_due(&self, now: u64) -> Result<Option<u64>, StoreError> {
        let client = self.client().await?;
        // The partial due index holds exactly the waiting rows.
        let row = client
            .row(
                "SELECT min(not_before) FROM outbox WHERE state IN ('Queued', 'Deferred') AND not_before <= $1",
                &[&big(now)],
            )
            .await?;
        Ok(row.get::<_, Option<i64>>(0).map(|at| at as u64))
    }

    async fn cancel(&self, id: MessageId) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let Some(row) = tx.maybe_row("SELECT record FROM outbox WHERE id = $1 FOR UPDATE", &[&big(id)]).await? else {
            return Ok(false);
        };
        let mut m = record(row.get(0))?;
        if !matches!(m.state, State::Queued | State::Deferred) {
            return Ok(false);
        }
        // No longer queued, so no longer counted; its text kept for an undo.
        m.state = State::Cancelled;
        tx.run(
            "UPDATE outbox SET state = 'Cancelled', record = $2 WHERE id = $1",
            &[&big(id), &serde_json::to_value(&m)?],
        )
        .await?;
        let freed: i64 = tx
            .row("SELECT coalesce(sum(bytes), 0)::bigint FROM outbox_bodies WHERE id = $1", &[&big(id)])
            .await?
            .get(0);
        count_queued(&tx, -freed).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn purge_outbox(&self, bodies_before: u64, records_before: u64) -> Result<usize, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let done = "state NOT IN ('Queued', 'Deferred', 'Sending')";
        tx.execute(
            &format!("DELETE FROM outbox_bodies WHERE id IN (SELECT id FROM outbox WHERE {done} AND created_at < $1)"),
            &[&big(bodies_before.max(records_before))],
        )
        .await?;
        let removed = tx
            .execute(&format!("DELETE FROM outbox WHERE {done} AND created_at < $1"), &[&big(records_before)])
            .await?;
        tx.run("DELETE FROM outbox_keys WHERE at < $1", &[&big(records_before)]).await?;
        tx.commit().await?;
        Ok(removed as usize)
    }
}

#[async_trait::async_trait]
impl AlertStore for Postgres {
    async fn alert_memory(&self, key: &str, recipient: &str) -> Result<Option<AlertMemory>, StoreError> {
        let client = self.client().await?;
        Ok(client
            .maybe_row(
                "SELECT firing, mailed_at, digest FROM alerts WHERE key = $1 AND recipient = $2",
                &[&key, &recipient.to_ascii_lowercase()],
            )
            .await?
            .map(|row| AlertMemory { firing: row.get(0), mailed_at: unsigned(row.get(1)), digest: row.get::<_, i64>(2) as u64 }))
    }

    async fn enqueue_alert(&self, batch: AlertBatch, now: u64) -> Result<Vec<AlertFate>, StoreError> {
        use crate::delivery::storm::{decide, Decision};
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // One alert's requests take turns (on every instance): each decides from the memory
        // the one before left.
        tx.run("SELECT pg_advisory_xact_lock(3, hashtext($1))", &[&batch.key]).await?;
        let mut fates = Vec::with_capacity(batch.messages.len());
        let mut mail = Vec::new();
        for m in batch.messages {
            let recipient = m.to.to_ascii_lowercase();
            let known = tx
                .maybe_row(
                    "SELECT firing, mailed_at, digest FROM alerts WHERE key = $1 AND recipient = $2",
                    &[&batch.key, &recipient],
                )
                .await?
                .map(|row| AlertMemory { firing: row.get(0), mailed_at: unsigned(row.get(1)), digest: row.get::<_, i64>(2) as u64 });
            match decide(known, batch.firing, batch.digest, batch.repeat_secs, now) {
                Decision::Mail => {
                    tx.run(
                        "INSERT INTO alerts (key, recipient, firing, mailed_at, digest) VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (key, recipient) DO UPDATE SET firing = EXCLUDED.firing, mailed_at = EXCLUDED.mailed_at, \
                         digest = EXCLUDED.digest",
                        &[&batch.key, &recipient, &batch.firing, &big(now), &(batch.digest as i64)],
                    )
                    .await?;
                    fates.push(None);
                    mail.push(m);
                }
                held => fates.push(Some(held)),
            }
        }
        let mut ids = self.insert_messages(&tx, &mail, None, now).await?.into_iter();
        tx.commit().await?;
        if !mail.is_empty() {
            self.signal_work();
        }
        Ok(fates
            .into_iter()
            .map(|fate| match fate {
                Some(held) => AlertFate::Held(held),
                None => AlertFate::Queued(ids.next().unwrap_or_default()),
            })
            .collect())
    }

    async fn purge_alerts(&self, before: u64) -> Result<usize, StoreError> {
        let client = self.client().await?;
        Ok(client
            .run("DELETE FROM alerts WHERE NOT firing AND mailed_at < $1", &[&big(before)])
            .await? as usize)
    }
}

#[async_trait::async_trait]
impl ControlStore for Postgres {
    async fn outbox_control(&self) -> Result<OutboxControl, StoreError> {
        let client = self.client().await?;
        let row = client
            .row("SELECT record FROM outbox_control WHERE key = 'outbox'", &[])
            .await?;
        Ok(serde_json::from_value(row.get(0))?)
    }

    async fn change_control(&self, events: &[ControlEvent]) -> Result<OutboxControl, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let control = Self::apply_control(&tx, events).await?;
        // A hold lifted (or one that others must now obey): every worker looks again.
        tx.commit().await?;
        self.signal_work();
        Ok(control)
    }
}
