//! What `cargo install` recorded about the binaries in `$CARGO_HOME/bin`.
//!
//! Cargo keeps two files in its home directory (not in `bin/`):
//!
//! - `.crates.toml`, since the beginning: `[v1]` maps a package id to the names of the binaries
//!   it installed: `"ripgrep 14.1.0 (registry+https://github.com/rust-lang/crates.io-index)" =
//!   ["rg"]`;
//! - `.crates2.json`, since cargo 1.41: `{"installs": {"<package id>": {"bins": […],
//!   "features": […], "profile": …, "target": …, "rustc": …}}}`.
//!
//! A package id is `<name> <version> (<source id>)`, the source id as cargo writes it: the
//! crates.io index as `registry+https://github.com/rust-lang/crates.io-index` (also when it was
//! fetched over the sparse protocol; `sparse+https://index.crates.io/` is accepted too), other
//! registries as `registry+<url>` or `sparse+<url>`, git as `git+<url>[?branch=|tag=|rev=…]#<commit>`,
//! and local paths as `path+file://<path>`.
//!
//! Cargo writes both files on every install. When they disagree — a newer cargo installed, an
//! older one (which writes only `.crates.toml`) reinstalled — cargo takes `.crates.toml` as the
//! truth and brings `.crates2.json` in line with it, so [`InstallRecords::load`] does the same:
//! a binary named by both files gets the package `.crates.toml` names. A missing file is no
//! records; a file that cannot be parsed is an error naming it, never an empty answer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The crates.io index as cargo names it in package ids.
const CRATES_IO_GIT: &str = "registry+https://github.com/rust-lang/crates.io-index";
/// The crates.io sparse index, as some tools (and possibly future cargo) write it.
const CRATES_IO_SPARSE: &str = "sparse+https://index.crates.io/";

/// The package `cargo install` built a binary from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// The package name.
    pub name: String,
    /// The package version.
    pub version: semver::Version,
    /// The source id as cargo wrote it, e.g.
    /// `registry+https://github.com/rust-lang/crates.io-index` or
    /// `git+https://github.com/o/r?branch=main#0123abcd…`.
    pub source: String,
    /// Whether the source is crates.io (so the package may be matched against RustSec).
    pub crates_io: bool,
}

/// Cargo's install records: which package installed each binary.
#[derive(Debug, Clone, Default)]
pub struct InstallRecords {
    /// Binary file name (as recorded, with `.exe` on Windows) → its package.
    bins: BTreeMap<String, Installed>,
}

/// Why the install records could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstallRecordsError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a valid cargo install record: {reason}", path.display())]
    Parse { path: PathBuf, reason: String },
    #[error("{}: `{key}` is not a package id (`<name> <version> (<source>)`): {reason}", path.display())]
    Key {
        path: PathBuf,
        key: String,
        reason: String,
    },
}

#[derive(serde::Deserialize)]
struct CratesV2 {
    installs: BTreeMap<String, InstallV2>,
}

#[derive(serde::Deserialize)]
struct InstallV2 {
    #[serde(default)]
    bins: Vec<String>,
}

#[derive(serde::Deserialize)]
struct CratesV1 {
    #[serde(default)]
    v1: BTreeMap<String, Vec<String>>,
}

impl InstallRecords {
    /// Reads `$CARGO_HOME/.crates2.json` and `$CARGO_HOME/.crates.toml`.
    pub fn load(cargo_home: &Path) -> Result<Self, InstallRecordsError> {
        let mut records = InstallRecords::default();
        let v2_path = cargo_home.join(".crates2.json");
        if let Some(text) = read_optional(&v2_path)? {
            let v2: CratesV2 =
                serde_json::from_str(&text).map_err(|e| InstallRecordsError::Parse {
                    path: v2_path.clone(),
                    reason: e.to_string(),
                })?;
            for (key, install) in v2.installs {
                records.insert(&v2_path, &key, install.bins)?;
            }
        }
        let v1_path = cargo_home.join(".crates.toml");
        if let Some(text) = read_optional(&v1_path)? {
            let v1: CratesV1 = toml::from_str(&text).map_err(|e| InstallRecordsError::Parse {
                path: v1_path.clone(),
                reason: e.to_string(),
            })?;
            // Inserted last: where the files disagree, `.crates.toml` wins, as in cargo.
            for (key, bins) in v1.v1 {
                records.insert(&v1_path, &key, bins)?;
            }
        }
        Ok(records)
    }

    fn insert(
        &mut self,
        path: &Path,
        key: &str,
        bins: Vec<String>,
    ) -> Result<(), InstallRecordsError> {
        let installed = parse_package_id(key).map_err(|reason| InstallRecordsError::Key {
            path: path.to_owned(),
            key: key.to_owned(),
            reason,
        })?;
        for bin in bins {
            self.bins.insert(bin, installed.clone());
        }
        Ok(())
    }

    /// Whether no binary is recorded.
    pub fn is_empty(&self) -> bool {
        self.bins.is_empty()
    }

    /// The package that installed the binary `file_name` (a file name in `$CARGO_HOME/bin`),
    /// matched with and without a trailing `.exe`.
    pub fn for_binary(&self, file_name: &str) -> Option<&Installed> {
        if let Some(found) = self.bins.get(file_name) {
            return Some(found);
        }
        match strip_exe(file_name) {
            Some(stem) => self.bins.get(stem),
            None => self.bins.get(&format!("{file_name}.exe")),
        }
    }

    /// The command that upgrades `installed` and embeds a dependency manifest in the result.
    ///
    /// A git install is upgraded to the head of its branch (or of the default branch when it was
    /// pinned to a tag or revision: staying on the pin would rebuild the same code). A path
    /// install can only be rebuilt from its local source, and the command says so.
    pub fn upgrade_command(&self, installed: &Installed) -> String {
        let name = &installed.name;
        let source = installed.source.as_str();
        if installed.crates_io {
            return format!("cargo binaudit install --locked {name}");
        }
        if let Some(rest) = source.strip_prefix("git+") {
            let (url, branch) = git_url_and_branch(rest);
            return match branch {
                Some(branch) => {
                    format!("cargo binaudit install --locked --git {url} --branch {branch} {name}")
                }
                None => format!("cargo binaudit install --locked --git {url} {name}"),
            };
        }
        if let Some(url) = source.strip_prefix("path+") {
            let path = file_url_to_path(url);
            return format!(
                "installed from a local path; rebuild it from there: \
                 cargo binaudit install --locked --path {path}"
            );
        }
        if source.starts_with("registry+") || source.starts_with("sparse+") {
            // `--index` takes a sparse index with its `sparse+` prefix and a git index without.
            let index = source.strip_prefix("registry+").unwrap_or(source);
            return format!("cargo binaudit install --locked --index {index} {name}");
        }
        format!("installed from {source}; reinstall it from there with `cargo binaudit install --locked`")
    }
}

/// The largest install record file read (`.crates2.json` holds a few hundred bytes per
/// installed crate).
const MAX_RECORDS_BYTES: u64 = 64 << 20;

fn read_optional(path: &Path) -> Result<Option<String>, InstallRecordsError> {
    match crate::untrusted::read_limited_text(path, MAX_RECORDS_BYTES).map_err(std::io::Error::from)
    {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(InstallRecordsError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// `"<name> <version> (<source>)"`, as cargo's `PackageId` is serialised.
fn parse_package_id(key: &str) -> Result<Installed, String> {
    let mut parts = key.splitn(3, ' ');
    let name = parts
        .next()
        .filter(|n| !n.is_empty())
        .ok_or("no package name")?;
    let version = parts.next().ok_or("no version")?;
    let version =
        semver::Version::parse(version).map_err(|e| format!("version `{version}`: {e}"))?;
    let source = parts
        .next()
        .and_then(|s| s.strip_prefix('('))
        .and_then(|s| s.strip_suffix(')'))
        .filter(|s| !s.is_empty())
        .ok_or("no `(<source>)` after the version")?;
    Ok(Installed {
        name: name.to_owned(),
        version,
        source: source.to_owned(),
        crates_io: is_crates_io(source),
    })
}

fn is_crates_io(source: &str) -> bool {
    let trimmed = source.trim_end_matches('/');
    trimmed == CRATES_IO_GIT || trimmed == CRATES_IO_SPARSE.trim_end_matches('/')
}

fn strip_exe(file_name: &str) -> Option<&str> {
    let split = file_name.len().checked_sub(4)?;
    let (stem, ext) = (file_name.get(..split)?, file_name.get(split..)?);
    (ext.eq_ignore_ascii_case(".exe") && !stem.is_empty()).then_some(stem)
}

/// `https://host/repo?branch=main#0123…` → (`https://host/repo`, `Some("main")`). A tag or rev
/// pin is dropped (see [`InstallRecords::upgrade_command`]).
fn git_url_and_branch(rest: &str) -> (String, Option<String>) {
    let without_commit = rest.split_once('#').map_or(rest, |(u, _)| u);
    let (url, query) = match without_commit.split_once('?') {
        Some((url, query)) => (url, Some(query)),
        None => (without_commit, None),
    };
    let branch = query.and_then(|q| {
        q.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            // `ref` is what old cargo wrote for a branch.
            (k == "branch" || k == "ref").then(|| percent_decode(v))
        })
    });
    (url.to_owned(), branch)
}

/// `file:///home/me/tool` → `/home/me/tool`; `file:///C:/src/tool` → `C:/src/tool`.
fn file_url_to_path(url: &str) -> String {
    let url = url.split_once('#').map_or(url, |(u, _)| u);
    let Some(rest) = url.strip_prefix("file://") else {
        return url.to_owned();
    };
    let path = percent_decode(rest);
    let bytes = path.as_bytes();
    // A Windows drive path keeps no leading slash.
    if bytes.len() >= 3 && bytes[0] == b'/' && bytes[1].is_ascii_alphabetic() && bytes[2] == b':' {
        return path[1..].to_owned();
    }
    path
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match decoded {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn package_ids_of_every_source_kind_parse() {
        let i = parse_package_id(
            "ripgrep 14.1.0 (registry+https://github.com/rust-lang/crates.io-index)",
        )
        .unwrap();
        assert_eq!(
            (i.name.as_str(), i.version.to_string().as_str()),
            ("ripgrep", "14.1.0")
        );
        assert!(i.crates_io);
        assert!(
            parse_package_id("x 1.0.0 (sparse+https://index.crates.io/)")
                .unwrap()
                .crates_io
        );
        let git = parse_package_id(
            "t 0.1.0-rc.1 (git+https://github.com/o/t?branch=dev#0123456789abcdef)",
        )
        .unwrap();
        assert!(!git.crates_io);
        assert_eq!(git.version, semver::Version::parse("0.1.0-rc.1").unwrap());
        assert!(
            !parse_package_id("p 0.1.0 (path+file:///home/me/p)")
                .unwrap()
                .crates_io
        );
        assert!(
            !parse_package_id("q 1.0.0 (sparse+https://my.registry/index/)")
                .unwrap()
                .crates_io
        );
    }

    #[test]
    fn malformed_package_ids_are_rejected() {
        for bad in [
            "",
            "name",
            "name 1.0.0",
            "name x.y (registry+a)",
            "name 1.0.0 registry+a",
            "name 1.0.0 ()",
        ] {
            assert!(parse_package_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn git_urls_keep_a_branch_and_drop_pins() {
        assert_eq!(
            git_url_and_branch("https://h/r?branch=feature%2Fx#abc"),
            ("https://h/r".to_owned(), Some("feature/x".to_owned()))
        );
        assert_eq!(
            git_url_and_branch("https://h/r?tag=v1#abc"),
            ("https://h/r".to_owned(), None)
        );
        assert_eq!(
            git_url_and_branch("https://h/r#abc"),
            ("https://h/r".to_owned(), None)
        );
    }

    #[test]
    fn file_urls_become_paths() {
        assert_eq!(
            file_url_to_path("file:///home/me/my%20tool"),
            "/home/me/my tool"
        );
        assert_eq!(file_url_to_path("file:///C:/src/tool"), "C:/src/tool");
        assert_eq!(file_url_to_path("file:///w/p#0.1.0"), "/w/p");
    }

    #[test]
    fn exe_suffix_is_stripped_case_insensitively() {
        assert_eq!(strip_exe("rg.exe"), Some("rg"));
        assert_eq!(strip_exe("RG.EXE"), Some("RG"));
        assert_eq!(strip_exe(".exe"), None);
        assert_eq!(strip_exe("rg"), None);
        assert_eq!(strip_exe("é"), None);
    }
}
