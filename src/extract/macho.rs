//! Mach-O: thin 32 and 64-bit files of either endianness, and universal ("fat") files.
//!
//! `object` reads the headers, the universal architecture table and the load commands
//! (including the 64-bit reconstruction of section offsets in files over 4 GiB); the bounds
//! checks before those reads, the universal-file rules, the caps and the OS detection are ours.
//!
//! # Universal files
//! Every slice is its own [`Image`], parsed through a window that cannot read outside the
//! slice; the offsets reported are absolute in the whole file. A slice that starts inside the
//! universal header, extends past the end of the file, is empty or overlaps another slice is
//! an error, as is a slice whose CPU type differs from the one the universal header gives.
//! A universal static library (slices holding `!<arch>` archives) is
//! [`ExtractError::NotExecutable`], like any archive.
//!
//! `0xCAFEBABE` is shared with Java class files, which have their major version (≥ 45) where a
//! universal file has its architecture count; a count above [`FAT_JAVA_CUTOFF`] means the file
//! is not a universal file. `0xCAFEBABF` (64-bit universal) has no such clash; its count is
//! capped at [`MAX_FAT_ARCHES`].
//!
//! # OS
//! The first `LC_BUILD_VERSION` (platform) or `LC_VERSION_MIN_*` command; Mac Catalyst and the
//! simulators count as the OS they run (`ios`, `tvos`, ...). A file with neither is macOS,
//! where such commands were optional before 10.14. A platform we do not know (bridgeOS,
//! DriverKit, ...) gives `None`.

use object::macho;
use object::read::macho::{FatArch, MachHeader, MachOFatFile, Section as _, Segment};
use object::{BigEndian, Endianness, ReadRef, U32};

use super::read::{
    data_len, ensure_in_bounds, ensure_section_in_file, malformed, object_error, pod_at, range_end,
    size_of_u64, Window,
};
use super::SectionLocation;
use super::{Arch, ContainerFormat, Endian, ExtractError, FileKind, Image, Located, Os};

/// The segment and section names.
pub const SECTION: (&str, &str) = ("__DATA", ".dep-v0");
/// The segment and section names written before mid-2022.
pub const LEGACY_SECTION: (&str, &str) = ("__TEXT", "rust-deps-v0");
/// Most slices accepted in a universal file.
pub const MAX_FAT_ARCHES: u32 = 64;
/// A `0xCAFEBABE` file with more architectures than this is taken for a Java class file.
pub const FAT_JAVA_CUTOFF: u32 = 30;
/// Largest load command area read (`sizeofcmds`); real files have tens of kilobytes.
pub const MAX_LOAD_COMMANDS_SIZE: u32 = 16 << 20;

const THIN: ContainerFormat = ContainerFormat::MachO;
const FAT: ContainerFormat = ContainerFormat::MachOFat;
/// The first bytes of an `ar` archive.
const ARCHIVE_MAGIC: &[u8; 8] = b"!<arch>\n";

/// Recognises a thin or universal Mach-O file from its first bytes.
pub(crate) fn sniff(head: &[u8]) -> Option<ContainerFormat> {
    let magic = u32::from_be_bytes(head.get(..4)?.try_into().ok()?);
    match magic {
        macho::MH_MAGIC | macho::MH_CIGAM | macho::MH_MAGIC_64 | macho::MH_CIGAM_64 => Some(THIN),
        macho::FAT_MAGIC => {
            let count = u32::from_be_bytes(head.get(4..8)?.try_into().ok()?);
            (count <= FAT_JAVA_CUTOFF).then_some(FAT)
        }
        macho::FAT_MAGIC_64 => Some(FAT),
        _ => None,
    }
}

/// Reads the thin or universal Mach-O file `data` and finds the section in every image.
pub fn locate<'data, R: ReadRef<'data>>(data: R) -> Result<Located, ExtractError> {
    let len = data_len(data)?;
    let magic: &U32<BigEndian> = pod_at(data, len, 0, THIN, "magic number")?;
    match magic.get(BigEndian) {
        macho::FAT_MAGIC => fat::<macho::FatArch32, R>(data, len),
        macho::FAT_MAGIC_64 => fat::<macho::FatArch64, R>(data, len),
        macho::MH_MAGIC | macho::MH_CIGAM | macho::MH_MAGIC_64 | macho::MH_CIGAM_64 => {
            let (image, _) = thin(data, len, 0)?;
            Ok(Located {
                format: THIN,
                images: vec![image],
            })
        }
        _ => Err(ExtractError::NotExecutable),
    }
}

fn fat<'data, Fat: FatArch, R: ReadRef<'data>>(data: R, len: u64) -> Result<Located, ExtractError> {
    let header: &macho::FatHeader = pod_at(data, len, 0, FAT, "universal header")?;
    let count = header.nfat_arch.get(BigEndian);
    if Fat::MAGIC == macho::FAT_MAGIC && count > FAT_JAVA_CUTOFF {
        return Err(ExtractError::NotExecutable);
    }
    if count > MAX_FAT_ARCHES {
        return Err(ExtractError::TooManyImages {
            count,
            limit: MAX_FAT_ARCHES,
        });
    }
    if count == 0 {
        return Err(malformed(
            FAT,
            "the universal header lists no architectures",
        ));
    }
    let header_end = u64::from(count)
        .checked_mul(size_of_u64::<Fat>())
        .and_then(|size| size.checked_add(size_of_u64::<macho::FatHeader>()))
        .ok_or_else(|| malformed(FAT, "the universal header size overflows"))?;
    ensure_in_bounds(len, 0, header_end, FAT, "universal architecture table")?;
    let file = MachOFatFile::<Fat>::parse(data).map_err(|e| object_error(FAT, e))?;
    let arches = file.arches();

    // Check every slice's range before reading any of them.
    let mut ranges = Vec::with_capacity(arches.len());
    for (index, arch) in (0u32..).zip(arches) {
        let (offset, size) = arch.file_range();
        let describe = || format!("slice {index} ({})", cpu_arch(arch.cputype()));
        if offset < header_end {
            return Err(malformed(
                FAT,
                format!(
                    "{} starts at offset {offset:#x}, inside the universal header (which ends at \
                     {header_end:#x})",
                    describe()
                ),
            ));
        }
        if size == 0 {
            return Err(malformed(FAT, format!("{} is empty", describe())));
        }
        match range_end(offset, size) {
            Some(end) if end <= len => ranges.push((offset, end, index)),
            _ => {
                return Err(malformed(
                    FAT,
                    format!(
                        "{} (offset {offset:#x}, size {size:#x}) extends past the end of the file \
                         ({len:#x} bytes)",
                        describe()
                    ),
                ))
            }
        }
    }
    ranges.sort_unstable();
    for pair in ranges.windows(2) {
        if let [(_, first_end, first), (second_start, _, second)] = pair {
            if second_start < first_end {
                return Err(malformed(
                    FAT,
                    format!("slices {first} and {second} overlap"),
                ));
            }
        }
    }

    // A universal static library holds archives, not images.
    for arch in arches {
        let (offset, size) = arch.file_range();
        if size >= size_of_u64::<[u8; 8]>() {
            let head = data
                .read_bytes_at(offset, 8)
                .map_err(|()| ExtractError::Read {
                    what: "first bytes of a universal slice",
                })?;
            if head == ARCHIVE_MAGIC {
                return Err(ExtractError::NotExecutable);
            }
        }
    }

    let mut images = Vec::with_capacity(arches.len());
    for (index, arch) in (0u32..).zip(arches) {
        let (offset, size) = arch.file_range();
        let in_slice = |error| ExtractError::Slice {
            index,
            arch: cpu_arch(arch.cputype()),
            offset,
            error: Box::new(error),
        };
        let (image, cputype) =
            thin(Window::new(data, offset, size), size, offset).map_err(in_slice)?;
        if cputype != arch.cputype() {
            return Err(in_slice(malformed(
                THIN,
                format!(
                    "the image's CPU type {:#x} differs from the universal header's {:#x}",
                    cputype.0,
                    arch.cputype().0
                ),
            )));
        }
        images.push(image);
    }
    Ok(Located {
        format: FAT,
        images,
    })
}

/// Reads a thin image of `len` bytes whose first byte is at `base` in the file.
///
/// Returns the image and its CPU type (to compare with a universal header).
fn thin<'data, R: ReadRef<'data>>(
    data: R,
    len: u64,
    base: u64,
) -> Result<(Image, macho::CpuType), ExtractError> {
    let magic: &U32<BigEndian> = pod_at(data, len, 0, THIN, "magic number")?;
    match magic.get(BigEndian) {
        macho::MH_MAGIC | macho::MH_CIGAM => {
            parse::<macho::MachHeader32<Endianness>, R>(data, len, base)
        }
        macho::MH_MAGIC_64 | macho::MH_CIGAM_64 => {
            parse::<macho::MachHeader64<Endianness>, R>(data, len, base)
        }
        other => Err(malformed(
            THIN,
            format!("no Mach-O header: the magic number is {other:#010x}"),
        )),
    }
}

fn parse<'data, Mach, R>(
    data: R,
    len: u64,
    base: u64,
) -> Result<(Image, macho::CpuType), ExtractError>
where
    Mach: MachHeader<Endian = Endianness>,
    R: ReadRef<'data>,
{
    let header: &Mach = pod_at(data, len, 0, THIN, "header")?;
    let endian = header.endian().map_err(|e| object_error(THIN, e))?;
    let commands_size = header.sizeofcmds(endian);
    if commands_size > MAX_LOAD_COMMANDS_SIZE {
        return Err(ExtractError::LimitExceeded {
            format: THIN,
            what: "the size of the load commands",
            value: commands_size.into(),
            limit: MAX_LOAD_COMMANDS_SIZE.into(),
        });
    }
    ensure_in_bounds(
        len,
        size_of_u64::<Mach>(),
        commands_size.into(),
        THIN,
        "load commands",
    )?;
    let mut commands = header
        .load_commands(endian, data, 0)
        .map_err(|e| object_error(THIN, e))?;

    let mut current = None;
    let mut legacy = None;
    let mut platform: Option<Option<Os>> = None;
    while let Some(command) = commands.next().map_err(|e| object_error(THIN, e))? {
        if let Some((segment, section_data)) =
            Mach::Segment::from_command(command).map_err(|e| object_error(THIN, e))?
        {
            let sections = segment
                .sections(endian, section_data)
                .map_err(|e| object_error(THIN, e))?;
            for item in segment.section_offsets(endian, sections) {
                let (section, offset) = item.map_err(|e| object_error(THIN, e))?;
                let names = (section.segment_name(), section.name());
                let slot = if names == (SECTION.0.as_bytes(), SECTION.1.as_bytes()) {
                    &mut current
                } else if names == (LEGACY_SECTION.0.as_bytes(), LEGACY_SECTION.1.as_bytes()) {
                    &mut legacy
                } else {
                    continue;
                };
                if slot.is_some() {
                    return Err(malformed(
                        THIN,
                        format!(
                            "more than one `{},{}` section",
                            String::from_utf8_lossy(names.0),
                            String::from_utf8_lossy(names.1)
                        ),
                    ));
                }
                *slot = Some((offset, section.file_size(endian)));
            }
        }
        if platform.is_none() {
            platform = command_platform(command, endian)?;
        }
    }

    let section = match (current, legacy) {
        (Some(found), _) => Some((SECTION, found)),
        (None, Some(found)) => Some((LEGACY_SECTION, found)),
        (None, None) => None,
    };
    let section = match section {
        None => None,
        Some(((segment, name), (offset, size))) => {
            let Some(size) = size else {
                return Err(malformed(
                    THIN,
                    format!("section `{segment},{name}` is zero-fill: it has no bytes in the file"),
                ));
            };
            if offset == 0 && size != 0 {
                return Err(malformed(
                    THIN,
                    format!(
                        "section `{segment},{name}` has file offset 0: its bytes are not in the \
                         file (a dSYM companion?)"
                    ),
                ));
            }
            ensure_section_in_file(THIN, name, offset, size, len)?;
            let offset = base
                .checked_add(offset)
                .ok_or_else(|| malformed(THIN, "section offset overflows"))?;
            Some(SectionLocation { name, offset, size })
        }
    };

    let kind = match header.filetype(endian) {
        macho::MH_EXECUTE => FileKind::Executable,
        macho::MH_DYLIB | macho::MH_BUNDLE => FileKind::SharedLibrary,
        macho::MH_OBJECT => FileKind::Relocatable,
        _ => FileKind::Other,
    };
    let cputype = header.cputype(endian);
    let image = Image {
        arch: cpu_arch(cputype),
        bits: if header.is_type_64() { 64 } else { 32 },
        endian: if header.is_big_endian() {
            Endian::Big
        } else {
            Endian::Little
        },
        kind,
        os: platform.unwrap_or(Some(Os::MacOs)),
        section,
    };
    Ok((image, cputype))
}

/// The OS a load command declares: `Some(os)` for a platform command (`os` is `None` for a
/// platform we do not know), `None` for any other command.
fn command_platform(
    command: object::read::macho::LoadCommandData<'_, Endianness>,
    endian: Endianness,
) -> Result<Option<Option<Os>>, ExtractError> {
    Ok(Some(match command.cmd() {
        macho::LC_BUILD_VERSION => {
            let build: &macho::BuildVersionCommand<Endianness> =
                command.data().map_err(|e| object_error(THIN, e))?;
            match build.platform.get(endian) {
                macho::PLATFORM_MACOS => Some(Os::MacOs),
                macho::PLATFORM_IOS
                | macho::PLATFORM_MACCATALYST
                | macho::PLATFORM_IOSSIMULATOR => Some(Os::Ios),
                macho::PLATFORM_TVOS | macho::PLATFORM_TVOSSIMULATOR => Some(Os::TvOs),
                macho::PLATFORM_WATCHOS | macho::PLATFORM_WATCHOSSIMULATOR => Some(Os::WatchOs),
                macho::PLATFORM_VISIONOS | macho::PLATFORM_VISIONOSSIMULATOR => Some(Os::VisionOs),
                _ => None,
            }
        }
        macho::LC_VERSION_MIN_MACOSX => Some(Os::MacOs),
        macho::LC_VERSION_MIN_IPHONEOS => Some(Os::Ios),
        macho::LC_VERSION_MIN_TVOS => Some(Os::TvOs),
        macho::LC_VERSION_MIN_WATCHOS => Some(Os::WatchOs),
        _ => return Ok(None),
    }))
}

/// The `target_arch` for a Mach-O CPU type.
fn cpu_arch(cputype: macho::CpuType) -> Arch {
    Arch::known(match cputype {
        macho::CPU_TYPE_X86 => "x86",
        macho::CPU_TYPE_X86_64 => "x86_64",
        macho::CPU_TYPE_ARM => "arm",
        // arm64_32 (watchOS) is aarch64 with 32-bit pointers.
        macho::CPU_TYPE_ARM64 | macho::CPU_TYPE_ARM64_32 => "aarch64",
        macho::CPU_TYPE_POWERPC => "powerpc",
        macho::CPU_TYPE_POWERPC64 => "powerpc64",
        other => return Arch::unknown(other.0),
    })
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    reason = "tests build fixtures at fixed offsets; a panic there is a failed test"
)]
mod tests {
    use object::write::{MachOBuildVersion, Object};
    use object::{Architecture, BinaryFormat, SectionKind};

    use super::*;
    use crate::extract::test_util::{
        assert_mutations_do_not_panic, assert_section, assert_truncations_fail, locate_both,
        single_image_with_payload, PAYLOAD,
    };

    fn object(architecture: Architecture, endian: Endianness) -> Object<'static> {
        let mut obj = Object::new(BinaryFormat::MachO, architecture, endian);
        let text = obj.add_section(b"__TEXT".to_vec(), b"__text".to_vec(), SectionKind::Text);
        obj.append_section_data(text, &[0xc3; 16], 16);
        obj
    }

    fn thin_with(
        architecture: Architecture,
        endian: Endianness,
        (segment, name): (&str, &str),
        payload: &[u8],
    ) -> Vec<u8> {
        let mut obj = object(architecture, endian);
        let id = obj.add_section(
            segment.as_bytes().to_vec(),
            name.as_bytes().to_vec(),
            SectionKind::Data,
        );
        obj.append_section_data(id, payload, 1);
        obj.write().expect("write Mach-O")
    }

    fn thin(architecture: Architecture) -> Vec<u8> {
        thin_with(architecture, Endianness::Little, SECTION, PAYLOAD)
    }

    /// A universal file of `slices`, each aligned to 4 KiB; the CPU types are read from the
    /// (little-endian) slices.
    fn fat(slices: &[&[u8]], is_64: bool) -> Vec<u8> {
        let entry = if is_64 { 32 } else { 20 };
        let mut out = Vec::new();
        let magic = if is_64 {
            macho::FAT_MAGIC_64
        } else {
            macho::FAT_MAGIC
        };
        out.extend_from_slice(&magic.to_be_bytes());
        out.extend_from_slice(&(slices.len() as u32).to_be_bytes());
        let mut offset = 0x1000u64;
        let mut placed = Vec::new();
        for slice in slices {
            let cputype = u32::from_le_bytes(slice[4..8].try_into().unwrap_or_default());
            let subtype = u32::from_le_bytes(slice[8..12].try_into().unwrap_or_default());
            out.extend_from_slice(&cputype.to_be_bytes());
            out.extend_from_slice(&subtype.to_be_bytes());
            if is_64 {
                out.extend_from_slice(&offset.to_be_bytes());
                out.extend_from_slice(&(slice.len() as u64).to_be_bytes());
                out.extend_from_slice(&12u32.to_be_bytes());
                out.extend_from_slice(&0u32.to_be_bytes());
            } else {
                out.extend_from_slice(&(offset as u32).to_be_bytes());
                out.extend_from_slice(&(slice.len() as u32).to_be_bytes());
                out.extend_from_slice(&12u32.to_be_bytes());
            }
            placed.push(offset as usize);
            offset = (offset + slice.len() as u64).next_multiple_of(0x1000);
        }
        assert_eq!(out.len(), 8 + entry * slices.len());
        for (slice, at) in slices.iter().zip(placed) {
            out.resize(at, 0);
            out.extend_from_slice(slice);
        }
        out
    }

    /// Offset of the first fat_arch entry's `offset` and `size` fields.
    const FAT32_OFFSET: usize = 8 + 8;
    const FAT32_SIZE: usize = 8 + 12;

    #[test]
    fn thin_files() {
        for (architecture, endian, arch, bits, big) in [
            (
                Architecture::X86_64,
                Endianness::Little,
                "x86_64",
                64,
                false,
            ),
            (
                Architecture::Aarch64,
                Endianness::Little,
                "aarch64",
                64,
                false,
            ),
            (Architecture::I386, Endianness::Little, "x86", 32, false),
            (Architecture::Arm, Endianness::Little, "arm", 32, false),
            (
                Architecture::Aarch64_Ilp32,
                Endianness::Little,
                "aarch64",
                32,
                false,
            ),
            (Architecture::PowerPc, Endianness::Big, "powerpc", 32, true),
            (
                Architecture::PowerPc64,
                Endianness::Big,
                "powerpc64",
                64,
                true,
            ),
        ] {
            let data = thin_with(architecture, endian, SECTION, PAYLOAD);
            let located = single_image_with_payload(&data, ".dep-v0");
            assert_eq!(located.format, ContainerFormat::MachO);
            let image = &located.images[0];
            assert_eq!(image.arch.as_str(), arch, "{architecture:?}");
            assert_eq!(image.bits, bits, "{architecture:?}");
            assert_eq!(image.endian == Endian::Big, big, "{architecture:?}");
            assert_eq!(image.kind, FileKind::Relocatable);
            assert_eq!(image.os, Some(Os::MacOs), "no platform command means macOS");
        }
    }

    #[test]
    fn legacy_section_is_found() {
        let data = thin_with(
            Architecture::X86_64,
            Endianness::Little,
            LEGACY_SECTION,
            PAYLOAD,
        );
        single_image_with_payload(&data, "rust-deps-v0");
    }

    #[test]
    fn wrong_segment_is_not_the_section() {
        let data = thin_with(
            Architecture::X86_64,
            Endianness::Little,
            ("__TEXT", ".dep-v0"),
            PAYLOAD,
        );
        let located = locate_both(&data).expect("locate");
        assert_eq!(located.images[0].section, None);
    }

    #[test]
    fn zerofill_section_is_malformed() {
        let mut obj = object(Architecture::X86_64, Endianness::Little);
        let id = obj.add_section(
            SECTION.0.as_bytes().to_vec(),
            SECTION.1.as_bytes().to_vec(),
            SectionKind::UninitializedData,
        );
        obj.append_section_bss(id, 64, 1);
        let data = obj.write().expect("write");
        let error = locate_both(&data).expect_err("zero-fill");
        assert!(error.to_string().contains("zero-fill"), "{error}");
    }

    #[test]
    fn file_kinds_from_filetype() {
        let data = thin(Architecture::Aarch64);
        for (filetype, kind) in [
            (macho::MH_EXECUTE, FileKind::Executable),
            (macho::MH_DYLIB, FileKind::SharedLibrary),
            (macho::MH_BUNDLE, FileKind::SharedLibrary),
            (macho::MH_OBJECT, FileKind::Relocatable),
            (macho::MH_CORE, FileKind::Other),
        ] {
            let mut data = data.clone();
            data[12..16].copy_from_slice(&filetype.0.to_le_bytes());
            let located = locate_both(&data).expect("locate");
            assert_eq!(located.images[0].kind, kind);
        }
    }

    fn with_platform(platform: macho::Platform) -> Vec<u8> {
        let mut obj = object(Architecture::Aarch64, Endianness::Little);
        let mut version = MachOBuildVersion::default();
        version.platform = platform;
        version.minos = macho::Version(0x000e_0000);
        version.sdk = macho::Version(0x000e_0000);
        obj.set_macho_build_version(version);
        let id = obj.add_section(
            SECTION.0.as_bytes().to_vec(),
            SECTION.1.as_bytes().to_vec(),
            SectionKind::Data,
        );
        obj.append_section_data(id, PAYLOAD, 1);
        obj.write().expect("write")
    }

    #[test]
    fn os_from_build_version() {
        for (platform, os) in [
            (macho::PLATFORM_MACOS, Some(Os::MacOs)),
            (macho::PLATFORM_IOS, Some(Os::Ios)),
            (macho::PLATFORM_MACCATALYST, Some(Os::Ios)),
            (macho::PLATFORM_IOSSIMULATOR, Some(Os::Ios)),
            (macho::PLATFORM_TVOS, Some(Os::TvOs)),
            (macho::PLATFORM_TVOSSIMULATOR, Some(Os::TvOs)),
            (macho::PLATFORM_WATCHOS, Some(Os::WatchOs)),
            (macho::PLATFORM_WATCHOSSIMULATOR, Some(Os::WatchOs)),
            (macho::PLATFORM_VISIONOS, Some(Os::VisionOs)),
            (macho::PLATFORM_VISIONOSSIMULATOR, Some(Os::VisionOs)),
            (macho::PLATFORM_DRIVERKIT, None),
        ] {
            let data = with_platform(platform);
            let located = single_image_with_payload(&data, ".dep-v0");
            assert_eq!(located.images[0].os, os, "{platform:?}");
        }
    }

    #[test]
    fn os_from_version_min() {
        let data = with_platform(macho::PLATFORM_MACOS);
        let build_version = macho::LC_BUILD_VERSION.0.to_le_bytes();
        let at = data
            .windows(4)
            .position(|w| w == build_version)
            .expect("LC_BUILD_VERSION");
        for (cmd, os) in [
            (macho::LC_VERSION_MIN_IPHONEOS, Os::Ios),
            (macho::LC_VERSION_MIN_TVOS, Os::TvOs),
            (macho::LC_VERSION_MIN_WATCHOS, Os::WatchOs),
            (macho::LC_VERSION_MIN_MACOSX, Os::MacOs),
        ] {
            let mut data = data.clone();
            data[at..at + 4].copy_from_slice(&cmd.0.to_le_bytes());
            let located = locate_both(&data).expect("locate");
            assert_eq!(located.images[0].os, Some(os));
        }
    }

    #[test]
    fn universal_files_hold_one_image_per_slice() {
        let first = thin_with(
            Architecture::I386,
            Endianness::Little,
            SECTION,
            b"slice zero",
        );
        let second = thin_with(
            Architecture::X86_64,
            Endianness::Little,
            SECTION,
            b"slice one",
        );
        let third = thin_with(
            Architecture::Aarch64,
            Endianness::Little,
            LEGACY_SECTION,
            PAYLOAD,
        );
        for is_64 in [false, true] {
            let data = fat(&[&first, &second, &third], is_64);
            assert_eq!(
                crate::extract::sniff(&data),
                Some(ContainerFormat::MachOFat)
            );
            let located = locate_both(&data).expect("locate");
            assert_eq!(located.format, ContainerFormat::MachOFat);
            let arches: Vec<_> = located.images.iter().map(|i| i.arch.as_str()).collect();
            assert_eq!(arches, ["x86", "x86_64", "aarch64"]);
            let bits: Vec<_> = located.images.iter().map(|i| i.bits).collect();
            assert_eq!(bits, [32, 64, 64]);
            let sections: Vec<_> = located
                .images
                .iter()
                .map(|i| i.section.expect("section"))
                .collect();
            assert_section(&data, &sections[0], ".dep-v0", b"slice zero");
            assert_section(&data, &sections[1], ".dep-v0", b"slice one");
            assert_section(&data, &sections[2], "rust-deps-v0", PAYLOAD);
            assert!(sections[1].offset > 0x1000, "offsets are absolute");
        }
    }

    #[test]
    fn slice_past_the_end_is_malformed() {
        let slice = thin(Architecture::X86_64);
        let mut data = fat(&[&slice], false);
        let too_big = (slice.len() as u32 + 1).to_be_bytes();
        data[FAT32_SIZE..FAT32_SIZE + 4].copy_from_slice(&too_big);
        let error = locate_both(&data).expect_err("slice past the end");
        assert!(matches!(error, ExtractError::Malformed { .. }));
        assert!(
            error.to_string().contains("extends past the end"),
            "{error}"
        );
        // An offset so large that offset + size overflows is the same error, not a panic.
        let mut data = fat(&[&slice], true);
        data[16..24].copy_from_slice(&u64::MAX.to_be_bytes());
        let error = locate_both(&data).expect_err("overflowing slice");
        assert!(
            error.to_string().contains("extends past the end"),
            "{error}"
        );
    }

    #[test]
    fn slice_inside_the_header_is_malformed() {
        let slice = thin(Architecture::X86_64);
        let mut data = fat(&[&slice], false);
        data[FAT32_OFFSET..FAT32_OFFSET + 4].copy_from_slice(&8u32.to_be_bytes());
        let error = locate_both(&data).expect_err("slice in header");
        assert!(
            error.to_string().contains("inside the universal header"),
            "{error}"
        );
    }

    #[test]
    fn overlapping_slices_are_malformed() {
        let slice = thin(Architecture::X86_64);
        let other = thin(Architecture::Aarch64);
        let mut data = fat(&[&slice, &other], false);
        // Point the second slice at the first.
        data[FAT32_OFFSET + 20..FAT32_OFFSET + 24].copy_from_slice(&0x1000u32.to_be_bytes());
        let error = locate_both(&data).expect_err("overlap");
        assert!(error.to_string().contains("overlap"), "{error}");
    }

    #[test]
    fn slice_cpu_type_must_match() {
        let slice = thin(Architecture::X86_64);
        let mut data = fat(&[&slice], false);
        data[8..12].copy_from_slice(&macho::CPU_TYPE_ARM64.0.to_be_bytes());
        let error = locate_both(&data).expect_err("mismatch");
        assert!(
            matches!(error, ExtractError::Slice { index: 0, .. }),
            "{error}"
        );
        assert!(error.to_string().contains("CPU type"), "{error}");
    }

    #[test]
    fn error_inside_a_slice_names_the_slice() {
        let slice = thin(Architecture::X86_64);
        let mut data = fat(&[&slice, &slice], false);
        // Break the second slice's magic.
        let second = u32::from_be_bytes(
            data[FAT32_OFFSET + 20..FAT32_OFFSET + 24]
                .try_into()
                .expect("4"),
        );
        data[second as usize] = 0;
        let error = locate_both(&data).expect_err("bad slice");
        let message = error.to_string();
        assert!(
            message.starts_with("in Mach-O universal slice 1 (x86_64"),
            "{message}"
        );
        assert!(message.contains("no Mach-O header"), "{message}");
    }

    #[test]
    fn universal_archive_is_not_executable() {
        let archive = b"!<arch>\nfoo.o/          0           0     0     644     4         `\nabcd";
        let mut data = fat(&[&thin(Architecture::X86_64)], false);
        let at = u32::from_be_bytes(data[FAT32_OFFSET..FAT32_OFFSET + 4].try_into().expect("4"));
        data[at as usize..at as usize + archive.len()].copy_from_slice(archive);
        assert!(matches!(
            locate_both(&data),
            Err(ExtractError::NotExecutable)
        ));
    }

    #[test]
    fn architecture_counts() {
        // No architectures.
        let mut data = fat(&[&thin(Architecture::X86_64)], false);
        data[4..8].copy_from_slice(&0u32.to_be_bytes());
        let error = locate_both(&data).expect_err("empty");
        assert!(error.to_string().contains("no architectures"), "{error}");
        // Too many for a 64-bit universal header, refused before the table is read.
        let mut data = fat(&[&thin(Architecture::X86_64)], true);
        data[4..8].copy_from_slice(&(MAX_FAT_ARCHES + 1).to_be_bytes());
        assert!(matches!(
            locate_both(&data),
            Err(ExtractError::TooManyImages {
                count: 65,
                limit: 64
            })
        ));
        // 0xCAFEBABE with a large count is a Java class file.
        let mut data = fat(&[&thin(Architecture::X86_64)], false);
        data[4..8].copy_from_slice(&(FAT_JAVA_CUTOFF + 1).to_be_bytes());
        assert!(matches!(
            locate_both(&data),
            Err(ExtractError::NotExecutable)
        ));
    }

    #[test]
    fn load_commands_past_the_end_are_truncated() {
        let mut data = thin(Architecture::X86_64);
        let len = data.len() as u32;
        data[20..24].copy_from_slice(&len.to_le_bytes());
        let error = locate_both(&data).expect_err("sizeofcmds");
        assert!(
            matches!(
                error,
                ExtractError::Truncated {
                    what: "load commands",
                    ..
                }
            ),
            "{error}"
        );
        data[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
        let error = locate_both(&data).expect_err("sizeofcmds");
        assert!(
            matches!(error, ExtractError::LimitExceeded { .. }),
            "{error}"
        );
    }

    #[test]
    fn truncated_files_are_errors() {
        let data = thin(Architecture::X86_64);
        let located = locate_both(&data).expect("locate");
        let section = located.images[0].section.expect("section");
        // Symbols follow the section data; a cut there loses nothing we read.
        assert_truncations_fail(&data, (section.offset + section.size) as usize);
        let universal = fat(&[&thin(Architecture::I386), &data], false);
        let located = locate_both(&universal).expect("locate");
        let last = located.images[1].section.expect("section");
        assert_truncations_fail(&universal, (last.offset + last.size) as usize);
    }

    #[test]
    fn mutated_headers_do_not_panic() {
        assert_mutations_do_not_panic(&thin(Architecture::X86_64));
        assert_mutations_do_not_panic(&thin_with(
            Architecture::PowerPc,
            Endianness::Big,
            SECTION,
            PAYLOAD,
        ));
        let universal = fat(
            &[&thin(Architecture::I386), &thin(Architecture::Aarch64)],
            true,
        );
        assert_mutations_do_not_panic(&universal);
    }
}
