//! Hostile and malformed inputs, systematically: every sample truncated and bit-flipped, a zlib
//! bomb, hostile manifests, forged universal and PE headers, sparse 10 GiB files, unreadable
//! files, FIFOs and hostile image layouts. Each must give a per-file error with its reason and
//! the right exit status — never a panic, a hang, unbounded memory or "no findings".
//!
//! The bulk (every truncation, every flip) runs through the library; each category also runs
//! through the real `binaudit` once, as a user would.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use binaudit::binary::{inspect_bytes, BinaryReport, ImageManifest};
use binaudit::decode::Limits;

use crate::support::*;

fn sample(name: &str) -> PathBuf {
    samples_dir().join(name)
}

/// The samples that carry a manifest (every one but the no-manifest build).
fn manifest_samples() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(samples_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_owned();
            let bytes = std::fs::read(&p).ok()?;
            let report = inspect_bytes(&bytes, &Limits::default()).ok()?;
            let all_found = report
                .images
                .iter()
                .all(|i| matches!(i.manifest, ImageManifest::Found { .. }));
            all_found.then_some((name, bytes))
        })
        .collect();
    out.sort();
    assert_eq!(out.len(), 13, "every sample but the no-manifest one");
    out
}

/// The embedded JSON of every image that has one, by architecture.
fn manifests(report: &BinaryReport) -> Vec<(String, Vec<u8>)> {
    report
        .images
        .iter()
        .filter_map(|i| match &i.manifest {
            ImageManifest::Found { decoded, .. } => {
                Some((i.image.arch.as_str().to_owned(), decoded.json.clone()))
            }
            _ => None,
        })
        .collect()
}

/// `binaudit scan` offline against the small fixture database, with private caches.
fn scan(dir: &Path) -> Command {
    scan_with_db(dir, &repo_root().join("tests/fixtures/advisory-db-small"))
}

fn scan_with_db(dir: &Path, db: &Path) -> Command {
    let mut cmd = binaudit();
    cmd.arg("scan")
        .arg("--db")
        .arg(db)
        .args([
            "--offline",
            "--no-stale-warning",
            "--no-yanked",
            "--format",
            "json",
        ])
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env("CARGO_HOME", dir.join("cargo-home"))
        .current_dir(dir);
    cmd
}

/// Runs a command that must finish; a hang fails the test (after a minute) instead of the suite.
fn run_bounded(cmd: &mut Command) -> (i32, String, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{cmd:?} hung; it printed:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Makes a FIFO; false (with a message) where that is impossible, which fails the test in CI.
fn mkfifo(path: &Path) -> bool {
    let made = Command::new("mkfifo").arg(path).status();
    let ok = made.as_ref().is_ok_and(|s| s.success());
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("mkfifo failed: {made:?}");
        }
        eprintln!("skipped: mkfifo failed: {made:?}");
    }
    ok
}

/// The JSON report of a scan that must finish.
fn scan_json(cmd: &mut Command) -> (i32, serde_json::Value) {
    let (code, out, err) = run_bounded(cmd);
    let doc = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    (code, doc)
}

/// The input of a JSON report for `path`.
fn input<'a>(doc: &'a serde_json::Value, path: &Path) -> &'a serde_json::Value {
    doc["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"] == path.display().to_string())
        .unwrap_or_else(|| panic!("{} not in {doc}", path.display()))
}

/// The error of an input, or of its first unit.
fn error_of(input: &serde_json::Value) -> String {
    input["error"]
        .as_str()
        .or_else(|| input["units"][0]["error"].as_str())
        .unwrap_or_else(|| panic!("no error in {input}"))
        .to_owned()
}

/// A relocatable x86_64 ELF whose `.dep-v0` section holds `section`.
fn elf_with_section(section: &[u8]) -> Vec<u8> {
    use object::write::Object;
    use object::{Architecture, BinaryFormat, Endianness, SectionKind};
    let mut obj = Object::new(BinaryFormat::Elf, Architecture::X86_64, Endianness::Little);
    let id = obj.add_section(Vec::new(), b".dep-v0".to_vec(), SectionKind::ReadOnlyData);
    obj.append_section_data(id, section, 1);
    obj.write().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

// ---------------------------------------------------------------------------------------------
// Truncation and bit flips of every sample
// ---------------------------------------------------------------------------------------------

/// Where to cut a file of `len` bytes: every 8 bytes of the first 4 KiB (the headers), 256
/// points spread over the rest, and a few bytes either side of `marks` (section boundaries).
fn cut_points(len: usize, marks: &[usize]) -> Vec<usize> {
    let mut cuts: Vec<usize> = (0..len.min(4096)).step_by(8).collect();
    cuts.extend((0..256).map(|i| len / 256 * i));
    for &m in marks {
        cuts.extend(m.saturating_sub(2)..=m.saturating_add(2));
    }
    cuts.extend(len.saturating_sub(16)..len);
    cuts.retain(|&c| c < len);
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

/// Where the manifest section of each image starts and ends in the file.
fn section_marks(report: &BinaryReport) -> Vec<usize> {
    report
        .images
        .iter()
        .filter_map(|i| i.image.section)
        .flat_map(|s| [s.offset as usize, (s.offset + s.size) as usize])
        .collect()
}

/// A truncated binary never reads as a different manifest, and never as "no manifest" when
/// the original had one — except a WebAssembly module cut at a section boundary before its
/// manifest, which is a well-formed shorter module. It is an error (with a reason), or, when
/// the cut lies past everything read (PE and Mach-O keep their headers first), the same manifest.
#[test]
fn truncated_samples_are_errors_or_read_the_same_manifest() {
    for (name, bytes) in manifest_samples() {
        let original = inspect_bytes(&bytes, &Limits::default()).unwrap();
        let expected = manifests(&original);
        let marks = section_marks(&original);
        let first_section = marks.iter().copied().min().unwrap();
        let mut outcomes = [0usize; 3];
        for cut in cut_points(bytes.len(), &marks) {
            let short = &bytes[..cut];
            match inspect_bytes(short, &Limits::default()) {
                Err(e) if e.is_not_executable() => {
                    assert!(
                        cut < 64,
                        "{name} cut at {cut} of {} reads as not an executable",
                        bytes.len()
                    );
                    outcomes[0] += 1;
                }
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    outcomes[1] += 1;
                }
                Ok(report) => {
                    outcomes[2] += 1;
                    for image in &report.images {
                        match &image.manifest {
                            ImageManifest::Found { decoded, .. } => {
                                let arch = image.image.arch.as_str();
                                assert!(
                                    expected
                                        .iter()
                                        .any(|(a, j)| a == arch && *j == decoded.json),
                                    "{name} cut at {cut}: a different manifest for {arch}"
                                );
                            }
                            ImageManifest::Invalid { error, .. } => {
                                assert!(!error.to_string().is_empty());
                            }
                            ImageManifest::Missing => assert!(
                                name.ends_with(".wasm") && cut <= first_section,
                                "{name} cut at {cut} of {} reads as having no manifest",
                                bytes.len()
                            ),
                        }
                    }
                }
            }
        }
        assert!(outcomes[1] > 0, "{name}: no truncation was an error");
    }
}

/// Bit flips in the first and last 512 bytes (file headers, load commands, ELF section
/// tables): no panic, and whatever is found is one of the original manifests — a flip can make
/// a file unreadable, never make it carry different packages.
#[test]
fn bit_flips_in_headers_never_forge_a_manifest() {
    for (name, bytes) in manifest_samples() {
        let original = inspect_bytes(&bytes, &Limits::default()).unwrap();
        let expected: Vec<Vec<u8>> = manifests(&original).into_iter().map(|(_, j)| j).collect();
        let len = bytes.len();
        let offsets = (0..512.min(len)).chain(len.saturating_sub(512)..len);
        let mut changed = 0;
        let mut copy = bytes.clone();
        for at in offsets {
            for mask in [0x01u8, 0x80, 0xff] {
                copy[at] ^= mask;
                match inspect_bytes(&copy, &Limits::default()) {
                    Ok(report) => {
                        for (arch, json) in manifests(&report) {
                            assert!(
                                expected.contains(&json),
                                "{name}: flipping {mask:#x} at {at} gives another manifest ({arch})"
                            );
                        }
                        if manifests(&report).len() != expected.len() {
                            changed += 1;
                        }
                    }
                    Err(e) => {
                        assert!(!e.to_string().is_empty());
                        changed += 1;
                    }
                }
                copy[at] ^= mask;
            }
        }
        assert!(changed > 0, "{name}: no flip made any difference");
    }
}

/// CLI level: a truncated file among good ones is an error naming the file; the others are
/// still audited and the exit status is 2.
#[test]
fn truncated_binaries_in_a_scan_exit_2_and_the_rest_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = scan(dir.path());
    let mut cut_paths = Vec::new();
    for name in [
        "x86_64-linux-gnu",
        "universal2-macos",
        "x86_64-windows-gnu.exe",
        "wasm32-unknown-unknown.wasm",
    ] {
        let bytes = std::fs::read(sample(name)).unwrap();
        let cut = dir.path().join(format!("cut-{name}"));
        std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
        cmd.arg(&cut);
        cut_paths.push(cut);
    }
    cmd.arg(sample("aarch64-linux-gnu"));
    let (code, doc) = scan_json(&mut cmd);
    assert_eq!(code, 2, "{doc}");
    for cut in &cut_paths {
        let i = input(&doc, cut);
        let unit_complete = i["units"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["completeness"] == "complete" && u["error"].is_null());
        assert!(!unit_complete, "{} reads as complete: {i}", cut.display());
        let err = error_of(i);
        assert!(
            err.contains("truncated") || err.contains("past the end") || err.contains("ends early"),
            "{}: {err}",
            cut.display()
        );
    }
    assert_eq!(
        input(&doc, &sample("aarch64-linux-gnu"))["status"],
        "audited"
    );
    assert!(doc["summary"]["errors"].as_u64().unwrap() >= 4, "{doc}");
}

// ---------------------------------------------------------------------------------------------
// Decompression bomb and hostile manifests
// ---------------------------------------------------------------------------------------------

/// A valid zlib stream of `1 + blocks` MiB of zeros, built without holding its output: one
/// MiB-block is compressed once and repeated (each repetition refers only to the zeros behind
/// it), then the final block and the Adler-32 of the whole are appended.
fn zlib_zeros(blocks: usize) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress};
    let mib = vec![0u8; 1 << 20];
    let mut c = Compress::new(Compression::best(), true);
    let mut chunk = |input: &[u8], flush| {
        let mut out = Vec::with_capacity(64 << 10);
        let before = c.total_in();
        c.compress_vec(input, &mut out, flush).unwrap();
        assert_eq!(c.total_in() - before, input.len() as u64);
        out
    };
    let first = chunk(&mib, FlushCompress::Sync);
    let repeated = chunk(&mib, FlushCompress::Sync);
    let mut tail = chunk(&[], FlushCompress::Finish);
    let total = (1 + blocks as u64) << 20;
    // Adler-32 of n zero bytes: a = 1, b = n mod 65521.
    let adler = ((total % 65521) << 16 | 1) as u32;
    let n = tail.len();
    tail[n - 4..].copy_from_slice(&adler.to_be_bytes());
    let mut out = first;
    for _ in 0..blocks {
        out.extend_from_slice(&repeated);
    }
    out.extend_from_slice(&tail);
    out
}

/// Decompressed size of a zlib stream, checksum verified, streamed.
fn inflated_len(stream: &[u8]) -> u64 {
    let mut d = flate2::read::ZlibDecoder::new(stream);
    std::io::copy(&mut d, &mut std::io::sink()).unwrap()
}

/// The bomb: 1 GiB and 1 MiB of zeros in about a megabyte.
fn bomb() -> Vec<u8> {
    zlib_zeros(1024)
}

#[test]
fn the_bomb_is_a_valid_stream_of_over_one_gib() {
    // The construction, checked in full at a small size (the checksum is verified too)...
    assert_eq!(inflated_len(&zlib_zeros(3)), 4 << 20);
    // ...and the bomb itself is small and a well-formed stream up to the limit.
    let bomb = bomb();
    assert!(bomb.len() < 4 << 20, "{} bytes", bomb.len());
    let mut d = flate2::read::ZlibDecoder::new(bomb.as_slice());
    let mut head = vec![0u8; 16 << 20];
    std::io::Read::read_exact(&mut d, &mut head).unwrap();
}

#[test]
fn a_zlib_bomb_past_one_gib_stops_at_the_json_limit() {
    let elf = elf_with_section(&bomb());
    let report = inspect_bytes(&elf, &Limits::default()).unwrap();
    match &report.images[0].manifest {
        ImageManifest::Invalid { error, .. } => assert!(
            error
                .to_string()
                .contains("decompresses to more than the 8388608-byte limit"),
            "{error}"
        ),
        other => panic!("{other:?}"),
    }

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb");
    std::fs::write(&path, &elf).unwrap();
    let (code, doc) = scan_json(scan(dir.path()).arg(&path).arg(sample("x86_64-linux-gnu")));
    assert_eq!(code, 2, "{doc}");
    let err = error_of(input(&doc, &path));
    assert!(err.contains("8388608-byte limit"), "{err}");
    assert_eq!(input(&doc, &path)["units"][0]["completeness"], "none");
    assert_eq!(
        input(&doc, &sample("x86_64-linux-gnu"))["status"],
        "audited"
    );
}

/// Manifests that decode but must not be trusted: each an error naming why, at CLI level.
#[test]
fn hostile_manifests_are_per_file_errors_with_the_reason() {
    let pkg = |name: &str, version: &str, deps: &str, root: bool| {
        format!(
            r#"{{"name":"{name}","version":"{version}","source":"crates.io","dependencies":[{deps}]{}}}"#,
            if root { r#","root":true"# } else { "" }
        )
    };
    let doc = |packages: &[String]| format!(r#"{{"packages":[{}]}}"#, packages.join(","));
    let huge_array = format!(
        r#"{{"packages":[{}],"padding":[{}]}}"#,
        pkg("a", "1.0.0", "", true),
        vec!["0"; 5_000_000].join(",")
    );
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "deep",
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
            "invalid manifest",
        ),
        ("huge-array", huge_array, "8388608-byte limit"),
        (
            "two-roots",
            doc(&[pkg("a", "1.0.0", "", true), pkg("b", "1.0.0", "", true)]),
            "root",
        ),
        (
            "no-root",
            doc(&[pkg("a", "1.0.0", "", false), pkg("b", "1.0.0", "0", false)]),
            "root",
        ),
        (
            "cycle",
            doc(&[pkg("a", "1.0.0", "1", true), pkg("b", "1.0.0", "0", false)]),
            "cycle",
        ),
        (
            "out-of-range",
            doc(&[pkg("a", "1.0.0", "7", true)]),
            "depends on index 7",
        ),
        ("non-semver", doc(&[pkg("a", "1.0", "", true)]), "version"),
        (
            "not-json",
            "\u{0}\u{1}garbage".to_owned(),
            "invalid manifest",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = scan(dir.path());
    let mut paths = Vec::new();
    for (name, json, _) in &cases {
        let path = dir.path().join(name);
        std::fs::write(&path, elf_with_section(&zlib(json.as_bytes()))).unwrap();
        cmd.arg(&path);
        paths.push(path);
    }
    cmd.arg(sample("x86_64-linux-gnu"));
    let (code, report) = scan_json(&mut cmd);
    assert_eq!(code, 2, "{report}");
    for ((name, _, reason), path) in cases.iter().zip(&paths) {
        let i = input(&report, path);
        assert_eq!(i["units"][0]["completeness"], "none", "{name}: {i}");
        assert!(i["units"][0]["packages"].as_array().unwrap().is_empty());
        let err = error_of(i);
        assert!(
            err.to_lowercase().contains(reason),
            "{name}: {err:?} does not say {reason:?}"
        );
    }
    assert_eq!(
        report["summary"]["errors"].as_u64(),
        Some(cases.len() as u64),
        "{report}"
    );
    let good = input(&report, &sample("x86_64-linux-gnu"));
    assert!(!good["units"][0]["findings"].as_array().unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Forged container headers
// ---------------------------------------------------------------------------------------------

fn be32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_be_bytes());
}

fn read_be32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap())
}

/// A universal binary whose second slice overlaps the first, or lies past the end of the file.
#[test]
fn fat_mach_o_with_overlapping_or_out_of_range_slices_is_an_error() {
    let fat = std::fs::read(sample("universal2-macos")).unwrap();
    assert_eq!(read_be32(&fat, 0), 0xcafe_babe);
    assert_eq!(read_be32(&fat, 4), 2);
    // fat_arch i at 8 + 20 i: cputype, cpusubtype, offset, size, align.
    let (first_offset, second_size) = (read_be32(&fat, 8 + 8), read_be32(&fat, 28 + 12));
    let mut overlapping = fat.clone();
    be32(&mut overlapping, 28 + 8, first_offset + 4096);
    let mut past_end = fat.clone();
    be32(&mut past_end, 28 + 8, u32::MAX - second_size / 2);
    let mut huge = fat.clone();
    be32(&mut huge, 28 + 12, u32::MAX);

    let dir = tempfile::tempdir().unwrap();
    let mut cmd = scan(dir.path());
    let cases = [
        ("overlapping", overlapping, "overlap"),
        ("past-end", past_end, "past the end"),
        ("huge-slice", huge, "past the end"),
    ];
    for (name, bytes, _) in &cases {
        std::fs::write(dir.path().join(name), bytes).unwrap();
        cmd.arg(dir.path().join(name));
    }
    let (code, doc) = scan_json(&mut cmd);
    assert_eq!(code, 2, "{doc}");
    for (name, _, reason) in &cases {
        let i = input(&doc, &dir.path().join(name));
        assert_eq!(i["status"], "error", "{name}: {i}");
        let err = error_of(i);
        assert!(err.contains(reason), "{name}: {err}");
    }
}

/// The file offset of the section table entry named `name` in a PE file.
fn pe_section_header(pe: &[u8], name: &[u8]) -> usize {
    let le16 = |at: usize| u16::from_le_bytes([pe[at], pe[at + 1]]) as usize;
    let pe_header = u32::from_le_bytes(pe[0x3c..0x40].try_into().unwrap()) as usize;
    let sections = le16(pe_header + 6);
    let optional = le16(pe_header + 20);
    let table = pe_header + 24 + optional;
    (0..sections)
        .map(|i| table + 40 * i)
        .find(|&at| pe[at..at + 8].starts_with(name))
        .expect("section present")
}

/// PE section pointers past the end of the file: the manifest's own section is an error; the
/// others are never read.
#[test]
fn pe_section_pointers_past_the_end_of_file_are_errors() {
    let exe = std::fs::read(sample("x86_64-windows-gnu.exe")).unwrap();
    let at = pe_section_header(&exe, b".dep-v0\0");
    let mut past = exe.clone();
    past[at + 20..at + 24].copy_from_slice(&0xffff_0000u32.to_le_bytes());
    let mut long = exe.clone();
    long[at + 16..at + 24].copy_from_slice(&[0xff; 8]);
    let mut others = exe.clone();
    let text = pe_section_header(&exe, b".text\0");
    others[text + 20..text + 24].copy_from_slice(&0xffff_0000u32.to_le_bytes());

    let dir = tempfile::tempdir().unwrap();
    let mut cmd = scan(dir.path());
    for (name, bytes) in [("past", &past), ("long", &long), ("others", &others)] {
        std::fs::write(dir.path().join(name), bytes).unwrap();
        cmd.arg(dir.path().join(name));
    }
    let (code, doc) = scan_json(&mut cmd);
    assert_eq!(code, 2, "{doc}");
    for name in ["past", "long"] {
        let err = error_of(input(&doc, &dir.path().join(name)));
        assert!(err.contains("past the end"), "{name}: {err}");
    }
    // Only the manifest's section is read: a bad pointer elsewhere changes nothing.
    let others = input(&doc, &dir.path().join("others"));
    assert_eq!(others["units"][0]["completeness"], "complete", "{others}");
}

// ---------------------------------------------------------------------------------------------
// Sparse 10 GiB files, unreadable files, FIFOs
// ---------------------------------------------------------------------------------------------

/// A copy of `sample` extended with a hole to 10 GiB (no disk space used).
fn sparse_copy(sample_name: &str, to: &Path) {
    std::fs::copy(sample(sample_name), to).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(to)
        .unwrap()
        .set_len(10 << 30)
        .unwrap();
}

/// A 10 GiB file with a manifest at its start is audited from its headers and the section;
/// one without a manifest is recovered from at most its first
/// `binaudit::recover::MAX_FILE_BYTES`, and says so; a 10 GiB lock file is refused unread.
#[test]
fn sparse_10_gib_files_with_and_without_a_manifest_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let with = dir.path().join("with-manifest");
    let without = dir.path().join("without-manifest");
    sparse_copy("x86_64-linux-gnu", &with);
    sparse_copy("x86_64-linux-gnu-no-manifest", &without);
    let (code, doc) = scan_json(scan(dir.path()).arg(&with).arg(&without));
    assert_eq!(code, 1, "findings, nothing unreadable: {doc}");
    assert_eq!(
        binaudit::recover::MAX_FILE_BYTES,
        256 << 20,
        "the message below"
    );
    let with = input(&doc, &with);
    assert_eq!(with["units"][0]["completeness"], "complete", "{with}");
    assert!(with["units"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["id"] == "RUSTSEC-2021-0003"));
    let without = input(&doc, &without);
    assert_eq!(
        without["units"][0]["completeness"], "recovered",
        "{without}"
    );
    let evidence = without["units"][0]["evidence"].as_str().unwrap();
    assert!(
        evidence.contains("only the first 256 MiB"),
        "a partial read is said: {evidence}"
    );
    // The panic paths are near the start: what the original recovers is still found.
    let names: Vec<&str> = without["units"][0]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"smallvec"), "{names:?}");

    let lock = dir.path().join("Cargo.lock");
    std::fs::File::create(&lock)
        .unwrap()
        .set_len(10 << 30)
        .unwrap();
    let (code, doc) = scan_json(scan(dir.path()).arg(&lock));
    assert_eq!(code, 2, "{doc}");
    let err = error_of(input(&doc, &lock));
    assert!(err.contains("-byte limit"), "{err}");
}

/// A path made unreadable by its permissions: an error naming it, exit 2, the rest reported —
/// given directly and found by a directory walk. As root (which reads everything) the scan runs
/// as `nobody` through `setpriv`.
#[test]
fn unreadable_files_are_errors_naming_the_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    let locked = tree.join("locked");
    std::fs::copy(sample("x86_64-linux-gnu"), &locked).unwrap();
    std::fs::copy(sample("aarch64-linux-gnu"), tree.join("readable")).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    for p in [dir.path(), &tree] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let mut cmd = scan(dir.path());
    cmd.arg(&locked).arg(&tree);
    if std::fs::File::open(&locked).is_ok() {
        let probe = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "true"])
            .status();
        if !probe.as_ref().is_ok_and(|s| s.success()) {
            eprintln!("skipped: running as root, and setpriv cannot drop privileges: {probe:?}");
            return;
        }
        let program = cmd.get_program().to_owned();
        let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
        let mut as_nobody = Command::new("setpriv");
        as_nobody
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(program)
            .args(args)
            .env("XDG_CACHE_HOME", dir.path().join("cache"))
            .env("CARGO_HOME", dir.path().join("cargo-home"))
            .current_dir(dir.path());
        cmd = as_nobody;
    }
    let (code, doc) = scan_json(&mut cmd);
    assert_eq!(code, 2, "{doc}");
    let inputs = doc["inputs"].as_array().unwrap();
    let locked_inputs: Vec<_> = inputs
        .iter()
        .filter(|i| i["path"] == locked.display().to_string())
        .collect();
    assert!(!locked_inputs.is_empty(), "{doc}");
    for i in locked_inputs {
        assert_eq!(i["status"], "error", "{i}");
        let err = error_of(i);
        assert!(err.contains("ermission denied"), "{err}");
    }
    assert_eq!(input(&doc, &tree.join("readable"))["status"], "audited");
}

/// A FIFO in a scanned directory is skipped; one named directly is an error, not a hang, for
/// `show` and `scan` alike.
#[test]
fn fifos_never_hang_a_scan() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    let fifo = tree.join("fifo");
    if !mkfifo(&fifo) {
        return;
    }
    std::fs::copy(sample("x86_64-linux-gnu"), tree.join("app")).unwrap();

    let (code, doc) = scan_json(scan(dir.path()).arg(&tree));
    assert_eq!(code, 1, "{doc}");
    let paths: Vec<&str> = doc["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, [tree.join("app").display().to_string()]);

    let (code, doc) = scan_json(scan(dir.path()).arg(&fifo).arg(tree.join("app")));
    assert_eq!(code, 2, "{doc}");
    let err = error_of(input(&doc, &fifo));
    assert!(err.contains("not a regular file"), "{err}");
    assert_eq!(input(&doc, &tree.join("app"))["status"], "audited");

    // A FIFO named like a lock file is not read as one either.
    let fifo_lock = dir.path().join("Cargo.lock");
    assert!(mkfifo(&fifo_lock));
    let (code, doc) = scan_json(scan(dir.path()).arg(&fifo_lock));
    assert_eq!(code, 2, "{doc}");
    let err = error_of(input(&doc, &fifo_lock));
    assert!(err.contains("not a regular file"), "{err}");

    // A FIFO as the configuration file (in a checkout being audited, say).
    let checkout = dir.path().join("checkout");
    std::fs::create_dir_all(checkout.join(".cargo")).unwrap();
    let config = checkout.join(".cargo/audit.toml");
    assert!(mkfifo(&config));
    // Discovery looks for a regular file and passes the FIFO by; named, it is an error.
    let (code, out, err) = run_bounded(
        scan(dir.path())
            .current_dir(&checkout)
            .arg(tree.join("app")),
    );
    assert_eq!(code, 1, "{out}{err}");
    let (code, out, err) = run_bounded(
        scan(dir.path())
            .arg("--config")
            .arg(&config)
            .arg(tree.join("app")),
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("audit.toml") && err.contains("not a regular file"),
        "{err}"
    );

    let (code, out, err) = run_bounded(binaudit().arg("show").arg(&fifo));
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("not a regular file"), "{out}{err}");
}

// ---------------------------------------------------------------------------------------------
// Container images
// ---------------------------------------------------------------------------------------------

/// A made-up, well-formed digest (blobs are named by digest; their bytes are not hashed).
fn fake_digest(n: usize) -> String {
    format!("sha256:{n:064x}")
}

/// Writes an OCI layout with one image (linux/amd64) of the given layer blobs, bottom first.
fn oci_layout(root: &Path, layers: &[Vec<u8>]) {
    let blobs = root.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |digest: &str, bytes: &[u8]| {
        std::fs::write(blobs.join(digest.trim_start_matches("sha256:")), bytes).unwrap();
    };
    let digests: Vec<String> = (0..layers.len()).map(|i| fake_digest(i + 1)).collect();
    for (d, bytes) in digests.iter().zip(layers) {
        put(d, bytes);
    }
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": digests},
    });
    let config_digest = fake_digest(1 << 40);
    put(&config_digest, &serde_json::to_vec(&config).unwrap());
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": 1},
        "layers": digests.iter().map(|d| serde_json::json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": 1,
        })).collect::<Vec<_>>(),
    });
    let manifest_digest = fake_digest(1 << 41);
    put(&manifest_digest, &serde_json::to_vec(&manifest).unwrap());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": manifest_digest, "size": 1,
                       "annotations": {"org.opencontainers.image.ref.name": "t"}}],
    });
    std::fs::write(root.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    std::fs::write(
        root.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
}

/// One raw tar header: `name` and `link` stored verbatim, the size field as given (whatever
/// data follows), the checksum computed.
fn tar_header(name: &str, kind: u8, link: &str, size: u64) -> [u8; 512] {
    let mut h = tar::Header::new_gnu();
    {
        let old = h.as_old_mut();
        old.name[..name.len()].copy_from_slice(name.as_bytes());
        old.linkname[..link.len()].copy_from_slice(link.as_bytes());
    }
    h.set_entry_type(tar::EntryType::new(kind));
    h.set_size(size);
    h.set_mode(0o755);
    h.set_mtime(0);
    h.set_cksum();
    *h.as_bytes()
}

/// A tar of entries `(name, type, link, data)`, each padded to the block size, and the end.
fn tar_of(entries: &[(&str, u8, &str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, kind, link, data) in entries {
        out.extend_from_slice(&tar_header(name, *kind, link, data.len() as u64));
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0; 1024]);
    out
}

/// Runs `scan` on an image and returns the report.
fn scan_image(dir: &Path, image: &Path) -> (i32, serde_json::Value) {
    scan_json(scan(dir).arg(image))
}

/// The paths (inside the image) of the inputs of a report, with their status.
fn image_inputs(doc: &serde_json::Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = doc["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let path = i["path"].as_str().unwrap();
            let inner = path.rsplit_once(':').map_or(path, |(_, p)| p);
            (inner.to_owned(), i["status"].as_str().unwrap().to_owned())
        })
        .collect();
    out.sort();
    out
}

/// `..` paths, absolute and looping symbolic links, hard links to a binary, to a missing
/// target, to themselves and to each other: binaries are read under their own paths, links are
/// never followed, an escaping path is a per-file error, and nothing loops.
#[test]
fn image_links_and_escaping_paths_are_never_followed() {
    let elf = std::fs::read(sample("x86_64-linux-gnu")).unwrap();
    let layer = tar_of(&[
        ("usr/bin/app", b'0', "", &elf),
        ("usr/bin/hard", b'1', "usr/bin/app", b""),
        ("usr/bin/hard-missing", b'1', "usr/bin/nowhere", b""),
        ("usr/bin/hard-self", b'1', "usr/bin/hard-self", b""),
        ("usr/bin/hard-a", b'1', "usr/bin/hard-b", b""),
        ("usr/bin/hard-b", b'1', "usr/bin/hard-a", b""),
        ("usr/bin/abs-link", b'2', "/usr/bin/app", b""),
        ("usr/bin/out-link", b'2', "../../../../etc/shadow", b""),
        ("loop/a", b'2', "b", b""),
        ("loop/b", b'2', "a", b""),
        ("loop/self", b'2', "self", b""),
        ("../../escape", b'0', "", &elf),
        ("/abs/bin/x", b'0', "", &elf),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("img");
    oci_layout(&image, &[layer]);
    let (code, doc) = scan_image(dir.path(), &image);
    assert_eq!(code, 2, "the escaping path could not be audited: {doc}");
    let inputs = image_inputs(&doc);
    let expected: Vec<(String, String)> = [
        ("../../escape", "error"),
        ("/abs/bin/x", "audited"),
        ("/usr/bin/app", "audited"),
        ("/usr/bin/hard", "audited"),
    ]
    .iter()
    .map(|(p, s)| ((*p).to_owned(), (*s).to_owned()))
    .collect();
    assert_eq!(inputs, expected, "{doc}");
}

/// Extension headers and sizes that claim far more than there is: a 10 GiB PAX record, a
/// 10 GiB GNU long name, and a 10 GiB executable. Each is refused or skipped from its header —
/// never allocated — and the scan exits 2.
#[test]
fn oversized_tar_headers_are_errors_not_allocations() {
    let elf = std::fs::read(sample("x86_64-linux-gnu")).unwrap();
    let huge = 10u64 << 30;
    let claim = |kind: u8| {
        let mut t = tar_header("././@LongLink", kind, "", huge).to_vec();
        t.extend_from_slice(&[b'x'; 4096]);
        t
    };
    let mut big_exe = tar_header("usr/bin/big", b'0', "", huge).to_vec();
    big_exe.extend_from_slice(&elf);
    let pax_over_cap = {
        // A complete PAX record set just over its 1 MiB cap.
        let body = format!(" comment={}\n", "c".repeat(1 << 20));
        let record = format!("{} {body}", body.len() + 8);
        let mut t = tar_header("PaxHeaders/x", b'x', "", record.len() as u64).to_vec();
        t.extend_from_slice(record.as_bytes());
        t.resize(t.len().div_ceil(512) * 512, 0);
        t.extend_from_slice(&tar_of(&[("usr/bin/app", b'0', "", &elf)]));
        t
    };
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("pax-claim", claim(b'x'), "corrupt tar stream"),
        ("long-name-claim", claim(b'L'), "corrupt tar stream"),
        ("pax-over-cap", pax_over_cap, "corrupt tar stream"),
        // The claim is over the 1 GiB limit, so the file would be skipped unread; the stream then
        // ends inside the claimed data, which makes the whole layer corrupt.
        ("big-exe", big_exe, "ends inside an entry's data"),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (name, layer, reason) in cases {
        let image = dir.path().join(name);
        oci_layout(&image, &[layer]);
        let (code, doc) = scan_image(dir.path(), &image);
        assert_eq!(code, 2, "{name}: {doc}");
        let errors: Vec<String> = doc["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["status"] == "error")
            .map(error_of)
            .collect();
        assert!(
            errors.iter().any(|e| e.contains(reason)),
            "{name}: {errors:?} do not say {reason:?}"
        );
    }
}

/// 10,000 tiny layers are over the 1,000-layer limit: refused before any layer is read, with
/// the limit named. 1,000 are read, top first, whiteouts applied.
#[test]
fn ten_thousand_tiny_layers_are_refused_and_a_thousand_are_read() {
    use binaudit::targets::image::{walk_image, ImageError, ImageOptions};
    let elf = std::fs::read(sample("x86_64-linux-gnu")).unwrap();
    let tiny = |i: usize| tar_of(&[(&format!("layer/{i}"), b'0', "", b"tiny\n")]);
    let dir = tempfile::tempdir().unwrap();

    let many = dir.path().join("many");
    oci_layout(&many, &(0..10_000).map(tiny).collect::<Vec<_>>());
    let mut visited = 0;
    let err = walk_image(&many, &ImageOptions::default(), &mut |_| visited += 1).unwrap_err();
    assert!(
        matches!(
            err,
            ImageError::Limit {
                what: "layers",
                limit: 1000
            }
        ),
        "{err}"
    );
    assert_eq!(visited, 0);
    let (code, doc) = scan_image(dir.path(), &many);
    assert_eq!(code, 2, "{doc}");
    let err = error_of(&doc["inputs"][0]);
    assert!(err.contains("more layers than the limit of 1000"), "{err}");

    let thousand = dir.path().join("thousand");
    let mut layers: Vec<Vec<u8>> = vec![tar_of(&[
        ("usr/bin/app", b'0', "", &elf),
        ("usr/bin/gone", b'0', "", &elf),
    ])];
    layers.extend((1..999).map(tiny));
    layers.push(tar_of(&[("usr/bin/.wh.gone", b'0', "", b"")]));
    oci_layout(&thousand, &layers);
    let mut paths = Vec::new();
    let summary = walk_image(&thousand, &ImageOptions::default(), &mut |e| {
        paths.push(e.path.to_owned())
    })
    .unwrap();
    assert_eq!(summary.layers, 1000);
    assert_eq!(summary.files, 999);
    assert_eq!(paths, ["/usr/bin/app"]);
}

/// Truncated gzip and zstd layers and a layer that is not a tar: errors naming the layer, after
/// which the binaries already read are still reported, and the scan exits 2.
#[test]
fn truncated_compressed_layers_are_errors_naming_the_layer() {
    let elf = std::fs::read(sample("x86_64-linux-gnu")).unwrap();
    let plain = tar_of(&[("usr/bin/app", b'0', "", &elf)]);
    let gzip = {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&plain).unwrap();
        enc.finish().unwrap()
    };
    let zstd = zstd::stream::encode_all(plain.as_slice(), 3).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, blob, reason) in [
        ("gzip", gzip, "gzip decompression failed"),
        ("zstd", zstd, "zstd decompression failed"),
        ("plain", plain, "corrupt tar stream"),
    ] {
        let image = dir.path().join(name);
        let cut = blob[..blob.len() / 2].to_vec();
        // The intact layer on top is read first; the truncated one below it fails.
        let top = tar_of(&[("usr/bin/top", b'0', "", &elf)]);
        oci_layout(&image, &[cut, top]);
        let (code, doc) = scan_image(dir.path(), &image);
        assert_eq!(code, 2, "{name}: {doc}");
        let inputs = image_inputs(&doc);
        assert!(
            inputs.contains(&("/usr/bin/top".to_owned(), "audited".to_owned())),
            "{name}: {inputs:?}"
        );
        let err = doc["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["status"] == "error")
            .map(error_of)
            .next()
            .unwrap_or_else(|| panic!("{name}: no error in {doc}"));
        assert!(
            err.contains(reason) && err.contains(&fake_digest(1)),
            "{name}: {err}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Peak memory
// ---------------------------------------------------------------------------------------------

/// The bounds ARCHITECTURE.md ("Resource limits") documents for a scan of one file: a bomb or
/// a sparse file; and the largest structures accepted (a section table at its limit, a valid
/// manifest at the JSON limit whose packages are all kept).
const PEAK_RSS_BOUND_KIB: u64 = 64 * 1024;
const PEAK_RSS_LARGEST_MANIFEST_KIB: u64 = 128 * 1024;

/// Runs `cmd` under a Python parent whose only child it is, and returns (exit status, peak RSS
/// in KiB): `getrusage(RUSAGE_CHILDREN)` there sees this child alone, where the test process
/// also waits for the children of the tests running beside it.
fn peak_rss_kib(cmd: &Command) -> (i32, u64) {
    let mut py = Command::new("python3");
    py.args([
        "-c",
        "import resource, subprocess, sys\n\
         r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n\
         print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
    ])
    .arg(cmd.get_program())
    .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => py.env(k, v),
            None => py.env_remove(k),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        py.current_dir(dir);
    }
    let (code, out, err) = run_bounded(&mut py);
    assert_eq!(code, 0, "{out}{err}");
    let mut fields = out.split_whitespace().map(|f| f.parse::<i64>().unwrap());
    let status = fields.next().unwrap() as i32;
    let kib = fields.next().unwrap() as u64;
    (status, kib)
}

/// Peak RSS of a whole `binaudit` run on the zlib bomb (over 1 GiB of zeros), a 10 GiB sparse
/// binary with a manifest and one without (recovery reads its first 256 MiB): each under
/// 64 MiB. An ELF section table of the most entries accepted (64 MiB of headers), and a valid
/// manifest of 6 MiB (near the 8 MiB JSON limit) listing 100,000 packages, decoded, matched and
/// reported whole: under 128 MiB.
#[test]
fn peak_memory_is_bounded_on_bombs_sparse_files_and_the_largest_structures() {
    if !require_tool("python3", &["--version"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bomb_path = dir.path().join("bomb");
    std::fs::write(&bomb_path, elf_with_section(&bomb())).unwrap();
    let with = dir.path().join("sparse-with-manifest");
    let without = dir.path().join("sparse-without-manifest");
    sparse_copy("x86_64-linux-gnu", &with);
    sparse_copy("x86_64-linux-gnu-no-manifest", &without);
    let large = dir.path().join("large-manifest");
    let mut packages = vec![
        r#"{"name":"root","version":"1.0.0","source":"local","root":true,"dependencies":[1]}"#
            .to_owned(),
    ];
    packages.extend((1..100_000).map(|i| {
        let next = if i + 1 < 100_000 {
            format!("{}", i + 1)
        } else {
            String::new()
        };
        format!(
            r#"{{"name":"c{i}","version":"1.0.{i}","source":"crates.io","dependencies":[{next}]}}"#
        )
    }));
    let json = format!(r#"{{"packages":[{}]}}"#, packages.join(","));
    assert!(json.len() < 8 << 20, "{}", json.len());
    std::fs::write(&large, elf_with_section(&zlib(json.as_bytes()))).unwrap();

    // An ELF whose section header table claims the most sections accepted (extended
    // numbering, 1,048,575 entries of 64 bytes) in the hole of a sparse file: the table is read.
    let many_sections = dir.path().join("many-sections");
    {
        use std::io::{Seek, SeekFrom};
        let mut elf = std::fs::read(sample("x86_64-linux-gnu")).unwrap();
        let table = 1u64 << 30;
        elf[0x28..0x30].copy_from_slice(&table.to_le_bytes()); // e_shoff
        elf[0x3c..0x3e].copy_from_slice(&0u16.to_le_bytes()); // e_shnum: see section 0
        elf[0x3e..0x40].copy_from_slice(&1u16.to_le_bytes()); // e_shstrndx
        let mut section0 = [0u8; 64];
        section0[0x20..0x28].copy_from_slice(&((1u64 << 20) - 1).to_le_bytes()); // sh_size
        let mut f = std::fs::File::create(&many_sections).unwrap();
        f.write_all(&elf).unwrap();
        f.seek(SeekFrom::Start(table)).unwrap();
        f.write_all(&section0).unwrap();
        f.set_len(table + (64 << 20) + 4096).unwrap();
    }

    let cases: [(&str, &Path, i32, u64); 5] = [
        ("zlib bomb", &bomb_path, 2, PEAK_RSS_BOUND_KIB),
        ("10 GiB sparse, manifest", &with, 1, PEAK_RSS_BOUND_KIB),
        (
            "10 GiB sparse, no manifest",
            &without,
            1,
            PEAK_RSS_BOUND_KIB,
        ),
        (
            "ELF with 1,048,575 section headers",
            &many_sections,
            2,
            PEAK_RSS_LARGEST_MANIFEST_KIB,
        ),
        (
            "6 MiB manifest, 100,000 packages",
            &large,
            0,
            PEAK_RSS_LARGEST_MANIFEST_KIB,
        ),
    ];
    for (what, path, expected, bound) in cases {
        let mut cmd = scan(dir.path());
        cmd.arg(path);
        let (status, kib) = peak_rss_kib(&cmd);
        eprintln!("peak RSS, binaudit scan of {what}: {} KiB", kib);
        assert_eq!(status, expected, "{what}");
        assert!(kib < bound, "{what}: peak RSS {kib} KiB, over {bound} KiB");
    }
}

// ---------------------------------------------------------------------------------------------
// Advisory databases and install records
// ---------------------------------------------------------------------------------------------

/// An advisory database with a FIFO, a 10 GiB sparse file and a directory where advisory files
/// should be: each is a load error naming the file, the rest of the database still loads, and
/// the scan neither hangs nor reads the big file.
#[test]
fn hostile_advisory_files_are_load_errors_not_hangs() {
    use binaudit::advisory::{Database, OpenOptions};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    copy_tree(&repo_root().join("tests/fixtures/advisory-db-small"), &db);
    let hostile = db.join("crates/hostile");
    std::fs::create_dir_all(&hostile).unwrap();
    let fifo = hostile.join("RUSTSEC-2099-0997.md");
    if !mkfifo(&fifo) {
        return;
    }
    let big = hostile.join("RUSTSEC-2099-0998.md");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(10 << 30)
        .unwrap();
    std::fs::create_dir(hostile.join("RUSTSEC-2099-0999.md")).unwrap();

    let opened = Database::open(&db, &OpenOptions::without_cache()).unwrap();
    let errors: Vec<String> = opened.load_errors().iter().map(|e| e.to_string()).collect();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("RUSTSEC-2099-0997.md") && e.contains("not a regular file")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("RUSTSEC-2099-0998.md") && e.contains("-byte limit")),
        "{errors:?}"
    );
    assert_eq!(opened.info().advisory_count, 9, "the others still load");

    // Through the CLI: the findings from the rest of the database are still reported.
    let mut cmd = scan_with_db(dir.path(), &db);
    cmd.arg(sample("x86_64-linux-gnu"));
    let (code, doc) = scan_json(&mut cmd);
    assert_eq!(code, 1, "{doc}");
    assert!(
        input(&doc, &sample("x86_64-linux-gnu"))["units"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "RUSTSEC-2021-0003")
    );
}

/// Writes a tar to `path`: `head`, then `count` empty files with distinct 60 KiB names under
/// `dir` (GNU long-name members), then the end of the archive. Streamed: hundreds of MiB.
fn write_long_names(path: &Path, head: &[u8], dir: &str, count: usize) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    out.write_all(head).unwrap();
    let stem = "n".repeat(60 << 10);
    for i in 0..count {
        let name = format!("{dir}{stem}{i}\0");
        out.write_all(&tar_header("././@LongLink", b'L', "", name.len() as u64))
            .unwrap();
        out.write_all(name.as_bytes()).unwrap();
        out.write_all(&vec![0; name.len().div_ceil(512) * 512 - name.len()])
            .unwrap();
        out.write_all(&tar_header("placeholder", b'0', "", 0))
            .unwrap();
    }
    out.write_all(&[0; 1024]).unwrap();
    out.into_inner().unwrap().sync_all().unwrap();
}

/// Distinct 60 KiB names (GNU long-name members) in an upper layer: what the walk keeps of them
/// is capped at 256 MiB of path bytes per image, an error naming the limit — a layer of a few
/// compressed megabytes cannot be kept as gigabytes.
#[test]
fn long_names_are_capped_in_total_per_image() {
    use binaudit::targets::image::{walk_image, ImageError, ImageOptions};
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("img");
    oci_layout(
        &image,
        &[tar_of(&[("usr/bin/x", b'0', "", b"x")]), Vec::new()],
    );
    // The top layer is written straight to its blob: 4,500 entries of 60 KiB names, 270 MiB.
    let top = image
        .join("blobs/sha256")
        .join(&fake_digest(2)["sha256:".len()..]);
    write_long_names(&top, b"", "d/", 4500);

    let err = walk_image(&image, &ImageOptions::default(), &mut |_| {}).unwrap_err();
    assert!(
        matches!(
            err,
            ImageError::Limit {
                what: "bytes of paths in its layers",
                limit: 268_435_456
            }
        ),
        "{err}"
    );
}

/// FIFOs where an OCI layout has its index and a layer blob: errors, not hangs.
#[test]
fn fifos_in_an_image_layout_never_hang_a_scan() {
    let dir = tempfile::tempdir().unwrap();
    for (name, fifo_at, reason) in [
        ("index", "index.json", "the image has no index.json"),
        ("layer", "blobs/sha256/", "is missing from the image"),
    ] {
        let image = dir.path().join(name);
        oci_layout(&image, &[tar_of(&[("usr/bin/x", b'0', "", b"x")])]);
        let fifo = if fifo_at.ends_with('/') {
            image.join(fifo_at).join(&fake_digest(1)["sha256:".len()..])
        } else {
            image.join(fifo_at)
        };
        std::fs::remove_file(&fifo).unwrap();
        if !mkfifo(&fifo) {
            return;
        }
        let (code, doc) = scan_image(dir.path(), &image);
        assert_eq!(code, 2, "{name}: {doc}");
        let err = error_of(&doc["inputs"][0]);
        assert!(err.contains(reason), "{name}: {err}");
    }
}

/// An archive (docker-archive) whose members have distinct 60 KiB names: the index of its
/// members keeps at most 64 MiB of names, an error naming the limit beyond.
#[test]
fn archive_member_names_are_capped_in_total() {
    use binaudit::targets::image::{walk_image, ImageError, ImageOptions};
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("names.tar");
    let manifest = tar_of(&[("manifest.json", b'0', "", b"[]")]);
    write_long_names(&archive, &manifest[..1024], "", 1200);

    let err = walk_image(&archive, &ImageOptions::default(), &mut |_| {}).unwrap_err();
    assert!(
        matches!(
            err,
            ImageError::Limit {
                what: "bytes of member names in the archive",
                limit: 67_108_864
            }
        ),
        "{err}"
    );
}
