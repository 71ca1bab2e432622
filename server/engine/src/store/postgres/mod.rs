//! The PostgreSQL backend (`MAILROOM_DATABASE_URL=postgres://…`): every family of records in
//! one database that several Mailroom instances share.
//!
//! - Connections come from a bounded pool (deadpool-postgres over tokio-postgres); a request
//!   that cannot get one within the pool's wait, or finds the database away, fails with
//!   [`StoreError::Unavailable`] (503 with Retry-After), never hangs. Each session has a
//!   statement timeout and an idle-in-transaction timeout.
//! - The schema is applied at start under an advisory lock ([`schema`]).
//! - The outbox claims with `FOR UPDATE SKIP LOCKED` in short transactions, never one open
//!   across an SMTP conversation ([`outbox`]).
//! - Writes that give the outbox work `NOTIFY` [`CHANNEL`]; each instance `LISTEN`s on a
//!   connection of its own and relays it to [`Store::wake_ups`]. Workers also poll: a
//!   notification lost while that connection was down only delays.
//! - It stores what it is given: secrets and bodies arrive sealed by [`Sealing`] above it.

mod outbox;
mod records;
mod restore;
pub mod schema;

use super::{Sealing, Store, StoreError};
use crate::secrets::SecretBox;
use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime};
use std::{sync::Arc, time::Duration};
use tokio_postgres::{types::ToSql, NoTls, Row};

/// What the key check seals (see [`Sealing::<Postgres>::connect`]).
const KEY_CHECK: &str = "mailroom key check";

/// The channel the outbox's wake-ups go on.
pub const CHANNEL: &str = "mailroom_work";

/// How the PostgreSQL backend connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostgresOptions {
    /// Connections per instance at most (`MAILROOM_DATABASE_POOL`).
    pub pool_size: usize,
    /// How long a request waits for a connection before it is refused (503).
    pub pool_wait: Duration,
    /// The longest a statement may run.
    pub statement_timeout: Duration,
    /// The most bytes of mail waiting to be sent (`MAILROOM_OUTBOX_MAX_QUEUED_MB`), over all
    /// instances.
    pub max_queued_bytes: u64,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self {
            pool_size: 16,
            pool_wait: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
            max_queued_bytes: super::DEFAULT_MAX_QUEUED_BYTES,
        }
    }
}

/// The backend: a pool of connections and the listener of [`CHANNEL`]. Cheap to clone.
#[derive(Clone)]
pub struct Postgres(Arc<Inner>);

struct Inner {
    pool: Pool,
    max_queued_bytes: u64,
    work: tokio::sync::watch::Sender<u64>,
    listener: tokio::task::JoinHandle<()>,
    /// Asks [`announce`] for a `NOTIFY`: writes that gave the outbox work, committed.
    announce: Arc<tokio::sync::Notify>,
    announcer: tokio::task::JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.listener.abort();
        self.announcer.abort();
    }
}

/// The store over PostgreSQL, as the server opens it: [`Postgres`] under [`Sealing`].
pub type PostgresStore = Sealing<Postgres>;

impl Sealing<Postgres> {
    /// Connects to `url`, applies the schema (or refuses a newer one) and starts listening for
    /// wake-ups; `secrets` seal what the store keeps secret.
    ///
    /// Every instance must seal with the same key: the first to start leaves a sealed check
    /// value in the database, and one whose key does not open it is refused
    /// ([`StoreError::WrongKey`]) before it could write anything the others cannot read.
    pub async fn connect(url: &str, secrets: SecretBox, options: PostgresOptions) -> Result<Self, StoreError> {
        let backend = Postgres::connect(url, options).await?;
        let client = backend.client().await?;
        client
            .execute(
                "INSERT INTO settings (key, value) VALUES ('key_check', to_jsonb($1::text)) ON CONFLICT (key) DO NOTHING",
                &[&secrets.seal(KEY_CHECK)],
            )
            .await?;
        let stored: String = client
            .query_one("SELECT value #>> '{}' FROM settings WHERE key = 'key_check'", &[])
            .await?
            .get(0);
        if secrets.open(&stored).ok().as_deref() != Some(KEY_CHECK) {
            return Err(StoreError::WrongKey);
        }
        drop(client);
        Ok(Sealing::new(backend, secrets))
    }
}

impl Postgres {
    pub async fn connect(url: &str, options: PostgresOptions) -> Result<Self, StoreError> {
        let config = session_config(url, &options)?;
        let mut migrating = connect_one(&config).await?;
        schema::migrate(&mut migrating).await?;
        drop(migrating);
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(1))
            .wait_timeout(Some(options.pool_wait))
            .create_timeout(Some(options.pool_wait))
            .recycle_timeout(Some(options.pool_wait))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Backend(format!("the database's connection pool: {e}")))?;
        let work = tokio::sync::watch::Sender::new(0);
        let tag = format!("{:016x}", rand::random::<u64>());
        // The first LISTEN before the store is handed out, so its wake-up for what it may have
        // missed is not mistaken later for new work (bounded: the connect timeout holds).
        let (listening, first) = tokio::sync::oneshot::channel();
        let wait = config.get_connect_timeout().copied().unwrap_or(Duration::from_secs(5));
        let listener = tokio::spawn(listen(config, work.clone(), tag.clone(), listening));
        let _ = tokio::time::timeout(wait, first).await;
        let announce = Arc::new(tokio::sync::Notify::new());
        let announcer = tokio::spawn(announce_work(pool.clone(), announce.clone(), tag.clone()));
        Ok(Self(Arc::new(Inner {
            pool,
            max_queued_bytes: options.max_queued_bytes,
            work,
            listener,
            announce,
            announcer,
        })))
    }

    /// A connection from the pool, within the pool's wait.
    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.0.pool.get().await.map_err(|e| match e {
            PoolError::Timeout(_) => StoreError::Unavailable(format!(
                "all {} of this instance's database connections stayed busy",
                self.0.pool.status().max_size
            )),
            PoolError::Backend(e) => pg_error(e),
            other => StoreError::Unavailable(other.to_string()),
        })
    }

    /// After a write that gave the outbox work has committed: tells this instance's workers
    /// at once, and the others' through a `NOTIFY` ([`announce_work`]).
    fn signal_work(&self) {
        self.0.work.send_modify(|n| *n = n.wrapping_add(1));
        self.0.announce.notify_one();
    }
}

/// Sends `NOTIFY` on [`CHANNEL`] with this instance's tag each time it is asked, after the
/// write that asked has committed: one at a time, so the requests of a burst of writes become
/// one notification (a `NOTIFY` inside each writer's transaction would serialise their commits
/// on the notification queue's lock). Its own listener passes over the tag (the writer told
/// this instance already). A failure is only logged: every worker also polls.
async fn announce_work(pool: Pool, asked: Arc<tokio::sync::Notify>, tag: String) {
    loop {
        asked.notified().await;
        let sent = match pool.get().await {
            Ok(client) => client.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &tag]).await.map(drop).map_err(pg_error),
            Err(e) => Err(StoreError::Unavailable(e.to_string())),
        };
        if let Err(e) = sent {
            tracing::debug!("a wake-up for the other instances was not sent: {e}");
        }
    }
}

/// Statements by their text, prepared once per connection and kept there (deadpool's statement
/// cache): each run is then one round trip with a plan made once, instead of a parse and a run.
#[async_trait::async_trait]
pub(crate) trait Cached: deadpool_postgres::GenericClient {
    async fn run(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, tokio_postgres::Error> {
        let statement = self.prepare_cached(sql).await?;
        self.execute(&statement, params).await
    }

    async fn rows(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, tokio_postgres::Error> {
        let statement = self.prepare_cached(sql).await?;
        self.query(&statement, params).await
    }

    async fn row(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row, tokio_postgres::Error> {
        let statement = self.prepare_cached(sql).await?;
        self.query_one(&statement, params).await
    }

    async fn maybe_row(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>, tokio_postgres::Error> {
        let statement = self.prepare_cached(sql).await?;
        self.query_opt(&statement, params).await
    }
}

impl<C: deadpool_postgres::GenericClient> Cached for C {}

/// `url` as tokio-postgres reads it, with what every session of Mailroom's needs: its name in
/// `pg_stat_activity`, a connect timeout, keepalives, and timeouts on statements and on a
/// transaction left idle.
fn session_config(url: &str, options: &PostgresOptions) -> Result<tokio_postgres::Config, StoreError> {
    let mut config: tokio_postgres::Config = url
        .parse()
        .map_err(|e| StoreError::Backend(format!("MAILROOM_DATABASE_URL is not a PostgreSQL URL ({e}); write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE")))?;
    if config.get_application_name().is_none() {
        config.application_name("mailroom");
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(5));
    }
    config.keepalives(true).keepalives_idle(Duration::from_secs(30));
    let session = format!(
        "-c statement_timeout={} -c idle_in_transaction_session_timeout={} -c lock_timeout={}",
        options.statement_timeout.as_millis(),
        (options.statement_timeout * 2).as_millis(),
        options.statement_timeout.as_millis(),
    );
    let merged = match config.get_options() {
        Some(given) => format!("{given} {session}"),
        None => session,
    };
    config.options(&merged);
    Ok(config)
}

/// One connection of its own, its driver spawned.
async fn connect_one(config: &tokio_postgres::Config) -> Result<tokio_postgres::Client, StoreError> {
    let (client, connection) = config.connect(NoTls).await.map_err(pg_error)?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!("a database connection ended: {e}");
        }
    });
    Ok(client)
}

/// Relays [`CHANNEL`]'s notifications from other instances (not tagged `own`) to `work`,
/// reconnecting (with a growing pause) whenever the connection drops; each new connection
/// counts as a wake-up, for what it may have missed.
async fn listen(
    config: tokio_postgres::Config,
    work: tokio::sync::watch::Sender<u64>,
    own: String,
    listening: tokio::sync::oneshot::Sender<()>,
) {
    let mut listening = Some(listening);
    use futures_util::StreamExt;
    let wake = |work: &tokio::sync::watch::Sender<u64>| work.send_modify(|n| *n = n.wrapping_add(1));
    let mut pause = Duration::from_millis(100);
    loop {
        match config.connect(NoTls).await {
            Ok((client, mut connection)) => {
                let (relay, own) = (work.clone(), own.clone());
                let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                let driver = tokio::spawn(async move {
                    while let Some(message) = messages.next().await {
                        match message {
                            Ok(tokio_postgres::AsyncMessage::Notification(n)) if n.payload() != own => wake(&relay),
                            Ok(_) => {}
                            Err(e) => {
                                tracing::debug!("the wake-up connection ended: {e}");
                                break;
                            }
                        }
                    }
                });
                match client.batch_execute(&format!("LISTEN {CHANNEL}")).await {
                    Ok(()) => {
                        pause = Duration::from_millis(100);
                        wake(&work);
                        if let Some(first) = listening.take() {
                            let _ = first.send(());
                        }
                    }
                    Err(e) => tracing::debug!("LISTEN failed: {e}"),
                }
                let _ = driver.await;
                drop(client);
            }
            Err(e) => tracing::debug!("the wake-up connection failed: {e}"),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

/// A PostgreSQL error as a [`StoreError`]: the database away (a connection refused, lost or
/// ended by a shutdown, too many connections) is [`StoreError::Unavailable`], worth a retry;
/// anything else is the database refusing what was asked, a bug.
pub(crate) fn pg_error(e: tokio_postgres::Error) -> StoreError {
    use tokio_postgres::error::SqlState;
    let away = match e.code() {
        Some(code) => {
            let class = &code.code()[..2];
            class == "08"
                || class == "57"
                || *code == SqlState::TOO_MANY_CONNECTIONS
                || *code == SqlState::LOCK_NOT_AVAILABLE
                || *code == SqlState::QUERY_CANCELED
        }
        None => e.is_closed() || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>()),
    };
    // The server's own words when it sent some ("db error" alone says nothing).
    let words = match (e.as_db_error(), std::error::Error::source(&e)) {
        (Some(db), _) => db.to_string(),
        (None, Some(source)) => format!("{e}: {source}"),
        (None, None) => e.to_string(),
    };
    if away {
        StoreError::Unavailable(words)
    } else {
        StoreError::Backend(words)
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        pg_error(e)
    }
}

/// A u64 as PostgreSQL's bigint (times, ids and owners all fit; beyond, the largest).
pub(crate) fn big(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A lease's owner as a bigint: its bits as they are (owners are random u64s; two must never
/// become one).
pub(crate) fn owner_bits(owner: u64) -> i64 {
    owner as i64
}

/// A bigint owner back as the u64 it was.
pub(crate) fn owner_of(bits: i64) -> u64 {
    bits as u64
}

/// A bigint back as a u64 (negative ones, never written, as 0).
pub(crate) fn unsigned(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

#[async_trait::async_trait]
impl Store for Postgres {
    /// Every commit is durable already (PostgreSQL's WAL).
    async fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// The database's disk is the database server's to watch.
    fn refusing_writes(&self) -> Option<StoreError> {
        None
    }

    /// A read that also says whether this connection may write: a standby (recovery) or a
    /// database set read-only answers, and takes nothing.
    async fn ready(&self) -> Result<(), StoreError> {
        let client = self.client().await?;
        let row = client
            .row("SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'", &[])
            .await?;
        if row.get::<_, bool>(0) {
            return Err(StoreError::Unavailable("the database takes no writes (a standby, or read-only)".into()));
        }
        Ok(())
    }

    fn wake_ups(&self) -> tokio::sync::watch::Receiver<u64> {
        self.0.work.subscribe()
    }

    fn local_changes(&self) -> u64 {
        0
    }
}
