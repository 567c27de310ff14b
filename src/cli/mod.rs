//! Command-line glue. Library code does the work; this module parses arguments, prints, and is
//! the one place that turns outcomes into exit codes: 0 clean, 1 findings (for `show`: a binary
//! without a manifest), 2 errors. A closed stdout pipe ends the program quietly.

mod scan;
mod show;
mod targets;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// How the program was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Each of the two executables that include this module constructs only its own variant.
#[allow(dead_code)]
pub enum Invocation {
    /// `binaudit …`
    Binaudit,
    /// `cargo binaudit …` (cargo runs `cargo-binaudit binaudit …`)
    Cargo,
}

#[derive(Debug, Parser)]
#[command(
    name = "binaudit",
    version,
    about = "Which crates are inside this executable, and are any of them vulnerable?",
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Audit binaries (or Cargo.lock files) against the RustSec advisory database and crates.io.
    Scan(scan::ScanArgs),
    /// Show the dependency manifest embedded in binaries.
    Show(show::ShowArgs),
    /// Fetch, update or describe the advisory database.
    #[command(subcommand)]
    Db(scan::DbCommand),
    /// Build with cargo, embedding a dependency manifest in every linked bin and cdylib
    /// (same as `cargo binaudit build`).
    #[command(disable_help_flag = true)]
    Build(BuildArgs),
}

#[derive(Debug, Args)]
struct HelperOptions {
    /// Build for a target binaudit cannot write a manifest object for, without a manifest
    /// (warns instead of failing).
    #[arg(long)]
    allow_unsupported_target: bool,
    /// Fail the build when what it built has findings of this kind: vulnerabilities,
    /// unmaintained, unsound, notice, yanked, or warnings (all of them).
    #[arg(long, value_name = "KIND", value_parser = parse_build_deny)]
    deny: Vec<BuildDeny>,
    /// Do not audit what was built (no advisory database, no network).
    #[arg(long)]
    no_audit: bool,
    /// Advisory database for the audit after the build [default: $CARGO_HOME/advisory-db].
    #[arg(long, value_name = "DIR")]
    db: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BuildDeny {
    Vulnerabilities,
    Kind(binaudit::audit::DenyKind),
}

fn parse_build_deny(s: &str) -> Result<BuildDeny, String> {
    if s == "vulnerabilities" {
        return Ok(BuildDeny::Vulnerabilities);
    }
    binaudit::audit::DenyKind::parse(s).map(BuildDeny::Kind).ok_or_else(|| {
        format!("unknown kind {s:?}: expected vulnerabilities, unmaintained, unsound, notice, yanked or warnings")
    })
}

#[derive(Debug, Args)]
struct BuildArgs {
    #[command(flatten)]
    helper: HelperOptions,
    /// Arguments for `cargo build`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    cargo_args: Vec<OsString>,
}

/// `cargo binaudit [OPTIONS] <cargo command> [args…]`
#[derive(Debug, Parser)]
#[command(
    name = "cargo binaudit",
    bin_name = "cargo binaudit",
    version,
    about = "Run a cargo command that links (build, install, zigbuild, …) with a dependency manifest \
             embedded in every bin and cdylib. `cargo binaudit show FILE` works as `binaudit show`."
)]
struct CargoCli {
    #[command(flatten)]
    helper: HelperOptions,
    /// The cargo command and its arguments, e.g. `build --release`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    cargo_args: Vec<OsString>,
}

/// Runs the program and returns its exit code.
pub fn main(invocation: Invocation) -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let rest = args.get(1..).unwrap_or_default().to_vec();
    if linker_section::wrapper::is_wrapper_invocation(&rest) {
        return linker_section::wrapper::run(rest);
    }
    match invocation {
        Invocation::Binaudit => run_binaudit(args),
        Invocation::Cargo => run_cargo_subcommand(args),
    }
}

fn run_binaudit(args: Vec<OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => return clap_exit(e),
    };
    match cli.command {
        Command::Scan(a) => scan::run(a),
        Command::Show(a) => show::run(a),
        Command::Db(c) => scan::run_db(c),
        Command::Build(b) => {
            if b.cargo_args.iter().any(|a| a == "-h" || a == "--help") && b.cargo_args.len() == 1 {
                println!(
                    "binaudit build [--allow-unsupported-target] [CARGO BUILD ARGS]…\n\n\
                     Runs `cargo build` with a dependency manifest embedded in every linked bin and cdylib."
                );
                return ExitCode::SUCCESS;
            }
            let mut cargo_args = vec![OsString::from("build")];
            cargo_args.extend(b.cargo_args);
            run_cargo(cargo_args, b.helper)
        }
    }
}

fn run_cargo_subcommand(args: Vec<OsString>) -> ExitCode {
    // cargo runs us as `cargo-binaudit binaudit …`; direct runs have no `binaudit` word.
    let mut args = args;
    if args.get(1).is_some_and(|a| a == "binaudit") {
        args.remove(1);
    }
    // Our own commands that are not cargo's work through cargo too.
    if args
        .get(1)
        .is_some_and(|a| a == "show" || a == "scan" || a == "db")
    {
        let mut own = vec![OsString::from("binaudit")];
        own.extend(args.into_iter().skip(1));
        return run_binaudit(own);
    }
    let cli = match CargoCli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => return clap_exit(e),
    };
    run_cargo(cli.cargo_args, cli.helper)
}

fn run_cargo(cargo_args: Vec<OsString>, helper: HelperOptions) -> ExitCode {
    let wrapper = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!(
                "error: cannot find binaudit's own executable to use as the rustc wrapper: {e}"
            );
            return ExitCode::from(2);
        }
    };
    let log = (!helper.no_audit).then(artifact_log_path);
    let build = linker_section::driver::CargoBuild {
        wrapper,
        cargo_args: cargo_args.clone(),
        options: linker_section::driver::BuildOptions {
            allow_unsupported_target: helper.allow_unsupported_target,
        },
        artifact_log: log.clone(),
    };
    let result = build.run_collecting();
    if let Some(log) = &log {
        let _ = std::fs::remove_file(log);
    }
    match result {
        Ok((status, artifacts)) if status.success() => post_build(&artifacts, &cargo_args, &helper),
        Ok((status, _)) => ExitCode::from(
            status
                .code()
                .and_then(|c| u8::try_from(c).ok())
                .unwrap_or(1),
        ),
        Err(e) => {
            eprintln!("error: could not run cargo: {e}");
            ExitCode::from(2)
        }
    }
}

/// Audits what the build linked and prints one line about it; fails only on request.
fn post_build(
    artifacts: &[std::path::PathBuf],
    cargo_args: &[OsString],
    helper: &HelperOptions,
) -> ExitCode {
    if helper.no_audit || artifacts.is_empty() {
        return ExitCode::SUCCESS;
    }
    let offline = cargo_args
        .iter()
        .any(|a| a == "--offline" || a == "--frozen");
    let all = helper
        .deny
        .contains(&BuildDeny::Kind(binaudit::audit::DenyKind::Warnings));
    let args = scan::AuditArgs {
        db: helper.db.clone(),
        offline,
        no_stale_warning: true,
        deny: helper
            .deny
            .iter()
            .filter_map(|d| {
                if let BuildDeny::Kind(k) = d {
                    Some(*k)
                } else {
                    None
                }
            })
            .collect(),
        deny_vulnerabilities: all || helper.deny.contains(&BuildDeny::Vulnerabilities),
        ..scan::AuditArgs::default()
    };
    match scan::audit_after_build(artifacts, &args) {
        Ok(false) => ExitCode::SUCCESS,
        Ok(true) => {
            eprintln!(
                "error: the build is denied by --deny (the binaries were built and left in place)"
            );
            ExitCode::from(1)
        }
        Err(e) if helper.deny.is_empty() => {
            eprintln!("warning: could not audit what was built: {e:#}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: could not audit what was built, and --deny asks for it: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// A fresh file name for the wrapper's record of built artifacts.
fn artifact_log_path() -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!("binaudit-built-{}-{nanos}.txt", std::process::id()))
}

fn clap_exit(e: clap::Error) -> ExitCode {
    let code = if e.use_stderr() { 2 } else { 0 };
    let _ = e.print();
    ExitCode::from(code)
}

/// Whether an I/O error is a closed pipe (e.g. `binaudit show … | head`), which is not a failure.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
