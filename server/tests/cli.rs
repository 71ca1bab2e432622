//! The `mailroom` binary's command line: `admin create`, `token create`, `migrate`, `backup` and
//! `restore`, and their messages when the server holds the database lock.

// Shared with crash.rs and the others, which use more of it.
#[allow(dead_code)]
mod prepared;

use app::{
    auth,
    secrets::SecretBox,
    store::{AdminStore, SledStore, TokenStore},
};
use std::{
    io::Write,
    path::Path,
    process::{Command, Output, Stdio},
};

/// `mailroom ARGS` with `env`, given `input` on stdin.
fn mailroom(args: &[&str], env: &[(&str, &str)], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .args(args)
        .envs(env.iter().copied())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{input}").unwrap();
    child.wait_with_output().unwrap()
}

/// The environment of a command on the sled database in `dir`.
fn on_dir(dir: &Path) -> [(&'static str, &str); 1] {
    [("MAILROOM_DATA_DIR", dir.to_str().unwrap())]
}

fn admin_create(dir: &Path, email: &str, password: &str) -> Output {
    mailroom(&["admin", "create", "--email", email], &on_dir(dir), password)
}

#[tokio::test]
async fn admin_create_reads_the_password_from_stdin_and_stores_only_a_hash() {
    let dir = tempfile::tempdir().unwrap();
    let out = admin_create(dir.path(), "Ops@Example.com", "a long admin password");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Created admin ops@example.com"));
    let store = SledStore::open(dir.path(), SecretBox::load_or_create(dir.path(), None).unwrap()).unwrap();
    let admin = store.get_admin("ops@example.com").await.unwrap().expect("admin stored");
    assert!(admin.password_hash.starts_with("$argon2id$"));
    assert!(auth::verify_password(
        "a long admin password",
        &admin.password_hash
    ));
}

#[test]
fn admin_create_refuses_a_short_password_and_explains_a_held_lock() {
    let dir = tempfile::tempdir().unwrap();
    let short = admin_create(dir.path(), "ops@example.com", "short");
    assert!(!short.status.success());
    assert!(
        String::from_utf8_lossy(&short.stderr).contains("at least 10 characters"),
        "{short:?}"
    );

    let _server_holds_it =
        SledStore::open(dir.path(), SecretBox::load_or_create(dir.path(), None).unwrap()).unwrap();
    let locked = admin_create(dir.path(), "ops@example.com", "a long admin password");
    assert!(!locked.status.success());
    let text = String::from_utf8_lossy(&locked.stderr);
    assert!(
        text.contains("in use by another Mailroom") && text.contains("stop the server"),
        "{text}"
    );
}

fn token_create(dir: &Path, name: &str) -> Output {
    mailroom(&["token", "create", "--name", name], &on_dir(dir), "")
}

#[tokio::test]
async fn token_create_prints_the_token_alone_and_stores_only_its_hash() {
    let dir = tempfile::tempdir().unwrap();
    let out = token_create(dir.path(), "grafana");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let token = stdout.strip_suffix('\n').unwrap();
    assert_eq!(token.len(), 43, "256 bits, base64url: {stdout:?}");
    assert!(token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));

    let again = token_create(dir.path(), "grafana");
    assert!(!again.status.success());
    assert!(again.stdout.is_empty());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));

    let store = SledStore::open(dir.path(), SecretBox::load_or_create(dir.path(), None).unwrap()).unwrap();
    let record = store.token_by_hash(&auth::token_hash(token)).await.unwrap().expect("stored under its hash");
    assert_eq!((record.name.as_str(), record.created_by.as_str()), ("grafana", "command line"));
    let files: Vec<u8> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .flat_map(|e| std::fs::read(e.path()).unwrap())
        .collect();
    assert!(!files.windows(token.len()).any(|w| w == token.as_bytes()), "the token itself is not stored");

    let _server_holds_it = store;
    let locked = token_create(dir.path(), "other");
    assert!(!locked.status.success());
    assert!(String::from_utf8_lossy(&locked.stderr).contains("`token create` needs the database: stop the server"));
}

/// On PostgreSQL the commands work while a server has the database open, and a command with
/// another key is refused before it writes.
#[tokio::test]
async fn on_postgresql_the_commands_run_beside_a_running_server_and_a_wrong_key_is_refused() {
    use base64::Engine;
    let url = testpg::Cluster::shared().database();
    let key = [7u8; 32];
    let key_text = base64::engine::general_purpose::STANDARD.encode(key);
    // The "server": the store open with the key, as a running instance has it.
    let running = app::store::PostgresStore::connect(&url, SecretBox::from_key(key), Default::default())
        .await
        .unwrap();
    let command = |args: &[&str], key: &str| {
        let env = [
            ("MAILROOM_DATABASE_URL", url.as_str()),
            ("MAILROOM_SECRET_KEY", key),
            // No data directory is needed: one that does not exist stays so.
            ("MAILROOM_DATA_DIR", "/nonexistent/mailroom-data"),
        ];
        mailroom(args, &env, "a long admin password")
    };
    let created = command(&["admin", "create", "--email", "ops@example.com"], &key_text);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let admin = running.get_admin("ops@example.com").await.unwrap().expect("seen by the running server");
    assert!(auth::verify_password("a long admin password", &admin.password_hash));

    let token = command(&["token", "create", "--name", "cron"], &key_text);
    assert!(token.status.success(), "{}", String::from_utf8_lossy(&token.stderr));
    let printed = String::from_utf8_lossy(&token.stdout).trim().to_string();
    let stored = running.token_by_hash(&auth::token_hash(&printed)).await.unwrap().expect("the printed token works");
    assert_eq!(stored.name, "cron");

    let other_key = base64::engine::general_purpose::STANDARD.encode([8u8; 32]);
    let refused = command(&["token", "create", "--name", "other"], &other_key);
    assert!(!refused.status.success());
    let text = String::from_utf8_lossy(&refused.stderr);
    assert!(text.contains("same MAILROOM_SECRET_KEY"), "{text}");
    assert_eq!(running.tokens().await.unwrap().len(), 1, "nothing written with the wrong key");
    assert!(!std::path::Path::new("/nonexistent/mailroom-data").exists());
}

/// `migrate --to` copies the data directory into an empty PostgreSQL database, readable there
/// with the data directory's key; a second copy, a running server and a missing database are
/// refused with what to do.
#[tokio::test]
async fn migrate_copies_the_data_directory_into_an_empty_postgresql_database_once() {
    let dir = tempfile::tempdir().unwrap();
    assert!(admin_create(dir.path(), "ops@example.com", "a long admin password").status.success());
    let printed = token_create(dir.path(), "cron");
    let token = String::from_utf8_lossy(&printed.stdout).trim().to_string();
    let url = testpg::Cluster::shared().database();
    let migrate = |dir: &Path| mailroom(&["migrate", "--to", &url], &on_dir(dir), "");

    let server = SledStore::open(dir.path(), SecretBox::load_or_create(dir.path(), None).unwrap()).unwrap();
    let locked = migrate(dir.path());
    assert!(!locked.status.success());
    assert!(String::from_utf8_lossy(&locked.stderr).contains("stop the server first"));
    drop(server);

    let copied = wait_for_the_lock(|| migrate(dir.path()));
    let stdout = String::from_utf8_lossy(&copied.stdout);
    assert!(copied.status.success(), "{stdout}{}", String::from_utf8_lossy(&copied.stderr));
    for line in ["       1  admins", "       1  API tokens", "       1  change history entries"] {
        assert!(stdout.contains(line), "{line:?} in {stdout}");
    }
    assert!(stdout.contains("MAILROOM_SECRET_KEY set to the contents of"), "{stdout}");

    let key = SecretBox::load_or_create(dir.path(), None).unwrap();
    let pg = app::store::PostgresStore::connect(&url, key, Default::default()).await.unwrap();
    let admin = pg.get_admin("ops@example.com").await.unwrap().expect("the admin on PostgreSQL");
    assert!(auth::verify_password("a long admin password", &admin.password_hash));
    assert_eq!(pg.token_by_hash(&auth::token_hash(&token)).await.unwrap().map(|t| t.name), Some("cron".into()));

    let again = migrate(dir.path());
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not empty"), "{}", String::from_utf8_lossy(&again.stderr));

    let empty = tempfile::tempdir().unwrap();
    let nothing = migrate(empty.path());
    assert!(String::from_utf8_lossy(&nothing.stderr).contains("there is no Mailroom database in"));
    assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0, "nothing created");
}

/// A command run just after a store in this process was dropped may still meet sled's lock for
/// a moment (its flusher lets go of the file after the handle): runs `command` until it does not.
fn wait_for_the_lock(command: impl Fn() -> Output) -> Output {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let out = command();
        if out.status.success() || !String::from_utf8_lossy(&out.stderr).contains("in use") || std::time::Instant::now() > deadline {
            return out;
        }
    }
}

/// A plain-text message to ops@example.com, as the outbox takes it.
fn plain_message(subject: &str, text: &str) -> app::store::NewMessage {
    app::store::NewMessage {
        to: "ops@example.com".into(),
        subject: subject.into(),
        body: app::store::MailBody { text: text.into(), html: None, thread: None, raw: None },
        priority: app::outbox::Priority::Normal,
        expires_at: None,
        origin: app::outbox::Origin::Unknown,
    }
}

/// `backup` copies every record into a new file; `restore` puts it into an empty directory
/// only with the backup's key, reads every record back, and keeps nothing when the file is
/// damaged or the key is another.
#[tokio::test]
async fn backup_and_restore_keep_every_record_and_need_the_key() {
    use app::store::{AuditStore, MailSettingsStore, OutboxStore};
    let dir = tempfile::tempdir().unwrap();
    let store = prepared::prepare(dir.path(), 2525).await;
    let message = plain_message("Nightly backup finished", "All 42 databases.");
    store.enqueue(vec![message], Some("key-1"), 1_000).await.unwrap();
    drop(store);
    let token = String::from_utf8(token_create(dir.path(), "cron").stdout).unwrap().trim().to_string();
    let file = dir.path().join("mailroom.backup");
    let file = file.to_str().unwrap();

    {
        let _server_holds_it = prepared::open(dir.path());
        let held = mailroom(&["backup", file], &on_dir(dir.path()), "");
        assert!(!held.status.success());
        assert!(String::from_utf8_lossy(&held.stderr).contains("stop the server"), "{}", String::from_utf8_lossy(&held.stderr));
        assert!(!Path::new(file).exists(), "nothing written");
    }
    let made = mailroom(&["backup", file], &on_dir(dir.path()), "");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let said = String::from_utf8_lossy(&made.stdout);
    assert!(said.contains("Backed up") && said.contains("secret.key"), "{said}");
    let again = mailroom(&["backup", file], &on_dir(dir.path()), "");
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));

    // Without the key: refused before anything is written.
    let other = tempfile::tempdir().unwrap();
    let keyless = mailroom(&["restore", file], &on_dir(other.path()), "");
    assert!(String::from_utf8_lossy(&keyless.stderr).contains("put the secret.key"), "{keyless:?}");
    // With another key: read back, found out, nothing kept.
    let wrong = tempfile::tempdir().unwrap();
    let wrong_key = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [9u8; 32]);
    let refused = mailroom(
        &["restore", file],
        &[("MAILROOM_DATA_DIR", wrong.path().to_str().unwrap()), ("MAILROOM_SECRET_KEY", wrong_key.as_str())],
        "",
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("the key does not open"), "{}", String::from_utf8_lossy(&refused.stderr));
    assert!(!wrong.path().join("db").exists(), "nothing kept");
    // A damaged file: refused, nothing kept.
    let mut bytes = std::fs::read(file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    let damaged = dir.path().join("damaged.backup");
    std::fs::write(&damaged, bytes).unwrap();
    let fresh = tempfile::tempdir().unwrap();
    std::fs::copy(dir.path().join("secret.key"), fresh.path().join("secret.key")).unwrap();
    let broken = mailroom(&["restore", damaged.to_str().unwrap()], &on_dir(fresh.path()), "");
    assert!(!broken.status.success());
    assert!(String::from_utf8_lossy(&broken.stderr).contains("nothing was kept"), "{}", String::from_utf8_lossy(&broken.stderr));
    assert!(!fresh.path().join("db").exists());

    // With the key: every record back.
    let restored = mailroom(&["restore", file], &on_dir(fresh.path()), "");
    assert!(restored.status.success(), "{}", String::from_utf8_lossy(&restored.stderr));
    assert!(String::from_utf8_lossy(&restored.stdout).contains("every record read back"));
    let twice = mailroom(&["restore", file], &on_dir(fresh.path()), "");
    assert!(String::from_utf8_lossy(&twice.stderr).contains("holds a database already"));
    let (before, after) = (prepared::open(dir.path()), prepared::open(fresh.path()));
    let mail = |s: &SledStore| {
        let s = s.clone();
        async move { s.load_mail().await.unwrap().map(|v| (v.version, v.value.password.expose().to_string())) }
    };
    assert_eq!(mail(&after).await, mail(&before).await);
    assert!(after.load_mail().await.unwrap().is_some_and(|m| m.value.password.expose() == "secret-password"), "the password unsealed");
    assert!(after.token_by_hash(&auth::token_hash(&token)).await.unwrap().is_some());
    assert_eq!(after.get_admin(prepared::ADMIN).await.unwrap().map(|a| a.password_hash), before.get_admin(prepared::ADMIN).await.unwrap().map(|a| a.password_hash));
    assert_eq!(after.recent_messages(10).await.unwrap(), before.recent_messages(10).await.unwrap());
    assert_eq!(after.recent_audit(10).await.unwrap(), before.recent_audit(10).await.unwrap());
}

/// A running server's backup can catch a message mid-send (claimed under a lease); the restore
/// reads the files back as they lie before opening them as a store, whose open sends that
/// message back to the queue.
#[tokio::test]
async fn a_backup_that_caught_a_message_mid_send_restores_and_the_message_goes_out_again() {
    use app::store::{MailSettingsStore, OutboxStore};
    let dir = tempfile::tempdir().unwrap();
    let store = prepared::prepare(dir.path(), 2525).await;
    let message = plain_message("Being sent", "x");
    let id = store.enqueue(vec![message], None, 1_000).await.unwrap().ids()[0];
    let settings_version = store.load_mail().await.unwrap().map_or(0, |m| m.version);
    let lease = app::store::Lease { owner: 7, until: u64::MAX / 2 };
    let request = app::store::ClaimRequest { settings_version, ..app::store::ClaimRequest::any(lease, 1_000, 1) };
    assert_eq!(store.claim(request).await.unwrap().map(|c| c.len()), Some(1));
    // As the running server makes it (`mailroom backup` through its control socket).
    let file = dir.path().join("mid-send.backup");
    app::store::backup::backup(&store, &file).await.unwrap();
    drop(store);

    let fresh = tempfile::tempdir().unwrap();
    std::fs::copy(dir.path().join("secret.key"), fresh.path().join("secret.key")).unwrap();
    let restored = mailroom(&["restore", file.to_str().unwrap()], &on_dir(fresh.path()), "");
    assert!(restored.status.success(), "{}", String::from_utf8_lossy(&restored.stderr));
    let copy = prepared::open(fresh.path());
    let m = copy.message(id).await.unwrap().unwrap();
    assert_eq!(m.state, app::outbox::State::Queued, "back in the queue: {m:?}");
}

/// While the server runs and takes mail, `backup` asks it for the copy (its control socket);
/// the copy restores with the key, every record read back, and holds every message
/// acknowledged before the backup began, each as the server had it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_running_server_backs_itself_up_under_write_load_and_the_restore_matches() {
    use app::store::{MailSettingsStore, OutboxStore};
    use std::sync::{atomic::{AtomicBool, Ordering}, Arc, Mutex};
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let store = prepared::prepare(dir.path(), prepared::closed_port()).await;
    let (token, _) = auth::create_api_token(&store, "load", Default::default(), "test").await.unwrap().unwrap();
    drop(store);
    let (server, url) = wait_for_the_server(dir.path());

    // Four writers, each posting a message after the other until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(Mutex::new(Vec::<(u64, Instant)>::new()));
    // How many were acknowledged so far, for the test to wait on.
    let (counted, count) = tokio::sync::watch::channel(0usize);
    let counted = Arc::new(counted);
    let mut writers = Vec::new();
    for w in 0..4 {
        let (stop, acknowledged, url, token, counted) = (stop.clone(), acknowledged.clone(), url.clone(), token.clone(), counted.clone());
        writers.push(tokio::spawn(async move {
            let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let body = serde_json::json!({"to": [format!("w{w}-{n}@example.com")], "subject": format!("load {w} {n}"), "text": "x"});
                let res = client.post(format!("{url}/api/v1/messages")).bearer_auth(&token).json(&body).send().await.unwrap();
                assert_eq!(res.status(), 202, "{:?}", res.text().await);
                let answer: serde_json::Value = res.json().await.unwrap();
                let id = answer["messages"][0]["id"].as_u64().unwrap();
                let n = {
                    let mut all = acknowledged.lock().unwrap();
                    all.push((id, Instant::now()));
                    all.len()
                };
                counted.send_replace(n);
            }
        }));
    }
    let enough = |n: usize| {
        let mut count = count.clone();
        async move {
            tokio::time::timeout(Duration::from_secs(30), count.wait_for(|c| *c >= n))
                .await
                .expect("the writers stalled")
                .unwrap();
        }
    };
    enough(100).await;

    let file = dir.path().join("live.backup");
    let began = Instant::now();
    let args = ["backup".to_string(), file.to_str().unwrap().to_string()];
    let env = dir.path().to_str().unwrap().to_string();
    let made = tokio::task::spawn_blocking(move || {
        mailroom(&[args[0].as_str(), args[1].as_str()], &[("MAILROOM_DATA_DIR", env.as_str())], "")
    })
    .await
    .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    assert!(String::from_utf8_lossy(&made.stdout).contains("Backed up"));
    // The server took mail on after it.
    let count = acknowledged.lock().unwrap().len();
    enough(count + 50).await;
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    assert!(server.stop().success());
    assert!(!dir.path().join("control.sock").exists() || std::os::unix::net::UnixStream::connect(dir.path().join("control.sock")).is_err());

    let fresh = tempfile::tempdir().unwrap();
    std::fs::copy(dir.path().join("secret.key"), fresh.path().join("secret.key")).unwrap();
    let restored = mailroom(&["restore", file.to_str().unwrap()], &on_dir(fresh.path()), "");
    assert!(restored.status.success(), "{}", String::from_utf8_lossy(&restored.stderr));
    assert!(String::from_utf8_lossy(&restored.stdout).contains("every record read back"));

    let (original, copy) = (prepared::open(dir.path()), prepared::open(fresh.path()));
    let restored_messages = copy.recent_messages(usize::MAX).await.unwrap();
    let before: Vec<u64> = acknowledged.lock().unwrap().iter().filter(|(_, at)| *at < began).map(|(id, _)| *id).collect();
    assert!(before.len() >= 100);
    for id in &before {
        assert!(restored_messages.iter().any(|m| m.id == *id), "message {id}, acknowledged before the backup, is missing");
    }
    for m in &restored_messages {
        let kept = original.message(m.id).await.unwrap().unwrap_or_else(|| panic!("{} is not the server's", m.id));
        assert_eq!((&kept.to, &kept.subject, kept.created_at), (&m.to, &m.subject, m.created_at));
        // A message still to be sent has its text, sealed with the same key.
        if matches!(m.state, app::outbox::State::Queued | app::outbox::State::Deferred | app::outbox::State::Sending) {
            assert!(copy.has_body(m.id).await.unwrap(), "message {} lost its text", m.id);
        }
    }
    assert!(restored_messages.len() < original.recent_messages(usize::MAX).await.unwrap().len(), "written on after the copy");
    let mail = |s: &SledStore| {
        let s = s.clone();
        async move { s.load_mail().await.unwrap().map(|v| (v.version, v.value.password.expose().to_string())) }
    };
    assert_eq!(mail(&copy).await, mail(&original).await);
    assert!(copy.token_by_hash(&auth::token_hash(&token)).await.unwrap().is_some());
}

/// The real server on `dir`, once it listens.
fn wait_for_the_server(dir: &Path) -> (prepared::Server, String) {
    prepared::start(dir, &[]).unwrap_or_else(|(status, log)| panic!("{status}: {log}"))
}
