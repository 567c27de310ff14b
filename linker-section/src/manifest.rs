//! The embedded dependency manifest: types, validation and the exact JSON wire format.
//!
//! The wire format is the one `cargo auditable` writes (see `FORMAT.md` in the shared docs):
//! `{"packages":[…],"format":1}` with packages referring to each other by array index.
//! Reading goes through [`RawManifest`] and [`TryFrom`], so a [`Manifest`] value that exists
//! has been checked: at most one root (exactly one when there are packages), every dependency
//! index in range, no cycles, every version valid semver.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The `format` values this crate knows, in increasing order.
///
/// `0`: from `cargo metadata`; `1`: the same with proc-macros and their dependencies correctly
/// marked `kind: build`; `8`: from cargo's SBOM precursor data.
pub const KNOWN_FORMATS: [u32; 3] = [0, 1, 8];

/// The format this crate writes.
pub const WRITTEN_FORMAT: u32 = 1;

/// Where a package came from, as recorded in the manifest.
///
/// Only [`Source::CratesIo`] packages can be matched against the RustSec database:
/// a local or git crate that shares a crates.io name is a different crate.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    CratesIo,
    Git,
    Local,
    /// An alternative registry (not crates.io).
    Registry,
    /// Any other string, kept verbatim.
    Other(String),
}

impl Source {
    /// The lowercase wire spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Source::CratesIo => "crates.io",
            Source::Git => "git",
            Source::Local => "local",
            Source::Registry => "registry",
            Source::Other(s) => s,
        }
    }
}

impl From<&str> for Source {
    fn from(s: &str) -> Self {
        match s {
            "crates.io" => Source::CratesIo,
            "git" => Source::Git,
            "local" => Source::Local,
            "registry" => Source::Registry,
            other => Source::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Source {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Source {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Source::from(s.as_str()))
    }
}

/// Whether a package ends up in the artifact's runtime code or was only needed to build it
/// (build scripts, proc-macros and everything only they pull in).
///
/// Ordered weakest first, so `max` over several paths gives the package's kind.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum DependencyKind {
    Build,
    #[default]
    Runtime,
}

impl DependencyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DependencyKind::Build => "build",
            DependencyKind::Runtime => "runtime",
        }
    }
}

/// One package of a validated manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    pub version: semver::Version,
    pub source: Source,
    pub kind: DependencyKind,
    /// Indices into [`Manifest::packages`], sorted.
    pub dependencies: Vec<usize>,
    pub root: bool,
}

/// A validated dependency manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    packages: Vec<Package>,
    format: u32,
}

/// Why a manifest was rejected. Each reader obligation of the format has its own variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    #[error("the manifest is not valid JSON of the expected shape: {message} (line {line}, column {column})")]
    Json {
        message: String,
        line: usize,
        column: usize,
    },
    #[error("the manifest marks more than one package as root (packages {first} and {second})")]
    MultipleRoots { first: usize, second: usize },
    #[error("the manifest lists {count} packages but none is marked as root")]
    NoRoot { count: usize },
    #[error(
        "package {package} ({name}) depends on index {index}, but there are only {count} packages"
    )]
    DependencyOutOfRange {
        package: usize,
        name: String,
        index: usize,
        count: usize,
    },
    #[error("the dependency graph has a cycle through package {package} ({name})")]
    Cycle { package: usize, name: String },
    #[error(
        "package {package} ({name}) has version {version:?}, which is not valid semver: {reason}"
    )]
    InvalidVersion {
        package: usize,
        name: String,
        version: String,
        reason: String,
    },
}

/// The manifest exactly as it appears on the wire, before validation.
///
/// Unknown fields (such as the legacy per-package `features` array) are accepted and ignored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawManifest {
    pub packages: Vec<RawPackage>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub format: u32,
}

/// One package as it appears on the wire. The field order here is the wire order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawPackage {
    pub name: String,
    pub version: String,
    pub source: Source,
    #[serde(default, skip_serializing_if = "is_runtime")]
    pub kind: DependencyKind,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<usize>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub root: bool,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}
fn is_runtime(k: &DependencyKind) -> bool {
    *k == DependencyKind::Runtime
}
fn is_false(b: &bool) -> bool {
    !*b
}

impl Manifest {
    /// Builds a manifest from packages and checks it like a reader would.
    pub fn new(packages: Vec<Package>, format: u32) -> Result<Self, ManifestError> {
        let raw = RawManifest {
            packages: packages
                .iter()
                .map(|p| RawPackage {
                    name: p.name.clone(),
                    version: p.version.to_string(),
                    source: p.source.clone(),
                    kind: p.kind,
                    dependencies: p.dependencies.clone(),
                    root: p.root,
                })
                .collect(),
            format,
        };
        check_graph(&raw)?;
        Ok(Manifest { packages, format })
    }

    /// Parses and validates manifest JSON.
    pub fn from_json(json: &[u8]) -> Result<Self, ManifestError> {
        // Valid UTF-8 checked once for the whole text, rather than string by string.
        let parsed = match std::str::from_utf8(json) {
            Ok(text) => serde_json::from_str(text),
            Err(_) => serde_json::from_slice(json),
        };
        let raw: RawManifest = parsed.map_err(|e| ManifestError::Json {
            message: json_error_message(&e),
            line: e.line(),
            column: e.column(),
        })?;
        Manifest::try_from(raw)
    }

    pub fn packages(&self) -> &[Package] {
        &self.packages
    }

    /// The `format` field as written.
    pub fn format(&self) -> u32 {
        self.format
    }

    /// The `format` value whose semantics apply: an unknown value reads as the highest
    /// known value below it.
    pub fn effective_format(&self) -> u32 {
        KNOWN_FORMATS
            .iter()
            .copied()
            .filter(|f| *f <= self.format)
            .max()
            .unwrap_or(0)
    }

    /// The root package (the one the artifact was built from), if there are any packages.
    pub fn root(&self) -> Option<(usize, &Package)> {
        self.packages.iter().enumerate().find(|(_, p)| p.root)
    }

    /// The wire JSON. Deterministic: the same manifest always gives the same bytes.
    pub fn to_json(&self) -> String {
        let raw = RawManifest {
            packages: self
                .packages
                .iter()
                .map(|p| RawPackage {
                    name: p.name.clone(),
                    version: p.version.to_string(),
                    source: p.source.clone(),
                    kind: p.kind,
                    dependencies: p.dependencies.clone(),
                    root: p.root,
                })
                .collect(),
            format: self.format,
        };
        // Serialising plain strings, integers and booleans into a String cannot fail.
        serde_json::to_string(&raw).unwrap_or_default()
    }
}

impl TryFrom<RawManifest> for Manifest {
    type Error = ManifestError;

    fn try_from(raw: RawManifest) -> Result<Self, Self::Error> {
        check_graph(&raw)?;
        let mut packages = Vec::with_capacity(raw.packages.len());
        for (index, p) in raw.packages.into_iter().enumerate() {
            let version =
                semver::Version::parse(&p.version).map_err(|e| ManifestError::InvalidVersion {
                    package: index,
                    name: p.name.clone(),
                    version: p.version.clone(),
                    reason: e.to_string(),
                })?;
            packages.push(Package {
                name: p.name,
                version,
                source: p.source,
                kind: p.kind,
                dependencies: p.dependencies,
                root: p.root,
            });
        }
        Ok(Manifest {
            packages,
            format: raw.format,
        })
    }
}

/// Roots, index ranges and cycles.
fn check_graph(raw: &RawManifest) -> Result<(), ManifestError> {
    let count = raw.packages.len();
    let mut root: Option<usize> = None;
    for (i, p) in raw.packages.iter().enumerate() {
        if p.root {
            if let Some(first) = root {
                return Err(ManifestError::MultipleRoots { first, second: i });
            }
            root = Some(i);
        }
        if let Some(&index) = p.dependencies.iter().find(|&&d| d >= count) {
            return Err(ManifestError::DependencyOutOfRange {
                package: i,
                name: p.name.clone(),
                index,
                count,
            });
        }
    }
    if count > 0 && root.is_none() {
        return Err(ManifestError::NoRoot { count });
    }
    if let Some(package) = find_cycle(raw) {
        let name = raw
            .packages
            .get(package)
            .map(|p| p.name.clone())
            .unwrap_or_default();
        return Err(ManifestError::Cycle { package, name });
    }
    Ok(())
}

/// Iterative three-colour depth-first search; returns a package on a cycle, if any.
/// Iterative so that a hostile, very deep graph cannot overflow the stack.
fn find_cycle(raw: &RawManifest) -> Option<usize> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let n = raw.packages.len();
    let mut mark = vec![Mark::New; n];
    // (package, position in its dependency list)
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for start in 0..n {
        if mark[start] != Mark::New {
            continue;
        }
        mark[start] = Mark::Open;
        stack.push((start, 0));
        while let Some(top) = stack.last_mut() {
            let (node, pos) = *top;
            let deps = &raw.packages[node].dependencies;
            if let Some(&next) = deps.get(pos) {
                top.1 += 1;
                match mark[next] {
                    Mark::Open => return Some(next),
                    Mark::New => {
                        mark[next] = Mark::Open;
                        stack.push((next, 0));
                    }
                    Mark::Done => {}
                }
            } else {
                mark[node] = Mark::Done;
                stack.pop();
            }
        }
    }
    None
}

/// serde_json's messages end with " at line L column C"; we report those separately.
fn json_error_message(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pkg(name: &str, deps: &[usize], root: bool) -> Package {
        Package {
            name: name.into(),
            version: semver::Version::new(1, 0, 0),
            source: Source::CratesIo,
            kind: DependencyKind::Runtime,
            dependencies: deps.to_vec(),
            root,
        }
    }

    #[test]
    fn wire_format_matches_reference_example_byte_for_byte() {
        let json = r#"{"packages":[{"name":"hello","version":"0.1.0","source":"local","dependencies":[1],"root":true},{"name":"semver","version":"1.0.28","source":"crates.io"}],"format":1}"#;
        let m = Manifest::from_json(json.as_bytes()).unwrap();
        assert_eq!(m.to_json(), json);
        assert_eq!(m.root().unwrap().1.name, "hello");
    }

    #[test]
    fn build_kind_is_written_and_runtime_omitted() {
        let mut p = pkg("a", &[1], true);
        p.source = Source::Local;
        let mut b = pkg("b", &[], false);
        b.kind = DependencyKind::Build;
        let m = Manifest::new(vec![p, b], 1).unwrap();
        assert_eq!(
            m.to_json(),
            r#"{"packages":[{"name":"a","version":"1.0.0","source":"local","dependencies":[1],"root":true},{"name":"b","version":"1.0.0","source":"crates.io","kind":"build"}],"format":1}"#
        );
    }

    #[test]
    fn format_zero_is_omitted_and_legacy_fields_are_ignored() {
        let json = r#"{"packages":[{"name":"x","version":"0.1.0","source":"registry","features":["default"],"root":true}]}"#;
        let m = Manifest::from_json(json.as_bytes()).unwrap();
        assert_eq!(m.format(), 0);
        assert_eq!(m.packages()[0].source, Source::Registry);
        assert!(!m.to_json().contains("format"));
    }

    #[test]
    fn unknown_format_reads_as_highest_known_below() {
        for (written, effective) in [(0, 0), (1, 1), (5, 1), (8, 8), (42, 8)] {
            let json = format!(r#"{{"packages":[],"format":{written}}}"#);
            let m = Manifest::from_json(json.as_bytes()).unwrap();
            assert_eq!(m.effective_format(), effective, "format {written}");
        }
    }

    #[test]
    fn unknown_source_kept_verbatim() {
        let json =
            r#"{"packages":[{"name":"x","version":"0.1.0","source":"my-mirror","root":true}]}"#;
        let m = Manifest::from_json(json.as_bytes()).unwrap();
        assert_eq!(m.packages()[0].source, Source::Other("my-mirror".into()));
        assert!(m.to_json().contains(r#""source":"my-mirror""#));
    }

    #[test]
    fn rejects_two_roots() {
        let err = Manifest::new(vec![pkg("a", &[], true), pkg("b", &[], true)], 1).unwrap_err();
        assert_eq!(
            err,
            ManifestError::MultipleRoots {
                first: 0,
                second: 1
            }
        );
    }

    #[test]
    fn rejects_no_root() {
        let err = Manifest::new(vec![pkg("a", &[], false)], 1).unwrap_err();
        assert_eq!(err, ManifestError::NoRoot { count: 1 });
    }

    #[test]
    fn accepts_empty_package_list() {
        assert!(Manifest::from_json(br#"{"packages":[]}"#).is_ok());
    }

    #[test]
    fn rejects_out_of_range_dependency() {
        let err = Manifest::new(vec![pkg("a", &[3], true)], 1).unwrap_err();
        assert!(matches!(
            err,
            ManifestError::DependencyOutOfRange {
                index: 3,
                count: 1,
                ..
            }
        ));
    }

    #[test]
    fn rejects_cycles_including_self_loops() {
        let err = Manifest::new(
            vec![
                pkg("a", &[1], true),
                pkg("b", &[2], false),
                pkg("c", &[1], false),
            ],
            1,
        )
        .unwrap_err();
        assert!(matches!(err, ManifestError::Cycle { .. }), "{err}");
        let err = Manifest::new(vec![pkg("a", &[0], true)], 1).unwrap_err();
        assert!(matches!(err, ManifestError::Cycle { package: 0, .. }));
    }

    #[test]
    fn diamond_is_not_a_cycle() {
        let m = Manifest::new(
            vec![
                pkg("a", &[1, 2], true),
                pkg("b", &[3], false),
                pkg("c", &[3], false),
                pkg("d", &[], false),
            ],
            1,
        );
        assert!(m.is_ok());
    }

    #[test]
    fn long_chain_does_not_overflow_the_stack() {
        let n = 200_000;
        let packages: Vec<Package> = (0..n)
            .map(|i| {
                if i + 1 < n {
                    pkg("p", &[i + 1], i == 0)
                } else {
                    pkg("p", &[], false)
                }
            })
            .collect();
        assert!(Manifest::new(packages, 1).is_ok());
    }

    #[test]
    fn rejects_non_semver_version() {
        let json =
            r#"{"packages":[{"name":"x","version":"1.0","source":"crates.io","root":true}]}"#;
        let err = Manifest::from_json(json.as_bytes()).unwrap_err();
        assert!(
            matches!(err, ManifestError::InvalidVersion { ref version, .. } if version == "1.0"),
            "{err}"
        );
    }

    #[test]
    fn rejects_deeply_nested_json_without_crashing() {
        let json = format!(
            r#"{{"packages":{}{}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let err = Manifest::from_json(json.as_bytes()).unwrap_err();
        assert!(matches!(err, ManifestError::Json { .. }));
    }

    #[test]
    fn rejects_missing_required_fields() {
        let err =
            Manifest::from_json(br#"{"packages":[{"name":"x","source":"local","root":true}]}"#)
                .unwrap_err();
        match err {
            ManifestError::Json { message, .. } => {
                assert!(message.contains("version"), "{message}")
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
