//! The packing station's printer, on a thread of its own: labels that arrived print
//! themselves, and the UI thread never waits for a printer.
//!
//! The thread owns its own connection to the store file. Poked (a sync round brought labels, a
//! reprint was asked for), it prints every label waiting, one at a time, with
//! [`laituri_station::printer::print`]: a printed label's bytes (the customer's name and address)
//! are deleted at once; a failed print keeps the label with why (a code the screen renders in
//! the packer's language, [`crate::terminal::messages::print_trouble`]) for a reprint, and stops
//! the run, so a printer that does not answer is not waited for once per label. After each
//! label it calls `on_change` (the UI refreshes from the store). Nothing here logs a label.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;

use laituri_station::printer::{PrintError, PrinterConfig, print};

use crate::store::Store;

/// The code kept with a label whose print failed.
pub fn print_error_code(e: &PrintError) -> &'static str {
    match e {
        PrintError::BadAddress { .. } => "bad_address",
        PrintError::UnknownHost { .. } => "unknown_host",
        PrintError::NotAnswering { .. } => "not_answering",
        PrintError::PaperOut { .. } => "paper_out",
        PrintError::HeadOpen { .. } => "head_open",
        PrintError::RibbonOut { .. } => "ribbon_out",
        PrintError::Paused { .. } => "paused",
        PrintError::Stalled { .. } => "stalled",
        PrintError::Broken { .. } => "broken",
    }
}

/// The printer thread; stops when dropped.
pub struct PrinterHandle {
    poke: mpsc::Sender<()>,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl PrinterHandle {
    /// Starts the thread for the store at `db` and the station's printer.
    pub fn start(
        db: PathBuf,
        printer: PrinterConfig,
        on_change: impl Fn() + Send + 'static,
    ) -> std::io::Result<PrinterHandle> {
        let (poke, poked) = mpsc::channel::<()>();
        let stopping = Arc::new(AtomicBool::new(false));
        let stop = stopping.clone();
        let thread = std::thread::Builder::new()
            .name("laituri-printer".into())
            .spawn(move || {
                let mut store = match Store::open(&db) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::error!("the printer thread cannot open the store: {e}");
                        return;
                    }
                };
                while poked.recv().is_ok() {
                    while poked.try_recv().is_ok() {}
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    print_waiting(&mut store, &printer, &on_change);
                }
            })?;
        Ok(PrinterHandle {
            poke,
            stopping,
            thread: Some(thread),
        })
    }

    /// Asks the thread to print what waits.
    pub fn poke(&self) {
        let _ = self.poke.send(());
    }

    /// A poke the terminal core keeps.
    pub fn poker(&self) -> Box<dyn Fn()> {
        let poke = self.poke.clone();
        Box::new(move || {
            let _ = poke.send(());
        })
    }
}

impl Drop for PrinterHandle {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = self.poke.send(());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Prints every label waiting, until one fails.
fn print_waiting(store: &mut Store, printer: &PrinterConfig, on_change: &dyn Fn()) {
    loop {
        let label = match store.labels_to_print(1) {
            Ok(mut l) if !l.is_empty() => l.remove(0),
            Ok(_) => return,
            Err(e) => {
                tracing::warn!("labels to print not read: {e}");
                return;
            }
        };
        let address = printer.address.trim().to_string();
        let result = print(printer, label.zpl.as_bytes());
        let failed = result.is_err();
        let recorded = match &result {
            Ok(_) => {
                tracing::info!(order = %label.order_id, parcel = label.number, "label printed");
                store.label_printed(&label.order_id, label.number, &address)
            }
            Err(e) => {
                tracing::warn!(order = %label.order_id, parcel = label.number, "label not printed: {e}");
                store.label_print_failed(
                    &label.order_id,
                    label.number,
                    print_error_code(e),
                    &address,
                )
            }
        };
        if let Err(e) = recorded {
            tracing::warn!("a print's outcome not recorded: {e}");
            return;
        }
        on_change();
        if failed {
            return;
        }
    }
}
