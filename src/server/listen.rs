//! Accepting connections: hyper directly rather than `axum::serve`, so that
//! every connection is bounded in time and in number:
//! - HTTP/1 only, so hyper reads the request head itself from the first
//!   moment: a client that sends nothing, or too slowly, or idles between
//!   keep-alive requests, is cut off after the client timeout;
//! - request heads are limited to [`MAX_HEAD`] bytes;
//! - at most `max_connections` are open at once (kept below the descriptor
//!   limit); further clients wait in the kernel's backlog;
//! - accept errors back off instead of spinning;
//! - with TLS, the handshake too must end within the client timeout (a
//!   plain-HTTP client fails at once: its request is no handshake).
//!
//! Shutdown stops accepting, lets requests in flight finish, and gives up on
//! stragglers after a bound.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1::Builder;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use openssl::ssl::{Ssl, SslAcceptor};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_openssl::SslStream;

/// Longest wait for requests in flight at shutdown.
const DRAIN: Duration = Duration::from_secs(60);
/// Largest request head (request line and headers) read, in bytes.
pub(super) const MAX_HEAD: usize = 16 * 1024;
/// Longest pause after failed accepts.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Serves `app` on `listener` until `shutdown` completes.
pub(super) async fn serve(
    listener: TcpListener,
    app: Router,
    client_timeout: Duration,
    max_connections: usize,
    tls: Option<SslAcceptor>,
    shutdown: impl Future<Output = ()>,
) {
    let tls = tls.map(Arc::new);
    let graceful = GracefulShutdown::new();
    // HTTP/1 only (hyper's own connection, no HTTP/2 compiled in), so that
    // hyper times the request head from accept and between requests.
    let mut builder = Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(client_timeout)
        .max_buf_size(MAX_HEAD);
    let slots = Arc::new(Semaphore::new(max_connections.max(1)));
    let mut backoff = Duration::from_millis(10);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    backoff = Duration::from_millis(10);
                    stream
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off, go on.
                    eprintln!("atlas-ca: accept failed: {e}; retrying in {backoff:?}");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(app.clone());
        match &tls {
            None => {
                let conn = builder.serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                    drop(slot);
                });
            }
            Some(acceptor) => {
                // The handshake runs in the connection's own task, so a
                // slow client never holds up accepting others.
                let (acceptor, builder) = (Arc::clone(acceptor), builder.clone());
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    if let Some(stream) = handshake(&acceptor, stream, client_timeout).await {
                        let conn = builder.serve_connection(TokioIo::new(stream), service);
                        let _ = watcher.watch(conn).await;
                    }
                    drop(slot);
                });
            }
        }
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        eprintln!("atlas-ca: gave up waiting for open connections");
    }
}

/// The TLS handshake on `stream`, within `timeout`; `None` (the connection
/// dropped) when it fails or takes too long.
async fn handshake(
    acceptor: &SslAcceptor,
    stream: TcpStream,
    timeout: Duration,
) -> Option<SslStream<TcpStream>> {
    let ssl = Ssl::new(acceptor.context()).ok()?;
    let mut stream = SslStream::new(ssl, stream).ok()?;
    match tokio::time::timeout(timeout, Pin::new(&mut stream).accept()).await {
        Ok(Ok(())) => Some(stream),
        _ => None,
    }
}

/// Raises the soft limit on open descriptors to the hard limit and returns
/// how many connections to allow: the limit less a margin for the ledger,
/// the registry, CA files and the runtime, at most 8192.
pub(super) fn connection_cap() -> usize {
    const MARGIN: u64 = 64;
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    let soft = unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            1024
        } else {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit.rlim_max
            } else {
                limit.rlim_cur
            }
        }
    };
    let cap = soft.saturating_sub(MARGIN).clamp(16, 8192);
    // Lossless: at most 8192.
    cap as usize
}
