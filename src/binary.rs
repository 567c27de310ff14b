//! One file in, what it embeds out: the extract and decode stages run together.
//!
//! A file is opened and wrapped in [`object::ReadCache`], so only the headers and the manifest's
//! own byte range are read — never the whole file. Every outcome is explicit: a manifest, a valid
//! binary without one, not a binary at all, or an error with its reason. None of them is
//! "clean" by default; callers decide what each means for their exit status.

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

/// Inspects the file at `path`, reading only what is needed.
pub fn inspect_path(path: &Path, limits: &Limits) -> Result<BinaryReport, InspectError> {
    let file = crate::untrusted::open_for_reading(path).map_err(InspectError::Open)?;
    let meta = file.metadata().map_err(InspectError::Open)?;
    if !meta.is_file() {
        return Err(InspectError::NotAFile);
    }
    let cache = object::ReadCache::new(file);
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
