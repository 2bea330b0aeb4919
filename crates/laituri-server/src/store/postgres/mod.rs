//! The PostgreSQL backend of [`Store`]: many server processes on one database, many warehouses
//! in it. [`Postgres`] holds a pool of connections (deadpool) of the async client
//! (tokio-postgres); no call blocks a runtime thread.
//!
//! It owns the connection pool, the migrations in `migrations/postgres/NNNN_name.sql`
//! (append-only, applied under a transaction-level advisory lock so that servers starting at once
//! do not race), the mapping of database errors to [`StoreError`] (serialization failures and
//! deadlocks are transient: the request is retried, by the caller or in [`Postgres::retrying`]),
//! and the change log.
//!
//! Ordering rules, which the tests hold:
//! - Pushes of one device serialize on its `devices` row (`SELECT … FOR UPDATE`); pushes of
//!   different devices run in parallel.
//! - The change log's cursors come from the warehouse's `change_counters` row, taken as the last
//!   write of a transaction and held until its commit: cursors are in commit order without holes,
//!   so a terminal's cursor never passes a change that commits later (see [`append_changes`]).
//! - Every statement names its warehouse; no statement joins across warehouses and no lock is
//!   held beyond a transaction, so the tables can be distributed by `warehouse_id` (Citus).
//!
//! It must never decide a business rule (those are in [`crate::push`] and [`crate::master`]).

use std::time::Duration;

use deadpool_postgres::Transaction;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;
use uuid::Uuid;

use super::StoreError;
use super::rows::new_epoch_id;
use crate::clock::Clock;

mod counts;
mod device;
mod ledger;
mod master;
mod orders;
mod outbound;
mod views;
mod webhooks;

/// The schema, oldest first. Append new files; never edit a shipped one.
const MIGRATIONS: &[(i32, &str)] = &[
    (
        1,
        include_str!("../../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        include_str!("../../../migrations/postgres/0002_enrolment_codes_hashed.sql"),
    ),
    (
        3,
        include_str!("../../../migrations/postgres/0003_api_keys.sql"),
    ),
    (
        4,
        include_str!("../../../migrations/postgres/0004_orders.sql"),
    ),
    (
        5,
        include_str!("../../../migrations/postgres/0005_device_continuation.sql"),
    ),
    (
        6,
        include_str!("../../../migrations/postgres/0006_picking.sql"),
    ),
    (
        7,
        include_str!("../../../migrations/postgres/0007_packing.sql"),
    ),
    (
        8,
        include_str!("../../../migrations/postgres/0008_webhooks.sql"),
    ),
    (
        9,
        include_str!("../../../migrations/postgres/0009_counts.sql"),
    ),
    (
        10,
        include_str!("../../../migrations/postgres/0010_returns.sql"),
    ),
];

/// Connections per server process. A push holds one for its transaction; reads are short.
const POOL_SIZE: usize = 16;

/// How often a transaction that lost a serialization race or a deadlock is tried again before
/// the request is answered as transient (the terminal then retries later).
const RETRIES: u32 = 4;

/// The session setting that plans every run of a prepared statement for its values.
const CUSTOM_PLANS: &str = "-c plan_cache_mode=force_custom_plan";

/// The key of the advisory lock that serializes migrations between server processes.
const MIGRATION_LOCK: i64 = 0x6c61_6974_7572_6901;

pub struct Postgres {
    pool: Pool,
    warehouse_id: String,
    clock: Clock,
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> StoreError {
        // Lost races are tried again at once; lost connections and a server going down pass
        // later; a constraint or a bad statement fails again the same way.
        if matches!(
            e.code(),
            Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE
                || *c == SqlState::T_R_DEADLOCK_DETECTED
        ) {
            return StoreError::Contention(e.to_string());
        }
        let transient = e.is_closed()
            || matches!(
                e.code(),
                Some(c) if *c == SqlState::LOCK_NOT_AVAILABLE
                    || *c == SqlState::ADMIN_SHUTDOWN
                    || *c == SqlState::CANNOT_CONNECT_NOW
                    || *c == SqlState::TOO_MANY_CONNECTIONS
                    || *c == SqlState::QUERY_CANCELED
            )
            || e.code().is_none();
        // The database's own message (what it refused, never the row: that is in the detail).
        let message = match e.as_db_error() {
            Some(db) => format!("{e}: {}", db.message()),
            None => e.to_string(),
        };
        StoreError::Backend { message, transient }
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> StoreError {
        StoreError::Backend {
            message: format!("no database connection: {e}"),
            transient: true,
        }
    }
}

impl Postgres {
    /// Connects to the database at `url` (`postgres://user@host:port/db`), migrates it to the
    /// latest schema and makes the warehouse's epoch and change counter if they are missing.
    pub async fn connect(url: &str, warehouse_id: &str) -> Result<Postgres, StoreError> {
        let mut config: tokio_postgres::Config = url.parse().map_err(|e| {
            StoreError::invalid(format!(
                "{} is not a PostgreSQL connection URL ({e}): write it as postgres://USER@HOST:PORT/DATABASE",
                redacted(url)
            ))
        })?;
        // A push prepares its statements once per connection and keeps them (a round trip less
        // each), and each run is planned for the values at hand: a generic plan of an
        // `= ANY($n)` look-up or an `unnest` join is far worse (see BENCHMARKS.md).
        let options = match config.get_options() {
            Some(given) => format!("{given} {CUSTOM_PLANS}"),
            None => CUSTOM_PLANS.to_string(),
        };
        config.options(&options);
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(Duration::from_secs(10)))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Backend {
                message: format!("cannot make a connection pool: {e}"),
                transient: false,
            })?;
        let store = Postgres {
            pool,
            warehouse_id: warehouse_id.to_string(),
            clock: Clock::system(),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// The same store reading lease expiry from `clock`.
    pub fn with_clock(mut self, clock: Clock) -> Postgres {
        self.clock = clock;
        self
    }

    pub fn warehouse_id(&self) -> &str {
        &self.warehouse_id
    }

    /// The schema version this server migrates to: the newest migration's.
    pub fn latest_schema() -> i32 {
        MIGRATIONS.last().map_or(0, |(v, _)| *v)
    }

    /// The schema version the database is at.
    pub async fn schema_version(&self) -> Result<i32, StoreError> {
        let client = self.pool.get().await?;
        let row = client
            .query_one(
                "SELECT coalesce(max(version), 0) FROM schema_migrations",
                &[],
            )
            .await?;
        Ok(row.get(0))
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    INTEGER PRIMARY KEY,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )
        .await?;
        let at: i32 = tx
            .query_one(
                "SELECT coalesce(max(version), 0) FROM schema_migrations",
                &[],
            )
            .await?
            .get(0);
        for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > at) {
            tx.batch_execute(sql)
                .await
                .map_err(|e| StoreError::Backend {
                    message: format!("migration {version} failed: {e}"),
                    transient: false,
                })?;
            tx.execute(
                "INSERT INTO schema_migrations (version) VALUES ($1)",
                &[version],
            )
            .await?;
        }
        master::adopt_legacy_codes(&tx, self.clock.now_ms()).await?;
        let wh = &self.warehouse_id;
        tx.execute(
            "INSERT INTO change_epoch (warehouse_id, epoch) VALUES ($1, $2)
             ON CONFLICT (warehouse_id) DO NOTHING",
            &[wh, &new_epoch_id()],
        )
        .await?;
        tx.execute(
            "INSERT INTO change_counters (warehouse_id) VALUES ($1)
             ON CONFLICT (warehouse_id) DO NOTHING",
            &[wh],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Runs `body` (an async block that opens, uses and commits its own transaction) again when
    /// it lost a serialization race or a deadlock, a few times, then answers the last error.
    pub(crate) async fn retrying<T, F, Fut>(&self, mut body: F) -> Result<T, StoreError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let mut tries = 0;
        loop {
            match body().await {
                Err(StoreError::Contention(_)) if tries < RETRIES => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(2 << tries)).await;
                }
                other => return other,
            }
        }
    }
}

impl super::Store for Postgres {
    fn warehouse_id(&self) -> &str {
        &self.warehouse_id
    }
}

/// A read-only transaction on one snapshot: what its statements read agrees.
pub(crate) async fn snapshot(
    client: &mut deadpool_postgres::Client,
) -> Result<deadpool_postgres::Transaction<'_>, StoreError> {
    Ok(client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?)
}

/// A change to append to the log at the end of a transaction.
pub(crate) struct PendingChange {
    pub device: Option<Uuid>,
    pub merchant_id: Option<String>,
    pub entity: &'static str,
    pub entity_id: String,
    pub data: String,
}

impl PendingChange {
    /// A change for every device (`device` None) or one device.
    pub fn of(
        device: Option<Uuid>,
        merchant_id: Option<&str>,
        change: &laituri_protocol::Change,
    ) -> PendingChange {
        let (entity, entity_id, data) = super::rows::change_row(change);
        PendingChange {
            device,
            merchant_id: merchant_id.map(str::to_string),
            entity,
            entity_id,
            data,
        }
    }
}

/// Appends `changes` to the warehouse's change log with the next cursors. Call it as the LAST
/// write of a transaction: it takes the warehouse's counter row, which other writers then wait
/// for until this transaction commits, so cursors are handed out in commit order.
pub(crate) async fn append_changes(
    tx: &Transaction<'_>,
    wh: &str,
    changes: &[PendingChange],
) -> Result<(), StoreError> {
    if changes.is_empty() {
        return Ok(());
    }
    let stmt = ledger::append_statement(wh, changes);
    let inserted = ledger::execute_pipeline(tx, std::slice::from_ref(&stmt)).await?;
    ledger::appended(wh, changes.len(), inserted.first().copied().unwrap_or(0))?;
    Ok(())
}

/// A connection URL with its password left out, for messages and logs.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_url_in_a_message_keeps_no_password() {
        assert_eq!(
            super::redacted("postgres://laituri:s3cret@db:5432/wh"),
            "postgres://laituri@db:5432/wh"
        );
        assert_eq!(super::redacted("postgres://db/wh"), "postgres://db/wh");
    }
}
