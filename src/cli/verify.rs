use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use treatfirst_ledger::journal::SledStore;
use treatfirst_ledger::verify::{verify_journal, RecogniseError};

/// `treatfirst verify --data-dir DIR`: exit 0 when sound, 1 with every problem listed.
///
/// Works on the data directory of either state machine: the double-entry ledger or the
/// credit scheme (what `treatfirst serve` writes). Which one wrote it comes from the store's
/// marker, or else from the records themselves; the first line says which (`journal=`).
pub fn run(data_dir: &Path) -> anyhow::Result<ExitCode> {
    check_data_dir(data_dir)?;
    let store = SledStore::open(data_dir).with_context(|| {
        format!(
            "opening {} (is a treatfirst process still using it?)",
            data_dir.display()
        )
    })?;
    let verification = match verify_journal(&store) {
        Ok(verification) => verification,
        Err(RecogniseError::Empty) => anyhow::bail!(
            "the journal in {} is empty: no records to verify",
            data_dir.display()
        ),
        Err(error) => {
            return Err(error).with_context(|| format!("verifying {}", data_dir.display()))
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

/// Refuses, with a clear message and without creating anything, a directory that is
/// missing, empty, or holds no store: opening the store there would create an empty one.
fn check_data_dir(data_dir: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(
        data_dir.exists(),
        "data directory {} does not exist",
        data_dir.display()
    );
    anyhow::ensure!(
        data_dir.is_dir(),
        "data directory {} is not a directory",
        data_dir.display()
    );
    let mut contents = data_dir
        .read_dir()
        .with_context(|| format!("reading {}", data_dir.display()))?;
    anyhow::ensure!(
        contents.next().is_some(),
        "data directory {} is empty: there is no journal to verify",
        data_dir.display()
    );
    // sled keeps its configuration in `conf` and its log in `db`.
    anyhow::ensure!(
        data_dir.join("conf").is_file() && data_dir.join("db").is_file(),
        "data directory {} holds no treatfirst store (no sled `conf` and `db` files)",
        data_dir.display()
    );
    Ok(())
}
