//! The `laituri` binary: glue only. Each subcommand hands over to a library module.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};
use laituri::config::{Config, Paths};

#[derive(Parser, Debug)]
#[command(
    name = "laituri",
    version,
    about = "Offline-first terminal for the warehouse floor"
)]
struct Cli {
    /// Keep every file (database, configuration) in this directory instead of the platform's.
    #[arg(long, global = true, env = "LAITURI_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// The configuration file (default: laituri.toml in the configuration directory).
    #[arg(long, global = true, env = "LAITURI_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the terminal (the default).
    Run {
        /// Central server URL (overrides the configuration file).
        #[arg(long)]
        server: Option<String>,
        /// Enrolment code from the shift lead (overrides the configuration file).
        #[arg(long)]
        enrolment_code: Option<String>,
        /// PEM file of the site's own CA, trusted besides the platform's roots for an https
        /// server (overrides the configuration file's ca_file).
        #[arg(long, value_name = "FILE")]
        ca_file: Option<PathBuf>,
        /// No sounds.
        #[arg(long)]
        mute: bool,
        /// Fill the screen (a packing station's kiosk).
        #[arg(long)]
        fullscreen: bool,
    },
    /// Start a demo: the terminal and an embedded central server with a demo warehouse.
    Demo {
        /// No sounds.
        #[arg(long)]
        mute: bool,
        /// Throw away the demo's data from earlier runs and start over.
        #[arg(long)]
        reset: bool,
        /// Seed and write the barcode sheet, but open no window.
        #[arg(long)]
        no_window: bool,
        /// Take the demo's server down for SECS seconds every SECS seconds, to see offline work.
        #[arg(long, value_name = "SECS")]
        outage: Option<u64>,
    },
    /// Interpret raw scans read from stdin, one per line, and print one JSON object per line.
    Scan(laituri::scan_cli::ScanArgs),
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Scan(args)) => laituri::scan_cli::run_stdio(&args),
        Some(Command::Demo {
            mute,
            reset,
            no_window,
            outage,
        }) => {
            let paths = Paths::resolve(cli.data_dir.as_deref(), cli.config.as_deref())?;
            laituri::demo::run(
                &paths,
                &laituri::demo::DemoOptions {
                    mute,
                    reset,
                    no_window,
                    outage: outage
                        .filter(|s| *s > 0)
                        .map(std::time::Duration::from_secs),
                },
            )
        }
        Some(Command::Run {
            server,
            enrolment_code,
            ca_file,
            mute,
            fullscreen,
        }) => run(
            &cli.data_dir,
            &cli.config,
            Overrides {
                server,
                enrolment_code,
                ca_file,
                mute,
                fullscreen,
            },
        ),
        None => run(&cli.data_dir, &cli.config, Overrides::default()),
    }
}

/// What `laituri run`'s flags change of the configuration file.
#[derive(Debug, Default)]
struct Overrides {
    server: Option<String>,
    enrolment_code: Option<String>,
    ca_file: Option<PathBuf>,
    mute: bool,
    fullscreen: bool,
}

fn run(data_dir: &Option<PathBuf>, config_file: &Option<PathBuf>, flags: Overrides) -> Result<()> {
    let paths = Paths::resolve(data_dir.as_deref(), config_file.as_deref())?;
    let mut config = Config::load(&paths.config_file)?;
    if let Some(s) = flags.server {
        config.server_url = s;
    }
    if flags.enrolment_code.is_some() {
        config.enrolment_code = flags.enrolment_code;
    }
    if flags.ca_file.is_some() {
        config.ca_file = flags.ca_file;
    }
    config.mute |= flags.mute;
    config.fullscreen |= flags.fullscreen;
    laituri::app::run(&paths, &config)
}
