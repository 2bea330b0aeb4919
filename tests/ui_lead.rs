//! Headless UI test of the shift lead's list of tasks devices hold (`ui/views/held_tasks.slint`),
//! through the real Slint components, the real SQLite file and the real server on 127.0.0.1:0:
//! a device leases the putaway of a tote and goes away; the lead sees the task with the device holding it, gives it
//! back (confirmed), sees it given back before the sync, and after the sync the task is open on
//! the server and what the gone device then sends under its lease is refused as taken.

mod support;

use laituri::terminal::Screen;
use laituri::ui;
use laituri_protocol::{EventBody, EventOutcome, Role, TaskClaim, TaskKind, TaskStatus};
use support::orders::{self as shop, Stocker};
use support::ui::{has, log_in_lead, screen, sv, tap, value};

const LAYER: &str = "KO-007";
const TOTE: &str = "T-GONE-1";

#[test]
fn a_lead_gives_back_the_task_of_a_device_that_went_away() {
    let dir = tempfile::tempdir().unwrap();
    let server = support::start_demo_server(dir.path());
    let url = server.handle.url();
    let mut gone = Stocker::enrol(&url);
    gone.receive_into(LAYER, 4, TOTE);
    let task = shop::tasks(&url)
        .into_iter()
        .find(|t| t.kind == TaskKind::Putaway && t.container.as_deref() == Some(TOTE))
        .expect("the receipt's close opened a putaway task");
    let packet = gone.take_task(&task.task_id);
    let claim = TaskClaim {
        task_id: task.task_id.clone(),
        token: packet.lease.token,
    };

    let db = dir.path().join("terminal.sqlite3");
    let sync = support::sync_config(db.clone(), &url);
    support::sync_ok(&sync);
    let (ctx, window) = support::ui::open_window(&db);
    log_in_lead(&ctx, &window, &server.guide, Role::Lead);

    tap(&window, sv("Held tasks"));
    assert_eq!(screen(&ctx), Screen::HeldTasks);
    let give_back = format!("Give back {TOTE}");
    assert!(has(&window, &give_back), "{}", value(&window, "Prompt"));
    // The first tap asks for a confirmation; nothing is recorded yet.
    tap(&window, &give_back);
    assert!(!has(&window, &format!("Given back {TOTE}")));
    tap(&window, &format!("Confirm {TOTE}"));
    assert!(
        has(&window, &format!("Given back {TOTE}")),
        "{}",
        value(&window, "Feedback")
    );
    assert!(!has(&window, &give_back));

    let status = support::sync_ok(&sync);
    ui::apply_status(&window, &status);
    ui::refresh(&window, &ctx);
    let after = shop::tasks(&url)
        .into_iter()
        .find(|t| t.task_id == task.task_id)
        .unwrap();
    assert_eq!(after.status, TaskStatus::Open, "{after:?}");
    assert_eq!(after.leased_to, None);
    assert!(!has(&window, &give_back), "the task is no longer held");
    assert!(has(&window, sv("No device holds a task.")) || !has(&window, TOTE));

    // The device comes back and finishes under its old lease: refused as taken.
    let outcomes = gone.push(&[EventBody::PutawayFinished {
        container: TOTE.into(),
        task: Some(claim),
    }]);
    assert!(
        matches!(&outcomes[..], [EventOutcome::Partial { code, .. }] if code == "task_taken"),
        "{outcomes:?}"
    );
}
