//! The real SMTP server on loopback (scripts/smtp_peer.py, aiosmtpd): used by the integration
//! tests (`api/helpers.rs`) and by those that run the real binary (`service.rs`).

/// The real SMTP server on loopback (scripts/smtp_peer.py, aiosmtpd), one per test binary.
pub struct Peer {
    pub ports: std::collections::HashMap<String, u16>,
    pub ca_pem: String,
    pub spool: std::path::PathBuf,
    _child: std::sync::Mutex<std::process::Child>,
}

/// The Python that has aiosmtpd (installed by `scripts/bootstrap.sh --test`).
fn peer_python() -> std::path::PathBuf {
    std::env::var_os("MAILROOM_SMTP_PYTHON")
        .map(Into::into)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/smtp-venv/bin/python")
        })
}

pub fn peer() -> &'static Peer {
    static PEER: std::sync::OnceLock<Peer> = std::sync::OnceLock::new();
    PEER.get_or_init(|| {
        use std::io::BufRead;
        let python = peer_python();
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/smtp_peer.py");
        // stdin stays open while this process lives; the peer exits when it closes.
        let mut child = std::process::Command::new(&python)
            .arg(&script)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {} ({e}); run scripts/bootstrap.sh --test",
                    python.display()
                )
            });
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let info: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("peer said {line:?}: {e}"));
        Peer {
            ports: serde_json::from_value(info["ports"].clone()).unwrap(),
            ca_pem: std::fs::read_to_string(info["ca_pem"].as_str().unwrap()).unwrap(),
            spool: info["spool"].as_str().unwrap().into(),
            _child: std::sync::Mutex::new(child),
        }
    })
}

impl Peer {
    pub fn port(&self, listener: &str) -> String {
        self.ports[listener].to_string()
    }

    /// How many tokens the peer's OAuth2 server issued under `key`: a client id, or
    /// "code:ID" / "refresh:ID" for those of one grant.
    pub async fn tokens_issued(&self, key: &str) -> u64 {
        let stats: serde_json::Value = reqwest::get(format!("http://127.0.0.1:{}/", self.port("oauth")))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        stats[key].as_u64().unwrap_or(0)
    }

    /// The peer's certificate for localhost and its key (PEM files, signed by [`Self::ca_pem`]).
    pub fn cert_pair(&self) -> (std::path::PathBuf, std::path::PathBuf) {
        let dir = self.spool.parent().unwrap();
        (dir.join("good.pem"), dir.join("good.key"))
    }

    /// The message the peer queued under `queue_id`.
    pub fn message(&self, queue_id: &str) -> String {
        std::fs::read_to_string(self.spool.join(format!("{queue_id}.eml"))).unwrap()
    }

    /// Waits (bounded) for a message to `to` whose decoded text contains `needle`.
    pub async fn wait_for_mail(&self, needle: &str, to: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            for entry in std::fs::read_dir(&self.spool).unwrap().flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "eml") {
                    let raw = std::fs::read(&path).unwrap_or_default();
                    // The body is quoted-printable, as a mail client would decode it.
                    let decoded =
                        quoted_printable::decode(&raw, quoted_printable::ParseMode::Robust).unwrap_or(raw);
                    let text = String::from_utf8_lossy(&decoded).to_string();
                    if text.contains(needle) && text.contains(&format!("To: {to}")) {
                        return text;
                    }
                }
            }
            assert!(std::time::Instant::now() < deadline, "no mail {needle:?} to {to}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

