//! The station's network label printer: ZPL over raw TCP (port 9100).
//!
//! Owns one print: [`print()`] connects with a timeout, asks the printer's host status (`~HS`)
//! when the station is set to, refuses to send a label to a printer that says it cannot print
//! (out of labels, head open, out of ribbon, paused), writes every byte, shuts its side down and
//! waits a little for the printer to close its own. [`PrintError`] says what a person does next
//! and whether printing again can help ([`PrintError::is_retryable`]).
//!
//! Why a printer that says it cannot print gets nothing: a Zebra keeps what it receives and
//! prints it once paper is loaded or pause is released, so a label sent now and "printed again"
//! after the fix would come out twice. A printer that does not answer `~HS` within
//! [`PrinterConfig::status_timeout`] (a print server that does not pass the answer back, a ZPL
//! emulation without it) is printed to anyway, and the receipt says the status was not known
//! ([`StatusCheck::NoAnswer`]). A printer that does not speak ZPL would print `~HS` as text:
//! such a station turns [`PrinterConfig::check_status`] off.
//!
//! Why the wait at the end: a socket closed while an answer of the printer sits unread in it is
//! reset, not closed, and a reset throws away whatever of the label the kernel had not sent yet.
//! So, like the raw socket backend of CUPS, the write side is shut down and the printer's bytes
//! are read and dropped until it closes its side, for [`PrinterConfig::close_timeout`] at most.
//!
//! Only the standard library: blocking `std::net` with timeouts is all one print needs, and the
//! terminal calls this from a worker thread. The host name is resolved by the system resolver,
//! which has no timeout of its own; stations name their printers by address, as a rule.
//!
//! It never holds on to, logs or reports a label's bytes: a shipping label carries a customer's
//! name and address. Errors name the printer's address and the cause, nothing else.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// The raw print port of network label printers (JetDirect, Zebra).
pub const DEFAULT_PORT: u16 = 9100;

/// ZPL's host status query; the answer is three `STX ... ETX CR LF` strings.
const HOST_STATUS_QUERY: &[u8] = b"~HS";
const STX: u8 = 0x02;
const ETX: u8 = 0x03;
/// A host status answer is about 80 bytes; more than this is not one.
const STATUS_REPLY_MAX: usize = 512;
/// The shortest timeout given to a socket (std refuses a zero timeout).
const MIN_TIMEOUT: Duration = Duration::from_millis(1);

/// How one station reaches its label printer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrinterConfig {
    /// `host:port`, `host`, `192.0.2.10`, `[2001:db8::10]:9100`: the port is
    /// [`DEFAULT_PORT`] when left out.
    pub address: String,
    /// How long to wait for the printer to accept the connection.
    pub connect_timeout: Duration,
    /// How long the printer may take no bytes at all while a label is being sent.
    pub write_timeout: Duration,
    /// Ask the printer's host status (`~HS`) before sending a label.
    pub check_status: bool,
    /// How long to wait for the answer to `~HS` before printing anyway.
    pub status_timeout: Duration,
    /// How long to wait for the printer to close its side after the label was sent.
    pub close_timeout: Duration,
}

impl PrinterConfig {
    /// A printer at `address` with the usual timeouts and the status check on.
    pub fn new(address: impl Into<String>) -> PrinterConfig {
        PrinterConfig {
            address: address.into(),
            connect_timeout: Duration::from_secs(3),
            write_timeout: Duration::from_secs(10),
            check_status: true,
            status_timeout: Duration::from_secs(1),
            close_timeout: Duration::from_secs(2),
        }
    }
}

/// What the printer said of itself before the label was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusCheck {
    /// It answered `~HS` and nothing stops it from printing.
    Ready,
    /// It did not answer `~HS` in time (or not in a form known here): printed anyway.
    NoAnswer,
    /// The station does not ask ([`PrinterConfig::check_status`] is off).
    Skipped,
}

/// A label handed over to the printer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrintReceipt {
    /// The address the label went to.
    pub printer: SocketAddr,
    /// How many bytes were sent (all of them).
    pub bytes: usize,
    /// What the printer said of itself first.
    pub status: StatusCheck,
    /// The printer closed its side after the label, within [`PrinterConfig::close_timeout`]:
    /// it read to the end. `false` says only that it did not close in time.
    pub closed_by_printer: bool,
}

/// The flags of a Zebra host status answer (`~HS`) that decide whether a label can print.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HostStatus {
    /// String 1, field 2: out of labels.
    pub paper_out: bool,
    /// String 1, field 3: paused.
    pub paused: bool,
    /// String 1, field 6: the receive buffer is full.
    pub buffer_full: bool,
    /// String 2, field 3: the print head is up (open).
    pub head_open: bool,
    /// String 2, field 4, only in thermal transfer mode (field 5): out of ribbon.
    pub ribbon_out: bool,
}

impl HostStatus {
    /// What stops this printer from printing, most fundamental first (a printer out of labels
    /// is paused too; loading labels is what the person does first).
    fn refusal(&self, address: &str) -> Option<PrintError> {
        let address = address.to_owned();
        if self.head_open {
            Some(PrintError::HeadOpen { address })
        } else if self.paper_out {
            Some(PrintError::PaperOut { address })
        } else if self.ribbon_out {
            Some(PrintError::RibbonOut { address })
        } else if self.paused {
            Some(PrintError::Paused { address })
        } else {
            None
        }
    }
}

/// Why a label was not printed, each saying what to do next.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error(
        "the printer address {address:?} is not valid: set it as host or host:port in the station settings"
    )]
    BadAddress { address: String },
    #[error(
        "no printer named {address:?} is known on the network: check the printer's address in the station settings"
    )]
    UnknownHost {
        address: String,
        #[source]
        source: io::Error,
    },
    #[error(
        "the printer at {address} does not answer: check the printer is on and its network cable"
    )]
    NotAnswering {
        address: String,
        #[source]
        source: io::Error,
    },
    #[error("the printer at {address} is out of labels: load a new roll, then print again")]
    PaperOut { address: String },
    #[error("the print head of the printer at {address} is open: close it, then print again")]
    HeadOpen { address: String },
    #[error("the printer at {address} is out of ribbon: load a new ribbon, then print again")]
    RibbonOut { address: String },
    #[error("the printer at {address} is paused: press its pause button, then print again")]
    Paused { address: String },
    #[error(
        "the printer at {address} stopped taking the label: check it for a jam or an error light, then print again"
    )]
    Stalled { address: String },
    #[error(
        "the connection to the printer at {address} broke while sending the label: check its network cable, then print again"
    )]
    Broken {
        address: String,
        #[source]
        source: io::Error,
    },
}

impl PrintError {
    /// Whether printing again can succeed once the person did what the message says; `false`
    /// when the station's settings must change first.
    pub fn is_retryable(&self) -> bool {
        !matches!(
            self,
            PrintError::BadAddress { .. } | PrintError::UnknownHost { .. }
        )
    }
}

/// Sends one label (`zpl`, sent as it is) to the station's printer. Blocks for at most about
/// the configured timeouts added up (plus name resolution, for a printer named by host name).
pub fn print(config: &PrinterConfig, zpl: &[u8]) -> Result<PrintReceipt, PrintError> {
    let address = config.address.trim();
    let targets = resolve(address)?;
    let (mut stream, printer) = connect(&targets, address, config)?;

    let status = if config.check_status {
        match ask_status(&mut stream, config.status_timeout) {
            StatusAnswer::Status(status) => match status.refusal(address) {
                Some(refusal) => return Err(refusal),
                None => StatusCheck::Ready,
            },
            StatusAnswer::Silent => StatusCheck::NoAnswer,
            StatusAnswer::Closed => {
                // Whatever is at the port hung up on the question; ask nothing this time.
                stream = connect(&[printer], address, config)?.0;
                StatusCheck::NoAnswer
            }
        }
    } else {
        StatusCheck::Skipped
    };

    send(&mut stream, zpl, address)?;
    let closed_by_printer = drain_until_closed(&mut stream, config.close_timeout);
    Ok(PrintReceipt {
        printer,
        bytes: zpl.len(),
        status,
        closed_by_printer,
    })
}

/// Splits a configured address into host and port (the port [`DEFAULT_PORT`] when left out).
/// `None` for what is no address at all.
fn parse_address(address: &str) -> Option<(String, u16)> {
    let address = address.trim();
    if address.is_empty() {
        return None;
    }
    if let Ok(ip) = address.parse::<IpAddr>() {
        return Some((ip.to_string(), DEFAULT_PORT));
    }
    if let Ok(socket) = address.parse::<SocketAddr>() {
        return (socket.port() != 0).then(|| (socket.ip().to_string(), socket.port()));
    }
    if let Some(inner) = address.strip_prefix('[').and_then(|a| a.strip_suffix(']')) {
        let ip = inner.parse::<std::net::Ipv6Addr>().ok()?;
        return Some((ip.to_string(), DEFAULT_PORT));
    }
    let (host, port) = match address.rsplit_once(':') {
        Some((host, port)) => (host, port.parse::<u16>().ok().filter(|p| *p != 0)?),
        None => (address, DEFAULT_PORT),
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && !host.starts_with(['-', '.'])
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    host_ok.then(|| (host.to_owned(), port))
}

fn resolve(address: &str) -> Result<Vec<SocketAddr>, PrintError> {
    let (host, port) = parse_address(address).ok_or_else(|| PrintError::BadAddress {
        address: address.to_owned(),
    })?;
    let unknown = |source| PrintError::UnknownHost {
        address: address.to_owned(),
        source,
    };
    let targets: Vec<SocketAddr> = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(unknown)?
        .collect();
    if targets.is_empty() {
        return Err(unknown(io::Error::new(
            io::ErrorKind::NotFound,
            "the name has no address",
        )));
    }
    Ok(targets)
}

fn connect(
    targets: &[SocketAddr],
    address: &str,
    config: &PrinterConfig,
) -> Result<(TcpStream, SocketAddr), PrintError> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address to connect to");
    for target in targets {
        match TcpStream::connect_timeout(target, config.connect_timeout.max(MIN_TIMEOUT)) {
            Ok(stream) => {
                let broken = |source| PrintError::Broken {
                    address: address.to_owned(),
                    source,
                };
                stream.set_nodelay(true).map_err(broken)?;
                stream
                    .set_write_timeout(Some(config.write_timeout.max(MIN_TIMEOUT)))
                    .map_err(broken)?;
                return Ok((stream, *target));
            }
            Err(error) => last = error,
        }
    }
    Err(PrintError::NotAnswering {
        address: address.to_owned(),
        source: last,
    })
}

enum StatusAnswer {
    Status(HostStatus),
    /// No answer in time, or one that is not a host status.
    Silent,
    /// The other end closed or reset the connection on the question.
    Closed,
}

fn ask_status(stream: &mut TcpStream, timeout: Duration) -> StatusAnswer {
    if stream.write_all(HOST_STATUS_QUERY).is_err() {
        return StatusAnswer::Closed;
    }
    let deadline = Instant::now() + timeout;
    let mut reply = Vec::with_capacity(128);
    let mut chunk = [0u8; 256];
    loop {
        let frames = reply.iter().filter(|b| **b == ETX).count();
        if frames >= 3 || reply.len() > STATUS_REPLY_MAX {
            break;
        }
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            break;
        };
        if stream
            .set_read_timeout(Some(left.max(MIN_TIMEOUT)))
            .is_err()
        {
            break;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return StatusAnswer::Closed,
            Ok(n) => reply.extend_from_slice(&chunk[..n]),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) if is_timeout(&error) => break,
            Err(_) => return StatusAnswer::Closed,
        }
    }
    match parse_host_status(&reply) {
        Some(status) => StatusAnswer::Status(status),
        None => StatusAnswer::Silent,
    }
}

fn send(stream: &mut TcpStream, zpl: &[u8], address: &str) -> Result<(), PrintError> {
    let failed = |source: io::Error| {
        if is_timeout(&source) {
            PrintError::Stalled {
                address: address.to_owned(),
            }
        } else {
            PrintError::Broken {
                address: address.to_owned(),
                source,
            }
        }
    };
    stream.write_all(zpl).map_err(failed)?;
    stream.flush().map_err(failed)?;
    stream.shutdown(Shutdown::Write).map_err(failed)
}

/// Reads and drops what the printer sends until it closes its side or `timeout` passes; says
/// whether it closed.
fn drain_until_closed(stream: &mut TcpStream, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let mut chunk = [0u8; 256];
    loop {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return false;
        };
        if stream
            .set_read_timeout(Some(left.max(MIN_TIMEOUT)))
            .is_err()
        {
            return false;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            // A reset after every byte was written: the printer is gone, the label went.
            Err(error) if !is_timeout(&error) => return true,
            Err(_) => return false,
        }
    }
}

fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Reads the flags of a Zebra host status answer (`~HS`): three `STX ... ETX` strings of
/// comma-separated fields, of which the first two carry the flags. `None` when `reply` is not
/// such an answer (fewer than two strings, or a flag that is neither `0` nor `1`).
pub fn parse_host_status(reply: &[u8]) -> Option<HostStatus> {
    let mut frames = reply.split(|b| *b == STX).skip(1).filter_map(|frame| {
        let end = frame.iter().position(|b| *b == ETX)?;
        std::str::from_utf8(&frame[..end]).ok()
    });
    let first: Vec<&str> = frames.next()?.split(',').map(str::trim).collect();
    let second: Vec<&str> = frames.next()?.split(',').map(str::trim).collect();
    let flag = |fields: &[&str], index: usize| match fields.get(index).copied() {
        Some("0") => Some(false),
        Some("1") => Some(true),
        _ => None,
    };
    // String 1: aaa,b,c,dddd,eee,f,... (b paper out, c pause, f buffer full).
    // String 2: mmm,n,o,p,q,... (o head up, p ribbon out, q thermal transfer mode).
    let thermal_transfer = flag(&second, 4).unwrap_or(false);
    Some(HostStatus {
        paper_out: flag(&first, 1)?,
        paused: flag(&first, 2)?,
        buffer_full: flag(&first, 5).unwrap_or(false),
        head_open: flag(&second, 2)?,
        ribbon_out: thermal_transfer && flag(&second, 3)?,
    })
}

#[cfg(test)]
mod tests;
