//! Running processes (Linux): the binary each one really runs, through `/proc/<pid>/exe`.
//!
//! `/proc/<pid>/exe` is a link the kernel keeps to the file the process was started from.
//! Reading the link gives its path; **opening it gives the file the process runs**, even after
//! that path was deleted or replaced by an upgrade — exactly the case worth reporting, since
//! the process still runs the old code. So the auditor reads [`ProcessBinary::open_path`], and
//! [`ProcessBinary::state`] says whether the file now at [`ProcessBinary::exe`] is still it.
//!
//! # How the state is decided
//! The running file's (device, inode) comes from `stat` of `/proc/<pid>/exe`. The path the link
//! names (without the kernel's ` (deleted)` suffix) is then looked up twice: as seen from this
//! process, and as seen from the process's own root (`/proc/<pid>/root/<path>`), because a
//! process in a container or chroot names paths inside its own root. If either is the same
//! file, the state is [`BinaryState::Same`]; if something else is there, [`Replaced`]
//! (installing over a running binary renames a new file over the path, which also makes the
//! kernel mark the old one deleted); if nothing is, [`Deleted`].
//!
//! # What is skipped
//! Kernel threads and zombies have no executable (`readlink` fails with `ENOENT`), and a
//! process may exit while the list is made: those are skipped silently. Other users'
//! processes cannot be inspected without privileges: each is returned as a per-pid error.
//!
//! [`Replaced`]: BinaryState::Replaced
//! [`Deleted`]: BinaryState::Deleted

use std::path::PathBuf;

/// Whether the file at a process's executable path is still the one it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryState {
    /// The path still names the running file.
    Same,
    /// The running file was deleted and nothing is at its path.
    Deleted,
    /// A different file is at the path now (typically an upgrade): the process still runs the
    /// old one.
    Replaced,
}

/// One running process and the binary it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessBinary {
    pub pid: u32,
    /// The arguments, NUL separators turned into spaces, lossy UTF-8, at most the first 4 KiB.
    pub cmdline: String,
    /// The path the process was started from (the `/proc/<pid>/exe` link, without
    /// ` (deleted)`).
    pub exe: PathBuf,
    /// `/proc/<pid>/exe`: opening it reads the file the process runs, deleted or replaced.
    pub open_path: PathBuf,
    pub state: BinaryState,
    /// (device, inode) of the running file, to audit each distinct binary once.
    pub key: (u64, u64),
}

/// Why processes cannot be listed at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProcessError {
    #[error("process scanning needs Linux's /proc; not available on this system")]
    Unsupported,
    #[error("cannot list /proc: {0}")]
    Proc(#[source] std::io::Error),
}

/// The processes that could be inspected, sorted by pid, and `(pid, reason)` for those that
/// could not (typically other users' processes without privileges).
pub type ProcessList = (Vec<ProcessBinary>, Vec<(u32, String)>);

/// Every process whose executable can be inspected; see [`ProcessList`].
pub fn list_processes() -> Result<ProcessList, ProcessError> {
    imp::list_processes()
}

/// How much of a command line is kept.
const CMDLINE_MAX: u64 = 4096;

#[cfg(target_os = "linux")]
mod imp {
    use super::{BinaryState, ProcessBinary, ProcessError, ProcessList, CMDLINE_MAX};
    use std::ffi::OsStr;
    use std::fs;
    use std::io::{self, Read};
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    use std::path::{Path, PathBuf};

    const DELETED: &[u8] = b" (deleted)";

    pub(super) fn list_processes() -> Result<ProcessList, ProcessError> {
        let proc = Path::new("/proc");
        let entries = fs::read_dir(proc).map_err(ProcessError::Proc)?;
        let mut found = Vec::new();
        let mut errors = Vec::new();
        let mut saw_self = false;
        for entry in entries {
            let entry = entry.map_err(ProcessError::Proc)?;
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            saw_self |= pid == std::process::id();
            match inspect(pid) {
                Ok(Some(p)) => found.push(p),
                Ok(None) => {}
                Err(reason) => errors.push((pid, reason)),
            }
        }
        // A /proc that does not list this very process is not a usable procfs (or is another
        // PID namespace's): saying "no processes" would be a silent lie.
        if !saw_self {
            return Err(ProcessError::Proc(io::Error::other(
                "this process is not listed there (not a procfs of this PID namespace?)",
            )));
        }
        found.sort_by_key(|p| p.pid);
        errors.sort();
        Ok((found, errors))
    }

    /// `Ok(None)` for a process without an executable or one that has exited.
    fn inspect(pid: u32) -> Result<Option<ProcessBinary>, String> {
        let dir = PathBuf::from(format!("/proc/{pid}"));
        let open_path = dir.join("exe");
        let link = match fs::read_link(&open_path) {
            Ok(link) => link,
            Err(e) if gone(&e) => return Ok(None),
            Err(e) => return Err(describe(&open_path, &e)),
        };
        let running = match fs::metadata(&open_path) {
            Ok(m) => m,
            Err(e) if gone(&e) => return Ok(None),
            Err(e) => return Err(describe(&open_path, &e)),
        };
        let key = (running.dev(), running.ino());
        let raw = link.as_os_str().as_bytes();
        let exe = match raw.strip_suffix(DELETED) {
            // A file really named "… (deleted)" that is the running one keeps its name.
            Some(stripped) if !same_file(&link, &dir, key) => {
                PathBuf::from(OsStr::from_bytes(stripped))
            }
            _ => link,
        };
        let state = if same_file(&exe, &dir, key) {
            BinaryState::Same
        } else if exists(&exe, &dir) {
            BinaryState::Replaced
        } else {
            BinaryState::Deleted
        };
        Ok(Some(ProcessBinary {
            pid,
            cmdline: cmdline(&dir),
            exe,
            open_path,
            state,
            key,
        }))
    }

    /// The process exited, or never had an executable (kernel threads, zombies).
    fn gone(e: &io::Error) -> bool {
        e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ESRCH)
    }

    fn describe(path: &Path, e: &io::Error) -> String {
        if e.kind() == io::ErrorKind::PermissionDenied {
            format!(
                "cannot read {}: permission denied (another user's process?)",
                path.display()
            )
        } else {
            format!("cannot read {}: {e}", path.display())
        }
    }

    /// `path` as this process sees it, then inside the process's root.
    fn candidates(path: &Path, dir: &Path) -> [PathBuf; 2] {
        let inside = path.strip_prefix("/").unwrap_or(path);
        [path.to_owned(), dir.join("root").join(inside)]
    }

    fn same_file(path: &Path, dir: &Path, key: (u64, u64)) -> bool {
        candidates(path, dir)
            .iter()
            .any(|p| fs::metadata(p).is_ok_and(|m| (m.dev(), m.ino()) == key))
    }

    fn exists(path: &Path, dir: &Path) -> bool {
        candidates(path, dir)
            .iter()
            .any(|p| fs::symlink_metadata(p).is_ok())
    }

    pub(super) fn cmdline(dir: &Path) -> String {
        let mut bytes = Vec::new();
        if let Ok(file) = fs::File::open(dir.join("cmdline")) {
            // A process that exited meanwhile leaves an empty command line, not an error.
            let _ = file.take(CMDLINE_MAX).read_to_end(&mut bytes);
        }
        while bytes.last() == Some(&0) {
            bytes.pop();
        }
        for b in &mut bytes {
            if *b == 0 {
                *b = b' ';
            }
        }
        if bytes.is_empty() {
            // Mid-exec, or a process that cleared its arguments: name it as `ps` does.
            if let Ok(comm) = fs::read(dir.join("comm")) {
                let name = String::from_utf8_lossy(&comm);
                let name = name.trim_end_matches('\n');
                if !name.is_empty() {
                    return format!("[{name}]");
                }
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::{ProcessError, ProcessList};

    pub(super) fn list_processes() -> Result<ProcessList, ProcessError> {
        Err(ProcessError::Unsupported)
    }
}

#[cfg(all(test, target_os = "linux"))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_listed_as_running_its_own_executable() {
        let (procs, _) = list_processes().unwrap();
        let me = procs.iter().find(|p| p.pid == std::process::id()).unwrap();
        assert_eq!(
            me.exe,
            std::fs::canonicalize(std::env::current_exe().unwrap()).unwrap()
        );
        assert_eq!(me.state, BinaryState::Same);
        assert_eq!(me.open_path, PathBuf::from(format!("/proc/{}/exe", me.pid)));
        assert!(!me.cmdline.is_empty());
    }

    #[test]
    fn an_empty_command_line_is_named_by_comm_as_ps_does() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cmdline"), b"").unwrap();
        std::fs::write(dir.path().join("comm"), b"sleep-a\n").unwrap();
        assert_eq!(imp::cmdline(dir.path()), "[sleep-a]");
        std::fs::write(dir.path().join("cmdline"), b"/bin/x\0-v\0\0").unwrap();
        assert_eq!(imp::cmdline(dir.path()), "/bin/x -v");
    }
}
