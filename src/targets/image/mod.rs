//! Container images read without a daemon: `docker save` archives, OCI image layout
//! directories and OCI archives, with gzip, zstd or uncompressed layers.
//!
//! [`walk_image`] hands every executable of the image's *final* filesystem to a callback, with
//! the image reference, the digest of the layer that introduced it and its path inside the
//! image. Files that an upper layer deleted (a `.wh.<name>` whiteout), hid (an opaque directory,
//! `.wh..wh..opq`) or replaced are never visited.
//!
//! # How
//! - **Streamed, never extracted.** Each layer blob is read once as a stream — through
//!   `flate2` or `zstd` when its first bytes say so (never by name or media type) — and its tar
//!   entries are walked in order. Nothing is written to disk. In a docker-archive or an OCI
//!   archive, the outer tar is indexed once by its headers (seeking over the data) and each
//!   layer member is then read in place.
//! - **Top layer first**, so that what a higher layer deleted or replaced is known before the
//!   lower layers are read (see `layer.rs`).
//! - **Only executables are read whole.** The first 16 bytes of each regular file go to
//!   [`crate::extract::sniff`]; a file it recognises is read into one reused buffer (so memory
//!   follows the largest binary, not the image) unless it is larger than
//!   [`ImageOptions::max_file_bytes`], in which case it is reported in
//!   [`ImageSummary::skipped`].
//! - **Links are not followed.** A symbolic link is never read through. A hard link to an
//!   executable of the same layer is visited under its own path when the target's bytes are
//!   still in the buffer (a tar writer puts the link right after its target, so this is the
//!   usual case); otherwise the target was visited under its own path, or, if the target was
//!   deleted by an upper layer, the link is reported as skipped — not silently dropped.
//! - **Paths are cleaned lexically** (`./usr/bin/x` and `usr/lib/../bin/x` are `/usr/bin/x`);
//!   an entry whose `..` climbs above the root is skipped and reported.
//!
//! # Choosing the image
//! A file may hold several images: an OCI layout with several tags, a multi-platform index,
//! a docker-archive of several images. A reference can be named after the path as skopeo does,
//! `layout:tag` or `image.tar:example/app:1` (used only when the path as given does not
//! exist). Among platforms, [`ImageOptions::platform`] chooses; without it `linux/amd64` is
//! taken when present, and otherwise the error lists the platforms there are.
//!
//! # What is reported as the layer digest
//! For OCI layouts and archives, the layer descriptor's digest (of the blob as stored,
//! usually compressed). For a docker-archive, the config's `rootfs.diff_ids` entry — the
//! digest of the uncompressed layer, which `docker inspect` shows — because older archives
//! name their layer members by layer ID, not by digest.
//!
//! # Bounds
//! Manifests, indexes and configs are read only up to 16 MiB each; an image has at most 1,000
//! layers and 5,000,000 entries in all, whose paths and link targets total at most 256 MiB;
//! an outer archive at most 100,000 members whose names total 64 MiB; tar extension headers
//! (long names, PAX records) are capped (see `tarstream.rs`). Every limit is an error naming
//! it, never a partial answer.
//!
//! # Known gaps
//! - A path that appears twice *within one layer* (legal tar, never written by image tools) is
//!   visited for each occurrence that is an executable; the later one is what a runtime keeps.
//! - Sparse files are reported as skipped rather than read.
//! - xz- and bzip2-compressed layers (accepted by old `docker load`) are an error, and a
//!   compressed archive (`docker save | gzip`) is not recognised: decompress it first.
//! - Layer blobs are not verified against their digests.
#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation
)]

mod layer;
mod path;
mod platform;
mod select;
mod store;
mod tarstream;

use std::fmt;
use std::path::{Path, PathBuf};

use platform::Platform;
use store::Store;

/// How to read an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageOptions {
    /// For multi-platform images: `os/arch[/variant]`, e.g. `linux/amd64` or `linux/arm64/v8`.
    /// `None` takes `linux/amd64` when an index has several platforms. For a single-platform
    /// image, a platform that differs from the image's own is an error.
    pub platform: Option<String>,
    /// An executable larger than this is reported as skipped, not read. Default 1 GiB.
    pub max_file_bytes: u64,
}

impl Default for ImageOptions {
    fn default() -> Self {
        Self {
            platform: None,
            max_file_bytes: 1024 * 1024 * 1024,
        }
    }
}

/// One executable of an image's final filesystem.
#[derive(Clone, Copy)]
pub struct ImageEntry<'a> {
    /// The image reference: `RepoTags[0]` of a docker-archive, the reference annotation of an
    /// OCI index (`io.containerd.image.name`, else `org.opencontainers.image.ref.name`), or
    /// else the file name of the image.
    pub image: &'a str,
    /// Digest (`sha256:…`) of the layer that introduced the file (see the module docs for
    /// which digest).
    pub layer: &'a str,
    /// Absolute path inside the image, e.g. `/usr/local/bin/app`.
    pub path: &'a str,
    /// The file's bytes.
    pub data: &'a [u8],
}

impl fmt::Debug for ImageEntry<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImageEntry")
            .field("image", &self.image)
            .field("layer", &self.layer)
            .field("path", &self.path)
            .field("data", &format_args!("{} bytes", self.data.len()))
            .finish()
    }
}

/// What a walk covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSummary {
    /// The image reference, as in [`ImageEntry::image`].
    pub reference: String,
    /// `"docker-archive"`, `"oci-layout"` or `"oci-archive"`.
    pub format: &'static str,
    /// The platform of the image read (`os/arch[/variant]`), when its config or index says.
    pub platform: Option<String>,
    /// Layers read.
    pub layers: usize,
    /// Regular files in the final filesystem (hidden and replaced ones not counted).
    pub files: u64,
    /// Executables handed to the callback.
    pub binaries: u64,
    /// Files of the final filesystem that may be executables but were not read, with why
    /// (too large, a hard link to a deleted executable, a path escaping the root, sparse).
    pub skipped: Vec<(String, String)>,
}

/// Why an image could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// The image file or directory could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Neither an OCI layout directory nor a tar with `manifest.json` or `index.json`.
    #[error("{}: not a container image (a docker-archive, an OCI layout directory or an OCI archive)", path.display())]
    NotAnImage { path: PathBuf },
    /// A file the format requires is not there.
    #[error("the image has no {what}")]
    Missing { what: String },
    /// A manifest, index or config is not what its format says.
    #[error("malformed {what}: {reason}")]
    Malformed { what: String, reason: String },
    /// A manifest names a blob the image does not contain.
    #[error("blob {digest} is missing from the image")]
    BlobMissing { digest: String },
    /// The manifest describes an artifact, not a container image.
    #[error("not a container image: its config has media type {media_type}")]
    NotContainerImage { media_type: String },
    /// `--platform` is not `os/arch[/variant]`.
    #[error("invalid platform `{0}`: expected os/arch[/variant], e.g. linux/arm64/v8")]
    InvalidPlatform(String),
    /// The platform asked for is not in the image.
    #[error("the image has no platform {wanted}; platforms available: {}", available.join(", "))]
    PlatformNotFound {
        wanted: String,
        available: Vec<String>,
    },
    /// Several platforms, none of them linux/amd64, and none asked for.
    #[error("the image has several platforms and none is linux/amd64; choose one with --platform: {}", available.join(", "))]
    PlatformRequired { available: Vec<String> },
    /// The platform asked for matches several (e.g. `linux/arm` with v6 and v7).
    #[error("platform {wanted} matches several images ({}); give the variant", matching.join(", "))]
    PlatformAmbiguous {
        wanted: String,
        matching: Vec<String>,
    },
    /// The file holds several images and none was named.
    #[error("the file holds several images ({}); name one as PATH:REFERENCE", available.join(", "))]
    AmbiguousImage { available: Vec<String> },
    /// The reference named after the path is not in the file.
    #[error("no image `{wanted}` in the file; images available: {}", available.join(", "))]
    ReferenceNotFound {
        wanted: String,
        available: Vec<String>,
    },
    /// A layer could not be decompressed.
    #[error("layer {layer}: {compression} decompression failed: {reason}")]
    Decompress {
        layer: String,
        compression: &'static str,
        reason: String,
    },
    /// A layer is not a valid tar stream (a corrupt header, or it ends inside an entry).
    #[error("layer {layer}: corrupt tar stream: {reason}")]
    CorruptLayer { layer: String, reason: String },
    /// A layer uses something we do not read (xz, bzip2, encryption, an unknown media type).
    #[error("layer {layer}: unsupported {what}")]
    UnsupportedLayer { layer: String, what: String },
    /// The outer archive is not a valid tar.
    #[error("{}: corrupt archive: {reason}", path.display())]
    CorruptArchive { path: PathBuf, reason: String },
    /// A bound on the input was exceeded.
    #[error("the image has more {what} than the limit of {limit}")]
    Limit { what: &'static str, limit: u64 },
}

/// What `path` names: the file or directory, and a reference given after it (`layout:tag`).
fn split_reference(path: &Path) -> (PathBuf, Option<String>) {
    if path.exists() {
        return (path.to_path_buf(), None);
    }
    let Some(text) = path.to_str() else {
        return (path.to_path_buf(), None);
    };
    for (i, _) in text.match_indices(':') {
        let (Some(file), Some(reference)) = (text.get(..i), text.get(i.saturating_add(1)..)) else {
            continue;
        };
        if !file.is_empty() && !reference.is_empty() && Path::new(file).exists() {
            return (PathBuf::from(file), Some(reference.to_owned()));
        }
    }
    (path.to_path_buf(), None)
}

/// Cheap detection: a directory with an `oci-layout` file, or a tar file whose members include
/// `manifest.json`, or `oci-layout` and `index.json` (headers only are read). A path with a
/// reference after it (`layout:tag`) is detected by its path part.
pub fn is_image(path: &Path) -> bool {
    let (path, _) = split_reference(path);
    if path.is_dir() {
        return path.join("oci-layout").is_file();
    }
    path.is_file() && store::looks_like_image_archive(&path)
}

/// Walks the final filesystem of the image at `path`, calling `visit` for every executable in
/// it (see the module docs). The callback's borrowed bytes are valid only during the call.
///
/// Everything that decides *which* files are read — the manifests, the platform, the presence
/// of every layer blob — is checked before the first visit. A layer that turns out corrupt
/// while it is streamed ends the walk with an error after some files may have been visited:
/// those visits were real files, but the image as a whole was not fully read.
pub fn walk_image(
    path: &Path,
    opts: &ImageOptions,
    visit: &mut dyn FnMut(ImageEntry<'_>),
) -> Result<ImageSummary, ImageError> {
    let wanted = match &opts.platform {
        Some(text) => {
            Some(Platform::parse(text).ok_or_else(|| ImageError::InvalidPlatform(text.clone()))?)
        }
        None => None,
    };
    let (path, selector) = split_reference(path);
    let meta = std::fs::metadata(&path).map_err(|source| ImageError::Io {
        path: path.clone(),
        source,
    })?;
    let fallback = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let not_an_image = || ImageError::NotAnImage { path: path.clone() };

    let (store, format) = if meta.is_dir() {
        let store = Store::dir(&path);
        if !store.has("oci-layout") {
            return Err(not_an_image());
        }
        (store, "oci-layout")
    } else {
        let store = Store::index_tar(&path)?.ok_or_else(not_an_image)?;
        // `docker save` since Docker 25 writes both; manifest.json carries the tags.
        if store.has("manifest.json") {
            (store, "docker-archive")
        } else if store.has("oci-layout") || store.has("index.json") {
            (store, "oci-archive")
        } else {
            return Err(not_an_image());
        }
    };
    let (plan, format) = if format == "docker-archive" {
        match select::docker(&store, &fallback, selector.as_deref(), wanted.as_ref()) {
            // An archive that is also an OCI layout (Docker 25, `ctr export`) may hold more
            // platforms in its index than its manifest.json lists.
            Err(ImageError::PlatformNotFound { .. })
                if store.has("oci-layout") && store.has("index.json") =>
            {
                let plan = select::oci(&store, &fallback, selector.as_deref(), wanted.as_ref())?;
                (plan, "oci-archive")
            }
            result => (result?, format),
        }
    } else {
        let plan = select::oci(&store, &fallback, selector.as_deref(), wanted.as_ref())?;
        (plan, format)
    };

    let mut walk = layer::Walk {
        reference: &plan.reference,
        max_file_bytes: opts.max_file_bytes,
        shadows: layer::Shadows::default(),
        buf: Vec::new(),
        entries: 0,
        path_bytes: 0,
        files: 0,
        binaries: 0,
        skipped: Vec::new(),
    };
    for (i, layer) in plan.layers.iter().enumerate().rev() {
        let (blob, _) = store
            .open(&layer.blob)?
            .ok_or_else(|| ImageError::BlobMissing {
                digest: layer.digest.clone(),
            })?;
        walk.layer(layer, blob, i == 0, visit)?;
    }
    Ok(ImageSummary {
        reference: plan.reference.clone(),
        format,
        platform: plan.platform.as_ref().map(Platform::to_string),
        layers: plan.layers.len(),
        files: walk.files,
        binaries: walk.binaries,
        skipped: walk.skipped,
    })
}
