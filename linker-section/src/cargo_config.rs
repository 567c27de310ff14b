//! The rustc wrappers a user configured for cargo, so that ours can run them instead of
//! replacing them.
//!
//! The driver sets `RUSTC_WRAPPER` and `RUSTC_WORKSPACE_WRAPPER` in cargo's environment, and
//! cargo lets the environment win over its configuration. A wrapper the user set in a config
//! file (`[build] rustc-wrapper = "sccache"`, the usual way to enable sccache) or with
//! `--config` would therefore be dropped silently; this module finds it with cargo's
//! precedence: environment, then `--config` arguments, then config files from the current
//! directory upwards, then `$CARGO_HOME/config.toml`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The two wrapper settings; `None` when unset or set to the empty string (cargo's "none").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wrappers {
    pub rustc_wrapper: Option<OsString>,
    pub workspace_wrapper: Option<OsString>,
}

/// Where to look. `env` reads one environment variable (the process environment in use).
#[derive(Debug, Clone)]
pub struct Lookup<'a> {
    pub cwd: &'a Path,
    pub cargo_home: Option<PathBuf>,
    /// The values of `--config` arguments, in order (`KEY=VALUE` or a file path).
    pub cli_configs: &'a [String],
}

const KEYS: [(&str, &str, &str); 2] = [
    (
        "rustc-wrapper",
        "RUSTC_WRAPPER",
        "CARGO_BUILD_RUSTC_WRAPPER",
    ),
    (
        "rustc-workspace-wrapper",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER",
    ),
];

impl Lookup<'_> {
    /// The configured wrappers, each from the first place that sets it.
    pub fn wrappers(&self, env: impl Fn(&str) -> Option<OsString>) -> Wrappers {
        let mut found = [None, None];
        for (slot, (key, var, build_var)) in found.iter_mut().zip(KEYS) {
            *slot = env(var)
                .or_else(|| env(build_var))
                .or_else(|| self.in_cli_configs(key))
                .or_else(|| self.in_config_files(key));
        }
        let [rustc_wrapper, workspace_wrapper] = found.map(|v| v.filter(|w| !w.is_empty()));
        Wrappers {
            rustc_wrapper,
            workspace_wrapper,
        }
    }

    /// The last `--config` that sets `build.<key>` wins, as in cargo.
    fn in_cli_configs(&self, key: &str) -> Option<OsString> {
        self.cli_configs.iter().rev().find_map(|c| {
            let path = self.cwd.join(c);
            if c.ends_with(".toml") && path.is_file() {
                let base = path.parent().map(Path::to_owned);
                return read_key(&path, key).map(|v| resolve(v, base.as_deref()));
            }
            let value: toml::Table = toml::from_str(c).ok()?;
            build_key(&value, key).map(|v| resolve(v, Some(self.cwd)))
        })
    }

    /// Config files, most specific first; relative paths in them are relative to the
    /// directory that holds their `.cargo` directory.
    fn in_config_files(&self, key: &str) -> Option<OsString> {
        let mut dirs: Vec<PathBuf> = self.cwd.ancestors().map(|d| d.join(".cargo")).collect();
        if let Some(home) = &self.cargo_home {
            if !dirs.contains(home) {
                dirs.push(home.clone());
            }
        }
        dirs.iter().find_map(|dir| {
            // Cargo reads `config` when both exist (and warns); `config.toml` otherwise.
            let file = ["config", "config.toml"]
                .iter()
                .map(|n| dir.join(n))
                .find(|f| f.is_file())?;
            let base = dir.parent().map(Path::to_owned);
            read_key(&file, key).map(|v| resolve(v, base.as_deref()))
        })
    }
}

fn read_key(file: &Path, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    let value: toml::Table = toml::from_str(&text).ok()?;
    build_key(&value, key)
}

fn build_key(doc: &toml::Table, key: &str) -> Option<String> {
    doc.get("build")?.get(key)?.as_str().map(str::to_owned)
}

/// Cargo's rule for a configured program: a value with a path separator is a path (relative
/// to `base`), anything else a program name to look up in `PATH`.
fn resolve(value: String, base: Option<&Path>) -> OsString {
    if value.contains('/') || value.contains('\\') {
        match base {
            Some(b) if Path::new(&value).is_relative() => b.join(value).into_os_string(),
            _ => value.into(),
        }
    } else {
        value.into()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn config_files_nearest_first_then_cargo_home() {
        let t = tempfile::tempdir().unwrap();
        let ws = t.path().join("ws");
        let cwd = ws.join("member");
        let home = t.path().join("home");
        std::fs::create_dir_all(&cwd).unwrap();
        write(
            &home.join("config.toml"),
            "[build]\nrustc-wrapper = \"sccache\"\nrustc-workspace-wrapper = \"clippy-driver\"\n",
        );
        let lookup = Lookup {
            cwd: &cwd,
            cargo_home: Some(home.clone()),
            cli_configs: &[],
        };
        let none = |_: &str| None;
        assert_eq!(
            lookup.wrappers(none),
            Wrappers {
                rustc_wrapper: Some("sccache".into()),
                workspace_wrapper: Some("clippy-driver".into()),
            }
        );
        // The workspace's own config is nearer; its relative path is relative to `ws`.
        write(
            &ws.join(".cargo/config.toml"),
            "build.rustc-wrapper = \"tools/wrap.sh\"\n",
        );
        let w = lookup.wrappers(none);
        assert_eq!(
            w.rustc_wrapper,
            Some(ws.join("tools/wrap.sh").into_os_string())
        );
        assert_eq!(w.workspace_wrapper, Some("clippy-driver".into()));
        // `--config` beats files; the environment beats everything; empty means none.
        let cli = ["build.rustc-wrapper=\"cachepot\"".to_owned()];
        let lookup = Lookup {
            cli_configs: &cli,
            ..lookup
        };
        assert_eq!(lookup.wrappers(none).rustc_wrapper, Some("cachepot".into()));
        let env = |k: &str| (k == "RUSTC_WRAPPER").then(|| OsString::from("/opt/w"));
        assert_eq!(lookup.wrappers(env).rustc_wrapper, Some("/opt/w".into()));
        let empty = |k: &str| (k == "CARGO_BUILD_RUSTC_WRAPPER").then(OsString::new);
        assert_eq!(lookup.wrappers(empty).rustc_wrapper, None);
    }
}
