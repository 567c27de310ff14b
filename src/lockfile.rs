//! `Cargo.lock` as an audit input: every package it pins, with its dependency edges.
//!
//! A lock file has no root and no build/runtime split, and lists every platform's packages, so
//! its audit over-reports compared to a binary's manifest; reports say it is a lock file.

use std::path::Path;

use linker_section::{DependencyKind, Package, Source};

/// Why a lock file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockfileError {
    #[error("cannot read: {0}")]
    Read(std::io::Error),
    #[error("not a valid Cargo.lock: {0}")]
    Parse(String),
}

/// The largest lock file read (64 MiB; the lock files of the largest workspaces are a few MiB).
pub const MAX_LOCKFILE_BYTES: u64 = 64 << 20;

/// Whether a path names a lock file (by name: `Cargo.lock` or `*.lock`).
pub fn looks_like_lockfile(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "lock")
}

/// The packages a lock file pins, sorted by name and version, with dependency indices.
pub fn load(path: &Path) -> Result<Vec<Package>, LockfileError> {
    let text = crate::untrusted::read_limited_text(path, MAX_LOCKFILE_BYTES)
        .map_err(|e| LockfileError::Read(e.into()))?;
    parse(&text)
}

/// Parses lock-file text.
pub fn parse(text: &str) -> Result<Vec<Package>, LockfileError> {
    check_checksums_are_ascii(text)?;
    let lock: cargo_lock::Lockfile = text
        .parse()
        .map_err(|e: cargo_lock::Error| LockfileError::Parse(e.to_string()))?;
    let mut pkgs: Vec<&cargo_lock::Package> = lock.packages.iter().collect();
    pkgs.sort_by(|a, b| {
        a.name
            .as_str()
            .cmp(b.name.as_str())
            .then_with(|| a.version.cmp(&b.version))
    });
    let index_of = |name: &str, version: Option<&semver::Version>| {
        pkgs.iter()
            .position(|p| p.name.as_str() == name && version.is_none_or(|v| &p.version == v))
    };
    let mut out = Vec::with_capacity(pkgs.len());
    for p in &pkgs {
        let mut dependencies: Vec<usize> = p
            .dependencies
            .iter()
            .filter_map(|d| index_of(d.name.as_str(), Some(&d.version)))
            .collect();
        dependencies.sort_unstable();
        dependencies.dedup();
        out.push(Package {
            name: p.name.as_str().to_owned(),
            version: p.version.clone(),
            source: match &p.source {
                None => Source::Local,
                Some(s) if s.is_default_registry() => Source::CratesIo,
                Some(s) if s.is_git() => Source::Git,
                Some(_) => Source::Registry,
            },
            kind: DependencyKind::Runtime,
            dependencies,
            root: false,
        });
    }
    Ok(out)
}

/// Refuses a checksum that is not ASCII before the text reaches `cargo-lock`: version 11 reads
/// a 64-byte checksum two bytes at a time by slicing, which panics when a slice boundary falls
/// inside a character. Checksums are `[[package]] checksum` (lock file format 2 and later) and
/// the values of `[metadata]` (format 1). A syntax error is left for `cargo-lock` to report.
fn check_checksums_are_ascii(text: &str) -> Result<(), LockfileError> {
    let Ok(doc) = text.parse::<toml::Table>() else {
        return Ok(());
    };
    let packages = doc
        .get("package")
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("checksum"));
    let metadata = doc
        .get("metadata")
        .and_then(toml::Value::as_table)
        .into_iter()
        .flat_map(|t| t.values());
    match packages
        .chain(metadata)
        .filter_map(toml::Value::as_str)
        .find(|s| !s.is_ascii())
    {
        Some(bad) => Err(LockfileError::Parse(format!(
            "invalid checksum {bad:?}: expected 64 hex digits"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 4

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["smallvec", "time"]

[[package]]
name = "smallvec"
version = "1.6.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "fe0f37c9e8f3c5a4a66ad655a93c74daac4ad00c441533bf5c6e7990bb42604e"

[[package]]
name = "time"
version = "0.1.0"
source = "git+https://example.org/time#0123456789abcdef0123456789abcdef01234567"
"#;

    #[test]
    fn packages_sources_and_edges() {
        let p = parse(LOCK).unwrap();
        let names: Vec<_> = p
            .iter()
            .map(|p| (p.name.as_str(), p.source.as_str()))
            .collect();
        assert_eq!(
            names,
            [("app", "local"), ("smallvec", "crates.io"), ("time", "git")]
        );
        assert_eq!(p[0].dependencies, [1, 2]);
    }

    #[test]
    fn garbage_is_a_parse_error() {
        assert!(matches!(
            parse("[[package]]\nname = 3"),
            Err(LockfileError::Parse(_))
        ));
    }

    #[test]
    fn lock_files_are_recognised_by_name() {
        assert!(looks_like_lockfile(Path::new("x/Cargo.lock")));
        assert!(!looks_like_lockfile(Path::new("x/app")));
    }
}
