//! Command-line commands, one module each.

mod benchmark;
mod benchmark_http;
mod reconcile;
mod report;
mod serve;
mod simulate;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Treat first, pay later: a credit-based healthcare payment ledger.
#[derive(Debug, Parser)]
#[command(name = "treatfirst", version, about)]
pub struct Arguments {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the REST service (API.md) on the embedded store.
    Serve(serve::ServeArguments),
    /// Check the journal's hash chain and the double-entry invariants of a data directory.
    Verify {
        /// The data directory (the embedded store).
        #[arg(long, env = "TREATFIRST_DATA_DIR")]
        data_dir: PathBuf,
    },
    /// Train, evaluate and monitor default-risk scorecards.
    Risk {
        #[command(subcommand)]
        command: treatfirst_risk::RiskCommand,
    },
    /// Finance reports of a data directory: aging, defaults, provision, write-offs,
    /// allowance, headline (the server must not be running on it).
    Report(report::ReportArguments),
    /// Reconcile a fund remittance file or a channel statement against a data directory.
    Reconcile {
        #[command(subcommand)]
        file: reconcile::Reconciliation,
    },
    /// A deterministic simulated city through the real ledger (a manual clock, day by
    /// day), ending with the headline figures and the aging table.
    Simulate(simulate::SimulateArguments),
    /// Run a canonical workload on a fresh temporary store and print its figures.
    Benchmark {
        #[command(subcommand)]
        workload: benchmark::Workload,
    },
}

/// Runs a parsed command line.
///
/// # Errors
/// Whatever the command reports; the exit code carries verification failures.
pub fn run(arguments: Arguments) -> anyhow::Result<ExitCode> {
    match arguments.command {
        Command::Risk { command } => {
            treatfirst_risk::run(command)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(arguments) => serve::run(arguments).map(|()| ExitCode::SUCCESS),
        Command::Report(arguments) => report::run(arguments).map(|()| ExitCode::SUCCESS),
        Command::Reconcile { file } => reconcile::run(file).map(|()| ExitCode::SUCCESS),
        Command::Simulate(arguments) => simulate::run(arguments).map(|()| ExitCode::SUCCESS),
        Command::Verify { data_dir } => verify::run(&data_dir),
        Command::Benchmark { workload } => benchmark::run(workload).map(|()| ExitCode::SUCCESS),
    }
}
