//! Reader benchmark: how fast, and with how much I/O, each reader finds the `.dep-v0` section.
//!
//! The issue asked us to choose between goblin and object by measuring, and never to read a
//! whole large file to find one section. For every input this times, as the median of N runs
//! (N chosen so each case takes about half a second) with the page cache warm:
//!
//! 1. `binaudit::binary::inspect_path`: open, `ReadCache`, locate, read the section, inflate and
//!    validate the JSON. The product's real path.
//!
//!    1b. The same without inflating and validating: the work (3) and (4) do, for a like-for-like
//!    ratio.
//! 2. `binaudit::extract::locate` on the file already in memory: parsing alone, without I/O.
//! 3. goblin: `std::fs::read` the whole file, `goblin::Object::parse`, find the section bytes.
//! 4. object's high-level API: `std::fs::read`, `object::File::parse`, `section_by_name`.
//!
//! It also counts the bytes and read calls of (1), from `rchar` and `syscr` in `/proc/self/io`
//! around one call.
//!
//! Run with `cargo bench --bench reader`; `BINAUDIT_BENCH_CASE_MS` sets the time per case and
//! `BINAUDIT_BENCH_LARGE` the path of the large binary. See `benches/README.md`.

// A benchmark whose inputs cannot be read has nothing to report, so it stops at once.
#![allow(clippy::unwrap_used)]

use std::fs::{self, File};
use std::hint::black_box;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use binaudit::binary::{self, ImageManifest};
use binaudit::decode::Limits;
use binaudit::extract::{self, ContainerFormat, Endian, SECTION_NAME};
use object::read::macho::{FatArch as _, MachOFatFile32, MachOFatFile64};
use object::{Object as _, ObjectSection as _, ReadRef as _};

/// Smallest file that counts as "large".
const LARGE_MIN_BYTES: u64 = 20 << 20;
/// Apparent size of the sparse file.
const SPARSE_BYTES: u64 = 10 << 30;
/// The sample the sparse file is made from.
const SPARSE_SOURCE: &str = "x86_64-linux-gnu";
/// Files in `sample-binaries/` that are not binaries.
const NOT_SAMPLES: [&str; 2] = ["build.sh", "README.md"];
const MIN_RUNS: usize = 3;
const MAX_RUNS: usize = 200_000;

#[derive(Clone, Copy, PartialEq, Eq)]
enum InputKind {
    Sample,
    Large,
    Sparse,
}

struct Input {
    name: String,
    path: PathBuf,
    kind: InputKind,
}

/// What one case gave: a median time, or why there is none.
enum Outcome {
    Timed { median: Duration, runs: usize },
    NotApplicable(&'static str),
}

impl Outcome {
    fn median(&self) -> Option<Duration> {
        match self {
            Outcome::Timed { median, .. } => Some(*median),
            Outcome::NotApplicable(_) => None,
        }
    }
}

struct Row {
    name: String,
    kind: InputKind,
    format: String,
    manifests: String,
    size: u64,
    bytes_read: Option<IoCount>,
    inspect: Outcome,
    inspect_raw: Outcome,
    locate: Outcome,
    goblin: Outcome,
    object: Outcome,
    /// Whether goblin and object found the same section bytes as binaudit.
    agreement: Vec<String>,
}

fn main() {
    let case_time = Duration::from_millis(
        std::env::var("BINAUDIT_BENCH_CASE_MS")
            .ok()
            .and_then(|ms| ms.parse().ok())
            .unwrap_or(500),
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let samples = root.join("sample-binaries");
    let temp = tempfile::tempdir().unwrap();
    let started = Instant::now();

    let mut inputs = sample_inputs(&samples);
    inputs.push(large_input(temp.path(), &samples.join(SPARSE_SOURCE)));
    inputs.push(sparse_input(temp.path(), &samples.join(SPARSE_SOURCE)));

    // Warm the page cache, so every case measures reading from memory, not from the disk. The
    // sparse file is skipped: its holes read as zeros without touching the disk anyway.
    for input in inputs.iter().filter(|i| i.kind != InputKind::Sparse) {
        black_box(fs::read(&input.path).unwrap());
    }

    println!(
        "binaudit reader benchmark: median of N runs per case, N chosen for ~{} ms per case \
         ({MIN_RUNS}..={MAX_RUNS}); page cache warm (every input read once before timing); \
         {} CPUs",
        case_time.as_millis(),
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
    );
    println!();

    let mut rows = Vec::new();
    for input in &inputs {
        eprint!("measuring {} ...", input.name);
        let row = measure_input(input, case_time);
        eprintln!(" done");
        rows.push(row);
    }
    drop(inputs);
    let temp_path = temp.path().to_owned();
    temp.close().unwrap();

    print_table(&rows);
    print_notes(&rows);
    println!();
    println!("{}", conclusion(&rows));
    println!();
    println!(
        "Temporary files in {} deleted. Whole benchmark: {:.1} s.",
        temp_path.display(),
        started.elapsed().as_secs_f64()
    );
}

fn sample_inputs(dir: &Path) -> Vec<Input> {
    let mut inputs: Vec<Input> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_type().unwrap().is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| !NOT_SAMPLES.contains(&name.as_str()))
        .map(|name| Input {
            path: dir.join(&name),
            name,
            kind: InputKind::Sample,
        })
        .collect();
    inputs.sort_by(|a, b| a.name.cmp(&b.name));
    inputs
}

/// A binary over 20 MB: `BINAUDIT_BENCH_LARGE`, else the largest-known file of a Rust
/// toolchain (`librustc_driver-*.so`, over 100 MB, an ELF file without a manifest), else an
/// ELF object with 64 MiB of data and the sample's manifest, written into `dir`.
fn large_input(dir: &Path, manifest_source: &Path) -> Input {
    if let Some(path) = std::env::var_os("BINAUDIT_BENCH_LARGE").map(PathBuf::from) {
        return Input {
            name: file_name(&path),
            path,
            kind: InputKind::Large,
        };
    }
    if let Some(path) = find_toolchain_binary() {
        return Input {
            name: file_name(&path),
            path,
            kind: InputKind::Large,
        };
    }
    let path = dir.join("synthetic-64MiB.o");
    write_large_object(&path, manifest_source);
    Input {
        name: "synthetic-64MiB.o".to_owned(),
        path,
        kind: InputKind::Large,
    }
}

fn find_toolchain_binary() -> Option<PathBuf> {
    let rustup = std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".rustup")))?;
    let mut toolchains: Vec<PathBuf> = fs::read_dir(rustup.join("toolchains"))
        .ok()?
        .filter_map(|entry| Some(entry.ok()?.path()))
        .collect();
    toolchains.sort();
    let is_large = |path: &PathBuf| fs::metadata(path).is_ok_and(|m| m.len() > LARGE_MIN_BYTES);
    let files_in = |dir: PathBuf| -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = fs::read_dir(dir)
            .into_iter()
            .flatten()
            .filter_map(|entry| Some(entry.ok()?.path()))
            .collect();
        files.sort();
        files
    };
    let driver = toolchains
        .iter()
        .flat_map(|t| files_in(t.join("lib")))
        .find(|path| file_name(path).starts_with("librustc_driver-") && is_large(path));
    driver.or_else(|| {
        toolchains
            .iter()
            .flat_map(|t| files_in(t.join("bin")))
            .find(is_large)
    })
}

fn write_large_object(path: &Path, manifest_source: &Path) {
    use object::write;
    let sample = fs::read(manifest_source).unwrap();
    let located = extract::locate(&sample[..]).unwrap();
    let section = located.images[0].section.as_ref().unwrap();
    let start = usize::try_from(section.offset).unwrap();
    let end = start + usize::try_from(section.size).unwrap();
    let mut obj = write::Object::new(
        object::BinaryFormat::Elf,
        object::Architecture::X86_64,
        object::Endianness::Little,
    );
    let data = obj.add_section(Vec::new(), b".data".to_vec(), object::SectionKind::Data);
    obj.append_section_data(data, &vec![0x5a; 64 << 20], 16);
    let dep = obj.add_section(
        Vec::new(),
        SECTION_NAME.as_bytes().to_vec(),
        object::SectionKind::Data,
    );
    obj.append_section_data(dep, &sample[start..end], 1);
    fs::write(path, obj.write().unwrap()).unwrap();
}

/// A copy of a sample grown to 10 GiB with `set_len`: a hole, so it costs no disk space.
fn sparse_input(dir: &Path, source: &Path) -> Input {
    let path = dir.join("sparse-10GiB");
    fs::copy(source, &path).unwrap();
    File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(SPARSE_BYTES)
        .unwrap();
    Input {
        name: format!("sparse-10GiB ({SPARSE_SOURCE})"),
        path,
        kind: InputKind::Sparse,
    }
}

fn measure_input(input: &Input, case_time: Duration) -> Row {
    let limits = Limits::default();
    let path = input.path.as_path();
    let size = fs::metadata(path).unwrap().len();

    let report = binary::inspect_path(path, &limits);
    let (format, manifests) = match &report {
        Ok(report) => (describe_format(report), describe_manifests(report)),
        Err(error) => ("?".to_owned(), format!("error: {error}")),
    };
    let bytes_read = bytes_read_by(|| binary::inspect_path(path, &limits));
    let inspect = time(case_time, || binary::inspect_path(path, &limits));
    let inspect_raw = time(case_time, || locate_and_read(path));

    if input.kind == InputKind::Sparse {
        // Reading the file into memory is what this input rules out, so (2) goes through a
        // fresh `ReadCache` over the open file each run.
        let mut file = Some(File::open(path).unwrap());
        let locate = time(case_time, || {
            let cache = object::ReadCache::new(file.take().unwrap());
            let located = extract::locate(&cache);
            file = Some(cache.into_inner());
            located
        });
        let skipped = "skipped: would read 10 GiB";
        return Row {
            name: input.name.clone(),
            kind: input.kind,
            format,
            manifests,
            size,
            bytes_read,
            inspect,
            inspect_raw,
            locate,
            goblin: Outcome::NotApplicable(skipped),
            object: Outcome::NotApplicable(skipped),
            agreement: Vec::new(),
        };
    }

    let data = fs::read(path).unwrap();
    let locate = time(case_time, || extract::locate(&data[..]));

    // Check once, outside the timing, that all three readers find the same bytes.
    let ours = binaudit_sections(&data);
    let theirs_goblin = goblin_sections(&data);
    let theirs_object = object_sections(&data);
    let mut agreement = Vec::new();
    for (reader, found) in [
        ("goblin", theirs_goblin.as_ref().ok()),
        ("object", theirs_object.as_ref().ok()),
    ] {
        if let Some(found) = found {
            if *found != ours {
                agreement.push(format!(
                    "{}: {reader} found {} section(s), binaudit {} — they differ",
                    input.name,
                    found.iter().flatten().count(),
                    ours.iter().flatten().count()
                ));
            }
        }
    }

    let goblin = match &theirs_goblin {
        Ok(_) => time(case_time, || {
            let data = fs::read(path).unwrap();
            section_lengths(goblin_sections(&data))
        }),
        Err(why) => Outcome::NotApplicable(why),
    };
    let object = match &theirs_object {
        Ok(_) => time(case_time, || {
            let data = fs::read(path).unwrap();
            section_lengths(object_sections(&data))
        }),
        Err(why) => Outcome::NotApplicable(why),
    };

    Row {
        name: input.name.clone(),
        kind: input.kind,
        format,
        manifests,
        size,
        bytes_read,
        inspect,
        inspect_raw,
        locate,
        goblin,
        object,
        agreement,
    }
}

/// Median wall time of `f`, over enough runs to fill about `case_time`.
fn time<T>(case_time: Duration, mut f: impl FnMut() -> T) -> Outcome {
    // Estimate the cost of one run from a short warm-up (at least one run, about 50 ms).
    let warm_up = Instant::now();
    let mut warm_runs = 0u32;
    while warm_runs == 0 || warm_up.elapsed() < case_time / 10 {
        black_box(f());
        warm_runs += 1;
    }
    let per_run = warm_up.elapsed() / warm_runs;
    let wanted = case_time.as_nanos() / per_run.as_nanos().max(1);
    let runs = usize::try_from(wanted)
        .unwrap_or(MAX_RUNS)
        .clamp(MIN_RUNS, MAX_RUNS);
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        black_box(f());
        samples.push(start.elapsed());
    }
    samples.sort_unstable();
    Outcome::Timed {
        median: samples[runs / 2],
        runs,
    }
}

/// What one call read from files: bytes and `read`-like system calls.
#[derive(Clone, Copy)]
struct IoCount {
    bytes: u64,
    calls: u64,
}

/// What one call of `f` read, from the `rchar` and `syscr` counters of `/proc/self/io` (Linux
/// only).
///
/// `rchar` counts every byte returned by `read`-like calls, page cache or not. Reading the
/// counters is itself one `read`, counted after the values were produced, so the first
/// reading's own call and bytes are subtracted.
fn bytes_read_by<T>(f: impl FnOnce() -> T) -> Option<IoCount> {
    let (before, own_bytes) = proc_io()?;
    black_box(f());
    let (after, _) = proc_io()?;
    Some(IoCount {
        bytes: after
            .bytes
            .checked_sub(before.bytes)?
            .checked_sub(own_bytes)?,
        calls: after.calls.checked_sub(before.calls)?.checked_sub(1)?,
    })
}

/// The `rchar` and `syscr` counters and the bytes read to get them, in one `read` call.
fn proc_io() -> Option<(IoCount, u64)> {
    let mut buf = [0u8; 4096];
    let n = File::open("/proc/self/io").ok()?.read(&mut buf).ok()?;
    let text = std::str::from_utf8(&buf[..n]).ok()?;
    let field = |name: &str| -> Option<u64> {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))?
            .trim()
            .parse()
            .ok()
    };
    let count = IoCount {
        bytes: field("rchar")?,
        calls: field("syscr")?,
    };
    Some((count, u64::try_from(n).ok()?))
}

/// What `inspect_path` does minus inflating and validating: open, locate through a
/// `ReadCache`, read the section bytes. The same work as the whole-file readers below.
fn locate_and_read(path: &Path) -> Vec<usize> {
    let file = File::open(path).unwrap();
    black_box(file.metadata().unwrap().is_file());
    let cache = object::ReadCache::new(file);
    let located = extract::locate(&cache).unwrap();
    located
        .images
        .iter()
        .map(|image| {
            image.section.as_ref().map_or(0, |loc| {
                cache.read_bytes_at(loc.offset, loc.size).unwrap().len()
            })
        })
        .collect()
}

/// The section bytes binaudit locates, per image.
fn binaudit_sections(data: &[u8]) -> Vec<Option<&[u8]>> {
    let Ok(located) = extract::locate(data) else {
        return Vec::new();
    };
    located
        .images
        .iter()
        .map(|image| {
            let loc = image.section.as_ref()?;
            let start = usize::try_from(loc.offset).ok()?;
            data.get(start..)?.get(..usize::try_from(loc.size).ok()?)
        })
        .collect()
}

/// The section bytes goblin finds, per image, the way a typical tool would look for them.
fn goblin_sections(data: &[u8]) -> Result<Vec<Option<&[u8]>>, &'static str> {
    use goblin::mach::{Mach, SingleArch};
    match goblin::Object::parse(data).map_err(|_| "goblin: parse error")? {
        goblin::Object::Elf(elf) => {
            let section = elf
                .section_headers
                .iter()
                .find(|sh| elf.shdr_strtab.get_at(sh.sh_name) == Some(SECTION_NAME))
                .and_then(|sh| {
                    let start = usize::try_from(sh.sh_offset).ok()?;
                    data.get(start..)?.get(..usize::try_from(sh.sh_size).ok()?)
                });
            Ok(vec![section])
        }
        goblin::Object::PE(pe) => {
            let section = pe
                .sections
                .iter()
                .find(|s| s.name().ok() == Some(SECTION_NAME))
                .and_then(|s| {
                    // The raw data is padded to FileAlignment; the virtual size is exact.
                    let size = match s.virtual_size {
                        0 => s.size_of_raw_data,
                        v => v.min(s.size_of_raw_data),
                    };
                    let start = usize::try_from(s.pointer_to_raw_data).ok()?;
                    data.get(start..)?.get(..usize::try_from(size).ok()?)
                });
            Ok(vec![section])
        }
        goblin::Object::Mach(Mach::Binary(macho)) => Ok(vec![goblin_macho_section(&macho)]),
        goblin::Object::Mach(Mach::Fat(fat)) => (&fat)
            .into_iter()
            .map(|arch| match arch.map_err(|_| "goblin: parse error")? {
                SingleArch::MachO(macho) => Ok(goblin_macho_section(&macho)),
                SingleArch::Archive(_) => Ok(None),
            })
            .collect(),
        _ => Err("n/a: goblin does not read this format"),
    }
}

fn goblin_macho_section<'a>(macho: &goblin::mach::MachO<'a>) -> Option<&'a [u8]> {
    macho.segments.sections().flatten().find_map(|section| {
        let (header, bytes) = section.ok()?;
        let wanted = header.segname().ok()? == extract::macho::SECTION.0
            && header.name().ok()? == extract::macho::SECTION.1;
        wanted.then_some(bytes)
    })
}

/// The section bytes object's high-level `File` finds, per image.
fn object_sections(data: &[u8]) -> Result<Vec<Option<&[u8]>>, &'static str> {
    let error = |_| "object: parse error";
    // Without the `wasm` feature `object::File` does not read WebAssembly.
    if data.starts_with(b"\0asm") {
        return Err("n/a: needs object's `wasm` feature");
    }
    let arches = match object::FileKind::parse(data).map_err(error)? {
        object::FileKind::MachOFat32 => {
            let fat = MachOFatFile32::parse(data).map_err(error)?;
            let arches: Result<Vec<_>, _> = fat.arches().iter().map(|a| a.data(data)).collect();
            arches.map_err(error)?
        }
        object::FileKind::MachOFat64 => {
            let fat = MachOFatFile64::parse(data).map_err(error)?;
            let arches: Result<Vec<_>, _> = fat.arches().iter().map(|a| a.data(data)).collect();
            arches.map_err(error)?
        }
        _ => vec![data],
    };
    arches
        .into_iter()
        .map(|image| {
            let file = object::File::parse(image).map_err(error)?;
            match file.section_by_name(SECTION_NAME) {
                None => Ok(None),
                Some(section) => section.data().map(Some).map_err(error),
            }
        })
        .collect()
}

fn section_lengths(found: Result<Vec<Option<&[u8]>>, &str>) -> Vec<usize> {
    found
        .unwrap()
        .iter()
        .map(|s| s.map_or(0, <[u8]>::len))
        .collect()
}

fn describe_format(report: &binary::BinaryReport) -> String {
    let Some(first) = report.images.first() else {
        return report.format.to_string();
    };
    let endian = match first.image.endian {
        Endian::Little => "LE",
        Endian::Big => "BE",
    };
    match report.format {
        ContainerFormat::MachOFat => format!("Mach-O fat ×{}", report.images.len()),
        ContainerFormat::Wasm => format!("wasm{}", first.image.bits),
        format => format!("{format} {} {endian}", first.image.bits),
    }
}

fn describe_manifests(report: &binary::BinaryReport) -> String {
    let found = report
        .images
        .iter()
        .filter(|i| matches!(i.manifest, ImageManifest::Found { .. }))
        .count();
    let invalid = report
        .images
        .iter()
        .filter(|i| matches!(i.manifest, ImageManifest::Invalid { .. }))
        .count();
    match (found, invalid) {
        (0, 0) => "none".to_owned(),
        (1, 0) => "yes".to_owned(),
        (n, 0) => format!("yes ×{n}"),
        (_, n) => format!("{n} invalid"),
    }
}

fn print_table(rows: &[Row]) {
    // (header, left-aligned): text columns left, numbers right; the output is a Markdown table.
    const COLUMNS: [(&str, bool); 14] = [
        ("file", true),
        ("format", true),
        ("manifest", true),
        ("size", false),
        ("read by (1)", false),
        ("(1) inspect_path", false),
        ("(1b) = (1) − inflate", false),
        ("(2) locate, in memory", false),
        ("(3) goblin, whole file", false),
        ("(4) object File, whole file", false),
        ("(3)/(1)", false),
        ("(4)/(1)", false),
        ("(3)/(1b)", false),
        ("(4)/(1b)", false),
    ];
    let body: Vec<[String; 14]> = rows
        .iter()
        .map(|row| {
            let locate = match (&row.locate, row.kind) {
                (Outcome::Timed { .. }, InputKind::Sparse) => {
                    format!("{} †", cell(&row.locate))
                }
                _ => cell(&row.locate),
            };
            [
                row.name.clone(),
                row.format.clone(),
                row.manifests.clone(),
                bytes(row.size),
                row.bytes_read.map_or("n/a".to_owned(), |io| {
                    format!("{} in {} reads", bytes(io.bytes), io.calls)
                }),
                cell(&row.inspect),
                cell(&row.inspect_raw),
                locate,
                cell(&row.goblin),
                cell(&row.object),
                ratio(&row.goblin, &row.inspect),
                ratio(&row.object, &row.inspect),
                ratio(&row.goblin, &row.inspect_raw),
                ratio(&row.object, &row.inspect_raw),
            ]
        })
        .collect();
    let mut widths = COLUMNS.map(|(header, _)| header.chars().count());
    for line in &body {
        for (width, text) in widths.iter_mut().zip(line) {
            *width = (*width).max(text.chars().count());
        }
    }
    let print_line = |cells: &[String]| {
        let mut line = String::from("|");
        for ((text, width), (_, left)) in cells.iter().zip(widths).zip(COLUMNS) {
            let pad = " ".repeat(width.saturating_sub(text.chars().count()));
            if left {
                line.push_str(&format!(" {text}{pad} |"));
            } else {
                line.push_str(&format!(" {pad}{text} |"));
            }
        }
        println!("{line}");
    };
    print_line(&COLUMNS.map(|(header, _)| header.to_owned()));
    let rule = COLUMNS.map(|(_, left)| left);
    let rule: Vec<String> = widths
        .iter()
        .zip(rule)
        .map(|(&width, left)| {
            let dashes = "-".repeat(width.saturating_sub(1));
            if left {
                format!("{dashes}-")
            } else {
                format!("{dashes}:")
            }
        })
        .collect();
    print_line(&rule);
    for line in &body {
        print_line(line);
    }
}

fn print_notes(rows: &[Row]) {
    println!();
    println!(
        "Times are medians of N runs. (1) opens the file and reads headers and the section \
         through object::ReadCache, then inflates and validates the JSON; \"read by (1)\" is \
         the rchar delta of /proc/self/io around one call. (2) is extract::locate on the file \
         already in memory (no I/O, no inflating). (3) and (4) include std::fs::read of the \
         whole file."
    );
    if rows.iter().any(|r| r.kind == InputKind::Sparse) {
        println!(
            "† sparse file: (2) is extract::locate through a fresh ReadCache over the open file \
             (reading it into memory is what this input rules out)."
        );
    }
    let runs: Vec<usize> = rows
        .iter()
        .flat_map(|r| [&r.inspect, &r.locate, &r.goblin, &r.object])
        .filter_map(|o| match o {
            Outcome::Timed { runs, .. } => Some(*runs),
            Outcome::NotApplicable(_) => None,
        })
        .collect();
    if let (Some(min), Some(max)) = (runs.iter().min(), runs.iter().max()) {
        println!("Runs per case: {min} to {max}.");
    }
    let disagreements: Vec<&String> = rows.iter().flat_map(|r| &r.agreement).collect();
    if disagreements.is_empty() {
        println!(
            "Check: on every input goblin and object found the same section bytes as binaudit \
             (where they read the format)."
        );
    } else {
        for line in disagreements {
            println!("Check failed: {line}");
        }
    }
}

/// The closing paragraph, computed from the measurements.
fn conclusion(rows: &[Row]) -> String {
    let mut text = Vec::new();
    let largest = rows
        .iter()
        .filter(|r| r.goblin.median().is_some() && r.inspect.median().is_some())
        .max_by_key(|r| r.size);
    if let Some(row) = largest {
        let mut sentence = format!(
            "On the largest input read whole, {} ({}), binaudit's inspect_path took {} and read \
             {} of the file ({:.4} %); goblin (read whole file + parse) took {}, so binaudit is \
             {} faster",
            row.name,
            bytes(row.size),
            cell(&row.inspect),
            row.bytes_read
                .map_or("an unknown amount".to_owned(), |io| bytes(io.bytes)),
            row.bytes_read.map_or(0.0, |io| percent(io.bytes, row.size)),
            cell(&row.goblin),
            ratio(&row.goblin, &row.inspect),
        );
        if row.object.median().is_some() {
            sentence.push_str(&format!(
                ", and {} faster than object's high-level File ({})",
                ratio(&row.object, &row.inspect),
                cell(&row.object)
            ));
        }
        sentence.push('.');
        text.push(sentence);
    }
    if let Some(row) = rows.iter().find(|r| r.kind == InputKind::Sparse) {
        text.push(format!(
            "On the {} sparse file inspect_path took {} and read {}, where a whole-file reader \
             would read {}.",
            bytes(row.size),
            cell(&row.inspect),
            row.bytes_read
                .map_or("an unknown amount".to_owned(), |io| bytes(io.bytes)),
            bytes(row.size),
        ));
    }
    let samples: Vec<&Row> = rows
        .iter()
        .filter(|r| r.kind == InputKind::Sample)
        .collect();
    let ratios = |theirs: fn(&Row) -> &Outcome, ours: fn(&Row) -> &Outcome| -> Vec<f64> {
        let mut all: Vec<f64> = samples
            .iter()
            .filter_map(|r| {
                Some(theirs(r).median()?.as_secs_f64() / ours(r).median()?.as_secs_f64())
            })
            .collect();
        all.sort_by(f64::total_cmp);
        all
    };
    let spread = |all: &[f64]| -> Option<String> {
        Some(format!(
            "{:.1}× to {:.1}× (median {:.1}×)",
            all.first()?,
            all.last()?,
            all.get(all.len() / 2)?
        ))
    };
    let goblin = ratios(|r| &r.goblin, |r| &r.inspect);
    let object = ratios(|r| &r.object, |r| &r.inspect);
    let goblin_raw = ratios(|r| &r.goblin, |r| &r.inspect_raw);
    let object_raw = ratios(|r| &r.object, |r| &r.inspect_raw);
    if let (Some(g), Some(o), Some(g_raw), Some(o_raw)) = (
        spread(&goblin),
        spread(&object),
        spread(&goblin_raw),
        spread(&object_raw),
    ) {
        let largest_sample = samples.iter().map(|r| r.size).max().unwrap_or(0);
        text.push(format!(
            "On the {} sample binaries goblin reads (up to {}), goblin took {g} of \
             inspect_path's time and object's File {o}; against (1b), the same work without \
             inflating and validating, goblin took {g_raw} and object {o_raw}.",
            goblin.len(),
            bytes(largest_sample),
        ));
    }
    let mut families: Vec<&str> = Vec::new();
    for row in &samples {
        if !families.contains(&family(&row.format)) {
            families.push(family(&row.format));
        }
    }
    let by_family: Vec<String> = families
        .iter()
        .filter_map(|&name| {
            let rows: Vec<&&Row> = samples
                .iter()
                .filter(|r| family(&r.format) == name)
                .collect();
            let mut ratios: Vec<f64> = rows
                .iter()
                .filter_map(|r| {
                    Some(r.goblin.median()?.as_secs_f64() / r.inspect_raw.median()?.as_secs_f64())
                })
                .collect();
            ratios.sort_by(f64::total_cmp);
            let ratio = *ratios.get(ratios.len() / 2)?;
            let mut calls: Vec<u64> = rows
                .iter()
                .filter_map(|r| Some(r.bytes_read?.calls))
                .collect();
            calls.sort_unstable();
            let verdict = if ratio < 0.9 {
                "reading the whole file is faster"
            } else if ratio > 1.1 {
                "binaudit is faster"
            } else {
                "about even"
            };
            Some(format!(
                "{name} {ratio:.1}× ({verdict}; binaudit makes {} read calls)",
                calls.get(calls.len() / 2)?
            ))
        })
        .collect();
    if !by_family.is_empty() {
        text.push(format!(
            "By format, goblin over (1b), median: {}.",
            by_family.join(", ")
        ));
    }
    let median_of = |values: Vec<f64>| -> Option<f64> {
        let mut values = values;
        values.sort_by(f64::total_cmp);
        values.get(values.len() / 2).copied()
    };
    let locate_share = median_of(
        samples
            .iter()
            .filter_map(|r| {
                Some(r.locate.median()?.as_secs_f64() / r.inspect.median()?.as_secs_f64() * 100.0)
            })
            .collect(),
    );
    #[allow(clippy::cast_precision_loss)] // Display only.
    let calls = median_of(
        samples
            .iter()
            .filter_map(|r| Some(r.bytes_read?.calls as f64))
            .collect(),
    );
    if let (Some(share), Some(calls)) = (locate_share, calls) {
        text.push(format!(
            "Parsing the headers in memory (2) is {share:.0} % of inspect_path's time on the \
             samples (median); the rest is opening the file, {calls:.0} read calls (median) and \
             inflating and validating the manifest."
        ));
    }
    format!("Conclusion: {}", text.join(" "))
}

/// "ELF", "Mach-O", "PE" or "wasm32", from a format column such as "ELF 64 LE".
fn family(format: &str) -> &str {
    format.split(' ').next().unwrap_or(format)
}

fn cell(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Timed { median, .. } => duration(*median),
        Outcome::NotApplicable(why) => (*why).to_owned(),
    }
}

fn ratio(theirs: &Outcome, ours: &Outcome) -> String {
    match (theirs.median(), ours.median()) {
        (Some(theirs), Some(ours)) if !ours.is_zero() => {
            let r = theirs.as_secs_f64() / ours.as_secs_f64();
            if r >= 100.0 {
                format!("{r:.0}×")
            } else {
                format!("{r:.1}×")
            }
        }
        _ => "–".to_owned(),
    }
}

fn duration(d: Duration) -> String {
    let ns = d.as_secs_f64() * 1e9;
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.1} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

#[allow(clippy::cast_precision_loss)] // Display only.
fn bytes(n: u64) -> String {
    const KIB: f64 = 1024.0;
    let f = n as f64;
    if n < 1024 {
        format!("{n} B")
    } else if f < KIB * KIB {
        format!("{:.1} KiB", f / KIB)
    } else if f < KIB * KIB * KIB {
        format!("{:.1} MiB", f / (KIB * KIB))
    } else {
        format!("{:.1} GiB", f / (KIB * KIB * KIB))
    }
}

#[allow(clippy::cast_precision_loss)] // Display only.
fn percent(part: u64, whole: u64) -> f64 {
    part as f64 / whole.max(1) as f64 * 100.0
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into(),
    )
}
