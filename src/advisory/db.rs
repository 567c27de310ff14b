//! The advisory database on disk: layout detection, loading (from the files or from the cached
//! index), lookup by package, and what the CLI needs to say about it (age, commit, errors).
//!
//! Two layouts are read:
//!
//! - **RustSec** (`crates/<name>/RUSTSEC-*.md`, `rust/<component>/*.md`): parsed with the
//!   `rustsec` crate, the reference parser (see `advisory::rustsec`). `rust/` holds toolchain
//!   advisories (std, cargo, rustdoc); they are kept apart and never matched against crates.
//! - **OSV** (any tree of `*.json` files): parsed here (see `advisory::osv`).
//!
//! A file that cannot be parsed is never dropped silently: it is listed in
//! [`Database::load_errors`] for the caller to report, and a database none of whose files parse
//! is an error.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::model::Advisory;
use super::{index, osv, rustsec};

/// How old a database may be before the CLI warns: 90 days.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(90 * 24 * 60 * 60);

/// Which layout a database directory has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// The RustSec advisory-db repository: `crates/<name>/RUSTSEC-*.md` and `rust/…`.
    RustSec,
    /// A directory tree of OSV JSON files.
    Osv,
}

impl Layout {
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::RustSec => "rustsec",
            Layout::Osv => "osv",
        }
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How to open a database.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Where the index cache lives; `None` parses every file on every open and writes nothing.
    /// Defaults to [`default_cache_dir`].
    pub cache_dir: Option<PathBuf>,
    /// Force a layout instead of detecting it.
    pub layout: Option<Layout>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            cache_dir: default_cache_dir(),
            layout: None,
        }
    }
}

impl OpenOptions {
    /// Options that neither read nor write the index cache.
    pub fn without_cache() -> Self {
        OpenOptions {
            cache_dir: None,
            layout: None,
        }
    }
}

/// Why a database could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    #[error("advisory database not found at {path}")]
    NotFound { path: PathBuf },
    #[error("{path} is not a directory")]
    NotADirectory { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is neither a RustSec advisory database (crates/<name>/*.md) nor a directory of OSV JSON files"
    )]
    UnknownLayout { path: PathBuf },
    /// No advisory files, or files that hold no crates.io advisory (an OSV export of another
    /// ecosystem): auditing against it would report everything clean.
    #[error("no crates.io advisories found in {path}")]
    NoAdvisories { path: PathBuf },
    #[error("none of the {count} advisory files in {path} could be parsed; the first: {first}")]
    AllFailed {
        path: PathBuf,
        count: usize,
        first: LoadError,
    },
}

/// One advisory file that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct LoadError {
    pub path: PathBuf,
    pub message: String,
}

/// A calendar date (UTC), as advisories and the staleness check use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

impl Date {
    /// Reads the `YYYY-MM-DD` at the start of `s` (so RFC 3339 timestamps work too).
    pub fn parse(s: &str) -> Option<Date> {
        let head = s.get(..10)?;
        let mut parts = head.split('-');
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return None;
        }
        let date = Date {
            year: y.parse().ok()?,
            month: m.parse().ok()?,
            day: d.parse().ok()?,
        };
        let valid = (1..=12).contains(&date.month)
            && date.day >= 1
            && date.day <= days_in_month(date.year, date.month);
        valid.then_some(date)
    }

    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        Date::parse(&format!("{year:04}-{month:02}-{day:02}"))
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u8 {
        self.month
    }

    pub fn day(self) -> u8 {
        self.day
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    pub fn unix_days(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The UTC date of a Unix timestamp (Howard Hinnant's `civil_from_days`).
    pub fn from_unix_seconds(secs: i64) -> Date {
        let z = secs.div_euclid(86_400) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date {
            year: i32::try_from(year).unwrap_or(i32::MAX),
            month: u8::try_from(month).unwrap_or(1),
            day: u8::try_from(day).unwrap_or(1),
        }
    }

    /// The date of a point in time (UTC).
    pub fn from_system_time(t: SystemTime) -> Date {
        let secs = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
        };
        Date::from_unix_seconds(secs)
    }
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// The commit a git checkout of the database is at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitCommit {
    /// The full hash HEAD points at, read from `.git` without running git.
    pub hash: String,
    /// The committer date as git prints it (`%cI`, RFC 3339 with offset); `None` when the `git`
    /// program is not available.
    pub date: Option<String>,
    /// The committer date as a Unix timestamp (`%ct`).
    pub timestamp: Option<i64>,
}

impl GitCommit {
    /// The commit's date in UTC.
    pub fn utc_date(&self) -> Option<Date> {
        self.timestamp.map(Date::from_unix_seconds)
    }
}

/// What the CLI and the reports say about the database.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DbInfo {
    /// The path it was opened from, as given.
    pub path: PathBuf,
    pub layout: Layout,
    /// Crate advisories, withdrawn ones included (toolchain advisories are not counted).
    pub advisory_count: usize,
    pub withdrawn_count: usize,
    /// Advisories about the toolchain (`rust/`: std, cargo, rustdoc).
    pub toolchain_count: usize,
    pub newest_advisory_date: Option<Date>,
    /// Set when the database is a git checkout.
    pub commit: Option<GitCommit>,
    /// Whether the advisories came from the index cache rather than from parsing the files.
    pub loaded_from_index: bool,
    /// The index cache file that was read or written, if any.
    pub index_path: Option<PathBuf>,
}

impl DbInfo {
    /// When the database was last updated: the newer of its commit date and its newest
    /// advisory's date.
    pub fn last_updated(&self) -> Option<Date> {
        let commit = self.commit.as_ref().and_then(GitCommit::utc_date);
        commit.max(self.newest_advisory_date)
    }

    /// Whether [`Self::last_updated`] is more than `max_age` before `now`. A database whose date
    /// is unknown is stale.
    pub fn is_stale(&self, now: SystemTime, max_age: Duration) -> bool {
        let Some(updated) = self.last_updated() else {
            return true;
        };
        let today = Date::from_system_time(now).unix_days();
        let age_days = today.saturating_sub(updated.unix_days());
        let max_days = i64::try_from(max_age.as_secs() / 86_400).unwrap_or(i64::MAX);
        age_days > max_days
    }
}

/// An advisory database loaded into memory.
#[derive(Debug, Clone)]
pub struct Database {
    /// Crate advisories sorted by (package, id).
    advisories: Vec<Advisory>,
    by_package: HashMap<String, Range<usize>>,
    toolchain: Vec<Advisory>,
    load_errors: Vec<LoadError>,
    info: DbInfo,
}

/// What loading produced, before indexing; this is also what the index cache stores.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Loaded {
    pub advisories: Vec<Advisory>,
    pub toolchain: Vec<Advisory>,
    pub load_errors: Vec<LoadError>,
    pub commit: Option<GitCommit>,
}

impl Database {
    /// Opens the database at `path`, from the index cache when it is current.
    pub fn open(path: &Path, opts: &OpenOptions) -> Result<Database, DbError> {
        let meta = std::fs::metadata(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => DbError::NotFound {
                path: path.to_owned(),
            },
            _ => DbError::Io {
                path: path.to_owned(),
                source,
            },
        })?;
        if !meta.is_dir() {
            return Err(DbError::NotADirectory {
                path: path.to_owned(),
            });
        }
        let head = git_head(path);
        let key = opts
            .cache_dir
            .as_ref()
            .map(|dir| (dir, index::Key::new(path)));
        if let Some((dir, key)) = &key {
            if let Some((loaded, layout, index_path)) =
                index::read(dir, path, key, opts.layout, head.as_deref())
            {
                return Ok(Database::build(
                    path,
                    layout,
                    loaded,
                    true,
                    Some(index_path),
                ));
            }
        }

        let layout = match opts.layout {
            Some(l) => l,
            None => detect_layout(path)?,
        };
        let taken = index::now_ns();
        let Walked { files, dirs } = walk(path, layout)?;
        if files.is_empty() {
            return Err(DbError::NoAdvisories {
                path: path.to_owned(),
            });
        }
        let stamps = index::Stamps::new(opts.layout, layout, head.clone(), taken, dirs, &files);

        let (mut loaded, parsed_ok) = parse_files(&files, layout);
        if parsed_ok == 0 {
            let first = loaded.load_errors.first().cloned().unwrap_or(LoadError {
                path: path.to_owned(),
                message: "no advisory parsed".to_owned(),
            });
            return Err(DbError::AllFailed {
                path: path.to_owned(),
                count: files.len(),
                first,
            });
        }
        if loaded.advisories.is_empty() {
            return Err(DbError::NoAdvisories {
                path: path.to_owned(),
            });
        }
        loaded.commit = head.map(|hash| git_commit(path, hash));
        let index_path = key.and_then(|(dir, key)| index::write(dir, &key, &stamps, &loaded).ok());
        Ok(Database::build(path, layout, loaded, false, index_path))
    }

    fn build(
        path: &Path,
        layout: Layout,
        loaded: Loaded,
        loaded_from_index: bool,
        index_path: Option<PathBuf>,
    ) -> Database {
        let Loaded {
            mut advisories,
            mut toolchain,
            mut load_errors,
            commit,
        } = loaded;
        advisories.sort_by(|a, b| (&a.package, &a.id).cmp(&(&b.package, &b.id)));
        toolchain.sort_by(|a, b| (&a.package, &a.id).cmp(&(&b.package, &b.id)));
        load_errors.sort_by(|a, b| a.path.cmp(&b.path));
        let mut by_package: HashMap<String, Range<usize>> = HashMap::new();
        let mut start = 0;
        for (i, a) in advisories.iter().enumerate() {
            let last = advisories
                .get(i + 1)
                .is_none_or(|next| next.package != a.package);
            if last {
                by_package.insert(a.package.clone(), start..i + 1);
                start = i + 1;
            }
        }
        let newest_advisory_date = advisories
            .iter()
            .chain(&toolchain)
            .filter_map(|a| Date::parse(&a.date))
            .max();
        let info = DbInfo {
            path: path.to_owned(),
            layout,
            advisory_count: advisories.len(),
            withdrawn_count: advisories.iter().filter(|a| a.withdrawn.is_some()).count(),
            toolchain_count: toolchain.len(),
            newest_advisory_date,
            commit,
            loaded_from_index,
            index_path,
        };
        Database {
            advisories,
            by_package,
            toolchain,
            load_errors,
            info,
        }
    }

    /// The advisories about the crates.io package `package`, withdrawn ones included (the match
    /// stage skips those), sorted by id.
    pub fn advisories_for(&self, package: &str) -> &[Advisory] {
        self.by_package
            .get(package)
            .and_then(|r| self.advisories.get(r.clone()))
            .unwrap_or(&[])
    }

    /// Every crate advisory, sorted by package then id.
    pub fn iter(&self) -> std::slice::Iter<'_, Advisory> {
        self.advisories.iter()
    }

    /// The advisory with this id (for a multi-package OSV advisory, the first package's).
    pub fn get(&self, id: &str) -> Option<&Advisory> {
        self.advisories.iter().find(|a| a.id == id)
    }

    /// Advisories about the Rust toolchain (`rust/`: std, cargo, rustdoc). Never matched
    /// against crates.
    pub fn toolchain_advisories(&self) -> &[Advisory] {
        &self.toolchain
    }

    /// Files that could not be parsed, sorted by path. The CLI warns about each.
    pub fn load_errors(&self) -> &[LoadError] {
        &self.load_errors
    }

    pub fn info(&self) -> &DbInfo {
        &self.info
    }
}

/// `$CARGO_HOME/advisory-db` (`~/.cargo/advisory-db`), the location cargo-audit uses too.
pub fn default_db_path() -> Option<PathBuf> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(|| home_dir().map(|h| h.join(".cargo")))?;
    Some(cargo_home.join("advisory-db"))
}

/// `$XDG_CACHE_HOME/binaudit`, else `~/.cache/binaudit`.
pub fn default_cache_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| home_dir().map(|h| h.join(".cache")))
        .map(|c| c.join("binaudit"))
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// One advisory file found by the walk, with what the index key needs.
#[derive(Debug, Clone)]
pub(crate) struct SourceFile {
    pub path: PathBuf,
    /// Relative to the database root.
    pub rel: PathBuf,
    pub size: u64,
    /// Nanoseconds since the Unix epoch (0 when the platform has no mtime).
    pub mtime_ns: u64,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> DbError + '_ {
    move |source| DbError::Io {
        path: path.to_owned(),
        source,
    }
}

fn is_hidden(name: &OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}

/// RustSec if `crates/` holds package directories; OSV if there are JSON files anywhere.
fn detect_layout(root: &Path) -> Result<Layout, DbError> {
    let crates = root.join("crates");
    if crates.is_dir() {
        for entry in std::fs::read_dir(&crates).map_err(io_err(&crates))? {
            let entry = entry.map_err(io_err(&crates))?;
            if !is_hidden(&entry.file_name()) && entry_is_dir(&entry) {
                return Ok(Layout::RustSec);
            }
        }
    }
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).map_err(io_err(&dir))? {
            let entry = entry.map_err(io_err(&dir))?;
            if is_hidden(&entry.file_name()) {
                continue;
            }
            let p = entry.path();
            if entry_is_dir(&entry) {
                stack.push(p);
            } else if p.extension() == Some(OsStr::new("json")) {
                return Ok(Layout::Osv);
            }
        }
    }
    Err(DbError::UnknownLayout {
        path: root.to_owned(),
    })
}

fn source_file(root: &Path, entry: &std::fs::DirEntry) -> Result<SourceFile, DbError> {
    let path = entry.path();
    // `DirEntry::metadata` is a `stat` relative to the open directory (cheaper than resolving
    // the whole path again) but does not follow symbolic links.
    let meta = match entry.file_type() {
        Ok(ft) if !ft.is_symlink() => entry.metadata(),
        _ => std::fs::metadata(&path),
    }
    .map_err(io_err(&path))?;
    let rel = path.strip_prefix(root).unwrap_or(&path).to_owned();
    Ok(SourceFile {
        path,
        rel,
        size: meta.len(),
        mtime_ns: index::mtime_ns(&meta),
    })
}

/// Whether a directory entry is a directory, following symbolic links.
fn entry_is_dir(entry: &std::fs::DirEntry) -> bool {
    match entry.file_type() {
        Ok(ft) if ft.is_symlink() => entry.path().is_dir(),
        Ok(ft) => ft.is_dir(),
        Err(_) => false,
    }
}

/// What the walk found: the advisory files, and the directories it listed (for the index).
pub(crate) struct Walked {
    /// Sorted by relative path.
    pub files: Vec<SourceFile>,
    pub dirs: Vec<index::DirStamp>,
}

/// The advisory files of a database, sorted by relative path, and the modification time of
/// every directory listed to find them (each taken before the listing). Stat only: nothing is
/// read.
///
/// For RustSec: every non-hidden file in `crates/*/` and `rust/*/`, as `rustsec::Database`
/// takes them (a file that is not `.md` becomes a load error, not a silent skip). For OSV:
/// every `*.json` below the root, outside hidden directories.
pub(crate) fn walk(root: &Path, layout: Layout) -> Result<Walked, DbError> {
    let mut out = Vec::new();
    // The root too: it is where `rust/` would appear.
    let mut dirs = vec![dir_stamp(root, root)?];
    match layout {
        Layout::RustSec => {
            let mut packages = Vec::new();
            for collection in ["crates", "rust"] {
                let dir = root.join(collection);
                let stamp = match dir_stamp(root, &dir) {
                    Ok(stamp) => stamp,
                    // rustsec requires crates/ and tolerates a missing rust/.
                    Err(DbError::Io { source, .. })
                        if source.kind() == std::io::ErrorKind::NotFound
                            && collection == "rust" =>
                    {
                        continue
                    }
                    Err(e) => return Err(e),
                };
                dirs.push(stamp);
                for package in std::fs::read_dir(&dir).map_err(io_err(&dir))? {
                    let package = package.map_err(io_err(&dir))?;
                    if !is_hidden(&package.file_name()) && entry_is_dir(&package) {
                        packages.push(package.path());
                    }
                }
            }
            // ~900 directories to list and ~1,200 files to stat, shared out like the parse.
            let chunk = packages.len().div_ceil(workers()).max(1);
            type Part = Result<(Vec<SourceFile>, Vec<index::DirStamp>), DbError>;
            let parts: Vec<Part> = std::thread::scope(|s| {
                let handles: Vec<_> = packages
                    .chunks(chunk)
                    .map(|part| s.spawn(move || list_packages(root, part)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err(io_err(root)(std::io::Error::other(
                                "directory walk panicked",
                            )))
                        })
                    })
                    .collect()
            });
            for part in parts {
                let (files, stamps) = part?;
                out.extend(files);
                dirs.extend(stamps);
            }
        }
        Layout::Osv => {
            let mut stack = vec![root.to_owned()];
            while let Some(dir) = stack.pop() {
                if dir != root {
                    dirs.push(dir_stamp(root, &dir)?);
                }
                for entry in std::fs::read_dir(&dir).map_err(io_err(&dir))? {
                    let entry = entry.map_err(io_err(&dir))?;
                    if is_hidden(&entry.file_name()) {
                        continue;
                    }
                    let p = entry.path();
                    if entry_is_dir(&entry) {
                        stack.push(p);
                    } else if p.extension() == Some(OsStr::new("json")) {
                        out.push(source_file(root, &entry)?);
                    }
                }
            }
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(Walked { files: out, dirs })
}

/// A directory's modification time, following links, relative to the database root.
fn dir_stamp(root: &Path, dir: &Path) -> Result<index::DirStamp, DbError> {
    let meta = std::fs::metadata(dir).map_err(io_err(dir))?;
    Ok(index::DirStamp {
        rel: dir.strip_prefix(root).unwrap_or(dir).to_owned(),
        mtime_ns: index::mtime_ns(&meta),
    })
}

/// The advisory files in some package directories, and the directories' stamps.
fn list_packages(
    root: &Path,
    packages: &[PathBuf],
) -> Result<(Vec<SourceFile>, Vec<index::DirStamp>), DbError> {
    let mut out = Vec::new();
    let mut dirs = Vec::with_capacity(packages.len());
    for package in packages {
        dirs.push(dir_stamp(root, package)?);
        for file in std::fs::read_dir(package).map_err(io_err(package))? {
            let file = file.map_err(io_err(package))?;
            if !is_hidden(&file.file_name()) {
                out.push(source_file(root, &file)?);
            }
        }
    }
    Ok((out, dirs))
}

/// How many threads the walk and the parse use.
fn workers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
}

/// What one file yields.
enum FileResult {
    Crates(Vec<Advisory>),
    Toolchain(Box<Advisory>),
    /// A draft or placeholder advisory: parsed, deliberately not loaded.
    Nothing,
}

fn parse_one(file: &SourceFile, layout: Layout) -> Result<FileResult, String> {
    match layout {
        Layout::RustSec => Ok(match rustsec::load_file(&file.path, &file.rel)? {
            Some((advisory, rustsec::Collection::Crates)) => FileResult::Crates(vec![advisory]),
            Some((advisory, rustsec::Collection::Toolchain)) => {
                FileResult::Toolchain(Box::new(advisory))
            }
            None => FileResult::Nothing,
        }),
        Layout::Osv => {
            let bytes = crate::untrusted::read_limited(&file.path, super::MAX_ADVISORY_FILE_BYTES)
                .map_err(|e| format!("cannot read: {e}"))?;
            osv::parse(&bytes).map(FileResult::Crates)
        }
    }
}

/// Parses every file, on all cores. Returns what loaded and how many files parsed.
fn parse_files(files: &[SourceFile], layout: Layout) -> (Loaded, usize) {
    let chunk = files.len().div_ceil(workers()).max(1);
    let results: Vec<Result<FileResult, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                let handle = s.spawn(move || {
                    part.iter()
                        .map(|f| {
                            // A parser bug on one file fails that file, not the whole open.
                            std::panic::catch_unwind(|| parse_one(f, layout))
                                .unwrap_or_else(|_| Err("the parser panicked".to_owned()))
                        })
                        .collect::<Vec<_>>()
                });
                (part.len(), handle)
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|(n, h)| {
                h.join().unwrap_or_else(|_| {
                    (0..n)
                        .map(|_| Err("the parser panicked".to_owned()))
                        .collect()
                })
            })
            .collect()
    });
    let mut loaded = Loaded::default();
    let mut ok = 0;
    for (file, result) in files.iter().zip(results) {
        match result {
            Ok(r) => {
                ok += 1;
                match r {
                    FileResult::Crates(a) => loaded.advisories.extend(a),
                    FileResult::Toolchain(a) => loaded.toolchain.push(*a),
                    FileResult::Nothing => {}
                }
            }
            Err(message) => loaded.load_errors.push(LoadError {
                path: file.path.clone(),
                message,
            }),
        }
    }
    (loaded, ok)
}

/// A file of a checkout's git metadata (`HEAD`, a ref, `packed-refs`), if it is a regular file
/// of at most 64 MiB.
fn read_git_file(path: &Path) -> Option<String> {
    crate::untrusted::read_limited_text(path, 64 << 20).ok()
}

/// The `.git` directory of a checkout (following a `gitdir:` file for worktrees).
pub(crate) fn git_dir(root: &Path) -> Option<PathBuf> {
    let dot_git = root.join(".git");
    let meta = std::fs::metadata(&dot_git).ok()?;
    if meta.is_dir() {
        return Some(dot_git);
    }
    let text = read_git_file(&dot_git)?;
    let target = text.strip_prefix("gitdir:")?.trim();
    let target = Path::new(target);
    Some(if target.is_absolute() {
        target.to_owned()
    } else {
        root.join(target)
    })
}

/// The commit HEAD points at, read from `.git/HEAD`, the loose ref or `packed-refs`.
pub(crate) fn git_head(root: &Path) -> Option<String> {
    let dir = git_dir(root)?;
    let head = read_git_file(&dir.join("HEAD"))?;
    let head = head.trim();
    let hash = match head.strip_prefix("ref:") {
        None => head.to_owned(),
        Some(name) => {
            let name = name.trim();
            // A linked worktree keeps its refs in the common directory.
            let common = read_git_file(&dir.join("commondir"))
                .map(|c| dir.join(c.trim()))
                .unwrap_or_else(|| dir.clone());
            let loose = [dir.join(name), common.join(name)]
                .into_iter()
                .find_map(|p| read_git_file(&p));
            match loose {
                Some(h) => h.trim().to_owned(),
                None => {
                    let packed = read_git_file(&common.join("packed-refs"))?;
                    packed
                        .lines()
                        .filter_map(|l| l.split_once(' '))
                        .find(|(_, r)| *r == name)
                        .map(|(h, _)| h.to_owned())?
                }
            }
        }
    };
    let valid = matches!(hash.len(), 40 | 64) && hash.bytes().all(|b| b.is_ascii_hexdigit());
    valid.then_some(hash)
}

/// The commit's date, from `git log` (reading it from the object store would mean inflating
/// pack files; git is there whenever the database is a checkout it made).
fn git_commit(root: &Path, hash: String) -> GitCommit {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["log", "-1", "--format=%H %ct %cI", &hash, "--"])
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output();
    let text = output
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .unwrap_or_default();
    let mut fields = text.split_whitespace();
    let (timestamp, date) = match (fields.next(), fields.next(), fields.next()) {
        (Some(h), Some(ts), Some(date)) if h == hash => (ts.parse().ok(), Some(date.to_owned())),
        _ => (None, None),
    };
    GitCommit {
        hash,
        date,
        timestamp,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_through_unix_days() {
        for s in [
            "1970-01-01",
            "2000-02-29",
            "2021-01-08",
            "2026-08-21",
            "1969-12-31",
        ] {
            let d = Date::parse(s).unwrap();
            assert_eq!(d.to_string(), s);
            assert_eq!(Date::from_unix_seconds(d.unix_days() * 86_400), d);
        }
        assert_eq!(Date::parse("1970-01-02").unwrap().unix_days(), 1);
        assert_eq!(
            Date::parse("2026-08-21T08:28:40+02:00")
                .unwrap()
                .to_string(),
            "2026-08-21"
        );
        assert_eq!(Date::parse("2021-02-29"), None);
        assert_eq!(Date::parse("2021-1-08"), None);
        assert_eq!(Date::parse("21"), None);
    }

    fn info(newest: &str, commit_ts: Option<i64>) -> DbInfo {
        DbInfo {
            path: PathBuf::from("db"),
            layout: Layout::RustSec,
            advisory_count: 1,
            withdrawn_count: 0,
            toolchain_count: 0,
            newest_advisory_date: Date::parse(newest),
            commit: commit_ts.map(|t| GitCommit {
                hash: "0".repeat(40),
                date: None,
                timestamp: Some(t),
            }),
            loaded_from_index: false,
            index_path: None,
        }
    }

    #[test]
    fn staleness_uses_the_newer_of_commit_and_advisory_dates() {
        let now = UNIX_EPOCH
            + Duration::from_secs(Date::new(2026, 9, 1).unwrap().unix_days() as u64 * 86_400);
        let old = info("2026-01-01", None);
        assert!(old.is_stale(now, DEFAULT_MAX_AGE));
        assert!(!old.is_stale(now, Duration::from_secs(365 * 86_400)));
        // A recent commit makes an old newest-advisory date fresh.
        let commit = Date::new(2026, 8, 21).unwrap().unix_days() * 86_400 + 3600;
        let fresh = info("2026-01-01", Some(commit));
        assert_eq!(fresh.last_updated().unwrap().to_string(), "2026-08-21");
        assert!(!fresh.is_stale(now, DEFAULT_MAX_AGE));
        assert!(fresh.is_stale(now, Duration::from_secs(5 * 86_400)));
    }

    #[test]
    fn default_paths_follow_the_environment_conventions() {
        // Only the shape: the environment is shared with other tests.
        if let Some(p) = default_db_path() {
            assert!(p.ends_with("advisory-db"));
        }
        if let Some(p) = default_cache_dir() {
            assert!(p.ends_with("binaudit"));
        }
    }
}
