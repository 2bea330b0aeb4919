//! What the checker reads of the server's database: the events it recorded, and the webhook
//! events of its outbox with their deliveries. The server stores them in SQLite (a file) or
//! PostgreSQL (a URL); [`ServerEvents`] answers the same for both, so one checker judges runs on
//! either backend.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use uuid::Uuid;

/// An event as the server recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerEvent {
    pub device_id: Uuid,
    pub seq: u64,
    pub event_id: Uuid,
    /// `applied` (also a `Partial` answer, which carries a code) or `rejected`.
    pub outcome: String,
    pub code: Option<String>,
    pub event_type: String,
    pub payload: String,
}

/// A webhook event of the server's outbox (`webhook_events`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    pub event_id: Uuid,
    pub merchant_id: String,
    pub kind: String,
    /// The envelope every delivery POSTs (completed at fan-out).
    pub body: String,
    pub created_at_ms: i64,
    /// Whether its deliveries were made.
    pub fanned_out: bool,
}

/// One delivery of one event to one subscription (`webhook_deliveries`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub event_id: Uuid,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: u64,
}

/// The server's recorded events, read only.
pub trait ServerEvents {
    /// Every event of `device`, by seq.
    fn device_events(&self, device: Uuid) -> anyhow::Result<Vec<ServerEvent>>;
    /// Event ids of `device`'s events recorded more than once (under any device or seq), with
    /// how often.
    fn repeated_ids(&self, device: Uuid) -> anyhow::Result<Vec<(Uuid, u64)>>;
    /// Every applied event (also partly applied), by device and seq.
    fn applied(&self) -> anyhow::Result<Vec<ServerEvent>>;
    /// The outcome of every recording of the event `event_id`, under any device and seq.
    fn outcomes_of(&self, event_id: Uuid) -> anyhow::Result<Vec<String>>;
    /// The device that `device` continues (a terminal restored from a backup), if any.
    fn continues(&self, device: Uuid) -> anyhow::Result<Option<Uuid>>;
    /// The device's `last_seq`, if the server knows the device.
    fn last_seq(&self, device: Uuid) -> anyhow::Result<Option<u64>>;
    /// Every webhook event of `merchant` in the outbox, fanned out or not.
    fn webhook_events(&self, merchant: &str) -> anyhow::Result<Vec<OutboxEvent>>;
    /// The deliveries of the subscription `webhook`.
    fn webhook_deliveries(&self, webhook: Uuid) -> anyhow::Result<Vec<Delivery>>;
    /// The counts whose variance the server booked (at once, or approved by a lead): their
    /// location and lines ([`laituri_protocol::CountVariance`] as stored).
    fn booked_counts(&self) -> anyhow::Result<Vec<(String, Vec<laituri_protocol::CountVariance>)>>;
}

/// The stored lines of a count.
fn count_lines(json: &str) -> anyhow::Result<Vec<laituri_protocol::CountVariance>> {
    serde_json::from_str(json).context("a count's stored lines")
}

const BOOKED_COUNTS: &str = "status IN ('booked', 'approved')";

const OUTBOX_COLUMNS: &str = "event_id, merchant_id, kind, body, created_at_ms, \
                              fanned_at_ms IS NOT NULL";

/// Opens a server's SQLite file for reading. Read-write open (the file is in WAL mode and may
/// have no -shm yet), but only SELECTs.
pub fn open_read(path: &Path) -> anyhow::Result<Connection> {
    let c = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("opening {}", path.display()))?;
    c.busy_timeout(Duration::from_secs(10))?;
    Ok(c)
}

const COLUMNS: &str = "device_id, seq, event_id, outcome, reject_code, type, payload";

fn sqlite_events(
    path: &Path,
    sql: &str,
    args: impl rusqlite::Params,
) -> anyhow::Result<Vec<ServerEvent>> {
    let s = open_read(path)?;
    let mut stmt = s.prepare(sql)?;
    let rows = stmt.query_map(args, |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, String>(6)?,
        ))
    })?;
    rows.map(|row| {
        let (device, seq, id, outcome, code, event_type, payload) = row?;
        Ok(ServerEvent {
            device_id: device.parse()?,
            seq: seq as u64,
            event_id: id.parse()?,
            outcome,
            code,
            event_type,
            payload,
        })
    })
    .collect()
}

impl ServerEvents for Path {
    fn device_events(&self, device: Uuid) -> anyhow::Result<Vec<ServerEvent>> {
        sqlite_events(
            self,
            &format!("SELECT {COLUMNS} FROM events WHERE device_id = ?1 ORDER BY seq"),
            params![device.to_string()],
        )
    }

    fn repeated_ids(&self, device: Uuid) -> anyhow::Result<Vec<(Uuid, u64)>> {
        let s = open_read(self)?;
        let mut stmt = s.prepare(
            "SELECT event_id, count(*) FROM events WHERE event_id IN
                 (SELECT event_id FROM events WHERE device_id = ?1)
             GROUP BY event_id HAVING count(*) > 1",
        )?;
        let rows = stmt.query_map(params![device.to_string()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        rows.map(|row| {
            let (id, n) = row?;
            Ok((id.parse()?, n as u64))
        })
        .collect()
    }

    fn outcomes_of(&self, event_id: Uuid) -> anyhow::Result<Vec<String>> {
        let s = open_read(self)?;
        let mut stmt = s.prepare("SELECT outcome FROM events WHERE event_id = ?1")?;
        let rows = stmt.query_map([event_id.to_string()], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn continues(&self, device: Uuid) -> anyhow::Result<Option<Uuid>> {
        let s = open_read(self)?;
        let id: Option<String> = s
            .query_row(
                "SELECT continues FROM devices WHERE device_id = ?1",
                [device.to_string()],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        Ok(id.map(|i| i.parse()).transpose()?)
    }

    fn last_seq(&self, device: Uuid) -> anyhow::Result<Option<u64>> {
        let s = open_read(self)?;
        let last: Option<i64> = s
            .query_row(
                "SELECT last_seq FROM devices WHERE device_id = ?1",
                [device.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(last.map(|l| l as u64))
    }

    fn applied(&self) -> anyhow::Result<Vec<ServerEvent>> {
        sqlite_events(
            self,
            &format!(
                "SELECT {COLUMNS} FROM events WHERE outcome = 'applied' ORDER BY device_id, seq"
            ),
            [],
        )
    }

    fn webhook_events(&self, merchant: &str) -> anyhow::Result<Vec<OutboxEvent>> {
        let s = open_read(self)?;
        let mut stmt = s.prepare(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM webhook_events WHERE merchant_id = ?1
             ORDER BY created_at_ms, event_id"
        ))?;
        let rows = stmt.query_map([merchant], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, bool>(5)?,
            ))
        })?;
        rows.map(|row| {
            let (id, merchant_id, kind, body, created_at_ms, fanned_out) = row?;
            Ok(OutboxEvent {
                event_id: id.parse()?,
                merchant_id,
                kind,
                body,
                created_at_ms,
                fanned_out,
            })
        })
        .collect()
    }

    fn webhook_deliveries(&self, webhook: Uuid) -> anyhow::Result<Vec<Delivery>> {
        let s = open_read(self)?;
        let mut stmt = s.prepare(
            "SELECT event_id, status, attempts FROM webhook_deliveries WHERE webhook_id = ?1
             ORDER BY event_id",
        )?;
        let rows = stmt.query_map([webhook.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        rows.map(|row| {
            let (id, status, attempts) = row?;
            Ok(Delivery {
                event_id: id.parse()?,
                status,
                attempts: attempts.max(0) as u64,
            })
        })
        .collect()
    }

    fn booked_counts(&self) -> anyhow::Result<Vec<(String, Vec<laituri_protocol::CountVariance>)>> {
        let s = open_read(self)?;
        let mut stmt = s.prepare(&format!(
            "SELECT location, lines FROM counts WHERE {BOOKED_COUNTS} ORDER BY count_id"
        ))?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (location, lines) = row?;
            out.push((location, count_lines(&lines)?));
        }
        Ok(out)
    }
}

impl ServerEvents for PathBuf {
    fn device_events(&self, device: Uuid) -> anyhow::Result<Vec<ServerEvent>> {
        self.as_path().device_events(device)
    }

    fn repeated_ids(&self, device: Uuid) -> anyhow::Result<Vec<(Uuid, u64)>> {
        self.as_path().repeated_ids(device)
    }

    fn applied(&self) -> anyhow::Result<Vec<ServerEvent>> {
        self.as_path().applied()
    }

    fn outcomes_of(&self, event_id: Uuid) -> anyhow::Result<Vec<String>> {
        self.as_path().outcomes_of(event_id)
    }

    fn continues(&self, device: Uuid) -> anyhow::Result<Option<Uuid>> {
        self.as_path().continues(device)
    }

    fn last_seq(&self, device: Uuid) -> anyhow::Result<Option<u64>> {
        self.as_path().last_seq(device)
    }

    fn webhook_events(&self, merchant: &str) -> anyhow::Result<Vec<OutboxEvent>> {
        self.as_path().webhook_events(merchant)
    }

    fn webhook_deliveries(&self, webhook: Uuid) -> anyhow::Result<Vec<Delivery>> {
        self.as_path().webhook_deliveries(webhook)
    }

    fn booked_counts(&self) -> anyhow::Result<Vec<(String, Vec<laituri_protocol::CountVariance>)>> {
        self.as_path().booked_counts()
    }
}

/// A server database in PostgreSQL: its URL and the warehouse whose events are read.
#[derive(Debug, Clone)]
pub struct PgEvents {
    pub url: String,
    pub warehouse_id: String,
}

/// A query's argument after the warehouse (`$2`).
enum Arg {
    Id(Uuid),
    Text(String),
}

impl PgEvents {
    fn query(&self, sql: &str, device: Option<Uuid>) -> anyhow::Result<Vec<tokio_postgres::Row>> {
        self.query_with(sql, device.map(Arg::Id))
    }

    fn query_with(&self, sql: &str, arg: Option<Arg>) -> anyhow::Result<Vec<tokio_postgres::Row>> {
        let (url, wh, sql) = (self.url.clone(), self.warehouse_id.clone(), sql.to_string());
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(async move {
                let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .with_context(|| format!("connecting to {url}"))?;
                tokio::spawn(conn);
                let rows = match arg {
                    Some(Arg::Id(d)) => client.query(&sql, &[&wh, &d]).await?,
                    Some(Arg::Text(t)) => client.query(&sql, &[&wh, &t]).await?,
                    None => client.query(&sql, &[&wh]).await?,
                };
                Ok(rows)
            })
    }

    fn events(&self, sql: &str, device: Option<Uuid>) -> anyhow::Result<Vec<ServerEvent>> {
        self.query(sql, device)?
            .iter()
            .map(|r| {
                Ok(ServerEvent {
                    device_id: r.try_get(0)?,
                    seq: r.try_get::<_, i64>(1)? as u64,
                    event_id: r.try_get(2)?,
                    outcome: r.try_get(3)?,
                    code: r.try_get(4)?,
                    event_type: r.try_get(5)?,
                    payload: r.try_get(6)?,
                })
            })
            .collect()
    }
}

impl ServerEvents for PgEvents {
    fn device_events(&self, device: Uuid) -> anyhow::Result<Vec<ServerEvent>> {
        self.events(
            &format!(
                "SELECT {COLUMNS} FROM events WHERE warehouse_id = $1 AND device_id = $2
                 ORDER BY seq"
            ),
            Some(device),
        )
    }

    fn repeated_ids(&self, device: Uuid) -> anyhow::Result<Vec<(Uuid, u64)>> {
        self.query(
            "SELECT event_id, count(*) FROM events WHERE warehouse_id = $1 AND event_id IN
                 (SELECT event_id FROM events WHERE warehouse_id = $1 AND device_id = $2)
             GROUP BY event_id HAVING count(*) > 1",
            Some(device),
        )?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get::<_, i64>(1)? as u64)))
        .collect()
    }

    fn outcomes_of(&self, event_id: Uuid) -> anyhow::Result<Vec<String>> {
        self.query(
            "SELECT outcome FROM events WHERE warehouse_id = $1 AND event_id = $2",
            Some(event_id),
        )?
        .iter()
        .map(|r| Ok(r.try_get(0)?))
        .collect()
    }

    fn continues(&self, device: Uuid) -> anyhow::Result<Option<Uuid>> {
        let rows = self.query(
            "SELECT continues FROM devices WHERE warehouse_id = $1 AND device_id = $2",
            Some(device),
        )?;
        Ok(match rows.first() {
            Some(r) => r.try_get(0)?,
            None => None,
        })
    }

    fn last_seq(&self, device: Uuid) -> anyhow::Result<Option<u64>> {
        let rows = self.query(
            "SELECT last_seq FROM devices WHERE warehouse_id = $1 AND device_id = $2",
            Some(device),
        )?;
        Ok(match rows.first() {
            Some(r) => Some(r.try_get::<_, i64>(0)? as u64),
            None => None,
        })
    }

    fn applied(&self) -> anyhow::Result<Vec<ServerEvent>> {
        self.events(
            &format!(
                "SELECT {COLUMNS} FROM events WHERE warehouse_id = $1 AND outcome = 'applied'
                 ORDER BY device_id, seq"
            ),
            None,
        )
    }

    fn webhook_events(&self, merchant: &str) -> anyhow::Result<Vec<OutboxEvent>> {
        self.query_with(
            &format!(
                "SELECT {OUTBOX_COLUMNS} FROM webhook_events
                 WHERE warehouse_id = $1 AND merchant_id = $2 ORDER BY created_at_ms, event_id"
            ),
            Some(Arg::Text(merchant.to_string())),
        )?
        .iter()
        .map(|r| {
            Ok(OutboxEvent {
                event_id: r.try_get(0)?,
                merchant_id: r.try_get(1)?,
                kind: r.try_get(2)?,
                body: r.try_get(3)?,
                created_at_ms: r.try_get(4)?,
                fanned_out: r.try_get(5)?,
            })
        })
        .collect()
    }

    fn webhook_deliveries(&self, webhook: Uuid) -> anyhow::Result<Vec<Delivery>> {
        self.query(
            "SELECT event_id, status, attempts FROM webhook_deliveries
             WHERE warehouse_id = $1 AND webhook_id = $2 ORDER BY event_id",
            Some(webhook),
        )?
        .iter()
        .map(|r| {
            Ok(Delivery {
                event_id: r.try_get(0)?,
                status: r.try_get(1)?,
                attempts: r.try_get::<_, i64>(2)?.max(0) as u64,
            })
        })
        .collect()
    }

    fn booked_counts(&self) -> anyhow::Result<Vec<(String, Vec<laituri_protocol::CountVariance>)>> {
        self.query_with(
            &format!(
                "SELECT location, lines FROM counts WHERE warehouse_id = $1 AND {BOOKED_COUNTS}
                 ORDER BY count_id"
            ),
            None,
        )?
        .iter()
        .map(|r| Ok((r.try_get(0)?, count_lines(r.try_get(1)?)?)))
        .collect()
    }
}
