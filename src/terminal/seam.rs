//! The one controller seam every floor flow goes through: step the pure state machine, record
//! its facts in one transaction, and adopt the next state only after the commit returned `Ok`.
//!
//! This is the rule that makes the success beep a promise. It exists here once; a flow's
//! controller supplies only how its facts are written. A failed write (full disk, I/O error)
//! leaves the flow exactly where it was and says that nothing was saved.

use laituri_domain::calendar::Date;
use laituri_domain::flow::{Feedback, Flow};

use crate::store::StoreError;

/// Feeds `input` to `state`; writes the step's facts with `record` (skipped when there are
/// none); replaces `state` with the next state only when that succeeded.
pub fn advance<F: Flow>(
    state: &mut F,
    input: F::Input,
    today: Date,
    record: impl FnOnce(&[F::Fact]) -> Result<(), StoreError>,
) -> Result<Feedback<F::Message>, StoreError> {
    let step = state.step(input, today);
    if !step.facts.is_empty()
        && let Err(e) = record(&step.facts)
    {
        tracing::error!("flow step not saved: {e}");
        return Err(e);
    }
    *state = step.next;
    Ok(step.feedback)
}

#[cfg(test)]
mod tests {
    use super::*;
    use laituri_domain::receiving::{Input, Receipt, Rules, Setup};

    fn receipt() -> Receipt {
        Receipt::new(Setup {
            merchant_id: "M".into(),
            rules: Rules {
                min_shelf_life_days: 0,
                over_receipt_tolerance_pct: 0,
            },
            notice_id: None,
            expected: vec![],
            dock: "DOCK-1".into(),
            quarantine_location: "Q".into(),
        })
    }

    #[test]
    fn a_failed_commit_keeps_the_state_and_a_good_one_adopts_it() {
        let today = Date::new(2026, 12, 1).unwrap();
        let mut r = receipt();
        let before = r.clone();
        // An unknown code has a fact to record: the write fails, nothing changes.
        let failed = advance(&mut r, Input::Unknown("X".into()), today, |_| {
            Err(StoreError::DiskFull)
        });
        assert!(matches!(failed, Err(StoreError::DiskFull)));
        assert_eq!(r, before);
        // A step without facts never calls the writer.
        advance(&mut r, Input::Container("T-1".into()), today, |_| {
            panic!("no facts, no write")
        })
        .unwrap();
        assert_eq!(r.container(), Some("T-1"));
    }
}
