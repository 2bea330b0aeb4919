//! A throwaway PKI for tests of HTTPS: the server's (tests/tls.rs) and the terminal's
//! (tests/sync_e2e.rs, which takes this file by path).

use std::path::{Path, PathBuf};

use laituri_server::TlsFiles;

/// A site's own CA and a server certificate it signed for 127.0.0.1 and localhost, as PEM files
/// in `dir`: `ca.pem`, `server.pem` (the chain) and `server.key`.
pub struct Pki {
    pub ca: PathBuf,
    pub files: TlsFiles,
}

pub fn make_pki(dir: &Path) -> Pki {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Laituri test site CA");
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();

    let key = rcgen::KeyPair::generate().unwrap();
    let mut params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "laituri-server");
    let cert = params.signed_by(&key, &ca).unwrap();

    let pki = Pki {
        ca: dir.join("ca.pem"),
        files: TlsFiles {
            cert_chain: dir.join("server.pem"),
            private_key: dir.join("server.key"),
        },
    };
    std::fs::write(&pki.ca, ca.pem()).unwrap();
    std::fs::write(&pki.files.cert_chain, cert.pem()).unwrap();
    std::fs::write(&pki.files.private_key, key.serialize_pem()).unwrap();
    pki
}
