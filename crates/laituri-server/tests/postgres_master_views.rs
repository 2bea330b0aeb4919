//! Master data and views on PostgreSQL and on SQLite, through the same test code: both backends
//! must give equal answers, and append the same changes to the change log.
//!
//! PostgreSQL is the tests' throwaway server (`common::postgres`: `LAITURI_TEST_POSTGRES`, or one
//! started for the process). Each test makes a database of its own there (with a natural-language
//! collation where the server has ICU, so bytewise ordering is really tested) and drops it when
//! it passes.

mod common;

use laituri_protocol::{InboundNotice, Merchant, MerchantRules, NoticeLine, NoticeStatus, Product};
use laituri_server::enrolment::CodeToStore;
use laituri_server::store::postgres::Postgres;
use laituri_server::store::{Page, Scope, StockFilter, UpsertSummary};
use laituri_server::{MasterData, Sqlite, SqliteStore, StoreError, Views, demo, master};
use tokio_postgres::NoTls;
use uuid::Uuid;

const WAREHOUSE: &str = demo::WAREHOUSE_ID;

/// A backend as these tests use it.
trait Both: MasterData + Views {}
impl<T: MasterData + Views> Both for T {}

/// One test's pair of backends, empty.
struct Backends {
    pg: Postgres,
    sqlite: Sqlite,
    /// The test's PostgreSQL database and the URL of the server's own.
    pg_db: String,
    admin_url: String,
    sqlite_path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// The throwaway server's maintenance database (see `common::postgres`).
fn admin_url() -> String {
    common::postgres::server_url().to_string()
}

/// `url` with its database replaced by `db`.
fn url_of_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority..].find('/') {
        Some(slash) => &base[..authority + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

async fn admin_client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to LAITURI_TEST_POSTGRES ({url}): {e}"));
    tokio::spawn(connection);
    client
}

impl Backends {
    async fn new() -> Backends {
        let admin_url = admin_url();
        let admin = admin_client(&admin_url).await;
        let pg_db = format!("t_{}", Uuid::now_v7().simple());
        // A natural-language collation sorts "alpha" before "Zeta"; SQLite sorts bytewise, and
        // the backends must agree. Without ICU the server's own collation has to do.
        let icu = format!(
            "CREATE DATABASE {pg_db} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
        );
        if let Err(e) = admin.batch_execute(&icu).await {
            eprintln!("no ICU collation ({e}); using the server's default collation");
            admin
                .batch_execute(&format!("CREATE DATABASE {pg_db}"))
                .await
                .expect("create the test database");
        }
        let pg = Postgres::connect(&url_of_database(&admin_url, &pg_db), WAREHOUSE)
            .await
            .expect("connect to the test database");
        let dir = tempfile::tempdir().unwrap();
        let sqlite_path = dir.path().join("server.sqlite3");
        let sqlite = Sqlite::new(SqliteStore::open(&sqlite_path, WAREHOUSE).unwrap());
        Backends {
            pg,
            sqlite,
            pg_db,
            admin_url,
            sqlite_path,
            _dir: dir,
        }
    }

    /// Another warehouse in the same PostgreSQL database.
    async fn pg_other_warehouse(&self) -> Postgres {
        Postgres::connect(&url_of_database(&self.admin_url, &self.pg_db), "WH-OTHER")
            .await
            .unwrap()
    }

    /// Runs `check` on both backends and answers both results (PostgreSQL first).
    async fn both<T, F>(&self, check: F) -> (T, T)
    where
        F: AsyncFn(&dyn Both) -> T,
    {
        (check(&self.pg).await, check(&self.sqlite).await)
    }

    /// The warehouse's change log on both backends (PostgreSQL first), oldest first: entity,
    /// entity id, merchant, device and data of each change.
    async fn change_logs(&self) -> (Vec<ChangeRow>, Vec<ChangeRow>) {
        let db = admin_client(&url_of_database(&self.admin_url, &self.pg_db)).await;
        let pg = db
            .query(
                "SELECT entity, entity_id, merchant_id, device_id::text, data FROM changes
                 WHERE warehouse_id = $1 ORDER BY cursor",
                &[&WAREHOUSE],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
            .collect();
        let conn = rusqlite::Connection::open(&self.sqlite_path).unwrap();
        let mut stmt = conn
            .prepare(
                "SELECT entity, entity_id, merchant_id, device_id, data FROM changes
                 WHERE warehouse_id = ?1 ORDER BY cursor",
            )
            .unwrap();
        let sqlite = stmt
            .query_map([WAREHOUSE], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mask = |rows: Vec<ChangeRow>| -> Vec<ChangeRow> {
            rows.into_iter()
                .map(|(e, id, m, d, data)| (e, id, m, d, masked_change(data)))
                .collect()
        };
        (mask(pg), mask(sqlite))
    }

    /// Drops the test's PostgreSQL database (a failed test leaves it to look at).
    async fn finish(self) {
        let Backends { pg, pg_db, .. } = self;
        drop(pg);
        admin_client(&admin_url())
            .await
            .batch_execute(&format!("DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)"))
            .await
            .unwrap();
    }
}

/// Runs `check` on fresh backends, PostgreSQL and SQLite, asserts that both answered alike, and
/// answers the backends (to look further, then finish) and the answer.
async fn alike<T, F>(check: F) -> (Backends, T)
where
    T: PartialEq + std::fmt::Debug,
    F: AsyncFn(&dyn Both) -> T,
{
    let b = Backends::new().await;
    let (pg, sqlite) = b.both(check).await;
    assert_eq!(
        pg, sqlite,
        "PostgreSQL (left) and SQLite (right) answer alike"
    );
    (b, pg)
}

type ChangeRow = (String, String, Option<String>, Option<String>, String);

const ALL: Page = Page {
    after: None,
    limit: u32::MAX,
};

/// Every listing of master data, whole.
#[derive(Debug, PartialEq)]
struct Listings {
    merchants: Vec<Merchant>,
    products: Vec<Product>,
    locations: Vec<laituri_protocol::Location>,
    operators: Vec<laituri_protocol::Operator>,
    notices: Vec<InboundNotice>,
    /// Uses, uses left and note of each code: ids and times differ between two stores.
    enrolment_codes: Vec<(u32, u32, Option<String>)>,
}

async fn listings(store: &dyn Both) -> Listings {
    Listings {
        merchants: store.merchants(&ALL, &Scope::Warehouse).await.unwrap(),
        products: store.products(&ALL, &Scope::Warehouse).await.unwrap(),
        locations: store.locations(&ALL).await.unwrap(),
        operators: store
            .operators(&ALL)
            .await
            .unwrap()
            .into_iter()
            .map(masked_pin)
            .collect(),
        notices: store.notices(&ALL, &Scope::Warehouse).await.unwrap(),
        enrolment_codes: store
            .enrolment_codes(&ALL)
            .await
            .unwrap()
            .into_iter()
            .map(|c| (c.uses, c.uses_left, c.note))
            .collect(),
    }
}

/// A PIN's hash is salted at random, so two backends store different hashes of one PIN: the
/// comparisons see whether there is one, and which PIN it matches is checked on its own.
fn masked_pin(mut o: laituri_protocol::Operator) -> laituri_protocol::Operator {
    o.pin_hash = o.pin_hash.map(|_| "<salted hash>".into());
    o
}

/// A change's data with any PIN hash masked (see [`masked_pin`]).
fn masked_change(data: String) -> String {
    if !data.contains("$argon2id$") {
        return data;
    }
    let o: laituri_protocol::Operator = serde_json::from_str(&data).unwrap();
    serde_json::to_string(&masked_pin(o)).unwrap()
}

/// The demo's master data as the integration API would store it (no enrolment code).
fn prepared() -> Listings {
    let d = demo::data();
    Listings {
        merchants: master::prepare_merchants(d.merchants).unwrap(),
        products: master::prepare_products(d.products).unwrap(),
        locations: master::prepare_locations(d.locations).unwrap(),
        operators: master::prepare_operators(d.operators)
            .unwrap()
            .into_iter()
            .map(|o| masked_pin(o.with_pin_hashed(None)))
            .collect(),
        notices: master::prepare_notices(d.notices).unwrap(),
        enrolment_codes: Vec::new(),
    }
}

async fn upsert_demo(store: &dyn Both) -> [UpsertSummary; 5] {
    let p = prepared();
    let out = [
        store.upsert_merchants(&p.merchants).await.unwrap(),
        store.upsert_products(&p.products).await.unwrap(),
        store.upsert_locations(&p.locations).await.unwrap(),
        store
            .upsert_operators(&master::prepare_operators(demo::data().operators).unwrap())
            .await
            .unwrap(),
        store.upsert_notices(&p.notices).await.unwrap(),
    ];
    store
        .store_enrolment_code(&CodeToStore::demo(demo::ENROLMENT_CODE))
        .await
        .unwrap();
    out
}

/// `items` sorted by `key` bytewise, as both backends list them.
fn sorted_by<T: Clone>(items: &[T], key: impl Fn(&T) -> &str) -> Vec<T> {
    let mut v = items.to_vec();
    v.sort_by(|a, b| key(a).as_bytes().cmp(key(b).as_bytes()));
    v
}

/// What a refused request answered: its kind and message.
fn refusal<T: std::fmt::Debug>(r: Result<T, StoreError>) -> String {
    match r {
        Err(StoreError::Invalid(message)) => format!("invalid: {message}"),
        other => panic!("expected a refusal as invalid, got {other:?}"),
    }
}

#[tokio::test]
async fn demo_master_data_upserted_twice_lists_the_same_and_changes_nothing_the_second_time() {
    let (b, pg) = alike(async |store: &dyn Both| {
        let first = upsert_demo(store).await;
        let after_first = listings(store).await;
        let second = upsert_demo(store).await;
        let after_second = listings(store).await;
        for (f, s) in first.iter().zip(&second) {
            assert_eq!(f.changed, f.received, "the first upsert stores everything");
            assert_eq!(s.received, f.received);
            assert_eq!(s.changed, 0, "identical data changes nothing");
        }
        assert_eq!(after_first, after_second);
        (first, after_second)
    })
    .await;

    // The listings hold the normalised input, ordered by id bytewise.
    let p = prepared();
    let listed = &pg.1;
    assert_eq!(listed.merchants, sorted_by(&p.merchants, |m| &m.id));
    assert_eq!(listed.products, sorted_by(&p.products, |x| &x.id));
    assert_eq!(listed.locations, sorted_by(&p.locations, |l| &l.code));
    assert_eq!(listed.operators, sorted_by(&p.operators, |o| &o.id));
    // Each stored hash is of the operator's own PIN.
    for store in [&b.pg as &dyn Both, &b.sqlite] {
        for (o, input) in store
            .operators(&ALL)
            .await
            .unwrap()
            .iter()
            .zip(sorted_by(&demo::data().operators, |o| &o.id))
        {
            match (&o.pin_hash, &input.pin) {
                (Some(h), Some(pin)) => assert!(laituri_protocol::pin_matches(h, pin), "{}", o.id),
                (None, None) => {}
                other => panic!("{}: {other:?}", o.id),
            }
        }
    }
    assert_eq!(listed.notices, sorted_by(&p.notices, |n| &n.id));
    assert_eq!(listed.enrolment_codes.len(), 1);

    // The same changes, once each, in the same order.
    let (pg_log, sqlite_log) = b.change_logs().await;
    let stored: usize = pg.0.iter().map(|s| s.changed).sum();
    assert_eq!(pg_log.len(), stored);
    assert_eq!(pg_log, sqlite_log);
    assert_eq!(pg_log[0].0, "merchant");

    // Another warehouse in the same database sees none of it.
    let other = b.pg_other_warehouse().await;
    let empty = listings(&other).await;
    assert!(empty.merchants.is_empty() && empty.products.is_empty());
    assert!(empty.operators.is_empty() && empty.enrolment_codes.is_empty());
    drop(other);
    b.finish().await;
}

#[tokio::test]
async fn identical_upserts_at_once_store_once() {
    let (b, pg) = alike(async |store: &dyn Both| {
        let merchants = prepared().merchants;
        let (x, y) = tokio::join!(
            store.upsert_merchants(&merchants),
            store.upsert_merchants(&merchants)
        );
        x.unwrap().changed + y.unwrap().changed
    })
    .await;
    assert_eq!(pg, prepared().merchants.len());
    b.finish().await;
}

fn merchant(id: &str) -> Merchant {
    Merchant {
        id: id.into(),
        name: format!("Merchant {id}"),
        rules: MerchantRules {
            inserts: Vec::new(),
            min_shelf_life_days: 0,
            over_receipt_tolerance_pct: 0,
            returns: Vec::new(),
        },
        zones: vec![],
    }
}

/// Walks a listing page by page; answers the ids of each page.
async fn walk<T, F>(limit: u32, id: impl Fn(&T) -> String, list: F) -> Vec<Vec<String>>
where
    F: AsyncFn(Page) -> Vec<T>,
{
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let page: Vec<String> = list(Page { after, limit }).await.iter().map(&id).collect();
        if page.is_empty() {
            return pages;
        }
        assert!(page.len() <= limit as usize);
        after = page.last().cloned();
        pages.push(page);
    }
}

#[tokio::test]
async fn paging_walks_every_row_once_in_bytewise_order() {
    // Ids whose order differs between a natural-language collation and bytes.
    let odd = ["Zeta", "alpha", "a-b", "ab", "B", "_x", "Äiti", "10", "9"];
    let (b, pg) = alike(async |store: &dyn Both| {
        upsert_demo(store).await;
        let extra: Vec<Merchant> = odd.iter().map(|id| merchant(id)).collect();
        store.upsert_merchants(&extra).await.unwrap();
        let merchants = walk(
            3,
            |m: &Merchant| m.id.clone(),
            async |p| store.merchants(&p, &Scope::Warehouse).await.unwrap(),
        )
        .await;
        let products = walk(
            50,
            |x: &Product| x.id.clone(),
            async |p| store.products(&p, &Scope::Warehouse).await.unwrap(),
        )
        .await;
        let locations = walk(
            7,
            |l: &laituri_protocol::Location| l.code.clone(),
            async |p| store.locations(&p).await.unwrap(),
        )
        .await;
        let operators = walk(
            1,
            |o: &laituri_protocol::Operator| o.id.clone(),
            async |p| store.operators(&p).await.unwrap(),
        )
        .await;
        let notices = walk(
            2,
            |n: &InboundNotice| n.id.clone(),
            async |p| store.notices(&p, &Scope::Warehouse).await.unwrap(),
        )
        .await;
        let nothing = Page {
            after: None,
            limit: 0,
        };
        assert!(
            store
                .merchants(&nothing, &Scope::Warehouse)
                .await
                .unwrap()
                .is_empty()
        );
        let past_the_end = Page {
            after: Some("\u{10FFFF}".into()),
            limit: 10,
        };
        assert!(
            store
                .products(&past_the_end, &Scope::Warehouse)
                .await
                .unwrap()
                .is_empty()
        );
        (merchants, products, locations, operators, notices)
    })
    .await;

    let flat = |pages: &[Vec<String>]| pages.concat();
    let mut expected: Vec<String> = prepared().merchants.into_iter().map(|m| m.id).collect();
    expected.extend(odd.iter().map(|s| s.to_string()));
    expected.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    assert_eq!(flat(&pg.0), expected, "every merchant once, bytewise");
    assert!(pg.0.iter().all(|p| p.len() <= 3) && pg.0.len() == expected.len().div_ceil(3));
    let products: Vec<String> = sorted_by(&prepared().products, |p| &p.id)
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(flat(&pg.1), products);
    assert_eq!(flat(&pg.2).len(), prepared().locations.len());
    assert_eq!(flat(&pg.3).len(), prepared().operators.len());
    assert_eq!(flat(&pg.4).len(), prepared().notices.len());
    b.finish().await;
}

#[tokio::test]
async fn a_deactivated_operator_is_no_longer_listed_and_comes_back_when_sent_again() {
    let (b, pg) = alike(async |store: &dyn Both| {
        let operators = prepared().operators;
        store.upsert_operators(&operators).await.unwrap();
        let gone = operators[0].id.clone();
        let first = store.deactivate_operator(&gone).await.unwrap();
        let again = store.deactivate_operator(&gone).await.unwrap();
        let unknown = store.deactivate_operator("nobody").await.unwrap();
        let listed: Vec<String> = store
            .operators(&ALL)
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.id)
            .collect();
        assert!(!listed.contains(&gone));
        assert_eq!(listed.len(), operators.len() - 1);
        // Sent again, unchanged, the operator is back (and the others are unchanged).
        let back = store.upsert_operators(&operators).await.unwrap();
        let relisted = store.operators(&ALL).await.unwrap().len();
        (first, again, unknown, listed, back, relisted)
    })
    .await;
    let (first, again, unknown, _, back, relisted) = &pg;
    assert!(*first && !*again && !*unknown);
    assert_eq!(back.changed, 1);
    assert_eq!(*relisted, prepared().operators.len());

    // The tombstone, then the operator again, at the end of both logs.
    let (pg_log, sqlite_log) = b.change_logs().await;
    assert_eq!(pg_log, sqlite_log);
    let n = pg_log.len();
    assert_eq!(pg_log[n - 2].0, "removed");
    assert_eq!(pg_log[n - 2].1, prepared().operators[0].id);
    assert_eq!(pg_log[n - 1].0, "operator");
    b.finish().await;
}

#[tokio::test]
async fn refused_master_data_is_refused_alike_and_stores_nothing() {
    let (b, pg) = alike(async |store: &dyn Both| {
        let p = prepared();
        store.upsert_merchants(&p.merchants).await.unwrap();
        let mut good = p.products[0].clone();
        good.id = "GOOD-1".into();
        let mut orphan = p.products[1].clone();
        orphan.merchant_id = "nobody".into();
        let unknown_merchant = refusal(store.upsert_products(&[good.clone(), orphan]).await);
        let nothing_stored = store
            .products(&ALL, &Scope::Warehouse)
            .await
            .unwrap()
            .is_empty();

        store.upsert_products(&p.products).await.unwrap();
        let mut moved = p.products[0].clone();
        moved.merchant_id = demo::KETTU.into();
        if moved.merchant_id == p.products[0].merchant_id {
            moved.merchant_id = demo::NORDIC.into();
        }
        let other_owner = refusal(store.upsert_products(&[moved]).await);

        let mut ops = p.operators.clone();
        store.upsert_operators(&ops).await.unwrap();
        ops[1].badge = ops[0].badge.clone();
        let badge_taken = refusal(store.upsert_operators(&ops[1..2]).await);

        let notice = |merchant: &str, product: &str| InboundNotice {
            id: "ASN-X".into(),
            merchant_id: merchant.into(),
            reference: "REF-X".into(),
            ssccs: vec![],
            supplier: String::new(),
            lines: vec![NoticeLine {
                product_id: product.into(),
                expected_qty: 1,
            }],
            status: NoticeStatus::Open,
        };
        let kettu_product = p
            .products
            .iter()
            .find(|x| x.merchant_id == demo::KETTU)
            .unwrap()
            .id
            .clone();
        let notice_refusals = [
            refusal(store.upsert_notices(&[notice("nobody", "x")]).await),
            refusal(
                store
                    .upsert_notices(&[notice(demo::NORDIC, "nothing")])
                    .await,
            ),
            refusal(
                store
                    .upsert_notices(&[notice(demo::NORDIC, &kettu_product)])
                    .await,
            ),
        ];
        let no_notice = store
            .notices(&ALL, &Scope::Warehouse)
            .await
            .unwrap()
            .is_empty();
        (
            unknown_merchant,
            nothing_stored,
            other_owner,
            badge_taken,
            notice_refusals,
            no_notice,
        )
    })
    .await;
    assert!(
        pg.0.contains("names merchant nobody, which is not known"),
        "{}",
        pg.0
    );
    assert!(pg.1 && pg.5, "a refused request stores nothing");
    b.finish().await;
}

/// Everything the views show: tasks, stock under each of a few filters, receipts, the receipts
/// of `receipt_ids` one by one, and the newest 2, 10 and 0 exceptions.
#[derive(Debug, PartialEq)]
struct Floor {
    tasks: Vec<laituri_protocol::Task>,
    /// Task ids walked one a page.
    tasks_paged: Vec<Vec<String>>,
    /// Per merchant scope (the warehouse's first): receipts, stock and exceptions it sees.
    scoped: Vec<(
        Vec<laituri_protocol::ReceiptView>,
        Vec<laituri_protocol::StockRow>,
        Vec<laituri_protocol::ExceptionView>,
    )>,
    /// Stock walked two rows a page.
    stock_pages: Vec<laituri_protocol::StockRow>,
    stock: Vec<Vec<laituri_protocol::StockRow>>,
    receipts: Vec<laituri_protocol::ReceiptView>,
    one_by_one: Vec<Option<laituri_protocol::ReceiptView>>,
    exceptions: Vec<Vec<laituri_protocol::ExceptionView>>,
}

async fn floor(store: &dyn Both, receipt_ids: &[Uuid]) -> Floor {
    let nordic = || Some(demo::NORDIC.to_string());
    let filters = [
        StockFilter::default(),
        StockFilter {
            merchant_id: nordic(),
            ..StockFilter::default()
        },
        StockFilter {
            product_id: Some("p-1".into()),
            ..StockFilter::default()
        },
        StockFilter {
            location: Some("A-01".into()),
            ..StockFilter::default()
        },
        StockFilter {
            merchant_id: nordic(),
            product_id: Some("p-1".into()),
            location: Some("A-01".into()),
            ..StockFilter::default()
        },
    ]
    .map(|f| StockFilter {
        limit: u32::MAX,
        ..f
    });
    let mut scoped = Vec::new();
    let merchants = store.merchants(&ALL, &Scope::Warehouse).await.unwrap();
    let scopes = std::iter::once(Scope::Warehouse)
        .chain(merchants.iter().map(|m| Scope::Merchant(m.id.clone())));
    for scope in scopes {
        let stock = StockFilter {
            merchant_id: scope.merchant().map(str::to_string),
            limit: u32::MAX,
            ..StockFilter::default()
        };
        scoped.push((
            store.receipts(&ALL, &scope).await.unwrap(),
            store.stock(&stock).await.unwrap(),
            store.exceptions(0, u32::MAX, &scope).await.unwrap(),
        ));
    }
    let mut stock_pages = Vec::new();
    let mut after = None;
    loop {
        let page = StockFilter {
            after: after.clone(),
            limit: 2,
            ..StockFilter::default()
        };
        let rows = store.stock(&page).await.unwrap();
        after = rows.last().map(laituri_server::store::stock_row_key);
        let done = rows.len() < 2;
        stock_pages.extend(rows);
        if done {
            break;
        }
    }
    let mut f = Floor {
        tasks: store.tasks(&ALL).await.unwrap(),
        tasks_paged: walk(
            1,
            |t: &laituri_protocol::Task| t.task_id.clone(),
            async |p| store.tasks(&p).await.unwrap(),
        )
        .await,
        scoped,
        stock_pages,
        stock: Vec::new(),
        receipts: store.receipts(&ALL, &Scope::Warehouse).await.unwrap(),
        one_by_one: Vec::new(),
        exceptions: Vec::new(),
    };
    for filter in &filters {
        f.stock.push(store.stock(filter).await.unwrap());
    }
    for id in receipt_ids {
        f.one_by_one
            .push(store.receipt(*id, &Scope::Warehouse).await.unwrap());
    }
    for (after, limit) in [(0, 2), (0, 10), (1, 10), (0, 0)] {
        f.exceptions.push(
            store
                .exceptions(after, limit, &Scope::Warehouse)
                .await
                .unwrap(),
        );
    }
    f
}

#[tokio::test]
async fn the_views_of_an_empty_warehouse_are_empty() {
    let (b, pg) = alike(async |store: &dyn Both| {
        // Master data alone makes no stock, receipt, task or exception.
        upsert_demo(store).await;
        floor(store, &[Uuid::now_v7()]).await
    })
    .await;
    assert!(pg.tasks.is_empty() && pg.receipts.is_empty());
    assert!(pg.stock.iter().all(Vec::is_empty));
    assert_eq!(pg.one_by_one, [None]);
    assert!(pg.exceptions.iter().all(Vec::is_empty));
    b.finish().await;
}

/// A task's stored columns: id, kind, merchant, priority, status, container, reason, holder,
/// lease token, lease expiry, fence.
#[rustfmt::skip]
type TaskColumns<'a> = (&'a str, &'a str, &'a str, i32, &'a str, Option<&'a str>, Option<&'a str>, Option<Uuid>, Option<i64>, Option<i64>, i64);

/// A stock row's stored columns but the warehouse: merchant, product, location, container, lot,
/// expiry, condition, quantity.
#[rustfmt::skip]
type StockColumns<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str, &'a str, &'a str, i64);

/// A receipt's stored columns: id, merchant, notice, dock, closed, summary.
#[rustfmt::skip]
type ReceiptColumns<'a> = (Uuid, &'a str, Option<&'a str>, &'a str, bool, Option<&'a str>);

/// Writes tasks, stock, receipts and exceptions straight into both databases, as each schema
/// holds them (the device side of the PostgreSQL backend is not what this file tests).
async fn store_floor_rows(b: &Backends, notice_product: &str) -> (Uuid, Uuid) {
    let holder = Uuid::now_v7();
    #[rustfmt::skip]
    let tasks: [TaskColumns; 3] = [
        ("count-B", "count", demo::NORDIC, 5, "open", None, Some("stock went negative"), None, None, None, 0),
        ("putaway-a", "putaway", demo::NORDIC, 0, "leased", Some("T-0001"), None, Some(holder), Some(3), Some(1_800_000_000_000), 3),
        ("Putaway-c", "putaway", demo::KETTU, 1, "done", Some("T-0002"), None, Some(holder), Some(1), Some(1_700_000_000_000), 1),
    ];
    #[rustfmt::skip]
    let stock: [StockColumns; 6] = [
        (demo::NORDIC, "p-1", "A-01", "", "", "", "good", 5),
        (demo::NORDIC, "P-2", "A-01", "T-0001", "L1", "2026-05-01", "damaged", 2),
        (demo::NORDIC, "p-1", "a-02", "", "", "", "good", 0),
        (demo::KETTU, "k-1", "B-01", "", "", "", "short_shelf_life", -1),
        (demo::NORDIC, "p-1", "A-01", "", "LOT", "", "good", 1),
        (demo::NORDIC, "p-1", "A-01", "", "", "", "expired", 7),
    ];
    // Made in the order closed, open against a notice, open blind; ids in another order.
    let (closed, open, blind) = (Uuid::now_v7(), Uuid::nil(), Uuid::max());
    let summary = r#"[{"product_id":"x","expected":1,"received":1,"quarantined":0}]"#;
    #[rustfmt::skip]
    let receipts: [ReceiptColumns; 3] = [
        (closed, demo::NORDIC, Some("ASN-1001"), "DOCK-1", true, Some(summary)),
        (open, demo::NORDIC, Some("ASN-1001"), "DOCK-2", false, None),
        (blind, demo::KETTU, None, "DOCK-1", false, None),
    ];
    let tally: [(Uuid, &str, i64, i64); 5] = [
        (open, "zz-extra", 2, 0),
        (open, notice_product, 3, 1),
        (open, "Aa-extra", 1, 1),
        (blind, "k-1", 4, 0),
        (closed, "ignored", 9, 9),
    ];
    let resolved = "2026-03-15T10:11:12.345Z";
    let exceptions: [(i64, &str, Option<&str>, Option<&str>); 3] = [
        (1, "over_receipt", None, None),
        (2, "short_dated", Some("lead"), Some(resolved)),
        (3, "unknown_barcode", None, None),
    ];
    let device = Uuid::now_v7();

    let conn = rusqlite::Connection::open(&b.sqlite_path).unwrap();
    let wh = WAREHOUSE;
    for t in &tasks {
        conn.execute(
            "INSERT INTO tasks (warehouse_id, task_id, kind, merchant_id, priority, status,
                 container, lines, reason, leased_to, lease_token, lease_expires_ms, fence)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, '[]', ?8, ?9, ?10, ?11, ?12)",
            rusqlite::params![
                wh,
                t.0,
                t.1,
                t.2,
                t.3,
                t.4,
                t.5,
                t.6,
                t.7.map(|h| h.to_string()),
                t.8,
                t.9,
                t.10
            ],
        )
        .unwrap();
    }
    for s in &stock {
        conn.execute(
            "INSERT INTO stock VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            rusqlite::params![wh, s.0, s.1, s.2, s.3, s.4, s.5, s.6, s.7],
        )
        .unwrap();
    }
    for r in &receipts {
        conn.execute(
            "INSERT INTO receipts (receipt_id, warehouse_id, merchant_id, notice_id, device_id,
                 dock, closed, summary)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            rusqlite::params![
                r.0.to_string(),
                wh,
                r.1,
                r.2,
                device.to_string(),
                r.3,
                r.4,
                r.5
            ],
        )
        .unwrap();
    }
    for t in &tally {
        conn.execute(
            "INSERT INTO receipt_tally (receipt_id, product_id, received, quarantined)
             VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![t.0.to_string(), t.1, t.2, t.3],
        )
        .unwrap();
    }
    for x in &exceptions {
        conn.execute(
            "INSERT INTO exceptions (warehouse_id, device_id, seq, event_id, kind, message,
                 resolved_by, resolved_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'look at it', ?6, ?7)",
            rusqlite::params![
                wh,
                device.to_string(),
                x.0,
                Uuid::from_u128(x.0 as u128).to_string(),
                x.1,
                x.2,
                x.3
            ],
        )
        .unwrap();
    }

    let pg = admin_client(&url_of_database(&b.admin_url, &b.pg_db)).await;
    for t in &tasks {
        pg.execute(
            "INSERT INTO tasks (warehouse_id, task_id, kind, merchant_id, priority, status,
                 container, lines, reason, leased_to, lease_token, lease_expires_ms, fence)
             VALUES ($1, $2, $3, $4, $5, $6, $7, '[]', $8, $9, $10, $11, $12)",
            &[
                &wh, &t.0, &t.1, &t.2, &t.3, &t.4, &t.5, &t.6, &t.7, &t.8, &t.9, &t.10,
            ],
        )
        .await
        .unwrap();
    }
    for s in &stock {
        pg.execute(
            "INSERT INTO stock VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[&wh, &s.0, &s.1, &s.2, &s.3, &s.4, &s.5, &s.6, &s.7],
        )
        .await
        .unwrap();
    }
    for r in &receipts {
        pg.execute(
            "INSERT INTO receipts (receipt_id, warehouse_id, merchant_id, notice_id, device_id,
                 dock, closed, summary)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[&r.0, &wh, &r.1, &r.2, &device, &r.3, &r.4, &r.5],
        )
        .await
        .unwrap();
    }
    for t in &tally {
        pg.execute(
            "INSERT INTO receipt_tally (warehouse_id, receipt_id, product_id, received, quarantined)
             VALUES ($1, $2, $3, $4, $5)",
            &[&wh, &t.0, &t.1, &t.2, &t.3],
        )
        .await
        .unwrap();
    }
    for x in &exceptions {
        pg.execute(
            "INSERT INTO exceptions (warehouse_id, device_id, seq, event_id, kind, message,
                 resolved_by, resolved_at)
             VALUES ($1, $2, $3, $4, $5, 'look at it', $6, $7::text::timestamptz)",
            &[
                &wh,
                &device,
                &x.0,
                &Uuid::from_u128(x.0 as u128),
                &x.1,
                &x.2,
                &x.3,
            ],
        )
        .await
        .unwrap();
    }
    (open, blind)
}

#[tokio::test]
async fn the_views_of_stored_rows_are_alike() {
    let b = Backends::new().await;
    let notice = prepared()
        .notices
        .into_iter()
        .find(|n| n.id == "ASN-1001")
        .unwrap();
    for store in [&b.pg as &dyn Both, &b.sqlite] {
        upsert_demo(store).await;
    }
    let (open, blind) = store_floor_rows(&b, &notice.lines[0].product_id).await;
    let ids = [open, blind, Uuid::now_v7()];
    let (pg, sqlite) = b
        .both(async |store: &dyn Both| floor(store, &ids).await)
        .await;
    assert_eq!(pg, sqlite);

    let Floor {
        tasks,
        tasks_paged,
        scoped,
        stock_pages,
        stock,
        receipts,
        one_by_one: one,
        exceptions,
    } = pg;
    assert_eq!(
        stock_pages, stock[0],
        "stock walked page by page is the whole stock"
    );
    assert_eq!(
        scoped[0],
        (receipts.clone(), stock[0].clone(), exceptions[1].clone()),
        "the warehouse's scope sees everything"
    );
    // Each merchant's scope sees its own rows only, and together they see every row (an
    // exception naming no merchant is the warehouse's alone).
    let merchant_rows = &scoped[1..];
    assert!(merchant_rows.len() >= 2);
    let (mut r, mut s, mut x) = (0, 0, 0);
    for (receipts, stock, exceptions) in merchant_rows {
        let m = receipts
            .first()
            .map(|r| r.merchant_id.clone())
            .or_else(|| stock.first().map(|s| s.merchant_id.clone()));
        let Some(m) = m else { continue };
        assert!(receipts.iter().all(|r| r.merchant_id == m));
        assert!(stock.iter().all(|s| s.merchant_id == m));
        assert!(
            exceptions
                .iter()
                .all(|e| e.merchant_id.as_deref() == Some(m.as_str()))
        );
        (r, s, x) = (r + receipts.len(), s + stock.len(), x + exceptions.len());
    }
    assert_eq!((r, s), (receipts.len(), stock[0].len()));
    let with_merchant = exceptions[1].iter().filter(|e| e.merchant_id.is_some());
    assert_eq!(x, with_merchant.count());
    let walked: Vec<String> = tasks_paged.concat();
    let all: Vec<String> = tasks.iter().map(|t| t.task_id.clone()).collect();
    assert_eq!(
        walked, all,
        "tasks walked page by page are all the tasks, in order"
    );
    let ids: Vec<&str> = tasks.iter().map(|t| t.task_id.as_str()).collect();
    assert_eq!(ids, ["count-B", "putaway-a", "Putaway-c"], "oldest first");
    assert!(tasks[1].leased_to.is_some() && tasks[2].leased_to.is_none());
    assert_eq!(stock[0].len(), 5, "zero rows are left out");
    let products: Vec<&str> = stock[1].iter().map(|s| s.product_id.as_str()).collect();
    assert_eq!(products, ["P-2", "p-1", "p-1", "p-1"], "bytewise order");
    assert_eq!(stock[4].len(), 3);
    assert_eq!(receipts.len(), 3);
    assert_eq!(receipts[1].receipt_id, open, "in the order they were made");
    assert_eq!(receipts[0].lines.len(), 1, "a closed receipt's summary");
    let open_lines: Vec<&str> = receipts[1]
        .lines
        .iter()
        .map(|l| l.product_id.as_str())
        .collect();
    assert_eq!(open_lines[0], notice.lines[0].product_id);
    assert_eq!(
        &open_lines[open_lines.len() - 2..],
        ["Aa-extra", "zz-extra"]
    );
    assert_eq!(one[0].as_ref(), Some(&receipts[1]));
    assert_eq!(one[1].as_ref(), Some(&receipts[2]));
    assert!(one[2].is_none());
    assert_eq!(exceptions[1].len(), 3);
    assert!(
        exceptions[1].windows(2).all(|w| w[0].id < w[1].id),
        "oldest first"
    );
    assert_eq!(exceptions[0], exceptions[1][..2], "a page of two");
    let after_first: Vec<u64> = exceptions[2].iter().map(|x| x.id).collect();
    assert!(after_first.iter().all(|id| *id > 1) && after_first.len() == 2);
    let resolved = exceptions[1].iter().find(|x| x.seq == 2).unwrap();
    assert_eq!(
        resolved.resolved_at.as_deref(),
        Some("2026-03-15T10:11:12.345Z")
    );
    assert!(exceptions[3].is_empty());
    b.finish().await;
}

#[test]
fn a_url_gets_the_test_database() {
    assert_eq!(
        url_of_database("postgres://u@h:5432/laituri", "t_1"),
        "postgres://u@h:5432/t_1"
    );
    assert_eq!(
        url_of_database("postgres://u:p@h/db?sslmode=disable", "t_1"),
        "postgres://u:p@h/t_1?sslmode=disable"
    );
    assert_eq!(url_of_database("postgres://h", "t_1"), "postgres://h/t_1");
}
