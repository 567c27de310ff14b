//! Where an image's files live: a directory (an OCI layout) or the members of an outer tar
//! (a docker-archive or an OCI archive). Blobs are opened as streams, never copied out.
//!
//! An outer tar is read once, header by header with seeks over the data, to index each
//! member's offset and size; a layer is then read by seeking to its offset and limiting the
//! reader to its size. Member names are looked up, never used to address anything on disk.

use std::collections::HashMap;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::path;
use super::tarstream::{Kind, SeekThrough, TarError, TarStream};
use super::ImageError;
use crate::untrusted::open_for_reading;

/// The most members an outer archive may have (an image has a few per layer).
const MAX_MEMBERS: usize = 100_000;
/// The most bytes of member names and link targets an outer archive's index keeps (an image's
/// are a few kilobytes; long names may be 64 KiB each).
const MAX_NAME_BYTES: u64 = 64 * 1024 * 1024;
/// Symbolic links between members followed to reach a blob (skopeo writes
/// `<id>/layer.tar -> ../<diff-id>.tar`).
const MAX_LINK_HOPS: u32 = 8;
/// Headers looked at by [`looks_like_image_archive`] before it gives up.
const MAX_SNIFF_MEMBERS: usize = 10_000;

#[derive(Debug, Clone)]
pub(super) enum Member {
    File {
        offset: u64,
        size: u64,
    },
    /// A symbolic or hard link to another member (cleaned, relative to the archive root).
    Link {
        target: Vec<u8>,
    },
    /// A member whose bytes cannot be used as a blob (a sparse file, a device).
    Unusable,
}

/// An open blob and its size.
pub(super) type Blob = (Box<dyn Read>, u64);

/// The files of an image.
#[derive(Debug)]
pub(super) enum Store {
    Dir {
        root: PathBuf,
    },
    Tar {
        path: PathBuf,
        members: HashMap<Vec<u8>, Member>,
    },
}

impl Store {
    pub(super) fn dir(root: &Path) -> Self {
        Store::Dir {
            root: root.to_path_buf(),
        }
    }

    /// Indexes the members of a tar file. `Ok(None)`: not a tar file.
    pub(super) fn index_tar(path: &Path) -> Result<Option<Self>, ImageError> {
        let file = open_for_reading(path).map_err(|source| ImageError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut stream = TarStream::new(SeekThrough(file));
        let mut members: HashMap<Vec<u8>, Member> = HashMap::new();
        let mut name_bytes = 0u64;
        let mut first = true;
        loop {
            let header = match stream.next_entry() {
                Ok(Some(h)) => h,
                Ok(None) if first => return Ok(None),
                Ok(None) => break,
                Err(TarError::Corrupt(_)) if first => return Ok(None),
                Err(TarError::Corrupt(reason)) => {
                    return Err(ImageError::CorruptArchive {
                        path: path.to_path_buf(),
                        reason,
                    })
                }
                Err(TarError::Read(source)) => {
                    return Err(ImageError::Io {
                        path: path.to_path_buf(),
                        source,
                    })
                }
            };
            first = false;
            // A member whose name climbs out of the archive cannot be one we look up.
            let Some(name) = path::clean(&header.path) else {
                continue;
            };
            let member = match header.kind {
                Kind::File => Member::File {
                    offset: header.offset,
                    size: header.size,
                },
                Kind::Symlink => {
                    let target = if header.link.starts_with(b"/") {
                        path::clean(&header.link)
                    } else {
                        path::clean(&path::join(path::parent(&name), &header.link))
                    };
                    match target {
                        Some(target) => Member::Link { target },
                        None => Member::Unusable,
                    }
                }
                Kind::HardLink => match path::clean(&header.link) {
                    Some(target) => Member::Link { target },
                    None => Member::Unusable,
                },
                Kind::Dir => continue,
                Kind::Sparse | Kind::Other => Member::Unusable,
            };
            let kept = match &member {
                Member::Link { target } => name.len().saturating_add(target.len()),
                _ => name.len(),
            };
            name_bytes = name_bytes.saturating_add(kept as u64);
            if name_bytes > MAX_NAME_BYTES {
                return Err(ImageError::Limit {
                    what: "bytes of member names in the archive",
                    limit: MAX_NAME_BYTES,
                });
            }
            if members.len() >= MAX_MEMBERS && !members.contains_key(&name) {
                return Err(ImageError::Limit {
                    what: "members in the archive",
                    limit: MAX_MEMBERS as u64,
                });
            }
            // As when unpacking, a later member of the same name replaces an earlier one.
            members.insert(name, member);
        }
        Ok(Some(Store::Tar {
            path: path.to_path_buf(),
            members,
        }))
    }

    /// The file the image was read from (the layout directory or the archive).
    fn location(&self) -> &Path {
        match self {
            Store::Dir { root } => root,
            Store::Tar { path, .. } => path,
        }
    }

    fn resolve(members: &HashMap<Vec<u8>, Member>, name: &str) -> Option<(u64, u64)> {
        let mut name = path::clean(name.as_bytes())?;
        for _ in 0..=MAX_LINK_HOPS {
            match members.get(&name)? {
                Member::File { offset, size } => return Some((*offset, *size)),
                Member::Link { target } => name = target.clone(),
                Member::Unusable => return None,
            }
        }
        None
    }

    /// Whether the image has a file of this name (a member, or a file in the layout).
    pub(super) fn has(&self, name: &str) -> bool {
        match self {
            Store::Dir { root } => root.join(name).is_file(),
            Store::Tar { members, .. } => Self::resolve(members, name).is_some(),
        }
    }

    /// Opens a file of the image as a stream, with its size. `Ok(None)`: there is none.
    ///
    /// In a layout directory `name` is built by the caller from a validated digest, so it never
    /// leaves the directory.
    pub(super) fn open(&self, name: &str) -> Result<Option<Blob>, ImageError> {
        let io_err = |source: io::Error| ImageError::Io {
            path: self.location().to_path_buf(),
            source,
        };
        match self {
            Store::Dir { root } => {
                let path = root.join(name);
                // Without blocking: a FIFO in a layout is passed by (it is not a blob).
                let file = match open_for_reading(&path) {
                    Ok(f) => f,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                    Err(source) => return Err(ImageError::Io { path, source }),
                };
                let meta = file
                    .metadata()
                    .map_err(|source| ImageError::Io { path, source })?;
                if !meta.is_file() {
                    return Ok(None);
                }
                Ok(Some((Box::new(file), meta.len())))
            }
            Store::Tar { path, members } => {
                let Some((offset, size)) = Self::resolve(members, name) else {
                    return Ok(None);
                };
                let mut file = open_for_reading(path).map_err(io_err)?;
                file.seek(SeekFrom::Start(offset)).map_err(io_err)?;
                Ok(Some((Box::new(file.take(size)), size)))
            }
        }
    }

    /// Reads a small JSON file (a manifest, index or config) of at most `limit` bytes.
    /// `Ok(None)`: there is none.
    pub(super) fn read_small(&self, name: &str, limit: u64) -> Result<Option<Vec<u8>>, ImageError> {
        let Some((reader, size)) = self.open(name)? else {
            return Ok(None);
        };
        if size > limit {
            return Err(ImageError::Limit {
                what: "bytes in an image manifest, index or config",
                limit,
            });
        }
        let mut data = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        reader
            .take(limit.saturating_add(1))
            .read_to_end(&mut data)
            .map_err(|source| ImageError::Io {
                path: self.location().to_path_buf(),
                source,
            })?;
        if data.len() as u64 > limit {
            return Err(ImageError::Limit {
                what: "bytes in an image manifest, index or config",
                limit,
            });
        }
        Ok(Some(data))
    }
}

/// Whether a file is a tar with the members of an image archive (`manifest.json`, or
/// `oci-layout` and `index.json`), looking at headers only. Writers put these members at the
/// start (docker) or at the end (skopeo), so up to [`MAX_SNIFF_MEMBERS`] headers are read,
/// seeking over the data between them.
pub(super) fn looks_like_image_archive(path: &Path) -> bool {
    let Ok(file) = open_for_reading(path) else {
        return false;
    };
    let mut stream = TarStream::new(SeekThrough(file));
    let (mut layout, mut index) = (false, false);
    for _ in 0..MAX_SNIFF_MEMBERS {
        let Ok(Some(header)) = stream.next_entry() else {
            return false;
        };
        match path::clean(&header.path).as_deref() {
            Some(b"manifest.json") => return true,
            Some(b"oci-layout") => layout = true,
            Some(b"index.json") => index = true,
            _ => {}
        }
        if layout && index {
            return true;
        }
    }
    false
}
