//! `laituri scan`: the scan interpreter on the command line.
//!
//! Reads raw scans on stdin, one per line, written with the corpus escapes (`\x1d` or `<GS>` for
//! FNC1, `\xHH`, `\uHHHH`, `\t \r \n`, `\\`), and prints one JSON object per line: the line number
//! `n`, the `input` as read, and the interpretation (see `laituri_domain::scan`). This is glue: the
//! only decision made here is the default for "today", the one place that reads the clock.

use std::io::{BufRead, BufWriter, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use laituri_domain::calendar::Date;
use laituri_domain::scan::{self, Scan, ScanOptions};
use serde::Serialize;

#[derive(clap::Args, Debug, Clone)]
pub struct ScanArgs {
    /// The date scans are judged against (YYYY-MM-DD); defaults to the device's date.
    #[arg(long)]
    pub today: Option<String>,
    /// The character a scanner sends in place of FNC1 (the group separator, ASCII 29, is always accepted).
    #[arg(long)]
    pub fnc1_subst: Option<char>,
}

#[derive(Serialize)]
struct Line<'a> {
    n: usize,
    input: &'a str,
    #[serde(flatten)]
    scan: &'a Scan,
}

/// The device's date (UTC). Only the CLI layer reads the clock.
fn system_today() -> Date {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Date::from_day_number((secs / 86_400) as i64)
}

fn options(args: &ScanArgs) -> Result<ScanOptions> {
    let today = match &args.today {
        Some(text) => match Date::parse_iso(text) {
            Some(d) => d,
            None => bail!("--today must be a date like 2026-01-31, got {text:?}"),
        },
        None => system_today(),
    };
    Ok(ScanOptions {
        today,
        fnc1_substitute: args.fnc1_subst,
    })
}

/// Interprets every line of `input` and writes one JSON object per line to `output`.
/// Bytes that are not UTF-8 are replaced (U+FFFD) rather than stopping the run: a scanner can
/// send anything, and the interpretation then says what is wrong with that line.
pub fn run(args: &ScanArgs, mut input: impl BufRead, output: impl Write) -> Result<()> {
    let opts = options(args)?;
    let mut out = BufWriter::new(output);
    let mut buf = Vec::new();
    let mut n = 0;
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf).context("reading scans")? == 0 {
            break;
        }
        n += 1;
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        let line = String::from_utf8_lossy(&buf);
        let scan = scan::interpret(&scan::escape::unescape(&line), &opts);
        serde_json::to_writer(
            &mut out,
            &Line {
                n,
                input: &line,
                scan: &scan,
            },
        )
        .context("writing JSON")?;
        out.write_all(b"\n").context("writing JSON")?;
    }
    out.flush().context("writing JSON")?;
    Ok(())
}

pub fn run_stdio(args: &ScanArgs) -> Result<()> {
    run(args, std::io::stdin().lock(), std::io::stdout().lock())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_lines(input: &str) -> Vec<serde_json::Value> {
        let args = ScanArgs {
            today: Some("2026-01-01".into()),
            fnc1_subst: Some('~'),
        };
        let mut out = Vec::new();
        run(&args, input.as_bytes(), &mut out).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn one_json_object_per_line_with_escapes_decoded() {
        let v = run_lines("]C10109506000134352\\x1d10ABC\n\n4006381333931\n");
        assert_eq!(v.len(), 3);
        assert_eq!(v[0]["n"], 1);
        assert_eq!(v[0]["input"], "]C10109506000134352\\x1d10ABC");
        assert_eq!(v[0]["pairs"][1][1], "ABC");
        assert_eq!(v[1]["kind"], "empty");
        assert_eq!(v[2]["gtin"]["gtin14"], "04006381333931");
        assert_eq!(v[2]["heuristic"], true);
    }

    #[test]
    fn a_bad_today_is_refused() {
        let args = ScanArgs {
            today: Some("31.1.2026".into()),
            fnc1_subst: None,
        };
        assert!(run(&args, "x\n".as_bytes(), Vec::new()).is_err());
    }
}
