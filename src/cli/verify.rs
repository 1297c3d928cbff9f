use std::process::ExitCode;

use anyhow::Context;
use treatfirst_ledger::verify::{verify_journal, RecogniseError};

use super::location::LedgerLocation;

/// `treatfirst verify --data-dir DIR | --database-url URL`: exit 0 when sound, 1 with every
/// problem listed.
///
/// Works on the data directory of either state machine: the double-entry ledger or the
/// credit scheme (what `treatfirst serve` writes). Which one wrote it comes from the store's
/// marker, or else from the records themselves; the first line says which (`journal=`).
pub fn run(location: &LedgerLocation) -> anyhow::Result<ExitCode> {
    let store = location.open_journal()?;
    let verification = match verify_journal(store.as_ref()) {
        Ok(verification) => verification,
        Err(RecogniseError::Empty) => anyhow::bail!(
            "the journal in {} is empty: no records to verify",
            location.describe()
        ),
        Err(error) => {
            return Err(error).with_context(|| format!("verifying {}", location.describe()))
        }
    };
    let report = &verification.report;
    println!("journal={}", verification.kind);
    println!("journal_known_from={}", verification.source.as_str());
    println!("records={}", report.records);
    println!("movements={}", report.movements);
    println!("accounts={}", report.accounts);
    println!("posted_total={}", report.posted_total);
    println!("head_hash={}", hex::encode(report.head_hash));
    if report.is_sound() {
        println!("verify: ok ({} journal)", verification.kind);
        return Ok(ExitCode::SUCCESS);
    }
    for problem in &report.problems {
        eprintln!("problem: {problem}");
    }
    eprintln!(
        "verify: FAILED with {} problem(s) in the {} journal",
        report.problems.len(),
        verification.kind
    );
    Ok(ExitCode::FAILURE)
}
