//! Scenarios run by `mobsim tour` and `mobsim scenario`.

use std::path::Path;
use std::process::ExitCode;

/// `mobsim tour`.
pub fn tour(_seed: u64) -> ExitCode {
    println!("mobsim tour: nothing to run yet");
    ExitCode::SUCCESS
}

/// `mobsim scenario`.
pub fn run_cli(_name: Option<&str>, _list: bool, _seed: u64, _pcap_dir: Option<&Path>) -> ExitCode {
    ExitCode::from(2)
}
