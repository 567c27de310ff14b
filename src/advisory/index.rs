//! The index cache: the parsed database as one JSON file, so that a repeated scan reads one
//! file instead of parsing ~1,200.
//!
//! The index records what the database looked like when it was parsed: the layout it was opened
//! with, the git HEAD commit if any, the modification time of **every directory the walk
//! listed** (the root, `crates/`, `rust/`, each package directory; every directory of an OSV
//! tree) and the size and modification time of **every advisory file**. It is current when all
//! of these still hold, which costs one `stat` per directory and per file and no directory
//! listing:
//!
//! - adding, removing or renaming an advisory file (or a package directory) changes the
//!   modification time of the directory that holds it;
//! - editing a file in place changes its own modification time (and usually its size).
//!
//! Any difference means a full walk and parse, and a new index. (Like git's index, this trusts
//! modification times: two changes within the file system's timestamp granularity, the second
//! made just after the walk looked, would look alike. Git itself rewrites whole files and moves
//! HEAD, so an update of the database always shows.) Directories are stamped before they are
//! listed and files while they are listed, before they are parsed, so a change during a parse
//! shows up at the next open.
//!
//! The file is named `advisory-db-<path hash>.json`, one per database directory; writing it
//! replaces the previous one (and removes the files of the older, content-keyed format). It is written to a temporary file and renamed
//! into place, so a reader sees a whole file or none. A file that does not deserialise
//! completely, or was written for another directory, version or layout, is ignored (and the
//! database re-parsed): the cache is never trusted partially and never makes an open fail.
//!
//! JSON rather than a binary encoding: reading the ~600 KB file takes a few milliseconds, and
//! it stays readable for people debugging a database.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::db::{Layout, Loaded, SourceFile};

/// Bump when the cached shape or the meaning of any field changes.
const FORMAT_VERSION: u32 = 2;
const PREFIX: &str = "advisory-db-";

/// One directory the walk listed, relative to the database root ("" for the root).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DirStamp {
    pub rel: PathBuf,
    /// Nanoseconds since the Unix epoch (0 when the platform has no mtime).
    pub mtime_ns: u64,
}

/// What the database looked like when it was parsed (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Stamps {
    /// The layout the caller forced, if any (a detected layout follows from the directories).
    pub forced_layout: Option<Layout>,
    /// The layout the database was read with.
    pub layout: Layout,
    pub head: Option<String>,
    /// When the walk started (ns since the Unix epoch): see [`RACY_NS`].
    pub taken_ns: u64,
    pub dirs: Vec<DirStamp>,
    /// Relative path, size, modification time.
    pub files: Vec<(PathBuf, u64, u64)>,
}

/// A stamp is only trusted if the directory or file had not changed for this long when the walk
/// started. A file system keeps times at some granularity (a clock tick, a second, two seconds
/// on FAT): a change made just after the walk looked, within the same tick as the change
/// before it, would leave the same time. Git calls such entries "racily clean" and checks them
/// again; here the index is not used until everything it records is older than this, and the
/// database is parsed instead (a few seconds after an update, once).
pub(crate) const RACY_NS: u64 = 2_000_000_000;

impl Stamps {
    pub(crate) fn new(
        forced_layout: Option<Layout>,
        layout: Layout,
        head: Option<String>,
        taken_ns: u64,
        dirs: Vec<DirStamp>,
        files: &[SourceFile],
    ) -> Stamps {
        Stamps {
            forced_layout,
            layout,
            head,
            taken_ns,
            dirs,
            files: files
                .iter()
                .map(|f| (f.rel.clone(), f.size, f.mtime_ns))
                .collect(),
        }
    }

    /// Whether every directory and file still has the recorded modification time (and size),
    /// and every one of those times was old enough to be trusted when it was recorded.
    fn still_hold(&self, root: &Path) -> bool {
        let Some(at) = RootDir::open(root) else {
            return false;
        };
        let settled = |mtime: u64| mtime.saturating_add(RACY_NS) <= self.taken_ns;
        self.dirs.iter().all(|d| {
            settled(d.mtime_ns)
                && at
                    .stat(&d.rel)
                    .is_some_and(|(_, mtime)| mtime == d.mtime_ns)
        }) && self
            .files
            .iter()
            .all(|(rel, size, mtime)| settled(*mtime) && at.stat(rel) == Some((*size, *mtime)))
    }
}

/// The database root, for `stat`s of paths inside it: relative to an open directory where the
/// platform allows it (the kernel then resolves two or three path components instead of every
/// component from `/`), else by joined paths.
struct RootDir {
    #[cfg(unix)]
    fd: rustix::fd::OwnedFd,
    #[cfg(not(unix))]
    root: PathBuf,
}

impl RootDir {
    #[cfg(unix)]
    fn open(root: &Path) -> Option<RootDir> {
        use rustix::fs::{Mode, OFlags};
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = rustix::fs::open(root, flags, Mode::empty()).ok()?;
        Some(RootDir { fd })
    }

    #[cfg(not(unix))]
    fn open(root: &Path) -> Option<RootDir> {
        Some(RootDir {
            root: root.to_owned(),
        })
    }

    /// Size and modification time of `rel` ("" for the root), following links, as [`stat`]
    /// gives them.
    #[cfg(unix)]
    fn stat(&self, rel: &Path) -> Option<(u64, u64)> {
        let rel = if rel.as_os_str().is_empty() {
            Path::new(".")
        } else {
            rel
        };
        let st = rustix::fs::statat(&self.fd, rel, rustix::fs::AtFlags::empty()).ok()?;
        // Times before the epoch read as 0, as `mtime_ns` has them.
        let mtime = u64::try_from(st.st_mtime)
            .ok()
            .and_then(|secs| secs.checked_mul(1_000_000_000))
            // (The field is signed on some platforms.)
            .and_then(|ns| ns.checked_add(u64::try_from(i128::from(st.st_mtime_nsec)).ok()?))
            .unwrap_or(if st.st_mtime < 0 { 0 } else { u64::MAX });
        Some((u64::try_from(st.st_size).ok()?, mtime))
    }

    #[cfg(not(unix))]
    fn stat(&self, rel: &Path) -> Option<(u64, u64)> {
        stat(&self.root.join(rel))
    }
}

/// Now, in ns since the Unix epoch.
pub(crate) fn now_ns() -> u64 {
    to_ns(std::time::SystemTime::now())
}

fn to_ns(t: std::time::SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// Size and modification time (ns since the epoch, 0 when unknown), following links.
#[cfg(any(test, not(unix)))]
fn stat(path: &Path) -> Option<(u64, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), mtime_ns(&meta)))
}

pub(crate) fn mtime_ns(meta: &std::fs::Metadata) -> u64 {
    meta.modified().map_or(0, to_ns)
}

/// Names one database's index file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    /// The database directory, canonical: stored in the file and checked on reading.
    canonical: String,
    /// Hash of the canonical path: names the database's file in the cache.
    path_hash: String,
}

impl Key {
    pub(crate) fn new(root: &Path) -> Key {
        let canonical = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_owned());
        let mut p = Fnv128::new();
        p.field(canonical.as_os_str().as_encoded_bytes());
        Key {
            canonical: canonical.to_string_lossy().into_owned(),
            path_hash: format!("{:032x}", p.finish()),
        }
    }

    fn file_name(&self) -> String {
        format!("{PREFIX}{}.json", self.path_hash)
    }
}

/// FNV-1a, 128 bits: stable across builds and platforms, unlike std's `DefaultHasher`.
struct Fnv128(u128);

impl Fnv128 {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;

    fn new() -> Self {
        Fnv128(Self::OFFSET)
    }

    fn bytes(&mut self, data: &[u8]) {
        for b in data {
            self.0 ^= u128::from(*b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    /// A length-prefixed field, so that ("ab", "c") and ("a", "bc") differ.
    fn field(&mut self, data: &[u8]) {
        self.bytes(&(data.len() as u64).to_le_bytes());
        self.bytes(data);
    }

    fn finish(&self) -> u128 {
        self.0
    }
}

/// The file's shape: the versions and database it was written for, then the data.
#[derive(Serialize)]
struct IndexFileRef<'a> {
    format: u32,
    binaudit: &'a str,
    database: &'a str,
    stamps: &'a Stamps,
    loaded: &'a Loaded,
}

#[derive(Deserialize)]
struct IndexFile {
    format: u32,
    binaudit: String,
    database: String,
    stamps: Stamps,
    loaded: Loaded,
}

/// The largest cache file read back (the whole RustSec database indexes to a few MiB); a larger
/// one is ignored and rewritten like a damaged one.
const MAX_INDEX_BYTES: u64 = 256 << 20;

/// The cached database at `root`, if there is a complete index that is still current: opened
/// with the same forced layout (or none), at the same git `head`, and with every directory and
/// file as recorded. Returns the data, the layout it was read with and the index file's path.
pub(crate) fn read(
    dir: &Path,
    root: &Path,
    key: &Key,
    forced_layout: Option<Layout>,
    head: Option<&str>,
) -> Option<(Loaded, Layout, PathBuf)> {
    let path = dir.join(key.file_name());
    let bytes = crate::untrusted::read_limited(&path, MAX_INDEX_BYTES).ok()?;
    // Valid UTF-8 checked once for the whole file, rather than string by string.
    let file: IndexFile = serde_json::from_str(std::str::from_utf8(&bytes).ok()?).ok()?;
    let current = file.format == FORMAT_VERSION
        && file.binaudit == env!("CARGO_PKG_VERSION")
        && file.database == key.canonical
        && file.stamps.forced_layout == forced_layout
        && file.stamps.head.as_deref() == head
        && file.stamps.still_hold(root);
    current.then_some((file.loaded, file.stamps.layout, path))
}

/// Writes the index atomically and removes other indexes of the same database.
pub(crate) fn write(
    dir: &Path,
    key: &Key,
    stamps: &Stamps,
    loaded: &Loaded,
) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let name = key.file_name();
    let path = dir.join(&name);
    let json = serde_json::to_vec(&IndexFileRef {
        format: FORMAT_VERSION,
        binaudit: env!("CARGO_PKG_VERSION"),
        database: &key.canonical,
        stamps,
        loaded,
    })
    .map_err(std::io::Error::other)?;
    let mut tmp = tempfile_in(dir, &name)?;
    let result = tmp
        .1
        .write_all(&json)
        .and_then(|()| tmp.1.sync_all())
        .and_then(|()| std::fs::rename(&tmp.0, &path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp.0);
        return Err(e);
    }
    remove_stale(dir, key, &name);
    Ok(path)
}

/// A new file next to the target, with a name no other writer uses.
fn tempfile_in(dir: &Path, name: &str) -> std::io::Result<(PathBuf, std::fs::File)> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    for attempt in 0..100u32 {
        let tmp = dir.join(format!(
            ".{name}.{}.{nanos}.{attempt}.tmp",
            std::process::id()
        ));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("no free temporary file name"))
}

fn remove_stale(dir: &Path, key: &Key, keep: &str) {
    // Also the files of the previous format, named `advisory-db-<16 hex digits>-<key>.json`.
    let old_prefix = format!("{PREFIX}{}-", key.path_hash.get(16..).unwrap_or_default());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with(&old_prefix) && name.ends_with(".json") && name != keep {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A database directory with two advisory files, last changed an hour ago, stamped the
    /// way `db::walk` stamps it.
    fn database(root: &Path) -> Stamps {
        let package = root.join("crates/c");
        std::fs::create_dir_all(&package).unwrap();
        std::fs::write(package.join("a.md"), "a").unwrap();
        std::fs::write(package.join("b.md"), "bb").unwrap();
        for p in ["crates/c/a.md", "crates/c/b.md", "crates/c", "crates", ""] {
            age(&root.join(p));
        }
        stamps_of(root)
    }

    fn stamps_of(root: &Path) -> Stamps {
        let dirs = ["", "crates", "crates/c"]
            .iter()
            .map(|rel| DirStamp {
                rel: PathBuf::from(rel),
                mtime_ns: stat(&root.join(rel)).unwrap().1,
            })
            .collect();
        let mut files: Vec<_> = std::fs::read_dir(root.join("crates/c"))
            .unwrap()
            .map(|e| {
                let rel = PathBuf::from("crates/c").join(e.unwrap().file_name());
                let (size, mtime_ns) = stat(&root.join(&rel)).unwrap();
                SourceFile {
                    path: root.join(&rel),
                    rel,
                    size,
                    mtime_ns,
                }
            })
            .collect();
        files.sort_by(|a, b| a.rel.cmp(&b.rel));
        Stamps::new(None, Layout::RustSec, None, now_ns(), dirs, &files)
    }

    /// Moves a path's modification time well away from now, as a later edit would.
    fn age(path: &Path) {
        let past = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::File::open(path)
            .unwrap()
            .set_modified(past)
            .unwrap();
    }

    #[test]
    fn stamps_hold_until_a_file_or_a_directory_changes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let stamps = database(root);
        assert!(stamps.still_hold(root));

        // Editing a file in place (same size): only its own modification time shows it.
        let a = root.join("crates/c/a.md");
        let dir_before = stat(&root.join("crates/c")).unwrap();
        std::fs::write(&a, "A").unwrap();
        assert_eq!(stat(&root.join("crates/c")).unwrap(), dir_before);
        assert!(!stamps.still_hold(root));
        age(&a);

        // Adding, removing or renaming a file, adding a package: each changes the time of the
        // directory that holds it, although no recorded file changed.
        for change in ["add", "remove", "rename", "package"] {
            let stamps = stamps_of(root);
            assert!(stamps.still_hold(root), "{change}");
            let c = root.join("crates/c");
            match change {
                "add" => std::fs::write(c.join("new.md"), "n").unwrap(),
                "remove" => std::fs::remove_file(c.join("new.md")).unwrap(),
                "rename" => std::fs::rename(c.join("b.md"), c.join("z.md")).unwrap(),
                _ => std::fs::create_dir(root.join("crates/d")).unwrap(),
            }
            assert!(!stamps.still_hold(root), "{change}");
            for p in ["crates/c/new.md", "crates/c", "crates"] {
                if root.join(p).exists() {
                    age(&root.join(p));
                }
            }
        }
    }

    #[test]
    fn fresh_times_are_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        database(root);
        // Written just now: a second change within the same clock tick would not show.
        std::fs::write(root.join("crates/c/a.md"), "A").unwrap();
        let stamps = stamps_of(root);
        assert!(!stamps.still_hold(root));
        age(&root.join("crates/c/a.md"));
        assert!(stamps_of(root).still_hold(root));
        // The same for a directory.
        std::fs::write(root.join("crates/c/new.md"), "n").unwrap();
        age(&root.join("crates/c/new.md"));
        assert!(!stamps_of(root).still_hold(root));
        age(&root.join("crates/c"));
        assert!(stamps_of(root).still_hold(root));
    }

    #[test]
    fn write_then_read_and_reject_a_change() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        let root = dir.path().join("db");
        let stamps = database(&root);
        let key = Key::new(&root);
        let loaded = Loaded::default();
        let path = write(&cache, &key, &stamps, &loaded).unwrap();
        let (got, layout, at) = read(&cache, &root, &key, None, None).unwrap();
        assert_eq!((got, layout, at), (loaded.clone(), Layout::RustSec, path));
        // Another forced layout, another git HEAD: not this index.
        assert!(read(&cache, &root, &key, Some(Layout::Osv), None).is_none());
        assert!(read(&cache, &root, &key, None, Some("abc")).is_none());
        // Another database directory with the same name in the cache (renamed by hand).
        let other = dir.path().join("other");
        let other_key = Key::new(&other);
        std::fs::create_dir_all(&other).unwrap();
        std::fs::copy(
            cache.join(key.file_name()),
            cache.join(other_key.file_name()),
        )
        .unwrap();
        assert!(read(&cache, &other, &other_key, None, None).is_none());
        // A changed file.
        std::fs::write(root.join("crates/c/a.md"), "changed").unwrap();
        assert!(read(&cache, &root, &key, None, None).is_none());
    }

    #[test]
    fn writing_replaces_the_index_and_removes_the_older_format() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        let root = dir.path().join("db");
        let stamps = database(&root);
        let key = Key::new(&root);
        std::fs::create_dir_all(&cache).unwrap();
        let old_name = format!(
            "{PREFIX}{}-{}.json",
            key.path_hash.get(16..).unwrap(),
            "0".repeat(32)
        );
        std::fs::write(cache.join(&old_name), "{}").unwrap();
        let unrelated = format!("{PREFIX}{}-{}.json", "1".repeat(16), "0".repeat(32));
        std::fs::write(cache.join(&unrelated), "{}").unwrap();
        write(&cache, &key, &stamps, &Loaded::default()).unwrap();
        write(&cache, &key, &stamps, &Loaded::default()).unwrap();
        let mut names: Vec<_> = std::fs::read_dir(&cache)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        let mut expected = vec![key.file_name(), unrelated];
        expected.sort();
        assert_eq!(
            names, expected,
            "no temporary file or older index left behind"
        );
    }

    #[test]
    fn fnv_matches_the_reference_vector() {
        // FNV-1a 128 of "a", from the FNV reference test suite.
        let mut h = Fnv128::new();
        h.bytes(b"a");
        assert_eq!(h.finish(), 0xd228_cb69_6f1a_8caf_7891_2b70_4e4a_8964);
    }

    #[test]
    fn a_damaged_file_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        let root = dir.path().join("db");
        let stamps = database(&root);
        let key = Key::new(&root);
        let p = write(&cache, &key, &stamps, &Loaded::default()).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
        assert!(read(&cache, &root, &key, None, None).is_none());
    }
}
