//! The report formats, on audit results built by hand: terminal and JSON against golden
//! snapshots (update with `BINAUDIT_UPDATE_SNAPSHOTS=1`), SARIF and CycloneDX against their
//! rules (CycloneDX against the official 1.5 schema, with the `cyclonedx-python-lib` validator).

use std::collections::{BTreeSet, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use binaudit::advisory::model::Affected;
use binaudit::advisory::{Advisory, AdvisoryKind, AffectedVersions, Cvss, Severity};
use binaudit::audit::{
    AuditReport, AuditedInput, AuditedUnit, DatabaseSummary, DenyKind, InputKind, InputOutcome,
    Policy, YankStatus,
};
use binaudit::binary::Completeness;
use binaudit::extract::{ContainerFormat, Image};
use binaudit::matching::{match_packages, MatchOptions, PackageRef, Platform};
use binaudit::report::cyclonedx::{self, CycloneDxOptions};
use binaudit::report::json::{self, JsonOptions};
use binaudit::report::sarif::{self, SarifOptions};
use binaudit::report::terminal::{self, TerminalOptions};
use linker_section::{DependencyKind, Package, Source};
use semver::{Version, VersionReq};
use serde_json::Value;

use crate::support::*;

// ---- fixtures ----

#[allow(clippy::too_many_arguments)]
fn advisory(
    id: &str,
    package: &str,
    kind: AdvisoryKind,
    title: &str,
    cvss: Option<(&str, f64)>,
    patched: &[&str],
    os: &[&str],
    arch: &[&str],
) -> Advisory {
    Advisory {
        id: id.into(),
        package: package.into(),
        kind,
        title: title.into(),
        date: "2021-01-08".into(),
        aliases: if id == "RUSTSEC-2021-0003" {
            vec!["CVE-2021-25900".into(), "GHSA-43w2-9j62-hq99".into()]
        } else {
            vec![]
        },
        url: None,
        cvss: cvss.map(|(vector, score)| Cvss {
            vector: vector.into(),
            score,
        }),
        withdrawn: None,
        versions: AffectedVersions::Rustsec {
            patched: patched
                .iter()
                .map(|p| VersionReq::parse(p).unwrap())
                .collect(),
            unaffected: vec![],
        },
        affected: Affected {
            os: os.iter().map(|s| (*s).to_owned()).collect(),
            arch: arch.iter().map(|s| (*s).to_owned()).collect(),
            functions: vec![],
        },
    }
}

const CRITICAL: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
const HIGH: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H";
const MEDIUM: &str = "CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H";

/// One advisory of every kind and matching rule the reports render.
fn database() -> Vec<Advisory> {
    use AdvisoryKind::*;
    vec![
        advisory(
            "RUSTSEC-2021-0003",
            "smallvec",
            Vulnerability,
            "Buffer overflow in SmallVec::insert_many",
            Some((CRITICAL, 9.8)),
            &[">= 1.6.1", "^0.6.14"],
            &[],
            &[],
        ),
        advisory(
            "RUSTSEC-2018-0009",
            "crossbeam",
            Vulnerability,
            "MsQueue and SegQueue suffer from double-free",
            None,
            &[">= 0.4.1"],
            &[],
            &[],
        ),
        advisory(
            "RUSTSEC-2022-0001",
            "simdish",
            Vulnerability,
            "Out-of-bounds read in the AVX2 path",
            Some((HIGH, 7.5)),
            &[">= 1.2.0"],
            &[],
            &["x86_64"],
        ),
        advisory(
            "RUSTSEC-2021-0124",
            "tokio",
            Vulnerability,
            "Data race when sending and receiving after closing a oneshot channel",
            Some((MEDIUM, 5.5)),
            &[">= 1.8.4"],
            &[],
            &[],
        ),
        advisory(
            "RUSTSEC-2021-0145",
            "atty",
            Unsound,
            "Potential unaligned read",
            None,
            &[],
            &["windows"],
            &[],
        ),
        advisory(
            "RUSTSEC-2024-0375",
            "atty",
            Unmaintained,
            "atty is unmaintained",
            None,
            &[],
            &[],
            &[],
        ),
        advisory(
            "RUSTSEC-2024-0436",
            "paste",
            Unmaintained,
            "paste - no longer maintained",
            None,
            &[],
            &[],
            &[],
        ),
        advisory(
            "RUSTSEC-2023-0071",
            "rsa",
            Vulnerability,
            "Marvin Attack: potential key recovery through timing sidechannels",
            Some((MEDIUM, 5.9)),
            &[],
            &[],
            &[],
        ),
        advisory(
            "RUSTSEC-2020-0168",
            "mach",
            Notice,
            "mach is unmaintained and its repository archived",
            None,
            &[],
            &[],
            &[],
        ),
        advisory(
            "RUSTSEC-2025-0001",
            "oldcrate",
            Other("deprecated".into()),
            "oldcrate is deprecated in favour of newcrate",
            None,
            &[],
            &[],
            &[],
        ),
    ]
}

fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

fn pkg(name: &str, version: &str, kind: DependencyKind, deps: &[usize], root: bool) -> Package {
    Package {
        name: name.into(),
        version: v(version),
        source: Source::CratesIo,
        kind,
        dependencies: deps.to_vec(),
        root,
    }
}

use DependencyKind::{Build, Runtime};

/// The images of a committed sample binary, as its headers declare them.
fn images(sample: &str) -> Vec<Image> {
    let bytes = std::fs::read(samples_dir().join(sample)).unwrap();
    binaudit::extract::locate(bytes.as_slice()).unwrap().images
}

fn platform_of(image: Option<&Image>) -> Platform {
    Platform {
        os: image.and_then(|i| i.os).map(|o| o.as_str().to_owned()),
        arch: image.map(|i| i.arch.to_string()),
        family: None,
    }
}

/// A unit whose matches come from the real match stage.
fn unit<'db>(
    db: &'db [Advisory],
    image: Option<Image>,
    packages: Vec<Package>,
    yanked: Vec<YankStatus>,
) -> AuditedUnit<'db> {
    let platform = platform_of(image.as_ref());
    let refs: Vec<PackageRef> = packages.iter().map(PackageRef::from).collect();
    let opts = MatchOptions {
        ignore: vec!["RUSTSEC-2021-0124".into()],
    };
    let matches = match_packages(&refs, &platform, &opts, |_| db);
    AuditedUnit {
        evidence: Some(
            if image.is_some() {
                ".dep-v0"
            } else {
                "Cargo.lock"
            }
            .to_owned(),
        ),
        image,
        platform,
        completeness: Completeness::Complete,
        packages,
        matches,
        matched: true,
        yanked,
        error: None,
    }
}

fn binary<'db>(
    path: &str,
    format: ContainerFormat,
    units: Vec<AuditedUnit<'db>>,
) -> AuditedInput<'db> {
    AuditedInput {
        path: PathBuf::from(path),
        kind: InputKind::Binary,
        origin: binaudit::audit::Origin::File,
        outcome: InputOutcome::Audited {
            format: Some(format),
            units,
        },
    }
}

fn report_with<'db>(inputs: Vec<AuditedInput<'db>>, policy: Policy) -> AuditReport<'db> {
    AuditReport {
        inputs,
        database: DatabaseSummary {
            path: PathBuf::from("/home/user/.cargo/advisory-db"),
            advisories: 1225,
            last_updated: Some("2026-08-21".into()),
        },
        policy,
        yanked_checked: true,
    }
}

/// Every kind of input and finding: a fat binary with two slices (an arch-restricted advisory
/// applies to one), a thin Linux binary (an OS-restricted one does not apply, an ignored one),
/// a WebAssembly module that declares no OS (unverified platform), an invalid manifest, a
/// binary without one, a file that is not an executable, an unreadable one and a lock file.
fn full_report(db: &[Advisory]) -> AuditReport<'_> {
    let ok = || YankStatus::Available;
    let fat_packages = || {
        vec![
            pkg("app", "0.1.0", Runtime, &[1, 2, 3, 4, 5, 6], true),
            pkg("atty", "0.2.14", Runtime, &[], false),
            pkg("crossbeam", "0.3.2", Runtime, &[], false),
            pkg("libc", "0.2.150", Runtime, &[], false),
            pkg("paste", "1.0.14", Build, &[], false),
            pkg("simdish", "1.1.0", Runtime, &[], false),
            pkg("smallvec", "1.6.0", Runtime, &[], false),
        ]
    };
    let fat_yanked = || vec![ok(), ok(), ok(), YankStatus::Yanked, ok(), ok(), ok()];
    let fat_images = images("universal2-macos");
    assert_eq!(fat_images.len(), 2);
    let fat = binary(
        "bin/universal-app",
        ContainerFormat::MachOFat,
        fat_images
            .into_iter()
            .map(|i| unit(db, Some(i), fat_packages(), fat_yanked()))
            .collect(),
    );

    let mut local_time = pkg("time", "0.1.0", Runtime, &[], false);
    local_time.source = Source::Local;
    let linux = binary(
        "bin/app-linux",
        ContainerFormat::Elf,
        vec![unit(
            db,
            images("x86_64-linux-gnu").pop(),
            vec![
                pkg("app", "0.1.0", Runtime, &[1, 2, 3, 4, 5], true),
                pkg("atty", "0.2.14", Runtime, &[], false),
                pkg("rsa", "0.9.6", Runtime, &[], false),
                pkg("smallvec", "0.6.10", Runtime, &[], false),
                local_time,
                pkg("tokio", "1.8.0", Runtime, &[], false),
            ],
            vec![
                ok(),
                ok(),
                ok(),
                ok(),
                YankStatus::Unknown("not a crates.io package".into()),
                ok(),
            ],
        )],
    );

    let wasm = binary(
        "web/app.wasm",
        ContainerFormat::Wasm,
        vec![unit(
            db,
            images("wasm32-unknown-unknown.wasm").pop(),
            vec![
                pkg("web", "0.1.0", Runtime, &[1], true),
                pkg("atty", "0.2.14", Runtime, &[], false),
            ],
            vec![ok(), ok()],
        )],
    );

    let mut broken_unit = unit(db, images("x86_64-linux-gnu").pop(), vec![], vec![]);
    broken_unit.completeness = Completeness::None;
    broken_unit.error =
        Some("unreadable manifest in section .dep-v0: the zlib stream is corrupt".into());
    let broken = binary("bin/broken", ContainerFormat::Elf, vec![broken_unit]);

    let mut bare_unit = unit(
        db,
        images("x86_64-linux-gnu-no-manifest").pop(),
        vec![],
        vec![],
    );
    bare_unit.completeness = Completeness::None;
    bare_unit.evidence = None;
    let bare = binary("bin/no-manifest", ContainerFormat::Elf, vec![bare_unit]);

    let lock = AuditedInput {
        path: PathBuf::from("Cargo.lock"),
        kind: InputKind::LockFile,
        origin: binaudit::audit::Origin::File,
        outcome: InputOutcome::Audited {
            format: None,
            units: vec![unit(
                db,
                None,
                vec![
                    pkg("atty", "0.2.14", Runtime, &[], false),
                    pkg("mach", "0.3.2", Runtime, &[], false),
                    pkg("member", "0.2.0", Runtime, &[0, 1, 3, 4], true),
                    pkg("oldcrate", "1.0.0", Runtime, &[], false),
                    pkg("smallvec", "0.6.9", Runtime, &[], false),
                ],
                vec![
                    ok(),
                    ok(),
                    YankStatus::Unknown("offline and not in the index cache".into()),
                    YankStatus::Unknown("offline and not in the index cache".into()),
                    ok(),
                ],
            )],
        },
    };

    let not_exe = AuditedInput {
        path: PathBuf::from("README.md"),
        kind: InputKind::Binary,
        origin: binaudit::audit::Origin::File,
        outcome: InputOutcome::NotExecutable,
    };
    let unreadable = AuditedInput {
        path: PathBuf::from("bin/gone"),
        kind: InputKind::Binary,
        origin: binaudit::audit::Origin::File,
        outcome: InputOutcome::Error("cannot open: No such file or directory (os error 2)".into()),
    };
    // Deliberately not in path order: every format sorts.
    report_with(
        vec![wasm, fat, not_exe, linux, lock, unreadable, broken, bare],
        Policy::default(),
    )
}

fn render(f: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut out = Vec::new();
    f(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn terminal_text(report: &AuditReport, color: bool) -> String {
    render(|out| terminal::write(out, report, &TerminalOptions { color }))
}

fn json_doc(report: &AuditReport) -> Value {
    serde_json::from_str(&render(|out| {
        json::write(out, report, &JsonOptions::default())
    }))
    .unwrap()
}

fn sarif_doc(report: &AuditReport) -> Value {
    let opts = SarifOptions {
        tool_version: "0.0.0-test".into(),
    };
    serde_json::from_str(&render(|out| sarif::write(out, report, &opts))).unwrap()
}

fn cyclonedx_text(report: &AuditReport, timestamp: &str) -> String {
    let opts = CycloneDxOptions {
        timestamp: Some(timestamp.into()),
        tool_version: "0.0.0-test".into(),
    };
    render(|out| cyclonedx::write(out, report, &opts))
}

// ---- terminal ----

#[test]
fn terminal_report_matches_snapshot() {
    let db = database();
    check_snapshot(
        "report-terminal.txt",
        &terminal_text(&full_report(&db), false),
    );
}

#[test]
fn terminal_colour_only_when_asked() {
    let db = database();
    let report = full_report(&db);
    let plain = terminal_text(&report, false);
    assert!(!plain.contains('\x1b'), "{plain}");
    let coloured = terminal_text(&report, true);
    assert!(
        coloured.contains("\x1b[1;31mRUSTSEC-2021-0003\x1b[0m"),
        "{coloured}"
    );
    assert!(coloured.contains("\x1b[1;31merror:\x1b[0m"), "{coloured}");
    // Same text once the escapes are removed.
    let mut stripped = String::new();
    let mut rest = coloured.as_str();
    while let Some(start) = rest.find('\x1b') {
        stripped.push_str(&rest[..start]);
        let end = rest[start..].find('m').unwrap();
        rest = &rest[start + end + 1..];
    }
    stripped.push_str(rest);
    assert_eq!(stripped, plain);
}

#[test]
fn terminal_lists_build_only_findings_apart_and_drops_them_on_request() {
    let db = database();
    let mut report = full_report(&db);
    let text = terminal_text(&report, false);
    let build_group = text.find("build-time dependencies").unwrap();
    let paste = text.find("RUSTSEC-2024-0436 paste 1.0.14").unwrap();
    assert!(paste > build_group, "{text}");
    assert!(text.contains("(build-only dependency)"), "{text}");
    report.policy.exclude_build = true;
    let text = terminal_text(&report, false);
    assert!(!text.contains("paste"), "{text}");
    assert!(!text.contains("build-time dependencies"), "{text}");
}

#[test]
fn terminal_explains_absent_and_unverified_findings() {
    let db = database();
    let text = terminal_text(&full_report(&db), false);
    assert!(
        text.contains("ignored: RUSTSEC-2021-0124 (tokio 1.8.0)"),
        "{text}"
    );
    assert!(
        text.contains("not applicable: RUSTSEC-2021-0145 (atty 0.2.14): affects OS windows only; this binary is for linux"),
        "{text}"
    );
    assert!(
        text.contains("note: applies to windows only; this binary does not declare its OS"),
        "{text}"
    );
    assert!(
        text.contains("note: applies to windows only; this lock file does not declare its OS"),
        "{text}"
    );
    assert!(
        text.contains("fix: no compatible fix: needs 0.4.1"),
        "{text}"
    );
}

fn single_binary<'db>(
    db: &'db [Advisory],
    packages: Vec<Package>,
    yanked: Vec<YankStatus>,
    policy: Policy,
) -> AuditReport<'db> {
    report_with(
        vec![binary(
            "target/release/app",
            ContainerFormat::Elf,
            vec![unit(db, images("x86_64-linux-gnu").pop(), packages, yanked)],
        )],
        policy,
    )
}

fn last_line(text: &str) -> &str {
    text.lines().last().unwrap()
}

#[test]
fn summary_line_for_clean_warning_and_failing_audits() {
    let db = database();
    let plain = TerminalOptions { color: false };
    let clean = single_binary(
        &db,
        vec![
            pkg("app", "0.1.0", Runtime, &[1], true),
            pkg("smallvec", "1.6.1", Runtime, &[], false),
        ],
        vec![YankStatus::Available; 2],
        Policy::default(),
    );
    assert_eq!(
        terminal::summary_line(&clean, &plain),
        "no known advisories or yanked crates in 1 binary (database: 1225 advisories, updated 2026-08-21)"
    );
    assert_eq!(
        last_line(&terminal_text(&clean, false)),
        terminal::summary_line(&clean, &plain)
    );
    assert_eq!(terminal::build_line(&clean, &plain), None);

    let warnings = single_binary(
        &db,
        vec![
            pkg("app", "0.1.0", Runtime, &[1, 2], true),
            pkg("atty", "0.2.14", Runtime, &[], false),
            pkg("libc", "0.2.150", Runtime, &[], false),
        ],
        vec![
            YankStatus::Available,
            YankStatus::Available,
            YankStatus::Yanked,
        ],
        Policy::default(),
    );
    assert_eq!(
        terminal::summary_line(&warnings, &plain),
        "warning: 1 unmaintained and 1 yanked crates in 1 binary"
    );
    assert_eq!(
        terminal::build_line(&warnings, &plain).unwrap(),
        "warning: 1 unmaintained and 1 yanked crates in target/release/app: atty (RUSTSEC-2024-0375), libc (yanked) — run binaudit scan target/release/app for details"
    );

    // The same findings fail once the warning kind is denied.
    let denied = Policy {
        deny: BTreeSet::from([DenyKind::Yanked]),
        ..Policy::default()
    };
    let mut failing = warnings.clone();
    failing.policy = denied;
    assert!(terminal::summary_line(&failing, &plain)
        .starts_with("error: 1 unmaintained and 1 yanked crates"));

    let vulnerable = single_binary(
        &db,
        vec![
            pkg("app", "0.1.0", Runtime, &[1], true),
            pkg("smallvec", "1.6.0", Runtime, &[], false),
        ],
        vec![YankStatus::Available; 2],
        Policy::default(),
    );
    assert_eq!(
        terminal::summary_line(&vulnerable, &plain),
        "error: 1 vulnerable crate in 1 binary"
    );
    // Below the severity threshold, a vulnerability is shown but does not fail.
    let mut lenient = vulnerable.clone();
    lenient.policy.severity_threshold = Some(Severity::Critical);
    assert_eq!(
        terminal::summary_line(&lenient, &plain),
        "error: 1 vulnerable crate in 1 binary"
    );
    let mut below = single_binary(
        &db,
        vec![
            pkg("app", "0.1.0", Runtime, &[1], true),
            pkg("rsa", "0.9.6", Runtime, &[], false),
        ],
        vec![YankStatus::Available; 2],
        Policy {
            severity_threshold: Some(Severity::High),
            ..Policy::default()
        },
    );
    assert_eq!(
        terminal::summary_line(&below, &plain),
        "warning: 1 vulnerable crate in 1 binary"
    );
    assert!(terminal_text(&below, false).contains("(below the severity threshold)"));

    // Inputs that could not be audited are never a clean result.
    below.inputs.push(AuditedInput {
        path: PathBuf::from("x"),
        kind: InputKind::Binary,
        origin: binaudit::audit::Origin::File,
        outcome: InputOutcome::Error("cannot open: denied".into()),
    });
    assert_eq!(
        terminal::summary_line(&below, &plain),
        "error: 1 vulnerable crate in 1 binary; 1 input could not be audited"
    );
    let mut clean_but_error = clean.clone();
    clean_but_error.inputs.push(AuditedInput {
        path: PathBuf::from("README.md"),
        kind: InputKind::Binary,
        origin: binaudit::audit::Origin::File,
        outcome: InputOutcome::NotExecutable,
    });
    assert_eq!(
        terminal::summary_line(&clean_but_error, &plain),
        "error: no known advisories or yanked crates in 1 binary (database: 1225 advisories, updated 2026-08-21); 1 input could not be audited"
    );
}

// ---- JSON ----

#[test]
fn json_report_matches_snapshot() {
    let db = database();
    let text = render(|out| json::write(out, &full_report(&db), &JsonOptions::default()));
    check_snapshot("report.json", &text);
}

#[test]
fn json_document_is_versioned_and_lists_ignored_findings() {
    let db = database();
    let doc = json_doc(&full_report(&db));
    assert_eq!(doc["schema"], "binaudit-audit/1");
    assert_eq!(doc["summary"]["exit_code"], 2);
    let inputs = doc["inputs"].as_array().unwrap();
    let paths: Vec<&str> = inputs.iter().map(|i| i["path"].as_str().unwrap()).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
    let linux = inputs
        .iter()
        .find(|i| i["path"] == "bin/app-linux")
        .unwrap();
    let findings = linux["units"][0]["findings"].as_array().unwrap();
    let tokio = findings.iter().find(|f| f["package"] == "tokio").unwrap();
    assert_eq!(tokio["ignored"], true);
    assert_eq!(tokio["fails"], false);
    assert_eq!(
        linux["units"][0]["not_applicable"][0]["id"],
        "RUSTSEC-2021-0145"
    );
    let fat = inputs
        .iter()
        .find(|i| i["path"] == "bin/universal-app")
        .unwrap();
    assert_eq!(fat["format"], "Mach-O universal");
    assert_eq!(fat["units"].as_array().unwrap().len(), 2);
    let statuses: Vec<&str> = inputs
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    for s in ["audited", "not-executable", "error"] {
        assert!(statuses.contains(&s), "{statuses:?}");
    }
    let paste = |doc: &Value| -> (usize, usize) {
        let unit = &doc["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["path"] == "bin/universal-app")
            .unwrap()["units"][0];
        let count = |field: &str| {
            unit[field]
                .as_array()
                .unwrap()
                .iter()
                .filter(|x| x["package"] == "paste" || x["name"] == "paste")
                .count()
        };
        (count("packages"), count("findings"))
    };
    assert_eq!(paste(&doc), (1, 1));
    let mut without_build = full_report(&db);
    without_build.policy.exclude_build = true;
    // The package stays in the inventory; its finding goes.
    assert_eq!(paste(&json_doc(&without_build)), (1, 0));
    let lock = inputs.iter().find(|i| i["kind"] == "lockfile").unwrap();
    assert_eq!(lock["units"][0]["arch"], Value::Null);
    assert_eq!(lock["units"][0]["packages"][2]["yanked"], Value::Null);
}

// ---- SARIF ----

#[test]
fn sarif_log_is_consistent_and_follows_the_policy() {
    let db = database();
    let report = full_report(&db);
    let doc = sarif_doc(&report);
    assert_eq!(doc["version"], "2.1.0");
    assert_eq!(
        doc["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    let run = &doc["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "binaudit");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let rule_ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    let mut fingerprints = HashSet::new();
    for r in results {
        let id = r["ruleId"].as_str().unwrap();
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rule_ids.get(index), Some(&id), "{r}");
        assert!(
            fingerprints.insert(r["partialFingerprints"].to_string()),
            "{r}"
        );
        assert!(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].is_string());
    }
    let level = |rule: &str, package: &str| {
        results
            .iter()
            .find(|r| r["ruleId"] == rule && r["properties"]["package"] == package)
            .unwrap_or_else(|| panic!("no result {rule} {package}"))
    };
    assert_eq!(level("RUSTSEC-2021-0003", "smallvec")["level"], "error");
    assert_eq!(level("RUSTSEC-2024-0375", "atty")["level"], "warning");
    assert_eq!(level("yanked", "libc")["level"], "warning");
    assert!(rule_ids.contains(&"yanked"));
    let critical = rules
        .iter()
        .find(|r| r["id"] == "RUSTSEC-2021-0003")
        .unwrap();
    assert_eq!(critical["properties"]["security-severity"], "9.8");
    assert_eq!(
        critical["helpUri"],
        "https://rustsec.org/advisories/RUSTSEC-2021-0003"
    );
    // Ignored: present, suppressed.
    let tokio = level("RUSTSEC-2021-0124", "tokio");
    assert_eq!(tokio["suppressions"][0]["kind"], "external");
    // A finding in both slices of the fat binary is one result naming both.
    let fat_smallvec: Vec<&Value> = results
        .iter()
        .filter(|r| {
            r["ruleId"] == "RUSTSEC-2021-0003"
                && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    == "bin/universal-app"
        })
        .collect();
    assert_eq!(fat_smallvec.len(), 1);
    assert_eq!(
        fat_smallvec[0]["properties"]["units"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Unreadable inputs are reported as failed tool execution.
    assert_eq!(run["invocations"][0]["executionSuccessful"], false);

    // Denying warnings raises their level; the fingerprints do not change.
    let mut strict = report.clone();
    strict.policy.deny = BTreeSet::from([DenyKind::Warnings]);
    let strict_doc = sarif_doc(&strict);
    let strict_results = strict_doc["runs"][0]["results"].as_array().unwrap();
    for r in strict_results {
        if r.get("suppressions").is_none() {
            assert_eq!(r["level"], "error", "{r}");
        }
    }
    let prints = |rs: &[Value]| -> Vec<String> {
        rs.iter()
            .map(|r| r["partialFingerprints"].to_string())
            .collect()
    };
    assert_eq!(prints(results), prints(strict_results));
}

// ---- CycloneDX ----

/// Validates a CycloneDX 1.5 JSON document with the official schema, as shipped by
/// `cyclonedx-python-lib`. `None` when the validator is not installed (outside CI).
fn validate_cyclonedx(doc: &str) -> Option<Result<(), String>> {
    if !require_python_module(
        "cyclonedx.validation.json",
        "cyclonedx-python-lib[json-validation]",
    ) {
        return None;
    }
    let script = "import sys\n\
        from cyclonedx.schema import SchemaVersion\n\
        from cyclonedx.validation.json import JsonStrictValidator\n\
        errors = JsonStrictValidator(SchemaVersion.V1_5).validate_str(sys.stdin.read(), all_errors=True)\n\
        if errors:\n\
        \x20   for e in errors: print(e)\n\
        \x20   sys.exit(1)\n";
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(doc.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Some(if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    })
}

#[test]
fn cyclonedx_bom_validates_against_the_official_schema() {
    let db = database();
    let text = cyclonedx_text(&full_report(&db), "2026-08-21T09:30:00Z");
    if let Some(result) = validate_cyclonedx(&text) {
        result.unwrap_or_else(|e| panic!("invalid CycloneDX 1.5:\n{e}\n{text}"));
    }
    // A single binary puts itself in metadata.component; that shape must validate too.
    let single = single_binary(
        &db,
        vec![
            pkg("app", "0.1.0", Runtime, &[1], true),
            pkg("smallvec", "1.6.0", Runtime, &[], false),
        ],
        vec![YankStatus::Available; 2],
        Policy::default(),
    );
    let text = cyclonedx_text(&single, "2026-08-21T09:30:00Z");
    if let Some(result) = validate_cyclonedx(&text) {
        result.unwrap_or_else(|e| panic!("invalid CycloneDX 1.5:\n{e}\n{text}"));
    }
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["metadata"]["component"]["name"], "app");
    assert_eq!(doc["metadata"]["component"]["type"], "application");
}

#[test]
fn cyclonedx_bom_has_purls_a_resolvable_graph_and_vulnerabilities() {
    let db = database();
    let report = full_report(&db);
    let text = cyclonedx_text(&report, "2026-08-21T09:30:00Z");
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["bomFormat"], "CycloneDX");
    assert_eq!(doc["specVersion"], "1.5");
    let components = doc["components"].as_array().unwrap();
    let mut refs = HashSet::new();
    for c in components {
        assert!(
            refs.insert(c["bom-ref"].as_str().unwrap()),
            "duplicate bom-ref {c}"
        );
    }
    if let Some(r) = doc["metadata"]["component"]["bom-ref"].as_str() {
        assert!(refs.insert(r));
    }
    // purls: crates.io packages only, spelled pkg:cargo/NAME@VERSION.
    let smallvec = components
        .iter()
        .find(|c| c["name"] == "smallvec" && c["version"] == "1.6.0")
        .unwrap();
    assert_eq!(smallvec["purl"], "pkg:cargo/smallvec@1.6.0");
    let time = components.iter().find(|c| c["name"] == "time").unwrap();
    assert!(time.get("purl").is_none(), "{time}");
    let paste = components.iter().find(|c| c["name"] == "paste").unwrap();
    assert_eq!(paste["scope"], "excluded");
    let app = components
        .iter()
        .find(|c| c["name"] == "app" && c["version"] == "0.1.0")
        .unwrap();
    assert_eq!(app["type"], "application");
    // Every dependency ref resolves, and every package component has an entry.
    let deps = doc["dependencies"].as_array().unwrap();
    let mut with_entry = HashSet::new();
    for d in deps {
        let r = d["ref"].as_str().unwrap();
        assert!(refs.contains(r), "unknown ref {r}");
        with_entry.insert(r);
        for on in d["dependsOn"].as_array().unwrap() {
            assert!(
                refs.contains(on.as_str().unwrap()),
                "unknown dependsOn {on}"
            );
        }
    }
    for c in components.iter().filter(|c| c["type"] != "file") {
        if c["properties"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "binaudit:dependency-kind")
        {
            assert!(with_entry.contains(c["bom-ref"].as_str().unwrap()), "{c}");
        }
    }
    // Vulnerabilities point at components; ignored and not-applicable ones say so.
    let vulns = doc["vulnerabilities"].as_array().unwrap();
    for vuln in vulns {
        for a in vuln["affects"].as_array().unwrap() {
            assert!(refs.contains(a["ref"].as_str().unwrap()), "{vuln}");
        }
    }
    let critical = vulns
        .iter()
        .find(|v| v["id"] == "RUSTSEC-2021-0003")
        .unwrap();
    assert_eq!(critical["ratings"][0]["method"], "CVSSv31");
    assert_eq!(critical["ratings"][0]["score"], 9.8);
    assert_eq!(critical["references"][0]["id"], "CVE-2021-25900");
    assert!(critical.get("analysis").is_none());
    let ignored = vulns
        .iter()
        .find(|v| v["id"] == "RUSTSEC-2021-0124")
        .unwrap();
    assert!(ignored["analysis"].get("state").is_none(), "{ignored}");
    let not_applicable = vulns
        .iter()
        .find(|v| v["id"] == "RUSTSEC-2021-0145" && v["analysis"]["state"] == "not_affected")
        .unwrap();
    assert_eq!(
        not_applicable["analysis"]["justification"],
        "requires_environment"
    );
    // Reproducible, and the serial follows the content.
    let serial = doc["serialNumber"].as_str().unwrap();
    assert!(
        serial.starts_with("urn:uuid:") && serial.as_bytes()[23] == b'5',
        "{serial}"
    );
    assert_eq!(text, cyclonedx_text(&report, "2026-08-21T09:30:00Z"));
    let later: Value =
        serde_json::from_str(&cyclonedx_text(&report, "2026-08-22T09:30:00Z")).unwrap();
    assert_ne!(later["serialNumber"], doc["serialNumber"]);
}
