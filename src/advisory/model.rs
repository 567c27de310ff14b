//! The advisory model every later stage works with, independent of where it was read from
//! (RustSec Markdown/TOML or OSV JSON) and of any dependency's types.

use semver::{Version, VersionReq};

use super::versions::req_matches;
use serde::{Deserialize, Serialize};

/// What kind of advisory this is. Only vulnerabilities fail an audit by default; the
/// informational kinds are warnings unless denied.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AdvisoryKind {
    Vulnerability,
    Unmaintained,
    Unsound,
    Notice,
    /// An informational kind this version does not know, kept verbatim.
    Other(String),
}

impl AdvisoryKind {
    pub fn as_str(&self) -> &str {
        match self {
            AdvisoryKind::Vulnerability => "vulnerability",
            AdvisoryKind::Unmaintained => "unmaintained",
            AdvisoryKind::Unsound => "unsound",
            AdvisoryKind::Notice => "notice",
            AdvisoryKind::Other(s) => s,
        }
    }

    /// From RustSec's `informational` field (absent = vulnerability).
    pub fn from_informational(informational: Option<&str>) -> Self {
        match informational {
            None => AdvisoryKind::Vulnerability,
            Some("unmaintained") => AdvisoryKind::Unmaintained,
            Some("unsound") => AdvisoryKind::Unsound,
            Some("notice") => AdvisoryKind::Notice,
            Some(other) => AdvisoryKind::Other(other.to_owned()),
        }
    }

    pub fn is_vulnerability(&self) -> bool {
        *self == AdvisoryKind::Vulnerability
    }
}

/// Qualitative severity, as CVSS v3/v4 defines it from the base score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    None,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The CVSS qualitative rating of a base score.
    pub fn from_score(score: f64) -> Self {
        if score >= 9.0 {
            Severity::Critical
        } else if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else if score > 0.0 {
            Severity::Low
        } else {
            Severity::None
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "none" => Severity::None,
            "low" => Severity::Low,
            "medium" | "moderate" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }
}

/// A CVSS vector with its base score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cvss {
    /// The vector string, e.g. `CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H`.
    pub vector: String,
    pub score: f64,
}

impl Cvss {
    pub fn severity(&self) -> Severity {
        Severity::from_score(self.score)
    }
}

/// One range of affected versions: `introduced <= v < fixed` (either end open).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedRange {
    pub introduced: Option<Version>,
    pub fixed: Option<Version>,
}

/// Which versions an advisory affects.
///
/// RustSec states the versions that are *not* affected (`patched`, `unaffected`); OSV states the
/// affected ranges. Both are kept as written so that the fix advice can quote them.
///
/// Serialized (in the index cache only) externally tagged, `{"rustsec": {…}}`: an internally
/// tagged enum is read back through serde's buffered representation, which made it a quarter
/// of the time spent reading the index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AffectedVersions {
    /// Affected unless a `patched` or `unaffected` requirement matches.
    Rustsec {
        patched: Vec<VersionReq>,
        unaffected: Vec<VersionReq>,
    },
    /// Affected if inside any range or listed explicitly.
    Osv {
        ranges: Vec<AffectedRange>,
        versions: Vec<Version>,
    },
}

impl AffectedVersions {
    /// Whether `version` is affected.
    pub fn affects(&self, version: &Version) -> bool {
        match self {
            AffectedVersions::Rustsec {
                patched,
                unaffected,
            } => !patched
                .iter()
                .chain(unaffected)
                .any(|req| req_matches(req, version)),
            AffectedVersions::Osv { ranges, versions } => {
                versions.contains(version)
                    || ranges.iter().any(|r| {
                        r.introduced.as_ref().is_none_or(|i| version >= i)
                            && r.fixed.as_ref().is_none_or(|f| version < f)
                    })
            }
        }
    }
}

/// Where an advisory applies beyond its versions: target OS and architecture (Rust's
/// `target_os` / `target_arch` spellings) and the affected functions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub os: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arch: Vec<String>,
    /// Fully qualified paths, e.g. `smallvec::SmallVec::insert_many`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<String>,
}

/// One advisory about one crates.io package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    /// `RUSTSEC-YYYY-NNNN` (or the OSV id).
    pub id: String,
    /// The crates.io package name.
    pub package: String,
    pub kind: AdvisoryKind,
    pub title: String,
    /// ISO 8601 date the advisory was published (`YYYY-MM-DD`).
    pub date: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss: Option<Cvss>,
    /// Set when the advisory was withdrawn; withdrawn advisories are never matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    pub versions: AffectedVersions,
    #[serde(default)]
    pub affected: Affected,
}

impl Advisory {
    pub fn severity(&self) -> Option<Severity> {
        self.cvss.as_ref().map(Cvss::severity)
    }

    /// The link people should follow: the advisory's own URL, else its rustsec.org page.
    pub fn link(&self) -> String {
        match &self.url {
            Some(u) => u.clone(),
            None if self.id.starts_with("RUSTSEC-") => {
                format!("https://rustsec.org/advisories/{}", self.id)
            }
            None => format!("https://osv.dev/vulnerability/{}", self.id),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }
    fn r(s: &str) -> VersionReq {
        VersionReq::parse(s).unwrap()
    }

    #[test]
    fn rustsec_style_patched_and_unaffected() {
        let a = AffectedVersions::Rustsec {
            patched: vec![r(">= 1.6.1"), r("^0.6.14")],
            unaffected: vec![r("< 0.6.3")],
        };
        assert!(a.affects(&v("1.6.0")));
        assert!(!a.affects(&v("1.6.1")));
        assert!(!a.affects(&v("0.6.14")));
        assert!(a.affects(&v("0.6.13")));
        assert!(!a.affects(&v("0.6.2")));
    }

    #[test]
    fn osv_style_ranges() {
        let a = AffectedVersions::Osv {
            ranges: vec![AffectedRange {
                introduced: Some(v("1.0.0")),
                fixed: Some(v("1.6.1")),
            }],
            versions: vec![v("0.5.0")],
        };
        assert!(a.affects(&v("1.0.0")));
        assert!(a.affects(&v("1.6.0")));
        assert!(!a.affects(&v("1.6.1")));
        assert!(!a.affects(&v("0.9.0")));
        assert!(a.affects(&v("0.5.0")));
    }

    #[test]
    fn prerelease_of_a_patched_line_is_patched() {
        let a = AffectedVersions::Rustsec {
            patched: vec![r(">= 1.2.0")],
            unaffected: vec![],
        };
        assert!(!a.affects(&v("1.3.0-rc.1")));
        assert!(a.affects(&v("1.1.0-rc.1")));
    }

    #[test]
    fn severity_from_score() {
        assert_eq!(Severity::from_score(9.8), Severity::Critical);
        assert_eq!(Severity::from_score(7.0), Severity::High);
        assert_eq!(Severity::from_score(5.5), Severity::Medium);
        assert_eq!(Severity::from_score(0.1), Severity::Low);
        assert_eq!(Severity::from_score(0.0), Severity::None);
    }
}
