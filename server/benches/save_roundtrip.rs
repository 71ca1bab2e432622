//! Durable save round trip: 1,000 saves through the real HTTP server function, each validated,
//! written to sled and flushed before the answer. Prints p50/p90/p99/max.
//!
//! Run: `make bench` (or `cargo bench -p server --bench save_roundtrip`).

#[path = "../tests/api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use app::domain::MailServerForm;
use std::time::Instant;

const SAVES: u64 = 1_000;

#[tokio::main]
async fn main() {
    let app = helpers::spawn_app().await;
    let mut micros = Vec::with_capacity(SAVES as usize);
    for version in 0..SAVES {
        let form = MailServerForm {
            from_name: format!("Alerts {version}"),
            ..helpers::valid_form()
        };
        let start = Instant::now();
        let saved = app.save(version, &form).await;
        micros.push(start.elapsed().as_micros() as u64);
        assert!(saved.is_ok(), "save {version} failed: {saved:?}");
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
