//! What the terminal says to the person holding the scanner, in their language.
//!
//! Controllers return [`Text`] values, never strings, so every message exists in every language
//! and a test can assert what was said without depending on the wording. Each message says what
//! happened and what to do next. Finnish and English are complete; Swedish falls back to English
//! until its translation is written.

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
    Exceptions,
    ScannerCheck,
    About,
}

impl Label {
    pub fn render(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Label::Receiving, Lang::En) => "Receiving",
            (Label::Receiving, Lang::Fi) => "Vastaanotto",
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
    Welcome { name: String },
    EnterPin { name: String },
    WrongPin,
    PinLocked,
    ScanBadgeFirst,
    UnknownBadge { badge: String },
    NotAllowed,
    ChooseFromMenu,
    NothingToDo,
    ScanContainer,
    UnknownNotice { code: String },
    NoticeClosed { reference: String },
    UnknownMerchant,
    Unreadable { why: String },
    BadDate { typed: String },
    Store(String),
    Receiving(Message),
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

fn summary(lines: &[LineSummary]) -> String {
    lines
        .iter()
        .map(|l| format!("{}: {}/{}", l.name, l.received, l.expected))
        .collect::<Vec<_>>()
        .join(", ")
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
                "Korttia {badge} ei tunneta. Lue oma korttisi tai pyydä vuoroesimiestä lisäämään sinut."
            ),
            (Text::NotAllowed, En) => "Your role does not include this task. Ask the shift lead.".into(),
            (Text::NotAllowed, Fi) => "Roolisi ei salli tätä tehtävää. Kysy vuoroesimieheltä.".into(),
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
                format!("Ilmoitus {reference} on jo vastaanotettu ja suljettu. Kysy vuoroesimieheltä.")
            }
            (Text::UnknownMerchant, En) => "This merchant is not known on this terminal yet. Wait for sync or ask the shift lead.".into(),
            (Text::UnknownMerchant, Fi) => "Verkkokauppaa ei vielä tunneta tällä päätteellä. Odota synkronointia tai kysy vuoroesimieheltä.".into(),
            (Text::Unreadable { why }, En) => format!("Scan not readable ({why}). Nothing was recorded: scan again."),
            (Text::Unreadable { why }, Fi) => format!("Viivakoodi ei lukenut oikein ({why}). Mitään ei tallennettu: lue uudelleen."),
            (Text::BadDate { typed }, En) => format!("{typed} is not a date. Type it as YYMMDD, e.g. 270131."),
            (Text::BadDate { typed }, Fi) => format!("{typed} ei ole päivämäärä. Näppäile muodossa VVKKPP, esim. 270131."),
            (Text::Store(e), _) => e.clone(),
            (Text::Receiving(m), lang) => receiving(m, lang),
        }
    }
}

fn receiving(m: &Message, lang: Lang) -> String {
    use Lang::*;
    match (m, lang) {
        (Message::ScanContainer, l) => Text::ScanContainer.render(l),
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
            "Tuntematon viivakoodi {raw}: kirjattu vuoroesimiehelle. Laita tuote sivuun ja jatka."
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
        (Message::Cancelled, En) => "Cancelled. Nothing was recorded.".into(),
        (Message::Cancelled, Fi) => "Peruttu. Mitään ei kirjattu.".into(),
        (Message::ConfirmClose { lines }, En) => {
            format!("Close the receipt? {}", summary(lines))
        }
        (Message::ConfirmClose { lines }, Fi) => {
            format!("Suljetaanko vastaanotto? {}", summary(lines))
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
