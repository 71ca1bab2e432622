//! Durable enqueue: messages stored in the outbox and flushed to disk before each `enqueue`
//! returns, from one writer and from many at once (whose flushes are shared: group commit on
//! sled, PostgreSQL's commits on its side), for sled and for PostgreSQL with one and with two
//! instances (each its own pool; the writers split between them) on a cluster this benchmark
//! starts (fsync on). Prints messages per second and the latency percentiles.
//!
//! Run: `make bench` (or `cargo bench -p server --bench outbox_enqueue`).

use app::outbox::Priority;
use app::secrets::SecretBox;
use app::store::{MailBody, NewMessage, PostgresOptions, PostgresStore, SharedStore, SledStore};
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
            thread: None,
            raw: None,
        },
        priority: Priority::Alert,
        expires_at: None,
    }
}

/// The stores the writers use, one per instance; the sled directory to keep meanwhile.
async fn open(instances: Option<usize>, cluster: &testpg::Cluster) -> (Vec<SharedStore>, Option<tempfile::TempDir>) {
    let key = || SecretBox::from_key([7; 32]);
    match instances {
        None => {
            let dir = tempfile::tempdir().unwrap();
            let store: SharedStore = Arc::new(SledStore::open(dir.path(), key()).unwrap());
            (vec![store], Some(dir))
        }
        Some(n) => {
            let url = cluster.database();
            let mut stores = Vec::new();
            for _ in 0..n {
                let store = PostgresStore::connect(&url, key(), PostgresOptions::default()).await.unwrap();
                stores.push(Arc::new(store) as SharedStore);
            }
            (stores, None)
        }
    }
}

async fn run(instances: Option<usize>, writers: usize, cluster: &testpg::Cluster) {
    let (stores, _dir) = open(instances, cluster).await;
    // One writer waits for every commit alone: fewer messages give its rate as well.
    let per_writer = if writers == 1 { MESSAGES / 4 } else { MESSAGES / writers };
    let started = Instant::now();
    let latencies: Vec<u64> = {
        let handles: Vec<_> = (0..writers)
            .map(|w| {
                let store = stores[w % stores.len()].clone();
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
    };
    let secs = started.elapsed().as_secs_f64();
    let mut sorted = latencies;
    sorted.sort_unstable();
    let pct = |p: f64| sorted[((sorted.len() as f64 * p).ceil() as usize).saturating_sub(1)] as f64 / 1000.0;
    let on = match instances {
        None => "sled".to_string(),
        Some(1) => "PostgreSQL, 1 instance".to_string(),
        Some(n) => format!("PostgreSQL, {n} instances"),
    };
    println!(
        "{on:<26} durable enqueue, {writers:>2} writer(s): {:>7.0} messages/s ({} messages in {secs:.2} s); latency p50 {:.2} ms, p99 {:.2} ms",
        sorted.len() as f64 / secs,
        sorted.len(),
        pct(0.5),
        pct(0.99)
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let cluster = testpg::Cluster::start();
        for instances in [None, Some(1), Some(2)] {
            for writers in [1, 16, 64] {
                run(instances, writers, &cluster).await;
            }
        }
    });
}
