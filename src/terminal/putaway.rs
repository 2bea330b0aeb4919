//! The putaway controller: a tote (or license plate) into bins, suggestions computed on the
//! device from its local stock view, so it works offline.
//!
//! A tote in the operator's hand is its own claim: started by scanning it, putaway needs no
//! lease. Started from the task list, it carries the task's lease ([`TaskClaim`]) on every event,
//! so the server can tell progress under a lease another device holds now. Scans are read with
//! [`super::recognise`]; facts go through [`super::seam::advance`], like every flow.

use laituri_domain::calendar::Date;
use laituri_domain::putaway::{
    Bin, Expect, Fact, Goods, Input, ItemScan, Message, OverrideReason, Place as DomainPlace,
    Putaway, ToteLine,
};
use laituri_domain::scan::Scan;
use laituri_protocol::{EventBody, GoodsCondition, Place, StockMove, TaskClaim};

use super::messages::Text;
use super::recognise::{Label, recognise};
use super::{CoreConfig, Reply, Tone};
use crate::store::{LineState, OpenJob, Store, StoreError};

/// The flow's name in the open-job record.
pub const FLOW: &str = "putaway";

/// How many recent put-away lines the screen lists.
pub const RECENT_LINES: u32 = 30;

/// How many empty bins of each zone the suggestion is given: the first is suggested, the others
/// follow when the operator finds a bin full or refuses one.
const EMPTY_BINS_PER_ZONE: u32 = 8;

/// Buttons and keypad entries of the putaway screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Quantity(i64),
    BinFull,
    Reason(OverrideReason),
    Cancel,
    /// Stop this tote: what is left stays in it (nothing is recorded for it).
    Stop,
}

/// What the putaway screen shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutawayView {
    pub container: String,
    pub expects: Expect,
    pub prompt: Message,
    /// The bin to scan now, in large type.
    pub suggested: Option<String>,
    pub quantity: Option<i64>,
    /// What is left in the tote: name, lot, units.
    pub left: Vec<(String, Option<String>, i64)>,
    pub finished: bool,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct JobKey {
    container: String,
    claim: Option<TaskClaim>,
}

pub struct PutawayController {
    job: Putaway,
    container: String,
    /// Where the tote stands (its goods' location), the `from` of every move.
    at: String,
    claim: Option<TaskClaim>,
    /// The operator was told the lease was lost.
    lost_told: bool,
}

fn date_of(s: &Option<String>) -> Option<Date> {
    s.as_deref().and_then(Date::parse_iso)
}

impl PutawayController {
    /// Starts putting away a container from what the local stock view says it holds. Records the
    /// open job so that it resumes after a crash.
    pub fn start(
        store: &mut Store,
        operator: &str,
        container: &str,
        claim: Option<TaskClaim>,
    ) -> Result<(PutawayController, Reply), Reply> {
        let ctrl = Self::load(store, container, claim.clone())?;
        if ctrl.job.lines().is_empty() {
            return Err(Reply::new(
                Tone::Error,
                Text::ToteEmpty {
                    container: container.to_string(),
                },
            ));
        }
        store.set_open_job(Some(&OpenJob {
            flow: FLOW.into(),
            operator_id: operator.to_string(),
            key: serde_json::to_value(JobKey {
                container: container.to_string(),
                claim,
            })
            .map_err(StoreError::from)?,
        }))?;
        let mut ctrl = ctrl;
        let reply = ctrl.feed_candidates(store, None);
        Ok((ctrl, reply))
    }

    /// Picks up the putaway this device left open.
    pub fn resume(store: &Store, job: &OpenJob) -> Result<PutawayController, StoreError> {
        let key: JobKey = serde_json::from_value(job.key.clone())?;
        let mut ctrl = Self::load(store, &key.container, key.claim)
            .map_err(|r| StoreError::Data(format!("{:?}", r.text)))?;
        ctrl.feed_candidates(store, None);
        Ok(ctrl)
    }

    fn load(
        store: &Store,
        container: &str,
        claim: Option<TaskClaim>,
    ) -> Result<PutawayController, Reply> {
        let rows = store.container_contents(container)?;
        let mut at = String::new();
        let mut lines: Vec<ToteLine> = Vec::new();
        let mut merchant = None;
        for r in rows
            .iter()
            .filter(|r| r.condition == GoodsCondition::Good && r.quantity > 0)
        {
            at = r.location.clone();
            merchant.get_or_insert_with(|| r.merchant_id.clone());
            let name = store.product_label(&r.product_id)?;
            lines.push(ToteLine {
                goods: Goods {
                    merchant_id: r.merchant_id.clone(),
                    product_id: r.product_id.clone(),
                    name,
                    lot: r.lot.clone(),
                    expiry: date_of(&r.expiry),
                    serial: None,
                },
                quantity: r.quantity,
            });
        }
        let zones = match merchant {
            Some(m) => store.merchant(&m)?.map(|m| m.zones).unwrap_or_default(),
            None => Vec::new(),
        };
        Ok(PutawayController {
            job: Putaway::new(container.to_string(), zones, lines),
            container: container.to_string(),
            at,
            claim,
            lost_told: false,
        })
    }

    /// True the first time it is asked after the lease was lost: the notice is given once.
    pub fn take_lost_notice(&mut self) -> bool {
        !std::mem::replace(&mut self.lost_told, true)
    }

    pub fn is_finished(&self) -> bool {
        use laituri_domain::flow::Flow;
        self.job.is_finished()
    }

    pub fn container(&self) -> &str {
        &self.container
    }

    /// The product of the goods in hand, if any are selected.
    pub fn selected_product(&self) -> Option<String> {
        self.job.selected().map(|g| g.product_id.clone())
    }

    pub fn claim(&self) -> Option<&TaskClaim> {
        self.claim.as_ref()
    }

    /// Candidate bins for the selected goods: the bins where the same goods lie, each with what
    /// it holds now on the device's view, then the first empty bins of each of the merchant's
    /// zones in walking order. Bounded: a handful of point queries and one index walk per zone,
    /// however large and full the warehouse.
    fn candidates(&self, store: &Store) -> Result<Vec<Bin>, StoreError> {
        let Some(goods) = self.job.selected() else {
            return Ok(Vec::new());
        };
        let mut bins: Vec<Bin> = Vec::new();
        for row in store.product_places(&goods.merchant_id, &goods.product_id)? {
            if row.container.is_some() || bins.iter().any(|b| b.code == row.location) {
                continue;
            }
            let Some(loc) = store.location(&row.location)? else {
                continue;
            };
            if loc.kind != "bin" {
                continue;
            }
            let contents = store.location_contents(&loc.code)?;
            let occupied: i64 = contents.iter().map(|r| r.quantity.max(0)).sum();
            let same: i64 = contents
                .iter()
                .filter(|r| {
                    r.merchant_id == goods.merchant_id
                        && r.product_id == goods.product_id
                        && r.lot == goods.lot
                })
                .map(|r| r.quantity.max(0))
                .sum();
            bins.push(Bin {
                code: loc.code,
                zone: loc.zone,
                walk_order: loc.walk_order,
                capacity: loc.capacity,
                occupied,
                same_goods: same,
                mixed: occupied > same,
            });
        }
        let zones = store
            .merchant(&goods.merchant_id)?
            .map(|m| m.zones)
            .unwrap_or_default();
        for zone in &zones {
            for loc in store.empty_bins_of_zone(zone, EMPTY_BINS_PER_ZONE)? {
                if bins.iter().any(|b| b.code == loc.code) {
                    continue;
                }
                bins.push(Bin {
                    code: loc.code,
                    zone: loc.zone,
                    walk_order: loc.walk_order,
                    capacity: loc.capacity,
                    occupied: 0,
                    same_goods: 0,
                    mixed: false,
                });
            }
        }
        Ok(bins)
    }

    /// Answers the state machine's request for candidates, if it has one. The reply is the
    /// suggestion, or `after` when a step with facts came first (its answer matters more).
    fn feed_candidates(&mut self, store: &Store, after: Option<Reply>) -> Reply {
        if self.job.expects() != Expect::Candidates {
            return after.unwrap_or_else(|| self.prompt_reply());
        }
        let bins = match self.candidates(store) {
            Ok(b) => b,
            Err(e) => return e.into(),
        };
        let step = self
            .job
            .step(Input::Candidates(bins), Date::from_day_number(0));
        self.job = step.next;
        after.unwrap_or(Reply::new(
            step.feedback.tone,
            Text::Putaway(step.feedback.message),
        ))
    }

    fn prompt_reply(&self) -> Reply {
        Reply::new(Tone::Ok, Text::Putaway(self.job.prompt()))
    }

    fn apply(&mut self, store: &mut Store, operator: &str, input: Input, today: Date) -> Reply {
        let (container, at, claim) = (self.container.clone(), self.at.clone(), self.claim.clone());
        let result = super::seam::advance(&mut self.job, input, today, |facts| {
            record(store, operator, &container, &at, claim.as_ref(), facts)
        });
        match result {
            Ok(feedback) => {
                let reply = Reply::new(feedback.tone, Text::Putaway(feedback.message));
                // A selection answers with the suggestion; a recorded put keeps its own answer.
                let keep = reply.tone != Tone::Ok
                    || matches!(reply.text, Text::Putaway(Message::PutAway { .. }));
                self.feed_candidates(store, keep.then_some(reply))
            }
            Err(e) => e.into(),
        }
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
            Action::BinFull => Input::BinFull,
            Action::Reason(r) => Input::Reason(r),
            Action::Cancel => Input::Cancel,
            Action::Stop => return self.stop(store),
        };
        self.apply(store, operator, input, today)
    }

    /// Leaves the tote: the job is closed, what is left stays in the tote (its putaway task,
    /// if any, stays open for someone else).
    pub fn stop(&mut self, store: &mut Store) -> Reply {
        if let Err(e) = store.set_open_job(None) {
            return e.into();
        }
        Reply::new(
            Tone::Warning,
            Text::PutawayStopped {
                container: self.container.clone(),
                left: self.job.units_left(),
            },
        )
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
            Ok(Label::Location(loc)) => {
                let zone_owner = match store.zone_owner(&loc.zone) {
                    Ok(o) => o,
                    Err(e) => return e.into(),
                };
                Input::Location(DomainPlace {
                    is_bin: loc.kind == "bin",
                    code: loc.code,
                    zone: loc.zone,
                    zone_owner,
                })
            }
            Ok(Label::Product { matches, .. }) => {
                // The product of the tote's merchant when the barcode is shared.
                let merchant = self
                    .job
                    .lines()
                    .first()
                    .map(|l| l.goods.merchant_id.clone());
                let m = super::recognise::of_merchant(&matches, merchant.as_deref());
                Input::Item(ItemScan {
                    merchant_id: m.merchant_id.clone(),
                    product_id: m.product_id.clone(),
                    name: m.name.clone(),
                    units: super::recognise::units(m, scan),
                    lot: scan.lot().map(str::to_string),
                    expiry: scan.expiry().or(scan.best_before()),
                    serial: scan.serial().map(str::to_string),
                })
            }
            Ok(Label::Container(c)) if c == self.container => {
                return self.prompt_reply();
            }
            Ok(Label::Container(c)) => {
                return Reply::new(
                    Tone::Error,
                    Text::OtherToteOpen {
                        open: self.container.clone(),
                        scanned: c,
                    },
                );
            }
            Ok(Label::Unreadable(why)) => return Reply::new(Tone::Error, Text::Unreadable { why }),
            Ok(Label::Badge(_) | Label::Notice(_) | Label::Unknown(_)) => {
                Input::Unknown(scan.data.clone())
            }
            Err(e) => return e.into(),
        };
        self.apply(store, operator, input, today)
    }

    /// What this tote put away, newest first, each with where its event stands: ("6 × Oat
    /// drink 1 l", "→ A-01-03-1"). Bounded by [`RECENT_LINES`].
    pub fn recent(&self, store: &Store) -> Vec<(String, String, LineState)> {
        let events = store
            .recent_events("put_away", RECENT_LINES)
            .unwrap_or_default();
        let mut out = Vec::new();
        for (body, state) in events {
            let EventBody::PutAway {
                container, moves, ..
            } = body
            else {
                continue;
            };
            if container != self.container {
                continue;
            }
            for m in moves {
                let name = store
                    .product_label(&m.product_id)
                    .unwrap_or_else(|_| m.product_id.clone());
                let to = m.to.map(|p| p.location).unwrap_or_default();
                out.push((format!("{} × {name}", m.quantity), format!("→ {to}"), state));
            }
        }
        out
    }

    pub fn view(&self) -> PutawayView {
        PutawayView {
            container: self.container.clone(),
            expects: self.job.expects(),
            prompt: self.job.prompt(),
            suggested: self.job.suggestion().map(|s| s.bin.clone()),
            quantity: self.job.quantity(),
            left: self
                .job
                .lines()
                .iter()
                .map(|l| (l.goods.name.clone(), l.goods.lot.clone(), l.quantity))
                .collect(),
            finished: self.is_finished(),
        }
    }
}

fn reason_to_wire(r: OverrideReason) -> laituri_protocol::OverrideReason {
    use laituri_protocol::OverrideReason as W;
    match r {
        OverrideReason::Blocked => W::Blocked,
        OverrideReason::DoesNotFit => W::DoesNotFit,
        OverrideReason::Closer => W::Closer,
        OverrideReason::LeadInstruction => W::LeadInstruction,
    }
}

/// Writes one step's facts, in order, in one transaction; the last one closes the open job.
fn record(
    store: &mut Store,
    operator: &str,
    container: &str,
    at: &str,
    claim: Option<&TaskClaim>,
    facts: &[Fact],
) -> Result<(), StoreError> {
    let bodies: Vec<EventBody> = facts
        .iter()
        .map(|f| match f {
            Fact::PutAway {
                goods,
                quantity,
                bin,
                suggested,
                reason,
            } => EventBody::PutAway {
                container: container.to_string(),
                task: claim.cloned(),
                suggested: suggested.clone(),
                override_reason: reason.map(reason_to_wire),
                moves: vec![StockMove {
                    merchant_id: goods.merchant_id.clone(),
                    product_id: goods.product_id.clone(),
                    quantity: *quantity,
                    lot: goods.lot.clone(),
                    expiry: goods.expiry.map(|d| d.to_string()),
                    serial: goods.serial.clone(),
                    condition: GoodsCondition::Good,
                    from: Some(Place::in_container(at, container)),
                    to: Some(Place::at(bin.clone())),
                    reason: None,
                }],
            },
            Fact::BinFull { bin } => EventBody::BinFull {
                location: bin.clone(),
                task: claim.cloned(),
            },
            Fact::Finished => EventBody::PutawayFinished {
                container: container.to_string(),
                task: claim.cloned(),
            },
        })
        .collect();
    let finished = facts.contains(&Fact::Finished);
    store.append_events_closing_job(operator, &bodies, finished)?;
    Ok(())
}

impl super::job::Job for PutawayController {
    fn screen(&self) -> super::Screen {
        super::Screen::Putaway
    }

    fn name(&self) -> String {
        self.container.clone()
    }

    fn is_finished(&self) -> bool {
        PutawayController::is_finished(self)
    }

    fn scan(&mut self, cx: &mut super::job::JobCtx, scan: &Scan) -> Reply {
        PutawayController::scan(self, cx.store, cx.config, cx.operator, scan, cx.today)
    }
}

/// A putaway this device left open for `operator` resumes at log-in.
pub fn resume_for(
    store: &Store,
    _config: &CoreConfig,
    operator: &str,
) -> Result<Option<Box<dyn super::job::Job>>, StoreError> {
    super::job::resume_open(store, operator, FLOW, PutawayController::resume)
}
