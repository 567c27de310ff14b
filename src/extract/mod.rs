//! Extraction: find the embedded dependency manifest in the bytes of an untrusted file.
//!
//! This is the stage that touches untrusted bytes first, so it does as little as possible: it
//! recognises the container format ([`sniff`]), walks the headers of every architecture image
//! in the file, and reports where the `.dep-v0` section (or its legacy name) lies
//! ([`locate`]). It never decompresses or interprets the section; the decode stage does that
//! with the [`SectionLocation`] handed out here.
//!
//! # Reading
//! [`locate`] is generic over [`object::ReadRef`], so the caller passes either a `&[u8]` (a
//! file already in memory, such as an archive member) or a `&object::ReadCache<File>`, which
//! reads only the ranges asked for: the headers and nothing else. A 10 GB file costs a few
//! small reads. The parsers use the low-level per-format APIs of `object` (header and section
//! tables), not `object::File`, which would also parse symbol tables we do not need.
//!
//! # Untrusted input
//! - **Every offset and length from a header is checked** against the length of the data
//!   before it is read, with checked arithmetic; running off the end is
//!   [`ExtractError::Truncated`], an inconsistent header is [`ExtractError::Malformed`], and
//!   nothing panics (the lints below are denied in this module).
//! - **Counts from headers are capped before anything is read or allocated**
//!   ([`elf::MAX_SECTIONS`], [`macho::MAX_FAT_ARCHES`], [`wasm::MAX_DEPTH`], ...), so memory
//!   use is bounded by constants, never by the size of the file.
//! - **A section we report is inside the file**: `offset + size` never exceeds its length.
//! - **A file we could not fully parse is an error**, never "no section": `section: None` means
//!   the headers were read completely and named no such section.
//!
//! # What is detected besides the section
//! Architecture, bitness, endianness, file kind and operating system come from the headers
//! only (see [`Image`]); they are used later to filter advisories by `affected.arch` and
//! `affected.os`. The OS is what the file declares, never a guess: a plain ELF file without an
//! OS/ABI byte, an ABI note or a telling interpreter has `os: None`.
#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation
)]

use std::borrow::Cow;
use std::fmt;

use object::ReadRef;

pub mod elf;
pub mod macho;
pub mod pe;
mod read;
pub mod wasm;

/// The current name of the section, in every container format.
pub const SECTION_NAME: &str = ".dep-v0";

/// The container format of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContainerFormat {
    /// ELF, 32 or 64-bit, either endianness.
    Elf,
    /// A thin Mach-O file (one architecture).
    MachO,
    /// A Mach-O universal ("fat") file holding one Mach-O image per architecture.
    MachOFat,
    /// A PE image (`.exe`, `.dll`, ...): MZ header, then `PE\0\0`.
    Pe,
    /// A COFF object file (`.o`/`.obj` for Windows targets), including the "bigobj" variant.
    Coff,
    /// A WebAssembly module or component.
    Wasm,
}

impl ContainerFormat {
    /// The human-readable name: "ELF", "Mach-O", "Mach-O universal", "PE", "COFF",
    /// "WebAssembly".
    pub fn as_str(self) -> &'static str {
        match self {
            ContainerFormat::Elf => "ELF",
            ContainerFormat::MachO => "Mach-O",
            ContainerFormat::MachOFat => "Mach-O universal",
            ContainerFormat::Pe => "PE",
            ContainerFormat::Coff => "COFF",
            ContainerFormat::Wasm => "WebAssembly",
        }
    }
}

impl fmt::Display for ContainerFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of file an image is, as its header declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// A program: ELF `ET_EXEC` or a position-independent `ET_DYN` (one with an interpreter or
    /// `DF_1_PIE`), Mach-O `MH_EXECUTE`, a PE image without `IMAGE_FILE_DLL`.
    Executable,
    /// A shared library or plugin: other ELF `ET_DYN`, Mach-O `MH_DYLIB`/`MH_BUNDLE`, a PE
    /// image with `IMAGE_FILE_DLL` (`.so`, `.dylib`, `.dll`, `.pyd`, `.node`, ...).
    SharedLibrary,
    /// An object file: ELF `ET_REL`, Mach-O `MH_OBJECT`, COFF.
    Relocatable,
    /// Anything else (core dumps, kernel extensions, WebAssembly, ...).
    Other,
}

impl FileKind {
    /// "executable", "shared library", "relocatable object" or "other".
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Executable => "executable",
            FileKind::SharedLibrary => "shared library",
            FileKind::Relocatable => "relocatable object",
            FileKind::Other => "other",
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Byte order of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endian {
    /// Little-endian.
    Little,
    /// Big-endian.
    Big,
}

impl Endian {
    /// The Rust `target_endian` spelling: "little" or "big".
    pub fn as_str(self) -> &'static str {
        match self {
            Endian::Little => "little",
            Endian::Big => "big",
        }
    }
}

impl fmt::Display for Endian {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The architecture of an image, spelled as Rust's `target_arch` (`"x86_64"`, `"aarch64"`,
/// `"s390x"`, `"wasm32"`, ...).
///
/// A machine value we do not know is kept as `"unknown(0x1234)"` (the raw `e_machine`,
/// `cputype` or COFF machine), which never matches an advisory's `affected.arch`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Arch(Cow<'static, str>);

impl Arch {
    /// A known architecture.
    pub(crate) const fn known(name: &'static str) -> Self {
        Arch(Cow::Borrowed(name))
    }

    /// An unknown machine value.
    pub(crate) fn unknown(machine: u32) -> Self {
        Arch(Cow::Owned(format!("unknown({machine:#x})")))
    }

    /// The `target_arch` spelling, or `"unknown(0x...)"`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the machine value was recognised.
    pub fn is_known(&self) -> bool {
        matches!(self.0, Cow::Borrowed(_))
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The operating system an image declares in its headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Os {
    /// Linux (other than Android).
    Linux,
    /// Android.
    Android,
    /// GNU Hurd.
    Hurd,
    /// FreeBSD.
    FreeBsd,
    /// NetBSD.
    NetBsd,
    /// OpenBSD.
    OpenBsd,
    /// DragonFly BSD.
    DragonFly,
    /// Solaris or illumos (both use `ELFOSABI_SOLARIS`).
    Solaris,
    /// macOS.
    MacOs,
    /// iOS, including Mac Catalyst and the simulator.
    Ios,
    /// tvOS, including the simulator.
    TvOs,
    /// watchOS, including the simulator.
    WatchOs,
    /// visionOS, including the simulator.
    VisionOs,
    /// Windows.
    Windows,
    /// UEFI (a PE image with an EFI subsystem).
    Uefi,
    /// WASI (a WebAssembly module that imports from a `wasi*` module).
    Wasi,
}

impl Os {
    /// The Rust `target_os` spelling ("linux", "android", "freebsd", "macos", "ios",
    /// "windows", ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Os::Linux => "linux",
            Os::Android => "android",
            Os::Hurd => "hurd",
            Os::FreeBsd => "freebsd",
            Os::NetBsd => "netbsd",
            Os::OpenBsd => "openbsd",
            Os::DragonFly => "dragonfly",
            Os::Solaris => "solaris",
            Os::MacOs => "macos",
            Os::Ios => "ios",
            Os::TvOs => "tvos",
            Os::WatchOs => "watchos",
            Os::VisionOs => "visionos",
            Os::Windows => "windows",
            Os::Uefi => "uefi",
            Os::Wasi => "wasi",
        }
    }
}

impl fmt::Display for Os {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the section's bytes lie.
///
/// `offset + size` never exceeds the length of the file, so the range can be read as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SectionLocation {
    /// The name found: [`SECTION_NAME`] (`.dep-v0`) or a legacy name (ELF `.rust-deps-v0`,
    /// PE/COFF `rdep-v0`, Mach-O `rust-deps-v0`). For Mach-O this is the section name alone;
    /// the segment is `__DATA` for `.dep-v0` and `__TEXT` for `rust-deps-v0`.
    pub name: &'static str,
    /// Absolute offset of the first byte in the file (for universal files, in the whole
    /// file, not in the slice).
    pub offset: u64,
    /// Number of bytes. For PE images this excludes the padding to `FileAlignment`.
    pub size: u64,
}

impl SectionLocation {
    /// Whether the section has one of the names written before mid-2022.
    pub fn is_legacy(&self) -> bool {
        self.name != SECTION_NAME
    }
}

/// One architecture image: a whole thin file, or one slice of a universal file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Architecture, in the `target_arch` spelling.
    pub arch: Arch,
    /// Pointer width: 32 or 64. This is the ABI's, so x32 and arm64_32 are 32-bit.
    pub bits: u8,
    /// Byte order.
    pub endian: Endian,
    /// Executable, shared library, object file or other.
    pub kind: FileKind,
    /// The OS the headers declare; `None` when they declare none (never guessed).
    pub os: Option<Os>,
    /// The embedded manifest section, if the image has one.
    pub section: Option<SectionLocation>,
}

/// The result of [`locate`]: the container format and its images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The container format.
    pub format: ContainerFormat,
    /// One image per architecture slice for [`ContainerFormat::MachOFat`], in the order of
    /// the universal header; exactly one for every other format.
    pub images: Vec<Image>,
}

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractError {
    /// The file is not in a format we read: its first bytes are no ELF, Mach-O, PE, COFF or
    /// WebAssembly magic (text files, scripts, archives, Java class files, ...).
    #[error("not an executable or object file (ELF, Mach-O, PE/COFF or WebAssembly)")]
    NotExecutable,
    /// The data ended before a structure the headers point to.
    #[error("truncated {format} file: the data ends inside the {what}")]
    Truncated {
        /// The format being read.
        format: ContainerFormat,
        /// The structure that did not fit.
        what: &'static str,
    },
    /// The headers are inconsistent.
    #[error("malformed {format} file: {reason}")]
    Malformed {
        /// The format being read.
        format: ContainerFormat,
        /// What is wrong, with the offsets that matter.
        reason: String,
    },
    /// A universal file lists more architectures than we accept.
    #[error("Mach-O universal file lists {count} architectures, more than the limit of {limit}")]
    TooManyImages {
        /// The count in the header.
        count: u32,
        /// The limit ([`macho::MAX_FAT_ARCHES`]).
        limit: u32,
    },
    /// A count or size from the headers exceeds a limit that bounds memory use.
    #[error("{format} file exceeds a limit: {what} is {value}, more than the limit of {limit}")]
    LimitExceeded {
        /// The format being read.
        format: ContainerFormat,
        /// What was counted.
        what: &'static str,
        /// The value found (for nesting depth: the first depth over the limit).
        value: u64,
        /// The limit.
        limit: u64,
    },
    /// An error inside one slice of a universal file.
    #[error("in Mach-O universal slice {index} ({arch}, file offset {offset:#x}): {error}")]
    Slice {
        /// Index of the slice in the universal header.
        index: u32,
        /// The architecture the universal header gives for the slice.
        arch: Arch,
        /// Offset of the slice in the file.
        offset: u64,
        /// What went wrong inside the slice.
        error: Box<ExtractError>,
    },
    /// Reading an in-bounds range failed: an I/O error of the underlying reader (or it could
    /// not allocate the buffer).
    #[error("could not read the {what} (I/O error)")]
    Read {
        /// The structure being read.
        what: &'static str,
    },
}

/// Recognises the container format from the first bytes of a file, for fast directory walks.
///
/// Needs at most 16 bytes; returns `None` when `head` is too short to decide. This is a
/// pre-filter: [`locate`] is authoritative and may still answer
/// [`ExtractError::NotExecutable`] for a file sniffed as [`ContainerFormat::Pe`] (an `MZ` file
/// that turns out to be a DOS program) or a universal archive.
///
/// `0xCAFEBABE` is also the magic of Java class files, which put their version (major ≥ 45)
/// where a universal file has its architecture count, so that magic is a universal file only
/// when the count is at most [`macho::FAT_JAVA_CUTOFF`] (30).
pub fn sniff(head: &[u8]) -> Option<ContainerFormat> {
    if head.starts_with(&object::elf::ELFMAG) {
        return Some(ContainerFormat::Elf);
    }
    if head.starts_with(wasm::MAGIC) {
        return Some(ContainerFormat::Wasm);
    }
    if let Some(format) = macho::sniff(head) {
        return Some(format);
    }
    pe::sniff(head)
}

/// Finds the embedded manifest section in every architecture image of `data`.
///
/// `data` is the whole file: a `&[u8]` or a `&object::ReadCache<File>` (which reads only the
/// headers). Formats are recognised by [`sniff`]; see the format modules for what each
/// reads. An image without the section has `section: None`; any inconsistency in the headers
/// is an error, so `None` is an answer, not a shrug.
pub fn locate<'data, R: ReadRef<'data>>(data: R) -> Result<Located, ExtractError> {
    let len = read::data_len(data)?;
    let head_len = len.min(16);
    let head = data
        .read_bytes_at(0, head_len)
        .map_err(|()| ExtractError::Read {
            what: "first bytes of the file",
        })?;
    match sniff(head) {
        None => Err(ExtractError::NotExecutable),
        Some(ContainerFormat::Elf) => Ok(Located {
            format: ContainerFormat::Elf,
            images: vec![elf::locate(data)?],
        }),
        Some(ContainerFormat::MachO | ContainerFormat::MachOFat) => macho::locate(data),
        Some(ContainerFormat::Pe | ContainerFormat::Coff) => pe::locate(data),
        Some(ContainerFormat::Wasm) => Ok(Located {
            format: ContainerFormat::Wasm,
            images: vec![wasm::locate(data)?],
        }),
    }
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    reason = "tests build fixtures at fixed offsets; a panic there is a failed test"
)]
pub(crate) mod test_util;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_file_is_not_executable() {
        let text = b"#!/bin/sh\necho hello\n";
        assert_eq!(sniff(text), None);
        assert!(matches!(
            locate(&text[..]),
            Err(ExtractError::NotExecutable)
        ));
    }

    #[test]
    fn empty_and_tiny_files_are_not_executable() {
        for data in [&b""[..], b"\x7f", b"\0as", b"MZ"] {
            // "MZ" alone is sniffed as PE, then found too short to be one.
            let result = locate(data);
            assert!(result.is_err(), "{data:?}");
        }
        assert!(matches!(locate(&b""[..]), Err(ExtractError::NotExecutable)));
    }

    #[test]
    fn java_class_file_is_not_executable() {
        // Magic, minor version 0, major version 65 (Java 21), then a constant pool count.
        let class = [
            0xca, 0xfe, 0xba, 0xbe, 0x00, 0x00, 0x00, 0x41, 0x00, 0x1d, 0x0a, 0x00, 0x02, 0x00,
            0x03, 0x07,
        ];
        assert_eq!(sniff(&class), None);
        assert!(matches!(
            locate(&class[..]),
            Err(ExtractError::NotExecutable)
        ));
    }

    #[test]
    fn archives_and_scripts_are_not_executable() {
        for data in [
            &b"!<arch>\nfoo.o/          0           0     0     644     4         `\nabcd"[..],
            b"PK\x03\x04\x14\x00\x00\x00\x08\x00",
            b"\x1f\x8b\x08\x00\x00\x00\x00\x00",
            b"{\"packages\":[]}",
        ] {
            assert!(
                matches!(locate(data), Err(ExtractError::NotExecutable)),
                "{data:?}"
            );
        }
    }

    #[test]
    fn sniff_recognises_every_magic() {
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01"), Some(ContainerFormat::Elf));
        assert_eq!(sniff(b"\0asm\x01\0\0\0"), Some(ContainerFormat::Wasm));
        assert_eq!(sniff(b"\0asm\x0d\0\x01\0"), Some(ContainerFormat::Wasm));
        assert_eq!(sniff(b"\xcf\xfa\xed\xfe"), Some(ContainerFormat::MachO));
        assert_eq!(sniff(b"\xce\xfa\xed\xfe"), Some(ContainerFormat::MachO));
        assert_eq!(sniff(b"\xfe\xed\xfa\xce"), Some(ContainerFormat::MachO));
        assert_eq!(sniff(b"\xfe\xed\xfa\xcf"), Some(ContainerFormat::MachO));
        assert_eq!(
            sniff(b"\xca\xfe\xba\xbe\0\0\0\x02"),
            Some(ContainerFormat::MachOFat)
        );
        assert_eq!(
            sniff(b"\xca\xfe\xba\xbf\0\0\0\x02"),
            Some(ContainerFormat::MachOFat)
        );
        assert_eq!(sniff(b"MZ\x90\0"), Some(ContainerFormat::Pe));
        assert_eq!(sniff(b"\x64\x86\x03\0"), Some(ContainerFormat::Coff));
        assert_eq!(sniff(b"\x4c\x01\x03\0"), Some(ContainerFormat::Coff));
        assert_eq!(sniff(b"\x64\xaa\x03\0"), Some(ContainerFormat::Coff));
        // Too short to tell a universal file from a class file.
        assert_eq!(sniff(b"\xca\xfe\xba\xbe"), None);
        // Text that happens to start like a little-endian machine number.
        assert_eq!(sniff(b"db2 connect"), None);
    }

    #[test]
    fn display_strings() {
        assert_eq!(ContainerFormat::MachOFat.to_string(), "Mach-O universal");
        assert_eq!(ContainerFormat::Wasm.as_str(), "WebAssembly");
        assert_eq!(Arch::unknown(0x1234).as_str(), "unknown(0x1234)");
        assert!(!Arch::unknown(0x1234).is_known());
        assert_eq!(Arch::known("x86_64").to_string(), "x86_64");
        assert_eq!(Os::MacOs.as_str(), "macos");
        assert_eq!(
            ExtractError::NotExecutable.to_string(),
            "not an executable or object file (ELF, Mach-O, PE/COFF or WebAssembly)"
        );
        assert_eq!(
            ExtractError::Truncated {
                format: ContainerFormat::Elf,
                what: "section header table"
            }
            .to_string(),
            "truncated ELF file: the data ends inside the section header table"
        );
    }
}
