//! A merchant's webhook receiver for the server's tests: a real HTTP server on 127.0.0.1 that
//! records what it gets and answers as the test says (refuses, hangs, fails, accepts, gone),
//! and the calls a merchant makes to subscribe and read its delivery log.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode as AxumStatus, Uri};
use base64::Engine;
use hmac::{KeyInit, Mac};
use laituri_protocol::webhooks::{ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use laituri_protocol::{NewWebhook, WebhookDelivery, WebhookEnvelope, paths};
use laituri_server::clock::Clock;
use laituri_server::webhooks::Settings;
use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use super::{TestServer, json_ok};

/// The secret tests subscribe with.
pub const SECRET: &str = "a-merchant's-secret-0123456789";

/// What the receiver does with a request.
pub const HANG: u8 = 1;
pub const FAIL: u8 = 2;
pub const ACCEPT: u8 = 3;
pub const GONE: u8 = 4;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Got {
    pub path: String,
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: Bytes,
}

impl Got {
    pub fn envelope(&self) -> WebhookEnvelope {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A merchant's receiver on 127.0.0.1: not listening until [`Receiver::listen`].
#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    pub mode: Arc<AtomicU8>,
    pub got: Arc<Mutex<Vec<Got>>>,
}

impl Receiver {
    /// A port that nothing listens on (yet).
    pub fn closed() -> Receiver {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = probe.local_addr().unwrap();
        drop(probe);
        Receiver {
            addr,
            mode: Arc::new(AtomicU8::new(ACCEPT)),
            got: Arc::default(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
    }

    pub async fn listen(&self) {
        let listener = tokio::net::TcpListener::bind(self.addr).await.unwrap();
        let me = self.clone();
        let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let me = me.clone();
            async move {
                let header = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string()
                };
                me.got.lock().unwrap().push(Got {
                    path: uri.path().to_string(),
                    id: header(ID_HEADER),
                    timestamp: header(TIMESTAMP_HEADER),
                    signature: header(SIGNATURE_HEADER),
                    body,
                });
                match me.mode.load(Ordering::SeqCst) {
                    HANG => {
                        tokio::time::sleep(Duration::from_secs(60)).await;
                        (AxumStatus::OK, String::new())
                    }
                    FAIL => (
                        AxumStatus::INTERNAL_SERVER_ERROR,
                        format!("try later {}", "x".repeat(1_000)),
                    ),
                    GONE => (AxumStatus::GONE, "no such shop".into()),
                    _ => (AxumStatus::NO_CONTENT, String::new()),
                }
            }
        });
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
    }

    pub fn got(&self, path: &str) -> Vec<Got> {
        let all = self.got.lock().unwrap();
        all.iter().filter(|g| g.path == path).cloned().collect()
    }
}

/// A seeded server whose clock the test moves, delivering with a short timeout.
pub fn server(clock: &Clock, deliver: bool) -> TestServer {
    let (dir, pg, mut config) = super::fresh_config();
    config.clock = clock.clone();
    config.webhooks = Settings {
        enabled: deliver,
        tick: Duration::from_millis(20),
        timeout: Duration::from_millis(500),
        ..Settings::default()
    };
    let s = TestServer::start_on(dir, pg, config);
    laituri_server::demo::seed(&s.config, super::today()).unwrap();
    s
}

pub async fn subscribe(s: &TestServer, key: &str, body: Value) -> NewWebhook {
    let resp = s
        .client
        .post(s.url(paths::WEBHOOKS))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    json_ok(resp).await
}

pub async fn deliveries(s: &TestServer, key: &str, webhook: Uuid) -> Vec<WebhookDelivery> {
    let resp = s
        .client
        .get(s.url(&format!("{}/{webhook}/deliveries", paths::WEBHOOKS)))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    json_ok(resp).await
}

/// The delivery log of `webhook` once `done` holds for it (the worker runs beside the test).
pub async fn log_until(
    s: &TestServer,
    key: &str,
    webhook: Uuid,
    what: &str,
    done: impl Fn(&[WebhookDelivery]) -> bool,
) -> Vec<WebhookDelivery> {
    let mut log = Vec::new();
    for _ in 0..1_500 {
        log = deliveries(s, key, webhook).await;
        if done(&log) {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{what} never happened: {log:#?}");
}

/// Whether `got` carries the signature of its raw body with [`SECRET`].
pub fn signed(got: &Got) -> bool {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(&got.body);
    let want = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    got.signature == format!("sha256={want}")
}
