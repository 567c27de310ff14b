//! `binaudit scan [PATH…]` and the audit that `binaudit build` runs after linking.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use binaudit::advisory::db::{default_db_path, Database, DbError, OpenOptions};
use binaudit::advisory::Severity;
use binaudit::audit::{AuditReport, DenyKind, Policy};
use binaudit::config::{cargo_home, Config};
use binaudit::decode::Limits;
use binaudit::scan::{audit_paths, PendingDatabase, ScanOptions};
use binaudit::yanked::{IndexOptions, YankChecker};
use clap::{Args, ValueEnum};

/// How long a fetched database is used before `scan` updates it (unless offline).
const REFRESH_AFTER: Duration = Duration::from_secs(24 * 60 * 60);
/// A database whose newest advisory or commit is older than this gets a warning.
const STALE_AFTER: Duration = Duration::from_secs(90 * 24 * 60 * 60);

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Terminal,
    Json,
    Sarif,
    Cyclonedx,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Options shared by `scan` and the audit after `build`.
#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    /// Advisory database: a RustSec advisory-db checkout or a directory of OSV JSON files
    /// [default: $CARGO_HOME/advisory-db, shared with cargo-audit].
    #[arg(long, value_name = "DIR")]
    pub db: Option<PathBuf>,
    /// Never use the network: no database fetch or update, yanked status from the local cache only.
    #[arg(long)]
    pub offline: bool,
    /// Do not fetch or update the advisory database (the yanked check may still go online).
    #[arg(long)]
    pub no_fetch: bool,
    /// Do not warn when the database's newest advisory or commit is older than 90 days.
    #[arg(long)]
    pub no_stale_warning: bool,
    /// Do not check whether crates were yanked from crates.io.
    #[arg(long)]
    pub no_yanked: bool,
    /// Fail on warnings of this kind too: unmaintained, unsound, notice, yanked, or warnings (all).
    #[arg(long, value_name = "KIND", value_parser = parse_deny)]
    pub deny: Vec<DenyKind>,
    /// Whether vulnerabilities fail (always for `scan`; after `build` only with `--deny vulnerabilities`).
    #[arg(skip = true)]
    pub deny_vulnerabilities: bool,
    /// Report this advisory (id or alias) as ignored. Adds to the config file's list.
    #[arg(long, value_name = "ID")]
    pub ignore: Vec<String>,
    /// Vulnerabilities below this CVSS severity are shown but do not fail: low, medium, high, critical.
    #[arg(long, value_name = "LEVEL", value_parser = parse_severity)]
    pub severity_threshold: Option<Severity>,
    /// Leave build-only dependencies (build scripts, proc-macros) out of the findings.
    #[arg(long)]
    pub no_build_deps: bool,
    /// For binaries without a manifest, do not recover crates from panic-message paths.
    #[arg(long)]
    pub no_fallback: bool,
    /// Configuration file in cargo-audit's audit.toml format
    /// [default: .cargo/audit.toml here or in a parent, else $CARGO_HOME/audit.toml].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The crates.io sparse index, for the yanked check.
    #[arg(long, value_name = "URL", default_value = binaudit::yanked::CRATES_IO_INDEX)]
    pub index_url: String,
    /// Git URL the advisory database is fetched from.
    #[arg(long, value_name = "URL", default_value = binaudit::advisory::fetch::DEFAULT_URL)]
    pub db_url: String,
    /// Largest decompressed manifest accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::DEFAULT_MAX_JSON_BYTES)]
    pub max_json_size: u64,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Binaries or Cargo.lock files [default: the binaries in $CARGO_HOME/bin].
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Terminal)]
    format: Format,
    /// Also audit the binaries of running processes (Linux).
    #[arg(long)]
    processes: bool,
    /// Follow symbolic links while walking directories (loops are detected).
    #[arg(long)]
    follow_links: bool,
    /// For multi-platform container images: the platform to audit, e.g. linux/arm64.
    #[arg(long, value_name = "OS/ARCH")]
    platform: Option<String>,
    /// Do not show the progress line on stderr.
    #[arg(long)]
    no_progress: bool,
    /// Colour in terminal output (auto: only on a terminal, and never when NO_COLOR is set).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    #[command(flatten)]
    audit: AuditArgs,
}

impl Default for AuditArgs {
    fn default() -> Self {
        AuditArgs {
            db: None,
            offline: false,
            no_fetch: false,
            no_stale_warning: false,
            no_yanked: false,
            deny: Vec::new(),
            deny_vulnerabilities: true,
            ignore: Vec::new(),
            severity_threshold: None,
            no_build_deps: false,
            no_fallback: false,
            config: None,
            index_url: binaudit::yanked::CRATES_IO_INDEX.to_owned(),
            db_url: binaudit::advisory::fetch::DEFAULT_URL.to_owned(),
            max_json_size: Limits::DEFAULT_MAX_JSON_BYTES,
        }
    }
}

fn parse_deny(s: &str) -> Result<DenyKind, String> {
    DenyKind::parse(s).ok_or_else(|| {
        format!("unknown kind {s:?}: expected unmaintained, unsound, notice, yanked, incomplete or warnings")
    })
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s)
        .ok_or_else(|| format!("unknown severity {s:?}: expected low, medium, high or critical"))
}

pub fn run(args: ScanArgs) -> ExitCode {
    match run_inner(&args) {
        Ok(code) => ExitCode::from(code),
        Err(e) if super::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run_inner(args: &ScanArgs) -> anyhow::Result<u8> {
    let prepared = Prepared::new(&args.audit)?;
    let target_opts = super::targets::TargetOptions {
        follow_links: args.follow_links,
        processes: args.processes,
        platform: args.platform.clone(),
        progress: !args.no_progress,
    };
    let report = prepared.audit_targets(&args.paths, &target_opts)?;
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    // Buffered: the report writers make many small writes, and a locked stdout flushes at
    // every newline (one system call per line of a pretty-printed JSON report).
    let mut out = std::io::BufWriter::with_capacity(64 << 10, std::io::stdout().lock());
    write_report(&mut out, &report, args.format, color).context("writing the report")?;
    out.flush().context("writing the report")?;
    drop(out);
    let code = report.exit_code();
    // The process ends here: freeing the report and the database, hundreds of thousands of
    // small allocations, would only delay the exit (nothing they hold needs closing).
    std::mem::forget(report);
    std::mem::forget(prepared);
    Ok(code)
}

fn write_report(
    out: &mut dyn Write,
    report: &AuditReport<'_>,
    format: Format,
    color: bool,
) -> std::io::Result<()> {
    use binaudit::report::{cyclonedx, json, sarif, terminal};
    match format {
        Format::Terminal => terminal::write(out, report, &terminal::TerminalOptions { color }),
        Format::Json => json::write(out, report, &json::JsonOptions::default()),
        Format::Sarif => sarif::write(out, report, &sarif::SarifOptions::default()),
        Format::Cyclonedx => {
            let opts = cyclonedx::CycloneDxOptions {
                timestamp: Some(cyclonedx::rfc3339_utc(std::time::SystemTime::now())),
                ..cyclonedx::CycloneDxOptions::default()
            };
            cyclonedx::write(out, report, &opts)
        }
    }
}

/// The database (being opened), yanked checker and options, ready to audit.
pub struct Prepared {
    db: Arc<PendingDatabase>,
    /// The thread opening the database, until its outcome has been reported.
    loading: Mutex<Option<JoinHandle<Result<(), DbError>>>>,
    db_path: PathBuf,
    stale_warning: bool,
    yank: Option<YankChecker>,
    opts: ScanOptions,
}

impl Prepared {
    pub fn new(args: &AuditArgs) -> anyhow::Result<Self> {
        let cwd = std::env::current_dir().context("finding the current directory")?;
        let home = cargo_home();
        let config_path = match &args.config {
            Some(p) => Some(p.clone()),
            None => Config::discover(&cwd, home.as_deref()),
        };
        let config = match &config_path {
            Some(p) => Config::load(p)?,
            None => Config::default(),
        };

        let mut deny: BTreeSet<DenyKind> = args.deny.iter().copied().collect();
        for d in &config.output.deny {
            // cargo-audit spells "warnings" as a deny kind too; unknown ones are an error, not a no-op.
            deny.insert(DenyKind::parse(d).ok_or_else(|| {
                anyhow!("{}: unknown [output] deny kind {d:?}", show(&config_path))
            })?);
        }
        let severity_threshold = match (
            args.severity_threshold,
            &config.advisories.severity_threshold,
        ) {
            (Some(s), _) => Some(s),
            (None, Some(s)) => Some(Severity::parse(s).ok_or_else(|| {
                anyhow!("{}: unknown severity_threshold {s:?}", show(&config_path))
            })?),
            (None, None) => None,
        };
        let mut ignore = config.advisories.ignore.clone();
        ignore.extend(args.ignore.iter().cloned());
        let policy = Policy {
            deny,
            severity_threshold,
            exclude_build: args.no_build_deps,
            allow_vulnerabilities: !args.deny_vulnerabilities,
        };

        let db_path = args.db.clone().or(config.database.path.clone()).or_else(default_db_path).ok_or_else(|| {
            anyhow!("no advisory database given and no home directory for the default ($CARGO_HOME/advisory-db)")
        })?;
        ensure_database(&db_path, args)?;
        // Opened on its own thread: the targets are found and read meanwhile, and only
        // matching waits for it (see `database`).
        let (db, loading) =
            PendingDatabase::open_in_background(db_path.clone(), OpenOptions::default());

        let yank = if args.no_yanked || config.yanked.enabled == Some(false) {
            None
        } else {
            let opts = IndexOptions {
                index_url: args.index_url.clone(),
                offline: args.offline,
                ..IndexOptions::default()
            };
            Some(YankChecker::new(opts).context("setting up the crates.io index check")?)
        };
        let opts = ScanOptions {
            limits: Limits {
                max_json_bytes: args.max_json_size,
            },
            ignore,
            policy,
            fallback: !args.no_fallback,
        };
        Ok(Prepared {
            db,
            loading: Mutex::new(Some(loading)),
            db_path,
            stale_warning: !args.no_stale_warning,
            yank,
            opts,
        })
    }

    /// The database, once it is open. The first call reports how opening went: the error that
    /// ends the run, or the warnings about files that did not parse and about its age.
    fn database(&self) -> anyhow::Result<&Database> {
        let loading = self
            .loading
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let context = || {
            format!(
                "loading the advisory database at {}",
                self.db_path.display()
            )
        };
        if let Some(handle) = loading {
            match handle.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(anyhow!(e).context(context())),
                Err(_) => bail!("{}: the loading thread panicked", context()),
            }
            if let Some(db) = self.db.get() {
                self.warn_about(db);
            }
        }
        self.db
            .wait()
            .ok_or_else(|| anyhow!("{}: it could not be opened", context()))
    }

    fn warn_about(&self, db: &Database) {
        for e in db.load_errors() {
            eprintln!("warning: an advisory could not be parsed and is skipped: {e}");
        }
        if self.stale_warning {
            if let Some(updated) = db.info().last_updated() {
                if db
                    .info()
                    .is_stale(std::time::SystemTime::now(), STALE_AFTER)
                {
                    eprintln!(
                        "warning: the advisory database at {} was last updated {updated}, more than 90 days ago: \
                         run `binaudit db update` (or pass --no-stale-warning)",
                        self.db_path.display()
                    );
                }
            }
        }
    }

    pub fn audit(&self, paths: &[PathBuf]) -> anyhow::Result<AuditReport<'_>> {
        let db = self.database()?;
        Ok(audit_paths(paths, db, self.yank.as_ref(), &self.opts))
    }

    /// Audits everything the targets name: files, directories, images, processes.
    pub fn audit_targets(
        &self,
        paths: &[PathBuf],
        opts: &super::targets::TargetOptions,
    ) -> anyhow::Result<AuditReport<'_>> {
        let auditor = binaudit::scan::Auditor::with_pending(&self.db, self.opts.clone());
        let inputs = super::targets::gather(&auditor, paths, opts)?;
        // An error opening the database ends the run here, whatever was read.
        self.database()?;
        Ok(auditor.finish(inputs, self.yank.as_ref()))
    }
}

fn show(p: &Option<PathBuf>) -> String {
    p.as_ref()
        .map_or_else(|| "configuration".to_owned(), |p| p.display().to_string())
}

/// Fetches the database if it is missing, updates it if it is a day old; never when offline.
fn ensure_database(path: &Path, args: &AuditArgs) -> anyhow::Result<()> {
    use binaudit::advisory::fetch::{fetch_or_update, needs_refresh};
    let exists = path.exists();
    if args.offline || args.no_fetch {
        if !exists {
            bail!(
                "no advisory database at {} and fetching is off ({}): run `binaudit db fetch` first",
                path.display(),
                if args.offline { "--offline" } else { "--no-fetch" }
            );
        }
        return Ok(());
    }
    if !exists || (path.join(".git").exists() && needs_refresh(path, REFRESH_AFTER)) {
        eprintln!(
            "{} advisory database from {} into {}",
            if exists { "Updating" } else { "Fetching" },
            args.db_url,
            path.display()
        );
        if let Err(e) = fetch_or_update(&args.db_url, path) {
            if exists {
                eprintln!(
                    "warning: could not update the advisory database, using the copy on disk: {e}"
                );
            } else {
                return Err(anyhow!(e).context(format!(
                    "fetching the advisory database into {}",
                    path.display()
                )));
            }
        }
    }
    Ok(())
}

/// `binaudit db …`
#[derive(Debug, clap::Subcommand)]
pub enum DbCommand {
    /// Clone the advisory database (or update it if it is already there).
    Fetch(DbArgs),
    /// Update the advisory database (clone it if it is missing).
    Update(DbArgs),
    /// Show where the database is, how many advisories it holds and how recent it is.
    Info(DbArgs),
}

#[derive(Debug, Args)]
pub struct DbArgs {
    /// The database directory [default: $CARGO_HOME/advisory-db].
    #[arg(long, value_name = "DIR")]
    db: Option<PathBuf>,
    /// Git URL to fetch from.
    #[arg(long, value_name = "URL", default_value = binaudit::advisory::fetch::DEFAULT_URL)]
    url: String,
}

pub fn run_db(cmd: DbCommand) -> ExitCode {
    let result = (|| -> anyhow::Result<()> {
        let (args, fetch) = match &cmd {
            DbCommand::Fetch(a) | DbCommand::Update(a) => (a, true),
            DbCommand::Info(a) => (a, false),
        };
        let path = args
            .db
            .clone()
            .or_else(default_db_path)
            .ok_or_else(|| anyhow!("no home directory for the default database path"))?;
        if fetch {
            use binaudit::advisory::fetch::{fetch_or_update, FetchOutcome};
            let outcome = fetch_or_update(&args.url, &path)?;
            let short = |c: &Option<String>| {
                c.as_deref()
                    .map_or("unknown", |c| c.get(..12).unwrap_or(c))
                    .to_owned()
            };
            match outcome {
                FetchOutcome::Cloned { commit } => eprintln!(
                    "fetched {} into {} at {}",
                    args.url,
                    path.display(),
                    short(&commit)
                ),
                FetchOutcome::Updated { from, to } => eprintln!(
                    "updated {}: {} → {}",
                    path.display(),
                    short(&from),
                    short(&to)
                ),
                FetchOutcome::UpToDate { commit } => {
                    eprintln!("{} is up to date at {}", path.display(), short(&commit))
                }
                other => eprintln!("{}: {other:?}", path.display()),
            }
        }
        let db = Database::open(&path, &OpenOptions::default())
            .with_context(|| format!("loading {}", path.display()))?;
        let info = db.info();
        println!(
            "{}: {} layout, {} advisories ({} withdrawn), {} toolchain advisories, last updated {}{}",
            path.display(),
            info.layout.as_str(),
            info.advisory_count,
            info.withdrawn_count,
            info.toolchain_count,
            info.last_updated().map_or_else(|| "unknown".to_owned(), |d| d.to_string()),
            info.commit.as_ref().map_or_else(String::new, |c| format!(", commit {}", c.hash.get(..12).unwrap_or(&c.hash)))
        );
        for e in db.load_errors() {
            eprintln!("warning: an advisory could not be parsed: {e}");
        }
        Ok(())
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The audit after a build: one line when what was built has findings. Returns whether the
/// build must fail (findings denied with `--deny`).
pub fn audit_after_build(artifacts: &[PathBuf], args: &AuditArgs) -> anyhow::Result<bool> {
    if artifacts.is_empty() {
        return Ok(false);
    }
    let prepared = Prepared::new(args)?;
    let report = prepared.audit(artifacts)?;
    let color = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let opts = binaudit::report::terminal::TerminalOptions { color };
    if let Some(line) = binaudit::report::terminal::build_line(&report, &opts) {
        eprintln!("{line}");
    }
    Ok(report.summary().failing > 0)
}
