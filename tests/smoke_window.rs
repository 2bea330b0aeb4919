//! Smoke test of the real binary in a real X window (Xvfb): scans are typed the way a
//! keyboard-wedge scanner types them (xdotool: the characters, then Enter), and the receipt must
//! reach the real server. At a packing station (the window filling a 1280x800 screen, a label
//! printer on loopback named in the configuration file) the packer logs in with badge and PIN,
//! packs an order picked to packing through the server's APIs by scanning its tote, the box
//! label and the items, taps Finish (found on screen by its colour, clicked with the pointer),
//! and the label the server made prints with the tracking number of the shipped order. Screens
//! are told apart by what the display shows (ImageMagick's `import`), steps by what the
//! terminal's store recorded. Needs `Xvfb`, `xdotool` and `import` (scripts/setup-debian.sh
//! installs them); without them the test fails, it does not skip.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::x11::{Killed, need, wait_for, xvfb};

fn xdotool(display: &str, args: &[&str]) -> String {
    let out = Command::new("xdotool")
        .args(args)
        .env("DISPLAY", display)
        .output()
        .expect("xdotool runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The real binary (`laituri run`) on `display` with its data in `data`, and its window's id
/// once the window is up.
fn start_terminal(display: &str, data: &Path) -> (Killed, String) {
    let app = Killed(
        Command::new(env!("CARGO_BIN_EXE_laituri"))
            .args(["--data-dir", data.to_str().unwrap(), "run"])
            .env("DISPLAY", display)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("laituri starts"),
    );
    let mut window = String::new();
    wait_for("the Laituri window", Duration::from_secs(60), || {
        window = xdotool(display, &["search", "--name", "^Laituri$"]);
        !window.is_empty()
    });
    (app, window.lines().next().unwrap().to_string())
}

#[test]
fn a_receipt_scanned_into_the_real_window_reaches_the_server() {
    need("xdotool");
    let dir = tempfile::tempdir().unwrap();
    let server = support::start_demo_server(dir.path());
    let url = server.handle.url();

    let (display, _xvfb) = xvfb("800x900x24");

    let data = dir.path().join("terminal");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("laituri.toml"),
        format!(
            "server_url = \"{url}\"\nenrolment_code = \"{}\"\ndevice_name = \"smoke\"\nmute = true\n",
            laituri_server::demo::ENROLMENT_CODE
        ),
    )
    .unwrap();
    let (_app, window) = start_terminal(&display, &data);

    // The window is up; next the terminal enrols and pulls the demo warehouse.
    let db = data.join("laituri.sqlite3");
    wait_for(
        "enrolment and the first pull",
        Duration::from_secs(60),
        || {
            rusqlite::Connection::open(&db)
                .and_then(|c| {
                    // The pull applies its pages in slices: wait for the last kind to arrive.
                    c.query_row(
                        "SELECT (SELECT count(*) FROM operators) * (SELECT count(*) FROM notices)",
                        [],
                        |r| r.get::<_, i64>(0),
                    )
                })
                .map(|n| n > 0)
                .unwrap_or(false)
        },
    );
    xdotool(&display, &["windowfocus", "--sync", &window]);

    let type_scan = |code: &str| {
        xdotool(
            &display,
            &["type", "--delay", "8", "--window", &window, code],
        );
        xdotool(&display, &["key", "--window", &window, "Return"]);
    };
    let op = server
        .guide
        .operators
        .iter()
        .find(|o| o.pin.is_none() && o.roles.contains(&laituri_protocol::Role::Receiving))
        .expect("a receiving operator without PIN");
    let notice = &server.guide.notices[0];
    let item = notice
        .scans
        .iter()
        .find(|s| !s.code.starts_with('('))
        .expect("a plain GTIN on the first notice");

    type_scan(&op.badge);
    type_scan(&notice.reference); // from the menu, the notice reference starts receiving
    type_scan(&server.guide.totes[0]);
    type_scan(&item.code);
    type_scan(&item.code);

    let units = 2 * (item.units / i64::from(item.times));
    let shot = std::env::var("LAITURI_SMOKE_SCREENSHOT").ok();
    let screenshot = |path: &str| {
        let _ = Command::new("import")
            .args(["-window", "root", path])
            .env("DISPLAY", &display)
            .status();
    };
    if let Some(path) = &shot {
        std::thread::sleep(Duration::from_millis(300));
        screenshot(path);
    }
    wait_for("the receipt on the server", Duration::from_secs(60), || {
        support::server_stock(&url, &notice.merchant_id)
            .iter()
            .filter(|r| r.product_id == item.product_id && r.location == "DOCK-1")
            .map(|r| r.quantity)
            .sum::<i64>()
            == units
    });
}

#[test]
fn a_station_window_fills_the_screen() {
    need("xdotool");
    let dir = tempfile::tempdir().unwrap();
    let (display, _xvfb) = xvfb("1280x800x24");
    // The kiosk's configuration file asks for it; no server is needed to open the window.
    let data = dir.path().join("station");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("laituri.toml"),
        "mute = true\nfullscreen = true\n",
    )
    .unwrap();
    let (_app, window) = start_terminal(&display, &data);
    // There is no window manager under Xvfb: the terminal sizes itself to the monitor.
    wait_for(
        "the window to fill the 1280x800 screen",
        Duration::from_secs(30),
        || xdotool(&display, &["getwindowgeometry", &window]).contains("Geometry: 1280x800"),
    );
}

/// What the X display shows: its pixels as RGB, grabbed whole by ImageMagick's `import`.
struct Shot {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Shot {
    fn grab(display: &str, (width, height): (usize, usize)) -> Shot {
        let out = Command::new("import")
            .args(["-window", "root", "-depth", "8", "rgb:-"])
            .env("DISPLAY", display)
            .output()
            .expect("import runs");
        assert!(
            out.status.success() && out.stdout.len() == width * height * 3,
            "import grabbed {} bytes: {}",
            out.stdout.len(),
            String::from_utf8_lossy(&out.stderr)
        );
        Shot {
            width,
            height,
            rgb: out.stdout,
        }
    }

    fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// How many pixels differ from `other`'s.
    fn changed_from(&self, other: &Shot) -> usize {
        self.rgb
            .chunks(3)
            .zip(other.rgb.chunks(3))
            .filter(|(a, b)| a != b)
            .count()
    }

    /// The middle of the widest run of `colour` on one row in the lower half of the screen,
    /// if one is at least a button wide: where a button of that tint is.
    fn button(&self, colour: [u8; 3]) -> Option<(usize, usize)> {
        let mut best: Option<(usize, usize, usize)> = None;
        for y in self.height / 2..self.height {
            let mut run = 0;
            for x in 0..self.width {
                if self.pixel(x, y) == colour {
                    run += 1;
                    if best.is_none_or(|(w, ..)| run > w) {
                        best = Some((run, x + 1 - run / 2, y));
                    }
                } else {
                    run = 0;
                }
            }
        }
        best.filter(|(w, ..)| *w >= 100).map(|(_, x, y)| (x, y))
    }
}

/// Waits until the screen differs from `before` in more than a twentieth of its pixels (another
/// screen, not a ticking line), then for it to hold still.
fn wait_for_another_screen(display: &str, size: (usize, usize), before: &Shot, what: &str) {
    let enough = size.0 * size.1 / 20;
    wait_for(what, Duration::from_secs(30), || {
        Shot::grab(display, size).changed_from(before) > enough
    });
    std::thread::sleep(Duration::from_millis(200));
}

/// A label printer on 127.0.0.1: every connection's bytes, sent over the channel when the
/// terminal closes its side. It does not answer the status query (the terminal prints anyway).
fn test_printer(listener: std::net::TcpListener) -> std::sync::mpsc::Receiver<Vec<u8>> {
    use std::io::Read;
    let (tx, rx) = std::sync::mpsc::channel();
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

/// A count from the terminal's store (0 while it cannot be read).
fn count(db: &Path, sql: &str) -> i64 {
    rusqlite::Connection::open(db)
        .and_then(|c| c.query_row(sql, [], |r| r.get::<_, i64>(0)))
        .unwrap_or(0)
}

#[test]
fn an_order_is_packed_in_the_real_station_window_and_its_label_prints() {
    use support::orders::{self as shop, Stocker};
    need("xdotool");
    need("import");
    let dir = tempfile::tempdir().unwrap();
    let server = support::start_demo_server(dir.path());
    let url = server.handle.url();

    // An order ready to pack at PACK-1: stock, the shop's order, released, picked and dropped by
    // a device of its own.
    let (socks, tote) = ("KO-006", "T-PACK-W");
    let mut stocker = Stocker::enrol(&url);
    stocker.stock_up(socks, 3, "B-01-01-1");
    let order = shop::post_order(&url, "K-7101", &[(socks, 2)]);
    assert_eq!(shop::release(&url, Some(1)).tasks, 1);
    let task = shop::tasks(&url)
        .into_iter()
        .find(|t| t.orders.iter().any(|o| o.order_id == order.id))
        .expect("a pick task of the order");
    stocker.pick_to_packing(&task.task_id, tote, "PACK-1");

    // The station: a 1280x800 screen, the window filling it, a label printer on loopback.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let printer = listener.local_addr().unwrap().to_string();
    let received = test_printer(listener);
    let size = (1280, 800);
    let (display, _xvfb) = xvfb("1280x800x24");
    let data = dir.path().join("station");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("laituri.toml"),
        format!(
            "server_url = \"{url}\"\nenrolment_code = \"{}\"\ndevice_name = \"station\"\n\
             mute = true\nfullscreen = true\n\n[station]\nprinter = \"{printer}\"\n",
            laituri_server::demo::ENROLMENT_CODE
        ),
    )
    .unwrap();
    let (_app, window) = start_terminal(&display, &data);
    wait_for(
        "the window to fill the screen",
        Duration::from_secs(30),
        || xdotool(&display, &["getwindowgeometry", &window]).contains("Geometry: 1280x800"),
    );
    let db = data.join("laituri.sqlite3");
    wait_for(
        "enrolment and the order ready to pack",
        Duration::from_secs(60),
        || {
            count(
                &db,
                "SELECT (SELECT count(*) FROM operators) * (SELECT count(*) FROM pack_orders \
                 WHERE reference = 'K-7101')",
            ) > 0
        },
    );
    xdotool(&display, &["windowfocus", "--sync", &window]);
    let type_scan = |code: &str| {
        xdotool(
            &display,
            &["type", "--delay", "8", "--window", &window, code],
        );
        xdotool(&display, &["key", "--window", &window, "Return"]);
    };

    // The packer logs in: the badge, then the PIN on the keys.
    let packer = server
        .guide
        .operators
        .iter()
        .find(|o| o.roles.contains(&laituri_protocol::Role::Packing))
        .expect("the demo has a packer");
    let login = Shot::grab(&display, size);
    type_scan(&packer.badge);
    if let Some(pin) = &packer.pin {
        wait_for_another_screen(&display, size, &login, "the PIN screen");
        let asked = Shot::grab(&display, size);
        type_scan(pin);
        wait_for_another_screen(&display, size, &asked, "the menu after the PIN");
    } else {
        wait_for_another_screen(&display, size, &login, "the menu");
    }
    assert_eq!(
        count(&db, "SELECT count(*) FROM pin_failures"),
        0,
        "the PIN was taken as right"
    );

    // The tote from the menu opens the order's packing; then the box label and the items.
    type_scan(tote);
    wait_for("the packing job to open", Duration::from_secs(30), || {
        count(&db, "SELECT count(*) FROM open_job WHERE flow = 'packing'") == 1
    });
    type_scan("BOX-S");
    let item = shop::barcode(socks);
    type_scan(&item);
    wait_for("the first unit packed", Duration::from_secs(30), || {
        count(&db, "SELECT count(*) FROM pack_journal") == 1
    });
    // Mid-order: what the packer sees (LAITURI_SMOKE_SCREENSHOT=<file.png> keeps a copy).
    std::thread::sleep(Duration::from_millis(300));
    if let Ok(path) = std::env::var("LAITURI_SMOKE_SCREENSHOT") {
        let _ = Command::new("import")
            .args(["-window", "root", &path])
            .env("DISPLAY", &display)
            .status();
    }
    type_scan(&item);
    wait_for("the second unit packed", Duration::from_secs(30), || {
        count(&db, "SELECT count(*) FROM pack_journal") == 2
    });
    std::thread::sleep(Duration::from_millis(300));

    // Finish, tapped: the green button. The weight is the estimate (no scale at this station).
    let screen = Shot::grab(&display, size);
    let (x, y) = screen
        .button([0x1f, 0x9d, 0x55])
        .expect("the green Finish button on the packing screen");
    xdotool(
        &display,
        &["mousemove", "--sync", &x.to_string(), &y.to_string()],
    );
    xdotool(&display, &["click", "1"]);
    wait_for("the order finished", Duration::from_secs(30), || {
        count(&db, "SELECT count(*) FROM shipments") == 1
    });

    // The label comes from the server and prints itself, with the tracking number the server
    // shows on the shipped order.
    let zpl = received
        .recv_timeout(Duration::from_secs(60))
        .expect("the label reaches the printer");
    let zpl = String::from_utf8_lossy(&zpl).to_string();
    wait_for(
        "the order shipped on the server",
        Duration::from_secs(30),
        || shop::order(&url, order.id).status == laituri_protocol::OrderStatus::Shipped,
    );
    let shipped = shop::order(&url, order.id);
    assert_eq!(shipped.parcels.len(), 1, "{:?}", shipped.parcels);
    let tracking = shipped.parcels[0]
        .tracking_number
        .clone()
        .expect("a tracking number");
    assert!(zpl.contains("^XA"), "not a ZPL label");
    assert!(zpl.contains(&tracking), "{tracking} not on the label");
    assert_eq!(shop::stock_at(&url, socks, "PACK-1", Some(tote)), 0);
    wait_for("the label marked printed", Duration::from_secs(30), || {
        count(
            &db,
            "SELECT count(*) FROM parcel_labels WHERE state = 'printed' AND zpl IS NULL",
        ) == 1
    });
}
