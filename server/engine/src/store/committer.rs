//! The committer (sled): enqueues from many callers at once are written by one thread, each in
//! its own transaction, then made durable by one flush for all of them, and only then
//! answered. Without it each enqueue is a hand-off to tokio's blocking pool and a wait at the
//! group commit (several thread switches per message); with it a busy listener's messages go
//! to the disk a batch at a time.
//!
//! The thread holds the database only while it writes a batch (a [`Weak`] otherwise), so
//! dropping the store closes it as before; it ends when the store's sender is dropped.

use super::{Enqueued, NewMessage, Sled, StoreError};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Weak};

/// Enqueues waiting for the committer at most; beyond them a caller writes on its own.
const QUEUE: usize = 1024;
/// Enqueues written before one flush at most.
const BATCH: usize = 256;

/// One enqueue for the committer, and where its answer goes.
pub(crate) struct Job {
    pub messages: Vec<NewMessage>,
    pub idempotency_key: Option<String>,
    pub now: u64,
    answer: Option<tokio::sync::oneshot::Sender<Result<Enqueued, StoreError>>>,
}

/// The sending side, kept by the database.
pub(crate) struct Committer(SyncSender<Job>);

impl Committer {
    /// Starts the thread for `db`.
    pub(crate) fn start(db: Weak<Sled>) -> std::io::Result<Self> {
        let (jobs, incoming) = sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("mailroom-commit".into())
            .spawn(move || run(&db, &incoming))?;
        Ok(Self(jobs))
    }

    /// Hands an enqueue to the committer: its answer, once durable. The job back when the
    /// committer's queue is full or it has stopped.
    pub(crate) fn offer(
        &self,
        messages: Vec<NewMessage>,
        idempotency_key: Option<String>,
        now: u64,
    ) -> Result<tokio::sync::oneshot::Receiver<Result<Enqueued, StoreError>>, Job> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job = Job { messages, idempotency_key, now, answer: Some(answer) };
        match self.0.try_send(job) {
            Ok(()) => Ok(answered),
            Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => Err(job),
        }
    }
}

/// The error for an enqueue whose committer went away before answering.
pub(crate) fn gone() -> StoreError {
    StoreError::Unavailable("the database was closed while the message was being written".into())
}

fn run(db: &Weak<Sled>, incoming: &Receiver<Job>) {
    while let Ok(first) = incoming.recv() {
        let mut jobs = vec![first];
        while jobs.len() < BATCH {
            match incoming.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let answers = match db.upgrade() {
            Some(db) => write(&db, &mut jobs),
            None => jobs.iter().map(|_| Err(gone())).collect(),
        };
        // Answered after the database is let go of: a caller that closes the store on its
        // answer finds it closed.
        for (job, answer) in jobs.iter_mut().zip(answers) {
            if let Some(to) = job.answer.take() {
                let _ = to.send(answer);
            }
        }
    }
}

/// Writes each job in its own transaction, then one flush for all: every new message is
/// durable, or each is answered with the flush's error.
fn write(db: &Arc<Sled>, jobs: &mut [Job]) -> Vec<Result<Enqueued, StoreError>> {
    let _busy = db.commits.busy();
    let _gate = db.gate.read().unwrap_or_else(|p| p.into_inner());
    let mut answers: Vec<Result<Enqueued, StoreError>> = jobs
        .iter_mut()
        .map(|job| db.enqueue_unsynced(std::mem::take(&mut job.messages), job.idempotency_key.as_deref(), job.now))
        .collect();
    if answers.iter().any(|a| matches!(a, Ok(Enqueued::New(_)))) {
        match db.sync() {
            Ok(()) => db.signal_work(),
            Err(e) => {
                for answer in answers.iter_mut().filter(|a| matches!(a, Ok(Enqueued::New(_)))) {
                    *answer = Err(again(&e));
                }
            }
        }
    }
    answers
}

/// The flush's error once more, for each enqueue it failed.
fn again(e: &StoreError) -> StoreError {
    match e {
        StoreError::Io(io) => StoreError::Io(std::io::Error::new(io.kind(), io.to_string())),
        StoreError::NoSpace { available, reserve } => StoreError::NoSpace { available: *available, reserve: *reserve },
        other => StoreError::Backend(other.to_string()),
    }
}
