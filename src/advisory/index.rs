//! The index cache: the parsed database as one JSON file, keyed on the database's content, so
//! that a repeated scan reads one file instead of parsing ~1,200.
//!
//! The key is a 128-bit FNV-1a hash of: the index format version, binaudit's version, the
//! database's canonical path and layout, the git HEAD commit if any, and every advisory file's
//! relative path, size and modification time in sorted order. Computing it costs a directory
//! walk with `stat` only. Any change to any advisory file gives a new key, hence a full parse.
//! (Like git's index, this trusts size and modification time: two writes of the same size within
//! the file system's timestamp granularity would look alike. Git itself rewrites whole files
//! and moves HEAD, so an update of the database always changes the key.)
//!
//! The file is named `advisory-db-<path hash>-<key>.json`; writing one removes the older files
//! of the same database. It is written to a temporary file and renamed into place, so a reader
//! sees a whole file or none. A file that does not deserialise completely, or whose embedded
//! key differs, is ignored (and the database re-parsed): the cache is never trusted partially
//! and never makes an open fail.
//!
//! JSON rather than a binary encoding: the model's serde shape uses an internally tagged enum,
//! which the compact binary formats cannot read back, and reading ~1 MB of JSON takes a few
//! milliseconds (see the timings in the report of the stage that introduced it).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::db::{Layout, Loaded, SourceFile};

/// Bump when the cached shape or the meaning of any field changes.
const FORMAT_VERSION: u32 = 1;
const PREFIX: &str = "advisory-db-";

/// The content key of one database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    /// Hash of the canonical database path: names the database's files in the cache.
    path_hash: String,
    /// Hash of everything (see the module docs).
    content: String,
}

impl Key {
    pub(crate) fn new(
        root: &Path,
        layout: Layout,
        head: Option<&str>,
        files: &[SourceFile],
    ) -> Key {
        let canonical = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_owned());
        let path_bytes = canonical.as_os_str().as_encoded_bytes();
        let mut h = Fnv128::new();
        h.field(b"binaudit advisory index");
        h.field(&FORMAT_VERSION.to_le_bytes());
        h.field(env!("CARGO_PKG_VERSION").as_bytes());
        h.field(path_bytes);
        h.field(layout.as_str().as_bytes());
        h.field(head.unwrap_or("-").as_bytes());
        h.field(&(files.len() as u64).to_le_bytes());
        for f in files {
            h.field(f.rel.as_os_str().as_encoded_bytes());
            h.field(&f.size.to_le_bytes());
            h.field(&f.mtime_ns.to_le_bytes());
        }
        let mut p = Fnv128::new();
        p.field(path_bytes);
        Key {
            path_hash: format!("{:016x}", p.finish() as u64),
            content: format!("{:032x}", h.finish()),
        }
    }

    fn file_name(&self) -> String {
        format!("{PREFIX}{}-{}.json", self.path_hash, self.content)
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

/// The file's shape: the key and versions it was written for, then the data.
#[derive(Serialize)]
struct IndexFileRef<'a> {
    format: u32,
    binaudit: &'a str,
    key: &'a str,
    loaded: &'a Loaded,
}

#[derive(Deserialize)]
struct IndexFile {
    format: u32,
    binaudit: String,
    key: String,
    loaded: Loaded,
}

/// The largest cache file read back (the whole RustSec database indexes to a few MiB); a larger
/// one is ignored and rewritten like a damaged one.
const MAX_INDEX_BYTES: u64 = 256 << 20;

/// The cached database for `key`, if there is a complete, matching one.
pub(crate) fn read(dir: &Path, key: &Key) -> Option<(Loaded, PathBuf)> {
    let path = dir.join(key.file_name());
    let bytes = crate::untrusted::read_limited(&path, MAX_INDEX_BYTES).ok()?;
    let file: IndexFile = serde_json::from_slice(&bytes).ok()?;
    let current = file.format == FORMAT_VERSION
        && file.binaudit == env!("CARGO_PKG_VERSION")
        && file.key == key.content;
    current.then_some((file.loaded, path))
}

/// Writes the index for `key` atomically and removes older indexes of the same database.
pub(crate) fn write(dir: &Path, key: &Key, loaded: &Loaded) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let name = key.file_name();
    let path = dir.join(&name);
    let json = serde_json::to_vec(&IndexFileRef {
        format: FORMAT_VERSION,
        binaudit: env!("CARGO_PKG_VERSION"),
        key: &key.content,
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
    let prefix = format!("{PREFIX}{}-", key.path_hash);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with(&prefix) && name.ends_with(".json") && name != keep {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn files(sizes: &[u64]) -> Vec<SourceFile> {
        sizes
            .iter()
            .enumerate()
            .map(|(i, s)| SourceFile {
                path: PathBuf::from(format!("/db/crates/c/{i}.md")),
                rel: PathBuf::from(format!("crates/c/{i}.md")),
                size: *s,
                mtime_ns: 1_000,
            })
            .collect()
    }

    #[test]
    fn key_changes_with_any_input() {
        let root = Path::new("/nonexistent/db");
        let base = Key::new(root, Layout::RustSec, None, &files(&[1, 2]));
        assert_eq!(base, Key::new(root, Layout::RustSec, None, &files(&[1, 2])));
        assert_ne!(base, Key::new(root, Layout::RustSec, None, &files(&[1, 3])));
        assert_ne!(base, Key::new(root, Layout::RustSec, None, &files(&[1])));
        assert_ne!(base, Key::new(root, Layout::Osv, None, &files(&[1, 2])));
        assert_ne!(
            base,
            Key::new(root, Layout::RustSec, Some("ab"), &files(&[1, 2]))
        );
        let other = Key::new(
            Path::new("/nonexistent/other"),
            Layout::RustSec,
            None,
            &files(&[1, 2]),
        );
        assert_ne!(base.path_hash, other.path_hash);
        let mut touched = files(&[1, 2]);
        touched[1].mtime_ns += 1;
        assert_ne!(base, Key::new(root, Layout::RustSec, None, &touched));
    }

    #[test]
    fn fnv_matches_the_reference_vector() {
        // FNV-1a 128 of "a", from the FNV reference test suite.
        let mut h = Fnv128::new();
        h.bytes(b"a");
        assert_eq!(h.finish(), 0xd228_cb69_6f1a_8caf_7891_2b70_4e4a_8964);
    }

    #[test]
    fn write_then_read_and_replace_older_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = Path::new("/nonexistent/db");
        let k1 = Key::new(root, Layout::RustSec, None, &files(&[1]));
        let k2 = Key::new(root, Layout::RustSec, None, &files(&[2]));
        let loaded = Loaded::default();
        let p1 = write(dir.path(), &k1, &loaded).unwrap();
        assert_eq!(read(dir.path(), &k1).unwrap().0, loaded);
        assert!(read(dir.path(), &k2).is_none());
        write(dir.path(), &k2, &loaded).unwrap();
        assert!(
            !p1.exists(),
            "the older index of the same database is removed"
        );
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn a_damaged_file_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let k = Key::new(
            Path::new("/nonexistent/db"),
            Layout::RustSec,
            None,
            &files(&[1]),
        );
        let p = write(dir.path(), &k, &Loaded::default()).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
        assert!(read(dir.path(), &k).is_none());
        // A whole file written under another key (renamed by hand) is not trusted either.
        let other = Key::new(
            Path::new("/nonexistent/db"),
            Layout::RustSec,
            None,
            &files(&[9]),
        );
        let q = write(dir.path(), &other, &Loaded::default()).unwrap();
        std::fs::rename(&q, dir.path().join(k.file_name())).unwrap();
        assert!(read(dir.path(), &k).is_none());
    }
}
