//! The floor as a person meets it, pinned through the real Slint components, the real store and
//! the real server on 127.0.0.1:0: a mistyped date is a date error, never an unknown barcode; a
//! scan refused while an error waits says so on screen; a lot or expiry prompt can be left with a
//! visible Cancel that is not shown as success; a confirmation says what it confirms, also after
//! an error in between; a PIN never echoes; a terminal that is not enrolled says so; every word is
//! in the operator's language.

mod support;

use std::rc::Rc;

use laituri::sync::{SyncProblem, SyncStatus};
use laituri::terminal::Screen;
use laituri::ui::{self, AppWindow, Ctx};
use slint::ComponentHandle;
use support::ui::{has, key, scan, tap, value};

struct Rig {
    _dir: tempfile::TempDir,
    server: Option<support::DemoServer>,
    ctx: Rc<Ctx>,
    window: AppWindow,
}

/// A window over a store; synced with a demo server unless `enrolled` is false.
fn rig(enrolled: bool) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("terminal.sqlite3");
    let server = enrolled.then(|| {
        let server = support::start_demo_server(dir.path());
        let sync = support::sync_config(db.clone(), &server.handle.url());
        support::sync_ok(&sync);
        server
    });
    let (ctx, window) = support::ui::open_window(&db);
    Rig {
        _dir: dir,
        server,
        ctx,
        window,
    }
}

fn exceptions(r: &Rig) -> u64 {
    r.ctx
        .terminal
        .borrow()
        .store()
        .counts()
        .unwrap()
        .open_exceptions
}

/// Logs in the English-speaking receiving operator with a PIN (typed on the hardware keys).
fn log_in(r: &Rig) {
    let guide = &r.server.as_ref().unwrap().guide;
    let op = guide
        .operators
        .iter()
        .find(|o| o.pin.is_some() && o.language == "en")
        .expect("an English operator with a PIN");
    scan(&r.window, &op.badge);
    scan(&r.window, op.pin.as_deref().unwrap());
    assert_eq!(
        *r.ctx.terminal.borrow().screen(),
        Screen::Home,
        "{}",
        value(&r.window, "Feedback")
    );
}

#[test]
fn a_mistyped_date_is_a_date_error_and_a_lot_prompt_can_be_left() {
    let r = rig(true);
    log_in(&r);
    let guide = &r.server.as_ref().unwrap().guide;
    let notice = guide
        .notices
        .iter()
        .find(|n| n.scans.iter().any(|s| s.code.contains("(17)")))
        .expect("a notice with best-before dates");
    let gs1 = notice
        .scans
        .iter()
        .find(|s| s.code.starts_with("(01)0") && s.code.contains("(10)"))
        .unwrap();
    // The plain EAN-13 inside the GS1 label: the product without its lot and date.
    let ean = gs1.code[5..18].to_string();
    scan(&r.window, &notice.reference);
    scan(&r.window, &guide.totes[0]);
    let before = exceptions(&r);

    scan(&r.window, &ean);
    assert!(value(&r.window, "Prompt").contains(&gs1.product_name));
    if value(&r.window, "Prompt").to_lowercase().contains("lot") {
        scan(&r.window, "A2417");
    }
    // A date typed wrong on the hardware keys.
    scan(&r.window, "271340");
    assert!(
        value(&r.window, "Feedback").contains("271340 is not a date"),
        "{}",
        value(&r.window, "Feedback")
    );
    assert_eq!(
        exceptions(&r),
        before,
        "no unknown-barcode exception for a typo"
    );

    // Rule 2: a scan while the error waits is refused on screen, not only by sound.
    scan(&r.window, &ean);
    assert!(
        value(&r.window, "Feedback").contains("acknowledge the error first"),
        "{}",
        value(&r.window, "Feedback")
    );
    tap(&r.window, "Acknowledge");

    // Rule 3: the waiting step can be left with a visible Cancel; not in the success colour.
    assert!(
        has(&r.window, "Cancel"),
        "Cancel is on screen while a date is asked for"
    );
    tap(&r.window, "Cancel");
    let feedback = value(&r.window, "Feedback");
    assert!(feedback.contains("nothing recorded"), "{feedback}");
    assert!(
        feedback.contains(&gs1.product_name),
        "says what to do with it: {feedback}"
    );
    let tone = r.window.global::<ui::AppAdapter>().get_tone();
    assert_eq!(tone, ui::Tone::Warning);
}

#[test]
fn a_confirmation_says_what_it_confirms_also_after_an_error() {
    let r = rig(true);
    log_in(&r);
    let guide = &r.server.as_ref().unwrap().guide;
    let (notice, over) = guide
        .notices
        .iter()
        .flat_map(|n| n.scans.iter().map(move |s| (n, s)))
        .find(|(_, s)| s.note.starts_with("over"))
        .expect("a line received over its tolerance");
    let expected = notice
        .expected
        .iter()
        .find(|l| l.product_id == over.product_id)
        .unwrap()
        .expected_qty;
    scan(&r.window, &notice.reference);
    scan(&r.window, &guide.totes[1]);
    let mut asked_at = None;
    for n in 1..=over.times {
        scan(&r.window, &over.code);
        if has(&r.window, "Confirm") {
            asked_at = Some(n as i64);
            break;
        }
    }
    let n = asked_at.expect("the over-receipt asks for confirmation");
    let prompt = value(&r.window, "Prompt");
    for part in [
        n.to_string(),
        expected.to_string(),
        over.product_name.clone(),
    ] {
        assert!(prompt.contains(&part), "{prompt:?} lacks {part:?}");
    }
    // An error in between: a location label where an item is wanted.
    scan(&r.window, "DOCK-2");
    assert!(has(&r.window, "Acknowledge"));
    tap(&r.window, "Acknowledge");
    assert_eq!(
        value(&r.window, "Prompt"),
        prompt,
        "still says what it confirms"
    );
    tap(&r.window, "Confirm");
    assert!(
        !has(&r.window, "Acknowledge"),
        "{}",
        value(&r.window, "Feedback")
    );
}

#[test]
fn a_pin_typed_on_the_hardware_keys_shows_as_dots() {
    let r = rig(true);
    let guide = &r.server.as_ref().unwrap().guide;
    let op = guide.operators.iter().find(|o| o.pin.is_some()).unwrap();
    scan(&r.window, &op.badge);
    assert_eq!(*r.ctx.terminal.borrow().screen(), Screen::Pin);
    let pin = op.pin.as_deref().unwrap();
    for ch in pin.chars() {
        key(&r.window, ch.to_string().into());
    }
    let shown = value(&r.window, "Scan field");
    assert_eq!(shown, "•".repeat(pin.len()));
    assert!(!shown.contains(pin));
}

#[test]
fn a_terminal_that_is_not_enrolled_says_so_and_what_to_do() {
    let r = rig(false);
    assert_eq!(value(&r.window, "Prompt"), "This terminal is not enrolled");
    assert!(value(&r.window, "Detail").contains("enrolment code"));
}

#[test]
fn closing_lists_short_and_over_lines_distinctly() {
    let r = rig(true);
    log_in(&r);
    let guide = &r.server.as_ref().unwrap().guide;
    let notice = guide
        .notices
        .iter()
        .find(|n| n.scans.iter().any(|s| s.note.starts_with("short:")))
        .expect("a notice that comes in short");
    scan(&r.window, &notice.reference);
    scan(&r.window, &guide.totes[2]);
    for s in &notice.scans {
        for _ in 0..s.times {
            scan(&r.window, &s.code);
            if has(&r.window, "Confirm") {
                tap(&r.window, "Confirm");
            }
        }
    }
    tap(&r.window, "Close receipt");
    let feedback = value(&r.window, "Feedback");
    let lines: Vec<String> = notice
        .scans
        .iter()
        .map(|s| value(&r.window, &format!("Line {}", s.product_name)))
        .collect();
    assert!(feedback.contains("1 short, 1 over"), "{feedback} {lines:?}");
    for line in &notice.expected {
        let s = notice
            .scans
            .iter()
            .find(|s| s.product_id == line.product_id)
            .unwrap();
        let received: i64 = notice
            .scans
            .iter()
            .filter(|x| x.product_id == line.product_id)
            .map(|x| x.units)
            .sum();
        let label = format!("Difference {}", s.product_name);
        let want = match received.cmp(&line.expected_qty) {
            std::cmp::Ordering::Less => Some(format!("{} missing", line.expected_qty - received)),
            std::cmp::Ordering::Greater => Some(format!("{} over", received - line.expected_qty)),
            std::cmp::Ordering::Equal => None,
        };
        match want {
            Some(text) => assert_eq!(value(&r.window, &label), text),
            None => assert!(
                !has(&r.window, &label),
                "{label} shown for a line as expected"
            ),
        }
    }
}

#[test]
fn the_age_of_the_oldest_waiting_action_counts_up_and_the_marks_are_explained() {
    let r = rig(true);
    log_in(&r);
    let guide = &r.server.as_ref().unwrap().guide;
    let notice = &guide.notices[0];
    // No sync runs in this test: everything scanned waits, as when offline.
    scan(&r.window, &notice.reference);
    scan(&r.window, &guide.totes[3]);
    let header = r.window.global::<ui::HeaderAdapter>();
    assert!(header.get_pending() > 0);
    let before = header.get_oldest().to_string();
    assert!(before.ends_with(" s"), "{before}");
    // A second passes on the clock and on the event loop's timers.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    i_slint_backend_testing::mock_elapsed_time(std::time::Duration::from_millis(1000));
    let after = header.get_oldest().to_string();
    assert_ne!(after, before, "the age counts up by itself");

    tap(&r.window, "Menu");
    tap(&r.window, "About");
    let legend = value(&r.window, "Legend");
    for mark in ["✓✓", "✗", "confirmed by the server", "wait to be sent"] {
        assert!(legend.contains(mark), "{legend}");
    }
}

#[test]
fn another_merchants_product_and_a_product_on_the_badge_screen_are_named() {
    let r = rig(true);
    let guide = &r.server.as_ref().unwrap().guide;
    let nordic = guide
        .notices
        .iter()
        .find(|n| n.merchant_name == "Nordic Pantry")
        .unwrap();
    let kettu = guide
        .notices
        .iter()
        .find(|n| n.merchant_name != nordic.merchant_name)
        .unwrap();
    let kettu_item = kettu
        .scans
        .iter()
        .find(|s| !s.code.starts_with('('))
        .unwrap();

    scan(&r.window, &kettu_item.code);
    let feedback = value(&r.window, "Feedback");
    assert!(feedback.contains("That is a product"), "{feedback}");
    tap(&r.window, "Acknowledge");

    log_in(&r);
    scan(&r.window, &nordic.reference);
    scan(&r.window, &guide.totes[4]);
    scan(&r.window, &kettu_item.code);
    let feedback = value(&r.window, "Feedback");
    assert!(
        feedback.contains(&format!("belongs to {}", kettu.merchant_name)),
        "{feedback}"
    );
    assert!(feedback.contains(&kettu_item.product_name), "{feedback}");
}

#[test]
fn every_word_is_in_the_operators_language_swedish_too() {
    let r = rig(true);
    let guide = &r.server.as_ref().unwrap().guide;
    let lead = guide
        .operators
        .iter()
        .find(|o| o.language == "sv" && o.pin.is_some())
        .expect("the demo's Swedish-speaking lead");
    // Before anyone is known the terminal speaks English; from the badge on, the person's
    // language: the PIN prompt, the menu, the messages.
    assert_eq!(value(&r.window, "Prompt"), "Scan your badge");
    scan(&r.window, &lead.badge);
    assert_eq!(
        value(&r.window, "Keypad title"),
        format!("{}: PIN-kod", lead.name)
    );
    scan(&r.window, lead.pin.as_deref().unwrap());
    assert_eq!(
        value(&r.window, "Feedback"),
        format!("Hej {}. Välj en uppgift.", lead.name)
    );
    for label in [
        "Godsmottagning",
        "Inlagring",
        "Skannertest",
        "Om",
        "Logga ut",
    ] {
        assert!(has(&r.window, label), "no {label:?} in the Swedish menu");
    }
    // The sync line under the header speaks the operator's language too.
    ui::apply_status(
        &r.window,
        &SyncStatus {
            problem: Some(SyncProblem::Unreachable),
            ..SyncStatus::default()
        },
    );
    assert_eq!(
        value(&r.window, "Sync problem"),
        "Ingen anslutning: servern går inte att nå. Fortsätt arbeta; allt sparas på enheten."
    );
    tap(&r.window, "Logga ut");

    // A Finnish operator: the same line in Finnish, and a date as Finns write it.
    let aino = guide
        .operators
        .iter()
        .find(|o| o.language == "fi" && o.pin.is_none())
        .expect("a Finnish operator without a PIN");
    scan(&r.window, &aino.badge);
    assert_eq!(
        value(&r.window, "Sync problem"),
        "Ei yhteyttä: palvelinta ei tavoiteta. Jatka työtä; kaikki tallentuu laitteelle."
    );
    tap(&r.window, "Lukijan tarkistus");
    let dated = guide
        .notices
        .iter()
        .flat_map(|n| &n.scans)
        .find_map(|s| {
            let at = s.code.find("(17)")?;
            Some((s.code.clone(), s.code[at + 4..at + 10].to_string()))
        })
        .expect("a demo label with an expiry date");
    scan(&r.window, &dated.0);
    let (yy, mm, dd) = (&dated.1[0..2], &dated.1[2..4], &dated.1[4..6]);
    let finnish = format!(
        "{}.{}.20{yy}",
        dd.trim_start_matches('0'),
        mm.trim_start_matches('0')
    );
    assert_eq!(
        value(&r.window, "Element detail 17"),
        finnish,
        "the expiry of {} on the Finnish scanner check",
        dated.0
    );
    // A misread GTIN: what is wrong, and what to do, in Finnish.
    let gtin = guide
        .notices
        .iter()
        .flat_map(|n| &n.scans)
        .map(|s| s.code.as_str())
        .find(|c| c.len() == 13 && c.bytes().all(|b| b.is_ascii_digit()))
        .expect("a demo EAN-13");
    let last = gtin.as_bytes()[12] - b'0';
    let misread = format!("{}{}", &gtin[..12], (last + 1) % 10);
    scan(&r.window, &misread);
    let problems = value(&r.window, "Scan problems");
    assert!(
        problems.starts_with(&format!("GTIN-koodin {misread} tarkiste on väärin")),
        "{problems}"
    );
}
