//! `binaudit scan --format sarif`: SARIF 2.1.0 for code-scanning upload (GitHub and others).
//!
//! One run. Every advisory that has a result is a rule (`RUSTSEC-…`, with its title, link, kind
//! tags and, when scored, GitHub's `security-severity`), plus a rule `yanked` for yanked crates.
//! A result is one advisory × crate × binary: the slices of a universal binary that embed the
//! same crate give one result naming their architectures, so code scanning shows one alert per
//! binary, not per slice. Its level is `error` when the finding fails the audit under the policy
//! and `warning` otherwise; ignored findings are results with an external suppression, so they
//! show as dismissed rather than vanish.
//!
//! Locations are the input path as given, made a relative URI reference (`/` separators,
//! percent-encoded), with `region.startLine: 1` because code scanning displays nothing without
//! a line and a binary has none. `partialFingerprints` hash the rule, crate, version and path,
//! so an alert stays the same alert across runs. Inputs that could not be audited are tool
//! execution notifications, and `executionSuccessful` is false when there are any.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use linker_section::DependencyKind;
use serde_json::{json, Map, Value};

use super::cyclonedx::sha1;
use super::json::{finding_fails, shown_findings, shown_yanked, sorted_inputs, unit_labels};
use crate::advisory::Advisory;
use crate::audit::{AuditReport, InputKind, InputOutcome};
use crate::matching::PlatformMatch;

/// The `$schema` the document names.
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The rule id of yanked-crate results.
pub const YANKED_RULE: &str = "yanked";

/// How the document is written.
#[derive(Debug, Clone)]
pub struct SarifOptions {
    /// `tool.driver.version`; this crate's version by default.
    pub tool_version: String,
}

impl Default for SarifOptions {
    fn default() -> Self {
        SarifOptions {
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// One advisory × crate × input, merged over the input's units.
struct Hit<'a> {
    rule: &'a str,
    advisory: Option<&'a Advisory>,
    path: &'a Path,
    package: &'a str,
    version: String,
    units: Vec<String>,
    fails: bool,
    ignored: bool,
    runtime: bool,
    unverified: bool,
    advice: Option<String>,
}

/// Writes the SARIF log for `report`, followed by a newline.
pub fn write(out: &mut dyn Write, report: &AuditReport, opts: &SarifOptions) -> io::Result<()> {
    // (path index, rule, crate, version) → hit. The path index keeps inputs in sorted order.
    let mut hits: BTreeMap<(usize, &str, &str, String), Hit> = BTreeMap::new();
    let mut notifications = Vec::new();
    for (index, input) in sorted_inputs(report).into_iter().enumerate() {
        let uri = path_uri(&input.path);
        let units = match &input.outcome {
            InputOutcome::Audited { units, .. } => units,
            InputOutcome::NotRust { .. } => continue,
            InputOutcome::NotExecutable => {
                let what = match input.kind {
                    InputKind::Binary => "not an executable or object file",
                    InputKind::LockFile => "not a Cargo lock file",
                };
                notifications.push(notification(&uri, what));
                continue;
            }
            InputOutcome::Error(e) => {
                notifications.push(notification(&uri, e));
                continue;
            }
        };
        let labels = unit_labels(units);
        for (unit, label) in units.iter().zip(labels) {
            if let Some(e) = &unit.error {
                notifications.push(notification(&uri, &format!("{label}: {e}")));
            }
            for (f, pkg) in shown_findings(report, unit) {
                let key = (
                    index,
                    f.advisory.id.as_str(),
                    pkg.name.as_str(),
                    pkg.version.to_string(),
                );
                let hit = hits.entry(key).or_insert_with(|| Hit {
                    rule: &f.advisory.id,
                    advisory: Some(f.advisory),
                    path: &input.path,
                    package: &pkg.name,
                    version: pkg.version.to_string(),
                    units: Vec::new(),
                    fails: false,
                    ignored: f.ignored,
                    runtime: false,
                    unverified: false,
                    advice: Some(f.fix.advice()),
                });
                hit.units.push(label.clone());
                hit.fails |= finding_fails(report, f);
                hit.runtime |= f.kind == DependencyKind::Runtime;
                hit.unverified |= f.platform == PlatformMatch::Unverified;
            }
            for pkg in shown_yanked(report, unit) {
                let key = (
                    index,
                    YANKED_RULE,
                    pkg.name.as_str(),
                    pkg.version.to_string(),
                );
                let hit = hits.entry(key).or_insert_with(|| Hit {
                    rule: YANKED_RULE,
                    advisory: None,
                    path: &input.path,
                    package: &pkg.name,
                    version: pkg.version.to_string(),
                    units: Vec::new(),
                    fails: false,
                    ignored: false,
                    runtime: false,
                    unverified: false,
                    advice: None,
                });
                hit.units.push(label.clone());
                hit.fails |= report.policy.yanked_fails();
                hit.runtime |= pkg.kind == DependencyKind::Runtime;
            }
        }
    }

    // Rules sorted by id, so that `ruleIndex` is stable.
    let mut rules: BTreeMap<&str, Option<&Advisory>> = BTreeMap::new();
    for hit in hits.values() {
        rules.insert(hit.rule, hit.advisory);
    }
    let rule_index: BTreeMap<&str, usize> =
        rules.keys().enumerate().map(|(i, r)| (*r, i)).collect();
    let rules_json: Vec<Value> = rules
        .iter()
        .map(|(id, advisory)| match advisory {
            Some(a) => advisory_rule(a),
            None => yanked_rule(id),
        })
        .collect();
    let results: Vec<Value> = hits
        .values()
        .map(|hit| result(hit, rule_index.get(hit.rule).copied().unwrap_or(0)))
        .collect();

    let mut invocation = Map::new();
    invocation.insert(
        "executionSuccessful".into(),
        json!(notifications.is_empty()),
    );
    if !notifications.is_empty() {
        invocation.insert(
            "toolExecutionNotifications".into(),
            Value::Array(notifications),
        );
    }
    let log = json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "binaudit",
                    "version": opts.tool_version,
                    "informationUri": env!("CARGO_PKG_REPOSITORY"),
                    "rules": rules_json,
                }
            },
            "invocations": [invocation],
            "results": results,
        }]
    });
    serde_json::to_writer_pretty(&mut *out, &log).map_err(io::Error::other)?;
    writeln!(out)
}

fn advisory_rule(a: &Advisory) -> Value {
    let mut tags = vec![
        "security".to_owned(),
        "rust".to_owned(),
        a.kind.as_str().to_owned(),
    ];
    tags.extend(a.aliases.iter().cloned());
    let mut properties = Map::new();
    properties.insert("tags".into(), json!(tags));
    if let Some(cvss) = &a.cvss {
        // GitHub reads this string to rank the alert (critical ≥ 9.0, high ≥ 7.0, …).
        properties.insert(
            "security-severity".into(),
            json!(format!("{:.1}", cvss.score)),
        );
        properties.insert("cvssVector".into(), json!(cvss.vector));
    }
    let level = if a.kind.is_vulnerability() {
        "error"
    } else {
        "warning"
    };
    json!({
        "id": a.id,
        "shortDescription": { "text": a.title },
        "fullDescription": { "text": format!("{} ({} advisory for the {} crate)", a.title, a.kind.as_str(), a.package) },
        "helpUri": a.link(),
        "help": { "text": format!("{}\n{}", a.title, a.link()) },
        "defaultConfiguration": { "level": level },
        "properties": properties,
    })
}

fn yanked_rule(id: &str) -> Value {
    json!({
        "id": id,
        "shortDescription": { "text": "Yanked crate" },
        "fullDescription": { "text": "The crate version was yanked from crates.io by its authors; new projects cannot depend on it and it usually has a fixed successor." },
        "helpUri": "https://doc.rust-lang.org/cargo/commands/cargo-yank.html",
        "help": { "text": "Upgrade to a version that is not yanked (`cargo update -p NAME`)." },
        "defaultConfiguration": { "level": "warning" },
        "properties": { "tags": ["supply-chain", "rust", "yanked"] },
    })
}

fn result(hit: &Hit, rule_index: usize) -> Value {
    let uri = path_uri(hit.path);
    let path = hit.path.display();
    let slices = if hit.units.len() > 1 {
        format!(" ({} slices)", hit.units.join(", "))
    } else {
        String::new()
    };
    let mut text = match hit.advisory {
        Some(a) => format!(
            "{} {} in {path}{slices} is affected by {} ({}): {}.",
            hit.package,
            hit.version,
            a.id,
            a.kind.as_str(),
            a.title
        ),
        None => format!(
            "{} {} in {path}{slices} is yanked from crates.io.",
            hit.package, hit.version
        ),
    };
    if let Some(advice) = &hit.advice {
        text.push_str(&format!(" Fix: {advice}."));
    }
    if !hit.runtime {
        text.push_str(" Build-only dependency: not in the binary's runtime code.");
    }
    if hit.unverified {
        text.push_str(" The advisory is limited to some platforms and this binary does not declare which it is for.");
    }
    let fingerprint = hex(&sha1(
        format!("{}\0{}\0{}\0{}", hit.rule, hit.package, hit.version, uri).as_bytes(),
    ));
    let mut r = json!({
        "ruleId": hit.rule,
        "ruleIndex": rule_index,
        "level": if hit.fails { "error" } else { "warning" },
        "message": { "text": text },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": { "uri": uri },
                "region": { "startLine": 1 },
            }
        }],
        "partialFingerprints": { "binauditFinding/v1": fingerprint },
        "properties": {
            "package": hit.package,
            "version": hit.version,
            "dependencyKind": if hit.runtime { "runtime" } else { "build" },
            "units": hit.units,
        },
    });
    if hit.ignored {
        if let Some(obj) = r.as_object_mut() {
            obj.insert(
                "suppressions".into(),
                json!([{ "kind": "external", "justification": "ignored by binaudit configuration (--ignore or audit.toml)" }]),
            );
        }
    }
    r
}

fn notification(uri: &str, text: &str) -> Value {
    json!({
        "level": "error",
        "message": { "text": text },
        "locations": [{ "physicalLocation": { "artifactLocation": { "uri": uri } } }],
    })
}

/// The path as a URI reference: `/` separators, and every byte outside RFC 3986's unreserved
/// set and `/` percent-encoded (spaces, `#`, `%`, non-ASCII).
fn path_uri(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(
            path_uri(Path::new("target/release/app")),
            "target/release/app"
        );
        assert_eq!(path_uri(Path::new("my app#1")), "my%20app%231");
        assert_eq!(path_uri(Path::new("dir\\app.exe")), "dir/app.exe");
    }
}
