//! Whether crates.io has yanked a package version, from the crates.io sparse index.
//!
//! The sparse index serves one small file per crate (`https://index.crates.io/sm/al/smallvec`),
//! each line the JSON of one published version with its `yanked` flag. [`YankChecker::check`]
//! fetches each distinct crate once, a few at a time on plain threads (the work is a handful of
//! blocking GETs; an async runtime would cost more than it saves), and answers a
//! [`YankStatus`] per package.
//!
//! - `index.rs` — the format, no I/O: the index path of a name, line parsing, cargo's cache.
//! - `cache.rs` — our on-disk cache (header line + raw body, replaced atomically).
//! - `fetch.rs` — one conditional GET with a bounded body.
//!
//! **Unknown is never clean.** Every failure for one crate (offline without a cache entry, a
//! server error, an unreadable file, a version the index does not list) is a
//! [`YankStatus::Unknown`] with the reason, never [`YankStatus::Available`]. [`YankError`] is
//! only for setup problems that concern every crate.
//!
//! Freshness: an entry younger than [`IndexOptions::max_age`] is used as it is; an older one is
//! revalidated with `If-None-Match` / `If-Modified-Since`, and a `304` makes it fresh again.
//! Offline, any entry is used whatever its age, then cargo's own index cache, and nothing
//! touches the network.

mod cache;
mod fetch;
mod index;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use semver::Version;
use ureq::http::Uri;

use crate::audit::YankStatus;
use cache::{Cache, CachedFile};
use fetch::Fetched;
use index::IndexEntry;

/// The crates.io sparse index.
pub const CRATES_IO_INDEX: &str = "https://index.crates.io/";

/// Where and how to read the index. Start from [`IndexOptions::default`] and change fields.
#[derive(Debug, Clone)]
pub struct IndexOptions {
    /// Root URL of the sparse index, `http` or `https`; a `sparse+` prefix is accepted.
    /// Default [`CRATES_IO_INDEX`].
    pub index_url: String,
    /// Directory of binaudit's index cache; each index gets a subdirectory named after its
    /// host. Default `$XDG_CACHE_HOME/binaudit/index`, else `~/.cache/binaudit/index`.
    pub cache_dir: PathBuf,
    /// Never open a network connection; answer from the caches, whatever their age.
    pub offline: bool,
    /// Cached entries younger than this are used without asking the server. Default 1 hour.
    pub max_age: Duration,
    /// Time limit for one request, connection to last byte. Default 30 seconds.
    pub timeout: Duration,
    /// Requests in flight at once; 0 counts as 1. Default 8.
    pub concurrency: usize,
    /// Largest index file accepted from the server or a cache, after decompression. Default
    /// 8 MiB; the largest real files are about 1 MB.
    pub max_file_size: u64,
    /// Cargo's home (`$CARGO_HOME`, else `~/.cargo`), whose sparse-index cache answers offline
    /// when ours has no entry. Only used when `index_url` is crates.io's; `None` never reads it.
    pub cargo_home: Option<PathBuf>,
}

impl Default for IndexOptions {
    fn default() -> Self {
        IndexOptions {
            index_url: CRATES_IO_INDEX.to_owned(),
            cache_dir: default_cache_dir(),
            offline: false,
            max_age: Duration::from_secs(60 * 60),
            timeout: Duration::from_secs(30),
            concurrency: 8,
            max_file_size: 8 * 1024 * 1024,
            cargo_home: default_cargo_home(),
        }
    }
}

fn env_dir(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
}

fn home_dir() -> Option<PathBuf> {
    env_dir("HOME").or_else(|| env_dir("USERPROFILE"))
}

fn default_cache_dir() -> PathBuf {
    env_dir("XDG_CACHE_HOME")
        .or_else(|| home_dir().map(|h| h.join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("binaudit")
        .join("index")
}

fn default_cargo_home() -> Option<PathBuf> {
    env_dir("CARGO_HOME").or_else(|| home_dir().map(|h| h.join(".cargo")))
}

/// A problem that concerns every crate, found before any is checked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum YankError {
    #[error("invalid index URL {url:?}: {reason}")]
    IndexUrl { url: String, reason: String },
    #[error("cannot use the index cache directory {}: {source}", path.display())]
    CacheDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Answers whether package versions are yanked. Cheap to reuse across `check` calls; it keeps
/// one HTTP connection pool.
#[derive(Debug)]
pub struct YankChecker {
    opts: IndexOptions,
    /// `index_url` normalised to end in `/`, without `sparse+`.
    base_url: String,
    cache: Cache,
    agent: ureq::Agent,
    use_cargo_cache: bool,
}

impl YankChecker {
    /// Checks the options: the URL must be `http(s)://host[:port]/[path]`, and the cache
    /// directory must exist or be creatable (offline, it is not created).
    pub fn new(opts: IndexOptions) -> Result<Self, YankError> {
        let url_error = |reason: &str| YankError::IndexUrl {
            url: opts.index_url.clone(),
            reason: reason.to_owned(),
        };
        let raw = opts.index_url.trim();
        let raw = raw.strip_prefix("sparse+").unwrap_or(raw);
        let mut base_url = raw.to_owned();
        if !base_url.ends_with('/') {
            base_url.push('/');
        }
        let uri: Uri = base_url.parse().map_err(|_| url_error("not a valid URL"))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) {
            return Err(url_error("the scheme must be http or https"));
        }
        let authority = uri
            .authority()
            .filter(|a| !a.host().is_empty())
            .ok_or_else(|| url_error("no host"))?;
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let loopback = host.eq_ignore_ascii_case("localhost")
            || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if uri.query().is_some() {
            return Err(url_error("an index URL has no query"));
        }

        // One subdirectory per index, so a test server or a mirror never answers for crates.io.
        // Host and port only: credentials in the URL do not belong in a directory name.
        let port = authority
            .port_u16()
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        let key: String = format!("{host}{port}{}", uri.path().trim_end_matches('/'))
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let root = opts.cache_dir.join(key);
        let dir_error = |source| YankError::CacheDir {
            path: opts.cache_dir.clone(),
            source,
        };
        if opts.offline {
            if opts.cache_dir.exists() && !opts.cache_dir.is_dir() {
                return Err(dir_error(std::io::Error::other("not a directory")));
            }
        } else {
            std::fs::create_dir_all(&root).map_err(dir_error)?;
        }

        let use_cargo_cache = base_url == CRATES_IO_INDEX && opts.cargo_home.is_some();
        Ok(YankChecker {
            cache: Cache::new(root, opts.max_file_size),
            agent: fetch::agent(opts.timeout, opts.concurrency, loopback),
            base_url,
            use_cargo_cache,
            opts,
        })
    }

    /// The yank status of each `(crate name, version)`, in the same order. Each distinct crate
    /// (names compare case-insensitively, as on crates.io) is looked up once, with at most
    /// [`IndexOptions::concurrency`] requests at a time.
    pub fn check(&self, packages: &[(&str, &Version)]) -> Vec<YankStatus> {
        let mut names: Vec<String> = packages
            .iter()
            .map(|(name, _)| name.to_ascii_lowercase())
            .collect();
        names.sort_unstable();
        names.dedup();

        let results: Vec<OnceLock<Result<Vec<IndexEntry>, String>>> =
            names.iter().map(|_| OnceLock::new()).collect();
        let next = AtomicUsize::new(0);
        let workers = self.opts.concurrency.clamp(1, names.len().max(1));
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let (Some(name), Some(slot)) = (names.get(i), results.get(i)) else {
                        break;
                    };
                    let _ = slot.set(self.entries(name));
                });
            }
        });

        packages
            .iter()
            .map(|(name, version)| {
                let found = names
                    .binary_search(&name.to_ascii_lowercase())
                    .ok()
                    .and_then(|i| results.get(i))
                    .and_then(OnceLock::get);
                match found {
                    Some(Ok(entries)) => index::status_of(entries, version),
                    Some(Err(reason)) => YankStatus::Unknown(reason.clone()),
                    None => YankStatus::Unknown("the index lookup did not finish".to_owned()),
                }
            })
            .collect()
    }

    /// The index entries of one crate, or why they are not known.
    fn entries(&self, name: &str) -> Result<Vec<IndexEntry>, String> {
        let path =
            index::index_path(name).ok_or_else(|| "not a valid crates.io crate name".to_owned())?;
        let cached = self.cache.load(&path);

        if self.opts.offline {
            if let Some(c) = cached {
                return index::parse_index_file(&c.body);
            }
            let from_cargo = self
                .opts
                .cargo_home
                .as_deref()
                .filter(|_| self.use_cargo_cache)
                .and_then(|home| cache::load_cargo_cache(home, &path, self.opts.max_file_size));
            return from_cargo.ok_or_else(|| "offline and not in the local index cache".to_owned());
        }

        let now = SystemTime::now();
        if let Some(c) = cached
            .as_ref()
            .filter(|c| c.is_fresh(now, self.opts.max_age))
        {
            return index::parse_index_file(&c.body);
        }

        let url = format!("{}{path}", self.base_url);
        let fetched = fetch::fetch(&self.agent, &url, cached.as_ref(), self.opts.max_file_size)?;
        // Failing to write the cache only costs a refetch next time; the answer stands.
        match (fetched, cached) {
            (
                Fetched::Body {
                    body,
                    etag,
                    last_modified,
                },
                _,
            ) => {
                let entry = CachedFile {
                    fetched: now,
                    etag,
                    last_modified,
                    body,
                };
                let _ = self.cache.store(&path, &entry);
                index::parse_index_file(&entry.body)
            }
            (Fetched::NotModified { etag }, Some(mut entry)) => {
                entry.fetched = now;
                if etag.is_some() {
                    entry.etag = etag;
                }
                let _ = self.cache.store(&path, &entry);
                index::parse_index_file(&entry.body)
            }
            (Fetched::NotModified { .. }, None) => {
                Err("the index answered 304 to an unconditional request".to_owned())
            }
            (Fetched::Missing, _) => {
                self.cache.remove(&path);
                Err("not on crates.io".to_owned())
            }
        }
    }
}
