//! Command-line commands, one module each.

mod benchmark;
mod benchmark_http;
mod location;
mod migrate;
mod reconcile;
mod report;
mod serve;
mod simulate;
mod verify;

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
    /// Run the REST service (API.md) on the embedded store, or on PostgreSQL with
    /// TREATFIRST_DATABASE_URL.
    Serve(serve::ServeArguments),
    /// Check the journal's hash chain and the double-entry invariants of a data directory
    /// or a database.
    Verify(location::LedgerLocation),
    /// Copy an embedded ledger (data directory) into an empty PostgreSQL database, then
    /// verify the copy.
    Migrate(migrate::MigrateArguments),
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
        Command::Verify(location) => verify::run(&location),
        Command::Migrate(arguments) => migrate::run(&arguments),
        Command::Benchmark { workload } => benchmark::run(workload).map(|()| ExitCode::SUCCESS),
    }
}
