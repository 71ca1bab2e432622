//! Durable enqueue: messages stored in the outbox and flushed to disk before each `enqueue`
//! returns, from one writer and from many at once (whose flushes are shared: group commit).
//! Prints messages per second and the latency percentiles.
//!
//! Run: `make bench` (or `cargo bench -p server --bench outbox_enqueue`).

use app::outbox::Priority;
use app::secrets::SecretBox;
use app::store::{MailBody, NewMessage, OutboxStore, SledStore};
use std::sync::Arc;
use std::time::Instant;

const MESSAGES: usize = 20_000;

fn message(i: usize) -> NewMessage {
    NewMessage {
        origin: Default::default(),
        to: format!("ops-{i}@example.com"),
        subject: format!("Alert {i}"),
        // About 1 KB, like the drain benchmark's messages.
        body: MailBody {
            text: "x".repeat(1000),
            html: None,
        },
        priority: Priority::Alert,
        expires_at: None,
    }
}

fn run(writers: usize) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SledStore::open(dir.path(), SecretBox::from_key([7; 32])).unwrap());
    let per_writer = MESSAGES / writers;
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let latencies: Vec<u64> = runtime.block_on(async {
        let handles: Vec<_> = (0..writers)
            .map(|w| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut micros = Vec::with_capacity(per_writer);
                    for i in 0..per_writer {
                        let t = Instant::now();
                        store
                            .enqueue(vec![message(w * per_writer + i)], None, app::clock::now_unix())
                            .await
                            .unwrap();
                        micros.push(t.elapsed().as_micros() as u64);
                    }
                    micros
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            all.extend(h.await.unwrap());
        }
        all
    });
    let secs = started.elapsed().as_secs_f64();
    let mut sorted = latencies;
    sorted.sort_unstable();
    let pct = |p: f64| sorted[((sorted.len() as f64 * p).ceil() as usize).saturating_sub(1)] as f64 / 1000.0;
    println!(
        "durable enqueue, {writers:>2} writer(s): {:>7.0} messages/s ({} messages in {secs:.2} s); latency p50 {:.2} ms, p99 {:.2} ms",
        sorted.len() as f64 / secs,
        sorted.len(),
        pct(0.5),
        pct(0.99)
    );
}

fn main() {
    for writers in [1, 16, 64] {
        run(writers);
    }
}
