//! Version requirements as intervals over the total order of versions.
//!
//! `semver::VersionReq::matches` follows cargo's rule that a pre-release only matches a
//! comparator naming the same `major.minor.patch`. For advisories that rule is wrong both ways:
//! `1.3.0-rc.1` is not "vulnerable" just because the patched requirement is `>= 1.2.0`. Here a
//! requirement is read as the set of versions between its bounds in semver's total order
//! (where `1.3.0-rc.1 < 1.3.0`), which also gives the smallest version that satisfies it.

use semver::{Comparator, Op, Prerelease, Version, VersionReq};

/// An interval `[lower, upper)` of versions; `None` is unbounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interval {
    /// Inclusive lower bound.
    pub lower: Option<Version>,
    /// Exclusive upper bound.
    pub upper: Option<Version>,
}

impl Interval {
    pub fn contains(&self, v: &Version) -> bool {
        self.lower.as_ref().is_none_or(|l| v >= l) && self.upper.as_ref().is_none_or(|u| v < u)
    }
}

/// The smallest version of a `major.minor.patch`: its first possible pre-release.
fn floor(major: u64, minor: u64, patch: u64) -> Version {
    let mut v = Version::new(major, minor, patch);
    // "0" is the lowest pre-release identifier.
    v.pre = Prerelease::new("0").unwrap_or(Prerelease::EMPTY);
    v
}

fn exact(c: &Comparator) -> Version {
    let mut v = Version::new(c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0));
    v.pre = c.pre.clone();
    v
}

/// The version right after `v` in the total order.
fn successor(v: &Version) -> Version {
    // Appending a ".0" identifier gives the next pre-release; a release is followed by the first
    // pre-release of the next patch, and nothing can sit between them.
    if v.pre.is_empty() {
        floor(v.major, v.minor, v.patch.saturating_add(1))
    } else {
        let mut n = v.clone();
        n.pre = Prerelease::new(&format!("{}.0", v.pre)).unwrap_or_else(|_| v.pre.clone());
        n
    }
}

/// The upper end (exclusive) of the partial version `c` names: `1.2` covers up to `1.3.0-0`.
fn partial_end(c: &Comparator) -> Version {
    match (c.minor, c.patch) {
        (None, _) => floor(c.major.saturating_add(1), 0, 0),
        (Some(m), None) => floor(c.major, m.saturating_add(1), 0),
        (Some(_), Some(_)) => successor(&exact(c)),
    }
}

/// The interval one comparator describes.
pub fn comparator_interval(c: &Comparator) -> Interval {
    let start = if c.pre.is_empty() {
        floor(c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0))
    } else {
        exact(c)
    };
    // A release comparator like `>= 1.2.0` starts at 1.2.0 itself, not at its pre-releases.
    let start_release = if c.pre.is_empty() {
        Version::new(c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0))
    } else {
        exact(c)
    };
    match c.op {
        Op::Exact | Op::Wildcard => {
            if c.patch.is_some() {
                Interval {
                    lower: Some(exact(c)),
                    upper: Some(successor(&exact(c))),
                }
            } else {
                Interval {
                    lower: Some(start),
                    upper: Some(partial_end(c)),
                }
            }
        }
        Op::Greater => Interval {
            lower: Some(partial_end(c)),
            upper: None,
        },
        Op::GreaterEq => Interval {
            lower: Some(start_release),
            upper: None,
        },
        Op::Less => Interval {
            lower: None,
            upper: Some(start),
        },
        Op::LessEq => Interval {
            lower: None,
            upper: Some(partial_end(c)),
        },
        Op::Tilde => {
            let upper = match c.minor {
                Some(m) => floor(c.major, m.saturating_add(1), 0),
                None => floor(c.major.saturating_add(1), 0, 0),
            };
            Interval {
                lower: Some(start_release),
                upper: Some(upper),
            }
        }
        Op::Caret => {
            let upper = match (c.major, c.minor, c.patch) {
                (0, Some(0), Some(p)) => floor(0, 0, p.saturating_add(1)),
                (0, Some(m), _) if m > 0 => floor(0, m.saturating_add(1), 0),
                (0, Some(0), None) => floor(0, 1, 0),
                (0, None, _) => floor(1, 0, 0),
                (major, _, _) => floor(major.saturating_add(1), 0, 0),
            };
            Interval {
                lower: Some(start_release),
                upper: Some(upper),
            }
        }
        // `Op` is non-exhaustive; an operator we do not know constrains nothing we can state.
        _ => Interval {
            lower: None,
            upper: None,
        },
    }
}

/// The intersection of a requirement's comparators.
pub fn req_interval(req: &VersionReq) -> Interval {
    let mut out = Interval {
        lower: None,
        upper: None,
    };
    for c in &req.comparators {
        let i = comparator_interval(c);
        if let Some(l) = i.lower {
            if out.lower.as_ref().is_none_or(|o| &l > o) {
                out.lower = Some(l);
            }
        }
        if let Some(u) = i.upper {
            if out.upper.as_ref().is_none_or(|o| &u < o) {
                out.upper = Some(u);
            }
        }
    }
    out
}

/// Whether `version` satisfies `req`, in the total order (see the module docs).
pub fn req_matches(req: &VersionReq, version: &Version) -> bool {
    if version.pre.is_empty() {
        return req.matches(version);
    }
    req_interval(req).contains(version)
}

/// The smallest release satisfying `req`, if it has a lower bound.
pub fn req_minimum(req: &VersionReq) -> Option<Version> {
    let i = req_interval(req);
    let mut lower = i.lower?;
    if !lower.pre.is_empty() && lower.pre.as_str() == "0" {
        lower.pre = Prerelease::EMPTY;
    }
    i.upper.as_ref().is_none_or(|u| &lower < u).then_some(lower)
}

/// Whether cargo would consider `to` a compatible upgrade of `from` (same `^` range).
pub fn semver_compatible(from: &Version, to: &Version) -> bool {
    match (from.major, to.major) {
        (0, 0) => from.minor == to.minor && (from.minor != 0 || from.patch == to.patch),
        (a, b) => a == b,
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
    fn releases_match_like_cargo() {
        for (req, ver) in [
            (">= 1.6.1", "1.6.1"),
            ("^0.6.14", "0.6.20"),
            ("< 0.6.3", "0.6.2"),
            ("~1.2", "1.2.9"),
            ("=1.0.0", "1.0.0"),
        ] {
            assert!(req_matches(&r(req), &v(ver)), "{req} {ver}");
        }
        for (req, ver) in [
            (">= 1.6.1", "1.6.0"),
            ("^0.6.14", "0.7.0"),
            ("~1.2", "1.3.0"),
        ] {
            assert!(!req_matches(&r(req), &v(ver)), "{req} {ver}");
        }
    }

    #[test]
    fn prereleases_sit_in_the_total_order() {
        assert!(req_matches(&r(">= 1.2.0"), &v("1.3.0-rc.1")));
        assert!(!req_matches(&r(">= 1.2.0"), &v("1.2.0-rc.1")));
        assert!(!req_matches(&r(">= 1.2.0"), &v("1.1.0-rc.1")));
        assert!(req_matches(&r("^1.2.0"), &v("1.9.0-beta")));
        assert!(!req_matches(&r("^1.2.0"), &v("2.0.0-alpha")));
        assert!(
            !req_matches(&r("< 1.2.0"), &v("1.2.0-rc.1")),
            "a pre-release of 1.2.0 is not below 1.2.0-0"
        );
        assert!(req_matches(&r(">= 1.2.0-rc.2"), &v("1.2.0-rc.3")));
    }

    #[test]
    fn minimum_of_a_requirement() {
        assert_eq!(req_minimum(&r(">= 1.6.1")), Some(v("1.6.1")));
        assert_eq!(req_minimum(&r("^0.6.14")), Some(v("0.6.14")));
        assert_eq!(req_minimum(&r(">= 2.0.0, < 3")), Some(v("2.0.0")));
        assert_eq!(req_minimum(&r("> 1.2.3")), Some(v("1.2.4")));
        assert_eq!(req_minimum(&r("< 0.6.3")), None);
    }

    #[test]
    fn compatibility_follows_cargo_caret() {
        assert!(semver_compatible(&v("1.6.0"), &v("1.16.6")));
        assert!(!semver_compatible(&v("1.6.0"), &v("2.0.0")));
        assert!(semver_compatible(&v("0.6.3"), &v("0.6.14")));
        assert!(!semver_compatible(&v("0.6.3"), &v("0.7.0")));
        assert!(!semver_compatible(&v("0.0.3"), &v("0.0.4")));
    }
}
