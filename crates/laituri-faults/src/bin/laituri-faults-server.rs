//! `laituri-faults-server --db FILE [--database URL] [--port N]`: the real central server as a
//! process of its own (on SQLite, or on PostgreSQL when a URL is given),
//! so that the fault suite can kill -9 it. Prints `listening ADDR` on stdout once it accepts
//! connections; logs go to stderr. The database must exist (seeded by the test); the server's
//! admin key is the demo's.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use laituri_server::ServerConfig;
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
    config.database_url = args.database;
    config.bind = SocketAddr::from(([127, 0, 0, 1], args.port));
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("binding {}", config.bind))?;
    println!("listening {}", listener.local_addr()?);
    laituri_server::serve(config, listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
