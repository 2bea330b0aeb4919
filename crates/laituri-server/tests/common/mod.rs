//! Shared helpers of the end-to-end tests: a real server on 127.0.0.1:0 with a temporary
//! database, driven over HTTP with reqwest. The backend is SQLite (a temporary file), or
//! PostgreSQL (a fresh database on a throwaway server) when `LAITURI_TEST_BACKEND=postgres`:
//! scripts/test.sh runs the server's suite once with each.
//!
//! Helpers only build requests and decode answers; they never look inside the database, so the
//! tests see the server exactly as a terminal or a merchant's system does.
//!
//! [`postgres`] gives a test a fresh, empty PostgreSQL database on a real, throwaway server.

#![allow(dead_code)] // Each test file uses a different subset.

pub mod outbound;
pub mod postgres;
pub mod webhooks;

use laituri_domain::calendar::Date;
use laituri_protocol::{
    EnrolRequest, EnrolResponse, Event, EventBody, NewEnrolmentCode, PROTOCOL_HEADER,
    PROTOCOL_VERSION, PullResponse, PushRequest, paths,
};
use laituri_server::{ServerConfig, ServerHandle, demo};
use reqwest::{Client, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

pub const ADMIN: &str = demo::ADMIN_KEY;

pub fn today() -> Date {
    Date::parse_iso("2026-03-15").unwrap()
}

/// True when this run's servers store in PostgreSQL.
pub fn on_postgres() -> bool {
    match std::env::var("LAITURI_TEST_BACKEND").as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Err(_) => false,
        Ok(other) => panic!("LAITURI_TEST_BACKEND={other}: use sqlite or postgres"),
    }
}

/// A local configuration on a new, empty database of this run's backend (not opened yet): a
/// SQLite file in the directory, or a PostgreSQL database dropped with the `PgDatabase`.
pub fn fresh_config() -> (
    tempfile::TempDir,
    Option<postgres::PgDatabase>,
    ServerConfig,
) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::local(dir.path().join("server.sqlite3"));
    let pg = on_postgres().then(postgres::fresh_database);
    config.database_url = pg.as_ref().map(|db| db.url.clone());
    (dir, pg, config)
}

pub struct TestServer {
    pub dir: tempfile::TempDir,
    /// The PostgreSQL database of this server, dropped with it; `None` on SQLite.
    pub pg: Option<postgres::PgDatabase>,
    pub config: ServerConfig,
    pub handle: Option<ServerHandle>,
    pub url: String,
    pub client: Client,
}

impl TestServer {
    /// An empty server (no master data, no enrolment codes).
    pub fn start() -> TestServer {
        TestServer::start_with_clock(laituri_server::clock::Clock::system())
    }

    /// A server with the demo warehouse seeded whose clock the test moves by hand.
    pub fn seeded_with_clock(clock: laituri_server::clock::Clock) -> TestServer {
        let s = TestServer::start_with_clock(clock);
        demo::seed(&s.config, today()).unwrap();
        s
    }

    /// An empty server reading lease expiry from `clock`.
    pub fn start_with_clock(clock: laituri_server::clock::Clock) -> TestServer {
        let (dir, pg, mut config) = fresh_config();
        config.clock = clock;
        TestServer::start_on(dir, pg, config)
    }

    /// A server of `config` on a database from [`fresh_config`] (that the test may have
    /// prepared).
    pub fn start_on(
        dir: tempfile::TempDir,
        pg: Option<postgres::PgDatabase>,
        config: ServerConfig,
    ) -> TestServer {
        let handle = ServerHandle::start(config.clone()).unwrap();
        let url = handle.url();
        TestServer {
            dir,
            pg,
            config,
            handle: Some(handle),
            url,
            client: client(),
        }
    }

    /// The event payloads the database keeps, whichever the backend.
    pub async fn stored_payloads(&self) -> Vec<String> {
        let sql = "SELECT payload FROM events";
        match &self.pg {
            Some(db) => db
                .connect()
                .await
                .query(sql, &[])
                .await
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect(),
            None => {
                let conn = rusqlite::Connection::open(&self.config.db_path).unwrap();
                let mut stmt = conn.prepare(sql).unwrap();
                stmt.query_map([], |r| r.get(0))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap()
            }
        }
    }

    /// Runs `sql` (statements separated by `;`) on this server's database, whichever the
    /// backend: for a test that makes the real database behave as a broken one would.
    pub async fn run_sql(&self, sql: &str) {
        match &self.pg {
            Some(db) => db.connect().await.batch_execute(sql).await.unwrap(),
            None => rusqlite::Connection::open(&self.config.db_path)
                .unwrap()
                .execute_batch(sql)
                .unwrap(),
        }
    }

    /// The bytes of event payloads the database keeps: what a device's pushes cost in storage.
    pub async fn stored_payload_bytes(&self) -> usize {
        self.stored_payloads().await.iter().map(String::len).sum()
    }

    /// A server with the demo warehouse seeded.
    pub fn seeded() -> TestServer {
        let s = TestServer::start();
        demo::seed(&s.config, today()).unwrap();
        s
    }

    /// Stops the server and starts a new one on the same database and the same port.
    pub fn restart(&mut self) {
        let old = self.handle.take().unwrap();
        let addr = old.addr();
        old.stop();
        let mut config = self.config.clone();
        config.bind = addr;
        let handle = ServerHandle::start(config).unwrap();
        assert_eq!(handle.addr(), addr);
        self.handle = Some(handle);
        // Pooled connections went away with the old server.
        self.client = client();
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// A request to the integration or admin API with the admin key, ready to send.
    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(ADMIN)
    }

    pub async fn admin_get<T: DeserializeOwned>(&self, path: &str) -> T {
        let resp = self
            .client
            .get(self.url(path))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap();
        json_ok(resp).await
    }

    pub async fn admin_post(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(ADMIN)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Makes an integration key through the admin API (201), as `body` asks.
    pub async fn new_api_key(&self, body: Value) -> laituri_protocol::NewApiKey {
        let resp = self.admin_post(paths::API_KEYS, &body).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        json_ok(resp).await
    }

    /// A new key of `merchant`'s own.
    pub async fn merchant_key(&self, merchant: &str) -> String {
        let body = serde_json::json!({"scope": "merchant", "merchant_id": merchant});
        self.new_api_key(body).await.key
    }

    /// `POST ENROL` of `device_id` with `code`, ready to send.
    pub fn enrol_request(&self, code: &str, device_id: Uuid) -> reqwest::RequestBuilder {
        self.client
            .post(self.url(paths::ENROL))
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .json(&EnrolRequest {
                enrolment_code: code.into(),
                device_id,
                device_name: "test scanner".into(),
                protocol_version: PROTOCOL_VERSION,
            })
    }

    pub async fn enrol_with(&self, code: &str, device_id: Uuid) -> Response {
        self.enrol_request(code, device_id).send().await.unwrap()
    }

    /// Makes an enrolment code through the admin API with the limits in `body`.
    pub async fn new_code(&self, body: Value) -> NewEnrolmentCode {
        json_ok(self.admin_post(paths::ENROLMENT_CODES, &body).await).await
    }

    /// Enrols a new device with the demo code; the server must have it.
    pub async fn device(&self) -> Device {
        let id = Uuid::now_v7();
        let resp: EnrolResponse = json_ok(self.enrol_with(demo::ENROLMENT_CODE, id).await).await;
        Device {
            id,
            token: resp.token,
            next_seq: resp.last_seq + 1,
        }
    }

    pub async fn push(&self, device: &Device, events: &[Event]) -> Response {
        self.client
            .post(self.url(paths::PUSH))
            .bearer_auth(&device.token)
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .json(&PushRequest {
                device_id: device.id,
                events: events.to_vec(),
            })
            .send()
            .await
            .unwrap()
    }

    /// POSTs a device call (lease, renew, release) with the device's token.
    pub async fn device_post<B: serde::Serialize>(
        &self,
        device: &Device,
        path: &str,
        body: &B,
    ) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(&device.token)
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn pull(&self, device: &Device, cursor: u64, limit: Option<u32>) -> PullResponse {
        let mut url = format!("{}?cursor={cursor}", self.url(paths::PULL));
        if let Some(l) = limit {
            url.push_str(&format!("&limit={l}"));
        }
        let resp = self
            .client
            .get(url)
            .bearer_auth(&device.token)
            .send()
            .await
            .unwrap();
        json_ok(resp).await
    }
}

fn client() -> Client {
    Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap()
}

/// Decodes a 2xx answer, or fails the test with the server's message.
pub async fn json_ok<T: DeserializeOwned>(resp: Response) -> T {
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert!(
        status.is_success(),
        "expected success, got {status}: {text}"
    );
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Asserts an error answer: its status, that it is `ApiError` JSON with `code`, and that it has a
/// message. Returns the decoded error.
pub async fn api_error(
    resp: Response,
    status: StatusCode,
    code: &str,
) -> laituri_protocol::ApiError {
    let got = resp.status();
    let text = resp.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    let err: laituri_protocol::ApiError =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not ApiError JSON ({e}): {text}"));
    assert_eq!(err.code, code, "{text}");
    assert!(
        err.message.len() > 20,
        "a message that says what to do: {text}"
    );
    err
}

/// What the receiving tests scan: the demo's outdoor shop and one of its plain products, at the
/// dock.
pub const KETTU_PRODUCT: &str = "KO-006";
/// Its unit barcode (GTIN-13).
pub const KETTU_GTIN: &str = "6498765000068";

/// A receipt of the demo's outdoor shop opened at the dock.
pub fn receipt_opened(receipt: Uuid) -> EventBody {
    EventBody::ReceiptOpened {
        receipt_id: receipt,
        merchant_id: demo::KETTU.into(),
        notice_id: None,
        dock: "DOCK-1".into(),
    }
}

/// `qty` units of [`KETTU_PRODUCT`] received into `tote` at the dock, in good condition.
pub fn goods_received(receipt: Uuid, qty: i64, tote: &str) -> EventBody {
    EventBody::GoodsReceived {
        receipt_id: receipt,
        merchant_id: demo::KETTU.into(),
        product_id: KETTU_PRODUCT.into(),
        quantity: qty,
        lot: None,
        expiry: None,
        serial: None,
        container: tote.into(),
        location: "DOCK-1".into(),
        condition: laituri_protocol::GoodsCondition::Good,
        barcode: KETTU_GTIN.into(),
    }
}

/// The receipt closed with no summary lines.
pub fn receipt_closed(receipt: Uuid) -> EventBody {
    EventBody::ReceiptClosed {
        receipt_id: receipt,
        notice_id: None,
        lines: vec![],
    }
}

/// A simulated terminal: its id, token and next seq.
pub struct Device {
    pub id: Uuid,
    pub token: String,
    pub next_seq: u64,
}

impl Device {
    /// The next event of this device (consumes a seq).
    pub fn event(&mut self, body: &EventBody) -> Event {
        let seq = self.next_seq;
        self.next_seq += 1;
        Event::new(
            Uuid::now_v7(),
            self.id,
            seq,
            "OP-1001",
            1_700_000_000_000,
            body,
        )
    }

    /// The next event of this device, recorded by `operator` (a shift lead's, say).
    pub fn event_by(&mut self, operator: &str, body: &EventBody) -> Event {
        let mut ev = self.event(body);
        ev.operator_id = operator.into();
        ev
    }
}
