//! Nothing is cut off: on a 480x800 handheld and a 1280x800 station, every button of every
//! screen (keypads, Cancel, Menu, Confirm, the override reasons, Log out, Back) lies wholly
//! inside the window, from the element geometry of the real components on Slint's testing
//! backend, through the tour of every screen (tests/support/tour.rs) with a demo server on
//! 127.0.0.1:0. tests/screens_window.rs takes the same tour in a real X window.

mod support;

use std::path::Path;
use std::rc::Rc;

use laituri::ui::{AppWindow, Ctx};
use slint::ComponentHandle;
use support::tour::{Visit, fits, tour};

/// Headless windows of one size.
struct Headless {
    size: (f32, f32),
    screens: Vec<String>,
}

impl Visit for Headless {
    fn open(&mut self, db: &Path) -> (Rc<Ctx>, AppWindow) {
        let (ctx, window) = support::ui::open_window(db);
        let (width, height) = self.size;
        window
            .window()
            .set_size(slint::LogicalSize::new(width, height));
        let real = window.window().size();
        assert_eq!((real.width, real.height), (width as u32, height as u32));
        (ctx, window)
    }

    fn at(&mut self, window: &AppWindow, name: &str, labels: &[&str]) {
        fits(window, name, labels);
        self.screens.push(name.to_string());
    }
}

fn every_screen_at(width: f32, height: f32) {
    let mut v = Headless {
        size: (width, height),
        screens: Vec::new(),
    };
    tour(&mut v);
    assert!(v.screens.len() >= 20, "{:?}", v.screens);
}

#[test]
fn every_button_of_every_screen_fits_a_480x800_handheld() {
    every_screen_at(480.0, 800.0);
}

#[test]
fn every_button_of_every_screen_fits_a_1280x800_station() {
    every_screen_at(1280.0, 800.0);
}
