//! Files read whole from disk that binaudit does not trust: lock files, advisory files, cargo's
//! install records. Each is opened without blocking (a FIFO or a device in their place is an
//! error, not a hang), its type is checked on the opened file, and at most a limit is read.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Opens a path for reading without blocking: `O_NONBLOCK` makes opening a FIFO return at once
/// (a plain open waits for a writer forever) and `O_NOCTTY` keeps a terminal from becoming the
/// process's. Neither changes reads of a regular file. Callers check the type on the opened
/// file, so a path swapped after a directory walk looked at it is still caught.
pub(crate) fn open_for_reading(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    options.open(path)
}

/// Why a file could not be read whole.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("not a regular file")]
    NotAFile,
    #[error("{size} bytes, more than the {limit}-byte limit")]
    TooLarge { size: u64, limit: u64 },
}

impl From<ReadError> for io::Error {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Io(e) => e,
            other => io::Error::other(other.to_string()),
        }
    }
}

/// Reads a regular file of at most `limit` bytes.
pub(crate) fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = open_for_reading(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(ReadError::NotAFile);
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    // The file may grow after the check: the read stops one byte past the limit regardless.
    let mut data = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut data)?;
    let size = data.len() as u64;
    if size > limit {
        return Err(ReadError::TooLarge { size, limit });
    }
    Ok(data)
}

/// [`read_limited`], as UTF-8 text.
pub(crate) fn read_limited_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    String::from_utf8(read_limited(path, limit)?)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.utf8_error()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_over_the_limit_directories_and_fifos_are_refused_unread() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("f");
        std::fs::write(&file, b"0123456789").expect("write");
        assert_eq!(
            read_limited(&file, 10).expect("at the limit"),
            b"0123456789"
        );
        assert!(matches!(
            read_limited(&file, 9),
            Err(ReadError::TooLarge { size: 10, limit: 9 })
        ));
        assert!(matches!(
            read_limited(dir.path(), 9),
            Err(ReadError::NotAFile)
        ));
        #[cfg(target_os = "linux")]
        {
            let fifo = dir.path().join("fifo");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            if made.is_ok_and(|s| s.success()) {
                assert!(matches!(read_limited(&fifo, 9), Err(ReadError::NotAFile)));
            }
        }
        std::fs::write(&file, b"\xff\xfe").expect("write");
        let err = read_limited_text(&file, 10).expect_err("not UTF-8");
        assert!(err.to_string().contains("utf-8"), "{err}");
    }
}
