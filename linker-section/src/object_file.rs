//! The object file that carries the manifest into the linker.
//!
//! The object holds one section, `.dep-v0`, with the compressed manifest as its only content,
//! and one data symbol, `AUDITABLE_VERSION_INFO`, spanning it: global for the link but hidden
//! from the output's exports. The symbol exists so the link can name it (`-u`, `/INCLUDE:`) and
//! dead-stripping cannot drop the section; see [`crate::link_args`]. The layout per container is fixed by the format (`FORMAT.md`):
//!
//! - **ELF**: `SHT_PROGBITS`, `sh_flags = 0` (never `SHF_ALLOC`, so it is in no segment),
//!   alignment 1. The ELF header's `e_flags` must match what the compiler writes for the
//!   target on the architectures whose linkers compare them (MIPS, RISC-V, LoongArch, ARM,
//!   SPARC V8+, 64-bit PowerPC, C-SKY); see `elf_e_flags`. Two more sections make the
//!   object neutral in a hardened link: an empty `.note.GNU-stack` (without it GNU ld assumes
//!   an executable stack) and, on x86 and AArch64, a `.note.gnu.property` claiming IBT/SHSTK
//!   or BTI/PAC (a data-only object is compatible, and an object without the note would
//!   silently switch the protection off for the whole binary).
//! - **Mach-O**: section `.dep-v0` in segment `__DATA`, plus an `LC_BUILD_VERSION` naming the
//!   same platform and minimum OS as rustc's own objects (ld64 warns about objects without
//!   one, and refuses objects for another platform), and the CPU subtype LLVM writes for
//!   `arm64e`, `x86_64h`, `armv7k` and `armv7s`, which ld64 treats as separate architectures.
//! - **COFF**: section `.dep-v0` (initialized, read-only data), plus the `@feat.00` symbol
//!   rustc writes; on 32-bit x86 it declares the object SafeSEH-compatible, without which
//!   `link.exe /SAFESEH` (rustc's default there) refuses the object.
//! - **WASM**: written by hand (the `object` crate cannot write wasm): the module header, a
//!   `linking` custom section with metadata version 2 (which makes it a relocatable object
//!   `wasm-ld` accepts), then a custom section `.dep-v0`. wasm64 objects also import a 64-bit
//!   `env.__linear_memory`, because `wasm-ld` reads an object's memory width from that import.
//!
//! The output is a pure function of the [`TargetInfo`] and the payload: no timestamps, no
//! paths.
//!
//! The ELF `e_flags` follow what LLVM (and so rustc) writes for each target, learned from
//! rustc's `create_object_file` (`rustc_codegen_ssa/src/back/metadata.rs`) and checked against
//! the objects rustc 1.95 emits for every one of its targets (the table in the tests). Where
//! `--print=cfg` does not carry the deciding fact (the MIPS CPU level, the relocation model,
//! the RISC-V float ABI on stable rustc), it is inferred from the OS, the ABI or the ISA
//! string of the triple, as documented on each helper.

use object::write::{MachOBuildVersion, Mangling, Object, StandardSegment, Symbol, SymbolSection};
use object::{
    elf, macho, Architecture, BinaryFormat, Endianness, FileFlags, SectionFlags, SectionKind,
    SubArchitecture, SymbolFlags, SymbolKind, SymbolScope,
};

use crate::target::{Endian, ObjectFormat, TargetInfo};

/// The section that holds the manifest, in every container format.
pub const SECTION_NAME: &str = ".dep-v0";

/// The symbol defined over the section, before any platform prefix (see [`linker_symbol_name`]).
pub const SYMBOL_NAME: &str = "AUDITABLE_VERSION_INFO";

/// Why no object could be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ObjectError {
    /// We do not know how to write an object this target's linker accepts.
    #[error("cannot embed a dependency manifest for target `{triple}`: {reason}")]
    UnsupportedTarget {
        /// The target, as given to `--target`.
        triple: String,
        /// What is missing, naming the architecture or format.
        reason: String,
    },
    /// The object writer failed (for example, a payload too large for the format).
    #[error("could not write the manifest object for target `{triple}`: {message}")]
    Write {
        /// The target, as given to `--target`.
        triple: String,
        /// What the writer reported.
        message: String,
    },
}

/// The symbol name as the linker sees it: `_AUDITABLE_VERSION_INFO` on Mach-O and on 32-bit
/// x86 COFF (whose C symbols carry a leading underscore), `AUDITABLE_VERSION_INFO` elsewhere.
/// `None` for wasm, which needs no symbol.
pub fn linker_symbol_name(target: &TargetInfo) -> Option<String> {
    match target.object_format() {
        ObjectFormat::Wasm => None,
        ObjectFormat::MachO => Some(format!("_{SYMBOL_NAME}")),
        ObjectFormat::Coff if target.arch == "x86" => Some(format!("_{SYMBOL_NAME}")),
        ObjectFormat::Coff | ObjectFormat::Elf => Some(SYMBOL_NAME.to_owned()),
    }
}

/// Writes the object for `target` holding `payload` (the compressed manifest).
pub fn write_object(target: &TargetInfo, payload: &[u8]) -> Result<Vec<u8>, ObjectError> {
    match target.object_format() {
        ObjectFormat::Wasm => Ok(write_wasm(target, payload)),
        ObjectFormat::Elf => write_native(target, BinaryFormat::Elf, payload),
        ObjectFormat::MachO => write_native(target, BinaryFormat::MachO, payload),
        ObjectFormat::Coff => write_native(target, BinaryFormat::Coff, payload),
    }
}

fn unsupported(target: &TargetInfo, reason: String) -> ObjectError {
    ObjectError::UnsupportedTarget {
        triple: target.triple.clone(),
        reason,
    }
}

fn write_native(
    target: &TargetInfo,
    format: BinaryFormat,
    payload: &[u8],
) -> Result<Vec<u8>, ObjectError> {
    if target.os == "aix" {
        return Err(unsupported(
            target,
            "AIX links XCOFF objects, which binaudit does not write".into(),
        ));
    }
    let (architecture, sub_architecture) = architecture(target)?;
    check_format_supports(target, format, architecture)?;
    let endian = match target.endian {
        Endian::Little => Endianness::Little,
        Endian::Big => Endianness::Big,
    };

    let mut file = Object::new(format, architecture, endian);
    file.set_sub_architecture(sub_architecture);
    match format {
        BinaryFormat::Elf => {
            file.flags = FileFlags::Elf {
                os_abi: elf_os_abi(target),
                abi_version: 0,
                e_flags: elf::FileFlags(elf_e_flags(target, architecture)),
            };
            add_elf_hardening_notes(&mut file, architecture);
        }
        BinaryFormat::MachO => {
            if let Some(subtype) = macho_cpu_subtype(target) {
                file.set_macho_cpu_subtype(subtype);
            }
            if let Some(build_version) = macho_build_version(target) {
                file.set_macho_build_version(build_version);
            }
        }
        BinaryFormat::Coff => add_coff_feat00(&mut file, architecture),
        _ => {}
    }

    let section = file.add_section(
        file.segment_name(StandardSegment::Data).to_vec(),
        SECTION_NAME.as_bytes().to_vec(),
        SectionKind::ReadOnlyData,
    );
    if format == BinaryFormat::Elf {
        // Not SHF_ALLOC: the manifest must not be loaded into memory, only be findable.
        file.section_mut(section).flags = SectionFlags::Elf {
            sh_type: elf::SHT_PROGBITS,
            sh_flags: elf::SectionFlags(0),
        };
    }
    let offset = file.append_section_data(section, payload, 1);

    // The `object` crate applies the format's C mangling (the `_` prefix on Mach-O and
    // 32-bit x86 COFF) when it writes the name. Linkage scope (ELF `STV_HIDDEN`, Mach-O
    // private extern) is global enough for `-u`/`/INCLUDE:` to root it, and keeps it out of
    // the export tables of shared libraries and Mach-O executables, where `Dynamic` would
    // publish it (on ELF at a meaningless address, since the section is not loaded).
    file.add_symbol(Symbol {
        name: SYMBOL_NAME.as_bytes().to_vec(),
        value: offset,
        size: payload.len() as u64,
        kind: SymbolKind::Data,
        scope: SymbolScope::Linkage,
        weak: false,
        section: SymbolSection::Section(section),
        flags: SymbolFlags::None,
    });

    file.write().map_err(|e| ObjectError::Write {
        triple: target.triple.clone(),
        message: e.to_string(),
    })
}

/// Maps `target_arch` (and the pointer width, for the ILP32 ABIs) to the `object` crate's
/// architecture. The list is rustc's `create_object_file` plus m68k and Xtensa, whose linkers
/// accept `e_flags` 0 in a data-only object.
fn architecture(
    target: &TargetInfo,
) -> Result<(Architecture, Option<SubArchitecture>), ObjectError> {
    let narrow = target.pointer_width == 32;
    let arch = match target.arch.as_str() {
        "x86_64" if narrow => Architecture::X86_64_X32,
        "x86_64" => Architecture::X86_64,
        "x86" => Architecture::I386,
        "aarch64" if narrow => Architecture::Aarch64_Ilp32,
        "aarch64" if target.object_format() == ObjectFormat::MachO && is_arm64e(target) => {
            return Ok((Architecture::Aarch64, Some(SubArchitecture::Arm64E)));
        }
        "aarch64" => Architecture::Aarch64,
        "arm64ec" => return Ok((Architecture::Aarch64, Some(SubArchitecture::Arm64EC))),
        "arm" => Architecture::Arm,
        "s390x" => Architecture::S390x,
        "mips" | "mips32r6" => Architecture::Mips,
        "mips64" | "mips64r6" if narrow => Architecture::Mips64_N32,
        "mips64" | "mips64r6" => Architecture::Mips64,
        "powerpc" => Architecture::PowerPc,
        "powerpc64" => Architecture::PowerPc64,
        "riscv32" => Architecture::Riscv32,
        "riscv64" => Architecture::Riscv64,
        "sparc" if is_sparc_v8plus(target) => Architecture::Sparc32Plus,
        "sparc" => Architecture::Sparc,
        "sparc64" => Architecture::Sparc64,
        "loongarch32" => Architecture::LoongArch32,
        "loongarch64" => Architecture::LoongArch64,
        "m68k" => Architecture::M68k,
        "csky" => Architecture::Csky,
        "hexagon" => Architecture::Hexagon,
        "bpf" => Architecture::Bpf,
        "msp430" => Architecture::Msp430,
        "xtensa" => Architecture::Xtensa,
        "avr" => {
            return Err(unsupported(
                target,
                "AVR objects must name the MCU's architecture in their ELF flags, and the target \
                 does not say which MCU (`-C target-cpu`) is being built for"
                    .into(),
            ));
        }
        other => {
            return Err(unsupported(
                target,
                format!("writing objects for architecture `{other}` is not supported"),
            ));
        }
    };
    Ok((arch, None))
}

/// Rejects architecture/format pairs the `object` crate cannot write, with a message that
/// names both.
fn check_format_supports(
    target: &TargetInfo,
    format: BinaryFormat,
    arch: Architecture,
) -> Result<(), ObjectError> {
    use Architecture as A;
    let ok = match format {
        BinaryFormat::MachO => {
            matches!(
                arch,
                A::X86_64
                    | A::I386
                    | A::Aarch64
                    | A::Aarch64_Ilp32
                    | A::Arm
                    | A::PowerPc
                    | A::PowerPc64
            )
        }
        BinaryFormat::Coff => matches!(arch, A::X86_64 | A::I386 | A::Aarch64 | A::Arm),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        let name = match format {
            BinaryFormat::MachO => "Mach-O",
            _ => "COFF",
        };
        Err(unsupported(
            target,
            format!(
                "{name} objects for architecture `{}` are not supported",
                target.arch
            ),
        ))
    }
}

/// The first component of the triple (`riscv64gc`, `mipsisa32r6el`, `arm64e`); for a custom
/// JSON target, that of the file's stem.
fn triple_arch(target: &TargetInfo) -> &str {
    let name = target
        .triple
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(&target.triple);
    let name = name.strip_suffix(".json").unwrap_or(name);
    name.split('-').next().unwrap_or(name)
}

fn is_arm64e(target: &TargetInfo) -> bool {
    triple_arch(target) == "arm64e"
}

/// SPARC V8+ (64-bit V9 instructions in 32-bit mode, `EM_SPARC32PLUS`) is what
/// `sparc-unknown-linux-gnu` uses; bare-metal `sparc-unknown-none-elf` is plain V7/V8.
fn is_sparc_v8plus(target: &TargetInfo) -> bool {
    target.has_feature("v8plus") || target.has_feature("v9") || target.os == "linux"
}

/// `EI_OSABI`, as LLVM's `MCELFObjectTargetWriter::getOSABI` picks it.
fn elf_os_abi(target: &TargetInfo) -> elf::OsAbi {
    match target.os.as_str() {
        "freebsd" => elf::ELFOSABI_FREEBSD,
        "solaris" => elf::ELFOSABI_SOLARIS,
        "hermit" => elf::ELFOSABI_STANDALONE,
        _ => elf::ELFOSABI_NONE,
    }
}

/// The ELF header flags for `target`. Architectures not listed get 0, as from LLVM (Hexagon
/// is the exception: LLVM writes the CPU version, but lld links to the highest version among
/// its inputs, so 0 never lowers it).
fn elf_e_flags(target: &TargetInfo, arch: Architecture) -> u32 {
    match arch {
        Architecture::Mips => mips32_e_flags(target),
        Architecture::Mips64 | Architecture::Mips64_N32 => mips64_e_flags(target),
        Architecture::Riscv32 | Architecture::Riscv64 => riscv_e_flags(target),
        Architecture::LoongArch32 | Architecture::LoongArch64 => loongarch_e_flags(target),
        Architecture::Arm => arm_e_flags(target),
        Architecture::PowerPc64 => ppc64_e_flags(target),
        // BFD does not even recognise an `EM_SPARC32PLUS` object without this flag.
        Architecture::Sparc32Plus => elf::EF_SPARC_32PLUS.0,
        Architecture::Csky if target.abi.starts_with("abiv1") => elf::EF_CSKY_ABIV1.0,
        Architecture::Csky => elf::EF_CSKY_ABIV2.0,
        _ => 0,
    }
}

fn is_mips_r6(target: &TargetInfo) -> bool {
    target.arch.ends_with("r6")
        || target.has_feature("mips32r6")
        || target.has_feature("mips64r6")
        || triple_arch(target).starts_with("mipsisa32r6")
        || triple_arch(target).starts_with("mipsisa64r6")
}

/// Bare-metal MIPS targets are built with `-mno-abicalls` and the static relocation model.
fn mips_is_bare_metal(target: &TargetInfo) -> bool {
    target.os == "none"
}

/// MIPS targets with the static relocation model: bare metal and the Sony consoles.
fn mips_is_static(target: &TargetInfo) -> bool {
    mips_is_bare_metal(target) || matches!(target.os.as_str(), "psp" | "psx")
}

/// 32-bit MIPS: O32 ABI; ISA level from the target CPU (rustc: MIPS32r2, or r6 for the
/// `mipsisa32r6` targets, MIPS I/II/32 for the PSX/PSP/NetBSD targets); `CPIC` unless built
/// without abicalls, `PIC` unless static; r6 implies the 2008 NaN encoding, which GNU ld and
/// lld refuse to mix with legacy NaN.
fn mips32_e_flags(target: &TargetInfo) -> u32 {
    let r6 = is_mips_r6(target);
    let level = if r6 {
        elf::EF_MIPS_ARCH_32R6
    } else {
        match target.os.as_str() {
            "psx" => elf::EF_MIPS_ARCH_1,
            "psp" => elf::EF_MIPS_ARCH_2,
            "netbsd" => elf::EF_MIPS_ARCH_32,
            _ => elf::EF_MIPS_ARCH_32R2,
        }
    };
    let mut flags = level | elf::EF_MIPS_ABI_O32;
    if !mips_is_bare_metal(target) {
        flags |= elf::EF_MIPS_CPIC;
    }
    if !mips_is_static(target) {
        flags |= elf::EF_MIPS_PIC;
    }
    if r6 {
        flags |= elf::EF_MIPS_NAN2008;
    }
    flags.0
}

/// 64-bit MIPS (N64; N32 gets `EF_MIPS_ABI2` from the `object` crate): MIPS64r2 or r6, PIC.
fn mips64_e_flags(target: &TargetInfo) -> u32 {
    let mut flags = if is_mips_r6(target) {
        elf::EF_MIPS_ARCH_64R6 | elf::EF_MIPS_NAN2008
    } else {
        elf::EF_MIPS_ARCH_64R2
    };
    if !mips_is_bare_metal(target) {
        flags |= elf::EF_MIPS_CPIC;
    }
    if !mips_is_static(target) {
        flags |= elf::EF_MIPS_PIC;
    }
    flags.0
}

/// The RISC-V calling convention for floating point, which GNU ld and lld refuse to mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RiscvAbi {
    /// `ilp32`/`lp64`.
    Soft,
    /// `ilp32f`/`lp64f`.
    Single,
    /// `ilp32d`/`lp64d`.
    Double,
    /// `ilp32e`/`lp64e`: the embedded register set, soft float.
    Embedded,
}

/// RISC-V: `RVC` when compressed instructions are on, the float ABI, and `RVE`.
fn riscv_e_flags(target: &TargetInfo) -> u32 {
    let mut flags = elf::FileFlags(0);
    if target.has_feature("c") || riscv_isa_letters(target).contains('c') {
        flags |= elf::EF_RISCV_RVC;
    }
    flags |= match riscv_abi(target) {
        RiscvAbi::Soft => elf::EF_RISCV_FLOAT_ABI_SOFT,
        RiscvAbi::Single => elf::EF_RISCV_FLOAT_ABI_SINGLE,
        RiscvAbi::Double => elf::EF_RISCV_FLOAT_ABI_DOUBLE,
        RiscvAbi::Embedded => elf::EF_RISCV_RVE,
    };
    flags.0
}

/// The RISC-V ABI, from the most to the least direct evidence:
/// 1. `target_abi` when it names the ABI (`ilp32e` today; the others if rustc starts to);
/// 2. the `e`/`d`/`f` target features (printed by nightly rustc; stable rustc hides them
///    because they are unstable);
/// 3. the ISA string of the triple: `g`, `d` or an RVA profile (`riscv64a23`) mean the D ABI,
///    `f` the F ABI, a leading `e` RVE; a bare `riscv64`/`riscv32` (Android, VxWorks) is a
///    hosted target, and every hosted RISC-V target of rustc uses the D ABI.
fn riscv_abi(target: &TargetInfo) -> RiscvAbi {
    match target.abi.as_str() {
        "ilp32e" | "lp64e" => return RiscvAbi::Embedded,
        "ilp32d" | "lp64d" => return RiscvAbi::Double,
        "ilp32f" | "lp64f" => return RiscvAbi::Single,
        "ilp32" | "lp64" => return RiscvAbi::Soft,
        _ => {}
    }
    if target.has_feature("e") {
        return RiscvAbi::Embedded;
    }
    if target.has_feature("d") {
        return RiscvAbi::Double;
    }
    if target.has_feature("f") {
        return RiscvAbi::Single;
    }
    let isa = riscv_isa(target);
    let letters = riscv_isa_letters(target);
    if isa.starts_with('e') {
        RiscvAbi::Embedded
    } else if isa.starts_with('g') || letters.contains('d') || is_rva_profile(isa) {
        RiscvAbi::Double
    } else if letters.contains('f') {
        RiscvAbi::Single
    } else if isa.is_empty() && !matches!(target.os.as_str(), "none" | "") {
        RiscvAbi::Double
    } else {
        RiscvAbi::Soft
    }
}

/// What follows `riscv32`/`riscv64` in the triple: `gc`, `imafc`, `a23`, `e`, or empty.
fn riscv_isa(target: &TargetInfo) -> &str {
    let arch = triple_arch(target);
    arch.strip_prefix("riscv64")
        .or_else(|| arch.strip_prefix("riscv32"))
        .unwrap_or("")
}

/// The single-letter extensions of the ISA string, up to the first multi-letter one
/// (`z…`, `s…`, `x…`) or separator.
fn riscv_isa_letters(target: &TargetInfo) -> &str {
    let isa = riscv_isa(target);
    if is_rva_profile(isa) {
        return "";
    }
    let end =
        isa.find(|c: char| matches!(c, 'z' | 's' | 'x' | '_' | '.') || !c.is_ascii_alphabetic());
    &isa[..end.unwrap_or(isa.len())]
}

/// `a20`, `a22`, `a23`: the RVA application profiles, which all include D.
fn is_rva_profile(isa: &str) -> bool {
    isa.strip_prefix('a')
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
}

/// LoongArch: object ABI v1 (lld refuses v0 objects) and the float ABI: `softfloat` targets
/// `lp64s`, `d` → `lp64d`, `f` → `lp64f`. A target without float features that is not a
/// `softfloat` one is taken as `lp64d`: on a rustc that predates stable LoongArch features
/// every such target was.
fn loongarch_e_flags(target: &TargetInfo) -> u32 {
    let soft = target.abi == "softfloat" || target.triple.contains("softfloat");
    let abi = if target.has_feature("d") {
        elf::EF_LARCH_ABI_DOUBLE_FLOAT
    } else if target.has_feature("f") {
        elf::EF_LARCH_ABI_SINGLE_FLOAT
    } else if soft {
        elf::EF_LARCH_ABI_SOFT_FLOAT
    } else {
        elf::EF_LARCH_ABI_DOUBLE_FLOAT
    };
    (elf::EF_LARCH_OBJABI_V1 | abi).0
}

/// ARM: EABI version 5, as LLVM and GNU as write, and GNU ld and gold refuse to mix EABI
/// versions. The hard-float marker is what GNU as adds for `-mfloat-abi=hard`; for EABI v5
/// linkers take the float ABI from the build attributes, so it documents rather than decides.
fn arm_e_flags(target: &TargetInfo) -> u32 {
    let hard = target.abi == "eabihf" || (target.abi.is_empty() && target.triple.ends_with("hf"));
    let mut flags = elf::EF_ARM_EABI_VER5.0;
    if hard {
        flags |= elf::EF_ARM_ABI_FLOAT_HARD;
    }
    flags
}

/// 64-bit PowerPC: the ELF ABI version, 2 for ELFv2 and 0 (unspecified) for ELFv1, as LLVM
/// writes. GNU ld refuses an object that names the other version.
fn ppc64_e_flags(target: &TargetInfo) -> u32 {
    let v2 = match target.abi.as_str() {
        "elfv2" => true,
        "elfv1" => false,
        // rustc before `target_abi` was set for PowerPC: little endian and the musl, FreeBSD
        // and OpenBSD ports are ELFv2.
        _ => {
            target.endian == Endian::Little
                || target.env == "musl"
                || matches!(target.os.as_str(), "freebsd" | "openbsd")
        }
    };
    if v2 {
        2
    } else {
        0
    }
}

/// `.note.GNU-stack` (empty: no executable stack needed) and, where the ABI defines one,
/// a `.note.gnu.property` that marks the object compatible with control-flow protection.
fn add_elf_hardening_notes(file: &mut Object<'_>, arch: Architecture) {
    let stack = file.add_section(Vec::new(), b".note.GNU-stack".to_vec(), SectionKind::Other);
    file.section_mut(stack).flags = SectionFlags::Elf {
        sh_type: elf::SHT_PROGBITS,
        sh_flags: elf::SectionFlags(0),
    };
    match arch {
        Architecture::X86_64 | Architecture::X86_64_X32 | Architecture::I386 => file
            .add_elf_gnu_property_u32(
                elf::GNU_PROPERTY_X86_FEATURE_1_AND,
                elf::GNU_PROPERTY_X86_FEATURE_1_IBT | elf::GNU_PROPERTY_X86_FEATURE_1_SHSTK,
            ),
        Architecture::Aarch64 | Architecture::Aarch64_Ilp32 => file.add_elf_gnu_property_u32(
            elf::GNU_PROPERTY_AARCH64_FEATURE_1_AND,
            elf::GNU_PROPERTY_AARCH64_FEATURE_1_BTI | elf::GNU_PROPERTY_AARCH64_FEATURE_1_PAC,
        ),
        _ => {}
    }
}

/// `@feat.00`, unmangled: bit 0 says "SafeSEH compatible", which a data-only object is.
fn add_coff_feat00(file: &mut Object<'_>, arch: Architecture) {
    let mangling = file.mangling();
    file.set_mangling(Mangling::None);
    file.add_symbol(Symbol {
        name: b"@feat.00".to_vec(),
        value: u64::from(arch == Architecture::I386),
        size: 0,
        kind: SymbolKind::Data,
        scope: SymbolScope::Compilation,
        weak: false,
        section: SymbolSection::Absolute,
        flags: SymbolFlags::None,
    });
    file.set_mangling(mangling);
}

/// The CPU subtypes LLVM writes that differ from the `object` crate's defaults.
fn macho_cpu_subtype(target: &TargetInfo) -> Option<macho::CpuSubtype> {
    let id = match triple_arch(target) {
        // arm64e objects from current LLVM carry a versioned pointer-authentication ABI.
        "arm64e" => return Some(macho::CPU_SUBTYPE_PTRAUTH_ABI | macho::CPU_SUBTYPE_ARM64E.into()),
        "x86_64h" => macho::CPU_SUBTYPE_X86_64_H,
        "armv7k" => macho::CPU_SUBTYPE_ARM_V7K,
        "armv7s" => macho::CPU_SUBTYPE_ARM_V7S,
        "armv7" => macho::CPU_SUBTYPE_ARM_V7,
        _ => return None,
    };
    Some(id.into())
}

/// `LC_BUILD_VERSION`: the platform from `target_os` and `target_abi`/`target_env` (`sim`,
/// `macabi`), the minimum OS from rustc (see [`TargetInfo::apple_deployment_target`]) or
/// rustc's defaults, and SDK 0 ("n/a"), as rustc writes for its own objects. `None` for an
/// Apple OS we do not know, which then gets no build version at all.
fn macho_build_version(target: &TargetInfo) -> Option<MachOBuildVersion> {
    let sim = target.abi == "sim"
        || target.env == "sim"
        // Before `sim` was a cfg value, Intel iOS/tvOS/watchOS targets were the simulators.
        || (target.os != "macos" && matches!(target.arch.as_str(), "x86" | "x86_64"));
    let macabi = target.abi == "macabi" || target.env == "macabi";
    let platform = match (target.os.as_str(), sim, macabi) {
        ("macos", _, _) => macho::PLATFORM_MACOS,
        ("ios", _, true) => macho::PLATFORM_MACCATALYST,
        ("ios", true, _) => macho::PLATFORM_IOSSIMULATOR,
        ("ios", false, _) => macho::PLATFORM_IOS,
        ("tvos", true, _) => macho::PLATFORM_TVOSSIMULATOR,
        ("tvos", false, _) => macho::PLATFORM_TVOS,
        ("watchos", true, _) => macho::PLATFORM_WATCHOSSIMULATOR,
        ("watchos", false, _) => macho::PLATFORM_WATCHOS,
        ("visionos" | "xros", true, _) => macho::PLATFORM_VISIONOSSIMULATOR,
        ("visionos" | "xros", false, _) => macho::PLATFORM_VISIONOS,
        ("driverkit", _, _) => macho::PLATFORM_DRIVERKIT,
        _ => return None,
    };
    let (major, minor, patch) = target
        .apple_deployment_target
        .unwrap_or_else(|| default_deployment_target(target, sim, macabi));
    let mut version = MachOBuildVersion::default();
    version.platform = platform;
    version.minos = macho::Version::new(major, minor, patch);
    version.sdk = macho::Version::new(0, 0, 0);
    Some(version)
}

/// rustc 1.95's defaults (`rustc --print deployment-target`), used when rustc was not asked.
fn default_deployment_target(target: &TargetInfo, sim: bool, macabi: bool) -> (u16, u8, u8) {
    let arm64 = target.arch == "aarch64";
    match target.os.as_str() {
        "macos" if arm64 => (11, 0, 0),
        "macos" => (10, 12, 0),
        "ios" if macabi && arm64 => (14, 0, 0),
        "ios" if macabi => (13, 1, 0),
        "ios" if is_arm64e(target) || (sim && arm64) => (14, 0, 0),
        "ios" => (10, 0, 0),
        "tvos" if sim && arm64 => (14, 0, 0),
        "tvos" => (10, 0, 0),
        "watchos" if sim && arm64 => (7, 0, 0),
        "watchos" if arm64 && target.pointer_width == 64 => (26, 0, 0),
        "watchos" => (5, 0, 0),
        "driverkit" => (19, 0, 0),
        _ => (1, 0, 0),
    }
}

/// A relocatable wasm object: header, `linking` (version 2), [an `env.__linear_memory`
/// import for wasm64], `.dep-v0`.
fn write_wasm(target: &TargetInfo, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 64);
    out.extend_from_slice(b"\0asm");
    out.extend_from_slice(&1u32.to_le_bytes());
    if target.pointer_width == 64 {
        let mut import = Vec::new();
        leb128(&mut import, 1); // One import.
        wasm_name(&mut import, "env");
        wasm_name(&mut import, "__linear_memory");
        import.push(0x02); // Memory.
        import.push(0x04); // Limits: 64-bit, unshared, no maximum.
        leb128(&mut import, 0); // Minimum: 0 pages.
        wasm_section(&mut out, 2, &import);
    }
    wasm_custom_section(&mut out, "linking", &[2]);
    wasm_custom_section(&mut out, SECTION_NAME, payload);
    out
}

fn wasm_custom_section(out: &mut Vec<u8>, name: &str, data: &[u8]) {
    let mut body = Vec::with_capacity(name.len() + data.len() + 5);
    wasm_name(&mut body, name);
    body.extend_from_slice(data);
    wasm_section(out, 0, &body);
}

fn wasm_section(out: &mut Vec<u8>, id: u8, body: &[u8]) {
    out.push(id);
    leb128(out, body.len() as u64);
    out.extend_from_slice(body);
}

fn wasm_name(out: &mut Vec<u8>, name: &str) {
    leb128(out, name.len() as u64);
    out.extend_from_slice(name.as_bytes());
}

/// Unsigned LEB128.
fn leb128(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::target::fixtures::{synthetic, target, ALL};
    use object::pe;
    use object::read::macho::MachOFile64;
    use object::{Object as _, ObjectSection as _, ObjectSymbol as _};

    const PAYLOAD: &[u8] = b"x\x9c\x01\x02\x03 the manifest \xff\x00";

    /// The `.dep-v0` data and the symbol, read back with the `object` crate.
    fn read_back(bytes: &[u8]) -> (object::File<'_>, Vec<u8>, String, u64) {
        let file = object::File::parse(bytes).unwrap();
        let section = file.section_by_name(SECTION_NAME).unwrap();
        let data = section.data().unwrap().to_vec();
        let symbol = file
            .symbols()
            .find(|s| s.name().is_ok_and(|n| n.ends_with(SYMBOL_NAME)))
            .unwrap();
        assert!(symbol.is_global(), "the symbol must be global");
        assert!(symbol.is_definition());
        assert_eq!(symbol.section_index(), Some(section.index()));
        assert_eq!(symbol.address(), section.address());
        let name = symbol.name().unwrap().to_owned();
        let size = symbol.size();
        (file, data, name, size)
    }

    fn e_flags(file: &object::File<'_>) -> u32 {
        match file.flags() {
            FileFlags::Elf { e_flags, .. } => e_flags.0,
            other => panic!("not ELF: {other:?}"),
        }
    }

    #[test]
    fn every_native_fixture_round_trips() {
        use object::Architecture as A;
        use Endianness::{Big, Little};
        let expected = [
            // triple, format, architecture, endianness, 64-bit, symbol, e_flags
            (
                "x86_64-unknown-linux-gnu",
                BinaryFormat::Elf,
                A::X86_64,
                Little,
                true,
                SYMBOL_NAME,
                0,
            ),
            (
                "aarch64-unknown-linux-gnu",
                BinaryFormat::Elf,
                A::Aarch64,
                Little,
                true,
                SYMBOL_NAME,
                0,
            ),
            (
                "i686-unknown-linux-gnu",
                BinaryFormat::Elf,
                A::I386,
                Little,
                false,
                SYMBOL_NAME,
                0,
            ),
            (
                "s390x-unknown-linux-gnu",
                BinaryFormat::Elf,
                A::S390x,
                Big,
                true,
                SYMBOL_NAME,
                0,
            ),
            // noreorder is the only bit LLVM sets beyond these: 0x70001007 there.
            (
                "mips-unknown-linux-gnu",
                BinaryFormat::Elf,
                A::Mips,
                Big,
                false,
                SYMBOL_NAME,
                0x7000_1006,
            ),
            (
                "mips64el-unknown-linux-gnuabi64",
                BinaryFormat::Elf,
                A::Mips64,
                Little,
                true,
                SYMBOL_NAME,
                0x8000_0006,
            ),
            (
                "mipsisa32r6el-unknown-linux-gnu",
                BinaryFormat::Elf,
                A::Mips,
                Little,
                false,
                SYMBOL_NAME,
                0x9000_1406,
            ),
            (
                "riscv64gc-unknown-linux-gnu",
                BinaryFormat::Elf,
                A::Riscv64,
                Little,
                true,
                SYMBOL_NAME,
                0x5,
            ),
            (
                "riscv32imac-unknown-none-elf",
                BinaryFormat::Elf,
                A::Riscv32,
                Little,
                false,
                SYMBOL_NAME,
                0x1,
            ),
            (
                "loongarch64-unknown-linux-gnu",
                BinaryFormat::Elf,
                A::LoongArch64,
                Little,
                true,
                SYMBOL_NAME,
                0x43,
            ),
            (
                "armv7-unknown-linux-gnueabihf",
                BinaryFormat::Elf,
                A::Arm,
                Little,
                false,
                SYMBOL_NAME,
                0x0500_0400,
            ),
            (
                "x86_64-unknown-none",
                BinaryFormat::Elf,
                A::X86_64,
                Little,
                true,
                SYMBOL_NAME,
                0,
            ),
            (
                "x86_64-apple-darwin",
                BinaryFormat::MachO,
                A::X86_64,
                Little,
                true,
                "_AUDITABLE_VERSION_INFO",
                0,
            ),
            (
                "aarch64-apple-darwin",
                BinaryFormat::MachO,
                A::Aarch64,
                Little,
                true,
                "_AUDITABLE_VERSION_INFO",
                0,
            ),
            (
                "aarch64-apple-ios-sim",
                BinaryFormat::MachO,
                A::Aarch64,
                Little,
                true,
                "_AUDITABLE_VERSION_INFO",
                0,
            ),
            (
                "x86_64-pc-windows-gnu",
                BinaryFormat::Coff,
                A::X86_64,
                Little,
                true,
                SYMBOL_NAME,
                0,
            ),
            (
                "i686-pc-windows-gnu",
                BinaryFormat::Coff,
                A::I386,
                Little,
                false,
                "_AUDITABLE_VERSION_INFO",
                0,
            ),
            (
                "x86_64-pc-windows-msvc",
                BinaryFormat::Coff,
                A::X86_64,
                Little,
                true,
                SYMBOL_NAME,
                0,
            ),
            (
                "i686-pc-windows-msvc",
                BinaryFormat::Coff,
                A::I386,
                Little,
                false,
                "_AUDITABLE_VERSION_INFO",
                0,
            ),
        ];
        let native = ALL.iter().filter(|(t, _)| !t.starts_with("wasm")).count();
        assert_eq!(expected.len(), native, "every native fixture is checked");

        for (triple, format, arch, endian, is_64, symbol, flags) in expected {
            let t = target(triple);
            let bytes = write_object(&t, PAYLOAD).unwrap();
            let (file, data, name, size) = read_back(&bytes);
            assert_eq!(file.format(), format, "{triple}");
            assert_eq!(file.architecture(), arch, "{triple}");
            assert_eq!(file.endianness(), endian, "{triple}");
            if format != BinaryFormat::Coff {
                // COFF objects have no class; the machine type says it all.
                assert_eq!(file.is_64(), is_64, "{triple}");
            }
            assert_eq!(
                data, PAYLOAD,
                "{triple}: the section holds exactly the payload"
            );
            assert_eq!(name, symbol, "{triple}");
            assert_eq!(Some(name), linker_symbol_name(&t), "{triple}");
            if format == BinaryFormat::Elf {
                // Only ELF symbols have a size field.
                assert_eq!(size, PAYLOAD.len() as u64, "{triple}");
            }

            let section = file.section_by_name(SECTION_NAME).unwrap();
            assert_eq!(section.align(), 1, "{triple}");
            match format {
                BinaryFormat::Elf => {
                    assert_eq!(
                        e_flags(&file),
                        flags,
                        "{triple}: e_flags {:#x}",
                        e_flags(&file)
                    );
                    let SectionFlags::Elf { sh_type, sh_flags } = section.flags() else {
                        panic!()
                    };
                    assert_eq!(sh_type, elf::SHT_PROGBITS, "{triple}");
                    assert_eq!(sh_flags.0, 0, "{triple}: never SHF_ALLOC");
                    let stack = file.section_by_name(".note.GNU-stack").unwrap();
                    assert_eq!(stack.size(), 0, "{triple}");
                }
                BinaryFormat::MachO => {
                    assert_eq!(section.segment_name().unwrap(), Some("__DATA"), "{triple}");
                }
                BinaryFormat::Coff => {
                    let SectionFlags::Coff { characteristics } = section.flags() else {
                        panic!()
                    };
                    let rdata = pe::IMAGE_SCN_CNT_INITIALIZED_DATA | pe::IMAGE_SCN_MEM_READ;
                    assert_eq!(characteristics & rdata, rdata, "{triple}");
                    let unwanted = pe::IMAGE_SCN_MEM_WRITE
                        | pe::IMAGE_SCN_MEM_EXECUTE
                        | pe::IMAGE_SCN_LNK_REMOVE;
                    assert_eq!(characteristics & unwanted, pe::SectionFlags(0), "{triple}");
                    // The raw symbol record: the 8-byte short name, then the 32-bit value.
                    let at = bytes.windows(8).position(|w| w == b"@feat.00").unwrap() + 8;
                    let value = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
                    assert_eq!(value, u32::from(arch == A::I386), "{triple}: SafeSEH bit");
                }
                _ => unreachable!(),
            }
        }
    }

    #[test]
    fn output_is_deterministic() {
        for (triple, _) in ALL {
            let t = target(triple);
            assert_eq!(
                write_object(&t, PAYLOAD).unwrap(),
                write_object(&t, PAYLOAD).unwrap(),
                "{triple}"
            );
        }
    }

    #[test]
    fn elf_hardening_notes_claim_cet_and_bti() {
        for (triple, property, value) in [
            (
                "x86_64-unknown-linux-gnu",
                elf::GNU_PROPERTY_X86_FEATURE_1_AND,
                3u32,
            ),
            (
                "i686-unknown-linux-gnu",
                elf::GNU_PROPERTY_X86_FEATURE_1_AND,
                3,
            ),
            (
                "aarch64-unknown-linux-gnu",
                elf::GNU_PROPERTY_AARCH64_FEATURE_1_AND,
                3,
            ),
        ] {
            let bytes = write_object(&target(triple), PAYLOAD).unwrap();
            let file = object::File::parse(&*bytes).unwrap();
            let note = file
                .section_by_name(".note.gnu.property")
                .unwrap()
                .data()
                .unwrap();
            let mut expected = property.0.to_le_bytes().to_vec();
            expected.extend_from_slice(&4u32.to_le_bytes());
            expected.extend_from_slice(&value.to_le_bytes());
            assert!(
                note.windows(expected.len()).any(|w| w == expected),
                "{triple}: {note:x?}"
            );
        }
        let bytes = write_object(&target("s390x-unknown-linux-gnu"), PAYLOAD).unwrap();
        assert!(object::File::parse(&*bytes)
            .unwrap()
            .section_by_name(".note.gnu.property")
            .is_none());
    }

    /// `e_flags` equal what rustc 1.95 (LLVM) writes into its own objects, for every rustc
    /// target on the architectures where they are not 0, fed the cfg that a *stable* rustc
    /// prints (so without the unstable RISC-V `f`/`d` features). Rows: triple, target_arch,
    /// target_os, target_abi, target_endian, pointer width, the features among c/d/f/e/v8plus,
    /// and LLVM's `e_flags` (`readelf -h` of `rustc --emit=obj`).
    #[test]
    fn e_flags_match_llvm_for_every_rustc_target() {
        type Row = (
            &'static str,
            &'static str,
            &'static str,
            &'static str,
            &'static str,
            u32,
            &'static str,
            u32,
        );
        #[rustfmt::skip]
        let rows: &[Row] = &[
            ("aarch64_be-unknown-linux-gnu", "aarch64", "linux", "", "big", 64, "", 0x0),
            ("aarch64_be-unknown-linux-gnu_ilp32", "aarch64", "linux", "ilp32", "big", 32, "", 0x0),
            ("aarch64_be-unknown-none-softfloat", "aarch64", "none", "softfloat", "big", 64, "", 0x0),
            ("arm-unknown-linux-gnueabi", "arm", "linux", "eabi", "little", 32, "", 0x5000000),
            ("armeb-unknown-linux-gnueabi", "arm", "linux", "eabi", "big", 32, "", 0x5000000),
            ("armv7-unknown-linux-gnueabihf", "arm", "linux", "eabihf", "little", 32, "", 0x5000000),
            ("armv7-unknown-freebsd", "arm", "freebsd", "eabihf", "little", 32, "", 0x5000000),
            ("thumbv6m-none-eabi", "arm", "none", "eabi", "little", 32, "", 0x5000000),
            ("thumbv7em-none-eabihf", "arm", "none", "eabihf", "little", 32, "", 0x5000000),
            ("armebv7r-none-eabihf", "arm", "none", "eabihf", "big", 32, "", 0x5000000),
            ("csky-unknown-linux-gnuabiv2", "csky", "linux", "abiv2", "little", 32, "", 0x21000008),
            ("csky-unknown-linux-gnuabiv2hf", "csky", "linux", "abiv2hf", "little", 32, "", 0x2100200b),
            ("hexagon-unknown-linux-musl", "hexagon", "linux", "", "little", 32, "", 0x60),
            ("loongarch32-unknown-none", "loongarch32", "none", "", "little", 32, "d,f", 0x43),
            ("loongarch32-unknown-none-softfloat", "loongarch32", "none", "softfloat", "little", 32, "", 0x41),
            ("loongarch64-unknown-linux-gnu", "loongarch64", "linux", "", "little", 64, "d,f", 0x43),
            ("loongarch64-unknown-linux-musl", "loongarch64", "linux", "", "little", 64, "d,f", 0x43),
            ("loongarch64-unknown-linux-ohos", "loongarch64", "linux", "", "little", 64, "d,f", 0x43),
            ("loongarch64-unknown-none", "loongarch64", "none", "", "little", 64, "d,f", 0x43),
            ("loongarch64-unknown-none-softfloat", "loongarch64", "none", "softfloat", "little", 64, "", 0x41),
            ("m68k-unknown-linux-gnu", "m68k", "linux", "", "big", 32, "", 0x0),
            ("m68k-unknown-none-elf", "m68k", "none", "", "big", 32, "", 0x0),
            ("mips-mti-none-elf", "mips", "none", "", "big", 32, "", 0x70001001),
            ("mips-unknown-linux-gnu", "mips", "linux", "", "big", 32, "", 0x70001007),
            ("mips-unknown-linux-musl", "mips", "linux", "", "big", 32, "", 0x70001007),
            ("mips-unknown-linux-uclibc", "mips", "linux", "", "big", 32, "", 0x70001007),
            ("mips64-openwrt-linux-musl", "mips64", "linux", "abi64", "big", 64, "", 0x80000007),
            ("mips64-unknown-linux-gnuabi64", "mips64", "linux", "abi64", "big", 64, "", 0x80000007),
            ("mips64-unknown-linux-muslabi64", "mips64", "linux", "abi64", "big", 64, "", 0x80000007),
            ("mips64el-unknown-linux-gnuabi64", "mips64", "linux", "abi64", "little", 64, "", 0x80000007),
            ("mips64el-unknown-linux-muslabi64", "mips64", "linux", "abi64", "little", 64, "", 0x80000007),
            ("mipsel-mti-none-elf", "mips", "none", "", "little", 32, "", 0x70001001),
            ("mipsel-sony-psp", "mips", "psp", "", "little", 32, "", 0x10001005),
            ("mipsel-sony-psx", "mips", "psx", "", "little", 32, "", 0x1005),
            ("mipsel-unknown-linux-gnu", "mips", "linux", "", "little", 32, "", 0x70001007),
            ("mipsel-unknown-linux-musl", "mips", "linux", "", "little", 32, "", 0x70001007),
            ("mipsel-unknown-linux-uclibc", "mips", "linux", "", "little", 32, "", 0x70001007),
            ("mipsel-unknown-netbsd", "mips", "netbsd", "", "little", 32, "", 0x50001007),
            ("mipsel-unknown-none", "mips", "none", "", "little", 32, "", 0x70001001),
            ("mipsisa32r6-unknown-linux-gnu", "mips32r6", "linux", "", "big", 32, "", 0x90001407),
            ("mipsisa32r6el-unknown-linux-gnu", "mips32r6", "linux", "", "little", 32, "", 0x90001407),
            ("mipsisa64r6-unknown-linux-gnuabi64", "mips64r6", "linux", "abi64", "big", 64, "", 0xa0000407),
            ("mipsisa64r6el-unknown-linux-gnuabi64", "mips64r6", "linux", "abi64", "little", 64, "", 0xa0000407),
            ("powerpc-unknown-freebsd", "powerpc", "freebsd", "", "big", 32, "", 0x0),
            ("powerpc-unknown-linux-gnu", "powerpc", "linux", "", "big", 32, "", 0x0),
            ("powerpc-unknown-linux-gnuspe", "powerpc", "linux", "spe", "big", 32, "", 0x0),
            ("powerpc-unknown-linux-musl", "powerpc", "linux", "", "big", 32, "", 0x0),
            ("powerpc-unknown-netbsd", "powerpc", "netbsd", "", "big", 32, "", 0x0),
            ("powerpc-wrs-vxworks", "powerpc", "vxworks", "", "big", 32, "", 0x0),
            ("powerpc64-unknown-freebsd", "powerpc64", "freebsd", "elfv2", "big", 64, "", 0x2),
            ("powerpc64-unknown-linux-gnu", "powerpc64", "linux", "elfv1", "big", 64, "", 0x0),
            ("powerpc64-unknown-linux-musl", "powerpc64", "linux", "elfv2", "big", 64, "", 0x2),
            ("powerpc64-unknown-openbsd", "powerpc64", "openbsd", "elfv2", "big", 64, "", 0x2),
            ("powerpc64-wrs-vxworks", "powerpc64", "vxworks", "elfv1", "big", 64, "", 0x0),
            ("powerpc64le-unknown-freebsd", "powerpc64", "freebsd", "elfv2", "little", 64, "", 0x2),
            ("powerpc64le-unknown-linux-gnu", "powerpc64", "linux", "elfv2", "little", 64, "", 0x2),
            ("powerpc64le-unknown-linux-musl", "powerpc64", "linux", "elfv2", "little", 64, "", 0x2),
            ("riscv32-wrs-vxworks", "riscv32", "vxworks", "", "little", 32, "c", 0x5),
            ("riscv32e-unknown-none-elf", "riscv32", "none", "ilp32e", "little", 32, "", 0x8),
            ("riscv32em-unknown-none-elf", "riscv32", "none", "ilp32e", "little", 32, "", 0x8),
            ("riscv32emc-unknown-none-elf", "riscv32", "none", "ilp32e", "little", 32, "c", 0x9),
            ("riscv32gc-unknown-linux-gnu", "riscv32", "linux", "", "little", 32, "c", 0x5),
            ("riscv32gc-unknown-linux-musl", "riscv32", "linux", "", "little", 32, "c", 0x5),
            ("riscv32i-unknown-none-elf", "riscv32", "none", "", "little", 32, "", 0x0),
            ("riscv32im-risc0-zkvm-elf", "riscv32", "zkvm", "", "little", 32, "", 0x0),
            ("riscv32im-unknown-none-elf", "riscv32", "none", "", "little", 32, "", 0x0),
            ("riscv32ima-unknown-none-elf", "riscv32", "none", "", "little", 32, "", 0x0),
            ("riscv32imac-esp-espidf", "riscv32", "espidf", "", "little", 32, "c", 0x1),
            ("riscv32imac-unknown-none-elf", "riscv32", "none", "", "little", 32, "c", 0x1),
            ("riscv32imac-unknown-nuttx-elf", "riscv32", "nuttx", "", "little", 32, "c", 0x1),
            ("riscv32imac-unknown-xous-elf", "riscv32", "xous", "", "little", 32, "c", 0x1),
            ("riscv32imafc-esp-espidf", "riscv32", "espidf", "", "little", 32, "c", 0x3),
            ("riscv32imafc-unknown-none-elf", "riscv32", "none", "", "little", 32, "c", 0x3),
            ("riscv32imafc-unknown-nuttx-elf", "riscv32", "nuttx", "", "little", 32, "c", 0x3),
            ("riscv32imc-esp-espidf", "riscv32", "espidf", "", "little", 32, "c", 0x1),
            ("riscv32imc-unknown-none-elf", "riscv32", "none", "", "little", 32, "c", 0x1),
            ("riscv32imc-unknown-nuttx-elf", "riscv32", "nuttx", "", "little", 32, "c", 0x1),
            ("riscv64-linux-android", "riscv64", "android", "", "little", 64, "c", 0x5),
            ("riscv64-wrs-vxworks", "riscv64", "vxworks", "", "little", 64, "c", 0x5),
            ("riscv64a23-unknown-linux-gnu", "riscv64", "linux", "", "little", 64, "c", 0x5),
            ("riscv64gc-unknown-freebsd", "riscv64", "freebsd", "", "little", 64, "c", 0x5),
            ("riscv64gc-unknown-fuchsia", "riscv64", "fuchsia", "", "little", 64, "c", 0x5),
            ("riscv64gc-unknown-hermit", "riscv64", "hermit", "", "little", 64, "c", 0x5),
            ("riscv64gc-unknown-linux-gnu", "riscv64", "linux", "", "little", 64, "c", 0x5),
            ("riscv64gc-unknown-linux-musl", "riscv64", "linux", "", "little", 64, "c", 0x5),
            ("riscv64gc-unknown-managarm-mlibc", "riscv64", "managarm", "", "little", 64, "c", 0x5),
            ("riscv64gc-unknown-netbsd", "riscv64", "netbsd", "", "little", 64, "c", 0x5),
            ("riscv64gc-unknown-none-elf", "riscv64", "none", "", "little", 64, "c", 0x5),
            ("riscv64gc-unknown-nuttx-elf", "riscv64", "nuttx", "", "little", 64, "c", 0x5),
            ("riscv64gc-unknown-openbsd", "riscv64", "openbsd", "", "little", 64, "c", 0x5),
            ("riscv64gc-unknown-redox", "riscv64", "redox", "", "little", 64, "c", 0x5),
            ("riscv64im-unknown-none-elf", "riscv64", "none", "", "little", 64, "", 0x0),
            ("riscv64imac-unknown-none-elf", "riscv64", "none", "", "little", 64, "c", 0x1),
            ("riscv64imac-unknown-nuttx-elf", "riscv64", "nuttx", "", "little", 64, "c", 0x1),
            ("s390x-unknown-linux-gnu", "s390x", "linux", "", "big", 64, "", 0x0),
            ("s390x-unknown-none-softfloat", "s390x", "none", "softfloat", "big", 64, "", 0x0),
            ("sparc-unknown-linux-gnu", "sparc", "linux", "", "big", 32, "", 0x100),
            ("sparc-unknown-none-elf", "sparc", "none", "", "big", 32, "", 0x0),
            ("sparc64-unknown-linux-gnu", "sparc64", "linux", "", "big", 64, "", 0x0),
            ("sparc64-unknown-netbsd", "sparc64", "netbsd", "", "big", 64, "", 0x0),
            ("sparcv9-sun-solaris", "sparc64", "solaris", "", "big", 64, "", 0x0),
            ("x86_64-unknown-linux-gnux32", "x86_64", "linux", "x32", "little", 32, "", 0x0),
        ];
        for &(triple, arch, os, abi, endian, width, features, llvm) in rows {
            let t = synthetic(triple, arch, os, abi, endian, width, features);
            let bytes = write_object(&t, PAYLOAD).unwrap();
            let file = object::File::parse(&*bytes).unwrap();
            let ours = e_flags(&file);
            let expected = match arch {
                // LLVM also sets "noreorder", an assembler directive record no linker checks.
                "mips" | "mips32r6" | "mips64" | "mips64r6" => llvm & !elf::EF_MIPS_NOREORDER.0,
                // LLVM writes no float-ABI bit; we add the hard-float one GNU as writes.
                "arm" if abi == "eabihf" => llvm | elf::EF_ARM_ABI_FLOAT_HARD,
                // LLVM adds CPU bits; rustc and we write only the ABI version.
                "csky" => llvm & 0xf000_0000,
                // lld links Hexagon objects at the highest version among them; 0 is neutral.
                "hexagon" => 0,
                _ => llvm,
            };
            assert_eq!(
                ours, expected,
                "{triple}: ours {ours:#x}, expected {expected:#x} (LLVM {llvm:#x})"
            );
            assert_eq!(file.is_64(), width == 64, "{triple}");
            assert_eq!(
                file.section_by_name(SECTION_NAME).unwrap().data().unwrap(),
                PAYLOAD,
                "{triple}"
            );
        }
    }

    #[test]
    fn riscv_float_abi_comes_from_abi_features_or_isa_string() {
        // Nightly rustc prints the unstable float features; they decide when present.
        let t = synthetic("riscv64-custom", "riscv64", "none", "", "little", 64, "c,f");
        assert_eq!(riscv_e_flags(&t), 0x3);
        let t = synthetic(
            "riscv64-custom",
            "riscv64",
            "none",
            "",
            "little",
            64,
            "c,d,f",
        );
        assert_eq!(riscv_e_flags(&t), 0x5);
        let t = synthetic(
            "riscv32e-unknown-none-elf",
            "riscv32",
            "none",
            "",
            "little",
            32,
            "e",
        );
        assert_eq!(riscv_e_flags(&t), 0x8);
        // A future `target_abi` that names the ABI wins over everything else.
        let t = synthetic(
            "riscv64gc-unknown-linux-gnu",
            "riscv64",
            "linux",
            "lp64",
            "little",
            64,
            "c",
        );
        assert_eq!(riscv_e_flags(&t), 0x1);
        // The ISA string, for stable rustc.
        let t = synthetic(
            "riscv32imafdc-unknown-none-elf",
            "riscv32",
            "none",
            "",
            "little",
            32,
            "",
        );
        assert_eq!(riscv_e_flags(&t), 0x5);
        let t = synthetic(
            "riscv32imac_zba_zbb-unknown-none-elf",
            "riscv32",
            "none",
            "",
            "little",
            32,
            "",
        );
        assert_eq!(riscv_e_flags(&t), 0x1);
        // A custom JSON target is named by its file.
        let t = synthetic(
            "/targets/riscv64gc-custom.json",
            "riscv64",
            "none",
            "",
            "little",
            64,
            "",
        );
        assert_eq!(riscv_e_flags(&t), 0x5);
    }

    #[test]
    fn macho_build_version_and_subtype_match_rustc() {
        fn build(t: &TargetInfo) -> (u32, u32, u32, u32) {
            let bytes = write_object(t, PAYLOAD).unwrap();
            let file = MachOFile64::<Endianness>::parse(&*bytes).unwrap();
            let endian = file.endian();
            let (bv, _tools) = file.build_version().unwrap().unwrap();
            let header = file.macho_header();
            (
                bv.platform.get(endian).0,
                bv.minos.get(endian).0,
                bv.sdk.get(endian).0,
                header.cpusubtype.get(endian).0,
            )
        }
        assert_eq!(
            build(&target("x86_64-apple-darwin")),
            (1, 0x000a_0c00, 0, 3)
        );
        assert_eq!(
            build(&target("aarch64-apple-darwin")),
            (1, 0x000b_0000, 0, 0)
        );
        assert_eq!(
            build(&target("aarch64-apple-ios-sim")),
            (7, 0x000e_0000, 0, 0)
        );

        let mut t = target("aarch64-apple-darwin");
        t.apple_deployment_target = Some((13, 4, 1));
        assert_eq!(
            build(&t).1,
            0x000d_0401,
            "rustc's answer wins over the defaults"
        );

        let apple = |triple, arch, os, abi| {
            let mut cfg = format!(
                "target_arch=\"{arch}\"\ntarget_os=\"{os}\"\ntarget_abi=\"{abi}\"\ntarget_env=\"{abi}\"\n\
                 target_vendor=\"apple\"\ntarget_endian=\"little\"\ntarget_pointer_width=\"64\"\n"
            );
            cfg.push_str("target_family=\"unix\"\n");
            TargetInfo::from_cfg(triple, &cfg).unwrap()
        };
        assert_eq!(
            build(&apple("aarch64-apple-ios", "aarch64", "ios", "")).0,
            2
        );
        assert_eq!(
            build(&apple("aarch64-apple-ios", "aarch64", "ios", "")).1,
            0x000a_0000
        );
        assert_eq!(
            build(&apple(
                "aarch64-apple-ios-macabi",
                "aarch64",
                "ios",
                "macabi"
            ))
            .0,
            6
        );
        assert_eq!(
            build(&apple("x86_64-apple-ios-macabi", "x86_64", "ios", "macabi")).1,
            0x000d_0100
        );
        assert_eq!(
            build(&apple("x86_64-apple-ios", "x86_64", "ios", "")).0,
            7,
            "Intel iOS is the simulator"
        );
        assert_eq!(
            build(&apple("aarch64-apple-tvos", "aarch64", "tvos", "")).0,
            3
        );
        assert_eq!(
            build(&apple("aarch64-apple-tvos-sim", "aarch64", "tvos", "sim")).0,
            8
        );
        assert_eq!(
            build(&apple(
                "aarch64-apple-watchos-sim",
                "aarch64",
                "watchos",
                "sim"
            )),
            (9, 0x0007_0000, 0, 0)
        );
        assert_eq!(
            build(&apple("aarch64-apple-visionos", "aarch64", "visionos", "")).0,
            11
        );
        assert_eq!(
            build(&apple(
                "aarch64-apple-visionos-sim",
                "aarch64",
                "visionos",
                "sim"
            ))
            .0,
            12
        );
        // arm64e and x86_64h are separate architectures to ld64; LLVM's subtypes.
        assert_eq!(
            build(&apple("arm64e-apple-darwin", "aarch64", "macos", "")).3,
            0x8000_0002
        );
        assert_eq!(
            build(&apple("x86_64h-apple-darwin", "x86_64", "macos", "")).3,
            8
        );
    }

    #[test]
    fn watchos_arm64_32_is_ilp32_macho() {
        let cfg = "target_arch=\"aarch64\"\ntarget_os=\"watchos\"\ntarget_vendor=\"apple\"\n\
                   target_endian=\"little\"\ntarget_pointer_width=\"32\"\n";
        let t = TargetInfo::from_cfg("arm64_32-apple-watchos", cfg).unwrap();
        let bytes = write_object(&t, PAYLOAD).unwrap();
        let file = object::File::parse(&*bytes).unwrap();
        assert_eq!(file.architecture(), object::Architecture::Aarch64_Ilp32);
        assert_eq!(file.format(), BinaryFormat::MachO);
        assert_eq!(read_back(&bytes).1, PAYLOAD);
    }

    #[test]
    fn wasm_object_is_header_linking_then_payload() {
        for triple in ["wasm32-unknown-unknown", "wasm32-wasip1"] {
            let t = target(triple);
            assert_eq!(linker_symbol_name(&t), None);
            let bytes = write_object(&t, PAYLOAD).unwrap();
            let mut expected = b"\0asm\x01\0\0\0".to_vec();
            expected.extend_from_slice(&[0, 9, 7]);
            expected.extend_from_slice(b"linking\x02");
            expected.extend_from_slice(&[0, (1 + SECTION_NAME.len() + PAYLOAD.len()) as u8, 7]);
            expected.extend_from_slice(b".dep-v0");
            expected.extend_from_slice(PAYLOAD);
            assert_eq!(bytes, expected, "{triple}");
        }
    }

    #[test]
    fn wasm_sizes_are_leb128() {
        let big = vec![0xabu8; 300];
        let bytes = write_object(&target("wasm32-unknown-unknown"), &big).unwrap();
        // 1 (name length) + 7 (name) + 300 = 308 = 0b1_0011_0100 → 0xb4 0x02.
        let at = 8 + 11;
        assert_eq!(bytes[at..at + 4], [0, 0xb4, 0x02, 7]);
        assert_eq!(&bytes[at + 4..at + 11], b".dep-v0");
        assert_eq!(&bytes[at + 11..], &big[..]);

        let mut out = Vec::new();
        leb128(&mut out, 0);
        leb128(&mut out, 127);
        leb128(&mut out, 128);
        leb128(&mut out, 624_485);
        assert_eq!(out, [0x00, 0x7f, 0x80, 0x01, 0xe5, 0x8e, 0x26]);
    }

    #[test]
    fn wasm64_object_imports_a_64_bit_memory() {
        let t = synthetic(
            "wasm64-unknown-unknown",
            "wasm64",
            "unknown",
            "",
            "little",
            64,
            "",
        );
        let bytes = write_object(&t, PAYLOAD).unwrap();
        let mut import = vec![2, 24, 1, 3];
        import.extend_from_slice(b"env");
        import.push(15);
        import.extend_from_slice(b"__linear_memory");
        import.extend_from_slice(&[2, 4, 0]);
        assert_eq!(&bytes[8..8 + import.len()], &import[..]);
        assert_eq!(
            &bytes[8 + import.len()..8 + import.len() + 11],
            b"\0\x09\x07linking\x02"
        );
        assert!(bytes.ends_with(PAYLOAD));
    }

    #[test]
    fn unsupported_targets_are_named() {
        let t = synthetic(
            "nvptx64-nvidia-cuda",
            "nvptx64",
            "cuda",
            "",
            "little",
            64,
            "",
        );
        let err = write_object(&t, PAYLOAD).unwrap_err();
        assert!(matches!(err, ObjectError::UnsupportedTarget { .. }));
        let msg = err.to_string();
        assert!(
            msg.contains("nvptx64-nvidia-cuda") && msg.contains("`nvptx64`"),
            "{msg}"
        );

        let t = synthetic("avr-none", "avr", "none", "", "little", 16, "");
        let msg = write_object(&t, PAYLOAD).unwrap_err().to_string();
        assert!(msg.contains("avr-none") && msg.contains("MCU"), "{msg}");

        let t = synthetic(
            "powerpc64-ibm-aix",
            "powerpc64",
            "aix",
            "vec-extabi",
            "big",
            64,
            "",
        );
        let msg = write_object(&t, PAYLOAD).unwrap_err().to_string();
        assert!(
            msg.contains("powerpc64-ibm-aix") && msg.contains("XCOFF"),
            "{msg}"
        );

        let t = synthetic(
            "riscv64-pc-windows-gnu",
            "riscv64",
            "windows",
            "",
            "little",
            64,
            "",
        );
        let msg = write_object(&t, PAYLOAD).unwrap_err().to_string();
        assert!(
            msg.contains("riscv64-pc-windows-gnu") && msg.contains("COFF"),
            "{msg}"
        );
    }

    #[test]
    fn coff_variants() {
        let uefi = synthetic("i686-unknown-uefi", "x86", "uefi", "", "little", 32, "");
        let bytes = write_object(&uefi, PAYLOAD).unwrap();
        let (file, data, name, _) = read_back(&bytes);
        assert_eq!(
            (file.format(), data.as_slice(), name.as_str()),
            (BinaryFormat::Coff, PAYLOAD, "_AUDITABLE_VERSION_INFO")
        );

        let arm64ec = synthetic(
            "arm64ec-pc-windows-msvc",
            "arm64ec",
            "windows",
            "",
            "little",
            64,
            "",
        );
        let bytes = write_object(&arm64ec, PAYLOAD).unwrap();
        let (file, data, name, _) = read_back(&bytes);
        assert_eq!(file.architecture(), object::Architecture::Aarch64);
        assert_eq!(file.sub_architecture(), Some(SubArchitecture::Arm64EC));
        assert_eq!((data.as_slice(), name.as_str()), (PAYLOAD, SYMBOL_NAME));
    }

    #[test]
    fn empty_payload_still_writes() {
        for (triple, _) in ALL {
            let t = target(triple);
            let bytes = write_object(&t, &[]).unwrap();
            if t.is_wasm() {
                assert!(bytes.ends_with(b".dep-v0"), "{triple}");
            } else {
                assert!(read_back(&bytes).1.is_empty(), "{triple}");
            }
        }
    }
}
