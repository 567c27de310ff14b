//! Every committed sample binary, read by our reader and checked against the reference reader
//! and against golden snapshots of `binaudit show` (update with `BINAUDIT_UPDATE_SNAPSHOTS=1`).

use std::path::Path;
use std::process::Command;

use crate::support::*;

/// Sample binaries that carry a manifest, with the crates only their platform pulls in.
const WITH_MANIFEST: &[(&str, &[&str])] = &[
    ("x86_64-linux-gnu", &["libc"]),
    ("x86_64-linux-gnu.so", &["libc"]),
    ("x86_64-linux-gnu-stripped", &["libc"]),
    ("x86_64-linux-gnu-lto", &["libc"]),
    ("aarch64-linux-gnu", &["libc"]),
    ("i686-linux-gnu", &["libc"]),
    ("s390x-linux-gnu", &["libc"]),
    ("x86_64-macos", &["libc"]),
    ("aarch64-macos", &["libc"]),
    ("x86_64-windows-gnu.exe", &["winapi"]),
    ("x86_64-windows-gnu.dll", &["winapi"]),
    ("wasm32-unknown-unknown.wasm", &[]),
];

/// Every file in `sample-binaries/` that is a sample (not the script, README or fixture source).
fn all_samples() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(samples_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "build.sh" && n != "README.md")
        .collect();
    names.sort();
    names
}

#[test]
fn every_sample_is_accounted_for() {
    let mut expected: Vec<String> = WITH_MANIFEST.iter().map(|(n, _)| (*n).to_owned()).collect();
    expected.extend([
        "universal2-macos".to_owned(),
        "x86_64-linux-gnu-no-manifest".to_owned(),
    ]);
    expected.sort();
    assert_eq!(
        all_samples(),
        expected,
        "a sample was added or removed: update this test and the README table"
    );
}

#[test]
fn every_sample_lists_the_fixture_graph_for_its_platform() {
    for (name, platform_only) in WITH_MANIFEST {
        let json = String::from_utf8(raw_manifest(&samples_dir().join(name), None)).unwrap();
        let m = linker_section::Manifest::from_json(json.as_bytes()).unwrap();
        let names: Vec<&str> = m.packages().iter().map(|p| p.name.as_str()).collect();
        for always in [
            "binaudit-fixture",
            "smallvec",
            "atty",
            "paste",
            "autocfg",
            "time",
        ] {
            assert!(
                names.contains(&always),
                "{name}: {always} missing from {names:?}"
            );
        }
        for platform in [
            "libc",
            "winapi",
            "winapi-x86_64-pc-windows-gnu",
            "hermit-abi",
        ] {
            let wanted = platform_only.contains(&platform)
                || (platform.starts_with("winapi") && platform_only.contains(&"winapi"));
            assert_eq!(
                names.contains(&platform),
                wanted,
                "{name}: {platform} in {names:?}"
            );
        }
        let time = m.packages().iter().find(|p| p.name == "time").unwrap();
        assert_eq!(time.source, linker_section::Source::Local, "{name}");
        for build in ["paste", "autocfg"] {
            let p = m.packages().iter().find(|p| p.name == build).unwrap();
            assert_eq!(
                p.kind,
                linker_section::DependencyKind::Build,
                "{name}: {build}"
            );
        }
    }
}

#[test]
fn reference_reader_gives_identical_bytes() {
    if !require_tool("rust-audit-info", &["--help"]) {
        return;
    }
    for (name, _) in WITH_MANIFEST {
        let path = samples_dir().join(name);
        let (code, theirs, err) = run_bytes(Command::new("rust-audit-info").arg(&path));
        assert_eq!(code, 0, "rust-audit-info {name}: {err}");
        assert_eq!(theirs, raw_manifest(&path, None), "{name}");
    }
    // rust-audit-info cannot read universal Mach-O files at all; each of our slices equals the
    // thin build for that architecture instead (checked in cli.rs).
}

fn show_all(extra: &[&str]) -> String {
    let dir: &Path = &samples_dir();
    let (_, out, err) = run(binaudit()
        .arg("show")
        .args(extra)
        .args(all_samples())
        .current_dir(dir));
    assert!(err.is_empty(), "{err}");
    out
}

#[test]
fn human_output_matches_snapshot() {
    check_snapshot("show-samples.txt", &show_all(&[]));
}

#[test]
fn json_output_matches_snapshot() {
    check_snapshot("show-samples.json", &show_all(&["--json"]));
}
