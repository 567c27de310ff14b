//! Writer → reader in memory, for every object format, bitness and byte order the writer
//! supports: no linker involved, so a disagreement is between our two halves alone.

use std::path::Path;

use binaudit::binary::{inspect_bytes, ImageManifest};
use binaudit::decode::Limits;
use binaudit::extract::{locate, ContainerFormat, Endian};
use linker_section::encode::compress_manifest;
use linker_section::object_file::write_object;
use linker_section::target::TargetInfo;
use linker_section::{DependencyKind, Manifest, Package, Source};

/// (triple, container, target_arch as the reader names it, bits, big-endian)
const TARGETS: &[(&str, ContainerFormat, &str, u8, bool)] = &[
    (
        "x86_64-unknown-linux-gnu",
        ContainerFormat::Elf,
        "x86_64",
        64,
        false,
    ),
    (
        "x86_64-unknown-linux-gnux32",
        ContainerFormat::Elf,
        "x86_64",
        32,
        false,
    ),
    (
        "i686-unknown-linux-gnu",
        ContainerFormat::Elf,
        "x86",
        32,
        false,
    ),
    (
        "aarch64-unknown-linux-gnu",
        ContainerFormat::Elf,
        "aarch64",
        64,
        false,
    ),
    (
        "aarch64_be-unknown-linux-gnu",
        ContainerFormat::Elf,
        "aarch64",
        64,
        true,
    ),
    (
        "armv7-unknown-linux-gnueabihf",
        ContainerFormat::Elf,
        "arm",
        32,
        false,
    ),
    (
        "s390x-unknown-linux-gnu",
        ContainerFormat::Elf,
        "s390x",
        64,
        true,
    ),
    (
        "powerpc-unknown-linux-gnu",
        ContainerFormat::Elf,
        "powerpc",
        32,
        true,
    ),
    (
        "powerpc64le-unknown-linux-gnu",
        ContainerFormat::Elf,
        "powerpc64",
        64,
        false,
    ),
    (
        "mips-unknown-linux-gnu",
        ContainerFormat::Elf,
        "mips",
        32,
        true,
    ),
    (
        "mips64el-unknown-linux-gnuabi64",
        ContainerFormat::Elf,
        "mips64",
        64,
        false,
    ),
    (
        "riscv64gc-unknown-linux-gnu",
        ContainerFormat::Elf,
        "riscv64",
        64,
        false,
    ),
    (
        "riscv32imac-unknown-none-elf",
        ContainerFormat::Elf,
        "riscv32",
        32,
        false,
    ),
    (
        "loongarch64-unknown-linux-gnu",
        ContainerFormat::Elf,
        "loongarch64",
        64,
        false,
    ),
    (
        "sparc64-unknown-linux-gnu",
        ContainerFormat::Elf,
        "sparc64",
        64,
        true,
    ),
    (
        "x86_64-unknown-freebsd",
        ContainerFormat::Elf,
        "x86_64",
        64,
        false,
    ),
    (
        "x86_64-apple-darwin",
        ContainerFormat::MachO,
        "x86_64",
        64,
        false,
    ),
    (
        "aarch64-apple-darwin",
        ContainerFormat::MachO,
        "aarch64",
        64,
        false,
    ),
    (
        "aarch64-apple-ios",
        ContainerFormat::MachO,
        "aarch64",
        64,
        false,
    ),
    (
        "x86_64-pc-windows-gnu",
        ContainerFormat::Coff,
        "x86_64",
        64,
        false,
    ),
    (
        "x86_64-pc-windows-msvc",
        ContainerFormat::Coff,
        "x86_64",
        64,
        false,
    ),
    (
        "i686-pc-windows-msvc",
        ContainerFormat::Coff,
        "x86",
        32,
        false,
    ),
    (
        "aarch64-pc-windows-msvc",
        ContainerFormat::Coff,
        "aarch64",
        64,
        false,
    ),
    (
        "wasm32-unknown-unknown",
        ContainerFormat::Wasm,
        "wasm32",
        32,
        false,
    ),
    ("wasm32-wasip1", ContainerFormat::Wasm, "wasm32", 32, false),
];

fn sample_manifest() -> Manifest {
    let p = |name: &str, source, kind, deps: &[usize], root| Package {
        name: name.into(),
        version: semver::Version::parse("1.2.3-beta.1+build.5").unwrap(),
        source,
        kind,
        dependencies: deps.to_vec(),
        root,
    };
    Manifest::new(
        vec![
            p("app", Source::Local, DependencyKind::Runtime, &[1, 2], true),
            p("proc", Source::CratesIo, DependencyKind::Build, &[], false),
            p("serde", Source::Git, DependencyKind::Runtime, &[], false),
        ],
        1,
    )
    .unwrap()
}

#[test]
fn every_supported_target_round_trips_in_memory() {
    let manifest = sample_manifest();
    let payload = compress_manifest(&manifest);
    for &(triple, format, arch, bits, big) in TARGETS {
        let target = TargetInfo::query(Path::new("rustc"), triple)
            .unwrap_or_else(|e| panic!("{triple}: {e}"));
        let object = write_object(&target, &payload).unwrap_or_else(|e| panic!("{triple}: {e}"));

        let located = locate(object.as_slice()).unwrap_or_else(|e| panic!("{triple}: {e}"));
        assert_eq!(located.format, format, "{triple}");
        let [image] = located.images.as_slice() else {
            panic!("{triple}: one image expected")
        };
        assert_eq!(image.arch.as_str(), arch, "{triple}");
        assert_eq!(image.bits, bits, "{triple}");
        assert_eq!(
            image.endian,
            if big { Endian::Big } else { Endian::Little },
            "{triple}"
        );
        let section = image
            .section
            .as_ref()
            .unwrap_or_else(|| panic!("{triple}: no section"));
        assert_eq!(section.name, ".dep-v0", "{triple}");
        let start = usize::try_from(section.offset).unwrap();
        let end = start + usize::try_from(section.size).unwrap();
        assert_eq!(
            &object[start..end],
            payload.as_slice(),
            "{triple}: section bytes"
        );

        let report = inspect_bytes(&object, &Limits::default()).unwrap();
        match &report.images[0].manifest {
            ImageManifest::Found { decoded, .. } => {
                assert_eq!(decoded.manifest, manifest, "{triple}");
                assert_eq!(decoded.json, manifest.to_json().as_bytes(), "{triple}");
            }
            other => panic!("{triple}: {other:?}"),
        }
    }
}

#[test]
fn an_unsupported_architecture_names_the_target() {
    let target = TargetInfo::query(Path::new("rustc"), "nvptx64-nvidia-cuda").unwrap();
    let err = write_object(&target, b"x").unwrap_err().to_string();
    assert!(err.contains("nvptx64-nvidia-cuda"), "{err}");
}
