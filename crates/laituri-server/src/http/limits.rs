//! What one client may hold of the server: connections and time to send a request.
//!
//! It owns [`Limits`] (the numbers, with their production defaults) and the request-body
//! deadlines. The connection-level limits (how many connections, how long a request head may take)
//! are applied where connections are accepted, in the crate's `serve_state`. It must never answer
//! anything but `ApiError` JSON.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
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
    /// terminal goes quiet.
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
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 2048,
            header_timeout: Duration::from_secs(10),
            body_stall_timeout: Duration::from_secs(30),
            small_body_timeout: Duration::from_secs(15),
            large_body_timeout: Duration::from_secs(600),
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
