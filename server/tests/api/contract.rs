//! The HTTP API's contract: schemathesis (PyPI, installed by `scripts/bootstrap.sh --test` in
//! `target/schemathesis-venv`) generates requests from `/api/v1/openapi.json`, valid and
//! invalid, sends them with a token to a real app whose outbox delivers to the SMTP peer, and
//! checks every answer against the document: its status, its headers, its body's schema, that
//! invalid requests are refused and valid ones accepted, and that nothing answers 500.

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_disagreement_between_the_document_and_the_server() {
    let api = server::api::ApiSettings {
        requests_per_minute: 1_000_000,
        ..Default::default()
    };
    let app = spawn_app_with(Tuning { api, ..Default::default() }).await;
    save_settings(&app, &peer_form("plain")).await;
    let token = app.api_token("contract").await;
    let bin = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/schemathesis-venv/bin/schemathesis"
    );
    let url = app.url.clone();
    // schemathesis keeps its findings and hypothesis its examples under the working directory.
    let scratch = tempfile::tempdir().unwrap();
    let cwd = scratch.path().to_path_buf();
    let run = move || {
        std::process::Command::new(bin)
            .current_dir(cwd)
            .args([
                "run",
                &format!("{url}/api/v1/openapi.json"),
                "--header",
                &format!("Authorization: Bearer {token}"),
                "--checks",
                "all",
                "--max-examples",
                "40",
                "--seed",
                "1",
                "--no-color",
            ])
            .output()
            .unwrap_or_else(|e| panic!("cannot start {bin} ({e}); run scripts/bootstrap.sh --test"))
    };
    // The app answers on this runtime's other thread while schemathesis runs.
    let out = tokio::task::spawn_blocking(run).await.unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    println!("{report}");
    assert!(
        out.status.success(),
        "schemathesis found disagreements:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
