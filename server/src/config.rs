//! Configuration from the environment (`mailroom --help` lists it).

use std::{net::SocketAddr, path::PathBuf};

pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";
pub const DEFAULT_DATA_DIR: &str = "./data";

/// Where the site root is when `MAILROOM_SITE_ROOT` is not set: the workspace's `target/site`.
pub fn default_site_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/site"))
}

#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub site_root: PathBuf,
    /// How admins reach the server, for links in mails; `None`: http://LEPTOS_SITE_ADDR.
    pub public_url: Option<String>,
    /// MAILROOM_SECRET_KEY, if set (else the key file in the data dir).
    pub secret_key: Option<String>,
    pub outbox: OutboxConfig,
    pub api: crate::api::ApiSettings,
    /// After how long of failing deliveries every admin page says so
    /// (`MAILROOM_OUTBOX_ALARM_MINUTES`).
    pub failing_alarm_secs: u64,
    /// The language of mail whose recipient did not choose one (`MAILROOM_MAIL_LANGUAGE`:
    /// `en`, the default, or `zh-CN`).
    pub mail_language: app::templates::Lang,
    /// After SIGTERM or SIGINT, how long `/readyz` says 503 while the server still serves,
    /// before the listener closes (`MAILROOM_SHUTDOWN_DELAY_SECS`).
    pub shutdown_delay_secs: u64,
    /// The disk reserve and the bound on queued mail (`MAILROOM_DISK_RESERVE_MB`,
    /// `MAILROOM_OUTBOX_MAX_QUEUED_MB`).
    pub store: app::store::StoreOptions,
    /// `MAILROOM_DATABASE_URL`: PostgreSQL shared by several instances; `None`: sled in the
    /// data directory.
    pub database_url: Option<String>,
    /// `MAILROOM_DATABASE_POOL`: connections per instance at most.
    pub database_pool: usize,
    /// `MAILROOM_METRICS_LISTEN`: where `/metrics` is served; `None`: nowhere.
    pub metrics_addr: Option<SocketAddr>,
}

const MB: u64 = 1024 * 1024;

/// The outbox's settings (`MAILROOM_OUTBOX_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxConfig {
    pub concurrency: usize,
    /// On SIGTERM, how long sends under way may take.
    pub stop_grace_secs: u64,
    /// The wait after a message's first temporary failure; it doubles up to `retry_max_secs`.
    pub retry_first_secs: u64,
    pub retry_max_secs: u64,
    pub give_up_hours: u64,
    pub keep_bodies_days: u64,
    pub keep_days: u64,
    /// How long a claim holds its messages unless renewed; after it, another instance takes
    /// them over (a worker that died).
    pub lease_secs: u64,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            concurrency: 4,
            stop_grace_secs: 8,
            retry_first_secs: 60,
            retry_max_secs: 60 * 60,
            give_up_hours: 24,
            keep_bodies_days: 7,
            keep_days: 90,
            lease_secs: 60,
        }
    }
}

impl OutboxConfig {
    /// The worker's configuration.
    pub fn worker(&self) -> app::delivery::WorkerConfig {
        let defaults = app::delivery::WorkerConfig::default();
        app::delivery::WorkerConfig {
            concurrency: self.concurrency,
            stop_grace: std::time::Duration::from_secs(self.stop_grace_secs),
            lease: std::time::Duration::from_secs(self.lease_secs),
            schedule: app::delivery::policy::RetrySchedule {
                first_secs: self.retry_first_secs,
                max_secs: self.retry_max_secs,
                give_up_secs: self.give_up_hours * 60 * 60,
            },
            ..defaults
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name}={value:?} is not an address and port like 127.0.0.1:3000")]
    Addr { name: &'static str, value: String },
    #[error("MAILROOM_PUBLIC_URL={value:?} must start with http:// or https://")]
    PublicUrl { value: String },
    #[error("set {name} or {name}_FILE, not both")]
    Both { name: &'static str },
    #[error("{name}_FILE={path:?} cannot be read: {error}")]
    SecretFile { name: &'static str, path: String, error: String },
    /// A value refused for the reason given (which names the variable).
    #[error("{0}")]
    Invalid(String),
    #[error("{name}={value:?} must be a whole number from {min} to {max}")]
    Number {
        name: &'static str,
        value: String,
        min: u64,
        max: u64,
    },
}

/// A whole number from the variable `name`, within `min..=max`, or `default` when unset.
pub(crate) fn number(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    match var(name) {
        None => Ok(default),
        Some(value) => value
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or(ConfigError::Number { name, value, min, max }),
    }
}

/// A secret from the variable `name`, or from the file `name_FILE` names (Docker's and
/// Kubernetes' way to pass secrets; one trailing line break dropped). Empty counts as unset.
pub(crate) fn secret(var: &impl Fn(&str) -> Option<String>, name: &'static str) -> Result<Option<String>, ConfigError> {
    let file_var = format!("{name}_FILE");
    let value = match (var(name), var(&file_var)) {
        (Some(_), Some(_)) => return Err(ConfigError::Both { name }),
        (Some(v), None) => v,
        (None, Some(path)) => std::fs::read_to_string(&path)
            .map_err(|e| ConfigError::SecretFile { name, path, error: e.to_string() })?
            .trim_end_matches(['\r', '\n'])
            .to_string(),
        (None, None) => return Ok(None),
    };
    Ok(Some(value).filter(|v| !v.is_empty()))
}

impl Config {
    /// Reads the variables through `var` (the process environment, or a test's map).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let addr_text = var("LEPTOS_SITE_ADDR").unwrap_or_else(|| DEFAULT_ADDR.to_string());
        let addr = addr_text.parse().map_err(|_| ConfigError::Addr {
            name: "LEPTOS_SITE_ADDR",
            value: addr_text.clone(),
        })?;
        let metrics_addr = match var("MAILROOM_METRICS_LISTEN").filter(|v| !v.trim().is_empty()) {
            None => None,
            Some(value) => Some(value.trim().parse().map_err(|_| ConfigError::Addr {
                name: "MAILROOM_METRICS_LISTEN",
                value,
            })?),
        };
        Ok(Self {
            addr,
            metrics_addr,
            data_dir: var("MAILROOM_DATA_DIR").map_or_else(|| DEFAULT_DATA_DIR.into(), PathBuf::from),
            site_root: var("MAILROOM_SITE_ROOT").map_or_else(default_site_root, PathBuf::from),
            public_url: match var("MAILROOM_PUBLIC_URL") {
                Some(u) if u.starts_with("http://") || u.starts_with("https://") => {
                    Some(u.trim_end_matches('/').to_string())
                }
                Some(value) => return Err(ConfigError::PublicUrl { value }),
                None => None,
            },
            secret_key: var("MAILROOM_SECRET_KEY"),
            database_url: var("MAILROOM_DATABASE_URL"),
            database_pool: number(&var, "MAILROOM_DATABASE_POOL", 16, 2, 1000)? as usize,
            api: {
                let d = crate::api::ApiSettings::default();
                crate::api::ApiSettings {
                    requests_per_minute: number(&var, "MAILROOM_API_REQUESTS_PER_MINUTE", d.requests_per_minute.into(), 1, 1_000_000)?
                        as u32,
                    alert_repeat_secs: number(&var, "MAILROOM_ALERT_REPEAT_MINUTES", d.alert_repeat_secs / 60, 1, 7 * 24 * 60)? * 60,
                    grafana_secret: secret(&var, "MAILROOM_GRAFANA_WEBHOOK_SECRET")?
                        .map(|s| crate::api::webhooks::grafana::Secret(s.into_bytes())),
                }
            },
            failing_alarm_secs: number(&var, "MAILROOM_OUTBOX_ALARM_MINUTES", app::api::server::FAILING_ALARM_SECS / 60, 1, 24 * 60)? * 60,
            shutdown_delay_secs: number(&var, "MAILROOM_SHUTDOWN_DELAY_SECS", 0, 0, 300)?,
            mail_language: match var("MAILROOM_MAIL_LANGUAGE").filter(|v| !v.trim().is_empty()) {
                None => app::templates::Lang::En,
                Some(value) => app::templates::Lang::from_tag(&value).ok_or_else(|| {
                    ConfigError::Invalid(format!(
                        "MAILROOM_MAIL_LANGUAGE={value:?}: Mailroom writes mail in English (en) or Simplified Chinese (zh-CN); set one of those"
                    ))
                })?,
            },
            store: app::store::StoreOptions {
                reserve: match var("MAILROOM_DISK_RESERVE_MB") {
                    None => app::store::Reserve::Default,
                    Some(_) => app::store::Reserve::Bytes(number(&var, "MAILROOM_DISK_RESERVE_MB", 0, 0, 1 << 20)? * MB),
                },
                max_queued_bytes: number(
                    &var,
                    "MAILROOM_OUTBOX_MAX_QUEUED_MB",
                    app::store::DEFAULT_MAX_QUEUED_BYTES / MB,
                    1,
                    1 << 20,
                )? * MB,
            },
            outbox: {
                let d = OutboxConfig::default();
                let number = |name: &'static str, default: u64, min: u64, max: u64| number(&var, name, default, min, max);
                let keep_bodies_days =
                    number("MAILROOM_OUTBOX_KEEP_BODIES_DAYS", d.keep_bodies_days, 1, 3650)?;
                OutboxConfig {
                    concurrency: number("MAILROOM_OUTBOX_CONCURRENCY", d.concurrency as u64, 1, 64)? as usize,
                    give_up_hours: number("MAILROOM_OUTBOX_GIVE_UP_HOURS", d.give_up_hours, 1, 24 * 30)?,
                    stop_grace_secs: number("MAILROOM_OUTBOX_STOP_GRACE_SECS", d.stop_grace_secs, 0, 60)?,
                    lease_secs: number("MAILROOM_OUTBOX_LEASE_SECS", d.lease_secs, 3, 3600)?,
                    retry_first_secs: number(
                        "MAILROOM_OUTBOX_RETRY_FIRST_SECS",
                        d.retry_first_secs,
                        1,
                        3600,
                    )?,
                    retry_max_secs: number("MAILROOM_OUTBOX_RETRY_MAX_SECS", d.retry_max_secs, 1, 24 * 3600)?,
                    keep_bodies_days,
                    keep_days: number(
                        "MAILROOM_OUTBOX_KEEP_DAYS",
                        d.keep_days.max(keep_bodies_days),
                        keep_bodies_days,
                        3650,
                    )?,
                }
            },
        })
    }

    /// The process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|k| std::env::var(k).ok())
    }

    /// The public URL, given the address actually bound.
    pub fn public_url_for(&self, bound: SocketAddr) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{bound}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_errors() {
        let c = Config::from_vars(|_| None).unwrap();
        assert_eq!(c.addr.to_string(), DEFAULT_ADDR);
        assert_eq!(c.public_url_for(c.addr), "http://127.0.0.1:3000");
        let bad = Config::from_vars(|k| (k == "LEPTOS_SITE_ADDR").then(|| "nope".to_string())).unwrap_err();
        assert!(bad.to_string().contains("127.0.0.1:3000"), "{bad}");
        assert_eq!(c.mail_language, app::templates::Lang::En);
        let zh = Config::from_vars(|k| (k == "MAILROOM_MAIL_LANGUAGE").then(|| "zh-CN".to_string())).unwrap();
        assert_eq!(zh.mail_language, app::templates::Lang::ZhCn);
        let fr = Config::from_vars(|k| (k == "MAILROOM_MAIL_LANGUAGE").then(|| "fr".to_string())).unwrap_err();
        assert!(fr.to_string().contains("MAILROOM_MAIL_LANGUAGE=\"fr\"") && fr.to_string().contains("zh-CN"), "{fr}");
        let url =
            Config::from_vars(|k| (k == "MAILROOM_PUBLIC_URL").then(|| "ftp://x".to_string())).unwrap_err();
        assert!(matches!(url, ConfigError::PublicUrl { .. }));
        assert_eq!(c.outbox, OutboxConfig::default());
        let vars = |k: &str| match k {
            "MAILROOM_OUTBOX_CONCURRENCY" => Some("8".to_string()),
            "MAILROOM_OUTBOX_KEEP_BODIES_DAYS" => Some("30".to_string()),
            _ => None,
        };
        let c = Config::from_vars(vars).unwrap();
        assert_eq!(
            (
                c.outbox.concurrency,
                c.outbox.keep_bodies_days,
                c.outbox.keep_days
            ),
            (8, 30, 90)
        );
        let zero =
            Config::from_vars(|k| (k == "MAILROOM_OUTBOX_CONCURRENCY").then(|| "0".to_string())).unwrap_err();
        assert!(zero.to_string().contains("from 1 to 64"), "{zero}");
        let shorter = Config::from_vars(|k| match k {
            "MAILROOM_OUTBOX_KEEP_BODIES_DAYS" => Some("30".to_string()),
            "MAILROOM_OUTBOX_KEEP_DAYS" => Some("10".to_string()),
            _ => None,
        })
        .unwrap_err();
        assert!(
            shorter.to_string().contains("MAILROOM_OUTBOX_KEEP_DAYS"),
            "records outlive bodies: {shorter}"
        );
    }
}
