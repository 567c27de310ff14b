//! binaudit: which crates are inside this executable, and are any of them vulnerable?
//!
//! The library is organised as a pipeline, one module per stage:
//!
//! - [`extract`]: untrusted bytes in, the location of the manifest section in each architecture
//!   image out. The only code that parses container formats.
//! - [`decode`]: section bytes to a validated [`linker_section::Manifest`] under [`decode::Limits`].
//! - [`binary`]: runs both for one file, reading only headers and the one section.
//! - [`advisory`]: the RustSec advisory database (and OSV JSON) as [`advisory::Advisory`] values.
//! - [`matching`]: pure logic, packages × advisories × the binary's platform → findings.
//! - [`audit`]: the audited result of all inputs, and the policy that decides the exit status.
//! - [`report`]: output for people and machines.
//!
//! The command-line program (`src/cli/`) is glue over these and owns exit codes.

pub mod advisory;
pub mod audit;
pub mod binary;
pub mod config;
pub mod decode;
pub mod extract;
pub mod lockfile;
pub mod matching;
pub mod recover;
pub mod report;
pub mod scan;
pub mod targets;
pub mod yanked;
