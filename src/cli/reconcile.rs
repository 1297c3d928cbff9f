//! `treatfirst reconcile fund|channel --data-dir DIR --file F`: reconciles a CSV file against a
//! data directory (the server must not be running on it) or a database (`--database-url`) and prints the result as JSON.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use treatfirst_ledger::reconciliation::{self, RowError};

use super::location::LedgerLocation;

#[derive(Debug, Subcommand)]
pub enum Reconciliation {
    /// A fund remittance file (`reference,hospital_id,visit_id,amount`): matched lines post
    /// the remittance, once per reference.
    Fund {
        #[command(flatten)]
        location: LedgerLocation,
        #[arg(long)]
        file: PathBuf,
    },
    /// A payment-channel statement (`payment_id,amount,channel`): nothing is posted.
    Channel {
        #[command(flatten)]
        location: LedgerLocation,
        #[arg(long)]
        file: PathBuf,
    },
}

fn malformed(errors: &[RowError]) -> anyhow::Error {
    let mut text = format!(
        "the file has {} malformed row(s); nothing was applied",
        errors.len()
    );
    for error in errors {
        text.push_str(&format!("\n  line {}: {}", error.line, error.message));
    }
    anyhow::anyhow!(text)
}

pub fn run(reconciliation: Reconciliation) -> anyhow::Result<()> {
    let (location, file, fund) = match reconciliation {
        Reconciliation::Fund { location, file } => (location, file, true),
        Reconciliation::Channel { location, file } => (location, file, false),
    };
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let ledger = location.open_scheme()?;
    let json = if fund {
        match reconciliation::reconcile_fund(&ledger, &bytes).context("the ledger failed")? {
            Ok(result) => serde_json::to_string_pretty(&result)?,
            Err(errors) => return Err(malformed(&errors)),
        }
    } else {
        match reconciliation::reconcile_channel_file(&ledger.read(), &bytes) {
            Ok(result) => serde_json::to_string_pretty(&result)?,
            Err(errors) => return Err(malformed(&errors)),
        }
    };
    println!("{json}");
    Ok(())
}
