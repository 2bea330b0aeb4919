//! The station's scale on a serial port (a USB adapter: `/dev/ttyUSB0`, 9600 baud 8N1 as a
//! rule).
//!
//! Owns three things: what a scale's line says ([`parse_line`], [`classify_line`]: pure, a
//! case table), one weighing ([`Scale::read_stable`]: lines until a stable weight, or an error
//! that says what to do), and the live weight a screen shows ([`ScaleReader`]: a thread that
//! keeps the latest status and stops when dropped).
//!
//! The formats read, one line each, ended by CR, LF or both (STX, ETX and other control bytes
//! are dropped):
//! - A&D and the many scales that copy it: `ST,GS,+0001.234kg`, `US,NT,-0000.120 kg`,
//!   `ST,+00123.45  g`, `OL,+9999999E+19` (`ST` stable, `US` unstable, `OL` overload, `QT` a
//!   count; `GS`/`NT` gross or net, `TR` a tare, which is not a weight).
//! - Mettler Toledo SICS: `S S      1.234 kg` (stable), `S D      1.230 kg` (dynamic), `S I`
//!   (busy), `S +` / `S -` (over and under range), `ES`/`ET`/`EL` (errors).
//! - Plain weights: `   1234 g`, `1.234 kg`, `2.72 lb`, `2 lb 11.5 oz`, `12.5 oz`, with an
//!   optional `G`/`N`/`NET` marker and a trailing `?` for a weight in motion (Ohaus). A plain
//!   line without `?` counts as stable: such scales print on a stable weight, or mark motion.
//! - `OL`, `OVERLOAD`, `UL`, `UNDERLOAD`.
//!
//! Pounds and ounces are converted exactly (1 lb = 453.59237 g) and every weight is rounded to
//! the gram. A negative weight, an overload or an underload is not a weight. A decimal comma is
//! not read: `1,234 g` is a thousand and more grams in one language and one and a bit in
//! another, and a wrong weight on a parcel is worse than none.
//!
//! The port is opened non-blocking with `O_NOCTTY`, claimed for this process (`TIOCEXCL`), set
//! raw (no echo, no line editing, no CR/LF translation, no flow control) at the station's speed
//! and framing (8N1 or 7E1), and waited on with `poll`, so every read returns within its
//! timeout. A weighing starts from what the scale says now: lines already in the port are
//! dropped, and so is the first line after opening, which may be the tail of one cut in two
//! (`US,GS,+0001.234kg` cut to `1.234kg` would read as a stable weight).
//!
//! Why `rustix` (termios, `poll`, the exclusive claim, and pseudo-terminals for the tests): it
//! wraps each of these system calls in a safe function, so this crate has no `unsafe`, and it
//! is a crate the terminal builds already (through tempfile and the windowing stack). The
//! `serialport` crate, even with its default features (libudev) off, brings `nix` and code for
//! port enumeration and other platforms that a station with one configured path does not need.
//!
//! It never guesses a weight: a line it cannot read is garbage, a weight without a unit is
//! garbage, and only a line the scale marks stable ends [`Scale::read_stable`]. It never
//! changes the scale's settings (zero, tare, units): it only reads, and sends the configured
//! request.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::termios::{
    self, ControlModes, InputModes, OptionalActions, QueueSelector, SpecialCodeIndex,
};

/// The longest line kept; a scale's line is some 20 bytes.
const MAX_LINE: usize = 128;
/// At most this many digits in a weight.
const MAX_DIGITS: usize = 12;
/// How often [`ScaleReader`] looks whether it should stop, at least.
const READER_TICK: Duration = Duration::from_millis(100);
/// How long [`ScaleReader`] shows a weight with no new line before it says the scale is silent.
const READER_SILENT_AFTER: Duration = Duration::from_secs(2);
/// How long [`ScaleReader`] waits before opening a port again that it could not open.
const READER_REOPEN_AFTER: Duration = Duration::from_secs(1);

/// One weight a scale sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reading {
    pub grams: u32,
    /// The scale says the weight is steady (not in motion).
    pub stable: bool,
}

/// What one line from a scale says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScaleLine {
    Weight(Reading),
    /// More than the scale can weigh.
    Overload,
    /// Below zero: a negative weight or an underload.
    BelowZero,
    /// A line of a known format that is no weight: busy, a tare, a count, an error code.
    NotWeight,
    /// Nothing but white space and control bytes.
    Blank,
    /// Not a line of any format known here.
    Garbage,
}

/// The weight in a scale's line, if it has one (see the module header for the formats).
pub fn parse_line(line: &str) -> Option<Reading> {
    match classify_line(line) {
        ScaleLine::Weight(reading) => Some(reading),
        _ => None,
    }
}

/// What a scale's line says (see the module header for the formats).
pub fn classify_line(line: &str) -> ScaleLine {
    let cleaned: String = line
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let text = cleaned.trim();
    if text.is_empty() {
        return ScaleLine::Blank;
    }
    if text.len() > MAX_LINE {
        return ScaleLine::Garbage;
    }
    let upper = text.to_ascii_uppercase();
    match upper.as_str() {
        "OL" | "OVER" | "OVERLOAD" => return ScaleLine::Overload,
        "UL" | "UNDER" | "UNDERLOAD" => return ScaleLine::BelowZero,
        "ES" | "ET" | "EL" => return ScaleLine::NotWeight,
        _ => {}
    }
    if let Some(rest) = upper.strip_prefix("S ") {
        return sics(rest);
    }
    if upper.contains(',') {
        return a_and_d(&upper);
    }
    plain(&upper)
}

/// A Mettler Toledo SICS answer after its leading `S `.
fn sics(rest: &str) -> ScaleLine {
    let rest = rest.trim_start();
    let (status, value) = rest.split_at(rest.find(' ').unwrap_or(rest.len()));
    let stable = match status {
        "S" => true,
        "D" => false,
        "+" if value.trim().is_empty() => return ScaleLine::Overload,
        "-" if value.trim().is_empty() => return ScaleLine::BelowZero,
        "I" | "A" | "L" if value.trim().is_empty() => return ScaleLine::NotWeight,
        _ => return ScaleLine::Garbage,
    };
    match weight(value) {
        Some((weight, tail)) if tail.trim().is_empty() => weight.line(stable),
        _ => ScaleLine::Garbage,
    }
}

/// An A&D style line: `header,[kind,]value unit`.
fn a_and_d(upper: &str) -> ScaleLine {
    let mut fields = upper.split(',').map(str::trim);
    let stable = match fields.next() {
        Some("ST") => true,
        Some("US") => false,
        Some("OL") => return ScaleLine::Overload,
        Some("QT") => return ScaleLine::NotWeight,
        _ => return ScaleLine::Garbage,
    };
    let mut rest: Vec<&str> = fields.collect();
    match rest.first().copied() {
        Some("GS" | "NT" | "G" | "N") => {
            rest.remove(0);
        }
        Some("TR" | "T" | "PT") => return ScaleLine::NotWeight,
        _ => {}
    }
    // Some scales put the unit in a field of its own: `ST,GS,1.234,kg`.
    let value = rest.join(" ");
    match weight(&value) {
        Some((weight, tail)) if tail.trim().is_empty() => weight.line(stable),
        _ => ScaleLine::Garbage,
    }
}

/// A plain weight: `[G|N|NET] value unit [value oz] [G|N|NET] [?]`.
fn plain(upper: &str) -> ScaleLine {
    let mut text = upper.trim();
    let mut stable = true;
    if let Some(rest) = text.strip_prefix('?') {
        stable = false;
        text = rest.trim_start();
    }
    for marker in ["GROSS ", "NET ", "GS ", "NT ", "G ", "N "] {
        if let Some(rest) = text.strip_prefix(marker) {
            text = rest;
            break;
        }
    }
    let Some((mut weight, mut tail)) = weight(text) else {
        return ScaleLine::Garbage;
    };
    if weight.unit == Unit::Pound
        && let Some((ounces, after)) = self::weight(tail).filter(|(w, _)| w.unit == Unit::Ounce)
    {
        if ounces.negative {
            return ScaleLine::Garbage;
        }
        weight.grams += ounces.grams;
        tail = after;
    }
    for token in tail.split_whitespace() {
        match token {
            "?" => stable = false,
            "G" | "N" | "GS" | "NT" | "NET" | "GROSS" => {}
            "T" | "TR" | "TARE" | "PT" => return ScaleLine::NotWeight,
            _ => return ScaleLine::Garbage,
        }
    }
    weight.line(stable)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Gram,
    Kilogram,
    Pound,
    Ounce,
}

impl Unit {
    fn parse(unit: &str) -> Option<Unit> {
        match unit {
            "G" => Some(Unit::Gram),
            "KG" => Some(Unit::Kilogram),
            "LB" | "LBS" => Some(Unit::Pound),
            "OZ" => Some(Unit::Ounce),
            _ => None,
        }
    }

    /// Grams per unit as a fraction (numerator, denominator), exactly.
    fn grams(self) -> (u128, u128) {
        match self {
            Unit::Gram => (1, 1),
            Unit::Kilogram => (1000, 1),
            // 1 lb = 0.45359237 kg by definition; 1 oz = 1/16 lb.
            Unit::Pound => (45_359_237, 100_000),
            Unit::Ounce => (45_359_237, 1_600_000),
        }
    }
}

struct Weight {
    negative: bool,
    /// Rounded to the gram.
    grams: u128,
    unit: Unit,
}

impl Weight {
    fn line(&self, stable: bool) -> ScaleLine {
        if self.negative && self.grams > 0 {
            return ScaleLine::BelowZero;
        }
        match u32::try_from(self.grams) {
            Ok(grams) => ScaleLine::Weight(Reading { grams, stable }),
            Err(_) => ScaleLine::Garbage,
        }
    }
}

/// A signed decimal number and its unit at the start of `text` (upper case), and what follows.
fn weight(text: &str) -> Option<(Weight, &str)> {
    let text = text.trim_start();
    let (negative, text) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let text = text.trim_start();
    let number_end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, text) = text.split_at(number_end);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = whole.len() + fraction.len();
    if digits == 0 || digits > MAX_DIGITS || fraction.contains('.') {
        return None;
    }
    let mut mantissa: u128 = 0;
    for digit in whole.bytes().chain(fraction.bytes()) {
        mantissa = mantissa * 10 + u128::from(digit - b'0');
    }
    let scale = 10u128.pow(u32::try_from(fraction.len()).ok()?);
    let text = text.trim_start();
    let unit_end = text
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (unit, rest) = text.split_at(unit_end);
    let unit = Unit::parse(unit)?;
    let (numerator, denominator) = unit.grams();
    let divisor = scale * denominator;
    // Rounded half up: at most 12 digits times 45,359,237 fits u128 many times over.
    let grams = (mantissa * numerator * 2 + divisor) / (divisor * 2);
    Some((
        Weight {
            negative,
            grams,
            unit,
        },
        rest,
    ))
}

/// The character framing of the scale's port.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Framing {
    /// 8 data bits, no parity, 1 stop bit: most scales.
    #[default]
    EightNone,
    /// 7 data bits, even parity, 1 stop bit: older A&D and others.
    SevenEven,
}

/// How one station reaches its scale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScaleConfig {
    /// The serial device: `/dev/ttyUSB0`, or better a stable `/dev/serial/by-id/...` name.
    pub path: PathBuf,
    pub baud: u32,
    pub framing: Framing,
    /// Sent to ask for a weight, for a scale that does not send on its own: SICS `S\r\n`
    /// (stable weight) or `SI\r\n` (at once). `None`: the scale sends continuously or on its
    /// print key.
    pub request: Option<Vec<u8>>,
    /// How often the request is sent again while no stable weight came.
    pub request_interval: Duration,
}

impl ScaleConfig {
    /// A scale at `path` at 9600 baud 8N1 that sends on its own.
    pub fn new(path: impl Into<PathBuf>) -> ScaleConfig {
        ScaleConfig {
            path: path.into(),
            baud: 9600,
            framing: Framing::EightNone,
            request: None,
            request_interval: Duration::from_millis(500),
        }
    }
}

/// Why no weight was read, each saying what to do next.
#[derive(Debug, thiserror::Error)]
pub enum ScaleError {
    #[error("no scale at {}: plug the scale in", path.display())]
    Missing { path: PathBuf },
    #[error(
        "the scale's port {} is in use by another program: close it, or restart the terminal",
        path.display()
    )]
    Busy { path: PathBuf },
    #[error(
        "the terminal may not open the scale's port {}: give its user access to serial ports (the dialout group)",
        path.display()
    )]
    NoPermission { path: PathBuf },
    #[error(
        "{} is not a serial port: check the scale's port in the station settings",
        path.display()
    )]
    NotSerial { path: PathBuf },
    #[error(
        "the scale's port {} does not take {baud} baud: check the scale's speed in the station settings",
        path.display()
    )]
    BadSpeed { path: PathBuf, baud: u32 },
    #[error("the scale sends nothing: check it is on and set to send its weight")]
    Silent,
    #[error(
        "the scale's output cannot be read: check its speed and output format in the station settings"
    )]
    Garbled,
    #[error("no steady weight: keep the parcel still on the scale")]
    NotStable,
    #[error("the parcel is heavier than the scale can weigh: take it off the scale")]
    Overload,
    #[error("the scale shows less than zero: take everything off it and zero it")]
    BelowZero,
    #[error("reading the scale at {} failed: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// An open scale port.
#[derive(Debug)]
pub struct Scale {
    port: File,
    path: PathBuf,
    request: Option<Vec<u8>>,
    request_interval: Duration,
    next_request: Option<Instant>,
    /// Bytes of a line not ended yet.
    pending: Vec<u8>,
    /// The next line may be the tail of one cut off by a flush: dropped, for `US,GS,+0001.234kg`
    /// cut to `1.234kg` reads as a stable weight.
    cut: bool,
}

impl Scale {
    /// Opens the scale's port and sets it up raw at the configured speed and framing; what the
    /// scale sent before is dropped.
    pub fn open(config: &ScaleConfig) -> Result<Scale, ScaleError> {
        let path = config.path.clone();
        let flags = OFlags::RDWR | OFlags::NOCTTY | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let fd = rustix::fs::open(&path, flags, Mode::empty())
            .map_err(|errno| open_error(&path, errno))?;
        termios::ioctl_tiocexcl(&fd).map_err(|errno| open_error(&path, errno))?;
        let port = File::from(fd);
        // From here on, dropping the Scale releases the claim.
        let scale = Scale {
            port,
            path,
            request: config.request.clone().filter(|r| !r.is_empty()),
            request_interval: config.request_interval.max(Duration::from_millis(10)),
            next_request: None,
            pending: Vec::with_capacity(MAX_LINE),
            // A scale that is asked sends nothing unasked, so nothing was cut.
            cut: config.request.is_none(),
        };
        scale.set_up(config)?;
        Ok(scale)
    }

    fn set_up(&self, config: &ScaleConfig) -> Result<(), ScaleError> {
        let path = &self.path;
        let mut settings =
            termios::tcgetattr(&self.port).map_err(|errno| open_error(path, errno))?;
        settings.make_raw();
        settings.input_modes -= InputModes::IXON | InputModes::IXOFF | InputModes::IXANY;
        settings.control_modes -= ControlModes::CSIZE
            | ControlModes::PARENB
            | ControlModes::PARODD
            | ControlModes::CSTOPB
            | ControlModes::CRTSCTS;
        settings.control_modes |= ControlModes::CREAD | ControlModes::CLOCAL;
        settings.control_modes |= match config.framing {
            Framing::EightNone => ControlModes::CS8,
            Framing::SevenEven => ControlModes::CS7 | ControlModes::PARENB,
        };
        // One byte at least and no inter-byte timer: a non-blocking read with nothing there is
        // then EAGAIN, and 0 means the line hung up (with VMIN 0 a tty answers 0 for both).
        settings.special_codes[SpecialCodeIndex::VMIN] = 1;
        settings.special_codes[SpecialCodeIndex::VTIME] = 0;
        settings
            .set_speed(config.baud)
            .map_err(|_| ScaleError::BadSpeed {
                path: path.clone(),
                baud: config.baud,
            })?;
        termios::tcsetattr(&self.port, OptionalActions::Now, &settings).map_err(|errno| {
            if errno == Errno::INVAL {
                ScaleError::BadSpeed {
                    path: path.clone(),
                    baud: config.baud,
                }
            } else {
                open_error(path, errno)
            }
        })?;
        termios::tcflush(&self.port, QueueSelector::IFlush).map_err(|errno| open_error(path, errno))
    }

    /// The path the scale was opened at.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads lines until the scale sends a stable weight, and returns it in grams (0 for an
    /// empty scale: the caller decides whether that is a parcel). Lines the scale sent before
    /// the call are dropped first: a weight is what the scale says now. Sends the configured
    /// request first and again every request interval. Returns within `timeout` (and one
    /// poll's rounding): with what kept it from a weight when the time ran out.
    pub fn read_stable(&mut self, timeout: Duration) -> Result<u32, ScaleError> {
        let deadline = Instant::now() + timeout;
        self.drop_stale()?;
        self.next_request = Some(Instant::now());
        let mut last_said = None;
        let mut garbage = false;
        while let Some(line) = self.next_line_until(deadline)? {
            match line {
                ScaleLine::Weight(Reading {
                    grams,
                    stable: true,
                }) => return Ok(grams),
                ScaleLine::Garbage => garbage = true,
                ScaleLine::Blank => {}
                said => last_said = Some(said),
            }
        }
        Err(match (last_said, garbage) {
            (Some(ScaleLine::Overload), _) => ScaleError::Overload,
            (Some(ScaleLine::BelowZero), _) => ScaleError::BelowZero,
            (Some(_), _) => ScaleError::NotStable,
            (None, true) => ScaleError::Garbled,
            (None, false) => ScaleError::Silent,
        })
    }

    /// The next line the scale sends (blank lines skipped), sending the configured request when
    /// it is due; `None` when `deadline` passed first.
    pub fn next_line_until(&mut self, deadline: Instant) -> Result<Option<ScaleLine>, ScaleError> {
        loop {
            if let Some(line) = self.take_line() {
                if line != ScaleLine::Blank {
                    return Ok(Some(line));
                }
                continue;
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let mut wake = deadline;
            if let Some(request) = &self.request {
                let due = *self.next_request.get_or_insert(now);
                if due <= now {
                    // A full output buffer is not an error: the request goes again next time.
                    match self.port.write(request) {
                        Ok(_) => {}
                        Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                        Err(error) => return Err(self.read_error(error)),
                    }
                    self.next_request = Some(now + self.request_interval);
                }
                wake = wake.min(self.next_request.unwrap_or(deadline));
            }
            self.fill(wake)?;
        }
    }

    /// Drops every line the scale already sent (read or waiting in the port), keeping only the
    /// start of a line it is sending now.
    fn drop_stale(&mut self) -> Result<(), ScaleError> {
        // Bounded: the port holds a few KiB, read far faster than a scale sends.
        for _ in 0..64 {
            let got = self.fill(Instant::now())?;
            if let Some(last) = self.pending.iter().rposition(|b| is_line_end(*b)) {
                self.pending.drain(..=last);
                self.cut = false;
            }
            if got == 0 {
                break;
            }
        }
        Ok(())
    }

    /// Takes one ended line off the pending bytes; an over-long unended run is garbage.
    fn take_line(&mut self) -> Option<ScaleLine> {
        loop {
            match self.pending.iter().position(|b| is_line_end(*b)) {
                Some(end) if self.cut => {
                    self.pending.drain(..=end);
                    self.cut = false;
                }
                Some(end) => {
                    let line = classify_line(&String::from_utf8_lossy(&self.pending[..end]));
                    self.pending.drain(..=end);
                    return Some(line);
                }
                None if self.pending.len() > MAX_LINE => {
                    self.pending.clear();
                    self.cut = false;
                    return Some(ScaleLine::Garbage);
                }
                None => return None,
            }
        }
    }

    /// Waits for bytes until `until` and appends what is there; says how many.
    fn fill(&mut self, until: Instant) -> Result<usize, ScaleError> {
        let wait = until.saturating_duration_since(Instant::now());
        let timeout = Timespec::try_from(wait).unwrap_or(Timespec {
            tv_sec: 1,
            tv_nsec: 0,
        });
        let revents = {
            let mut fds = [PollFd::new(&self.port, PollFlags::IN)];
            match rustix::event::poll(&mut fds, Some(&timeout)) {
                Ok(0) | Err(Errno::INTR) => return Ok(0),
                Ok(_) => fds[0].revents(),
                Err(errno) => return Err(self.read_error(errno.into())),
            }
        };
        if !revents.contains(PollFlags::IN) {
            // Hung up (unplugged), or an error on the port.
            return Err(ScaleError::Missing {
                path: self.path.clone(),
            });
        }
        let mut chunk = [0u8; 256];
        let mut got = 0;
        loop {
            match self.port.read(&mut chunk) {
                // End of file: hung up. After some bytes, the next poll tells.
                Ok(0) if got > 0 => return Ok(got),
                Ok(0) => {
                    return Err(ScaleError::Missing {
                        path: self.path.clone(),
                    });
                }
                Ok(n) => {
                    got += n;
                    self.pending.extend_from_slice(&chunk[..n]);
                    if self.pending.len() > MAX_LINE * 4 {
                        return Ok(got);
                    }
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Ok(got),
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(self.read_error(error)),
            }
        }
    }

    fn read_error(&self, error: io::Error) -> ScaleError {
        match error.raw_os_error().map(Errno::from_raw_os_error) {
            // What a USB adapter pulled out answers (and a pseudo-terminal whose other end closed).
            Some(Errno::IO | Errno::NODEV | Errno::NXIO) => ScaleError::Missing {
                path: self.path.clone(),
            },
            _ => ScaleError::Io {
                path: self.path.clone(),
                source: error,
            },
        }
    }
}

impl Drop for Scale {
    fn drop(&mut self) {
        let _ = termios::ioctl_tiocnxcl(self.port.as_fd());
    }
}

fn is_line_end(byte: u8) -> bool {
    matches!(byte, b'\r' | b'\n')
}

fn open_error(path: &Path, errno: Errno) -> ScaleError {
    let path = path.to_path_buf();
    match errno {
        Errno::NOENT | Errno::NODEV | Errno::NXIO | Errno::IO => ScaleError::Missing { path },
        Errno::ACCESS | Errno::PERM => ScaleError::NoPermission { path },
        Errno::BUSY => ScaleError::Busy { path },
        Errno::NOTTY => ScaleError::NotSerial { path },
        errno => ScaleError::Io {
            path,
            source: errno.into(),
        },
    }
}

/// What the scale shows, for a screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScaleStatus {
    /// Started, nothing read yet.
    Waiting,
    /// The latest weight the scale sent.
    Weight(Reading),
    Overload,
    BelowZero,
    /// The port is open but no weight came for a while: the scale is off, not sending, or
    /// sending what cannot be read.
    Silent,
    /// No device at the path, or it was unplugged: opened again every second.
    Missing,
    /// The port cannot be used (in use, no permission, not a serial port, speed refused):
    /// tried again every second.
    Unavailable,
}

struct Shared {
    status: Mutex<ScaleStatus>,
}

/// The scale read continuously on a thread of its own, for a screen to show the live weight.
/// Dropping it stops the thread and waits for it (a tenth of a second or so).
pub struct ScaleReader {
    shared: Arc<Shared>,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ScaleReader {
    /// Starts reading; [`ScaleReader::latest`] tells what the scale shows.
    pub fn start(config: ScaleConfig) -> io::Result<ScaleReader> {
        ScaleReader::start_notifying(config, |_| {})
    }

    /// Starts reading and calls `on_change` on the reader's thread with every new status (a
    /// UI hands it over to its own thread).
    pub fn start_notifying(
        config: ScaleConfig,
        on_change: impl FnMut(ScaleStatus) + Send + 'static,
    ) -> io::Result<ScaleReader> {
        let shared = Arc::new(Shared {
            status: Mutex::new(ScaleStatus::Waiting),
        });
        let (stop, stopped) = mpsc::channel();
        let thread = thread::Builder::new().name("scale".into()).spawn({
            let shared = Arc::clone(&shared);
            move || run_reader(&config, &shared, &stopped, on_change)
        })?;
        Ok(ScaleReader {
            shared,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// What the scale shows now.
    pub fn latest(&self) -> ScaleStatus {
        *self
            .shared
            .status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for ScaleReader {
    fn drop(&mut self) {
        // Dropping the sender wakes a reader that waits to open the port again.
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run_reader(
    config: &ScaleConfig,
    shared: &Shared,
    stopped: &mpsc::Receiver<()>,
    mut on_change: impl FnMut(ScaleStatus),
) {
    let mut set = |status: ScaleStatus| {
        let changed = {
            let mut current = shared.status.lock().unwrap_or_else(PoisonError::into_inner);
            let changed = *current != status;
            *current = status;
            changed
        };
        if changed {
            on_change(status);
        }
    };
    let mut scale: Option<Scale> = None;
    let mut heard = Instant::now();
    loop {
        let Some(port) = scale.as_mut() else {
            match Scale::open(config) {
                Ok(opened) => {
                    scale = Some(opened);
                    heard = Instant::now();
                    continue;
                }
                Err(ScaleError::Missing { .. }) => set(ScaleStatus::Missing),
                Err(_) => set(ScaleStatus::Unavailable),
            }
            match stopped.recv_timeout(READER_REOPEN_AFTER) {
                Err(RecvTimeoutError::Timeout) => continue,
                Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
            }
        };
        if !matches!(stopped.try_recv(), Err(TryRecvError::Empty)) {
            return;
        }
        match port.next_line_until(Instant::now() + READER_TICK) {
            Ok(Some(ScaleLine::Weight(reading))) => {
                heard = Instant::now();
                set(ScaleStatus::Weight(reading));
            }
            Ok(Some(ScaleLine::Overload)) => {
                heard = Instant::now();
                set(ScaleStatus::Overload);
            }
            Ok(Some(ScaleLine::BelowZero)) => {
                heard = Instant::now();
                set(ScaleStatus::BelowZero);
            }
            Ok(Some(_) | None) => {}
            Err(error) => {
                scale = None;
                set(match error {
                    ScaleError::Missing { .. } => ScaleStatus::Missing,
                    _ => ScaleStatus::Unavailable,
                });
                match stopped.recv_timeout(READER_REOPEN_AFTER) {
                    Err(RecvTimeoutError::Timeout) => continue,
                    Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                }
            }
        }
        if heard.elapsed() > READER_SILENT_AFTER {
            set(ScaleStatus::Silent);
        }
    }
}

#[cfg(test)]
mod tests;
