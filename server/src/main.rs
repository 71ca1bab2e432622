//! `mailroom`: serves the admin panel, or runs a command (`mailroom --help`).

use app::{api::server::ServerContext, auth};
use server::{cli, Config};
use std::process::ExitCode;

fn main() -> ExitCode {
    server::memory::limit_malloc_arenas();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{}", cli::HELP);
        return ExitCode::SUCCESS;
    }
    // Logs and errors go to stderr: stdout carries only what a command prints (a new token).
    if let Err(e) = server::logs::init(std::env::var("MAILROOM_LOG_FORMAT").ok().as_deref()) {
        eprintln!("mailroom: {e}");
        return ExitCode::from(2);
    }
    // A database that failed a write is in an unknown state and sled may hang on it: stop at
    // once, loudly. What was acknowledged is already on the disk.
    app::store::space::on_write_failure(|cause| {
        tracing::error!(
            "the database failed to write ({cause}); Mailroom stops now instead of going on with \
             its database in an unknown state. Everything it acknowledged is on the disk. Free \
             space on the data directory's disk, then start it again"
        );
        std::process::exit(74);
    });
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] => serve(),
        ["admin", "create", "--email", email] => cli::admin_create(email),
        ["token", "create", "--name", name] => cli::token_create(name, None),
        ["token", "create", "--name", name, "--for", scope] => cli::token_create(name, Some(scope)),
        ["migrate", "--to", url] => cli::migrate(url),
        ["backup", file] => cli::backup(file),
        ["restore", file] => cli::restore(file),
        _ => Err(format!("unknown arguments {args:?}; see `mailroom --help`")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn serve() -> Result<(), String> {
    let runtime = server::memory::runtime().map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(run())
}

async fn run() -> Result<(), String> {
    let signals = Signals::listen();
    let config = Config::from_env().map_err(|e| e.to_string())?;
    // Checked before anything opens: a wrong value stops the server with its variable.
    let provisioned =
        server::provision::Provisioned::from_vars(&|k| std::env::var(k).ok()).map_err(|e| e.to_string())?;
    let smtp = server::smtp::SmtpConfig::from_vars(&|k| std::env::var(k).ok()).map_err(|e| e.to_string())?;
    let (store, secrets, sled) = cli::open_served(&config).await.map_err(|e| e.to_string())?;
    if let Some(sled) = sled {
        // `mailroom backup` beside this server asks it for the copy.
        server::control::listen(&config.data_dir, sled)?;
    }
    provisioned.apply(&store).await?;
    if let Some(addr) = config.metrics_addr {
        let metrics = server::metrics::install(store.clone())?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr} (MAILROOM_METRICS_LISTEN): {e}"))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        tracing::info!("metrics on http://{local}/metrics");
        let limits = server::serve::HttpLimits {
            max_connections: 64,
            ..server::serve::HttpLimits::default()
        };
        tokio::spawn(server::serve::serve(listener, server::metrics::routes(metrics), limits, std::future::pending()));
    }

    let listener = tokio::net::TcpListener::bind(config.addr).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            format!(
                "{} is already in use by another program; stop it or set LEPTOS_SITE_ADDR to another port",
                config.addr
            )
        } else {
            format!("cannot listen on {}: {e}", config.addr)
        }
    })?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    match &config.database_url {
        None => {
            let data_dir = std::fs::canonicalize(&config.data_dir).unwrap_or(config.data_dir.clone());
            tracing::info!("listening on http://{local} with data in {}", data_dir.display());
        }
        Some(_) => tracing::info!("listening on http://{local} with data in PostgreSQL (MAILROOM_DATABASE_URL)"),
    }

    let public_url = config.public_url_for(local);
    let outbox = app::delivery::Outbox::start(store.clone(), config.outbox.worker());
    let public_host = url::Url::parse(&public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "mailroom".into());
    let ctx = ServerContext::new(store.clone(), secrets, public_url.clone(), outbox.clone())
        .with_failing_alarm(config.failing_alarm_secs)
        .with_mail_language(config.mail_language)
        .with_managed(provisioned.mail.map(|m| m.sources).unwrap_or_default())
        .with_smtp_listeners(smtp.as_ref().map(|s| s.shown(&public_host)).unwrap_or_default());
    if store.admin_count().await.map_err(|e| e.to_string())? == 0 {
        let token = auth::random_token();
        // In the store: the link works on every instance, and after a restart.
        store
            .put_once(app::store::Once::SetupLink, &auth::token_hash(&token), "", None)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(
            "no admin account yet: open {public_url}{}?token={token} to create the first one \
             (works once; or run `mailroom admin create --email ADDRESS`)",
            app::routes::SETUP
        );
    }
    let smtp = match smtp {
        Some(smtp) => Some(server::smtp::Listeners::start(smtp, ctx.clone(), public_host.clone()).await?),
        None => None,
    };
    server::spawn_housekeeping(store.clone(), config.outbox.clone());
    let health = std::sync::Arc::new(server::health::Health::default());
    let app = server::router_with(&config, ctx, health.clone());
    let open_files = server::serve::raise_open_files_limit();
    let limits = server::serve::HttpLimits {
        max_connections: server::serve::connection_cap(open_files),
        ..server::serve::HttpLimits::default()
    };
    tracing::info!(open_files, max_connections = limits.max_connections, "connection cap");
    server::serve::serve(
        listener,
        app,
        limits,
        async {
            signals.recv().await;
            // Not ready from now on; still serving while the balancer notices.
            health.drain();
            if config.shutdown_delay_secs > 0 {
                tracing::info!(secs = config.shutdown_delay_secs, "not ready; serving on before closing the listener");
                tokio::time::sleep(std::time::Duration::from_secs(config.shutdown_delay_secs)).await;
            }
        },
    )
    .await;
    // No new SMTP sessions; those under way finish their message or are told 421.
    if let Some(smtp) = smtp {
        smtp.stop().await;
    }
    // No new sends; those under way finish within the outbox's grace (or go out again at the
    // next start).
    outbox.stop().await;

    store
        .flush()
        .await
        .map_err(|e| format!("flushing the database at shutdown failed: {e}"))?;
    tracing::info!("stopped; database flushed");
    Ok(())
}

/// SIGINT and SIGTERM, listened for from the start (a signal that came before the server
/// listened would otherwise end the process without its shutdown).
struct Signals {
    interrupt: Option<tokio::signal::unix::Signal>,
    terminate: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn listen() -> Self {
        use tokio::signal::unix::{signal, SignalKind};
        Self {
            interrupt: signal(SignalKind::interrupt()).ok(),
            terminate: signal(SignalKind::terminate()).ok(),
        }
    }

    async fn recv(mut self) {
        async fn one(signal: &mut Option<tokio::signal::unix::Signal>) {
            match signal {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        }
        tokio::select! {
            _ = one(&mut self.interrupt) => tracing::info!("SIGINT received, shutting down"),
            _ = one(&mut self.terminate) => tracing::info!("SIGTERM received, shutting down"),
        }
    }
}
