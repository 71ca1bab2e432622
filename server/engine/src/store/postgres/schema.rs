//! The PostgreSQL schema, embedded in the binary: one SQL file per version, applied in order.
//! Instances starting together take turns on an advisory lock, so each version is applied
//! once; a database at a newer version than this build knows is refused before anything is
//! touched.

use super::super::StoreError;

/// The SQL of each version, in order: version N is `MIGRATIONS[N - 1]`.
const MIGRATIONS: &[&str] = &[
    include_str!("schema/0001_init.sql"),
    include_str!("schema/0002_alert_digest.sql"),
    include_str!("schema/0003_token_scope.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// The advisory lock's key (`pg_advisory_lock`): "mailroom" in ASCII.
const LOCK_KEY: i64 = 0x6d61_696c_726f_6f6d;

/// Brings the database up to [`SCHEMA_VERSION`] under the migration lock.
pub async fn migrate(client: &mut tokio_postgres::Client) -> Result<(), StoreError> {
    client.execute("SELECT pg_advisory_lock($1)", &[&LOCK_KEY]).await?;
    let done = apply(client).await;
    // The lock is the session's: it also goes when the connection does.
    let _ = client.execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY]).await;
    done
}

async fn apply(client: &mut tokio_postgres::Client) -> Result<(), StoreError> {
    client
        .batch_execute("CREATE TABLE IF NOT EXISTS mailroom_schema (version integer NOT NULL)")
        .await?;
    let found: u32 = client
        .query_opt("SELECT version FROM mailroom_schema", &[])
        .await?
        .map_or(0, |row| row.get::<_, i32>(0).max(0) as u32);
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew { found, known: SCHEMA_VERSION });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = index as i32 + 1;
        let tx = client.transaction().await?;
        tx.batch_execute(sql).await?;
        tx.execute("DELETE FROM mailroom_schema", &[]).await?;
        tx.execute("INSERT INTO mailroom_schema (version) VALUES ($1)", &[&version]).await?;
        tx.commit().await?;
        tracing::info!(version, "database schema applied");
    }
    // The control record exists from the start, so that every change of it locks one row.
    let default = serde_json::to_value(super::super::OutboxControl::default())?;
    client
        .execute(
            "INSERT INTO outbox_control (key, record) VALUES ('outbox', $1) ON CONFLICT (key) DO NOTHING",
            &[&default],
        )
        .await?;
    Ok(())
}
