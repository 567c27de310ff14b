//! Cloning and updating the advisory database with the `git` program.
//!
//! Why the `git` CLI and not a library: a Rust git implementation with an HTTPS transport (`gix`
//! with reqwest and rustls, as cargo-audit uses) would be a dependency tree several times the
//! size of ours, for two commands, and everyone who keeps a cargo-audit database has git. The
//! `rustsec` crate is used without its `git` feature for the same reason.
//!
//! - A missing database is cloned with `--depth 1` into a temporary sibling directory that is
//!   renamed into place, so an interrupted clone never leaves a half database at the path.
//! - An existing checkout is updated with `fetch --depth 1 <url> HEAD` (the default branch of
//!   the URL asked for, whatever `origin` says) and `reset --hard FETCH_HEAD`, as cargo-audit
//!   does: local changes to tracked files are discarded.
//! - Servers that speak only git's "dumb" HTTP protocol cannot serve shallow fetches; when git
//!   says so, the same command is repeated without `--depth`.
//! - Stalled transfers end: every command runs with `http.lowSpeedLimit=1000` and
//!   `http.lowSpeedTime=30` (under 1000 bytes/s for 30 s aborts), and git never prompts for
//!   credentials.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use super::db::{git_dir, git_head};

/// The official RustSec advisory database.
pub const DEFAULT_URL: &str = "https://github.com/rustsec/advisory-db.git";

/// How old a fetch may be before the CLI updates the database by itself (unless `--offline`).
pub const DEFAULT_REFRESH_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// What [`fetch_or_update`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchOutcome {
    /// The database did not exist and was cloned at `commit`.
    Cloned { commit: Option<String> },
    /// The checkout moved from one commit to another.
    Updated {
        from: Option<String>,
        to: Option<String>,
    },
    /// The remote had nothing new.
    UpToDate { commit: Option<String> },
}

/// Why fetching failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    #[error("cannot run git to fetch the advisory database into {path}: {source}")]
    GitNotFound {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} exists but is not a git checkout, so it cannot be updated")]
    NotACheckout { path: PathBuf },
    #[error("`git {command}` failed for {path}: {stderr}")]
    Git {
        path: PathBuf,
        command: String,
        stderr: String,
    },
    #[error("cannot {action} {path}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
}

/// Clones `url` into `path` if it does not exist (or is an empty directory), else updates the
/// checkout at `path` to the default branch of `url`.
pub fn fetch_or_update(url: &str, path: &Path) -> Result<FetchOutcome, FetchError> {
    if std::fs::symlink_metadata(path).is_err() {
        return clone(url, path);
    }
    // An empty directory (made by hand, or left by an installer) is taken as "not there yet".
    if is_empty_dir(path) {
        std::fs::remove_dir(path).map_err(|source| FetchError::Io {
            path: path.to_owned(),
            action: "replace the empty directory",
            source,
        })?;
        return clone(url, path);
    }
    if git_dir(path).is_none() {
        return Err(FetchError::NotACheckout {
            path: path.to_owned(),
        });
    }
    let from = git_head(path);
    run_shallow_or_full(
        path,
        &[
            OsStr::new("-C"),
            path.as_os_str(),
            OsStr::new("fetch"),
            OsStr::new("--quiet"),
            OsStr::new("--no-tags"),
        ],
        &[OsStr::new("--"), OsStr::new(url), OsStr::new("HEAD")],
    )?;
    run(
        path,
        &[
            OsStr::new("-C"),
            path.as_os_str(),
            OsStr::new("reset"),
            OsStr::new("--quiet"),
            OsStr::new("--hard"),
            OsStr::new("FETCH_HEAD"),
        ],
    )?;
    let to = git_head(path);
    Ok(if from == to {
        FetchOutcome::UpToDate { commit: to }
    } else {
        FetchOutcome::Updated { from, to }
    })
}

fn is_empty_dir(path: &Path) -> bool {
    std::fs::read_dir(path).is_ok_and(|mut entries| entries.next().is_none())
}

fn clone(url: &str, path: &Path) -> Result<FetchOutcome, FetchError> {
    let io = |action: &'static str, p: &Path| {
        let p = p.to_owned();
        move |source| FetchError::Io {
            path: p,
            action,
            source,
        }
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io("create", &parent))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "advisory-db".to_owned());
    let tmp = parent.join(format!(".{name}.clone-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io("remove", &tmp))?;
    }
    let result = run_shallow_or_full(
        path,
        &[OsStr::new("clone"), OsStr::new("--quiet")],
        &[OsStr::new("--"), OsStr::new(url), tmp.as_os_str()],
    )
    .and_then(|()| std::fs::rename(&tmp, path).map_err(io("move the clone to", path)));
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    Ok(FetchOutcome::Cloned {
        commit: git_head(path),
    })
}

/// Whether the database at `path` should be fetched: it does not exist (or is an empty
/// directory), or it is a git checkout last fetched (or cloned) more than `max_age` ago. A
/// directory that is not a checkout (an unpacked snapshot given with `--db`) cannot be updated
/// and never needs it.
pub fn needs_refresh(path: &Path, max_age: Duration) -> bool {
    if std::fs::symlink_metadata(path).is_err() || is_empty_dir(path) {
        return true;
    }
    let Some(dir) = git_dir(path) else {
        return false;
    };
    let mtime = |name: &str| {
        std::fs::metadata(dir.join(name))
            .and_then(|m| m.modified())
            .ok()
    };
    match mtime("FETCH_HEAD").or_else(|| mtime("HEAD")) {
        Some(t) => SystemTime::now()
            .duration_since(t)
            .is_ok_and(|age| age > max_age),
        None => true,
    }
}

/// `git <head> --depth 1 <tail>`, repeated as `git <head> <tail>` if the server cannot serve
/// shallow fetches (git's dumb HTTP protocol).
fn run_shallow_or_full(path: &Path, head: &[&OsStr], tail: &[&OsStr]) -> Result<(), FetchError> {
    let shallow: Vec<&OsStr> = head
        .iter()
        .copied()
        .chain([OsStr::new("--depth"), OsStr::new("1")])
        .chain(tail.iter().copied())
        .collect();
    match run(path, &shallow) {
        Err(FetchError::Git { stderr, .. }) if stderr.contains("does not support shallow") => {
            let full: Vec<&OsStr> = head.iter().chain(tail).copied().collect();
            run(path, &full)
        }
        other => other,
    }
}

fn run(path: &Path, args: &[&OsStr]) -> Result<(), FetchError> {
    let output = Command::new("git")
        .args([
            "-c",
            "http.lowSpeedLimit=1000",
            "-c",
            "http.lowSpeedTime=30",
        ])
        .args(["-c", "advice.detachedHead=false"])
        .args(args)
        // Git's messages are matched above and shown to users: keep them untranslated.
        .env("LC_ALL", "C")
        .env("LANGUAGE", "C")
        .env("GIT_TERMINAL_PROMPT", "0")
        // A caller running inside a git hook must not redirect us to its repository.
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .stdin(Stdio::null())
        .output()
        .map_err(|source| FetchError::GitNotFound {
            path: path.to_owned(),
            source,
        })?;
    if output.status.success() {
        return Ok(());
    }
    let command = args
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    Err(FetchError::Git {
        path: path.to_owned(),
        command,
        stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_database_needs_fetching_and_a_plain_directory_cannot_be() {
        let dir = tempfile::tempdir().unwrap();
        assert!(needs_refresh(
            &dir.path().join("absent"),
            DEFAULT_REFRESH_AGE
        ));
        assert!(needs_refresh(dir.path(), DEFAULT_REFRESH_AGE), "empty");
        std::fs::write(dir.path().join("README.md"), "").unwrap();
        assert!(!needs_refresh(dir.path(), DEFAULT_REFRESH_AGE));
        assert!(matches!(
            fetch_or_update("http://127.0.0.1:9/none.git", dir.path()),
            Err(FetchError::NotACheckout { .. })
        ));
    }

    #[test]
    fn the_age_of_a_checkout_is_its_last_fetch() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        let head = dir.path().join(".git/HEAD");
        std::fs::write(&head, "ref: refs/heads/main\n").unwrap();
        assert!(!needs_refresh(dir.path(), DEFAULT_REFRESH_AGE));
        let two_days_ago = SystemTime::now() - Duration::from_secs(48 * 3600);
        std::fs::File::options()
            .write(true)
            .open(&head)
            .unwrap()
            .set_modified(two_days_ago)
            .unwrap();
        assert!(needs_refresh(dir.path(), DEFAULT_REFRESH_AGE));
        // A recent fetch counts even when HEAD itself is old.
        std::fs::write(dir.path().join(".git/FETCH_HEAD"), "").unwrap();
        assert!(!needs_refresh(dir.path(), DEFAULT_REFRESH_AGE));
    }
}
