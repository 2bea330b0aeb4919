//! Laituri's central server: device enrolment and sync (push/pull), the integration API for
//! merchants' systems, and the storage behind them.
//!
//! This file owns the server's edges: [`ServerConfig`], [`serve`] for the binary and
//! [`ServerHandle`] for tests and the terminal's demo (a server on its own thread with its own
//! tokio runtime). It must never hold business rules; those live in [`push`] (events) and
//! [`master`] (master data), behind the [`store::Store`] trait.
//!
//! Codemap:
//! - [`http`]: axum router, extractors, error answers, limits on what a client may hold
//!   ([`Limits`]). Every answer is protocol JSON.
//! - [`tls`]: HTTPS, the certificate and key ([`TlsFiles`]) read into each connection's handshake.
//! - [`push`]: the rules of applying a batch of events, backend-independent; one file per flow.
//! - [`tasks`]: the rules of tasks and leases; [`clock`]: the server's (injectable) clock.
//! - [`enrolment`]: the rules of enrolment codes, device tokens and who may enrol a device.
//! - [`store`]: the storage traits and their SQLite and PostgreSQL implementations.
//! - [`master`], [`gtin`], [`date`]: pure checks and normalisation.
//! - [`demo`]: the deterministic demo warehouse and the guide that goes with it.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::{Semaphore, oneshot, watch};
use tower::ServiceExt;

pub mod clock;
pub mod counts;
pub mod demo;
pub mod enrolment;
pub mod http;
pub mod keys;
pub mod master;
pub mod orders;
pub mod outbound;
pub mod planner;
pub mod push;
pub mod shipping;
pub mod store;
pub mod tasks;
pub mod tls;
pub mod webhooks;

pub use http::Limits;
pub use store::postgres::Postgres;
pub use store::sqlite::{Sqlite, SqliteStore};
pub use store::{DeviceSync, MasterData, Store, StoreError, Views};
pub use tls::TlsFiles;

/// How long a stopping server lets requests in flight finish before it drops them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// The most a connection buffers of a request head (and reads at once): hyper's default is about
/// 400 kB, which a client trickling a head could fill on each of its connections.
const READ_BUFFER: usize = 64 * 1024;

#[derive(Clone)]
pub struct ServerConfig {
    /// The SQLite database file; created (with its schema) when missing. Used unless
    /// `database_url` is set.
    pub db_path: PathBuf,
    /// A PostgreSQL database (`postgres://USER@HOST:PORT/DB`) instead of the SQLite file.
    pub database_url: Option<String>,
    /// Where to listen; port 0 picks a free port.
    pub bind: SocketAddr,
    /// Bearer key of the integration and admin API. The demo's well-known key
    /// ([`demo::ADMIN_KEY`]) is refused unless the server listens on loopback only.
    pub admin_key: String,
    pub warehouse_id: String,
    pub warehouse_name: String,
    /// The clock of lease expiry; tests pass [`clock::Clock::manual`] to move time by hand.
    pub clock: clock::Clock,
    /// Connections, request timeouts and enrolment attempts; the default is production's.
    pub limits: Limits,
    /// Serve HTTPS with this certificate and key; plain HTTP when `None`.
    pub tls: Option<TlsFiles>,
    /// When orders are reserved and released into pick tasks by themselves.
    pub planning: planner::Schedule,
    /// The carrier parcels are booked with, and the warehouse's address on their labels.
    pub shipping: shipping::Shipping,
    /// How webhooks are delivered to merchants.
    pub webhooks: webhooks::Settings,
}

impl ServerConfig {
    /// A local configuration for tests and the demo: loopback on a free port, admin key
    /// `demo-admin`, warehouse `WH-DEMO`.
    pub fn local(db_path: impl Into<PathBuf>) -> ServerConfig {
        ServerConfig {
            db_path: db_path.into(),
            database_url: None,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin_key: demo::ADMIN_KEY.to_string(),
            warehouse_id: demo::WAREHOUSE_ID.to_string(),
            warehouse_name: demo::WAREHOUSE_NAME.to_string(),
            clock: clock::Clock::system(),
            limits: Limits::default(),
            tls: None,
            // Tests decide when orders are planned (POST /api/v1/admin/release).
            planning: planner::Schedule {
                every: None,
                ..planner::Schedule::default()
            },
            shipping: shipping::Shipping::demo(),
            webhooks: webhooks::Settings::default(),
        }
    }

    /// The configured backend behind the async storage traits (creating and migrating the
    /// database as needed): PostgreSQL when `database_url` is set, else the SQLite file.
    pub async fn open_backend(&self) -> anyhow::Result<Arc<dyn Store>> {
        if self.warehouse_id.trim().is_empty() {
            anyhow::bail!("the warehouse id is empty: pass --warehouse-id");
        }
        if let Some(url) = &self.database_url {
            let store = Postgres::connect(url, &self.warehouse_id)
                .await
                .context("opening the PostgreSQL database")?
                .with_clock(self.clock.clone());
            return Ok(Arc::new(store));
        }
        let config = self.clone();
        let store = tokio::task::spawn_blocking(move || config.open_store())
            .await
            .context("opening the store")??;
        Ok(Arc::new(Sqlite::new(store)))
    }

    /// Refuses an admin key that leaves the warehouse open: an empty one, or the demo's
    /// well-known key on a server that other machines can reach (`listening` is not loopback).
    pub fn check_admin_key(&self, listening: SocketAddr) -> anyhow::Result<()> {
        let key = self.admin_key.trim();
        if key.is_empty() {
            anyhow::bail!(
                "the admin key is empty: pass --admin-key or set LAITURI_ADMIN_KEY, otherwise \
                 anyone could change the warehouse's master data"
            );
        }
        if key == demo::ADMIN_KEY && !listening.ip().to_canonical().is_loopback() {
            anyhow::bail!(
                "the admin key is the demo's well-known key {:?}, and the server would listen on \
                 {listening}, where other machines reach it: anyone could change the \
                 warehouse's master data and make enrolment codes. Pass a key of your own \
                 (--admin-key or LAITURI_ADMIN_KEY), or listen on loopback only (--bind \
                 127.0.0.1:PORT) to try the demo",
                demo::ADMIN_KEY
            );
        }
        Ok(())
    }

    /// Opens the configured SQLite database as its blocking store (tools: a new epoch after a
    /// restore, seeding a file).
    pub fn open_store(&self) -> anyhow::Result<SqliteStore> {
        if self.warehouse_id.trim().is_empty() {
            anyhow::bail!("the warehouse id is empty: pass --warehouse-id");
        }
        SqliteStore::open(&self.db_path, &self.warehouse_id)
            .map(|s| s.with_clock(self.clock.clone()))
            .with_context(|| format!("opening the database {}", self.db_path.display()))
    }
}

impl std::fmt::Debug for ServerConfig {
    /// Leaves the admin key out, so a logged configuration does not leak it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("db_path", &self.db_path)
            .field(
                "database_url",
                &self.database_url.as_deref().map(|_| "<set>"),
            )
            .field("bind", &self.bind)
            .field("admin_key", &"<redacted>")
            .field("warehouse_id", &self.warehouse_id)
            .field("warehouse_name", &self.warehouse_name)
            .field("clock", &self.clock)
            .field("limits", &self.limits)
            .field("tls", &self.tls)
            .field("planning", &self.planning)
            .field("webhooks", &self.webhooks)
            .finish()
    }
}

/// The state of the router; `config`'s admin key was checked ([`ServerConfig::check_admin_key`])
/// before the backend was opened.
fn app_state(config: &ServerConfig, store: Arc<dyn Store>) -> http::AppState {
    http::AppState::new(
        store,
        config.admin_key.clone(),
        config.warehouse_id.clone(),
        config.warehouse_name.clone(),
    )
    .with_planning(config.planning)
    .with_shipping(config.shipping.clone())
    .with_webhooks(config.webhooks.clone())
}

/// Serves until `shutdown` completes, then lets requests in flight finish (for a few seconds).
pub async fn serve(
    config: ServerConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    config.check_admin_key(listener.local_addr()?)?;
    let tls = config.tls.as_ref().map(TlsFiles::acceptor).transpose()?;
    let store = config.open_backend().await?;
    let state = app_state(&config, store);
    serve_state(
        state,
        &config.limits,
        tls,
        listener,
        worker(&config),
        shutdown,
    )
    .await
}

/// The webhook worker of a server of `config`.
fn worker(config: &ServerConfig) -> webhooks::Worker {
    webhooks::Worker {
        settings: config.webhooks.clone(),
        clock: config.clock.clone(),
    }
}

/// A task that ends when its handle is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Serves HTTP/1 connections with hyper until `shutdown`: at most `limits.max_connections` at
/// once, each closed when it does not send a whole request head within `limits.header_timeout`
/// (a half-sent head, or a kept-alive connection left idle). With `tls`, each connection first
/// completes its TLS handshake, within `limits.header_timeout` too, on its own task (a stalling
/// handshake holds its connection slot only, never the accept loop). Then it stops accepting,
/// lets each connection finish its request in flight, and waits for them for [`SHUTDOWN_GRACE`].
async fn serve_state(
    state: http::AppState,
    limits: &Limits,
    tls: Option<tokio_rustls::TlsAcceptor>,
    listener: tokio::net::TcpListener,
    webhooks: webhooks::Worker,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    // End with the server: aborted when this function returns.
    let _planning = AbortOnDrop(tokio::spawn(state.planning()));
    let _webhooks = AbortOnDrop(tokio::spawn(webhooks.run(state.shared_store())));
    let router = http::router(state, limits);
    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(READ_BUFFER)
        .keep_alive(true);
    let http1 = Arc::new(http1);
    let handshake_timeout = limits.header_timeout;
    // A connection takes a slot before it is accepted: when all are taken, new connections wait
    // in the kernel's accept queue (costing the server nothing) until a slot is free, which the
    // header timeout guarantees within seconds even when every slot is held by a stalling client.
    let max_connections = limits.max_connections.clamp(1, u32::MAX as usize);
    let slots = Arc::new(Semaphore::new(max_connections));
    let (stop_tx, stop_rx) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(%addr, scheme, max_connections, "laituri-server listening");
    loop {
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => slot.context("the connection slots closed")?,
        };
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            // The client gave up before it was accepted.
            Err(e) if is_connection_error(&e) => continue,
            // Out of file descriptors or the like: retrying at once would spin.
            Err(e) => {
                tracing::error!(error = %e, "accepting a connection failed; retrying in a second");
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        // Responses are small and latency matters more than packet count on a sync call.
        let _ = tcp.set_nodelay(true);
        let (router, http1, tls) = (router.clone(), http1.clone(), tls.clone());
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let Some(tls) = tls else {
                return serve_connection(&http1, TokioIo::new(tcp), router, peer, stop).await;
            };
            let handshake = tokio::time::timeout(handshake_timeout, tls.accept(tcp));
            let stream = tokio::select! {
                shaken = handshake => match shaken {
                    Ok(Ok(stream)) => stream,
                    // Plain HTTP to the HTTPS port, an untrusting client, a scanner: theirs.
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "TLS handshake took too long; closed");
                        return;
                    }
                },
                // Stopping: a connection that has not sent a request yet has nothing to finish.
                _ = stop.changed() => return,
            };
            serve_connection(&http1, TokioIo::new(stream), router, peer, stop).await;
        });
    }
    drop(listener);
    let _ = stop_tx.send(());
    // Every slot back means every connection has ended.
    let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(SHUTDOWN_GRACE, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("requests still running after the shutdown grace period were dropped");
    }
    tracing::info!(%addr, "laituri-server stopped");
    Ok(())
}

/// Serves one connection's requests with `router` until it ends, or until `stop`: then it lets
/// the request in flight finish and closes.
async fn serve_connection<I>(
    http1: &hyper::server::conn::http1::Builder,
    io: I,
    router: axum::Router,
    peer: SocketAddr,
    mut stop: watch::Receiver<()>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    // The peer's address goes with each request: the enrolment limit counts by it.
    let service = hyper::service::service_fn(move |mut req| {
        req.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(req)
    });
    let conn = http1.serve_connection(io, service);
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            // Timeouts and clients that went away: the client's trouble, not the server's.
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
            return;
        }
        _ = stop.changed() => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

/// Errors of one connection that `accept` reports; the listener itself is fine.
fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

/// A server running on its own thread with its own tokio runtime, for tests and demos.
/// Dropping the handle stops the server too.
pub struct ServerHandle {
    addr: SocketAddr,
    https: bool,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// Opens the database, binds, and returns once the server accepts connections.
    pub fn start(config: ServerConfig) -> anyhow::Result<ServerHandle> {
        let tls = config.tls.as_ref().map(TlsFiles::acceptor).transpose()?;
        let https = tls.is_some();
        // Binding here (not on the server thread) makes "address in use" an error of `start`,
        // and the listener is already accepting when `start` returns.
        let std_listener = std::net::TcpListener::bind(config.bind)
            .with_context(|| format!("binding {}", config.bind))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        config.check_admin_key(addr)?;
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<anyhow::Result<()>>();
        // The runtime is built and dropped on the server thread, never on the caller's: the
        // caller may itself be inside a runtime (an async test), where dropping one panics.
        let thread = std::thread::Builder::new()
            .name(format!("laituri-server {addr}"))
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("laituri-server")
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(
                            anyhow::Error::new(e).context("starting the server's runtime")
                        ));
                        return;
                    }
                };
                let result = runtime.block_on(async move {
                    // The backend opens inside the runtime: PostgreSQL's pool needs one.
                    let opened = config.open_backend().await;
                    let state = match opened.map(|store| app_state(&config, store)) {
                        Ok(state) => state,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return Ok(());
                        }
                    };
                    let listener = match tokio::net::TcpListener::from_std(std_listener) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.into()));
                            return Ok(());
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    let worker = worker(&config);
                    serve_state(state, &config.limits, tls, listener, worker, async move {
                        let _ = stop_rx.await;
                    })
                    .await
                });
                if let Err(e) = result {
                    tracing::error!(error = %format!("{e:#}"), "server stopped with an error");
                }
                // Blocking store calls still running get a bounded time to finish.
                runtime.shutdown_timeout(SHUTDOWN_GRACE);
            })
            .context("spawning the server thread")?;
        let ready = ready_rx
            .recv()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the server thread ended before serving")));
        if let Err(e) = ready {
            let _ = thread.join();
            return Err(e);
        }
        Ok(ServerHandle {
            addr,
            https,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://IP:PORT`, or `https://IP:PORT` when serving TLS: the base URL to which the
    /// protocol's paths are appended.
    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Stops gracefully and waits until the server thread has ended (the port is free again).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_key_is_taken_only_on_loopback_and_an_empty_key_never() {
        let mut config = ServerConfig::local("unused.sqlite3");
        let on = |addr: &str| addr.parse::<SocketAddr>().unwrap();
        for (addr, ok) in [
            ("127.0.0.1:8080", true),
            ("127.1.2.3:8080", true),
            ("[::1]:8080", true),
            ("[::ffff:127.0.0.1]:8080", true),
            ("0.0.0.0:8080", false),
            ("[::]:8080", false),
            ("192.0.2.10:8080", false),
            ("[::ffff:192.0.2.10]:8080", false),
        ] {
            assert_eq!(config.check_admin_key(on(addr)).is_ok(), ok, "{addr}");
        }
        config.admin_key = "a-key-of-the-site".into();
        assert!(config.check_admin_key(on("0.0.0.0:8080")).is_ok());
        config.admin_key = "  ".into();
        assert!(config.check_admin_key(on("127.0.0.1:8080")).is_err());
    }
}
