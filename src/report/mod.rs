//! Report stage: turning inspection and audit results into output for people and machines.

pub mod show;
