//! `binaudit`: the command-line program. All logic lives in the library and `cli`.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main(cli::Invocation::Binaudit)
}
