//! The packing station's devices, without any UI: the network label printer ([`printer`]) and
//! the scale on a serial port ([`scale`]).
//!
//! Every call here blocks (std I/O with timeouts) and returns within the timeouts it was given:
//! the terminal calls them from a worker thread, never from the UI thread. Errors say what a
//! person at the station does next, and nothing here ever holds on to, logs or reports a label's
//! contents: a shipping label carries a customer's name and address.

pub mod printer;
pub mod scale;
