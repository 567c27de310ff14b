//! Reading layers top first and deciding, for each entry, whether it is part of the image's
//! final filesystem.
//!
//! Layers are applied bottom-up by a runtime; read top-down, a lower layer's entry is visible
//! only if no upper layer deleted or replaced it. [`Shadows`] remembers, for the layers read so
//! far, each path they provided (as a directory or not), each whiteout (`.wh.<name>`) and each
//! opaque directory (`.wh..wh..opq`). A layer's own marks take effect only for the layers below
//! it (a whiteout never hides a file of its own layer), so they are collected while the layer
//! is read and merged when it ends.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read};

use super::path;
use super::select::LayerRef;
use super::tarstream::{Kind, ReadThrough, TarError, TarStream, Truncated};
use super::{ImageEntry, ImageError};
use crate::extract::sniff;

/// The most entries read across all layers of one image: the marks of upper layers are kept in
/// memory, a few dozen bytes plus the path each.
const MAX_ENTRIES: u64 = 5_000_000;
/// The buffer for an executable grows by at most this much ahead of the bytes that arrived.
const GROWTH_STEP: u64 = 64 * 1024 * 1024;
/// The most bytes of entry paths and link targets read across all layers of one image. Paths
/// are what the walk keeps (the marks of upper layers, the executables of a layer, the skipped
/// list), and a long name may be 64 KiB: without this, a few megabytes of compressed layer full
/// of distinct long names would be kept as gigabytes.
const MAX_PATH_BYTES: u64 = 256 * 1024 * 1024;
/// Bytes handed to [`sniff`].
const HEAD: usize = 16;

/// An upper layer put a directory here.
const DIR: u8 = 1;
/// An upper layer put something other than a directory here (file, link, device).
const NONDIR: u8 = 2;
/// An upper layer deleted this path (and all below it).
const WHITEOUT: u8 = 4;
/// An upper layer made this directory opaque: nothing below it from lower layers.
const OPAQUE: u8 = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Visibility {
    Visible,
    /// Deleted or replaced, with everything below it.
    Hidden,
    /// A non-directory where an upper layer has a directory: hidden, and it hides what lower
    /// layers have below it (a runtime removed it before making the directory).
    ReplacedByDir,
}

/// What the layers read so far did to the filesystem. Paths are cleaned, without a leading
/// slash; the root is the empty path.
#[derive(Debug, Default)]
pub(super) struct Shadows {
    marks: HashMap<Vec<u8>, u8>,
    pending: Vec<(Vec<u8>, u8)>,
}

impl Shadows {
    fn mark(&self, path: &[u8]) -> u8 {
        self.marks.get(path).copied().unwrap_or(0)
    }

    fn visibility(&self, path: &[u8], is_dir: bool) -> Visibility {
        if self.marks.is_empty() {
            return Visibility::Visible;
        }
        if self.mark(b"") & OPAQUE != 0 {
            return Visibility::Hidden;
        }
        for (i, b) in path.iter().enumerate() {
            if *b == b'/' {
                let ancestor = path.get(..i).unwrap_or_default();
                if self.mark(ancestor) & (WHITEOUT | NONDIR | OPAQUE) != 0 {
                    return Visibility::Hidden;
                }
            }
        }
        let own = self.mark(path);
        if own & (WHITEOUT | NONDIR) != 0 {
            Visibility::Hidden
        } else if own & (DIR | OPAQUE) != 0 && !is_dir {
            Visibility::ReplacedByDir
        } else {
            Visibility::Visible
        }
    }

    fn record(&mut self, path: Vec<u8>, mark: u8) {
        self.pending.push((path, mark));
    }

    /// Makes the marks of the layer just read apply to the layers below it. The parents of a
    /// path are directories even when the layer has no entry for them.
    fn commit(&mut self) {
        for (path, mark) in std::mem::take(&mut self.pending) {
            let mut parent = path::parent(&path);
            while !parent.is_empty() && !self.marks.contains_key(parent) {
                self.marks.insert(parent.to_vec(), DIR);
                parent = path::parent(parent);
            }
            *self.marks.entry(path).or_insert(0) |= mark;
        }
    }
}

/// The state of one image walk, carried from layer to layer.
#[derive(Debug)]
pub(super) struct Walk<'r> {
    pub reference: &'r str,
    pub max_file_bytes: u64,
    pub shadows: Shadows,
    /// The bytes of the last executable read (reused; it grows to the largest one).
    pub buf: Vec<u8>,
    pub entries: u64,
    /// Bytes of entry paths and link targets read so far, against [`MAX_PATH_BYTES`].
    pub path_bytes: u64,
    pub files: u64,
    pub binaries: u64,
    pub skipped: Vec<(String, String)>,
}

/// How a layer blob is compressed, from its first bytes.
fn compression(head: &[u8]) -> Result<&'static str, &'static str> {
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok("gzip")
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Ok("zstd")
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Err("xz compression")
    } else if head.starts_with(b"BZh") {
        Err("bzip2 compression")
    } else {
        Ok("none")
    }
}

impl Walk<'_> {
    /// Reads one layer blob. `lowest`: no layer is below it, so nothing it does needs
    /// remembering.
    pub(super) fn layer(
        &mut self,
        layer: &LayerRef,
        blob: Box<dyn Read>,
        lowest: bool,
        visit: &mut dyn FnMut(ImageEntry<'_>),
    ) -> Result<(), ImageError> {
        let mut reader = BufReader::with_capacity(256 * 1024, blob);
        let head = reader.fill_buf().map_err(|e| ImageError::CorruptLayer {
            layer: layer.digest.clone(),
            reason: format!("cannot be read: {e}"),
        })?;
        let kind = compression(head).map_err(|what| ImageError::UnsupportedLayer {
            layer: layer.digest.clone(),
            what: what.to_owned(),
        })?;
        let decoder: Box<dyn Read> =
            match kind {
                "gzip" => Box::new(flate2::bufread::MultiGzDecoder::new(reader)),
                "zstd" => Box::new(zstd::stream::read::Decoder::with_buffer(reader).map_err(
                    |e| ImageError::Decompress {
                        layer: layer.digest.clone(),
                        compression: "zstd",
                        reason: e.to_string(),
                    },
                )?),
                _ => Box::new(reader),
            };
        let mut stream = TarStream::new(ReadThrough::new(decoder));
        let result = self.entries_of(&mut stream, layer, lowest, visit);
        if lowest {
            self.shadows.pending.clear();
        } else {
            self.shadows.commit();
        }
        result.map_err(|e| match e {
            LayerError::Tar(TarError::Corrupt(reason)) => ImageError::CorruptLayer {
                layer: layer.digest.clone(),
                reason,
            },
            LayerError::Tar(TarError::Read(e)) | LayerError::Data(e) => {
                if Truncated::is(&e) {
                    ImageError::CorruptLayer {
                        layer: layer.digest.clone(),
                        reason: e.to_string(),
                    }
                } else if kind == "none" {
                    ImageError::CorruptLayer {
                        layer: layer.digest.clone(),
                        reason: format!("cannot be read: {e}"),
                    }
                } else {
                    ImageError::Decompress {
                        layer: layer.digest.clone(),
                        compression: kind,
                        reason: e.to_string(),
                    }
                }
            }
            LayerError::Image(e) => e,
        })
    }

    fn entries_of<S: super::tarstream::Source>(
        &mut self,
        stream: &mut TarStream<S>,
        layer: &LayerRef,
        lowest: bool,
        visit: &mut dyn FnMut(ImageEntry<'_>),
    ) -> Result<(), LayerError> {
        // Executables of this layer by path: whether they were visited. Hard links to them are
        // resolved against it.
        let mut executables: HashMap<Vec<u8>, bool> = HashMap::new();
        // The path whose bytes are in `self.buf`, if read from this layer.
        let mut in_buf: Option<Vec<u8>> = None;
        let mut head = [0u8; HEAD];
        while let Some(header) = stream.next_entry().map_err(LayerError::Tar)? {
            self.entries = self.entries.saturating_add(1);
            if self.entries > MAX_ENTRIES {
                return Err(LayerError::Image(ImageError::Limit {
                    what: "entries in the image's layers",
                    limit: MAX_ENTRIES,
                }));
            }
            let name_bytes = (header.path.len() as u64).saturating_add(header.link.len() as u64);
            self.path_bytes = self.path_bytes.saturating_add(name_bytes);
            if self.path_bytes > MAX_PATH_BYTES {
                return Err(LayerError::Image(ImageError::Limit {
                    what: "bytes of paths in its layers",
                    limit: MAX_PATH_BYTES,
                }));
            }
            let Some(path) = path::clean(&header.path) else {
                self.skipped.push((
                    String::from_utf8_lossy(&header.path).into_owned(),
                    format!(
                        "in layer {}: the path climbs above the root with `..`; not read",
                        layer.digest
                    ),
                ));
                continue;
            };
            if path.is_empty() {
                continue;
            }
            let name = path::file_name(&path);
            if let Some(target) = name.strip_prefix(b".wh.") {
                if !lowest {
                    let parent = path::parent(&path);
                    if target == b".wh..opq" {
                        self.shadows.record(parent.to_vec(), OPAQUE);
                    } else if !target.starts_with(b".wh.") && !matches!(target, b"" | b"." | b"..")
                    {
                        // Other `.wh..wh.` names are AUFS bookkeeping, not whiteouts.
                        self.shadows.record(path::join(parent, target), WHITEOUT);
                    }
                }
                continue;
            }
            let is_dir = header.kind == Kind::Dir;
            let visibility = self.shadows.visibility(&path, is_dir);
            if !lowest {
                match (visibility, is_dir) {
                    (Visibility::Visible, true) => self.shadows.record(path.clone(), DIR),
                    (Visibility::Visible | Visibility::ReplacedByDir, false) => {
                        self.shadows.record(path.clone(), NONDIR);
                    }
                    _ => {}
                }
            }
            let visible = visibility == Visibility::Visible;
            match header.kind {
                Kind::File => {
                    if visible {
                        self.files = self.files.saturating_add(1);
                    }
                    // The data is decompressed to be skipped anyway, so looking at the first
                    // bytes of a hidden file costs nothing; it tells hard links to it apart.
                    let got = read_up_to(stream, &mut head).map_err(LayerError::Data)?;
                    let first = head.get(..got).unwrap_or_default();
                    if sniff(first).is_none() {
                        continue;
                    }
                    if !visible {
                        executables.insert(path, false);
                        continue;
                    }
                    if header.size > self.max_file_bytes {
                        self.skipped.push((
                            path::display(&path),
                            format!(
                                "an executable of {} bytes, over the limit of {} bytes; not read",
                                header.size, self.max_file_bytes
                            ),
                        ));
                        executables.insert(path, false);
                        continue;
                    }
                    self.buf.clear();
                    self.buf.extend_from_slice(first);
                    read_claimed(stream, header.size, &mut self.buf).map_err(LayerError::Data)?;
                    let shown = path::display(&path);
                    visit(ImageEntry {
                        image: self.reference,
                        layer: &layer.digest,
                        path: &shown,
                        data: &self.buf,
                    });
                    self.binaries = self.binaries.saturating_add(1);
                    executables.insert(path.clone(), true);
                    in_buf = Some(path);
                }
                Kind::HardLink if visible => {
                    self.files = self.files.saturating_add(1);
                    let Some(target) = path::clean(&header.link) else {
                        continue;
                    };
                    match executables.get(&target) {
                        Some(true) if in_buf.as_deref() == Some(target.as_slice()) => {
                            let shown = path::display(&path);
                            visit(ImageEntry {
                                image: self.reference,
                                layer: &layer.digest,
                                path: &shown,
                                data: &self.buf,
                            });
                            self.binaries = self.binaries.saturating_add(1);
                        }
                        // The same bytes were reported under the target's path.
                        Some(true) => {}
                        Some(false) => self.skipped.push((
                            path::display(&path),
                            format!(
                                "a hard link to {}, an executable that was not read",
                                path::display(&target)
                            ),
                        )),
                        // Not an executable of this layer (or a link into a lower layer, whose
                        // file is visited there if it is visible).
                        None => {}
                    }
                }
                Kind::Sparse if visible => {
                    self.files = self.files.saturating_add(1);
                    self.skipped.push((
                        path::display(&path),
                        format!(
                            "in layer {}: stored as a sparse file, which is not read",
                            layer.digest
                        ),
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

enum LayerError {
    Tar(TarError),
    /// Reading an entry's data failed.
    Data(io::Error),
    Image(ImageError),
}

fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0usize;
    while filled < buf.len() {
        let Some(rest) = buf.get_mut(filled..) else {
            break;
        };
        match reader.read(rest) {
            Ok(0) => break,
            Ok(n) => filled = filled.saturating_add(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Reads the rest of an entry whose header claims `size` bytes in all, growing `buf` by at most
/// [`GROWTH_STEP`] ahead of the data: the size is a claim, and reserving it up front would let a
/// header of a short entry allocate up to the file size limit.
fn read_claimed<R: Read>(entry: &mut R, size: u64, buf: &mut Vec<u8>) -> io::Result<()> {
    loop {
        let left = size.saturating_sub(buf.len() as u64);
        let step = left.clamp(1, GROWTH_STEP);
        buf.reserve_exact(usize::try_from(step).unwrap_or(usize::MAX));
        if entry.take(step).read_to_end(buf)? == 0 {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(shadows: &mut Shadows, marks: &[(&str, u8)]) {
        for (p, m) in marks {
            shadows.record(p.as_bytes().to_vec(), *m);
        }
        shadows.commit();
    }

    #[test]
    fn whiteouts_opaque_dirs_and_replacements() {
        let mut s = Shadows::default();
        layer(
            &mut s,
            &[
                ("usr/bin/gone", WHITEOUT),
                ("opt/tool", OPAQUE | DIR),
                ("etc/link", NONDIR),
                ("var/x", DIR),
            ],
        );
        let v = |s: &Shadows, p: &str, d| s.visibility(p.as_bytes(), d);
        assert_eq!(v(&s, "usr/bin/gone", false), Visibility::Hidden);
        assert_eq!(v(&s, "usr/bin/gone/below", false), Visibility::Hidden);
        assert_eq!(v(&s, "usr/bin/kept", false), Visibility::Visible);
        assert_eq!(v(&s, "usr/bin", true), Visibility::Visible);
        assert_eq!(v(&s, "opt/tool", true), Visibility::Visible);
        assert_eq!(v(&s, "opt/tool/old", false), Visibility::Hidden);
        assert_eq!(v(&s, "etc/link/x", false), Visibility::Hidden);
        assert_eq!(v(&s, "var/x", false), Visibility::ReplacedByDir);
        // Implicit parents are directories.
        assert_eq!(v(&s, "usr", false), Visibility::ReplacedByDir);
    }

    #[test]
    fn compression_by_magic() {
        assert_eq!(compression(&[0x1f, 0x8b, 8]), Ok("gzip"));
        assert_eq!(compression(&[0x28, 0xb5, 0x2f, 0xfd]), Ok("zstd"));
        assert_eq!(compression(b"usr/"), Ok("none"));
        assert!(compression(b"BZh9").is_err());
    }

    #[test]
    fn a_header_claiming_more_than_the_entry_holds_does_not_reserve_the_claim() {
        let mut buf = Vec::new();
        read_claimed(&mut &b"0123456789"[..], 1 << 30, &mut buf).expect("a slice reads");
        assert_eq!(buf, b"0123456789");
        assert!(
            buf.capacity() as u64 <= 10 + GROWTH_STEP,
            "{}",
            buf.capacity()
        );

        // An entry of exactly its claimed size is read whole, with no slack.
        let data = vec![7u8; 1000];
        let mut buf = b"head".to_vec();
        read_claimed(&mut &data[..], 1004, &mut buf).expect("a slice reads");
        assert_eq!(buf.len(), 1004);
    }
}
