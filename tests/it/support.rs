//! Shared helpers for the integration tests: paths, running our binaries, external tools.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn samples_dir() -> PathBuf {
    repo_root().join("sample-binaries")
}

pub fn binaudit() -> Command {
    Command::new(env!("CARGO_BIN_EXE_binaudit"))
}

pub fn cargo_binaudit() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cargo-binaudit"))
}

/// Runs a command and returns (exit code, stdout, stderr) with a readable panic on spawn failure.
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let out: Output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn run_bytes(cmd: &mut Command) -> (i32, Vec<u8>, String) {
    let out: Output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Whether an external program can be run. In CI (`CI` set) a missing tool fails the test:
/// `.ci/run` installs every tool the suite uses, so absence there is a bug. Elsewhere the test
/// is skipped with a message naming the tool and how to get it.
pub fn require_tool(program: &str, probe_args: &[&str]) -> bool {
    // Whether it can be started at all: some tools exit non-zero for `--help`.
    let ok = Command::new(program).args(probe_args).output().is_ok();
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("`{program}` is required in CI but is not installed (.ci/run installs it)");
        }
        eprintln!("skipped: `{program}` is not installed; `bash .ci/install` installs it");
    }
    ok
}

/// Whether the rust standard library for `triple` is installed (`rustup target add`).
pub fn require_target(triple: &str) -> bool {
    let libdir = Command::new("rustc")
        .args(["--print", "target-libdir", "--target", triple])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let ok = libdir.is_some_and(|dir| {
        std::fs::read_dir(dir).is_ok_and(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("libcore-"))
        })
    });
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("the Rust target {triple} is required in CI but not installed (.ci/install adds it)");
        }
        eprintln!("skipped: Rust target {triple} is not installed; `rustup target add {triple}`");
    }
    ok
}

/// Copies a directory tree (fixtures are small), skipping `target/`.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" {
            continue;
        }
        let dest = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// A private copy of `tests/fixtures/<name>` (deleted with the returned directory), so tests
/// that build in it can run in parallel.
pub fn fixture_copy(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join(name);
    copy_tree(&repo_root().join("tests/fixtures").join(name), &root);
    (dir, root)
}

/// The embedded JSON of a file as our reader sees it (`binaudit show --raw`).
pub fn raw_manifest(path: &Path, arch: Option<&str>) -> Vec<u8> {
    let mut cmd = binaudit();
    cmd.args(["show", "--raw"]).arg(path);
    if let Some(a) = arch {
        cmd.args(["--arch", a]);
    }
    let (code, out, err) = run_bytes(&mut cmd);
    assert_eq!(
        code,
        0,
        "binaudit show --raw {} failed: {err}",
        path.display()
    );
    out
}

/// Compares `actual` with the golden file `tests/snapshots/{file}`, or rewrites the file when
/// `BINAUDIT_UPDATE_SNAPSHOTS` is set.
pub fn check_snapshot(file: &str, actual: &str) {
    let path: PathBuf = repo_root().join("tests/snapshots").join(file);
    if std::env::var_os("BINAUDIT_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with BINAUDIT_UPDATE_SNAPSHOTS=1 to create it",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{} differs (BINAUDIT_UPDATE_SNAPSHOTS=1 updates it):\n{}",
        path.display(),
        first_difference(&expected, actual)
    );
}

fn first_difference(a: &str, b: &str) -> String {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}:\n- {x}\n+ {y}", i + 1);
        }
    }
    format!(
        "lengths differ: {} vs {} lines",
        a.lines().count(),
        b.lines().count()
    )
}

/// Whether a Python module can be imported (`python3 -c "import …"`), with [`require_tool`]'s
/// rule: missing in CI fails, elsewhere skips naming the pip package that provides it.
pub fn require_python_module(module: &str, pip_package: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("the Python module `{module}` is required in CI but is not installed (.ci/install installs {pip_package})");
        }
        eprintln!("skipped: the Python module `{module}` is not installed; `python3 -m pip install '{pip_package}'`");
    }
    ok
}

/// Keeps the outer `cargo test` environment from leaking into a cargo a test starts.
pub fn clean_env(cmd: &mut Command) {
    for var in [
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTFLAGS",
    ] {
        cmd.env_remove(var);
    }
}
