//! Adapter of the header every screen shows: operator, online, pending events, oldest age,
//! open exceptions. Sync status arrives from the worker thread through the event loop.

use std::cell::{Cell, RefCell};

use slint::ComponentHandle;

use super::{AppWindow, HeaderAdapter, Shared};
use crate::i18n::{self, Lang};
use crate::store::now_ms;
use crate::sync::{SyncProblem, SyncStatus};
use crate::terminal::{Screen, Terminal, flows};

thread_local! {
    /// When the oldest waiting event was recorded, as last seen (device clock, ms), and the
    /// timer that counts its age up every second while anything waits.
    static OLDEST: Cell<Option<i64>> = const { Cell::new(None) };
    static TICK: slint::Timer = slint::Timer::default();
    /// The sync worker's last problem, and the language it is shown in (the operator's):
    /// shown again in the new language when another operator logs in.
    static PROBLEM: RefCell<Option<SyncProblem>> = const { RefCell::new(None) };
    static LANG: Cell<Lang> = const { Cell::new(Lang::En) };
}

fn show_problem(ui: &AppWindow) {
    let text = PROBLEM.with(|p| {
        p.borrow()
            .as_ref()
            .map(|p| p.render(LANG.with(Cell::get)))
            .unwrap_or_default()
    });
    ui.global::<HeaderAdapter>().set_problem(text.into());
}

/// Remembers the oldest waiting event and keeps its age on screen counting up, once a second,
/// while anything waits (offline the sync worker reports rarely; the age must not freeze). No
/// timer runs when nothing waits, so an idle terminal stays idle.
fn track_oldest(ui: &AppWindow, oldest: Option<i64>) {
    OLDEST.with(|o| o.set(oldest));
    let h = ui.global::<HeaderAdapter>();
    h.set_oldest(
        oldest
            .map(|t0| format_age(now_ms() - t0))
            .unwrap_or_default()
            .into(),
    );
    TICK.with(|tick| match oldest {
        Some(_) if !tick.running() => {
            let weak = ui.as_weak();
            tick.start(
                slint::TimerMode::Repeated,
                std::time::Duration::from_secs(1),
                move || {
                    let (Some(ui), Some(t0)) = (weak.upgrade(), OLDEST.with(|o| o.get())) else {
                        return;
                    };
                    ui.global::<HeaderAdapter>()
                        .set_oldest(format_age(now_ms() - t0).into());
                },
            );
        }
        None => tick.stop(),
        Some(_) => {}
    });
}

pub fn connect(ui: &AppWindow, ctx: Shared) {
    // Until the sync worker reports, the terminal does not know it is online.
    let h = ui.global::<HeaderAdapter>();
    h.set_online(false);
    h.set_oldest(Default::default());
    h.set_problem(Default::default());
    let weak = ui.as_weak();
    ui.global::<HeaderAdapter>().on_exceptions_tapped(move || {
        if let Some(ui) = weak.upgrade() {
            super::open(&ui, &ctx, Screen::Exceptions);
        }
    });
}

/// The operator and, on a flow's screens, the flow's name from the one list of flows.
pub fn refresh_operator(ui: &AppWindow, t: &Terminal) {
    let name = t.operator().map(|o| o.name.clone()).unwrap_or_default();
    let title = match flows::of_screen(t.screen()).filter(|e| e.role.is_some()) {
        Some(entry) if !name.is_empty() => format!("{name} · {}", entry.label.render(t.lang())),
        _ => name,
    };
    ui.global::<HeaderAdapter>().set_operator(title.into());
    if LANG.with(|l| l.replace(t.lang())) != t.lang() {
        show_problem(ui);
    }
}

/// "45 s", "12 min", "3 h": how long the oldest event has waited.
pub fn format_age(ms: i64) -> String {
    let s = (ms / 1000).max(0);
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min", s / 60),
        _ => format!("{} h", s / 3600),
    }
}

/// The count of waiting actions, and as the operator's language writes it (12 000, 12,000).
fn set_pending(h: &HeaderAdapter, pending: u64) {
    h.set_pending(pending.min(i32::MAX as u64) as i32);
    h.set_pending_shown(
        i18n::number(LANG.with(Cell::get), pending.min(i64::MAX as u64) as i64).into(),
    );
}

/// Shows a status the sync worker reported.
pub fn apply_status(ui: &AppWindow, status: &SyncStatus) {
    let h = ui.global::<HeaderAdapter>();
    h.set_online(status.online);
    set_pending(&h, status.counts.pending());
    track_oldest(ui, status.counts.oldest_pending_ms);
    h.set_exceptions(status.counts.open_exceptions.min(i32::MAX as u64) as i32);
    PROBLEM.with(|p| p.replace(status.problem.clone()));
    show_problem(ui);
}

/// Shows the queue as the UI thread's own store sees it right after a commit.
pub fn refresh_counts(ui: &AppWindow, t: &Terminal) {
    if let Ok(counts) = t.store().counts() {
        let h = ui.global::<HeaderAdapter>();
        set_pending(&h, counts.pending());
        h.set_exceptions(counts.open_exceptions.min(i32::MAX as u64) as i32);
        track_oldest(ui, counts.oldest_pending_ms);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ages_read_naturally() {
        for (ms, want) in [
            (0, "0 s"),
            (59_999, "59 s"),
            (60_000, "1 min"),
            (7_200_000, "2 h"),
            (-5, "0 s"),
        ] {
            assert_eq!(super::format_age(ms), want);
        }
    }
}
