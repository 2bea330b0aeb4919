//! `laituri demo`: a terminal and an embedded central server with a seeded demo warehouse.
//!
//! The server runs in this process on a free loopback port with its own database under the demo
//! directory; the terminal enrols with the demo code and pulls the warehouse like any terminal.
//! A barcode sheet (HTML with SVG barcodes) lets a person with a real scanner scan the screen or a
//! printout. Both databases persist between runs (`--reset` starts over).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use laituri_server::demo::DemoGuide;
use laituri_server::{ServerConfig, ServerHandle};

use crate::config::{Config, Paths};
use crate::labels::{code128_svg, ean_svg, gs1_128_svg, html_escape};
use crate::terminal::system_today;

/// Where the demo keeps its files: `<data dir>/demo`.
pub fn demo_dir(paths: &Paths) -> PathBuf {
    paths.data_dir.join("demo")
}

pub struct DemoOptions {
    pub mute: bool,
    pub reset: bool,
    /// Start the server and write the sheet, but do not open the window (for scripts and tests).
    pub no_window: bool,
    /// Take the demo server down for this long, every time it has been up this long, so a
    /// newcomer sees the terminal work offline and catch up, knowing no ports or paths.
    pub outage: Option<Duration>,
}

/// The demo server, taken down and brought back on the same address on a cycle.
pub struct Outages {
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<Option<ServerHandle>>>,
}

impl Outages {
    /// Runs `server` up for `up`, then down for `down`, over and over, until [`Outages::stop`].
    /// Each change is printed, so the person at the demo knows what the header will show.
    pub fn start(
        server: ServerHandle,
        config: ServerConfig,
        up: Duration,
        down: Duration,
    ) -> Outages {
        let stopping = Arc::new(AtomicBool::new(false));
        let flag = stopping.clone();
        let mut config = config;
        config.bind = server.addr();
        let thread = std::thread::spawn(move || {
            let wait = |d: Duration| {
                let until = Instant::now() + d;
                while Instant::now() < until {
                    if flag.load(Ordering::SeqCst) {
                        return false;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                true
            };
            let mut server = Some(server);
            loop {
                if !wait(up) {
                    return server;
                }
                if let Some(s) = server.take() {
                    s.stop();
                }
                println!(
                    "Demo: the central server is down for {} s: scan on; the header counts what waits.",
                    down.as_secs()
                );
                if !wait(down) {
                    return None;
                }
                match ServerHandle::start(config.clone()) {
                    Ok(s) => {
                        println!("Demo: the central server is back: what waited is sent now.");
                        server = Some(s);
                    }
                    Err(e) => {
                        eprintln!("Demo: the central server could not come back: {e:#}");
                        return None;
                    }
                }
            }
        });
        Outages {
            stopping,
            thread: Some(thread),
        }
    }

    /// Ends the cycle; the server is stopped if it is up.
    pub fn stop(mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take()
            && let Ok(Some(server)) = t.join()
        {
            server.stop();
        }
    }
}

pub fn run(paths: &Paths, opts: &DemoOptions) -> Result<()> {
    let dir = demo_dir(paths);
    if opts.reset && dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;

    let config = ServerConfig::local(dir.join("server.sqlite3"));
    let guide = laituri_server::demo::seed_with_orders(&config, system_today())
        .context("seeding the demo")?;
    let server = ServerHandle::start(config.clone()).context("starting the demo server")?;
    let sheet = dir.join("demo-barcodes.html");
    std::fs::write(&sheet, barcode_sheet(&guide))
        .with_context(|| format!("writing {}", sheet.display()))?;

    println!("{guide}");
    println!(
        "Barcodes to scan from the screen or a printout: {}",
        sheet.display()
    );
    println!(
        "Central server: {} (integration API key: {})",
        server.url(),
        laituri_server::demo::ADMIN_KEY
    );
    println!("Typing works too: type a code into the window and press Enter, as a scanner does.");
    match opts.outage {
        Some(d) => println!(
            "Offline: the central server goes down for {} s every {} s; scan on and watch the header.",
            d.as_secs(),
            d.as_secs()
        ),
        None => println!(
            "Offline: run `laituri demo --outage 30` to take the server down for 30 s every 30 s."
        ),
    }

    let terminal_paths = Paths {
        data_dir: dir.join("terminal"),
        config_file: dir.join("terminal").join("laituri.toml"),
    };
    let terminal_config = Config {
        server_url: server.url(),
        enrolment_code: Some(guide.enrolment_code.clone()),
        device_name: "demo terminal".into(),
        mute: opts.mute,
        ..Config::default()
    };
    let running = match opts.outage {
        Some(d) => Err(Outages::start(server, config, d, d)),
        None => Ok(server),
    };
    let result = if opts.no_window {
        Ok(())
    } else {
        crate::app::run(&terminal_paths, &terminal_config)
    };
    match running {
        Ok(server) => server.stop(),
        Err(outages) => outages.stop(),
    }
    result
}

fn svg_or_note(svg: Result<String, crate::labels::LabelError>) -> String {
    svg.unwrap_or_else(|e| format!("<p class=err>{}</p>", html_escape(&e.to_string())))
}

/// One barcode with its caption.
fn cell(out: &mut String, svg: String, caption: &str, note: &str) {
    let _ = write!(
        out,
        "<figure>{svg}<figcaption><b>{}</b><br>{}</figcaption></figure>",
        html_escape(caption),
        html_escape(note)
    );
}

/// The demo's barcodes as a printable HTML page: badges, notices, items, totes, bins.
pub fn barcode_sheet(guide: &DemoGuide) -> String {
    let mut out = String::from(
        "<!doctype html><meta charset=utf-8><title>Laituri demo barcodes</title>\
         <style>body{font-family:sans-serif;margin:2em}figure{display:inline-block;margin:1em;\
         text-align:center;vertical-align:top}svg{max-width:360px;height:auto}\
         h2{page-break-before:auto}.err{color:#b00}</style>\
         <h1>Laituri demo barcodes</h1>",
    );
    let _ = write!(
        out,
        "<p>{} &middot; dates relative to {}</p><h2>Badges</h2>",
        html_escape(&guide.warehouse_name),
        guide.today
    );
    for o in &guide.operators {
        let pin = o
            .pin
            .as_deref()
            .map(|p| format!("PIN {p}"))
            .unwrap_or_default();
        cell(
            &mut out,
            svg_or_note(code128_svg(&o.badge)),
            &o.badge,
            &format!("{} {pin}", o.name),
        );
    }
    for n in &guide.notices {
        let _ = write!(
            out,
            "<h2>{} &middot; {}</h2><p>{}</p>",
            html_escape(&n.reference),
            html_escape(&n.merchant_name),
            html_escape(&n.story)
        );
        cell(
            &mut out,
            svg_or_note(code128_svg(&n.reference)),
            &n.reference,
            "notice reference",
        );
        for sscc in &n.ssccs {
            cell(
                &mut out,
                svg_or_note(gs1_128_svg(&format!("(00){sscc}"))),
                &format!("(00){sscc}"),
                "pallet SSCC",
            );
        }
        for s in &n.scans {
            let svg = if s.code.starts_with('(') {
                gs1_128_svg(&s.code)
            } else {
                ean_svg(&s.code)
            };
            let times = if s.times == 1 {
                "scan once".to_string()
            } else {
                format!("scan {} times", s.times)
            };
            cell(
                &mut out,
                svg_or_note(svg),
                &s.product_name,
                &format!("{} · {times} · {}", s.code, s.note),
            );
        }
    }
    out.push_str("<h2>Totes</h2>");
    for t in &guide.totes {
        cell(&mut out, svg_or_note(code128_svg(t)), t, "tote label");
    }
    out.push_str("<h2>Bins (putaway)</h2>");
    for b in &guide.bins {
        cell(&mut out, svg_or_note(code128_svg(b)), b, "bin label");
    }
    let p = &guide.picking;
    out.push_str(
        "<h2>Picking</h2><p>The items the demo's orders are picked as, the cart's totes, \
                  the bins they lie in and the packing location.</p>",
    );
    for (_, name, code) in &p.items {
        cell(
            &mut out,
            svg_or_note(ean_svg(code)),
            name,
            &format!("{code} · scan once per unit"),
        );
    }
    for t in &p.totes {
        cell(&mut out, svg_or_note(code128_svg(t)), t, "tote on the cart");
    }
    for b in &p.bins {
        cell(&mut out, svg_or_note(code128_svg(b)), b, "pick bin");
    }
    cell(
        &mut out,
        svg_or_note(code128_svg(&p.packing)),
        &p.packing,
        "packing location: the totes go here",
    );
    out.push_str(
        "<h2>Packing</h2><p>The box shelves of the packing station: scan the label of the box \
         you pack into.</p>",
    );
    for (code, name) in &guide.packing.boxes {
        cell(
            &mut out,
            svg_or_note(code128_svg(code)),
            name,
            &format!("{code} · box"),
        );
    }
    out.push_str("<h2>An unknown barcode</h2>");
    cell(
        &mut out,
        svg_or_note(ean_svg(&guide.unknown_barcode)),
        &guide.unknown_barcode,
        "no product has it: the terminal records an exception",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(addr: std::net::SocketAddr) -> bool {
        std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
    }

    fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
        let start = Instant::now();
        while !check() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "timed out: {what}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn the_demo_server_goes_down_and_comes_back_on_the_same_address() {
        let dir = tempfile::tempdir().unwrap();
        let config = ServerConfig::local(dir.path().join("server.sqlite3"));
        let server = ServerHandle::start(config.clone()).unwrap();
        let addr = server.addr();
        assert!(up(addr));
        let outages = Outages::start(
            server,
            config,
            Duration::from_millis(200),
            Duration::from_millis(500),
        );
        wait_until("the server goes down", || !up(addr));
        wait_until("the server comes back", || up(addr));
        outages.stop();
        assert!(!up(addr), "stopping the demo stops its server");
    }

    #[test]
    fn the_sheet_has_a_barcode_for_every_code_of_the_guide() {
        let guide = laituri_server::demo::guide(system_today());
        let html = barcode_sheet(&guide);
        assert!(!html.contains("class=err"), "a demo code failed to encode");
        let codes = guide.operators.len()
            + guide
                .notices
                .iter()
                .map(|n| 1 + n.ssccs.len() + n.scans.len())
                .sum::<usize>()
            + guide.totes.len()
            + guide.bins.len()
            + guide.picking.items.len()
            + guide.picking.totes.len()
            + guide.picking.bins.len()
            + guide.packing.boxes.len()
            + 2;
        assert_eq!(html.matches("<svg").count(), codes);
    }
}
