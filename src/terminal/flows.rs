//! The one list of what the home menu offers: each entry's id, label, the role it needs and the
//! screens that belong to it. The menu, role gating and the screen a menu tap opens all read
//! this list, so a new flow adds one line here (and its screen to [`Screen`]).

use laituri_protocol::Role;

use super::job::Resume;
use super::messages::Label;
use super::{Screen, counting, packing, picking, putaway, receiving};

pub struct Entry {
    /// The id the menu sends back when tapped.
    pub id: &'static str,
    pub label: Label,
    /// The role that unlocks it; `None` = everyone.
    pub role: Option<Role>,
    /// The screen a tap opens (the flow's start screen).
    pub opens: Screen,
    /// Every screen of the entry, for role gating.
    pub screens: &'static [Screen],
    /// How a job of this flow left open on the device resumes at log-in.
    pub resume: Option<Resume>,
}

pub const MENU: [Entry; 13] = [
    Entry {
        id: "receiving",
        label: Label::Receiving,
        role: Some(Role::Receiving),
        opens: Screen::ReceivingStart,
        screens: &[Screen::ReceivingStart, Screen::Receiving],
        resume: Some(receiving::resume_for),
    },
    Entry {
        id: "putaway",
        label: Label::Putaway,
        role: Some(Role::Putaway),
        opens: Screen::PutawayStart,
        screens: &[Screen::PutawayStart, Screen::Putaway],
        resume: Some(putaway::resume_for),
    },
    Entry {
        id: "picking",
        label: Label::Picking,
        role: Some(Role::Picking),
        opens: Screen::PickingStart,
        screens: &[Screen::PickingStart, Screen::Picking],
        resume: Some(picking::resume_for),
    },
    Entry {
        id: "packing",
        label: Label::Packing,
        role: Some(Role::Packing),
        opens: Screen::PackingStart,
        screens: &[Screen::PackingStart, Screen::Packing],
        resume: Some(packing::resume_for),
    },
    Entry {
        id: "returns",
        label: Label::Returns,
        role: Some(Role::Returns),
        opens: Screen::Returns,
        screens: &[Screen::Returns],
        // A return is recorded whole at its finish: nothing to resume.
        resume: None,
    },
    Entry {
        id: "counting",
        label: Label::Counting,
        role: Some(Role::Counting),
        opens: Screen::Counting,
        screens: &[Screen::Counting],
        resume: Some(counting::resume_for),
    },
    Entry {
        id: "stock",
        label: Label::Stock,
        role: None,
        opens: Screen::Stock,
        screens: &[Screen::Stock],
        resume: None,
    },
    Entry {
        id: "move",
        label: Label::Move,
        role: Some(Role::Putaway),
        opens: Screen::Move,
        screens: &[Screen::Move],
        resume: None,
    },
    Entry {
        id: "approvals",
        label: Label::Approvals,
        role: Some(Role::Lead),
        opens: Screen::Approvals,
        screens: &[Screen::Approvals],
        resume: None,
    },
    Entry {
        id: "held-tasks",
        label: Label::HeldTasks,
        role: Some(Role::Lead),
        opens: Screen::HeldTasks,
        screens: &[Screen::HeldTasks],
        resume: None,
    },
    Entry {
        id: "exceptions",
        label: Label::Exceptions,
        role: None,
        opens: Screen::Exceptions,
        screens: &[Screen::Exceptions],
        resume: None,
    },
    Entry {
        id: "scanner-check",
        label: Label::ScannerCheck,
        role: None,
        opens: Screen::ScannerCheck,
        screens: &[Screen::ScannerCheck],
        resume: None,
    },
    Entry {
        id: "about",
        label: Label::About,
        role: None,
        opens: Screen::About,
        screens: &[Screen::About],
        resume: None,
    },
];

/// The menu entry a tap sent back.
pub fn by_id(id: &str) -> Option<&'static Entry> {
    MENU.iter().find(|e| e.id == id)
}

/// The entry a screen belongs to.
pub fn of_screen(screen: &Screen) -> Option<&'static Entry> {
    MENU.iter().find(|e| e.screens.contains(screen))
}

/// The role a screen needs, if any.
pub fn role_for(screen: &Screen) -> Option<Role> {
    MENU.iter()
        .find(|e| e.screens.contains(screen))
        .and_then(|e| e.role)
}
