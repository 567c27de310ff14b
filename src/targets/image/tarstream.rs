//! A bounded, forward-only tar reader for layers and for the outer archive.
//!
//! The `tar` crate parses each 512-byte header (checksum, octal and base-256 sizes, ustar name
//! prefixes, PAX records); the stepping between headers is done here because the crate's own
//! iterator reads GNU long-name and PAX extension members into memory without a limit, and a
//! layer is untrusted input. Here a long name is at most [`MAX_LONG_NAME`] bytes and a PAX
//! record set at most [`MAX_PAX`]; anything larger is a corrupt layer, not an allocation.
//!
//! Entry types that carry no data in Go's `archive/tar` (links, directories, devices, FIFOs)
//! are given none here either, whatever their size field says: the container runtimes that
//! unpack images are written in Go, and a reader that disagreed with them about where the next
//! header starts would see a different filesystem from the one that runs.

use std::io::{self, Read, Seek, SeekFrom};

/// The tar block size.
const BLOCK: u64 = 512;
/// The longest GNU long name or long link name accepted.
const MAX_LONG_NAME: u64 = 64 * 1024;
/// The largest PAX extended header (local or global) accepted.
const MAX_PAX: u64 = 1024 * 1024;
/// Extension headers (long names, PAX) allowed before one entry.
const MAX_EXTENSION_HEADERS: u32 = 16;
/// GNU sparse extension blocks allowed after one sparse header.
const MAX_SPARSE_BLOCKS: u32 = 100_000;

/// Why a tar stream could not be read.
#[derive(Debug)]
pub(super) enum TarError {
    /// The underlying reader failed (for a layer: its decompressor, or the file under it).
    Read(io::Error),
    /// The bytes are not a valid tar stream: a bad header, or the stream ends inside an entry.
    Corrupt(String),
}

fn corrupt(reason: impl Into<String>) -> TarError {
    TarError::Corrupt(reason.into())
}

/// What an entry is, as far as an image's filesystem is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A regular file (types `0`, NUL and `7`).
    File,
    Dir,
    Symlink,
    HardLink,
    /// A GNU sparse file (old `S` format or PAX `GNU.sparse.*`): the stored bytes are not the
    /// file's bytes, so it is never read.
    Sparse,
    /// Devices, FIFOs and types we do not know.
    Other,
}

/// One entry's header, after its extension headers were applied.
#[derive(Debug)]
pub(super) struct Header {
    pub kind: Kind,
    /// The raw path bytes, as stored (not normalised).
    pub path: Vec<u8>,
    /// The link target of a symbolic or hard link, as stored.
    pub link: Vec<u8>,
    /// Bytes of data that follow the header.
    pub size: u64,
    /// Offset of the data from the start of the stream.
    pub offset: u64,
}

/// A byte source a tar stream can skip forward in.
pub(super) trait Source: Read {
    /// Skips `n` bytes; `Ok(false)` when the source ended first (as far as it can tell).
    fn skip(&mut self, n: u64) -> io::Result<bool>;
}

/// Skips by reading and discarding: for decompressors, which cannot seek.
#[derive(Debug)]
pub(super) struct ReadThrough<R> {
    inner: R,
    scratch: Vec<u8>,
}

impl<R: Read> ReadThrough<R> {
    pub(super) fn new(inner: R) -> Self {
        Self {
            inner,
            scratch: vec![0; 64 * 1024],
        }
    }
}

impl<R: Read> Read for ReadThrough<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl<R: Read> Source for ReadThrough<R> {
    fn skip(&mut self, mut n: u64) -> io::Result<bool> {
        while n > 0 {
            let want = usize::try_from(n)
                .unwrap_or(usize::MAX)
                .min(self.scratch.len());
            let Some(chunk) = self.scratch.get_mut(..want) else {
                return Ok(false);
            };
            let got = match self.inner.read(chunk) {
                Ok(0) => return Ok(false),
                Ok(got) => got,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            n = n.saturating_sub(got as u64);
        }
        Ok(true)
    }
}

/// Skips by seeking: for the outer archive, a plain file. A seek past the end is not an error
/// here; the next read finds the end.
#[derive(Debug)]
pub(super) struct SeekThrough<R>(pub R);

impl<R: Read> Read for SeekThrough<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<R: Read + Seek> Source for SeekThrough<R> {
    fn skip(&mut self, n: u64) -> io::Result<bool> {
        let delta = i64::try_from(n)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "skip too large"))?;
        self.0.seek(SeekFrom::Current(delta))?;
        Ok(true)
    }
}

/// A tar stream read entry by entry. [`TarStream::next_entry`] skips whatever of the previous
/// entry's data was not read; [`Read`] reads the current entry's data.
#[derive(Debug)]
pub(super) struct TarStream<S> {
    inner: S,
    /// Bytes consumed from `inner` (headers and data), i.e. the current stream offset.
    pos: u64,
    /// Data bytes of the current entry not yet read.
    remaining: u64,
    /// Padding after the current entry's data.
    padding: u64,
    done: bool,
}

impl<S: Source> TarStream<S> {
    pub(super) fn new(inner: S) -> Self {
        Self {
            inner,
            pos: 0,
            remaining: 0,
            padding: 0,
            done: false,
        }
    }

    /// The next entry, or `None` at the end of the archive (a zero block, or the end of the
    /// stream exactly at a header boundary).
    pub(super) fn next_entry(&mut self) -> Result<Option<Header>, TarError> {
        if self.done {
            return Ok(None);
        }
        if !self.skip_data()? {
            self.done = true;
            return Ok(None);
        }
        let mut long_name: Option<Vec<u8>> = None;
        let mut long_link: Option<Vec<u8>> = None;
        let mut pax_path: Option<Vec<u8>> = None;
        let mut pax_link: Option<Vec<u8>> = None;
        let mut pax_size: Option<u64> = None;
        let mut sparse_name: Option<Vec<u8>> = None;
        let mut pax_sparse = false;
        let mut extensions = 0u32;
        loop {
            let mut block = [0u8; 512];
            match self.read_block(&mut block)? {
                Block::Full => {}
                Block::End if extensions == 0 => {
                    self.done = true;
                    return Ok(None);
                }
                Block::End => return Err(corrupt("the stream ends after an extension header")),
            }
            if block.iter().all(|b| *b == 0) {
                if extensions > 0 {
                    return Err(corrupt("an extension header is followed by the end marker"));
                }
                self.done = true;
                return Ok(None);
            }
            let header = tar::Header::from_byte_slice(&block);
            check_checksum(&block, header)?;
            let stored_size = header.entry_size().map_err(|e| {
                corrupt(format!(
                    "bad size field at offset {}: {e}",
                    self.header_pos()
                ))
            })?;
            let entry_type = header.entry_type();
            let extension = entry_type.is_gnu_longname()
                || entry_type.is_gnu_longlink()
                || entry_type.is_pax_local_extensions()
                || entry_type.is_pax_global_extensions();
            if extension {
                extensions = extensions.saturating_add(1);
                if extensions > MAX_EXTENSION_HEADERS {
                    return Err(corrupt("too many extension headers before one entry"));
                }
                let limit = if entry_type.is_gnu_longname() || entry_type.is_gnu_longlink() {
                    MAX_LONG_NAME
                } else {
                    MAX_PAX
                };
                let data = self.read_extension(stored_size, limit)?;
                if entry_type.is_gnu_longname() {
                    long_name = Some(trim_nul(data));
                } else if entry_type.is_gnu_longlink() {
                    long_link = Some(trim_nul(data));
                } else if entry_type.is_pax_local_extensions() {
                    for record in tar::PaxExtensions::new(&data) {
                        let record =
                            record.map_err(|e| corrupt(format!("malformed PAX header: {e}")))?;
                        match record.key_bytes() {
                            b"path" => pax_path = Some(record.value_bytes().to_vec()),
                            b"linkpath" => pax_link = Some(record.value_bytes().to_vec()),
                            b"size" => {
                                let size = std::str::from_utf8(record.value_bytes())
                                    .ok()
                                    .and_then(|s| s.parse::<u64>().ok())
                                    .ok_or_else(|| corrupt("malformed PAX size record"))?;
                                pax_size = Some(size);
                            }
                            b"GNU.sparse.name" => {
                                sparse_name = Some(record.value_bytes().to_vec());
                                pax_sparse = true;
                            }
                            key if key.starts_with(b"GNU.sparse.") => pax_sparse = true,
                            _ => {}
                        }
                    }
                }
                // A global PAX header (`g`) applies to the whole archive; nothing in it
                // changes what a runtime unpacks, so it is read past and ignored.
                continue;
            }

            let kind = match entry_type {
                tar::EntryType::Regular | tar::EntryType::Continuous => Kind::File,
                tar::EntryType::Directory => Kind::Dir,
                tar::EntryType::Symlink => Kind::Symlink,
                tar::EntryType::Link => Kind::HardLink,
                tar::EntryType::GNUSparse => Kind::Sparse,
                _ => Kind::Other,
            };
            let path = sparse_name
                .or(pax_path)
                .or(long_name)
                .unwrap_or_else(|| header.path_bytes().into_owned());
            let kind = match kind {
                Kind::File if pax_sparse => Kind::Sparse,
                // Pre-POSIX archives (type NUL) mark directories by a trailing slash only.
                Kind::File if header.as_old().linkflag == [0] && path.ends_with(b"/") => Kind::Dir,
                kind => kind,
            };
            let header_only = matches!(kind, Kind::Dir | Kind::Symlink | Kind::HardLink)
                || matches!(
                    entry_type,
                    tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo
                );
            if entry_type == tar::EntryType::GNUSparse {
                self.skip_sparse_extensions(header)?;
            }
            let size = if header_only {
                0
            } else {
                pax_size.unwrap_or(stored_size)
            };
            let link = pax_link
                .or(long_link)
                .or_else(|| header.link_name_bytes().map(|l| l.into_owned()))
                .unwrap_or_default();
            self.remaining = size;
            self.padding = padding(size);
            return Ok(Some(Header {
                kind,
                path,
                link,
                size,
                offset: self.pos,
            }));
        }
    }

    fn header_pos(&self) -> u64 {
        self.pos.saturating_sub(BLOCK)
    }

    /// Skips the unread data and padding of the current entry. `Ok(false)`: the stream ended
    /// inside the padding (tolerated, as other readers do).
    fn skip_data(&mut self) -> Result<bool, TarError> {
        if self.remaining > 0 {
            let n = self.remaining;
            if !self.inner.skip(n).map_err(TarError::Read)? {
                return Err(corrupt("the stream ends inside an entry's data"));
            }
            self.pos = self.pos.saturating_add(n);
            self.remaining = 0;
        }
        if self.padding > 0 {
            let n = self.padding;
            self.padding = 0;
            if !self.inner.skip(n).map_err(TarError::Read)? {
                return Ok(false);
            }
            self.pos = self.pos.saturating_add(n);
        }
        Ok(true)
    }

    fn read_block(&mut self, block: &mut [u8; 512]) -> Result<Block, TarError> {
        let mut filled = 0usize;
        while filled < block.len() {
            let Some(rest) = block.get_mut(filled..) else {
                break;
            };
            match self.inner.read(rest) {
                Ok(0) if filled == 0 => return Ok(Block::End),
                Ok(0) => return Err(corrupt("the stream ends inside a header")),
                Ok(n) => filled = filled.saturating_add(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(TarError::Read(e)),
            }
        }
        self.pos = self.pos.saturating_add(BLOCK);
        Ok(Block::Full)
    }

    /// Reads the data of an extension member (at most `limit` bytes) and its padding.
    fn read_extension(&mut self, size: u64, limit: u64) -> Result<Vec<u8>, TarError> {
        if size > limit {
            return Err(corrupt(format!(
                "an extension header of {size} bytes (the limit is {limit})"
            )));
        }
        let len = usize::try_from(size).map_err(|_| corrupt("extension header too large"))?;
        let mut data = vec![0u8; len];
        let mut filled = 0usize;
        while filled < len {
            let Some(rest) = data.get_mut(filled..) else {
                break;
            };
            match self.inner.read(rest) {
                Ok(0) => return Err(corrupt("the stream ends inside an extension header")),
                Ok(n) => filled = filled.saturating_add(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(TarError::Read(e)),
            }
        }
        self.pos = self.pos.saturating_add(size);
        let pad = padding(size);
        if !self.inner.skip(pad).map_err(TarError::Read)? {
            return Err(corrupt("the stream ends inside an extension header"));
        }
        self.pos = self.pos.saturating_add(pad);
        Ok(data)
    }

    /// Old GNU sparse headers may be followed by extension blocks listing more chunks; they
    /// come before the data and are skipped here (the file is never read).
    fn skip_sparse_extensions(&mut self, header: &tar::Header) -> Result<(), TarError> {
        let Some(gnu) = header.as_gnu() else {
            return Err(corrupt("a sparse entry without a GNU header"));
        };
        let mut extended = gnu.is_extended();
        let mut count = 0u32;
        while extended {
            count = count.saturating_add(1);
            if count > MAX_SPARSE_BLOCKS {
                return Err(corrupt("too many sparse extension blocks"));
            }
            let mut block = [0u8; 512];
            match self.read_block(&mut block)? {
                Block::Full => {}
                Block::End => return Err(corrupt("the stream ends inside a sparse header")),
            }
            // Byte 504 of an extension block is its own "another block follows" flag.
            extended = block.get(504).is_some_and(|b| *b != 0);
        }
        Ok(())
    }
}

impl<S: Source> Read for TarStream<S> {
    /// Reads the current entry's data; a [`Truncated`] error when the stream ends before the
    /// entry's size.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = usize::try_from(self.remaining)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let Some(chunk) = buf.get_mut(..want) else {
            return Ok(0);
        };
        let got = self.inner.read(chunk)?;
        if got == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, Truncated));
        }
        self.remaining = self.remaining.saturating_sub(got as u64);
        self.pos = self.pos.saturating_add(got as u64);
        Ok(got)
    }
}

/// The error [`TarStream`]'s `Read` gives when the stream ends before the entry does, as
/// opposed to an error of the reader under it (a decompressor's own end-of-stream error).
#[derive(Debug)]
pub(super) struct Truncated;

impl std::fmt::Display for Truncated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the stream ends inside an entry's data")
    }
}

impl std::error::Error for Truncated {}

impl Truncated {
    /// Whether `e` is this error.
    pub(super) fn is(e: &io::Error) -> bool {
        e.get_ref().is_some_and(|inner| inner.is::<Truncated>())
    }
}

enum Block {
    Full,
    End,
}

fn padding(size: u64) -> u64 {
    match size % BLOCK {
        0 => 0,
        r => BLOCK.saturating_sub(r),
    }
}

fn trim_nul(mut data: Vec<u8>) -> Vec<u8> {
    while data.last() == Some(&0) {
        data.pop();
    }
    data
}

/// The header checksum: the unsigned sum of the header with the checksum field read as spaces,
/// or (as some old writers computed it) the signed sum.
fn check_checksum(block: &[u8; 512], header: &tar::Header) -> Result<(), TarError> {
    let stored = header
        .cksum()
        .map_err(|e| corrupt(format!("bad header checksum field: {e}")))?;
    let mut unsigned: u32 = 0;
    let mut signed: i32 = 0;
    for (i, b) in block.iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { *b };
        unsigned = unsigned.wrapping_add(u32::from(b));
        signed = signed.wrapping_add(i32::from(b as i8));
    }
    if stored == unsigned || i64::from(stored) == i64::from(signed) {
        Ok(())
    } else {
        Err(corrupt("tar header checksum mismatch"))
    }
}
