//! Advisory stage: the RustSec advisory database (and OSV JSON), loaded into [`model::Advisory`]
//! values and indexed by package name.

pub mod model;
pub mod versions;

pub use model::{Advisory, AdvisoryKind, AffectedVersions, Cvss, Severity};
