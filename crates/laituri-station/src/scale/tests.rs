use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};

use super::*;

fn stable(grams: u32) -> ScaleLine {
    ScaleLine::Weight(Reading {
        grams,
        stable: true,
    })
}

fn moving(grams: u32) -> ScaleLine {
    ScaleLine::Weight(Reading {
        grams,
        stable: false,
    })
}

#[test]
fn scale_lines_say_what_they_weigh() {
    use ScaleLine::*;
    let cases: &[(&str, ScaleLine)] = &[
        // A&D and alike.
        ("ST,GS,+0001.234kg", stable(1234)),
        ("US,GS,+0001.230kg", moving(1230)),
        ("ST,NT,+0000.500kg", stable(500)),
        ("ST,+00123.45  g", stable(123)),
        ("ST,+00123.50  g", stable(124)),
        ("US,-0001.234 kg", BelowZero),
        ("ST,GS,-0000.000kg", stable(0)),
        ("ST,GS,1.234,kg", stable(1234)),
        ("ST,GS,+0002.72 lb", stable(1234)),
        ("\u{2}ST,GS,+0001.234kg\u{3}", stable(1234)),
        ("OL,+9999999E+19", Overload),
        ("OL,GS,+9999.999kg", Overload),
        ("QT,+0000012 PC", NotWeight),
        ("ST,TR,+0000.150kg", NotWeight),
        ("ST,GS,+0001.234", Garbage),
        ("ST,GS,+0001.234xx", Garbage),
        ("XX,GS,+0001.234kg", Garbage),
        ("ST,GS,1.2.3kg", Garbage),
        // Mettler Toledo SICS.
        ("S S      1.234 kg", stable(1234)),
        ("S D      1.230 kg", moving(1230)),
        ("S S     850 g", stable(850)),
        ("S S     -0.120 kg", BelowZero),
        ("S I", NotWeight),
        ("S +", Overload),
        ("S -", BelowZero),
        ("ES", NotWeight),
        ("EL", NotWeight),
        ("S X      1.234 kg", Garbage),
        ("S S      1.234", Garbage),
        ("S S      1.234 kg extra", Garbage),
        // Plain.
        ("   1234 g", stable(1234)),
        ("1234g", stable(1234)),
        ("1.234 kg", stable(1234)),
        ("+1.234KG", stable(1234)),
        ("0.0005 kg", stable(1)),
        ("0.0004 kg", stable(0)),
        ("2.72 lb", stable(1234)),
        ("2.72 lbs", stable(1234)),
        ("1 lb", stable(454)),
        ("12.5 oz", stable(354)),
        ("2 lb 11.5 oz", stable(1233)),
        ("      1.234 kg  ?", moving(1234)),
        ("1.234kg?", moving(1234)),
        ("? 1.234 kg", moving(1234)),
        ("G 1.234 kg", stable(1234)),
        ("NET 1.234 kg", stable(1234)),
        ("1.234 kg N", stable(1234)),
        ("0.150 kg T", NotWeight),
        ("-0.120 kg", BelowZero),
        ("- 0.120 kg", BelowZero),
        ("-0 g", stable(0)),
        // Not a weight at all.
        ("OL", Overload),
        ("overload", Overload),
        ("UL", BelowZero),
        ("Underload", BelowZero),
        ("", Blank),
        ("  \r\n", Blank),
        ("\u{2}\u{3}", Blank),
        ("1234", Garbage),
        ("1,234 kg", Garbage),
        ("1.234 t", Garbage),
        ("kg", Garbage),
        (".", Garbage),
        (". kg", Garbage),
        ("1234567890123 g", Garbage),
        ("9999999999 g", Garbage),
        ("1.234 kg 5.6 kg", Garbage),
        ("2 lb -3 oz", Garbage),
        ("hello", Garbage),
        ("\u{fffd}\u{fffd} junk", Garbage),
        ("ääää", Garbage),
        ("S", Garbage),
        (",,,", Garbage),
        ("+", Garbage),
        ("-", Garbage),
        ("1.234 kg??", Garbage),
    ];
    for (line, expected) in cases {
        assert_eq!(classify_line(line), *expected, "{line:?}");
        let weight = match expected {
            ScaleLine::Weight(reading) => Some(*reading),
            _ => None,
        };
        assert_eq!(parse_line(line), weight, "{line:?}");
    }
}

#[test]
fn no_line_makes_the_parser_panic() {
    let long = "9".repeat(10_000);
    let lines = [
        long.as_str(),
        "S S",
        "S S ",
        "S  ",
        "ST,",
        "ST,GS,",
        "ST,GS,+",
        "?",
        "? ",
        "1.",
        ".5 kg",
        "\u{0}\u{7f}\u{80}",
        "🙂 kg",
        "1.🙂 kg",
        "2 lb 🙂",
    ];
    for line in lines {
        let _ = classify_line(line);
    }
    assert_eq!(
        parse_line(".5 kg"),
        Some(Reading {
            grams: 500,
            stable: true
        })
    );
    assert_eq!(
        parse_line("1. kg"),
        Some(Reading {
            grams: 1000,
            stable: true
        })
    );
}

/// A pseudo-terminal: the master end is the scale, the slave's path is the port.
fn fake_port() -> (File, PathBuf) {
    let master =
        openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).expect("openpt");
    grantpt(&master).expect("grantpt");
    unlockpt(&master).expect("unlockpt");
    let name = ptsname(&master, Vec::new()).expect("ptsname");
    let path = PathBuf::from(OsString::from_vec(name.into_bytes()));
    (File::from(master), path)
}

/// The scale sends `lines` over and over, `pause` apart, as a scale in continuous output does,
/// on a thread of its own, until the returned sender is used or dropped.
fn send_lines(
    mut master: File,
    lines: Vec<&'static [u8]>,
    pause: Duration,
) -> (mpsc::Sender<()>, thread::JoinHandle<()>) {
    let (done, wait) = mpsc::channel::<()>();
    let handle = thread::spawn(move || {
        for line in lines.iter().cycle() {
            if master.write_all(line).is_err() {
                return;
            }
            if !matches!(
                wait.recv_timeout(pause),
                Err(mpsc::RecvTimeoutError::Timeout)
            ) {
                return;
            }
        }
    });
    (done, handle)
}

/// Sends `line` every 50 ms until told to stop.
fn keep_sending(master: File, line: &'static [u8]) -> (mpsc::Sender<()>, thread::JoinHandle<()>) {
    send_lines(master, vec![line], Duration::from_millis(50))
}

fn open(path: PathBuf) -> Scale {
    Scale::open(&ScaleConfig::new(path)).expect("the fake port opens")
}

#[test]
fn the_stable_weight_after_unstable_ones_is_read() {
    let (master, path) = fake_port();
    let mut scale = open(path);
    let (done, scale_thread) = send_lines(
        master,
        vec![
            b"US,GS,+0000.800kg\r\n",
            b"US,GS,+0001.300kg\r\n",
            b"US,GS,+0001.236kg\r\n",
            b"ST,GS,+0001.234kg\r\n",
            b"ST,GS,+0009.999kg\r\n",
        ],
        Duration::from_millis(20),
    );
    assert_eq!(
        scale.read_stable(Duration::from_secs(10)).expect("weighed"),
        1234
    );
    drop(done);
    scale_thread.join().expect("scale thread");
}

#[test]
fn a_line_split_over_several_writes_is_read_whole() {
    let (master, path) = fake_port();
    let mut scale = open(path);
    let (done, scale_thread) = send_lines(
        master,
        vec![b"S S  ", b"    2.", b"500 kg", b"\r", b"\n"],
        Duration::from_millis(30),
    );
    assert_eq!(
        scale.read_stable(Duration::from_secs(10)).expect("weighed"),
        2500
    );
    drop(done);
    scale_thread.join().expect("scale thread");
}

#[test]
fn garbage_between_weights_is_skipped() {
    let (master, path) = fake_port();
    let mut scale = open(path);
    let (done, scale_thread) = send_lines(
        master,
        vec![
            b"\x00\xff\xfe junk\r\n",
            b"hello\n",
            &[b'x'; 300],
            b"\r\n",
            b"S D      0.700 kg\r\n",
            b"S S      0.750 kg\r\n",
        ],
        Duration::from_millis(20),
    );
    assert_eq!(
        scale.read_stable(Duration::from_secs(10)).expect("weighed"),
        750
    );
    drop(done);
    scale_thread.join().expect("scale thread");
}

#[test]
fn a_weight_sent_before_the_call_is_not_taken_for_the_parcel() {
    let (mut master, path) = fake_port();
    let mut scale = open(path);
    // The scale held the last parcel a moment ago; the lines are in the port by now.
    master
        .write_all(b"ST,GS,+0001.000kg\r\nST,GS,+0001.000kg\r\n")
        .expect("write");
    let deadline = Instant::now() + Duration::from_secs(5);
    while scale.pending.is_empty() && Instant::now() < deadline {
        scale
            .fill(Instant::now() + Duration::from_millis(50))
            .expect("fill");
    }
    assert!(!scale.pending.is_empty(), "the old lines arrived");
    master.write_all(b"ST,GS,+0001.000kg\r\n").expect("write");
    thread::sleep(Duration::from_millis(100));
    let (done, scale_thread) = keep_sending(master, b"ST,GS,+0002.000kg\r\n");
    assert_eq!(
        scale.read_stable(Duration::from_secs(10)).expect("weighed"),
        2000
    );
    drop(done);
    scale_thread.join().expect("scale thread");
}

#[test]
fn the_first_line_after_opening_may_be_cut_and_is_dropped() {
    let (mut master, path) = fake_port();
    let mut scale = open(path);
    // What is left of `US,GS,+0009.999kg` when the port was opened mid-line.
    master
        .write_all(b"9.999kg\r\nST,GS,+0001.234kg\r\n")
        .expect("write");
    let line = scale
        .next_line_until(Instant::now() + Duration::from_secs(10))
        .expect("read");
    assert_eq!(line, Some(stable(1234)));
}

fn timed_out_with(line: &'static [u8]) -> ScaleError {
    let (master, path) = fake_port();
    let mut scale = open(path);
    let (done, scale_thread) = keep_sending(master, line);
    let timeout = Duration::from_millis(600);
    let started = Instant::now();
    let error = scale.read_stable(timeout).expect_err("no stable weight");
    let took = started.elapsed();
    drop(done);
    scale_thread.join().expect("scale thread");
    assert!(took < timeout + Duration::from_secs(3), "took {took:?}");
    error
}

#[test]
fn only_unstable_weights_time_out_with_keep_the_parcel_still() {
    let error = timed_out_with(b"US,GS,+0001.234kg\r\n");
    assert!(matches!(error, ScaleError::NotStable), "{error:?}");
    assert!(error.to_string().contains("keep the parcel still"));
}

#[test]
fn only_garbage_times_out_as_unreadable() {
    let error = timed_out_with(b"\xff\xfe\xfd\x10 ?\r\n");
    assert!(matches!(error, ScaleError::Garbled), "{error:?}");
}

#[test]
fn an_overload_times_out_as_too_heavy() {
    let error = timed_out_with(b"OL,+9999999E+19\r\n");
    assert!(matches!(error, ScaleError::Overload), "{error:?}");
}

#[test]
fn a_scale_that_sends_nothing_is_silent_within_the_timeout() {
    let (_master, path) = fake_port();
    let mut scale = open(path);
    let started = Instant::now();
    let error = scale
        .read_stable(Duration::from_millis(300))
        .expect_err("nothing sent");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(matches!(error, ScaleError::Silent), "{error:?}");
}

#[test]
fn a_scale_that_is_asked_gets_the_request_and_its_answer_is_read() {
    let (mut master, path) = fake_port();
    let config = ScaleConfig {
        request: Some(b"S\r\n".to_vec()),
        ..ScaleConfig::new(path)
    };
    let mut scale = Scale::open(&config).expect("the fake port opens");
    let scale_thread = thread::spawn(move || {
        let mut request = [0u8; 3];
        master.read_exact(&mut request).expect("the request");
        master.write_all(b"S S      0.850 kg\r\n").expect("answer");
        (request, master)
    });
    assert_eq!(
        scale.read_stable(Duration::from_secs(10)).expect("weighed"),
        850
    );
    let (request, _master) = scale_thread.join().expect("scale thread");
    assert_eq!(&request, b"S\r\n");
}

#[test]
fn a_missing_device_says_plug_the_scale_in() {
    let config = ScaleConfig::new("/dev/laituri-no-such-scale");
    let error = Scale::open(&config).expect_err("no such device");
    assert!(matches!(error, ScaleError::Missing { .. }), "{error:?}");
    assert!(error.to_string().contains("plug the scale in"));
}

#[test]
fn a_file_that_is_not_a_serial_port_is_refused() {
    let error = Scale::open(&ScaleConfig::new("/dev/null")).expect_err("not a tty");
    assert!(matches!(error, ScaleError::NotSerial { .. }), "{error:?}");
}

#[test]
fn a_scale_unplugged_while_reading_is_missing_at_once() {
    let (master, path) = fake_port();
    let mut scale = open(path);
    let unplug = thread::spawn(move || {
        thread::sleep(Duration::from_millis(100));
        drop(master);
    });
    let started = Instant::now();
    let error = scale
        .read_stable(Duration::from_secs(20))
        .expect_err("unplugged");
    unplug.join().expect("unplug thread");
    assert!(matches!(error, ScaleError::Missing { .. }), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// Waits for `reader` to show `expected`, for 10 s at most.
fn shows(reader: &ScaleReader, expected: ScaleStatus) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if reader.latest() == expected {
            return true;
        }
        thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn the_reader_shows_the_latest_weight_and_notices_the_scale_going() {
    let (master, path) = fake_port();
    let (changes, changed) = mpsc::channel();
    let reader = ScaleReader::start_notifying(ScaleConfig::new(path), move |status| {
        let _ = changes.send(status);
    })
    .expect("reader thread");
    // The reader opens the port on its own thread; lines sent before that are flushed, so the
    // scale keeps sending, as a continuous scale does.
    let (done, scale_thread) = keep_sending(master, b"ST,GS,+0001.234kg\r\n");
    assert!(
        shows(
            &reader,
            ScaleStatus::Weight(Reading {
                grams: 1234,
                stable: true
            })
        ),
        "{:?}",
        reader.latest()
    );
    drop(done);
    scale_thread.join().expect("scale thread");
    assert!(
        shows(&reader, ScaleStatus::Missing),
        "{:?}",
        reader.latest()
    );

    let started = Instant::now();
    drop(reader);
    assert!(started.elapsed() < Duration::from_secs(5));
    let seen: Vec<ScaleStatus> = changed.try_iter().collect();
    assert!(
        seen.contains(&ScaleStatus::Weight(Reading {
            grams: 1234,
            stable: true
        })),
        "{seen:?}"
    );
    assert_eq!(seen.last(), Some(&ScaleStatus::Missing), "{seen:?}");
}

#[test]
fn the_reader_of_a_missing_scale_says_so_and_stops_when_dropped() {
    let reader =
        ScaleReader::start(ScaleConfig::new("/dev/laituri-no-such-scale")).expect("reader thread");
    assert!(
        shows(&reader, ScaleStatus::Missing),
        "{:?}",
        reader.latest()
    );
    let started = Instant::now();
    drop(reader);
    assert!(started.elapsed() < Duration::from_secs(5));
}
