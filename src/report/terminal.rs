//! `binaudit scan` for people: per input what it is, its findings grouped by severity with fix
//! advice, and one summary line at the end.
//!
//! Layout, per unit (an architecture image, or a lock file's package list): vulnerabilities by
//! severity (critical, high, medium, low, then unscored), then the warning kinds (unsound,
//! unmaintained, notices, other, yanked); findings on build-only packages follow in their own
//! "build-time dependencies" group, or are left out when the policy excludes them. Ignored
//! findings and advisories whose platform excludes the image are one line each, so a finding
//! another tool reports is never silently absent here.
//!
//! Colour is the caller's decision ([`TerminalOptions::color`]: a terminal, `NO_COLOR`,
//! `--color`); it is written as plain ANSI escapes and not at all when off.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use linker_section::{DependencyKind, Package, Source};

use super::json::{
    finding_fails, shown_findings, shown_not_applicable, shown_yanked, sorted_inputs,
};
use super::show::describe_image;
use crate::advisory::{AdvisoryKind, Severity};
use crate::audit::{
    AuditReport, AuditedInput, AuditedUnit, InputKind, InputOutcome, Origin, YankStatus,
};
use crate::binary::Completeness;
use crate::matching::{Finding, Platform, PlatformMatch};

/// How the report is written.
#[derive(Debug, Clone, Default)]
pub struct TerminalOptions {
    /// Whether to write ANSI colour escapes.
    pub color: bool,
}

/// Writes the whole report: every input, then the summary line.
pub fn write(out: &mut dyn Write, report: &AuditReport, opts: &TerminalOptions) -> io::Result<()> {
    let p = Paint(opts.color);
    for input in sorted_inputs(report) {
        write_input(out, report, input, p)?;
    }
    writeln!(out, "{}", summary_line(report, opts))
}

/// The last line of the report, e.g. `warning: 2 vulnerable, 1 unsound and 3 yanked crates in
/// 4 binaries`, `error: …` when the audit fails, or `no known advisories or yanked crates in 4
/// binaries (database: 1225 advisories, updated 2026-08-21)` when clean. Inputs that could not
/// be audited and binaries without a manifest are added after a semicolon; either makes a clean
/// result a warning or an error, never clean.
pub fn summary_line(report: &AuditReport, opts: &TerminalOptions) -> String {
    let p = Paint(opts.color);
    let s = report.summary();
    let (unaudited, unchecked) = unaudited_and_unchecked(report);
    let mut parts = Vec::new();
    let audited_any = s.binaries + s.lock_files > 0;
    let clean = match s.findings_phrase() {
        Some(findings) => {
            parts.push(format!("{findings} in {}", s.inputs_phrase()));
            false
        }
        None if audited_any || unaudited == 0 => {
            let what = if report.yanked_checked {
                "no known advisories or yanked crates"
            } else {
                "no known advisories"
            };
            let mut db = format!("database: {} advisories", report.database.advisories);
            if let Some(d) = &report.database.last_updated {
                db.push_str(&format!(", updated {d}"));
            }
            if !report.yanked_checked {
                db = format!("yanked crates not checked; {db}");
            }
            parts.push(format!("{what} in {} ({db})", s.inputs_phrase()));
            true
        }
        None => false,
    };
    if unchecked > 0 {
        parts.push(format!(
            "{} without a dependency manifest (not checked)",
            plural(unchecked, "binary", "binaries")
        ));
    }
    let recovered = s.incomplete.saturating_sub(unchecked);
    if recovered > 0 {
        parts.push(format!(
            "{} incomplete (crates recovered from panic messages, no manifest)",
            plural(recovered, "result", "results")
        ));
    }
    if s.not_rust > 0 {
        parts.push(format!(
            "{} not Rust programs",
            plural(s.not_rust, "executable", "executables")
        ));
    }
    if unaudited > 0 {
        parts.push(format!(
            "{} could not be audited",
            plural(unaudited, "input", "inputs")
        ));
    }
    let line = parts.join("; ");
    if s.failing > 0 || unaudited > 0 {
        format!("{} {line}", p.paint(Style::Error, "error:"))
    } else if !clean || s.incomplete > 0 {
        format!("{} {line}", p.paint(Style::Warning, "warning:"))
    } else {
        p.paint(Style::Good, &line)
    }
}

/// The one line `binaudit build` prints after linking when what it built has findings, e.g.
/// `warning: 1 vulnerable and 2 yanked crates in target/release/app: crossbeam
/// (RUSTSEC-2018-0009), … — run binaudit scan target/release/app for details`; `error:` when the
/// findings fail under the policy. `None` when there is nothing to say.
pub fn build_line(report: &AuditReport, opts: &TerminalOptions) -> Option<String> {
    const LISTED: usize = 3;
    let p = Paint(opts.color);
    let s = report.summary();
    let phrase = s.findings_phrase()?;
    // Crate → what is wrong with it: advisory ids, then "yanked".
    let mut crates: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for input in &report.inputs {
        let InputOutcome::Audited { units, .. } = &input.outcome else {
            continue;
        };
        for unit in units {
            for (f, pkg) in shown_findings(report, unit) {
                if !f.ignored {
                    crates
                        .entry(&pkg.name)
                        .or_default()
                        .insert(f.advisory.id.clone());
                }
            }
            for pkg in shown_yanked(report, unit) {
                // "~" sorts after the advisory ids, so "yanked" comes last.
                crates
                    .entry(&pkg.name)
                    .or_default()
                    .insert("~yanked".to_owned());
            }
        }
    }
    let mut items: Vec<String> = crates
        .iter()
        .take(LISTED)
        .map(|(name, what)| {
            let what: Vec<&str> = what.iter().map(|w| w.trim_start_matches('~')).collect();
            format!("{name} ({})", what.join(", "))
        })
        .collect();
    if crates.len() > LISTED {
        items.push("…".to_owned());
    }
    let paths: Vec<String> = sorted_inputs(report)
        .iter()
        .map(|i| i.path.display().to_string())
        .collect();
    let place = match paths.as_slice() {
        [one] => one.clone(),
        _ => s.inputs_phrase(),
    };
    let prefix = if s.failing > 0 {
        p.paint(Style::Error, "error:")
    } else {
        p.paint(Style::Warning, "warning:")
    };
    Some(format!(
        "{prefix} {phrase} in {place}: {} — run binaudit scan {} for details",
        items.join(", "),
        paths.join(" ")
    ))
}

/// Inputs that could not be audited (unreadable, not executable, or an image whose manifest is
/// invalid), and binaries read fine that carry no manifest.
fn unaudited_and_unchecked(report: &AuditReport) -> (usize, usize) {
    let (mut unaudited, mut unchecked) = (0, 0);
    for input in &report.inputs {
        match &input.outcome {
            InputOutcome::Error(_) | InputOutcome::NotExecutable => unaudited += 1,
            InputOutcome::NotRust { .. } => {}
            InputOutcome::Audited { units, .. } => {
                if units.iter().any(|u| u.error.is_some()) {
                    unaudited += 1;
                } else if units.iter().any(|u| u.completeness == Completeness::None) {
                    unchecked += 1;
                }
            }
        }
    }
    (unaudited, unchecked)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn write_input(
    out: &mut dyn Write,
    report: &AuditReport,
    input: &AuditedInput,
    p: Paint,
) -> io::Result<()> {
    let path = p.paint(Style::Bold, &input.path.display().to_string());
    let (format, units) = match &input.outcome {
        InputOutcome::NotExecutable => {
            let what = match input.kind {
                InputKind::Binary => {
                    "not an executable or object file (ELF, Mach-O, PE/COFF or WebAssembly)"
                }
                InputKind::LockFile => "not a Cargo lock file",
            };
            return writeln!(out, "{path}: {}", p.paint(Style::Error, what));
        }
        InputOutcome::Error(e) => {
            return writeln!(out, "{path}: {} {e}", p.paint(Style::Error, "error:"));
        }
        // Counted in the summary line; listing every non-Rust program of a directory is noise.
        InputOutcome::NotRust { .. } => return Ok(()),
        InputOutcome::Audited { format, units } => (format, units),
    };
    let format_name = match (format, input.kind) {
        (Some(f), _) => f.as_str(),
        (None, InputKind::LockFile) => "Cargo lock file",
        (None, InputKind::Binary) => "binary",
    };
    let noun = match input.kind {
        InputKind::Binary => "binary",
        InputKind::LockFile => "lock file",
    };
    match units.as_slice() {
        [] => writeln!(out, "{path}: {format_name} with no architecture images"),
        [unit] => {
            match &unit.image {
                Some(image) => writeln!(out, "{path}: {}", describe_image(format_name, image))?,
                None => writeln!(out, "{path}: {format_name}")?,
            }
            write_origin(out, &input.origin, p)?;
            write_unit(out, report, unit, "  ", noun, p)
        }
        many => {
            writeln!(
                out,
                "{path}: {format_name} with {} architectures",
                many.len()
            )?;
            write_origin(out, &input.origin, p)?;
            for unit in many {
                match &unit.image {
                    Some(image) => writeln!(out, "  {}", describe_image("slice:", image))?,
                    None => writeln!(out, "  slice:")?,
                }
                write_unit(out, report, unit, "    ", noun, p)?;
            }
            Ok(())
        }
    }
}

/// Where the binary was found, when that is more than its path.
fn write_origin(out: &mut dyn Write, origin: &Origin, p: Paint) -> io::Result<()> {
    match origin {
        Origin::File => Ok(()),
        Origin::Installed(i) => writeln!(
            out,
            "  installed by `cargo install` as {} {} ({}); upgrade with `{}`",
            i.name, i.version, i.source, i.upgrade
        ),
        Origin::Image { image, layer, path } => {
            writeln!(out, "  in image {image} at {path}, added by layer {layer}")
        }
        Origin::Processes(procs) => {
            for proc in procs {
                writeln!(out, "  running as pid {}: {}", proc.pid, proc.cmdline)?;
                if let Some(changed) = &proc.changed {
                    let note = format!(
                        "the file at {} was {changed} after pid {} started: the process still runs the old code",
                        proc.exe.display(),
                        proc.pid
                    );
                    writeln!(out, "    {}", p.paint(Style::Warning, &note))?;
                }
            }
            Ok(())
        }
    }
}

fn write_unit(
    out: &mut dyn Write,
    report: &AuditReport,
    unit: &AuditedUnit,
    indent: &str,
    noun: &str,
    p: Paint,
) -> io::Result<()> {
    if let Some(e) = &unit.error {
        return writeln!(out, "{indent}{} {e}", p.paint(Style::Error, "error:"));
    }
    let from = unit
        .evidence
        .as_deref()
        .map(|e| format!(", from {e}"))
        .unwrap_or_default();
    let count = plural(unit.packages.len(), "package", "packages");
    match unit.completeness {
        Completeness::Complete => writeln!(out, "{indent}{count}, complete{from}")?,
        Completeness::Recovered => writeln!(
            out,
            "{indent}{count}, {}{from}",
            p.paint(Style::Warning, "recovered (incomplete)")
        )?,
        Completeness::None => writeln!(
            out,
            "{indent}{}: nothing could be checked; build it with `cargo binaudit build`",
            p.paint(
                Style::Warning,
                "no dependency manifest (completeness: none)"
            )
        )?,
    }

    let findings = shown_findings(report, unit);
    let yanked = shown_yanked(report, unit);
    let mut runtime = Vec::new();
    let mut build = Vec::new();
    for (f, pkg) in findings.iter().filter(|(f, _)| !f.ignored) {
        let entry = Entry::Advisory(f, pkg, finding_fails(report, f));
        match f.kind {
            DependencyKind::Runtime => runtime.push(entry),
            DependencyKind::Build => build.push(entry),
        }
    }
    for pkg in yanked {
        let entry = Entry::Yanked(pkg, report.policy.yanked_fails());
        match pkg.kind {
            DependencyKind::Runtime => runtime.push(entry),
            DependencyKind::Build => build.push(entry),
        }
    }

    let ctx = Ctx {
        platform: &unit.platform,
        noun,
        p,
    };
    if runtime.is_empty() && build.is_empty() {
        if unit.completeness != Completeness::None {
            let what = if report.yanked_checked {
                "no known advisories or yanked crates"
            } else {
                "no known advisories"
            };
            writeln!(out, "{indent}{}", p.paint(Style::Good, what))?;
        }
    } else {
        write_groups(out, &ctx, indent, runtime, false)?;
        if !build.is_empty() {
            writeln!(
                out,
                "{indent}{}",
                p.paint(Style::Bold, "build-time dependencies")
            )?;
            write_groups(out, &ctx, &format!("{indent}  "), build, true)?;
        }
    }

    for (f, pkg) in findings.iter().filter(|(f, _)| f.ignored) {
        let line = format!("ignored: {} ({} {})", f.advisory.id, pkg.name, pkg.version);
        writeln!(out, "{indent}{}", p.paint(Style::Dim, &line))?;
    }
    for (n, pkg) in shown_not_applicable(report, unit) {
        let line = format!(
            "not applicable: {} ({} {}): {}",
            n.advisory.id, pkg.name, pkg.version, n.reason
        );
        writeln!(out, "{indent}{}", p.paint(Style::Dim, &line))?;
    }
    if report.yanked_checked {
        let mut unknown: BTreeMap<&str, usize> = BTreeMap::new();
        for (pkg, y) in unit.packages.iter().zip(&unit.yanked) {
            if let YankStatus::Unknown(reason) = y {
                // Only crates.io packages can be yanked; saying "unknown" for every local
                // crate would be noise on every report.
                if pkg.source == Source::CratesIo
                    && !(report.policy.exclude_build && pkg.kind == DependencyKind::Build)
                {
                    *unknown.entry(reason).or_default() += 1;
                }
            }
        }
        for (reason, n) in unknown {
            let line = format!(
                "yanked status unknown for {}: {reason}",
                plural(n, "package", "packages")
            );
            writeln!(out, "{indent}{}", p.paint(Style::Dim, &line))?;
        }
    }
    Ok(())
}

/// What a unit's listing needs besides the entries.
struct Ctx<'a> {
    platform: &'a Platform,
    /// "binary" or "lock file", for the platform note.
    noun: &'a str,
    p: Paint,
}

/// One line item: an advisory finding or a yanked package, with whether it fails the audit.
enum Entry<'a, 'db> {
    Advisory(&'a Finding<'db>, &'a Package, bool),
    Yanked(&'a Package, bool),
}

/// The group an entry is listed under, in output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Group {
    Critical,
    High,
    Medium,
    Low,
    ScoreNone,
    Unscored,
    Unsound,
    Unmaintained,
    Notice,
    Other,
    Yanked,
}

impl Group {
    fn of(entry: &Entry) -> Self {
        let Entry::Advisory(f, ..) = entry else {
            return Group::Yanked;
        };
        match (&f.advisory.kind, f.advisory.severity()) {
            (AdvisoryKind::Vulnerability, Some(Severity::Critical)) => Group::Critical,
            (AdvisoryKind::Vulnerability, Some(Severity::High)) => Group::High,
            (AdvisoryKind::Vulnerability, Some(Severity::Medium)) => Group::Medium,
            (AdvisoryKind::Vulnerability, Some(Severity::Low)) => Group::Low,
            (AdvisoryKind::Vulnerability, Some(Severity::None)) => Group::ScoreNone,
            (AdvisoryKind::Vulnerability, None) => Group::Unscored,
            (AdvisoryKind::Unsound, _) => Group::Unsound,
            (AdvisoryKind::Unmaintained, _) => Group::Unmaintained,
            (AdvisoryKind::Notice, _) => Group::Notice,
            (AdvisoryKind::Other(_), _) => Group::Other,
        }
    }

    fn heading(self) -> &'static str {
        match self {
            Group::Critical => "critical",
            Group::High => "high",
            Group::Medium => "medium",
            Group::Low => "low",
            Group::ScoreNone => "severity none (CVSS 0.0)",
            Group::Unscored => "vulnerabilities without a CVSS score",
            Group::Unsound => "unsound",
            Group::Unmaintained => "unmaintained",
            Group::Notice => "notices",
            Group::Other => "other warnings",
            Group::Yanked => "yanked",
        }
    }

    fn style(self) -> Style {
        match self {
            Group::Critical | Group::High | Group::Unscored => Style::Error,
            Group::Medium => Style::Red,
            Group::Low | Group::ScoreNone => Style::Bold,
            _ => Style::Warning,
        }
    }
}

fn write_groups(
    out: &mut dyn Write,
    ctx: &Ctx,
    indent: &str,
    entries: Vec<Entry>,
    build: bool,
) -> io::Result<()> {
    let mut groups: BTreeMap<Group, Vec<Entry>> = BTreeMap::new();
    for e in entries {
        groups.entry(Group::of(&e)).or_default().push(e);
    }
    for (group, mut entries) in groups {
        entries.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
        writeln!(
            out,
            "{indent}{}",
            ctx.p.paint(group.style(), group.heading())
        )?;
        for e in &entries {
            write_entry(out, ctx, &format!("{indent}  "), e, group, build)?;
        }
    }
    Ok(())
}

fn sort_key<'e>(e: &'e Entry) -> (&'e str, &'e str, &'e semver::Version) {
    match e {
        Entry::Advisory(f, p, _) => (&f.advisory.id, &p.name, &p.version),
        Entry::Yanked(p, _) => ("", &p.name, &p.version),
    }
}

fn write_entry(
    out: &mut dyn Write,
    ctx: &Ctx,
    indent: &str,
    entry: &Entry,
    group: Group,
    build: bool,
) -> io::Result<()> {
    let p = ctx.p;
    let build_note = if build {
        " (build-only dependency)"
    } else {
        ""
    };
    let (f, pkg, fails) = match entry {
        Entry::Yanked(pkg, fails) => {
            let fails = if *fails { " (denied)" } else { "" };
            return writeln!(
                out,
                "{indent}{} {}{build_note}{fails}",
                p.paint(Style::Bold, &pkg.name),
                pkg.version
            );
        }
        Entry::Advisory(f, pkg, fails) => (f, pkg, *fails),
    };
    let a = f.advisory;
    let kind = match &a.kind {
        AdvisoryKind::Other(k) => format!(" [{k}]"),
        _ => String::new(),
    };
    // Warning kinds are marked when `--deny` makes them fail; vulnerabilities that do not fail
    // (below the severity threshold) are marked the other way.
    let verdict = match (&a.kind, fails) {
        (AdvisoryKind::Vulnerability, false) => " (below the severity threshold)",
        (AdvisoryKind::Vulnerability, true) | (_, false) => "",
        (_, true) => " (denied)",
    };
    writeln!(
        out,
        "{indent}{} {} {}{kind}: {}{build_note}{verdict}",
        p.paint(group.style(), &a.id),
        pkg.name,
        pkg.version,
        a.title
    )?;
    let more = format!("{indent}  ");
    if let Some(cvss) = &a.cvss {
        writeln!(
            out,
            "{more}severity: {} (CVSS {:.1}, {})",
            cvss.severity().as_str(),
            cvss.score,
            cvss.vector
        )?;
    }
    writeln!(out, "{more}fix: {}", f.fix.advice())?;
    if f.platform == PlatformMatch::Unverified {
        writeln!(
            out,
            "{more}note: {}",
            platform_note(f, ctx.platform, ctx.noun)
        )?;
    }
    writeln!(out, "{more}{}", p.paint(Style::Dim, &a.link()))
}

/// "applies to windows only; this binary does not declare its OS".
fn platform_note(f: &Finding, platform: &Platform, noun: &str) -> String {
    let affected = &f.advisory.affected;
    let mut notes = Vec::new();
    if !affected.os.is_empty() && platform.os.is_none() {
        notes.push(format!(
            "applies to {} only; this {noun} does not declare its OS",
            affected.os.join(", ")
        ));
    }
    if !affected.arch.is_empty() && platform.arch.is_none() {
        notes.push(format!(
            "applies to {} only; this {noun} does not declare its architecture",
            affected.arch.join(", ")
        ));
    }
    if notes.is_empty() {
        // The match stage marks a finding unverified only for one of the reasons above; say
        // something true if that ever changes.
        notes.push("its platform restriction could not be checked".to_owned());
    }
    notes.join("; ")
}

/// ANSI styles, written only when colour is on.
#[derive(Debug, Clone, Copy)]
enum Style {
    Bold,
    Dim,
    Red,
    /// Bold red: failing findings, errors.
    Error,
    /// Bold yellow: warnings.
    Warning,
    Good,
}

#[derive(Debug, Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn paint(self, style: Style, text: &str) -> String {
        if !self.0 {
            return text.to_owned();
        }
        let code = match style {
            Style::Bold => "1",
            Style::Dim => "2",
            Style::Red => "31",
            Style::Error => "1;31",
            Style::Warning => "1;33",
            Style::Good => "32",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}
