//! The sync worker: moves the outbox to the server and pulls master data, on its own thread.
//!
//! It owns a tokio runtime and its own connection to the store file; the UI thread never waits
//! for it. It is split the way DESIGN.md section 3 reads: find what to send (the outbox after
//! `acked_through`), decide what an answer means ([`classify`], a pure function with a case
//! table), then carry it out (record results, heal a gap, re-enrol, back off). Delivery is
//! at-least-once; the server's per-device seq makes the effect exactly-once.
//!
//! It must never drop or reorder an event, and never treat a transient failure as permanent.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use laituri_protocol::{
    ApiError, ContinueRequest, ContinueResponse, EnrolRequest, EnrolResponse, Event, EventResult,
    LabelRequest, LeaseRequest, LeaseResponse, PROTOCOL_HEADER, PROTOCOL_VERSION, PullResponse,
    PushRequest, PushResponse, RenewRequest, RenewResponse, ShipmentLabels, TaskClaim, paths,
};
use rand::RngExt;
use tokio::sync::Notify;

use crate::i18n::Lang;
use crate::store::{PendingContinuation, Store, StoreError, SyncCounts};
use crate::tr;

#[derive(Debug, Clone)]
pub struct SyncConfig {
    pub db_path: PathBuf,
    /// Base URL of the central server, e.g. `http://127.0.0.1:8080` or `https://laituri.example`.
    pub server_url: String,
    /// More trusted roots for an `https` server (PEM), e.g. the site's own CA; the platform's
    /// roots are trusted as well.
    pub ca_file: Option<PathBuf>,
    pub enrolment_code: Option<String>,
    pub device_name: String,
    /// Events per push request.
    pub batch_size: u32,
    /// Changes per pull page.
    pub pull_limit: u32,
    /// How often to pull when nothing else wakes the worker.
    pub poll_interval: Duration,
    /// First retry delay after a transient failure; doubles up to `max_backoff`, with jitter.
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    pub request_timeout: Duration,
}

impl SyncConfig {
    pub fn new(db_path: PathBuf, server_url: impl Into<String>) -> SyncConfig {
        SyncConfig {
            db_path,
            server_url: server_url.into(),
            ca_file: None,
            enrolment_code: None,
            device_name: "laituri".into(),
            // 2000 events are about 1 MB. Against a server with a large catalogue, 100,000
            // events of as many different products took 13-17 s in batches of 500 and 9 s in
            // batches of 2000 (BENCHMARKS.md); a link too slow for a full batch halves it.
            batch_size: 2000,
            pull_limit: 1000,
            poll_interval: Duration::from_secs(5),
            min_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(30),
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// What the header shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncStatus {
    pub online: bool,
    pub enrolled: bool,
    pub counts: SyncCounts,
    /// The last problem, for a person: what is wrong and what to do.
    pub problem: Option<SyncProblem>,
    /// Master data changed since the last status: lists on screen may need a refresh.
    pub master_data_changed: bool,
    /// Shipping labels arrived (or were refused) in this round: they print, or show.
    pub labels_changed: bool,
}

/// Why the terminal is not in step with the server, for the line under the header: said in the
/// operator's language ([`SyncProblem::render`]) and in English in the log ([`Display`]).
/// Technical details (an HTTP status, a parser's words, a reason the server gave) stay as they
/// came, in brackets, for whoever reads the line out to support.
///
/// [`Display`]: std::fmt::Display
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncProblem {
    /// Nothing answers at the server's address.
    Unreachable,
    /// The server did not answer in time.
    NoAnswer,
    /// The connection failed some other way.
    Offline(String),
    /// The server's certificate does not verify against the trusted roots (the platform's and
    /// `ca_file`): the site's own CA is not installed, or the certificate is expired or for
    /// another name. The detail says which.
    UntrustedCertificate(String),
    /// No enrolment code is configured.
    NotEnrolled,
    /// The server refused the enrolment code.
    EnrolmentRefused(String),
    /// The server answered one step of the round wrongly; the round is tried again later.
    Server { step: SyncStep, fault: Fault },
    /// The server expects events this terminal never sent: another history.
    HistoryMismatch { expected: u64, sent: u64 },
    /// The server speaks another protocol version.
    OtherProtocol(String),
    /// The server no longer knows this terminal's token.
    Reenrolling,
    /// This database was restored from a backup: its actions the server has not seen go under a
    /// new device id.
    Restored,
    /// This database is an older copy of one that already continues under another device id.
    OlderCopy,
    /// The terminal's own storage refused the sync's write.
    Storage(String),
    /// The worker could not start.
    NoRuntime(String),
    /// The same batch failed in `rounds` rounds in a row, for `reason` the last time.
    Stuck {
        rounds: u32,
        reason: Box<SyncProblem>,
    },
}

/// The step of a round that went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncStep {
    Enrol,
    Push,
    Renew,
    Lease,
    Pull,
}

/// What was wrong with the server's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Busy or failing (5xx, 408, 429), or failing a step that has no other answer.
    Http(u16),
    /// An answer that is not what the protocol says.
    Garbage(String),
    /// Refused with a reason.
    Refused { status: u16, reason: String },
    /// A conflict answer without the seq it expects.
    ConflictWithoutSeq,
    /// Asked again for the batch it was just sent.
    AsksAgain(u64),
    /// Recorded nothing of a batch.
    NothingRecorded,
    /// A pull cursor that goes backwards.
    CursorBackwards,
}

impl SyncProblem {
    pub fn render(&self, lang: Lang) -> String {
        let fault = |f: &Fault| match f {
            Fault::Http(status) => format!("HTTP {status}"),
            Fault::Garbage(_) => tr!(lang, "an unreadable answer"),
            Fault::Refused { status, reason } => format!("HTTP {status}: {reason}"),
            Fault::ConflictWithoutSeq => tr!(lang, "a conflict without a sequence number"),
            Fault::AsksAgain(seq) => tr!(lang, "asks again for event {seq}", seq),
            Fault::NothingRecorded => tr!(lang, "nothing of the batch recorded"),
            Fault::CursorBackwards => tr!(lang, "a position that goes backwards"),
        };
        match self {
            SyncProblem::Unreachable => tr!(
                lang,
                "Offline: cannot reach the server. Keep working; everything is saved on the device."
            ),
            SyncProblem::NoAnswer => tr!(
                lang,
                "Offline: the server did not answer in time. Keep working; everything is saved on the device."
            ),
            SyncProblem::Offline(detail) => tr!(
                lang,
                "Offline ({detail}). Keep working; everything is saved on the device.",
                detail
            ),
            SyncProblem::UntrustedCertificate(detail) => tr!(
                lang,
                "The server's certificate is not trusted ({detail}). Keep working; everything is saved on the device. Ask IT to install the site's CA file on this terminal (ca_file in the configuration).",
                detail
            ),
            SyncProblem::NotEnrolled => tr!(
                lang,
                "This terminal is not enrolled: set enrolment_code in the configuration (ask the shift lead for a code)."
            ),
            SyncProblem::EnrolmentRefused(reason) => tr!(
                lang,
                "Enrolment refused ({reason}): ask the shift lead for a new enrolment code.",
                reason
            ),
            SyncProblem::Server { step, fault: f } => {
                let fault = fault(f);
                match step {
                    SyncStep::Enrol => tr!(
                        lang,
                        "The server failed the enrolment ({fault}). Trying again.",
                        fault
                    ),
                    SyncStep::Push => tr!(
                        lang,
                        "The server failed to take this terminal's work ({fault}). Keep working; everything is saved on the device and sent again.",
                        fault
                    ),
                    SyncStep::Renew => tr!(
                        lang,
                        "The server failed to renew this terminal's tasks ({fault}). Keep working; trying again.",
                        fault
                    ),
                    SyncStep::Lease => tr!(
                        lang,
                        "The server failed to hand over a task ({fault}). Scan the tote instead, or try again.",
                        fault
                    ),
                    SyncStep::Pull => tr!(
                        lang,
                        "The server failed to send updates ({fault}). Keep working; lists may be out of date.",
                        fault
                    ),
                }
            }
            SyncProblem::HistoryMismatch { expected, sent } => tr!(
                lang,
                "The server expects event {expected} but this terminal sent {sent}: the server's records do not match this terminal. Tell the shift lead.",
                expected,
                sent
            ),
            SyncProblem::OtherProtocol(reason) => tr!(
                lang,
                "The server speaks another protocol version ({reason}): this terminal needs an update. Tell the shift lead; work stays saved on the device.",
                reason
            ),
            SyncProblem::Reenrolling => tr!(
                lang,
                "The server no longer knows this terminal; enrolling again. Keep working."
            ),
            SyncProblem::Restored => tr!(
                lang,
                "This terminal was restored from a backup: its actions are being sent under a new device id. Nothing is lost."
            ),
            SyncProblem::OlderCopy => tr!(
                lang,
                "This terminal's database is an older copy of one that went on under another device id: its actions cannot be sent. Keep it as it is and tell the shift lead."
            ),
            SyncProblem::Storage(detail) => tr!(
                lang,
                "This terminal's storage refused the sync ({detail}); trying again. If it repeats, tell the shift lead.",
                detail
            ),
            SyncProblem::NoRuntime(detail) => tr!(
                lang,
                "Sync could not start ({detail}). Restart the terminal.",
                detail
            ),
            SyncProblem::Stuck { rounds, reason } => tr!(
                lang,
                "The same actions have failed to go through {rounds} times: {reason} Nothing is lost; tell the shift lead.",
                rounds,
                reason = reason.render(lang)
            ),
        }
    }
}

/// In the log: English, with every detail.
impl std::fmt::Display for SyncProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(Lang::En))?;
        if let SyncProblem::Server {
            fault: Fault::Garbage(why),
            ..
        } = self
        {
            write!(f, " [{why}]")?;
        }
        Ok(())
    }
}

/// Rounds in a row in which one batch fails before the sync line says the queue is stuck.
pub const STUCK_ROUNDS: u32 = 5;

/// What one HTTP answer to a push means for the worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushVerdict {
    /// Record the results; send the next batch at once.
    Recorded,
    /// The server expects an earlier seq: resend from there.
    ResendFrom(u64),
    /// The token is no longer valid: enrol again.
    Reenrol,
    /// The batch is larger than the server takes in one request: send half as many.
    TooLarge,
    /// Nothing will change until a person updates the terminal or the server.
    Stop(SyncProblem),
    /// Try the same batch again later.
    Retry(SyncProblem),
}

/// Decides what an answer to a push means. Pure, so its cases are a table.
pub fn classify(status: u16, error: Option<&ApiError>) -> PushVerdict {
    match status {
        200 => PushVerdict::Recorded,
        409 => match error.and_then(|e| e.expected_seq) {
            Some(seq) => PushVerdict::ResendFrom(seq),
            None => PushVerdict::Retry(push_fault(Fault::ConflictWithoutSeq)),
        },
        401 | 403 => PushVerdict::Reenrol,
        413 => PushVerdict::TooLarge,
        426 => PushVerdict::Stop(SyncProblem::OtherProtocol(
            error
                .map(|e| e.message.clone())
                .unwrap_or_else(|| format!("HTTP {status}")),
        )),
        408 | 429 | 500..=599 => PushVerdict::Retry(push_fault(Fault::Http(status))),
        _ => PushVerdict::Retry(push_fault(match error {
            Some(e) => Fault::Refused {
                status,
                reason: e.message.clone(),
            },
            None => Fault::Http(status),
        })),
    }
}

fn push_fault(fault: Fault) -> SyncProblem {
    SyncProblem::Server {
        step: SyncStep::Push,
        fault,
    }
}

/// What an answer to a push acknowledges of the batch that was sent: the results for events of
/// the batch (same seq and id), and `acked_through` no further than the results reach in seq
/// order from the first event. The server's `acked_through` may reach past the batch (an earlier,
/// bigger push was applied but its answer lost): the events beyond are sent again and answered
/// as duplicates with their real outcome, so none keeps "saved" forever or hides a rejection; and
/// an answer that covers nothing it was sent acknowledges nothing.
pub fn answered(sent: &[Event], answer: &PushResponse) -> (Vec<EventResult>, u64) {
    let first = sent.first().map_or(1, |e| e.seq);
    let results: Vec<EventResult> = answer
        .results
        .iter()
        .filter(|r| {
            r.seq
                .checked_sub(first)
                .and_then(|i| sent.get(i as usize))
                .is_some_and(|e| e.seq == r.seq && e.event_id == r.event_id)
        })
        .cloned()
        .collect();
    let mut reach = first - 1;
    for r in &results {
        if r.seq == reach + 1 {
            reach = r.seq;
        }
    }
    (results, answer.acked_through.min(reach))
}

/// Runs one full round (enrol if needed, push everything, pull everything) and returns the
/// status, on the calling thread. For tests, tools and the scanning driver.
pub fn sync_once(config: &SyncConfig) -> SyncStatus {
    let problem = |why: SyncProblem| SyncStatus {
        problem: Some(why),
        ..SyncStatus::default()
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return problem(SyncProblem::NoRuntime(e.to_string())),
    };
    let mut worker = Worker::new(
        config.clone(),
        Arc::new(Notify::new()),
        Arc::new(AtomicBool::new(false)),
        Box::new(|_| {}),
    );
    rt.block_on(async {
        match Store::open(&config.db_path) {
            Ok(mut store) => worker.round_with_status(&mut store).await.0,
            Err(e) => problem(SyncProblem::Storage(e.to_string())),
        }
    })
}

/// The worker's runtime: one thread is plenty for one connection to one server.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Runs the worker on its own thread until [`SyncHandle::stop`].
pub struct SyncHandle {
    wake: Arc<Notify>,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SyncHandle {
    /// Starts the worker. `on_status` is called from the worker thread after every round.
    pub fn start(
        config: SyncConfig,
        on_status: impl Fn(SyncStatus) + Send + 'static,
    ) -> std::io::Result<SyncHandle> {
        let wake = Arc::new(Notify::new());
        let stopping = Arc::new(AtomicBool::new(false));
        let (w, s) = (wake.clone(), stopping.clone());
        let thread = std::thread::Builder::new()
            .name("laituri-sync".into())
            .spawn(move || {
                let rt = match runtime() {
                    Ok(rt) => rt,
                    Err(e) => {
                        tracing::error!("sync worker could not start its runtime: {e}");
                        return;
                    }
                };
                rt.block_on(Worker::new(config, w, s, Box::new(on_status)).run());
            })?;
        Ok(SyncHandle {
            wake,
            stopping,
            thread: Some(thread),
        })
    }

    /// Asks the worker to push now (a new event was committed).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// A cheap handle the UI can keep to wake the worker.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.wake.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SyncHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

type StatusFn = Box<dyn Fn(SyncStatus) + Send>;

struct Worker {
    config: SyncConfig,
    wake: Arc<Notify>,
    stopping: Arc<AtomicBool>,
    on_status: StatusFn,
    http: reqwest::Client,
    failures: u32,
    stopped_reason: Option<SyncProblem>,
    /// The first seq of the batch being pushed in this round, while it is.
    pushing: Option<u64>,
    /// The first seq of a batch that failed, and in how many rounds in a row.
    failed_batch: Option<(u64, u32)>,
    /// Events in the next push: halved after a push got no answer, doubled back up to
    /// `batch_size` after one was recorded, so a batch too big for a slow link within the
    /// request timeout is not resent whole forever.
    batch_limit: u32,
}

/// Why one round ended early.
enum RoundError {
    Transient(SyncProblem),
    Permanent(SyncProblem),
}

/// The worker's own store failing (busy, full) is retried like the network: the outbox is
/// untouched by a failed write, so nothing is lost by trying again later.
impl From<StoreError> for RoundError {
    fn from(e: StoreError) -> RoundError {
        RoundError::Transient(SyncProblem::Storage(e.to_string()))
    }
}

impl RoundError {
    fn why(&self) -> &SyncProblem {
        match self {
            RoundError::Transient(why) | RoundError::Permanent(why) => why,
        }
    }
}

impl Worker {
    fn new(
        config: SyncConfig,
        wake: Arc<Notify>,
        stopping: Arc<AtomicBool>,
        on_status: StatusFn,
    ) -> Worker {
        // A client that cannot be made (a CA file gone since start-up) stops the worker with the
        // reason; the terminal goes on working offline.
        let (http, stopped_reason) = match http_client(&config) {
            Ok(http) => (http, None),
            Err(e) => (
                reqwest::Client::builder()
                    .tls_certs_only([])
                    .build()
                    .unwrap_or_default(),
                Some(SyncProblem::NoRuntime(format!("{e:#}"))),
            ),
        };
        Worker {
            batch_limit: config.batch_size.max(1),
            config,
            wake,
            stopping,
            on_status,
            http,
            failures: 0,
            stopped_reason,
            pushing: None,
            failed_batch: None,
        }
    }

    async fn run(mut self) {
        let mut store = match Store::open(&self.config.db_path) {
            Ok(s) => s,
            Err(e) => {
                (self.on_status)(SyncStatus {
                    problem: Some(SyncProblem::Storage(e.to_string())),
                    ..SyncStatus::default()
                });
                return;
            }
        };
        while !self.stopping.load(Ordering::SeqCst) {
            let (status, result) = self.round_with_status(&mut store).await;
            let wait = match result {
                Ok(()) => {
                    self.failures = 0;
                    self.config.poll_interval
                }
                Err(RoundError::Transient(why)) => {
                    self.failures = self.failures.saturating_add(1);
                    tracing::info!("sync: {why}; retrying");
                    self.backoff()
                }
                Err(RoundError::Permanent(why)) => {
                    tracing::warn!("sync stopped: {why}");
                    self.stopped_reason = Some(why);
                    self.config.max_backoff
                }
            };
            (self.on_status)(status);
            if self.stopping.load(Ordering::SeqCst) {
                break;
            }
            let _ = tokio::time::timeout(wait, self.wake.notified()).await;
        }
    }

    /// One round, and the status it leaves for the header.
    async fn round_with_status(
        &mut self,
        store: &mut Store,
    ) -> (SyncStatus, Result<(), RoundError>) {
        let mut status = SyncStatus::default();
        self.pushing = None;
        let result = self.round(store, &mut status).await;
        match &result {
            Ok(()) => status.online = true,
            Err(e) => status.problem = Some(self.stuck_or(e.why().clone())),
        }
        status.enrolled = store.device().map(|d| d.token.is_some()).unwrap_or(false);
        status.counts = store.counts().unwrap_or_default();
        (status, result)
    }

    /// The round's problem, or, when the same batch failed in [`STUCK_ROUNDS`] rounds in a row,
    /// the queue as stuck with it: retrying goes on, but a person should know.
    fn stuck_or(&mut self, problem: SyncProblem) -> SyncProblem {
        let Some(first) = self.pushing.take() else {
            return problem;
        };
        let rounds = match self.failed_batch {
            Some((seq, n)) if seq == first => n.saturating_add(1),
            _ => 1,
        };
        self.failed_batch = Some((first, rounds));
        if rounds >= STUCK_ROUNDS {
            SyncProblem::Stuck {
                rounds,
                reason: Box::new(problem),
            }
        } else {
            problem
        }
    }

    /// Full jitter: a random delay up to the exponential bound, so a room of terminals coming
    /// back from a Wi-Fi drop does not hit the server in step.
    fn backoff(&self) -> Duration {
        let exp = self.config.min_backoff.as_millis() as u64 * (1u64 << self.failures.min(16));
        let cap = exp.min(self.config.max_backoff.as_millis() as u64).max(1);
        Duration::from_millis(rand::rng().random_range(cap / 2..=cap))
    }

    async fn round(
        &mut self,
        store: &mut Store,
        status: &mut SyncStatus,
    ) -> Result<(), RoundError> {
        if let Some(why) = &self.stopped_reason {
            return Err(RoundError::Permanent(why.clone()));
        }
        let mut token = self.ensure_enrolled(store).await?;
        // A continuation asked for before a crash or a lost answer: finished before anything
        // else is sent under either id.
        if let Some(pending) = store.pending_continuation()? {
            token = self.continue_device(store, &token, pending).await?;
            status.problem = Some(SyncProblem::Restored);
        }
        let mut continued = false;
        while let Some(from) = self.push_all(store, &token).await? {
            if continued {
                // A new device id has no history to differ from: a faulty server.
                return Err(RoundError::Transient(push_fault(Fault::Garbage(
                    "a new device's history differs".into(),
                ))));
            }
            continued = true;
            let pending = store.begin_continuation(from)?;
            token = self.continue_device(store, &token, pending).await?;
            status.problem = Some(SyncProblem::Restored);
        }
        status.labels_changed = self.labels(store, &token).await?;
        let leased = self.leases(store, &token).await?;
        status.master_data_changed = self.pull_all(store, &token).await? || leased;
        Ok(())
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.config.server_url.trim_end_matches('/'), path)
    }

    async fn ensure_enrolled(&mut self, store: &mut Store) -> Result<String, RoundError> {
        let device = store.device()?;
        if let Some(token) = device.token {
            return Ok(token);
        }
        let Some(code) = self.config.enrolment_code.clone() else {
            return Err(RoundError::Permanent(SyncProblem::NotEnrolled));
        };
        let req = EnrolRequest {
            enrolment_code: code,
            device_id: device.device_id,
            device_name: self.config.device_name.clone(),
            protocol_version: PROTOCOL_VERSION,
        };
        let (status, bytes) = call(self.http.post(self.url(paths::ENROL)).json(&req)).await?;
        if status != 200 {
            let error = serde_json::from_slice::<ApiError>(&bytes).ok();
            if error.as_ref().is_some_and(|e| e.code == "device_continued") {
                // Another copy of this database went on under a new device id already.
                return Err(RoundError::Permanent(SyncProblem::OlderCopy));
            }
            let msg = error
                .map(|e| e.message)
                .unwrap_or_else(|| format!("HTTP {status}"));
            return Err(if (400..500).contains(&status) && status != 429 {
                RoundError::Permanent(SyncProblem::EnrolmentRefused(msg))
            } else {
                RoundError::Transient(SyncProblem::Server {
                    step: SyncStep::Enrol,
                    fault: Fault::Refused {
                        status,
                        reason: msg,
                    },
                })
            });
        }
        let enrolled: EnrolResponse =
            serde_json::from_slice(&bytes).map_err(|e| garbage(SyncStep::Enrol, &e))?;
        store.set_enrolment(
            &enrolled.token,
            &enrolled.warehouse_id,
            &enrolled.warehouse_name,
        )?;
        tracing::info!(warehouse = %enrolled.warehouse_name, "enrolled");
        Ok(enrolled.token)
    }

    /// Pushes the outbox until it is empty. `Some(local seq)` when the server's history of this
    /// device id differs from this database's from that event on (the database was restored
    /// from a backup): what came before it is recorded, nothing after.
    async fn push_all(
        &mut self,
        store: &mut Store,
        token: &str,
    ) -> Result<Option<u64>, RoundError> {
        let device_id = store.device()?.device_id;
        loop {
            if self.stopping.load(Ordering::SeqCst) {
                return Ok(None);
            }
            let events = store.pending_batch(self.batch_limit)?;
            if events.is_empty() {
                self.pushing = None;
                return Ok(None);
            }
            self.pushing = Some(events[0].seq);
            let body = PushRequest { device_id, events };
            let request = self.http.post(self.url(paths::PUSH)).bearer_auth(token);
            let (status, bytes) = match call(request.json(&body)).await {
                Ok(answer) => answer,
                Err(e) => {
                    self.batch_limit = (body.events.len() as u32 / 2).max(1);
                    return Err(e);
                }
            };
            let api_error = (status != 200)
                .then(|| serde_json::from_slice::<ApiError>(&bytes).ok())
                .flatten();
            match classify(status, api_error.as_ref()) {
                PushVerdict::Recorded => {
                    let answer: PushResponse =
                        serde_json::from_slice(&bytes).map_err(|e| garbage(SyncStep::Push, &e))?;
                    if let Some(at) = answer.diverged_at {
                        return self.diverged(store, &body.events, &answer, at).map(Some);
                    }
                    let (results, acked_through) = answered(&body.events, &answer);
                    store.record_push_results(&results, acked_through)?;
                    if acked_through >= body.events[0].seq {
                        self.failed_batch = None;
                    }
                    self.batch_limit = self
                        .batch_limit
                        .saturating_mul(2)
                        .min(self.config.batch_size.max(1));
                    if acked_through < body.events[0].seq {
                        return Err(RoundError::Transient(push_fault(Fault::NothingRecorded)));
                    }
                }
                PushVerdict::ResendFrom(seq) if seq == body.events[0].seq => {
                    // We sent exactly what it asks for: a faulty server; do not loop on it.
                    return Err(RoundError::Transient(push_fault(Fault::AsksAgain(seq))));
                }
                PushVerdict::ResendFrom(seq) => {
                    tracing::warn!(
                        expected = seq,
                        "server reported a gap; resending from there"
                    );
                    if seq > body.events[0].seq {
                        // The server claims to have more than we sent: a server from another
                        // history. Nothing sensible to resend; a person must look.
                        return Err(RoundError::Permanent(SyncProblem::HistoryMismatch {
                            expected: seq,
                            sent: body.events[0].seq,
                        }));
                    }
                    store.rewind_acked_through(seq.saturating_sub(1))?;
                }
                PushVerdict::Reenrol => return Err(token_refused(store)?),
                PushVerdict::TooLarge if body.events.len() > 1 => {
                    self.batch_limit = (body.events.len() as u32 / 2).max(1);
                    tracing::info!(
                        batch = self.batch_limit,
                        "push too large; halving the batch"
                    );
                }
                PushVerdict::TooLarge => {
                    return Err(RoundError::Transient(push_fault(Fault::Http(413))));
                }
                PushVerdict::Stop(why) => return Err(RoundError::Permanent(why)),
                PushVerdict::Retry(why) => return Err(RoundError::Transient(why)),
            }
        }
    }

    /// A push answered that the server's history of this device id differs from seq `at` of the
    /// batch on: records what came before, and answers the local seq of `at`. The events from
    /// there stay pending, to go under a new device id.
    fn diverged(
        &mut self,
        store: &mut Store,
        sent: &[Event],
        answer: &PushResponse,
        at: u64,
    ) -> Result<u64, RoundError> {
        let first = sent.first().map_or(1, |e| e.seq);
        let last = sent.last().map_or(0, |e| e.seq);
        if at < first || at > last {
            return Err(RoundError::Transient(push_fault(Fault::Garbage(format!(
                "a divergence at seq {at} outside the batch {first}..={last}"
            )))));
        }
        let (results, acked_through) = answered(sent, answer);
        let before: Vec<EventResult> = results.into_iter().filter(|r| r.seq < at).collect();
        store.record_push_results(&before, acked_through.min(at - 1))?;
        self.failed_batch = None;
        let local = store.lineage()?.seq_base + at;
        tracing::warn!(
            seq = at,
            local,
            "the server has other events of this device id: this database was restored from a \
             backup; its events from here go under a new device id"
        );
        Ok(local)
    }

    /// Asks the server to continue this device as the new id of `pending`, with the current
    /// (old) token, and takes the new id and token in one transaction. Answers the new token.
    async fn continue_device(
        &mut self,
        store: &mut Store,
        token: &str,
        pending: PendingContinuation,
    ) -> Result<String, RoundError> {
        let req = ContinueRequest {
            device_id: pending.device_id,
            device_name: self.config.device_name.clone(),
            protocol_version: PROTOCOL_VERSION,
        };
        let request = self.http.post(self.url(paths::CONTINUE)).bearer_auth(token);
        let (status, bytes) = call(request.json(&req)).await?;
        let refused = || {
            let (code, reason) = serde_json::from_slice::<ApiError>(&bytes)
                .map(|e| (e.code, e.message))
                .unwrap_or_else(|_| (String::new(), format!("HTTP {status}")));
            (
                code,
                SyncProblem::Server {
                    step: SyncStep::Enrol,
                    fault: Fault::Refused { status, reason },
                },
            )
        };
        match status {
            200 => {
                let answer: ContinueResponse =
                    serde_json::from_slice(&bytes).map_err(|e| garbage(SyncStep::Enrol, &e))?;
                if answer.device_id != pending.device_id {
                    return Err(RoundError::Transient(SyncProblem::Server {
                        step: SyncStep::Enrol,
                        fault: Fault::Garbage(format!(
                            "continued as {} when {} was asked for",
                            answer.device_id, pending.device_id
                        )),
                    }));
                }
                store.finish_continuation(answer.device_id, &answer.token, answer.last_seq)?;
                tracing::warn!(
                    old = %answer.continues,
                    new = %answer.device_id,
                    from_local_seq = pending.from_seq,
                    "restored from a backup: continuing under a new device id"
                );
                Ok(answer.token)
            }
            409 => match refused() {
                (code, why) if code == "device_exists" => {
                    store.new_continuation_id()?;
                    Err(RoundError::Transient(why))
                }
                (code, _) if code == "device_continued" => {
                    Err(RoundError::Permanent(SyncProblem::OlderCopy))
                }
                (_, why) => Err(RoundError::Transient(why)),
            },
            408 | 429 | 500..=599 => Err(RoundError::Transient(SyncProblem::Server {
                step: SyncStep::Enrol,
                fault: Fault::Http(status),
            })),
            _ => Err(RoundError::Permanent(refused().1)),
        }
    }

    /// Renews every lease the device holds and takes the tasks the operator asked for. A lease
    /// the server no longer grants is recorded as lost with the reason; a task another device
    /// holds is answered as refused, for the terminal to say so. Returns whether anything
    /// changed that a screen shows.
    async fn leases(&mut self, store: &mut Store, token: &str) -> Result<bool, RoundError> {
        let held = store.held_leases()?;
        let mut changed = false;
        if !held.is_empty() {
            let body = RenewRequest {
                leases: held
                    .iter()
                    .map(|l| TaskClaim {
                        task_id: l.task_id.clone(),
                        token: l.token,
                    })
                    .collect(),
            };
            let request = self.http.post(self.url(paths::RENEW)).bearer_auth(token);
            let (status, bytes) = call(request.json(&body)).await?;
            match status {
                200 => {
                    let answer: RenewResponse =
                        serde_json::from_slice(&bytes).map_err(|e| garbage(SyncStep::Renew, &e))?;
                    let lost: Vec<(String, String)> = answer
                        .lost
                        .into_iter()
                        .map(|l| (l.task_id, l.reason))
                        .collect();
                    changed |= !lost.is_empty();
                    store.record_renewal(&answer.renewed, &lost)?;
                }
                401 | 403 => return Err(token_refused(store)?),
                _ => {
                    return Err(RoundError::Transient(SyncProblem::Server {
                        step: SyncStep::Renew,
                        fault: Fault::Http(status),
                    }));
                }
            }
        }
        for task_id in store.leases_wanted()? {
            let body = LeaseRequest {
                task_id: Some(task_id.clone()),
                kind: None,
            };
            let request = self.http.post(self.url(paths::LEASE)).bearer_auth(token);
            let (status, bytes) = call(request.json(&body)).await?;
            match status {
                200 => {
                    let answer: LeaseResponse =
                        serde_json::from_slice(&bytes).map_err(|e| garbage(SyncStep::Lease, &e))?;
                    store.answer_wanted(&task_id, Some(&answer.packet), None)?;
                }
                401 | 403 => return Err(token_refused(store)?),
                400..=499 if status != 408 && status != 429 => {
                    let error = serde_json::from_slice::<ApiError>(&bytes).ok();
                    let (code, message) = error
                        .map(|e| (e.code, e.message))
                        .unwrap_or_else(|| ("refused".into(), format!("HTTP {status}")));
                    store.answer_wanted(&task_id, None, Some((&code, &message)))?;
                }
                _ => {
                    tracing::info!(task = %task_id, status, "taking a task failed");
                    return Err(RoundError::Transient(SyncProblem::Server {
                        step: SyncStep::Lease,
                        fault: Fault::Http(status),
                    }));
                }
            }
            changed = true;
        }
        Ok(changed)
    }

    /// Asks the server for the labels of the orders this station finished packing and has no
    /// labels of yet (or asked again for a reprint). Returns whether any arrived or were refused.
    ///
    /// An order the server has not heard packed yet (`not_packed`), a carrier that cannot be
    /// reached (`carrier_unavailable`) or no answer at all leave it "awaiting label" until the
    /// next round, without a sync problem: the work is saved and nothing waits on a person. A
    /// refusal for good (`carrier_refused`, `personal_data_erased`, `unknown_order`) is kept
    /// with the server's reason for the station to show. Logs name the order id and the code
    /// only: a label and a carrier's reason may carry a customer's name or address.
    async fn labels(&mut self, store: &mut Store, token: &str) -> Result<bool, RoundError> {
        const PER_ROUND: u32 = 50;
        let mut changed = false;
        for order_id in store.shipments_to_ask(PER_ROUND)? {
            if self.stopping.load(Ordering::SeqCst) {
                break;
            }
            let request = self.http.post(self.url(paths::LABELS)).bearer_auth(token);
            let (status, bytes) = match call(request.json(&LabelRequest { order_id })).await {
                Ok(answer) => answer,
                Err(e) => {
                    tracing::info!(order = %order_id, "labels not reached: {}", e.why());
                    break;
                }
            };
            match status {
                200 => match serde_json::from_slice::<ShipmentLabels>(&bytes) {
                    Ok(labels) if labels.order_id == order_id => {
                        store.record_labels(&labels)?;
                        changed = true;
                    }
                    _ => tracing::warn!(order = %order_id, "an unreadable answer to labels"),
                },
                401 | 403 => return Err(token_refused(store)?),
                _ => {
                    let error = serde_json::from_slice::<ApiError>(&bytes).ok();
                    let code = error.as_ref().map_or("", |e| e.code.as_str());
                    if matches!(
                        code,
                        "carrier_refused" | "personal_data_erased" | "unknown_order"
                    ) {
                        let reason = error.as_ref().map_or("", |e| e.message.as_str());
                        store.record_label_refusal(order_id, code, reason)?;
                        changed = true;
                    }
                    tracing::info!(order = %order_id, status, code, "no labels yet");
                }
            }
        }
        Ok(changed)
    }

    /// Pulls pages until the server has no more. Returns whether anything changed.
    async fn pull_all(&mut self, store: &mut Store, token: &str) -> Result<bool, RoundError> {
        let mut changed = false;
        let mut pulled = 0usize;
        loop {
            let cursor = store.pull_cursor()?;
            let url = format!(
                "{}?cursor={cursor}&limit={}",
                self.url(paths::PULL),
                self.config.pull_limit
            );
            let (status, bytes) = call(self.http.get(url).bearer_auth(token)).await?;
            if classify(status, None) == PushVerdict::Reenrol {
                return Err(token_refused(store)?);
            }
            if status != 200 {
                return Err(RoundError::Transient(SyncProblem::Server {
                    step: SyncStep::Pull,
                    fault: Fault::Http(status),
                }));
            }
            let page: PullResponse =
                serde_json::from_slice(&bytes).map_err(|e| garbage(SyncStep::Pull, &e))?;
            // Another epoch: the server's database was restored from a backup, and cursors of
            // the log this terminal pulled mean nothing in the new one. Start again from 0.
            let epoch = store.pull_epoch()?;
            if page.epoch != epoch && !page.epoch.is_empty() {
                if epoch.is_empty() {
                    // The first epoch this terminal hears of: nothing to compare with.
                    store.set_pull_epoch(&page.epoch)?;
                } else {
                    tracing::warn!(old = %epoch, new = %page.epoch, "the server's change log has a new epoch; pulling again from the start");
                    store.restart_pull(&page.epoch)?;
                    changed = true;
                    continue;
                }
            }
            if page.next_cursor < cursor {
                return Err(RoundError::Transient(SyncProblem::Server {
                    step: SyncStep::Pull,
                    fault: Fault::CursorBackwards,
                }));
            }
            if !page.changes.is_empty() || page.next_cursor != cursor {
                // A page in one transaction held the store's write lock as long as the page took
                // to apply (up to a second on a large store), and a scan's commit waited behind
                // it. So: slices of a few hundred changes, each committed with its cursor
                // (without an fsync of its own), and after each a pause at least as long as the
                // slice took. A scan that finds the lock taken retries after 1, 2, 5, 10 ms
                // (SQLite's busy handler); the pause lets that retry find the lock free, so a
                // scan waits about one slice at most.
                const SLICE: usize = 200;
                const MIN_PAUSE: Duration = Duration::from_millis(2);
                for (slice, slice_cursor) in
                    Store::pull_slices(&page.changes, page.next_cursor, SLICE)
                {
                    let started = std::time::Instant::now();
                    store.apply_pulled_slice(slice, slice_cursor)?;
                    changed |= !slice.is_empty();
                    tokio::time::sleep(started.elapsed().max(MIN_PAUSE)).await;
                    if self.stopping.load(Ordering::SeqCst) {
                        return Ok(changed);
                    }
                }
            }
            pulled += page.changes.len();
            if !page.has_more {
                store.set_caught_up(crate::store::now_ms())?;
            }
            if !page.has_more || self.stopping.load(Ordering::SeqCst) {
                // Returnable orders whose retention ended are forgotten by the device's clock,
                // with or without a server.
                store.forget_expired_returnables(crate::store::now_ms())?;
                if pulled >= LARGE_PULL {
                    // A large pull leaves a write-ahead log as big as what it wrote, and every
                    // read of the scan path then searches it. Copy it into the database now, on
                    // this thread; a passive checkpoint never blocks the scan's connection.
                    store.checkpoint()?;
                }
                return Ok(changed);
            }
        }
    }
}

/// Changes in one pull past which the worker checkpoints the write-ahead log afterwards.
const LARGE_PULL: usize = 5_000;

/// The server no longer knows this terminal's token: forget it, so the next round enrols again
/// (same device id, so the server continues the same history).
fn token_refused(store: &mut Store) -> Result<RoundError, StoreError> {
    store.clear_token()?;
    Ok(RoundError::Transient(SyncProblem::Reenrolling))
}

/// An answer the protocol does not allow, from one step: tried again later.
fn garbage(step: SyncStep, e: &serde_json::Error) -> RoundError {
    RoundError::Transient(SyncProblem::Server {
        step,
        fault: Fault::Garbage(e.to_string()),
    })
}

/// Sends one request with the protocol header; answers its status and body. A request that got
/// no complete answer is a transient failure: the events stay in the outbox.
async fn call(request: reqwest::RequestBuilder) -> Result<(u16, Vec<u8>), RoundError> {
    let resp = request
        .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
        .send()
        .await
        .map_err(|e| RoundError::Transient(offline(&e)))?;
    let status = resp.status().as_u16();
    let body = resp
        .bytes()
        .await
        .map_err(|e| RoundError::Transient(offline(&e)))?;
    Ok((status, body.to_vec()))
}

/// The worker's HTTP client: the platform's trusted roots, and the certificates of `ca_file`.
pub fn http_client(config: &SyncConfig) -> anyhow::Result<reqwest::Client> {
    let roots = match &config.ca_file {
        Some(path) => read_ca_file(path)?,
        None => Vec::new(),
    };
    let builder = || {
        reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout.min(Duration::from_secs(3)))
    };
    builder()
        .tls_certs_merge(roots.clone())
        .build()
        .or_else(|e| {
            // No platform roots at all (a minimal install without ca-certificates) and no
            // ca_file: plain http still works, and an https server is reported as not trusted.
            tracing::warn!(
                "no trusted roots on this device ({e}): install ca-certificates or set ca_file"
            );
            builder().tls_certs_only(roots).build()
        })
        .map_err(|e| {
            anyhow::anyhow!("the HTTP client could not be made ({e}); check ca_file if it is set")
        })
}

/// The certificates of a CA file (PEM, one or more `BEGIN CERTIFICATE` blocks). An error names
/// the file and says what to do.
pub fn read_ca_file(path: &Path) -> anyhow::Result<Vec<reqwest::Certificate>> {
    use anyhow::Context;
    let pem = std::fs::read(path).with_context(|| {
        format!(
            "reading the CA file {} (ca_file): set ca_file to a readable PEM file of the site's \
             CA certificate, or remove it to trust the platform's roots only",
            path.display()
        )
    })?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
        anyhow::anyhow!(
            "the CA file {} (ca_file) is not valid PEM ({e}): set ca_file to the site's CA \
             certificate in PEM",
            path.display()
        )
    })?;
    if certs.is_empty() {
        anyhow::bail!(
            "the CA file {} (ca_file) holds no PEM certificate (-----BEGIN CERTIFICATE-----): set \
             ca_file to the site's CA certificate, not its key or the server's own files",
            path.display()
        );
    }
    Ok(certs)
}

fn offline(e: &reqwest::Error) -> SyncProblem {
    if let Some(detail) = untrusted_certificate(e) {
        SyncProblem::UntrustedCertificate(detail)
    } else if e.is_timeout() {
        SyncProblem::NoAnswer
    } else if e.is_connect() {
        SyncProblem::Unreachable
    } else {
        SyncProblem::Offline(e.to_string())
    }
}

/// What rustls said of the server's certificate, when that is why the request failed. The
/// rustls error is the payload of an I/O error, which `source()` skips: the walk goes into it.
fn untrusted_certificate(e: &reqwest::Error) -> Option<String> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(e) = cause {
        if let Some(tls @ rustls::Error::InvalidCertificate(_)) = e.downcast_ref::<rustls::Error>()
        {
            return Some(tls.to_string());
        }
        cause = match e.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: &str, expected_seq: Option<u64>) -> ApiError {
        ApiError {
            code: code.into(),
            message: "m".into(),
            expected_seq,
        }
    }

    #[test]
    fn push_answers_are_classified() {
        let cases: Vec<(u16, Option<ApiError>, PushVerdict)> = vec![
            (200, None, PushVerdict::Recorded),
            (409, Some(err("gap", Some(7))), PushVerdict::ResendFrom(7)),
            (401, None, PushVerdict::Reenrol),
            (403, Some(err("forbidden", None)), PushVerdict::Reenrol),
            (413, None, PushVerdict::TooLarge),
            (
                426,
                Some(err("protocol_version", None)),
                PushVerdict::Stop(SyncProblem::OtherProtocol("m".into())),
            ),
        ];
        for (status, e, want) in cases {
            assert_eq!(classify(status, e.as_ref()), want, "HTTP {status}");
        }
        for status in [408, 429, 500, 502, 503, 504, 400, 404] {
            assert!(
                matches!(classify(status, None), PushVerdict::Retry(_)),
                "HTTP {status} must be retried, never dropped"
            );
        }
        assert!(matches!(classify(409, None), PushVerdict::Retry(_)));
    }

    #[test]
    fn a_push_answer_acknowledges_only_the_events_it_answers() {
        use laituri_protocol::{EventBody, EventOutcome};
        let body = EventBody::UnknownBarcode {
            receipt_id: uuid::Uuid::nil(),
            merchant_id: "M".into(),
            raw: "x".into(),
        };
        let device = uuid::Uuid::now_v7();
        let sent: Vec<Event> = (4..=6)
            .map(|seq| Event::new(uuid::Uuid::now_v7(), device, seq, "op", 0, &body))
            .collect();
        let result = |e: &Event| EventResult {
            seq: e.seq,
            event_id: e.event_id,
            outcome: EventOutcome::Applied,
        };
        let all: Vec<EventResult> = sent.iter().map(result).collect();
        let answer = |acked_through, results: Vec<EventResult>| PushResponse {
            acked_through,
            results,
            diverged_at: None,
        };
        // (answer, results kept, acked_through recorded)
        let cases = [
            (answer(6, all.clone()), 3, 6),
            // An earlier, bigger push was applied but its answer lost: no further than the batch.
            (answer(40, all.clone()), 3, 6),
            // Says everything is recorded but answers nothing: nothing is acknowledged.
            (answer(1_000_000, vec![]), 0, 3),
            // A stale answer to other events.
            (
                answer(
                    3,
                    vec![EventResult {
                        seq: 3,
                        event_id: uuid::Uuid::now_v7(),
                        outcome: EventOutcome::Applied,
                    }],
                ),
                0,
                3,
            ),
            // A result with the right seq but another event's id is not this event's.
            (
                answer(
                    6,
                    vec![
                        all[0].clone(),
                        EventResult {
                            event_id: uuid::Uuid::now_v7(),
                            ..all[1].clone()
                        },
                        all[2].clone(),
                    ],
                ),
                2,
                4,
            ),
        ];
        for (i, (a, kept, acked)) in cases.into_iter().enumerate() {
            let (results, through) = answered(&sent, &a);
            assert_eq!((results.len(), through), (kept, acked), "case {i}");
        }
    }
}
