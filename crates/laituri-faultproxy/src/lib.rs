//! A TCP fault proxy on loopback, for Laituri's fault-injection tests and benchmarks.
//!
//! [`FaultProxy::start`] listens on `127.0.0.1:0` and forwards every connection to an upstream
//! address (the central server), on its own thread with its own tokio runtime. What happens to the
//! bytes is set at any time with [`FaultProxy::set`]: delay and jitter, a blackhole, connection
//! resets, a lost response after the request was forwarded (the server applied it, the terminal
//! never heard), a bandwidth limit, a flapping link, or a seeded random mix per connection.
//!
//! It works on byte streams, not on HTTP: a "request" is whatever the client sends after it was
//! quiet, which is what an HTTP/1.1 keep-alive client does. A new fault applies to new connections
//! and, on a connection already open, from the next bytes the client sends (the next request).
//! Resets are real resets: the socket is closed with `SO_LINGER` 0, so the peer reads
//! `ECONNRESET`, as after a Wi-Fi drop or a crashed server.
//!
//! It must never reorder or alter the bytes it forwards: a fault only delays, withholds or cuts.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};

/// How long the proxy waits for the upstream to accept a connection before it resets the client.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Largest chunk read at once.
const CHUNK: usize = 16 * 1024;

/// What the proxy does to the traffic.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Forward everything as it comes.
    None,
    /// Each chunk waits `one_way_ms` plus a random part up to `jitter_ms`, in each direction.
    Delay { one_way_ms: u64, jitter_ms: u64 },
    /// Accept, read, never answer; the upstream never sees the connection.
    Blackhole,
    /// Accept then close at once with a reset; the upstream never sees the connection.
    Reset,
    /// Forward the request, swallow the response, then reset the client.
    DropResponse,
    /// At most this many bytes per second in each direction.
    Bandwidth { bytes_per_sec: u64 },
    /// Alternate `up_ms` of [`Fault::None`] and `down_ms` of [`Fault::Reset`], counted from the
    /// moment this fault was set. Connections still open when the link goes down are reset.
    Flap { up_ms: u64, down_ms: u64 },
    /// Per connection, at random from `seed` and the connection's number: reset, lost response,
    /// blackhole, or none of these. The same seed gives the same sequence of faults.
    Seeded {
        seed: u64,
        p_reset: f64,
        p_drop_response: f64,
        p_blackhole: f64,
    },
}

/// Counts of what the proxy did, for tests and reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub connections: u64,
    pub resets: u64,
    pub dropped_responses: u64,
    pub blackholed: u64,
    /// Connections the upstream refused or did not accept in time (the client was reset).
    pub upstream_failures: u64,
}

/// What one connection does, decided from the fault in force.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Pass {
        delay: Option<(u64, u64)>,
        bytes_per_sec: Option<u64>,
    },
    Blackhole,
    Reset,
    DropResponse,
}

const PASS: Mode = Mode::Pass {
    delay: None,
    bytes_per_sec: None,
};

/// True when a flapping link is up `elapsed_ms` after the fault was set.
fn flap_is_up(elapsed_ms: u64, up_ms: u64, down_ms: u64) -> bool {
    let period = up_ms.saturating_add(down_ms);
    if period == 0 {
        return true;
    }
    elapsed_ms % period < up_ms
}

/// Milliseconds from `elapsed_ms` until a flapping link next goes down (`None` if it never does).
fn flap_next_down_in(elapsed_ms: u64, up_ms: u64, down_ms: u64) -> Option<u64> {
    if down_ms == 0 || !flap_is_up(elapsed_ms, up_ms, down_ms) {
        return None;
    }
    let period = up_ms + down_ms;
    Some(up_ms - elapsed_ms % period)
}

/// The fault in force, with when it was set.
#[derive(Clone, Debug)]
struct Setting {
    fault: Fault,
    since: Instant,
    /// Bumped by every `set`: connections notice a new fault on their next request.
    generation: u64,
}

struct Shared {
    setting: Mutex<Setting>,
    /// Woken by every `set`, for the watchdogs of open connections.
    changed: Notify,
    upstream: Mutex<SocketAddr>,
    next_conn: AtomicU64,
    connections: AtomicU64,
    resets: AtomicU64,
    dropped_responses: AtomicU64,
    blackholed: AtomicU64,
    upstream_failures: AtomicU64,
}

impl Shared {
    fn setting(&self) -> Setting {
        self.setting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn upstream(&self) -> SocketAddr {
        *self.upstream.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The mode for connection number `conn` under `setting`, now.
    fn mode(&self, setting: &Setting, conn: u64) -> Mode {
        match setting.fault {
            Fault::None => PASS,
            Fault::Delay {
                one_way_ms,
                jitter_ms,
            } => Mode::Pass {
                delay: Some((one_way_ms, jitter_ms)),
                bytes_per_sec: None,
            },
            Fault::Blackhole => Mode::Blackhole,
            Fault::Reset => Mode::Reset,
            Fault::DropResponse => Mode::DropResponse,
            Fault::Bandwidth { bytes_per_sec } => Mode::Pass {
                delay: None,
                bytes_per_sec: Some(bytes_per_sec.max(1)),
            },
            Fault::Flap { up_ms, down_ms } => {
                let elapsed = setting.since.elapsed().as_millis() as u64;
                if flap_is_up(elapsed, up_ms, down_ms) {
                    PASS
                } else {
                    Mode::Reset
                }
            }
            Fault::Seeded {
                seed,
                p_reset,
                p_drop_response,
                p_blackhole,
            } => {
                // One draw per connection (and per re-evaluation), reproducible from the seed.
                let mut rng =
                    SmallRng::seed_from_u64(seed ^ conn.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                let x: f64 = rng.random_range(0.0..1.0);
                if x < p_reset {
                    Mode::Reset
                } else if x < p_reset + p_drop_response {
                    Mode::DropResponse
                } else if x < p_reset + p_drop_response + p_blackhole {
                    Mode::Blackhole
                } else {
                    PASS
                }
            }
        }
    }

    /// When an open connection under `setting` must be cut (a flapping link going down).
    fn cut_at(&self, setting: &Setting) -> Option<Instant> {
        match setting.fault {
            Fault::Flap { up_ms, down_ms } => {
                let elapsed = setting.since.elapsed().as_millis() as u64;
                flap_next_down_in(elapsed, up_ms, down_ms)
                    .map(|ms| Instant::now() + Duration::from_millis(ms))
            }
            _ => None,
        }
    }
}

/// A fault proxy running on its own thread. Dropping it stops it too.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Listens on 127.0.0.1:0 and forwards to `upstream`, on its own thread with its own
    /// runtime. Returns once the proxy accepts connections.
    pub fn start(upstream: SocketAddr) -> std::io::Result<FaultProxy> {
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let shared = Arc::new(Shared {
            setting: Mutex::new(Setting {
                fault: Fault::None,
                since: Instant::now(),
                generation: 0,
            }),
            changed: Notify::new(),
            upstream: Mutex::new(upstream),
            next_conn: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            resets: AtomicU64::new(0),
            dropped_responses: AtomicU64::new(0),
            blackholed: AtomicU64::new(0),
            upstream_failures: AtomicU64::new(0),
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<std::io::Result<()>>();
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("faultproxy {addr}"))
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                rt.block_on(async move {
                    let listener = match TcpListener::from_std(std_listener) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    accept_loop(listener, s, stop_rx).await;
                });
                // Dropping the runtime drops every connection task and closes its sockets.
                rt.shutdown_timeout(Duration::from_secs(1));
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(e);
            }
            Err(_) => {
                let _ = thread.join();
                return Err(std::io::Error::other(
                    "the proxy thread ended before serving",
                ));
            }
        }
        Ok(FaultProxy {
            addr,
            shared,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Takes effect for new connections, and on open ones from the client's next bytes.
    pub fn set(&self, fault: Fault) {
        let mut s = self
            .shared
            .setting
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        s.fault = fault;
        s.since = Instant::now();
        s.generation += 1;
        drop(s);
        self.shared.changed.notify_waiters();
    }

    /// The fault in force.
    pub fn fault(&self) -> Fault {
        self.shared.setting().fault
    }

    /// Forwards new connections to another address (the server restarted on another port).
    pub fn set_upstream(&self, upstream: SocketAddr) {
        *self
            .shared
            .upstream
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = upstream;
    }

    /// What the proxy did so far.
    pub fn stats(&self) -> Stats {
        let s = &self.shared;
        Stats {
            connections: s.connections.load(Ordering::Relaxed),
            resets: s.resets.load(Ordering::Relaxed),
            dropped_responses: s.dropped_responses.load(Ordering::Relaxed),
            blackholed: s.blackholed.load(Ordering::Relaxed),
            upstream_failures: s.upstream_failures.load(Ordering::Relaxed),
        }
    }

    /// Stops accepting, closes every connection and waits for the proxy thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("addr", &self.addr)
            .field("upstream", &self.shared.upstream())
            .field("fault", &self.shared.setting().fault)
            .finish()
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.wait_for(|s| *s) => return,
        };
        match accepted {
            Ok((client, _)) => {
                let _ = client.set_nodelay(true);
                let shared = shared.clone();
                let stop = stop.clone();
                tokio::spawn(async move {
                    let mut stop = stop;
                    tokio::select! {
                        _ = handle(client, shared) => {}
                        _ = stop.wait_for(|s| *s) => {}
                    }
                });
            }
            // Out of file descriptors or a connection that died in the backlog: keep serving.
            Err(e) => {
                tracing::debug!("faultproxy accept: {e}");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }
}

/// Closes a socket with a reset rather than a FIN.
fn reset(stream: &TcpStream) {
    let _ = stream.set_zero_linger();
}

/// One connection's shared state between its two directions.
struct Conn {
    shared: Arc<Shared>,
    number: u64,
    mode: Mutex<Mode>,
    /// Set when the connection must end at once with a reset.
    killed: AtomicBool,
    kill: Notify,
}

impl Conn {
    fn mode(&self) -> Mode {
        *self.mode.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap_or_else(PoisonError::into_inner) = mode;
    }

    fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.kill.notify_waiters();
    }

    async fn killed(&self) {
        loop {
            let notified = self.kill.notified();
            if self.killed.load(Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    }
}

async fn handle(client: TcpStream, shared: Arc<Shared>) {
    shared.connections.fetch_add(1, Ordering::Relaxed);
    let number = shared.next_conn.fetch_add(1, Ordering::Relaxed);
    let setting = shared.setting();
    let mode = shared.mode(&setting, number);
    match mode {
        Mode::Reset => {
            shared.resets.fetch_add(1, Ordering::Relaxed);
            reset(&client);
            return;
        }
        Mode::Blackhole => {
            shared.blackholed.fetch_add(1, Ordering::Relaxed);
            blackhole(client).await;
            return;
        }
        _ => {}
    }
    let upstream = shared.upstream();
    let server = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(upstream)).await {
        Ok(Ok(s)) => s,
        _ => {
            // The server is down: to the client that is a reset, as a dead server is.
            shared.upstream_failures.fetch_add(1, Ordering::Relaxed);
            reset(&client);
            return;
        }
    };
    let _ = server.set_nodelay(true);
    let conn = Arc::new(Conn {
        shared: shared.clone(),
        number,
        mode: Mutex::new(mode),
        killed: AtomicBool::new(false),
        kill: Notify::new(),
    });
    let (client_r, client_w) = client.into_split();
    let (server_r, server_w) = server.into_split();
    let up = tokio::spawn(client_to_server(
        conn.clone(),
        client_r,
        server_w,
        setting.generation,
    ));
    let down = tokio::spawn(server_to_client(conn.clone(), server_r, client_w));
    // A flapping link cuts the connections that are open when it goes down.
    let watchdog = async {
        loop {
            let changed = conn.shared.changed.notified();
            let setting = conn.shared.setting();
            match conn.shared.cut_at(&setting) {
                Some(at) => tokio::select! {
                    _ = tokio::time::sleep_until(at.into()) => {
                        conn.shared.resets.fetch_add(1, Ordering::Relaxed);
                        conn.kill();
                        return;
                    }
                    _ = changed => {}
                },
                None => changed.await,
            }
        }
    };
    tokio::select! {
        _ = async { let _ = up.await; let _ = down.await; } => {}
        _ = watchdog => {}
    }
}

/// Reads and discards until the client gives up.
async fn blackhole(mut client: TcpStream) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        match client.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

async fn pause_for(mode: Mode, bytes: usize) {
    let Mode::Pass {
        delay,
        bytes_per_sec,
    } = mode
    else {
        return;
    };
    let mut wait = Duration::ZERO;
    if let Some((one_way, jitter)) = delay {
        let extra = if jitter > 0 {
            rand::rng().random_range(0..=jitter)
        } else {
            0
        };
        wait += Duration::from_millis(one_way + extra);
    }
    if let Some(bps) = bytes_per_sec {
        wait += Duration::from_secs_f64(bytes as f64 / bps as f64);
    }
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
}

/// How much to read at once: small enough that a bandwidth limit is smooth.
fn chunk_for(mode: Mode) -> usize {
    match mode {
        Mode::Pass {
            bytes_per_sec: Some(bps),
            ..
        } => (bps / 20).clamp(1, CHUNK as u64) as usize,
        _ => CHUNK,
    }
}

/// Client to server: a new fault takes effect here, at the start of the client's next request.
async fn client_to_server(
    conn: Arc<Conn>,
    mut client: OwnedReadHalf,
    mut server: OwnedWriteHalf,
    mut generation: u64,
) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let limit = chunk_for(conn.mode());
        let n = tokio::select! {
            // A read error ends the request stream like a close does.
            r = client.read(&mut buf[..limit]) => r.unwrap_or_default(),
            _ = conn.killed() => {
                reset(client.as_ref());
                return;
            }
        };
        if n == 0 {
            let _ = server.shutdown().await;
            return;
        }
        let setting = conn.shared.setting();
        if setting.generation != generation {
            generation = setting.generation;
            let mode = conn.shared.mode(&setting, conn.number);
            match mode {
                Mode::Reset => conn.shared.resets.fetch_add(1, Ordering::Relaxed),
                Mode::Blackhole => conn.shared.blackholed.fetch_add(1, Ordering::Relaxed),
                _ => 0,
            };
            conn.set_mode(mode);
        } else if let Fault::Flap { up_ms, down_ms } = setting.fault
            && !flap_is_up(setting.since.elapsed().as_millis() as u64, up_ms, down_ms)
        {
            conn.set_mode(Mode::Reset);
        }
        let mode = conn.mode();
        match mode {
            Mode::Reset => {
                reset(client.as_ref());
                conn.kill();
                return;
            }
            // Swallowed: the server never sees it, the client never hears.
            Mode::Blackhole => continue,
            Mode::DropResponse | Mode::Pass { .. } => {}
        }
        tokio::select! {
            _ = pause_for(mode, n) => {}
            _ = conn.killed() => {
                reset(client.as_ref());
                return;
            }
        }
        let written = tokio::select! {
            w = server.write_all(&buf[..n]) => w.is_ok(),
            _ = conn.killed() => false,
        };
        if !written {
            reset(client.as_ref());
            conn.kill();
            return;
        }
    }
}

/// Server to client: responses are delayed, limited, swallowed or cut here.
async fn server_to_client(conn: Arc<Conn>, mut server: OwnedReadHalf, mut client: OwnedWriteHalf) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let limit = chunk_for(conn.mode());
        let n = tokio::select! {
            r = server.read(&mut buf[..limit]) => match r {
                Ok(n) => n,
                Err(_) => {
                    // The server reset us: pass the reset on.
                    reset(client.as_ref());
                    conn.kill();
                    return;
                }
            },
            _ = conn.killed() => {
                reset(client.as_ref());
                return;
            }
        };
        if n == 0 {
            let _ = client.shutdown().await;
            return;
        }
        let mode = conn.mode();
        match mode {
            Mode::DropResponse => {
                // The server has answered, so it has done the work; the client never hears.
                conn.shared
                    .dropped_responses
                    .fetch_add(1, Ordering::Relaxed);
                reset(client.as_ref());
                conn.kill();
                return;
            }
            Mode::Blackhole => continue,
            Mode::Reset => {
                reset(client.as_ref());
                conn.kill();
                return;
            }
            Mode::Pass { .. } => {}
        }
        tokio::select! {
            _ = pause_for(mode, n) => {}
            _ = conn.killed() => {
                reset(client.as_ref());
                return;
            }
        }
        let written = tokio::select! {
            w = client.write_all(&buf[..n]) => w.is_ok(),
            _ = conn.killed() => false,
        };
        if !written {
            conn.kill();
            return;
        }
    }
}

#[cfg(test)]
mod tests;
