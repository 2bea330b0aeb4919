//! HTTPS: the server's certificate and key, read once at startup into the acceptor that runs the
//! TLS handshake of each connection (in the crate's `serve_state`, before hyper reads a byte).
//!
//! rustls with the aws-lc-rs provider, the one the terminal's HTTP client already uses. Files
//! are PEM: the certificate chain (the server's certificate first, then its intermediates) and
//! its unencrypted private key (PKCS#8, PKCS#1 or SEC1). A file that is missing, unreadable or
//! holds the wrong thing stops the server at startup with an error that names the file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::{self, PemObject};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Where the server's certificate chain and private key are, both PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The server's certificate first, then the intermediates up to (not including) the root.
    pub cert_chain: PathBuf,
    /// The certificate's private key, unencrypted.
    pub private_key: PathBuf,
}

impl TlsFiles {
    /// Reads and checks both files: the acceptor of every connection the server serves.
    pub fn acceptor(&self) -> anyhow::Result<TlsAcceptor> {
        let chain = read_chain(&self.cert_chain)?;
        let key = read_key(&self.private_key)?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("the TLS library offers no protocol version")?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| {
                anyhow::anyhow!(
                    "the TLS key {} does not fit the certificate {} ({e}): pass the private key \
                     that was made with that certificate",
                    self.private_key.display(),
                    self.cert_chain.display()
                )
            })?;
        // The server speaks HTTP/1.1 only; saying so lets a client that offers HTTP/2 fall back.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

fn read(path: &Path, what: &str, flag: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| {
        format!(
            "reading the TLS {what} {}: pass {flag} with the path of a readable PEM file",
            path.display()
        )
    })
}

fn read_chain(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let bytes = read(path, "certificate chain", "--tls-cert")?;
    let chain = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, pem::Error>>()
        .map_err(|e| {
            anyhow::anyhow!(
                "the TLS certificate chain {} is not valid PEM ({e}): pass --tls-cert with the \
                 server's certificate and its intermediates, each from -----BEGIN CERTIFICATE-----",
                path.display()
            )
        })?;
    if chain.is_empty() {
        bail!(
            "the TLS certificate chain {} holds no certificate (no -----BEGIN CERTIFICATE-----): \
             pass --tls-cert with the server's certificate and its intermediates; the private key \
             goes to --tls-key",
            path.display()
        );
    }
    Ok(chain)
}

fn read_key(path: &Path) -> anyhow::Result<PrivateKeyDer<'static>> {
    let bytes = read(path, "private key", "--tls-key")?;
    if bytes
        .windows(b"ENCRYPTED PRIVATE KEY".len())
        .any(|w| w == b"ENCRYPTED PRIVATE KEY")
    {
        bail!(
            "the TLS private key {} is encrypted with a passphrase: the server starts unattended, \
             so pass --tls-key with the key decrypted (openssl pkey -in KEY -out KEY.pem) and \
             readable only by the server's user",
            path.display()
        );
    }
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| match e {
        pem::Error::NoItemsFound => anyhow::anyhow!(
            "the TLS private key {} holds no private key (no -----BEGIN PRIVATE KEY-----, RSA \
             PRIVATE KEY or EC PRIVATE KEY): pass --tls-key with the certificate's private key; \
             the certificate goes to --tls-cert",
            path.display()
        ),
        e => anyhow::anyhow!(
            "the TLS private key {} is not valid PEM ({e}): pass --tls-key with the certificate's \
             private key in PEM",
            path.display()
        ),
    })
}
