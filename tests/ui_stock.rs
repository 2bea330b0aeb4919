//! Headless UI test of the stock screens (`ui/views/stock.slint`, `ui/views/moving.slint`) through
//! the real Slint components, the real SQLite file and the real server on 127.0.0.1:0: the
//! outdoor shop's goods lie in a bin and in a tote at the dock; the shift lead scans the bin at
//! the menu (its look-up opens), looks up the bin and an item, moves the whole tote into another
//! bin from the look-up, moves part of the bin by item scans and the keypad (a wrong scan and
//! more than the terminal knows are answered, nothing recorded by the wrong one), sees the moves
//! on the look-up as saved on the device, and after the sync the server's stock is where the
//! goods went and the look-up shows them confirmed.

mod support;

use laituri::terminal::Screen;
use laituri::ui::{self, AppWindow, Ctx};
use laituri_protocol::Role;
use support::orders::{self as shop, Stocker};
use support::ui::{has, last_seq, log_in_lead, scan, screen, sv, tap, value};

const SOCKS: &str = "KO-006";
const LAYER: &str = "KO-007";
const BIN_1: &str = "B-01-01-1";
const BIN_2: &str = "B-01-02-1";
const TOTE: &str = "T-MOVE-1";

fn synced(window: &AppWindow, ctx: &Ctx, sync: &laituri::sync::SyncConfig) {
    let status = support::sync_ok(sync);
    ui::apply_status(window, &status);
    ui::refresh(window, ctx);
}

/// The quantity a look-up row shows, by the row's text.
fn quantity(window: &AppWindow, row: &str) -> String {
    value(window, &format!("Quantity {row}"))
}

#[test]
fn look_up_a_bin_and_an_item_move_a_whole_tote_and_part_of_a_bin() {
    let dir = tempfile::tempdir().unwrap();
    let server = support::start_demo_server(dir.path());
    let url = server.handle.url();
    let mut stocker = Stocker::enrol(&url);
    stocker.stock_up(SOCKS, 5, BIN_1);
    stocker.receive_into(LAYER, 4, TOTE);
    let socks = shop::name(SOCKS);
    let layer = shop::name(LAYER);

    let db = dir.path().join("terminal.sqlite3");
    let sync = support::sync_config(db.clone(), &url);
    support::sync_ok(&sync);
    let (ctx, window) = support::ui::open_window(&db);
    log_in_lead(&ctx, &window, &server.guide, Role::Putaway);

    // A bin scanned at the menu shows what it holds.
    scan(&window, BIN_1);
    assert_eq!(
        screen(&ctx),
        Screen::Stock,
        "{}",
        value(&window, "Feedback")
    );
    assert_eq!(value(&window, "Looked up"), BIN_1);
    tap(&window, sv("Menu"));

    // The stock screen: a bin's contents, and how old the terminal's view is.
    tap(&window, sv("Stock"));
    assert_eq!(screen(&ctx), Screen::Stock);
    assert!(
        !has(&window, sv("Move goods from here")),
        "nothing looked up yet"
    );
    scan(&window, BIN_1);
    assert_eq!(value(&window, "Looked up"), BIN_1);
    assert_eq!(quantity(&window, &socks), "5");
    assert_ne!(
        value(&window, "Age"),
        sv("Not synced with the server yet: only this terminal's own moves are shown."),
        "the terminal pulled before the look-up"
    );
    assert!(!has(&window, &format!("Saved on the device {socks}")));
    // An item: the places that hold it.
    scan(&window, &shop::barcode(SOCKS));
    assert_eq!(value(&window, "Looked up"), socks);
    assert_eq!(quantity(&window, BIN_1), "5");
    // Something that is no stock: said, nothing recorded.
    let before = last_seq(&ctx);
    scan(&window, "NO-SUCH-THING");
    assert!(
        has(&window, sv("Acknowledge")),
        "{}",
        value(&window, "Feedback")
    );
    tap(&window, sv("Acknowledge"));
    assert_eq!(last_seq(&ctx), before);

    // The tote at the dock, moved whole into a bin from the look-up.
    scan(&window, TOTE);
    assert_eq!(value(&window, "Looked up"), TOTE);
    tap(&window, sv("Move goods from here"));
    assert_eq!(screen(&ctx), Screen::Move, "{}", value(&window, "Feedback"));
    assert_eq!(value(&window, "In hand"), TOTE);
    scan(&window, "DOCK-1");
    assert!(
        has(&window, sv("Acknowledge")),
        "the tote is at the dock already"
    );
    tap(&window, sv("Acknowledge"));
    assert_eq!(last_seq(&ctx), before);
    scan(&window, BIN_2);
    assert_eq!(last_seq(&ctx), before + 1, "{}", value(&window, "Feedback"));
    assert!(value(&window, "Feedback").contains(BIN_2));

    // Part of the bin: two scans of the item, the keypad, then the bin they go to.
    scan(&window, BIN_1);
    assert_eq!(value(&window, "From"), BIN_1);
    scan(&window, &shop::barcode(SOCKS));
    scan(&window, &shop::barcode(SOCKS));
    assert_eq!(value(&window, "In hand"), format!("2 × {socks}"));
    // An item that is not in the bin: refused, the socks still in hand.
    scan(&window, &shop::barcode(LAYER));
    assert!(
        has(&window, sv("Acknowledge")),
        "{}",
        value(&window, "Feedback")
    );
    tap(&window, sv("Acknowledge"));
    tap(&window, sv("Qty"));
    for key in ["7", sv("Enter")] {
        tap(&window, key);
    }
    // More than the terminal knows in the bin: a warning, the move is still possible.
    assert_eq!(value(&window, "In hand"), format!("7 × {socks}"));
    assert!(!has(&window, sv("Acknowledge")));
    tap(&window, sv("Qty"));
    for key in ["3", sv("Enter")] {
        tap(&window, key);
    }
    scan(&window, BIN_2);
    assert_eq!(last_seq(&ctx), before + 2, "{}", value(&window, "Feedback"));
    assert_eq!(value(&window, "From"), BIN_1, "the bin still holds socks");

    // The look-up of the bin shows the moves saved on the device, before any sync.
    tap(&window, sv("Menu"));
    tap(&window, sv("Stock"));
    scan(&window, BIN_2);
    assert_eq!(quantity(&window, &socks), "3");
    assert_eq!(quantity(&window, &format!("{layer} · {TOTE}")), "4");
    assert!(has(&window, &format!("Saved on the device {socks}")));

    // After the sync the server has the goods where they went, and the look-up confirms them.
    synced(&window, &ctx, &sync);
    let stock = support::totals(&support::server_stock(&url, shop::MERCHANT));
    let at = |p: &str, l: &str| {
        stock
            .get(&(p.to_string(), l.to_string()))
            .copied()
            .unwrap_or(0)
    };
    assert_eq!(at(SOCKS, BIN_1), 2);
    assert_eq!(at(SOCKS, BIN_2), 3);
    assert_eq!(at(LAYER, BIN_2), 4);
    assert_eq!(at(LAYER, "DOCK-1"), 0);
    let in_tote = support::server_stock(&url, shop::MERCHANT)
        .into_iter()
        .filter(|r| r.location == BIN_2 && r.product_id == LAYER)
        .all(|r| r.container.as_deref() == Some(TOTE));
    assert!(in_tote, "a tote moved whole keeps its goods in it");
    assert_eq!(quantity(&window, &socks), "3");
    assert!(!has(&window, &format!("Saved on the device {socks}")));
}
