//! binaudit's integration tests: one test binary, one module per area.

// A failed unwrap is a failed test, with the location in the message.
#![allow(clippy::unwrap_used)]

mod build_helper;
mod cli;
mod http;
mod roundtrip;
mod samples;
mod support;
