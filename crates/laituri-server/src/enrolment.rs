//! The rules of enrolment, independent of any database: making enrolment codes, hashing codes
//! and device tokens, the limits of a code, and who may enrol a device id.
//!
//! A code is random, made by the server ([`new_code`]), and stored only as the SHA-256 of its
//! normal form ([`code_hash`]): a copy of the database enrols nothing. It works for a number of
//! uses (one by default) until it expires (24 hours by default). A device id the server does not
//! know enrols with any code that works; a known one enrols again only with its current token, a
//! code made for it, or the code that enrolled it (a retry after a lost answer): never with
//! another code, so no code takes over a device and its history. See [`admit`].
//!
//! Backends read what [`admit`] needs inside their write transaction, and store what it decides
//! in the same transaction: a use is consumed exactly once, whatever runs at the same time.

use laituri_protocol::{EnrolmentCodeRequest, paths};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::store::StoreError;

/// A code's life when the request does not say, and the longest it may ask for.
pub const DEFAULT_HOURS: u32 = 24;
pub const MAX_HOURS: u32 = 30 * 24;
/// How many devices a code enrols when the request does not say, and the most it may ask for
/// (a shift lead enrolling a rack of terminals).
pub const DEFAULT_USES: u32 = 1;
pub const MAX_USES: u32 = 50;
pub const MAX_NOTE_CHARS: usize = 200;

/// The demo's well-known code enrols the demo terminal, the tests and the benchmarks: many uses,
/// for a year from each seeding. Only the demo seed stores it.
pub const DEMO_USES: u32 = 10_000;
const DEMO_DAYS: i64 = 365;
const DEMO_NOTE: &str = "the demo's well-known code (seeded by --seed-demo): never on a real site";

/// Codes stored in clear before codes were hashed had no limits: each becomes a hashed code of
/// as many uses as the demo's that expires this long after the server adopted it.
const LEGACY_DAYS: i64 = 30;
const LEGACY_NOTE: &str = "stored in clear by an older server and kept for 30 days: replace it \
                           with a new code";

/// Letters and digits a person does not confuse (no I, O, 0, 1). 32 of them: a random byte
/// picks one without bias.
const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// 12 characters of 5 bits: 60 random bits, typed as three groups of four.
const CODE_GROUPS: usize = 3;
const GROUP_CHARS: usize = 4;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const HOUR_MS: i64 = 60 * 60 * 1000;

/// A new random enrolment code, e.g. `K7QX-M2TA-9HCV`: from the thread's CSPRNG.
pub fn new_code() -> String {
    let mut bytes = [0u8; CODE_GROUPS * GROUP_CHARS];
    rand::fill(&mut bytes[..]);
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    chars
        .chunks(GROUP_CHARS)
        .map(|g| g.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// The form a code is hashed in: what a person may type differently is made alike (letter case,
/// spaces, dashes), so `k7qx m2ta 9hcv` is `K7QX-M2TA-9HCV`.
pub fn normal_form(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// What the server stores of a code: the SHA-256 of its normal form, hex.
pub fn code_hash(code: &str) -> String {
    sha256_hex(&normal_form(code))
}

/// Tokens are stored as their SHA-256: a token carries 256 random bits, so a fast hash is enough,
/// and a copy of the database does not let anyone push as a device.
pub fn token_hash(token: &str) -> String {
    sha256_hex(token)
}

/// A new random device token: 32 bytes from the thread's CSPRNG, hex encoded.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes[..]);
    hex(&bytes)
}

fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A code to store: its hash, its limits and its note. The backend stamps it with its clock:
/// made now, expiring `valid_for_ms` later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeToStore {
    /// The id it is listed by; a code stored again (the demo's) keeps the id it has.
    pub id: Uuid,
    pub code_hash: String,
    pub uses: u32,
    pub valid_for_ms: i64,
    pub device_id: Option<Uuid>,
    pub note: Option<String>,
}

/// A note for a listing (of enrolment codes, of keys): trimmed, left out when empty, at most
/// [`MAX_NOTE_CHARS`]; the error says what to send.
pub fn checked_note(note: Option<&str>) -> Result<Option<String>, String> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    match note {
        Some(n) if n.chars().count() > MAX_NOTE_CHARS => Err(format!(
            "the note has {} characters: keep it to {MAX_NOTE_CHARS}",
            n.chars().count()
        )),
        _ => Ok(note.map(str::to_string)),
    }
}

impl CodeToStore {
    /// The code `code` with the limits of the request, checked; the error says what to send.
    pub fn requested(code: &str, req: &EnrolmentCodeRequest) -> Result<CodeToStore, String> {
        let hours = req.expires_in_hours.unwrap_or(DEFAULT_HOURS);
        if !(1..=MAX_HOURS).contains(&hours) {
            return Err(format!(
                "expires_in_hours is {hours}: ask for 1 to {MAX_HOURS} hours (30 days), or leave \
                 it out for {DEFAULT_HOURS}"
            ));
        }
        let uses = req.uses.unwrap_or(DEFAULT_USES);
        if !(1..=MAX_USES).contains(&uses) {
            return Err(format!(
                "uses is {uses}: ask for 1 to {MAX_USES} devices, or leave it out for \
                 {DEFAULT_USES}; make more codes for more devices"
            ));
        }
        let note = checked_note(req.note.as_deref())?;
        Ok(CodeToStore {
            id: Uuid::now_v7(),
            code_hash: code_hash(code),
            uses,
            valid_for_ms: i64::from(hours) * HOUR_MS,
            device_id: req.device_id,
            note,
        })
    }

    /// The demo's well-known code `code`: many uses, for a year from now.
    pub fn demo(code: &str) -> CodeToStore {
        CodeToStore {
            id: Uuid::now_v7(),
            code_hash: code_hash(code),
            uses: DEMO_USES,
            valid_for_ms: DEMO_DAYS * DAY_MS,
            device_id: None,
            note: Some(DEMO_NOTE.to_string()),
        }
    }

    /// A code an older server stored in clear (with no limits).
    pub fn legacy(code: &str) -> CodeToStore {
        CodeToStore {
            valid_for_ms: LEGACY_DAYS * DAY_MS,
            note: Some(LEGACY_NOTE.to_string()),
            ..CodeToStore::demo(code)
        }
    }
}

/// Why an enrolment code does not work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeProblem {
    Unknown,
    Expired,
    UsedUp,
}

impl std::fmt::Display for CodeProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CodeProblem::Unknown => "is not known (check how it was typed)",
            CodeProblem::Expired => "has expired",
            CodeProblem::UsedUp => "has been used up (by as many terminals as it was made for)",
        })
    }
}

/// An enrolment code as a backend read it, by its hash, for one enrolment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCode {
    pub id: Uuid,
    /// The one device the code is for, if it was made for one.
    pub device_id: Option<Uuid>,
    pub uses_left: i64,
    pub expires_at_ms: i64,
    /// True when this code already enrolled the device that asks.
    pub enrolled_this_device: bool,
}

/// An enrolment as a backend read it inside its write transaction.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    pub device_id: Uuid,
    /// The device's current token hash, when the server knows the device.
    pub enrolled_token_hash: Option<&'a str>,
    /// The hash of the token sent as `Authorization: Bearer`, if any.
    pub presented_token_hash: Option<&'a str>,
    /// The code whose hash the request's code has, if there is one.
    pub code: Option<&'a StoredCode>,
    pub now_ms: i64,
}

/// What a backend does for an enrolment [`admit`] allowed; every kind replaces the device's token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// The device sent its current token: no code is needed, none is used.
    OwnToken,
    /// The code already enrolled this device (its answer was lost): no use is consumed.
    Again { code_id: Uuid },
    /// One use of the code is consumed, and the device recorded as one it enrolled.
    NewUse { code_id: Uuid },
}

/// Who may enrol: see the module's documentation. Refusals are
/// [`StoreError::UnknownEnrolmentCode`] (401) for a code that does not work, and
/// [`StoreError::Conflict`] (409) `code_for_another_device` or `device_already_enrolled`.
pub fn admit(claim: &Claim<'_>) -> Result<Admission, StoreError> {
    let device = claim.device_id;
    if let (Some(enrolled), Some(presented)) =
        (claim.enrolled_token_hash, claim.presented_token_hash)
        && enrolled == presented
    {
        return Ok(Admission::OwnToken);
    }
    let code = claim
        .code
        .ok_or(StoreError::UnknownEnrolmentCode(CodeProblem::Unknown))?;
    if code.expires_at_ms <= claim.now_ms {
        return Err(StoreError::UnknownEnrolmentCode(CodeProblem::Expired));
    }
    if code.enrolled_this_device {
        return Ok(Admission::Again { code_id: code.id });
    }
    if let Some(for_device) = code.device_id
        && for_device != device
    {
        return Err(StoreError::Conflict {
            code: "code_for_another_device",
            message: format!(
                "this enrolment code was made for another device, not for this terminal \
                 (device {device}): ask a shift lead for an enrolment code for it"
            ),
        });
    }
    if code.uses_left <= 0 {
        return Err(StoreError::UnknownEnrolmentCode(CodeProblem::UsedUp));
    }
    if claim.enrolled_token_hash.is_some() && code.device_id != Some(device) {
        return Err(StoreError::Conflict {
            code: "device_already_enrolled",
            message: format!(
                "device {device} is already enrolled, and this code was not made for it: to \
                 enrol it again, ask a shift lead for an enrolment code for device {device} \
                 (POST {} with its device_id)",
                paths::ENROLMENT_CODES
            ),
        });
    }
    Ok(Admission::NewUse { code_id: code.id })
}

/// What a request to continue a device under a new id does (`POST CONTINUE`, a terminal whose
/// database was restored from a backup). See [`continuation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Continuation {
    /// Make the new device, retire the old one and hand its leases over.
    New,
    /// The same request again (its answer was lost): the new device gets a new token.
    Again,
}

/// Whether device `old` (proven by its token) may go on as `new`: `successor` is the device
/// `old` already continues as, if any; `new_known` whether `new` is a device id the server
/// knows. A device continues once, so one history never splits in two on the server. `Err`
/// says what to do next.
pub fn continuation(
    old: Uuid,
    successor: Option<Uuid>,
    new: Uuid,
    new_known: bool,
) -> Result<Continuation, StoreError> {
    if new == old {
        return Err(StoreError::invalid(format!(
            "device {old} cannot continue as itself: send a new device id, made by the terminal"
        )));
    }
    match successor {
        Some(s) if s == new => Ok(Continuation::Again),
        Some(s) => Err(StoreError::Conflict {
            code: "device_continued",
            message: format!(
                "device {old} already continues as device {s}: this copy of the terminal's \
                 database is an older one; reset its database so it enrols as a new device, \
                 and tell a shift lead which actions it holds"
            ),
        }),
        None if new_known => Err(StoreError::Conflict {
            code: "device_exists",
            message: format!(
                "device id {new} is already enrolled: send another new device id, made by the \
                 terminal"
            ),
        }),
        None => Ok(Continuation::New),
    }
}

/// Why an enrolment of a device that continues as another one is refused.
pub fn continued_device(old: Uuid, successor: Uuid) -> StoreError {
    StoreError::Conflict {
        code: "device_continued",
        message: format!(
            "device {old} was retired: it continues as device {successor} since its database was \
             restored from a backup; reset this terminal's database so it enrols as a new device"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000;

    fn code(device_id: Option<Uuid>, uses_left: i64, enrolled_this_device: bool) -> StoredCode {
        StoredCode {
            id: Uuid::from_u128(7),
            device_id,
            uses_left,
            expires_at_ms: NOW + 1,
            enrolled_this_device,
        }
    }

    fn claim<'a>(
        device_id: Uuid,
        enrolled: Option<&'a str>,
        presented: Option<&'a str>,
        code: Option<&'a StoredCode>,
    ) -> Claim<'a> {
        Claim {
            device_id,
            enrolled_token_hash: enrolled,
            presented_token_hash: presented,
            code,
            now_ms: NOW,
        }
    }

    fn refusal(r: Result<Admission, StoreError>) -> String {
        match r {
            Err(StoreError::UnknownEnrolmentCode(p)) => format!("{p:?}"),
            Err(StoreError::Conflict { code, .. }) => code.to_string(),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn codes_are_random_typeable_and_hashed_in_their_normal_form() {
        let (a, b) = (new_code(), new_code());
        assert_ne!(a, b);
        assert_eq!(a.len(), 14, "{a}");
        assert!(
            a.split('-')
                .all(|g| g.len() == 4 && g.bytes().all(|c| ALPHABET.contains(&c))),
            "{a}"
        );
        let typed = a.to_ascii_lowercase().replace('-', " ");
        assert_eq!(code_hash(&typed), code_hash(&a));
        assert_eq!(code_hash(&a).len(), 64);
        assert!(!code_hash(&a).contains(&normal_form(&a).to_ascii_lowercase()));
        let (t, u) = (new_token(), new_token());
        assert_ne!(t, u);
        assert_eq!(t.len(), 64);
        assert_ne!(token_hash(&t), t);
    }

    #[test]
    fn requests_are_bounded_and_default_to_one_use_for_a_day() {
        let req = |hours, uses, note: Option<String>| EnrolmentCodeRequest {
            expires_in_hours: hours,
            uses,
            device_id: None,
            note,
        };
        let plain = CodeToStore::requested("X", &req(None, None, None)).unwrap();
        assert_eq!((plain.uses, plain.valid_for_ms), (1, 24 * HOUR_MS));
        let rack = req(Some(MAX_HOURS), Some(MAX_USES), Some("  rack 3 ".into()));
        let rack = CodeToStore::requested("X", &rack).unwrap();
        assert_eq!((rack.uses, rack.note.as_deref()), (50, Some("rack 3")));
        let long_note = Some("n".repeat(MAX_NOTE_CHARS + 1));
        for bad in [
            req(Some(MAX_HOURS + 1), None, None),
            req(Some(0), None, None),
            req(None, Some(MAX_USES + 1), None),
            req(None, Some(0), None),
            req(None, None, long_note),
        ] {
            assert!(CodeToStore::requested("X", &bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_new_device_enrols_with_a_working_code_and_uses_it() {
        let (dev, other) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let any = code(None, 1, false);
        assert_eq!(
            admit(&claim(dev, None, None, Some(&any))).unwrap(),
            Admission::NewUse { code_id: any.id }
        );
        let mine = code(Some(dev), 1, false);
        assert!(admit(&claim(dev, None, None, Some(&mine))).is_ok());
        assert_eq!(
            refusal(admit(&claim(other, None, None, Some(&mine)))),
            "code_for_another_device"
        );
        assert_eq!(refusal(admit(&claim(dev, None, None, None))), "Unknown");
        assert_eq!(
            refusal(admit(&claim(dev, None, None, Some(&code(None, 0, false))))),
            "UsedUp"
        );
        let expired = StoredCode {
            expires_at_ms: NOW,
            ..any.clone()
        };
        assert_eq!(
            refusal(admit(&claim(dev, None, None, Some(&expired)))),
            "Expired"
        );
    }

    #[test]
    fn a_known_device_enrols_again_only_with_its_token_its_code_or_the_code_that_enrolled_it() {
        let dev = Uuid::from_u128(1);
        let known = Some("hash-of-current-token");
        // Its own token: no code needed.
        assert_eq!(
            admit(&claim(dev, known, known, None)).unwrap(),
            Admission::OwnToken
        );
        // Another token is no proof: the code decides.
        assert_eq!(
            refusal(admit(&claim(dev, known, Some("other"), None))),
            "Unknown"
        );
        // Another code, however many uses it has left, cannot take the device over.
        let any = code(None, 5, false);
        assert_eq!(
            refusal(admit(&claim(dev, known, None, Some(&any)))),
            "device_already_enrolled"
        );
        // A code made for it.
        let mine = code(Some(dev), 1, false);
        assert_eq!(
            admit(&claim(dev, known, None, Some(&mine))).unwrap(),
            Admission::NewUse { code_id: mine.id }
        );
        // The code that enrolled it, even used up: a retry, until the code expires.
        let used = code(None, 0, true);
        assert_eq!(
            admit(&claim(dev, known, None, Some(&used))).unwrap(),
            Admission::Again { code_id: used.id }
        );
        let used_and_expired = StoredCode {
            expires_at_ms: NOW - 1,
            ..used
        };
        assert_eq!(
            refusal(admit(&claim(dev, known, None, Some(&used_and_expired)))),
            "Expired"
        );
    }

    #[test]
    fn a_device_continues_once_and_may_ask_again() {
        use super::{Continuation, continuation};
        let (old, new, other) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let code = |r: Result<Continuation, StoreError>| match r {
            Ok(c) => format!("{c:?}"),
            Err(StoreError::Conflict { code, .. }) => code.to_string(),
            Err(StoreError::Invalid(_)) => "invalid".into(),
            Err(e) => format!("{e}"),
        };
        let cases = [
            ("first time", None, new, false, "New"),
            ("the answer was lost", Some(new), new, true, "Again"),
            ("an older copy", Some(new), other, false, "device_continued"),
            ("a taken id", None, other, true, "device_exists"),
            ("itself", None, old, true, "invalid"),
        ];
        for (name, successor, asked, known, want) in cases {
            assert_eq!(
                code(continuation(old, successor, asked, known)),
                want,
                "{name}"
            );
        }
    }
}
