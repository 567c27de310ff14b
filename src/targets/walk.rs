//! Directories: a recursive, parallel walk that hands every executable it finds to a callback.
//!
//! # What is read
//! A regular file is opened and read **once**, at most [`HEAD_LEN`] bytes (4 KiB): the first
//! bytes are what [`crate::extract::sniff`] needs to recognise ELF, Mach-O, PE and WebAssembly.
//! Anything else is counted in [`WalkSummary::not_binaries`], closed and never reported. An
//! executable is handed on still open, with those bytes ([`walk_open`]), so that inspecting it
//! neither opens it again nor reads its headers twice: they are usually within the first 4 KiB. FIFOs, sockets and devices
//! are recognised by the file type the directory entry carries (`d_type`, or `lstat` where the
//! file system does not fill it in) and are **never opened**: opening a FIFO blocks until a
//! writer comes, and opening some devices has side effects (a tape rewinds). Files are opened
//! with `O_NONBLOCK | O_NOCTTY` all the same, so a file swapped for a FIFO or a terminal between
//! the directory read and the open can neither hang the walk nor become its controlling
//! terminal; without link following, `O_NOFOLLOW` too.
//!
//! # Symbolic links
//! Links found inside the tree are not followed by default; each is counted in
//! [`WalkSummary::links_skipped`]. The roots themselves are always followed: a path the user
//! named is what they meant. With [`WalkOptions::follow_links`], a link to a file is read as
//! that file (reported under the link's path), a link to a directory is walked, and a link
//! that leads nowhere (dangling) is counted as skipped — there is nothing there to audit.
//!
//! **Loops** are detected by the (device, inode) of the directories on the path from the root
//! to the current one, as `find -L` and `walkdir` do. A directory that is its own ancestor is
//! reported once, as a [`WalkItem::Error`] whose reason starts with "symbolic link loop", at
//! the path of the link that closes the loop; a chain of links that never reaches a file
//! (`a → b`, `b → a`) is reported the same way at each link. A global "visited" set would
//! bound the work on pathological link farms, but which of two paths to the same directory got
//! reported would then depend on which thread got there first; the path-based check keeps the
//! result independent of scheduling, and reports a binary under every path that reaches it
//! (often the path people know it by, such as a link in `/usr/local/bin`). The same check
//! stops a bind mount of an ancestor, with or without link following.
//!
//! # Parallelism
//! `threads` workers share one stack of jobs: a directory to list, or a batch of up to
//! [`FILE_BATCH`] files to sniff, so that one huge flat directory is also spread over all
//! workers. Results reach the callback from the workers as they are found, in no particular
//! order (callers that need one sort). Errors — a directory that cannot be listed, a file that
//! cannot be opened — are reported per path and the walk goes on.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

/// How many files one job sniffs: large enough that the shared stack is not contended, small
/// enough that a flat directory of thousands of files is shared among the workers.
pub const FILE_BATCH: usize = 64;

use crate::binary::{read_retrying, HEAD_LEN};

/// How to walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkOptions {
    /// Follow symbolic links found inside the tree (roots are always followed).
    pub follow_links: bool,
    /// Worker threads; 0 is taken as 1. Defaults to the available parallelism.
    pub threads: usize,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            follow_links: false,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// Something the walk found that the caller should look at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WalkItem {
    /// A regular file whose first bytes are those of an executable format binaudit reads.
    Binary(PathBuf),
    /// A path that could not be looked at (permission denied, a link loop, …): the walk went
    /// on without it.
    Error { path: PathBuf, reason: String },
}

/// What [`walk_open`] hands on: a [`WalkItem`], with an executable still open.
#[derive(Debug)]
pub enum Found {
    /// A regular file whose first bytes are those of an executable format binaudit reads.
    Binary {
        path: PathBuf,
        /// The file, open for reading.
        file: File,
        /// Its first bytes, as one read gave them (at most [`HEAD_LEN`]).
        head: Vec<u8>,
    },
    /// A path that could not be looked at.
    Error { path: PathBuf, reason: String },
}

impl Found {
    /// The item without the open file.
    pub fn into_item(self) -> WalkItem {
        match self {
            Found::Binary { path, .. } => WalkItem::Binary(path),
            Found::Error { path, reason } => WalkItem::Error { path, reason },
        }
    }
}

/// What the walk saw, by kind. Only binaries and errors are handed to the callback.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WalkSummary {
    /// Regular files looked at (binaries, non-binaries, and files that could not be read).
    pub files: u64,
    /// Files recognised as executables (each was a [`WalkItem::Binary`]).
    pub binaries: u64,
    /// Files read and not recognised (including empty files).
    pub not_binaries: u64,
    /// FIFOs, sockets, character and block devices: skipped without being opened.
    pub special: u64,
    /// Symbolic links not followed, and, when following, links that lead nowhere.
    pub links_skipped: u64,
    /// Link loops, each also reported as a [`WalkItem::Error`].
    pub loops: u64,
    /// Other paths that could not be looked at, each reported as a [`WalkItem::Error`].
    pub errors: u64,
    /// Mount points of kernel pseudo-filesystems (`/proc`, `/sys`, `/dev`, …) not descended into.
    pub pseudo_filesystems: u64,
}

impl WalkSummary {
    fn add(&mut self, other: &WalkSummary) {
        self.files += other.files;
        self.binaries += other.binaries;
        self.not_binaries += other.not_binaries;
        self.special += other.special;
        self.links_skipped += other.links_skipped;
        self.pseudo_filesystems += other.pseudo_filesystems;
        self.loops += other.loops;
        self.errors += other.errors;
    }
}

/// Walks `roots` (directories or files) and calls `visit` for every executable and every
/// path that could not be looked at, from the worker threads, as they are found.
///
/// A root that is a file is sniffed like any file in a tree; a root that does not exist is an
/// error item. The walk always finishes: errors are per path.
pub fn walk(
    roots: &[PathBuf],
    opts: &WalkOptions,
    visit: &(dyn Fn(WalkItem) + Sync),
) -> WalkSummary {
    walk_open(roots, opts, &|found| visit(found.into_item()))
}

/// [`walk`], handing on each executable still open with its first bytes, for the caller to
/// inspect without opening it again. The file is closed when the callback drops it.
pub fn walk_open(
    roots: &[PathBuf],
    opts: &WalkOptions,
    visit: &(dyn Fn(Found) + Sync),
) -> WalkSummary {
    let mut pseudo = pseudo_mount_points();
    // A root named on the command line is walked even if it is one.
    for root in roots {
        pseudo.remove(root);
    }
    let walker = Walker {
        follow_links: opts.follow_links,
        visit,
        queue: Queue::default(),
        pseudo,
    };
    let mut summary = WalkSummary::default();
    let mut jobs = Vec::new();
    for root in roots {
        walker.root(root, &mut jobs, &mut summary);
    }
    walker.queue.push(jobs);

    let threads = opts.threads.max(1);
    if threads == 1 {
        summary.add(&walker.work());
        return summary;
    }
    std::thread::scope(|s| {
        let walker = &walker;
        let handles: Vec<_> = (1..threads)
            .map(|_| s.spawn(move || walker.work()))
            .collect();
        // The calling thread is a worker too.
        let mine = walker.work();
        summary.add(&mine);
        for handle in handles {
            match handle.join() {
                Ok(theirs) => summary.add(&theirs),
                // `visit` panicked in that worker: the others have stopped; pass it on.
                Err(payload) => std::panic::resume_unwind(payload),
            }
        }
    });
    summary
}

/// The identity of a directory, to recognise it when it is reached again.
#[cfg(unix)]
type DirId = (u64, u64);
/// Without inode numbers in stable std, the canonical path stands in for the identity.
#[cfg(not(unix))]
type DirId = PathBuf;

#[cfg(unix)]
fn dir_id(meta: &fs::Metadata, _path: &Path) -> Option<DirId> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn dir_id(_meta: &fs::Metadata, path: &Path) -> Option<DirId> {
    fs::canonicalize(path).ok()
}

/// A directory on the way from a root to the one being read (a linked list shared by all the
/// jobs below it).
#[derive(Debug)]
struct Ancestor {
    id: DirId,
    path: PathBuf,
    parent: Option<Arc<Ancestor>>,
}

impl Ancestor {
    fn find(start: &Option<Arc<Ancestor>>, id: &DirId) -> Option<PathBuf> {
        let mut cur = start.as_deref();
        while let Some(a) = cur {
            if a.id == *id {
                return Some(a.path.clone());
            }
            cur = a.parent.as_deref();
        }
        None
    }
}

#[derive(Debug)]
enum Job {
    /// A directory to list. `via_link` when it was reached through a symbolic link.
    Dir {
        path: PathBuf,
        via_link: bool,
        parent: Option<Arc<Ancestor>>,
    },
    /// Files to sniff. `nofollow` when a link in their place must not be opened.
    Files { paths: Vec<PathBuf>, nofollow: bool },
}

#[derive(Debug, Default)]
struct QueueState {
    jobs: Vec<Job>,
    /// Workers holding a job: while any does, more jobs may come.
    busy: usize,
    /// Set when a worker panicked, so that the others stop instead of waiting for it.
    stop: bool,
}

#[derive(Debug, Default)]
struct Queue {
    state: Mutex<QueueState>,
    ready: Condvar,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // No code panics while holding the lock, but a poisoned lock still holds valid data.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, jobs: Vec<Job>) {
        if jobs.is_empty() {
            return;
        }
        self.lock().jobs.extend(jobs);
        self.ready.notify_all();
    }

    /// The next job, or `None` when every job is done (or a worker panicked).
    fn pop(&self) -> Option<Job> {
        let mut state = self.lock();
        loop {
            if state.stop {
                return None;
            }
            if let Some(job) = state.jobs.pop() {
                state.busy += 1;
                return Some(job);
            }
            if state.busy == 0 {
                return None;
            }
            state = self
                .ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Marks the end of one job, also when `visit` panics in it, so no worker waits forever.
struct Busy<'a>(&'a Queue);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.busy -= 1;
        if std::thread::panicking() {
            state.stop = true;
        }
        let wake = state.stop || (state.busy == 0 && state.jobs.is_empty());
        drop(state);
        if wake {
            self.0.ready.notify_all();
        }
    }
}

struct Walker<'a> {
    follow_links: bool,
    visit: &'a (dyn Fn(Found) + Sync),
    queue: Queue,
    /// Where kernel pseudo-filesystems are mounted: never walked into (see
    /// [`pseudo_mount_points`]).
    pseudo: std::collections::HashSet<PathBuf>,
}

/// Filesystem types that hold no programs, only kernel state: walking them reads thousands of
/// files that cannot be read or block, as `find /` and image scanners know.
const PSEUDO_FILESYSTEMS: &[&str] = &[
    "proc",
    "sysfs",
    "devtmpfs",
    "devpts",
    "cgroup",
    "cgroup2",
    "debugfs",
    "tracefs",
    "securityfs",
    "pstore",
    "bpf",
    "configfs",
    "fusectl",
    "mqueue",
    "hugetlbfs",
    "binfmt_misc",
    "autofs",
    "efivarfs",
];

/// The mount points of pseudo-filesystems, from `/proc/self/mountinfo` (empty elsewhere).
fn pseudo_mount_points() -> std::collections::HashSet<PathBuf> {
    let text = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    parse_mountinfo(&text)
}

/// Each mountinfo line: `id parent major:minor root mount-point options … - fstype source …`.
fn parse_mountinfo(text: &str) -> std::collections::HashSet<PathBuf> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split(' ');
            let mount_point = fields.nth(4)?;
            let (_, after) = line.split_once(" - ")?;
            let fstype = after.split(' ').next()?;
            // Spaces and other bytes in mount points are written as octal escapes (`\040`).
            let unescaped = mount_point.replace("\\040", " ").replace("\\011", "\t");
            PSEUDO_FILESYSTEMS
                .contains(&fstype)
                .then(|| PathBuf::from(unescaped))
        })
        .collect()
}

impl Walker<'_> {
    fn work(&self) -> WalkSummary {
        let mut summary = WalkSummary::default();
        // One buffer per worker for the first bytes of every file; only an executable's are kept.
        let mut buf = vec![0u8; HEAD_LEN];
        while let Some(job) = self.queue.pop() {
            let busy = Busy(&self.queue);
            let mut jobs = Vec::new();
            match job {
                Job::Dir {
                    path,
                    via_link,
                    parent,
                } => {
                    self.directory(path, via_link, parent, &mut jobs, &mut summary);
                }
                Job::Files { paths, nofollow } => {
                    for path in paths {
                        self.file(path, nofollow, &mut buf, &mut summary);
                    }
                }
            }
            // New jobs go in before this one counts as done, so no worker sees an empty
            // stack with nobody busy while there is work left.
            self.queue.push(jobs);
            drop(busy);
        }
        summary
    }

    fn error(&self, summary: &mut WalkSummary, path: PathBuf, reason: String) {
        summary.errors += 1;
        (self.visit)(Found::Error { path, reason });
    }

    fn link_loop(&self, summary: &mut WalkSummary, path: PathBuf, reason: String) {
        summary.loops += 1;
        (self.visit)(Found::Error { path, reason });
    }

    /// A root: followed if it is a link, whatever the options say.
    fn root(&self, root: &Path, jobs: &mut Vec<Job>, summary: &mut WalkSummary) {
        match fs::metadata(root) {
            Ok(meta) if meta.is_dir() => jobs.push(Job::Dir {
                path: root.to_owned(),
                via_link: false,
                parent: None,
            }),
            Ok(meta) if meta.is_file() => jobs.push(Job::Files {
                paths: vec![root.to_owned()],
                nofollow: false,
            }),
            Ok(_) => summary.special += 1,
            Err(e) if is_loop(&e) => {
                self.link_loop(summary, root.to_owned(), loop_reason());
            }
            Err(e) => self.error(summary, root.to_owned(), format!("cannot open: {e}")),
        }
    }

    fn directory(
        &self,
        path: PathBuf,
        via_link: bool,
        parent: Option<Arc<Ancestor>>,
        jobs: &mut Vec<Job>,
        summary: &mut WalkSummary,
    ) {
        // The directory's identity, through the link if it was reached by one.
        let meta = match fs::metadata(&path) {
            Ok(m) => m,
            Err(e) => return self.error(summary, path, format!("cannot read directory: {e}")),
        };
        let Some(id) = dir_id(&meta, &path) else {
            return self.error(summary, path, "cannot identify directory".to_owned());
        };
        if let Some(ancestor) = Ancestor::find(&parent, &id) {
            let reason = if via_link {
                format!("symbolic link loop: leads back to {}", ancestor.display())
            } else {
                format!(
                    "directory loop (a bind mount?): same directory as {}",
                    ancestor.display()
                )
            };
            return self.link_loop(summary, path, reason);
        }
        let entries = match fs::read_dir(&path) {
            Ok(entries) => entries,
            Err(e) => return self.error(summary, path, format!("cannot list directory: {e}")),
        };
        let me = Arc::new(Ancestor {
            id,
            path: path.clone(),
            parent,
        });
        let nofollow = !self.follow_links;
        let mut files = Vec::new();
        let mut linked_files = Vec::new();
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    self.error(summary, path.clone(), format!("cannot list directory: {e}"));
                    break;
                }
            };
            let child = entry.path();
            let file_type = match entry.file_type() {
                Ok(t) => t,
                Err(e) => {
                    self.error(summary, child, format!("cannot read file type: {e}"));
                    continue;
                }
            };
            if file_type.is_dir() {
                if self.pseudo.contains(&child) {
                    summary.pseudo_filesystems += 1;
                    continue;
                }
                jobs.push(Job::Dir {
                    path: child,
                    via_link: false,
                    parent: Some(Arc::clone(&me)),
                });
            } else if file_type.is_file() {
                files.push(child);
            } else if file_type.is_symlink() {
                if !self.follow_links {
                    summary.links_skipped += 1;
                    continue;
                }
                match fs::metadata(&child) {
                    Ok(target) if target.is_dir() => jobs.push(Job::Dir {
                        path: child,
                        via_link: true,
                        parent: Some(Arc::clone(&me)),
                    }),
                    Ok(target) if target.is_file() => linked_files.push(child),
                    Ok(_) => summary.special += 1,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => summary.links_skipped += 1,
                    Err(e) if is_loop(&e) => self.link_loop(summary, child, loop_reason()),
                    Err(e) => {
                        self.error(summary, child, format!("cannot follow symbolic link: {e}"))
                    }
                }
            } else {
                // FIFO, socket, character or block device: never opened.
                summary.special += 1;
            }
        }
        batches(files, nofollow, jobs);
        batches(linked_files, false, jobs);
    }

    /// Sniffs one regular file: a single read of at most [`HEAD_LEN`] bytes.
    fn file(&self, path: PathBuf, nofollow: bool, buf: &mut [u8], summary: &mut WalkSummary) {
        let mut file = match open_file(&path, nofollow) {
            Ok(f) => f,
            // With O_NOFOLLOW, ELOOP means the file became a link after the directory was read.
            Err(e) if nofollow && is_loop(&e) => {
                summary.links_skipped += 1;
                return;
            }
            Err(e) => {
                summary.files += 1;
                return self.error(summary, path, format!("cannot open: {e}"));
            }
        };
        summary.files += 1;
        let n = match read_retrying(&mut file, buf) {
            Ok(n) => n,
            Err(e) => return self.error(summary, path, format!("cannot read: {e}")),
        };
        let head = buf.get(..n).unwrap_or_default();
        if crate::extract::sniff(head).is_some() {
            summary.binaries += 1;
            let head = head.to_vec();
            (self.visit)(Found::Binary { path, file, head });
        } else {
            summary.not_binaries += 1;
        }
    }
}

/// Jobs of at most [`FILE_BATCH`] files each (the paths are moved, not copied).
fn batches(files: Vec<PathBuf>, nofollow: bool, jobs: &mut Vec<Job>) {
    let mut files = files.into_iter().peekable();
    while files.peek().is_some() {
        let paths = files.by_ref().take(FILE_BATCH).collect();
        jobs.push(Job::Files { paths, nofollow });
    }
}

#[cfg(unix)]
fn open_file(path: &Path, nofollow: bool) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut flags = libc::O_NONBLOCK | libc::O_NOCTTY;
    if nofollow {
        flags |= libc::O_NOFOLLOW;
    }
    OpenOptions::new().read(true).custom_flags(flags).open(path)
}

#[cfg(not(unix))]
fn open_file(path: &Path, _nofollow: bool) -> io::Result<File> {
    OpenOptions::new().read(true).open(path)
}

#[cfg(unix)]
fn is_loop(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}

#[cfg(not(unix))]
fn is_loop(_e: &io::Error) -> bool {
    false
}

fn loop_reason() -> String {
    "symbolic link loop: too many levels of symbolic links".to_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn collect(roots: &[PathBuf], opts: &WalkOptions) -> (Vec<WalkItem>, WalkSummary) {
        let items = Mutex::new(Vec::new());
        let summary = walk(roots, opts, &|item| items.lock().unwrap().push(item));
        let mut items = items.into_inner().unwrap();
        items.sort();
        (items, summary)
    }

    #[test]
    fn an_executable_is_handed_on_open_with_its_first_bytes_and_nothing_else_is() {
        use std::io::{Read, Seek, SeekFrom};
        let dir = tempfile::tempdir().unwrap();
        let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
        elf.extend((0..3 * HEAD_LEN).map(|i| (i % 251) as u8));
        fs::write(dir.path().join("big"), &elf).unwrap();
        fs::write(dir.path().join("small"), b"\0asm\x01\0\0\0").unwrap();
        fs::write(dir.path().join("text"), vec![b'x'; 2 * HEAD_LEN]).unwrap();
        let found = Mutex::new(Vec::new());
        let opts = WalkOptions {
            follow_links: false,
            threads: 2,
        };
        let summary = walk_open(&[dir.path().to_owned()], &opts, &|item| {
            let Found::Binary {
                path,
                mut file,
                head,
            } = item
            else {
                panic!("{item:?}");
            };
            // The file is open and usable from any offset.
            file.seek(SeekFrom::Start(0)).unwrap();
            let mut all = Vec::new();
            file.read_to_end(&mut all).unwrap();
            found.lock().unwrap().push((path, head, all));
        });
        assert_eq!((summary.binaries, summary.not_binaries), (2, 1));
        let mut found = found.into_inner().unwrap();
        found.sort();
        let (big, small) = (&found[0], &found[1]);
        assert_eq!(big.0, dir.path().join("big"));
        assert_eq!(big.1, elf[..HEAD_LEN], "one read of at most 4 KiB");
        assert_eq!(big.2, elf);
        assert_eq!(small.0, dir.path().join("small"));
        assert_eq!(small.1, b"\0asm\x01\0\0\0", "a short file: all of it");
    }

    #[test]
    fn a_flat_directory_larger_than_a_batch_is_shared_and_counted_once() {
        let dir = tempfile::tempdir().unwrap();
        let n = FILE_BATCH * 3 + 5;
        for i in 0..n {
            let bytes: &[u8] = if i % 2 == 0 {
                b"\x7fELF\x02\x01\x01"
            } else {
                b"text"
            };
            fs::write(dir.path().join(format!("f{i:04}")), bytes).unwrap();
        }
        for threads in [1, 4] {
            let opts = WalkOptions {
                follow_links: false,
                threads,
            };
            let (items, summary) = collect(&[dir.path().to_owned()], &opts);
            assert_eq!(items.len(), n.div_ceil(2), "{threads} threads");
            assert_eq!(summary.files, n as u64);
            assert_eq!(summary.binaries, n.div_ceil(2) as u64);
            assert_eq!(summary.not_binaries, (n / 2) as u64);
        }
    }

    #[test]
    fn pseudo_filesystems_come_from_mountinfo() {
        let info = "22 1 0:21 / /proc rw,nosuid - proc proc rw\n\
                    23 1 0:22 / /sys rw - sysfs sysfs rw\n\
                    24 1 8:1 / / rw - ext4 /dev/vda rw\n\
                    25 23 0:23 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n\
                    26 1 0:24 / /mnt/my\\040disk rw - tmpfs tmpfs rw\n";
        let set = parse_mountinfo(info);
        assert!(set.contains(Path::new("/proc")) && set.contains(Path::new("/sys")));
        assert!(set.contains(Path::new("/sys/fs/cgroup")));
        assert!(!set.contains(Path::new("/")) && !set.contains(Path::new("/mnt/my disk")));
    }

    #[test]
    fn walking_the_root_does_not_enter_proc() {
        let found = std::sync::Mutex::new(Vec::new());
        let opts = WalkOptions {
            follow_links: false,
            threads: 2,
        };
        // Only /proc's own mount matters here: walk a directory that contains it.
        if !Path::new("/proc/self/mountinfo").exists() {
            return;
        }
        let summary = walk(&[PathBuf::from("/")], &opts, &|item| {
            if let WalkItem::Error { path, .. } = &item {
                found.lock().unwrap().push(path.clone());
            }
        });
        assert!(summary.pseudo_filesystems >= 1, "{summary:?}");
        let errors = found.into_inner().unwrap();
        assert!(
            !errors
                .iter()
                .any(|p| p.starts_with("/proc") || p.starts_with("/sys")),
            "{errors:?}"
        );
    }

    #[test]
    fn zero_threads_means_one_and_no_roots_means_nothing() {
        let opts = WalkOptions {
            follow_links: false,
            threads: 0,
        };
        let (items, summary) = collect(&[], &opts);
        assert!(items.is_empty());
        assert_eq!(summary, WalkSummary::default());
    }

    #[test]
    fn a_panic_in_visit_reaches_the_caller_and_stops_the_workers() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..200 {
            fs::write(dir.path().join(format!("b{i}")), b"\x7fELF").unwrap();
        }
        let opts = WalkOptions {
            follow_links: false,
            threads: 4,
        };
        let roots = [dir.path().to_owned()];
        let result = std::panic::catch_unwind(|| walk(&roots, &opts, &|_| panic!("visit failed")));
        assert!(result.is_err());
    }
}
