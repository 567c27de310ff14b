//! One file in, what it embeds out: the extract and decode stages run together.
//!
//! A file is opened, its first [`HEAD_LEN`] bytes are read in one call, and the rest is reached
//! through [`object::ReadCache`] with positioned reads (`pread`), so only the headers and the
//! manifest's own byte range are read — never the whole file. The first read serves the format
//! check and every header that lies in it (an ELF file's header and program headers, a Mach-O
//! file's load commands, a PE file's headers and section table are usually all there). Every outcome is explicit: a manifest, a valid
//! binary without one, not a binary at all, or an error with its reason. None of them is
//! "clean" by default; callers decide what each means for their exit status.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use object::ReadRef;

use crate::decode::{self, DecodeError, Decoded, Limits};
use crate::extract::{self, ContainerFormat, ExtractError, Image};

/// How much of a binary's dependency list is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completeness {
    /// An embedded manifest lists every package.
    Complete,
    /// Packages recovered from other evidence (e.g. panic-message paths); some may be missing.
    Recovered,
    /// Nothing is known about the packages.
    None,
}

impl Completeness {
    pub fn as_str(self) -> &'static str {
        match self {
            Completeness::Complete => "complete",
            Completeness::Recovered => "recovered",
            Completeness::None => "none",
        }
    }
}

/// The manifest of one architecture image.
#[derive(Debug)]
pub enum ImageManifest {
    Found {
        section: &'static str,
        decoded: Decoded,
    },
    /// The image is valid but has no manifest section.
    Missing,
    /// The section is there but could not be read or decoded.
    Invalid {
        section: &'static str,
        error: ImageError,
    },
}

/// Why an image's manifest section could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    #[error(
        "the manifest section ({size} bytes at offset {offset:#x}) lies past the end of the file"
    )]
    SectionOutOfBounds { offset: u64, size: u64 },
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

impl ImageManifest {
    pub fn completeness(&self) -> Completeness {
        match self {
            ImageManifest::Found { .. } => Completeness::Complete,
            _ => Completeness::None,
        }
    }
}

/// One architecture image of a binary and its manifest.
#[derive(Debug)]
pub struct ImageReport {
    pub image: Image,
    pub manifest: ImageManifest,
}

/// Everything read from one binary file.
#[derive(Debug)]
pub struct BinaryReport {
    pub format: ContainerFormat,
    pub images: Vec<ImageReport>,
}

/// Why a file could not be inspected at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InspectError {
    #[error("cannot open: {0}")]
    Open(std::io::Error),
    #[error("not a regular file")]
    NotAFile,
    #[error(transparent)]
    Extract(#[from] ExtractError),
}

impl InspectError {
    /// A readable file that is simply not a binary: not an error for a scan, but not clean either.
    pub fn is_not_executable(&self) -> bool {
        matches!(self, InspectError::Extract(ExtractError::NotExecutable))
    }
}

/// How many bytes of a file are read first, in one call: enough for the format check and the
/// headers at the start of the file.
pub const HEAD_LEN: usize = 4096;

/// A regular file open for inspection, with its first bytes already read.
#[derive(Debug)]
pub struct OpenedFile {
    file: File,
    /// The file's bytes from offset 0: up to [`HEAD_LEN`], fewer for a short file.
    head: Vec<u8>,
    len: u64,
}

impl OpenedFile {
    /// Opens `path` and reads its first [`HEAD_LEN`] bytes.
    pub fn open(path: &Path) -> Result<OpenedFile, InspectError> {
        // Opened without blocking and checked before reading: a FIFO or a device is never
        // waited on nor read.
        let mut file = crate::untrusted::open_for_reading(path).map_err(InspectError::Open)?;
        let len = regular_len(&file)?;
        let mut head = vec![0u8; HEAD_LEN];
        let n = read_retrying(&mut file, &mut head).map_err(InspectError::Open)?;
        head.truncate(n);
        Ok(OpenedFile { file, head, len })
    }

    /// A file someone else opened and whose first bytes (from offset 0, as many as one read
    /// gave) they read already, as the directory walk does to recognise executables.
    pub fn from_parts(file: File, head: Vec<u8>) -> Result<OpenedFile, InspectError> {
        let len = regular_len(&file)?;
        Ok(OpenedFile { file, head, len })
    }

    /// A reader from offset 0 that serves the first bytes from memory and reads the rest with
    /// positioned reads: no `seek` calls, and the file's own position is never used.
    fn reader(&self) -> FileReader<'_> {
        FileReader {
            opened: self,
            pos: 0,
        }
    }

    /// The file's length when it was opened.
    pub fn file_len(&self) -> u64 {
        self.len
    }

    /// Reads the whole file from the start (for the panic-path recovery), through the same
    /// reader: the first bytes are not read again.
    pub fn read_all(&self) -> impl Read + '_ {
        self.reader()
    }
}

fn regular_len(file: &File) -> Result<u64, InspectError> {
    let meta = file.metadata().map_err(InspectError::Open)?;
    if !meta.is_file() {
        return Err(InspectError::NotAFile);
    }
    Ok(meta.len())
}

/// One `read` into `buf`, retried only when a signal interrupted it.
pub(crate) fn read_retrying(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match file.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// See [`OpenedFile::reader`].
struct FileReader<'a> {
    opened: &'a OpenedFile,
    pos: u64,
}

impl Read for FileReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let head = &self.opened.head;
        let start = usize::try_from(self.pos).unwrap_or(usize::MAX);
        let n = match head.get(start..) {
            Some(rest) if !rest.is_empty() => {
                let n = rest.len().min(buf.len());
                if let (Some(to), Some(from)) = (buf.get_mut(..n), rest.get(..n)) {
                    to.copy_from_slice(from);
                }
                n
            }
            _ => read_at(&self.opened.file, buf, self.pos)?,
        };
        self.pos = self.pos.saturating_add(n as u64);
        Ok(n)
    }
}

impl object::read::ReadCacheOps for FileReader<'_> {
    fn len(&mut self) -> Result<u64, ()> {
        Ok(self.opened.len)
    }

    fn seek(&mut self, pos: u64) -> Result<u64, ()> {
        self.pos = pos;
        Ok(pos)
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ()> {
        Read::read(self, buf).map_err(|_| ())
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), ()> {
        Read::read_exact(self, buf).map_err(|_| ())
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    use std::os::unix::fs::FileExt;
    file.read_at(buf, pos)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    use std::os::windows::fs::FileExt;
    file.seek_read(buf, pos)
}

#[cfg(not(any(unix, windows)))]
fn read_at(mut file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    use std::io::{Seek, SeekFrom};
    file.seek(SeekFrom::Start(pos))?;
    file.read(buf)
}

/// Inspects the file at `path`, reading only what is needed.
pub fn inspect_path(path: &Path, limits: &Limits) -> Result<BinaryReport, InspectError> {
    inspect_opened(&OpenedFile::open(path)?, limits)
}

/// Inspects a file already open, reading only what is needed beyond its first bytes.
pub fn inspect_opened(opened: &OpenedFile, limits: &Limits) -> Result<BinaryReport, InspectError> {
    let cache = object::ReadCache::new(opened.reader());
    inspect(&cache, limits)
}

/// Inspects bytes already in memory (an archive entry, a test fixture).
pub fn inspect_bytes(data: &[u8], limits: &Limits) -> Result<BinaryReport, InspectError> {
    inspect(data, limits)
}

fn inspect<'data, R: ReadRef<'data>>(
    data: R,
    limits: &Limits,
) -> Result<BinaryReport, InspectError> {
    let located = extract::locate(data)?;
    let images = located
        .images
        .into_iter()
        .map(|image| {
            let manifest = match &image.section {
                None => ImageManifest::Missing,
                Some(loc) => match read_manifest(data, loc.offset, loc.size, limits) {
                    Ok(decoded) => ImageManifest::Found {
                        section: loc.name,
                        decoded,
                    },
                    Err(error) => ImageManifest::Invalid {
                        section: loc.name,
                        error,
                    },
                },
            };
            ImageReport { image, manifest }
        })
        .collect();
    Ok(BinaryReport {
        format: located.format,
        images,
    })
}

fn read_manifest<'data, R: ReadRef<'data>>(
    data: R,
    offset: u64,
    size: u64,
    limits: &Limits,
) -> Result<Decoded, ImageError> {
    // Checked before reading so that a hostile size never turns into an allocation.
    if size > limits.max_json_bytes {
        return Err(DecodeError::CompressedTooLarge {
            size,
            limit: limits.max_json_bytes,
        }
        .into());
    }
    let bytes = data
        .read_bytes_at(offset, size)
        .map_err(|()| ImageError::SectionOutOfBounds { offset, size })?;
    Ok(decode::decode(bytes, limits)?)
}

/// A path and what inspecting it gave: the unit every report is built from.
#[derive(Debug)]
pub struct Inspected {
    pub path: PathBuf,
    pub result: Result<BinaryReport, InspectError>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// What a report says, for comparing two ways of reading the same file.
    fn summary(r: &Result<BinaryReport, InspectError>) -> String {
        match r {
            Err(e) => format!("error: {e}"),
            Ok(r) => {
                let images: Vec<String> = r
                    .images
                    .iter()
                    .map(|i| match &i.manifest {
                        ImageManifest::Found { section, decoded } => format!(
                            "{:?} {section} {}",
                            i.image,
                            String::from_utf8_lossy(&decoded.json)
                        ),
                        ImageManifest::Missing => format!("{:?} missing", i.image),
                        ImageManifest::Invalid { section, error } => {
                            format!("{:?} {section} invalid: {error}", i.image)
                        }
                    })
                    .collect();
                format!("{:?} {images:?}", r.format)
            }
        }
    }

    #[test]
    fn an_open_file_reads_the_same_whatever_part_of_its_head_was_read_before() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-binaries");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if !path.is_file() {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let expected = summary(&inspect_bytes(&bytes, &Limits::default()));
            assert_eq!(
                summary(&inspect_path(&path, &Limits::default())),
                expected,
                "{}",
                path.display()
            );
            // The walk reads up to 4 KiB; a short read may give fewer bytes.
            for n in [0, 1, 15, 16, 100, HEAD_LEN] {
                let head = bytes.get(..n.min(bytes.len())).unwrap().to_vec();
                let opened = OpenedFile::from_parts(File::open(&path).unwrap(), head).unwrap();
                let got = summary(&inspect_opened(&opened, &Limits::default()));
                assert_eq!(got, expected, "{} with {n} bytes read", path.display());
                let mut all = Vec::new();
                opened.read_all().read_to_end(&mut all).unwrap();
                assert!(all == bytes, "{} with {n} bytes read", path.display());
            }
            checked += 1;
        }
        assert!(checked >= 14, "only {checked} samples");
    }

    #[test]
    fn a_directory_is_not_a_file_to_inspect() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            inspect_path(dir.path(), &Limits::default()),
            Err(InspectError::NotAFile)
        ));
    }
}
