//! Our findings on every sample binary against `cargo audit bin`'s, with the same database
//! (the shared RustSec snapshot). They must be equal; every difference is listed here with its
//! reason, and the test fails if a difference appears that is not explained, or an explained one
//! disappears.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

fn shared_db() -> PathBuf {
    repo_root().join("../shared/advisory-db")
}

/// Advisory ids `cargo audit bin` reports for `path` (vulnerabilities and warnings).
fn cargo_audit(path: &Path) -> BTreeSet<String> {
    let out = Command::new("cargo")
        .args([
            "audit",
            "--no-fetch",
            "--stale",
            "--no-yanked",
            "--json",
            "--db",
        ])
        .arg(shared_db())
        .arg("bin")
        .arg(path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let start = text.find('{').unwrap_or_else(|| {
        panic!(
            "cargo audit printed no JSON for {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let doc: serde_json::Value = serde_json::from_str(&text[start..]).unwrap();
    let mut ids = BTreeSet::new();
    for v in doc["vulnerabilities"]["list"].as_array().unwrap() {
        ids.insert(v["advisory"]["id"].as_str().unwrap().to_owned());
    }
    for warnings in doc["warnings"].as_object().unwrap().values() {
        for w in warnings.as_array().unwrap() {
            if let Some(id) = w["advisory"]["id"].as_str() {
                ids.insert(id.to_owned());
            }
        }
    }
    ids
}

/// Advisory ids binaudit reports for `path`, over all its images.
fn ours(path: &Path, cache: &Path) -> BTreeSet<String> {
    let (_, out, err) = run(binaudit()
        .args([
            "scan",
            "--format",
            "json",
            "--offline",
            "--no-stale-warning",
            "--no-yanked",
            "--db",
        ])
        .arg(shared_db())
        .arg(path)
        .env("XDG_CACHE_HOME", cache));
    let doc: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    let mut ids = BTreeSet::new();
    for unit in doc["inputs"][0]["units"].as_array().unwrap() {
        for f in unit["findings"].as_array().unwrap() {
            ids.insert(f["id"].as_str().unwrap().to_owned());
        }
    }
    ids
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn findings_equal_cargo_audit_bin_except_where_explained() {
    if !require_tool("cargo-audit", &["audit", "--version"]) {
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let mut names: Vec<String> = std::fs::read_dir(samples_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "build.sh" && n != "README.md")
        .collect();
    names.sort();
    assert!(names.len() >= 14, "{names:?}");
    for name in names {
        let path = samples_dir().join(&name);
        let theirs = cargo_audit(&path);
        let ours = ours(&path, cache.path());
        match name.as_str() {
            // cargo-audit cannot read universal Mach-O files: it falls back to the panic-message
            // paths in the bytes and recovers smallvec only (its result is marked incomplete).
            // binaudit reads the manifest of each slice and finds what the thin builds find.
            "universal2-macos" => {
                assert_eq!(
                    theirs,
                    set(&["RUSTSEC-2021-0003"]),
                    "{name}: cargo-audit changed"
                );
                assert_eq!(
                    ours,
                    cargo_audit(&samples_dir().join("aarch64-macos")),
                    "{name}"
                );
            }
            // Everywhere else: identical. Our per-binary OS filter agrees with cargo-audit's
            // per-format one on these samples (atty's Windows-only RUSTSEC-2021-0145 appears
            // for the PE files only, in both). Without a manifest both recover smallvec from
            // panic-message paths, and both mark that result incomplete.
            _ => assert_eq!(ours, theirs, "{name}"),
        }
    }
}
