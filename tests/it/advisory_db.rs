//! The advisory database: the real snapshot in `../shared/advisory-db` (both layouts), the small
//! fixture database, the index cache, git metadata, and fetching over a loopback HTTP server.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use binaudit::advisory::{
    fetch_or_update, needs_refresh, Advisory, AdvisoryKind, AffectedVersions, Database, Date,
    DbError, FetchError, FetchOutcome, Layout, OpenOptions, Severity,
};
use semver::{Version, VersionReq};

use crate::http::StaticServer;

fn snapshot() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/advisory-db")
}

fn small() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/advisory-db-small")
}

fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

fn r(s: &str) -> VersionReq {
    VersionReq::parse(s).unwrap()
}

fn open(path: &Path) -> Database {
    Database::open(path, &OpenOptions::without_cache())
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()))
}

fn cached(cache: &Path) -> OpenOptions {
    OpenOptions {
        cache_dir: Some(cache.to_owned()),
        ..OpenOptions::without_cache()
    }
}

fn get<'a>(db: &'a Database, package: &str, id: &str) -> &'a Advisory {
    db.advisories_for(package)
        .iter()
        .find(|a| a.id == id)
        .unwrap_or_else(|| panic!("{id} for {package} not loaded"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Sets the modification time of everything under `dir` (and `dir` itself) that changed in the
/// last minute an hour back, as if it had changed a while ago. The index cache does not trust
/// times of the last seconds (a second change in the same clock tick would not show), so a
/// database a test just wrote would otherwise be parsed on every open. Older times are left
/// alone, so what a test did not change keeps the time the index recorded.
fn settle(dir: &Path) {
    let now = SystemTime::now();
    let past = now - Duration::from_secs(3600);
    let fresh = |p: &Path| {
        let modified = std::fs::metadata(p).unwrap().modified().unwrap();
        modified + Duration::from_secs(60) > now
    };
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            settle(&entry.path());
        } else if fresh(&entry.path()) {
            std::fs::File::options()
                .write(true)
                .open(entry.path())
                .unwrap()
                .set_modified(past)
                .unwrap();
        }
    }
    if fresh(dir) {
        std::fs::File::open(dir)
            .unwrap()
            .set_modified(past)
            .unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// The real snapshot, RustSec layout

#[test]
fn snapshot_counts_match_snapshot_txt() {
    let db = open(&snapshot());
    let info = db.info();
    assert_eq!(info.layout, Layout::RustSec);
    assert!(
        db.load_errors().is_empty(),
        "every file parses: {:?}",
        db.load_errors()
    );
    assert_eq!(info.advisory_count, 1205);
    assert_eq!(db.iter().count(), 1205);
    assert_eq!(info.withdrawn_count, 13);
    assert_eq!(db.iter().filter(|a| a.withdrawn.is_some()).count(), 13);
    assert_eq!(info.toolchain_count, 20);
    assert!(!info.loaded_from_index);
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for a in db.iter() {
        *kinds.entry(a.kind.as_str()).or_default() += 1;
    }
    let expected: BTreeMap<&str, usize> = [
        ("vulnerability", 729),
        ("unmaintained", 267),
        ("unsound", 203),
        ("notice", 6),
    ]
    .into();
    assert_eq!(kinds, expected);
    let packages: BTreeSet<&str> = db.iter().map(|a| a.package.as_str()).collect();
    assert_eq!(packages.len(), 908, "crate directories");
    let mut toolchain: BTreeMap<&str, usize> = BTreeMap::new();
    for a in db.toolchain_advisories() {
        *toolchain.entry(a.package.as_str()).or_default() += 1;
    }
    assert_eq!(
        toolchain,
        [("cargo", 1), ("rustdoc", 1), ("std", 18)].into()
    );
    assert_eq!(info.newest_advisory_date.unwrap().to_string(), "2026-08-20");
    // Not a git checkout (an exported snapshot).
    assert_eq!(info.commit, None);
}

#[test]
fn snapshot_smallvec_buffer_overflow() {
    let db = open(&snapshot());
    let ids: Vec<&str> = db
        .advisories_for("smallvec")
        .iter()
        .map(|a| a.id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "RUSTSEC-2018-0003",
            "RUSTSEC-2018-0018",
            "RUSTSEC-2019-0009",
            "RUSTSEC-2019-0012",
            "RUSTSEC-2021-0003"
        ]
    );
    let a = get(&db, "smallvec", "RUSTSEC-2021-0003");
    assert_eq!(a.kind, AdvisoryKind::Vulnerability);
    assert_eq!(a.title, "Buffer overflow in SmallVec::insert_many");
    assert_eq!(a.date, "2021-01-08");
    assert_eq!(a.aliases, ["CVE-2021-25900", "GHSA-43w2-9j62-hq99"]);
    assert_eq!(
        a.url.as_deref(),
        Some("https://github.com/servo/rust-smallvec/issues/252")
    );
    assert_eq!(a.withdrawn, None);
    let cvss = a.cvss.as_ref().unwrap();
    assert_eq!(cvss.vector, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
    assert_eq!(cvss.score, 9.8);
    assert_eq!(a.severity(), Some(Severity::Critical));
    assert_eq!(
        a.versions,
        AffectedVersions::Rustsec {
            patched: vec![r(">= 0.6.14, < 1.0.0"), r(">= 1.6.1")],
            unaffected: vec![r("< 0.6.3")],
        }
    );
    assert_eq!(a.affected.functions, ["smallvec::SmallVec::insert_many"]);
    assert!(a.affected.os.is_empty() && a.affected.arch.is_empty());
    for (version, affected) in [
        ("0.6.2", false),
        ("0.6.3", true),
        ("0.6.13", true),
        ("0.6.14", false),
        ("1.0.0", true),
        ("1.6.0", true),
        ("1.6.1", false),
        ("1.13.2", false),
    ] {
        assert_eq!(a.versions.affects(&v(version)), affected, "{version}");
    }
}

#[test]
fn snapshot_platform_specific_and_informational_advisories() {
    let db = open(&snapshot());
    let atty = get(&db, "atty", "RUSTSEC-2021-0145");
    assert_eq!(atty.kind, AdvisoryKind::Unsound);
    assert_eq!(atty.affected.os, ["windows"]);
    assert!(atty.versions.affects(&v("0.2.14")), "no patched version");
    let unmaintained = get(&db, "atty", "RUSTSEC-2024-0375");
    assert_eq!(unmaintained.kind, AdvisoryKind::Unmaintained);
    assert_eq!(unmaintained.cvss, None);
    // An arch-specific one: target_arch spellings.
    let arch: BTreeSet<&str> = db
        .iter()
        .flat_map(|a| a.affected.arch.iter().map(String::as_str))
        .collect();
    assert_eq!(arch, ["aarch64", "x86", "x86_64"].into());
    let os: BTreeSet<&str> = db
        .iter()
        .flat_map(|a| a.affected.os.iter().map(String::as_str))
        .collect();
    assert!(os.contains("windows") && os.contains("linux") && os.contains("macos"));
    // A CVSS 4.0 vector is scored too.
    let v4 = db
        .iter()
        .find(|a| {
            a.cvss
                .as_ref()
                .is_some_and(|c| c.vector.starts_with("CVSS:4.0/"))
        })
        .expect("the snapshot has CVSS 4.0 advisories");
    assert!(v4.cvss.as_ref().unwrap().score > 0.0);
}

#[test]
fn snapshot_withdrawn_and_toolchain_advisories() {
    let db = open(&snapshot());
    let withdrawn: Vec<&Advisory> = db.iter().filter(|a| a.withdrawn.is_some()).collect();
    assert_eq!(withdrawn.len(), 13);
    let a = db.get("RUSTSEC-2019-0031").unwrap();
    assert!(
        a.withdrawn.as_deref().is_some_and(|d| d.len() == 10),
        "{a:?}"
    );
    // Toolchain advisories are loaded apart and never returned for a crate name.
    assert!(db.advisories_for("std").is_empty());
    assert!(db
        .toolchain_advisories()
        .iter()
        .any(|a| a.id == "CVE-2021-31162" && a.package == "std"));
    assert!(db.advisories_for("no-such-crate-anywhere").is_empty());
}

// ---------------------------------------------------------------------------------------------
// The OSV export against the RustSec layout

/// Versions worth checking for one advisory: every bound its requirements name, with the
/// neighbours on each side, and a few fixed points.
fn sample_versions(a: &Advisory) -> BTreeSet<Version> {
    let mut out: BTreeSet<Version> = [
        "0.0.0", "0.0.1", "0.1.0", "0.9.9", "1.0.0", "2.0.0", "99.0.0",
    ]
    .iter()
    .map(|s| v(s))
    .collect();
    let AffectedVersions::Rustsec {
        patched,
        unaffected,
    } = &a.versions
    else {
        return out;
    };
    for c in patched
        .iter()
        .chain(unaffected)
        .flat_map(|r| &r.comparators)
    {
        let (major, minor, patch) = (c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0));
        out.insert(Version::new(major, minor, patch));
        // Pre-releases sit just below the release in the total order both layouts use.
        let mut pre = Version::new(major, minor, patch);
        pre.pre = semver::Prerelease::new("rc.1").unwrap();
        out.insert(pre);
        out.insert(Version::new(major, minor, patch + 1));
        out.insert(Version::new(major, minor + 1, 0));
        out.insert(Version::new(major + 1, 0, 0));
        if patch > 0 {
            out.insert(Version::new(major, minor, patch - 1));
        }
        if minor > 0 {
            out.insert(Version::new(major, minor - 1, 99));
        }
        if major > 0 {
            out.insert(Version::new(major - 1, 99, 99));
        }
    }
    out
}

/// Asserts that two loads of the same advisories agree on everything both layouts carry, and
/// returns the (id, version) pairs on which their version ranges disagree.
fn compare_layouts(
    rustsec: &Database,
    osv: &Database,
    osv_only: &[&str],
) -> Vec<(String, Version)> {
    let ids = |db: &Database| -> BTreeSet<(String, String)> {
        db.iter()
            .map(|a| (a.id.clone(), a.package.clone()))
            .collect()
    };
    let (left, right) = (ids(rustsec), ids(osv));
    let extra: Vec<&str> = right.difference(&left).map(|(id, _)| id.as_str()).collect();
    assert_eq!(extra, osv_only, "ids only in OSV");
    assert_eq!(
        left.difference(&right).count(),
        0,
        "ids only in RustSec: {:?}",
        left.difference(&right).collect::<Vec<_>>()
    );
    let mut checked = 0;
    let mut differences = Vec::new();
    for a in rustsec.iter() {
        let b = osv
            .advisories_for(&a.package)
            .iter()
            .find(|b| b.id == a.id)
            .unwrap();
        assert_eq!(a.kind, b.kind, "{}", a.id);
        assert_eq!(a.title, b.title, "{}", a.id);
        assert_eq!(a.date, b.date, "{}", a.id);
        assert_eq!(a.withdrawn, b.withdrawn, "{}", a.id);
        assert_eq!(a.aliases, b.aliases, "{}", a.id);
        assert_eq!(a.cvss, b.cvss, "{}", a.id);
        assert_eq!(a.affected, b.affected, "{}", a.id);
        assert!(matches!(b.versions, AffectedVersions::Osv { .. }));
        for version in sample_versions(a) {
            if a.versions.affects(&version) != b.versions.affects(&version) {
                differences.push((a.id.clone(), version));
            }
            checked += 1;
        }
    }
    assert!(checked > rustsec.iter().count() * 5, "{checked} checks");
    differences
}

/// Checks the differences on pre-releases between the layouts and returns the others.
///
/// The layouts may disagree on a pre-release of a version `X` that closes a patched or
/// unaffected requirement with `< X` (`unaffected = ["< 0.10.0"]`, `patched = [">= 0.6.1,
/// < 0.7.0"]`): the RustSec layout is read in semver's total order, where `X-rc.1` is not below
/// `X` (see `advisory::versions`), so it stays affected, while RustSec's OSV export starts the
/// next affected range at `X` itself. Conservative on our side; every pre-release difference
/// must be of this kind.
fn release_differences(
    rustsec: &Database,
    osv: &Database,
    differences: Vec<(String, Version)>,
) -> Vec<(String, Version)> {
    let (pre, releases): (Vec<_>, Vec<_>) = differences
        .into_iter()
        .partition(|(_, version)| !version.pre.is_empty());
    for (id, version) in &pre {
        let a = rustsec.get(id).unwrap();
        let b = osv.get(id).unwrap();
        assert!(
            a.versions.affects(version) && !b.versions.affects(version),
            "{id} {version}"
        );
        let AffectedVersions::Rustsec {
            patched,
            unaffected,
        } = &a.versions
        else {
            panic!("{id}")
        };
        let release = Version::new(version.major, version.minor, version.patch);
        let bound = patched
            .iter()
            .chain(unaffected)
            .flat_map(|r| &r.comparators)
            .any(|c| {
                c.op == semver::Op::Less
                    && Version::new(c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0)) == release
            });
        assert!(bound, "{id} {version}: {:?}", a.versions);
    }
    releases
}

#[test]
fn osv_export_of_the_snapshot_equals_the_rustsec_layout() {
    let rustsec = open(&snapshot());
    let osv = open(&snapshot().join("osv"));
    assert_eq!(osv.info().layout, Layout::Osv);
    assert!(osv.load_errors().is_empty(), "{:?}", osv.load_errors());
    assert_eq!(osv.info().advisory_count, 1206);
    assert_eq!(osv.info().withdrawn_count, 13);
    assert!(osv.toolchain_advisories().is_empty());
    // SNAPSHOT.txt: the osv branch still has the stale candidate id main renamed.
    let differences = compare_layouts(&rustsec, &osv, &["RUSTSEC-2025-0000"]);
    // One advisory reads differently: RUSTSEC-2020-0055 (libpulse-binding) says
    // `unaffected = ["> 0"]`. Cargo and the semver crate read the partial `> 0` as "above every
    // 0.x", i.e. `>= 1.0.0`, so the RustSec layout keeps 0.x affected; RustSec's OSV export
    // wrote it as "above 0.0.0" (`introduced 0.0.0-0, fixed 0.0.1-0`). Each layout is read as
    // written.
    let differences = release_differences(&rustsec, &osv, differences);
    let different_ids: BTreeSet<&str> = differences.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        different_ids,
        ["RUSTSEC-2020-0055"].into(),
        "{differences:?}"
    );
    let pulse = get(&rustsec, "libpulse-binding", "RUSTSEC-2020-0055");
    for (_, version) in &differences {
        assert!(version.major == 0 && *version > v("0.0.0"), "{version}");
        assert!(pulse.versions.affects(version));
    }
    let stale = osv.get("RUSTSEC-2025-0000").unwrap();
    assert_eq!(stale.package, "matrix-sdk-base");
    assert!(stale.aliases.iter().any(|a| a == "CVE-2025-59047"));
}

// ---------------------------------------------------------------------------------------------
// The small fixture database

#[test]
fn small_fixture_rustsec_layout() {
    let db = open(&small());
    let info = db.info();
    assert_eq!(info.layout, Layout::RustSec);
    assert!(db.load_errors().is_empty(), "{:?}", db.load_errors());
    assert_eq!(
        (
            info.advisory_count,
            info.withdrawn_count,
            info.toolchain_count
        ),
        (9, 1, 1)
    );
    let kinds: BTreeMap<&str, &str> = db
        .iter()
        .map(|a| (a.id.as_str(), a.kind.as_str()))
        .collect();
    assert_eq!(kinds["RUSTSEC-2021-0003"], "vulnerability");
    assert_eq!(kinds["RUSTSEC-2024-0375"], "unmaintained");
    assert_eq!(kinds["RUSTSEC-2021-0145"], "unsound");
    assert_eq!(kinds["RUSTSEC-2099-0001"], "notice");
    let withdrawn = get(&db, "libc", "RUSTSEC-2099-0002");
    assert_eq!(withdrawn.withdrawn.as_deref(), Some("2025-06-03"));
    let arch = get(&db, "libc", "RUSTSEC-2099-0003");
    assert_eq!(arch.affected.arch, ["aarch64"]);
    assert!(arch.versions.affects(&v("0.2.191")));
    let no_fix = get(&db, "winapi", "RUSTSEC-2099-0004");
    assert_eq!(
        no_fix.versions,
        AffectedVersions::Rustsec {
            patched: vec![],
            unaffected: vec![]
        }
    );
    let cvss4 = no_fix.cvss.as_ref().unwrap();
    assert_eq!(
        (cvss4.score, no_fix.severity()),
        (8.7, Some(Severity::High))
    );
    assert_eq!(get(&db, "time", "RUSTSEC-2020-0071").affected.os.len(), 9);
    assert_eq!(db.toolchain_advisories()[0].id, "CVE-2021-31162");
    assert_eq!(info.newest_advisory_date.unwrap().to_string(), "2025-06-04");
    let july_2025 = Date::new(2025, 7, 1).unwrap().unix_days();
    let then = SystemTime::UNIX_EPOCH + Duration::from_secs(july_2025 as u64 * 86_400);
    assert!(!info.is_stale(then, binaudit::advisory::DEFAULT_MAX_AGE));
    assert!(info.is_stale(SystemTime::now(), binaudit::advisory::DEFAULT_MAX_AGE));
}

#[test]
fn small_fixture_osv_layout_has_the_same_advisories_and_one_more_record() {
    let rustsec = open(&small());
    let osv = open(&small().join("osv"));
    assert!(osv.load_errors().is_empty(), "{:?}", osv.load_errors());
    assert_eq!(osv.info().advisory_count, 11);
    let differences = compare_layouts(
        &rustsec,
        &osv,
        &["GHSA-fx7r-2q9m-c4wp", "GHSA-fx7r-2q9m-c4wp"],
    );
    assert_eq!(release_differences(&rustsec, &osv, differences), []);
    let autocfg = get(&osv, "autocfg", "GHSA-fx7r-2q9m-c4wp");
    assert!(autocfg.versions.affects(&v("1.4.0")));
    assert!(!autocfg.versions.affects(&v("1.4.1")));
    let libc = get(&osv, "libc", "GHSA-fx7r-2q9m-c4wp");
    assert!(!libc.versions.affects(&v("0.2.99")));
    assert!(libc.versions.affects(&v("0.2.100")));
    assert!(
        libc.versions.affects(&v("0.2.191")),
        "last_affected is inclusive"
    );
    assert!(!libc.versions.affects(&v("0.2.192")));
    assert_eq!(libc.kind, AdvisoryKind::Vulnerability);
    assert_eq!(libc.date, "2025-06-05");
    assert_eq!(
        libc.url.as_deref(),
        Some("https://example.invalid/osv-only")
    );
    let cvss = libc.cvss.as_ref().unwrap();
    assert_eq!((cvss.score, cvss.severity()), (4.4, Severity::Medium));
    // The PyPI package of the same record is not a crate.
    assert_eq!(
        osv.iter().filter(|a| a.id == "GHSA-fx7r-2q9m-c4wp").count(),
        2
    );
}

#[test]
fn layouts_and_missing_databases() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        Database::open(&dir.path().join("absent"), &OpenOptions::without_cache()),
        Err(DbError::NotFound { .. })
    ));
    let file = dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    assert!(matches!(
        Database::open(&file, &OpenOptions::without_cache()),
        Err(DbError::NotADirectory { .. })
    ));
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let err = Database::open(&empty, &OpenOptions::without_cache()).unwrap_err();
    assert!(matches!(err, DbError::UnknownLayout { .. }), "{err}");
    assert!(
        err.to_string().contains("empty"),
        "the error names the path: {err}"
    );
    // OSV records about other ecosystems only: nothing to audit against.
    let pypi = dir.path().join("pypi");
    std::fs::create_dir(&pypi).unwrap();
    std::fs::write(
        pypi.join("PYSEC-1.json"),
        r#"{"id": "PYSEC-1", "published": "2024-01-01T00:00:00Z",
            "affected": [{"package": {"ecosystem": "PyPI", "name": "x"}, "versions": ["1.0"]}]}"#,
    )
    .unwrap();
    assert!(matches!(
        Database::open(&pypi, &OpenOptions::without_cache()),
        Err(DbError::NoAdvisories { .. })
    ));
    // Forcing the OSV layout on the RustSec fixture reads its osv/ JSON files.
    let forced = Database::open(
        &small(),
        &OpenOptions {
            layout: Some(Layout::Osv),
            ..OpenOptions::without_cache()
        },
    )
    .unwrap();
    assert_eq!(forced.info().layout, Layout::Osv);
    assert_eq!(forced.info().advisory_count, 11);
}

// ---------------------------------------------------------------------------------------------
// Load errors

#[test]
fn a_file_rustsec_cannot_parse_is_listed_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("db");
    copy_dir(&small(), &db_path);
    let broken = db_path.join("crates/broken/RUSTSEC-2099-0999.md");
    std::fs::create_dir_all(broken.parent().unwrap()).unwrap();
    std::fs::write(
        &broken,
        "```toml\n[advisory]\nid = \"RUSTSEC-2099-0999\"\npackage = \"broken\"\ndate = \"not a date\"\n\n[versions]\npatched = []\n```\n\n# Broken\n\nText.\n",
    )
    .unwrap();
    settle(&db_path);
    let cache = dir.path().join("cache");
    for pass in 0..2 {
        let db = Database::open(&db_path, &cached(&cache)).unwrap();
        assert_eq!(db.info().loaded_from_index, pass == 1);
        assert_eq!(db.info().advisory_count, 9, "the others still load");
        let errors = db.load_errors();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].path, broken);
        assert!(
            errors[0].to_string().contains("RUSTSEC-2099-0999.md"),
            "{}",
            errors[0]
        );
    }
}

#[test]
fn a_database_whose_every_file_fails_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("crates/broken");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("RUSTSEC-2099-0998.md"), "no front matter").unwrap();
    std::fs::write(
        pkg.join("RUSTSEC-2099-0999.md"),
        "```toml\n[advisory\n```\n",
    )
    .unwrap();
    let err = Database::open(dir.path(), &OpenOptions::without_cache()).unwrap_err();
    let DbError::AllFailed { count, first, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(*count, 2);
    assert!(first.path.ends_with("RUSTSEC-2099-0998.md"));
    // An OSV directory of files that are not OSV records likewise.
    let osv = dir.path().join("osv");
    std::fs::create_dir(&osv).unwrap();
    std::fs::write(osv.join("a.json"), "[1, 2]").unwrap();
    assert!(matches!(
        Database::open(&osv, &OpenOptions::without_cache()),
        Err(DbError::AllFailed { .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// The index cache

fn assert_same_content(a: &Database, b: &Database) {
    assert_eq!(a.iter().collect::<Vec<_>>(), b.iter().collect::<Vec<_>>());
    assert_eq!(a.toolchain_advisories(), b.toolchain_advisories());
    assert_eq!(a.load_errors(), b.load_errors());
    let (x, y) = (a.info(), b.info());
    assert_eq!(
        (x.advisory_count, x.withdrawn_count, x.toolchain_count),
        (y.advisory_count, y.withdrawn_count, y.toolchain_count)
    );
    assert_eq!(x.newest_advisory_date, y.newest_advisory_date);
    assert_eq!(x.commit, y.commit);
}

#[test]
fn the_snapshot_opens_from_its_index_the_second_time() {
    let cache = tempfile::tempdir().unwrap();
    let first = Database::open(&snapshot(), &cached(cache.path())).unwrap();
    assert!(!first.info().loaded_from_index);
    let index = first.info().index_path.clone().unwrap();
    assert!(index.starts_with(cache.path()));
    let second = Database::open(&snapshot(), &cached(cache.path())).unwrap();
    assert!(second.info().loaded_from_index);
    assert_eq!(second.info().index_path.as_ref(), Some(&index));
    assert_same_content(&first, &second);
    assert_eq!(
        second.advisories_for("smallvec"),
        first.advisories_for("smallvec")
    );
}

#[test]
fn any_change_to_an_advisory_file_means_a_full_parse() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("db");
    copy_dir(&small(), &db_path);
    settle(&db_path);
    let cache = dir.path().join("cache");
    let opts = cached(&cache);
    let from_index = || {
        Database::open(&db_path, &opts)
            .unwrap()
            .info()
            .loaded_from_index
    };
    assert!(!from_index());
    let db = Database::open(&db_path, &opts).unwrap();
    assert!(db.info().loaded_from_index);
    assert_same_content(&db, &open(&db_path));

    // Editing an advisory by hand: noticed at once.
    let file = db_path.join("crates/paste/RUSTSEC-2024-0436.md");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace("# paste - no longer maintained", "# paste is unmaintained"),
    )
    .unwrap();
    let db = Database::open(&db_path, &opts).unwrap();
    assert!(!db.info().loaded_from_index);
    assert_eq!(
        get(&db, "paste", "RUSTSEC-2024-0436").title,
        "paste is unmaintained"
    );
    settle(&db_path);
    assert!(
        !from_index(),
        "the index was written while the edit was fresh"
    );
    assert!(from_index());

    // Editing in place to the same size, with an old time: the file's own time shows it.
    std::fs::write(
        &file,
        text.replace(
            "# paste - no longer maintained",
            "# paste - no longer MAINTAINED",
        ),
    )
    .unwrap();
    settle(&db_path);
    let db = Database::open(&db_path, &opts).unwrap();
    assert!(!db.info().loaded_from_index);
    assert_eq!(
        get(&db, "paste", "RUSTSEC-2024-0436").title,
        "paste - no longer MAINTAINED"
    );
    assert!(from_index());

    // Only touching one (same size, new mtime).
    let later = SystemTime::now() - Duration::from_secs(600);
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(later)
        .unwrap();
    assert!(!from_index());
    assert!(from_index());

    // Adding an advisory: no recorded file changed, its directory did.
    let added = db_path.join("crates/paste/RUSTSEC-2099-0100.md");
    std::fs::write(
        &added,
        text.replace("RUSTSEC-2024-0436", "RUSTSEC-2099-0100"),
    )
    .unwrap();
    settle(&db_path);
    let db = Database::open(&db_path, &opts).unwrap();
    assert!(!db.info().loaded_from_index);
    assert_eq!(db.advisories_for("paste").len(), 2);
    assert!(from_index());

    // Renaming one (its size and time stay the same).
    let renamed = db_path.join("crates/paste/RUSTSEC-2099-0101.md");
    std::fs::rename(&added, &renamed).unwrap();
    settle(&db_path);
    let db = Database::open(&db_path, &opts).unwrap();
    assert!(!db.info().loaded_from_index);
    // (The id inside no longer matches the name, which the parser may report.)
    assert!(
        db.advisories_for("paste").len() == 2 || db.load_errors().iter().any(|e| e.path == renamed),
        "{:?}",
        db.load_errors()
    );
    assert!(from_index());

    // Removing it.
    std::fs::remove_file(&renamed).unwrap();
    settle(&db_path);
    let db = Database::open(&db_path, &opts).unwrap();
    assert!(!db.info().loaded_from_index);
    assert_eq!(db.advisories_for("paste").len(), 1);
    assert!(from_index());

    // A new package directory.
    let package = db_path.join("crates/newcrate");
    std::fs::create_dir(&package).unwrap();
    std::fs::write(
        package.join("RUSTSEC-2099-0102.md"),
        text.replace("RUSTSEC-2024-0436", "RUSTSEC-2099-0102")
            .replace("package = \"paste\"", "package = \"newcrate\""),
    )
    .unwrap();
    settle(&db_path);
    let db = Database::open(&db_path, &opts).unwrap();
    assert!(!db.info().loaded_from_index);
    assert_eq!(db.advisories_for("newcrate").len(), 1);
    assert!(from_index());

    // One index file per database is kept.
    let files: Vec<_> = std::fs::read_dir(&cache).unwrap().collect();
    assert_eq!(files.len(), 1, "{files:?}");
}

#[test]
fn a_corrupt_index_is_ignored_and_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let opts = cached(&cache);
    let reference = open(&small());
    let index = Database::open(&small(), &opts)
        .unwrap()
        .info()
        .index_path
        .clone()
        .unwrap();
    let whole = std::fs::read(&index).unwrap();
    let damaged: [Vec<u8>; 4] = [
        b"garbage".to_vec(),
        Vec::new(),
        whole[..whole.len() - 10].to_vec(),
        // Valid JSON of the wrong shape.
        br#"{"format": 1, "binaudit": "0.1.0", "key": "x", "loaded": {}}"#.to_vec(),
    ];
    for bytes in damaged {
        std::fs::write(&index, &bytes).unwrap();
        let db = Database::open(&small(), &opts).unwrap();
        assert!(!db.info().loaded_from_index);
        assert_same_content(&db, &reference);
        // The re-parse wrote a good index again.
        let again = Database::open(&small(), &opts).unwrap();
        assert!(again.info().loaded_from_index);
        assert_same_content(&again, &reference);
    }
}

#[test]
fn an_unwritable_cache_directory_does_not_fail_the_open() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, "").unwrap();
    let db = Database::open(&small(), &cached(&not_a_dir.join("cache"))).unwrap();
    assert!(!db.info().loaded_from_index);
    assert_eq!(db.info().index_path, None);
    assert_eq!(db.info().advisory_count, 9);
}

// ---------------------------------------------------------------------------------------------
// Git checkouts and fetching

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=binaudit tests",
            "-c",
            "user.email=tests@binaudit.invalid",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_DIR")
        .output()
        .expect("git is installed");
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn commit_all(work: &Path, message: &str, date: &str) {
    git(work, &["add", "-A"]);
    let out = Command::new("git")
        .arg("-C")
        .arg(work)
        .args([
            "-c",
            "user.name=binaudit tests",
            "-c",
            "user.email=tests@binaudit.invalid",
            "-c",
            "commit.gpgsign=false",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            message,
        ])
        .env("GIT_COMMITTER_DATE", date)
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_DIR")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_git_checkout_reports_its_commit_and_keys_the_index_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("db");
    copy_dir(&small(), &db_path);
    git(&db_path, &["init", "-q"]);
    commit_all(&db_path, "fixture", "2026-02-03T04:05:06+02:00");
    settle(&db_path);
    let head = git(&db_path, &["rev-parse", "HEAD"]);
    let cache = dir.path().join("cache");
    let db = Database::open(&db_path, &cached(&cache)).unwrap();
    let commit = db.info().commit.clone().unwrap();
    assert_eq!(commit.hash, head);
    assert_eq!(commit.date.as_deref(), Some("2026-02-03T04:05:06+02:00"));
    assert_eq!(commit.utc_date().unwrap().to_string(), "2026-02-03");
    // The commit is newer than every advisory in the fixture.
    assert_eq!(db.info().last_updated().unwrap().to_string(), "2026-02-03");

    // From the index, the commit is the same; packed refs are read too.
    git(&db_path, &["pack-refs", "--all"]);
    let again = Database::open(&db_path, &cached(&cache)).unwrap();
    assert!(again.info().loaded_from_index);
    assert_eq!(again.info().commit.as_ref(), Some(&commit));

    // A new commit, even one that changes no advisory file, is a new key.
    commit_all(&db_path, "empty", "2026-03-01T00:00:00Z");
    let moved = Database::open(&db_path, &cached(&cache)).unwrap();
    assert!(!moved.info().loaded_from_index);
    assert_eq!(
        moved.info().commit.as_ref().unwrap().hash,
        git(&db_path, &["rev-parse", "HEAD"])
    );
}

/// A bare repository served over git's dumb HTTP protocol, and the work tree that feeds it.
struct Remote {
    work: PathBuf,
    bare: PathBuf,
}

impl Remote {
    fn new(root: &Path, advisories: &[&str]) -> Remote {
        let bare = root.join("srv/advisory-db.git");
        std::fs::create_dir_all(&bare).unwrap();
        git(&bare, &["init", "-q", "--bare"]);
        // Dumb HTTP serves HEAD as a file; point it at the branch we push.
        git(&bare, &["symbolic-ref", "HEAD", "refs/heads/main"]);
        let work = root.join("work");
        std::fs::create_dir_all(&work).unwrap();
        git(&work, &["init", "-q"]);
        let remote = Remote { work, bare };
        remote.publish(advisories, "initial");
        remote
    }

    /// Copies advisories from the snapshot (`crates/<name>/<id>.md`), commits and pushes.
    fn publish(&self, advisories: &[&str], message: &str) -> String {
        for rel in advisories {
            let to = self.work.join(rel);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(snapshot().join(rel), &to).unwrap();
        }
        commit_all(&self.work, message, "2026-05-06T07:08:09Z");
        git(
            &self.work,
            &["push", "-q", self.bare.to_str().unwrap(), "main"],
        );
        git(&self.bare, &["update-server-info"]);
        git(&self.work, &["rev-parse", "HEAD"])
    }
}

#[test]
fn fetch_clones_then_updates_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let remote = Remote::new(
        dir.path(),
        &[
            "crates/smallvec/RUSTSEC-2021-0003.md",
            "crates/atty/RUSTSEC-2021-0145.md",
        ],
    );
    let first = git(&remote.work, &["rev-parse", "HEAD"]);
    let server = StaticServer::start(&dir.path().join("srv"));
    let url = format!("{}advisory-db.git", server.url());
    let dest = dir.path().join("home/.cargo/advisory-db");
    assert!(needs_refresh(&dest, Duration::from_secs(3600)));
    // An empty directory at the path is replaced by the clone.
    std::fs::create_dir_all(&dest).unwrap();
    assert!(needs_refresh(&dest, Duration::from_secs(3600)));

    // The test server speaks only git's dumb HTTP protocol, which refuses `--depth 1`: this
    // clone (and the fetches below) go through the fallback to a full transfer.
    let outcome = fetch_or_update(&url, &dest).unwrap();
    assert_eq!(
        outcome,
        FetchOutcome::Cloned {
            commit: Some(first.clone())
        }
    );
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.starts_with("GET /advisory-db.git/info/refs")),
        "{:?}",
        server.requests()
    );
    let leftovers: Vec<_> = std::fs::read_dir(dest.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["advisory-db"], "no temporary clone left behind");
    let db = open(&dest);
    assert_eq!(db.info().advisory_count, 2);
    assert_eq!(db.info().commit.as_ref().unwrap().hash, first);
    assert!(!needs_refresh(&dest, Duration::from_secs(3600)));
    assert!(needs_refresh(&dest, Duration::ZERO));

    // Nothing new.
    assert_eq!(
        fetch_or_update(&url, &dest).unwrap(),
        FetchOutcome::UpToDate {
            commit: Some(first.clone())
        }
    );

    // A new advisory upstream.
    let second = remote.publish(&["crates/paste/RUSTSEC-2024-0436.md"], "paste");
    let outcome = fetch_or_update(&url, &dest).unwrap();
    assert_eq!(
        outcome,
        FetchOutcome::Updated {
            from: Some(first),
            to: Some(second.clone())
        }
    );
    let db = open(&dest);
    assert_eq!(db.info().advisory_count, 3);
    assert_eq!(db.advisories_for("paste")[0].id, "RUSTSEC-2024-0436");
    assert_eq!(db.info().commit.as_ref().unwrap().hash, second);
    assert!(!needs_refresh(&dest, Duration::from_secs(3600)));
}

#[test]
fn a_failed_clone_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("srv")).unwrap();
    let server = StaticServer::start(&dir.path().join("srv"));
    let dest = dir.path().join("out/advisory-db");
    let err = fetch_or_update(&format!("{}missing.git", server.url()), &dest).unwrap_err();
    assert!(matches!(err, FetchError::Git { .. }), "{err}");
    assert!(
        err.to_string().contains("advisory-db"),
        "names the path: {err}"
    );
    assert!(!dest.exists());
    assert_eq!(
        std::fs::read_dir(dir.path().join("out")).unwrap().count(),
        0,
        "no temporary directory left behind"
    );
}

/// One advisory file parses on its own, as the fuzz target feeds it, into what the database
/// loads from the same file.
#[test]
fn parse_rustsec_reads_one_file_as_the_database_does() {
    let path = small().join("crates/smallvec/RUSTSEC-2021-0003.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let parsed = binaudit::advisory::parse_rustsec(&text).unwrap();
    let db = Database::open(&small(), &OpenOptions::without_cache()).unwrap();
    assert_eq!(Some(&parsed), db.get("RUSTSEC-2021-0003"));

    let err = binaudit::advisory::parse_rustsec("# no front matter\n").unwrap_err();
    assert!(!err.to_string().is_empty());
}

/// OSV bytes that are not JSON are an error that says so, not an empty list.
#[test]
fn parse_osv_rejects_bytes_that_are_not_json() {
    let err = binaudit::advisory::parse_osv(b"\x00\xffnot json").unwrap_err();
    assert!(err.to_string().contains("invalid OSV JSON"), "{err}");
    let none = binaudit::advisory::parse_osv(
        br#"{"id":"PYSEC-1","published":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"x"}}]}"#,
    )
    .unwrap();
    assert!(none.is_empty());
}
