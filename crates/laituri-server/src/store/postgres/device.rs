//! [`super::Postgres`] as [`crate::store::DeviceSync`]: enrolment, push, pull and leases.
