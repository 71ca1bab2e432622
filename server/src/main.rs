use app::store::{SettingsStore, SledStore, StoreError};
use server::{router, Config};
use std::{process::ExitCode, sync::Arc};
use tracing_subscriber::EnvFilter;

const HELP: &str = "\
mailroom — the Mailroom admin panel server

USAGE:
    mailroom [--help]

ENVIRONMENT:
    LEPTOS_SITE_ADDR    Address and port to listen on (default: 127.0.0.1:3000).
                        Use port 0 to let the system pick a free port; the log line says which.
    MAILROOM_DATA_DIR   Directory holding the settings database, created if missing
                        (default: ./data). Only one Mailroom may use it at a time.
    MAILROOM_SITE_ROOT  Directory holding the built front end under pkg/
                        (default: the workspace's target/site).
    RUST_LOG            Log filter (default: info).

Open http://ADDRESS/settings/mail in a browser.
";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{HELP}");
        return ExitCode::SUCCESS;
    }
    if let Some(arg) = args.first() {
        eprintln!("mailroom: unknown argument {arg:?}; see `mailroom --help`");
        return ExitCode::from(2);
    }
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();

    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let config = Config::from_vars(|k| std::env::var(k).ok()).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| format!("cannot create MAILROOM_DATA_DIR {}: {e}", config.data_dir.display()))?;
    let store = Arc::new(SledStore::open(&config.data_dir).map_err(|e| match e {
        StoreError::Locked { .. } => e.to_string(),
        other => format!("cannot open the database in {}: {other}", config.data_dir.display()),
    })?);

    let listener = tokio::net::TcpListener::bind(config.addr).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            format!("{} is already in use by another program; stop it or set LEPTOS_SITE_ADDR to another port", config.addr)
        } else {
            format!("cannot listen on {}: {e}", config.addr)
        }
    })?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let data_dir = std::fs::canonicalize(&config.data_dir).unwrap_or(config.data_dir.clone());
    tracing::info!("listening on http://{local} with data in {}", data_dir.display());

    let app = router(&config, store.clone());
    axum::serve(listener, server::make_service(app))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| format!("server error: {e}"))?;

    store.flush().map_err(|e| format!("flushing the database at shutdown failed: {e}"))?;
    tracing::info!("stopped; database flushed");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received, shutting down"),
        _ = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}
