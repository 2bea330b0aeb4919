//! The server's clock, injectable so tests can move time without sleeping.
//!
//! Lease expiry is the only thing that reads it. [`Clock::system`] is the wall clock;
//! [`Clock::manual`] is a clock a test sets and advances by hand, shared by every clone.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

#[derive(Clone, Default)]
pub struct Clock {
    manual: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The wall clock.
    pub fn system() -> Clock {
        Clock { manual: None }
    }

    /// A clock that stands still at `now_ms` (Unix milliseconds) until set or advanced.
    pub fn manual(now_ms: i64) -> Clock {
        Clock {
            manual: Some(Arc::new(AtomicI64::new(now_ms))),
        }
    }

    /// Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        match &self.manual {
            Some(t) => t.load(Ordering::SeqCst),
            None => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        }
    }

    /// Moves a manual clock forward; does nothing to the wall clock.
    pub fn advance(&self, by: Duration) {
        if let Some(t) = &self.manual {
            let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
            t.fetch_add(ms, Ordering::SeqCst);
        }
    }

    /// Sets a manual clock; does nothing to the wall clock.
    pub fn set(&self, now_ms: i64) {
        if let Some(t) = &self.manual {
            t.store(now_ms, Ordering::SeqCst);
        }
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.manual {
            Some(_) => write!(f, "Clock::manual({})", self.now_ms()),
            None => f.write_str("Clock::system"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_clones_share_it() {
        let c = Clock::manual(1_000);
        let other = c.clone();
        c.advance(Duration::from_secs(2));
        assert_eq!(other.now_ms(), 3_000);
        other.set(10);
        assert_eq!(c.now_ms(), 10);
        assert!(Clock::system().now_ms() > 1_600_000_000_000);
    }
}
