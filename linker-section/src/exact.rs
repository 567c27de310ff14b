//! The exact dependency graph of one linked artifact, from what the compiler was given.
//!
//! `cargo metadata` describes the resolve of a whole workspace, so a manifest taken from it
//! lists crates that were never compiled into a given artifact: features unified with other
//! members or with dev-dependencies, optional dependencies another member enables. Here the
//! graph comes instead from the [`UnitRecord`]s the wrapper wrote for every compilation: start
//! at the `--extern` files of the link being made, follow each file to the record of the unit
//! that produced it, and so on. The result is the set of crates rustc really linked, with the
//! kind of each (runtime, or build when it is reached only through a build script or a
//! proc-macro).
//!
//! Two things the compiler's command lines do not say are taken from elsewhere:
//! - the *source* of each package (crates.io, another registry, git, local), which decides
//!   whether advisories apply: from cargo's own package ids (`cargo metadata`), matched by
//!   manifest directory and cached next to the build outputs (`SourceMap`);
//! - for a unit compiled before our wrapper watched the target directory (so without a
//!   record), its subgraph: from cargo's resolve, as the reference writer does. Each such unit
//!   is reported in [`Exact::unobserved`] so the build can say its manifest may over-report.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::collect::{
    assemble, source_from_id, CollectError, EdgeKind, GraphPackage, MetadataQuery, Resolved,
};
use crate::manifest::Manifest;
use crate::unit::UnitRecord;

/// The manifest of one artifact and what, if anything, had to come from the resolver.
#[derive(Debug)]
pub struct Exact {
    pub manifest: Manifest,
    /// The units (by output name, e.g. `gadget-0123abcd`, or "the build script of …") whose
    /// dependencies came from `cargo metadata` because they were compiled without our wrapper
    /// watching; empty when the manifest is exact.
    pub unobserved: Vec<String>,
}

/// A package as cargo identifies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PackageId {
    pub id: String,
    pub name: String,
    pub version: String,
    /// Cargo's source id (`registry+https://…`, `git+…`, `null` for path packages).
    pub source: Option<String>,
}

/// Manifest directory → cargo package, for every package of the workspace's resolve.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SourceMap {
    key: String,
    packages: HashMap<PathBuf, PackageId>,
}

impl SourceMap {
    fn from_resolved(key: String, resolved: &Resolved) -> Self {
        let packages = resolved
            .packages()
            .filter_map(|p| {
                let dir = p.manifest_path.parent()?.to_owned();
                let id = PackageId {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    version: p.version.clone(),
                    source: p.source.clone(),
                };
                Some((dir, id))
            })
            .collect();
        SourceMap { key, packages }
    }

    fn get(&self, dir: &Path, name: &str, version: &str) -> Option<&PackageId> {
        self.packages
            .get(dir)
            .filter(|p| p.name == name && p.version == version)
    }

    fn load(path: &Path, key: &str) -> Option<Self> {
        let bytes = std::fs::read(path).ok()?;
        serde_json::from_slice::<SourceMap>(&bytes)
            .ok()
            .filter(|m| m.key == key)
    }

    fn store(&self, path: &Path) {
        // A cache: failing to write it costs time on the next link, nothing else.
        if let Ok(json) = serde_json::to_vec(self) {
            let _ = crate::cache::replace_file(path, &json);
        }
    }
}

/// What the graph walk needs from cargo, fetched at most once per link and only when needed.
pub(crate) struct Resolver<'a> {
    /// The query for the artifact being linked (its features and target platform): the
    /// fallback graph for unobserved units.
    query: &'a MetadataQuery,
    /// Where the source map is cached (the link's output directory).
    cache_path: Option<PathBuf>,
    key: String,
    sources: Option<SourceMap>,
    /// Whether `sources` came from `cargo metadata` during this link (so asking again would
    /// give the same answer).
    fresh: bool,
    fallback: Option<Resolved>,
}

impl<'a> Resolver<'a> {
    pub(crate) fn new(query: &'a MetadataQuery, cache_dir: Option<&Path>) -> Self {
        let cache_path = cache_dir.map(|d| d.join(".binaudit-sources.json"));
        let key = cache_key(query);
        let sources = cache_path.as_deref().and_then(|p| SourceMap::load(p, &key));
        Resolver {
            query,
            cache_path,
            key,
            sources,
            fresh: false,
            fallback: None,
        }
    }

    /// The package compiled from `dir` as `name version`. The source map is read from the
    /// cache, or from `cargo metadata` (once per link at most) when the cache is stale or
    /// does not know the directory.
    fn package(
        &mut self,
        dir: &Path,
        name: &str,
        version: &str,
    ) -> Result<PackageId, CollectError> {
        let known =
            |s: &Option<SourceMap>| s.as_ref().and_then(|m| m.get(dir, name, version)).cloned();
        if let Some(p) = known(&self.sources) {
            return Ok(p);
        }
        if !self.fresh {
            let map = self.all_packages()?;
            if let Some(path) = &self.cache_path {
                map.store(path);
            }
            self.sources = Some(map);
            self.fresh = true;
        }
        // Not in cargo's resolve (it should always be): tell the source from the path.
        Ok(known(&self.sources).unwrap_or_else(|| PackageId {
            id: format!("path+file://{}#{name}@{version}", dir.display()),
            name: name.to_owned(),
            version: version.to_owned(),
            source: source_from_path(dir),
        }))
    }

    /// Every package of the workspace, whatever the features and platforms.
    fn all_packages(&self) -> Result<SourceMap, CollectError> {
        let mut cmd = self.query.base_command();
        cmd.arg("--all-features");
        let json = crate::collect::run_metadata(&mut cmd, &self.query.cargo)?;
        Ok(SourceMap::from_resolved(
            self.key.clone(),
            &Resolved::parse(&json)?,
        ))
    }

    fn fallback(&mut self) -> Result<&Resolved, CollectError> {
        if self.fallback.is_none() {
            let mut cmd = self.query.command();
            let json = crate::collect::run_metadata(&mut cmd, &self.query.cargo)?;
            self.fallback = Some(Resolved::parse(&json)?);
        }
        self.fallback.as_ref().ok_or(CollectError::NoResolve)
    }
}

/// The source map's cache key: the workspace's lock file as it is now, and the flags that can
/// change what cargo resolves. A changed lock file means a changed resolve.
fn cache_key(query: &MetadataQuery) -> String {
    let lock = query
        .manifest_path
        .ancestors()
        .skip(1)
        .map(|d| d.join("Cargo.lock"))
        .find(|l| l.is_file());
    let stamp = lock
        .as_deref()
        .and_then(|l| Some(format!("{}|{}", l.display(), crate::cache::file_stamp(l)?)));
    format!("1|{}|{:?}", stamp.unwrap_or_default(), query.forwarded_args)
}

/// A cargo source id for a package known only by its directory: registry and git checkouts
/// have recognisable places in cargo's home; anything else is a path dependency.
fn source_from_path(dir: &Path) -> Option<String> {
    let s = dir.to_string_lossy().replace('\\', "/");
    if let Some((_, rest)) = s.split_once("/registry/src/") {
        if rest.starts_with("index.crates.io-") || rest.starts_with("github.com-") {
            return Some("registry+https://github.com/rust-lang/crates.io-index".into());
        }
        return Some("registry+unknown".into());
    }
    if s.contains("/git/checkouts/") {
        return Some("git+unknown".into());
    }
    None
}

/// Work item of the walk: a unit reached with a given strength.
struct Visit {
    record: UnitRecord,
    kind: EdgeKind,
    package: String,
}

/// Builds the manifest of the artifact being linked by `link` (the record of the link unit
/// itself, computed from its command line).
pub(crate) fn exact_manifest(
    link: &UnitRecord,
    resolver: &mut Resolver<'_>,
) -> Result<Exact, CollectError> {
    let mut packages: HashMap<String, (PackageId, EdgeKind, BTreeSet<String>)> = HashMap::new();
    // Units already walked, with the strength they were walked with.
    let mut seen: HashMap<PathBuf, EdgeKind> = HashMap::new();
    let mut unobserved: BTreeSet<String> = BTreeSet::new();
    // Resolver-walked packages (from unobserved units) and the ids of observed ones.
    let mut fallback_kinds: HashMap<String, EdgeKind> = HashMap::new();
    let mut build_scripts = BuildScripts::default();

    let root = resolver.package(&link.manifest_dir, &link.package, &link.package_version)?;
    let root_id = root.id.clone();
    packages.insert(root_id.clone(), (root, EdgeKind::Runtime, BTreeSet::new()));
    let mut queue = VecDeque::from([Visit {
        record: link.clone(),
        kind: EdgeKind::Runtime,
        package: root_id.clone(),
    }]);

    while let Some(Visit {
        record,
        kind,
        package,
    }) = queue.pop_front()
    {
        let mut children: Vec<(UnitRecord, PathBuf, EdgeKind)> = Vec::new();
        // What a build script links runs at build time only.
        let edge = if record.build_script {
            EdgeKind::Build
        } else {
            EdgeKind::Runtime
        };
        for (name, file) in &record.externs {
            match UnitRecord::path_of_output(file).and_then(|p| Some((UnitRecord::read(&p)?, p))) {
                Some((child, path)) => {
                    let edge = if child.is_proc_macro() {
                        EdgeKind::Build
                    } else {
                        edge
                    };
                    children.push((child, path, edge.min(kind)));
                }
                None => {
                    // Compiled without us watching: its subgraph comes from cargo's resolve.
                    let resolved = resolver.fallback()?;
                    let child = resolved.dependency_named(&package, name);
                    unobserved.insert(describe(file, name));
                    if let Some(child) = child {
                        resolved.reach(&child, edge.min(kind), &mut fallback_kinds)?;
                        if let Some(entry) = packages.get_mut(&package) {
                            entry.2.insert(child);
                        }
                    }
                }
            }
        }
        // The package's build script: the unit compiled from the same package with the same
        // features whose run produced this unit's OUT_DIR.
        if !record.build_script {
            if let Some(out_dir) = &record.out_dir_env {
                let scripts = build_scripts.of(&record, out_dir);
                if scripts.is_empty() {
                    let resolved = resolver.fallback()?;
                    unobserved.insert(format!(
                        "the build script of {} {}",
                        record.package, record.package_version
                    ));
                    for dep in resolved.build_dependencies(&package) {
                        resolved.reach(&dep, EdgeKind::Build.min(kind), &mut fallback_kinds)?;
                        if let Some(entry) = packages.get_mut(&package) {
                            entry.2.insert(dep);
                        }
                    }
                }
                for (script, path) in scripts {
                    children.push((script, path, EdgeKind::Build.min(kind)));
                }
            }
        }
        for (child, path, child_kind) in children {
            let id =
                resolver.package(&child.manifest_dir, &child.package, &child.package_version)?;
            let child_package = id.id.clone();
            // The edge counts even when the unit was walked already, from another parent.
            if child_package != package {
                if let Some(entry) = packages.get_mut(&package) {
                    entry.2.insert(child_package.clone());
                }
            }
            if seen.get(&path).is_some_and(|k| *k >= child_kind) {
                continue;
            }
            seen.insert(path, child_kind);
            let entry = packages
                .entry(child_package.clone())
                .or_insert_with(|| (id, child_kind, BTreeSet::new()));
            entry.1 = entry.1.max(child_kind);
            queue.push_back(Visit {
                record: child,
                kind: child_kind,
                package: child_package,
            });
        }
    }

    let mut nodes: Vec<GraphPackage> = Vec::with_capacity(packages.len() + fallback_kinds.len());
    let mut all_ids: HashMap<String, EdgeKind> = fallback_kinds.clone();
    for (id, (_, kind, _)) in &packages {
        let k = all_ids.entry(id.clone()).or_insert(*kind);
        *k = (*k).max(*kind);
    }
    if !fallback_kinds.is_empty() {
        let resolved = resolver.fallback()?;
        for (id, kind) in &fallback_kinds {
            if packages.contains_key(id) {
                continue;
            }
            let kind = all_ids.get(id).copied().unwrap_or(*kind);
            nodes.push(resolved.graph_package(id, kind, &all_ids, false)?);
        }
    }
    for (id, (pkg, _, deps)) in packages {
        nodes.push(GraphPackage {
            root: id == root_id,
            kind: all_ids.get(&id).copied().unwrap_or(EdgeKind::Runtime),
            id,
            name: pkg.name,
            version: pkg.version,
            source: source_from_id(pkg.source.as_deref()),
            deps,
        });
    }
    Ok(Exact {
        manifest: assemble(nodes)?,
        unobserved: unobserved.into_iter().collect(),
    })
}

fn describe(file: &Path, name: &str) -> String {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| name.to_owned());
    stem.strip_prefix("lib").map_or(stem.clone(), str::to_owned)
}

/// The build-script records of build directories, each directory listed once per link.
#[derive(Default)]
struct BuildScripts {
    by_dir: HashMap<PathBuf, Vec<(UnitRecord, PathBuf)>>,
}

impl BuildScripts {
    /// The records of the build-script compilations of `unit`'s package with its features.
    ///
    /// Cargo runs a build script from `<build-dir>/<package>-<hash>/` and gives the package's
    /// crates an `OUT_DIR` in another `<package>-<hash>/` of a build directory (the
    /// target's, which for a cross build is not the host's where the script was compiled);
    /// nothing records which compile went with which run. The script is the build-script unit
    /// of the same package directory with the same features, searched in the build directory
    /// of `OUT_DIR` and, for a cross build, the host's.
    fn of(&mut self, unit: &UnitRecord, out_dir: &Path) -> Vec<(UnitRecord, PathBuf)> {
        let Some(build_dir) = out_dir.parent().and_then(Path::parent) else {
            return Vec::new();
        };
        let mut dirs = vec![build_dir.to_owned()];
        if let Some(triple) = &unit.target {
            // <target-dir>/<triple>/<profile>/build → <target-dir>/<profile>/build
            let host: PathBuf = build_dir
                .components()
                .filter(|c| c.as_os_str() != triple.as_str())
                .collect();
            if host != build_dir {
                dirs.push(host);
            }
        }
        let mut found = Vec::new();
        for dir in dirs {
            let records = self
                .by_dir
                .entry(dir)
                .or_insert_with_key(|d| list_build_scripts(d));
            found.extend(
                records
                    .iter()
                    .filter(|(r, _)| {
                        r.manifest_dir == unit.manifest_dir && r.features == unit.features
                    })
                    .cloned(),
            );
        }
        found
    }
}

/// Every build-script record in `<build-dir>/*/`, sorted by path.
fn list_build_scripts(build_dir: &Path) -> Vec<(UnitRecord, PathBuf)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(build_dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let Ok(files) = std::fs::read_dir(entry.path()) else {
            continue;
        };
        for file in files.flatten() {
            let path = file.path();
            if !path.to_string_lossy().ends_with(crate::unit::RECORD_SUFFIX) {
                continue;
            }
            if let Some(r) = UnitRecord::read(&path).filter(|r| r.build_script) {
                found.push((r, path));
            }
        }
    }
    found.sort_by(|a, b| a.1.cmp(&b.1));
    found
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::manifest::Source;

    #[test]
    fn sources_from_cargo_home_paths() {
        assert_eq!(
            source_from_path(Path::new(
                "/h/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/serde-1.0.0"
            ))
            .as_deref(),
            Some("registry+https://github.com/rust-lang/crates.io-index")
        );
        assert_eq!(
            source_from_path(Path::new(
                "C:\\u\\.cargo\\registry\\src\\my.reg-0123\\x-1.0.0"
            ))
            .as_deref(),
            Some("registry+unknown")
        );
        assert_eq!(
            source_from_path(Path::new("/h/.cargo/git/checkouts/repo-abc/1234567")).as_deref(),
            Some("git+unknown")
        );
        assert_eq!(source_from_path(Path::new("/work/ws/crates/time")), None);
        assert_eq!(source_from_id(Some("registry+unknown")), Source::Registry);
    }
}
