//! Delivering the outbox (server only): one worker takes due messages, highest priority first,
//! sends them through the saved mail settings a few at a time, and records each attempt; what a
//! failure means is [`policy`]'s.
//!
//! Several workers (one per instance) can share one store: each claims with a lease that it
//! renews while it sends, and a round first rescues the messages of leases that ended (a worker
//! that died). What they all obey — the pause, the lane's wait for its quota, the failing
//! streak, the day's sends — is the store's control record, not this process's memory.
//!
//! Durability: `enqueue` is durable before it answers; the outcomes of a batch are written
//! together (group commit). After a crash, messages the worker had taken ("sending") go back to
//! the queue when their lease is rescued, so delivery is at least once: a message is sent twice
//! only if the worker died after the server took it and before its outcome was written, at most
//! the number in flight. A break after the final dot that the worker sees itself is "uncertain"
//! and is not sent again by itself.

pub mod budget;
mod kept;
pub mod policy;
pub mod storm;

use crate::mailer::{self, Mail, Step};
use crate::outbox::{Attempt, MessageId, Retry};
use crate::store::{
    AlertBatch, AlertFate, ClaimRequest, Claimed, ControlEvent, ControlEvents, Enqueued, Lease, NewMessage, OutboxControl, Outcome, ResetRecord,
    SharedStore, StoreError,
};
pub use crate::store::{Failing, Pause};
use policy::{RetrySchedule, Verdict};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// Messages taken in one batch per connection, and the most in one batch.
const BATCH_PER_CONNECTION: usize = 128;
const MAX_BATCH: usize = 1024;
/// Outcomes written and flushed together: a crash repeats at most this many sends, plus those
/// in flight.
const FLUSH_EVERY: usize = 64;
/// A round that took fewer than this many messages per connection waits [`COALESCE`] before
/// the next.
const COALESCE_BELOW: usize = 8;
const COALESCE: Duration = Duration::from_millis(25);

/// How the worker runs.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Messages sent at the same time (each on its own connection).
    pub concurrency: usize,
    pub schedule: RetrySchedule,
    /// How often an idle worker looks for deferred messages that became due.
    pub idle_poll: Duration,
    /// After a stop is asked for, how long sends under way may take before the worker leaves
    /// them (they go back to the queue at the next start).
    pub stop_grace: Duration,
    /// The mail server's limits; `None`: the provider's, if the settings match a preset.
    pub limits: Option<budget::SendLimits>,
    /// How long a claim holds its messages without a renewal (renewed every third of it while
    /// the worker lives); after it, another worker's round rescues them.
    pub lease: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            concurrency: 4,
            schedule: RetrySchedule::default(),
            idle_poll: Duration::from_secs(1),
            stop_grace: Duration::from_secs(8),
            limits: None,
            lease: Duration::from_secs(60),
        }
    }
}

#[derive(Default)]
struct Shared {
    /// Ends an idle wait (a stop asked for).
    idle: Notify,
    /// Starts the grace of the sends under way (a stop asked for).
    stop: Notify,
    stopping: std::sync::atomic::AtomicBool,
    /// This worker's claims' owner: drawn at start, so two instances (or two runs) never hold
    /// each other's messages.
    owner: u64,
    /// Counts the worker's rounds: whoever watches the outbox learns when to look again.
    rounds: tokio::sync::watch::Sender<u64>,
    /// OAuth2's tokens for the worker's sessions (and, through [`Outbox::tokens`], the test
    /// sends): one access-token cache per process.
    tokens: Option<mailer::Tokens>,
    /// Sessions left open by the last round for the next.
    kept: kept::Kept,
}

/// The outbox's front door and the handle on its worker: mail goes in through [`Self::submit`]
/// (or [`Self::request_reset`], [`Self::queue_alert`]), an admin's actions through
/// [`Self::retry`], [`Self::retry_failed`], [`Self::cancel`] and [`Self::resume`]; the store
/// wakes the workers (every instance's) when a write gave them work ([`Store::wake_ups`]). Also: its pause and health, and stopping it.
#[derive(Clone)]
pub struct Outbox {
    store: SharedStore,
    shared: Arc<Shared>,
    done: Arc<tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl Outbox {
    /// Starts the worker on the current tokio runtime.
    pub fn start(store: SharedStore, config: WorkerConfig) -> Self {
        let shared = Arc::new(Shared {
            owner: rand::random(),
            tokens: Some(mailer::Tokens::new(store.clone())),
            ..Shared::default()
        });
        let task = tokio::spawn(run(store.clone(), config, shared.clone()));
        Self {
            store,
            shared,
            done: Arc::new(tokio::sync::Mutex::new(Some(task))),
        }
    }

    /// Queues `messages` (all or none, durable on return) and wakes the worker. With an
    /// idempotency key seen before, nothing new is queued: the answer names the earlier messages.
    pub async fn submit(
        &self,
        messages: Vec<NewMessage>,
        idempotency_key: Option<String>,
        now: u64,
    ) -> Result<Enqueued, StoreError> {
        self.store.enqueue(messages, idempotency_key.as_deref(), now).await
    }

    /// An alert through storm control: the decision and the mails it allows in one durable
    /// step; the store wakes the worker when one was queued. One fate per message, in order.
    pub async fn queue_alert(&self, batch: AlertBatch, now: u64) -> Result<Vec<AlertFate>, StoreError> {
        self.store.enqueue_alert(batch, now).await
    }

    /// A password reset: the token's record and, for an account that exists, its mail (first in
    /// line), in one durable step; wakes the worker for the mail. Returns the mail's id.
    pub async fn request_reset(
        &self,
        token_hash: String,
        reset: ResetRecord,
        mail: Option<NewMessage>,
        now: u64,
    ) -> Result<Option<MessageId>, StoreError> {
        self.store.enqueue_reset(&token_hash, &reset, mail, now).await
    }

    /// Puts a failed, deferred, uncertain or cancelled message back in the queue, due now.
    pub async fn retry(&self, id: MessageId, now: u64) -> Result<Retry, StoreError> {
        self.store.retry_now(id, now).await
    }

    /// [`Self::retry`] for every failed message that still has its text; how many went back.
    pub async fn retry_failed(&self, now: u64) -> Result<usize, StoreError> {
        self.store.retry_failed(now).await
    }

    /// Cancels a queued or deferred message (its text kept for an undo). False if it was not
    /// waiting.
    pub async fn cancel(&self, id: MessageId) -> Result<bool, StoreError> {
        self.store.cancel(id).await
    }

    /// Changes after each round of the worker (whatever it did): a waiter checks the outbox
    /// again when it does.
    pub fn rounds(&self) -> tokio::sync::watch::Receiver<u64> {
        self.shared.rounds.subscribe()
    }

    /// OAuth2's tokens as the worker uses them: a test send shares its cache and its keeping
    /// of rotated refresh tokens.
    pub fn tokens(&self) -> mailer::Tokens {
        self.shared.tokens.clone().unwrap_or_else(mailer::Tokens::unkept)
    }

    /// The control record every instance's worker obeys.
    pub async fn control(&self) -> Result<OutboxControl, StoreError> {
        self.store.outbox_control().await
    }

    /// The pause, for the API's refusal: a store that cannot be read says so elsewhere (logged
    /// here, not paused).
    pub async fn paused(&self) -> Option<Pause> {
        match self.control().await {
            Ok(control) => control.paused,
            Err(e) => {
                tracing::error!(error = %e, "outbox: reading its control record failed");
                None
            }
        }
    }

    /// An admin lifts the pause (the settings did not change, the server was fixed).
    pub async fn resume(&self) -> Result<(), StoreError> {
        self.store.change_control(&[ControlEvent::Resumed]).await?;
        Ok(())
    }

    /// No new sends start; sends under way finish within the grace, then the worker ends.
    pub async fn stop(&self) {
        self.shared
            .stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.shared.stop.notify_one();
        self.shared.idle.notify_one();
        if let Some(task) = self.done.lock().await.take() {
            let _ = task.await;
        }
    }
}

fn stopping(shared: &Shared) -> bool {
    shared.stopping.load(std::sync::atomic::Ordering::SeqCst)
}

async fn run(store: SharedStore, config: WorkerConfig, shared: Arc<Shared>) {
    // The store says when there is work (on any instance, for a shared backend).
    let mut work = store.wake_ups();
    while !stopping(&shared) {
        work.borrow_and_update();
        let taken = match round(&store, &config, &shared).await {
            Ok(n) => Some(n),
            Err(e) => {
                tracing::error!(error = %e, "outbox: storage failed; trying again shortly");
                None
            }
        };
        let worked = taken.is_some_and(|n| n > 0);
        shared.rounds.send_modify(|n| *n += 1);
        // A few messages at a time while mail trickles in (one per enqueue): a moment lets the
        // next round take what came meanwhile in one claim and one session, instead of a claim,
        // a connection and a commit per message.
        if taken.is_some_and(|n| n > 0 && n < config.concurrency.max(1) * COALESCE_BELOW) {
            tokio::select! {
                _ = tokio::time::sleep(COALESCE) => {}
                _ = shared.stop.notified() => {}
            }
        }
        if !worked {
            tokio::select! {
                _ = tokio::time::sleep(config.idle_poll) => {}
                Ok(()) = work.changed() => {}
                _ = shared.idle.notified() => {}
            }
        }
    }
    shared.kept.sweep(None);
}

/// One round: takes what is due and sends it. Returns how many messages it took (also those
/// it gave back for newer settings: the next round starts at once).
async fn round(
    store: &SharedStore,
    config: &WorkerConfig,
    shared: &Arc<Shared>,
) -> Result<usize, StoreError> {
    let now = crate::clock::now_unix();
    // Messages of a worker that died (its lease ended) go back to the queue first.
    let rescued = store.rescue_expired(now).await?;
    if rescued > 0 {
        crate::metrics::rescued(rescued);
        tracing::warn!(messages = rescued, "outbox: a worker's lease ended; its messages go out again");
    }
    let Some(settings) = store.load_mail().await? else {
        shared.kept.sweep(None);
        return Ok(0);
    };
    shared.kept.sweep(Some(settings.version));
    let mut control = store.outbox_control().await?;
    if control.paused.is_some() {
        if control.paused_for(settings.version).is_some() {
            return Ok(0);
        }
        tracing::info!("outbox: the mail settings changed; resuming");
        let version = settings.version;
        control = store.change_control(&[ControlEvent::SettingsChanged { version }]).await?;
        if control.paused_for(version).is_some() {
            return Ok(0);
        }
    }
    if control.throttled_until > now {
        return Ok(0);
    }
    let limits = config
        .limits
        .unwrap_or_else(|| budget::limits_for(settings.value.settings.host.as_str()));
    // A batch is many sends, `concurrency` at a time, with one write for all their outcomes.
    let batch = (config.concurrency.max(1) * BATCH_PER_CONNECTION).min(MAX_BATCH);
    let allowed = control.budget.allowance(now, limits, batch);
    if allowed.messages == 0 {
        return Ok(0);
    }
    let version = settings.version;
    let lease_secs = config.lease.as_secs().max(3);
    let lease = Lease {
        owner: shared.owner,
        until: now + lease_secs,
    };
    // Counted against the limits only while there are limits to count against.
    let counted = limits != budget::SendLimits::default();
    let request = ClaimRequest {
        lease,
        now,
        max: allowed.messages,
        lowest: allowed.lowest,
        settings_version: version,
        counted,
    };
    // Settings saved since they were read: nothing taken; the save woke the worker, so the
    // next round starts at once with them.
    let Some(claimed) = store.claim(request).await? else {
        return Ok(0);
    };
    if claimed.is_empty() {
        return Ok(0);
    }
    let taken = claimed.len();
    let server = Arc::new(settings.value);
    // `concurrency` connections, each taking the batch's messages one after another through
    // one session (connection, TLS and login once).
    let queue = Arc::new(Mutex::new(std::collections::VecDeque::from(claimed)));
    // Set when a verdict pauses the outbox or the lane: messages not yet started are not tried.
    let halt = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Each result comes back as it happens; outcomes are written and flushed every
    // `FLUSH_EVERY`, so a crash can repeat at most that many sends plus those in flight.
    let (results, mut incoming) = tokio::sync::mpsc::unbounded_channel();
    let mut connections = tokio::task::JoinSet::new();
    let tokens = shared.tokens.clone().unwrap_or_else(mailer::Tokens::unkept);
    let width = config.concurrency.max(1);
    for _ in 0..width.min(taken) {
        let (server, queue, halt, results) = (server.clone(), queue.clone(), halt.clone(), results.clone());
        let (tokens, shared) = (tokens.clone(), shared.clone());
        connections.spawn(async move {
            let session = connection(&server, version, &queue, &halt, &results, &tokens, &shared.kept).await;
            // Kept for the next round unless a verdict stopped this one.
            if let Some(session) = session {
                if halt.load(std::sync::atomic::Ordering::SeqCst) {
                    session.close(&server).await;
                } else {
                    shared.kept.put(version, server, session, width);
                }
            }
        });
    }
    drop(results);
    let mut outcomes = Vec::with_capacity(FLUSH_EVERY);
    let mut events = ControlEvents::default();
    let owner = shared.owner;
    // The lease is renewed while the batch lasts: three times per lease.
    let mut renew = tokio::time::interval(Duration::from_secs(lease_secs / 3));
    renew.tick().await;
    let grace = async {
        shared.stop.notified().await;
        tokio::time::sleep(config.stop_grace).await;
    };
    tokio::pin!(grace);
    loop {
        tokio::select! {
            next = incoming.recv() => match next {
                Some((c, result)) => {
                    let halts = match result {
                        None => {
                            outcomes.push((c.message.id, Outcome::Returned));
                            false
                        }
                        Some(result) => {
                            let (outcome, halts) = judge(&c, result, config, &mut events, settings.version, now);
                            outcomes.push(outcome);
                            halts
                        }
                    };
                    // A pause or a wait for the quota is written at once: every worker obeys it.
                    if halts || outcomes.len() >= FLUSH_EVERY {
                        record(store, owner, std::mem::take(&mut outcomes), events.take()).await?;
                    }
                }
                None => break,
            },
            _ = renew.tick() => {
                let lease = Lease { owner, until: crate::clock::now_unix() + lease_secs };
                store.renew_leases(lease).await?;
            }
            // Stopping, and the grace is over: the sends under way are left (they go out again
            // at the next start); the messages not started go back to the queue now.
            _ = &mut grace => {
                tracing::warn!(connections = connections.len(), "outbox: stopping with sends under way");
                connections.abort_all();
                break;
            }
        }
    }
    while let Ok((c, result)) = incoming.try_recv() {
        outcomes.push(match result {
            None => (c.message.id, Outcome::Returned),
            Some(result) => judge(&c, result, config, &mut events, settings.version, now).0,
        });
    }
    let untouched: Vec<Claimed> = queue
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .drain(..)
        .collect();
    outcomes.extend(untouched.into_iter().map(|c| (c.message.id, Outcome::Returned)));
    record(store, owner, outcomes, events.take()).await?;
    Ok(taken)
}

/// Writes outcomes and the control record's changes together, durable on return (group
/// commit).
async fn record(
    store: &SharedStore,
    owner: u64,
    outcomes: Vec<(crate::outbox::MessageId, Outcome)>,
    events: Vec<ControlEvent>,
) -> Result<(), StoreError> {
    if outcomes.is_empty() && events.is_empty() {
        return Ok(());
    }
    let expected = outcomes.len();
    let recorded = store.finish_all(owner, outcomes, &events).await?;
    if recorded < expected {
        tracing::warn!(
            lost = expected - recorded,
            "outbox: outcomes of messages whose lease ended were not recorded (another worker has them)"
        );
    }
    Ok(())
}

/// How a send ended, before judging it, and its conversation (redacted).
type SendResult = (
    Result<mailer::Delivered, (mailer::SendFailure, Step)>,
    Vec<crate::report::TranscriptLine>,
);

/// One connection's share of a batch: takes messages until none are left, through one session
/// (one the last round left open, else a new one) reopened after a failure, and reports each
/// with its result (`None`: not tried). Returns the session, still open, if there is one.
async fn connection(
    server: &crate::domain::MailServer,
    version: u64,
    queue: &Mutex<std::collections::VecDeque<Claimed>>,
    halt: &std::sync::atomic::AtomicBool,
    results: &tokio::sync::mpsc::UnboundedSender<(Claimed, Option<SendResult>)>,
    tokens: &mailer::Tokens,
    kept: &kept::Kept,
) -> Option<mailer::Session> {
    let mut session: Option<mailer::Session> = None;
    let mut first = true;
    loop {
        let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
        let Some(c) = next else { break };
        if halt.load(std::sync::atomic::Ordering::SeqCst) {
            let _ = results.send((c, None));
            continue;
        }
        if std::mem::take(&mut first) {
            session = kept.take(version, server).await;
        }
        let started = std::time::Instant::now();
        let result = send(server, &mut session, &c, tokens).await;
        crate::metrics::send_duration(started.elapsed().as_secs_f64());
        if let (Err((failure, step)), _) = &result {
            // No later message starts with settings or a quota that this verdict stops for.
            if matches!(
                policy::classify(failure, *step),
                Verdict::PauseOutbox | Verdict::Throttled { .. }
            ) {
                halt.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let _ = results.send((c, Some(result)));
    }
    session
}

/// Sends one message through the connection's session, opening it first if needed; a failure
/// ends the session (the next message opens a new one).
async fn send(
    server: &crate::domain::MailServer,
    session: &mut Option<mailer::Session>,
    c: &Claimed,
    tokens: &mailer::Tokens,
) -> SendResult {
    let to = match c.message.to.parse::<lettre::Address>() {
        Ok(to) => to,
        Err(e) => {
            let failure = mailer::SendFailure::new(
                crate::report::Diagnosis::RecipientRejected,
                crate::domain::Said::new("summary-address-unusable").with("address", &c.message.to).with("reason", e),
            );
            return (Err((failure, Step::RcptTo)), Vec::new());
        }
    };
    let mail = Mail {
        subject: c.message.subject.clone(),
        text: c.body.text.clone(),
        html: c.body.html.clone(),
        thread: c.body.thread.clone(),
        raw: c.body.raw.clone(),
    };
    let mut open = match session.take() {
        Some(open) => open,
        None => match mailer::Session::open(server, tokens).await {
            Ok(open) => open,
            Err(failed) => {
                let (failure, step, transcript) = *failed;
                return (Err((failure, step)), transcript);
            }
        },
    };
    let result = open.send(server, &to, &mail).await;
    // The conversation is kept where it explains something: for failures. A message that went
    // through keeps the server's answer.
    if result.is_ok() {
        open.discard_transcript();
        *session = Some(open);
        return (result, Vec::new());
    }
    let transcript = open.transcript();
    (result, transcript)
}

/// The outcome to record for a finished send, and its changes to the control record; true
/// when the verdict pauses the outbox or the lane (to be written at once).
fn judge(
    c: &Claimed,
    result: SendResult,
    config: &WorkerConfig,
    events: &mut ControlEvents,
    settings_version: u64,
    now: u64,
) -> ((crate::outbox::MessageId, Outcome), bool) {
    let id = c.message.id;
    let at = crate::clock::now_rfc3339();
    let (result, transcript) = result;
    let (failure, step) = match result {
        Ok(delivered) => {
            crate::metrics::attempt("sent", "sent");
            events.push(ControlEvent::Sent);
            let text = delivered.reply;
            let sent = (
                id,
                Outcome::Sent(Attempt {
                    at,
                    step: "sent".into(),
                    code: Some(delivered.code),
                    enhanced_status: mailer::enhanced_status(&text),
                    text,
                    transcript,
                }),
            );
            return (sent, false);
        }
        Err(failed) => failed,
    };
    let text = failure.reply.clone().unwrap_or_else(|| failure.summary_en());
    let attempt = Attempt {
        at,
        step: step_name(step).into(),
        code: failure.code,
        enhanced_status: failure.reply.as_deref().and_then(mailer::enhanced_status),
        text,
        transcript,
    };
    let last = format!("{}: {}", step_name(step), attempt.text);
    events.push(ControlEvent::Failed { at: now, last });
    let mut halts = false;
    let failures = c.message.attempts.len() as u32 + 1;
    let outcome = match policy::classify(&failure, step) {
        Verdict::Fail => Outcome::Failed(attempt),
        Verdict::Uncertain => Outcome::Uncertain(attempt),
        Verdict::Retry { after_secs } => {
            let wait = after_secs.unwrap_or_else(|| config.schedule.wait_secs(failures, rand::random()));
            if config.schedule.gives_up(c.message.created_at, now + wait) {
                Outcome::Failed(attempt)
            } else {
                Outcome::Deferred {
                    attempt,
                    until: now + wait,
                }
            }
        }
        Verdict::Throttled { secs } => {
            let until = now + secs;
            events.push(ControlEvent::Throttled { until });
            halts = true;
            tracing::warn!(secs, reply = %attempt.text, "outbox: the mail server's limit is reached; waiting");
            Outcome::Deferred { attempt, until }
        }
        Verdict::PauseOutbox => {
            // The summary names the reply when there was one: said once.
            let summary = failure.summary_en();
            let reason = if summary.contains(attempt.text.trim()) {
                summary
            } else {
                format!("{summary} ({})", attempt.text)
            };
            tracing::error!(%reason, "outbox: paused until the mail settings change or an admin resumes it");
            events.push(ControlEvent::Paused(Pause {
                reason,
                settings_version,
                cause: policy::pause_cause(failure.diagnosis),
            }));
            halts = true;
            Outcome::Held(attempt)
        }
    };
    let result = match &outcome {
        Outcome::Failed(_) => "failed",
        Outcome::Uncertain(_) => "uncertain",
        Outcome::Deferred { .. } => "deferred",
        Outcome::Held(_) => "held",
        Outcome::Sent(_) | Outcome::Returned | Outcome::Expired => "other",
    };
    crate::metrics::attempt(result, step_name(step));
    ((id, outcome), halts)
}

/// A step's name in an attempt's record.
fn step_name(step: Step) -> &'static str {
    match step {
        Step::Token => "token",
        Step::Dns => "dns",
        Step::Connect => "connect",
        Step::Tls => "tls",
        Step::Greeting => "greeting",
        Step::Ehlo => "ehlo",
        Step::StartTls => "starttls",
        Step::Auth => "login",
        Step::MailFrom => "mail from",
        Step::RcptTo => "rcpt to",
        Step::Data => "data",
        Step::Body => "message",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::{Message, Priority, State};
    use crate::store::test_store::{message, open, server};
    use crate::store::{ControlStore, MailSettingsStore, OutboxStore};

    const NOW: u64 = 1_800_000_000;
    const LEASE: Lease = Lease { owner: 1, until: NOW + 60 };

    /// Settings for a port on this machine where nothing listens (every try is deferred).
    fn closed_server() -> crate::domain::MailServer {
        use crate::domain::{test_forms::valid_form, MailServer, MailServerForm, MailServerSettings};
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let form = MailServerForm {
            host: "localhost".into(),
            port: port.to_string(),
            ssl: false,
            starttls: false,
            ..valid_form()
        };
        MailServer::from_form(MailServerSettings::parse(&form, None).unwrap(), None).unwrap()
    }

    /// Waits, round by round of the worker, until `found` finds what it looks for.
    async fn after_rounds<F: std::future::Future<Output = Option<Message>>>(
        rounds: &mut tokio::sync::watch::Receiver<u64>,
        mut found: impl FnMut() -> F,
    ) -> Message {
        loop {
            if let Some(m) = found().await {
                return m;
            }
            tokio::time::timeout(Duration::from_secs(10), rounds.changed())
                .await
                .expect("the worker never came round")
                .unwrap();
        }
    }

    #[tokio::test]
    async fn the_front_door_queues_and_wakes_the_worker_which_otherwise_sleeps() {
        let dir = tempfile::tempdir().unwrap();
        let store: SharedStore = Arc::new(open(dir.path()));
        store.save_mail(0, closed_server(), "admin@example.com").await.unwrap();
        // Without a wake-up the worker would not look again for an hour.
        let config = WorkerConfig {
            idle_poll: Duration::from_secs(3600),
            ..WorkerConfig::default()
        };
        let outbox = Outbox::start(store.clone(), config);
        let mut rounds = outbox.rounds();
        // Its first round found nothing; now it sleeps.
        tokio::time::timeout(Duration::from_secs(10), rounds.changed()).await.unwrap().unwrap();
        let now = crate::clock::now_unix();
        let mail = || vec![message("a@example.com", Priority::Normal)];
        let id = outbox.submit(mail(), Some("k".into()), now).await.unwrap().ids()[0];
        let tried = after_rounds(&mut rounds, || async {
            store.message(id).await.unwrap().filter(|m| m.state == State::Deferred)
        })
        .await;
        assert_eq!(tried.attempts.len(), 1);
        // The same key: nothing new.
        let again = outbox.submit(mail(), Some("k".into()), now).await.unwrap();
        assert!(matches!(again, Enqueued::Existing(ref ids) if ids == &[id]), "{again:?}");

        // An admin cancels it, then queues it again: tried again at once.
        assert!(outbox.cancel(id).await.unwrap());
        assert_eq!(store.message(id).await.unwrap().unwrap().state, State::Cancelled);
        assert_eq!(outbox.retry(id, now).await.unwrap(), Retry::Queued);
        let retried = after_rounds(&mut rounds, || async {
            store.message(id).await.unwrap().filter(|m| m.state == State::Deferred && m.attempts.len() == 2)
        })
        .await;
        assert_eq!(retried.id, id);

        // Mail queued by anyone with the store (another instance's front door) wakes it too.
        let other = store.enqueue(vec![message("b@example.com", Priority::Normal)], None, now).await.unwrap().ids()[0];
        after_rounds(&mut rounds, || async { store.message(other).await.unwrap().filter(|m| m.state == State::Deferred) }).await;
        outbox.stop().await;
    }

    /// A worker that looks again every 50 ms, with a store holding settings for a closed port.
    async fn worker(dir: &std::path::Path) -> (SharedStore, Outbox) {
        let store: SharedStore = Arc::new(open(dir));
        store.save_mail(0, closed_server(), "admin@example.com").await.unwrap();
        let config = WorkerConfig {
            idle_poll: Duration::from_millis(50),
            ..WorkerConfig::default()
        };
        let outbox = Outbox::start(store.clone(), config);
        (store, outbox)
    }

    /// Lets the worker come round `n` times.
    async fn rounds_pass(outbox: &Outbox, n: u64) {
        let mut rounds = outbox.rounds();
        let start = *rounds.borrow_and_update();
        while *rounds.borrow_and_update() < start + n {
            tokio::time::timeout(Duration::from_secs(10), rounds.changed()).await.unwrap().unwrap();
        }
    }

    #[tokio::test]
    async fn a_pause_or_a_wait_written_by_another_instance_holds_this_worker_too() {
        let dir = tempfile::tempdir().unwrap();
        let (store, outbox) = worker(dir.path()).await;
        let version = store.load_mail().await.unwrap().unwrap().version;
        // Another instance's worker paused the outbox on these settings.
        store
            .change_control(&[ControlEvent::Paused(Pause {
                reason: "The login was rejected (535)".into(),
                settings_version: version,
                cause: crate::store::PauseCause::LoginRefused,
            })]).await
            .unwrap();
        let now = crate::clock::now_unix();
        let id = outbox.submit(vec![message("a@example.com", Priority::Normal)], None, now).await.unwrap().ids()[0];
        rounds_pass(&outbox, 3).await;
        assert_eq!(store.message(id).await.unwrap().unwrap().state, State::Queued, "not taken while paused");
        assert_eq!(outbox.paused().await.map(|p| p.settings_version), Some(version));

        // Lifted (here, or on any instance): this worker goes on; then a wait for the quota,
        // written elsewhere, holds it again.
        outbox.resume().await.unwrap();
        let mut rounds = outbox.rounds();
        let tried = after_rounds(&mut rounds, || async { store.message(id).await.unwrap().filter(|m| m.state == State::Deferred) }).await;
        assert_eq!(tried.attempts.len(), 1);
        store
            .change_control(&[ControlEvent::Throttled { until: now + 3600 }]).await
            .unwrap();
        assert_eq!(outbox.retry(id, now).await.unwrap(), Retry::Queued);
        rounds_pass(&outbox, 3).await;
        assert_eq!(store.message(id).await.unwrap().unwrap().state, State::Queued, "the lane waits");
        assert!(outbox.control().await.unwrap().failing.is_some(), "the failure is on record for every instance");
        outbox.stop().await;
    }

    #[tokio::test]
    async fn messages_held_by_a_worker_that_died_are_rescued_when_its_lease_ends() {
        let dir = tempfile::tempdir().unwrap();
        let (store, outbox) = worker(dir.path()).await;
        outbox.stop().await;
        let now = crate::clock::now_unix();
        let id = store.enqueue(vec![message("a@example.com", Priority::Normal)], None, now).await.unwrap().ids()[0];
        // Another instance claims it with a lease of one second, then dies.
        let dead = Lease { owner: 999, until: now + 1 };
        let settings_version = store.load_mail().await.unwrap().map_or(0, |m| m.version);
        let request = ClaimRequest { settings_version, ..ClaimRequest::any(dead, now, 10) };
        assert_eq!(store.claim(request).await.unwrap().map(|c| c.len()), Some(1));
        let outbox = Outbox::start(store.clone(), WorkerConfig { idle_poll: Duration::from_millis(50), ..WorkerConfig::default() });
        rounds_pass(&outbox, 1).await;
        let held = store.message(id).await.unwrap().unwrap();
        assert!(held.state == State::Sending || crate::clock::now_unix() > now + 1, "held while the lease lasts: {held:?}");
        let mut rounds = outbox.rounds();
        let tried = after_rounds(&mut rounds, || async { store.message(id).await.unwrap().filter(|m| m.state == State::Deferred) }).await;
        assert_eq!(tried.attempts.len(), 1, "rescued and tried once");
        // The dead worker's late outcome is not recorded over it.
        let late = store.finish_all(999, vec![(id, Outcome::Returned)], &[]).await.unwrap();
        assert_eq!(late, 0);
        outbox.stop().await;
    }

    #[tokio::test]
    async fn a_claim_made_with_settings_older_than_the_saved_ones_takes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let first = store.save_mail(0, server("smtp.example.com"), "admin@example.com").await.unwrap();
        // A round read version 1; meanwhile the settings were saved again and a message queued.
        let second = store.save_mail(first.version, server("smtp.example.com"), "admin@example.com").await.unwrap();
        let queued = message("a@example.com", Priority::Normal);
        let id = store.enqueue(vec![queued], None, NOW).await.unwrap().ids()[0];
        let request = |settings_version| ClaimRequest {
            settings_version,
            counted: true,
            ..ClaimRequest::any(LEASE, NOW, 10)
        };

        assert_eq!(store.claim(request(first.version)).await.unwrap(), None);
        let back = store.message(id).await.unwrap().unwrap();
        assert_eq!((back.state, back.attempts.len()), (State::Queued, 0), "left untouched");
        assert_eq!(store.outbox_control().await.unwrap().budget, Default::default(), "nothing counted");

        let claimed = store.claim(request(second.version)).await.unwrap().expect("the current settings take it");
        assert_eq!(claimed.iter().map(|c| c.message.id).collect::<Vec<_>>(), vec![id]);
        assert_ne!(store.outbox_control().await.unwrap().budget, Default::default(), "counted in the same transaction");
    }
}
