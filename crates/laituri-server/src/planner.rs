//! The planner's schedule: when the server reserves stock for orders and releases them into
//! pick tasks ([`crate::outbound`], through [`crate::store::Orders::plan_outbound`]).
//!
//! A run is asked for ([`Planner::poke`]) whenever something it reads may have changed: an order
//! came in, changed or was cancelled, or a device pushed events (goods arrived, were put away,
//! picked or found missing). Pokes that come while a run waits or runs are coalesced into one
//! more run after a short pause, so a busy floor costs a run a second at most; a timer runs it
//! anyway now and then, in case a poke was lost with a server that stopped. A run that fails is
//! logged and tried again at the next poke or tick: the orders wait, nothing is lost.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::outbound::ReleasePolicy;
use crate::store::Store;

/// When the planner runs by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// What a cart takes.
    pub policy: ReleasePolicy,
    /// Runs after pokes and at least this often; `None` runs only when an admin asks
    /// (`POST /api/v1/admin/release`), as tests and a lead's manual waves want.
    pub every: Option<Duration>,
}

impl Default for Schedule {
    fn default() -> Schedule {
        Schedule {
            policy: ReleasePolicy::default(),
            every: Some(Duration::from_secs(30)),
        }
    }
}

/// How long pokes are gathered before a run.
const GATHER: Duration = Duration::from_millis(500);

/// A handle to ask for a run; cheap to clone.
#[derive(Clone, Default)]
pub struct Planner {
    wake: Arc<Notify>,
}

impl Planner {
    /// Asks for a run soon (coalesced with other requests; does nothing when the planner runs
    /// only on demand).
    pub fn poke(&self) {
        self.wake.notify_one();
    }

    /// Runs the schedule until the task is dropped or aborted.
    pub async fn run(self, store: Arc<dyn Store>, schedule: Schedule) {
        let Some(every) = schedule.every else { return };
        loop {
            tokio::select! {
                () = self.wake.notified() => tokio::time::sleep(GATHER).await,
                () = tokio::time::sleep(every) => {}
            }
            match store.plan_outbound(&schedule.policy).await {
                Ok(s) if s.reserved + s.on_hold + s.tasks > 0 => tracing::info!(
                    reserved = s.reserved,
                    on_hold = s.on_hold,
                    tasks = s.tasks,
                    orders_released = s.orders_released,
                    "orders planned"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "planning orders failed; tried again later"),
            }
        }
    }
}
