//! The result of auditing a set of inputs: what every report format renders.
//!
//! Built by the `scan` pipeline from [`crate::binary`] (or a lock file), the advisory database,
//! [`crate::matching`] and the yanked check. Nothing here does I/O.

use std::collections::BTreeSet;
use std::path::PathBuf;

use linker_section::{DependencyKind, Package};

use crate::advisory::{AdvisoryKind, Severity};
use crate::binary::Completeness;
use crate::extract::{ContainerFormat, Image};
use crate::matching::{Matches, Platform};

/// What the yanked check found for one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum YankStatus {
    Yanked,
    Available,
    /// Not known: offline without a cached index entry, the index did not answer, or the
    /// package is not on crates.io. The reason says which.
    Unknown(String),
}

/// One architecture image of a binary, or the package list of a lock file, audited.
#[derive(Debug, Clone)]
pub struct AuditedUnit<'db> {
    /// The image's headers; `None` for a lock file.
    pub image: Option<Image>,
    pub platform: Platform,
    pub completeness: Completeness,
    /// Where the package list came from: `.dep-v0`, a legacy section name, `Cargo.lock`.
    pub evidence: Option<String>,
    pub packages: Vec<Package>,
    pub matches: Matches<'db>,
    /// Whether `matches` was computed: false only while the database was still being opened
    /// (see `scan::Auditor::finish`, which matches such units).
    pub matched: bool,
    /// Yank status per package (same indices as `packages`); empty when not checked.
    pub yanked: Vec<YankStatus>,
    /// Why the unit's package list could not be read (an invalid manifest), if so.
    pub error: Option<String>,
}

/// What became of one input.
#[derive(Debug, Clone)]
pub enum InputOutcome<'db> {
    /// The input was read; each unit is an architecture image (or the lock file's packages).
    Audited {
        format: Option<ContainerFormat>,
        units: Vec<AuditedUnit<'db>>,
    },
    /// A readable file that is not an executable, object file or lock file.
    NotExecutable,
    /// A valid executable with no manifest and no sign of being a Rust program: counted, not
    /// an error.
    NotRust { format: ContainerFormat },
    /// The input could not be read or parsed at all.
    Error(String),
}

/// Whether the input was a binary or a lock file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Binary,
    LockFile,
}

#[derive(Debug, Clone)]
pub struct AuditedInput<'db> {
    /// What to call the input: a file path, `IMAGE:/path/in/image`, or `/proc/PID/exe`.
    pub path: PathBuf,
    pub kind: InputKind,
    /// Where the input came from, beyond its path.
    pub origin: Origin,
    pub outcome: InputOutcome<'db>,
}

/// Where an audited binary was found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Origin {
    /// A file given or found on this machine.
    #[default]
    File,
    /// A file `cargo install` put in `$CARGO_HOME/bin`, as its install records say.
    Installed(Installed),
    /// A file inside a container image.
    Image {
        /// The image reference (tag) or file name.
        image: String,
        /// Digest of the layer that introduced the file.
        layer: String,
        /// Path inside the image.
        path: String,
    },
    /// The binary of running processes (one entry per process running it).
    Processes(Vec<RunningProcess>),
}

/// What `cargo install` recorded for a binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    pub name: String,
    pub version: String,
    /// The source id as cargo wrote it.
    pub source: String,
    /// The command that upgrades it (and embeds a manifest).
    pub upgrade: String,
}

/// One process running an audited binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningProcess {
    pub pid: u32,
    pub cmdline: String,
    /// The path the process was started from.
    pub exe: PathBuf,
    /// `None` when the file at `exe` is still the one running; else what happened to it
    /// ("deleted" or "replaced on disk"): the process still runs the old code.
    pub changed: Option<String>,
}

/// What the database was, for the report header and machine formats.
#[derive(Debug, Clone, Default)]
pub struct DatabaseSummary {
    pub path: PathBuf,
    pub advisories: usize,
    /// Date of the newest advisory (or commit), `YYYY-MM-DD`.
    pub last_updated: Option<String>,
}

/// Which findings count against the exit status, and which are only shown.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Informational kinds (and `yanked`) that fail the audit like vulnerabilities do.
    pub deny: BTreeSet<DenyKind>,
    /// Vulnerabilities below this severity are reported but do not fail the audit.
    /// Vulnerabilities without a CVSS score always count.
    pub severity_threshold: Option<Severity>,
    /// Leave build-only packages (`kind: build`) out of the findings entirely.
    pub exclude_build: bool,
    /// Vulnerabilities are warnings, not failures (the audit after `binaudit build`, unless
    /// `--deny vulnerabilities`).
    pub allow_vulnerabilities: bool,
}

/// What `--deny` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DenyKind {
    Unmaintained,
    Unsound,
    Notice,
    Yanked,
    /// Results that are not complete: packages recovered from panic-message paths, or a binary
    /// without a manifest audited without the fallback.
    Incomplete,
    /// Every warning kind, including unknown informational kinds and incomplete results.
    Warnings,
}

impl DenyKind {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "unmaintained" => DenyKind::Unmaintained,
            "unsound" => DenyKind::Unsound,
            "notice" => DenyKind::Notice,
            "yanked" => DenyKind::Yanked,
            "incomplete" => DenyKind::Incomplete,
            "warnings" => DenyKind::Warnings,
            _ => return None,
        })
    }
}

impl Policy {
    /// Whether a finding of this kind and severity fails the audit.
    pub fn fails(&self, kind: &AdvisoryKind, severity: Option<Severity>) -> bool {
        let denied =
            |k: DenyKind| self.deny.contains(&k) || self.deny.contains(&DenyKind::Warnings);
        match kind {
            AdvisoryKind::Vulnerability if self.allow_vulnerabilities => false,
            AdvisoryKind::Vulnerability => match (self.severity_threshold, severity) {
                (Some(t), Some(s)) => s >= t,
                _ => true,
            },
            AdvisoryKind::Unmaintained => denied(DenyKind::Unmaintained),
            AdvisoryKind::Unsound => denied(DenyKind::Unsound),
            AdvisoryKind::Notice => denied(DenyKind::Notice),
            AdvisoryKind::Other(_) => denied(DenyKind::Warnings),
        }
    }

    pub fn yanked_fails(&self) -> bool {
        self.deny.contains(&DenyKind::Yanked) || self.deny.contains(&DenyKind::Warnings)
    }

    pub fn incomplete_fails(&self) -> bool {
        self.deny.contains(&DenyKind::Incomplete) || self.deny.contains(&DenyKind::Warnings)
    }
}

/// All inputs, audited.
#[derive(Debug, Clone)]
pub struct AuditReport<'db> {
    pub inputs: Vec<AuditedInput<'db>>,
    pub database: DatabaseSummary,
    pub policy: Policy,
    /// Whether yanked status was checked at all (`--no-yanked` turns it off).
    pub yanked_checked: bool,
}

/// Counts for the summary line and the exit status. Crates are counted once per distinct
/// name and version, however many binaries or advisories they appear in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub binaries: usize,
    pub lock_files: usize,
    pub vulnerable: usize,
    pub unmaintained: usize,
    pub unsound: usize,
    pub notice: usize,
    pub other_warnings: usize,
    pub yanked: usize,
    pub ignored: usize,
    /// Inputs or images that could not be audited.
    pub errors: usize,
    /// Readable files that are not binaries.
    pub not_executable: usize,
    /// Executables without a manifest and without any sign of Rust.
    pub not_rust: usize,
    /// Audited units whose package list is incomplete (recovered, or no manifest at all).
    pub incomplete: usize,
    /// Findings that fail the audit under the policy.
    pub failing: usize,
}

impl AuditReport<'_> {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        let mut sets: [BTreeSet<(String, String)>; 6] = Default::default();
        for input in &self.inputs {
            match &input.outcome {
                InputOutcome::NotExecutable => s.not_executable += 1,
                InputOutcome::NotRust { .. } => s.not_rust += 1,
                InputOutcome::Error(_) => s.errors += 1,
                InputOutcome::Audited { units, .. } => {
                    match input.kind {
                        InputKind::Binary => s.binaries += 1,
                        InputKind::LockFile => s.lock_files += 1,
                    }
                    for unit in units {
                        if unit.error.is_some() {
                            s.errors += 1;
                        } else if unit.completeness != Completeness::Complete {
                            s.incomplete += 1;
                            if self.policy.incomplete_fails() {
                                s.failing += 1;
                            }
                        }
                        for f in &unit.matches.findings {
                            let Some(p) = unit.packages.get(f.package) else {
                                continue;
                            };
                            if self.policy.exclude_build && f.kind == DependencyKind::Build {
                                continue;
                            }
                            if f.ignored {
                                s.ignored += 1;
                                continue;
                            }
                            if self.policy.fails(&f.advisory.kind, f.advisory.severity()) {
                                s.failing += 1;
                            }
                            let slot = match f.advisory.kind {
                                AdvisoryKind::Vulnerability => 0,
                                AdvisoryKind::Unmaintained => 1,
                                AdvisoryKind::Unsound => 2,
                                AdvisoryKind::Notice => 3,
                                AdvisoryKind::Other(_) => 4,
                            };
                            sets[slot].insert((p.name.clone(), p.version.to_string()));
                        }
                        for (i, y) in unit.yanked.iter().enumerate() {
                            let Some(p) = unit.packages.get(i) else {
                                continue;
                            };
                            let counted = *y == YankStatus::Yanked
                                && !(self.policy.exclude_build && p.kind == DependencyKind::Build);
                            if counted
                                && sets[5].insert((p.name.clone(), p.version.to_string()))
                                && self.policy.yanked_fails()
                            {
                                s.failing += 1;
                            }
                        }
                    }
                }
            }
        }
        [
            s.vulnerable,
            s.unmaintained,
            s.unsound,
            s.notice,
            s.other_warnings,
            s.yanked,
        ] = sets.map(|set| set.len());
        s
    }

    /// 0 clean, 1 findings that fail under the policy, 2 any input that could not be audited
    /// (errors win: a partial audit must not read as a pass or as a plain finding).
    pub fn exit_code(&self) -> u8 {
        self.summary().exit_code()
    }
}

impl Summary {
    /// 2 when an input could not be audited (or was not an executable), 1 when a finding fails
    /// the audit, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.errors > 0 || self.not_executable > 0 {
            2
        } else if self.failing > 0 {
            1
        } else {
            0
        }
    }

    /// "2 vulnerable, 1 unsound and 3 yanked crates in 4 binaries", or `None` when clean.
    pub fn findings_phrase(&self) -> Option<String> {
        let parts: Vec<String> = [
            (self.vulnerable, "vulnerable"),
            (self.unsound, "unsound"),
            (self.unmaintained, "unmaintained"),
            (self.notice, "notice-flagged"),
            (self.other_warnings, "otherwise flagged"),
            (self.yanked, "yanked"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        if parts.is_empty() {
            return None;
        }
        let list = match parts.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => parts.join(""),
        };
        let total = self.vulnerable
            + self.unsound
            + self.unmaintained
            + self.notice
            + self.other_warnings
            + self.yanked;
        Some(format!(
            "{list} {}",
            if total == 1 { "crate" } else { "crates" }
        ))
    }

    /// "4 binaries", "1 binary and 1 lock file".
    pub fn inputs_phrase(&self) -> String {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        match (self.binaries, self.lock_files) {
            (b, 0) => plural(b, "binary", "binaries"),
            (0, l) => plural(l, "lock file", "lock files"),
            (b, l) => format!(
                "{} and {}",
                plural(b, "binary", "binaries"),
                plural(l, "lock file", "lock files")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_phrases() {
        let s = Summary {
            vulnerable: 2,
            unsound: 1,
            yanked: 3,
            binaries: 4,
            ..Default::default()
        };
        assert_eq!(
            s.findings_phrase().as_deref(),
            Some("2 vulnerable, 1 unsound and 3 yanked crates")
        );
        assert_eq!(s.inputs_phrase(), "4 binaries");
        let s = Summary {
            vulnerable: 1,
            binaries: 1,
            lock_files: 1,
            ..Default::default()
        };
        assert_eq!(s.findings_phrase().as_deref(), Some("1 vulnerable crate"));
        assert_eq!(s.inputs_phrase(), "1 binary and 1 lock file");
        assert_eq!(Summary::default().findings_phrase(), None);
    }

    #[test]
    fn policy_denies_warning_kinds_on_request() {
        let mut p = Policy::default();
        assert!(p.fails(&AdvisoryKind::Vulnerability, None));
        assert!(!p.fails(&AdvisoryKind::Unmaintained, None));
        p.deny.insert(DenyKind::Unmaintained);
        assert!(p.fails(&AdvisoryKind::Unmaintained, None));
        assert!(!p.fails(&AdvisoryKind::Unsound, None));
        p.deny.insert(DenyKind::Warnings);
        assert!(
            p.fails(&AdvisoryKind::Unsound, None)
                && p.fails(&AdvisoryKind::Other("x".into()), None)
                && p.yanked_fails()
        );
    }

    #[test]
    fn severity_threshold_spares_low_vulnerabilities_but_not_unscored_ones() {
        let p = Policy {
            severity_threshold: Some(Severity::High),
            ..Default::default()
        };
        assert!(!p.fails(&AdvisoryKind::Vulnerability, Some(Severity::Medium)));
        assert!(p.fails(&AdvisoryKind::Vulnerability, Some(Severity::Critical)));
        assert!(p.fails(&AdvisoryKind::Vulnerability, None));
    }
}
