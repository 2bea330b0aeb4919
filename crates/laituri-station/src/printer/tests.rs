use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::*;

/// A label as the terminal would send one, with a made-up recipient in it.
const LABEL: &[u8] = b"^XA^CF0,40^FO40,40^FDTesti Asiakas^FS^FO40,100^FDEsimerkkikatu 1^FS^XZ";

/// A printer with nothing wrong: every flag 0.
const READY: &[u8] = b"\x02030,0,0,1245,000,0,0,0,000,0,0,0\x03\r\n\
\x02000,0,0,0,0,2,4,0,00000000,1,000\x03\r\n\
\x021234,0\x03\r\n";

/// Out of paper, and paused because of it.
const PAPER_OUT: &[u8] = b"\x02030,1,1,1245,000,0,0,0,000,0,0,0\x03\r\n\
\x02000,0,0,0,0,2,4,0,00000000,1,000\x03\r\n\
\x021234,0\x03\r\n";

fn config(address: String) -> PrinterConfig {
    PrinterConfig {
        connect_timeout: Duration::from_secs(2),
        write_timeout: Duration::from_secs(2),
        status_timeout: Duration::from_millis(300),
        close_timeout: Duration::from_secs(2),
        ..PrinterConfig::new(address)
    }
}

/// A printer on loopback that runs `serve` on the first connection; its result comes back
/// through the handle.
fn printer<T: Send + 'static>(
    serve: impl FnOnce(TcpStream) -> T + Send + 'static,
) -> (String, thread::JoinHandle<T>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let address = listener.local_addr().expect("its address").to_string();
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept the terminal");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("read timeout");
        serve(stream)
    });
    (address, handle)
}

fn read_exactly(stream: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    stream.read_exact(&mut buf).expect("read the query");
    buf
}

fn read_to_end(stream: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).expect("read to the end");
    buf
}

#[test]
fn a_label_arrives_byte_for_byte_without_a_status_check() {
    let (address, printer) = printer(|mut stream| read_to_end(&mut stream));
    let config = PrinterConfig {
        check_status: false,
        ..config(address)
    };
    let receipt = print(&config, LABEL).expect("printed");
    assert_eq!(printer.join().expect("printer thread"), LABEL);
    assert_eq!(receipt.status, StatusCheck::Skipped);
    assert_eq!(receipt.bytes, LABEL.len());
    assert!(receipt.closed_by_printer);
}

#[test]
fn a_ready_printer_is_asked_its_status_and_then_gets_the_label() {
    let (address, printer) = printer(|mut stream| {
        let query = read_exactly(&mut stream, 3);
        stream.write_all(READY).expect("answer");
        (query, read_to_end(&mut stream))
    });
    let receipt = print(&config(address.clone()), LABEL).expect("printed");
    let (query, label) = printer.join().expect("printer thread");
    assert_eq!(query, b"~HS");
    assert_eq!(label, LABEL);
    assert_eq!(receipt.status, StatusCheck::Ready);
    assert_eq!(receipt.printer.to_string(), address);
}

#[test]
fn a_printer_out_of_paper_gets_no_label_and_the_error_says_what_to_do() {
    let (address, printer) = printer(|mut stream| {
        let query = read_exactly(&mut stream, 3);
        stream.write_all(PAPER_OUT).expect("answer");
        (query, read_to_end(&mut stream))
    });
    let error = print(&config(address), LABEL).expect_err("out of paper");
    let (query, rest) = printer.join().expect("printer thread");
    assert_eq!(query, b"~HS");
    assert!(rest.is_empty(), "nothing after the status query");
    assert!(matches!(error, PrintError::PaperOut { .. }), "{error:?}");
    assert!(error.is_retryable());
    let message = error.to_string();
    assert!(message.contains("load a new roll"), "{message}");
    assert!(!message.contains("Asiakas") && !message.contains("^XA"));
}

#[test]
fn a_printer_that_never_answers_or_reads_is_printed_to_within_the_timeouts() {
    let (done, wait) = mpsc::channel::<()>();
    let (address, printer) = printer(move |stream| {
        // Holds the connection open without reading or answering until the test is done.
        let _ = wait.recv_timeout(Duration::from_secs(20));
        drop(stream);
    });
    let config = config(address);
    let started = Instant::now();
    let receipt = print(&config, LABEL).expect("printed into the connection");
    let took = started.elapsed();
    done.send(()).expect("printer thread waits");
    printer.join().expect("printer thread");
    assert_eq!(receipt.status, StatusCheck::NoAnswer);
    assert!(!receipt.closed_by_printer);
    let bound = config.status_timeout + config.write_timeout + config.close_timeout;
    assert!(took < bound + Duration::from_secs(5), "took {took:?}");
}

#[test]
fn a_label_larger_than_a_printer_that_stopped_reading_takes_is_stalled() {
    let (done, wait) = mpsc::channel::<()>();
    let (address, printer) = printer(move |stream| {
        let _ = wait.recv_timeout(Duration::from_secs(30));
        drop(stream);
    });
    let config = PrinterConfig {
        check_status: false,
        write_timeout: Duration::from_millis(500),
        ..config(address)
    };
    // Far more than the socket buffers on both sides take.
    let label = vec![b'A'; 64 * 1024 * 1024];
    let started = Instant::now();
    let error = print(&config, &label).expect_err("the printer takes nothing");
    let took = started.elapsed();
    done.send(()).expect("printer thread waits");
    printer.join().expect("printer thread");
    assert!(matches!(error, PrintError::Stalled { .. }), "{error:?}");
    assert!(error.is_retryable());
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

#[test]
fn a_port_where_nothing_listens_is_not_answering_at_once() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let address = listener.local_addr().expect("its address").to_string();
    drop(listener);
    let config = config(address);
    let started = Instant::now();
    let error = print(&config, LABEL).expect_err("nothing listens");
    assert!(
        started.elapsed() < config.connect_timeout + Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        matches!(error, PrintError::NotAnswering { .. }),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert!(
        error
            .to_string()
            .contains("check the printer is on and its network cable")
    );
}

#[test]
fn a_printer_that_hangs_up_on_the_status_query_gets_the_label_on_a_new_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let address = listener.local_addr().expect("its address").to_string();
    let printer = thread::spawn(move || {
        let (first, _) = listener.accept().expect("first connection");
        drop(first);
        let (mut second, _) = listener.accept().expect("second connection");
        second
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("read timeout");
        read_to_end(&mut second)
    });
    let receipt = print(&config(address), LABEL).expect("printed");
    assert_eq!(printer.join().expect("printer thread"), LABEL);
    assert_eq!(receipt.status, StatusCheck::NoAnswer);
}

#[test]
fn bad_addresses_are_refused_before_any_connection_and_are_not_retryable() {
    for address in [
        "",
        "   ",
        "printer:notaport",
        "printer:0",
        "printer:70000",
        "a b",
        "[::1",
    ] {
        let error = print(&config(address.to_owned()), LABEL).expect_err(address);
        assert!(
            matches!(error, PrintError::BadAddress { .. }),
            "{address:?}: {error:?}"
        );
        assert!(!error.is_retryable());
    }
}

#[test]
fn addresses_take_the_raw_print_port_when_it_is_left_out() {
    let cases: &[(&str, Option<(&str, u16)>)] = &[
        ("192.0.2.10", Some(("192.0.2.10", 9100))),
        ("192.0.2.10:6101", Some(("192.0.2.10", 6101))),
        (
            " zebra-3.dock.example ",
            Some(("zebra-3.dock.example", 9100)),
        ),
        ("zebra-3:9101", Some(("zebra-3", 9101))),
        ("2001:db8::10", Some(("2001:db8::10", 9100))),
        ("[2001:db8::10]", Some(("2001:db8::10", 9100))),
        ("[2001:db8::10]:9101", Some(("2001:db8::10", 9101))),
        ("", None),
        (":9100", None),
        ("zebra:", None),
        ("-zebra", None),
        ("zebra/3", None),
    ];
    for (address, expected) in cases {
        let parsed = parse_address(address);
        let expected = expected.map(|(host, port)| (host.to_owned(), port));
        assert_eq!(parsed, expected, "{address:?}");
    }
}

#[test]
fn host_status_flags_are_read_from_their_fields() {
    let status = |first: &str, second: &str| {
        let reply = format!("\x02{first}\x03\r\n\x02{second}\x03\r\n\x021234,0\x03\r\n");
        parse_host_status(reply.as_bytes())
    };
    let ready = HostStatus::default();
    let cases: &[(&str, &str, Option<HostStatus>)] = &[
        (
            "030,0,0,1245,000,0,0,0,000,0,0,0",
            "000,0,0,0,0,2,4,0,00000000,1,000",
            Some(ready),
        ),
        (
            "030,1,0,1245,000,0,0,0,000,0,0,0",
            "000,0,0,0,0,2,4,0,00000000,1,000",
            Some(HostStatus {
                paper_out: true,
                ..ready
            }),
        ),
        (
            "030,0,1,1245,000,0,0,0,000,0,0,0",
            "000,0,0,0,0,2,4,0,00000000,1,000",
            Some(HostStatus {
                paused: true,
                ..ready
            }),
        ),
        (
            "030,0,0,1245,000,1,0,0,000,0,0,0",
            "000,0,0,0,0,2,4,0,00000000,1,000",
            Some(HostStatus {
                buffer_full: true,
                ..ready
            }),
        ),
        (
            "030,0,0,1245,000,0,0,0,000,0,0,0",
            "000,0,1,0,0,2,4,0,00000000,1,000",
            Some(HostStatus {
                head_open: true,
                ..ready
            }),
        ),
        // Ribbon out counts in thermal transfer mode only.
        (
            "030,0,0,1245,000,0,0,0,000,0,0,0",
            "000,0,0,1,1,2,4,0,00000000,1,000",
            Some(HostStatus {
                ribbon_out: true,
                ..ready
            }),
        ),
        (
            "030,0,0,1245,000,0,0,0,000,0,0,0",
            "000,0,0,1,0,2,4,0,00000000,1,000",
            Some(ready),
        ),
        // Not a flag where one belongs, or too few fields.
        (
            "030,X,0,1245,000,0,0,0,000,0,0,0",
            "000,0,0,0,0,2,4,0,00000000,1,000",
            None,
        ),
        ("030,0", "000,0,0,0,0,2,4,0,00000000,1,000", None),
        ("030,0,0,1245", "000,0", None),
    ];
    for (first, second, expected) in cases {
        assert_eq!(status(first, second), *expected, "{first} / {second}");
    }
    for garbage in [
        &b""[..],
        b"OK\r\n",
        b"\x02030,0,0,1245\x03",
        b"\x02\xff\xfe\x03\x02\x03",
        b"\x03\x02",
    ] {
        assert_eq!(parse_host_status(garbage), None, "{garbage:?}");
    }
}

#[test]
fn every_error_message_names_the_printer() {
    let address = "192.0.2.10:9100".to_owned();
    let io = || std::io::Error::other("cause");
    let errors = [
        PrintError::BadAddress {
            address: address.clone(),
        },
        PrintError::UnknownHost {
            address: address.clone(),
            source: io(),
        },
        PrintError::NotAnswering {
            address: address.clone(),
            source: io(),
        },
        PrintError::PaperOut {
            address: address.clone(),
        },
        PrintError::HeadOpen {
            address: address.clone(),
        },
        PrintError::RibbonOut {
            address: address.clone(),
        },
        PrintError::Paused {
            address: address.clone(),
        },
        PrintError::Stalled {
            address: address.clone(),
        },
        PrintError::Broken {
            address: address.clone(),
            source: io(),
        },
    ];
    for error in errors {
        let message = error.to_string();
        assert!(message.contains(&address), "{message}");
        assert!(message.contains(": "), "{message}");
    }
}
