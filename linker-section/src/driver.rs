//! The driver: `cargo binaudit <cargo command> …` and `binaudit build …`.
//!
//! It runs the real cargo with our own executable as both `RUSTC_WRAPPER` and
//! `RUSTC_WORKSPACE_WRAPPER`. As the rustc wrapper it sees every compilation, which is how
//! manifests are exact (see [`crate::exact`]); as the workspace wrapper it makes cargo rebuild
//! workspace members when it changes, so a binary built earlier without a manifest is relinked
//! with one. The user's own wrappers (sccache and the like) are chained, not replaced: the
//! wrapper runs them, in cargo's order, around the real rustc.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, ExitStatus};

use crate::cargo_config::Lookup;
use crate::wrapper::{
    select_forwarded_args, ENV_ALLOW_UNSUPPORTED, ENV_ARTIFACT_LOG, ENV_CARGO_ARGS,
    ENV_CHAINED_RUSTC_WRAPPER, ENV_CHAINED_WRAPPER, ENV_RUSTC, ENV_SELF, ENV_WRAPPER_MODE,
};

/// Options of the build helper itself (not cargo's).
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Build for a target we cannot write an object for, without a manifest, with a warning.
    pub allow_unsupported_target: bool,
}

/// A cargo invocation prepared to run with our wrapper.
#[derive(Debug)]
pub struct CargoBuild {
    /// The executable cargo should run as its workspace wrapper: normally our own.
    pub wrapper: PathBuf,
    /// The cargo subcommand and its arguments, e.g. `build --release`.
    pub cargo_args: Vec<OsString>,
    pub options: BuildOptions,
    /// Where the wrapper records the artifacts it embedded a manifest in (see [`built_artifacts`]).
    pub artifact_log: Option<PathBuf>,
}

impl CargoBuild {
    /// The command to run. Environment is set on the child only, never on our own process.
    pub fn command(&self) -> Command {
        self.command_with(&self.cargo_args)
    }

    fn command_with(&self, cargo_args: &[OsString]) -> Command {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(cargo_args);
        // Both wrappers: the rustc wrapper sees every compilation (dependencies too), and
        // cargo rebuilds workspace members when their workspace wrapper changes, so a binary
        // linked earlier without a manifest is relinked with one.
        cmd.env("RUSTC_WRAPPER", &self.wrapper);
        cmd.env("RUSTC_WORKSPACE_WRAPPER", &self.wrapper);
        cmd.env(ENV_SELF, &self.wrapper);
        cmd.env(ENV_WRAPPER_MODE, "1");
        cmd.env_remove("CARGO_BUILD_RUSTC_WRAPPER");
        cmd.env_remove("CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER");
        let forwarded = select_forwarded_args(self.cargo_args.iter().map(OsString::as_os_str));
        let configs: Vec<String> = forwarded
            .iter()
            .zip(forwarded.iter().skip(1))
            .filter(|(flag, _)| *flag == "--config")
            .map(|(_, v)| v.clone())
            .chain(
                forwarded
                    .iter()
                    .filter_map(|a| a.strip_prefix("--config=").map(str::to_owned)),
            )
            .collect();
        let cwd = std::env::current_dir().unwrap_or_default();
        let users = Lookup {
            cwd: &cwd,
            cargo_home: cargo_home(),
            cli_configs: &configs,
        }
        .wrappers(|k| std::env::var_os(k));
        let theirs = |w: Option<OsString>| w.filter(|w| !same_program(w, &self.wrapper));
        match theirs(users.workspace_wrapper) {
            Some(previous) => cmd.env(ENV_CHAINED_WRAPPER, previous),
            None => cmd.env_remove(ENV_CHAINED_WRAPPER),
        };
        match theirs(users.rustc_wrapper) {
            Some(previous) => cmd.env(ENV_CHAINED_RUSTC_WRAPPER, previous),
            None => cmd.env_remove(ENV_CHAINED_RUSTC_WRAPPER),
        };
        cmd.env(
            ENV_CARGO_ARGS,
            serde_json::to_string(&forwarded).unwrap_or_else(|_| "[]".into()),
        );
        cmd.env(
            ENV_RUSTC,
            std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()),
        );
        if let Some(log) = &self.artifact_log {
            cmd.env(ENV_ARTIFACT_LOG, log);
        }
        if self.options.allow_unsupported_target {
            cmd.env(ENV_ALLOW_UNSUPPORTED, "1");
        } else {
            cmd.env_remove(ENV_ALLOW_UNSUPPORTED);
        }
        cmd
    }

    /// Runs cargo and returns its exit status.
    pub fn run(&self) -> std::io::Result<ExitStatus> {
        self.command().status()
    }

    /// Runs cargo and also returns every `bin`/`cdylib` it produced or found up to date.
    ///
    /// For the subcommands that link (`build`, `rustc`, `install`, `zigbuild`) and when the user
    /// chose no `--message-format`, cargo is asked for `json-render-diagnostics`: diagnostics
    /// still render on stderr as usual, and the JSON artifact messages on stdout (which include
    /// fresh, not rebuilt, artifacts) are read here instead of printed. Any other stdout line is
    /// passed through. Otherwise the artifacts come from the wrapper's log (see
    /// [`built_artifacts`]), which only lists what was linked in this run.
    pub fn run_collecting(&self) -> std::io::Result<(ExitStatus, Vec<PathBuf>)> {
        let mut logged = Vec::new();
        let status = if let Some(args) = with_json_messages(&self.cargo_args) {
            let mut cmd = self.command_with(&args);
            cmd.stdout(std::process::Stdio::piped());
            let mut child = cmd.spawn()?;
            if let Some(stdout) = child.stdout.take() {
                let out = std::io::stdout();
                for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)) {
                    let line = line?;
                    match artifact_paths(&line) {
                        Some(paths) => logged.extend(paths),
                        None => {
                            let mut out = out.lock();
                            let _ = std::io::Write::write_all(&mut out, line.as_bytes());
                            let _ = std::io::Write::write_all(&mut out, b"\n");
                        }
                    }
                }
            }
            child.wait()?
        } else {
            self.run()?
        };
        if let Some(log) = &self.artifact_log {
            for p in built_artifacts(log) {
                if !logged.contains(&p) {
                    logged.push(p);
                }
            }
        }
        logged.dedup();
        Ok((status, logged))
    }
}

/// Cargo's arguments with `--message-format=json-render-diagnostics` added, when it is safe to.
fn with_json_messages(args: &[OsString]) -> Option<Vec<OsString>> {
    let sub = args.first()?.to_str()?;
    if !matches!(sub, "build" | "b" | "rustc" | "install" | "zigbuild") {
        return None;
    }
    let before_separator = args.iter().take_while(|a| *a != "--");
    if before_separator
        .clone()
        .any(|a| a.to_string_lossy().starts_with("--message-format"))
    {
        return None;
    }
    let mut out = vec![
        args[0].clone(),
        OsString::from("--message-format=json-render-diagnostics"),
    ];
    out.extend(args[1..].iter().cloned());
    Some(out)
}

/// For a cargo JSON message line: `Some(paths)` (possibly empty) when it is a cargo message,
/// with the linked `bin`/`cdylib` files of a `compiler-artifact`; `None` for any other line.
fn artifact_paths(line: &str) -> Option<Vec<PathBuf>> {
    if !line.starts_with('{') {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let reason = v.get("reason")?.as_str()?;
    if reason != "compiler-artifact" {
        return Some(Vec::new());
    }
    if v.pointer("/profile/test")
        .and_then(serde_json::Value::as_bool)
        == Some(true)
    {
        return Some(Vec::new());
    }
    let kinds: Vec<&str> = v
        .pointer("/target/kind")
        .and_then(serde_json::Value::as_array)
        .map(|a| a.iter().filter_map(serde_json::Value::as_str).collect())
        .unwrap_or_default();
    let mut out = Vec::new();
    if let Some(exe) = v.get("executable").and_then(serde_json::Value::as_str) {
        out.push(PathBuf::from(exe));
    } else if kinds.contains(&"cdylib") {
        let files = v.get("filenames").and_then(serde_json::Value::as_array);
        for f in files
            .into_iter()
            .flatten()
            .filter_map(serde_json::Value::as_str)
        {
            let p = PathBuf::from(f);
            if matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("so" | "dylib" | "dll" | "wasm")
            ) {
                out.push(p);
            }
        }
    }
    Some(out)
}

/// The artifacts recorded in `log`: for each, the path cargo uplifted it to when that exists,
/// else the path it was linked at. Deduplicated, in build order.
pub fn built_artifacts(log: &std::path::Path) -> Vec<PathBuf> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut out: Vec<PathBuf> = Vec::new();
    for line in text.lines() {
        let (linked, uplifted) = line.split_once('\t').unwrap_or((line, ""));
        let pick = if !uplifted.is_empty() && std::path::Path::new(uplifted).is_file() {
            uplifted
        } else {
            linked
        };
        let pick = PathBuf::from(pick);
        if !pick.as_os_str().is_empty() && !out.contains(&pick) {
            out.push(pick);
        }
    }
    out
}

/// `CARGO_HOME`, else `~/.cargo`.
fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
}

fn same_program(a: &std::ffi::OsStr, b: &std::path::Path) -> bool {
    let a = PathBuf::from(a);
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sets_wrapper_and_forwarded_flags_on_the_child() {
        let b = CargoBuild {
            wrapper: "/opt/binaudit".into(),
            cargo_args: ["build", "--release", "--locked", "--config", "x=1"]
                .map(OsString::from)
                .to_vec(),
            options: BuildOptions {
                allow_unsupported_target: true,
            },
            artifact_log: Some("/tmp/built.txt".into()),
        };
        let cmd = b.command();
        let env: std::collections::HashMap<_, _> = cmd
            .get_envs()
            .map(|(k, v)| (k.to_string_lossy().into_owned(), v.map(|v| v.to_owned())))
            .collect();
        assert_eq!(
            env["RUSTC_WORKSPACE_WRAPPER"].as_deref(),
            Some(std::ffi::OsStr::new("/opt/binaudit"))
        );
        assert_eq!(
            env[ENV_CARGO_ARGS].as_deref(),
            Some(std::ffi::OsStr::new(r#"["--locked","--config","x=1"]"#))
        );
        assert_eq!(
            env[ENV_ARTIFACT_LOG].as_deref(),
            Some(std::ffi::OsStr::new("/tmp/built.txt"))
        );
        assert_eq!(
            env[ENV_ALLOW_UNSUPPORTED].as_deref(),
            Some(std::ffi::OsStr::new("1"))
        );
        let args: Vec<_> = cmd.get_args().collect();
        assert_eq!(args, ["build", "--release", "--locked", "--config", "x=1"]);
    }
}
