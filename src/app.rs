//! Starting the terminal: open the store, start the sync worker, show the window.
//!
//! Start-up does only what the first scan needs (open the store, build the window); sounds are
//! decoded once, and the sync worker starts on its own thread so the network never delays the
//! first frame.

use std::cell::RefCell;
use std::rc::Rc;

use anyhow::{Context, Result};
use slint::ComponentHandle;

use crate::config::{Config, Paths, StationConfig};
use crate::feedback::Speaker;
use crate::station::PrinterHandle;
use crate::store::Store;
use crate::sync::{SyncConfig, SyncHandle};
use crate::terminal::{Terminal, system_today};
use crate::ui::{self, AppWindow, Ctx};
use laituri_station::printer::PrinterConfig;
use laituri_station::scale::{ScaleConfig, ScaleReader, ScaleStatus};

/// Runs the terminal until its window is closed.
pub fn run(paths: &Paths, config: &Config) -> Result<()> {
    // A CA file that cannot be used is the configuration's error: said now, not as a sync line.
    if let Some(ca_file) = &config.ca_file {
        crate::sync::read_ca_file(ca_file)?;
    }
    std::fs::create_dir_all(&paths.data_dir)
        .with_context(|| format!("creating {}", paths.data_dir.display()))?;
    let db = paths.database();
    let store = Store::open(&db).with_context(|| format!("opening {}", db.display()))?;
    let terminal = Terminal::new(store, config.core(), Box::new(system_today));
    let speaker = if config.mute {
        Speaker::silent()
    } else {
        Speaker::open()
    };
    let window = AppWindow::new().context("opening the window")?;
    let ctx = Rc::new(Ctx {
        terminal: RefCell::new(terminal),
        speaker,
    });
    ui::connect(&window, ctx.clone());
    // Kept alive while the window runs.
    let _fill = config.fullscreen.then(|| fill_the_screen(&window));

    let mut sync_config = SyncConfig::new(db, config.server_url.clone());
    sync_config.enrolment_code = config.enrolment_code.clone();
    sync_config.device_name = config.device_name.clone();
    sync_config.ca_file = config.ca_file.clone();
    let weak = window.as_weak();
    let sync = SyncHandle::start(sync_config, move |status| {
        let _ = weak.upgrade_in_event_loop(move |ui| {
            ui::apply_status(&ui, &status);
            ui::on_sync_progress(&ui, &status);
        });
    })
    .context("starting the sync worker")?;
    ctx.terminal.borrow_mut().set_waker(sync.waker());
    // A packing station's devices: labels print on the printer's thread, the scale is read on
    // its own; both report to the UI thread through the event loop.
    let printer = match &config.core().printer {
        Some(address) => {
            let weak = window.as_weak();
            let handle = PrinterHandle::start(
                paths.database(),
                PrinterConfig::new(address.clone()),
                move || {
                    let _ = weak.upgrade_in_event_loop(|ui| ui::on_printed(&ui));
                },
            )
            .context("starting the printer thread")?;
            ctx.terminal.borrow_mut().set_printer_poke(handle.poker());
            // Labels that arrived before a restart print now.
            handle.poke();
            Some(handle)
        }
        None => None,
    };
    let weak = window.as_weak();
    let _scale = start_scale(&config.station, move |status| {
        let _ = weak.upgrade_in_event_loop(move |ui| ui::packing::on_scale(&ui, status));
    })?;

    tracing::info!(data_dir = %paths.data_dir.display(), server = %config.server_url, "terminal ready");
    if std::env::var_os("LAITURI_EXIT_WHEN_READY").is_some() {
        // Used by the start-up benchmark: the store is open and the window built; the X window
        // itself is created by the event loop, whose mapping the benchmark measures separately.
        window.show()?;
        println!("scan-ready");
        return Ok(());
    }
    window.run().context("running the window")?;
    sync.stop();
    drop(printer);
    Ok(())
}

/// The station's scale named in the configuration (`[station] scale`, `scale_baud`), read on a
/// thread of its own; every change of what it shows goes to `deliver`, on that thread (the
/// window hands it to the UI thread). `None` without a scale.
pub fn start_scale(
    station: &StationConfig,
    deliver: impl FnMut(ScaleStatus) + Send + 'static,
) -> Result<Option<ScaleReader>> {
    let Some(path) = &station.scale else {
        return Ok(None);
    };
    let mut scale = ScaleConfig::new(path.clone());
    if let Some(baud) = station.scale_baud {
        scale.baud = baud;
    }
    let reader =
        ScaleReader::start_notifying(scale, deliver).context("starting the scale reader")?;
    Ok(Some(reader))
}

/// A packing station's kiosk: the window fills the screen and the layout turns landscape. The
/// full-screen request is a hint that needs a window manager; a kiosk often has none, so once
/// the window exists (a few frames after the event loop starts) it is also sized to its monitor
/// and moved to its corner. The look-up gives up after a few seconds, with one log line.
fn fill_the_screen(window: &AppWindow) -> Rc<slint::Timer> {
    use slint::winit_030::WinitWindowAccessor;
    window.window().set_fullscreen(true);
    let weak = window.as_weak();
    let tries = std::cell::Cell::new(0u32);
    let timer = Rc::new(slint::Timer::default());
    let handle = Rc::downgrade(&timer);
    timer.start(
        slint::TimerMode::Repeated,
        std::time::Duration::from_millis(50),
        move || {
            let Some(ui) = weak.upgrade() else { return };
            tries.set(tries.get() + 1);
            let monitor = ui
                .window()
                .with_winit_window(|w| w.current_monitor().map(|m| (m.position(), m.size())))
                .flatten();
            match monitor {
                Some((at, size)) => {
                    ui.window()
                        .set_position(slint::PhysicalPosition::new(at.x, at.y));
                    ui.window()
                        .set_size(slint::PhysicalSize::new(size.width, size.height));
                    if let Some(t) = handle.upgrade() {
                        t.stop();
                    }
                }
                None if tries.get() >= 100 => {
                    tracing::warn!("no monitor found: the window keeps its size");
                    if let Some(t) = handle.upgrade() {
                        t.stop();
                    }
                }
                None => {}
            }
        },
    );
    timer
}
