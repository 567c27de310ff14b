//! binaudit's integration tests: one test binary, one module per area.

mod build_helper;
mod support;
