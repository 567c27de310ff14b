//! The one checked way the format parsers read bytes.
//!
//! Every read goes through [`ReadRef`] with an explicit range that has been compared with the
//! length of the data first, so that running off the end is reported as
//! [`ExtractError::Truncated`] (with what was being read) rather than as an opaque failure, and
//! a failed read of an in-bounds range (an I/O error under a [`object::ReadCache`]) is
//! reported as [`ExtractError::Read`].

use core::ops::Range;

use object::pod::Pod;
use object::ReadRef;

use super::{ContainerFormat, ExtractError};

/// A sub-range of a [`ReadRef`], itself a [`ReadRef`] whose offsets start at 0.
///
/// Used for the slices of a Mach-O universal file: each slice is parsed as if it were a file of
/// its own, so a slice can never read outside itself, and offsets found inside it are relative
/// to its start.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window<R> {
    data: R,
    start: u64,
    len: u64,
}

impl<'data, R: ReadRef<'data>> Window<R> {
    /// A window of `len` bytes at `start`; the caller has checked that the range is inside
    /// `data`.
    pub(crate) fn new(data: R, start: u64, len: u64) -> Self {
        Window { data, start, len }
    }
}

impl<'data, R: ReadRef<'data>> ReadRef<'data> for Window<R> {
    fn len(self) -> Result<u64, ()> {
        Ok(self.len)
    }

    fn read_bytes_at(self, offset: u64, size: u64) -> Result<&'data [u8], ()> {
        let end = offset.checked_add(size).ok_or(())?;
        if end > self.len {
            return Err(());
        }
        let outer = self.start.checked_add(offset).ok_or(())?;
        self.data.read_bytes_at(outer, size)
    }

    fn read_bytes_at_until(self, range: Range<u64>, delimiter: u8) -> Result<&'data [u8], ()> {
        if range.start > range.end || range.end > self.len {
            return Err(());
        }
        let start = self.start.checked_add(range.start).ok_or(())?;
        let end = self.start.checked_add(range.end).ok_or(())?;
        self.data.read_bytes_at_until(start..end, delimiter)
    }
}

/// The length of `data`; a failure here is an I/O error of the underlying reader.
pub(crate) fn data_len<'data, R: ReadRef<'data>>(data: R) -> Result<u64, ExtractError> {
    data.len().map_err(|()| ExtractError::Read {
        what: "length of the file",
    })
}

/// The end of `offset..offset + size`, or `None` if it overflows.
pub(crate) fn range_end(offset: u64, size: u64) -> Option<u64> {
    offset.checked_add(size)
}

/// Checks that `offset..offset + size` lies inside data of length `len`.
pub(crate) fn ensure_in_bounds(
    len: u64,
    offset: u64,
    size: u64,
    format: ContainerFormat,
    what: &'static str,
) -> Result<(), ExtractError> {
    match range_end(offset, size) {
        Some(end) if end <= len => Ok(()),
        _ => Err(ExtractError::Truncated { format, what }),
    }
}

/// Reads `size` bytes at `offset`, after checking them against `len`.
pub(crate) fn bytes_at<'data, R: ReadRef<'data>>(
    data: R,
    len: u64,
    offset: u64,
    size: u64,
    format: ContainerFormat,
    what: &'static str,
) -> Result<&'data [u8], ExtractError> {
    ensure_in_bounds(len, offset, size, format, what)?;
    data.read_bytes_at(offset, size)
        .map_err(|()| ExtractError::Read { what })
}

/// Reads a plain-data structure at `offset`, after checking it against `len`.
///
/// The structures of `object` are built from byte arrays, so there is no alignment to fail.
pub(crate) fn pod_at<'data, T: Pod, R: ReadRef<'data>>(
    data: R,
    len: u64,
    offset: u64,
    format: ContainerFormat,
    what: &'static str,
) -> Result<&'data T, ExtractError> {
    let size = size_of_u64::<T>();
    ensure_in_bounds(len, offset, size, format, what)?;
    data.read_at::<T>(offset)
        .map_err(|()| ExtractError::Read { what })
}

/// `size_of::<T>()` as a `u64` (a structure never has a size that does not fit).
pub(crate) fn size_of_u64<T>() -> u64 {
    u64::try_from(core::mem::size_of::<T>()).unwrap_or(u64::MAX)
}

/// Converts an error from `object`'s parsers: by the time one is called, the ranges it reads
/// have been checked, so what is left is an inconsistency in the headers.
pub(crate) fn object_error(format: ContainerFormat, error: object::read::Error) -> ExtractError {
    ExtractError::Malformed {
        format,
        reason: error.to_string(),
    }
}

/// A [`ExtractError::Malformed`] with the given reason.
pub(crate) fn malformed(format: ContainerFormat, reason: impl Into<String>) -> ExtractError {
    ExtractError::Malformed {
        format,
        reason: reason.into(),
    }
}

/// Checks that a found section's bytes lie inside the file: the [`super::SectionLocation`]
/// handed out is always readable.
pub(crate) fn ensure_section_in_file(
    format: ContainerFormat,
    name: &str,
    offset: u64,
    size: u64,
    len: u64,
) -> Result<(), ExtractError> {
    match range_end(offset, size) {
        Some(end) if end <= len => Ok(()),
        _ => Err(malformed(
            format,
            format!(
                "section `{name}` (file offset {offset:#x}, size {size:#x}) extends past the end \
                 of the file ({len:#x} bytes)"
            ),
        )),
    }
}
