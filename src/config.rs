//! The audit configuration file: cargo-audit's `audit.toml` format, so one file serves both.
//!
//! Looked up, first found wins: `--config FILE`; `.cargo/audit.toml` in the current directory
//! or any parent; `$CARGO_HOME/audit.toml`. Command-line flags add to the file (ignores and
//! denies are unions) or override it (severity threshold, database path).
//!
//! Honoured keys: `[advisories] ignore`, `[advisories] severity_threshold`,
//! `[advisories] informational_warnings` (kinds shown as warnings; others are hidden),
//! `[output] deny`, `[database] path`, `[yanked] enabled`. Unknown keys are ignored, as
//! cargo-audit does, so a file written for it keeps working.

use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Config {
    #[serde(default)]
    pub advisories: AdvisoriesConfig,
    #[serde(default)]
    pub output: OutputConfig,
    #[serde(default)]
    pub database: DatabaseConfig,
    #[serde(default)]
    pub yanked: YankedConfig,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AdvisoriesConfig {
    #[serde(default)]
    pub ignore: Vec<String>,
    pub severity_threshold: Option<String>,
    pub informational_warnings: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct OutputConfig {
    #[serde(default)]
    pub deny: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DatabaseConfig {
    pub path: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct YankedConfig {
    pub enabled: Option<bool>,
}

/// Why a configuration file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid configuration in {path}: {message}")]
    Parse { path: PathBuf, message: String },
}

/// The largest configuration file read: `audit.toml` may come with a checkout being audited.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = crate::untrusted::read_limited_text(path, MAX_CONFIG_BYTES).map_err(|e| {
            ConfigError::Read {
                path: path.to_owned(),
                source: e.into(),
            }
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    /// The file that applies when none is given, if any.
    pub fn discover(cwd: &Path, cargo_home: Option<&Path>) -> Option<PathBuf> {
        for dir in cwd.ancestors() {
            let candidate = dir.join(".cargo").join("audit.toml");
            if candidate.is_file() {
                return Some(candidate);
            }
        }
        cargo_home
            .map(|h| h.join("audit.toml"))
            .filter(|p| p.is_file())
    }
}

/// `$CARGO_HOME`, defaulting to `~/.cargo`.
pub fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(|| home_dir().map(|h| h.join(".cargo")))
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_cargo_audit_files_and_ignores_unknown_keys() {
        let c: Config = toml::from_str(
            r#"
[advisories]
ignore = ["RUSTSEC-2021-0003"]
severity_threshold = "medium"
unknown_key = 1
[output]
deny = ["unmaintained"]
quiet = false
[yanked]
enabled = false
[target]
arch = "x86_64"
"#,
        )
        .unwrap();
        assert_eq!(c.advisories.ignore, ["RUSTSEC-2021-0003"]);
        assert_eq!(c.advisories.severity_threshold.as_deref(), Some("medium"));
        assert_eq!(c.output.deny, ["unmaintained"]);
        assert_eq!(c.yanked.enabled, Some(false));
    }

    #[test]
    fn discovery_walks_up_to_the_nearest_dot_cargo() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::create_dir_all(dir.path().join("a/.cargo")).unwrap();
        std::fs::write(dir.path().join("a/.cargo/audit.toml"), "").unwrap();
        assert_eq!(
            Config::discover(&deep, None),
            Some(dir.path().join("a/.cargo/audit.toml"))
        );
    }
}
