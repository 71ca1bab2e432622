//! Mail into and out of the outbox. In: `POST /api/v1/messages` with one recipient, through the
//! real router over HTTP on loopback ([`API_CLIENTS`] clients at once, each request durable
//! before its 202): requests per second and p50/p99 latency. Out: the 20,000 queued 1 KB
//! messages (half from the API, half enqueued in batches) delivered into Postfix's `smtp-sink`,
//! beside Postfix's `smtp-source -d -s 8` sending the same number of the same size to the same
//! sink, in one run. Every state change of Mailroom's is durable (flushed per batch). The same
//! for each store: sled, PostgreSQL with one instance, PostgreSQL with two (a cluster this
//! benchmark starts, fsync on). Prints the rates side by side, the drain's ratio to
//! smtp-source, two instances against sled, and this process's RSS.
//!
//! Run: `make bench` (or `cargo bench -p server --bench outbox_drain`); needs postfix
//! (`scripts/bootstrap.sh --bench` installs it).

use app::delivery::{Outbox, WorkerConfig};
use app::domain::{MailServer, MailServerForm, MailServerSettings};
use app::outbox::{Priority, State};
use app::secrets::SecretBox;
use app::store::{MailBody, NewMessage, PostgresOptions, PostgresStore, SharedStore, SledStore};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "postfix/mod.rs"]
mod postfix;
use postfix::start_sink;

const MESSAGES: usize = 20_000;
const SIZE: usize = 1024;
const CONNECTIONS: usize = 8;
/// Messages posted through the HTTP API (the rest are enqueued in batches).
const API_MESSAGES: usize = 10_000;
const API_CLIENTS: usize = 32;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// smtp-source's rate into `port`: `-d -s 8`, the drain's messages' number and size.
fn reference_rate(port: u16) -> f64 {
    postfix::smtp_source(port, &["-d", "-s", &CONNECTIONS.to_string(), "-m", &MESSAGES.to_string(), "-l", &SIZE.to_string()], MESSAGES)
}

/// Where the drain's messages live: sled, or PostgreSQL with one or two instances (each its
/// own pool, wake-up listener and outbox worker, in this process; the connections split
/// between them so that the total is smtp-source's).
#[derive(Clone, Copy)]
enum Setup {
    Sled,
    Postgres { instances: usize },
}

impl Setup {
    fn name(self) -> String {
        match self {
            Setup::Sled => "sled".into(),
            Setup::Postgres { instances: 1 } => "PostgreSQL, 1 instance".into(),
            Setup::Postgres { instances } => format!("PostgreSQL, {instances} instances"),
        }
    }

    /// The instances' stores, and the sled directory to keep while they live.
    async fn open(self, cluster: &testpg::Cluster) -> (Vec<SharedStore>, Option<tempfile::TempDir>) {
        let key = || SecretBox::from_key([9; 32]);
        match self {
            Setup::Sled => {
                let dir = tempfile::tempdir().unwrap();
                let store: SharedStore = Arc::new(SledStore::open(dir.path(), key()).unwrap());
                (vec![store], Some(dir))
            }
            Setup::Postgres { instances } => {
                let url = cluster.database();
                let mut stores = Vec::new();
                for _ in 0..instances {
                    let store = PostgresStore::connect(&url, key(), PostgresOptions::default()).await.unwrap();
                    stores.push(Arc::new(store) as SharedStore);
                }
                (stores, None)
            }
        }
    }
}

async fn count(store: &SharedStore, state: State) -> usize {
    store
        .count_by_state().await
        .unwrap()
        .into_iter()
        .find(|(s, _)| *s == state)
        .map_or(0, |(_, n)| n)
}

fn main() {
    // As the server does (before its threads start).
    server::memory::limit_malloc_arenas();
    server::memory::runtime().unwrap().block_on(all());
}

async fn all() {
    let (mut sink, port) = start_sink();
    let reference = reference_rate(port);
    let cluster = testpg::Cluster::start();
    println!(
        "drain of {MESSAGES} x 1 KB into smtp-sink, {CONNECTIONS} connections in all; smtp-source -d -s 8: {reference:.0} messages/s"
    );
    let mut sled_rate = None;
    for setup in [Setup::Sled, Setup::Postgres { instances: 1 }, Setup::Postgres { instances: 2 }] {
        let rate = drain(setup, &cluster, port, reference).await;
        match setup {
            Setup::Sled => sled_rate = Some(rate),
            Setup::Postgres { instances: 2 } => println!(
                "  two PostgreSQL instances against sled: {:.2} x (goal: at least 1)",
                rate / sled_rate.unwrap()
            ),
            _ => {}
        }
    }
    let _ = sink.kill();
}

/// Fills the outbox (half through the API, half in batches) and drains it; the drain's rate.
async fn drain(setup: Setup, cluster: &testpg::Cluster, port: u16, reference: f64) -> f64 {
    let (stores, _dir) = setup.open(cluster).await;
    let store = stores[0].clone();
    let form = MailServerForm {
        host: "127.0.0.1".into(),
        port: port.to_string(),
        account: "alerts@example.com".into(),
        password: "any-password".into(),
        from_address: "alerts@example.com".into(),
        timeout: "15".into(),
        ..MailServerForm::default()
    };
    let parsed = MailServerSettings::parse(&form, None).unwrap();
    store
        .save_mail(0, MailServer::from_form(parsed, None).unwrap(), "bench").await
        .unwrap();

    let api = api_phase(store.clone()).await;

    let body = MailBody {
        text: "x".repeat(SIZE),
        html: None,
        thread: None,
        raw: None,
    };
    let enqueue_started = Instant::now();
    for batch in 0..(MESSAGES - API_MESSAGES) / 1000 {
        let messages = (0..1000)
            .map(|i| NewMessage {
                origin: Default::default(),
                to: format!("ops-{}@example.com", batch * 1000 + i),
                subject: "Drain".into(),
                body: body.clone(),
                priority: Priority::Normal,
                expires_at: None,
            })
            .collect();
        store.enqueue(messages, None, app::clock::now_unix()).await.unwrap();
    }
    let enqueue_rate = (MESSAGES - API_MESSAGES) as f64 / enqueue_started.elapsed().as_secs_f64();

    let rss_before = rss_kib();
    let started = Instant::now();
    let outboxes: Vec<Outbox> = stores
        .iter()
        .map(|store| {
            let config = WorkerConfig {
                concurrency: CONNECTIONS / stores.len(),
                idle_poll: Duration::from_millis(20),
                ..WorkerConfig::default()
            };
            Outbox::start(store.clone(), config)
        })
        .collect();
    // Counted after each round of any instance's worker.
    let mut rounds: Vec<_> = outboxes.iter().map(Outbox::rounds).collect();
    let mut rss_peak = rss_before;
    let mut rss_samples = Vec::new();
    loop {
        for r in &mut rounds {
            r.borrow_and_update();
        }
        // One count of the outbox per round (it competes with the workers for the two cores).
        let counts = store.count_by_state().await.unwrap();
        let of = |state: State| counts.iter().find(|(s, _)| *s == state).map_or(0, |(_, n)| *n);
        let rss = rss_kib();
        rss_peak = rss_peak.max(rss);
        rss_samples.push(rss);
        if of(State::Sent) == MESSAGES {
            break;
        }
        assert_eq!(of(State::Failed) + of(State::Deferred), 0, "messages not delivered: {counts:?}");
        let any = futures_util::future::select_all(rounds.iter_mut().map(|r| Box::pin(r.changed())));
        tokio::time::timeout(Duration::from_secs(60), any)
            .await
            .expect("the drain went on")
            .0
            .unwrap();
    }
    let rate = MESSAGES as f64 / started.elapsed().as_secs_f64();
    let rss_after = rss_kib();
    for outbox in &outboxes {
        outbox.stop().await;
    }
    // RSS over the drain's second half against its first: flat when about 1.
    let half = rss_samples.len() / 2;
    let mean = |s: &[u64]| s.iter().sum::<u64>() as f64 / s.len().max(1) as f64;
    let drift = mean(&rss_samples[half..]) / mean(&rss_samples[..half.max(1)]);

    println!(
        "{}:\n  \
         POST /api/v1/messages {:>9.0} requests/s, p50 {:.1} ms, p99 {:.1} ms ({API_CLIENTS} clients, {API_MESSAGES} requests, one recipient, 1 KB, durable)\n  \
         durable enqueue       {enqueue_rate:>9.0} messages/s (batches of 1,000)\n  \
         drain                 {rate:>9.0} messages/s (every state change durable), {:.3} x smtp-source (goal 0.25)\n  \
         RSS                   {rss_before} KiB before, {rss_peak} KiB peak, {rss_after} KiB after; second half / first half {drift:.2}",
        setup.name(),
        api.rate,
        api.p50_ms,
        api.p99_ms,
        rate / reference
    );
    rate
}

struct ApiFigures {
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// Serves the real router on loopback with a token (the outbox worker is not running, so
/// nothing drains yet) and posts [`API_MESSAGES`] messages from [`API_CLIENTS`] clients.
async fn api_phase(store: SharedStore) -> ApiFigures {
    let shared: SharedStore = store.clone();
    // A worker stopped at once: the API takes mail, nothing is sent until the drain.
    let idle = Outbox::start(shared.clone(), WorkerConfig::default());
    idle.stop().await;
    let ctx = app::api::server::ServerContext::new(shared, SecretBox::from_key([9; 32]), String::new(), idle);
    let token = app::auth::create_api_token(store.as_ref(), "bench", Default::default(), "bench").await.unwrap().unwrap().0;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = server::Config::from_vars(|k| (k == "LEPTOS_SITE_ADDR").then(|| addr.to_string())).unwrap();
    config.api.requests_per_minute = 1_000_000;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server::serve::serve(
        listener,
        server::router(&config, ctx),
        server::serve::HttpLimits::default(),
        async {
            let _ = stopped.await;
        },
    ));
    let url = format!("http://{addr}/api/v1/messages");
    let body = serde_json::json!({ "to": ["ops@example.com"], "subject": "Drain", "text": "x".repeat(SIZE) }).to_string();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..API_CLIENTS {
        let (url, body, token, next) = (url.clone(), body.clone(), token.clone(), next.clone());
        clients.spawn(async move {
            let client = reqwest::Client::new();
            let mut latencies = Vec::new();
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < API_MESSAGES {
                let sent = Instant::now();
                let res = client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 202, "{}", res.text().await.unwrap_or_default());
                res.bytes().await.unwrap();
                latencies.push(sent.elapsed());
            }
            latencies
        });
    }
    let mut latencies: Vec<Duration> = clients.join_all().await.into_iter().flatten().collect();
    let rate = API_MESSAGES as f64 / started.elapsed().as_secs_f64();
    let _ = stop.send(());
    let _ = serving.await;
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)].as_secs_f64() * 1000.0;
    assert_eq!(count(&store, State::Queued).await, API_MESSAGES);
    ApiFigures {
        rate,
        p50_ms: at(0.5),
        p99_ms: at(0.99),
    }
}
