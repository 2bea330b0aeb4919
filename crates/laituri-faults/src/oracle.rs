//! The oracle: what the terminal confirmed to the operator, one JSON line per action.
//!
//! The driver appends a line only after the terminal answered with a success tone (the commit
//! returned), and makes it durable (write, flush, fsync) before the next action. So the file never
//! claims an action the terminal did not confirm, and it holds every confirmed action up to the
//! last complete line: a kill -9 can only cut the line being written, which [`read`] ignores and
//! [`OracleWriter::open`] trims before appending.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One event a confirmed action committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OracleEvent {
    pub seq: u64,
    pub event_id: Uuid,
    #[serde(rename = "type")]
    pub event_type: String,
    /// Units, for `goods_received`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i64>,
    /// The order, for packing's events (`parcel_packed`, `packing_finished`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
}

/// One action the terminal confirmed (tone ok, warning or done).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OracleEntry {
    /// What the driver did: receiving's `open`, `tote`, `item`, `close`, `confirm`, `cancel`;
    /// putaway's `putaway-tote`, `take-task`, `lease`, `bin`, `bin-full`, `quantity`,
    /// `other-bin`, `reason`, `reason-cancel` and the like.
    pub action: String,
    pub tone: String,
    /// What the action committed, in seq order (none for a tote scan, a close request, a task
    /// taken or another bin scanned before its reason).
    pub events: Vec<OracleEvent>,
}

impl OracleEntry {
    /// Units of goods this action received.
    pub fn units(&self) -> i64 {
        self.events.iter().filter_map(|e| e.quantity).sum()
    }
}

/// Appends entries durably.
pub struct OracleWriter {
    file: File,
}

impl OracleWriter {
    /// Opens `path` for appending (creating it), trimming a torn last line first.
    pub fn open(path: &Path) -> std::io::Result<OracleWriter> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let mut text = Vec::new();
        file.read_to_end(&mut text)?;
        let keep = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if keep != text.len() {
            file.set_len(keep as u64)?;
            file.sync_all()?;
        }
        file.seek(SeekFrom::End(0))?;
        Ok(OracleWriter { file })
    }

    /// Writes one line and makes it durable before returning.
    pub fn append(&mut self, entry: &OracleEntry) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.flush()?;
        self.file.sync_data()
    }
}

/// Every complete line of the oracle at `path` (none if the file does not exist).
pub fn read(path: &Path) -> anyhow::Result<Vec<OracleEntry>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let complete = match text.rfind('\n') {
        Some(i) => &text[..=i],
        None => "",
    };
    complete
        .lines()
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map_err(|e| anyhow::anyhow!("oracle {} line {}: {e}", path.display(), i + 1))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64) -> OracleEntry {
        OracleEntry {
            action: "item".into(),
            tone: "ok".into(),
            events: vec![OracleEvent {
                seq,
                event_id: Uuid::now_v7(),
                event_type: "goods_received".into(),
                quantity: Some(1),
                order: None,
            }],
        }
    }

    #[test]
    fn a_torn_last_line_is_ignored_and_trimmed_before_appending() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oracle.jsonl");
        let mut w = OracleWriter::open(&path).unwrap();
        w.append(&entry(1)).unwrap();
        w.append(&entry(2)).unwrap();
        drop(w);
        // A kill in the middle of the third line.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"action":"item","tone":"o"#).unwrap();
        drop(f);
        assert_eq!(read(&path).unwrap().len(), 2);
        let mut w = OracleWriter::open(&path).unwrap();
        w.append(&entry(3)).unwrap();
        let all = read(&path).unwrap();
        assert_eq!(
            all.iter().map(|e| e.events[0].seq).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert_eq!(all.iter().map(OracleEntry::units).sum::<i64>(), 3);
    }

    #[test]
    fn a_missing_oracle_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read(&dir.path().join("none")).unwrap().is_empty());
    }
}
