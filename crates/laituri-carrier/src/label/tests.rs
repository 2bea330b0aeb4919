//! The label: its ZPL parsed command by command (one label, one barcode, data never a command),
//! every field fitting, the PNG decoded and its bars read back, Latin-1 drawn, no input panicking.

use super::*;
use crate::tests::request;
use crate::{Address, Carrier, CashOnDelivery, MAX_CITY, MAX_LINE, MAX_POSTCODE};

const TRACKING: &str = "JJ123456785FI";

fn content(request: &ShipmentRequest) -> LabelContent<'_> {
    LabelContent {
        request,
        parcel: &request.parcels[0],
        service_name: "Demo Parcel",
        carrier_name: "Laituri demo carrier",
        tracking_number: TRACKING,
    }
}

/// The commands of a ZPL document, each as written after its `^` (without the line's end).
/// Fails the test on anything a printer would read as a command that the label does not use:
/// a `~` command, a command not in the list, a line break inside a command.
fn commands(zpl: &str) -> Vec<&str> {
    const ALLOWED: [&str; 14] = [
        "XA", "CI28", "PW812", "LL1218", "LH0,0", "FO", "A0N,", "FH", "FD", "FS", "GB", "BY",
        "BCN,", "XZ",
    ];
    assert!(!zpl.contains('~'), "a ~ command in {zpl}");
    assert!(zpl.starts_with('^'), "{zpl}");
    zpl.split('^')
        .skip(1)
        .map(|c| {
            let c = c.strip_suffix('\n').unwrap_or(c);
            assert!(!c.contains(['\n', '\r']), "a line break inside ^{c:?}");
            assert!(
                ALLOWED.iter().any(|a| c.starts_with(a)),
                "^{c:?} is not a command of the label"
            );
            c
        })
        .collect()
}

/// Undoes `^FH`'s `_XX` escapes.
fn unescape(data: &str) -> String {
    let mut bytes = Vec::new();
    let mut rest = data.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'_' {
            let hex = std::str::from_utf8(&tail[..2]).unwrap();
            bytes.push(u8::from_str_radix(hex, 16).unwrap());
            rest = &tail[2..];
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    String::from_utf8(bytes).unwrap()
}

/// The texts of a label's ZPL, unescaped, in order.
fn texts(zpl: &str) -> Vec<String> {
    let cmds = commands(zpl);
    cmds.windows(2)
        .filter(|w| w[0] == "FH")
        .map(|w| unescape(w[1].strip_prefix("FD").expect("^FH is followed by ^FD")))
        .collect()
}

/// The data of the label's barcodes.
fn barcodes(zpl: &str) -> Vec<String> {
    let cmds = commands(zpl);
    cmds.windows(2)
        .filter(|w| w[0].starts_with("BC"))
        .map(|w| {
            w[1].strip_prefix("FD")
                .expect("^BC is followed by ^FD")
                .to_string()
        })
        .collect()
}

#[test]
fn the_zpl_is_one_label_with_one_barcode_of_the_tracking_number() {
    let mut r = request();
    r.cash_on_delivery = Some(CashOnDelivery {
        amount_minor: 1250,
        currency: "EUR".into(),
    });
    let zpl = content(&r).zpl().unwrap();
    assert!(zpl.starts_with("^XA\n^CI28\n^PW812\n^LL1218\n"), "{zpl}");
    assert!(zpl.ends_with("^XZ\n"), "{zpl}");
    let cmds = commands(&zpl);
    assert_eq!(cmds.iter().filter(|c| **c == "XA").count(), 1);
    assert_eq!(cmds.iter().filter(|c| **c == "XZ").count(), 1);
    // Every field is closed.
    let opened = cmds.iter().filter(|c| c.starts_with("FO")).count();
    assert_eq!(opened, cmds.iter().filter(|c| **c == "FS").count());
    assert_eq!(barcodes(&zpl), [format!(">:{TRACKING}")]);
    assert!(cmds.contains(&"BY3"), "{zpl}");
    let texts = texts(&zpl);
    for want in [
        "FROM",
        "Laituri Demo 3PL",
        "Varastotie 1",
        "01510 Vantaa",
        "TO",
        "Maija Meikäläinen",
        "Salaisuus Oy",
        "Piilokuja 7",
        "B 12",
        "70100 Kuopio",
        "FI",
        "Demo Parcel",
        "COD 12.50 EUR",
        "Order: WEB-1001",
        "Parcel 1/2   2.35 kg",
        TRACKING,
        "Laituri demo carrier",
    ] {
        assert!(texts.iter().any(|t| t == want), "{want:?} not in {texts:?}");
    }
    // No phone or e-mail on the label: the carrier has them; the label does not need them.
    assert!(!zpl.contains("+358") && !zpl.contains('@'), "{zpl}");
}

#[test]
fn data_cannot_become_a_zpl_command() {
    let mut r = request();
    r.recipient.name = "Evil^XZ^XA~JA".into();
    r.recipient.company = Some("_5E is not an escape".into());
    r.recipient.address = "a\n^FO0,0^GB812,1218,812^FS".into();
    r.recipient.city = "~DGR:X.GRF,1,1,FF\r\n^XZ".into();
    r.reference = "R_^~\u{7}".into();
    r.pickup_point = Some("^XZ~JR".into());
    let mut c = content(&r);
    c.service_name = "Demo^FS";
    c.carrier_name = "~JA";
    let zpl = c.zpl().unwrap();
    let cmds = commands(&zpl);
    assert_eq!(cmds.iter().filter(|c| **c == "XA").count(), 1, "{zpl}");
    assert_eq!(cmds.iter().filter(|c| **c == "XZ").count(), 1, "{zpl}");
    assert!(cmds.iter().all(|c| !c.starts_with("GB812,1218")), "{zpl}");
    assert_eq!(barcodes(&zpl).len(), 1);
    // What was sent is printed as text, control characters as spaces.
    let texts = texts(&zpl);
    for want in [
        "Evil^XZ^XA~JA",
        "_5E is not an escape",
        "a ^FO0,0^GB812,1218,812^FS",
        "Order: R_^~ ",
        "Pickup point: ^XZ~JR",
        "Demo^FS",
        "~JA",
    ] {
        assert!(texts.iter().any(|t| t == want), "{want:?} not in {texts:?}");
    }
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("70100 ~DGR:X.GRF,1,1,FF  ^XZ")),
        "{texts:?}"
    );
}

#[test]
fn text_is_cut_to_what_fits_and_every_valid_field_fits_whole() {
    // Every field at the longest the checks allow: nothing is cut.
    let long = |c: char, n: usize| c.to_string().repeat(n);
    let full = |c: char| Address {
        name: long(c, MAX_LINE),
        company: Some(long(c, MAX_LINE)),
        address: long(c, MAX_LINE),
        address2: Some(long(c, MAX_LINE)),
        postcode: long('9', MAX_POSTCODE),
        city: long(c, MAX_CITY),
        country: "GB".into(),
        phone: None,
        email: None,
    };
    let mut r = request();
    r.sender = full('S');
    r.recipient = full('R');
    r.reference = long('O', MAX_LINE);
    r.pickup_point = Some(long('P', 30));
    r.cash_on_delivery = Some(CashOnDelivery {
        amount_minor: i64::MAX,
        currency: "EUR".into(),
    });
    r.parcels = (1..=99)
        .map(|n| ParcelSpec {
            number: n,
            weight_g: 30_000,
            dims_mm: None,
        })
        .collect();
    let mut c = content(&r);
    c.parcel = &r.parcels[98];
    let items = c.layout().unwrap();
    let texts: Vec<&str> = items
        .iter()
        .filter_map(|i| match i {
            Item::Text { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    for want in [
        long('R', MAX_LINE),
        format!("{} {}", long('9', MAX_POSTCODE), long('R', MAX_CITY)),
        format!("{} {}", long('9', MAX_POSTCODE), long('S', MAX_CITY)),
        format!("Order: {}", long('O', MAX_LINE)),
        format!("Pickup point: {}", long('P', 30)),
        "Parcel 99/99   30.00 kg".into(),
    ] {
        assert!(texts.contains(&want.as_str()), "{want:?} not in {texts:?}");
    }
    // Everything lies on the label, the flowing part above the barcode's.
    let barcode_top = items
        .iter()
        .find_map(|i| match i {
            Item::Barcode { y, .. } => Some(*y),
            _ => None,
        })
        .unwrap();
    let mut before_barcode = true;
    for item in &items {
        let (x, y, w, h) = match item {
            Item::Text { x, y, sx, sy, text } => {
                (*x, *y, text.chars().count() as u32 * 8 * sx, 8 * sy)
            }
            Item::Rule { x, y, w, h } => (*x, *y, *w, *h),
            Item::Barcode {
                x,
                y,
                module,
                height,
                modules,
                ..
            } => {
                before_barcode = false;
                (*x, *y, modules.len() as u32 * module, *height)
            }
        };
        assert!(
            x + w <= WIDTH && y + h <= HEIGHT,
            "{item:?} is off the label"
        );
        if before_barcode {
            assert!(y + h < barcode_top, "{item:?} runs into the barcode");
        }
    }

    // Longer than the checks allow (a label made without them): cut, never off the label.
    r.recipient.name = long('N', 500);
    let zpl = content(&r).zpl().unwrap();
    let name = texts_of(&zpl, 'N');
    assert_eq!(name.chars().count(), ((WIDTH - 2 * MARGIN) / 16) as usize);
}

fn texts_of(zpl: &str, c: char) -> String {
    texts(zpl).into_iter().find(|t| t.starts_with(c)).unwrap()
}

#[test]
fn nordic_letters_are_printed_as_utf8() {
    let mut r = request();
    r.recipient.name = "Åsa Öberg-Mäkelä".into();
    let zpl = content(&r).zpl().unwrap();
    assert!(zpl.contains("^CI28"));
    assert!(zpl.contains("^FDÅsa Öberg-Mäkelä^FS"), "{zpl}");
}

#[test]
fn a_tracking_number_a_barcode_cannot_carry_is_an_error() {
    let r = request();
    let long = "J".repeat(MAX_TRACKING + 1);
    for bad in [
        "",
        "JJ 123",
        "A^B",
        ">:JJ1",
        "ÄÄ123",
        "JJ1\n",
        long.as_str(),
    ] {
        let mut c = content(&r);
        c.tracking_number = bad;
        assert!(
            matches!(c.render(), Err(LabelError::TrackingNumber(_))),
            "{bad:?}"
        );
    }
    let mut c = content(&r);
    let other = ParcelSpec {
        number: 3,
        weight_g: 1,
        dims_mm: None,
    };
    c.parcel = &other;
    assert_eq!(c.render().unwrap_err(), LabelError::Parcel(3));
}

/// The PNG's pixels, true for black, with its width and height.
fn decode(png_bytes: &[u8]) -> (Vec<bool>, u32, u32) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    assert_eq!(info.bit_depth, png::BitDepth::One);
    let mut ink = Vec::new();
    for row in buf.chunks(info.line_size).take(info.height as usize) {
        for x in 0..info.width as usize {
            ink.push(row[x / 8] & (0x80 >> (x % 8)) == 0);
        }
    }
    (ink, info.width, info.height)
}

/// The Code 128 modules read off one row of pixels: the runs between the first and last black
/// pixel divided by the narrowest bar, with the white margins on either side in modules.
fn read_row(row: &[bool]) -> (Vec<u8>, usize, usize) {
    let first = row.iter().position(|p| *p).unwrap();
    let last = row.iter().rposition(|p| *p).unwrap();
    let mut runs: Vec<(bool, usize)> = Vec::new();
    for p in &row[first..=last] {
        match runs.last_mut() {
            Some((colour, n)) if colour == p => *n += 1,
            _ => runs.push((*p, 1)),
        }
    }
    let module = runs.iter().map(|r| r.1).min().unwrap();
    let mut modules = Vec::new();
    for (colour, n) in runs {
        assert_eq!(n % module, 0, "a bar of {n} dots with modules of {module}");
        modules.extend(std::iter::repeat_n(u8::from(colour), n / module));
    }
    (modules, first / module, (row.len() - 1 - last) / module)
}

#[test]
fn the_png_is_the_label_at_203_dpi_and_its_bars_are_the_tracking_number() {
    let r = request();
    for tracking in [TRACKING, "JJ000000005FI", &"7".repeat(MAX_TRACKING)] {
        let mut c = content(&r);
        c.tracking_number = tracking;
        let label = c.render().unwrap();
        assert_eq!(label.png, c.png().unwrap(), "rendering is deterministic");
        let (ink, width, height) = decode(&label.png);
        assert_eq!((width, height), (812, 1218));
        // A row through the middle of the bars reads back as the encoder's pattern of the
        // tracking number in subset B, with at least ten modules of white on either side.
        let y = (BARCODE_AREA + 20 + BAR_HEIGHT / 2) as usize;
        let row = &ink[y * WIDTH as usize..(y + 1) * WIDTH as usize];
        let (modules, left, right) = read_row(row);
        let want = Code128::new(format!("{SET_B}{tracking}")).unwrap().encode();
        assert_eq!(modules, want, "{tracking}");
        assert!(
            left >= 10 && right >= 10,
            "{tracking}: quiet zones {left} and {right}"
        );
        // The ZPL draws the same bars: the same module width at the same place.
        let zpl = c.zpl().unwrap();
        let by = commands(&zpl)
            .into_iter()
            .find_map(|c| c.strip_prefix("BY"))
            .unwrap()
            .parse::<usize>()
            .unwrap();
        let first = row.iter().position(|p| *p).unwrap();
        assert!(
            zpl.contains(&format!("^FO{first},{}^BY{by}^BC", BARCODE_AREA + 20)),
            "{zpl}"
        );
        assert_eq!(
            row.iter().rposition(|p| *p).unwrap() + 1 - first,
            want.len() * by
        );
    }
}

#[test]
fn the_png_prints_latin1_letters_and_a_question_mark_for_the_rest() {
    assert_ne!(glyph('ä'), glyph('a'));
    assert_ne!(glyph('Å'), glyph('A'));
    assert_ne!(glyph('ö'), glyph('?'));
    assert_eq!(glyph('€'), glyph('?'));
    assert_eq!(glyph('\u{3042}'), glyph('?'));
    assert_eq!(glyph(' '), [0; 8]);
    // Control characters never reach the canvas: they were cut to spaces.
    assert_eq!(clean("a\nb\tc", 10), "a b c");
    assert_eq!(clean("äöå", 2), "äö");

    // The name's pixels differ between "Maija" and "Mäija": the umlaut is drawn.
    let mut r = request();
    r.recipient.name = "Maija".into();
    let plain = decode(&content(&r).png().unwrap()).0;
    r.recipient.name = "Mäija".into();
    let umlaut = decode(&content(&r).png().unwrap()).0;
    let differ: Vec<usize> = (0..plain.len())
        .filter(|i| plain[*i] != umlaut[*i])
        .collect();
    assert!(!differ.is_empty());
    // ... only within the second letter's cell of the name's line.
    let name = content(&r)
        .layout()
        .unwrap()
        .into_iter()
        .find_map(|i| match i {
            Item::Text { x, y, sx, sy, text } if text == "Mäija" => Some((x, y, sx, sy)),
            _ => None,
        })
        .unwrap();
    let (x, y, sx, sy) = name;
    for i in differ {
        let (px, py) = (i as u32 % WIDTH, i as u32 / WIDTH);
        assert!(
            (x + 8 * sx..x + 16 * sx).contains(&px) && (y..y + 8 * sy).contains(&py),
            "pixel {px},{py} changed"
        );
    }
}

#[test]
fn no_input_panics_or_reaches_the_zpl_as_a_command() {
    let long = "x".repeat(10_000);
    let omegas = "Ω".repeat(300);
    let strings = [
        "",
        " ",
        "\n",
        "\r\n",
        "^",
        "~",
        "_",
        "__",
        "_5",
        "_ZZ",
        "^XZ",
        "~JA",
        "\u{0}",
        "\u{7f}",
        "\u{85}",
        "\u{2028}",
        "é",
        "ǅ",
        "👩‍👩‍👧",
        "\u{202e}RTL",
        "a\u{301}",
        "Ɓ",
        "Ź",
        ">:",
        "\\&",
        &omegas,
        &long,
    ];
    type Set = fn(&mut ShipmentRequest, &str);
    let fields: [Set; 14] = [
        |r, s| r.recipient.name = s.into(),
        |r, s| r.recipient.company = Some(s.into()),
        |r, s| r.recipient.address = s.into(),
        |r, s| r.recipient.address2 = Some(s.into()),
        |r, s| r.recipient.postcode = s.into(),
        |r, s| r.recipient.city = s.into(),
        |r, s| r.recipient.country = s.into(),
        |r, s| r.recipient.email = Some(s.into()),
        |r, s| r.sender.name = s.into(),
        |r, s| r.reference = s.into(),
        |r, s| r.service = s.into(),
        |r, s| r.pickup_point = Some(s.into()),
        |r, s| r.idempotency_key = s.into(),
        |r, s| {
            r.cash_on_delivery = Some(CashOnDelivery {
                amount_minor: i64::MIN,
                currency: s.into(),
            })
        },
    ];
    let services = crate::DemoCarrier::new().services().to_vec();
    let check = |r: &ShipmentRequest, tracking: &str, s: &str, png: bool| {
        let mut c = content(r);
        c.tracking_number = tracking;
        c.service_name = s;
        c.carrier_name = s;
        c.parcel = &r.parcels[1];
        let zpl = match c.zpl() {
            Ok(zpl) => zpl,
            Err(e) => return assert_eq!(tracking, s, "{e}"),
        };
        let cmds = commands(&zpl);
        assert_eq!(cmds.iter().filter(|c| **c == "XZ").count(), 1);
        assert_eq!(barcodes(&zpl).len(), 1);
        assert!(zpl.len() < 8_000, "{}", zpl.len());
        if png {
            assert!(c.png().is_ok());
        }
    };
    for s in strings {
        // Each field alone: the checks answer, and the ZPL stays the label's.
        for set in fields {
            let mut r = request();
            set(&mut r, s);
            r.parcels[1].weight_g = u32::MAX;
            let _ = crate::check_request(&services, &r);
            check(&r, TRACKING, s, false);
        }
        // Every field at once, drawn as PNG too, and as the tracking number.
        let mut r = request();
        for set in fields {
            set(&mut r, s);
        }
        check(&r, TRACKING, s, true);
        check(&r, s, s, true);
    }
}
