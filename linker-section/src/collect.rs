//! Collecting the dependency graph of one artifact from `cargo metadata`.
//!
//! Semantics are those of manifest `format: 1`: dev-dependencies are excluded; build
//! dependencies and proc-macros, and everything reached only through them, are `kind: build`;
//! the resolve is filtered to the target platform and to the features enabled for the crate
//! being linked. A package's kind is `runtime` if any path from the root reaches it through
//! runtime edges only, else `build`.
//!
//! `cargo metadata` resolves the whole workspace at once, so features unified across members
//! can over-report; see ARCHITECTURE.md for how that is addressed.

use std::collections::{HashMap, VecDeque};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::manifest::{DependencyKind, Manifest, ManifestError, Package, Source, WRITTEN_FORMAT};

/// The crates.io source id as `cargo metadata` spells it (git index and sparse index).
const CRATES_IO_SOURCES: [&str; 2] = [
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
];

/// Why the dependency graph could not be collected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CollectError {
    #[error("could not run `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("`cargo metadata` failed ({status}):\n{stderr}")]
    Failed { status: String, stderr: String },
    #[error("could not parse `cargo metadata` output: {0}")]
    Parse(String),
    #[error("`cargo metadata` has no resolved dependency graph")]
    NoResolve,
    #[error("package with manifest {0} is not in the `cargo metadata` output")]
    RootNotFound(PathBuf),
    #[error("`cargo metadata` refers to unknown package id {0}")]
    UnknownPackage(String),
    #[error("package {name} has version {version:?} that is not semver: {reason}")]
    BadVersion {
        name: String,
        version: String,
        reason: String,
    },
    #[error("the collected graph is not a valid manifest: {0}")]
    Invalid(#[from] ManifestError),
}

/// What to ask `cargo metadata` for: one package, its enabled features, one target platform.
#[derive(Debug, Clone)]
pub struct MetadataQuery {
    /// The cargo to run (cargo sets `CARGO` for the processes it starts).
    pub cargo: OsString,
    /// `Cargo.toml` of the package being linked.
    pub manifest_path: PathBuf,
    /// Features enabled for this compilation (from rustc's `--cfg feature="…"`).
    pub features: Vec<String>,
    /// `--filter-platform`.
    pub target: String,
    /// `--offline`, `--locked`, `--frozen`, `--config …` as given to the outer cargo.
    pub forwarded_args: Vec<OsString>,
}

impl MetadataQuery {
    /// `cargo metadata` for this package with the forwarded flags, without feature or
    /// platform selection: every package of the workspace's resolve.
    pub fn base_command(&self) -> Command {
        let mut cmd = Command::new(&self.cargo);
        cmd.arg("metadata").arg("--format-version").arg("1");
        cmd.arg("--manifest-path").arg(&self.manifest_path);
        cmd.args(&self.forwarded_args);
        if let Some(dir) = self.manifest_path.parent() {
            cmd.current_dir(dir);
        }
        // The metadata query compiles nothing, but keep our wrapper out of any rustc probes.
        cmd.env_remove("RUSTC_WORKSPACE_WRAPPER");
        cmd.env_remove("RUSTC_WRAPPER");
        cmd.env_remove(crate::wrapper::ENV_WRAPPER_MODE);
        cmd
    }

    /// The `cargo metadata` command line this query runs: the package's resolve for the
    /// target platform and the enabled features.
    pub fn command(&self) -> Command {
        let mut cmd = self.base_command();
        cmd.arg("--filter-platform").arg(&self.target);
        let mut features: Vec<&str> = self.features.iter().map(String::as_str).collect();
        if let Some(i) = features.iter().position(|f| *f == "default") {
            features.remove(i);
        } else {
            cmd.arg("--no-default-features");
        }
        if !features.is_empty() {
            cmd.arg("--features").arg(features.join(","));
        }
        cmd
    }

    /// Runs `cargo metadata` and builds the manifest from cargo's resolve.
    pub fn run(&self) -> Result<Manifest, CollectError> {
        let json = run_metadata(&mut self.command(), &self.cargo)?;
        manifest_from_metadata(&json, &self.manifest_path)
    }
}

/// Runs a `cargo metadata` command and returns its standard output.
pub(crate) fn run_metadata(cmd: &mut Command, cargo: &OsString) -> Result<Vec<u8>, CollectError> {
    let output = cmd.output().map_err(|source| CollectError::Spawn {
        command: format!("{} metadata", cargo.to_string_lossy()),
        source,
    })?;
    if !output.status.success() {
        return Err(CollectError::Failed {
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    Ok(output.stdout)
}

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<MetaPackage>,
    resolve: Option<Resolve>,
}

#[derive(Deserialize)]
pub(crate) struct MetaPackage {
    pub name: String,
    pub version: String,
    pub id: String,
    pub source: Option<String>,
    pub manifest_path: PathBuf,
    #[serde(default)]
    targets: Vec<MetaTarget>,
}

#[derive(Deserialize)]
struct MetaTarget {
    #[serde(default)]
    kind: Vec<String>,
}

#[derive(Deserialize)]
struct Resolve {
    nodes: Vec<Node>,
}

#[derive(Deserialize)]
struct Node {
    id: String,
    #[serde(default)]
    deps: Vec<NodeDep>,
}

#[derive(Deserialize)]
struct NodeDep {
    pkg: String,
    /// The name the dependent's code uses (after renaming).
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    dep_kinds: Vec<DepKindInfo>,
}

#[derive(Deserialize)]
struct DepKindInfo {
    kind: Option<String>,
}

/// Edge strength, weakest first; a path is as strong as its weakest edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum EdgeKind {
    Dev,
    Build,
    Runtime,
}

impl NodeDep {
    fn kind(&self) -> EdgeKind {
        self.dep_kinds
            .iter()
            .map(|k| match k.kind.as_deref() {
                Some("dev") => EdgeKind::Dev,
                Some("build") => EdgeKind::Build,
                _ => EdgeKind::Runtime,
            })
            .max()
            // Cargo before 1.41 did not report dep_kinds; such edges are normal dependencies.
            .unwrap_or(EdgeKind::Runtime)
    }
}

/// Maps a cargo source id to the manifest's lowercase source.
pub fn source_from_id(source: Option<&str>) -> Source {
    match source {
        None => Source::Local,
        Some(s) if CRATES_IO_SOURCES.contains(&s) => Source::CratesIo,
        Some(s) => match s.split('+').next() {
            Some("git") => Source::Git,
            Some("registry" | "sparse") => Source::Registry,
            Some("path") => Source::Local,
            Some(other) => Source::Other(other.to_owned()),
            None => Source::Other(String::new()),
        },
    }
}

/// Builds the manifest for the package whose `Cargo.toml` is `root_manifest` from
/// `cargo metadata --format-version 1` output.
pub fn manifest_from_metadata(json: &[u8], root_manifest: &Path) -> Result<Manifest, CollectError> {
    let resolved = Resolved::parse(json)?;
    let root = resolved
        .package_at(root_manifest)
        .ok_or_else(|| CollectError::RootNotFound(root_manifest.to_owned()))?
        .id
        .clone();
    let mut kind_of = HashMap::new();
    resolved.reach(&root, EdgeKind::Runtime, &mut kind_of)?;
    let mut nodes_out = Vec::with_capacity(kind_of.len());
    for (id, kind) in &kind_of {
        nodes_out.push(resolved.graph_package(id, *kind, &kind_of, *id == root)?);
    }
    assemble(nodes_out)
}

/// `cargo metadata` output, indexed for walking the resolved graph.
pub(crate) struct Resolved {
    packages: HashMap<String, MetaPackage>,
    nodes: HashMap<String, Node>,
}

impl Resolved {
    pub(crate) fn parse(json: &[u8]) -> Result<Self, CollectError> {
        let meta: Metadata =
            serde_json::from_slice(json).map_err(|e| CollectError::Parse(e.to_string()))?;
        let resolve = meta.resolve.ok_or(CollectError::NoResolve)?;
        Ok(Resolved {
            packages: meta
                .packages
                .into_iter()
                .map(|p| (p.id.clone(), p))
                .collect(),
            nodes: resolve
                .nodes
                .into_iter()
                .map(|n| (n.id.clone(), n))
                .collect(),
        })
    }

    /// The package whose `Cargo.toml` is `manifest` (compared as files, not strings).
    pub(crate) fn package_at(&self, manifest: &Path) -> Option<&MetaPackage> {
        self.packages
            .values()
            .find(|p| p.manifest_path == manifest)
            .or_else(|| {
                self.packages
                    .values()
                    .find(|p| same_file(&p.manifest_path, manifest))
            })
    }

    pub(crate) fn packages(&self) -> impl Iterator<Item = &MetaPackage> {
        self.packages.values()
    }

    fn is_proc_macro(&self, id: &str) -> bool {
        self.packages.get(id).is_some_and(|p| {
            p.targets
                .iter()
                .any(|t| t.kind.iter().any(|k| k == "proc-macro"))
        })
    }

    fn node(&self, id: &str) -> Result<&Node, CollectError> {
        self.nodes
            .get(id)
            .ok_or_else(|| CollectError::UnknownPackage(id.to_owned()))
    }

    /// The package `parent` depends on under the name `extern_name` (as rustc's `--extern`
    /// spells it: renamed, with `-` as `_`), through a normal or build edge.
    pub(crate) fn dependency_named(&self, parent: &str, extern_name: &str) -> Option<String> {
        let node = self.nodes.get(parent)?;
        node.deps
            .iter()
            .filter(|d| d.kind() != EdgeKind::Dev)
            .find(|d| {
                d.name.as_deref().map(|n| n.replace('-', "_")).as_deref() == Some(extern_name)
            })
            .map(|d| d.pkg.clone())
    }

    /// The build-dependencies of `parent`.
    pub(crate) fn build_dependencies(&self, parent: &str) -> Vec<String> {
        self.nodes.get(parent).map_or_else(Vec::new, |n| {
            n.deps
                .iter()
                .filter(|d| d.kind() == EdgeKind::Build)
                .map(|d| d.pkg.clone())
                .collect()
        })
    }

    /// Breadth-first walk from `start` reached with strength `kind`, recording in `kind_of`
    /// the strongest kind over all paths (a package is revisited when reached through a
    /// stronger one). Dev edges are not followed; a proc-macro and everything it pulls in are
    /// build-time only, as it runs in the compiler.
    pub(crate) fn reach(
        &self,
        start: &str,
        kind: EdgeKind,
        kind_of: &mut HashMap<String, EdgeKind>,
    ) -> Result<(), CollectError> {
        let kind = if self.is_proc_macro(start) {
            kind.min(EdgeKind::Build)
        } else {
            kind
        };
        if kind_of.get(start).is_some_and(|k| *k >= kind) {
            return Ok(());
        }
        kind_of.insert(start.to_owned(), kind);
        let mut queue = VecDeque::from([start.to_owned()]);
        while let Some(id) = queue.pop_front() {
            let parent_kind = kind_of[&id];
            for dep in &self.node(&id)?.deps {
                let mut edge = dep.kind();
                if edge == EdgeKind::Dev {
                    continue;
                }
                if self.is_proc_macro(&dep.pkg) {
                    edge = edge.min(EdgeKind::Build);
                }
                let kind = edge.min(parent_kind);
                if kind_of.get(&dep.pkg).is_none_or(|k| kind > *k) {
                    kind_of.insert(dep.pkg.clone(), kind);
                    queue.push_back(dep.pkg.clone());
                }
            }
        }
        Ok(())
    }

    /// Package `id` as a graph node, with its resolved edges into the packages of `within`.
    pub(crate) fn graph_package(
        &self,
        id: &str,
        kind: EdgeKind,
        within: &HashMap<String, EdgeKind>,
        root: bool,
    ) -> Result<GraphPackage, CollectError> {
        let p = self
            .packages
            .get(id)
            .ok_or_else(|| CollectError::UnknownPackage(id.to_owned()))?;
        Ok(GraphPackage {
            id: p.id.clone(),
            name: p.name.clone(),
            version: p.version.clone(),
            source: source_from_id(p.source.as_deref()),
            kind,
            // Edges as a set: the same package can appear under several dep_kinds or renames.
            deps: self
                .node(id)?
                .deps
                .iter()
                .filter(|d| d.kind() != EdgeKind::Dev && within.contains_key(&d.pkg))
                .map(|d| d.pkg.clone())
                .collect(),
            root,
        })
    }
}

/// One package of an artifact's graph, before it is numbered into a [`Manifest`].
#[derive(Debug, Clone)]
pub(crate) struct GraphPackage {
    /// Cargo's package id: unique, and the last sort key.
    pub id: String,
    pub name: String,
    pub version: String,
    pub source: Source,
    pub kind: EdgeKind,
    /// Ids of the packages this one depends on; each must be in the graph.
    pub deps: std::collections::BTreeSet<String>,
    pub root: bool,
}

/// Numbers the packages in manifest order (name, then version, then id: deterministic
/// whatever order they were found in) and checks the result is a valid manifest.
pub(crate) fn assemble(nodes: Vec<GraphPackage>) -> Result<Manifest, CollectError> {
    let mut items = Vec::with_capacity(nodes.len());
    for n in nodes {
        let version = semver::Version::parse(&n.version).map_err(|e| CollectError::BadVersion {
            name: n.name.clone(),
            version: n.version.clone(),
            reason: e.to_string(),
        })?;
        items.push((n, version));
    }
    items.sort_by(|(a, va), (b, vb)| {
        a.name
            .cmp(&b.name)
            .then_with(|| va.cmp(vb))
            .then_with(|| a.id.cmp(&b.id))
    });
    let index: HashMap<String, usize> = items
        .iter()
        .enumerate()
        .map(|(i, (n, _))| (n.id.clone(), i))
        .collect();
    let mut out = Vec::with_capacity(items.len());
    for (node, version) in items {
        let mut deps = Vec::with_capacity(node.deps.len());
        for d in &node.deps {
            let i = index
                .get(d)
                .ok_or_else(|| CollectError::UnknownPackage(d.clone()))?;
            deps.push(*i);
        }
        deps.sort_unstable();
        deps.dedup();
        out.push(Package {
            name: node.name,
            version,
            source: node.source,
            kind: match node.kind {
                EdgeKind::Runtime => DependencyKind::Runtime,
                _ => DependencyKind::Build,
            },
            dependencies: deps,
            root: node.root,
        });
    }
    Ok(Manifest::new(out, WRITTEN_FORMAT)?)
}

fn same_file(a: &Path, b: &Path) -> bool {
    if a == b {
        return true;
    }
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A hand-written `cargo metadata` document: app → (lib, macro [proc-macro], build-dep
    /// [build], test-dep [dev]); macro → lib2; build-dep → lib; lib2 is also a dev-dependency
    /// of lib (must not turn into a runtime edge).
    fn fixture() -> String {
        let pkg = |name: &str, source: Option<&str>, kind: &str| {
            let src = source.map_or("null".to_owned(), |s| format!("\"{s}\""));
            format!(
                r#"{{"name":"{name}","version":"1.0.0","id":"{name}-id","source":{src},"manifest_path":"/ws/{name}/Cargo.toml","targets":[{{"kind":["{kind}"]}}]}}"#
            )
        };
        let cio = Some("registry+https://github.com/rust-lang/crates.io-index");
        let packages = [
            pkg("app", None, "bin"),
            pkg("lib", cio, "lib"),
            pkg("lib2", Some("git+https://example.org/lib2#abc"), "lib"),
            pkg("macro", cio, "proc-macro"),
            pkg("builddep", Some("sparse+https://my.registry/index/"), "lib"),
            pkg("testdep", cio, "lib"),
            pkg("unused", cio, "lib"),
        ]
        .join(",");
        let dep = |id: &str, kind: &str| {
            format!(r#"{{"pkg":"{id}-id","dep_kinds":[{{"kind":{kind},"target":null}}]}}"#)
        };
        let nodes = [
            format!(
                r#"{{"id":"app-id","deps":[{},{},{},{}]}}"#,
                dep("lib", "null"),
                dep("macro", "null"),
                dep("builddep", "\"build\""),
                dep("testdep", "\"dev\"")
            ),
            format!(r#"{{"id":"lib-id","deps":[{}]}}"#, dep("lib2", "\"dev\"")),
            r#"{"id":"lib2-id","deps":[]}"#.to_owned(),
            format!(r#"{{"id":"macro-id","deps":[{}]}}"#, dep("lib2", "null")),
            format!(r#"{{"id":"builddep-id","deps":[{}]}}"#, dep("lib", "null")),
            r#"{"id":"testdep-id","deps":[]}"#.to_owned(),
            r#"{"id":"unused-id","deps":[]}"#.to_owned(),
        ]
        .join(",");
        format!(r#"{{"packages":[{packages}],"resolve":{{"root":"app-id","nodes":[{nodes}]}}}}"#)
    }

    #[test]
    fn format_one_semantics_from_metadata() {
        let m =
            manifest_from_metadata(fixture().as_bytes(), Path::new("/ws/app/Cargo.toml")).unwrap();
        let json = m.to_json();
        assert_eq!(
            json,
            concat!(
                r#"{"packages":["#,
                r#"{"name":"app","version":"1.0.0","source":"local","dependencies":[1,2,4],"root":true},"#,
                r#"{"name":"builddep","version":"1.0.0","source":"registry","kind":"build","dependencies":[2]},"#,
                r#"{"name":"lib","version":"1.0.0","source":"crates.io"},"#,
                r#"{"name":"lib2","version":"1.0.0","source":"git","kind":"build"},"#,
                r#"{"name":"macro","version":"1.0.0","source":"crates.io","kind":"build","dependencies":[3]}"#,
                r#"],"format":1}"#
            )
        );
    }

    #[test]
    fn missing_root_package_is_an_error() {
        let err = manifest_from_metadata(fixture().as_bytes(), Path::new("/elsewhere/Cargo.toml"))
            .unwrap_err();
        assert!(matches!(err, CollectError::RootNotFound(_)));
    }

    #[test]
    fn source_ids_map_to_wire_sources() {
        assert_eq!(source_from_id(None), Source::Local);
        assert_eq!(
            source_from_id(Some(
                "registry+https://github.com/rust-lang/crates.io-index"
            )),
            Source::CratesIo
        );
        assert_eq!(
            source_from_id(Some("sparse+https://index.crates.io/")),
            Source::CratesIo
        );
        assert_eq!(
            source_from_id(Some("git+https://github.com/a/b?rev=1#abc")),
            Source::Git
        );
        assert_eq!(
            source_from_id(Some("sparse+https://other/")),
            Source::Registry
        );
        assert_eq!(
            source_from_id(Some("weird+x")),
            Source::Other("weird".into())
        );
    }

    #[test]
    fn query_passes_features_and_forwarded_flags() {
        let q = MetadataQuery {
            cargo: "cargo".into(),
            manifest_path: "/ws/app/Cargo.toml".into(),
            features: vec!["default".into(), "extra".into()],
            target: "x86_64-unknown-linux-gnu".into(),
            forwarded_args: vec!["--offline".into(), "--config".into(), "net.retry=1".into()],
        };
        let cmd = q.command();
        let args: Vec<_> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(!args.contains(&"--no-default-features".to_owned()));
        assert!(args.windows(2).any(|w| w == ["--features", "extra"]));
        assert!(args
            .windows(2)
            .any(|w| w == ["--filter-platform", "x86_64-unknown-linux-gnu"]));
        assert!(args
            .windows(3)
            .any(|w| w == ["--offline", "--config", "net.retry=1"]));

        let q = MetadataQuery {
            features: vec![],
            ..q
        };
        let args: Vec<_> = q
            .command()
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(args.contains(&"--no-default-features".to_owned()));
        assert!(!args.contains(&"--features".to_owned()));
    }
}
