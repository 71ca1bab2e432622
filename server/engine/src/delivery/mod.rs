//! Delivering the outbox (server only): one worker takes due messages, highest priority first,
//! sends them through the saved mail settings a few at a time, and records each attempt; what a
//! failure means is [`policy`]'s.
//!
//! Durability: `enqueue` is flushed before it answers; the outcomes of a batch are flushed
//! together (group commit). After a crash, messages the worker had taken ("sending") go back to
//! the queue when it starts again, so delivery is at least once: a message is sent twice only if
//! the process died after the server took it and before its outcome was flushed, at most the
//! number in flight. A break after the final dot that the worker sees itself is "uncertain" and
//! is not sent again by itself.

pub mod budget;
pub mod policy;

use crate::mailer::{self, Mail, Step};
use crate::outbox::{Attempt, MessageId, Retry};
use crate::store::{Claimed, Enqueued, NewMessage, Outcome, ResetRecord, SharedStore, Store, StoreError};
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
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            concurrency: 4,
            schedule: RetrySchedule::default(),
            idle_poll: Duration::from_secs(1),
            stop_grace: Duration::from_secs(8),
            limits: None,
        }
    }
}

/// Why the outbox is paused, and the settings version it was paused at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pause {
    pub reason: String,
    pub settings_version: u64,
}

/// Deliveries failing without a success between them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failing {
    /// Unix seconds: the first failure since the last message sent.
    pub since: u64,
    /// The last failure: the step and what the server said.
    pub last: String,
}

#[derive(Default)]
struct Shared {
    wake: Notify,
    stop: Notify,
    stopping: std::sync::atomic::AtomicBool,
    paused: Mutex<Option<Pause>>,
    /// Unix seconds until which the mail server's lane waits (its quota or rate limit).
    throttled_until: Mutex<u64>,
    /// The sends of the last day, against the mail server's limits.
    budget: Mutex<budget::Budget>,
    /// Since when deliveries have been failing (Unix seconds), and the last failure; cleared by
    /// the next message sent.
    failing: Mutex<Option<Failing>>,
    /// Counts the worker's rounds: whoever watches the outbox learns when to look again.
    rounds: tokio::sync::watch::Sender<u64>,
}

/// The outbox's front door and the handle on its worker: mail goes in through [`Self::submit`]
/// (or [`Self::request_reset`]), an admin's actions through [`Self::retry`],
/// [`Self::retry_failed`], [`Self::cancel`] and [`Self::resume`]; each wakes the worker when
/// it gave it work. Also: its pause and health, and stopping it.
#[derive(Clone)]
pub struct Outbox {
    store: SharedStore,
    shared: Arc<Shared>,
    done: Arc<tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl Outbox {
    /// Starts the worker on the current tokio runtime.
    pub fn start(store: SharedStore, config: WorkerConfig) -> Self {
        let shared = Arc::new(Shared::default());
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
        let outbox = self.clone();
        blocking(&self.store, move |s| outbox.submit_in(s, messages, idempotency_key.as_deref(), now)).await
    }

    /// [`Self::submit`] for a caller already off the async runtime, with the store it holds
    /// (the HTTP API runs its storage work behind its own bound).
    pub fn submit_in(
        &self,
        store: &dyn Store,
        messages: Vec<NewMessage>,
        idempotency_key: Option<&str>,
        now: u64,
    ) -> Result<Enqueued, StoreError> {
        let enqueued = store.enqueue(messages, idempotency_key, now)?;
        if matches!(enqueued, Enqueued::New(_)) {
            self.wake();
        }
        Ok(enqueued)
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
        let id = blocking(&self.store, move |s| s.enqueue_reset(&token_hash, &reset, mail, now)).await?;
        if id.is_some() {
            self.wake();
        }
        Ok(id)
    }

    /// Puts a failed, deferred, uncertain or cancelled message back in the queue, due now.
    pub async fn retry(&self, id: MessageId, now: u64) -> Result<Retry, StoreError> {
        let answer = blocking(&self.store, move |s| s.retry_now(id, now)).await?;
        if answer == Retry::Queued {
            self.wake();
        }
        Ok(answer)
    }

    /// [`Self::retry`] for every failed message that still has its text; how many went back.
    pub async fn retry_failed(&self, now: u64) -> Result<usize, StoreError> {
        let n = blocking(&self.store, move |s| s.retry_failed(now)).await?;
        if n > 0 {
            self.wake();
        }
        Ok(n)
    }

    /// Cancels a queued or deferred message (its text kept for an undo). False if it was not
    /// waiting.
    pub async fn cancel(&self, id: MessageId) -> Result<bool, StoreError> {
        blocking(&self.store, move |s| s.cancel(id)).await
    }

    /// Changes after each round of the worker (whatever it did): a waiter checks the outbox
    /// again when it does.
    pub fn rounds(&self) -> tokio::sync::watch::Receiver<u64> {
        self.shared.rounds.subscribe()
    }

    /// Look now rather than at the next poll (the settings changed, a mailbox connected; the
    /// front door's methods call it themselves).
    pub fn wake(&self) {
        self.shared.wake.notify_one();
    }

    /// Unix seconds until which the mail server's lane waits for its quota (0: not waiting).
    pub fn throttled_until(&self) -> u64 {
        *self
            .shared
            .throttled_until
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    pub fn paused(&self) -> Option<Pause> {
        self.shared
            .paused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Whether deliveries have been failing since the last success, since when, and why.
    pub fn failing(&self) -> Option<Failing> {
        self.shared
            .failing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// An admin lifts the pause (the settings did not change, the server was fixed).
    pub fn resume(&self) {
        *self.shared.paused.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.wake();
    }

    /// No new sends start; sends under way finish within the grace, then the worker ends.
    pub async fn stop(&self) {
        self.shared
            .stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.shared.stop.notify_one();
        self.shared.wake.notify_one();
        if let Some(task) = self.done.lock().await.take() {
            let _ = task.await;
        }
    }
}

impl Shared {
    /// Whether the mail server's lane waits for its quota at `now`.
    fn lane_waits(&self, now: u64) -> bool {
        *self.throttled_until.lock().unwrap_or_else(|p| p.into_inner()) > now
    }
}

fn stopping(shared: &Shared) -> bool {
    shared.stopping.load(std::sync::atomic::Ordering::SeqCst)
}

/// Runs blocking storage work off the async runtime.
async fn blocking<T: Send + 'static>(
    store: &SharedStore,
    f: impl FnOnce(&dyn crate::store::Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || f(store.as_ref()))
        .await
        .unwrap_or_else(|e| Err(StoreError::Io(std::io::Error::other(e.to_string()))))
}

async fn run(store: SharedStore, config: WorkerConfig, shared: Arc<Shared>) {
    match blocking(&store, |s| s.requeue_in_flight()).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            messages = n,
            "outbox: messages left sending by the last run go out again"
        ),
        Err(e) => tracing::error!(error = %e, "outbox: requeueing the messages in flight failed"),
    }
    while !stopping(&shared) {
        let worked = match round(&store, &config, &shared).await {
            Ok(n) => n > 0,
            Err(e) => {
                tracing::error!(error = %e, "outbox: storage failed; trying again shortly");
                false
            }
        };
        shared.rounds.send_modify(|n| *n += 1);
        if !worked {
            let _ = tokio::time::timeout(config.idle_poll, shared.wake.notified()).await;
        }
    }
}

/// One round: takes what is due and sends it. Returns how many messages it took (also those
/// it gave back for newer settings: the next round starts at once).
async fn round(
    store: &SharedStore,
    config: &WorkerConfig,
    shared: &Arc<Shared>,
) -> Result<usize, StoreError> {
    let now = crate::clock::now_unix();
    let Some(settings) = blocking(store, |s| s.load_mail()).await? else {
        return Ok(0);
    };
    {
        let mut paused = shared.paused.lock().unwrap_or_else(|p| p.into_inner());
        match paused.as_ref() {
            Some(p) if p.settings_version == settings.version => return Ok(0),
            Some(_) => {
                tracing::info!("outbox: the mail settings changed; resuming");
                *paused = None;
            }
            None => {}
        }
    }
    if shared.lane_waits(now) {
        return Ok(0);
    }
    let limits = config
        .limits
        .unwrap_or_else(|| budget::limits_for(settings.value.settings.host.as_str()));
    // A batch is many sends, `concurrency` at a time, with one flush for all their outcomes.
    let batch = (config.concurrency.max(1) * BATCH_PER_CONNECTION).min(MAX_BATCH);
    let allowed = shared
        .budget
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .allowance(now, limits, batch);
    if allowed.messages == 0 {
        return Ok(0);
    }
    let version = settings.version;
    let claim = blocking(store, move |s| claim_for(s, version, now, allowed.messages, allowed.lowest));
    let claimed = match claim.await? {
        Claim::Taken(claimed) => claimed,
        Claim::GivenBack(taken) => return Ok(taken),
    };
    if claimed.is_empty() {
        return Ok(0);
    }
    shared
        .budget
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .record(now, claimed.len());
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
    for _ in 0..config.concurrency.max(1).min(taken) {
        let (server, queue, halt, results) = (server.clone(), queue.clone(), halt.clone(), results.clone());
        connections.spawn(async move { connection(&server, &queue, &halt, &results).await });
    }
    drop(results);
    let mut outcomes = Vec::with_capacity(FLUSH_EVERY);
    let grace = async {
        shared.stop.notified().await;
        tokio::time::sleep(config.stop_grace).await;
    };
    tokio::pin!(grace);
    loop {
        tokio::select! {
            next = incoming.recv() => match next {
                Some((c, result)) => {
                    outcomes.push(match result {
                        None => (c.message.id, Outcome::Returned),
                        Some(result) => judge(&c, result, config, shared, settings.version, now),
                    });
                    if outcomes.len() >= FLUSH_EVERY {
                        record(store, std::mem::take(&mut outcomes)).await?;
                    }
                }
                None => break,
            },
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
            Some(result) => judge(&c, result, config, shared, settings.version, now),
        });
    }
    let untouched: Vec<Claimed> = queue
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .drain(..)
        .collect();
    outcomes.extend(untouched.into_iter().map(|c| (c.message.id, Outcome::Returned)));
    record(store, outcomes).await?;
    // A provider that rotated the mailbox's refresh token: the store keeps the new one.
    if let Some((old, new)) = crate::mailer::oauth::take_rotated(&server) {
        blocking(store, move |s| s.rotate_refresh_token(&old, new)).await?;
    }
    Ok(taken)
}

/// What [`claim_for`] did.
enum Claim {
    Taken(Vec<Claimed>),
    /// The settings changed since the round read them: this many went back untouched.
    GivenBack(usize),
}

/// Claims what is due for the settings of `version`. A message queued after a save must not go
/// out with the settings from before it, so the settings are read again after the claim: if
/// they changed, the claim is given back.
fn claim_for(
    s: &dyn crate::store::Store,
    version: u64,
    now: u64,
    max: usize,
    lowest: crate::outbox::Priority,
) -> Result<Claim, StoreError> {
    let claimed = s.claim(now, max, lowest)?;
    if claimed.is_empty() || s.load_mail()?.is_some_and(|m| m.version == version) {
        return Ok(Claim::Taken(claimed));
    }
    let taken = claimed.len();
    s.finish_all(claimed.iter().map(|c| (c.message.id, Outcome::Returned)).collect())?;
    Ok(Claim::GivenBack(taken))
}

/// Writes outcomes and flushes them together (group commit).
async fn record(
    store: &SharedStore,
    outcomes: Vec<(crate::outbox::MessageId, Outcome)>,
) -> Result<(), StoreError> {
    blocking(store, move |s| {
        s.finish_all(outcomes)?;
        s.flush()
    })
    .await
}

/// How a send ended, before judging it, and its conversation (redacted).
type SendResult = (
    Result<mailer::Delivered, (mailer::SendFailure, Step)>,
    Vec<crate::report::TranscriptLine>,
);

/// One connection's share of a batch: takes messages until none are left, through one session
/// reopened after a failure, and reports each with its result (`None`: not tried).
async fn connection(
    server: &crate::domain::MailServer,
    queue: &Mutex<std::collections::VecDeque<Claimed>>,
    halt: &std::sync::atomic::AtomicBool,
    results: &tokio::sync::mpsc::UnboundedSender<(Claimed, Option<SendResult>)>,
) {
    let mut session: Option<mailer::Session> = None;
    loop {
        let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
        let Some(c) = next else { break };
        if halt.load(std::sync::atomic::Ordering::SeqCst) {
            let _ = results.send((c, None));
            continue;
        }
        let result = send(server, &mut session, &c).await;
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
    if let Some(session) = session {
        session.close(server).await;
    }
}

/// Sends one message through the connection's session, opening it first if needed; a failure
/// ends the session (the next message opens a new one).
async fn send(
    server: &crate::domain::MailServer,
    session: &mut Option<mailer::Session>,
    c: &Claimed,
) -> SendResult {
    let to = match c.message.to.parse::<lettre::Address>() {
        Ok(to) => to,
        Err(e) => {
            let failure = mailer::SendFailure::new(
                crate::report::Diagnosis::RecipientRejected,
                format!("The address {} cannot be used: {e}", c.message.to),
            );
            return (Err((failure, Step::RcptTo)), Vec::new());
        }
    };
    let mail = Mail {
        subject: c.message.subject.clone(),
        text: c.body.text.clone(),
        html: c.body.html.clone(),
    };
    let mut open = match session.take() {
        Some(open) => open,
        None => match mailer::Session::open(server).await {
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

/// The outcome to record for a finished send; pauses the outbox or the lane when the verdict
/// says so.
fn judge(
    c: &Claimed,
    result: SendResult,
    config: &WorkerConfig,
    shared: &Shared,
    settings_version: u64,
    now: u64,
) -> (crate::outbox::MessageId, Outcome) {
    let id = c.message.id;
    let at = crate::clock::now_rfc3339();
    let (result, transcript) = result;
    let mut failing = shared.failing.lock().unwrap_or_else(|p| p.into_inner());
    let (failure, step) = match result {
        Ok(delivered) => {
            *failing = None;
            let text = delivered.reply;
            return (
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
        }
        Err(failed) => failed,
    };
    let text = failure.reply.clone().unwrap_or_else(|| failure.summary.clone());
    let attempt = Attempt {
        at,
        step: step_name(step).into(),
        code: failure.code,
        enhanced_status: failure.reply.as_deref().and_then(mailer::enhanced_status),
        text,
        transcript,
    };
    let last = format!("{}: {}", step_name(step), attempt.text);
    match failing.as_mut() {
        Some(f) => f.last = last,
        None => *failing = Some(Failing { since: now, last }),
    }
    drop(failing);
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
            let mut lane = shared.throttled_until.lock().unwrap_or_else(|p| p.into_inner());
            *lane = (*lane).max(until);
            tracing::warn!(secs, reply = %attempt.text, "outbox: the mail server's limit is reached; waiting");
            Outcome::Deferred { attempt, until }
        }
        Verdict::PauseOutbox => {
            // The summary names the reply when there was one: said once.
            let reason = if failure.summary.contains(attempt.text.trim()) {
                failure.summary.clone()
            } else {
                format!("{} ({})", failure.summary, attempt.text)
            };
            tracing::error!(%reason, "outbox: paused until the mail settings change or an admin resumes it");
            *shared.paused.lock().unwrap_or_else(|p| p.into_inner()) = Some(Pause {
                reason,
                settings_version,
            });
            Outcome::Held(attempt)
        }
    };
    (id, outcome)
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
    use crate::store::{MailSettingsStore, OutboxStore};

    const NOW: u64 = 1_800_000_000;

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
    async fn after_rounds(
        rounds: &mut tokio::sync::watch::Receiver<u64>,
        mut found: impl FnMut() -> Option<Message>,
    ) -> Message {
        loop {
            if let Some(m) = found() {
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
        store.save_mail(0, closed_server(), "admin@example.com").unwrap();
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
        let tried = after_rounds(&mut rounds, || {
            store.message(id).unwrap().filter(|m| m.state == State::Deferred)
        })
        .await;
        assert_eq!(tried.attempts.len(), 1);
        // The same key: nothing new.
        let again = outbox.submit(mail(), Some("k".into()), now).await.unwrap();
        assert!(matches!(again, Enqueued::Existing(ref ids) if ids == &[id]), "{again:?}");

        // An admin cancels it, then queues it again: tried again at once.
        assert!(outbox.cancel(id).await.unwrap());
        assert_eq!(store.message(id).unwrap().unwrap().state, State::Cancelled);
        assert_eq!(outbox.retry(id, now).await.unwrap(), Retry::Queued);
        let retried = after_rounds(&mut rounds, || {
            store.message(id).unwrap().filter(|m| m.state == State::Deferred && m.attempts.len() == 2)
        })
        .await;
        assert_eq!(retried.id, id);
        outbox.stop().await;
    }

    #[test]
    fn a_claim_made_with_settings_older_than_the_saved_ones_is_given_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let first = store.save_mail(0, server("smtp.example.com"), "admin@example.com").unwrap();
        // A round read version 1; meanwhile the settings were saved again and a message queued.
        let second = store.save_mail(first.version, server("smtp.example.com"), "admin@example.com").unwrap();
        let queued = message("a@example.com", Priority::Normal);
        let id = store.enqueue(vec![queued], None, NOW).unwrap().ids()[0];

        assert!(matches!(claim_for(&store, first.version, NOW, 10, Priority::Normal).unwrap(), Claim::GivenBack(1)));
        let back = store.message(id).unwrap().unwrap();
        assert_eq!((back.state, back.attempts.len()), (State::Queued, 0), "given back untouched");

        let Claim::Taken(claimed) = claim_for(&store, second.version, NOW, 10, Priority::Normal).unwrap() else {
            panic!("the current settings take it");
        };
        assert_eq!(claimed.iter().map(|c| c.message.id).collect::<Vec<_>>(), vec![id]);
    }
}
