//! Headless UI test of packing at a 1280x800 station (`ui/views/packing_start.slint`,
//! `ui/views/packing.slint`) through the real Slint components, the
//! real SQLite file, the real server on 127.0.0.1:0 and a test printer (a TCP listener on
//! 127.0.0.1 that keeps what it is sent): orders picked to packing through the server's APIs
//! are pulled as pack orders; the demo's Swedish-speaking lead scans a tote and packs the order
//! into two parcels (a wrong item and one too many refused with nothing packed, box labels
//! scanned, one weight from the scale and one typed, the merchant's insert checked off), the
//! labels arrive from the server and print by themselves, and the server shows the order
//! shipped with two tracking numbers. An order packed while the server is down waits "awaiting
//! label" and prints by itself once the server is back; a job resumes after a restart of the
//! terminal core; a printer that does not answer shows why, and Reprint prints once it answers.
//! A scale on a serial line (a pseudo-terminal's slave named as `[station] scale` in the
//! configuration file, read by the real `ScaleReader` the terminal starts from it) weighs the
//! open parcel once its weight is stable, and the parcel is recorded with it, from the scale.

mod support;

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use laituri::i18n::{Lang, translate};
use laituri::station::PrinterHandle;
use laituri::store::LabelState;
use laituri::terminal::{CoreConfig, Screen};
use laituri::ui::{self, AppWindow, Ctx};
use laituri_protocol::{OrderStatus, Role, TaskKind};
use laituri_server::ServerHandle;
use laituri_station::printer::PrinterConfig;
use laituri_station::scale::{Reading, ScaleStatus};
use slint::ComponentHandle;
use support::orders::{self as shop, Stocker};
use support::ui::{has, last_seq, log_in_lead, scan, screen, sv, tap, value};

const SOCKS: &str = "KO-006";
const LAYER: &str = "KO-007";
const GIFT: &str = "KO-GIFT-01";
const PACKING: &str = "PACK-1";

/// Units packed so far, as the packing screen's controller says.
fn packed(ctx: &Ctx) -> i64 {
    let t = ctx.terminal.borrow();
    t.packing()
        .map(|p| p.view().lines.iter().map(|l| l.packed).sum())
        .unwrap_or(0)
}

/// A scan that must be refused with an error, packing and recording nothing.
fn refused(ctx: &Ctx, window: &AppWindow, code: &str) -> String {
    let (seq, units) = (last_seq(ctx), packed(ctx));
    scan(window, code);
    let said = value(window, "Feedback");
    assert!(has(window, sv("Acknowledge")), "{code} was taken: {said}");
    assert_eq!(last_seq(ctx), seq, "{code} recorded something: {said}");
    assert_eq!(packed(ctx), units, "{code} packed something: {said}");
    tap(window, sv("Acknowledge"));
    said
}

fn taken(window: &AppWindow, code: &str) {
    scan(window, code);
    assert!(
        !has(window, sv("Acknowledge")),
        "{code} was refused: {}",
        value(window, "Feedback")
    );
}

fn recorded(ctx: &Ctx) -> Vec<String> {
    ctx.terminal
        .borrow()
        .store()
        .events_after(0, 1000)
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect()
}

/// A label printer on 127.0.0.1: every connection's bytes, sent over the channel when the
/// terminal closes its side. It does not answer the status query (the terminal prints anyway).
fn test_printer(listener: TcpListener) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut bytes = Vec::new();
            let _ = conn.read_to_end(&mut bytes);
            if tx.send(bytes).is_err() {
                return;
            }
        }
    });
    rx
}

/// The window of a station whose printer is at `printer`, with the printer thread running; the
/// receiver hears every print the thread recorded.
fn station(
    db: &Path,
    printer: &str,
) -> (
    std::rc::Rc<Ctx>,
    AppWindow,
    PrinterHandle,
    mpsc::Receiver<()>,
) {
    let config = CoreConfig {
        printer: Some(printer.to_string()),
        ..CoreConfig::default()
    };
    let (ctx, window) = support::ui::open_window_with(db, config);
    window
        .window()
        .set_size(slint::LogicalSize::new(1280.0, 800.0));
    let (tx, printed) = mpsc::channel();
    let mut printer_config = PrinterConfig::new(printer);
    printer_config.status_timeout = Duration::from_millis(200);
    printer_config.connect_timeout = Duration::from_millis(500);
    let handle = PrinterHandle::start(db.to_path_buf(), printer_config, move || {
        let _ = tx.send(());
    })
    .unwrap();
    ctx.terminal.borrow_mut().set_printer_poke(handle.poker());
    (ctx, window, handle, printed)
}

/// Waits for the printer thread to record `n` prints, then shows them.
fn prints(window: &AppWindow, printed: &mpsc::Receiver<()>, n: usize) {
    for i in 0..n {
        printed
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("print {} of {n} was not recorded", i + 1));
    }
    ui::on_printed(window);
}

fn synced(window: &AppWindow, sync: &laituri::sync::SyncConfig) {
    let status = support::sync_ok(sync);
    ui::apply_status(window, &status);
    ui::on_sync_progress(window, &status);
}

/// Stock, an order of `lines` (worth `value`, so the shop's insert may come with it), released
/// and picked into `tote` at packing through the server's APIs.
fn order_at_packing(
    url: &str,
    reference: &str,
    lines: &[(&str, i64)],
    value: Option<i64>,
    tote: &str,
) -> laituri_protocol::Order {
    let mut stocker = Stocker::enrol(url);
    for (i, (product, units)) in lines.iter().enumerate() {
        stocker.stock_up(product, *units + 1, &format!("B-01-0{}-1", i + 1));
    }
    stocker.stock_up(GIFT, 2, "B-03-06-1");
    let order = shop::post_order_with(url, reference, lines, value, &["receipt"]);
    let run = shop::release(url, Some(1));
    assert_eq!(run.tasks, 1, "{run:?}");
    let task = shop::tasks(url)
        .into_iter()
        .find(|t| t.kind == TaskKind::Pick && t.orders.iter().any(|o| o.order_id == order.id))
        .expect("a pick task of the order");
    stocker.pick_to_packing(&task.task_id, tote, PACKING);
    assert_eq!(shop::order(url, order.id).status, OrderStatus::Picked);
    order
}

/// The parcels of the station's list, with their labels' states.
fn parcels(ctx: &Ctx) -> Vec<laituri::store::ParcelRow> {
    ctx.terminal.borrow().store().station_parcels(10).unwrap()
}

/// Packs a one-parcel order of socks (in its tote) to the finish: box, items, the receipt.
fn pack_socks(ctx: &Ctx, window: &AppWindow, tote: &str, units: i64) {
    tap(window, sv("Packing"));
    taken(window, tote);
    assert_eq!(
        screen(ctx),
        Screen::Packing,
        "{}",
        value(window, "Feedback")
    );
    taken(window, "BOX-S");
    for _ in 0..units {
        taken(window, &shop::barcode(SOCKS));
    }
    tap(window, "kvitto");
    tap(window, sv("Weight"));
    for d in ["5", "0", "0"] {
        tap(window, d);
    }
    tap(window, sv("Enter"));
    tap(window, sv("Finish"));
    assert!(
        ctx.terminal.borrow().packing().unwrap().is_finished(),
        "{}",
        value(window, "Feedback")
    );
}

#[test]
fn a_two_parcel_order_with_an_insert_is_packed_and_its_labels_print_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let server = support::start_demo_server(dir.path());
    let url = server.handle.url();
    let order = order_at_packing(
        &url,
        "K-5001",
        &[(SOCKS, 2), (LAYER, 1)],
        Some(6_000),
        "T-PACK-A",
    );

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let received = test_printer(listener);
    let db = dir.path().join("terminal.sqlite3");
    let sync = support::sync_config(db.clone(), &url);
    support::sync_ok(&sync);
    let (ctx, window, _printer, printed) = station(&db, &address);
    log_in_lead(&ctx, &window, &server.guide, Role::Packing);

    // The order waits at packing; its tote starts the job.
    tap(&window, sv("Packing"));
    assert_eq!(screen(&ctx), Screen::PackingStart);
    assert!(has(&window, "K-5001"));
    refused(&ctx, &window, "T-NO-SUCH-TOTE");
    taken(&window, "T-PACK-A");
    assert_eq!(
        screen(&ctx),
        Screen::Packing,
        "{}",
        value(&window, "Feedback")
    );
    assert_eq!(value(&window, "Order"), "K-5001");
    let gift = shop::name(GIFT);
    assert!(has(&window, &gift), "the insert is on the checklist");

    // Parcel 1: the small box, the socks; a wrong item and one too many pack nothing.
    taken(&window, "BOX-S");
    let wrong = refused(&ctx, &window, &shop::barcode("KO-001"));
    assert!(wrong.contains(&shop::name("KO-001")), "{wrong}");
    taken(&window, &shop::barcode(SOCKS));
    taken(&window, &shop::barcode(SOCKS));
    refused(&ctx, &window, &shop::barcode(SOCKS));
    assert_eq!(packed(&ctx), 2);
    // The scale's stable weight is the parcel's.
    ui::packing::on_scale(
        &window,
        ScaleStatus::Weight(Reading {
            grams: 912,
            stable: true,
        }),
    );
    assert!(
        value(&window, "Scale").contains("912"),
        "{}",
        value(&window, "Scale")
    );
    assert!(
        value(&window, "Weight").contains("912 g"),
        "{}",
        value(&window, "Weight")
    );
    let seq = last_seq(&ctx);
    tap(&window, sv("Close parcel"));
    assert_eq!(last_seq(&ctx), seq + 1, "{}", value(&window, "Feedback"));

    // Parcel 2: the base layer, the gift checked off by a tap, the receipt, a typed weight.
    assert!(
        value(&window, "Parcel").contains('2'),
        "{}",
        value(&window, "Parcel")
    );
    taken(&window, "BOX-S");
    taken(&window, &shop::barcode(LAYER));
    tap(&window, &gift);
    tap(&window, "kvitto");
    tap(&window, sv("Weight"));
    for d in ["1", "2", "0", "0"] {
        tap(&window, d);
    }
    tap(&window, sv("Enter"));
    assert!(
        value(&window, "Weight").contains("1,2 kg"),
        "{}",
        value(&window, "Weight")
    );
    tap(&window, sv("Finish"));
    assert!(
        ctx.terminal.borrow().packing().unwrap().is_finished(),
        "{}",
        value(&window, "Feedback")
    );
    assert!(has(&window, sv("Done")));
    assert_eq!(
        recorded(&ctx),
        ["parcel_packed", "parcel_packed", "packing_finished"]
    );
    assert!(ctx.terminal.borrow().store().open_job().unwrap().is_none());

    // The sync pushes the packing and brings the labels, which print by themselves.
    synced(&window, &sync);
    prints(&window, &printed, 2);
    let rows = parcels(&ctx);
    assert_eq!(rows.len(), 2);
    let mut tracking = Vec::new();
    for row in &rows {
        assert_eq!(row.state, LabelState::Printed, "{row:?}");
        let number = row.tracking_number.clone().expect("a tracking number");
        assert!(!row.has_png, "the label's picture is deleted once printed");
        assert!(
            ctx.terminal
                .borrow()
                .store()
                .label_png(&row.order_id, row.number)
                .unwrap()
                .is_none()
        );
        tracking.push(number);
    }
    let zpls: Vec<String> = (0..2)
        .map(|_| {
            String::from_utf8_lossy(&received.recv_timeout(Duration::from_secs(5)).unwrap())
                .to_string()
        })
        .collect();
    for number in &tracking {
        assert!(
            zpls.iter()
                .any(|z| z.contains("^XA") && z.contains(number.as_str())),
            "{number} not printed"
        );
    }

    // The server: shipped, two parcels with the tracking numbers printed.
    let shipped = shop::order(&url, order.id);
    assert_eq!(
        shipped.status,
        OrderStatus::Shipped,
        "{:?}",
        shipped.history
    );
    let mut on_server: Vec<String> = shipped
        .parcels
        .iter()
        .map(|p| p.tracking_number.clone().unwrap_or_default())
        .collect();
    on_server.sort();
    tracking.sort();
    assert_eq!(on_server, tracking);
    assert_eq!(shop::stock_at(&url, SOCKS, PACKING, Some("T-PACK-A")), 0);

    // The station's list shows the parcels printed, each with Reprint.
    tap(&window, sv("Done"));
    tap(&window, sv("Packing"));
    assert!(value(&window, "Label K-5001 · 1").contains(sv("label printed")));
    assert!(has(&window, &format!("{} K-5001 · 2", sv("Reprint"))));
}

#[test]
fn an_order_packed_with_the_server_down_awaits_its_label_and_prints_once_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let (config, guide, url) = support::demo_on_a_fixed_port(&dir.path().join("server.sqlite3"));
    let server = ServerHandle::start(config.clone()).unwrap();
    order_at_packing(&url, "K-5002", &[(SOCKS, 1)], None, "T-PACK-B");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let received = test_printer(listener);
    let db = dir.path().join("terminal.sqlite3");
    let sync = support::sync_config(db.clone(), &url);
    support::sync_ok(&sync);
    let (ctx, window, _printer, printed) = station(&db, &address);
    log_in_lead(&ctx, &window, &guide, Role::Packing);
    server.stop();

    pack_socks(&ctx, &window, "T-PACK-B", 1);
    let status = laituri::sync::sync_once(&sync);
    assert!(!status.online);
    ui::apply_status(&window, &status);
    ui::on_sync_progress(&window, &status);
    tap(&window, sv("Done"));
    tap(&window, sv("Packing"));
    let state = value(&window, "Label K-5002 · 1");
    assert!(
        state.contains(translate(
            Lang::Sv,
            "awaiting label: it comes by itself when the server is reached"
        )),
        "{state}"
    );
    assert_eq!(parcels(&ctx)[0].state, LabelState::Awaiting);
    assert!(received.try_recv().is_err(), "nothing printed offline");

    // The server is back: the next round pushes, the label arrives and prints by itself.
    let server = ServerHandle::start(config).unwrap();
    synced(&window, &sync);
    prints(&window, &printed, 1);
    assert_eq!(parcels(&ctx)[0].state, LabelState::Printed);
    let zpl = String::from_utf8_lossy(&received.recv_timeout(Duration::from_secs(5)).unwrap())
        .to_string();
    let tracking = parcels(&ctx)[0].tracking_number.clone().unwrap();
    assert!(zpl.contains(&tracking), "{zpl}");
    assert!(value(&window, "Label K-5002 · 1").contains(sv("label printed")));
    server.stop();
}

#[test]
fn a_packing_job_resumes_after_the_terminal_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let server = support::start_demo_server(dir.path());
    let url = server.handle.url();
    order_at_packing(&url, "K-5003", &[(SOCKS, 2)], None, "T-PACK-C");
    let db = dir.path().join("terminal.sqlite3");
    let sync = support::sync_config(db.clone(), &url);
    support::sync_ok(&sync);
    {
        let (ctx, window) = support::ui::open_window(&db);
        log_in_lead(&ctx, &window, &server.guide, Role::Packing);
        // The tote scanned on the menu opens its packing (not a putaway of the tote).
        taken(&window, "T-PACK-C");
        assert_eq!(
            screen(&ctx),
            Screen::Packing,
            "{}",
            value(&window, "Feedback")
        );
        taken(&window, "BOX-S");
        taken(&window, &shop::barcode(SOCKS));
        tap(&window, "kvitto");
        assert_eq!(packed(&ctx), 1);
        // The terminal stops here (a battery, a crash): nothing of this was an event yet.
        assert_eq!(last_seq(&ctx), 0);
    }
    let (ctx, window) = support::ui::open_window(&db);
    log_in_lead(&ctx, &window, &server.guide, Role::Packing);
    assert!(ctx.terminal.borrow().packing().is_some(), "the job resumed");
    tap(&window, sv("Packing"));
    assert_eq!(screen(&ctx), Screen::Packing);
    let view = ctx.terminal.borrow().packing().unwrap().view();
    assert_eq!((view.open_units, view.units_left), (1, 1));
    assert!(
        view.checklist.iter().all(|c| c.done),
        "the receipt stays checked off"
    );
    // The box is no fact: it is asked for again.
    assert!(view.chosen_box.is_none());
    taken(&window, "BOX-S");
    taken(&window, &shop::barcode(SOCKS));
    refused(&ctx, &window, &shop::barcode(SOCKS));
    tap(&window, sv("Weight"));
    for d in ["4", "0", "0"] {
        tap(&window, d);
    }
    tap(&window, sv("Enter"));
    tap(&window, sv("Finish"));
    assert_eq!(recorded(&ctx), ["parcel_packed", "packing_finished"]);
    synced(&window, &sync);
    let rows = parcels(&ctx);
    assert_eq!(rows.len(), 1);
    // No printer at this station: the label is shown until the packer confirms it.
    assert_eq!(rows[0].state, LabelState::New);
    assert!(
        has(&window, "Label preview"),
        "{}",
        value(&window, "Feedback")
    );
    tap(&window, sv("Label handled"));
    let rows = parcels(&ctx);
    assert_eq!(rows[0].state, LabelState::Handled);
    assert!(
        ctx.terminal
            .borrow()
            .store()
            .label_png(&rows[0].order_id, 1)
            .unwrap()
            .is_none()
    );
    assert_eq!(
        ctx.terminal
            .borrow()
            .store()
            .counts()
            .unwrap()
            .open_exceptions,
        0
    );
}

#[test]
fn a_printer_that_does_not_answer_shows_why_and_reprint_prints_once_it_does() {
    let dir = tempfile::tempdir().unwrap();
    let server = support::start_demo_server(dir.path());
    let url = server.handle.url();
    order_at_packing(&url, "K-5004", &[(SOCKS, 1)], None, "T-PACK-D");
    // A port nothing listens on, yet.
    let address = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let db = dir.path().join("terminal.sqlite3");
    let sync = support::sync_config(db.clone(), &url);
    support::sync_ok(&sync);
    let (ctx, window, _printer, printed) = station(&db, &address.to_string());
    log_in_lead(&ctx, &window, &server.guide, Role::Packing);
    pack_socks(&ctx, &window, "T-PACK-D", 1);
    synced(&window, &sync);
    prints(&window, &printed, 1);
    assert!(
        matches!(&parcels(&ctx)[0].state, LabelState::Failed { code, .. } if code == "not_answering")
    );
    tap(&window, sv("Done"));
    tap(&window, sv("Packing"));
    let said = value(&window, "Label K-5004 · 1");
    assert!(
        said.contains(&address.to_string()) && said.contains(sv("Reprint")),
        "{said}"
    );
    assert!(
        ctx.terminal
            .borrow()
            .store()
            .labels_to_print(10)
            .unwrap()
            .is_empty()
    );

    // The printer is switched on: Reprint prints the label the station still holds.
    let received = test_printer(TcpListener::bind(address).unwrap());
    tap(&window, &format!("{} K-5004 · 1", sv("Reprint")));
    prints(&window, &printed, 1);
    assert_eq!(parcels(&ctx)[0].state, LabelState::Printed);
    let zpl = String::from_utf8_lossy(&received.recv_timeout(Duration::from_secs(5)).unwrap())
        .to_string();
    assert!(
        zpl.contains(&parcels(&ctx)[0].tracking_number.clone().unwrap()),
        "{zpl}"
    );
}

/// A pseudo-terminal standing in for the station's scale: the master end is the scale, the
/// slave's path is the serial port the configuration names.
fn fake_scale() -> (std::fs::File, std::path::PathBuf) {
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    use std::os::unix::ffi::OsStringExt;
    let master =
        openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).expect("openpt");
    grantpt(&master).expect("grantpt");
    unlockpt(&master).expect("unlockpt");
    let name = ptsname(&master, Vec::new()).expect("ptsname");
    let path = std::ffi::OsString::from_vec(name.into_bytes()).into();
    (std::fs::File::from(master), path)
}

/// The scale in continuous output: sends the line last given over `lines` every 40 ms, on a
/// thread of its own, until the sender is dropped.
fn scale_sending(mut master: std::fs::File) -> mpsc::Sender<&'static [u8]> {
    use std::io::Write;
    let (tx, lines) = mpsc::channel::<&'static [u8]>();
    std::thread::spawn(move || {
        let mut line: Option<&[u8]> = None;
        loop {
            match lines.recv_timeout(Duration::from_millis(40)) {
                Ok(next) => line = Some(next),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
            if let Some(l) = line
                && master.write_all(l).is_err()
            {
                return;
            }
        }
    });
    tx
}

/// Hands what the scale's reader reported to the window, as the app's event loop does, until
/// `done` holds; false when 20 s pass first.
fn pump_scale(
    window: &AppWindow,
    statuses: &mpsc::Receiver<ScaleStatus>,
    done: impl Fn() -> bool,
) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        if let Ok(status) = statuses.recv_timeout(Duration::from_millis(50)) {
            ui::packing::on_scale(window, status);
        }
        if done() {
            return true;
        }
    }
    false
}

#[test]
fn the_scale_on_a_serial_line_weighs_the_open_parcel_once_it_is_stable() {
    use laituri_domain::packing::WeightFrom;
    use laituri_protocol::{EventBody, WeightSource};

    let dir = tempfile::tempdir().unwrap();
    let server = support::start_demo_server(dir.path());
    let url = server.handle.url();
    let order = order_at_packing(&url, "K-5005", &[(SOCKS, 2)], None, "T-PACK-E");
    let db = dir.path().join("terminal.sqlite3");
    let sync = support::sync_config(db.clone(), &url);
    support::sync_ok(&sync);

    // The station's configuration file names the scale's port, as a kiosk's does; the terminal
    // starts the scale's reader from it, as `laituri run` does.
    let (master, port) = fake_scale();
    let config_file = dir.path().join("laituri.toml");
    std::fs::write(
        &config_file,
        format!(
            "mute = true\n\n[station]\nscale = \"{}\"\nscale_baud = 9600\n",
            port.display()
        ),
    )
    .unwrap();
    let config = laituri::config::Config::load(&config_file).unwrap();
    let (ctx, window) = support::ui::open_window_with(&db, config.core());
    window
        .window()
        .set_size(slint::LogicalSize::new(1280.0, 800.0));
    let (tx, statuses) = mpsc::channel();
    let _reader = laituri::app::start_scale(&config.station, move |status| {
        let _ = tx.send(status);
    })
    .unwrap()
    .expect("the configured scale is read");
    let scale = scale_sending(master);

    log_in_lead(&ctx, &window, &server.guide, Role::Packing);
    tap(&window, sv("Packing"));
    taken(&window, "T-PACK-E");
    taken(&window, "BOX-S");
    taken(&window, &shop::barcode(SOCKS));
    taken(&window, &shop::barcode(SOCKS));
    let weight = |ctx: &Ctx| ctx.terminal.borrow().packing().unwrap().view().weight;
    assert!(
        matches!(weight(&ctx), Some((_, WeightFrom::Estimate))),
        "{:?}",
        weight(&ctx)
    );

    // The parcel is put on the scale: it settles, and while it moves its weight is shown, not
    // taken.
    scale.send(b"US,GS,+0000.905kg\r\n").unwrap();
    assert!(
        pump_scale(&window, &statuses, || value(&window, "Scale") == "905 g …"),
        "the scale shows {:?}",
        value(&window, "Scale")
    );
    assert!(
        matches!(weight(&ctx), Some((_, WeightFrom::Estimate))),
        "an unstable weight was taken: {:?}",
        weight(&ctx)
    );

    // Stable: the open parcel weighs what the scale says, from the scale.
    scale.send(b"ST,GS,+0000.912kg\r\n").unwrap();
    assert!(
        pump_scale(&window, &statuses, || weight(&ctx)
            == Some((912, WeightFrom::Scale))),
        "the parcel weighs {:?}, the scale shows {:?}",
        weight(&ctx),
        value(&window, "Scale")
    );
    assert_eq!(value(&window, "Scale"), "912 g");
    let shown = value(&window, "Weight");
    assert!(
        shown.contains("912 g") && shown.contains(translate(Lang::Sv, "from the scale")),
        "{shown}"
    );

    // The parcel recorded carries the scale's weight, on the device and on the server.
    tap(&window, "kvitto");
    tap(&window, sv("Finish"));
    assert!(
        ctx.terminal.borrow().packing().unwrap().is_finished(),
        "{}",
        value(&window, "Feedback")
    );
    let events = ctx
        .terminal
        .borrow()
        .store()
        .events_of_type("parcel_packed", 1, 10, false)
        .unwrap();
    assert_eq!(events.len(), 1);
    let EventBody::ParcelPacked { parcel, .. } = &events[0].1 else {
        panic!("{:?}", events[0].1)
    };
    assert_eq!(
        (parcel.weight_g, parcel.weight_source),
        (912, WeightSource::Scale)
    );
    synced(&window, &sync);
    let shipped = shop::order(&url, order.id);
    let parcels: Vec<(u32, WeightSource)> = shipped
        .parcels
        .iter()
        .map(|p| (p.weight_g, p.weight_source))
        .collect();
    assert_eq!(
        parcels,
        [(912, WeightSource::Scale)],
        "{:?}",
        shipped.history
    );
}
