//! A PostgreSQL database for a benchmark: a fresh database on the server in
//! `LAITURI_TEST_POSTGRES`, or on a throwaway cluster the benchmark starts (and stops when done).

use uuid::Uuid;

pub struct PgForBench {
    pub url: String,
    _cluster: Option<Cluster>,
}

struct Cluster(std::path::PathBuf);

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new("bash")
            .arg(script())
            .arg("stop")
            .arg(&self.0)
            .status();
    }
}

fn script() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pg-throwaway.sh").to_string()
}

pub fn postgres_for_bench(rt: &tokio::runtime::Runtime) -> PgForBench {
    let (server, cluster) = match std::env::var("LAITURI_TEST_POSTGRES") {
        Ok(url) => (url, None),
        Err(_) => {
            let dir = std::env::temp_dir().join(format!("laituri-bench-pg-{}", std::process::id()));
            let out = std::process::Command::new("bash")
                .arg(script())
                .arg("start")
                .arg(&dir)
                .output()
                .expect("scripts/pg-throwaway.sh runs");
            assert!(
                out.status.success(),
                "no PostgreSQL for the benchmark (run scripts/setup-debian.sh): {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let url = String::from_utf8_lossy(&out.stdout).trim().to_string();
            (url, Some(Cluster(dir)))
        }
    };
    let name = format!("bench_{}", Uuid::now_v7().simple());
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(&server, tokio_postgres::NoTls)
            .await
            .expect("the PostgreSQL server answers");
        tokio::spawn(conn);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("a database for the benchmark");
    });
    let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
    PgForBench {
        url: format!("{base}/{name}"),
        _cluster: cluster,
    }
}
