//! The central server as a child process, so that a test can kill -9 it mid-commit.
//!
//! `laituri-faults-server --db FILE` serves the real server on 127.0.0.1 with a free port and
//! prints `listening ADDR` as its first line. [`ServerProcess`] starts it, reads the address,
//! kills it with SIGKILL and starts it again on the same database (on a new port: the fault proxy
//! in front follows with `set_upstream`).
//!
//! Every server of the suite delivers webhooks with the worker's times cut short
//! ([`WEBHOOK_TIMEOUT_MS`] and the rest): a receiver that hangs is given up on in a fraction of a
//! second, a failed attempt is tried again within a second, and a delivery a killed server held
//! is taken again soon after, so that a short run sees them all.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use laituri_server::ServerConfig;

/// Seeds the demo warehouse into a new server database and returns its guide.
pub fn seed(db: &Path) -> anyhow::Result<laituri_server::demo::DemoGuide> {
    laituri_server::demo::seed(&ServerConfig::local(db), crate::today())
}

/// Seeds the demo warehouse into an empty PostgreSQL database and returns its guide.
pub fn seed_postgres(url: &str) -> anyhow::Result<laituri_server::demo::DemoGuide> {
    let mut config = ServerConfig::local("unused.sqlite3");
    config.database_url = Some(url.to_string());
    laituri_server::demo::seed(&config, crate::today())
}

/// How often an idle webhook worker looks for work.
pub const WEBHOOK_TICK_MS: u64 = 100;
/// The longest a webhook attempt may take: a receiver that hangs longer gets a retry.
pub const WEBHOOK_TIMEOUT_MS: u64 = 400;
/// The first retry after a failed attempt, doubling up to [`WEBHOOK_MAX_RETRY_MS`].
pub const WEBHOOK_FIRST_RETRY_MS: u64 = 150;
pub const WEBHOOK_MAX_RETRY_MS: u64 = 1_000;
/// How long a server's claim on a delivery holds: what a delivery in flight at a kill -9 waits.
pub const WEBHOOK_CLAIM_MS: u64 = 1_500;

pub struct ServerProcess {
    bin: PathBuf,
    db: PathBuf,
    /// PostgreSQL instead of `db`.
    database_url: Option<String>,
    log: PathBuf,
    child: Option<Child>,
    addr: SocketAddr,
}

impl ServerProcess {
    /// Starts the server binary `bin` on `db`; its stderr goes to `log` (appended).
    pub fn start(bin: &Path, db: &Path, log: &Path) -> anyhow::Result<ServerProcess> {
        Self::start_on(bin, db, None, log)
    }

    /// Starts the server binary `bin` on the PostgreSQL database `url` (or on `db` without one).
    pub fn start_on(
        bin: &Path,
        db: &Path,
        database_url: Option<&str>,
        log: &Path,
    ) -> anyhow::Result<ServerProcess> {
        let mut s = ServerProcess {
            bin: bin.to_path_buf(),
            db: db.to_path_buf(),
            database_url: database_url.map(str::to_string),
            log: log.to_path_buf(),
            child: None,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        s.spawn()?;
        Ok(s)
    }

    fn spawn(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--db").arg(&self.db);
        if let Some(url) = &self.database_url {
            cmd.arg("--database").arg(url);
        }
        for (option, ms) in [
            ("--webhook-tick-ms", WEBHOOK_TICK_MS),
            ("--webhook-timeout-ms", WEBHOOK_TIMEOUT_MS),
            ("--webhook-first-retry-ms", WEBHOOK_FIRST_RETRY_MS),
            ("--webhook-max-retry-ms", WEBHOOK_MAX_RETRY_MS),
            ("--webhook-claim-ms", WEBHOOK_CLAIM_MS),
        ] {
            cmd.arg(option).arg(ms.to_string());
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.bin.display()))?;
        let stdout = child.stdout.take().context("the server's stdout")?;
        // The first line says where it listens; read it on a thread so a hung server cannot
        // hang the test.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(l) => l,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                anyhow::bail!("the server did not say where it listens within 30 s");
            }
        };
        let addr = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|a| a.parse().ok());
        let Some(addr) = addr else {
            let _ = child.kill();
            let _ = child.wait();
            anyhow::bail!(
                "the server did not start: {line:?} (see {})",
                self.log.display()
            );
        };
        self.addr = addr;
        self.child = Some(child);
        Ok(())
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// SIGKILL: no graceful shutdown, no flush beyond what SQLite already made durable.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the server again on the same database; returns its new address.
    pub fn restart(&mut self) -> anyhow::Result<SocketAddr> {
        self.kill9();
        self.spawn()?;
        Ok(self.addr)
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}
