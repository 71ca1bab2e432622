//! The data directory's control socket (`DATA_DIR/control.sock`, the embedded database only):
//! how `mailroom backup` asks the server that holds the database for a consistent copy while it
//! runs. A Unix socket with mode 0600 in the data directory, so only the user that owns the
//! data can ask, the same who could read the database itself. One request at a time: one JSON
//! line (`{"backup":"/absolute/path"}`), one JSON line back (`{"ok":"…"}` or `{"error":"…"}`).

use app::store::{backup, SledStore};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

pub const SOCKET: &str = "control.sock";
/// A request is one short line, sent at once.
const MAX_REQUEST_BYTES: u64 = 8 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long `mailroom backup` waits for the server's copy.
const BACKUP_TIMEOUT: Duration = Duration::from_secs(60 * 60);

#[derive(Serialize, Deserialize)]
struct Request {
    backup: PathBuf,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Answer {
    Ok(String),
    Error(String),
}

/// Listens on the socket in `dir` while the server runs. The server holds the database's lock,
/// so a socket left there is a killed server's: it is replaced.
pub fn listen(dir: &Path, store: Arc<SledStore>) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(SOCKET);
    let _ = std::fs::remove_file(&path);
    let listener = tokio::net::UnixListener::bind(&path).map_err(|e| format!("cannot listen on {}: {e}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("cannot restrict {}: {e}", path.display()))?;
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            // One at a time: a backup has the database to itself anyway.
            serve_one(stream, &store).await;
        }
    });
    Ok(())
}

async fn serve_one(stream: tokio::net::UnixStream, store: &SledStore) {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let mut limited = BufReader::new(tokio::io::AsyncReadExt::take(read, MAX_REQUEST_BYTES));
    let answer = match tokio::time::timeout(REQUEST_TIMEOUT, limited.read_line(&mut line)).await {
        Ok(Ok(_)) => match serde_json::from_str::<Request>(line.trim()) {
            Ok(request) if request.backup.is_absolute() => {
                tracing::info!(file = %request.backup.display(), "backup asked for on the control socket");
                match backup::backup(store, &request.backup).await {
                    Ok(counted) => Answer::Ok(counted.to_string()),
                    Err(e) => Answer::Error(format!("the backup failed, nothing was written: {e}")),
                }
            }
            Ok(_) => Answer::Error("the backup's path must be absolute".into()),
            Err(e) => Answer::Error(format!("not a request: {e}")),
        },
        Ok(Err(e)) => Answer::Error(format!("the request could not be read: {e}")),
        Err(_) => Answer::Error("no request within 5 seconds".into()),
    };
    if let Ok(mut text) = serde_json::to_string(&answer) {
        text.push('\n');
        let _ = write.write_all(text.as_bytes()).await;
    }
}

/// Asks the server running on `dir` to back its database up into `file`: what it backed up,
/// or why not.
pub fn ask_backup(dir: &Path, file: &Path) -> Result<String, String> {
    use std::io::{BufRead, Write};
    let path = dir.join(SOCKET);
    let mut stream = std::os::unix::net::UnixStream::connect(&path).map_err(|e| {
        format!(
            "the database is in use and nothing answers on {} ({e}): stop the server, run `mailroom backup` (seconds), start it again",
            path.display()
        )
    })?;
    stream.set_read_timeout(Some(BACKUP_TIMEOUT)).map_err(|e| e.to_string())?;
    stream.set_write_timeout(Some(REQUEST_TIMEOUT)).map_err(|e| e.to_string())?;
    let mut request = serde_json::to_string(&Request { backup: file.to_path_buf() }).map_err(|e| e.to_string())?;
    request.push('\n');
    stream.write_all(request.as_bytes()).map_err(|e| format!("asking the server: {e}"))?;
    let mut line = String::new();
    std::io::BufReader::new(stream)
        .read_line(&mut line)
        .map_err(|e| format!("waiting for the server's backup: {e}"))?;
    match serde_json::from_str::<Answer>(line.trim()) {
        Ok(Answer::Ok(counted)) => Ok(counted),
        Ok(Answer::Error(why)) => Err(why),
        Err(_) => Err("the server ended the connection without an answer; see its log".into()),
    }
}
