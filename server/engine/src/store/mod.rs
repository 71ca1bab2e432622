//! Durable storage (server only), behind narrow traits, one per family of records: mail
//! settings and test history ([`MailSettingsStore`]), the change history ([`AuditStore`]),
//! admins ([`AdminStore`]), sessions and reset tokens ([`SessionStore`]), the system's own mail
//! ([`OutboxStore`]), API tokens ([`TokenStore`]), alerts' storm control ([`AlertStore`]),
//! OAuth2 sign-ins under way ([`SignInStore`]), secrets used or shown once ([`OnceStore`]), the
//! login back-off's counters ([`BackoffStore`]), the outbox's control record ([`ControlStore`]). The traits speak only
//! of the app's own types, so a PostgreSQL backend can implement them beside [`SledStore`].
//!
//! The sled backend keeps one tree per family plus a `meta` tree holding the schema version;
//! [`migrations`] brings older databases up to date on open. A write the user is told succeeded
//! has reached the disk first (`Sled::sync`: sled's flush, then `fdatasync`).

mod admins;
mod alerts;
mod backoff;
pub mod backup;
mod audit;
mod committer;
mod control;
pub mod copy;
mod mail;
pub mod migrations;
mod once;
mod outbox;
pub mod postgres;
mod sealing;
mod sessions;
mod sign_ins;
pub mod templates;
pub mod space;
mod tokens;

pub use admins::{admin_language, AdminRecord, AdminStore};
pub use alerts::{AlertBatch, AlertFate, AlertMemory, AlertStore};
pub use backoff::BackoffStore;
pub use audit::{changes, AuditStore};
pub use control::{ControlEvent, ControlEvents, ControlStore, Failing, OutboxControl, Pause, PauseCause};
pub use mail::MailSettingsStore;
pub use migrations::SCHEMA_VERSION;
pub use once::{Once, OnceStore};
pub use outbox::{ClaimRequest, Claimed, Enqueued, Lease, MailBody, NewMessage, OutboxStore, Outcome, IDEMPOTENCY_SECS};
pub use sessions::{ResetRecord, SessionLifetime, SessionRecord, SessionStore};
pub use templates::{SavedTemplate, SavedTemplates, TemplateStore};
pub use sign_ins::{SignInRecord, SignInStore, MAX_PENDING as MAX_PENDING_SIGN_INS, SIGN_IN_TTL_SECS};
pub use tokens::{TokenRecord, TokenRefusal, TokenStore, MAX_TOKENS};

pub use postgres::{Postgres, PostgresOptions, PostgresStore};
pub use sealing::Sealing;
pub use space::{Need, Reserve, Space};

use crate::secrets::{SecretBox, SecretError};
use serde::{Deserialize, Serialize};
use std::{path::Path, sync::Arc};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the data directory {dir} is in use by another Mailroom instance (sled holds a lock on it); stop that instance or choose another MAILROOM_DATA_DIR")]
    Locked { dir: String },
    #[error("the database was written by a newer Mailroom (schema {found}, this build knows up to {known}); run that version, or a newer one")]
    TooNew { found: u32, known: u32 },
    /// The database cannot be reached now (a shared backend that is down, restarting, or out
    /// of connections): worth a retry.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// A shared database sealed with another key than this instance's.
    #[error("the database's secrets were sealed with another key than this instance's; give every instance the same MAILROOM_SECRET_KEY (the one the first instance used)")]
    WrongKey,
    #[error("version conflict: stored version is {current}")]
    Conflict { current: u64, saved_at: String },
    /// A stored record that does not decode (any backend).
    #[error("stored record is unreadable: {0}")]
    Corrupt(String),
    /// The backend failed (its own words): sled's error, a database connection's.
    #[error("database error: {0}")]
    Backend(String),
    #[error("{0}")]
    Secret(#[from] SecretError),
    #[error("writing the database to disk failed: {0}")]
    Io(#[from] std::io::Error),
    /// Less than the reserve is free on the data directory's filesystem: nothing was written.
    #[error("the disk holding the data directory has {} free, less than the {} Mailroom keeps free so that its database stays intact; nothing was written. Free space on that disk (or lower MAILROOM_DISK_RESERVE_MB)", space::megabytes(*.available), space::megabytes(*.reserve))]
    NoSpace { available: u64, reserve: u64 },
    /// The same, found before opening the database (which writes to it): it was not opened.
    #[error("the disk holding the data directory has {} free; Mailroom needs {} free to open its database without risk to it, so it did not open it (nothing was written). Free at least {} on that disk (or lower MAILROOM_DISK_RESERVE_MB), then start again", space::megabytes(*.available), space::megabytes(*.needed), space::megabytes(.needed.saturating_sub(*.available)))]
    NoSpaceToOpen { available: u64, needed: u64 },
    /// The outbox holds as many bytes waiting to be sent as it may: nothing was queued.
    #[error("the outbox already holds {} of mail waiting to be sent, its limit (MAILROOM_OUTBOX_MAX_QUEUED_MB); nothing was queued. Try again once it has drained", space::megabytes(*.limit))]
    OutboxFull { queued: u64, limit: u64 },
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

/// sled's errors; an I/O failure among them is the database failing to write, which the
/// process does not go on from ([`space::on_write_failure`]).
impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        if matches!(e, sled::Error::Io(_) | sled::Error::Corruption { .. } | sled::Error::ReportableBug(_)) {
            space::write_failed(&e);
        }
        StoreError::Backend(e.to_string())
    }
}

/// A sled transaction's error as a [`StoreError`]: the abort's own, or sled's.
pub(crate) fn tx_error(e: sled::transaction::TransactionError<StoreError>) -> StoreError {
    match e {
        sled::transaction::TransactionError::Abort(e) => e,
        sled::transaction::TransactionError::Storage(e) => e.into(),
    }
}

/// A stored record and the version it carries. Every save increments the version by one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Versioned<T> {
    pub schema: u32,
    pub version: u64,
    /// RFC 3339, UTC.
    pub saved_at: String,
    pub value: T,
}

/// Every family of records, and a flush for shutdown. Every method is async: a backend does
/// its own blocking work off the runtime (sled on tokio's blocking pool), or none (a network
/// client).
#[async_trait::async_trait]
pub trait Store:
    MailSettingsStore
    + AuditStore
    + AdminStore
    + SessionStore
    + OutboxStore
    + TokenStore
    + AlertStore
    + SignInStore
    + OnceStore
    + BackoffStore
    + ControlStore
    + TemplateStore
    + Send
    + Sync
{
    /// Flushes everything written so far.
    async fn flush(&self) -> Result<(), StoreError>;

    /// Why new data is refused now, if it is (the disk below its reserve): for the banner.
    fn refusing_writes(&self) -> Option<StoreError>;

    /// Whether this instance can work with the store now: it answers a read and takes writes
    /// (readiness, `/readyz`). An error says why not.
    async fn ready(&self) -> Result<(), StoreError>;

    /// Work for the outbox's workers, as it happens: mail queued or queued again, a hold lifted
    /// or changed, the settings saved. The value changes at least once after each such write,
    /// once it is durable. In-process for sled (one process has the database); a shared backend
    /// relays its own notifications (PostgreSQL's LISTEN/NOTIFY). Workers also poll, so a
    /// signal lost (a connection that dropped) only delays.
    fn wake_ups(&self) -> tokio::sync::watch::Receiver<u64>;

    /// A count that moves with each write made through this store to what decides whether
    /// and how mail is taken: the mail settings, the outbox's control record (a pause, a
    /// resume), the tokens. A copy of those read at count N is current while the count is
    /// still N, for this instance's writes; another instance's are seen when the copy is read
    /// again, so a cache also bounds its age. Counted by [`Sealing`], the layer on top of every
    /// store the server opens; a backend alone counts nothing.
    fn local_changes(&self) -> u64;
}

pub type SharedStore = Arc<dyn Store>;

/// The sled backend: [`Sled`]'s blocking work, each call on tokio's blocking pool. Cheap to
/// clone (one database). It stores what it is given: secrets and bodies arrive sealed by the
/// [`Sealing`] layer above it ([`SledStore`] is the two together).
#[derive(Clone)]
pub struct SledBackend(Arc<Sled>);

/// The store over sled, as the server opens it: [`SledBackend`] under [`Sealing`].
pub type SledStore = Sealing<SledBackend>;

impl Sealing<SledBackend> {
    /// Opens (creating if needed) the database in `dir` and migrates it to [`SCHEMA_VERSION`];
    /// `secrets` seal what the store keeps secret.
    pub fn open(dir: &Path, secrets: SecretBox) -> Result<Self, StoreError> {
        Self::open_with(dir, secrets, StoreOptions::default())
    }

    /// [`Self::open`] with a disk reserve and a bound on queued mail. With less than the reserve
    /// free it opens nothing and writes nothing ([`StoreError::NoSpaceToOpen`]).
    pub fn open_with(dir: &Path, secrets: SecretBox, options: StoreOptions) -> Result<Self, StoreError> {
        let sled = Sled::open_with(dir, &secrets, options)?;
        Ok(Sealing::new(SledBackend(Arc::new(sled)), secrets))
    }

    /// The free space against the reserve (for the pages' banner and Mail Activity).
    pub fn space(&self) -> &Space {
        &self.backend().0.space
    }

    /// The database itself, for a test of what lies in its files.
    #[cfg(test)]
    pub(crate) fn sled(&self) -> &Sled {
        &self.backend().0
    }
}

impl SledBackend {
    /// The database's committer, started at the first call; `None` if its thread could not
    /// be started (each enqueue then writes on its own).
    fn committer(&self) -> Option<&committer::Committer> {
        self.0
            .committer
            .get_or_init(|| {
                committer::Committer::start(Arc::downgrade(&self.0))
                    .inspect_err(|e| tracing::warn!(error = %e, "store: the committer thread did not start"))
                    .ok()
            })
            .as_ref()
    }

    /// Runs one call's blocking work on tokio's blocking pool.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Sled) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.on_pool(false, work).await
    }

    /// [`Self::blocking`] with the database to itself: every other call waits until it ends
    /// (a backup's consistent copy while the server runs).
    async fn alone<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Sled) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.on_pool(true, work).await
    }

    async fn on_pool<T: Send + 'static>(
        &self,
        alone: bool,
        work: impl FnOnce(&Sled) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = self.0.clone();
        tokio::task::spawn_blocking(move || {
            let _busy = db.commits.busy();
            let _shared;
            let _alone;
            if alone {
                _alone = db.gate.write().unwrap_or_else(|p| p.into_inner());
            } else {
                _shared = db.gate.read().unwrap_or_else(|p| p.into_inner());
            }
            work(&db)
        })
        .await
        .unwrap_or_else(|e| Err(StoreError::Backend(format!("a storage task failed: {e}"))))
    }
}

/// The sled database itself: one tree per family, every operation blocking (sled's reads, its
/// flush and `fdatasync`). Only [`SledBackend`] calls it, from the blocking pool.
pub struct Sled {
    db: sled::Db,
    settings: sled::Tree,
    admins: sled::Tree,
    sessions: sled::Tree,
    resets: sled::Tree,
    audit: sled::Tree,
    outbox: sled::Tree,
    outbox_bodies: sled::Tree,
    outbox_queue: sled::Tree,
    outbox_keys: sled::Tree,
    outbox_inflight: sled::Tree,
    api_tokens: sled::Tree,
    alerts: sled::Tree,
    sign_ins: sled::Tree,
    once: sled::Tree,
    backoff: sled::Tree,
    control: sled::Tree,
    /// Keys in `backoff`: counted at open, then kept with each change.
    backoff_keys: std::sync::atomic::AtomicUsize,
    /// sled's log file, for `fdatasync` (see [`Sled::sync`]).
    log: std::fs::File,
    /// Writes enqueues of many callers together (started at the first enqueue).
    committer: std::sync::OnceLock<Option<committer::Committer>>,
    /// Shares one flush among writers waiting at the same time.
    commits: GroupCommit,
    /// Free space against the reserve, checked before each write.
    space: Space,
    /// Bytes of sealed bodies of the messages waiting to be sent (queued, deferred, sending):
    /// counted from the database at open, then kept with each change (this process alone
    /// writes the database).
    queued_bytes: std::sync::atomic::AtomicU64,
    max_queued_bytes: u64,
    /// [`Store::wake_ups`]: counts the writes that gave the outbox work.
    work: tokio::sync::watch::Sender<u64>,
    /// Every call holds it shared; a backup holds it alone, so it copies the database as it
    /// is between two calls (sled has no snapshot across trees).
    gate: std::sync::RwLock<()>,
}

/// How a store is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// Free space kept on the data directory's filesystem (`MAILROOM_DISK_RESERVE_MB`).
    pub reserve: Reserve,
    /// The most bytes of mail waiting to be sent (`MAILROOM_OUTBOX_MAX_QUEUED_MB`).
    pub max_queued_bytes: u64,
}

/// The default bound on mail waiting to be sent: 1 GiB.
pub const DEFAULT_MAX_QUEUED_BYTES: u64 = 1024 * 1024 * 1024;

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            reserve: Reserve::Default,
            max_queued_bytes: DEFAULT_MAX_QUEUED_BYTES,
        }
    }
}

/// Group commit: a writer takes a ticket after its write; one flush covers every ticket taken
/// before it started, so concurrent writers share flushes instead of queueing one each. The
/// writer that flushes first waits up to [`GATHER`] for the store calls under way to take
/// their tickets (as PostgreSQL's `commit_delay`): without it, writers that finish their
/// write a moment after a flush started each wait for a flush of their own.
#[derive(Default)]
struct GroupCommit {
    state: std::sync::Mutex<Commits>,
    done: std::sync::Condvar,
    /// Store calls under way on the blocking pool.
    busy: std::sync::atomic::AtomicU64,
}

/// The longest a flush waits for the calls under way to join it: about half a flush here.
const GATHER: std::time::Duration = std::time::Duration::from_micros(300);

/// A store call under way, counted in [`GroupCommit::busy`] while it lives.
struct Busy<'a>(&'a std::sync::atomic::AtomicU64);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl GroupCommit {
    fn busy(&self) -> Busy<'_> {
        self.busy.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Busy(&self.busy)
    }
}

#[derive(Default)]
struct Commits {
    /// Tickets handed out.
    taken: u64,
    /// Every ticket up to this one is on the disk.
    durable: u64,
    flushing: bool,
    /// The next flush waits for writers under way ([`GATHER`]).
    gathering: bool,
}

/// sled's page cache (1 GiB by default): the working set of settings, sessions and the outbox's
/// due messages fits in far less.
const CACHE_BYTES: u64 = 16 * 1024 * 1024;
const SETTINGS_TREE: &str = "settings";
const ADMINS_TREE: &str = "admins";
const SESSIONS_TREE: &str = "sessions";
const RESETS_TREE: &str = "reset_tokens";
const AUDIT_TREE: &str = "audit";
const OUTBOX_TREE: &str = "outbox";
const OUTBOX_BODIES_TREE: &str = "outbox_bodies";
const OUTBOX_QUEUE_TREE: &str = "outbox_queue";
const OUTBOX_KEYS_TREE: &str = "outbox_keys";
const OUTBOX_INFLIGHT_TREE: &str = "outbox_inflight";
const API_TOKENS_TREE: &str = "api_tokens";
const ALERTS_TREE: &str = "alerts";
const SIGN_INS_TREE: &str = "oauth_sign_ins";
const ONCE_TREE: &str = "once";
const BACKOFF_TREE: &str = "login_backoff";
const CONTROL_TREE: &str = "outbox_control";

impl Sled {
    /// `secrets` only migrate a schema-1 database (its password in clear); the database keeps
    /// no key.
    fn open_with(dir: &Path, secrets: &SecretBox, options: StoreOptions) -> Result<Self, StoreError> {
        let space = Space::new(dir, options.reserve)?;
        space.check_open()?;
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(|e| match e {
                // sled 0.34 reports a held lock only as an `Other` I/O error with this message.
                sled::Error::Io(ref io)
                    if io.kind() == std::io::ErrorKind::Other
                        && io.to_string().contains("could not acquire lock") =>
                {
                    StoreError::Locked {
                        dir: dir.display().to_string(),
                    }
                }
                other => StoreError::Backend(other.to_string()),
            })?;
        let log = std::fs::File::open(dir.join("db"))?;
        let store = Self {
            log,
            commits: GroupCommit::default(),
            committer: std::sync::OnceLock::new(),
            settings: db.open_tree(SETTINGS_TREE)?,
            admins: db.open_tree(ADMINS_TREE)?,
            sessions: db.open_tree(SESSIONS_TREE)?,
            resets: db.open_tree(RESETS_TREE)?,
            audit: db.open_tree(AUDIT_TREE)?,
            outbox: db.open_tree(OUTBOX_TREE)?,
            outbox_bodies: db.open_tree(OUTBOX_BODIES_TREE)?,
            outbox_queue: db.open_tree(OUTBOX_QUEUE_TREE)?,
            outbox_keys: db.open_tree(OUTBOX_KEYS_TREE)?,
            outbox_inflight: db.open_tree(OUTBOX_INFLIGHT_TREE)?,
            api_tokens: db.open_tree(API_TOKENS_TREE)?,
            alerts: db.open_tree(ALERTS_TREE)?,
            sign_ins: db.open_tree(SIGN_INS_TREE)?,
            once: db.open_tree(ONCE_TREE)?,
            backoff: db.open_tree(BACKOFF_TREE)?,
            control: db.open_tree(CONTROL_TREE)?,
            backoff_keys: Default::default(),
            db,
            space,
            queued_bytes: Default::default(),
            max_queued_bytes: options.max_queued_bytes,
            work: tokio::sync::watch::Sender::new(0),
            gate: std::sync::RwLock::new(()),
        };
        migrations::migrate(&store, secrets)?;
        store.count_queued_bytes()?;
        // sled's lock makes this process the database's only user: every lease held now is a
        // dead process's, so its messages go back to the queue at once rather than when the
        // lease runs out (a shared backend rescues by the lease's age alone).
        let rescued = store.rescue_expired(u64::MAX)?;
        if rescued > 0 {
            tracing::warn!(messages = rescued, "outbox: messages the last run was sending go out again");
        }
        store.backoff_keys.store(store.backoff.len(), std::sync::atomic::Ordering::Relaxed);
        Ok(store)
    }
}

impl Sled {
    /// Makes everything written so far durable. sled's `flush` writes its log with
    /// `sync_file_range`, which neither flushes the drive's cache nor the file's size; the
    /// `fdatasync` of the log file that follows does both, so an acknowledged write survives a
    /// power cut, not only a crash of the process.
    ///
    /// Writers syncing at the same time share a flush (see [`GroupCommit`]).
    pub(crate) fn sync(&self) -> Result<(), StoreError> {
        let lock = || self.commits.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut state = lock();
        state.taken += 1;
        let ticket = state.taken;
        if state.gathering {
            // The flush gathering writers learns of this one.
            self.commits.done.notify_all();
        }
        loop {
            if state.durable >= ticket {
                return Ok(());
            }
            if !state.flushing {
                state.flushing = true;
                let gather_until = std::time::Instant::now() + GATHER;
                state.gathering = true;
                loop {
                    // Waiting for a flush (this writer among them) against the calls under way.
                    let waiting = state.taken - state.durable;
                    let busy = self.commits.busy.load(std::sync::atomic::Ordering::SeqCst);
                    let left = gather_until.saturating_duration_since(std::time::Instant::now());
                    if busy <= waiting || left.is_zero() {
                        break;
                    }
                    state = self.commits.done.wait_timeout(state, left).unwrap_or_else(|p| p.into_inner()).0;
                }
                state.gathering = false;
                let covers = state.taken;
                drop(state);
                let flushed = self.flush_now();
                state = lock();
                state.flushing = false;
                if flushed.is_ok() {
                    state.durable = state.durable.max(covers);
                }
                self.commits.done.notify_all();
                return flushed;
            }
            state = self.commits.done.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn flush_now(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        self.log.sync_data().inspect_err(|e| space::write_failed(e))?;
        Ok(())
    }

    /// Tells the outbox's workers there is work ([`Store::wake_ups`]); after the write is
    /// durable.
    pub(crate) fn signal_work(&self) {
        self.work.send_modify(|n| *n = n.wrapping_add(1));
    }
}

#[async_trait::async_trait]
impl Store for SledBackend {
    async fn flush(&self) -> Result<(), StoreError> {
        self.blocking(|db| db.sync()).await
    }

    fn refusing_writes(&self) -> Option<StoreError> {
        self.0.space.admit(Need::Grow).err()
    }

    async fn ready(&self) -> Result<(), StoreError> {
        self.admin_count().await?;
        self.refusing_writes().map_or(Ok(()), Err)
    }

    fn wake_ups(&self) -> tokio::sync::watch::Receiver<u64> {
        self.0.work.subscribe()
    }

    fn local_changes(&self) -> u64 {
        0
    }
}

#[cfg(test)]
pub(crate) mod test_store {
    use super::*;

    pub fn secrets() -> SecretBox {
        SecretBox::from_key([3; 32])
    }

    /// A valid server record for `host`, password "secret-Pa55".
    pub fn server(host: &str) -> crate::domain::MailServer {
        use crate::domain::{test_forms::valid_form, MailServer, MailServerForm, MailServerSettings};
        let form = MailServerForm {
            host: host.into(),
            password: "secret-Pa55".into(),
            ..valid_form()
        };
        let parsed = MailServerSettings::parse(&form, None).unwrap();
        MailServer::from_form(parsed, None).unwrap()
    }

    /// A message to `to` with `priority`, its subject and text naming the recipient.
    pub fn message(to: &str, priority: crate::outbox::Priority) -> NewMessage {
        NewMessage {
            origin: Default::default(),
            to: to.into(),
            subject: format!("to {to}"),
            body: MailBody {
                text: format!("hello {to}"),
                html: None,
                thread: None,
                raw: None,
            },
            priority,
            expires_at: None,
        }
    }

    /// The backend the store's tests run against, from `MAILROOM_TEST_STORE`: `sled` (the
    /// default, in a temporary directory) or `postgres` (a new database in the test binary's
    /// own PostgreSQL cluster, [`testpg::Cluster::shared`]). Every store test that speaks only
    /// through the traits opens its store here: together they are the conformance suite each
    /// backend must pass. Tests of one backend's own behaviour open it directly.
    pub enum TestBackend {
        Sled(tempfile::TempDir),
        Postgres(String),
    }

    impl TestBackend {
        /// The store over this backend's data: the same data at each call, as a restart sees
        /// it (drop the previous handle first).
        pub async fn open(&self) -> SharedStore {
            match self {
                TestBackend::Sled(dir) => Arc::new(open(dir.path())),
                TestBackend::Postgres(url) => Arc::new(
                    PostgresStore::connect(url, secrets(), test_postgres_options())
                        .await
                        .expect("the test database"),
                ),
            }
        }
    }

    /// A small pool: test binaries run many stores at once against one cluster.
    pub fn test_postgres_options() -> PostgresOptions {
        PostgresOptions { pool_size: 4, ..PostgresOptions::default() }
    }

    pub fn backend() -> TestBackend {
        match std::env::var("MAILROOM_TEST_STORE").as_deref() {
            Err(_) | Ok("") | Ok("sled") => TestBackend::Sled(tempfile::tempdir().unwrap()),
            Ok("postgres") => TestBackend::Postgres(testpg::Cluster::shared().database()),
            Ok(other) => panic!("MAILROOM_TEST_STORE={other}: the backends are `sled` and `postgres`"),
        }
    }

    /// Opens the store in `dir`. A database this test just dropped may still be locked for a
    /// moment (sled's flusher thread lets go of the file after the `Db`): wait for that, within
    /// a bound.
    pub fn open(dir: &Path) -> SledStore {
        open_with(dir, secrets()).unwrap()
    }

    /// [`open`] with another key, and the result as it is.
    pub fn open_with(dir: &Path, secrets: SecretBox) -> Result<SledStore, StoreError> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match SledStore::open(dir, secrets.clone()) {
                Err(StoreError::Locked { .. }) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(5))
                }
                other => return other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_store::*;
    use super::*;

    #[tokio::test]
    async fn second_open_of_same_dir_reports_lock() {
        let dir = tempfile::tempdir().unwrap();
        let _first = open(dir.path());
        match SledStore::open(dir.path(), secrets()) {
            Err(StoreError::Locked { .. }) => {}
            Err(other) => panic!("expected Locked, got {other}"),
            Ok(_) => panic!("second open of a locked directory succeeded"),
        }
    }
}
