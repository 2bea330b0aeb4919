//! Labels: tote, license-plate and location labels and demo barcode sheets, as SVG (barcoders)
//! and as ZPL for the network label printers on warehouse floors (raw TCP, port 9100).
//!
//! Encoding is pure; only [`send_zpl`] does I/O, with a timeout, and never from the UI thread.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use barcoders::generators::svg::SVG;
use barcoders::sym::code128::Code128;
use barcoders::sym::ean8::EAN8;
use barcoders::sym::ean13::EAN13;

#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error("{0:?} cannot be printed as a barcode: {1}")]
    Encode(String, String),
    #[error(
        "the label printer at {0} did not take the label: {1}. Check that it is on and on the network."
    )]
    Printer(SocketAddr, String),
}

/// Code 128 character-set prefixes and FNC1, as barcoders spells them.
const SET_B: char = 'Ɓ';
const FNC1: char = 'Ź';

fn svg(encoded: &[u8], height: u32) -> Result<String, String> {
    SVG::new(height)
        .xdim(2)
        .generate(encoded)
        .map_err(|e| e.to_string())
}

/// A Code 128 barcode of plain text (badges, totes, locations, notice references).
pub fn code128_svg(text: &str) -> Result<String, LabelError> {
    let err = |e: String| LabelError::Encode(text.to_string(), e);
    let code = Code128::new(format!("{SET_B}{text}")).map_err(|e| err(e.to_string()))?;
    svg(&code.encode(), 80).map_err(err)
}

/// A GS1-128 barcode of an element string in bracketed form, e.g. `(01)06412345000012(10)L1`.
/// Variable-length values are ended with FNC1 where another element follows.
pub fn gs1_128_svg(bracketed: &str) -> Result<String, LabelError> {
    let err = |e: String| LabelError::Encode(bracketed.to_string(), e);
    let mut data = format!("{SET_B}{FNC1}");
    let mut parts = bracketed.split('(').filter(|p| !p.is_empty()).peekable();
    while let Some(part) = parts.next() {
        let (ai, value) = part
            .split_once(')')
            .ok_or_else(|| err("expected (AI)value pairs".into()))?;
        data.push_str(ai);
        data.push_str(value);
        if parts.peek().is_some() && !is_predefined_length(ai) {
            data.push(FNC1);
        }
    }
    let code = Code128::new(data).map_err(|e| err(e.to_string()))?;
    svg(&code.encode(), 80).map_err(err)
}

/// AIs whose first two digits have a pre-defined length (no FNC1 needed after them).
fn is_predefined_length(ai: &str) -> bool {
    matches!(
        ai.get(0..2),
        Some(
            "00" | "01"
                | "02"
                | "03"
                | "04"
                | "11"
                | "12"
                | "13"
                | "14"
                | "15"
                | "16"
                | "17"
                | "18"
                | "19"
                | "20"
                | "31"
                | "32"
                | "33"
                | "34"
                | "35"
                | "36"
                | "41"
        )
    )
}

/// An EAN-13 (13 digits, or a GTIN-14 with a leading 0) or EAN-8 barcode; a GTIN-14 case
/// code as GS1-128.
pub fn ean_svg(gtin: &str) -> Result<String, LabelError> {
    let digits = match gtin.len() {
        14 if gtin.starts_with('0') => &gtin[1..],
        _ => gtin,
    };
    let err = |e: String| LabelError::Encode(gtin.to_string(), e);
    let encoded = match digits.len() {
        13 => EAN13::new(digits).map_err(|e| err(e.to_string()))?.encode(),
        8 => EAN8::new(digits).map_err(|e| err(e.to_string()))?.encode(),
        // A case code (GTIN-14 with an indicator digit) goes on a GS1-128 label as (01).
        14 => return gs1_128_svg(&format!("(01){digits}")),
        _ => return code128_svg(gtin),
    };
    svg(&encoded, 100).map_err(err)
}

/// A tote or license-plate label in ZPL: the code as Code 128 with its text under it.
pub fn zpl_container_label(code: &str) -> String {
    // ^FH lets ^FD carry any byte as _XX; escape the characters ZPL treats as commands.
    let safe: String = code
        .chars()
        .map(|c| match c {
            '^' | '~' | '_' => format!("_{:02X}", c as u32),
            c => c.to_string(),
        })
        .collect();
    format!(
        "^XA\n^CI28\n^FO50,40^BY3^BCN,160,Y,N,N^FH^FD{safe}^FS\n^FO50,260^A0N,60,60^FH^FD{safe}^FS\n^XZ\n"
    )
}

/// Sends ZPL to a network label printer (raw TCP, usually port 9100).
pub fn send_zpl(printer: SocketAddr, zpl: &str, timeout: Duration) -> Result<(), LabelError> {
    let fail = |e: std::io::Error| LabelError::Printer(printer, e.to_string());
    let mut stream = TcpStream::connect_timeout(&printer, timeout).map_err(fail)?;
    stream.set_write_timeout(Some(timeout)).map_err(fail)?;
    stream.write_all(zpl.as_bytes()).map_err(fail)?;
    stream.flush().map_err(fail)
}

/// Escapes text for HTML.
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn barcodes_encode_to_svg() {
        for svg in [
            code128_svg("T-0001").unwrap(),
            gs1_128_svg("(01)06412345000012(17)270131(10)LOT42").unwrap(),
            ean_svg("06412345000012").unwrap(),
            ean_svg("4006381333931").unwrap(),
        ] {
            assert!(svg.starts_with("<svg"), "{svg}");
            assert!(svg.contains("<rect"));
        }
    }

    #[test]
    fn bad_codes_are_errors_not_panics() {
        assert!(ean_svg("4006381333932").is_err(), "wrong check digit");
        assert!(gs1_128_svg("01)x").is_ok() || gs1_128_svg("01)x").is_err());
        assert!(code128_svg("tote\u{1F4E6}").is_err());
    }

    #[test]
    fn zpl_escapes_command_characters() {
        let z = zpl_container_label("T-^XZ");
        assert!(z.starts_with("^XA") && z.trim_end().ends_with("^XZ"));
        assert_eq!(z.matches("^XZ").count(), 1, "{z}");
    }

    #[test]
    fn zpl_reaches_a_printer_over_tcp() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let printer = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut got = String::new();
            s.read_to_string(&mut got).unwrap();
            got
        });
        let zpl = zpl_container_label("LP-000123");
        send_zpl(addr, &zpl, Duration::from_secs(2)).unwrap();
        assert_eq!(printer.join().unwrap(), zpl);
    }

    #[test]
    fn a_printer_that_is_off_is_a_clear_error() {
        let addr = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let err = send_zpl(addr, "^XA^XZ", Duration::from_millis(500)).unwrap_err();
        assert!(err.to_string().contains("Check that it is on"), "{err}");
    }
}
