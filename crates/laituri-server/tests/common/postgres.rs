//! A fresh, empty PostgreSQL database for one test, on a real server.
//!
//! Where the server comes from: the URL in `LAITURI_TEST_POSTGRES` (scripts/test.sh starts one
//! throwaway cluster for the whole run and sets it); without it, the first test of the process
//! that asks starts a throwaway cluster of the process's own with scripts/pg-throwaway.sh, in a
//! directory under the temporary directory. A watcher (`pg-throwaway.sh watch`) holds a pipe from
//! this process and, when the process ends, however it ends, stops that cluster and removes its
//! directory; only a machine that dies with it leaves one behind.
//!
//! Each database is created as `t_<random>` and dropped, connections and all, when its
//! [`PgDatabase`] is dropped, also when the test panics. With no PostgreSQL installed the test
//! fails and says to run scripts/setup-debian.sh.

use std::future::Future;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use tokio_postgres::{Client, NoTls};
use uuid::Uuid;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pg-throwaway.sh");

/// A database of its own for one test, dropped with this value.
pub struct PgDatabase {
    /// A URL to the database, as the server's configuration takes it.
    pub url: String,
    pub name: String,
    /// The server's URL to its maintenance database, from which this one was created.
    server: String,
}

/// Creates a fresh, empty database on the test server (started first if this process has none).
/// Usable from plain and from `#[tokio::test]` tests alike.
pub fn fresh_database() -> PgDatabase {
    let server = server_url().to_string();
    let name = format!("t_{}", Uuid::now_v7().simple());
    let url = with_database(&server, &name);
    let (s, n) = (server.clone(), name.clone());
    let created = block_on(async move {
        connect(&s)
            .await?
            .batch_execute(&format!("CREATE DATABASE {n}"))
            .await
    });
    if let Err(e) = created {
        panic!("cannot create a test database on {server}: {e}");
    }
    PgDatabase { url, name, server }
}

impl PgDatabase {
    /// A client connected to this database, for a test to look at or prepare it.
    pub async fn connect(&self) -> Client {
        connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", self.url))
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        let dropped = block_on(async move {
            connect(&server)
                .await?
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
        });
        if let Err(e) = dropped {
            // No panic here: this may run while a failed test unwinds.
            eprintln!("could not drop the test database {}: {e}", self.name);
        }
    }
}

/// The URL of the server's maintenance database: `LAITURI_TEST_POSTGRES`, or a cluster started
/// for this process.
pub fn server_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("LAITURI_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => url,
        _ => start_cluster(),
    })
}

fn start_cluster() -> String {
    let dir = std::env::temp_dir().join(format!(
        "laituri-pg-{}-{}",
        std::process::id(),
        &Uuid::now_v7().simple().to_string()[24..]
    ));
    // The watcher first, so that even a failed start is cleaned up at exit. It is kept, with this
    // process's end of its stdin, in a static that is never dropped: the pipe stays open as long
    // as the process lives and the kernel closes it at exit.
    static WATCHERS: Mutex<Vec<Child>> = Mutex::new(Vec::new());
    let watcher = Command::new("bash")
        .arg(SCRIPT)
        .arg("watch")
        .arg(&dir)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {SCRIPT}: {e}"));
    WATCHERS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(watcher);
    let out = Command::new("bash")
        .arg(SCRIPT)
        .arg("start")
        .arg(&dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {SCRIPT}: {e}"));
    assert!(
        out.status.success(),
        "could not start a throwaway PostgreSQL for the tests:\n{}\n\
         PostgreSQL must be installed: run scripts/setup-debian.sh (or set \
         LAITURI_TEST_POSTGRES to the URL of a server the tests may create databases on)",
        String::from_utf8_lossy(&out.stderr).trim_end()
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// `url` with its database replaced by `name`: postgres://user@host:port/name?params.
fn with_database(url: &str, name: &str) -> String {
    let (base, params) = match url.split_once('?') {
        Some((base, params)) => (base, Some(params)),
        None => (url, None),
    };
    let Some(scheme_end) = base.find("://").map(|i| i + 3) else {
        panic!("LAITURI_TEST_POSTGRES must be a postgres:// URL, not {url:?}");
    };
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(params) = params {
        out.push('?');
        out.push_str(params);
    }
    out
}

async fn connect(url: &str) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(async move {
        // Ends when the client is dropped; an error here shows as the client's error.
        let _ = connection.await;
    });
    Ok(client)
}

/// Runs `f` to completion on a runtime of its own in a thread of its own, so that it works
/// inside a test's runtime as well as outside any.
fn block_on<T: Send + 'static>(f: impl Future<Output = T> + Send + 'static) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    })
    .join()
    .unwrap_or_else(|e| std::panic::resume_unwind(e))
}
