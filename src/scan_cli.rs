//! `laituri scan`: the scan interpreter on the command line (placeholder, filled by the scanner work).

use anyhow::Result;

#[derive(clap::Args, Debug, Clone)]
pub struct ScanArgs {
    /// The date scans are judged against (YYYY-MM-DD); defaults to the device's date.
    #[arg(long)]
    pub today: Option<String>,
    /// The character a scanner sends in place of FNC1 (the group separator, ASCII 29, is always accepted).
    #[arg(long)]
    pub fnc1_subst: Option<char>,
}

pub fn run_stdio(_args: &ScanArgs) -> Result<()> {
    Ok(())
}
