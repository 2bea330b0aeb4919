//! What the terminal says to the person holding the scanner, in their language.
//!
//! Controllers return [`Text`] values, never strings, so every message exists in every language
//! and a test can assert what was said without depending on the wording. Each message says what
//! happened and what to do next. Finnish and English are complete; Swedish falls back to English
//! until its translation is written.

use laituri_domain::putaway::{Message as PutawayMessage, Why};
use laituri_domain::receiving::{Condition, LineSummary, Message};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Fi,
}

impl Lang {
    /// The tag of the screens' translation catalogue (ui/translations/<tag>).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fi => "fi",
        }
    }

    pub fn from_tag(tag: &str) -> Lang {
        match tag.split(['-', '_']).next().unwrap_or("") {
            "fi" => Lang::Fi,
            _ => Lang::En,
        }
    }
}

/// Labels the adapters compose in Rust (menu entries, list details).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    Receiving,
    Putaway,
    ReasonBlocked,
    ReasonDoesNotFit,
    ReasonCloser,
    ReasonLead,
    UnknownBarcode,
    Exceptions,
    ScannerCheck,
    About,
}

impl Label {
    pub fn render(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Label::Receiving, Lang::En) => "Receiving",
            (Label::Receiving, Lang::Fi) => "Vastaanotto",
            (Label::Putaway, Lang::En) => "Putaway",
            (Label::Putaway, Lang::Fi) => "Hyllytys",
            (Label::ReasonBlocked, Lang::En) => "Bin blocked or damaged",
            (Label::ReasonBlocked, Lang::Fi) => "Paikka tukossa tai rikki",
            (Label::ReasonDoesNotFit, Lang::En) => "Goods do not fit",
            (Label::ReasonDoesNotFit, Lang::Fi) => "Tavara ei mahdu",
            (Label::ReasonCloser, Lang::En) => "Closer bin",
            (Label::ReasonCloser, Lang::Fi) => "Lähempi paikka",
            (Label::ReasonLead, Lang::En) => "Shift lead said so",
            (Label::ReasonLead, Lang::Fi) => "Vuoroesihenkilön ohje",
            (Label::UnknownBarcode, Lang::En) => "unknown barcode",
            (Label::UnknownBarcode, Lang::Fi) => "tuntematon viivakoodi",
            (Label::Exceptions, Lang::En) => "Exceptions",
            (Label::Exceptions, Lang::Fi) => "Poikkeamat",
            (Label::ScannerCheck, Lang::En) => "Scanner check",
            (Label::ScannerCheck, Lang::Fi) => "Lukijan tarkistus",
            (Label::About, Lang::En) => "About",
            (Label::About, Lang::Fi) => "Tietoja",
        }
    }
}

/// "3 lines" in the operator's language.
pub fn lines(lang: Lang, n: usize) -> String {
    match (lang, n) {
        (Lang::En, 1) => "1 line".into(),
        (Lang::En, n) => format!("{n} lines"),
        (Lang::Fi, 1) => "1 rivi".into(),
        (Lang::Fi, n) => format!("{n} riviä"),
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
    PinLocked,
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
        why: String,
    },
    BadDate {
        typed: String,
    },
    Store(String),
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
}

fn condition(lang: Lang, c: Condition) -> &'static str {
    match (lang, c) {
        (Lang::En, Condition::Good) => "good",
        (Lang::En, Condition::Damaged) => "damaged",
        (Lang::En, Condition::Expired) => "expired",
        (Lang::En, Condition::ShortShelfLife) => "too short shelf life",
        (Lang::Fi, Condition::Good) => "kunnossa",
        (Lang::Fi, Condition::Damaged) => "vaurioitunut",
        (Lang::Fi, Condition::Expired) => "vanhentunut",
        (Lang::Fi, Condition::ShortShelfLife) => "liian lyhyt myyntiaika",
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
    let blind = lines.iter().all(|l| l.expected == 0);
    match (lang, blind) {
        (Lang::En, true) => format!(
            "{} received: check the list, then confirm.",
            self::lines(lang, lines.len())
        ),
        (Lang::Fi, true) => format!(
            "{} vastaanotettu: tarkista lista ja vahvista.",
            self::lines(lang, lines.len())
        ),
        (Lang::En, false) => {
            format!("{ok} as expected, {short} short, {over} over: check the list, then confirm.")
        }
        (Lang::Fi, false) => {
            format!("{ok} kuten odotettu, {short} vajaana, {over} yli: tarkista lista ja vahvista.")
        }
    }
}

impl Text {
    pub fn render(&self, lang: Lang) -> String {
        use Lang::*;
        match (self, lang) {
            (Text::Welcome { name }, En) => format!("Hello {name}. Choose a task."),
            (Text::Welcome { name }, Fi) => format!("Hei {name}. Valitse tehtävä."),
            (Text::EnterPin { name }, En) => format!("{name}: enter your PIN on the keypad."),
            (Text::EnterPin { name }, Fi) => format!("{name}: näppäile PIN-koodi."),
            (Text::WrongPin, En) => "Wrong PIN. Try again.".into(),
            (Text::WrongPin, Fi) => "Väärä PIN. Yritä uudelleen.".into(),
            (Text::PinLocked, En) => "Wrong PIN three times. Scan your badge again.".into(),
            (Text::PinLocked, Fi) => "Väärä PIN kolme kertaa. Lue kulkukortti uudelleen.".into(),
            (Text::ScanBadgeFirst, En) => "Scan your badge first.".into(),
            (Text::ScanBadgeFirst, Fi) => "Lue ensin kulkukorttisi.".into(),
            (Text::UnknownBadge { badge }, En) => format!(
                "Badge {badge} is not known on this terminal. Scan your own badge, or ask the shift lead to add you."
            ),
            (Text::UnknownBadge { badge }, Fi) => format!(
                "Korttia {badge} ei tunneta. Lue oma korttisi tai pyydä vuoroesihenkilöä lisäämään sinut."
            ),
            (Text::NotAllowed, En) => "Your role does not include this task. Ask the shift lead.".into(),
            (Text::NotAllowed, Fi) => "Roolisi ei salli tätä tehtävää. Kysy vuoroesihenkilöltä.".into(),
            (Text::ChooseFromMenu, En) => "Choose a task from the menu first.".into(),
            (Text::ChooseFromMenu, Fi) => "Valitse ensin tehtävä valikosta.".into(),
            (Text::NothingToDo, En) => "Nothing to do here. Go back to the menu.".into(),
            (Text::NothingToDo, Fi) => "Ei tehtävää. Palaa valikkoon.".into(),
            (Text::ScanContainer, En) | (Text::Receiving(Message::ScanContainer), En) => {
                "Scan the tote or license plate the goods go into.".into()
            }
            (Text::ScanContainer, Fi) | (Text::Receiving(Message::ScanContainer), Fi) => {
                "Lue laatikon tai kuormalavan tunniste, johon tavarat menevät.".into()
            }
            (Text::UnknownNotice { code }, En) => format!(
                "No inbound notice {code}. Scan the notice reference or SSCC, pick it from the list, or start a blind receipt."
            ),
            (Text::UnknownNotice { code }, Fi) => format!(
                "Saapumisilmoitusta {code} ei löydy. Lue viite tai SSCC, valitse listalta tai aloita vastaanotto ilman ilmoitusta."
            ),
            (Text::NoticeClosed { reference }, En) => {
                format!("Notice {reference} is already received and closed. Ask the shift lead.")
            }
            (Text::NoticeClosed { reference }, Fi) => {
                format!("Ilmoitus {reference} on jo vastaanotettu ja suljettu. Kysy vuoroesihenkilöltä.")
            }
            (Text::UnknownMerchant, En) => "This merchant is not known on this terminal yet. Wait for sync or ask the shift lead.".into(),
            (Text::UnknownMerchant, Fi) => "Verkkokauppaa ei vielä tunneta tällä päätteellä. Odota synkronointia tai kysy vuoroesihenkilöltä.".into(),
            (Text::Unreadable { why }, En) => format!("Scan not readable ({why}). Nothing was recorded: scan again."),
            (Text::Unreadable { why }, Fi) => format!("Viivakoodi ei lukenut oikein ({why}). Mitään ei tallennettu: lue uudelleen."),
            (Text::BadDate { typed }, En) => format!("{typed} is not a date. Type it as YYMMDD, e.g. 270131."),
            (Text::BadDate { typed }, Fi) => format!("{typed} ei ole päivämäärä. Näppäile muodossa VVKKPP, esim. 270131."),
            (Text::Store(e), _) => e.clone(),
            (Text::Receiving(m), lang) => receiving(m, lang),
            (Text::Putaway(m), lang) => putaway(m, lang),
            (Text::ToteEmpty { container }, En) => {
                format!("{container} holds nothing to put away on this terminal. Scan another tote.")
            }
            (Text::ToteEmpty { container }, Fi) => {
                format!("{container}: ei hyllytettävää tällä päätteellä. Lue toinen laatikko.")
            }
            (Text::PutawayStopped { container, left }, En) => format!(
                "Putaway of {container} stopped: {left} units stay in it. Leave the tote at the dock."
            ),
            (Text::PutawayStopped { container, left }, Fi) => format!(
                "Laatikon {container} hyllytys lopetettu: {left} kpl jää siihen. Jätä laatikko laiturille."
            ),
            (Text::OtherToteOpen { open, scanned }, En) => format!(
                "{scanned} is another tote. Finish {open} first, or stop it from the menu."
            ),
            (Text::OtherToteOpen { open, scanned }, Fi) => format!(
                "{scanned} on eri laatikko. Hyllytä ensin {open} tai lopeta se valikosta."
            ),
            (Text::FinishJobFirst { job }, En) => {
                format!("{job} is still open. Finish it, or stop it, before starting another job.")
            }
            (Text::FinishJobFirst { job }, Fi) => {
                format!("{job} on vielä kesken. Saata se loppuun tai lopeta ennen uutta työtä.")
            }
            (Text::NoPutawayTask, En) => {
                "No putaway task is waiting. Scan a tote from the dock to put it away.".into()
            }
            (Text::NoPutawayTask, Fi) => {
                "Hyllytystehtäviä ei ole. Lue laiturilta laatikko hyllyttääksesi sen.".into()
            }
            (Text::TakingTask, En) => {
                "Taking the task from the server. If it takes long, scan the tote instead.".into()
            }
            (Text::TakingTask, Fi) => {
                "Tehtävää haetaan palvelimelta. Jos se kestää, lue laatikko.".into()
            }
            (Text::OnlyLeadResolves, En) => {
                "Only a shift lead resolves exceptions. Put the item aside and tell the shift lead.".into()
            }
            (Text::OnlyLeadResolves, Fi) => {
                "Vain vuoroesihenkilö kuittaa poikkeamat. Laita tuote sivuun ja kerro vuoroesihenkilölle.".into()
            }
            (Text::ExceptionResolved, En) => "Exception resolved; the server is told who resolved it.".into(),
            (Text::ExceptionResolved, Fi) => "Poikkeama kuitattu; palvelin saa tiedon kuittaajasta.".into(),
            (Text::LeaseLost { task, why }, En) => format!(
                "The task for {task} is no longer yours ({why}): what you put away still counts. Finish the tote in hand, or stop it and take new work."
            ),
            (Text::LeaseLost { task, why }, Fi) => format!(
                "Tehtävä {task} ei ole enää sinun ({why}): hyllyttämäsi tavarat lasketaan silti. Hyllytä kädessä oleva laatikko loppuun tai lopeta ja ota uusi työ."
            ),
            (Text::ProductNotBadge { name }, En) => {
                format!("That is a product ({name}), not a badge: scan your badge first.")
            }
            (Text::ProductNotBadge { name }, Fi) => {
                format!("Tuo on tuote ({name}), ei kulkukortti: lue ensin kulkukorttisi.")
            }
            (Text::AcknowledgeFirst, En) => {
                "Scan refused: acknowledge the error first (OK or Enter), then scan again.".into()
            }
            (Text::AcknowledgeFirst, Fi) => {
                "Lukua ei otettu: kuittaa virhe ensin (OK tai Enter) ja lue uudelleen.".into()
            }
            (Text::NotAnItem { code }, En) => {
                format!("{code} is a label, not an item: nothing recorded. Scan the item's barcode.")
            }
            (Text::NotAnItem { code }, Fi) => {
                format!("{code} on tarra, ei tuote: mitään ei kirjattu. Lue tuotteen viivakoodi.")
            }
            (Text::ScanTote, En) => "Scan a tote or license plate label.".into(),
            (Text::ScanTote, Fi) => "Lue laatikon tai kuormalavan tarra.".into(),
            (Text::TaskTaken { task }, En) => format!(
                "Task {task} is taken by another device. Choose another task or scan a tote."
            ),
            (Text::TaskTaken { task }, Fi) => format!(
                "Tehtävä {task} on toisella laitteella. Valitse toinen tehtävä tai lue laatikko."
            ),
        }
    }
}

fn receiving(m: &Message, lang: Lang) -> String {
    use Lang::*;
    match (m, lang) {
        (Message::ScanContainer, l) => Text::ScanContainer.render(l),
        (Message::ScanItems, En) => "Scan items.".into(),
        (Message::ScanItems, Fi) => "Lue tuotteet.".into(),
        (Message::ContainerSet { container }, En) => {
            format!("Goods go into {container}. Scan items.")
        }
        (Message::ContainerSet { container }, Fi) => {
            format!("Tavarat menevät: {container}. Lue tuotteet.")
        }
        (
            Message::Received {
                name,
                units,
                total,
                expected,
            },
            En,
        ) => match expected {
            Some(e) => format!("+{units} {name} ({total} of {e})"),
            None => format!("+{units} {name} ({total})"),
        },
        (
            Message::Received {
                name,
                units,
                total,
                expected,
            },
            Fi,
        ) => match expected {
            Some(e) => format!("+{units} {name} ({total} / {e})"),
            None => format!("+{units} {name} ({total})"),
        },
        (
            Message::Quarantined {
                name,
                units,
                condition: c,
            },
            En,
        ) => format!(
            "{units} {name}: {}. Put it aside in quarantine.",
            condition(En, *c)
        ),
        (
            Message::Quarantined {
                name,
                units,
                condition: c,
            },
            Fi,
        ) => format!(
            "{units} {name}: {}. Siirrä karanteeniin.",
            condition(Fi, *c)
        ),
        (Message::NeedLot { name }, En) => format!("{name} needs its lot: scan the lot barcode."),
        (Message::NeedLot { name }, Fi) => format!("{name}: lue eränumero."),
        (Message::NeedExpiry { name }, En) => {
            format!("{name} needs its expiry date: scan it or type YYMMDD on the keypad.")
        }
        (Message::NeedExpiry { name }, Fi) => {
            format!("{name}: lue viimeinen käyttöpäivä tai näppäile VVKKPP.")
        }
        (Message::NeedSerial { name }, En) => format!("{name} needs its serial number: scan it."),
        (Message::NeedSerial { name }, Fi) => format!("{name}: lue sarjanumero."),
        (
            Message::ConfirmOverReceipt {
                name,
                would_be,
                expected,
            },
            En,
        ) => format!(
            "{name}: {would_be} is more than the {expected} expected. Confirm to receive, or cancel."
        ),
        (
            Message::ConfirmOverReceipt {
                name,
                would_be,
                expected,
            },
            Fi,
        ) => format!("{name}: {would_be} on enemmän kuin odotetut {expected}. Vahvista tai peru."),
        (Message::UnknownRecorded { raw }, En) => format!(
            "Unknown barcode {raw}: recorded for the shift lead. Put the item aside and go on."
        ),
        (Message::UnknownRecorded { raw }, Fi) => format!(
            "Tuntematon viivakoodi {raw}: kirjattu vuoroesihenkilölle. Laita tuote sivuun ja jatka."
        ),
        (Message::ForeignRecorded { name, merchant }, En) => format!(
            "{name} belongs to {merchant}, not on this receipt: put it aside; recorded for the shift lead."
        ),
        (Message::ForeignRecorded { name, merchant }, Fi) => format!(
            "{name} kuuluu asiakkaalle {merchant}, ei tähän vastaanottoon: laita sivuun; kirjattu vuoroesihenkilölle."
        ),
        (Message::NoItemYet, En) => "Scan an item first, then enter its quantity.".into(),
        (Message::NoItemYet, Fi) => "Lue ensin tuote, sitten määrä.".into(),
        (Message::BadQuantity, En) => "That quantity is not possible. Enter it again.".into(),
        (Message::BadQuantity, Fi) => "Määrä ei ole mahdollinen. Näppäile uudelleen.".into(),
        (Message::FinishCurrentFirst, En) => "Finish the current step first (or cancel it).".into(),
        (Message::FinishCurrentFirst, Fi) => {
            "Saata nykyinen vaihe ensin loppuun (tai peru).".into()
        }
        (Message::SerialNeedsSingleUnits { name }, En) => {
            format!("{name} is serial-tracked: scan each unit on its own.")
        }
        (Message::SerialNeedsSingleUnits { name }, Fi) => {
            format!("{name} seurataan sarjanumerolla: lue jokainen kappale erikseen.")
        }
        (Message::Cancelled { item: Some(name) }, En) => format!(
            "Cancelled: nothing recorded for {name}. Put it aside, or scan it again to receive it."
        ),
        (Message::Cancelled { item: Some(name) }, Fi) => format!(
            "Peruttu: tuotteesta {name} ei kirjattu mitään. Laita se sivuun tai lue uudelleen."
        ),
        (Message::Cancelled { item: None }, En) => "Cancelled. Nothing was recorded.".into(),
        (Message::Cancelled { item: None }, Fi) => "Peruttu. Mitään ei kirjattu.".into(),
        (Message::ConfirmClose { lines }, En) => {
            format!("Close the receipt? {}", summary(Lang::En, lines))
        }
        (Message::ConfirmClose { lines }, Fi) => {
            format!("Suljetaanko vastaanotto? {}", summary(Lang::Fi, lines))
        }
        (Message::Closed { .. }, En) => {
            "Receipt closed and saved. Take the totes to putaway.".into()
        }
        (Message::Closed { .. }, Fi) => {
            "Vastaanotto suljettu ja tallennettu. Vie laatikot hyllytykseen.".into()
        }
        (Message::ReceiptClosed, En) => "This receipt is closed. Go back to the menu.".into(),
        (Message::ReceiptClosed, Fi) => "Vastaanotto on suljettu. Palaa valikkoon.".into(),
    }
}

fn putaway(m: &PutawayMessage, lang: Lang) -> String {
    use Lang::*;
    use PutawayMessage as P;
    match (m, lang) {
        (P::ScanItem { lines }, En) => format!("The tote holds {lines} kinds of goods: scan one."),
        (P::ScanItem { lines }, Fi) => {
            format!("Laatikossa on {lines} eri tuotetta: lue yksi niistä.")
        }
        (
            P::Suggest {
                name,
                quantity,
                bin,
                why,
            },
            En,
        ) => {
            let why = match why {
                Why::SameGoods => "holds the same goods",
                Why::Empty => "empty",
            };
            format!("Put {quantity} × {name} into {bin} ({why}): scan the bin.")
        }
        (
            P::Suggest {
                name,
                quantity,
                bin,
                why,
            },
            Fi,
        ) => {
            let why = match why {
                Why::SameGoods => "samaa tuotetta",
                Why::Empty => "tyhjä",
            };
            format!("Hyllytä {quantity} × {name} paikkaan {bin} ({why}): lue paikka.")
        }
        (P::NoSuggestion { name, quantity }, En) => format!(
            "No free bin is known for {quantity} × {name}: scan any free bin of the merchant's zone."
        ),
        (P::NoSuggestion { name, quantity }, Fi) => format!(
            "Vapaata paikkaa ei tiedetä: {quantity} × {name}. Lue mikä tahansa vapaa paikka asiakkaan alueelta."
        ),
        (
            P::PutAway {
                name,
                quantity,
                bin,
                left,
            },
            En,
        ) => {
            if *left > 0 {
                format!("{quantity} × {name} into {bin}. {left} more of it in the tote.")
            } else {
                format!("{quantity} × {name} into {bin}.")
            }
        }
        (
            P::PutAway {
                name,
                quantity,
                bin,
                left,
            },
            Fi,
        ) => {
            if *left > 0 {
                format!("{quantity} × {name} paikkaan {bin}. Laatikossa vielä {left}.")
            } else {
                format!("{quantity} × {name} paikkaan {bin}.")
            }
        }
        (P::ToteEmpty, En) => "The tote is empty: putaway done. Take the tote back.".into(),
        (P::ToteEmpty, Fi) => "Laatikko on tyhjä: hyllytys valmis. Palauta laatikko.".into(),
        (P::BinMarkedFull { bin }, En) => {
            format!("{bin} marked full. Follow the next suggestion.")
        }
        (P::BinMarkedFull { bin }, Fi) => {
            format!("{bin} merkitty täydeksi. Seuraa uutta ehdotusta.")
        }
        (P::ChooseReason { bin, suggested }, En) => format!(
            "{bin} is not the suggested {suggested}: choose why, or cancel and scan {suggested}."
        ),
        (P::ChooseReason { bin, suggested }, Fi) => {
            format!("{bin} ei ole ehdotettu {suggested}: valitse syy tai peru ja lue {suggested}.")
        }
        (P::NotInTote { name }, En) => {
            format!("{name} is not in this tote. Put it aside and scan an item of the tote.")
        }
        (P::NotInTote { name }, Fi) => {
            format!("{name} ei ole tässä laatikossa. Laita sivuun ja lue laatikon tuote.")
        }
        (
            P::MoreThanTote {
                name,
                asked,
                in_tote,
            },
            En,
        ) => format!("{asked} is more than the {in_tote} × {name} in the tote. Count again."),
        (
            P::MoreThanTote {
                name,
                asked,
                in_tote,
            },
            Fi,
        ) => format!("{asked} on enemmän kuin laatikon {in_tote} × {name}. Laske uudelleen."),
        (P::UnknownCode { raw }, En) => {
            format!("{raw} is neither a bin nor an item of this tote. Scan the bin label.")
        }
        (P::UnknownCode { raw }, Fi) => {
            format!("{raw} ei ole paikka eikä laatikon tuote. Lue paikan tarra.")
        }
        (P::NotABin { code }, En) => format!("{code} is not a storage bin. Scan a bin label."),
        (P::NotABin { code }, Fi) => format!("{code} ei ole hyllypaikka. Lue hyllypaikan tarra."),
        (P::OtherMerchantsZone { code, zone }, En) => format!(
            "{code} is in zone {zone} of another merchant. Scan a bin of this merchant's zone."
        ),
        (P::OtherMerchantsZone { code, zone }, Fi) => format!(
            "{code} on toisen asiakkaan alueella {zone}. Lue tämän asiakkaan alueen paikka."
        ),
        (P::ScanItemFirst, En) => "Scan an item of the tote first, then the bin.".into(),
        (P::ScanItemFirst, Fi) => "Lue ensin laatikon tuote, sitten paikka.".into(),
        (P::NothingSuggested, En) => "No bin was suggested: scan a bin.".into(),
        (P::NothingSuggested, Fi) => "Paikkaa ei ehdotettu: lue paikka.".into(),
        (P::FindingBin { name }, En) => format!("Finding a bin for {name}."),
        (P::FindingBin { name }, Fi) => format!("Haetaan paikkaa tuotteelle {name}."),
        (P::BadQuantity, En) => "That quantity is not possible. Enter it again.".into(),
        (P::BadQuantity, Fi) => "Määrä ei ole mahdollinen. Näppäile uudelleen.".into(),
        (P::Cancelled, En) => {
            "Cancelled: nothing recorded. The goods stay in the tote; scan an item to go on.".into()
        }
        (P::Cancelled, Fi) => {
            "Peruttu: mitään ei kirjattu. Tavarat jäävät laatikkoon; lue tuote jatkaaksesi.".into()
        }
        (P::EmptyTote, En) => "The tote is empty. Scan another tote.".into(),
        (P::EmptyTote, Fi) => "Laatikko on tyhjä. Lue toinen laatikko.".into(),
        (P::Finished, En) => "This tote is done. Go back to the menu.".into(),
        (P::Finished, Fi) => "Tämä laatikko on valmis. Palaa valikkoon.".into(),
    }
}
