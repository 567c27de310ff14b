//! Exact manifests: each artifact lists the crates rustc compiled into it, no more.
//!
//! Fixture: `tests/fixtures/exact-workspace`, one member per way a manifest derived from
//! `cargo metadata` over-reports (or could), with crates.io stand-ins served from `vendor/`.
//! Each member is built alone (`-p`), as users build them. The truth for each is written out
//! below; where `cargo auditable` embeds something else for the same build, the test shows
//! that too (and asserts it, so a change in the reference writer is noticed).

use std::path::{Path, PathBuf};
use std::process::Command;

use linker_section::{DependencyKind, Manifest};

use crate::support::*;

/// A private copy of the fixture.
struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let (_dir, root) = fixture_copy("exact-workspace");
        Fixture { _dir, root }
    }

    fn cargo(&self, cmd: &mut Command, args: &[&str]) -> String {
        cmd.args(["--release", "--offline"])
            .args(args)
            .current_dir(&self.root);
        clean_env(cmd);
        let (code, _out, err) = run(cmd);
        assert_eq!(code, 0, "build failed: {err}");
        err
    }

    fn build(&self, member: &str) -> String {
        self.cargo(binaudit().args(["build", "--no-audit"]), &["-p", member])
    }

    fn bin(&self, member: &str) -> PathBuf {
        self.root.join("target/release").join(member)
    }
}

/// One line per package, in manifest order: `name version source [build] [root]`, then its
/// dependencies as `-> name version`. Comparing these compares the whole graph.
fn render(m: &Manifest) -> String {
    let p = m.packages();
    let mut out = String::new();
    for pkg in p {
        out.push_str(&format!("{} {} {}", pkg.name, pkg.version, pkg.source));
        if pkg.kind == DependencyKind::Build {
            out.push_str(" build");
        }
        if pkg.root {
            out.push_str(" root");
        }
        for &d in &pkg.dependencies {
            out.push_str(&format!(" -> {} {}", p[d].name, p[d].version));
        }
        out.push('\n');
    }
    out
}

fn embedded(path: &Path) -> String {
    render(&Manifest::from_json(&raw_manifest(path, None)).unwrap())
}

/// Each member, the truth (what rustc compiled into it on a non-Windows host), and what the
/// resolver-based writer embeds when that differs.
const CASES: &[(&str, &str, Option<&str>)] = &[
    (
        // An optional dependency another workspace member enables.
        "opt-a",
        "dual 1.0.0 crates.io\n\
         gadget 1.0.0 crates.io -> dual 1.0.0\n\
         opt-a 0.1.0 local root -> gadget 1.0.0\n",
        Some(
            "dual 1.0.0 crates.io\n\
             gadget 1.0.0 crates.io -> dual 1.0.0 -> sparkle 1.0.0\n\
             opt-a 0.1.0 local root -> gadget 1.0.0\n\
             sparkle 1.0.0 crates.io\n",
        ),
    ),
    (
        // A feature enabled only by a dev-dependency.
        "devfeat",
        "devfeat 0.1.0 local root -> tracer 1.0.0\n\
         tracer 1.0.0 crates.io\n",
        Some(
            "devfeat 0.1.0 local root -> tracer 1.0.0\n\
             logline 1.0.0 crates.io\n\
             tracer 1.0.0 crates.io -> logline 1.0.0\n",
        ),
    ),
    (
        // A dependency of another platform only.
        "platform",
        "platform 0.1.0 local root\n",
        None,
    ),
    (
        // A dependency used only by the build script.
        "buildonly",
        "buildonly 0.1.0 local root -> codegen-helper 1.0.0\n\
         codegen-helper 1.0.0 crates.io build\n",
        None,
    ),
    (
        // A proc-macro and its own dependency: build-time only.
        "macro-user",
        "derive-thing 1.0.0 crates.io build -> synlike 1.0.0\n\
         macro-user 0.1.0 local root -> derive-thing 1.0.0\n\
         synlike 1.0.0 crates.io build\n",
        None,
    ),
    (
        // The same crate in two versions.
        "twoversions",
        "dual 1.0.0 crates.io\n\
         dual 2.0.0 crates.io\n\
         gadget 1.0.0 crates.io -> dual 1.0.0\n\
         twoversions 0.1.0 local root -> dual 2.0.0 -> gadget 1.0.0\n",
        Some(
            "dual 1.0.0 crates.io\n\
             dual 2.0.0 crates.io\n\
             gadget 1.0.0 crates.io -> dual 1.0.0 -> sparkle 1.0.0\n\
             sparkle 1.0.0 crates.io\n\
             twoversions 0.1.0 local root -> dual 2.0.0 -> gadget 1.0.0\n",
        ),
    ),
    (
        // Renamed dependencies (`package = …`), and a crates.io crate whose name and version a
        // path crate elsewhere in the workspace shares.
        "renamed",
        "dual 1.0.0 crates.io\n\
         dual 2.0.0 crates.io\n\
         pathclash 1.0.0 crates.io\n\
         renamed 0.1.0 local root -> dual 1.0.0 -> dual 2.0.0 -> pathclash 1.0.0\n",
        None,
    ),
    (
        // A path dependency with the name and version of a crates.io crate.
        "pathname",
        "pathclash 1.0.0 local\n\
         pathname 0.1.0 local root -> pathclash 1.0.0\n",
        None,
    ),
    (
        // One package at run time without a feature and in the build script with it: what
        // the feature pulls in is build-time only.
        "hostfeat",
        "hostfeat 0.1.0 local root -> tracer 1.0.0\n\
         logline 1.0.0 crates.io build\n\
         tracer 1.0.0 crates.io -> logline 1.0.0\n",
        Some(
            "hostfeat 0.1.0 local root -> tracer 1.0.0\n\
             logline 1.0.0 crates.io\n\
             tracer 1.0.0 crates.io -> logline 1.0.0\n",
        ),
    ),
    (
        // One unit reached from two parents: both edges are recorded.
        "diamond",
        "diamond 0.1.0 local root -> dual 1.0.0 -> gadget 1.0.0\n\
         dual 1.0.0 crates.io\n\
         gadget 1.0.0 crates.io -> dual 1.0.0\n",
        Some(
            "diamond 0.1.0 local root -> dual 1.0.0 -> gadget 1.0.0\n\
             dual 1.0.0 crates.io\n\
             gadget 1.0.0 crates.io -> dual 1.0.0 -> sparkle 1.0.0\n\
             sparkle 1.0.0 crates.io\n",
        ),
    ),
];

#[test]
fn each_artifact_lists_exactly_what_was_compiled_into_it() {
    let ours = Fixture::new();
    let reference = require_tool("cargo-auditable", &["--version"]).then(Fixture::new);
    let mut shown = String::new();
    for (member, truth, theirs) in CASES {
        let err = ours.build(member);
        assert!(!err.contains("compiled before binaudit watched"), "{err}");
        assert_eq!(embedded(&ours.bin(member)), *truth, "manifest of {member}");
        let Some(reference) = &reference else {
            continue;
        };
        reference.cargo(
            Command::new("cargo").args(["auditable", "build"]),
            &["-p", member],
        );
        let got = embedded(&reference.bin(member));
        assert_eq!(
            got,
            theirs.unwrap_or(truth),
            "what cargo auditable embeds in {member}"
        );
        if got != *truth {
            shown.push_str(&format!(
                "{member}:\n  compiled in:\n{}  cargo auditable embeds:\n{}",
                indent(truth),
                indent(&got)
            ));
        }
    }
    // Shown with `cargo test -- --nocapture`: the over-reports this fixture exposes.
    eprintln!("{shown}");
}

/// The runtime part of each truth, checked against the linker's command line: the crates rustc
/// hands the linker from the build's own directory (`--print link-args`, one
/// `lib<crate>-<hash>.rlib` per linked crate; the standard library's come from the sysroot)
/// are the runtime packages of the manifest, as many of each name as there are versions.
#[test]
fn runtime_truths_are_what_the_linker_is_given() {
    let ws = Fixture::new();
    let deps = ws.root.join("target/release/deps");
    for (member, truth, _) in CASES {
        let mut cmd = Command::new("cargo");
        cmd.args([
            "rustc",
            "-q",
            "--release",
            "--offline",
            "-p",
            member,
            "--bin",
            member,
        ])
        .args(["--", "--print", "link-args"])
        .current_dir(&ws.root);
        clean_env(&mut cmd);
        let (code, stdout, err) = run(&mut cmd);
        assert_eq!(code, 0, "{err}");
        let mut linked: Vec<String> = stdout
            .split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
            .map(Path::new)
            .filter(|p| p.starts_with(&deps))
            .filter_map(|p| p.file_name()?.to_str())
            .filter_map(|f| f.strip_prefix("lib")?.strip_suffix(".rlib"))
            .filter_map(|f| f.rsplit_once('-').map(|(name, _hash)| name.to_owned()))
            .collect();
        linked.sort();
        let mut runtime: Vec<String> = truth
            .lines()
            .filter(|l| !l.contains(" build") && !l.contains(" root"))
            .map(|l| l.split(' ').next().unwrap().replace('-', "_"))
            .collect();
        runtime.sort();
        assert_eq!(linked, runtime, "crates linked into {member}:\n{stdout}");
    }
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("    {l}\n")).collect()
}

fn truth(member: &str) -> &'static str {
    CASES.iter().find(|c| c.0 == member).unwrap().1
}

#[test]
fn incremental_rebuilds_keep_the_manifest_exact() {
    let ws = Fixture::new();
    ws.build("opt-a");
    // Another member compiles `gadget` again, with `fancy`; then opt-a changes and relinks
    // against its cached units, whose records must still be found.
    ws.build("opt-b");
    let main = ws.root.join("members/opt-a/src/main.rs");
    let src = std::fs::read_to_string(&main).unwrap();
    std::fs::write(&main, format!("{src}// touched\n")).unwrap();
    let err = ws.build("opt-a");
    assert!(err.contains("Compiling opt-a"), "opt-a was rebuilt: {err}");
    assert!(!err.contains("compiled before binaudit watched"), "{err}");
    assert_eq!(embedded(&ws.bin("opt-a")), truth("opt-a"));
}

#[test]
fn units_compiled_unwatched_fall_back_to_the_resolver_and_say_so() {
    let ws = Fixture::new();
    // A plain build compiles the dependencies without our wrapper: no records.
    ws.cargo(Command::new("cargo").arg("build"), &["-p", "opt-a"]);
    let err = ws.build("opt-a");
    assert!(
        err.contains("warning: binaudit: opt_a was linked with 1 crate compiled before binaudit watched this target directory (gadget-"),
        "{err}"
    );
    // Cargo's resolve for gadget: its dependencies as resolved for the whole workspace.
    let fallback = embedded(&ws.bin("opt-a"));
    assert!(
        fallback.contains("gadget 1.0.0 crates.io -> dual 1.0.0 -> sparkle 1.0.0"),
        "{fallback}"
    );
    // Once everything is compiled under the wrapper, the manifest is exact again.
    let mut clean = Command::new("cargo");
    clean.args(["clean"]).current_dir(&ws.root);
    assert_eq!(run(&mut clean).0, 0);
    let err = ws.build("opt-a");
    assert!(!err.contains("compiled before binaudit watched"), "{err}");
    assert_eq!(embedded(&ws.bin("opt-a")), truth("opt-a"));
}

#[test]
fn cargo_install_embeds_exact_manifests() {
    let ws = Fixture::new();
    let root = ws.root.join("installed");
    let mut cmd = cargo_binaudit();
    cmd.args([
        "binaudit",
        "install",
        "--offline",
        "--path",
        "members/hostfeat",
        "--root",
    ])
    .arg(&root)
    .current_dir(&ws.root);
    clean_env(&mut cmd);
    let (code, _, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    assert_eq!(embedded(&root.join("bin/hostfeat")), truth("hostfeat"));
}
