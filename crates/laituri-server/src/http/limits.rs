//! What one client may hold of the server: connections and time to send a request head.
//!
//! It owns [`Limits`] (the numbers, with their production defaults). The connection-level limits
//! (how many connections, how long a request head may take) are applied where connections are
//! accepted, in the crate's `serve_state`.

use std::time::Duration;

/// The server's limits. [`Limits::default`] holds the production values, sized for a warehouse of
/// 500 terminals; tests make them small to see them act within seconds.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Connections served at once; more wait in the kernel's accept queue until one closes.
    /// Default 2,048: a terminal's sync worker sends one request at a time, so 500 terminals
    /// hold 500 to 1,000 connections, and the merchants' systems a few more. A connection that
    /// sends nothing costs about 100 kB at worst (its task and a head buffer of at most 64 kB),
    /// so all of them together stay near 200 MB, and only for `header_timeout`.
    pub max_connections: usize,
    /// A connection must send a whole request head within this: from when it opens, and on a
    /// kept-alive connection from the previous answer. It closes half-sent heads (slowloris) and
    /// idle keep-alive connections alike. Default 10 s: a head is a few hundred bytes, and a
    /// terminal syncs every 5 s, so its connection is reused between rounds and closed when the
    /// terminal goes quiet.
    pub header_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 2048,
            header_timeout: Duration::from_secs(10),
        }
    }
}
