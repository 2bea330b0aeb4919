//! Laituri's domain: the pure rules of the warehouse floor.
//!
//! This crate owns scan interpretation and the state machines of the floor flows. It must never do
//! I/O: no SQLite, no HTTP, no Slint, no clock reads (callers pass "today" and "now" in). That keeps
//! every rule testable with plain case tables and reusable by the terminal, the server and the tools.

pub mod calendar;
pub mod carton;
pub mod counting;
pub mod flow;
pub mod layout;
pub mod moving;
pub mod packing;
pub mod picking;
pub mod putaway;
pub mod receiving;
pub mod returns;
pub mod route;
pub mod scan;
