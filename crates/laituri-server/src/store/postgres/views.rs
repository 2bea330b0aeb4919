//! [`super::Postgres`] as [`crate::store::Views`]: tasks, stock, receipts and exceptions.
