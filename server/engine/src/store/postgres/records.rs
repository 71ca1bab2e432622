//! Everything but the outbox on PostgreSQL: the mail settings and test history, the change
//! history, admins, sessions and reset tokens, API tokens, OAuth2 sign-ins, secrets shown
//! once, the login back-off. Each trait's rules are the same as on sled (the conformance
//! suite checks both); what several instances could race on is one transaction with a row
//! lock, a unique key, or a transaction-scoped advisory lock.

use super::super::{
    audit::MAX_AUDIT_ENTRIES,
    mail::{connecting, disconnecting, next_version, saving},
    migrations::SCHEMA_VERSION,
    sign_ins::{MAX_PENDING, SIGN_IN_TTL_SECS},
    AdminRecord, AdminStore, AuditStore, BackoffStore, MailSettingsStore, Once, OnceStore, ResetRecord,
    SessionLifetime, SessionRecord, SessionStore, SignInRecord, SignInStore, Sled, StoreError, TokenRecord,
    TokenRefusal, TokenStore, Versioned, MAX_TOKENS,
};
use super::{big, unsigned, Cached, Postgres};
use crate::domain::{MailServer, Mailbox, Password};
use crate::history::{AuditEntry, Change, TestHistory, TestOutcome};
use crate::ratelimit::{backoff_delay, capped, secs_ceil, FORGET_AFTER, MAX_KEYS};
use std::time::Duration;

/// Transaction-scoped advisory locks (`pg_advisory_xact_lock`) of what has no row to lock.
const LOCK_TOKENS: i64 = 1;
const LOCK_SIGN_INS: i64 = 2;

fn json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, StoreError> {
    Ok(serde_json::to_value(value)?)
}

fn from_json<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, StoreError> {
    Ok(serde_json::from_value(value)?)
}

/// The mail record as the settings table keeps it: sled's JSON of it.
fn mail_json(record: &Versioned<MailServer>) -> Result<serde_json::Value, StoreError> {
    Ok(serde_json::from_slice(&Sled::encode_mail(record)?)?)
}

fn mail_from_json(value: &serde_json::Value) -> Result<Versioned<MailServer>, StoreError> {
    Sled::decode_mail(&serde_json::to_vec(value)?)
}

/// Adds the change-history entry and keeps the newest [`MAX_AUDIT_ENTRIES`].
async fn audit(tx: &deadpool_postgres::Transaction<'_>, entry: &AuditEntry) -> Result<(), StoreError> {
    tx.run("INSERT INTO audit (entry) VALUES ($1)", &[&json(entry)?]).await?;
    tx.run(
        "DELETE FROM audit WHERE id <= (SELECT id FROM audit ORDER BY id DESC OFFSET $1 LIMIT 1)",
        &[&(MAX_AUDIT_ENTRIES as i64)],
    )
    .await?;
    Ok(())
}

fn entry(who: &str, change: Change) -> AuditEntry {
    AuditEntry {
        who: who.to_string(),
        at: crate::clock::now_rfc3339(),
        changes: vec![change],
    }
}

impl Postgres {
    /// Writes what `next` makes of the current record (nothing when it answers `None`) as the
    /// next version, with its change-history entry, in one transaction holding the record's
    /// row. Two first saves at once: the loser sees the winner's on its second pass.
    async fn update_mail(
        &self,
        who: &str,
        next: impl Fn(Option<&Versioned<MailServer>>) -> Result<Option<MailServer>, StoreError>,
    ) -> Result<Option<Versioned<MailServer>>, StoreError> {
        let mut client = self.client().await?;
        for pass in 0..2 {
            let tx = client.transaction().await?;
            let current = tx
                .maybe_row("SELECT value FROM settings WHERE key = 'mail' FOR UPDATE", &[])
                .await?
                .map(|row| mail_from_json(&row.get(0)))
                .transpose()?;
            let Some(value) = next(current.as_ref())? else {
                return Ok(None);
            };
            let (record, entry) = next_version(current.as_ref(), value, who);
            let written = tx
                .run(
                    "INSERT INTO settings (key, value) VALUES ('mail', $1) \
                     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value WHERE $2",
                    &[&mail_json(&record)?, &current.is_some()],
                )
                .await?;
            if written == 0 {
                // Another instance saved the first version meanwhile.
                if pass == 0 {
                    continue;
                }
                return Err(StoreError::Conflict { current: 1, saved_at: String::new() });
            }
            audit(&tx, &entry).await?;
            // New settings may lift a pause; queued mail waits for them.
            tx.commit().await?;
            self.signal_work();
            return Ok(Some(record));
        }
        unreachable!("the second pass returns")
    }
}

#[async_trait::async_trait]
impl MailSettingsStore for Postgres {
    async fn load_mail(&self) -> Result<Option<Versioned<MailServer>>, StoreError> {
        let client = self.client().await?;
        client
            .maybe_row("SELECT value FROM settings WHERE key = 'mail'", &[])
            .await?
            .map(|row| mail_from_json(&row.get(0)))
            .transpose()
    }

    async fn save_mail(&self, expected: u64, value: MailServer, who: &str) -> Result<Versioned<MailServer>, StoreError> {
        let written = self.update_mail(who, |current| saving(expected, &value, current)).await?;
        written.ok_or(StoreError::Conflict { current: expected, saved_at: String::new() })
    }

    async fn connect_mailbox(&self, mailbox: Mailbox, who: &str) -> Result<Versioned<MailServer>, StoreError> {
        let written = self.update_mail(who, |current| connecting(&mailbox, current)).await?;
        written.ok_or(StoreError::Conflict { current: 0, saved_at: String::new() })
    }

    async fn disconnect_mailbox(&self, who: &str) -> Result<Option<Versioned<MailServer>>, StoreError> {
        self.update_mail(who, disconnecting).await
    }

    async fn rotate_refresh_token(&self, old: &Password, new: Password) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let Some(row) = tx.maybe_row("SELECT value FROM settings WHERE key = 'mail' FOR UPDATE", &[]).await? else {
            return Ok(false);
        };
        let mut record = mail_from_json(&row.get(0))?;
        match record.value.mailbox.as_mut() {
            Some(m) if &m.refresh_token == old => m.refresh_token = new,
            _ => return Ok(false),
        }
        tx.run("UPDATE settings SET value = $1 WHERE key = 'mail'", &[&mail_json(&record)?]).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn load_tests(&self) -> Result<TestHistory, StoreError> {
        let client = self.client().await?;
        match client.maybe_row("SELECT value FROM settings WHERE key = 'tests'", &[]).await? {
            Some(row) => Ok(from_json::<Versioned<TestHistory>>(row.get(0))?.value),
            None => Ok(TestHistory::default()),
        }
    }

    async fn record_test(&self, outcome: TestOutcome) -> Result<TestHistory, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // The row exists from the first test on; lock it (or the place for it) first.
        tx.run(
            "INSERT INTO settings (key, value) VALUES ('tests', $1) ON CONFLICT (key) DO NOTHING",
            &[&json(&Versioned { schema: SCHEMA_VERSION, version: 0, saved_at: String::new(), value: TestHistory::default() })?],
        )
        .await?;
        let row = tx.row("SELECT value FROM settings WHERE key = 'tests' FOR UPDATE", &[]).await?;
        let mut history = from_json::<Versioned<TestHistory>>(row.get(0))?.value;
        history.record(outcome);
        let record = Versioned {
            schema: SCHEMA_VERSION,
            version: 0,
            saved_at: crate::clock::now_rfc3339(),
            value: history.clone(),
        };
        tx.run("UPDATE settings SET value = $1 WHERE key = 'tests'", &[&json(&record)?]).await?;
        tx.commit().await?;
        Ok(history)
    }
}

#[async_trait::async_trait]
impl AuditStore for Postgres {
    async fn recent_audit(&self, n: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let client = self.client().await?;
        client
            .rows("SELECT entry FROM audit ORDER BY id DESC LIMIT $1", &[&big(n as u64)])
            .await?
            .into_iter()
            .map(|row| from_json(row.get(0)))
            .collect()
    }
}

#[async_trait::async_trait]
impl AdminStore for Postgres {
    async fn admin_count(&self) -> Result<usize, StoreError> {
        let client = self.client().await?;
        let n: i64 = client.row("SELECT count(*) FROM admins", &[]).await?.get(0);
        Ok(n as usize)
    }

    async fn get_admin(&self, email: &str) -> Result<Option<AdminRecord>, StoreError> {
        let client = self.client().await?;
        client
            .maybe_row("SELECT record FROM admins WHERE email = $1", &[&email.to_lowercase()])
            .await?
            .map(|row| from_json(row.get(0)))
            .transpose()
    }

    async fn put_admin(&self, admin: AdminRecord) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .run(
                "INSERT INTO admins (email, record) VALUES ($1, $2) ON CONFLICT (email) DO UPDATE SET record = EXCLUDED.record",
                &[&admin.email.to_lowercase(), &json(&admin)?],
            )
            .await?;
        Ok(())
    }

    async fn set_admin_language(&self, email: &str, language: Option<crate::templates::Lang>) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let tag = language.map(|l| l.tag().to_string());
        // One statement: a password set meanwhile is kept.
        let n = client
            .run(
                "UPDATE admins SET record = CASE WHEN $2::text IS NULL THEN record - 'language' ELSE jsonb_set(record, '{language}', to_jsonb($2::text)) END WHERE email = $1",
                &[&email.to_lowercase(), &tag],
            )
            .await?;
        Ok(n > 0)
    }
}

fn session(row: &tokio_postgres::Row) -> SessionRecord {
    SessionRecord {
        email: row.get("email"),
        created_at: unsigned(row.get("created_at")),
        last_seen: unsigned(row.get("last_seen")),
    }
}

fn reset(row: &tokio_postgres::Row) -> ResetRecord {
    ResetRecord {
        email: row.get("email"),
        expires_at: unsigned(row.get("expires_at")),
    }
}

#[async_trait::async_trait]
impl SessionStore for Postgres {
    async fn put_session(&self, id_hash: &str, s: &SessionRecord) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .run(
                "INSERT INTO sessions (id_hash, email, created_at, last_seen) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id_hash) DO UPDATE SET email = EXCLUDED.email, created_at = EXCLUDED.created_at, last_seen = EXCLUDED.last_seen",
                &[&id_hash, &s.email, &big(s.created_at), &big(s.last_seen)],
            )
            .await?;
        Ok(())
    }

    async fn get_session(&self, id_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let client = self.client().await?;
        Ok(client
            .maybe_row("SELECT email, created_at, last_seen FROM sessions WHERE id_hash = $1", &[&id_hash])
            .await?
            .map(|row| session(&row)))
    }

    async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        let client = self.client().await?;
        client.run("DELETE FROM sessions WHERE id_hash = $1", &[&id_hash]).await?;
        Ok(())
    }

    async fn delete_sessions_of(&self, email: &str) -> Result<usize, StoreError> {
        let client = self.client().await?;
        let n = client
            .run("DELETE FROM sessions WHERE lower(email) = lower($1)", &[&email])
            .await?;
        Ok(n as usize)
    }

    async fn put_reset(&self, token_hash: &str, r: &ResetRecord) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .run(
                "INSERT INTO reset_tokens (token_hash, email, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (token_hash) DO UPDATE SET email = EXCLUDED.email, expires_at = EXCLUDED.expires_at",
                &[&token_hash, &r.email, &big(r.expires_at)],
            )
            .await?;
        Ok(())
    }

    async fn take_reset(&self, token_hash: &str) -> Result<Option<ResetRecord>, StoreError> {
        let client = self.client().await?;
        Ok(client
            .maybe_row("DELETE FROM reset_tokens WHERE token_hash = $1 RETURNING email, expires_at", &[&token_hash])
            .await?
            .map(|row| reset(&row)))
    }

    async fn get_reset(&self, token_hash: &str) -> Result<Option<ResetRecord>, StoreError> {
        let client = self.client().await?;
        Ok(client
            .maybe_row("SELECT email, expires_at FROM reset_tokens WHERE token_hash = $1", &[&token_hash])
            .await?
            .map(|row| reset(&row)))
    }

    async fn purge_expired(&self, now: u64, lifetime: SessionLifetime) -> Result<usize, StoreError> {
        let client = self.client().await?;
        // `SessionLifetime::over`: idle longer than idle_secs, or older than max_secs.
        let sessions = client
            .run(
                "DELETE FROM sessions WHERE $1 - last_seen > $2 OR $1 - created_at > $3",
                &[&big(now), &big(lifetime.idle_secs), &big(lifetime.max_secs)],
            )
            .await?;
        let resets = client
            .run("DELETE FROM reset_tokens WHERE expires_at <= $1", &[&big(now)])
            .await?;
        Ok((sessions + resets) as usize)
    }
}

fn token(row: &tokio_postgres::Row) -> TokenRecord {
    TokenRecord {
        id: unsigned(row.get("id")),
        name: row.get("name"),
        created_by: row.get("created_by"),
        created_at: unsigned(row.get("created_at")),
        last_used: row.get::<_, Option<i64>>("last_used").map(unsigned),
        scope: crate::domain::TokenUse::parse(row.get("scope")).unwrap_or_default(),
    }
}

const TOKEN_COLUMNS: &str = "id, name, created_by, created_at, last_used, scope";

#[async_trait::async_trait]
impl TokenStore for Postgres {
    async fn create_token_for(
        &self,
        hash: &str,
        name: &str,
        scope: crate::domain::TokenUse,
        who: &str,
        now: u64,
    ) -> Result<Result<TokenRecord, TokenRefusal>, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.run("SELECT pg_advisory_xact_lock($1)", &[&LOCK_TOKENS]).await?;
        let row = tx
            .row("SELECT count(*), count(*) FILTER (WHERE name = $1) FROM api_tokens", &[&name])
            .await?;
        let (all, named): (i64, i64) = (row.get(0), row.get(1));
        if named > 0 {
            return Ok(Err(TokenRefusal::NameTaken));
        }
        if all as usize >= MAX_TOKENS {
            return Ok(Err(TokenRefusal::TooMany));
        }
        let row = tx
            .query_one(
                &format!(
                    "INSERT INTO api_tokens (hash, id, name, created_by, created_at, scope) \
                     VALUES ($1, nextval('api_token_ids'), $2, $3, $4, $5) RETURNING {TOKEN_COLUMNS}"
                ),
                &[&hash, &name, &who, &big(now), &scope.as_str()],
            )
            .await?;
        audit(&tx, &entry(who, Change::TokenCreated { name: name.to_string() })).await?;
        tx.commit().await?;
        Ok(Ok(token(&row)))
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let client = self.client().await?;
        Ok(client
            .query(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY id"), &[])
            .await?
            .iter()
            .map(token)
            .collect())
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let client = self.client().await?;
        Ok(client
            .query_opt(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE hash = $1"), &[&hash])
            .await?
            .map(|row| token(&row)))
    }

    async fn revoke_token(&self, id: u64, who: &str) -> Result<Option<TokenRecord>, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let Some(row) = tx
            .query_opt(&format!("DELETE FROM api_tokens WHERE id = $1 RETURNING {TOKEN_COLUMNS}"), &[&big(id)])
            .await?
        else {
            return Ok(None);
        };
        let revoked = token(&row);
        audit(&tx, &entry(who, Change::TokenRevoked { name: revoked.name.clone() })).await?;
        tx.commit().await?;
        Ok(Some(revoked))
    }

    async fn touch_token(&self, hash: &str, now: u64) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .run("UPDATE api_tokens SET last_used = $2 WHERE hash = $1", &[&hash, &big(now)])
            .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl SignInStore for Postgres {
    async fn start_sign_in(&self, state_hash: &str, record: &SignInRecord) -> Result<Result<(), u64>, StoreError> {
        let now = record.started_at;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.run("SELECT pg_advisory_xact_lock($1)", &[&LOCK_SIGN_INS]).await?;
        tx.run(
            "DELETE FROM sign_ins WHERE started_at + $1 <= $2 OR admin = $3",
            &[&big(SIGN_IN_TTL_SECS), &big(now), &record.admin],
        )
        .await?;
        let row = tx.row("SELECT count(*), min(started_at) FROM sign_ins", &[]).await?;
        let (under_way, oldest): (i64, Option<i64>) = (row.get(0), row.get(1));
        if under_way as usize >= MAX_PENDING {
            let ends = oldest.map_or(now, unsigned).saturating_add(SIGN_IN_TTL_SECS);
            return Ok(Err(ends.saturating_sub(now).max(1)));
        }
        tx.run(
            "INSERT INTO sign_ins (state_hash, admin, app, verifier, started_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (state_hash) DO UPDATE SET admin = EXCLUDED.admin, app = EXCLUDED.app, \
             verifier = EXCLUDED.verifier, started_at = EXCLUDED.started_at",
            &[&state_hash, &record.admin, &record.app, &record.verifier, &big(record.started_at)],
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    async fn take_sign_in(&self, state_hash: &str, now: u64) -> Result<Option<SignInRecord>, StoreError> {
        let client = self.client().await?;
        // The removal is the single use: whoever removes it has it.
        let Some(row) = client
            .maybe_row(
                "DELETE FROM sign_ins WHERE state_hash = $1 RETURNING admin, app, verifier, started_at",
                &[&state_hash],
            )
            .await?
        else {
            return Ok(None);
        };
        let started_at = unsigned(row.get("started_at"));
        if now >= started_at.saturating_add(SIGN_IN_TTL_SECS) {
            return Ok(None);
        }
        Ok(Some(SignInRecord {
            admin: row.get("admin"),
            app: row.get("app"),
            verifier: row.get("verifier"),
            started_at,
        }))
    }
}

#[async_trait::async_trait]
impl OnceStore for Postgres {
    async fn put_once(&self, k: Once, key: &str, secret: &str, expires_at: Option<u64>) -> Result<(), StoreError> {
        let now = crate::clock::now_unix();
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.run(
            "DELETE FROM once_secrets WHERE kind = $1 AND expires_at <= $2",
            &[&k.name(), &big(now)],
        )
        .await?;
        tx.run(
            "INSERT INTO once_secrets (kind, key, sealed, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (kind, key) DO UPDATE SET sealed = EXCLUDED.sealed, expires_at = EXCLUDED.expires_at",
            &[&k.name(), &key, &secret, &expires_at.map(big)],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn peek_once(&self, k: Once, key: &str, now: u64) -> Result<Option<String>, StoreError> {
        let client = self.client().await?;
        Ok(client
            .maybe_row(
                "SELECT sealed FROM once_secrets WHERE kind = $1 AND key = $2 AND (expires_at IS NULL OR expires_at > $3)",
                &[&k.name(), &key, &big(now)],
            )
            .await?
            .map(|row| row.get(0)))
    }

    async fn take_once(&self, k: Once, key: &str, now: u64) -> Result<Option<String>, StoreError> {
        let client = self.client().await?;
        // The removal is the single use: whoever removes it has it.
        let Some(row) = client
            .maybe_row(
                "DELETE FROM once_secrets WHERE kind = $1 AND key = $2 RETURNING sealed, expires_at",
                &[&k.name(), &key],
            )
            .await?
        else {
            return Ok(None);
        };
        let live = row.get::<_, Option<i64>>(1).is_none_or(|at| unsigned(at) > now);
        Ok(live.then(|| row.get(0)))
    }

    async fn clear_once(&self, k: Once) -> Result<usize, StoreError> {
        let client = self.client().await?;
        Ok(client.run("DELETE FROM once_secrets WHERE kind = $1", &[&k.name()]).await? as usize)
    }
}

/// Makes room for new back-off keys: forgets idle ones, then the stalest, past [`MAX_KEYS`].
async fn backoff_room(client: &deadpool_postgres::Object, now_ms: u64) -> Result<(), StoreError> {
    let bounded = "SELECT count(*) FROM (SELECT 1 FROM login_backoff LIMIT $1) AS k";
    let count = |n: i64| n as usize;
    let n: i64 = client.query_one(bounded, &[&(MAX_KEYS as i64)]).await?.get(0);
    if count(n) < MAX_KEYS {
        return Ok(());
    }
    let idle_before = now_ms.saturating_sub(FORGET_AFTER.as_millis() as u64);
    client
        .run("DELETE FROM login_backoff WHERE last_ms <= $1", &[&big(idle_before)])
        .await?;
    let n: i64 = client.query_one(bounded, &[&(MAX_KEYS as i64)]).await?.get(0);
    if count(n) >= MAX_KEYS {
        client
            .run(
                "DELETE FROM login_backoff WHERE key = (SELECT key FROM login_backoff ORDER BY last_ms LIMIT 1)",
                &[],
            )
            .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl BackoffStore for Postgres {
    async fn backoff_attempt(&self, keys: &[String], now_ms: u64) -> Result<Result<(), u64>, StoreError> {
        let keys: Vec<String> = keys.iter().map(|k| capped(k)).collect();
        let mut client = self.client().await?;
        let known: i64 = client
            .row("SELECT count(*) FROM login_backoff WHERE key = ANY($1)", &[&keys])
            .await?
            .get(0);
        if (known as usize) < keys.len() {
            backoff_room(&client, now_ms).await?;
        }
        let tx = client.transaction().await?;
        // Every key gets a row to lock (a new one counts nothing yet), in one order.
        tx.run(
            "INSERT INTO login_backoff (key, count, last_ms) SELECT k, 0, $2 FROM unnest($1::text[]) AS k \
             ON CONFLICT (key) DO NOTHING",
            &[&keys, &big(now_ms)],
        )
        .await?;
        let rows = tx
            .rows(
                "SELECT key, count, last_ms FROM login_backoff WHERE key = ANY($1) ORDER BY key FOR UPDATE",
                &[&keys],
            )
            .await?;
        let forget_ms = FORGET_AFTER.as_millis() as u64;
        let mut wait = None::<u64>;
        for row in &rows {
            let (count, last_ms) = (row.get::<_, i32>(1).max(0) as u32, unsigned(row.get(2)));
            if count == 0 || now_ms.saturating_sub(last_ms) >= forget_ms {
                continue;
            }
            if let Some(delay) = backoff_delay(count) {
                let until = last_ms + delay.as_millis() as u64;
                if until > now_ms {
                    let left = secs_ceil(Duration::from_millis(until - now_ms));
                    wait = Some(wait.map_or(left, |w| w.max(left)));
                }
            }
        }
        if let Some(wait) = wait {
            // Rolled back: the new keys' rows go with it.
            return Ok(Err(wait));
        }
        tx.run(
            "UPDATE login_backoff SET count = CASE WHEN $2 - last_ms >= $3 THEN 1 ELSE count + 1 END, last_ms = $2 \
             WHERE key = ANY($1)",
            &[&keys, &big(now_ms), &big(forget_ms)],
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    async fn backoff_undo(&self, keys: &[String]) -> Result<(), StoreError> {
        let keys: Vec<String> = keys.iter().map(|k| capped(k)).collect();
        let client = self.client().await?;
        client
            .run("UPDATE login_backoff SET count = greatest(count - 1, 0) WHERE key = ANY($1)", &[&keys])
            .await?;
        Ok(())
    }

    async fn backoff_succeeded(&self, keys: &[String]) -> Result<(), StoreError> {
        let keys: Vec<String> = keys.iter().map(|k| capped(k)).collect();
        let client = self.client().await?;
        client.run("DELETE FROM login_backoff WHERE key = ANY($1)", &[&keys]).await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl super::super::TemplateStore for Postgres {
    async fn load_templates(&self) -> Result<super::super::SavedTemplates, StoreError> {
        let client = self.client().await?;
        match client.maybe_row("SELECT value FROM settings WHERE key = 'templates'", &[]).await? {
            Some(row) => Ok(from_json::<super::super::templates::Record>(row.get(0))?.value),
            None => Ok(Default::default()),
        }
    }

    async fn save_template(
        &self,
        kind: crate::templates::Kind,
        lang: crate::templates::Lang,
        expected: u64,
        texts: Option<crate::templates::Texts>,
        who: &str,
    ) -> Result<super::super::SavedTemplate, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // The row exists from the first save on; lock it (or the place for it) first.
        tx.run(
            "INSERT INTO settings (key, value) VALUES ('templates', $1) ON CONFLICT (key) DO NOTHING",
            &[&json(&Versioned { schema: SCHEMA_VERSION, version: 0, saved_at: String::new(), value: super::super::SavedTemplates::new() })?],
        )
        .await?;
        let row = tx.row("SELECT value FROM settings WHERE key = 'templates' FOR UPDATE", &[]).await?;
        let current = from_json::<super::super::templates::Record>(row.get(0))?;
        let (record, saved, entry) = super::super::templates::saving(Some(current), kind, lang, expected, texts, who)?;
        tx.run("UPDATE settings SET value = $1 WHERE key = 'templates'", &[&json(&record)?]).await?;
        audit(&tx, &entry).await?;
        tx.commit().await?;
        Ok(saved)
    }
}
