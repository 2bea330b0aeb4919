//! Where the terminal keeps its files and what its configuration file says.
//!
//! Files live in the platform directories (`directories`), or all under `--data-dir` when given
//! (a kiosk unit, a test, the demo). The configuration is a small TOML file; every field has a
//! default, so a missing file is a valid configuration and a bad one is a clear error.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::terminal::CoreConfig;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Base URL of the central server (`https://…` in production).
    pub server_url: String,
    /// A PEM file of more trusted roots for an `https` server: the site's own CA, when the
    /// server's certificate is not from a CA the platform already trusts.
    pub ca_file: Option<PathBuf>,
    /// One-time code from the shift lead that enrols this terminal with the server.
    pub enrolment_code: Option<String>,
    /// Name the server shows for this terminal.
    pub device_name: String,
    /// The character the scanner sends in place of FNC1 (GS, ASCII 29, always works).
    pub fnc1_substitute: Option<char>,
    /// The dock this terminal receives at.
    pub dock: String,
    /// Label prefixes of totes and license plates.
    pub container_prefixes: Vec<String>,
    /// No sounds (a quiet test bench); the colours still show.
    pub mute: bool,
    /// The window fills the screen (a packing station's kiosk).
    pub fullscreen: bool,
    /// A packing station's devices.
    pub station: StationConfig,
}

/// A packing station's devices (`[station]` in the file): its label printer and its scale.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StationConfig {
    /// The label printer, `host:port` (raw TCP, port 9100 when left out), e.g.
    /// `192.168.1.50:9100`. Without one, labels are shown on screen.
    pub printer: Option<String>,
    /// The scale's serial port, e.g. `/dev/ttyUSB0`. Without one, weights are estimated or typed.
    pub scale: Option<PathBuf>,
    /// The scale's speed (9600 when left out).
    pub scale_baud: Option<u32>,
}

impl Default for Config {
    fn default() -> Self {
        let core = CoreConfig::default();
        Config {
            server_url: "http://127.0.0.1:8080".into(),
            ca_file: None,
            enrolment_code: None,
            device_name: "laituri".into(),
            fnc1_substitute: None,
            dock: core.dock,
            container_prefixes: core.container_prefixes,
            mute: false,
            fullscreen: false,
            station: StationConfig::default(),
        }
    }
}

impl Config {
    /// Reads `path`; a missing file gives the defaults.
    pub fn load(path: &Path) -> Result<Config> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text)
                .with_context(|| format!("the configuration file {} is not valid", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, toml::to_string_pretty(self)?)
            .with_context(|| format!("writing {}", path.display()))
    }

    pub fn core(&self) -> CoreConfig {
        CoreConfig {
            fnc1_substitute: self.fnc1_substitute,
            dock: self.dock.clone(),
            container_prefixes: self.container_prefixes.clone(),
            printer: self
                .station
                .printer
                .clone()
                .filter(|p| !p.trim().is_empty()),
        }
    }
}

/// The terminal's file locations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub data_dir: PathBuf,
    pub config_file: PathBuf,
}

impl Paths {
    /// `--data-dir` puts everything in one directory; otherwise the platform's directories.
    pub fn resolve(data_dir: Option<&Path>, config_file: Option<&Path>) -> Result<Paths> {
        let (data, default_config) = match data_dir {
            Some(d) => (d.to_path_buf(), d.join("laituri.toml")),
            None => {
                let dirs = directories::ProjectDirs::from("fi", "Laituri", "laituri").context(
                    "no home directory to keep the terminal's files in: pass --data-dir",
                )?;
                (
                    dirs.data_dir().to_path_buf(),
                    dirs.config_dir().join("laituri.toml"),
                )
            }
        };
        Ok(Paths {
            data_dir: data,
            config_file: config_file.map(Path::to_path_buf).unwrap_or(default_config),
        })
    }

    pub fn database(&self) -> PathBuf {
        self.data_dir.join("laituri.sqlite3")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_the_default_and_a_saved_one_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("laituri.toml");
        assert_eq!(Config::load(&path).unwrap(), Config::default());
        let c = Config {
            fnc1_substitute: Some('~'),
            ca_file: Some(dir.path().join("site-ca.pem")),
            enrolment_code: Some("X".into()),
            station: StationConfig {
                printer: Some("192.168.1.50:9100".into()),
                scale: Some("/dev/ttyUSB0".into()),
                scale_baud: Some(9600),
            },
            ..Config::default()
        };
        c.save(&path).unwrap();
        assert_eq!(Config::load(&path).unwrap(), c);
    }

    #[test]
    fn a_typo_in_the_file_is_an_error_that_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("laituri.toml");
        std::fs::write(&path, "server_ulr = \"http://x\"\n").unwrap();
        let err = format!("{:#}", Config::load(&path).unwrap_err());
        assert!(err.contains("laituri.toml"), "{err}");
        assert!(err.contains("server_ulr"), "{err}");
    }
}
