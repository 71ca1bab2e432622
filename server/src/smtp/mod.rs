//! SMTP submission for programs that only speak SMTP (cron and `sendmail`, backup tools,
//! printers, old apps): off unless `MAILROOM_SMTP_LISTEN` names addresses. Each accepted
//! message goes through the outbox with the saved settings, one per recipient, durable before
//! its `250`. Sign-in is an API token as the password (AUTH PLAIN or LOGIN), offered only under
//! TLS unless the listener is on loopback; Mailroom is never an open relay. `config` is the
//! environment; `session` the conversation (Stalwart's `smtp-proto` parses it); `message` the
//! header changes the envelope needs; here, the listeners and their bounds.

pub mod message;
mod session;

use crate::config::{number, ConfigError};
use app::api::server::ServerContext;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

pub use message::FromRule;

/// The listener's settings (`MAILROOM_SMTP_*` of the listener, `mailroom --help`).
#[derive(Clone)]
pub struct SmtpConfig {
    /// Plain listeners (STARTTLS offered when there is a certificate).
    pub listen: Vec<SocketAddr>,
    /// Implicit TLS listeners (`MAILROOM_SMTP_LISTEN_TLS`), with the certificate.
    pub listen_tls: Vec<SocketAddr>,
    pub tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    /// The largest message (SIZE), in bytes.
    pub max_message_bytes: usize,
    pub max_recipients: usize,
    pub max_sessions: usize,
    pub max_sessions_per_client: usize,
    /// Commands in one session at most (a message is about four).
    pub max_commands: usize,
    pub command_timeout: Duration,
    pub data_timeout: Duration,
    pub from_rule: FromRule,
    /// Clients that may submit without signing in (printers and programs that cannot), and
    /// the token their mail is attributed to (`MAILROOM_SMTP_TRUSTED_CLIENTS`, `_TOKEN`).
    pub trusted: Option<Trusted>,
}

/// Addresses that may submit without sign-in, as the token named here (it must exist and be
/// for SMTP; revoking it stops them).
#[derive(Clone, Debug)]
pub struct Trusted {
    pub networks: Vec<ipnet::IpNet>,
    pub token: String,
}

impl Trusted {
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.networks.iter().any(|n| n.contains(&ip))
    }
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("listen", &self.listen)
            .field("listen_tls", &self.listen_tls)
            .field("tls", &self.tls.is_some())
            .field("max_message_bytes", &self.max_message_bytes)
            .finish_non_exhaustive()
    }
}

/// The HTTP API's body limit, as the default largest message.
pub const DEFAULT_MAX_MESSAGE_BYTES: u64 = 10 * 1024 * 1024;

fn addresses(var: &impl Fn(&str) -> Option<String>, name: &'static str) -> Result<Vec<SocketAddr>, ConfigError> {
    let Some(value) = var(name) else { return Ok(Vec::new()) };
    value
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| a.parse().map_err(|_| ConfigError::Addr { name, value: a.to_string() }))
        .collect()
}

impl SmtpConfig {
    /// `None` when no listener is asked for.
    pub fn from_vars(var: &impl Fn(&str) -> Option<String>) -> Result<Option<Self>, ConfigError> {
        let listen = addresses(var, "MAILROOM_SMTP_LISTEN")?;
        let listen_tls = addresses(var, "MAILROOM_SMTP_LISTEN_TLS")?;
        if listen.is_empty() && listen_tls.is_empty() {
            // A listener's setting without a listener is a mistake worth saying.
            const OTHERS: [&str; 12] = [
                "MAILROOM_SMTP_TLS_CERT",
                "MAILROOM_SMTP_TLS_KEY",
                "MAILROOM_SMTP_MAX_MESSAGE_BYTES",
                "MAILROOM_SMTP_MAX_RECIPIENTS",
                "MAILROOM_SMTP_MAX_SESSIONS",
                "MAILROOM_SMTP_MAX_SESSIONS_PER_CLIENT",
                "MAILROOM_SMTP_MAX_COMMANDS",
                "MAILROOM_SMTP_COMMAND_TIMEOUT_SECS",
                "MAILROOM_SMTP_DATA_TIMEOUT_SECS",
                "MAILROOM_SMTP_FROM_RULE",
                "MAILROOM_SMTP_TRUSTED_CLIENTS",
                "MAILROOM_SMTP_TRUSTED_TOKEN",
            ];
            if let Some(name) = OTHERS.into_iter().find(|n| var(n).is_some()) {
                return Err(ConfigError::Invalid(format!(
                    "{name} is set, but the SMTP listener is off: set MAILROOM_SMTP_LISTEN (or _LISTEN_TLS), or unset {name}"
                )));
            }
            return Ok(None);
        }
        let tls = match (var("MAILROOM_SMTP_TLS_CERT"), var("MAILROOM_SMTP_TLS_KEY")) {
            (Some(cert), Some(key)) => Some(Arc::new(tls_config(&cert, &key)?)),
            (None, None) if listen_tls.is_empty() => None,
            _ => return Err(ConfigError::Invalid(
                "MAILROOM_SMTP_TLS_CERT and MAILROOM_SMTP_TLS_KEY go together (and MAILROOM_SMTP_LISTEN_TLS needs both)".into(),
            )),
        };
        let from_rule = match var("MAILROOM_SMTP_FROM_RULE") {
            None => FromRule::Rewrite,
            Some(v) => FromRule::parse(&v).ok_or_else(|| {
                ConfigError::Invalid(format!("MAILROOM_SMTP_FROM_RULE={v:?} is not rewrite or refuse"))
            })?,
        };
        let secs = |name, default, max| number(var, name, default, 1, max).map(Duration::from_secs);
        let trusted = match (var("MAILROOM_SMTP_TRUSTED_CLIENTS"), var("MAILROOM_SMTP_TRUSTED_TOKEN")) {
            (None, None) => None,
            (Some(list), Some(token)) => Some(Trusted {
                networks: list
                    .split(',')
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(|n| {
                        n.parse::<ipnet::IpNet>()
                            .or_else(|_| n.parse::<IpAddr>().map(ipnet::IpNet::from))
                            .map_err(|_| ConfigError::Invalid(format!("MAILROOM_SMTP_TRUSTED_CLIENTS: {n:?} is not an address or a network like 10.0.5.0/24")))
                    })
                    .collect::<Result<_, _>>()?,
                token: token.trim().to_string(),
            }),
            _ => {
                return Err(ConfigError::Invalid(
                    "MAILROOM_SMTP_TRUSTED_CLIENTS and MAILROOM_SMTP_TRUSTED_TOKEN go together: the token names whose mail it is".into(),
                ))
            }
        };
        Ok(Some(Self {
            listen,
            listen_tls,
            tls,
            max_message_bytes: number(var, "MAILROOM_SMTP_MAX_MESSAGE_BYTES", DEFAULT_MAX_MESSAGE_BYTES, 1024, 100 * 1024 * 1024)? as usize,
            max_recipients: number(var, "MAILROOM_SMTP_MAX_RECIPIENTS", 100, 1, 1000)? as usize,
            max_sessions: number(var, "MAILROOM_SMTP_MAX_SESSIONS", 200, 1, 100_000)? as usize,
            max_sessions_per_client: number(var, "MAILROOM_SMTP_MAX_SESSIONS_PER_CLIENT", 20, 1, 100_000)? as usize,
            max_commands: number(var, "MAILROOM_SMTP_MAX_COMMANDS", 20_000, 10, 10_000_000)? as usize,
            // RFC 5321 4.5.3.2: five minutes for a command, three for each DATA block.
            command_timeout: secs("MAILROOM_SMTP_COMMAND_TIMEOUT_SECS", 300, 3600)?,
            data_timeout: secs("MAILROOM_SMTP_DATA_TIMEOUT_SECS", 180, 3600)?,
            from_rule,
            trusted,
        }))
    }
}

impl SmtpConfig {
    /// Each listener as a program would be set up for it: `host:port` (the public host where
    /// the listener takes every address) and its security, for Settings › API Tokens.
    pub fn shown(&self, public_host: &str) -> Vec<(String, String)> {
        let host = |a: &SocketAddr| if a.ip().is_unspecified() { public_host.to_string() } else { a.ip().to_string() };
        let plain = self.listen.iter().map(|a| {
            let security = if self.tls.is_some() {
                "STARTTLS (sign-in after it)"
            } else {
                "no TLS: sign-in only from the machine Mailroom runs on"
            };
            (format!("{}:{}", host(a), a.port()), security.to_string())
        });
        let implicit = self.listen_tls.iter().map(|a| (format!("{}:{}", host(a), a.port()), "SSL/TLS".to_string()));
        plain.chain(implicit).collect()
    }
}

/// The certificate chain and key from PEM files.
fn tls_config(cert: &str, key: &str) -> Result<tokio_rustls::rustls::ServerConfig, ConfigError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<_, _>>())
        .map_err(|e| ConfigError::Invalid(format!("MAILROOM_SMTP_TLS_CERT={cert:?}: {e}")))?;
    if chain.is_empty() {
        return Err(ConfigError::Invalid(format!("MAILROOM_SMTP_TLS_CERT={cert:?} holds no certificate")));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| ConfigError::Invalid(format!("MAILROOM_SMTP_TLS_KEY={key:?}: {e}")))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
        .map_err(|e| ConfigError::Invalid(format!("MAILROOM_SMTP_TLS_CERT and _KEY do not make a TLS configuration: {e}")))
}

/// Sessions open now, in all and per client address.
#[derive(Default)]
struct Counts {
    per_client: Mutex<HashMap<IpAddr, usize>>,
}

/// A session's place, given back when it ends.
struct Slot {
    counts: Arc<Counts>,
    client: IpAddr,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut map = self.counts.per_client.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.client);
            }
        }
    }
}

/// The running listeners: [`Listeners::stop`] ends them gracefully.
pub struct Listeners {
    /// Where each listener is bound (plain ones first), for a caller that asked for port 0.
    pub addrs: Vec<SocketAddr>,
    stop: watch::Sender<bool>,
    sessions: Arc<Semaphore>,
    max_sessions: usize,
    /// The accept loops, each owning its listening socket.
    accepting: Vec<tokio::task::JoinHandle<()>>,
}

/// How long a shutdown waits for sessions under way (each finishes its message or is told
/// 421 at its next command).
const STOP_GRACE: Duration = Duration::from_secs(15);

impl Listeners {
    /// Binds every address (an error names the one that failed) and serves them.
    pub async fn start(config: SmtpConfig, ctx: ServerContext, hostname: String) -> Result<Self, String> {
        let (stop, stopped) = watch::channel(false);
        let sessions = Arc::new(Semaphore::new(config.max_sessions));
        let counts = Arc::new(Counts::default());
        let shared = Arc::new(session::Shared { config: config.clone(), ctx, hostname, recent: Default::default() });
        let mut addrs = Vec::new();
        let mut accepting = Vec::new();
        let binds = config.listen.iter().map(|a| (*a, false)).chain(config.listen_tls.iter().map(|a| (*a, true)));
        for (addr, implicit_tls) in binds {
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|e| format!("cannot listen for SMTP on {addr} (MAILROOM_SMTP_LISTEN{}): {e}", if implicit_tls { "_TLS" } else { "" }))?;
            let local = listener.local_addr().map_err(|e| e.to_string())?;
            addrs.push(local);
            tracing::info!(
                "SMTP submission on {local} ({})",
                match (implicit_tls, config.tls.is_some()) {
                    (true, _) => "implicit TLS",
                    (false, true) => "STARTTLS",
                    (false, false) => "no TLS: sign-in only from this machine",
                }
            );
            let (shared, sessions, counts, stopped) = (shared.clone(), sessions.clone(), counts.clone(), stopped.clone());
            accepting.push(tokio::spawn(accept(listener, implicit_tls, shared, sessions, counts, stopped)));
        }
        Ok(Self { addrs, stop, sessions, max_sessions: config.max_sessions, accepting })
    }

    /// No new sessions; those under way finish their message (or get 421), within a grace.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        // Each loop ends at once and closes its socket: no connection is taken after this.
        for task in self.accepting {
            let _ = task.await;
        }
        let all = u32::try_from(self.max_sessions).unwrap_or(u32::MAX);
        let _ = tokio::time::timeout(STOP_GRACE, self.sessions.acquire_many(all)).await;
    }
}

async fn accept(
    listener: TcpListener,
    implicit_tls: bool,
    shared: Arc<session::Shared>,
    sessions: Arc<Semaphore>,
    counts: Arc<Counts>,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                // Out of file descriptors and the like: wait a little rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopped.changed() => return,
        };
        let _ = stream.set_nodelay(true);
        let client = peer.ip();
        let slot = match sessions.clone().try_acquire_owned() {
            Ok(permit) => {
                let mut map = counts.per_client.lock().unwrap_or_else(|p| p.into_inner());
                let n = map.entry(client).or_insert(0);
                if *n >= shared.config.max_sessions_per_client {
                    None
                } else {
                    *n += 1;
                    Some(Slot { counts: counts.clone(), client, _permit: permit })
                }
            }
            Err(_) => None,
        };
        let (shared, stopped) = (shared.clone(), stopped.clone());
        tokio::spawn(async move {
            let Some(slot) = slot else {
                session::refuse_busy(stream, implicit_tls, &shared).await;
                return;
            };
            session::run(stream, peer, implicit_tls, shared, stopped).await;
            drop(slot);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listener_setting_without_a_listener_is_refused_and_nothing_is_off() {
        assert!(SmtpConfig::from_vars(&|_| None).unwrap().is_none());
        let lone = SmtpConfig::from_vars(&|k| (k == "MAILROOM_SMTP_FROM_RULE").then(|| "refuse".to_string())).unwrap_err();
        assert!(lone.to_string().contains("MAILROOM_SMTP_FROM_RULE is set, but the SMTP listener is off"), "{lone}");
        let config = SmtpConfig::from_vars(&|k| match k {
            "MAILROOM_SMTP_LISTEN" => Some("127.0.0.1:2525, 0.0.0.0:587".into()),
            "MAILROOM_SMTP_TRUSTED_CLIENTS" => Some("10.0.5.0/24,192.0.2.7".into()),
            "MAILROOM_SMTP_TRUSTED_TOKEN" => Some("printers".into()),
            _ => None,
        })
        .unwrap()
        .unwrap();
        assert_eq!(config.listen.len(), 2);
        let trusted = config.trusted.as_ref().unwrap();
        assert!(trusted.contains("10.0.5.9".parse().unwrap()) && trusted.contains("192.0.2.7".parse().unwrap()));
        assert!(!trusted.contains("10.0.6.1".parse().unwrap()));
        assert_eq!(config.shown("mail.example.com")[1].0, "mail.example.com:587");
    }
}
