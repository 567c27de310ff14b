//! Scanning what is deployed, end to end through the CLI: directories, `$CARGO_HOME/bin` with
//! cargo's install records, binaries without a manifest (panic-path fallback), non-Rust
//! executables, and running processes.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

fn small_db() -> PathBuf {
    repo_root().join("tests/fixtures/advisory-db-small")
}

fn sample(name: &str) -> PathBuf {
    samples_dir().join(name)
}

/// `binaudit scan --format json` offline against the small database, with private caches.
fn scan_json(dir: &Path, args: &[&std::ffi::OsStr]) -> (i32, serde_json::Value, String) {
    let (code, out, err) = run(binaudit()
        .args([
            "scan",
            "--format",
            "json",
            "--offline",
            "--no-yanked",
            "--no-stale-warning",
            "--db",
        ])
        .arg(small_db())
        .args(args)
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env("CARGO_HOME", dir.join("cargo-home"))
        .current_dir(dir));
    let doc = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    (code, doc, err)
}

fn inputs(doc: &serde_json::Value) -> Vec<serde_json::Value> {
    doc["inputs"].as_array().unwrap().clone()
}

fn ids(input: &serde_json::Value) -> Vec<String> {
    let mut ids: Vec<String> = input["units"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|u| {
            u["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["id"].as_str().unwrap().to_owned())
        })
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

#[test]
fn a_directory_is_walked_and_only_binaries_are_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join("a/b")).unwrap();
    std::fs::copy(sample("x86_64-linux-gnu"), tree.join("a/app")).unwrap();
    std::fs::copy(
        sample("wasm32-unknown-unknown.wasm"),
        tree.join("a/b/mod.wasm"),
    )
    .unwrap();
    std::fs::write(tree.join("a/notes.txt"), "not a binary").unwrap();
    std::fs::write(tree.join("empty"), "").unwrap();
    let fifo = tree.join("a/fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let (code, doc, err) = scan_json(dir.path(), &[tree.as_os_str()]);
    assert_eq!(code, 1, "{err}");
    let mut paths: Vec<String> = inputs(&doc)
        .iter()
        .map(|i| i["path"].as_str().unwrap().to_owned())
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            tree.join("a/app").display().to_string(),
            tree.join("a/b/mod.wasm").display().to_string()
        ]
    );
    for input in inputs(&doc) {
        assert!(
            ids(&input).contains(&"RUSTSEC-2021-0003".to_owned()),
            "{input}"
        );
    }
}

#[test]
fn a_binary_without_manifest_is_recovered_and_marked_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let no_manifest = sample("x86_64-linux-gnu-no-manifest");
    let (code, doc, _) = scan_json(dir.path(), &[no_manifest.as_os_str()]);
    assert_eq!(
        code, 1,
        "smallvec 1.6.0 is recovered from its panic paths, and vulnerable"
    );
    let unit = &inputs(&doc)[0]["units"][0];
    assert_eq!(unit["completeness"], "recovered");
    assert!(ids(&inputs(&doc)[0]).contains(&"RUSTSEC-2021-0003".to_owned()));

    // Without the fallback nothing is known: incomplete, not an error, not clean.
    let (code, doc, _) = scan_json(
        dir.path(),
        &[
            std::ffi::OsStr::new("--no-fallback"),
            no_manifest.as_os_str(),
        ],
    );
    assert_eq!(code, 0);
    assert_eq!(inputs(&doc)[0]["units"][0]["completeness"], "none");
    assert_eq!(doc["summary"]["incomplete"], 1, "{}", doc["summary"]);

    let (code, _, _) = scan_json(
        dir.path(),
        &[
            std::ffi::OsStr::new("--no-fallback"),
            std::ffi::OsStr::new("--deny"),
            std::ffi::OsStr::new("incomplete"),
            no_manifest.as_os_str(),
        ],
    );
    assert_eq!(code, 1, "--deny incomplete fails on it");
}

#[test]
fn the_terminal_says_incomplete_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let (_, out, _) = run(binaudit()
        .args([
            "scan",
            "--offline",
            "--no-yanked",
            "--no-stale-warning",
            "--db",
        ])
        .arg(small_db())
        .arg(sample("x86_64-linux-gnu-no-manifest"))
        .env("XDG_CACHE_HOME", dir.path().join("cache")));
    assert!(out.contains("recovered (incomplete)"), "{out}");
    assert!(out.lines().last().unwrap().contains("incomplete"), "{out}");
}

#[test]
fn non_rust_executables_are_counted_not_errors() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("bin");
    std::fs::create_dir_all(&tree).unwrap();
    // A C program: the C compiler is on every machine that builds this project.
    let c = dir.path().join("hello.c");
    std::fs::write(&c, "int main(void) { return 0; }\n").unwrap();
    assert!(Command::new("cc")
        .arg("-o")
        .arg(tree.join("hello"))
        .arg(&c)
        .status()
        .unwrap()
        .success());
    std::fs::copy(sample("aarch64-linux-gnu"), tree.join("rusty")).unwrap();
    let (code, doc, _) = scan_json(dir.path(), &[tree.as_os_str()]);
    assert_eq!(code, 1, "the Rust one has a vulnerability");
    assert_eq!(doc["summary"]["not_rust"], 1, "{}", doc["summary"]);
    let c_input = inputs(&doc)
        .into_iter()
        .find(|i| i["path"].as_str().unwrap().ends_with("/hello"))
        .unwrap();
    assert_eq!(c_input["status"], "not-rust");
}

#[test]
fn cargo_home_bin_is_the_default_with_install_records() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("cargo-home");
    std::fs::create_dir_all(home.join("bin")).unwrap();
    std::fs::copy(
        sample("x86_64-linux-gnu-no-manifest"),
        home.join("bin/binaudit-fixture"),
    )
    .unwrap();
    std::fs::copy(sample("x86_64-linux-gnu"), home.join("bin/other")).unwrap();
    std::fs::write(
        home.join(".crates2.json"),
        r#"{"installs":{"binaudit-fixture 0.1.0 (registry+https://github.com/rust-lang/crates.io-index)":{"version_req":null,"bins":["binaudit-fixture"],"features":[],"all_features":false,"no_default_features":false,"profile":"release","target":"x86_64-unknown-linux-gnu","rustc":"rustc 1.95.0"}}}"#,
    )
    .unwrap();
    let (code, doc, _) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let installed = inputs(&doc)
        .into_iter()
        .find(|i| i["path"].as_str().unwrap().ends_with("binaudit-fixture"))
        .unwrap();
    assert_eq!(installed["origin"]["type"], "installed", "{installed}");
    assert_eq!(installed["origin"]["name"], "binaudit-fixture");
    assert!(
        installed["origin"]["upgrade"]
            .as_str()
            .unwrap()
            .contains("install --locked binaudit-fixture"),
        "{installed}"
    );
    let unit = &installed["units"][0];
    assert_eq!(unit["completeness"], "recovered");
    let root = unit["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["root"] == true)
        .unwrap()
        .clone();
    assert_eq!(
        root["name"], "binaudit-fixture",
        "the install record names the root crate"
    );
}

#[test]
#[cfg(target_os = "linux")]
fn running_processes_are_audited_and_a_replaced_binary_is_said() {
    // A long-running Rust program with a manifest: the fixture workspace's `sleeper`.
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    copy_tree(&repo_root().join("tests/fixtures/app-workspace"), &ws);
    let mut build = binaudit();
    build
        .args([
            "build",
            "--no-audit",
            "--release",
            "--offline",
            "-p",
            "sleeper",
        ])
        .current_dir(&ws);
    clean_env(&mut build);
    let (code, _, err) = run(&mut build);
    assert_eq!(code, 0, "{err}");
    let exe = dir.path().join("sleeper-copy");
    std::fs::copy(ws.join("target/release/sleeper"), &exe).unwrap();
    let child = Command::new(&exe).arg("60").spawn().unwrap();
    let guard = KillOnDrop(child);
    // Replace the file on disk while it runs: the process keeps the old code.
    std::fs::remove_file(&exe).unwrap();
    std::fs::write(&exe, b"#!/bin/sh\n").unwrap();

    let (_, doc, err) = scan_json(dir.path(), &[std::ffi::OsStr::new("--processes")]);
    let pid = guard.0.id();
    let ours = inputs(&doc)
        .into_iter()
        .find(|i| {
            i["origin"]["type"] == "processes"
                && i["origin"]["processes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["pid"] == pid)
        })
        .unwrap_or_else(|| panic!("pid {pid} not found: {err}"));
    let proc_ = ours["origin"]["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pid"] == pid)
        .unwrap()
        .clone();
    assert!(
        proc_["cmdline"]
            .as_str()
            .unwrap()
            .ends_with("sleeper-copy 60"),
        "{proc_}"
    );
    assert_eq!(proc_["changed"], "replaced on disk", "{proc_}");
    assert_eq!(
        ours["units"][0]["completeness"], "complete",
        "the running code is read, not the new file"
    );
    let names: Vec<&str> = ours["units"][0]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["shared", "sleeper"]);
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The progress line appears on a terminal only: under a pseudo-terminal (`script`) it is
/// drawn, through a pipe it is not.
#[test]
fn progress_only_on_a_terminal() {
    if !require_tool("script", &["--version"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    for i in 0..200 {
        std::fs::copy(sample("x86_64-linux-gnu"), tree.join(format!("app{i}"))).unwrap();
    }
    let scan = format!(
        "{} scan --offline --no-yanked --no-stale-warning --db {} {} >/dev/null",
        env!("CARGO_BIN_EXE_binaudit"),
        small_db().display(),
        tree.display()
    );
    let (_, tty_out, _) = run(Command::new("script")
        .args(["-qec", &scan, "/dev/null"])
        .env("XDG_CACHE_HOME", dir.path().join("cache")));
    assert!(
        tty_out.contains("scanning:") && tty_out.contains("binaries"),
        "{tty_out:?}"
    );
    let (_, _, piped_err) = run(Command::new("sh")
        .args(["-c", &scan])
        .env("XDG_CACHE_HOME", dir.path().join("cache")));
    assert!(!piped_err.contains("scanning:"), "{piped_err}");
}
