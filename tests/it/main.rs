//! binaudit's integration tests: one test binary, one module per area.

// A failed unwrap is a failed test, with the location in the message.
#![allow(clippy::unwrap_used)]

mod advisory_db;
mod build_helper;
mod cargo_audit;
mod cli;
mod deployed;
mod exact;
mod fuzz_regressions;
mod hardening;
mod http;
mod image;
mod recover;
mod reports;
mod roundtrip;
mod samples;
mod scan;
mod support;
mod targets;
mod yanked;
