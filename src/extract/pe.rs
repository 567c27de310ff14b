//! PE images (PE32 and PE32+: `.exe`, `.dll`, `.pyd`, `.node`, ...) and COFF object files
//! (including the "bigobj" variant).
//!
//! `object` reads the DOS header, the NT headers (checking the signature, the optional header
//! magic and size), the COFF file header, the section table and long section names (`/123`,
//! resolved through the COFF string table); the bounds checks before those reads, the string
//! table location (computed without reading the symbol table), the caps and the section ranges
//! are ours.
//!
//! # Section range
//! In a PE image the raw data is padded to `FileAlignment`, so the section's bytes are
//! `min(VirtualSize, SizeOfRawData)` from `PointerToRawData` (just `SizeOfRawData` when
//! `VirtualSize` is 0). In an object file `VirtualSize` is reserved (zero), so the range is
//! `SizeOfRawData`.
//!
//! # Recognition
//! An `MZ` file whose `e_lfanew` points at anything but `PE\0\0` (a DOS, NE or LE program) is
//! [`ExtractError::NotExecutable`]. COFF objects have no magic: they are recognised by the
//! machine field, for the machines Rust's Windows targets use (x86, x86_64, ARM, AArch64,
//! ARM64EC), whose encodings never start a text file.
//!
//! # OS
//! A PE image is Windows, or UEFI when its subsystem is one of the EFI ones. A COFF object
//! declares no OS (`None`): the format is used for Windows and UEFI alike.

use object::pe;
use object::read::coff::{CoffHeader, SectionTable};
use object::read::pe::{ImageNtHeaders, ImageOptionalHeader};
use object::read::StringTable;
use object::{LittleEndian as LE, ReadRef, U32};

use super::read::{
    data_len, ensure_in_bounds, ensure_section_in_file, malformed, object_error, pod_at,
    size_of_u64,
};
use super::SectionLocation;
use super::{Arch, ContainerFormat, Endian, ExtractError, FileKind, Image, Located, Os};

/// The section name.
pub const SECTION_NAME: &str = ".dep-v0";
/// The name written before mid-2022.
pub const LEGACY_SECTION_NAME: &str = "rdep-v0";
/// Most sections read from a bigobj COFF file (a regular one has at most 65535).
pub const MAX_SECTIONS: u32 = 1 << 20;

const PE: ContainerFormat = ContainerFormat::Pe;
/// `PE\0\0` (4 bytes) and the COFF file header (20 bytes) precede the optional header.
const SIGNATURE_AND_FILE_HEADER_SIZE: u64 = 24;
const COFF: ContainerFormat = ContainerFormat::Coff;

/// The machines recognised as COFF objects.
const COFF_MACHINES: [pe::Machine; 8] = [
    pe::IMAGE_FILE_MACHINE_I386,
    pe::IMAGE_FILE_MACHINE_AMD64,
    pe::IMAGE_FILE_MACHINE_ARM,
    pe::IMAGE_FILE_MACHINE_THUMB,
    pe::IMAGE_FILE_MACHINE_ARMNT,
    pe::IMAGE_FILE_MACHINE_ARM64,
    pe::IMAGE_FILE_MACHINE_ARM64EC,
    pe::IMAGE_FILE_MACHINE_ARM64X,
];

/// Recognises a PE image (`MZ`) or a COFF object from its first bytes.
pub(crate) fn sniff(head: &[u8]) -> Option<ContainerFormat> {
    if head.starts_with(b"MZ") {
        return Some(PE);
    }
    let word = |at: usize| -> Option<u16> {
        let end = at.checked_add(2)?;
        Some(u16::from_le_bytes(head.get(at..end)?.try_into().ok()?))
    };
    let machine = word(0)?;
    if is_coff_machine(machine) {
        return Some(COFF);
    }
    if is_bigobj_head(head) {
        return Some(COFF);
    }
    None
}

fn is_coff_machine(machine: u16) -> bool {
    COFF_MACHINES.contains(&pe::Machine(machine))
}

/// The start of a bigobj header: `0`, `0xFFFF`, version ≥ 2, a known machine, and (if the
/// bytes are there) the start of the bigobj class id.
fn is_bigobj_head(head: &[u8]) -> bool {
    let word = |at: usize| -> Option<u16> {
        let end = at.checked_add(2)?;
        Some(u16::from_le_bytes(head.get(at..end)?.try_into().ok()?))
    };
    let fixed = word(0) == Some(0)
        && word(2) == Some(0xffff)
        && word(4).is_some_and(|version| version >= 2)
        && word(6).is_some_and(is_coff_machine);
    let class_id = &pe::ANON_OBJECT_HEADER_BIGOBJ_CLASS_ID.0;
    let class_id_start = match (head.get(12..16), class_id.get(..4)) {
        (Some(found), Some(expected)) => found == expected,
        _ => true,
    };
    fixed && class_id_start
}

/// Reads the PE image or COFF object `data` and finds its section.
pub fn locate<'data, R: ReadRef<'data>>(data: R) -> Result<Located, ExtractError> {
    let len = data_len(data)?;
    let head = data
        .read_bytes_at(0, len.min(16))
        .map_err(|()| ExtractError::Read {
            what: "first bytes of the file",
        })?;
    if head.starts_with(b"MZ") {
        return Ok(Located {
            format: PE,
            images: vec![image(data, len)?],
        });
    }
    let image = if is_bigobj_head(head) {
        object_file::<pe::AnonObjectHeaderBigobj, R>(data, len)?
    } else if head
        .get(..2)
        .and_then(|b| <[u8; 2]>::try_from(b).ok())
        .is_some_and(|b| is_coff_machine(u16::from_le_bytes(b)))
    {
        object_file::<pe::ImageFileHeader, R>(data, len)?
    } else {
        return Err(ExtractError::NotExecutable);
    };
    Ok(Located {
        format: COFF,
        images: vec![image],
    })
}

/// A PE image: DOS header, `PE\0\0`, then 32 or 64-bit NT headers.
fn image<'data, R: ReadRef<'data>>(data: R, len: u64) -> Result<Image, ExtractError> {
    let dos: &pe::ImageDosHeader = pod_at(data, len, 0, PE, "DOS header")?;
    let nt_offset = u64::from(dos.nt_headers_offset());
    let signature: &U32<LE> = pod_at(data, len, nt_offset, PE, "PE signature")?;
    if signature.get(LE) != pe::IMAGE_NT_SIGNATURE {
        // A DOS, NE, LE or LX program.
        return Err(ExtractError::NotExecutable);
    }
    let magic_offset = nt_offset
        .checked_add(SIGNATURE_AND_FILE_HEADER_SIZE)
        .ok_or_else(|| malformed(PE, "NT headers offset overflows"))?;
    let magic = pod_at::<object::U16<LE>, R>(data, len, magic_offset, PE, "optional header")?;
    match magic.get(LE) {
        pe::IMAGE_NT_OPTIONAL_HDR32_MAGIC => {
            nt_image::<pe::ImageNtHeaders32, R>(data, len, nt_offset)
        }
        pe::IMAGE_NT_OPTIONAL_HDR64_MAGIC => {
            nt_image::<pe::ImageNtHeaders64, R>(data, len, nt_offset)
        }
        other => Err(malformed(
            PE,
            format!("unknown optional header magic {other:#x} (neither PE32 nor PE32+)"),
        )),
    }
}

fn nt_image<'data, Pe: ImageNtHeaders, R: ReadRef<'data>>(
    data: R,
    len: u64,
    nt_offset: u64,
) -> Result<Image, ExtractError> {
    let nt: &Pe = pod_at(data, len, nt_offset, PE, "NT headers")?;
    let file_header = nt.file_header();
    let optional_end = nt_offset
        .checked_add(SIGNATURE_AND_FILE_HEADER_SIZE)
        .and_then(|o| o.checked_add(file_header.size_of_optional_header.get(LE).into()))
        .ok_or_else(|| malformed(PE, "NT headers offset overflows"))?;
    ensure_in_bounds(len, 0, optional_end, PE, "optional header")?;
    let mut offset = nt_offset;
    let (nt, _) = Pe::parse(data, &mut offset).map_err(|e| object_error(PE, e))?;
    let count = u32::from(file_header.number_of_sections.get(LE));
    let sections = section_table(nt.file_header(), data, len, offset, count, PE)?;
    let section = find_section(
        data,
        len,
        PE,
        &sections,
        symbol_table(nt.file_header()),
        size_of_u64::<pe::ImageSymbolBytes>(),
        true,
    )?;

    let machine = file_header.machine.get(LE);
    let characteristics = file_header.characteristics.get(LE);
    let subsystem = nt.optional_header().subsystem();
    let os = match subsystem {
        pe::IMAGE_SUBSYSTEM_EFI_APPLICATION
        | pe::IMAGE_SUBSYSTEM_EFI_BOOT_SERVICE_DRIVER
        | pe::IMAGE_SUBSYSTEM_EFI_RUNTIME_DRIVER
        | pe::IMAGE_SUBSYSTEM_EFI_ROM => Os::Uefi,
        _ => Os::Windows,
    };
    Ok(Image {
        arch: arch(machine),
        bits: if nt.is_type_64() { 64 } else { 32 },
        endian: Endian::Little,
        kind: if characteristics.contains(pe::IMAGE_FILE_DLL) {
            FileKind::SharedLibrary
        } else {
            FileKind::Executable
        },
        os: Some(os),
        section,
    })
}

/// A COFF object file (regular or bigobj).
fn object_file<'data, Coff: CoffHeader, R: ReadRef<'data>>(
    data: R,
    len: u64,
) -> Result<Image, ExtractError> {
    ensure_in_bounds(len, 0, size_of_u64::<Coff>(), COFF, "file header")?;
    let mut offset = 0;
    let header = Coff::parse(data, &mut offset).map_err(|e| object_error(COFF, e))?;
    let count = header.number_of_sections();
    let sections = section_table(header, data, len, offset, count, COFF)?;
    let section = find_section(
        data,
        len,
        COFF,
        &sections,
        symbol_table(header),
        size_of_u64::<Coff::SymbolBytes>(),
        false,
    )?;
    let machine = header.machine();
    Ok(Image {
        arch: arch(machine),
        bits: machine_bits(machine),
        endian: Endian::Little,
        kind: FileKind::Relocatable,
        os: None,
        section,
    })
}

/// The section table, checked against the file and capped before `object` reads it.
fn section_table<'data, Coff: CoffHeader, R: ReadRef<'data>>(
    header: &Coff,
    data: R,
    len: u64,
    offset: u64,
    count: u32,
    format: ContainerFormat,
) -> Result<SectionTable<'data>, ExtractError> {
    if count > MAX_SECTIONS {
        return Err(ExtractError::LimitExceeded {
            format,
            what: "the number of sections",
            value: count.into(),
            limit: MAX_SECTIONS.into(),
        });
    }
    let size = u64::from(count).saturating_mul(size_of_u64::<pe::ImageSectionHeader>());
    ensure_in_bounds(len, offset, size, format, "section table")?;
    header
        .sections(data, offset)
        .map_err(|e| object_error(format, e))
}

/// Where the COFF symbol table starts and how many entries it has (`None` if there is none).
fn symbol_table<Coff: CoffHeader>(header: &Coff) -> Option<(u64, u64)> {
    let offset = header.pointer_to_symbol_table();
    (offset != 0).then(|| (offset.into(), header.number_of_symbols().into()))
}

/// The COFF string table, which follows the symbol table and starts with its own length.
fn string_table<'data, R: ReadRef<'data>>(
    data: R,
    len: u64,
    format: ContainerFormat,
    symbols: Option<(u64, u64)>,
    symbol_size: u64,
) -> Result<StringTable<'data, R>, ExtractError> {
    let Some((offset, count)) = symbols else {
        return Err(malformed(
            format,
            "a section has a long name (`/N`) but the file has no COFF string table",
        ));
    };
    let start = count
        .checked_mul(symbol_size)
        .and_then(|size| offset.checked_add(size))
        .ok_or_else(|| malformed(format, "the COFF symbol table size overflows"))?;
    let length: &U32<LE> = pod_at(data, len, start, format, "COFF string table")?;
    let length = u64::from(length.get(LE));
    ensure_in_bounds(len, start, length, format, "COFF string table")?;
    let end = start.saturating_add(length);
    Ok(StringTable::new(data, start, end))
}

/// Finds `.dep-v0` (else `rdep-v0`) and returns its byte range.
fn find_section<'data, R: ReadRef<'data>>(
    data: R,
    len: u64,
    format: ContainerFormat,
    sections: &SectionTable<'data>,
    symbols: Option<(u64, u64)>,
    symbol_size: u64,
    is_image: bool,
) -> Result<Option<SectionLocation>, ExtractError> {
    let mut strings = None;
    let mut current = None;
    let mut legacy = None;
    for (index, section) in sections.enumerate() {
        let name = match section.name_offset() {
            Ok(None) => section.raw_name(),
            Ok(Some(_)) => {
                let table = match strings {
                    Some(table) => table,
                    None => *strings.insert(string_table(data, len, format, symbols, symbol_size)?),
                };
                section.name(table).map_err(|_| {
                    malformed(
                        format,
                        format!(
                            "section {}: long name `{}` is outside the COFF string table",
                            index.0,
                            String::from_utf8_lossy(section.raw_name())
                        ),
                    )
                })?
            }
            Err(e) => return Err(object_error(format, e)),
        };
        let (slot, found_name) = if name == SECTION_NAME.as_bytes() {
            (&mut current, SECTION_NAME)
        } else if name == LEGACY_SECTION_NAME.as_bytes() {
            (&mut legacy, LEGACY_SECTION_NAME)
        } else {
            continue;
        };
        if let Some((first, _, _)) = slot {
            return Err(malformed(
                format,
                format!(
                    "more than one `{found_name}` section (sections {first} and {})",
                    index.0
                ),
            ));
        }
        *slot = Some((index.0, section, found_name));
    }

    let Some((index, section, name)) = current.or(legacy) else {
        return Ok(None);
    };
    let offset = u64::from(section.pointer_to_raw_data.get(LE));
    let raw_size = section.size_of_raw_data.get(LE);
    let virtual_size = section.virtual_size.get(LE);
    let size = if is_image && virtual_size != 0 {
        if raw_size == 0 {
            return Err(malformed(
                format,
                format!(
                    "section `{name}` (section {index}) is uninitialized data: it has no bytes in \
                     the file"
                ),
            ));
        }
        virtual_size.min(raw_size)
    } else {
        raw_size
    };
    let size = u64::from(size);
    ensure_section_in_file(format, name, offset, size, len)?;
    Ok(Some(SectionLocation { name, offset, size }))
}

/// The `target_arch` for a COFF machine.
fn arch(machine: pe::Machine) -> Arch {
    Arch::known(match machine {
        pe::IMAGE_FILE_MACHINE_I386 => "x86",
        pe::IMAGE_FILE_MACHINE_AMD64 => "x86_64",
        pe::IMAGE_FILE_MACHINE_ARM
        | pe::IMAGE_FILE_MACHINE_THUMB
        | pe::IMAGE_FILE_MACHINE_ARMNT => "arm",
        pe::IMAGE_FILE_MACHINE_ARM64 | pe::IMAGE_FILE_MACHINE_ARM64X => "aarch64",
        pe::IMAGE_FILE_MACHINE_ARM64EC => "arm64ec",
        pe::IMAGE_FILE_MACHINE_RISCV32 => "riscv32",
        pe::IMAGE_FILE_MACHINE_RISCV64 => "riscv64",
        other => return Arch::unknown(other.0.into()),
    })
}

/// Pointer width of a COFF object's machine (objects have no optional header to say).
fn machine_bits(machine: pe::Machine) -> u8 {
    match machine {
        pe::IMAGE_FILE_MACHINE_AMD64
        | pe::IMAGE_FILE_MACHINE_ARM64
        | pe::IMAGE_FILE_MACHINE_ARM64EC
        | pe::IMAGE_FILE_MACHINE_ARM64X => 64,
        _ => 32,
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
    use object::write::pe::{NtHeaders, Writer};
    use object::write::Object;
    use object::{Architecture, BinaryFormat, Endianness, SectionKind};

    use super::*;
    use crate::extract::test_util::{
        assert_mutations_do_not_panic, assert_section, assert_truncations_fail, locate_both,
        single_image_with_payload, PAYLOAD,
    };

    struct PeFixture {
        data: Vec<u8>,
        /// Offset of the `.dep-v0` section header.
        header: usize,
    }

    /// A PE image with `.text` and a section `name` holding `payload`, its raw data padded to
    /// the 0x200 file alignment.
    fn image_with(
        is_64: bool,
        name: [u8; 8],
        payload: &[u8],
        dll: bool,
        subsystem: pe::Subsystem,
    ) -> PeFixture {
        let mut data = Vec::new();
        let mut writer = Writer::new(is_64, 0x1000, 0x200, &mut data);
        writer.reserve_dos_header_and_stub();
        writer.reserve_nt_headers(16);
        writer.reserve_section_headers(2);
        let text = writer.reserve_text_section(16);
        let dep = writer.reserve_section(
            name,
            pe::IMAGE_SCN_CNT_INITIALIZED_DATA | pe::IMAGE_SCN_MEM_READ,
            payload.len() as u32,
            payload.len() as u32,
        );
        writer.write_dos_header_and_stub().expect("DOS header");
        let header_offset = writer.nt_headers_offset() as usize;
        let mut characteristics = pe::IMAGE_FILE_EXECUTABLE_IMAGE;
        if dll {
            characteristics |= pe::IMAGE_FILE_DLL;
        }
        writer.write_nt_headers(NtHeaders {
            machine: if is_64 {
                pe::IMAGE_FILE_MACHINE_AMD64
            } else {
                pe::IMAGE_FILE_MACHINE_I386
            },
            time_date_stamp: 0,
            characteristics,
            major_linker_version: 14,
            minor_linker_version: 0,
            address_of_entry_point: text.virtual_address,
            image_base: 0x1_4000_0000,
            major_operating_system_version: 6,
            minor_operating_system_version: 0,
            major_image_version: 0,
            minor_image_version: 0,
            major_subsystem_version: 6,
            minor_subsystem_version: 0,
            subsystem,
            dll_characteristics: pe::DllFlags(0),
            size_of_stack_reserve: 0x10_0000,
            size_of_stack_commit: 0x1000,
            size_of_heap_reserve: 0x10_0000,
            size_of_heap_commit: 0x1000,
        });
        writer.write_section_headers();
        writer.write_section(text.file_offset, &[0xc3; 16]);
        writer.write_section(dep.file_offset, payload);
        // Section headers follow the signature, file header and optional header.
        let optional = if is_64 { 240 } else { 224 };
        let header = header_offset + 24 + optional + 40;
        assert_eq!(&data[header..header + 8], &name);
        PeFixture { data, header }
    }

    fn image(is_64: bool) -> PeFixture {
        image_with(
            is_64,
            *b".dep-v0\0",
            PAYLOAD,
            false,
            pe::IMAGE_SUBSYSTEM_WINDOWS_CUI,
        )
    }

    fn set_u32(data: &mut [u8], at: usize, value: u32) {
        data[at..at + 4].copy_from_slice(&value.to_le_bytes());
    }

    // Fields of a section header.
    const VIRTUAL_SIZE: usize = 8;
    const SIZE_OF_RAW_DATA: usize = 16;
    const POINTER_TO_RAW_DATA: usize = 20;

    #[test]
    fn pe32_and_pe32_plus() {
        for (is_64, arch, bits) in [(true, "x86_64", 64), (false, "x86", 32)] {
            let fixture = image(is_64);
            let located = single_image_with_payload(&fixture.data, SECTION_NAME);
            assert_eq!(located.format, ContainerFormat::Pe);
            let image = &located.images[0];
            assert_eq!(image.arch.as_str(), arch);
            assert_eq!(image.bits, bits);
            assert_eq!(image.endian, Endian::Little);
            assert_eq!(image.kind, FileKind::Executable);
            assert_eq!(image.os, Some(Os::Windows));
        }
    }

    #[test]
    fn padding_is_excluded_by_virtual_size() {
        let fixture = image(true);
        let raw = u32::from_le_bytes(
            fixture.data[fixture.header + SIZE_OF_RAW_DATA..][..4]
                .try_into()
                .expect("4"),
        );
        assert_eq!(raw, 0x200, "raw data is padded to FileAlignment");
        single_image_with_payload(&fixture.data, SECTION_NAME);
        // With VirtualSize 0, the whole raw size is the section.
        let mut data = fixture.data.clone();
        set_u32(&mut data, fixture.header + VIRTUAL_SIZE, 0);
        let located = locate_both(&data).expect("locate");
        let section = located.images[0].section.expect("section");
        assert_eq!(section.size, 0x200);
        let mut padded = PAYLOAD.to_vec();
        padded.resize(0x200, 0);
        assert_section(&data, &section, SECTION_NAME, &padded);
        // A virtual size larger than the raw data is capped by it.
        set_u32(&mut data, fixture.header + VIRTUAL_SIZE, 0x5000);
        let located = locate_both(&data).expect("locate");
        assert_eq!(located.images[0].section.expect("section").size, 0x200);
    }

    #[test]
    fn legacy_name_is_found() {
        let fixture = image_with(
            true,
            *b"rdep-v0\0",
            PAYLOAD,
            false,
            pe::IMAGE_SUBSYSTEM_WINDOWS_GUI,
        );
        single_image_with_payload(&fixture.data, LEGACY_SECTION_NAME);
    }

    #[test]
    fn dll_and_efi() {
        let fixture = image_with(
            true,
            *b".dep-v0\0",
            PAYLOAD,
            true,
            pe::IMAGE_SUBSYSTEM_WINDOWS_GUI,
        );
        let located = single_image_with_payload(&fixture.data, SECTION_NAME);
        assert_eq!(located.images[0].kind, FileKind::SharedLibrary);
        let fixture = image_with(
            true,
            *b".dep-v0\0",
            PAYLOAD,
            false,
            pe::IMAGE_SUBSYSTEM_EFI_APPLICATION,
        );
        let located = single_image_with_payload(&fixture.data, SECTION_NAME);
        assert_eq!(located.images[0].os, Some(Os::Uefi));
    }

    #[test]
    fn section_pointer_past_the_end_is_malformed() {
        let fixture = image(true);
        let mut data = fixture.data.clone();
        let near_end = data.len() as u32 - 8;
        set_u32(&mut data, fixture.header + POINTER_TO_RAW_DATA, near_end);
        let error = locate_both(&data).expect_err("past the end");
        assert!(matches!(
            error,
            ExtractError::Malformed {
                format: ContainerFormat::Pe,
                ..
            }
        ));
        assert!(
            error.to_string().contains("extends past the end"),
            "{error}"
        );
        set_u32(&mut data, fixture.header + POINTER_TO_RAW_DATA, u32::MAX);
        let error = locate_both(&data).expect_err("far past the end");
        assert!(
            error.to_string().contains("extends past the end"),
            "{error}"
        );
    }

    #[test]
    fn uninitialized_section_is_malformed() {
        let fixture = image(true);
        let mut data = fixture.data.clone();
        set_u32(&mut data, fixture.header + SIZE_OF_RAW_DATA, 0);
        let error = locate_both(&data).expect_err("no raw data");
        assert!(
            error.to_string().contains("no bytes in the file"),
            "{error}"
        );
    }

    #[test]
    fn dos_program_is_not_executable() {
        let mut data = image(false).data;
        let nt = u32::from_le_bytes(data[0x3c..0x40].try_into().expect("4")) as usize;
        data[nt..nt + 4].copy_from_slice(b"NE\0\0");
        assert!(matches!(
            locate_both(&data),
            Err(ExtractError::NotExecutable)
        ));
    }

    #[test]
    fn unknown_optional_header_magic() {
        let mut data = image(true).data;
        let nt = u32::from_le_bytes(data[0x3c..0x40].try_into().expect("4")) as usize;
        data[nt + 24..nt + 26].copy_from_slice(&0x107u16.to_le_bytes());
        let error = locate_both(&data).expect_err("ROM image");
        assert!(
            error.to_string().contains("optional header magic"),
            "{error}"
        );
    }

    #[test]
    fn truncated_images_are_errors() {
        for is_64 in [true, false] {
            let fixture = image(is_64);
            let located = locate_both(&fixture.data).expect("locate");
            let section = located.images[0].section.expect("section");
            assert_truncations_fail(&fixture.data, (section.offset + section.size) as usize);
        }
    }

    #[test]
    fn mutated_images_do_not_panic() {
        assert_mutations_do_not_panic(&image(true).data);
        assert_mutations_do_not_panic(&image(false).data);
    }

    fn coff(architecture: Architecture, name: &str) -> Vec<u8> {
        let mut obj = Object::new(BinaryFormat::Coff, architecture, Endianness::Little);
        let text = obj.add_section(Vec::new(), b".text".to_vec(), SectionKind::Text);
        obj.append_section_data(text, &[0xc3; 16], 16);
        let id = obj.add_section(
            Vec::new(),
            name.as_bytes().to_vec(),
            SectionKind::ReadOnlyData,
        );
        obj.append_section_data(id, PAYLOAD, 1);
        obj.write().expect("write COFF")
    }

    #[test]
    fn coff_objects() {
        for (architecture, arch, bits) in [
            (Architecture::X86_64, "x86_64", 64),
            (Architecture::I386, "x86", 32),
            (Architecture::Aarch64, "aarch64", 64),
            (Architecture::Arm, "arm", 32),
        ] {
            let data = coff(architecture, SECTION_NAME);
            assert_eq!(crate::extract::sniff(&data), Some(ContainerFormat::Coff));
            let located = single_image_with_payload(&data, SECTION_NAME);
            assert_eq!(located.format, ContainerFormat::Coff);
            let image = &located.images[0];
            assert_eq!(image.arch.as_str(), arch, "{architecture:?}");
            assert_eq!(image.bits, bits, "{architecture:?}");
            assert_eq!(image.kind, FileKind::Relocatable);
            assert_eq!(image.os, None);
        }
        let data = coff(Architecture::X86_64, LEGACY_SECTION_NAME);
        single_image_with_payload(&data, LEGACY_SECTION_NAME);
    }

    #[test]
    fn long_section_names_resolve_through_the_string_table() {
        // A 15-character name goes to the string table as `/N`; cutting it after 7 characters
        // there makes the long name `.dep-v0`.
        let mut data = coff(Architecture::X86_64, ".dep-v0_padding");
        let at = data
            .windows(15)
            .position(|w| w == b".dep-v0_padding")
            .expect("name in string table");
        data[at + 7] = 0;
        let located = single_image_with_payload(&data, SECTION_NAME);
        assert_eq!(
            located.images[0].section.expect("section").name,
            SECTION_NAME
        );
        // Without a symbol table there is no string table to resolve `/N` through.
        let mut data = data.clone();
        data[8..12].copy_from_slice(&0u32.to_le_bytes());
        let error = locate_both(&data).expect_err("no string table");
        assert!(
            error.to_string().contains("no COFF string table"),
            "{error}"
        );
    }

    /// A bigobj COFF file with one section.
    fn bigobj() -> Vec<u8> {
        let mut data = Vec::new();
        data.extend_from_slice(&0u16.to_le_bytes());
        data.extend_from_slice(&0xffffu16.to_le_bytes());
        data.extend_from_slice(&2u16.to_le_bytes());
        data.extend_from_slice(&pe::IMAGE_FILE_MACHINE_AMD64.0.to_le_bytes());
        data.extend_from_slice(&0u32.to_le_bytes());
        data.extend_from_slice(&pe::ANON_OBJECT_HEADER_BIGOBJ_CLASS_ID.0);
        data.extend_from_slice(&[0; 16]); // size_of_data, flags, meta_data_size, meta_data_offset
        data.extend_from_slice(&1u32.to_le_bytes()); // number_of_sections
        data.extend_from_slice(&0u32.to_le_bytes()); // pointer_to_symbol_table
        data.extend_from_slice(&0u32.to_le_bytes()); // number_of_symbols
        assert_eq!(data.len(), 56);
        let raw_offset = 56 + 40;
        data.extend_from_slice(b".dep-v0\0");
        data.extend_from_slice(&0u32.to_le_bytes()); // virtual size
        data.extend_from_slice(&0u32.to_le_bytes()); // virtual address
        data.extend_from_slice(&(PAYLOAD.len() as u32).to_le_bytes());
        data.extend_from_slice(&(raw_offset as u32).to_le_bytes());
        data.extend_from_slice(&[0; 12]);
        data.extend_from_slice(&0x4000_0040u32.to_le_bytes());
        data.extend_from_slice(PAYLOAD);
        data
    }

    #[test]
    fn bigobj_coff() {
        let data = bigobj();
        assert_eq!(crate::extract::sniff(&data), Some(ContainerFormat::Coff));
        let located = single_image_with_payload(&data, SECTION_NAME);
        assert_eq!(located.images[0].arch.as_str(), "x86_64");
        // A short import object has the same signature but version 0: not ours.
        let mut import = data.clone();
        import[4..6].copy_from_slice(&0u16.to_le_bytes());
        assert!(matches!(
            locate_both(&import),
            Err(ExtractError::NotExecutable)
        ));
    }

    #[test]
    fn truncated_objects_are_errors() {
        let data = coff(Architecture::X86_64, SECTION_NAME);
        let located = locate_both(&data).expect("locate");
        let section = located.images[0].section.expect("section");
        assert_truncations_fail(&data, (section.offset + section.size) as usize);
        assert_truncations_fail(&bigobj(), bigobj().len());
    }

    #[test]
    fn mutated_objects_do_not_panic() {
        assert_mutations_do_not_panic(&coff(Architecture::X86_64, SECTION_NAME));
        assert_mutations_do_not_panic(&coff(Architecture::X86_64, ".dep-v0_padding"));
        assert_mutations_do_not_panic(&bigobj());
    }
}
