//! WebAssembly modules and components: the custom section `.dep-v0`.
//!
//! Hand-written (`object` reads WebAssembly only through `wasmparser`, which validates far
//! more than we need): a module is the magic `\0asm`, a version, then sections, each an id
//! byte, an unsigned LEB128 size and the payload. A custom section (id 0) starts with a
//! LEB128 name length and the name. Sizes are checked against the enclosing section (or the
//! file) before anything is read; section payloads are skipped, never read, except for the
//! few bytes described below.
//!
//! # Components
//! A component (version bytes `0d 00 01 00`) nests core modules (component section id 1) and
//! components (id 4). The walk recurses into them, at most [`MAX_DEPTH`] levels deep, and
//! **the first `.dep-v0` in file order wins** (a pre-order walk: a component's own custom
//! section before the modules that follow it, a module's before the next one's). The whole
//! file is still walked, so a malformed nested module is an error even after the section was
//! found.
//!
//! # LEB128
//! Encodings are bounds-checked and limited to the spec's maximum length (5 bytes for a u32,
//! with the unused bits of the last byte zero); longer ones are rejected. Padded encodings
//! within that length (`80 80 80 80 00`, which LLVM writes in relocatable files) are valid.
//!
//! # Architecture and OS (best effort)
//! `wasm64` when the first memory declared or imported (in file order) uses 64-bit indices,
//! else `wasm32`. The OS is WASI when a core module imports from a module whose name starts
//! with `wasi` (`wasi_snapshot_preview1`, `wasi:cli/...`), else `None`. Emscripten output
//! imports a few WASI functions too, and is reported the same. Only the first 64 KiB of an
//! import section are scanned, and component-level imports are not parsed (the core modules
//! inside a WASI component import from WASI themselves). These scans never fail the file: an
//! import they cannot parse ends the scan.

use object::ReadRef;

use super::read::{data_len, malformed, range_end};
use super::{Arch, ContainerFormat, Endian, ExtractError, FileKind, Image, Os, SectionLocation};

/// The first four bytes of every module and component.
pub const MAGIC: &[u8; 4] = b"\0asm";
/// The custom section name.
pub const SECTION_NAME: &str = ".dep-v0";
/// Deepest nesting of modules and components walked.
pub const MAX_DEPTH: u32 = 16;
/// Most sections walked in one file, over all nesting levels.
pub const MAX_SECTIONS: u64 = 100_000;

const FORMAT: ContainerFormat = ContainerFormat::Wasm;
/// Version bytes of a core module (version 1).
const MODULE_VERSION: [u8; 4] = [0x01, 0x00, 0x00, 0x00];
/// Version bytes of a component (version 0x0d, layer 1).
const COMPONENT_VERSION: [u8; 4] = [0x0d, 0x00, 0x01, 0x00];
/// Bytes of the preamble (magic and version).
const PREAMBLE_SIZE: u64 = 8;
/// Most bytes of a u32 LEB128.
const MAX_LEB_U32: u64 = 5;
/// Most bytes of an import section scanned for WASI imports.
const MAX_IMPORT_SCAN: u64 = 64 * 1024;
/// Most bytes of a memory section read (the count and the first memory's flags).
const MAX_MEMORY_SCAN: u64 = 16;

const SECTION_CUSTOM: u8 = 0;
const SECTION_IMPORT: u8 = 2;
const SECTION_MEMORY: u8 = 5;
const COMPONENT_SECTION_CORE_MODULE: u8 = 1;
const COMPONENT_SECTION_COMPONENT: u8 = 4;

/// Reads the WebAssembly module or component `data` and finds its section.
pub fn locate<'data, R: ReadRef<'data>>(data: R) -> Result<Image, ExtractError> {
    let len = data_len(data)?;
    let mut walker = Walker {
        data,
        len,
        sections: 0,
        found: None,
        wasi: false,
        memory64: None,
    };
    walker.unit(0, len, 0, None)?;
    let wasm64 = walker.memory64 == Some(true);
    Ok(Image {
        arch: Arch::known(if wasm64 { "wasm64" } else { "wasm32" }),
        bits: if wasm64 { 64 } else { 32 },
        endian: Endian::Little,
        kind: FileKind::Other,
        os: walker.wasi.then_some(Os::Wasi),
        section: walker.found,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Module,
    Component,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Module => "module",
            Unit::Component => "component",
        }
    }
}

struct Walker<R> {
    data: R,
    len: u64,
    sections: u64,
    found: Option<SectionLocation>,
    wasi: bool,
    memory64: Option<bool>,
}

impl<'data, R: ReadRef<'data>> Walker<R> {
    /// Reads `size` bytes at `pos`, which must end by `end` (the end of the enclosing
    /// section, or of the file).
    fn bytes(
        &self,
        pos: u64,
        size: u64,
        end: u64,
        what: &'static str,
    ) -> Result<&'data [u8], ExtractError> {
        match range_end(pos, size) {
            Some(stop) if stop <= end => {}
            _ => return Err(self.overrun(pos, end, what)),
        }
        self.data
            .read_bytes_at(pos, size)
            .map_err(|()| ExtractError::Read { what })
    }

    /// The error for a structure at `pos` that does not end by `end`: truncation at the end of
    /// the file, else an inconsistency with the enclosing section.
    fn overrun(&self, pos: u64, end: u64, what: &'static str) -> ExtractError {
        if end >= self.len {
            ExtractError::Truncated {
                format: FORMAT,
                what,
            }
        } else {
            malformed(
                FORMAT,
                format!(
                    "{what} at offset {pos:#x} runs past the end of its enclosing section (offset \
                     {end:#x})"
                ),
            )
        }
    }

    /// Reads a u32 LEB128 at `pos` that must end by `end`; returns it and its length.
    fn leb_u32(&self, pos: u64, end: u64, what: &'static str) -> Result<(u32, u64), ExtractError> {
        let available = end.saturating_sub(pos).min(MAX_LEB_U32);
        let bytes = self.bytes(pos, available, end, what)?;
        match decode_u32(bytes) {
            Ok((value, used)) => Ok((value, u64::try_from(used).unwrap_or(u64::MAX))),
            Err(Leb::Incomplete) => Err(self.overrun(pos, end, what)),
            Err(Leb::Overlong) => Err(malformed(
                FORMAT,
                format!("{what} at offset {pos:#x} is an over-long LEB128 encoding"),
            )),
        }
    }

    /// Walks the module or component occupying `start..end`. `expected` is what the
    /// enclosing component section says it holds (`None` at the top level).
    fn unit(
        &mut self,
        start: u64,
        end: u64,
        depth: u32,
        expected: Option<Unit>,
    ) -> Result<(), ExtractError> {
        let preamble = self.bytes(start, PREAMBLE_SIZE, end, "module header")?;
        let (magic, version) = preamble.split_at_checked(4).unwrap_or_default();
        if magic != MAGIC {
            return Err(match expected {
                None => ExtractError::NotExecutable,
                Some(unit) => malformed(
                    FORMAT,
                    format!(
                        "the nested {} at offset {start:#x} does not start with the WebAssembly \
                         magic",
                        unit.as_str()
                    ),
                ),
            });
        }
        let unit = match version {
            v if v == MODULE_VERSION => Unit::Module,
            v if v == COMPONENT_VERSION => Unit::Component,
            other => {
                return Err(malformed(
                    FORMAT,
                    format!(
                        "unsupported version and layer bytes {other:02x?} at offset {:#x} (a \
                         module has 01 00 00 00, a component 0d 00 01 00)",
                        start.saturating_add(4)
                    ),
                ))
            }
        };
        if let Some(expected) = expected {
            if unit != expected {
                return Err(malformed(
                    FORMAT,
                    format!(
                        "the nested {} at offset {start:#x} is a {}",
                        expected.as_str(),
                        unit.as_str()
                    ),
                ));
            }
        }

        let mut pos = start.saturating_add(PREAMBLE_SIZE);
        while pos < end {
            self.sections = self.sections.saturating_add(1);
            if self.sections > MAX_SECTIONS {
                return Err(ExtractError::LimitExceeded {
                    format: FORMAT,
                    what: "the number of sections",
                    value: self.sections,
                    limit: MAX_SECTIONS,
                });
            }
            let id = *self
                .bytes(pos, 1, end, "section id")?
                .first()
                .ok_or(ExtractError::Read { what: "section id" })?;
            let size_pos = pos.saturating_add(1);
            let (size, size_len) = self.leb_u32(size_pos, end, "section size")?;
            let payload_start = size_pos.saturating_add(size_len);
            let payload_end = match range_end(payload_start, size.into()) {
                Some(payload_end) if payload_end <= end => payload_end,
                _ => return Err(self.overrun(pos, end, "section")),
            };
            match (unit, id) {
                (_, SECTION_CUSTOM) => self.custom(payload_start, payload_end)?,
                (Unit::Module, SECTION_IMPORT) => self.imports(payload_start, payload_end),
                (Unit::Module, SECTION_MEMORY) => self.memories(payload_start, payload_end),
                (Unit::Component, COMPONENT_SECTION_CORE_MODULE | COMPONENT_SECTION_COMPONENT) => {
                    let nested = if id == COMPONENT_SECTION_CORE_MODULE {
                        Unit::Module
                    } else {
                        Unit::Component
                    };
                    let depth = depth.saturating_add(1);
                    if depth > MAX_DEPTH {
                        return Err(ExtractError::LimitExceeded {
                            format: FORMAT,
                            what: "the component nesting depth",
                            value: depth.into(),
                            limit: MAX_DEPTH.into(),
                        });
                    }
                    self.unit(payload_start, payload_end, depth, Some(nested))?;
                }
                // Other sections, including ids from proposals we do not know, are skipped.
                _ => {}
            }
            pos = payload_end;
        }
        Ok(())
    }

    /// A custom section: records it if it is the first `.dep-v0`.
    fn custom(&mut self, start: u64, end: u64) -> Result<(), ExtractError> {
        let (name_len, used) = self.leb_u32(start, end, "custom section name length")?;
        let name_start = start.saturating_add(used);
        let name_end = match range_end(name_start, name_len.into()) {
            Some(name_end) if name_end <= end => name_end,
            _ => {
                return Err(malformed(
                    FORMAT,
                    format!(
                        "the custom section name at offset {name_start:#x} (length {name_len}) \
                         runs past the end of its section (offset {end:#x})"
                    ),
                ))
            }
        };
        if self.found.is_none() && usize::try_from(name_len) == Ok(SECTION_NAME.len()) {
            let name = self.bytes(name_start, name_len.into(), end, "custom section name")?;
            if name == SECTION_NAME.as_bytes() {
                self.found = Some(SectionLocation {
                    name: SECTION_NAME,
                    offset: name_end,
                    size: end.saturating_sub(name_end),
                });
            }
        }
        Ok(())
    }

    /// Scans the start of an import section for WASI modules and an imported memory.
    fn imports(&mut self, start: u64, end: u64) {
        let size = end.saturating_sub(start).min(MAX_IMPORT_SCAN);
        let Ok(bytes) = self.data.read_bytes_at(start, size) else {
            return;
        };
        let mut cursor = Cursor(bytes);
        let Some(count) = cursor.u32() else {
            return;
        };
        for _ in 0..count {
            let Some(module) = cursor.name() else {
                return;
            };
            if module.starts_with(b"wasi") {
                self.wasi = true;
            }
            if cursor.name().is_none() {
                return;
            }
            let parsed = match cursor.byte() {
                // Function: a type index. Tag: an attribute byte and a type index.
                Some(0x00) => cursor.u32().map(drop),
                Some(0x04) => cursor.byte().and_then(|_| cursor.u32()).map(drop),
                // Table: a reference type and limits.
                Some(0x01) => cursor.value_type().and_then(|()| cursor.limits()).map(drop),
                // Memory: limits, whose flags say whether it is 64-bit.
                Some(0x02) => cursor.limits().map(|is_64| {
                    self.memory64.get_or_insert(is_64);
                }),
                // Global: a value type and a mutability byte.
                Some(0x03) => cursor.value_type().and_then(|()| cursor.byte()).map(drop),
                _ => None,
            };
            if parsed.is_none() || (self.wasi && self.memory64.is_some()) {
                return;
            }
        }
    }

    /// Reads the first memory's flags from a memory section.
    fn memories(&mut self, start: u64, end: u64) {
        if self.memory64.is_some() {
            return;
        }
        let size = end.saturating_sub(start).min(MAX_MEMORY_SCAN);
        let Ok(bytes) = self.data.read_bytes_at(start, size) else {
            return;
        };
        let mut cursor = Cursor(bytes);
        if let Some(count) = cursor.u32() {
            if count > 0 {
                if let Some(is_64) = cursor.limits() {
                    self.memory64 = Some(is_64);
                }
            }
        }
    }
}

/// Why a LEB128 could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leb {
    /// The bytes ran out with the continuation bit still set.
    Incomplete,
    /// Longer than the type allows, or with unused bits set in the last byte.
    Overlong,
}

/// Decodes an unsigned LEB128 of at most `max_bytes` bytes whose last byte may use only
/// `last_bits` bits; returns the value and the number of bytes used.
fn decode_unsigned(bytes: &[u8], max_bytes: usize, last_bits: u32) -> Result<(u64, usize), Leb> {
    let mut value = 0u64;
    let mut shift = 0u32;
    for (count, &byte) in (1usize..).zip(bytes.iter().take(max_bytes)) {
        let low = byte & 0x7f;
        if count == max_bytes
            && (byte & 0x80 != 0 || u32::from(low).checked_shr(last_bits) != Some(0))
        {
            return Err(Leb::Overlong);
        }
        value |= u64::from(low).checked_shl(shift).unwrap_or(0);
        if byte & 0x80 == 0 {
            return Ok((value, count));
        }
        shift = shift.saturating_add(7);
    }
    if bytes.len() >= max_bytes {
        Err(Leb::Overlong)
    } else {
        Err(Leb::Incomplete)
    }
}

/// Decodes a u32 LEB128 (at most 5 bytes; 4 bits used in the fifth).
fn decode_u32(bytes: &[u8]) -> Result<(u32, usize), Leb> {
    let (value, used) = decode_unsigned(bytes, 5, 4)?;
    let value = u32::try_from(value).map_err(|_| Leb::Overlong)?;
    Ok((value, used))
}

/// A forward reader over an in-memory slice for the best-effort scans; every method returns
/// `None` when the bytes run out or do not parse.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(first)
    }

    fn skip(&mut self, count: usize) -> Option<&'a [u8]> {
        let (skipped, rest) = self.0.split_at_checked(count)?;
        self.0 = rest;
        Some(skipped)
    }

    fn u32(&mut self) -> Option<u32> {
        let (value, used) = decode_u32(self.0).ok()?;
        self.skip(used)?;
        Some(value)
    }

    /// A u64 LEB128 (at most 10 bytes; 1 bit used in the tenth).
    fn u64(&mut self) -> Option<u64> {
        let (value, used) = decode_unsigned(self.0, 10, 1).ok()?;
        self.skip(used)?;
        Some(value)
    }

    /// A signed LEB128 of at most 5 bytes (a heap type, s33); only skipped.
    fn s33(&mut self) -> Option<()> {
        for _ in 0..5 {
            if self.byte()? & 0x80 == 0 {
                return Some(());
            }
        }
        None
    }

    fn name(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.u32()?).ok()?;
        self.skip(len)
    }

    /// A value or reference type: one byte, or `0x63`/`0x64` and a heap type.
    fn value_type(&mut self) -> Option<()> {
        match self.byte()? {
            0x63 | 0x64 => self.s33(),
            _ => Some(()),
        }
    }

    /// Limits; returns whether they are 64-bit (flag `0x04`).
    fn limits(&mut self) -> Option<bool> {
        let flags = self.byte()?;
        if flags & !0x0f != 0 {
            return None;
        }
        self.u64()?;
        if flags & 0x01 != 0 {
            self.u64()?;
        }
        if flags & 0x08 != 0 {
            // Custom page size (log2).
            self.u32()?;
        }
        Some(flags & 0x04 != 0)
    }
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    reason = "tests build fixtures at fixed offsets; a panic there is a failed test"
)]
mod tests {
    use super::*;
    use crate::extract::test_util::{
        assert_mutations_do_not_panic, assert_truncations_fail, locate_both,
        single_image_with_payload, PAYLOAD,
    };

    fn leb(mut value: u32) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                out.push(byte);
                return out;
            }
            out.push(byte | 0x80);
        }
    }

    /// The 5-byte padded encoding LLVM uses in relocatable files.
    fn padded_leb(value: u32) -> Vec<u8> {
        (0..5)
            .map(|i| {
                let byte = ((value >> (7 * i)) & 0x7f) as u8;
                if i < 4 {
                    byte | 0x80
                } else {
                    byte
                }
            })
            .collect()
    }

    fn section(id: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![id];
        out.extend(leb(payload.len() as u32));
        out.extend_from_slice(payload);
        out
    }

    fn custom(name: &str, payload: &[u8]) -> Vec<u8> {
        let mut body = leb(name.len() as u32);
        body.extend_from_slice(name.as_bytes());
        body.extend_from_slice(payload);
        section(SECTION_CUSTOM, &body)
    }

    fn name(text: &str) -> Vec<u8> {
        let mut out = leb(text.len() as u32);
        out.extend_from_slice(text.as_bytes());
        out
    }

    /// An import section; each import is (module, field, descriptor bytes).
    fn imports(list: &[(&str, &str, &[u8])]) -> Vec<u8> {
        let mut body = leb(list.len() as u32);
        for (module, field, desc) in list {
            body.extend(name(module));
            body.extend(name(field));
            body.extend_from_slice(desc);
        }
        section(SECTION_IMPORT, &body)
    }

    fn unit(version: [u8; 4], sections: &[Vec<u8>]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&version);
        for section in sections {
            out.extend_from_slice(section);
        }
        out
    }

    fn module(sections: &[Vec<u8>]) -> Vec<u8> {
        unit(MODULE_VERSION, sections)
    }

    fn component(sections: &[Vec<u8>]) -> Vec<u8> {
        unit(COMPONENT_VERSION, sections)
    }

    /// A module like rustc's output for wasm32-wasip1: types, WASI imports, a memory, the
    /// manifest and a producers section.
    fn wasi_module(payload: &[u8]) -> Vec<u8> {
        module(&[
            section(1, &[1, 0x60, 0, 0]),
            imports(&[
                ("env", "memcpy", &[0x00, 0x00]),
                ("wasi_snapshot_preview1", "fd_write", &[0x00, 0x00]),
            ]),
            section(3, &[1, 0]),
            section(SECTION_MEMORY, &[1, 0x00, 17]),
            section(10, &[1, 2, 0, 0x0b]),
            custom(SECTION_NAME, payload),
            custom("producers", b"\x01\x08language\x01\x04Rust\x00"),
        ])
    }

    #[test]
    fn module_with_section() {
        let data = wasi_module(PAYLOAD);
        let located = single_image_with_payload(&data, SECTION_NAME);
        assert_eq!(located.format, ContainerFormat::Wasm);
        let image = &located.images[0];
        assert_eq!(image.arch.as_str(), "wasm32");
        assert_eq!(image.bits, 32);
        assert_eq!(image.endian, Endian::Little);
        assert_eq!(image.kind, FileKind::Other);
        assert_eq!(image.os, Some(Os::Wasi));
    }

    #[test]
    fn module_without_wasi_imports_declares_no_os() {
        let data = module(&[
            section(1, &[1, 0x60, 0, 0]),
            imports(&[("env", "f", &[0x00, 0x00])]),
            custom(SECTION_NAME, PAYLOAD),
        ]);
        let located = single_image_with_payload(&data, SECTION_NAME);
        assert_eq!(located.images[0].os, None);
        let data = module(&[custom("name", b"\0")]);
        let located = locate_both(&data).expect("locate");
        assert_eq!(located.images[0].section, None);
        assert_eq!(located.images[0].os, None);
    }

    #[test]
    fn wasi_found_after_every_import_kind() {
        let data = module(&[
            imports(&[
                ("env", "table", &[0x01, 0x70, 0x00, 0x01]),
                ("env", "typed_table", &[0x01, 0x64, 0x70, 0x01, 0x01, 0x02]),
                ("env", "global", &[0x03, 0x7f, 0x01]),
                ("env", "tag", &[0x04, 0x00, 0x00]),
                ("env", "memory", &[0x02, 0x01, 0x01, 0x80, 0x02]),
                (
                    "wasi:cli/environment@0.2.0",
                    "get-environment",
                    &[0x00, 0x01],
                ),
            ]),
            custom(SECTION_NAME, PAYLOAD),
        ]);
        let located = single_image_with_payload(&data, SECTION_NAME);
        assert_eq!(located.images[0].os, Some(Os::Wasi));
        assert_eq!(located.images[0].arch.as_str(), "wasm32");
    }

    #[test]
    fn memory64_is_wasm64() {
        let declared = module(&[
            section(SECTION_MEMORY, &[1, 0x04, 1]),
            custom(SECTION_NAME, PAYLOAD),
        ]);
        let imported = module(&[
            imports(&[("env", "memory", &[0x02, 0x05, 0x01, 0x10])]),
            custom(SECTION_NAME, PAYLOAD),
        ]);
        for data in [declared, imported] {
            let located = single_image_with_payload(&data, SECTION_NAME);
            assert_eq!(located.images[0].arch.as_str(), "wasm64");
            assert_eq!(located.images[0].bits, 64);
        }
    }

    #[test]
    fn padded_lebs_are_accepted() {
        let mut body = padded_leb(SECTION_NAME.len() as u32);
        body.extend_from_slice(SECTION_NAME.as_bytes());
        body.extend_from_slice(PAYLOAD);
        let mut dep = vec![SECTION_CUSTOM];
        dep.extend(padded_leb(body.len() as u32));
        dep.extend(body);
        let data = module(&[custom("linking", &[2]), dep]);
        single_image_with_payload(&data, SECTION_NAME);
    }

    #[test]
    fn over_long_lebs_are_rejected() {
        // Six bytes, and five bytes with bits set beyond 32.
        for size in [
            &[0x80, 0x80, 0x80, 0x80, 0x80, 0x00][..],
            &[0x80, 0x80, 0x80, 0x80, 0x10],
        ] {
            let mut data = module(&[]);
            data.push(SECTION_CUSTOM);
            data.extend_from_slice(size);
            data.extend_from_slice(&[0; 16]);
            let error = locate_both(&data).expect_err("over-long");
            assert!(matches!(error, ExtractError::Malformed { .. }), "{error}");
            assert!(error.to_string().contains("over-long LEB128"), "{error}");
        }
    }

    #[test]
    fn leb_decoding() {
        assert_eq!(decode_u32(&[0x00]), Ok((0, 1)));
        assert_eq!(decode_u32(&[0xe5, 0x8e, 0x26]), Ok((624_485, 3)));
        assert_eq!(
            decode_u32(&[0xff, 0xff, 0xff, 0xff, 0x0f]),
            Ok((u32::MAX, 5))
        );
        assert_eq!(decode_u32(&[0x80, 0x80, 0x80, 0x80, 0x00]), Ok((0, 5)));
        assert_eq!(decode_u32(&[0x80, 0x80]), Err(Leb::Incomplete));
        assert_eq!(decode_u32(&[]), Err(Leb::Incomplete));
        assert_eq!(
            decode_u32(&[0xff, 0xff, 0xff, 0xff, 0x1f]),
            Err(Leb::Overlong)
        );
        assert_eq!(
            decode_u32(&[0x80, 0x80, 0x80, 0x80, 0x80]),
            Err(Leb::Overlong)
        );
        assert_eq!(
            decode_unsigned(
                &[0xff; 9].iter().copied().chain([0x01]).collect::<Vec<_>>(),
                10,
                1
            ),
            Ok((u64::MAX, 10))
        );
        assert_eq!(
            decode_unsigned(
                &[0xff; 9].iter().copied().chain([0x02]).collect::<Vec<_>>(),
                10,
                1
            ),
            Err(Leb::Overlong)
        );
    }

    #[test]
    fn component_nesting_a_module() {
        let inner = wasi_module(PAYLOAD);
        let data = component(&[
            custom("component-name", b"\0\0"),
            section(COMPONENT_SECTION_CORE_MODULE, &inner),
            section(2, &[0]),
        ]);
        let located = single_image_with_payload(&data, SECTION_NAME);
        assert_eq!(located.images[0].os, Some(Os::Wasi));
    }

    #[test]
    fn first_section_in_file_order_wins() {
        let first = module(&[custom(SECTION_NAME, b"first")]);
        let second = module(&[custom(SECTION_NAME, b"second")]);
        let nested = component(&[section(COMPONENT_SECTION_CORE_MODULE, &second)]);
        let data = component(&[
            section(COMPONENT_SECTION_CORE_MODULE, &first),
            section(COMPONENT_SECTION_COMPONENT, &nested),
        ]);
        let located = locate_both(&data).expect("locate");
        let found = located.images[0].section.expect("section");
        assert_eq!(
            &data[found.offset as usize..][..found.size as usize],
            b"first"
        );
        // The component's own section comes before the modules it precedes.
        let data = component(&[
            custom(SECTION_NAME, b"outer"),
            section(COMPONENT_SECTION_CORE_MODULE, &first),
        ]);
        let located = locate_both(&data).expect("locate");
        let found = located.images[0].section.expect("section");
        assert_eq!(
            &data[found.offset as usize..][..found.size as usize],
            b"outer"
        );
    }

    #[test]
    fn malformed_nested_module_is_an_error_after_the_section() {
        let good = module(&[custom(SECTION_NAME, PAYLOAD)]);
        let mut bad = module(&[custom("x", b"")]);
        bad[0] = b'X';
        let data = component(&[
            section(COMPONENT_SECTION_CORE_MODULE, &good),
            section(COMPONENT_SECTION_CORE_MODULE, &bad),
        ]);
        let error = locate_both(&data).expect_err("bad nested module");
        assert!(
            error
                .to_string()
                .contains("does not start with the WebAssembly magic"),
            "{error}"
        );
    }

    #[test]
    fn nested_kind_must_match_its_section() {
        let inner = component(&[]);
        let data = component(&[section(COMPONENT_SECTION_CORE_MODULE, &inner)]);
        let error = locate_both(&data).expect_err("component in module section");
        assert!(
            error.to_string().contains("the nested module at offset"),
            "{error}"
        );
    }

    #[test]
    fn nesting_depth_is_limited() {
        let nest = |levels: u32| {
            let mut data = module(&[custom(SECTION_NAME, PAYLOAD)]);
            let mut id = COMPONENT_SECTION_CORE_MODULE;
            for _ in 0..levels {
                data = component(&[section(id, &data)]);
                id = COMPONENT_SECTION_COMPONENT;
            }
            data
        };
        single_image_with_payload(&nest(MAX_DEPTH), SECTION_NAME);
        let error = locate_both(&nest(MAX_DEPTH + 1)).expect_err("too deep");
        assert!(
            matches!(
                error,
                ExtractError::LimitExceeded {
                    value: 17,
                    limit: 16,
                    ..
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn nested_overrun_is_malformed_not_truncated() {
        // A section inside the nested module claims more bytes than the module has.
        let mut inner = module(&[custom("x", b"abc")]);
        let size_at = 9;
        inner[size_at] = 0x7f;
        let data = component(&[
            section(COMPONENT_SECTION_CORE_MODULE, &inner),
            custom("after", &[0; 200]),
        ]);
        let error = locate_both(&data).expect_err("overrun");
        assert!(matches!(error, ExtractError::Malformed { .. }), "{error}");
        assert!(error.to_string().contains("enclosing section"), "{error}");
    }

    #[test]
    fn bad_versions_and_names() {
        for version in [[2, 0, 0, 0], [0x0a, 0, 1, 0]] {
            let data = unit(version, &[]);
            let error = locate_both(&data).expect_err("version");
            assert!(error.to_string().contains("unsupported version"), "{error}");
        }
        // A custom section whose name is longer than the section.
        let data = module(&[section(SECTION_CUSTOM, &[0x20, b'a'])]);
        let error = locate_both(&data).expect_err("name past section");
        assert!(error.to_string().contains("custom section name"), "{error}");
    }

    #[test]
    fn section_limit() {
        let mut data = module(&[]);
        for _ in 0..=MAX_SECTIONS {
            data.extend_from_slice(&[1, 0]);
        }
        let error = locate_both(&data).expect_err("too many sections");
        assert!(
            matches!(error, ExtractError::LimitExceeded { .. }),
            "{error}"
        );
    }

    #[test]
    fn truncated_files_are_errors() {
        let data = wasi_module(PAYLOAD);
        // A cut exactly between sections leaves a valid shorter module, so only check that
        // nothing panics and that a cut inside the manifest section is an error.
        assert_truncations_fail(&data, 0);
        let located = locate_both(&data).expect("locate");
        let found = located.images[0].section.expect("section");
        for cut in [
            8 + 1,
            found.offset as usize,
            (found.offset + found.size) as usize - 1,
        ] {
            let error = locate_both(&data[..cut]).expect_err("cut");
            assert!(
                matches!(error, ExtractError::Truncated { .. }),
                "{cut}: {error}"
            );
        }
        let nested = component(&[section(COMPONENT_SECTION_CORE_MODULE, &data)]);
        assert_truncations_fail(&nested, 0);
    }

    #[test]
    fn mutated_files_do_not_panic() {
        assert_mutations_do_not_panic(&wasi_module(PAYLOAD));
        let nested = component(&[section(
            COMPONENT_SECTION_CORE_MODULE,
            &wasi_module(PAYLOAD),
        )]);
        assert_mutations_do_not_panic(&nested);
    }
}
