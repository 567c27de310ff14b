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
//!
//! Reading the manifest a binary embeds, from bytes in memory:
//!
//! ```
//! use binaudit::binary::{inspect_bytes, ImageManifest};
//! use binaudit::decode::Limits;
//!
//! let exe = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/sample-binaries/aarch64-linux-gnu"))?;
//! let report = inspect_bytes(&exe, &Limits::default())?;
//! let image = &report.images[0];
//! assert_eq!(image.image.arch.as_str(), "aarch64");
//! let ImageManifest::Found { decoded, .. } = &image.manifest else { panic!("no manifest") };
//! assert!(decoded.manifest.packages().iter().any(|p| p.name == "smallvec"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

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
mod untrusted;
pub mod yanked;
