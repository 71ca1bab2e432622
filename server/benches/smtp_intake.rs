//! The SMTP listener's intake beside Postfix, in one run: `smtp-source -s 8 -m 20000 -l 1024`
//! into Mailroom's listener (the release binary, each message durable in its outbox before its
//! `250`, while its worker delivers them into an `smtp-sink`), beside the same `smtp-source`
//! into `smtp-sink` directly. smtp-source cannot sign in, so the listener trusts loopback as
//! the token "bench" (`MAILROOM_SMTP_TRUSTED_CLIENTS`). Prints both rates, their ratio against
//! the goal (0.25), the binary's RSS in each quarter of the run, and how many
//! messages its store holds afterwards (from its `/metrics`).
//!
//! Run: `make bench` (or `cargo bench -p server --bench smtp_intake`), after `make build`.

#[path = "postfix/mod.rs"]
mod postfix;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MESSAGES: usize = 20_000;
const SESSIONS: usize = 8;
const SIZE: usize = 1024;
const GOAL: f64 = 0.25;
/// Runs of each mode (the median is the figure).
const ROUNDS: usize = 3;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

/// The sum of one metric's series in a scrape.
fn metric_sum(addr: &str, name: &str) -> f64 {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    text
        .lines()
        .filter(|l| l.starts_with(name) && (l.as_bytes().get(name.len()) == Some(&b'{') || l.as_bytes().get(name.len()) == Some(&b' ')))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn main() {
    let binary = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/mailroom");
    assert!(binary.exists(), "build the release binary first (make build)");
    let (mut sink, sink_port) = postfix::start_sink();
    let args = ["-s".to_string(), SESSIONS.to_string(), "-m".into(), MESSAGES.to_string(), "-l".into(), SIZE.to_string()];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    // Delivering into smtp-sink as they come, and with delivery held (a mail server that never
    // greets: the worker's first batch waits there), so the intake is measured alone too.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    // The machine's speed drifts (shared cores): each run has its reference run just before,
    // and each mode runs ROUNDS times; the median ratio is the figure.
    let mut runs: Vec<(&str, Run, f64)> = Vec::new();
    for _ in 0..ROUNDS {
        let reference = postfix::smtp_source(sink_port, &args, MESSAGES);
        runs.push(("its worker delivering meanwhile", intake(&binary, sink_port, &args), reference));
        let reference = postfix::smtp_source(sink_port, &args, MESSAGES);
        runs.push(("delivery held", intake(&binary, silent_port, &args), reference));
    }
    drop(silent);
    let _ = sink.kill();

    println!("SMTP intake, {MESSAGES} messages of {SIZE} bytes over {SESSIONS} sessions (smtp-source -s {SESSIONS} -m {MESSAGES} -l {SIZE}), {ROUNDS} rounds:");
    for (what, run, reference) in &runs {
        println!("  smtp-source into smtp-sink (just before):  {reference:>6.0} msg/s");
        println!(
            "  into Mailroom's listener, {what}: {:>6.0} msg/s ({:.1} s), ratio {:.2}; {:.0} of {MESSAGES} in its store; RSS by quarter {:.1} / {:.1} / {:.1} / {:.1} MiB (last over third {:.2})",
            run.rate,
            run.took.as_secs_f64(),
            run.rate / reference,
            run.held,
            run.rss[0],
            run.rss[1],
            run.rss[2],
            run.rss[3],
            run.rss[3] / run.rss[2].max(1.0)
        );
        assert!(run.held >= MESSAGES as f64, "every accepted message is in the store");
    }
    for mode in ["its worker delivering meanwhile", "delivery held"] {
        let mut ratios: Vec<f64> = runs.iter().filter(|r| r.0 == mode).map(|(_, run, reference)| run.rate / reference).collect();
        ratios.sort_by(f64::total_cmp);
        let median = ratios[ratios.len() / 2];
        let verdict = if median >= GOAL { "met" } else { "missed" };
        println!("  median ratio, {mode}: {median:.2} (goal >= {GOAL}: {verdict}; runs {ratios:.2?})");
    }
}

/// One run of smtp-source into the release binary's listener, its mail server at `mail_port`.
struct Run {
    rate: f64,
    took: Duration,
    held: f64,
    /// Mean RSS in each quarter of the run, MiB.
    rss: Vec<f64>,
}

fn intake(binary: &std::path::Path, mail_port: u16, args: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let (smtp_port, metrics_port) = (free_port(), free_port());
    let token = "bench-token-0123456789abcdef0123456789";
    let hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(token.as_bytes()))
    };
    let mut child = Command::new(&binary)
        .env("MAILROOM_DATA_DIR", dir.path())
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("MAILROOM_METRICS_LISTEN", format!("127.0.0.1:{metrics_port}"))
        .env("MAILROOM_SMTP_LISTEN", format!("127.0.0.1:{smtp_port}"))
        .env("MAILROOM_SMTP_TRUSTED_CLIENTS", "127.0.0.1")
        .env("MAILROOM_SMTP_TRUSTED_TOKEN", "bench")
        .env("MAILROOM_API_TOKENS", format!("bench:{hash}:smtp"))
        .env("MAILROOM_SMTP_HOST", "127.0.0.1")
        .env("MAILROOM_SMTP_PORT", mail_port.to_string())
        .env("MAILROOM_SMTP_AUTHENTICATION", "none")
        .env("MAILROOM_SMTP_FROM_ADDRESS", "alerts@example.com")
        .env("MAILROOM_SMTP_TIMEOUT", "120")
        .env("RUST_LOG", "warn,mailroom=info,server=info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.contains("SMTP submission on") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    let pid = child.id();
    let samples = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (samples, done) = (samples.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                samples.lock().unwrap().push(rss_kib(pid));
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let started = Instant::now();
    let rate = postfix::smtp_source(smtp_port, args, MESSAGES);
    let took = started.elapsed();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    sampler.join().unwrap();
    let held = metric_sum(&format!("127.0.0.1:{metrics_port}"), "mailroom_outbox_messages");
    let samples = samples.lock().unwrap().clone();
    // Quarters: sled's page cache (16 MiB) fills in the first ones, from an empty database.
    let quarter = samples.len() / 4;
    let mean = |s: &[u64]| s.iter().sum::<u64>() as f64 / s.len().max(1) as f64 / 1024.0;
    let quarters: Vec<f64> = (0..4).map(|q| mean(&samples[q * quarter..((q + 1) * quarter).min(samples.len())])).collect();
    let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
    let _ = child.wait();
    Run { rate, took, held, rss: quarters }
}

