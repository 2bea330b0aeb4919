//! The shipping label of one parcel: 4x6 in (101.6 x 152.4 mm) at 203 dpi, 812 x 1218 dots.
//!
//! One layout ([`LabelContent`] laid out into text, rules and a barcode at dot positions) is
//! written two ways: as ZPL II for the label printers on the packing benches ([`LabelContent::zpl`],
//! `^CI28` so ä, ö and å print) and as a 1-bit PNG for the station's screen when no printer is
//! set ([`LabelContent::png`]). The label shows the sender, the recipient (name, company,
//! address, postcode and city, country), the service, the pickup point, cash on delivery, the
//! merchant's reference, parcel n/m and its weight, and the tracking number as a Code 128
//! barcode (subset B, the same bars in both forms) and as text.
//!
//! Data never becomes a command: every text is cut to what fits, control characters (line
//! breaks, tabs) become spaces, and in ZPL the characters ZPL reads as commands or escapes
//! (`^`, `~`, `_`) are written as `^FH` hex escapes. Tracking numbers are letters, digits and
//! hyphens only. Rendering is pure: no I/O, no logging; an error names the tracking number
//! (never personal data).

use barcoders::sym::code128::Code128;

use crate::{Label, ParcelSpec, ShipmentRequest, kilograms};

/// The label's width and height in dots (4x6 in at 203 dpi).
pub const WIDTH: u32 = 812;
pub const HEIGHT: u32 = 1218;
/// The print resolution, dots per inch.
pub const DPI: u32 = 203;

/// The margin on every side, in dots.
const MARGIN: u32 = 30;
/// Where the barcode's part of the label starts; everything above it flows from the top.
const BARCODE_AREA: u32 = 800;
/// The barcode's height in dots (about 30 mm).
const BAR_HEIGHT: u32 = 260;
/// The widest module (narrowest bar) in dots, and the quiet zone on each side in modules.
const MAX_MODULE: u32 = 3;
const QUIET_MODULES: u32 = 10;
/// The longest tracking number a label takes.
pub const MAX_TRACKING: usize = 40;

/// Code 128 subset B, as barcoders spells its start.
const SET_B: char = 'Ɓ';

/// Why a label could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error(
        "the tracking number {0:?} cannot be printed as a barcode: it must be 1 to {MAX_TRACKING} \
         letters, digits or hyphens"
    )]
    TrackingNumber(String),
    #[error("the parcel {0} is not one of the shipment's parcels")]
    Parcel(u32),
    #[error("the PNG label could not be written: {0}")]
    Png(String),
}

/// What one parcel's label says.
#[derive(Debug, Clone, Copy)]
pub struct LabelContent<'a> {
    pub request: &'a ShipmentRequest,
    /// The parcel this label goes on: one of `request.parcels`.
    pub parcel: &'a ParcelSpec,
    /// The service's name as the label prints it, e.g. `Demo Parcel`.
    pub service_name: &'a str,
    /// The carrier's name, printed small at the bottom.
    pub carrier_name: &'a str,
    pub tracking_number: &'a str,
}

impl LabelContent<'_> {
    /// The label in both forms.
    pub fn render(&self) -> Result<Label, LabelError> {
        let items = self.layout()?;
        Ok(Label {
            zpl: zpl(&items),
            png: png(&items)?,
        })
    }

    /// The label as ZPL II, `^XA` to `^XZ`.
    pub fn zpl(&self) -> Result<String, LabelError> {
        Ok(zpl(&self.layout()?))
    }

    /// The label as a 1-bit greyscale PNG of 812 x 1218 pixels.
    pub fn png(&self) -> Result<Vec<u8>, LabelError> {
        png(&self.layout()?)
    }

    fn layout(&self) -> Result<Vec<Item>, LabelError> {
        let tracking = self.tracking_number;
        if tracking.is_empty()
            || tracking.len() > MAX_TRACKING
            || !tracking
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            let shown: String = tracking.chars().take(MAX_TRACKING + 1).collect();
            return Err(LabelError::TrackingNumber(shown));
        }
        let r = self.request;
        if !r.parcels.contains(self.parcel) {
            return Err(LabelError::Parcel(self.parcel.number));
        }
        let mut l = Layout {
            items: Vec::new(),
            y: MARGIN,
        };

        l.line(2, 2, "FROM", 6);
        address(&mut l, &r.sender, 2, 2, 4);
        l.rule(4);

        l.line(2, 2, "TO", 8);
        let to = &r.recipient;
        // As wide as each line fits: 31 characters at 3, the longest valid line (40) at 2.
        l.fit(3, 4, &to.name, 8);
        if let Some(company) = &to.company {
            l.fit(3, 4, company, 8);
        }
        l.fit(3, 4, &to.address, 8);
        if let Some(address2) = &to.address2 {
            l.fit(3, 4, address2, 8);
        }
        l.fit(3, 5, &format!("{} {}", to.postcode, to.city), 8);
        l.line(4, 4, &to.country, 8);
        l.rule(4);

        l.line(4, 4, self.service_name, 10);
        if let Some(point) = &r.pickup_point {
            l.line(2, 3, &format!("Pickup point: {point}"), 8);
        }
        if let Some(cod) = &r.cash_on_delivery {
            let amount = cod.amount_minor.unsigned_abs();
            l.line(
                3,
                3,
                &format!("COD {}.{:02} {}", amount / 100, amount % 100, cod.currency),
                8,
            );
        }
        l.line(2, 3, &format!("Order: {}", r.reference), 8);
        l.line(
            3,
            3,
            &format!(
                "Parcel {}/{}   {}",
                self.parcel.number,
                r.parcels.len(),
                kilograms(self.parcel.weight_g)
            ),
            8,
        );
        // The flowing part ends above the barcode's; with every field at its longest it does
        // (a test fills them all).
        l.y = l.y.max(BARCODE_AREA - 20);
        l.rule(4);

        let code = Code128::new(format!("{SET_B}{tracking}"))
            .map_err(|_| LabelError::TrackingNumber(tracking.to_string()))?;
        let modules = code.encode();
        let count = modules.len() as u32;
        let module = (1..=MAX_MODULE)
            .rev()
            .find(|m| (count + 2 * QUIET_MODULES) * m <= WIDTH)
            .ok_or_else(|| LabelError::TrackingNumber(tracking.to_string()))?;
        let y = BARCODE_AREA + 20;
        l.items.push(Item::Barcode {
            x: (WIDTH - count * module) / 2,
            y,
            module,
            height: BAR_HEIGHT,
            modules,
            data: tracking.to_string(),
        });
        l.y = y + BAR_HEIGHT + 20;
        l.centered(3, 4, tracking, 20);
        l.y = HEIGHT - MARGIN - 16;
        l.line(2, 2, self.carrier_name, 0);
        Ok(l.items)
    }
}

/// The lines of an address in one size: name, company, address lines, postcode and city,
/// country.
fn address(l: &mut Layout, a: &crate::Address, sx: u32, sy: u32, gap: u32) {
    l.line(sx, sy, &a.name, gap);
    if let Some(company) = &a.company {
        l.line(sx, sy, company, gap);
    }
    l.line(sx, sy, &a.address, gap);
    if let Some(address2) = &a.address2 {
        l.line(sx, sy, address2, gap);
    }
    l.line(sx, sy, &format!("{} {}", a.postcode, a.city), gap);
    l.line(sx, sy, &a.country, gap + 4);
}

/// One thing on the label, at dot positions.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    /// Text in cells of 8*sx by 8*sy dots, already cut to fit and cleaned of control
    /// characters.
    Text {
        x: u32,
        y: u32,
        sx: u32,
        sy: u32,
        text: String,
    },
    /// A filled box.
    Rule { x: u32, y: u32, w: u32, h: u32 },
    /// A Code 128 barcode: `modules` is the encoder's pattern (1 = bar), `module` dots each.
    Barcode {
        x: u32,
        y: u32,
        module: u32,
        height: u32,
        modules: Vec<u8>,
        data: String,
    },
}

struct Layout {
    items: Vec<Item>,
    y: u32,
}

impl Layout {
    /// A line of text at the left margin; `gap` dots follow it.
    fn line(&mut self, sx: u32, sy: u32, text: &str, gap: u32) {
        let text = clean(text, ((WIDTH - 2 * MARGIN) / (8 * sx)) as usize);
        self.items.push(Item::Text {
            x: MARGIN,
            y: self.y,
            sx,
            sy,
            text,
        });
        self.y += 8 * sy + gap;
    }

    /// A line of text in cells `sy` high and as wide as fits, from `sx_max` down to 2.
    fn fit(&mut self, sx_max: u32, sy: u32, text: &str, gap: u32) {
        let chars = text.chars().count() as u32;
        let sx = (2..=sx_max)
            .rev()
            .find(|sx| chars * 8 * sx <= WIDTH - 2 * MARGIN)
            .unwrap_or(2);
        self.line(sx, sy, text, gap);
    }

    /// A line of text centred across the label.
    fn centered(&mut self, sx: u32, sy: u32, text: &str, gap: u32) {
        let text = clean(text, ((WIDTH - 2 * MARGIN) / (8 * sx)) as usize);
        let width = text.chars().count() as u32 * 8 * sx;
        self.items.push(Item::Text {
            x: (WIDTH - width) / 2,
            y: self.y,
            sx,
            sy,
            text,
        });
        self.y += 8 * sy + gap;
    }

    /// A horizontal rule across the label between margins.
    fn rule(&mut self, thickness: u32) {
        self.items.push(Item::Rule {
            x: MARGIN,
            y: self.y,
            w: WIDTH - 2 * MARGIN,
            h: thickness,
        });
        self.y += thickness + 12;
    }
}

/// Text as a label prints it: control characters as spaces, cut to `max` characters.
fn clean(text: &str, max: usize) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect()
}

/// The ZPL II of a layout. Text fields go through `^FH`: `^`, `~` and `_` in data are written as
/// `_5E`, `_7E` and `_5F`, so no data can end a field or start a command.
fn zpl(items: &[Item]) -> String {
    let mut out = format!("^XA\n^CI28\n^PW{WIDTH}\n^LL{HEIGHT}\n^LH0,0\n");
    for item in items {
        let line = match item {
            Item::Text { x, y, sx, sy, text } => format!(
                "^FO{x},{y}^A0N,{},{}^FH^FD{}^FS",
                8 * sy,
                8 * sx,
                zpl_escape(text)
            ),
            Item::Rule { x, y, w, h } => format!("^FO{x},{y}^GB{w},{h},{h}^FS"),
            // `>:` starts subset B, as the PNG's bars do, so both have the same width. The data
            // is letters, digits and hyphens (checked in `layout`).
            Item::Barcode {
                x,
                y,
                module,
                height,
                data,
                ..
            } => format!("^FO{x},{y}^BY{module}^BCN,{height},N,N,N^FD>:{data}^FS"),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str("^XZ\n");
    out
}

/// Escapes a field's data for `^FH` (whose escape character is `_`).
fn zpl_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '^' | '~' | '_' => out.push_str(&format!("_{:02X}", c as u32)),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The 8x8 glyph of a character: ASCII and Latin-1 from font8x8's tables (indexed directly:
/// the crate's look-up by search misses a few Latin-1 characters), `?` for anything else.
fn glyph(c: char) -> [u8; 8] {
    use font8x8::legacy::{BASIC_LEGACY, LATIN_LEGACY};
    let code = c as usize;
    match code {
        0x20..=0x7E => BASIC_LEGACY[code],
        0xA0..=0xFF => LATIN_LEGACY[code - 0xA0],
        _ => BASIC_LEGACY['?' as usize],
    }
}

/// A canvas of ink (true) and paper.
struct Canvas {
    ink: Vec<bool>,
}

impl Canvas {
    fn new() -> Self {
        Canvas {
            ink: vec![false; (WIDTH * HEIGHT) as usize],
        }
    }

    /// Inks a box, clipped to the label.
    fn fill(&mut self, x: u32, y: u32, w: u32, h: u32) {
        for row in y.min(HEIGHT)..(y.saturating_add(h)).min(HEIGHT) {
            let start = (row * WIDTH) as usize;
            let (from, to) = (x.min(WIDTH), x.saturating_add(w).min(WIDTH));
            self.ink[start + from as usize..start + to as usize].fill(true);
        }
    }

    fn draw(&mut self, item: &Item) {
        match item {
            Item::Text { x, y, sx, sy, text } => {
                for (i, c) in text.chars().enumerate() {
                    let cx = x + i as u32 * 8 * sx;
                    for (row, bits) in glyph(c).iter().enumerate() {
                        for bit in 0..8 {
                            if bits & (1 << bit) != 0 {
                                self.fill(cx + bit * sx, y + row as u32 * sy, *sx, *sy);
                            }
                        }
                    }
                }
            }
            Item::Rule { x, y, w, h } => self.fill(*x, *y, *w, *h),
            Item::Barcode {
                x,
                y,
                module,
                height,
                modules,
                ..
            } => {
                for (i, m) in modules.iter().enumerate() {
                    if *m == 1 {
                        self.fill(x + i as u32 * module, *y, *module, *height);
                    }
                }
            }
        }
    }

    /// The 1-bit rows of the PNG: 0 is black, most significant bit first.
    fn packed(&self) -> Vec<u8> {
        let row_bytes = WIDTH.div_ceil(8) as usize;
        let mut out = vec![0xFFu8; row_bytes * HEIGHT as usize];
        for (i, ink) in self.ink.iter().enumerate() {
            if *ink {
                let (row, col) = (i / WIDTH as usize, i % WIDTH as usize);
                out[row * row_bytes + col / 8] &= !(0x80 >> (col % 8));
            }
        }
        out
    }
}

fn png(items: &[Item]) -> Result<Vec<u8>, LabelError> {
    let mut canvas = Canvas::new();
    for item in items {
        canvas.draw(item);
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    // 203 dpi as pixels per metre, so a viewer that honours it shows the label at its size.
    let per_metre = (f64::from(DPI) / 0.0254).round() as u32;
    encoder.set_pixel_dims(Some(png::PixelDimensions {
        xppu: per_metre,
        yppu: per_metre,
        unit: png::Unit::Meter,
    }));
    let err = |e: png::EncodingError| LabelError::Png(e.to_string());
    let mut writer = encoder.write_header().map_err(err)?;
    writer.write_image_data(&canvas.packed()).map_err(err)?;
    writer.finish().map_err(err)?;
    Ok(out)
}

#[cfg(test)]
mod tests;
