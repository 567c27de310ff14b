//! What we know about the target an artifact is linked for.
//!
//! Everything here comes from rustc itself: `rustc --print=cfg --target <triple>` names the
//! architecture, OS, environment, ABI, endianness, pointer width and target features, and for
//! Apple targets `rustc --print deployment-target` names the minimum OS version rustc will
//! link for. Asking rustc (rather than parsing the triple) keeps custom JSON targets and
//! targets newer than this code working.
//!
//! One gap is known: stable rustc leaves *unstable* target features out of `--print=cfg`, and
//! on RISC-V the float extensions `f` and `d` are unstable, so `riscv64gc-unknown-linux-gnu`
//! prints neither. [`crate::object_file`] therefore also reads the ISA string of the triple
//! when it decides the RISC-V float ABI.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Byte order of the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endian {
    /// `target_endian="little"`.
    Little,
    /// `target_endian="big"`.
    Big,
}

/// The container format the target's linker consumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectFormat {
    /// ELF: everything that is not one of the others.
    Elf,
    /// Mach-O: Apple targets.
    MachO,
    /// PE/COFF: Windows (gnu and msvc), UEFI and Cygwin.
    Coff,
    /// A relocatable WebAssembly object.
    Wasm,
}

/// The properties of one rustc target, as rustc reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TargetInfo {
    /// The name given to `--target`: a triple, or the path of a custom JSON target.
    pub triple: String,
    /// `target_arch`, e.g. `x86_64`, `aarch64`, `mips64r6`.
    pub arch: String,
    /// `target_os`, e.g. `linux`, `macos`, `none`; empty when rustc does not set it.
    pub os: String,
    /// `target_env`, e.g. `gnu`, `msvc`, `musl`, `sim`; often empty.
    pub env: String,
    /// `target_vendor`, e.g. `unknown`, `apple`, `pc`.
    pub vendor: String,
    /// `target_endian`.
    pub endian: Endian,
    /// `target_pointer_width` in bits.
    pub pointer_width: u32,
    /// Every `target_family` value, e.g. `["unix"]`, `["wasm"]`, `["unix", "wasm"]`.
    pub family: Vec<String>,
    /// `target_abi`, e.g. `eabihf`, `abi64`, `elfv2`, `sim`; empty when unset (and on rustc
    /// versions that predate the cfg).
    pub abi: String,
    /// Every `target_feature` rustc printed (stable features only on a stable rustc).
    pub features: BTreeSet<String>,
    /// For Apple targets: the deployment target (`major`, `minor`, `patch`) rustc links for,
    /// from `rustc --print deployment-target`. `None` means "use rustc's documented default",
    /// which [`crate::object_file`] knows.
    pub apple_deployment_target: Option<(u16, u8, u8)>,
}

/// Why the target could not be described.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// rustc could not be started.
    #[error("could not run `{} --print=cfg --target {triple}`: {source}", rustc.display())]
    Spawn {
        /// The rustc we tried to run.
        rustc: PathBuf,
        /// The target asked for.
        triple: String,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// rustc ran and failed, typically because it does not know the target.
    #[error("`{} --print=cfg --target {triple}` failed ({status}): {stderr}", rustc.display())]
    Rustc {
        /// The rustc we ran.
        rustc: PathBuf,
        /// The target asked for.
        triple: String,
        /// How it exited.
        status: String,
        /// Its standard error, trimmed.
        stderr: String,
    },
    /// The cfg output lacks a key every target has.
    #[error("rustc's cfg for target `{triple}` does not set `{key}`")]
    MissingKey {
        /// The target asked for.
        triple: String,
        /// The missing cfg name.
        key: &'static str,
    },
    /// A cfg key has a value we cannot interpret.
    #[error("rustc's cfg for target `{triple}` has `{key}=\"{value}\"`, which is not understood")]
    InvalidValue {
        /// The target asked for.
        triple: String,
        /// The cfg name.
        key: &'static str,
        /// Its value.
        value: String,
    },
}

impl TargetInfo {
    /// Parses the output of `rustc --print=cfg --target <triple>`.
    ///
    /// Lines are either a bare name (`unix`) or `name="value"`; unknown names are ignored.
    pub fn from_cfg(triple: &str, cfg_output: &str) -> Result<Self, TargetError> {
        let mut arch = None;
        let mut endian = None;
        let mut pointer_width = None;
        let mut os = String::new();
        let mut env = String::new();
        let mut vendor = String::new();
        let mut abi = String::new();
        let mut family = Vec::new();
        let mut features = BTreeSet::new();

        for line in cfg_output.lines() {
            let Some((name, value)) = parse_cfg_line(line) else {
                continue;
            };
            match name {
                "target_arch" => arch = Some(value),
                "target_endian" => endian = Some(value),
                "target_pointer_width" => pointer_width = Some(value),
                "target_os" => os = value,
                "target_env" => env = value,
                "target_vendor" => vendor = value,
                "target_abi" => abi = value,
                "target_family" => family.push(value),
                "target_feature" => {
                    features.insert(value);
                }
                _ => {}
            }
        }

        let missing = |key| TargetError::MissingKey {
            triple: triple.to_owned(),
            key,
        };
        let invalid = |key, value: String| TargetError::InvalidValue {
            triple: triple.to_owned(),
            key,
            value,
        };

        let arch = arch
            .filter(|a| !a.is_empty())
            .ok_or_else(|| missing("target_arch"))?;
        let endian = match endian.ok_or_else(|| missing("target_endian"))?.as_str() {
            "little" => Endian::Little,
            "big" => Endian::Big,
            other => return Err(invalid("target_endian", other.to_owned())),
        };
        let width = pointer_width.ok_or_else(|| missing("target_pointer_width"))?;
        let pointer_width = match width.parse::<u32>() {
            Ok(w @ (16 | 32 | 64)) => w,
            _ => return Err(invalid("target_pointer_width", width)),
        };

        Ok(TargetInfo {
            triple: triple.to_owned(),
            arch,
            os,
            env,
            vendor,
            endian,
            pointer_width,
            family,
            abi,
            features,
            apple_deployment_target: None,
        })
    }

    /// Asks `rustc` about `triple` and parses the answer.
    ///
    /// Runs `rustc --print=cfg --target <triple>`, and for Apple targets also
    /// `rustc --print deployment-target --target <triple>` (which honours
    /// `MACOSX_DEPLOYMENT_TARGET` and friends exactly as the real link will). If the second
    /// query fails (a rustc older than 1.71), the built-in defaults are used.
    pub fn query(rustc: &Path, triple: &str) -> Result<Self, TargetError> {
        Self::from_answers(triple, &Answers::ask(rustc, triple)?)
    }

    /// [`TargetInfo::query`], with rustc's answers kept in `cache_dir` and reused while the
    /// same rustc (same file, size and modification time, same rustup toolchain) is asked
    /// about the same target with the same deployment-target variables. Every link of a build
    /// would otherwise start rustc once or twice just to ask.
    pub fn query_cached(
        rustc: &Path,
        triple: &str,
        cache_dir: Option<&Path>,
    ) -> Result<Self, TargetError> {
        let (Some(dir), Some(key)) = (cache_dir, answers_key(rustc, triple)) else {
            return Self::query(rustc, triple);
        };
        let name: String = triple
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(format!(".binaudit-target-{name}.json"));
        let cached = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Answers>(&b).ok())
            .filter(|a| a.key == key);
        let answers = match cached {
            Some(a) => a,
            None => {
                let mut a = Answers::ask(rustc, triple)?;
                a.key = key;
                if let Ok(json) = serde_json::to_vec(&a) {
                    // A cache: a failed write costs a rustc query next time, nothing else.
                    let _ = crate::cache::replace_file(&path, &json);
                }
                a
            }
        };
        Self::from_answers(triple, &answers)
    }

    fn from_answers(triple: &str, answers: &Answers) -> Result<Self, TargetError> {
        let mut info = Self::from_cfg(triple, &answers.cfg)?;
        info.apple_deployment_target = answers
            .deployment_target
            .as_deref()
            .and_then(parse_deployment_target);
        Ok(info)
    }

    /// The container format this target's linker takes.
    ///
    /// wasm (family `wasm`, or arch `wasm32`/`wasm64`) → [`ObjectFormat::Wasm`]; vendor `apple`
    /// → [`ObjectFormat::MachO`]; OS `windows`, `uefi` or `cygwin` → [`ObjectFormat::Coff`];
    /// everything else → [`ObjectFormat::Elf`].
    pub fn object_format(&self) -> ObjectFormat {
        if self.is_wasm() {
            ObjectFormat::Wasm
        } else if self.is_apple() {
            ObjectFormat::MachO
        } else if matches!(self.os.as_str(), "windows" | "uefi" | "cygwin") {
            // UEFI images and Cygwin executables are PE files; their linkers want COFF objects.
            ObjectFormat::Coff
        } else {
            ObjectFormat::Elf
        }
    }

    /// Whether rustc printed `target_feature="<name>"`.
    pub fn has_feature(&self, name: &str) -> bool {
        self.features.contains(name)
    }

    /// Whether this is an Apple target (Mach-O, ld64).
    pub fn is_apple(&self) -> bool {
        self.vendor == "apple"
    }

    /// Whether this is a WebAssembly target.
    pub fn is_wasm(&self) -> bool {
        self.family.iter().any(|f| f == "wasm") || matches!(self.arch.as_str(), "wasm32" | "wasm64")
    }

    /// Whether the target links with the MSVC toolchain conventions (`link.exe`/`lld-link`).
    pub fn is_msvc(&self) -> bool {
        self.env == "msvc"
    }
}

/// Splits one cfg line into name and value; bare names get an empty value.
fn parse_cfg_line(line: &str) -> Option<(&str, String)> {
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    match line.split_once('=') {
        None => Some((line, String::new())),
        Some((name, quoted)) => {
            let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
            Some((name, unescape(inner)))
        }
    }
}

/// Undoes the `\"` and `\\` escapes rustc uses inside cfg values.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Parses `MACOSX_DEPLOYMENT_TARGET=10.12` (or `…=13.4.1`) as printed by rustc.
fn parse_deployment_target(output: &str) -> Option<(u16, u8, u8)> {
    let line = output.lines().find(|l| l.contains("DEPLOYMENT_TARGET="))?;
    let (_, version) = line.split_once('=')?;
    let mut parts = version.trim().split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |p| p.parse().ok())?;
    let patch = parts.next().map_or(Some(0), |p| p.parse().ok())?;
    Some((major, minor, patch))
}

/// What rustc printed about a target, as cached by [`TargetInfo::query_cached`].
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Answers {
    key: String,
    cfg: String,
    deployment_target: Option<String>,
}

impl Answers {
    fn ask(rustc: &Path, triple: &str) -> Result<Self, TargetError> {
        let cfg = run_rustc(rustc, triple, "--print=cfg")?;
        // Only Apple targets have a deployment target that matters to the object file.
        let apple = cfg.lines().any(|l| l == "target_vendor=\"apple\"");
        let deployment_target = apple
            .then(|| run_rustc(rustc, triple, "--print=deployment-target").ok())
            .flatten();
        Ok(Answers {
            key: String::new(),
            cfg,
            deployment_target,
        })
    }
}

/// Everything rustc's answers about `triple` depend on; `None` when rustc cannot be examined.
pub(crate) fn answers_key(rustc: &Path, triple: &str) -> Option<String> {
    let stamp = crate::cache::file_stamp;
    let mut key = format!("1|{}|{}|{triple}", rustc.display(), stamp(rustc)?);
    // A custom target given as a JSON file changes with the file.
    if let Some(spec) = Some(Path::new(triple)).filter(|p| p.is_file()) {
        key.push_str(&format!("|{}", stamp(spec)?));
    }
    let mut vars: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k == "RUSTUP_TOOLCHAIN" || k.ends_with("_DEPLOYMENT_TARGET"))
        .collect();
    vars.sort();
    for (k, v) in vars {
        key.push_str(&format!("|{k}={v}"));
    }
    Some(key)
}

fn run_rustc(rustc: &Path, triple: &str, print: &str) -> Result<String, TargetError> {
    let output = Command::new(rustc)
        .arg(print)
        .arg("--target")
        .arg(triple)
        .output()
        .map_err(|source| TargetError::Spawn {
            rustc: rustc.to_owned(),
            triple: triple.to_owned(),
            source,
        })?;
    if !output.status.success() {
        return Err(TargetError::Rustc {
            rustc: rustc.to_owned(),
            triple: triple.to_owned(),
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Real `rustc --print=cfg --target <triple>` outputs (rustc 1.95), shared by the tests of
/// this crate. `target_has_atomic*` lines are trimmed from all but the first fixture; nothing
/// here reads them.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::TargetInfo;

    /// `(triple, cfg output)`.
    pub(crate) const ALL: &[(&str, &str)] = &[
        (
            "x86_64-unknown-linux-gnu",
            r#"debug_assertions
panic="unwind"
target_abi=""
target_arch="x86_64"
target_endian="little"
target_env="gnu"
target_family="unix"
target_feature="fxsr"
target_feature="sse"
target_feature="sse2"
target_feature="x87"
target_has_atomic
target_has_atomic="16"
target_has_atomic="32"
target_has_atomic="64"
target_has_atomic="8"
target_has_atomic="ptr"
target_has_atomic_equal_alignment="16"
target_has_atomic_equal_alignment="32"
target_has_atomic_equal_alignment="64"
target_has_atomic_equal_alignment="8"
target_has_atomic_equal_alignment="ptr"
target_has_atomic_load_store
target_has_atomic_load_store="16"
target_has_atomic_load_store="32"
target_has_atomic_load_store="64"
target_has_atomic_load_store="8"
target_has_atomic_load_store="ptr"
target_os="linux"
target_pointer_width="64"
target_vendor="unknown"
unix
"#,
        ),
        (
            "aarch64-unknown-linux-gnu",
            r#"debug_assertions
panic="unwind"
target_abi=""
target_arch="aarch64"
target_endian="little"
target_env="gnu"
target_family="unix"
target_feature="neon"
target_os="linux"
target_pointer_width="64"
target_vendor="unknown"
unix
"#,
        ),
        (
            "i686-unknown-linux-gnu",
            r#"debug_assertions
panic="unwind"
target_abi=""
target_arch="x86"
target_endian="little"
target_env="gnu"
target_family="unix"
target_feature="fxsr"
target_feature="sse"
target_feature="sse2"
target_feature="x87"
target_os="linux"
target_pointer_width="32"
target_vendor="unknown"
unix
"#,
        ),
        (
            "s390x-unknown-linux-gnu",
            r#"debug_assertions
panic="unwind"
target_abi=""
target_arch="s390x"
target_endian="big"
target_env="gnu"
target_family="unix"
target_os="linux"
target_pointer_width="64"
target_vendor="unknown"
unix
"#,
        ),
        (
            "mips-unknown-linux-gnu",
            r#"debug_assertions
panic="unwind"
target_abi=""
target_arch="mips"
target_endian="big"
target_env="gnu"
target_family="unix"
target_os="linux"
target_pointer_width="32"
target_vendor="unknown"
unix
"#,
        ),
        (
            "mips64el-unknown-linux-gnuabi64",
            r#"debug_assertions
panic="unwind"
target_abi="abi64"
target_arch="mips64"
target_endian="little"
target_env="gnu"
target_family="unix"
target_os="linux"
target_pointer_width="64"
target_vendor="unknown"
unix
"#,
        ),
        (
            "mipsisa32r6el-unknown-linux-gnu",
            r#"debug_assertions
panic="unwind"
target_abi=""
target_arch="mips32r6"
target_endian="little"
target_env="gnu"
target_family="unix"
target_os="linux"
target_pointer_width="32"
target_vendor="unknown"
unix
"#,
        ),
        (
            "riscv64gc-unknown-linux-gnu",
            r#"debug_assertions
panic="unwind"
target_abi=""
target_arch="riscv64"
target_endian="little"
target_env="gnu"
target_family="unix"
target_feature="a"
target_feature="c"
target_feature="m"
target_feature="zaamo"
target_feature="zalrsc"
target_feature="zca"
target_feature="zicsr"
target_feature="zifencei"
target_os="linux"
target_pointer_width="64"
target_vendor="unknown"
unix
"#,
        ),
        (
            "riscv32imac-unknown-none-elf",
            r#"debug_assertions
panic="abort"
target_abi=""
target_arch="riscv32"
target_endian="little"
target_env=""
target_feature="a"
target_feature="c"
target_feature="m"
target_feature="zaamo"
target_feature="zalrsc"
target_feature="zca"
target_os="none"
target_pointer_width="32"
target_vendor="unknown"
"#,
        ),
        (
            "loongarch64-unknown-linux-gnu",
            r#"debug_assertions
panic="unwind"
target_abi=""
target_arch="loongarch64"
target_endian="little"
target_env="gnu"
target_family="unix"
target_feature="d"
target_feature="f"
target_feature="lsx"
target_os="linux"
target_pointer_width="64"
target_vendor="unknown"
unix
"#,
        ),
        (
            "armv7-unknown-linux-gnueabihf",
            r#"debug_assertions
panic="unwind"
target_abi="eabihf"
target_arch="arm"
target_endian="little"
target_env="gnu"
target_family="unix"
target_os="linux"
target_pointer_width="32"
target_vendor="unknown"
unix
"#,
        ),
        (
            "x86_64-apple-darwin",
            r#"debug_assertions
panic="unwind"
target_abi=""
target_arch="x86_64"
target_endian="little"
target_env=""
target_family="unix"
target_feature="cmpxchg16b"
target_feature="fxsr"
target_feature="sse"
target_feature="sse2"
target_feature="sse3"
target_feature="ssse3"
target_feature="x87"
target_os="macos"
target_pointer_width="64"
target_vendor="apple"
unix
"#,
        ),
        (
            "aarch64-apple-darwin",
            r#"debug_assertions
panic="unwind"
target_abi=""
target_arch="aarch64"
target_endian="little"
target_env=""
target_family="unix"
target_feature="aes"
target_feature="crc"
target_feature="dit"
target_feature="dotprod"
target_feature="dpb"
target_feature="dpb2"
target_feature="fcma"
target_feature="fhm"
target_feature="flagm"
target_feature="fp16"
target_feature="frintts"
target_feature="jsconv"
target_feature="lor"
target_feature="lse"
target_feature="neon"
target_feature="pan"
target_feature="pmuv3"
target_feature="ras"
target_feature="rcpc"
target_feature="rcpc2"
target_feature="rdm"
target_feature="sb"
target_feature="sha2"
target_feature="sha3"
target_feature="ssbs"
target_feature="vh"
target_os="macos"
target_pointer_width="64"
target_vendor="apple"
unix
"#,
        ),
        (
            "aarch64-apple-ios-sim",
            r#"debug_assertions
panic="unwind"
target_abi="sim"
target_arch="aarch64"
target_endian="little"
target_env="sim"
target_family="unix"
target_feature="aes"
target_feature="crc"
target_feature="dit"
target_feature="dotprod"
target_feature="dpb"
target_feature="dpb2"
target_feature="fcma"
target_feature="fhm"
target_feature="flagm"
target_feature="fp16"
target_feature="frintts"
target_feature="jsconv"
target_feature="lor"
target_feature="lse"
target_feature="neon"
target_feature="pan"
target_feature="pmuv3"
target_feature="ras"
target_feature="rcpc"
target_feature="rcpc2"
target_feature="rdm"
target_feature="sb"
target_feature="sha2"
target_feature="sha3"
target_feature="ssbs"
target_feature="vh"
target_os="ios"
target_pointer_width="64"
target_vendor="apple"
unix
"#,
        ),
        (
            "x86_64-pc-windows-gnu",
            r#"debug_assertions
panic="unwind"
target_abi=""
target_arch="x86_64"
target_endian="little"
target_env="gnu"
target_family="windows"
target_feature="cmpxchg16b"
target_feature="fxsr"
target_feature="sse"
target_feature="sse2"
target_feature="sse3"
target_feature="x87"
target_os="windows"
target_pointer_width="64"
target_vendor="pc"
windows
"#,
        ),
        (
            "i686-pc-windows-gnu",
            r#"debug_assertions
panic="unwind"
target_abi=""
target_arch="x86"
target_endian="little"
target_env="gnu"
target_family="windows"
target_feature="fxsr"
target_feature="sse"
target_feature="sse2"
target_feature="x87"
target_os="windows"
target_pointer_width="32"
target_vendor="pc"
windows
"#,
        ),
        (
            "x86_64-pc-windows-msvc",
            r#"debug_assertions
panic="unwind"
target_abi=""
target_arch="x86_64"
target_endian="little"
target_env="msvc"
target_family="windows"
target_feature="cmpxchg16b"
target_feature="fxsr"
target_feature="sse"
target_feature="sse2"
target_feature="sse3"
target_feature="x87"
target_os="windows"
target_pointer_width="64"
target_vendor="pc"
windows
"#,
        ),
        (
            "i686-pc-windows-msvc",
            r#"debug_assertions
panic="unwind"
target_abi=""
target_arch="x86"
target_endian="little"
target_env="msvc"
target_family="windows"
target_feature="fxsr"
target_feature="sse"
target_feature="sse2"
target_feature="x87"
target_os="windows"
target_pointer_width="32"
target_vendor="pc"
windows
"#,
        ),
        (
            "wasm32-unknown-unknown",
            r#"debug_assertions
panic="abort"
target_abi=""
target_arch="wasm32"
target_endian="little"
target_env=""
target_family="wasm"
target_feature="bulk-memory"
target_feature="multivalue"
target_feature="mutable-globals"
target_feature="nontrapping-fptoint"
target_feature="reference-types"
target_feature="sign-ext"
target_os="unknown"
target_pointer_width="32"
target_vendor="unknown"
"#,
        ),
        (
            "wasm32-wasip1",
            r#"debug_assertions
panic="abort"
target_abi=""
target_arch="wasm32"
target_endian="little"
target_env="p1"
target_family="wasm"
target_feature="bulk-memory"
target_feature="multivalue"
target_feature="mutable-globals"
target_feature="nontrapping-fptoint"
target_feature="reference-types"
target_feature="sign-ext"
target_os="wasi"
target_pointer_width="32"
target_vendor="unknown"
"#,
        ),
        (
            "x86_64-unknown-none",
            r#"debug_assertions
panic="abort"
target_abi=""
target_arch="x86_64"
target_endian="little"
target_env=""
target_os="none"
target_pointer_width="64"
target_vendor="unknown"
"#,
        ),
    ];

    /// The parsed fixture for `triple`.
    #[allow(clippy::unwrap_used, clippy::panic)] // A missing fixture is a bug in the test.
    pub(crate) fn target(triple: &str) -> TargetInfo {
        let Some((_, cfg)) = ALL.iter().find(|(t, _)| *t == triple) else {
            panic!("no cfg fixture for {triple}");
        };
        TargetInfo::from_cfg(triple, cfg).unwrap()
    }

    /// A target built from a few cfg values, for the table-driven tests. `features` is a
    /// comma-separated list.
    #[allow(clippy::unwrap_used)]
    pub(crate) fn synthetic(
        triple: &str,
        arch: &str,
        os: &str,
        abi: &str,
        endian: &str,
        width: u32,
        features: &str,
    ) -> TargetInfo {
        let mut cfg = format!(
            "target_arch=\"{arch}\"\ntarget_os=\"{os}\"\ntarget_abi=\"{abi}\"\n\
             target_endian=\"{endian}\"\ntarget_pointer_width=\"{width}\"\n"
        );
        for f in features.split(',').filter(|f| !f.is_empty()) {
            cfg.push_str(&format!("target_feature=\"{f}\"\n"));
        }
        TargetInfo::from_cfg(triple, &cfg).unwrap()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::fixtures::{target, ALL};
    use super::*;

    #[test]
    fn every_fixture_parses() {
        for (triple, cfg) in ALL {
            let t = TargetInfo::from_cfg(triple, cfg).unwrap();
            assert_eq!(t.triple, *triple);
            assert!(!t.arch.is_empty(), "{triple}");
        }
    }

    #[test]
    fn parses_the_x86_64_linux_cfg() {
        let t = target("x86_64-unknown-linux-gnu");
        assert_eq!(t.arch, "x86_64");
        assert_eq!(t.os, "linux");
        assert_eq!(t.env, "gnu");
        assert_eq!(t.vendor, "unknown");
        assert_eq!(t.abi, "");
        assert_eq!(t.endian, Endian::Little);
        assert_eq!(t.pointer_width, 64);
        assert_eq!(t.family, vec!["unix".to_owned()]);
        assert!(t.has_feature("sse2"));
        assert!(!t.has_feature("avx"));
        assert_eq!(t.apple_deployment_target, None);
    }

    #[test]
    fn parses_big_endian_and_abi() {
        let t = target("s390x-unknown-linux-gnu");
        assert_eq!(t.endian, Endian::Big);
        let t = target("mips64el-unknown-linux-gnuabi64");
        assert_eq!(
            (t.arch.as_str(), t.abi.as_str(), t.endian),
            ("mips64", "abi64", Endian::Little)
        );
        let t = target("armv7-unknown-linux-gnueabihf");
        assert_eq!(t.abi, "eabihf");
    }

    #[test]
    fn object_format_follows_family_vendor_and_os() {
        let cases = [
            ("x86_64-unknown-linux-gnu", ObjectFormat::Elf),
            ("x86_64-unknown-none", ObjectFormat::Elf),
            ("s390x-unknown-linux-gnu", ObjectFormat::Elf),
            ("x86_64-apple-darwin", ObjectFormat::MachO),
            ("aarch64-apple-ios-sim", ObjectFormat::MachO),
            ("x86_64-pc-windows-gnu", ObjectFormat::Coff),
            ("i686-pc-windows-msvc", ObjectFormat::Coff),
            ("wasm32-unknown-unknown", ObjectFormat::Wasm),
            ("wasm32-wasip1", ObjectFormat::Wasm),
        ];
        for (triple, format) in cases {
            assert_eq!(target(triple).object_format(), format, "{triple}");
        }
        let uefi = fixtures::synthetic(
            "x86_64-unknown-uefi",
            "x86_64",
            "uefi",
            "",
            "little",
            64,
            "",
        );
        assert_eq!(uefi.object_format(), ObjectFormat::Coff);
        let cygwin =
            fixtures::synthetic("x86_64-pc-cygwin", "x86_64", "cygwin", "", "little", 64, "");
        assert_eq!(cygwin.object_format(), ObjectFormat::Coff);
        // A wasm arch without the family cfg (old rustc, custom JSON target) is still wasm.
        let wasm64 = fixtures::synthetic(
            "wasm64-unknown-unknown",
            "wasm64",
            "unknown",
            "",
            "little",
            64,
            "",
        );
        assert_eq!(wasm64.object_format(), ObjectFormat::Wasm);
    }

    #[test]
    fn missing_and_invalid_keys_name_the_triple() {
        let err = TargetInfo::from_cfg("my-target", "target_endian=\"little\"\n").unwrap_err();
        assert!(matches!(
            err,
            TargetError::MissingKey {
                key: "target_arch",
                ..
            }
        ));
        assert!(err.to_string().contains("my-target"), "{err}");

        let cfg = "target_arch=\"x86_64\"\ntarget_endian=\"middle\"\ntarget_pointer_width=\"64\"\n";
        let err = TargetInfo::from_cfg("my-target", cfg).unwrap_err();
        assert!(matches!(
            err,
            TargetError::InvalidValue {
                key: "target_endian",
                ..
            }
        ));
        assert!(
            err.to_string().contains("my-target") && err.to_string().contains("middle"),
            "{err}"
        );

        let cfg =
            "target_arch=\"x86_64\"\ntarget_endian=\"little\"\ntarget_pointer_width=\"sixty\"\n";
        let err = TargetInfo::from_cfg("my-target", cfg).unwrap_err();
        assert!(matches!(
            err,
            TargetError::InvalidValue {
                key: "target_pointer_width",
                ..
            }
        ));
    }

    #[test]
    fn cfg_values_are_unescaped() {
        assert_eq!(
            parse_cfg_line(r#"target_os="a\"b\\c""#),
            Some(("target_os", "a\"b\\c".to_owned()))
        );
        assert_eq!(parse_cfg_line("unix"), Some(("unix", String::new())));
        assert_eq!(parse_cfg_line("   "), None);
        assert_eq!(parse_cfg_line("target_os=unquoted"), None);
    }

    #[test]
    fn deployment_target_output_parses() {
        assert_eq!(
            parse_deployment_target("MACOSX_DEPLOYMENT_TARGET=10.12\n"),
            Some((10, 12, 0))
        );
        assert_eq!(
            parse_deployment_target("IPHONEOS_DEPLOYMENT_TARGET=14.0"),
            Some((14, 0, 0))
        );
        assert_eq!(
            parse_deployment_target("MACOSX_DEPLOYMENT_TARGET=13.4.1"),
            Some((13, 4, 1))
        );
        assert_eq!(
            parse_deployment_target("XROS_DEPLOYMENT_TARGET=26"),
            Some((26, 0, 0))
        );
        assert_eq!(parse_deployment_target("nonsense"), None);
        assert_eq!(
            parse_deployment_target("MACOSX_DEPLOYMENT_TARGET=x.y"),
            None
        );
    }

    /// Runs the real rustc when one is on PATH (it always is under `cargo test`).
    #[test]
    fn query_asks_the_real_rustc() {
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let Ok(t) = TargetInfo::query(Path::new(&rustc), "aarch64-apple-darwin") else {
            eprintln!("skipped: no usable rustc");
            return;
        };
        assert_eq!(t.arch, "aarch64");
        assert_eq!(t.object_format(), ObjectFormat::MachO);
        // rustc ≥ 1.71 reports the deployment target; its default for arm64 macOS is 11.0.
        if std::env::var_os("MACOSX_DEPLOYMENT_TARGET").is_none() {
            assert!(matches!(t.apple_deployment_target, None | Some((11, 0, 0))));
        }

        let err = TargetInfo::query(Path::new(&rustc), "no-such-target-triple").unwrap_err();
        assert!(matches!(err, TargetError::Rustc { .. }));
        assert!(err.to_string().contains("no-such-target-triple"), "{err}");

        let err = TargetInfo::query(Path::new("/nonexistent/rustc"), "x86_64-unknown-linux-gnu")
            .unwrap_err();
        assert!(matches!(err, TargetError::Spawn { .. }));
        assert!(
            err.to_string().contains("x86_64-unknown-linux-gnu"),
            "{err}"
        );
    }

    #[test]
    fn cached_answers_are_reused_until_rustc_changes() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (_, cfg) = ALL[0];
        std::fs::write(dir.path().join("cfg.txt"), cfg).unwrap();
        let count = dir.path().join("count");
        // A stand-in rustc that answers from the fixture and counts how often it was asked.
        let rustc = dir.path().join("rustc");
        std::fs::write(
            &rustc,
            format!(
                "#!/bin/sh\necho x >> '{}'\ncat '{}'\n",
                count.display(),
                dir.path().join("cfg.txt").display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&rustc, std::fs::Permissions::from_mode(0o755)).unwrap();
        let asked = || std::fs::read_to_string(&count).unwrap().lines().count();
        let triple = "x86_64-unknown-linux-gnu";
        let first = TargetInfo::query_cached(&rustc, triple, Some(dir.path())).unwrap();
        let second = TargetInfo::query_cached(&rustc, triple, Some(dir.path())).unwrap();
        assert_eq!(first, second);
        assert_eq!(first.arch, "x86_64");
        assert_eq!(asked(), 1, "the second query is answered from the cache");
        // Another rustc at the same path (a toolchain update): asked again.
        let mut script = std::fs::read(&rustc).unwrap();
        script.extend_from_slice(b"# updated\n");
        std::fs::write(&rustc, script).unwrap();
        TargetInfo::query_cached(&rustc, triple, Some(dir.path())).unwrap();
        assert_eq!(asked(), 2);
        // No cache directory: always asked.
        TargetInfo::query_cached(&rustc, triple, None).unwrap();
        assert_eq!(asked(), 3);
    }
}
