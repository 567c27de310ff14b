//! `binaudit scan` and the audit after `binaudit build`, run as a user runs them, against the
//! small fixture database (`tests/fixtures/advisory-db-small`, see its README for what each
//! advisory covers) and the committed sample binaries. Offline unless a test starts its own
//! index server on 127.0.0.1.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::http::StaticServer;
use crate::support::*;

fn small_db() -> PathBuf {
    repo_root().join("tests/fixtures/advisory-db-small")
}

fn sample(name: &str) -> PathBuf {
    samples_dir().join(name)
}

/// `binaudit scan` with private cache and cargo home, offline, the small database, no stale warning.
struct Scan {
    dir: tempfile::TempDir,
    cmd: Command,
}

impl Scan {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = binaudit();
        cmd.arg("scan")
            .env("XDG_CACHE_HOME", dir.path().join("cache"))
            .env("CARGO_HOME", dir.path().join("cargo-home"))
            .env_remove("NO_COLOR")
            .current_dir(dir.path());
        Scan { dir, cmd }
    }

    fn offline(mut self) -> Self {
        self.cmd
            .arg("--db")
            .arg(small_db())
            .args(["--offline", "--no-stale-warning"]);
        self
    }

    fn args<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(mut self, args: I) -> Self {
        self.cmd.args(args);
        self
    }

    fn arg(mut self, a: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.arg(a);
        self
    }

    fn run(mut self) -> (i32, String, String) {
        run(&mut self.cmd)
    }

    fn json(self) -> (i32, serde_json::Value) {
        let (code, out, err) = self.args(["--format", "json"]).run();
        let doc = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
        (code, doc)
    }
}

/// The input for `path` (reports list inputs sorted by path, not in argument order).
fn input<'a>(doc: &'a serde_json::Value, path: &Path) -> &'a serde_json::Value {
    let inputs = doc["inputs"].as_array().unwrap();
    inputs
        .iter()
        .find(|i| i["path"] == path.display().to_string())
        .unwrap_or_else(|| panic!("{} not in {doc}", path.display()))
}

/// (id, package, ignored) of every finding of every unit of the input for `path`.
fn findings(doc: &serde_json::Value, path: &Path) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    for unit in input(doc, path)["units"].as_array().unwrap() {
        for f in unit["findings"].as_array().unwrap() {
            out.push((
                f["id"].as_str().unwrap().to_owned(),
                f["package"].as_str().unwrap().to_owned(),
                f["ignored"] == true,
            ));
        }
    }
    out.sort();
    out.dedup();
    out
}

#[test]
fn vulnerability_fails_and_names_the_fix() {
    let (code, out, err) = Scan::new().offline().arg(sample("x86_64-linux-gnu")).run();
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("RUSTSEC-2021-0003 smallvec 1.6.0"), "{out}");
    assert!(
        out.contains("upgrade to 1.6.1 or later (semver-compatible"),
        "{out}"
    );
    assert!(out.contains("CVSS 9.8"), "{out}");
    assert!(
        out.lines()
            .last()
            .unwrap()
            .starts_with("error: 1 vulnerable"),
        "{out}"
    );
}

#[test]
fn matching_rules_on_real_binaries() {
    let (_, doc) = Scan::new()
        .offline()
        .args(["--no-yanked"])
        .arg(sample("x86_64-linux-gnu"))
        .arg(sample("x86_64-windows-gnu.exe"))
        .arg(sample("universal2-macos"))
        .json();
    let linux = findings(&doc, &sample("x86_64-linux-gnu"));
    let ids: Vec<&str> = linux.iter().map(|(id, _, _)| id.as_str()).collect();
    // The local crate named `time` is never matched; the withdrawn libc advisory never is;
    // the Windows-only and aarch64-only advisories are not for an x86_64 Linux binary.
    assert_eq!(
        ids,
        [
            "RUSTSEC-2021-0003",
            "RUSTSEC-2024-0375",
            "RUSTSEC-2024-0436",
            "RUSTSEC-2099-0001"
        ],
        "{linux:?}"
    );
    let not_applicable: Vec<&str> = input(&doc, &sample("x86_64-linux-gnu"))["units"][0]
        ["not_applicable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert!(
        not_applicable.contains(&"RUSTSEC-2021-0145"),
        "{not_applicable:?}"
    );

    let windows: Vec<String> = findings(&doc, &sample("x86_64-windows-gnu.exe"))
        .into_iter()
        .map(|f| f.0)
        .collect();
    assert!(
        windows.contains(&"RUSTSEC-2021-0145".to_owned())
            && windows.contains(&"RUSTSEC-2099-0004".to_owned()),
        "{windows:?}"
    );

    // Per slice of a universal binary: the aarch64-only advisory hits only the arm64 slice.
    let units = input(&doc, &sample("universal2-macos"))["units"]
        .as_array()
        .unwrap();
    let per_slice: Vec<(String, bool)> = units
        .iter()
        .map(|u| {
            let hit = u["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["id"] == "RUSTSEC-2099-0003");
            (u["arch"].as_str().unwrap().to_owned(), hit)
        })
        .collect();
    assert_eq!(
        per_slice,
        [("x86_64".to_owned(), false), ("aarch64".to_owned(), true)]
    );
    let f = units[1]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "RUSTSEC-2099-0003")
        .unwrap();
    assert_eq!(f["fix"]["compatible"], false);
    assert!(
        f["fix"]["advice"]
            .as_str()
            .unwrap()
            .starts_with("no compatible fix: needs 1.0.0"),
        "{f}"
    );
}

#[test]
fn build_only_findings_are_apart_and_can_be_left_out() {
    let (_, doc) = Scan::new()
        .offline()
        .args(["--no-yanked"])
        .arg(sample("x86_64-linux-gnu"))
        .json();
    let paste = doc["inputs"][0]["units"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["package"] == "paste")
        .unwrap()
        .clone();
    assert_eq!(paste["dependency_kind"], "build");
    let (_, doc) = Scan::new()
        .offline()
        .args(["--no-yanked", "--no-build-deps"])
        .arg(sample("x86_64-linux-gnu"))
        .json();
    let ids: Vec<String> = findings(&doc, &sample("x86_64-linux-gnu"))
        .into_iter()
        .map(|f| f.0)
        .collect();
    assert!(
        !ids.contains(&"RUSTSEC-2024-0436".to_owned())
            && !ids.contains(&"RUSTSEC-2099-0001".to_owned()),
        "{ids:?}"
    );
}

#[test]
fn ignore_flag_and_audit_toml_mark_findings_ignored_and_spare_the_exit_code() {
    let (code, doc) = Scan::new()
        .offline()
        .args(["--no-yanked", "--ignore", "RUSTSEC-2021-0003"])
        .arg(sample("x86_64-linux-gnu"))
        .json();
    assert_eq!(code, 0, "only warnings remain");
    assert!(
        findings(&doc, &sample("x86_64-linux-gnu")).contains(&(
            "RUSTSEC-2021-0003".into(),
            "smallvec".into(),
            true
        )),
        "ignored findings are listed"
    );

    // The same through cargo-audit's config file, found in .cargo/ of the working directory.
    let scan = Scan::new()
        .offline()
        .args(["--no-yanked"])
        .arg(sample("x86_64-linux-gnu"));
    std::fs::create_dir_all(scan.dir.path().join(".cargo")).unwrap();
    std::fs::write(
        scan.dir.path().join(".cargo/audit.toml"),
        "[advisories]\nignore = [\"RUSTSEC-2021-0003\"]\n",
    )
    .unwrap();
    let (code, out, _) = scan.run();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ignored: RUSTSEC-2021-0003"), "{out}");
}

#[test]
fn deny_turns_warnings_into_failures() {
    let base = || {
        Scan::new()
            .offline()
            .args(["--no-yanked", "--ignore", "RUSTSEC-2021-0003"])
            .arg(sample("x86_64-linux-gnu"))
    };
    assert_eq!(base().run().0, 0);
    assert_eq!(base().args(["--deny", "unmaintained"]).run().0, 1);
    assert_eq!(
        base().args(["--deny", "notice"]).run().0,
        1,
        "the autocfg notice"
    );
    assert_eq!(
        base().args(["--deny", "unsound"]).run().0,
        0,
        "the unsound advisory is Windows-only"
    );
    assert_eq!(base().args(["--deny", "warnings"]).run().0, 1);
    let (code, _, err) = base().args(["--deny", "everything"]).run();
    assert_eq!(code, 2);
    assert!(err.contains("unknown kind"), "{err}");
}

#[test]
fn severity_threshold_spares_lower_scores_only() {
    // winapi's synthetic advisory is high (8.7); smallvec's is critical (9.8).
    let scan = |t: &str| {
        Scan::new()
            .offline()
            .args([
                "--no-yanked",
                "--ignore",
                "RUSTSEC-2021-0003",
                "--severity-threshold",
                t,
            ])
            .arg(sample("x86_64-windows-gnu.exe"))
            .run()
            .0
    };
    assert_eq!(scan("high"), 1);
    assert_eq!(scan("critical"), 0);
}

#[test]
fn unauditable_inputs_exit_2_and_the_rest_are_still_reported() {
    let missing = repo_root().join("no-such-file");
    let (code, doc) = Scan::new()
        .offline()
        .args(["--no-yanked"])
        .arg(sample("x86_64-linux-gnu-no-manifest"))
        .arg(&missing)
        .arg(repo_root().join("README.md"))
        .arg(sample("aarch64-linux-gnu"))
        .json();
    assert_eq!(code, 2);
    let statuses: Vec<&str> = doc["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.len(), 4);
    let by_path = |p: &Path| input(&doc, p).clone();
    assert_eq!(by_path(&missing)["status"], "error");
    assert_eq!(
        by_path(&repo_root().join("README.md"))["status"],
        "not-executable"
    );
    let no_manifest = by_path(&sample("x86_64-linux-gnu-no-manifest"));
    // Not an error: recovered from panic-message paths, and said to be incomplete.
    assert_eq!(no_manifest["status"], "audited");
    assert_eq!(no_manifest["units"][0]["completeness"], "recovered");
    assert_eq!(doc["summary"]["incomplete"], 1);
    let arm = by_path(&sample("aarch64-linux-gnu"));
    assert!(arm["units"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["id"] == "RUSTSEC-2021-0003"));
}

#[test]
fn a_walked_directory_gives_what_the_same_files_named_one_by_one_give() {
    // The walk hands each executable on open with its first 4 KiB, and the database is still
    // being opened while it does: neither may change a finding, and a binary without a
    // manifest is still recovered from its panic paths (read through the same open file).
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "x86_64-linux-gnu",
        "x86_64-linux-gnu-no-manifest",
        "aarch64-macos",
        "universal2-macos",
        "x86_64-windows-gnu.exe",
        "wasm32-unknown-unknown.wasm",
    ];
    for name in names {
        std::fs::copy(sample(name), dir.path().join(name)).unwrap();
    }
    std::fs::write(dir.path().join("notes.txt"), "not a binary").unwrap();
    let (walked_code, walked) = Scan::new()
        .offline()
        .args(["--no-yanked", "--no-progress"])
        .arg(dir.path())
        .json();
    let mut one_by_one = Scan::new().offline().args(["--no-yanked", "--no-progress"]);
    for name in names {
        one_by_one = one_by_one.arg(dir.path().join(name));
    }
    let (named_code, named) = one_by_one.json();
    assert_eq!(walked_code, named_code);
    assert_eq!(walked["inputs"], named["inputs"]);
    assert_eq!(walked["summary"], named["summary"]);
    let no_manifest = input(&walked, &dir.path().join("x86_64-linux-gnu-no-manifest"));
    assert_eq!(no_manifest["units"][0]["completeness"], "recovered");
    let linux = findings(&walked, &dir.path().join("x86_64-linux-gnu"));
    assert!(
        linux.iter().any(|(id, _, _)| id == "RUSTSEC-2024-0436"),
        "{linux:?}"
    );
}

#[test]
fn lock_file_is_audited_and_namesakes_are_not_matched() {
    let lock = repo_root().join("sample-binaries/fixture/Cargo.lock");
    let (code, doc) = Scan::new()
        .offline()
        .args(["--no-yanked"])
        .arg(&lock)
        .json();
    assert_eq!(code, 1);
    assert_eq!(doc["inputs"][0]["kind"], "lockfile");
    let ids: Vec<String> = findings(&doc, &lock).into_iter().map(|f| f.0).collect();
    assert!(ids.contains(&"RUSTSEC-2021-0003".to_owned()), "{ids:?}");
    assert!(
        !ids.contains(&"RUSTSEC-2020-0071".to_owned()),
        "the local `time` is not the crates.io one: {ids:?}"
    );
}

#[test]
fn osv_layout_gives_the_same_findings_plus_osv_only_records() {
    let rustsec = {
        let (_, doc) = Scan::new()
            .offline()
            .args(["--no-yanked"])
            .arg(sample("x86_64-linux-gnu"))
            .json();
        findings(&doc, &sample("x86_64-linux-gnu"))
    };
    let (_, doc) = Scan::new()
        .args(["--db"])
        .arg(small_db().join("osv"))
        .args(["--offline", "--no-stale-warning", "--no-yanked"])
        .arg(sample("x86_64-linux-gnu"))
        .json();
    let osv = findings(&doc, &sample("x86_64-linux-gnu"));
    let extra: Vec<_> = osv
        .iter()
        .filter(|f| !rustsec.contains(f))
        .map(|f| f.0.as_str())
        .collect();
    let missing: Vec<_> = rustsec.iter().filter(|f| !osv.contains(f)).collect();
    assert!(missing.is_empty(), "{missing:?}");
    assert!(
        extra.iter().all(|id| *id == "GHSA-fx7r-2q9m-c4wp"),
        "{extra:?}"
    );
    assert!(
        !extra.is_empty(),
        "the OSV-only record matches libc 0.2.191 and autocfg 1.4.0"
    );
}

#[test]
fn every_format_is_well_formed() {
    for (format, check) in [
        ("json", "\"schema\": \"binaudit-audit/1\""),
        ("sarif", "\"version\": \"2.1.0\""),
        ("cyclonedx", "\"specVersion\": \"1.5\""),
    ] {
        let (code, out, err) = Scan::new()
            .offline()
            .args(["--no-yanked", "--format", format])
            .arg(sample("x86_64-linux-gnu"))
            .run();
        assert_eq!(code, 1, "{format}: {err}");
        serde_json::from_str::<serde_json::Value>(&out).unwrap_or_else(|e| panic!("{format}: {e}"));
        assert!(out.contains(check), "{format}");
    }
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let (_, plain, _) = Scan::new()
        .offline()
        .args(["--no-yanked"])
        .arg(sample("x86_64-linux-gnu"))
        .run();
    assert!(!plain.contains('\u{1b}'), "not a terminal: no colour");
    let (_, coloured, _) = Scan::new()
        .offline()
        .args(["--no-yanked", "--color", "always"])
        .arg(sample("x86_64-linux-gnu"))
        .run();
    assert!(coloured.contains('\u{1b}'));
}

#[test]
fn stale_database_warns_unless_silenced() {
    let (_, _, err) = Scan::new()
        .args(["--db"])
        .arg(small_db())
        .args(["--offline", "--no-yanked"])
        .arg(sample("x86_64-linux-gnu"))
        .run();
    assert!(err.contains("more than 90 days ago"), "{err}");
    let (_, _, err) = Scan::new()
        .offline()
        .args(["--no-yanked"])
        .arg(sample("x86_64-linux-gnu"))
        .run();
    assert!(!err.contains("90 days"), "{err}");
}

#[test]
fn offline_without_a_database_is_a_clear_error() {
    let (code, _, err) = Scan::new()
        .args(["--offline"])
        .arg(sample("x86_64-linux-gnu"))
        .run();
    assert_eq!(code, 2);
    assert!(
        err.contains("no advisory database") && err.contains("binaudit db fetch"),
        "{err}"
    );
}

#[test]
fn default_target_is_cargo_home_bin() {
    let scan = Scan::new().offline().args(["--no-yanked"]);
    let bin = scan.dir.path().join("cargo-home/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(sample("aarch64-linux-gnu"), bin.join("tool")).unwrap();
    let (code, out, _) = scan.run();
    assert_eq!(code, 1);
    assert!(out.contains("cargo-home/bin/tool"), "{out}");
}

#[test]
fn yanked_crates_from_a_sparse_index_on_loopback() {
    // An index where smallvec 1.6.0 is yanked.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("sm/al")).unwrap();
    std::fs::write(dir.path().join("sm/al/smallvec"), "{\"name\":\"smallvec\",\"vers\":\"1.6.0\",\"deps\":[],\"cksum\":\"00\",\"features\":{},\"yanked\":true}\n").unwrap();
    let server = StaticServer::start(dir.path());
    let scan = || {
        Scan::new()
            .args(["--db"])
            .arg(small_db())
            .args([
                "--no-fetch",
                "--no-stale-warning",
                "--ignore",
                "RUSTSEC-2021-0003",
                "--index-url",
                &server.url(),
            ])
            .arg(sample("x86_64-linux-gnu"))
    };
    let (code, out, _) = scan().run();
    assert_eq!(code, 0, "yanked is a warning by default: {out}");
    assert!(out.lines().last().unwrap().contains("1 yanked"), "{out}");
    assert!(
        server
            .requests()
            .contains(&"GET /sm/al/smallvec".to_owned()),
        "{:?}",
        server.requests()
    );
    assert_eq!(scan().args(["--deny", "yanked"]).run().0, 1);
    let (_, doc) = scan().json();
    let pkgs = doc["inputs"][0]["units"][0]["packages"].as_array().unwrap();
    let smallvec = pkgs.iter().find(|p| p["name"] == "smallvec").unwrap();
    assert_eq!(smallvec["yanked"], true);
}

#[test]
fn build_warns_in_one_line_and_deny_fails_it() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("app");
    copy_tree(&repo_root().join("tests/fixtures/vendored-app"), &ws);
    let build = |extra: &[&str]| {
        let mut cmd = binaudit();
        cmd.arg("build")
            .arg("--db")
            .arg(small_db())
            .args(extra)
            .arg("--offline")
            .current_dir(&ws);
        cmd.env("XDG_CACHE_HOME", dir.path().join("cache"))
            .env("CARGO_HOME", dir.path().join("cargo-home"));
        clean_env(&mut cmd);
        run(&mut cmd)
    };
    let (code, _, err) = build(&[]);
    assert_eq!(code, 0, "{err}");
    let line = err
        .lines()
        .find(|l| l.contains("vulnerable"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        line.starts_with("warning: 1 vulnerable crate in "),
        "{line}"
    );
    assert!(
        line.contains("target/debug/vendored-app: smallvec (RUSTSEC-2021-0003)")
            && line.contains("run binaudit scan"),
        "{line}"
    );
    // Nothing is rebuilt the second time; what was built is still audited, and denied.
    let (code, _, err) = build(&["--deny", "vulnerabilities"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("error: 1 vulnerable crate"), "{err}");
    let (code, _, err) = build(&["--no-audit"]);
    assert_eq!(code, 0);
    assert!(!err.contains("vulnerable"), "{err}");
}
