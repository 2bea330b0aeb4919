//! A tour of every screen of the terminal, driven the way a person drives it (scans typed as key
//! events, taps on elements by accessible label), over a store synced with a demo server on
//! 127.0.0.1:0: the not-enrolled headline, the badge and PIN prompts, the menu, receiving (the
//! notice list, its keypads, an error, an over-receipt confirmation, the close list, an expiry
//! date typed on the keypad), the exceptions a lead resolves, the scanner check, About, putaway
//! (the task list, the suggested bin, its keypad, the override reasons), and picking (the task
//! list, waiting for the server, each step of a line, its keypad, the zero check, the drop at
//! packing and the end), and packing (the orders at packing, the box, the items, the weight
//! keypad, the finish, the label shown at a station without a printer, the parcels' list), and
//! returns (the order found, an item's reason and what becomes of it).
//!
//! The tour does not check the screens itself: at every screen it hands the window to a
//! [`Visit`], with the labels of the buttons that screen must show. [`fits`] is the layout check
//! the visits share.
#![allow(dead_code)]

use std::path::Path;
use std::rc::Rc;

use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementQuery};
use laituri::i18n::{Lang, translate};
use laituri::sync::SyncConfig;
use laituri::terminal::Screen;
use laituri::ui::{self, AppWindow, Ctx};
use laituri_protocol::Role;
use slint::ComponentHandle;

use super::ui::{has, scan, tap, value};

/// What a test does with the tour: opens its windows and looks at each screen.
pub trait Visit {
    /// The window over the store at `db`, shown at the size the test checks.
    fn open(&mut self, db: &Path) -> (Rc<Ctx>, AppWindow);
    /// The tour stands on screen `name` (a file name: lower case and hyphens), which shows at
    /// least the elements labelled `labels` (as shown, in the operator's language).
    fn at(&mut self, window: &AppWindow, name: &str, labels: &[&str]);
    /// Lets work the window handed to another thread come back (a PIN's check), until `done`.
    /// Without an event loop (the headless backend) that work is done before the tap returns.
    fn wait_for(&mut self, _window: &AppWindow, _done: &dyn Fn() -> bool) {}
}

/// The keypad's keys, by accessible label (in English).
pub const KEYPAD: [&str; 13] = [
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "8",
    "9",
    "0",
    "Clear",
    "Enter",
    "Cancel keypad",
];

/// The views of the screens: one fills the area between the feedback line and the scan field.
const VIEWS: [&str; 19] = [
    "LoginView",
    "HomeView",
    "ReceivingStartView",
    "ReceivingView",
    "PutawayStartView",
    "PutawayView",
    "PickingStartView",
    "PickingView",
    "PackingStartView",
    "PackingView",
    "ScannerCheckView",
    "ExceptionsView",
    "AboutView",
    "StockView",
    "MoveView",
    "HeldTasksView",
    "CountingView",
    "ApprovalsView",
    "ReturnsView",
];

/// An element's rectangle: x, y, width, height.
fn rect(e: &ElementHandle) -> (f32, f32, f32, f32) {
    let (p, s) = (e.absolute_position(), e.size());
    (p.x, p.y, s.width, s.height)
}

/// Asserts that `e` has a size and lies wholly inside `area`, named `what`.
fn inside(step: &str, e: &ElementHandle, area: (f32, f32, f32, f32), what: &str) {
    let (x, y, w, h) = rect(e);
    let fits = w > 0.0
        && h > 0.0
        && x >= area.0 - 0.5
        && y >= area.1 - 0.5
        && x + w <= area.0 + area.2 + 0.5
        && y + h <= area.1 + area.3 + 0.5;
    assert!(
        fits,
        "{step}: {:?} at ({x}, {y}) size {w}x{h} is not wholly inside {what} {area:?}",
        e.accessible_label().unwrap_or_default(),
    );
}

/// Every element labelled `labels` exists; every element with the role of a button, and every
/// labelled one, lies wholly inside the window with a size, and the buttons of the screen's view
/// wholly inside the view (not under the feedback line or the scan field).
pub fn fits(window: &AppWindow, step: &str, labels: &[&str]) {
    let w = window.window();
    let size = w.size().to_logical(w.scale_factor());
    let step = format!("{step} at {}x{}", size.width, size.height);
    let whole = (0.0, 0.0, size.width, size.height);

    let views: Vec<ElementHandle> = VIEWS
        .iter()
        .flat_map(|v| ElementHandle::find_by_element_type_name(window, v))
        .collect();
    let view = views.first().unwrap_or_else(|| panic!("{step}: no view"));
    let area = rect(view);
    assert!(
        views.iter().all(|v| rect(v) == area),
        "{step}: more than one view"
    );
    inside(&step, view, whole, "the window");

    let buttons = ElementQuery::from_root(window)
        .match_descendants()
        .match_accessible_role(AccessibleRole::Button)
        .find_all();
    for e in &buttons {
        inside(&step, e, whole, "the window");
    }
    let in_view = view
        .query_descendants()
        .match_accessible_role(AccessibleRole::Button)
        .find_all();
    for e in &in_view {
        inside(&step, e, area, "the view");
    }
    for label in labels {
        let found: Vec<ElementHandle> =
            ElementHandle::find_by_accessible_label(window, label).collect();
        assert!(!found.is_empty(), "{step}: no {label:?} on screen");
        for e in &found {
            inside(&step, e, whole, "the window");
        }
    }
}

fn screen(ctx: &Ctx) -> Screen {
    ctx.terminal.borrow().screen().clone()
}

/// One sync round, reported to the window as the sync worker reports it.
fn synced(window: &AppWindow, sync: &SyncConfig) {
    let status = super::sync_ok(sync);
    ui::apply_status(window, &status);
    ui::on_sync_progress(window, &status);
}

/// Walks every screen, calling `v.at` on each.
pub fn tour(v: &mut impl Visit) {
    let dir = tempfile::tempdir().unwrap();

    // A terminal that never reached a server says so, and what to do.
    {
        let (_ctx, window) = v.open(&dir.path().join("never-enrolled.sqlite3"));
        assert_eq!(value(&window, "Prompt"), "This terminal is not enrolled");
        v.at(&window, "not-enrolled", &["Prompt", "Detail"]);
    }

    let server = super::start_demo_server(dir.path());
    let db = dir.path().join("terminal.sqlite3");
    let sync = super::sync_config(db.clone(), &server.handle.url());
    let (ctx, window) = v.open(&db);
    synced(&window, &sync);
    let guide = &server.guide;
    v.at(&window, "login", &["Prompt"]);

    // The shift lead: a badge, then the PIN on the keypad, one dot per digit. From the badge on
    // the screens speak the lead's language (Swedish in the demo, whose texts run longest of
    // the three languages): labels are looked for as they are shown.
    let lead = guide
        .operators
        .iter()
        .find(|o| {
            o.pin.is_some() && o.roles.contains(&Role::Lead) && o.roles.contains(&Role::Putaway)
        })
        .expect("a shift lead with a PIN who receives and puts away");
    let lang = Lang::from_tag(&lead.language);
    let tr = |label: &'static str| translate(lang, label);
    let keypad: Vec<&str> = KEYPAD.iter().map(|k| tr(k)).collect();
    scan(&window, &lead.badge);
    for d in lead.pin.as_deref().unwrap().chars() {
        tap(&window, &d.to_string());
    }
    v.at(&window, "login-pin", &keypad);
    tap(&window, tr("Enter"));
    v.wait_for(&window, &|| screen(&ctx) == Screen::Home);
    assert_eq!(screen(&ctx), Screen::Home, "{}", value(&window, "Feedback"));
    let menu = [
        "Receiving",
        "Putaway",
        "Picking",
        "Packing",
        "Returns",
        "Exceptions",
        "Scanner check",
        "About",
        "Log out",
    ]
    .map(tr);
    v.at(&window, "home", &menu);

    // Receiving a notice that comes in short on one line and over on another.
    let notice = guide
        .notices
        .iter()
        .find(|n| n.scans.iter().any(|s| s.note.starts_with("over")))
        .expect("a notice with an over line");
    tap(&window, tr("Receiving"));
    assert_eq!(screen(&ctx), Screen::ReceivingStart);
    let blind = tr("Blind receipt {}").replace("{}", &notice.merchant_name);
    v.at(
        &window,
        "receiving-start",
        &[&notice.reference, &blind, tr("Back")],
    );
    scan(&window, &notice.reference);
    scan(&window, &guide.totes[0]);
    let over = notice
        .scans
        .iter()
        .find(|s| s.note.starts_with("over"))
        .unwrap();
    let others: Vec<_> = notice
        .scans
        .iter()
        .filter(|s| s.code != over.code)
        .collect();
    for _ in 0..others[0].times {
        scan(&window, &others[0].code);
    }
    synced(&window, &sync);
    scan(&window, &over.code);
    assert_eq!(screen(&ctx), Screen::Receiving);
    let scanning = ["Add quantity", "Damaged", "Close receipt", "Menu"].map(tr);
    v.at(&window, "receiving", &scanning);
    tap(&window, tr("Add quantity"));
    v.at(&window, "receiving-keypad", &keypad);
    tap(&window, tr("Cancel keypad"));
    scan(&window, &guide.unknown_barcode);
    v.at(&window, "receiving-error", &[tr("Acknowledge"), tr("Menu")]);
    tap(&window, tr("Acknowledge"));
    for _ in 1..over.times {
        scan(&window, &over.code);
        if has(&window, tr("Confirm")) {
            break;
        }
    }
    let confirming = ["Confirm", "Cancel", "Menu"].map(tr);
    v.at(&window, "receiving-confirm", &confirming);
    tap(&window, tr("Confirm"));
    for s in &others[1..] {
        for _ in 0..s.times {
            scan(&window, &s.code);
        }
    }
    tap(&window, tr("Close receipt"));
    v.at(&window, "receiving-close", &confirming);
    tap(&window, tr("Confirm"));
    synced(&window, &sync);
    v.at(&window, "receiving-closed", &[tr("Done")]);
    tap(&window, tr("Done"));

    // A notice with lots and best-before dates: the plain EAN of a tracked product asks for
    // its lot and its date, and the date is typed on the keypad.
    let dated = guide
        .notices
        .iter()
        .find(|n| n.scans.iter().any(|s| s.code.contains("(17)")))
        .expect("a notice with best-before dates");
    let gs1 = dated
        .scans
        .iter()
        .find(|s| s.code.starts_with("(01)0") && s.code.contains("(10)"))
        .unwrap();
    let lot = gs1.code.split("(10)").nth(1).unwrap();
    scan(&window, &dated.reference);
    scan(&window, &guide.totes[1]);
    scan(&window, &gs1.code[5..18]);
    if !has(&window, tr("Type date")) {
        // The lot first.
        scan(&window, lot);
    }
    tap(&window, tr("Type date"));
    v.at(&window, "receiving-expiry", &keypad);
    for d in super::today().add_days(120).yymmdd().chars() {
        tap(&window, &d.to_string());
    }
    tap(&window, tr("Enter"));
    assert!(
        !has(&window, tr("Acknowledge")),
        "{}",
        value(&window, "Feedback")
    );
    // A second unknown barcode: the lead has two exceptions to deal with.
    scan(&window, &guide.unknown_barcode);
    tap(&window, tr("Acknowledge"));
    tap(&window, tr("Close receipt"));
    tap(&window, tr("Confirm"));
    tap(&window, tr("Done"));
    synced(&window, &sync);

    // The exceptions, resolved by the lead with a confirmation.
    let ids: Vec<i64> = ctx
        .terminal
        .borrow()
        .store()
        .open_exceptions(10)
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids.len(), 2, "two unknown barcodes, two exceptions");
    let resolve: Vec<String> = ids.iter().map(|id| format!("Resolve {id}")).collect();
    tap(&window, tr("Exceptions"));
    assert_eq!(screen(&ctx), Screen::Exceptions);
    v.at(
        &window,
        "exceptions",
        &[&resolve[0], &resolve[1], tr("Menu")],
    );
    tap(&window, &resolve[0]);
    let confirm = format!("Confirm {}", ids[0]);
    v.at(
        &window,
        "exceptions-confirm",
        &[&confirm, &resolve[1], tr("Cancel"), tr("Menu")],
    );
    tap(&window, &confirm);
    tap(&window, tr("Menu"));

    // The scanner check, with a GS1 label scanned.
    tap(&window, tr("Scanner check"));
    assert_eq!(screen(&ctx), Screen::ScannerCheck);
    scan(&window, "]C10106412345000166\u{1d}10A2417\u{1d}17270322");
    v.at(&window, "scanner-check", &[tr("Menu")]);
    tap(&window, tr("Menu"));

    tap(&window, tr("About"));
    assert_eq!(screen(&ctx), Screen::About);
    v.at(&window, "about", &[tr("Menu")]);
    tap(&window, tr("Menu"));

    // Putaway: the task list of the two closed totes, then the first tote by its scan.
    tap(&window, tr("Putaway"));
    assert_eq!(screen(&ctx), Screen::PutawayStart);
    v.at(
        &window,
        "putaway-start",
        &[&guide.totes[0], &guide.totes[1], tr("Menu")],
    );
    scan(&window, &guide.totes[0]);
    assert_eq!(
        screen(&ctx),
        Screen::Putaway,
        "{}",
        value(&window, "Feedback")
    );
    let suggested = || {
        ctx.terminal
            .borrow()
            .putaway()
            .unwrap()
            .view()
            .suggested
            .is_some()
    };
    if !suggested() {
        // A tote of several kinds asks which one is put away first.
        let first = ctx.terminal.borrow().putaway().unwrap().view().left[0]
            .0
            .clone();
        let code = &notice
            .scans
            .iter()
            .find(|s| s.product_name == first)
            .unwrap()
            .code;
        scan(&window, code);
    }
    assert!(suggested(), "{}", value(&window, "Feedback"));
    let mut bin_step = ["Quantity", "Bin full", "Cancel", "Stop tote", "Menu"]
        .map(tr)
        .to_vec();
    bin_step.push("Suggested bin");
    v.at(&window, "putaway", &bin_step);
    tap(&window, tr("Quantity"));
    v.at(&window, "putaway-keypad", &keypad);
    tap(&window, tr("Cancel keypad"));
    let suggested = value(&window, "Suggested bin");
    let other = ctx
        .terminal
        .borrow()
        .store()
        .bins_of_zone(&notice.merchant_id, 50)
        .unwrap()
        .into_iter()
        .map(|b| b.code)
        .find(|c| *c != suggested)
        .unwrap();
    scan(&window, &other);
    let reasons = [
        "Bin blocked or damaged",
        "Goods do not fit",
        "Closer bin",
        "Shift lead said so",
        "Cancel",
        "Menu",
    ]
    .map(tr);
    v.at(&window, "putaway-reasons", &reasons);

    // Picking, after the putaway is left (one job at a time). The outdoor shop's stock is put in
    // a bin and ordered through the server's API, and released into a task.
    tap(&window, tr("Cancel"));
    tap(&window, tr("Stop tote"));
    assert_eq!(screen(&ctx), Screen::Home, "{}", value(&window, "Feedback"));
    let url = server.handle.url();
    let (product, bin) = ("KO-006", "B-01-01-1");
    super::orders::Stocker::enrol(&url).stock_up(product, 2, bin);
    super::orders::post_order(&url, "K-9001", &[(product, 2)]);
    super::orders::release(&url, Some(1));
    synced(&window, &sync);
    tap(&window, tr("Picking"));
    assert_eq!(screen(&ctx), Screen::PickingStart);
    v.at(
        &window,
        "picking-start",
        &["K-9001", tr("Take the next"), tr("Menu")],
    );
    tap(&window, tr("Take the next"));
    v.at(&window, "picking-start-waiting", &["Waiting", tr("Menu")]);
    synced(&window, &sync);
    assert_eq!(
        screen(&ctx),
        Screen::Picking,
        "{}",
        value(&window, "Feedback")
    );
    v.at(
        &window,
        "picking",
        &[
            "Batch",
            "Progress",
            "Location",
            "Item",
            "Order",
            "Prompt",
            tr("Skip"),
            tr("Stop picking"),
        ],
    );
    scan(&window, bin);
    let item_step = ["Quantity", "Found less", "Skip", "Stop picking"].map(tr);
    v.at(&window, "picking-item", &item_step);
    tap(&window, tr("Quantity"));
    v.at(&window, "picking-keypad", &keypad);
    tap(&window, tr("Cancel keypad"));
    let code = super::orders::barcode(product);
    scan(&window, &code);
    let in_hand = ["Quantity", "Found less", "Cancel", "Stop picking"].map(tr);
    v.at(&window, "picking-in-hand", &in_hand);
    scan(&window, &code);
    let tote_step = ["Quantity", "Cancel", "Stop picking"].map(tr);
    v.at(&window, "picking-tote", &tote_step);
    scan(&window, &guide.totes[2]);
    let zero_check = ["Yes, empty", "No, goods left", "Stop picking"].map(tr);
    v.at(&window, "picking-zero-check", &zero_check);
    tap(&window, tr("Yes, empty"));
    v.at(&window, "picking-drop", &["Location", tr("Stop picking")]);
    scan(&window, "PACK-1");
    v.at(&window, "picking-done", &[tr("Done")]);
    tap(&window, tr("Done"));
    assert_eq!(screen(&ctx), Screen::Home);

    // Packing: the drop reaches the server, the order comes back ready to pack.
    synced(&window, &sync);
    tap(&window, tr("Packing"));
    assert_eq!(screen(&ctx), Screen::PackingStart);
    v.at(&window, "packing-start", &["K-9001", tr("Menu")]);
    scan(&window, &guide.totes[2]);
    assert_eq!(
        screen(&ctx),
        Screen::Packing,
        "{}",
        value(&window, "Feedback")
    );
    let packing = [
        "No box",
        "Weight",
        "Cancel",
        "Close parcel",
        "Finish",
        "Stop packing",
    ]
    .map(tr);
    let mut packing = packing.to_vec();
    packing.extend(["Order", "Progress", "Prompt", "Parcel"]);
    v.at(&window, "packing", &packing);
    scan(&window, "BOX-S");
    scan(&window, &code);
    v.at(&window, "packing-item", &packing);
    tap(&window, tr("Weight"));
    v.at(&window, "packing-keypad", &keypad);
    tap(&window, tr("Cancel keypad"));
    scan(&window, &code);
    tap(&window, tr("Finish"));
    assert!(
        ctx.terminal.borrow().packing().unwrap().is_finished(),
        "{}",
        value(&window, "Feedback")
    );
    synced(&window, &sync);
    v.at(
        &window,
        "packing-label",
        &["Label preview", tr("Label handled")],
    );
    tap(&window, tr("Label handled"));
    v.at(&window, "packing-done", &[tr("Done")]);
    tap(&window, tr("Done"));
    tap(&window, tr("Packing"));
    v.at(
        &window,
        "packing-parcels",
        &["Label K-9001 · 1", tr("Menu")],
    );
    tap(&window, tr("Menu"));
    assert_eq!(screen(&ctx), Screen::Home);

    // Stock: the look-up of the tote still at the dock, the whole tote in hand, then an item of
    // it in hand with the keypad; nothing is moved.
    tap(&window, tr("Stock"));
    assert_eq!(screen(&ctx), Screen::Stock);
    v.at(&window, "stock-start", &[tr("Menu")]);
    let tote = &guide.totes[1];
    scan(&window, tote);
    v.at(&window, "stock", &[tr("Move goods from here"), tr("Menu")]);
    tap(&window, tr("Move goods from here"));
    assert_eq!(screen(&ctx), Screen::Move, "{}", value(&window, "Feedback"));
    v.at(&window, "move-tote", &["In hand", tr("Cancel"), tr("Menu")]);
    tap(&window, tr("Cancel"));
    let product = ctx
        .terminal
        .borrow()
        .store()
        .container_contents(tote)
        .unwrap()[0]
        .product_id
        .clone();
    let tote_code = guide
        .notices
        .iter()
        .flat_map(|n| &n.scans)
        .find(|s| s.product_id == product)
        .expect("a barcode of the tote's goods")
        .code
        .clone();
    scan(&window, tote);
    tap(&window, tr("Cancel"));
    scan(&window, &guide.docks[0]);
    scan(&window, &tote_code);
    assert!(
        !value(&window, "In hand").is_empty(),
        "{}",
        value(&window, "Feedback")
    );
    v.at(
        &window,
        "move-item",
        &[tr("Quantity"), tr("Cancel"), tr("Menu")],
    );
    tap(&window, tr("Quantity"));
    v.at(&window, "move-keypad", &keypad);
    tap(&window, tr("Cancel keypad"));
    tap(&window, tr("Cancel"));
    tap(&window, tr("Menu"));
    assert_eq!(screen(&ctx), Screen::Home);

    // The lead's list of tasks devices hold.
    tap(&window, tr("Held tasks"));
    assert_eq!(screen(&ctx), Screen::HeldTasks);
    v.at(&window, "held-tasks", &["Prompt", tr("Menu")]);
    tap(&window, tr("Menu"));
    assert_eq!(screen(&ctx), Screen::Home);

    // Counting: a spot count of a bin, blind, with the keypad; cancelled unit by unit.
    tap(&window, tr("Count"));
    assert_eq!(screen(&ctx), Screen::Counting);
    v.at(&window, "counting-start", &[tr("Menu")]);
    scan(&window, &guide.bins[0]);
    let counting = ["Quantity", "Empty", "Cancel", "Finish", "Menu"].map(tr);
    let mut counting = counting.to_vec();
    counting.extend(["Location", "Prompt"]);
    v.at(&window, "counting", &counting);
    scan(&window, &code);
    v.at(&window, "counting-item", &counting);
    tap(&window, tr("Quantity"));
    v.at(&window, "counting-keypad", &keypad);
    tap(&window, tr("Cancel keypad"));
    tap(&window, tr("Cancel"));
    tap(&window, tr("Cancel"));
    tap(&window, tr("Menu"));
    assert_eq!(screen(&ctx), Screen::Home);

    // Approvals: the lead's list of counts waiting (none in the tour).
    tap(&window, tr("Approvals"));
    assert_eq!(screen(&ctx), Screen::Approvals);
    v.at(&window, "approvals", &[tr("Menu")]);
    tap(&window, tr("Menu"));
    assert_eq!(screen(&ctx), Screen::Home);

    // Returns: the shipped order comes back; found by its number, an item, its reason and
    // what becomes of it.
    synced(&window, &sync);
    tap(&window, tr("Returns"));
    assert_eq!(screen(&ctx), Screen::Returns);
    v.at(&window, "returns", &["Prompt", tr("Menu")]);
    scan(&window, "K-9001");
    let items = ["Order", "Prompt", tr("Finish return"), tr("Menu")];
    v.at(&window, "returns-items", &items);
    scan(&window, &code);
    let mut reasons: Vec<&str> = [
        "Unwanted",
        "Defective",
        "Wrong item delivered",
        "Undeliverable or not collected",
        "Cancel",
    ]
    .map(tr)
    .to_vec();
    reasons.push("Prompt");
    v.at(&window, "returns-reason", &reasons);
    tap(&window, tr("Unwanted"));
    let mut actions: Vec<&str> = [
        "Restock",
        "Quarantine for inspection",
        "Dispose",
        "Back to the merchant",
        "Cancel",
    ]
    .map(tr)
    .to_vec();
    actions.push("Prompt");
    v.at(&window, "returns-action", &actions);
    tap(&window, tr("Cancel"));
    tap(&window, tr("Cancel"));
    tap(&window, tr("Menu"));
    assert_eq!(screen(&ctx), Screen::Home);
}
