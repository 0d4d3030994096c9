//! The `mobsim` command line: see `mobsim --help`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = mobsim::cli::Cli::parse();
    mobsim::cli::run(&cli)
}
