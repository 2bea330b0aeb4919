//! [`super::Postgres`] as [`crate::store::MasterData`]: master data in and out, enrolment codes.
