//! A full disk, with the real binary on a small filesystem of its own (a tmpfs this test mounts;
//! it needs root, as CI has): mail is accepted through the API until the reserve is reached and
//! then refused with 507, never 500; a restart while the disk is full refuses to open the
//! database and writes nothing; once space is freed, every acknowledged message, the settings,
//! the admin and the token are there. With the reserve turned off, the write that fails stops
//! the process at once (no hang), and the database still opens with everything acknowledged.

#[allow(dead_code)]
mod prepared;

use app::{
    auth,
    store::{AdminStore, MailSettingsStore, OutboxStore, TokenStore},
};
use prepared::{closed_port, open, Server, ADMIN};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::Duration;

/// A tmpfs of `mb` MiB, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(mb: u64) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={}m", mb), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("mount runs");
        assert!(
            status.success(),
            "mounting a {mb} MiB tmpfs failed ({status}): this test needs root, as CI has"
        );
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn resize(&self, mb: u64) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={mb}m")])
            .arg(self.path())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Fills what is left with a file; returns its path.
    fn fill(&self) -> PathBuf {
        let path = self.path().join("ballast");
        let mut file = std::fs::File::create(&path).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        while file.write_all(&chunk).is_ok() {}
        let _ = file.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

/// An admin, mail settings pointing at a port nobody listens on (messages stay queued), and an
/// API token, which it returns.
async fn prepare(dir: &Path) -> String {
    let store = prepared::prepare(dir, closed_port()).await;
    let (token, _) = auth::create_api_token(&store, "filler", Default::default(), ADMIN).await.unwrap().unwrap();
    token
}

/// Starts the server with `reserve_mb`.
fn start(dir: &Path, reserve_mb: u64) -> Result<(Server, String), (ExitStatus, String)> {
    prepared::start(
        dir,
        &[
            ("MAILROOM_DISK_RESERVE_MB", &reserve_mb.to_string()),
            ("MAILROOM_API_REQUESTS_PER_MINUTE", "100000"),
        ],
    )
}

/// Every file under `dir` with its bytes, to see that nothing was written (the control socket
/// is not a file).
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.is_file() {
                files.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// Posts 100 KB messages until one is refused; returns the acknowledged ids and the refusal.
async fn fill_through_api(url: &str, token: &str) -> (Vec<u64>, Option<reqwest::Response>) {
    let client = client();
    let text = "0123456789abcdef".repeat(100 * 1024 / 16);
    let mut ids = Vec::new();
    for i in 0..2_000 {
        let sent = client
            .post(format!("{url}/api/v1/messages"))
            .bearer_auth(token)
            .json(&serde_json::json!({
                "to": [format!("ops{i}@example.com")],
                "subject": format!("report {i}"),
                "text": text,
            }))
            .send()
            .await;
        match sent {
            Ok(r) if r.status() == reqwest::StatusCode::ACCEPTED => {
                let body: serde_json::Value = r.json().await.unwrap();
                ids.push(body["messages"][0]["id"].as_u64().unwrap());
            }
            Ok(r) => return (ids, Some(r)),
            Err(_) => return (ids, None),
        }
    }
    panic!("2,000 messages of 100 KB fitted on a small disk");
}

/// Everything acknowledged and prepared is in the database.
async fn everything_is_there(dir: &Path, ids: &[u64]) {
    let store = open(dir);
    for id in ids {
        let m = store
            .message(*id).await
            .unwrap()
            .unwrap_or_else(|| panic!("message {id} lost"));
        assert!(m.state.pending(), "message {id}: {m:?}");
    }
    assert!(store.load_mail().await.unwrap().is_some(), "the settings are there");
    assert!(store.get_admin(ADMIN).await.unwrap().is_some(), "the admin is there");
    assert_eq!(store.tokens().await.unwrap().len(), 1, "the token is there");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_new_mail_and_loses_nothing() {
    let disk = SmallDisk::mount(48);
    let dir = disk.path().join("data");
    let token = prepare(&dir).await;

    let (server, url) = start(&dir, 8).map_err(|(s, log)| format!("{s}: {log}")).unwrap();
    let (ids, refusal) = fill_through_api(&url, &token).await;
    let refusal = refusal.expect("the server answered the refused request");
    assert_eq!(refusal.status(), 507, "{:?}", refusal.text().await);
    assert!(refusal.headers().contains_key("retry-after"));
    let error: serde_json::Value = refusal.json().await.unwrap();
    let said = error["error"].as_str().unwrap();
    assert!(
        said.contains("free") && said.contains("nothing was written"),
        "{said}"
    );
    assert!(
        ids.len() >= 50,
        "only {} messages of 100 KB before the reserve",
        ids.len()
    );
    println!(
        "{} messages of 100 KB acknowledged before the 8 MiB reserve",
        ids.len()
    );

    // Reads and logins go on.
    let page = client().get(format!("{url}/login")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let last = client()
        .get(format!("{url}/api/v1/messages/{}", ids.last().unwrap()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(last.status(), 200);
    assert!(server.stop().success());

    // Something else fills the disk; a start now refuses to open the database and writes nothing.
    let ballast = disk.fill();
    let before = snapshot(&dir);
    let (status, log) = match start(&dir, 8) {
        Err(refused) => refused,
        Ok((server, _)) => panic!("started on a full disk: {}", server.log()),
    };
    assert!(!status.success());
    assert!(
        log.contains("did not open it") && log.contains("Free at least"),
        "{log}"
    );
    assert!(
        snapshot(&dir) == before,
        "a refused start changed the data directory"
    );

    // Space freed: everything acknowledged is there, and the server starts and serves it (the
    // disk is still at its reserve: new mail is still refused, and the pages say why).
    std::fs::remove_file(ballast).unwrap();
    everything_is_there(&dir, &ids).await;
    let (server, url) = start(&dir, 8).map_err(|(s, log)| format!("{s}: {log}")).unwrap();
    let (more, refusal) = fill_through_api(&url, &token).await;
    assert!(more.is_empty() && refusal.is_some_and(|r| r.status() == 507));
    let first = client()
        .get(format!("{url}/api/v1/messages/{}", ids[0]))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    assert!(server.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_write_stops_the_process_and_the_database_still_opens() {
    let disk = SmallDisk::mount(32);
    let dir = disk.path().join("data");
    let token = prepare(&dir).await;

    // No reserve: the disk really fills, and a write fails.
    let (server, url) = start(&dir, 0).map_err(|(s, log)| format!("{s}: {log}")).unwrap();
    let (ids, refusal) = fill_through_api(&url, &token).await;
    if let Some(r) = refusal {
        assert_ne!(r.status(), 202);
    }
    let (status, log) = server.exits_within(Duration::from_secs(20));
    let status = status.unwrap_or_else(|| panic!("the server went on after a failed write: {log}"));
    assert_eq!(status.code(), Some(74), "{log}");
    assert!(log.contains("the database failed to write"), "{log}");
    println!("{} messages acknowledged before the write that failed", ids.len());

    // With room again, the database opens with every acknowledged message.
    disk.resize(64);
    everything_is_there(&dir, &ids).await;
}
