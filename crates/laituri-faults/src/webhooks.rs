//! A merchant's webhook receiver that misbehaves, and the merchant's subscription to it.
//!
//! [`Receiver`] is a plain HTTP/1.1 server on 127.0.0.1, on threads of its own, that records
//! every request it reads whole and answers at random from a seeded stream: 2xx (200, 202, 204),
//! 500, 503, or nothing until well past the server's attempt timeout (a hang). It can stop
//! listening for a while and listen again on the same port (the server's attempts are then
//! refused). Every connection is closed after its answer, so no kept-alive connection outlives
//! a stop: an attempt while it is stopped is refused by the kernel, never served.
//!
//! What it records is what the checker ([`crate::check::check_webhooks`]) compares with the
//! server's outbox: which event id came, with which signature and raw body, and whether the
//! receiver acknowledged it (answered 2xx in time).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;
use laituri_protocol::webhooks::{ID_HEADER, SIGNATURE_HEADER};
use laituri_protocol::{ApiKeyRequest, KeyScope, NewApiKey, NewWebhook, WebhookEventType, paths};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

/// The secret the suite's merchant subscribes with; the checker verifies every signature with it.
pub const SECRET: &str = "the-fault-suite's-webhook-secret-42";

/// The event types the suite's merchant subscribes to.
pub const TYPES: [WebhookEventType; 3] = [
    WebhookEventType::OrderStatusChanged,
    WebhookEventType::StockLevelChanged,
    WebhookEventType::OrderShipped,
];

/// How long a hanging answer waits before it is written: well past the server's attempt
/// timeout, so the server has given up on it.
const HANG: Duration = Duration::from_millis(crate::server::WEBHOOK_TIMEOUT_MS * 3);

/// The largest request the receiver reads; a webhook body is far smaller.
const MAX_REQUEST: usize = 1 << 20;

/// How the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answers {
    /// At random: 2xx, 500, 503 or a hang, about one in three acknowledged.
    Mixed,
    /// Never acknowledged: 500, 503 or a hang.
    Failing,
    /// Always 204.
    Accepting,
}

/// What the receiver did with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    /// A 2xx, written at once: the event is acknowledged.
    Ack(u16),
    /// An error status, written at once.
    Error(u16),
    /// Nothing until after the server's timeout.
    Hung,
}

/// One request the receiver read whole.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub path: String,
    /// The `Laituri-Webhook-Id` header.
    pub id: String,
    /// The `Laituri-Signature` header.
    pub signature: String,
    pub body: Vec<u8>,
    pub answered: Answered,
}

struct Shared {
    rng: Mutex<SmallRng>,
    answers: Mutex<Answers>,
    got: Mutex<Vec<Arrival>>,
}

/// A listening session: its accept thread and the flag that ends it.
struct Listening {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

/// A merchant's receiver on 127.0.0.1 (see the module).
pub struct Receiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
    listening: Option<Listening>,
    /// How often it stopped listening.
    pub stops: u64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Receiver {
    /// Listens on a free port of 127.0.0.1, answering [`Answers::Mixed`] from `seed`.
    pub fn start(seed: u64) -> anyhow::Result<Receiver> {
        let listener = TcpListener::bind("127.0.0.1:0").context("binding the receiver")?;
        let mut r = Receiver {
            addr: listener.local_addr()?,
            shared: Arc::new(Shared {
                rng: Mutex::new(SmallRng::seed_from_u64(seed)),
                answers: Mutex::new(Answers::Mixed),
                got: Mutex::new(Vec::new()),
            }),
            listening: None,
            stops: 0,
        };
        r.serve(listener)?;
        Ok(r)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn set(&self, answers: Answers) {
        *lock(&self.shared.answers) = answers;
    }

    pub fn is_listening(&self) -> bool {
        self.listening.is_some()
    }

    /// Stops listening: the port is closed and the server's attempts are refused. Requests
    /// already read are still answered.
    pub fn stop_listening(&mut self) {
        if let Some(l) = self.listening.take() {
            l.stop.store(true, Ordering::SeqCst);
            let _ = l.thread.join();
            self.stops += 1;
        }
    }

    /// Listens again on the same port (tried for up to 10 s, should the port be held).
    pub fn listen(&mut self) -> anyhow::Result<()> {
        if self.listening.is_some() {
            return Ok(());
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match TcpListener::bind(self.addr) {
                Ok(l) => break l,
                Err(e) if Instant::now() < deadline => {
                    tracing::debug!(error = %e, "the receiver's port is busy; trying again");
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("listening again on {}", self.addr));
                }
            }
        };
        self.serve(listener)
    }

    fn serve(&mut self, listener: TcpListener) -> anyhow::Result<()> {
        listener.set_nonblocking(true)?;
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, shared) = (stop.clone(), self.shared.clone());
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let shared = shared.clone();
                        std::thread::spawn(move || handle(stream, &shared));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
            // The listener is dropped here: the port closes.
        });
        self.listening = Some(Listening { stop, thread });
        Ok(())
    }

    /// Everything read so far, at `path`.
    pub fn arrivals(&self, path: &str) -> Vec<Arrival> {
        lock(&self.shared.got)
            .iter()
            .filter(|a| a.path == path)
            .cloned()
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop_listening();
    }
}

/// Reads one request, records it and answers it; a request cut off is dropped unanswered.
fn handle(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Some((path, headers, body)) = read_request(&mut stream) else {
        return;
    };
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let answered = match *lock(&shared.answers) {
        Answers::Accepting => Answered::Ack(204),
        mode => {
            let mut rng = lock(&shared.rng);
            let ack = if mode == Answers::Mixed { 35 } else { 0 };
            match rng.random_range(0..100) {
                n if n < ack => Answered::Ack([200, 202, 204][rng.random_range(0..3)]),
                n if n < ack + (100 - ack) / 3 => Answered::Error(500),
                n if n < ack + 2 * (100 - ack) / 3 => Answered::Error(503),
                _ => Answered::Hung,
            }
        }
    };
    // Recorded before the answer is written: an acknowledgement the server never reads (it was
    // killed) still counts as received, and the server's next attempt is a duplicate.
    lock(&shared.got).push(Arrival {
        path,
        id: header(ID_HEADER),
        signature: header(SIGNATURE_HEADER),
        body,
        answered,
    });
    let code = match answered {
        Answered::Ack(c) | Answered::Error(c) => c,
        Answered::Hung => {
            std::thread::sleep(HANG);
            200
        }
    };
    let text = if (200..300).contains(&code) {
        ""
    } else {
        "try again later"
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {code} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{text}",
        if code < 300 { "OK" } else { "Error" },
        text.len()
    );
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

type Request = (String, Vec<(String, String)>, Vec<u8>);

/// A request's path, headers and body (by `Content-Length`), or `None` when it was cut off or
/// is not one.
fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_REQUEST {
            return None;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let path = lines.next()?.split(' ').nth(1)?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())?;
    if length > MAX_REQUEST {
        return None;
    }
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    body.truncate(length);
    Some((path, headers, body))
}

/// Subscribes `merchant` to [`TYPES`] at `url` with [`SECRET`], as its own system does: a
/// merchant key from the admin API, then the subscription through the integration API with it.
pub fn subscribe(server_url: &str, merchant: &str, url: &str) -> anyhow::Result<NewWebhook> {
    let key: NewApiKey = crate::outbound::post(
        &format!("{server_url}{}", paths::API_KEYS),
        Some(laituri_server::demo::ADMIN_KEY),
        &ApiKeyRequest {
            scope: KeyScope::Merchant,
            merchant_id: Some(merchant.to_string()),
            note: Some("the fault suite's webhook receiver".into()),
        },
    )?;
    let hook: NewWebhook = crate::outbound::post(
        &format!("{server_url}{}", paths::WEBHOOKS),
        Some(&key.key),
        &laituri_protocol::WebhookInput {
            merchant_id: None,
            url: url.to_string(),
            event_types: TYPES.to_vec(),
            secret: Some(SECRET.to_string()),
            active: true,
        },
    )?;
    anyhow::ensure!(
        hook.listed.merchant_id == merchant && hook.secret == SECRET,
        "the subscription came back as {hook:?}"
    );
    Ok(hook)
}

/// Deletes the subscription `webhook` (the admin key may delete any merchant's).
pub fn unsubscribe(server_url: &str, webhook: uuid::Uuid) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let resp = reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()?
                .delete(format!("{server_url}{}/{webhook}", paths::WEBHOOKS))
                .bearer_auth(laituri_server::demo::ADMIN_KEY)
                .send()
                .await?;
            anyhow::ensure!(
                resp.status().is_success(),
                "deleting the subscription: HTTP {}",
                resp.status()
            );
            Ok(())
        })
}
