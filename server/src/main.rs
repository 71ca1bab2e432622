#![recursion_limit = "256"]
use app::{
    api::ctx::ServerContext,
    auth,
    domain,
    secrets::SecretBox,
    store::{AdminRecord, SettingsStore, SledStore, StoreError},
};
use server::{router, Config};
use std::{io::IsTerminal, process::ExitCode, sync::Arc};
use tracing_subscriber::EnvFilter;

const HELP: &str = "\
mailroom — the Mailroom admin panel server

USAGE:
    mailroom                              serve the admin panel
    mailroom admin create --email ADDRESS create an admin (or set a new password for one);
                                          the password is read from stdin, or prompted for
    mailroom --help

ENVIRONMENT:
    LEPTOS_SITE_ADDR     Address and port to listen on (default: 127.0.0.1:3000).
                         Use port 0 to let the system pick a free port; the log line says which.
    MAILROOM_DATA_DIR    Directory holding the database and secret.key, created if missing
                         (default: ./data). Only one Mailroom may use it at a time.
    MAILROOM_PUBLIC_URL  How admins reach this server, for links in mails
                         (default: http://LEPTOS_SITE_ADDR). https:// makes cookies Secure.
    MAILROOM_SECRET_KEY  32 bytes in base64: the key that encrypts the SMTP password at rest
                         (default: DATA_DIR/secret.key, created with mode 0600).
    MAILROOM_SITE_ROOT   Directory holding the built front end under pkg/
                         (default: the workspace's target/site).
    RUST_LOG             Log filter (default: info).

When no admin exists, the server prints a one-time setup link at start.
Open http://ADDRESS/settings/mail in a browser.
";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{HELP}");
        return ExitCode::SUCCESS;
    }
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] => run().await,
        ["admin", "create", "--email", email] => admin_create(email),
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

fn open_store(config: &Config) -> Result<SledStore, String> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| format!("cannot create MAILROOM_DATA_DIR {}: {e}", config.data_dir.display()))?;
    let secrets = SecretBox::load_or_create(&config.data_dir, config.secret_key.as_deref()).map_err(|e| e.to_string())?;
    SledStore::open(&config.data_dir, secrets).map_err(|e| match e {
        StoreError::Locked { .. } => e.to_string(),
        other => format!("cannot open the database in {}: {other}", config.data_dir.display()),
    })
}

/// `mailroom admin create --email ADDRESS`: the password from stdin, or prompted twice.
fn admin_create(email: &str) -> Result<(), String> {
    let config = Config::from_vars(|k| std::env::var(k).ok()).map_err(|e| e.to_string())?;
    let address = domain::EmailAddress::parse(email).map_err(|m| format!("--email: {m}"))?;
    let (password, confirm) = if std::io::stdin().is_terminal() {
        let p = rpassword::prompt_password(format!("Password for {address}: ")).map_err(|e| e.to_string())?;
        let c = rpassword::prompt_password("Again: ").map_err(|e| e.to_string())?;
        (p, c)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map_err(|e| format!("reading the password from stdin: {e}"))?;
        let p = line.trim_end_matches(['\r', '\n']).to_string();
        (p.clone(), p)
    };
    domain::admin_password(&password, &confirm, address.as_str())?;
    let store = open_store(&config).map_err(|e| match e.contains("in use by another Mailroom") {
        true => format!("{e}. `admin create` needs the database: stop the server, run it, start the server again."),
        false => e,
    })?;
    let email = address.as_str().to_lowercase();
    let existed = store.get_admin(&email).map_err(|e| e.to_string())?;
    let created_at = existed.as_ref().map_or_else(app::now_rfc3339, |a| a.created_at.clone());
    store
        .put_admin(AdminRecord { email: email.clone(), password_hash: auth::hash_password(&password), created_at })
        .map_err(|e| e.to_string())?;
    if existed.is_some() {
        let ended = store.delete_sessions_of(&email).map_err(|e| e.to_string())?;
        println!("Set a new password for admin {email}; ended {ended} session(s).");
    } else {
        println!("Created admin {email}.");
    }
    Ok(())
}

async fn run() -> Result<(), String> {
    let config = Config::from_vars(|k| std::env::var(k).ok()).map_err(|e| e.to_string())?;
    let store = Arc::new(open_store(&config)?);

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

    let public_url = config.public_url_for(local);
    let ctx = ServerContext::new(store.clone(), public_url.clone());
    if store.admin_count().map_err(|e| e.to_string())? == 0 {
        let token = auth::random_token();
        *ctx.setup_token.lock().unwrap() = Some(auth::token_hash(&token));
        tracing::info!(
            "no admin account yet: open {public_url}/setup?token={token} to create the first one \
             (works once; or run `mailroom admin create --email ADDRESS`)"
        );
    }
    let app = router(&config, ctx);
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
