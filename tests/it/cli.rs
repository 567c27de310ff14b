//! `binaudit show` as a user runs it: stdout, stderr and exit codes.

use std::path::PathBuf;

use crate::support::*;

fn sample(name: &str) -> PathBuf {
    samples_dir().join(name)
}

fn show(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    run(binaudit().arg("show").args(args))
}

fn os(p: &std::path::Path) -> &std::ffi::OsStr {
    p.as_os_str()
}

#[test]
fn tree_shows_root_runtime_and_build_dependencies_with_sources() {
    let (code, out, err) = show(&[os(&sample("x86_64-linux-gnu"))]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("ELF 64-bit little-endian x86_64 executable"),
        "{out}"
    );
    assert!(out.contains("binaudit-fixture 0.1.0 (local)"), "{out}");
    assert!(
        out.contains("├── atty 0.2.14") || out.contains("└── atty 0.2.14"),
        "{out}"
    );
    assert!(out.contains("libc "), "{out}");
    assert!(out.contains("paste 1.0.15 [build]"), "{out}");
    assert!(out.contains("autocfg 1.4.0 [build]"), "{out}");
    assert!(
        out.contains("smallvec 1.6.0\n"),
        "crates.io is the default source: {out}"
    );
    assert!(out.contains("time 0.1.0 (local)"), "{out}");
    assert!(
        !out.contains("winapi"),
        "Windows-only dependencies are not in a Linux build: {out}"
    );
}

#[test]
fn binary_without_manifest_exits_1_and_names_format_and_arch() {
    let (code, out, _) = show(&[os(&sample("x86_64-linux-gnu-no-manifest"))]);
    assert_eq!(code, 1);
    assert!(
        out.contains("ELF 64-bit little-endian x86_64 executable"),
        "{out}"
    );
    assert!(out.contains("no dependency manifest"), "{out}");
}

#[test]
fn non_executable_exits_1_and_says_so() {
    let (code, out, _) = show(&[os(&repo_root().join("Cargo.toml"))]);
    assert_eq!(code, 1);
    assert!(out.contains("not an executable or object file"), "{out}");
}

#[test]
fn truncated_binary_exits_2_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(sample("x86_64-linux-gnu")).unwrap();
    let cut = dir.path().join("cut");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let (code, out, _) = show(&[os(&cut)]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("error:") && (out.contains("truncated") || out.contains("past the end")),
        "{out}"
    );
}

#[test]
fn one_bad_file_does_not_hide_the_others() {
    let missing = repo_root().join("no-such-file");
    let (code, out, _) = show(&[
        os(&sample("aarch64-linux-gnu")),
        os(&missing),
        os(&sample("s390x-linux-gnu")),
    ]);
    assert_eq!(code, 2, "the worst outcome decides the exit code");
    assert!(
        out.contains("aarch64-linux-gnu: ELF 64-bit little-endian aarch64"),
        "{out}"
    );
    assert!(out.contains("no-such-file: error: cannot open"), "{out}");
    assert!(
        out.contains("s390x-linux-gnu: ELF 64-bit big-endian s390x"),
        "{out}"
    );
}

#[test]
fn raw_is_the_stored_json_and_nothing_else() {
    let (code, out, _) = run_bytes(
        binaudit()
            .args(["show", "--raw"])
            .arg(sample("x86_64-linux-gnu")),
    );
    assert_eq!(code, 0);
    assert!(
        out.starts_with(br#"{"packages":["#) && out.ends_with(b"}"),
        "{}",
        String::from_utf8_lossy(&out)
    );
}

#[test]
fn raw_on_a_universal_binary_needs_arch_and_lists_them() {
    let fat = sample("universal2-macos");
    let (code, out, err) = run(binaudit().args(["show", "--raw"]).arg(&fat));
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("--arch") && err.contains("x86_64") && err.contains("aarch64"),
        "{err}"
    );

    // Each slice has its own copy; both slices were built from the same graph for macOS.
    let arm = raw_manifest(&fat, Some("aarch64"));
    let arm64 = raw_manifest(&fat, Some("arm64"));
    assert_eq!(arm, arm64, "arm64 is accepted as a name for aarch64");
    assert_eq!(arm, raw_manifest(&sample("aarch64-macos"), None));
    assert_eq!(
        raw_manifest(&fat, Some("x86_64")),
        raw_manifest(&sample("x86_64-macos"), None)
    );

    let (code, _, err) = run(binaudit().args(["show", "--arch", "s390x"]).arg(&fat));
    assert_eq!(code, 2);
    assert!(
        err.contains("no s390x image") && err.contains("x86_64"),
        "{err}"
    );
}

#[test]
fn universal_binary_tree_shows_every_slice() {
    let (code, out, _) = show(&[os(&sample("universal2-macos"))]);
    assert_eq!(code, 0);
    assert!(
        out.contains("Mach-O universal with 2 architectures"),
        "{out}"
    );
    assert!(out.contains("x86_64") && out.contains("aarch64"), "{out}");
    assert_eq!(
        out.matches("binaudit-fixture 0.1.0 (local)").count(),
        2,
        "{out}"
    );
}

#[test]
fn raw_takes_exactly_one_file() {
    let (code, _, err) = run(binaudit()
        .args(["show", "--raw"])
        .arg(sample("x86_64-linux-gnu"))
        .arg(sample("x86_64-linux-gnu")));
    assert_eq!(code, 2);
    assert!(err.contains("exactly one file"), "{err}");
}

#[test]
fn raw_without_manifest_exits_1_naming_what_it_found() {
    let (code, out, err) = run(binaudit()
        .args(["show", "--raw"])
        .arg(sample("x86_64-linux-gnu-no-manifest")));
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(
        err.contains("ELF 64-bit little-endian x86_64 executable")
            && err.contains("no dependency manifest"),
        "{err}"
    );
}

#[test]
fn json_document_describes_every_file() {
    let missing = repo_root().join("no-such-file");
    let (code, out, _) = run(binaudit()
        .args(["show", "--json"])
        .arg(sample("universal2-macos"))
        .arg(sample("x86_64-windows-gnu.dll"))
        .arg(sample("x86_64-linux-gnu-no-manifest"))
        .arg(repo_root().join("Cargo.toml"))
        .arg(&missing));
    assert_eq!(code, 2);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["schema"], "binaudit-show/1");
    let files = doc["files"].as_array().unwrap();
    assert_eq!(files.len(), 5);
    let statuses: Vec<&str> = files
        .iter()
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "manifest",
            "manifest",
            "no-manifest",
            "not-executable",
            "error"
        ]
    );

    let fat = &files[0];
    assert_eq!(fat["format"], "Mach-O universal");
    let archs: Vec<&str> = fat["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["arch"].as_str().unwrap())
        .collect();
    assert_eq!(archs, ["x86_64", "aarch64"]);
    assert_eq!(fat["images"][0]["os"], "macos");
    assert_eq!(fat["images"][0]["completeness"], "complete");

    let dll = &files[1]["images"][0];
    assert_eq!(files[1]["format"], "PE");
    assert_eq!(dll["kind"], "shared-library");
    assert_eq!(dll["os"], "windows");
    let packages = dll["manifest"]["packages"].as_array().unwrap();
    let names: Vec<&str> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"winapi") && !names.contains(&"libc"),
        "{names:?}"
    );
    let root = packages.iter().find(|p| p["root"] == true).unwrap();
    assert_eq!(root["name"], "binaudit-fixture");
    assert_eq!(root["source"], "local");

    assert_eq!(files[2]["images"][0]["completeness"], "none");
    assert!(files[4]["error"].as_str().unwrap().contains("cannot open"));
}

#[test]
fn json_limit_flag_is_enforced() {
    let (code, out, _) = show(&[
        std::ffi::OsStr::new("--max-json-size"),
        std::ffi::OsStr::new("64"),
        os(&sample("x86_64-linux-gnu")),
    ]);
    assert_eq!(code, 2);
    assert!(out.contains("64-byte"), "{out}");
}

#[test]
fn cargo_subcommand_runs_show_too() {
    let (code, out, err) = run(cargo_binaudit()
        .args(["binaudit", "show"])
        .arg(sample("wasm32-unknown-unknown.wasm")));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("WebAssembly"), "{out}");
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, err) = run(binaudit().args(["show"]));
    assert_eq!(code, 2);
    assert!(err.contains("FILE"), "{err}");
}

/// A 10 GiB sparse file that starts like a real binary: only its headers and the one section
/// are read, so it is as fast and as small as the original.
#[test]
#[cfg(target_os = "linux")]
fn huge_sparse_file_is_not_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sparse");
    std::fs::copy(sample("x86_64-linux-gnu"), &path).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(10 << 30)
        .unwrap();
    let read_before = proc_self_rchar();
    let report = binaudit::binary::inspect_path(&path, &Default::default()).unwrap();
    let read = proc_self_rchar() - read_before;
    assert!(matches!(
        report.images[0].manifest,
        binaudit::binary::ImageManifest::Found { .. }
    ));
    // Other tests in this process read files concurrently; a whole-file read would be 10 GiB.
    assert!(read < 256 << 20, "read {read} bytes of a 10 GiB file");
}

#[cfg(target_os = "linux")]
fn proc_self_rchar() -> u64 {
    let io = std::fs::read_to_string("/proc/self/io").unwrap();
    io.lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}
