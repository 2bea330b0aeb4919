//! The proxy against a tiny echo server on 127.0.0.1: every fault does what it says, and the
//! bytes that do get through are exactly the bytes that were sent.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::*;

/// Echoes every byte back, prefixed by nothing; counts connections and keeps what it received.
struct Echo {
    addr: SocketAddr,
    accepted: Arc<AtomicU64>,
    received: Arc<Mutex<Vec<u8>>>,
}

impl Echo {
    fn start() -> Echo {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicU64::new(0));
        let received = Arc::new(Mutex::new(Vec::new()));
        let (a, r) = (accepted.clone(), received.clone());
        // The thread ends with the test process; it only ever blocks in accept or read.
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                a.fetch_add(1, Ordering::SeqCst);
                let r = r.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 8192];
                    loop {
                        match stream.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => {
                                r.lock().unwrap().extend_from_slice(&buf[..n]);
                                if stream.write_all(&buf[..n]).is_err() {
                                    return;
                                }
                            }
                        }
                    }
                });
            }
        });
        Echo {
            addr,
            accepted,
            received,
        }
    }

    fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::SeqCst)
    }

    fn received(&self) -> Vec<u8> {
        self.received.lock().unwrap().clone()
    }
}

fn connect(proxy: &FaultProxy) -> TcpStream {
    let s = TcpStream::connect(proxy.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Sends `msg` and reads the same number of bytes back.
fn round_trip(s: &mut TcpStream, msg: &[u8]) -> std::io::Result<Vec<u8>> {
    s.write_all(msg)?;
    let mut back = vec![0u8; msg.len()];
    let mut got = 0;
    while got < msg.len() {
        match s.read(&mut back[got..])? {
            0 => return Err(std::io::Error::new(ErrorKind::UnexpectedEof, "closed")),
            n => got += n,
        }
    }
    Ok(back)
}

/// What a client sees after sending `msg` and waiting up to `wait` for an answer.
#[derive(Debug, PartialEq)]
enum Seen {
    Answer,
    Silence,
    Closed,
}

fn try_once(proxy: &FaultProxy, msg: &[u8], wait: Duration) -> Seen {
    let mut s = match TcpStream::connect(proxy.addr()) {
        Ok(s) => s,
        Err(_) => return Seen::Closed,
    };
    s.set_read_timeout(Some(wait)).unwrap();
    if s.write_all(msg).is_err() {
        return Seen::Closed;
    }
    let mut buf = [0u8; 64];
    match s.read(&mut buf) {
        Ok(0) => Seen::Closed,
        Ok(_) => Seen::Answer,
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Seen::Silence,
        Err(_) => Seen::Closed,
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn none_forwards_every_byte_in_order_both_ways() {
    let echo = Echo::start();
    let proxy = FaultProxy::start(echo.addr).unwrap();
    assert!(proxy.url().starts_with("http://127.0.0.1:"));
    let mut s = connect(&proxy);
    let msg = pattern(1 << 20);
    assert_eq!(round_trip(&mut s, &msg).unwrap(), msg);
    // The same connection carries a second request (keep-alive).
    assert_eq!(round_trip(&mut s, b"again").unwrap(), b"again");
    assert_eq!(echo.accepted(), 1);
    assert_eq!(proxy.stats().connections, 1);
}

#[test]
fn delay_holds_each_direction_and_keeps_the_bytes() {
    let echo = Echo::start();
    let proxy = FaultProxy::start(echo.addr).unwrap();
    proxy.set(Fault::Delay {
        one_way_ms: 400,
        jitter_ms: 50,
    });
    let mut s = connect(&proxy);
    // Held back: nothing can come back before both one-way delays have passed.
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let r = round_trip(&mut s, b"hello");
    assert!(
        matches!(&r, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "{r:?}"
    );
    // Then it comes, intact.
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut back = [0u8; 5];
    s.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"hello");
    let msg = pattern(100_000);
    assert_eq!(round_trip(&mut s, &msg).unwrap(), msg);
}

#[test]
fn blackhole_reads_and_never_answers_and_the_server_never_sees_it() {
    let echo = Echo::start();
    let proxy = FaultProxy::start(echo.addr).unwrap();
    proxy.set(Fault::Blackhole);
    assert_eq!(
        try_once(&proxy, b"anyone?", Duration::from_millis(300)),
        Seen::Silence
    );
    assert_eq!(echo.accepted(), 0);
    assert_eq!(proxy.stats().blackholed, 1);
}

#[test]
fn reset_closes_with_a_reset_and_the_server_never_sees_it() {
    let echo = Echo::start();
    let proxy = FaultProxy::start(echo.addr).unwrap();
    proxy.set(Fault::Reset);
    let mut s = connect(&proxy);
    // The reset shows on the write when it arrived first, else on the read.
    let w = s.write_all(b"x");
    let mut buf = [0u8; 8];
    let r = s.read(&mut buf);
    let reset =
        |e: &std::io::Error| matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe);
    assert!(
        w.as_ref().is_err_and(reset) || r.as_ref().is_err_and(reset),
        "a reset, not a clean close: write {w:?}, read {r:?}"
    );
    assert_eq!(echo.accepted(), 0);
    assert_eq!(proxy.stats().resets, 1);
}

#[test]
fn drop_response_forwards_the_request_and_swallows_the_answer() {
    let echo = Echo::start();
    let proxy = FaultProxy::start(echo.addr).unwrap();
    proxy.set(Fault::DropResponse);
    assert_eq!(
        try_once(&proxy, b"apply me", Duration::from_secs(10)),
        Seen::Closed
    );
    // The server got the request (it did the work), the client heard nothing.
    let deadline = Instant::now() + Duration::from_secs(10);
    while echo.received() != b"apply me" && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(echo.received(), b"apply me");
    assert_eq!(proxy.stats().dropped_responses, 1);
}

#[test]
fn bandwidth_limits_the_rate_and_keeps_the_bytes() {
    let echo = Echo::start();
    let proxy = FaultProxy::start(echo.addr).unwrap();
    proxy.set(Fault::Bandwidth {
        bytes_per_sec: 20_000,
    });
    let mut s = connect(&proxy);
    let msg = pattern(20_000);
    // At 20 kB/s each way, a pause follows every kB: 200 ms after the first byte left, far less
    // than 20 kB can be back.
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut back = vec![0u8; msg.len()];
    let mut got = 0;
    let started = Instant::now();
    s.write_all(&msg).unwrap();
    while started.elapsed() < Duration::from_millis(200) {
        match s.read(&mut back[got..]) {
            Ok(n) => got += n,
            Err(_) => break,
        }
    }
    assert!(got < msg.len() / 2, "{got} bytes came back unthrottled");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.read_exact(&mut back[got..]).unwrap();
    assert_eq!(back, msg);
}

#[test]
fn flap_alternates_and_cuts_open_connections_when_the_link_goes_down() {
    let echo = Echo::start();
    let proxy = FaultProxy::start(echo.addr).unwrap();
    // Always down.
    proxy.set(Fault::Flap {
        up_ms: 0,
        down_ms: 60_000,
    });
    assert_eq!(
        try_once(&proxy, b"x", Duration::from_secs(10)),
        Seen::Closed
    );
    // Always up.
    proxy.set(Fault::Flap {
        up_ms: 60_000,
        down_ms: 0,
    });
    assert_eq!(
        try_once(&proxy, b"x", Duration::from_secs(10)),
        Seen::Answer
    );
    // Up for a moment, then down for long: an idle open connection is cut when it goes down.
    proxy.set(Fault::Flap {
        up_ms: 200,
        down_ms: 60_000,
    });
    let mut s = connect(&proxy);
    let _ = round_trip(&mut s, b"x");
    let mut buf = [0u8; 8];
    let r = s.read(&mut buf);
    assert!(
        matches!(&r, Ok(0)) || matches!(&r, Err(e) if e.kind() == ErrorKind::ConnectionReset),
        "{r:?}"
    );
    assert!(proxy.stats().resets >= 2);
}

#[test]
fn flap_phases() {
    assert!(flap_is_up(0, 100, 50));
    assert!(flap_is_up(99, 100, 50));
    assert!(!flap_is_up(100, 100, 50));
    assert!(!flap_is_up(149, 100, 50));
    assert!(flap_is_up(150, 100, 50));
    assert!(flap_is_up(5, 0, 0));
    assert!(!flap_is_up(5, 0, 10));
    assert_eq!(flap_next_down_in(30, 100, 50), Some(70));
    assert_eq!(flap_next_down_in(120, 100, 50), None);
    assert_eq!(flap_next_down_in(30, 100, 0), None);
}

#[test]
fn seeded_faults_repeat_with_the_seed_and_follow_the_probabilities() {
    let echo = Echo::start();
    let outcomes = |seed: u64| -> Vec<Seen> {
        let proxy = FaultProxy::start(echo.addr).unwrap();
        proxy.set(Fault::Seeded {
            seed,
            p_reset: 0.3,
            p_drop_response: 0.3,
            p_blackhole: 0.2,
        });
        // Long enough that a forwarded answer always arrives, even on a busy machine.
        (0..12)
            .map(|_| try_once(&proxy, b"x", Duration::from_millis(1500)))
            .collect()
    };
    let a = outcomes(7);
    assert_eq!(a, outcomes(7), "the same seed gives the same faults");
    assert!(a.contains(&Seen::Answer), "{a:?}");
    assert!(a.contains(&Seen::Closed), "{a:?}");
    assert!(a.contains(&Seen::Silence), "{a:?}");

    let proxy = FaultProxy::start(echo.addr).unwrap();
    proxy.set(Fault::Seeded {
        seed: 1,
        p_reset: 1.0,
        p_drop_response: 0.0,
        p_blackhole: 0.0,
    });
    for _ in 0..5 {
        assert_eq!(
            try_once(&proxy, b"x", Duration::from_secs(10)),
            Seen::Closed
        );
    }
    assert_eq!(proxy.stats().resets, 5);
}

#[test]
fn a_new_fault_applies_to_the_next_request_of_an_open_connection() {
    let echo = Echo::start();
    let proxy = FaultProxy::start(echo.addr).unwrap();
    let mut s = connect(&proxy);
    assert_eq!(round_trip(&mut s, b"one").unwrap(), b"one");
    proxy.set(Fault::Blackhole);
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let r = round_trip(&mut s, b"two");
    assert!(
        matches!(&r, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "{r:?}"
    );
    assert_eq!(
        echo.received(),
        b"one",
        "the blackholed request never reached the server"
    );
}

#[test]
fn set_upstream_moves_new_connections_to_the_new_server() {
    let first = Echo::start();
    let second = Echo::start();
    let proxy = FaultProxy::start(first.addr).unwrap();
    let mut s = connect(&proxy);
    assert_eq!(round_trip(&mut s, b"a").unwrap(), b"a");
    proxy.set_upstream(second.addr);
    let mut s = connect(&proxy);
    assert_eq!(round_trip(&mut s, b"b").unwrap(), b"b");
    assert_eq!(first.received(), b"a");
    assert_eq!(second.received(), b"b");
}

#[test]
fn a_dead_upstream_is_a_reset_for_the_client() {
    let gone = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let proxy = FaultProxy::start(gone).unwrap();
    assert_eq!(
        try_once(&proxy, b"x", Duration::from_secs(10)),
        Seen::Closed
    );
    assert_eq!(proxy.stats().upstream_failures, 1);
}

#[test]
fn stop_closes_the_listener_and_open_connections() {
    let echo = Echo::start();
    let proxy = FaultProxy::start(echo.addr).unwrap();
    let addr = proxy.addr();
    let mut s = connect(&proxy);
    assert_eq!(round_trip(&mut s, b"a").unwrap(), b"a");
    proxy.stop();
    let mut buf = [0u8; 4];
    let r = s.read(&mut buf);
    assert!(matches!(r, Ok(0) | Err(_)), "{r:?}");
    let _ = s.shutdown(Shutdown::Both);
    assert!(TcpStream::connect(addr).is_err());
}
