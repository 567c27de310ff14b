//! `binaudit scan --format cyclonedx`: a CycloneDX 1.5 JSON BOM with the components, their
//! dependency graph and the vulnerabilities found, valid against the official 1.5 schema.
//!
//! # Shape
//! - Every audited input is a component of its own: `application` for an executable, `library`
//!   for a shared library, `file` for a lock file, named after the file. With exactly one
//!   audited input it is `metadata.component` (what the BOM describes); with several they are
//!   top-level components.
//! - Every package of every unit (architecture image) is a component: `application` for a root,
//!   `library` otherwise; `scope: excluded` for build-only packages (the spec's word for
//!   "used, but not at run time"), `required` for the rest. crates.io packages get the purl
//!   `pkg:cargo/NAME@VERSION`; git, path and other-registry packages get none, since a purl
//!   without the repository it came from would name the crates.io crate of the same name.
//!   `bom-ref`s are `PATH#ARCH/NAME@VERSION` (`PATH#NAME@VERSION` for lock files), made unique
//!   with a `~N` suffix when a path is given twice or a name and version repeat.
//! - `dependencies` is the manifest's graph by `bom-ref`; every package has an entry (an empty
//!   one when it depends on nothing, as the spec asks). An input whose packages are unknown has
//!   no entry, and `compositions` says how complete each input's graph is: `complete` from a
//!   manifest, `incomplete` when recovered, `unknown` when nothing is known.
//! - `vulnerabilities`: one entry per advisory and analysis, `affects` pointing at the package
//!   components, with the CVSS rating (`CVSSv31`, `CVSSv3`, `CVSSv4` or `CVSSv2` after the
//!   vector's prefix), the advisory link, aliases as `references` and the fix advice as
//!   `recommendation`.
//!   - An advisory whose platform excludes the image is listed with `analysis.state:
//!     not_affected`, `justification: requires_environment` and the reason: a true VEX
//!     statement we can make.
//!   - An ignored finding is listed with an `analysis` that has a `detail` but no `state`: an
//!     ignore list records a decision, not its reason, and every state the spec allows
//!     (`not_affected`, `false_positive`, `resolved`, …) would assert a reason the user never
//!     gave. The schema makes `state` optional for that.
//!   - Active findings have no `analysis`: binaudit matched versions and platforms; it did not
//!     analyse exploitability, so `exploitable` would overstate it.
//! - Inputs that could not be audited are `metadata.properties` named `binaudit:not-audited`.
//!
//! # Reproducibility
//! The output is a pure function of the report and [`CycloneDxOptions`]: `serialNumber` is a
//! version-5 (SHA-1, name-based) UUID of the rest of the document, so the same audit gives the
//! same serial and any change gives another; with a real `timestamp` two runs differ, as the
//! spec recommends.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use linker_section::{DependencyKind, Source};
use serde_json::{json, Map, Value};

use super::json::{
    finding_fails, shown_findings, shown_not_applicable, sorted_inputs, unit_labels,
};
use crate::advisory::Advisory;
use crate::audit::{AuditReport, InputKind, InputOutcome, YankStatus};
use crate::binary::Completeness;
use crate::extract::FileKind;

/// The CycloneDX version written.
pub const SPEC_VERSION: &str = "1.5";

/// How the BOM is written.
#[derive(Debug, Clone)]
pub struct CycloneDxOptions {
    /// `metadata.timestamp`, RFC 3339 (see [`rfc3339_utc`]); left out when `None`.
    pub timestamp: Option<String>,
    /// The version of the tool named in `metadata.tools`; this crate's version by default.
    pub tool_version: String,
}

impl Default for CycloneDxOptions {
    fn default() -> Self {
        CycloneDxOptions {
            timestamp: None,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// Writes the BOM for `report`, followed by a newline.
pub fn write(out: &mut dyn Write, report: &AuditReport, opts: &CycloneDxOptions) -> io::Result<()> {
    let bom = build(report, opts);
    serde_json::to_writer_pretty(&mut *out, &bom).map_err(io::Error::other)?;
    writeln!(out)
}

/// What one advisory × analysis entry collects.
struct Vuln<'a> {
    advisory: &'a Advisory,
    affects: BTreeSet<String>,
    /// Fix advice per affected "name version".
    advice: BTreeMap<String, String>,
    fails: bool,
}

/// The analysis a vulnerability entry carries; part of its key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Analysis {
    Active,
    Ignored,
    NotApplicable(String),
}

fn build(report: &AuditReport, opts: &CycloneDxOptions) -> Value {
    let mut used = HashSet::new();
    let mut unique = |base: String| -> String {
        let mut r = base.clone();
        let mut n = 1;
        while !used.insert(r.clone()) {
            n += 1;
            r = format!("{base}~{n}");
        }
        r
    };

    let mut files: Vec<Value> = Vec::new();
    let mut components: Vec<Value> = Vec::new();
    let mut dependencies: Vec<Value> = Vec::new();
    let mut compositions: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut not_audited: Vec<Value> = Vec::new();
    let mut vulns: BTreeMap<(&str, Analysis), Vuln> = BTreeMap::new();

    for input in sorted_inputs(report) {
        let path = input.path.display().to_string();
        let (format, units) = match &input.outcome {
            InputOutcome::Audited { format, units } => (format, units),
            InputOutcome::NotRust { .. } => continue,
            InputOutcome::NotExecutable => {
                not_audited.push(property(
                    "binaudit:not-audited",
                    &format!("{path}: not an executable, object or lock file"),
                ));
                continue;
            }
            InputOutcome::Error(e) => {
                not_audited.push(property("binaudit:not-audited", &format!("{path}: {e}")));
                continue;
            }
        };
        let file_ref = unique(path.clone());
        let file_type = match input.kind {
            InputKind::LockFile => "file",
            InputKind::Binary => {
                let shared = units
                    .iter()
                    .filter_map(|u| u.image.as_ref())
                    .any(|i| i.kind == FileKind::SharedLibrary);
                if shared {
                    "library"
                } else {
                    "application"
                }
            }
        };
        let name = input
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.clone());
        let mut file_props = vec![property("binaudit:path", &path)];
        if let Some(f) = format {
            file_props.push(property("binaudit:format", f.as_str()));
        }
        files.push(json!({
            "type": file_type,
            "bom-ref": file_ref,
            "name": name,
            "properties": file_props,
        }));

        let labels = unit_labels(units);
        let mut file_depends = BTreeSet::new();
        let mut worst = Completeness::Complete;
        for (unit, label) in units.iter().zip(labels) {
            worst = match (worst, unit.completeness) {
                (_, Completeness::None) | (Completeness::None, _) => Completeness::None,
                (_, Completeness::Recovered) | (Completeness::Recovered, _) => {
                    Completeness::Recovered
                }
                _ => Completeness::Complete,
            };
            if let Some(e) = &unit.error {
                not_audited.push(property(
                    "binaudit:not-audited",
                    &format!("{path} ({label}): {e}"),
                ));
                worst = Completeness::None;
            }
            let refs: Vec<String> = unit
                .packages
                .iter()
                .map(|p| {
                    unique(match unit.image {
                        Some(_) => format!("{path}#{label}/{}@{}", p.name, p.version),
                        None => format!("{path}#{}@{}", p.name, p.version),
                    })
                })
                .collect();
            for (i, (p, r)) in unit.packages.iter().zip(&refs).enumerate() {
                let mut props = vec![
                    property("binaudit:dependency-kind", p.kind.as_str()),
                    property("binaudit:source", p.source.as_str()),
                    property("binaudit:path", &path),
                ];
                if unit.image.is_some() {
                    props.push(property("binaudit:arch", &label));
                }
                match unit.yanked.get(i) {
                    Some(YankStatus::Yanked) => props.push(property("binaudit:yanked", "true")),
                    Some(YankStatus::Available) => props.push(property("binaudit:yanked", "false")),
                    _ => {}
                }
                let mut c = json!({
                    "type": if p.root { "application" } else { "library" },
                    "bom-ref": r,
                    "name": p.name,
                    "version": p.version.to_string(),
                    "scope": match p.kind {
                        DependencyKind::Runtime => "required",
                        DependencyKind::Build => "excluded",
                    },
                    "properties": props,
                });
                if p.source == Source::CratesIo {
                    if let Some(obj) = c.as_object_mut() {
                        obj.insert("purl".into(), json!(purl(&p.name, &p.version.to_string())));
                    }
                }
                components.push(c);
                let depends: BTreeSet<&String> =
                    p.dependencies.iter().filter_map(|d| refs.get(*d)).collect();
                dependencies.push(json!({ "ref": r, "dependsOn": depends }));
                if p.root {
                    file_depends.insert(r.clone());
                }
            }
            if !unit.packages.iter().any(|p| p.root) {
                // A package list without a root (a lock file of a virtual workspace): the
                // input depends on all of it.
                file_depends.extend(refs.iter().cloned());
            }

            for (f, pkg) in shown_findings(report, unit) {
                let analysis = if f.ignored {
                    Analysis::Ignored
                } else {
                    Analysis::Active
                };
                let v = vulns
                    .entry((f.advisory.id.as_str(), analysis))
                    .or_insert_with(|| Vuln {
                        advisory: f.advisory,
                        affects: BTreeSet::new(),
                        advice: BTreeMap::new(),
                        fails: false,
                    });
                if let Some(r) = refs.get(f.package) {
                    v.affects.insert(r.clone());
                }
                v.advice
                    .insert(format!("{} {}", pkg.name, pkg.version), f.fix.advice());
                v.fails |= finding_fails(report, f);
            }
            for (n, _) in shown_not_applicable(report, unit) {
                let v = vulns
                    .entry((
                        n.advisory.id.as_str(),
                        Analysis::NotApplicable(n.reason.clone()),
                    ))
                    .or_insert_with(|| Vuln {
                        advisory: n.advisory,
                        affects: BTreeSet::new(),
                        advice: BTreeMap::new(),
                        fails: false,
                    });
                if let Some(r) = refs.get(n.package) {
                    v.affects.insert(r.clone());
                }
            }
        }
        let aggregate = match worst {
            Completeness::Complete => "complete",
            Completeness::Recovered => "incomplete",
            Completeness::None => "unknown",
        };
        compositions
            .entry(aggregate)
            .or_default()
            .push(file_ref.clone());
        if worst != Completeness::None || !file_depends.is_empty() {
            dependencies.push(json!({ "ref": file_ref, "dependsOn": file_depends }));
        }
    }

    let mut metadata = Map::new();
    if let Some(t) = &opts.timestamp {
        metadata.insert("timestamp".into(), json!(t));
    }
    metadata.insert(
        "tools".into(),
        json!({
            "components": [{
                "type": "application",
                "name": "binaudit",
                "version": opts.tool_version,
                "externalReferences": [{ "type": "website", "url": env!("CARGO_PKG_REPOSITORY") }],
            }]
        }),
    );
    if files.len() == 1 {
        metadata.insert("component".into(), files.remove(0));
    } else {
        // Several inputs: each is a top-level component, ahead of the packages.
        files.append(&mut components);
        components = files;
    }
    let mut props = vec![
        property(
            "binaudit:database-advisories",
            &report.database.advisories.to_string(),
        ),
        property(
            "binaudit:yanked-checked",
            if report.yanked_checked {
                "true"
            } else {
                "false"
            },
        ),
    ];
    if let Some(d) = &report.database.last_updated {
        props.push(property("binaudit:database-updated", d));
    }
    props.extend(not_audited);
    metadata.insert("properties".into(), Value::Array(props));

    let vulnerabilities: Vec<Value> = vulns
        .into_iter()
        .filter(|(_, v)| !v.affects.is_empty())
        .map(|((_, analysis), v)| vulnerability(&v, &analysis))
        .collect();
    let compositions: Vec<Value> = compositions
        .into_iter()
        .map(|(aggregate, refs)| json!({ "aggregate": aggregate, "dependencies": refs }))
        .collect();

    let mut bom = json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.5.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "version": 1,
        "metadata": metadata,
        "components": components,
        "dependencies": dependencies,
        "compositions": compositions,
        "vulnerabilities": vulnerabilities,
    });
    let serial = serial_number(&bom);
    if let Some(obj) = bom.as_object_mut() {
        obj.insert("serialNumber".into(), json!(serial));
    }
    bom
}

fn vulnerability(v: &Vuln, analysis: &Analysis) -> Value {
    let a = v.advisory;
    let source = source_of(&a.id, &a.link());
    let mut obj = Map::new();
    obj.insert("id".into(), json!(a.id));
    obj.insert("source".into(), source.clone());
    let references: Vec<Value> = a
        .aliases
        .iter()
        .map(|alias| json!({ "id": alias, "source": source_of(alias, &alias_url(alias)) }))
        .collect();
    if !references.is_empty() {
        obj.insert("references".into(), Value::Array(references));
    }
    if let Some(cvss) = &a.cvss {
        obj.insert(
            "ratings".into(),
            json!([{
                "source": source,
                "score": cvss.score,
                "severity": cvss.severity().as_str(),
                "method": cvss_method(&cvss.vector),
                "vector": cvss.vector,
            }]),
        );
    }
    obj.insert("description".into(), json!(a.title));
    if !matches!(analysis, Analysis::NotApplicable(_)) && !v.advice.is_empty() {
        let distinct: BTreeSet<&String> = v.advice.values().collect();
        let text = if distinct.len() == 1 {
            v.advice.values().next().cloned().unwrap_or_default()
        } else {
            v.advice
                .iter()
                .map(|(pkg, advice)| format!("{pkg}: {advice}"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        obj.insert("recommendation".into(), json!(text));
    }
    obj.insert(
        "advisories".into(),
        json!([{ "title": a.title, "url": a.link() }]),
    );
    if let Some(published) = date_time(&a.date) {
        obj.insert("published".into(), json!(published));
    }
    match analysis {
        Analysis::Active => {}
        Analysis::Ignored => {
            obj.insert(
                "analysis".into(),
                json!({ "detail": "Ignored by binaudit's configuration (--ignore or audit.toml). The reason is not recorded, so no analysis state is asserted." }),
            );
        }
        Analysis::NotApplicable(reason) => {
            obj.insert(
                "analysis".into(),
                json!({ "state": "not_affected", "justification": "requires_environment", "detail": reason }),
            );
        }
    }
    let affects: Vec<Value> = v.affects.iter().map(|r| json!({ "ref": r })).collect();
    obj.insert("affects".into(), Value::Array(affects));
    let mut props = vec![property("binaudit:advisory-kind", a.kind.as_str())];
    if matches!(analysis, Analysis::Ignored) {
        props.push(property("binaudit:ignored", "true"));
    }
    if matches!(analysis, Analysis::Active) {
        props.push(property(
            "binaudit:fails",
            if v.fails { "true" } else { "false" },
        ));
    }
    obj.insert("properties".into(), Value::Array(props));
    Value::Object(obj)
}

fn property(name: &str, value: &str) -> Value {
    json!({ "name": name, "value": value })
}

/// The database that published an id, with the link to it.
fn source_of(id: &str, url: &str) -> Value {
    let name = if id.starts_with("RUSTSEC-") {
        "RustSec"
    } else if id.starts_with("CVE-") {
        "NVD"
    } else if id.starts_with("GHSA-") {
        "GitHub Advisories"
    } else {
        "OSV"
    };
    json!({ "name": name, "url": url })
}

fn alias_url(alias: &str) -> String {
    if alias.starts_with("CVE-") {
        format!("https://nvd.nist.gov/vuln/detail/{alias}")
    } else if alias.starts_with("GHSA-") {
        format!("https://github.com/advisories/{alias}")
    } else if alias.starts_with("RUSTSEC-") {
        format!("https://rustsec.org/advisories/{alias}")
    } else {
        format!("https://osv.dev/vulnerability/{alias}")
    }
}

/// The CycloneDX scoring method of a CVSS vector, from its prefix.
fn cvss_method(vector: &str) -> &'static str {
    if vector.starts_with("CVSS:3.1/") {
        "CVSSv31"
    } else if vector.starts_with("CVSS:3.0/") {
        "CVSSv3"
    } else if vector.starts_with("CVSS:4.0/") {
        "CVSSv4"
    } else if vector.starts_with("AV:") {
        // CVSS v2 vectors carry no version prefix.
        "CVSSv2"
    } else {
        "other"
    }
}

/// `YYYY-MM-DD` as an RFC 3339 date-time at midnight UTC; `None` for anything else.
fn date_time(date: &str) -> Option<String> {
    let b = date.as_bytes();
    let shape = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        });
    shape.then(|| format!("{date}T00:00:00Z"))
}

/// `pkg:cargo/NAME@VERSION`, percent-encoding everything outside the purl-safe set (a `+` of
/// build metadata becomes `%2B`).
fn purl(name: &str, version: &str) -> String {
    fn enc(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }
    format!("pkg:cargo/{}@{}", enc(name), enc(version))
}

/// `urn:uuid:` + a version-5 UUID of the document (serialised without its serial number).
fn serial_number(bom: &Value) -> String {
    // The RFC 4122 URL namespace; the name is a URL-like string of our own plus the content.
    const NAMESPACE_URL: [u8; 16] = [
        0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30,
        0xc8,
    ];
    let mut name = NAMESPACE_URL.to_vec();
    name.extend_from_slice(b"binaudit:cyclonedx:");
    name.extend_from_slice(bom.to_string().as_bytes());
    let h = sha1(&name);
    let mut u = [0u8; 16];
    u.copy_from_slice(&h[..16]);
    u[6] = (u[6] & 0x0f) | 0x50;
    u[8] = (u[8] & 0x3f) | 0x80;
    let hex: String = u.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A time as RFC 3339 in UTC with second precision (`2026-08-21T09:30:00Z`), for
/// [`CycloneDxOptions::timestamp`]. Times before 1970 are written as the epoch.
pub fn rfc3339_utc(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let rem = secs % 86_400;
    let date =
        crate::advisory::db::Date::from_unix_seconds(i64::try_from(secs).unwrap_or(i64::MAX));
    format!(
        "{date}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// SHA-1 (FIPS 180-4). Used for name-based UUIDs and stable SARIF fingerprints, where it is an
/// identifier, not a security measure; small enough not to warrant a dependency.
pub(crate) fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let bit_len = (data.len() as u64).wrapping_mul(8);
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (chunk, word) in out.chunks_exact_mut(4).zip(h) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn sha1_matches_the_fips_test_vectors() {
        assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(&sha1(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        assert_eq!(
            hex(&sha1(&vec![b'a'; 1_000_000])),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f"
        );
    }

    #[test]
    fn rfc3339_of_known_instants() {
        let at = |s: u64| rfc3339_utc(UNIX_EPOCH + std::time::Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_787_304_600), "2026-08-21T09:30:00Z");
    }

    #[test]
    fn purls_encode_build_metadata() {
        assert_eq!(purl("serde", "1.0.0"), "pkg:cargo/serde@1.0.0");
        assert_eq!(purl("x", "1.0.0+build.5"), "pkg:cargo/x@1.0.0%2Bbuild.5");
    }

    #[test]
    fn cvss_methods_follow_the_vector_prefix() {
        assert_eq!(cvss_method("CVSS:3.1/AV:N"), "CVSSv31");
        assert_eq!(cvss_method("CVSS:3.0/AV:N"), "CVSSv3");
        assert_eq!(cvss_method("CVSS:4.0/AV:N"), "CVSSv4");
        assert_eq!(cvss_method("AV:N/AC:L"), "CVSSv2");
    }
}
