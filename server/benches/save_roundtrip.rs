//! Durable save round trip: 1,000 saves through the real HTTP server function, each validated,
//! written to sled and flushed before the answer. Prints p50/p90/p99/max.
//!
//! Run: `make bench` (or `cargo bench -p server --bench save_roundtrip`).

#[path = "../tests/common/mod.rs"]
#[allow(dead_code)]
mod common;

use std::time::Instant;

const SAVES: u64 = 1_000;

#[tokio::main]
async fn main() {
    let app = common::spawn_app().await;
    let client = app.client.clone();
    let url = format!("{}/api/save_mail_settings", app.url);

    let mut micros = Vec::with_capacity(SAVES as usize);
    for version in 0..SAVES {
        let name = format!("Alerts {version}");
        let form = [
            ("version", version.to_string()),
            ("form[host]", "smtp.example.com".into()),
            ("form[port]", "587".into()),
            ("form[account]", "alerts@example.com".into()),
            ("form[password]", "bench-password".into()),
            ("form[from_address]", "alerts@example.com".into()),
            ("form[from_name]", name),
            ("form[starttls]", "true".into()),
        ];
        let start = Instant::now();
        let res = client.post(&url).header("Accept", "application/json").form(&form).send().await.unwrap();
        let status = res.status();
        let body = res.text().await.unwrap();
        micros.push(start.elapsed().as_micros() as u64);
        assert!(status.is_success(), "save {version} failed: {body}");
    }
    micros.sort_unstable();
    let pct = |p: f64| micros[((micros.len() as f64 * p).ceil() as usize).saturating_sub(1)] as f64 / 1000.0;
    println!(
        "durable save round trip over {SAVES} saves (HTTP + validation + sled write + flush): \
         p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0)
    );
}
