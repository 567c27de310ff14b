//! Command-line glue. Library code does the work; this module parses arguments, prints, and is
//! the one place that turns outcomes into exit codes: 0 clean, 1 findings (for `show`: a binary
//! without a manifest), 2 errors. A closed stdout pipe ends the program quietly.

mod show;

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
    /// Show the dependency manifest embedded in binaries.
    Show(show::ShowArgs),
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
        Command::Show(a) => show::run(a),
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
    // Our own read-only commands work through cargo too.
    if args.get(1).is_some_and(|a| a == "show") {
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
    let build = linker_section::driver::CargoBuild {
        wrapper,
        cargo_args,
        options: linker_section::driver::BuildOptions {
            allow_unsupported_target: helper.allow_unsupported_target,
        },
    };
    match build.run() {
        Ok(status) => match status.code() {
            Some(0) => ExitCode::SUCCESS,
            Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            None => ExitCode::from(1),
        },
        Err(e) => {
            eprintln!("error: could not run cargo: {e}");
            ExitCode::from(2)
        }
    }
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
