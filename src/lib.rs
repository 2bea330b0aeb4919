//! The Laituri terminal as a library, so that integration tests drive the same code the binary runs.
//!
//! Codemap: [`terminal`] is the core (controllers, no Slint); [`ui`] the adapters between Slint
//! and the core; [`store`] the durable local SQLite store and outbox; [`sync`] the worker that
//! talks to the central server; [`feedback`] the sounds; [`config`] files and settings; [`app`]
//! start-up; [`demo`] the demo with an embedded server; [`labels`] barcodes and ZPL; [`station`]
//! the packing station's printer thread;
//! [`scan_cli`] the `laituri scan` command.

pub mod app;
pub mod config;
pub mod demo;
pub mod feedback;
pub mod i18n;
pub mod labels;
pub mod scan_cli;
pub mod station;
pub mod store;
pub mod sync;
pub mod terminal;
pub mod ui;
