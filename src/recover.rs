//! Crates recovered from the source paths a binary embeds, for binaries without a manifest.
//!
//! Panic messages carry the path of the file that panicked (`core::panic::Location`), and debug
//! information carries every crate's directory. For a crate that cargo downloaded, that path
//! names the crate and its version: `…/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/
//! smallvec-1.6.0/src/lib.rs`. This module finds such paths in untrusted bytes and turns them
//! into `(name, version)` pairs. The result is **incomplete by nature**: a crate whose panics were
//! all optimised away leaves no path (measured recall is in `benches/README.md`, "recall.sh").
//! Every recovered package is presumed to come from crates.io.
//!
//! # Paths recognised
//!
//! `<sep>` is `/` or `\` (Windows and cross-compiled binaries; mixed separators are fine). The
//! `<name>-<version>` segment must be followed by `<sep>` or a NUL byte (debug information
//! stores a crate's directory alone, NUL-terminated); one cut off by the end of the input is
//! ignored.
//!
//! 1. `…<sep>registry<sep>src<sep><index-dir><sep><name>-<version><sep>…` — cargo's own layout
//!    under any cargo home, including remapped ones (`/cargo/…`, `/usr/local/cargo/…`, a bare
//!    `registry/src/…`) and Windows ones (`C:\Users\x\.cargo\registry\src\…`).
//! 2. `<index-dir><sep><name>-<version><sep>…` with nothing before it — what cargo's
//!    `-Ztrim-paths` writes (it strips `$CARGO_HOME/registry/src/`). Case 1 is found the same
//!    way: both are anchored on the index directory.
//! 3. `…registry<sep><name>-<version><sep>…` — crates vendored by distributions
//!    (`/usr/share/cargo/registry/<name>-<version>/`, Debian and Fedora) and remapped prefixes
//!    that end in `registry/`.
//!
//! `<index-dir>` is `index.crates.io-<16 hex>` (the sparse index, cargo ≥ 1.70) or
//! `github.com-<16 hex>` (the git index on GitHub). Other index directories are other
//! registries or mirrors: their crates are skipped, since only crates.io packages may be
//! matched against RustSec and these may be private crates sharing a crates.io name.
//!
//! `<name>-<version>` is split at the last `-` before the first `.`: crate names cannot contain
//! `.` and a version's major number is digits only, so this is the only split that can be
//! valid (`zstd-safe-5.0.2+zstd.1.5.2`, `sha-1-0.10.0`, `foo-1.0.0-alpha.1`). The name must be
//! a valid crates.io name (ASCII letters, digits, `-`, `_`, starting with a letter, at most 64
//! bytes) and the version valid semver (at most 128 bytes).
//!
//! Git dependencies (`…/.cargo/git/checkouts/<repo>-<hash>/<rev>/…`) are not crates.io packages
//! and carry no version: they match none of the forms above and are not reported. Nor are path
//! dependencies or `cargo vendor` directories without versions.
//!
//! # The standard library's dependencies are not the program's
//!
//! std is built on Rust's CI with its own crates.io dependencies (addr2line, gimli, object,
//! miniz_oxide, hashbrown, memchr, rustc-demangle, libc, cfg-if …, see [`STD_DEPENDENCIES`]), and
//! their paths are in every binary that links std. They appear in these forms:
//!
//! - `/rustc/<commit>/library/…` — std itself. No `<name>-<version>`; only Rust evidence.
//! - `/rust/deps/<name>-<version>/…` (also `/rust/deps\…` on Windows) — std's dependencies
//!   since Rust 1.74 (rust-lang/rust#115872 remaps every registry to `/rust/deps`). Never a
//!   package: none of the forms above matches it. Tools that Rust's CI builds (cargo, rustfmt,
//!   clippy) have their own dependencies there too; they are given up with std's.
//! - Before that, std's dependencies kept the path of the CI's cargo home:
//!   `/cargo/registry/src/<index-dir>/gimli-0.26.2/…` on Linux (CI ran in Docker with
//!   `CARGO_HOME=/cargo`), `C:\Users\runneradmin\.cargo\registry\src\…` and
//!   `/Users/runner/.cargo/registry/src/…` on GitHub Actions' Windows and macOS runners. These
//!   are also where programs built with `cross` (which mounts the cargo home at `/cargo`), in
//!   Docker's `rust` images (`/usr/local/cargo`) or on GitHub Actions keep *their* crates. So
//!   a crate under a cargo home ending in `/cargo/`, `/runneradmin/.cargo/` or
//!   `/runner/.cargo/` whose name is one of [`STD_DEPENDENCIES`] is counted as std's — unless
//!   the same binary also embeds a `/rust/deps/` path, which proves its std came from a
//!   toolchain that remaps its dependencies there. Losing a program's own `memchr` built
//!   with an old toolchain under such a home costs recall; reporting std's as the program's
//!   would cost precision, which matters more for an audit.
//! - `…/cargo/registry/<hash>/<name>-<version>/…` (a directory that is neither `src` nor an
//!   index directory between `registry` and the crate) is where a toolchain built with cargo's
//!   newer trim-paths rules may put std's dependencies: it matches none of the forms above.
//!
//! A program built with `-Zbuild-std` compiles std's dependencies from its own cargo home like
//! any other crate: they are reported. They are in the binary, though not in its manifest.
//!
//! # Cost
//!
//! [`recover_from_read`] reads through one buffer of [`BUFFER_BYTES`] plus a few hundred bytes
//! of overlap, so that a path cut by a read boundary is still found; memory does not grow with
//! the input. Anchors are found with `memchr::memmem`; each is parsed within a fixed window
//! ([`BEFORE`] bytes back, [`AFTER`] forward), so time is linear in the input whatever it holds.
//! At most [`MAX_PACKAGES`] distinct packages are kept.

// This module parses untrusted bytes: every index and every sum is checked.
#![deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read};

use memchr::memmem::Finder;
use semver::Version;

/// What the source paths of one binary revealed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovered {
    /// `(name, version)` of every package found, sorted and deduplicated; presumed crates.io.
    pub packages: Vec<(String, Version)>,
    /// Whether anything showed this to be a Rust program: std's source paths
    /// (`/rustc/<commit>/…`, `/rust/deps/…`, `library/std/src/…`), std's `RUST_BACKTRACE` and
    /// `rust_panic` strings, or any registry path (even one excluded as std's). Tells "a Rust
    /// binary we know little about" from "not a Rust binary at all".
    pub rust_evidence: bool,
}

/// The size of the read buffer of [`recover_from_read`] (plus [`BEFORE`] + [`AFTER`]).
pub const BUFFER_BYTES: usize = 256 * 1024;
/// How far before an anchor the scanner looks (to tell std's cargo homes apart).
pub const BEFORE: usize = 64;
/// How far after an anchor a path may extend and still be parsed.
pub const AFTER: usize = 256;
/// Recovery from a file reads at most its first 256 MiB. Panic messages live in read-only
/// data, near the start of an executable; what lies past this in a larger file (debug
/// information, or the hole of a sparse file) is not read, and the result says so. Bounds the
/// time one hostile file can take, not memory (the buffer is fixed).
pub const MAX_FILE_BYTES: u64 = 256 << 20;
/// At most this many distinct packages are kept (a real program has a few hundred): a hostile
/// input full of distinct paths cannot make the result grow without bound.
pub const MAX_PACKAGES: usize = 10_000;

const MAX_NAME: usize = 64;
const MAX_VERSION: usize = 128;
/// `<name>-<version>`.
const MAX_SEGMENT: usize = MAX_NAME + 1 + MAX_VERSION;
/// The hash suffix of an index directory, e.g. `1949cf8c6b5b557f`.
const INDEX_HASH_LEN: usize = 16;
/// The commit hash in `/rustc/<commit>/`.
const RUSTC_COMMIT_LEN: usize = 40;

/// The crates.io index directories under `registry/src/`, without their `-<hash>` suffix.
const INDEX_DIRS: [&[u8]; 2] = [b"index.crates.io-", b"github.com-"];
const VENDORED: &[u8] = b"registry";
const RUST_DEPS: &[u8] = b"/rust/deps";
const RUSTC: &[u8] = b"/rustc/";
/// Strings that only a Rust program contains (std's panic machinery and source tree).
const EVIDENCE: [&[u8]; 4] = [
    b"RUST_BACKTRACE",
    b"rust_panic",
    b"library/std/src/",
    b"library\\std\\src\\",
];

/// The crates.io packages the standard library (std, alloc, core, proc_macro, test and their
/// platform backends) depends on or has depended on, compared with `-` and `_` as one.
pub const STD_DEPENDENCIES: &[&str] = &[
    "addr2line",
    "adler",
    "adler2",
    // std used `backtrace` from crates.io before it became a submodule of rust-lang/rust.
    "backtrace",
    "backtrace-sys",
    "cfg-if",
    "compiler_builtins",
    "dlmalloc",
    "fortanix-sgx-abi",
    "getopts",
    "gimli",
    "hashbrown",
    "hermit-abi",
    "libc",
    "memchr",
    "miniz_oxide",
    "moto-rt",
    "object",
    "r-efi",
    "r-efi-alloc",
    "rustc-demangle",
    "rustc-literal-escaper",
    "rustc-std-workspace-alloc",
    "rustc-std-workspace-core",
    "rustc-std-workspace-std",
    "unicode-width",
    "unwinding",
    "vex-sdk",
    "wasi",
];

/// The ends of the cargo homes (up to the index directory) where Rust's CI kept std's
/// dependencies before they were remapped to `/rust/deps`; `\` is compared as `/`.
const STD_CARGO_HOMES: [&[u8]; 3] = [
    b"/cargo/registry/src/",
    b"/runneradmin/.cargo/registry/src/",
    b"/runner/.cargo/registry/src/",
];

/// Recovers packages from at most `max_bytes` of `reader`, streaming through a fixed buffer.
///
/// Reads until the end of the input or `max_bytes`; errors of the reader are returned
/// (`Interrupted` is retried). The result is the same as [`recover_from_slice`] over the bytes
/// read.
pub fn recover_from_read<R: Read>(reader: R, max_bytes: u64) -> io::Result<Recovered> {
    let mut reader = reader.take(max_bytes);
    let keep = BEFORE.saturating_add(AFTER);
    let mut buf = vec![0u8; BUFFER_BYTES.saturating_add(keep)];
    let mut scanner = Scanner::new();
    // `buf[..filled]` holds input; anchors starting before `done` were handled already.
    let mut filled = 0usize;
    let mut done = 0usize;
    loop {
        let eof = fill(&mut reader, &mut buf, &mut filled)?;
        let data = buf.get(..filled).unwrap_or_default();
        // An anchor is handled once the AFTER bytes that may follow it are in the buffer.
        let until = if eof {
            filled
        } else {
            filled.saturating_sub(AFTER)
        };
        scanner.scan(data, done, until);
        if eof {
            break;
        }
        // Keep the unhandled tail and the BEFORE bytes that precede it.
        let keep_from = until.saturating_sub(BEFORE);
        buf.copy_within(keep_from..filled, 0);
        filled = filled.saturating_sub(keep_from);
        done = until.saturating_sub(keep_from);
    }
    Ok(scanner.finish())
}

/// Recovers packages from bytes in memory.
pub fn recover_from_slice(data: &[u8]) -> Recovered {
    let mut scanner = Scanner::new();
    scanner.scan(data, 0, data.len());
    scanner.finish()
}

/// Reads into `buf[*filled..]` until it is full or the input ends; returns whether it ended.
fn fill<R: Read>(reader: &mut R, buf: &mut [u8], filled: &mut usize) -> io::Result<bool> {
    loop {
        let Some(free) = buf.get_mut(*filled..) else {
            return Ok(false);
        };
        if free.is_empty() {
            return Ok(false);
        }
        match reader.read(free) {
            Ok(0) => return Ok(true),
            // `read` returns at most `free.len()`, so this stays within the buffer.
            Ok(n) => *filled = filled.saturating_add(n).min(buf.len()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// The state of one recovery: what was found so far.
struct Scanner {
    index_dirs: [Finder<'static>; 2],
    vendored: Finder<'static>,
    rust_deps: Finder<'static>,
    rustc: Finder<'static>,
    evidence: [Finder<'static>; 4],
    packages: BTreeMap<String, BTreeSet<Version>>,
    /// Crates named like std's dependencies under a cargo home std's once lived in.
    std_suspects: BTreeMap<String, BTreeSet<Version>>,
    /// How many entries the two maps hold together.
    count: usize,
    /// A `/rust/deps/` path was seen: this binary's std keeps its dependencies there.
    std_remapped: bool,
    rust_evidence: bool,
}

impl Scanner {
    fn new() -> Self {
        Scanner {
            index_dirs: INDEX_DIRS.map(Finder::new),
            vendored: Finder::new(VENDORED),
            rust_deps: Finder::new(RUST_DEPS),
            rustc: Finder::new(RUSTC),
            evidence: EVIDENCE.map(Finder::new),
            packages: BTreeMap::new(),
            std_suspects: BTreeMap::new(),
            count: 0,
            std_remapped: false,
            rust_evidence: false,
        }
    }

    /// Handles every anchor that starts in `data[from..until]`; `data` holds the context.
    fn scan(&mut self, data: &[u8], from: usize, until: usize) {
        let anchors = |finder| anchors(finder, data, from, until);
        for (finder, anchor) in self.index_dirs.iter().zip(INDEX_DIRS) {
            for at in anchors(finder) {
                if let Some((name, version, std_home)) = index_dir_path(data, at, anchor.len()) {
                    self.rust_evidence = true;
                    let std_suspect = std_home && is_std_dependency(name);
                    insert(
                        if std_suspect {
                            &mut self.std_suspects
                        } else {
                            &mut self.packages
                        },
                        &mut self.count,
                        name,
                        version,
                    );
                }
            }
        }
        for at in anchors(&self.vendored) {
            if let Some((name, version)) = vendored_path(data, at) {
                self.rust_evidence = true;
                insert(&mut self.packages, &mut self.count, name, version);
            }
        }
        if !self.std_remapped {
            let len = RUST_DEPS.len();
            if anchors(&self.rust_deps)
                .any(|at| at.checked_add(len).is_some_and(|i| is_sep_at(data, i)))
            {
                self.std_remapped = true;
                self.rust_evidence = true;
            }
        }
        if !self.rust_evidence {
            self.rust_evidence = anchors(&self.rustc).any(|at| is_rustc_path(data, at))
                || self.evidence.iter().any(|f| anchors(f).next().is_some());
        }
    }

    fn finish(mut self) -> Recovered {
        if self.std_remapped {
            for (name, versions) in std::mem::take(&mut self.std_suspects) {
                self.packages.entry(name).or_default().extend(versions);
            }
        }
        Recovered {
            packages: self
                .packages
                .into_iter()
                .flat_map(|(name, versions)| versions.into_iter().map(move |v| (name.clone(), v)))
                .collect(),
            rust_evidence: self.rust_evidence,
        }
    }
}

/// The positions in `data` of every match of `finder` that starts in `from..until`.
fn anchors<'a>(
    finder: &'a Finder<'static>,
    data: &'a [u8],
    from: usize,
    until: usize,
) -> impl Iterator<Item = usize> + 'a {
    let window = data.get(from..).unwrap_or_default();
    finder
        .find_iter(window)
        .filter_map(move |at| at.checked_add(from))
        .take_while(move |&at| at < until)
}

/// Adds one package unless it is known already or the cap is reached.
fn insert(
    map: &mut BTreeMap<String, BTreeSet<Version>>,
    count: &mut usize,
    name: &str,
    version: Version,
) {
    if map.get(name).is_some_and(|v| v.contains(&version)) || *count >= MAX_PACKAGES {
        return;
    }
    if map.entry(name.to_owned()).or_default().insert(version) {
        *count = count.saturating_add(1);
    }
}

/// `<index-dir><sep><name>-<version><end>` with the anchor (`index.crates.io-` or
/// `github.com-`) at `at`; also says whether it lies under a cargo home std's dependencies
/// once lived in.
fn index_dir_path(data: &[u8], at: usize, anchor_len: usize) -> Option<(&str, Version, bool)> {
    let hash_start = at.checked_add(anchor_len)?;
    let hash_end = hash_start.checked_add(INDEX_HASH_LEN)?;
    let hash = data.get(hash_start..hash_end)?;
    if !hash.iter().all(is_lower_hex) || !is_sep_at(data, hash_end) {
        return None;
    }
    let (name, version) = name_version_at(data, hash_end.checked_add(1)?)?;
    let before = data.get(at.saturating_sub(BEFORE)..at)?;
    let std_home = STD_CARGO_HOMES
        .iter()
        .any(|home| ends_with_path(before, home));
    Some((name, version, std_home))
}

/// `registry<sep><name>-<version><end>` with `registry` at `at`.
fn vendored_path(data: &[u8], at: usize) -> Option<(&str, Version)> {
    let sep = at.checked_add(VENDORED.len())?;
    if !is_sep_at(data, sep) {
        return None;
    }
    name_version_at(data, sep.checked_add(1)?)
}

/// `/rustc/<40 hex><sep>` at `at`: std's own sources, remapped.
fn is_rustc_path(data: &[u8], at: usize) -> bool {
    let Some(start) = at.checked_add(RUSTC.len()) else {
        return false;
    };
    let Some(end) = start.checked_add(RUSTC_COMMIT_LEN) else {
        return false;
    };
    data.get(start..end)
        .is_some_and(|h| h.iter().all(is_lower_hex))
        && is_sep_at(data, end)
}

/// The `<name>-<version>` path segment starting at `start`, which must end in a separator or
/// NUL within [`MAX_SEGMENT`] bytes.
fn name_version_at(data: &[u8], start: usize) -> Option<(&str, Version)> {
    let rest = data.get(start..)?;
    // `None` when the segment is too long or runs into the end of the input.
    let len = rest
        .iter()
        .take(MAX_SEGMENT.saturating_add(1))
        .position(|b| !is_segment_byte(*b))?;
    if !matches!(rest.get(len), Some(b'/' | b'\\' | 0)) {
        return None;
    }
    split_name_version(rest.get(..len)?)
}

/// Splits `<name>-<version>` at the last `-` before the first `.` and validates both halves.
fn split_name_version(segment: &[u8]) -> Option<(&str, Version)> {
    let first_dot = segment.iter().position(|&b| b == b'.')?;
    let dash = segment.get(..first_dot)?.iter().rposition(|&b| b == b'-')?;
    let name = segment.get(..dash)?;
    let version = segment.get(dash.checked_add(1)?..)?;
    if !is_crate_name(name) || version.len() > MAX_VERSION {
        return None;
    }
    // Both are ASCII, checked above and by `is_segment_byte`.
    let name = std::str::from_utf8(name).ok()?;
    let version = Version::parse(std::str::from_utf8(version).ok()?).ok()?;
    Some((name, version))
}

fn is_crate_name(name: &[u8]) -> bool {
    name.len() <= MAX_NAME
        && name.first().is_some_and(u8::is_ascii_alphabetic)
        && name
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
}

/// Whether `name` is one of [`STD_DEPENDENCIES`], with `-` and `_` as one.
fn is_std_dependency(name: &str) -> bool {
    let fold = |b: u8| {
        if b == b'_' {
            b'-'
        } else {
            b.to_ascii_lowercase()
        }
    };
    STD_DEPENDENCIES.iter().any(|dep| {
        dep.len() == name.len()
            && dep
                .bytes()
                .zip(name.bytes())
                .all(|(a, b)| fold(a) == fold(b))
    })
}

/// Whether `path` ends with `suffix`, comparing `\` as `/`.
fn ends_with_path(path: &[u8], suffix: &[u8]) -> bool {
    let norm = |b: u8| if b == b'\\' { b'/' } else { b };
    path.len() >= suffix.len()
        && path
            .iter()
            .rev()
            .zip(suffix.iter().rev())
            .all(|(a, b)| norm(*a) == *b)
}

/// Bytes of a `<name>-<version>` segment: crate name bytes plus semver's `.` and `+`.
fn is_segment_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'+')
}

fn is_sep_at(data: &[u8], at: usize) -> bool {
    matches!(data.get(at), Some(b'/' | b'\\'))
}

fn is_lower_hex(b: &u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(b)
}
