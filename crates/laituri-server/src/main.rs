//! The `laituri-server` binary: flags, logging, the demo seed, and Ctrl-C.
//!
//! It is glue only: everything it does is in the library, so tests exercise the same code.
//! It is the one place that reads the clock for the library (today's date for the demo guide).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use laituri_domain::calendar::Date;
use laituri_server::{ServerConfig, demo};
use tracing_subscriber::EnvFilter;

/// Laituri's central server: device sync and the integration API over HTTP+JSON.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// SQLite database file (created when missing).
    #[arg(long = "db", default_value = "laituri-server.sqlite3")]
    db: PathBuf,
    /// A PostgreSQL database to use instead of the SQLite file, e.g.
    /// postgres://laituri@db.example:5432/laituri (many server processes may share it).
    #[arg(long, env = "LAITURI_DATABASE_URL", hide_env_values = true)]
    database: Option<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Bearer key of the integration/admin API. With --seed-demo it defaults to the demo's key.
    #[arg(long, env = "LAITURI_ADMIN_KEY", hide_env_values = true)]
    admin_key: Option<String>,
    #[arg(long, default_value = demo::WAREHOUSE_ID)]
    warehouse_id: String,
    #[arg(long, default_value = demo::WAREHOUSE_NAME)]
    warehouse_name: String,
    /// Seed the demo warehouse (idempotent) and print the guide before serving.
    #[arg(long)]
    seed_demo: bool,
    /// A reverse proxy in front of the server (repeat for several): enrolment attempts through
    /// it count against the client address its X-Forwarded-For names, not against the proxy's.
    #[arg(long, value_name = "IP")]
    trusted_proxy: Vec<std::net::IpAddr>,
    /// Connections served at once (more wait until one closes). The default suits about 500
    /// terminals; raise it for more.
    #[arg(long, default_value_t = laituri_server::Limits::default().max_connections)]
    max_connections: usize,
    /// Serve HTTPS with this certificate chain (PEM: the server's certificate first, then its
    /// intermediates). Needs --tls-key.
    #[arg(
        long,
        env = "LAITURI_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM, unencrypted).
    #[arg(
        long,
        env = "LAITURI_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    tls_key: Option<PathBuf>,
    /// Make a new change-log epoch before serving. Use it once after restoring the database from
    /// a backup: every terminal then pulls its data again from the start.
    #[arg(long)]
    new_epoch: bool,
    /// Reserve stock for orders and release them into pick tasks by themselves: after every
    /// change of orders or stock, and at least this often (seconds). 0 releases only when an
    /// admin asks (POST /api/v1/admin/release-orders).
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    plan_every: u64,
    /// Orders (one tote each) a picker's cart takes in one pick task; 1 makes single-order
    /// tasks.
    #[arg(long, default_value_t = laituri_server::outbound::ReleasePolicy::default().totes)]
    cart_totes: u32,
    /// Pick lines one task holds at most.
    #[arg(long, default_value_t = laituri_server::outbound::ReleasePolicy::default().max_lines)]
    cart_lines: u32,
    /// Refuse webhook URLs that point at this machine (loopback addresses and `localhost`);
    /// allowed by default, for a site's own integration process on the server's machine.
    #[arg(long)]
    webhooks_deny_loopback: bool,
    /// Days a shipped order stays on the terminals for its return to be found (by tracking
    /// code, order number or the customer's name); the customer's name goes with it.
    #[arg(long, default_value_t = laituri_server::shipping::RETURNS_RETENTION_DAYS, value_name = "DAYS")]
    returns_retention_days: u32,
}

fn today_utc() -> Date {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    Date::from_day_number(secs.div_euclid(86_400))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Logs go to stderr so that stdout carries only what a person asked for (the demo guide).
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let admin_key = match (args.admin_key, args.seed_demo) {
        (Some(k), _) => k,
        (None, true) => demo::ADMIN_KEY.to_string(),
        (None, false) => anyhow::bail!(
            "no admin key: pass --admin-key KEY or set LAITURI_ADMIN_KEY (or use --seed-demo, \
             whose key is {:?})",
            demo::ADMIN_KEY
        ),
    };
    let config = ServerConfig {
        db_path: args.db,
        database_url: args.database,
        bind: args.bind,
        admin_key,
        warehouse_id: args.warehouse_id,
        warehouse_name: args.warehouse_name,
        clock: laituri_server::clock::Clock::system(),
        // The built-in carrier is the only one yet: real carriers plug in behind the same trait.
        shipping: laituri_server::shipping::Shipping {
            returns_retention_days: args.returns_retention_days,
            ..laituri_server::shipping::Shipping::demo()
        },
        planning: laituri_server::planner::Schedule {
            policy: laituri_server::outbound::ReleasePolicy {
                totes: args.cart_totes.max(1),
                max_lines: args.cart_lines.max(1),
                ..laituri_server::outbound::ReleasePolicy::default()
            },
            every: (args.plan_every > 0).then(|| std::time::Duration::from_secs(args.plan_every)),
        },
        limits: laituri_server::Limits {
            max_connections: args.max_connections,
            trusted_proxies: args.trusted_proxy,
            ..laituri_server::Limits::default()
        },
        webhooks: laituri_server::webhooks::Settings {
            allow_loopback: !args.webhooks_deny_loopback,
            ..laituri_server::webhooks::Settings::default()
        },
        tls: match (args.tls_cert, args.tls_key) {
            (Some(cert_chain), Some(private_key)) => Some(laituri_server::TlsFiles {
                cert_chain,
                private_key,
            }),
            _ => None,
        },
    };
    // Before anything is written: a demo key on a reachable address stops here, and so does a
    // bad certificate or key.
    config.check_admin_key(config.bind)?;
    if let Some(tls) = &config.tls {
        tls.acceptor()?;
    }
    if args.new_epoch {
        let epoch = config.open_backend().await?.new_epoch().await?;
        println!("New change-log epoch {epoch}: terminals will pull everything again");
    }
    if args.seed_demo {
        let seeded = config.clone();
        let guide =
            tokio::task::spawn_blocking(move || demo::seed_with_orders(&seeded, today_utc()))
                .await??;
        println!("{guide}");
        // Only the demo's well-known key is printed; a real key stays out of terminals and logs.
        if config.admin_key == demo::ADMIN_KEY {
            println!("Integration API: Authorization: Bearer {}", demo::ADMIN_KEY);
        }
    }
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("binding {}", config.bind))?;
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    println!("Listening on {scheme}://{}", listener.local_addr()?);
    laituri_server::serve(config, listener, async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("Ctrl-C: shutting down");
    })
    .await
}
