//! The PostgreSQL schema: a fresh database is migrated to the newest schema, opening it again
//! changes nothing, and servers starting at the same moment on one fresh database (a rolling
//! deploy) migrate it once between them.

mod common;

use laituri_server::Postgres;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_database_is_migrated_once_whoever_opens_it() {
    let db = common::postgres::fresh_database();
    let opening: Vec<_> = (0..4)
        .map(|_| {
            let url = db.url.clone();
            tokio::spawn(async move { Postgres::connect(&url, "WH-DEMO").await })
        })
        .collect();
    for o in opening {
        let store = o.await.unwrap().expect("every server opens the database");
        assert_eq!(
            store.schema_version().await.unwrap(),
            Postgres::latest_schema()
        );
    }
    let again = Postgres::connect(&db.url, "WH-DEMO").await.unwrap();
    assert_eq!(
        again.schema_version().await.unwrap(),
        Postgres::latest_schema()
    );
    let client = db.connect().await;
    let applied: i64 = client
        .query_one("SELECT count(*) FROM schema_migrations", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(applied, i64::from(Postgres::latest_schema()));
    // Every table is keyed by warehouse first: the tables can be distributed by it.
    let tables: Vec<String> = client
        .query(
            "SELECT c.relname FROM pg_index i
             JOIN pg_class c ON c.oid = i.indrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
             WHERE i.indisprimary AND n.nspname = 'public' AND c.relname <> 'schema_migrations'
               AND a.attname <> 'warehouse_id'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        tables.is_empty(),
        "tables whose primary key does not start with warehouse_id: {tables:?}"
    );
}
