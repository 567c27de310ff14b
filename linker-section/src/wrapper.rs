//! The rustc wrapper: what runs when cargo invokes `RUSTC_WORKSPACE_WRAPPER`.
//!
//! Cargo calls `<wrapper> <rustc> <args…>` for every compilation of a workspace member. We pass
//! each one through unchanged, except a link of a `bin` or `cdylib` of the primary package: for
//! that one we collect its dependency graph, write the manifest into an object file for the
//! target's format and architecture, and add that object plus a keep-alive to the link.
//!
//! Failure to embed fails the compilation with a message naming the cause. A binary that
//! silently lacks its manifest would read as "nothing known" later, so the only way to build
//! without data is to ask for it (`--allow-unsupported-target`, which downgrades an
//! unsupported target to a warning).

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::collect::MetadataQuery;
use crate::encode::compress_manifest;
use crate::exact::{exact_manifest, Resolver};
use crate::link_args::{detect_flavor, link_args};
use crate::object_file::{write_object, ObjectError};
use crate::target::TargetInfo;
use crate::unit::UnitRecord;

/// Set by the driver for the cargo it runs; its presence puts our binary in wrapper mode.
pub const ENV_WRAPPER_MODE: &str = "BINAUDIT_WRAPPER_MODE";
/// The user's own `RUSTC_WORKSPACE_WRAPPER`, which we run in turn instead of rustc.
pub const ENV_CHAINED_WRAPPER: &str = "BINAUDIT_CHAINED_WRAPPER";
/// JSON array of the cargo flags forwarded to our `cargo metadata` queries.
pub const ENV_CARGO_ARGS: &str = "BINAUDIT_CARGO_ARGS";
/// `1`: an unsupported target builds without a manifest (with a warning) instead of failing.
pub const ENV_ALLOW_UNSUPPORTED: &str = "BINAUDIT_ALLOW_UNSUPPORTED";
/// A file the wrapper appends the paths of the artifacts it embedded a manifest in.
pub const ENV_ARTIFACT_LOG: &str = "BINAUDIT_ARTIFACT_LOG";
/// The real rustc, for outer wrappers (sccache-style) that probe us as if we were the compiler.
pub const ENV_RUSTC: &str = "BINAUDIT_RUSTC";
/// The user's own `RUSTC_WRAPPER` (sccache and the like), which we run inside ours.
pub const ENV_CHAINED_RUSTC_WRAPPER: &str = "BINAUDIT_CHAINED_RUSTC_WRAPPER";
/// Our own executable as the driver gave it to cargo, to recognise ourselves when cargo nests
/// the workspace wrapper inside the rustc wrapper (`binaudit binaudit rustc …`).
pub const ENV_SELF: &str = "BINAUDIT_SELF";

/// The parts of a rustc command line that decide whether and how we embed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RustcArgs {
    pub crate_name: Option<String>,
    pub crate_types: Vec<String>,
    pub emit: Option<Vec<String>>,
    pub print: bool,
    pub target: Option<String>,
    pub out_dir: Option<PathBuf>,
    pub extra_filename: Option<String>,
    pub features: Vec<String>,
    pub test: bool,
    /// `--extern name=file` edges, with any `priv:`/`noprelude:` options removed. Externs
    /// without a file (`--extern proc_macro`) come from the sysroot and are not listed.
    pub externs: Vec<(String, PathBuf)>,
}

impl RustcArgs {
    /// Parses the subset of rustc's arguments we need; everything else is ignored.
    pub fn parse(args: &[OsString]) -> RustcArgs {
        let mut out = RustcArgs::default();
        let mut it = args.iter().map(|a| a.to_string_lossy());
        while let Some(arg) = it.next() {
            let arg = arg.as_ref();
            // `--flag value` and `--flag=value`; `-C opt` and `-Copt`.
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
                _ => (arg, None),
            };
            let (flag, inline) = match flag.strip_prefix("-C") {
                Some(rest) if !rest.is_empty() && !flag.starts_with("--") => {
                    ("-C", Some(rest.to_owned()))
                }
                _ => (flag, inline),
            };
            let mut value = || inline.clone().or_else(|| it.next().map(|v| v.into_owned()));
            match flag {
                "--crate-name" => out.crate_name = value(),
                "--crate-type" => {
                    if let Some(v) = value() {
                        out.crate_types.extend(v.split(',').map(str::to_owned));
                    }
                }
                "--emit" => {
                    if let Some(v) = value() {
                        // `--emit=link=path` names an output file; the kind is before '='.
                        let kinds = v
                            .split(',')
                            .map(|k| k.split('=').next().unwrap_or(k).to_owned());
                        out.emit.get_or_insert_with(Vec::new).extend(kinds);
                    }
                }
                "--print" => {
                    out.print = true;
                    let _ = value();
                }
                "--target" => out.target = value(),
                "--out-dir" => out.out_dir = value().map(PathBuf::from),
                "--test" => out.test = true,
                "--extern" => {
                    if let Some((name, file)) = value().as_deref().and_then(|v| v.split_once('=')) {
                        let name = name.rsplit_once(':').map_or(name, |(_, n)| n);
                        out.externs.push((name.to_owned(), PathBuf::from(file)));
                    }
                }
                "--cfg" => {
                    if let Some(v) = value() {
                        if let Some(f) = v
                            .strip_prefix("feature=\"")
                            .and_then(|f| f.strip_suffix('"'))
                        {
                            out.features.push(f.to_owned());
                        }
                    }
                }
                "-C" => {
                    if let Some(v) = value() {
                        if let Some(x) = v.strip_prefix("extra-filename=") {
                            out.extra_filename = Some(x.to_owned());
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// Whether this compilation links an artifact that should carry a manifest.
    pub fn links_artifact(&self) -> bool {
        let linked_type = self.crate_types.iter().any(|t| t == "bin" || t == "cdylib");
        let emits_link = self
            .emit
            .as_ref()
            .is_none_or(|e| e.iter().any(|k| k == "link"));
        // Build scripts are binaries too, but they run at build time and are never shipped.
        let build_script = self
            .crate_name
            .as_deref()
            .is_some_and(|n| n.starts_with("build_script_"));
        linked_type && emits_link && !self.print && !self.test && !build_script
    }
}

/// Why we could not embed the manifest.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmbedError {
    #[error("cargo did not set {0} for the wrapped rustc")]
    MissingEnv(&'static str),
    #[error("rustc was not given {0}")]
    MissingArg(&'static str),
    #[error("could not determine the host target with `{rustc} -vV`: {reason}")]
    Host { rustc: String, reason: String },
    #[error(transparent)]
    Target(#[from] crate::target::TargetError),
    #[error(transparent)]
    Collect(#[from] crate::collect::CollectError),
    #[error(transparent)]
    Object(#[from] ObjectError),
    #[error("could not write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{ENV_CARGO_ARGS} is not a JSON array of strings: {0}")]
    BadForwardedArgs(String),
}

/// Entry point for wrapper mode. `args` are everything after our own program name:
/// the real rustc followed by its arguments.
///
/// Cargo runs us as `RUSTC_WRAPPER` for every compilation and, for workspace members, also as
/// `RUSTC_WORKSPACE_WRAPPER` nested inside: `binaudit binaudit rustc …`. The outer call
/// recognises itself and does the work of both; the member flag tells the user's own
/// workspace wrapper, if any, where it applies.
pub fn run(args: Vec<OsString>) -> ExitCode {
    let (member, args) = match (args.first(), std::env::var_os(ENV_SELF)) {
        (Some(first), Some(me)) if !me.is_empty() && *first == me => (true, &args[1..]),
        _ => (false, &args[..]),
    };
    let Some((first, rest)) = args.split_first() else {
        eprintln!("error: binaudit (rustc wrapper): no rustc command line given");
        return ExitCode::from(2);
    };
    // An outer wrapper probing us as the compiler (`binaudit -vV`): behave as rustc.
    if first.to_string_lossy().starts_with('-') {
        let rustc = std::env::var_os(ENV_RUSTC).unwrap_or_else(|| "rustc".into());
        return exec(Command::new(rustc).args(args));
    }
    let rustc = first;
    let mut rustc_args: Vec<OsString> = rest.to_vec();
    let parsed = RustcArgs::parse(&rustc_args);
    observe(&parsed);
    let primary = std::env::var_os("CARGO_PRIMARY_PACKAGE").is_some();
    let mut embedded = false;
    if primary && parsed.links_artifact() {
        match embed(rustc.as_ref(), &rustc_args, &parsed) {
            Ok(extra) => {
                rustc_args.extend(extra);
                embedded = true;
            }
            Err(Embed::Skip(msg)) => eprintln!("warning: binaudit: {msg}"),
            Err(Embed::Fail(e)) => {
                let name = parsed.crate_name.as_deref().unwrap_or("?");
                eprintln!("error: binaudit: cannot embed the dependency manifest in `{name}`: {e}");
                return ExitCode::from(1);
            }
        }
    }
    // The user's wrappers, in cargo's order: rustc wrapper outside, workspace wrapper inside.
    let chained = |var| std::env::var_os(var).filter(|w: &OsString| !w.is_empty());
    let mut program: Vec<OsString> = Vec::new();
    program.extend(chained(ENV_CHAINED_RUSTC_WRAPPER));
    if member {
        program.extend(chained(ENV_CHAINED_WRAPPER));
    }
    program.push(rustc.clone());
    let mut cmd = Command::new(&program[0]);
    cmd.args(&program[1..]).args(&rustc_args);
    let code = exec(&mut cmd);
    if embedded && code == ExitCode::SUCCESS {
        if let Some(log) = std::env::var_os(ENV_ARTIFACT_LOG) {
            record_artifacts(Path::new(&log), &parsed);
        }
    }
    code
}

/// Writes the record of this compilation next to its outputs (see [`crate::unit`]), before
/// rustc runs: cargo may start dependents as soon as rustc writes the crate's metadata. Best
/// effort: a unit without a record is later treated as unobserved, which is said.
fn observe(parsed: &RustcArgs) {
    if let (Some(record), Some(path)) = (
        UnitRecord::from_invocation(parsed, |k| std::env::var(k).ok()),
        UnitRecord::path_for(parsed),
    ) {
        if let Err(e) = record.write(&path) {
            eprintln!(
                "warning: binaudit: could not record the compilation of `{}` in {}: {e}",
                record.crate_name,
                path.display()
            );
        }
    }
}

/// Appends the artifacts this link produced to the driver's log, one line each (the path in
/// `deps/`, a tab, the path cargo copies it to), so the
/// driver can audit exactly what was built. Best effort: a failure here must not fail the build.
fn record_artifacts(log: &Path, parsed: &RustcArgs) {
    let (Some(out_dir), Some(name)) = (&parsed.out_dir, &parsed.crate_name) else {
        return;
    };
    let stem = format!("{name}{}", parsed.extra_filename.as_deref().unwrap_or(""));
    let Ok(entries) = std::fs::read_dir(out_dir) else {
        return;
    };
    let mut lines = String::new();
    for entry in entries.flatten() {
        let file = entry.file_name();
        let file = file.to_string_lossy();
        let base = file
            .strip_prefix("lib")
            .filter(|b| b.starts_with(&stem))
            .unwrap_or(&file);
        let Some(ext) = base.strip_prefix(stem.as_str()) else {
            continue;
        };
        if matches!(ext, "" | ".exe" | ".wasm" | ".so" | ".dylib" | ".dll") {
            // Cargo then copies (uplifts) it one directory up without the hash suffix, a binary
            // under its `[[bin]]` name; that is the path people know.
            let uplifted_name = match std::env::var("CARGO_BIN_NAME") {
                Ok(bin) if parsed.crate_types.iter().any(|t| t == "bin") => format!("{bin}{ext}"),
                _ => file.replacen(parsed.extra_filename.as_deref().unwrap_or(""), "", 1),
            };
            let uplifted = out_dir
                .parent()
                .map(|p| p.join(uplifted_name))
                .unwrap_or_default();
            lines.push_str(&format!(
                "{}\t{}\n",
                entry.path().display(),
                uplifted.display()
            ));
        }
    }
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .and_then(|mut f| std::io::Write::write_all(&mut f, lines.as_bytes()));
    if let Err(e) = appended {
        eprintln!(
            "warning: binaudit: could not record built artifacts in {}: {e}",
            log.display()
        );
    }
}

enum Embed {
    Skip(String),
    Fail(EmbedError),
}

impl<E: Into<EmbedError>> From<E> for Embed {
    fn from(e: E) -> Self {
        Embed::Fail(e.into())
    }
}

/// Collects, encodes and writes the manifest object; returns the extra rustc arguments.
fn embed(rustc: &Path, args: &[OsString], parsed: &RustcArgs) -> Result<Vec<OsString>, Embed> {
    let cache_dir = parsed.out_dir.as_deref();
    let triple = match &parsed.target {
        Some(t) => t.clone(),
        None => host_triple_cached(rustc, cache_dir)?,
    };
    let target = TargetInfo::query_cached(rustc, &triple, cache_dir).map_err(EmbedError::from)?;
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .ok_or(EmbedError::MissingEnv("CARGO_MANIFEST_DIR"))?;
    let query = MetadataQuery {
        cargo: std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
        manifest_path: Path::new(&manifest_dir).join("Cargo.toml"),
        features: parsed.features.clone(),
        target: triple.clone(),
        forwarded_args: forwarded_args()?,
    };
    let link = UnitRecord::from_invocation(parsed, |k| std::env::var(k).ok())
        .ok_or(EmbedError::MissingEnv("CARGO_PKG_NAME"))?;
    let mut resolver = Resolver::new(&query, cache_dir);
    let exact = exact_manifest(&link, &mut resolver).map_err(EmbedError::from)?;
    if !exact.unobserved.is_empty() {
        eprintln!(
            "warning: binaudit: {} was linked with {} compiled before binaudit watched this \
             target directory ({}); their dependencies are taken from cargo's resolve and may \
             list crates that are not in it. `cargo clean` once makes every manifest exact.",
            link.crate_name,
            plural(exact.unobserved.len(), "crate"),
            exact.unobserved.join(", ")
        );
    }
    let payload = compress_manifest(&exact.manifest);
    let object = match write_object(&target, &payload) {
        Ok(o) => o,
        Err(e @ ObjectError::UnsupportedTarget { .. }) if allow_unsupported() => {
            return Err(Embed::Skip(format!(
                "{e}; building without a dependency manifest as asked"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let out_dir = parsed
        .out_dir
        .as_ref()
        .ok_or(EmbedError::MissingArg("--out-dir"))?;
    let crate_name = parsed
        .crate_name
        .as_deref()
        .ok_or(EmbedError::MissingArg("--crate-name"))?;
    let extra = parsed.extra_filename.as_deref().unwrap_or("");
    let path = out_dir.join(format!("{crate_name}{extra}_audit_data.o"));
    std::fs::write(&path, object).map_err(|source| EmbedError::Write {
        path: path.clone(),
        source,
    })?;
    let flavor = detect_flavor(&target, args);
    Ok(link_args(&target, flavor, &path))
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn allow_unsupported() -> bool {
    std::env::var_os(ENV_ALLOW_UNSUPPORTED).is_some_and(|v| v == "1")
}

fn forwarded_args() -> Result<Vec<OsString>, EmbedError> {
    match std::env::var(ENV_CARGO_ARGS) {
        Ok(s) => serde_json::from_str::<Vec<String>>(&s)
            .map(|v| v.into_iter().map(OsString::from).collect())
            .map_err(|e| EmbedError::BadForwardedArgs(e.to_string())),
        Err(_) => Ok(Vec::new()),
    }
}

/// [`host_triple`], remembered in `cache_dir` for the same rustc (see
/// [`TargetInfo::query_cached`]).
fn host_triple_cached(rustc: &Path, cache_dir: Option<&Path>) -> Result<String, EmbedError> {
    let Some((path, key)) = cache_dir.zip(crate::target::answers_key(rustc, "host")) else {
        return host_triple(rustc);
    };
    let path = path.join(".binaudit-host.txt");
    if let Some(cached) = std::fs::read_to_string(&path)
        .ok()
        .and_then(|c| c.strip_prefix(&format!("{key}\n")).map(str::to_owned))
    {
        return Ok(cached);
    }
    let host = host_triple(rustc)?;
    // A cache: a failed write costs a rustc query next time, nothing else.
    let _ = crate::cache::replace_file(&path, format!("{key}\n{host}").as_bytes());
    Ok(host)
}

fn host_triple(rustc: &Path) -> Result<String, EmbedError> {
    let err = |reason: String| EmbedError::Host {
        rustc: rustc.display().to_string(),
        reason,
    };
    let out = Command::new(rustc)
        .arg("-vV")
        .output()
        .map_err(|e| err(e.to_string()))?;
    if !out.status.success() {
        return Err(err(String::from_utf8_lossy(&out.stderr).into_owned()));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(|h| h.trim().to_owned())
        .ok_or_else(|| err("no `host:` line".into()))
}

/// Runs a command to completion and passes its exit status on.
fn exec(cmd: &mut Command) -> ExitCode {
    match cmd.status() {
        Ok(status) => match status.code() {
            Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            None => ExitCode::from(1),
        },
        Err(e) => {
            eprintln!(
                "error: binaudit: could not run {:?}: {e}",
                cmd.get_program()
            );
            ExitCode::from(1)
        }
    }
}

/// Whether `args` (after the program name) are a wrapper-mode invocation.
pub fn is_wrapper_invocation(args: &[OsString]) -> bool {
    std::env::var_os(ENV_WRAPPER_MODE).is_some() && !args.is_empty()
}

/// The arguments cargo passes on to our own `cargo metadata` queries.
pub fn select_forwarded_args<'a>(cargo_args: impl IntoIterator<Item = &'a OsStr>) -> Vec<String> {
    let mut out = Vec::new();
    let mut it = cargo_args
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned());
    while let Some(arg) = it.next() {
        if arg == "--" {
            break;
        }
        match arg.as_str() {
            "--offline" | "--locked" | "--frozen" => out.push(arg),
            "--config" => {
                if let Some(v) = it.next() {
                    out.push(arg);
                    out.push(v);
                }
            }
            _ if arg.starts_with("--config=") => out.push(arg),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<OsString> {
        s.split_whitespace().map(OsString::from).collect()
    }

    #[test]
    fn parses_a_cargo_bin_link() {
        let a = RustcArgs::parse(&args(
            "--crate-name app --edition=2021 src/main.rs --crate-type bin --emit=dep-info,link -C opt-level=3 \
             -C extra-filename=-0123abcd --cfg feature=\"default\" --cfg feature=\"tls\" --out-dir /t/release/deps \
             --target aarch64-unknown-linux-gnu -L dependency=/t/release/deps",
        ));
        assert_eq!(a.crate_name.as_deref(), Some("app"));
        assert_eq!(a.crate_types, ["bin"]);
        assert_eq!(
            a.emit.as_deref(),
            Some(&["dep-info".to_owned(), "link".to_owned()][..])
        );
        assert_eq!(a.extra_filename.as_deref(), Some("-0123abcd"));
        assert_eq!(a.features, ["default", "tls"]);
        assert_eq!(a.out_dir.as_deref(), Some(Path::new("/t/release/deps")));
        assert_eq!(a.target.as_deref(), Some("aarch64-unknown-linux-gnu"));
        assert!(a.links_artifact());
    }

    #[test]
    fn only_linked_bins_and_cdylibs_get_a_manifest() {
        let l = |s: &str| RustcArgs::parse(&args(s)).links_artifact();
        assert!(l("--crate-name a --crate-type cdylib"));
        assert!(l("--crate-name a --crate-type=lib,cdylib --emit=link"));
        assert!(!l("--crate-name a --crate-type lib"));
        assert!(!l(
            "--crate-name a --crate-type rlib --crate-type staticlib"
        ));
        assert!(!l(
            "--crate-name a --crate-type bin --emit=dep-info,metadata"
        ));
        assert!(!l("--crate-name a --crate-type bin --print cfg"));
        assert!(!l(
            "--crate-name build_script_build --crate-type bin --emit=link"
        ));
        assert!(!l("--crate-name a --test"));
        assert!(l("--crate-name a --crate-type bin --emit=link=/x/a.exe"));
    }

    #[test]
    fn codegen_flags_in_both_spellings() {
        let a = RustcArgs::parse(&args("-Cextra-filename=-ff --crate-name=x"));
        assert_eq!(a.extra_filename.as_deref(), Some("-ff"));
        assert_eq!(a.crate_name.as_deref(), Some("x"));
    }

    #[test]
    fn forwards_only_resolution_flags() {
        let a = args("build --release --offline --locked --config net.offline=true --config=a.b=1 --frozen -p x -- --offline");
        let f = select_forwarded_args(a.iter().map(OsString::as_os_str));
        assert_eq!(
            f,
            [
                "--offline",
                "--locked",
                "--config",
                "net.offline=true",
                "--config=a.b=1",
                "--frozen"
            ]
        );
    }
}
