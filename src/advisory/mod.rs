//! Advisory stage: the RustSec advisory database (and OSV JSON), loaded into [`model::Advisory`]
//! values and indexed by package name.
//!
//! - [`model`]: the advisory types every later stage uses, free of any dependency's types.
//! - [`versions`]: version requirements as intervals (matching and fix advice).
//! - [`db`]: opening a database directory (either layout), lookup, age, load errors.
//! - `rustsec`: the RustSec Markdown/TOML format, through the `rustsec` crate.
//! - `osv`: OSV JSON.
//! - `index`: the cache that makes a repeated open read one file instead of ~1,200.
//! - [`fetch`]: cloning and updating the database with git.

pub mod db;
pub mod fetch;
mod index;
pub mod model;
mod osv;
mod rustsec;
pub mod versions;

/// The largest advisory file read (4 MiB; RustSec's and OSV's files are a few kilobytes). A
/// larger one, or one that is not a regular file, is a load error naming the file.
pub const MAX_ADVISORY_FILE_BYTES: u64 = 4 << 20;

pub use db::{
    default_cache_dir, default_db_path, Database, Date, DbError, DbInfo, GitCommit, Layout,
    LoadError, OpenOptions, DEFAULT_MAX_AGE,
};
pub use fetch::{fetch_or_update, needs_refresh, FetchError, FetchOutcome, DEFAULT_URL};
pub use model::{Advisory, AdvisoryKind, AffectedVersions, Cvss, Severity};

/// Why the bytes of one advisory file could not be parsed (the reason a [`LoadError`] gives).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

/// Parses the text of one RustSec advisory file (`RUSTSEC-*.md`: TOML front matter, then
/// Markdown) on its own. [`Database::open`] also checks that the file sits where its id and
/// package say and skips placeholders; this does not.
pub fn parse_rustsec(text: &str) -> Result<Advisory, ParseError> {
    rustsec::parse(text).map_err(ParseError)
}

/// Parses one OSV JSON record; a record about no crates.io package yields no advisories.
pub fn parse_osv(bytes: &[u8]) -> Result<Vec<Advisory>, ParseError> {
    osv::parse(bytes).map_err(ParseError)
}
