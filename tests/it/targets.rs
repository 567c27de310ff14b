//! `binaudit::targets`: the directory walk, cargo's install records and running processes,
//! through the library API (the CLI over them is tested in `deployed.rs`).

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use binaudit::targets::cargo_install::{InstallRecords, InstallRecordsError};
use binaudit::targets::process::{list_processes, BinaryState, ProcessBinary};
use binaudit::targets::walk::{walk, WalkItem, WalkOptions, WalkSummary};

use crate::support::*;

// ---------------------------------------------------------------------------------------------
// Directories

fn opts(follow_links: bool, threads: usize) -> WalkOptions {
    WalkOptions {
        follow_links,
        threads,
    }
}

/// Walks on another thread and fails the test if the walk does not finish within 10 s (as it
/// would not if it opened a FIFO without a writer).
fn walk_with_timeout(roots: &[PathBuf], opts: &WalkOptions) -> (Vec<WalkItem>, WalkSummary) {
    let (tx, rx) = mpsc::channel();
    let roots = roots.to_vec();
    let opts = opts.clone();
    std::thread::spawn(move || {
        let items = Mutex::new(Vec::new());
        let summary = walk(&roots, &opts, &|item| items.lock().unwrap().push(item));
        let mut items = items.into_inner().unwrap();
        items.sort();
        let _ = tx.send((items, summary));
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the walk did not finish in 10 s: did it open a FIFO?")
}

fn binary(path: PathBuf) -> WalkItem {
    WalkItem::Binary(path)
}

fn errors(items: &[WalkItem]) -> Vec<(PathBuf, String)> {
    items
        .iter()
        .filter_map(|i| match i {
            WalkItem::Error { path, reason } => Some((path.clone(), reason.clone())),
            WalkItem::Binary(_) => None,
        })
        .collect()
}

fn binaries(items: &[WalkItem]) -> Vec<WalkItem> {
    items
        .iter()
        .filter(|i| matches!(i, WalkItem::Binary(_)))
        .cloned()
        .collect()
}

/// A tree with every kind of thing a walk meets. Returns the root; the socket's listener is
/// kept alive by the caller.
fn build_tree(root: &Path) -> std::os::unix::net::UnixListener {
    let s = samples_dir();
    for d in ["bin", "nested/a/b/c", "docs", "special", "links", "cycle"] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    fs::copy(s.join("x86_64-linux-gnu"), root.join("bin/app")).unwrap();
    fs::copy(s.join("x86_64-linux-gnu.so"), root.join("bin/lib.so")).unwrap();
    fs::copy(s.join("x86_64-windows-gnu.exe"), root.join("bin/tool.exe")).unwrap();
    fs::copy(
        s.join("wasm32-unknown-unknown.wasm"),
        root.join("nested/a/b/c/mod.wasm"),
    )
    .unwrap();
    fs::copy(s.join("x86_64-macos"), root.join("nested/a/b/c/mac")).unwrap();
    fs::copy(
        s.join("universal2-macos"),
        root.join("nested/a/b/universal"),
    )
    .unwrap();
    fs::write(root.join("docs/readme.txt"), "not a binary\n").unwrap();
    fs::write(root.join("docs/empty"), "").unwrap();
    fs::copy(s.join("README.md"), root.join("docs/README.md")).unwrap();
    fs::copy(s.join("build.sh"), root.join("docs/build.sh")).unwrap();
    let fifo = root.join("special/fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let listener = std::os::unix::net::UnixListener::bind(root.join("special/sock")).unwrap();
    symlink("../bin/app", root.join("links/app-link")).unwrap();
    symlink("../nested", root.join("links/dir-link")).unwrap();
    symlink("b", root.join("links/a")).unwrap();
    symlink("a", root.join("links/b")).unwrap();
    symlink("missing", root.join("links/dangling")).unwrap();
    symlink("..", root.join("cycle/up")).unwrap();
    listener
}

fn own_binaries(root: &Path) -> Vec<WalkItem> {
    let mut v: Vec<WalkItem> = [
        "bin/app",
        "bin/lib.so",
        "bin/tool.exe",
        "nested/a/b/c/mac",
        "nested/a/b/c/mod.wasm",
        "nested/a/b/universal",
    ]
    .iter()
    .map(|p| binary(root.join(p)))
    .collect();
    v.sort();
    v
}

#[test]
fn a_tree_is_walked_without_opening_fifos_or_sockets_or_following_links() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    let _listener = build_tree(&root);
    for threads in [1, 4] {
        let (items, summary) =
            walk_with_timeout(std::slice::from_ref(&root), &opts(false, threads));
        assert_eq!(items, own_binaries(&root), "{threads} threads");
        assert_eq!(
            summary,
            WalkSummary {
                // 6 binaries and 4 other files; the FIFO and the socket are not files read.
                files: 10,
                binaries: 6,
                not_binaries: 4,
                special: 2,
                // app-link, dir-link, a, b, dangling, cycle/up.
                links_skipped: 6,
                loops: 0,
                errors: 0,
                pseudo_filesystems: 0,
            },
            "{threads} threads"
        );
    }
}

#[test]
fn following_links_finds_linked_binaries_and_reports_each_loop_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    let _listener = build_tree(&root);
    for threads in [1, 4] {
        let (items, summary) = walk_with_timeout(std::slice::from_ref(&root), &opts(true, threads));
        let mut expected = own_binaries(&root);
        expected.push(binary(root.join("links/app-link")));
        for p in ["a/b/c/mac", "a/b/c/mod.wasm", "a/b/universal"] {
            expected.push(binary(root.join("links/dir-link").join(p)));
        }
        expected.sort();
        assert_eq!(binaries(&items), expected, "{threads} threads");

        let errs = errors(&items);
        let paths: Vec<&Path> = errs.iter().map(|(p, _)| p.as_path()).collect();
        assert_eq!(
            paths,
            [
                root.join("cycle/up"),
                root.join("links/a"),
                root.join("links/b")
            ],
            "{errs:?}"
        );
        for (path, reason) in &errs {
            assert!(
                reason.starts_with("symbolic link loop"),
                "{}: {reason}",
                path.display()
            );
        }
        assert!(
            errs[0].1.contains(&root.display().to_string()),
            "names the ancestor: {}",
            errs[0].1
        );
        assert_eq!(
            summary,
            WalkSummary {
                files: 14,
                binaries: 10,
                not_binaries: 4,
                special: 2,
                // Only the dangling link: there is nothing behind it.
                links_skipped: 1,
                loops: 3,
                errors: 0,
                pseudo_filesystems: 0,
            },
            "{threads} threads"
        );
    }
}

#[test]
fn roots_may_be_files_links_devices_or_missing() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app");
    fs::copy(samples_dir().join("x86_64-linux-gnu"), &app).unwrap();
    let text = dir.path().join("notes.txt");
    fs::write(&text, "hello").unwrap();
    let sub = dir.path().join("sub");
    fs::create_dir(&sub).unwrap();
    fs::copy(samples_dir().join("aarch64-linux-gnu"), sub.join("arm")).unwrap();
    let sub_link = dir.path().join("sub-link");
    symlink(&sub, &sub_link).unwrap();
    let missing = dir.path().join("missing");

    let roots = [
        app.clone(),
        text,
        sub_link.clone(),
        PathBuf::from("/dev/null"),
        missing.clone(),
    ];
    let (items, summary) = walk_with_timeout(&roots, &opts(false, 2));
    // A root that is a link is followed even without `follow_links`: the user named it.
    assert_eq!(
        binaries(&items),
        [binary(app), binary(sub_link.join("arm"))]
    );
    let errs = errors(&items);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].0, missing);
    assert!(errs[0].1.starts_with("cannot open:"), "{}", errs[0].1);
    assert_eq!(
        (summary.files, summary.binaries, summary.not_binaries),
        (3, 2, 1)
    );
    assert_eq!((summary.special, summary.errors), (1, 1));
}

#[test]
fn only_the_magic_bytes_decide() {
    let dir = tempfile::tempdir().unwrap();
    // Four bytes of ELF magic and nothing else: the walk does not parse, `scan` does.
    fs::write(dir.path().join("elf-magic-only"), b"\x7fELF").unwrap();
    // An executable script is not a binary, whatever its mode says.
    let script = dir.path().join("script");
    fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let (items, summary) = walk_with_timeout(&[dir.path().to_owned()], &opts(false, 1));
    assert_eq!(items, [binary(dir.path().join("elf-magic-only"))]);
    assert_eq!((summary.binaries, summary.not_binaries), (1, 1));
}

/// Restores permissions so the temporary directory can be removed, even if the test fails.
struct Unlock(Vec<PathBuf>);

impl Drop for Unlock {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = fs::set_permissions(p, fs::Permissions::from_mode(0o755));
        }
    }
}

/// A tree with an unreadable directory and an unreadable file next to a readable binary.
fn build_locked_tree(root: &Path) -> Unlock {
    fs::create_dir_all(root.join("locked-dir")).unwrap();
    fs::create_dir_all(root.join("open")).unwrap();
    fs::copy(
        samples_dir().join("x86_64-linux-gnu"),
        root.join("open/app"),
    )
    .unwrap();
    fs::copy(
        samples_dir().join("x86_64-linux-gnu"),
        root.join("locked-dir/hidden"),
    )
    .unwrap();
    fs::copy(
        samples_dir().join("x86_64-linux-gnu"),
        root.join("locked-file"),
    )
    .unwrap();
    for p in ["locked-dir", "locked-file"] {
        fs::set_permissions(root.join(p), fs::Permissions::from_mode(0o000)).unwrap();
    }
    Unlock(vec![root.join("locked-dir"), root.join("locked-file")])
}

fn check_locked_walk(root: &Path, items: &[WalkItem], summary: &WalkSummary) {
    assert_eq!(binaries(items), [binary(root.join("open/app"))]);
    let errs = errors(items);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert_eq!(errs[0].0, root.join("locked-dir"));
    assert!(
        errs[0].1.starts_with("cannot list directory:"),
        "{}",
        errs[0].1
    );
    assert_eq!(errs[1].0, root.join("locked-file"));
    assert!(errs[1].1.starts_with("cannot open:"), "{}", errs[1].1);
    for (_, reason) in &errs {
        assert!(reason.contains("ermission denied"), "{reason}");
    }
    assert_eq!((summary.errors, summary.binaries, summary.files), (2, 1, 2));
}

#[test]
fn permission_errors_are_reported_per_path_and_the_walk_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    let _unlock = build_locked_tree(&root);
    let privileged = fs::read_dir(root.join("locked-dir")).is_ok()
        || fs::File::open(root.join("locked-file")).is_ok();
    if !privileged {
        let (items, summary) = walk_with_timeout(std::slice::from_ref(&root), &opts(false, 2));
        return check_locked_walk(&root, &items, &summary);
    }
    // Root reads everything: walk as `nobody` instead, in a child run of this test binary.
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let child = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "targets::walk_as_child",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ROOT, &root)
        .output();
    let out = match child {
        Ok(out) if out.status.success() => out,
        other => {
            eprintln!(
                "skipped: running with privileges that read unreadable files, and the walk could not be \
                 rerun as an unprivileged user with setpriv: {other:?}"
            );
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The harness prints the test's name on the same line, before the result.
    let line = stdout
        .split_once("WALK-RESULT ")
        .and_then(|(_, rest)| rest.lines().next())
        .unwrap_or_else(|| panic!("no result from the child walk: {stdout}"));
    let (items, summary) = decode_walk(line);
    check_locked_walk(&root, &items, &summary);
}

const CHILD_ROOT: &str = "BINAUDIT_TEST_WALK_CHILD_ROOT";

/// Run only by the test above, as another user: walks the tree it names and prints the result.
#[test]
#[ignore = "run by permission_errors_are_reported_per_path_and_the_walk_goes_on as an unprivileged user"]
fn walk_as_child() {
    let Some(root) = std::env::var_os(CHILD_ROOT) else {
        return;
    };
    let (items, summary) = walk_with_timeout(&[PathBuf::from(root)], &opts(false, 2));
    println!("WALK-RESULT {}", encode_walk(&items, &summary));
}

fn encode_walk(items: &[WalkItem], summary: &WalkSummary) -> String {
    let items: Vec<serde_json::Value> = items
        .iter()
        .map(|i| match i {
            WalkItem::Binary(p) => serde_json::json!({ "binary": p }),
            WalkItem::Error { path, reason } => {
                serde_json::json!({ "error": path, "reason": reason })
            }
        })
        .collect();
    let counts = [
        summary.files,
        summary.binaries,
        summary.not_binaries,
        summary.special,
    ];
    let more = [summary.links_skipped, summary.loops, summary.errors];
    serde_json::json!({ "items": items, "counts": counts, "more": more }).to_string()
}

fn decode_walk(line: &str) -> (Vec<WalkItem>, WalkSummary) {
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    let path = |v: &serde_json::Value| PathBuf::from(v.as_str().unwrap());
    let items = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| match i.get("binary") {
            Some(p) => WalkItem::Binary(path(p)),
            None => WalkItem::Error {
                path: path(&i["error"]),
                reason: i["reason"].as_str().unwrap().to_owned(),
            },
        })
        .collect();
    let n = |k: &str, i: usize| v[k][i].as_u64().unwrap();
    let summary = WalkSummary {
        files: n("counts", 0),
        binaries: n("counts", 1),
        not_binaries: n("counts", 2),
        special: n("counts", 3),
        links_skipped: n("more", 0),
        loops: n("more", 1),
        errors: n("more", 2),
        pseudo_filesystems: 0,
    };
    (items, summary)
}

// ---------------------------------------------------------------------------------------------
// cargo's install records

const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";

/// `.crates2.json` as cargo 1.95 writes it (the shape of a real `~/.cargo/.crates2.json`), with
/// git, path, alternate-registry and Windows entries added.
fn crates2_json() -> String {
    let rustc =
        "rustc 1.95.0 (59807616e 2026-04-14)\nbinary: rustc\nhost: x86_64-unknown-linux-gnu\n";
    let entry = |bins: &[&str]| {
        serde_json::json!({
            "version_req": null, "bins": bins, "features": [], "all_features": false,
            "no_default_features": false, "profile": "release",
            "target": "x86_64-unknown-linux-gnu", "rustc": rustc,
        })
    };
    let mut installs = serde_json::Map::new();
    installs.insert(
        format!("cargo-audit 0.22.2 ({CRATES_IO})"),
        entry(&["cargo-audit"]),
    );
    installs.insert(format!("ripgrep 14.1.0 ({CRATES_IO})"), entry(&["rg"]));
    installs.insert(
        "tool 0.3.0 (git+https://github.com/example/tool?branch=next#0123456789abcdef0123456789abcdef01234567)".into(),
        entry(&["tool", "tool-helper"]),
    );
    installs.insert(
        "pinned 1.0.0 (git+https://github.com/example/pinned?rev=abc123#abc1234567890abc1234567890abc1234567890)".into(),
        entry(&["pinned"]),
    );
    installs.insert(
        "mine 0.1.0 (path+file:///home/me/src/my%20tool)".into(),
        entry(&["mine"]),
    );
    installs.insert(
        "private 2.0.0 (sparse+https://crates.example.com/index/)".into(),
        entry(&["private"]),
    );
    installs.insert(
        format!("winapp 1.2.3 ({CRATES_IO})"),
        entry(&["winapp.exe"]),
    );
    // A newer version than `.crates.toml` records: an older cargo reinstalled since.
    installs.insert(format!("fd-find 10.0.0 ({CRATES_IO})"), entry(&["fd"]));
    serde_json::json!({ "installs": installs }).to_string()
}

/// `.crates.toml` as cargo writes it: `[v1]`, package id = [bins].
fn crates_toml() -> String {
    format!(
        "[v1]\n\"cargo-audit 0.22.2 ({CRATES_IO})\" = [\"cargo-audit\"]\n\
         \"ripgrep 14.1.0 ({CRATES_IO})\" = [\"rg\"]\n\
         \"fd-find 9.0.0 ({CRATES_IO})\" = [\"fd\"]\n\
         \"old-only 0.1.0 ({CRATES_IO})\" = [\"old-only\"]\n"
    )
}

#[test]
fn install_records_name_the_crate_of_each_binary() {
    let home = tempfile::tempdir().unwrap();
    fs::write(home.path().join(".crates2.json"), crates2_json()).unwrap();
    fs::write(home.path().join(".crates.toml"), crates_toml()).unwrap();
    let records = InstallRecords::load(home.path()).unwrap();

    let audit = records.for_binary("cargo-audit").unwrap();
    assert_eq!(audit.name, "cargo-audit");
    assert_eq!(audit.version, semver::Version::new(0, 22, 2));
    assert_eq!(audit.source, CRATES_IO);
    assert!(audit.crates_io);
    // With and without `.exe`, both ways round.
    assert_eq!(records.for_binary("rg.exe").unwrap().name, "ripgrep");
    assert_eq!(records.for_binary("winapp").unwrap().name, "winapp");
    assert_eq!(records.for_binary("winapp.exe").unwrap().name, "winapp");
    assert_eq!(records.for_binary("tool-helper").unwrap().name, "tool");
    assert!(records.for_binary("unknown").is_none());
    assert!(records.for_binary(".exe").is_none());
    // Where the files disagree, `.crates.toml` is the truth, as in cargo.
    assert_eq!(
        records.for_binary("fd").unwrap().version,
        semver::Version::new(9, 0, 0)
    );
    assert_eq!(records.for_binary("old-only").unwrap().name, "old-only");

    let tool = records.for_binary("tool").unwrap();
    assert!(!tool.crates_io);
    assert!(tool
        .source
        .starts_with("git+https://github.com/example/tool?branch=next#"));
    let private = records.for_binary("private").unwrap();
    assert!(!private.crates_io);

    let upgrade = |bin: &str| records.upgrade_command(records.for_binary(bin).unwrap());
    assert_eq!(upgrade("rg"), "cargo binaudit install --locked ripgrep");
    assert_eq!(
        upgrade("tool"),
        "cargo binaudit install --locked --git https://github.com/example/tool --branch next tool"
    );
    assert_eq!(
        upgrade("pinned"),
        "cargo binaudit install --locked --git https://github.com/example/pinned pinned"
    );
    assert_eq!(
        upgrade("mine"),
        "installed from a local path; rebuild it from there: cargo binaudit install --locked --path /home/me/src/my tool"
    );
    assert_eq!(
        upgrade("private"),
        "cargo binaudit install --locked --index sparse+https://crates.example.com/index/ private"
    );
}

#[test]
fn either_install_record_alone_is_enough_and_none_is_empty() {
    let v2 = tempfile::tempdir().unwrap();
    fs::write(v2.path().join(".crates2.json"), crates2_json()).unwrap();
    let records = InstallRecords::load(v2.path()).unwrap();
    assert_eq!(
        records.for_binary("fd").unwrap().version,
        semver::Version::new(10, 0, 0)
    );

    let v1 = tempfile::tempdir().unwrap();
    fs::write(v1.path().join(".crates.toml"), crates_toml()).unwrap();
    let records = InstallRecords::load(v1.path()).unwrap();
    assert_eq!(records.for_binary("rg").unwrap().name, "ripgrep");
    assert!(records.for_binary("tool").is_none());

    let none = tempfile::tempdir().unwrap();
    let records = InstallRecords::load(none.path()).unwrap();
    assert!(records.is_empty());
    assert!(records.for_binary("rg").is_none());
}

#[test]
fn malformed_install_records_are_errors_naming_the_file() {
    let cases: [(&str, &str, &str); 4] = [
        (".crates2.json", "{\"installs\": [", ".crates2.json"),
        (
            ".crates2.json",
            "{\"installs\": {\"ripgrep (registry+x)\": {\"bins\": [\"rg\"]}}}",
            "ripgrep (registry+x)",
        ),
        (".crates.toml", "[v1]\n\"rg 14.1.0\" = [", ".crates.toml"),
        (
            ".crates.toml",
            "[v1]\n\"ripgrep 14 (registry+x)\" = [\"rg\"]\n",
            "ripgrep 14 (registry+x)",
        ),
    ];
    for (file, text, named) in cases {
        let home = tempfile::tempdir().unwrap();
        fs::write(home.path().join(file), text).unwrap();
        let err = InstallRecords::load(home.path()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(file) && msg.contains(named), "{msg}");
        assert!(
            matches!(
                err,
                InstallRecordsError::Parse { .. } | InstallRecordsError::Key { .. }
            ),
            "{err:?}"
        );
    }
}

#[test]
fn this_machines_install_records_parse_when_there_are_any() {
    let Some(home) = binaudit::config::cargo_home() else {
        return;
    };
    if !home.join(".crates2.json").exists() && !home.join(".crates.toml").exists() {
        eprintln!("skipped: no install records in {}", home.display());
        return;
    }
    let records = InstallRecords::load(&home).unwrap();
    assert!(!records.is_empty(), "{}", home.display());
}

// ---------------------------------------------------------------------------------------------
// Running processes

/// Kills and reaps the children when dropped, also when an assertion failed.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts `program 30`, retrying while the kernel says the fresh copy is busy: another test's
/// fork may still hold the copy's write descriptor until it execs.
fn start_sleep(program: &Path, children: &mut Children) -> u32 {
    for _ in 0..50 {
        match Command::new(program).arg("30").spawn() {
            Ok(child) => {
                let pid = child.id();
                children.0.push(child);
                wait_for_arguments(pid);
                return pid;
            }
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => {
                std::thread::sleep(Duration::from_millis(100))
            }
            Err(e) => panic!("cannot start {}: {e}", program.display()),
        }
    }
    panic!("{} stayed busy", program.display());
}

/// `spawn` returns once the child's exec has begun, but the kernel publishes the new argument
/// vector a moment later; until then `/proc/<pid>/cmdline` reads empty.
fn wait_for_arguments(pid: u32) {
    for _ in 0..500 {
        if fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| !c.is_empty()) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("pid {pid} never showed its arguments");
}

fn find(pid: u32) -> ProcessBinary {
    let (procs, _errors) = list_processes().unwrap();
    procs
        .into_iter()
        .find(|p| p.pid == pid)
        .unwrap_or_else(|| panic!("pid {pid} is not listed"))
}

fn file_key(path: &Path) -> (u64, u64) {
    let m = fs::metadata(path).unwrap();
    (m.dev(), m.ino())
}

#[test]
fn running_processes_are_listed_with_deleted_and_replaced_binaries_said() {
    let sleep = Path::new("/bin/sleep");
    if !sleep.exists() {
        eprintln!("skipped: no /bin/sleep to run");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // The kernel names executables by their canonical path.
    let dir = fs::canonicalize(tmp.path()).unwrap();
    let mut children = Children(Vec::new());

    // Running, unchanged.
    let a = dir.join("sleep-a");
    fs::copy(sleep, &a).unwrap();
    let key_a = file_key(&a);
    let pid_a = start_sleep(&a, &mut children);
    let p = find(pid_a);
    assert_eq!(p.exe, a);
    assert_eq!(p.cmdline, format!("{} 30", a.display()));
    assert_eq!(p.state, BinaryState::Same);
    assert_eq!(p.key, key_a);
    assert_eq!(p.open_path, PathBuf::from(format!("/proc/{pid_a}/exe")));

    // Deleted while it runs: still listed, under its old path, and still readable.
    fs::remove_file(&a).unwrap();
    let p = find(pid_a);
    assert_eq!(p.state, BinaryState::Deleted);
    assert_eq!(p.exe, a);
    assert_eq!(p.key, key_a);
    assert_eq!(fs::read(&p.open_path).unwrap(), fs::read(sleep).unwrap());

    // Replaced by a rename over its path, as an upgrade does.
    let b = dir.join("sleep-b");
    fs::copy(sleep, &b).unwrap();
    let key_b = file_key(&b);
    let pid_b = start_sleep(&b, &mut children);
    let new = dir.join("sleep-b.new");
    fs::write(&new, "#!/bin/sh\necho upgraded\n").unwrap();
    fs::rename(&new, &b).unwrap();
    let p = find(pid_b);
    assert_eq!(p.state, BinaryState::Replaced);
    assert_eq!(p.exe, b);
    assert_eq!(p.key, key_b);
    // Opening the process's link reads the old binary, not the file now at the path.
    assert!(fs::read(&p.open_path).unwrap().starts_with(b"\x7fELF"));
    assert!(fs::read(&b).unwrap().starts_with(b"#!"));

    // This test process is there too, and kernel threads (no executable) are not.
    let (procs, _) = list_processes().unwrap();
    let me = procs.iter().find(|p| p.pid == std::process::id()).unwrap();
    assert_eq!(
        me.exe,
        fs::canonicalize(std::env::current_exe().unwrap()).unwrap()
    );
    assert_eq!(me.state, BinaryState::Same);
    assert!(
        procs.windows(2).all(|w| w[0].pid < w[1].pid),
        "sorted by pid"
    );
    if let Some(kthreadd) = fs::read_to_string("/proc/2/comm")
        .ok()
        .filter(|c| c.trim() == "kthreadd")
    {
        assert!(!procs.iter().any(|p| p.pid == 2), "{kthreadd}");
    }
}
