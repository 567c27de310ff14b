//! `cargo binaudit`: the same program, started by cargo as a subcommand.

#[path = "../cli/mod.rs"]
mod cli;

fn main() -> std::process::ExitCode {
    cli::main(cli::Invocation::Cargo)
}
