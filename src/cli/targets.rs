//! What `scan` looks at: files, directories (walked in parallel), container images, running
//! processes, and by default `$CARGO_HOME/bin`. Each is turned into audited inputs as it is
//! found, with a progress line on stderr when stderr is a terminal.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{anyhow, Context};
use binaudit::audit::{AuditedInput, InputKind, InputOutcome, Installed, Origin, RunningProcess};
use binaudit::scan::{parallel_map, Auditor};
use binaudit::targets::cargo_install::InstallRecords;
use binaudit::targets::image::{is_image, walk_image, ImageOptions};
use binaudit::targets::process::{list_processes, BinaryState};
use binaudit::targets::walk::{walk_open, Found, WalkOptions};

/// How `scan` gathers its inputs.
#[derive(Debug, Clone, Default)]
pub struct TargetOptions {
    pub follow_links: bool,
    pub processes: bool,
    pub platform: Option<String>,
    pub progress: bool,
}

/// Counters shown on the progress line.
#[derive(Debug, Default)]
pub struct Progress {
    files: AtomicU64,
    binaries: AtomicU64,
    findings: AtomicU64,
    done: AtomicBool,
}

impl Progress {
    fn record(&self, input: &AuditedInput<'_>) {
        self.binaries.fetch_add(1, Ordering::Relaxed);
        if let InputOutcome::Audited { units, .. } = &input.outcome {
            let n: usize = units
                .iter()
                .map(|u| u.matches.findings.iter().filter(|f| !f.ignored).count())
                .sum();
            self.findings.fetch_add(n as u64, Ordering::Relaxed);
        }
    }

    fn line(&self) -> String {
        format!(
            "scanning: {} files seen, {} binaries, {} findings so far",
            self.files.load(Ordering::Relaxed),
            self.binaries.load(Ordering::Relaxed),
            self.findings.load(Ordering::Relaxed)
        )
    }
}

/// Gathers and audits everything `paths` (and `--processes`) name.
pub fn gather<'db>(
    auditor: &Auditor<'db>,
    paths: &[PathBuf],
    opts: &TargetOptions,
) -> anyhow::Result<Vec<AuditedInput<'db>>> {
    let progress = Progress::default();
    let show = opts.progress && std::io::stderr().is_terminal();
    let inputs = std::thread::scope(|s| -> anyhow::Result<Vec<AuditedInput<'db>>> {
        if show {
            let progress = &progress;
            s.spawn(move || {
                // Drawn at least once, then every 200 ms until the scan is done.
                loop {
                    eprint!("\r\x1b[2K{}", progress.line());
                    let _ = std::io::stderr().flush();
                    if progress.done.load(Ordering::Relaxed) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
                eprint!("\r\x1b[2K");
            });
        }
        let result = gather_inner(auditor, paths, opts, &progress);
        progress.done.store(true, Ordering::Relaxed);
        result
    })?;
    Ok(inputs)
}

fn gather_inner<'db>(
    auditor: &Auditor<'db>,
    paths: &[PathBuf],
    opts: &TargetOptions,
    progress: &Progress,
) -> anyhow::Result<Vec<AuditedInput<'db>>> {
    let mut inputs = Vec::new();
    if paths.is_empty() && !opts.processes {
        inputs.extend(cargo_bin(auditor, progress)?);
    }
    let mut files = Vec::new();
    for path in paths {
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => {
                inputs.push(error_input(path, format!("cannot open: {e}")));
                continue;
            }
        };
        if is_image(path) {
            inputs.extend(image(auditor, path, opts, progress));
        } else if meta.is_dir() {
            inputs.extend(directory(auditor, path, opts, progress));
        } else {
            files.push(path.clone());
        }
    }
    progress
        .files
        .fetch_add(files.len() as u64, Ordering::Relaxed);
    inputs.extend(parallel_map(&files, |p| {
        let input = auditor.audit_file(p, Origin::File);
        progress.record(&input);
        input
    }));
    if opts.processes {
        inputs.extend(processes(auditor, progress)?);
    }
    Ok(inputs)
}

fn error_input<'db>(path: &Path, reason: String) -> AuditedInput<'db> {
    AuditedInput {
        path: path.to_owned(),
        kind: InputKind::Binary,
        origin: Origin::File,
        outcome: InputOutcome::Error(reason),
    }
}

/// A directory: every executable below it, audited while the walk goes on.
fn directory<'db>(
    auditor: &Auditor<'db>,
    root: &Path,
    opts: &TargetOptions,
    progress: &Progress,
) -> Vec<AuditedInput<'db>> {
    let found = Mutex::new(Vec::new());
    let walk_opts = WalkOptions {
        follow_links: opts.follow_links,
        ..WalkOptions::default()
    };
    let summary = walk_open(&[root.to_owned()], &walk_opts, &|item| {
        progress.files.fetch_add(1, Ordering::Relaxed);
        let input = match item {
            Found::Binary { path, file, head } => {
                let input = auditor.audit_open_file(path, file, head, Origin::File);
                progress.record(&input);
                input
            }
            Found::Error { path, reason } => error_input(&path, reason),
        };
        if let Ok(mut f) = found.lock() {
            f.push(input);
        }
    });
    // Files that were not binaries were counted by the walk, not visited.
    progress
        .files
        .fetch_add(summary.not_binaries + summary.special, Ordering::Relaxed);
    found.into_inner().unwrap_or_default()
}

/// A container image: every executable in its final filesystem, streamed layer by layer.
fn image<'db>(
    auditor: &Auditor<'db>,
    path: &Path,
    opts: &TargetOptions,
    progress: &Progress,
) -> Vec<AuditedInput<'db>> {
    let mut inputs = Vec::new();
    let image_opts = ImageOptions {
        platform: opts.platform.clone(),
        ..ImageOptions::default()
    };
    let result = walk_image(path, &image_opts, &mut |entry| {
        let name = PathBuf::from(format!("{}:{}", entry.image, entry.path));
        let origin = Origin::Image {
            image: entry.image.to_owned(),
            layer: entry.layer.to_owned(),
            path: entry.path.to_owned(),
        };
        let input = auditor.audit_bytes(name, entry.data, origin);
        progress.record(&input);
        inputs.push(input);
    });
    match result {
        Ok(summary) => {
            progress.files.fetch_add(summary.files, Ordering::Relaxed);
            for (p, why) in summary.skipped {
                inputs.push(error_input(
                    &PathBuf::from(format!("{}:{p}", summary.reference)),
                    why,
                ));
            }
        }
        Err(e) => inputs.push(error_input(path, format!("cannot read the image: {e}"))),
    }
    inputs
}

/// `$CARGO_HOME/bin`, with what `cargo install` recorded about each binary.
fn cargo_bin<'db>(
    auditor: &Auditor<'db>,
    progress: &Progress,
) -> anyhow::Result<Vec<AuditedInput<'db>>> {
    let home = binaudit::config::cargo_home()
        .ok_or_else(|| anyhow!("no paths given and no home directory to find $CARGO_HOME/bin"))?;
    let dir = home.join("bin");
    let records = match InstallRecords::load(&home) {
        Ok(r) => Some(r),
        Err(e) => {
            eprintln!("warning: cargo's install records cannot be read: {e}");
            None
        }
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("no paths given, and {} cannot be listed", dir.display()))?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink()))
        .map(|e| e.path())
        .collect();
    paths.sort();
    progress
        .files
        .fetch_add(paths.len() as u64, Ordering::Relaxed);
    Ok(parallel_map(&paths, |p| {
        let installed = records.as_ref().and_then(|r| {
            let name = p.file_name()?.to_string_lossy().into_owned();
            let i = r.for_binary(&name)?;
            Some(Installed {
                name: i.name.clone(),
                version: i.version.to_string(),
                source: i.source.clone(),
                upgrade: r.upgrade_command(i),
            })
        });
        let origin = installed.map_or(Origin::File, Origin::Installed);
        let input = auditor.audit_file(p, origin);
        progress.record(&input);
        input
    }))
}

/// Running processes: each distinct binary once, with every process that runs it.
fn processes<'db>(
    auditor: &Auditor<'db>,
    progress: &Progress,
) -> anyhow::Result<Vec<AuditedInput<'db>>> {
    let (procs, errors) = list_processes().context("listing running processes")?;
    if !errors.is_empty() {
        eprintln!(
            "note: {} processes could not be inspected (e.g. other users' without privileges)",
            errors.len()
        );
    }
    let mut by_binary: BTreeMap<(u64, u64), Vec<_>> = BTreeMap::new();
    for p in procs {
        by_binary.entry(p.key).or_default().push(p);
    }
    let groups: Vec<_> = by_binary.into_values().collect();
    progress
        .files
        .fetch_add(groups.len() as u64, Ordering::Relaxed);
    let inputs = parallel_map(&groups, |group| {
        let first = &group[0];
        let running: Vec<RunningProcess> = group
            .iter()
            .map(|p| RunningProcess {
                pid: p.pid,
                cmdline: p.cmdline.clone(),
                exe: p.exe.clone(),
                changed: match p.state {
                    BinaryState::Same => None,
                    BinaryState::Deleted => Some("deleted".to_owned()),
                    BinaryState::Replaced => Some("replaced on disk".to_owned()),
                },
            })
            .collect();
        let mut input = auditor.audit_file(&first.open_path, Origin::Processes(running));
        input.path = first.exe.clone();
        progress.record(&input);
        input
    });
    // Only executables that are Rust programs are of interest among processes.
    Ok(inputs
        .into_iter()
        .filter(|i| {
            !matches!(
                i.outcome,
                InputOutcome::NotRust { .. } | InputOutcome::NotExecutable
            )
        })
        .collect())
}
