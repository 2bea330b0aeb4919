//! Nothing is cut off in the real window: at 480x800 (a handheld) and at 1280x800 (a packing
//! station), the terminal's real `AppWindow` runs in this process on Slint's winit backend with
//! the software renderer, as `laituri run` does, in a real X window on a virtual display (Xvfb)
//! of its own. The tour of every screen (tests/support/tour.rs: the not-enrolled headline, badge
//! and PIN, the menu, receiving with its keypads, an error, an over-receipt confirmation and the
//! close list, an expiry date, the exceptions a lead resolves, the scanner check, About, putaway
//! with its task list, suggestion, keypad and override reasons, picking with its task list and
//! every step of a line up to the drop at packing) is driven against a demo server
//! on 127.0.0.1:0, and on every screen:
//! - the X window has the size asked for (winit's inner size, from the X server);
//! - every element with the role of a button, and every element the tour expects there, lies
//!   wholly inside the window with a size, and the buttons of the screen's view inside the view,
//!   not under the feedback line or the scan field (element geometry, read through Slint's
//!   element queries, which work on a winit window as on the testing backend's);
//! - every pixel of the window is painted, with text and buttons on them.
//!
//! With `LAITURI_SCREENSHOTS=<dir>` it also writes `<screen>-<width>x<height>.png` of every
//! screen there (scripts/screenshots.sh makes docs/screens/). Needs `Xvfb`
//! (scripts/setup-debian.sh installs it); without it the test fails, it does not skip.
//!
//! How the window runs here: winit creates the X window, and learns of its size, only while
//! Slint's event loop runs; the tour itself is plain code between two runs of the loop. Before a
//! screen is looked at, [`settle`] runs the loop (`slint::run_event_loop`) with a repeated timer
//! that calls `slint::quit_event_loop` once the X window exists at its size and the loop has
//! turned a few times more, so the step's redraw reached the X window too. Taps and typed scans
//! go through the same window calls as on the testing backend. Screenshots come from
//! `Window::take_snapshot`: the software renderer that paints the X window draws the current
//! scene once more, whole, at the window's size, into a buffer (no screen grab, so no race with
//! the X server). winit allows one event loop per process: this binary holds one test, which
//! takes both sizes in turn.

mod support;

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use laituri::ui::{AppWindow, Ctx};
use slint::ComponentHandle;
use slint::winit_030::WinitWindowAccessor;
use support::tour::{Visit, fits, tour};

/// The X window's inner size as the X server has it, once winit created the window.
fn x_size(window: &AppWindow) -> Option<(u32, u32)> {
    window
        .window()
        .with_winit_window(|w| w.inner_size())
        .map(|s| (s.width, s.height))
}

/// Runs the event loop until the X window exists at `size` and the loop has turned a few
/// times since (so what the last step changed is handled and drawn), for at most 10 s.
fn settle(window: &AppWindow, size: (u32, u32)) {
    let start = Instant::now();
    let turns = std::cell::Cell::new(0u32);
    let weak = window.as_weak();
    let timer = slint::Timer::default();
    timer.start(
        slint::TimerMode::Repeated,
        Duration::from_millis(8),
        move || {
            let Some(window) = weak.upgrade() else {
                let _ = slint::quit_event_loop();
                return;
            };
            let s = window.window().size();
            if x_size(&window) == Some(size) && (s.width, s.height) == size {
                turns.set(turns.get() + 1);
            }
            if turns.get() >= 3 || start.elapsed() > Duration::from_secs(10) {
                let _ = slint::quit_event_loop();
            }
        },
    );
    slint::run_event_loop().expect("Slint's event loop runs");
    let s = window.window().size();
    assert_eq!(
        (x_size(window), (s.width, s.height)),
        (Some(size), size),
        "the X window and the Slint window have the size asked for"
    );
}

/// Writes an opaque RGBA snapshot as a PNG of at most 256 colours: the 256 most frequent ones
/// (the theme's flat colours and the common steps of text edges), every other pixel as the
/// nearest of those. A screen then takes a few tens of KB instead of a hundred.
fn write_png(path: &Path, shot: &slint::SharedPixelBuffer<slint::Rgba8Pixel>) {
    let pixels: Vec<[u8; 3]> = shot.as_slice().iter().map(|p| [p.r, p.g, p.b]).collect();
    let mut counts = std::collections::HashMap::<[u8; 3], u32>::new();
    for p in &pixels {
        *counts.entry(*p).or_default() += 1;
    }
    let mut by_count: Vec<([u8; 3], u32)> = counts.into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let palette: Vec<[u8; 3]> = by_count.iter().take(256).map(|(c, _)| *c).collect();
    let distance = |a: [u8; 3], b: [u8; 3]| -> i32 {
        (0..3)
            .map(|i| (i32::from(a[i]) - i32::from(b[i])).pow(2))
            .sum()
    };
    let index: std::collections::HashMap<[u8; 3], u8> = by_count
        .iter()
        .map(|(c, _)| {
            let nearest = (0..palette.len())
                .min_by_key(|&i| distance(*c, palette[i]))
                .unwrap();
            (*c, nearest as u8)
        })
        .collect();
    let data: Vec<u8> = pixels.iter().map(|p| index[p]).collect();

    let file = std::io::BufWriter::new(std::fs::File::create(path).expect("create the PNG"));
    let mut encoder = png::Encoder::new(file, shot.width(), shot.height());
    encoder.set_color(png::ColorType::Indexed);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_palette(palette.concat());
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header().expect("PNG header");
    writer.write_image_data(&data).expect("PNG data");
    writer.finish().expect("PNG written");
}

/// Real windows of one size on the X display.
struct RealWindow {
    size: (u32, u32),
    screenshots: Option<PathBuf>,
    screens: Vec<String>,
}

impl Visit for RealWindow {
    fn open(&mut self, db: &Path) -> (Rc<Ctx>, AppWindow) {
        let (ctx, window) = support::ui::window_over(db);
        let (width, height) = self.size;
        window
            .window()
            .set_size(slint::LogicalSize::new(width as f32, height as f32));
        settle(&window, self.size);
        (ctx, window)
    }

    fn wait_for(&mut self, _window: &AppWindow, done: &dyn Fn() -> bool) {
        let start = Instant::now();
        while !done() && start.elapsed() < Duration::from_secs(10) {
            let timer = slint::Timer::default();
            timer.start(
                slint::TimerMode::SingleShot,
                Duration::from_millis(10),
                || {
                    let _ = slint::quit_event_loop();
                },
            );
            slint::run_event_loop().expect("Slint's event loop runs");
        }
    }

    fn at(&mut self, window: &AppWindow, name: &str, labels: &[&str]) {
        settle(window, self.size);
        let (width, height) = self.size;
        let step = format!("{name} (real window)");
        let shot = window
            .window()
            .take_snapshot()
            .expect("a snapshot of the window");
        // Written before the checks, so a screen that fails them can be looked at.
        if let Some(dir) = &self.screenshots {
            write_png(&dir.join(format!("{name}-{width}x{height}.png")), &shot);
        }
        assert_eq!((shot.width(), shot.height()), self.size, "{step}");
        assert!(
            shot.as_slice().iter().all(|p| p.a == 255),
            "{step}: part of the window is not painted"
        );
        let mut colours = std::collections::HashSet::new();
        for p in shot.as_slice() {
            colours.insert((p.r, p.g, p.b));
            if colours.len() > 16 {
                break;
            }
        }
        assert!(
            colours.len() > 16,
            "{step}: {} colours, no text or buttons drawn",
            colours.len()
        );
        fits(window, &step, labels);
        self.screens.push(name.to_string());
    }
}

#[test]
fn every_button_of_every_screen_is_inside_the_real_window_at_480x800_and_1280x800() {
    let (display, _xvfb) = support::x11::xvfb("1280x800x24");
    // SAFETY: the only test of this binary sets these before it starts any thread of its own
    // (the demo server's come later) and before winit reads them; the harness's main thread
    // only waits for the test meanwhile.
    unsafe {
        std::env::set_var("DISPLAY", &display);
        // Not a desktop's Wayland session: the virtual X display.
        std::env::remove_var("WAYLAND_DISPLAY");
        // One logical pixel is one pixel, as on the handheld: 480x800 means 480x800 pixels.
        std::env::set_var("WINIT_X11_SCALE_FACTOR", "1");
    }
    slint::BackendSelector::new()
        .backend_name("winit".into())
        .renderer_name("software".into())
        .select()
        .expect("Slint's winit backend with the software renderer");

    let screenshots = std::env::var_os("LAITURI_SCREENSHOTS").map(PathBuf::from);
    if let Some(dir) = &screenshots {
        std::fs::create_dir_all(dir).expect("the screenshots folder");
    }
    let mut tours = Vec::new();
    for size in [(480, 800), (1280, 800)] {
        let mut v = RealWindow {
            size,
            screenshots: screenshots.clone(),
            screens: Vec::new(),
        };
        tour(&mut v);
        tours.push(v.screens);
    }
    assert!(tours[0].len() >= 20, "{:?}", tours[0]);
    assert_eq!(tours[0], tours[1], "both sizes see the same screens");
}
