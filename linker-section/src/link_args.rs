//! How the manifest object gets into the link and stays there.
//!
//! rustc is given the object as `-C link-arg=<path>`, which puts it on the linker's command
//! line as an input file: an object named directly is always loaded, unlike an archive member.
//! Loaded is not kept, though: `--gc-sections`, `-dead_strip` and `/OPT:REF` drop sections
//! nothing refers to. So the link also names the object's symbol as undefined, which roots it:
//!
//! | linker, as rustc drives it | keep-alive |
//! |---|---|
//! | a C compiler driver (`cc`, `gcc`, `clang`, `zig cc`) on ELF or MinGW | `-Wl,-u,AUDITABLE_VERSION_INFO` |
//! | the same on Apple | `-Wl,-u,_AUDITABLE_VERSION_INFO` |
//! | a bare GNU-style linker (`ld`, `ld.lld`, `rust-lld -flavor gnu`) | `-u` `AUDITABLE_VERSION_INFO` |
//! | bare ld64 (`ld64`, `ld64.lld`) | `-u` `_AUDITABLE_VERSION_INFO` |
//! | `link.exe`, `lld-link` | `/INCLUDE:AUDITABLE_VERSION_INFO` |
//! | `wasm-ld` | nothing: custom sections are always kept |
//!
//! The symbol takes the `_` prefix of Mach-O and of 32-bit x86 COFF (both MSVC and MinGW);
//! [`crate::object_file::linker_symbol_name`] owns that rule. `-u` is always its own
//! argument followed by the name: `zig cc` (cargo-zigbuild) rejects `--undefined=`.
//!
//! Which row applies is what rustc believes about its linker, so [`detect_flavor`] mirrors
//! rustc: an explicit `-C linker-flavor` decides; otherwise the target's linker family
//! (GNU, Darwin, MSVC, wasm) stays and the name of `-C linker` only tells a compiler driver
//! from a bare linker (`rustc_target`'s `LinkerFlavor::with_linker_hints`). Cargo turns
//! `CARGO_TARGET_<TRIPLE>_LINKER` and `target.<triple>.linker` into `-C linker=`, so the
//! rustc arguments (with `@argfile`s expanded) are the whole story.

use std::ffi::{OsStr, OsString};
use std::path::Path;

use crate::object_file::linker_symbol_name;
use crate::target::TargetInfo;

/// The kind of linker rustc drives, as far as the keep-alive argument is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkerFlavor {
    /// A C compiler driver: `cc`, `gcc`, `clang`, `zig cc` and wrapper scripts around them.
    Gcc,
    /// A bare GNU-style linker: `ld`, `ld.lld`, `rust-lld -flavor gnu`.
    Ld,
    /// A C compiler driver that runs ld64 (Apple's `cc`/`clang`).
    Darwin,
    /// Bare ld64 (`ld64`, `ld64.lld`, `rust-lld -flavor darwin`).
    DarwinLd,
    /// `link.exe` or `lld-link`.
    Msvc,
    /// `wasm-ld` (`rust-lld -flavor wasm`), directly or through a driver.
    Wasm,
}

/// Which linker command-line dialect a flavor speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Gnu,
    Darwin,
    Msvc,
    Wasm,
}

/// Decides the flavor from rustc's arguments and the target, as rustc itself would.
///
/// 1. `-C linker-flavor=…` (the last one, as for rustc), in either spelling (`gcc`, `ld`,
///    `msvc`, `em`, `wasm-ld`, `ld.lld`, `ld64.lld`, `lld-link`, `gnu-cc`, `darwin-lld`, …).
/// 2. Otherwise the target's default family, refined by the file name of `-C linker=…`:
///    `cc`, `gcc`, `clang` (with any `<triple>-` prefix or `-<version>` suffix), `zig` and
///    wrapper scripts whose name contains `zig`, `emcc` are drivers; `ld`, `ld.lld`, `ld.bfd`,
///    `ld.gold`, `mold`, `rust-lld`, `lld` are bare linkers; `ld64*`, `lld-link`, `link` and
///    `wasm-ld` also name their family.
/// 3. Otherwise the target's default: MSVC for `*-msvc` and UEFI, Darwin (driver) for Apple,
///    wasm for wasm, a bare linker (`rust-lld`) for bare-metal `none` targets (except MSP430,
///    AVR and Xtensa, whose defaults are GCC drivers), and a GCC driver for everything else.
pub fn detect_flavor(target: &TargetInfo, rustc_args: &[OsString]) -> LinkerFlavor {
    let (default_family, default_cc) = target_default(target);
    let rustc_args = expand_argfiles(rustc_args);

    if let Some(flavor) = codegen_option(&rustc_args, "linker-flavor") {
        if let Some((family, cc)) = parse_flavor(&flavor.to_string_lossy()) {
            // `gcc`/`ld` are spelled the same for GNU and Darwin targets; the target decides.
            let family = match (family, default_family) {
                (Family::Gnu, Family::Darwin) => Family::Darwin,
                (family, _) => family,
            };
            return flavor_of(family, cc.unwrap_or(default_cc));
        }
    }

    if let Some(linker) = codegen_option(&rustc_args, "linker") {
        let (family, cc) = linker_hints(&linker);
        return flavor_of(family.unwrap_or(default_family), cc.unwrap_or(default_cc));
    }

    flavor_of(default_family, default_cc)
}

/// The extra rustc arguments: the object itself, then the keep-alive for `flavor`.
pub fn link_args(target: &TargetInfo, flavor: LinkerFlavor, object_path: &Path) -> Vec<OsString> {
    let mut object_arg = OsString::from("link-arg=");
    object_arg.push(object_path.as_os_str());
    let mut args = vec![OsString::from("-C"), object_arg];

    let Some(symbol) = linker_symbol_name(target) else {
        return args; // wasm: custom sections need no keep-alive.
    };
    let link_arg = |value: String| {
        [
            OsString::from("-C"),
            OsString::from(format!("link-arg={value}")),
        ]
    };
    match flavor {
        LinkerFlavor::Gcc | LinkerFlavor::Darwin => {
            args.extend(link_arg(format!("-Wl,-u,{symbol}")))
        }
        LinkerFlavor::Ld | LinkerFlavor::DarwinLd => {
            args.extend(link_arg("-u".to_owned()));
            args.extend(link_arg(symbol));
        }
        LinkerFlavor::Msvc => args.extend(link_arg(format!("/INCLUDE:{symbol}"))),
        LinkerFlavor::Wasm => {}
    }
    args
}

fn flavor_of(family: Family, cc: bool) -> LinkerFlavor {
    match (family, cc) {
        (Family::Gnu, true) => LinkerFlavor::Gcc,
        (Family::Gnu, false) => LinkerFlavor::Ld,
        (Family::Darwin, true) => LinkerFlavor::Darwin,
        (Family::Darwin, false) => LinkerFlavor::DarwinLd,
        (Family::Msvc, _) => LinkerFlavor::Msvc,
        (Family::Wasm, _) => LinkerFlavor::Wasm,
    }
}

/// The target's default linker: its family, and whether a compiler driver runs it.
fn target_default(target: &TargetInfo) -> (Family, bool) {
    if target.is_wasm() {
        (Family::Wasm, false)
    } else if target.is_apple() {
        (Family::Darwin, true)
    } else if target.is_msvc() || target.os == "uefi" {
        (Family::Msvc, false)
    } else if target.os == "none" && !matches!(target.arch.as_str(), "msp430" | "avr" | "xtensa") {
        // Bare-metal targets link with rust-lld in its GNU flavor.
        (Family::Gnu, false)
    } else {
        (Family::Gnu, true)
    }
}

/// Replaces `@path` arguments by the file's lines, as rustc does (cargo passes an argfile
/// when the command line is too long). A file that cannot be read stays as it is.
fn expand_argfiles(args: &[OsString]) -> Vec<OsString> {
    let mut out = Vec::with_capacity(args.len());
    for arg in args {
        let contents = arg
            .to_str()
            .and_then(|a| a.strip_prefix('@'))
            .filter(|path| !path.starts_with("shell:"))
            .and_then(|path| std::fs::read_to_string(path).ok());
        match contents {
            Some(contents) => out.extend(contents.lines().map(OsString::from)),
            None => out.push(arg.clone()),
        }
    }
    out
}

/// The value of the last `-C <name>=…` (also `-C<name>=…`, `--codegen <name>=…`,
/// `--codegen=<name>=…`) among rustc's arguments.
fn codegen_option(args: &[OsString], name: &str) -> Option<OsString> {
    let mut found = None;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let arg = arg.to_string_lossy();
        let value = match arg.as_ref() {
            "-C" | "--codegen" => match iter.next() {
                Some(next) => next.to_string_lossy().into_owned(),
                None => break,
            },
            other => match other
                .strip_prefix("--codegen=")
                .or_else(|| other.strip_prefix("-C"))
            {
                Some(rest) => rest.to_owned(),
                None => continue,
            },
        };
        if let Some(v) = value
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix('='))
        {
            found = Some(OsString::from(v));
        }
    }
    found
}

/// Understands rustc's `-C linker-flavor` values, old and new spellings: the family (where
/// the value names one) and whether a driver is used (where it says).
fn parse_flavor(flavor: &str) -> Option<(Family, Option<bool>)> {
    Some(match flavor {
        "gcc" | "gnu-cc" | "gnu-lld-cc" | "unix-cc" => (Family::Gnu, Some(true)),
        "ld" | "ld.lld" | "gnu" | "gnu-lld" | "unix" | "bpf" => (Family::Gnu, Some(false)),
        "darwin-cc" | "darwin-lld-cc" => (Family::Darwin, Some(true)),
        "ld64.lld" | "darwin" | "darwin-lld" => (Family::Darwin, Some(false)),
        "msvc" | "lld-link" | "msvc-lld" | "msvc-link" => (Family::Msvc, None),
        "em" | "em-cc" | "wasm-ld" | "wasm-lld" | "wasm-lld-cc" => (Family::Wasm, None),
        _ => return None,
    })
}

/// What the name of `-C linker` says: maybe a family, maybe driver-or-bare.
fn linker_hints(linker: &OsStr) -> (Option<Family>, Option<bool>) {
    let lossy = linker.to_string_lossy();
    // Windows paths may reach us on any host; take the last component by hand.
    let file = lossy
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(&lossy)
        .to_ascii_lowercase();
    let file = file.strip_suffix(".exe").unwrap_or(&file);
    // `clang-17`, `gcc-13`: drop a numeric version suffix, as rustc does.
    let stem = match file.rsplit_once('-') {
        Some((base, version))
            if !version.is_empty() && version.chars().all(|c| c.is_ascii_digit() || c == '.') =>
        {
            base
        }
        _ => file,
    };

    let is = |name: &str| stem == name || stem.ends_with(&format!("-{name}"));
    if is("wasm-ld") || stem == "wasm-component-ld" {
        (Some(Family::Wasm), Some(false))
    } else if stem == "lld-link" || stem == "link" {
        (Some(Family::Msvc), Some(false))
    } else if stem.starts_with("ld64") {
        (Some(Family::Darwin), Some(false))
    } else if is("ld")
        || is("ld.lld")
        || is("ld.bfd")
        || is("ld.gold")
        || is("ld.mold")
        || is("mold")
        || stem == "rust-lld"
        || stem == "lld"
    {
        (None, Some(false))
    } else if stem == "emcc" {
        (Some(Family::Wasm), Some(true))
    } else if is("cc")
        || is("c++")
        || is("gcc")
        || is("g++")
        || is("clang")
        || is("clang++")
        || stem.contains("zig")
    {
        (None, Some(true))
    } else {
        (None, None)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::target::fixtures::{synthetic, target};

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn strings(list: Vec<OsString>) -> Vec<String> {
        list.into_iter().map(|s| s.into_string().unwrap()).collect()
    }

    #[test]
    fn target_defaults() {
        let cases = [
            ("x86_64-unknown-linux-gnu", LinkerFlavor::Gcc),
            ("aarch64-unknown-linux-gnu", LinkerFlavor::Gcc),
            ("riscv32imac-unknown-none-elf", LinkerFlavor::Ld),
            ("x86_64-unknown-none", LinkerFlavor::Ld),
            ("x86_64-apple-darwin", LinkerFlavor::Darwin),
            ("aarch64-apple-ios-sim", LinkerFlavor::Darwin),
            ("x86_64-pc-windows-gnu", LinkerFlavor::Gcc),
            ("i686-pc-windows-gnu", LinkerFlavor::Gcc),
            ("x86_64-pc-windows-msvc", LinkerFlavor::Msvc),
            ("i686-pc-windows-msvc", LinkerFlavor::Msvc),
            ("wasm32-unknown-unknown", LinkerFlavor::Wasm),
            ("wasm32-wasip1", LinkerFlavor::Wasm),
        ];
        for (triple, flavor) in cases {
            assert_eq!(detect_flavor(&target(triple), &[]), flavor, "{triple}");
        }
        let uefi = synthetic(
            "x86_64-unknown-uefi",
            "x86_64",
            "uefi",
            "",
            "little",
            64,
            "",
        );
        assert_eq!(detect_flavor(&uefi, &[]), LinkerFlavor::Msvc);
        let msp430 = synthetic("msp430-none-elf", "msp430", "none", "", "little", 16, "");
        assert_eq!(detect_flavor(&msp430, &[]), LinkerFlavor::Gcc);
    }

    #[test]
    fn linker_names_refine_the_target_default() {
        let linux = target("x86_64-unknown-linux-gnu");
        let mac = target("aarch64-apple-darwin");
        let msvc = target("x86_64-pc-windows-msvc");
        let wasm = target("wasm32-unknown-unknown");
        let none = target("x86_64-unknown-none");
        let cases: &[(&TargetInfo, &str, LinkerFlavor)] = &[
            (&linux, "cc", LinkerFlavor::Gcc),
            (&linux, "/usr/bin/gcc", LinkerFlavor::Gcc),
            (&linux, "x86_64-linux-gnu-gcc", LinkerFlavor::Gcc),
            (&linux, "aarch64-linux-musl-cc", LinkerFlavor::Gcc),
            (&linux, "clang-17", LinkerFlavor::Gcc),
            (&linux, "/opt/llvm/bin/clang++", LinkerFlavor::Gcc),
            (&linux, "zig", LinkerFlavor::Gcc),
            (
                &linux,
                "/home/u/.cache/cargo-zigbuild/0.19.8/zigcc-x86_64-unknown-linux-gnu-63ac.sh",
                LinkerFlavor::Gcc,
            ),
            (&linux, "ld", LinkerFlavor::Ld),
            (&linux, "x86_64-linux-gnu-ld", LinkerFlavor::Ld),
            (&linux, "ld.lld", LinkerFlavor::Ld),
            (&linux, "ld.bfd", LinkerFlavor::Ld),
            (&linux, "rust-lld", LinkerFlavor::Ld),
            (&linux, "some-unknown-wrapper", LinkerFlavor::Gcc),
            (&none, "rust-lld", LinkerFlavor::Ld),
            (&none, "arm-none-eabi-gcc", LinkerFlavor::Gcc),
            (&mac, "clang", LinkerFlavor::Darwin),
            (&mac, "ld64", LinkerFlavor::DarwinLd),
            (&mac, "ld64.lld", LinkerFlavor::DarwinLd),
            (&mac, "rust-lld", LinkerFlavor::DarwinLd),
            (&mac, "ld", LinkerFlavor::DarwinLd),
            (&msvc, "link.exe", LinkerFlavor::Msvc),
            (
                &msvc,
                r"C:\Program Files\LLVM\bin\lld-link.exe",
                LinkerFlavor::Msvc,
            ),
            (&msvc, "rust-lld", LinkerFlavor::Msvc),
            (&wasm, "wasm-ld", LinkerFlavor::Wasm),
            (&wasm, "rust-lld", LinkerFlavor::Wasm),
            (&wasm, "emcc", LinkerFlavor::Wasm),
        ];
        for (t, linker, flavor) in cases {
            let given = args(&[
                "--crate-type",
                "bin",
                "-C",
                &format!("linker={linker}"),
                "main.rs",
            ]);
            assert_eq!(
                detect_flavor(t, &given),
                *flavor,
                "{} with {linker}",
                t.triple
            );
        }
    }

    #[test]
    fn all_spellings_of_codegen_options_are_read() {
        let linux = target("x86_64-unknown-linux-gnu");
        for given in [
            args(&["-C", "linker=ld.lld"]),
            args(&["-Clinker=ld.lld"]),
            args(&["--codegen", "linker=ld.lld"]),
            args(&["--codegen=linker=ld.lld"]),
            args(&["-C", "linker=cc", "-C", "linker=ld.lld"]),
        ] {
            assert_eq!(detect_flavor(&linux, &given), LinkerFlavor::Ld, "{given:?}");
        }
        // `-C linker-plugin-lto` and friends are not `-C linker=`.
        let given = args(&["-C", "linker-plugin-lto", "-Clinker-flavor-x=1"]);
        assert_eq!(detect_flavor(&linux, &given), LinkerFlavor::Gcc);
        // A trailing `-C` without a value is ignored.
        assert_eq!(detect_flavor(&linux, &args(&["-C"])), LinkerFlavor::Gcc);
    }

    #[test]
    fn argfiles_are_read() {
        let path = std::env::temp_dir().join(format!("binaudit-argfile-{}", std::process::id()));
        std::fs::write(&path, "--crate-type\nbin\n-C\nlinker=rust-lld\n").unwrap();
        let given = vec![OsString::from(format!("@{}", path.display()))];
        let flavor = detect_flavor(&target("x86_64-unknown-linux-gnu"), &given);
        let _ = std::fs::remove_file(&path);
        assert_eq!(flavor, LinkerFlavor::Ld);
        // An argfile that is not there is just an argument.
        let given = args(&["@/nonexistent/binaudit-argfile"]);
        assert_eq!(
            detect_flavor(&target("x86_64-unknown-linux-gnu"), &given),
            LinkerFlavor::Gcc
        );
    }

    #[test]
    fn linker_flavor_wins_over_linker_name() {
        let linux = target("x86_64-unknown-linux-gnu");
        let mac = target("x86_64-apple-darwin");
        let msvc = target("i686-pc-windows-msvc");
        let cases: &[(&TargetInfo, &[&str], LinkerFlavor)] = &[
            (
                &linux,
                &["-C", "linker-flavor=ld", "-C", "linker=cc"],
                LinkerFlavor::Ld,
            ),
            (
                &linux,
                &["-Clinker-flavor=gcc", "-Clinker=rust-lld"],
                LinkerFlavor::Gcc,
            ),
            (&linux, &["-Clinker-flavor=ld.lld"], LinkerFlavor::Ld),
            (&linux, &["-Clinker-flavor=gnu-lld-cc"], LinkerFlavor::Gcc),
            (&linux, &["-Clinker-flavor=gnu-lld"], LinkerFlavor::Ld),
            (&mac, &["-Clinker-flavor=gcc"], LinkerFlavor::Darwin),
            (&mac, &["-Clinker-flavor=ld"], LinkerFlavor::DarwinLd),
            (&mac, &["-Clinker-flavor=ld64.lld"], LinkerFlavor::DarwinLd),
            (
                &mac,
                &["-Clinker-flavor=darwin-lld-cc"],
                LinkerFlavor::Darwin,
            ),
            (
                &msvc,
                &["-Clinker-flavor=lld-link", "-Clinker=clang"],
                LinkerFlavor::Msvc,
            ),
            (&linux, &["-Clinker-flavor=wasm-ld"], LinkerFlavor::Wasm),
            // An unknown flavor falls through to the linker name.
            (
                &linux,
                &["-Clinker-flavor=ptx-linker", "-Clinker=ld"],
                LinkerFlavor::Ld,
            ),
        ];
        for (t, given, flavor) in cases {
            assert_eq!(
                detect_flavor(t, &args(given)),
                *flavor,
                "{} {given:?}",
                t.triple
            );
        }
    }

    #[test]
    fn keep_alive_per_flavor() {
        let obj = Path::new("/out/app-1234_audit_data.o");
        let o = "link-arg=/out/app-1234_audit_data.o";
        let cases: &[(&str, LinkerFlavor, &[&str])] = &[
            (
                "x86_64-unknown-linux-gnu",
                LinkerFlavor::Gcc,
                &["-C", o, "-C", "link-arg=-Wl,-u,AUDITABLE_VERSION_INFO"],
            ),
            (
                "x86_64-unknown-linux-gnu",
                LinkerFlavor::Ld,
                &[
                    "-C",
                    o,
                    "-C",
                    "link-arg=-u",
                    "-C",
                    "link-arg=AUDITABLE_VERSION_INFO",
                ],
            ),
            (
                "x86_64-unknown-none",
                LinkerFlavor::Ld,
                &[
                    "-C",
                    o,
                    "-C",
                    "link-arg=-u",
                    "-C",
                    "link-arg=AUDITABLE_VERSION_INFO",
                ],
            ),
            (
                "aarch64-apple-darwin",
                LinkerFlavor::Darwin,
                &["-C", o, "-C", "link-arg=-Wl,-u,_AUDITABLE_VERSION_INFO"],
            ),
            (
                "aarch64-apple-darwin",
                LinkerFlavor::DarwinLd,
                &[
                    "-C",
                    o,
                    "-C",
                    "link-arg=-u",
                    "-C",
                    "link-arg=_AUDITABLE_VERSION_INFO",
                ],
            ),
            (
                "x86_64-pc-windows-msvc",
                LinkerFlavor::Msvc,
                &["-C", o, "-C", "link-arg=/INCLUDE:AUDITABLE_VERSION_INFO"],
            ),
            (
                "i686-pc-windows-msvc",
                LinkerFlavor::Msvc,
                &["-C", o, "-C", "link-arg=/INCLUDE:_AUDITABLE_VERSION_INFO"],
            ),
            (
                "x86_64-pc-windows-gnu",
                LinkerFlavor::Gcc,
                &["-C", o, "-C", "link-arg=-Wl,-u,AUDITABLE_VERSION_INFO"],
            ),
            (
                "i686-pc-windows-gnu",
                LinkerFlavor::Gcc,
                &["-C", o, "-C", "link-arg=-Wl,-u,_AUDITABLE_VERSION_INFO"],
            ),
            ("wasm32-unknown-unknown", LinkerFlavor::Wasm, &["-C", o]),
            ("wasm32-wasip1", LinkerFlavor::Wasm, &["-C", o]),
        ];
        for (triple, flavor, expected) in cases {
            let got = strings(link_args(&target(triple), *flavor, obj));
            assert_eq!(got, *expected, "{triple} {flavor:?}");
            assert!(
                !got.iter().any(|a| a.contains("--undefined")),
                "zig cc rejects --undefined="
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn object_paths_need_not_be_utf8() {
        use std::os::unix::ffi::OsStrExt;
        let path = Path::new(OsStr::from_bytes(b"/out/\xff.o"));
        let got = link_args(&target("x86_64-unknown-linux-gnu"), LinkerFlavor::Gcc, path);
        assert_eq!(got[1].as_bytes(), b"link-arg=/out/\xff.o");
    }

    /// Real links: the object goes through actual linkers with exactly the keep-alive
    /// arguments we hand rustc, with dead-stripping on, and the section must survive. Each
    /// linker is optional (`cc` from the system; `rust-lld` from the toolchain's sysroot);
    /// a missing one skips its part.
    mod real_link {
        use super::*;
        use crate::object_file::{write_object, SECTION_NAME};
        use object::write::{Object as Writer, StandardSection, Symbol, SymbolSection};
        use object::{Object as _, ObjectSection as _, ObjectSymbol as _};
        use std::path::PathBuf;
        use std::process::Command;

        const PAYLOAD: &[u8] = b"\x78\x9c a manifest that must survive the link";

        struct TempDir(PathBuf);

        impl TempDir {
            fn new(name: &str) -> Self {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or(0);
                let dir = std::env::temp_dir()
                    .join(format!("binaudit-{name}-{}-{nanos}", std::process::id()));
                std::fs::create_dir_all(&dir).unwrap();
                TempDir(dir)
            }
        }

        impl Drop for TempDir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }

        /// The values of the `-C link-arg=` pairs we would hand rustc, minus the object.
        fn keep_alive(t: &TargetInfo, flavor: LinkerFlavor, object: &Path) -> Vec<String> {
            let all = strings(link_args(t, flavor, object));
            let values: Vec<String> = all
                .chunks(2)
                .map(|pair| pair[1].strip_prefix("link-arg=").unwrap().to_owned())
                .collect();
            assert_eq!(Path::new(&values[0]), object);
            values[1..].to_vec()
        }

        /// Writes our object for `t`, plus an entry object with one function; on ELF the entry
        /// object carries `e_flags`, standing in for what the compiler wrote.
        fn inputs(
            dir: &Path,
            t: &TargetInfo,
            entry: Option<(&str, &[u8])>,
            e_flags: u32,
        ) -> (PathBuf, Option<PathBuf>) {
            let ours = dir.join("app_audit_data.o");
            std::fs::write(&ours, write_object(t, PAYLOAD).unwrap()).unwrap();
            let entry = entry.map(|(name, code)| {
                let written = std::fs::read(&ours).unwrap();
                let probe = object::File::parse(&*written).unwrap();
                let mut w = Writer::new(probe.format(), probe.architecture(), probe.endianness());
                if probe.format() == object::BinaryFormat::Elf {
                    w.flags = object::FileFlags::Elf {
                        os_abi: object::elf::ELFOSABI_NONE,
                        abi_version: 0,
                        e_flags: object::elf::FileFlags(e_flags),
                    };
                }
                let text = w.section_id(StandardSection::Text);
                let offset = w.append_section_data(text, code, 16);
                w.add_symbol(Symbol {
                    name: name.as_bytes().to_vec(),
                    value: offset,
                    size: code.len() as u64,
                    kind: object::SymbolKind::Text,
                    scope: object::SymbolScope::Linkage,
                    weak: false,
                    section: SymbolSection::Section(text),
                    flags: object::SymbolFlags::None,
                });
                let path = dir.join("entry.o");
                std::fs::write(&path, w.write().unwrap()).unwrap();
                path
            });
            (ours, entry)
        }

        fn run(cmd: &mut Command) -> bool {
            match cmd.output() {
                Ok(out) if out.status.success() => {
                    let stderr = String::from_utf8_lossy(&out.stderr);
                    assert!(
                        !stderr.contains("AUDITABLE") && !stderr.contains(SECTION_NAME),
                        "{stderr}"
                    );
                    true
                }
                Ok(out) => panic!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr)),
                Err(e) => {
                    eprintln!("skipped: cannot run {:?}: {e}", cmd.get_program());
                    false
                }
            }
        }

        /// The section is in the output with the payload, and the symbol is not exported.
        fn assert_section_survived(path: &Path) {
            let bytes = std::fs::read(path).unwrap();
            let file = object::File::parse(&*bytes).unwrap();
            let section = file
                .section_by_name(SECTION_NAME)
                .unwrap_or_else(|| panic!("{path:?}: no section"));
            let data = section.uncompressed_data().unwrap();
            assert!(data.starts_with(PAYLOAD), "{path:?}");
            let ours = |s: &object::Symbol<'_, '_>| s.name().is_ok_and(|n| n.contains("AUDITABLE"));
            assert!(
                !file.dynamic_symbols().any(|s| ours(&s)),
                "{path:?} exports the manifest symbol"
            );
            if file.format() == object::BinaryFormat::MachO {
                // ld64 exports every external symbol; a private extern one ends up local.
                assert!(
                    !file.symbols().any(|s| ours(&s) && s.is_global()),
                    "{path:?} exports the manifest symbol"
                );
            }
        }

        fn rust_lld() -> Option<PathBuf> {
            let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
            let out = Command::new(&rustc)
                .args(["--print", "sysroot"])
                .output()
                .ok()?;
            let sysroot = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
            let host = Command::new(&rustc).arg("-vV").output().ok()?;
            let host = String::from_utf8(host.stdout).ok()?;
            let host = host
                .lines()
                .find_map(|l| l.strip_prefix("host: "))?
                .trim()
                .to_owned();
            let exe = if cfg!(windows) {
                "rust-lld.exe"
            } else {
                "rust-lld"
            };
            let path = sysroot.join("lib/rustlib").join(host).join("bin").join(exe);
            path.exists().then_some(path)
        }

        #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
        #[test]
        fn cc_keeps_the_section_in_executables_and_shared_libraries() {
            let t = target("x86_64-unknown-linux-gnu");
            let dir = TempDir::new("cc");
            let (ours, _) = inputs(&dir.0, &t, None, 0);
            let main = dir.0.join("main.c");
            std::fs::write(&main, "int main(void) { return 0; }\n").unwrap();
            let flavor = detect_flavor(&t, &args(&["-C", "linker=cc"]));
            let keep = keep_alive(&t, flavor, &ours);
            assert_eq!(keep, ["-Wl,-u,AUDITABLE_VERSION_INFO"]);

            let exe = dir.0.join("app");
            let mut cmd = Command::new("cc");
            cmd.arg("-o")
                .arg(&exe)
                .arg(&main)
                .arg(&ours)
                .args(&keep)
                .args(["-Wl,--gc-sections", "-Wl,-z,noexecstack"]);
            if !run(&mut cmd) {
                return;
            }
            assert_section_survived(&exe);

            // `-rdynamic` exports every global symbol; the non-allocated section must not trip it.
            let exe2 = dir.0.join("app-rdynamic");
            let mut cmd = Command::new("cc");
            cmd.arg("-o")
                .arg(&exe2)
                .arg(&main)
                .arg(&ours)
                .args(&keep)
                .arg("-rdynamic");
            assert!(run(&mut cmd));
            assert_section_survived(&exe2);

            let lib = dir.0.join("libapp.so");
            let mut cmd = Command::new("cc");
            cmd.arg("-shared")
                .arg("-o")
                .arg(&lib)
                .arg(&ours)
                .args(&keep)
                .arg("-Wl,--gc-sections");
            assert!(run(&mut cmd));
            assert_section_survived(&lib);
        }

        #[test]
        fn bare_ld_lld_keeps_the_section() {
            let Some(lld) = rust_lld() else {
                eprintln!("skipped: no rust-lld in the sysroot");
                return;
            };
            // lld compares `e_flags` across inputs on MIPS (ABI, NaN), RISC-V (float ABI, RVE)
            // and LoongArch (ABI); the entry object has the flags rustc 1.95 writes.
            let cases = [
                ("x86_64-unknown-linux-gnu", 0),
                ("aarch64-unknown-linux-gnu", 0),
                ("s390x-unknown-linux-gnu", 0),
                ("riscv64gc-unknown-linux-gnu", 0x5),
                ("riscv32imac-unknown-none-elf", 0x1),
                ("loongarch64-unknown-linux-gnu", 0x43),
                ("mips-unknown-linux-gnu", 0x7000_1007),
                ("mips64el-unknown-linux-gnuabi64", 0x8000_0007),
                ("mipsisa32r6el-unknown-linux-gnu", 0x9000_1407),
                ("armv7-unknown-linux-gnueabihf", 0x0500_0000),
            ];
            for (triple, llvm_flags) in cases {
                let t = target(triple);
                let dir = TempDir::new("ld-lld");
                // `ret` on x86; zeros elsewhere (the code is never run).
                let code: &[u8] = if t.arch == "x86_64" {
                    &[0xc3]
                } else {
                    &[0, 0, 0, 0]
                };
                let (ours, entry) = inputs(&dir.0, &t, Some(("_start", code)), llvm_flags);
                let flavor = detect_flavor(&t, &args(&["-C", "linker=rust-lld"]));
                let keep = keep_alive(&t, flavor, &ours);
                assert_eq!(keep, ["-u", "AUDITABLE_VERSION_INFO"]);
                let out = dir.0.join("app");
                let mut cmd = Command::new(&lld);
                cmd.args(["-flavor", "gnu", "--gc-sections", "-o"])
                    .arg(&out)
                    .arg(entry.unwrap())
                    .arg(&ours)
                    .args(&keep);
                assert!(run(&mut cmd), "{triple}");
                assert_section_survived(&out);
            }

            // The control: lld does refuse an object with another float ABI, so the links
            // above prove the flags match.
            let t = target("riscv64gc-unknown-linux-gnu");
            let dir = TempDir::new("ld-lld-mismatch");
            let (ours, entry) = inputs(&dir.0, &t, Some(("_start", &[0, 0, 0, 0])), 0x1);
            let out = Command::new(&lld)
                .args(["-flavor", "gnu", "-o"])
                .arg(dir.0.join("app"))
                .arg(entry.unwrap())
                .arg(&ours)
                .output()
                .unwrap();
            assert!(!out.status.success());
            assert!(String::from_utf8_lossy(&out.stderr).contains("floating-point ABI"));
        }

        #[test]
        fn lld_link_keeps_the_section() {
            let Some(lld) = rust_lld() else {
                eprintln!("skipped: no rust-lld in the sysroot");
                return;
            };
            // The `object` crate gives the entry its `_` on x86, as it does our symbol.
            for (triple, machine) in [
                ("x86_64-pc-windows-msvc", "x64"),
                ("i686-pc-windows-msvc", "x86"),
            ] {
                let t = target(triple);
                let dir = TempDir::new("lld-link");
                let (ours, entry) = inputs(&dir.0, &t, Some(("mainCRTStartup", &[0xc3])), 0);
                let flavor = detect_flavor(&t, &args(&["-C", "linker=lld-link"]));
                let keep = keep_alive(&t, flavor, &ours);
                let out = dir.0.join("app.exe");
                let mut cmd = Command::new(&lld);
                cmd.args([
                    "-flavor",
                    "link",
                    "/nodefaultlib",
                    "/subsystem:console",
                    "/opt:ref",
                    "/safeseh:no",
                ])
                .arg(format!("/machine:{machine}"))
                .arg("/entry:mainCRTStartup")
                .arg(format!("/out:{}", out.display()))
                .arg(entry.unwrap())
                .arg(&ours)
                .args(&keep);
                assert!(run(&mut cmd), "{triple}");
                assert_section_survived(&out);
            }
            // With SafeSEH on (rustc's default for 32-bit MSVC), the `@feat.00` marker is what
            // lets the object in.
            let t = target("i686-pc-windows-msvc");
            let dir = TempDir::new("lld-link-safeseh");
            let (ours, _) = inputs(&dir.0, &t, None, 0);
            let out = dir.0.join("app.dll");
            let mut cmd = Command::new(&lld);
            cmd.args([
                "-flavor",
                "link",
                "/nodefaultlib",
                "/dll",
                "/noentry",
                "/safeseh",
                "/machine:x86",
            ])
            .arg(format!("/out:{}", out.display()))
            .arg(&ours)
            .args(keep_alive(&t, LinkerFlavor::Msvc, &ours));
            assert!(run(&mut cmd));
            assert_section_survived(&out);
        }

        #[test]
        fn ld64_lld_keeps_the_section() {
            let Some(lld) = rust_lld() else {
                eprintln!("skipped: no rust-lld in the sysroot");
                return;
            };
            let t = target("aarch64-apple-darwin");
            let dir = TempDir::new("ld64");
            let (ours, _) = inputs(&dir.0, &t, None, 0);
            let flavor = detect_flavor(&t, &args(&["-C", "linker=ld64.lld"]));
            let keep = keep_alive(&t, flavor, &ours);
            assert_eq!(keep, ["-u", "_AUDITABLE_VERSION_INFO"]);
            let out = dir.0.join("libapp.dylib");
            let mut cmd = Command::new(&lld);
            cmd.args([
                "-flavor",
                "darwin",
                "-arch",
                "arm64",
                "-platform_version",
                "macos",
                "11.0",
                "11.0",
            ])
            .args(["-dylib", "-dead_strip", "-o"])
            .arg(&out)
            .arg(&ours)
            .args(&keep);
            assert!(run(&mut cmd));
            assert_section_survived(&out);
        }

        #[test]
        fn wasm_ld_keeps_the_custom_section() {
            let Some(lld) = rust_lld() else {
                eprintln!("skipped: no rust-lld in the sysroot");
                return;
            };
            let t = target("wasm32-unknown-unknown");
            let dir = TempDir::new("wasm-ld");
            let (ours, _) = inputs(&dir.0, &t, None, 0);
            assert!(keep_alive(&t, LinkerFlavor::Wasm, &ours).is_empty());
            let out = dir.0.join("app.wasm");
            let mut cmd = Command::new(&lld);
            cmd.args(["-flavor", "wasm", "--no-entry", "--gc-sections", "-o"])
                .arg(&out)
                .arg(&ours);
            assert!(run(&mut cmd));
            // The object crate's wasm reader is not enabled here; find the custom section by hand.
            let bytes = std::fs::read(&out).unwrap();
            assert!(bytes.starts_with(b"\0asm"));
            let mut needle = vec![7u8];
            needle.extend_from_slice(b".dep-v0");
            needle.extend_from_slice(PAYLOAD);
            assert!(
                bytes.windows(needle.len()).any(|w| w == needle),
                "no .dep-v0 custom section"
            );
        }
    }
}
