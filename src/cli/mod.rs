//! The `mobsim` command line, as a library so that tests can drive it.

pub mod cga;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// `mobsim`: the simulator and tools of the IPv6 mobility and multihoming suite.
#[derive(Debug, Parser)]
#[command(name = "mobsim", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the suite's scenarios end to end and print a timeline and summary.
    Tour {
        /// Seed of the simulator's random number generator.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Run one named scenario.
    Scenario {
        /// The scenario's name (`mobsim scenario --list` lists them).
        name: Option<String>,
        /// List the scenarios.
        #[arg(long)]
        list: bool,
        /// Seed of the simulator's random number generator.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Write a pcapng capture of every link to this directory.
        #[arg(long)]
        pcap_dir: Option<std::path::PathBuf>,
    },
    /// Decode packets given as hex, one JSON object per line.
    Decode {
        /// The input is a bare Mobility Header, not a whole IPv6 packet.
        #[arg(long, conflicts_with = "lin6")]
        mh: bool,
        /// The input is a LIN6 Mapping Agent protocol message (a UDP payload).
        #[arg(long)]
        lin6: bool,
        /// The packets, as hex.
        #[arg(required = true)]
        hex: Vec<String>,
    },
    /// Generate and verify CGA and HBA addresses.
    Cga {
        /// What to do with CGAs.
        #[command(subcommand)]
        command: cga::CgaCommand,
    },
}

/// Runs a parsed command line and returns the process exit code.
pub fn run(cli: &Cli) -> ExitCode {
    match &cli.command {
        Command::Tour { seed } => crate::scenario::tour(*seed),
        Command::Scenario {
            name,
            list,
            seed,
            pcap_dir,
        } => crate::scenario::run_cli(name.as_deref(), *list, *seed, pcap_dir.as_deref()),
        Command::Decode { mh, lin6, hex } => run_decode(*mh, *lin6, hex),
        Command::Cga { command } => cga::run(command),
    }
}

fn run_decode(mh: bool, lin6: bool, args: &[String]) -> ExitCode {
    let input = if mh {
        crate::decode::Input::MobilityHeader
    } else if lin6 {
        crate::decode::Input::Lin6
    } else {
        crate::decode::Input::Ipv6Packet
    };
    let mut failed = false;
    for (index, arg) in args.iter().enumerate() {
        match crate::decode::parse_hex(index, arg) {
            Ok(bytes) => println!("{}", crate::decode::decode(input, &bytes)),
            Err(e) => {
                eprintln!("mobsim decode: {e}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
