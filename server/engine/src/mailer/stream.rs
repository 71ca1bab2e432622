//! The connection to the mail server as Mailroom reads it. Every byte of every mail Mailroom
//! sends (tests, resets, alerts) passes through [`Guarded`], which bounds what one reply may
//! cost: at most [`MAX_REPLY_BYTES`] (plus TLS framing) between two of Mailroom's writes, so a
//! reply with no line end, or a flood of short lines, cannot grow memory or stretch the
//! conversation past its deadline. The transcript collector, which sees each reply as lettre
//! reads it, trips the same limit at [`MAX_REPLY_LINES`] lines; a tripped limit fails the next
//! read and the send is diagnosed `ReplyTooLong`.

use lettre::transport::smtp::client::{AsyncTokioStream, TlsParameters};
use std::{
    net::SocketAddr,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    task::{Context, Poll},
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
};
use tokio_util::compat::{Compat, FuturesAsyncReadCompatExt};

/// The most one reply may hold: far above any real server's (an EHLO answer is about 300 bytes).
pub const MAX_REPLY_BYTES: usize = 64 * 1024;
/// The most lines one reply may have.
pub const MAX_REPLY_LINES: usize = 512;
/// What one reply may take on the wire: TLS framing, and the server's handshake flight
/// (certificates) that answers Mailroom's first TLS write.
const MAX_WIRE_BYTES: usize = MAX_REPLY_BYTES + 16 * 1024;

/// Shared between a connection's stream and its transcript collector.
#[derive(Clone, Debug, Default)]
pub struct ReplyLimit {
    tripped: Arc<AtomicBool>,
    greeted: Arc<AtomicBool>,
}

impl ReplyLimit {
    /// A reply went over a limit: the connection's next read fails.
    pub fn trip(&self) {
        self.tripped.store(true, Ordering::Relaxed);
    }

    pub fn tripped(&self) -> bool {
        self.tripped.load(Ordering::Relaxed)
    }

    /// Whether the server has sent anything yet (a greeting on a plain connection).
    pub fn greeted(&self) -> bool {
        self.greeted.load(Ordering::Relaxed)
    }
}

fn too_long() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, "the server's reply is too long")
}

/// A TCP connection to the mail server with a bound on each reply.
#[derive(Debug)]
pub struct Guarded {
    inner: TcpStream,
    limit: ReplyLimit,
    /// Bytes read since Mailroom last wrote.
    since_write: usize,
}

impl Guarded {
    pub fn new(inner: TcpStream, limit: ReplyLimit) -> Self {
        Self {
            inner,
            limit,
            since_write: 0,
        }
    }

    /// This connection with TLS from its first byte (implicit TLS, or the probe for it).
    pub async fn into_tls(self, tls: TlsParameters) -> Result<Encrypted, lettre::transport::smtp::Error> {
        let peer = self.inner.peer_addr().ok();
        // lettre's own stream type does the handshake over this guarded stream; it is public
        // but deprecated ("not meant to be public") in lettre 0.11, and it is the only way to
        // keep our own stream under an implicit-TLS connection.
        #[allow(deprecated)]
        let mut stream =
            lettre::transport::smtp::client::AsyncNetworkStream::use_existing_tokio1(Box::new(self));
        #[allow(deprecated)]
        stream.upgrade_tls(tls).await?;
        Ok(Encrypted {
            inner: stream.compat(),
            peer,
        })
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.limit.tripped() {
            return Poll::Ready(Err(too_long()));
        }
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        let got = buf.filled().len() - before;
        if got > 0 {
            self.limit.greeted.store(true, Ordering::Relaxed);
            self.since_write += got;
            if self.since_write > MAX_WIRE_BYTES {
                self.limit.trip();
                return Poll::Ready(Err(too_long()));
            }
        }
        res
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(res, Poll::Ready(Ok(n)) if n > 0) {
            self.since_write = 0;
        }
        res
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for Guarded {
    fn peer_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.peer_addr()
    }
}

/// A [`Guarded`] connection inside TLS, handed to lettre as its transport.
#[allow(deprecated)]
#[derive(Debug)]
pub struct Encrypted {
    inner: Compat<lettre::transport::smtp::client::AsyncNetworkStream>,
    peer: Option<SocketAddr>,
}

impl AsyncRead for Encrypted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Encrypted {
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

impl AsyncTokioStream for Encrypted {
    fn peer_addr(&self) -> std::io::Result<SocketAddr> {
        self.peer
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotConnected))
    }
}
