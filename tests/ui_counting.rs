//! Headless UI test of counting through the real Slint components, the real SQLite file and the
//! real server on 127.0.0.1:0: an operator without count limits counts a bin blind (the screen
//! never shows what it should hold), by scans, the keypad and a unit cancelled; the count is
//! saved as one event and, synced, waits on the server for a shift lead, with the stock
//! unchanged until then; the lead approves it on their terminal's list and the server's stock
//! equals the count. Then a lead's plan makes a count task of the bin, which the lead takes from
//! the Count screen's list, counts under its lease, and the server finishes.

mod support;

use laituri::i18n::{Lang, translate};
use laituri::terminal::Screen;
use laituri::ui::{self, Ctx};
use laituri_protocol::{
    CountPlanSummary, EventBody, PROTOCOL_HEADER, PROTOCOL_VERSION, Role, Task, TaskStatus, paths,
};
use support::ui::{has, scan, tap, value};

fn fi(label: &'static str) -> &'static str {
    translate(Lang::Fi, label)
}

fn sv(label: &'static str) -> &'static str {
    translate(Lang::Sv, label)
}

/// An admin's request to the server, its answer decoded.
fn admin<T: serde::de::DeserializeOwned>(url: &str, body: Option<serde_json::Value>) -> T {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let request = match body {
            Some(b) => client.post(url).json(&b),
            None => client.get(url),
        };
        let resp = request
            .bearer_auth(laituri_server::demo::ADMIN_KEY)
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .send()
            .await
            .expect("server answers");
        let (status, text) = (resp.status(), resp.text().await.unwrap());
        assert!(status.is_success(), "{url}: {status}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: {e}: {text}"))
    })
}

fn screen(ctx: &Ctx) -> Screen {
    ctx.terminal.borrow().screen().clone()
}

#[test]
fn a_blind_count_with_a_difference_waits_for_a_lead_who_approves_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = support::start_demo_server(dir.path());
    let db = dir.path().join("terminal.sqlite3");
    let sync = support::sync_config(db.clone(), &server.handle.url());
    support::sync_ok(&sync);

    let (ctx, window) = support::ui::open_window(&db);

    // An operator who counts and is not a lead: every difference waits for one.
    let op = server
        .guide
        .operators
        .iter()
        .find(|o| o.roles.contains(&Role::Counting) && !o.roles.contains(&Role::Lead))
        .expect("the demo has an operator who counts and is no lead");
    assert_eq!(op.language, "fi");
    scan(&window, &op.badge);
    assert_eq!(screen(&ctx), Screen::Home, "{}", value(&window, "Feedback"));

    tap(&window, fi("Count"));
    assert_eq!(screen(&ctx), Screen::Counting);
    // Anything but a bin's label starts nothing.
    scan(&window, &server.guide.totes[0]);
    assert_eq!(
        value(&window, "Feedback"),
        fi("Scan the label of the bin to count.")
    );
    tap(&window, fi("Acknowledge"));
    assert!(ctx.terminal.borrow().counting().is_none());

    let bin = server.guide.bins.last().unwrap().clone();
    scan(&window, &bin);
    assert_eq!(value(&window, "Location"), bin);
    assert!(
        ctx.terminal
            .borrow()
            .store()
            .location_contents(&bin)
            .unwrap()
            .is_empty(),
        "the demo's last bin is empty on the device"
    );

    // A plain product of the outdoor shop (its notice's code without lot or quarantine).
    let item = server
        .guide
        .notices
        .iter()
        .flat_map(|n| &n.scans)
        .find(|s| !s.to_quarantine && !s.code.contains('(') && s.units == i64::from(s.times))
        .expect("a plain product scanned one unit at a time");
    scan(&window, &item.code);
    scan(&window, &item.code);
    scan(&window, &item.code);
    let counted = format!("Counted {}", item.product_name);
    assert_eq!(value(&window, &counted), "3");
    // A unit taken off, then the keypad says how many there really are.
    tap(&window, fi("Cancel"));
    assert_eq!(value(&window, &counted), "2");
    tap(&window, fi("Quantity"));
    tap(&window, "5");
    tap(&window, fi("Enter"));
    assert_eq!(value(&window, &counted), "5");
    // Nothing is recorded before the finish; nothing on screen says what the bin should hold.
    assert!(
        ctx.terminal
            .borrow()
            .store()
            .recent_events("location_counted", 5)
            .unwrap()
            .is_empty()
    );
    tap(&window, fi("Finish"));
    assert!(
        ctx.terminal.borrow().counting().unwrap().is_finished(),
        "{}",
        value(&window, "Feedback")
    );
    assert!(has(&window, fi("Done")));
    let recorded = ctx
        .terminal
        .borrow()
        .store()
        .recent_events("location_counted", 5)
        .unwrap();
    assert_eq!(recorded.len(), 1);
    let (
        EventBody::LocationCounted {
            location, lines, ..
        },
        _,
    ) = &recorded[0]
    else {
        panic!("{recorded:?}");
    };
    assert_eq!(location, &bin);
    assert_eq!(
        (
            lines[0].product_id.as_str(),
            lines[0].counted,
            lines[0].expected
        ),
        (item.product_id.as_str(), 5, 0)
    );
    tap(&window, fi("Done"));
    assert_eq!(screen(&ctx), Screen::Home);

    // On the server the difference waits for a lead: the stock is unchanged, a lead is told.
    support::sync_ok(&sync);
    let url = server.handle.url();
    let stock = support::totals(&support::server_stock(&url, &lines[0].merchant_id));
    assert_eq!(stock.get(&(item.product_id.clone(), bin.clone())), None);
    let waiting = support::server_exceptions(&url);
    assert!(
        waiting
            .iter()
            .any(|x| x.kind == "count_needs_approval" && x.message.contains(&bin)),
        "{waiting:?}"
    );

    // The lead logs in on the same terminal, finds the count on the list and approves it.
    let lead = server
        .guide
        .operators
        .iter()
        .find(|o| o.roles.contains(&Role::Lead))
        .unwrap();
    scan(&window, &lead.badge);
    for digit in lead.pin.as_deref().unwrap_or_default().chars() {
        tap(&window, &digit.to_string());
    }
    tap(&window, sv("Enter"));
    assert_eq!(screen(&ctx), Screen::Home, "{}", value(&window, "Feedback"));
    tap(&window, sv("Approvals"));
    assert_eq!(screen(&ctx), Screen::Approvals);
    let shown = value(&window, &format!("Count {bin}"));
    assert!(shown.contains("5") && shown.contains("+5"), "{shown}");
    tap(&window, &format!("Approve {bin}"));
    assert!(
        !has(&window, &format!("Approve {bin}")),
        "{}",
        value(&window, "Feedback")
    );
    support::sync_ok(&sync);
    let stock = support::totals(&support::server_stock(&url, &lines[0].merchant_id));
    assert_eq!(stock.get(&(item.product_id.clone(), bin.clone())), Some(&5));
    let resolved = support::server_exceptions(&url);
    let x = resolved
        .iter()
        .find(|x| x.kind == "count_needs_approval")
        .unwrap();
    assert_eq!(
        x.resolved_by.as_deref(),
        Some(lead.badge.as_str()),
        "badge = id in the demo"
    );

    // A lead's plan makes a count task of the bin; the lead takes it from the Count screen.
    let plan: CountPlanSummary = admin(
        &format!("{url}{}", paths::COUNT_PLANS),
        Some(serde_json::json!({})),
    );
    assert_eq!(plan.created.len(), 1, "{plan:?}");
    let synced = |window: &ui::AppWindow| {
        let status = support::sync_ok(&sync);
        ui::apply_status(window, &status);
        ui::on_sync_progress(window, &status);
    };
    synced(&window);
    tap(&window, sv("Menu"));
    tap(&window, sv("Count"));
    assert_eq!(screen(&ctx), Screen::Counting);
    tap(&window, &bin);
    synced(&window);
    assert!(
        ctx.terminal
            .borrow()
            .counting()
            .and_then(|c| c.claim())
            .is_some(),
        "{}",
        value(&window, "Feedback")
    );
    // Its bin's label first; then the lead's own count is booked at once.
    scan(&window, &item.code);
    assert!(has(&window, sv("Acknowledge")), "an item before the bin");
    tap(&window, sv("Acknowledge"));
    scan(&window, &bin);
    for _ in 0..4 {
        scan(&window, &item.code);
    }
    tap(&window, sv("Finish"));
    tap(&window, sv("Done"));
    synced(&window);
    let stock = support::totals(&support::server_stock(&url, &lines[0].merchant_id));
    assert_eq!(stock.get(&(item.product_id.clone(), bin.clone())), Some(&4));
    let tasks: Vec<Task> = admin(&format!("{url}{}?limit=1000", paths::TASKS), None);
    let task = tasks.iter().find(|t| t.task_id == plan.created[0]).unwrap();
    assert_eq!(task.status, TaskStatus::Done);
}
