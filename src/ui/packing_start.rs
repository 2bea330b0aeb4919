//! Adapter of the packing start screen: the orders waiting at packing, the parcels this
//! station packed with their labels' states (Reprint), and, at a station without a printer, the
//! label to show until the packer confirms it was handled.

use slint::{ComponentHandle, Image, Rgba8Pixel, SharedPixelBuffer};

use super::{AppWindow, PackOrderItem, PackingStartAdapter, ParcelItem, Shared};
use crate::store::{LabelState, ParcelRow, Store};
use crate::terminal::Terminal;
use crate::terminal::messages::{self, Lang};
use crate::trn;

/// How many waiting orders the list shows; a tote's scan reaches any other.
const ORDER_LIMIT: u32 = 50;
/// How many recently packed orders the parcel list shows.
pub(super) const SHIPMENTS_SHOWN: u32 = 20;

pub fn connect(ui: &AppWindow, ctx: Shared) {
    let start = ui.global::<PackingStartAdapter>();
    {
        let (weak, ctx) = (ui.as_weak(), ctx.clone());
        start.on_start(move |id| {
            if let Some(ui) = weak.upgrade() {
                let reply = ctx.terminal.borrow_mut().start_packing(id.as_str());
                super::answer(&ui, &ctx, Some(reply));
            }
        });
    }
    {
        let (weak, ctx) = (ui.as_weak(), ctx.clone());
        start.on_reprint(move |order, number| {
            if let Some(ui) = weak.upgrade() {
                let reply = ctx
                    .terminal
                    .borrow_mut()
                    .reprint(order.as_str(), number.max(0) as u32);
                super::answer(&ui, &ctx, Some(reply));
            }
        });
    }
    {
        let (weak, ctx) = (ui.as_weak(), ctx.clone());
        start.on_handled(move |order, number| {
            if let Some(ui) = weak.upgrade() {
                let reply = ctx
                    .terminal
                    .borrow_mut()
                    .label_handled(order.as_str(), number.max(0) as u32);
                super::answer(&ui, &ctx, Some(reply));
            }
        });
    }
    super::on_back(ui, ctx, |f| start.on_back(f));
}

/// The parcel list's items.
pub(super) fn parcel_items(t: &Terminal) -> Vec<ParcelItem> {
    let lang = t.lang();
    let printer = t.config().printer.is_some();
    t.store()
        .station_parcels(SHIPMENTS_SHOWN)
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            let parcels = p.number;
            ParcelItem {
                order_id: p.order_id.clone().into(),
                number: i32::try_from(p.number).unwrap_or(i32::MAX),
                label: format!("{} · {parcels}", p.reference).into(),
                state: messages::label_state(lang, &p.state, printer).into(),
                tracking: p.tracking_number.clone().unwrap_or_default().into(),
                problem: matches!(
                    p.state,
                    LabelState::Failed { .. } | LabelState::Refused { .. }
                ),
                can_reprint: printer
                    && matches!(p.state, LabelState::Printed | LabelState::Failed { .. }),
            }
        })
        .collect()
}

/// The first label waiting to be shown (no printer at this station), with its picture.
pub(super) fn label_to_show(t: &Terminal) -> Option<(ParcelRow, Image)> {
    if t.config().printer.is_some() {
        return None;
    }
    let store: &Store = t.store();
    let row = store
        .station_parcels(SHIPMENTS_SHOWN)
        .ok()?
        .into_iter()
        .find(|p| p.state == LabelState::New && p.has_png)?;
    let png = store.label_png(&row.order_id, row.number).ok()??;
    let image = png_image(&png)?;
    Some((row, image))
}

/// A PNG as a Slint image; `None` for bytes that are no PNG this decoder reads.
pub(super) fn png_image(bytes: &[u8]) -> Option<Image> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().ok()?;
    let mut buf = vec![0; reader.output_buffer_size()?];
    let info = reader.next_frame(&mut buf).ok()?;
    let data = buf.get(..info.buffer_size())?;
    let pixels = (info.width as usize).checked_mul(info.height as usize)?;
    let mut rgba = Vec::with_capacity(pixels * 4);
    match info.color_type {
        png::ColorType::Rgba => rgba.extend_from_slice(data),
        png::ColorType::Rgb => {
            for p in data.chunks_exact(3) {
                rgba.extend_from_slice(&[p[0], p[1], p[2], 255]);
            }
        }
        png::ColorType::Grayscale => {
            for &g in data {
                rgba.extend_from_slice(&[g, g, g, 255]);
            }
        }
        png::ColorType::GrayscaleAlpha => {
            for p in data.chunks_exact(2) {
                rgba.extend_from_slice(&[p[0], p[0], p[0], p[1]]);
            }
        }
        png::ColorType::Indexed => return None,
    }
    if rgba.len() != pixels * 4 {
        return None;
    }
    let buffer = SharedPixelBuffer::<Rgba8Pixel>::clone_from_slice(&rgba, info.width, info.height);
    Some(Image::from_rgba8(buffer))
}

/// "K-1001 · 1" for the preview's caption.
pub(super) fn parcel_name(row: &ParcelRow) -> String {
    format!("{} · {}", row.reference, row.number)
}

pub fn refresh(ui: &AppWindow, t: &Terminal) {
    let lang: Lang = t.lang();
    let store = t.store();
    let orders: Vec<PackOrderItem> = store
        .pack_orders_waiting(ORDER_LIMIT)
        .unwrap_or_default()
        .into_iter()
        .map(|o| {
            let merchant = store
                .merchant_label(&o.merchant_id)
                .unwrap_or_else(|_| o.merchant_id.clone());
            let units: i64 = o.goods.iter().map(|g| g.quantity.max(0)).sum();
            let units = trn!(lang, "{n} unit", "{n} units", units);
            PackOrderItem {
                id: o.order_id.to_string().into(),
                label: o.reference.clone().into(),
                detail: format!("{merchant} · {units} · {}", o.totes().join(", ")).into(),
            }
        })
        .collect();
    let s = ui.global::<PackingStartAdapter>();
    s.set_orders(super::model(orders));
    s.set_parcels(super::model(parcel_items(t)));
    match label_to_show(t) {
        Some((row, image)) => {
            s.set_has_preview(true);
            s.set_preview(image);
            s.set_preview_label(parcel_name(&row).into());
            s.set_preview_order(row.order_id.into());
            s.set_preview_number(i32::try_from(row.number).unwrap_or(0));
        }
        None => s.set_has_preview(false),
    }
}
