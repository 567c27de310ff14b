//! Match stage: packages × advisories × the binary's platform → findings. Pure logic, no I/O.
//!
//! Rules, in order:
//! 1. Only `crates.io` packages are matched: a local, git or other-registry crate that shares a
//!    crates.io name is a different crate.
//! 2. Withdrawn advisories never match.
//! 3. The version must be affected (see [`crate::advisory::AffectedVersions::affects`]).
//! 4. `affected.os` / `affected.arch` are compared with what the binary's headers declare. An
//!    advisory limited to other platforms is recorded as not applicable, with the reason; when
//!    the binary declares no OS (or arch), the finding is kept and marked unverified.

use linker_section::{DependencyKind, Source};
use semver::Version;
use serde::Serialize;

use crate::advisory::versions::{req_minimum, semver_compatible};
use crate::advisory::{Advisory, AffectedVersions};

/// The platform a binary (or one slice of it) declares, in Rust's `target_os`/`target_arch`
/// spellings. `None` when the headers do not say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Platform {
    pub os: Option<String>,
    pub arch: Option<String>,
    /// The kind of executable: even when no OS is declared, it rules some out (an ELF file is
    /// never a Windows program). `None` for lock files.
    pub family: Option<ObjectFamily>,
}

/// Executable formats, as far as they decide which operating systems can run them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectFamily {
    Elf,
    MachO,
    Pe,
    Wasm,
}

impl ObjectFamily {
    /// Whether a program in this format can be for `os` (Rust `target_os` spelling).
    pub fn can_target(self, os: &str) -> bool {
        const APPLE: [&str; 5] = ["macos", "ios", "tvos", "watchos", "visionos"];
        match self {
            ObjectFamily::Elf => !APPLE.contains(&os) && !matches!(os, "windows" | "uefi"),
            ObjectFamily::MachO => APPLE.contains(&os),
            ObjectFamily::Pe => matches!(os, "windows" | "uefi" | "cygwin"),
            ObjectFamily::Wasm => matches!(os, "unknown" | "wasi" | "emscripten"),
        }
    }

    fn name(self) -> &'static str {
        match self {
            ObjectFamily::Elf => "an ELF file",
            ObjectFamily::MachO => "a Mach-O file",
            ObjectFamily::Pe => "a PE file",
            ObjectFamily::Wasm => "a WebAssembly module",
        }
    }
}

/// A package to check, borrowed from a manifest or a lock file.
#[derive(Debug, Clone, Copy)]
pub struct PackageRef<'a> {
    pub name: &'a str,
    pub version: &'a Version,
    pub source: &'a Source,
    pub kind: DependencyKind,
}

impl<'a> From<&'a linker_section::Package> for PackageRef<'a> {
    fn from(p: &'a linker_section::Package) -> Self {
        PackageRef {
            name: &p.name,
            version: &p.version,
            source: &p.source,
            kind: p.kind,
        }
    }
}

/// How sure we are that the advisory's platform restriction covers this binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlatformMatch {
    /// The advisory applies to every platform, or to the one the binary declares.
    Applies,
    /// The advisory is limited to some platforms and the binary does not declare which it is for.
    Unverified,
}

/// What upgrading would take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fix {
    /// The fixed versions as the advisory states them (`>= 1.6.1`, `^0.6.14`).
    pub patched: Vec<String>,
    /// The smallest version above the embedded one that is not affected.
    pub minimum: Option<Version>,
    /// Whether `minimum` is semver-compatible with the embedded version (a `cargo update` away).
    pub compatible: Option<bool>,
}

impl Fix {
    /// One line of advice: "upgrade to >= 1.6.1 (compatible)", "no compatible fix: needs 2.0.0",
    /// "no fixed version".
    pub fn advice(&self) -> String {
        match (&self.minimum, self.compatible) {
            (Some(v), Some(true)) => {
                format!("upgrade to {v} or later (semver-compatible: `cargo update`)")
            }
            (Some(v), _) => format!("no compatible fix: needs {v}"),
            (None, _) if self.patched.is_empty() => "no fixed version published".to_owned(),
            (None, _) => format!("fixed in {}", self.patched.join(", ")),
        }
    }
}

/// An advisory that affects a package.
#[derive(Debug, Clone, Serialize)]
pub struct Finding<'db> {
    pub advisory: &'db Advisory,
    /// Index of the package in the list that was matched.
    pub package: usize,
    pub kind: DependencyKind,
    pub platform: PlatformMatch,
    pub fix: Fix,
    /// Listed by `--ignore` or a config file: reported as ignored, never counted.
    pub ignored: bool,
}

/// An advisory whose versions match but whose platform restriction excludes this binary.
#[derive(Debug, Clone, Serialize)]
pub struct NotApplicable<'db> {
    pub advisory: &'db Advisory,
    pub package: usize,
    pub reason: String,
}

/// Everything the match stage found for one list of packages.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Matches<'db> {
    pub findings: Vec<Finding<'db>>,
    pub not_applicable: Vec<NotApplicable<'db>>,
}

/// Options that change which findings are produced.
#[derive(Debug, Clone, Default)]
pub struct MatchOptions {
    /// Advisory ids (or aliases) to report as ignored.
    pub ignore: Vec<String>,
}

/// Matches `packages` against the advisories `lookup` returns for each package name.
pub fn match_packages<'db, F>(
    packages: &[PackageRef<'_>],
    platform: &Platform,
    opts: &MatchOptions,
    lookup: F,
) -> Matches<'db>
where
    F: Fn(&str) -> &'db [Advisory],
{
    let mut out = Matches::default();
    for (index, pkg) in packages.iter().enumerate() {
        if *pkg.source != Source::CratesIo {
            continue;
        }
        for advisory in lookup(pkg.name) {
            if advisory.withdrawn.is_some()
                || advisory.package != pkg.name
                || !advisory.versions.affects(pkg.version)
            {
                continue;
            }
            let platform_match = match platform_excludes(advisory, platform) {
                Err(reason) => {
                    out.not_applicable.push(NotApplicable {
                        advisory,
                        package: index,
                        reason,
                    });
                    continue;
                }
                Ok(m) => m,
            };
            let ignored = opts
                .ignore
                .iter()
                .any(|i| *i == advisory.id || advisory.aliases.contains(i));
            out.findings.push(Finding {
                advisory,
                package: index,
                kind: pkg.kind,
                platform: platform_match,
                fix: fix_for(advisory, pkg.version),
                ignored,
            });
        }
    }
    out
}

/// `Err(reason)` when the advisory's platform list excludes the declared platform.
fn platform_excludes(advisory: &Advisory, platform: &Platform) -> Result<PlatformMatch, String> {
    let mut unverified = false;
    for (what, listed, declared) in [
        ("OS", &advisory.affected.os, &platform.os),
        ("architecture", &advisory.affected.arch, &platform.arch),
    ] {
        if listed.is_empty() {
            continue;
        }
        match declared {
            Some(d) if listed.iter().any(|l| l == d) => {}
            Some(d) => {
                return Err(format!(
                    "affects {what} {} only; this binary is for {d}",
                    listed.join(", ")
                ))
            }
            None => {
                let impossible = what == "OS"
                    && platform
                        .family
                        .is_some_and(|f| listed.iter().all(|os| !f.can_target(os)));
                if let (true, Some(f)) = (impossible, platform.family) {
                    return Err(format!(
                        "affects OS {} only; this is {}, which is never built for it",
                        listed.join(", "),
                        f.name()
                    ));
                }
                unverified = true;
            }
        }
    }
    Ok(if unverified {
        PlatformMatch::Unverified
    } else {
        PlatformMatch::Applies
    })
}

/// The fixed versions and the smallest one above `current`.
pub fn fix_for(advisory: &Advisory, current: &Version) -> Fix {
    let (patched, candidates): (Vec<String>, Vec<Version>) = match &advisory.versions {
        AffectedVersions::Rustsec { patched, .. } => (
            patched.iter().map(ToString::to_string).collect(),
            patched.iter().filter_map(req_minimum).collect(),
        ),
        AffectedVersions::Osv { ranges, .. } => {
            let fixed: Vec<Version> = ranges.iter().filter_map(|r| r.fixed.clone()).collect();
            (fixed.iter().map(|v| format!(">= {v}")).collect(), fixed)
        }
    };
    let minimum = candidates
        .into_iter()
        .filter(|v| v > current && !advisory.versions.affects(v))
        .min();
    let compatible = minimum.as_ref().map(|m| semver_compatible(current, m));
    Fix {
        patched,
        minimum,
        compatible,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::advisory::model::{AdvisoryKind, Affected};
    use semver::VersionReq;

    fn adv(id: &str, package: &str, patched: &[&str]) -> Advisory {
        Advisory {
            id: id.into(),
            package: package.into(),
            kind: AdvisoryKind::Vulnerability,
            title: "t".into(),
            date: "2021-01-01".into(),
            aliases: vec![format!("CVE-{id}")],
            url: None,
            cvss: None,
            withdrawn: None,
            versions: AffectedVersions::Rustsec {
                patched: patched
                    .iter()
                    .map(|p| VersionReq::parse(p).unwrap())
                    .collect(),
                unaffected: vec![],
            },
            affected: Affected::default(),
        }
    }

    fn run<'db>(
        db: &'db [Advisory],
        name: &str,
        version: &str,
        source: Source,
        platform: &Platform,
    ) -> Matches<'db> {
        let v = Version::parse(version).unwrap();
        let pkgs = [PackageRef {
            name,
            version: &v,
            source: &source,
            kind: DependencyKind::Runtime,
        }];
        let m = match_packages(
            &pkgs,
            platform,
            &MatchOptions {
                ignore: vec!["RUSTSEC-IGNORED".into()],
            },
            |n| {
                let start = db.iter().position(|a| a.package == n).unwrap_or(db.len());
                let end = db
                    .iter()
                    .rposition(|a| a.package == n)
                    .map_or(start, |e| e + 1);
                &db[start..end]
            },
        );
        // Findings borrow the package list only by index, so returning is fine.
        m
    }

    #[test]
    fn crates_io_package_in_affected_range_is_found_with_fix() {
        let db = [adv(
            "RUSTSEC-2021-0003",
            "smallvec",
            &[">= 1.6.1", "^0.6.14"],
        )];
        let m = run(
            &db,
            "smallvec",
            "1.6.0",
            Source::CratesIo,
            &Platform::default(),
        );
        assert_eq!(m.findings.len(), 1);
        let f = &m.findings[0].fix;
        assert_eq!(f.minimum, Some(Version::new(1, 6, 1)));
        assert_eq!(f.compatible, Some(true));
        assert_eq!(f.patched, [">=1.6.1", "^0.6.14"]);
    }

    #[test]
    fn local_git_and_other_registry_namesakes_are_never_flagged() {
        let db = [adv("RUSTSEC-2020-0071", "time", &[">= 0.2.23"])];
        for source in [
            Source::Local,
            Source::Git,
            Source::Registry,
            Source::Other("x".into()),
        ] {
            let m = run(&db, "time", "0.1.0", source.clone(), &Platform::default());
            assert!(
                m.findings.is_empty() && m.not_applicable.is_empty(),
                "{source:?}"
            );
        }
        assert_eq!(
            run(&db, "time", "0.1.0", Source::CratesIo, &Platform::default())
                .findings
                .len(),
            1
        );
    }

    #[test]
    fn patched_version_is_not_flagged() {
        let db = [adv("RUSTSEC-2021-0003", "smallvec", &[">= 1.6.1"])];
        assert!(run(
            &db,
            "smallvec",
            "1.6.1",
            Source::CratesIo,
            &Platform::default()
        )
        .findings
        .is_empty());
    }

    #[test]
    fn withdrawn_advisories_never_match() {
        let mut a = adv("RUSTSEC-2000-0001", "x", &[]);
        a.withdrawn = Some("2020-01-01".into());
        assert!(
            run(&[a], "x", "1.0.0", Source::CratesIo, &Platform::default())
                .findings
                .is_empty()
        );
    }

    #[test]
    fn incompatible_fix_is_said_plainly() {
        let db = [adv("RUSTSEC-2000-0002", "x", &[">= 2.0.0"])];
        let m = run(&db, "x", "1.4.0", Source::CratesIo, &Platform::default());
        assert_eq!(m.findings[0].fix.compatible, Some(false));
        assert_eq!(m.findings[0].fix.advice(), "no compatible fix: needs 2.0.0");
    }

    #[test]
    fn no_patched_versions_means_no_fix() {
        let db = [adv("RUSTSEC-2000-0003", "x", &[])];
        let m = run(&db, "x", "1.4.0", Source::CratesIo, &Platform::default());
        assert_eq!(m.findings[0].fix.minimum, None);
        assert_eq!(m.findings[0].fix.advice(), "no fixed version published");
    }

    #[test]
    fn os_restricted_advisory_follows_the_declared_os() {
        let mut a = adv("RUSTSEC-2021-0145", "atty", &[]);
        a.affected.os = vec!["windows".into()];
        let db = [a];
        let linux = Platform {
            family: None,
            os: Some("linux".into()),
            arch: Some("x86_64".into()),
        };
        let m = run(&db, "atty", "0.2.14", Source::CratesIo, &linux);
        assert!(m.findings.is_empty());
        assert!(
            m.not_applicable[0].reason.contains("windows"),
            "{}",
            m.not_applicable[0].reason
        );
        let windows = Platform {
            family: None,
            os: Some("windows".into()),
            arch: None,
        };
        assert_eq!(
            run(&db, "atty", "0.2.14", Source::CratesIo, &windows).findings[0].platform,
            PlatformMatch::Applies
        );
        let unknown = Platform::default();
        assert_eq!(
            run(&db, "atty", "0.2.14", Source::CratesIo, &unknown).findings[0].platform,
            PlatformMatch::Unverified
        );
    }

    #[test]
    fn arch_restricted_advisory_follows_the_declared_arch() {
        let mut a = adv("RUSTSEC-2000-0004", "simd", &[]);
        a.affected.arch = vec!["x86".into(), "x86_64".into()];
        let db = [a];
        let arm = Platform {
            family: None,
            os: Some("linux".into()),
            arch: Some("aarch64".into()),
        };
        assert!(run(&db, "simd", "1.0.0", Source::CratesIo, &arm)
            .findings
            .is_empty());
        let x86 = Platform {
            family: None,
            os: Some("linux".into()),
            arch: Some("x86_64".into()),
        };
        assert_eq!(
            run(&db, "simd", "1.0.0", Source::CratesIo, &x86)
                .findings
                .len(),
            1
        );
    }

    #[test]
    fn ignored_ids_and_aliases_are_marked_not_dropped() {
        let db = [adv("RUSTSEC-IGNORED", "x", &[])];
        let m = run(&db, "x", "1.0.0", Source::CratesIo, &Platform::default());
        assert!(m.findings[0].ignored);
    }

    #[test]
    fn the_container_format_rules_out_operating_systems_when_none_is_declared() {
        let mut a = adv("RUSTSEC-2021-0145", "atty", &[]);
        a.affected.os = vec!["windows".into()];
        let db = [a];
        let elf = Platform {
            os: None,
            arch: None,
            family: Some(ObjectFamily::Elf),
        };
        let m = run(&db, "atty", "0.2.14", Source::CratesIo, &elf);
        assert!(m.findings.is_empty());
        assert!(
            m.not_applicable[0].reason.contains("an ELF file"),
            "{}",
            m.not_applicable[0].reason
        );
        let pe = Platform {
            os: None,
            arch: None,
            family: Some(ObjectFamily::Pe),
        };
        assert_eq!(
            run(&db, "atty", "0.2.14", Source::CratesIo, &pe).findings[0].platform,
            PlatformMatch::Unverified
        );
        assert!(ObjectFamily::Elf.can_target("linux") && ObjectFamily::Elf.can_target("freebsd"));
        assert!(!ObjectFamily::MachO.can_target("linux") && ObjectFamily::MachO.can_target("ios"));
        assert!(ObjectFamily::Wasm.can_target("wasi") && !ObjectFamily::Wasm.can_target("windows"));
    }
}
