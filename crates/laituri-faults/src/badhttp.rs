//! A server that fails at HTTP level: an HTTP front on 127.0.0.1 that forwards to the real server
//! and, per request and at random from a seed, answers 500, 503 or 429 instead (before or after
//! the real server did the work), or 200 with garbage: HTML, truncated JSON, JSON of another
//! shape, an empty body.
//!
//! The TCP proxy cannot do this: these are answers, not broken connections. A terminal must treat
//! every one of them as "try again later" and never as "recorded".

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use tokio::sync::oneshot;

/// What the front answers to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The real server's answer.
    Pass,
    /// This status, and the real server never saw the request.
    StatusBefore(u16),
    /// The real server did the work; the terminal hears this status instead.
    StatusAfter(u16),
    /// The real server did the work; the terminal hears 200 with an HTML page.
    Html,
    /// The real server did the work; the terminal hears 200 with half of its JSON.
    Truncated,
    /// The real server did the work; the terminal hears 200 with JSON of another shape.
    OtherJson,
    /// The real server did the work; the terminal hears 200 with an empty body.
    Empty,
    /// The real server did the work; the terminal hears a well-formed push answer that says
    /// nothing was recorded.
    NothingRecorded,
    /// The real server never saw the request; the terminal hears a well-formed push answer that
    /// claims everything up to a huge seq was recorded, with no result for any event.
    AckedEverything,
}

/// Every fault, for [`HttpFaults::start`].
pub const FAULTS: [Answer; 12] = [
    Answer::StatusBefore(500),
    Answer::StatusBefore(503),
    Answer::StatusBefore(429),
    Answer::StatusAfter(500),
    Answer::StatusAfter(503),
    Answer::StatusAfter(429),
    Answer::Html,
    Answer::Truncated,
    Answer::OtherJson,
    Answer::Empty,
    Answer::NothingRecorded,
    Answer::AckedEverything,
];

struct Front {
    upstream: String,
    answers: Vec<Answer>,
    http: reqwest::Client,
    rng: Mutex<SmallRng>,
    /// Probability of a fault, in millionths, so it can change while serving.
    p_fault_ppm: AtomicU64,
    faults: AtomicU64,
    requests: AtomicU64,
}

impl Front {
    fn draw(&self) -> Answer {
        let p = self.p_fault_ppm.load(Ordering::SeqCst) as f64 / 1e6;
        let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
        if rng.random_bool(p.clamp(0.0, 1.0)) {
            self.answers[rng.random_range(0..self.answers.len())]
        } else {
            Answer::Pass
        }
    }
}

/// The HTTP fault front, on its own thread. Dropping it stops it.
pub struct HttpFaults {
    addr: SocketAddr,
    front: Arc<Front>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl HttpFaults {
    /// Forwards to `upstream_url` (e.g. `http://127.0.0.1:PORT`); a fault with probability
    /// `p_fault` per request, drawn from `seed`.
    pub fn start(upstream_url: &str, seed: u64, p_fault: f64) -> anyhow::Result<HttpFaults> {
        HttpFaults::start_with(upstream_url, seed, p_fault, &FAULTS)
    }

    /// Like [`HttpFaults::start`], with the faults drawn from `answers` only.
    pub fn start_with(
        upstream_url: &str,
        seed: u64,
        p_fault: f64,
        answers: &[Answer],
    ) -> anyhow::Result<HttpFaults> {
        anyhow::ensure!(!answers.is_empty(), "no answers to draw from");
        let front = Arc::new(Front {
            upstream: upstream_url.trim_end_matches('/').to_string(),
            answers: answers.to_vec(),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()?,
            rng: Mutex::new(SmallRng::seed_from_u64(seed)),
            p_fault_ppm: AtomicU64::new((p_fault.clamp(0.0, 1.0) * 1e6) as u64),
            faults: AtomicU64::new(0),
            requests: AtomicU64::new(0),
        });
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<anyhow::Result<()>>();
        let f = front.clone();
        let thread = std::thread::Builder::new()
            .name("laituri-badhttp".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.into()));
                        return;
                    }
                };
                rt.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.into()));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    let app = Router::new().fallback(answer).with_state(f);
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async move {
                            let _ = stop_rx.await;
                        })
                        .await;
                });
                rt.shutdown_timeout(std::time::Duration::from_secs(1));
            })?;
        ready_rx
            .recv()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the front's thread ended before serving")))?;
        Ok(HttpFaults {
            addr,
            front,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Changes the probability of a fault from the next request on.
    pub fn set_p_fault(&self, p: f64) {
        self.front
            .p_fault_ppm
            .store((p.clamp(0.0, 1.0) * 1e6) as u64, Ordering::SeqCst);
    }

    /// Requests answered with a fault so far.
    pub fn faults(&self) -> u64 {
        self.front.faults.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> u64 {
        self.front.requests.load(Ordering::SeqCst)
    }

    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for HttpFaults {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

async fn answer(
    State(front): State<Arc<Front>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    front.requests.fetch_add(1, Ordering::SeqCst);
    let answer = front.draw();
    if answer != Answer::Pass {
        front.faults.fetch_add(1, Ordering::SeqCst);
    }
    match answer {
        Answer::StatusBefore(code) => {
            return (status(code), "the server is overloaded").into_response();
        }
        Answer::AckedEverything => {
            return (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"acked_through":1000000000,"results":[]}"#,
            )
                .into_response();
        }
        _ => {}
    }
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut req = front
        .http
        .request(method, format!("{}{path}", front.upstream))
        .body(body);
    for (name, value) in &headers {
        if name != header::HOST && name != header::CONTENT_LENGTH && name != header::CONNECTION {
            req = req.header(name, value);
        }
    }
    let real = match req.send().await {
        Ok(r) => r,
        Err(_) => return (StatusCode::BAD_GATEWAY, "upstream unreachable").into_response(),
    };
    let real_status = real.status().as_u16();
    let content_type = real.headers().get(header::CONTENT_TYPE).cloned();
    let real_body = match real.bytes().await {
        Ok(b) => b,
        Err(_) => return (StatusCode::BAD_GATEWAY, "upstream broke off").into_response(),
    };
    let json = [(header::CONTENT_TYPE, "application/json")];
    match answer {
        Answer::Pass | Answer::StatusBefore(_) | Answer::AckedEverything => {
            let mut r = (status(real_status), real_body).into_response();
            if let Some(ct) = content_type {
                r.headers_mut().insert(header::CONTENT_TYPE, ct);
            }
            r
        }
        Answer::StatusAfter(code) => (
            status(code),
            json,
            r#"{"code":"unavailable","message":"try again"}"#,
        )
            .into_response(),
        Answer::Html => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>Captive portal: accept the terms to continue</body></html>",
        )
            .into_response(),
        Answer::Truncated => {
            let half = real_body.slice(..real_body.len() / 2);
            (StatusCode::OK, json, half).into_response()
        }
        Answer::OtherJson => (StatusCode::OK, json, r#"{"status":"ok"}"#).into_response(),
        Answer::Empty => (StatusCode::OK, json, "").into_response(),
        Answer::NothingRecorded => {
            (StatusCode::OK, json, r#"{"acked_through":0,"results":[]}"#).into_response()
        }
    }
}
