//! The `laituri` binary: glue only. Each subcommand hands over to a library module.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "laituri", version, about = "Offline-first terminal for the warehouse floor")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Interpret raw scans read from stdin, one per line, and print one JSON object per line.
    Scan(laituri::scan_cli::ScanArgs),
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Scan(args)) => laituri::scan_cli::run_stdio(&args),
        None => {
            let _ = PathBuf::new();
            Ok(())
        }
    }
}
