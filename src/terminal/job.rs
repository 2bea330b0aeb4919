//! The one job a device has open, whatever its flow (DESIGN.md section 1: one job at a time).
//!
//! Every flow's controller implements [`Job`]; the terminal core holds at most one, routes the
//! scans of the job's screen to it, and refuses to start another while it is open (the operator
//! finishes, parks it by going to the menu, or stops it). Flow-specific buttons reach their
//! controller through [`super::Terminal::with_job`], which downcasts to the flow's type.

use std::any::Any;

use laituri_domain::calendar::Date;
use laituri_domain::scan::Scan;

use super::{CoreConfig, Reply, Screen};
use crate::store::{OpenJob, Store, StoreError};

/// What a job may use while it handles one scan or button.
pub struct JobCtx<'a> {
    pub store: &'a mut Store,
    pub config: &'a CoreConfig,
    /// The logged-in operator's id, recorded on every event.
    pub operator: &'a str,
    pub today: Date,
}

/// A floor flow's controller, as the terminal core sees it.
pub trait Job: Any {
    /// The screen the job works on.
    fn screen(&self) -> Screen;
    /// What the job is called on screen: the notice reference, the tote.
    fn name(&self) -> String;
    fn is_finished(&self) -> bool;
    /// One scan on the job's screen.
    fn scan(&mut self, cx: &mut JobCtx, scan: &Scan) -> Reply;
}

/// Picks up the job of one flow that this device left open for `operator`, if there is one.
pub type Resume = fn(&Store, &CoreConfig, &str) -> Result<Option<Box<dyn Job>>, StoreError>;

/// The job of `flow` this device left open for `operator` (the open-job record), rebuilt by
/// `resume`: how putaway and picking resume at log-in.
pub fn resume_open<J: Job>(
    store: &Store,
    operator: &str,
    flow: &str,
    resume: impl FnOnce(&Store, &OpenJob) -> Result<J, StoreError>,
) -> Result<Option<Box<dyn Job>>, StoreError> {
    match store.open_job()? {
        Some(job) if job.flow == flow && job.operator_id == operator => {
            Ok(Some(Box::new(resume(store, &job)?)))
        }
        _ => Ok(None),
    }
}
