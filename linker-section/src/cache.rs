//! The small files the wrapper keeps next to build outputs: unit records and caches of what it
//! asked rustc and cargo. Written whole or not at all; keyed on file stamps.

use std::path::Path;

/// Writes `path` whole through a temporary file and a rename: readers see the old content or
/// the new, never a part, even with several writers at once.
pub(crate) fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// A file's size and modification time, as part of a cache key; `None` when it cannot be
/// examined.
pub(crate) fn file_stamp(path: &Path) -> Option<String> {
    let m = std::fs::metadata(path).ok()?;
    let mtime = m
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!("{}:{}", m.len(), mtime.as_nanos()))
}
