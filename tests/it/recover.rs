//! Recovering crates from panic-message paths (`binaudit::recover`): recall measured against
//! the manifest of the committed sample pair, every path style on synthetic bytes, the
//! standard library's dependencies excluded pattern by pattern, streaming across the read
//! buffer, and hostile inputs.
//!
//! `recall_report` (ignored) is the measuring half of `benches/recall.sh`.

use std::collections::BTreeSet;
use std::io::{self, Read};
use std::path::Path;
use std::time::{Duration, Instant};

use binaudit::binary::{inspect_path, ImageManifest};
use binaudit::decode::Limits;
use binaudit::recover::{
    recover_from_read, recover_from_slice, Recovered, AFTER, BUFFER_BYTES, MAX_PACKAGES,
};
use linker_section::{DependencyKind, Source};
use semver::Version;

use crate::support::*;

type Packages = BTreeSet<(String, Version)>;

fn pkg(name: &str, version: &str) -> (String, Version) {
    (name.to_owned(), Version::parse(version).unwrap())
}

fn set(list: &[(&str, &str)]) -> Packages {
    list.iter().map(|(n, v)| pkg(n, v)).collect()
}

/// Recovers from `data` both ways and checks that they agree.
fn recover(data: &[u8]) -> Recovered {
    let from_slice = recover_from_slice(data);
    let from_read = recover_from_read(data, u64::MAX).unwrap();
    assert_eq!(from_slice, from_read, "slice and streaming disagree");
    from_slice
}

fn found(data: &[u8]) -> Packages {
    let r = recover(data);
    let packages: Packages = r.packages.iter().cloned().collect();
    assert_eq!(
        packages.len(),
        r.packages.len(),
        "packages not deduplicated"
    );
    let mut sorted = r.packages.clone();
    sorted.sort();
    assert_eq!(sorted, r.packages, "packages not sorted");
    packages
}

/// The runtime crates.io packages of every image manifest in `path`: the truth recall is
/// measured against (build-only packages such as proc-macros never reach the binary's code).
fn manifest_runtime_crates_io(path: &Path) -> Packages {
    manifest_truth(path).0
}

/// [`manifest_runtime_crates_io`] and the root package. The root is apart: a program that
/// `cargo install` fetched from crates.io is itself a crates.io package whose panic paths are
/// registry paths, but its manifest records it as `local` (cargo builds it as a path package).
fn manifest_truth(path: &Path) -> (Packages, Option<(String, Version)>) {
    let report = inspect_path(path, &Limits::default()).unwrap();
    let mut out = Packages::new();
    let mut root = None;
    for image in report.images {
        let ImageManifest::Found { decoded, .. } = image.manifest else {
            panic!("{}: an image has no manifest", path.display());
        };
        for p in decoded.manifest.packages() {
            if p.root {
                root = Some((p.name.clone(), p.version.clone()));
            } else if p.source == Source::CratesIo && p.kind == DependencyKind::Runtime {
                out.insert((p.name.clone(), p.version.clone()));
            }
        }
    }
    (out, root)
}

fn recover_file(path: &Path) -> Recovered {
    let file = std::fs::File::open(path).unwrap();
    let streamed = recover_from_read(file, u64::MAX).unwrap();
    assert_eq!(
        streamed,
        recover_from_slice(&std::fs::read(path).unwrap()),
        "{}",
        path.display()
    );
    streamed
}

// ---------------------------------------------------------------------------------------------
// Recall on the committed sample pair (same sources, built with and without the manifest).

#[test]
fn sample_pair_recall_is_one_of_three_with_no_false_positive() {
    let truth = manifest_runtime_crates_io(&samples_dir().join("x86_64-linux-gnu"));
    assert_eq!(
        truth,
        set(&[
            ("atty", "0.2.14"),
            ("libc", "0.2.191"),
            ("smallvec", "1.6.0")
        ])
    );
    let recovered = recover_file(&samples_dir().join("x86_64-linux-gnu-no-manifest"));
    assert!(recovered.rust_evidence);
    let got: Packages = recovered.packages.into_iter().collect();
    // The fixture is built with opt-level "z" and panic = "abort": only smallvec keeps a panic
    // location; atty and libc never panic. std's addr2line, gimli, miniz_oxide and
    // rustc-demangle (under /rust/deps/) are in the file too and must not be reported.
    assert_eq!(got, set(&[("smallvec", "1.6.0")]));
    assert!(
        got.is_subset(&truth),
        "false positives: {:?}",
        got.difference(&truth)
    );
}

/// Every committed sample with a manifest, whatever its format: whatever is recovered is in the
/// manifest (no false positive, std's dependencies included), and smallvec is always found.
#[test]
fn every_sample_recovers_only_packages_of_its_manifest() {
    let samples = [
        "x86_64-linux-gnu",
        "x86_64-linux-gnu.so",
        "x86_64-linux-gnu-stripped",
        "x86_64-linux-gnu-lto",
        "aarch64-linux-gnu",
        "i686-linux-gnu",
        "s390x-linux-gnu",
        "x86_64-macos",
        "aarch64-macos",
        "universal2-macos",
        "x86_64-windows-gnu.exe",
        "x86_64-windows-gnu.dll",
        "wasm32-unknown-unknown.wasm",
    ];
    for name in samples {
        let path = samples_dir().join(name);
        let truth = manifest_runtime_crates_io(&path);
        let recovered = recover_file(&path);
        assert!(recovered.rust_evidence, "{name}: no Rust evidence");
        let got: Packages = recovered.packages.into_iter().collect();
        assert!(
            got.is_subset(&truth),
            "{name}: false positives {:?}",
            got.difference(&truth).collect::<Vec<_>>()
        );
        assert!(got.contains(&pkg("smallvec", "1.6.0")), "{name}: {got:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Path styles.

const IDX: &str = "index.crates.io-1949cf8c6b5b557f";
const GIT_IDX: &str = "github.com-1ecc6299db9ec823";

#[test]
fn cargo_home_on_unix() {
    let data = format!("\0/home/u/.cargo/registry/src/{IDX}/smallvec-1.6.0/src/lib.rs\0");
    assert_eq!(found(data.as_bytes()), set(&[("smallvec", "1.6.0")]));
}

#[test]
fn old_git_index_directory() {
    let data = format!("/root/.cargo/registry/src/{GIT_IDX}/regex-1.5.4/src/re.rs");
    assert_eq!(found(data.as_bytes()), set(&[("regex", "1.5.4")]));
}

#[test]
fn windows_backslashes() {
    let data = format!(
        r"C:\Users\x\.cargo\registry\src\{IDX}\windows-sys-0.52.0\src\lib.rs and C:\Users\runneradmin\.cargo\registry\src\{GIT_IDX}\quickcheck-0.7.1\src\tester.rs"
    );
    assert_eq!(
        found(data.as_bytes()),
        set(&[("windows-sys", "0.52.0"), ("quickcheck", "0.7.1")])
    );
}

#[test]
fn mixed_separators() {
    let data = format!(r"C:\Users\x\.cargo/registry/src\{IDX}/anyhow-1.0.86\src/error.rs");
    assert_eq!(found(data.as_bytes()), set(&[("anyhow", "1.0.86")]));
}

#[test]
fn remapped_cargo_homes() {
    // --remap-path-prefix, `cross` (cargo home mounted at /cargo), Docker's rust images, and a
    // prefix remapped away up to `registry/`.
    let data = format!(
        "/cargo/registry/src/{IDX}/xz2-0.1.6/src/stream.rs\
         /usr/local/cargo/registry/src/{GIT_IDX}/hyper-rustls-0.22.1/src/connector.rs\
         registry/src/{IDX}/toml-0.8.19/src/de.rs\
         /any/prefix/registry/src/{IDX}/clap_builder-4.5.20/src/parser/parser.rs"
    );
    assert_eq!(
        found(data.as_bytes()),
        set(&[
            ("xz2", "0.1.6"),
            ("hyper-rustls", "0.22.1"),
            ("toml", "0.8.19"),
            ("clap_builder", "4.5.20"),
        ])
    );
}

#[test]
fn trim_paths_leaves_the_index_directory_first() {
    // What `cargo -Ztrim-paths` writes (checked with nightly cargo 1.97): no cargo home at all,
    // glued to the string before it.
    let data = format!("NulError{IDX}/smallvec-1.6.0/src/lib.rs");
    assert_eq!(found(data.as_bytes()), set(&[("smallvec", "1.6.0")]));
}

#[test]
fn distribution_vendored_registry() {
    let data = b"/usr/share/cargo/registry/serde_json-1.0.108/src/de.rs\0\
                 registry/memchr-2.7.4/src/memchr.rs\0\
                 C:\\build\\registry\\log-0.4.22\\src\\lib.rs";
    assert_eq!(
        found(data),
        set(&[
            ("serde_json", "1.0.108"),
            ("memchr", "2.7.4"),
            ("log", "0.4.22")
        ])
    );
}

#[test]
fn debug_info_crate_directory_ends_in_nul() {
    // DW_AT_comp_dir holds the crate's directory alone.
    let data = format!("\0/root/.cargo/registry/src/{IDX}/libc-0.2.191\0/tmp\0");
    assert_eq!(found(data.as_bytes()), set(&[("libc", "0.2.191")]));
}

#[test]
fn concatenated_panic_strings_are_split_at_the_path() {
    // Rust string literals are not NUL-terminated: paths sit glued to their neighbours.
    let data = format!(
        "\x7FELF/cargo/registry/src/{GIT_IDX}/xz2-0.1.6/src/stream.rsunknown return code: lzma data error\
         zstd returned null pointer/cargo/registry/src/{GIT_IDX}/zstd-safe-5.0.2+zstd.1.5.2/src/lib.rsbad error"
    );
    assert_eq!(
        found(data.as_bytes()),
        set(&[("xz2", "0.1.6"), ("zstd-safe", "5.0.2+zstd.1.5.2")])
    );
}

#[test]
fn names_with_dashes_digits_and_underscores() {
    let data = format!(
        "/h/.cargo/registry/src/{IDX}/sha-1-0.10.0/src/lib.rs\
         /h/.cargo/registry/src/{IDX}/tracing_subscriber-0.3.18/src/lib.rs\
         /h/.cargo/registry/src/{IDX}/x25519-dalek-2.0.1/src/lib.rs\
         /h/.cargo/registry/src/{IDX}/aho-corasick-1.1.3/src/lib.rs"
    );
    assert_eq!(
        found(data.as_bytes()),
        set(&[
            ("sha-1", "0.10.0"),
            ("tracing_subscriber", "0.3.18"),
            ("x25519-dalek", "2.0.1"),
            ("aho-corasick", "1.1.3"),
        ])
    );
}

#[test]
fn pre_release_and_build_metadata_versions() {
    let versions = [
        "1.0.0-alpha.1",
        "1.0.0-alpha.1+build",
        "0.5.4+5.3.0-patched",
        "2.0.0-rc.3",
        "5.0.2+zstd.1.5.2",
        "1.0.0-0.3.7",
        "1.0.0-x-y-z.--",
    ];
    for v in versions {
        let data = format!("/h/.cargo/registry/src/{IDX}/jemalloc-sys-{v}/src/lib.rs");
        assert_eq!(
            found(data.as_bytes()),
            set(&[("jemalloc-sys", v)]),
            "version {v}"
        );
    }
}

#[test]
fn many_versions_of_one_crate_are_kept_apart_and_duplicates_merged() {
    let data = format!(
        "/a/.cargo/registry/src/{IDX}/rand-0.8.5/src/rng.rs\
         /a/.cargo/registry/src/{IDX}/rand-0.7.3/src/rng.rs\
         /a/.cargo/registry/src/{IDX}/rand-0.8.5/src/lib.rs\
         {IDX}/rand-0.8.5/src/lib.rs\0"
    );
    assert_eq!(
        recover(data.as_bytes()).packages,
        vec![pkg("rand", "0.7.3"), pkg("rand", "0.8.5")]
    );
}

// ---------------------------------------------------------------------------------------------
// Not crates.io packages.

#[test]
fn git_checkouts_are_not_packages() {
    let data = b"/root/.cargo/git/checkouts/rust-openssl-2d8d5a2e5c5f3e71/a1b2c3d/openssl/src/ssl/mod.rs\0\
                 C:\\Users\\x\\.cargo\\git\\checkouts\\tokio-0123456789abcdef\\7f3e2a1\\tokio\\src\\lib.rs";
    assert!(found(data).is_empty());
}

#[test]
fn other_registries_and_mirrors_are_not_presumed_crates_io() {
    let data =
        b"/h/.cargo/registry/src/my-registry.example.com-0123456789abcdef/serde-1.0.0/src/lib.rs\
                 /h/.cargo/registry/src/mirrors.example.cn-0123456789abcdef/rand-0.8.5/src/lib.rs";
    assert!(found(data).is_empty());
}

#[test]
fn other_cargo_directories_are_not_packages() {
    let data = format!(
        "/h/.cargo/registry/cache/{IDX}/serde-1.0.0.crate\0\
         /h/.cargo/registry/index/{IDX}/.cache/se/rd/serde\0\
         /h/.cargo/registry/src/{IDX}/\0"
    );
    assert!(found(data.as_bytes()).is_empty());
}

// ---------------------------------------------------------------------------------------------
// The standard library's own dependencies, one test per form (see the module docs).

#[test]
fn std_sources_under_rustc_commit_are_evidence_not_packages() {
    let data = b"/rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/std/src/panicking.rs\
                 /rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/std/src/../../backtrace/src/symbolize/gimli.rs";
    let r = recover(data);
    assert!(r.packages.is_empty());
    assert!(r.rust_evidence);
}

#[test]
fn std_dependencies_under_rust_deps_are_excluded() {
    // Rust ≥ 1.74 (this toolchain, 1.95, embeds exactly these), Unix and Windows spellings.
    let data = b"/rust/deps/addr2line-0.25.1/src/function.rs/rust/deps/gimli-0.32.3/src/read/line.rs\
                 /rust/deps/miniz_oxide-0.8.9/src/inflate/core.rs/rust/deps/rustc-demangle-0.1.27/src/v0.rs\
                 \0/rust/deps/libc-0.2.178\0/rust/deps/memchr-2.7.6/src/lib.rs/@/memchr.9642f0ce76a98c65-cgu.0\
                 /rust/deps\\object-0.37.3\\src\\read\\coff\\section.rs/rust/deps\\dlmalloc-0.2.11\\src\\lib.rs";
    let r = recover(data);
    assert!(r.packages.is_empty(), "{:?}", r.packages);
    assert!(r.rust_evidence);
}

#[test]
fn std_dependencies_under_the_old_linux_ci_cargo_home_are_excluded() {
    // Rust < 1.74 built std in Docker with CARGO_HOME=/cargo (rust-lang/rust#115872).
    let data = format!(
        "/cargo/registry/src/{GIT_IDX}/gimli-0.26.2/src/read/line.rs\
         /cargo/registry/src/index.crates.io-6f17d22bba15001f/addr2line-0.21.0/src/lib.rs\
         /cargo/registry/src/{GIT_IDX}/backtrace-0.3.37/src/backtrace/libunwind.rs\
         /cargo/registry/src/{GIT_IDX}/hashbrown-0.12.3/src/raw/mod.rs\
         /cargo/registry/src/{GIT_IDX}/miniz_oxide-0.5.3/src/inflate/core.rs"
    );
    let r = recover(data.as_bytes());
    assert!(r.packages.is_empty(), "{:?}", r.packages);
    assert!(r.rust_evidence);
}

#[test]
fn std_dependencies_under_github_actions_cargo_homes_are_excluded() {
    let data = format!(
        r"C:\Users\runneradmin\.cargo\registry\src\{GIT_IDX}\rustc-demangle-0.1.21\src\legacy.rs/Users/runner/.cargo/registry/src/{GIT_IDX}/object-0.29.0/src/read/mod.rs"
    );
    assert!(found(data.as_bytes()).is_empty());
}

#[test]
fn the_programs_own_crates_under_a_ci_cargo_home_are_kept() {
    // Same homes, crates std never depended on: the program's (e.g. built with `cross`).
    let data = format!(
        "/cargo/registry/src/{GIT_IDX}/xz2-0.1.6/src/stream.rs\
         C:\\Users\\runneradmin\\.cargo\\registry\\src\\{IDX}\\enigo-0.2.1\\src\\win\\win_impl.rs"
    );
    assert_eq!(
        found(data.as_bytes()),
        set(&[("xz2", "0.1.6"), ("enigo", "0.2.1")])
    );
}

#[test]
fn std_named_crates_under_a_ci_cargo_home_are_the_programs_when_std_uses_rust_deps() {
    // A /rust/deps/ path proves std's dependencies live there, so /cargo/… is the program's.
    let data = format!(
        "/cargo/registry/src/{IDX}/memchr-2.7.4/src/memchr.rs\
         /rust/deps/memchr-2.7.6/src/lib.rs"
    );
    assert_eq!(found(data.as_bytes()), set(&[("memchr", "2.7.4")]));
    // The proof may come after the path.
    let data = format!(
        "/rust/deps/gimli-0.32.3/src/read/line.rs /cargo/registry/src/{IDX}/hashbrown-0.15.2/src/map.rs"
    );
    assert_eq!(found(data.as_bytes()), set(&[("hashbrown", "0.15.2")]));
}

#[test]
fn std_named_crates_under_an_ordinary_cargo_home_are_the_programs() {
    let data = format!(
        "/home/u/.cargo/registry/src/{IDX}/memchr-2.7.4/src/memchr.rs\
         /root/.cargo/registry/src/{IDX}/libc-0.2.191/src/unix/mod.rs\
         {IDX}/hashbrown-0.15.2/src/map.rs"
    );
    assert_eq!(
        found(data.as_bytes()),
        set(&[
            ("memchr", "2.7.4"),
            ("libc", "0.2.191"),
            ("hashbrown", "0.15.2")
        ])
    );
}

#[test]
fn registry_hash_directories_without_an_index_are_not_packages() {
    // Where std's dependencies may live under cargo's newer trim-paths rules.
    let data = b"/cargo/registry/0123456789abcdef/gimli-0.32.3/src/read/line.rs\
                 /cargo/registry/1ecc6299db9ec823/addr2line-0.25.1/src/lib.rs";
    assert!(found(data).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Malformed and hostile input.

#[test]
fn invalid_names_and_versions_are_rejected() {
    let long = "a".repeat(65);
    let ok64 = "a".repeat(64);
    let cases = [
        format!("{IDX}/{long}-1.0.0/src/lib.rs"),
        format!("{IDX}/1abc-1.0.0/src/lib.rs"),
        format!("{IDX}/-1.0.0/src/lib.rs"),
        format!("{IDX}/foo-1.0/src/lib.rs"),
        format!("{IDX}/foo-01.0.0/src/lib.rs"),
        format!("{IDX}/foo-1.0.0-/src/lib.rs"),
        format!("{IDX}/foo-v1.0.0/src/lib.rs"),
        format!("{IDX}/foo.bar-1.0.0/src/lib.rs"),
        format!("{IDX}/foo-1.0.0 /src/lib.rs"),
        format!("{IDX}/foo-1.0.0.crate"),
        format!("{IDX}/foo-1.0.0-{}/src/lib.rs", "x".repeat(200)),
        // The index hash: 16 lowercase hex digits, then a separator.
        "index.crates.io-1949cf8c6b5b557/foo-1.0.0/src/lib.rs".to_owned(),
        "index.crates.io-1949CF8C6B5B557F/foo-1.0.0/src/lib.rs".to_owned(),
        "index.crates.io-1949cf8c6b5b557fa/foo-1.0.0/src/lib.rs".to_owned(),
        "index.crates.io-1949cf8c6b5b557f:foo-1.0.0/src/lib.rs".to_owned(),
    ];
    for case in &cases {
        assert!(found(case.as_bytes()).is_empty(), "accepted {case}");
    }
    let data = format!("{IDX}/{ok64}-1.0.0/src/lib.rs");
    assert_eq!(found(data.as_bytes()), set(&[(ok64.as_str(), "1.0.0")]));
}

#[test]
fn non_utf8_bytes_are_rejected_without_harm() {
    let mut data = format!("{IDX}/foo").into_bytes();
    data.extend_from_slice(&[0xff, 0xfe]);
    data.extend_from_slice(b"-1.0.0/src/lib.rs\xc3\x28");
    data.push(0xff);
    data.extend_from_slice(format!("{IDX}/bar-2.0.0/").as_bytes());
    data.push(0xff);
    data.extend_from_slice(b"registry/\xe2\x82-1.0.0/");
    assert_eq!(found(&data), set(&[("bar", "2.0.0")]));
}

#[test]
fn a_path_cut_by_the_end_of_the_input_is_ignored() {
    let full = format!("/h/.cargo/registry/src/{IDX}/smallvec-1.6.0/");
    for cut in 1..full.len() {
        let r = recover(full.as_bytes().get(..cut).unwrap());
        assert!(r.packages.is_empty(), "cut at {cut}: {:?}", r.packages);
    }
    assert_eq!(found(full.as_bytes()), set(&[("smallvec", "1.6.0")]));
}

#[test]
fn empty_and_tiny_inputs() {
    for data in [
        &b""[..],
        b"\0",
        b"/",
        b"registry",
        b"registry/",
        b"index.crates.io-",
    ] {
        assert_eq!(recover(data), Recovered::default());
    }
}

#[test]
fn inputs_full_of_anchors_cost_linear_time() {
    let size = 8 << 20;
    for unit in [
        &b"index.crates.io-"[..],
        b"registry/",
        b"registry\\registry/",
        b"/rust/deps/",
        b"github.com-0123456789abcdef/",
        b"index.crates.io-0123456789abcdef/a-1.",
    ] {
        let data: Vec<u8> = unit.iter().copied().cycle().take(size).collect();
        let start = Instant::now();
        let r = recover(&data);
        assert!(r.packages.is_empty());
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{:?} took {:?}",
            String::from_utf8_lossy(unit),
            start.elapsed()
        );
    }
}

#[test]
fn distinct_packages_are_capped() {
    let mut data = Vec::new();
    for i in 0..MAX_PACKAGES + 100 {
        data.extend_from_slice(format!("registry/c{i}-1.0.0/\0").as_bytes());
    }
    let r = recover(&data);
    assert_eq!(r.packages.len(), MAX_PACKAGES);
}

// ---------------------------------------------------------------------------------------------
// Streaming.

/// A reader over bytes that hands out at most `step` bytes per call, and sometimes none with
/// `Interrupted`.
struct Dribble<'a> {
    data: &'a [u8],
    step: usize,
    calls: usize,
}

impl Read for Dribble<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.calls % 5 == 0 {
            return Err(io::ErrorKind::Interrupted.into());
        }
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

#[test]
fn a_path_split_across_the_read_buffer_boundary_is_found() {
    let path = format!("/h/.cargo/registry/src/{IDX}/smallvec-1.6.0/src/lib.rs\0");
    let vendored = "/usr/share/cargo/registry/serde-1.0.210/src/de.rs\0";
    let expected = set(&[("smallvec", "1.6.0"), ("serde", "1.0.210")]);
    // The first read fills BUFFER_BYTES + BEFORE + AFTER bytes and handles the anchors that
    // start in its first BUFFER_BYTES + BEFORE. Slide both paths over that line and over the
    // end of the buffer, one byte at a time.
    for shift in 0..2 * AFTER + 100 {
        let mut data = vec![b'x'; BUFFER_BYTES + 2 * AFTER - shift];
        data.extend_from_slice(path.as_bytes());
        data.extend_from_slice(vendored.as_bytes());
        data.extend_from_slice(b"tail");
        let streamed = recover_from_read(&data[..], u64::MAX).unwrap();
        assert_eq!(
            streamed.packages.iter().cloned().collect::<Packages>(),
            expected,
            "shift {shift}"
        );
        assert_eq!(streamed, recover_from_slice(&data), "shift {shift}");
    }
}

#[test]
fn small_reads_give_the_same_result() {
    let mut data = Vec::new();
    for i in 0..3000 {
        data.extend_from_slice(
            format!(
                "junk{i}/h/.cargo/registry/src/{IDX}/crate{}-0.{i}.0/src/lib.rs",
                i % 7
            )
            .as_bytes(),
        );
    }
    data.extend_from_slice(b"/rust/deps/gimli-0.32.3/src/lib.rs");
    let whole = recover_from_slice(&data);
    assert_eq!(whole.packages.len(), 3000);
    for step in [1, 7, 4096, 100_000] {
        let r = recover_from_read(
            Dribble {
                data: &data,
                step,
                calls: 0,
            },
            u64::MAX,
        )
        .unwrap();
        assert_eq!(r, whole, "step {step}");
    }
}

#[test]
fn at_most_max_bytes_are_read() {
    let path = format!("/h/.cargo/registry/src/{IDX}/smallvec-1.6.0/src/lib.rs");
    let mut data = vec![0u8; 1000];
    data.extend_from_slice(path.as_bytes());
    let limit = data.len() as u64;
    data.extend_from_slice(
        format!("/h/.cargo/registry/src/{IDX}/serde-1.0.0/src/lib.rs").as_bytes(),
    );
    let r = recover_from_read(&data[..], limit).unwrap();
    assert_eq!(r.packages, vec![pkg("smallvec", "1.6.0")]);
    // A limit that cuts the path in two finds nothing.
    let r = recover_from_read(&data[..], 1000 + 20).unwrap();
    assert!(r.packages.is_empty());
}

#[test]
fn reader_errors_are_returned() {
    struct Failing(usize);
    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::other("disk on fire"));
            }
            self.0 -= 1;
            buf.fill(b'z');
            Ok(buf.len())
        }
    }
    let err = recover_from_read(Failing(3), u64::MAX).unwrap_err();
    assert_eq!(err.to_string(), "disk on fire");
}

/// Endless bytes without any anchor, made on the fly: no allocation grows with the input.
struct Noise {
    left: u64,
    state: u64,
}

impl Read for Noise {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.left as usize);
        for b in &mut buf[..n] {
            // xorshift, limited to bytes that cannot start an anchor or evidence string.
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            *b = b"0123456789 ABCDEFGHIJKLMNOPQZ\0\x7f\xff-./\\"[(self.state % 34) as usize];
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[test]
fn huge_input_without_anchors_takes_bounded_time() {
    let size: u64 = 128 << 20;
    let start = Instant::now();
    let r = recover_from_read(
        Noise {
            left: size,
            state: 0x9E37_79B9_7F4A_7C15,
        },
        u64::MAX,
    )
    .unwrap();
    let took = start.elapsed();
    assert_eq!(r, Recovered::default());
    // Generous: this includes generating 128 MiB in a debug build.
    assert!(took < Duration::from_secs(60), "128 MiB took {took:?}");
    // And max_bytes stops an endless input.
    let r = recover_from_read(
        Noise {
            left: u64::MAX,
            state: 1,
        },
        1 << 20,
    )
    .unwrap();
    assert_eq!(r, Recovered::default());
}

// ---------------------------------------------------------------------------------------------
// Rust or not.

#[test]
fn rust_evidence_from_std_strings() {
    for data in [
        &b"xx/rustc/59807616e1fa2540724bfbac14d7976d7e4a3860\\library\\core\\src\\fmt\\mod.rs"[..],
        b"RUST_BACKTRACE",
        b"\0rust_panic\0",
        b"/usr/src/rustc-1.63.0/library/std/src/panicking.rs",
        b"D:\\rust\\library\\std\\src\\sys\\windows\\mod.rs",
        b"/rust/deps\\memchr-2.7.6\\src\\lib.rs",
    ] {
        let r = recover(data);
        assert!(r.rust_evidence, "{}", String::from_utf8_lossy(data));
        assert!(r.packages.is_empty());
    }
}

#[test]
fn no_rust_evidence_in_other_bytes() {
    for data in [
        &b"\x7fELF\x02\x01\x01 GLIBC_2.34 /usr/lib/gcc/x86_64-linux-gnu/12/crtbegin.o"[..],
        b"/rustc/not-a-commit/src/lib.rs", // no 40-hex commit
        b"/rust/depsx",
        b"registry/src/npm/left-pad-1.3.0.tgz",
    ] {
        assert!(
            !recover(data).rust_evidence,
            "{}",
            String::from_utf8_lossy(data)
        );
    }
    // A C program from this machine, when there is one.
    for c_program in ["/bin/ls", "/usr/bin/ls"] {
        if let Ok(bytes) = std::fs::read(c_program) {
            assert_eq!(recover(&bytes), Recovered::default(), "{c_program}");
            break;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The measuring half of benches/recall.sh.

/// Prints recall and precision for pairs of binaries built from the same sources with and
/// without a manifest. `BINAUDIT_RECALL_CASES` holds one case a line:
/// `label<TAB>binary with manifest<TAB>binary without`. `BINAUDIT_RECALL_SPEED_FILES` (one path
/// a line) adds a table of recovery times on those files. Times are meaningful only in an
/// optimised build (`cargo test --release`, as the script runs it).
#[test]
#[ignore = "run by benches/recall.sh"]
fn recall_report() {
    let cases = std::env::var("BINAUDIT_RECALL_CASES").unwrap_or_else(|_| {
        format!(
            "fixture (committed sample pair)\t{}\t{}",
            samples_dir().join("x86_64-linux-gnu").display(),
            samples_dir().join("x86_64-linux-gnu-no-manifest").display()
        )
    });
    let pct = |a: usize, b: usize| {
        if b == 0 {
            "–".to_owned()
        } else {
            format!("{:.1} %", 100.0 * a as f64 / b as f64)
        }
    };
    println!(
        "| program | size | root found | manifest: runtime crates.io | recovered | true positives | false positives | recall | precision |"
    );
    println!("|---|---:|---|---:|---:|---:|---:|---:|---:|");
    let mut notes = Vec::new();
    for line in cases.lines().filter(|l| !l.trim().is_empty()) {
        let mut parts = line.split('\t');
        let (Some(label), Some(with), Some(without)) = (parts.next(), parts.next(), parts.next())
        else {
            panic!("bad case line: {line:?}");
        };
        let (truth, root) = manifest_truth(Path::new(with));
        let size = std::fs::metadata(without).unwrap().len();
        let recovered = recover_file(Path::new(without));
        let mut got: Packages = recovered.packages.into_iter().collect();
        let root_found = root.as_ref().is_some_and(|r| got.remove(r));
        let tp = got.intersection(&truth).count();
        let fp: Vec<String> = got
            .difference(&truth)
            .map(|(n, v)| format!("{n} {v}"))
            .collect();
        println!(
            "| {label} | {} | {} | {} | {} | {tp} | {} | {} | {} |",
            mib(size),
            if root_found { "yes" } else { "no" },
            truth.len(),
            got.len(),
            fp.len(),
            pct(tp, truth.len()),
            pct(tp, got.len()),
        );
        let missed: Vec<String> = truth
            .difference(&got)
            .map(|(n, v)| format!("{n} {v}"))
            .collect();
        notes.push(format!("- {label}: missed {}", list(&missed)));
        if !fp.is_empty() {
            notes.push(format!("- {label}: **false positives** {}", list(&fp)));
        }
    }
    println!();
    for note in &notes {
        println!("{note}");
    }
    println!(
        "\n(The root package is counted apart: `cargo install` builds it as a path package, so its \
         manifest says `local` although it came from crates.io.)"
    );
    let speed_files = std::env::var("BINAUDIT_RECALL_SPEED_FILES").unwrap_or_default();
    let speed_files: Vec<&str> = speed_files.lines().filter(|l| !l.is_empty()).collect();
    if speed_files.is_empty() {
        return;
    }
    println!();
    println!("| file | size | recover_from_read (median of 5) | throughput | read whole file | packages | Rust evidence |");
    println!("|---|---:|---:|---:|---:|---:|---|");
    for path in speed_files {
        let size = std::fs::metadata(path).unwrap().len();
        let median = |f: &dyn Fn()| {
            let mut times: Vec<Duration> = (0..5)
                .map(|_| {
                    let start = Instant::now();
                    f();
                    start.elapsed()
                })
                .collect();
            times.sort();
            times[2]
        };
        let took = median(&|| {
            let file = std::fs::File::open(path).unwrap();
            std::hint::black_box(recover_from_read(file, u64::MAX).unwrap());
        });
        // The floor: the same reads through a buffer of the same size, without scanning.
        let floor = median(&|| {
            let mut file = std::fs::File::open(path).unwrap();
            let mut buf = vec![0u8; BUFFER_BYTES];
            while file.read(&mut buf).unwrap() > 0 {}
        });
        let r = recover_file(Path::new(path));
        println!(
            "| {} | {} | {:.1} ms | {:.0} MiB/s | {:.1} ms | {} | {} |",
            Path::new(path).file_name().unwrap().to_string_lossy(),
            mib(size),
            took.as_secs_f64() * 1000.0,
            size as f64 / (1 << 20) as f64 / took.as_secs_f64(),
            floor.as_secs_f64() * 1000.0,
            r.packages.len(),
            if r.rust_evidence { "yes" } else { "no" },
        );
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "nothing".to_owned()
    } else {
        items.join(", ")
    }
}
