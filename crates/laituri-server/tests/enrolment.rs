//! Enrolment codes end to end, on the run's backend: made by the server, shown once and listed
//! without their secret, one use and 24 hours unless asked otherwise, expiring by the server's
//! clock; a known device enrolled again only with its own token or a code made for it; one use
//! consumed once when devices race for it; codes an older server stored in clear adopted hashed.

mod common;

use std::time::Duration;

use common::{TestServer, api_error, json_ok, on_postgres};
use laituri_protocol::{
    EnrolResponse, EnrolmentCode, EventBody, NewEnrolmentCode, PushResponse, paths,
};
use laituri_server::clock::Clock;
use laituri_server::demo;
use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

const HOUR_MS: i64 = 60 * 60 * 1000;

async fn codes(s: &TestServer) -> Vec<EnrolmentCode> {
    s.admin_get(paths::ENROLMENT_CODES).await
}

fn opened() -> EventBody {
    EventBody::ReceiptOpened {
        receipt_id: Uuid::now_v7(),
        merchant_id: demo::KETTU.into(),
        notice_id: None,
        dock: "DOCK-1".into(),
    }
}

#[tokio::test]
async fn a_code_enrols_one_device_once_and_is_listed_without_its_secret() {
    let s = TestServer::start();
    let resp = s.admin(Method::POST, paths::ENROLMENT_CODES).send().await;
    let resp = resp.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let made: NewEnrolmentCode = json_ok(resp).await;
    let listed = &made.listed;
    assert_eq!((listed.uses, listed.uses_left), (1, 1));
    assert_eq!(listed.expires_at_ms - listed.created_at_ms, 24 * HOUR_MS);
    assert!(listed.device_id.is_none() && listed.used_by.is_empty());

    // The listing never shows the code, in any form.
    let listing = s.admin(Method::GET, paths::ENROLMENT_CODES).send().await;
    let text = listing.unwrap().text().await.unwrap();
    assert!(!text.contains(&made.code), "{text}");
    assert!(!text.contains(&made.code.replace('-', "")), "{text}");
    assert!(!text.contains("\"code\""), "{text}");
    assert_eq!(codes(&s).await, vec![made.listed.clone()]);

    // Typed as a person might: lower case, spaces for dashes.
    let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
    let typed = made.code.to_lowercase().replace('-', " ");
    let enrolled: EnrolResponse = json_ok(s.enrol_with(&typed, first).await).await;
    assert_eq!(enrolled.last_seq, 0);

    // Used once: a second device is refused and told what to do.
    let refused = api_error(
        s.enrol_with(&made.code, second).await,
        StatusCode::UNAUTHORIZED,
        "bad_enrolment_code",
    )
    .await;
    assert!(refused.message.contains("used"), "{}", refused.message);
    assert!(
        refused.message.contains("shift lead"),
        "{}",
        refused.message
    );

    // The device it enrolled may send the same request again (its answer was lost), and that
    // uses nothing more.
    let again: EnrolResponse = json_ok(s.enrol_with(&made.code, first).await).await;
    assert_ne!(again.token, enrolled.token);
    let listed = codes(&s).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].uses_left, 0);
    let used_by: Vec<Uuid> = listed[0].used_by.iter().map(|u| u.device_id).collect();
    assert_eq!(used_by, vec![first]);

    // An unknown code is refused alike.
    api_error(
        s.enrol_with("NOPE-NOPE-NOPE", second).await,
        StatusCode::UNAUTHORIZED,
        "bad_enrolment_code",
    )
    .await;
}

#[tokio::test]
async fn codes_expire_by_the_servers_clock_and_requests_are_bounded() {
    let clock = Clock::manual(1_800_000_000_000);
    let s = TestServer::start_with_clock(clock.clone());

    let rack = s
        .new_code(json!({"expires_in_hours": 2, "uses": 3, "note": "rack 3"}))
        .await;
    assert_eq!(rack.listed.created_at_ms, 1_800_000_000_000);
    assert_eq!(rack.listed.expires_at_ms, 1_800_000_000_000 + 2 * HOUR_MS);
    assert_eq!(rack.listed.note.as_deref(), Some("rack 3"));
    let plain = s.new_code(json!({})).await;

    clock.advance(Duration::from_secs(2 * 3600 - 1));
    let _: EnrolResponse = json_ok(s.enrol_with(&rack.code, Uuid::now_v7()).await).await;
    clock.advance(Duration::from_secs(1));
    let expired = api_error(
        s.enrol_with(&rack.code, Uuid::now_v7()).await,
        StatusCode::UNAUTHORIZED,
        "bad_enrolment_code",
    )
    .await;
    assert!(expired.message.contains("expired"), "{}", expired.message);

    // The default life is 24 hours.
    clock.advance(Duration::from_secs(22 * 3600));
    api_error(
        s.enrol_with(&plain.code, Uuid::now_v7()).await,
        StatusCode::UNAUTHORIZED,
        "bad_enrolment_code",
    )
    .await;

    // Longer than 30 days, more than 50 devices, or a code of the caller's own: refused.
    let too_long = json!({"expires_in_hours": 721});
    let too_many = json!({"uses": 51});
    let none = [json!({"expires_in_hours": 0}), json!({"uses": 0})];
    let own = json!({"code": "MY-OWN-CODE"});
    for body in [too_long, too_many, own].into_iter().chain(none) {
        let resp = s.admin_post(paths::ENROLMENT_CODES, &body).await;
        api_error(resp, StatusCode::BAD_REQUEST, "bad_request").await;
    }
    assert_eq!(codes(&s).await.len(), 2);

    // A code that leaked is revoked: it stops at once, also for a device it enrolled before,
    // and the listing shows when it ended.
    let leaked = s.new_code(json!({"uses": 5})).await;
    let dev = Uuid::now_v7();
    let _: EnrolResponse = json_ok(s.enrol_with(&leaked.code, dev).await).await;
    let revoke = || {
        s.admin(
            Method::DELETE,
            &format!("{}/{}", paths::ENROLMENT_CODES, leaked.listed.id),
        )
        .send()
    };
    assert_eq!(revoke().await.unwrap().status(), StatusCode::NO_CONTENT);
    for device in [Uuid::now_v7(), dev] {
        let refused = api_error(
            s.enrol_with(&leaked.code, device).await,
            StatusCode::UNAUTHORIZED,
            "bad_enrolment_code",
        )
        .await;
        assert!(refused.message.contains("expired"), "{}", refused.message);
    }
    let listed = codes(&s).await;
    let ended = listed.iter().find(|c| c.id == leaked.listed.id).unwrap();
    assert_eq!(ended.expires_at_ms, clock.now_ms());
    api_error(revoke().await.unwrap(), StatusCode::NOT_FOUND, "not_found").await;
}

/// Enrols `dev` again with no code, sending its token as the bearer.
async fn with_token(s: &TestServer, dev: &common::Device) -> reqwest::Response {
    let req = s.enrol_request("", dev.id).bearer_auth(&dev.token);
    req.send().await.unwrap()
}

/// Asserts that the token of `dev` no longer works.
async fn token_refused(s: &TestServer, dev: &common::Device) {
    let resp = s.push(dev, &[]).await;
    api_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn a_known_device_enrols_again_only_with_its_token_or_a_code_made_for_it() {
    let s = TestServer::seeded();
    let x = Uuid::now_v7();
    let first = s.new_code(json!({})).await;
    let enrolled: EnrolResponse = json_ok(s.enrol_with(&first.code, x).await).await;
    let mut dev = common::Device {
        id: x,
        token: enrolled.token,
        next_seq: 1,
    };
    let event = dev.event(&opened());
    let _: PushResponse = json_ok(s.push(&dev, &[event]).await).await;

    // Another code, however many uses it has (the demo's too), cannot take the device over.
    let other = s.new_code(json!({"uses": 5})).await;
    for code in [other.code.as_str(), demo::ENROLMENT_CODE] {
        let refused = api_error(
            s.enrol_with(code, x).await,
            StatusCode::CONFLICT,
            "device_already_enrolled",
        )
        .await;
        assert!(
            refused.message.contains(&x.to_string()),
            "{}",
            refused.message
        );
        assert!(
            refused.message.contains("shift lead"),
            "{}",
            refused.message
        );
    }
    // The refusals used nothing and replaced no token.
    let listed = codes(&s).await;
    let other_listed = listed.iter().find(|c| c.id == other.listed.id).unwrap();
    assert_eq!(other_listed.uses_left, 5);
    let _: PushResponse = json_ok(s.push(&dev, &[]).await).await;

    // A code made for X enrols X, and no other device.
    let for_x = s.new_code(json!({"device_id": x})).await;
    assert_eq!(for_x.listed.device_id, Some(x));
    api_error(
        s.enrol_with(&for_x.code, Uuid::now_v7()).await,
        StatusCode::CONFLICT,
        "code_for_another_device",
    )
    .await;
    let again: EnrolResponse = json_ok(s.enrol_with(&for_x.code, x).await).await;
    assert_eq!(again.last_seq, 1, "the device keeps its history");
    token_refused(&s, &dev).await;
    dev.token = again.token;

    // Its current token, sent as the bearer, enrols it again without a code.
    let renewed: EnrolResponse = json_ok(with_token(&s, &dev).await).await;
    assert_eq!(renewed.last_seq, 1);
    token_refused(&s, &dev).await;
    // The old token proves nothing any more.
    let resp = with_token(&s, &dev).await;
    api_error(resp, StatusCode::UNAUTHORIZED, "bad_enrolment_code").await;
    dev.token = renewed.token;
    let _: PushResponse = json_ok(s.push(&dev, &[]).await).await;
}

/// Sends the enrolments of `devices` with `code` all at once; answers the statuses.
async fn at_once(s: &TestServer, code: &str, devices: &[Uuid]) -> Vec<StatusCode> {
    let sent: Vec<_> = devices
        .iter()
        .map(|d| tokio::spawn(s.enrol_request(code, *d).send()))
        .collect();
    let mut statuses = Vec::new();
    for answer in sent {
        statuses.push(answer.await.unwrap().unwrap().status());
    }
    statuses
}

fn count(statuses: &[StatusCode], status: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn devices_racing_for_a_code_get_exactly_its_uses() {
    let s = TestServer::start();
    for uses in [1, 3] {
        let code = s.new_code(json!({ "uses": uses })).await;
        let devices: Vec<Uuid> = (0..8).map(|_| Uuid::now_v7()).collect();
        let statuses = at_once(&s, &code.code, &devices).await;
        assert_eq!(count(&statuses, StatusCode::OK), uses, "{statuses:?}");
        assert_eq!(
            count(&statuses, StatusCode::UNAUTHORIZED),
            devices.len() - uses,
            "{statuses:?}"
        );
        let listed = codes(&s).await;
        let listed = listed.iter().find(|c| c.id == code.listed.id).unwrap();
        assert_eq!(listed.uses_left, 0);
        assert_eq!(listed.used_by.len(), uses);
    }

    // One new device id enrolled at once with two codes: one wins, the other would take it over.
    let device = Uuid::now_v7();
    let (a, b) = (s.new_code(json!({})).await, s.new_code(json!({})).await);
    let (ra, rb) = tokio::join!(
        s.enrol_request(&a.code, device).send(),
        s.enrol_request(&b.code, device).send()
    );
    let mut statuses = vec![ra.unwrap().status(), rb.unwrap().status()];
    statuses.sort();
    assert_eq!(statuses, vec![StatusCode::OK, StatusCode::CONFLICT]);
    let used: u32 = codes(&s)
        .await
        .iter()
        .filter(|c| c.id == a.listed.id || c.id == b.listed.id)
        .map(|c| c.uses - c.uses_left)
        .sum();
    assert_eq!(used, 1, "the refused enrolment used nothing");
}

/// Makes the schema an older server left (codes in clear) on the fresh database of `config`,
/// with `code` stored in clear.
async fn old_schema_with_code(
    config: &laituri_server::ServerConfig,
    pg: Option<&common::postgres::PgDatabase>,
    code: &str,
) {
    let wh = config.warehouse_id.as_str();
    match pg {
        Some(db) => {
            let c = db.connect().await;
            c.batch_execute(include_str!("../migrations/postgres/0001_init.sql"))
                .await
                .unwrap();
            c.batch_execute(
                "CREATE TABLE schema_migrations (
                     version    INTEGER PRIMARY KEY,
                     applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                 );
                 INSERT INTO schema_migrations (version) VALUES (1);",
            )
            .await
            .unwrap();
            c.execute(
                "INSERT INTO enrolment_codes (warehouse_id, code) VALUES ($1, $2)",
                &[&wh, &code],
            )
            .await
            .unwrap();
        }
        None => {
            let c = rusqlite::Connection::open(&config.db_path).unwrap();
            c.execute_batch(include_str!("../migrations/0001_init.sql"))
                .unwrap();
            c.execute_batch(include_str!("../migrations/0002_flows_tasks_epoch.sql"))
                .unwrap();
            c.pragma_update(None, "user_version", 2).unwrap();
            c.execute(
                "INSERT INTO enrolment_codes (warehouse_id, code) VALUES (?1, ?2)",
                [wh, code],
            )
            .unwrap();
        }
    }
}

/// True when the table of codes in clear is still in the database of `s`.
async fn clear_codes_left(s: &TestServer) -> bool {
    match &s.pg {
        Some(db) => db
            .connect()
            .await
            .query_one(
                "SELECT to_regclass('enrolment_codes_legacy') IS NOT NULL",
                &[],
            )
            .await
            .unwrap()
            .get(0),
        None => rusqlite::Connection::open(&s.config.db_path)
            .unwrap()
            .query_row(
                "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'enrolment_codes_legacy'",
                [],
                |r| r.get(0),
            )
            .unwrap(),
    }
}

#[tokio::test]
async fn codes_an_older_server_stored_in_clear_are_hashed_and_expire_in_30_days() {
    let (dir, pg, config) = common::fresh_config();
    old_schema_with_code(&config, pg.as_ref(), "shift-7").await;
    let s = TestServer::start_on(dir, pg, config);
    assert!(!clear_codes_left(&s).await);

    let listed = codes(&s).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let old = &listed[0];
    assert_eq!((old.uses, old.uses_left), (10_000, 10_000));
    assert_eq!(old.expires_at_ms - old.created_at_ms, 30 * 24 * HOUR_MS);
    assert!(old.note.as_deref().unwrap().contains("older server"));

    // Terminals being set up with it still enrol, typed in its normal form or as it was.
    for typed in ["shift-7", "SHIFT7"] {
        let _: EnrolResponse = json_ok(s.enrol_with(typed, Uuid::now_v7()).await).await;
    }
    assert_eq!(codes(&s).await[0].used_by.len(), 2);
    if !on_postgres() {
        // Opening again finds nothing more to adopt.
        laituri_server::SqliteStore::open(&s.config.db_path, demo::WAREHOUSE_ID).unwrap();
    }
}

#[test]
fn the_demo_admin_key_is_refused_unless_the_server_listens_on_loopback_only() {
    let (_dir, _pg, mut config) = common::fresh_config();
    assert_eq!(config.admin_key, demo::ADMIN_KEY);
    config.bind = "0.0.0.0:0".parse().unwrap();
    let refused = laituri_server::ServerHandle::start(config.clone())
        .err()
        .expect("the demo key on every address is refused");
    let message = format!("{refused:#}");
    assert!(message.contains(demo::ADMIN_KEY), "{message}");
    assert!(message.contains("--admin-key"), "{message}");

    // A key of the site's own listens on every address; the demo key on loopback.
    config.admin_key = "a-key-of-this-site-only".into();
    let open = laituri_server::ServerHandle::start(config.clone()).unwrap();
    let port = open.addr().port();
    let connected = std::net::TcpStream::connect(("127.0.0.1", port));
    assert!(connected.is_ok(), "reachable over loopback on port {port}");
    open.stop();
    config.admin_key = demo::ADMIN_KEY.into();
    config.bind = "127.0.0.1:0".parse().unwrap();
    laituri_server::ServerHandle::start(config).unwrap().stop();
}
