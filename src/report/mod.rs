//! Report stage: turning inspection and audit results into output for people and machines.

pub mod cyclonedx;
pub mod json;
pub mod sarif;
pub mod show;
pub mod terminal;
