//! `laituri-faults-server --db FILE [--database URL] [--port N] [--webhook-… MS]`: the real
//! central server as a process of its own (on SQLite, or on PostgreSQL when a URL is given),
//! so that the fault suite can kill -9 it. Prints `listening ADDR` on stdout once it accepts
//! connections; logs go to stderr. The database must exist (seeded by the test); the server's
//! admin key is the demo's. It delivers webhooks like any server; the `--webhook-*` options
//! shorten the worker's tick, timeout, retries and claims from minutes to fractions of a second,
//! so that a fault run sees many attempts, retries and claims run out.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use laituri_server::ServerConfig;
use laituri_server::webhooks::Settings;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
struct Args {
    /// The server's SQLite database.
    #[arg(long)]
    db: PathBuf,
    /// A PostgreSQL URL: the server stores there instead of in `--db`.
    #[arg(long)]
    database: Option<String>,
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// How often the webhook worker looks for work when it found none (milliseconds).
    #[arg(long)]
    webhook_tick_ms: Option<u64>,
    /// The longest one webhook attempt may take, connecting included (milliseconds).
    #[arg(long)]
    webhook_timeout_ms: Option<u64>,
    /// The first retry's delay after a failed attempt (milliseconds); each next one doubles.
    #[arg(long)]
    webhook_first_retry_ms: Option<u64>,
    /// The longest delay between retries (milliseconds).
    #[arg(long)]
    webhook_max_retry_ms: Option<u64>,
    /// How long a server's claim on a delivery holds (milliseconds): after a kill -9 the
    /// delivery it was attempting is taken again once this runs out.
    #[arg(long)]
    webhook_claim_ms: Option<u64>,
}

impl Args {
    /// The webhook worker's settings: the server's defaults, with what the options shorten.
    fn webhooks(&self) -> Settings {
        let d = Settings::default();
        let ms = |v: Option<u64>, default: Duration| v.map_or(default, Duration::from_millis);
        let timeout = ms(self.webhook_timeout_ms, d.timeout);
        let first_retry = ms(self.webhook_first_retry_ms, d.first_retry);
        Settings {
            tick: ms(self.webhook_tick_ms, d.tick),
            timeout,
            first_retry,
            max_retry: ms(self.webhook_max_retry_ms, d.max_retry).max(first_retry),
            // A claim outlives the attempt it covers.
            claim: ms(self.webhook_claim_ms, d.claim).max(timeout * 2),
            ..d
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .init();
    let args = Args::parse();
    let mut config = ServerConfig::local(&args.db);
    config.database_url = args.database.clone();
    config.bind = SocketAddr::from(([127, 0, 0, 1], args.port));
    config.webhooks = args.webhooks();
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("binding {}", config.bind))?;
    println!("listening {}", listener.local_addr()?);
    laituri_server::serve(config, listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
