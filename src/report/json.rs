//! `binaudit scan --format json`: one document for all inputs, versioned by its `schema` field.
//!
//! The document is for machines, so its shape is a contract: fields are only ever added within a
//! schema version; removing, renaming or retyping one bumps `binaudit-audit/N`. Everything is
//! written in a fixed order (inputs by path, packages in manifest order, findings by package
//! then advisory id), so the same audit always gives the same bytes. Ignored findings are
//! listed with `"ignored": true`; findings on build-only packages are left out when the policy
//! excludes them (`exclude_build`), exactly as the summary counts them.
//!
//! # Schema `binaudit-audit/1`
//!
//! Top level:
//!
//! | field | type | meaning |
//! |---|---|---|
//! | `schema` | string | always `"binaudit-audit/1"` |
//! | `database` | object | `path` (string), `advisories` (number), `last_updated` (`"YYYY-MM-DD"` or null) |
//! | `policy` | object | `deny` (sorted strings from `unmaintained`, `unsound`, `notice`, `yanked`, `incomplete`, `warnings`), `severity_threshold` (`"low"`…`"critical"` or null), `exclude_build` (bool) |
//! | `yanked_checked` | bool | whether yanked status was looked up at all (`--no-yanked` turns it off) |
//! | `summary` | object | counts, see below |
//! | `inputs` | array | one object per input, sorted by path |
//!
//! `summary`: `binaries`, `lock_files`, `vulnerable`, `unmaintained`, `unsound`, `notice`,
//! `other_warnings`, `yanked` (distinct crates, by name and version), `ignored`, `errors`
//! (inputs or images that could not be audited), `not_executable`, `not_rust` (executables with
//! no manifest and no sign of Rust), `incomplete` (units whose package list is recovered or
//! unknown), `failing` (findings that fail
//! the audit under the policy), all numbers; `exit_code` (0 clean, 1 failing findings, 2 an input
//! could not be audited).
//!
//! Each of `inputs`:
//!
//! | field | type | meaning |
//! |---|---|---|
//! | `path` | string | as given |
//! | `kind` | string | `"binary"` or `"lockfile"` |
//! | `status` | string | `"audited"`, `"not-executable"`, `"not-rust"` or `"error"` |
//! | `origin` | object | where it was found: `{"type":"file"}`; `{"type":"installed","name","version","source","upgrade"}` (cargo's install records); `{"type":"image","image","layer","path"}` (the layer digest that added the file); `{"type":"processes","processes":[{"pid","cmdline","exe","changed"}]}` (`changed`: null, `"deleted"` or `"replaced on disk"`) |
//! | `error` | string | why the input could not be read; only with `status: "error"` |
//! | `format` | string or null | `"ELF"`, `"Mach-O"`, `"Mach-O universal"`, `"PE"`, `"COFF"`, `"WebAssembly"`; null for lock files and unread inputs |
//! | `units` | array | one per architecture image (one for a thin binary or a lock file); empty unless audited |
//!
//! Each of `units`:
//!
//! | field | type | meaning |
//! |---|---|---|
//! | `arch` | string or null | Rust `target_arch` spelling the headers declare (`"unknown(0x…)"` when unrecognised) |
//! | `os` | string or null | Rust `target_os` spelling the headers declare; null when they declare none |
//! | `bits` | number or null | 32 or 64; null for a lock file |
//! | `endian` | string or null | `"little"` or `"big"`; null for a lock file |
//! | `kind` | string or null | `"executable"`, `"shared-library"`, `"relocatable"`, `"other"`; null for a lock file |
//! | `completeness` | string | `"complete"` (a manifest lists every package), `"recovered"` (some may be missing), `"none"` (nothing known: nothing was checked) |
//! | `evidence` | string or null | where the package list came from: `.dep-v0`, a legacy section name, `Cargo.lock`, `panic-message paths` (recovered; followed by `(only the first 256 MiB of N bytes were read)` for a larger file) |
//! | `error` | string | why the package list could not be read; only when it could not |
//! | `packages` | array | `name`, `version`, `source` (`"crates.io"`, `"git"`, `"local"`, `"registry"` or verbatim), `kind` (`"runtime"`/`"build"`), `root` (bool), `dependencies` (indices into this array), `yanked` (true, false, or null when not checked or unknown) |
//! | `findings` | array | see below, sorted by package then advisory id |
//! | `not_applicable` | array | advisories whose versions match but whose `affected.os`/`arch` exclude this image: `id`, `package`, `version`, `reason` |
//!
//! Each of `findings`:
//!
//! | field | type | meaning |
//! |---|---|---|
//! | `id` | string | `RUSTSEC-YYYY-NNNN` or an OSV id |
//! | `aliases` | array of strings | CVE, GHSA, … |
//! | `package`, `version` | string | the affected package as embedded |
//! | `kind` | string | `"vulnerability"`, `"unmaintained"`, `"unsound"`, `"notice"` or another informational kind verbatim |
//! | `severity` | string or null | CVSS qualitative rating: `"none"`, `"low"`, `"medium"`, `"high"`, `"critical"`; null without CVSS |
//! | `cvss` | object | `vector` (string) and `score` (number); absent without CVSS |
//! | `title` | string | |
//! | `url` | string | where to read more |
//! | `patched` | array of strings | the fixed version requirements as the advisory states them |
//! | `fix` | object | `minimum` (smallest unaffected version above the embedded one, or null), `compatible` (whether that is semver-compatible, or null), `advice` (one line for people) |
//! | `platform` | string | `"applies"`, or `"unverified"` when the advisory is limited to some OS/arch and the image does not declare its own |
//! | `dependency_kind` | string | `"runtime"` or `"build"` (only needed to build) |
//! | `ignored` | bool | listed by `--ignore` or a config file: reported, never counted |
//! | `fails` | bool | whether this finding fails the audit under the policy (never when ignored) |

use std::collections::HashSet;
use std::io::{self, Write};

use linker_section::{DependencyKind, Package};
use serde::Serialize;

use crate::advisory::Cvss;
use crate::audit::{
    AuditReport, AuditedInput, AuditedUnit, DenyKind, InputKind, InputOutcome, Origin, YankStatus,
};
use crate::extract::{Endian, FileKind};
use crate::matching::{Finding, NotApplicable, PlatformMatch};

/// The value of the document's `schema` field.
pub const AUDIT_SCHEMA: &str = "binaudit-audit/1";

/// How the document is written.
#[derive(Debug, Clone, Default)]
pub struct JsonOptions {
    /// One line instead of indented output.
    pub compact: bool,
}

/// Writes the document for `report`, followed by a newline.
pub fn write(out: &mut dyn Write, report: &AuditReport, opts: &JsonOptions) -> io::Result<()> {
    let doc = Document::new(report);
    // The serializer makes one small write per token and indent; a buffer of a known type
    // takes them without a dynamic call each, and hands `out` large writes only.
    let mut buffered = io::BufWriter::with_capacity(64 << 10, out);
    if opts.compact {
        serde_json::to_writer(&mut buffered, &doc)
    } else {
        let mut ser = serde_json::Serializer::with_formatter(&mut buffered, Indented::default());
        doc.serialize(&mut ser)
    }
    .map_err(io::Error::other)?;
    writeln!(buffered)?;
    buffered.flush()
}

/// The output of `serde_json`'s pretty printer (two spaces per level), with each line break and
/// its indentation written in one piece rather than one write per level: the pretty printer's
/// small writes were a large part of the time spent writing a report of many inputs.
#[derive(Debug, Default)]
struct Indented {
    level: usize,
    has_value: bool,
}

/// A comma, a line break and enough indentation for 63 levels; deeper levels loop.
const BREAK: &[u8; 128] = b",\n                                                                                                                              ";

impl Indented {
    fn line_break<W: ?Sized + Write>(&self, out: &mut W, comma: bool) -> io::Result<()> {
        let start = usize::from(!comma);
        let mut spaces = 2 * self.level;
        let first = spaces.min(BREAK.len() - 2);
        out.write_all(&BREAK[start..2 + first])?;
        spaces -= first;
        while spaces > 0 {
            let n = spaces.min(BREAK.len() - 2);
            out.write_all(&BREAK[2..2 + n])?;
            spaces -= n;
        }
        Ok(())
    }

    fn open<W: ?Sized + Write>(&mut self, out: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        out.write_all(bracket)
    }

    fn close<W: ?Sized + Write>(&mut self, out: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level = self.level.saturating_sub(1);
        if self.has_value {
            self.line_break(out, false)?;
        }
        out.write_all(bracket)
    }
}

impl serde_json::ser::Formatter for Indented {
    fn begin_array<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.open(out, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.close(out, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        self.line_break(out, !first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _out: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.open(out, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.close(out, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        self.line_break(out, !first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        out.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _out: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

// Helpers shared by the report formats, so that they agree on order and on what is shown.

/// The inputs sorted by path (a stable sort: the same path given twice keeps its order).
pub(crate) fn sorted_inputs<'r, 'db>(report: &'r AuditReport<'db>) -> Vec<&'r AuditedInput<'db>> {
    let mut inputs: Vec<_> = report.inputs.iter().collect();
    inputs.sort_by(|a, b| a.path.cmp(&b.path));
    inputs
}

/// The findings of a unit that reports show, with their package, sorted by package then
/// advisory id. Build-only findings are left out when the policy excludes them, and a finding
/// whose package index is out of range (which the match stage never produces) is skipped.
pub(crate) fn shown_findings<'u, 'db>(
    report: &AuditReport<'_>,
    unit: &'u AuditedUnit<'db>,
) -> Vec<(&'u Finding<'db>, &'u Package)> {
    let mut findings: Vec<_> = unit
        .matches
        .findings
        .iter()
        .filter(|f| !(report.policy.exclude_build && f.kind == DependencyKind::Build))
        .filter_map(|f| unit.packages.get(f.package).map(|p| (f, p)))
        .collect();
    findings
        .sort_by(|(a, _), (b, _)| (a.package, &a.advisory.id).cmp(&(b.package, &b.advisory.id)));
    findings
}

/// The advisories of a unit excluded by its platform, with their package, in the same order
/// and under the same build-only rule as [`shown_findings`].
pub(crate) fn shown_not_applicable<'u, 'db>(
    report: &AuditReport<'_>,
    unit: &'u AuditedUnit<'db>,
) -> Vec<(&'u NotApplicable<'db>, &'u Package)> {
    let mut list: Vec<_> = unit
        .matches
        .not_applicable
        .iter()
        .filter_map(|n| unit.packages.get(n.package).map(|p| (n, p)))
        .filter(|(_, p)| !(report.policy.exclude_build && p.kind == DependencyKind::Build))
        .collect();
    list.sort_by(|(a, _), (b, _)| (a.package, &a.advisory.id).cmp(&(b.package, &b.advisory.id)));
    list
}

/// The packages of a unit that are yanked and shown under the policy, in manifest order.
pub(crate) fn shown_yanked<'u>(
    report: &AuditReport<'_>,
    unit: &'u AuditedUnit<'_>,
) -> Vec<&'u Package> {
    unit.packages
        .iter()
        .zip(&unit.yanked)
        .filter(|(p, y)| {
            **y == YankStatus::Yanked
                && !(report.policy.exclude_build && p.kind == DependencyKind::Build)
        })
        .map(|(p, _)| p)
        .collect()
}

/// Whether a finding fails the audit under the report's policy.
pub(crate) fn finding_fails(report: &AuditReport<'_>, f: &Finding<'_>) -> bool {
    !f.ignored && report.policy.fails(&f.advisory.kind, f.advisory.severity())
}

/// A label per unit that is unique within its input: the architecture (or `lock` for a lock
/// file), with `-2`, `-3`… appended when two slices share one (arm64 and arm64e are both
/// `aarch64`).
pub(crate) fn unit_labels(units: &[AuditedUnit<'_>]) -> Vec<String> {
    let mut seen = HashSet::new();
    units
        .iter()
        .map(|u| {
            let base = match (&u.image, &u.platform.arch) {
                (Some(image), _) => image.arch.to_string(),
                (None, Some(arch)) => arch.clone(),
                (None, None) => "lock".to_owned(),
            };
            let mut label = base.clone();
            let mut n = 1;
            while !seen.insert(label.clone()) {
                n += 1;
                label = format!("{base}-{n}");
            }
            label
        })
        .collect()
}

pub(crate) fn deny_kind_str(k: DenyKind) -> &'static str {
    match k {
        DenyKind::Unmaintained => "unmaintained",
        DenyKind::Unsound => "unsound",
        DenyKind::Notice => "notice",
        DenyKind::Yanked => "yanked",
        DenyKind::Incomplete => "incomplete",
        DenyKind::Warnings => "warnings",
    }
}

pub(crate) fn file_kind_str(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Executable => "executable",
        FileKind::SharedLibrary => "shared-library",
        FileKind::Relocatable => "relocatable",
        FileKind::Other => "other",
    }
}

// The document. Field order here is output order.

#[derive(Debug, Serialize)]
struct Document<'a> {
    schema: &'static str,
    database: DatabaseJson<'a>,
    policy: PolicyJson,
    yanked_checked: bool,
    summary: SummaryJson,
    inputs: Inputs<'a>,
}

/// The inputs, sorted by path, each turned into its JSON shape only while it is written: the
/// memory of one is reused for the next instead of holding the whole document at once.
#[derive(Debug)]
struct Inputs<'a> {
    report: &'a AuditReport<'a>,
    sorted: Vec<&'a AuditedInput<'a>>,
}

impl Serialize for Inputs<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.sorted.iter().map(|i| InputJson::new(self.report, i)))
    }
}

#[derive(Debug, Serialize)]
struct DatabaseJson<'a> {
    path: String,
    advisories: usize,
    last_updated: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct PolicyJson {
    deny: Vec<&'static str>,
    severity_threshold: Option<&'static str>,
    exclude_build: bool,
}

#[derive(Debug, Serialize)]
struct SummaryJson {
    binaries: usize,
    lock_files: usize,
    vulnerable: usize,
    unmaintained: usize,
    unsound: usize,
    notice: usize,
    other_warnings: usize,
    yanked: usize,
    ignored: usize,
    errors: usize,
    not_executable: usize,
    not_rust: usize,
    incomplete: usize,
    failing: usize,
    exit_code: u8,
}

#[derive(Debug, Serialize)]
struct InputJson<'a> {
    path: String,
    kind: &'static str,
    /// `audited`, `not-executable`, `not-rust` (a valid executable with no manifest and no sign
    /// of Rust) or `error`.
    status: &'static str,
    /// Where the input was found: `{"type":"file"}`, `{"type":"installed",…}`,
    /// `{"type":"image","image","layer","path"}`, `{"type":"processes","processes":[…]}`.
    origin: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    format: Option<&'static str>,
    units: Vec<UnitJson<'a>>,
}

#[derive(Debug, Serialize)]
struct UnitJson<'a> {
    arch: Option<String>,
    os: Option<&'a str>,
    bits: Option<u8>,
    endian: Option<&'static str>,
    kind: Option<&'static str>,
    completeness: &'static str,
    evidence: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    packages: Vec<PackageJson<'a>>,
    findings: Vec<FindingJson<'a>>,
    not_applicable: Vec<NotApplicableJson<'a>>,
}

#[derive(Debug, Serialize)]
struct PackageJson<'a> {
    name: &'a str,
    version: String,
    source: &'a str,
    kind: &'static str,
    root: bool,
    dependencies: &'a [usize],
    yanked: Option<bool>,
}

#[derive(Debug, Serialize)]
struct FindingJson<'a> {
    id: &'a str,
    aliases: &'a [String],
    package: &'a str,
    version: String,
    kind: &'a str,
    severity: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cvss: Option<&'a Cvss>,
    title: &'a str,
    url: String,
    patched: &'a [String],
    fix: FixJson,
    platform: &'static str,
    dependency_kind: &'static str,
    ignored: bool,
    fails: bool,
}

#[derive(Debug, Serialize)]
struct FixJson {
    minimum: Option<String>,
    compatible: Option<bool>,
    advice: String,
}

#[derive(Debug, Serialize)]
struct NotApplicableJson<'a> {
    id: &'a str,
    package: &'a str,
    version: String,
    reason: &'a str,
}

impl<'a> Document<'a> {
    fn new(report: &'a AuditReport<'a>) -> Self {
        let s = report.summary();
        Document {
            schema: AUDIT_SCHEMA,
            database: DatabaseJson {
                path: report.database.path.display().to_string(),
                advisories: report.database.advisories,
                last_updated: report.database.last_updated.as_deref(),
            },
            policy: PolicyJson {
                // A BTreeSet: already sorted.
                deny: report
                    .policy
                    .deny
                    .iter()
                    .map(|k| deny_kind_str(*k))
                    .collect(),
                severity_threshold: report.policy.severity_threshold.map(|t| t.as_str()),
                exclude_build: report.policy.exclude_build,
            },
            yanked_checked: report.yanked_checked,
            summary: SummaryJson {
                binaries: s.binaries,
                lock_files: s.lock_files,
                vulnerable: s.vulnerable,
                unmaintained: s.unmaintained,
                unsound: s.unsound,
                notice: s.notice,
                other_warnings: s.other_warnings,
                yanked: s.yanked,
                ignored: s.ignored,
                errors: s.errors,
                not_executable: s.not_executable,
                not_rust: s.not_rust,
                incomplete: s.incomplete,
                failing: s.failing,
                exit_code: s.exit_code(),
            },
            inputs: Inputs {
                report,
                sorted: sorted_inputs(report),
            },
        }
    }
}

fn origin_json(origin: &Origin) -> serde_json::Value {
    use serde_json::json;
    match origin {
        Origin::File => json!({"type": "file"}),
        Origin::Installed(i) => json!({
            "type": "installed", "name": i.name, "version": i.version, "source": i.source, "upgrade": i.upgrade,
        }),
        Origin::Image { image, layer, path } => {
            json!({"type": "image", "image": image, "layer": layer, "path": path})
        }
        Origin::Processes(procs) => json!({
            "type": "processes",
            "processes": procs.iter().map(|p| json!({
                "pid": p.pid, "cmdline": p.cmdline, "exe": p.exe.display().to_string(), "changed": p.changed,
            })).collect::<Vec<_>>(),
        }),
    }
}

impl<'a> InputJson<'a> {
    fn new(report: &AuditReport<'_>, input: &'a AuditedInput<'_>) -> Self {
        let kind = match input.kind {
            InputKind::Binary => "binary",
            InputKind::LockFile => "lockfile",
        };
        let path = input.path.display().to_string();
        let origin = origin_json(&input.origin);
        match &input.outcome {
            InputOutcome::NotRust { format } => InputJson {
                path,
                kind,
                status: "not-rust",
                origin,
                error: None,
                format: Some(format.as_str()),
                units: Vec::new(),
            },
            InputOutcome::NotExecutable => InputJson {
                path,
                kind,
                origin,
                status: "not-executable",
                error: None,
                format: None,
                units: Vec::new(),
            },
            InputOutcome::Error(e) => InputJson {
                path,
                kind,
                origin,
                status: "error",
                error: Some(e),
                format: None,
                units: Vec::new(),
            },
            InputOutcome::Audited { format, units } => InputJson {
                path,
                kind,
                origin,
                status: "audited",
                error: None,
                format: format.map(|f| f.as_str()),
                units: units.iter().map(|u| UnitJson::new(report, u)).collect(),
            },
        }
    }
}

impl<'a> UnitJson<'a> {
    fn new(report: &AuditReport<'_>, unit: &'a AuditedUnit<'_>) -> Self {
        let image = unit.image.as_ref();
        let packages = unit
            .packages
            .iter()
            .enumerate()
            .map(|(i, p)| PackageJson {
                name: &p.name,
                version: p.version.to_string(),
                source: p.source.as_str(),
                kind: p.kind.as_str(),
                root: p.root,
                dependencies: &p.dependencies,
                yanked: match unit.yanked.get(i) {
                    Some(YankStatus::Yanked) => Some(true),
                    Some(YankStatus::Available) => Some(false),
                    Some(YankStatus::Unknown(_)) | None => None,
                },
            })
            .collect();
        let findings = shown_findings(report, unit)
            .into_iter()
            .map(|(f, p)| {
                let a = f.advisory;
                FindingJson {
                    id: &a.id,
                    aliases: &a.aliases,
                    package: &p.name,
                    version: p.version.to_string(),
                    kind: a.kind.as_str(),
                    severity: a.severity().map(|s| s.as_str()),
                    cvss: a.cvss.as_ref(),
                    title: &a.title,
                    url: a.link(),
                    patched: &f.fix.patched,
                    fix: FixJson {
                        minimum: f.fix.minimum.as_ref().map(ToString::to_string),
                        compatible: f.fix.compatible,
                        advice: f.fix.advice(),
                    },
                    platform: match f.platform {
                        PlatformMatch::Applies => "applies",
                        PlatformMatch::Unverified => "unverified",
                    },
                    dependency_kind: f.kind.as_str(),
                    ignored: f.ignored,
                    fails: finding_fails(report, f),
                }
            })
            .collect();
        let not_applicable = shown_not_applicable(report, unit)
            .into_iter()
            .map(|(n, p)| NotApplicableJson {
                id: &n.advisory.id,
                package: &p.name,
                version: p.version.to_string(),
                reason: &n.reason,
            })
            .collect();
        UnitJson {
            arch: image
                .map(|i| i.arch.to_string())
                .or_else(|| unit.platform.arch.clone()),
            os: image
                .and_then(|i| i.os.map(|o| o.as_str()))
                .or(unit.platform.os.as_deref()),
            bits: image.map(|i| i.bits),
            endian: image.map(|i| match i.endian {
                Endian::Little => "little",
                Endian::Big => "big",
            }),
            kind: image.map(|i| file_kind_str(i.kind)),
            completeness: unit.completeness.as_str(),
            evidence: unit.evidence.as_deref(),
            error: unit.error.as_deref(),
            packages,
            findings,
            not_applicable,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn indented_output_is_byte_for_byte_serde_jsons_pretty_output() {
        // Deeper than the 63 levels one write covers, empty containers, strings with line
        // breaks (escaped, so never indented).
        let mut deep = serde_json::json!([]);
        for i in 0..70 {
            deep = serde_json::json!({ "level": i, "inner": [deep, {}, [], "a\nb"] });
        }
        let values = [
            serde_json::json!({}),
            serde_json::json!([]),
            serde_json::json!(null),
            serde_json::json!({"a": [1, 2, {"b": []}], "c": {"d": "x\ny", "e": {}}}),
            deep,
        ];
        for value in values {
            let mut ours = Vec::new();
            let mut ser = serde_json::Serializer::with_formatter(&mut ours, Indented::default());
            value.serialize(&mut ser).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string_pretty(&value).unwrap()
            );
        }
    }
}
