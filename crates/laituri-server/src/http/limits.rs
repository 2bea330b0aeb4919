//! What one client may hold of the server: connections, time to send a request, enrolment
//! attempts.
//!
//! It owns [`Limits`] (the numbers, with their production defaults), the request-body deadlines
//! and the per-address rate limit of enrolment. The connection-level limits (how many connections,
//! how long a request head may take) are applied where connections are accepted, in the crate's
//! `serve_state`. It must never answer anything but `ApiError` JSON, and never keep state that a
//! flood of clients can grow without bound.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::Frame;

use super::ApiFailure;

/// The server's limits. [`Limits::default`] holds the production values, sized for a warehouse of
/// 500 terminals; tests make them small to see them act within seconds.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Connections served at once; more wait in the kernel's accept queue until one closes.
    /// Default 2,048: a terminal's sync worker sends one request at a time, so 500 terminals
    /// hold 500 to 1,000 connections, and the merchants' systems a few more. A connection that
    /// sends nothing costs about 100 kB at worst (its task and a head buffer of at most 64 kB),
    /// so all of them together stay near 200 MB, and only for `header_timeout`.
    pub max_connections: usize,
    /// A connection must send a whole request head within this: from when it opens, and on a
    /// kept-alive connection from the previous answer. It closes half-sent heads (slowloris) and
    /// idle keep-alive connections alike. Default 10 s: a head is a few hundred bytes, and a
    /// terminal syncs every 5 s, so its connection is reused between rounds and closed when the
    /// terminal goes quiet. On HTTPS the TLS handshake must complete within this too, before the
    /// first head's own time starts.
    pub header_timeout: Duration,
    /// Longest silence inside a request body, on every route. Default 30 s: long enough for TCP
    /// to retransmit through a bad patch of Wi-Fi, short enough that a stalled body is let go.
    pub body_stall_timeout: Duration,
    /// The whole body of a small call (at most 64 kB): enrolment, the one call a client makes
    /// without credentials, and the lease calls. Default 15 s, about 4 kB/s at the largest.
    pub small_body_timeout: Duration,
    /// The whole body of a push (up to 8 MB) or an integration batch (up to 32 MB). These come
    /// from a device with a valid token or from the admin key's holder; a token is checked before
    /// the body is read, so a client without one never gets this long. Default 10 minutes:
    /// 8 MB at 14 kB/s, a link too thin for anything but patience. The body is not cut while it
    /// makes progress (`body_stall_timeout`) and arrives within this time.
    pub large_body_timeout: Duration,
    /// Enrolment attempts one client address may make at once before it must wait. Default 20:
    /// a shift lead mistyping codes on a few terminals behind one NAT never meets the limit.
    pub enrol_burst: u32,
    /// After the burst, one more enrolment attempt per this interval. Default 500 ms (2 per
    /// second). An enrolment code has 40 random bits (8 characters of 32), so one address needs
    /// about 8,700 years on average to guess a given code. A successful enrolment gives its
    /// attempt back, so terminals enrolling with a right code never use up the burst.
    pub enrol_interval: Duration,
    /// Reverse proxies in front of the server (a load balancer, a TLS terminator): a request
    /// from one of these counts against the client address its `X-Forwarded-For` names (the
    /// rightmost one that is not itself a trusted proxy), not against the proxy's. From any other
    /// peer the header is ignored, so a client cannot choose its own bucket. Default none.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 2048,
            header_timeout: Duration::from_secs(10),
            body_stall_timeout: Duration::from_secs(30),
            small_body_timeout: Duration::from_secs(15),
            large_body_timeout: Duration::from_secs(600),
            enrol_burst: 20,
            enrol_interval: Duration::from_millis(500),
            trusted_proxies: Vec::new(),
        }
    }
}

impl Limits {
    pub(crate) fn small_body(&self) -> BodyDeadline {
        BodyDeadline {
            stall: self.body_stall_timeout,
            total: self.small_body_timeout,
        }
    }

    pub(crate) fn large_body(&self) -> BodyDeadline {
        BodyDeadline {
            stall: self.body_stall_timeout,
            total: self.large_body_timeout,
        }
    }
}

/// How long a request body may take: at most `stall` without a byte, at most `total` in all.
///
/// Both count from when the handler starts reading the body, not from when the request came:
/// time the server spends before (checking a token against a busy database) is not the client's.
/// A deadline on progress alone would let a client that sends a byte every few seconds hold a
/// connection for hours; a deadline on the whole alone would cut a large push on a thin link.
/// Hence both, with a short `total` for the small unauthenticated calls and a long one for the
/// large authenticated ones.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyDeadline {
    stall: Duration,
    total: Duration,
}

/// Middleware: reads the request's body under `deadline`. A body too slow is answered 408 with
/// `Connection: close` (whatever the handler made of its unreadable body), and the connection
/// closes: the rest of the body is never read.
pub(crate) async fn body_in_time(
    State(deadline): State<BodyDeadline>,
    req: Request,
    next: Next,
) -> Response {
    let late = Arc::new(AtomicBool::new(false));
    let req = req.map(|body| Body::new(TimedBody::new(body, deadline, late.clone())));
    let resp = next.run(req).await;
    if !late.load(Ordering::Relaxed) {
        return resp;
    }
    let mut resp = ApiFailure::new(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        format!(
            "the request body came too slowly (a pause of over {} s, or not all within {} s): \
             send it again, in smaller batches on a slow link",
            deadline.stall.as_secs(),
            deadline.total.as_secs()
        ),
    )
    .into_response();
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// Why a body read failed when it came too slowly; the handler sees it as an unreadable body.
#[derive(Debug)]
struct TooSlow;

impl std::fmt::Display for TooSlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body came too slowly")
    }
}

impl std::error::Error for TooSlow {}

/// A request body that fails with [`TooSlow`] when its [`BodyDeadline`] passes while it waits.
struct TimedBody {
    inner: Body,
    deadline: BodyDeadline,
    /// Set on the first read: (the next byte's deadline, the whole body's).
    timers: Option<(Pin<Box<tokio::time::Sleep>>, tokio::time::Instant)>,
    late: Arc<AtomicBool>,
}

impl TimedBody {
    fn new(inner: Body, deadline: BodyDeadline, late: Arc<AtomicBool>) -> TimedBody {
        TimedBody {
            inner,
            deadline,
            timers: None,
            late,
        }
    }
}

/// When the next byte of a body is due: `stall` from now, never past the whole body's deadline.
fn next_byte_due(deadline: BodyDeadline, whole: tokio::time::Instant) -> tokio::time::Instant {
    (tokio::time::Instant::now() + deadline.stall).min(whole)
}

impl HttpBody for TimedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        if this.timers.is_none() {
            let whole = tokio::time::Instant::now() + this.deadline.total;
            let next = next_byte_due(this.deadline, whole);
            this.timers = Some((Box::pin(tokio::time::sleep_until(next)), whole));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some((sleep, whole)) = this.timers.as_mut() {
                    sleep.as_mut().reset(next_byte_due(this.deadline, *whole));
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => {
                let expired = this
                    .timers
                    .as_mut()
                    .is_some_and(|(sleep, _)| sleep.as_mut().poll(cx).is_ready());
                if expired {
                    this.late.store(true, Ordering::Relaxed);
                    return Poll::Ready(Some(Err(axum::Error::new(TooSlow))));
                }
                Poll::Pending
            }
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The most client addresses the enrolment limiter remembers (about 50 bytes each). Beyond it,
/// addresses it has no room for share one bucket, so a flood from many addresses is limited as
/// one client instead of growing the server's memory.
const MAX_REMEMBERED_CLIENTS: usize = 100_000;

/// Whom a rate limit counts: an IPv4 address, or an IPv6 /64 (one site's network, of which a
/// client may use any of 2^64 addresses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Client {
    V4([u8; 4]),
    V6Net([u8; 8]),
    /// The request came without its peer's address (the router served without `serve_state`).
    Unknown,
    /// One of many addresses while the limiter is full.
    Overflow,
}

impl Client {
    fn of(ip: Option<IpAddr>) -> Client {
        match ip.map(|ip| ip.to_canonical()) {
            Some(IpAddr::V4(v4)) => Client::V4(v4.octets()),
            Some(IpAddr::V6(v6)) => {
                let mut net = [0u8; 8];
                net.copy_from_slice(&v6.octets()[..8]);
                Client::V6Net(net)
            }
            None => Client::Unknown,
        }
    }
}

/// A token bucket per client address, kept as GCRA's one instant per client: the theoretical
/// time at which the client's bucket is full again. A client whose instant has passed is the
/// same as one never seen, so those entries are dropped when the map is full.
pub(crate) struct RateLimiter {
    /// The time one attempt costs.
    interval: Duration,
    /// How far ahead of now a client's instant may run: `interval` times (burst - 1).
    tolerance: Duration,
    max_clients: usize,
    clients: Mutex<Buckets>,
}

struct Buckets {
    full_at: HashMap<Client, Instant>,
    /// When the map was last cleared of clients whose bucket is full again.
    pruned_at: Option<Instant>,
}

impl RateLimiter {
    pub(crate) fn new(burst: u32, interval: Duration) -> RateLimiter {
        RateLimiter::with_capacity(burst, interval, MAX_REMEMBERED_CLIENTS)
    }

    fn with_capacity(burst: u32, interval: Duration, max_clients: usize) -> RateLimiter {
        RateLimiter {
            interval,
            tolerance: interval.saturating_mul(burst.max(1) - 1),
            max_clients: max_clients.max(1),
            clients: Mutex::new(Buckets {
                full_at: HashMap::new(),
                pruned_at: None,
            }),
        }
    }

    /// Takes one attempt from the client's bucket: the client counted (to give the attempt
    /// back), or how long it must wait for one.
    fn take(&self, ip: Option<IpAddr>, now: Instant) -> Result<Client, Duration> {
        let mut buckets = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        let mut client = Client::of(ip);
        if !buckets.full_at.contains_key(&client) && buckets.full_at.len() >= self.max_clients {
            // Pruning walks the whole map: at most once per interval, however hard the flood.
            if buckets
                .pruned_at
                .is_none_or(|at| now.saturating_duration_since(at) >= self.interval)
            {
                buckets.full_at.retain(|_, full_at| *full_at > now);
                buckets.pruned_at = Some(now);
                if buckets.full_at.len() < self.max_clients / 4 {
                    buckets.full_at.shrink_to_fit();
                }
            }
            if buckets.full_at.len() >= self.max_clients {
                client = Client::Overflow;
            }
        }
        let full_at = buckets.full_at.get(&client).map_or(now, |t| (*t).max(now));
        let ahead = full_at.saturating_duration_since(now);
        if ahead > self.tolerance {
            return Err(ahead - self.tolerance);
        }
        buckets.full_at.insert(client, full_at + self.interval);
        Ok(client)
    }

    /// Gives back an attempt taken by [`RateLimiter::take`].
    fn give_back(&self, client: Client, now: Instant) {
        let mut buckets = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(full_at) = buckets.full_at.get_mut(&client) {
            *full_at = full_at.checked_sub(self.interval).unwrap_or(now).max(now);
        }
    }

    #[cfg(test)]
    fn remembered(&self) -> usize {
        let buckets = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        buckets.full_at.len()
    }
}

/// Middleware of the enrolment route: each attempt takes one from the client address's bucket,
/// and an empty bucket is answered 429 with `Retry-After`. A successful enrolment gives its
/// attempt back: only failures (a wrong code, a malformed request) count against the address.
/// The attempt is taken before the handler runs, so attempts sent all at once are limited too.
pub(crate) async fn limit_enrolment(
    State(gate): State<Arc<EnrolmentGate>>,
    req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip());
    let ip = peer.map(|p| client_address(p, req.headers(), &gate.trusted_proxies));
    let limiter = &gate.limiter;
    let client = match limiter.take(ip, Instant::now()) {
        Ok(client) => client,
        Err(wait) => return too_many_enrolments(wait),
    };
    let resp = next.run(req).await;
    if resp.status().is_success() {
        limiter.give_back(client, Instant::now());
    }
    resp
}

/// The enrolment limit and whom it believes about client addresses.
pub(crate) struct EnrolmentGate {
    pub limiter: RateLimiter,
    pub trusted_proxies: Vec<IpAddr>,
}

/// The address a request counts against: the peer's, or, when the peer is a trusted proxy, the
/// rightmost address of `X-Forwarded-For` that is not a trusted proxy (proxies append the
/// address they received from; anything left of it the client may have written itself).
pub(crate) fn client_address(
    peer: IpAddr,
    headers: &axum::http::HeaderMap,
    trusted: &[IpAddr],
) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in forwarded.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return ip,
            // A hop that is not an address: nothing left of it can be trusted.
            Err(_) => return peer,
        }
    }
    peer
}

fn too_many_enrolments(wait: Duration) -> Response {
    // Whole seconds, rounded up: a client that waits as told finds an attempt free.
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let secs = secs.max(1);
    let mut resp = ApiFailure::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        format!(
            "too many enrolment attempts from this address: wait {secs} s, then enrol with the \
             code a shift lead gives you (check it for typos)"
        ),
    )
    .into_response();
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forwarded_address_counts_only_through_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let lb: IpAddr = "10.0.0.3".parse().unwrap();
        let client: IpAddr = "192.168.5.7".parse().unwrap();
        let headers = |v: &str| {
            let mut h = axum::http::HeaderMap::new();
            h.insert("x-forwarded-for", v.parse().unwrap());
            h
        };
        let trusted = [proxy, lb];
        // Through the proxy: the client it names; what the client wrote itself, left of it,
        // is not believed.
        let h = headers("1.2.3.4, 192.168.5.7");
        assert_eq!(client_address(proxy, &h, &trusted), client);
        // Through two trusted hops.
        let h = headers("192.168.5.7, 10.0.0.3");
        assert_eq!(client_address(proxy, &h, &trusted), client);
        // From anyone else the header is ignored: a client cannot pick its bucket.
        assert_eq!(
            client_address(client, &headers("1.2.3.4"), &trusted),
            client
        );
        assert_eq!(client_address(client, &headers("1.2.3.4"), &[]), client);
        // Nothing usable: the proxy's own address.
        assert_eq!(client_address(proxy, &headers("garbage"), &trusted), proxy);
        assert_eq!(
            client_address(proxy, &axum::http::HeaderMap::new(), &trusted),
            proxy
        );
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn a_burst_then_one_attempt_per_interval() {
        let limiter = RateLimiter::new(3, Duration::from_secs(1));
        let t0 = Instant::now();
        for _ in 0..3 {
            limiter.take(ip("10.0.0.1"), t0).unwrap();
        }
        let wait = limiter.take(ip("10.0.0.1"), t0).unwrap_err();
        assert_eq!(wait, Duration::from_secs(1));
        // Another address has its own bucket.
        limiter.take(ip("10.0.0.2"), t0).unwrap();
        // After the wait, one attempt; not two.
        let t1 = t0 + wait;
        limiter.take(ip("10.0.0.1"), t1).unwrap();
        assert!(limiter.take(ip("10.0.0.1"), t1).is_err());
    }

    #[test]
    fn a_success_gives_its_attempt_back() {
        let limiter = RateLimiter::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        for _ in 0..10 {
            let client = limiter.take(ip("10.0.0.1"), t0).unwrap();
            limiter.give_back(client, t0);
        }
        limiter.take(ip("10.0.0.1"), t0).unwrap();
        limiter.take(ip("10.0.0.1"), t0).unwrap();
        assert!(limiter.take(ip("10.0.0.1"), t0).is_err());
    }

    #[test]
    fn an_ipv6_network_is_one_client_and_mapped_ipv4_is_ipv4() {
        let limiter = RateLimiter::new(1, Duration::from_secs(60));
        let t0 = Instant::now();
        limiter.take(ip("2001:db8:1:2::1"), t0).unwrap();
        assert!(limiter.take(ip("2001:db8:1:2:ffff::9"), t0).is_err());
        limiter.take(ip("2001:db8:1:3::1"), t0).unwrap();
        limiter.take(ip("192.0.2.7"), t0).unwrap();
        assert!(limiter.take(ip("::ffff:192.0.2.7"), t0).is_err());
    }

    #[test]
    fn a_flood_of_addresses_stays_within_the_map_and_shares_one_bucket() {
        let limiter = RateLimiter::with_capacity(2, Duration::from_secs(1), 100);
        let t0 = Instant::now();
        let mut refused = 0;
        for i in 0..10_000u32 {
            let addr = IpAddr::from(i.to_be_bytes());
            if limiter.take(Some(addr), t0).is_err() {
                refused += 1;
            }
        }
        // 100 addresses and the bucket they overflow into.
        assert_eq!(limiter.remembered(), 101);
        // 100 addresses fit, and the overflow's bucket lets two more through.
        assert_eq!(refused, 10_000 - 102);
        // Once their buckets are full again, the remembered ones are forgotten for new ones.
        let later = t0 + Duration::from_secs(5);
        limiter.take(ip("198.51.100.1"), later).unwrap();
        assert!(limiter.remembered() <= 2, "{}", limiter.remembered());
    }

    #[test]
    fn retry_after_is_whole_seconds_rounded_up() {
        let resp = too_many_enrolments(Duration::from_millis(1200));
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "2");
        let resp = too_many_enrolments(Duration::from_millis(1));
        assert_eq!(resp.headers()[header::RETRY_AFTER], "1");
    }
}
