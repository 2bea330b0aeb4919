//! Adapter of the About screen (version, device, licence, and Slint's About box).

use slint::ComponentHandle;

use super::{AboutAdapter, AppWindow, Shared};
use crate::terminal::Terminal;
use crate::tr;

pub fn connect(ui: &AppWindow, ctx: Shared) {
    let about = ui.global::<AboutAdapter>();
    about.set_version(env!("CARGO_PKG_VERSION").into());
    super::on_back(ui, ctx, |f| about.on_back(f));
}

pub fn refresh(ui: &AppWindow, t: &Terminal) {
    let device = t
        .store()
        .device()
        .map(|d| tr!(t.lang(), "Device {id}", id = d.device_id.to_string()))
        .unwrap_or_default();
    ui.global::<AboutAdapter>().set_device(device.into());
}
