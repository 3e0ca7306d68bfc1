//! Accepting connections: hyper directly rather than `axum::serve`, for one
//! reason: a client that sends its request headers too slowly (or never
//! finishes them) is cut off after the client timeout, so idle half-open
//! connections cannot pile up. Shutdown stops accepting, lets requests in
//! flight finish, and gives up on stragglers after a bound.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

/// Longest wait for requests in flight at shutdown.
const DRAIN: Duration = Duration::from_secs(60);

/// Serves `app` on `listener` until `shutdown` completes.
pub(super) async fn serve(
    listener: TcpListener,
    app: Router,
    client_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(client_timeout);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of file descriptors and the like: back off, go on.
                        eprintln!("atlas-ca: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let service = TowerToHyperService::new(app.clone());
                let conn = builder
                    .serve_connection_with_upgrades(TokioIo::new(stream), service)
                    .into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            () = &mut shutdown => break,
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
