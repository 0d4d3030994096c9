//! `mobsim cga`: generate and verify CGA and HBA addresses.

use std::process::ExitCode;

/// The `mobsim cga` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum CgaCommand {
    /// Generate a CGA (not built yet).
    Gen,
}

/// Runs one `mobsim cga` subcommand and returns the process exit code.
pub fn run(cmd: &CgaCommand) -> ExitCode {
    match cmd {
        CgaCommand::Gen => {
            eprintln!("mobsim cga: not built yet (issue: hba-cga)");
            ExitCode::from(2)
        }
    }
}
