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
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("LEPTOS_SITE_ADDR={value:?} is not an address and port like 127.0.0.1:3000")]
    Addr { value: String },
    #[error("MAILROOM_PUBLIC_URL={value:?} must start with http:// or https://")]
    PublicUrl { value: String },
}

impl Config {
    /// Reads the variables through `var` (the process environment, or a test's map).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let addr_text = var("LEPTOS_SITE_ADDR").unwrap_or_else(|| DEFAULT_ADDR.to_string());
        let addr = addr_text.parse().map_err(|_| ConfigError::Addr {
            value: addr_text.clone(),
        })?;
        Ok(Self {
            addr,
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
        let url =
            Config::from_vars(|k| (k == "MAILROOM_PUBLIC_URL").then(|| "ftp://x".to_string())).unwrap_err();
        assert!(matches!(url, ConfigError::PublicUrl { .. }));
    }
}
