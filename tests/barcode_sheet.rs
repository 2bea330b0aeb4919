//! The demo's barcode sheet scans as the guide says: every barcode on it, rendered to an image,
//! is decoded by a real barcode reader (zbar, as `zbarimg`) and interpreted by the terminal's
//! own scan interpreter the same way as the code the guide prints beside it.

use std::process::Command;

use laituri::demo::barcode_sheet;
use laituri_domain::calendar::Date;
use laituri_domain::scan::{ScanOptions, interpret};

/// Renders the bars of one of our SVG barcodes into a PGM image with a quiet zone.
fn svg_to_pgm(svg: &str) -> Vec<u8> {
    let view = svg.split("viewBox=\"0 0 ").nth(1).expect("viewBox");
    let mut dims = view.split(['"', ' ']);
    let w: usize = dims.next().unwrap().parse().unwrap();
    let h: usize = dims.next().unwrap().parse().unwrap();
    let (scale, pad) = (3, 60);
    let width = w * scale + 2 * pad;
    let mut row = vec![255u8; width];
    for rect in svg.split("<rect ").skip(1) {
        if !rect.contains("fill=\"#000000\"") {
            continue;
        }
        let attr = |name: &str| -> usize {
            rect.split(&format!("{name}=\""))
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        };
        let (x, rw) = (attr("x"), attr("width"));
        for px in &mut row[pad + x * scale..pad + (x + rw) * scale] {
            *px = 0;
        }
    }
    let height = h * scale + 2 * pad;
    let mut out = format!("P5 {width} {height} 255\n").into_bytes();
    for y in 0..height {
        if (pad..height - pad).contains(&y) {
            out.extend_from_slice(&row);
        } else {
            out.extend(std::iter::repeat_n(255u8, width));
        }
    }
    out
}

fn decode(svg: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("code.pgm");
    std::fs::write(&path, svg_to_pgm(svg)).unwrap();
    let out = Command::new("zbarimg")
        .args(["--nodbus", "-q", "--raw"])
        .arg(&path)
        .output()
        .expect("zbarimg is installed (scripts/setup-debian.sh installs zbar-tools)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn every_barcode_on_the_demo_sheet_decodes_to_its_caption() {
    let today = Date::new(2026, 11, 22).unwrap();
    let guide = laituri_server::demo::guide(today);
    let html = barcode_sheet(&guide);
    let opts = ScanOptions {
        today,
        fnc1_substitute: None,
    };
    let mut checked = 0;
    for figure in html.split("<figure>").skip(1) {
        let svg = &figure[..figure.find("</svg>").unwrap() + 6];
        let caption = figure.split("<figcaption><b>").nth(1).unwrap();
        let caption = caption.split("</b>").next().unwrap();
        let note = figure.split("<br>").nth(1).unwrap_or_default();
        // The code to scan is the caption, or for items the first word of the note.
        let code = if caption
            .starts_with(|c: char| c.is_ascii_uppercase() || c == '(' || c.is_ascii_digit())
            && !note.contains('·')
        {
            caption.to_string()
        } else {
            note.split(' ').next().unwrap().to_string()
        };
        let decoded = decode(svg);
        assert_eq!(decoded.len(), 1, "{code}: zbar read {decoded:?}");
        // A GTIN-14 case code is printed as GS1-128 with AI (01).
        let case_code =
            code.len() == 14 && code.bytes().all(|b| b.is_ascii_digit()) && !code.starts_with('0');
        let printed = if case_code {
            format!("(01){code}")
        } else {
            code.clone()
        };
        let want = interpret(&printed, &opts);
        // zbar drops the leading FNC1 of GS1-128 and sends the rest as data: a scanner with
        // AIM identifiers on would prefix ]C1, which is what we give the interpreter.
        let read = if printed.starts_with('(') {
            interpret(&format!("]C1{}", decoded[0]), &opts)
        } else {
            interpret(&decoded[0], &opts)
        };
        assert!(want.valid, "{code} is a valid code");
        assert_eq!(read.kind, want.kind, "{code} read as {:?}", decoded[0]);
        assert_eq!(
            read.pairs().collect::<Vec<_>>(),
            want.pairs().collect::<Vec<_>>(),
            "{code}"
        );
        assert_eq!(read.gtin14(), want.gtin14(), "{code}");
        assert_eq!(read.text(), want.text(), "{code}");
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} barcodes on the sheet");
}
