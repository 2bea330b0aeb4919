//! The server tried as a hostile client would, against the real server on 127.0.0.1:0: each
//! test is an attack that once did harm (a 500, a device blocked, a panic) and must now be
//! refused with a message, harming nothing.

mod common;

use std::time::Duration;

use common::{TestServer, api_error, json_ok};
use laituri_protocol::{EnrolResponse, EventBody, EventOutcome, PushResponse, paths};
use laituri_server::{Limits, ServerConfig, ServerHandle, demo};
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use uuid::Uuid;

fn opened(receipt: Uuid) -> EventBody {
    EventBody::ReceiptOpened {
        receipt_id: receipt,
        merchant_id: "kettu-outdoor".into(),
        notice_id: None,
        dock: "DOCK-1".into(),
    }
}

/// A device files an event under another device's id: the whole push is refused, and the other
/// device's own next push (the same seq) is applied as if nothing happened. Before, the server
/// filed it under the claimed id and the victim's next push failed on every try.
#[tokio::test]
async fn an_event_naming_another_device_is_refused_and_harms_nobody() {
    let s = TestServer::seeded();
    let mut attacker = s.device().await;
    let mut victim = s.device().await;
    let mut forged = attacker.event(&opened(Uuid::now_v7()));
    forged.device_id = victim.id;
    let refused = s.push(&attacker, &[forged]).await;
    let err = api_error(refused, StatusCode::BAD_REQUEST, "bad_request").await;
    assert!(
        err.message.contains("only its own events"),
        "{}",
        err.message
    );

    let own = victim.event(&opened(Uuid::now_v7()));
    let answer: PushResponse = json_ok(s.push(&victim, &[own]).await).await;
    assert_eq!(answer.acked_through, 1);
    assert_eq!(answer.results[0].outcome, EventOutcome::Applied);
}

/// Seqs at the top of the number range are refused with a message, never a panic or a 500; the
/// device's queue is not blocked by them.
#[tokio::test]
async fn seqs_at_the_end_of_the_number_range_are_refused_not_crashed_on() {
    let s = TestServer::seeded();
    let mut dev = s.device().await;
    for seq in [u64::MAX, i64::MAX as u64 + 1] {
        let mut e = dev.event(&opened(Uuid::now_v7()));
        dev.next_seq -= 1;
        e.seq = seq;
        let refused = s.push(&dev, &[e]).await;
        api_error(refused, StatusCode::BAD_REQUEST, "bad_request").await;
    }
    let mut a = dev.event(&opened(Uuid::now_v7()));
    a.seq = u64::MAX;
    let mut b = dev.event(&opened(Uuid::now_v7()));
    b.seq = 0;
    api_error(
        s.push(&dev, &[a, b]).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await;
    // The device goes on from seq 1.
    dev.next_seq = 1;
    let ok = dev.event(&opened(Uuid::now_v7()));
    let answer: PushResponse = json_ok(s.push(&dev, &[ok]).await).await;
    assert_eq!(answer.acked_through, 1);
}

/// Two receipts of i64::MAX units into one tote once overflowed the stock row and every later
/// stock or receipt listing answered 500. Now each is refused with a reason, nothing is booked,
/// and every listing still answers.
#[tokio::test]
async fn huge_quantities_are_refused_and_every_listing_still_answers() {
    let s = TestServer::seeded();
    let mut dev = s.device().await;
    let receipt = Uuid::now_v7();
    let huge = |qty: i64| EventBody::GoodsReceived {
        receipt_id: receipt,
        merchant_id: "kettu-outdoor".into(),
        product_id: "KO-006".into(),
        quantity: qty,
        lot: None,
        expiry: None,
        serial: None,
        container: "T-0001".into(),
        location: "DOCK-1".into(),
        condition: laituri_protocol::GoodsCondition::Good,
        barcode: "6498765000068".into(),
    };
    let batch = vec![
        dev.event(&opened(receipt)),
        dev.event(&huge(i64::MAX)),
        dev.event(&huge(i64::MAX)),
        dev.event(&huge(3)),
    ];
    let answer: PushResponse = json_ok(s.push(&dev, &batch).await).await;
    assert_eq!(answer.acked_through, 4);
    for r in &answer.results[1..3] {
        assert!(
            matches!(&r.outcome, EventOutcome::Rejected { code, .. } if code == "quantity_too_large"),
            "{:?}",
            r.outcome
        );
    }
    assert_eq!(answer.results[3].outcome, EventOutcome::Applied);
    let stock: Vec<laituri_protocol::StockRow> = s
        .admin_get(&format!(
            "{}?product_id=KO-006",
            laituri_protocol::paths::STOCK
        ))
        .await;
    assert_eq!(stock.iter().map(|r| r.quantity).sum::<i64>(), 3);
    let _: Vec<laituri_protocol::ReceiptView> =
        s.admin_get(laituri_protocol::paths::RECEIPTS).await;
}

/// Bodies bigger than the route can need are refused with 413 and a message before anything
/// is parsed: an enrolment of 100 kB, a push of 10 MB (which the terminal answers by halving its
/// batch). A rejected event keeps a bounded payload: a device cannot grow the database by what
/// it sends.
#[tokio::test]
async fn oversized_bodies_are_refused_and_rejected_payloads_stay_small() {
    let s = TestServer::seeded();
    let client = reqwest::Client::new();
    let big_enrol = serde_json::json!({
        "enrolment_code": "x".repeat(100_000),
        "device_id": Uuid::now_v7(),
        "device_name": "T",
        "protocol_version": laituri_protocol::PROTOCOL_VERSION,
    });
    let resp = client
        .post(s.url(laituri_protocol::paths::ENROL))
        .header(
            laituri_protocol::PROTOCOL_HEADER,
            laituri_protocol::PROTOCOL_VERSION.to_string(),
        )
        .json(&big_enrol)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let mut dev = s.device().await;
    let receipt = Uuid::now_v7();
    let first = dev.event(&opened(receipt));
    let opened_ok: PushResponse = json_ok(s.push(&dev, &[first]).await).await;
    assert_eq!(opened_ok.acked_through, 1);
    // 10 MB in one push: refused whole.
    let huge = EventBody::UnknownBarcode {
        receipt_id: receipt,
        merchant_id: "kettu-outdoor".into(),
        raw: "x".repeat(10 * 1024 * 1024),
    };
    let mut too_big = dev.event(&huge);
    let sent = client
        .post(s.url(laituri_protocol::paths::PUSH))
        .bearer_auth(&dev.token)
        .header(
            laituri_protocol::PROTOCOL_HEADER,
            laituri_protocol::PROTOCOL_VERSION.to_string(),
        )
        .json(&laituri_protocol::PushRequest {
            device_id: dev.id,
            events: vec![too_big.clone()],
        })
        .send()
        .await;
    // The server answers 413 from the declared length and closes; a client still writing may
    // see the connection close instead. Either way nothing was taken, and the server goes on.
    if let Ok(resp) = sent {
        assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
    // 1 MB that the rules reject (an unknown receipt): answered, kept small, and its scan is
    // cut in the exception's text.
    let rejected_body = EventBody::UnknownBarcode {
        receipt_id: Uuid::now_v7(),
        merchant_id: "kettu-outdoor".into(),
        raw: "y".repeat(1024 * 1024),
    };
    too_big.payload =
        laituri_protocol::Event::new(Uuid::nil(), dev.id, 1, "x", 0, &rejected_body).payload;
    let answer: PushResponse = json_ok(s.push(&dev, &[too_big]).await).await;
    assert!(matches!(
        answer.results[0].outcome,
        EventOutcome::Rejected { .. }
    ));
    let kept = s.stored_payload_bytes().await;
    assert!(kept < 64 * 1024, "the events keep {kept} bytes of payload");
    let exceptions: Vec<laituri_protocol::ExceptionView> =
        s.admin_get(laituri_protocol::paths::EXCEPTIONS).await;
    assert!(exceptions.iter().all(|e| e.message.len() < 1000));
}

/// A server with the demo warehouse seeded and `limits` (small ones, to see them act within
/// seconds), on the backend of this run.
fn seeded_with(limits: Limits) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::local(dir.path().join("server.sqlite3"));
    config.limits = limits;
    let pg = common::on_postgres().then(common::postgres::fresh_database);
    config.database_url = pg.as_ref().map(|db| db.url.clone());
    let handle = ServerHandle::start(config.clone()).unwrap();
    let url = handle.url();
    let s = TestServer {
        dir,
        pg,
        config,
        handle: Some(handle),
        url,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap(),
    };
    demo::seed(&s.config, common::today()).unwrap();
    s
}

impl TestServer {
    async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.handle.as_ref().unwrap().addr())
            .await
            .unwrap()
    }
}

/// Reads until the server closes the connection (end of stream or a reset), at most `within`:
/// what the server sent, or `None` when the connection is still open after `within`.
async fn closed_within(tcp: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let deadline = tokio::time::Instant::now() + within;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, tcp.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(got),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Reads one whole answer (head and a `Content-Length` body) from a kept-alive connection.
async fn read_answer(tcp: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            if got.len() >= end + 4 + length {
                return String::from_utf8_lossy(&got).into_owned();
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf))
            .await
            .expect("an answer within 10 s")
            .unwrap();
        assert!(n > 0, "the connection closed mid-answer: {got:?}");
        got.extend_from_slice(&buf[..n]);
    }
}

/// Lets this test process hold `n` open files: the hostile tests hold thousands of sockets, and
/// both ends of each are in this process.
fn allow_open_files(n: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed to them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < n {
            limit.rlim_cur = n.min(limit.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// 2,000 connections that send half a request line and stall once held the server's memory
/// (about 190 MB) for as long as they liked. Now each is closed within a few seconds of the
/// header timeout, and the server answers a terminal meanwhile.
#[tokio::test]
async fn two_thousand_half_sent_requests_are_closed_and_the_server_answers_meanwhile() {
    allow_open_files(8192);
    let limits = Limits {
        max_connections: 2100,
        header_timeout: Duration::from_secs(2),
        ..Limits::default()
    };
    let within = limits.header_timeout * 3;
    let s = seeded_with(limits);
    let mut stalled = tokio::task::JoinSet::new();
    for _ in 0..2000 {
        let mut tcp = s.connect().await;
        tcp.write_all(b"GET /api/v1/hea").await.unwrap();
        stalled.spawn(async move { closed_within(&mut tcp, within).await.is_some() });
    }
    // Meanwhile, a terminal enrols, pushes and is answered.
    let health = s.client.get(s.url(paths::HEALTH)).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let mut dev = s.device().await;
    let event = dev.event(&opened(Uuid::now_v7()));
    let answer: PushResponse = json_ok(s.push(&dev, &[event]).await).await;
    assert_eq!(answer.acked_through, 1);

    let closed = stalled.join_all().await;
    let open = closed.iter().filter(|c| !**c).count();
    assert_eq!(
        open, 0,
        "{open} of 2000 half-sent requests were still open {within:?} after they stalled"
    );
}

/// A kept-alive connection serves one request after another, and is closed once it stays idle
/// for the header timeout.
#[tokio::test]
async fn idle_keep_alive_connections_are_closed() {
    let limits = Limits {
        header_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let within = limits.header_timeout * 3;
    let s = seeded_with(limits);
    let mut tcp = s.connect().await;
    for _ in 0..2 {
        tcp.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: laituri\r\n\r\n")
            .await
            .unwrap();
        let answer = read_answer(&mut tcp).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    let rest = closed_within(&mut tcp, within).await;
    assert_eq!(
        rest.as_deref(),
        Some(&b""[..]),
        "the idle connection was not closed within {within:?}"
    );
}

/// A request whose body stalls, or trickles in a byte at a time, no longer holds a connection:
/// it is answered 408 and closed. A device's push that comes slowly but steadily, over longer
/// than a small call may take, is a terminal on a thin link: it is applied.
#[tokio::test]
async fn stalled_and_trickling_bodies_are_cut_but_a_slow_steady_push_is_applied() {
    let limits = Limits {
        body_stall_timeout: Duration::from_secs(1),
        small_body_timeout: Duration::from_secs(2),
        ..Limits::default()
    };
    let s = seeded_with(limits.clone());
    let enrol_head = format!(
        "POST {} HTTP/1.1\r\nHost: laituri\r\nContent-Type: application/json\r\n\
         Content-Length: 10000\r\n\r\n",
        paths::ENROL
    );

    // A body that stops after a few bytes.
    let mut tcp = s.connect().await;
    tcp.write_all(format!("{enrol_head}{{\"enrol").as_bytes())
        .await
        .unwrap();
    let within = limits.body_stall_timeout * 3;
    let answer = closed_within(&mut tcp, within)
        .await
        .unwrap_or_else(|| panic!("a stalled body held the connection for {within:?}"));
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");

    // A body that never stops for long, but never ends: a byte every 100 ms.
    let tcp = s.connect().await;
    let (mut read, mut write) = tcp.into_split();
    write.write_all(enrol_head.as_bytes()).await.unwrap();
    let trickle = tokio::spawn(async move {
        while write.write_all(b" ").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let within = limits.small_body_timeout * 3;
    let mut answer = Vec::new();
    let closed = tokio::time::timeout(within, read.read_to_end(&mut answer)).await;
    assert!(
        closed.is_ok(),
        "a trickling body held the connection for {within:?}"
    );
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    trickle.abort();

    // The large calls get a long time for their bodies only once their token is checked: without
    // one, a body that stalls is never read; the answer is 401, and the connection closes.
    for path in [paths::PUSH, paths::PRODUCTS] {
        let mut tcp = s.connect().await;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: laituri\r\nContent-Type: application/json\r\n\
             Content-Length: 1000000\r\n\r\n[{{"
        );
        tcp.write_all(head.as_bytes()).await.unwrap();
        let answer = closed_within(&mut tcp, within)
            .await
            .unwrap_or_else(|| panic!("a stalled body to {path} held the connection"));
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 401"), "{path}: {answer}");
    }

    // A push sent in ten pieces 300 ms apart: 3 s in all, longer than a small call may take,
    // never a pause as long as the stall timeout.
    let mut dev = s.device().await;
    let events = vec![dev.event(&opened(Uuid::now_v7()))];
    let body = serde_json::to_vec(&laituri_protocol::PushRequest {
        device_id: dev.id,
        events,
    })
    .unwrap();
    let mut tcp = s.connect().await;
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: laituri\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        paths::PUSH,
        dev.token,
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    for piece in body.chunks(body.len().div_ceil(10)) {
        tokio::time::sleep(Duration::from_millis(300)).await;
        tcp.write_all(piece).await.unwrap();
    }
    let answer = read_answer(&mut tcp).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"acked_through\":1"), "{answer}");
}

/// Connections beyond the server's bound are not taken while the bound is held: they wait, and
/// are served as soon as the stalled connections that held it are closed. Thousands of idle
/// sockets therefore cannot grow the server's memory.
#[tokio::test]
async fn connections_beyond_the_bound_wait_until_stalled_ones_are_closed() {
    let limits = Limits {
        max_connections: 20,
        header_timeout: Duration::from_secs(4),
        ..Limits::default()
    };
    let within = limits.header_timeout * 3;
    let s = seeded_with(limits);
    let mut stalled = Vec::new();
    for _ in 0..20 {
        stalled.push(s.connect().await);
    }
    let mut waiting = s.connect().await;
    waiting
        .write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: laituri\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_secs(1), waiting.read(&mut buf)).await;
    assert!(
        early.is_err(),
        "the 21st connection was served while 20 stalled ones held the bound of 20"
    );
    let answer = tokio::time::timeout(within, read_answer(&mut waiting))
        .await
        .unwrap_or_else(|_| panic!("the 21st connection was not served within {within:?}"));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    for mut tcp in stalled {
        assert!(closed_within(&mut tcp, within).await.is_some());
    }
}

/// Guessing enrolment codes: after the burst, attempts from one address are answered 429 with
/// `Retry-After`, whether the code is wrong or right, so a guesser learns nothing. After the wait
/// the right code enrols, and enrolments that succeed use up nothing.
#[tokio::test]
async fn enrolment_guesses_are_limited_per_address_and_the_right_code_enrols_after_the_wait() {
    let limits = Limits {
        enrol_burst: 10,
        enrol_interval: Duration::from_secs(1),
        ..Limits::default()
    };
    let s = seeded_with(limits);
    let started = std::time::Instant::now();
    let mut statuses = Vec::new();
    let mut last_refusal = None;
    for i in 0..100 {
        let resp = s
            .enrol_with(&format!("ENR-GUESS{i:03}"), Uuid::now_v7())
            .await;
        statuses.push(resp.status());
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            last_refusal = Some(resp);
        }
    }
    // Attempts that came back while the 100 were sent.
    let refilled = started.elapsed().as_secs() as usize + 1;
    assert!(
        statuses[..10]
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    let wrong = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(wrong + limited, 100, "{statuses:?}");
    assert!(wrong <= 10 + refilled, "{wrong} guesses were answered");
    let refusal = last_refusal.expect("guesses were limited");
    let retry_after: u64 = refusal.headers()[reqwest::header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "Retry-After: {retry_after}");
    let err = api_error(refusal, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;
    assert!(err.message.contains("wait"), "{}", err.message);

    // The right code is refused too while the address must wait.
    let early = s.enrol_with(demo::ENROLMENT_CODE, Uuid::now_v7()).await;
    let retry_after: u64 = early.headers()[reqwest::header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    api_error(early, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;

    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    for _ in 0..5 {
        let _: EnrolResponse =
            json_ok(s.enrol_with(demo::ENROLMENT_CODE, Uuid::now_v7()).await).await;
    }
}

/// Behind a trusted reverse proxy every client has its own enrolment bucket, by the address the
/// proxy forwards; from a peer that is not a trusted proxy the header changes nothing, so a
/// guesser cannot make up addresses to get new buckets.
#[tokio::test]
async fn through_a_trusted_proxy_each_client_has_its_own_enrolment_bucket() {
    let limits = |trusted: Vec<std::net::IpAddr>| Limits {
        enrol_burst: 3,
        enrol_interval: Duration::from_secs(60),
        trusted_proxies: trusted,
        ..Limits::default()
    };
    let guess = |s: &TestServer, from: &'static str| {
        s.enrol_request("ENR-GUESS", Uuid::now_v7())
            .header("x-forwarded-for", from)
            .send()
    };
    // The tests' requests come from 127.0.0.1: the proxy here.
    let behind = seeded_with(limits(vec!["127.0.0.1".parse().unwrap()]));
    for _ in 0..3 {
        assert_eq!(
            guess(&behind, "192.0.2.10").await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = guess(&behind, "192.0.2.10").await.unwrap();
    api_error(limited, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;
    // Another client behind the same proxy is not held up by the first one's guesses.
    let other = guess(&behind, "192.0.2.11").await.unwrap();
    api_error(other, StatusCode::UNAUTHORIZED, "bad_enrolment_code").await;
    // What a client writes left of the address the proxy appended is not believed.
    let spoofed = guess(&behind, "192.0.2.99, 192.0.2.10").await.unwrap();
    api_error(spoofed, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;

    // Without the proxy trusted, a made-up header gets no bucket of its own.
    let direct = seeded_with(limits(Vec::new()));
    for from in ["192.0.2.1", "192.0.2.2", "192.0.2.3"] {
        assert_eq!(
            guess(&direct, from).await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = guess(&direct, "192.0.2.4").await.unwrap();
    api_error(limited, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;
}

/// A scan of a 2D shipping label (a person's name and address) at the receiving dock is an
/// unknown barcode: the server keeps it only as a hash, in the event and in the exception, even
/// when a device sends it whole.
#[tokio::test]
async fn a_shipping_label_scanned_as_unknown_keeps_no_personal_data() {
    let s = TestServer::seeded();
    let mut dev = s.device().await;
    let receipt = Uuid::now_v7();
    let label = format!(
        "Matti Meikäläinen|Esimerkkikatu 12 B 7|00100 Helsinki|+358401234567|{}",
        "0".repeat(80)
    );
    let batch = vec![
        dev.event(&opened(receipt)),
        dev.event(&EventBody::UnknownBarcode {
            receipt_id: receipt,
            merchant_id: "kettu-outdoor".into(),
            raw: label.clone(),
        }),
    ];
    let answer: PushResponse = json_ok(s.push(&dev, &batch).await).await;
    assert_eq!(answer.acked_through, 2);
    for payload in s.stored_payloads().await {
        assert!(!payload.contains("Meikäläinen"), "{payload}");
        assert!(!payload.contains("Esimerkkikatu"), "{payload}");
    }
    let exceptions: Vec<laituri_protocol::ExceptionView> =
        s.admin_get(laituri_protocol::paths::EXCEPTIONS).await;
    assert_eq!(exceptions.len(), 1);
    assert!(
        !exceptions[0].message.contains("Meikäläinen"),
        "{}",
        exceptions[0].message
    );
    assert!(
        exceptions[0].message.contains("sha256:"),
        "{}",
        exceptions[0].message
    );
}
