//! Writing a [`Snapshot`] of another store into an empty database (`mailroom migrate`): one
//! transaction, the tables locked against writers first, refused when any holds data.

use super::super::copy::{Copied, CopyError, Snapshot};
use super::super::StoreError;
use super::outbox::body_bytes;
use super::{big, Cached, Postgres};
use crate::outbox::State;
use deadpool_postgres::Transaction;

/// Rows per statement for the families that can be large (messages, bodies).
const CHUNK: usize = 5_000;

/// The tables a copy fills, and so the ones that must be empty before it.
const TABLES: &str = "settings, audit, admins, sessions, reset_tokens, api_tokens, alerts, sign_ins, \
                      once_secrets, login_backoff, outbox_control, outbox, outbox_bodies, outbox_keys, outbox_queued";

impl Postgres {
    /// Writes everything in `s`; nothing if the database already holds data.
    pub(crate) async fn restore(&self, s: &Snapshot) -> Result<Copied, CopyError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(StoreError::from)?;
        if let Some(what) = held(&tx).await? {
            return Err(CopyError::NotEmpty {
                what: format!("it holds {what}"),
            });
        }
        write(&tx, s).await?;
        tx.commit().await.map_err(StoreError::from)?;
        self.signal_work();
        Ok(s.counts())
    }
}

/// What the database holds already, if anything (its tables then locked against writers).
async fn held(tx: &Transaction<'_>) -> Result<Option<String>, StoreError> {
    // Readers go on; an instance writing now waits (or times out) instead of slipping
    // data in between the check and the copy.
    tx.batch_execute(&format!("LOCK TABLE {TABLES} IN EXCLUSIVE MODE"))
        .await?;
    let found = tx
            .maybe_row(
                "SELECT what FROM (\
                   SELECT 'mail settings or test history' AS what WHERE EXISTS (SELECT FROM settings WHERE key <> 'key_check') \
                   UNION ALL SELECT 'change history' WHERE EXISTS (SELECT FROM audit) \
                   UNION ALL SELECT 'admins' WHERE EXISTS (SELECT FROM admins) \
                   UNION ALL SELECT 'sessions' WHERE EXISTS (SELECT FROM sessions) \
                   UNION ALL SELECT 'API tokens' WHERE EXISTS (SELECT FROM api_tokens) \
                   UNION ALL SELECT 'outbox messages' WHERE EXISTS (SELECT FROM outbox) \
                   UNION ALL SELECT 'alert memories' WHERE EXISTS (SELECT FROM alerts) \
                 ) AS held LIMIT 1",
                &[],
            )
            .await?;
    Ok(found.map(|row| row.get(0)))
}

/// Every family of `s`, into the empty tables.
async fn write(tx: &Transaction<'_>, s: &Snapshot) -> Result<(), StoreError> {
    // An instance started on the database before any admin existed leaves only short-lived
    // records (its setup link, a login's back-off): they give way to the copy's.
    tx.batch_execute("DELETE FROM reset_tokens; DELETE FROM sign_ins; DELETE FROM once_secrets; DELETE FROM login_backoff; DELETE FROM outbox_keys")
            .await?;

    for (key, value) in [("mail", &s.mail), ("tests", &s.tests), ("templates", &s.templates)] {
        if let Some(value) = value {
            tx.run("INSERT INTO settings (key, value) VALUES ($1, $2)", &[&key, value]).await?;
        }
    }
    if let Some(control) = &s.control {
        tx.run(
            "UPDATE outbox_control SET record = $1 WHERE key = 'outbox'",
            &[control],
        )
        .await?;
    }
    tx.run("INSERT INTO audit (entry) SELECT entry FROM unnest($1::jsonb[]) WITH ORDINALITY AS a(entry, n) ORDER BY n", &[&s.audit])
            .await?;
    let admins: Vec<(String, serde_json::Value)> = s
        .admins
        .iter()
        .map(|a| Ok((a.email.to_lowercase(), serde_json::to_value(a)?)))
        .collect::<Result<_, serde_json::Error>>()?;
    for (email, record) in &admins {
        tx.run(
            "INSERT INTO admins (email, record) VALUES ($1, $2)",
            &[email, record],
        )
        .await?;
    }
    for (id_hash, r) in &s.sessions {
        tx.run(
            "INSERT INTO sessions (id_hash, email, created_at, last_seen) VALUES ($1, $2, $3, $4)",
            &[id_hash, &r.email, &big(r.created_at), &big(r.last_seen)],
        )
        .await?;
    }
    for (hash, r) in &s.resets {
        tx.run(
            "INSERT INTO reset_tokens (token_hash, email, expires_at) VALUES ($1, $2, $3)",
            &[hash, &r.email, &big(r.expires_at)],
        )
        .await?;
    }
    for (hash, t) in &s.tokens {
        tx.run(
                "INSERT INTO api_tokens (hash, id, name, created_by, created_at, last_used, scope) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[hash, &big(t.id), &t.name, &t.created_by, &big(t.created_at), &t.last_used.map(big), &t.scope.as_str()],
            )
            .await?;
    }
    tx.run(
        "SELECT setval('api_token_ids', GREATEST((SELECT max(id) FROM api_tokens), 1))",
        &[],
    )
    .await?;
    for (key, recipient, m) in &s.alerts {
        tx.run(
            "INSERT INTO alerts (key, recipient, firing, mailed_at, digest) VALUES ($1, $2, $3, $4, $5)",
            &[key, recipient, &m.firing, &big(m.mailed_at), &(m.digest as i64)],
        )
        .await?;
    }
    for (hash, r) in &s.sign_ins {
        tx.run(
            "INSERT INTO sign_ins (state_hash, admin, app, verifier, started_at) VALUES ($1, $2, $3, $4, $5)",
            &[hash, &r.admin, &r.app, &r.verifier, &big(r.started_at)],
        )
        .await?;
    }
    for (kind, key, sealed, expires_at) in &s.once {
        tx.run(
            "INSERT INTO once_secrets (kind, key, sealed, expires_at) VALUES ($1, $2, $3, $4)",
            &[&kind.name(), key, sealed, &expires_at.map(big)],
        )
        .await?;
    }
    for (key, count, last_ms) in &s.backoff {
        tx.run(
            "INSERT INTO login_backoff (key, count, last_ms) VALUES ($1, $2, $3)",
            &[key, &(*count.min(&(i32::MAX as u32)) as i32), &big(*last_ms)],
        )
        .await?;
    }
    for (key, ids, at) in &s.keys {
        let ids: Vec<i64> = ids.iter().map(|id| big(*id)).collect();
        tx.run(
            "INSERT INTO outbox_keys (key, ids, at) VALUES ($1, $2, $3)",
            &[key, &ids, &big(*at)],
        )
        .await?;
    }
    let mut queued = 0i64;
    for chunk in s.messages.chunks(CHUNK) {
        let mut ids = Vec::with_capacity(chunk.len());
        let (mut states, mut priorities, mut not_before, mut created, mut records) =
            (vec![], vec![], vec![], vec![], vec![]);
        let (mut body_ids, mut texts, mut htmls, mut sizes) = (vec![], vec![], vec![], vec![]);
        for (m, body) in chunk {
            // sled's open put back in the queue what was being sent; a record still
            // saying so is queued again here too (it has no lease to be rescued by).
            let state = if m.state == State::Sending {
                State::Queued
            } else {
                m.state
            };
            let record = serde_json::to_value(crate::outbox::Message { state, ..m.clone() })?;
            ids.push(big(m.id));
            states.push(state.label());
            priorities.push(m.priority.rank() as i16);
            not_before.push(big(m.not_before));
            created.push(big(m.created_at));
            records.push(record);
            if let Some(body) = body {
                let bytes = body_bytes(body);
                if state.pending() {
                    queued += bytes;
                }
                body_ids.push(big(m.id));
                texts.push(body.text.as_str());
                htmls.push(body.html.as_deref());
                sizes.push(bytes);
            }
        }
        tx.run(
                "INSERT INTO outbox (id, state, priority, not_before, created_at, record) \
                 SELECT * FROM unnest($1::bigint[], $2::text[], $3::smallint[], $4::bigint[], $5::bigint[], $6::jsonb[])",
                &[&ids, &states, &priorities, &not_before, &created, &records],
            )
            .await?;
        tx.run(
            "INSERT INTO outbox_bodies (id, text, html, bytes) \
                 SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[])",
            &[&body_ids, &texts, &htmls, &sizes],
        )
        .await?;
    }
    tx.run(
        "UPDATE outbox_queued SET bytes = CASE WHEN shard = 0 THEN $1::bigint ELSE 0 END",
        &[&queued],
    )
    .await?;
    tx.run(
        "SELECT setval('outbox_ids', GREATEST((SELECT max(id) FROM outbox), 1))",
        &[],
    )
    .await?;
    Ok(())
}
