//! What the terminal says to the person holding the scanner, in their language.
//!
//! Controllers return [`Text`] values, never strings, so a test can assert what was said without
//! depending on the wording. Each message says what happened and what to do next. The English
//! text is the message id; Finnish and Swedish come from the catalogues in ui/translations (see
//! [`crate::i18n`]), the same ones the screens' labels come from.

use laituri_domain::carton::NoBox;
use laituri_domain::counting::Message as CountingMessage;
use laituri_domain::moving::Message as MovingMessage;
use laituri_domain::packing::{Confirmation, Entry, Message as PackingMessage, WeightFrom};
use laituri_domain::picking::Message as PickingMessage;
use laituri_domain::putaway::{Message as PutawayMessage, Why};
use laituri_domain::receiving::{Condition, LineSummary, Message};
use laituri_domain::returns::{
    Action as ReturnAction, Block, Message as ReturnsMessage, Reason as ReturnReason,
};
use laituri_domain::scan::{ScanNote, ScanProblem};

pub use crate::i18n::Lang;
use crate::store::StoreError;
use crate::{tr, trn};

/// Labels the adapters compose in Rust (menu entries, list details).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    Receiving,
    Putaway,
    Picking,
    Packing,
    ReasonBlocked,
    ReasonDoesNotFit,
    ReasonCloser,
    ReasonLead,
    UnknownBarcode,
    Exceptions,
    ScannerCheck,
    About,
    Stock,
    Move,
    HeldTasks,
    Counting,
    Approvals,
    Returns,
}

impl Label {
    pub fn render(self, lang: Lang) -> String {
        match self {
            Label::Receiving => tr!(lang, "Receiving"),
            Label::Putaway => tr!(lang, "Putaway"),
            Label::Picking => tr!(lang, "Picking"),
            Label::Packing => tr!(lang, "Packing"),
            Label::ReasonBlocked => tr!(lang, "Bin blocked or damaged"),
            Label::ReasonDoesNotFit => tr!(lang, "Goods do not fit"),
            Label::ReasonCloser => tr!(lang, "Closer bin"),
            Label::ReasonLead => tr!(lang, "Shift lead said so"),
            Label::UnknownBarcode => tr!(lang, "unknown barcode"),
            Label::Exceptions => tr!(lang, "Exceptions"),
            Label::ScannerCheck => tr!(lang, "Scanner check"),
            Label::About => tr!(lang, "About"),
            Label::Stock => tr!(lang, "Stock"),
            Label::Move => tr!(lang, "Move"),
            Label::HeldTasks => tr!(lang, "Held tasks"),
            Label::Counting => tr!(lang, "Count"),
            Label::Approvals => tr!(lang, "Approvals"),
            Label::Returns => tr!(lang, "Returns"),
        }
    }
}

/// "3 lines" in the operator's language.
pub fn lines(lang: Lang, n: usize) -> String {
    trn!(lang, "{n} line", "{n} lines", n)
}

/// The state of goods received, as a word on a recent line or in a message.
pub fn condition(lang: Lang, c: Condition) -> String {
    match c {
        Condition::Good => tr!(lang, "good"),
        Condition::Damaged => tr!(lang, "damaged"),
        Condition::Expired => tr!(lang, "expired"),
        Condition::ShortShelfLife => tr!(lang, "too short shelf life"),
    }
}

/// Why the device's own storage refused a write, for the person: nothing was saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreTrouble {
    DiskFull,
    Busy,
    Failed(String),
    Broken(String),
}

impl From<&StoreError> for StoreTrouble {
    fn from(e: &StoreError) -> StoreTrouble {
        match e {
            StoreError::DiskFull => StoreTrouble::DiskFull,
            StoreError::Busy => StoreTrouble::Busy,
            StoreError::Io(detail) => StoreTrouble::Failed(detail.clone()),
            StoreError::Open(detail) | StoreError::Data(detail) => {
                StoreTrouble::Broken(detail.clone())
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text {
    Welcome {
        name: String,
    },
    EnterPin {
        name: String,
    },
    WrongPin,
    PinLocked {
        minutes: i64,
    },
    ScanBadgeFirst,
    UnknownBadge {
        badge: String,
    },
    NotAllowed,
    ChooseFromMenu,
    NothingToDo,
    ScanContainer,
    UnknownNotice {
        code: String,
    },
    NoticeClosed {
        reference: String,
    },
    UnknownMerchant,
    Unreadable {
        why: ScanProblem,
    },
    BadDate {
        typed: String,
    },
    Store(StoreTrouble),
    Receiving(Message),
    Putaway(PutawayMessage),
    ToteEmpty {
        container: String,
    },
    PutawayStopped {
        container: String,
        left: i64,
    },
    OtherToteOpen {
        open: String,
        scanned: String,
    },
    /// A scan from the menu would start another job while one is open.
    FinishJobFirst {
        job: String,
    },
    NoPutawayTask,
    TaskTaken {
        task: String,
    },
    TakingTask,
    ScanTote,
    /// A scan arrived while an error waits for its acknowledgement.
    AcknowledgeFirst,
    /// Exceptions are resolved by a shift lead only.
    OnlyLeadResolves,
    ExceptionResolved,
    /// The server took back the lease of the task in hand.
    LeaseLost {
        task: String,
        why: String,
    },
    /// A product scanned where a badge is wanted.
    ProductNotBadge {
        name: String,
    },
    /// A label that is not an item where an item is wanted (a location, a notice, a badge).
    NotAnItem {
        code: String,
    },
    Picking(PickingMessage),
    NoPickTask,
    /// A scan on the picking start screen that is no pick task's batch label.
    UnknownBatch {
        code: String,
    },
    /// A pick task was asked for; the server answers when the terminal is online.
    TakingPickTask {
        task: String,
    },
    PickTaskTaken {
        task: String,
    },
    /// The server no longer has the pick task open (done, cancelled, unknown).
    PickTaskGone {
        task: String,
    },
    /// This device finished the batch already; the server hears it at the next sync.
    PickTaskFinishedHere {
        task: String,
    },
    /// The packet of a pick task holds no line the terminal can pick.
    PickTaskEmpty {
        task: String,
    },
    /// A task was asked for while the server has not answered for another one yet.
    StillTaking {
        task: String,
    },
    /// The pick job was parked: it stays open on this device.
    PickingParked {
        task: String,
        done: usize,
        left: usize,
    },
    /// The pick job was left after its lease was lost.
    PickingLeft {
        task: String,
    },
    /// The server took back the lease of the pick task in hand (`why` is the server's code).
    PickLeaseLost {
        task: String,
        why: String,
    },
    Packing(PackingMessage),
    /// A scan on the packing start screen that finds no order ready to pack.
    UnknownPackOrder {
        code: String,
    },
    /// This station packed the order already; the server hears it at the next sync.
    PackedHere {
        reference: String,
    },
    /// The packing job was parked: it stays open on this device.
    PackingParked {
        reference: String,
    },
    /// A label goes to the printer again (or is asked of the server again).
    Reprinting {
        parcel: u32,
    },
    /// A label shown on screen was confirmed handled.
    LabelHandled {
        parcel: u32,
    },
    Moving(MovingMessage),
    /// A scan on the stock screen that is no location, tote or product.
    NotStock {
        code: String,
    },
    /// The terminal has not pulled the server's whole change log yet.
    CatchingUp,
    /// The task is not held by another device on this terminal's list.
    NotHeldElsewhere {
        task: String,
    },
    HeldTaskReleased {
        task: String,
    },
    /// A stock look-up found `rows` rows.
    LookedUp {
        subject: super::stock::Subject,
        rows: usize,
    },
    Counting(CountingMessage),
    /// A scan on the counting screen that is not a location's label.
    ScanLocationToCount,
    /// A lead approved a count: the server books its difference.
    CountApproved {
        location: String,
    },
    /// A lead rejected a count: the server opens a recount.
    CountRejected {
        location: String,
    },
    /// The count is no longer waiting (decided already).
    CountGone,
    Returns(ReturnsMessage),
    /// Several returnable orders' customers have this name: the code finds one.
    ReturnOrders {
        count: usize,
    },
    /// Restocked goods go into a tote: its label first.
    ReturnNeedsTote,
    /// The returns tote was scanned.
    ReturnTote {
        tote: String,
    },
}

/// One recent line of a packing job, as the packing screen lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackRecent {
    /// Units in the open parcel, saved on the device.
    InParcel {
        quantity: i64,
        name: String,
        parcel: u32,
    },
    /// A closed parcel.
    Parcel {
        parcel: u32,
        /// Its box's name; `None`: it ships without a box.
        box_name: Option<String>,
        weight_g: u64,
        units: i64,
    },
    Finished {
        parcels: u32,
    },
}

impl PackRecent {
    /// The line's text and its detail (never cut).
    pub fn render(&self, lang: Lang) -> (String, String) {
        match self {
            PackRecent::InParcel {
                quantity,
                name,
                parcel,
            } => (
                format!("{} × {name}", crate::i18n::number(lang, *quantity)),
                tr!(lang, "parcel {parcel}", parcel),
            ),
            PackRecent::Parcel {
                parcel,
                box_name,
                weight_g,
                units,
            } => {
                let units = trn!(lang, "{n} unit", "{n} units", *units);
                let shell = box_name.clone().unwrap_or_else(|| tr!(lang, "no box"));
                (
                    tr!(lang, "Parcel {parcel} closed: {units}", parcel, units),
                    format!("{shell} · {}", weight(lang, *weight_g)),
                )
            }
            PackRecent::Finished { parcels } => (
                trn!(
                    lang,
                    "Order packed in {n} parcel",
                    "Order packed in {n} parcels",
                    *parcels
                ),
                String::new(),
            ),
        }
    }
}

/// A weight in grams as the language writes it: "850 g", "1.25 kg" ("1,25 kg").
pub fn weight(lang: Lang, grams: u64) -> String {
    if grams < 1000 {
        return format!("{grams} g");
    }
    let kg = grams / 1000;
    let rest = grams % 1000;
    let decimal = match lang {
        Lang::En => ".",
        Lang::Fi | Lang::Sv => ",",
    };
    let kg = crate::i18n::number(lang, kg as i64);
    if rest == 0 {
        format!("{kg} kg")
    } else {
        let frac = format!("{rest:03}");
        format!("{kg}{decimal}{} kg", frac.trim_end_matches('0'))
    }
}

/// Where a weight came from, as a word.
pub fn weight_from(lang: Lang, from: WeightFrom) -> String {
    match from {
        WeightFrom::Scale => tr!(lang, "from the scale"),
        WeightFrom::Keypad => tr!(lang, "typed"),
        WeightFrom::Estimate => tr!(lang, "estimated"),
    }
}

/// A kind of document to put in, as a word; a kind this terminal does not know shows as sent.
pub fn document(lang: Lang, kind: &str) -> String {
    match kind {
        "receipt" => tr!(lang, "receipt"),
        "return_form" => tr!(lang, "return form"),
        "invoice" => tr!(lang, "invoice"),
        "delivery_note" => tr!(lang, "delivery note"),
        other => other.replace('_', " "),
    }
}

/// A checklist entry as the packer reads it: the insert's name (the controller puts the name in
/// place of the product id), or the document's kind.
pub fn entry(lang: Lang, e: &Entry) -> String {
    match e {
        Entry::Insert(name) => name.clone(),
        Entry::Document(kind) => document(lang, kind),
    }
}

/// Why a station's print failed, from the code kept with the label, in the operator's language:
/// what to do next. A code this terminal does not know shows as it was kept.
pub fn print_trouble(lang: Lang, code: &str, printer: &str) -> String {
    match code {
        "bad_address" => tr!(
            lang,
            "The printer address {printer} is not valid: set it in the station settings.",
            printer
        ),
        "unknown_host" => tr!(
            lang,
            "No printer {printer} on the network: check the printer's address in the station settings.",
            printer
        ),
        "not_answering" => tr!(
            lang,
            "The printer at {printer} does not answer: check it is on and its network cable, then tap Reprint.",
            printer
        ),
        "paper_out" => tr!(
            lang,
            "The printer at {printer} is out of labels: load a new roll, then tap Reprint.",
            printer
        ),
        "head_open" => tr!(
            lang,
            "The print head of the printer at {printer} is open: close it, then tap Reprint.",
            printer
        ),
        "ribbon_out" => tr!(
            lang,
            "The printer at {printer} is out of ribbon: load a new ribbon, then tap Reprint.",
            printer
        ),
        "paused" => tr!(
            lang,
            "The printer at {printer} is paused: press its pause button, then tap Reprint.",
            printer
        ),
        "stalled" => tr!(
            lang,
            "The printer at {printer} stopped taking the label: check it for a jam or an error light, then tap Reprint.",
            printer
        ),
        "broken" => tr!(
            lang,
            "The connection to the printer at {printer} broke: check its network cable, then tap Reprint.",
            printer
        ),
        other => format!("{other} ({printer})"),
    }
}

/// Where a parcel's label stands, for the station's list.
pub fn label_state(lang: Lang, state: &crate::store::LabelState, printer: bool) -> String {
    use crate::store::LabelState as L;
    match state {
        L::Awaiting => tr!(
            lang,
            "awaiting label: it comes by itself when the server is reached"
        ),
        L::Refused { reason, .. } => tr!(
            lang,
            "no label: {reason}. Give the parcels to a shift lead.",
            reason
        ),
        L::New if printer => tr!(lang, "label arrived, printing"),
        L::New => tr!(lang, "label on screen: put it on the parcel, then confirm"),
        L::Printed => tr!(lang, "label printed"),
        L::Failed { code, printer } => print_trouble(lang, code, printer),
        L::Handled => tr!(lang, "label handled"),
    }
}

/// One recent line of a pick job, as the picking screen lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickRecent {
    Picked {
        quantity: i64,
        name: String,
        lot: Option<String>,
        bin: String,
        tote: String,
    },
    Short {
        missing: i64,
        name: String,
        bin: String,
    },
    ZeroChecked {
        bin: String,
        empty: bool,
    },
    Dropped {
        totes: usize,
        location: String,
    },
}

impl PickRecent {
    /// The line's text (may be cut on a narrow screen) and its detail (never cut: what tells
    /// two lines apart).
    pub fn render(&self, lang: Lang) -> (String, String) {
        match self {
            PickRecent::Picked {
                quantity,
                name,
                lot,
                bin,
                tote,
            } => {
                let quantity = crate::i18n::number(lang, *quantity);
                let text = match lot {
                    Some(lot) => format!("{quantity} × {name} · {lot}"),
                    None => format!("{quantity} × {name}"),
                };
                (text, format!("{bin} → {tote}"))
            }
            PickRecent::Short { missing, name, bin } => (
                tr!(lang, "{missing} × {name} missing", missing, name),
                bin.clone(),
            ),
            PickRecent::ZeroChecked { bin, empty: true } => {
                (tr!(lang, "Zero check: empty"), bin.clone())
            }
            PickRecent::ZeroChecked { bin, empty: false } => {
                (tr!(lang, "Zero check: goods left"), bin.clone())
            }
            PickRecent::Dropped { totes, location } => (
                trn!(lang, "{n} tote to packing", "{n} totes to packing", *totes),
                location.clone(),
            ),
        }
    }
}

/// Why the server took a lease back, from its code, in the operator's language; a code this
/// terminal does not know shows as it came.
pub fn lease_loss(lang: Lang, why: &str) -> String {
    match why {
        "expired" => tr!(lang, "it expired while the terminal was offline"),
        "released" => tr!(lang, "it was given back on the server"),
        "taken" => tr!(lang, "another device took it over"),
        "done" => tr!(lang, "it is already finished"),
        other => other.to_string(),
    }
}

/// How the lines of a receipt stand against the notice: as expected, short, over. The list on
/// screen shows each line; the message only counts them, so it never grows into a paragraph.
fn close_counts(lines: &[LineSummary]) -> (usize, usize, usize) {
    let short = lines.iter().filter(|l| l.received < l.expected).count();
    let over = lines.iter().filter(|l| l.received > l.expected).count();
    (lines.len() - short - over, short, over)
}

fn summary(lang: Lang, lines: &[LineSummary]) -> String {
    let (ok, short, over) = close_counts(lines);
    if lines.iter().all(|l| l.expected == 0) {
        let received = self::lines(lang, lines.len());
        tr!(
            lang,
            "{received} received: check the list, then confirm.",
            received
        )
    } else {
        tr!(
            lang,
            "{ok} as expected, {short} short, {over} over: check the list, then confirm.",
            ok,
            short,
            over
        )
    }
}

impl Text {
    pub fn render(&self, lang: Lang) -> String {
        match self {
            Text::Welcome { name } => tr!(lang, "Hello {name}. Choose a task.", name),
            Text::EnterPin { name } => tr!(lang, "{name}: enter your PIN on the keypad.", name),
            Text::WrongPin => tr!(lang, "Wrong PIN. Try again."),
            Text::PinLocked { minutes } => tr!(
                lang,
                "Wrong PIN three times: this badge is locked on this terminal for {minutes} min. If you forgot your PIN, ask the shift lead.",
                minutes
            ),
            Text::ScanBadgeFirst => tr!(lang, "Scan your badge first."),
            Text::UnknownBadge { badge } => tr!(
                lang,
                "Badge {badge} is not known on this terminal. Scan your own badge, or ask the shift lead to add you.",
                badge
            ),
            Text::NotAllowed => tr!(
                lang,
                "Your role does not include this task. Ask the shift lead."
            ),
            Text::ChooseFromMenu => tr!(lang, "Choose a task from the menu first."),
            Text::NothingToDo => tr!(lang, "Nothing to do here. Go back to the menu."),
            Text::ScanContainer | Text::Receiving(Message::ScanContainer) => {
                tr!(lang, "Scan the tote or license plate the goods go into.")
            }
            Text::UnknownNotice { code } => tr!(
                lang,
                "No inbound notice {code}. Scan the notice reference or SSCC, pick it from the list, or start a blind receipt.",
                code
            ),
            Text::NoticeClosed { reference } => tr!(
                lang,
                "Notice {reference} is already received and closed. Ask the shift lead.",
                reference
            ),
            Text::UnknownMerchant => tr!(
                lang,
                "This merchant is not known on this terminal yet. Wait for sync or ask the shift lead."
            ),
            Text::Unreadable { why } => tr!(
                lang,
                "Scan not readable: {why}. Nothing was recorded.",
                why = scan_problem(lang, why)
            ),
            Text::BadDate { typed } => tr!(
                lang,
                "{typed} is not a date. Type it as YYMMDD, e.g. 270131.",
                typed
            ),
            Text::Store(trouble) => store(trouble, lang),
            Text::Receiving(m) => receiving(m, lang),
            Text::Putaway(m) => putaway(m, lang),
            Text::Moving(m) => moving(m, lang),
            Text::CatchingUp => tr!(
                lang,
                "The terminal is still fetching the warehouse's work from the server. Wait a moment, then scan again."
            ),
            Text::NotHeldElsewhere { task } => tr!(
                lang,
                "Task {task} is not held by another device on this terminal's list. Wait for the sync and look again.",
                task
            ),
            Text::HeldTaskReleased { task } => tr!(
                lang,
                "Task {task} is given back: anyone can take it once the server has it. What the device does in it from now on is refused.",
                task
            ),
            Text::NotStock { code } => tr!(
                lang,
                "{code} is no location, tote or product known on this terminal. Scan a location, a tote or an item.",
                code
            ),
            Text::LookedUp { subject, rows } => looked_up(subject, *rows, lang),
            Text::ToteEmpty { container } => tr!(
                lang,
                "{container} holds nothing to put away on this terminal. Scan another tote.",
                container
            ),
            Text::PutawayStopped { container, left } => tr!(
                lang,
                "Putaway of {container} stopped: {left} units stay in it. Leave the tote at the dock.",
                container,
                left
            ),
            Text::OtherToteOpen { open, scanned } => tr!(
                lang,
                "{scanned} is another tote. Finish {open} first, or stop it from the menu.",
                scanned,
                open
            ),
            Text::FinishJobFirst { job } => tr!(
                lang,
                "{job} is still open. Finish it, or stop it, before starting another job.",
                job
            ),
            Text::NoPutawayTask => tr!(
                lang,
                "No putaway task is waiting. Scan a tote from the dock to put it away."
            ),
            Text::TakingTask => tr!(
                lang,
                "Taking the task from the server. If it takes long, scan the tote instead."
            ),
            Text::OnlyLeadResolves => tr!(
                lang,
                "Only a shift lead resolves exceptions. Put the item aside and tell the shift lead."
            ),
            Text::ExceptionResolved => tr!(
                lang,
                "Exception resolved; the server is told who resolved it."
            ),
            Text::LeaseLost { task, why } => tr!(
                lang,
                "The task for {task} is no longer yours ({why}): what you put away still counts. Finish the tote in hand, or stop it and take new work.",
                task,
                why
            ),
            Text::ProductNotBadge { name } => tr!(
                lang,
                "That is a product ({name}), not a badge: scan your badge first.",
                name
            ),
            Text::AcknowledgeFirst => tr!(
                lang,
                "Scan refused: acknowledge the error first (OK or Enter), then scan again."
            ),
            Text::NotAnItem { code } => tr!(
                lang,
                "{code} is a label, not an item: nothing recorded. Scan the item's barcode.",
                code
            ),
            Text::ScanTote => tr!(lang, "Scan a tote or license plate label."),
            Text::TaskTaken { task } => tr!(
                lang,
                "Task {task} is taken by another device. Choose another task or scan a tote.",
                task
            ),
            Text::Picking(m) => picking(m, lang),
            Text::NoPickTask => tr!(
                lang,
                "No pick task is waiting on this terminal. Wait for the next sync, or ask the shift lead to release orders."
            ),
            Text::UnknownBatch { code } => tr!(
                lang,
                "{code} is not a pick task on this terminal. Scan a batch label, or take the next task.",
                code
            ),
            Text::TakingPickTask { task } => tr!(
                lang,
                "Taking batch {task} from the server: picking starts when it answers. Offline, it waits for the network.",
                task
            ),
            Text::PickTaskTaken { task } => tr!(
                lang,
                "Batch {task} is taken by another device. Take the next task, or choose another.",
                task
            ),
            Text::PickTaskGone { task } => tr!(
                lang,
                "Batch {task} is no longer open on the server. Take the next task, or choose another.",
                task
            ),
            Text::PickTaskFinishedHere { task } => tr!(
                lang,
                "Batch {task} was finished on this terminal; the server hears it at the next sync. Take the next task.",
                task
            ),
            Text::PickTaskEmpty { task } => tr!(
                lang,
                "Batch {task} has no line this terminal can pick. Tell the shift lead, and take the next task.",
                task
            ),
            Text::StillTaking { task } => tr!(
                lang,
                "Still waiting for the server to hand over {task}. It starts when the server answers; take another task after that.",
                task
            ),
            Text::PickingParked { task, done, left } => tr!(
                lang,
                "Batch {task} parked with {done} done and {left} to go. Open Picking to go on; it also comes back at your next log-in.",
                task,
                done = lines(lang, *done),
                left = lines(lang, *left)
            ),
            Text::PickingLeft { task } => tr!(
                lang,
                "Batch {task} is closed on this terminal; what you picked is saved. Take the totes to the shift lead.",
                task
            ),
            Text::Packing(m) => packing(m, lang),
            Text::UnknownPackOrder { code } => tr!(
                lang,
                "No order ready to pack for {code}. Scan a tote at packing or the order's reference.",
                code
            ),
            Text::PackedHere { reference } => tr!(
                lang,
                "Order {reference} was packed on this station already. Scan the next tote.",
                reference
            ),
            Text::PackingParked { reference } => tr!(
                lang,
                "Order {reference} parked: what is packed stays recorded. Open Packing to go on; it also comes back at your next log-in.",
                reference
            ),
            Text::Reprinting { parcel } => tr!(
                lang,
                "The label of parcel {parcel} is printed again. A label already printed is asked of the server again.",
                parcel
            ),
            Text::LabelHandled { parcel } => tr!(
                lang,
                "Label of parcel {parcel} handled: its address is deleted from this terminal.",
                parcel
            ),
            Text::PickLeaseLost { task, why } => tr!(
                lang,
                "Batch {task} is no longer yours ({why}). What you picked is saved and counts. Pick nothing more: tap Stop picking and take the totes to the shift lead.",
                task,
                why = lease_loss(lang, why)
            ),
            Text::Counting(m) => counting(m, lang),
            Text::ScanLocationToCount => tr!(lang, "Scan the label of the bin to count."),
            Text::CountApproved { location } => tr!(
                lang,
                "Count of {location} approved: the server books the difference.",
                location
            ),
            Text::CountRejected { location } => tr!(
                lang,
                "Count of {location} rejected: nothing changes, and {location} is to be counted again.",
                location
            ),
            Text::CountGone => tr!(
                lang,
                "This count was decided already. Choose another from the list."
            ),
            Text::Returns(m) => returns(m, lang),
            Text::ReturnOrders { count } => tr!(
                lang,
                "{count} orders match that name: scan the return label or type the order number.",
                count
            ),
            Text::ReturnNeedsTote => tr!(
                lang,
                "Restocked goods go into a tote: scan the returns tote's label, then finish."
            ),
            Text::ReturnTote { tote } => tr!(lang, "Restocked goods go into {tote}.", tote),
        }
    }
}

fn counting(m: &CountingMessage, lang: Lang) -> String {
    use CountingMessage as C;
    match m {
        C::ScanLocation => tr!(lang, "Scan the label of the bin to count."),
        C::GoTo { location } => tr!(
            lang,
            "Count {location}: go there and scan its label.",
            location
        ),
        C::ScanItems {
            location, lines: 0, ..
        } => tr!(
            lang,
            "Counting {location}: scan every item there, then tap Finish. Nothing there? Tap Empty.",
            location
        ),
        C::ScanItems {
            location, units, ..
        } => tr!(
            lang,
            "Counting {location}: {units} units so far. Scan the rest, then tap Finish.",
            location,
            units
        ),
        C::Added { name, counted } => tr!(lang, "{name}: {counted}.", name, counted),
        C::QuantitySet { name, counted } => {
            tr!(lang, "{name} set to {counted}.", name, counted)
        }
        C::UnitCancelled { name, counted } => tr!(
            lang,
            "One {name} taken off: {counted} counted.",
            name,
            counted
        ),
        C::CountCancelled { location } => tr!(
            lang,
            "Count of {location} cancelled: nothing was recorded. Scan a bin to count.",
            location
        ),
        C::Recorded {
            location, units, ..
        } => tr!(
            lang,
            "Count of {location} saved: {units} units. The server books it; a shift lead approves a large difference.",
            location,
            units
        ),
        C::RecordedEmpty { location } => tr!(
            lang,
            "{location} counted empty and saved. The server books it; a shift lead approves a large difference.",
            location
        ),
        C::NotCountable { code } => tr!(
            lang,
            "{code} is not a bin: stock is counted in bins. Scan a bin's label.",
            code
        ),
        C::FinishFirst { counting } => tr!(
            lang,
            "You are counting {counting}: finish or cancel it first.",
            counting
        ),
        C::ScanLocationFirst => tr!(lang, "Scan the bin's label first, then its items."),
        C::NeedsLot { name } => tr!(
            lang,
            "{name} needs its lot: scan the GS1 label with the lot.",
            name
        ),
        C::NeedsExpiry { name } => tr!(
            lang,
            "{name} needs its expiry date: scan the GS1 label with the date.",
            name
        ),
        C::ScanItemFirst => tr!(lang, "Scan an item first, then type its quantity."),
        C::BadQuantity => tr!(lang, "That quantity is not possible. Count again."),
        C::NothingCounted => tr!(
            lang,
            "Nothing counted yet: scan the items, or tap Empty if the bin is empty."
        ),
        C::NotEmpty { units } => tr!(
            lang,
            "{units} units are counted: cancel them first if the bin is empty.",
            units
        ),
        C::UnknownCode { raw } => tr!(
            lang,
            "{raw} is not known here. Put the item aside for a shift lead and go on counting.",
            raw
        ),
        C::Finished => tr!(lang, "This count is finished. Scan the next bin to count."),
    }
}

/// A reason a return came back, as a button says it.
pub fn return_reason(lang: Lang, r: ReturnReason) -> String {
    match r {
        ReturnReason::Unwanted => tr!(lang, "Unwanted"),
        ReturnReason::Defective => tr!(lang, "Defective"),
        ReturnReason::WrongItem => tr!(lang, "Wrong item delivered"),
        ReturnReason::Undeliverable => tr!(lang, "Undeliverable or not collected"),
    }
}

/// What becomes of returned goods, as a button says it.
pub fn return_action(lang: Lang, a: ReturnAction) -> String {
    match a {
        ReturnAction::Restock => tr!(lang, "Restock"),
        ReturnAction::Quarantine => tr!(lang, "Quarantine for inspection"),
        ReturnAction::Dispose => tr!(lang, "Dispose"),
        ReturnAction::BackToMerchant => tr!(lang, "Back to the merchant"),
    }
}

fn returns(m: &ReturnsMessage, lang: Lang) -> String {
    use ReturnsMessage as R;
    match m {
        R::ScanOrder => tr!(
            lang,
            "Scan the return label or tracking code, or type the order number or the customer's name."
        ),
        R::NotFound { code } => tr!(
            lang,
            "No shipped order matches {code}: scan the tracking code, or type the order number or the customer's name.",
            code
        ),
        R::OrderFound { reference, units } => tr!(
            lang,
            "Order {reference}: {units} units shipped. Scan each returned item.",
            reference,
            units
        ),
        R::ChooseReason { name, quantity } => tr!(
            lang,
            "{quantity} × {name}: why did it come back?",
            quantity,
            name
        ),
        R::Unexpected { name, quantity } => tr!(
            lang,
            "{quantity} × {name} was not in the order: it is recorded as unexpected. Why did it come back?",
            quantity,
            name
        ),
        R::UnknownItem { barcode } => tr!(
            lang,
            "{barcode} is no product of this merchant: it is recorded and goes to quarantine. Why did it come back?",
            barcode
        ),
        R::ChooseAction { name, suggested } => tr!(
            lang,
            "{name}: what becomes of it? Suggested: {suggested}.",
            name,
            suggested = return_action(lang, *suggested)
        ),
        R::Recorded {
            name,
            quantity,
            action,
        } => tr!(
            lang,
            "{quantity} × {name}: {action}. Scan the next item or finish.",
            quantity,
            name,
            action = return_action(lang, *action)
        ),
        R::RestockBlocked {
            name,
            block: Block::UnknownProduct,
            action,
        } => tr!(
            lang,
            "{name} cannot be restocked (not a product of this merchant): {action}. A shift lead is told.",
            name,
            action = return_action(lang, *action)
        ),
        R::RestockBlocked {
            name,
            block: Block::MerchantRule,
            action,
        } => tr!(
            lang,
            "{name} is not restocked (the merchant's rule): {action}. A shift lead is told.",
            name,
            action = return_action(lang, *action)
        ),
        R::ConfirmMissing { units } => tr!(
            lang,
            "{units} shipped units are not in the parcel: finish again to record them missing, or scan them.",
            units
        ),
        R::ScanItemFirst => tr!(lang, "Scan a returned item, or finish the return."),
        R::ChooseReasonFirst => tr!(
            lang,
            "Choose why the item in hand came back first, or cancel it."
        ),
        R::BadQuantity => tr!(lang, "That quantity is not possible. Count again."),
        R::Cancelled { name } => tr!(lang, "{name} cancelled: nothing was recorded for it.", name),
        R::NothingReturned => tr!(
            lang,
            "Nothing is recorded yet: scan the returned items first."
        ),
        R::Finished {
            lines,
            unexpected,
            missing,
        } => tr!(
            lang,
            "Return recorded: {lines} lines, {unexpected} unexpected, {missing} units missing.",
            lines,
            unexpected,
            missing
        ),
        R::Over => tr!(lang, "This return is finished. Go to the menu."),
    }
}

/// What is wrong with a scan, and what to do, in the operator's language. The AI's title is
/// GS1's own data title.
pub fn scan_problem(lang: Lang, p: &ScanProblem) -> String {
    use ScanProblem as S;
    match p {
        S::NothingScanned => tr!(lang, "nothing was scanned — scan the barcode again"),
        S::NoData { symbology } => tr!(
            lang,
            "the barcode ({symbology}) carried no data — rescan",
            symbology
        ),
        S::Gs1NoData => tr!(lang, "the GS1 barcode carried no data — rescan"),
        S::NoDigits { name } => tr!(
            lang,
            "the {name} barcode carried no digits — rescan",
            name = *name
        ),
        S::NonDigits { name, data } => tr!(
            lang,
            "the {name} barcode holds non-digits ('{data}') — rescan, or check the scanner's settings",
            name = *name,
            data
        ),
        S::WrongLength {
            name,
            symbology,
            want,
            got,
        } => tr!(
            lang,
            "an {name} barcode ({symbology}) must have {want} digits, this one has {got} — rescan",
            name = *name,
            symbology,
            want = *want,
            got
        ),
        S::UpceCheckDigit {
            data,
            expected,
            scanned,
        } => tr!(
            lang,
            "check digit of UPC-E {data} is wrong: expected {expected}, scanned {scanned} — rescan",
            data,
            expected = expected.to_string(),
            scanned
        ),
        S::NotUpce { data } => tr!(
            lang,
            "{data} is not a UPC-E (it must start with 0 or 1) — rescan",
            data
        ),
        S::GtinCheckDigit {
            digits,
            expected,
            scanned,
        } => tr!(
            lang,
            "check digit of GTIN {digits} is wrong: expected {expected}, scanned {scanned} — rescan, or enter the code by hand",
            digits,
            expected = expected.to_string(),
            scanned = scanned.to_string()
        ),
        S::ControlCharacter { code } => tr!(
            lang,
            "control character U+{code} in the scan — check the scanner's settings, then rescan",
            code = format!("{code:04X}")
        ),
        S::NoElements => tr!(lang, "no element strings in the data — rescan"),
        S::NoAi { at } => tr!(
            lang,
            "no GS1 Application Identifier at '{at}' — not a code the terminal knows; rescan or enter it by hand",
            at
        ),
        S::DoesNotFit {
            ai,
            title,
            format,
            at,
        } => tr!(
            lang,
            "value of ({ai}) {title} does not fit its format {format} at '{at}' — rescan or enter the code by hand",
            ai = ai.as_str(),
            title = *title,
            format,
            at
        ),
        S::TooLong { ai, title, format } => tr!(
            lang,
            "value of ({ai}) {title} is longer than its format {format} allows, or the separator (FNC1) after it is missing — check the scanner's FNC1/GS setting",
            ai = ai.as_str(),
            title = *title,
            format
        ),
        S::BadCharacter {
            character,
            ai,
            title,
            offset,
        } => tr!(
            lang,
            "character '{character}' is not allowed in ({ai}) {title} (offset {offset}) — the scanner may send a wrong separator; check its FNC1/GS setting",
            character,
            ai = ai.as_str(),
            title = *title,
            offset
        ),
        S::ExpectedBracket { offset } => tr!(
            lang,
            "expected an AI in brackets like (01) at offset {offset} — type the code as printed under the barcode",
            offset
        ),
        S::UnknownAi { ai } => tr!(lang, "unknown AI ({ai}) — check the number in brackets", ai),
        S::EmptyValue { ai, title } => tr!(
            lang,
            "empty value for AI ({ai}) {title} — type the value after the brackets",
            ai = ai.as_str(),
            title = *title
        ),
        S::TypedDoesNotFit {
            value,
            ai,
            title,
            format,
        } => tr!(
            lang,
            "value '{value}' does not fit ({ai}) {title}, format {format} — check what was typed",
            value,
            ai = ai.as_str(),
            title = *title,
            format
        ),
        S::Repeated { ai, title } => tr!(
            lang,
            "AI ({ai}) {title} appears twice with different values — scan one label at a time",
            ai = ai.as_str(),
            title = *title
        ),
        S::NotADate { ai, title, value } => tr!(
            lang,
            "({ai}) {title}: {value} is not a real date (YYMMDD) — check the label, or enter the date by hand",
            ai = ai.as_str(),
            title = *title,
            value
        ),
        S::NotATime { ai, title, value } => tr!(
            lang,
            "({ai}) {title}: {value} is not a real time of day — check the label",
            ai = ai.as_str(),
            title = *title,
            value
        ),
        S::CheckDigit {
            ai,
            title,
            expected,
            scanned,
        } => tr!(
            lang,
            "check digit of ({ai}) {title} is wrong: expected {expected}, scanned {scanned} — rescan, or enter the code by hand",
            ai = ai.as_str(),
            title = *title,
            expected = expected.to_string(),
            scanned = scanned.to_string()
        ),
    }
}

/// Something odd about a scan that does not stop it, in the operator's language.
pub fn scan_note(lang: Lang, n: &ScanNote) -> String {
    match n {
        ScanNote::LeadingSeparators => tr!(lang, "leading FNC1 separator(s) skipped"),
        ScanNote::RepeatedSeparators { count, ai } => tr!(
            lang,
            "{count} consecutive FNC1 separators after AI ({ai})",
            count,
            ai = ai.as_str()
        ),
        ScanNote::UpcaTwelveDigits => tr!(
            lang,
            "12 digits under ]E0 (AIM sends UPC-A as 13 digits with a leading 0)"
        ),
        ScanNote::UpceEightDigits => tr!(
            lang,
            "UPC-E sent as 8 digits under ]E0 (AIM sends the expanded 13-digit form)"
        ),
        ScanNote::NonAscii => tr!(lang, "non-ASCII characters in plain data"),
    }
}

fn store(trouble: &StoreTrouble, lang: Lang) -> String {
    match trouble {
        StoreTrouble::DiskFull => tr!(
            lang,
            "The device storage is full: nothing was saved. Tell the shift lead; the terminal needs space before it can record more."
        ),
        StoreTrouble::Busy => tr!(lang, "The database is busy: nothing was saved. Try again."),
        StoreTrouble::Failed(detail) => tr!(
            lang,
            "The device storage failed to save ({detail}): nothing was saved. Try again; if it repeats, switch to another terminal and tell the shift lead.",
            detail
        ),
        StoreTrouble::Broken(detail) => tr!(
            lang,
            "The local data of this terminal is damaged ({detail}): nothing was saved. Switch to another terminal and tell the shift lead.",
            detail
        ),
    }
}

fn receiving(m: &Message, lang: Lang) -> String {
    match m {
        Message::ScanContainer => Text::ScanContainer.render(lang),
        Message::ScanItems => tr!(lang, "Scan items."),
        Message::ContainerSet { container } => {
            tr!(lang, "Goods go into {container}. Scan items.", container)
        }
        Message::Received {
            name,
            units,
            total,
            expected: Some(expected),
        } => tr!(
            lang,
            "+{units} {name} ({total} of {expected})",
            units,
            name,
            total,
            expected
        ),
        Message::Received {
            name,
            units,
            total,
            expected: None,
        } => tr!(lang, "+{units} {name} ({total})", units, name, total),
        Message::Quarantined {
            name,
            units,
            condition: c,
        } => tr!(
            lang,
            "{units} {name}: {condition}. Put it aside in quarantine.",
            units,
            name,
            condition = condition(lang, *c)
        ),
        Message::NeedLot { name } => {
            tr!(lang, "{name} needs its lot: scan the lot barcode.", name)
        }
        Message::NeedExpiry { name } => tr!(
            lang,
            "{name} needs its expiry date: scan it or type YYMMDD on the keypad.",
            name
        ),
        Message::NeedSerial { name } => {
            tr!(lang, "{name} needs its serial number: scan it.", name)
        }
        Message::ConfirmOverReceipt {
            name,
            would_be,
            expected,
        } => tr!(
            lang,
            "{name}: {would_be} is more than the {expected} expected. Confirm to receive, or cancel.",
            name,
            would_be,
            expected
        ),
        Message::UnknownRecorded { raw } => tr!(
            lang,
            "Unknown barcode {raw}: recorded for the shift lead. Put the item aside and go on.",
            raw
        ),
        Message::ForeignRecorded { name, merchant } => tr!(
            lang,
            "{name} belongs to {merchant}, not on this receipt: put it aside; recorded for the shift lead.",
            name,
            merchant
        ),
        Message::NoItemYet => tr!(lang, "Scan an item first, then enter its quantity."),
        Message::BadQuantity => tr!(lang, "That quantity is not possible. Enter it again."),
        Message::FinishCurrentFirst => {
            tr!(lang, "Finish the current step first (or cancel it).")
        }
        Message::SerialNeedsSingleUnits { name } => tr!(
            lang,
            "{name} is serial-tracked: scan each unit on its own.",
            name
        ),
        Message::Cancelled { item: Some(name) } => tr!(
            lang,
            "Cancelled: nothing recorded for {name}. Put it aside, or scan it again to receive it.",
            name
        ),
        Message::Cancelled { item: None } => tr!(lang, "Cancelled. Nothing was recorded."),
        Message::ConfirmClose { lines } => tr!(
            lang,
            "Close the receipt? {summary}",
            summary = summary(lang, lines)
        ),
        Message::Closed { .. } => tr!(lang, "Receipt closed and saved. Take the totes to putaway."),
        Message::ReceiptClosed => tr!(lang, "This receipt is closed. Go back to the menu."),
    }
}

fn looked_up(subject: &super::stock::Subject, rows: usize, lang: Lang) -> String {
    use super::stock::Subject;
    match (subject, rows) {
        (Subject::Location(place) | Subject::Container(place), 0) => {
            tr!(lang, "{place} holds nothing on this terminal.", place)
        }
        (Subject::Location(place) | Subject::Container(place), n) => trn!(
            lang,
            "{place}: {n} row of goods.",
            "{place}: {n} rows of goods.",
            n,
            place
        ),
        (Subject::Product(name), 0) => {
            tr!(lang, "{name} is nowhere in stock on this terminal.", name)
        }
        (Subject::Product(name), n) => trn!(
            lang,
            "{name} is in {n} place.",
            "{name} is in {n} places.",
            n,
            name
        ),
    }
}

/// How old what the terminal shows of stock is: the last complete pull, `None` before one.
pub fn stock_age(lang: Lang, age: Option<String>) -> String {
    match age {
        Some(age) => tr!(
            lang,
            "Stock as the server had it {age} ago, with this terminal's own moves.",
            age
        ),
        None => tr!(
            lang,
            "Not synced with the server yet: only this terminal's own moves are shown."
        ),
    }
}

fn moving(m: &MovingMessage, lang: Lang) -> String {
    use MovingMessage as M;
    match m {
        M::ScanFrom => tr!(lang, "Scan the location or tote the goods are at."),
        M::ScanItem { place } => tr!(
            lang,
            "Scan an item of {place} to move it, or scan a tote or another location.",
            place
        ),
        M::ScanTo { name, quantity } => tr!(
            lang,
            "{quantity} × {name} in hand: scan the location they go to (or scan the item again for one more).",
            quantity,
            name
        ),
        M::ScanToWhole { container, units } => tr!(
            lang,
            "Tote {container} ({units} units): scan the location it goes to.",
            container,
            units
        ),
        M::Moved { name, quantity, to } => tr!(
            lang,
            "{quantity} × {name} moved to {to}.",
            quantity,
            name,
            to
        ),
        M::MovedWhole { container, to } => {
            tr!(lang, "Tote {container} moved to {to}.", container, to)
        }
        M::MoreThanKnown {
            name,
            quantity,
            known,
            place,
        } => tr!(
            lang,
            "{quantity} × {name} is more than this terminal knows at {place} ({known}). If you hold them, scan where they go; a count will follow if the books are wrong.",
            quantity,
            name,
            place,
            known
        ),
        M::NothingHere { place } => tr!(
            lang,
            "{place} holds nothing on this terminal. Scan the place the goods are at.",
            place
        ),
        M::NotHere { name, place } => tr!(
            lang,
            "{name} is not at {place} on this terminal. Scan an item of {place}, or look it up on the stock screen.",
            name,
            place
        ),
        M::WhichLot { name } => tr!(
            lang,
            "{name} is here in several lots: scan the lot's label (GS1) of the one you move.",
            name
        ),
        M::SamePlace { place } => tr!(
            lang,
            "The goods are already at {place}. Scan the place they go to.",
            place
        ),
        M::InTransit => tr!(
            lang,
            "Goods on a picker's cart move only with their pick task. Scan another place."
        ),
        M::PlaceFirst => tr!(lang, "Scan the location or tote the item is at first."),
        M::NoQuantity => tr!(lang, "Scan an item first, then key in how many."),
        M::ToteNowhere { container } => tr!(
            lang,
            "Tote {container} is nowhere on this terminal. Scan the location where the goods go.",
            container
        ),
        M::Unknown { code } => tr!(
            lang,
            "{code} is not known on this terminal. Scan a location, a tote or an item; nothing was moved.",
            code
        ),
        M::Cancelled => tr!(
            lang,
            "Put down: nothing was moved. Scan an item or another place."
        ),
    }
}

fn putaway(m: &PutawayMessage, lang: Lang) -> String {
    use PutawayMessage as P;
    match m {
        P::ScanItem { lines } => trn!(
            lang,
            "The tote holds {n} kind of goods: scan it.",
            "The tote holds {n} kinds of goods: scan one.",
            *lines
        ),
        P::Suggest {
            name,
            quantity,
            bin,
            why: Why::SameGoods,
        } => tr!(
            lang,
            "Put {quantity} × {name} into {bin} (holds the same goods): scan the bin.",
            quantity,
            name,
            bin
        ),
        P::Suggest {
            name,
            quantity,
            bin,
            why: Why::Empty,
        } => tr!(
            lang,
            "Put {quantity} × {name} into {bin} (empty): scan the bin.",
            quantity,
            name,
            bin
        ),
        P::NoSuggestion { name, quantity } => tr!(
            lang,
            "No free bin is known for {quantity} × {name}: scan any free bin of the merchant's zone.",
            quantity,
            name
        ),
        P::PutAway {
            name,
            quantity,
            bin,
            left: 0,
        } => tr!(lang, "{quantity} × {name} into {bin}.", quantity, name, bin),
        P::PutAway {
            name,
            quantity,
            bin,
            left,
        } => tr!(
            lang,
            "{quantity} × {name} into {bin}. {left} more of it in the tote.",
            quantity,
            name,
            bin,
            left
        ),
        P::ToteEmpty => tr!(lang, "The tote is empty: putaway done. Take the tote back."),
        P::BinMarkedFull { bin } => {
            tr!(lang, "{bin} marked full. Follow the next suggestion.", bin)
        }
        P::ChooseReason { bin, suggested } => tr!(
            lang,
            "{bin} is not the suggested {suggested}: choose why, or cancel and scan {suggested}.",
            bin,
            suggested
        ),
        P::NotInTote { name } => tr!(
            lang,
            "{name} is not in this tote. Put it aside and scan an item of the tote.",
            name
        ),
        P::MoreThanTote {
            name,
            asked,
            in_tote,
        } => tr!(
            lang,
            "{asked} is more than the {in_tote} × {name} in the tote. Count again.",
            asked,
            in_tote,
            name
        ),
        P::UnknownCode { raw } => tr!(
            lang,
            "{raw} is neither a bin nor an item of this tote. Scan the bin label.",
            raw
        ),
        P::NotABin { code } => tr!(lang, "{code} is not a storage bin. Scan a bin label.", code),
        P::OtherMerchantsZone { code, zone } => tr!(
            lang,
            "{code} is in zone {zone} of another merchant. Scan a bin of this merchant's zone.",
            code,
            zone
        ),
        P::ScanItemFirst => tr!(lang, "Scan an item of the tote first, then the bin."),
        P::NothingSuggested => tr!(lang, "No bin was suggested: scan a bin."),
        P::FindingBin { name } => tr!(lang, "Finding a bin for {name}.", name),
        P::BadQuantity => tr!(lang, "That quantity is not possible. Enter it again."),
        P::Cancelled => tr!(
            lang,
            "Cancelled: nothing recorded. The goods stay in the tote; scan an item to go on."
        ),
        P::EmptyTote => tr!(lang, "The tote is empty. Scan another tote."),
        P::Finished => tr!(lang, "This tote is done. Go back to the menu."),
    }
}

fn picking(m: &PickingMessage, lang: Lang) -> String {
    use PickingMessage as P;
    match m {
        P::GoTo {
            location,
            name,
            quantity,
        } => tr!(
            lang,
            "Go to {location} for {quantity} × {name}: scan the location.",
            location,
            quantity,
            name
        ),
        P::Pick {
            location,
            name,
            quantity,
            lot: None,
            in_hand: 0,
        } => tr!(
            lang,
            "At {location}: pick {quantity} × {name}. Scan each item, or one and type how many.",
            location,
            quantity,
            name
        ),
        P::Pick {
            location,
            name,
            quantity,
            lot: Some(lot),
            in_hand: 0,
        } => tr!(
            lang,
            "At {location}: pick {quantity} × {name} of lot {lot}. Scan each item, or one and type how many.",
            location,
            quantity,
            name,
            lot
        ),
        P::Pick {
            name,
            quantity,
            in_hand,
            ..
        } => tr!(
            lang,
            "{in_hand} of {quantity} × {name} in hand: scan more, or the tote for what you hold.",
            in_hand,
            quantity,
            name
        ),
        P::PutInTote {
            name,
            quantity,
            order,
            slot,
            tote,
        } => tr!(
            lang,
            "Put {quantity} × {name} into {tote} (slot {slot}, order {order}): scan the tote.",
            quantity,
            name,
            tote,
            slot,
            order
        ),
        P::ScanEmptyTote {
            name,
            quantity,
            order,
            slot,
        } => tr!(
            lang,
            "Put {quantity} × {name} into an empty tote at slot {slot} for order {order}: scan the tote.",
            quantity,
            name,
            slot,
            order
        ),
        P::ZeroCheck { location } => tr!(
            lang,
            "Is {location} empty now? Look, then answer on the screen.",
            location
        ),
        P::DropAtPacking { totes } => trn!(
            lang,
            "Every line is done. Take the {n} tote to packing and scan the packing location.",
            "Every line is done. Take the {n} totes to packing and scan the packing location.",
            *totes
        ),
        P::TaskDone | P::TaskFinished => {
            tr!(lang, "This batch is done. Go back to the menu.")
        }
        P::OtherLot {
            name,
            lot,
            suggested: Some(suggested),
        } => tr!(
            lang,
            "Lot {lot} of {name} instead of {suggested}: its date is good, it is taken. Go on.",
            lot,
            name,
            suggested
        ),
        P::OtherLot {
            name,
            lot,
            suggested: None,
        } => tr!(
            lang,
            "Lot {lot} of {name}: its date is good, it is taken. Go on.",
            lot,
            name
        ),
        P::Picked {
            name,
            quantity,
            slot,
            tote,
            left: 0,
            ..
        } => tr!(
            lang,
            "{quantity} × {name} into {tote} (slot {slot}).",
            quantity,
            name,
            tote,
            slot
        ),
        P::Picked {
            name,
            quantity,
            slot,
            tote,
            left,
            ..
        } => tr!(
            lang,
            "{quantity} × {name} into {tote} (slot {slot}). {left} more to pick of this line.",
            quantity,
            name,
            tote,
            slot,
            left
        ),
        P::ShortRecorded {
            name,
            location,
            missing,
        } => tr!(
            lang,
            "Short recorded: {missing} × {name} missing at {location}; the location will be counted. Go on.",
            missing,
            name,
            location
        ),
        P::ZeroChecked {
            location,
            empty: true,
        } => tr!(lang, "{location} is empty: recorded.", location),
        P::ZeroChecked {
            location,
            empty: false,
        } => tr!(
            lang,
            "{location} still holds goods: recorded, the location will be counted. Go on.",
            location
        ),
        P::Skipped { name, location } => tr!(
            lang,
            "{name} at {location} skipped: it comes again at the end.",
            name,
            location
        ),
        P::OnlyLineLeft { name } => tr!(
            lang,
            "{name} is the only line left and cannot be skipped. Pick it, or tap Found less.",
            name
        ),
        P::Dropped { location, totes } => trn!(
            lang,
            "{n} tote left at {location}. Batch done.",
            "{n} totes left at {location}. Batch done.",
            *totes,
            location
        ),
        P::Cancelled { dropped: 0 } => tr!(lang, "Cancelled. Nothing was in hand."),
        P::Cancelled { dropped } => trn!(
            lang,
            "Cancelled: {n} unit in hand is not recorded. Put it back, or scan it again.",
            "Cancelled: {n} units in hand are not recorded. Put them back, or scan them again.",
            *dropped
        ),
        P::WrongLocation { scanned, expected } => tr!(
            lang,
            "{scanned} is the wrong location: nothing recorded. Go to {expected} and scan its label.",
            scanned,
            expected
        ),
        P::WrongItem { scanned, expected } => tr!(
            lang,
            "Wrong item: {scanned} is not {expected}. Put it back; nothing recorded.",
            scanned,
            expected
        ),
        P::MoreThanLeft { name, asked, left } => tr!(
            lang,
            "{asked} is more than the {left} × {name} this line wants. Put the extra back and count again.",
            asked,
            left,
            name
        ),
        P::LotExpired { lot, expiry } => tr!(
            lang,
            "Lot {lot} expired on {expiry}: do not pick it. Put it aside and take the lot the screen names.",
            lot,
            expiry
        ),
        P::ShelfLifeTooShort {
            lot,
            expiry,
            days_left,
            min_days,
        } => tr!(
            lang,
            "Lot {lot} expires on {expiry}, in {days_left} days; the merchant wants at least {min_days}. Take the lot the screen names.",
            lot,
            expiry,
            days_left,
            min_days
        ),
        P::LotExpiryUnknown { lot } => tr!(
            lang,
            "Lot {lot} has no expiry date on this label: scan the label with the date, or take the lot the screen names.",
            lot
        ),
        P::OneLotAtATime {
            in_hand: Some(in_hand),
            scanned: Some(scanned),
        } => tr!(
            lang,
            "You hold lot {in_hand}; this is lot {scanned}. Put what you hold into the tote first.",
            in_hand,
            scanned
        ),
        P::OneLotAtATime { .. } => tr!(
            lang,
            "One lot at a time: put what you hold into the tote first."
        ),
        P::SerialTwice { serial } => tr!(
            lang,
            "Serial number {serial} is already in hand: scan another unit.",
            serial
        ),
        P::ScanEachSerial { name } => tr!(
            lang,
            "{name} has serial numbers: scan each unit instead of typing how many.",
            name
        ),
        P::ScanItemFirst { name } => tr!(
            lang,
            "Scan one {name} first, then type how many you hold.",
            name
        ),
        P::NothingInHand => tr!(lang, "Nothing in hand for the tote: scan the items first."),
        P::ToteHoldsOtherOrder { tote, order } => tr!(
            lang,
            "{tote} holds order {order}: nothing recorded. Take another tote for this order.",
            tote,
            order
        ),
        P::WrongTote {
            scanned,
            order,
            tote,
        } => tr!(
            lang,
            "Wrong tote: order {order} goes into {tote}, not {scanned}. Nothing recorded; scan {tote}.",
            order,
            tote,
            scanned
        ),
        P::PutInToteFirst { in_hand } => trn!(
            lang,
            "Put the {n} unit in hand into the tote first, or cancel.",
            "Put the {n} units in hand into the tote first, or cancel.",
            *in_hand
        ),
        P::NotPacking { code } => tr!(
            lang,
            "{code} is not a packing location: take the totes to packing and scan its label.",
            code
        ),
        P::BadQuantity => tr!(lang, "That quantity is not possible. Enter it again."),
        P::UnknownCode { raw } => tr!(
            lang,
            "{raw} is not known on this terminal: nothing recorded. Scan what the screen asks for.",
            raw
        ),
    }
}

fn no_box(lang: Lang, why: NoBox) -> String {
    match why {
        NoBox::NoBoxTypes => tr!(lang, "this station has no box types: choose a box"),
        NoBox::TooLarge => tr!(lang, "it is larger than every box"),
        NoBox::TooHeavy => tr!(lang, "it is heavier than any box may hold"),
        NoBox::TooBulky => tr!(lang, "it takes more room than any box allows"),
    }
}

fn packing(m: &PackingMessage, lang: Lang) -> String {
    use PackingMessage as P;
    match m {
        P::ScanBox {
            parcel,
            suggested: Some(suggested),
            ..
        } => tr!(
            lang,
            "Parcel {parcel}: take a box {suggested} and scan its label.",
            parcel,
            suggested
        ),
        P::ScanBox {
            parcel,
            suggested: None,
            no_box: Some(why),
        } => tr!(
            lang,
            "Parcel {parcel} ships without a box ({why}): tap No box, or scan a box label.",
            parcel,
            why = no_box(lang, *why)
        ),
        P::ScanBox { parcel, .. } => tr!(
            lang,
            "Parcel {parcel}: take a box and scan its label.",
            parcel
        ),
        P::ScanItems {
            parcel,
            name,
            left,
            insert: false,
            units_left,
        } => tr!(
            lang,
            "Scan {left} × {name} into parcel {parcel} ({units_left} units to go).",
            left,
            name,
            parcel,
            units_left
        ),
        P::ScanItems {
            parcel,
            name,
            left,
            insert: true,
            ..
        } => tr!(
            lang,
            "Put {left} × {name} into parcel {parcel}: scan it, or tap it on the checklist.",
            left,
            name,
            parcel
        ),
        P::CloseParcel {
            parcel,
            weight: Some((grams, from)),
        } => tr!(
            lang,
            "Parcel {parcel} is full: close it ({weight}, {from}) and start the next.",
            parcel,
            weight = weight(lang, *grams),
            from = weight_from(lang, *from)
        ),
        P::CloseParcel {
            parcel,
            weight: None,
        } => tr!(
            lang,
            "Parcel {parcel} is full: weigh it, close it and start the next.",
            parcel
        ),
        P::Confirm { entry: e } => tr!(
            lang,
            "Put in {entry} and tap it on the checklist.",
            entry = entry(lang, e)
        ),
        P::Weigh { parcel } => tr!(
            lang,
            "Weigh parcel {parcel} on the scale, or tap Weight and type it.",
            parcel
        ),
        P::CloseAndFinish {
            parcel,
            weight_g,
            from,
        } => tr!(
            lang,
            "Everything is in: tap Finish to close parcel {parcel} ({weight}, {from}).",
            parcel,
            weight = weight(lang, *weight_g),
            from = weight_from(lang, *from)
        ),
        P::FinishOrder { parcels } => trn!(
            lang,
            "Everything is in {n} parcel: tap Finish.",
            "Everything is in {n} parcels: tap Finish.",
            *parcels
        ),
        P::OrderFinished | P::OrderPacked { parcels: 0 } => {
            tr!(lang, "This order is packed. Scan the next tote.")
        }
        P::OrderPacked { parcels } => trn!(
            lang,
            "Order packed in {n} parcel. The label comes from the server; scan the next tote.",
            "Order packed in {n} parcels. The labels come from the server; scan the next tote.",
            *parcels
        ),
        P::Packed {
            name,
            quantity,
            parcel,
            left: 0,
        } => tr!(
            lang,
            "{quantity} × {name} into parcel {parcel}: all of it packed.",
            quantity,
            name,
            parcel
        ),
        P::Packed {
            name,
            quantity,
            parcel,
            left,
        } => tr!(
            lang,
            "{quantity} × {name} into parcel {parcel}; {left} more to pack.",
            quantity,
            name,
            parcel,
            left
        ),
        P::InsertPacked {
            name,
            parcel,
            by: Confirmation::Scan,
        } => tr!(
            lang,
            "{name} is in parcel {parcel}: checked off.",
            name,
            parcel
        ),
        P::InsertPacked { name, parcel, .. } => tr!(
            lang,
            "{name} put into parcel {parcel}: checked off.",
            name,
            parcel
        ),
        P::DocumentConfirmed { kind } => tr!(
            lang,
            "The {kind} is in: checked off.",
            kind = document(lang, kind)
        ),
        P::AlreadyConfirmed { entry: e } => tr!(
            lang,
            "{entry} was checked off already: nothing recorded.",
            entry = entry(lang, e)
        ),
        P::BoxChosen { parcel, box_id } => {
            tr!(lang, "Box {box_id} for parcel {parcel}.", box_id, parcel)
        }
        P::OtherBox {
            parcel,
            box_id: Some(box_id),
            suggested: Some(suggested),
        } => tr!(
            lang,
            "Box {box_id} for parcel {parcel} instead of {suggested}: recorded as your choice.",
            box_id,
            parcel,
            suggested
        ),
        P::OtherBox {
            parcel,
            box_id: Some(box_id),
            suggested: None,
        } => tr!(
            lang,
            "Box {box_id} for parcel {parcel}, which was to ship without one: recorded as your choice.",
            box_id,
            parcel
        ),
        P::OtherBox { parcel, .. } => tr!(
            lang,
            "Parcel {parcel} ships without a box instead of the one suggested: recorded as your choice.",
            parcel
        ),
        P::ShipsWithoutBox { parcel } => tr!(lang, "Parcel {parcel} ships without a box.", parcel),
        P::WeightSet {
            parcel,
            grams,
            from,
        } => tr!(
            lang,
            "Parcel {parcel} weighs {weight} ({from}).",
            parcel,
            weight = weight(lang, *grams),
            from = weight_from(lang, *from)
        ),
        P::ScaleWins { parcel, scale_g } => tr!(
            lang,
            "The scale says {weight} for parcel {parcel}: the scale's weight stands.",
            weight = weight(lang, *scale_g),
            parcel
        ),
        P::ParcelClosed {
            parcel,
            weight_g,
            from,
            ..
        } => tr!(
            lang,
            "Parcel {parcel} closed at {weight} ({from}). Tape it shut and set it aside for its label.",
            parcel,
            weight = weight(lang, *weight_g),
            from = weight_from(lang, *from)
        ),
        P::Unpacked { name, parcel } => tr!(
            lang,
            "One {name} taken back out of parcel {parcel}: take it out and scan it again when it goes in.",
            name,
            parcel
        ),
        P::NothingToUnpack { parcel } => tr!(
            lang,
            "Parcel {parcel} is empty: nothing to take out. Closed parcels stay closed.",
            parcel
        ),
        P::NotInOrder { name } => tr!(
            lang,
            "Wrong item: {name} is not in this order. Put it aside; nothing packed.",
            name
        ),
        P::MoreThanOrdered { name, asked, left } => tr!(
            lang,
            "One too many: {asked} × {name} scanned, only {left} left to pack. Take the extra out; nothing packed.",
            asked,
            name,
            left
        ),
        P::BadQuantity => tr!(lang, "That quantity is not possible. Enter it again."),
        P::UnknownBoxType { code } => tr!(
            lang,
            "{code} is not a box of this station. Scan a box label from the box shelf.",
            code
        ),
        P::BadWeight { grams } => tr!(
            lang,
            "{grams} g is not a parcel's weight. Weigh it again, or type it in grams.",
            grams
        ),
        P::EmptyParcel { parcel } => tr!(
            lang,
            "Parcel {parcel} holds nothing yet: scan the items into it first.",
            parcel
        ),
        P::BoxFirst {
            parcel,
            suggested: Some(suggested),
        } => tr!(
            lang,
            "Parcel {parcel} needs its box first: scan the label of box {suggested}.",
            parcel,
            suggested
        ),
        P::BoxFirst { parcel, .. } => tr!(
            lang,
            "Parcel {parcel} needs its box first: scan a box label, or tap No box.",
            parcel
        ),
        P::WeighFirst { parcel } => tr!(
            lang,
            "Parcel {parcel} needs its weight first: weigh it, or tap Weight and type it.",
            parcel
        ),
        P::NotAllPacked { units_left, name } => tr!(
            lang,
            "Not finished: {units_left} units still to pack, next {name}.",
            units_left,
            name
        ),
        P::ChecklistOpen { entry: e } => tr!(
            lang,
            "Not finished: {entry} is not checked off. Put it in and tap it on the checklist.",
            entry = entry(lang, e)
        ),
        P::NotInChecklist { entry: e } => tr!(
            lang,
            "{entry} is not on this order's checklist.",
            entry = entry(lang, e)
        ),
        P::UnknownCode { raw } => tr!(
            lang,
            "{raw} is not known on this terminal: nothing packed. Scan an item of the order or a box label.",
            raw
        ),
    }
}
