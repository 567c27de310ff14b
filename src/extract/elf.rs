//! ELF: 32 and 64-bit, little and big endian; executables, shared objects, relocatable objects.
//!
//! The section is found through the **section headers** (it is not `SHF_ALLOC`, so no program
//! header covers it). `object` reads the header, the section header table and the section name
//! table, and handles **extended section numbering** (`e_shnum == 0`: the count is in section
//! 0's `sh_size`; `e_shstrndx == SHN_XINDEX`: the index is in section 0's `sh_link`); the
//! bounds checks before each of those reads, the caps, the name matching and the OS detection
//! are ours.
//!
//! The OS comes from `EI_OSABI` when it names one, else from ABI notes (`.note.ABI-tag`,
//! `.note.android.ident`, `.note.netbsd.ident`, `.note.openbsd.ident`, `.note.tag`, and the
//! `PT_NOTE` segments, which matter when section headers were stripped) and from the interpreter
//! (`/system/bin/linker*` is Android, `ld-musl-*` is Linux). Nothing else is taken as evidence:
//! a static musl binary says nothing and gets `os: None`. OS detection is best effort: a
//! malformed note is skipped rather than failing the file.

use object::elf;
use object::read::elf::{FileHeader, NoteIterator, ProgramHeader, SectionHeader, SectionTable};
use object::read::StringTable;
use object::{Endian as _, Endianness, ReadRef};

use super::read::{
    bytes_at, data_len, ensure_in_bounds, ensure_section_in_file, malformed, object_error, pod_at,
    size_of_u64,
};
use super::{Arch, ContainerFormat, Endian, ExtractError, FileKind, Image, Os, SectionLocation};

/// The section name.
pub const SECTION_NAME: &str = ".dep-v0";
/// The name written before mid-2022.
pub const LEGACY_SECTION_NAME: &str = ".rust-deps-v0";
/// Most section headers read (2^20, 64 MiB of 64-bit headers); real files have far fewer.
pub const MAX_SECTIONS: u32 = 1 << 20;
/// Most program headers read.
pub const MAX_PROGRAM_HEADERS: u32 = 1 << 16;

/// Note sections larger than this are not read for OS detection.
const MAX_NOTE_SIZE: u64 = 64 * 1024;
/// Interpreter paths longer than this are not read.
const MAX_INTERP_SIZE: u64 = 4096;
/// Dynamic sections larger than this are not read for `DF_1_PIE`.
const MAX_DYNAMIC_SIZE: u64 = 1 << 20;
/// Most `PT_NOTE` segments read.
const MAX_NOTE_SEGMENTS: usize = 16;
/// The note sections that carry an OS declaration.
const OS_NOTE_SECTIONS: [&[u8]; 5] = [
    b".note.ABI-tag",
    b".note.android.ident",
    b".note.netbsd.ident",
    b".note.openbsd.ident",
    b".note.tag",
];

const FORMAT: ContainerFormat = ContainerFormat::Elf;
/// Size of `e_ident`.
const IDENT_SIZE: u64 = 16;

/// Reads the ELF file `data` and finds its section.
pub fn locate<'data, R: ReadRef<'data>>(data: R) -> Result<Image, ExtractError> {
    let len = data_len(data)?;
    let ident = bytes_at(data, len, 0, IDENT_SIZE, FORMAT, "identification bytes")?;
    let (magic, fields) = ident.split_at_checked(4).unwrap_or_default();
    let &[class, encoding, version, ..] = fields else {
        return Err(ExtractError::Truncated {
            format: FORMAT,
            what: "identification bytes",
        });
    };
    if magic != elf::ELFMAG {
        return Err(ExtractError::NotExecutable);
    }
    if elf::FileVersion(version) != elf::EV_CURRENT {
        return Err(malformed(
            FORMAT,
            format!("unsupported ELF version {version} in the identification bytes"),
        ));
    }
    let encoding_value = elf::DataEncoding(encoding);
    if encoding_value != elf::ELFDATA2LSB && encoding_value != elf::ELFDATA2MSB {
        return Err(malformed(
            FORMAT,
            format!("unknown data encoding {encoding} (neither little nor big endian)"),
        ));
    }
    match elf::FileClass(class) {
        elf::ELFCLASS32 => parse::<elf::FileHeader32<Endianness>, R>(data, len),
        elf::ELFCLASS64 => parse::<elf::FileHeader64<Endianness>, R>(data, len),
        _ => Err(malformed(
            FORMAT,
            format!("unknown ELF class {class} (neither 32 nor 64-bit)"),
        )),
    }
}

fn parse<'data, Elf, R>(data: R, len: u64) -> Result<Image, ExtractError>
where
    Elf: FileHeader<Endian = Endianness>,
    R: ReadRef<'data>,
{
    let header: &Elf = pod_at(data, len, 0, FORMAT, "file header")?;
    let endian = header.endian().map_err(|e| object_error(FORMAT, e))?;
    let sections = section_table(header, endian, data, len)?;
    let segments = program_headers(header, endian, data, len)?;

    let mut found = Found::default();
    let mut note_os = None;
    let mut interp_os = None;
    let mut dynamic = None;
    let mut has_interp = false;
    let has_names = header.e_shstrndx(endian) != elf::SHN_UNDEF;
    for (index, section) in sections.enumerate() {
        if dynamic.is_none() && section.sh_type(endian) == elf::SHT_DYNAMIC {
            dynamic = Some(section);
        }
        if !has_names {
            continue;
        }
        let name = sections.section_name(endian, section).map_err(|_| {
            malformed(
                FORMAT,
                format!(
                    "section {}: name offset {:#x} is outside the section name table",
                    index.0,
                    section.sh_name(endian)
                ),
            )
        })?;
        match name {
            n if n == SECTION_NAME.as_bytes() => found.set_current(index.0, section)?,
            n if n == LEGACY_SECTION_NAME.as_bytes() => found.set_legacy(index.0, section)?,
            b".interp" => {
                has_interp = true;
                if interp_os.is_none() {
                    interp_os =
                        interpreter_os(section_bytes(section, endian, data, MAX_INTERP_SIZE));
                }
            }
            n if note_os.is_none()
                && OS_NOTE_SECTIONS.contains(&n)
                && section.sh_size(endian).into() <= MAX_NOTE_SIZE =>
            {
                if let Ok(Some(notes)) = section.notes(endian, data) {
                    note_os = os_from_notes(endian, notes);
                }
            }
            _ => {}
        }
    }
    let section = found.location(endian, len)?;

    // The segments say the same as the sections, and are all there is when the section
    // headers were stripped (`sstrip` and the like).
    let mut note_segments = 0;
    for segment in segments {
        match segment.p_type(endian) {
            elf::PT_INTERP => {
                has_interp = true;
                if interp_os.is_none() {
                    interp_os = interpreter_os(segment_bytes(segment, endian, data));
                }
            }
            elf::PT_NOTE
                if note_os.is_none()
                    && note_segments < MAX_NOTE_SEGMENTS
                    && segment.p_filesz(endian).into() <= MAX_NOTE_SIZE =>
            {
                note_segments = note_segments.saturating_add(1);
                if let Ok(Some(notes)) = segment.notes(endian, data) {
                    note_os = os_from_notes(endian, notes);
                }
            }
            _ => {}
        }
    }

    let kind = match header.e_type(endian) {
        elf::ET_REL => FileKind::Relocatable,
        elf::ET_EXEC => FileKind::Executable,
        elf::ET_DYN => {
            let pie = has_interp
                || match dynamic {
                    Some(dynamic) => section_is_pie(dynamic, endian, data),
                    None => segments_are_pie(segments, endian, data),
                };
            if pie {
                FileKind::Executable
            } else {
                FileKind::SharedLibrary
            }
        }
        _ => FileKind::Other,
    };

    let is_64 = header.is_class_64();
    Ok(Image {
        arch: arch(header.e_machine(endian), is_64, header.e_flags(endian)),
        bits: if is_64 { 64 } else { 32 },
        endian: if endian.is_big_endian() {
            Endian::Big
        } else {
            Endian::Little
        },
        kind,
        os: os(header.e_ident().os_abi.0, note_os, interp_os),
        section,
    })
}

/// The section headers, checked against the file and capped before `object` reads them.
fn section_table<'data, Elf, R>(
    header: &Elf,
    endian: Endianness,
    data: R,
    len: u64,
) -> Result<SectionTable<'data, Elf, &'data [u8]>, ExtractError>
where
    Elf: FileHeader<Endian = Endianness>,
    R: ReadRef<'data>,
{
    let shoff: u64 = header.e_shoff(endian).into();
    if shoff == 0 {
        return Ok(SectionTable::default());
    }
    let entsize = header.e_shentsize(endian);
    if u64::from(entsize) != size_of_u64::<Elf::SectionHeader>() {
        return Err(malformed(
            FORMAT,
            format!(
                "section header entry size is {entsize}, expected {}",
                size_of_u64::<Elf::SectionHeader>()
            ),
        ));
    }
    // Section 0 holds the extended count and string table index, so it is read first.
    ensure_in_bounds(len, shoff, entsize.into(), FORMAT, "section header table")?;
    let count = header
        .shnum(endian, data)
        .map_err(|e| object_error(FORMAT, e))?;
    if count > MAX_SECTIONS {
        return Err(ExtractError::LimitExceeded {
            format: FORMAT,
            what: "the number of section headers",
            value: count.into(),
            limit: MAX_SECTIONS.into(),
        });
    }
    let table_size = u64::from(count).saturating_mul(entsize.into());
    ensure_in_bounds(len, shoff, table_size, FORMAT, "section header table")?;
    if count == 0 {
        return Ok(SectionTable::default());
    }
    if header.e_shstrndx(endian) == elf::SHN_UNDEF {
        // Valid: the sections have no names, so none of them is the manifest.
        let headers = header
            .section_headers(endian, data)
            .map_err(|e| object_error(FORMAT, e))?;
        return Ok(SectionTable::new(headers, StringTable::default()));
    }
    let strndx = header.shstrndx(endian, data).map_err(|_| {
        malformed(
            FORMAT,
            format!(
                "the section name table index (e_shstrndx {:#x}) is missing or invalid",
                header.e_shstrndx(endian).0
            ),
        )
    })?;
    if strndx >= count {
        return Err(malformed(
            FORMAT,
            format!("the section name table index {strndx} is not below the section count {count}"),
        ));
    }
    let headers = header
        .section_headers(endian, data)
        .map_err(|e| object_error(FORMAT, e))?;
    let strtab = headers
        .get(usize::try_from(strndx).unwrap_or(usize::MAX))
        .ok_or_else(|| {
            malformed(
                FORMAT,
                format!("no section {strndx} for the section name table"),
            )
        })?;
    let Some((offset, size)) = strtab.file_range(endian) else {
        // A name table without bytes in the file: no section has a name.
        return Ok(SectionTable::new(headers, StringTable::default()));
    };
    ensure_in_bounds(len, offset, size, FORMAT, "section name table")?;
    // The name table is read in one go, so that each name lookup is a memory access and not a
    // read: through `ReadCache` a lazy table costs one system call per section name.
    if size > MAX_NAME_TABLE {
        return Err(ExtractError::LimitExceeded {
            format: FORMAT,
            what: "the size of the section name table",
            value: size,
            limit: MAX_NAME_TABLE,
        });
    }
    let names: &'data [u8] =
        data.read_bytes_at(offset, size)
            .map_err(|()| ExtractError::Truncated {
                format: FORMAT,
                what: "the section name table",
            })?;
    Ok(SectionTable::new(headers, StringTable::new(names, 0, size)))
}

/// The largest section name table read. Real ones are kilobytes; 65,000 sections with long
/// names stay far below this.
pub const MAX_NAME_TABLE: u64 = 16 * 1024 * 1024;

/// The program headers, checked against the file and capped before `object` reads them.
fn program_headers<'data, Elf, R>(
    header: &Elf,
    endian: Endianness,
    data: R,
    len: u64,
) -> Result<&'data [Elf::ProgramHeader], ExtractError>
where
    Elf: FileHeader<Endian = Endianness>,
    R: ReadRef<'data>,
{
    let phoff: u64 = header.e_phoff(endian).into();
    if phoff == 0 || header.e_phnum(endian) == 0 {
        return Ok(&[]);
    }
    let entsize = header.e_phentsize(endian);
    if u64::from(entsize) != size_of_u64::<Elf::ProgramHeader>() {
        return Err(malformed(
            FORMAT,
            format!(
                "program header entry size is {entsize}, expected {}",
                size_of_u64::<Elf::ProgramHeader>()
            ),
        ));
    }
    let count = header
        .phnum(endian, data)
        .map_err(|e| object_error(FORMAT, e))?;
    if count > MAX_PROGRAM_HEADERS {
        return Err(ExtractError::LimitExceeded {
            format: FORMAT,
            what: "the number of program headers",
            value: count.into(),
            limit: MAX_PROGRAM_HEADERS.into(),
        });
    }
    let table_size = u64::from(count).saturating_mul(entsize.into());
    ensure_in_bounds(len, phoff, table_size, FORMAT, "program header table")?;
    header
        .program_headers(endian, data)
        .map_err(|e| object_error(FORMAT, e))
}

/// The `.dep-v0` and legacy sections seen so far.
struct Found<'data, S> {
    current: Option<(usize, &'data S)>,
    legacy: Option<(usize, &'data S)>,
}

impl<S> Default for Found<'_, S> {
    fn default() -> Self {
        Found {
            current: None,
            legacy: None,
        }
    }
}

impl<'data, S: SectionHeader<Endian = Endianness>> Found<'data, S> {
    fn set_current(&mut self, index: usize, section: &'data S) -> Result<(), ExtractError> {
        Self::set(&mut self.current, index, section, SECTION_NAME)
    }

    fn set_legacy(&mut self, index: usize, section: &'data S) -> Result<(), ExtractError> {
        Self::set(&mut self.legacy, index, section, LEGACY_SECTION_NAME)
    }

    /// Two sections of the same name would be two manifests; which one is right is unknowable.
    fn set(
        slot: &mut Option<(usize, &'data S)>,
        index: usize,
        section: &'data S,
        name: &str,
    ) -> Result<(), ExtractError> {
        if let Some((first, _)) = slot {
            return Err(malformed(
                FORMAT,
                format!("more than one `{name}` section (sections {first} and {index})"),
            ));
        }
        *slot = Some((index, section));
        Ok(())
    }

    /// The location of the current section, else the legacy one.
    fn location(
        &self,
        endian: Endianness,
        len: u64,
    ) -> Result<Option<SectionLocation>, ExtractError> {
        let (index, section, name) = match (self.current, self.legacy) {
            (Some((index, section)), _) => (index, section, SECTION_NAME),
            (None, Some((index, section))) => (index, section, LEGACY_SECTION_NAME),
            (None, None) => return Ok(None),
        };
        let Some((offset, size)) = section.file_range(endian) else {
            return Err(malformed(
                FORMAT,
                format!(
                    "section `{name}` (section {index}) has type SHT_NOBITS: it has no bytes in \
                     the file (a debug-info-only copy?)"
                ),
            ));
        };
        if section.sh_flags(endian).contains(elf::SHF_COMPRESSED) {
            return Err(malformed(
                FORMAT,
                format!(
                    "section `{name}` (section {index}) is SHF_COMPRESSED; ELF section \
                     compression around the manifest is not supported"
                ),
            ));
        }
        ensure_section_in_file(FORMAT, name, offset, size, len)?;
        Ok(Some(SectionLocation { name, offset, size }))
    }
}

/// A section's bytes, if they are in the file and not larger than `limit`.
fn section_bytes<'data, S, R>(
    section: &S,
    endian: Endianness,
    data: R,
    limit: u64,
) -> Option<&'data [u8]>
where
    S: SectionHeader<Endian = Endianness>,
    R: ReadRef<'data>,
{
    let (offset, size) = section.file_range(endian)?;
    if size > limit {
        return None;
    }
    data.read_bytes_at(offset, size).ok()
}

/// A segment's bytes, if they are in the file and not larger than the interpreter limit.
fn segment_bytes<'data, P, R>(segment: &P, endian: Endianness, data: R) -> Option<&'data [u8]>
where
    P: ProgramHeader<Endian = Endianness>,
    R: ReadRef<'data>,
{
    let (offset, size) = segment.file_range(endian);
    if size > MAX_INTERP_SIZE {
        return None;
    }
    data.read_bytes_at(offset, size).ok()
}

/// The OS an interpreter path implies: Android's linker, or musl's (which exists only on
/// Linux). glibc's `ld-linux*` is not needed: glibc binaries carry `.note.ABI-tag`.
fn interpreter_os(path: Option<&[u8]>) -> Option<Os> {
    let path = path?;
    let path = path.split(|&b| b == 0).next().unwrap_or_default();
    if path.starts_with(b"/system/bin/linker") || path.starts_with(b"/system/bin/bootstrap/linker")
    {
        return Some(Os::Android);
    }
    let file_name = path.rsplit(|&b| b == b'/').next().unwrap_or_default();
    if file_name.starts_with(b"ld-musl-") {
        return Some(Os::Linux);
    }
    None
}

/// The first OS declaration among `notes`; stops quietly at a malformed note.
fn os_from_notes<Elf: FileHeader<Endian = Endianness>>(
    endian: Endianness,
    mut notes: NoteIterator<'_, Elf>,
) -> Option<Os> {
    while let Ok(Some(note)) = notes.next() {
        let os = match (note.name(), note.n_type(endian).0) {
            // NT_GNU_ABI_TAG: the first word of the descriptor is the OS.
            (b"GNU", 1) => {
                let word = note.desc().get(..4)?;
                let word = <[u8; 4]>::try_from(word).ok()?;
                match endian.read_u32(word) {
                    0 => Some(Os::Linux),
                    1 => Some(Os::Hurd),
                    2 => Some(Os::Solaris),
                    3 => Some(Os::FreeBsd),
                    _ => None,
                }
            }
            (b"Android", 1) => Some(Os::Android),
            (b"NetBSD", 1) => Some(Os::NetBsd),
            (b"OpenBSD", 1) => Some(Os::OpenBsd),
            (b"FreeBSD", 1) => Some(Os::FreeBsd),
            (b"DragonFly", 1) => Some(Os::DragonFly),
            _ => None,
        };
        if os.is_some() {
            return os;
        }
    }
    None
}

/// The OS from `EI_OSABI`, refined or replaced by what the notes and interpreter say.
fn os(os_abi: u8, note_os: Option<Os>, interp_os: Option<Os>) -> Option<Os> {
    match os_abi {
        // GNU/Linux. GNU tools also set it on Hurd and Android objects that use GNU
        // extensions (IFUNC), so a note naming one of those wins.
        3 => match note_os.or(interp_os) {
            Some(os @ (Os::Android | Os::Hurd)) => Some(os),
            _ => Some(Os::Linux),
        },
        2 => Some(Os::NetBsd),
        4 => Some(Os::Hurd),
        6 => Some(Os::Solaris),
        9 => Some(Os::FreeBsd),
        12 => Some(Os::OpenBsd),
        // SYSV (0) and the processor-specific values declare no OS.
        _ => note_os.or(interp_os),
    }
}

/// Whether the `SHT_DYNAMIC` section has `DF_1_PIE` in `DT_FLAGS_1`.
fn section_is_pie<'data, S, R>(section: &S, endian: Endianness, data: R) -> bool
where
    S: SectionHeader<Endian = Endianness>,
    R: ReadRef<'data>,
{
    if section.sh_size(endian).into() > MAX_DYNAMIC_SIZE {
        return false;
    }
    match section.dynamic(endian, data) {
        Ok(Some((entries, _))) => dynamic_is_pie(entries, endian),
        _ => false,
    }
}

/// Whether the `PT_DYNAMIC` segment has `DF_1_PIE` in `DT_FLAGS_1`.
fn segments_are_pie<'data, P, R>(segments: &[P], endian: Endianness, data: R) -> bool
where
    P: ProgramHeader<Endian = Endianness>,
    R: ReadRef<'data>,
{
    segments.iter().any(|segment| {
        if segment.p_filesz(endian).into() > MAX_DYNAMIC_SIZE {
            return false;
        }
        match segment.dynamic(endian, data) {
            Ok(Some(entries)) => dynamic_is_pie(entries, endian),
            _ => false,
        }
    })
}

fn dynamic_is_pie<D: object::read::elf::Dyn<Endian = Endianness>>(
    entries: &[D],
    endian: Endianness,
) -> bool {
    for entry in entries {
        let tag = entry.tag(endian);
        if tag == elf::DT_NULL {
            break;
        }
        if tag == elf::DT_FLAGS_1 {
            return entry.val(endian) & elf::DF_1_PIE.0 != 0;
        }
    }
    false
}

/// The `target_arch` for an ELF machine.
fn arch(machine: elf::Machine, is_64: bool, flags: elf::FileFlags) -> Arch {
    let name = match machine {
        elf::EM_386 => "x86",
        // x32 is EM_X86_64 in a 32-bit file; its target_arch is still x86_64.
        elf::EM_X86_64 => "x86_64",
        elf::EM_AARCH64 => "aarch64",
        elf::EM_ARM => "arm",
        elf::EM_S390 if is_64 => "s390x",
        elf::EM_S390 => "s390",
        elf::EM_PPC => "powerpc",
        elf::EM_PPC64 => "powerpc64",
        elf::EM_RISCV if is_64 => "riscv64",
        elf::EM_RISCV => "riscv32",
        elf::EM_MIPS | elf::EM_MIPS_RS3_LE => {
            let mips_arch = flags.0 & elf::EF_MIPS_ARCH;
            if mips_arch == elf::EF_MIPS_ARCH_64R6.0 {
                "mips64r6"
            } else if mips_arch == elf::EF_MIPS_ARCH_32R6.0 {
                "mips32r6"
            } else if is_64 || flags.0 & elf::EF_MIPS_ABI2.0 != 0 {
                // n32 (EF_MIPS_ABI2) is a 32-bit file for a mips64 target.
                "mips64"
            } else {
                "mips"
            }
        }
        elf::EM_LOONGARCH if is_64 => "loongarch64",
        elf::EM_LOONGARCH => "loongarch32",
        elf::EM_SPARCV9 => "sparc64",
        elf::EM_SPARC | elf::EM_SPARC32PLUS => "sparc",
        elf::EM_68K => "m68k",
        elf::EM_HEXAGON => "hexagon",
        elf::EM_BPF => "bpf",
        elf::EM_MSP430 => "msp430",
        elf::EM_AVR => "avr",
        elf::EM_CSKY => "csky",
        elf::EM_XTENSA => "xtensa",
        elf::EM_AMDGPU => "amdgpu",
        elf::EM_CUDA => "nvptx64",
        other => return Arch::unknown(other.0.into()),
    };
    Arch::known(name)
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    reason = "tests build fixtures at fixed offsets; a panic there is a failed test"
)]
mod tests {
    use object::write::{Object, SectionId};
    use object::{Architecture, BinaryFormat, SectionFlags, SectionKind};

    use super::*;
    use crate::extract::test_util::{
        assert_mutations_do_not_panic, assert_truncations_fail, locate_both,
        single_image_with_payload, PAYLOAD,
    };

    fn object(architecture: Architecture, endian: Endianness) -> Object<'static> {
        let mut obj = Object::new(BinaryFormat::Elf, architecture, endian);
        let text = obj.add_section(Vec::new(), b".text".to_vec(), SectionKind::Text);
        obj.append_section_data(text, &[0x90; 16], 16);
        obj
    }

    fn add(obj: &mut Object<'static>, name: &str, kind: SectionKind, data: &[u8]) -> SectionId {
        let id = obj.add_section(Vec::new(), name.as_bytes().to_vec(), kind);
        obj.append_section_data(id, data, 1);
        id
    }

    fn with_section(architecture: Architecture, endian: Endianness, name: &str) -> Vec<u8> {
        let mut obj = object(architecture, endian);
        add(&mut obj, name, SectionKind::Other, PAYLOAD);
        obj.write().expect("write ELF")
    }

    /// A note in the byte order of the file.
    fn note(endian: Endianness, name: &[u8], n_type: u32, desc: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let word = |out: &mut Vec<u8>, value: u32| {
            out.extend_from_slice(&if endian == Endianness::Big {
                value.to_be_bytes()
            } else {
                value.to_le_bytes()
            });
        };
        word(&mut out, name.len() as u32);
        word(&mut out, desc.len() as u32);
        word(&mut out, n_type);
        out.extend_from_slice(name);
        out.resize(out.len().next_multiple_of(4), 0);
        out.extend_from_slice(desc);
        out.resize(out.len().next_multiple_of(4), 0);
        out
    }

    #[test]
    fn every_class_and_byte_order() {
        let cases = [
            (Architecture::X86_64, Endianness::Little, "x86_64", 64),
            (Architecture::I386, Endianness::Little, "x86", 32),
            (Architecture::Aarch64, Endianness::Little, "aarch64", 64),
            (Architecture::Arm, Endianness::Little, "arm", 32),
            (Architecture::S390x, Endianness::Big, "s390x", 64),
            (Architecture::Mips, Endianness::Big, "mips", 32),
            (Architecture::Mips, Endianness::Little, "mips", 32),
            (Architecture::Mips64, Endianness::Big, "mips64", 64),
            (Architecture::Mips64, Endianness::Little, "mips64", 64),
            (Architecture::PowerPc, Endianness::Big, "powerpc", 32),
            (Architecture::PowerPc64, Endianness::Big, "powerpc64", 64),
            (Architecture::PowerPc64, Endianness::Little, "powerpc64", 64),
            (Architecture::Riscv32, Endianness::Little, "riscv32", 32),
            (Architecture::Riscv64, Endianness::Little, "riscv64", 64),
            (
                Architecture::LoongArch64,
                Endianness::Little,
                "loongarch64",
                64,
            ),
            (Architecture::Sparc64, Endianness::Big, "sparc64", 64),
            (Architecture::X86_64_X32, Endianness::Little, "x86_64", 32),
        ];
        for (architecture, endian, arch, bits) in cases {
            let data = with_section(architecture, endian, SECTION_NAME);
            let located = single_image_with_payload(&data, SECTION_NAME);
            assert_eq!(located.format, ContainerFormat::Elf);
            let image = &located.images[0];
            assert_eq!(image.arch.as_str(), arch, "{architecture:?}");
            assert_eq!(image.bits, bits, "{architecture:?}");
            let expected = if endian == Endianness::Big {
                Endian::Big
            } else {
                Endian::Little
            };
            assert_eq!(image.endian, expected, "{architecture:?}");
            assert_eq!(image.kind, FileKind::Relocatable);
            assert_eq!(image.os, None, "a plain SYSV object declares no OS");
        }
    }

    #[test]
    fn legacy_name_is_found() {
        let data = with_section(
            Architecture::X86_64,
            Endianness::Little,
            LEGACY_SECTION_NAME,
        );
        let located = single_image_with_payload(&data, LEGACY_SECTION_NAME);
        assert!(located.images[0].section.expect("section").is_legacy());
    }

    #[test]
    fn current_name_wins_over_legacy() {
        let mut obj = object(Architecture::X86_64, Endianness::Little);
        add(&mut obj, LEGACY_SECTION_NAME, SectionKind::Other, b"old");
        add(&mut obj, SECTION_NAME, SectionKind::Other, PAYLOAD);
        let data = obj.write().expect("write");
        single_image_with_payload(&data, SECTION_NAME);
    }

    #[test]
    fn no_section_is_none() {
        let obj = object(Architecture::Aarch64, Endianness::Little);
        let data = obj.write().expect("write");
        let located = locate_both(&data).expect("locate");
        assert_eq!(located.images[0].section, None);
    }

    #[test]
    fn duplicate_sections_are_malformed() {
        let mut obj = object(Architecture::X86_64, Endianness::Little);
        add(&mut obj, SECTION_NAME, SectionKind::Other, PAYLOAD);
        add(&mut obj, SECTION_NAME, SectionKind::Other, PAYLOAD);
        let data = obj.write().expect("write");
        let error = locate_both(&data).expect_err("two sections");
        assert!(
            error.to_string().contains("more than one `.dep-v0`"),
            "{error}"
        );
    }

    #[test]
    fn nobits_section_is_malformed() {
        let mut obj = object(Architecture::X86_64, Endianness::Little);
        let id = obj.add_section(
            Vec::new(),
            SECTION_NAME.as_bytes().to_vec(),
            SectionKind::UninitializedData,
        );
        obj.append_section_bss(id, 64, 1);
        let data = obj.write().expect("write");
        let error = locate_both(&data).expect_err("NOBITS");
        assert!(matches!(error, ExtractError::Malformed { .. }));
        assert!(error.to_string().contains("SHT_NOBITS"), "{error}");
    }

    /// Offsets of the ELF header fields patched below: (e_type, e_shoff, e_shnum, e_shstrndx).
    fn header_fields(data: &[u8]) -> (usize, u64, usize, usize) {
        let is_64 = data[4] == 2;
        let big = data[5] == 2;
        let read = |at: usize, size: usize| -> u64 {
            let bytes = &data[at..at + size];
            bytes.iter().enumerate().fold(0, |acc, (i, &b)| {
                let shift = if big { (size - 1 - i) * 8 } else { i * 8 };
                acc | (u64::from(b) << shift)
            })
        };
        if is_64 {
            (0x10, read(0x28, 8), 0x3c, 0x3e)
        } else {
            (0x10, read(0x20, 4), 0x30, 0x32)
        }
    }

    fn write_uint(data: &mut [u8], at: usize, size: usize, value: u64) {
        let big = data[5] == 2;
        for i in 0..size {
            let shift = if big { (size - 1 - i) * 8 } else { i * 8 };
            data[at + i] = (value >> shift) as u8;
        }
    }

    /// Moves `e_shnum` and `e_shstrndx` into section 0, as extended numbering does.
    fn use_extended_numbering(data: &mut [u8]) {
        let is_64 = data[4] == 2;
        let (_, shoff, shnum_at, shstrndx_at) = header_fields(data);
        let shoff = shoff as usize;
        let big = data[5] == 2;
        let read16 = |at: usize| {
            let b = [data[at], data[at + 1]];
            u64::from(if big {
                u16::from_be_bytes(b)
            } else {
                u16::from_le_bytes(b)
            })
        };
        let shnum = read16(shnum_at);
        let shstrndx = read16(shstrndx_at);
        let (size_at, size_len, link_at) = if is_64 {
            (shoff + 0x20, 8, shoff + 0x28)
        } else {
            (shoff + 0x14, 4, shoff + 0x18)
        };
        write_uint(data, size_at, size_len, shnum);
        write_uint(data, link_at, 4, shstrndx);
        write_uint(data, shnum_at, 2, 0);
        write_uint(data, shstrndx_at, 2, u64::from(elf::SHN_XINDEX.0));
    }

    #[test]
    fn extended_section_numbering() {
        for (architecture, endian) in [
            (Architecture::X86_64, Endianness::Little),
            (Architecture::S390x, Endianness::Big),
            (Architecture::I386, Endianness::Little),
            (Architecture::Mips, Endianness::Big),
        ] {
            let mut data = with_section(architecture, endian, SECTION_NAME);
            use_extended_numbering(&mut data);
            single_image_with_payload(&data, SECTION_NAME);
        }
    }

    #[test]
    fn extended_numbering_written_by_object() {
        // More than SHN_LORESERVE (0xff00) sections: the writer itself uses extended numbering.
        let mut obj = object(Architecture::X86_64, Endianness::Little);
        for _ in 0..0xff10 {
            add(&mut obj, ".data.x", SectionKind::Data, &[1]);
        }
        add(&mut obj, SECTION_NAME, SectionKind::Other, PAYLOAD);
        let data = obj.write().expect("write");
        let (_, _, shnum_at, _) = header_fields(&data);
        assert_eq!(
            &data[shnum_at..shnum_at + 2],
            &[0, 0],
            "e_shnum is extended"
        );
        single_image_with_payload(&data, SECTION_NAME);
    }

    #[test]
    fn extended_count_past_the_limit_is_refused() {
        let mut data = with_section(Architecture::X86_64, Endianness::Little, SECTION_NAME);
        use_extended_numbering(&mut data);
        let (_, shoff, _, _) = header_fields(&data);
        write_uint(
            &mut data,
            shoff as usize + 0x20,
            8,
            u64::from(MAX_SECTIONS) + 1,
        );
        let error = locate_both(&data).expect_err("too many sections");
        assert!(
            matches!(error, ExtractError::LimitExceeded { .. }),
            "{error}"
        );
        // A count under the limit that does not fit the file is truncation, read nothing.
        write_uint(&mut data, shoff as usize + 0x20, 8, u64::from(MAX_SECTIONS));
        let error = locate_both(&data).expect_err("table past the end");
        assert!(matches!(error, ExtractError::Truncated { .. }), "{error}");
    }

    #[test]
    fn no_section_name_table_means_no_section() {
        let mut data = with_section(Architecture::X86_64, Endianness::Little, SECTION_NAME);
        let (_, _, _, shstrndx_at) = header_fields(&data);
        write_uint(&mut data, shstrndx_at, 2, 0);
        let located = locate_both(&data).expect("locate");
        assert_eq!(located.images[0].section, None);
        // An index past the table is an error.
        write_uint(&mut data, shstrndx_at, 2, 0xfe00);
        let error = locate_both(&data).expect_err("bad index");
        assert!(
            error.to_string().contains("section name table index"),
            "{error}"
        );
    }

    #[test]
    fn interp_section_makes_et_dyn_an_executable() {
        let mut obj = object(Architecture::X86_64, Endianness::Little);
        add(
            &mut obj,
            ".interp",
            SectionKind::ReadOnlyData,
            b"/lib64/ld-linux-x86-64.so.2\0",
        );
        let mut data = obj.write().expect("write");
        let (e_type, ..) = header_fields(&data);
        write_uint(&mut data, e_type, 2, elf::ET_DYN.0.into());
        let located = locate_both(&data).expect("locate");
        assert_eq!(located.images[0].kind, FileKind::Executable);
    }

    #[test]
    fn file_kinds_from_e_type() {
        let data = with_section(Architecture::X86_64, Endianness::Little, SECTION_NAME);
        let (e_type, ..) = header_fields(&data);
        for (value, kind) in [
            (elf::ET_EXEC, FileKind::Executable),
            // ET_DYN without interpreter or DF_1_PIE: a shared library.
            (elf::ET_DYN, FileKind::SharedLibrary),
            (elf::ET_CORE, FileKind::Other),
        ] {
            let mut data = data.clone();
            write_uint(&mut data, e_type, 2, value.0.into());
            let located = locate_both(&data).expect("locate");
            assert_eq!(located.images[0].kind, kind);
        }
    }

    #[test]
    fn pie_executable_from_df_1_pie() {
        let mut obj = object(Architecture::X86_64, Endianness::Little);
        let mut dynamic = Vec::new();
        for (tag, value) in [(0x6fff_fffb_u64, 0x0800_0001_u64), (0, 0)] {
            dynamic.extend_from_slice(&tag.to_le_bytes());
            dynamic.extend_from_slice(&value.to_le_bytes());
        }
        let id = add(&mut obj, ".dynamic", SectionKind::Data, &dynamic);
        obj.section_mut(id).flags = SectionFlags::Elf {
            sh_type: elf::SHT_DYNAMIC,
            sh_flags: elf::SHF_ALLOC | elf::SHF_WRITE,
        };
        add(&mut obj, SECTION_NAME, SectionKind::Other, PAYLOAD);
        let mut data = obj.write().expect("write");
        let (e_type, ..) = header_fields(&data);
        write_uint(&mut data, e_type, 2, elf::ET_DYN.0.into());
        let located = single_image_with_payload(&data, SECTION_NAME);
        assert_eq!(located.images[0].kind, FileKind::Executable);
    }

    #[test]
    fn os_from_os_abi() {
        for (os_abi, os) in [
            (elf::ELFOSABI_GNU, Some(Os::Linux)),
            (elf::ELFOSABI_FREEBSD, Some(Os::FreeBsd)),
            (elf::ELFOSABI_NETBSD, Some(Os::NetBsd)),
            (elf::ELFOSABI_OPENBSD, Some(Os::OpenBsd)),
            (elf::ELFOSABI_SOLARIS, Some(Os::Solaris)),
            (elf::ELFOSABI_SYSV, None),
            (elf::ELFOSABI_ARM_AEABI, None),
        ] {
            let mut obj = object(Architecture::X86_64, Endianness::Little);
            obj.flags = object::FileFlags::Elf {
                os_abi,
                abi_version: 0,
                e_flags: elf::FileFlags(0),
            };
            add(&mut obj, SECTION_NAME, SectionKind::Other, PAYLOAD);
            let data = obj.write().expect("write");
            let located = single_image_with_payload(&data, SECTION_NAME);
            assert_eq!(located.images[0].os, os, "{os_abi:?}");
        }
    }

    #[test]
    fn os_from_notes_and_interpreter() {
        let big = Endianness::Big;
        let little = Endianness::Little;
        let cases: [(Endianness, &str, Vec<u8>, Option<Os>); 8] = [
            (
                little,
                ".note.ABI-tag",
                note(
                    little,
                    b"GNU\0",
                    1,
                    &[0, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0],
                ),
                Some(Os::Linux),
            ),
            (
                big,
                ".note.ABI-tag",
                note(
                    big,
                    b"GNU\0",
                    1,
                    &[0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 0],
                ),
                Some(Os::Linux),
            ),
            (
                little,
                ".note.ABI-tag",
                note(
                    little,
                    b"GNU\0",
                    1,
                    &[3, 0, 0, 0, 13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                ),
                Some(Os::FreeBsd),
            ),
            (
                little,
                ".note.android.ident",
                note(little, b"Android\0", 1, &[30, 0, 0, 0]),
                Some(Os::Android),
            ),
            (
                little,
                ".note.netbsd.ident",
                note(little, b"NetBSD\0", 1, &[0, 0, 0, 0]),
                Some(Os::NetBsd),
            ),
            (
                little,
                ".note.openbsd.ident",
                note(little, b"OpenBSD\0", 1, &[0, 0, 0, 0]),
                Some(Os::OpenBsd),
            ),
            (
                little,
                ".interp",
                b"/system/bin/linker64\0".to_vec(),
                Some(Os::Android),
            ),
            (
                little,
                ".interp",
                b"/lib/ld-musl-x86_64.so.1\0".to_vec(),
                Some(Os::Linux),
            ),
        ];
        for (endian, name, bytes, os) in cases {
            let architecture = if endian == big {
                Architecture::S390x
            } else {
                Architecture::X86_64
            };
            let mut obj = object(architecture, endian);
            let kind = if name == ".interp" {
                SectionKind::ReadOnlyData
            } else {
                SectionKind::Note
            };
            add(&mut obj, name, kind, &bytes);
            add(&mut obj, SECTION_NAME, SectionKind::Other, PAYLOAD);
            let data = obj.write().expect("write");
            let located = single_image_with_payload(&data, SECTION_NAME);
            assert_eq!(located.images[0].os, os, "{name}");
        }
    }

    #[test]
    fn unrelated_interpreter_declares_nothing() {
        let mut obj = object(Architecture::X86_64, Endianness::Little);
        add(
            &mut obj,
            ".interp",
            SectionKind::ReadOnlyData,
            b"/lib64/ld-linux-x86-64.so.2\0",
        );
        let data = obj.write().expect("write");
        let located = locate_both(&data).expect("locate");
        assert_eq!(located.images[0].os, None);
    }

    #[test]
    fn section_past_the_end_is_malformed() {
        let data = with_section(Architecture::X86_64, Endianness::Little, SECTION_NAME);
        let located = locate_both(&data).expect("locate");
        let section = located.images[0].section.expect("section");
        // Find the section header by its offset field and push the offset past the end.
        let mut patched = data.clone();
        let needle = section.offset.to_le_bytes();
        let (_, shoff, _, _) = header_fields(&data);
        let headers = &data[shoff as usize..];
        let at = headers
            .chunks(64)
            .position(|h| h[0x18..0x20] == needle && h[0x20..0x28] == section.size.to_le_bytes())
            .expect("section header");
        let field = shoff as usize + at * 64 + 0x18;
        write_uint(&mut patched, field, 8, data.len() as u64 - 4);
        let error = locate_both(&patched).expect_err("past the end");
        assert!(
            error.to_string().contains("extends past the end"),
            "{error}"
        );
        write_uint(&mut patched, field, 8, u64::MAX - 2);
        let error = locate_both(&patched).expect_err("overflowing offset");
        assert!(matches!(error, ExtractError::Malformed { .. }), "{error}");
    }

    #[test]
    fn truncated_files_are_errors() {
        for (architecture, endian) in [
            (Architecture::X86_64, Endianness::Little),
            (Architecture::S390x, Endianness::Big),
            (Architecture::I386, Endianness::Little),
            (Architecture::Mips, Endianness::Big),
        ] {
            let data = with_section(architecture, endian, SECTION_NAME);
            // The section header table is at the end: every shorter prefix is an error.
            assert_truncations_fail(&data, data.len());
        }
    }

    #[test]
    fn mutated_headers_do_not_panic() {
        let data = with_section(Architecture::X86_64, Endianness::Little, SECTION_NAME);
        assert_mutations_do_not_panic(&data);
        let data = with_section(Architecture::Mips, Endianness::Big, SECTION_NAME);
        assert_mutations_do_not_panic(&data);
    }

    #[test]
    fn bad_identification_bytes() {
        let data = with_section(Architecture::X86_64, Endianness::Little, SECTION_NAME);
        for (at, value, message) in [
            (4, 3, "unknown ELF class"),
            (5, 0, "unknown data encoding"),
            (6, 2, "unsupported ELF version"),
        ] {
            let mut patched = data.clone();
            patched[at] = value;
            let error = locate_both(&patched).expect_err("bad ident");
            assert!(error.to_string().contains(message), "{error}");
        }
    }
}
