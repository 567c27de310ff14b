//! The audit pipeline: inputs in, [`AuditReport`] out.
//!
//! Each input — a file, a file inside a container image, the binary of a running process — is
//! inspected ([`crate::binary`]) or parsed as a lock file ([`crate::lockfile`]). An image without
//! a manifest falls back to the crate paths its panic messages embed ([`crate::recover`]),
//! marked incomplete; an executable with no manifest and no sign of Rust is counted as not Rust.
//! Every architecture image is matched ([`crate::matching`]) with the platform its headers
//! declare, and the yanked status of all crates.io packages is checked once for the whole run.
//! A failure on one input is recorded on that input only.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};

use linker_section::{DependencyKind, Package, Source};

use crate::advisory::db::{Database, DbError, OpenOptions};
use crate::audit::{
    AuditReport, AuditedInput, AuditedUnit, DatabaseSummary, InputKind, InputOutcome, Origin,
    Policy, YankStatus,
};
use crate::binary::{
    inspect_bytes, inspect_opened, BinaryReport, Completeness, ImageManifest, InspectError,
    OpenedFile,
};
use crate::decode::Limits;
use crate::extract::{ContainerFormat, Image};
use crate::matching::{match_packages, MatchOptions, Matches, ObjectFamily, PackageRef, Platform};
use crate::recover::{recover_from_read, recover_from_slice, Recovered, MAX_FILE_BYTES};
use crate::yanked::YankChecker;

/// What a scan needs besides its inputs.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub limits: Limits,
    /// Advisory ids or aliases reported as ignored.
    pub ignore: Vec<String>,
    pub policy: Policy,
    /// Recover packages from panic-message paths when a binary has no manifest.
    pub fallback: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            limits: Limits::default(),
            ignore: Vec::new(),
            policy: Policy::default(),
            fallback: true,
        }
    }
}

/// Where the recovery reads from.
enum Bytes<'a> {
    /// The file the inspection read (its first bytes are not read again).
    File(&'a OpenedFile),
    /// The file could not be opened: there is nothing to recover from.
    None,
    Memory(&'a [u8]),
}

/// A database being opened on another thread, so that finding and reading the inputs does not
/// wait for it: only matching does.
#[derive(Debug, Default)]
pub struct PendingDatabase {
    /// `None` once opening has failed (or the opening thread died).
    cell: OnceLock<Option<Database>>,
    /// Set with `cell`, for [`PendingDatabase::wait`].
    filled: Mutex<bool>,
    ready: Condvar,
}

impl PendingDatabase {
    /// Starts opening the database at `path`. The handle gives the outcome: the error, if any,
    /// is there and not in the slot.
    pub fn open_in_background(
        path: PathBuf,
        opts: OpenOptions,
    ) -> (
        Arc<PendingDatabase>,
        std::thread::JoinHandle<Result<(), DbError>>,
    ) {
        let pending = Arc::new(PendingDatabase::default());
        let slot = Fill(Arc::clone(&pending));
        let handle = std::thread::spawn(move || {
            let result = Database::open(&path, &opts);
            let (db, outcome) = match result {
                Ok(db) => (Some(db), Ok(())),
                Err(e) => (None, Err(e)),
            };
            slot.0.fill(db);
            outcome
        });
        (pending, handle)
    }

    /// The database if it is open already; never waits.
    pub fn get(&self) -> Option<&Database> {
        self.cell.get().and_then(Option::as_ref)
    }

    /// The database once it is open, or `None` if opening failed.
    pub fn wait(&self) -> Option<&Database> {
        let mut filled = self.filled.lock().unwrap_or_else(PoisonError::into_inner);
        while !*filled {
            filled = self
                .ready
                .wait(filled)
                .unwrap_or_else(PoisonError::into_inner);
        }
        drop(filled);
        self.get()
    }

    /// Fills the slot (the first time only) and wakes whoever waits.
    fn fill(&self, db: Option<Database>) {
        let _ = self.cell.set(db);
        *self.filled.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.ready.notify_all();
    }
}

/// Marks the slot as failed if the opening thread ends without filling it (a panic), so that
/// no one waits for it forever.
struct Fill(Arc<PendingDatabase>);

impl Drop for Fill {
    fn drop(&mut self) {
        self.0.fill(None);
    }
}

/// Which database an [`Auditor`] matches against.
#[derive(Debug, Clone, Copy)]
enum DbSource<'db> {
    Open(&'db Database),
    Pending(&'db PendingDatabase),
}

impl<'db> DbSource<'db> {
    fn now(self) -> Option<&'db Database> {
        match self {
            DbSource::Open(db) => Some(db),
            DbSource::Pending(p) => p.get(),
        }
    }

    fn wait(self) -> Option<&'db Database> {
        match self {
            DbSource::Open(db) => Some(db),
            DbSource::Pending(p) => p.wait(),
        }
    }
}

/// Audits inputs one at a time (from any thread) against one database.
///
/// With a database still being opened ([`Auditor::with_pending`]), inputs are read and their
/// packages listed as usual, and the units read before the database was ready are matched by
/// [`Auditor::finish`].
#[derive(Debug)]
pub struct Auditor<'db> {
    db: DbSource<'db>,
    opts: ScanOptions,
    match_opts: MatchOptions,
}

impl<'db> Auditor<'db> {
    pub fn new(db: &'db Database, opts: ScanOptions) -> Self {
        Self::from_source(DbSource::Open(db), opts)
    }

    /// An auditor that does not wait for the database until it has to match.
    pub fn with_pending(db: &'db PendingDatabase, opts: ScanOptions) -> Self {
        Self::from_source(DbSource::Pending(db), opts)
    }

    fn from_source(db: DbSource<'db>, opts: ScanOptions) -> Self {
        let match_opts = MatchOptions {
            ignore: opts.ignore.clone(),
        };
        Auditor {
            db,
            opts,
            match_opts,
        }
    }

    pub fn options(&self) -> &ScanOptions {
        &self.opts
    }

    /// Audits a file on disk (a binary or a lock file).
    pub fn audit_file(&self, path: &Path, origin: Origin) -> AuditedInput<'db> {
        if crate::lockfile::looks_like_lockfile(path) {
            let outcome = match crate::lockfile::load(path) {
                Ok(packages) => InputOutcome::Audited {
                    format: None,
                    units: vec![self.unit(
                        None,
                        Platform::default(),
                        Completeness::Complete,
                        Some("Cargo.lock".into()),
                        packages,
                        None,
                    )],
                },
                Err(e) => InputOutcome::Error(e.to_string()),
            };
            return AuditedInput {
                path: path.to_owned(),
                kind: InputKind::LockFile,
                origin,
                outcome,
            };
        }
        match OpenedFile::open(path) {
            Ok(opened) => self.audit_opened(path.to_owned(), &opened, origin),
            Err(e) => self.audit_inspected(path.to_owned(), Err(e), Bytes::None, origin),
        }
    }

    /// Audits a binary someone already opened and read the first bytes of (the directory walk).
    /// A file named like a lock file is read by path, as [`Auditor::audit_file`] does.
    pub fn audit_open_file(
        &self,
        path: PathBuf,
        file: std::fs::File,
        head: Vec<u8>,
        origin: Origin,
    ) -> AuditedInput<'db> {
        if crate::lockfile::looks_like_lockfile(&path) {
            return self.audit_file(&path, origin);
        }
        match OpenedFile::from_parts(file, head) {
            Ok(opened) => self.audit_opened(path, &opened, origin),
            Err(e) => self.audit_inspected(path, Err(e), Bytes::None, origin),
        }
    }

    fn audit_opened(
        &self,
        path: PathBuf,
        opened: &OpenedFile,
        origin: Origin,
    ) -> AuditedInput<'db> {
        let result = inspect_opened(opened, &self.opts.limits);
        self.audit_inspected(path, result, Bytes::File(opened), origin)
    }

    /// Audits a binary held in memory (a file inside a container image).
    pub fn audit_bytes(&self, name: PathBuf, data: &[u8], origin: Origin) -> AuditedInput<'db> {
        let result = inspect_bytes(data, &self.opts.limits);
        self.audit_inspected(name, result, Bytes::Memory(data), origin)
    }

    fn audit_inspected(
        &self,
        path: PathBuf,
        result: Result<BinaryReport, InspectError>,
        bytes: Bytes<'_>,
        origin: Origin,
    ) -> AuditedInput<'db> {
        let outcome = match result {
            Err(e) if e.is_not_executable() => InputOutcome::NotExecutable,
            Err(e) => InputOutcome::Error(e.to_string()),
            Ok(report) => self.audit_report(report, bytes, &origin),
        };
        AuditedInput {
            path,
            kind: InputKind::Binary,
            origin,
            outcome,
        }
    }

    fn audit_report(
        &self,
        report: BinaryReport,
        bytes: Bytes<'_>,
        origin: &Origin,
    ) -> InputOutcome<'db> {
        let format = report.format;
        let family = family_of(format);
        let any_missing = report
            .images
            .iter()
            .any(|r| matches!(r.manifest, ImageManifest::Missing));
        // One recovery pass per file, shared by its images without a manifest.
        let recovered: Option<Result<(Recovered, Option<u64>), String>> =
            (any_missing && self.opts.fallback).then(|| recover(bytes));
        let installed = match origin {
            Origin::Installed(i) => Some(i),
            _ => None,
        };
        let all_missing = report
            .images
            .iter()
            .all(|r| matches!(r.manifest, ImageManifest::Missing));
        if all_missing && installed.is_none() {
            if let Some(Ok((r, _))) = &recovered {
                if !r.rust_evidence && r.packages.is_empty() {
                    return InputOutcome::NotRust { format };
                }
            }
        }
        let units = report
            .images
            .into_iter()
            .map(|r| {
                let mut platform = platform_of(&r.image);
                platform.family = Some(family);
                match r.manifest {
                    ImageManifest::Found { section, decoded } => {
                        let packages = decoded.manifest.packages().to_vec();
                        self.unit(
                            Some(r.image),
                            platform,
                            Completeness::Complete,
                            Some(section.to_owned()),
                            packages,
                            None,
                        )
                    }
                    ImageManifest::Invalid { section, error } => {
                        let why = format!("unreadable manifest in section {section}: {error}");
                        self.unit(
                            Some(r.image),
                            platform,
                            Completeness::None,
                            Some(section.to_owned()),
                            Vec::new(),
                            Some(why),
                        )
                    }
                    ImageManifest::Missing => match &recovered {
                        None => self.unit(
                            Some(r.image),
                            platform,
                            Completeness::None,
                            None,
                            install_root(installed),
                            None,
                        ),
                        Some(Err(e)) => self.unit(
                            Some(r.image),
                            platform,
                            Completeness::None,
                            None,
                            Vec::new(),
                            Some(e.clone()),
                        ),
                        Some(Ok((rec, partial))) => {
                            let mut packages = install_root(installed);
                            for (name, version) in &rec.packages {
                                if !packages
                                    .iter()
                                    .any(|p| &p.name == name && &p.version == version)
                                {
                                    packages.push(recovered_package(name, version));
                                }
                            }
                            let mut evidence = if installed.is_some() {
                                "panic-message paths and cargo install records".to_owned()
                            } else {
                                "panic-message paths".to_owned()
                            };
                            if let Some(len) = partial {
                                evidence.push_str(&format!(
                                    " (only the first {} MiB of {len} bytes were read)",
                                    MAX_FILE_BYTES >> 20
                                ));
                            }
                            self.unit(
                                Some(r.image),
                                platform,
                                Completeness::Recovered,
                                Some(evidence),
                                packages,
                                None,
                            )
                        }
                    },
                }
            })
            .collect();
        InputOutcome::Audited {
            format: Some(format),
            units,
        }
    }

    fn unit(
        &self,
        image: Option<Image>,
        platform: Platform,
        completeness: Completeness,
        evidence: Option<String>,
        packages: Vec<Package>,
        error: Option<String>,
    ) -> AuditedUnit<'db> {
        // Matched now if the database is open, else by `finish`.
        let matches = self
            .db
            .now()
            .map(|db| self.match_unit(db, &packages, &platform));
        AuditedUnit {
            image,
            platform,
            completeness,
            evidence,
            packages,
            matched: matches.is_some(),
            matches: matches.unwrap_or_default(),
            yanked: Vec::new(),
            error,
        }
    }

    fn match_unit(
        &self,
        db: &'db Database,
        packages: &[Package],
        platform: &Platform,
    ) -> Matches<'db> {
        let refs: Vec<PackageRef<'_>> = packages.iter().map(PackageRef::from).collect();
        match_packages(&refs, platform, &self.match_opts, |name| {
            db.advisories_for(name)
        })
    }

    /// Matches what was read before the database was open, checks yanked status for the whole
    /// run and assembles the report. Waits for a pending database; if it failed to open, units
    /// not matched yet stay unmatched (`matched: false`) and the summary is empty, so callers
    /// check [`PendingDatabase::wait`] first.
    pub fn finish(
        &self,
        mut inputs: Vec<AuditedInput<'db>>,
        yank: Option<&YankChecker>,
    ) -> AuditReport<'db> {
        let db = self.db.wait();
        if let Some(db) = db {
            for input in &mut inputs {
                if let InputOutcome::Audited { units, .. } = &mut input.outcome {
                    for unit in units.iter_mut().filter(|u| !u.matched) {
                        unit.matches = self.match_unit(db, &unit.packages, &unit.platform);
                        unit.matched = true;
                    }
                }
            }
        }
        if let Some(checker) = yank {
            check_yanked(&mut inputs, checker);
        }
        AuditReport {
            inputs,
            database: db.map(database_summary).unwrap_or_default(),
            policy: self.opts.policy.clone(),
            yanked_checked: yank.is_some(),
        }
    }
}

/// Recovers packages from the first [`MAX_FILE_BYTES`] of a binary; the second value is the
/// binary's length when it is longer, so that reports can say only part of it was read.
fn recover(bytes: Bytes<'_>) -> Result<(Recovered, Option<u64>), String> {
    let (recovered, len) = match bytes {
        Bytes::File(opened) => {
            let recovered = recover_from_read(opened.read_all(), MAX_FILE_BYTES)
                .map_err(|e| format!("cannot read the file to recover packages: {e}"))?;
            (recovered, opened.file_len())
        }
        Bytes::None => return Err("the file could not be opened".to_owned()),
        Bytes::Memory(d) => {
            let cap = usize::try_from(MAX_FILE_BYTES).unwrap_or(usize::MAX);
            (
                recover_from_slice(d.get(..cap).unwrap_or(d)),
                d.len() as u64,
            )
        }
    };
    Ok((recovered, (len > MAX_FILE_BYTES).then_some(len)))
}

/// The root crate `cargo install` recorded, as a package (it is what the binary was built from).
fn install_root(installed: Option<&crate::audit::Installed>) -> Vec<Package> {
    let Some(i) = installed else {
        return Vec::new();
    };
    let Ok(version) = semver::Version::parse(&i.version) else {
        return Vec::new();
    };
    let crates_io = i
        .source
        .starts_with("registry+https://github.com/rust-lang/crates.io-index")
        || i.source.starts_with("sparse+https://index.crates.io/");
    vec![Package {
        name: i.name.clone(),
        version,
        source: if crates_io {
            Source::CratesIo
        } else {
            Source::Other(i.source.split('+').next().unwrap_or("").to_owned())
        },
        kind: DependencyKind::Runtime,
        dependencies: Vec::new(),
        root: true,
    }]
}

/// A package seen in a crates.io registry path: assumed to be the crates.io crate, runtime.
fn recovered_package(name: &str, version: &semver::Version) -> Package {
    Package {
        name: name.to_owned(),
        version: version.clone(),
        source: Source::CratesIo,
        kind: DependencyKind::Runtime,
        dependencies: Vec::new(),
        root: false,
    }
}

/// Audits every path (files given on the command line), in parallel, in the order given.
pub fn audit_paths<'db>(
    paths: &[PathBuf],
    db: &'db Database,
    yank: Option<&YankChecker>,
    opts: &ScanOptions,
) -> AuditReport<'db> {
    let auditor = Auditor::new(db, opts.clone());
    let inputs = parallel_map(paths, |p| auditor.audit_file(p, Origin::File));
    auditor.finish(inputs, yank)
}

/// Applies `f` to every item on all cores, keeping the order.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let mut out: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len().max(1));
    let chunk = items.len().div_ceil(workers).max(1);
    std::thread::scope(|s| {
        for (slots, chunk_items) in out.chunks_mut(chunk).zip(items.chunks(chunk)) {
            let f = &f;
            s.spawn(move || {
                for (slot, item) in slots.iter_mut().zip(chunk_items) {
                    *slot = Some(f(item));
                }
            });
        }
    });
    out.into_iter().flatten().collect()
}

/// The report header's view of the database.
pub fn database_summary(db: &Database) -> DatabaseSummary {
    let info = db.info();
    DatabaseSummary {
        path: info.path.clone(),
        advisories: info.advisory_count,
        last_updated: info.last_updated().map(|d| d.to_string()),
    }
}

/// The platform an image declares, in Rust's spellings; unknown values are left out.
///
/// A WebAssembly module that declares no OS (no WASI imports) is for Rust's `target_os =
/// "unknown"`: it runs in a host, never directly on Windows, macOS or Linux.
pub fn platform_of(image: &Image) -> Platform {
    let arch = image
        .arch
        .is_known()
        .then(|| image.arch.as_str().to_owned());
    let wasm = matches!(arch.as_deref(), Some("wasm32" | "wasm64"));
    let os = match image.os {
        Some(o) => Some(o.as_str().to_owned()),
        None if wasm => Some("unknown".to_owned()),
        None => None,
    };
    Platform {
        os,
        arch,
        family: None,
    }
}

fn family_of(format: ContainerFormat) -> ObjectFamily {
    match format {
        ContainerFormat::Elf => ObjectFamily::Elf,
        ContainerFormat::MachO | ContainerFormat::MachOFat => ObjectFamily::MachO,
        ContainerFormat::Pe | ContainerFormat::Coff => ObjectFamily::Pe,
        ContainerFormat::Wasm => ObjectFamily::Wasm,
    }
}

/// One yanked query for every distinct crates.io package of the run.
fn check_yanked(inputs: &mut [AuditedInput<'_>], checker: &YankChecker) {
    let mut wanted: Vec<(String, semver::Version)> = Vec::new();
    let mut seen: HashMap<(String, semver::Version), usize> = HashMap::new();
    for input in inputs.iter() {
        if let InputOutcome::Audited { units, .. } = &input.outcome {
            for p in units.iter().flat_map(|u| &u.packages) {
                if p.source == Source::CratesIo {
                    let key = (p.name.clone(), p.version.clone());
                    if !seen.contains_key(&key) {
                        seen.insert(key.clone(), wanted.len());
                        wanted.push(key);
                    }
                }
            }
        }
    }
    let query: Vec<(&str, &semver::Version)> =
        wanted.iter().map(|(n, v)| (n.as_str(), v)).collect();
    let answers = checker.check(&query);
    for input in inputs.iter_mut() {
        if let InputOutcome::Audited { units, .. } = &mut input.outcome {
            for u in units.iter_mut() {
                u.yanked = u
                    .packages
                    .iter()
                    .map(|p| {
                        if p.source != Source::CratesIo {
                            return YankStatus::Unknown("not a crates.io package".into());
                        }
                        seen.get(&(p.name.clone(), p.version.clone()))
                            .and_then(|&i| answers.get(i).cloned())
                            .unwrap_or_else(|| YankStatus::Unknown("not checked".into()))
                    })
                    .collect();
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn repo() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    fn ids(input: &AuditedInput<'_>) -> Vec<(bool, Vec<String>)> {
        let InputOutcome::Audited { units, .. } = &input.outcome else {
            panic!("not audited: {:?}", input.outcome);
        };
        units
            .iter()
            .map(|u| {
                let ids = u.matches.findings.iter().map(|f| f.advisory.id.clone());
                (u.matched, ids.collect())
            })
            .collect()
    }

    #[test]
    fn units_read_before_the_database_opens_are_matched_by_finish() {
        let db = Database::open(
            &repo().join("tests/fixtures/advisory-db-small"),
            &OpenOptions::without_cache(),
        )
        .unwrap();
        let path = repo().join("sample-binaries/x86_64-linux-gnu");
        let bytes = std::fs::read(&path).unwrap();

        let direct = Auditor::new(&db, ScanOptions::default());
        let expected = direct.finish(
            vec![direct.audit_bytes(path.clone(), &bytes, Origin::File)],
            None,
        );
        let expected_ids = ids(&expected.inputs[0]);
        assert!(expected_ids[0].0 && !expected_ids[0].1.is_empty());

        // The database is not open yet while the binary is read: nothing is matched.
        let pending = PendingDatabase::default();
        let auditor = Auditor::with_pending(&pending, ScanOptions::default());
        let early = auditor.audit_bytes(path.clone(), &bytes, Origin::File);
        assert_eq!(ids(&early), vec![(false, Vec::new())]);
        // Once it is, `finish` matches what was read before (and what comes after is matched
        // on the spot).
        pending.fill(Some(db.clone()));
        let late = auditor.audit_bytes(path.clone(), &bytes, Origin::File);
        assert_eq!(ids(&late), expected_ids);
        let report = auditor.finish(vec![early, late], None);
        assert_eq!(ids(&report.inputs[0]), expected_ids);
        assert_eq!(ids(&report.inputs[1]), expected_ids);
        assert_eq!(report.database.advisories, expected.database.advisories);
    }

    #[test]
    fn a_database_that_fails_to_open_leaves_no_one_waiting() {
        let (pending, handle) = PendingDatabase::open_in_background(
            repo().join("no-such-database"),
            OpenOptions::without_cache(),
        );
        assert!(pending.wait().is_none());
        assert!(matches!(
            handle.join().unwrap(),
            Err(DbError::NotFound { .. })
        ));
    }
}
