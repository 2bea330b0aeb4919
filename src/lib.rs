//! The Laituri terminal as a library, so that integration tests drive the same code the binary runs.

pub mod scan_cli;
