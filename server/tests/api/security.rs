//! Secrets stay secret: the SMTP password is in no database file and in no log line.

use crate::helpers::{peer_form, spawn_app, valid_form, ADMIN_PASSWORD};
use app::{
    domain::MailServerForm,
    report::Diagnosis,
};
use std::sync::{Arc, Mutex, OnceLock};
use tracing_subscriber::{layer::SubscriberExt, util::SubscriberInitExt};

#[tokio::test]
async fn the_smtp_password_is_in_no_database_file() {
    let app = spawn_app().await;
    let secret = "Unique-SMTP-Secret-4242";
    app.save(
        0,
        &MailServerForm {
            password: secret.into(),
            ..valid_form()
        },
    )
    .await
    .unwrap();
    app.store.flush().await.unwrap();
    // The database's files: sled's in the data directory, or the PostgreSQL cluster's (its
    // write-ahead log has every commit; a checkpoint writes the tables too).
    let files = match std::env::var("MAILROOM_TEST_STORE").as_deref() {
        Ok("postgres") => {
            let cluster = testpg::Cluster::shared();
            cluster.sql("CHECKPOINT");
            cluster.data_dir()
        }
        _ => app.dir.path().to_path_buf(),
    };
    // A running PostgreSQL removes and renames files as it goes (temporary files, recycled
    // write-ahead log segments): one gone between the listing and the read is skipped.
    let gone = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
    let mut scanned = 0;
    let mut stack = vec![files];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if gone(&e) => continue,
            Err(e) => panic!("{}: {e}", dir.display()),
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n != app::secrets::KEY_FILE) {
                let bytes = match std::fs::read(&path) {
                    Ok(bytes) => bytes,
                    Err(e) if gone(&e) => continue,
                    Err(e) => panic!("{}: {e}", path.display()),
                };
                scanned += bytes.len();
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "plaintext password in {}",
                    path.display()
                );
            }
        }
    }
    assert!(scanned > 0, "nothing scanned");
    // …and the server still knows it.
    assert_eq!(
        app.store.load_mail().await.unwrap().unwrap().value.password.expose(),
        secret
    );
}

/// Everything logged by this test binary, through a global subscriber at TRACE.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = buf.clone();
        let make = move || LogWriter(writer.clone());
        tracing_subscriber::registry()
            .with(server::quiet_sled())
            .with(tracing_subscriber::fmt::layer().with_ansi(false).with_writer(make))
            .init();
        buf
    })
    .clone()
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);
impl std::io::Write for LogWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_of_save_and_test_hold_no_password() {
    let logs = captured_logs();
    let app = spawn_app().await;
    let secret = "correct-password";
    let form = peer_form("plain");
    app.save(0, &form).await.unwrap();
    assert!(app.test_mail(&form, "").await.unwrap().success());
    let wrong = app
        .test_mail(
            &MailServerForm {
                password: "Wrong-Secret-77".into(),
                ..peer_form("plain")
            },
            "",
        )
        .await
        .unwrap();
    assert_eq!(wrong.diagnosis, Some(Diagnosis::AuthRejected));
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).to_string();
    assert!(
        text.contains("mail settings saved") && text.contains("mail server test finished"),
        "logs were captured: {text}"
    );
    for s in [secret, "Wrong-Secret-77", ADMIN_PASSWORD] {
        assert!(!text.contains(s), "{s} in the logs");
    }
}

#[tokio::test]
async fn user_input_cannot_forge_log_lines() {
    let logs = captured_logs();
    let app = crate::helpers::spawn_app_logged_out().await;
    let forged = "FORGED-LINE admin logged in";
    let email = format!("x@example.com\n2026-01-01T00:00:00Z  INFO {forged}\u{1b}[2J");
    assert!(app.login(&email, "wrong password 1").await.is_err());
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).to_string();
    assert!(text.contains("failed login"), "the attempt was logged");
    for line in text.lines() {
        assert!(
            !line.contains(forged) || line.contains("failed login"),
            "a forged line: {line}"
        );
    }
    assert!(
        !text.contains('\u{1b}'),
        "a raw control character reached the log"
    );
}
