//! The driver: `cargo binaudit <cargo command> …` and `binaudit build …`.
//!
//! It runs the real cargo with our own executable as `RUSTC_WORKSPACE_WRAPPER`. The workspace
//! variant is deliberate: only workspace members are wrapped (dependencies compile untouched),
//! and cargo rebuilds members when the wrapper changes, so a binary built earlier without a
//! manifest is relinked with one. An existing workspace wrapper is chained, not replaced; an
//! existing `RUSTC_WRAPPER` (sccache and the like) is left to cargo, which nests ours inside it.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, ExitStatus};

use crate::wrapper::{
    select_forwarded_args, ENV_ALLOW_UNSUPPORTED, ENV_CARGO_ARGS, ENV_CHAINED_WRAPPER, ENV_RUSTC,
    ENV_WRAPPER_MODE,
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
}

impl CargoBuild {
    /// The command to run. Environment is set on the child only, never on our own process.
    pub fn command(&self) -> Command {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(&self.cargo_args);
        cmd.env("RUSTC_WORKSPACE_WRAPPER", &self.wrapper);
        cmd.env(ENV_WRAPPER_MODE, "1");
        if let Some(previous) = std::env::var_os("RUSTC_WORKSPACE_WRAPPER") {
            if !previous.is_empty() && !same_program(&previous, &self.wrapper) {
                cmd.env(ENV_CHAINED_WRAPPER, previous);
            }
        }
        let forwarded = select_forwarded_args(self.cargo_args.iter().map(OsString::as_os_str));
        cmd.env(
            ENV_CARGO_ARGS,
            serde_json::to_string(&forwarded).unwrap_or_else(|_| "[]".into()),
        );
        cmd.env(
            ENV_RUSTC,
            std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()),
        );
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
            env[ENV_ALLOW_UNSUPPORTED].as_deref(),
            Some(std::ffi::OsStr::new("1"))
        );
        let args: Vec<_> = cmd.get_args().collect();
        assert_eq!(args, ["build", "--release", "--locked", "--config", "x=1"]);
    }
}
