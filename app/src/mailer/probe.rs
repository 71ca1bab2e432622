//! Telling a plain connection to an implicit-TLS port apart from a slow server: a stream that
//! notes the first byte, and a TLS probe started when no greeting comes.

use super::classify::find_rustls_error;
use lettre::transport::smtp::{
    client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters},
    extension::ClientId,
};
use std::{
    net::SocketAddr,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    task::{Context, Poll},
    time::Duration,
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
};

/// After this long without a greeting on a plain connection, probe whether the port speaks TLS.
const TLS_PROBE_AFTER: Duration = Duration::from_millis(700);
const TLS_PROBE_TIMEOUT: Duration = Duration::from_millis(1000);

/// Resolves only if `addr` turns out to speak TLS while the plain connection got no greeting.
pub(super) async fn tls_probe(addr: SocketAddr, host: &str, greeted: Arc<AtomicBool>) {
    tokio::time::sleep(TLS_PROBE_AFTER).await;
    if greeted.load(Ordering::Relaxed) {
        return std::future::pending().await;
    }
    let params = TlsParameters::builder(host.to_string())
        .dangerous_accept_invalid_certs(true)
        .dangerous_accept_invalid_hostnames(true)
        .build_rustls();
    let speaks_tls = match params {
        Ok(params) => {
            let client_id = ClientId::default();
            let attempt = AsyncSmtpConnection::connect_tokio1(addr, None, &client_id, Some(params), None);
            match tokio::time::timeout(TLS_PROBE_TIMEOUT, attempt).await {
                Ok(Ok(mut conn)) => {
                    let _ = conn.quit().await;
                    true
                }
                // An SMTP answer of any kind means the TLS layer worked.
                Ok(Err(e)) => find_rustls_error(&e).is_none() && e.status().is_some(),
                Err(_) => false,
            }
        }
        Err(_) => false,
    };
    if !speaks_tls {
        std::future::pending::<()>().await;
    }
}

/// A TCP stream that notes when the first byte arrives (a greeting on a plain connection).
#[derive(Debug)]
pub(super) struct Watched {
    pub(super) inner: TcpStream,
    pub(super) got_bytes: Arc<AtomicBool>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.got_bytes.store(true, Ordering::Relaxed);
        }
        res
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for Watched {
    fn peer_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.peer_addr()
    }
}
