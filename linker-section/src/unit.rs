//! What the wrapper learns from each compilation, kept next to the compiler's outputs.
//!
//! During `cargo binaudit …` cargo runs every rustc invocation through our wrapper, for
//! dependencies as well as workspace members. Each one is a *unit*: one crate of one package,
//! compiled once with one set of features for one target. Before handing the command to rustc
//! the wrapper writes a [`UnitRecord`]: which package the unit belongs to (from the
//! `CARGO_PKG_*` variables cargo sets), its crate types and features, and its `--extern`
//! edges, i.e. the exact files of the units it was compiled against.
//!
//! The record is stored beside the unit's outputs as `<crate><extra-filename>.binaudit-unit.json`
//! in rustc's `--out-dir`. Cargo names outputs after a hash of everything that defines the
//! unit (package, features, profile, target and the hashes of its dependencies), so a record
//! found under a name describes exactly the unit that produced the file of that name, including
//! units cargo later reuses without recompiling them.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::wrapper::RustcArgs;

/// The file-name suffix of unit records.
pub const RECORD_SUFFIX: &str = ".binaudit-unit.json";

/// Bumped when the record layout changes; records of another version are ignored.
const RECORD_VERSION: u32 = 1;

/// What one compilation was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitRecord {
    pub version: u32,
    /// `CARGO_PKG_NAME`: the package, not the crate, name.
    pub package: String,
    /// `CARGO_PKG_VERSION`.
    pub package_version: String,
    /// `CARGO_MANIFEST_DIR`: identifies the package together with the name and version.
    pub manifest_dir: PathBuf,
    pub crate_name: String,
    pub crate_types: Vec<String>,
    /// Sorted enabled features.
    pub features: Vec<String>,
    /// A build script (`build_script_*` binary): what it links runs at build time only.
    pub build_script: bool,
    /// `OUT_DIR` as cargo set it: present when the package has a build script.
    pub out_dir_env: Option<PathBuf>,
    /// `--target`, when given.
    pub target: Option<String>,
    /// The `--extern` edges with a file: (name the code uses, file).
    pub externs: Vec<(String, PathBuf)>,
}

impl UnitRecord {
    /// The record of the compilation `args` describes, from the environment cargo gave it.
    /// `None` for invocations that are not cargo compiling a crate.
    pub fn from_invocation(args: &RustcArgs, env: impl Fn(&str) -> Option<String>) -> Option<Self> {
        let crate_name = args.crate_name.clone()?;
        if args.print {
            return None;
        }
        let mut features = args.features.clone();
        features.sort();
        features.dedup();
        Some(UnitRecord {
            version: RECORD_VERSION,
            package: env("CARGO_PKG_NAME")?,
            package_version: env("CARGO_PKG_VERSION")?,
            manifest_dir: PathBuf::from(env("CARGO_MANIFEST_DIR")?),
            build_script: crate_name.starts_with("build_script_"),
            crate_name,
            crate_types: args.crate_types.clone(),
            features,
            out_dir_env: env("OUT_DIR").map(PathBuf::from),
            target: args.target.clone(),
            externs: args.externs.clone(),
        })
    }

    pub fn is_proc_macro(&self) -> bool {
        self.crate_types.iter().any(|t| t == "proc-macro")
    }

    /// Where the record of the unit compiled with `args` lives, if cargo gave an output dir.
    pub fn path_for(args: &RustcArgs) -> Option<PathBuf> {
        let out_dir = args.out_dir.as_ref()?;
        let name = args.crate_name.as_ref()?;
        let extra = args.extra_filename.as_deref().unwrap_or("");
        Some(out_dir.join(format!("{name}{extra}{RECORD_SUFFIX}")))
    }

    /// Writes the record through a temporary file and a rename, so a reader never sees half
    /// of one even when cargo runs the same unit twice at once.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let json = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        crate::cache::replace_file(path, &json)
    }

    /// Reads a record; `None` when it is missing, unreadable or of another version.
    pub fn read(path: &Path) -> Option<Self> {
        let bytes = std::fs::read(path).ok()?;
        serde_json::from_slice::<UnitRecord>(&bytes)
            .ok()
            .filter(|r| r.version == RECORD_VERSION)
    }

    /// The record of the unit that produced `file` (an `--extern` path such as
    /// `deps/libserde-0123abcd.rlib`, `.rmeta`, `.so`, `.dylib` or `.dll`).
    pub fn path_of_output(file: &Path) -> Option<PathBuf> {
        let dir = file.parent()?;
        let stem = file.file_stem().and_then(OsStr::to_str)?;
        // Libraries are `lib<crate>-<hash>` everywhere but in Windows DLLs, and a crate may
        // itself be called `lib…`: try the name without the prefix, then as it is.
        let candidates = match stem.strip_prefix("lib") {
            Some(unprefixed) => [Some(unprefixed), Some(stem)],
            None => [Some(stem), None],
        };
        candidates
            .into_iter()
            .flatten()
            .map(|s| dir.join(format!("{s}{RECORD_SUFFIX}")))
            .find(|p| p.is_file())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn args(s: &str) -> RustcArgs {
        let v: Vec<OsString> = s.split_whitespace().map(OsString::from).collect();
        RustcArgs::parse(&v)
    }

    fn env(name: &str) -> Option<String> {
        match name {
            "CARGO_PKG_NAME" => Some("serde-json".into()),
            "CARGO_PKG_VERSION" => Some("1.0.1".into()),
            "CARGO_MANIFEST_DIR" => Some("/reg/serde_json-1.0.1".into()),
            _ => None,
        }
    }

    #[test]
    fn a_record_names_the_package_features_and_extern_files() {
        let a = args(
            "--crate-name serde_json --crate-type lib --cfg feature=\"std\" --cfg feature=\"alloc\" \
             --extern itoa=/t/deps/libitoa-11.rmeta --extern noprelude:core2=/t/deps/libcore2-22.rlib \
             --extern proc_macro --out-dir /t/deps -C extra-filename=-33",
        );
        let r = UnitRecord::from_invocation(&a, env).unwrap();
        assert_eq!(r.package, "serde-json");
        assert_eq!(r.features, ["alloc", "std"]);
        assert_eq!(
            r.externs,
            [
                ("itoa".to_owned(), PathBuf::from("/t/deps/libitoa-11.rmeta")),
                (
                    "core2".to_owned(),
                    PathBuf::from("/t/deps/libcore2-22.rlib")
                ),
            ]
        );
        assert!(!r.build_script && !r.is_proc_macro());
        assert_eq!(
            UnitRecord::path_for(&a).unwrap(),
            Path::new("/t/deps/serde_json-33.binaudit-unit.json")
        );
    }

    #[test]
    fn queries_and_foreign_invocations_leave_no_record() {
        assert!(UnitRecord::from_invocation(&args("--crate-name x --print cfg"), env).is_none());
        assert!(UnitRecord::from_invocation(&args("- --crate-type lib"), env).is_none());
        assert!(UnitRecord::from_invocation(&args("--crate-name x"), |_| None).is_none());
    }

    #[test]
    fn outputs_find_their_record_with_and_without_the_lib_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let a = args(&format!(
            "--crate-name libc --crate-type lib --out-dir {} -C extra-filename=-44",
            d.display()
        ));
        let r = UnitRecord::from_invocation(&a, env).unwrap();
        r.write(&UnitRecord::path_for(&a).unwrap()).unwrap();
        let found = UnitRecord::path_of_output(&d.join("liblibc-44.rlib")).unwrap();
        assert_eq!(UnitRecord::read(&found).unwrap(), r);
        let m = args(&format!(
            "--crate-name mac --crate-type proc-macro --out-dir {} -C extra-filename=-55",
            d.display()
        ));
        let rm = UnitRecord::from_invocation(&m, env).unwrap();
        rm.write(&UnitRecord::path_for(&m).unwrap()).unwrap();
        assert!(UnitRecord::path_of_output(&d.join("mac-55.dll")).is_some());
        assert!(UnitRecord::path_of_output(&d.join("libmac-55.so")).is_some());
        assert!(UnitRecord::path_of_output(&d.join("libother-66.rlib")).is_none());
    }
}
