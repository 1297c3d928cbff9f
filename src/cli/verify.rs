use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use treatfirst_ledger::journal::SledStore;
use treatfirst_ledger::verify::verify;
use treatfirst_ledger::Books;

/// `treatfirst verify --data-dir DIR`: exit 0 when sound, 1 with every problem listed.
pub fn run(data_dir: &Path) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        data_dir.is_dir(),
        "data directory {} does not exist",
        data_dir.display()
    );
    let store =
        SledStore::open(data_dir).with_context(|| format!("opening {}", data_dir.display()))?;
    let report = verify::<Books>(&store);
    println!("records={}", report.records);
    println!("movements={}", report.movements);
    println!("accounts={}", report.accounts);
    println!("posted_total={}", report.posted_total);
    println!("head_hash={}", hex::encode(report.head_hash));
    if report.is_sound() {
        println!("verify: ok");
        return Ok(ExitCode::SUCCESS);
    }
    for problem in &report.problems {
        eprintln!("problem: {problem}");
    }
    eprintln!("verify: FAILED with {} problem(s)", report.problems.len());
    Ok(ExitCode::FAILURE)
}
