//! The line escapes of the scan corpus and of `laituri scan`'s input.
//!
//! Owns one function: turn a line such as `]C10109506000134352\x1d10ABC` into the characters a
//! scanner would have sent. It exists because control characters (GS, CR, NUL) cannot be typed
//! into a text file or a terminal. It must never interpret the scan itself.
//!
//! Escapes: `\x1d` or `<GS>` = ASCII 29 (FNC1); `\xHH` and `\uHHHH` = that character; `\t`,
//! `\r`, `\n`; `\\` = one backslash. Anything else, including a malformed escape, stays as it is.

fn hex_char(hex: &str) -> Option<char> {
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    char::from_u32(u32::from_str_radix(hex, 16).ok()?)
}

/// Decodes one line. Single pass: the output of an escape is never read again, so `\x3cGS>`
/// is the text `<GS>`, not a separator.
pub fn unescape(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("<GS>") {
            out.push('\u{1d}');
            rest = after;
            continue;
        }
        if c == '\\' {
            let tail = &rest[1..];
            let simple = match tail.chars().next() {
                Some('t') => Some('\t'),
                Some('r') => Some('\r'),
                Some('n') => Some('\n'),
                Some('\\') => Some('\\'),
                _ => None,
            };
            if let Some(s) = simple {
                out.push(s);
                rest = &tail[1..];
                continue;
            }
            let coded = if let Some(h) = tail.strip_prefix('x') {
                h.get(..2).and_then(hex_char).map(|c| (c, 3))
            } else if let Some(h) = tail.strip_prefix('u') {
                h.get(..4).and_then(hex_char).map(|c| (c, 5))
            } else {
                None
            };
            if let Some((decoded, used)) = coded {
                out.push(decoded);
                rest = &tail[used..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::unescape;

    #[test]
    fn cases() {
        for (line, expect) in [
            ("]C1010\\x1d10A", "]C1010\u{1d}10A"),
            ("10A<GS>21B", "10A\u{1d}21B"),
            ("\\x3cGS>", "<GS>"),
            ("\\\\x1d", "\\x1d"),
            ("]Q1\\\\^T", "]Q1\\^T"),
            ("\\u00e9\\t\\r\\n", "é\t\r\n"),
            ("\\xZZ\\u12", "\\xZZ\\u12"),
            ("\\ud800", "\\ud800"),
            ("ä\\", "ä\\"),
            ("", ""),
        ] {
            assert_eq!(unescape(line), expect, "{line}");
        }
    }
}
