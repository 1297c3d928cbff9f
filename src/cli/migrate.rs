//! `treatfirst migrate --from-data-dir DIR --to-database-url URL`: moves an embedded ledger
//! into PostgreSQL, where several nodes can share it, and verifies the copy.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use treatfirst_ledger::journal::{copy_journal, SledStore};
use treatfirst_ledger::verify::verify_journal;

use super::location::{check_data_dir, open_database};

#[derive(Debug, Args)]
pub struct MigrateArguments {
    /// The data directory to copy (no server may be running on it).
    #[arg(long)]
    from_data_dir: PathBuf,
    /// The database to copy into; its journal must be empty (a new database).
    #[arg(long, env = "TREATFIRST_DATABASE_URL", hide_env_values = true)]
    to_database_url: String,
}

pub fn run(arguments: &MigrateArguments) -> anyhow::Result<ExitCode> {
    check_data_dir(&arguments.from_data_dir)?;
    let source = SledStore::open(&arguments.from_data_dir).with_context(|| {
        format!(
            "opening {} (is a treatfirst process still using it?)",
            arguments.from_data_dir.display()
        )
    })?;
    let target = open_database(&arguments.to_database_url)?;
    let copied = copy_journal(&source, &target).context("copying the journal")?;
    println!("journal={}", copied.kind);
    println!("records_copied={}", copied.records);
    println!("entries_copied={}", copied.entries);
    println!("head_hash={}", hex::encode(copied.head_hash));
    let verification = verify_journal(&target).context("verifying the copy")?;
    let report = &verification.report;
    if !report.is_sound() {
        for problem in &report.problems {
            eprintln!("problem: {problem}");
        }
        eprintln!("migrate: the copy does NOT verify");
        return Ok(ExitCode::FAILURE);
    }
    if report.records != copied.records || report.head_hash != copied.head_hash {
        eprintln!(
            "migrate: the copy holds {} records ending on {}, the source {} ending on {}",
            report.records,
            hex::encode(report.head_hash),
            copied.records,
            hex::encode(copied.head_hash)
        );
        return Ok(ExitCode::FAILURE);
    }
    println!(
        "migrate: ok ({} records, the same head hash; verify passed on {})",
        report.records,
        target.describe()
    );
    Ok(ExitCode::SUCCESS)
}
