//! The build helper run for real: cargo, rustc, a real linker, then our reader and the
//! reference tools on what came out. Fixture: `tests/fixtures/app-workspace` (path
//! dependencies only, so everything runs offline).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

/// The manifest `app` must carry on a non-Windows target, byte for byte: local sources, the
/// proc-macro and its dependency and the build-dependency as `build`, no dev-dependency, no
/// Windows-only dependency, no disabled optional dependency.
const APP_LINUX: &str = concat!(
    r#"{"packages":["#,
    r#"{"name":"app","version":"0.1.0","source":"local","dependencies":[1,2,4,6],"root":true},"#,
    r#"{"name":"buildhelper","version":"0.4.0","source":"local","kind":"build"},"#,
    r#"{"name":"liba","version":"1.2.3","source":"local","dependencies":[5]},"#,
    r#"{"name":"macrohelper","version":"0.1.0","source":"local","kind":"build"},"#,
    r#"{"name":"mymacro","version":"0.1.0","source":"local","kind":"build","dependencies":[3]},"#,
    r#"{"name":"shared","version":"0.3.0","source":"local"},"#,
    r#"{"name":"time","version":"0.1.0","source":"local"}"#,
    r#"],"format":1}"#
);

/// On Windows targets the `cfg(windows)` dependency is part of the build.
const APP_WINDOWS: &str = concat!(
    r#"{"packages":["#,
    r#"{"name":"app","version":"0.1.0","source":"local","dependencies":[1,2,4,6,7],"root":true},"#,
    r#"{"name":"buildhelper","version":"0.4.0","source":"local","kind":"build"},"#,
    r#"{"name":"liba","version":"1.2.3","source":"local","dependencies":[5]},"#,
    r#"{"name":"macrohelper","version":"0.1.0","source":"local","kind":"build"},"#,
    r#"{"name":"mymacro","version":"0.1.0","source":"local","kind":"build","dependencies":[3]},"#,
    r#"{"name":"shared","version":"0.3.0","source":"local"},"#,
    r#"{"name":"time","version":"0.1.0","source":"local"},"#,
    r#"{"name":"winonly","version":"0.1.0","source":"local"}"#,
    r#"],"format":1}"#
);

/// With `--features extra` the optional dependency is linked and must be listed.
const APP_EXTRA: &str = concat!(
    r#"{"packages":["#,
    r#"{"name":"app","version":"0.1.0","source":"local","dependencies":[1,2,4,5,7],"root":true},"#,
    r#"{"name":"buildhelper","version":"0.4.0","source":"local","kind":"build"},"#,
    r#"{"name":"liba","version":"1.2.3","source":"local","dependencies":[6]},"#,
    r#"{"name":"macrohelper","version":"0.1.0","source":"local","kind":"build"},"#,
    r#"{"name":"mymacro","version":"0.1.0","source":"local","kind":"build","dependencies":[3]},"#,
    r#"{"name":"optdep","version":"0.5.0","source":"local"},"#,
    r#"{"name":"shared","version":"0.3.0","source":"local"},"#,
    r#"{"name":"time","version":"0.1.0","source":"local"}"#,
    r#"],"format":1}"#
);

const PLUGIN: &str = concat!(
    r#"{"packages":["#,
    r#"{"name":"plugin","version":"0.2.0","source":"local","dependencies":[1],"root":true},"#,
    r#"{"name":"shared","version":"0.3.0","source":"local"}"#,
    r#"],"format":1}"#
);

/// A private copy of the fixture workspace, so tests can build in parallel.
struct Workspace {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Workspace {
    fn new() -> Self {
        let (_dir, root) = fixture_copy("app-workspace");
        Workspace { _dir, root }
    }

    fn artifact(&self, target: Option<&str>, name: &str) -> PathBuf {
        let mut p = self.root.join("target");
        if let Some(t) = target {
            p.push(t);
        }
        p.join("release").join(name)
    }

    /// `binaudit build --release --offline <args>` in the workspace; asserts success.
    fn build(&self, args: &[&str]) -> String {
        self.build_with(binaudit().arg("build"), args)
    }

    fn build_with(&self, cmd: &mut Command, args: &[&str]) -> String {
        cmd.args(["--release", "--offline"])
            .args(args)
            .current_dir(&self.root);
        clean_env(cmd);
        let (code, _out, err) = run(cmd);
        assert_eq!(code, 0, "build failed: {err}");
        err
    }
}

fn assert_manifest(path: &Path, arch: Option<&str>, expected: &str) {
    let raw = raw_manifest(path, arch);
    assert_eq!(
        String::from_utf8_lossy(&raw),
        expected,
        "manifest of {}",
        path.display()
    );
}

#[test]
fn host_bin_and_cdylib_carry_exact_manifests() {
    let ws = Workspace::new();
    ws.build(&[]);
    assert_manifest(&ws.artifact(None, "app"), None, APP_LINUX);
    assert_manifest(&ws.artifact(None, "libplugin.so"), None, PLUGIN);
    // The binary still runs: the section is not loaded and changes nothing.
    let (code, out, _) = run(&mut Command::new(ws.artifact(None, "app")));
    assert_eq!((code, out.trim()), (0, "42 7 42 built"));
}

#[test]
fn enabled_features_decide_optional_dependencies() {
    let ws = Workspace::new();
    ws.build(&["-p", "app", "--features", "extra"]);
    assert_manifest(&ws.artifact(None, "app"), None, APP_EXTRA);
}

#[test]
fn cargo_subcommand_form_and_rebuild_after_plain_build() {
    let ws = Workspace::new();
    // A plain build first: the helper must relink, not reuse the binary without a manifest.
    let mut plain = Command::new("cargo");
    plain
        .args(["build", "--release", "--offline", "-p", "app"])
        .current_dir(&ws.root);
    clean_env(&mut plain);
    assert_eq!(run(&mut plain).0, 0);
    let (code, _, _) = run(binaudit()
        .args(["show", "--raw"])
        .arg(ws.artifact(None, "app")));
    assert_eq!(code, 1, "a plain cargo build has no manifest");
    ws.build_with(cargo_binaudit().args(["binaudit", "build"]), &["-p", "app"]);
    assert_manifest(&ws.artifact(None, "app"), None, APP_LINUX);
}

#[test]
fn output_is_deterministic_across_clean_builds() {
    let a = Workspace::new();
    let b = Workspace::new();
    a.build(&["-p", "app"]);
    b.build(&["-p", "app"]);
    assert_eq!(
        raw_manifest(&a.artifact(None, "app"), None),
        raw_manifest(&b.artifact(None, "app"), None)
    );
    let obj = |ws: &Workspace| {
        let deps = ws.root.join("target/release/deps");
        let f = std::fs::read_dir(&deps)
            .unwrap()
            .flatten()
            .find(|e| e.file_name().to_string_lossy().ends_with("_audit_data.o"))
            .expect("the manifest object is kept next to the other build outputs");
        std::fs::read(f.path()).unwrap()
    };
    assert_eq!(
        obj(&a),
        obj(&b),
        "the manifest object file is byte-identical"
    );
}

#[test]
fn chains_an_existing_workspace_wrapper_and_rustc_wrapper() {
    let ws = Workspace::new();
    let log = ws.root.join("wrapper.log");
    // sccache-style wrappers: each logs its name and the program it runs, then runs it.
    let script = |name: &str| {
        let path = ws.root.join(format!("{name}.sh"));
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\necho \"{name} $(basename \"$1\") $*\" >> '{}'\nexec \"$@\"\n",
                log.display()
            ),
        )
        .unwrap();
        make_executable(&path);
        path
    };
    let mut cmd = binaudit();
    cmd.arg("build")
        .args(["--release", "--offline", "-p", "app"])
        .current_dir(&ws.root);
    clean_env(&mut cmd);
    cmd.env("RUSTC_WORKSPACE_WRAPPER", script("ws-wrapper"))
        .env("RUSTC_WRAPPER", script("rustc-wrapper"));
    let (code, _, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    assert_manifest(&ws.artifact(None, "app"), None, APP_LINUX);
    let log = std::fs::read_to_string(&log).unwrap();
    let lines = |prefix: &str, krate: &str| {
        log.lines()
            .filter(|l| l.starts_with(prefix) && l.contains(&format!("--crate-name {krate} ")))
            .count()
    };
    // Cargo's order for a workspace member: rustc wrapper, workspace wrapper, rustc.
    assert_eq!(lines("rustc-wrapper ws-wrapper.sh ", "app"), 1, "{log}");
    assert_eq!(lines("ws-wrapper rustc ", "app"), 1, "{log}");
    // A dependency is not a member: only the rustc wrapper runs, and runs rustc.
    assert_eq!(lines("rustc-wrapper rustc ", "liba"), 1, "{log}");
    assert_eq!(lines("ws-wrapper ", "liba"), 0, "{log}");
}

/// sccache is usually enabled in a cargo config file, which the driver's environment
/// variables would override: the wrapper finds it there and runs it.
#[test]
fn chains_a_rustc_wrapper_set_in_cargo_config() {
    let ws = Workspace::new();
    let log = ws.root.join("wrapper.log");
    let script = ws.root.join("cache-wrapper.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexec \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    make_executable(&script);
    std::fs::create_dir_all(ws.root.join(".cargo")).unwrap();
    std::fs::write(
        ws.root.join(".cargo/config.toml"),
        "[build]\nrustc-wrapper = \"./cache-wrapper.sh\"\n",
    )
    .unwrap();
    ws.build(&["-p", "app"]);
    assert_manifest(&ws.artifact(None, "app"), None, APP_LINUX);
    let log = std::fs::read_to_string(&log).unwrap();
    for krate in ["app", "liba", "mymacro"] {
        assert!(
            log.lines()
                .any(|l| l.contains(&format!("--crate-name {krate} "))),
            "{krate} compiled through the configured wrapper: {log}"
        );
    }
}

/// Runs our binary in wrapper mode the way cargo would, with a stand-in rustc that answers
/// queries through the real one and records the compile command it was given.
fn wrap_link(
    ws: &Workspace,
    triple: &str,
    allow_unsupported: bool,
) -> (i32, String, Option<String>) {
    let log = ws.root.join(format!("rustc-{triple}.log"));
    let fake = ws.root.join("fake-rustc.sh");
    std::fs::write(
        &fake,
        "#!/bin/sh\ncase \"$*\" in *--print*|-vV*) exec rustc \"$@\";; esac\necho \"$*\" > \"$FAKE_RUSTC_LOG\"\n",
    )
    .unwrap();
    make_executable(&fake);
    let out_dir = ws.root.join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let mut cmd = binaudit();
    cmd.arg(&fake)
        .args([
            "--crate-name",
            "app",
            "--edition=2021",
            "src/main.rs",
            "--crate-type",
            "bin",
        ])
        .args([
            "--emit=dep-info,link",
            "-C",
            "extra-filename=-0011",
            "--target",
            triple,
            "--out-dir",
        ])
        .arg(&out_dir)
        .current_dir(ws.root.join("app"))
        .env("BINAUDIT_WRAPPER_MODE", "1")
        .env("BINAUDIT_CARGO_ARGS", r#"["--offline"]"#)
        .env("CARGO_PRIMARY_PACKAGE", "1")
        .env("CARGO_MANIFEST_DIR", ws.root.join("app"))
        .env("FAKE_RUSTC_LOG", &log);
    clean_env(&mut cmd);
    if allow_unsupported {
        cmd.env("BINAUDIT_ALLOW_UNSUPPORTED", "1");
    }
    let (code, _, err) = run(&mut cmd);
    (code, err, std::fs::read_to_string(&log).ok())
}

#[test]
fn wrapper_adds_object_and_keep_alive_to_a_bin_link() {
    let ws = Workspace::new();
    let (code, err, rustc) = wrap_link(&ws, "x86_64-unknown-linux-gnu", false);
    assert_eq!(code, 0, "{err}");
    let rustc = rustc.expect("rustc ran");
    let object = ws.root.join("out/app-0011_audit_data.o");
    assert!(
        rustc.contains(&format!("link-arg={}", object.display())),
        "{rustc}"
    );
    assert!(
        rustc.contains("link-arg=-Wl,-u,AUDITABLE_VERSION_INFO"),
        "{rustc}"
    );
    let report = binaudit::binary::inspect_path(&object, &Default::default()).unwrap();
    assert!(matches!(
        report.images[0].manifest,
        binaudit::binary::ImageManifest::Found { .. }
    ));
}

#[test]
fn unsupported_target_fails_naming_it_unless_allowed() {
    let ws = Workspace::new();
    let triple = "nvptx64-nvidia-cuda";
    let (code, err, rustc) = wrap_link(&ws, triple, false);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(triple) && err.contains("cannot embed"),
        "{err}"
    );
    assert!(
        rustc.is_none(),
        "rustc must not link a binary without its manifest"
    );

    let (code, err, rustc) = wrap_link(&ws, triple, true);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("warning") && err.contains(triple), "{err}");
    let rustc = rustc.expect("rustc ran");
    assert!(!rustc.contains("_audit_data.o"), "{rustc}");
}

#[test]
fn windows_gnu_exe_via_mingw() {
    let t = "x86_64-pc-windows-gnu";
    if !require_target(t) || !require_tool("x86_64-w64-mingw32-gcc", &["--version"]) {
        return;
    }
    let ws = Workspace::new();
    ws.build(&["-p", "app", "--target", t]);
    assert_manifest(&ws.artifact(Some(t), "app.exe"), None, APP_WINDOWS);
}

#[test]
fn wasm32_module_via_rust_lld() {
    let t = "wasm32-unknown-unknown";
    if !require_target(t) {
        return;
    }
    let ws = Workspace::new();
    ws.build(&["-p", "app", "--target", t]);
    assert_manifest(&ws.artifact(Some(t), "app.wasm"), None, APP_LINUX);
}

fn zigbuild(ws: &Workspace, target: &str) {
    ws.build_with(
        cargo_binaudit().args(["binaudit", "zigbuild"]),
        &["-p", "app", "--target", target],
    );
}

fn have_zigbuild(target: &str) -> bool {
    require_target(target) && require_tool("cargo-zigbuild", &["--version"])
}

#[test]
fn aarch64_linux_via_zigbuild() {
    let t = "aarch64-unknown-linux-gnu";
    if !have_zigbuild(t) {
        return;
    }
    let ws = Workspace::new();
    zigbuild(&ws, t);
    assert_manifest(&ws.artifact(Some(t), "app"), None, APP_LINUX);
}

#[test]
fn aarch64_macos_via_zigbuild() {
    let t = "aarch64-apple-darwin";
    if !have_zigbuild(t) {
        return;
    }
    let ws = Workspace::new();
    zigbuild(&ws, t);
    assert_manifest(&ws.artifact(Some(t), "app"), None, APP_LINUX);
}

/// What `cargo auditable` embeds for the same project is byte-identical to what we embed.
#[test]
fn same_bytes_as_cargo_auditable() {
    if !require_tool("cargo-auditable", &["--version"]) {
        return;
    }
    let ours = Workspace::new();
    ours.build(&["-p", "app"]);
    let theirs = Workspace::new();
    theirs.build_with(
        Command::new("cargo").args(["auditable", "build"]),
        &["-p", "app"],
    );
    let a = raw_manifest(&ours.artifact(None, "app"), None);
    let b = raw_manifest(&theirs.artifact(None, "app"), None);
    assert_eq!(String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
}

/// `rust-audit-info` (the reference reader) reads what we wrote, byte for byte.
#[test]
fn reference_reader_reads_our_binaries() {
    if !require_tool("rust-audit-info", &["--help"]) {
        return;
    }
    let ws = Workspace::new();
    ws.build(&[]);
    for artifact in ["app", "libplugin.so"] {
        let path = ws.artifact(None, artifact);
        let (code, out, err) = run_bytes(Command::new("rust-audit-info").arg(&path));
        assert_eq!(code, 0, "rust-audit-info {artifact}: {err}");
        assert_eq!(out, raw_manifest(&path, None), "{artifact}");
    }
}

#[cfg(unix)]
fn make_executable(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn cargo_install_embeds_the_manifest() {
    let ws = Workspace::new();
    let root = ws.root.join("install-root");
    let mut cmd = cargo_binaudit();
    cmd.args(["binaudit", "install", "--offline", "--path"])
        .arg(ws.root.join("app"))
        .arg("--root")
        .arg(&root);
    cmd.current_dir(&ws.root);
    clean_env(&mut cmd);
    let (code, _, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    assert_manifest(&root.join("bin/app"), None, APP_LINUX);
}
