//! The PostgreSQL test harness itself (tests/common/postgres.rs): every test gets a database of
//! its own, empty, on a real server of a version the server supports, and it goes away after.

mod common;

use common::postgres::fresh_database;
use tokio_postgres::Client;

async fn current_database(c: &Client) -> String {
    c.query_one("SELECT current_database()", &[])
        .await
        .unwrap()
        .get(0)
}

/// Tables and views outside PostgreSQL's own schemas.
async fn user_tables(c: &Client) -> Vec<String> {
    c.query(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables
         WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
        &[],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

#[tokio::test]
async fn two_fresh_databases_are_distinct_and_empty() {
    let a = fresh_database();
    let b = fresh_database();
    assert_ne!(a.name, b.name);
    let (ca, cb) = (a.connect().await, b.connect().await);
    assert_eq!(current_database(&ca).await, a.name, "{}", a.url);
    assert_eq!(current_database(&cb).await, b.name, "{}", b.url);
    assert!(user_tables(&ca).await.is_empty());
    assert!(user_tables(&cb).await.is_empty());

    ca.batch_execute(
        "CREATE TABLE only_in_a (id bigint PRIMARY KEY); INSERT INTO only_in_a VALUES (1)",
    )
    .await
    .unwrap();
    assert_eq!(user_tables(&ca).await, ["public.only_in_a"]);
    assert!(user_tables(&cb).await.is_empty());
    let err = cb.query("SELECT id FROM only_in_a", &[]).await.unwrap_err();
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE)
    );
}

#[tokio::test]
async fn the_server_is_postgresql_15_or_later() {
    let db = fresh_database();
    let c = db.connect().await;
    let version: String = c
        .query_one("SHOW server_version_num", &[])
        .await
        .unwrap()
        .get(0);
    let version: u32 = version.parse().unwrap();
    assert!(version >= 150_000, "PostgreSQL {version} is older than 15");
}

#[tokio::test]
async fn a_dropped_database_is_gone_even_with_a_connection_open() {
    let gone = fresh_database();
    let name = gone.name.clone();
    let open = gone.connect().await;
    let kept = fresh_database();
    drop(gone);
    assert!(open.query("SELECT 1", &[]).await.is_err());
    let c = kept.connect().await;
    let left: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
}
