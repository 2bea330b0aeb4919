//! Smoke test of the real binary in a real X window (Xvfb): scans are typed the way a
//! keyboard-wedge scanner types them (xdotool: the characters, then Enter), and the receipt must
//! reach the real server. Needs `Xvfb` and `xdotool` (scripts/setup-debian.sh installs them);
//! without them the test fails, it does not skip.

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
