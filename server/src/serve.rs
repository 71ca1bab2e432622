//! Serving HTTP/1.1 with limits that hold against slow and idle clients: a deadline for each
//! request's headers (which also closes idle keep-alive connections, as hyper reads the next
//! head while idle), a cap on open connections kept below what the process may open, and a
//! graceful shutdown that ends within a bounded time even when clients stall.
//!
//! At the cap, a new connection is not left waiting behind idle ones: the oldest connection
//! with no request in progress (one that never sent a complete request first, then an idle
//! keep-alive one) is closed to make room, so a client that sends a request is served while
//! others hold sockets open doing nothing.

use axum::{body::Body, extract::ConnectInfo, Router};
use hyper::{body::Incoming, server::conn::http1, service::service_fn, Request};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
};
use std::{
    collections::BTreeMap,
    future::Future,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};
use tokio::{
    net::TcpListener,
    sync::{Notify, Semaphore},
};
use tower::ServiceExt;

/// File descriptors kept for everything but HTTP connections: the store's files, the outbox's
/// SMTP connections, OAuth2 and database connections, logs, and a future SMTP listener.
pub const RESERVED_FDS: u64 = 128;
/// The most connections at once, whatever the process may open.
pub const MAX_CONNECTIONS: usize = 1024;

/// Raises the soft limit on open files to the hard one (the soft one is often 1,024 while the
/// hard one is far higher) and returns the soft limit now in force.
pub fn raise_open_files_limit() -> u64 {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        limit.current = limit.maximum;
        if let Err(e) = setrlimit(Resource::Nofile, limit.clone()) {
            tracing::warn!(error = %e, "cannot raise the open-files limit");
        }
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// The connection cap for a process that may open `open_files` files: room kept for
/// [`RESERVED_FDS`], at least 16, at most [`MAX_CONNECTIONS`].
pub fn connection_cap(open_files: u64) -> usize {
    open_files.saturating_sub(RESERVED_FDS).clamp(16, MAX_CONNECTIONS as u64) as usize
}

#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// A request's headers must arrive within this; an idle keep-alive connection is closed
    /// after it.
    pub header_read_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
    /// How long a shutdown waits for open requests before closing their connections.
    pub shutdown_grace: Duration,
    /// Largest request head (request line and headers).
    pub max_head_bytes: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_connections: MAX_CONNECTIONS,
            shutdown_grace: Duration::from_secs(10),
            max_head_bytes: 64 * 1024,
        }
    }
}

/// One open connection, as the cap sees it.
#[derive(Default)]
struct Connection {
    /// Requests being answered now.
    in_request: AtomicUsize,
    /// Whether it ever sent a complete request.
    served: AtomicBool,
    /// Told to close when the cap needs its slot.
    close: Notify,
}

/// The open connections by the order they came in.
#[derive(Default)]
struct Connections {
    open: Mutex<BTreeMap<u64, Arc<Connection>>>,
}

impl Connections {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<Connection>>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Closes the oldest connection with no request in progress, preferring one that never sent
    /// a complete request. False when every connection is answering a request.
    fn evict_one(&self) -> bool {
        let open = self.lock();
        let idle = |never_served: bool| {
            open.values().find(|c| {
                c.in_request.load(Ordering::Acquire) == 0 && c.served.load(Ordering::Acquire) != never_served
            })
        };
        match idle(true).or_else(|| idle(false)) {
            Some(c) => {
                c.close.notify_one();
                true
            }
            None => false,
        }
    }
}

/// Counts a request in progress on its connection while it lives.
struct InRequest(Arc<Connection>);

impl InRequest {
    fn new(c: &Arc<Connection>) -> Self {
        c.served.store(true, Ordering::Release);
        c.in_request.fetch_add(1, Ordering::AcqRel);
        Self(c.clone())
    }
}

impl Drop for InRequest {
    fn drop(&mut self) {
        self.0.in_request.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then finishes open requests for at
/// most `limits.shutdown_grace`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let connections = Arc::new(Connections::default());
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true)
        .max_buf_size(limits.max_head_bytes.max(8192));
    tokio::pin!(shutdown);
    let mut next_id = 0u64;
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: the error is the connection's, not
                    // the listener's; wait a moment instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // At the cap: make room by closing an idle connection, or wait for one to end.
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                connections.evict_one();
                tokio::select! {
                    slot = slots.clone().acquire_owned() => match slot {
                        Ok(slot) => slot,
                        Err(_) => break,
                    },
                    () = &mut shutdown => break,
                }
            }
        };
        let _ = stream.set_nodelay(true);
        next_id += 1;
        let id = next_id;
        let connection = Arc::new(Connection::default());
        connections.lock().insert(id, connection.clone());
        let app = app.clone();
        let counted = connection.clone();
        let service = service_fn(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let in_request = InRequest::new(&counted);
            let answer = app.clone().oneshot(req.map(Body::new));
            async move {
                let res = answer.await;
                drop(in_request);
                res
            }
        });
        let serving = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        let connections = connections.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = serving => {}
                () = connection.close.notified() => {}
            }
            connections.lock().remove(&id);
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_secs = limits.shutdown_grace.as_secs(),
            "open requests did not finish in time; their connections are closed"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_keeps_room_for_other_files() {
        assert_eq!(connection_cap(256), 128);
        assert_eq!(connection_cap(1024), 896);
        assert_eq!(connection_cap(1 << 20), MAX_CONNECTIONS);
        assert_eq!(connection_cap(100), 16);
    }

    #[test]
    fn eviction_takes_the_oldest_that_never_sent_a_request_then_the_oldest_idle() {
        let connections = Connections::default();
        let add = |id: u64| {
            let c = Arc::new(Connection::default());
            connections.lock().insert(id, c.clone());
            c
        };
        let (busy, kept_alive, silent_old, silent_new) = (add(1), add(2), add(3), add(4));
        let _answering = InRequest::new(&busy);
        drop(InRequest::new(&kept_alive));
        let told = |c: &Arc<Connection>| {
            let notified = c.close.notified();
            futures_now(notified)
        };
        assert!(connections.evict_one());
        assert!(told(&silent_old) && !told(&silent_new) && !told(&kept_alive));
        connections.lock().remove(&3);
        assert!(connections.evict_one());
        assert!(told(&silent_new));
        connections.lock().remove(&4);
        assert!(connections.evict_one());
        assert!(told(&kept_alive));
        connections.lock().remove(&2);
        assert!(!connections.evict_one(), "the connection answering a request stays");
        assert!(!told(&busy));
    }

    /// Whether a `Notify` had a permit stored: polls its future once.
    fn futures_now(notified: tokio::sync::futures::Notified<'_>) -> bool {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut notified = std::pin::pin!(notified);
        notified.as_mut().poll(&mut cx).is_ready()
    }
}
