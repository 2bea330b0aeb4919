//! The counting controller: a blind count of one location, a spot count of any location scanned
//! on the counting screen, or a count task taken from the list (leased like a putaway task: its
//! event carries the lease, and the server finishes the task).
//!
//! The screen never shows what the location should hold. When the count is finished it is
//! recorded as one `location_counted` event, each line with what this device's stock view holds
//! of it (pulled levels plus this device's moves the server has not shown yet) for the record;
//! the server books the difference against its own stock, at once or after a lead's approval.
//! Nothing is recorded before the finish: a count left in the middle (the menu, a crash) starts
//! over at its location. Scans are read with [`super::recognise`]; facts go through
//! [`super::seam::advance`], like every flow.

use laituri_domain::calendar::Date;
use laituri_domain::counting::{Count, Expect, Fact, Input, ItemScan, Line, Message, Place};
use laituri_domain::flow::Flow;
use laituri_domain::scan::Scan;
use laituri_protocol::{CountLine, EventBody, GoodsCondition, TaskClaim};
use uuid::Uuid;

use super::messages::Text;
use super::recognise::{Label, recognise};
use super::{CoreConfig, Reply, Tone};
use crate::store::{OpenJob, Store, StoreError};

/// The flow's name in the open-job record.
pub const FLOW: &str = "counting";

/// Buttons and keypad entries of the counting screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Quantity(i64),
    Empty,
    Finish,
    Cancel,
}

/// What the counting screen shows: never an expected quantity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountingView {
    pub location: Option<String>,
    pub expects: Expect,
    pub prompt: Message,
    /// What was counted so far: name, lot, units.
    pub lines: Vec<(String, Option<String>, i64)>,
    pub finished: bool,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct JobKey {
    location: String,
    /// The lease of the count task, for a task's count.
    #[serde(default)]
    claim: Option<TaskClaim>,
}

pub struct CountingController {
    job: Count,
    claim: Option<TaskClaim>,
}

/// True for the locations whose stock is counted: bins and quarantine.
fn countable(kind: &str) -> bool {
    matches!(kind, "bin" | "quarantine")
}

impl CountingController {
    /// Starts a spot count at the location `scan` names; anything else is refused with what to
    /// scan. Records the open job so that the count resumes at its location after a crash.
    pub fn start(
        store: &mut Store,
        config: &CoreConfig,
        operator: &str,
        scan: &Scan,
    ) -> Result<(CountingController, Reply), Reply> {
        let loc = match recognise(store, config, scan) {
            Ok(Label::Location(loc)) => loc,
            Ok(_) => return Err(Reply::new(Tone::Error, Text::ScanLocationToCount)),
            Err(e) => return Err(e.into()),
        };
        let mut ctrl = CountingController {
            job: Count::spot(),
            claim: None,
        };
        let step = ctrl.job.step(
            Input::Location(Place {
                countable: countable(&loc.kind),
                code: loc.code.clone(),
            }),
            Date::from_day_number(0),
        );
        if step.feedback.tone == Tone::Error {
            return Err(Reply::new(
                Tone::Error,
                Text::Counting(step.feedback.message),
            ));
        }
        ctrl.job = step.next;
        store.set_open_job(Some(&OpenJob {
            flow: FLOW.into(),
            operator_id: operator.to_string(),
            key: serde_json::to_value(JobKey {
                location: loc.code,
                claim: None,
            })
            .map_err(StoreError::from)?,
        }))?;
        Ok((
            ctrl,
            Reply::new(step.feedback.tone, Text::Counting(step.feedback.message)),
        ))
    }

    /// Starts the count task this device holds the lease `claim` of: its bin's label is
    /// scanned first. Records the open job with the lease.
    pub fn start_task(
        store: &mut Store,
        operator: &str,
        location: &str,
        claim: TaskClaim,
    ) -> Result<(CountingController, Reply), Reply> {
        store.set_open_job(Some(&OpenJob {
            flow: FLOW.into(),
            operator_id: operator.to_string(),
            key: serde_json::to_value(JobKey {
                location: location.to_string(),
                claim: Some(claim.clone()),
            })
            .map_err(StoreError::from)?,
        }))?;
        let ctrl = CountingController {
            job: Count::of(location.to_string()),
            claim: Some(claim),
        };
        let reply = ctrl.prompt_reply();
        Ok((ctrl, reply))
    }

    /// Picks up the count this device left open: its location, counted from the start again
    /// (a task's count from the scan of its bin).
    pub fn resume(store: &Store, job: &OpenJob) -> Result<CountingController, StoreError> {
        let key: JobKey = serde_json::from_value(job.key.clone())?;
        if let Some(claim) = key.claim {
            return Ok(CountingController {
                job: Count::of(key.location),
                claim: Some(claim),
            });
        }
        let countable = store
            .location(&key.location)?
            .is_some_and(|l| countable(&l.kind));
        let mut count = Count::spot();
        let step = count.step(
            Input::Location(Place {
                code: key.location,
                countable,
            }),
            Date::from_day_number(0),
        );
        count = step.next;
        Ok(CountingController {
            job: count,
            claim: None,
        })
    }

    /// True when the count is recorded, or when no bin is in hand (a count cancelled): either
    /// way nothing of it is open, and another job may start.
    pub fn is_finished(&self) -> bool {
        self.job.is_finished() || (self.job.location().is_none() && self.claim.is_none())
    }

    /// The lease of the count task in hand, if it is a task's count.
    pub fn claim(&self) -> Option<&TaskClaim> {
        self.claim.as_ref()
    }

    pub fn location(&self) -> Option<&str> {
        self.job.location()
    }

    fn prompt_reply(&self) -> Reply {
        Reply::new(Tone::Ok, Text::Counting(self.job.prompt()))
    }

    fn apply(&mut self, store: &mut Store, operator: &str, input: Input, today: Date) -> Reply {
        let before = self.job.location().map(str::to_string);
        let claim = self.claim.clone();
        let result = super::seam::advance(&mut self.job, input, today, |facts| {
            record(store, operator, claim.as_ref(), facts)
        });
        let feedback = match result {
            Ok(feedback) => feedback,
            Err(e) => return e.into(),
        };
        // A spot count cancelled or another bin scanned: the open job names the bin counted
        // now (a task's count keeps its bin and lease).
        let now = self.job.location().map(str::to_string);
        if self.claim.is_none() && !self.job.is_finished() && now != before {
            let job = now.map(|location| OpenJob {
                flow: FLOW.into(),
                operator_id: operator.to_string(),
                key: serde_json::json!({ "location": location }),
            });
            if let Err(e) = store.set_open_job(job.as_ref()) {
                return e.into();
            }
        }
        Reply::new(feedback.tone, Text::Counting(feedback.message))
    }

    pub fn action(
        &mut self,
        store: &mut Store,
        operator: &str,
        action: Action,
        today: Date,
    ) -> Reply {
        let input = match action {
            Action::Quantity(n) => Input::Quantity(n),
            Action::Empty => Input::Empty,
            Action::Finish => Input::Finish,
            Action::Cancel => Input::Cancel,
        };
        self.apply(store, operator, input, today)
    }

    pub fn scan(
        &mut self,
        store: &mut Store,
        config: &CoreConfig,
        operator: &str,
        scan: &Scan,
        today: Date,
    ) -> Reply {
        let input = match recognise(store, config, scan) {
            Ok(Label::Location(loc)) => Input::Location(Place {
                countable: countable(&loc.kind),
                code: loc.code,
            }),
            Ok(Label::Product { matches, .. }) => {
                let m = &matches[0];
                Input::Item(ItemScan {
                    merchant_id: m.merchant_id.clone(),
                    product_id: m.product_id.clone(),
                    name: m.name.clone(),
                    units: super::recognise::units(m, scan),
                    lot: scan.lot().map(str::to_string),
                    expiry: scan.expiry().or(scan.best_before()),
                    tracks_lot: m.track_lot,
                    tracks_expiry: m.track_expiry,
                })
            }
            Ok(Label::Unreadable(why)) => return Reply::new(Tone::Error, Text::Unreadable { why }),
            Ok(Label::Badge(_) | Label::Notice(_) | Label::Container(_) | Label::Unknown(_)) => {
                Input::Unknown(scan.data.clone())
            }
            Err(e) => return e.into(),
        };
        if self.job.expects() == Expect::Nothing {
            return self.prompt_reply();
        }
        self.apply(store, operator, input, today)
    }

    pub fn view(&self) -> CountingView {
        CountingView {
            location: self.job.location().map(str::to_string),
            expects: self.job.expects(),
            prompt: self.job.prompt(),
            lines: self
                .job
                .lines()
                .iter()
                .map(|l| (l.goods.name.clone(), l.goods.lot.clone(), l.counted))
                .collect(),
            finished: self.is_finished(),
        }
    }
}

/// What this device's stock view holds of a counted line's goods at `location`.
fn expected(store: &Store, location: &str, line: &Line) -> Result<i64, StoreError> {
    let expiry = line.goods.expiry.map(|d| d.to_string());
    Ok(store
        .location_contents(location)?
        .iter()
        .filter(|r| {
            r.container.is_none()
                && r.condition == GoodsCondition::Good
                && r.merchant_id == line.goods.merchant_id
                && r.product_id == line.goods.product_id
                && r.lot == line.goods.lot
                && r.expiry == expiry
        })
        .map(|r| r.quantity)
        .sum())
}

/// Writes the finished count as one event, closing the open job, in one transaction.
fn record(
    store: &mut Store,
    operator: &str,
    claim: Option<&TaskClaim>,
    facts: &[Fact],
) -> Result<(), StoreError> {
    let mut bodies = Vec::new();
    for fact in facts {
        let Fact::Counted { location, lines } = fact;
        let mut out = Vec::with_capacity(lines.len());
        for l in lines {
            out.push(CountLine {
                merchant_id: l.goods.merchant_id.clone(),
                product_id: l.goods.product_id.clone(),
                lot: l.goods.lot.clone(),
                expiry: l.goods.expiry.map(|d| d.to_string()),
                condition: GoodsCondition::Good,
                container: None,
                counted: l.counted,
                expected: expected(store, location, l)?,
            });
        }
        bodies.push(EventBody::LocationCounted {
            count_id: Uuid::now_v7(),
            task: claim.cloned(),
            location: location.clone(),
            lines: out,
        });
    }
    store.append_events_closing_job(operator, &bodies, true)?;
    Ok(())
}

impl super::job::Job for CountingController {
    fn screen(&self) -> super::Screen {
        super::Screen::Counting
    }

    fn name(&self) -> String {
        self.job.location().unwrap_or_default().to_string()
    }

    fn is_finished(&self) -> bool {
        CountingController::is_finished(self)
    }

    fn scan(&mut self, cx: &mut super::job::JobCtx, scan: &Scan) -> Reply {
        CountingController::scan(self, cx.store, cx.config, cx.operator, scan, cx.today)
    }
}

/// A count this device left open for `operator` resumes at its location at log-in.
pub fn resume_for(
    store: &Store,
    _config: &CoreConfig,
    operator: &str,
) -> Result<Option<Box<dyn super::job::Job>>, StoreError> {
    super::job::resume_open(store, operator, FLOW, CountingController::resume)
}
