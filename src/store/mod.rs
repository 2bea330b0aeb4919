//! The terminal's durable local store: one SQLite file per device.
//!
//! It owns the schema (`migrations/`), the device's identity, master data pulled from the server,
//! the local view of floor work and the outbox. Every floor action goes through [`Store::write`]:
//! one transaction that updates the local view and appends the outbox event, committed with
//! `synchronous=FULL` in WAL mode, so that a success shown after it survives a battery pull.
//!
//! It must never talk to the network and never hold a transaction across anything slow. Reads the
//! UI thread makes are point look-ups on an index or bounded by a LIMIT.

mod continuation;
mod counting;
mod master;
mod outbox;
mod packing;
mod receiving;
mod returns;
mod stock;
mod tasks;

use std::path::Path;
use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OpenFlags, Transaction};
use rusqlite_migration::{M, Migrations};
use uuid::Uuid;

pub use continuation::{Lineage, PendingContinuation};
pub use master::{LocationRow, MerchantRow, NoticeRow, OperatorRow, ProductMatch};
pub use outbox::{ExceptionRow, LineState, SyncCounts};
pub use packing::{LabelState, LabelToPrint, ParcelRow, ProductMeasures};
pub use receiving::{OpenReceipt, ReceiptLineRow};
pub use stock::StockRowLocal;
pub use tasks::{AnsweredLease, LeaseRow, OpenJob};

/// The migrations, in order. Shipped files are never edited: add a new one.
static MIGRATIONS: LazyLock<Migrations<'static>> = LazyLock::new(|| {
    Migrations::new(vec![
        M::up(include_str!("../../migrations/0001_init.sql")),
        M::up(include_str!("../../migrations/0002_flows.sql")),
        M::up(include_str!("../../migrations/0003_pin_attempts.sql")),
        M::up(include_str!(
            "../../migrations/0004_device_continuation.sql"
        )),
        M::up(include_str!("../../migrations/0005_packing.sql")),
        M::up(include_str!("../../migrations/0006_caught_up.sql")),
        M::up(include_str!("../../migrations/0007_counts.sql")),
        M::up(include_str!("../../migrations/0008_returns.sql")),
    ])
});

/// Why the store could not do what was asked. Messages say what to do next.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "The device storage is full: nothing was saved. Tell the shift lead; the terminal needs space before it can record more."
    )]
    DiskFull,
    #[error(
        "The device storage failed to save ({0}): nothing was saved. Try again; if it repeats, switch to another terminal and tell the shift lead."
    )]
    Io(String),
    #[error("The database is busy: nothing was saved. Try again.")]
    Busy,
    #[error("The local database could not be opened or upgraded: {0}")]
    Open(String),
    #[error("Local data is inconsistent: {0}")]
    Data(String),
}

impl StoreError {
    /// True when retrying the same action cannot help without a person doing something.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            StoreError::DiskFull | StoreError::Open(_) | StoreError::Data(_)
        )
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => StoreError::DiskFull,
            Some(ErrorCode::SystemIoFailure) | Some(ErrorCode::CannotOpen) => {
                StoreError::Io(e.to_string())
            }
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => StoreError::Busy,
            _ => StoreError::Data(e.to_string()),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Data(e.to_string())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Who this device is, as recorded when its database was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub device_id: Uuid,
    pub token: Option<String>,
    pub warehouse_name: Option<String>,
}

pub struct Store {
    conn: Connection,
}

/// Unix milliseconds of the device clock: for audit and ages on screen, never for ordering.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Store {
    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| StoreError::Open(format!("{}: {e}", path.display())))?;
        Store::init(conn)
    }

    /// A private in-memory store, for tests.
    pub fn open_in_memory() -> Result<Store> {
        Store::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Store> {
        // Pragmas outside any transaction: journal_mode cannot change inside one.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Deleted content is overwritten in the file: a label's name and address, once
        // printed, do not stay in free pages (store/packing.rs).
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.set_prepared_statement_cache_capacity(64);
        MIGRATIONS
            .to_latest(&mut conn)
            .map_err(|e| StoreError::Open(format!("migrating the local database: {e}")))?;
        let store = Store { conn };
        store.ensure_device()?;
        Ok(store)
    }

    /// A fresh database gets a new device id: a wiped or restored terminal never continues
    /// another history.
    fn ensure_device(&self) -> Result<()> {
        self.conn.execute(
            "INSERT OR IGNORE INTO device (id, device_id, created_ms) VALUES (1, ?1, ?2)",
            (Uuid::now_v7().to_string(), now_ms()),
        )?;
        Ok(())
    }

    /// Copies the write-ahead log into the database file as far as readers allow (a passive
    /// checkpoint: it never waits for, nor blocks, the other connection).
    pub fn checkpoint(&self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Sets `synchronous`; only the durability benchmark turns it down.
    pub fn set_synchronous(&self, mode: &str) -> Result<()> {
        self.conn.pragma_update(None, "synchronous", mode)?;
        Ok(())
    }

    /// Caps this connection's database at `pages` pages (never below its current size), so that
    /// a write which needs more fails with `StoreError::DiskFull`: how the fault-injection suite
    /// fills the disk. Returns the cap in force.
    pub fn set_max_page_count(&self, pages: u64) -> Result<u64> {
        let cap: i64 =
            self.conn
                .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| {
                    r.get(0)
                })?;
        Ok(cap as u64)
    }

    pub fn device(&self) -> Result<Device> {
        let (id, token, warehouse_name): (String, Option<String>, Option<String>) =
            self.conn.query_row(
                "SELECT device_id, token, warehouse_name FROM device WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
        let device_id = Uuid::parse_str(&id).map_err(|e| StoreError::Data(e.to_string()))?;
        Ok(Device {
            device_id,
            token,
            warehouse_name,
        })
    }

    pub fn set_enrolment(
        &mut self,
        token: &str,
        warehouse_id: &str,
        warehouse_name: &str,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE device SET token = ?1, warehouse_id = ?2, warehouse_name = ?3 WHERE id = 1",
            (token, warehouse_id, warehouse_name),
        )?;
        Ok(())
    }

    /// Forgets the token (the server refused it); the sync worker enrols again.
    pub fn clear_token(&mut self) -> Result<()> {
        self.conn
            .execute("UPDATE device SET token = NULL WHERE id = 1", [])?;
        Ok(())
    }

    /// Runs `f` in one immediate transaction; commits only when it returns `Ok`.
    pub fn write<T>(&mut self, f: impl FnOnce(&Transaction) -> Result<T>) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        MIGRATIONS.validate().unwrap();
    }

    #[test]
    fn a_new_database_gets_a_new_device_id_and_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let a = Store::open(&dir.path().join("a.sqlite3")).unwrap();
        let b = Store::open(&dir.path().join("b.sqlite3")).unwrap();
        let id = a.device().unwrap().device_id;
        assert_ne!(id, b.device().unwrap().device_id);
        drop(a);
        let again = Store::open(&dir.path().join("a.sqlite3")).unwrap();
        assert_eq!(again.device().unwrap().device_id, id);
    }

    #[test]
    fn durability_pragmas_are_set() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("x.sqlite3")).unwrap();
        let mode: String = s
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        let sync: i64 = s
            .conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "FULL");
    }
}
