//! The audit pipeline: paths in, [`AuditReport`] out.
//!
//! Each input is inspected ([`crate::binary`]) or parsed as a lock file ([`crate::lockfile`]),
//! every architecture image is matched against the database ([`crate::matching`]) with the
//! platform its headers declare, and the yanked status of all crates.io packages is checked
//! once for the whole run. Inputs are independent and processed in parallel; the report keeps
//! the order they were given in. A failure on one input is recorded on that input only.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use linker_section::{Package, Source};

use crate::advisory::db::Database;
use crate::audit::{
    AuditReport, AuditedInput, AuditedUnit, DatabaseSummary, InputKind, InputOutcome, Policy,
    YankStatus,
};
use crate::binary::{inspect_path, Completeness, ImageManifest};
use crate::decode::Limits;
use crate::extract::{ContainerFormat, Image};
use crate::matching::{match_packages, MatchOptions, Matches, ObjectFamily, PackageRef, Platform};
use crate::yanked::YankChecker;

/// What a scan needs besides its inputs.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    pub limits: Limits,
    /// Advisory ids or aliases reported as ignored.
    pub ignore: Vec<String>,
    pub policy: Policy,
}

/// Audits every path. `yank` is `None` when the yanked check is off.
pub fn audit_paths<'db>(
    paths: &[PathBuf],
    db: &'db Database,
    yank: Option<&YankChecker>,
    opts: &ScanOptions,
) -> AuditReport<'db> {
    let match_opts = MatchOptions {
        ignore: opts.ignore.clone(),
    };
    let mut inputs: Vec<Option<AuditedInput<'db>>> = (0..paths.len()).map(|_| None).collect();
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(paths.len().max(1));
    let chunk = paths.len().div_ceil(workers).max(1);
    std::thread::scope(|s| {
        for (slots, chunk_paths) in inputs.chunks_mut(chunk).zip(paths.chunks(chunk)) {
            let match_opts = &match_opts;
            s.spawn(move || {
                for (slot, path) in slots.iter_mut().zip(chunk_paths) {
                    *slot = Some(audit_one(path, db, match_opts, &opts.limits));
                }
            });
        }
    });
    let mut inputs: Vec<AuditedInput<'db>> = inputs.into_iter().flatten().collect();
    if let Some(checker) = yank {
        check_yanked(&mut inputs, checker);
    }
    AuditReport {
        inputs,
        database: database_summary(db),
        policy: opts.policy.clone(),
        yanked_checked: yank.is_some(),
    }
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

fn audit_one<'db>(
    path: &Path,
    db: &'db Database,
    match_opts: &MatchOptions,
    limits: &Limits,
) -> AuditedInput<'db> {
    if crate::lockfile::looks_like_lockfile(path) {
        let outcome = match crate::lockfile::load(path) {
            Ok(packages) => InputOutcome::Audited {
                format: None,
                units: vec![unit(
                    None,
                    Platform::default(),
                    Completeness::Complete,
                    Some("Cargo.lock".into()),
                    packages,
                    None,
                    db,
                    match_opts,
                )],
            },
            Err(e) => InputOutcome::Error(e.to_string()),
        };
        return AuditedInput {
            path: path.to_owned(),
            kind: InputKind::LockFile,
            outcome,
        };
    }
    let outcome = match inspect_path(path, limits) {
        Err(e) if e.is_not_executable() => InputOutcome::NotExecutable,
        Err(e) => InputOutcome::Error(e.to_string()),
        Ok(report) => {
            let units = report
                .images
                .into_iter()
                .map(|r| {
                    let mut platform = platform_of(&r.image);
                    platform.family = Some(family_of(report.format));
                    match r.manifest {
                        ImageManifest::Found { section, decoded } => {
                            let packages = decoded.manifest.packages().to_vec();
                            unit(Some(r.image), platform, Completeness::Complete, Some(section.to_owned()), packages, None, db, match_opts)
                        }
                        ImageManifest::Missing => {
                            let why = "no dependency manifest (no .dep-v0 section): rebuild with `cargo binaudit build`";
                            unit(Some(r.image), platform, Completeness::None, None, Vec::new(), Some(why.to_owned()), db, match_opts)
                        }
                        ImageManifest::Invalid { section, error } => {
                            let why = format!("unreadable manifest in section {section}: {error}");
                            unit(Some(r.image), platform, Completeness::None, Some(section.to_owned()), Vec::new(), Some(why), db, match_opts)
                        }
                    }
                })
                .collect();
            InputOutcome::Audited {
                format: Some(report.format),
                units,
            }
        }
    };
    AuditedInput {
        path: path.to_owned(),
        kind: InputKind::Binary,
        outcome,
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

#[allow(clippy::too_many_arguments)] // one constructor call site per outcome; a struct would only rename them
fn unit<'db>(
    image: Option<Image>,
    platform: Platform,
    completeness: Completeness,
    evidence: Option<String>,
    packages: Vec<Package>,
    error: Option<String>,
    db: &'db Database,
    match_opts: &MatchOptions,
) -> AuditedUnit<'db> {
    let matches: Matches<'db> = {
        let refs: Vec<PackageRef<'_>> = packages
            .iter()
            .map(|p| PackageRef {
                name: &p.name,
                version: &p.version,
                source: &p.source,
                kind: p.kind,
            })
            .collect();
        match_packages(&refs, &platform, match_opts, |name| db.advisories_for(name))
    };
    AuditedUnit {
        image,
        platform,
        completeness,
        evidence,
        packages,
        matches,
        yanked: Vec::new(),
        error,
    }
}

/// One yanked query for every distinct crates.io package of the run.
fn check_yanked(inputs: &mut [AuditedInput<'_>], checker: &YankChecker) {
    let mut wanted: Vec<(String, semver::Version)> = Vec::new();
    let mut seen: HashMap<(String, semver::Version), usize> = HashMap::new();
    for_each_unit(inputs, |u| {
        for p in &u.packages {
            if p.source == Source::CratesIo {
                let key = (p.name.clone(), p.version.clone());
                if !seen.contains_key(&key) {
                    seen.insert(key.clone(), wanted.len());
                    wanted.push(key);
                }
            }
        }
    });
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

fn for_each_unit(inputs: &[AuditedInput<'_>], mut f: impl FnMut(&AuditedUnit<'_>)) {
    for input in inputs {
        if let InputOutcome::Audited { units, .. } = &input.outcome {
            units.iter().for_each(&mut f);
        }
    }
}
