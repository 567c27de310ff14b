//! OSV JSON (<https://ossf.github.io/osv-schema/>) into [`Advisory`]: one advisory per affected
//! `crates.io` package of a record.
//!
//! Read: `id`, `aliases`, `summary` (the title), `published`, `withdrawn`, `severity[]`
//! (`CVSS_V3`/`CVSS_V4`, scored with the `cvss` crate), `references`, and per affected package
//! `ranges[]` (`SEMVER`/`ECOSYSTEM` events), `versions[]`, `ecosystem_specific.affects.{os,arch,
//! functions}` and `database_specific.informational` (where RustSec's export puts the
//! informational kind). Unknown fields are ignored. What is read is read strictly: a version or
//! a CVSS vector that does not parse fails the file rather than being skipped, so that a record
//! is never half-understood.

use std::str::FromStr;

use semver::{Prerelease, Version};
use serde::Deserialize;
use serde_json::Value;

use super::model::{Advisory, AdvisoryKind, Affected, AffectedRange, AffectedVersions, Cvss};

const ECOSYSTEM: &str = "crates.io";

#[derive(Debug, Deserialize)]
struct Record {
    id: String,
    #[serde(default)]
    aliases: Option<Vec<String>>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    modified: Option<String>,
    #[serde(default)]
    withdrawn: Option<String>,
    #[serde(default)]
    severity: Option<Vec<SeverityEntry>>,
    #[serde(default)]
    affected: Option<Vec<AffectedEntry>>,
    #[serde(default)]
    references: Option<Vec<Reference>>,
    #[serde(default)]
    database_specific: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct SeverityEntry {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Debug, Deserialize)]
struct Reference {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    url: String,
}

#[derive(Debug, Deserialize)]
struct AffectedEntry {
    #[serde(default)]
    package: Option<Package>,
    #[serde(default)]
    severity: Option<Vec<SeverityEntry>>,
    #[serde(default)]
    ranges: Option<Vec<RangeEntry>>,
    #[serde(default)]
    versions: Option<Vec<String>>,
    #[serde(default)]
    ecosystem_specific: Option<Value>,
    #[serde(default)]
    database_specific: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct Package {
    ecosystem: String,
    name: String,
}

#[derive(Debug, Deserialize)]
struct RangeEntry {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    events: Vec<Event>,
}

#[derive(Debug, Deserialize)]
struct Event {
    #[serde(default)]
    introduced: Option<String>,
    #[serde(default)]
    fixed: Option<String>,
    #[serde(default)]
    last_affected: Option<String>,
    #[serde(default)]
    limit: Option<String>,
}

/// Parses one OSV JSON file. A record about no crates.io package yields no advisories.
pub(crate) fn parse(bytes: &[u8]) -> Result<Vec<Advisory>, String> {
    let record: Record =
        serde_json::from_slice(bytes).map_err(|e| format!("invalid OSV JSON: {e}"))?;
    convert(record)
}

fn convert(r: Record) -> Result<Vec<Advisory>, String> {
    let date = r
        .published
        .as_deref()
        .or(r.modified.as_deref())
        .ok_or("no published date")?;
    let date = date_of(date).ok_or_else(|| format!("invalid date {date:?}"))?;
    let withdrawn = match r.withdrawn.as_deref() {
        Some(w) => Some(date_of(w).ok_or_else(|| format!("invalid withdrawn date {w:?}"))?),
        None => None,
    };
    let title = r
        .summary
        .filter(|s| !s.trim().is_empty())
        .or_else(|| {
            r.details
                .as_deref()
                .and_then(|d| d.lines().find(|l| !l.trim().is_empty()))
                .map(|l| l.trim().to_owned())
        })
        .unwrap_or_else(|| r.id.clone());
    let top_cvss = cvss_of(r.severity.as_deref().unwrap_or_default())?;
    let url = primary_url(&r.id, r.references.as_deref().unwrap_or_default());
    let aliases = r.aliases.unwrap_or_default();
    let top_kind = informational(r.database_specific.as_ref());

    let mut out = Vec::new();
    for a in r.affected.unwrap_or_default() {
        let Some(package) = a.package.as_ref().filter(|p| p.ecosystem == ECOSYSTEM) else {
            continue;
        };
        let cvss = match a.severity.as_deref() {
            Some(s) if !s.is_empty() => cvss_of(s)?,
            _ => top_cvss.clone(),
        };
        let kind = match (informational(a.database_specific.as_ref()), &top_kind) {
            (Some(k), _) => AdvisoryKind::from_informational(Some(&k)),
            (None, Some(k)) => AdvisoryKind::from_informational(Some(k)),
            (None, None) => AdvisoryKind::Vulnerability,
        };
        let affects = a.ecosystem_specific.as_ref().and_then(|e| e.get("affects"));
        let list = |key: &str| -> Vec<String> {
            affects
                .and_then(|x| x.get(key))
                .and_then(Value::as_array)
                .map(|v| {
                    v.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut ranges = Vec::new();
        let mut git_only = false;
        for range in a.ranges.as_deref().unwrap_or_default() {
            match range.kind.as_str() {
                // crates.io's ecosystem ordering is semver.
                "SEMVER" | "ECOSYSTEM" => ranges.extend(ranges_of(&range.events)?),
                _ => git_only = true,
            }
        }
        let versions = a
            .versions
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(|v| parse_version(v))
            .collect::<Result<Vec<_>, _>>()?;
        if git_only && ranges.is_empty() && versions.is_empty() {
            return Err(format!(
                "{}: only commit ranges, no versions, for {}",
                r.id, package.name
            ));
        }
        out.push(Advisory {
            id: r.id.clone(),
            package: package.name.clone(),
            kind,
            title: title.clone(),
            date: date.clone(),
            aliases: aliases.clone(),
            url: url.clone(),
            cvss,
            withdrawn: withdrawn.clone(),
            versions: AffectedVersions::Osv { ranges, versions },
            affected: Affected {
                os: list("os"),
                arch: list("arch"),
                functions: list("functions"),
            },
        });
    }
    Ok(out)
}

/// `YYYY-MM-DD` from an RFC 3339 timestamp.
fn date_of(s: &str) -> Option<String> {
    super::db::Date::parse(s).map(|d| d.to_string())
}

fn informational(database_specific: Option<&Value>) -> Option<String> {
    database_specific?
        .get("informational")?
        .as_str()
        .map(str::to_owned)
}

/// The first CVSS v3 vector, else the first v4 one; other schemes are not scored.
fn cvss_of(entries: &[SeverityEntry]) -> Result<Option<Cvss>, String> {
    let pick = entries
        .iter()
        .find(|e| e.kind == "CVSS_V3")
        .or_else(|| entries.iter().find(|e| e.kind == "CVSS_V4"));
    let Some(entry) = pick else {
        return Ok(None);
    };
    let parsed = cvss::Cvss::from_str(&entry.score)
        .map_err(|e| format!("invalid CVSS vector {:?}: {e}", entry.score))?;
    Ok(Some(Cvss {
        vector: entry.score.clone(),
        score: parsed.score(),
    }))
}

/// The advisory's own link: the first reference that is neither the package's crates.io page nor
/// the RustSec page of this id (RustSec's export lists those two first, then `url`).
fn primary_url(id: &str, references: &[Reference]) -> Option<String> {
    let own_page = format!("https://rustsec.org/advisories/{id}.html");
    references
        .iter()
        .filter(|r| r.kind.as_deref() != Some("PACKAGE"))
        .find(|r| r.url != own_page)
        .map(|r| r.url.clone())
}

fn parse_version(s: &str) -> Result<Version, String> {
    Version::parse(s).map_err(|e| format!("invalid version {s:?}: {e}"))
}

/// The smallest version above `v` in semver's order (for the inclusive `last_affected`).
fn successor(v: &Version) -> Version {
    let mut n = v.clone();
    n.build = semver::BuildMetadata::EMPTY;
    if v.pre.is_empty() {
        n.patch = n.patch.saturating_add(1);
        n.pre = Prerelease::new("0").unwrap_or(Prerelease::EMPTY);
    } else {
        n.pre = Prerelease::new(&format!("{}.0", v.pre)).unwrap_or_else(|_| v.pre.clone());
    }
    n
}

/// The half-open ranges a list of events describes, following the OSV evaluation algorithm:
/// events sorted by version (`introduced: "0"` first), each `introduced` opens a range, each
/// `fixed` / `last_affected` / `limit` closes the open one.
fn ranges_of(events: &[Event]) -> Result<Vec<AffectedRange>, String> {
    enum Edge {
        Open(Option<Version>),
        Close(Version),
    }
    let mut edges = Vec::new();
    for e in events {
        if let Some(i) = &e.introduced {
            edges.push(Edge::Open(if i == "0" {
                None
            } else {
                Some(parse_version(i)?)
            }));
        }
        if let Some(f) = e.fixed.as_ref().or(e.limit.as_ref()) {
            edges.push(Edge::Close(parse_version(f)?));
        }
        if let Some(l) = &e.last_affected {
            edges.push(Edge::Close(successor(&parse_version(l)?)));
        }
    }
    // Stable sort: at equal versions the written order decides.
    edges.sort_by(|a, b| {
        let key = |e: &Edge| match e {
            Edge::Open(v) => v.clone(),
            Edge::Close(v) => Some(v.clone()),
        };
        key(a).cmp(&key(b))
    });
    let mut out = Vec::new();
    let mut open: Option<Option<Version>> = None;
    for edge in edges {
        match edge {
            Edge::Open(v) => {
                if open.is_none() {
                    open = Some(v);
                }
            }
            Edge::Close(v) => {
                if let Some(start) = open.take() {
                    out.push(AffectedRange {
                        introduced: start,
                        fixed: Some(v),
                    });
                }
            }
        }
    }
    if let Some(start) = open {
        out.push(AffectedRange {
            introduced: start,
            fixed: None,
        });
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    const RECORD: &str = r#"{
      "id": "GHSA-xxxx-yyyy-zzzz",
      "published": "2024-05-01T10:00:00Z",
      "aliases": ["CVE-2024-0001"],
      "summary": "Two crates",
      "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
      "future_field": {"x": 1},
      "affected": [
        {"package": {"ecosystem": "crates.io", "name": "alpha"},
         "ranges": [{"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"last_affected": "1.2.3"}]}],
         "versions": ["0.9.1"],
         "ecosystem_specific": {"affects": {"os": ["linux"], "arch": ["x86_64"], "functions": ["alpha::f"]}},
         "database_specific": {"informational": "unsound"}},
        {"package": {"ecosystem": "crates.io", "name": "beta"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0.0"}]}]},
        {"package": {"ecosystem": "PyPI", "name": "gamma"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}
      ],
      "references": [{"type": "WEB", "url": "https://example.org/report"}]
    }"#;

    #[test]
    fn one_advisory_per_crates_io_package() {
        let out = parse(RECORD.as_bytes()).unwrap();
        assert_eq!(out.len(), 2);
        let (a, b) = (&out[0], &out[1]);
        assert_eq!((a.package.as_str(), b.package.as_str()), ("alpha", "beta"));
        assert_eq!(a.id, "GHSA-xxxx-yyyy-zzzz");
        assert_eq!(a.date, "2024-05-01");
        assert_eq!(a.title, "Two crates");
        assert_eq!(a.kind, AdvisoryKind::Unsound);
        assert_eq!(b.kind, AdvisoryKind::Vulnerability);
        assert_eq!(a.url.as_deref(), Some("https://example.org/report"));
        assert_eq!(a.cvss.as_ref().unwrap().score, 7.5);
        assert_eq!(a.affected.os, ["linux"]);
        assert_eq!(a.affected.arch, ["x86_64"]);
        assert_eq!(a.affected.functions, ["alpha::f"]);
        assert!(a.versions.affects(&v("1.2.3")));
        assert!(!a.versions.affects(&v("1.2.4")));
        assert!(a.versions.affects(&v("0.9.1")));
        assert!(!a.versions.affects(&v("0.9.2")));
        assert!(b.versions.affects(&v("0.0.1")));
        assert!(!b.versions.affects(&v("2.0.0")));
    }

    #[test]
    fn unsorted_events_and_multiple_ranges() {
        let events: Vec<Event> = serde_json::from_str(
            r#"[{"introduced": "1.0.0"}, {"fixed": "1.6.1"}, {"introduced": "0.6.3"}, {"fixed": "0.6.14"}]"#,
        )
        .unwrap();
        let ranges = ranges_of(&events).unwrap();
        assert_eq!(ranges.len(), 2);
        assert_eq!(ranges[0].introduced, Some(v("0.6.3")));
        assert_eq!(ranges[0].fixed, Some(v("0.6.14")));
        assert_eq!(ranges[1].introduced, Some(v("1.0.0")));
    }

    #[test]
    fn strict_on_what_it_reads() {
        let bad_version = RECORD.replace("\"2.0.0\"", "\"two\"");
        assert!(parse(bad_version.as_bytes()).unwrap_err().contains("two"));
        let bad_cvss = RECORD.replace("AV:N/AC:L", "AV:Q/AC:L");
        assert!(parse(bad_cvss.as_bytes()).unwrap_err().contains("CVSS"));
        assert!(parse(b"{\"id\": 1}").is_err());
        assert!(parse(b"not json").is_err());
    }

    #[test]
    fn withdrawn_and_missing_summary() {
        let text = r#"{"id": "X-1", "published": "2020-01-01T00:00:00Z", "withdrawn": "2020-02-03T00:00:00Z",
          "details": "\nFirst line.\nSecond.",
          "affected": [{"package": {"ecosystem": "crates.io", "name": "c"}, "versions": ["1.0.0"]}]}"#;
        let a = &parse(text.as_bytes()).unwrap()[0];
        assert_eq!(a.withdrawn.as_deref(), Some("2020-02-03"));
        assert_eq!(a.title, "First line.");
        assert_eq!(a.cvss, None);
    }
}
