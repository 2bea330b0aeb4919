//! HTTPS against the real server on 127.0.0.1:0, with a throwaway certificate authority made
//! for each test: a client that trusts the site's CA is answered; one that does not, or that
//! speaks plain HTTP to the HTTPS port, is refused; a handshake that stalls is closed like a
//! request head that stalls; a wrong certificate or key file stops the server at startup with an
//! error that names the file.

use std::path::Path;
use std::time::Duration;

use laituri_protocol::paths;
use laituri_server::{Limits, ServerConfig, ServerHandle, TlsFiles};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;

#[path = "common/pki.rs"]
mod pki;

use pki::make_pki;

fn start_https(dir: &Path, files: TlsFiles, limits: Limits) -> ServerHandle {
    let mut config = ServerConfig::local(dir.join("server.sqlite3"));
    config.tls = Some(files);
    config.limits = limits;
    ServerHandle::start(config).expect("the HTTPS server starts")
}

fn trusting(ca: &Path) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(ca).unwrap()).unwrap();
    reqwest::Client::builder()
        .tls_certs_only([ca])
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// The rustls error somewhere in `e`'s chain of causes. An I/O error carries it as its payload,
/// which its `source()` skips, so the walk goes into the payload instead.
fn rustls_error(e: &(dyn std::error::Error + 'static)) -> Option<rustls::Error> {
    let mut cause = Some(e);
    while let Some(e) = cause {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls.clone());
        }
        cause = match e.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

#[tokio::test]
async fn a_client_trusting_the_site_ca_is_answered_and_others_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(dir.path());
    let server = start_https(dir.path(), pki.files.clone(), Limits::default());
    let url = server.url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let health: serde_json::Value = trusting(&pki.ca)
        .get(format!("{url}{}", paths::HEALTH))
        .send()
        .await
        .expect("a client trusting the site's CA is answered")
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok", "{health}");

    // A client that trusts another CA (say, another site's) fails the handshake, on the
    // certificate.
    let elsewhere = tempfile::tempdir().unwrap();
    let untrusting = trusting(&make_pki(elsewhere.path()).ca);
    let refused = untrusting
        .get(format!("{url}{}", paths::HEALTH))
        .send()
        .await
        .expect_err("a client that does not trust the site's CA is refused");
    assert!(
        matches!(
            rustls_error(&refused),
            Some(rustls::Error::InvalidCertificate(_))
        ),
        "{refused:?}"
    );

    // Plain HTTP to the HTTPS port gets no answer.
    let plain = format!("http://{}{}", server.addr(), paths::HEALTH);
    let plain = untrusting.get(plain).send().await;
    assert!(plain.is_err(), "plain HTTP was answered: {plain:?}");

    // The server still serves after the failed handshakes.
    let again = trusting(&pki.ca)
        .get(format!("{url}{}", paths::HEALTH))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), reqwest::StatusCode::OK);
}

/// Connections that open and then stall in the handshake (nothing sent, or half a ClientHello)
/// are closed within the header timeout, and fill the connection bound only until then.
#[tokio::test]
async fn a_stalled_handshake_is_closed_within_the_header_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(dir.path());
    let limits = Limits {
        max_connections: 4,
        header_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let within = limits.header_timeout * 3;
    let server = start_https(dir.path(), pki.files.clone(), limits);
    let mut stalled = Vec::new();
    for i in 0..4 {
        let mut tcp = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
        if i % 2 == 1 {
            // The start of a TLS record holding a ClientHello, and no more.
            tcp.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
                .await
                .unwrap();
        }
        stalled.push(tcp);
    }
    // The bound is held by the stalled four; a real client is served once they are closed.
    let started = std::time::Instant::now();
    let answer = trusting(&pki.ca)
        .get(format!("{}{}", server.url(), paths::HEALTH))
        .send()
        .await
        .expect("served once the stalled handshakes are closed");
    assert_eq!(answer.status(), reqwest::StatusCode::OK);
    assert!(started.elapsed() < within, "{:?}", started.elapsed());
    for mut tcp in stalled {
        let mut buf = [0u8; 1024];
        let closed = tokio::time::timeout(within, async {
            loop {
                match tcp.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    // An alert on the half-sent ClientHello; then the close.
                    Ok(_) => continue,
                }
            }
        })
        .await;
        assert!(
            closed.is_ok(),
            "a stalled handshake was open after {within:?}"
        );
    }
}

#[test]
fn a_wrong_certificate_or_key_file_stops_the_server_at_startup_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(dir.path());
    let other = tempfile::tempdir().unwrap();
    let other = make_pki(other.path());
    let start = |files: TlsFiles| {
        let mut config = ServerConfig::local(dir.path().join("server.sqlite3"));
        config.tls = Some(files);
        match ServerHandle::start(config) {
            Ok(_) => panic!("the server started with a wrong TLS file"),
            Err(e) => format!("{e:#}"),
        }
    };
    let missing = dir.path().join("missing.pem");
    let cases = [
        (
            TlsFiles {
                cert_chain: missing.clone(),
                ..pki.files.clone()
            },
            missing.display().to_string(),
            "--tls-cert",
        ),
        (
            // The key given as the certificate.
            TlsFiles {
                cert_chain: pki.files.private_key.clone(),
                ..pki.files.clone()
            },
            pki.files.private_key.display().to_string(),
            "no certificate",
        ),
        (
            // The certificate given as the key.
            TlsFiles {
                private_key: pki.files.cert_chain.clone(),
                ..pki.files.clone()
            },
            pki.files.cert_chain.display().to_string(),
            "no private key",
        ),
        (
            // Another certificate's key.
            TlsFiles {
                private_key: other.files.private_key.clone(),
                ..pki.files.clone()
            },
            other.files.private_key.display().to_string(),
            "does not fit",
        ),
    ];
    for (files, names, says) in cases {
        let err = start(files);
        assert!(err.contains(&names), "{err}");
        assert!(err.contains(says), "{err}");
    }
}
