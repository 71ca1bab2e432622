//! Telling a plain connection to an implicit-TLS port apart from a slow server: when a plain
//! connection gets no greeting, a second connection tries a TLS handshake.

use super::stream::{Guarded, ReplyLimit};
use lettre::transport::smtp::client::TlsParameters;
use std::{net::SocketAddr, time::Duration};
use tokio::net::TcpStream;

/// After this long without a greeting on a plain connection, probe whether the port speaks TLS.
const TLS_PROBE_AFTER: Duration = Duration::from_millis(700);
const TLS_PROBE_TIMEOUT: Duration = Duration::from_millis(1000);

/// Resolves only if `addr` turns out to speak TLS while the plain connection (whose `limit`
/// notes the greeting) got no greeting.
pub(super) async fn tls_probe(addr: SocketAddr, host: &str, limit: ReplyLimit) {
    tokio::time::sleep(TLS_PROBE_AFTER).await;
    if limit.greeted() || !speaks_tls(addr, host).await {
        std::future::pending::<()>().await;
    }
}

/// Whether a TLS handshake with `addr` succeeds (any certificate: only the protocol matters).
async fn speaks_tls(addr: SocketAddr, host: &str) -> bool {
    let Ok(params) = TlsParameters::builder(host.to_string())
        .dangerous_accept_invalid_certs(true)
        .dangerous_accept_invalid_hostnames(true)
        .build_rustls()
    else {
        return false;
    };
    let handshake = async {
        let tcp = TcpStream::connect(addr).await.ok()?;
        Guarded::new(tcp, ReplyLimit::default())
            .into_tls(params)
            .await
            .ok()
    };
    matches!(
        tokio::time::timeout(TLS_PROBE_TIMEOUT, handshake).await,
        Ok(Some(_))
    )
}
