//! The terminal's core: who is logged in, which screen is up, and what a scan means there.
//!
//! This is the controller layer of DESIGN.md section 2. It holds no Slint types: the UI adapters
//! call it and map what it returns to the screen; the headless tests and the scanning driver call
//! it the same way. A scan goes parse -> look-up -> flow step -> durable commit -> [`Reply`], all on
//! the calling thread, with point queries only. It never touches the network: it only wakes the
//! sync worker after a commit.

pub mod counting;
pub mod flows;
pub mod job;
pub mod messages;
pub mod packing;
pub mod picking;
pub mod putaway;
pub mod receiving;
pub mod recognise;
pub mod returns;
pub mod seam;
pub mod stock;

use std::sync::Arc;

use laituri_domain::calendar::Date;
use laituri_domain::scan::{self, ScanKind, ScanOptions};
use laituri_protocol::{EventBody, Role, TaskClaim, TaskKind};
use tokio::sync::Notify;

use crate::store::{OperatorRow, Store, StoreError, now_ms};

/// A PIN to check against an operator's hash, away from the UI thread if need be.
#[derive(Debug, Clone)]
pub struct PinCheck {
    operator_id: String,
    hash: String,
    pin: String,
}

impl PinCheck {
    /// The slow part (tens of milliseconds): whether the PIN is the operator's.
    pub fn matches(&self) -> bool {
        laituri_protocol::pin_matches(&self.hash, &self.pin)
    }
}

/// Wrong PINs in a row after which an operator's badge is locked on this device.
pub const PIN_TRIES: u32 = 3;
/// How long the lock lasts, from the last wrong PIN. With PINs of 4 digits, three guesses every
/// five minutes take weeks to find one; a lead's has 6 digits.
pub const PIN_LOCK_MINUTES: i64 = 5;
use laituri_domain::returns::Message as ReturnsMessage;
use messages::{Lang, Text};
pub use packing::{PackingController, PackingView};
pub use picking::{PickingController, PickingView};
pub use putaway::{PutawayController, PutawayView};
pub use receiving::{ReceivingController, ReceivingView};
pub use returns::{ReturnsController, ReturnsView};

/// The tone of an answer: the colour on screen and the sound. The floor flows decide it.
pub use laituri_domain::receiving::Tone;

/// The answer to one scan or button: what to play, show and whether it must be acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub tone: Tone,
    pub text: Text,
}

impl Reply {
    pub fn new(tone: Tone, text: Text) -> Reply {
        Reply { tone, text }
    }
    /// Errors need an acknowledgement before the next scan is taken.
    pub fn needs_ack(&self) -> bool {
        self.tone == Tone::Error
    }
}

impl From<StoreError> for Reply {
    fn from(e: StoreError) -> Reply {
        Reply::new(Tone::Error, Text::Store((&e).into()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    /// Waiting for a badge.
    Login,
    /// A badge was scanned; its operator has a PIN.
    Pin,
    Home,
    /// Receiving: choose a notice or a merchant for a blind receipt.
    ReceivingStart,
    /// Receiving: scanning goods.
    Receiving,
    /// Putaway: scan a tote or take a task.
    PutawayStart,
    /// Putaway: a tote into bins.
    Putaway,
    /// Picking: take a pick task (the next, or by its batch label).
    PickingStart,
    /// Picking: goods from their bins into the order totes.
    Picking,
    /// Packing: scan a tote or an order; the station's parcels and their labels.
    PackingStart,
    /// Packing: one order's goods into parcels.
    Packing,
    ScannerCheck,
    Exceptions,
    About,
    /// Stock look-up: what a location or tote holds, where an item is.
    Stock,
    /// Tasks held by devices, for a shift lead to give back when a device went away.
    HeldTasks,
    /// Moves: goods from one place to another.
    Move,
    /// Counting: a blind count of a location (scan a location to start one).
    Counting,
    /// A shift lead's approvals: counts beyond their counters' limits.
    Approvals,
    /// Returns: find the order, then take its returned items in.
    Returns,
}

/// Settings the core needs from the configuration.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    pub fnc1_substitute: Option<char>,
    /// Where received goods are put down.
    pub dock: String,
    /// Label prefixes that mark a tote or license plate.
    pub container_prefixes: Vec<String>,
    /// The station's label printer (`host:port`), when it has one: labels print on it; without
    /// one they are shown on screen.
    pub printer: Option<String>,
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            fnc1_substitute: None,
            dock: "DOCK-1".into(),
            container_prefixes: vec!["T-".into(), "LP-".into()],
            printer: None,
        }
    }
}

/// Today's date on the device. Production reads the clock; tests pin a date.
pub type Today = Box<dyn Fn() -> Date>;

pub fn system_today() -> Date {
    let days = crate::store::now_ms().div_euclid(86_400_000);
    Date::from_day_number(days)
}

pub struct Terminal {
    store: Store,
    config: CoreConfig,
    today: Today,
    operator: Option<OperatorRow>,
    /// Operator waiting for a PIN.
    pin_for: Option<OperatorRow>,
    screen: Screen,
    /// The one job open on this device (DESIGN.md section 1), whatever its flow.
    job: Option<Box<dyn job::Job>>,
    waker: Option<Arc<Notify>>,
    /// Wakes the station's printer thread: labels wait to print.
    printer_poke: Option<Box<dyn Fn()>>,
    /// The scan of the last stock look-up on the stock screen: asked again at each refresh, so
    /// the screen follows the sync worker's news.
    lookup: Option<scan::Scan>,
}

impl Terminal {
    pub fn new(store: Store, config: CoreConfig, today: Today) -> Terminal {
        Terminal {
            store,
            config,
            today,
            operator: None,
            pin_for: None,
            screen: Screen::Login,
            job: None,
            waker: None,
            printer_poke: None,
            lookup: None,
        }
    }

    /// The sync worker to wake after each commit.
    pub fn set_waker(&mut self, waker: Arc<Notify>) {
        self.waker = Some(waker);
    }

    /// The station's printer thread to wake when labels wait to print.
    pub fn set_printer_poke(&mut self, poke: Box<dyn Fn()>) {
        self.printer_poke = Some(poke);
    }

    /// Wakes the printer thread, if the station has one.
    pub fn poke_printer(&self) {
        if let Some(poke) = &self.printer_poke {
            poke();
        }
    }

    pub fn config(&self) -> &CoreConfig {
        &self.config
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    pub fn screen(&self) -> &Screen {
        &self.screen
    }

    pub fn operator(&self) -> Option<&OperatorRow> {
        self.operator.as_ref()
    }

    /// The operator whose PIN is being asked for.
    pub fn pin_operator_name(&self) -> Option<String> {
        self.pin_for.as_ref().map(|o| o.name.clone())
    }

    /// The language of the person at the terminal: the operator logged in, or the one whose
    /// badge was scanned and whose PIN is asked for; English before anyone is known.
    pub fn lang(&self) -> Lang {
        Lang::from_tag(
            self.operator
                .as_ref()
                .or(self.pin_for.as_ref())
                .map(|o| o.language.as_str())
                .unwrap_or("en"),
        )
    }

    pub fn today(&self) -> Date {
        (self.today)()
    }

    pub fn scan_options(&self) -> ScanOptions {
        ScanOptions {
            today: self.today(),
            fnc1_substitute: self.config.fnc1_substitute,
        }
    }

    /// The open job if it is of flow `C`.
    pub fn job_as<C: job::Job>(&self) -> Option<&C> {
        let job: &dyn std::any::Any = self.job.as_deref()?;
        job.downcast_ref::<C>()
    }

    pub fn receiving(&self) -> Option<&ReceivingController> {
        self.job_as()
    }

    pub fn putaway(&self) -> Option<&PutawayController> {
        self.job_as()
    }

    pub fn picking(&self) -> Option<&PickingController> {
        self.job_as()
    }

    pub fn packing(&self) -> Option<&PackingController> {
        self.job_as()
    }

    pub fn mover(&self) -> Option<&stock::MoveController> {
        self.job_as()
    }

    /// The last stock look-up on this screen visit, as the local view answers it now.
    pub fn stock_lookup(&self) -> Option<stock::Lookup> {
        stock::look_up(&self.store, &self.config, self.lookup.as_ref()?).ok()
    }

    pub fn counting(&self) -> Option<&counting::CountingController> {
        self.job_as()
    }

    pub fn returns(&self) -> Option<&ReturnsController> {
        self.job_as()
    }

    /// A scan on the returns screen: the open return reads it; with none, it finds the order
    /// and starts one.
    fn returns_scan(&mut self, scan: &scan::Scan) -> Reply {
        if self.returns().is_some_and(|r| !r.is_finished()) {
            return self.job_scan(scan);
        }
        if let Some(refusal) = self.busy() {
            return refusal;
        }
        let today = (self.today)();
        match ReturnsController::start(&self.store, &self.config, scan, now_ms(), today) {
            Ok((ctrl, reply)) => {
                self.begin(Box::new(ctrl));
                reply
            }
            Err(reply) => reply,
        }
    }

    /// A button of the returns screen.
    pub fn returns_action(&mut self, action: returns::Action) -> Reply {
        if self.returns().is_none() {
            return Reply::new(Tone::Error, Text::Returns(ReturnsMessage::ScanOrder));
        }
        self.with_job(|r: &mut ReturnsController, cx| {
            r.action(cx.store, cx.operator, action, cx.today)
        })
    }

    /// The job open on this device, by the text that names it, if any (one job at a time).
    fn open_job_name(&self) -> Option<String> {
        self.job
            .as_ref()
            .filter(|j| !j.is_finished())
            .map(|j| j.name())
    }

    /// Runs `f` on the open job if it is of flow `C` (a button of that flow's screen), then
    /// wakes the sync worker.
    pub fn with_job<C: job::Job>(
        &mut self,
        f: impl FnOnce(&mut C, &mut job::JobCtx) -> Reply,
    ) -> Reply {
        let operator = self.operator_id();
        let today = (self.today)();
        let Some(job) = self.job.as_deref_mut() else {
            return Reply::new(Tone::Error, Text::NothingToDo);
        };
        let job: &mut dyn std::any::Any = job;
        let Some(ctrl) = job.downcast_mut::<C>() else {
            return Reply::new(Tone::Error, Text::NothingToDo);
        };
        let mut cx = job::JobCtx {
            store: &mut self.store,
            config: &self.config,
            operator: &operator,
            today,
        };
        let reply = f(ctrl, &mut cx);
        self.committed();
        reply
    }

    /// A scan on the open job's screen.
    fn job_scan(&mut self, scan: &scan::Scan) -> Reply {
        let operator = self.operator_id();
        let today = (self.today)();
        let Some(job) = self.job.as_mut() else {
            return Reply::new(Tone::Error, Text::NothingToDo);
        };
        let mut cx = job::JobCtx {
            store: &mut self.store,
            config: &self.config,
            operator: &operator,
            today,
        };
        let reply = job.scan(&mut cx, scan);
        self.committed();
        reply
    }

    fn committed(&self) {
        if let Some(w) = &self.waker {
            w.notify_one();
        }
    }

    /// One scan from the scanner (or the scan field), routed by the screen that is up.
    pub fn scan(&mut self, raw: &str) -> Option<Reply> {
        let scan = scan::interpret(raw, &self.scan_options());
        if scan.kind == ScanKind::Empty {
            return None;
        }
        // Another operator's badge switches operator on any working screen: a handheld changes
        // hands between shifts, and the badge must never be recorded as an unknown barcode.
        if !matches!(
            self.screen,
            Screen::Login | Screen::Pin | Screen::ScannerCheck
        ) && scan.kind == ScanKind::Plain
            && let Ok(Some(other)) = self.store.operator_by_badge(scan.data.trim())
            && self.operator.as_ref().is_none_or(|o| o.id != other.id)
        {
            self.log_out();
            return Some(self.login_scan(&scan));
        }
        let reply = match self.screen {
            Screen::Login => self.login_scan(&scan),
            // On the PIN screen a badge switches operator; anything else is a PIN typed on a
            // keyboard and ended with Enter.
            Screen::Pin => match self.store.operator_by_badge(scan.data.trim()) {
                Ok(Some(_)) => self.login_scan(&scan),
                _ => self.enter_pin(scan.data.trim()),
            },
            Screen::ReceivingStart => self.receiving_start_scan(&scan),
            // A flow's working screen: the open job reads the scan.
            Screen::Receiving | Screen::Putaway | Screen::Picking | Screen::Packing => {
                self.job_scan(&scan)
            }
            Screen::Stock => self.stock_scan(&scan),
            Screen::Move => self.move_scan(&scan),
            Screen::PackingStart => self.packing_start_scan(&scan),
            Screen::PutawayStart => match recognise::recognise(&self.store, &self.config, &scan) {
                Ok(recognise::Label::Container(c)) => self.start_putaway(&c, None),
                Ok(_) => Reply::new(Tone::Error, Text::ScanTote),
                Err(e) => e.into(),
            },
            Screen::PickingStart => match self.pick_task_labelled(&scan) {
                Ok(Some(task_id)) => self.take_task(&task_id),
                Ok(None) => Reply::new(
                    Tone::Error,
                    Text::UnknownBatch {
                        code: scan.text().unwrap_or(&scan.data).trim().to_string(),
                    },
                ),
                Err(e) => e.into(),
            },
            // The scanner check shows the scan; it does not act on it.
            Screen::ScannerCheck => return None,
            Screen::Home => self.home_scan(&scan),
            Screen::Exceptions | Screen::About | Screen::HeldTasks => {
                Reply::new(Tone::Warning, Text::ChooseFromMenu)
            }
            // A count open reads the scan; otherwise a location's label starts one.
            Screen::Approvals => Reply::new(Tone::Warning, Text::ChooseFromMenu),
            Screen::Counting => match self.counting() {
                Some(c) if !c.is_finished() => self.job_scan(&scan),
                _ => self.start_counting(&scan),
            },
            Screen::Returns => self.returns_scan(&scan),
        };
        Some(reply)
    }

    fn login_scan(&mut self, scan: &scan::Scan) -> Reply {
        let badge = scan.data.trim();
        match self.store.operator_by_badge(badge) {
            Ok(Some(op)) if op.pin_hash.is_some() => {
                // Scanning the badge again gives no new tries: they are counted on the device.
                if let Some(minutes) = self.pin_locked_for(&op.id) {
                    return Reply::new(Tone::Error, Text::PinLocked { minutes });
                }
                let name = op.name.clone();
                self.pin_for = Some(op);
                self.screen = Screen::Pin;
                Reply::new(Tone::Ok, Text::EnterPin { name })
            }
            Ok(Some(op)) => self.log_in(op),
            // A product or another label where a badge is wanted says what it is.
            Ok(None) => match recognise::recognise(&self.store, &self.config, scan) {
                Ok(recognise::Label::Product { matches, .. }) => Reply::new(
                    Tone::Error,
                    Text::ProductNotBadge {
                        name: matches[0].name.clone(),
                    },
                ),
                _ => Reply::new(
                    Tone::Error,
                    Text::UnknownBadge {
                        badge: badge.to_string(),
                    },
                ),
            },
            Err(e) => e.into(),
        }
    }

    fn log_in(&mut self, op: OperatorRow) -> Reply {
        let name = op.name.clone();
        self.operator = Some(op);
        self.pin_for = None;
        self.screen = Screen::Home;
        // A job this operator left open on this device (a crash, a battery) resumes.
        let operator = self.operator_id();
        for entry in &flows::MENU {
            let Some(resume) = entry.resume else { continue };
            match resume(&self.store, &self.config, &operator) {
                Ok(Some(job)) => {
                    self.job = Some(job);
                    break;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("an open {} job could not be resumed: {e}", entry.id),
            }
        }
        Reply::new(Tone::Ok, Text::Welcome { name })
    }

    /// A PIN typed on the keypad after a badge scan, checked here and now. The UI checks it off
    /// its thread instead ([`Terminal::pin_to_check`], then [`Terminal::pin_checked`]): the
    /// hash is slow on purpose.
    pub fn enter_pin(&mut self, pin: &str) -> Reply {
        match self.pin_to_check(pin) {
            Ok(check) => {
                let matches = check.matches();
                self.pin_checked(check, matches)
            }
            Err(reply) => reply,
        }
    }

    /// What checking `pin` needs, taken from the operator whose badge was scanned; or the answer
    /// when there is nothing to check.
    pub fn pin_to_check(&mut self, pin: &str) -> Result<PinCheck, Reply> {
        let Some(op) = self.pin_for.as_ref() else {
            self.screen = Screen::Login;
            return Err(Reply::new(Tone::Error, Text::ScanBadgeFirst));
        };
        Ok(PinCheck {
            operator_id: op.id.clone(),
            hash: op.pin_hash.clone().unwrap_or_default(),
            pin: pin.to_string(),
        })
    }

    /// The outcome of a PIN check: logs in, or counts the wrong PIN. A check of an operator the
    /// terminal no longer asks a PIN of (another badge was scanned meanwhile) changes nothing.
    pub fn pin_checked(&mut self, check: PinCheck, matches: bool) -> Reply {
        let op = match self.pin_for.clone() {
            Some(op) if op.id == check.operator_id => op,
            _ => return Reply::new(Tone::Warning, Text::ScanBadgeFirst),
        };
        if matches {
            if let Err(e) = self.store.clear_pin_failures(&op.id) {
                tracing::warn!("the count of wrong PINs could not be cleared: {e}");
            }
            return self.log_in(op);
        }
        let failures = match self.store.record_pin_failure(&op.id, now_ms()) {
            Ok(n) => n,
            // Not counted is not a free try: the PIN screen closes as after the last one.
            Err(e) => {
                tracing::warn!("a wrong PIN could not be counted: {e}");
                PIN_TRIES
            }
        };
        if failures >= PIN_TRIES {
            self.pin_for = None;
            self.screen = Screen::Login;
            Reply::new(
                Tone::Error,
                Text::PinLocked {
                    minutes: PIN_LOCK_MINUTES,
                },
            )
        } else {
            Reply::new(Tone::Error, Text::WrongPin)
        }
    }

    /// Whether `raw` is an operator's badge (on the PIN screen, another badge switches person;
    /// anything else is a PIN).
    pub fn is_badge(&self, raw: &str) -> bool {
        matches!(self.store.operator_by_badge(raw.trim()), Ok(Some(_)))
    }

    /// Minutes left before the operator may try a PIN again on this device, if locked: after
    /// [`PIN_TRIES`] wrong PINs in a row, for [`PIN_LOCK_MINUTES`] from the last one.
    fn pin_locked_for(&self, operator_id: &str) -> Option<i64> {
        let (failures, last_ms) = self.store.pin_failures(operator_id).ok()?;
        let left_ms = last_ms + PIN_LOCK_MINUTES * 60_000 - now_ms();
        (failures >= PIN_TRIES && left_ms > 0).then(|| (left_ms + 59_999) / 60_000)
    }

    /// Log out (or switch operator): back to the badge screen. An open receipt stays open on the
    /// device and resumes for the same operator.
    pub fn log_out(&mut self) {
        self.operator = None;
        self.pin_for = None;
        self.job = None;
        self.screen = Screen::Login;
    }

    pub fn can(&self, role: Role) -> bool {
        self.operator.as_ref().is_some_and(|o| o.has_role(role))
    }

    /// Opens a screen from the home menu; refuses what the operator's roles do not allow.
    pub fn open(&mut self, screen: Screen) -> Result<(), Reply> {
        if self.operator.is_none() && !matches!(screen, Screen::ScannerCheck | Screen::About) {
            return Err(Reply::new(Tone::Error, Text::ScanBadgeFirst));
        }
        if let Some(role) = flows::role_for(&screen)
            && !self.can(role)
        {
            return Err(Reply::new(Tone::Error, Text::NotAllowed));
        }
        // A flow's screens lead to its open job, or to its start screen.
        let screen = match flows::of_screen(&screen) {
            Some(entry) if entry.resume.is_some() => match &self.job {
                Some(j) if !j.is_finished() && entry.screens.contains(&j.screen()) => j.screen(),
                _ => entry.opens.clone(),
            },
            _ => screen,
        };
        self.screen = screen;
        if self.screen == Screen::Stock {
            // A new visit starts with nothing looked up.
            self.lookup = None;
        }
        if self.screen == Screen::PickingStart
            && self.job.is_none()
            && let Some(claim) = self.pick_lease_without_job()
        {
            // The lease's answer was taken but the job never began (the terminal stopped in
            // between, or another operator was logged in): it begins now.
            let _ = self.start_picking(claim);
        }
        Ok(())
    }

    /// A pick task this device holds a lease of, with no job open and not finished here.
    fn pick_lease_without_job(&self) -> Option<TaskClaim> {
        self.store
            .held_leases()
            .unwrap_or_default()
            .into_iter()
            .filter(|l| !self.finished_here(&l.task_id))
            .find(|l| {
                self.store
                    .lease(&l.task_id)
                    .ok()
                    .flatten()
                    .is_some_and(|row| row.packet.task.kind == TaskKind::Pick)
            })
            .map(|l| TaskClaim {
                task_id: l.task_id,
                token: l.token,
            })
    }

    /// Back to the home menu (or the badge screen when nobody is logged in).
    pub fn home(&mut self) {
        if self.job.as_ref().is_some_and(|j| j.is_finished()) {
            self.job = None;
        }
        self.screen = if self.operator.is_some() {
            Screen::Home
        } else {
            Screen::Login
        };
    }

    fn receiving_start_scan(&mut self, scan: &scan::Scan) -> Reply {
        let code = scan
            .sscc()
            .map(str::to_string)
            .unwrap_or_else(|| scan.text().unwrap_or(&scan.data).to_string());
        match self.store.notice_by_code(&code) {
            Ok(Some(n)) if n.open => self.start_notice(&n.id),
            Ok(Some(n)) => Reply::new(
                Tone::Error,
                Text::NoticeClosed {
                    reference: n.reference,
                },
            ),
            Ok(None) => Reply::new(Tone::Error, Text::UnknownNotice { code }),
            Err(e) => e.into(),
        }
    }

    /// Starts receiving against an inbound notice.
    pub fn start_notice(&mut self, notice_id: &str) -> Reply {
        self.start_receipt(receiving::Start::Notice(notice_id.to_string()))
    }

    /// Starts a blind receipt for a merchant.
    pub fn start_blind(&mut self, merchant_id: &str) -> Reply {
        self.start_receipt(receiving::Start::Blind(merchant_id.to_string()))
    }

    /// Refuses to start a job while another is open: a scan never silently abandons one.
    fn busy(&self) -> Option<Reply> {
        self.open_job_name()
            .map(|job| Reply::new(Tone::Error, Text::FinishJobFirst { job }))
    }

    /// Makes `job` the device's open job and shows its screen.
    fn begin(&mut self, job: Box<dyn job::Job>) {
        self.screen = job.screen();
        self.job = Some(job);
        self.committed();
    }

    fn start_receipt(&mut self, start: receiving::Start) -> Reply {
        if let Some(refusal) = self.busy() {
            return refusal;
        }
        let operator = self.operator_id();
        match ReceivingController::start(&mut self.store, &self.config, &operator, start) {
            Ok((ctrl, reply)) => {
                self.begin(Box::new(ctrl));
                reply
            }
            Err(reply) => reply,
        }
    }

    /// A scan on the menu starts the flow its label belongs to, the label read once: a tote that
    /// holds an order ready to pack starts packing, a tote or license plate with goods (or an
    /// item lying in one) starts putaway, a notice's reference
    /// or SSCC starts receiving; anything else asks to choose from the menu.
    /// A scan on the stock screen: what it names, from the local stock view.
    fn stock_scan(&mut self, scan: &scan::Scan) -> Reply {
        match stock::look_up(&self.store, &self.config, scan) {
            Ok(lookup) => {
                let reply = Reply::new(
                    Tone::Ok,
                    Text::LookedUp {
                        subject: lookup.subject.clone(),
                        rows: lookup.rows.len(),
                    },
                );
                self.lookup = Some(scan.clone());
                reply
            }
            Err(reply) => reply,
        }
    }

    /// A scan on the move screen: the open move job reads it, or it starts one.
    fn move_scan(&mut self, scan: &scan::Scan) -> Reply {
        if let Some(refusal) = self.begin_moving() {
            return refusal;
        }
        self.job_scan(scan)
    }

    /// Makes a move the open job unless it is one already; `Some` is why not (another job).
    fn begin_moving(&mut self) -> Option<Reply> {
        if self.mover().is_none() {
            if let Some(refusal) = self.busy() {
                return Some(refusal);
            }
            self.begin(Box::new(stock::MoveController::new()));
        }
        None
    }

    /// Moves goods from the place last looked up: opens the move screen with it in hand.
    pub fn move_from_lookup(&mut self) -> Reply {
        if !self.can(Role::Putaway) {
            return Reply::new(Tone::Error, Text::NotAllowed);
        }
        let Some(scan) = self
            .stock_lookup()
            .filter(|l| l.movable)
            .and(self.lookup.clone())
        else {
            return Reply::new(Tone::Error, Text::NothingToDo);
        };
        if let Some(refusal) = self.begin_moving() {
            return refusal;
        }
        self.screen = Screen::Move;
        self.with_job(|m: &mut stock::MoveController, cx| {
            m.start_from(cx.store, cx.config, cx.operator, &scan, cx.today)
        })
    }

    /// A button of the move screen.
    pub fn move_action(&mut self, action: stock::Action) -> Reply {
        self.with_job(|m: &mut stock::MoveController, cx| {
            m.action(cx.store, cx.operator, action, cx.today)
        })
    }

    fn home_scan(&mut self, scan: &scan::Scan) -> Reply {
        if self.can(Role::Picking) {
            match self.pick_task_labelled(scan) {
                Ok(Some(task_id)) => {
                    self.screen = Screen::PickingStart;
                    let reply = self.take_task(&task_id);
                    if reply.tone == Tone::Error && self.screen == Screen::PickingStart {
                        self.screen = Screen::Home;
                    }
                    return reply;
                }
                Ok(None) => {}
                Err(e) => return e.into(),
            }
        }
        let label = match recognise::recognise(&self.store, &self.config, scan) {
            Ok(l) => l,
            Err(e) => return e.into(),
        };
        // A tote at packing holds an order to pack, not goods to put away.
        if self.can(Role::Packing)
            && let recognise::Label::Container(tote) = &label
            && let Ok(Some(order_id)) = self
                .store
                .pack_orders_in_tote(tote)
                .map(|ids| ids.into_iter().next())
        {
            self.screen = Screen::PackingStart;
            let reply = self.start_packing(&order_id);
            if reply.tone == Tone::Error && self.screen == Screen::PackingStart {
                self.screen = Screen::Home;
            }
            return reply;
        }
        if self.can(Role::Putaway)
            && let Some(c) = self.putaway_container(&label)
        {
            return self.start_putaway(&c, None);
        }
        // A location scanned at the menu: what it holds.
        if let recognise::Label::Location(_) = &label {
            self.screen = Screen::Stock;
            return self.stock_scan(scan);
        }
        if !self.can(Role::Receiving) {
            return Reply::new(Tone::Warning, Text::ChooseFromMenu);
        }
        if matches!(label, recognise::Label::Notice(_))
            && let Some(refusal) = self.busy()
        {
            return refusal;
        }
        self.screen = Screen::ReceivingStart;
        let reply = self.receiving_start_scan(scan);
        match reply.text {
            Text::UnknownNotice { .. } => {
                self.screen = Screen::Home;
                Reply::new(Tone::Warning, Text::ChooseFromMenu)
            }
            _ if reply.tone == Tone::Error => {
                self.screen = Screen::Home;
                reply
            }
            _ => reply,
        }
    }

    /// The container a label on the menu means for putaway: the tote itself, or the one tote on
    /// the device's view that holds the scanned item.
    fn putaway_container(&self, label: &recognise::Label) -> Option<String> {
        match label {
            recognise::Label::Container(c) => Some(c.clone()),
            recognise::Label::Product { matches, .. } => {
                let mut totes: Vec<String> = Vec::new();
                for m in matches {
                    for row in self
                        .store
                        .product_places(&m.merchant_id, &m.product_id)
                        .ok()?
                    {
                        if let Some(c) = row.container
                            && row.quantity > 0
                            && row.condition == laituri_protocol::GoodsCondition::Good
                            && !totes.contains(&c)
                        {
                            totes.push(c);
                        }
                    }
                }
                // Only an unambiguous item says which tote is in hand.
                (totes.len() == 1).then(|| totes.remove(0))
            }
            _ => None,
        }
    }

    /// Starts putting away a tote or license plate (a tote in hand is its own claim).
    pub fn start_putaway(
        &mut self,
        container: &str,
        claim: Option<laituri_protocol::TaskClaim>,
    ) -> Reply {
        // The tote already open: back to it.
        if let Some(prompt) = self
            .putaway()
            .filter(|p| !p.is_finished() && p.container() == container)
            .map(|p| p.view().prompt)
        {
            self.screen = Screen::Putaway;
            return Reply::new(Tone::Ok, Text::Putaway(prompt));
        }
        if let Some(refusal) = self.busy() {
            return refusal;
        }
        let operator = self.operator_id();
        match PutawayController::start(&mut self.store, &operator, container, claim) {
            Ok((ctrl, reply)) => {
                self.begin(Box::new(ctrl));
                reply
            }
            Err(reply) => reply,
        }
    }

    /// Asks the server (through the sync worker) for a task; the answer arrives with a sync
    /// round ([`Terminal::lease_answered`]). Taking a task needs the server: a tote in hand can
    /// always be put away by scanning it, and a pick task taken goes on offline.
    pub fn take_task(&mut self, task_id: &str) -> Reply {
        let task = match self.store.task(task_id) {
            Ok(t) => t,
            Err(e) => return e.into(),
        };
        let pick = task.as_ref().is_some_and(|t| t.kind == TaskKind::Pick);
        // The pick task already open on this device: back to it.
        if let Some(prompt) = self
            .picking()
            .filter(|p| !p.is_finished() && p.claim().task_id == task_id)
            .map(PickingController::prompt)
        {
            self.screen = Screen::Picking;
            return prompt;
        }
        if let Some(job) = self.open_job_name() {
            return Reply::new(Tone::Error, Text::FinishJobFirst { job });
        }
        // A batch this device finished while the server has not heard it yet is not started
        // again from its first line (the server would still grant it).
        if let Some(task) = task.as_ref().filter(|_| pick)
            && self.finished_here(task_id)
        {
            return Reply::new(
                Tone::Warning,
                Text::PickTaskFinishedHere {
                    task: picking::batch_name(task),
                },
            );
        }
        // One task asked for at a time: a second answer would find a job open, and its lease
        // would be held for nothing.
        let waiting = match self.store.leases_wanted() {
            Ok(w) => w,
            Err(e) => return e.into(),
        };
        if waiting.iter().any(|w| w != task_id)
            && let Some(task) = self.task_wanted()
        {
            return Reply::new(Tone::Warning, Text::StillTaking { task });
        }
        let operator = self.operator_id();
        if let Err(e) = self.store.want_lease(task_id, &operator) {
            return e.into();
        }
        self.committed();
        match task.filter(|_| pick) {
            Some(task) => Reply::new(
                Tone::Ok,
                Text::TakingPickTask {
                    task: picking::batch_name(&task),
                },
            ),
            None => Reply::new(Tone::Ok, Text::TakingTask),
        }
    }

    /// Whether this device recorded the end of pick task `task_id` (among its latest ends).
    fn finished_here(&self, task_id: &str) -> bool {
        const LATEST: u32 = 50;
        self.store
            .recent_events("pick_finished", LATEST)
            .unwrap_or_default()
            .iter()
            .any(|(body, _)| matches!(body, EventBody::PickFinished { task } if task.task_id == task_id))
    }

    /// Takes the most urgent open pick task this device knows.
    pub fn take_next_pick(&mut self) -> Reply {
        match self.store.open_tasks(TaskKind::Pick, 1) {
            Ok(tasks) => match tasks.into_iter().next() {
                Some(task) => self.take_task(&task.task_id),
                None => Reply::new(Tone::Warning, Text::NoPickTask),
            },
            Err(e) => e.into(),
        }
    }

    /// The pick task whose batch label (its id) was scanned, if it is one this device knows.
    fn pick_task_labelled(&self, scan: &scan::Scan) -> Result<Option<String>, StoreError> {
        let code = scan.text().unwrap_or(&scan.data).trim();
        if code.is_empty() {
            return Ok(None);
        }
        Ok(self
            .store
            .task(code)?
            .filter(|t| t.kind == TaskKind::Pick)
            .map(|t| t.task_id))
    }

    /// The task the operator asked for, while the server has not answered.
    pub fn task_wanted(&self) -> Option<String> {
        let id = self.store.leases_wanted().ok()?.into_iter().next()?;
        let task = self.store.task(&id).ok().flatten();
        Some(match task {
            Some(t) if t.kind == TaskKind::Pick => picking::batch_name(&t),
            Some(t) => t.container.unwrap_or(id),
            None => id,
        })
    }

    /// The lease of the open job was taken back by the server (it expired, a lead released it,
    /// another device took the task over): says so once, with what to do. The goods put away or
    /// picked still count; only the task's progress goes to whoever holds it now.
    pub fn lease_lost(&mut self) -> Option<Reply> {
        if let Some(p) = self.picking().filter(|p| !p.is_finished()) {
            let lost = p.lease_lost(&self.store)?;
            let reply = self.with_job(|p: &mut PickingController, _| {
                if p.take_lost_notice() {
                    Reply::new(
                        Tone::Warning,
                        Text::PickLeaseLost {
                            task: p.batch().to_string(),
                            why: lost.clone(),
                        },
                    )
                } else {
                    Reply::new(Tone::Ok, Text::NothingToDo)
                }
            });
            return (reply.tone == Tone::Warning).then_some(reply);
        }
        let task_id = self.putaway()?.claim()?.task_id.clone();
        let lost = self.store.lease(&task_id).ok()??.lost?;
        let p = self.with_job(|p: &mut PutawayController, _| {
            if p.take_lost_notice() {
                Reply::new(
                    Tone::Warning,
                    Text::LeaseLost {
                        task: p.container().to_string(),
                        why: lost.clone(),
                    },
                )
            } else {
                Reply::new(Tone::Ok, Text::NothingToDo)
            }
        });
        (p.tone == Tone::Warning).then_some(p)
    }

    /// A shift lead resolves an exception (after confirming on screen); anyone else is told who
    /// may. The resolution reaches the server with who resolved it.
    /// Gives back the lease another device holds on `task_id` (a shift lead's decision, for a
    /// device that went away): recorded like any action, applied by the server only while that
    /// device still holds it.
    pub fn release_held_task(&mut self, task_id: &str) -> Reply {
        if !self.can(Role::Lead) {
            return Reply::new(Tone::Error, Text::NotAllowed);
        }
        let own = self.store.device().map(|d| d.device_id).ok();
        let holder = match self.store.task(task_id) {
            Ok(Some(task)) => task.leased_to.filter(|h| Some(*h) != own),
            Ok(None) => None,
            Err(e) => return e.into(),
        };
        let Some(holder) = holder else {
            return Reply::new(
                Tone::Error,
                Text::NotHeldElsewhere {
                    task: task_id.to_string(),
                },
            );
        };
        let operator = self.operator_id();
        let body = EventBody::LeaseRevoked {
            task_id: task_id.to_string(),
            holder,
        };
        match self.store.append_events(&operator, &[body]) {
            Ok(_) => {
                self.committed();
                Reply::new(
                    Tone::Ok,
                    Text::HeldTaskReleased {
                        task: task_id.to_string(),
                    },
                )
            }
            Err(e) => e.into(),
        }
    }

    pub fn resolve_exception(&mut self, id: i64) -> Reply {
        if !self.can(Role::Lead) {
            return Reply::new(Tone::Error, Text::OnlyLeadResolves);
        }
        let operator = self.operator_id();
        match self.store.resolve_exception(id, &operator) {
            Ok(()) => {
                self.committed();
                Reply::new(Tone::Ok, Text::ExceptionResolved)
            }
            Err(e) => e.into(),
        }
    }

    /// A task the operator asked for was answered by the server: starts its putaway under the
    /// lease, or says another device has it. `None` when nothing was answered.
    pub fn lease_answered(&mut self) -> Option<Reply> {
        let answered = self.store.take_answered_lease().ok()??;
        let task_id = answered.task_id;
        if self
            .operator
            .as_ref()
            .is_none_or(|o| o.id != answered.operator_id)
        {
            return None;
        }
        if !answered.granted {
            tracing::info!(task = %task_id, code = %answered.code, "task not granted: {:?}", answered.reason);
            let pick = self
                .store
                .task(&task_id)
                .ok()
                .flatten()
                .filter(|t| t.kind == TaskKind::Pick);
            let text = match pick {
                Some(t) if answered.code == "task_taken" => Text::PickTaskTaken {
                    task: picking::batch_name(&t),
                },
                Some(t) => Text::PickTaskGone {
                    task: picking::batch_name(&t),
                },
                None => Text::TaskTaken { task: task_id },
            };
            return Some(Reply::new(Tone::Error, text));
        }
        let lease = self.store.lease(&task_id).ok()??;
        let claim = TaskClaim {
            task_id: task_id.clone(),
            token: lease.packet.lease.token,
        };
        if lease.packet.task.kind == TaskKind::Pick {
            return Some(self.start_picking(claim));
        }
        if lease.packet.task.kind == TaskKind::Count {
            let location = lease
                .packet
                .task
                .lines
                .iter()
                .find_map(|l| l.goods.from.as_ref().map(|p| p.location.clone()))?;
            return Some(self.start_count_task(&location, claim));
        }
        let container = lease.packet.task.container.clone()?;
        Some(self.start_putaway(&container, Some(claim)))
    }

    /// Starts the count task this device holds the lease `claim` of, at its bin.
    fn start_count_task(&mut self, location: &str, claim: TaskClaim) -> Reply {
        if let Some(refusal) = self.busy() {
            return refusal;
        }
        let operator = self.operator_id();
        match counting::CountingController::start_task(&mut self.store, &operator, location, claim)
        {
            Ok((ctrl, reply)) => {
                self.begin(Box::new(ctrl));
                reply
            }
            Err(reply) => reply,
        }
    }

    /// A button or keypad entry on the putaway screen.
    pub fn putaway_action(&mut self, action: putaway::Action) -> Reply {
        let stop = action == putaway::Action::Stop;
        let reply = self.with_job(|p: &mut PutawayController, cx| {
            p.action(cx.store, cx.operator, action, cx.today)
        });
        if stop && reply.tone != Tone::Error {
            self.job = None;
            self.screen = Screen::Home;
        }
        reply
    }

    /// Starts a spot count at the location `scan` names.
    fn start_counting(&mut self, scan: &scan::Scan) -> Reply {
        if let Some(refusal) = self.busy() {
            return refusal;
        }
        let operator = self.operator_id();
        match counting::CountingController::start(&mut self.store, &self.config, &operator, scan) {
            Ok((ctrl, reply)) => {
                self.begin(Box::new(ctrl));
                reply
            }
            Err(reply) => reply,
        }
    }

    /// A lead approves or rejects a count waiting for approval (`count_id` as listed).
    pub fn decide_count(&mut self, count_id: &str, approve: bool) -> Reply {
        if !self.can(Role::Lead) {
            return Reply::new(Tone::Error, Text::NotAllowed);
        }
        let Ok(id) = uuid::Uuid::parse_str(count_id) else {
            return Reply::new(Tone::Error, Text::CountGone);
        };
        let location = self
            .store
            .pending_counts()
            .unwrap_or_default()
            .into_iter()
            .find(|c| c.count_id == id)
            .map(|c| c.location);
        let operator = self.operator_id();
        match self.store.decide_count(&operator, id, approve) {
            Ok(true) => {
                self.committed();
                let location = location.unwrap_or_default();
                if approve {
                    Reply::new(Tone::Ok, Text::CountApproved { location })
                } else {
                    Reply::new(Tone::Warning, Text::CountRejected { location })
                }
            }
            Ok(false) => Reply::new(Tone::Error, Text::CountGone),
            Err(e) => e.into(),
        }
    }

    pub fn counting_action(&mut self, action: counting::Action) -> Reply {
        self.with_job(|c: &mut counting::CountingController, cx| {
            c.action(cx.store, cx.operator, action, cx.today)
        })
    }

    /// Starts the pick task this device holds the lease `claim` of, from its work packet.
    pub fn start_picking(&mut self, claim: TaskClaim) -> Reply {
        if let Some(prompt) = self
            .picking()
            .filter(|p| !p.is_finished() && p.claim().task_id == claim.task_id)
            .map(PickingController::prompt)
        {
            self.screen = Screen::Picking;
            return prompt;
        }
        if let Some(refusal) = self.busy() {
            return refusal;
        }
        let operator = self.operator_id();
        match PickingController::start(&mut self.store, &operator, claim) {
            Ok((ctrl, reply)) => {
                self.begin(Box::new(ctrl));
                reply
            }
            Err(reply) => reply,
        }
    }

    /// A button or keypad entry on the picking screen. Stop parks the job and goes to the menu
    /// (the job ends there instead when its lease was lost).
    pub fn picking_action(&mut self, action: picking::Action) -> Reply {
        let stop = action == picking::Action::Stop;
        let reply = self.with_job(|p: &mut PickingController, cx| {
            p.action(cx.store, cx.operator, action, cx.today)
        });
        if stop && reply.tone != Tone::Error {
            self.home();
        }
        reply
    }

    /// A scan on the packing start screen: a tote at packing, or an order's reference.
    fn packing_start_scan(&mut self, scan: &scan::Scan) -> Reply {
        let code = scan.text().unwrap_or(&scan.data).trim().to_string();
        let found = match recognise::recognise(&self.store, &self.config, scan) {
            Ok(recognise::Label::Container(tote)) => self
                .store
                .pack_orders_in_tote(&tote)
                .map(|ids| ids.into_iter().next()),
            Ok(_) => self
                .store
                .pack_order_by_reference(&code)
                .map(|o| o.map(|o| o.order_id.to_string())),
            Err(e) => Err(e),
        };
        match found {
            Ok(Some(order_id)) => self.start_packing(&order_id),
            Ok(None) => Reply::new(Tone::Error, Text::UnknownPackOrder { code }),
            Err(e) => e.into(),
        }
    }

    /// Starts packing an order ready to pack (by its id); back to it when it is the open job.
    pub fn start_packing(&mut self, order_id: &str) -> Reply {
        if let Some(prompt) = self
            .packing()
            .filter(|p| !p.is_finished() && p.order_id() == order_id)
            .map(PackingController::prompt)
        {
            self.screen = Screen::Packing;
            return prompt;
        }
        if let Some(refusal) = self.busy() {
            return refusal;
        }
        // A station still pulling the server's history would offer orders another station
        // packed since: their removal has not arrived yet.
        match self.store.caught_up_ms() {
            Ok(Some(_)) => {}
            Ok(None) => return Reply::new(Tone::Warning, Text::CatchingUp),
            Err(e) => return e.into(),
        }
        match self.store.packed_here(order_id) {
            Ok(true) => {
                let reference = self
                    .store
                    .pack_order(order_id)
                    .ok()
                    .flatten()
                    .map_or_else(|| order_id.to_string(), |o| o.reference);
                return Reply::new(Tone::Warning, Text::PackedHere { reference });
            }
            Ok(false) => {}
            Err(e) => return e.into(),
        }
        let operator = self.operator_id();
        match PackingController::start(&mut self.store, &operator, order_id) {
            Ok((ctrl, reply)) => {
                self.begin(Box::new(ctrl));
                reply
            }
            Err(reply) => reply,
        }
    }

    /// A button or keypad entry on the packing screen. Stop parks the job and goes to the menu.
    pub fn packing_action(&mut self, action: packing::Action) -> Reply {
        let stop = action == packing::Action::Stop;
        let reply = self.with_job(|p: &mut PackingController, cx| {
            p.action(cx.store, cx.operator, action, cx.today)
        });
        if stop && reply.tone != Tone::Error {
            self.home();
        }
        reply
    }

    /// A stable weight from the station's scale, for the open parcel if it waits for one.
    pub fn scale_weight(&mut self, grams: i64) -> Option<Reply> {
        if self.screen != Screen::Packing || self.packing().is_none_or(|p| p.is_finished()) {
            return None;
        }
        let reply = self.with_job(|p: &mut PackingController, cx| {
            p.scale_reading(cx.store, cx.operator, grams, cx.today)
                .unwrap_or_else(|| Reply::new(Tone::Ok, Text::NothingToDo))
        });
        (reply.text != Text::NothingToDo).then_some(reply)
    }

    /// Prints a parcel's label again: the label still on the device goes to the printer, one
    /// printed already (its address deleted) is asked of the server again.
    pub fn reprint(&mut self, order_id: &str, number: u32) -> Reply {
        match self.store.reprint_label(order_id, number) {
            Ok(()) => {
                self.committed();
                self.poke_printer();
                Reply::new(Tone::Ok, Text::Reprinting { parcel: number })
            }
            Err(e) => e.into(),
        }
    }

    /// The packer confirms a label shown on screen was handled: its picture (the customer's
    /// address) is deleted from the device.
    pub fn label_handled(&mut self, order_id: &str, number: u32) -> Reply {
        match self.store.label_handled(order_id, number) {
            Ok(()) => Reply::new(Tone::Ok, Text::LabelHandled { parcel: number }),
            Err(e) => e.into(),
        }
    }

    /// The logged-in operator's id, recorded on every event.
    fn operator_id(&self) -> String {
        self.operator
            .as_ref()
            .map(|o| o.id.clone())
            .unwrap_or_default()
    }

    /// A button or keypad entry on the receiving screen.
    pub fn receiving_action(&mut self, action: receiving::Action) -> Reply {
        self.with_job(|r: &mut ReceivingController, cx| {
            r.action(cx.store, cx.operator, action, cx.today)
        })
    }
}

#[cfg(test)]
mod tests;
