//! The public scan corpus through the real binary: `laituri scan --today 2026-01-01
//! --fnc1-subst '~'` with tests/data/gs1/corpus.txt on stdin must agree with expected.jsonl.
//!
//! Lines whose kind is not guessed (`heuristic` false in expected.jsonl) must agree on `kind`,
//! `valid`, `pairs`, the element dates and decimals, and `gtin.gtin14`; guessed lines on `valid`.
//! Where we argue that expected.jsonl is wrong, tests/data/gs1/exceptions.tsv names the line and
//! field with the reason; only that field of that line is skipped, and an exception that is no
//! longer needed fails the test so the file stays honest.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

const FIELDS: [&str; 6] = ["kind", "valid", "pairs", "dates", "decimals", "gtin14"];

fn field(v: &Value, name: &str) -> Value {
    let per_element = |key: &str| {
        Value::Array(
            v["elements"]
                .as_array()
                .map(|els| els.iter().map(|e| e[key].clone()).collect())
                .unwrap_or_default(),
        )
    };
    match name {
        "dates" => per_element("date"),
        "decimals" => per_element("decimal"),
        "gtin14" => v["gtin"]["gtin14"].clone(),
        other => v[other].clone(),
    }
}

#[test]
fn corpus_agrees_with_expected_interpretations() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/gs1");
    let corpus = std::fs::read(dir.join("corpus.txt")).unwrap();
    let expected: Vec<Value> = std::fs::read_to_string(dir.join("expected.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let exceptions: BTreeSet<(u64, String)> = std::fs::read_to_string(dir.join("exceptions.tsv"))
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut cols = l.split('\t');
            let line = cols.next().unwrap().parse().unwrap();
            let field = cols.next().unwrap().to_string();
            let reason = cols.next().unwrap_or("");
            assert!(
                FIELDS.contains(&field.as_str()),
                "unknown field in exceptions.tsv: {l}"
            );
            assert!(reason.len() > 20, "an exception needs its reason: {l}");
            (line, field)
        })
        .collect();

    let mut child = Command::new(env!("CARGO_BIN_EXE_laituri"))
        .args(["scan", "--today", "2026-01-01", "--fnc1-subst", "~"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start laituri scan");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&corpus).unwrap());
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(output.status.success(), "laituri scan failed");
    let got: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got.len(), expected.len(), "one output line per scan");

    let mut failures = Vec::new();
    let mut used = BTreeSet::new();
    let (mut strict, mut strict_ok, mut guessed, mut guessed_ok, mut guessed_kind_ok) =
        (0, 0, 0, 0, 0);
    for (exp, got) in expected.iter().zip(&got) {
        let n = exp["n"].as_u64().unwrap();
        assert_eq!(got["n"].as_u64(), Some(n));
        let heuristic = exp["heuristic"] == Value::Bool(true);
        let checked: &[&str] = if heuristic { &["valid"] } else { &FIELDS };
        let mut ok = true;
        for &name in checked {
            let (e, g) = (field(exp, name), field(got, name));
            let key = (n, name.to_string());
            if exceptions.contains(&key) {
                assert_ne!(e, g, "line {n}: exception for {name} is no longer needed");
                used.insert(key);
                continue;
            }
            if e != g {
                ok = false;
                failures.push(format!(
                    "line {n} {:?}: {name} expected {e} got {g} (errors {})",
                    exp["input"], got["errors"]
                ));
            }
        }
        if heuristic {
            guessed += 1;
            guessed_ok += usize::from(ok);
            guessed_kind_ok += usize::from(exp["kind"] == got["kind"]);
        } else {
            strict += 1;
            strict_ok += usize::from(ok);
        }
    }
    let unused: Vec<_> = exceptions.difference(&used).collect();
    assert!(
        unused.is_empty(),
        "exceptions for fields that are not checked: {unused:?}"
    );
    let excepted_lines: BTreeSet<u64> = used.iter().map(|(n, _)| *n).collect();
    let agreed = strict_ok + guessed_ok;
    println!(
        "scan corpus: {agreed} of {} lines agreed ({} on every checked field, {} apart from the {} \
         fields excepted in exceptions.tsv); not guessed: {strict_ok} of {strict} on kind, valid, \
         pairs, dates, decimals and gtin14; guessed without a symbology identifier: {guessed_ok} of \
         {guessed} on valid ({guessed_kind_ok} also on kind)",
        expected.len(),
        agreed - excepted_lines.len(),
        excepted_lines.len(),
        used.len(),
    );
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
