//! A virtual X display (Xvfb) of its own for the tests of the real window, and the waiting and
//! cleaning up around it. A missing tool fails the test: it never skips.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the child when dropped, so a failing assertion leaves no process behind.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Requires `tool` on the PATH.
pub fn need(tool: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "{tool} is not installed: run scripts/setup-debian.sh (it installs xvfb and xdotool)"
    );
}

/// Waits for `check` to hold, polling; panics with `what` after `limit`.
pub fn wait_for(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A display number nobody uses (no socket, no lock file): the first free one from a
/// pid-derived start.
fn free_display() -> String {
    let start = 100 + (std::process::id() % 400);
    (start..start + 100)
        .find(|n| {
            !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
        })
        .map(|n| format!(":{n}"))
        .expect("a free X display number")
}

/// A running Xvfb, asked to stop when dropped: stopped by a signal it handles, it removes its
/// socket and lock file, so the display number is free again.
pub struct Xvfb(Killed);

impl Drop for Xvfb {
    fn drop(&mut self) {
        let child = &mut self.0.0;
        let asked = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        let start = Instant::now();
        while asked && start.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Otherwise `Killed` kills it.
    }
}

/// A virtual X display of `screen` (WIDTHxHEIGHTxDEPTH), up and accepting clients: its name
/// (for DISPLAY) and the server, stopped when dropped.
pub fn xvfb(screen: &str) -> (String, Xvfb) {
    need("Xvfb");
    let display = free_display();
    let server = Xvfb(Killed(
        Command::new("Xvfb")
            .args([display.as_str(), "-noreset", "-screen", "0", screen])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb starts"),
    ));
    let socket = format!("/tmp/.X11-unix/X{}", &display[1..]);
    wait_for("Xvfb", Duration::from_secs(20), || {
        Path::new(&socket).exists()
    });
    (display, server)
}
