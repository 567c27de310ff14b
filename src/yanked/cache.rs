//! binaudit's on-disk cache of index files, and read-only access to cargo's.
//!
//! One file per crate, at the crate's index path under a directory named after the index
//! (`index.crates.io/sm/al/smallvec`), so two indexes never share entries. The file is one
//! header line of JSON, then the index file's body exactly as the server sent it:
//!
//! ```text
//! {"binaudit_index_cache":1,"fetched":1730000000,"etag":"\"5f1c…\"","last_modified":null}
//! {"name":"smallvec","vers":"0.1.0",…}
//! …
//! ```
//!
//! `fetched` is when the server last confirmed the body (a `200` or a `304`), in seconds since
//! the Unix epoch. Files are replaced by writing a temporary file beside them and renaming it,
//! so a reader (another binaudit process) sees the old entry or the new one, never half of one.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::index::{self, IndexEntry};

/// The header line is small; anything longer is not ours.
const MAX_HEADER_LEN: usize = 8 * 1024;

/// `ETag` and `Last-Modified` values longer than this are not kept (real ones are < 100 bytes).
pub(crate) const MAX_VALIDATOR_LEN: usize = 1024;

const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Header {
    binaudit_index_cache: u32,
    fetched: u64,
    etag: Option<String>,
    last_modified: Option<String>,
}

/// A cached index file.
#[derive(Debug, Clone)]
pub(crate) struct CachedFile {
    /// When the server last confirmed `body`.
    pub fetched: SystemTime,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub body: Vec<u8>,
}

impl CachedFile {
    /// Whether the entry may be used without asking the server. An entry from the future
    /// (a clock that was set back) is not fresh.
    pub fn is_fresh(&self, now: SystemTime, max_age: Duration) -> bool {
        now.duration_since(self.fetched)
            .is_ok_and(|age| age < max_age)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Cache {
    /// The directory of this index's entries.
    root: PathBuf,
    max_body: u64,
}

impl Cache {
    pub fn new(root: PathBuf, max_body: u64) -> Self {
        Cache { root, max_body }
    }

    fn path(&self, index_path: &str) -> PathBuf {
        self.root.join(index_path)
    }

    /// The entry for a crate, or `None` if there is none or it is unreadable (it is then
    /// fetched again and replaced).
    pub fn load(&self, index_path: &str) -> Option<CachedFile> {
        let file = File::open(self.path(index_path)).ok()?;
        let limit = self.max_body.saturating_add(MAX_HEADER_LEN as u64);
        let data = read_bounded(file, limit)?;
        let newline = data.iter().take(MAX_HEADER_LEN).position(|&b| b == b'\n')?;
        let (header, body) = data.split_at(newline);
        let header: Header = serde_json::from_slice(header).ok()?;
        let body = body.get(1..)?;
        if header.binaudit_index_cache != FORMAT || body.len() as u64 > self.max_body {
            return None;
        }
        Some(CachedFile {
            fetched: UNIX_EPOCH + Duration::from_secs(header.fetched),
            etag: header.etag,
            last_modified: header.last_modified,
            body: body.to_vec(),
        })
    }

    /// Writes an entry atomically, creating the directories it needs.
    pub fn store(&self, index_path: &str, entry: &CachedFile) -> io::Result<()> {
        let path = self.path(index_path);
        let dir = path
            .parent()
            .ok_or_else(|| io::Error::other("cache path has no parent"))?;
        fs::create_dir_all(dir)?;
        let header = Header {
            binaudit_index_cache: FORMAT,
            fetched: entry
                .fetched
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            etag: entry.etag.clone(),
            last_modified: entry.last_modified.clone(),
        };
        let mut data = serde_json::to_vec(&header).map_err(io::Error::other)?;
        data.push(b'\n');
        data.extend_from_slice(&entry.body);
        write_atomically(&path, &data)
    }

    pub fn remove(&self, index_path: &str) {
        // Best effort: a stale entry left behind is refetched like any other.
        let _ = fs::remove_file(self.path(index_path));
    }
}

/// Reads at most `limit` bytes; `None` if the file is longer or unreadable.
fn read_bounded(file: File, limit: u64) -> Option<Vec<u8>> {
    if file.metadata().ok()?.len() > limit {
        return None;
    }
    let mut data = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut data)
        .ok()?;
    (data.len() as u64 <= limit).then_some(data)
}

fn write_atomically(path: &Path, data: &[u8]) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".{}.{unique}.tmp", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let result = File::create(&tmp)
        .and_then(|mut f| {
            f.write_all(data)?;
            f.sync_all()
        })
        .and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Looks a crate up in cargo's own sparse-index cache for crates.io under `cargo_home`
/// (`registry/index/index.crates.io-<hash>/.cache/<index path>`). Different cargo versions use
/// different hashes; the most recently written file wins.
pub(crate) fn load_cargo_cache(
    cargo_home: &Path,
    index_path: &str,
    max_body: u64,
) -> Option<Vec<IndexEntry>> {
    let registries = fs::read_dir(cargo_home.join("registry").join("index")).ok()?;
    let newest = registries
        .filter_map(Result::ok)
        .filter(|d| {
            d.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with("index.crates.io-"))
        })
        .filter_map(|d| {
            let file = d.path().join(".cache").join(index_path);
            let modified = fs::metadata(&file).and_then(|m| m.modified()).ok()?;
            Some((modified, file))
        })
        .max_by_key(|(modified, _)| *modified)?;
    let data = read_bounded(File::open(newest.1).ok()?, max_body)?;
    index::parse_cargo_cache(&data).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_replace_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("idx"), 1024);
        assert!(cache.load("sm/al/smallvec").is_none());
        let entry = CachedFile {
            fetched: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            etag: Some("\"abc\"".into()),
            last_modified: None,
            body: b"{\"vers\":\"1.0.0\",\"yanked\":false}\n".to_vec(),
        };
        cache.store("sm/al/smallvec", &entry).unwrap();
        let back = cache.load("sm/al/smallvec").unwrap();
        assert_eq!(back.fetched, entry.fetched);
        assert_eq!(back.etag, entry.etag);
        assert_eq!(back.body, entry.body);
        cache
            .store(
                "sm/al/smallvec",
                &CachedFile {
                    etag: None,
                    ..entry
                },
            )
            .unwrap();
        assert_eq!(cache.load("sm/al/smallvec").unwrap().etag, None);
        // No temporary files are left behind.
        let names: Vec<_> = fs::read_dir(dir.path().join("idx/sm/al"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["smallvec"]);
    }

    #[test]
    fn oversized_or_foreign_files_are_not_entries() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_path_buf(), 16);
        let entry = CachedFile {
            fetched: SystemTime::now(),
            etag: None,
            last_modified: None,
            body: vec![b'x'; 17],
        };
        cache.store("1/a", &entry).unwrap();
        assert!(cache.load("1/a").is_none());
        fs::write(
            dir.path().join("1/b"),
            b"{\"vers\":\"1.0.0\",\"yanked\":false}\n",
        )
        .unwrap();
        assert!(cache.load("1/b").is_none());
        fs::write(dir.path().join("1/c"), vec![b'{'; 20_000]).unwrap();
        assert!(cache.load("1/c").is_none());
    }

    #[test]
    fn freshness() {
        let now = SystemTime::now();
        let entry = |fetched| CachedFile {
            fetched,
            etag: None,
            last_modified: None,
            body: Vec::new(),
        };
        let hour = Duration::from_secs(3600);
        assert!(entry(now - Duration::from_secs(10)).is_fresh(now, hour));
        assert!(!entry(now - 2 * hour).is_fresh(now, hour));
        assert!(!entry(now + hour).is_fresh(now, hour));
        assert!(!entry(now).is_fresh(now, Duration::ZERO));
    }
}
