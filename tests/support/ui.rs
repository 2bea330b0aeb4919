//! Driving the real Slint window headless: keys as a wedge scanner types them, elements by
//! accessible label.
#![allow(dead_code)]

use i_slint_backend_testing::ElementHandle;
use laituri::ui::AppWindow;
use slint::ComponentHandle;
use slint::platform::{Key, WindowEvent};

pub fn key(ui: &AppWindow, text: slint::SharedString) {
    ui.window()
        .dispatch_event(WindowEvent::KeyPressed { text: text.clone() });
    ui.window()
        .dispatch_event(WindowEvent::KeyReleased { text });
}

/// Types a scan the way a keyboard-wedge scanner does: Shift held around each capital letter
/// (the scanner is a keyboard), every character, then Enter.
pub fn scan(ui: &AppWindow, code: &str) {
    let shift: slint::SharedString = Key::Shift.into();
    for ch in code.chars() {
        if ch.is_uppercase() {
            ui.window().dispatch_event(WindowEvent::KeyPressed {
                text: shift.clone(),
            });
        }
        key(ui, ch.to_string().into());
        if ch.is_uppercase() {
            ui.window().dispatch_event(WindowEvent::KeyReleased {
                text: shift.clone(),
            });
        }
    }
    key(ui, Key::Return.into());
}

pub fn element(ui: &AppWindow, label: &str) -> ElementHandle {
    // A ListView creates its rows from its geometry: asking for the layout first makes the rows
    // a person would see exist in the element tree too.
    if let Some(feedback) = ElementHandle::find_by_accessible_label(ui, "Feedback").next() {
        let _ = feedback.size();
    }
    ElementHandle::find_by_accessible_label(ui, label)
        .next()
        .unwrap_or_else(|| panic!("no element labelled {label:?} on screen"))
}

pub fn tap(ui: &AppWindow, label: &str) {
    element(ui, label).invoke_accessible_default_action();
}

pub fn value(ui: &AppWindow, label: &str) -> String {
    element(ui, label)
        .accessible_value()
        .unwrap_or_default()
        .to_string()
}
