//! The command line: `--help`, `admin create` and `token create` (beside a running server on
//! PostgreSQL; with it stopped on sled), `migrate` (from sled to PostgreSQL), and `backup` and
//! `restore` of the embedded database (`store::backup`; a running server's through its control
//! socket, `control`).

use engine::i18n::english;
use crate::Config;
use app::{
    auth::{self, PasswordSet},
    domain,
    secrets::SecretBox,
    store::{backup, copy, MailSettingsStore, PostgresOptions, PostgresStore, SharedStore, SledStore, StoreError},
};
use std::sync::Arc;
use std::io::IsTerminal;

pub const HELP: &str = "\
mailroom — the Mailroom admin panel server

USAGE:
    mailroom                              serve the admin panel
    mailroom admin create --email ADDRESS create an admin (or set a new password for one);
                                          the password is read from stdin, or prompted for
    mailroom token create --name NAME [--for both|api|smtp]
                                          create an API token for the HTTP API (/api/v1),
                                          the SMTP listener, or both (the default), and
                                          print it alone on stdout (it is not shown again)
    mailroom migrate --to postgres://USER:PASSWORD@HOST:PORT/DATABASE
                                          copy the data directory's database (settings and
                                          their history, admins, tokens, the outbox, ...)
                                          into an empty PostgreSQL database; the server
                                          must be stopped, and the copy keeps the same key
    mailroom backup FILE                  copy the data directory's database into a new FILE,
                                          consistent; while a server runs on it, that server
                                          makes the copy (secrets stay sealed: keep the key,
                                          secret.key, apart from the backup)
    mailroom restore FILE                 restore a backup into an empty data directory that
                                          has the backup's key; every record is read back
                                          and checked before it is kept
    mailroom --help

ENVIRONMENT:
    LEPTOS_SITE_ADDR     Address and port to listen on (default: 127.0.0.1:3000).
                         Use port 0 to let the system pick a free port; the log line says which.
    MAILROOM_DATA_DIR    Directory holding the database and secret.key, created if missing
                         (default: ./data). Only one Mailroom may use it at a time.
    MAILROOM_DATABASE_URL  postgres://USER:PASSWORD@HOST:PORT/DATABASE: keep everything in
                         PostgreSQL instead, shared by every instance given the same URL
                         and the same MAILROOM_SECRET_KEY (then no data directory is needed).
    MAILROOM_DATABASE_POOL Connections to PostgreSQL per instance at most (default: 16).
    MAILROOM_PUBLIC_URL  How admins reach this server, for links in mails
                         (default: http://LEPTOS_SITE_ADDR). https:// makes cookies Secure.
    MAILROOM_SECRET_KEY  32 bytes in base64: the key that encrypts the SMTP password at rest
                         (default: DATA_DIR/secret.key, created with mode 0600).
    MAILROOM_SITE_ROOT   Directory holding the built front end under pkg/
                         (default: the workspace's target/site).
    MAILROOM_OUTBOX_CONCURRENCY       Messages the outbox sends at once (default: 4).
    MAILROOM_OUTBOX_STOP_GRACE_SECS   On SIGTERM, seconds the sends under way may still take
                                      (default: 8); the rest go out at the next start.
    MAILROOM_OUTBOX_LEASE_SECS        How long a message being sent is held by its instance
                                      without a renewal (default: 60; renewed every third
                                      of it): after it, another instance sends it.
    MAILROOM_OUTBOX_RETRY_FIRST_SECS  The wait after a temporary failure (default: 60); it
    MAILROOM_OUTBOX_RETRY_MAX_SECS    doubles after each failure, up to this (default: 3600).
    MAILROOM_OUTBOX_GIVE_UP_HOURS     A message still failing this long after it was queued
                                      fails for good (default: 24).
    MAILROOM_OUTBOX_KEEP_BODIES_DAYS  Days the text of sent or failed mail is kept (default: 7).
    MAILROOM_OUTBOX_KEEP_DAYS         Days their records are kept (default: 90).
    MAILROOM_API_REQUESTS_PER_MINUTE  Requests per minute per API token (default: 600).
    MAILROOM_ALERT_REPEAT_MINUTES     A firing alert is mailed again to a recipient after
                                      this long at the earliest (default: 240).
    MAILROOM_GRAFANA_WEBHOOK_SECRET   Grafana's webhooks must be signed with this HMAC
                                      secret (or MAILROOM_GRAFANA_WEBHOOK_SECRET_FILE).
    MAILROOM_MAIL_LANGUAGE            The language of the system's mail when its recipient
                                      chose none: en (default) or zh-CN.
    MAILROOM_OUTBOX_ALARM_MINUTES     Deliveries failing this long put a banner on every
                                      admin page (default: 15).
    MAILROOM_SHUTDOWN_DELAY_SECS      On SIGTERM, seconds /readyz answers 503 while the
                                      server still serves, before it closes (default: 0).
    MAILROOM_OUTBOX_MAX_QUEUED_MB     The most mail waiting to be sent, in MiB (default:
                                      1024); beyond it new mail is refused with 503.
    MAILROOM_DISK_RESERVE_MB          Free space kept on the data directory's disk, in MiB
                                      (default: 256, or 5% of a smaller disk, at least 4).
                                      Below it new data is refused (507) while sending,
                                      logins and reads go on, and the database is not
                                      opened at start.
    RUST_LOG             Log filter (default: info).
    MAILROOM_LOG_FORMAT  `json` for one JSON object per line (default: text).
    MAILROOM_METRICS_LISTEN  Address and port for GET /metrics (Prometheus' text format);
                         off unless set. Keep it where only Prometheus reaches it.

SMTP SUBMISSION (off unless MAILROOM_SMTP_LISTEN or _LISTEN_TLS is set; see the README):
    MAILROOM_SMTP_LISTEN     Addresses (comma-separated) for SMTP with STARTTLS, e.g. 0.0.0.0:587.
    MAILROOM_SMTP_LISTEN_TLS Addresses for SMTP over implicit TLS, e.g. 0.0.0.0:465.
    MAILROOM_SMTP_TLS_CERT, MAILROOM_SMTP_TLS_KEY   The certificate chain and key (PEM).
    MAILROOM_SMTP_MAX_MESSAGE_BYTES (10485760), _MAX_RECIPIENTS (100), _MAX_SESSIONS (200),
    MAILROOM_SMTP_MAX_SESSIONS_PER_CLIENT (20), _MAX_COMMANDS (20000),
    MAILROOM_SMTP_COMMAND_TIMEOUT_SECS (300), _DATA_TIMEOUT_SECS (180)   Its bounds.
    MAILROOM_SMTP_FROM_RULE  rewrite (default: the settings' From, theirs as Reply-To) or refuse.
    MAILROOM_SMTP_TRUSTED_CLIENTS with MAILROOM_SMTP_TRUSTED_TOKEN
                         Addresses or networks that may send without sign-in, as that token.

SETTINGS AS CONFIGURATION (checked at start; the page shows them read-only):
    MAILROOM_SMTP_HOST, _PORT, _AUTHENTICATION (password|none|oauth2), _ACCOUNT,
    MAILROOM_SMTP_PASSWORD (or MAILROOM_SMTP_PASSWORD_FILE), _ENCRYPTION (none|starttls|ssl),
    MAILROOM_SMTP_FROM_ADDRESS, _FROM_NAME, _OAUTH_GRANT, _OAUTH_TENANT, _OAUTH_CLIENT_ID,
    MAILROOM_SMTP_OAUTH_CLIENT_SECRET (or _FILE), _OAUTH_TOKEN_URL, _OAUTH_AUTH_URL,
    MAILROOM_SMTP_OAUTH_SCOPES, _HELO_NAME, _TIMEOUT, _REPLY_TO, _CA_PEM (or _FILE), _SKIP_VERIFY
                         The mail server's settings; or all of them in one TOML file:
    MAILROOM_SETTINGS_FILE   keys host, port, password_file, encryption, ... (not both).
    MAILROOM_ADMIN_EMAIL with MAILROOM_ADMIN_PASSWORD_FILE (or MAILROOM_ADMIN_PASSWORD)
                         The first admin, created at start (its password set if it differs).
    MAILROOM_API_TOKENS (or MAILROOM_API_TOKENS_FILE)
                         API tokens, one NAME:SHA256[:both|api|smtp] per line (the hex SHA-256
                         of the token, as `printf %s TOKEN | sha256sum` prints it), created at
                         start.

When no admin exists, the server prints a one-time setup link at start.
Open http://ADDRESS/settings/mail in a browser.
";

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot create MAILROOM_DATA_DIR {dir}: {source}")]
    DataDir { dir: String, source: std::io::Error },
    #[error("{0}")]
    Secret(#[from] app::secrets::SecretError),
    /// Another Mailroom holds the database.
    #[error("{0}")]
    Locked(StoreError),
    #[error("cannot open the database in {dir}: {source}")]
    Store { dir: String, source: StoreError },
    #[error("cannot open the PostgreSQL database (MAILROOM_DATABASE_URL): {source}")]
    Database { source: StoreError },
}

/// Opens the store the configuration names: PostgreSQL at `MAILROOM_DATABASE_URL`, else sled
/// in the data directory (its key and database created on first use).
pub async fn open_store(config: &Config) -> Result<(SharedStore, SecretBox), OpenError> {
    open_served(config).await.map(|(store, secrets, _)| (store, secrets))
}

/// [`open_store`], with the embedded database's own handle when it is sled (the control
/// socket's backups need it).
pub async fn open_served(config: &Config) -> Result<(SharedStore, SecretBox, Option<Arc<SledStore>>), OpenError> {
    let Some(url) = &config.database_url else {
        let (store, secrets) = open_sled(config)?;
        let store = Arc::new(store);
        return Ok((store.clone(), secrets, Some(store)));
    };
    // The key from the environment needs no directory; from a file, the data directory's.
    let secrets = match config.secret_key.as_deref() {
        Some(key) => SecretBox::load_or_create(&config.data_dir, Some(key))?,
        None => {
            std::fs::create_dir_all(&config.data_dir).map_err(|source| OpenError::DataDir {
                dir: config.data_dir.display().to_string(),
                source,
            })?;
            SecretBox::load_or_create(&config.data_dir, None)?
        }
    };
    let options = PostgresOptions {
        pool_size: config.database_pool,
        max_queued_bytes: config.store.max_queued_bytes,
        ..PostgresOptions::default()
    };
    let store = PostgresStore::connect(url, secrets.clone(), options)
        .await
        .map_err(|source| OpenError::Database { source })?;
    Ok((Arc::new(store), secrets, None))
}

/// Opens the data directory's key and sled database, creating both on first use.
fn open_sled(config: &Config) -> Result<(SledStore, SecretBox), OpenError> {
    let dir = config.data_dir.display().to_string();
    // Before anything is written (the directory, the key, the database).
    app::store::Space::new(&config.data_dir, config.store.reserve)
        .map_err(StoreError::from)
        .and_then(|space| space.check_open())
        .map_err(|source| OpenError::Store { dir: dir.clone(), source })?;
    std::fs::create_dir_all(&config.data_dir).map_err(|source| OpenError::DataDir {
        dir: dir.clone(),
        source,
    })?;
    let secrets = SecretBox::load_or_create(&config.data_dir, config.secret_key.as_deref())?;
    let store = SledStore::open_with(&config.data_dir, secrets.clone(), config.store).map_err(|e| match e {
        e @ StoreError::Locked { .. } => OpenError::Locked(e),
        source => OpenError::Store { dir, source },
    })?;
    Ok((store, secrets))
}

/// Opens the database for a command, explaining a lock held by a running server.
async fn open_for(config: &Config, command: &str) -> Result<SharedStore, String> {
    open_store(config).await.map(|(store, _)| store).map_err(|e| match e {
        OpenError::Locked(_) => {
            format!("{e}. `{command}` needs the database: stop the server, run it, start the server again.")
        }
        other => other.to_string(),
    })
}

/// `mailroom token create --name NAME`: prints the new token alone on stdout.
pub fn token_create(name: &str, scope: Option<&str>) -> Result<(), String> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    domain::token_name(name).map_err(|m| format!("--name: {}", english(&m)))?;
    let scope = scope.map(domain::TokenUse::parse).transpose().map_err(|m| format!("--for: {m}"))?.unwrap_or_default();
    let (token, record) = run(async {
        let store = open_for(&config, "token create").await?;
        Ok::<_, String>(auth::create_api_token(store.as_ref(), name, scope, "command line").await)
    })??
        .map_err(|e| e.to_string())?
        .map_err(|m| format!("--name: {}", english(&m)))?;
    eprintln!("Created API token \u{201c}{}\u{201d}; it is shown only now.", record.name);
    println!("{token}");
    Ok(())
}

/// `mailroom admin create --email ADDRESS`: the password from stdin, or prompted twice.
/// The password is hashed before the runtime of the store's call starts, so it blocks nothing.
pub fn admin_create(email: &str) -> Result<(), String> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    let address = domain::EmailAddress::parse(email).map_err(|m| format!("--email: {}", english(&m)))?;
    let (password, confirm) = if std::io::stdin().is_terminal() {
        let p = rpassword::prompt_password(format!("Password for {address}: ")).map_err(|e| e.to_string())?;
        let c = rpassword::prompt_password("Again: ").map_err(|e| e.to_string())?;
        (p, c)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| format!("reading the password from stdin: {e}"))?;
        let p = line.trim_end_matches(['\r', '\n']).to_string();
        (p.clone(), p)
    };
    domain::admin_password(&password, &confirm, address.as_str()).map_err(|m| english(&m))?;
    let email = address.as_str().to_lowercase();
    let hash = auth::hash_password(&password);
    let set = run(async {
        let store = open_for(&config, "admin create").await?;
        auth::set_admin_password(store.as_ref(), &address, hash).await.map_err(|e| e.to_string())
    })??;
    match set {
        PasswordSet::Created => println!("Created admin {email}."),
        PasswordSet::Changed { sessions_ended } => {
            println!("Set a new password for admin {email}; ended {sessions_ended} session(s).")
        }
    }
    Ok(())
}

/// `mailroom migrate --to URL`: copies the data directory's sled database into the empty
/// PostgreSQL database at `url`, sealed with the same key; the sled database stays as it was.
pub fn migrate(url: &str) -> Result<(), String> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    let dir = config.data_dir.display().to_string();
    if config.database_url.is_some() {
        return Err("MAILROOM_DATABASE_URL is set: `migrate` copies from the data directory's database \
                    (MAILROOM_DATA_DIR) to the URL after --to; unset MAILROOM_DATABASE_URL for it"
            .into());
    }
    if !config.data_dir.join("db").is_file() {
        return Err(format!(
            "there is no Mailroom database in {dir} to copy; set MAILROOM_DATA_DIR to the directory the server uses"
        ));
    }
    run(async {
        let (sled, secrets) = open_sled(&config).map_err(|e| match e {
            OpenError::Locked(_) => format!("{e}. `migrate` needs the database to itself: stop the server first."),
            other => other.to_string(),
        })?;
        let options = PostgresOptions { pool_size: 2, ..PostgresOptions::default() };
        let pg = PostgresStore::connect(url, secrets, options)
            .await
            .map_err(|e| format!("cannot open the PostgreSQL database after --to: {e}"))?;
        eprintln!("Copying the database in {dir} into PostgreSQL (one transaction: all of it or nothing)...");
        let copied = copy::sled_to_postgres(&sled, &pg).await.map_err(|e| e.to_string())?;
        println!("Copied into PostgreSQL:\n{copied}");
        let key = match config.secret_key {
            Some(_) => "the same MAILROOM_SECRET_KEY".to_string(),
            None => format!("MAILROOM_SECRET_KEY set to the contents of {}", config.data_dir.join("secret.key").display()),
        };
        println!(
            "Start each instance with MAILROOM_DATABASE_URL set to that database and {key}. \
             The database in {dir} was left as it was: do not start a server on it again, or mail queued there would be sent twice."
        );
        Ok(())
    })?
}

/// `mailroom backup FILE`: the data directory's whole database into a new file.
pub fn backup(file: &str) -> Result<(), String> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    if config.database_url.is_some() {
        return Err("MAILROOM_DATABASE_URL is set: back PostgreSQL up with pg_dump (see the README), while the servers run".into());
    }
    let path = std::path::Path::new(file);
    if path.exists() {
        return Err(format!("{file} exists already: name a new file"));
    }
    if !config.data_dir.join("db").is_file() {
        return Err(format!("there is no Mailroom database in {} to back up", config.data_dir.display()));
    }
    let key_note = format!(
        "Passwords and mail in it are sealed with the data directory's key ({}): keep a copy of the key apart \
         from the backup; without it the backup cannot be read.",
        if config.secret_key.is_some() { "MAILROOM_SECRET_KEY".to_string() } else { config.data_dir.join("secret.key").display().to_string() }
    );
    let counted = run(async {
        match open_sled(&config) {
            Ok((store, _)) => backup::backup(&store, path).await.map(|c| c.to_string()).map_err(|e| format!("the backup failed, nothing was written: {e}")),
            // A running server holds the database: it makes the copy itself.
            Err(OpenError::Locked(_)) => {
                let absolute = std::path::absolute(path).map_err(|e| format!("{file}: {e}"))?;
                crate::control::ask_backup(&config.data_dir, &absolute)
                    .map_err(|why| format!("the running server could not back up its database: {why}"))
            }
            Err(other) => Err(other.to_string()),
        }
    })??;
    println!("Backed up {counted} into {file}.");
    println!("{key_note}");
    Ok(())
}

/// `mailroom restore FILE`: a backup into an empty data directory, read back and checked
/// before it is kept.
pub fn restore(file: &str) -> Result<(), String> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    if config.database_url.is_some() {
        return Err("MAILROOM_DATABASE_URL is set: restore PostgreSQL with pg_restore (see the README)".into());
    }
    let dir = &config.data_dir;
    if dir.join("db").exists() {
        return Err(format!("{} holds a database already: restore only into an empty data directory", dir.display()));
    }
    if config.secret_key.is_none() && !dir.join("secret.key").is_file() {
        return Err(format!(
            "no key: put the secret.key that belongs to this backup into {} (or set MAILROOM_SECRET_KEY); \
             without it the passwords and mail in the backup cannot be unsealed",
            dir.display()
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let staging = dir.join("restore.partial");
    if staging.exists() {
        return Err(format!("{} is left from an earlier restore: remove it first", staging.display()));
    }
    let imported = backup::import(std::path::Path::new(file), &staging);
    let (counted, digest) = match imported {
        Ok(done) => done,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(format!("the restore failed, nothing was kept: {e}"));
        }
    };
    // Into place, then read back through the store with the key.
    let mut moved = Vec::new();
    let entries = std::fs::read_dir(&staging).map_err(|e| e.to_string())?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let to = dir.join(entry.file_name());
        std::fs::rename(entry.path(), &to).map_err(|e| format!("moving the restored database into place: {e}"))?;
        moved.push(to);
    }
    let _ = std::fs::remove_dir(&staging);
    // The files as they lie first: opening them as a store may rewrite records.
    let checked = backup::read_back(dir, digest, &counted).map_err(|e| e.to_string()).and_then(|()| run(async {
        // The import's database was this process's: sled's flusher lets go of its lock a
        // moment after the handle is dropped.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let (store, _) = loop {
            match open_sled(&config) {
                Err(OpenError::Locked(_)) if std::time::Instant::now() < deadline => {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                opened => break opened.map_err(|e| e.to_string())?,
            }
        };
        backup::verify(&store).await.map_err(|e| e.to_string())?;
        // A sealed record opens with this key.
        store.load_mail().await.map_err(|e| match e {
            StoreError::Secret(_) => "the key does not open this backup's secrets: use the secret.key (or MAILROOM_SECRET_KEY) of the server it came from".to_string(),
            other => other.to_string(),
        })?;
        Ok::<_, String>(())
    })
    .and_then(|r| r));
    match checked {
        Ok(()) => {
            println!("Restored {counted} into {}; every record read back as the backup holds it.", dir.display());
            Ok(())
        }
        Err(e) => {
            for path in moved {
                let _ = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
            }
            Err(format!("the restored database did not read back, nothing was kept: {e}"))
        }
    }
}

/// A command's store calls on a runtime of their own (the commands run before the server's).
fn run<T>(work: impl std::future::Future<Output = T>) -> Result<T, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the async runtime failed: {e}"))?;
    Ok(runtime.block_on(work))
}
